//! `POST /v1/webhooks/jira`: `jira:issue_created` / `jira:issue_updated` from Jira Cloud or
//! Data Center, authenticated by `X-Hub-Signature` (a webhook secret) or a token in the URL,
//! deduplicated in the store, answered 202, then commented on (one comment per issue, updated
//! on edits) in the background.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use sha2::Digest;

use super::error::ApiError;
use super::handlers::{read_body, require_content_type};
use super::state::AppState;
use crate::store::Store;
use crate::tracker::jira::{IssueEvent, JiraApi, JiraAuth};
use crate::tracker::{comment_text, Verdict};

/// The Jira side of the server.
pub struct JiraHook {
    pub auth: JiraAuth,
    pub api: JiraApi,
    pub client: reqwest::Client,
    pub store: Store,
}

const SOURCE: &str = "jira";

/// `?token=…` for Jira versions that cannot sign deliveries.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    pub token: Option<String>,
}

/// Receive a Jira webhook delivery.
#[utoipa::path(
    post,
    path = "/v1/webhooks/jira",
    request_body(content = String, content_type = "application/json", description = "A Jira webhook delivery (jira:issue_created, jira:issue_updated)"),
    responses(
        (status = 202, description = "Accepted: the comment follows"),
        (status = 200, description = "A delivery already seen, or an event that is ignored"),
        (status = 401, description = "Missing or wrong signature or token: nothing processed", body = super::error::ErrorBody),
        (status = 404, description = "No Jira webhook configured", body = super::error::ErrorBody),
        (status = 422, description = "Not an issue event storylens handles", body = super::error::ErrorBody),
    )
)]
pub async fn jira(
    State(state): State<AppState>,
    query: Result<Query<TokenQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let hook = state.jira.clone().ok_or_else(|| {
        ApiError::NotFound(
            "POST /v1/webhooks/jira (start the server with --jira-webhook-secret or --jira-webhook-token)"
                .into(),
        )
    })?;
    let token = query.ok().and_then(|Query(q)| q.token);
    let bytes = read_body(body, state.limits.max_body_bytes).await?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if !hook
        .auth
        .check(&bytes, header("x-hub-signature"), token.as_deref())
    {
        tracing::warn!("Jira delivery with a missing or wrong signature or token refused");
        metrics::counter!("storylens_webhook_refused_total", "source" => SOURCE).increment(1);
        return Err(ApiError::BadSignature);
    }
    require_content_type(&headers, &["application/json"])?;
    let payload = std::str::from_utf8(&bytes).map_err(|_| ApiError::BadRequest {
        code: "invalid_utf8",
        message: "body is not valid UTF-8".into(),
    })?;
    let event: IssueEvent = serde_json::from_str(payload)
        .map_err(|e| ApiError::InvalidField(format!("not a Jira issue event: {e}")))?;
    if !matches!(
        event.webhook_event.as_str(),
        "jira:issue_created" | "jira:issue_updated"
    ) {
        return Err(ApiError::InvalidField(format!(
            "event `{}` is not handled; send jira:issue_created and jira:issue_updated",
            event.webhook_event
        )));
    }
    let input = crate::input::parse_item(&event.issue, "issue").map_err(ApiError::InvalidField)?;
    if input.item.id.is_none() {
        return Err(ApiError::InvalidField("issue.key is required".into()));
    }
    // Jira Cloud names each delivery; otherwise identical bodies are one delivery.
    let delivery = header("x-atlassian-webhook-identifier")
        .map(str::to_string)
        .unwrap_or_else(|| hex::encode(sha2::Sha256::digest(&bytes)));
    if !hook
        .store
        .claim_delivery(SOURCE, &delivery, payload)
        .await?
    {
        return Ok(Json(serde_json::json!({"duplicate": delivery})).into_response());
    }
    metrics::counter!("storylens_webhook_accepted_total", "source" => SOURCE).increment(1);
    tokio::spawn(process(state.clone(), hook, delivery.clone(), input.item));
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"accepted": delivery})),
    )
        .into_response())
}

/// Resumes Jira deliveries accepted before a restart but never finished.
pub async fn resume(state: AppState) {
    let Some(hook) = state.jira.clone() else {
        return;
    };
    let pending = match hook.store.pending_deliveries(SOURCE).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot read pending Jira deliveries");
            return;
        }
    };
    for (delivery, payload) in pending {
        let item = serde_json::from_str::<IssueEvent>(&payload)
            .map_err(|e| e.to_string())
            .and_then(|e| crate::input::parse_item(&e.issue, "issue"));
        match item {
            Ok(input) => {
                tokio::spawn(process(
                    state.clone(),
                    Arc::clone(&hook),
                    delivery,
                    input.item,
                ));
            }
            Err(e) => {
                tracing::error!(%delivery, error = %e, "stored Jira delivery unreadable");
                let _ = hook
                    .store
                    .finish_delivery(SOURCE, &delivery, "failed", 0)
                    .await;
            }
        }
    }
}

async fn process(
    state: AppState,
    hook: Arc<JiraHook>,
    delivery: String,
    item: crate::analysis::Item,
) {
    let outcome = comment(&state, &hook, item).await;
    super::webhooks::record(&hook.store, SOURCE, &delivery, outcome).await;
}

async fn comment(
    state: &AppState,
    hook: &JiraHook,
    item: crate::analysis::Item,
) -> crate::Result<u32> {
    let key = item.id.clone().unwrap_or_default();
    let (scored, rewrite) = super::webhooks::analyse(state, item).await?;
    let text = comment_text(&Verdict {
        label: scored.analysis.scores.label(),
        confidence: scored.analysis.scores.confidence(),
        findings: &scored.analysis.findings,
        rewrite: rewrite.as_ref(),
    });
    let known = hook.store.comment_id(SOURCE, &key).await?;
    let (id, attempts) = hook
        .api
        .upsert_comment(&hook.client, &key, known.as_deref(), &text)
        .await?;
    hook.store.set_comment_id(SOURCE, &key, &id).await?;
    Ok(attempts)
}
