//! Pricing storage and the pricing consumer (server only).

use super::api::{AuditEntry, PriceChangeRow, PricePoint};
use super::domain::{lowest_fresh_offer, quote, PriceCause, PriceInputs, RuleSet, Signals, MS_PER_DAY};
use crate::db::{params, value_rows, Backend, Db};
use crate::events::{self, Event};
use crate::shared::{now_ms, AppError};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// The outbox consumer that reprices products.
pub const PRICING_CONSUMER: &str = "pricing";

/// The Omnibus look-back window.
pub const OMNIBUS_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;

/// A rule scope: the whole shop, one category or one product. The most specific wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Global,
    Category(String),
    Product(String),
}

impl Scope {
    pub fn key(&self) -> String {
        match self {
            Scope::Global => "global".into(),
            Scope::Category(slug) => format!("category:{slug}"),
            Scope::Product(sku) => format!("product:{sku}"),
        }
    }

    pub fn parse(key: &str) -> Option<Scope> {
        match key.split_once(':') {
            None if key == "global" => Some(Scope::Global),
            Some(("category", slug)) if !slug.is_empty() => Some(Scope::Category(slug.to_string())),
            Some(("product", sku)) if !sku.is_empty() => Some(Scope::Product(sku.to_string())),
            _ => None,
        }
    }
}

/// `price_changed` as it travels through the outbox and the live price stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceChanged {
    pub sku: String,
    pub previous_cents: i64,
    pub amount_cents: i64,
    pub base_cents: i64,
    pub lowest_30d_cents: Option<i64>,
    pub reason: String,
}

async fn rules_for_scope(conn: &mut AnyConnection, scope: &Scope) -> Result<Option<RuleSet>, sqlx::Error> {
    let raw: Option<String> = sqlx::query_scalar("SELECT rules FROM pricing_rules WHERE scope = $1")
        .bind(scope.key())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(raw.and_then(|raw| parse_rules(&scope.key(), &raw)))
}

fn parse_rules(scope: &str, raw: &str) -> Option<RuleSet> {
    match serde_json::from_str(raw) {
        Ok(rules) => Some(rules),
        Err(error) => {
            tracing::error!(%error, scope, "unreadable pricing rules; ignoring them");
            None
        }
    }
}

/// The rules that apply to a product: its own, else its category's, else the shop's, else
/// the defaults.
pub async fn effective_rules(conn: &mut AnyConnection, sku: &str, category: &str) -> Result<RuleSet, sqlx::Error> {
    Ok(RuleBook::load(conn).await?.for_product(sku, category).clone())
}

/// Every saved rule set, read once per repricing batch (there are a handful of scopes, and
/// a batch may reprice every product).
pub struct RuleBook {
    by_scope: HashMap<String, RuleSet>,
    defaults: RuleSet,
}

impl RuleBook {
    pub async fn load(conn: &mut AnyConnection) -> Result<RuleBook, sqlx::Error> {
        let rows = sqlx::query("SELECT scope, rules FROM pricing_rules").fetch_all(&mut *conn).await?;
        let mut by_scope = HashMap::with_capacity(rows.len());
        for row in rows {
            let scope: String = row.try_get("scope")?;
            let raw: String = row.try_get("rules")?;
            if let Some(rules) = parse_rules(&scope, &raw) {
                by_scope.insert(scope, rules);
            }
        }
        Ok(RuleBook { by_scope, defaults: RuleSet::default() })
    }

    pub fn for_product(&self, sku: &str, category: &str) -> &RuleSet {
        [Scope::Product(sku.to_string()), Scope::Category(category.to_string()), Scope::Global]
            .iter()
            .find_map(|scope| self.by_scope.get(&scope.key()))
            .unwrap_or(&self.defaults)
    }
}

/// The longest trailing window a rule set may ask for (`velocity_window_days` is validated
/// to at most 90 and clamped there).
const MAX_WINDOW_DAYS: i64 = 90;

