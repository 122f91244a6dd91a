//! Plans and feature gating through the JSON API: the plan × feature matrix, the
//! subscription lifecycle (proration, period-end downgrades, renewals), plan versions,
//! invoices, the session cache of entitlements, and each gated feature doing its job.

use crate::helpers::{assert_problem, backends, json_of, shopper_client, spawn_app, TestApp};
use serde_json::{json, Value};

const DAY_MS: i64 = 86_400_000;

/// A new shopper on `plan` (subscribing through the API unless it is free).
async fn shopper_on(app: &TestApp, plan: &str) -> reqwest::Client {
    let client = shopper_client();
    app.register(&client).await;
    if plan != "free" {
        let response = app.post_json(&client, "/api/v1/me/subscription", json!({ "plan": plan })).await;
        assert_eq!(response.status(), 200, "subscribe to {plan}: {}", response.text().await.unwrap_or_default());
    }
    client
}

async fn any_sku(app: &TestApp) -> String {
    let products = json_of(app.get("/api/v1/products").await).await;
    products["items"][0]["sku"].as_str().expect("a product").to_string()
}

/// Calls the endpoint each feature guards; returns the status.
async fn probe(app: &TestApp, client: &reqwest::Client, feature: &str, sku: &str) -> u16 {
    let response = match feature {
        "view_products" => client.get(app.url(&format!("/api/v1/products/{sku}"))).send().await,
        "basic_search" => client.get(app.url("/api/v1/products?q=tea")).send().await,
        "advanced_filters" => client.get(app.url("/api/v1/products?min_price_cents=100&sort=price_asc")).send().await,
        "wishlist" => client.get(app.url("/api/v1/me/wishlist")).send().await,
        "personalized_recommendations" => client.get(app.url("/api/v1/recommendations?kind=for_you")).send().await,
        "priority_support" => {
            let body = json!({ "subject": "Where is my order?", "body": "It has been a week, please help.", "priority": true });
            client.post(app.url("/api/v1/me/support-requests")).json(&body).send().await
        }
        "community_posting" => {
            let body = json!({ "category": "tea", "title": "Favourite teapots", "body": "Cast iron or glass?" });
            client.post(app.url("/api/v1/community/topics")).json(&body).send().await
        }
        other => panic!("unknown feature {other}"),
    }
    .expect("request");
    let status = response.status().as_u16();
    if status == 403 {
        // A refusal names the feature and the plan that has it.
        let problem = assert_problem(response, 403).await;
        assert_eq!(problem["feature"], feature, "{problem}");
        assert!(problem["required_plan"].is_string(), "{problem}");
        assert!(problem["detail"].as_str().unwrap_or_default().contains("plan"), "{problem}");
    }
    status
}

const FEATURES: [&str; 7] = [
    "basic_search",
    "view_products",
    "advanced_filters",
    "wishlist",
    "personalized_recommendations",
    "priority_support",
    "community_posting",
];

