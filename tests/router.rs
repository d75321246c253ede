//! In-process tests of every status path of the router, against the fake model (no sockets).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use storylens::analysis::rewrite::fake::FakeRewriter;
use storylens::batching::{BatchConfig, Batcher, RewriteQueue};
use storylens::http::{router, AppState, Limits};
use storylens::model::fake::FakeModel;
use storylens::model::Model;

struct Setup {
    delay: Duration,
    max_queued: usize,
    max_items: usize,
    timeout: Duration,
    api_key: Option<&'static str>,
    ready: bool,
    /// Rewrite engine delay; `None` leaves rewrites off.
    rewrite_delay: Option<Duration>,
    max_queued_rewrites: usize,
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
        }
    }
}

fn app(s: Setup) -> Router {
    let batcher = Arc::new(Batcher::new(BatchConfig {
        max_batch_tokens: 1024,
        max_batch_items: 8,
        max_queued_items: s.max_queued,
        workers: 1,
    }));
    let state = AppState::new(
        batcher,
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
    .with_rewrite_queue(Arc::new(RewriteQueue::new(s.max_queued_rewrites)));
    if let Some(delay) = s.rewrite_delay {
        state.install_rewriter(Arc::new(FakeRewriter::with_delay(delay)), 1);
    }
    if s.ready {
        let model: Arc<dyn Model> = Arc::new(FakeModel::new(32).with_delay(s.delay));
        state.install_model(model);
        state.set_ready();
    }
    router(state)
}

fn post(body: impl Into<Body>) -> Request<Body> {
    Request::post("/v1/classify")
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .unwrap()
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, headers, value)
}

