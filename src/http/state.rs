use super::ui::flash::Flash;
use super::ui::templates::Templates;
use crate::service::{self, App, ServiceError};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// What every handler can reach.
#[derive(Debug)]
pub struct AppState {
    pub app: Arc<App>,
    pub templates: Templates,
    /// Whether cookies get the `Secure` flag and the `__Host-` prefix: with TLS on, the
    /// plain listener only redirects, so every cookie is set over TLS; behind an HTTPS
    /// proxy (`server.public_url`) the browser sees HTTPS too.
    pub secure_cookies: bool,
    /// Plain HTTP to a proxy that speaks HTTPS to browsers (`server.public_url`): HSTS
    /// goes on every response although the connection itself is not TLS.
    pub behind_https_proxy: bool,
    /// The HTTPS listener's port, when there is one: plain HTTP requests are redirected to it.
    pub https_port: Option<u16>,
    /// The bearer token `/metrics` requires (`None`: loopback clients only).
    pub metrics_token: Option<String>,
    /// Results console pages show once after a redirect.
    pub flash: Flash,
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        self.app.clock.now()
    }

    /// A cookie's name as set and read: `__Host-<base>` when cookies are `Secure`, so a
    /// browser takes it only from this host, over HTTPS, for the whole site, and never
    /// from a sibling domain.
    pub fn cookie_name(&self, base: &str) -> String {
        if self.secure_cookies {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }
}

/// Runs a synchronous use case on the blocking pool, off the async threads.
pub async fn blocking<T, F>(f: F) -> service::Result<T>
where
    F: FnOnce() -> service::Result<T> + Send + 'static,
    T: Send + 'static,
{
    actix_web::web::block(f)
        .await
        .map_err(|e| ServiceError::internal("blocking task failed", e))?
}

/// Runs password work (argon2: sign-in, password changes, new passwords) on the password
/// workers, never on the blocking pool the rest of the API uses. Refused at once with
/// 503 `password_check_busy` (and `Retry-After`) when every worker is busy; `f` is then
/// dropped without running.
pub async fn password_work<T, F>(state: &AppState, f: F) -> service::Result<T>
where
    F: FnOnce() -> service::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let answer = state.app.passwords.try_run(f)?;
    answer
        .await
        .map_err(|_| ServiceError::unexpected("a password worker failed"))?
}
