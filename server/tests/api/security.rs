//! Browser security and abuse limits: the Content-Security-Policy and its nonce on every
//! inline script, the other security headers, `Secure` cookies, session rotation and
//! server-side logout, per-address and per-account rate limits answering 429 with
//! `Retry-After`, the persistent wrong-password delay, and body size limits.

use crate::helpers::{
    assert_problem, backends, json_of, set_cookie, shopper_client, spawn_app, spawn_app_with, test_settings,
};
use serde_json::json;

/// The value of `name="…"` inside one tag's text.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    tag[start..].split('"').next()
}

/// The opening tags of every `<script>` element of a page.
fn script_tags(html: &str) -> Vec<&str> {
    html.match_indices("<script").filter_map(|(at, _)| html[at..].split_once('>').map(|(tag, _)| tag)).collect()
}

/// The nonce of a CSP header's `script-src`, after checking the policy allows no inline
/// script without it, no `eval`, no plugins and no framing.
fn checked_nonce(csp: &str) -> String {
    let directive = |name: &str| {
        csp.split(';')
            .map(str::trim)
            .find(|d| d.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name}: {csp}"))
    };
    let script_src = directive("script-src");
    assert!(!csp.contains("'unsafe-inline'"), "{csp}");
    assert!(!csp.contains("'unsafe-eval'"), "only wasm compilation is allowed: {csp}");
    assert!(script_src.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(!script_src.contains('*') && !script_src.contains("http"), "{csp}");
    assert_eq!(directive("frame-ancestors"), "frame-ancestors 'none'");
    assert_eq!(directive("object-src"), "object-src 'none'");
    assert_eq!(directive("default-src"), "default-src 'self'");
    let nonce = script_src
        .split_whitespace()
        .find_map(|source| source.strip_prefix("'nonce-")?.strip_suffix('\''))
        .unwrap_or_else(|| panic!("no nonce: {csp}"));
    assert!(nonce.len() >= 16, "{nonce}");
    nonce.to_string()
}

/// Fetches `path` and checks the headers; for a page, that every executable inline script
/// carries the response's nonce. Returns the nonce.
async fn check_headers(client: &reqwest::Client, url: &str) -> String {
    let response = client.get(url).send().await.unwrap();
    let headers = response.headers().clone();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(header("x-content-type-options"), "nosniff", "{url}");
    assert_eq!(header("referrer-policy"), "strict-origin-when-cross-origin", "{url}");
    assert_eq!(header("x-frame-options"), "DENY", "{url}");
    let nonce = checked_nonce(&header("content-security-policy"));
    let html = response.text().await.unwrap();
    if header("content-type").starts_with("text/html") {
        let scripts = script_tags(&html);
        assert!(!scripts.is_empty(), "{url}: a page hydrates with scripts");
        for tag in scripts {
            // A JSON-LD data block is never executed, so the policy does not apply to it.
            if attribute(tag, "type") == Some("application/ld+json") {
                continue;
            }
            assert_eq!(attribute(tag, "nonce"), Some(nonce.as_str()), "{url}: {tag}");
        }
        for handler in [" onclick=", " onload=", " onerror=", " onsubmit="] {
            assert!(!html.contains(handler), "{url}: inline handler {handler}");
        }
    }
    nonce
}

#[tokio::test]
async fn every_response_has_the_security_headers_and_every_inline_script_the_nonce() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let anonymous = shopper_client();
        let shopper = shopper_client();
        app.register(&shopper).await;
        let admin = app.admin_client().await;
        let mut nonces = std::collections::HashSet::new();
        // The home page twice: the second answer comes from the page cache and must carry a
        // nonce of its own, spliced into the cached HTML.
        for path in ["/", "/", "/products/COF-001", "/category/coffee", "/login", "/no-such-page", "/api/v1/products"] {
            nonces.insert(check_headers(&anonymous, &app.url(path)).await);
        }
        for path in ["/account", "/cart", "/checkout"] {
            nonces.insert(check_headers(&shopper, &app.url(path)).await);
        }
        for path in ["/admin", "/admin/pricing", "/admin/reviews"] {
            nonces.insert(check_headers(&admin, &app.url(path)).await);
        }
        assert_eq!(nonces.len(), 13, "a fresh nonce for every response");
        // A server function's answer and an error carry the headers too.
        let rpc = anonymous.post(app.url("/rpc/no_such_function")).send().await.unwrap();
        assert!(rpc.headers().contains_key("content-security-policy"));
        assert_eq!(rpc.headers()["x-content-type-options"], "nosniff");
    }
}

