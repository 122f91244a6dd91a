//! Recommendations through the API: every eligibility rule of every kind, the incremental
//! co-purchase table against a full recomputation after live orders, "for you" from recent
//! views, click and add-to-cart tracking, and bad input.

use crate::helpers::{assert_problem, backends, json_of, shopper_client, spawn_app, TestApp};
use serde_json::json;

async fn recs(app: &TestApp, client: &reqwest::Client, kind: &str, sku: &str) -> Vec<String> {
    let url = app.url(&format!("/api/v1/recommendations?kind={kind}&sku={sku}&limit=50"));
    let body = json_of(client.get(url).send().await.unwrap()).await;
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|p| p["sku"].as_str().unwrap().to_string())
        .collect()
}

async fn together(app: &TestApp, a: &str, b: &str) -> i64 {
    sqlx::query_scalar("SELECT COALESCE(MAX(orders), 0) FROM co_purchases WHERE sku_a = $1 AND sku_b = $2")
        .bind(a)
        .bind(b)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn every_kind_leaves_out_the_product_itself_what_is_sold_out_in_the_cart_or_owned() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let sku = app.busiest_sku().await;
        let shopper = shopper_client();
        app.register(&shopper).await;

        let cross = recs(&app, &shopper, "cross_sell", &sku).await;
        let fbt = recs(&app, &shopper, "frequently_bought_together", &sku).await;
        assert!(cross.len() >= 3 && fbt.len() >= 3, "cross {cross:?} fbt {fbt:?}");
        assert!(!cross.contains(&sku) && !fbt.contains(&sku));
        for other in &fbt {
            assert!(together(&app, &sku, other).await >= 2, "{other} is below the minimum support");
        }
        // Frequently bought together is ordered by how often.
        let counts = futures::future::join_all(fbt.iter().map(|other| together(&app, &sku, other))).await;
        assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");

        // Sold out: gone from every kind.
        let sold_out = fbt[0].clone();
        app.set_stock(&sold_out, 0).await;
        assert!(!recs(&app, &shopper, "frequently_bought_together", &sku).await.contains(&sold_out));
        assert!(!recs(&app, &shopper, "cross_sell", &sku).await.contains(&sold_out));
        app.set_stock(&sold_out, 50).await;

        // In the cart: gone.
        let in_cart = fbt[1].clone();
        assert_eq!(app.add_to_cart(&shopper, &in_cart, 1).await.status(), 200);
        assert!(!recs(&app, &shopper, "frequently_bought_together", &sku).await.contains(&in_cart));
        assert!(!recs(&app, &shopper, "cross_sell", &sku).await.contains(&in_cart));

        // Bought: gone from cross-sell and upsell, still frequently bought together.
        let cart = json_of(shopper.get(app.url("/api/v1/cart")).send().await.unwrap()).await;
        let total = cart["total_cents"].as_i64().unwrap();
        let order = app
            .post_json(&shopper, "/api/v1/checkout", json!({ "redeem_points": 0, "expected_total_cents": total }))
            .await;
        assert_eq!(order.status(), 201);
        app.settle().await;
        assert!(!recs(&app, &shopper, "cross_sell", &sku).await.contains(&in_cart));
        assert!(recs(&app, &shopper, "frequently_bought_together", &sku).await.contains(&in_cart));
        // Someone else still gets it.
        assert!(
            recs(&app, &app.client, "cross_sell", &sku).await.contains(&in_cart)
                || together(&app, &sku, &in_cart).await < 2
        );
    }
}

