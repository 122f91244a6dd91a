//! Bad input gets a 4xx problem+json, never a 5xx or a panic.

use crate::helpers::{assert_problem, backends, shopper_client, spawn_app};
use serde_json::json;

#[tokio::test]
async fn malformed_and_invalid_bodies_are_client_errors() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = shopper_client();
        let url = app.url("/api/v1/cart/items");

        let malformed =
            client.post(&url).header("content-type", "application/json").body("{\"sku\": ").send().await.unwrap();
        assert_problem(malformed, 400).await;

        let not_json = client.post(&url).body("sku=COF-001").send().await.unwrap();
        assert_problem(not_json, 415).await;

        for quantity in [json!(0), json!(-1), json!(1_000_000_000_000_i64), json!("two"), json!(1.5)] {
            let response =
                app.post_json(&client, "/api/v1/cart/items", json!({ "sku": "COF-001", "quantity": quantity })).await;
            assert_problem(response, 422).await;
        }

        let unknown_sku = app.add_to_cart(&client, "NOPE-404", 1).await;
        assert_problem(unknown_sku, 404).await;
        let bad_sku = app.post_json(&client, "/api/v1/cart/items", json!({ "sku": "<b>x</b>", "quantity": 1 })).await;
        assert_problem(bad_sku, 422).await;

        let huge = "x".repeat(200 * 1024);
        let oversized = client
            .post(&url)
            .header("content-type", "application/json")
            .body(format!("{{\"sku\": \"{huge}\", \"quantity\": 1}}"))
            .send()
            .await
            .unwrap();
        assert_eq!(oversized.status(), 413);

        assert_problem(client.get(app.url("/api/v1/no-such-thing")).send().await.unwrap(), 404).await;
        assert_problem(client.delete(app.url("/api/v1/cart/items/%00")).send().await.unwrap(), 404).await;

        let checkout_garbage =
            app.post_json(&client, "/api/v1/checkout", json!({ "expected_total_cents": "lots" })).await;
        assert!(checkout_garbage.status().is_client_error());
    }
}

#[tokio::test]
async fn a_sold_out_product_cannot_be_added() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = shopper_client();
        app.set_stock("COF-001", 0).await;
        assert_problem(app.add_to_cart(&client, "COF-001", 1).await, 409).await;
        app.set_stock("COF-001", 2).await;
        assert_problem(app.add_to_cart(&client, "COF-001", 3).await, 409).await;
        assert_eq!(app.add_to_cart(&client, "COF-001", 2).await.status(), 200);
    }
}
