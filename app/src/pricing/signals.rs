//! Pricing signals beyond stock (server only): the daily sales buckets behind sales velocity
//! (the `velocity` consumer of `order_placed`, and the periodic review that notices a product
//! has stopped selling), competitor offers (the all-or-nothing import), and the last 30 days
//! of signals a simulation replays.

use super::api::OfferView;
use super::domain::{PriceCause, SignalEvent, SimStart, MS_PER_DAY};
use super::offers::{CompetitorOffer, OfferProblem};
use super::ssr::reprice_many;
use crate::db::{params, value_rows, Backend, Db};
use crate::events::{self, Event};
use crate::shared::{now_ms, AppError};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use std::collections::{HashMap, HashSet};

/// The outbox consumer that keeps `sales_daily` and reprices what sold.
pub const VELOCITY_CONSUMER: &str = "velocity";

/// The window a simulation replays.
pub const SIMULATION_WINDOW_MS: i64 = 30 * MS_PER_DAY;

#[derive(Deserialize)]
struct OrderLinePayload {
    sku: String,
    quantity: i64,
}

#[derive(Deserialize)]
struct OrderPlacedPayload {
    lines: Vec<OrderLinePayload>,
}

/// Adds `units` to each product's bucket for `day` (days since the epoch), on `conn`.
pub async fn record_sales(conn: &mut AnyConnection, day: i64, lines: &[(String, i64)]) -> Result<(), sqlx::Error> {
    for (sku, units) in lines {
        sqlx::query(
            "INSERT INTO sales_daily (sku, day, units) VALUES ($1, $2, $3) \
             ON CONFLICT (sku, day) DO UPDATE SET units = sales_daily.units + $3",
        )
        .bind(sku)
        .bind(day)
        .bind((*units).max(0))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Outbox consumer: `order_placed` (and a post-purchase add-on, `order_addon_added`) adds
/// its units to the day's buckets and reprices those products (their velocity moved).
/// Increments are applied once per event by the outbox.
pub async fn apply_velocity(conn: &mut AnyConnection, backend: Backend, event: &Event) -> Result<(), sqlx::Error> {
    if event.kind != events::kind::ORDER_PLACED && event.kind != events::kind::ORDER_ADDON_ADDED {
        return Ok(());
    }
    let payload: OrderPlacedPayload =
        serde_json::from_value(event.payload.clone()).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let lines: Vec<(String, i64)> = payload.lines.into_iter().map(|line| (line.sku, line.quantity)).collect();
    record_sales(conn, event.created_at.div_euclid(MS_PER_DAY), &lines).await?;
    let skus: Vec<String> = lines.into_iter().map(|(sku, _)| sku).collect();
    reprice_many(conn, backend, &skus, Some(PriceCause::Velocity)).await?;
    Ok(())
}

/// Recomputes the sales buckets from the order lines (the seed and imported history).
pub async fn rebuild_sales(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sales_daily").execute(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO sales_daily (sku, day, units) \
         SELECT l.sku, o.created_at / 86400000, CAST(SUM(l.quantity) AS BIGINT) \
         FROM order_lines l JOIN orders o ON o.id = l.order_id GROUP BY l.sku, o.created_at / 86400000",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Reprices every product from its current signals: time alone turns a product into a slow
/// mover and an offer stale, without any event. Only changed prices are written. Returns
/// the number of changes.
#[tracing::instrument(name = "pricing.review_signals", skip(db))]
pub async fn review_signals(db: &Db) -> Result<usize, AppError> {
    let mut tx = db.begin_write().await?;
    let skus: Vec<String> = sqlx::query_scalar("SELECT sku FROM products ORDER BY sku").fetch_all(&mut *tx).await?;
    let changes = reprice_many(&mut tx, db.backend(), &skus, None).await?;
    tx.commit().await?;
    if !changes.is_empty() {
        db.wake_outbox();
    }
    Ok(changes.len())
}

/// The periodic review, every `every` until shutdown.
pub async fn run_review(db: Db, every: std::time::Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => break,
            _ = tokio::time::sleep(every) => {},
        }
        match review_signals(&db).await {
            Ok(n_changed) => tracing::debug!(n_changed, "pricing signals reviewed"),
            Err(error) => tracing::warn!(%error, "pricing review failed; retrying at the next interval"),
        }
    }
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportSummary {
    pub imported: usize,
    pub products: usize,
    pub repriced: usize,
}

/// Why an import wrote nothing.
#[derive(Debug)]
pub enum ImportError {
    /// A row names a product the shop does not have.
    Row(OfferProblem),
    App(AppError),
}

impl From<sqlx::Error> for ImportError {
    fn from(error: sqlx::Error) -> ImportError {
        ImportError::App(error.into())
    }
}

/// Rows per multi-row insert (five parameters each).
const ROWS_PER_INSERT: usize = 200;

/// Imports parsed offers in one write transaction: every SKU must exist (else nothing is
/// written and the first unknown row is named), each (sku, source) keeps its most recently
/// observed offer, every offer goes to the log, and the products concerned are repriced in
/// the same transaction (cause `competitor`).
#[tracing::instrument(name = "pricing.import_offers", skip(db, offers), fields(n_offers = offers.len()))]
pub async fn import_offers(db: &Db, offers: &[CompetitorOffer]) -> Result<ImportSummary, ImportError> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let mut skus: Vec<String> = offers.iter().map(|offer| offer.sku.as_str().to_string()).collect();
    skus.sort();
    skus.dedup();
    let mut known: HashSet<String> = HashSet::with_capacity(skus.len());
    for chunk in skus.chunks(400) {
        let sql = format!("SELECT sku FROM products WHERE sku IN ({})", params(1, chunk.len()));
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for sku in chunk {
            query = query.bind(sku.as_str());
        }
        known.extend(query.fetch_all(&mut *tx).await?);
    }
    if let Some((index, offer)) = offers.iter().enumerate().find(|(_, offer)| !known.contains(offer.sku.as_str())) {
        return Err(ImportError::Row(OfferProblem {
            row: index + 1,
            field: "sku".into(),
            message: format!("No product with SKU '{}'.", offer.sku),
        }));
    }

    // A multi-row upsert may not touch one key twice: keep each key's latest observation.
    let mut latest: HashMap<(&str, &str), &CompetitorOffer> = HashMap::new();
    for offer in offers {
        let key = (offer.sku.as_str(), offer.source.as_str());
        match latest.get(&key) {
            Some(kept) if kept.observed_at_ms > offer.observed_at_ms => {}
            _ => {
                latest.insert(key, offer);
            }
        }
    }
    let mut upserts: Vec<&CompetitorOffer> = latest.into_values().collect();
    upserts.sort_by(|a, b| (a.sku.as_str(), a.source.as_str()).cmp(&(b.sku.as_str(), b.source.as_str())));
    for chunk in upserts.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO competitor_offers (sku, source, price_cents, observed_at, imported_at) VALUES {} \
             ON CONFLICT (sku, source) DO UPDATE SET price_cents = excluded.price_cents, \
             observed_at = excluded.observed_at, imported_at = excluded.imported_at \
             WHERE excluded.observed_at >= competitor_offers.observed_at",
            value_rows(1, chunk.len(), 5)
        );
        let mut query = sqlx::query(&sql);
        for offer in chunk {
            query = query
                .bind(offer.sku.as_str())
                .bind(&offer.source)
                .bind(offer.price_cents)
                .bind(offer.observed_at_ms)
                .bind(now);
        }
        query.execute(&mut *tx).await?;
    }
    for chunk in offers.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO competitor_offer_log (sku, source, price_cents, observed_at, imported_at) VALUES {}",
            value_rows(1, chunk.len(), 5)
        );
        let mut query = sqlx::query(&sql);
        for offer in chunk {
            query = query
                .bind(offer.sku.as_str())
                .bind(&offer.source)
                .bind(offer.price_cents)
                .bind(offer.observed_at_ms)
                .bind(now);
        }
        query.execute(&mut *tx).await?;
    }
    let changes = reprice_many(&mut tx, db.backend(), &skus, Some(PriceCause::Competitor)).await?;
    tx.commit().await?;
    db.wake_outbox();
    metrics::counter!("mercato_competitor_offers_imported_total").increment(offers.len() as u64);
    Ok(ImportSummary { imported: offers.len(), products: skus.len(), repriced: changes.len() })
}

