//! Calls to tracker APIs with bounded retries: server errors and rate limits are retried after
//! the wait the server asks for (`Retry-After`, `x-ratelimit-reset`) or an exponential backoff,
//! never more than `max_attempts` times; other answers are final.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::{RequestBuilder, Response, StatusCode};

/// How often and how long to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first backoff; it doubles each attempt.
    pub base_delay: Duration,
    /// The longest wait between attempts, whatever the server asks.
    pub max_delay: Duration,
}

/// Whether an answer is worth retrying.
fn retryable(r: &Response) -> bool {
    let s = r.status();
    let limited = r
        .headers()
        .get("x-ratelimit-remaining")
        .and_then(|v| v.to_str().ok())
        == Some("0");
    s.is_server_error()
        || s == StatusCode::TOO_MANY_REQUESTS
        || (s == StatusCode::FORBIDDEN && (limited || r.headers().contains_key("retry-after")))
}

/// The wait before the next attempt.
fn wait(policy: &RetryPolicy, r: Option<&Response>, attempt: u32) -> Duration {
    let header =
        |name: &str| -> Option<u64> { r?.headers().get(name)?.to_str().ok()?.trim().parse().ok() };
    let asked = header("retry-after").map(Duration::from_secs).or_else(|| {
        let reset = header("x-ratelimit-reset")?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
        Some(Duration::from_secs(reset.saturating_sub(now)))
    });
    let backoff = policy
        .base_delay
        .saturating_mul(1u32 << (attempt - 1).min(16));
    asked.unwrap_or(backoff).min(policy.max_delay)
}

/// Sends the request `make` builds, retrying as the policy says. Returns the successful answer
/// and the attempts it took.
pub async fn send_with_retries(
    policy: &RetryPolicy,
    make: impl Fn() -> RequestBuilder,
) -> crate::Result<(Response, u32)> {
    let max = policy.max_attempts.max(1);
    for attempt in 1..=max {
        let outcome = make().send().await;
        let last = attempt == max;
        match outcome {
            Ok(r) if r.status().is_success() => return Ok((r, attempt)),
            Ok(r) if retryable(&r) && !last => {
                let delay = wait(policy, Some(&r), attempt);
                metrics::counter!("storylens_tracker_retries_total").increment(1);
                tracing::warn!(status = %r.status(), attempt, ?delay, "tracker call failed; retrying");
                tokio::time::sleep(delay).await;
            }
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                let body: String = body.chars().take(300).collect();
                return Err(crate::Error::Internal(format!(
                    "tracker answered {status} after {attempt} attempts: {body}"
                )));
            }
            Err(e) if !last => {
                let delay = wait(policy, None, attempt);
                metrics::counter!("storylens_tracker_retries_total").increment(1);
                tracing::warn!(error = %e, attempt, ?delay, "tracker unreachable; retrying");
                tokio::time::sleep(delay).await;
            }
            Err(e) => {
                return Err(crate::Error::Internal(format!(
                    "tracker unreachable after {attempt} attempts: {e}"
                )))
            }
        }
    }
    unreachable!("the last attempt returns")
}

/// Sends `payload` to `update_path` with `update` when the comment is `known`, else to
/// `create_path` with POST, with retries; returns the answer and the attempts it took. One
/// place for the post-or-update both trackers do.
pub async fn upsert(
    policy: &RetryPolicy,
    make: impl Fn(reqwest::Method, &str) -> RequestBuilder,
    known: bool,
    (update, update_path): (reqwest::Method, &str),
    create_path: &str,
    payload: &serde_json::Value,
) -> crate::Result<(Response, u32)> {
    let (method, path) = if known {
        (update, update_path)
    } else {
        (reqwest::Method::POST, create_path)
    };
    send_with_retries(policy, || make(method.clone(), path).json(payload)).await
}
