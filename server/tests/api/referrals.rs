//! Referrals through HTTP: the shared link and its cookie, a referred registration, both
//! sides paid once on the friend's first fulfilled paid order (also when the event is
//! delivered again), the refund's reversal, the self-referral guards (e-mail alias, device)
//! and the monthly cap, and the funnel.

use crate::helpers::{backends, json_of, set_cookie, shopper_client, spawn_app, TestApp};
use serde_json::{json, Value};

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.count(&format!("SELECT id FROM users WHERE email = '{email}'")).await
}

fn suffix() -> String {
    format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}

async fn register_as(app: &TestApp, client: &reqwest::Client, email: &str) -> reqwest::Response {
    app.post_json(
        client,
        "/api/v1/auth/register",
        json!({ "email": email, "password": "a long test passphrase", "display_name": "Friend" }),
    )
    .await
}

async fn my_referral(app: &TestApp, client: &reqwest::Client) -> Value {
    json_of(client.get(app.url("/api/v1/me/referral")).send().await.unwrap()).await
}

async fn points(app: &TestApp, client: &reqwest::Client) -> Value {
    json_of(client.get(app.url("/api/v1/me/points")).send().await.unwrap()).await
}

/// Follows `link` with `client` (a friend's browser): the click is counted and the cookie set.
async fn follow(app: &TestApp, client: &reqwest::Client, link: &str) -> reqwest::Response {
    client.get(app.url(link)).send().await.unwrap()
}

async fn referrals_of(app: &TestApp, referrer: i64) -> i64 {
    app.count(&format!("SELECT COUNT(*) FROM referrals WHERE referrer_id = {referrer}")).await
}

async fn order_action(app: &TestApp, admin: &reqwest::Client, order_id: i64, action: &str) {
    let response = admin.post(app.url(&format!("/api/v1/admin/orders/{order_id}/{action}"))).send().await.unwrap();
    assert_eq!(response.status(), 204, "{action}");
}

async fn a_product(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT sku FROM products WHERE stock > 20 AND price_cents >= 1000 ORDER BY sku LIMIT 1")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn assert_ledger_balanced(app: &TestApp) {
    let off = app
        .count(
            "SELECT COUNT(*) FROM points_accounts a WHERE a.balance <> \
             (SELECT COALESCE(SUM(delta), 0) FROM points_ledger l WHERE l.user_id = a.user_id AND l.bucket = 'available') \
             OR a.balance < 0 OR a.pending < 0",
        )
        .await;
    assert_eq!(off, 0, "a balance differs from the sum of its ledger");
}

#[tokio::test]
async fn the_link_counts_a_click_sets_a_thirty_day_cookie_and_an_unknown_code_only_redirects() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let referrer = shopper_client();
        app.register(&referrer).await;
        let mine = my_referral(&app, &referrer).await;
        let code = mine["code"].as_str().unwrap().to_string();
        assert_eq!(mine["link"], format!("/r/{code}"));
        assert_eq!(code.len(), 16);
        // Stable: asking again gives the same code.
        assert_eq!(my_referral(&app, &referrer).await["code"], code.as_str());
        assert_eq!((mine["clicks"].as_i64(), mine["registrations"].as_i64()), (Some(0), Some(0)));

        let friend = shopper_client();
        let response = follow(&app, &friend, &format!("/r/{code}")).await;
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], "/");
        assert_eq!(set_cookie(&response, "mercato_ref").as_deref(), Some(code.as_str()));
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("mercato_ref="))
            .unwrap()
            .to_string();
        for attribute in ["HttpOnly", "SameSite=Lax", "Max-Age=2592000", "Path=/"] {
            assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
        }

        let stranger = shopper_client();
        let unknown = follow(&app, &stranger, "/r/aaaaaaaaaaaaaaaa").await;
        assert_eq!(unknown.status(), 303);
        assert_eq!(set_cookie(&unknown, "mercato_ref"), None);
        let malformed = follow(&app, &stranger, "/r/..%2Fadmin").await;
        assert_eq!(malformed.status(), 303);
        assert_eq!(set_cookie(&malformed, "mercato_ref"), None);
        assert_eq!(my_referral(&app, &referrer).await["clicks"], 1);
        // Logged out: no referral to show.
        assert_eq!(app.get("/api/v1/me/referral").await.status(), 401);
    }
}

