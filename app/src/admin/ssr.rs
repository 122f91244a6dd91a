//! Analytics storage: the `analytics` outbox consumer that keeps the daily rollups, the bulk
//! writer the demo seed and the benchmark use for imported history, and the report query.

use super::domain::{day_of, metric, DateRange, DayRow, PlanRow, ProductRow, RecRow, Report, Rollup, Touch};
use crate::db::{Backend, Db};
use crate::events::{kind, Event};
use crate::shared::{AppError, DAY_MS};
use serde::Deserialize;
use sqlx::{AnyConnection, Row};

pub const ANALYTICS_CONSUMER: &str = "analytics";
/// Rows per multi-row statement when writing a rollup.
const CHUNK: usize = 200;

#[derive(Deserialize)]
struct VisitorPayload {
    visitor_id: String,
    /// Client events carry the time the server received them.
    at: Option<i64>,
    /// A client event's own kind (`page_view`, `heartbeat`, `click`, …).
    kind: Option<String>,
}

#[derive(Deserialize)]
struct OrderPayload {
    #[serde(default)]
    visitor_id: String,
    total_cents: i64,
    /// Absent in events written before it existed: those count at the prices charged.
    base_total_cents: Option<i64>,
    lines: Vec<OrderLinePayload>,
}

#[derive(Deserialize)]
struct AddonPayload {
    sku: String,
    unit_cents: i64,
}

#[derive(Deserialize)]
struct OrderLinePayload {
    sku: String,
    quantity: i64,
    unit_cents: i64,
}

#[derive(Deserialize)]
struct ReturnPayload {
    #[serde(default)]
    total_cents: i64,
}

#[derive(Deserialize)]
struct ReviewPayload {
    #[serde(default)]
    edited: bool,
}

#[derive(Deserialize)]
struct RecPayload {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    skus: Vec<String>,
    /// Identical events of one flush are merged into one with their number.
    #[serde(default = "one")]
    count: i64,
}

fn one() -> i64 {
    1
}

/// Applies one event to the rollups, in the delivery's transaction (so exactly once).
pub async fn apply_analytics(conn: &mut AnyConnection, backend: Backend, event: &Event) -> Result<(), sqlx::Error> {
    let mut rollup = Rollup::default();
    let visitor = match event.kind.as_str() {
        kind::CLIENT_EVENT | kind::PRODUCT_VIEWED | kind::ORDER_PLACED => {
            event.payload.get("visitor_id").and_then(|v| v.as_str())
        }
        _ => None,
    };
    if let Some(visitor) = visitor {
        load_visitor(conn, backend, &mut rollup, visitor).await?;
    }
    fold(&mut rollup, event).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    write(conn, &rollup).await
}

