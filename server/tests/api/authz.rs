//! The authorization matrix: every route (pages, the JSON API, the other plain routes and
//! every server function) called as a visitor, a shopper and the owner, and what one
//! shopper can do to another's cart, orders, points, wishlist, reviews in moderation,
//! subscription, support requests and community posts.
//!
//! **How "every route" is kept true.** The tables below are checked against what the code
//! registers, in both directions, so a route added later fails the test until it is
//! classified here:
//! - pages: `server::startup::page_paths()`, the route lists the router is built from;
//! - server functions: `server_fn_paths()`, the registry the `/rpc/*` handler dispatches on;
//! - the JSON API and the other plain routes: axum cannot list a router's routes, so the
//!   test reads the router sources (`server/src/routes/*.rs`, `server/src/startup.rs`) and
//!   collects every `.route("…", get(…).post(…))`. A `.route(` whose path is not a literal
//!   fails the scan rather than being skipped, and every listed route is requested, so a
//!   path with the wrong prefix answers the fallback 404 and fails too.

use crate::helpers::{assert_problem, backends, json_of, shopper_client, spawn_app, Backend, TestApp};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Who may use a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Anyone: no role answers 401 or 403 (a plan's 403 aside).
    Public,
    /// A logged-in shopper: a visitor gets 401, or a page or form that sends them to log in.
    Shopper,
    /// A shopper's own data, or nothing: a visitor gets 401, a login redirect or an empty
    /// answer (`null`), never anyone's data.
    Own,
    /// The owner only: a visitor gets 401 (or the login page), a shopper 403.
    Admin,
    /// A bearer token (the inventory's or a brand's): 401 without one, whatever the session.
    Token,
}
use Access::*;