#[tokio::test]
async fn a_referred_first_paid_order_pays_both_sides_once_and_its_refund_takes_it_back() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let rules = app.state.loyalty;
        let admin = app.admin_client().await;
        let referrer = shopper_client();
        let referrer_email = app.register(&referrer).await;
        let referrer_id = user_id(&app, &referrer_email).await;
        let link = my_referral(&app, &referrer).await["link"].as_str().unwrap().to_string();

        let friend = shopper_client();
        follow(&app, &friend, &link).await;
        let friend_email = format!("friend-{}@example.org", suffix());
        let registered = register_as(&app, &friend, &friend_email).await;
        assert_eq!(registered.status(), 201);
        // The cookie has done its work.
        let cleared = registered
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|c| c.starts_with("mercato_ref=;") && c.contains("Max-Age=0"));
        assert!(cleared, "the referral cookie is cleared on registration");
        let friend_id = user_id(&app, &friend_email).await;
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM referrals WHERE referrer_id = {referrer_id} AND referee_id = {friend_id}"
            ))
            .await,
            1
        );

        let sku = a_product(&app).await;
        let order = app.buy(&friend, &[(&sku, 1)]).await;
        let order_id = order["id"].as_i64().unwrap();
        let earned = order["points_earned"].as_i64().unwrap();
        app.settle().await;
        // Placed, not fulfilled: nothing yet.
        assert_eq!(points(&app, &referrer).await["balance"], 0);
        order_action(&app, &admin, order_id, "fulfil").await;
        app.settle().await;
        assert_eq!(points(&app, &referrer).await["balance"], rules.referrer_points);
        assert_eq!(points(&app, &friend).await["balance"], earned + rules.referee_points);

        // The same events delivered again, and a second fulfilled order: no second reward.
        sqlx::query("UPDATE event_deliveries SET done_at = NULL WHERE consumer = 'referrals'")
            .execute(app.db.pool())
            .await
            .unwrap();
        app.db.wake_outbox();
        app.settle().await;
        let second = app.buy(&friend, &[(&sku, 1)]).await;
        let earned_second = second["points_earned"].as_i64().unwrap();
        order_action(&app, &admin, second["id"].as_i64().unwrap(), "fulfil").await;
        app.settle().await;
        assert_eq!(points(&app, &referrer).await["balance"], rules.referrer_points);
        let referral_rows = app.count("SELECT COUNT(*) FROM points_ledger WHERE kind = 'referral'").await;
        assert_eq!(referral_rows, 2, "one row per side");
        let badges = json_of(referrer.get(app.url("/api/v1/me/badges")).send().await.unwrap()).await;
        assert!(badges["items"].as_array().unwrap().iter().any(|b| b["key"] == "ambassador"), "{badges}");

        let funnel = my_referral(&app, &referrer).await;
        assert_eq!(
            (funnel["clicks"].as_i64(), funnel["registrations"].as_i64(), funnel["first_orders"].as_i64()),
            (Some(1), Some(1), Some(1))
        );
        let shop = json_of(admin.get(app.url("/api/v1/admin/referrals")).send().await.unwrap()).await;
        assert_eq!(shop, json!({ "clicks": 1, "registrations": 1, "first_orders": 1 }));
        let page = admin.get(app.url("/admin/loyalty")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("referral-chart") && page.contains("Registrations: 1"), "funnel chart on the page");
        assert_eq!(referrer.get(app.url("/api/v1/admin/referrals")).send().await.unwrap().status(), 403);

        // The referrer spends part of the reward; the refund takes back what is left, never
        // below zero, and the friend's welcome points with it.
        app::loyalty::ssr::spend(&app.db, referrer_id, 200, "reward:mug", "A mug").await.unwrap();
        order_action(&app, &admin, order_id, "refund").await;
        app.settle().await;
        assert_eq!(points(&app, &referrer).await["balance"], 0);
        let friend_points = points(&app, &friend).await["balance"].as_i64().unwrap();
        assert_eq!(friend_points, earned_second, "the second order's points stay; the first's and the welcome go");
        let reversals =
            app.count("SELECT COUNT(*) FROM points_ledger WHERE kind = 'reverse' AND source LIKE 'referral:%'").await;
        assert_eq!(reversals, 2);
        assert_eq!(my_referral(&app, &referrer).await["first_orders"], 0);
        assert_ledger_balanced(&app).await;
    }
}

