//! `POST /v1/webhooks/github`: the signature is checked on the raw body before anything else;
//! an `issues` event (`opened`, `edited`) is claimed in the store by its delivery id (a replay,
//! a restart or a second replica claims nothing), answered 202 at once, and then classified,
//! refined and commented on in the background through the same core and queues as every other
//! request.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::ApiError;
use super::handlers::{read_body, require_content_type};
use super::state::AppState;
use crate::analysis::Item;
use crate::service::Admission;
use crate::store::Store;
use crate::tracker::github::{signature_ok, GitHubApi, IssuesEvent};
use crate::tracker::{comment_body, Verdict};

/// The GitHub side of the server.
pub struct GitHubHook {
    pub secret: Vec<u8>,
    pub api: GitHubApi,
    pub client: reqwest::Client,
    pub store: Store,
}

const SOURCE: &str = "github";

/// Receive a GitHub webhook delivery.
#[utoipa::path(
    post,
    path = "/v1/webhooks/github",
    request_body(content = String, content_type = "application/json", description = "A GitHub webhook delivery, signed with X-Hub-Signature-256"),
    responses(
        (status = 200, description = "`ping`, or a delivery already seen"),
        (status = 202, description = "Accepted: the comment follows"),
        (status = 400, description = "Missing X-GitHub-Event or X-GitHub-Delivery, or not JSON", body = super::error::ErrorBody),
        (status = 401, description = "Missing or wrong signature: nothing processed", body = super::error::ErrorBody),
        (status = 404, description = "No --github-webhook-secret configured", body = super::error::ErrorBody),
        (status = 422, description = "An event or payload storylens does not handle", body = super::error::ErrorBody),
    )
)]
pub async fn github(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let hook = state.github.clone().ok_or_else(|| {
        ApiError::NotFound(
            "POST /v1/webhooks/github (start the server with --github-webhook-secret)".into(),
        )
    })?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let delivery = header("x-github-delivery").unwrap_or("-").to_string();
    let bytes = read_body(body, state.limits.max_body_bytes).await?;
    if !signature_ok(&hook.secret, &bytes, header("x-hub-signature-256")) {
        tracing::warn!(%delivery, "GitHub delivery with a missing or wrong signature refused");
        metrics::counter!("storylens_webhook_refused_total", "source" => SOURCE).increment(1);
        return Err(ApiError::BadSignature);
    }
    require_content_type(&headers, &["application/json"])?;
    let event = header("x-github-event").ok_or_else(|| ApiError::BadRequest {
        code: "missing_header",
        message: "X-GitHub-Event is missing".into(),
    })?;
    if event == "ping" {
        return Ok(Json(serde_json::json!({"ok": true})).into_response());
    }
    if delivery == "-" {
        return Err(ApiError::BadRequest {
            code: "missing_header",
            message: "X-GitHub-Delivery is missing".into(),
        });
    }
    if event != "issues" {
        tracing::info!(%delivery, event, "GitHub event not handled");
        return Err(ApiError::InvalidField(format!(
            "event `{event}` is not handled; subscribe the webhook to Issues only"
        )));
    }
    let payload = std::str::from_utf8(&bytes).map_err(|_| ApiError::BadRequest {
        code: "invalid_utf8",
        message: "body is not valid UTF-8".into(),
    })?;
    let parsed: IssuesEvent = serde_json::from_str(payload).map_err(|e| {
        tracing::info!(%delivery, error = %e, "unreadable GitHub issues event");
        ApiError::InvalidField(format!("not an issues event: {e}"))
    })?;
    if !matches!(parsed.action.as_str(), "opened" | "edited") || parsed.issue.pull_request.is_some()
    {
        return Ok((
            StatusCode::OK,
            Json(serde_json::json!({"ignored": format!("action `{}`", parsed.action)})),
        )
            .into_response());
    }
    if parsed.issue.title.trim().is_empty() {
        return Err(ApiError::InvalidField("issue.title is empty".into()));
    }
    if !hook
        .store
        .claim_delivery(SOURCE, &delivery, payload)
        .await?
    {
        tracing::info!(%delivery, "GitHub delivery already seen");
        return Ok(Json(serde_json::json!({"duplicate": delivery})).into_response());
    }
    metrics::counter!("storylens_webhook_accepted_total", "source" => SOURCE).increment(1);
    tokio::spawn(process(state.clone(), hook, delivery.clone(), parsed));
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"accepted": delivery})),
    )
        .into_response())
}

