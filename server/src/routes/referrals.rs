//! Referrals over HTTP: the shared link `GET /r/{code}` (counts the click, sets the
//! `mercato_ref` cookie and goes to the home page), `GET /api/v1/me/referral` (the caller's
//! code, link and funnel) and the owner's `GET /api/v1/admin/referrals` (the shop's funnel).

use super::error::ApiError;
use super::ApiState;
use app::accounts::ssr::Identity;
use app::loyalty::domain::{MyReferral, ReferralFunnel};
use app::loyalty::referrals;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use utoipa::OpenApi;

/// The operations of this module for the OpenAPI document (see `openapi.rs`).
#[derive(OpenApi)]
#[openapi(paths(my_referral, admin_funnel))]
pub(super) struct Doc;

pub fn router() -> Router<ApiState> {
    Router::new().route("/me/referral", get(my_referral)).route("/admin/referrals", get(admin_funnel))
}

/// Routes outside `/api/v1`.
pub fn link_router() -> Router<ApiState> {
    Router::new().route("/r/{code}", get(follow_link))
}

/// Always a redirect home, so a mistyped or revoked link still lands somewhere useful; only
/// a known code is counted and remembered.
async fn follow_link(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let known = referrals::record_click(&state.app.db, &code, &identity.visitor_id).await?;
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    if known {
        if let Ok(value) = HeaderValue::from_str(&referrals::referral_cookie(&code, state.app.secure_cookies)) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

#[utoipa::path(get, path = "/me/referral", tag = "loyalty", security(("session" = [])), responses((status = 200, description = "The shopper's referral link and its funnel.", body = MyReferral)))]
async fn my_referral(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<MyReferral>, ApiError> {
    let user = identity.require_user()?;
    Ok(Json(referrals::my_referral(&state.app.db, user.id).await?))
}

#[utoipa::path(get, path = "/admin/referrals", tag = "loyalty", security(("session" = ["admin"])), responses((status = 200, description = "The shop's referral funnel.", body = ReferralFunnel)))]
async fn admin_funnel(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<ReferralFunnel>, ApiError> {
    identity.require_admin()?;
    Ok(Json(referrals::funnel(&state.app.db, None).await?))
}
