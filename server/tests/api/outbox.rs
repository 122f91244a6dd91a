//! The outbox delivers every event at least once and applies it exactly once: with several
//! workers on one database, and across a `kill -9` of the server in the middle of a backlog.

use crate::helpers::{backends, test_database, Backend};
use app::db::Db;
use app::events::{self, worker};
use std::time::{Duration, Instant};

async fn fresh_db(backend: Backend) -> (Db, crate::helpers::TestDatabase) {
    let database = test_database(backend).await;
    let db = Db::connect(&database.url, 8).await.unwrap();
    db.migrate().await.unwrap();
    let catalog = server::seed::demo_catalog();
    app::catalog::ssr::seed_catalog(&db, &catalog).await.unwrap();
    // Seeding prices the new products through the outbox; start from an empty queue.
    worker::drain(&db).await.unwrap();
    (db, database)
}

/// Publishes `n` `product_viewed` events for COF-001, in batches.
async fn publish_views(db: &Db, n: usize) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(250) {
        let mut tx = db.begin_write().await.unwrap();
        for i in chunk {
            events::publish(
                &mut tx,
                events::kind::PRODUCT_VIEWED,
                "COF-001",
                &serde_json::json!({ "sku": "COF-001", "visitor_id": format!("v{i}") }),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
}

async fn views_of(db: &Db, sku: &str) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT views FROM product_stats WHERE sku = $1")
        .bind(sku)
        .fetch_optional(db.pool())
        .await
        .unwrap()
        .unwrap_or(0)
}

#[tokio::test]
async fn four_workers_on_separate_pools_apply_each_event_exactly_once() {
    for backend in backends() {
        let (db, database) = fresh_db(backend).await;
        publish_views(&db, 400).await;
        // And 100 stock changes for the pricing consumer, which publishes `price_changed`.
        let sku = app::shared::Sku::parse("MUG-001").unwrap();
        for i in 0..100 {
            app::catalog::ssr::set_stock(&db, &sku, if i % 2 == 0 { 2 } else { 40 }).await.unwrap();
        }
        let mut tasks = Vec::new();
        for _ in 0..4 {
            // Separate pools stand in for separate app servers.
            let server_db = Db::connect(&database.url, 2).await.unwrap();
            tasks.push(tokio::spawn(async move { worker::drain(&server_db).await.unwrap() }));
        }
        let mut n_applied_total = 0;
        for task in tasks {
            n_applied_total += task.await.unwrap();
        }
        assert_eq!(views_of(&db, "COF-001").await, 400, "{backend:?}");
        // Every consumer of `product_viewed` (counters, recently viewed, analytics) gets each view.
        let view_consumers =
            events::SUBSCRIPTIONS.iter().filter(|(_, kinds)| kinds.contains(&events::kind::PRODUCT_VIEWED)).count();
        assert_eq!(view_consumers, 3);
        // Every consumer of `stock_changed` (pricing, wishlist) gets each of the 100 changes.
        let stock_consumers =
            events::SUBSCRIPTIONS.iter().filter(|(_, kinds)| kinds.contains(&events::kind::STOCK_CHANGED)).count();
        assert_eq!(stock_consumers, 2);
        assert_eq!(
            n_applied_total,
            400 * view_consumers + 100 * stock_consumers,
            "{backend:?}: each delivery applied by exactly one worker"
        );
        assert_eq!(worker::pending(&db).await.unwrap(), 0);
        let not_once: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM event_deliveries WHERE attempts <> 1")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(not_once, 0, "{backend:?}: no delivery applied twice");
        // Whatever order the workers took the stock changes in, the price follows the last
        // stock (40: base price), and every change was recorded once.
        let (price, base): (i64, i64) =
            sqlx::query_as("SELECT price_cents, base_cents FROM products WHERE sku = 'MUG-001'")
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert_eq!(price, base, "{backend:?}");
        let n_changes: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM domain_events WHERE kind = 'price_changed' AND aggregate = 'MUG-001'",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        let n_history: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM price_history WHERE sku = 'MUG-001'")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(n_history, n_changes + 1, "{backend:?}: one history row per change, plus the opening price");
    }
}

