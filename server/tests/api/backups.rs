//! `mercato backup` / `mercato restore`: an online SQLite backup taken while the server is
//! writing is a consistent snapshot, and a restore brings exactly that shop back, refusing
//! what would damage a database.

use crate::faults::{fault_db, put_stock, replay_stock, ServerProcess};
use crate::helpers::Backend;
use app::db::Db;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Runs `mercato <args>` on `database_url`; returns whether it succeeded and what it said.
async fn mercato(database_url: &str, args: &[&str]) -> (bool, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_mercato"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("run mercato");
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), said)
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Every table's rows, as text, for comparing two databases.
async fn contents(db: &Db) -> Vec<(String, i64)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE 'ugc_index%' ORDER BY name",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let mut counts = Vec::new();
    for table in tables {
        let n: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{table}\"")).fetch_one(db.pool()).await.unwrap();
        counts.push((table, n));
    }
    counts
}

async fn key_rows(db: &Db) -> (Vec<(String, i64, i64)>, Vec<(i64, String, String)>) {
    let products =
        sqlx::query_as("SELECT sku, stock, price_cents FROM products ORDER BY sku").fetch_all(db.pool()).await.unwrap();
    let events =
        sqlx::query_as("SELECT id, kind, payload FROM domain_events ORDER BY id").fetch_all(db.pool()).await.unwrap();
    (products, events)
}

async fn stock_of(server: &ServerProcess, sku: &str) -> i64 {
    let product: serde_json::Value =
        reqwest::get(server.url(&format!("/api/v1/products/{sku}"))).await.unwrap().json().await.unwrap();
    product["stock"].as_i64().expect("stock")
}

