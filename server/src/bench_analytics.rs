//! The dashboard at scale, for `./x bench` (`mercato bench-analytics`, a hidden subcommand,
//! on the database `DATABASE_URL` names; give it a fresh one). Prints one JSON object:
//!
//! - The demo shop is seeded (catalog, shoppers, 400 orders, reviews).
//! - `events` synthetic events over the last 90 days are written to the event log: visitors'
//!   sessions of 1–6 pages (the browser's page views and heartbeats, the server's product
//!   views and the recommendation blocks shown on them), some recommendation clicks, and an
//!   order in about one session in thirty. They are folded into the rollups in time order by
//!   `admin::ssr::fold`, the consumer's own rule, and written at once (`fold_events_per_s`,
//!   `write_s`).
//! - `live_events_per_s`: 5,000 more events through the real outbox worker, one delivery
//!   per transaction, as a live shop applies them (`live_deliveries_per_s` counts every
//!   consumer's deliveries of them, the analytics consumer's among them).
//! - `dashboard_ms`: the dashboard's server time (the report's queries plus rendering its
//!   HTML) for the last 7, 30 and 90 days, p50 / p95 / max of 40 runs each after 5 warm-up
//!   runs; `report_ms` the queries alone.

use crate::sample::{summary, SplitMix64};
use app::admin::domain::{day_of, DateRange, Rollup};
use app::db::Db;
use app::events::{kind, Event};
use app::shared::{now_ms, DAY_MS};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::time::Instant;

const RUNS: usize = 40;
const WARM_UP: usize = 5;
const LIVE_EVENTS: usize = 5_000;
/// Events per transaction when writing the log.
const LOG_BATCH: usize = 10_000;

/// A generated event, compact until it is written.
enum Gen {
    Page(u32),
    Heartbeat(u32),
    View(u32, usize),
    Shown(u32, usize),
    Clicked(u32, usize),
    Order(u32, Vec<(usize, i64)>),
}

struct Products {
    skus: Vec<String>,
    prices: Vec<i64>,
    /// A seeded shopper: orders name a real account, as every consumer of them expects.
    buyer: i64,
}

fn event(id: i64, at: i64, generated: &Gen, products: &Products) -> Event {
    let visitor = |v: &u32| format!("bench-visitor-{v}");
    let (kind, payload) = match generated {
        Gen::Page(v) => {
            (kind::CLIENT_EVENT, json!({ "kind": "page_view", "path": "/", "visitor_id": visitor(v), "at": at }))
        }
        Gen::Heartbeat(v) => (
            kind::CLIENT_EVENT,
            json!({ "kind": "heartbeat", "path": "/", "visible_ms": 15_000, "visitor_id": visitor(v), "at": at }),
        ),
        Gen::View(v, p) => (kind::PRODUCT_VIEWED, json!({ "sku": products.skus[*p], "visitor_id": visitor(v) })),
        Gen::Shown(v, p) => (
            kind::RECOMMENDATION_SHOWN,
            json!({ "kinds": ["frequently_bought_together", "upsell"], "sku": products.skus[*p], "visitor_id": visitor(v) }),
        ),
        Gen::Clicked(v, p) => (
            kind::RECOMMENDATION_CLICKED,
            json!({ "kind": "frequently_bought_together", "sku": products.skus[*p], "from": "", "visitor_id": visitor(v) }),
        ),
        Gen::Order(v, lines) => {
            let total: i64 = lines.iter().map(|(p, q)| products.prices[*p] * q).sum();
            let lines: Vec<_> = lines
                .iter()
                .map(|(p, q)| json!({ "sku": products.skus[*p], "name": "", "quantity": q, "unit_cents": products.prices[*p] }))
                .collect();
            (
                kind::ORDER_PLACED,
                json!({ "order_id": 0, "user_id": products.buyer, "visitor_id": visitor(v), "total_cents": total,
                        "base_total_cents": total, "paid_cents": total, "points_redeemed": 0, "lines": lines }),
            )
        }
    };
    Event { id, kind: kind.to_string(), aggregate: String::new(), payload, created_at: at }
}

/// Sessions until there are `n` events, sorted by time.
fn generate(n: usize, products: &Products, now: i64, rng: &mut SplitMix64) -> Vec<(i64, Gen)> {
    let visitors = (n / 16).max(1) as u64;
    let span = 90 * DAY_MS as u64 - 3_600_000;
    let mut out = Vec::with_capacity(n + 64);
    while out.len() < n {
        let v = rng.below(visitors) as u32;
        let start = now - 3_600_000 - rng.below(span) as i64;
        let pages = 1 + rng.below(6) as i64;
        let mut at = start;
        for page in 0..pages {
            out.push((at, Gen::Page(v)));
            let product = rng.below(products.skus.len() as u64) as usize;
            if page > 0 {
                out.push((at, Gen::View(v, product)));
                out.push((at, Gen::Shown(v, product)));
                if rng.below(25) == 0 {
                    out.push((at + 5_000, Gen::Clicked(v, product)));
                }
            }
            out.push((at + 15_000, Gen::Heartbeat(v)));
            at += 20_000 + rng.below(60_000) as i64;
        }
        if rng.below(30) == 0 {
            let lines = (0..1 + rng.below(3))
                .map(|_| (rng.below(products.skus.len() as u64) as usize, 1 + rng.below(2) as i64))
                .collect();
            out.push((at, Gen::Order(v, lines)));
        }
    }
    out.sort_by_key(|(at, _)| *at);
    out
}

