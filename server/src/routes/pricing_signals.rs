//! Pricing signals over HTTP: the competitor price import and the owner's simulation.

use super::api::constant_time_eq;
use super::error::{ApiError, ApiJson};
use super::openapi::Problem;
use super::ApiState;
use app::accounts::ssr::Identity;
use app::pricing::offers::{parse_batch, OfferProblem, RawOffer};
use app::pricing::signals::{import_offers, ImportError, ImportSummary};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{post, put};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

/// The operations of this module for the OpenAPI document (see `openapi.rs`).
#[derive(OpenApi)]
#[openapi(paths(put_competitor_prices, simulate))]
pub(super) struct Doc;

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/competitor-prices", put(put_competitor_prices))
        .route("/admin/pricing/simulate", post(simulate))
}

#[derive(Deserialize, ToSchema)]
struct OfferBatch {
    offers: Vec<RawOffer>,
}

/// A refused row as problem+json: 422 with `row` (from 1), `field` (`offers[i].sku`, `i` from
/// 0 as in the JSON array) and the reason.
fn row_problem(problem: OfferProblem) -> ApiError {
    let field = if problem.row == 0 || problem.field == "offers" {
        "offers".to_string()
    } else {
        format!("offers[{}].{}", problem.row - 1, problem.field)
    };
    ApiError::unprocessable(format!("Row {}: {}", problem.row, problem.message))
        .with_extra(serde_json::json!({ "row": problem.row, "field": field }))
}

/// `PUT /competitor-prices` with `{ "offers": [{ "sku", "source", "price_cents", "observed_at" }] }`:
/// the owner's session or the inventory bearer token. Every row is checked before anything
/// is written; the affected products are repriced in the import's transaction.
#[utoipa::path(put, path = "/competitor-prices", tag = "pricing", request_body = OfferBatch, security(("inventory_token" = []), ("session" = ["admin"])), responses((status = 200, description = "What was imported and repriced.", body = ImportSummary), (status = 422, description = "A row is refused (`row`, `field`); nothing is imported.", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(name = "api.put_competitor_prices", skip(state, identity, headers, body))]
async fn put_competitor_prices(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<ImportSummary>, ApiError> {
    // A presented token must be the right one, whoever is logged in; without one, the
    // session must be the owner's (401 anonymous, 403 a shopper).
    let bearer =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    match bearer {
        Some(token) if constant_time_eq(token.as_bytes(), state.inventory_token.as_bytes()) => {}
        Some(_) => return Err(ApiError::new(StatusCode::UNAUTHORIZED, "The bearer token is not valid.")),
        None => {
            identity.require_admin()?;
        }
    }
    let batch: OfferBatch = serde_json::from_slice(&body).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            ApiError::new(StatusCode::BAD_REQUEST, "The body is not valid JSON.")
        } else {
            ApiError::unprocessable(format!("The body must be {{\"offers\": [...]}}: {e}"))
        }
    })?;
    let offers = parse_batch(&batch.offers, app::shared::now_ms()).map_err(row_problem)?;
    match import_offers(&state.app.db, &offers).await {
        Ok(summary) => Ok(Json(summary)),
        Err(ImportError::Row(problem)) => Err(row_problem(problem)),
        Err(ImportError::App(error)) => Err(error.into()),
    }
}

#[derive(Deserialize, ToSchema)]
struct SimulationRequest {
    sku: String,
    rules: app::pricing::domain::RuleSet,
}

/// `POST /admin/pricing/simulate` with `{ "sku", "rules" }`: the last 30 days of the product
/// under the rules in force and under `rules`. Saves nothing.
#[utoipa::path(post, path = "/admin/pricing/simulate", tag = "pricing", request_body = SimulationRequest, security(("session" = ["admin"])), responses((status = 200, description = "The product's last 30 days under the rules in force and under `rules`.", body = app::pricing::api::SimulationReport), (status = 404, description = "No such product.", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(name = "api.simulate_pricing", skip(state, identity, request))]
async fn simulate(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    ApiJson(request): ApiJson<SimulationRequest>,
) -> Result<Json<app::pricing::api::SimulationReport>, ApiError> {
    identity.require_admin()?;
    let sku = super::api::parse_sku(&request.sku)?;
    Ok(Json(app::pricing::api::simulate_for(&state.app.db, sku.as_str(), &request.rules).await?))
}
