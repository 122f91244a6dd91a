//! The members' community through the API and its pages: reading is open to everyone,
//! posting needs the `community_posting` entitlement (premium), every shopper's post waits
//! for moderation (its author sees it marked), sponsored posts are labelled wherever they
//! show, posting floods answer 429, bad input is a 4xx naming the field, and post text is
//! never HTML.

use crate::helpers::{assert_problem, backends, json_of, shopper_client, spawn_app, visible_html, TestApp};
use serde_json::{json, Value};

/// A new shopper on `plan` (subscribing through the API unless it is free).
pub async fn shopper_on(app: &TestApp, plan: &str) -> reqwest::Client {
    let client = shopper_client();
    app.register(&client).await;
    if plan != "free" {
        let response = app.post_json(&client, "/api/v1/me/subscription", json!({ "plan": plan })).await;
        assert_eq!(response.status(), 200, "subscribe to {plan}: {}", response.text().await.unwrap_or_default());
    }
    client
}

pub async fn new_topic(
    app: &TestApp,
    client: &reqwest::Client,
    category: &str,
    title: &str,
    body: &str,
) -> reqwest::Response {
    app.post_json(client, "/api/v1/community/topics", json!({ "category": category, "title": title, "body": body }))
        .await
}

async fn reply(app: &TestApp, client: &reqwest::Client, topic_id: i64, body: &str) -> reqwest::Response {
    app.post_json(client, &format!("/api/v1/community/topics/{topic_id}/replies"), json!({ "body": body })).await
}

pub async fn moderate(app: &TestApp, admin: &reqwest::Client, ids: &[i64], decision: &str) -> Value {
    let body = json!({ "ids": ids, "decision": decision, "reason": "Off topic" });
    let response = app.post_json(admin, "/api/v1/admin/community/moderation", body).await;
    assert_eq!(response.status(), 200);
    json_of(response).await
}

