//! The customer portal under `/portal/` (seed 000): server-rendered pages in their own
//! frame (`frame`: the vendor's product name and logo), for customers, a principal of
//! their own (`http::customer_auth`). The same CSP and security headers as the console;
//! refusals are HTML pages. One file per concern.

pub mod account;
pub mod frame;
pub mod home;
pub mod login;
pub mod logo;
pub mod notice;
pub mod password;
pub mod signup;
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
}
