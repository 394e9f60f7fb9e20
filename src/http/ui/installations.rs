//! Installations (license.read): usage against capacity in bars and words, the stage
//! and when the next one begins, the organization and licenses of each Install ID, a
//! filter by condition and stage; the detail page with its licenses and timeline.

use super::form::{Shown, View};
use super::reject::UiReject;
use crate::domain::violation::{Condition, Stage};
use crate::domain::violation_outlook::{Gauge, in_grace};
use crate::error::ErrorCode;
use crate::http::auth::{Page, need};
use crate::service::installations::{self, InstallationView, ListFilter};
use crate::service::{ServiceError, refuse};
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

const LIST: View = View {
    template: "installations.html",
    nav: "/installations",
};

const DETAIL: View = View {
    template: "installation_detail.html",
    nav: "/installations",
};

/// Installations per page.
const PER_PAGE: usize = 50;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ListQuery {
    #[serde(default)]
    condition: String,
    #[serde(default)]
    stage: String,
    #[serde(default, skip_serializing)]
    cursor: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> Result<ListFilter, ServiceError> {
        let condition = match self.condition.trim() {
            "" => None,
            c => Some(c.parse::<Condition>().map_err(|_| {
                refuse(
                    ErrorCode::ValidationFailed,
                    format!("condition: unknown condition {c:?}"),
                )
            })?),
        };
        let stage = match self.stage.trim() {
            "" => None,
            s => Some(s.parse::<Stage>().map_err(|_| {
                refuse(
                    ErrorCode::ValidationFailed,
                    format!("stage: unknown stage {s:?}"),
                )
            })?),
        };
        Ok(ListFilter { condition, stage })
    }
}

/// An installation as the pages show it: the service's view with its gauges and
/// whether the violation clock runs before any warning.
#[derive(Debug, Serialize)]
struct Decorated {
    #[serde(flatten)]
    v: InstallationView,
    internal: Gauge,
    external: Gauge,
    in_grace: bool,
}

fn decorate(v: InstallationView) -> Decorated {
    let a = &v.assessment;
    // A capacity counts only while a license is valid; otherwise nothing is licensed.
    let valid = matches!(a.condition, Condition::Compliant | Condition::OverLimit);
    let used = v.usage.unwrap_or_default();
    Decorated {
        internal: Gauge::new(
            used.internal_users,
            a.capacity.internal_users,
            valid,
            "internal users",
        ),
        external: Gauge::new(
            used.external_users,
            a.capacity.external_users,
            valid,
            "external users",
        ),
        in_grace: in_grace(a),
        v,
    }
}

fn names<T: AsRef<str>>(all: &[T]) -> Vec<&str> {
    all.iter().map(AsRef::as_ref).collect()
}

pub async fn list(
    page: Page<need::LicenseRead>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, UiReject> {
    let q = q.into_inner();
    let (filter, cursor) = (q.filter(), q.cursor.clone().filter(|c| !c.is_empty()));
    let result = match filter {
        Ok(f) => {
            page.run(move |cx| {
                installations::list(&cx.tenant, cx.now, f, cursor.as_deref(), PER_PAGE)
            })
            .await
        }
        Err(e) => Err(e),
    };
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if !q.condition.trim().is_empty() {
        pairs.push(("condition", q.condition.trim()));
    }
    if !q.stage.trim().is_empty() {
        pairs.push(("stage", q.stage.trim()));
    }
    let (items, next, shown) = match result {
        Ok(p) => {
            let next = p.next_cursor.as_ref().map(|c| {
                let mut with = pairs.clone();
                with.push(("cursor", c.as_str()));
                format!(
                    "/installations?{}",
                    serde_urlencoded::to_string(with).unwrap_or_default()
                )
            });
            let items: Vec<Decorated> = p.items.into_iter().map(decorate).collect();
            (items, next, Shown::default())
        }
        Err(e) => (
            Vec::new(),
            None,
            Shown::refused("installation-filters", &e, &q),
        ),
    };
    let conditions: Vec<&str> = Condition::ALL.iter().map(|c| c.as_str()).collect();
    let stages: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
    let ctx = context! {
        items => items,
        next => next,
        condition => q.condition.trim(),
        stage => q.stage.trim(),
        filtered => !pairs.is_empty(),
        conditions => names(&conditions),
        stages => names(&stages),
        rules => page.tenant.settings(),
    };
    page.render(LIST, ctx, shown)
}

pub async fn detail(
    page: Page<need::LicenseRead>,
    id: web::Path<String>,
) -> Result<HttpResponse, UiReject> {
    let id = id.into_inner();
    let d = page
        .run(move |cx| installations::detail(&cx.tenant, cx.now, &id))
        .await?;
    let shown = decorate(d.installation);
    let ctx = context! {
        d => shown,
        timeline => d.timeline,
        rules => page.tenant.settings(),
    };
    page.render(DETAIL, ctx, Shown::default())
}
