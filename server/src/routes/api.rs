//! The JSON API under `/api/v1`. Handlers parse input into domain types, call the `app`
//! slices' storage, and answer JSON or problem+json.

use super::error::{ApiError, ApiJson};
use super::openapi::Problem;
use super::ApiState;
use app::accounts::domain::{DisplayName, Email, Password, User};
use app::accounts::ssr::{self as accounts, Identity};
use app::cart::domain::{Cart, Order};
use app::cart::ssr::{self as carts, CartOwner};
use app::catalog::domain::{parse_search, Product};
use app::catalog::ssr as catalog;
use app::shared::{AppError, Quantity, Sku};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The operations of this module for the OpenAPI document (see `openapi.rs`).
#[derive(OpenApi)]
#[openapi(paths(
    list_products,
    get_product,
    put_inventory,
    super::prices::stream,
    get_cart,
    add_cart_item,
    remove_cart_item,
    checkout,
    register,
    login,
    logout,
    me,
    admin_list_pricing_rules,
    admin_put_pricing_rules,
    admin_delete_pricing_rules
))]
pub(super) struct Doc;

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/openapi.json", get(super::openapi::openapi_json))
        .route("/products", get(list_products))
        .route("/products/{sku}", get(get_product))
        .route("/inventory/{sku}", put(put_inventory))
        .route("/prices/stream", get(super::prices::stream))
        .route("/cart", get(get_cart))
        .route("/cart/items", post(add_cart_item))
        .route("/cart/items/{sku}", delete(remove_cart_item))
        .route("/checkout", post(checkout))
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/me", get(me))
        .route("/events", post(super::experiments::post_events))
        .route("/experiments", get(super::experiments::list_experiments))
        .route("/experiments/{key}/results", get(super::experiments::experiment_results))
        .route("/admin/experiments", get(super::experiments::admin_list_experiments))
        .route("/admin/experiments/{key}", put(super::experiments::admin_put_experiment))
        .route("/admin/pricing/rules", get(admin_list_pricing_rules))
        .route("/admin/pricing/rules/{scope}", put(admin_put_pricing_rules).delete(admin_delete_pricing_rules))
        .merge(super::plans::router())
        .merge(super::loyalty::router())
        .merge(super::referrals::router())
        .merge(super::insights::router())
        .merge(super::reviews::router())
        .merge(super::community::router())
        .merge(super::recommendations::router())
        .merge(super::analytics::router())
        .merge(super::flags::router())
        .merge(super::pricing_signals::router())
        .fallback(not_found)
}

/// A list answer: `{ "items": [...] }` (cursor pagination arrives with lists that need it).
#[derive(Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("No such API route.")
}

