//! The JSON API under `/api/v1`, one file per resource.

pub mod appliance;
pub mod audit;
pub mod auth;
pub mod enterprise;
pub mod installations;
pub mod licenses;
pub mod signing;
pub mod tls;
pub mod tokens;
pub mod users;

use super::routing::resource;
use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/api/v1/auth/login").post(auth::login).build())
        .service(resource("/api/v1/auth/logout").post(auth::logout).build())
        .service(
            resource("/api/v1/auth/password")
                .post(auth::change_password)
                .build(),
        )
        .service(resource("/api/v1/me").get(auth::me).build())
        .service(resource("/api/v1/tls").get(tls::overview).build())
        .service(
            resource("/api/v1/users")
                .get(users::list)
                .post(users::create)
                .build(),
        )
        .service(
            resource("/api/v1/users/{id}")
                .get(users::get)
                .patch(users::update)
                .build(),
        )
        .service(
            resource("/api/v1/users/{id}/reset-password")
                .post(users::reset_password)
                .build(),
        )
        .service(
            resource("/api/v1/tokens")
                .get(tokens::list)
                .post(tokens::create)
                .build(),
        )
        .service(
            resource("/api/v1/tokens/{id}")
                .delete(tokens::revoke)
                .build(),
        )
        .service(resource("/api/v1/audit").get(audit::list).build())
        .service(
            resource("/api/v1/licenses/health/sweep")
                .post(licenses::run_sweep)
                .build(),
        )
        .service(
            resource("/api/v1/licenses")
                .get(licenses::list)
                .post(licenses::issue)
                .build(),
        )
        .service(resource("/api/v1/licenses/{id}").get(licenses::get).build())
        .service(
            resource("/api/v1/licenses/{id}/activate")
                .post(appliance::activate)
                .build(),
        )
        .service(
            resource("/api/v1/licenses/{id}/heartbeat")
                .post(appliance::heartbeat)
                .build(),
        )
        .service(
            resource("/api/v1/licenses/{id}/revoke")
                .post(licenses::revoke)
                .build(),
        )
        .service(
            resource("/api/v1/licenses/{id}/rebind")
                .post(licenses::rebind)
                .build(),
        )
        .service(
            resource("/api/v1/licenses/{id}/suspend")
                .post(licenses::suspend)
                .build(),
        )
        .service(
            resource("/api/v1/licenses/{id}/reinstate")
                .post(licenses::reinstate)
                .build(),
        )
        .service(
            resource("/api/v1/licenses/{id}/subscription")
                .post(licenses::subscription)
                .build(),
        )
        .service(
            resource("/api/v1/licenses/{id}/directives")
                .post(licenses::directive)
                .build(),
        )
        .service(
            resource("/api/v1/licensing/heartbeats")
                .get(licenses::heartbeats)
                .build(),
        )
        .service(
            resource("/api/v1/licensing/settings")
                .get(signing::get_settings)
                .put(signing::put_settings)
                .build(),
        )
        .service(
            resource("/api/v1/signing-keys")
                .get(signing::list_keys)
                .post(signing::rotate)
                .build(),
        )
        .service(
            resource("/api/v1/signing-keys/{kid}/retire")
                .post(signing::retire)
                .build(),
        )
        .service(
            resource("/api/v1/provisioning-tokens")
                .get(signing::list_provisioning)
                .post(signing::create_provisioning)
                .build(),
        )
        .service(
            resource("/api/v1/provisioning-tokens/{id}")
                .delete(signing::revoke_provisioning)
                .build(),
        )
        .service(
            resource("/api/v1/provision")
                .post(appliance::provision)
                .build(),
        )
        .service(
            resource("/api/v1/enterprise")
                .get(enterprise::overview)
                .build(),
        )
        .service(
            resource("/api/v1/enterprise/licenses")
                .post(enterprise::install)
                .build(),
        )
        .service(
            resource("/api/v1/enterprise/licenses/{id}")
                .delete(enterprise::remove)
                .build(),
        )
        .service(
            resource("/api/v1/installations")
                .get(installations::list)
                .build(),
        )
        .service(
            resource("/api/v1/installations/{install_id}")
                .get(installations::get)
                .build(),
        )
        .service(
            resource("/.well-known/jwks.json")
                .get(appliance::jwks)
                .build(),
        );
}
