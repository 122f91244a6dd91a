//! Reviews and Q&A through the API: moderation before display and counting, disclosure that
//! survives edits, points once per review, verified buyers and auto-approval with a blocklist,
//! one helpful vote per shopper (also under concurrency), questions answered by staff and
//! buyers only, bad input and rate limits, and the admin routes' authorization.

use crate::helpers::{assert_problem, backends, json_of, shopper_client, spawn_app, TestApp};
use serde_json::{json, Value};

/// A product no seeded shopper reviewed, so counts start at zero.
async fn unreviewed_sku(app: &TestApp) -> String {
    sqlx::query_scalar(
        "SELECT sku FROM products WHERE stock > 20 AND sku NOT IN (SELECT sku FROM reviews) \
         AND sku NOT IN (SELECT sku FROM questions) ORDER BY sku LIMIT 1",
    )
    .fetch_one(app.db.pool())
    .await
    .expect("an unreviewed product")
}

async fn listing(app: &TestApp, sku: &str, query: &str) -> Value {
    json_of(app.get(&format!("/api/v1/products/{sku}/reviews{query}")).await).await
}

async fn review(app: &TestApp, client: &reqwest::Client, sku: &str, rating: i64, body: &str) -> reqwest::Response {
    app.post_json(
        client,
        &format!("/api/v1/products/{sku}/reviews"),
        json!({ "rating": rating, "title": "My take", "body": body }),
    )
    .await
}

async fn moderate(app: &TestApp, admin: &reqwest::Client, kind: &str, id: i64, decision: &str) -> Value {
    let body = json!({ "items": [{ "kind": kind, "id": id }], "decision": decision, "reason": "Off topic" });
    let response = app.post_json(admin, "/api/v1/admin/moderation", body).await;
    assert_eq!(response.status(), 200);
    json_of(response).await
}

#[tokio::test]
async fn a_review_is_shown_and_counted_only_once_approved_and_its_incentive_stays_labelled() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let sku = unreviewed_sku(&app).await;
        let admin = app.admin_client().await;
        let shopper = shopper_client();
        app.register(&shopper).await;

        let created = review(&app, &shopper, &sku, 4, "Lovely <b>thing</b>").await;
        assert_eq!(created.status(), 201);
        let created = json_of(created).await;
        assert_eq!(created["status"], "pending");
        assert_eq!(created["verified_buyer"], false);
        let id = created["id"].as_i64().unwrap();

        // Pending: neither shown nor counted.
        let list = listing(&app, &sku, "").await;
        assert_eq!(list["items"].as_array().unwrap().len(), 0);
        assert_eq!(list["summary"]["count"], 0);
        let page = app.get(&format!("/products/{sku}")).await.text().await.unwrap();
        assert!(!page.contains("Lovely"), "an unapproved review is on the page");

        // Approved: shown, counted, points awarded once, labelled incentivized.
        assert_eq!(moderate(&app, &admin, "review", id, "approve").await["changed"], 1);
        assert_eq!(moderate(&app, &admin, "review", id, "approve").await["changed"], 0);
        let list = listing(&app, &sku, "").await;
        assert_eq!(list["summary"]["count"], 1);
        assert_eq!(list["summary"]["average"], "4.0");
        let shown = &list["items"][0];
        assert_eq!(shown["body"], "Lovely <b>thing</b>");
        assert_eq!(shown["incentive_points"], 50);
        assert_eq!(shown["disclosures"][0], "Incentivized review: the author received 50 points");
        let points = json_of(shopper.get(app.url("/api/v1/me/points")).send().await.unwrap()).await;
        assert_eq!(points["balance"], 50);
        let sql = format!("SELECT COUNT(*) FROM domain_events WHERE kind = 'review_approved' AND payload LIKE '%\"review_id\":{id},%'");
        assert_eq!(app.count(&sql).await, 1);
        // The product page renders it as text, with the label, and its JSON-LD.
        let page = app.client.get(app.url(&format!("/products/{sku}?v=1"))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Lovely &lt;b&gt;thing&lt;/b&gt;"), "the review is not escaped text");
        assert!(page.contains("data-testid=\"sponsored-label\""));
        assert!(page.contains("application/ld+json") && page.contains("AggregateRating"));

        // Editing sends it back to moderation and out of the count; the label stays.
        let edited = review(&app, &shopper, &sku, 2, "Changed my mind").await;
        assert_eq!(edited.status(), 200);
        let edited = json_of(edited).await;
        assert_eq!((edited["id"].as_i64(), &edited["status"]), (Some(id), &json!("pending")));
        assert_eq!(edited["incentive_points"], 50);
        assert_eq!(listing(&app, &sku, "").await["summary"]["count"], 0);
        moderate(&app, &admin, "review", id, "approve").await;
        let list = listing(&app, &sku, "").await;
        assert_eq!((list["summary"]["count"].as_i64(), list["summary"]["average"].as_str()), (Some(1), Some("2.0")));
        assert_eq!(list["items"][0]["disclosures"][0], "Incentivized review: the author received 50 points");
        // Points were not paid twice; the approval event was not repeated.
        let points = json_of(shopper.get(app.url("/api/v1/me/points")).send().await.unwrap()).await;
        assert_eq!(points["balance"], 50);
        assert_eq!(app.count(&sql).await, 1);

        // Rejecting takes it off the page and out of the rating, with the reason for the author.
        moderate(&app, &admin, "review", id, "reject").await;
        assert_eq!(listing(&app, &sku, "").await["summary"]["count"], 0);
        let mine = json_of(shopper.get(app.url("/api/v1/me/reviews")).send().await.unwrap()).await;
        assert_eq!(
            (&mine["items"][0]["status"], &mine["items"][0]["reject_reason"]),
            (&json!("rejected"), &json!("Off topic"))
        );
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM reviews WHERE status = 'approved' AND sku NOT IN (SELECT sku FROM product_stats)"
            )
            .await,
            0
        );
    }
}

