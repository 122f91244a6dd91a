//! Server-side state shared by axum handlers and Leptos server functions.

use crate::accounts::ssr::Identity;
use crate::db::Db;
use crate::shared::AppError;
use axum::extract::FromRef;
use leptos::prelude::*;

/// Everything a request may need, behind one `Arc`.
///
/// **Rationale:** every layer and handler that takes the state clones it for each request
/// (axum clones a route's whole middleware stack per call). Cloned field by field, the
/// state cost a dozen reference counts and the allocations of `LeptosOptions`' strings,
/// several times per request: a sixth of the CPU of a cached page. One `Arc` makes a clone
/// one reference count.
#[derive(Clone)]
pub struct AppState(std::sync::Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> AppState {
        AppState(std::sync::Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Services {
    pub db: Db,
    pub leptos_options: LeptosOptions,
    /// Adds `Secure` to cookies (set `MERCATO_SECURE_COOKIES=true` behind HTTPS).
    pub secure_cookies: bool,
    /// Analytics events (views, exposures, browser events) on their way to the outbox.
    pub events: crate::events::buffer::EventBuffer,
    /// Experiments in memory, for assigning visitors without a query.
    pub experiments: crate::experiments::ssr::ExperimentCatalog,
    /// Lifetime spend from which a customer is in the `high_value` segment.
    pub high_value_cents: i64,
    /// Plans' current versions, briefly cached (anonymous entitlements).
    pub plans: crate::plans::ssr::PlanCache,
    /// Collects subscription invoices.
    pub payments: std::sync::Arc<dyn crate::plans::ssr::PaymentProvider>,
    /// How points are earned, spent and expire.
    pub loyalty: crate::loyalty::domain::LoyaltyRules,
    /// Per-account limit on posting reviews, questions and answers.
    pub post_limiter: crate::reviews::ssr::PostLimiter,
    /// Per-address limits (login, registration, posts) and the wrong-password delay.
    pub rate_limits: crate::shared::limits::RateLimits,
    /// Rendered product-page review blocks (dropped on every review write on this server).
    pub review_blocks: crate::reviews::ssr::BlockCache,
    /// Upsell band and minimum support of co-purchase recommendations.
    pub recommendations: crate::recommendations::domain::RecRules,
    /// Feature flags, rechecked against the database's generation every half second.
    pub flags: crate::flags::ssr::FlagCache,
    /// How long after an order its confirmation page offers one-click add-ons (ms).
    pub addon_window_ms: i64,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state inside a server function (provided as context by the server).
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        AppError::Internal
    })
}

/// The caller's identity inside a server function (set by the identity middleware).
pub async fn identity() -> Result<Identity, AppError> {
    leptos_axum::extract::<axum::Extension<Identity>>().await.map(|ext| ext.0).map_err(|error| {
        tracing::error!(%error, "identity missing from the request");
        AppError::Internal
    })
}

/// Sends the browser to `path` after a form post (a 302 without JavaScript, a client-side
/// navigation with it).
pub fn redirect(path: &str) {
    leptos_axum::redirect(path);
}

/// Ends an admin form post: back to `page` with `?saved=` (the success message) or `?error=`
/// (what the owner must fix), which the admin frame shows above the page. Anything that is
/// not the owner's to fix stays an error.
pub fn admin_redirect(page: &str, result: Result<String, AppError>) -> Result<(), AppError> {
    use crate::accounts::api::url_escape;
    let (key, message) = match result {
        Ok(message) => ("saved", message),
        Err(AppError::Invalid { message, .. } | AppError::Conflict(message) | AppError::Refused(message)) => {
            ("error", message)
        }
        Err(AppError::NotFound(what)) => ("error", format!("No {what}.")),
        Err(error) => return Err(error),
    };
    redirect(&format!("{page}?{key}={}", url_escape(&message)));
    Ok(())
}

/// Appends a `Set-Cookie` header to the response of the current server function.
pub fn set_cookie(cookie: &str) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(value) = http::HeaderValue::from_str(cookie) {
            response.append_header(http::header::SET_COOKIE, value);
        }
    }
}
