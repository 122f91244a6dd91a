//! The analytics rules, without I/O: the date range of a report, the 30-minute session rule
//! applied one event at a time, the KPIs derived from daily rollups, and the report's tables
//! (shown behind each chart and exported as CSV).

use crate::shared::{format_utc_date, parse_date, AppError, Money, DAY_MS};
use serde::{Deserialize, Serialize};

/// A session ends after this long without activity (Google Analytics' default).
pub const SESSION_GAP_MS: i64 = 30 * 60 * 1000;
/// The longest range a report covers.
pub const MAX_RANGE_DAYS: i64 = 366;
/// Range presets on the dashboard.
pub const PRESETS: [i64; 3] = [7, 30, 90];

/// Counter names in `analytics_daily`. Strings, because CSV readers and SQL see them.
pub mod metric {
    pub const SESSIONS: &str = "sessions";
    pub const SESSIONS_NEW: &str = "sessions_new";
    pub const SESSIONS_RETURNING: &str = "sessions_returning";
    pub const PAGES: &str = "pages";
    pub const BOUNCES: &str = "bounces";
    pub const DURATION_MS: &str = "duration_ms";
    pub const CONVERTED: &str = "converted";
    pub const VISITORS: &str = "visitors";
    pub const ORDERS: &str = "orders";
    pub const REVENUE: &str = "revenue_cents";
    /// What the same orders would have cost at each product's base price.
    pub const BASE_REVENUE: &str = "base_revenue_cents";
    /// Order totals taken back by a cancellation or a refund (on the day it happened).
    pub const RETURNED: &str = "returned_cents";
    pub const PRODUCT_UNITS: &str = "product_units";
    pub const PRODUCT_REVENUE: &str = "product_revenue_cents";
    pub const REVIEWS_SUBMITTED: &str = "reviews_submitted";
    pub const REVIEWS_APPROVED: &str = "reviews_approved";
    pub const REC_SHOWN: &str = "rec_shown";
    pub const REC_CLICKED: &str = "rec_clicked";
    pub const REC_ADDED: &str = "rec_added";
}

/// The UTC day number of an epoch-milliseconds instant.
pub fn day_of(epoch_ms: i64) -> i64 {
    epoch_ms.div_euclid(DAY_MS)
}

/// The days a report covers, both ends included (UTC day numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DateRange {
    pub from: i64,
    pub to: i64,
}

impl DateRange {
    /// The last `days` days up to and including `today`.
    pub fn last(days: i64, today: i64) -> DateRange {
        DateRange { from: today - days.clamp(1, MAX_RANGE_DAYS) + 1, to: today }
    }

    /// From the query string: `from` and `to` dates (`YYYY-MM-DD`), or a preset `days`, or
    /// the last 30 days. A range the owner typed wrong is an error naming the field.
    pub fn parse(from: Option<&str>, to: Option<&str>, days: Option<&str>, today: i64) -> Result<DateRange, AppError> {
        let date = |field: &'static str, raw: &str| {
            parse_date(raw)
                .map(day_of)
                .ok_or_else(|| AppError::invalid(field, "Use a date like 2026-11-27 (YYYY-MM-DD)."))
        };
        let from = from.filter(|s| !s.trim().is_empty());
        let to = to.filter(|s| !s.trim().is_empty());
        let range = match (from, to) {
            (None, None) => {
                let days = match days.filter(|s| !s.trim().is_empty()) {
                    None => 30,
                    Some(raw) => raw
                        .trim()
                        .parse::<i64>()
                        .ok()
                        .filter(|d| (1..=MAX_RANGE_DAYS).contains(d))
                        .ok_or_else(|| AppError::invalid("days", "Ask for 1 to 366 days."))?,
                };
                DateRange::last(days, today)
            }
            (Some(from), to) => {
                DateRange { from: date("from", from)?, to: to.map(|to| date("to", to)).transpose()?.unwrap_or(today) }
            }
            (None, Some(to)) => {
                let to = date("to", to)?;
                DateRange { from: to - 29, to }
            }
        };
        if range.from > range.to {
            return Err(AppError::invalid("from", "The first day must not be after the last."));
        }
        if range.days() > MAX_RANGE_DAYS {
            return Err(AppError::invalid("from", "A report covers at most 366 days."));
        }
        Ok(range)
    }

    pub fn days(&self) -> i64 {
        self.to - self.from + 1
    }

    /// `from=…&to=…` for links that keep this range.
    pub fn query(&self) -> String {
        format!("from={}&to={}", format_utc_date(self.from * DAY_MS), format_utc_date(self.to * DAY_MS))
    }
}