#[tokio::test]
async fn upsells_are_dearer_products_of_the_same_category_within_the_band() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let products = json_of(app.get("/api/v1/products?category=coffee").await).await;
        let cheapest = products["items"]
            .as_array()
            .unwrap()
            .iter()
            .min_by_key(|p| p["price"]["amount_cents"].as_i64().unwrap())
            .unwrap()
            .clone();
        let sku = cheapest["sku"].as_str().unwrap();
        let price = cheapest["price"]["amount_cents"].as_i64().unwrap();
        let upsells = json_of(app.get(&format!("/api/v1/recommendations?kind=upsell&sku={sku}")).await).await;
        let items = upsells["items"].as_array().unwrap();
        assert!(!items.is_empty(), "no upsell for {sku}");
        for item in items {
            let up = item["price"]["amount_cents"].as_i64().unwrap();
            assert_eq!(item["category"], "coffee");
            assert!(up > price && up <= price * 2, "{up} outside ({price}, {}]", price * 2);
            assert!(item["stock"].as_i64().unwrap() > 0);
        }
        // A buyer of the first upsell no longer gets it.
        let first = items[0]["sku"].as_str().unwrap().to_string();
        let buyer = shopper_client();
        app.register(&buyer).await;
        app.buy(&buyer, &[(&first, 1)]).await;
        app.settle().await;
        assert!(!recs(&app, &buyer, "upsell", sku).await.contains(&first));
    }
}

#[tokio::test]
async fn the_incremental_co_purchase_table_equals_a_full_recomputation_after_live_orders() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let skus: Vec<String> = sqlx::query_scalar("SELECT sku FROM products WHERE stock > 30 ORDER BY sku LIMIT 8")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
        // A deterministic mix of baskets, some with repeated products.
        let mut state = 7u64;
        for _ in 0..12 {
            let buyer = shopper_client();
            app.register(&buyer).await;
            let mut basket = Vec::new();
            for _ in 0..3 {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                basket.push(skus[(state >> 33) as usize % skus.len()].as_str());
            }
            app.buy(&buyer, &basket.iter().map(|sku| (*sku, 1)).collect::<Vec<_>>()).await;
        }
        app.settle().await;
        // Every pair of the full recomputation is in the table with its count, and nothing else.
        let missing_or_wrong = app
            .count(
                "SELECT COUNT(*) FROM (SELECT a.sku AS sku_a, b.sku AS sku_b, COUNT(*) AS n FROM order_lines a \
                 JOIN order_lines b ON b.order_id = a.order_id AND b.sku <> a.sku GROUP BY a.sku, b.sku) AS f \
                 LEFT JOIN co_purchases c ON c.sku_a = f.sku_a AND c.sku_b = f.sku_b \
                 WHERE c.orders IS NULL OR c.orders <> f.n",
            )
            .await;
        let extra = app
            .count(
                "SELECT COUNT(*) FROM co_purchases c WHERE NOT EXISTS (SELECT 1 FROM order_lines a \
                 JOIN order_lines b ON b.order_id = a.order_id WHERE a.sku = c.sku_a AND b.sku = c.sku_b)",
            )
            .await;
        assert_eq!((missing_or_wrong, extra), (0, 0));
        // And the units each account bought of each product.
        let owned_off = app
            .count(
                "SELECT COUNT(*) FROM (SELECT o.user_id, l.sku, SUM(l.quantity) AS n FROM order_lines l \
                 JOIN orders o ON o.id = l.order_id GROUP BY o.user_id, l.sku) AS f \
                 LEFT JOIN user_products u ON u.user_id = f.user_id AND u.sku = f.sku \
                 WHERE u.units IS NULL OR u.units <> f.n",
            )
            .await;
        let owned_rows = app.count("SELECT COUNT(*) FROM user_products").await;
        let owned_expected =
            app.count("SELECT COUNT(*) FROM (SELECT DISTINCT o.user_id, l.sku FROM order_lines l JOIN orders o ON o.id = l.order_id) AS d").await;
        assert_eq!((owned_off, owned_rows), (0, owned_expected));
        let orders = app.count("SELECT COUNT(DISTINCT order_id) FROM order_lines").await;
        assert_eq!(app.count("SELECT orders FROM co_purchase_totals").await, orders);
    }
}