#[tokio::test]
async fn every_plan_gets_exactly_its_features_through_the_api() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let sku = any_sku(&app).await;
        let plans = json_of(app.get("/api/v1/plans").await).await;
        let keys: Vec<&str> = plans["items"].as_array().unwrap().iter().map(|p| p["key"].as_str().unwrap()).collect();
        assert_eq!(keys, ["free", "basic", "premium"]);

        let mut matrix = String::new();
        for plan in ["free", "basic", "premium"] {
            let client = shopper_on(&app, plan).await;
            let entitlements = json_of(client.get(app.url("/api/v1/me/entitlements")).send().await.unwrap()).await;
            assert_eq!(entitlements["plan"], plan);
            let mut row = format!("{plan:8}");
            for feature in FEATURES {
                let status = probe(&app, &client, feature, &sku).await;
                let listed = entitlements["features"].as_array().unwrap().iter().any(|f| f == feature);
                assert_eq!(
                    listed,
                    status < 300,
                    "{plan}/{feature}: entitlements say {listed}, the API answered {status}"
                );
                row.push_str(if status < 300 { " yes" } else { " 403" });
            }
            matrix.push_str(row.trim_end());
            matrix.push('\n');
        }
        // Columns: basic_search view_products advanced_filters wishlist personalized priority
        // community
        assert_eq!(
            matrix,
            "free     yes yes 403 403 403 403 403\n\
             basic    yes yes yes yes 403 403 403\n\
             premium  yes yes yes yes yes yes yes\n",
            "{backend:?}"
        );

        // The 403 names the cheapest plan with the feature.
        let free = shopper_on(&app, "free").await;
        let problem = assert_problem(free.get(app.url("/api/v1/me/wishlist")).send().await.unwrap(), 403).await;
        assert_eq!(problem["required_plan"], "basic");
        let problem =
            assert_problem(free.get(app.url("/api/v1/recommendations?kind=for_you")).send().await.unwrap(), 403).await;
        assert_eq!(problem["required_plan"], "premium");

        // Gates read the plans, not a hard-coded list: without basic_search in free, search
        // is refused to free accounts (their cached entitlements are dropped by the edit).
        let admin = app.admin_client().await;
        let edit = json!({ "name": "Free", "price_cents": 0, "features": ["view_products"] });
        let saved = admin.put(app.url("/api/v1/admin/plans/free")).json(&edit).send().await.unwrap();
        assert_eq!(saved.status(), 200);
        assert_eq!(probe(&app, &free, "basic_search", &sku).await, 403);
        let problem = assert_problem(free.get(app.url("/api/v1/products?q=tea")).send().await.unwrap(), 403).await;
        assert_eq!(problem["required_plan"], "basic");
    }
}

async fn set_period(app: &TestApp, email: &str, start: i64, end: i64) {
    sqlx::query(
        "UPDATE subscriptions SET period_start = $1, period_end = $2 \
         WHERE user_id = (SELECT id FROM users WHERE email = $3)",
    )
    .bind(start)
    .bind(end)
    .bind(email)
    .execute(app.db.pool())
    .await
    .unwrap();
}

