//! Billing > Revenue (billing.manage), the group's first page: monthly recurring
//! revenue, what is open and overdue, what was paid in the last 30 days, and a chart of
//! invoiced against paid per month over the last 12 months (`service::revenue`).

use super::charts::{self, Pair, PairChart};
use crate::domain::money::Currency;
use crate::http::auth::{Page, need};
use crate::http::ui::form::{PageQuery, View};
use crate::http::ui::reject::UiReject;
use crate::service::invoices::show;
use crate::service::revenue::{self, RevenueSummary};
use actix_web::{HttpResponse, web};
use minijinja::{Value, context};

const REVENUE: View = View {
    template: "billing_revenue.html",
    nav: "/billing",
};

/// An amount in major units for the chart's scale (`119.5` for 119.50 EUR).
fn major(currency: &str, minor: i64) -> f64 {
    let digits = currency.parse::<Currency>().map_or(2, |c| c.minor_digits());
    minor as f64 / 10f64.powi(digits as i32)
}

fn chart(s: &RevenueSummary) -> String {
    let pairs: Vec<Pair> = s
        .months
        .iter()
        .map(|m| Pair {
            label: m.month.clone(),
            first: major(&s.currency, m.invoiced_minor),
            second: major(&s.currency, m.paid_minor),
        })
        .collect();
    let invoiced: i64 = s.months.iter().map(|m| m.invoiced_minor).sum();
    let paid: i64 = s.months.iter().map(|m| m.paid_minor).sum();
    let description = format!(
        "Invoiced and paid per month (UTC) over the last {} months, in {}: {} invoiced and {} paid in all.",
        revenue::MONTHS,
        s.currency,
        show(&s.currency, invoiced),
        show(&s.currency, paid)
    );
    let title = format!("Invoiced and paid per month ({})", s.currency);
    charts::render_pairs(&PairChart {
        id: "chart-revenue",
        title: &title,
        description: &description,
        names: ("invoiced", "paid"),
        pairs: &pairs,
    })
}

/// `GET /billing`.
pub async fn show_page(
    page: Page<need::BillingManage>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let shown = page.shown(&q);
    let s = page
        .run(move |cx| revenue::summary(&cx.tenant, cx.now))
        .await?;
    let c = s.currency.as_str();
    let months: Vec<Value> = s
        .months
        .iter()
        .map(|m| {
            context! { month => m.month, invoiced => show(c, m.invoiced_minor), paid => show(c, m.paid_minor) }
        })
        .collect();
    let ctx = context! {
        s => s,
        mrr => show(c, s.mrr_minor),
        open => show(c, s.open_minor),
        overdue => show(c, s.overdue_minor),
        paid_30 => show(c, s.paid_last_30_days_minor),
        months => months,
        svg => Value::from_safe_string(chart(&s)),
        paid_days => revenue::PAID_DAYS,
    };
    page.render(REVENUE, ctx, shown)
}
