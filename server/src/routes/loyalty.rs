//! Loyalty over JSON: `/me/points` (`{ "balance", "pending", "tier" }`), `/me/points/ledger`,
//! `/me/badges`, `/me/challenges`, `/leaderboard?period=week|month|all`, and the owner's
//! `/admin/orders/{id}/{fulfil|cancel|refund}` and `/admin/points/adjust`.

use super::api::Items;
use super::error::{ApiError, ApiJson};
use super::openapi::Problem;
use super::ApiState;
use app::accounts::ssr::Identity;
use app::loyalty::domain::{Badge, Challenge, LeaderboardEntry, LedgerRow, Period};
use app::loyalty::ssr::{self as loyalty, PointsSummary};
use app::shared::AppError;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The operations of this module for the OpenAPI document (see `openapi.rs`).
#[derive(OpenApi)]
#[openapi(paths(my_points, my_ledger, my_badges, my_challenges, leaderboard, admin_order_action, admin_adjust))]
pub(super) struct Doc;

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/me/points", get(my_points))
        .route("/me/points/ledger", get(my_ledger))
        .route("/me/badges", get(my_badges))
        .route("/me/challenges", get(my_challenges))
        .route("/leaderboard", get(leaderboard))
        .route("/admin/orders/{id}/{action}", post(admin_order_action))
        .route("/admin/points/adjust", post(admin_adjust))
}

#[utoipa::path(get, path = "/me/points", tag = "loyalty", security(("session" = [])), responses((status = 200, description = "The shopper's balance, pending points and tier.", body = PointsSummary)))]
async fn my_points(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<PointsSummary>, ApiError> {
    let user = identity.require_user()?;
    Ok(Json(loyalty::summary(&state.app.db, user.id).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Page {
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Rows per page: 1 to 200 (50 by default).
    limit: Option<i64>,
}

/// Newest first; `next_cursor` pages back in time.
#[utoipa::path(get, path = "/me/points/ledger", tag = "loyalty", params(Page), security(("session" = [])), responses((status = 200, description = "The points history, newest first.", body = Items<LedgerRow>)))]
async fn my_ledger(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Query(page): Query<Page>,
) -> Result<Json<Items<LedgerRow>>, ApiError> {
    let user = identity.require_user()?;
    let limit = page.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::invalid("limit", "Ask for 1 to 200 rows.").into());
    }
    let before = match page.cursor.as_deref() {
        None => None,
        Some(raw) => {
            Some(raw.parse::<i64>().map_err(|_| AppError::invalid("cursor", "Use the next_cursor of the last page."))?)
        }
    };
    let items = loyalty::ledger(&state.app.db, user.id, before, limit).await?;
    let next_cursor = (items.len() as i64 == limit).then(|| items.last().map(|row| row.id.to_string())).flatten();
    Ok(Json(Items { items, next_cursor }))
}

#[utoipa::path(get, path = "/me/badges", tag = "loyalty", security(("session" = [])), responses((status = 200, description = "The badges the shopper was awarded.", body = Items<Badge>)))]
async fn my_badges(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Items<Badge>>, ApiError> {
    let user = identity.require_user()?;
    let items =
        loyalty::badges(&state.app.db, Some(user.id)).await?.into_iter().filter(|b| b.awarded_at.is_some()).collect();
    Ok(Json(Items { items, next_cursor: None }))
}

#[utoipa::path(get, path = "/me/challenges", tag = "loyalty", security(("session" = [])), responses((status = 200, description = "Running challenges with the shopper's progress.", body = Items<Challenge>)))]
async fn my_challenges(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Items<Challenge>>, ApiError> {
    let user = identity.require_user()?;
    Ok(Json(Items { items: loyalty::challenges(&state.app.db, Some(user.id)).await?, next_cursor: None }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LeaderboardQuery {
    /// `week` (the default), `month` or `all`.
    period: Option<String>,
}

#[utoipa::path(get, path = "/leaderboard", tag = "loyalty", params(LeaderboardQuery), security((), ("session" = [])), responses((status = 200, description = "The top shoppers by points earned in the period.", body = Items<LeaderboardEntry>)))]
async fn leaderboard(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Query(query): Query<LeaderboardQuery>,
) -> Result<Json<Items<LeaderboardEntry>>, ApiError> {
    let period = match query.period.as_deref() {
        None => Period::Week,
        Some(raw) => Period::parse(raw).ok_or_else(|| AppError::invalid("period", "Use week, month or all."))?,
    };
    let items = loyalty::leaderboard(&state.app.db, period, identity.user.as_ref().map(|u| u.id), 20).await?;
    Ok(Json(Items { items, next_cursor: None }))
}

#[utoipa::path(post, path = "/admin/orders/{id}/{action}", tag = "loyalty", params(("id" = i64, Path, description = "The order's id."), ("action" = String, Path, description = "`fulfil`, `cancel` or `refund`.")), security(("session" = ["admin"])), responses((status = 204, description = "Done."), (status = 404, description = "No such order or action.", body = Problem, content_type = "application/problem+json"), (status = 409, description = "The order's status does not allow it.", body = Problem, content_type = "application/problem+json")))]
async fn admin_order_action(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path((id, action)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let admin = identity.require_admin()?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found("No such order."))?;
    let action = app::cart::ssr::OrderAction::parse(&action)
        .ok_or_else(|| ApiError::not_found("Order actions are fulfil, cancel and refund."))?;
    app::cart::ssr::order_action(&state.app.db, id, action, admin.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Adjustment {
    user_id: i64,
    delta: i64,
    reason: String,
}

#[utoipa::path(post, path = "/admin/points/adjust", tag = "loyalty", request_body = Adjustment, security(("session" = ["admin"])), responses((status = 200, description = "The customer's points after the adjustment.", body = PointsSummary)))]
async fn admin_adjust(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    ApiJson(body): ApiJson<Adjustment>,
) -> Result<Json<PointsSummary>, ApiError> {
    let admin = identity.require_admin()?;
    loyalty::adjust(&state.app.db, body.user_id, body.delta, &body.reason, admin.id).await?;
    Ok(Json(loyalty::summary(&state.app.db, body.user_id).await?))
}
