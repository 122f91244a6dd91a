//! Layers every request passes through.

use super::ApiState;
use app::accounts::ssr::{
    is_valid_visitor_id, new_visitor_id, resolve_session, Identity, SESSION_COOKIE, VISITOR_COOKIE,
};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// The per-request CSP nonce; the Leptos renderer puts it on its inline scripts.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// Reads one cookie from the `Cookie` header.
pub fn cookie<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn is_static_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path.starts_with("/img/") || path == "/favicon.svg" || path == "/robots.txt"
}

/// Resolves who is asking: the visitor cookie (created on the first response) and the
/// logged-in user behind the session cookie. Static files skip the session lookup.
pub async fn identity(State(state): State<ApiState>, mut request: Request, next: Next) -> Response {
    let existing_visitor = cookie(&request, VISITOR_COOKIE).filter(|v| is_valid_visitor_id(v)).map(str::to_string);
    if is_static_asset(request.uri().path()) {
        // Files need no session; a missing file still renders the not-found page, which
        // reads the identity, so an anonymous one is provided without touching the database.
        let visitor_id = existing_visitor.unwrap_or_default();
        request.extensions_mut().insert(Identity::anonymous(visitor_id));
        return next.run(request).await;
    }
    let is_new_visitor = existing_visitor.is_none();
    let visitor_id = existing_visitor.unwrap_or_else(new_visitor_id);
    let session_token = cookie(&request, SESSION_COOKIE).filter(|t| t.len() == 64).map(str::to_string);
    let (user, cached_entitlements) = match &session_token {
        Some(token) => match resolve_session(&state.app.db, token).await.unwrap_or(None) {
            Some((user, entitlements)) => (Some(user), entitlements),
            None => (None, None),
        },
        None => (None, None),
    };
    let changes_cart = changes_cart(request.uri().path());
    let referral_code = cookie(&request, app::loyalty::referrals::REFERRAL_COOKIE)
        .filter(|code| app::loyalty::domain::is_referral_code(code))
        .map(str::to_string);
    let peer = request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip());
    let forwarded_for = request.headers().get("x-forwarded-for").and_then(|value| value.to_str().ok());
    let client_ip =
        app::shared::limits::client_ip(peer, forwarded_for, state.app.rate_limits.limits.trusted_proxy_hops);
    request.extensions_mut().insert(Identity {
        visitor_id: visitor_id.clone(),
        user,
        session_token,
        cached_entitlements,
        referral_code,
        client_ip,
    });
    let mut response = next.run(request).await;
    if changes_cart {
        mark_cart(&state, &visitor_id, &mut response).await;
    }
    if is_new_visitor {
        let secure = if state.app.secure_cookies { "; Secure" } else { "" };
        let cookie = format!("{VISITOR_COOKIE}={visitor_id}; Path=/; Max-Age=31536000; SameSite=Lax{secure}");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The owner's API (`/api/v1/admin/…`) answers 401 to a visitor and 403 to a shopper before
/// the request reaches a handler. Runs after [`identity`].
///
/// **Rationale:** every admin handler checks the role itself, but only after its extractors
/// ran: a body of the wrong shape answered 422 to anyone, which tells a stranger what the
/// endpoint expects, and a new handler that forgot its check would be open. One gate for
/// the whole prefix makes the check independent of each handler.
pub async fn admin_gate(request: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    let path = request.uri().path();
    if path == "/api/v1/admin" || path.starts_with("/api/v1/admin/") {
        let identity = request.extensions().get::<Identity>();
        if let Err(error) = identity.map_or(Err(app::shared::AppError::Unauthorized), |i| i.require_admin().map(|_| ()))
        {
            return super::error::ApiError::from(error).into_response();
        }
    }
    next.run(request).await
}

/// Server functions answer with the status of their error.
///
/// **Rationale:** `server_fn` answers every error with 500, so a shopper calling an admin
/// function, a logged-out caller or a throttled one looked like a server fault (and was
/// counted as one). The error is our `AppError` as JSON, which knows its status; the client
/// decodes any 4xx/5xx body the same way, and a plain form post's error, which Leptos turns
/// into a redirect back to the form, is left alone.
pub async fn server_fn_status(request: Request, next: Next) -> Response {
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let is_server_fn = request.uri().path().starts_with("/rpc/");
    let response = next.run(request).await;
    if !is_server_fn
        || response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(error) = serde_json::from_slice::<app::shared::AppError>(&bytes) {
        parts.status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let app::shared::AppError::TooManyRequests { retry_after_secs } = error {
            parts.headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Completes the visitor's experiment assignments (sticky: what the `mercato_ab` cookie says
/// wins while an experiment runs) and hands them to the page through a request extension.
/// The cookie is (re)written only when an assignment was added. Runs after [`identity`].
pub async fn assign_experiments(State(state): State<ApiState>, mut request: Request, next: Next) -> Response {
    use app::experiments::ssr::RequestAssignments;
    if is_static_asset(request.uri().path()) {
        return next.run(request).await;
    }
    let (visitor_id, user_id) = match request.extensions().get::<Identity>() {
        Some(identity) => (identity.visitor_id.clone(), identity.user.as_ref().map(|user| user.id)),
        None => (String::new(), None),
    };
    let (assignments, cookie) = complete_assignments(&state, assignments_of(&request), &visitor_id, user_id).await;
    request.extensions_mut().insert(RequestAssignments(assignments));
    let mut response = next.run(request).await;
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The assignments the request's `mercato_ab` cookie holds.
pub fn assignments_of(request: &Request) -> app::experiments::domain::Assignments {
    use app::experiments::domain::{Assignments, ASSIGNMENTS_KEY};
    cookie(request, ASSIGNMENTS_KEY).map(Assignments::parse).unwrap_or_default()
}

/// `assignments` completed for every running experiment the visitor is not in yet, and the
/// `Set-Cookie` value to send when one was added.
pub async fn complete_assignments(
    state: &ApiState,
    mut assignments: app::experiments::domain::Assignments,
    visitor_id: &str,
    user_id: Option<i64>,
) -> (app::experiments::domain::Assignments, Option<HeaderValue>) {
    use app::experiments::domain::ASSIGNMENTS_KEY;
    use app::experiments::ssr::segment_of;
    let db = state.app.db.clone();
    let threshold = state.app.high_value_cents;
    let changed = state
        .app
        .experiments
        .assign(visitor_id, &mut assignments, || async move {
            segment_of(&db, user_id, threshold).await.unwrap_or(app::experiments::domain::Segment::New)
        })
        .await;
    if !changed {
        return (assignments, None);
    }
    // Readable by the page's script (not HttpOnly): the browser mirrors it to localStorage
    // and restores it from there when cookies are cleared.
    let secure = if state.app.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{ASSIGNMENTS_KEY}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}", assignments.to_json());
    (assignments, HeaderValue::from_str(&cookie).ok())
}

/// Requests after which the anonymous cart may have become empty or non-empty.
fn changes_cart(path: &str) -> bool {
    ["/rpc/add_to_cart", "/rpc/remove_from_cart", "/rpc/place_order", "/rpc/login", "/rpc/logout", "/rpc/register"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
        || path.starts_with("/api/v1/cart")
        || path.starts_with("/api/v1/auth/")
        || path == "/api/v1/checkout"
}

/// Keeps the `mercato_cart` marker in step with the visitor's cart, so that pages showing a
/// cart badge are never served from the anonymous page cache.
async fn mark_cart(state: &ApiState, visitor_id: &str, response: &mut Response) {
    use super::page_cache::CART_COOKIE;
    let owner = app::cart::ssr::CartOwner::Visitor(visitor_id.to_string());
    let Ok(n_items) = app::cart::ssr::cart_count(&state.app.db, &owner).await else {
        return;
    };
    let secure = if state.app.secure_cookies { "; Secure" } else { "" };
    let cookie = if n_items > 0 {
        format!("{CART_COOKIE}=1; Path=/; Max-Age=2592000; SameSite=Lax; HttpOnly{secure}")
    } else {
        format!("{CART_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly{secure}")
    };
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

const CSP_BEFORE_NONCE: &str = "default-src 'self'; script-src 'self' 'nonce-";
const CSP_AFTER_NONCE: &str = "' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
     font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Security headers. The Content-Security-Policy allows only our own scripts (the wasm
/// bundle and its loader, plus inline scripts carrying this response's nonce), our own
/// styles and images, and no framing.
pub async fn security_headers(mut request: Request, next: Next) -> Response {
    let nonce = new_nonce();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    set_security_headers(response.headers_mut(), &nonce);
    response
}

/// A fresh CSP nonce: 128 random bits from a thread-local CSPRNG (the one Leptos uses for its
/// own nonces), unpredictable, and no system call per request.
pub fn new_nonce() -> String {
    leptos::nonce::Nonce::new().to_string()
}

/// Sets the Content-Security-Policy for `nonce` and the other security headers.
pub fn set_security_headers(headers: &mut axum::http::HeaderMap, nonce: &str) {
    let mut csp = String::with_capacity(CSP_BEFORE_NONCE.len() + nonce.len() + CSP_AFTER_NONCE.len());
    csp.push_str(CSP_BEFORE_NONCE);
    csp.push_str(nonce);
    csp.push_str(CSP_AFTER_NONCE);
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// The route template a response was produced by (`/products/{sku}`), for metrics: set by
/// [`tag_route`] inside the router, and by the page cache for the pages it answers.
#[derive(Clone, Copy, Debug)]
pub struct RouteLabel(pub &'static str);

/// Inside the router (a route layer, so it knows the matched route): labels the response
/// with its route and fills the request span's `matched_path`.
pub async fn tag_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|path| intern(path.as_str()));
    if let Some(route) = route {
        tracing::Span::current().record("matched_path", route);
    }
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(RouteLabel(route));
    }
    response
}

/// Request count and latency per route, for `/metrics`.
pub async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let response = next.run(request).await;
    count_request(&method, &response, started);
    response
}

/// Counts `response` under its route (see [`RouteLabel`]) and records how long it took.
pub fn count_request(method: &axum::http::Method, response: &Response, started: Instant) {
    let method = static_method(method);
    let route = response.extensions().get::<RouteLabel>().map_or("unmatched", |label| label.0);
    let status = static_status(response.status().as_u16());
    metrics::counter!("mercato_http_requests_total", "method" => method, "route" => route, "status" => status)
        .increment(1);
    metrics::histogram!("mercato_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
}

/// Route templates as `&'static str`, so labelling a request allocates nothing. The set is
/// bounded by the router's route templates.
fn intern(route: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{LazyLock, RwLock};
    static ROUTES: LazyLock<RwLock<HashSet<&'static str>>> = LazyLock::new(Default::default);
    if let Some(known) = ROUTES.read().ok().and_then(|routes| routes.get(route).copied()) {
        return known;
    }
    let Ok(mut routes) = ROUTES.write() else {
        return "unmatched";
    };
    if let Some(known) = routes.get(route) {
        return known;
    }
    let leaked: &'static str = Box::leak(route.to_string().into_boxed_str());
    routes.insert(leaked);
    leaked
}

fn static_method(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

fn static_status(status: u16) -> &'static str {
    match status {
        200 => "200",
        201 => "201",
        204 => "204",
        302 => "302",
        303 => "303",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        409 => "409",
        413 => "413",
        415 => "415",
        422 => "422",
        429 => "429",
        500 => "500",
        503 => "503",
        _ => match status / 100 {
            1 => "1xx",
            2 => "2xx",
            3 => "3xx",
            4 => "4xx",
            _ => "5xx",
        },
    }
}

/// Request bodies above this are refused with 413 (forms and JSON here are small).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The competitor price import takes up to 10,000 offers (about 1 MB of JSON) in one batch.
pub const MAX_IMPORT_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The one route allowed the larger body.
const IMPORT_PATH: &str = "/api/v1/competitor-prices";

/// Limits the request body: a declared length over the limit is refused at once, a body
/// that turns out longer fails when read (the extractors answer 413).
pub async fn limit_body(request: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    let limit = if request.uri().path() == IMPORT_PATH { MAX_IMPORT_BODY_BYTES } else { MAX_BODY_BYTES };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        let status = axum::http::StatusCode::PAYLOAD_TOO_LARGE;
        return super::error::ApiError::new(status, "The request body is too large.").into_response();
    }
    next.run(request.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)))).await
}
