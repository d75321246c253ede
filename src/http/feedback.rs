//! `POST /v1/feedback` and `GET /v1/feedback/stats`: a team's verdicts on suggestions, written
//! to the store before the answer (an acknowledged record survives a crash), and acceptance
//! figures per project.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::error::ApiError;
use super::handlers::read_json;
use super::state::AppState;
use crate::store::{Feedback, FeedbackStats};

fn store(state: &AppState) -> Result<&crate::store::Store, ApiError> {
    state.store.as_ref().ok_or(ApiError::NoStore)
}

/// Record a verdict on a suggestion.
#[utoipa::path(
    post,
    path = "/v1/feedback",
    request_body(content = Feedback, content_type = "application/json"),
    responses(
        (status = 201, description = "Stored: `{\"id\": …}`"),
        (status = 422, description = "A field is missing or of the wrong type", body = super::error::ErrorBody),
        (status = 503, description = "No store configured (--db or --database-url)", body = super::error::ErrorBody),
    ),
    security(("bearer" = []), ())
)]
pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let store = store(&state)?;
    let value = read_json(&headers, body, state.limits.max_body_bytes).await?;
    let record: Feedback = serde_json::from_value(value)
        .map_err(|e| ApiError::InvalidField(format!("feedback: {e}")))?;
    if record.project.trim().is_empty() {
        return Err(ApiError::InvalidField("project is empty".into()));
    }
    if record.item_text.trim().is_empty() {
        return Err(ApiError::InvalidField("item_text is empty".into()));
    }
    let id = store.add_feedback(&record).await?;
    // Acceptance per project, disposition and label, as Prometheus computes it:
    // sum(verdict=~"accept|edit") / sum(all) over any window (a week, say).
    metrics::counter!(
        "storylens_feedback_total",
        "project" => record.project.clone(),
        "disposition" => record.suggested_disposition.clone().unwrap_or_default(),
        "label" => record.suggested_label.clone().unwrap_or_default(),
        "verdict" => format!("{:?}", record.verdict).to_lowercase()
    )
    .increment(1);
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": id }))).into_response())
}

/// `?project=KEY`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StatsQuery {
    /// The project whose figures to show; projects never see each other's.
    pub project: String,
}

/// Acceptance of suggestions per disposition, label and week, for one project.
#[utoipa::path(
    get,
    path = "/v1/feedback/stats",
    params(StatsQuery),
    responses(
        (status = 200, body = FeedbackStats),
        (status = 503, description = "No store configured", body = super::error::ErrorBody),
    ),
    security(("bearer" = []), ())
)]
pub async fn stats(
    State(state): State<AppState>,
    query: Result<Query<StatsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<FeedbackStats>, ApiError> {
    let Query(q) = query
        .map_err(|_| ApiError::InvalidField("the `project` query parameter is required".into()))?;
    let stats = store(&state)?.stats(&q.project).await?;
    for d in &stats.by_disposition {
        metrics::gauge!("storylens_feedback_acceptance", "project" => stats.project.clone(), "disposition" => d.key.clone()).set(d.rate);
    }
    Ok(Json(stats))
}
