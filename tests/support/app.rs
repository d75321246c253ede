//! The in-process router under test, against the fake model and the fake rewriter: what the
//! router test files share.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use storylens::analysis::rewrite::fake::FakeRewriter;
use storylens::batching::{BatchConfig, Batcher, RewriteQueue};
use storylens::http::{router, AppState, Limits};
use storylens::model::fake::{FakeModel, Gate};
use storylens::model::Model;

pub struct Setup {
    pub delay: Duration,
    pub max_queued: usize,
    pub max_items: usize,
    pub timeout: Duration,
    pub api_key: Option<&'static str>,
    pub ready: bool,
    /// Rewrite engine delay; `None` leaves rewrites off.
    pub rewrite_delay: Option<Duration>,
    pub max_queued_rewrites: usize,
    /// Holds every classification batch until the test opens it.
    pub gate: Option<Arc<Gate>>,
    /// Holds every rewrite until the test opens it.
    pub rewrite_gate: Option<Arc<Gate>>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            delay: Duration::ZERO,
            max_queued: 1000,
            max_items: 100,
            timeout: Duration::from_secs(10),
            api_key: None,
            ready: true,
            rewrite_delay: Some(Duration::ZERO),
            max_queued_rewrites: 8,
            gate: None,
            rewrite_gate: None,
        }
    }
}

/// The router and the queues behind it, so a test can watch them.
#[allow(dead_code)]
pub struct Parts {
    pub router: Router,
    pub batcher: Arc<Batcher>,
    pub rewrites: Arc<RewriteQueue>,
}

pub fn app(s: Setup) -> Router {
    parts(s).router
}

pub fn parts(s: Setup) -> Parts {
    let batcher = Arc::new(Batcher::new(BatchConfig {
        max_batch_tokens: 1024,
        max_batch_items: 8,
        max_queued_items: s.max_queued,
        workers: 1,
    }));
    let rewrites = Arc::new(RewriteQueue::new(s.max_queued_rewrites));
    let state = AppState::new(
        Arc::clone(&batcher),
        Limits {
            max_items_per_request: s.max_items,
            max_body_bytes: 64 * 1024,
            request_timeout: s.timeout,
            max_rewrite_items: 4,
            rewrite_timeout: s.timeout,
            body_read_timeout: Duration::from_secs(5),
        },
        s.api_key.map(str::to_string),
        100,
    )
    .with_rewrite_queue(Arc::clone(&rewrites));
    if let Some(delay) = s.rewrite_delay {
        let engine = FakeRewriter::with_delay(delay).with_gate(s.rewrite_gate);
        state.install_rewriter(Arc::new(engine), 1);
    }
    if s.ready {
        let model = FakeModel::new(32).with_delay(s.delay).with_gate(s.gate);
        state.install_model(Arc::new(model) as Arc<dyn Model>);
        state.set_ready();
    }
    Parts {
        router: router(state),
        batcher,
        rewrites,
    }
}

/// Waits until `cond` holds (polling, so the tasks under test run), failing after 10 s.
#[allow(dead_code)]
pub async fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

pub fn post(body: impl Into<Body>) -> Request<Body> {
    Request::post("/v1/classify")
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .unwrap()
}

pub async fn send(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, headers, value)
}