/// A visitor's current session, as stored between events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VisitorSession {
    pub started_at: i64,
    pub last_at: i64,
    pub pages: i64,
    pub purchased: bool,
    /// Sessions this visitor has had, this one included.
    pub sessions: i64,
}

/// What an event says about a visitor's activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Touch {
    /// A page view (from the hydrated app).
    Page,
    /// Activity that is not a page of its own: a heartbeat, a server-side product view.
    Active,
    /// An order placed.
    Purchase,
}

/// How one touch moves the daily counters. Session counters land on the day the session
/// started, so a session that crosses midnight is counted once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionDelta {
    pub day: i64,
    pub sessions: i64,
    pub sessions_new: i64,
    pub sessions_returning: i64,
    pub pages: i64,
    pub bounces: i64,
    pub duration_ms: i64,
    pub converted: i64,
}

impl SessionDelta {
    /// The non-zero counters, by metric name.
    pub fn counters(&self) -> impl Iterator<Item = (&'static str, i64)> {
        [
            (metric::SESSIONS, self.sessions),
            (metric::SESSIONS_NEW, self.sessions_new),
            (metric::SESSIONS_RETURNING, self.sessions_returning),
            (metric::PAGES, self.pages),
            (metric::BOUNCES, self.bounces),
            (metric::DURATION_MS, self.duration_ms),
            (metric::CONVERTED, self.converted),
        ]
        .into_iter()
        .filter(|(_, value)| *value != 0)
    }
}

/// Applies one touch at `at` to a visitor's session: continues it when the last activity
/// was at most [`SESSION_GAP_MS`] ago, else starts a new one. A bounce is a session of
/// exactly one page; duration runs from the first to the last activity. An event older than
/// the session's last activity (a late delivery) joins the session without moving its end.
pub fn touch(previous: Option<VisitorSession>, at: i64, touch: Touch) -> (VisitorSession, SessionDelta) {
    let page = i64::from(touch == Touch::Page);
    let purchase = touch == Touch::Purchase;
    match previous {
        Some(session) if at <= session.last_at + SESSION_GAP_MS => {
            let last_at = session.last_at.max(at);
            let pages = session.pages + page;
            let next = VisitorSession { last_at, pages, purchased: session.purchased || purchase, ..session };
            let delta = SessionDelta {
                day: day_of(session.started_at),
                pages: page,
                bounces: i64::from(pages == 1) - i64::from(session.pages == 1),
                duration_ms: last_at - session.last_at,
                converted: i64::from(purchase && !session.purchased),
                ..SessionDelta::default()
            };
            (next, delta)
        }
        _ => {
            let returning = previous.is_some();
            let next = VisitorSession {
                started_at: at,
                last_at: at,
                pages: page,
                purchased: purchase,
                sessions: previous.map_or(0, |s| s.sessions) + 1,
            };
            let delta = SessionDelta {
                day: day_of(at),
                sessions: 1,
                sessions_new: i64::from(!returning),
                sessions_returning: i64::from(returning),
                pages: page,
                bounces: page,
                duration_ms: 0,
                converted: i64::from(purchase),
            };
            (next, delta)
        }
    }
}

