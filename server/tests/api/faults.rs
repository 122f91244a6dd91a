//! Faults an operator meets: the server killed with `kill -9` in the middle of a burst of
//! checkouts and inventory updates, and PostgreSQL restarted under a running server. The
//! real `mercato` binary runs as a child process; every invariant is checked afterwards from
//! the database itself.

use crate::helpers::{backends, shopper_client, test_database, Backend};
use app::db::Db;
use app::events::{self, worker};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const TOKEN: &str = "fault-test-token";
const PASSWORD: &str = "a long test passphrase";

/// The `mercato` binary serving `database_url` on a free port.
pub struct ServerProcess {
    child: Child,
    pub address: String,
}

impl ServerProcess {
    pub fn start(database_url: &str) -> ServerProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mercato"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("MERCATO_ADDR", "127.0.0.1:0")
            .env("MERCATO_INVENTORY_TOKEN", TOKEN)
            .env("MERCATO_SEED_DEMO", "false")
            // Sixty shoppers register and check out from 127.0.0.1: the per-address limits
            // are not what these tests are about.
            .env("MERCATO_REGISTRATIONS_PER_IP_PER_HOUR", "100000")
            .env("MERCATO_LOGINS_PER_IP_PER_MINUTE", "100000")
            .env("MERCATO_EVENTS_PER_IP_PER_SECOND", "100000")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mercato");
        let stderr = child.stderr.take().expect("stderr");
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        // The reader keeps draining after the address line: a full pipe would block the server.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(address) = line.split("listening on ").nth(1) {
                    let _ = address_tx.send(address.trim().to_string());
                }
            }
        });
        let address = address_rx.recv_timeout(Duration::from_secs(90)).expect("server announced its address");
        ServerProcess { child, address }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// `kill -9`: no shutdown hook, no flush, no goodbye (`Child::kill` sends SIGKILL).
    pub fn kill_minus_nine(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().ok();
    }

    fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (bounded) until every delivery is done.
