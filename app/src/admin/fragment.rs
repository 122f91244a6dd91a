//! The dashboard, rendered to HTML on the server only.
//!
//! **Rationale:** the dashboard is read, not interacted with (its range links are links and
//! its range form a plain GET), so rendering it here keeps a dozen charts and tables out of
//! the shop's WebAssembly, and the SVG arrives ready to draw.

use super::domain::{format_bp, format_duration, ratio_bp, DateRange, Kpis, Report, Table, TableName, PRESETS};
use crate::layout::chart::{Bar, Bars, DailyBars, Series, Unit};
use crate::shared::{format_utc_date, Money, DAY_MS};
use leptos::prelude::*;
use leptos::tachys::view::RenderHtml;

/// The dashboard as HTML.
/// The dashboard as HTML; `problem` is what was wrong with the range asked for (the
/// default range is shown instead).
pub fn render(report: Report, today: i64, problem: Option<String>) -> String {
    view! {
        {problem.map(|message| view! { <p class="form-error" role="alert" data-testid="range-error">{message}</p> })}
        <Dashboard report today />
    }
    .to_html()
}

fn money(cents: i64) -> String {
    Money::from_cents(cents).to_string()
}

#[component]
fn Kpi(id: &'static str, label: &'static str, value: String, #[prop(optional)] note: String) -> impl IntoView {
    view! {
        <div class="kpi-card" data-testid=format!("kpi-{id}")>
            <span class="kpi-label">{label}</span>
            <strong class="kpi-value">{value}</strong>
            {(!note.is_empty()).then(|| view! { <span class="kpi-note">{note}</span> })}
        </div>
    }
}

/// A table behind a chart, with its CSV download.
#[component]
fn DataTable(table: Table, range: DateRange, caption: &'static str) -> impl IntoView {
    let href = format!("/api/v1/admin/analytics/{}.csv?{}", table.name.key(), range.query());
    let key = table.name.key();
    view! {
        <details class="data-table" data-testid=format!("table-{key}")>
            <summary>{format!("{caption} as a table")}</summary>
            <table>
                <caption>{caption}</caption>
                <thead>
                    <tr>{table.header.iter().map(|h| view! { <th scope="col">{*h}</th> }).collect_view()}</tr>
                </thead>
                <tbody>
                    {table
                        .rows
                        .into_iter()
                        .map(|row| view! { <tr>{row.into_iter().map(|cell| view! { <td>{cell}</td> }).collect_view()}</tr> })
                        .collect_view()}
                </tbody>
            </table>
        </details>
        <a class="csv-link" href=href download=format!("mercato-{key}.csv") rel="external" data-testid=format!("csv-{key}")>
            {format!("Download {caption} (CSV)")}
        </a>
    }
}

#[component]
fn RangePicker(range: DateRange, today: i64) -> impl IntoView {
    let date = |day: i64| format_utc_date(day * DAY_MS);
    view! {
        <nav class="range-picker" aria-label="Date range" data-testid="range-picker">
            {PRESETS
                .into_iter()
                .map(|days| {
                    let current = range == DateRange::last(days, today);
                    view! {
                        <a
                            href=format!("/admin?days={days}")
                            aria-current=current.then_some("page")
                            data-testid=format!("range-{days}")
                        >
                            {format!("Last {days} days")}
                        </a>
                    }
                })
                .collect_view()}
            <form method="get" action="/admin" class="inline-form">
                <label>"From " <input type="date" name="from" value=date(range.from) required /></label>
                <label>"to " <input type="date" name="to" value=date(range.to) required /></label>
                <button type="submit">"Show"</button>
            </form>
        </nav>
        <p class="hint" data-testid="range">
            {format!("{} to {} ({} days, UTC)", date(range.from), date(range.to), range.days())}
        </p>
    }
}