#[tokio::test]
async fn an_online_backup_taken_during_writes_restores_to_the_same_consistent_shop() {
    let (db, database) = fault_db(Backend::Sqlite).await;
    app::events::worker::drain(&db).await.unwrap();
    db.close().await;
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("shop.backup.db");
    let backup_arg = backup.to_str().unwrap();

    let server = ServerProcess::start(&database.url);
    // A writer keeps the inventory webhook busy during the backup: distinct, increasing
    // values, so the backup's log must be a prefix of what was acknowledged.
    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acknowledged, stop, url) = (acknowledged.clone(), stop.clone(), server.address.clone());
        tokio::spawn(async move {
            let mut stock = 100;
            while !stop.load(Ordering::Relaxed) {
                assert_eq!(put_stock(&url, "TEA-001", stock).await, Some(200));
                acknowledged.lock().unwrap().push(stock);
                stock += 1;
            }
        })
    };
    let n_acknowledged = || acknowledged.lock().unwrap().len();
    let deadline = Instant::now() + Duration::from_secs(60);
    while n_acknowledged() < 20 {
        assert!(Instant::now() < deadline, "the writer is stuck");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let n_before_backup = n_acknowledged();
    let (ok, said) = mercato(&database.url, &["backup", "--to", backup_arg]).await;
    assert!(ok, "backup: {said}");
    assert!(said.contains("backup written"), "{said}");
    let n_after_backup = n_acknowledged();
    // The server kept writing while and after the backup ran.
    while n_acknowledged() < n_after_backup + 10 {
        assert!(Instant::now() < deadline, "writes stalled after the backup");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();

    let (ok, said) = mercato(&database.url, &["backup", "--to", backup_arg]).await;
    assert!(!ok && said.contains("already exists"), "a backup never overwrites: {said}");

    // The backup is a snapshot: the stock log is unbroken, ends at the stored stock, and
    // holds exactly the updates acknowledged up to some moment during the backup.
    let inspected = dir.path().join("inspect.db");
    std::fs::copy(&backup, &inspected).unwrap();
    let snapshot = Db::connect(&sqlite_url(&inspected), 2).await.unwrap();
    let (_, _, _, last_stock) = replay_stock(&snapshot, "TEA-001", Backend::Sqlite).await;
    let stored: i64 = sqlx::query_scalar("SELECT stock FROM products WHERE sku = 'TEA-001'")
        .fetch_one(snapshot.pool())
        .await
        .unwrap();
    assert_eq!(last_stock, stored);
    let in_backup: Vec<i64> = sqlx::query_scalar::<_, String>(
        "SELECT payload FROM domain_events WHERE kind = 'stock_changed' AND aggregate = 'TEA-001' ORDER BY id",
    )
    .fetch_all(snapshot.pool())
    .await
    .unwrap()
    .iter()
    .map(|raw| serde_json::from_str::<serde_json::Value>(raw).unwrap())
    .filter(|event| event["stock"].as_i64() >= Some(100))
    .map(|event| event["stock"].as_i64().unwrap())
    .collect();
    assert!(in_backup.len() >= n_before_backup, "everything acknowledged before the backup is in it");
    assert!(in_backup.len() <= n_after_backup + 1, "nothing from after the backup is in it");
    assert_eq!(in_backup.as_slice(), &acknowledged[..in_backup.len()], "a prefix of the acknowledged updates");

    // Refusals: the live database (a server has it open), with or without --force; a file
    // that is not a backup.
    let (ok, said) = mercato(&database.url, &["restore", "--from", backup_arg]).await;
    assert!(!ok && said.contains("--force"), "a database with data is not replaced without --force: {said}");
    let (ok, said) = mercato(&database.url, &["restore", "--from", backup_arg, "--force"]).await;
    assert!(!ok && said.contains("running server"), "never under a running server: {said}");
    assert!(stock_of(&server, "TEA-001").await >= 100, "the live shop is untouched");
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, b"this is not a database, just bytes that look like one to nobody").unwrap();
    let restored = dir.path().join("restored.db");
    let restored_url = sqlite_url(&restored);
    let (ok, said) = mercato(&restored_url, &["restore", "--from", garbage.to_str().unwrap()]).await;
    assert!(!ok && said.contains("not a usable Mercato backup"), "{said}");
    assert!(!restored.exists(), "a refused restore writes nothing");

    // A restore into a new file brings back exactly the backup.
    let (ok, said) = mercato(&restored_url, &["restore", "--from", backup_arg]).await;
    assert!(ok && said.contains("restored"), "restore: {said}");
    let restored_db = Db::connect(&restored_url, 2).await.unwrap();
    assert_eq!(contents(&restored_db).await, contents(&snapshot).await, "same tables, same row counts");
    assert_eq!(key_rows(&restored_db).await, key_rows(&snapshot).await, "same products and events");
    restored_db.close().await;

    // The restored shop serves; a write lands in its write-ahead log and then the server dies.
    let restored_server = ServerProcess::start(&restored_url);
    assert_eq!(stock_of(&restored_server, "TEA-001").await, stored);
    assert_eq!(put_stock(&restored_server.address, "TEA-001", 7).await, Some(200));
    restored_server.kill_minus_nine();
    let (ok, said) = mercato(&restored_url, &["restore", "--from", backup_arg]).await;
    assert!(!ok && said.contains("--force"), "{said}");
    // With --force the backup replaces it, and the old log is not replayed into it.
    let (ok, said) = mercato(&restored_url, &["restore", "--from", backup_arg, "--force"]).await;
    assert!(ok, "restore --force: {said}");
    let restored_server = ServerProcess::start(&restored_url);
    assert_eq!(stock_of(&restored_server, "TEA-001").await, stored, "the backup's stock, not the later write");
    drop(restored_server);
    snapshot.close().await;
    drop(server);
}

#[tokio::test]
async fn backup_and_restore_point_postgres_users_to_pg_dump() {
    let url = "postgres://mercato@127.0.0.1:1/postgres";
    for args in [&["backup", "--to", "x.db"][..], &["restore", "--from", "x.db"][..]] {
        let (ok, said) = mercato(url, args).await;
        assert!(!ok, "{args:?}");
        assert!(said.contains("pg_dump") && said.contains("point-in-time"), "{args:?}: {said}");
    }
}
