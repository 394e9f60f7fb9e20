//! The dashboard: the fleet first (licenses by state, silent appliances and their grace
//! left, licenses expiring soon, installations by stage, three charts), then licd's own
//! license, then a small part about the signed-in user. Each part shows only when the
//! user's role may read what it shows.

use super::charts::{self, Chart, Point, Shape};
use super::form::{PageQuery, View};
use super::reject::UiReject;
use crate::domain::permissions::Permission;
use crate::http::auth::{Page, need};
use crate::service::audit::Filter;
use crate::service::fleet_overview::{self, EXPIRING_WITHIN_DAYS, Fleet};
use crate::service::{audit, staff, tokens};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Timelike, Utc};
use minijinja::{Value, context};
use serde::Serialize;

const VIEW: View = View {
    template: "dashboard.html",
    nav: "/",
};

/// A chart as the template shows it: the SVG, and its numbers for the table behind a
/// disclosure.
#[derive(Debug, Serialize)]
struct ChartView {
    id: &'static str,
    title: &'static str,
    description: String,
    /// The column headings of its table.
    bucket: &'static str,
    measure: &'static str,
    svg: Value,
    rows: Vec<(String, i64)>,
}

/// A span of time as people read it, to the two largest units: "3 d 4 h", "5 h 12 min",
/// "1 h", "7 min".
pub fn span(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    match (d, h, m) {
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// 1234567 as "1,234,567".
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn day_label(d: NaiveDate) -> String {
    d.format("%b %-d").to_string()
}

fn hour_label(t: DateTime<Utc>) -> String {
    t.format("%b %-d %H:00").to_string()
}

fn chart(
    id: &'static str,
    title: &'static str,
    what: &str,
    shape: Shape,
    (bucket, measure): (&'static str, &'static str),
    rows: Vec<(String, i64)>,
    ticks: impl Fn(usize) -> Option<String>,
) -> ChartView {
    let total: i64 = rows.iter().map(|(_, n)| n).sum();
    let peak = rows.iter().max_by_key(|(_, n)| *n);
    let description = match peak {
        Some((label, n)) if *n > 0 => format!(
            "{what}: {} in all, at most {} ({label}).",
            grouped(total),
            grouped(*n)
        ),
        _ => format!("{what}: none."),
    };
    let points: Vec<Point> = rows
        .iter()
        .enumerate()
        .map(|(i, (label, n))| Point {
            label: label.clone(),
            value: *n as f64,
            tick: ticks(i),
        })
        .collect();
    let svg = charts::render(&Chart {
        id,
        title,
        description: &description,
        shape,
        points: &points,
    });
    ChartView {
        id,
        title,
        description,
        bucket,
        measure,
        svg: Value::from_safe_string(svg),
        rows,
    }
}

fn charts_of(f: &Fleet) -> Vec<ChartView> {
    vec![
        chart(
            "chart-heartbeats",
            "Heartbeats per hour, last 7 days",
            "Heartbeats answered per hour over the last 7 days (UTC)",
            Shape::Bars,
            ("Hour (UTC)", "Heartbeats"),
            f.heartbeats_per_hour
                .iter()
                .map(|(h, n)| (hour_label(*h), *n))
                .collect(),
            // The axis names each day at its midnight.
            |i| {
                let (h, _) = f.heartbeats_per_hour[i];
                (h.hour() == 0).then(|| day_label(h.date_naive()))
            },
        ),
        chart(
            "chart-issued",
            "Licenses issued per week, last 12 weeks",
            "Licenses issued per week (from Monday, UTC) over the last 12 weeks",
            Shape::Bars,
            ("Week of", "Licenses issued"),
            f.issued_per_week
                .iter()
                .map(|(d, n)| (day_label(*d), *n))
                .collect(),
            |_| None,
        ),
        chart(
            "chart-appliances",
            "Active appliances per day, last 30 days",
            "Appliances heard from per day (a heartbeat or an activation) over the last 30 days (UTC)",
            Shape::Line,
            ("Day (UTC)", "Appliances"),
            f.appliances_per_day
                .iter()
                .map(|(d, n)| (day_label(*d), *n))
                .collect(),
            |_| None,
        ),
    ]
}

pub async fn show(
    page: Page<need::SignedIn>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let p = &page.principal;
    let can_licenses = p.can(Permission::LicenseRead);
    let can_own = p.can(Permission::SettingsManage);
    let can_audit = p.can(Permission::AuditRead);
    let (fleet, own, staff_count, my_tokens, recent) = page
        .run(move |cx| {
            let fleet = can_licenses
                .then(|| fleet_overview::fleet(&cx.tenant, cx.now))
                .transpose()?;
            let own = can_own
                .then(|| fleet_overview::own_license(&cx.tenant, cx.now))
                .transpose()?;
            let staff_count = staff::list(&cx.tenant)?.len();
            let my_tokens = tokens::list(&cx.tenant, cx.now, cx.user_id())?
                .into_iter()
                .filter(|t| t.active)
                .count();
            let recent = can_audit
                .then(|| audit::list(&cx.tenant, Filter::default(), None, 5).map(|p| p.items))
                .transpose()?;
            Ok((fleet, own, staff_count, my_tokens, recent))
        })
        .await?;
    let charts = fleet.as_ref().map(charts_of);
    let silent: Option<Vec<Value>> = fleet.as_ref().map(|f| {
        f.silent
            .iter()
            .map(|a| {
                context! {
                    a => a,
                    silent_for => span(a.silent_secs),
                    grace_left => (a.grace_left_secs > 0).then(|| span(a.grace_left_secs)),
                }
            })
            .collect()
    });
    let expiring: Option<Vec<Value>> = fleet.as_ref().map(|f| {
        f.expiring
            .iter()
            .map(|l| context! { l => l, left => span(l.left_secs) })
            .collect()
    });
    let permissions: Vec<&str> = page
        .principal
        .role()
        .permissions()
        .iter()
        .map(|p| p.as_str())
        .collect();
    let ctx = context! {
        fleet => fleet,
        interval => fleet.as_ref().map(|f| span(i64::from(f.heartbeat_interval_secs))),
        silent => silent,
        expiring => expiring,
        expiring_days => EXPIRING_WITHIN_DAYS,
        charts => charts,
        own => own,
        staff_count => staff_count,
        my_tokens => my_tokens,
        recent => recent,
        permissions => permissions,
    };
    page.render(VIEW, ctx, page.shown(&q))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_numbers_read_like_text() {
        assert_eq!(span(3 * 86_400 + 4 * 3_600 + 59), "3 d 4 h");
        assert_eq!(span(5 * 3_600 + 12 * 60), "5 h 12 min");
        assert_eq!(span(7 * 60 + 3), "7 min");
        assert_eq!(span(-40), "0 min");
        assert_eq!(span(3_600), "1 h");
        assert_eq!(span(2 * 86_400 + 59 * 60), "2 d");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(-1_000), "-1,000");
    }
}
