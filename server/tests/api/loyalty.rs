//! The points ledger through the API and its storage: concurrent redemptions, points at
//! checkout, pending points posted on fulfilment, reversals, expiry, badges, challenges and
//! leaderboards. After each test every balance equals the sum of its ledger.

use crate::helpers::{assert_problem, backends, json_of, shopper_client, spawn_app, TestApp};
use app::loyalty::ssr as loyalty;
use serde_json::{json, Value};

const DAY_MS: i64 = 86_400_000;

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.count(&format!("SELECT id FROM users WHERE email = '{email}'")).await
}

/// Every account's balance and pending points are the sums of its ledger rows, and none is
/// negative.
async fn assert_ledger_balanced(app: &TestApp) {
    let off = app
        .count(
            "SELECT COUNT(*) FROM points_accounts a WHERE a.balance <> \
             (SELECT COALESCE(SUM(delta), 0) FROM points_ledger l WHERE l.user_id = a.user_id AND l.bucket = 'available') \
             OR a.pending <> \
             (SELECT COALESCE(SUM(delta), 0) FROM points_ledger l WHERE l.user_id = a.user_id AND l.bucket = 'pending') \
             OR a.balance < 0 OR a.pending < 0",
        )
        .await;
    assert_eq!(off, 0, "a balance differs from the sum of its ledger");
}

async fn points(app: &TestApp, client: &reqwest::Client) -> Value {
    json_of(client.get(app.url("/api/v1/me/points")).send().await.unwrap()).await
}

/// A shopper with `balance` points (an owner's adjustment); returns (client, user id).
async fn shopper_with_points(app: &TestApp, balance: i64) -> (reqwest::Client, i64) {
    let client = shopper_client();
    let email = app.register(&client).await;
    let id = user_id(app, &email).await;
    if balance > 0 {
        let admin = app.admin_client().await;
        let body = json!({ "user_id": id, "delta": balance, "reason": "Welcome gift" });
        let adjusted = admin.post(app.url("/api/v1/admin/points/adjust")).json(&body).send().await.unwrap();
        assert_eq!(adjusted.status(), 200);
    }
    (client, id)
}

/// Puts one product worth at least 20.00 in the cart; returns the cart total.
async fn fill_cart(app: &TestApp, client: &reqwest::Client) -> i64 {
    let products = json_of(app.get("/api/v1/products?category=brewing").await).await;
    let product = products["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["stock"].as_i64().unwrap() > 5 && p["price"]["amount_cents"].as_i64().unwrap() >= 2000)
        .expect("a product of at least 20.00 in stock")
        .clone();
    let added = app.add_to_cart(client, product["sku"].as_str().unwrap(), 1).await;
    assert_eq!(added.status(), 200);
    json_of(client.get(app.url("/api/v1/cart")).send().await.unwrap()).await["total_cents"].as_i64().unwrap()
}

async fn checkout(app: &TestApp, client: &reqwest::Client, total: i64, redeem: i64) -> reqwest::Response {
    app.post_json(client, "/api/v1/checkout", json!({ "expected_total_cents": total, "redeem_points": redeem })).await
}

#[tokio::test]
async fn a_hundred_concurrent_redemptions_of_a_whole_balance_let_exactly_one_through() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let (_, id) = shopper_with_points(&app, 1_000).await;
        let attempts = (0..100).map(|i| {
            let db = app.db.clone();
            tokio::spawn(async move { loyalty::spend(&db, id, 1_000, &format!("reward:{i}"), "A reward").await })
        });
        let results = futures::future::join_all(attempts).await;
        let succeeded = results.iter().filter(|r| matches!(r, Ok(Ok(())))).count();
        assert_eq!(succeeded, 1, "{backend:?}");
        for result in &results {
            match result {
                Ok(Ok(())) => {}
                Ok(Err(app::shared::AppError::Invalid { field, message })) => {
                    assert_eq!(field, "points");
                    assert!(message.contains("Not enough points"), "{message}");
                }
                other => panic!("{backend:?}: unexpected {other:?}"),
            }
        }
        assert_eq!(app.count(&format!("SELECT balance FROM points_accounts WHERE user_id = {id}")).await, 0);
        let spends =
            app.count(&format!("SELECT COUNT(*) FROM points_ledger WHERE user_id = {id} AND kind = 'redeem'")).await;
        assert_eq!(spends, 1, "{backend:?}: refused redemptions wrote nothing");
        assert_ledger_balanced(&app).await;
    }
}

