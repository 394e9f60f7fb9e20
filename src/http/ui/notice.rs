//! Messages a console page shows after a redirect (`?notice=<code>`): fixed texts, so
//! nothing a link carries is reflected into the page.

use serde::{Deserialize, Deserializer};

macro_rules! notices {
    ($($name:ident = $code:literal: $text:literal,)*) => {
        /// A message shown once, after a form did what it was asked.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Notice {
            $($name,)*
        }

        impl Notice {
            pub const ALL: &[Notice] = &[$(Notice::$name,)*];

            /// The code in the URL.
            pub fn code(self) -> &'static str {
                match self {
                    $(Notice::$name => $code,)*
                }
            }

            /// What the page says.
            pub fn text(self) -> &'static str {
                match self {
                    $(Notice::$name => $text,)*
                }
            }
        }
    };
}

notices! {
    PasswordChanged = "password_changed": "Your password has been changed.",
    PasswordSet = "password_set": "Your password has been set.",
    SessionEnded = "session_ended": "Your session has ended, so nothing was changed. Sign in to continue.",
    UserCreated = "user_created": "The account has been created.",
    UserUpdated = "user_updated": "The account has been updated.",
    PasswordReset = "password_reset": "The password has been reset; the account's sessions have ended and its API tokens are revoked.",
    TokenCreated = "token_created": "The token has been created.",
    TokenRevoked = "token_revoked": "The token has been revoked.",
    LicenseIssued = "license_issued": "The license has been issued. Copy its key to the appliance.",
    LicenseRevoked = "license_revoked": "The license has been revoked; its appliance locks at its next heartbeat.",
    LicenseRebound = "license_rebound": "The license has been rebound; the new appliance activates with the same key.",
    LicenseSuspended = "license_suspended": "The license has been suspended.",
    LicenseReinstated = "license_reinstated": "The license has been reinstated.",
    SubscriptionUpdated = "subscription_updated": "The subscription status has been updated.",
    OfflineReleased = "offline_released": "The release proof has been recorded: the license is free to activate on another appliance.",
    DirectiveQueued = "directive_queued": "The directive has been queued; it rides on every lease until acknowledged.",
    LicenseRenewed = "license_renewed": "The license has been renewed; its appliance gets the new key with its next lease.",
    LicenseChanged = "license_changed": "The license has been changed; its appliance gets the new key with its next lease.",
    LicenseReissued = "license_reissued": "The license has been reissued under the active signing key; its appliance gets the new key with its next lease.",
    SigningReissued = "signing_reissued": "Every live license the key signed has been reissued under the active key; it can be retired now.",
    SigningRotated = "signing_rotated": "A new signing key is active; the previous keys still verify.",
    SigningRetired = "signing_retired": "The signing key has been retired; license keys it signed no longer verify.",
    SettingsSaved = "settings_saved": "The licensing settings have been saved.",
    ProvisioningCreated = "provisioning_created": "The provisioning token has been created.",
    ProvisioningRevoked = "provisioning_revoked": "The provisioning token has been revoked.",
    EnterpriseInstalled = "enterprise_installed": "The license has been installed.",
    EnterpriseRemoved = "enterprise_removed": "The license has been removed.",
    OutboxMarkedSent = "outbox_marked_sent": "The message has been marked sent; licd will not send it.",
    CustomerDisabled = "customer_disabled": "The customer account has been disabled; its portal sessions have ended.",
    CustomerEnabled = "customer_enabled": "The customer account has been enabled.",
    CustomerResetSent = "customer_reset_sent": "A password-reset link is in the outbox for the customer.",
    CustomerVerificationSent = "customer_verification_sent": "A new verification link is in the outbox for the customer.",
    OrganizationDeleted = "organization_deleted": "The organization has been deleted with its memberships and invitations; its licenses belong to no organization now.",
    LicenseMoved = "license_moved": "The license has moved; its organization's members see it in the portal.",
    PaymentRecorded = "payment_recorded": "The payment has been recorded.",
    InvoiceVoided = "invoice_voided": "The invoice has been voided; its number stays taken.",
    PurchaseOrderAccepted = "purchase_order_accepted": "The purchase order is accepted: the license is issued; the invoice stays open until it is paid.",
    CreditNoteIssued = "credit_note_issued": "The credit note has been issued.",
    PriceListSaved = "price_list_saved": "The price list has been saved.",
    ServiceTokenCreated = "service_token_created": "The token has been created. Copy it now: it is not shown again.",
}

impl Notice {
    /// The notice a code names; unknown codes name none.
    pub fn from_code(code: &str) -> Option<Notice> {
        Notice::ALL.iter().copied().find(|n| n.code() == code)
    }
}

/// `?notice=` as a query field: an unknown code is no notice, not a refused request.
pub fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Notice>, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .as_deref()
        .and_then(Notice::from_code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        for (i, n) in Notice::ALL.iter().enumerate() {
            assert_eq!(Notice::from_code(n.code()), Some(*n));
            assert!(Notice::ALL[i + 1..].iter().all(|m| m.code() != n.code()));
        }
        assert_eq!(Notice::from_code("<script>"), None);
    }
}
