//! The search of user content (`GET /api/v1/ugc/search` and `/community/search`) on SQLite
//! FTS5 and PostgreSQL text search: ranking, each filter, pagination, highlights, only
//! approved items, and hostile queries that must not fail.

use crate::community::{moderate as moderate_posts, new_topic, shopper_on};
use crate::helpers::{assert_problem, backends, json_of, shopper_client, spawn_app, visible_html, TestApp};
use serde_json::{json, Value};

const MARK_START: char = '\u{2}';
const MARK_END: char = '\u{3}';

async fn search(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/api/v1/ugc/search?{query}")).await;
    assert_eq!(response.status(), 200, "{query}");
    json_of(response).await
}

fn ids(results: &Value) -> Vec<(String, i64)> {
    results["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| (hit["kind"].as_str().unwrap().to_string(), hit["id"].as_i64().unwrap()))
        .collect()
}

/// Two in-stock products of different categories.
async fn two_products(app: &TestApp) -> ((String, String), (String, String)) {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT sku, category_slug FROM products WHERE stock > 20 ORDER BY sku")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    let first = rows[0].clone();
    let second = rows.iter().find(|(_, category)| *category != first.1).unwrap().clone();
    (first, second)
}

async fn review(app: &TestApp, client: &reqwest::Client, sku: &str, rating: i64, title: &str, body: &str) -> i64 {
    let response = app
        .post_json(
            client,
            &format!("/api/v1/products/{sku}/reviews"),
            json!({ "rating": rating, "title": title, "body": body }),
        )
        .await;
    assert_eq!(response.status(), 201);
    json_of(response).await["id"].as_i64().unwrap()
}

async fn moderate(app: &TestApp, admin: &reqwest::Client, kind: &str, id: i64, decision: &str) {
    let body = json!({ "items": [{ "kind": kind, "id": id }], "decision": decision, "reason": "Off topic" });
    assert_eq!(app.post_json(admin, "/api/v1/admin/moderation", body).await.status(), 200);
}

async fn reviewer(app: &TestApp) -> reqwest::Client {
    let client = shopper_client();
    app.register(&client).await;
    client
}

#[tokio::test]
async fn results_are_ranked_title_matches_first_and_highlighted() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let ((sku, _), _) = two_products(&app).await;
        let body_only = review(
            &app,
            &reviewer(&app).await,
            &sku,
            4,
            "Nice enough",
            "A little zanzibarite in the finish, but weaker.",
        )
        .await;
        let in_title = review(&app, &reviewer(&app).await, &sku, 5, "Zanzibarite heaven", "Smoky and rich.").await;
        for id in [body_only, in_title] {
            moderate(&app, &admin, "review", id, "approve").await;
        }
        let results = search(&app, "q=zanzibarite").await;
        assert_eq!(ids(&results), [("review".to_string(), in_title), ("review".to_string(), body_only)], "{backend:?}");
        let best = &results["items"][0];
        let title = best["title"].as_str().unwrap();
        assert!(title.contains(MARK_START) && title.contains(MARK_END), "{title:?}");
        let marked: String = title.split(MARK_START).nth(1).unwrap().split(MARK_END).next().unwrap().to_lowercase();
        assert_eq!(marked, "zanzibarite");
        let snippet = results["items"][1]["snippet"].as_str().unwrap();
        assert!(snippet.contains(&format!("{MARK_START}zanzibarite{MARK_END}")), "{snippet:?}");
        assert!(!best["label"].as_str().unwrap().is_empty(), "the product's name");
        assert!(results["next_cursor"].is_null());
        // The review's disclosure (it earned points) comes with it.
        assert!(best["incentive_points"].as_i64().unwrap() > 0, "{best}");

        // The page renders the markers as <mark>, without JavaScript (a GET form).
        let page = visible_html(app.get("/community/search?q=zanzibarite").await.text().await.unwrap());
        assert!(page.contains("<mark>zanzibarite</mark>") || page.contains("<mark>Zanzibarite</mark>"), "marks");
        assert!(!page.contains(MARK_START), "no marker reaches the page");
        assert!(page.contains("data-testid=\"search-hit\""));
        assert!(page.contains("data-testid=\"sponsored-label\"") && page.contains("Incentivized review"), "labels");
        assert!(page.contains("action=\"/community/search\" method=\"get\""));
    }
}

