//! Route handlers. Heavy work (tokenizing, the model) never runs on the async runtime: tokenizing
//! goes to the blocking pool and the model to the batcher's own threads.

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::ApiError;
use super::state::AppState;
use super::types::{parse_items, ClassifyResponse, HealthResponse, ModelRef};
use crate::model::ModelInfo;
use crate::service::Admission;

/// Reads a JSON body within the size limit, checking content type and encoding, into a value.
pub async fn read_json(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<serde_json::Value, ApiError> {
    require_content_type(headers, &["application/json"])?;
    let bytes = read_body(body, limit).await?;
    let text = std::str::from_utf8(&bytes).map_err(|e| ApiError::BadRequest {
        code: "invalid_utf8",
        message: format!("body is not valid UTF-8 (byte {})", e.valid_up_to()),
    })?;
    serde_json::from_str(text).map_err(|e| ApiError::BadRequest {
        code: "invalid_json",
        message: format!("body is not valid JSON: {e}"),
    })
}

/// 415 unless the body's media type is one of `accepted` (lowercase; the first is named in the
/// error).
pub fn require_content_type(headers: &HeaderMap, accepted: &[&str]) -> Result<(), ApiError> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ctype
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if accepted.contains(&mime.as_str()) {
        return Ok(());
    }
    Err(ApiError::UnsupportedMediaType(format!(
        "content type must be {}, got `{}`",
        accepted.first().copied().unwrap_or("?"),
        if ctype.is_empty() { "none" } else { ctype }
    )))
}

/// Collects a body of at most `limit` bytes. Only a body over the limit is 413: a client that
/// stalls gets 408, and a broken body (bad chunk sizes, shorter than its length) 400.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|e| body_error(e.into_inner(), limit))
}

/// What a failed body read means for the client.
pub fn body_error(e: axum::BoxError, limit: usize) -> ApiError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e.as_ref());
    while let Some(c) = cause {
        if c.is::<http_body_util::LengthLimitError>() {
            return ApiError::TooLarge(format!("body is larger than the limit of {limit} bytes"));
        }
        if c.is::<tower_http::timeout::TimeoutError>() {
            return ApiError::BodyTimeout;
        }
        cause = c.source();
    }
    ApiError::BadRequest {
        code: "invalid_body",
        message: format!("the request body could not be read: {e}"),
    }
}

/// Classify backlog items.
#[utoipa::path(
    post,
    path = "/v1/classify",
    request_body(content = super::types::ClassifyRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Results in request order", body = ClassifyResponse),
        (status = 400, description = "Body is not JSON or not UTF-8", body = super::error::ErrorBody),
        (status = 401, description = "Missing or wrong API key", body = super::error::ErrorBody),
        (status = 413, description = "Too many items or too large a body", body = super::error::ErrorBody),
        (status = 415, description = "Not application/json", body = super::error::ErrorBody),
        (status = 422, description = "A field is missing, empty or of the wrong type", body = super::error::ErrorBody),
        (status = 429, description = "Queue full; retry after the Retry-After header", body = super::error::ErrorBody),
        (status = 503, description = "Loading, timed out or shutting down", body = super::error::ErrorBody),
    ),
    security(("bearer" = []), ())
)]
pub async fn classify(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let value = read_json(&headers, body, state.limits.max_body_bytes).await?;
    let items = parse_items(&value, state.limits.max_items_per_request)?;
    let scorer = state.ready_scorer().ok_or(ApiError::NotReady)?;
    let items = std::sync::Arc::new(items);
    let scoring = scorer
        .score(
            std::sync::Arc::clone(&items),
            Admission::Now,
            state.limits.request_timeout,
        )
        .await?;
    // The request answers as a whole: the first failing item names itself.
    let mut results = Vec::with_capacity(items.len());
    for (i, (item, outcome)) in items.iter().zip(scoring.results).enumerate() {
        match outcome {
            Ok(scored) => results.push(scored.result(item.id.clone())),
            Err(e) => {
                return Err(match ApiError::from(e) {
                    ApiError::InvalidField(m) => ApiError::InvalidField(format!("items[{i}]: {m}")),
                    other => other,
                })
            }
        }
    }
    let info = scorer.info();
    let body = ClassifyResponse {
        results,
        model: ModelRef {
            name: info.name.clone(),
            version: info.version.clone(),
        },
    };
    let mut resp = Json(body).into_response();
    let h = resp.headers_mut();
    h.insert("x-queue-time-ms", ms(scoring.queue_time));
    h.insert("x-inference-time-ms", ms(scoring.inference_time));
    h.insert("x-total-time-ms", ms(started.elapsed()));
    Ok(resp)
}

fn ms(d: Duration) -> HeaderValue {
    HeaderValue::from_str(&format!("{:.3}", d.as_secs_f64() * 1000.0)).expect("ascii")
}

/// Readiness: 200 once the model is loaded and warmed up, 503 before.
#[utoipa::path(get, path = "/health", responses(
    (status = 200, description = "Ready", body = HealthResponse),
    (status = 503, description = "Loading", body = HealthResponse),
))]
pub async fn health(State(state): State<AppState>) -> Response {
    if state.is_ready() {
        (
            StatusCode::OK,
            Json(HealthResponse {
                status: "ok".into(),
            }),
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(HealthResponse {
                status: "loading".into(),
            }),
        )
            .into_response()
    }
}

/// Model ids, versions and limits.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct InfoResponse {
    /// Absent while the model is loading.
    pub model: Option<ModelInfo>,
    pub version: String,
    pub max_items_per_request: usize,
    pub max_body_bytes: usize,
    pub max_batch_tokens: usize,
    pub max_batch_items: usize,
    pub max_queued_items: usize,
    pub request_timeout_ms: u64,
    /// Whether `/v1/rewrite` is serving (false while the generator loads or when it is off).
    pub rewrite_ready: bool,
    pub max_rewrite_items: usize,
}

/// Service information.
#[utoipa::path(get, path = "/info", responses((status = 200, body = InfoResponse)))]
pub async fn info(State(state): State<AppState>) -> Json<InfoResponse> {
    let b = state.batcher.config();
    Json(InfoResponse {
        model: state.scorer.get().map(|s| s.info().clone()),
        version: env!("CARGO_PKG_VERSION").into(),
        max_items_per_request: state.limits.max_items_per_request,
        max_body_bytes: state.limits.max_body_bytes,
        max_batch_tokens: b.max_batch_tokens,
        max_batch_items: b.max_batch_items,
        max_queued_items: b.max_queued_items,
        request_timeout_ms: state.limits.request_timeout.as_millis() as u64,
        rewrite_ready: state.rewriter.get().is_some(),
        max_rewrite_items: state.limits.max_rewrite_items,
    })
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    metrics::gauge!("storylens_queue_depth").set(state.batcher.queued() as f64);
    metrics::gauge!("storylens_rewrite_queue_depth").set(state.rewrites.queued() as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}
