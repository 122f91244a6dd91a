//! Anonymized brand insights through HTTP: the owner's JSON and CSV, k-anonymity (a product
//! reviewed by fewer than five people is suppressed, a term used by fewer than five is left
//! out), no names, e-mails or ids in any output, and brand keys scoped to one brand's
//! products (shown once, stored hashed, revocable).

use crate::helpers::{assert_problem, backends, json_of, shopper_client, spawn_app, TestApp};
use serde_json::{json, Value};

/// Unusual names and addresses, so finding one in the output can only be a leak.
const NAMES: [&str; 6] = ["Ottoline", "Peregrine", "Quillon", "Rosamund", "Sebastiano", "Tiberius"];

struct Author {
    client: reqwest::Client,
    name: &'static str,
    email: String,
}

async fn author(app: &TestApp, name: &'static str, tag: &str) -> Author {
    let client = shopper_client();
    let email = format!("{}-{tag}@example.org", name.to_lowercase());
    let response = app
        .post_json(
            &client,
            "/api/v1/auth/register",
            json!({ "email": email, "password": "a long test passphrase", "display_name": name }),
        )
        .await;
    assert_eq!(response.status(), 201);
    Author { client, name, email }
}

/// Two Brewcraft products nobody reviewed or asked about yet.
async fn fresh_brewcraft_skus(app: &TestApp) -> (String, String) {
    let skus: Vec<String> = sqlx::query_scalar(
        "SELECT sku FROM products WHERE brand = 'Brewcraft' AND sku NOT IN (SELECT sku FROM reviews) \
         AND sku NOT IN (SELECT sku FROM questions) ORDER BY sku LIMIT 2",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(skus.len(), 2, "two unreviewed Brewcraft products");
    (skus[0].clone(), skus[1].clone())
}

async fn approve(app: &TestApp, admin: &reqwest::Client, kind: &str, id: i64) {
    let body = json!({ "items": [{ "kind": kind, "id": id }], "decision": "approve" });
    assert_eq!(app.post_json(admin, "/api/v1/admin/moderation", body).await.status(), 200);
}

async fn review(app: &TestApp, admin: &reqwest::Client, author: &Author, sku: &str, rating: i64, text: &str) {
    // Each text signs with the author's name: a term only one person used must not appear.
    let body = json!({ "rating": rating, "title": "My take", "body": format!("{text} Cheers, {}", author.name) });
    let response = app.post_json(&author.client, &format!("/api/v1/products/{sku}/reviews"), body).await;
    assert!(response.status().is_success(), "{}", response.status());
    let id = json_of(response).await["id"].as_i64().unwrap();
    approve(app, admin, "review", id).await;
}

async fn ask(app: &TestApp, admin: &reqwest::Client, author: &Author, sku: &str, n: usize) {
    let questions = [
        "Is the handle comfortable for big hands?",
        "Does the handle get hot with boiling water?",
        "Is the handle glued or part of the body?",
        "Would the handle survive the dishwasher?",
        "How thick is the handle near the top?",
    ];
    let response = app
        .post_json(&author.client, &format!("/api/v1/products/{sku}/questions"), json!({ "body": questions[n] }))
        .await;
    assert_eq!(response.status(), 201);
    let id = json_of(response).await["id"].as_i64().unwrap();
    approve(app, admin, "question", id).await;
}

/// No name or e-mail of any author, and no field that would hold a person (an id, a name).
fn assert_anonymous(output: &str, authors: &[Author]) {
    let lower = output.to_lowercase();
    for author in authors {
        assert!(!lower.contains(&author.name.to_lowercase()), "{} leaked: {output}", author.name);
        assert!(!lower.contains(&author.email), "{} leaked", author.email);
    }
    for key in ["user", "author", "email", "display_name", "\"name\"", "\"id\""] {
        assert!(!lower.contains(key), "{key} in {output}");
    }
}

#[tokio::test]
async fn insights_publish_only_what_five_people_stand_behind_and_name_nobody() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let (popular, quiet) = fresh_brewcraft_skus(&app).await;
        let tag =
            format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
        let mut authors = Vec::new();
        for name in NAMES {
            authors.push(author(&app, name, &tag).await);
        }
        for (author, rating) in authors.iter().zip([5, 5, 4, 4, 3, 1]) {
            review(&app, &admin, author, &popular, rating, "Sturdy and handsome: the handle is solid, lovely glaze.")
                .await;
        }
        for (n, author) in authors.iter().take(5).enumerate() {
            ask(&app, &admin, author, &popular, n).await;
        }
        for author in authors.iter().take(4) {
            review(&app, &admin, author, &quiet, 5, "Bought it as a present, it arrived well packed.").await;
        }

        let response = admin.get(app.url(&format!("/api/v1/admin/insights?product={popular}"))).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        let insights: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(insights["k"], 5);
        assert_eq!(insights["scope"], json!({ "kind": "product", "key": popular }));
        let reviews = &insights["reviews"];
        assert_eq!(reviews["suppressed"], false);
        assert_eq!(reviews["reviews"], 6);
        assert_eq!(reviews["rating_distribution"], json!([1, 0, 1, 2, 2]));
        assert_eq!(reviews["volume_by_month"].as_array().unwrap().len(), 1);
        assert_eq!(reviews["volume_by_month"][0]["reviews"], 6);
        let terms: Vec<&str> =
            reviews["top_terms"].as_array().unwrap().iter().map(|t| t["term"].as_str().unwrap()).collect();
        for expected in ["sturdy", "handle", "glaze"] {
            assert!(terms.contains(&expected), "{expected} in {terms:?}");
        }
        assert!(!terms.contains(&"the") && !terms.contains(&"and"), "stopwords: {terms:?}");
        assert_eq!(insights["questions"]["suppressed"], false);
        assert_eq!(insights["questions"]["questions"], 5);
        assert_eq!(insights["questions"]["top_terms"][0]["term"], "handle");
        assert_eq!(insights["questions"]["per_product"], json!([{ "sku": popular, "questions": 5 }]));
        assert_anonymous(&text, &authors);

        // Four people are not enough, however many stars.
        let quiet_insights =
            json_of(admin.get(app.url(&format!("/api/v1/admin/insights?product={quiet}"))).send().await.unwrap()).await;
        assert_eq!(quiet_insights["reviews"], json!({ "suppressed": true }));
        assert_eq!(quiet_insights["questions"], json!({ "suppressed": true }));

        let csv =
            admin.get(app.url(&format!("/api/v1/admin/insights?product={popular}&format=csv"))).send().await.unwrap();
        assert_eq!(csv.status(), 200);
        assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let csv = csv.text().await.unwrap();
        assert!(csv.starts_with("section,metric,key,value\n"), "{csv}");
        for line in ["reviews,rating,5,2", "reviews,rating,2,0", "reviews,term,sturdy,6", "questions,count,,5"] {
            assert!(csv.lines().any(|l| l == line), "{line} in {csv}");
        }
        assert_anonymous(&csv, &authors);

        // The category's figures cover all its products; bad questions are 4xx problems.
        let category: String = sqlx::query_scalar("SELECT category_slug FROM products WHERE sku = $1")
            .bind(&popular)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        let by_category = admin.get(app.url(&format!("/api/v1/admin/insights?category={category}"))).send().await;
        let by_category = json_of(by_category.unwrap()).await;
        assert!(by_category["products"].as_array().unwrap().len() > 1);
        assert_anonymous(&by_category.to_string(), &authors);
        assert_problem(admin.get(app.url("/api/v1/admin/insights")).send().await.unwrap(), 422).await;
        let both = admin.get(app.url(&format!("/api/v1/admin/insights?product={popular}&category=mugs"))).send().await;
        assert_problem(both.unwrap(), 422).await;
        let format = admin.get(app.url(&format!("/api/v1/admin/insights?product={popular}&format=xml"))).send().await;
        assert_problem(format.unwrap(), 422).await;
        assert_problem(admin.get(app.url("/api/v1/admin/insights?product=NOPE-404")).send().await.unwrap(), 404).await;
        assert_eq!(
            authors[0].client.get(app.url("/api/v1/admin/insights?product=X")).send().await.unwrap().status(),
            403
        );
    }
}

