//! `POST /v1/score`: a backlog as NDJSON in (one item per line, any item shape of
//! `/v1/classify`), NDJSON results out as they are ready, the summary last. The body is read as
//! a stream and answered in batches, so a backlog of any size fits in flat memory; a full queue
//! slows the stream down instead of dropping rows, and every line gets an answer: a result or an
//! error naming it.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::error::ApiError;
use super::state::AppState;
use crate::analysis::Item;
use crate::backlog::duplicates::{compared_text, Compared, DuplicateFinder, Member};
use crate::backlog::read::object_record;
use crate::backlog::report::{ScoredRow, Summary};
use crate::service::Admission;

/// Items per model submission.
const BATCH: usize = 64;

/// What a `/v1/score` stream adds to its rows and summary.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScoreOptions {
    /// Add each item's full classification (findings with spans, messages and fixes, as
    /// `/v1/classify` answers) to its row as `result`.
    #[serde(default)]
    pub detail: bool,
    /// Group near-duplicate items in the summary (`duplicates`).
    #[serde(default)]
    pub duplicates: bool,
    /// Cosine similarity at or above which two items are near-duplicates.
    pub threshold: Option<f32>,
}

/// Score a backlog streamed as NDJSON.
#[utoipa::path(
    post,
    path = "/v1/score",
    params(ScoreOptions),
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
    Query(options): Query<ScoreOptions>,
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
    if let Some(t) = options.threshold {
        if !(0.0..=1.0).contains(&t) {
            return Err(crate::Error::InvalidInput(format!(
                "threshold must be between 0 and 1, got {t}"
            ))
            .into());
        }
    }
    if !state.is_ready() {
        return Err(ApiError::NotReady);
    }
    let (tx, rx) = mpsc::channel::<Bytes>(8);
    let stream = Stream {
        detail: options.detail,
        finder: options.duplicates.then(|| {
            DuplicateFinder::new(
                options
                    .threshold
                    .unwrap_or(crate::config::defaults::DUPLICATE_THRESHOLD),
                crate::config::defaults::DUPLICATE_LIMIT,
            )
        }),
        summary: Summary::default(),
        tx,
    };
    tokio::spawn(run(state, body, stream));
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

/// One answer stream: where its lines go and what it accumulates.
struct Stream {
    detail: bool,
    finder: Option<DuplicateFinder>,
    summary: Summary,
    tx: mpsc::Sender<Bytes>,
}

impl Stream {
    /// Sends a line; false when the client has gone.
    async fn send(&self, b: Bytes) -> bool {
        self.tx.send(b).await.is_ok()
    }
}

async fn run(state: AppState, body: Body, mut out: Stream) {
    let limit = state.limits.max_body_bytes;
    let mut pending: Vec<(usize, Item, Option<String>)> = Vec::with_capacity(BATCH);
    let mut buf: Vec<u8> = Vec::new();
    let mut line_no = 0usize;
    let mut stream = body.into_data_stream();
    let mut ended = false;
    while !ended {
        match stream.next().await {
            Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
            Some(Err(e)) => {
                out.send(line(
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
                    if !flush(&state, &mut pending, &mut out).await {
                        return;
                    }
                    out.summary.add_error();
                    let answer = line(&serde_json::json!({"line": line_no, "error": error}));
                    if !out.send(answer).await {
                        return;
                    }
                }
            }
            if pending.len() >= BATCH && !flush(&state, &mut pending, &mut out).await {
                return;
            }
        }
        if buf.len() > limit {
            let _ = flush(&state, &mut pending, &mut out).await;
            out.send(line(&serde_json::json!({"line": line_no + 1, "error": format!("line longer than {limit} bytes; reading stopped")})))
                .await;
            return;
        }
    }
    if flush(&state, &mut pending, &mut out).await {
        if let Some(f) = &out.finder {
            out.summary.duplicates = Some(f.groups());
        }
        let last = line(&serde_json::json!({"summary": out.summary}));
        out.send(last).await;
    }
}

/// Scores the pending items and sends their results; false when the client has gone.
async fn flush(
    state: &AppState,
    pending: &mut Vec<(usize, Item, Option<String>)>,
    out: &mut Stream,
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
        _ = out.tx.closed() => return false,
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
    if out.finder.is_some() && !group(&scorer, &batch, &results, out).await {
        return false;
    }
    for ((line_no, item, kind), outcome) in batch.into_iter().zip(results) {
        let answer = match outcome {
            Ok(scored) => {
                let mut row = ScoredRow::new(None, line_no, &item, kind, &scored);
                out.summary.add(&row);
                if out.detail {
                    row.result = Some(scored.result(item.id.clone()));
                }
                line(&row)
            }
            Err(error) => {
                out.summary.add_error();
                line(&serde_json::json!({"line": line_no, "error": error}))
            }
        };
        if !out.send(answer).await {
            return false;
        }
    }
    true
}

/// Adds the scored items of a batch to the near-duplicate finder; false when the client has
/// gone. An embedding failure leaves the batch out of the grouping, logged, and the rows stand.
async fn group(
    scorer: &Arc<crate::service::Scorer>,
    batch: &[(usize, Item, Option<String>)],
    results: &[Result<crate::service::Scored, String>],
    out: &mut Stream,
) -> bool {
    let scored: Vec<(usize, &Item, Compared)> = batch
        .iter()
        .zip(results)
        .filter_map(|((line_no, item, _), r)| {
            let s = r.as_ref().ok()?;
            let text = compared_text(&item.title, s.analysis.parts.as_ref(), scorer.text(item));
            Some((*line_no, item, text))
        })
        .collect();
    let texts: Vec<String> = scored.iter().map(|(_, _, c)| c.text.clone()).collect();
    let vectors = tokio::select! {
        v = scorer.embed(texts) => v,
        _ = out.tx.closed() => return false,
    };
    match vectors {
        Ok(vectors) => {
            let finder = out.finder.as_mut().expect("grouping was asked for");
            for ((line_no, item, text), v) in scored.into_iter().zip(&vectors) {
                let member = Member {
                    file: None,
                    line: line_no,
                    title: item.title.clone(),
                    similarity: None,
                };
                finder.add(member, &text, v);
            }
        }
        Err(e) => tracing::error!(error = %e, "embedding for near-duplicates failed"),
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
