//! Messages a portal page shows after a redirect (`?notice=<code>`): fixed texts, so
//! nothing a link carries is reflected into the page.

use serde::{Deserialize, Deserializer};

macro_rules! portal_notices {
    ($($name:ident = $code:literal: $text:literal,)*) => {
        /// A message shown once, after a portal form did what it was asked.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum PortalNotice {
            $($name,)*
        }

        impl PortalNotice {
            pub const ALL: &[PortalNotice] = &[$(PortalNotice::$name,)*];

            /// The code in the URL.
            pub fn code(self) -> &'static str {
                match self {
                    $(PortalNotice::$name => $code,)*
                }
            }

            /// What the page says.
            pub fn text(self) -> &'static str {
                match self {
                    $(PortalNotice::$name => $text,)*
                }
            }
        }
    };
}

portal_notices! {
    SignedOut = "signed_out": "You have signed out.",
    SessionEnded = "session_ended": "Your session has ended, so nothing was changed. Sign in to continue.",
    EmailVerified = "email_verified": "Your email address is verified. Thank you!",
    VerificationSent = "verification_sent": "We have emailed you a new verification link. Only the newest link works.",
    ResetRequested = "reset_requested": "If an account has that address, we have emailed it a link to choose a new password. Check your email.",
    PasswordReset = "password_reset": "Your new password is set and every session of your account has ended. Sign in with it.",
    PasswordChanged = "password_changed": "Your password has been changed; your other sessions have ended.",
    NameChanged = "name_changed": "Your name has been saved.",
    OrganizationCreated = "organization_created": "The organization has been created. You are its owner.",
    OrganizationSaved = "organization_saved": "The organization has been saved.",
    InvitationSent = "invitation_sent": "The invitation has been sent.",
    InvitationResent = "invitation_resent": "The invitation has been sent again with a new link; the old link no longer works.",
    InvitationRevoked = "invitation_revoked": "The invitation has been revoked; its link no longer works.",
    InvitationAccepted = "invitation_accepted": "You have joined the organization.",
    MemberRemoved = "member_removed": "The member has been removed.",
    RoleChanged = "role_changed": "The role has been changed.",
    OwnershipTransferred = "ownership_transferred": "Ownership has been transferred; you are now a member.",
    LeftOrganization = "left_organization": "You have left the organization.",
    DeletionRequested = "deletion_requested": "We have your request to delete this organization and will contact you.",
    Purchased = "purchased": "Successful purchase. Your license will appear here once we've validated your payment. If it doesn't, please contact us.",
    SubscriptionCanceled = "subscription_canceled": "The subscription is canceled. Its license stays valid until the end of the paid period and is not renewed; you can undo this until then.",
    SubscriptionResumed = "subscription_resumed": "The cancellation is undone: the subscription renews as before.",
    UpgradeInvoiced = "upgrade_invoiced": "An invoice for the additional users has been issued. The license gets the new user counts once it is paid.",
    DecreaseScheduled = "decrease_scheduled": "The lower user counts take effect at the next renewal.",
    BillingAccountSaved = "billing_account_saved": "Your billing details have been saved. Invoices issued from now on show them.",
    PaymentMethodSaved = "payment_method_saved": "Your payment method has been saved.",
}

impl PortalNotice {
    /// The notice a code names; unknown codes name none.
    pub fn from_code(code: &str) -> Option<PortalNotice> {
        PortalNotice::ALL.iter().copied().find(|n| n.code() == code)
    }
}

/// `?notice=` as a query field: an unknown code is no notice, not a refused request.
pub fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PortalNotice>, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .as_deref()
        .and_then(PortalNotice::from_code))
}

/// What the URL of a portal page asks it to show.
#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    #[serde(default, deserialize_with = "lenient")]
    pub notice: Option<PortalNotice>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        for (i, n) in PortalNotice::ALL.iter().enumerate() {
            assert_eq!(PortalNotice::from_code(n.code()), Some(*n));
            assert!(
                PortalNotice::ALL[i + 1..]
                    .iter()
                    .all(|m| m.code() != n.code())
            );
        }
        assert_eq!(PortalNotice::from_code("<script>"), None);
    }
}
