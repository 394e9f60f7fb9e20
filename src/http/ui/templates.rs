//! Server-rendered pages: minijinja templates embedded from `assets/templates`.

use crate::service::ServiceError;
use include_dir::{Dir, include_dir};
use minijinja::Environment;
use serde::Serialize;

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets/templates");

#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Parses every embedded template (a broken template fails startup, not a request).
    pub fn load() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        for file in TEMPLATES.files() {
            let name = file.path().to_str().unwrap_or_default();
            let source = file.contents_utf8().unwrap_or_default();
            env.add_template(name, source)?;
        }
        Ok(Templates { env })
    }

    pub fn render(&self, name: &str, ctx: impl Serialize) -> Result<String, ServiceError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| ServiceError::internal(format!("template {name}"), e))
    }
}