#[tokio::test]
async fn for_you_starts_from_best_sellers_and_follows_what_the_shopper_views() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let shopper = shopper_client();
        app.register(&shopper).await;
        let subscribed = app.post_json(&shopper, "/api/v1/me/subscription", json!({ "plan": "premium" })).await;
        assert!(subscribed.status().is_success(), "{}", subscribed.status());
        let url = app.url("/api/v1/recommendations?kind=for_you&limit=5");
        // Cold start: the best sellers.
        let cold = json_of(shopper.get(&url).send().await.unwrap()).await;
        let best: Vec<String> = sqlx::query_scalar(
            "SELECT p.sku FROM products p JOIN product_stats s ON s.sku = p.sku WHERE p.stock > 0 \
             ORDER BY s.units_sold DESC, s.views DESC, p.sku LIMIT 1",
        )
        .fetch_all(app.db.pool())
        .await
        .unwrap();
        assert_eq!(cold["items"][0]["sku"], best[0].as_str());

        // After viewing a product: it is left out, and what is bought with it comes first.
        let sku = app.busiest_sku().await;
        assert_eq!(shopper.get(app.url(&format!("/products/{sku}"))).send().await.unwrap().status(), 200);
        let top_partner = recs(&app, &shopper, "frequently_bought_together", &sku).await[0].clone();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            app.settle().await;
            let warm = json_of(shopper.get(&url).send().await.unwrap()).await;
            let skus: Vec<&str> =
                warm["items"].as_array().unwrap().iter().map(|p| p["sku"].as_str().unwrap()).collect();
            if skus.first() == Some(&top_partner.as_str()) {
                assert!(!skus.contains(&sku.as_str()));
                break;
            }
            assert!(std::time::Instant::now() < deadline, "for_you did not follow the view: {skus:?}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        // Not premium: 403 naming the plan.
        let free = shopper_client();
        app.register(&free).await;
        assert_problem(free.get(&url).send().await.unwrap(), 403).await;
    }
}

#[tokio::test]
async fn clicks_and_adds_from_a_recommendation_are_counted() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let sku = app.busiest_sku().await;
        let partners = recs(&app, &app.client, "frequently_bought_together", &sku).await;
        let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let click = no_redirects
            .get(app.url(&format!("/rec/frequently_bought_together/{}?from={sku}", partners[0])))
            .send()
            .await
            .unwrap();
        assert_eq!(click.status(), 303);
        assert_eq!(click.headers()["location"], format!("/products/{}", partners[0]).as_str());
        assert_eq!(no_redirects.get(app.url("/rec/nope/COF-001")).send().await.unwrap().status(), 404);

        let shopper = shopper_client();
        let form = format!("skus%5B0%5D={sku}&skus%5B1%5D={}&kind=frequently_bought_together&from={sku}", partners[0]);
        let added = shopper
            .post(app.url("/rpc/add_recommended"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        assert!(added.status().is_success() || added.status().is_redirection(), "{}", added.status());
        let cart = json_of(shopper.get(app.url("/api/v1/cart")).send().await.unwrap()).await;
        let in_cart: Vec<&str> = cart["items"].as_array().unwrap().iter().map(|i| i["sku"].as_str().unwrap()).collect();
        assert!(in_cart.contains(&sku.as_str()) && in_cart.contains(&partners[0].as_str()), "{in_cart:?}");

        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while app
            .count(
                "SELECT COUNT(*) FROM domain_events WHERE kind IN ('recommendation_clicked', 'recommendation_added')",
            )
            .await
            < 2
        {
            assert!(std::time::Instant::now() < deadline, "click and add were not recorded");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn bad_recommendation_requests_are_refused_with_the_reason() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        for (query, status) in [
            ("kind=nope&sku=COF-001", 422),
            ("sku=COF-001", 422),
            ("kind=upsell", 422),
            ("kind=upsell&sku=NOPE-999", 404),
            ("kind=cross_sell&sku=COF-001&limit=0", 422),
            ("kind=cross_sell&sku=COF-001&limit=51", 422),
            ("kind=for_you", 401),
        ] {
            assert_problem(app.get(&format!("/api/v1/recommendations?{query}")).await, status).await;
        }
    }
}