/// Every `Set-Cookie` of a walk through the shop: first visit, a referral link, the cart,
/// registration, logout, login, and an admin's brand key shown once.
///
/// **Rationale:** the clients send cookies by hand, since a cookie jar rightly keeps a
/// `Secure` cookie from going back over plain HTTP.
async fn cookies_of_a_visit(secure: bool) -> Vec<String> {
    let app = spawn_app_with(crate::helpers::Backend::Sqlite, |settings| settings.secure_cookies = secure).await;
    let plain = with_cookies("");
    let mut cookies = Vec::new();
    let mut keep = |response: &reqwest::Response| {
        for value in response.headers().get_all("set-cookie") {
            cookies.push(value.to_str().unwrap().to_string());
        }
    };
    let passphrase = "a long test passphrase";
    let register = |email: &str| json!({ "email": email, "password": passphrase, "display_name": "Sec" });
    let referrer = app.post_json(&plain, "/api/v1/auth/register", register("referrer@example.com")).await;
    let referrer = with_session(&set_cookie(&referrer, "mercato_session").unwrap());
    let code = json_of(referrer.get(app.url("/api/v1/me/referral")).send().await.unwrap()).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    keep(&plain.get(app.url("/")).send().await.unwrap());
    let referred = plain.get(app.url(&format!("/r/{code}"))).send().await.unwrap();
    let ref_cookie = format!("mercato_ref={}", set_cookie(&referred, "mercato_ref").unwrap());
    keep(&referred);
    keep(&app.add_to_cart(&plain, "COF-001", 1).await);
    let registered =
        app.post_json(&with_cookies(&ref_cookie), "/api/v1/auth/register", register("friend@example.com")).await;
    keep(&registered);
    let token = set_cookie(&registered, "mercato_session").unwrap();
    keep(&with_session(&token).post(app.url("/api/v1/auth/logout")).send().await.unwrap());
    let login = json!({ "email": "friend@example.com", "password": passphrase });
    keep(&app.post_json(&plain, "/api/v1/auth/login", login).await);

    let owner = app::accounts::domain::Email::parse("owner@example.com").unwrap();
    let password = app::accounts::ssr::create_admin(&app.db, &owner).await.unwrap();
    let login = json!({ "email": "owner@example.com", "password": password });
    let admin_token = set_cookie(&app.post_json(&plain, "/api/v1/auth/login", login).await, "mercato_session").unwrap();
    let admin = with_session(&admin_token);
    let create = rpc_path(&app, &admin, "/admin/insights", "create_brand_key").await;
    let created = admin.post(app.url(&create)).form(&[("brand", "Leafline"), ("label", "test")]).send().await.unwrap();
    let key = set_cookie(&created, "mercato_new_brand_key").expect("the new key is handed over in a cookie");
    keep(&created);
    let shown = with_cookies(&format!("mercato_session={admin_token}; mercato_new_brand_key={key}"));
    keep(&shown.get(app.url("/admin/insights")).send().await.unwrap());
    cookies
}