#[tokio::test]
async fn a_brand_key_reads_its_own_products_only_until_revoked() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let (own, _) = fresh_brewcraft_skus(&app).await;
        let other: String = sqlx::query_scalar("SELECT sku FROM products WHERE brand = 'Alto Roasters' LIMIT 1")
            .fetch_one(app.db.pool())
            .await
            .unwrap();

        let created = admin
            .post(app.url("/api/v1/admin/brand-keys"))
            .json(&json!({ "brand": "Brewcraft", "label": "Brewcraft analytics" }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let created = json_of(created).await;
        let key = created["key"].as_str().unwrap().to_string();
        assert!(key.starts_with("mbk_") && key.len() > 40, "{key}");
        // Only the hash is stored, and the list never shows the key again.
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM brand_keys WHERE key_hash = '{key}'")).await, 0);
        let list = json_of(admin.get(app.url("/api/v1/admin/brand-keys")).send().await.unwrap()).await;
        assert!(!list.to_string().contains(&key));
        assert!(list["brands"].as_array().unwrap().iter().any(|b| b == "Brewcraft"));
        let unknown_brand = admin
            .post(app.url("/api/v1/admin/brand-keys"))
            .json(&json!({ "brand": "Nobody", "label": "x" }))
            .send()
            .await
            .unwrap();
        assert_problem(unknown_brand, 422).await;

        let brand = shopper_client();
        let get = |path: String, key: Option<String>| {
            let request = brand.get(app.url(&path));
            let request = match key {
                Some(key) => request.bearer_auth(key),
                None => request,
            };
            request.send()
        };
        let mine = get(format!("/api/v1/insights?product={own}"), Some(key.clone())).await.unwrap();
        assert_eq!(mine.status(), 200);
        assert_eq!(json_of(mine).await["products"], json!([own]));
        let csv = get(format!("/api/v1/insights?product={own}&format=csv"), Some(key.clone())).await.unwrap();
        assert!(csv.text().await.unwrap().starts_with("section,metric,key,value"));
        let category: String = sqlx::query_scalar("SELECT category_slug FROM products WHERE sku = $1")
            .bind(&own)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        let scoped =
            json_of(get(format!("/api/v1/insights?category={category}"), Some(key.clone())).await.unwrap()).await;
        let n_brand_products = app
            .count(&format!("SELECT COUNT(*) FROM products WHERE category_slug = '{category}' AND brand = 'Brewcraft'"))
            .await;
        assert_eq!(scoped["products"].as_array().unwrap().len() as i64, n_brand_products);

        // Another brand's product or category answers as if it did not exist.
        assert_problem(get(format!("/api/v1/insights?product={other}"), Some(key.clone())).await.unwrap(), 404).await;
        assert_problem(get("/api/v1/insights?category=coffee".into(), Some(key.clone())).await.unwrap(), 404).await;
        assert_problem(get(format!("/api/v1/insights?product={own}"), None).await.unwrap(), 401).await;
        let forged = get(format!("/api/v1/insights?product={own}"), Some(format!("{key}x"))).await.unwrap();
        assert_problem(forged, 401).await;
        // An admin's session is not a brand key.
        assert_eq!(admin.get(app.url(&format!("/api/v1/insights?product={own}"))).send().await.unwrap().status(), 401);

        let id = created["id"].as_i64().unwrap();
        let revoked = admin.delete(app.url(&format!("/api/v1/admin/brand-keys/{id}"))).send().await.unwrap();
        assert_eq!(revoked.status(), 204);
        assert_problem(get(format!("/api/v1/insights?product={own}"), Some(key.clone())).await.unwrap(), 401).await;
        let again = admin.delete(app.url(&format!("/api/v1/admin/brand-keys/{id}"))).send().await.unwrap();
        assert_problem(again, 404).await;
    }
}