/// Products per query of a batch: few enough bind parameters for either backend.
const CHUNK: usize = 400;

/// Rows per multi-row write of a batch (at most five parameters each).
const WRITE_CHUNK: usize = 200;

/// Recomputes one product's price and, when it changes, records it (with `cause`) and
/// publishes `price_changed` — all on `conn`, the caller's transaction. Returns the change.
pub async fn reprice(
    conn: &mut AnyConnection,
    backend: Backend,
    sku: &str,
    cause: PriceCause,
) -> Result<Option<PriceChanged>, sqlx::Error> {
    Ok(reprice_many(conn, backend, &[sku.to_string()], Some(cause)).await?.pop())
}

/// What a batch knows about one product before pricing it.
struct Loaded {
    sku: String,
    category: String,
    base_cents: i64,
    cost_cents: i64,
    stock: i64,
    price_cents: i64,
    price_reason: String,
    created_at: i64,
    price_changed_at: Option<i64>,
}

/// Reprices `skus` on `conn` (the caller's transaction) from the current signals: a few
/// reads per 400 products (products, sales, offers, and the Omnibus reference of those whose
/// price falls), then per 200 changes one multi-row update, one multi-row history insert
/// and one multi-row `price_changed` append.
///
/// **Rationale:** a competitor batch reprices thousands of products at once; one query per
/// signal per product made that minutes of round trips, and even three statements per
/// change were 30,000 round trips for 10,000 products.
///
/// `cause` is recorded with each change; `None` (the periodic review) derives it per
/// product with [`PriceCause::of_review`].
pub async fn reprice_many(
    conn: &mut AnyConnection,
    backend: Backend,
    skus: &[String],
    cause: Option<PriceCause>,
) -> Result<Vec<PriceChanged>, sqlx::Error> {
    let book = RuleBook::load(conn).await?;
    let now = now_ms();
    let today = now.div_euclid(MS_PER_DAY);
    let mut sorted: Vec<&String> = skus.iter().collect();
    // Sorted so that two batches lock products in the same order (no deadlock).
    sorted.sort();
    sorted.dedup();
    let mut changes = Vec::new();
    for chunk in sorted.chunks(CHUNK) {
        let list = params(1, chunk.len());
        let lock = backend.for_update();
        let products_sql = format!(
            "SELECT sku, category_slug, base_cents, cost_cents, stock, price_cents, price_reason, created_at, \
             price_changed_at FROM products WHERE sku IN ({list}) ORDER BY sku{lock}"
        );
        let mut query =
            sqlx::query_as::<_, (String, String, i64, i64, i64, i64, String, i64, Option<i64>)>(&products_sql);
        for sku in chunk {
            query = query.bind(sku.as_str());
        }
        let products: Vec<Loaded> = query
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|row| Loaded {
                sku: row.0,
                category: row.1,
                base_cents: row.2,
                cost_cents: row.3,
                stock: row.4,
                price_cents: row.5,
                price_reason: row.6,
                created_at: row.7,
                price_changed_at: row.8,
            })
            .collect();
        if products.is_empty() {
            continue;
        }

        let sales_sql =
            format!("SELECT sku, day, units FROM sales_daily WHERE day > $1 AND sku IN ({})", params(2, chunk.len()));
        let mut sales_query = sqlx::query_as::<_, (String, i64, i64)>(&sales_sql).bind(today - MAX_WINDOW_DAYS);
        for sku in chunk {
            sales_query = sales_query.bind(sku.as_str());
        }
        let mut recent_sales: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
        for (sku, day, units) in sales_query.fetch_all(&mut *conn).await? {
            recent_sales.entry(sku).or_default().push((day, units));
        }
        let last_sale_sql = format!("SELECT sku, MAX(day) FROM sales_daily WHERE sku IN ({list}) GROUP BY sku");
        let mut last_sale_query = sqlx::query_as::<_, (String, Option<i64>)>(&last_sale_sql);
        for sku in chunk {
            last_sale_query = last_sale_query.bind(sku.as_str());
        }
        let last_sale: HashMap<String, i64> = last_sale_query
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .filter_map(|(sku, day)| Some((sku, day?)))
            .collect();
        let offers_sql = format!("SELECT sku, price_cents, observed_at FROM competitor_offers WHERE sku IN ({list})");
        let mut offers_query = sqlx::query_as::<_, (String, i64, i64)>(&offers_sql);
        for sku in chunk {
            offers_query = offers_query.bind(sku.as_str());
        }
        let mut offers: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
        for (sku, price_cents, observed_at) in offers_query.fetch_all(&mut *conn).await? {
            offers.entry(sku).or_default().push((price_cents, observed_at));
        }

        let mut quoted = Vec::with_capacity(products.len());
        for product in products {
            let rules = book.for_product(&product.sku, &product.category);
            let window = rules.velocity_window_days.clamp(1, MAX_WINDOW_DAYS);
            let units_in_window = recent_sales
                .get(&product.sku)
                .map(|days| days.iter().filter(|(day, _)| *day > today - window).map(|(_, units)| units).sum())
                .unwrap_or(0);
            let idle_since = last_sale.get(&product.sku).map(|day| day * MS_PER_DAY).unwrap_or(product.created_at);
            let signals = Signals {
                units_in_window,
                days_without_sale: (now - idle_since).max(0) / MS_PER_DAY,
                lowest_competitor_cents: lowest_fresh_offer(
                    offers.get(&product.sku).into_iter().flatten().copied(),
                    now,
                    rules.competitor_max_age_hours,
                ),
                now_ms: now,
                last_change_ms: product.price_changed_at,
            };
            let inputs = PriceInputs {
                base_cents: product.base_cents,
                cost_cents: product.cost_cents,
                stock: product.stock,
                current_cents: Some(product.price_cents),
                signals,
            };
            quoted.push((product, quote(&inputs, rules)));
        }

        let reduced: Vec<&str> = quoted
            .iter()
            .filter(|(product, new)| new.amount_cents < product.price_cents)
            .map(|(product, _)| product.sku.as_str())
            .collect();
        let references = lowest_prior_30d(conn, &reduced, now).await?;

        let mut reasons_only: Vec<(&'static str, String)> = Vec::new();
        let mut changed: Vec<(PriceChanged, PriceCause)> = Vec::new();
        for (product, new) in quoted {
            if new.amount_cents == product.price_cents {
                if new.reason.as_str() != product.price_reason {
                    reasons_only.push((new.reason.as_str(), product.sku));
                }
                continue;
            }
            let reference =
                if new.amount_cents < product.price_cents { references.get(&product.sku).copied() } else { None };
            let change = PriceChanged {
                sku: product.sku.clone(),
                previous_cents: product.price_cents,
                amount_cents: new.amount_cents,
                base_cents: product.base_cents,
                lowest_30d_cents: reference,
                reason: new.reason.as_str().to_string(),
            };
            let cause = cause.unwrap_or_else(|| PriceCause::of_review(&product.price_reason, new.reason));
            changed.push((change, cause));
        }
        for rows in reasons_only.chunks(WRITE_CHUNK) {
            let sql = format!(
                "UPDATE products SET price_reason = v.column1 FROM (VALUES {}) AS v WHERE products.sku = v.column2",
                value_rows(1, rows.len(), 2)
            );
            let mut query = sqlx::query(&sql);
            for (reason, sku) in rows {
                query = query.bind(*reason).bind(sku.as_str());
            }
            query.execute(&mut *conn).await?;
        }
        for rows in changed.chunks(WRITE_CHUNK) {
            let update_sql = format!(
                "UPDATE products SET price_cents = v.column2, price_reason = v.column3, \
                 reference_30d_cents = v.column4, updated_at = $1, price_changed_at = $1 \
                 FROM (VALUES {}) AS v WHERE products.sku = v.column1",
                value_rows(2, rows.len(), 4)
            );
            let mut update = sqlx::query(&update_sql).bind(now);
            for (change, _) in rows {
                update = update
                    .bind(change.sku.as_str())
                    .bind(change.amount_cents)
                    .bind(change.reason.as_str())
                    .bind(change.lowest_30d_cents);
            }
            update.execute(&mut *conn).await?;
            let history_sql = format!(
                "INSERT INTO price_history (sku, price_cents, reason, cause, created_at) VALUES {}",
                value_rows(1, rows.len(), 5)
            );
            let mut history = sqlx::query(&history_sql);
            for (change, cause) in rows {
                history = history
                    .bind(change.sku.as_str())
                    .bind(change.amount_cents)
                    .bind(change.reason.as_str())
                    .bind(cause.as_str())
                    .bind(now);
            }
            history.execute(&mut *conn).await?;
            let published: Vec<(&str, &PriceChanged)> =
                rows.iter().map(|(change, _)| (change.sku.as_str(), change)).collect();
            events::publish_many(conn, events::kind::PRICE_CHANGED, &published).await?;
        }
        changes.extend(changed.into_iter().map(|(change, _)| change));
    }
    metrics::counter!("mercato_price_changes_total").increment(changes.len() as u64);
    Ok(changes)
}

