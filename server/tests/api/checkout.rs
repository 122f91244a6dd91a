use crate::helpers::{assert_problem, backends, shopper_client, spawn_app};
use serde_json::json;

#[tokio::test]
async fn an_anonymous_cart_is_merged_into_the_account_on_login() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = shopper_client();
        let email = app.register(&client).await;
        client.post(app.url("/api/v1/auth/logout")).send().await.unwrap();

        // Same browser, logged out: a visitor cart.
        app.add_to_cart(&client, "TEA-001", 2).await;
        let cart: serde_json::Value = client.get(app.url("/api/v1/cart")).send().await.unwrap().json().await.unwrap();
        assert_eq!(cart["items"].as_array().unwrap().len(), 1);

        app.post_json(&client, "/api/v1/auth/login", json!({ "email": email, "password": "a long test passphrase" }))
            .await;
        let cart: serde_json::Value = client.get(app.url("/api/v1/cart")).send().await.unwrap().json().await.unwrap();
        assert_eq!(cart["items"][0]["sku"], "TEA-001");
        assert_eq!(cart["items"][0]["quantity"], 2);
    }
}

#[tokio::test]
async fn checkout_charges_the_seen_total_or_refuses_with_409_and_the_new_total() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = shopper_client();
        app.add_to_cart(&client, "COF-001", 2).await;
        let cart: serde_json::Value = client.get(app.url("/api/v1/cart")).send().await.unwrap().json().await.unwrap();
        let total = cart["total_cents"].as_i64().unwrap();
        let unit = cart["items"][0]["unit_cents"].as_i64().unwrap();
        assert_eq!(total, unit * 2, "the server computes the total in cents");

        let anonymous = app.post_json(&client, "/api/v1/checkout", json!({ "expected_total_cents": total })).await;
        assert_problem(anonymous, 401).await;

        app.register(&client).await;
        let stock_before = app.stock_of("COF-001").await;
        let stale = app.post_json(&client, "/api/v1/checkout", json!({ "expected_total_cents": total - 1 })).await;
        let body = assert_problem(stale, 409).await;
        assert_eq!(body["total_cents"], total);
        assert_eq!(app.count("SELECT COUNT(*) FROM orders WHERE user_id > 24").await, 0, "no order");
        assert_eq!(app.stock_of("COF-001").await, stock_before, "no stock taken");

        let points = app
            .post_json(&client, "/api/v1/checkout", json!({ "expected_total_cents": total, "redeem_points": 500 }))
            .await;
        assert_problem(points, 422).await;

        let placed = app
            .post_json(&client, "/api/v1/checkout", json!({ "expected_total_cents": total, "redeem_points": 0 }))
            .await;
        assert_eq!(placed.status(), 201);
        let order: serde_json::Value = placed.json().await.unwrap();
        assert_eq!(order["total_cents"], total);
        assert_eq!(app.stock_of("COF-001").await, stock_before - 2);
        let cart: serde_json::Value = client.get(app.url("/api/v1/cart")).send().await.unwrap().json().await.unwrap();
        assert!(cart["items"].as_array().unwrap().is_empty());
        let order_id = order["id"].as_i64().unwrap();
        let events = app
            .count(&format!(
                "SELECT COUNT(*) FROM domain_events WHERE (kind = 'order_placed' AND aggregate = 'order:{order_id}') \
                 OR (kind = 'stock_changed' AND aggregate = 'COF-001')"
            ))
            .await;
        assert_eq!(events, 2, "order_placed and stock_changed are in the outbox");

        let empty = app.post_json(&client, "/api/v1/checkout", json!({ "expected_total_cents": 0 })).await;
        assert_problem(empty, 409).await;
    }
}

/// The oversell test: 50 shoppers race for the last 5 units.
#[tokio::test]
async fn fifty_concurrent_checkouts_of_the_last_five_units_sell_exactly_five() {
    for backend in backends() {
        let app = std::sync::Arc::new(spawn_app(backend).await);
        // Fixed price for this product: otherwise the first sales (stock 5 → 4) would raise it
        // by the scarcity rule and later buyers would rightly get 409 "price changed", which is
        // a different invariant (tested in pricing.rs).
        let fixed = app::pricing::domain::RuleSet {
            low_stock_markup_bp: 0,
            high_stock_discount_bp: 0,
            ..app::pricing::domain::RuleSet::default()
        };
        let scope = app::pricing::ssr::Scope::Product("GFT-007".into());
        app::pricing::ssr::save_rules(&app.db, &scope, &fixed, None).await.unwrap();
        app.settle().await;
        let mut shoppers = Vec::new();
        for _ in 0..50 {
            let client = shopper_client();
            app.register(&client).await;
            assert_eq!(app.add_to_cart(&client, "GFT-007", 1).await.status(), 200);
            shoppers.push(client);
        }
        app.set_stock("GFT-007", 5).await;
        // The stock change reprices the product; the shoppers see the settled price.
        app.settle().await;
        let cart: serde_json::Value =
            shoppers[0].get(app.url("/api/v1/cart")).send().await.unwrap().json().await.unwrap();
        let total = cart["total_cents"].as_i64().unwrap();

        let mut tasks = Vec::new();
        for client in shoppers {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                app.post_json(&client, "/api/v1/checkout", json!({ "expected_total_cents": total }))
                    .await
                    .status()
                    .as_u16()
            }));
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        let n_created = statuses.iter().filter(|&&s| s == 201).count();
        let n_conflict = statuses.iter().filter(|&&s| s == 409).count();
        assert_eq!((n_created, n_conflict), (5, 45), "{backend:?}: {statuses:?}");
        assert_eq!(app.stock_of("GFT-007").await, 0);
        // Demo shoppers are users 1–24; everyone after them is one of this test's shoppers.
        let sold = app
            .count(
                "SELECT CAST(COALESCE(SUM(l.quantity), 0) AS BIGINT) FROM order_lines l \
                 JOIN orders o ON o.id = l.order_id WHERE l.sku = 'GFT-007' AND o.user_id > 24",
            )
            .await;
        assert_eq!(sold, 5);
    }
}
