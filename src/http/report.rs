//! `POST /v1/report`: a backlog summary (the last line of `/v1/score`) rendered as the report
//! `storylens score --report` writes, so the page's export and the command's file are one.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::ApiError;
use super::handlers::read_json;
use super::state::AppState;
use crate::backlog::report::Summary;

/// The file a report is written as.
#[derive(Debug, Default, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// One self-contained page (inline SVG chart).
    #[default]
    Html,
    /// Markdown with a Mermaid pie chart.
    Markdown,
}

/// A summary to render.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReportRequest {
    /// The `summary` object of `/v1/score`'s last line.
    pub summary: Summary,
    #[serde(default)]
    pub format: ReportFormat,
    /// The report's heading [default: "storylens backlog report"].
    pub title: Option<String>,
}

/// Render a backlog summary as a report file.
#[utoipa::path(
    post,
    path = "/v1/report",
    request_body(content = ReportRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The report: `text/html` or `text/markdown`", content_type = "text/html"),
        (status = 401, description = "Missing or wrong API key", body = super::error::ErrorBody),
        (status = 422, description = "Not a summary", body = super::error::ErrorBody),
    ),
    security(("bearer" = []), ())
)]
pub async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let value = read_json(&headers, body, state.limits.max_body_bytes).await?;
    let req: ReportRequest = serde_json::from_value(value)
        .map_err(|e| ApiError::InvalidField(format!("report: {e}")))?;
    let title = req
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or("storylens backlog report")
        .chars()
        .take(200)
        .collect::<String>();
    let (kind, text) = match req.format {
        ReportFormat::Html => ("text/html; charset=utf-8", req.summary.html(&title)),
        ReportFormat::Markdown => ("text/markdown; charset=utf-8", req.summary.markdown(&title)),
    };
    Ok(([(header::CONTENT_TYPE, kind)], text).into_response())
}
