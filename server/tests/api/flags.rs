//! Feature flags through the API: targeting by user, e-mail, plan and rollout, the kill
//! switch, the audit log, values only for visitors, the two features under flags (points at
//! checkout, "frequently bought together"), propagation to another server, and bad input.

use crate::helpers::{assert_problem, backends, json_of, shopper_client, spawn_app, TestApp};
use app::flags::domain::keys;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn flags_of(app: &TestApp, client: &reqwest::Client) -> Value {
    json_of(client.get(app.url("/api/v1/flags")).send().await.unwrap()).await["flags"].clone()
}

async fn switch(app: &TestApp, admin: &reqwest::Client, key: &str, on: bool) {
    let response = app.post_json(admin, &format!("/api/v1/admin/flags/{key}/switch"), json!({ "on": on })).await;
    assert_eq!(response.status(), 200, "switch {key}");
}

#[tokio::test]
async fn rules_target_accounts_and_plans_and_the_kill_switch_stops_everything() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let listed = shopper_client();
        let email = app.register(&listed).await;
        let other = shopper_client();
        app.register(&other).await;
        let anonymous = shopper_client();

        let body = json!({
            "description": "The new search box",
            "kind": "boolean",
            "on": true,
            "default": false,
            "off": false,
            "rules": [
                { "condition": { "kind": "email_in", "emails": [email] }, "value": true },
                { "condition": { "kind": "plan_in", "plans": ["premium"] }, "value": true },
                { "condition": { "kind": "rollout", "basis_points": 0 }, "value": true }
            ]
        });
        let saved = admin.put(app.url("/api/v1/admin/flags/new_search")).json(&body).send().await.unwrap();
        assert_eq!(saved.status(), 200, "{backend:?}");
        assert_eq!(json_of(saved).await["version"], 1);

        assert_eq!(flags_of(&app, &listed).await["new_search"], true, "{backend:?}: listed e-mail");
        assert_eq!(flags_of(&app, &other).await["new_search"], false, "not listed, on free");
        assert_eq!(flags_of(&app, &anonymous).await["new_search"], false);
        // Upgrading to premium puts the other shopper in.
        let upgrade = app.post_json(&other, "/api/v1/me/subscription", json!({ "plan": "premium" })).await;
        assert!(upgrade.status().is_success());
        assert_eq!(flags_of(&app, &other).await["new_search"], true, "{backend:?}: plan rule");

        // The visitor's answer carries values only, never the rules or anyone's e-mail.
        let raw = listed.get(app.url("/api/v1/flags")).send().await.unwrap().text().await.unwrap();
        assert!(!raw.contains("rules") && !raw.contains(&email), "{raw}");

        switch(&app, &admin, "new_search", false).await;
        assert_eq!(flags_of(&app, &listed).await["new_search"], false, "{backend:?}: killed for everyone");
        assert_eq!(flags_of(&app, &other).await["new_search"], false);
        switch(&app, &admin, "new_search", true).await;
        assert_eq!(flags_of(&app, &listed).await["new_search"], true);

        let audit = app.count("SELECT COUNT(*) FROM flag_audit WHERE flag_key = 'new_search'").await;
        assert_eq!(audit, 3, "created, switched off, switched on");
        let actions: Vec<String> =
            sqlx::query_scalar("SELECT action FROM flag_audit WHERE flag_key = 'new_search' ORDER BY id")
                .fetch_all(app.db.pool())
                .await
                .unwrap();
        assert_eq!(actions, ["created", "switched off", "switched on"]);
    }
}

#[tokio::test]
async fn a_rollout_widened_keeps_its_first_visitors() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let rollout = |percent: u32| {
            json!({ "kind": "boolean", "on": true, "default": false, "off": false,
                    "rules": [{ "condition": { "kind": "rollout", "basis_points": percent * 100 }, "value": true }] })
        };
        let put = |body: Value| {
            let admin = admin.clone();
            let url = app.url("/api/v1/admin/flags/gradual");
            async move { assert_eq!(admin.put(url).json(&body).send().await.unwrap().status(), 200) }
        };
        put(rollout(30)).await;
        let visitors: Vec<reqwest::Client> = (0..40).map(|_| shopper_client()).collect();
        let mut at_30 = Vec::new();
        for visitor in &visitors {
            at_30.push(flags_of(&app, visitor).await["gradual"] == true);
        }
        put(rollout(60)).await;
        let mut at_60 = Vec::new();
        for visitor in &visitors {
            at_60.push(flags_of(&app, visitor).await["gradual"] == true);
        }
        for (i, (before, after)) in at_30.iter().zip(&at_60).enumerate() {
            assert!(!before || *after, "{backend:?}: visitor {i} was in at 30 % and out at 60 %");
        }
        assert!(at_60.iter().filter(|on| **on).count() > at_30.iter().filter(|on| **on).count());
        assert!(at_30.iter().any(|on| *on) && at_60.iter().any(|on| !on), "{at_30:?} {at_60:?}");
    }
}

