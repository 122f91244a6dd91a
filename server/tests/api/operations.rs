//! The binary as an operator runs it: graceful shutdown on SIGTERM, seeding a shop twice.

use crate::helpers::test_database;
use crate::helpers::Backend;
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

#[tokio::test]
async fn sigterm_finishes_in_flight_work_and_exits_cleanly() {
    let database = test_database(Backend::Sqlite).await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mercato"))
        .arg("serve")
        .env("DATABASE_URL", &database.url)
        .env("MERCATO_ADDR", "127.0.0.1:0")
        .env("MERCATO_INVENTORY_TOKEN", "test")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start mercato");
    let stderr = child.stderr.take().unwrap();
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(address) = line.split("listening on ").nth(1) {
                let _ = address_tx.send(address.trim().to_string());
            }
        }
    });
    let address = address_rx.recv_timeout(Duration::from_secs(60)).expect("server announced its address");
    let health = reqwest::get(format!("{address}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);

    let pid = child.id().to_string();
    let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "server did not stop after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "clean exit after SIGTERM: {exit:?}");
    assert!(reqwest::get(format!("{address}/healthz")).await.is_err(), "no longer listening");
}

/// `mercato seed` on a shop that has been seeded before (or `bench-recs` topping up its
/// order lines) adds orders and keeps the reviews, questions and topics it already has.
#[tokio::test]
async fn seeding_again_adds_orders_and_keeps_the_reviews() {
    for backend in crate::helpers::backends() {
        let database = test_database(backend).await;
        let db = app::db::Db::connect(&database.url, 2).await.unwrap();
        db.migrate().await.unwrap();
        let count = |sql: &'static str| {
            let db = db.clone();
            async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(db.pool()).await.unwrap() }
        };
        server::seed::seed_demo(&db, 60, false).await.unwrap();
        let (orders, reviews) =
            (count("SELECT COUNT(*) FROM orders").await, count("SELECT COUNT(*) FROM reviews").await);
        assert!(reviews > 0, "{backend:?}: the first seed writes reviews");
        server::seed::seed_demo(&db, 60, false).await.unwrap_or_else(|e| panic!("{backend:?}: second seed: {e:#}"));
        assert_eq!(count("SELECT COUNT(*) FROM orders").await, orders + 60, "{backend:?}");
        assert_eq!(count("SELECT COUNT(*) FROM reviews").await, reviews, "{backend:?}");
        db.close().await;
    }
}