pub async fn offers_for(db: &Db, sku: &str) -> Result<Vec<OfferView>, AppError> {
    let rows = sqlx::query(
        "SELECT source, price_cents, observed_at FROM competitor_offers WHERE sku = $1 ORDER BY price_cents, source",
    )
    .bind(sku)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(OfferView {
                source: row.try_get("source")?,
                price_cents: row.try_get("price_cents")?,
                observed_at: row.try_get("observed_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(AppError::from)
}

/// The product's state 30 days before `now` and the signals since, for [`super::domain::simulate`]:
/// orders (units per order line), recorded stock levels (`stock_changed`) and imported offers.
#[tracing::instrument(name = "pricing.simulation_inputs", skip(db))]
pub async fn simulation_inputs(db: &Db, sku: &str, now: i64) -> Result<(SimStart, Vec<SignalEvent>), AppError> {
    let from = now - SIMULATION_WINDOW_MS;
    let pool = db.pool();
    let product =
        sqlx::query("SELECT base_cents, cost_cents, stock, price_cents, created_at FROM products WHERE sku = $1")
            .bind(sku)
            .fetch_optional(pool)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("product '{sku}'")))?;
    let mut events = Vec::new();
    let orders = sqlx::query(
        "SELECT o.created_at, l.quantity FROM order_lines l JOIN orders o ON o.id = l.order_id \
         WHERE l.sku = $1 AND o.created_at >= $2 ORDER BY o.created_at",
    )
    .bind(sku)
    .bind(from)
    .fetch_all(pool)
    .await?;
    for row in &orders {
        events.push(SignalEvent::Order { at_ms: row.try_get("created_at")?, units: row.try_get("quantity")? });
    }
    let stock_rows = sqlx::query(
        "SELECT created_at, payload FROM domain_events WHERE kind = $1 AND aggregate = $2 AND created_at >= $3 ORDER BY id",
    )
    .bind(events::kind::STOCK_CHANGED)
    .bind(sku)
    .bind(from)
    .fetch_all(pool)
    .await?;
    let mut start_stock: Option<i64> = None;
    for row in &stock_rows {
        let payload: String = row.try_get("payload")?;
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&payload) else { continue };
        let (Some(stock), previous) = (value["stock"].as_i64(), value["previous"].as_i64()) else { continue };
        // The first change in the window says what the stock was when it opened.
        start_stock = start_stock.or(previous);
        events.push(SignalEvent::Stock { at_ms: row.try_get("created_at")?, stock });
    }
    let offer_rows = sqlx::query(
        "SELECT source, price_cents, observed_at, imported_at FROM competitor_offer_log \
         WHERE sku = $1 AND imported_at >= $2 ORDER BY id",
    )
    .bind(sku)
    .bind(from)
    .fetch_all(pool)
    .await?;
    for row in &offer_rows {
        events.push(SignalEvent::Offer {
            at_ms: row.try_get("imported_at")?,
            source: row.try_get("source")?,
            price_cents: row.try_get("price_cents")?,
            observed_at_ms: row.try_get("observed_at")?,
        });
    }
    let price_at_start: Option<i64> = sqlx::query_scalar(
        "SELECT price_cents FROM price_history WHERE sku = $1 AND created_at < $2 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(sku)
    .bind(from)
    .fetch_optional(pool)
    .await?;
    let from_day = from.div_euclid(MS_PER_DAY);
    let prior_sales = sqlx::query_as::<_, (i64, i64)>(
        "SELECT day, units FROM sales_daily WHERE sku = $1 AND day > $2 AND day < $3 ORDER BY day",
    )
    .bind(sku)
    .bind(from_day - 90)
    .bind(from_day)
    .fetch_all(pool)
    .await?;
    let base_cents: i64 = product.try_get("base_cents")?;
    let start = SimStart {
        base_cents,
        cost_cents: product.try_get("cost_cents")?,
        stock: start_stock.unwrap_or(product.try_get("stock")?),
        price_cents: price_at_start.unwrap_or(base_cents),
        from_ms: from,
        to_ms: now,
        listed_at_ms: product.try_get("created_at")?,
        prior_sales,
    };
    Ok((start, events))
}