async fn features_of(app: &TestApp, client: &reqwest::Client) -> (String, Vec<String>) {
    let body = json_of(client.get(app.url("/api/v1/me/entitlements")).send().await.unwrap()).await;
    let features = body["features"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
    (body["plan"].as_str().unwrap().to_string(), features)
}

#[tokio::test]
async fn upgrades_are_immediate_and_prorated_downgrades_and_cancellations_wait_for_the_period_end() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = shopper_client();
        let email = app.register(&client).await;
        let subscribe = app.post_json(&client, "/api/v1/me/subscription", json!({ "plan": "basic" })).await;
        let outcome = json_of(subscribe).await;
        assert_eq!(outcome["change"], "subscribe");
        let invoices = json_of(client.get(app.url("/api/v1/me/invoices")).send().await.unwrap()).await;
        assert_eq!(invoices["items"][0]["total_cents"], 499);
        assert_eq!(invoices["items"][0]["status"], "open");

        // Halfway through the period: credit half of basic, charge half of premium.
        let now = app::shared::now_ms();
        set_period(&app, &email, now - 15 * DAY_MS, now + 15 * DAY_MS).await;
        let upgrade =
            json_of(app.post_json(&client, "/api/v1/me/subscription", json!({ "plan": "premium" })).await).await;
        assert_eq!(upgrade["change"], "upgrade");
        assert_eq!(features_of(&app, &client).await.0, "premium", "an upgrade applies at once");
        let invoices = json_of(client.get(app.url("/api/v1/me/invoices")).send().await.unwrap()).await;
        let latest = &invoices["items"][0];
        let lines = latest["lines"].as_array().unwrap();
        let (credit, charge) = (lines[0][1].as_i64().unwrap(), lines[1][1].as_i64().unwrap());
        assert!((-250..=-248).contains(&credit), "credit {credit}");
        assert!((498..=500).contains(&charge), "charge {charge}");
        assert_eq!(latest["total_cents"].as_i64().unwrap(), credit + charge);

        // A downgrade is scheduled: premium stays until the period end.
        let downgrade =
            json_of(app.post_json(&client, "/api/v1/me/subscription", json!({ "plan": "basic" })).await).await;
        assert_eq!(downgrade["change"], "downgrade");
        let period_end = downgrade["effective_at"].as_i64().unwrap();
        assert!(period_end > now + 14 * DAY_MS);
        assert_eq!(features_of(&app, &client).await.0, "premium");
        assert_eq!(client.get(app.url("/api/v1/recommendations?kind=for_you")).send().await.unwrap().status(), 200);
        let again = app.post_json(&client, "/api/v1/me/subscription", json!({ "plan": "basic" })).await;
        assert_problem(again, 409).await;

        // The renewal job switches at the period end and invoices the new plan.
        assert_eq!(app::plans::ssr::renew_due(&app.db, app.state.payments.as_ref(), period_end - 1).await.unwrap(), 0);
        assert_eq!(app::plans::ssr::renew_due(&app.db, app.state.payments.as_ref(), period_end + 1).await.unwrap(), 1);
        let (plan, features) = features_of(&app, &client).await;
        assert_eq!(plan, "basic");
        assert!(!features.contains(&"priority_support".to_string()));
        let invoices = json_of(client.get(app.url("/api/v1/me/invoices")).send().await.unwrap()).await;
        assert_eq!(invoices["items"][0]["total_cents"], 499);

        // Cancel, change your mind (resume), cancel again: free only after the period.
        let cancel = json_of(app.post_json(&client, "/api/v1/me/subscription", json!({ "plan": "free" })).await).await;
        assert_eq!(cancel["change"], "cancel");
        let resume = json_of(app.post_json(&client, "/api/v1/me/subscription", json!({ "plan": "basic" })).await).await;
        assert_eq!(resume["change"], "resume");
        let cancel = json_of(app.post_json(&client, "/api/v1/me/subscription", json!({ "plan": "free" })).await).await;
        let end = cancel["effective_at"].as_i64().unwrap();
        assert_eq!(features_of(&app, &client).await.0, "basic");
        app::plans::ssr::renew_due(&app.db, app.state.payments.as_ref(), end + 1).await.unwrap();
        assert_eq!(features_of(&app, &client).await.0, "free");
        let user_id = app.count(&format!("SELECT id FROM users WHERE email = '{email}'")).await;
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM subscriptions WHERE user_id = {user_id}")).await, 0);

        // Every change is audited and published to the outbox.
        let audited = app.count(&format!("SELECT COUNT(*) FROM subscription_audit WHERE user_id = {user_id}")).await;
        let published = app
            .count(&format!(
                "SELECT COUNT(*) FROM domain_events WHERE kind = 'subscription_changed' AND aggregate = 'user:{user_id}'"
            ))
            .await;
        assert_eq!(audited, 8, "subscribe, upgrade, downgrade, downgraded, cancel, resume, cancel, ended");
        assert_eq!(published, audited);

        let unknown = app.post_json(&client, "/api/v1/me/subscription", json!({ "plan": "platinum" })).await;
        assert_eq!(assert_problem(unknown, 422).await["field"], "plan");
        let anonymous = app.post_json(&shopper_client(), "/api/v1/me/subscription", json!({ "plan": "basic" })).await;
        assert_problem(anonymous, 401).await;
    }
}