/// Rollup changes gathered in memory: from one event (the outbox consumer) or from a whole
/// imported history at once (the demo seed, the benchmark fixture), then written in a few
/// statements. Both go through the same session rule.
#[derive(Debug, Default)]
pub struct Rollup {
    pub daily: std::collections::BTreeMap<(i64, &'static str, String), i64>,
    /// Sessions of the visitors touched (load a visitor's stored session before touching it).
    pub visitors: std::collections::HashMap<String, VisitorSession>,
    pub visitor_days: std::collections::BTreeSet<(i64, String)>,
}

impl Rollup {
    pub fn count(&mut self, day: i64, metric: &'static str, dim: &str, n: i64) {
        if n != 0 {
            *self.daily.entry((day, metric, dim.to_string())).or_insert(0) += n;
        }
    }

    /// Applies one touch of a visitor (an empty id, e.g. an order placed over the API by a
    /// client without a visitor cookie, counts no session).
    pub fn touch(&mut self, visitor: &str, at: i64, kind: Touch) {
        if visitor.is_empty() {
            return;
        }
        let (next, delta) = touch(self.visitors.get(visitor).copied(), at, kind);
        self.visitors.insert(visitor.to_string(), next);
        for (metric, value) in delta.counters() {
            self.count(delta.day, metric, "", value);
        }
        self.visitor_days.insert((day_of(at), visitor.to_string()));
    }

    /// An order: a purchase in the visitor's session, and its revenue (at the prices charged
    /// and at base prices) and units per product. `lines` are (SKU, quantity, unit cents).
    pub fn order(&mut self, visitor: &str, at: i64, total_cents: i64, base_cents: i64, lines: &[(String, i64, i64)]) {
        self.touch(visitor, at, Touch::Purchase);
        let day = day_of(at);
        self.count(day, metric::ORDERS, "", 1);
        self.count(day, metric::REVENUE, "", total_cents);
        self.count(day, metric::BASE_REVENUE, "", base_cents);
        for (sku, quantity, unit_cents) in lines {
            self.count(day, metric::PRODUCT_UNITS, sku, *quantity);
            self.count(day, metric::PRODUCT_REVENUE, sku, quantity * unit_cents);
        }
    }

    /// One unit of `sku` added to an order already placed: revenue (at the price charged,
    /// which is also its base: no discount applies), not an order.
    pub fn addon(&mut self, at: i64, sku: &str, unit_cents: i64) {
        let day = day_of(at);
        self.count(day, metric::REVENUE, "", unit_cents);
        self.count(day, metric::BASE_REVENUE, "", unit_cents);
        self.count(day, metric::PRODUCT_UNITS, sku, 1);
        self.count(day, metric::PRODUCT_REVENUE, sku, unit_cents);
    }
}

/// One day of the report (rollups summed per day; zero where nothing happened).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DayRow {
    pub day: i64,
    pub sessions: i64,
    pub sessions_new: i64,
    pub sessions_returning: i64,
    pub visitors: i64,
    pub pages: i64,
    pub bounces: i64,
    pub duration_ms: i64,
    pub converted: i64,
    pub orders: i64,
    pub revenue_cents: i64,
    pub base_revenue_cents: i64,
    pub returned_cents: i64,
    pub points_issued: i64,
    pub points_redeemed: i64,
    pub reviews_submitted: i64,
    pub reviews_approved: i64,
}

impl DayRow {
    /// Adds one rollup counter to this day (unknown metrics are ignored: per-SKU and
    /// per-kind counters have their own tables).
    pub fn add(&mut self, metric: &str, value: i64) {
        let field = match metric {
            metric::SESSIONS => &mut self.sessions,
            metric::SESSIONS_NEW => &mut self.sessions_new,
            metric::SESSIONS_RETURNING => &mut self.sessions_returning,
            metric::VISITORS => &mut self.visitors,
            metric::PAGES => &mut self.pages,
            metric::BOUNCES => &mut self.bounces,
            metric::DURATION_MS => &mut self.duration_ms,
            metric::CONVERTED => &mut self.converted,
            metric::ORDERS => &mut self.orders,
            metric::REVENUE => &mut self.revenue_cents,
            metric::BASE_REVENUE => &mut self.base_revenue_cents,
            metric::RETURNED => &mut self.returned_cents,
            metric::REVIEWS_SUBMITTED => &mut self.reviews_submitted,
            metric::REVIEWS_APPROVED => &mut self.reviews_approved,
            _ => return,
        };
        *field += value;
    }
}