#[tokio::test]
async fn checkout_spends_points_and_earns_pending_points_that_post_when_the_order_ships() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let (client, id) = shopper_with_points(&app, 5_000).await;
        let total = fill_cart(&app, &client).await;

        // Over half the order, or over the balance: refused with the field, nothing written.
        let too_much = checkout(&app, &client, total, total / 2 + 1).await;
        assert_eq!(assert_problem(too_much, 422).await["field"], "redeem_points");
        let negative = checkout(&app, &client, total, -5).await;
        assert_eq!(assert_problem(negative, 422).await["field"], "redeem_points");
        assert_eq!(points(&app, &client).await["balance"], 5_000);
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM orders WHERE user_id = {id}")).await, 0);

        let redeem = 1_000;
        let order = json_of(checkout(&app, &client, total, redeem).await).await;
        assert_eq!(order["points_redeemed"], redeem);
        assert_eq!(order["discount_cents"], 1_000, "100 points = 1.00");
        let paid = total - 1_000;
        // Free plan, bronze tier: 5 points per whole euro paid, pending until it ships.
        let earned = paid / 100 * 5;
        assert_eq!(order["points_earned"], earned);
        let summary = points(&app, &client).await;
        assert_eq!((summary["balance"].as_i64(), summary["pending"].as_i64()), (Some(4_000), Some(earned)));
        assert_eq!(summary["tier"], "bronze");

        let admin = app.admin_client().await;
        let order_id = order["id"].as_i64().unwrap();
        let fulfil = admin.post(app.url(&format!("/api/v1/admin/orders/{order_id}/fulfil"))).send().await.unwrap();
        assert_eq!(fulfil.status(), 204);
        let summary = points(&app, &client).await;
        assert_eq!((summary["balance"].as_i64(), summary["pending"].as_i64()), (Some(4_000 + earned), Some(0)));
        let again = admin.post(app.url(&format!("/api/v1/admin/orders/{order_id}/fulfil"))).send().await.unwrap();
        assert_problem(again, 409).await;
        assert_problem(
            client.post(app.url(&format!("/api/v1/admin/orders/{order_id}/refund"))).send().await.unwrap(),
            403,
        )
        .await;

        // The ledger tells the story, newest first; the first purchase earned a badge.
        let ledger = json_of(client.get(app.url("/api/v1/me/points/ledger")).send().await.unwrap()).await;
        let kinds: Vec<&str> =
            ledger["items"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["fulfil", "fulfil", "earn", "redeem", "adjust"]);
        app.settle().await;
        let badges = json_of(client.get(app.url("/api/v1/me/badges")).send().await.unwrap()).await;
        assert!(badges["items"].as_array().unwrap().iter().any(|b| b["key"] == "first_purchase"), "{badges}");
        assert_ledger_balanced(&app).await;
    }
}

#[tokio::test]
async fn cancelling_or_refunding_takes_earned_points_back_and_returns_spent_ones() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let (client, _) = shopper_with_points(&app, 2_000).await;

        // Cancelled before shipping: pending earn reversed, points returned, stock back.
        let total = fill_cart(&app, &client).await;
        let cart = json_of(client.get(app.url("/api/v1/cart")).send().await.unwrap()).await;
        let sku = cart["items"][0]["sku"].as_str().unwrap().to_string();
        let stock_before = app.stock_of(&sku).await;
        let order = json_of(checkout(&app, &client, total, 500).await).await;
        assert_eq!(app.stock_of(&sku).await, stock_before - 1);
        let id = order["id"].as_i64().unwrap();
        assert_eq!(
            admin.post(app.url(&format!("/api/v1/admin/orders/{id}/cancel"))).send().await.unwrap().status(),
            204
        );
        let summary = points(&app, &client).await;
        assert_eq!((summary["balance"].as_i64(), summary["pending"].as_i64()), (Some(2_000), Some(0)));
        assert_eq!(app.stock_of(&sku).await, stock_before);

        // Refunded after shipping: the posted earn is taken back, the spent points returned.
        let total = fill_cart(&app, &client).await;
        let order = json_of(checkout(&app, &client, total, 500).await).await;
        let (id, earned) = (order["id"].as_i64().unwrap(), order["points_earned"].as_i64().unwrap());
        assert!(earned > 0);
        admin.post(app.url(&format!("/api/v1/admin/orders/{id}/fulfil"))).send().await.unwrap();
        assert_eq!(points(&app, &client).await["balance"], 1_500 + earned);
        assert_eq!(
            admin.post(app.url(&format!("/api/v1/admin/orders/{id}/refund"))).send().await.unwrap().status(),
            204
        );
        assert_eq!(points(&app, &client).await["balance"], 2_000);
        assert_problem(admin.post(app.url(&format!("/api/v1/admin/orders/{id}/cancel"))).send().await.unwrap(), 409)
            .await;
        assert_problem(admin.post(app.url("/api/v1/admin/orders/999999/fulfil")).send().await.unwrap(), 404).await;
        assert_problem(admin.post(app.url(&format!("/api/v1/admin/orders/{id}/explode"))).send().await.unwrap(), 404)
            .await;
        assert_ledger_balanced(&app).await;
    }
}