#[tokio::test]
async fn bad_reviews_are_refused_with_the_reason_and_nothing_is_stored() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let sku = unreviewed_sku(&app).await;
        let shopper = shopper_client();
        // Anonymous: 401.
        assert_problem(review(&app, &shopper, &sku, 5, "fine").await, 401).await;
        app.register(&shopper).await;
        for rating in [0, 6, -3] {
            let problem = assert_problem(review(&app, &shopper, &sku, rating, "fine").await, 422).await;
            assert_eq!(problem["field"], "rating");
        }
        let problem = assert_problem(review(&app, &shopper, &sku, 3, "   ").await, 422).await;
        assert_eq!(problem["field"], "body");
        let long = review(&app, &shopper, &sku, 3, &"x".repeat(6_000)).await;
        assert_eq!(assert_problem(long, 422).await["field"], "body");
        let huge = review(&app, &shopper, &sku, 3, &"x".repeat(100 * 1024)).await;
        assert_eq!(huge.status(), 413);
        let wrong_type = app
            .post_json(
                &shopper,
                &format!("/api/v1/products/{sku}/reviews"),
                json!({ "rating": "five", "title": "t", "body": "b" }),
            )
            .await;
        assert_problem(wrong_type, 422).await;
        assert_problem(review(&app, &shopper, "NOPE-000", 3, "fine").await, 404).await;
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM reviews WHERE sku = '{sku}'")).await, 0);
        let bad_sort = app.get(&format!("/api/v1/products/{sku}/reviews?sort=random")).await;
        assert_problem(bad_sort, 422).await;
        assert_problem(app.get(&format!("/api/v1/products/{sku}/reviews?stars=9")).await, 422).await;
    }
}