/// Subscribers of one plan version in an `/admin/plans` answer.
fn subscribers(overview: &Value, plan: &str, version: i64) -> i64 {
    overview["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["plan"] == plan && v["version"] == version)
        .map_or(0, |v| v["subscribers"].as_i64().unwrap())
}

#[tokio::test]
async fn plan_edits_make_versions_and_subscribers_keep_theirs_until_they_change() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        // The demo shop has subscribers of its own: compare with where it started.
        let before = json_of(admin.get(app.url("/api/v1/admin/plans")).send().await.unwrap()).await;
        let basic_v1_before = subscribers(&before, "basic", 1);
        let early = shopper_on(&app, "basic").await;
        let edit = json!({ "name": "Basic", "price_cents": 599, "features": ["basic_search", "view_products", "advanced_filters"] });
        let saved = json_of(admin.put(app.url("/api/v1/admin/plans/basic")).json(&edit).send().await.unwrap()).await;
        assert_eq!(saved["version"], 2);

        let late = shopper_on(&app, "basic").await;
        assert_eq!(early.get(app.url("/api/v1/me/wishlist")).send().await.unwrap().status(), 200);
        assert_problem(late.get(app.url("/api/v1/me/wishlist")).send().await.unwrap(), 403).await;

        let overview = json_of(admin.get(app.url("/api/v1/admin/plans")).send().await.unwrap()).await;
        assert_eq!(overview["mrr_cents"].as_i64().unwrap(), before["mrr_cents"].as_i64().unwrap() + 499 + 599);
        assert_eq!(subscribers(&overview, "basic", 1), basic_v1_before + 1);
        assert_eq!(subscribers(&overview, "basic", 2), 1);

        // A renewal bills the version subscribed to.
        let far = app::shared::now_ms() + 40 * DAY_MS;
        app::plans::ssr::renew_due(&app.db, app.state.payments.as_ref(), far).await.unwrap();
        let invoices = json_of(early.get(app.url("/api/v1/me/invoices")).send().await.unwrap()).await;
        assert_eq!(invoices["items"][0]["total_cents"], 499);
        assert!(invoices["items"][0]["lines"][0][0].as_str().unwrap().contains("renewal"));

        // Bad edits are refused with the field named; shoppers cannot edit at all.
        let free_price = json!({ "name": "Free", "price_cents": 100, "features": [] });
        let refused = admin.put(app.url("/api/v1/admin/plans/free")).json(&free_price).send().await.unwrap();
        assert_eq!(assert_problem(refused, 422).await["field"], "price");
        let unknown = json!({ "name": "Basic", "price_cents": 499, "features": ["teleport"] });
        let refused = admin.put(app.url("/api/v1/admin/plans/basic")).json(&unknown).send().await.unwrap();
        assert_eq!(assert_problem(refused, 422).await["field"], "features");
        assert_problem(early.put(app.url("/api/v1/admin/plans/basic")).json(&edit).send().await.unwrap(), 403).await;
    }
}

#[tokio::test]
async fn the_owner_records_payments_of_open_invoices() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let shopper = shopper_on(&app, "premium").await;
        let admin = app.admin_client().await;
        let open = json_of(admin.get(app.url("/api/v1/admin/invoices")).send().await.unwrap()).await;
        let id = open["items"][0]["id"].as_i64().unwrap();
        assert_eq!(open["items"][0]["total_cents"], 999);

        let path = format!("/api/v1/admin/invoices/{id}/paid");
        assert_problem(shopper.post(app.url(&path)).send().await.unwrap(), 403).await;
        assert_eq!(admin.post(app.url(&path)).send().await.unwrap().status(), 204);
        assert_problem(admin.post(app.url(&path)).send().await.unwrap(), 409).await;
        assert_problem(admin.post(app.url("/api/v1/admin/invoices/999999/paid")).send().await.unwrap(), 404).await;
        let mine = json_of(shopper.get(app.url("/api/v1/me/invoices")).send().await.unwrap()).await;
        assert_eq!(mine["items"][0]["status"], "paid");
        assert_eq!(app.count("SELECT COUNT(*) FROM domain_events WHERE kind = 'invoice_paid'").await, 1);
    }
}

#[tokio::test]
async fn entitlements_are_cached_on_the_session_and_dropped_by_a_plan_change() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = shopper_on(&app, "free").await;
        let cached = "SELECT COUNT(*) FROM sessions WHERE entitlements IS NOT NULL";
        assert_eq!(features_of(&app, &client).await.0, "free");
        assert_eq!(app.count(cached).await, 1, "the first check stores the answer on the session");
        app.post_json(&client, "/api/v1/me/subscription", json!({ "plan": "basic" })).await;
        assert_eq!(app.count(cached).await, 0, "the plan change clears it in its transaction");
        assert_eq!(features_of(&app, &client).await.0, "basic");
        assert_eq!(app.count(cached).await, 1);
    }
}

