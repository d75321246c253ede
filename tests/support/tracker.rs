//! A fake GitHub and Jira on loopback that records every call: what the webhook test files
//! share.

use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, State};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde_json::{json, Value};

/// What the fake GitHub saw, and how many comment posts it still fails with 500.
#[derive(Default)]
pub struct Fake {
    pub calls: Vec<(String, String, Value)>,
    pub fail_posts: usize,
    pub next_id: u64,
}

pub type Shared = Arc<Mutex<Fake>>;

async fn list(
    State(f): State<Shared>,
    UrlPath((o, r, n)): UrlPath<(String, String, u64)>,
) -> Json<Value> {
    let mut f = f.lock().unwrap();
    f.calls.push((
        "GET".into(),
        format!("/repos/{o}/{r}/issues/{n}/comments"),
        Value::Null,
    ));
    Json(json!([]))
}

async fn create(
    State(f): State<Shared>,
    UrlPath((o, r, n)): UrlPath<(String, String, u64)>,
    Json(body): Json<Value>,
) -> (axum::http::StatusCode, Json<Value>) {
    let mut f = f.lock().unwrap();
    f.calls.push((
        "POST".into(),
        format!("/repos/{o}/{r}/issues/{n}/comments"),
        body.clone(),
    ));
    if f.fail_posts > 0 {
        f.fail_posts -= 1;
        return (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"message": "boom"})),
        );
    }
    f.next_id += 1;
    let id = 1000 + f.next_id;
    (
        axum::http::StatusCode::CREATED,
        Json(json!({"id": id, "body": body["body"]})),
    )
}

async fn update(
    State(f): State<Shared>,
    UrlPath((o, r, id)): UrlPath<(String, String, u64)>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut f = f.lock().unwrap();
    f.calls.push((
        "PATCH".into(),
        format!("/repos/{o}/{r}/issues/comments/{id}"),
        body.clone(),
    ));
    Json(json!({"id": id, "body": body["body"]}))
}

async fn labels(
    State(f): State<Shared>,
    UrlPath((o, r, n)): UrlPath<(String, String, u64)>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut f = f.lock().unwrap();
    f.calls.push((
        "POST".into(),
        format!("/repos/{o}/{r}/issues/{n}/labels"),
        body,
    ));
    Json(json!([]))
}

async fn jira_create(
    State(f): State<Shared>,
    UrlPath(key): UrlPath<String>,
    Json(body): Json<Value>,
) -> (axum::http::StatusCode, Json<Value>) {
    let mut f = f.lock().unwrap();
    f.calls.push((
        "POST".into(),
        format!("/rest/api/3/issue/{key}/comment"),
        body,
    ));
    f.next_id += 1;
    let id = format!("{}", 10_000 + f.next_id);
    (axum::http::StatusCode::CREATED, Json(json!({"id": id})))
}

async fn jira_update(
    State(f): State<Shared>,
    UrlPath((key, id)): UrlPath<(String, String)>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut f = f.lock().unwrap();
    f.calls.push((
        "PUT".into(),
        format!("/rest/api/3/issue/{key}/comment/{id}"),
        body,
    ));
    Json(json!({"id": id}))
}

/// Starts the fake GitHub (and Jira) on its own runtime; returns its base URL and its record.
pub fn fake_github() -> (String, Shared) {
    let shared: Shared = Arc::default();
    let app = Router::new()
        .route("/repos/{o}/{r}/issues/{n}/comments", get(list).post(create))
        .route("/repos/{o}/{r}/issues/comments/{id}", patch(update))
        .route("/repos/{o}/{r}/issues/{n}/labels", post(labels))
        .route("/rest/api/3/issue/{key}/comment", post(jira_create))
        .route(
            "/rest/api/3/issue/{key}/comment/{id}",
            axum::routing::put(jira_update),
        )
        .with_state(Arc::clone(&shared));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (format!("http://{}", rx.recv().unwrap()), shared)
}