#[tokio::test]
async fn verified_buyers_can_skip_the_queue_unless_a_blocked_word_needs_a_human() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let sku = unreviewed_sku(&app).await;
        let admin = app.admin_client().await;
        let settings = json!({ "auto_approve_verified": true, "blocklist": ["scam", "Free Money"] });
        let saved = admin.put(app.url("/api/v1/admin/moderation/settings")).json(&settings).send().await.unwrap();
        assert_eq!(saved.status(), 204);
        let read = json_of(admin.get(app.url("/api/v1/admin/moderation/settings")).send().await.unwrap()).await;
        assert_eq!(read["blocklist"], json!(["free money", "scam"]));

        let buyer = shopper_client();
        app.register(&buyer).await;
        app.buy(&buyer, &[(&sku, 1)]).await;
        let published = json_of(review(&app, &buyer, &sku, 5, "Great, no complaints").await).await;
        assert_eq!((&published["status"], &published["verified_buyer"]), (&json!("approved"), &json!(true)));

        let other = shopper_client();
        app.register(&other).await;
        app.buy(&other, &[(&sku, 1)]).await;
        let held = json_of(review(&app, &other, &sku, 1, "This is a SCAM.").await).await;
        assert_eq!(held["status"], "pending");
        let queue = json_of(admin.get(app.url("/api/v1/admin/moderation")).send().await.unwrap()).await;
        let item = queue["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{queue}"))
            .iter()
            .find(|i| i["id"] == held["id"] && i["kind"] == "review")
            .unwrap_or_else(|| panic!("{held} not in {queue}"));
        assert!(item["flag_reason"].as_str().unwrap_or_default().contains("scam"), "{item}");

        // Not a buyer: always a human, even with auto-approval on.
        let stranger = shopper_client();
        app.register(&stranger).await;
        let waiting = json_of(review(&app, &stranger, &sku, 5, "Looks nice").await).await;
        assert_eq!((&waiting["status"], &waiting["verified_buyer"]), (&json!("pending"), &json!(false)));

        let list = listing(&app, &sku, "").await;
        assert_eq!(list["summary"]["count"], 1);
        assert_eq!(list["items"][0]["verified_buyer"], true);
    }
}

#[tokio::test]
async fn each_shopper_counts_once_as_helpful_even_when_voting_concurrently() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let sku = unreviewed_sku(&app).await;
        let admin = app.admin_client().await;
        let author = shopper_client();
        app.register(&author).await;
        let id = json_of(review(&app, &author, &sku, 5, "Good").await).await["id"].as_i64().unwrap();
        moderate(&app, &admin, "review", id, "approve").await;

        let voter = shopper_client();
        app.register(&voter).await;
        let votes = (0..16).map(|_| voter.post(app.url(&format!("/api/v1/reviews/{id}/helpful"))).send());
        for response in futures::future::join_all(votes).await {
            assert_eq!(response.unwrap().status(), 200);
        }
        let second = shopper_client();
        app.register(&second).await;
        let counted =
            json_of(second.post(app.url(&format!("/api/v1/reviews/{id}/helpful"))).send().await.unwrap()).await;
        assert_eq!(counted["helpful_count"], 2);
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM review_votes WHERE review_id = {id}")).await, 2);
        // Not on one's own review, not anonymously, not on an unknown one.
        assert_problem(author.post(app.url(&format!("/api/v1/reviews/{id}/helpful"))).send().await.unwrap(), 403).await;
        assert_problem(app.client.post(app.url(&format!("/api/v1/reviews/{id}/helpful"))).send().await.unwrap(), 401)
            .await;
        assert_problem(voter.post(app.url("/api/v1/reviews/999999/helpful")).send().await.unwrap(), 404).await;
        // Most helpful first.
        let other = shopper_client();
        app.register(&other).await;
        let id2 = json_of(review(&app, &other, &sku, 1, "Bad").await).await["id"].as_i64().unwrap();
        moderate(&app, &admin, "review", id2, "approve").await;
        assert_eq!(listing(&app, &sku, "").await["items"][0]["id"], id2);
        assert_eq!(listing(&app, &sku, "?sort=helpful").await["items"][0]["id"], id);
        assert_eq!(listing(&app, &sku, "?sort=rating_low").await["items"][0]["id"], id2);
        let filtered = listing(&app, &sku, "?stars=5").await;
        assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
        assert_eq!(filtered["summary"]["histogram"], json!([1, 0, 0, 0, 1]));
    }
}

#[tokio::test]
async fn sponsorship_is_disclosed_and_no_edit_removes_it() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let sku = unreviewed_sku(&app).await;
        let admin = app.admin_client().await;
        let author = shopper_client();
        app.register(&author).await;
        let id = json_of(review(&app, &author, &sku, 5, "Sent to me free").await).await["id"].as_i64().unwrap();
        moderate(&app, &admin, "review", id, "approve").await;
        let put = admin
            .put(app.url(&format!("/api/v1/admin/reviews/{id}")))
            .json(&json!({ "sponsored_by": "Acme Roasters", "reply": "Thanks for trying it!" }))
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 204);
        let shown = &listing(&app, &sku, "").await["items"][0];
        assert_eq!(shown["disclosures"][0], "Sponsored by Acme Roasters");
        assert_eq!(shown["merchant_reply"], "Thanks for trying it!");
        // The author's edit keeps the disclosure; clearing it is refused.
        review(&app, &author, &sku, 4, "Still good").await;
        moderate(&app, &admin, "review", id, "approve").await;
        assert_eq!(listing(&app, &sku, "").await["items"][0]["sponsored_by"], "Acme Roasters");
        let clear = admin
            .put(app.url(&format!("/api/v1/admin/reviews/{id}")))
            .json(&json!({ "sponsored_by": "" }))
            .send()
            .await
            .unwrap();
        assert_problem(clear, 422).await;
        assert_eq!(listing(&app, &sku, "").await["items"][0]["sponsored_by"], "Acme Roasters");
    }
}