async fn html(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let response = client.get(app.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn topic_ids(app: &TestApp, query: &str) -> Vec<i64> {
    let list = json_of(app.get(&format!("/api/v1/community/topics{query}")).await).await;
    list["items"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn everyone_reads_the_community_and_only_premium_accounts_may_post() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        // The demo seed's topics are readable without an account, page and API.
        let list = json_of(app.get("/api/v1/community/topics?category=coffee").await).await;
        let seeded = &list["items"][0];
        assert_eq!(seeded["title"], "Best grind size for a moka pot?");
        assert_eq!(seeded["status"], "approved");
        assert_eq!(seeded["reply_count"], 2);
        let (status, page) = html(&app.client, &app, "/community").await;
        assert_eq!(status, 200);
        assert!(page.contains("Best grind size for a moka pot?"), "the front page lists seeded topics");
        assert!(page.contains("/pkg/mercato_account"), "the community is in the account bundle");
        let (status, page) = html(&app.client, &app, "/community/coffee").await;
        assert_eq!(status, 200);
        assert!(page.contains("data-testid=\"locked-feature\"") || page.contains("Log in"), "no form for visitors");
        assert!(!page.contains("data-testid=\"topic-form\""));
        let topic = json_of(app.get(&format!("/api/v1/community/topics/{}", seeded["id"])).await).await;
        assert_eq!(topic["posts"].as_array().unwrap().len(), 3, "opening post and two replies");
        assert_eq!(topic["posts"][0]["is_opening"], true);
        // The seed left one reply waiting: nobody but its author sees it.
        let waiting: i64 = app.count("SELECT COUNT(*) FROM community_posts WHERE status = 'pending'").await;
        assert_eq!(waiting, 1);

        // Posting: 401 without an account, 403 naming premium for free and basic, 201 for premium.
        let anonymous = shopper_client();
        assert_problem(new_topic(&app, &anonymous, "tea", "Oolong tips", "Anyone?").await, 401).await;
        for plan in ["free", "basic"] {
            let client = shopper_on(&app, plan).await;
            let problem = assert_problem(new_topic(&app, &client, "tea", "Oolong tips", "Anyone?").await, 403).await;
            assert_eq!(problem["feature"], "community_posting", "{plan}");
            assert_eq!(problem["required_plan"], "premium", "{plan}");
            let seeded_id = seeded["id"].as_i64().unwrap();
            assert_problem(reply(&app, &client, seeded_id, "Me too").await, 403).await;
            let (_, page) = html(&client, &app, "/community/tea").await;
            assert!(page.contains("data-testid=\"locked-feature\""), "{plan} sees the locked box");
            assert!(page.contains("data-feature=\"community_posting\""));
            assert!(page.contains("href=\"/pricing\""));
            assert!(!page.contains("data-testid=\"topic-form\""), "{plan} gets no form");
        }
        let premium = shopper_on(&app, "premium").await;
        let created = new_topic(&app, &premium, "tea", "Oolong tips", "Anyone?").await;
        assert_eq!(created.status(), 201);
        assert_eq!(json_of(created).await["status"], "pending");
        let (_, page) = html(&premium, &app, "/community/tea").await;
        assert!(page.contains("data-testid=\"topic-form\""), "premium gets the form");
        assert!(!page.contains("data-testid=\"locked-feature\""));

        // The owner can take the feature away from premium (or give it to basic) in the plans.
        let admin = app.admin_client().await;
        let plans = json_of(app.get("/api/v1/plans").await).await;
        let premium_plan = plans["items"].as_array().unwrap().iter().find(|p| p["key"] == "premium").unwrap();
        assert!(premium_plan["features"].as_array().unwrap().iter().any(|f| f == "community_posting"));
        let edit = json!({ "name": "Basic", "price_cents": 499, "features": ["basic_search", "view_products", "community_posting"] });
        let saved = admin.put(app.url("/api/v1/admin/plans/basic")).json(&edit).send().await.unwrap();
        assert!(saved.status().is_success(), "{}", saved.status());
        let basic = shopper_on(&app, "basic").await;
        assert_eq!(new_topic(&app, &basic, "tea", "Basic can post now", "Yes.").await.status(), 201);
        let (_, page) = html(&admin, &app, "/admin/plans").await;
        assert!(page.contains("community_posting"), "the plan editor offers the feature");
    }
}

#[tokio::test]
async fn a_post_waits_for_moderation_and_its_author_sees_it_marked_until_approved() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let author = shopper_on(&app, "premium").await;
        let events_before = app.count("SELECT COUNT(*) FROM domain_events WHERE kind LIKE 'community_post_%'").await;

        let created = json_of(new_topic(&app, &author, "mugs", "Handle sizes", "Big hands here.").await).await;
        let (topic_id, opening_id) = (created["topic_id"].as_i64().unwrap(), created["id"].as_i64().unwrap());
        // Pending: not listed, not readable by others, shown to the author marked as waiting.
        assert!(!topic_ids(&app, "?category=mugs").await.contains(&topic_id));
        assert_problem(app.get(&format!("/api/v1/community/topics/{topic_id}")).await, 404).await;
        let mine =
            json_of(author.get(app.url(&format!("/api/v1/community/topics/{topic_id}"))).send().await.unwrap()).await;
        assert_eq!(mine["posts"][0]["status"], "pending");
        let (status, page) = html(&author, &app, &format!("/community/t/{topic_id}")).await;
        assert_eq!(status, 200);
        assert!(page.contains("data-testid=\"pending-label\""));
        let (_, page) = html(&author, &app, "/community/mugs").await;
        assert!(page.contains("Handle sizes") && page.contains("data-testid=\"pending-label\""));
        let (status, _) = html(&app.client, &app, &format!("/community/t/{topic_id}")).await;
        assert_eq!(status, 404);

        // It is in the owner's queue on /admin/reviews and in the API.
        let (_, page) = html(&admin, &app, "/admin/reviews").await;
        assert!(page.contains(&format!("data-testid=\"community-queue-item\" data-id=\"{opening_id}\"")), "queue");
        let queue = json_of(admin.get(app.url("/api/v1/admin/community/moderation")).send().await.unwrap()).await;
        assert!(queue["items"].as_array().unwrap().iter().any(|i| i["post"]["id"] == opening_id));
        // Approved (once): listed for everyone, events through the outbox.
        assert_eq!(moderate(&app, &admin, &[opening_id], "approve").await["changed"], 1);
        assert_eq!(moderate(&app, &admin, &[opening_id], "approve").await["changed"], 0);
        assert!(topic_ids(&app, "?category=mugs").await.contains(&topic_id));
        let (_, page) = html(&app.client, &app, &format!("/community/t/{topic_id}")).await;
        assert!(page.contains("Big hands here.") && !page.contains("data-testid=\"pending-label\""));

        // A reply waits too; once approved it counts.
        let other = shopper_on(&app, "premium").await;
        let reply_id = json_of(reply(&app, &other, topic_id, "Same here!").await).await["id"].as_i64().unwrap();
        let public = json_of(app.get(&format!("/api/v1/community/topics/{topic_id}")).await).await;
        assert_eq!(public["posts"].as_array().unwrap().len(), 1);
        assert_eq!(public["reply_count"], 0);
        let theirs =
            json_of(other.get(app.url(&format!("/api/v1/community/topics/{topic_id}"))).send().await.unwrap()).await;
        assert_eq!(theirs["posts"][1]["status"], "pending");
        moderate(&app, &admin, &[reply_id], "approve").await;
        let public = json_of(app.get(&format!("/api/v1/community/topics/{topic_id}")).await).await;
        assert_eq!(public["posts"].as_array().unwrap().len(), 2);
        assert_eq!(public["reply_count"], 1);
        // Rejected: gone again, and no longer counted.
        moderate(&app, &admin, &[reply_id], "reject").await;
        let public = json_of(app.get(&format!("/api/v1/community/topics/{topic_id}")).await).await;
        assert_eq!((public["posts"].as_array().unwrap().len(), public["reply_count"].as_i64()), (1, Some(0)));

        let events = app.count("SELECT COUNT(*) FROM domain_events WHERE kind LIKE 'community_post_%'").await;
        assert_eq!(events - events_before, 4, "two submitted, two approved (the first approval only)");

        // Shoppers cannot moderate.
        let response = app
            .post_json(
                &other,
                "/api/v1/admin/community/moderation",
                json!({ "ids": [reply_id], "decision": "approve" }),
            )
            .await;
        assert_problem(response, 403).await;
    }
}

