//! Route registration with correct 405 answers: a resource built here answers methods
//! it does not serve with `method_not_allowed` and an `Allow` header. Every route built
//! here is also recorded (`registered`), so a test can hold the API reference
//! (`/api/v1/openapi.json`) to the routes that really exist.

use super::problem::problem_response;
use crate::error::{ErrorCode, Problem};
use actix_web::http::{Method, header};
use actix_web::{FromRequest, Handler, Resource, Responder, web};
use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

/// Which side of licd a route belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Surface {
    /// Machine-facing: the JSON API, health, CA and key endpoints. The OpenAPI document
    /// must describe every such route.
    Api,
    /// A console page (HTML and form posts); not part of the API reference.
    Console,
}

/// A route as registered: its surface, method and path (actix syntax, `{id}`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Route {
    pub surface: Surface,
    pub method: String,
    pub path: String,
}

/// Every route any app built in this process has registered (each worker builds the
/// same app, so this is a set).
static REGISTERED: Mutex<BTreeSet<Route>> = Mutex::new(BTreeSet::new());

/// The routes registered so far, sorted. Complete once a server has built its app.
pub fn registered() -> Vec<Route> {
    REGISTERED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .cloned()
        .collect()
}

pub struct ResourceBuilder {
    resource: Resource,
    path: String,
    surface: Surface,
    methods: Vec<Method>,
}

/// A machine-facing route (documented in the OpenAPI reference).
pub fn resource(path: &str) -> ResourceBuilder {
    builder(path, Surface::Api)
}

/// A console page.
pub fn page(path: &str) -> ResourceBuilder {
    builder(path, Surface::Console)
}

fn builder(path: &str, surface: Surface) -> ResourceBuilder {
    ResourceBuilder {
        resource: web::resource(path),
        path: path.to_owned(),
        surface,
        methods: Vec::new(),
    }
}

macro_rules! method {
    ($name:ident, $method:ident, $route:ident) => {
        pub fn $name<F, Args>(mut self, handler: F) -> Self
        where
            F: Handler<Args>,
            Args: FromRequest + 'static,
            F::Output: Responder + 'static,
        {
            self.resource = self.resource.route(web::$route().to(handler));
            self.methods.push(Method::$method);
            self
        }
    };
}

impl ResourceBuilder {
    method!(get, GET, get);
    method!(post, POST, post);
    method!(put, PUT, put);
    method!(patch, PATCH, patch);
    method!(delete, DELETE, delete);

    pub fn build(self) -> Resource {
        REGISTERED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(self.methods.iter().map(|m| Route {
                surface: self.surface,
                method: m.as_str().to_owned(),
                path: self.path.clone(),
            }));
        let allow = self
            .methods
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        self.resource.default_service(web::to(move || {
            let allow = allow.clone();
            async move {
                let mut resp = problem_response(&Problem::new(
                    ErrorCode::MethodNotAllowed,
                    format!("this route answers {allow}"),
                ));
                if let Ok(v) = header::HeaderValue::from_str(&allow) {
                    resp.headers_mut().insert(header::ALLOW, v);
                }
                resp
            }
        }))
    }
}