/// A product's sales in the range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProductRow {
    pub sku: String,
    pub name: String,
    pub units: i64,
    pub revenue_cents: i64,
}

/// A plan's paying subscribers and monthly recurring revenue now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PlanRow {
    pub plan: String,
    pub subscribers: i64,
    pub mrr_cents: i64,
}

/// A recommendation kind's blocks shown, clicks and products added in the range.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RecRow {
    pub kind: String,
    pub shown: i64,
    pub clicked: i64,
    pub added: i64,
}

impl RecRow {
    /// Click-through rate in basis points (clicks per 10,000 blocks shown).
    pub fn ctr_bp(&self) -> i64 {
        ratio_bp(self.clicked, self.shown)
    }
}

/// `part / whole` in basis points (1/100 of a percent), 0 when there is no whole.
pub fn ratio_bp(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        0
    } else {
        ((part as i128 * 10_000 + whole as i128 / 2) / whole as i128) as i64
    }
}

/// `1234` basis points as `12.34 %`.
pub fn format_bp(bp: i64) -> String {
    format!("{}.{:02} %", bp / 100, (bp % 100).abs())
}

/// Milliseconds as `3 min 05 s`.
pub fn format_duration(ms: i64) -> String {
    let seconds = ms.max(0) / 1000;
    if seconds < 60 {
        format!("{seconds} s")
    } else {
        format!("{} min {:02} s", seconds / 60, seconds % 60)
    }
}

/// The whole report for one range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Report {
    pub range: DateRange,
    /// One row per day of the range, oldest first.
    pub days: Vec<DayRow>,
    /// Distinct visitors over the whole range (not the sum of daily visitors).
    pub unique_visitors: i64,
    /// Best sellers by revenue, at most [`TOP_PRODUCTS`].
    pub products: Vec<ProductRow>,
    pub plans: Vec<PlanRow>,
    pub recommendations: Vec<RecRow>,
}

pub const TOP_PRODUCTS: usize = 10;

/// The headline numbers of a report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Kpis {
    pub revenue_cents: i64,
    pub returned_cents: i64,
    pub orders: i64,
    pub aov_cents: i64,
    pub sessions: i64,
    pub sessions_new: i64,
    pub sessions_returning: i64,
    pub unique_visitors: i64,
    /// Sessions with a purchase per session, in basis points.
    pub conversion_bp: i64,
    pub revenue_per_visitor_cents: i64,
    /// Pages per session × 100.
    pub pages_per_session_x100: i64,
    pub avg_session_ms: i64,
    pub bounce_rate_bp: i64,
    pub points_issued: i64,
    pub points_redeemed: i64,
    pub reviews_submitted: i64,
    pub reviews_approved: i64,
    pub subscribers: i64,
    pub mrr_cents: i64,
    pub rec_shown: i64,
    pub rec_clicked: i64,
    pub rec_ctr_bp: i64,
    /// Revenue at the prices charged minus the same orders at base prices.
    pub pricing_effect_cents: i64,
    pub base_revenue_cents: i64,
}

