//! `/api/v1/events` (batched browser events) and the experiments API.

use super::api::Items;
use super::error::{ApiError, ApiJson};
use super::openapi::Problem;
use super::ApiState;
use app::accounts::ssr::Identity;
use app::events::kind;
use app::experiments::domain::{is_key, Experiment};
use app::experiments::results::ExperimentResults;
use app::experiments::ssr::RequestAssignments;
use app::shared::limits::{ip_key, AbuseLimits, Limiter};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

/// The operations of this module for the OpenAPI document (see `openapi.rs`).
#[derive(OpenApi)]
#[openapi(paths(post_events, list_experiments, experiment_results, admin_list_experiments, admin_put_experiment))]
pub(super) struct Doc;

/// Events accepted per request at most.
const MAX_BATCH: usize = 50;

/// Limits on event batches, per visitor and per network address. A page sends one every
/// few seconds at most, so the defaults (2 per second with a burst of 20 per visitor, 20 with
/// a burst of 200 per address, for many visitors behind one address) never bother a real
/// browser and cap what a script can inject, even one that drops its visitor cookie.
#[derive(Clone)]
pub struct EventLimiters {
    per_visitor: Limiter<String>,
    per_ip: Limiter<std::net::IpAddr>,
}

impl EventLimiters {
    pub fn new(limits: &AbuseLimits) -> EventLimiters {
        let per_visitor = limits.events_per_visitor_per_second;
        let per_ip = limits.events_per_ip_per_second;
        EventLimiters {
            per_visitor: Limiter::per_second(per_visitor, per_visitor.saturating_mul(10)),
            per_ip: Limiter::per_second(per_ip, per_ip.saturating_mul(10)),
        }
    }

    /// Ok, or the seconds to wait.
    fn check(&self, identity: &Identity) -> Result<(), u64> {
        self.per_visitor.check(&identity.visitor_id)?;
        let ip = identity.client_ip.map(ip_key).unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        self.per_ip.check(&ip)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    /// 1 to 50 events.
    events: Vec<ClientEvent>,
}

/// One browser event. Unknown kinds and fields are refused (422), not silently dropped.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientEvent {
    kind: ClientEventKind,
    /// The page the event happened on.
    path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    experiment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    variant: Option<String>,
    /// What was clicked (a `data-testid`), for `click`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    /// Milliseconds the page was visible since the last heartbeat, for `heartbeat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    visible_ms: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum ClientEventKind {
    PageView,
    Heartbeat,
    Click,
    Exposure,
    AddToCart,
    Purchase,
}

impl ClientEvent {
    fn check(&self, index: usize) -> Result<(), ApiError> {
        let bad = |field: &str, message: &str| ApiError::unprocessable(format!("events[{index}].{field}: {message}"));
        if !self.path.starts_with('/') || self.path.len() > 200 || self.path.chars().any(char::is_control) {
            return Err(bad("path", "must be a path on this site (at most 200 characters)"));
        }
        for (field, value) in [("experiment", &self.experiment), ("variant", &self.variant), ("target", &self.target)] {
            if value.as_deref().is_some_and(|v| !is_key(v)) {
                return Err(bad(field, "must be 1–64 of a-z, 0-9, _ and -"));
            }
        }
        if self.kind == ClientEventKind::Exposure && (self.experiment.is_none() || self.variant.is_none()) {
            return Err(bad("experiment", "an exposure names its experiment and variant"));
        }
        if self.visible_ms.is_some_and(|ms| ms > 3_600_000) {
            return Err(bad("visible_ms", "must be at most one hour"));
        }
        Ok(())
    }
}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    accepted: usize,
    /// Exposures for a variant this visitor is not assigned to (stale or forged), not counted.
    ignored: usize,
}

/// `POST /events`: a batch from the hydrated app (also sent with `sendBeacon` on page hide).
/// Validated whole (one bad event refuses the batch with 422), rate-limited per visitor, then
/// queued for the outbox. Exposures count only for the variant the server assigned, and
/// browser `add_to_cart`/`purchase` are kept for analytics but never used for attribution:
/// conversions come from the server's own cart and order events.
#[utoipa::path(post, path = "/events", tag = "experiments", request_body = EventBatch, security((), ("session" = [])), responses((status = 202, description = "The batch is queued.", body = Accepted), (status = 429, description = "Too many batches from this visitor (`Retry-After` says when to retry).", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(name = "api.post_events", skip_all)]
pub async fn post_events(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    assignments: Option<Extension<RequestAssignments>>,
    ApiJson(batch): ApiJson<EventBatch>,
) -> Response {
    if let Err(seconds) = state.event_limiters.check(&identity) {
        metrics::counter!("mercato_events_rate_limited_total").increment(1);
        return ApiError::too_many("Too many event batches; retry later.", seconds).into_response();
    }
    if batch.events.is_empty() || batch.events.len() > MAX_BATCH {
        return ApiError::unprocessable(format!("events: send 1 to {MAX_BATCH} events")).into_response();
    }
    for (index, event) in batch.events.iter().enumerate() {
        if let Err(error) = event.check(index) {
            return error.into_response();
        }
    }
    let assignments = assignments.map(|ext| ext.0 .0).unwrap_or_default();
    let events = &state.app.events;
    let (mut accepted, mut ignored) = (0, 0);
    let now = app::shared::now_ms();
    for event in &batch.events {
        if event.kind == ClientEventKind::Exposure {
            let (Some(experiment), Some(variant)) = (&event.experiment, &event.variant) else {
                continue;
            };
            if assignments.get(experiment) != Some(variant.as_str()) {
                ignored += 1;
                continue;
            }
            state.app.experiments.record_exposure(events, experiment, &identity.visitor_id, variant);
        }
        let mut payload = serde_json::to_value(event).unwrap_or_default();
        if let serde_json::Value::Object(map) = &mut payload {
            map.insert("visitor_id".into(), identity.visitor_id.clone().into());
            map.insert("user_id".into(), identity.user.as_ref().map(|u| u.id).into());
            map.insert("at".into(), now.into());
        }
        events.publish(kind::CLIENT_EVENT, format!("visitor:{}", identity.visitor_id), payload);
        accepted += 1;
    }
    (StatusCode::ACCEPTED, Json(Accepted { accepted, ignored })).into_response()
}