/// The `action` of the form on `page` that posts to the server function `name`.
pub async fn rpc_path(app: &crate::helpers::TestApp, client: &reqwest::Client, page: &str, name: &str) -> String {
    let html = client.get(app.url(page)).send().await.unwrap().text().await.unwrap();
    let prefix = format!("action=\"/rpc/{name}");
    let start = html.find(&prefix).unwrap_or_else(|| panic!("{page} has no form for {name}")) + 8;
    html[start..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn cookies_are_secure_when_the_shop_is_served_over_https() {
    let secure = cookies_of_a_visit(true).await;
    let names: std::collections::HashSet<&str> = secure.iter().filter_map(|cookie| cookie.split('=').next()).collect();
    for name in ["mercato_vid", "mercato_ab", "mercato_ref", "mercato_cart", "mercato_session", "mercato_new_brand_key"]
    {
        assert!(names.contains(name), "the walk sets {name}: {names:?}");
    }
    for cookie in &secure {
        assert!(cookie.split(';').any(|part| part.trim() == "Secure"), "{cookie}");
    }
    for cookie in cookies_of_a_visit(false).await {
        assert!(!cookie.contains("Secure"), "plain HTTP on loopback: {cookie}");
    }
}

/// A client that sends exactly `token` as its session cookie.
fn with_session(token: &str) -> reqwest::Client {
    with_cookies(&format!("mercato_session={token}"))
}

/// A client without a cookie jar that sends exactly the `Cookie` header `cookies`.
fn with_cookies(cookies: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if !cookies.is_empty() {
        headers.insert("cookie", cookies.parse().unwrap());
    }
    reqwest::Client::builder().default_headers(headers).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

#[tokio::test]
async fn a_login_rotates_the_session_and_logout_ends_it_on_the_server() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let client = shopper_client();
        let email = format!("rotate-{backend:?}@example.com").to_lowercase();
        let register = app
            .post_json(
                &client,
                "/api/v1/auth/register",
                json!({ "email": email, "password": "a long test passphrase", "display_name": "Rot" }),
            )
            .await;
        let first = set_cookie(&register, "mercato_session").unwrap();
        let me = |token: String| {
            let url = app.url("/api/v1/me");
            async move { with_session(&token).get(url).send().await.unwrap().status().as_u16() }
        };
        assert_eq!(me(first.clone()).await, 200);

        // Logging in again, while logged in, replaces the session: the old token is dead.
        let credentials = json!({ "email": email, "password": "a long test passphrase" });
        let second = app.post_json(&client, "/api/v1/auth/login", credentials.clone()).await;
        let second = set_cookie(&second, "mercato_session").unwrap();
        assert_ne!(first, second);
        assert_eq!(me(first.clone()).await, 401, "the session from before the login is ended");
        assert_eq!(me(second.clone()).await, 200);

        // The same through the login form's server function.
        let form_client = with_session(&second);
        let action = rpc_path(&app, &form_client, "/login", "login").await;
        let form = form_client
            .post(app.url(&action))
            .form(&[("email", email.as_str()), ("password", "a long test passphrase")])
            .send()
            .await
            .unwrap();
        let third = set_cookie(&form, "mercato_session").expect("the form login sets a session");
        assert_ne!(third, second);
        assert_eq!(me(second).await, 401);

        // A session id planted in the browser before login (fixation) is never adopted.
        let planted = "ab".repeat(32);
        let fixation =
            with_session(&planted).post(app.url("/api/v1/auth/login")).json(&credentials).send().await.unwrap();
        let issued = set_cookie(&fixation, "mercato_session").unwrap();
        assert_ne!(issued, planted);
        assert_eq!(me(planted).await, 401);

        // Logout deletes the session row: the token replayed afterwards is refused.
        let logout = with_session(&issued).post(app.url("/api/v1/auth/logout")).send().await.unwrap();
        assert_eq!(logout.status(), 204);
        assert_eq!(set_cookie(&logout, "mercato_session").as_deref(), Some(""), "the cookie is cleared");
        assert_eq!(me(issued.clone()).await, 401, "a replayed token after logout is refused");
        let rows = app
            .count(&format!(
                "SELECT COUNT(*) FROM sessions WHERE token_hash = '{}'",
                app::accounts::ssr::token_hash(&issued)
            ))
            .await;
        assert_eq!(rows, 0);
        // And so does the logout form's server function.
        let last =
            set_cookie(&app.post_json(&client, "/api/v1/auth/login", credentials).await, "mercato_session").unwrap();
        let logout_form =
            with_session(&last).post(app.url(&rpc_path(&app, &with_session(&last), "/account", "logout").await));
        logout_form.send().await.unwrap();
        assert_eq!(me(last).await, 401);
    }
}

/// Asserts a 429 problem with a `Retry-After` of 1 to `max` seconds.
async fn assert_throttled(response: reqwest::Response, max: u64) -> serde_json::Value {
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .unwrap_or_else(|| panic!("429 without Retry-After"))
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=max).contains(&retry_after), "Retry-After: {retry_after}");
    let body = assert_problem(response, 429).await;
    assert_eq!(body["retry_after"], retry_after);
    body
}

