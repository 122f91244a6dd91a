use crate::helpers::{assert_problem, backends, set_cookie, shopper_client, spawn_app, TestApp};
use app::experiments::domain::{Assignments, Experiment, HERO};
use serde_json::json;

/// The `data-variant` of the hero in a rendered page.
fn hero_variant(html: &str) -> String {
    let at = html.find(r#"data-testid="hero""#).expect("hero on the page");
    let tail = &html[at..];
    let start = tail.find(r#"data-variant=""#).expect("data-variant") + r#"data-variant=""#.len();
    tail[start..start + tail[start..].find('"').unwrap()].to_string()
}

fn attribute<'a>(html: &'a str, test_id: &str, name: &str) -> Option<&'a str> {
    let at = html.find(&format!(r#"data-testid="{test_id}""#))?;
    let tail = &html[at..];
    let start = tail.find(&format!(r#"{name}=""#))? + name.len() + 2;
    Some(&tail[start..start + tail[start..].find('"')?])
}

async fn hero_experiment(app: &TestApp) -> Experiment {
    app::experiments::ssr::load_experiments(&app.db).await.unwrap().into_iter().find(|e| e.key == HERO).unwrap()
}

async fn get_home(app: &TestApp, cookies: &str) -> (String, reqwest::Response) {
    let response = reqwest::Client::new().get(app.url("/")).header("cookie", cookies).send().await.unwrap();
    let assignments = set_cookie(&response, "mercato_ab").unwrap_or_default();
    (assignments, response)
}

#[tokio::test]
async fn the_first_response_assigns_by_growthbook_hash_and_the_variant_is_sticky() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let hero = hero_experiment(&app).await;
        let first = app.get("/").await;
        let visitor = set_cookie(&first, "mercato_vid").expect("visitor cookie");
        let assignments = Assignments::parse(&set_cookie(&first, "mercato_ab").expect("assignment cookie"));
        let html = first.text().await.unwrap();
        let variant = hero_variant(&html);
        assert_eq!(assignments.get(HERO), Some(variant.as_str()), "{backend:?}: cookie and page agree");
        let expected = &hero.variants[hero.bucket(&visitor).expect("full coverage")].key;
        assert_eq!(&variant, expected, "{backend:?}: GrowthBook v2 bucket of {visitor}");

        // The same browser keeps its variant and is not re-assigned.
        for _ in 0..5 {
            let again = app.get("/").await;
            assert_eq!(set_cookie(&again, "mercato_ab"), None, "no new assignment cookie");
            assert_eq!(hero_variant(&again.text().await.unwrap()), variant);
        }
        // Cookie lost but the id known again (restored from localStorage): same variant.
        let (_, response) = get_home(&app, &format!("mercato_vid={visitor}")).await;
        assert_eq!(hero_variant(&response.text().await.unwrap()), variant);
        // A remembered assignment wins over the hash while the experiment runs.
        let other = if variant == "variant_b" { "variant_a" } else { "variant_b" };
        let (set, response) =
            get_home(&app, &format!(r#"mercato_vid={visitor}; mercato_ab={{"hero":"{other}"}}"#)).await;
        assert_eq!(set, "", "a valid sticky assignment is not rewritten");
        assert_eq!(hero_variant(&response.text().await.unwrap()), other);
        // Junk in the cookie is ignored, never trusted or echoed.
        let (set, response) = get_home(&app, &format!(r#"mercato_vid={visitor}; mercato_ab={{"hero":"<b>"}}"#)).await;
        assert_eq!(Assignments::parse(&set).get(HERO), Some(variant.as_str()));
        assert_eq!(hero_variant(&response.text().await.unwrap()), variant);
    }
}

#[tokio::test]
async fn exposures_are_counted_once_per_day_and_conversions_go_to_the_variant_seen() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = shopper_client();
        let page = client.get(app.url("/")).send().await.unwrap();
        let visitor = set_cookie(&page, "mercato_vid").unwrap();
        let variant = hero_variant(&page.text().await.unwrap());
        for _ in 0..3 {
            client.get(app.url("/")).send().await.unwrap();
        }
        app.register(&client).await;
        assert_eq!(app.add_to_cart(&client, "COF-001", 1).await.status(), 200);
        let cart: serde_json::Value = client.get(app.url("/api/v1/cart")).send().await.unwrap().json().await.unwrap();
        let total = cart["total_cents"].as_i64().unwrap();
        let order = app.post_json(&client, "/api/v1/checkout", json!({ "expected_total_cents": total })).await;
        assert_eq!(order.status(), 201);
        // Exposures are buffered before they reach the outbox: wait (bounded) for the batch.
        app.settle_events("experiment_exposed", 1).await;
        let exposures =
            app.count(&format!("SELECT COUNT(*) FROM experiment_exposures WHERE visitor_id = '{visitor}'")).await;
        assert_eq!(exposures, 1, "{backend:?}: one exposure per visitor, experiment and day");
        let conversions: Vec<(String, i64)> =
            sqlx::query_as("SELECT kind, revenue_cents FROM visitor_conversions WHERE visitor_id = $1 ORDER BY kind")
                .bind(&visitor)
                .fetch_all(app.db.pool())
                .await
                .unwrap();
        assert_eq!(conversions, vec![("add_to_cart".to_string(), 0), ("purchase".to_string(), total)], "{backend:?}");

        // Results: admin only.
        assert_problem(app.get("/api/v1/experiments/hero/results").await, 401).await;
        assert_problem(client.get(app.url("/api/v1/experiments/hero/results")).send().await.unwrap(), 403).await;
        let admin = app.admin_client().await;
        let results: serde_json::Value =
            admin.get(app.url("/api/v1/experiments/hero/results")).send().await.unwrap().json().await.unwrap();
        let row = results["variants"].as_array().unwrap().iter().find(|v| v["key"] == variant.as_str()).unwrap();
        assert_eq!(row["visitors"], 1);
        assert_eq!(row["conversions"], 1);
        assert_eq!(row["revenue_cents"], total);
        assert_eq!(row["add_to_cart_visitors"], 1);
        assert_eq!(results["daily_exposures"].as_array().unwrap().len(), 1);
        assert_problem(admin.get(app.url("/api/v1/experiments/nope/results")).send().await.unwrap(), 404).await;
    }
}

#[tokio::test]
async fn browser_events_are_validated_limited_and_forged_exposures_ignored() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = shopper_client();
        let page = client.get(app.url("/")).send().await.unwrap();
        let variant = hero_variant(&page.text().await.unwrap());
        let other = if variant == "variant_b" { "variant_a" } else { "variant_b" };
        let batch = json!({ "events": [
            { "kind": "page_view", "path": "/" },
            { "kind": "heartbeat", "path": "/", "visible_ms": 15000 },
            { "kind": "click", "path": "/", "target": "hero-cta", "experiment": "hero", "variant": variant },
            { "kind": "exposure", "path": "/", "experiment": "hero", "variant": other },
        ]});
        let response = app.post_json(&client, "/api/v1/events", batch).await;
        assert_eq!(response.status(), 202, "{backend:?}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body, json!({ "accepted": 3, "ignored": 1 }));

        let unknown = json!({ "events": [{ "kind": "buy_now", "path": "/" }] });
        assert_problem(app.post_json(&client, "/api/v1/events", unknown).await, 422).await;
        let bad_path = json!({ "events": [{ "kind": "page_view", "path": "https://evil.example/" }] });
        assert_problem(app.post_json(&client, "/api/v1/events", bad_path).await, 422).await;
        let too_many = json!({ "events": vec![json!({ "kind": "page_view", "path": "/" }); 51] });
        assert_problem(app.post_json(&client, "/api/v1/events", too_many).await, 422).await;
        let text = client.post(app.url("/api/v1/events")).body("{}").send().await.unwrap();
        assert_problem(text, 415).await;

        // A script hammering the endpoint is cut off with 429 and told when to come back.
        let mut limited = None;
        for _ in 0..40 {
            let response = app
                .post_json(&client, "/api/v1/events", json!({ "events": [{ "kind": "page_view", "path": "/" }] }))
                .await;
            if response.status() == 429 {
                limited = Some(response);
                break;
            }
        }
        let limited = limited.expect("rate limited within 40 batches");
        assert!(limited.headers().get("retry-after").is_some());
        assert_problem(limited, 429).await;

        // Accepted events reach the event log (in batches: waits, bounded, until they are there).
        app.settle_events("client_event", 3).await;
    }
}

#[tokio::test]
async fn a_stopped_experiment_serves_its_winner_to_everyone_and_assigns_nobody() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let mut hero = hero_experiment(&app).await;
        hero.status = app::experiments::domain::Status::Stopped;
        hero.winner = Some("variant_b".into());
        let saved = admin.put(app.url("/api/v1/admin/experiments/hero")).json(&hero).send().await.unwrap();
        assert_eq!(saved.status(), 200, "{backend:?}");
        for _ in 0..5 {
            let response = shopper_client().get(app.url("/")).send().await.unwrap();
            assert_eq!(set_cookie(&response, "mercato_ab"), None);
            assert_eq!(hero_variant(&response.text().await.unwrap()), "variant_b");
        }
        // Invalid experiments are refused with every problem named.
        hero.winner = Some("nope".into());
        hero.variants[1].content.cta_href = "javascript:alert(1)".into();
        let refused = admin.put(app.url("/api/v1/admin/experiments/hero")).json(&hero).send().await.unwrap();
        let body = assert_problem(refused, 422).await;
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("winner") && detail.contains("cta_href"), "{detail}");
        // Shoppers cannot change experiments.
        let shopper = shopper_client();
        app.register(&shopper).await;
        let denied = shopper.put(app.url("/api/v1/admin/experiments/hero")).json(&hero).send().await.unwrap();
        assert_problem(denied, 403).await;
        // The public list carries what an SDK needs to reproduce assignments.
        let list: serde_json::Value = app.get("/api/v1/experiments").await.json().await.unwrap();
        let hero = &list["items"][0];
        assert_eq!(hero["hash_version"], 2);
        assert_eq!(hero["hash_attribute"], "mercato_vid");
        assert_eq!(hero["variations"], json!(["control", "variant_a", "variant_b"]));
    }
}

