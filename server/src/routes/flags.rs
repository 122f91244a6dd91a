//! Feature flags over JSON: `GET /flags` (the current visitor's evaluated values only, never
//! the rules or anyone's lists) and the owner's `GET /admin/flags`, `PUT /admin/flags/{key}`
//! and `POST /admin/flags/{key}/switch`.

use super::error::{ApiError, ApiJson};
use super::openapi::Problem;
use super::ApiState;
use app::accounts::ssr::Identity;
use app::experiments::ssr::RequestAssignments;
use app::flags::domain::{check_rule, parse_key, parse_value, Flag, FlagKind, Rule};
use app::flags::ssr::{FlagInput, RequestFlags};
use app::shared::AppError;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{OpenApi, ToSchema};

/// The operations of this module for the OpenAPI document (see `openapi.rs`).
#[derive(OpenApi)]
#[openapi(paths(my_flags, admin_flags, admin_put_flag, admin_switch_flag))]
pub(super) struct Doc;

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/flags", get(my_flags))
        .route("/admin/flags", get(admin_flags))
        .route("/admin/flags/{key}", put(admin_put_flag))
        .route("/admin/flags/{key}/switch", post(admin_switch_flag))
}

#[derive(Serialize, ToSchema)]
struct Evaluated {
    flags: BTreeMap<String, Value>,
}

#[utoipa::path(get, path = "/flags", tag = "flags", security((), ("session" = [])), responses((status = 200, description = "Every flag's value for the caller.", body = Evaluated)))]
async fn my_flags(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    assignments: Option<Extension<RequestAssignments>>,
) -> Result<Json<Evaluated>, ApiError> {
    let assignments = assignments.map(|ext| ext.0 .0).unwrap_or_default();
    let flags = RequestFlags::of(&state.app, &identity, assignments).await?;
    Ok(Json(Evaluated { flags: flags.values() }))
}

#[derive(Serialize, ToSchema)]
struct FlagList {
    items: Vec<Flag>,
}

#[utoipa::path(get, path = "/admin/flags", tag = "flags", security(("session" = ["admin"])), responses((status = 200, description = "Every flag with its rules.", body = FlagList)))]
async fn admin_flags(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<FlagList>, ApiError> {
    identity.require_admin()?;
    Ok(Json(FlagList { items: app::flags::ssr::all(&state.app.db).await? }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct FlagBody {
    #[serde(default)]
    description: String,
    kind: FlagKind,
    on: bool,
    default: Value,
    off: Value,
    #[serde(default)]
    rules: Vec<Rule>,
}

#[utoipa::path(put, path = "/admin/flags/{key}", tag = "flags", params(("key" = String, Path, description = "The flag's key: 1–64 of a-z, 0-9, _ and -.")), request_body = FlagBody, security(("session" = ["admin"])), responses((status = 200, description = "The saved flag.", body = Flag)))]
async fn admin_put_flag(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<FlagBody>,
) -> Result<Json<Flag>, ApiError> {
    let admin = identity.require_admin()?;
    let key = parse_key(&key).map_err(|message| AppError::invalid("key", message))?;
    // Values go through the editor's parser, so the API and the form accept the same values.
    let value = |field: &'static str, value: &Value| {
        parse_value(body.kind, &value.to_string()).map_err(|message| AppError::invalid(field, message))
    };
    if body.rules.len() > app::flags::domain::MAX_RULES {
        return Err(AppError::invalid("rules", "At most 50 rules.").into());
    }
    let rules = body
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            check_rule(body.kind, rule)
                .map_err(|message| AppError::invalid("rules", format!("Rule {}: {message}", i + 1)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let input = FlagInput {
        key,
        description: body.description.trim().chars().take(300).collect(),
        kind: body.kind,
        on: body.on,
        default: value("default", &body.default)?,
        off: value("off", &body.off)?,
        rules,
    };
    let saved = app::flags::ssr::save(&state.app.db, input, admin.id).await?;
    state.app.flags.invalidate();
    Ok(Json(saved))
}

#[derive(Deserialize, ToSchema)]
struct SwitchBody {
    on: bool,
}

#[utoipa::path(post, path = "/admin/flags/{key}/switch", tag = "flags", params(("key" = String, Path, description = "The flag's key.")), request_body = SwitchBody, security(("session" = ["admin"])), responses((status = 200, description = "The flag, switched on or off for everyone.", body = Flag), (status = 404, description = "No such flag.", body = Problem, content_type = "application/problem+json")))]
async fn admin_switch_flag(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<SwitchBody>,
) -> Result<Json<Flag>, ApiError> {
    let admin = identity.require_admin()?;
    let flag = app::flags::ssr::switch(&state.app.db, &key, body.on, admin.id).await?;
    state.app.flags.invalidate();
    Ok(Json(flag))
}