#[component]
fn KpiGrid(kpis: Kpis) -> impl IntoView {
    view! {
        <section class="kpi-grid" aria-label="Key figures">
            <Kpi
                id="revenue"
                label="Revenue"
                value=money(kpis.revenue_cents)
                note=format!("{} cancelled or refunded", money(kpis.returned_cents))
            />
            <Kpi id="orders" label="Orders" value=kpis.orders.to_string() />
            <Kpi id="aov" label="Average order value" value=money(kpis.aov_cents) />
            <Kpi
                id="conversion"
                label="Conversion rate"
                value=format_bp(kpis.conversion_bp)
                note="sessions with a purchase".to_string()
            />
            <Kpi
                id="rpv"
                label="Revenue per visitor"
                value=money(kpis.revenue_per_visitor_cents)
                note=format!("{} unique visitors", kpis.unique_visitors)
            />
            <Kpi
                id="sessions"
                label="Sessions"
                value=kpis.sessions.to_string()
                note=format!("{} new · {} returning", kpis.sessions_new, kpis.sessions_returning)
            />
            <Kpi
                id="pages-per-session"
                label="Pages per session"
                value=format!("{}.{:02}", kpis.pages_per_session_x100 / 100, kpis.pages_per_session_x100 % 100)
            />
            <Kpi id="session-duration" label="Average session" value=format_duration(kpis.avg_session_ms) />
            <Kpi id="bounce-rate" label="Bounce rate" value=format_bp(kpis.bounce_rate_bp) />
            <Kpi
                id="points"
                label="Points issued / redeemed"
                value=format!("{} / {}", kpis.points_issued, kpis.points_redeemed)
            />
            <Kpi
                id="reviews"
                label="Reviews submitted / approved"
                value=format!("{} / {}", kpis.reviews_submitted, kpis.reviews_approved)
            />
            <Kpi
                id="mrr"
                label="Monthly recurring revenue"
                value=money(kpis.mrr_cents)
                note=format!("{} paying subscribers", kpis.subscribers)
            />
            <Kpi
                id="rec-ctr"
                label="Recommendation click-through"
                value=format_bp(kpis.rec_ctr_bp)
                note=format!("{} clicks of {} blocks shown", kpis.rec_clicked, kpis.rec_shown)
            />
            <Kpi
                id="pricing-effect"
                label="Dynamic pricing effect"
                value=money(kpis.pricing_effect_cents)
                note=format!("{} at base prices", money(kpis.base_revenue_cents))
            />
        </section>
    }
}