/// The lowest price charged for each of `skus` in the 30 days before `at`, including the
/// price in effect at the start of the window (two reads for the whole list).
async fn lowest_prior_30d(
    conn: &mut AnyConnection,
    skus: &[&str],
    at: i64,
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let window_start = at - OMNIBUS_WINDOW_MS;
    let mut lowest: HashMap<String, i64> = HashMap::new();
    for chunk in skus.chunks(CHUNK) {
        let list = params(3, chunk.len());
        let in_window_sql = format!(
            "SELECT sku, MIN(price_cents) FROM price_history WHERE created_at >= $1 AND created_at < $2 \
             AND sku IN ({list}) GROUP BY sku"
        );
        let mut in_window = sqlx::query_as::<_, (String, Option<i64>)>(&in_window_sql).bind(window_start).bind(at);
        for sku in chunk {
            in_window = in_window.bind(*sku);
        }
        // The price in effect when the window opened: each product's last row before it.
        let at_start_sql = format!(
            "SELECT h.sku, h.price_cents FROM price_history h WHERE h.created_at < $1 AND h.sku IN ({list}) \
             AND NOT EXISTS (SELECT 1 FROM price_history later WHERE later.sku = h.sku AND later.created_at < $2 \
             AND (later.created_at > h.created_at OR (later.created_at = h.created_at AND later.id > h.id)))"
        );
        let mut at_start = sqlx::query_as::<_, (String, i64)>(&at_start_sql).bind(window_start).bind(window_start);
        for sku in chunk {
            at_start = at_start.bind(*sku);
        }
        let rows = in_window.fetch_all(&mut *conn).await?;
        for (sku, price) in rows.into_iter().filter_map(|(sku, price)| Some((sku, price?))) {
            lowest.insert(sku, price);
        }
        for (sku, price) in at_start.fetch_all(&mut *conn).await? {
            let entry = lowest.entry(sku).or_insert(price);
            *entry = (*entry).min(price);
        }
    }
    Ok(lowest)
}

