//! The one error-code table. Every refusal licd can give has a row here with its HTTP
//! status, a stable snake_case code (part of the API contract) and a human title.
//! Layers keep their own `thiserror` enums and map into these codes; only the HTTP layer
//! turns a code into a response (RFC 7807 `application/problem+json`).

/// The HTTP status a code is answered with: always 4xx or 5xx. Each row of the table
/// builds it in a `const` block, so a row with any other number does not compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Status(u16);

impl Status {
    /// An error status; anything outside 400..=599 is refused (at compile time when
    /// called in a `const` context, as the table does).
    pub const fn new(code: u16) -> Status {
        assert!(
            matches!(code, 400..=599),
            "an error code's status must be 4xx or 5xx"
        );
        Status(code)
    }

    pub const fn as_u16(self) -> u16 {
        self.0
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => $status:literal, $code:literal, $title:literal; )*) => {
        /// A stable, documented error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in table order (used by tests and the API reference).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The HTTP status this code is answered with.
            pub const fn status(self) -> Status {
                match self { $(ErrorCode::$variant => const { Status::new($status) },)* }
            }

            /// The stable snake_case name clients match on.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// A short human title (the problem body's `title`).
            pub fn title(self) -> &'static str {
                match self { $(ErrorCode::$variant => $title,)* }
            }
        }
    };
}