#[tokio::test]
async fn switching_off_points_redemption_removes_the_control_and_refuses_points() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let shopper = shopper_client();
        let email = app.register(&shopper).await;
        let user_id = app.count(&format!("SELECT id FROM users WHERE email = '{email}'")).await;
        let adjust = json!({ "user_id": user_id, "delta": 1000, "reason": "welcome" });
        assert_eq!(app.post_json(&admin, "/api/v1/admin/points/adjust", adjust).await.status(), 200);
        assert_eq!(app.add_to_cart(&shopper, "TEA-001", 1).await.status(), 200);
        let checkout_page = || async { shopper.get(app.url("/checkout")).send().await.unwrap().text().await.unwrap() };
        assert!(checkout_page().await.contains("data-testid=\"redeem-points\""), "{backend:?}: on by default");

        switch(&app, &admin, keys::POINTS_REDEMPTION, false).await;
        assert!(!checkout_page().await.contains("data-testid=\"redeem-points\""), "{backend:?}: no control");
        let cart = json_of(shopper.get(app.url("/api/v1/cart")).send().await.unwrap()).await;
        let total = cart["total_cents"].as_i64().unwrap();
        let refused = app
            .post_json(&shopper, "/api/v1/checkout", json!({ "redeem_points": 100, "expected_total_cents": total }))
            .await;
        let problem = assert_problem(refused, 422).await;
        assert_eq!(problem["field"], "redeem_points");
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM orders WHERE user_id = {user_id}")).await, 0);

        switch(&app, &admin, keys::POINTS_REDEMPTION, true).await;
        let placed = app
            .post_json(&shopper, "/api/v1/checkout", json!({ "redeem_points": 100, "expected_total_cents": total }))
            .await;
        assert_eq!(placed.status(), 201, "{backend:?}: points pay again");
    }
}

#[tokio::test]
async fn switching_off_frequently_bought_together_removes_the_block_and_the_kind() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let sku = app.busiest_sku().await;
        let shopper = shopper_client();
        app.register(&shopper).await; // past the anonymous page cache
        let page =
            || async { shopper.get(app.url(&format!("/products/{sku}"))).send().await.unwrap().text().await.unwrap() };
        let api = || async {
            let url = app.url(&format!("/api/v1/recommendations?kind=frequently_bought_together&sku={sku}"));
            json_of(shopper.get(url).send().await.unwrap()).await["items"].as_array().unwrap().len()
        };
        let before = page().await;
        assert!(before.contains("data-kind=\"frequently_bought_together\""), "{backend:?}: shown when on");
        let upsell = "data-testid=\"rec-upsell\"";
        assert!(api().await > 0);

        switch(&app, &admin, keys::FREQUENTLY_BOUGHT_TOGETHER, false).await;
        let html = page().await;
        assert!(!html.contains("data-kind=\"frequently_bought_together\""), "{backend:?}: gone when off");
        assert_eq!(html.contains(upsell), before.contains(upsell), "the other block is as it was");
        assert_eq!(api().await, 0);
    }
}

