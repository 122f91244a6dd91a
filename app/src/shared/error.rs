//! The error that crosses the server-function boundary. Every variant is safe to show a
//! shopper: internal details are logged on the server and replaced by a generic message.

use leptos::server_fn::{codec::JsonEncoding, error::FromServerFnError, error::ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// 404: the thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// 422: input failed validation; `field` names the form field or JSON property.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// 409: the request conflicts with current state (price moved, stock gone, duplicate).
    #[error("{0}")]
    Conflict(String),
    /// 409: the total the shopper saw is not the current total; nothing was charged.
    #[error("prices changed: the total is now {total_cents} cents")]
    PriceChanged { total_cents: i64 },
    /// 401: the caller must log in.
    #[error("please log in")]
    Unauthorized,
    /// 403: logged in, but not allowed.
    #[error("not allowed")]
    Forbidden,
    /// 403: logged in, but this action is not open to this account; says why.
    #[error("{0}")]
    Refused(String),
    /// 403: the account's plan does not include `feature`; `plan` (key) is the cheapest plan
    /// that does, `plan_name` its name.
    #[error("{feature_name} needs the {plan_name} plan")]
    PlanRequired { feature: String, feature_name: String, plan: String, plan_name: String },
    /// 429: too many attempts; try again in `retry_after_secs` seconds.
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    /// 500: something failed on our side; details are only in the server log.
    #[error("something went wrong on our side")]
    Internal,
    /// The request never reached the function (network, decoding).
    #[error("request failed: {0}")]
    Transport(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid { field: field.to_string(), message: message.into() }
    }

    pub fn status_code(&self) -> u16 {
        match self {
            AppError::NotFound(_) => 404,
            AppError::Invalid { .. } => 422,
            AppError::Conflict(_) | AppError::PriceChanged { .. } => 409,
            AppError::Unauthorized => 401,
            AppError::Forbidden | AppError::Refused(_) | AppError::PlanRequired { .. } => 403,
            AppError::TooManyRequests { .. } => 429,
            AppError::Internal => 500,
            AppError::Transport(_) => 400,
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "Not Found",
            AppError::Invalid { .. } => "Unprocessable Entity",
            AppError::Conflict(_) | AppError::PriceChanged { .. } => "Conflict",
            AppError::Unauthorized => "Unauthorized",
            AppError::Forbidden | AppError::Refused(_) | AppError::PlanRequired { .. } => "Forbidden",
            AppError::TooManyRequests { .. } => "Too Many Requests",
            AppError::Internal => "Internal Server Error",
            AppError::Transport(_) => "Bad Request",
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        // Logged here because this is the one place a database failure becomes opaque.
        tracing::error!(%error, "database error");
        AppError::Internal
    }
}
