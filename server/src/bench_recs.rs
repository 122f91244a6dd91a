//! Recommendations at scale, for `./x bench` (`mercato bench-recs`, a hidden subcommand, on
//! the database `DATABASE_URL` names; give it a fresh one). Seeds the demo shop with at least
//! `order_lines` order lines (`seed_demo`, which rebuilds `co_purchases` from them), then
//! measures in process and prints one JSON object on stdout:
//!
//! - `latency_ms`: `recommend(..., limit 8)` per kind, `queries` calls each: upsell, cross-sell
//!   and frequently bought together around a pseudo-random product, for a seeded shopper or an
//!   anonymous visitor in turn; for you for a seeded shopper with a few recent views or a cold
//!   visitor in turn. p50 / p95 / p99 per kind and over all, and per kind for the shoppers and
//!   the anonymous visitors apart (`latency_ms_by_viewer`; a seeded shopper has thousands of
//!   orders, and every kind but frequently bought together leaves out what they own).
//! - `apply_order_us`: what the `recommendations` consumer does per order, `add_order` in its
//!   own write transaction (begin, add, commit: the commit is included), for 1,000 random
//!   1–4-product orders; p50 / p99.
//! - `peak_rss_mb`: the process's peak RSS (VmHWM) after the queries (the seed included), and
//!   `co_purchase_rows`: the size of the co-purchase table, bounded by products² whatever the
//!   number of orders.
//! - `co_purchases_match`: the table after the 1,000 incremental orders equals a full
//!   recomputation from the order lines (the command fails if not).

use crate::sample::{summary, SplitMix64};
use app::db::Db;
use app::recommendations::domain::{Kind, RecRules};
use app::recommendations::ssr::{add_order, recommend, Viewer};
use app::shared::now_ms;
use std::collections::BTreeMap;
use std::time::Instant;

/// Orders applied one by one to time `add_order`.
const APPLIED_ORDERS: usize = 1_000;
/// Products per recommendation list.
const LIMIT: i64 = 8;
/// Untimed queries per kind first, so the timed ones do not pay for a cold page cache.
const WARM_UP: usize = 20;
/// Seeded shoppers given recent views for `for_you`.
const VIEWING_SHOPPERS: usize = 4;
/// Expected lines per seeded order (1–4, repeats dropped): the first estimate of orders to seed.
const LINES_PER_ORDER: f64 = 2.5;

async fn count(db: &Db, sql: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(db.pool()).await?)
}

/// The process's peak resident set size in MB (`VmHWM`), where /proc has it.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Seeds orders until there are at least `target` order lines: a first estimate, then top-ups
/// for the shortfall (repeated products in a basket make the average a little under 2.5).
async fn seed(db: &Db, target: u64) -> anyhow::Result<()> {
    let mut orders = (target as f64 / LINES_PER_ORDER).ceil() as u64;
    loop {
        eprintln!("seeding {orders} orders");
        crate::seed::seed_demo(db, orders, true).await?;
        let lines = count(db, "SELECT COUNT(*) FROM order_lines").await? as u64;
        if lines >= target {
            return Ok(());
        }
        // Divide by a little less than the average so the next round is the last one.
        orders = ((target - lines) as f64 / (LINES_PER_ORDER - 0.3)).ceil() as u64;
    }
}