#[derive(Deserialize)]
struct StockChangedPayload {
    sku: String,
}

#[derive(Deserialize)]
struct RulesChangedPayload {
    scope: String,
}

/// Outbox consumer: `stock_changed` reprices that product; `pricing_rules_changed` reprices
/// every product in the scope. Reads current state, not the event's numbers, so events
/// applied out of order still converge on the right price.
pub async fn apply_pricing(conn: &mut AnyConnection, backend: Backend, event: &Event) -> Result<(), sqlx::Error> {
    let decode = |e: serde_json::Error| sqlx::Error::Decode(Box::new(e));
    match event.kind.as_str() {
        events::kind::STOCK_CHANGED => {
            let payload: StockChangedPayload = serde_json::from_value(event.payload.clone()).map_err(decode)?;
            reprice(conn, backend, &payload.sku, PriceCause::Stock).await?;
        }
        events::kind::PRICING_RULES_CHANGED => {
            let payload: RulesChangedPayload = serde_json::from_value(event.payload.clone()).map_err(decode)?;
            let skus: Vec<String> = match Scope::parse(&payload.scope) {
                Some(Scope::Global) | None => {
                    sqlx::query_scalar("SELECT sku FROM products ORDER BY sku").fetch_all(&mut *conn).await?
                }
                Some(Scope::Category(slug)) => {
                    sqlx::query_scalar("SELECT sku FROM products WHERE category_slug = $1 ORDER BY sku")
                        .bind(slug)
                        .fetch_all(&mut *conn)
                        .await?
                }
                Some(Scope::Product(sku)) => vec![sku],
            };
            reprice_many(conn, backend, &skus, Some(PriceCause::Manual)).await?;
        }
        _ => {}
    }
    Ok(())
}

