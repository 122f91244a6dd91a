//! HTTP surface that is not Leptos pages: the JSON API, health, metrics, and the layers every
//! request passes (identity, security headers, tracing, limits).

pub mod analytics;
pub mod api;
pub mod community;
pub mod error;
pub mod experiments;
pub mod flags;
pub mod insights;
pub mod loyalty;
pub mod middleware;
pub mod openapi;
pub mod page_cache;
pub mod plans;
pub mod prices;
pub mod pricing_signals;
pub mod recommendations;
pub mod referrals;
pub mod reviews;

use app::state::AppState;
use std::sync::Arc;

/// What the non-Leptos handlers need besides [`AppState`], behind one `Arc` for the same
/// reason as `AppState` (cloned by every layer for every request).
#[derive(Clone)]
pub struct ApiState(Arc<ApiServices>);

impl ApiState {
    pub fn new(services: ApiServices) -> ApiState {
        ApiState(Arc::new(services))
    }
}

impl std::ops::Deref for ApiState {
    type Target = ApiServices;

    fn deref(&self) -> &ApiServices {
        &self.0
    }
}

/// The parts of [`ApiState`].
pub struct ApiServices {
    pub app: AppState,
    /// Bearer token of the inventory webhook.
    pub inventory_token: Arc<str>,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// Price changes for the live stream (`/api/v1/prices/stream`).
    pub prices: prices::PriceFeed,
    /// True once the server is shutting down (ends the live streams).
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Per-visitor and per-address limits on `POST /api/v1/events`.
    pub event_limiters: experiments::EventLimiters,
}