/// Resumes deliveries accepted before a restart but never finished.
pub async fn resume(state: AppState) {
    super::jira_hook::resume(state.clone()).await;
    let Some(hook) = state.github.clone() else {
        return;
    };
    match hook.store.pending_deliveries(SOURCE).await {
        Ok(pending) => {
            for (delivery, payload) in pending {
                match serde_json::from_str::<IssuesEvent>(&payload) {
                    Ok(event) => {
                        tracing::info!(%delivery, "resuming a GitHub delivery");
                        tokio::spawn(process(state.clone(), Arc::clone(&hook), delivery, event));
                    }
                    Err(e) => {
                        tracing::error!(%delivery, error = %e, "stored delivery unreadable");
                        let _ = hook
                            .store
                            .finish_delivery(SOURCE, &delivery, "failed", 0)
                            .await;
                    }
                }
            }
        }
        Err(e) => tracing::error!(error = %e, "cannot read pending deliveries"),
    }
}

async fn process(state: AppState, hook: Arc<GitHubHook>, delivery: String, event: IssuesEvent) {
    let outcome = comment(&state, &hook, &event).await;
    record(&hook.store, SOURCE, &delivery, outcome).await;
}

/// Records how a delivery ended: counted and logged with its id when it failed.
pub(super) async fn record(
    store: &Store,
    source: &'static str,
    delivery: &str,
    outcome: crate::Result<u32>,
) {
    let (status, attempts) = match &outcome {
        Ok(attempts) => ("posted", *attempts),
        Err(e) => {
            metrics::counter!("storylens_webhook_failures_total", "source" => source).increment(1);
            tracing::error!(source, %delivery, error = %e, "webhook delivery failed");
            ("failed", 0)
        }
    };
    if let Err(e) = store
        .finish_delivery(source, delivery, status, attempts)
        .await
    {
        tracing::error!(source, %delivery, error = %e, "cannot record the delivery's outcome");
    }
}

/// The item's verdict through the same core and queues as every other door: the scores and
/// findings, and the refinement when the refiner runs.
pub(super) async fn analyse(
    state: &AppState,
    item: Item,
) -> crate::Result<(
    crate::service::Scored,
    Option<crate::analysis::rewrite::Rewrite>,
)> {
    let scorer = loop {
        // Deliveries resumed at start wait for the model.
        if let Some(s) = state.ready_scorer() {
            break Arc::clone(s);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let scoring = scorer
        .score(
            Arc::new(vec![item.clone()]),
            Admission::Wait,
            state.limits.request_timeout,
        )
        .await?;
    let scored = scoring
        .results
        .into_iter()
        .next()
        .ok_or_else(|| crate::Error::Internal("no result".into()))??;
    // A busy or failing refiner leaves the comment without a next step rather than without
    // a comment.
    let rewrite = match state
        .rewriter
        .get()
        .map(|_| state.rewrites.submit(vec![item], None))
    {
        Some(Ok(replies)) => match replies.into_iter().next() {
            Some(rx) => rx.await.ok().and_then(Result::ok).map(|d| d.output),
            None => None,
        },
        Some(Err(e)) => {
            tracing::warn!(error = %e, "refinement skipped for a webhook comment");
            None
        }
        None => None,
    };
    Ok((scored, rewrite))
}

/// Classifies, refines and comments; returns the attempts the comment took.
async fn comment(state: &AppState, hook: &GitHubHook, event: &IssuesEvent) -> crate::Result<u32> {
    let issue = &event.issue;
    let repo = &event.repository.full_name;
    let item = Item {
        id: Some(issue.number.to_string()),
        title: issue.title.clone(),
        description: issue.body.clone(),
        acceptance_criteria: Vec::new(),
    };
    let (scored, rewrite) = analyse(state, item).await?;
    let label = scored.analysis.scores.label();
    let body = comment_body(&Verdict {
        label,
        confidence: scored.analysis.scores.confidence(),
        findings: &scored.analysis.findings,
        rewrite: rewrite.as_ref(),
    });
    let key = format!("{repo}#{}", issue.number);
    let known = hook.store.comment_id(SOURCE, &key).await?;
    let (id, attempts) = hook
        .api
        .upsert_comment(&hook.client, repo, issue.number, known.as_deref(), &body)
        .await?;
    hook.store.set_comment_id(SOURCE, &key, &id).await?;
    hook.api
        .add_label(&hook.client, repo, issue.number, label.as_str())
        .await?;
    Ok(attempts)
}
