use crate::helpers::{assert_problem, backends, spawn_app};

#[tokio::test]
async fn the_demo_catalog_is_listed_filtered_and_searched() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let all: serde_json::Value = app.get("/api/v1/products").await.json().await.unwrap();
        let items = all["items"].as_array().unwrap();
        assert!(items.len() >= 40, "{backend:?}");
        let first = &items[0];
        for key in ["sku", "name", "category", "stock", "price"] {
            assert!(!first[key].is_null(), "missing {key}");
        }
        for key in ["amount_cents", "base_cents", "currency", "reason"] {
            assert!(!first["price"][key].is_null(), "missing price.{key}");
        }
        assert!(first["price"]["amount_cents"].is_i64());

        let tea: serde_json::Value = app.get("/api/v1/products?category=tea").await.json().await.unwrap();
        let tea = tea["items"].as_array().unwrap();
        assert!(!tea.is_empty() && tea.iter().all(|p| p["category"] == "tea"));

        let found: serde_json::Value = app.get("/api/v1/products?q=MUG").await.json().await.unwrap();
        assert!(!found["items"].as_array().unwrap().is_empty(), "case-insensitive search on {backend:?}");

        let literal: serde_json::Value = app.get("/api/v1/products?q=%25%25%25").await.json().await.unwrap();
        assert!(literal["items"].as_array().unwrap().is_empty(), "% is matched literally");
    }
}

#[tokio::test]
async fn one_product_by_sku_and_a_missing_one_is_a_problem() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let product: serde_json::Value = app.get("/api/v1/products/cof-001").await.json().await.unwrap();
        assert_eq!(product["sku"], "COF-001");
        assert_problem(app.get("/api/v1/products/NOPE-1").await, 404).await;
        assert_problem(app.get("/api/v1/products/%3Cscript%3E").await, 404).await;
    }
}