pub async fn run(database_url: &str, order_lines: u64, queries: usize) -> anyhow::Result<()> {
    anyhow::ensure!(queries > 0, "--queries must be positive");
    let db = Db::connect(database_url, 4).await?;
    db.migrate().await?;
    let backend = format!("{:?}", db.backend()).to_lowercase();

    let started = Instant::now();
    seed(&db, order_lines).await?;
    let seed_seconds = started.elapsed().as_secs_f64();
    // Fresh statistics, as a long-running shop's database has them.
    sqlx::query("ANALYZE").execute(db.pool()).await?;
    let lines = count(&db, "SELECT COUNT(*) FROM order_lines").await?;
    let orders = count(&db, "SELECT COUNT(*) FROM orders").await?;
    eprintln!("seeded {orders} orders, {lines} order lines in {seed_seconds:.1} s");

    let products: Vec<(String, i64)> =
        sqlx::query_as("SELECT sku, CAST(price_cents AS BIGINT) FROM products ORDER BY sku")
            .fetch_all(db.pool())
            .await?;
    let shoppers: Vec<i64> = sqlx::query_scalar(
        "SELECT CAST(id AS BIGINT) FROM users WHERE email LIKE 'shopper%@demo.mercato.test' ORDER BY id",
    )
    .fetch_all(db.pool())
    .await?;
    anyhow::ensure!(products.len() >= 4 && !shoppers.is_empty(), "the seed left no products or shoppers");

    // A few seeded shoppers have recent views (as the consumer keeps them) for `for_you`.
    let mut rng = SplitMix64(0x5EC5_0001);
    let now = now_ms();
    let viewing: Vec<Viewer> = shoppers
        .iter()
        .take(VIEWING_SHOPPERS)
        .map(|&id| Viewer { user_id: Some(id), visitor_id: format!("bench-recs-{id}"), cart_owner: format!("u:{id}") })
        .collect();
    for viewer in &viewing {
        for n in 0..5 {
            let sku = &products[rng.index(products.len())].0;
            sqlx::query(
                "INSERT INTO visitor_views (visitor_id, sku, viewed_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (visitor_id, sku) DO UPDATE SET viewed_at = excluded.viewed_at",
            )
            .bind(&viewer.visitor_id)
            .bind(sku)
            .bind(now - 60_000 * n)
            .execute(db.pool())
            .await?;
        }
    }
    let cold = Viewer { user_id: None, visitor_id: "bench-recs-cold".into(), cart_owner: "v:bench-recs-cold".into() };
    // Viewers of the product kinds: each seeded shopper and an anonymous visitor in turn.
    let shopper_viewer =
        |id: i64| Viewer { user_id: Some(id), visitor_id: format!("bench-recs-{id}"), cart_owner: format!("u:{id}") };

    let rules = RecRules::default();
    let mut latency = serde_json::Map::new();
    let mut all = Vec::with_capacity(queries * Kind::ALL.len());
    let mut by_viewer = serde_json::Map::new();
    let mut empty = BTreeMap::<&str, usize>::new();
    for kind in Kind::ALL {
        eprintln!("timing {queries} {} queries", kind.key());
        let mut samples = Vec::with_capacity(queries);
        let (mut shopper, mut visitor) = (Vec::new(), Vec::new());
        for i in 0..WARM_UP + queries {
            let (sku, viewer) = if kind == Kind::ForYou {
                let viewer = if i % 2 == 0 { viewing[(i / 2) % viewing.len()].clone() } else { cold.clone() };
                (None, viewer)
            } else {
                let sku = products[rng.index(products.len())].0.as_str();
                let viewer = if i % 2 == 0 { shopper_viewer(shoppers[(i / 2) % shoppers.len()]) } else { cold.clone() };
                (Some(sku), viewer)
            };
            let query_started = Instant::now();
            let picks = recommend(&db, &rules, kind, sku, &viewer, LIMIT).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let ms = query_started.elapsed().as_secs_f64() * 1000.0;
            if i < WARM_UP {
                continue;
            }
            if picks.is_empty() {
                *empty.entry(kind.key()).or_default() += 1;
            }
            samples.push(ms);
            all.push(ms);
            if viewer.user_id.is_some() {
                shopper.push(ms)
            } else {
                visitor.push(ms)
            }
        }
        latency.insert(kind.key().into(), summary(&mut samples));
        by_viewer.insert(
            kind.key().into(),
            serde_json::json!({ "shopper": summary(&mut shopper), "visitor": summary(&mut visitor) }),
        );
    }
    latency.insert("all".into(), summary(&mut all));
    let peak_rss_mb = peak_rss_mb();

    // The 1,000 synthetic orders are first written as orders and lines (untimed, one
    // transaction), so that afterwards the incrementally kept table can be compared with a
    // full recomputation from all order lines; only `add_order` + commit is timed.
    let baskets: Vec<Vec<usize>> = (0..APPLIED_ORDERS)
        .map(|_| {
            let mut basket = Vec::new();
            for _ in 0..1 + rng.index(4) {
                let pick = rng.index(products.len());
                if !basket.contains(&pick) {
                    basket.push(pick);
                }
            }
            basket
        })
        .collect();
    let mut tx = db.begin_write().await?;
    for (n, basket) in baskets.iter().enumerate() {
        let total: i64 = basket.iter().map(|&i| products[i].1).sum();
        let order_id: i64 = sqlx::query_scalar(
            "INSERT INTO orders (user_id, total_cents, status, created_at, status_changed_at) \
             VALUES ($1, $2, 'fulfilled', $3, $3) RETURNING id",
        )
        .bind(shoppers[n % shoppers.len()])
        .bind(total)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for &i in basket {
            sqlx::query(
                "INSERT INTO order_lines (order_id, sku, name, quantity, unit_cents) \
                 SELECT $1, sku, name, 1, price_cents FROM products WHERE sku = $2",
            )
            .bind(order_id)
            .bind(&products[i].0)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    eprintln!("timing add_order for {APPLIED_ORDERS} orders");
    let mut apply_us = Vec::with_capacity(APPLIED_ORDERS);
    for basket in &baskets {
        let skus: Vec<String> = basket.iter().map(|&i| products[i].0.clone()).collect();
        let apply_started = Instant::now();
        let mut tx = db.begin_write().await?;
        add_order(&mut tx, &skus).await?;
        tx.commit().await?;
        apply_us.push(apply_started.elapsed().as_secs_f64() * 1_000_000.0);
    }
    let mut apply_order_us = summary(&mut apply_us);
    apply_order_us["lines_per_order"] =
        serde_json::json!(baskets.iter().map(Vec::len).sum::<usize>() as f64 / APPLIED_ORDERS as f64);
    apply_order_us["includes_commit"] = serde_json::json!(true);

    // The incremental table against a full recomputation from every order line.
    eprintln!("checking co_purchases against a full recomputation");
    let kept: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT sku_a, sku_b, CAST(orders AS BIGINT) FROM co_purchases").fetch_all(db.pool()).await?;
    let full: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT a.sku, b.sku, CAST(COUNT(*) AS BIGINT) FROM order_lines a \
         JOIN order_lines b ON b.order_id = a.order_id AND b.sku <> a.sku GROUP BY a.sku, b.sku",
    )
    .fetch_all(db.pool())
    .await?;
    let as_map = |rows: Vec<(String, String, i64)>| {
        rows.into_iter().map(|(a, b, n)| ((a, b), n)).collect::<BTreeMap<(String, String), i64>>()
    };
    let (kept, full) = (as_map(kept), as_map(full));
    let differing = full.iter().filter(|(pair, n)| kept.get(*pair) != Some(n)).count()
        + kept.keys().filter(|pair| !full.contains_key(*pair)).count();
    let total_kept = count(&db, "SELECT CAST(orders AS BIGINT) FROM co_purchase_totals WHERE id = 1").await?;
    let total_full = count(&db, "SELECT COUNT(DISTINCT order_id) FROM order_lines").await?;
    if differing > 0 || total_kept != total_full {
        anyhow::bail!(
            "co_purchases differs from a full recomputation: {differing} pairs differ, \
             co_purchase_totals {total_kept} against {total_full} orders"
        );
    }
    let db_bytes =
        count(&db, "SELECT CAST(page_count * page_size AS BIGINT) FROM pragma_page_count(), pragma_page_size()")
            .await
            .ok();

    let report = serde_json::json!({
        "backend": backend,
        "order_lines": lines,
        "orders": orders,
        "products": products.len(),
        "shoppers": shoppers.len(),
        "seed_seconds": seed_seconds,
        "queries": queries,
        "limit": LIMIT,
        "latency_ms": latency,
        "latency_ms_by_viewer": by_viewer,
        "empty_lists": empty,
        "apply_order_us": apply_order_us,
        "peak_rss_mb": peak_rss_mb,
        "co_purchase_rows": kept.len(),
        "co_purchase_rows_bound": products.len() * (products.len() - 1),
        "db_bytes": db_bytes,
        "co_purchases_match": true,
    });
    println!("{report}");
    db.close().await;
    Ok(())
}
