//! Delivers outbox events to consumers.
//!
//! Each delivery is claimed, applied and marked done in one transaction:
//! - on PostgreSQL the claim is `SELECT … FOR UPDATE SKIP LOCKED`, so several app servers
//!   share the queue without waiting on each other and never apply one delivery twice;
//! - on SQLite the write transaction (`BEGIN IMMEDIATE`) already excludes other writers.
//!
//! A crash before the commit rolls back both the consumer's effect and the `done_at` mark, so
//! the delivery is retried: at least once delivered, exactly once applied.

use super::Event;
use crate::db::{Backend, Db};
use crate::shared::now_ms;
use sqlx::{AnyConnection, Row};
use std::time::Duration;

/// How often the worker looks for work when nobody woke it.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Deliveries applied between two looks at the shutdown signal: a long backlog never holds
/// up a shutdown (what is left stays pending for the next start or another server).
const PASS: usize = 256;

/// Runs until `shutdown` resolves. Errors are logged and retried with backoff; the worker
/// never exits on a bad event.
pub async fn run(db: Db, shutdown: impl std::future::Future<Output = ()>) {
    let wakeup = db.outbox_wakeup();
    tokio::pin!(shutdown);
    loop {
        let more = match drain_up_to(&db, PASS).await {
            Ok(n_applied) => n_applied == PASS,
            Err(error) => {
                tracing::warn!(%error, "outbox pass failed");
                false
            }
        };
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            _ = std::future::ready(()), if more => {},
            _ = wakeup.notified() => {},
            _ = tokio::time::sleep(POLL_INTERVAL) => {},
        }
    }
}

/// Delivers every delivery that is due; returns how many were applied by this caller.
pub async fn drain(db: &Db) -> Result<usize, sqlx::Error> {
    drain_up_to(db, usize::MAX).await
}

/// Delivers due deliveries until none is left or `limit` were applied.
pub async fn drain_up_to(db: &Db, limit: usize) -> Result<usize, sqlx::Error> {
    let mut n_applied = 0;
    while n_applied < limit && deliver_one(db).await? {
        n_applied += 1;
    }
    Ok(n_applied)
}

/// Claims and applies one due delivery. `Ok(false)` when there is nothing to do.
#[tracing::instrument(name = "outbox.deliver", skip(db))]
pub async fn deliver_one(db: &Db) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let claim = match db.backend() {
        Backend::Postgres => {
            "SELECT event_id, consumer FROM event_deliveries \
             WHERE done_at IS NULL AND available_at <= $1 \
             ORDER BY event_id LIMIT 1 FOR UPDATE SKIP LOCKED"
        }
        Backend::Sqlite => {
            "SELECT event_id, consumer FROM event_deliveries \
             WHERE done_at IS NULL AND available_at <= $1 ORDER BY event_id LIMIT 1"
        }
    };
    let Some(row) = sqlx::query(claim).bind(now).fetch_optional(&mut *tx).await? else {
        tx.rollback().await?;
        return Ok(false);
    };
    let event_id: i64 = row.try_get("event_id")?;
    let consumer: String = row.try_get("consumer")?;
    let event_row = sqlx::query("SELECT id, kind, aggregate, payload, created_at FROM domain_events WHERE id = $1")
        .bind(event_id)
        .fetch_one(&mut *tx)
        .await?;
    let payload: String = event_row.try_get("payload")?;
    let event = Event {
        id: event_row.try_get("id")?,
        kind: event_row.try_get("kind")?,
        aggregate: event_row.try_get("aggregate")?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        created_at: event_row.try_get("created_at")?,
    };

    match apply(&consumer, db.backend(), &mut tx, &event).await {
        Ok(()) => {
            let marked = sqlx::query(
                "UPDATE event_deliveries SET done_at = $1, attempts = attempts + 1 \
                 WHERE event_id = $2 AND consumer = $3 AND done_at IS NULL",
            )
            .bind(now_ms())
            .bind(event_id)
            .bind(&consumer)
            .execute(&mut *tx)
            .await?;
            if marked.rows_affected() == 1 {
                tx.commit().await?;
                db.wake_event_readers();
                metrics::counter!("mercato_events_applied_total", "consumer" => consumer).increment(1);
            } else {
                // Someone else applied it between our read and our write: undo our effect.
                tx.rollback().await?;
            }
            Ok(true)
        }
        Err(error) => {
            tx.rollback().await?;
            tracing::warn!(%error, event_id, consumer, "consumer failed; will retry");
            let mut tx = db.begin_write().await?;
            // Exponential backoff capped at a minute keeps a poison event from spinning.
            sqlx::query(
                "UPDATE event_deliveries SET attempts = attempts + 1, last_error = $1, \
                 available_at = $2 + (CASE WHEN attempts >= 6 THEN 60000 ELSE 1000 * (attempts + 1) * (attempts + 1) END) \
                 WHERE event_id = $3 AND consumer = $4 AND done_at IS NULL",
            )
            .bind(error.to_string())
            .bind(now_ms())
            .bind(event_id)
            .bind(&consumer)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        }
    }
}

/// Routes one event to its consumer. Consumers only touch the database through `conn`, the
/// transaction that also marks the delivery done.
async fn apply(consumer: &str, backend: Backend, conn: &mut AnyConnection, event: &Event) -> Result<(), sqlx::Error> {
    match consumer {
        crate::catalog::ssr::STATS_CONSUMER => crate::catalog::ssr::apply_stats(conn, event).await,
        crate::pricing::ssr::PRICING_CONSUMER => crate::pricing::ssr::apply_pricing(conn, backend, event).await,
        crate::pricing::signals::VELOCITY_CONSUMER => {
            crate::pricing::signals::apply_velocity(conn, backend, event).await
        }
        crate::experiments::ssr::EXPERIMENTS_CONSUMER => crate::experiments::ssr::apply_experiments(conn, event).await,
        crate::plans::wishlist::store::WISHLIST_CONSUMER => {
            crate::plans::wishlist::store::apply_wishlist(conn, event).await
        }
        crate::loyalty::ssr::LOYALTY_CONSUMER => crate::loyalty::ssr::apply_loyalty(conn, event).await,
        crate::loyalty::referrals::REFERRALS_CONSUMER => crate::loyalty::referrals::apply_referrals(conn, event).await,
        crate::recommendations::ssr::RECOMMENDATIONS_CONSUMER => {
            crate::recommendations::ssr::apply_recommendations(conn, event).await
        }
        crate::admin::ssr::ANALYTICS_CONSUMER => crate::admin::ssr::apply_analytics(conn, backend, event).await,
        // A subscription without an arm here is a bug: fail (the delivery stays pending and
        // retries, visibly) rather than mark it done unapplied.
        other => Err(sqlx::Error::Protocol(format!("no consumer named '{other}' is wired in events::worker::apply"))),
    }
}

/// Number of deliveries not yet applied (for `/metrics` and tests).
pub async fn pending(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM event_deliveries WHERE done_at IS NULL").fetch_one(db.pool()).await
}