#[tokio::test]
async fn classify_returns_results_in_order_with_ids_and_timing_headers() {
    let app = app(Setup::default());
    let body = json!({"items": [
        {"id": "A-1", "title": "Refactor the billing module"},
        {"id": "A-2", "title": "Let shoppers save a wishlist"},
        {"number": 7, "title": "Upgrade the server", "body": "details"},
        {"key": "J-9", "fields": {"summary": "Show order history", "description": null}}
    ]});
    let (status, headers, v) = send(&app, post(body.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let r = v["results"].as_array().unwrap();
    let ids: Vec<_> = r.iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["A-1", "A-2", "7", "J-9"]);
    let labels: Vec<_> = r.iter().map(|x| x["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["task", "story", "task", "story"]);
    assert_eq!(r[0]["findings"][0]["code"], "task-without-story");
    assert_eq!(r[1]["findings"], json!([]));
    assert_eq!(r[0]["truncated"], json!(false));
    assert_eq!(v["model"]["name"], "fake");
    assert!(headers.contains_key("x-queue-time-ms"));
    assert!(headers.contains_key("x-inference-time-ms"));
}

#[tokio::test]
async fn long_text_is_truncated_and_flagged() {
    let app = app(Setup::default());
    let title = "word ".repeat(500);
    let (status, _, v) = send(&app, post(json!({"items": [{"title": title}]}).to_string())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["results"][0]["truncated"], json!(true));
}

#[tokio::test]
async fn bad_bodies_get_clear_4xx() {
    let app = app(Setup::default());
    let cases: Vec<(Request<Body>, StatusCode, &str, &str)> = vec![
        (
            post("{not json"),
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "not valid JSON",
        ),
        (
            post(vec![b'{', 0xff, 0xfe, b'}']),
            StatusCode::BAD_REQUEST,
            "invalid_utf8",
            "UTF-8",
        ),
        (
            post(r#"{"items": "x"}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "`items` must be an array",
        ),
        (
            post(r#"{"items": []}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "`items` is empty",
        ),
        (
            post(r#"{"items": [{"title": ""}]}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "items[0].title is empty",
        ),
        (
            post(r#"{"items": [{"title": 5}]}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "items[0].title must be a string",
        ),
        (
            post(r#"{"items": [{"description": "x"}]}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "items[0].title is required",
        ),
        (
            Request::post("/v1/classify")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("hi"))
                .unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "application/json",
        ),
        (
            post(vec![b' '; 70 * 1024]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "limit",
        ),
        (
            post(json!({"items": vec![json!({"title": "x"}); 101]}).to_string()),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "101 items",
        ),
        (
            Request::get("/nope").body(Body::empty()).unwrap(),
            StatusCode::NOT_FOUND,
            "not_found",
            "/nope",
        ),
        (
            Request::get("/v1/classify").body(Body::empty()).unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method",
        ),
    ];
    for (req, want_status, want_code, want_msg) in cases {
        let (status, _, v) = send(&app, req).await;
        assert_eq!(status, want_status, "{v}");
        assert_eq!(v["code"], want_code, "{v}");
        assert!(v["error"].as_str().unwrap().contains(want_msg), "{v}");
    }
}

#[tokio::test]
async fn api_key_guards_v1_but_not_health() {
    let app = app(Setup {
        api_key: Some("s3cret"),
        ..Setup::default()
    });
    let body = json!({"items": [{"title": "Show order history"}]}).to_string();
    let (status, headers, v) = send(&app, post(body.clone())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(v["code"], "unauthorized");
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
    let mut req = post(body.clone());
    req.headers_mut()
        .insert(header::AUTHORIZATION, "Bearer wrong".parse().unwrap());
    assert_eq!(send(&app, req).await.0, StatusCode::UNAUTHORIZED);
    let mut req = post(body);
    req.headers_mut()
        .insert(header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
    assert_eq!(send(&app, req).await.0, StatusCode::OK);
    let (status, _, _) = send(&app, Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn not_ready_is_503_on_health_and_classify() {
    let app = app(Setup {
        ready: false,
        ..Setup::default()
    });
    let (status, _, v) = send(&app, Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(v["status"], "loading");
    let (status, headers, v) = send(&app, post(r#"{"items": [{"title": "x"}]}"#)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(v["code"], "not_ready");
    assert!(headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn overload_is_429_with_retry_after() {
    let app = app(Setup {
        delay: Duration::from_millis(300),
        max_queued: 4,
        ..Setup::default()
    });
    // Ten concurrent 2-item requests against a 4-item queue and a slow model: some must be refused.
    let mut handles = Vec::new();
    for _ in 0..10 {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            send(
                &app,
                post(r#"{"items": [{"title": "a b"}, {"title": "c d"}]}"#),
            )
            .await
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for h in handles {
        let (status, headers, v) = h.await.unwrap();
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                refused += 1;
                assert_eq!(v["code"], "overloaded");
                assert!(headers.contains_key(header::RETRY_AFTER));
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert!(ok >= 2 && refused >= 1, "ok {ok}, refused {refused}");
    // Once the queue drains, requests succeed again.
    let (status, _, _) = send(&app, post(r#"{"items": [{"title": "a"}]}"#)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn slow_model_times_out_with_503() {
    let app = app(Setup {
        delay: Duration::from_millis(500),
        timeout: Duration::from_millis(50),
        ..Setup::default()
    });
    let (status, _, v) = send(&app, post(r#"{"items": [{"title": "a"}]}"#)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(v["code"], "timeout");
}

#[tokio::test]
async fn repeats_are_served_from_cache_and_counted() {
    let app = app(Setup::default());
    let body = r#"{"items": [{"title": "Cache me if you can, please"}]}"#;
    assert_eq!(send(&app, post(body)).await.0, StatusCode::OK);
    let (_, headers, _) = send(
        &app,
        post(r#"{"items": [{"title": "cache ME if you can,   please"}]}"#),
    )
    .await;
    assert_eq!(
        headers["x-inference-time-ms"], "0.000",
        "a repeat costs no model time"
    );
    let (status, headers, text) =
        send(&app, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = text.as_str().unwrap().to_string();
    for name in [
        "storylens_cache_hits_total",
        "storylens_requests_total",
        "storylens_batch_size",
        "storylens_queue_time_seconds",
        "storylens_inference_time_seconds",
        "storylens_queue_depth",
        "storylens_batch_tokens",
    ] {
        assert!(text.contains(name), "missing {name} in metrics:\n{text}");
    }
}

#[tokio::test]
async fn info_and_openapi_describe_the_service() {
    let app = app(Setup::default());
    let (status, _, v) = send(&app, Request::get("/info").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["model"]["name"], "fake");
    assert_eq!(v["max_items_per_request"], 100);
    let (status, _, v) = send(
        &app,
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(v["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/v1/classify", "/health", "/info", "/metrics"] {
        assert!(
            v["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
    }
    assert!(v["components"]["schemas"].get("ClassifyResponse").is_some());
}

#[tokio::test]
async fn items_of_clients_that_left_are_dropped_before_the_model() {
    let app = app(Setup {
        delay: Duration::from_millis(300),
        ..Setup::default()
    });
    // The first request keeps the single worker busy; the second waits in the queue.
    let busy = {
        let app = app.clone();
        tokio::spawn(async move { send(&app, post(r#"{"items": [{"title": "first"}]}"#)).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let gone = {
        let app = app.clone();
        tokio::spawn(async move {
            send(
                &app,
                post(
                    r#"{"items": [{"title": "leaves early one"}, {"title": "leaves early two"}]}"#,
                ),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    gone.abort(); // the client hangs up while its items are queued
    assert_eq!(busy.await.unwrap().0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_, _, text) = send(&app, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    let text = text.as_str().unwrap().to_string();
    let dropped = text
        .lines()
        .find(|l| l.starts_with("storylens_items_dropped_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(dropped >= 2.0, "dropped items counted: {dropped}\n{text}");
}

fn post_rewrite(body: impl Into<Body>) -> Request<Body> {
    Request::post("/v1/rewrite")
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .unwrap()
}

#[tokio::test]
async fn rewrite_answers_refinements_in_order_with_task_titles() {
    let app = app(Setup::default());
    let body = json!({"items": [
        {"id": "R-1", "title": "As a developer, I want to cache the product feed in Redis"},
        {"number": 12, "title": "Create a database table for wishlist items", "body": "see schema"}
    ]});
    let (status, _, v) = send(&app, post_rewrite(body.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["id"], "R-1");
    assert_eq!(r[1]["id"], "12");
    assert_eq!(r[0]["task"], "Cache the product feed in Redis");
    assert_eq!(r[1]["task"], "Create a database table for wishlist items");
    assert_eq!(r[1]["disposition"], "keep-task");
    assert_eq!(r[1]["story"], Value::Null);
    assert_eq!(r[1]["verified"], json!(false));
}

#[tokio::test]
async fn rewrite_takes_a_profile_and_refuses_a_malformed_one() {
    let app = app(Setup::default());
    let body = json!({
        "items": [{"title": "Add index on invoices"}],
        "profile": {"name": "Ledgerly", "personas": ["freelancer"]}
    });
    let (status, _, v) = send(&app, post_rewrite(body.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // The fake engine echoes the profile's persona as the role: the profile reached it.
    assert_eq!(v["results"][0]["role"], "freelancer");
    let bad = json!({"items": [{"title": "Add index"}], "profile": {"personas": "one"}});
    let (status, _, v) = send(&app, post_rewrite(bad.to_string())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["error"].as_str().unwrap().starts_with("profile"), "{v}");
}

#[tokio::test]
async fn rewrite_status_paths() {
    // Off or still loading: 503 with a code saying so.
    let off = app(Setup {
        rewrite_delay: None,
        ..Default::default()
    });
    let one = json!({"items": [{"title": "Upgrade the build"}]}).to_string();
    let (status, _, v) = send(&off, post_rewrite(one.clone())).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(v["code"], "rewrite_unavailable");

    let app = app(Setup::default());
    // More items than --max-rewrite-items (4): 413.
    let five: Vec<_> = (0..5)
        .map(|i| json!({"title": format!("Task {i}")}))
        .collect();
    let (status, _, v) = send(&app, post_rewrite(json!({"items": five}).to_string())).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    // The engine's input errors name the item: 422.
    let foreign = json!({"items": [{"title": "ok"}, {"title": "Créer une table pour les articles de la liste avec les prix"}]});
    let (status, _, v) = send(&app, post_rewrite(foreign.to_string())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["error"].as_str().unwrap().starts_with("items[1]"), "{v}");
    // Wrong content type: 415.
    let req = Request::post("/v1/rewrite")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(one))
        .unwrap();
    assert_eq!(send(&app, req).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn rewrite_queue_full_is_429_and_classification_is_unaffected() {
    let app = app(Setup {
        rewrite_delay: Some(Duration::from_millis(300)),
        max_queued_rewrites: 2,
        ..Default::default()
    });
    let two = json!({"items": [{"title": "Upgrade the build"}, {"title": "Split the module"}]});
    // Fill the queue from another task, then a third item finds it full.
    let filler = {
        let app = app.clone();
        let body = two.to_string();
        tokio::spawn(async move { send(&app, post_rewrite(body)).await.0 })
    };
    let mut saw_429 = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let (status, headers, v) = send(&app, post_rewrite(two.to_string())).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(v["code"], "overloaded");
            assert!(headers.contains_key(header::RETRY_AFTER));
            saw_429 = true;
            break;
        }
    }
    assert!(saw_429, "a full rewrite queue answers 429");
    // Classification has its own queue and answers at once.
    let (status, _, _) = send(
        &app,
        post(json!({"items": [{"title": "Show order history"}]}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(filler.await.unwrap(), StatusCode::OK);
}

#[tokio::test]
async fn score_streams_one_answer_per_line_then_the_summary() {
    let app = app(Setup::default());
    let mut body = String::new();
    for i in 0..150 {
        match i % 50 {
            7 => body.push_str("{broken\n"),
            9 => body.push_str("{\"title\": \"\"}\n"),
            _ if i % 2 == 0 => body.push_str(&format!("{{\"id\": \"T-{i}\", \"title\": \"Refactor module {i}\"}}\n")),
            _ => body.push_str(&format!("{{\"number\": {i}, \"title\": \"Let users export report {i}\", \"labels\": [\"task\"]}}\n")),
        }
    }
    body.push_str("\n{\"key\": \"J-1\", \"fields\": {\"summary\": \"Show order history\"}}");
    let req = Request::post("/v1/score")
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from(body))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let lines: Vec<Value> = std::str::from_utf8(&bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // 151 items (the blank line is not one), then the summary.
    assert_eq!(lines.len(), 152);
    let errors: Vec<u64> = lines
        .iter()
        .filter(|l| l.get("error").is_some())
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert_eq!(errors, [8, 10, 58, 60, 108, 110]);
    let order: Vec<u64> = lines[..151]
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "input order kept");
    assert_eq!(lines[0]["label"], "task");
    assert_eq!(lines[1]["label"], "story");
    assert_eq!(
        lines[1]["type_mismatch"],
        json!(true),
        "tracker says task, model story"
    );
    assert_eq!(lines[150]["id"], "J-1");
    let summary = &lines[151]["summary"];
    assert_eq!(summary["rows"], 145);
    assert_eq!(summary["errors"], 6);

    let wrong = Request::post("/v1/score")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(
        send(&app, wrong).await.0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
}

#[tokio::test]
async fn score_finishes_when_the_queue_is_smaller_than_its_chunks() {
    // Before the fix, a queue smaller than /v1/score's 64-item chunk was retried forever.
    let app = app(Setup {
        max_queued: 16,
        ..Default::default()
    });
    let body: String = (0..100)
        .map(|i| format!("{{\"title\": \"Refactor module {i}\"}}\n"))
        .collect();
    let req = Request::post("/v1/score")
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from(body))
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(20), async {
        let resp = app.clone().oneshot(req).await.unwrap();
        resp.into_body().collect().await.unwrap().to_bytes()
    })
    .await
    .expect("/v1/score finished");
    let lines = std::str::from_utf8(&resp).unwrap().lines().count();
    assert_eq!(lines, 101, "100 rows and the summary");
}

#[tokio::test]
async fn a_request_larger_than_the_queue_is_413_not_429() {
    let app = app(Setup {
        max_queued: 4,
        ..Default::default()
    });
    let items: Vec<_> = (0..6)
        .map(|i| json!({"title": format!("Show order {i}")}))
        .collect();
    let (status, headers, v) = send(&app, post(json!({"items": items}).to_string())).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert!(headers.get(header::RETRY_AFTER).is_none());
}

#[tokio::test]
async fn items_without_letters_are_invalid_and_bearer_is_case_insensitive() {
    let plain = app(Setup::default());
    let (status, _, v) = send(
        &plain,
        post(json!({"items": [{"title": "\u{200b}\u{200b}"}]}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let keyed = app(Setup {
        api_key: Some("s3cret"),
        ..Default::default()
    });
    let req = Request::post("/v1/classify")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, "bearer s3cret")
        .body(Body::from(
            json!({"items": [{"title": "Show order history"}]}).to_string(),
        ))
        .unwrap();
    assert_eq!(send(&keyed, req).await.0, StatusCode::OK);
}

/// Whether `value` fits `schema` (types, required fields, `oneOf`, `$ref`s into `doc`): the
/// subset of JSON Schema our document uses.
fn fits(doc: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        return fits(doc, &doc["components"]["schemas"][name], value);
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        return if options.iter().any(|o| fits(doc, o, value).is_ok()) {
            Ok(())
        } else {
            Err(format!("{value} fits no option of {schema}"))
        };
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let actual = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let ok = types.is_empty()
        || types.contains(&actual)
        || (actual == "integer" && types.contains(&"number"));
    if !ok {
        return Err(format!("{value} is {actual}, schema wants {types:?}"));
    }
    if let (Some(props), Value::Object(obj)) = (schema.get("properties"), value) {
        for req in schema["required"].as_array().into_iter().flatten() {
            let req = req.as_str().unwrap();
            if !obj.contains_key(req) {
                return Err(format!("`{req}` missing from {value}"));
            }
        }
        for (k, v) in obj {
            if let Some(s) = props.get(k) {
                fits(doc, s, v).map_err(|e| format!("{k}: {e}"))?;
            }
        }
    }
    if let (Some(items), Value::Array(a)) = (schema.get("items"), value) {
        for v in a {
            fits(doc, items, v)?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_documented_example_is_accepted_and_the_answer_fits_the_schema() {
    let app = app(Setup::default());
    let (_, _, doc) = send(
        &app,
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await;
    let schemas = &doc["components"]["schemas"];
    // Items are published as they are sent: no `{"Item": …}` wrappers.
    let shapes = schemas["ItemInput"]["oneOf"].as_array().expect("oneOf");
    assert_eq!(shapes.len(), 3);
    assert!(schemas["OwnItem"]["properties"].get("title").is_some());
    assert!(
        schemas["JiraText"]["oneOf"].is_array(),
        "Jira text: string or document"
    );
    let example = schemas["ClassifyRequest"]["example"].clone();
    fits(&doc, &schemas["ClassifyRequest"], &example).unwrap();
    let (status, _, v) = send(&app, post(example.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["results"].as_array().unwrap().len(), 4);
    fits(&doc, &schemas["ClassifyResponse"], &v).unwrap();
    // A wrong answer must not fit: the check can fail.
    let mut broken = v.clone();
    broken["results"][0]["label"] = json!(7);
    assert!(fits(&doc, &schemas["ClassifyResponse"], &broken).is_err());
}

#[tokio::test]
async fn a_broken_body_is_400_a_large_one_413_and_neither_reaches_the_model() {
    let app = app(Setup::default());
    // A body that fails mid-stream (what a bad chunk size or a short body looks like).
    let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> = vec![
        Ok(axum::body::Bytes::from_static(b"{\"items\": [")),
        Err(std::io::Error::other("unexpected end of chunked body")),
    ];
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    let (status, _, v) = send(&app, post(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "invalid_body");
    let huge = format!(r#"{{"items": [{{"title": "{}"}}]}}"#, "a".repeat(70 * 1024));
    let (status, _, v) = send(&app, post(huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert_eq!(v["code"], "too_large");
}