pub(super) fn parse_sku(raw: &str) -> Result<Sku, ApiError> {
    Sku::parse(raw).map_err(|_| {
        ApiError::not_found(format!("No product with SKU '{}'.", raw.chars().take(40).collect::<String>()))
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// A category's slug.
    category: Option<String>,
    /// Search words (plan feature `basic_search`).
    q: Option<String>,
    /// The filters below need the plan feature `advanced_filters`.
    min_price_cents: Option<String>,
    max_price_cents: Option<String>,
    min_rating: Option<String>,
    in_stock: Option<String>,
    /// `name`, `price_asc`, `price_desc`, `rating`, `popular` or `newest`.
    sort: Option<String>,
}

/// `GET /products`: `q` needs `basic_search`; price range, `min_rating`, `in_stock` and a
/// `sort` other than `name` need `advanced_filters`.
#[utoipa::path(get, path = "/products", tag = "catalog", params(ProductQuery), security((), ("session" = [])), responses((status = 200, description = "The products, by name unless sorted otherwise.", body = Items<Product>)))]
#[tracing::instrument(name = "api.list_products", skip(state, identity))]
async fn list_products(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Query(query): Query<ProductQuery>,
) -> Result<Json<Items<Product>>, ApiError> {
    use app::plans::domain::Feature;
    use app::plans::ssr::ensure;
    let entitlements = app::plans::ssr::require(&state.app, &identity, Feature::ViewProducts).await?;
    let search = parse_search(query.q.as_deref());
    if search.is_some() {
        ensure(&state.app, &entitlements, Feature::BasicSearch).await?;
    }
    let filters = app::catalog::domain::FilterQuery {
        min_price_cents: query.min_price_cents,
        max_price_cents: query.max_price_cents,
        min_rating: query.min_rating,
        in_stock: query.in_stock,
        sort: query.sort,
        ..Default::default()
    }
    .parse()?;
    if !filters.is_empty() {
        ensure(&state.app, &entitlements, Feature::AdvancedFilters).await?;
    }
    let category = query.category.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let items = catalog::list_products(&state.app.db, category, search.as_deref(), &filters).await?;
    Ok(Json(Items { items, next_cursor: None }))
}

#[utoipa::path(get, path = "/products/{sku}", tag = "catalog", params(("sku" = String, Path, description = "The product's SKU.")), security((), ("session" = [])), responses((status = 200, description = "The product.", body = Product), (status = 404, description = "No such product.", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(name = "api.get_product", skip(state, identity))]
async fn get_product(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(sku): Path<String>,
) -> Result<Json<Product>, ApiError> {
    app::plans::ssr::require(&state.app, &identity, app::plans::domain::Feature::ViewProducts).await?;
    let sku = parse_sku(&sku)?;
    Ok(Json(catalog::get_product(&state.app.db, &sku).await?))
}

#[derive(Deserialize, ToSchema)]
struct InventoryUpdate {
    /// Units in stock.
    stock: i64,
}

/// The inventory service's webhook. Constant-time token comparison; 401 without a valid
/// bearer token, before the body is even looked at.
#[utoipa::path(put, path = "/inventory/{sku}", tag = "catalog", params(("sku" = String, Path, description = "The product's SKU.")), request_body = InventoryUpdate, security(("inventory_token" = [])), responses((status = 200, description = "The product with its new stock and price.", body = Product), (status = 404, description = "No such product.", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(name = "api.put_inventory", skip(state, headers, body))]
async fn put_inventory(
    State(state): State<ApiState>,
    Path(sku): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Product>, ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !constant_time_eq(presented.as_bytes(), state.inventory_token.as_bytes()) {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "A valid inventory bearer token is required."));
    }
    let update: InventoryUpdate = serde_json::from_slice(&body).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "The body must be JSON like {\"stock\": 12}.")
        } else {
            ApiError::unprocessable(format!("Invalid body: {e}"))
        }
    })?;
    let sku = parse_sku(&sku)?;
    Ok(Json(catalog::set_stock(&state.app.db, &sku, update.stock).await?))
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || b.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[utoipa::path(get, path = "/cart", tag = "cart", security((), ("session" = [])), responses((status = 200, description = "The caller's cart (a visitor's, or the logged-in shopper's).", body = Cart)))]
async fn get_cart(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Cart>, ApiError> {
    Ok(Json(carts::get_cart(&state.app.db, &CartOwner::of(&identity)).await?))
}

#[derive(Deserialize, ToSchema)]
struct AddCartItem {
    #[schema(value_type = String, min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9-]+$")]
    sku: Sku,
    #[schema(value_type = i64, minimum = 1, maximum = 999)]
    quantity: Quantity,
}

#[utoipa::path(post, path = "/cart/items", tag = "cart", request_body = AddCartItem, security((), ("session" = [])), responses((status = 200, description = "The cart with the item added.", body = Cart), (status = 404, description = "No such product.", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not enough in stock.", body = Problem, content_type = "application/problem+json")))]
async fn add_cart_item(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    ApiJson(body): ApiJson<AddCartItem>,
) -> Result<Json<Cart>, ApiError> {
    Ok(Json(
        carts::add_item(&state.app.db, &CartOwner::of(&identity), &identity.visitor_id, &body.sku, body.quantity)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/cart/items/{sku}", tag = "cart", params(("sku" = String, Path, description = "The product's SKU.")), security((), ("session" = [])), responses((status = 200, description = "The cart without that product.", body = Cart)))]
async fn remove_cart_item(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(sku): Path<String>,
) -> Result<Json<Cart>, ApiError> {
    let sku = parse_sku(&sku)?;
    Ok(Json(carts::remove_item(&state.app.db, &CartOwner::of(&identity), &sku).await?))
}

#[derive(Deserialize, ToSchema)]
struct CheckoutRequest {
    /// The total the shopper was shown; checkout refuses (409) when it moved.
    expected_total_cents: i64,
    /// Points to pay with (100 points = 1.00), at most half of the order.
    #[serde(default)]
    redeem_points: i64,
}

#[utoipa::path(post, path = "/checkout", tag = "cart", request_body = CheckoutRequest, security(("session" = [])), responses((status = 201, description = "The order.", body = Order), (status = 409, description = "The total moved (`total_cents` is the new one), or stock ran out; nothing was charged.", body = Problem, content_type = "application/problem+json")))]
async fn checkout(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    assignments: Option<Extension<app::experiments::ssr::RequestAssignments>>,
    ApiJson(body): ApiJson<CheckoutRequest>,
) -> Result<(StatusCode, Json<Order>), ApiError> {
    let user = identity.require_user()?;
    if body.redeem_points > 0 {
        let assignments = assignments.map(|ext| ext.0 .0).unwrap_or_default();
        let flag = app::flags::domain::keys::POINTS_REDEMPTION;
        if !app::flags::ssr::is_on(&state.app, &identity, assignments, flag).await? {
            return Err(AppError::invalid("redeem_points", "Paying with points is switched off.").into());
        }
    }
    let order = carts::checkout(
        &state.app.db,
        &state.app.loyalty,
        user.id,
        &identity.visitor_id,
        body.expected_total_cents,
        body.redeem_points,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(order)))
}

#[derive(Deserialize, ToSchema)]
struct RegisterRequest {
    email: String,
    password: String,
    display_name: String,
}

fn form_error(error: app::accounts::domain::FormError) -> ApiError {
    AppError::invalid(error.field(), error.message()).into()
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[utoipa::path(post, path = "/auth/register", tag = "accounts", request_body = RegisterRequest, security((), ("session" = [])), responses((status = 201, description = "The new account, logged in (the session cookie is set).", body = User), (status = 409, description = "That e-mail address already has an account.", body = Problem, content_type = "application/problem+json")))]
async fn register(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<Response, ApiError> {
    if let Err(seconds) = state.app.rate_limits.check_registration(identity.client_ip) {
        metrics::counter!("mercato_registrations_rate_limited_total").increment(1);
        return Err(ApiError::too_many(format!("Too many registrations; try again in {seconds} seconds."), seconds));
    }
    let email = Email::parse(&body.email).map_err(form_error)?;
    let display_name = DisplayName::parse(&body.display_name).map_err(form_error)?;
    let password = Password::parse(&body.password, Some(&email)).map_err(form_error)?;
    let referral_code = identity.referral_code.as_deref();
    let (user, token) = accounts::register(
        &state.app.db,
        &email,
        &display_name,
        &password,
        &identity.visitor_id,
        referral_code,
        &state.app.loyalty,
        identity.session_token.as_deref(),
    )
    .await?;
    let response = (StatusCode::CREATED, Json(user)).into_response();
    let response = with_cookie(response, &accounts::session_cookie(&token, state.app.secure_cookies));
    Ok(match referral_code {
        Some(_) => with_cookie(response, &app::loyalty::referrals::clear_referral_cookie(state.app.secure_cookies)),
        None => response,
    })
}

#[derive(Deserialize, ToSchema)]
struct LoginRequest {
    email: String,
    password: String,
}

#[utoipa::path(post, path = "/auth/login", tag = "accounts", request_body = LoginRequest, security((), ("session" = [])), responses((status = 200, description = "The account, logged in (the session cookie is set).", body = User), (status = 401, description = "That e-mail and password do not match.", body = Problem, content_type = "application/problem+json")))]
async fn login(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    if let Err(seconds) = state.app.rate_limits.check_login(identity.client_ip) {
        metrics::counter!("mercato_logins_rate_limited_total").increment(1);
        return Err(ApiError::too_many(format!("Too many login attempts; try again in {seconds} seconds."), seconds));
    }
    let email = Email::parse(&body.email).map_err(form_error)?;
    let limits = &state.app.rate_limits.limits;
    let previous = identity.session_token.as_deref();
    let (user, token) = accounts::login(&state.app.db, &email, &body.password, &identity.visitor_id, limits, previous)
        .await
        .map_err(|error| match error {
            AppError::Unauthorized => ApiError::new(StatusCode::UNAUTHORIZED, "That e-mail and password do not match."),
            AppError::TooManyRequests { retry_after_secs } => ApiError::too_many(
                format!("Too many wrong passwords for this account; try again in {retry_after_secs} seconds."),
                retry_after_secs,
            ),
            other => other.into(),
        })?;
    let response = Json(user).into_response();
    Ok(with_cookie(response, &accounts::session_cookie(&token, state.app.secure_cookies)))
}

#[utoipa::path(post, path = "/auth/logout", tag = "accounts", security((), ("session" = [])), responses((status = 204, description = "Logged out (the session cookie is cleared).")))]
async fn logout(State(state): State<ApiState>, Extension(identity): Extension<Identity>) -> Result<Response, ApiError> {
    if let Some(token) = identity.session_token.as_deref() {
        accounts::logout(&state.app.db, token).await?;
    }
    let response = StatusCode::NO_CONTENT.into_response();
    Ok(with_cookie(response, &accounts::clear_session_cookie(state.app.secure_cookies)))
}

#[utoipa::path(get, path = "/me", tag = "accounts", security(("session" = [])), responses((status = 200, description = "The logged-in account.", body = User)))]
async fn me(Extension(identity): Extension<Identity>) -> Result<Json<User>, ApiError> {
    Ok(Json(identity.require_user()?.clone()))
}

/// How long `/healthz` waits for the database before it answers 503.
///
/// **Rationale:** while PostgreSQL is down, the pool keeps retrying a refused connection
/// until its acquire timeout (30 s); a load balancer's probe gives up long before that, so
/// the check must answer "unhealthy" in about a second, not hang.
const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// `GET /healthz`: 200 when the database answers, 503 otherwise (also when it does not
/// answer within [`HEALTH_TIMEOUT`]).
pub async fn healthz(State(state): State<ApiState>) -> Response {
    let probe = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(state.app.db.pool());
    let error = match tokio::time::timeout(HEALTH_TIMEOUT, probe).await {
        Ok(Ok(_)) => return (StatusCode::OK, Json(serde_json::json!({ "status": "ok" }))).into_response(),
        Ok(Err(error)) => error.to_string(),
        Err(_) => format!("no answer within {HEALTH_TIMEOUT:?}"),
    };
    tracing::error!(%error, "health check failed");
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "The database is not reachable.").into_response()
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<ApiState>) -> Response {
    if let Ok(pending) = app::events::worker::pending(&state.app.db).await {
        metrics::gauge!("mercato_outbox_pending").set(pending as f64);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

#[derive(Serialize, ToSchema)]
struct ScopedRules {
    scope: String,
    rules: app::pricing::domain::RuleSet,
}

/// `GET /admin/pricing/rules`: every saved rule set (the shop-wide one first).
#[utoipa::path(get, path = "/admin/pricing/rules", tag = "pricing", security(("session" = ["admin"])), responses((status = 200, description = "The saved rule sets.", body = Items<ScopedRules>)))]
async fn admin_list_pricing_rules(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Items<ScopedRules>>, ApiError> {
    use sqlx::Row;
    identity.require_admin()?;
    let rows = sqlx::query("SELECT scope, rules FROM pricing_rules ORDER BY scope <> 'global', scope")
        .fetch_all(state.app.db.pool())
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let raw: String = row.try_get("rules")?;
        if let Ok(rules) = serde_json::from_str(&raw) {
            items.push(ScopedRules { scope: row.try_get("scope")?, rules });
        }
    }
    Ok(Json(Items { items, next_cursor: None }))
}

fn parse_scope(raw: &str) -> Result<app::pricing::ssr::Scope, ApiError> {
    app::pricing::ssr::Scope::parse(raw)
        .ok_or_else(|| ApiError::not_found("Scopes are 'global', 'category:<slug>' or 'product:<sku>'."))
}

/// `PUT /admin/pricing/rules/{scope}` with a rule set: saves it and reprices the scope.
#[utoipa::path(put, path = "/admin/pricing/rules/{scope}", tag = "pricing", params(("scope" = String, Path, description = "`global`, `category:<slug>` or `product:<sku>`.")), request_body = app::pricing::domain::RuleSet, security(("session" = ["admin"])), responses((status = 200, description = "The saved rule set.", body = ScopedRules), (status = 404, description = "No such scope.", body = Problem, content_type = "application/problem+json")))]
async fn admin_put_pricing_rules(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(scope): Path<String>,
    ApiJson(rules): ApiJson<app::pricing::domain::RuleSet>,
) -> Result<Json<ScopedRules>, ApiError> {
    let admin = identity.require_admin()?;
    let scope = parse_scope(&scope)?;
    app::pricing::ssr::save_rules(&state.app.db, &scope, &rules, Some(admin.id)).await?;
    Ok(Json(ScopedRules { scope: scope.key(), rules }))
}

/// `DELETE /admin/pricing/rules/{scope}`: removes a category or product override.
#[utoipa::path(delete, path = "/admin/pricing/rules/{scope}", tag = "pricing", params(("scope" = String, Path, description = "`category:<slug>` or `product:<sku>`.")), security(("session" = ["admin"])), responses((status = 204, description = "The override is removed."), (status = 404, description = "No such scope.", body = Problem, content_type = "application/problem+json")))]
async fn admin_delete_pricing_rules(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(scope): Path<String>,
) -> Result<StatusCode, ApiError> {
    let admin = identity.require_admin()?;
    let scope = parse_scope(&scope)?;
    app::pricing::ssr::delete_rules(&state.app.db, &scope, Some(admin.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
