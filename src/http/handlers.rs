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
use crate::analysis::ClassifyResult;
use crate::batching::cache::{normalise, Cached};
use crate::batching::SubmitError;
use crate::model::ModelInfo;

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

/// Collects a body of at most `limit` bytes.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::TooLarge(format!("body is larger than the limit of {limit} bytes")))
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
    if !state.is_ready() {
        return Err(ApiError::NotReady);
    }
    let model = state.model.get().cloned().ok_or(ApiError::NotReady)?;

    let texts: Vec<String> = items.iter().map(|i| i.model_text()).collect();
    let keys: Vec<String> = texts.iter().map(|t| normalise(t)).collect();
    let mut answers: Vec<Option<Cached>> = keys.iter().map(|k| state.cache.get(k)).collect();
    let misses: Vec<usize> = (0..items.len()).filter(|&i| answers[i].is_none()).collect();

    let (mut queue_time, mut inference_time) = (Duration::ZERO, Duration::ZERO);
    if !misses.is_empty() {
        let to_encode: Vec<String> = misses.iter().map(|&i| texts[i].clone()).collect();
        let tokenizer = model.clone();
        let encoded = tokio::task::spawn_blocking(move || {
            to_encode
                .iter()
                .map(|t| tokenizer.tokenize(t))
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| ApiError::Internal(format!("tokenizer task: {e}")))?;
        let encoded = encoded
            .into_iter()
            .zip(&misses)
            .map(|(r, &i)| r.map_err(|e| ApiError::InvalidField(format!("items[{i}]: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let truncated: Vec<bool> = encoded.iter().map(|e| e.truncated).collect();
        let receivers = state.batcher.submit(encoded).map_err(|e| match e {
            // A request the queue could never hold is too large, not a reason to retry.
            SubmitError::QueueFull { limit, .. } if misses.len() > limit => {
                ApiError::TooLarge(format!(
                    "{} items to score exceed the queue's {limit}; send fewer per request",
                    misses.len()
                ))
            }
            SubmitError::QueueFull { .. } => ApiError::Overloaded(e.to_string(), 1),
            SubmitError::Stopped => ApiError::ShuttingDown,
        })?;
        let timeout = state.limits.request_timeout;
        let waited = tokio::time::timeout(timeout, futures_join(receivers))
            .await
            .map_err(|_| ApiError::Timeout(timeout.as_millis() as u64))?;
        for ((&i, outcome), truncated) in misses.iter().zip(waited).zip(truncated) {
            let result = outcome
                .map_err(|_| ApiError::Internal("model worker stopped".into()))?
                .map_err(ApiError::Internal)?;
            queue_time = queue_time.max(result.queue_time);
            inference_time = inference_time.max(result.inference_time);
            let cached = Cached {
                scores: result.scores,
                truncated,
            };
            state.cache.put(keys[i].clone(), cached);
            answers[i] = Some(cached);
        }
    }

    let info = model.info();
    let results = items
        .into_iter()
        .zip(answers)
        .map(|(item, a)| {
            let a = a.expect("every item answered");
            let analysis = state.analyzer.analyze(&item, a.scores);
            ClassifyResult::new(item.id, a.truncated, analysis)
        })
        .collect();
    let body = ClassifyResponse {
        results,
        model: ModelRef {
            name: info.name.clone(),
            version: info.version.clone(),
        },
    };
    let mut resp = Json(body).into_response();
    let h = resp.headers_mut();
    h.insert("x-queue-time-ms", ms(queue_time));
    h.insert("x-inference-time-ms", ms(inference_time));
    h.insert("x-total-time-ms", ms(started.elapsed()));
    Ok(resp)
}

fn ms(d: Duration) -> HeaderValue {
    HeaderValue::from_str(&format!("{:.3}", d.as_secs_f64() * 1000.0)).expect("ascii")
}

/// Awaits receivers in order. Dropping this future (client gone) drops them, which tells the
/// batcher to skip those items.
async fn futures_join<T>(
    receivers: Vec<tokio::sync::oneshot::Receiver<T>>,
) -> Vec<Result<T, tokio::sync::oneshot::error::RecvError>> {
    let mut out = Vec::with_capacity(receivers.len());
    for rx in receivers {
        out.push(rx.await);
    }
    out
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
        model: state.model.get().map(|m| m.info().clone()),
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