#[tokio::test]
async fn pages_are_server_rendered_with_prices_and_stock() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let home = app.get("/").await;
        assert_eq!(home.status(), 200);
        assert!(home.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("mercato_vid=")));
        let csp = home.headers()["content-security-policy"].to_str().unwrap().to_string();
        let html = home.text().await.unwrap();
        assert!(html.contains(r#"data-testid="hero""#));
        assert!(html.contains(r#"data-testid="rec-item""#));
        let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
        assert!(html.contains(&format!(r#"nonce="{nonce}""#)), "inline scripts carry the CSP nonce");

        let product = app.get("/products/COF-006").await.text().await.unwrap();
        assert!(product.contains("Out of stock"));
        assert!(product.contains(r#"data-testid="add-to-cart""#) && product.contains("disabled"));

        let category = app.get("/category/tea").await.text().await.unwrap();
        assert!(category.contains(r#"data-testid="price""#) && category.contains("data-amount-cents="));

        assert_eq!(app.get("/category/nope").await.status(), 404);
        assert_eq!(app.get("/products/NOPE-1").await.status(), 404);
        assert_eq!(app.get("/definitely/not/here").await.status(), 404);
    }
}

#[tokio::test]
async fn health_and_metrics_answer() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        assert_eq!(app.get("/healthz").await.status(), 200);
        app.get("/api/v1/products").await;
        let metrics = app.get("/metrics").await.text().await.unwrap();
        assert!(metrics.contains("mercato_http_requests_total"), "{metrics}");
    }
}

#[tokio::test]
async fn the_inventory_webhook_needs_the_token_and_a_valid_body() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let url = app.url("/api/v1/inventory/COF-001");
        let body = serde_json::json!({ "stock": 7 });
        let missing = app.client.put(&url).json(&body).send().await.unwrap();
        assert_problem(missing, 401).await;
        let wrong = app.client.put(&url).bearer_auth("nope").json(&body).send().await.unwrap();
        assert_problem(wrong, 401).await;
        let bad = app.client.put(&url).bearer_auth(&app.inventory_token).body("{stock:").send().await.unwrap();
        assert_problem(bad, 422).await;
        let negative = app
            .client
            .put(&url)
            .bearer_auth(&app.inventory_token)
            .json(&serde_json::json!({ "stock": -1 }))
            .send()
            .await
            .unwrap();
        assert_problem(negative, 422).await;
        let events_before = app.count("SELECT COUNT(*) FROM domain_events WHERE kind = 'stock_changed'").await;
        app.set_stock("COF-001", 7).await;
        assert_eq!(app.stock_of("COF-001").await, 7);
        let events_after = app.count("SELECT COUNT(*) FROM domain_events WHERE kind = 'stock_changed'").await;
        assert_eq!(events_after, events_before + 1);
    }
}

#[tokio::test]
async fn cached_pages_still_get_their_own_csp_nonce() {
    let app = spawn_app(crate::helpers::Backend::Sqlite).await;
    let client = crate::helpers::shopper_client();
    let mut nonces = Vec::new();
    for _ in 0..3 {
        let response = client.get(app.url("/")).send().await.unwrap();
        let csp = response.headers()["content-security-policy"].to_str().unwrap().to_string();
        let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_string();
        let html = response.text().await.unwrap();
        assert!(html.contains(&format!(r#"nonce="{nonce}""#)), "the body carries this response's nonce");
        nonces.push(nonce);
    }
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "every response has a fresh nonce");
}

#[tokio::test]
async fn a_returning_visitors_cached_page_is_answered_like_a_rendered_one() {
    let app = spawn_app(crate::helpers::Backend::Sqlite).await;
    // A returning visitor whose browser lost its `mercato_ab` cookie, and one who kept it.
    let visitor = "0123456789abcdef0123456789abcdef";
    let get = |cookies: String| {
        let request = reqwest::Client::new().get(app.url("/")).header("cookie", cookies);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            let headers = response.headers().clone();
            let csp = headers["content-security-policy"].to_str().unwrap().to_string();
            let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_string();
            let html = response.text().await.unwrap();
            assert!(html.contains(&format!(r#"nonce="{nonce}""#)), "the body carries this response's nonce");
            for (name, value) in
                [("x-content-type-options", "nosniff"), ("x-frame-options", "DENY"), ("vary", "accept-encoding")]
            {
                assert_eq!(headers[name], value, "{name}");
            }
            assert!(headers.contains_key("referrer-policy"));
            let cookies: Vec<String> =
                headers.get_all("set-cookie").iter().map(|c| c.to_str().unwrap().to_string()).collect();
            (csp.replace(&nonce, "N"), cookies, html.replace(&nonce, "N"))
        }
    };
    // The first request renders and fills the cache; the others are answered from it.
    let rendered = get(format!("mercato_vid={visitor}")).await;
    let cached = get(format!("mercato_vid={visitor}")).await;
    assert_eq!(rendered, cached, "a cached answer has the rendered one's headers, cookies and page");
    assert!(cached.1.iter().any(|c| c.starts_with("mercato_ab=")), "the lost assignment is sent again");
    let assignment = cached.1[0].split(';').next().unwrap().to_string();
    let kept = get(format!("mercato_vid={visitor}; {assignment}")).await;
    assert!(kept.1.is_empty(), "nothing to set for a visitor who kept their cookies: {:?}", kept.1);
    assert_eq!(kept.2, cached.2, "the same variant, the same page");
}

#[tokio::test]
async fn a_browser_that_accepts_gzip_gets_the_cached_page_compressed_with_its_own_nonce() {
    use std::io::Read;
    let app = spawn_app(crate::helpers::Backend::Sqlite).await;
    let client = crate::helpers::shopper_client();
    client.get(app.url("/")).send().await.unwrap();
    // (nonce, page) of one request of `/`; the first fills the cache, the rest are hits.
    let fetch = |encoding: &'static str| {
        let request = client.get(app.url("/")).header("accept-encoding", encoding);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["vary"], "accept-encoding");
            let gzip = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string());
            let csp = response.headers()["content-security-policy"].to_str().unwrap().to_string();
            let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_string();
            let body = response.bytes().await.unwrap();
            let page = match gzip.as_deref() {
                Some("gzip") => {
                    let mut page = String::new();
                    flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut page).expect("valid gzip");
                    assert!(body.len() * 3 < page.len(), "compressed: {} of {} bytes", body.len(), page.len());
                    page
                }
                None => String::from_utf8(body.to_vec()).unwrap(),
                Some(other) => panic!("unexpected content-encoding {other}"),
            };
            (gzip.is_some(), nonce, page)
        }
    };
    let (first_gzip, first_nonce, first) = fetch("gzip, deflate, br").await;
    let (second_gzip, second_nonce, second) = fetch("gzip, deflate, br").await;
    let (plain_gzip, plain_nonce, plain) = fetch("identity").await;
    let (refused_gzip, _, _) = fetch("gzip;q=0, br").await;
    assert!(first_gzip && second_gzip, "a browser accepting gzip gets gzip");
    assert!(!plain_gzip && !refused_gzip, "gzip only when accepted");
    assert!(second.contains(&format!(r#"nonce="{second_nonce}""#)), "the inflated page carries its response's nonce");
    assert_ne!(first_nonce, second_nonce);
    // The same cached page in every encoding, but for the nonce.
    assert_eq!(first.replace(&first_nonce, "N"), second.replace(&second_nonce, "N"));
    assert_eq!(second.replace(&second_nonce, "N"), plain.replace(&plain_nonce, "N"));
}

#[tokio::test]
async fn a_visitor_with_a_cart_is_marked_so_pages_show_their_cart() {
    let app = spawn_app(crate::helpers::Backend::Sqlite).await;
    let client = crate::helpers::shopper_client();
    client.get(app.url("/")).send().await.unwrap();
    let added = app.add_to_cart(&client, "TEA-001", 1).await;
    let cookies: Vec<String> =
        added.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap().to_string()).collect();
    assert!(cookies.iter().any(|c| c.starts_with("mercato_cart=1")), "{cookies:?}");
    let home = client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains(r#"data-testid="cart-count" class="cart-count">1<"#), "not the anonymous cached page");
    let removed = client.delete(app.url("/api/v1/cart/items/TEA-001")).send().await.unwrap();
    let cookies: Vec<String> =
        removed.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap().to_string()).collect();
    assert!(cookies.iter().any(|c| c.starts_with("mercato_cart=;")), "{cookies:?}");
}

#[tokio::test]
async fn product_page_views_are_counted_once_each() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        for _ in 0..3 {
            assert_eq!(app.get("/products/TEA-002").await.status(), 200);
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let views = app.count("SELECT COALESCE(MAX(views), 0) FROM product_stats WHERE sku = 'TEA-002'").await;
            if views == 3 {
                break;
            }
            assert!(views < 3, "{backend:?}: counted twice");
            assert!(std::time::Instant::now() < deadline, "{backend:?}: views not recorded");
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let events = app
            .count("SELECT COUNT(*) FROM domain_events WHERE kind = 'product_viewed' AND aggregate = 'TEA-002'")
            .await;
        // Views of one visitor within a flush are one event with a count.
        assert!((1..=3).contains(&events), "{backend:?}: {events} events");
    }
}
