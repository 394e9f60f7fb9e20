//! `Tenancy`: the extractor of every tenancy API route (`Access::TenancyKey`). It admits
//! a caller presenting a configured tenancy API key as `Authorization: Bearer <key>` and
//! nothing else: no staff session or API token works here. With `tenancy.enabled = false`
//! every tenancy route answers 404 `tenancy_disabled`, whatever is presented.

use super::auth::state;
use super::problem::ApiError;
use super::routing::{Access, Demands};
use super::state::{AppState, blocking};
use crate::error::ErrorCode;
use crate::service::{self, Actor, App};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::{DateTime, Utc};
use futures_util::future::{Ready, ready};
use std::sync::Arc;

/// A caller holding a tenancy API key, known by the key's name.
#[derive(Debug, Clone)]
pub struct Tenancy {
    pub state: web::Data<AppState>,
    pub actor: Actor,
    pub now: DateTime<Utc>,
}

/// What a tenancy use case works with.
#[derive(Debug, Clone)]
pub struct TenancyContext {
    pub app: Arc<App>,
    pub actor: Actor,
    pub now: DateTime<Utc>,
}

impl Tenancy {
    /// Runs a use case on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> service::Result<T>
    where
        F: FnOnce(&TenancyContext) -> service::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let cx = TenancyContext {
            app: self.state.app.clone(),
            actor: self.actor.clone(),
            now: self.now,
        };
        blocking(move || f(&cx)).await
    }
}

fn admit(req: &HttpRequest) -> Result<Tenancy, ApiError> {
    let state = state(req)?;
    let app = &state.app;
    if !app.config.tenancy.enabled {
        return Err(ApiError::new(
            ErrorCode::TenancyDisabled,
            "the tenancy API is off on this server (tenancy.enabled = false)",
        ));
    }
    if app.tenancy_keys.is_empty() {
        return Err(ApiError::new(
            ErrorCode::TenancyKeyInvalid,
            "no tenancy API key is configured (tenancy.api_key_file or tenancy.api_key), so every tenancy call is refused",
        ));
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let name = presented.and_then(|k| app.tenancy_keys.identify(k));
    match name {
        Some(name) => Ok(Tenancy {
            actor: Actor::TenancyKey {
                name: name.to_owned(),
            },
            now: state.now(),
            state,
        }),
        None => {
            // Not in the registry chain: a caller without a key could grow it without
            // bound. The log has it, with where it came from, never what was sent.
            tracing::warn!(
                peer = req
                    .peer_addr()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_default(),
                path = req.path(),
                presented = presented.is_some(),
                "tenancy call refused: no or an unknown tenancy key"
            );
            Err(ApiError::new(
                ErrorCode::TenancyKeyInvalid,
                "send a configured tenancy API key as `Authorization: Bearer <key>` (staff sessions and API tokens do not work here)",
            ))
        }
    }
}

impl FromRequest for Tenancy {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(admit(req))
    }
}

impl Demands for Tenancy {
    fn demands(out: &mut Vec<Access>) {
        out.push(Access::TenancyKey);
    }
}
