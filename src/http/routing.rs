//! Route registration with correct 405 answers: a resource built here answers methods
//! it does not serve with `method_not_allowed` and an `Allow` header.

use super::problem::problem_response;
use crate::error::{ErrorCode, Problem};
use actix_web::http::{Method, header};
use actix_web::{FromRequest, Handler, Resource, Responder, web};

pub struct ResourceBuilder {
    resource: Resource,
    methods: Vec<Method>,
}

pub fn resource(path: &str) -> ResourceBuilder {
    ResourceBuilder {
        resource: web::resource(path),
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
