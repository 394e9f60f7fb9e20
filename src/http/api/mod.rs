//! The JSON API under `/api/v1`, one file per resource.

pub mod audit;
pub mod auth;
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
        .service(resource("/api/v1/audit").get(audit::list).build());
}