#[tokio::test]
async fn the_form_posts_work_without_javascript_and_come_back_with_the_error_next_to_the_field() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let premium = shopper_on(&app, "premium").await;
        let form = |body: &str| {
            premium
                .post(app.url("/rpc/post_topic"))
                // What a browser without JavaScript sends: the answer is a 302.
                .header("accept", "text/html")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.to_string())
        };
        let refused = form("category=tea&title=Hi&body=Short+title").send().await.unwrap();
        assert!(refused.status().is_redirection(), "{}", refused.status());
        let location = refused.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with("/community/tea?field=title"), "{location}");
        let (_, page) = html(&premium, &app, &location).await;
        assert!(page.contains("data-testid=\"error-title\""), "the message is next to the title");
        assert!(page.contains("Short title"), "the typed text is kept");

        let posted = form("category=tea&title=Matcha+whisks&body=Bamboo+or+metal%3F").send().await.unwrap();
        assert!(posted.status().is_redirection());
        let location = posted.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with("/community/t/"), "{location}");
        let (_, page) = html(&premium, &app, &location).await;
        assert!(page.contains("data-testid=\"posted-notice\"") && page.contains("Bamboo or metal?"));

        // Admin approves through the page's form.
        let admin = app.admin_client().await;
        let id: i64 = sqlx::query_scalar("SELECT id FROM community_posts WHERE body = 'Bamboo or metal?'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        let approved = admin
            .post(app.url("/rpc/moderate_posts"))
            .header("accept", "text/html")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("ids%5B0%5D={id}&decision=approve"))
            .send()
            .await
            .unwrap();
        assert!(approved.status().is_redirection(), "{}", approved.status());
        let topic_id: i64 = sqlx::query_scalar("SELECT topic_id FROM community_posts WHERE id = $1")
            .bind(id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        assert!(topic_ids(&app, "?category=tea").await.contains(&topic_id));
    }
}