async fn drained(db: &Db, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let pending = worker::pending(db).await.expect("pending");
        if pending == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "outbox still has {pending} deliveries pending");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A fresh database with the demo catalog, prices that ignore stock (so a restock never
/// moves a total the shopper saw: a 409 then only means "sold out"), and known stock levels.
pub async fn fault_db(backend: Backend) -> (Db, crate::helpers::TestDatabase) {
    let database = test_database(backend).await;
    let db = Db::connect(&database.url, 4).await.unwrap();
    db.migrate().await.unwrap();
    app::catalog::ssr::seed_catalog(&db, &server::seed::demo_catalog()).await.unwrap();
    let fixed = app::pricing::domain::RuleSet {
        low_stock_markup_bp: 0,
        high_stock_discount_bp: 0,
        ..app::pricing::domain::RuleSet::default()
    };
    app::pricing::ssr::save_rules(&db, &app::pricing::ssr::Scope::Global, &fixed, None).await.unwrap();
    (db, database)
}

async fn set_stock(db: &Db, sku: &str, stock: i64) {
    app::catalog::ssr::set_stock(db, &app::shared::Sku::parse(sku).unwrap(), stock).await.unwrap();
}

pub async fn scalar(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// What the client learnt of one request: an answer, or nothing (the server died first).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Placed(i64),
    Refused(u16),
    NoAnswer,
}

async fn checkout(client: &reqwest::Client, server_url: &str, total: i64, redeem_points: i64) -> Outcome {
    let request = client
        .post(format!("{server_url}/api/v1/checkout"))
        .json(&json!({ "expected_total_cents": total, "redeem_points": redeem_points }))
        .timeout(Duration::from_secs(60))
        .send();
    match request.await {
        Ok(response) if response.status() == 201 => match response.json::<serde_json::Value>().await {
            Ok(order) => Outcome::Placed(order["id"].as_i64().expect("order id")),
            // The status line arrived but the body did not: the client cannot know the order.
            Err(_) => Outcome::NoAnswer,
        },
        Ok(response) => Outcome::Refused(response.status().as_u16()),
        Err(_) => Outcome::NoAnswer,
    }
}

pub async fn put_stock(server_url: &str, sku: &str, stock: i64) -> Option<u16> {
    reqwest::Client::new()
        .put(format!("{server_url}/api/v1/inventory/{sku}"))
        .bearer_auth(TOKEN)
        .json(&json!({ "stock": stock }))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .ok()
        .map(|response| response.status().as_u16())
}

struct Shopper {
    client: reqwest::Client,
    user_id: i64,
    total_cents: i64,
}

/// Registers a shopper, gives them 1,000 points to pay with, and fills their cart with one
/// unit of each of `skus`.
async fn shopper(server: &ServerProcess, db: &Db, admin_id: i64, n: usize, skus: &[&str]) -> Shopper {
    let client = shopper_client();
    let email = format!("fault-{n}-{}@example.com", &app::accounts::ssr::random_token()[..8]);
    let registered = client
        .post(server.url("/api/v1/auth/register"))
        .json(&json!({ "email": email, "password": PASSWORD, "display_name": format!("Shopper {n}") }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let user_id: i64 =
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(&email).fetch_one(db.pool()).await.unwrap();
    app::loyalty::ssr::adjust(db, user_id, 1000, "fault test float", admin_id).await.unwrap();
    for sku in skus {
        let added = client
            .post(server.url("/api/v1/cart/items"))
            .json(&json!({ "sku": sku, "quantity": 1 }))
            .send()
            .await
            .unwrap();
        assert_eq!(added.status(), 200, "add {sku}");
    }
    let cart: serde_json::Value = client.get(server.url("/api/v1/cart")).send().await.unwrap().json().await.unwrap();
    Shopper { client, user_id, total_cents: cart["total_cents"].as_i64().unwrap() }
}

/// The stock of `sku` as its `stock_changed` events tell it, in log order: each event must
/// start from the stock the previous one left (nothing lost, nothing applied twice). Returns
/// (stock at the first event, sum of inventory moves, units sold per the events, last stock).
pub async fn replay_stock(db: &Db, sku: &str, backend: Backend) -> (i64, i64, i64, i64) {
    let payloads: Vec<String> =
        sqlx::query_scalar("SELECT payload FROM domain_events WHERE kind = $1 AND aggregate = $2 ORDER BY id")
            .bind(events::kind::STOCK_CHANGED)
            .bind(sku)
            .fetch_all(db.pool())
            .await
            .unwrap();
    let mut previous_stock: Option<i64> = None;
    let (mut first, mut restocked, mut sold) = (0, 0, 0);
    for raw in &payloads {
        let event: serde_json::Value = serde_json::from_str(raw).unwrap();
        let (before, after) = (event["previous"].as_i64().unwrap(), event["stock"].as_i64().unwrap());
        assert!(after >= 0, "{backend:?} {sku}: stock went negative: {event}");
        match previous_stock {
            None => first = before,
            Some(expected) => assert_eq!(before, expected, "{backend:?} {sku}: a stock change was lost: {event}"),
        }
        match event["source"].as_str() {
            Some("inventory") => restocked += after - before,
            Some("checkout") => sold += before - after,
            other => panic!("{backend:?} {sku}: unexpected stock source {other:?}"),
        }
        previous_stock = Some(after);
    }
    (first, restocked, sold, previous_stock.unwrap_or(first))
}

/// Units of `sku` in the orders of the users from `first_user` on (this test's shoppers).
async fn units_sold(db: &Db, sku: &str, first_user: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(l.quantity), 0) AS BIGINT) FROM order_lines l JOIN orders o ON o.id = l.order_id \
         WHERE l.sku = $1 AND o.user_id >= $2",
    )
    .bind(sku)
    .bind(first_user)
    .fetch_one(db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn kill_minus_nine_mid_checkout_burst_loses_no_order_duplicates_none_and_keeps_stock_and_points_true() {
    // COF-001 is the scarce product every cart holds (20 units for 60 shoppers); TEA-001 is
    // in every cart too and restocked by the inventory webhook during the burst; MUG-001
    // only gets restocks.
    const SCARCE: &str = "COF-001";
    const RESTOCKED: &str = "TEA-001";
    const ONLY_RESTOCKED: &str = "MUG-001";
    const SCARCE_UNITS: i64 = 20;
    const N_SHOPPERS: usize = 60;
    for backend in backends() {
        let (db, database) = fault_db(backend).await;
        set_stock(&db, SCARCE, SCARCE_UNITS).await;
        set_stock(&db, RESTOCKED, 100).await;
        set_stock(&db, ONLY_RESTOCKED, 10).await;
        worker::drain(&db).await.unwrap();
        let admin_email = app::accounts::domain::Email::parse("owner@example.com").unwrap();
        app::accounts::ssr::create_admin(&db, &admin_email).await.unwrap();
        let admin_id = scalar(&db, "SELECT id FROM users WHERE email = 'owner@example.com'").await;
        let last_event_before = scalar(&db, "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM domain_events").await;

        let server = ServerProcess::start(&database.url);
        let mut shoppers = Vec::new();
        for n in 0..N_SHOPPERS {
            shoppers.push(Arc::new(shopper(&server, &db, admin_id, n, &[SCARCE, RESTOCKED]).await));
        }
        let first_user = shoppers[0].user_id;

        // The burst: every shopper checks out at once while two feeds restock.
        let (answered_tx, mut answered_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let mut checkouts = Vec::new();
        for shopper in &shoppers {
            let (shopper, url, answered) = (shopper.clone(), server.address.clone(), answered_tx.clone());
            checkouts.push(tokio::spawn(async move {
                let outcome = checkout(&shopper.client, &url, shopper.total_cents, 100).await;
                if outcome != Outcome::NoAnswer {
                    let _ = answered.send(());
                }
                outcome
            }));
        }
        let mut feeds = Vec::new();
        for (feed, sku) in [RESTOCKED, ONLY_RESTOCKED].into_iter().enumerate() {
            let url = server.address.clone();
            feeds.push(tokio::spawn(async move {
                // Distinct values (never below what the burst can sell), so each acknowledged
                // update can be found in the log afterwards.
                let mut acknowledged = Vec::new();
                let mut unanswered = None;
                for i in 0..200 {
                    let stock = 1000 + (feed as i64) * 1000 + i;
                    match put_stock(&url, sku, stock).await {
                        Some(200) => acknowledged.push(stock),
                        Some(status) => panic!("inventory update answered {status}"),
                        None => {
                            unanswered = Some(stock);
                            break;
                        }
                    }
                }
                (sku, acknowledged, unanswered)
            }));
        }
        // Pull the plug once a few checkouts were answered: most are still in flight.
        for _ in 0..5 {
            tokio::time::timeout(Duration::from_secs(60), answered_rx.recv()).await.expect("checkouts answered");
        }
        server.kill_minus_nine();
        let mut outcomes = Vec::new();
        for task in checkouts {
            outcomes.push(task.await.unwrap());
        }
        let mut feed_results = Vec::new();
        for task in feeds {
            feed_results.push(task.await.unwrap());
        }
        let n_unanswered = outcomes.iter().filter(|o| **o == Outcome::NoAnswer).count();
        assert!(n_unanswered > 0, "{backend:?}: the kill came mid-burst (some checkouts got no answer)");
        eprintln!("{backend:?}: {n_unanswered} of {N_SHOPPERS} checkouts got no answer before the kill");

        // Restart on the same database. A shopper whose checkout got no answer tries again:
        // the order either committed (the cart is empty now: 409) or it did not (placed now).
        let server = ServerProcess::start(&database.url);
        for (shopper, outcome) in shoppers.iter().zip(outcomes.iter_mut()) {
            if *outcome == Outcome::NoAnswer {
                let retried = checkout(&shopper.client, &server.address, shopper.total_cents, 100).await;
                assert_ne!(retried, Outcome::NoAnswer, "{backend:?}: the restarted server answers");
                *outcome = retried;
            }
        }
        let mut acknowledged_stock: BTreeMap<&str, (Vec<i64>, Option<i64>)> = BTreeMap::new();
        for (sku, acknowledged, unanswered) in feed_results {
            if let Some(stock) = unanswered {
                assert_eq!(put_stock(&server.address, sku, stock).await, Some(200), "{backend:?}: retried update");
            }
            acknowledged_stock.insert(sku, (acknowledged, unanswered));
        }
        drained(&db, Duration::from_secs(120)).await;
        drop(server);

        // Orders: every acknowledged order exists, once, for its shopper; nobody has two.
        let placed: HashMap<i64, i64> = shoppers
            .iter()
            .zip(&outcomes)
            .filter_map(|(shopper, outcome)| match outcome {
                Outcome::Placed(id) => Some((shopper.user_id, *id)),
                _ => None,
            })
            .collect();
        let orders: Vec<(i64, i64, i64)> =
            sqlx::query_as("SELECT id, user_id, points_redeemed FROM orders WHERE user_id >= $1 ORDER BY id")
                .bind(first_user)
                .fetch_all(db.pool())
                .await
                .unwrap();
        let mut orders_per_user: HashMap<i64, Vec<i64>> = HashMap::new();
        for (id, user_id, points_redeemed) in &orders {
            orders_per_user.entry(*user_id).or_default().push(*id);
            assert_eq!(*points_redeemed, 100, "{backend:?}: order {id} paid with its points");
        }
        for (user_id, ids) in &orders_per_user {
            assert_eq!(ids.len(), 1, "{backend:?}: shopper {user_id} has orders {ids:?}, not one");
        }
        for (user_id, order_id) in &placed {
            assert_eq!(orders_per_user.get(user_id), Some(&vec![*order_id]), "{backend:?}: acknowledged order");
        }
        let n_lines = scalar(
            &db,
            &format!(
                "SELECT COUNT(*) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.user_id >= {first_user}"
            ),
        )
        .await;
        assert_eq!(n_lines, 2 * orders.len() as i64, "{backend:?}: every order has both its lines");
        let n_placed_events = scalar(
            &db,
            &format!("SELECT COUNT(*) FROM domain_events WHERE kind = 'order_placed' AND id > {last_event_before}"),
        )
        .await;
        assert_eq!(n_placed_events, orders.len() as i64, "{backend:?}: one order_placed per order");

        // Stock: the scarce product sold out exactly, the rest was refused; nothing negative.
        let sold_scarce = units_sold(&db, SCARCE, first_user).await;
        assert_eq!(sold_scarce, SCARCE_UNITS, "{backend:?}: every unit sold once, no oversell");
        assert_eq!(orders.len() as i64, SCARCE_UNITS, "{backend:?}");
        let n_refused = outcomes.iter().filter(|o| matches!(o, Outcome::Refused(409))).count();
        assert!(n_refused >= N_SHOPPERS - SCARCE_UNITS as usize, "{backend:?}: the rest were refused: {outcomes:?}");
        assert!(
            outcomes.iter().all(|o| matches!(o, Outcome::Placed(_) | Outcome::Refused(409))),
            "{backend:?}: only orders and 409s: {outcomes:?}"
        );
        for sku in [SCARCE, RESTOCKED, ONLY_RESTOCKED] {
            let stock = scalar(&db, &format!("SELECT stock FROM products WHERE sku = '{sku}'")).await;
            let (initial, restocked, sold_per_events, last) = replay_stock(&db, sku, backend).await;
            let sold = units_sold(&db, sku, first_user).await;
            assert_eq!(sold_per_events, sold, "{backend:?} {sku}: one stock change per unit sold");
            assert_eq!(last, stock, "{backend:?} {sku}: the log ends at the stock");
            assert_eq!(stock, initial + restocked - sold, "{backend:?} {sku}: stock = initial + restocks - sold");
            assert!(stock >= 0);
            let stats = scalar(
                &db,
                &format!("SELECT CAST(COALESCE(MAX(units_sold), 0) AS BIGINT) FROM product_stats WHERE sku = '{sku}'"),
            )
            .await;
            assert_eq!(stats, sold, "{backend:?} {sku}: the stats consumer counted each order once");
        }
        for (sku, (acknowledged, retried)) in &acknowledged_stock {
            let payloads: Vec<String> = sqlx::query_scalar(
                "SELECT payload FROM domain_events WHERE kind = 'stock_changed' AND aggregate = $1 AND id > $2",
            )
            .bind(sku)
            .bind(last_event_before)
            .fetch_all(db.pool())
            .await
            .unwrap();
            let mut logged: HashMap<i64, usize> = HashMap::new();
            for raw in payloads {
                let event: serde_json::Value = serde_json::from_str(&raw).unwrap();
                if event["source"] == "inventory" {
                    *logged.entry(event["stock"].as_i64().unwrap()).or_default() += 1;
                }
            }
            for stock in acknowledged {
                assert_eq!(logged.get(stock), Some(&1), "{backend:?}: update {sku} → {stock} is in the log once");
            }
            // The update cut off by the kill may have committed before its retry: one or two
            // events, the stock the same either way.
            if let Some(stock) = retried {
                let n = logged.get(stock).copied().unwrap_or(0);
                assert!((1..=2).contains(&n), "{backend:?}: retried update {sku} → {stock} logged {n} times");
            }
            let n_logged: usize = logged.values().sum();
            let n_sent = acknowledged.len() + usize::from(retried.is_some());
            assert!(n_logged <= n_sent + 1, "{backend:?}: {sku}: no update that was never sent");
        }

        // Points: every balance is its ledger's sum; each order redeemed and earned once.
        let accounts: Vec<(i64, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT a.user_id, a.balance, a.pending, \
             CAST(COALESCE(SUM(CASE WHEN l.bucket = 'available' THEN l.delta ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN l.bucket = 'pending' THEN l.delta ELSE 0 END), 0) AS BIGINT) \
             FROM points_accounts a LEFT JOIN points_ledger l ON l.user_id = a.user_id \
             GROUP BY a.user_id, a.balance, a.pending",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        assert!(accounts.len() >= N_SHOPPERS);
        for (user_id, balance, pending, available_sum, pending_sum) in accounts {
            assert_eq!((balance, pending), (available_sum, pending_sum), "{backend:?}: user {user_id} vs ledger");
            if user_id >= first_user {
                let expected = if orders_per_user.contains_key(&user_id) { 900 } else { 1000 };
                assert_eq!(balance, expected, "{backend:?}: user {user_id} spent points once or not at all");
                assert_eq!(pending > 0, orders_per_user.contains_key(&user_id), "{backend:?}: user {user_id} earn");
            }
        }
        for (id, _, _) in &orders {
            let rows = scalar(
                &db,
                &format!("SELECT COUNT(*) FROM points_ledger WHERE source IN ('order:{id}:redeem', 'order:{id}:earn')"),
            )
            .await;
            assert_eq!(rows, 2, "{backend:?}: order {id} redeemed and earned once");
        }

        // Events: each has its deliveries, and each delivery was applied exactly once.
        let kinds: Vec<(String, i64)> =
            sqlx::query_as("SELECT kind, COUNT(*) FROM domain_events WHERE id > $1 GROUP BY kind")
                .bind(last_event_before)
                .fetch_all(db.pool())
                .await
                .unwrap();
        for (kind, n_events) in kinds {
            let n_consumers = events::SUBSCRIPTIONS.iter().filter(|(_, kinds)| kinds.contains(&kind.as_str())).count();
            let n_deliveries: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM event_deliveries d JOIN domain_events e ON e.id = d.event_id \
                 WHERE e.kind = $1 AND e.id > $2 AND d.done_at IS NOT NULL AND d.attempts = 1",
            )
            .bind(&kind)
            .bind(last_event_before)
            .fetch_one(db.pool())
            .await
            .unwrap();
            assert_eq!(n_deliveries, n_events * n_consumers as i64, "{backend:?}: {kind} applied once per consumer");
        }
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM event_deliveries WHERE attempts <> 1").await, 0, "{backend:?}");
        db.close().await;
    }
}

/// A PostgreSQL cluster of the test's own (initdb + pg_ctl in a temp dir, on a free port),
/// so the test may stop and start it. Stopped and removed on drop.
struct OwnCluster {
    bin: std::path::PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_root: bool,
}

impl OwnCluster {
    /// `None` when the PostgreSQL server binaries are not installed (outside CI only).
    fn start() -> Option<OwnCluster> {
        let bin = std::path::PathBuf::from("/usr/lib/postgresql/15/bin");
        if !bin.join("pg_ctl").exists() {
            assert!(std::env::var("CI").is_err(), "CI must have PostgreSQL 15 in {} (./x installs it)", bin.display());
            eprintln!("{} has no pg_ctl: PostgreSQL restart test skipped", bin.display());
            return None;
        }
        let as_root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
        let dir = tempfile::tempdir().expect("temp dir");
        if as_root {
            // PostgreSQL refuses to run as root.
            assert!(Command::new("chown").arg("postgres").arg(dir.path()).status().unwrap().success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = OwnCluster { bin, dir, port, as_root };
        let data = cluster.dir.path().join("data");
        cluster.run("initdb", &["-D", data.to_str().unwrap(), "-A", "trust", "-U", "mercato"]);
        cluster.pg_ctl("start");
        Some(cluster)
    }

    fn url(&self) -> String {
        format!("postgres://mercato@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let tool = self.bin.join(tool);
        let mut command = if self.as_root {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(tool);
            command
        } else {
            Command::new(tool)
        };
        let output = command.args(args).stdout(Stdio::null()).output().expect("run PostgreSQL tool");
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }

    fn pg_ctl(&self, action: &str) {
        let dir = self.dir.path();
        let (data, log) = (dir.join("data"), dir.join("log"));
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, dir.display());
        let mut args = vec!["-D", data.to_str().unwrap(), "-w", "-t", "60", "-l", log.to_str().unwrap()];
        if action == "stop" {
            args.extend(["-m", "fast"]);
        }
        args.extend(["-o", options.as_str(), action]);
        self.run("pg_ctl", &args);
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.run("pg_ctl", &["-D", data.to_str().unwrap(), "-m", "immediate", "stop"])
        }));
    }
}

async fn health(server: &ServerProcess) -> Option<u16> {
    reqwest::Client::new()
        .get(server.url("/healthz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()
        .map(|response| response.status().as_u16())
}

/// Polls `/healthz` (bounded) until it answers `status`.
async fn health_becomes(server: &ServerProcess, status: u16, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let seen = health(server).await;
        if seen == Some(status) {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "/healthz still answers {seen:?}, not {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn postgres_restarted_under_the_app_turns_healthz_503_then_recovers_and_loses_nothing() {
    let Some(cluster) = OwnCluster::start() else { return };
    let url = cluster.url();
    let db = Db::connect(&url, 2).await.unwrap();
    db.migrate().await.unwrap();
    app::catalog::ssr::seed_catalog(&db, &server::seed::demo_catalog()).await.unwrap();
    worker::drain(&db).await.unwrap();
    db.close().await;

    let mut server = ServerProcess::start(&url);
    health_becomes(&server, 200, Duration::from_secs(10)).await;
    let client = shopper_client();
    let register_url = server.url("/api/v1/auth/register");
    let register = |email: &'static str| {
        let (client, url) = (client.clone(), register_url.clone());
        async move {
            client
                .post(url)
                .json(&json!({ "email": email, "password": PASSWORD, "display_name": "Pat" }))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(register("before@example.com").await, 201);
    assert_eq!(put_stock(&server.address, "TEA-001", 77).await, Some(200));
    let added = client.post(server.url("/api/v1/cart/items")).json(&json!({ "sku": "COF-001", "quantity": 2 }));
    assert_eq!(added.send().await.unwrap().status(), 200);
    let cart: serde_json::Value = client.get(server.url("/api/v1/cart")).send().await.unwrap().json().await.unwrap();
    let order_before = checkout(&client, &server.address, cart["total_cents"].as_i64().unwrap(), 0).await;
    let Outcome::Placed(order_before) = order_before else { panic!("order before the outage: {order_before:?}") };

    cluster.pg_ctl("stop");
    let noticed = health_becomes(&server, 503, Duration::from_secs(30)).await;
    assert!(server.is_running(), "the app outlives its database");
    // Requests that need the database fail while it is down; none may take the app with it.
    let during = client.get(server.url("/api/v1/cart")).timeout(Duration::from_secs(60)).send().await;
    assert!(during.map(|r| r.status().is_server_error()).unwrap_or(true));
    assert!(server.is_running());

    cluster.pg_ctl("start");
    let recovered = health_becomes(&server, 200, Duration::from_secs(60)).await;
    eprintln!("PostgreSQL outage: /healthz 503 after {noticed:?}, 200 again {recovered:?} after restart");

    // Writes after recovery succeed, on the same session and new ones.
    assert_eq!(put_stock(&server.address, "TEA-001", 55).await, Some(200));
    let added = client.post(server.url("/api/v1/cart/items")).json(&json!({ "sku": "TEA-002", "quantity": 1 }));
    assert_eq!(added.send().await.unwrap().status(), 200);
    let cart: serde_json::Value = client.get(server.url("/api/v1/cart")).send().await.unwrap().json().await.unwrap();
    let order_after = checkout(&client, &server.address, cart["total_cents"].as_i64().unwrap(), 0).await;
    assert!(matches!(order_after, Outcome::Placed(_)), "order after recovery: {order_after:?}");
    assert_eq!(register("after@example.com").await, 201);

    // Nothing acknowledged before the outage is lost, and the outbox worker came back too.
    let db = Db::connect(&url, 2).await.unwrap();
    drained(&db, Duration::from_secs(60)).await;
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM users WHERE email IN ('before@example.com', 'after@example.com')").await,
        2
    );
    assert_eq!(scalar(&db, &format!("SELECT COUNT(*) FROM orders WHERE id = {order_before}")).await, 1);
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM orders").await, 2);
    assert_eq!(scalar(&db, "SELECT stock FROM products WHERE sku = 'TEA-001'").await, 55);
    let price_seen: i64 =
        scalar(&db, "SELECT COUNT(*) FROM event_deliveries WHERE consumer = 'pricing' AND done_at IS NULL").await;
    assert_eq!(price_seen, 0, "every stock change reached pricing");
    db.close().await;
    drop(server);
    drop(cluster);
}
