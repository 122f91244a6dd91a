//! Pricing signals end to end: sales velocity from orders and the periodic review,
//! competitor imports (auth, validation, staleness), the cause of every change in price
//! history and in admin, and the simulation.

use crate::helpers::{assert_problem, backends, json_of, shopper_client, spawn_app, TestApp};
use app::pricing::domain::{CompetitorMode, RuleSet};
use app::pricing::ssr::{save_rules, Scope};
use serde_json::json;

/// Stock rules out of the way (nothing is low or overstocked) and no step limit, so each
/// test sees only the signal it is about.
fn signals_only() -> RuleSet {
    RuleSet { low_stock_below: 0, high_stock_above: 100_000, max_step_bp: 0, ..RuleSet::default() }
}

async fn price_of(app: &TestApp, sku: &str) -> (i64, String, i64) {
    let product = json_of(app.get(&format!("/api/v1/products/{sku}")).await).await;
    (
        product["price"]["amount_cents"].as_i64().unwrap(),
        product["price"]["reason"].as_str().unwrap().to_string(),
        product["price"]["base_cents"].as_i64().unwrap(),
    )
}

async fn last_cause(app: &TestApp, sku: &str) -> Option<String> {
    sqlx::query_scalar("SELECT cause FROM price_history WHERE sku = $1 ORDER BY created_at DESC, id DESC LIMIT 1")
        .bind(sku)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn history_len(app: &TestApp, sku: &str) -> i64 {
    app.count(&format!("SELECT COUNT(*) FROM price_history WHERE sku = '{sku}'")).await
}

/// Makes a product look listed `days` ago with no sales on record.
async fn idle_for(app: &TestApp, sku: &str, days: i64) {
    sqlx::query("DELETE FROM sales_daily WHERE sku = $1").bind(sku).execute(app.db.pool()).await.unwrap();
    sqlx::query("UPDATE products SET created_at = $1 WHERE sku = $2")
        .bind(app::shared::now_ms() - days * 86_400_000)
        .bind(sku)
        .execute(app.db.pool())
        .await
        .unwrap();
}

fn percent_of(base: i64, percent: i64) -> i64 {
    (base * percent + 50) / 100
}

#[tokio::test]
async fn orders_make_a_fast_seller_dearer_and_the_review_finds_slow_movers() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.settle().await;
        // COF-001: fast below 30 days of cover, +10 %.
        idle_for(&app, "COF-001", 0).await;
        let fast = RuleSet { fast_cover_days_below: 30, fast_markup_bp: 1000, ..signals_only() };
        save_rules(&app.db, &Scope::Product("COF-001".into()), &fast, None).await.unwrap();
        app.settle().await;
        let (price, reason, base) = price_of(&app, "COF-001").await;
        assert_eq!((price, reason.as_str()), (base, "base"), "{backend:?}: no sales yet");

        // 20 sold in the 14-day window, 22 left: 15.4 days of cover.
        let shopper = shopper_client();
        app.register(&shopper).await;
        app.buy(&shopper, &[("COF-001", 20)]).await;
        app.settle().await;
        let (price, reason, _) = price_of(&app, "COF-001").await;
        assert_eq!((price, reason.as_str()), (percent_of(base, 110), "fast_seller"), "{backend:?}");
        assert_eq!(last_cause(&app, "COF-001").await.as_deref(), Some("velocity"));
        let units: i64 = app.count("SELECT CAST(SUM(units) AS BIGINT) FROM sales_daily WHERE sku = 'COF-001'").await;
        assert_eq!(units, 20, "one bucket increment per order line");

        // TEA-001: slow after 3 days without a sale, -10 %. Saved while it is new: base.
        idle_for(&app, "TEA-001", 0).await;
        let slow = RuleSet { slow_no_sale_days: 3, slow_discount_bp: 1000, ..signals_only() };
        save_rules(&app.db, &Scope::Product("TEA-001".into()), &slow, None).await.unwrap();
        app.settle().await;
        let (price, _, tea_base) = price_of(&app, "TEA-001").await;
        assert_eq!(price, tea_base);
        // Five days pass without a sale: no event says so, the review notices.
        idle_for(&app, "TEA-001", 5).await;
        app.settle().await;
        assert_eq!(price_of(&app, "TEA-001").await.0, tea_base, "nothing happened yet");
        let n_changed = app::pricing::signals::review_signals(&app.db).await.unwrap();
        assert!(n_changed >= 1, "{backend:?}");
        let (price, reason, _) = price_of(&app, "TEA-001").await;
        assert_eq!((price, reason.as_str()), (percent_of(tea_base, 90), "slow_mover"), "{backend:?}");
        assert_eq!(last_cause(&app, "TEA-001").await.as_deref(), Some("velocity"));

        // Reviewing again and again changes nothing: no drift, no new history.
        let n_history = (history_len(&app, "TEA-001").await, history_len(&app, "COF-001").await);
        for _ in 0..3 {
            app::pricing::signals::review_signals(&app.db).await.unwrap();
        }
        assert_eq!(price_of(&app, "TEA-001").await.0, percent_of(tea_base, 90));
        assert_eq!(price_of(&app, "COF-001").await.0, percent_of(base, 110));
        assert_eq!((history_len(&app, "TEA-001").await, history_len(&app, "COF-001").await), n_history);

        // A sale ends the idle spell: back to base through the order.
        app.buy(&shopper, &[("TEA-001", 1)]).await;
        app.settle().await;
        let (price, reason, _) = price_of(&app, "TEA-001").await;
        assert_eq!((price, reason.as_str()), (tea_base, "base"), "{backend:?}");
    }
}