#[tokio::test]
async fn an_email_alias_or_the_referrers_own_device_records_no_referral() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let tag = suffix();
        let referrer = shopper_client();
        assert_eq!(register_as(&app, &referrer, &format!("ann.{tag}@gmail.com")).await.status(), 201);
        let referrer_id = user_id(&app, &format!("ann.{tag}@gmail.com")).await;
        let link = my_referral(&app, &referrer).await["link"].as_str().unwrap().to_string();

        // A fresh browser, but the same Gmail mailbox (dots, a +tag, googlemail, capitals).
        let alias = shopper_client();
        follow(&app, &alias, &link).await;
        assert_eq!(register_as(&app, &alias, &format!("Ann{tag}+deals@googlemail.com")).await.status(), 201);
        assert_eq!(referrals_of(&app, referrer_id).await, 0, "e-mail alias");

        // The referrer's own browser (its mercato_vid) with a new address.
        follow(&app, &referrer, &link).await;
        assert_eq!(register_as(&app, &referrer, &format!("other-{tag}@example.org")).await.status(), 201);
        assert_eq!(referrals_of(&app, referrer_id).await, 0, "same device");

        // The device guard knows devices the referrer logged in from, too.
        let laptop = shopper_client();
        let login = app
            .post_json(
                &laptop,
                "/api/v1/auth/login",
                json!({ "email": format!("ann.{tag}@gmail.com"), "password": "a long test passphrase" }),
            )
            .await;
        assert_eq!(login.status(), 200);
        follow(&app, &laptop, &link).await;
        assert_eq!(register_as(&app, &laptop, &format!("third-{tag}@example.org")).await.status(), 201);
        assert_eq!(referrals_of(&app, referrer_id).await, 0, "a device the referrer logged in from");

        // A real friend on their own device is recorded.
        let friend = shopper_client();
        follow(&app, &friend, &link).await;
        assert_eq!(register_as(&app, &friend, &format!("bob-{tag}@example.org")).await.status(), 201);
        assert_eq!(referrals_of(&app, referrer_id).await, 1);
    }
}

#[tokio::test]
async fn a_referrer_collects_at_most_the_monthly_cap() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let cap = app.state.loyalty.referrals_per_month;
        let referrer = shopper_client();
        let referrer_email = app.register(&referrer).await;
        let referrer_id = user_id(&app, &referrer_email).await;
        let link = my_referral(&app, &referrer).await["link"].as_str().unwrap().to_string();
        let tag = suffix();
        for n in 0..cap + 1 {
            let friend = shopper_client();
            follow(&app, &friend, &link).await;
            assert_eq!(register_as(&app, &friend, &format!("friend{n}-{tag}@example.org")).await.status(), 201);
        }
        assert_eq!(referrals_of(&app, referrer_id).await, cap, "the one past the cap registers, unreferred");
        let funnel = my_referral(&app, &referrer).await;
        assert_eq!((funnel["clicks"].as_i64(), funnel["registrations"].as_i64()), (Some(cap + 1), Some(cap)));
        // Last month's referrals do not count against this month.
        sqlx::query("UPDATE referrals SET created_at = created_at - $1 WHERE referrer_id = $2")
            .bind(40 * 86_400_000_i64)
            .bind(referrer_id)
            .execute(app.db.pool())
            .await
            .unwrap();
        let friend = shopper_client();
        follow(&app, &friend, &link).await;
        assert_eq!(register_as(&app, &friend, &format!("late-{tag}@example.org")).await.status(), 201);
        assert_eq!(referrals_of(&app, referrer_id).await, cap + 1);
    }
}

#[tokio::test]
async fn the_register_form_records_the_referral_like_the_api() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let referrer = shopper_client();
        let referrer_email = app.register(&referrer).await;
        let referrer_id = user_id(&app, &referrer_email).await;
        let link = my_referral(&app, &referrer).await["link"].as_str().unwrap().to_string();
        let friend = shopper_client();
        follow(&app, &friend, &link).await;
        let email = format!("form-{}@example.org", suffix());
        let form = format!("email={}&display_name=Friend&password=a+long+test+passphrase", email.replace('@', "%40"));
        // The form's own action: server function paths carry a hash.
        let form_page = friend.get(app.url("/register")).send().await.unwrap().text().await.unwrap();
        let start = form_page.find("action=\"/rpc/register").expect("the register form") + "action=\"".len();
        let action: String = form_page[start..].chars().take_while(|c| *c != '"').collect();
        let response = friend
            .post(app.url(&action))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("referer", app.url("/register"))
            .body(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(status.is_redirection() || status.is_success(), "{status}");
        assert!(set_cookie(&response, "mercato_session").is_some(), "registered and logged in");
        assert_eq!(set_cookie(&response, "mercato_ref").as_deref(), Some(""), "the cookie is cleared");
        let friend_id = user_id(&app, &email).await;
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM referrals WHERE referrer_id = {referrer_id} AND referee_id = {friend_id}"
            ))
            .await,
            1
        );
        // The account page shows the friend's own link.
        let page = friend.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("data-testid=\"referral-link\""), "referral block on /account");
    }
}
