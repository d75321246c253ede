//! In-process tests of the router's refinement and bulk-scoring paths, against the fake model
//! and the fake rewriter (no sockets).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

#[path = "support/app.rs"]
mod app;
use app::{app, parts, post, send, until, Setup};
use storylens::model::fake::Gate;

/// Streams `body` through `/v1/score` (at `path`, with its query) and parses the answer lines.
async fn score_lines(app: &axum::Router, path: &str, body: String) -> Vec<Value> {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from(body))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    std::str::from_utf8(&bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn post_report(body: Value) -> Request<Body> {
    Request::post("/v1/report")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
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
    let gate = Gate::closed();
    let parts = parts(Setup {
        max_queued_rewrites: 2,
        rewrite_gate: Some(Arc::clone(&gate)),
        ..Default::default()
    });
    let app = parts.router.clone();
    let two = json!({"items": [{"title": "Upgrade the build"}, {"title": "Split the module"}]});
    // The filler's first item holds the worker at the gate and its second waits in the queue.
    let filler = {
        let app = app.clone();
        let body = two.to_string();
        tokio::spawn(async move { send(&app, post_rewrite(body)).await.0 })
    };
    until("the first rewrite starts", || gate.started() == 1).await;
    until("the second waits", || parts.rewrites.queued() == 1).await;
    // One waiting plus two more exceeds the queue's two places.
    let (status, headers, v) = send(&app, post_rewrite(two.to_string())).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert_eq!(v["code"], "overloaded");
    assert!(headers.contains_key(header::RETRY_AFTER));
    // Classification has its own queue and answers at once.
    let (status, _, _) = send(
        &app,
        post(json!({"items": [{"title": "Show order history"}]}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    gate.open();
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
    let lines = score_lines(&app, "/v1/score", body).await;
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
async fn score_groups_near_duplicates_and_the_report_renders_its_summary() {
    let app = app(Setup::default());
    let body = [
        "Let users export the monthly report",
        "Import the monthly sales report",
        "let users EXPORT the monthly report!",
        "Export the monthly sales report",
        "Refactor the billing module",
    ]
    .iter()
    .map(|t| format!("{}\n", json!({ "title": t })))
    .collect::<String>();
    // The fake's bag of words puts "import" and "export" of the same report at 0.8, above
    // this threshold: only the sibling rule keeps them apart.
    let lines = score_lines(
        &app,
        "/v1/score?detail=true&duplicates=true&threshold=0.75",
        body,
    )
    .await;
    assert_eq!(lines.len(), 6);
    // With detail, each row carries what /v1/classify answers for the item.
    assert_eq!(lines[4]["result"]["label"], "task");
    assert!(lines[4]["result"]["findings"].is_array());
    let summary = lines[5]["summary"].clone();
    let groups = summary["duplicates"].as_array().unwrap();
    let grouped: Vec<Vec<u64>> = groups
        .iter()
        .map(|g| {
            g["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["line"].as_u64().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(grouped, vec![vec![1, 3]], "{summary}");

    // The page's export: the server renders the summary it sent, as the command would.
    let (status, headers, html) = send(&app, post_report(json!({ "summary": summary }))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = html.as_str().unwrap().to_string();
    assert!(
        html.contains("<h2>Near-duplicates</h2>") && html.contains("5</span> items scored"),
        "{html}"
    );
    let (status, headers, md) = send(
        &app,
        post_report(json!({ "summary": summary, "format": "markdown", "title": "Sprint 12" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/markdown"));
    assert!(md.as_str().unwrap().starts_with("# Sprint 12"));
    let (status, _, err) = send(&app, post_report(json!({ "summary": 3 }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let bad = Request::post("/v1/score?duplicates=true&threshold=2")
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from("{\"title\": \"x y z\"}\n"))
        .unwrap();
    let (status, _, err) = send(&app, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(
        err["error"].as_str().unwrap().contains("threshold"),
        "{err}"
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