#[tokio::test]
async fn sponsored_posts_are_labelled_wherever_they_are_shown() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let author = shopper_on(&app, "premium").await;
        let created =
            json_of(new_topic(&app, &author, "snacks", "New biscuit tin", "Try the almond ones.").await).await;
        let (topic_id, id) = (created["topic_id"].as_i64().unwrap(), created["id"].as_i64().unwrap());
        moderate(&app, &admin, &[id], "approve").await;
        let (_, page) = html(&app.client, &app, &format!("/community/t/{topic_id}")).await;
        assert!(!page.contains("data-testid=\"sponsored-label\""));

        let put = |name: &str| {
            admin
                .put(app.url(&format!("/api/v1/admin/community/posts/{id}")))
                .json(&json!({ "sponsored_by": name }))
                .send()
        };
        assert_eq!(put("Biscuit Co.").await.unwrap().status(), 204);
        assert_problem(put("  ").await.unwrap(), 422).await;
        for path in [format!("/community/t/{topic_id}"), "/community/snacks".to_string(), "/community".to_string()] {
            let (_, page) = html(&app.client, &app, &path).await;
            assert!(page.contains("data-testid=\"sponsored-label\""), "{path}");
            assert!(page.contains("Biscuit Co."), "{path}");
        }
        // Search results carry the label too.
        let found = json_of(app.get("/api/v1/ugc/search?q=biscuit&kind=post").await).await;
        assert_eq!(found["items"][0]["sponsored_by"], "Biscuit Co.");
        let (_, page) = html(&app.client, &app, "/community/search?q=biscuit&kind=post").await;
        assert!(page.contains("data-testid=\"sponsored-label\"") && page.contains("Biscuit Co."), "search page");
        let topic = json_of(app.get(&format!("/api/v1/community/topics/{topic_id}")).await).await;
        assert_eq!(topic["sponsored_by"], "Biscuit Co.");
        assert_eq!(topic["posts"][0]["sponsored_by"], "Biscuit Co.");
        let (_, page) = html(&admin, &app, "/admin/reviews").await;
        assert!(page.contains(&format!("data-testid=\"community-published\" data-id=\"{id}\"")));
        // Shoppers cannot sponsor.
        let response = author
            .put(app.url(&format!("/api/v1/admin/community/posts/{id}")))
            .json(&json!({ "sponsored_by": "Me" }))
            .send()
            .await
            .unwrap();
        assert_problem(response, 403).await;
    }
}

#[tokio::test]
async fn posting_faster_than_the_limit_answers_429_with_retry_after() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let author = shopper_on(&app, "premium").await;
        let created = json_of(new_topic(&app, &author, "gifts", "Gift ideas under 20", "Ideas?").await).await;
        moderate(&app, &admin, &[created["id"].as_i64().unwrap()], "approve").await;
        let topic_id = created["topic_id"].as_i64().unwrap();
        // The test app allows 10 posts per minute; the topic was the first.
        for n in 0..9 {
            assert_eq!(reply(&app, &author, topic_id, &format!("Idea {n}")).await.status(), 201, "reply {n}");
        }
        let flooded = reply(&app, &author, topic_id, "One more").await;
        assert_eq!(flooded.status(), 429);
        assert!(flooded.headers().contains_key("retry-after"));
        assert_problem(flooded, 429).await;
        // Another account is not slowed down.
        let other = shopper_on(&app, "premium").await;
        assert_eq!(reply(&app, &other, topic_id, "Mine").await.status(), 201);
    }
}

