//! The JSON API's error type: every failure becomes `application/problem+json`
//! (RFC 9457) with `status`, `title` and `detail`. Internal details never leave the server.

use app::shared::AppError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    title: &'static str,
    detail: String,
    /// Extra members, e.g. `total_cents` on a 409 from checkout.
    extra: Option<serde_json::Value>,
    /// Seconds for the `Retry-After` header of a 429.
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            title: status.canonical_reason().unwrap_or("Error"),
            detail: detail.into(),
            extra: None,
            retry_after: None,
        }
    }

    /// 429 with `Retry-After: seconds` (at least 1).
    pub fn too_many(detail: impl Into<String>, seconds: u64) -> ApiError {
        let error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, detail);
        let seconds = seconds.max(1);
        ApiError { retry_after: Some(seconds), ..error.with_extra(json!({ "retry_after": seconds })) }
    }

    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn unprocessable(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }

    /// Adds members to the problem (e.g. the `row` and `field` of a refused import row).
    pub fn with_extra(self, extra: serde_json::Value) -> ApiError {
        ApiError { extra: Some(extra), ..self }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> ApiError {
        let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let extra = match &error {
            AppError::PriceChanged { total_cents } => Some(json!({ "total_cents": total_cents })),
            AppError::Invalid { field, .. } => Some(json!({ "field": field })),
            AppError::PlanRequired { feature, plan, .. } => Some(json!({ "feature": feature, "required_plan": plan })),
            AppError::TooManyRequests { retry_after_secs } => Some(json!({ "retry_after": retry_after_secs.max(&1) })),
            _ => None,
        };
        let detail = match &error {
            AppError::Invalid { message, .. } => message.clone(),
            other => other.to_string(),
        };
        let retry_after = match &error {
            AppError::TooManyRequests { retry_after_secs } => Some((*retry_after_secs).max(1)),
            _ => None,
        };
        ApiError { status, title: error.title(), detail, extra, retry_after }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> ApiError {
        AppError::from(error).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": "about:blank",
            "status": self.status.as_u16(),
            "title": self.title,
            "detail": self.detail,
        });
        if let (Some(serde_json::Value::Object(extra)), serde_json::Value::Object(map)) = (self.extra, &mut body) {
            map.extend(extra);
        }
        let mut response =
            (self.status, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}

/// `Json<T>` whose rejections are problem+json: wrong content type → 415, malformed JSON →
/// 400, well-formed but wrong shape or values → 422, too large → 413.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(match &rejection {
                JsonRejection::MissingJsonContentType(_) => ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Send a JSON body with Content-Type: application/json.",
                ),
                JsonRejection::JsonSyntaxError(_) => {
                    ApiError::new(StatusCode::BAD_REQUEST, "The body is not valid JSON.")
                }
                JsonRejection::JsonDataError(error) => ApiError::unprocessable(error.body_text()),
                JsonRejection::BytesRejection(_) => {
                    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large.")
                }
                _ => ApiError::new(StatusCode::BAD_REQUEST, rejection.body_text()),
            }),
        }
    }
}
