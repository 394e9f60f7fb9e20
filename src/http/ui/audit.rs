//! The audit log page (audit.read): search by action prefix, actor, target and time
//! range, newest first, a page at a time; export of the same search as CSV or JSON.

use super::form::{Shown, View};
use super::reject::UiReject;
use crate::http::audit_export::{self, Format};
use crate::http::auth::{Page, need};
use crate::service::audit::{self, AuditEntry, Search};
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

const VIEW: View = View {
    template: "audit.html",
    nav: "/audit",
};

/// Entries per page.
const PER_PAGE: usize = 50;

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    #[serde(flatten)]
    search: Search,
    cursor: Option<String>,
}

/// The console page a target names, if it has one.
fn target_link(target: &str) -> Option<String> {
    let (kind, id) = target.split_once(':')?;
    let id = urlencoding_path(id)?;
    Some(match kind {
        "license" => format!("/licensing/licenses/{id}"),
        "installation" => format!("/installations/{id}"),
        "user" if id.bytes().all(|b| b.is_ascii_digit()) => format!("/users#user-{id}"),
        "key" => "/licensing/signing".to_owned(),
        "provisioning" => "/licensing/provisioning".to_owned(),
        "token" => "/tokens".to_owned(),
        "enterprise_license" | "tenant" => "/enterprise".to_owned(),
        _ => return None,
    })
}

/// An id as one path segment; `None` for an empty id or one with characters an id of
/// licd never has (so a link is never built from something odd).
fn urlencoding_path(id: &str) -> Option<&str> {
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then_some(id)
}

/// An entry as the page shows it: with the link of its target.
#[derive(Debug, Serialize)]
struct Row {
    #[serde(flatten)]
    entry: AuditEntry,
    target_href: Option<String>,
}

fn link(path: &str, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        path.to_owned()
    } else {
        format!(
            "{path}?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    }
}

pub async fn show(
    page: Page<need::AuditRead>,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, UiReject> {
    let AuditQuery { search, cursor } = q.into_inner();
    let cursor = cursor.filter(|c| !c.trim().is_empty());
    let typed = search.clone();
    let result = page
        .run(move |cx| audit::list(&cx.tenant, typed.filter()?, cursor.as_deref(), PER_PAGE))
        .await;
    let pairs = search.pairs();
    let (rows, next, shown) = match result {
        Ok(p) => {
            let next = p.next_cursor.as_ref().map(|c| {
                let mut with_cursor = pairs.clone();
                with_cursor.push(("cursor", c.as_str()));
                link("/audit", &with_cursor)
            });
            let rows: Vec<Row> = p
                .items
                .into_iter()
                .map(|entry| Row {
                    target_href: target_link(&entry.target),
                    entry,
                })
                .collect();
            (rows, next, Shown::default())
        }
        Err(e) => (
            Vec::new(),
            None,
            Shown::refused("audit-search", &e, &search),
        ),
    };
    let export = |format: &'static str| {
        let mut p = vec![("format", format)];
        p.extend(pairs.iter().copied());
        link("/audit/export", &p)
    };
    let ctx = context! {
        entries => rows,
        next => next,
        search => search,
        filtered => !pairs.is_empty(),
        export_csv => export("csv"),
        export_json => export("json"),
    };
    page.render(VIEW, ctx, shown)
}

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    format: Format,
    #[serde(flatten)]
    search: Search,
}

/// The search as a download (`format` csv or json); a bad search shows the page with
/// the refusal.
pub async fn export(
    page: Page<need::AuditRead>,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, UiReject> {
    let ExportQuery { format, search } = q.into_inner();
    let typed = search.clone();
    let result = page
        .run(move |cx| audit::export(&cx.tenant, typed.filter()?))
        .await;
    match result {
        Ok(entries) => Ok(audit_export::respond(format, &entries, page.now)),
        Err(e) => {
            let shown = Shown::refused("audit-search", &e, &search);
            let ctx = context! {
                entries => Vec::<Row>::new(),
                search => search,
                filtered => true,
            };
            page.render(VIEW, ctx, shown)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_link_to_their_pages() {
        assert_eq!(
            target_link("license:lic_01ab").as_deref(),
            Some("/licensing/licenses/lic_01ab")
        );
        assert_eq!(
            target_link("installation:acme-1").as_deref(),
            Some("/installations/acme-1")
        );
        assert_eq!(target_link("user:7").as_deref(), Some("/users#user-7"));
        assert_eq!(
            target_link("key:k-2026").as_deref(),
            Some("/licensing/signing")
        );
        assert_eq!(target_link("user:unknown"), None);
        assert_eq!(target_link("appliance:ab12"), None);
        assert_eq!(target_link("license:../x"), None);
        assert_eq!(target_link("license:a\"b"), None);
        assert_eq!(target_link("plain"), None);
    }
}
