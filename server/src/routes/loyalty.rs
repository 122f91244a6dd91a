//! Loyalty over JSON: `/me/points` (`{ "balance", "pending", "tier" }`), `/me/points/ledger`,
//! `/me/badges`, `/me/challenges`, `/leaderboard?period=week|month|all`, and the owner's
//! `/admin/orders/{id}/{fulfil|cancel|refund}` and `/admin/points/adjust`.

use super::api::Items;
use super::error::{ApiError, ApiJson};
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

async fn my_points(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<PointsSummary>, ApiError> {
    let user = identity.require_user()?;
    Ok(Json(loyalty::summary(&state.app.db, user.id).await?))
}

#[derive(Deserialize)]
struct Page {
    cursor: Option<String>,
    limit: Option<i64>,
}

/// Newest first; `next_cursor` pages back in time.
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

async fn my_badges(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Items<Badge>>, ApiError> {
    let user = identity.require_user()?;
    let items =
        loyalty::badges(&state.app.db, Some(user.id)).await?.into_iter().filter(|b| b.awarded_at.is_some()).collect();
    Ok(Json(Items { items, next_cursor: None }))
}

async fn my_challenges(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Items<Challenge>>, ApiError> {
    let user = identity.require_user()?;
    Ok(Json(Items { items: loyalty::challenges(&state.app.db, Some(user.id)).await?, next_cursor: None }))
}

#[derive(Deserialize)]
struct LeaderboardQuery {
    period: Option<String>,
}

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Adjustment {
    user_id: i64,
    delta: i64,
    reason: String,
}

async fn admin_adjust(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    ApiJson(body): ApiJson<Adjustment>,
) -> Result<Json<PointsSummary>, ApiError> {
    let admin = identity.require_admin()?;
    loyalty::adjust(&state.app.db, body.user_id, body.delta, &body.reason, admin.id).await?;
    Ok(Json(loyalty::summary(&state.app.db, body.user_id).await?))
}