#[tokio::test]
async fn velocity_moves_respect_the_step_limit_the_ceiling_and_the_cooldown() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.settle().await;
        idle_for(&app, "COF-001", 0).await;
        // +50 % for a fast seller, but at most 10 % a move, a ceiling of 120 % and an hour's cooldown.
        let rules = RuleSet {
            fast_cover_days_below: 30,
            fast_markup_bp: 5000,
            max_step_bp: 1000,
            ceiling_bp: 12_000,
            cooldown_minutes: 60,
            ..signals_only()
        };
        save_rules(&app.db, &Scope::Product("COF-001".into()), &rules, None).await.unwrap();
        app.settle().await;
        let shopper = shopper_client();
        app.register(&shopper).await;
        app.buy(&shopper, &[("COF-001", 20)]).await;
        app.settle().await;
        let (first, reason, base) = price_of(&app, "COF-001").await;
        assert_eq!(first, base + base / 10, "{backend:?}: one step of 10 %");
        // The order's `stock_changed`, repriced after the velocity consumer's move, finds the
        // price in its cooldown.
        assert!(reason == "step_limited" || reason == "cooldown", "{reason}");
        // More orders and reviews within the hour: held, not compounded.
        app.buy(&shopper, &[("COF-001", 1)]).await;
        app.settle().await;
        app::pricing::signals::review_signals(&app.db).await.unwrap();
        let (held, reason, _) = price_of(&app, "COF-001").await;
        assert_eq!((held, reason.as_str()), (first, "cooldown"), "{backend:?}");
        // The hour passes: the next move stops at the ceiling, and stays there.
        sqlx::query("UPDATE products SET price_changed_at = price_changed_at - 3600000 WHERE sku = 'COF-001'")
            .execute(app.db.pool())
            .await
            .unwrap();
        for _ in 0..3 {
            app::pricing::signals::review_signals(&app.db).await.unwrap();
            sqlx::query("UPDATE products SET price_changed_at = price_changed_at - 3600000 WHERE sku = 'COF-001'")
                .execute(app.db.pool())
                .await
                .unwrap();
        }
        let (capped, reason, _) = price_of(&app, "COF-001").await;
        assert_eq!((capped, reason.as_str()), (base * 12 / 10, "ceiling"), "{backend:?}");
    }
}

async fn put_offers(
    app: &TestApp,
    client: &reqwest::Client,
    token: Option<&str>,
    body: serde_json::Value,
) -> reqwest::Response {
    let request = client.put(app.url("/api/v1/competitor-prices")).json(&body);
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request.send().await.unwrap()
}