#[tokio::test]
async fn questions_are_answered_by_staff_and_buyers_with_featured_and_sponsored_answers() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let sku = unreviewed_sku(&app).await;
        let admin = app.admin_client().await;
        let asker = shopper_client();
        app.register(&asker).await;
        let question = app
            .post_json(
                &asker,
                &format!("/api/v1/products/{sku}/questions"),
                json!({ "body": "Is it dishwasher safe?" }),
            )
            .await;
        assert_eq!(question.status(), 201);
        let qid = json_of(question).await["id"].as_i64().unwrap();
        let questions = |app: &TestApp| {
            let url = app.url(&format!("/api/v1/products/{sku}/questions"));
            let client = app.client.clone();
            async move { json_of(client.get(url).send().await.unwrap()).await }
        };
        assert_eq!(questions(&app).await["items"].as_array().unwrap().len(), 0, "unmoderated question shown");
        moderate(&app, &admin, "question", qid, "approve").await;

        // Neither a buyer nor staff: refused with the reason.
        let stranger = shopper_client();
        app.register(&stranger).await;
        let refused =
            app.post_json(&stranger, &format!("/api/v1/questions/{qid}/answers"), json!({ "body": "Probably" })).await;
        assert!(assert_problem(refused, 403).await["detail"].as_str().unwrap().contains("bought"));

        // A buyer's answer waits for moderation; staff answers are published at once.
        let buyer = shopper_client();
        app.register(&buyer).await;
        app.buy(&buyer, &[(&sku, 1)]).await;
        let answer = json_of(
            app.post_json(&buyer, &format!("/api/v1/questions/{qid}/answers"), json!({ "body": "Yes, mine is fine." }))
                .await,
        )
        .await;
        assert_eq!((&answer["status"], &answer["verified_buyer"]), (&json!("pending"), &json!(true)));
        let staff = json_of(
            app.post_json(&admin, &format!("/api/v1/questions/{qid}/answers"), json!({ "body": "Yes, up to 60 °C." }))
                .await,
        )
        .await;
        assert_eq!((&staff["status"], &staff["is_staff"]), (&json!("approved"), &json!(true)));
        moderate(&app, &admin, "answer", answer["id"].as_i64().unwrap(), "approve").await;
        let answered = app.count("SELECT COUNT(*) FROM domain_events WHERE kind = 'question_answered'").await;
        assert!(answered >= 2, "question_answered events: {answered}");

        // Votes order answers; a featured answer comes first; sponsored answers are labelled.
        let (buyer_answer, staff_answer) = (answer["id"].as_i64().unwrap(), staff["id"].as_i64().unwrap());
        let vote = asker.post(app.url(&format!("/api/v1/answers/{buyer_answer}/votes"))).send().await.unwrap();
        assert_eq!(json_of(vote).await["votes"], 1);
        assert_eq!(questions(&app).await["items"][0]["answers"][0]["id"], buyer_answer);
        let feature = admin
            .put(app.url(&format!("/api/v1/admin/questions/{qid}")))
            .json(&json!({ "featured_answer_id": staff_answer }))
            .send()
            .await
            .unwrap();
        assert_eq!(feature.status(), 204);
        let sponsor = admin
            .put(app.url(&format!("/api/v1/admin/answers/{buyer_answer}")))
            .json(&json!({ "sponsored_by": "Acme" }))
            .send()
            .await
            .unwrap();
        assert_eq!(sponsor.status(), 204);
        let listed = questions(&app).await;
        assert_eq!(listed["items"][0]["featured_answer_id"], staff_answer);
        assert_eq!(listed["items"][0]["answers"][0]["id"], staff_answer);
        assert_eq!(listed["items"][0]["answers"][1]["sponsored_by"], "Acme");
        // Featuring an answer of another question is refused.
        let wrong = admin
            .put(app.url(&format!("/api/v1/admin/questions/{qid}")))
            .json(&json!({ "featured_answer_id": 999999 }))
            .send()
            .await
            .unwrap();
        assert_problem(wrong, 422).await;
        let page = app.client.get(app.url(&format!("/products/{sku}?q=1"))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("data-testid=\"featured-answer\"") && page.contains("Is it dishwasher safe?"));
    }
}