/// What one event adds to a rollup. The visitor's session must be in the rollup already
/// (loaded from the database, or kept in memory across a whole history).
pub fn fold(rollup: &mut Rollup, event: &Event) -> Result<(), serde_json::Error> {
    let day = day_of(event.created_at);
    match event.kind.as_str() {
        kind::CLIENT_EVENT | kind::PRODUCT_VIEWED => {
            let visit: VisitorPayload = serde_json::from_value(event.payload.clone())?;
            // A server-side product view is activity, not a page: with JavaScript on, the
            // browser reports the same page view itself.
            let touch = if visit.kind.as_deref() == Some("page_view") { Touch::Page } else { Touch::Active };
            rollup.touch(&visit.visitor_id, visit.at.unwrap_or(event.created_at), touch);
        }
        kind::ORDER_PLACED => {
            let order: OrderPayload = serde_json::from_value(event.payload.clone())?;
            let lines: Vec<(String, i64, i64)> =
                order.lines.into_iter().map(|l| (l.sku, l.quantity, l.unit_cents)).collect();
            let base = order.base_total_cents.unwrap_or(order.total_cents);
            rollup.order(&order.visitor_id, event.created_at, order.total_cents, base, &lines);
        }
        // Revenue and units of the product, but no new order and no new conversion: the
        // shopper had already bought.
        kind::ORDER_ADDON_ADDED => {
            let addon: AddonPayload = serde_json::from_value(event.payload.clone())?;
            rollup.addon(event.created_at, &addon.sku, addon.unit_cents);
        }
        kind::ORDER_CANCELLED | kind::ORDER_REFUNDED => {
            let returned: ReturnPayload = serde_json::from_value(event.payload.clone())?;
            rollup.count(day, metric::RETURNED, "", returned.total_cents);
        }
        kind::REVIEW_SUBMITTED => {
            let review: ReviewPayload = serde_json::from_value(event.payload.clone())?;
            // A rewrite goes back to moderation but is not a new review.
            if !review.edited {
                rollup.count(day, metric::REVIEWS_SUBMITTED, "", 1);
            }
        }
        kind::REVIEW_APPROVED => rollup.count(day, metric::REVIEWS_APPROVED, "", 1),
        kind::RECOMMENDATION_SHOWN => {
            let shown: RecPayload = serde_json::from_value(event.payload.clone())?;
            for kind in &shown.kinds {
                rollup.count(day, metric::REC_SHOWN, kind, shown.count);
            }
        }
        kind::RECOMMENDATION_CLICKED => {
            let click: RecPayload = serde_json::from_value(event.payload.clone())?;
            rollup.count(day, metric::REC_CLICKED, &click.kind, click.count);
        }
        kind::RECOMMENDATION_ADDED => {
            let added: RecPayload = serde_json::from_value(event.payload.clone())?;
            rollup.count(day, metric::REC_ADDED, &added.kind, added.skus.len() as i64 * added.count);
        }
        _ => {}
    }
    Ok(())
}

