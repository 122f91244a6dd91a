//! `spawn_app`: a real server on a random port with a fresh database per test.

use app::db::Db;
use server::config::Settings;
use server::startup::Application;
use std::sync::LazyLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        server::telemetry::init_subscriber(server::telemetry::get_subscriber("debug", std::io::stdout));
    } else {
        server::telemetry::init_subscriber(server::telemetry::get_subscriber("off", std::io::sink));
    }
});

/// The backends to run storage tests on. In CI a missing PostgreSQL is an error, never a
/// silent skip.
pub fn backends() -> Vec<Backend> {
    match std::env::var("MERCATO_TEST_PG_URL") {
        Ok(_) => vec![Backend::Sqlite, Backend::Postgres],
        Err(_) if std::env::var("CI").is_ok() => panic!("CI must set MERCATO_TEST_PG_URL (./x test does)"),
        Err(_) => {
            eprintln!("MERCATO_TEST_PG_URL not set: PostgreSQL half skipped (run ./x test for both)");
            vec![Backend::Sqlite]
        }
    }
}

pub struct TestDatabase {
    pub url: String,
    /// Keeps the SQLite file alive for the test.
    _dir: Option<tempfile::TempDir>,
    /// The PostgreSQL database to drop when the test is over: a hundred seeded databases
    /// left behind fill a small CI disk.
    pg_name: Option<String>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (Some(name), Ok(admin_url)) = (self.pg_name.take(), std::env::var("MERCATO_TEST_PG_URL")) else {
            return;
        };
        // The test's own runtime is the one dropping us, so the drop runs on a thread with a
        // runtime of its own. FORCE ends the server's connections that are still open.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async {
                if let Ok(admin) = Db::connect(&admin_url, 1).await {
                    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    if let Err(error) = sqlx::query(&drop).execute(admin.pool()).await {
                        eprintln!("could not drop test database {name}: {error}");
                    }
                    admin.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}

fn random_suffix() -> String {
    app::accounts::ssr::random_token()[..12].to_string()
}

/// A fresh, empty database on `backend`.
pub async fn test_database(backend: Backend) -> TestDatabase {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
            TestDatabase { url, _dir: Some(dir), pg_name: None }
        }
        Backend::Postgres => {
            let admin_url = std::env::var("MERCATO_TEST_PG_URL").expect("MERCATO_TEST_PG_URL");
            let name = format!("mercato_test_{}", random_suffix());
            let admin = Db::connect(&admin_url, 1).await.expect("connect to PostgreSQL");
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(admin.pool()).await.expect("create database");
            admin.close().await;
            let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap_or(&admin_url);
            TestDatabase { url: format!("{base}/{name}"), _dir: None, pg_name: Some(name) }
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub db: Db,
    /// The server's state, to drive background jobs (renewals) from a test.
    pub state: app::state::AppState,
    /// Keeps the database (the SQLite file) alive as long as the app.
    _database: TestDatabase,
    pub inventory_token: String,
    /// A client with its own cookie jar (one shopper).
    pub client: reqwest::Client,
}

pub const INVENTORY_TOKEN: &str = "test-inventory-token";

/// The value of cookie `name` as the server last set it on `response`.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|cookie| cookie.split(';').next()?.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

pub fn shopper_client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// Starts the app on a random port over a fresh database with the demo catalog (and a few
/// demo orders) seeded.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Every test talks from 127.0.0.1, so the per-address limits are set out of reach here;
/// the tests of the limits set their own with [`spawn_app_with`].
pub fn test_settings(database_url: &str) -> Settings {
    Settings {
        database_url: database_url.to_string(),
        addr: "127.0.0.1:0".parse().unwrap(),
        inventory_token: Some(INVENTORY_TOKEN.into()),
        secure_cookies: false,
        max_connections: 16,
        seed_demo: true,
        experiments_enabled: true,
        high_value_cents: 50_000,
        loyalty: app::loyalty::domain::LoyaltyRules::default(),
        posts_per_minute: 10,
        recommendations: app::recommendations::domain::RecRules::default(),
        price_review_every: std::time::Duration::from_secs(600),
        addon_window_minutes: 30,
        limits: app::shared::limits::AbuseLimits {
            logins_per_ip_per_minute: 100_000,
            registrations_per_ip_per_hour: 100_000,
            posts_per_ip_per_minute: 100_000,
            events_per_ip_per_second: 100_000,
            ..Default::default()
        },
    }
}

/// [`spawn_app`] with settings changed by `configure`.
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
    LazyLock::force(&TRACING);
    let database = test_database(backend).await;
    let mut settings = test_settings(&database.url);
    configure(&mut settings);
    spawn_on(database, settings).await
}

/// Starts a server with `settings` over `database` (which it keeps alive).
pub async fn spawn_on(database: TestDatabase, settings: Settings) -> TestApp {
    LazyLock::force(&TRACING);
    let application = Application::build(settings).await.expect("build app");
    let address = format!("http://127.0.0.1:{}", application.port());
    let db = application.db();
    let state = application.state();
    tokio::spawn(application.run_until(std::future::pending()));
    TestApp {
        address,
        db,
        state,
        _database: database,
        inventory_token: INVENTORY_TOKEN.into(),
        client: shopper_client(),
    }
}

