//! Pricing storage and the pricing consumer (server only).

use super::api::{AuditEntry, PricePoint};
use super::domain::{quote, PriceInputs, RuleSet};
use crate::db::{Backend, Db};
use crate::events::{self, Event};
use crate::shared::{now_ms, AppError};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

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
    Ok(raw.and_then(|raw| match serde_json::from_str(&raw) {
        Ok(rules) => Some(rules),
        Err(error) => {
            tracing::error!(%error, scope = scope.key(), "unreadable pricing rules; ignoring them");
            None
        }
    }))
}

/// The rules that apply to a product: its own, else its category's, else the shop's, else
/// the defaults.
pub async fn effective_rules(conn: &mut AnyConnection, sku: &str, category: &str) -> Result<RuleSet, sqlx::Error> {
    for scope in [Scope::Product(sku.to_string()), Scope::Category(category.to_string()), Scope::Global] {
        if let Some(rules) = rules_for_scope(conn, &scope).await? {
            return Ok(rules);
        }
    }
    Ok(RuleSet::default())
}

/// The lowest price charged for `sku` in the 30 days before `at`, including the price in
/// effect at the start of the window.
async fn lowest_prior_30d(conn: &mut AnyConnection, sku: &str, at: i64) -> Result<Option<i64>, sqlx::Error> {
    let window_start = at - OMNIBUS_WINDOW_MS;
    let in_window: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(price_cents) FROM price_history WHERE sku = $1 AND created_at >= $2 AND created_at < $3",
    )
    .bind(sku)
    .bind(window_start)
    .bind(at)
    .fetch_one(&mut *conn)
    .await?;
    let at_start: Option<i64> = sqlx::query_scalar(
        "SELECT price_cents FROM price_history WHERE sku = $1 AND created_at < $2 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(sku)
    .bind(window_start)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match (in_window, at_start) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

/// Recomputes one product's price and, when it changes, records it and publishes
/// `price_changed` — all on `conn`, the caller's transaction. Returns the change, if any.
pub async fn reprice(
    conn: &mut AnyConnection,
    backend: Backend,
    sku: &str,
) -> Result<Option<PriceChanged>, sqlx::Error> {
    let lock = backend.for_update();
    let Some(row) = sqlx::query(&format!(
        "SELECT base_cents, cost_cents, stock, price_cents, price_reason, category_slug, reference_30d_cents \
         FROM products WHERE sku = $1{lock}"
    ))
    .bind(sku)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let base_cents: i64 = row.try_get("base_cents")?;
    let current_cents: i64 = row.try_get("price_cents")?;
    let current_reason: String = row.try_get("price_reason")?;
    let category: String = row.try_get("category_slug")?;
    let rules = effective_rules(conn, sku, &category).await?;
    let inputs = PriceInputs {
        base_cents,
        cost_cents: row.try_get("cost_cents")?,
        stock: row.try_get("stock")?,
        current_cents: Some(current_cents),
    };
    let new = quote(&inputs, &rules);
    let now = now_ms();
    if new.amount_cents == current_cents {
        if new.reason.as_str() != current_reason {
            sqlx::query("UPDATE products SET price_reason = $1 WHERE sku = $2")
                .bind(new.reason.as_str())
                .bind(sku)
                .execute(&mut *conn)
                .await?;
        }
        return Ok(None);
    }
    let reference = if new.amount_cents < current_cents { lowest_prior_30d(conn, sku, now).await? } else { None };
    sqlx::query(
        "UPDATE products SET price_cents = $1, price_reason = $2, reference_30d_cents = $3, updated_at = $4 WHERE sku = $5",
    )
    .bind(new.amount_cents)
    .bind(new.reason.as_str())
    .bind(reference)
    .bind(now)
    .bind(sku)
    .execute(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO price_history (sku, price_cents, reason, created_at) VALUES ($1, $2, $3, $4)")
        .bind(sku)
        .bind(new.amount_cents)
        .bind(new.reason.as_str())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    let change = PriceChanged {
        sku: sku.to_string(),
        previous_cents: current_cents,
        amount_cents: new.amount_cents,
        base_cents,
        lowest_30d_cents: reference,
        reason: new.reason.as_str().to_string(),
    };
    events::publish(conn, events::kind::PRICE_CHANGED, sku, &change).await?;
    metrics::counter!("mercato_price_changes_total").increment(1);
    Ok(Some(change))
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
            reprice(conn, backend, &payload.sku).await?;
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
            for sku in skus {
                reprice(conn, backend, &sku).await?;
            }
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
        "SELECT price_cents, reason, created_at FROM price_history WHERE sku = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
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
                created_at: row.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    points.reverse();
    Ok(points)
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