/// Reads a visitor's stored session into the rollup (locked on PostgreSQL, so two servers
/// applying events of one visitor take turns).
async fn load_visitor(
    conn: &mut AnyConnection,
    backend: Backend,
    rollup: &mut Rollup,
    visitor_id: &str,
) -> Result<(), sqlx::Error> {
    if visitor_id.is_empty() {
        return Ok(());
    }
    if backend == Backend::Postgres {
        // A row to lock even for a visitor not seen yet (`sessions = 0` means none): two
        // servers applying a new visitor's first events wait for each other here instead of
        // both starting a session.
        sqlx::query(
            "INSERT INTO analytics_visitors (visitor_id, started_at, last_at, pages, purchased, sessions) \
             VALUES ($1, 0, 0, 0, 0, 0) ON CONFLICT DO NOTHING",
        )
        .bind(visitor_id)
        .execute(&mut *conn)
        .await?;
    }
    let row = sqlx::query(&format!(
        "SELECT started_at, last_at, pages, purchased, sessions FROM analytics_visitors WHERE visitor_id = $1{}",
        backend.for_update()
    ))
    .bind(visitor_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = row {
        let (purchased, sessions): (i64, i64) = (row.try_get("purchased")?, row.try_get("sessions")?);
        if sessions == 0 {
            return Ok(());
        }
        rollup.visitors.insert(
            visitor_id.to_string(),
            super::domain::VisitorSession {
                started_at: row.try_get("started_at")?,
                last_at: row.try_get("last_at")?,
                pages: row.try_get("pages")?,
                purchased: purchased != 0,
                sessions,
            },
        );
    }
    Ok(())
}

/// Adds a rollup to the stored one: visitor-days first (a day's unique visitors grow only by
/// the pairs not seen before), then the daily counters, then the visitors' sessions.
pub async fn write(conn: &mut AnyConnection, rollup: &Rollup) -> Result<(), sqlx::Error> {
    let mut daily = rollup.daily.clone();
    let visitor_days: Vec<&(i64, String)> = rollup.visitor_days.iter().collect();
    for chunk in visitor_days.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO analytics_visitor_days (day, visitor_id) VALUES {} ON CONFLICT DO NOTHING RETURNING day",
            crate::db::value_rows(1, chunk.len(), 2)
        );
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for (day, visitor) in chunk {
            query = query.bind(*day).bind(visitor.as_str());
        }
        for day in query.fetch_all(&mut *conn).await? {
            *daily.entry((day, metric::VISITORS, String::new())).or_insert(0) += 1;
        }
    }
    let counters: Vec<(&(i64, &'static str, String), &i64)> = daily.iter().collect();
    for chunk in counters.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO analytics_daily (day, metric, dim, value) VALUES {} \
             ON CONFLICT (day, metric, dim) DO UPDATE SET value = analytics_daily.value + excluded.value",
            crate::db::value_rows(1, chunk.len(), 4)
        );
        let mut query = sqlx::query(&sql);
        for ((day, metric, dim), value) in chunk {
            query = query.bind(*day).bind(*metric).bind(dim.as_str()).bind(**value);
        }
        query.execute(&mut *conn).await?;
    }
    let visitors: Vec<_> = rollup.visitors.iter().collect();
    for chunk in visitors.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO analytics_visitors (visitor_id, started_at, last_at, pages, purchased, sessions) VALUES {} \
             ON CONFLICT (visitor_id) DO UPDATE SET started_at = excluded.started_at, last_at = excluded.last_at, \
             pages = excluded.pages, purchased = excluded.purchased, sessions = excluded.sessions",
            crate::db::value_rows(1, chunk.len(), 6)
        );
        let mut query = sqlx::query(&sql);
        for (visitor, session) in chunk {
            query = query
                .bind(visitor.as_str())
                .bind(session.started_at)
                .bind(session.last_at)
                .bind(session.pages)
                .bind(i64::from(session.purchased))
                .bind(session.sessions);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The report for a range: daily rollups, unique visitors, best sellers, points flow, plans
/// and recommendation click-through. A handful of indexed reads, whatever the event volume.
#[tracing::instrument(name = "analytics.report", skip(db))]
pub async fn report(db: &Db, range: DateRange) -> Result<Report, AppError> {
    let mut days: Vec<DayRow> = (range.from..=range.to).map(|day| DayRow { day, ..DayRow::default() }).collect();
    let mut products: std::collections::HashMap<String, (i64, i64)> = Default::default();
    let mut recs: Vec<RecRow> = crate::recommendations::domain::Kind::ALL
        .iter()
        .map(|k| RecRow { kind: k.key().to_string(), ..RecRow::default() })
        .collect();
    let rows = sqlx::query("SELECT day, metric, dim, value FROM analytics_daily WHERE day >= $1 AND day <= $2")
        .bind(range.from)
        .bind(range.to)
        .fetch_all(db.pool())
        .await?;
    for row in &rows {
        let (day, name, dim, value): (i64, String, String, i64) =
            (row.try_get("day")?, row.try_get("metric")?, row.try_get("dim")?, row.try_get("value")?);
        match name.as_str() {
            metric::PRODUCT_UNITS => products.entry(dim).or_default().0 += value,
            metric::PRODUCT_REVENUE => products.entry(dim).or_default().1 += value,
            metric::REC_SHOWN | metric::REC_CLICKED | metric::REC_ADDED => {
                if let Some(rec) = recs.iter_mut().find(|r| r.kind == dim) {
                    match name.as_str() {
                        metric::REC_SHOWN => rec.shown += value,
                        metric::REC_CLICKED => rec.clicked += value,
                        _ => rec.added += value,
                    }
                }
            }
            _ => days[(day - range.from) as usize].add(&name, value),
        }
    }
    for (day, issued, redeemed) in crate::loyalty::ssr::points_flow(db, range.from * DAY_MS, (range.to + 1) * DAY_MS)
        .await?
        .into_iter()
        .map(|flow| (flow.day, flow.issued, flow.redeemed))
    {
        if let Some(row) = days.get_mut((day - range.from) as usize) {
            row.points_issued += issued;
            row.points_redeemed += redeemed;
        }
    }
    let unique_visitors: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT visitor_id) FROM analytics_visitor_days WHERE day >= $1 AND day <= $2",
    )
    .bind(range.from)
    .bind(range.to)
    .fetch_one(db.pool())
    .await?;
    let mut top: Vec<(String, (i64, i64))> = products.into_iter().collect();
    top.sort_by(|a, b| b.1 .1.cmp(&a.1 .1).then(b.1 .0.cmp(&a.1 .0)).then(a.0.cmp(&b.0)));
    top.truncate(super::domain::TOP_PRODUCTS);
    let names = product_names(db, top.iter().map(|(sku, _)| sku.as_str())).await?;
    let products = top
        .into_iter()
        .map(|(sku, (units, revenue_cents))| ProductRow {
            name: names.get(&sku).cloned().unwrap_or_else(|| sku.clone()),
            sku,
            units,
            revenue_cents,
        })
        .collect();
    let mut plans: Vec<PlanRow> = Vec::new();
    for version in crate::plans::ssr::version_stats(db).await? {
        match plans.iter_mut().find(|p| p.plan == version.plan) {
            Some(plan) => {
                plan.subscribers += version.subscribers;
                plan.mrr_cents += version.mrr_cents;
            }
            None => plans.push(PlanRow {
                plan: version.plan,
                subscribers: version.subscribers,
                mrr_cents: version.mrr_cents,
            }),
        }
    }
    Ok(Report { range, days, unique_visitors, products, plans, recommendations: recs })
}

