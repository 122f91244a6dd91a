use crate::helpers::{assert_problem, backends, shopper_client, spawn_app};
use serde_json::json;

#[tokio::test]
async fn register_login_logout_round_trip_with_a_database_session() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = shopper_client();
        assert_problem(client.get(app.url("/api/v1/me")).send().await.unwrap(), 401).await;

        let response = app
            .post_json(
                &client,
                "/api/v1/auth/register",
                json!({ "email": "Ann@Example.com", "password": "a long test passphrase", "display_name": "Ann" }),
            )
            .await;
        assert_eq!(response.status(), 201);
        let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let me: serde_json::Value = client.get(app.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
        assert_eq!(me["email"], "ann@example.com");
        assert!(me.get("password_hash").is_none());

        // Only a hash of the token and an argon2id hash of the password are stored.
        let token = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_string();
        let stored_raw = app.count(&format!("SELECT COUNT(*) FROM sessions WHERE token_hash = '{token}'")).await;
        assert_eq!(stored_raw, 0);
        let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = 'ann@example.com'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");

        let logout = client.post(app.url("/api/v1/auth/logout")).send().await.unwrap();
        assert_eq!(logout.status(), 204);
        assert_problem(client.get(app.url("/api/v1/me")).send().await.unwrap(), 401).await;
        assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0, "logout deletes the session row");

        let login = app
            .post_json(
                &client,
                "/api/v1/auth/login",
                json!({ "email": "ann@example.com", "password": "a long test passphrase" }),
            )
            .await;
        assert_eq!(login.status(), 200);
        assert_eq!(client.get(app.url("/api/v1/me")).send().await.unwrap().status(), 200);
    }
}

#[tokio::test]
async fn wrong_password_duplicate_email_and_weak_password_are_clear_errors() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = shopper_client();
        let email = app.register(&client).await;

        let duplicate = app
            .post_json(
                &shopper_client(),
                "/api/v1/auth/register",
                json!({ "email": email, "password": "another long passphrase", "display_name": "Dup" }),
            )
            .await;
        let body = assert_problem(duplicate, 409).await;
        assert!(body["detail"].as_str().unwrap().contains("already exists"));

        let weak = app
            .post_json(
                &shopper_client(),
                "/api/v1/auth/register",
                json!({ "email": "weak@example.com", "password": "short", "display_name": "W" }),
            )
            .await;
        let body = assert_problem(weak, 422).await;
        assert_eq!(body["field"], "password");

        let wrong = app
            .post_json(
                &shopper_client(),
                "/api/v1/auth/login",
                json!({ "email": email, "password": "not the password!" }),
            )
            .await;
        assert_problem(wrong, 401).await;
        let unknown = app
            .post_json(
                &shopper_client(),
                "/api/v1/auth/login",
                json!({ "email": "nobody@example.com", "password": "not the password!" }),
            )
            .await;
        assert_problem(unknown, 401).await;
    }
}

#[tokio::test]
async fn admin_create_prints_a_password_that_logs_in_as_admin() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = app.admin_client().await;
        let me: serde_json::Value = client.get(app.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
        assert_eq!(me["role"], "admin");
    }
}