#[tokio::test]
async fn logins_and_registrations_are_limited_per_address_with_retry_after() {
    let app = spawn_app_with(crate::helpers::Backend::Sqlite, |settings| {
        settings.limits.logins_per_ip_per_minute = 3;
        settings.limits.registrations_per_ip_per_hour = 2;
        settings.limits.trusted_proxy_hops = 1;
    })
    .await;
    // Behind one trusted proxy, the address is the last X-Forwarded-For entry; a client
    // cannot escape its limit by adding entries of its own to the left.
    let from = |ip: &str| {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", format!("6.6.6.{}, {ip}", ip.len()).parse().unwrap());
        reqwest::Client::builder().default_headers(headers).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    };
    let attacker = from("203.0.113.7");
    for n in 0..3 {
        let guess = json!({ "email": format!("victim{n}@example.com"), "password": "wrong wrong wrong" });
        assert_eq!(app.post_json(&attacker, "/api/v1/auth/login", guess).await.status(), 401);
    }
    let guess = json!({ "email": "victim9@example.com", "password": "wrong wrong wrong" });
    let throttled = app.post_json(&attacker, "/api/v1/auth/login", guess.clone()).await;
    assert_throttled(throttled, 60).await;
    // The login form says so next to the form.
    let form_action = rpc_path(&app, &attacker, "/login", "login").await;
    let form = attacker
        .post(app.url(&form_action))
        .form(&[("email", "victim9@example.com"), ("password", "wrong wrong wrong")])
        .send()
        .await
        .unwrap();
    let location = form.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/login?error=too_many"), "{location}");
    let page = attacker.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Too many attempts."), "the message is shown next to the form");
    // Another address is not affected.
    assert_eq!(app.post_json(&from("198.51.100.1"), "/api/v1/auth/login", guess).await.status(), 401);

    let registration = |n: u32| json!({ "email": format!("new{n}@example.com"), "password": "a long test passphrase", "display_name": "New" });
    for n in 0..2 {
        assert_eq!(app.post_json(&from("203.0.113.8"), "/api/v1/auth/register", registration(n)).await.status(), 201);
    }
    let throttled = app.post_json(&from("203.0.113.8"), "/api/v1/auth/register", registration(2)).await;
    assert_throttled(throttled, 3600).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE email = 'new2@example.com'").await, 0);
    let register_action = rpc_path(&app, &attacker, "/register", "register").await;
    let form = from("203.0.113.8")
        .post(app.url(&register_action))
        .form(&[("email", "new3@example.com"), ("display_name", "New"), ("password", "a long test passphrase")])
        .send()
        .await
        .unwrap();
    let location = form.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, "/register?error=too_many");
    let page = attacker.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Too many attempts."), "the message is shown next to the form");
    assert_eq!(app.post_json(&from("198.51.100.2"), "/api/v1/auth/register", registration(4)).await.status(), 201);
}