#[tokio::test]
async fn a_change_reaches_another_server_within_two_seconds() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        // Another server: its own flag cache over the same database.
        let other = app::flags::ssr::FlagCache::default();
        let ctx_of = |set: &app::flags::ssr::FlagSet| set.flags.get(keys::POINTS_REDEMPTION).map(|f| f.on);
        assert_eq!(ctx_of(&other.load(&app.db).await.unwrap()), Some(true));
        switch(&app, &admin, keys::POINTS_REDEMPTION, false).await;
        let switched = Instant::now();
        loop {
            if ctx_of(&other.load(&app.db).await.unwrap()) == Some(false) {
                break;
            }
            assert!(switched.elapsed() < Duration::from_secs(2), "{backend:?}: still on after 2 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn flags_are_the_owners_and_bad_flags_are_refused_with_the_field() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let shopper = shopper_client();
        app.register(&shopper).await;
        let body = json!({ "kind": "boolean", "on": true, "default": true, "off": false });
        assert_problem(shopper.put(app.url("/api/v1/admin/flags/x")).json(&body).send().await.unwrap(), 403).await;
        assert_problem(shopper.get(app.url("/api/v1/admin/flags")).send().await.unwrap(), 403).await;
        let anonymous = shopper_client();
        assert_problem(
            app.post_json(&anonymous, "/api/v1/admin/flags/points_redemption/switch", json!({ "on": false })).await,
            401,
        )
        .await;

        let admin = app.admin_client().await;
        let put = |key: &str, body: Value| {
            let request = admin.put(app.url(&format!("/api/v1/admin/flags/{key}"))).json(&body);
            async move { request.send().await.unwrap() }
        };
        for (key, body, field) in [
            ("Bad Key", json!({ "kind": "boolean", "on": true, "default": true, "off": false }), "key"),
            ("ok", json!({ "kind": "boolean", "on": true, "default": "yes", "off": false }), "default"),
            ("ok", json!({ "kind": "boolean", "on": true, "default": true, "off": 0 }), "off"),
            (
                "ok",
                json!({ "kind": "boolean", "on": true, "default": true, "off": false,
                        "rules": [{ "condition": { "kind": "rollout", "basis_points": 20000 }, "value": true }] }),
                "rules",
            ),
            (
                "ok",
                json!({ "kind": "boolean", "on": true, "default": true, "off": false,
                        "rules": [{ "condition": { "kind": "segment_in", "segments": [] }, "value": true }] }),
                "rules",
            ),
        ] {
            let problem = assert_problem(put(key, body).await, 422).await;
            assert_eq!(problem["field"], field, "{backend:?} {key}");
        }
        let unknown_kind = json!({ "kind": "number", "on": true, "default": 1, "off": 0 });
        assert_problem(put("ok", unknown_kind).await, 422).await;
        let switched_kind = json!({ "kind": "json", "on": true, "default": {"a": 1}, "off": null });
        let problem = assert_problem(put(keys::POINTS_REDEMPTION, switched_kind).await, 422).await;
        assert_eq!(problem["field"], "kind");
        assert_problem(app.post_json(&admin, "/api/v1/admin/flags/nope/switch", json!({ "on": false })).await, 404)
            .await;
        assert_eq!(app.count("SELECT COUNT(*) FROM flags").await, 2, "{backend:?}: nothing stored");
    }
}

#[tokio::test]
async fn anonymous_visitors_on_either_side_of_a_rollout_never_share_a_cached_page() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let sku = app.busiest_sku().await;
        let half = json!({ "kind": "boolean", "on": true, "default": false, "off": false,
                           "rules": [{ "condition": { "kind": "rollout", "basis_points": 5000 }, "value": true }] });
        let url = app.url(&format!("/api/v1/admin/flags/{}", keys::FREQUENTLY_BOUGHT_TOGETHER));
        assert_eq!(admin.put(url).json(&half).send().await.unwrap().status(), 200);
        // Two visitor ids (as the server mints them: hex) on either side of the 50 % line.
        let ids: Vec<String> = (0u32..).map(|i| format!("{:032x}", u128::from(i) * 7_919 + 1)).take(200).collect();
        let inside = |id: &String| app::flags::domain::in_rollout(keys::FREQUENTLY_BOUGHT_TOGETHER, id, 5000);
        let (Some(member), Some(outsider)) = (ids.iter().find(|id| inside(id)), ids.iter().find(|id| !inside(id)))
        else {
            panic!("no ids on both sides of the rollout");
        };
        let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let page = |visitor: &str| {
            let request = plain
                .get(app.url(&format!("/products/{sku}")))
                .header("Cookie", format!("mercato_vid={visitor}; mercato_ab={{\"hero\":\"control\"}}"));
            async move { request.send().await.unwrap().text().await.unwrap() }
        };
        let block = "data-kind=\"frequently_bought_together\"";
        // Back to back, within the cache's second: each gets the page of its own side.
        for _ in 0..3 {
            assert!(page(member).await.contains(block), "{backend:?}: inside the rollout");
            assert!(!page(outsider).await.contains(block), "{backend:?}: outside, never a member's cached page");
        }
    }
}
