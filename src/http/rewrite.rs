//! `POST /v1/rewrite`: the honest next step (disposition, task, grounded story) for each item,
//! on the rewrite queue, which has its own workers and limits so that it never slows
//! classification. An optional `profile` object lets stories use the product's personas and terms.

use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::handlers::read_json;
use super::state::AppState;
use super::types::parse_items;
use crate::analysis::rewrite::Rewrite;

/// `POST /v1/rewrite` response: one refinement per item, in request order.
#[derive(Debug, Serialize, ToSchema)]
pub struct RewriteResponse {
    pub results: Vec<Rewrite>,
}

/// Refine items: a disposition, an honest task title, and a grounded story where the item supports one.
#[utoipa::path(
    post,
    path = "/v1/rewrite",
    request_body(content = super::types::ClassifyRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Drafts in request order", body = RewriteResponse),
        (status = 400, description = "Body is not JSON or not UTF-8", body = super::error::ErrorBody),
        (status = 401, description = "Missing or wrong API key", body = super::error::ErrorBody),
        (status = 413, description = "Too many items or too large a body", body = super::error::ErrorBody),
        (status = 415, description = "Not application/json", body = super::error::ErrorBody),
        (status = 422, description = "A field is missing, empty, of the wrong type, or not English", body = super::error::ErrorBody),
        (status = 429, description = "Rewrite queue full; retry after the Retry-After header", body = super::error::ErrorBody),
        (status = 503, description = "Loading, disabled, timed out or shutting down", body = super::error::ErrorBody),
    ),
    security(("bearer" = []), ())
)]
pub async fn rewrite(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let value = read_json(&headers, body, state.limits.max_body_bytes).await?;
    let items = parse_items(&value, state.limits.max_rewrite_items)?;
    let profile = match value.get("profile") {
        None | Some(serde_json::Value::Null) => None,
        Some(p) => Some(std::sync::Arc::new(
            serde_json::from_value::<crate::analysis::rewrite::Profile>(p.clone())
                .map_err(|e| ApiError::InvalidField(format!("profile: {e}")))?,
        )),
    };
    if state.rewriter.get().is_none() {
        return Err(ApiError::RewriteUnavailable);
    }
    let receivers = state
        .rewrites
        .submit(items, profile)
        .map_err(crate::Error::from)?;
    let timeout = state.limits.rewrite_timeout;
    let waited = tokio::time::timeout(timeout, async {
        let mut out = Vec::with_capacity(receivers.len());
        for rx in receivers {
            out.push(rx.await);
        }
        out
    })
    .await
    .map_err(|_| ApiError::Timeout(timeout.as_millis() as u64))?;
    let mut results = Vec::with_capacity(waited.len());
    for (i, outcome) in waited.into_iter().enumerate() {
        let r = outcome.map_err(|_| ApiError::Internal("rewrite worker stopped".into()))?;
        results.push(
            r.map(|done| done.output)
                .map_err(|e| match ApiError::from(e) {
                    ApiError::InvalidField(m) => ApiError::InvalidField(format!("items[{i}]: {m}")),
                    other => other,
                })?,
        );
    }
    let mut resp = Json(RewriteResponse { results }).into_response();
    resp.headers_mut().insert(
        "x-total-time-ms",
        axum::http::HeaderValue::from_str(&format!(
            "{:.3}",
            started.elapsed().as_secs_f64() * 1000.0
        ))
        .expect("ascii"),
    );
    Ok(resp)
}
