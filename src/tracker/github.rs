//! GitHub: webhook signatures, issue events, and the REST calls that keep one storylens comment
//! on each issue (found again by a hidden marker) and set labels.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::retry::{send_with_retries, RetryPolicy};

/// Marks the comment storylens keeps on an issue, so an edit updates it instead of adding one.
pub const MARKER: &str = "<!-- storylens:analysis -->";

/// Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `secret`, compared in
/// constant time.
pub fn signature_ok(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The parts of an `issues` event storylens reads.
#[derive(Debug, Clone, Deserialize)]
pub struct IssuesEvent {
    pub action: String,
    pub issue: Issue,
    pub repository: Repository,
}

/// An issue in an event.
#[derive(Debug, Clone, Deserialize)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    /// Present when the "issue" is a pull request; those are not backlog items.
    #[serde(default)]
    pub pull_request: Option<serde_json::Value>,
}

/// The repository of an event.
#[derive(Debug, Clone, Deserialize)]
pub struct Repository {
    /// `owner/name`.
    pub full_name: String,
}

/// Where and how to call the GitHub REST API.
#[derive(Debug, Clone)]
pub struct GitHubApi {
    /// `https://api.github.com`, or a GitHub Enterprise / test server.
    pub base_url: String,
    /// A token with `issues: write` (fine-grained) or `repo` scope.
    pub token: Option<String>,
    /// Labels to set per storylens label (`story`, `task`), when configured.
    pub labels: Vec<(String, String)>,
    pub retry: RetryPolicy,
}

#[derive(Deserialize)]
struct CommentRef {
    id: u64,
    #[serde(default)]
    body: Option<String>,
}

impl GitHubApi {
    fn request(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        let mut rb = client
            .request(
                method,
                format!("{}{path}", self.base_url.trim_end_matches('/')),
            )
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .header(
                "user-agent",
                concat!("storylens/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        rb
    }

    /// Posts the comment, or updates the one already there (`known`, else found by its
    /// marker). Returns the comment id and the attempts it took.
    pub async fn upsert_comment(
        &self,
        client: &reqwest::Client,
        repo: &str,
        number: u64,
        known: Option<&str>,
        body: &str,
    ) -> crate::Result<(String, u32)> {
        let payload = serde_json::json!({ "body": body });
        let existing = match known {
            Some(id) => Some(id.to_string()),
            None => self.find_marked(client, repo, number).await?,
        };
        let update = format!(
            "/repos/{repo}/issues/comments/{}",
            existing.as_deref().unwrap_or_default()
        );
        let (resp, attempts) = super::retry::upsert(
            &self.retry,
            |m, p| self.request(client, m, p),
            existing.is_some(),
            (reqwest::Method::PATCH, &update),
            &format!("/repos/{repo}/issues/{number}/comments"),
            &payload,
        )
        .await?;
        let comment: CommentRef = resp.json().await.map_err(|e| {
            crate::Error::Internal(format!("GitHub answered an unreadable comment: {e}"))
        })?;
        Ok((comment.id.to_string(), attempts))
    }

    /// The id of storylens's comment on an issue, by its marker.
    async fn find_marked(
        &self,
        client: &reqwest::Client,
        repo: &str,
        number: u64,
    ) -> crate::Result<Option<String>> {
        let path = format!("/repos/{repo}/issues/{number}/comments?per_page=100");
        let (resp, _) = send_with_retries(&self.retry, || {
            self.request(client, reqwest::Method::GET, &path)
        })
        .await?;
        let comments: Vec<CommentRef> = resp.json().await.unwrap_or_default();
        Ok(comments
            .into_iter()
            .find(|c| c.body.as_deref().is_some_and(|b| b.contains(MARKER)))
            .map(|c| c.id.to_string()))
    }

    /// Adds the configured label for `label`, if any.
    pub async fn add_label(
        &self,
        client: &reqwest::Client,
        repo: &str,
        number: u64,
        label: &str,
    ) -> crate::Result<()> {
        let Some((_, name)) = self.labels.iter().find(|(l, _)| l == label) else {
            return Ok(());
        };
        let path = format!("/repos/{repo}/issues/{number}/labels");
        let payload = serde_json::json!({ "labels": [name] });
        send_with_retries(&self.retry, || {
            self.request(client, reqwest::Method::POST, &path)
                .json(&payload)
        })
        .await?;
        Ok(())
    }
}

/// Parses `story=needs-story,task=tech-task` into label pairs.
pub fn parse_labels(spec: &str) -> Result<Vec<(String, String)>, String> {
    spec.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("`{pair}`: expected story=<label> or task=<label>"))?;
            let k = k.trim().to_ascii_lowercase();
            if k != "story" && k != "task" {
                return Err(format!("`{k}`: only story= and task= can be mapped"));
            }
            Ok((k, v.trim().to_string()))
        })
        .collect()
}

/// How long a test or an operator is willing to wait between attempts.
pub fn default_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked() {
        // The example from GitHub's documentation of webhook signatures.
        let secret = b"It's a Secret to Everybody";
        let body = b"Hello, World!";
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(signature_ok(secret, body, Some(good)));
        assert!(!signature_ok(secret, b"Hello, World?", Some(good)));
        assert!(!signature_ok(b"another secret", body, Some(good)));
        assert!(!signature_ok(secret, body, None));
        assert!(!signature_ok(secret, body, Some("sha1=abc")));
    }

    #[test]
    fn label_maps_parse() {
        assert_eq!(
            parse_labels("story=user-story, task=tech").unwrap(),
            vec![
                ("story".into(), "user-story".into()),
                ("task".into(), "tech".into())
            ]
        );
        assert!(parse_labels("bug=x").is_err());
    }
}
