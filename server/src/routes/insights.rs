//! Anonymized brand insights over HTTP: the owner's `GET /admin/insights?product=|category=
//! &format=json|csv` and brand keys (`GET`/`POST /admin/brand-keys`, `DELETE
//! /admin/brand-keys/{id}`), and `GET /insights?…` for a brand, authenticated by
//! `Authorization: Bearer <brand key>` and limited to the brand's own products.

use super::error::{ApiError, ApiJson};
use super::openapi::Problem;
use super::ApiState;
use app::accounts::ssr::Identity;
use app::reviews::insights::{csv_rows, Insights, Scope};
use app::reviews::insights_store::{self as store, BrandKey};
use app::shared::AppError;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The operations of this module for the OpenAPI document (see `openapi.rs`).
#[derive(OpenApi)]
#[openapi(paths(admin_insights, brand_insights, list_keys, create_key, revoke_key))]
pub(super) struct Doc;

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/admin/insights", get(admin_insights))
        .route("/admin/brand-keys", get(list_keys).post(create_key))
        .route("/admin/brand-keys/{id}", delete(revoke_key))
        .route("/insights", get(brand_insights))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InsightsQuery {
    /// A product's SKU (give this or `category`).
    product: Option<String>,
    /// A category's slug.
    category: Option<String>,
    /// `json` (the default) or `csv`.
    format: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

impl InsightsQuery {
    fn parse(&self) -> Result<(Scope, Format), ApiError> {
        let clean = |raw: &str| {
            let raw = raw.trim();
            (!raw.is_empty()
                && raw.len() <= 64
                && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            .then(|| raw.to_string())
        };
        let scope = match (self.product.as_deref(), self.category.as_deref()) {
            (Some(sku), None) => Scope::Product(
                clean(sku).ok_or_else(|| AppError::invalid("product", "Give a product's SKU."))?.to_ascii_uppercase(),
            ),
            (None, Some(slug)) => {
                Scope::Category(clean(slug).ok_or_else(|| AppError::invalid("category", "Give a category's slug."))?)
            }
            _ => return Err(AppError::invalid("product", "Ask for one product or one category.").into()),
        };
        let format = match self.format.as_deref() {
            None | Some("json") => Format::Json,
            Some("csv") => Format::Csv,
            Some(_) => return Err(AppError::invalid("format", "Use json or csv.").into()),
        };
        Ok((scope, format))
    }
}

fn respond(insights: Insights, format: Format) -> Result<Response, ApiError> {
    if format == Format::Json {
        return Ok(Json(insights).into_response());
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in csv_rows(&insights) {
        writer
            .write_record(row.iter().map(|cell| super::analytics::defuse(cell).into_owned()))
            .map_err(|_| AppError::Internal)?;
    }
    let bytes = writer.into_inner().map_err(|_| AppError::Internal)?;
    let name = match &insights.scope {
        Scope::Product(sku) => format!("product-{sku}"),
        Scope::Category(slug) => format!("category-{slug}"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"mercato-insights-{name}.csv\"")),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(get, path = "/admin/insights", tag = "insights", params(InsightsQuery), security(("session" = ["admin"])), responses((status = 200, description = "Anonymized insights of one product or category, as JSON or CSV.", content((Insights = "application/json"), (String = "text/csv")))))]
async fn admin_insights(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Query(query): Query<InsightsQuery>,
) -> Result<Response, ApiError> {
    identity.require_admin()?;
    let (scope, format) = query.parse()?;
    respond(store::insights(&state.app.db, scope, None).await?, format)
}

/// A brand's own products only: another brand's product answers 404, as an unknown one does.
#[utoipa::path(get, path = "/insights", tag = "insights", params(InsightsQuery), security(("brand_key" = [])), responses((status = 200, description = "Anonymized insights of one of the brand's products or its products in a category, as JSON or CSV.", content((Insights = "application/json"), (String = "text/csv"))), (status = 404, description = "Not one of the brand's products.", body = Problem, content_type = "application/problem+json")))]
async fn brand_insights(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Query(query): Query<InsightsQuery>,
) -> Result<Response, ApiError> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let brand = match key {
        Some(key) => store::brand_of_key(&state.app.db, key).await?,
        None => None,
    };
    let brand = brand.ok_or(AppError::Unauthorized)?;
    let (scope, format) = query.parse()?;
    respond(store::insights(&state.app.db, scope, Some(&brand)).await?, format)
}

#[derive(Serialize, ToSchema)]
struct KeyList {
    items: Vec<BrandKey>,
    brands: Vec<String>,
}

#[utoipa::path(get, path = "/admin/brand-keys", tag = "insights", security(("session" = ["admin"])), responses((status = 200, description = "The brands' API keys (never the secret) and the shop's brands.", body = KeyList)))]
async fn list_keys(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<KeyList>, ApiError> {
    identity.require_admin()?;
    Ok(Json(KeyList { items: store::keys(&state.app.db).await?, brands: store::brands(&state.app.db).await? }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewKey {
    brand: String,
    label: String,
}

#[derive(Serialize, ToSchema)]
struct CreatedKey {
    id: i64,
    brand: String,
    /// Shown this once; only its hash is stored.
    key: String,
}

#[utoipa::path(post, path = "/admin/brand-keys", tag = "insights", request_body = NewKey, security(("session" = ["admin"])), responses((status = 201, description = "The new key; its secret is shown this once.", body = CreatedKey)))]
async fn create_key(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    ApiJson(body): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    identity.require_admin()?;
    let (id, key) = store::create_key(&state.app.db, &body.brand, &body.label).await?;
    Ok((StatusCode::CREATED, Json(CreatedKey { id, brand: body.brand, key })))
}

#[utoipa::path(delete, path = "/admin/brand-keys/{id}", tag = "insights", params(("id" = i64, Path, description = "The key's id.")), security(("session" = ["admin"])), responses((status = 204, description = "The key is revoked."), (status = 404, description = "No such live key.", body = Problem, content_type = "application/problem+json")))]
async fn revoke_key(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    identity.require_admin()?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found("No such key."))?;
    if store::revoke_key(&state.app.db, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("No such live key."))
    }
}