/// What an SDK needs to reproduce assignments (GrowthBook's experiment shape): no content,
/// no results.
#[derive(Serialize, ToSchema)]
pub struct PublicExperiment {
    key: String,
    status: &'static str,
    variations: Vec<String>,
    weights: Vec<f64>,
    coverage: f64,
    hash_attribute: &'static str,
    hash_version: u8,
    seed: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    winner: Option<String>,
    segments: Vec<&'static str>,
}

/// `GET /experiments`: running and stopped experiments with their bucketing parameters.
#[utoipa::path(get, path = "/experiments", tag = "experiments", responses((status = 200, description = "Running and stopped experiments, as GrowthBook SDKs need them.", body = Items<PublicExperiment>)))]
pub async fn list_experiments(State(state): State<ApiState>) -> Json<Items<PublicExperiment>> {
    let items = state
        .app
        .experiments
        .all()
        .iter()
        .filter(|e| e.status != app::experiments::domain::Status::Draft)
        .map(|e| PublicExperiment {
            key: e.key.clone(),
            status: e.status.as_str(),
            variations: e.variants.iter().map(|v| v.key.clone()).collect(),
            weights: e.weights(),
            coverage: e.coverage_bp as f64 / 10_000.0,
            hash_attribute: "mercato_vid",
            hash_version: 2,
            seed: e.key.clone(),
            winner: e.winner.clone(),
            segments: e.target_segments.iter().map(|s| s.as_str()).collect(),
        })
        .collect();
    Json(Items { items, next_cursor: None })
}

async fn find(state: &ApiState, key: &str) -> Result<Experiment, ApiError> {
    let experiments = app::experiments::ssr::load_experiments(&state.app.db).await?;
    experiments
        .into_iter()
        .find(|e| e.key == key)
        .ok_or_else(|| ApiError::not_found(format!("No experiment '{}'.", key.chars().take(64).collect::<String>())))
}

/// `GET /experiments/{key}/results` (admin): counts, rates, uplift with its interval,
/// p-value, chance to beat control, sample-ratio check, daily exposures.
#[utoipa::path(get, path = "/experiments/{key}/results", tag = "experiments", params(("key" = String, Path, description = "The experiment's key.")), security(("session" = ["admin"])), responses((status = 200, description = "The experiment's results.", body = ExperimentResults), (status = 404, description = "No such experiment.", body = Problem, content_type = "application/problem+json")))]
#[tracing::instrument(name = "api.experiment_results", skip(state, identity))]
pub async fn experiment_results(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(key): Path<String>,
) -> Result<Json<ExperimentResults>, ApiError> {
    identity.require_admin()?;
    let experiment = find(&state, &key).await?;
    Ok(Json(app::experiments::ssr::results(&state.app.db, &experiment).await?))
}

/// `GET /admin/experiments`: every experiment with its content.
#[utoipa::path(get, path = "/admin/experiments", tag = "experiments", security(("session" = ["admin"])), responses((status = 200, description = "Every experiment.", body = Items<Experiment>)))]
pub async fn admin_list_experiments(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
) -> Result<Json<Items<Experiment>>, ApiError> {
    identity.require_admin()?;
    let items = app::experiments::ssr::load_experiments(&state.app.db).await?;
    Ok(Json(Items { items, next_cursor: None }))
}

/// `PUT /admin/experiments/{key}`: creates or replaces an experiment (the key in the path wins).
#[utoipa::path(put, path = "/admin/experiments/{key}", tag = "experiments", params(("key" = String, Path, description = "The experiment's key (wins over the body's).")), request_body = Experiment, security(("session" = ["admin"])), responses((status = 200, description = "The saved experiment.", body = Experiment)))]
pub async fn admin_put_experiment(
    State(state): State<ApiState>,
    Extension(identity): Extension<Identity>,
    Path(key): Path<String>,
    ApiJson(mut experiment): ApiJson<Experiment>,
) -> Result<Json<Experiment>, ApiError> {
    identity.require_admin()?;
    experiment.key = key;
    if let Err(problems) = experiment.validate() {
        let detail = app::experiments::domain::describe_problems(&problems);
        return Err(ApiError::unprocessable(detail));
    }
    app::experiments::ssr::save_experiment(&state.app.db, &experiment).await?;
    state.app.experiments.reload(&state.app.db).await?;
    Ok(Json(experiment))
}