#[tokio::test]
async fn the_insights_page_shows_a_new_key_once_and_revokes_it_from_plain_forms() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let post_form = |client: &reqwest::Client, function: &str, body: String| {
            client
                .post(app.url(&format!("/rpc/{function}")))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("referer", app.url("/admin/insights"))
                .body(body)
                .send()
        };
        let created = post_form(&admin, "create_brand_key", "brand=Leafline&label=Leafline+team".into()).await.unwrap();
        assert!(created.status().is_redirection() || created.status().is_success(), "{}", created.status());
        let page = admin.get(app.url("/admin/insights")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("data-testid=\"new-brand-key\""), "the new key is shown");
        let start = page.find("mbk_").expect("the key on the page");
        let key: String = page[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        assert_eq!(key.len(), 4 + 64);
        let tea = brand_get(&app, "/api/v1/insights?category=tea", &key).await;
        assert_eq!(tea.status(), 200);
        // Shown once: the next load of the page no longer has it.
        let again = admin.get(app.url("/admin/insights")).send().await.unwrap().text().await.unwrap();
        assert!(!again.contains(&key) && !again.contains("new-brand-key"));
        assert!(again.contains("Leafline team") && again.contains("data-testid=\"brand-key\""));

        // A shopper's form post creates nothing; the owner's revokes.
        let shopper = shopper_client();
        app.register(&shopper).await;
        let _ = post_form(&shopper, "create_brand_key", "brand=Leafline&label=Mine".into()).await.unwrap();
        assert_eq!(app.count("SELECT COUNT(*) FROM brand_keys").await, 1);
        let id = app.count("SELECT id FROM brand_keys").await;
        let revoked = post_form(&admin, "revoke_brand_key", format!("id={id}")).await.unwrap();
        assert!(revoked.status().is_redirection() || revoked.status().is_success(), "{}", revoked.status());
        assert_eq!(brand_get(&app, "/api/v1/insights?category=tea", &key).await.status(), 401);
    }
}

async fn brand_get(app: &TestApp, path: &str, key: &str) -> reqwest::Response {
    shopper_client().get(app.url(path)).bearer_auth(key).send().await.unwrap()
}