impl TestApp {
    /// The database the server runs on (for a second server on the same data).
    pub fn database_url(&self) -> &str {
        &self._database.url
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub async fn post_json(&self, client: &reqwest::Client, path: &str, body: serde_json::Value) -> reqwest::Response {
        client.post(self.url(path)).json(&body).send().await.expect("request")
    }

    /// Registers a new shopper with `client`'s cookie jar; returns the e-mail.
    pub async fn register(&self, client: &reqwest::Client) -> String {
        let email = format!("shopper-{}@example.com", random_suffix());
        let response = self
            .post_json(
                client,
                "/api/v1/auth/register",
                serde_json::json!({ "email": email, "password": "a long test passphrase", "display_name": "Tess" }),
            )
            .await;
        assert_eq!(response.status(), 201, "register: {}", response.text().await.unwrap_or_default());
        email
    }

    /// Creates the shop owner with `mercato admin create`'s code path and logs in as them.
    pub async fn admin_client(&self) -> reqwest::Client {
        let email = app::accounts::domain::Email::parse("owner@example.com").expect("email");
        let password = app::accounts::ssr::create_admin(&self.db, &email).await.expect("create admin");
        let client = shopper_client();
        let login = self
            .post_json(
                &client,
                "/api/v1/auth/login",
                serde_json::json!({ "email": "owner@example.com", "password": password }),
            )
            .await;
        assert_eq!(login.status(), 200);
        client
    }

    pub async fn add_to_cart(&self, client: &reqwest::Client, sku: &str, quantity: i64) -> reqwest::Response {
        self.post_json(client, "/api/v1/cart/items", serde_json::json!({ "sku": sku, "quantity": quantity })).await
    }

    /// Puts `lines` (SKU, quantity) in `client`'s cart in turn and checks out at the cart's
    /// total; returns the order.
    pub async fn buy(&self, client: &reqwest::Client, lines: &[(&str, i64)]) -> serde_json::Value {
        for (sku, quantity) in lines {
            assert_eq!(self.add_to_cart(client, sku, *quantity).await.status(), 200, "add {sku}");
        }
        let cart = json_of(client.get(self.url("/api/v1/cart")).send().await.expect("cart")).await;
        let total = cart["total_cents"].as_i64().expect("total");
        let order = self
            .post_json(
                client,
                "/api/v1/checkout",
                serde_json::json!({ "redeem_points": 0, "expected_total_cents": total }),
            )
            .await;
        assert_eq!(order.status(), 201, "checkout");
        json_of(order).await
    }

    /// The seeded product with the most co-purchase partners.
    pub async fn busiest_sku(&self) -> String {
        sqlx::query_scalar(
            "SELECT sku_a FROM co_purchases WHERE orders >= 2 GROUP BY sku_a ORDER BY COUNT(*) DESC, sku_a LIMIT 1",
        )
        .fetch_one(self.db.pool())
        .await
        .expect("seeded co-purchases")
    }

    pub async fn set_stock(&self, sku: &str, stock: i64) {
        let response = self
            .client
            .put(self.url(&format!("/api/v1/inventory/{sku}")))
            .bearer_auth(&self.inventory_token)
            .json(&serde_json::json!({ "stock": stock }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
    }

    /// Waits (bounded) until the server's outbox worker has delivered every event, e.g. the
    /// repricing that follows a stock change.
    pub async fn settle(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while app::events::worker::pending(&self.db).await.expect("pending") > 0 {
            assert!(std::time::Instant::now() < deadline, "outbox did not drain");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Waits (bounded) until at least `n` events of `kind` are in the log (events from page
    /// renders and the browser reach it in batches), then for the outbox to deliver them.
    pub async fn settle_events(&self, kind: &str, n: i64) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM domain_events WHERE kind = $1")
                .bind(kind)
                .fetch_one(self.db.pool())
                .await
                .expect("count events");
            if stored >= n {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{kind}: {stored} of {n} events arrived");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.db.wake_outbox();
        self.settle().await;
    }

    pub async fn stock_of(&self, sku: &str) -> i64 {
        sqlx::query_scalar("SELECT stock FROM products WHERE sku = $1")
            .bind(sku)
            .fetch_one(self.db.pool())
            .await
            .expect("stock")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(self.db.pool()).await.expect("count")
    }
}

/// A page's HTML as the browser parses it: without the `<!>` comments that
/// only mark dynamic text for hydration (they split `<em>{text}</em>`).
pub fn visible_html(html: String) -> String {
    html.replace("<!>", "")
}

/// The body as JSON, or a panic that shows the status and what came instead.
pub async fn json_of(response: reqwest::Response) -> serde_json::Value {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("{status}: not JSON: {body}"))
}

/// Asserts an API error is problem+json with the given status; returns the body.
pub async fn assert_problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(content_type, "application/problem+json");
    let body: serde_json::Value = response.json().await.expect("json body");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    body
}