error_codes! {
    /// The request could not be understood (bad query string, bad path parameter).
    BadRequest => 400, "bad_request", "Bad request";
    /// The JSON body is not valid JSON or does not have the expected shape.
    MalformedJson => 400, "malformed_json", "Malformed JSON body";
    /// A form body could not be read.
    MalformedForm => 400, "malformed_form", "Malformed form body";
    /// A field has a value licd does not accept; `detail` names the field.
    ValidationFailed => 422, "validation_failed", "Invalid field";
    /// The body's content type is not one this route reads.
    UnsupportedMediaType => 415, "unsupported_media_type", "Unsupported content type";
    /// The body is larger than `server.max_body_bytes`.
    PayloadTooLarge => 413, "payload_too_large", "Request body too large";
    /// The request body did not arrive within `server.request_timeout_secs`.
    RequestTimeout => 408, "request_timeout", "Request body too slow";
    /// No valid session or token was presented.
    Unauthenticated => 401, "unauthenticated", "Authentication required";
    /// Email or password is wrong.
    InvalidCredentials => 401, "invalid_credentials", "Invalid email or password";
    /// The account is disabled.
    AccountDisabled => 403, "account_disabled", "Account disabled";
    /// The one-time password is older than `auth.one_time_password_hours`; an
    /// administrator must reset it.
    OneTimePasswordExpired => 401, "one_time_password_expired", "One-time password expired";
    /// The account must change its one-time password before doing anything else.
    PasswordChangeRequired => 403, "password_change_required", "Password change required";
    /// The caller's role lacks the permission the route needs.
    Forbidden => 403, "forbidden", "Permission denied";
    /// A state-changing request from a browser session came without a valid CSRF token.
    CsrfFailed => 403, "csrf_failed", "CSRF token missing or invalid";
    /// The addressed object does not exist (or is not visible to the caller).
    NotFound => 404, "not_found", "Not found";
    /// No route has this path.
    RouteNotFound => 404, "route_not_found", "No such route";
    /// The route exists but not with this method.
    MethodNotAllowed => 405, "method_not_allowed", "Method not allowed";
    /// A staff account with this email already exists.
    EmailTaken => 409, "email_taken", "Email already in use";
    /// The change would leave the tenant without an enabled super_admin.
    LastSuperAdmin => 409, "last_super_admin", "Last super_admin";
    /// The license key is not a valid, licd-signed key (malformed, unknown key, bad signature).
    LicenseKeyInvalid => 401, "license_key_invalid", "Invalid license key";
    /// The license key given is not the key of the license in the path.
    LicenseKeyMismatch => 422, "license_key_mismatch", "License key does not match";
    /// The license is for another Install ID.
    WrongInstallId => 403, "wrong_install_id", "Wrong Install ID";
    /// The license was revoked: activation is denied.
    LicenseRevoked => 403, "license_revoked", "License revoked";
    /// The license has expired.
    LicenseExpired => 403, "license_expired", "License expired";
    /// The license is not valid yet (`not_before` is in the future).
    LicenseNotYetValid => 403, "license_not_yet_valid", "License not yet valid";
    /// The license is suspended (staff action or lapsed subscription).
    LicenseSuspended => 403, "license_suspended", "License suspended";
    /// The license is bound to another hardware fingerprint.
    BoundElsewhere => 409, "license_bound_elsewhere", "License bound to another fingerprint";
    /// A rebind to the fingerprint the license is already bound to (nothing would move).
    RebindSameFingerprint => 409, "rebind_same_fingerprint", "Already bound to this fingerprint";
    /// A heartbeat for a license that has not been activated.
    NotActivated => 409, "license_not_activated", "License not activated";
    /// The subscription is not valid, so the license cannot be reinstated.
    SubscriptionInvalid => 409, "subscription_invalid", "Subscription not valid";
    /// The activation secret is unknown or was replaced.
    ActivationInvalid => 401, "activation_invalid", "Invalid activation";
    /// The heartbeat claims a lease this server never issued.
    LeaseSeqAhead => 409, "lease_seq_ahead", "Lease sequence ahead of server";
    /// The CSR sent at activation does not parse or its signature is bad.
    CsrInvalid => 400, "csr_invalid", "Invalid certificate signing request";
    /// Appliance mTLS is `required` and the request presented no client certificate.
    ClientCertificateRequired => 401, "client_certificate_required", "Client certificate required";
    /// The client certificate is not one licd issued, or not for this license.
    ClientCertificateUnknown => 401, "client_certificate_unknown", "Unknown client certificate";
    /// The client certificate's license was revoked or rebound (or it was replaced).
    ClientCertificateRevoked => 403, "client_certificate_revoked", "Client certificate revoked";
    /// The provisioning token is unknown, revoked, expired or used up.
    ProvisioningTokenInvalid => 401, "provisioning_token_invalid", "Invalid provisioning token";
    /// An air-gap file that is not a licd transfer file (`licd-transfer/1`), holds no
    /// token of the kind this route reads, or holds one that does not decode.
    TransferInvalid => 422, "transfer_invalid", "Not a valid transfer file";
    /// The appliance's signature on the file does not verify with its key (the one an
    /// offline request carries, or the one recorded at the offline activation): the
    /// file was altered, or another box signed it.
    ApplianceSignatureInvalid => 422, "appliance_signature_invalid", "Appliance signature invalid";
    /// The file names another license or Install ID than the license in the path.
    OfflineLicenseMismatch => 422, "offline_license_mismatch", "File is for another license";
    /// This offline activation request was answered already: each is answered once.
    OfflineRequestReplayed => 409, "offline_request_replayed", "Offline request already answered";
    /// This release proof was recorded already.
    OfflineReleaseReplayed => 409, "offline_release_replayed", "Release already recorded";
    /// No appliance was activated offline for this license from the file's fingerprint
    /// (or it was released already).
    OfflineActivationUnknown => 409, "offline_activation_unknown", "No such offline activation";
    /// The bundle cannot be made: a renewal needs a box holding the license offline and
    /// a license neither revoked nor expired; a revocation needs a revoked license.
    BundleNotAvailable => 409, "bundle_not_available", "Bundle not available";
    /// The signing key cannot be retired in its current status.
    SigningKeyInUse => 409, "signing_key_in_use", "Signing key in use";
    /// A pasted license key is not signed by a trusted issuer (or its signature is bad).
    LicenseKeyUntrusted => 422, "license_key_untrusted", "License key not trusted";
    /// licd's own license is in read-only violation: only the allow-listed writes work.
    LicenseReadOnly => 403, "license_read_only", "Read-only: licd's license is in violation";
    /// licd is in violation and this is its last valid license: install another first.
    LicenseRemovalRefused => 409, "license_removal_refused", "Last valid license cannot be removed";
    /// `tenancy.enabled` is false: the tenancy API does not exist on this server.
    TenancyDisabled => 404, "tenancy_disabled", "Tenancy is not enabled";
    /// No tenancy API key, or one that is not configured (staff credentials never work
    /// here); also every call while tenancy is enabled with no key configured.
    TenancyKeyInvalid => 401, "tenancy_key_invalid", "Invalid tenancy API key";
    /// A tenant with this schema_name exists already.
    SchemaNameTaken => 409, "schema_name_taken", "schema_name taken";
    /// Creating a tenant needs the default tenant's own license: it has none installed.
    DefaultLicenseMissing => 403, "default_license_missing", "The default tenant has no license";
    /// Creating a tenant needs a valid license of the default tenant's own: none is valid
    /// now (expired, or removed).
    DefaultLicenseExpired => 403, "default_license_expired", "The default tenant's license is not valid";
    /// Creating a tenant needs the default tenant out of read-only mode.
    DefaultLicenseReadOnly => 403, "default_license_read_only", "The default tenant is read-only";
    /// The domain is routed to a tenant already (each domain belongs to one tenant).
    DomainTaken => 409, "domain_taken", "Domain belongs to a tenant";
    /// `tenancy.unknown_hosts = "refuse"` and no tenant has this host name as a domain.
    UnknownHost => 421, "unknown_host", "Unknown host name";
    /// A recovery key needs the tenant's primary domain (its first): it has none.
    TenantHasNoDomain => 409, "tenant_has_no_domain", "Tenant has no domain";
    /// A recovery link that is unknown here (mistyped, or for another tenant's host),
    /// used already, or expired.
    RecoveryKeyInvalid => 403, "recovery_key_invalid", "Recovery link not valid";
    /// `public`, the default tenant, can never be deleted.
    DefaultTenantUndeletable => 409, "default_tenant_undeletable", "The default tenant cannot be deleted";
    /// The tenant is not `ready` (still being created, failed, deleted or being deleted or
    /// restored): it cannot be renamed or deleted now.
    TenantNotReady => 409, "tenant_not_ready", "Tenant not ready";
    /// Only a deleted tenant (its archive kept) can be restored.
    TenantNotDeleted => 409, "tenant_not_deleted", "Tenant not deleted";
    /// A deleted tenant's archive is missing, incomplete or does not match its manifest's
    /// checksums: it is not restored.
    TenantArchiveInvalid => 409, "tenant_archive_invalid", "Tenant archive invalid";
    /// The outbox message was already sent (or marked sent).
    OutboxAlreadySent => 409, "outbox_already_sent", "Message already sent";
    /// Only an owner of the organization may do this (members may view it).
    OrganizationOwnerRequired => 403, "organization_owner_required", "Owner role required";
    /// The change would leave the organization without an owner: the last owner cannot
    /// be removed, demoted or leave (transfer ownership first).
    LastOwner => 409, "last_owner", "Last owner";
    /// The address already belongs to a member of the organization.
    AlreadyMember => 409, "already_member", "Already a member";
    /// An invitation to this address is already pending (resend it instead).
    InvitationPending => 409, "invitation_pending", "Invitation already pending";
    /// The invitation link is unknown, used already or revoked.
    InvitationInvalid => 404, "invitation_invalid", "Invitation not valid";
    /// The invitation link has expired (the owner can resend it).
    InvitationExpired => 410, "invitation_expired", "Invitation expired";
    /// The invitation is for another email address than the signed-in customer's.
    InvitationWrongAccount => 403, "invitation_wrong_account", "Invitation is for another address";
    /// A customer account with this email exists already: sign in instead.
    CustomerExists => 409, "customer_exists", "Customer account exists";
    /// `portal.signup = "invite_only"`: customer accounts come only with an invitation.
    SignupInviteOnly => 403, "signup_invite_only", "Sign-up by invitation only";
    /// The customer must verify their email address (the emailed link) first.
    EmailNotVerified => 403, "email_not_verified", "Email address not verified";
    /// The customer's email address is verified already.
    EmailAlreadyVerified => 409, "email_already_verified", "Email address already verified";
    /// An emailed link (verification, password reset) that is unknown here, used
    /// already, or of a disabled account.
    EmailLinkInvalid => 404, "email_link_invalid", "Link not valid";
    /// An emailed link past its expiry (`portal.link_hours`): ask for a new one.
    EmailLinkExpired => 410, "email_link_expired", "Link expired";
    /// The organization still has valid licenses: revoke them or move them first.
    OrganizationHasValidLicenses => 409, "organization_has_valid_licenses", "Organization has valid licenses";
    /// The request names an organization that does not exist (issuing or moving a
    /// license, a provisioning template).
    UnknownOrganization => 422, "unknown_organization", "Unknown organization";
    /// A service account has no password: it cannot sign in, change or reset one, or
    /// use a recovery link; it works with API tokens staff make for it.
    ServiceAccountNoPassword => 409, "service_account_no_password", "Service accounts have no password";
    /// Staff make API tokens for service accounts only (a person makes their own).
    NotAServiceAccount => 409, "not_a_service_account", "Not a service account";
    /// A finalised invoice (open, paid or void) never changes its lines or totals; what
    /// changes an open one is a payment, a credit note or voiding it.
    InvoiceFinalized => 409, "invoice_finalized", "Invoice is finalised";
    /// The action needs an open invoice (a payment, a credit note, voiding) or a draft
    /// (finalising); the invoice is in another state.
    InvoiceState => 409, "invoice_state", "Invoice not in a state that allows this";
    /// A payment larger than what is left to pay on the invoice.
    Overpayment => 422, "overpayment", "Payment exceeds the amount due";
    /// The idempotency key was used before for a different payment.
    IdempotencyKeyReused => 409, "idempotency_key_reused", "Idempotency key used for another payment";
    /// `POST /api/v1/billing/payments` without `billing.gateway_secret_file`: this server
    /// takes no payment confirmations from a gateway (staff record payments).
    GatewayDisabled => 404, "gateway_disabled", "Payment gateway not configured";
    /// The `Licd-Signature` header is missing, malformed, or matches the body with no
    /// configured gateway secret.
    SignatureInvalid => 401, "signature_invalid", "Invalid signature";
    /// The signature is good but its timestamp is outside `billing.replay_window_secs`
    /// of licd's clock (a replayed or badly clocked request).
    SignatureExpired => 401, "signature_expired", "Signature outside the replay window";
    /// Only an open invoice with no payments and no credit notes can be voided (credit
    /// it instead).
    InvoiceNotVoidable => 409, "invoice_not_voidable", "Invoice cannot be voided";
    /// A credit note larger than what is left on the invoice.
    CreditExceedsBalance => 422, "credit_exceeds_balance", "Credit exceeds what is left";
    /// No price list is set yet: staff set one under Billing, Price list.
    PriceListMissing => 409, "price_list_missing", "No price list";
    /// The subscription is not in a state that allows this (canceling one that is not
    /// active, undoing a cancellation after the period ended, upgrading a canceled one).
    SubscriptionState => 409, "subscription_state", "Subscription not in a state that allows this";
    /// The price list does not accept purchase orders (licenses before payment).
    PurchaseOrderNotAccepted => 409, "purchase_order_not_accepted", "Purchase orders are not accepted";
    /// Too many failed logins for this account or address, or too many resends.
    TooManyAttempts => 429, "too_many_attempts", "Too many attempts";
    /// Every password worker is busy (`auth.password_workers`): retry after `Retry-After`.
    PasswordCheckBusy => 503, "password_check_busy", "Too many password checks at once";
    /// Something failed inside licd; the log has the cause.
    Internal => 500, "internal", "Internal error";
    /// A database is not available (startup, shutdown, disk trouble).
    Unavailable => 503, "unavailable", "Service unavailable";
}