fn offer(sku: &str, source: &str, price_cents: i64, observed_at: serde_json::Value) -> serde_json::Value {
    json!({ "sku": sku, "source": source, "price_cents": price_cents, "observed_at": observed_at })
}

#[tokio::test]
async fn the_competitor_import_needs_the_token_or_the_owner() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let body = json!({ "offers": [offer("COF-001", "shop-a", 1200, json!("2026-01-01T00:00:00Z"))] });
        assert_problem(put_offers(&app, &shopper_client(), None, body.clone()).await, 401).await;
        assert_problem(put_offers(&app, &shopper_client(), Some("wrong-token"), body.clone()).await, 401).await;
        let shopper = shopper_client();
        app.register(&shopper).await;
        assert_problem(put_offers(&app, &shopper, None, body.clone()).await, 403).await;
        assert_eq!(app.count("SELECT COUNT(*) FROM competitor_offers").await, 0, "{backend:?}");

        let by_token = put_offers(&app, &shopper_client(), Some(&app.inventory_token), body.clone()).await;
        assert_eq!(by_token.status(), 200, "{backend:?}");
        assert_eq!(json_of(by_token).await["imported"], 1);
        let admin = app.admin_client().await;
        assert_eq!(put_offers(&app, &admin, None, body).await.status(), 200);
        assert_eq!(app.count("SELECT COUNT(*) FROM competitor_offers").await, 1, "upsert per (sku, source)");
        assert_eq!(app.count("SELECT COUNT(*) FROM competitor_offer_log").await, 2);
    }
}

#[tokio::test]
async fn one_bad_row_refuses_the_whole_batch_and_names_the_row() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.settle().await;
        let token = Some(app.inventory_token.as_str());
        let client = shopper_client();
        let now = app::shared::now_ms();
        let good = offer("COF-001", "shop-a", 1000, json!(now));
        let cases = [
            (json!({ "offers": [good.clone(), offer("NOPE-404", "shop-a", 1000, json!(now))] }), "offers[1].sku", 2),
            (
                json!({ "offers": [good.clone(), offer("COF-002", "shop-a", 0, json!(now))] }),
                "offers[1].price_cents",
                2,
            ),
            (
                json!({ "offers": [offer("COF-002", "shop-a", 900, json!("last week")), good.clone()] }),
                "offers[0].observed_at",
                1,
            ),
            (json!({ "offers": [] }), "offers", 0),
        ];
        for (body, field, row) in cases {
            let refused = assert_problem(put_offers(&app, &client, token, body).await, 422).await;
            assert_eq!(refused["field"], field, "{backend:?}: {refused}");
            assert_eq!(refused["row"], row);
        }
        let too_many: Vec<serde_json::Value> = (0..10_001).map(|_| good.clone()).collect();
        let refused = assert_problem(put_offers(&app, &client, token, json!({ "offers": too_many })).await, 422).await;
        assert_eq!(refused["row"], 10_001, "{refused}");
        let malformed = client
            .put(app.url("/api/v1/competitor-prices"))
            .bearer_auth(&app.inventory_token)
            .body("{\"offers\": [")
            .send()
            .await
            .unwrap();
        assert_problem(malformed, 400).await;
        assert_eq!(app.count("SELECT COUNT(*) FROM competitor_offers").await, 0, "{backend:?}: nothing written");
        assert_eq!(app.count("SELECT COUNT(*) FROM competitor_offer_log").await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM price_history WHERE cause = 'competitor'").await, 0);
    }
}

