//! In-process tests of every status path of the router, against the fake model (no sockets).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};

#[path = "support/app.rs"]
mod app;
use app::{app, parts, post, send, until, Setup};
use storylens::model::fake::Gate;

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
    let gate = Gate::closed();
    let parts = parts(Setup {
        gate: Some(Arc::clone(&gate)),
        ..Setup::default()
    });
    let app = parts.router.clone();
    // The first request holds the single worker at the gate; the second waits in the queue.
    let busy = {
        let app = app.clone();
        tokio::spawn(async move { send(&app, post(r#"{"items": [{"title": "first"}]}"#)).await })
    };
    until("the first batch starts", || gate.started() == 1).await;
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
    until("the second request is queued", || {
        parts.batcher.queued() == 2
    })
    .await;
    gone.abort(); // the client hangs up while its items are queued
    assert!(gone.await.unwrap_err().is_cancelled());
    gate.open();
    assert_eq!(busy.await.unwrap().0, StatusCode::OK);
    until("the queue skips the two items", || {
        parts.batcher.dropped() == 2
    })
    .await;
    assert_eq!(parts.batcher.queued(), 0);
    assert_eq!(gate.started(), 1, "the model never saw the dropped items");
    // The same count reaches /metrics.
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

#[tokio::test]
async fn oversized_targets_and_header_sets_get_json_414_and_431() {
    let app = app(Setup::default());
    let uri = format!("/health?q={}", "a".repeat(9 * 1024));
    let req = Request::get(uri).body(Body::empty()).unwrap();
    let (status, _, v) = send(&app, req).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG, "{v}");
    assert_eq!(v["code"], "uri_too_long");
    let mut req = Request::get("/health");
    for i in 0..65 {
        req = req.header(format!("x-extra-{i}"), "1");
    }
    let (status, _, v) = send(&app, req.body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("65 header fields"),
        "{v}"
    );
    let req = Request::get("/health")
        .header("x-big", "b".repeat(17 * 1024))
        .body(Body::empty())
        .unwrap();
    let (status, _, v) = send(&app, req).await;
    assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "{v}");
    assert_eq!(v["code"], "headers_too_large");
    // Just under the limits is answered.
    let req = Request::get(format!("/health?q={}", "a".repeat(7 * 1024)))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, req).await.0, StatusCode::OK);
}