/// The JSON API and the other routes outside Leptos: method, path as registered, who may
/// call it, the path requested, and a body that passes the handler's parsing (`{email}` is
/// the shopper's address).
const PLAIN_ROUTES: &[(&str, &str, Access, &str, &str)] = &[
    ("GET", "/healthz", Public, "/healthz", ""),
    ("GET", "/metrics", Public, "/metrics", ""),
    ("GET", "/rec/{kind}/{sku}", Public, "/rec/upsell/COF-001", ""),
    ("GET", "/r/{code}", Public, "/r/AAAAAAAAAAAAAAAA", ""),
    ("GET", "/api/v1/openapi.json", Public, "/api/v1/openapi.json", ""),
    ("GET", "/api/v1/products", Public, "/api/v1/products", ""),
    ("GET", "/api/v1/products/{sku}", Public, "/api/v1/products/COF-001", ""),
    ("PUT", "/api/v1/inventory/{sku}", Token, "/api/v1/inventory/COF-002", r#"{"stock": 40}"#),
    ("GET", "/api/v1/prices/stream", Public, "/api/v1/prices/stream", ""),
    ("GET", "/api/v1/cart", Public, "/api/v1/cart", ""),
    ("POST", "/api/v1/cart/items", Public, "/api/v1/cart/items", r#"{"sku": "COF-001", "quantity": 1}"#),
    ("DELETE", "/api/v1/cart/items/{sku}", Public, "/api/v1/cart/items/COF-001", ""),
    ("POST", "/api/v1/checkout", Shopper, "/api/v1/checkout", r#"{"expected_total_cents": 1, "redeem_points": 0}"#),
    (
        "POST",
        "/api/v1/auth/register",
        Public,
        "/api/v1/auth/register",
        r#"{"email": "matrix@example.com", "password": "a long test passphrase", "display_name": "Mat"}"#,
    ),
    (
        "POST",
        "/api/v1/auth/login",
        Public,
        "/api/v1/auth/login",
        r#"{"email": "{email}", "password": "a long test passphrase"}"#,
    ),
    ("POST", "/api/v1/auth/logout", Public, "/api/v1/auth/logout", ""),
    ("GET", "/api/v1/me", Shopper, "/api/v1/me", ""),
    ("POST", "/api/v1/events", Public, "/api/v1/events", r#"{"events": [{"kind": "page_view", "path": "/"}]}"#),
    ("GET", "/api/v1/experiments", Public, "/api/v1/experiments", ""),
    ("GET", "/api/v1/experiments/{key}/results", Admin, "/api/v1/experiments/hero/results", ""),
    ("GET", "/api/v1/admin/experiments", Admin, "/api/v1/admin/experiments", ""),
    ("PUT", "/api/v1/admin/experiments/{key}", Admin, "/api/v1/admin/experiments/hero", "{}"),
    ("GET", "/api/v1/admin/pricing/rules", Admin, "/api/v1/admin/pricing/rules", ""),
    ("PUT", "/api/v1/admin/pricing/rules/{scope}", Admin, "/api/v1/admin/pricing/rules/product:TEA-002", "{}"),
    ("DELETE", "/api/v1/admin/pricing/rules/{scope}", Admin, "/api/v1/admin/pricing/rules/product:TEA-002", ""),
    ("GET", "/api/v1/plans", Public, "/api/v1/plans", ""),
    ("GET", "/api/v1/me/entitlements", Public, "/api/v1/me/entitlements", ""),
    ("GET", "/api/v1/me/subscription", Shopper, "/api/v1/me/subscription", ""),
    ("POST", "/api/v1/me/subscription", Shopper, "/api/v1/me/subscription", r#"{"plan": "basic"}"#),
    ("GET", "/api/v1/me/invoices", Shopper, "/api/v1/me/invoices", ""),
    ("GET", "/api/v1/me/wishlist", Shopper, "/api/v1/me/wishlist", ""),
    ("POST", "/api/v1/me/wishlist", Shopper, "/api/v1/me/wishlist", r#"{"sku": "COF-003"}"#),
    ("DELETE", "/api/v1/me/wishlist/{sku}", Shopper, "/api/v1/me/wishlist/COF-003", ""),
    ("GET", "/api/v1/me/support-requests", Shopper, "/api/v1/me/support-requests", ""),
    (
        "POST",
        "/api/v1/me/support-requests",
        Shopper,
        "/api/v1/me/support-requests",
        r#"{"subject": "Parcel", "body": "Where is my parcel, please?"}"#,
    ),
    ("GET", "/api/v1/admin/plans", Admin, "/api/v1/admin/plans", ""),
    ("PUT", "/api/v1/admin/plans/{key}", Admin, "/api/v1/admin/plans/basic", "{}"),
    ("GET", "/api/v1/admin/invoices", Admin, "/api/v1/admin/invoices", ""),
    ("POST", "/api/v1/admin/invoices/{id}/paid", Admin, "/api/v1/admin/invoices/999999/paid", ""),
    ("GET", "/api/v1/admin/support-requests", Admin, "/api/v1/admin/support-requests", ""),
    ("GET", "/api/v1/me/points", Shopper, "/api/v1/me/points", ""),
    ("GET", "/api/v1/me/points/ledger", Shopper, "/api/v1/me/points/ledger", ""),
    ("GET", "/api/v1/me/badges", Shopper, "/api/v1/me/badges", ""),
    ("GET", "/api/v1/me/challenges", Shopper, "/api/v1/me/challenges", ""),
    ("GET", "/api/v1/leaderboard", Public, "/api/v1/leaderboard", ""),
    ("POST", "/api/v1/admin/orders/{id}/{action}", Admin, "/api/v1/admin/orders/999999/fulfil", ""),
    ("POST", "/api/v1/admin/points/adjust", Admin, "/api/v1/admin/points/adjust", "{}"),
    ("GET", "/api/v1/me/referral", Shopper, "/api/v1/me/referral", ""),
    ("GET", "/api/v1/admin/referrals", Admin, "/api/v1/admin/referrals", ""),
    ("GET", "/api/v1/admin/insights", Admin, "/api/v1/admin/insights?category=coffee", ""),
    ("GET", "/api/v1/admin/brand-keys", Admin, "/api/v1/admin/brand-keys", ""),
    ("POST", "/api/v1/admin/brand-keys", Admin, "/api/v1/admin/brand-keys", "{}"),
    ("DELETE", "/api/v1/admin/brand-keys/{id}", Admin, "/api/v1/admin/brand-keys/999999", ""),
    ("GET", "/api/v1/insights", Token, "/api/v1/insights?category=coffee", ""),
    ("GET", "/api/v1/products/{sku}/reviews", Public, "/api/v1/products/COF-001/reviews", ""),
    (
        "POST",
        "/api/v1/products/{sku}/reviews",
        Shopper,
        "/api/v1/products/TEA-003/reviews",
        r#"{"rating": 4, "title": "Nice tea", "body": "A gentle, grassy cup that I enjoy every morning."}"#,
    ),
    ("GET", "/api/v1/products/{sku}/questions", Public, "/api/v1/products/COF-001/questions", ""),
    (
        "POST",
        "/api/v1/products/{sku}/questions",
        Shopper,
        "/api/v1/products/TEA-003/questions",
        r#"{"body": "Can this tea be brewed cold overnight?"}"#,
    ),
    (
        "POST",
        "/api/v1/questions/{id}/answers",
        Shopper,
        "/api/v1/questions/999999/answers",
        r#"{"body": "Yes, it works well."}"#,
    ),
    ("POST", "/api/v1/reviews/{id}/helpful", Shopper, "/api/v1/reviews/999999/helpful", ""),
    ("POST", "/api/v1/questions/{id}/votes", Shopper, "/api/v1/questions/999999/votes", ""),
    ("POST", "/api/v1/answers/{id}/votes", Shopper, "/api/v1/answers/999999/votes", ""),
    ("GET", "/api/v1/me/reviews", Shopper, "/api/v1/me/reviews", ""),
    ("GET", "/api/v1/admin/moderation", Admin, "/api/v1/admin/moderation", ""),
    ("POST", "/api/v1/admin/moderation", Admin, "/api/v1/admin/moderation", "{}"),
    ("GET", "/api/v1/admin/moderation/settings", Admin, "/api/v1/admin/moderation/settings", ""),
    ("PUT", "/api/v1/admin/moderation/settings", Admin, "/api/v1/admin/moderation/settings", "{}"),
    ("PUT", "/api/v1/admin/reviews/{id}", Admin, "/api/v1/admin/reviews/999999", "{}"),
    ("PUT", "/api/v1/admin/answers/{id}", Admin, "/api/v1/admin/answers/999999", "{}"),
    ("PUT", "/api/v1/admin/questions/{id}", Admin, "/api/v1/admin/questions/999999", "{}"),
    ("GET", "/api/v1/community/topics", Public, "/api/v1/community/topics", ""),
    (
        "POST",
        "/api/v1/community/topics",
        Shopper,
        "/api/v1/community/topics",
        r#"{"category": "coffee", "title": "Morning brews", "body": "What do you all drink first thing?"}"#,
    ),
    ("GET", "/api/v1/community/topics/{id}", Public, "/api/v1/community/topics/1", ""),
    (
        "POST",
        "/api/v1/community/topics/{id}/replies",
        Shopper,
        "/api/v1/community/topics/1/replies",
        r#"{"body": "Same here."}"#,
    ),
    ("GET", "/api/v1/ugc/search", Public, "/api/v1/ugc/search?q=tea", ""),
    ("GET", "/api/v1/admin/community/moderation", Admin, "/api/v1/admin/community/moderation", ""),
    ("POST", "/api/v1/admin/community/moderation", Admin, "/api/v1/admin/community/moderation", "{}"),
    ("PUT", "/api/v1/admin/community/posts/{id}", Admin, "/api/v1/admin/community/posts/999999", "{}"),
    ("GET", "/api/v1/recommendations", Public, "/api/v1/recommendations?sku=COF-001&kind=upsell", ""),
    ("GET", "/api/v1/admin/analytics", Admin, "/api/v1/admin/analytics?days=7", ""),
    ("GET", "/api/v1/admin/analytics/{file}", Admin, "/api/v1/admin/analytics/daily.csv?days=7", ""),
    ("GET", "/api/v1/flags", Public, "/api/v1/flags", ""),
    ("GET", "/api/v1/admin/flags", Admin, "/api/v1/admin/flags", ""),
    ("PUT", "/api/v1/admin/flags/{key}", Admin, "/api/v1/admin/flags/points_redemption", "{}"),
    (
        "POST",
        "/api/v1/admin/flags/{key}/switch",
        Admin,
        "/api/v1/admin/flags/points_redemption/switch",
        r#"{"on": true}"#,
    ),
    ("PUT", "/api/v1/competitor-prices", Admin, "/api/v1/competitor-prices", r#"{"offers": []}"#),
    ("POST", "/api/v1/admin/pricing/simulate", Admin, "/api/v1/admin/pricing/simulate", "{}"),
];

/// Every page: its path as registered, who may open it, and the path requested.
const PAGES: &[(&str, Access, &str)] = &[
    ("/", Public, "/"),
    ("/search", Public, "/search?q=tea"),
    ("/category/{slug}", Public, "/category/coffee"),
    ("/products/{sku}", Public, "/products/COF-001"),
    ("/cart", Public, "/cart"),
    ("/checkout", Shopper, "/checkout"),
    ("/orders/{id}", Shopper, "/orders/999999"),
    ("/login", Public, "/login"),
    ("/register", Public, "/register"),
    ("/account", Shopper, "/account"),
    ("/account/reviews", Shopper, "/account/reviews"),
    ("/account/reviews/{sku}", Shopper, "/account/reviews/COF-001"),
    ("/account/questions/{sku}", Shopper, "/account/questions/COF-001"),
    ("/pricing", Public, "/pricing"),
    ("/wishlist", Own, "/wishlist"),
    ("/support", Shopper, "/support"),
    ("/leaderboard", Public, "/leaderboard"),
    ("/community", Public, "/community"),
    ("/community/search", Public, "/community/search?q=tea"),
    ("/community/t/{id}", Public, "/community/t/1"),
    ("/community/{category}", Public, "/community/coffee"),
    ("/admin", Admin, "/admin"),
    ("/admin/pricing", Admin, "/admin/pricing"),
    ("/admin/plans", Admin, "/admin/plans"),
    ("/admin/loyalty", Admin, "/admin/loyalty"),
    ("/admin/reviews", Admin, "/admin/reviews"),
    ("/admin/insights", Admin, "/admin/insights"),
    ("/admin/flags", Admin, "/admin/flags"),
    ("/admin/experiments", Admin, "/admin/experiments"),
];

/// Every server function: its name, who may call it, and its arguments as a form.
const SERVER_FNS: &[(&str, Access, &str)] = &[
    ("register", Public, "email=matrix-rpc%40example.com&display_name=Mat&password=a+long+test+passphrase"),
    ("login", Public, "email={email}&password=a+long+test+passphrase"),
    ("logout", Public, ""),
    ("get_account", Own, ""),
    ("get_dashboard_html", Admin, "days=7"),
    ("get_session_info", Public, ""),
    ("get_cart", Public, ""),
    ("add_to_cart", Public, "sku=COF-001&quantity=1"),
    ("remove_from_cart", Public, "sku=COF-001"),
    ("place_order", Shopper, "expected_total_cents=1"),
    ("get_order", Own, "id=999999"),
    ("get_post_purchase", Own, "order_id=999999"),
    ("add_to_order", Shopper, "order_id=999999&sku=COF-001"),
    ("get_home", Public, ""),
    ("get_categories", Public, ""),
    ("get_category_page", Public, "slug=coffee"),
    ("search_products", Public, "q=tea"),
    ("get_product_page", Public, "sku=COF-001"),
    ("get_community_home", Public, ""),
    ("get_category_topics", Public, "category=coffee&page=1"),
    ("get_topic", Public, "id=1&page=1"),
    ("post_topic", Shopper, "category=coffee&title=Morning+brews&body=What+do+you+drink+first+thing%3F"),
    ("post_reply", Shopper, "topic_id=1&body=Same+here."),
    ("search_ugc", Public, "params[q]=tea"),
    ("moderate_posts", Admin, "decision=approve"),
    ("sponsor_post", Admin, "id=999999&sponsored_by=Leafline"),
    ("get_experiments_admin", Admin, ""),
    ("create_experiment", Admin, "key=matrix&name=Matrix"),
    ("save_experiment_settings", Admin, "key=matrix&name=Matrix&status=draft&coverage_pct=100"),
    (
        "save_variant",
        Admin,
        "key=matrix&variant=control&weight_pct=50&headline=Hi&subcopy=There&cta_label=Go&cta_href=%2F&image=",
    ),
    ("save_banner", Admin, "segment=new&headline=Hi&body=There&cta_label=Go&cta_href=%2F"),
    ("get_flags_admin", Admin, ""),
    ("save_flag", Admin, "key=matrix_flag&description=M&kind=boolean&default=false&off=false&rules="),
    ("switch_flag", Admin, "key=points_redemption&on=true"),
    ("preview_flags", Admin, "plan=basic"),
    ("get_points_page", Own, ""),
    ("set_leaderboard_visibility", Shopper, "hide=on"),
    ("get_leaderboard", Public, ""),
    ("get_checkout_points", Own, "total_cents=1000"),
    ("get_loyalty_admin", Admin, ""),
    ("get_my_referral", Own, ""),
    ("adjust_points", Admin, "email={email}&delta=1&reason=Matrix"),
    ("create_badge", Admin, "key=matrix&name=Matrix&description=M&goal=orders&threshold=1"),
    ("create_challenge", Admin, "title=Matrix&goal=orders&target=1&reward_points=1&starts=2026-01-01&ends=2026-01-02"),
    ("order_action", Admin, "order_id=999999&action=fulfil"),
    ("get_pricing_page", Public, ""),
    ("change_plan", Shopper, "plan=free"),
    ("get_my_plan", Own, ""),
    ("get_plans_admin", Admin, ""),
    ("save_plan", Admin, "key=basic&name=Basic&price=4.99"),
    ("mark_invoice_paid", Admin, "id=999999"),
    ("resolve_support_request", Admin, "id=999999"),
    ("get_support_page", Own, ""),
    ("send_support_request", Shopper, "subject=Parcel&body=Where+is+my+parcel%3F"),
    ("get_wishlist_page", Own, ""),
    ("get_wishlist_button", Public, "sku=COF-001"),
    ("toggle_wishlist", Shopper, "sku=COF-003"),
    ("get_pricing_admin", Admin, ""),
    ("import_competitor_csv", Admin, "csv="),
    (
        "save_pricing_rules",
        Admin,
        "scope=product%3ATEA-002&low_stock_below=5&low_stock_markup_pct=15&high_stock_above=100\
         &high_stock_discount_pct=5&min_margin_pct=10&ceiling_pct=200&max_step_pct=10&rounding=none\
         &cooldown_minutes=0&velocity_window_days=14&fast_cover_days_below=&fast_markup_pct=\
         &slow_no_sale_days=&slow_cover_days_above=&slow_discount_pct=&competitor=off&competitor_pct=\
         &competitor_max_age_hours=",
    ),
    ("reset_pricing_rules", Admin, "scope=product%3ATEA-002"),
    ("get_product_recs_html", Public, "sku=COF-001"),
    ("get_cart_recs_html", Public, ""),
    ("add_recommended", Public, "kind=upsell&from=COF-001"),
    ("get_reviews_html", Public, "sku=COF-001"),
    ("vote", Shopper, "kind=review&id=999999&sku=COF-001"),
    ("get_review_form", Own, "sku=COF-001"),
    ("save_review", Shopper, "sku=TEA-004&rating=4&title=Nice&body=A+gentle+cup+that+I+enjoy+every+morning."),
    ("get_my_reviews", Own, ""),
    ("get_qa_page", Public, "sku=COF-001"),
    ("post_qa", Shopper, "sku=TEA-004&body=Can+this+tea+be+brewed+cold%3F"),
    ("get_moderation_page", Admin, ""),
    ("moderate", Admin, "decision=approve"),
    ("save_moderation_settings", Admin, "blocklist="),
    ("annotate", Admin, "kind=review&id=999999&field=reply&value=Thanks"),
    ("get_insights_admin", Admin, ""),
    ("create_brand_key", Admin, "brand=Leafline&label=Matrix"),
    ("revoke_brand_key", Admin, "id=999999"),
];

/// `(METHOD, path)` of every `.route(…)` in the router sources, with `/api/v1` before the
/// routes of `api::router()` and of the `router()` functions merged into it.
fn scanned_plain_routes() -> BTreeSet<(String, String)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(format!("{root}/routes"))
        .expect("routes dir")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    files.push(format!("{root}/startup.rs").into());
    let mut routes = BTreeSet::new();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        // Only code: the test module of a file may build routers of its own.
        let source = source.split("#[cfg(test)]").next().unwrap();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        for (at, _) in source.match_indices(".route(") {
            let rest = &source[at + ".route(".len()..];
            let Some(literal) = rest.strip_prefix('"') else {
                // The pages' loop and the server functions' catch-all are covered by their
                // own lists; any other computed path is a route this scan cannot see.
                let allowed = (name == "startup.rs")
                    && (rest.starts_with("listing.path()") || rest.starts_with("\"/rpc/{*fn_name}\""));
                assert!(allowed, "{name}: a .route( without a literal path: {}", &rest[..60.min(rest.len())]);
                continue;
            };
            let path = literal.split('"').next().unwrap();
            if path == "/rpc/{*fn_name}" {
                continue;
            }
            // The handler expression up to the call's closing parenthesis.
            let mut depth = 1;
            let handler: String = rest
                .chars()
                .take_while(|c| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth > 0
                })
                .collect();
            let enclosing = source[..at].rfind("fn ").map(|f| &source[f + 3..]).unwrap_or_default();
            let in_api = enclosing.starts_with("router()");
            let full = if in_api && name != "startup.rs" { format!("/api/v1{path}") } else { path.to_string() };
            let mut methods = 0;
            for method in ["get", "post", "put", "delete", "patch", "any"] {
                for (index, _) in handler.match_indices(&format!("{method}(")) {
                    let before = handler[..index].chars().last();
                    if before.is_none_or(|c| !c.is_alphanumeric() && c != '_') {
                        routes.insert((method.to_uppercase(), full.clone()));
                        methods += 1;
                    }
                }
            }
            assert!(methods > 0, "{name}: no method in .route(\"{path}\", {handler})");
        }
    }
    routes
}

/// The name of a registered server function (`/rpc/get_cart12345…` → `get_cart`).
fn server_fn_name(path: &str) -> String {
    path.trim_start_matches("/rpc/").trim_end_matches(|c: char| c.is_ascii_digit()).to_string()
}

#[tokio::test]
async fn the_matrix_lists_every_route_and_nothing_else() {
    let _app = spawn_app(Backend::Sqlite).await;
    let listed: BTreeSet<(String, String)> =
        PLAIN_ROUTES.iter().map(|(method, path, ..)| (method.to_string(), path.to_string())).collect();
    assert_eq!(listed.len(), PLAIN_ROUTES.len(), "a plain route is listed twice");
    let scanned = scanned_plain_routes();
    let unlisted: Vec<_> = scanned.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&scanned).collect();
    assert!(unlisted.is_empty(), "routes missing from the authorization matrix: {unlisted:?}");
    assert!(stale.is_empty(), "matrix rows for routes that no longer exist: {stale:?}");

    let pages: BTreeSet<String> = server::startup::page_paths().into_iter().collect();
    let listed: BTreeSet<String> = PAGES.iter().map(|(path, ..)| path.to_string()).collect();
    assert_eq!(
        pages.symmetric_difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "pages and the matrix differ"
    );

    let functions: BTreeSet<String> =
        leptos::server_fn::axum::server_fn_paths().map(|(path, _)| server_fn_name(path)).collect();
    assert!(functions.len() > 50, "the registry is populated: {functions:?}");
    let listed: BTreeSet<String> = SERVER_FNS.iter().map(|(name, ..)| name.to_string()).collect();
    assert_eq!(listed.len(), SERVER_FNS.len(), "a server function is listed twice");
    assert_eq!(
        functions.symmetric_difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "server functions and the matrix differ"
    );
}

/// The three callers of the matrix, and the shopper's e-mail.
struct Callers {
    anonymous: reqwest::Client,
    shopper: reqwest::Client,
    shopper_email: String,
    admin: reqwest::Client,
}

/// What one call answered.
struct Answer {
    status: u16,
    location: String,
    body: String,
}

impl Answer {
    /// A redirect to the login page: a real one for a page, or the `Location` a server
    /// function's client follows.
    fn to_login(&self) -> bool {
        self.location.starts_with("/login")
    }

    fn plan_locked(&self) -> bool {
        self.status == 403
            && (self.body.contains("required_plan")
                || self.body.contains("PlanRequired")
                || self.body.contains("locked-feature"))
    }

    /// 401, or a page or form that sends the caller to log in.
    fn asks_to_log_in(&self) -> bool {
        self.status == 401
            || self.to_login()
            || (self.status == 200 && self.body.contains("meta http-equiv=\"refresh\"") && self.body.contains("/login"))
    }

    fn denied(&self) -> bool {
        (self.status == 401 || self.status == 403 || self.to_login()) && !self.plan_locked()
    }
}

async fn call(client: &reqwest::Client, method: &str, url: &str, body: &str, form: bool) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client.request(method, url);
    if form {
        // As the hydrated app calls a server function: an error comes back with its status.
        request = request.header("content-type", "application/x-www-form-urlencoded").body(body.to_string());
    } else if !body.is_empty() {
        request = request.header("content-type", "application/json").body(body.to_string());
    } else if !url.contains("/api/v1/") {
        // As a browser asks for a page, so a redirect is a real redirect.
        request = request.header("accept", "text/html,application/xhtml+xml");
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    // The price stream never ends; its headers are the answer.
    let body = if url.ends_with("/prices/stream") { String::new() } else { response.text().await.unwrap_or_default() };
    Answer { status, location, body }
}

/// Checks one route for every role; returns the failures.
async fn check(callers: &Callers, access: Access, method: &str, url: &str, body: &str, form: bool) -> Vec<String> {
    let body = body.replace("{email}", &callers.shopper_email.replace('@', if form { "%40" } else { "@" }));
    let mut failures = Vec::new();
    let anonymous = call(&callers.anonymous, method, url, &body, form).await;
    let mut fail = |who: &str, answer: &Answer, expected: &str| {
        failures.push(format!(
            "{method} {url} as {who}: {} {} — expected {expected}: {}",
            answer.status,
            answer.location,
            answer.body.chars().take(120).collect::<String>()
        ));
    };
    if anonymous.status == 404 && anonymous.body.contains("No such API route") {
        fail("visitor", &anonymous, "a route");
    }
    if anonymous.status >= 500 {
        fail("visitor", &anonymous, "no server error");
    }
    match access {
        Public => {
            if anonymous.denied() {
                fail("visitor", &anonymous, "open to everyone");
            }
        }
        Shopper | Own => {
            // `null`, data that only says to log in (`"gate": "LogIn"`), or a page with
            // nothing of anyone's (what it shows a visitor is the cross-account test's).
            let empty = access == Own
                && anonymous.status == 200
                && (anonymous.body.trim() == "null"
                    || anonymous.body.contains("\"LogIn\"")
                    || anonymous.body.starts_with("<!DOCTYPE html>"));
            if !(anonymous.asks_to_log_in() || empty) {
                fail("visitor", &anonymous, "401 or a login");
            }
            let shopper = call(&callers.shopper, method, url, &body, form).await;
            if shopper.denied() || shopper.status >= 500 {
                fail("shopper", &shopper, "allowed");
            }
        }
        Admin => {
            if !anonymous.asks_to_log_in() {
                fail("visitor", &anonymous, "401 or a login");
            }
            let shopper = call(&callers.shopper, method, url, &body, form).await;
            if shopper.status != 403 {
                fail("shopper", &shopper, "403");
            }
            let admin = call(&callers.admin, method, url, &body, form).await;
            if admin.denied() || admin.status >= 500 {
                fail("admin", &admin, "allowed");
            }
        }
        Token => {
            if anonymous.status != 401 {
                fail("visitor", &anonymous, "401");
            }
            for (who, client) in [("shopper", &callers.shopper), ("admin", &callers.admin)] {
                let answer = call(client, method, url, &body, form).await;
                if answer.status != 401 {
                    fail(who, &answer, "401 without the token");
                }
            }
        }
    }
    failures
}

async fn callers(app: &TestApp) -> Callers {
    let shopper = shopper_client();
    let shopper_email = app.register(&shopper).await;
    Callers { anonymous: shopper_client(), shopper, shopper_email, admin: app.admin_client().await }
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_matrix_says() {
    let app = spawn_app(Backend::Sqlite).await;
    let callers = callers(&app).await;
    let mut failures = Vec::new();
    for (method, _, access, probe, body) in PLAIN_ROUTES {
        failures.extend(check(&callers, *access, method, &app.url(probe), body, false).await);
    }
    for (_, access, probe) in PAGES {
        failures.extend(check(&callers, *access, "GET", &app.url(probe), "", false).await);
    }
    let paths: Vec<(String, String)> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| (path.to_string(), method.to_string()))
        .collect();
    for (name, access, args) in SERVER_FNS {
        let (path, method) = paths.iter().find(|(path, _)| server_fn_name(path) == *name).expect("registered");
        failures.extend(check(&callers, *access, method, &app.url(path), args, method == "POST").await);
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Calls the server function `name` as `client` with a form; the status and the body.
async fn rpc(app: &TestApp, client: &reqwest::Client, name: &str, args: &str) -> (u16, String) {
    let path = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .find(|path| server_fn_name(path) == name)
        .unwrap_or_else(|| panic!("no server function {name}"));
    let answer = call(client, "POST", &app.url(path), args, true).await;
    (answer.status, answer.body)
}

async fn text(client: &reqwest::Client, url: String) -> (u16, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_shopper_can_never_read_or_change_another_shoppers_things() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let alice = shopper_client();
        let alice_email = app.register(&alice).await;
        let bob = shopper_client();
        app.register(&bob).await;
        // Both on the plan with every feature, so only ownership stands between them.
        for client in [&alice, &bob] {
            let subscribed = app.post_json(client, "/api/v1/me/subscription", json!({ "plan": "premium" })).await;
            assert!(subscribed.status().is_success(), "{}", subscribed.text().await.unwrap());
        }

        // Alice's things: an order (with pending points), a cart, a wishlist, a review and a
        // question waiting for moderation, a support request, a pending community topic.
        let order = app.buy(&alice, &[("COF-001", 2)]).await;
        let order_id = order["id"].as_i64().unwrap();
        assert_eq!(app.add_to_cart(&alice, "TEA-001", 1).await.status(), 200);
        assert_eq!(app.post_json(&alice, "/api/v1/me/wishlist", json!({ "sku": "COF-003" })).await.status(), 201);
        let review = app
            .post_json(
                &alice,
                "/api/v1/products/COF-002/reviews",
                json!({ "rating": 2, "title": "Alicia private words", "body": "Alicia thinks this roast tastes of cardboard." }),
            )
            .await;
        let review = json_of(review).await;
        let review_id = review["id"].as_i64().unwrap();
        assert_ne!(review["status"], "approved", "{review}");
        let question = app
            .post_json(
                &alice,
                "/api/v1/products/COF-002/questions",
                json!({ "body": "Alicia wonders whether this roast suits a moka pot?" }),
            )
            .await;
        let question = json_of(question).await;
        let question_id = question["id"].as_i64().unwrap();
        let support = app
            .post_json(
                &alice,
                "/api/v1/me/support-requests",
                json!({ "subject": "Alicia parcel", "body": "Alicia asks where her parcel is." }),
            )
            .await;
        let support_id = json_of(support).await["id"].as_i64().unwrap();
        let topic = app
            .post_json(
                &alice,
                "/api/v1/community/topics",
                json!({ "category": "coffee", "title": "Alicia topic", "body": "Alicia wants to talk about grinders." }),
            )
            .await;
        let topic = json_of(topic).await;
        let topic_id = topic["topic_id"].as_i64().or(topic["id"].as_i64()).unwrap();
        let invoice_id: i64 = sqlx::query_scalar(
            "SELECT i.id FROM invoices i JOIN users u ON u.id = i.user_id WHERE u.email = $1 AND i.status = 'open' LIMIT 1",
        )
        .bind(&alice_email)
        .fetch_one(app.db.pool())
        .await
        .unwrap();

        let alice_state = || async {
            let cart = json_of(alice.get(app.url("/api/v1/cart")).send().await.unwrap()).await;
            let wishlist = json_of(alice.get(app.url("/api/v1/me/wishlist")).send().await.unwrap()).await;
            let points = json_of(alice.get(app.url("/api/v1/me/points")).send().await.unwrap()).await;
            let subscription = json_of(alice.get(app.url("/api/v1/me/subscription")).send().await.unwrap()).await;
            let lines = app.count(&format!("SELECT COUNT(*) FROM order_lines WHERE order_id = {order_id}")).await;
            let status: String = sqlx::query_scalar(&format!("SELECT status FROM orders WHERE id = {order_id}"))
                .fetch_one(app.db.pool())
                .await
                .unwrap();
            let invoice: String = sqlx::query_scalar(&format!("SELECT status FROM invoices WHERE id = {invoice_id}"))
                .fetch_one(app.db.pool())
                .await
                .unwrap();
            let review: String =
                sqlx::query_scalar(&format!("SELECT title || status FROM reviews WHERE id = {review_id}"))
                    .fetch_one(app.db.pool())
                    .await
                    .unwrap();
            let votes = app.count(&format!("SELECT COUNT(*) FROM review_votes WHERE review_id = {review_id}")).await;
            json!([cart, wishlist, points, subscription, lines, status, invoice, review, votes])
        };
        let before = alice_state().await;
        assert!(before[0].to_string().contains("TEA-001") && before[1].to_string().contains("COF-003"), "{before}");

        // Everything Bob reads is his own: nothing of Alicia's shows up.
        let mut reads = Vec::new();
        for path in [
            "/api/v1/cart",
            "/api/v1/me",
            "/api/v1/me/points",
            "/api/v1/me/points/ledger",
            "/api/v1/me/wishlist",
            "/api/v1/me/subscription",
            "/api/v1/me/invoices",
            "/api/v1/me/support-requests",
            "/api/v1/me/reviews",
            "/api/v1/me/referral",
            "/api/v1/products/COF-002/reviews",
            "/api/v1/products/COF-002/questions",
            "/api/v1/community/topics?category=coffee",
            "/account",
            "/account/reviews",
            "/account/reviews/COF-002",
            "/account/questions/COF-002",
            "/cart",
            "/wishlist",
            "/support",
            "/community/coffee",
        ] {
            reads.push((path.to_string(), text(&bob, app.url(path)).await));
        }
        for (name, args) in [
            ("get_cart", String::new()),
            ("get_account", String::new()),
            ("get_points_page", String::new()),
            ("get_my_plan", String::new()),
            ("get_wishlist_page", String::new()),
            ("get_support_page", String::new()),
            ("get_my_reviews", String::new()),
            ("get_review_form", "sku=COF-002".to_string()),
            ("get_qa_page", "sku=COF-002".to_string()),
            ("get_order", format!("id={order_id}")),
            ("get_post_purchase", format!("order_id={order_id}")),
            ("get_topic", format!("id={topic_id}&page=1")),
        ] {
            reads.push((format!("rpc {name}"), rpc(&app, &bob, name, &args).await));
        }
        for (what, (status, body)) in &reads {
            assert!(*status < 500, "{what}: {status}");
            assert!(!body.contains("Alicia"), "{what} shows Alicia's things to Bob: {body}");
            assert!(!body.contains(&alice_email), "{what} shows Alicia's e-mail to Bob");
        }
        // What takes Alicia's ids is not found for Bob, or refused.
        let (status, _) = text(&bob, app.url(&format!("/orders/{order_id}"))).await;
        assert_eq!(status, 404, "Alicia's order page");
        assert_problem(bob.get(app.url(&format!("/api/v1/community/topics/{topic_id}"))).send().await.unwrap(), 404)
            .await;
        let (status, _) = text(&bob, app.url(&format!("/community/t/{topic_id}"))).await;
        assert_eq!(status, 404, "Alicia's pending topic page");

        // And nothing Bob does changes anything of Alicia's.
        let bob_calls: Vec<(&str, String, Value)> = vec![
            ("DELETE", "/api/v1/cart/items/TEA-001".into(), Value::Null),
            ("DELETE", "/api/v1/me/wishlist/COF-003".into(), Value::Null),
            ("POST", format!("/api/v1/reviews/{review_id}/helpful"), Value::Null),
            ("POST", format!("/api/v1/questions/{question_id}/answers"), json!({ "body": "Bob answers Alicia." })),
            ("POST", format!("/api/v1/questions/{question_id}/votes"), Value::Null),
            ("POST", format!("/api/v1/community/topics/{topic_id}/replies"), json!({ "body": "Bob replies." })),
            ("POST", format!("/api/v1/admin/orders/{order_id}/cancel"), Value::Null),
            ("POST", format!("/api/v1/admin/orders/{order_id}/fulfil"), Value::Null),
            ("POST", format!("/api/v1/admin/invoices/{invoice_id}/paid"), Value::Null),
            ("PUT", format!("/api/v1/admin/reviews/{review_id}"), json!({ "reply": "Bob was here" })),
            ("POST", "/api/v1/admin/points/adjust".into(), json!({ "user_id": 1, "delta": 1000, "reason": "Bob" })),
            ("POST", "/api/v1/me/subscription".into(), json!({ "plan": "free" })),
        ];
        for (method, path, body) in bob_calls {
            let mut request = bob.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), app.url(&path));
            if !body.is_null() {
                request = request.json(&body);
            }
            let status = request.send().await.unwrap().status().as_u16();
            assert!(status < 500, "{method} {path}: {status}");
            if path.contains("/admin/") {
                assert_eq!(status, 403, "{method} {path}");
            }
            if path.contains(&format!("/{review_id}/"))
                || path.contains(&format!("/{question_id}/"))
                || path.contains(&format!("/{topic_id}/"))
            {
                assert!(matches!(status, 403 | 404), "{method} {path} on Alicia's unpublished item: {status}");
            }
        }
        for (name, args) in [
            ("remove_from_cart", "sku=TEA-001".to_string()),
            ("toggle_wishlist", "sku=COF-003".to_string()),
            ("add_to_order", format!("order_id={order_id}&sku=TEA-002")),
            ("vote", format!("kind=review&id={review_id}&sku=COF-002")),
            ("post_qa", format!("sku=COF-002&question_id={question_id}&body=Bob+answers+Alicia.")),
            ("post_reply", format!("topic_id={topic_id}&body=Bob+replies.")),
            ("order_action", format!("order_id={order_id}&action=cancel")),
            ("mark_invoice_paid", format!("id={invoice_id}")),
            ("adjust_points", format!("email={}&delta=500&reason=Bob", alice_email.replace('@', "%40"))),
            ("annotate", format!("kind=review&id={review_id}&field=reply&value=Bob")),
            ("resolve_support_request", format!("id={support_id}")),
            ("change_plan", "plan=free".to_string()),
            ("set_leaderboard_visibility", "hide=on".to_string()),
        ] {
            let (status, body) = rpc(&app, &bob, name, &args).await;
            assert!(status < 500, "rpc {name}: {status} {body}");
        }
        app.settle().await;
        assert_eq!(alice_state().await, before, "Bob changed something of Alicia's");
        let answers = app.count(&format!("SELECT COUNT(*) FROM answers WHERE question_id = {question_id}")).await;
        assert_eq!(answers, 0, "Bob answered Alicia's unpublished question");
        let replies = app.count(&format!("SELECT COUNT(*) FROM community_posts WHERE topic_id = {topic_id}")).await;
        assert_eq!(replies, 1, "Bob replied to Alicia's unpublished topic");
        let resolved = app
            .count(&format!("SELECT COUNT(*) FROM support_requests WHERE id = {support_id} AND status = 'open'"))
            .await;
        assert_eq!(resolved, 1, "Bob resolved Alicia's support request");
    }
}