#[tokio::test]
async fn posting_is_rate_limited_per_account_with_retry_after() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let sku = unreviewed_sku(&app).await;
        let shopper = shopper_client();
        app.register(&shopper).await;
        let mut limited = None;
        for n in 0..12 {
            let response = app
                .post_json(
                    &shopper,
                    &format!("/api/v1/products/{sku}/questions"),
                    json!({ "body": format!("Question {n}?") }),
                )
                .await;
            if response.status() == 429 {
                limited =
                    Some((n, response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string)));
                assert_problem(response, 429).await;
                break;
            }
            assert_eq!(response.status(), 201);
        }
        let (n, retry_after) = limited.expect("no 429 after 12 posts in a row");
        assert_eq!(n, 10, "the 11th post in a minute is refused");
        assert!(retry_after.unwrap().parse::<u64>().unwrap() >= 1);
        // Someone else is not affected.
        let other = shopper_client();
        app.register(&other).await;
        let response =
            app.post_json(&other, &format!("/api/v1/products/{sku}/questions"), json!({ "body": "Mine?" })).await;
        assert_eq!(response.status(), 201);
    }
}

#[tokio::test]
async fn moderation_routes_are_for_the_owner_only() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let shopper = shopper_client();
        app.register(&shopper).await;
        let routes: [(&str, &str, Value); 6] = [
            ("GET", "/api/v1/admin/moderation", Value::Null),
            (
                "POST",
                "/api/v1/admin/moderation",
                json!({ "items": [{ "kind": "review", "id": 1 }], "decision": "approve" }),
            ),
            ("GET", "/api/v1/admin/moderation/settings", Value::Null),
            ("PUT", "/api/v1/admin/reviews/1", json!({ "reply": "hi" })),
            ("PUT", "/api/v1/admin/answers/1", json!({ "sponsored_by": "x" })),
            ("PUT", "/api/v1/admin/questions/1", json!({ "featured_answer_id": null })),
        ];
        for (client, status) in [(&app.client, 401), (&shopper, 403)] {
            for (method, path, body) in &routes {
                let request = client.request(method.parse().unwrap(), app.url(path));
                let request = if body.is_null() { request } else { request.json(body) };
                assert_problem(request.send().await.unwrap(), status).await;
            }
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM moderation_log WHERE action = 'approved' AND actor_id IS NOT NULL").await,
            0
        );
    }
}

