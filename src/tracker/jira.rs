//! Jira (Cloud and Data Center): webhook authentication, `jira:issue_*` payloads, and the REST
//! calls that keep one storylens comment on each issue.

use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::retry::RetryPolicy;

/// Which Jira: the comment format and the API version differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Flavor {
    /// Jira Cloud: REST v3, comments as Atlassian documents, basic auth with an API token.
    Cloud,
    /// Jira Data Center / Server: REST v2, wiki-text comments, a personal access token.
    DataCenter,
}

/// How a delivery proves it comes from the configured Jira.
#[derive(Debug, Clone)]
pub enum JiraAuth {
    /// `X-Hub-Signature: sha256=<hex>` (a webhook secret set in Jira).
    Secret(Vec<u8>),
    /// `?token=<token>` in the webhook URL (Jira versions without secrets).
    UrlToken(String),
}

impl JiraAuth {
    /// Whether the delivery is authentic.
    pub fn check(&self, body: &[u8], signature: Option<&str>, url_token: Option<&str>) -> bool {
        match self {
            JiraAuth::Secret(s) => super::github::signature_ok(s, body, signature),
            JiraAuth::UrlToken(t) => {
                url_token.is_some_and(|given| bool::from(given.as_bytes().ct_eq(t.as_bytes())))
            }
        }
    }
}

/// The parts of a `jira:issue_created` / `jira:issue_updated` event storylens reads.
#[derive(Debug, Clone, Deserialize)]
pub struct IssueEvent {
    #[serde(rename = "webhookEvent")]
    pub webhook_event: String,
    /// The issue (`key`, `fields.summary`, `fields.description`…), read by the input layer.
    pub issue: serde_json::Value,
}

/// Where and how to call Jira's REST API.
#[derive(Debug, Clone)]
pub struct JiraApi {
    /// `https://your-site.atlassian.net` or the Data Center base URL.
    pub base_url: String,
    pub flavor: Flavor,
    /// Cloud: the account e-mail for basic auth (with `token` as its API token).
    pub user: Option<String>,
    /// Cloud API token or Data Center personal access token.
    pub token: Option<String>,
    pub retry: RetryPolicy,
}

#[derive(Deserialize)]
struct CommentRef {
    id: String,
}

impl JiraApi {
    fn version(&self) -> u8 {
        match self.flavor {
            Flavor::Cloud => 3,
            Flavor::DataCenter => 2,
        }
    }

    fn request(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        let url = format!("{}{path}", self.base_url.trim_end_matches('/'));
        let rb = client
            .request(method, url)
            .header("accept", "application/json");
        match (&self.user, &self.token) {
            (Some(u), Some(t)) => rb.basic_auth(u, Some(t)),
            (None, Some(t)) => rb.bearer_auth(t),
            _ => rb,
        }
    }

    /// The comment payload: an Atlassian document (one paragraph a line) or wiki text.
    fn payload(&self, text: &str) -> serde_json::Value {
        match self.flavor {
            Flavor::DataCenter => serde_json::json!({ "body": text }),
            Flavor::Cloud => {
                let paragraphs: Vec<_> = text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| {
                        serde_json::json!({"type": "paragraph", "content": [{"type": "text", "text": l}]})
                    })
                    .collect();
                serde_json::json!({"body": {"type": "doc", "version": 1, "content": paragraphs}})
            }
        }
    }

    /// Posts the comment, or updates `known`. Returns its id and the attempts it took.
    pub async fn upsert_comment(
        &self,
        client: &reqwest::Client,
        key: &str,
        known: Option<&str>,
        text: &str,
    ) -> crate::Result<(String, u32)> {
        let v = self.version();
        let payload = self.payload(text);
        let update = format!(
            "/rest/api/{v}/issue/{key}/comment/{}",
            known.unwrap_or_default()
        );
        let (resp, attempts) = super::retry::upsert(
            &self.retry,
            |m, p| self.request(client, m, p),
            known.is_some(),
            (reqwest::Method::PUT, &update),
            &format!("/rest/api/{v}/issue/{key}/comment"),
            &payload,
        )
        .await?;
        let c: CommentRef = resp.json().await.map_err(|e| {
            crate::Error::Internal(format!("Jira answered an unreadable comment: {e}"))
        })?;
        Ok((c.id, attempts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_tokens_and_secrets_are_checked() {
        let t = JiraAuth::UrlToken("abc".into());
        assert!(t.check(b"{}", None, Some("abc")));
        assert!(!t.check(b"{}", None, Some("abd")));
        assert!(!t.check(b"{}", None, None));
        let s = JiraAuth::Secret(b"k".to_vec());
        assert!(!s.check(b"{}", Some("sha256=00"), Some("k")));
    }

    #[test]
    fn cloud_comments_are_documents_and_data_center_comments_text() {
        let mut api = JiraApi {
            base_url: "http://x".into(),
            flavor: Flavor::Cloud,
            user: None,
            token: None,
            retry: super::super::github::default_retry(),
        };
        let doc = api.payload("one\n\ntwo");
        assert_eq!(doc["body"]["type"], "doc");
        assert_eq!(doc["body"]["content"].as_array().unwrap().len(), 2);
        api.flavor = Flavor::DataCenter;
        assert_eq!(api.payload("one")["body"], "one");
    }
}