#[tokio::test]
async fn thirty_two_subscribes_at_once_make_one_subscription_and_one_invoice() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = shopper_client();
        let email = app.register(&client).await;
        let attempts = (0..32).map(|_| {
            let request = client.post(app.url("/api/v1/me/subscription")).json(&json!({ "plan": "premium" }));
            async move { request.send().await.unwrap().status().as_u16() }
        });
        let mut statuses = futures::future::join_all(attempts).await;
        statuses.sort();
        assert_eq!(statuses.iter().filter(|&&status| status == 200).count(), 1, "{backend:?}: {statuses:?}");
        assert!(statuses.iter().all(|&status| status == 200 || status == 409), "{backend:?}: {statuses:?}");
        let invoices =
            format!("SELECT COUNT(*) FROM invoices i JOIN users u ON u.id = i.user_id WHERE u.email = '{email}'");
        assert_eq!(app.count(&invoices).await, 1);
    }
}

#[tokio::test]
async fn the_wishlist_flags_a_product_that_comes_back_in_stock() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = shopper_on(&app, "basic").await;
        let sku = any_sku(&app).await;
        let added = app.post_json(&client, "/api/v1/me/wishlist", json!({ "sku": sku })).await;
        assert_eq!(added.status(), 201);
        let list = json_of(client.get(app.url("/api/v1/me/wishlist")).send().await.unwrap()).await;
        assert_eq!(list["items"][0]["back_in_stock"], false);

        app.set_stock(&sku, 0).await;
        app.settle().await;
        app.set_stock(&sku, 7).await;
        app.settle().await;
        let list = json_of(client.get(app.url("/api/v1/me/wishlist")).send().await.unwrap()).await;
        assert_eq!(list["items"][0]["product"]["sku"], sku.as_str());
        assert_eq!(list["items"][0]["back_in_stock"], true);

        let missing = app.post_json(&client, "/api/v1/me/wishlist", json!({ "sku": "NOPE-0000" })).await;
        assert_problem(missing, 404).await;
        let path = format!("/api/v1/me/wishlist/{sku}");
        assert_eq!(client.delete(app.url(&path)).send().await.unwrap().status(), 204);
        assert_problem(client.delete(app.url(&path)).send().await.unwrap(), 404).await;
        assert_problem(shopper_client().get(app.url("/api/v1/me/wishlist")).send().await.unwrap(), 401).await;
    }
}

#[tokio::test]
async fn premium_support_requests_come_first_in_the_owner_queue() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let free = shopper_on(&app, "free").await;
        let premium = shopper_on(&app, "premium").await;
        let ask = |subject: &str| json!({ "subject": subject, "body": "Please help me with my order." });
        let first = json_of(app.post_json(&free, "/api/v1/me/support-requests", ask("Free asks first")).await).await;
        assert_eq!(first["priority"], false);
        let second =
            json_of(app.post_json(&premium, "/api/v1/me/support-requests", ask("Premium asks later")).await).await;
        assert_eq!(second["priority"], true, "premium accounts are prioritised without asking");

        let bad = app.post_json(&free, "/api/v1/me/support-requests", json!({ "subject": "Hi", "body": "x" })).await;
        assert_eq!(assert_problem(bad, 422).await["field"], "subject");

        let admin = app.admin_client().await;
        let queue = json_of(admin.get(app.url("/api/v1/admin/support-requests")).send().await.unwrap()).await;
        let subjects: Vec<&str> =
            queue["items"].as_array().unwrap().iter().map(|r| r["subject"].as_str().unwrap()).collect();
        assert_eq!(subjects, ["Premium asks later", "Free asks first"]);
        assert_problem(free.get(app.url("/api/v1/admin/support-requests")).send().await.unwrap(), 403).await;
    }
}