#[tokio::test]
async fn the_moderation_page_approves_checked_items_in_bulk_from_a_plain_form() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let sku = unreviewed_sku(&app).await;
        let admin = app.admin_client().await;
        let mut ids = Vec::new();
        for _ in 0..3 {
            let author = shopper_client();
            app.register(&author).await;
            ids.push(json_of(review(&app, &author, &sku, 3, "Fine").await).await["id"].as_i64().unwrap());
        }
        // Checkboxes 0 and 2 ticked, 1 not: the form sends gaps in the indices.
        let form =
            format!("items%5B0%5D=review%3A{}&items%5B2%5D=review%3A{}&decision=approve&reason=", ids[0], ids[2]);
        let response = admin
            .post(app.url("/rpc/moderate"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("referer", app.url("/admin/reviews"))
            .body(form)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success() || response.status().is_redirection(), "{}", response.status());
        assert_eq!(listing(&app, &sku, "").await["summary"]["count"], 2);
        let status: String = sqlx::query_scalar("SELECT status FROM reviews WHERE id = $1")
            .bind(ids[1])
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        assert_eq!(status, "pending");
        // A shopper posting the same form changes nothing.
        let shopper = shopper_client();
        app.register(&shopper).await;
        let form = format!("items%5B0%5D=review%3A{}&decision=approve", ids[1]);
        shopper
            .post(app.url("/rpc/moderate"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        assert_eq!(listing(&app, &sku, "").await["summary"]["count"], 2);
    }
}

#[tokio::test]
async fn five_approved_reviews_earn_the_reviewer_badge_and_fifty_points_each_once() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let admin = app.admin_client().await;
        let shopper = shopper_client();
        app.register(&shopper).await;
        let skus: Vec<String> =
            sqlx::query_scalar("SELECT sku FROM products ORDER BY sku LIMIT 5").fetch_all(app.db.pool()).await.unwrap();
        let mut items = Vec::new();
        for sku in &skus {
            let id = json_of(review(&app, &shopper, sku, 4, "Good").await).await["id"].as_i64().unwrap();
            items.push(json!({ "kind": "review", "id": id }));
        }
        let body = json!({ "items": items, "decision": "approve" });
        let approved = json_of(app.post_json(&admin, "/api/v1/admin/moderation", body).await).await;
        assert_eq!(approved["changed"], 5);
        // An edit and a second approval neither pay again nor count as another review.
        review(&app, &shopper, &skus[0], 5, "Even better").await;
        moderate(&app, &admin, "review", items[0]["id"].as_i64().unwrap(), "approve").await;
        app.settle().await;
        let badges = json_of(shopper.get(app.url("/api/v1/me/badges")).send().await.unwrap()).await;
        let keys: Vec<&str> = badges["items"].as_array().unwrap().iter().filter_map(|b| b["key"].as_str()).collect();
        assert!(keys.contains(&"reviewer"), "badges: {keys:?}");
        let points = json_of(shopper.get(app.url("/api/v1/me/points")).send().await.unwrap()).await;
        assert_eq!(points["balance"], 250);
        let ledger = json_of(shopper.get(app.url("/api/v1/me/points/ledger")).send().await.unwrap()).await;
        let review_rows = ledger["items"].as_array().unwrap().iter().filter(|row| row["kind"] == "review").count();
        assert_eq!(review_rows, 5);
    }
}

#[tokio::test]
async fn the_prescreen_holds_links_with_their_reason_and_refuses_spam_before_anything_is_stored() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let sku = unreviewed_sku(&app).await;
        let admin = app.admin_client().await;
        let settings = json!({ "auto_approve_verified": true, "blocklist": [] });
        let saved = admin.put(app.url("/api/v1/admin/moderation/settings")).json(&settings).send().await.unwrap();
        assert_eq!(saved.status(), 204);
        let buyer = shopper_client();
        app.register(&buyer).await;
        app.buy(&buyer, &[(&sku, 1)]).await;

        // A verified buyer with auto-approval on, but a link: a human looks, and sees why.
        let held = json_of(review(&app, &buyer, &sku, 4, "Cheaper at www.other-shop.example.com").await).await;
        assert_eq!(held["status"], "pending");
        let queue = json_of(admin.get(app.url("/api/v1/admin/moderation")).send().await.unwrap()).await;
        let item = queue["items"].as_array().unwrap().iter().find(|i| i["id"] == held["id"] && i["kind"] == "review");
        let reason = item.unwrap_or_else(|| panic!("{queue}"))["flag_reason"].as_str().unwrap_or_default().to_string();
        assert!(reason.contains("contains a link"), "{reason}");
        let page = admin.get(app.url("/admin/reviews")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("contains a link"), "the moderation queue shows the reason");

        // Spam with a way to reach the spammer is refused with the reasons; nothing is stored.
        let questions_before = app.count("SELECT COUNT(*) FROM questions").await;
        let spam = app
            .post_json(
                &buyer,
                &format!("/api/v1/products/{sku}/questions"),
                json!({ "body": "Work from home and earn money, whatsapp +44 7700 900123" }),
            )
            .await;
        let problem = assert_problem(spam, 422).await;
        assert!(problem["detail"].as_str().unwrap().contains("spam phrase"), "{problem}");
        assert_eq!(app.count("SELECT COUNT(*) FROM questions").await, questions_before);

        // A clean rewrite from the same buyer is published at once (its old text is no repeat).
        let clean = json_of(review(&app, &buyer, &sku, 5, "Solid and well made.").await).await;
        assert_eq!(clean["status"], "approved");
    }
}