#[tokio::test]
async fn bad_posts_are_refused_with_the_field_named_and_never_a_5xx() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let premium = shopper_on(&app, "premium").await;
        let long = "x".repeat(5_001);
        for (category, title, body, field) in [
            ("tea", "Hi", "body", "title"),
            ("tea", "A good title", "   ", "body"),
            ("tea", "A good title", long.as_str(), "body"),
            ("tea", "A good title", "bell \u{7}", "body"),
            ("no-such-category", "A good title", "body", "category"),
            ("Tea'; --", "A good title", "body", "category"),
        ] {
            let problem = assert_problem(new_topic(&app, &premium, category, title, body).await, 422).await;
            assert!(problem.to_string().contains(field), "{field}: {problem}");
        }
        assert_problem(reply(&app, &premium, 999_999, "Hello").await, 404).await;
        assert_problem(app.get("/api/v1/community/topics/abc").await, 404).await;
        assert_problem(app.get("/api/v1/community/topics?category=nope").await, 404).await;
        assert_problem(app.get("/api/v1/community/topics?cursor=zero").await, 422).await;
        let response = app
            .post_json(
                &premium,
                "/api/v1/community/topics",
                json!({ "category": "tea", "title": "x", "body": "y", "html": "<b>" }),
            )
            .await;
        assert!(response.status().is_client_error(), "{}", response.status());
        assert_eq!(app.count("SELECT COUNT(*) FROM community_posts WHERE user_id NOT IN (SELECT id FROM users WHERE email LIKE '%demo%')").await, 0);
    }
}

#[tokio::test]
async fn post_text_is_shown_as_text_with_the_safe_subset_only() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let author = shopper_on(&app, "premium").await;
        let body =
            "<script>alert('x')</script>\n\n<img src=x onerror=alert(1)> *really* [click](https://evil.example/)";
        let created = json_of(new_topic(&app, &author, "tea", "Formatting test", body).await).await;
        moderate(&app, &admin, &[created["id"].as_i64().unwrap()], "approve").await;
        let (_, page) = html(&app.client, &app, &format!("/community/t/{}", created["topic_id"])).await;
        let page = visible_html(page);
        assert!(page.contains("&lt;script&gt;alert("), "the script tag is text");
        assert!(!page.contains("<script>alert("), "no user script element");
        assert!(!page.contains("<img src=x"), "no user img element");
        assert!(page.contains("<em>really</em>"), "emphasis is rendered");
        assert!(!page.contains("href=\"https://evil.example/\""), "links are not links");
        assert!(page.contains("click (https://evil.example/)"));
    }
}

#[tokio::test]
async fn the_prescreen_holds_a_post_with_a_link_with_its_reason_and_refuses_spam() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let author = shopper_on(&app, "premium").await;
        let held =
            new_topic(&app, &author, "tea", "Where to buy", "I found it at https://example.com/tea cheaper").await;
        assert_eq!(held.status(), 201, "{backend:?}");
        let id = json_of(held).await["id"].as_i64().unwrap();
        let (status, reason): (String, Option<String>) =
            sqlx::query_as("SELECT status, flag_reason FROM community_posts WHERE id = $1")
                .bind(id)
                .fetch_one(app.db.pool())
                .await
                .unwrap();
        assert_eq!(status, "pending", "{backend:?}");
        assert!(reason.unwrap_or_default().contains("link"), "{backend:?}: the moderator sees why");
        // A spam phrase with a link is spam beyond doubt: refused, nothing stored.
        let before = app.count("SELECT COUNT(*) FROM community_posts").await;
        let spam =
            new_topic(&app, &author, "tea", "Free money", "Make money fast, click here: https://spam.example").await;
        assert_problem(spam, 422).await;
        assert_eq!(app.count("SELECT COUNT(*) FROM community_posts").await, before, "{backend:?}");
    }
}
