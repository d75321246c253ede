//! `POST /v1/score`: a backlog as NDJSON in (one item per line, any item shape of
//! `/v1/classify`), NDJSON results out as they are ready, the summary last. The body is read as
//! a stream and answered in batches, so a backlog of any size fits in flat memory; a full queue
//! slows the stream down instead of dropping rows, and every line gets an answer: a result or an
//! error naming it.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::error::ApiError;
use super::state::AppState;
use crate::analysis::Item;
use crate::backlog::read::object_record;
use crate::backlog::report::{ScoredRow, Summary};
use crate::service::Admission;

/// Items per model submission.
const BATCH: usize = 64;

/// Score a backlog streamed as NDJSON.
#[utoipa::path(
    post,
    path = "/v1/score",
    request_body(content = String, content_type = "application/x-ndjson", description = "One item per line, any shape `/v1/classify` takes"),
    responses(
        (status = 200, description = "NDJSON: one result (or `{line, error}`) per input line in order, then `{\"summary\": …}`", content_type = "application/x-ndjson"),
        (status = 401, description = "Missing or wrong API key", body = super::error::ErrorBody),
        (status = 415, description = "Not application/x-ndjson", body = super::error::ErrorBody),
        (status = 503, description = "Loading or shutting down", body = super::error::ErrorBody),
    ),
    security(("bearer" = []), ())
)]
pub async fn score(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    super::handlers::require_content_type(
        &headers,
        &[
            "application/x-ndjson",
            "application/jsonl",
            "application/json-lines",
        ],
    )?;
    if !state.is_ready() {
        return Err(ApiError::NotReady);
    }
    let (tx, rx) = mpsc::channel::<Bytes>(8);
    tokio::spawn(run(state, body, tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// One answered line, ready to send.
fn line(v: &impl serde::Serialize) -> Bytes {
    let mut s = serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec());
    s.push(b'\n');
    Bytes::from(s)
}

async fn run(state: AppState, body: Body, tx: mpsc::Sender<Bytes>) {
    let limit = state.limits.max_body_bytes;
    let mut summary = Summary::default();
    let mut pending: Vec<(usize, Item, Option<String>)> = Vec::with_capacity(BATCH);
    let mut buf: Vec<u8> = Vec::new();
    let mut line_no = 0usize;
    let mut stream = body.into_data_stream();
    let mut ended = false;
    while !ended {
        match stream.next().await {
            Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
            Some(Err(e)) => {
                let _ = tx
                    .send(line(
                        &serde_json::json!({"error": format!("reading the body failed: {e}")}),
                    ))
                    .await;
                return;
            }
            None => {
                ended = true;
                if !buf.is_empty() && buf.last() != Some(&b'\n') {
                    buf.push(b'\n');
                }
            }
        }
        while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = buf.drain(..=pos).collect();
            line_no += 1;
            let text = String::from_utf8_lossy(&raw);
            let text = text.trim_start_matches('\u{feff}').trim();
            if text.is_empty() {
                continue;
            }
            let parsed = serde_json::from_str(text)
                .map_err(|e| format!("not valid JSON: {e}"))
                .and_then(|v| object_record(&v));
            match parsed {
                Ok((item, kind)) => pending.push((line_no, item, kind)),
                Err(error) => {
                    // Earlier lines go first: results stay in input order.
                    if !flush(&state, &mut pending, &mut summary, &tx).await {
                        return;
                    }
                    summary.add_error();
                    if tx
                        .send(line(&serde_json::json!({"line": line_no, "error": error})))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
            if pending.len() >= BATCH && !flush(&state, &mut pending, &mut summary, &tx).await {
                return;
            }
        }
        if buf.len() > limit {
            let _ = flush(&state, &mut pending, &mut summary, &tx).await;
            let _ = tx
                .send(line(&serde_json::json!({"line": line_no + 1, "error": format!("line longer than {limit} bytes; reading stopped")})))
                .await;
            return;
        }
    }
    if flush(&state, &mut pending, &mut summary, &tx).await {
        let _ = tx
            .send(line(&serde_json::json!({"summary": summary})))
            .await;
    }
}

/// Scores the pending items and sends their results; false when the client has gone.
async fn flush(
    state: &AppState,
    pending: &mut Vec<(usize, Item, Option<String>)>,
    summary: &mut Summary,
    tx: &mpsc::Sender<Bytes>,
) -> bool {
    if pending.is_empty() {
        return true;
    }
    let batch = std::mem::take(pending);
    let Some(scorer) = state.ready_scorer().cloned() else {
        return false;
    };
    let items = Arc::new(
        batch
            .iter()
            .map(|(_, item, _)| item.clone())
            .collect::<Vec<_>>(),
    );
    // A full queue holds this stream back instead of losing its rows; waiting ends as soon as
    // the client has gone.
    let scoring = tokio::select! {
        s = scorer.score(items, Admission::Wait, state.limits.request_timeout) => s,
        _ = tx.closed() => return false,
    };
    let results: Vec<Result<_, String>> = match scoring {
        Ok(s) => s
            .results
            .into_iter()
            .map(|r| r.map_err(|e| line_error(&e)))
            .collect(),
        Err(crate::Error::ShuttingDown) => return false,
        // The whole piece failed (a timeout): every line says so, none is lost.
        Err(e) => {
            let message = line_error(&e);
            batch.iter().map(|_| Err(message.clone())).collect()
        }
    };
    for ((line_no, item, kind), outcome) in batch.into_iter().zip(results) {
        let out = match outcome {
            Ok(scored) => {
                let row = ScoredRow::new(None, line_no, &item, kind, &scored);
                summary.add(&row);
                line(&row)
            }
            Err(error) => {
                summary.add_error();
                line(&serde_json::json!({"line": line_no, "error": error}))
            }
        };
        if tx.send(out).await.is_err() {
            return false;
        }
    }
    true
}

/// What a line's error says: input problems verbatim, our failures generic (and logged).
fn line_error(e: &crate::Error) -> String {
    match e.kind() {
        crate::error::ErrorKind::Input | crate::error::ErrorKind::Unavailable => e.to_string(),
        _ => {
            tracing::error!(error = %e, "scoring a line failed");
            "internal error; the details are in the server log".into()
        }
    }
}