async fn product_names<'a>(
    db: &Db,
    skus: impl Iterator<Item = &'a str>,
) -> Result<std::collections::HashMap<String, String>, sqlx::Error> {
    let skus: Vec<&str> = skus.collect();
    if skus.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!("SELECT sku, name FROM products WHERE sku IN ({})", crate::db::params(1, skus.len()));
    let mut query = sqlx::query(&sql);
    for sku in &skus {
        query = query.bind(*sku);
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter().map(|row| Ok((row.try_get("sku")?, row.try_get("name")?))).collect()
}

/// Imported history (the demo seed): orders after `after_order_id` already in the database,
/// and sessions around them from visitors' page views, into one rollup. Orders are read in time order so
/// sessions are cut the same way the consumer cuts live ones.
pub async fn rollup_imported_orders(
    conn: &mut AnyConnection,
    rollup: &mut Rollup,
    after_order_id: i64,
    visitor_of_user: impl Fn(i64) -> String,
) -> Result<(), sqlx::Error> {
    let orders = sqlx::query(
        "SELECT o.id, o.user_id, o.total_cents, o.created_at, \
         CAST(COALESCE(SUM(l.quantity * p.base_cents), 0) AS BIGINT) AS base_cents \
         FROM orders o JOIN order_lines l ON l.order_id = o.id JOIN products p ON p.sku = l.sku \
         WHERE o.id > $1 GROUP BY o.id, o.user_id, o.total_cents, o.created_at ORDER BY o.created_at, o.id",
    )
    .bind(after_order_id)
    .fetch_all(&mut *conn)
    .await?;
    let lines = sqlx::query(
        "SELECT order_id, sku, quantity, unit_cents FROM order_lines WHERE order_id > $1 ORDER BY order_id, sku",
    )
    .bind(after_order_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_order: std::collections::HashMap<i64, Vec<(String, i64, i64)>> = Default::default();
    for line in &lines {
        by_order.entry(line.try_get("order_id")?).or_default().push((
            line.try_get("sku")?,
            line.try_get("quantity")?,
            line.try_get("unit_cents")?,
        ));
    }
    for order in &orders {
        let id: i64 = order.try_get("id")?;
        let user_id: i64 = order.try_get("user_id")?;
        let visitor = visitor_of_user(user_id);
        let at: i64 = order.try_get("created_at")?;
        // The shopper browsed a few pages before buying.
        for minutes_before in [9, 6, 2] {
            rollup.touch(&visitor, at - minutes_before * 60_000, Touch::Page);
        }
        let lines = by_order.remove(&id).unwrap_or_default();
        rollup.order(&visitor, at, order.try_get("total_cents")?, order.try_get("base_cents")?, &lines);
    }
    Ok(())
}
