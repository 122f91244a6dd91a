//! Dynamic pricing end to end: webhook or checkout → `stock_changed` → pricing consumer →
//! new price, history, Omnibus reference, `price_changed`, live stream.

use crate::helpers::{backends, shopper_client, spawn_app, TestApp};
use serde_json::json;
use std::time::{Duration, Instant};

async fn product(app: &TestApp, sku: &str) -> serde_json::Value {
    app.get(&format!("/api/v1/products/{sku}")).await.json().await.unwrap()
}

async fn history_len(app: &TestApp, sku: &str) -> i64 {
    app.count(&format!("SELECT COUNT(*) FROM price_history WHERE sku = '{sku}'")).await
}

#[tokio::test]
async fn scarcity_raises_the_price_from_base_once_and_never_compounds() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.settle().await;
        let before = product(&app, "COF-001").await;
        let base = before["price"]["base_cents"].as_i64().unwrap();
        assert_eq!(before["price"]["amount_cents"], base, "42 in stock: base price");

        app.set_stock("COF-001", 3).await;
        app.settle().await;
        let raised = product(&app, "COF-001").await;
        let expected = (base * 115 + 50) / 100;
        assert_eq!(raised["price"]["amount_cents"], expected, "{backend:?}: +15% of base");
        assert_eq!(raised["price"]["reason"], "low_stock");
        assert!(raised["price"]["lowest_30d_cents"].is_null(), "a rise is not a reduction");
        let n_history = history_len(&app, "COF-001").await;

        // The same signal again and again: the price is a function of base, not of itself.
        for stock in [3, 2, 3, 4, 3] {
            app.set_stock("COF-001", stock).await;
        }
        app.settle().await;
        assert_eq!(product(&app, "COF-001").await["price"]["amount_cents"], expected);
        assert_eq!(history_len(&app, "COF-001").await, n_history, "no change, no history row");
    }
}

#[tokio::test]
async fn a_reduction_shows_the_lowest_price_of_the_prior_30_days() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.settle().await;
        let base = product(&app, "COF-001").await["price"]["base_cents"].as_i64().unwrap();

        app.set_stock("COF-001", 150).await;
        app.settle().await;
        let reduced = product(&app, "COF-001").await;
        assert_eq!(reduced["price"]["amount_cents"], (base * 95 + 50) / 100);
        assert_eq!(reduced["price"]["lowest_30d_cents"], base, "{backend:?}: Omnibus reference");
        let page = app.get("/products/COF-001").await.text().await.unwrap();
        assert!(page.contains(r#"data-testid="lowest-30d""#));

        app.set_stock("COF-001", 50).await;
        app.settle().await;
        let back = product(&app, "COF-001").await;
        assert_eq!(back["price"]["amount_cents"], base);
        assert!(back["price"]["lowest_30d_cents"].is_null());
        let kinds = app
            .count("SELECT COUNT(*) FROM domain_events WHERE kind = 'price_changed' AND aggregate = 'COF-001'")
            .await;
        assert_eq!(kinds, 2);
    }
}

#[tokio::test]
async fn checkout_that_leaves_few_units_reprices_the_product() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.settle().await;
        app.set_stock("TEA-004", 6).await;
        app.settle().await;
        let client = shopper_client();
        app.register(&client).await;
        app.add_to_cart(&client, "TEA-004", 2).await;
        let cart: serde_json::Value = client.get(app.url("/api/v1/cart")).send().await.unwrap().json().await.unwrap();
        let total = cart["total_cents"].as_i64().unwrap();
        let placed = app.post_json(&client, "/api/v1/checkout", json!({ "expected_total_cents": total })).await;
        assert_eq!(placed.status(), 201);
        app.settle().await;
        let after = product(&app, "TEA-004").await;
        assert_eq!(after["stock"], 4);
        assert_eq!(after["price"]["reason"], "low_stock", "{backend:?}");
        assert!(after["price"]["amount_cents"].as_i64().unwrap() > after["price"]["base_cents"].as_i64().unwrap());
    }
}

#[tokio::test]
async fn the_price_stream_sends_each_change() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.settle().await;
        let mut stream = reqwest::Client::new().get(app.url("/api/v1/prices/stream")).send().await.unwrap();
        assert_eq!(stream.headers()["content-type"], "text/event-stream");
        app.set_stock("MUG-001", 2).await;
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut received = String::new();
        while !received.contains("MUG-001") {
            let remaining = deadline.saturating_duration_since(Instant::now());
            assert!(!remaining.is_zero(), "{backend:?}: no price event; got {received:?}");
            if let Ok(Ok(Some(chunk))) = tokio::time::timeout(remaining, stream.chunk()).await {
                received.push_str(&String::from_utf8_lossy(&chunk));
            }
        }
        assert!(received.contains("event: price"), "{received}");
        let data = received.lines().find(|l| l.starts_with("data:") && l.contains("MUG-001")).unwrap();
        let event: serde_json::Value = serde_json::from_str(data.trim_start_matches("data:").trim()).unwrap();
        assert_eq!(event["reason"], "low_stock");
        assert!(event["amount_cents"].as_i64().unwrap() > event["base_cents"].as_i64().unwrap());
    }
}

#[tokio::test]
async fn rules_are_resolved_product_then_category_then_shop() {
    use app::pricing::domain::RuleSet;
    use app::pricing::ssr::{save_rules, Scope};
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.settle().await;
        let base = product(&app, "COF-002").await["price"]["base_cents"].as_i64().unwrap();
        let category_rules = RuleSet { high_stock_discount_bp: 1000, ..RuleSet::default() };
        save_rules(&app.db, &Scope::Category("coffee".into()), &category_rules, None).await.unwrap();
        app.settle().await;
        // COF-002 has 118 in stock: overstock, now -10% by the coffee rules.
        assert_eq!(product(&app, "COF-002").await["price"]["amount_cents"], (base * 90 + 50) / 100, "{backend:?}");
        let product_rules = RuleSet { high_stock_discount_bp: 0, ..RuleSet::default() };
        save_rules(&app.db, &Scope::Product("COF-002".into()), &product_rules, None).await.unwrap();
        app.settle().await;
        assert_eq!(product(&app, "COF-002").await["price"]["amount_cents"], base);
        assert_eq!(app.count("SELECT COUNT(*) FROM pricing_audit").await, 2);

        let broken = RuleSet { ceiling_bp: 10, ..RuleSet::default() };
        assert!(save_rules(&app.db, &Scope::Global, &broken, None).await.is_err());
    }
}