impl Report {
    pub fn kpis(&self) -> Kpis {
        let sum = |f: fn(&DayRow) -> i64| self.days.iter().map(f).sum::<i64>();
        let revenue_cents = sum(|d| d.revenue_cents);
        let base_revenue_cents = sum(|d| d.base_revenue_cents);
        let orders = sum(|d| d.orders);
        let sessions = sum(|d| d.sessions);
        let rec_shown = self.recommendations.iter().map(|r| r.shown).sum();
        let rec_clicked = self.recommendations.iter().map(|r| r.clicked).sum();
        Kpis {
            revenue_cents,
            returned_cents: sum(|d| d.returned_cents),
            orders,
            aov_cents: if orders > 0 { revenue_cents / orders } else { 0 },
            sessions,
            sessions_new: sum(|d| d.sessions_new),
            sessions_returning: sum(|d| d.sessions_returning),
            unique_visitors: self.unique_visitors,
            conversion_bp: ratio_bp(sum(|d| d.converted), sessions),
            revenue_per_visitor_cents: if self.unique_visitors > 0 { revenue_cents / self.unique_visitors } else { 0 },
            pages_per_session_x100: if sessions > 0 { sum(|d| d.pages) * 100 / sessions } else { 0 },
            avg_session_ms: if sessions > 0 { sum(|d| d.duration_ms) / sessions } else { 0 },
            bounce_rate_bp: ratio_bp(sum(|d| d.bounces), sessions),
            points_issued: sum(|d| d.points_issued),
            points_redeemed: sum(|d| d.points_redeemed),
            reviews_submitted: sum(|d| d.reviews_submitted),
            reviews_approved: sum(|d| d.reviews_approved),
            subscribers: self.plans.iter().map(|p| p.subscribers).sum(),
            mrr_cents: self.plans.iter().map(|p| p.mrr_cents).sum(),
            rec_shown,
            rec_clicked,
            rec_ctr_bp: ratio_bp(rec_clicked, rec_shown),
            pricing_effect_cents: revenue_cents - base_revenue_cents,
            base_revenue_cents,
        }
    }

    /// The report's tables, each shown behind its charts and downloadable as CSV.
    pub fn table(&self, which: TableName) -> Table {
        let money = |cents: i64| Money::from_cents(cents).to_string();
        match which {
            TableName::Daily => Table {
                name: which,
                header: vec![
                    "date",
                    "sessions",
                    "new",
                    "returning",
                    "visitors",
                    "pages",
                    "bounces",
                    "avg_session_s",
                    "converted",
                    "orders",
                    "revenue",
                    "revenue_at_base",
                    "returned",
                    "points_issued",
                    "points_redeemed",
                    "reviews_submitted",
                    "reviews_approved",
                ],
                rows: self
                    .days
                    .iter()
                    .map(|d| {
                        vec![
                            format_utc_date(d.day * DAY_MS),
                            d.sessions.to_string(),
                            d.sessions_new.to_string(),
                            d.sessions_returning.to_string(),
                            d.visitors.to_string(),
                            d.pages.to_string(),
                            d.bounces.to_string(),
                            (if d.sessions > 0 { d.duration_ms / d.sessions / 1000 } else { 0 }).to_string(),
                            d.converted.to_string(),
                            d.orders.to_string(),
                            money(d.revenue_cents),
                            money(d.base_revenue_cents),
                            money(d.returned_cents),
                            d.points_issued.to_string(),
                            d.points_redeemed.to_string(),
                            d.reviews_submitted.to_string(),
                            d.reviews_approved.to_string(),
                        ]
                    })
                    .collect(),
            },
            TableName::Products => Table {
                name: which,
                header: vec!["sku", "name", "units", "revenue"],
                rows: self
                    .products
                    .iter()
                    .map(|p| vec![p.sku.clone(), p.name.clone(), p.units.to_string(), money(p.revenue_cents)])
                    .collect(),
            },
            TableName::Plans => Table {
                name: which,
                header: vec!["plan", "subscribers", "mrr"],
                rows: self
                    .plans
                    .iter()
                    .map(|p| vec![p.plan.clone(), p.subscribers.to_string(), money(p.mrr_cents)])
                    .collect(),
            },
            TableName::Recommendations => Table {
                name: which,
                header: vec!["kind", "shown", "clicked", "added", "ctr"],
                rows: self
                    .recommendations
                    .iter()
                    .map(|r| {
                        vec![
                            r.kind.clone(),
                            r.shown.to_string(),
                            r.clicked.to_string(),
                            r.added.to_string(),
                            format_bp(r.ctr_bp()),
                        ]
                    })
                    .collect(),
            },
        }
    }
}

/// The tables of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum TableName {
    Daily,
    Products,
    Plans,
    Recommendations,
}

impl TableName {
    pub const ALL: [TableName; 4] =
        [TableName::Daily, TableName::Products, TableName::Plans, TableName::Recommendations];

