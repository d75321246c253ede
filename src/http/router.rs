//! The router: routes, auth, request metrics and JSON fallbacks. Pure: it only wires `AppState`
//! into handlers, so tests drive it in-process with a fake model.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use subtle::ConstantTimeEq;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

use super::error::ApiError;
use super::handlers;
use super::openapi::ApiDoc;
use super::state::AppState;

/// Builds the application router.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/v1/classify", post(handlers::classify))
        .route("/v1/rewrite", post(super::rewrite::rewrite))
        .route("/v1/score", post(super::score::score))
        .route("/v1/report", post(super::report::report))
        .route("/v1/feedback", post(super::feedback::post))
        .route("/v1/feedback/stats", get(super::feedback::stats))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_api_key,
        ));
    Router::new()
        .merge(api)
        // Signed by the tracker instead of the API key.
        .route("/v1/webhooks/github", post(super::webhooks::github))
        .route("/v1/webhooks/jira", post(super::jira_hook::jira))
        .route("/", get(super::page::index))
        .route("/page.js", get(super::page::script))
        .route("/page.css", get(super::page::style))
        .route("/health", get(handlers::health))
        .route("/info", get(handlers::info))
        .route("/metrics", get(handlers::metrics))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(count_requests))
        .layer(middleware::from_fn(check_head))
        // A body that stalls longer than this fails its read (408) instead of holding a task.
        .layer(RequestBodyTimeoutLayer::new(state.limits.body_read_timeout))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    use utoipa::OpenApi;
    Json(ApiDoc::openapi())
}

async fn not_found(req: Request) -> ApiError {
    ApiError::NotFound(format!("{} {}", req.method(), req.uri().path()))
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// `Authorization: Bearer <key>` on `/v1/*` when a key is configured, compared in constant time.
async fn require_api_key(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(key) = &state.api_key {
        let given = req
            .headers()
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            // The scheme is case-insensitive (RFC 9110, 11.1).
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map_or("", |(_, token)| token.trim());
        if !bool::from(given.as_bytes().ct_eq(key.as_bytes())) {
            return ApiError::Unauthorized.into_response();
        }
    }
    next.run(req).await
}

/// Refuses request targets and header sets over the limits with the JSON error body; hyper's
/// own limits sit above these (`defaults::CONNECTION_*`), so only a grossly oversized head gets
/// its bare status line.
async fn check_head(req: Request, next: Next) -> Response {
    use crate::config::defaults::{MAX_HEADERS, MAX_HEADER_BYTES, MAX_URI_BYTES};
    let target = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if target > MAX_URI_BYTES {
        return ApiError::UriTooLong(target, MAX_URI_BYTES).into_response();
    }
    let count = req.headers().len();
    if count > MAX_HEADERS {
        return ApiError::HeadersTooLarge(format!(
            "{count} header fields; at most {MAX_HEADERS} are accepted"
        ))
        .into_response();
    }
    // Each field costs its name, ": ", its value and CRLF on the wire.
    let bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if bytes > MAX_HEADER_BYTES {
        return ApiError::HeadersTooLarge(format!(
            "{bytes} bytes of header fields; at most {MAX_HEADER_BYTES} are accepted"
        ))
        .into_response();
    }
    next.run(req).await
}

/// Counts requests by route and status.
async fn count_requests(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    metrics::counter!(
        "storylens_requests_total",
        "route" => route,
        "status" => resp.status().as_u16().to_string()
    )
    .increment(1);
    resp
}
