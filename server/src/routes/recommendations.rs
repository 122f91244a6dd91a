//! Recommendations over JSON (`GET /recommendations?sku=&kind=&limit=`) and the click
//! counter every recommendation link goes through (`GET /rec/{kind}/{sku}?from=`), which
//! records `recommendation_clicked` and redirects to the product.

use super::api::Items;
use super::error::ApiError;
use super::openapi::Problem;
use super::ApiState;
use app::accounts::ssr::Identity;
use app::catalog::domain::Product;
use app::plans::domain::Feature;
use app::recommendations::domain::Kind;
use app::recommendations::ssr::{recommend, Viewer};
use app::shared::{AppError, Sku};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

/// The operations of this module for the OpenAPI document (see `openapi.rs`).
#[derive(OpenApi)]
#[openapi(paths(recommendations))]
pub(super) struct Doc;

pub fn router() -> Router<ApiState> {
    Router::new().route("/recommendations", get(recommendations))
}

/// Routes outside `/api/v1`.
pub fn click_router() -> Router<ApiState> {
    Router::new().route("/rec/{kind}/{sku}", get(click))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RecommendationQuery {
    /// `upsell`, `cross_sell`, `frequently_bought_together` or `for_you`.
    kind: Option<String>,
    /// The product the recommendations are for (all kinds but `for_you`).
    sku: Option<String>,
    /// 1 to 50 (8 by default).
    limit: Option<i64>,
}

/// Upsell, cross-sell and frequently-bought-together around `sku` (anyone); `for_you` for
/// the logged-in shopper whose plan includes personalized recommendations.
#[utoipa::path(get, path = "/recommendations", tag = "recommendations", params(RecommendationQuery), security((), ("session" = [])), responses((status = 200, description = "Recommended products, best first.", body = Items<Product>), (status = 403, description = "`for_you` without a plan that includes it.", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such product.", body = Problem, content_type = "application/problem+json")))]
async fn recommendations(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    assignments: Option<Extension<app::experiments::ssr::RequestAssignments>>,
    Query(query): Query<RecommendationQuery>,
) -> Result<Json<Items<Product>>, ApiError> {
    let limit = query.limit.unwrap_or(8);
    if !(1..=50).contains(&limit) {
        return Err(AppError::invalid("limit", "Ask for 1 to 50 recommendations.").into());
    }
    let kind = match query.kind.as_deref() {
        Some(raw) => Kind::parse(raw).ok_or_else(|| {
            AppError::invalid("kind", "Use upsell, cross_sell, frequently_bought_together or for_you.")
        })?,
        None => return Err(AppError::invalid("kind", "Say which kind of recommendation.").into()),
    };
    let sku = match query.sku.as_deref() {
        Some(raw) => Some(super::api::parse_sku(raw)?),
        None => None,
    };
    if kind == Kind::FrequentlyBoughtTogether {
        let assignments = assignments.map(|ext| ext.0 .0).unwrap_or_default();
        let flag = app::flags::domain::keys::FREQUENTLY_BOUGHT_TOGETHER;
        if !app::flags::ssr::is_on(&state.app, &identity, assignments, flag).await? {
            // Switched off (flag): no such block anywhere, so none here either.
            return Ok(Json(Items { items: Vec::new(), next_cursor: None }));
        }
    }
    if kind == Kind::ForYou {
        super::plans::require_account_feature(&state, &identity, Feature::PersonalizedRecommendations).await?;
    } else if let Some(sku) = &sku {
        app::catalog::ssr::get_product(&state.app.db, sku).await?;
    }
    let viewer = Viewer::of(&identity);
    let items =
        recommend(&state.app.db, &state.app.recommendations, kind, sku.as_ref().map(Sku::as_str), &viewer, limit)
            .await?;
    Ok(Json(Items { items, next_cursor: None }))
}

#[derive(Deserialize)]
struct ClickQuery {
    from: Option<String>,
}

/// Counts the click, then sends the browser on to the product (303).
async fn click(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path((kind, sku)): Path<(String, String)>,
    Query(query): Query<ClickQuery>,
) -> Result<Response, ApiError> {
    let kind = Kind::parse(&kind).ok_or_else(|| ApiError::not_found("No such recommendation."))?;
    let sku = Sku::parse(&sku).map_err(|_| ApiError::not_found("No such product."))?;
    let from: String =
        query.from.unwrap_or_default().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(40).collect();
    state.app.events.publish(
        app::events::kind::RECOMMENDATION_CLICKED,
        sku.as_str().to_string(),
        serde_json::json!({ "kind": kind.key(), "sku": sku.as_str(), "from": from, "visitor_id": identity.visitor_id }),
    );
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, format!("/products/{}", sku.as_str()))]).into_response())
}
