//! Plans, subscriptions and the features plans sell, over JSON: `/plans`, `/me/entitlements`,
//! `/me/subscription`, `/me/invoices`, `/me/wishlist`, `/me/support-requests`, and the
//! owner's `/admin/plans`, `/admin/invoices`,
//! `/admin/support-requests`. A feature the caller's plan lacks answers 403 problem+json
//! with `feature` and `required_plan`.

use super::api::Items;
use super::error::{ApiError, ApiJson};
use super::openapi::Problem;
use super::ApiState;
use app::accounts::ssr::Identity;
use app::plans::domain::{validate_plan_edit, Entitlements, Feature, InvoiceRow, Plan, SubscriptionView, VersionStats};
use app::plans::ssr::{self as plans, ChangeOutcome};
use app::plans::support::{store as support, NewRequest, SupportRequest};
use app::plans::wishlist::{store as wishlist, WishlistItem};
use app::shared::{AppError, Sku};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

/// The operations of this module for the OpenAPI document (see `openapi.rs`).
#[derive(OpenApi)]
#[openapi(paths(
    list_plans,
    my_entitlements,
    my_subscription,
    change_subscription,
    my_invoices,
    my_wishlist,
    add_to_wishlist,
    remove_from_wishlist,
    my_support_requests,
    create_support_request,
    admin_plans,
    admin_put_plan,
    admin_open_invoices,
    admin_mark_paid,
    admin_support_queue
))]
pub(super) struct Doc;

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/plans", get(list_plans))
        .route("/me/entitlements", get(my_entitlements))
        .route("/me/subscription", get(my_subscription).post(change_subscription))
        .route("/me/invoices", get(my_invoices))
        .route("/me/wishlist", get(my_wishlist).post(add_to_wishlist))
        .route("/me/wishlist/{sku}", delete(remove_from_wishlist))
        .route("/me/support-requests", get(my_support_requests).post(create_support_request))
        .route("/admin/plans", get(admin_plans))
        .route("/admin/plans/{key}", put(admin_put_plan))
        .route("/admin/invoices", get(admin_open_invoices))
        .route("/admin/invoices/{id}/paid", post(admin_mark_paid))
        .route("/admin/support-requests", get(admin_support_queue))
}

/// `GET /plans`: every plan at its current version (the one sold today).
#[utoipa::path(get, path = "/plans", tag = "plans", responses((status = 200, description = "The plans on sale, cheapest first.", body = Items<Plan>)))]
async fn list_plans(State(state): State<ApiState>) -> Result<Json<Items<Plan>>, ApiError> {
    let plans = state.app.plans.plans(&state.app.db).await?;
    Ok(Json(Items { items: plans.as_ref().clone(), next_cursor: None }))
}

