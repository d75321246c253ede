//! API errors and the one place they map to status codes. Every error answers JSON
//! `{"error": "...", "code": "..."}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON, not UTF-8, or malformed.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// JSON is well-formed but a field is missing, empty or of the wrong type.
    #[error("{0}")]
    InvalidField(String),
    /// Body or item count over the limits.
    #[error("{0}")]
    TooLarge(String),
    /// The request target is longer than the server reads.
    #[error("the request target is {0} bytes; at most {1} are accepted")]
    UriTooLong(usize, usize),
    /// Too many or too large header fields.
    #[error("{0}")]
    HeadersTooLarge(String),
    /// The body is not `application/json` (or NDJSON where that is expected).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A webhook delivery whose signature is missing or wrong.
    #[error("missing or wrong webhook signature (X-Hub-Signature-256); nothing was processed")]
    BadSignature,
    /// Feedback needs a store and none is configured.
    #[error("no store configured: start the server with --db PATH or --database-url URL")]
    NoStore,
    /// Missing or wrong API key.
    #[error("missing or invalid API key: send `Authorization: Bearer <key>`")]
    Unauthorized,
    /// The queue is full; try again after `retry_after_s`.
    #[error("server is at capacity ({0}); retry later")]
    Overloaded(String, u64),
    /// The model is still loading or warming up.
    #[error("model is loading; retry shortly")]
    NotReady,
    /// Rewrites are turned off or the generator is still loading.
    #[error("rewrites are not available: the generator is loading or the server runs with --rewrite-workers 0")]
    RewriteUnavailable,
    /// The client stopped sending its body.
    #[error("the request body stalled; send it without pauses")]
    BodyTimeout,
    /// The request took longer than the configured timeout.
    #[error("request timed out after {0} ms")]
    Timeout(u64),
    /// The server is shutting down.
    #[error("server is shutting down")]
    ShuttingDown,
    /// No such route.
    #[error("no route for {0}")]
    NotFound(String),
    /// Wrong method for a route.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A failure of ours.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The one mapping from the library's errors to API errors: input problems are the client's
/// (4xx), capacity and shutdown are retryable (429/503), model and internal failures are 500
/// with the details kept for the log.
impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        use crate::error::ErrorKind;
        match e {
            crate::Error::InvalidInput(m) => ApiError::InvalidField(m),
            crate::Error::TooLarge(m) => ApiError::TooLarge(m),
            crate::Error::Overloaded {
                message,
                retry_after_s,
            } => ApiError::Overloaded(message, retry_after_s),
            crate::Error::Timeout(ms) => ApiError::Timeout(ms),
            crate::Error::ShuttingDown => ApiError::ShuttingDown,
            other => {
                let kind = match other.kind() {
                    ErrorKind::Model => "model",
                    _ => "internal",
                };
                ApiError::Internal(format!("{kind}: {other}"))
            }
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, naming the bad field where there is one.
    pub error: String,
    /// A stable machine-readable code.
    pub code: String,
}

impl ApiError {
    /// Status code and stable error code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            ApiError::InvalidField(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::UriTooLong(..) => (StatusCode::URI_TOO_LONG, "uri_too_long"),
            ApiError::HeadersTooLarge(_) => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "headers_too_large",
            ),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::BadSignature => (StatusCode::UNAUTHORIZED, "bad_signature"),
            ApiError::NoStore => (StatusCode::SERVICE_UNAVAILABLE, "no_store"),
            ApiError::Overloaded(..) => (StatusCode::TOO_MANY_REQUESTS, "overloaded"),
            ApiError::NotReady => (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
            ApiError::RewriteUnavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "rewrite_unavailable")
            }
            ApiError::Timeout(_) => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            ApiError::BodyTimeout => (StatusCode::REQUEST_TIMEOUT, "body_timeout"),
            ApiError::ShuttingDown => (StatusCode::SERVICE_UNAVAILABLE, "shutting_down"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        // Internals stay in the log: the client gets a generic message and an id to quote.
        let error = if status.is_server_error() && matches!(self, ApiError::Internal(_)) {
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
            let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::error!(error_id = id, detail = %self, "internal error");
            format!("internal error (id {id}); the details are in the server log")
        } else {
            self.to_string()
        };
        let body = ErrorBody {
            error,
            code: code.to_string(),
        };
        let mut resp = (status, axum::Json(body)).into_response();
        let retry = match &self {
            ApiError::Overloaded(_, s) => Some(*s),
            ApiError::NotReady | ApiError::ShuttingDown => Some(1),
            _ => None,
        };
        if let Some(s) = retry {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s.max(1)));
        }
        if matches!(self, ApiError::Unauthorized) {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}