/// A refusal as the user sees it: a code plus a sentence that explains this instance.
/// Causes for the log are kept apart by the layer that produced the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: ErrorCode,
    pub detail: String,
    /// Seconds after which a retry may succeed (429).
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            retry_after: None,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

impl std::error::Error for Problem {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(
                s.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{s} is not snake_case"
            );
        }
    }

    #[test]
    fn statuses_match_their_class() {
        use ErrorCode::*;
        let expect = [
            (BadRequest, 400),
            (MalformedJson, 400),
            (MalformedForm, 400),
            (ValidationFailed, 422),
            (UnsupportedMediaType, 415),
            (PayloadTooLarge, 413),
            (RequestTimeout, 408),
            (Unauthenticated, 401),
            (InvalidCredentials, 401),
            (AccountDisabled, 403),
            (OneTimePasswordExpired, 401),
            (PasswordChangeRequired, 403),
            (Forbidden, 403),
            (CsrfFailed, 403),
            (NotFound, 404),
            (RouteNotFound, 404),
            (MethodNotAllowed, 405),
            (EmailTaken, 409),
            (LastSuperAdmin, 409),
            (LicenseKeyInvalid, 401),
            (LicenseKeyMismatch, 422),
            (WrongInstallId, 403),
            (LicenseRevoked, 403),
            (LicenseExpired, 403),
            (LicenseNotYetValid, 403),
            (LicenseSuspended, 403),
            (BoundElsewhere, 409),
            (RebindSameFingerprint, 409),
            (NotActivated, 409),
            (SubscriptionInvalid, 409),
            (ActivationInvalid, 401),
            (LeaseSeqAhead, 409),
            (CsrInvalid, 400),
            (ClientCertificateRequired, 401),
            (ClientCertificateUnknown, 401),
            (ClientCertificateRevoked, 403),
            (ProvisioningTokenInvalid, 401),
            (TransferInvalid, 422),
            (ApplianceSignatureInvalid, 422),
            (OfflineLicenseMismatch, 422),
            (OfflineRequestReplayed, 409),
            (OfflineReleaseReplayed, 409),
            (OfflineActivationUnknown, 409),
            (BundleNotAvailable, 409),
            (SigningKeyInUse, 409),
            (LicenseKeyUntrusted, 422),
            (LicenseReadOnly, 403),
            (LicenseRemovalRefused, 409),
            (TenancyDisabled, 404),
            (TenancyKeyInvalid, 401),
            (SchemaNameTaken, 409),
            (DefaultLicenseMissing, 403),
            (DefaultLicenseExpired, 403),
            (DefaultLicenseReadOnly, 403),
            (DomainTaken, 409),
            (UnknownHost, 421),
            (TenantHasNoDomain, 409),
            (RecoveryKeyInvalid, 403),
            (DefaultTenantUndeletable, 409),
            (TenantNotReady, 409),
            (TenantNotDeleted, 409),
            (TenantArchiveInvalid, 409),
            (OutboxAlreadySent, 409),
            (OrganizationOwnerRequired, 403),
            (LastOwner, 409),
            (AlreadyMember, 409),
            (InvitationPending, 409),
            (InvitationInvalid, 404),
            (InvitationExpired, 410),
            (InvitationWrongAccount, 403),
            (CustomerExists, 409),
            (SignupInviteOnly, 403),
            (EmailNotVerified, 403),
            (EmailAlreadyVerified, 409),
            (EmailLinkInvalid, 404),
            (EmailLinkExpired, 410),
            (OrganizationHasValidLicenses, 409),
            (UnknownOrganization, 422),
            (ServiceAccountNoPassword, 409),
            (NotAServiceAccount, 409),
            (InvoiceFinalized, 409),
            (InvoiceState, 409),
            (Overpayment, 422),
            (IdempotencyKeyReused, 409),
            (GatewayDisabled, 404),
            (SignatureInvalid, 401),
            (SignatureExpired, 401),
            (InvoiceNotVoidable, 409),
            (CreditExceedsBalance, 422),
            (PriceListMissing, 409),
            (SubscriptionState, 409),
            (PurchaseOrderNotAccepted, 409),
            (TooManyAttempts, 429),
            (PasswordCheckBusy, 503),
            (Internal, 500),
            (Unavailable, 503),
        ];
        assert_eq!(
            expect.len(),
            ErrorCode::ALL.len(),
            "every code has a row here"
        );
        for (code, status) in expect {
            assert_eq!(code.status().as_u16(), status, "{}", code.as_str());
        }
    }

    #[test]
    #[should_panic(expected = "4xx or 5xx")]
    fn a_status_that_is_no_error_is_refused() {
        // In the table this is a compile error; here it runs (the number is not const).
        let ok = std::hint::black_box(200);
        Status::new(ok);
    }
}