/// `GET /me/entitlements`: `{ "plan", "features" }` of the caller (a visitor: the free plan's).
#[utoipa::path(get, path = "/me/entitlements", tag = "plans", security((), ("session" = [])), responses((status = 200, description = "The caller's plan and features (a visitor has the free plan's).", body = Entitlements)))]
async fn my_entitlements(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Entitlements>, ApiError> {
    Ok(Json(plans::entitlements(&state.app, &identity).await?))
}

#[derive(Serialize, ToSchema)]
struct MySubscription {
    #[serde(flatten)]
    subscription: SubscriptionView,
    entitlements: Entitlements,
}

#[utoipa::path(get, path = "/me/subscription", tag = "plans", security(("session" = [])), responses((status = 200, description = "The shopper's subscription and what it entitles to.", body = MySubscription)))]
async fn my_subscription(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<MySubscription>, ApiError> {
    let user = identity.require_user()?;
    let subscription = plans::subscription_view(&state.app.db, user.id).await?;
    let entitlements = plans::entitlements(&state.app, &identity).await?;
    Ok(Json(MySubscription { subscription, entitlements }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PlanChoice {
    plan: String,
}

/// `POST /me/subscription` `{ "plan" }`: subscribe, upgrade (now, prorated), downgrade or
/// cancel (at the period end), or resume.
#[utoipa::path(post, path = "/me/subscription", tag = "plans", request_body = PlanChoice, security(("session" = [])), responses((status = 200, description = "What changed: at once for an upgrade, at the end of the period otherwise.", body = ChangeOutcome)))]
async fn change_subscription(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    ApiJson(body): ApiJson<PlanChoice>,
) -> Result<Json<ChangeOutcome>, ApiError> {
    let user = identity.require_user()?;
    let known = state.app.plans.plans(&state.app.db).await?;
    if !known.iter().any(|plan| plan.key == body.plan) {
        let keys = known.iter().map(|plan| plan.key.as_str()).collect::<Vec<_>>().join(", ");
        return Err(AppError::invalid("plan", format!("Choose one of: {keys}.")).into());
    }
    Ok(Json(plans::change_plan(&state.app.db, state.app.payments.as_ref(), user.id, Some(user.id), &body.plan).await?))
}

#[utoipa::path(get, path = "/me/invoices", tag = "plans", security(("session" = [])), responses((status = 200, description = "The shopper's invoices, newest first.", body = Items<InvoiceRow>)))]
async fn my_invoices(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Items<InvoiceRow>>, ApiError> {
    let user = identity.require_user()?;
    Ok(Json(Items { items: plans::invoices(&state.app.db, Some(user.id), 100).await?, next_cursor: None }))
}

/// Logged in, and the plan includes `feature`.
pub(super) async fn require_account_feature(
    state: &ApiState,
    identity: &Identity,
    feature: Feature,
) -> Result<i64, ApiError> {
    let user_id = identity.require_user()?.id;
    plans::require(&state.app, identity, feature).await?;
    Ok(user_id)
}

#[utoipa::path(get, path = "/me/wishlist", tag = "plans", security(("session" = [])), responses((status = 200, description = "The wishlist (plan feature `wishlist`).", body = Items<WishlistItem>), (status = 403, description = "The plan lacks `wishlist`.", body = Problem, content_type = "application/problem+json")))]
async fn my_wishlist(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Items<WishlistItem>>, ApiError> {
    let user_id = require_account_feature(&state, &identity, Feature::Wishlist).await?;
    Ok(Json(Items { items: wishlist::list(&state.app.db, user_id).await?, next_cursor: None }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct WishlistAdd {
    #[schema(value_type = String, min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9-]+$")]
    sku: Sku,
}

#[utoipa::path(post, path = "/me/wishlist", tag = "plans", request_body = WishlistAdd, security(("session" = [])), responses((status = 201, description = "The wishlist with the product on it.", body = Items<WishlistItem>), (status = 403, description = "The plan lacks `wishlist`.", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such product.", body = Problem, content_type = "application/problem+json")))]
async fn add_to_wishlist(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    ApiJson(body): ApiJson<WishlistAdd>,
) -> Result<(StatusCode, Json<Items<WishlistItem>>), ApiError> {
    let user_id = require_account_feature(&state, &identity, Feature::Wishlist).await?;
    wishlist::add(&state.app.db, user_id, &body.sku).await?;
    Ok((StatusCode::CREATED, Json(Items { items: wishlist::list(&state.app.db, user_id).await?, next_cursor: None })))
}

#[utoipa::path(delete, path = "/me/wishlist/{sku}", tag = "plans", params(("sku" = String, Path, description = "The product's SKU.")), security(("session" = [])), responses((status = 204, description = "Removed."), (status = 404, description = "That product is not on the wishlist.", body = Problem, content_type = "application/problem+json")))]
async fn remove_from_wishlist(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(sku): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user_id = require_account_feature(&state, &identity, Feature::Wishlist).await?;
    let sku = Sku::parse(&sku).map_err(|_| ApiError::not_found("That product is not on your wishlist."))?;
    if wishlist::remove(&state.app.db, user_id, &sku).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("That product is not on your wishlist."))
    }
}

#[utoipa::path(get, path = "/me/support-requests", tag = "plans", security(("session" = [])), responses((status = 200, description = "The shopper's support requests.", body = Items<SupportRequest>)))]
async fn my_support_requests(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Items<SupportRequest>>, ApiError> {
    let user = identity.require_user()?;
    Ok(Json(Items { items: support::list(&state.app.db, Some(user.id), 100).await?, next_cursor: None }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SupportBody {
    subject: String,
    body: String,
    /// Ask for priority handling; needs `priority_support` (premium accounts get it anyway).
    #[serde(default)]
    priority: bool,
}

#[derive(Serialize, ToSchema)]
struct Created {
    id: i64,
    priority: bool,
}

#[utoipa::path(post, path = "/me/support-requests", tag = "plans", request_body = SupportBody, security(("session" = [])), responses((status = 201, description = "The request is filed.", body = Created), (status = 403, description = "Priority asked for without `priority_support`.", body = Problem, content_type = "application/problem+json")))]
async fn create_support_request(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    ApiJson(body): ApiJson<SupportBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let user = identity.require_user()?;
    let request = NewRequest::parse(&body.subject, &body.body)?;
    let priority = if body.priority {
        plans::require(&state.app, &identity, Feature::PrioritySupport).await?;
        true
    } else {
        plans::entitlements(&state.app, &identity).await?.has(Feature::PrioritySupport)
    };
    let id = support::create(&state.app.db, user.id, &request, priority).await?;
    Ok((StatusCode::CREATED, Json(Created { id, priority })))
}

#[derive(Serialize, ToSchema)]
struct PlansOverview {
    plans: Vec<Plan>,
    versions: Vec<VersionStats>,
    mrr_cents: i64,
}

#[utoipa::path(get, path = "/admin/plans", tag = "plans", security(("session" = ["admin"])), responses((status = 200, description = "Plans with subscribers and MRR per version.", body = PlansOverview)))]
async fn admin_plans(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<PlansOverview>, ApiError> {
    identity.require_admin()?;
    let plans = state.app.plans.plans(&state.app.db).await?.as_ref().clone();
    let versions = plans::version_stats(&state.app.db).await?;
    let mrr_cents = versions.iter().map(|v| v.mrr_cents).sum();
    Ok(Json(PlansOverview { plans, versions, mrr_cents }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PlanBody {
    name: String,
    price_cents: i64,
    features: Vec<String>,
}

/// `PUT /admin/plans/{key}`: saves a new version of a plan (subscribers keep theirs).
#[utoipa::path(put, path = "/admin/plans/{key}", tag = "plans", params(("key" = String, Path, description = "The plan's key.")), request_body = PlanBody, security(("session" = ["admin"])), responses((status = 200, description = "The plan's new version.", body = Plan), (status = 404, description = "No such plan.", body = Problem, content_type = "application/problem+json")))]
async fn admin_put_plan(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<PlanBody>,
) -> Result<Json<Plan>, ApiError> {
    let admin = identity.require_admin()?;
    let mut features = Vec::with_capacity(body.features.len());
    for raw in &body.features {
        let feature = Feature::parse(raw).ok_or_else(|| {
            AppError::invalid("features", format!("Unknown feature '{}'.", raw.chars().take(40).collect::<String>()))
        })?;
        features.push(feature);
    }
    let edit = validate_plan_edit(&key, &body.name, body.price_cents, &features)?;
    Ok(Json(plans::save_plan(&state.app, &key, &edit, admin.id).await?))
}

#[utoipa::path(get, path = "/admin/invoices", tag = "plans", security(("session" = ["admin"])), responses((status = 200, description = "The shop's invoices, newest first.", body = Items<InvoiceRow>)))]
async fn admin_open_invoices(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Items<InvoiceRow>>, ApiError> {
    identity.require_admin()?;
    Ok(Json(Items { items: plans::invoices(&state.app.db, None, 500).await?, next_cursor: None }))
}

#[utoipa::path(post, path = "/admin/invoices/{id}/paid", tag = "plans", params(("id" = i64, Path, description = "The invoice's id.")), security(("session" = ["admin"])), responses((status = 204, description = "The payment is recorded."), (status = 404, description = "No such invoice.", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Already paid.", body = Problem, content_type = "application/problem+json")))]
async fn admin_mark_paid(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let admin = identity.require_admin()?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found("No such invoice."))?;
    plans::record_payment(&state.app.db, id, Some(admin.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/admin/support-requests", tag = "plans", security(("session" = ["admin"])), responses((status = 200, description = "The support queue, priority requests first.", body = Items<SupportRequest>)))]
async fn admin_support_queue(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Items<SupportRequest>>, ApiError> {
    identity.require_admin()?;
    Ok(Json(Items { items: support::list(&state.app.db, None, 200).await?, next_cursor: None }))
}
