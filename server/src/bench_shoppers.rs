//! Simulated shoppers for the scale-out benchmark (`mercato bench-shoppers`, a hidden
//! subcommand that `bench/scaleout.sh` runs against a load balancer in front of one or more
//! app servers on one PostgreSQL). Prints one JSON object on stdout.
//!
//! Each shopper has an account (registered before the clock starts) and its own cookie jar
//! and connection, and loops until the time is up: the home page, a category page, a product
//! page, adds that product to the cart, and in every third round (the first included) looks
//! at the cart and checks out at the total it shows. Products are picked at random (a fixed seed per shopper) over
//! the whole catalog, so scarce products sell out during the run and later checkouts of them
//! are refused (409), which is the contention the oversell check is about.
//!
//! After the run the database itself is checked: for every product, the stock at the start
//! minus the units of the orders placed during the run must be the stock at the end, and
//! never below zero (nothing else moves stock during the run).

use crate::sample::{summary, SplitMix64};
use app::db::Db;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The routes measured, in the order a shopper visits them.
const ROUTES: [&str; 6] = ["home", "category", "product", "add_to_cart", "cart", "checkout"];
const PASSWORD: &str = "bench shopper passphrase";
/// Registrations in flight at once while setting up (argon2 is meant to be slow).
const SETUP_CONCURRENCY: usize = 8;

#[derive(Default)]
struct Tally {
    latency_ms: HashMap<&'static str, Vec<f64>>,
    status: HashMap<&'static str, BTreeMap<u16, u64>>,
    /// Requests that got no HTTP answer at all (connection refused or reset, timeout).
    transport_errors: u64,
    orders: u64,
    refused_checkouts: u64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for (route, samples) in other.latency_ms {
            self.latency_ms.entry(route).or_default().extend(samples);
        }
        for (route, statuses) in other.status {
            let mine = self.status.entry(route).or_default();
            for (status, n) in statuses {
                *mine.entry(status).or_default() += n;
            }
        }
        self.transport_errors += other.transport_errors;
        self.orders += other.orders;
        self.refused_checkouts += other.refused_checkouts;
    }
}

struct Catalog {
    products: Vec<(String, String)>,
}

/// One timed request; `None` when no answer came.
async fn timed(
    tally: &mut Tally,
    route: &'static str,
    request: reqwest::RequestBuilder,
) -> Option<(u16, serde_json::Value)> {
    let started = Instant::now();
    let response = request.send().await;
    let answered = match response {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.bytes().await;
            body.ok().map(|body| (status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null)))
        }
        Err(_) => None,
    };
    let Some((status, body)) = answered else {
        tally.transport_errors += 1;
        return None;
    };
    tally.latency_ms.entry(route).or_default().push(started.elapsed().as_secs_f64() * 1000.0);
    *tally.status.entry(route).or_default().entry(status).or_default() += 1;
    Some((status, body))
}

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(1)
        .build()?)
}

async fn register(target: &str, label: &str, n: usize) -> anyhow::Result<reqwest::Client> {
    let client = client()?;
    let nonce = &app::accounts::ssr::random_token()[..8];
    let response = client
        .post(format!("{target}/api/v1/auth/register"))
        .json(&json!({
            "email": format!("bench-{label}-{n}-{nonce}@example.com"),
            "password": PASSWORD,
            "display_name": format!("Bench shopper {n}"),
        }))
        .send()
        .await?;
    anyhow::ensure!(response.status() == 201, "register answered {}", response.status());
    Ok(client)
}