#[tokio::test]
async fn a_batch_append_publishes_every_event_with_its_deliveries_like_single_appends() {
    for backend in backends() {
        let (db, _database) = fresh_db(backend).await;
        // More than two multi-row chunks, between single appends, in one transaction.
        let payloads: Vec<serde_json::Value> =
            (0..450).map(|i| serde_json::json!({ "sku": "COF-002", "visitor_id": format!("b{i}") })).collect();
        let batch: Vec<(&str, &serde_json::Value)> = payloads.iter().map(|payload| ("COF-002", payload)).collect();
        let mut tx = db.begin_write().await.unwrap();
        let single = serde_json::json!({ "sku": "COF-002", "visitor_id": "single" });
        let before = events::publish(&mut tx, events::kind::PRODUCT_VIEWED, "COF-002", &single).await.unwrap();
        let ids = events::publish_many(&mut tx, events::kind::PRODUCT_VIEWED, &batch).await.unwrap();
        let after = events::publish(&mut tx, events::kind::PRODUCT_VIEWED, "COF-002", &single).await.unwrap();
        tx.commit().await.unwrap();

        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 450, "{backend:?}: one id per event");
        assert!(sorted[0] > before && sorted[449] < after, "{backend:?}: the batch sits between its neighbours");
        let n_deliveries: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM event_deliveries d JOIN domain_events e ON e.id = d.event_id WHERE e.aggregate = 'COF-002'",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert_eq!(n_deliveries, 452 * 3, "{backend:?}: each view goes to its three consumers");
        let stored: String = sqlx::query_scalar("SELECT payload FROM domain_events WHERE id = $1")
            .bind(sorted[449])
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert!(stored.contains("\"visitor_id\":\"b"), "{backend:?}: {stored}");
        worker::drain(&db).await.unwrap();
        assert_eq!(views_of(&db, "COF-002").await, 452, "{backend:?}");
        assert_eq!(worker::pending(&db).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn a_failing_delivery_is_retried_later_not_lost() {
    for backend in backends() {
        let (db, _database) = fresh_db(backend).await;
        let mut tx = db.begin_write().await.unwrap();
        // A payload the consumer cannot read: the delivery must stay pending with backoff.
        events::publish(&mut tx, events::kind::PRODUCT_VIEWED, "COF-001", &serde_json::json!({ "nope": 1 }))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        worker::drain(&db).await.unwrap();
        // One pending delivery per consumer of the kind, each tried once and kept with its error.
        let view_consumers =
            events::SUBSCRIPTIONS.iter().filter(|(_, kinds)| kinds.contains(&events::kind::PRODUCT_VIEWED)).count();
        assert_eq!(worker::pending(&db).await.unwrap(), view_consumers as i64);
        let failed: Vec<(i64, Option<String>)> =
            sqlx::query_as("SELECT attempts, last_error FROM event_deliveries WHERE done_at IS NULL")
                .fetch_all(db.pool())
                .await
                .unwrap();
        assert_eq!(failed.len(), view_consumers);
        for (attempts, error) in failed {
            assert_eq!(attempts, 1);
            assert!(error.is_some());
        }
    }
}

/// Starts the real `mercato` binary over `database_url`; it drains the outbox on start.
fn start_server(database_url: &str) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_mercato"))
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("MERCATO_ADDR", "127.0.0.1:0")
        .env("MERCATO_INVENTORY_TOKEN", "test")
        .env("MERCATO_SEED_DEMO", "false")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start mercato")
}

#[tokio::test]
async fn kill_minus_nine_mid_backlog_loses_nothing_and_applies_nothing_twice() {
    for backend in backends() {
        let (db, database) = fresh_db(backend).await;
        let n_events = 3000;
        publish_views(&db, n_events).await;
        // Stock changes for the pricing consumer too, interleaved with the views.
        for i in 0..200 {
            let stock = if i % 2 == 0 { 3 } else { 50 };
            app::catalog::ssr::set_stock(&db, &app::shared::Sku::parse("TEA-001").unwrap(), stock).await.unwrap();
        }

        let mut n_kills = 0;
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            let mut child = start_server(&database.url);
            // Let it work for a moment, then pull the plug without warning.
            let pending_before = worker::pending(&db).await.unwrap();
            let wait_until = Instant::now() + Duration::from_secs(20);
            while Instant::now() < wait_until {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let pending = worker::pending(&db).await.unwrap();
                if pending < pending_before - 200 || pending == 0 {
                    break;
                }
            }
            let pending = worker::pending(&db).await.unwrap();
            if pending == 0 || n_kills >= 3 {
                // Let the last server finish the backlog, then stop it.
                while worker::pending(&db).await.unwrap() > 0 && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                child.kill().ok();
                child.wait().ok();
                break;
            }
            child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix.
            child.wait().ok();
            n_kills += 1;
        }
        assert!(n_kills >= 1, "{backend:?}: the server was killed at least once mid-backlog");
        assert_eq!(worker::pending(&db).await.unwrap(), 0, "{backend:?}: everything delivered");
        assert_eq!(views_of(&db, "COF-001").await, n_events as i64, "{backend:?}: applied exactly once");
        // A delivery's attempt counter moves only in the transaction that applies it, so 1
        // everywhere means: every delivery of every consumer was applied exactly once.
        let not_once: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM event_deliveries WHERE attempts <> 1")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(not_once, 0, "{backend:?}");
        let pricing_done: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM event_deliveries WHERE consumer = 'pricing' AND done_at IS NOT NULL",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert!(pricing_done >= 200, "{backend:?}: every stock change reached the pricing consumer");
        let price: i64 = sqlx::query_scalar("SELECT price_cents FROM products WHERE sku = 'TEA-001'")
            .fetch_one(db.pool())
            .await
            .unwrap();
        let base: i64 = sqlx::query_scalar("SELECT base_cents FROM products WHERE sku = 'TEA-001'")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(price, base, "{backend:?}: the final stock (50) gives the base price");
    }
}