#[tokio::test]
async fn the_banner_follows_the_customer_segment() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = shopper_client();
        let html = client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
        assert_eq!(attribute(&html, "banner", "data-segment"), Some("new"), "{backend:?}");
        app.register(&client).await;
        app.add_to_cart(&client, "TEA-001", 1).await;
        let cart: serde_json::Value = client.get(app.url("/api/v1/cart")).send().await.unwrap().json().await.unwrap();
        let total = cart["total_cents"].as_i64().unwrap();
        app.post_json(&client, "/api/v1/checkout", json!({ "expected_total_cents": total })).await;
        let html = client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
        assert_eq!(attribute(&html, "banner", "data-segment"), Some("returning"), "{backend:?}");
        // Lifetime spend at the threshold (500.00 by default) makes a high-value customer.
        sqlx::query("UPDATE orders SET total_cents = 50000").execute(app.db.pool()).await.unwrap();
        let html = client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
        assert_eq!(attribute(&html, "banner", "data-segment"), Some("high_value"), "{backend:?}");
    }
}

#[tokio::test]
async fn each_area_loads_its_own_bundle_and_only_admin_pages_the_admin_one() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        for path in ["/admin", "/admin/pricing", "/admin/experiments", "/admin/plans"] {
            let response = admin.get(app.url(path)).send().await.unwrap();
            assert_eq!(response.status(), 200, "{backend:?} {path}");
            let html = response.text().await.unwrap();
            assert!(html.contains("/pkg/mercato_admin.js"), "{path} hydrates with the admin bundle");
            assert!(html.contains(r#"data-testid="experiment""#) || path != "/admin/experiments");
        }
        for path in ["/", "/category/tea", "/products/TEA-001", "/search?q=tea"] {
            let html = admin.get(app.url(path)).send().await.unwrap().text().await.unwrap();
            assert!(html.contains("/pkg/mercato.js") && !html.contains("mercato_admin"), "{path}");
            assert!(!html.contains("mercato_account"), "{path}");
        }
        for path in ["/login", "/cart", "/checkout", "/account", "/pricing", "/wishlist", "/support"] {
            let html = admin.get(app.url(path)).send().await.unwrap().text().await.unwrap();
            assert!(html.contains("/pkg/mercato_account.js") && !html.contains("mercato_admin"), "{path}");
        }
        // A shopper gets the admin frame but no admin data.
        let shopper = shopper_client();
        app.register(&shopper).await;
        let html = shopper.get(app.url("/admin/experiments")).send().await.unwrap().text().await.unwrap();
        assert!(!html.contains(r#"data-testid="experiment""#));
        assert_problem(shopper.get(app.url("/api/v1/admin/experiments")).send().await.unwrap(), 403).await;
    }
}