async fn write_log(db: &Db, events: &[Event], progress: &ProgressBar) -> anyhow::Result<()> {
    for batch in events.chunks(LOG_BATCH) {
        let mut tx = db.begin_write().await?;
        for chunk in batch.chunks(200) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${}, ${}, ${})", i * 4 + 1, i * 4 + 2, i * 4 + 3, i * 4 + 4))
                .collect();
            let sql = format!(
                "INSERT INTO domain_events (kind, aggregate, payload, created_at) VALUES {}",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for event in chunk {
                query = query
                    .bind(event.kind.as_str())
                    .bind(event.aggregate.as_str())
                    .bind(event.payload.to_string())
                    .bind(event.created_at);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        progress.inc(batch.len() as u64);
    }
    Ok(())
}

pub async fn run(database_url: &str, n_events: usize) -> anyhow::Result<()> {
    let db = Db::connect(database_url, 8).await?;
    db.migrate().await?;
    crate::seed::seed_demo(&db, 400, false).await?;
    app::events::worker::drain(&db).await?;
    let rows = sqlx::query("SELECT sku, price_cents FROM products ORDER BY sku").fetch_all(db.pool()).await?;
    let products = Products {
        skus: rows.iter().map(|r| sqlx::Row::try_get(r, "sku")).collect::<Result<_, _>>()?,
        prices: rows.iter().map(|r| sqlx::Row::try_get(r, "price_cents")).collect::<Result<_, _>>()?,
        buyer: sqlx::query_scalar("SELECT MIN(id) FROM users").fetch_one(db.pool()).await?,
    };
    let now = now_ms();
    let mut rng = SplitMix64(0xA11A_0001);
    let generated = generate(n_events, &products, now, &mut rng);
    let events: Vec<Event> =
        generated.iter().enumerate().map(|(i, (at, g))| event(i as i64 + 1, *at, g, &products)).collect();
    drop(generated);

    let progress = ProgressBar::new(events.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{spinner} events {pos}/{len} [{bar:40}] {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    write_log(&db, &events, &progress).await?;
    progress.finish_and_clear();

    let started = Instant::now();
    let mut rollup = Rollup::default();
    for event in &events {
        app::admin::ssr::fold(&mut rollup, event)?;
    }
    let fold_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut tx = db.begin_write().await?;
    app::admin::ssr::write(&mut tx, &rollup).await?;
    tx.commit().await?;
    let write_s = started.elapsed().as_secs_f64();
    drop(rollup);
    drop(events);

    // Live: through the outbox worker, one delivery per transaction.
    let live = generate(LIVE_EVENTS, &products, now, &mut rng);
    let mut tx = db.begin_write().await?;
    for (at, g) in live.iter().take(LIVE_EVENTS) {
        let event = event(0, *at, g, &products);
        app::events::publish(&mut tx, &event.kind, "bench", &event.payload).await?;
    }
    tx.commit().await?;
    let started = Instant::now();
    let applied = app::events::worker::drain(&db).await?;
    let live_s = started.elapsed().as_secs_f64();
    let analytics_deliveries: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM event_deliveries WHERE consumer = 'analytics'")
            .fetch_one(db.pool())
            .await?;

    let today = day_of(now);
    let mut dashboard = serde_json::Map::new();
    let mut report_only = serde_json::Map::new();
    for days in app::admin::domain::PRESETS {
        let range = DateRange::last(days, today);
        let mut total = Vec::with_capacity(RUNS);
        let mut queries = Vec::with_capacity(RUNS);
        for run in 0..WARM_UP + RUNS {
            let started = Instant::now();
            let report = app::admin::ssr::report(&db, range).await?;
            let queried = started.elapsed().as_secs_f64() * 1000.0;
            let html = app::admin::fragment::render(report, today, None);
            let elapsed = started.elapsed().as_secs_f64() * 1000.0;
            anyhow::ensure!(html.contains("revenue-chart"), "the dashboard rendered");
            if run >= WARM_UP {
                total.push(elapsed);
                queries.push(queried);
            }
        }
        dashboard.insert(format!("{days}d"), summary(&mut total));
        report_only.insert(format!("{days}d"), summary(&mut queries));
    }
    let report = app::admin::ssr::report(&db, DateRange::last(90, today)).await?;
    let kpis = report.kpis();
    let log_events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM domain_events").fetch_one(db.pool()).await?;
    let rollup_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM analytics_daily").fetch_one(db.pool()).await?;
    let visitor_days: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM analytics_visitor_days").fetch_one(db.pool()).await?;
    let out = json!({
        "backend": format!("{:?}", db.backend()).to_lowercase(),
        "events": n_events,
        "log_events": log_events,
        "rollup_rows": rollup_rows,
        "visitor_days": visitor_days,
        "fold_events_per_s": n_events as f64 / fold_s,
        "write_s": write_s,
        "live_events_per_s": LIVE_EVENTS as f64 / live_s,
        "live_deliveries_per_s": applied as f64 / live_s,
        "analytics_deliveries": analytics_deliveries,
        "dashboard_ms": dashboard,
        "report_ms": report_only,
        "sessions_90d": kpis.sessions,
        "orders_90d": kpis.orders,
        "conversion_bp_90d": kpis.conversion_bp,
    });
    println!("{out}");
    Ok(())
}