#[component]
fn Dashboard(report: Report, today: i64) -> impl IntoView {
    let kpis = report.kpis();
    let range = report.range;
    let days: Vec<i64> = report.days.iter().map(|d| d.day).collect();
    let column = |f: fn(&super::domain::DayRow) -> i64| report.days.iter().map(f).collect::<Vec<i64>>();
    let product_bars: Vec<Bar> = report
        .products
        .iter()
        .map(|p| Bar {
            label: p.name.clone(),
            value: p.revenue_cents,
            text: format!("{} · {} units", money(p.revenue_cents), p.units),
        })
        .collect();
    let plan_bars: Vec<Bar> = report
        .plans
        .iter()
        .map(|p| Bar {
            label: p.plan.clone(),
            value: p.mrr_cents,
            text: format!("{} · {} subscribers", money(p.mrr_cents), p.subscribers),
        })
        .collect();
    let rec_bars: Vec<Bar> = report
        .recommendations
        .iter()
        .map(|r| Bar {
            label: r.kind.replace('_', " "),
            value: r.ctr_bp(),
            text: format!("{} ({} of {})", format_bp(r.ctr_bp()), r.clicked, r.shown),
        })
        .collect();
    view! {
        <div class="dashboard" data-testid="dashboard">
            <RangePicker range today />
            <KpiGrid kpis />
            <section class="card">
                <h2>"Revenue and orders"</h2>
                <DailyBars
                    id="revenue-chart"
                    title="Revenue per day (bars) and orders (line)"
                    days=days.clone()
                    bars=vec![Series::money("revenue", column(|d| d.revenue_cents))]
                    line=Series::new("orders", column(|d| d.orders))
                />
            </section>
            <section class="card">
                <h2>"Conversion, order value and revenue per visitor"</h2>
                <DailyBars
                    id="conversion-chart"
                    title="Conversion rate per day (bars) and average order value (line)"
                    days=days.clone()
                    bars=vec![
                        Series::new("conversion", report.days.iter().map(|d| ratio_bp(d.converted, d.sessions)).collect())
                            .with_unit(Unit::BasisPoints),
                    ]
                    line=Series::money(
                        "average order value",
                        report.days.iter().map(|d| if d.orders > 0 { d.revenue_cents / d.orders } else { 0 }).collect(),
                    )
                />
                <DailyBars
                    id="rpv-chart"
                    title="Revenue per visitor per day"
                    days=days.clone()
                    bars=vec![
                        Series::money(
                            "per visitor",
                            report
                                .days
                                .iter()
                                .map(|d| if d.visitors > 0 { d.revenue_cents / d.visitors } else { 0 })
                                .collect(),
                        ),
                    ]
                />
            </section>
            <section class="card">
                <h2>"Sessions and conversion"</h2>
                <DailyBars
                    id="sessions-chart"
                    title="Sessions of new and returning visitors per day, and sessions with a purchase (line)"
                    days=days.clone()
                    bars=vec![
                        Series::new("new", column(|d| d.sessions_new)),
                        Series::new("returning", column(|d| d.sessions_returning)),
                    ]
                    line=Series::new("converted", column(|d| d.converted))
                />
            </section>
            <section class="card">
                <h2>"Engagement"</h2>
                <DailyBars
                    id="engagement-chart"
                    title="Page views and single-page sessions (bounces) per day, and the average session (line)"
                    days=days.clone()
                    bars=vec![Series::new("pages", column(|d| d.pages)), Series::new("bounces", column(|d| d.bounces))]
                    line=Series::new(
                            "average session",
                            report
                                .days
                                .iter()
                                .map(|d| if d.sessions > 0 { d.duration_ms / d.sessions } else { 0 })
                                .collect(),
                        )
                        .with_unit(Unit::Millis)
                />
            </section>
            <section class="card">
                <h2>"Dynamic pricing"</h2>
                <p class="hint">"What orders paid at dynamic prices, beside what the same orders cost at base prices."</p>
                <DailyBars
                    id="pricing-chart"
                    title="Revenue at the prices charged and at base prices per day"
                    days=days.clone()
                    bars=vec![
                        Series::money("charged", column(|d| d.revenue_cents)),
                        Series::money("at base prices", column(|d| d.base_revenue_cents)),
                    ]
                />
            </section>
            <section class="card">
                <h2>"Loyalty points"</h2>
                <DailyBars
                    id="points-flow-chart"
                    title="Points issued and redeemed per day"
                    days=days.clone()
                    bars=vec![
                        Series::new("issued", column(|d| d.points_issued)),
                        Series::new("redeemed", column(|d| d.points_redeemed)),
                    ]
                />
            </section>
            <section class="card">
                <h2>"Reviews"</h2>
                <DailyBars
                    id="reviews-flow-chart"
                    title="Reviews submitted and approved per day"
                    days=days.clone()
                    bars=vec![
                        Series::new("submitted", column(|d| d.reviews_submitted)),
                        Series::new("approved", column(|d| d.reviews_approved)),
                    ]
                />
                <DataTable table=report.table(TableName::Daily) range caption="Day by day" />
            </section>
            <section class="card">
                <h2>"Top products"</h2>
                <Bars id="products-chart" title="Best sellers by revenue" empty="No sales in the range." bars=product_bars />
                <DataTable table=report.table(TableName::Products) range caption="Top products" />
            </section>
            <section class="card">
                <h2>"Subscribers and MRR by plan"</h2>
                <Bars id="plans-chart" title="Monthly recurring revenue per plan" empty="No paying subscribers." bars=plan_bars />
                <DataTable table=report.table(TableName::Plans) range caption="Plans" />
            </section>
            <section class="card">
                <h2>"Recommendations"</h2>
                <Bars id="recs-chart" title="Click-through rate per recommendation kind" empty="No recommendations shown." bars=rec_bars />
                <DataTable table=report.table(TableName::Recommendations) range caption="Recommendations" />
            </section>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::domain::{DayRow, PlanRow, ProductRow, RecRow};

    fn report() -> Report {
        Report {
            range: DateRange { from: 20_000, to: 20_006 },
            days: (20_000..=20_006)
                .map(|day| DayRow {
                    day,
                    sessions: 10,
                    converted: 1,
                    orders: 1,
                    revenue_cents: 2_500,
                    ..DayRow::default()
                })
                .collect(),
            unique_visitors: 50,
            products: vec![ProductRow {
                sku: "TEA-001".into(),
                name: "<script>alert(1)</script> & tea".into(),
                units: 3,
                revenue_cents: 7_500,
            }],
            plans: vec![PlanRow { plan: "basic".into(), subscribers: 2, mrr_cents: 998 }],
            recommendations: vec![RecRow { kind: "upsell".into(), shown: 100, clicked: 7, added: 1 }],
        }
    }

    #[test]
    fn every_chart_has_a_title_a_description_and_a_table_with_its_csv() {
        let html = render(report(), 20_006, None);
        for id in [
            "revenue-chart",
            "conversion-chart",
            "rpv-chart",
            "sessions-chart",
            "engagement-chart",
            "pricing-chart",
            "points-flow-chart",
            "reviews-flow-chart",
            "products-chart",
            "plans-chart",
            "recs-chart",
        ] {
            assert!(html.contains(&format!("data-testid=\"{id}\"")), "{id}");
            assert!(html.contains(&format!("<title id=\"{id}-title\">")), "{id} has a title");
            assert!(html.contains(&format!("<desc id=\"{id}-desc\">")), "{id} has a description");
        }
        for table in TableName::ALL {
            assert!(html.contains(&format!("/api/v1/admin/analytics/{}.csv?from=", table.key())));
        }
        assert!(html.contains("7.00 %"), "the upsell click-through rate");
        assert!(html.contains("aria-current=\"page\""), "the last 7 days are the range shown");
    }

    #[test]
    fn product_names_are_text_not_html() {
        let html = render(report(), 20_006, Some("<b>bad</b> range".into()));
        assert!(!html.contains("<script>alert(1)"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; tea"));
        assert!(!html.contains("<b>bad</b>"));
    }
}