/// Saves a rule set for a scope (validated), writes the audit row and publishes
/// `pricing_rules_changed` so the consumer reprices the scope.
#[tracing::instrument(name = "pricing.save_rules", skip(db, rules))]
pub async fn save_rules(db: &Db, scope: &Scope, rules: &RuleSet, user_id: Option<i64>) -> Result<(), AppError> {
    if let Err(problems) = rules.validate() {
        let (field, message) = problems.into_iter().next().unwrap_or(("rules", "invalid".into()));
        return Err(AppError::invalid(field, message));
    }
    let after = serde_json::to_string(rules).map_err(|_| AppError::Internal)?;
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let before: Option<String> = sqlx::query_scalar("SELECT rules FROM pricing_rules WHERE scope = $1")
        .bind(scope.key())
        .fetch_optional(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO pricing_rules (scope, rules, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (scope) DO UPDATE SET rules = $2, updated_at = $3, updated_by = $4",
    )
    .bind(scope.key())
    .bind(&after)
    .bind(now)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    record_rules_change(&mut tx, scope, before, Some(after), user_id, now).await?;
    tx.commit().await?;
    db.wake_outbox();
    Ok(())
}

/// Writes the audit row for a rules change and publishes `pricing_rules_changed`, so the
/// consumer reprices the scope; on the caller's transaction.
async fn record_rules_change(
    conn: &mut AnyConnection,
    scope: &Scope,
    before: Option<String>,
    after: Option<String>,
    user_id: Option<i64>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO pricing_audit (scope, before, after, user_id, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(scope.key())
        .bind(before)
        .bind(after)
        .bind(user_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    events::publish(
        conn,
        events::kind::PRICING_RULES_CHANGED,
        &scope.key(),
        &serde_json::json!({ "scope": scope.key() }),
    )
    .await?;
    Ok(())
}

/// Removes a category or product override (the wider scope applies again).
pub async fn delete_rules(db: &Db, scope: &Scope, user_id: Option<i64>) -> Result<(), AppError> {
    if *scope == Scope::Global {
        return Err(AppError::invalid("scope", "The shop-wide rules can be edited, not removed."));
    }
    let mut tx = db.begin_write().await?;
    let before: Option<String> = sqlx::query_scalar("SELECT rules FROM pricing_rules WHERE scope = $1")
        .bind(scope.key())
        .fetch_optional(&mut *tx)
        .await?;
    if before.is_none() {
        return Err(AppError::NotFound(format!("rules for {}", scope.key())));
    }
    sqlx::query("DELETE FROM pricing_rules WHERE scope = $1").bind(scope.key()).execute(&mut *tx).await?;
    record_rules_change(&mut tx, scope, before, None, user_id, now_ms()).await?;
    tx.commit().await?;
    db.wake_outbox();
    Ok(())
}

pub async fn price_history(db: &Db, sku: &str, limit: i64) -> Result<Vec<PricePoint>, AppError> {
    let rows = sqlx::query(
        "SELECT price_cents, reason, cause, created_at FROM price_history WHERE sku = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(sku)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let mut points = rows
        .iter()
        .map(|row| {
            Ok(PricePoint {
                price_cents: row.try_get("price_cents")?,
                reason: row.try_get("reason")?,
                cause: row.try_get("cause")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    points.reverse();
    Ok(points)
}

/// The latest price changes across the shop, newest first, with reason and cause.
pub async fn recent_changes(db: &Db, limit: i64) -> Result<Vec<PriceChangeRow>, AppError> {
    let rows = sqlx::query(
        "SELECT sku, price_cents, reason, cause, created_at FROM price_history ORDER BY created_at DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(PriceChangeRow {
                sku: row.try_get("sku")?,
                price_cents: row.try_get("price_cents")?,
                reason: row.try_get("reason")?,
                cause: row.try_get("cause")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(AppError::from)
}

/// `price_changed` events after `after_id`, oldest first (the live stream's source).
pub async fn price_changes_since(db: &Db, after_id: i64, limit: i64) -> Result<Vec<(i64, PriceChanged)>, sqlx::Error> {
    let rows = sqlx::query("SELECT id, payload FROM domain_events WHERE kind = $1 AND id > $2 ORDER BY id LIMIT $3")
        .bind(events::kind::PRICE_CHANGED)
        .bind(after_id)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    let mut changes = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let payload: String = row.try_get("payload")?;
        if let Ok(change) = serde_json::from_str(&payload) {
            changes.push((id, change));
        }
    }
    Ok(changes)
}

pub async fn last_event_id(db: &Db) -> Result<i64, sqlx::Error> {
    let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM domain_events").fetch_one(db.pool()).await?;
    Ok(id.unwrap_or(0))
}

pub async fn audit_log(db: &Db, limit: i64) -> Result<Vec<AuditEntry>, AppError> {
    let rows = sqlx::query(
        "SELECT a.scope, u.email, a.created_at, a.before, a.after FROM pricing_audit a \
         LEFT JOIN users u ON u.id = a.user_id ORDER BY a.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let parse = |raw: Option<String>| raw.and_then(|raw| serde_json::from_str(&raw).ok());
    rows.iter()
        .map(|row| {
            Ok(AuditEntry {
                scope: row.try_get("scope")?,
                who: row.try_get("email")?,
                created_at: row.try_get("created_at")?,
                before: parse(row.try_get("before")?),
                after: parse(row.try_get("after")?),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(AppError::from)
}

/// The rules saved for exactly this scope (no fallback), if any.
pub async fn saved_rules(db: &Db, scope: &Scope) -> Result<Option<RuleSet>, AppError> {
    let mut conn = db.pool().acquire().await?;
    Ok(rules_for_scope(&mut conn, scope).await?)
}

/// The rules in force for a scope: its own, else inherited from the wider scope.
pub async fn rules_in_force(db: &Db, scope: &Scope) -> Result<RuleSet, AppError> {
    let mut conn = db.pool().acquire().await?;
    let chain: Vec<Scope> = match scope {
        Scope::Global => vec![Scope::Global],
        Scope::Category(slug) => vec![Scope::Category(slug.clone()), Scope::Global],
        Scope::Product(sku) => {
            let category: Option<String> = sqlx::query_scalar("SELECT category_slug FROM products WHERE sku = $1")
                .bind(sku)
                .fetch_optional(&mut *conn)
                .await?;
            let mut chain = vec![Scope::Product(sku.clone())];
            chain.extend(category.map(Scope::Category));
            chain.push(Scope::Global);
            chain
        }
    };
    for scope in chain {
        if let Some(rules) = rules_for_scope(&mut conn, &scope).await? {
            return Ok(rules);
        }
    }
    Ok(RuleSet::default())
}