#[tokio::test]
async fn unapproved_items_are_never_found() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let ((sku, _), _) = two_products(&app).await;
        let author = reviewer(&app).await;
        let id = review(&app, &author, &sku, 5, "Quokkaberry", "Pending words quokkaberry.").await;
        assert!(ids(&search(&app, "q=quokkaberry").await).is_empty(), "pending review");
        moderate(&app, &admin, "review", id, "approve").await;
        assert_eq!(ids(&search(&app, "q=quokkaberry").await), [("review".to_string(), id)]);
        // An edit goes back to moderation and out of the search.
        let edited = app
            .post_json(
                &author,
                &format!("/api/v1/products/{sku}/reviews"),
                json!({ "rating": 4, "title": "Quokkaberry", "body": "Edited quokkaberry." }),
            )
            .await;
        assert_eq!(edited.status(), 200);
        assert!(ids(&search(&app, "q=quokkaberry").await).is_empty(), "edited, pending again");
        moderate(&app, &admin, "review", id, "approve").await;
        moderate(&app, &admin, "review", id, "reject").await;
        assert!(ids(&search(&app, "q=quokkaberry").await).is_empty(), "rejected review");

        // Questions and answers.
        let asker = reviewer(&app).await;
        let question = app
            .post_json(
                &asker,
                &format!("/api/v1/products/{sku}/questions"),
                json!({ "body": "Is the quokkaberry one vegan?" }),
            )
            .await;
        let question_id = json_of(question).await["id"].as_i64().unwrap();
        assert!(ids(&search(&app, "q=quokkaberry&kind=question").await).is_empty(), "pending question");
        moderate(&app, &admin, "question", question_id, "approve").await;
        assert_eq!(ids(&search(&app, "q=quokkaberry&kind=question").await), [("question".to_string(), question_id)]);
        moderate(&app, &admin, "question", question_id, "reject").await;
        assert!(ids(&search(&app, "q=quokkaberry").await).is_empty(), "rejected question");

        // Community posts: the topic and its replies only while approved.
        let premium = shopper_on(&app, "premium").await;
        let post = json_of(new_topic(&app, &premium, "tea", "Quokkaberry tisane", "Anyone tried it?").await).await;
        let post_id = post["id"].as_i64().unwrap();
        assert!(ids(&search(&app, "q=quokkaberry").await).is_empty(), "pending post");
        moderate_posts(&app, &admin, &[post_id], "approve").await;
        assert_eq!(ids(&search(&app, "q=quokkaberry").await), [("post".to_string(), post_id)]);
        let hit = &search(&app, "q=quokkaberry").await["items"][0];
        assert_eq!(hit["topic_id"], post["topic_id"]);
        moderate_posts(&app, &admin, &[post_id], "reject").await;
        assert!(ids(&search(&app, "q=quokkaberry").await).is_empty(), "rejected post");
    }
}

#[tokio::test]
async fn every_filter_narrows_the_results() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let ((sku, _), (other_sku, other_category)) = two_products(&app).await;
        let buyer = reviewer(&app).await;
        app.buy(&buyer, &[(sku.as_str(), 1)]).await;
        let verified = review(&app, &buyer, &sku, 5, "Kumquatly good", "Kumquatly and bright.").await;
        let low = review(&app, &reviewer(&app).await, &other_sku, 2, "Kumquatly meh", "Not kumquatly enough.").await;
        let asker = reviewer(&app).await;
        let question = app
            .post_json(&asker, &format!("/api/v1/products/{sku}/questions"), json!({ "body": "Kumquatly sweet?" }))
            .await;
        let question = json_of(question).await["id"].as_i64().unwrap();
        let premium = shopper_on(&app, "premium").await;
        let post_category = if other_category == "gifts" { "mugs" } else { "gifts" };
        let post = json_of(new_topic(&app, &premium, post_category, "Kumquatly gifts", "Ideas?").await).await["id"]
            .as_i64()
            .unwrap();
        for (kind, id) in [("review", verified), ("review", low), ("question", question)] {
            moderate(&app, &admin, kind, id, "approve").await;
        }
        moderate_posts(&app, &admin, &[post], "approve").await;

        let r = |id| ("review".to_string(), id);
        let mut all = ids(&search(&app, "q=kumquatly").await);
        all.sort();
        let mut expected = vec![r(verified), r(low), ("question".into(), question), ("post".into(), post)];
        expected.sort();
        assert_eq!(all, expected, "{backend:?}");
        let sorted = |query: &str| {
            let app = &app;
            let query = query.to_string();
            async move {
                let mut found = ids(&search(app, &query).await);
                found.sort();
                found
            }
        };
        let mut by_sku = vec![r(verified), ("question".into(), question)];
        by_sku.sort();
        assert_eq!(sorted(&format!("q=kumquatly&sku={sku}")).await, by_sku);
        assert_eq!(sorted(&format!("q=kumquatly&category={other_category}")).await, [r(low)]);
        assert_eq!(sorted("q=kumquatly&min_rating=4").await, [r(verified)]);
        assert_eq!(sorted("q=kumquatly&verified=true").await, [r(verified)]);
        assert_eq!(sorted("q=kumquatly&kind=post").await, [("post".to_string(), post)]);
        assert_eq!(
            sorted(&format!("q=kumquatly&kind=review&category={post_category}")).await,
            Vec::<(String, i64)>::new()
        );
        let today = app::shared::format_utc_date(app::shared::now_ms());
        let tomorrow = app::shared::format_utc_date(app::shared::now_ms() + 86_400_000);
        let yesterday = app::shared::format_utc_date(app::shared::now_ms() - 86_400_000);
        assert_eq!(sorted(&format!("q=kumquatly&from={today}&to={today}")).await.len(), 4);
        assert_eq!(sorted(&format!("q=kumquatly&from={tomorrow}")).await, Vec::<(String, i64)>::new());
        assert_eq!(sorted(&format!("q=kumquatly&to={yesterday}")).await, Vec::<(String, i64)>::new());
        // Filters without a query list the newest matching items.
        assert!(sorted(&format!("sku={other_sku}&min_rating=2&kind=review")).await.contains(&r(low)));

        for (query, field) in [
            ("min_rating=9", "min_rating"),
            ("from=last-week", "from"),
            ("kind=blog", "kind"),
            ("verified=maybe", "verified"),
            ("cursor=-3", "cursor"),
            ("sku=%27%3B%20DROP", "sku"),
        ] {
            let problem = assert_problem(app.get(&format!("/api/v1/ugc/search?q=tea&{query}")).await, 422).await;
            assert!(problem.to_string().contains(field), "{query}: {problem}");
        }
    }
}