async fn shop(client: reqwest::Client, target: Arc<str>, catalog: Arc<Catalog>, seed: u64, until: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut random = SplitMix64(seed);
    let mut round = 0u64;
    while Instant::now() < until {
        round += 1;
        let (sku, category) = &catalog.products[random.index(catalog.products.len())];
        timed(&mut tally, "home", client.get(format!("{target}/"))).await;
        timed(&mut tally, "category", client.get(format!("{target}/category/{category}"))).await;
        timed(&mut tally, "product", client.get(format!("{target}/products/{sku}"))).await;
        let add = client.post(format!("{target}/api/v1/cart/items")).json(&json!({ "sku": sku, "quantity": 1 }));
        timed(&mut tally, "add_to_cart", add).await;
        // Rounds 1, 4, 7, …: a short run still checks out.
        if round % 3 != 1 || Instant::now() >= until {
            continue;
        }
        let Some((200, cart)) = timed(&mut tally, "cart", client.get(format!("{target}/api/v1/cart"))).await else {
            continue;
        };
        let total = cart["total_cents"].as_i64().unwrap_or(0);
        if cart["items"].as_array().is_none_or(|items| items.is_empty()) {
            continue;
        }
        let checkout = client
            .post(format!("{target}/api/v1/checkout"))
            .json(&json!({ "expected_total_cents": total, "redeem_points": 0 }));
        match timed(&mut tally, "checkout", checkout).await {
            Some((201, _)) => tally.orders += 1,
            Some((409, _)) => {
                tally.refused_checkouts += 1;
                // Sold out or repriced: start a new cart, as a shopper would after the notice.
                if let Some((_, cart)) = timed(&mut tally, "cart", client.get(format!("{target}/api/v1/cart"))).await {
                    for item in cart["items"].as_array().into_iter().flatten() {
                        if let Some(sku) = item["sku"].as_str() {
                            let _ = client.delete(format!("{target}/api/v1/cart/items/{sku}")).send().await;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    tally
}

async fn stock_levels(db: &Db) -> anyhow::Result<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT sku, stock FROM products").fetch_all(db.pool()).await?;
    Ok(rows.into_iter().collect())
}

/// Runs `shoppers` simulated shoppers against `target` for `seconds` and prints the JSON.
/// `database_url` is the database behind the servers, for the oversell check; `servers`
/// only labels the result.
pub async fn run(
    database_url: &str,
    target: &str,
    shoppers: usize,
    seconds: u64,
    servers: usize,
) -> anyhow::Result<()> {
    let db = Db::connect(database_url, 4).await?;
    let target: Arc<str> = target.trim_end_matches('/').into();
    let products: Vec<(String, String)> =
        sqlx::query_as("SELECT sku, category_slug FROM products ORDER BY sku").fetch_all(db.pool()).await?;
    anyhow::ensure!(!products.is_empty(), "the shop has no products: seed it first");
    let catalog = Arc::new(Catalog { products });
    let label = format!("s{servers}");

    let setup_started = Instant::now();
    let mut clients = Vec::with_capacity(shoppers);
    for batch in (0..shoppers).collect::<Vec<_>>().chunks(SETUP_CONCURRENCY) {
        let registrations = batch.iter().map(|n| register(&target, &label, *n));
        for client in futures::future::join_all(registrations).await {
            clients.push(client?);
        }
    }
    let setup_seconds = setup_started.elapsed().as_secs_f64();

    let stock_before = stock_levels(&db).await?;
    let last_order_before: i64 =
        sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM orders").fetch_one(db.pool()).await?;
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(n, client)| tokio::spawn(shop(client, target.clone(), catalog.clone(), 1 + n as u64, until)))
        .collect();
    let mut tally = Tally::default();
    for task in tasks {
        tally.merge(task.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();

    // Let the servers finish what they acknowledged before reading the stock.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stock_after = stock_levels(&db).await?;
    let sold: Vec<(String, i64)> = sqlx::query_as(
        "SELECT l.sku, CAST(SUM(l.quantity) AS BIGINT) FROM order_lines l WHERE l.order_id > $1 GROUP BY l.sku",
    )
    .bind(last_order_before)
    .fetch_all(db.pool())
    .await?;
    let sold: HashMap<String, i64> = sold.into_iter().collect();
    let orders_in_db: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE id > $1")
        .bind(last_order_before)
        .fetch_one(db.pool())
        .await?;
    let mut oversold = Vec::new();
    let mut mismatched = Vec::new();
    for (sku, before) in &stock_before {
        let units = sold.get(sku).copied().unwrap_or(0);
        let after = stock_after.get(sku).copied().unwrap_or(0);
        if units > *before || after < 0 {
            oversold.push(sku.clone());
        }
        if after != before - units {
            mismatched.push(sku.clone());
        }
    }
    let units_sold: i64 = sold.values().sum();
    db.close().await;

    let n_requests: usize = tally.latency_ms.values().map(Vec::len).sum();
    let n_5xx: u64 =
        tally.status.values().flat_map(|statuses| statuses.iter()).filter(|(s, _)| **s >= 500).map(|(_, n)| n).sum();
    let mut routes = serde_json::Map::new();
    for route in ROUTES {
        let mut samples = tally.latency_ms.remove(route).unwrap_or_default();
        if samples.is_empty() {
            continue;
        }
        let statuses = tally.status.remove(route).unwrap_or_default();
        let mut figures = summary(&mut samples);
        figures["status"] = json!(statuses.iter().map(|(s, n)| (s.to_string(), *n)).collect::<BTreeMap<_, _>>());
        routes.insert(route.to_string(), figures);
    }
    let result = json!({
        "servers": servers,
        "shoppers": shoppers,
        "seconds": elapsed,
        "setup_seconds": setup_seconds,
        "requests": n_requests,
        "requests_per_s": n_requests as f64 / elapsed,
        "status_5xx": n_5xx,
        "transport_errors": tally.transport_errors,
        "orders": tally.orders,
        "orders_in_db": orders_in_db,
        "refused_checkouts": tally.refused_checkouts,
        "units_sold": units_sold,
        "oversold_skus": oversold,
        "stock_mismatches": mismatched,
        "routes": routes,
    });
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}
