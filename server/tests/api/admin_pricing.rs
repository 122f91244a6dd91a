//! The pricing admin: only admins, rules saved and applied, preview, chart and audit log.

use crate::helpers::{assert_problem, backends, shopper_client, spawn_app};
use serde_json::json;

#[tokio::test]
async fn only_admins_reach_the_pricing_admin() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let url = app.url("/api/v1/admin/pricing/rules");
        assert_problem(shopper_client().get(&url).send().await.unwrap(), 401).await;
        let shopper = shopper_client();
        app.register(&shopper).await;
        assert_problem(shopper.get(&url).send().await.unwrap(), 403).await;
        let put = shopper.put(app.url("/api/v1/admin/pricing/rules/global")).json(&json!({})).send().await.unwrap();
        assert!(put.status() == 403 || put.status() == 422, "{}", put.status());
        // The page itself: a shopper gets 403, a visitor is sent to log in.
        assert_eq!(shopper.get(app.url("/admin/pricing")).send().await.unwrap().status(), 403);
        let anonymous =
            shopper_client().get(app.url("/admin/pricing")).header("accept", "text/html").send().await.unwrap();
        assert!(anonymous.status().is_redirection(), "{}", anonymous.status());
    }
}

#[tokio::test]
async fn an_admin_saves_rules_that_reprice_the_scope_and_are_audited() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        app.settle().await;
        let admin = app.admin_client().await;
        let mut rules = serde_json::to_value(app::pricing::domain::RuleSet::default()).unwrap();
        rules["high_stock_discount_bp"] = json!(1000);
        let saved = admin.put(app.url("/api/v1/admin/pricing/rules/category:tea")).json(&rules).send().await.unwrap();
        assert_eq!(saved.status(), 200);
        app.settle().await;
        // TEA-003 has 182 in stock: overstock, now -10%.
        let product: serde_json::Value = app.get("/api/v1/products/TEA-003").await.json().await.unwrap();
        let base = product["price"]["base_cents"].as_i64().unwrap();
        assert_eq!(product["price"]["amount_cents"], (base * 90 + 50) / 100, "{backend:?}");

        rules["ceiling_bp"] = json!(5);
        let invalid = admin.put(app.url("/api/v1/admin/pricing/rules/global")).json(&rules).send().await.unwrap();
        assert_problem(invalid, 422).await;
        let unknown = admin.put(app.url("/api/v1/admin/pricing/rules/planet:mars")).json(&rules).send().await.unwrap();
        assert_problem(unknown, 404).await;

        let list: serde_json::Value =
            admin.get(app.url("/api/v1/admin/pricing/rules")).send().await.unwrap().json().await.unwrap();
        assert_eq!(list["items"][0]["scope"], "category:tea");

        let page = admin.get(app.url("/admin/pricing?scope=category:tea&sku=TEA-003")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains(r#"data-testid="price-preview""#));
        assert!(html.contains(r#"data-testid="price-history-chart""#));
        assert!(html.contains("owner@example.com"), "the audit log names who changed the rules");

        // A preview of unsaved values, computed from the query, changes nothing.
        let preview = admin
            .get(app.url(
                "/admin/pricing?scope=global&low_stock_below=5&low_stock_markup_pct=50&high_stock_above=100\
                 &high_stock_discount_pct=5&min_margin_pct=10&ceiling_pct=200&max_step_pct=0&rounding=cents",
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(preview.contains("Save these rules"));
        let deleted = admin.delete(app.url("/api/v1/admin/pricing/rules/category:tea")).send().await.unwrap();
        assert_eq!(deleted.status(), 204);
        assert_eq!(app.count("SELECT COUNT(*) FROM pricing_audit").await, 2);
    }
}