/// Moves every lock of `email` into the past, as if its time had run out.
async fn expire_lock(app: &crate::helpers::TestApp, email: &str) {
    sqlx::query("UPDATE login_attempts SET locked_until = 0 WHERE email = $1")
        .bind(email)
        .execute(app.db.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn wrong_passwords_lock_the_account_with_a_growing_delay_that_outlives_the_server() {
    for backend in backends() {
        let app = spawn_app_with(backend, |settings| {
            settings.limits.login_failures_before_delay = 3;
            settings.limits.login_delay_secs = 60;
        })
        .await;
        let client = shopper_client();
        let email = app.register(&client).await;
        let login = |password: &str| json!({ "email": email, "password": password });
        for _ in 0..3 {
            assert_eq!(app.post_json(&client, "/api/v1/auth/login", login("not my password")).await.status(), 401);
        }
        // Locked now, even for the right password, which is not even checked.
        let locked = app.post_json(&client, "/api/v1/auth/login", login("a long test passphrase")).await;
        assert_throttled(locked, 60).await;

        // The lock is in the database: a restarted server, or another one, holds it too.
        let other = server::startup::Application::build(test_settings(app.database_url())).await.unwrap();
        let other_url = format!("http://127.0.0.1:{}", other.port());
        tokio::spawn(other.run_until(std::future::pending()));
        let elsewhere =
            shopper_client().post(format!("{other_url}/api/v1/auth/login")).json(&login("a long test passphrase"));
        assert_throttled(elsewhere.send().await.unwrap(), 60).await;

        // Each wrong password after the lock runs out doubles the next one.
        expire_lock(&app, &email).await;
        assert_eq!(app.post_json(&client, "/api/v1/auth/login", login("still not it")).await.status(), 401);
        let longer = assert_throttled(app.post_json(&client, "/api/v1/auth/login", login("x")).await, 120).await;
        assert!(longer["retry_after"].as_u64().unwrap() > 60, "{longer}");

        // Another account is not affected; an unknown address is locked the same way, so
        // the lock tells nobody which addresses have accounts.
        let someone = shopper_client();
        let someone_email = app.register(&someone).await;
        let right = json!({ "email": someone_email, "password": "a long test passphrase" });
        assert_eq!(app.post_json(&someone, "/api/v1/auth/login", right).await.status(), 200);
        let nobody = json!({ "email": "nobody@example.com", "password": "guess guess guess" });
        for _ in 0..3 {
            assert_eq!(app.post_json(&someone, "/api/v1/auth/login", nobody.clone()).await.status(), 401);
        }
        assert_throttled(app.post_json(&someone, "/api/v1/auth/login", nobody).await, 60).await;

        // The right password once the lock ran out logs in and clears the count.
        expire_lock(&app, &email).await;
        assert_eq!(app.post_json(&client, "/api/v1/auth/login", login("a long test passphrase")).await.status(), 200);
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM login_attempts WHERE email = '{email}'")).await, 0);
        assert_eq!(app.post_json(&client, "/api/v1/auth/login", login("wrong again")).await.status(), 401);
    }
}

#[tokio::test]
async fn posts_and_events_are_limited_per_address_as_well_as_per_account_and_visitor() {
    for backend in backends() {
        let app = spawn_app_with(backend, |settings| {
            settings.posts_per_minute = 100;
            settings.limits.posts_per_ip_per_minute = 3;
            settings.limits.events_per_visitor_per_second = 100;
            settings.limits.events_per_ip_per_second = 1;
        })
        .await;
        // Questions from two accounts on one address share the address's limit.
        let first = shopper_client();
        app.register(&first).await;
        let second = shopper_client();
        app.register(&second).await;
        let questions = [
            "Does this coffee keep its aroma for a month once the bag is open?",
            "Is the roast suitable for an espresso machine at home?",
            "How finely should I grind it for a French press?",
            "Would you recommend it with milk or rather black?",
        ];
        let question = |n: usize| json!({ "body": questions[n] });
        for (n, client) in [&first, &second, &first].into_iter().enumerate() {
            let asked = app.post_json(client, "/api/v1/products/COF-001/questions", question(n)).await;
            assert_eq!(asked.status(), 201, "{}", asked.text().await.unwrap());
        }
        let flooded = app.post_json(&second, "/api/v1/products/COF-001/questions", question(3)).await;
        assert_throttled(flooded, 60).await;
        let review = json!({ "rating": 5, "title": "Lovely", "body": "Fresh, floral and sweet, a really good cup." });
        assert_throttled(app.post_json(&first, "/api/v1/products/TEA-001/reviews", review).await, 60).await;

        // Event batches from fresh visitor cookies (a script dropping its cookie) are still
        // capped by the address: a burst of 10, then 429.
        let batch = json!({ "events": [{ "kind": "page_view", "path": "/" }] });
        let mut statuses = Vec::new();
        for _ in 0..11 {
            let response = shopper_client().post(app.url("/api/v1/events")).json(&batch).send().await.unwrap();
            if response.status() == 429 {
                assert_throttled(response, 60).await;
                statuses.push(429);
            } else {
                statuses.push(response.status().as_u16());
            }
        }
        assert_eq!(statuses.iter().filter(|s| **s == 202).count(), 10, "{statuses:?}");
        assert_eq!(statuses.last(), Some(&429));
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_declared_or_streamed_api_or_server_function() {
    let app = spawn_app(crate::helpers::Backend::Sqlite).await;
    let client = shopper_client();
    // Without a Content-Length (chunked), the limit holds while the body is read.
    let status =
        chunked_post(&app, "/api/v1/cart/items", &format!("{{\"sku\": \"{}\"}}", "x".repeat(100 * 1024))).await;
    assert_eq!(status, 413);
    let action = rpc_path(&app, &client, "/login", "login").await;
    let form = client
        .post(app.url(&action))
        .form(&[("email", "a@example.com"), ("password", &"p".repeat(100 * 1024))])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 413);
    assert_eq!(app.count("SELECT COUNT(*) FROM login_attempts").await, 0, "the refused body never reached login");
}

/// Posts `body` as `Transfer-Encoding: chunked` JSON (no declared length); the status.
async fn chunked_post(app: &crate::helpers::TestApp, path: &str, body: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.as_bytes().chunks(4096) {
        // The server may answer and close before the whole body is sent.
        if stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await.is_err()
            || stream.write_all(chunk).await.is_err()
            || stream.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    answer.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("{answer}"))
}
