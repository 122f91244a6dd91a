//! Repricing throughput after a competitor batch, for `./x bench` (`mercato bench-repricing`,
//! a hidden subcommand). Builds the real application on a fresh SQLite database of its own
//! (a temporary directory) with `skus` products and shop-wide rules that match the lowest
//! competitor price, starts it on a random port, and sends `rounds` batches of one offer per
//! product through `PUT /api/v1/competitor-prices` over TCP, each offer lower than the last
//! so every price changes. A round is timed from the first byte sent to the response, which
//! comes after the import's transaction (offers, repricing, history, `price_changed`)
//! committed; the command then checks every product carries its round's price. Prints one
//! JSON object on stdout: `import_ms` (summary over the rounds), `repriced_per_round`,
//! `body_bytes`, and `goal_ms` (2,000).

use crate::config::Settings;
use crate::sample::summary;
use crate::startup::Application;
use app::pricing::domain::{CompetitorMode, RuleSet};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "bench-repricing-token";
const GOAL_MS: f64 = 2_000.0;

pub async fn run(skus: usize, rounds: usize) -> anyhow::Result<()> {
    anyhow::ensure!((1..=app::pricing::offers::MAX_OFFERS_PER_BATCH).contains(&skus), "--skus must be 1 to 10000");
    anyhow::ensure!((1..=20).contains(&rounds), "--rounds must be 1 to 20");
    let dir = tempfile_dir()?;
    let settings = Settings {
        database_url: format!("sqlite://{}/repricing.db?mode=rwc", dir.display()),
        addr: "127.0.0.1:0".parse()?,
        inventory_token: Some(TOKEN.into()),
        seed_demo: false,
        ..Settings::from_env()?
    };
    let application = Application::build(settings).await?;
    let port = application.port();
    let db = application.db();
    tokio::spawn(application.run_until(std::future::pending()));

    let base_cents = |i: usize| 1_000 + (i as i64 % 500) * 10;
    insert_products(&db, skus, base_cents).await?;
    let rules = RuleSet { competitor: CompetitorMode::Match, max_step_bp: 0, ..RuleSet::default() };
    app::pricing::ssr::save_rules(&db, &app::pricing::ssr::Scope::Global, &rules, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // The rules change reprices every product in the background; let it finish first.
    app::events::worker::drain(&db).await?;
    while app::events::worker::pending(&db).await? > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let mut timings = Vec::with_capacity(rounds);
    let mut repriced = Vec::with_capacity(rounds);
    let mut body_bytes = 0;
    for round in 0..rounds {
        // 90 %, 89 %, … of the base price: above the floor (no cost), so each is charged.
        let percent = 90 - round as i64;
        let observed_at = app::shared::now_ms() - 60_000;
        let offers: Vec<serde_json::Value> = (0..skus)
            .map(|i| {
                serde_json::json!({
                    "sku": sku(i), "source": "bench-competitor",
                    "price_cents": base_cents(i) * percent / 100, "observed_at": observed_at,
                })
            })
            .collect();
        let body = serde_json::to_vec(&serde_json::json!({ "offers": offers }))?;
        body_bytes = body.len();
        let started = Instant::now();
        let (status, response) = put(port, "/api/v1/competitor-prices", &body).await?;
        timings.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(status == 200, "import answered {status}: {response}");
        let summary: serde_json::Value = serde_json::from_str(&response)?;
        repriced.push(summary["repriced"].as_i64().unwrap_or(0));
        let wrong: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM products WHERE price_cents <> (base_cents * $1) / 100 OR price_reason <> 'competitor'",
        )
        .bind(percent)
        .fetch_one(db.pool())
        .await?;
        anyhow::ensure!(wrong == 0, "round {round}: {wrong} products do not carry the competitor price");
    }
    let import_ms = summary(&mut timings);
    let p50 = import_ms["p50"].as_f64().unwrap_or(f64::MAX);
    let result = serde_json::json!({
        "backend": "sqlite",
        "skus": skus,
        "rounds": rounds,
        "body_bytes": body_bytes,
        "import_ms": import_ms,
        "repriced_per_round": repriced,
        "goal_ms": GOAL_MS,
        "within_goal": p50 <= GOAL_MS,
    });
    println!("{result}");
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn sku(i: usize) -> String {
    format!("BENCH-{i:05}")
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("mercato-bench-repricing-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// One category and `n` products, each with its listing price in the history, in multi-row
/// inserts.
async fn insert_products(db: &app::db::Db, n: usize, base_cents: impl Fn(usize) -> i64) -> anyhow::Result<()> {
    let now = app::shared::now_ms();
    let mut tx = db.begin_write().await?;
    sqlx::query("INSERT INTO categories (slug, name, description) VALUES ('bench', 'Bench', 'Repricing bench')")
        .execute(&mut *tx)
        .await?;
    let indexes: Vec<usize> = (0..n).collect();
    for chunk in indexes.chunks(500) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|&i| {
                let base = base_cents(i);
                format!("('{}', 'Bench product {i}', 'bench', '', '', {base}, 0, {base}, 50, {now}, {now})", sku(i))
            })
            .collect();
        sqlx::query(&format!(
            "INSERT INTO products (sku, name, category_slug, description, image, base_cents, cost_cents, \
             price_cents, stock, created_at, updated_at) VALUES {}",
            rows.join(", ")
        ))
        .execute(&mut *tx)
        .await?;
        let history: Vec<String> =
            chunk.iter().map(|&i| format!("('{}', {}, 'base', {now})", sku(i), base_cents(i))).collect();
        sqlx::query(&format!(
            "INSERT INTO price_history (sku, price_cents, reason, created_at) VALUES {}",
            history.join(", ")
        ))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A bare HTTP/1.1 PUT with the bench's bearer token; the status and the body.
async fn put(port: u16, path: &str, body: &[u8]) -> anyhow::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response);
    let status = text.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default();
    Ok((status, body))
}