#[tokio::test]
async fn fresh_competitor_offers_set_the_price_stale_ones_are_ignored_and_admin_shows_why() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.settle().await;
        // Beat the lowest fresh offer by 1 %; offers older than a day are stale.
        let rules = RuleSet {
            competitor: CompetitorMode::Beat,
            competitor_bp: 100,
            competitor_max_age_hours: 24,
            ..signals_only()
        };
        save_rules(&app.db, &Scope::Product("COF-001".into()), &rules, None).await.unwrap();
        app.settle().await;
        let (_, _, base) = price_of(&app, "COF-001").await;
        let now = app::shared::now_ms();
        let hour = 3_600_000;
        let fresh = base * 95 / 100;
        let stale = base * 80 / 100;
        let body = json!({ "offers": [
            offer("COF-001", "fresh-shop", fresh, json!(now - hour)),
            offer("COF-001", "stale-shop", stale, json!(now - 48 * hour)),
        ] });
        let imported = json_of(put_offers(&app, &shopper_client(), Some(&app.inventory_token), body).await).await;
        assert_eq!(imported["repriced"], 1, "{backend:?}: {imported}");
        let (price, reason, _) = price_of(&app, "COF-001").await;
        assert_eq!((price, reason.as_str()), (fresh * 99 / 100 + i64::from(fresh * 99 % 100 >= 50), "competitor"));
        assert_eq!(last_cause(&app, "COF-001").await.as_deref(), Some("competitor"));
        // A reduction: the Omnibus reference is the base price it had.
        let product = json_of(app.get("/api/v1/products/COF-001").await).await;
        assert_eq!(product["price"]["lowest_30d_cents"], base);

        // The admin page lists the change with its rule and cause, and the offers.
        let admin = app.admin_client().await;
        let html =
            admin.get(app.url("/admin/pricing?scope=product:COF-001")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(r#"data-testid="recent-price-changes""#));
        assert!(html.contains(r#"data-sku="COF-001" data-cause="competitor""#), "{backend:?}");
        assert!(html.contains("fresh-shop") && html.contains("stale-shop"));

        // A day later the fresh offer is stale too; the review goes back to base.
        sqlx::query("UPDATE competitor_offers SET observed_at = observed_at - $1")
            .bind(24 * hour)
            .execute(app.db.pool())
            .await
            .unwrap();
        app::pricing::signals::review_signals(&app.db).await.unwrap();
        let (price, reason, _) = price_of(&app, "COF-001").await;
        assert_eq!((price, reason.as_str()), (base, "base"), "{backend:?}");
        assert_eq!(last_cause(&app, "COF-001").await.as_deref(), Some("competitor"));
    }
}

#[tokio::test]
async fn the_simulation_replays_the_last_30_days_under_proposed_rules_and_saves_nothing() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.settle().await;
        let (_, _, base) = price_of(&app, "COF-001").await;
        let offer_price = base * 90 / 100;
        let body = json!({ "offers": [offer("COF-001", "shop-a", offer_price, json!(app::shared::now_ms()))] });
        assert_eq!(put_offers(&app, &shopper_client(), Some(&app.inventory_token), body).await.status(), 200);
        let shopper = shopper_client();
        app.register(&shopper).await;
        app.buy(&shopper, &[("COF-001", 2)]).await;
        app.settle().await;
        let n_audit = app.count("SELECT COUNT(*) FROM pricing_audit").await;
        let n_history = history_len(&app, "COF-001").await;

        let proposed = RuleSet { competitor: CompetitorMode::Match, max_step_bp: 0, ..RuleSet::default() };
        let request = json!({ "sku": "COF-001", "rules": proposed });
        assert_problem(
            shopper.post(app.url("/api/v1/admin/pricing/simulate")).json(&request).send().await.unwrap(),
            403,
        )
        .await;
        let admin = app.admin_client().await;
        let report =
            json_of(admin.post(app.url("/api/v1/admin/pricing/simulate")).json(&request).send().await.unwrap()).await;
        let current_path = report["current"]["path"].as_array().unwrap();
        let proposed_path = report["proposed"]["path"].as_array().unwrap();
        assert!(current_path.iter().all(|point| point["price_cents"] != offer_price), "{backend:?}: {report}");
        assert_eq!(proposed_path.last().unwrap()["price_cents"], offer_price, "{report}");
        assert_eq!(proposed_path.last().unwrap()["reason"], "competitor");
        // Units are held as observed; the order after the offer paid the offer's price.
        assert_eq!(report["current"]["units"], report["proposed"]["units"]);
        let units = report["current"]["units"].as_i64().unwrap();
        assert!(units >= 2, "{report}");
        let revenue_gap = report["current"]["revenue_cents"].as_i64().unwrap()
            - report["proposed"]["revenue_cents"].as_i64().unwrap();
        assert_eq!(revenue_gap, 2 * (base - offer_price), "{backend:?}: {report}");

        let bad = json!({ "sku": "COF-001", "rules": RuleSet { ceiling_bp: 5, ..RuleSet::default() } });
        assert_problem(admin.post(app.url("/api/v1/admin/pricing/simulate")).json(&bad).send().await.unwrap(), 422)
            .await;

        // The admin form's "Simulate" renders the comparison, still saving nothing.
        let page = admin
            .get(app.url(
                "/admin/pricing?scope=global&sku=COF-001&low_stock_below=5&low_stock_markup_pct=15&high_stock_above=100\
                 &high_stock_discount_pct=5&min_margin_pct=10&ceiling_pct=130&max_step_pct=0&rounding=cents\
                 &competitor=match&competitor_pct=0&competitor_max_age_hours=72&simulate=1",
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(r#"data-testid="simulation""#), "{backend:?}");
        assert!(page.contains(r#"data-testid="simulation-chart""#));
        assert!(page.contains(&format!(r#"data-testid="revenue-difference" data-cents="{}""#, -revenue_gap)));
        assert_eq!(app.count("SELECT COUNT(*) FROM pricing_audit").await, n_audit, "nothing saved");
        assert_eq!(history_len(&app, "COF-001").await, n_history);
        assert_eq!(price_of(&app, "COF-001").await.0, base);
    }
}

#[tokio::test]
async fn the_admin_csv_upload_shows_each_bad_line_and_imports_a_good_file() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.settle().await;
        let admin = app.admin_client().await;
        let post = |csv: String| {
            admin
                .post(app.url("/rpc/import_competitor_csv"))
                .header("accept", "text/html")
                .header("referer", app.url("/admin/pricing"))
                .form(&[("csv", csv)])
                .send()
        };
        let bad = "sku,source,price_cents,observed_at\nCOF-001,shop-a,1000,2026-01-01T00:00:00Z\nCOF-002,shop-a,-3,2026-01-01T00:00:00Z\nNOPE-1,shop-a,1000,2026-01-01T00:00:00Z\n";
        let refused = post(bad.to_string()).await.unwrap();
        assert!(refused.status().is_redirection(), "{}", refused.status());
        let location = refused.headers()["location"].to_str().unwrap().to_string();
        let page = admin.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
        assert!(
            page.contains(r#"data-testid="csv-problem" data-line="3" data-field="price_cents""#),
            "{backend:?}: {location}"
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM competitor_offers").await, 0);

        // Line 4 names an unknown product: caught inside the import, still all or nothing.
        let unknown = "sku,source,price_cents,observed_at\nCOF-001,shop-a,1000,2026-01-01T00:00:00Z\nNOPE-1,shop-a,1000,2026-01-01T00:00:00Z\n";
        let location = post(unknown.to_string()).await.unwrap().headers()["location"].to_str().unwrap().to_string();
        let page = admin.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(r#"data-line="3" data-field="sku""#), "{backend:?}: {location}");
        assert_eq!(app.count("SELECT COUNT(*) FROM competitor_offers").await, 0);

        let good = format!(
            "sku,source,price_cents,observed_at\nCOF-001,shop-a,1000,{}\nCOF-002,shop-b,900,2026-01-01T00:00:00Z\n",
            app::shared::now_ms()
        );
        let location = post(good).await.unwrap().headers()["location"].to_str().unwrap().to_string();
        assert!(location.contains("imported=2"), "{location}");
        let page = admin.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(r#"data-testid="csv-imported""#));
        assert_eq!(app.count("SELECT COUNT(*) FROM competitor_offers").await, 2, "{backend:?}");

        // A shopper posting the form imports nothing.
        let shopper = shopper_client();
        app.register(&shopper).await;
        shopper
            .post(app.url("/rpc/import_competitor_csv"))
            .form(&[("csv", "sku,source,price_cents,observed_at\nTEA-001,x,100,1\n")])
            .send()
            .await
            .unwrap();
        assert_eq!(app.count("SELECT COUNT(*) FROM competitor_offers").await, 2);
    }
}

/// The SKUs of the order page's post-purchase offers.
fn offered_skus(html: &str) -> Vec<String> {
    html.split(r#"data-testid="rec-item" data-sku=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_string))
        .collect()
}

async fn add_on(app: &TestApp, client: &reqwest::Client, order_id: i64, sku: &str) -> String {
    let response = client
        .post(app.url("/rpc/add_to_order"))
        .header("accept", "text/html")
        .header("referer", app.url(&format!("/orders/{order_id}")))
        .form(&[("order_id", order_id.to_string()), ("sku", sku.to_string())])
        .send()
        .await
        .unwrap();
    let status = response.status();
    let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_string());
    assert!(status.is_redirection(), "{status}: {}", response.text().await.unwrap_or_default());
    location.unwrap()
}

#[tokio::test]
async fn a_post_purchase_add_on_joins_the_open_order_once_and_is_refused_after_its_window() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.settle().await;
        let bought = app.busiest_sku().await;
        let shopper = shopper_client();
        app.register(&shopper).await;
        let order = app.buy(&shopper, &[(bought.as_str(), 1)]).await;
        let order_id = order["id"].as_i64().unwrap();
        let total = order["total_cents"].as_i64().unwrap();
        app.settle().await;

        let html = shopper.get(app.url(&format!("/orders/{order_id}"))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(r#"data-testid="post-purchase""#), "{backend:?}: no offers for {bought}");
        assert!(html.contains(r#"data-testid="post-purchase-add""#));
        let offers = offered_skus(&html);
        assert!(!offers.is_empty() && !offers.contains(&bought), "{offers:?}");
        let extra = offers[0].clone();
        let (price, _, _) = price_of(&app, &extra).await;
        let stock = app.stock_of(&extra).await;
        let sold_of = |sku: String| {
            let app = &app;
            async move {
                app.count(&format!("SELECT COALESCE(MAX(units_sold), 0) FROM product_stats WHERE sku = '{sku}'")).await
            }
        };
        let analytics_units_of = |sku: String| {
            let app = &app;
            async move {
                app.count(&format!(
                    "SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM analytics_daily \
                     WHERE metric = 'product_units' AND dim = '{sku}'"
                ))
                .await
            }
        };
        let revenue = || {
            let app = &app;
            async move {
                app.count("SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM analytics_daily WHERE metric = 'revenue_cents'")
                    .await
            }
        };
        let orders_counted = || {
            let app = &app;
            async move {
                app.count("SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM analytics_daily WHERE metric = 'orders'")
                    .await
            }
        };
        let (sold_before, units_before) = (sold_of(extra.clone()).await, analytics_units_of(extra.clone()).await);
        let (revenue_before, orders_before) = (revenue().await, orders_counted().await);

        let location = add_on(&app, &shopper, order_id, &extra).await;
        assert!(location.ends_with(&format!("?added={extra}")), "{backend:?}: {location}");
        let total_after: i64 = app.count(&format!("SELECT total_cents FROM orders WHERE id = {order_id}")).await;
        assert_eq!(total_after, total + price, "charged at the current price");
        assert_eq!(app.stock_of(&extra).await, stock - 1);
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM order_lines WHERE order_id = {order_id}")).await, 2);
        app.settle().await;
        let units = app
            .count(&format!("SELECT CAST(COALESCE(SUM(units), 0) AS BIGINT) FROM sales_daily WHERE sku = '{extra}'"))
            .await;
        assert!(units >= 1, "the add-on counts for sales velocity");
        // It is a sale like any other: product stats, analytics revenue (not a new order) and
        // points, pending until the order ships.
        assert_eq!(sold_of(extra.clone()).await, sold_before + 1, "{backend:?}: product stats");
        assert_eq!(analytics_units_of(extra.clone()).await, units_before + 1, "{backend:?}: analytics units");
        assert_eq!(revenue().await, revenue_before + price, "{backend:?}: analytics revenue");
        assert_eq!(orders_counted().await, orders_before, "{backend:?}: an add-on is not an order");
        let addon_points = app
            .count(&format!(
                "SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) FROM points_ledger \
                 WHERE source = 'order:{order_id}:addon:{extra}' AND bucket = 'pending'"
            ))
            .await;
        assert!(addon_points > 0, "{backend:?}: the add-on earns points");
        let user_id = app.count(&format!("SELECT user_id FROM orders WHERE id = {order_id}")).await;
        let shown = app::cart::ssr::get_order(&app.db, user_id, order_id).await.unwrap();
        let order_points = order["points_earned"].as_i64().unwrap();
        assert_eq!(shown.points_earned, order_points + addon_points, "{backend:?}: the order page shows both");

        // The same product again, a sold-out one, another shopper's order: refused, nothing changes.
        assert!(add_on(&app, &shopper, order_id, &extra).await.ends_with("?addon=in_order"));
        app.set_stock("TEA-004", 0).await;
        assert!(add_on(&app, &shopper, order_id, "TEA-004").await.ends_with("?addon=sold_out"), "{backend:?}");
        let stranger = shopper_client();
        app.register(&stranger).await;
        let response = stranger
            .post(app.url("/rpc/add_to_order"))
            .form(&[("order_id", order_id.to_string()), ("sku", "MUG-001".to_string())])
            .send()
            .await
            .unwrap();
        assert!(!response.status().is_success() || !response.headers().contains_key("location"));
        assert_eq!(app.count(&format!("SELECT total_cents FROM orders WHERE id = {order_id}")).await, total + price);

        // Thirty-one minutes later the window is closed and the button gone.
        sqlx::query("UPDATE orders SET created_at = created_at - 1860000 WHERE id = $1")
            .bind(order_id)
            .execute(app.db.pool())
            .await
            .unwrap();
        assert!(add_on(&app, &shopper, order_id, "MUG-001").await.ends_with("?addon=closed"), "{backend:?}");
        let html = shopper.get(app.url(&format!("/orders/{order_id}"))).send().await.unwrap().text().await.unwrap();
        assert!(!html.contains(r#"data-testid="post-purchase-add""#));

        // Shipping posts the order's points with its add-on's.
        let admin = app.admin_client().await;
        let available = || {
            let app = &app;
            let shopper = &shopper;
            async move {
                let me: serde_json::Value =
                    shopper.get(app.url("/api/v1/me/points")).send().await.unwrap().json().await.unwrap();
                me["balance"].as_i64().unwrap()
            }
        };
        let before_shipping = available().await;
        let shipped = admin.post(app.url(&format!("/api/v1/admin/orders/{order_id}/fulfil"))).send().await.unwrap();
        assert!(shipped.status().is_success(), "{}", shipped.status());
        assert_eq!(available().await, before_shipping + order_points + addon_points, "{backend:?}");

        // A fulfilled order takes no add-on, even within the window.
        let second = app.buy(&shopper, &[(bought.as_str(), 1)]).await["id"].as_i64().unwrap();
        let fulfilled = admin.post(app.url(&format!("/api/v1/admin/orders/{second}/fulfil"))).send().await.unwrap();
        assert!(fulfilled.status().is_success(), "{}", fulfilled.status());
        assert!(add_on(&app, &shopper, second, "MUG-001").await.ends_with("?addon=closed"));
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM order_lines WHERE order_id = {second}")).await, 1);

        // Shown, clicked and added are counted for the owner.
        app.settle_events("post_purchase_shown", 1).await;
        let click = shopper_client().get(app.url(&format!("/rec/cross_sell/{extra}?from=post-purchase"))).send().await;
        assert!(click.unwrap().status().is_redirection());
        app.settle_events("recommendation_clicked", 1).await;
        let page = admin.get(app.url("/admin/pricing")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(r#"data-clicked="1" data-added="1""#), "{backend:?}");
    }
}

#[tokio::test]
async fn a_competitor_batch_larger_than_a_chunk_reprices_records_and_announces_every_product() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.settle().await;
        // 450 products: more than one read chunk (400) and two write chunks (200).
        let n = 450;
        let now = app::shared::now_ms();
        let sku = |i: i64| format!("BATCH-{i:03}");
        let base = |i: i64| 1_000 + i * 10;
        sqlx::query("INSERT INTO categories (slug, name, description) VALUES ('batch', 'Batch', '')")
            .execute(app.db.pool())
            .await
            .unwrap();
        for i in 0..n {
            sqlx::query(
                "INSERT INTO products (sku, name, category_slug, description, image, base_cents, cost_cents, \
                 price_cents, stock, created_at, updated_at) VALUES ($1, $1, 'batch', '', '', $2, 0, $2, 50, $3, $3)",
            )
            .bind(sku(i))
            .bind(base(i))
            .bind(now)
            .execute(app.db.pool())
            .await
            .unwrap();
            sqlx::query("INSERT INTO price_history (sku, price_cents, reason, created_at) VALUES ($1, $2, 'base', $3)")
                .bind(sku(i))
                .bind(base(i))
                .bind(now - 1)
                .execute(app.db.pool())
                .await
                .unwrap();
        }
        let rules = RuleSet { competitor: CompetitorMode::Match, ..signals_only() };
        save_rules(&app.db, &Scope::Category("batch".into()), &rules, None).await.unwrap();
        app.settle().await;
        let events_before = app.count("SELECT COUNT(*) FROM domain_events WHERE kind = 'price_changed'").await;

        // Even products: a competitor 10 % cheaper (a reduction); odd: 10 % dearer (a rise).
        let offered = |i: i64| if i % 2 == 0 { base(i) * 90 / 100 } else { base(i) * 110 / 100 };
        let offers: Vec<serde_json::Value> =
            (0..n).map(|i| offer(&sku(i), "rival", offered(i), json!(now - 60_000))).collect();
        let imported =
            json_of(put_offers(&app, &shopper_client(), Some(&app.inventory_token), json!({ "offers": offers })).await)
                .await;
        assert_eq!((imported["imported"].as_i64(), imported["repriced"].as_i64()), (Some(n), Some(n)), "{backend:?}");

        let rows: Vec<(String, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT sku, price_cents, price_reason, reference_30d_cents FROM products WHERE category_slug = 'batch' ORDER BY sku",
        )
        .fetch_all(app.db.pool())
        .await
        .unwrap();
        assert_eq!(rows.len() as i64, n);
        for (i, (row_sku, price, reason, reference)) in rows.into_iter().enumerate() {
            let i = i as i64;
            assert_eq!((row_sku.as_str(), price, reason.as_str()), (sku(i).as_str(), offered(i), "competitor"));
            // The Omnibus reference goes with reductions only.
            let expected_reference = if i % 2 == 0 { Some(base(i)) } else { None };
            assert_eq!(reference, expected_reference, "{backend:?}: {row_sku}");
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM price_history WHERE cause = 'competitor' AND sku LIKE 'BATCH-%'").await,
            n,
            "{backend:?}: one history row per change"
        );
        let events_after = app.count("SELECT COUNT(*) FROM domain_events WHERE kind = 'price_changed'").await;
        assert_eq!(events_after - events_before, n, "{backend:?}: one price_changed per change");
        let last: String =
            sqlx::query_scalar("SELECT payload FROM domain_events WHERE kind = 'price_changed' AND aggregate = $1")
                .bind(sku(n - 1))
                .fetch_one(app.db.pool())
                .await
                .unwrap();
        let last: serde_json::Value = serde_json::from_str(&last).unwrap();
        assert_eq!(last["amount_cents"], offered(n - 1), "{backend:?}: {last}");
        assert_eq!(last["previous_cents"], base(n - 1));
    }
}