#[tokio::test]
async fn advanced_filters_narrow_and_sort_the_catalog() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = shopper_on(&app, "basic").await;
        let get = |query: &str| client.get(app.url(&format!("/api/v1/products?{query}"))).send();

        let ranged = json_of(get("min_price_cents=1000&max_price_cents=2000&sort=price_asc").await.unwrap()).await;
        let prices: Vec<i64> =
            ranged["items"].as_array().unwrap().iter().map(|p| p["price"]["amount_cents"].as_i64().unwrap()).collect();
        assert!(!prices.is_empty());
        assert!(prices.iter().all(|p| (1000..=2000).contains(p)), "{prices:?}");
        assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");

        let sku = any_sku(&app).await;
        app.set_stock(&sku, 0).await;
        let in_stock = json_of(get("in_stock=true").await.unwrap()).await;
        assert!(in_stock["items"].as_array().unwrap().iter().all(|p| p["stock"].as_i64().unwrap() > 0));
        assert!(!in_stock["items"].as_array().unwrap().iter().any(|p| p["sku"] == sku.as_str()));

        // Ratings come from approved reviews' counters: 9 stars over 2 reviews is 4.5 (the
        // seeded reviews' counters are cleared first, so this product is the only rated one).
        sqlx::query("UPDATE product_stats SET rating_count = 0, rating_total = 0")
            .execute(app.db.pool())
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO product_stats (sku, rating_count, rating_total) VALUES ($1, 2, 9) \
             ON CONFLICT (sku) DO UPDATE SET rating_count = 2, rating_total = 9",
        )
        .bind(&sku)
        .execute(app.db.pool())
        .await
        .unwrap();
        let rated = json_of(get("min_rating=4").await.unwrap()).await;
        let skus: Vec<&str> = rated["items"].as_array().unwrap().iter().map(|p| p["sku"].as_str().unwrap()).collect();
        assert_eq!(skus, [sku.as_str()]);
        assert!(json_of(get("min_rating=5").await.unwrap()).await["items"].as_array().unwrap().is_empty());

        for (query, field) in
            [("min_rating=9", "min_rating"), ("sort=random", "sort"), ("min_price_cents=-5", "min_price_cents")]
        {
            assert_eq!(assert_problem(get(query).await.unwrap(), 422).await["field"], field, "{query}");
        }
    }
}

#[tokio::test]
async fn an_invoice_unpaid_past_the_grace_period_pauses_paid_features_until_it_is_paid() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = shopper_client();
        let email = app.register(&client).await;
        app.post_json(&client, "/api/v1/me/subscription", json!({ "plan": "basic" })).await;
        assert_eq!(client.get(app.url("/api/v1/me/wishlist")).send().await.unwrap().status(), 200);

        // Thirteen days unpaid: still within the grace period.
        let age = |days: i64| {
            format!(
                "UPDATE invoices SET created_at = {} WHERE user_id = (SELECT id FROM users WHERE email = '{email}')",
                app::shared::now_ms() - days * DAY_MS
            )
        };
        sqlx::query(&age(13)).execute(app.db.pool()).await.unwrap();
        sqlx::query("UPDATE sessions SET entitlements = NULL").execute(app.db.pool()).await.unwrap();
        assert_eq!(client.get(app.url("/api/v1/me/wishlist")).send().await.unwrap().status(), 200);

        // Fifteen days: paused, and the 403 still names the plan (the subscription stays).
        sqlx::query(&age(15)).execute(app.db.pool()).await.unwrap();
        sqlx::query("UPDATE sessions SET entitlements = NULL").execute(app.db.pool()).await.unwrap();
        let entitlements = json_of(client.get(app.url("/api/v1/me/entitlements")).send().await.unwrap()).await;
        assert_eq!(entitlements["overdue"], true);
        assert!(!entitlements["features"].as_array().unwrap().iter().any(|f| f == "wishlist"));
        assert_problem(client.get(app.url("/api/v1/me/wishlist")).send().await.unwrap(), 403).await;
        let subscription = json_of(client.get(app.url("/api/v1/me/subscription")).send().await.unwrap()).await;
        assert_eq!(subscription["plan"]["key"], "basic");
        assert!(subscription["overdue_since"].is_i64());

        // Paid: back at once (the payment clears the session's cached answer).
        let admin = app.admin_client().await;
        let invoices = json_of(client.get(app.url("/api/v1/me/invoices")).send().await.unwrap()).await;
        let id = invoices["items"][0]["id"].as_i64().unwrap();
        let paid = admin.post(app.url(&format!("/api/v1/admin/invoices/{id}/paid"))).send().await.unwrap();
        assert_eq!(paid.status(), 204);
        assert_eq!(client.get(app.url("/api/v1/me/wishlist")).send().await.unwrap().status(), 200);
    }
}