    pub fn key(self) -> &'static str {
        match self {
            TableName::Daily => "daily",
            TableName::Products => "products",
            TableName::Plans => "plans",
            TableName::Recommendations => "recommendations",
        }
    }

    pub fn parse(raw: &str) -> Option<TableName> {
        TableName::ALL.into_iter().find(|t| t.key() == raw)
    }
}

/// A table as text cells, with its header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub name: TableName,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: i64 = 60_000;

    fn run(touches: &[(i64, Touch)]) -> (Option<VisitorSession>, SessionDelta) {
        let mut state = None;
        let mut total = SessionDelta::default();
        for &(at, kind) in touches {
            let (next, delta) = touch(state, at, kind);
            state = Some(next);
            total.sessions += delta.sessions;
            total.sessions_new += delta.sessions_new;
            total.sessions_returning += delta.sessions_returning;
            total.pages += delta.pages;
            total.bounces += delta.bounces;
            total.duration_ms += delta.duration_ms;
            total.converted += delta.converted;
        }
        (state, total)
    }

    #[test]
    fn thirty_minutes_of_silence_start_a_new_session() {
        let t0 = 20_000 * DAY_MS;
        let (_, total) = run(&[
            (t0, Touch::Page),
            (t0 + 10 * MIN, Touch::Page),
            (t0 + 40 * MIN, Touch::Active),   // 30 minutes after the last: same session
            (t0 + 71 * MIN, Touch::Page),     // 31 minutes later: a new one
            (t0 + 72 * MIN, Touch::Purchase), // converts the second session
            (t0 + 73 * MIN, Touch::Purchase), // a second order converts nothing more
        ]);
        assert_eq!(total.sessions, 2);
        assert_eq!((total.sessions_new, total.sessions_returning), (1, 1));
        assert_eq!(total.pages, 3);
        assert_eq!(total.bounces, 1, "the second session saw one page");
        assert_eq!(total.duration_ms, 40 * MIN + 2 * MIN);
        assert_eq!(total.converted, 1);
    }

    #[test]
    fn a_session_belongs_to_the_day_it_started() {
        let late = 20_000 * DAY_MS + DAY_MS - MIN;
        let (_, first) = touch(None, late, Touch::Page);
        let (state, _) = touch(None, late, Touch::Page);
        let (_, second) = touch(Some(state), late + 2 * MIN, Touch::Page);
        assert_eq!(first.day, 20_000);
        assert_eq!(second.day, 20_000, "after midnight, still the session of the day before");
        assert_eq!(second.bounces, -1, "a second page undoes the bounce");
    }

    #[test]
    fn a_late_event_does_not_move_the_session_back() {
        let t0 = 20_000 * DAY_MS;
        let (state, _) = touch(None, t0 + 10 * MIN, Touch::Page);
        let (state, delta) = touch(Some(state), t0 + 5 * MIN, Touch::Active);
        assert_eq!(delta.duration_ms, 0);
        assert_eq!(state.last_at, t0 + 10 * MIN);
    }

    /// Sessions cut from the whole sorted history at once, the way a warehouse query would.
    fn batch(times: &[(i64, Touch)]) -> SessionDelta {
        let mut total = SessionDelta::default();
        let mut i = 0;
        while i < times.len() {
            let mut j = i + 1;
            while j < times.len() && times[j].0 - times[j - 1].0 <= SESSION_GAP_MS {
                j += 1;
            }
            let session = &times[i..j];
            let pages = session.iter().filter(|t| t.1 == Touch::Page).count() as i64;
            total.sessions += 1;
            total.sessions_new += i64::from(i == 0);
            total.sessions_returning += i64::from(i > 0);
            total.pages += pages;
            total.bounces += i64::from(pages == 1);
            total.duration_ms += session[session.len() - 1].0 - session[0].0;
            total.converted += i64::from(session.iter().any(|t| t.1 == Touch::Purchase));
            i = j;
        }
        total
    }

    proptest! {
        /// Applying events one at a time, as the consumer does, gives the same totals as
        /// sessionizing the whole history at once.
        #[test]
        fn incremental_sessions_match_a_batch_sessionization(
            gaps in prop::collection::vec((0i64..90 * MIN, 0u8..3), 1..60)
        ) {
            let mut at = 20_000 * DAY_MS;
            let touches: Vec<(i64, Touch)> = gaps
                .iter()
                .map(|&(gap, kind)| {
                    at += gap;
                    (at, [Touch::Page, Touch::Active, Touch::Purchase][kind as usize])
                })
                .collect();
            let (_, incremental) = run(&touches);
            let mut expected = batch(&touches);
            expected.day = 0;
            let mut got = incremental;
            got.day = 0;
            prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn ranges_from_presets_and_dates() {
        let today = 20_000;
        assert_eq!(DateRange::parse(None, None, None, today).unwrap(), DateRange { from: 19_971, to: 20_000 });
        assert_eq!(DateRange::parse(None, None, Some("7"), today).unwrap(), DateRange { from: 19_994, to: 20_000 });
        let range = DateRange::parse(Some("2026-11-01"), Some("2026-11-27"), None, today).unwrap();
        assert_eq!(range.days(), 27);
        assert_eq!(range.query(), "from=2026-11-01&to=2026-11-27");
        let field = |r: Result<DateRange, AppError>| match r {
            Err(AppError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(DateRange::parse(Some("2026-11-30"), Some("2026-11-01"), None, today)), "from");
        assert_eq!(field(DateRange::parse(Some("yesterday"), None, None, today)), "from");
        assert_eq!(field(DateRange::parse(Some("2026-11-01"), Some("2026-13-01"), None, today)), "to");
        assert_eq!(field(DateRange::parse(None, None, Some("0"), today)), "days");
        assert_eq!(field(DateRange::parse(None, None, Some("9999"), today)), "days");
        assert_eq!(field(DateRange::parse(Some("2020-01-01"), Some("2026-01-01"), None, today)), "from");
    }

    #[test]
    fn kpis_derive_from_the_days() {
        let day = |sessions, converted, revenue, base| DayRow {
            sessions,
            converted,
            revenue_cents: revenue,
            base_revenue_cents: base,
            orders: converted,
            pages: sessions * 3,
            bounces: sessions / 2,
            duration_ms: sessions * 120_000,
            ..DayRow::default()
        };
        let report = Report {
            range: DateRange { from: 1, to: 2 },
            days: vec![day(100, 4, 40_000, 42_000), day(300, 8, 80_000, 78_000)],
            unique_visitors: 250,
            products: vec![],
            plans: vec![PlanRow { plan: "basic".into(), subscribers: 3, mrr_cents: 1497 }],
            recommendations: vec![RecRow { kind: "upsell".into(), shown: 400, clicked: 10, added: 2 }],
        };
        let kpis = report.kpis();
        assert_eq!(kpis.revenue_cents, 120_000);
        assert_eq!(kpis.aov_cents, 10_000);
        assert_eq!(kpis.conversion_bp, 300, "12 of 400 sessions = 3 %");
        assert_eq!(kpis.revenue_per_visitor_cents, 480);
        assert_eq!(kpis.pages_per_session_x100, 300);
        assert_eq!(kpis.avg_session_ms, 120_000);
        assert_eq!(kpis.bounce_rate_bp, 5000);
        assert_eq!(kpis.rec_ctr_bp, 250);
        assert_eq!(kpis.pricing_effect_cents, 0);
        assert_eq!(format_bp(kpis.conversion_bp), "3.00 %");
        assert_eq!(format_duration(kpis.avg_session_ms), "2 min 00 s");
        let daily = report.table(TableName::Daily);
        assert_eq!(daily.rows.len(), 2);
        assert_eq!(daily.rows[0].len(), daily.header.len());
    }

    #[test]
    fn an_empty_report_divides_by_nothing() {
        let report = Report {
            range: DateRange { from: 1, to: 1 },
            days: vec![DayRow { day: 1, ..DayRow::default() }],
            unique_visitors: 0,
            products: vec![],
            plans: vec![],
            recommendations: vec![],
        };
        let kpis = report.kpis();
        assert_eq!((kpis.aov_cents, kpis.conversion_bp, kpis.revenue_per_visitor_cents), (0, 0, 0));
    }
}
