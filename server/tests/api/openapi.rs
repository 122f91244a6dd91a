//! The OpenAPI document at `/api/v1/openapi.json`.

use crate::helpers::{spawn_app, Backend};

#[tokio::test]
async fn the_openapi_document_is_served_as_json_with_the_api_s_operations() {
    // The document does not depend on the database: one backend is enough.
    let app = spawn_app(Backend::Sqlite).await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let document: serde_json::Value = response.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(document["servers"][0]["url"], "/api/v1");
    let checkout = &document["paths"]["/checkout"]["post"];
    assert_eq!(checkout["security"], serde_json::json!([{ "session": [] }]));
    assert_eq!(
        checkout["responses"]["409"]["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
    let inventory = &document["paths"]["/inventory/{sku}"]["put"];
    assert_eq!(inventory["security"], serde_json::json!([{ "inventory_token": [] }]));
    assert_eq!(document["components"]["securitySchemes"]["session"]["in"], "cookie");
    assert_eq!(document["components"]["securitySchemes"]["session"]["name"], "mercato_session");
}