#[tokio::test]
async fn results_are_paginated_by_cursor_without_overlap() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let premium = shopper_on(&app, "premium").await;
        let mut posted = Vec::new();
        for n in 0..9 {
            let body = format!("Pagerword number {n}.");
            let post = json_of(new_topic(&app, &premium, "tea", &format!("Topic {n} here"), &body).await).await;
            posted.push(post["id"].as_i64().unwrap());
        }
        let other = shopper_on(&app, "premium").await;
        for n in 9..12 {
            let post =
                json_of(new_topic(&app, &other, "coffee", &format!("Topic {n} here"), "More pagerword.").await).await;
            posted.push(post["id"].as_i64().unwrap());
        }
        moderate_posts(&app, &admin, &posted, "approve").await;
        let first = search(&app, "q=pagerword").await;
        assert_eq!(first["items"].as_array().unwrap().len(), 10);
        let cursor = first["next_cursor"].as_str().expect("a next page").to_string();
        let second = search(&app, &format!("q=pagerword&cursor={cursor}")).await;
        assert_eq!(second["items"].as_array().unwrap().len(), 2);
        assert!(second["next_cursor"].is_null());
        let mut seen: Vec<i64> = ids(&first).into_iter().chain(ids(&second)).map(|(_, id)| id).collect();
        seen.sort();
        posted.sort();
        assert_eq!(seen, posted, "every result exactly once");
        // The page links to the next page with the same query.
        let page = app.get("/community/search?q=pagerword").await.text().await.unwrap();
        assert!(page.contains("cursor=10"), "next page link");
    }
}

#[tokio::test]
async fn hostile_queries_answer_200_never_a_5xx() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        for query in [
            "%22",
            "AND%20OR",
            "*",
            "NOT",
            "NEAR(",
            "title%3Atea",
            "-",
            "%27%3B%20DROP%20TABLE%20reviews%3B%20--",
            "tea%20OR",
            "%5E%7B%7D()",
            "%00",
            "the",
            "%E2%80%8B%F0%9F%8D%B5",
        ] {
            let response = app.get(&format!("/api/v1/ugc/search?q={query}")).await;
            assert_eq!(response.status(), 200, "{query} on {backend:?}");
            let page = app.get(&format!("/community/search?q={query}")).await;
            assert_eq!(page.status(), 200, "page {query} on {backend:?}");
        }
        let long = "tea ".repeat(500);
        assert_eq!(app.get(&format!("/api/v1/ugc/search?q={}", long.replace(' ', "%20"))).await.status(), 200);
        // The seeded reviews are found by an ordinary word too.
        assert!(!search(&app, "q=quality").await["items"].as_array().unwrap().is_empty(), "seeded content is indexed");
    }
}