#[tokio::test]
async fn points_expire_after_a_year_without_activity_as_one_ledger_row() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let (client, id) = shopper_with_points(&app, 700).await;
        let rules = app::loyalty::domain::LoyaltyRules::default();
        let now = app::shared::now_ms();
        assert_eq!(
            loyalty::expire_inactive(&app.db, &rules, now).await.unwrap(),
            0,
            "an adjustment is not activity, but it is recent"
        );
        sqlx::query(&format!(
            "UPDATE points_accounts SET last_activity_at = {} WHERE user_id = {id}",
            now - 366 * DAY_MS
        ))
        .execute(app.db.pool())
        .await
        .unwrap();
        assert_eq!(loyalty::expire_inactive(&app.db, &rules, now).await.unwrap(), 1);
        assert_eq!(loyalty::expire_inactive(&app.db, &rules, now).await.unwrap(), 0, "once");
        assert_eq!(points(&app, &client).await["balance"], 0);
        let ledger = json_of(client.get(app.url("/api/v1/me/points/ledger")).send().await.unwrap()).await;
        assert_eq!(ledger["items"][0]["kind"], "expire");
        assert_eq!(ledger["items"][0]["delta"], -700);
        assert_ledger_balanced(&app).await;
    }
}

#[tokio::test]
async fn a_challenge_rewards_its_completion_exactly_once() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let now = app::shared::now_ms();
        let goal = app::loyalty::domain::Goal::Orders;
        loyalty::create_challenge(&app.db, "Two orders this week", goal, 2, 150, now - DAY_MS, now + 6 * DAY_MS)
            .await
            .unwrap();
        let (client, _) = shopper_with_points(&app, 0).await;
        for _ in 0..3 {
            let total = fill_cart(&app, &client).await;
            assert_eq!(checkout(&app, &client, total, 0).await.status(), 201);
            app.settle().await;
        }
        let errors: Vec<String> =
            sqlx::query_scalar("SELECT last_error FROM event_deliveries WHERE last_error IS NOT NULL")
                .fetch_all(app.db.pool())
                .await
                .unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        let challenges = json_of(client.get(app.url("/api/v1/me/challenges")).send().await.unwrap()).await;
        assert_eq!(challenges["items"][0]["progress"], 2);
        assert_eq!(challenges["items"][0]["completed"], true);
        assert_eq!(points(&app, &client).await["balance"], 150, "rewarded once, not at the third order");
        assert_ledger_balanced(&app).await;
    }
}

#[tokio::test]
async fn leaderboards_rank_points_earned_in_the_period_by_display_name_and_honour_opt_outs() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut ids = Vec::new();
        // Above anything the demo history earned, so these two lead every period.
        for points in [3_000_000, 2_000_000] {
            let (_, id) = shopper_with_points(&app, 0).await;
            let mut tx = app.db.begin_write().await.unwrap();
            loyalty::award(&mut tx, id, points, "review", format!("review:test:{id}"), "A review".into())
                .await
                .unwrap();
            // The same cause again is not counted twice.
            loyalty::award(&mut tx, id, points, "review", format!("review:test:{id}"), "A review".into())
                .await
                .unwrap();
            tx.commit().await.unwrap();
            ids.push(id);
        }
        for period in ["week", "month", "all"] {
            let board = json_of(app.get(&format!("/api/v1/leaderboard?period={period}")).await).await;
            let points: Vec<i64> =
                board["items"].as_array().unwrap().iter().map(|e| e["points"].as_i64().unwrap()).collect();
            assert_eq!(points[..2], [3_000_000, 2_000_000], "{period}");
            assert!(points.windows(2).all(|w| w[0] >= w[1]), "{period}: {points:?}");
            assert!(!board.to_string().contains('@'), "no e-mail in a leaderboard");
        }
        loyalty::set_leaderboard_opt_out(&app.db, ids[0], true).await.unwrap();
        let board = json_of(app.get("/api/v1/leaderboard?period=week").await).await;
        assert_eq!(board["items"][0]["points"], 2_000_000, "the first has left the board");
        assert!(!board["items"].as_array().unwrap().iter().any(|e| e["points"] == 3_000_000));
        assert_problem(app.get("/api/v1/leaderboard?period=decade").await, 422).await;
        assert_ledger_balanced(&app).await;
    }
}
