//! The customer portal under `/portal/` (seed 000): server-rendered pages in their own
//! frame (`frame`: the vendor's product name and logo), for customers, a principal of
//! their own (`http::customer_auth`). The same CSP and security headers as the console;
//! refusals are HTML pages. One file per concern.

pub mod account;
pub mod billing;
pub mod frame;
pub mod home;
pub mod invitation;
pub mod login;
pub mod logo;
pub mod members;
pub mod notice;
pub mod organizations;
pub mod password;
pub mod purchase;
pub mod signup;
pub mod subscriptions;
pub mod verify;

use super::routing::{Access, ReadOnly, Routes};
use super::ui::form::see_other;
use actix_web::HttpResponse;

/// `/portal` without its slash: the home.
async fn to_home() -> HttpResponse {
    see_other("/portal/")
}

/// The portal's part of the route table.
pub fn routes(r: &mut Routes) {
    use Access::{Customer, CustomerUnverified, Public};
    use ReadOnly::{AllowedInReadOnly, Write};

    r.portal("/portal").get(Public, to_home);
    r.portal("/portal/").get(CustomerUnverified, home::show);
    r.portal("/portal/logo").get(Public, logo::serve);
    r.portal("/portal/login").get(Public, login::show).post(
        Public,
        AllowedInReadOnly,
        login::submit,
    );
    r.portal("/portal/logout")
        .post(CustomerUnverified, AllowedInReadOnly, login::logout);
    // A new account is a new external user: refused in read-only mode.
    r.portal("/portal/signup")
        .get(Public, signup::show)
        .post(Public, Write, signup::submit);
    // Emailed links: the GET only shows what the link does; the POST uses it.
    r.portal("/portal/verify").get(Public, verify::show).post(
        Public,
        AllowedInReadOnly,
        verify::redeem,
    );
    r.portal("/portal/verify/resend")
        .post(CustomerUnverified, AllowedInReadOnly, verify::resend);
    r.portal("/portal/password/forgot")
        .get(Public, password::forgot_show)
        .post(Public, AllowedInReadOnly, password::forgot_submit);
    r.portal("/portal/password/reset")
        .get(Public, password::reset_show)
        .post(Public, AllowedInReadOnly, password::reset_submit);
    r.portal("/portal/account").get(Customer, account::show);
    r.portal("/portal/account/name")
        .post(Customer, AllowedInReadOnly, account::rename);
    r.portal("/portal/account/password").post(
        Customer,
        AllowedInReadOnly,
        account::change_password,
    );
    r.portal("/portal/organizations/new")
        .get(Customer, organizations::new);
    r.portal("/portal/organizations")
        .post(Customer, Write, organizations::create);
    r.portal("/portal/organizations/{id}")
        .get(Customer, organizations::show)
        .post(Customer, Write, organizations::edit);
    r.portal("/portal/organizations/{id}/licenses/{license}")
        .get(Customer, organizations::license);
    // Billing: members see invoices and payments; owners keep the billing details.
    r.portal("/portal/organizations/{id}/billing")
        .get(Customer, billing::show_page);
    r.portal("/portal/organizations/{id}/billing/account").post(
        Customer,
        Write,
        billing::save_account,
    );
    r.portal("/portal/organizations/{id}/billing/payment-method")
        .post(Customer, Write, billing::save_payment_method);
    r.portal("/portal/organizations/{id}/invoices/{invoice}")
        .get(Customer, billing::invoice);
    r.portal("/portal/organizations/{id}/invoices/{invoice}/print")
        .get(Customer, billing::print);
    r.portal("/portal/organizations/{id}/leave")
        .post(Customer, Write, organizations::leave);
    r.portal("/portal/organizations/{id}/deletion-request")
        .post(Customer, Write, organizations::request_deletion);
    r.portal("/portal/organizations/{id}/members/{member}/remove")
        .post(Customer, Write, members::remove);
    r.portal("/portal/organizations/{id}/members/{member}/role")
        .post(Customer, Write, members::change_role);
    r.portal("/portal/organizations/{id}/members/{member}/transfer")
        .post(Customer, Write, members::transfer);
    r.portal("/portal/organizations/{id}/invitations")
        .post(Customer, Write, members::invite);
    r.portal("/portal/organizations/{id}/invitations/{invitation}/resend")
        .post(Customer, Write, members::resend);
    r.portal("/portal/organizations/{id}/invitations/{invitation}/revoke")
        .post(Customer, Write, members::revoke);
    // Purchase (the checkout is a POST that writes nothing: it shows what will be
    // invoiced) and subscriptions.
    r.portal("/portal/organizations/{id}/purchase")
        .get(Customer, purchase::form)
        .post(Customer, Write, purchase::pay);
    r.portal("/portal/organizations/{id}/purchase/checkout")
        .post(Customer, AllowedInReadOnly, purchase::checkout);
    r.portal("/portal/organizations/{id}/subscriptions/{subscription}/cancel")
        .post(Customer, Write, subscriptions::cancel);
    r.portal("/portal/organizations/{id}/subscriptions/{subscription}/resume")
        .post(Customer, Write, subscriptions::resume);
    r.portal("/portal/organizations/{id}/subscriptions/{subscription}/change")
        .get(Customer, subscriptions::change_form)
        .post(Customer, Write, subscriptions::change);
    // An invitation link: the GET shows what it does; a signed-in customer accepts with
    // the POST, someone without an account signs up and joins (a new external user, so
    // refused in read-only mode).
    r.portal("/portal/invitation")
        .get(Public, invitation::show)
        .post(Customer, Write, invitation::accept);
    r.portal("/portal/invitation/signup")
        .post(Public, Write, invitation::sign_up);
}
