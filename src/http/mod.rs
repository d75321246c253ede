//! The HTTP API: router, handlers, request/response types, errors as JSON, and the server.

pub mod error;
pub mod feedback;
pub mod handlers;
pub mod jira_hook;
pub mod listen;
pub mod openapi;
pub mod page;
pub mod report;
pub mod rewrite;
pub mod router;
pub mod score;
pub mod server;
pub mod state;
pub mod types;
pub mod webhooks;

use std::time::Duration;

use clap::Args;

pub use router::router;
pub use state::{AppState, Limits};

use crate::config::{defaults, RewriteTuning};

use crate::batching::BatchConfig;

/// `storylens serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "STORYLENS_HOST", default_value = defaults::HOST)]
    pub host: String,
    /// Port to listen on (0 picks a free one and prints it).
    #[arg(long, env = "STORYLENS_PORT", default_value_t = defaults::PORT)]
    pub port: u16,
    /// Padded tokens per model batch (longest item x items).
    #[arg(long, env = "STORYLENS_MAX_BATCH_TOKENS", default_value_t = defaults::MAX_BATCH_TOKENS)]
    pub max_batch_tokens: usize,
    /// Items per model batch.
    #[arg(long, env = "STORYLENS_MAX_BATCH_ITEMS", default_value_t = defaults::MAX_BATCH_ITEMS)]
    pub max_batch_items: usize,
    /// Items waiting at most; beyond this, requests get 429.
    #[arg(long, env = "STORYLENS_MAX_QUEUED_ITEMS", default_value_t = defaults::MAX_QUEUED_ITEMS)]
    pub max_queued_items: usize,
    /// Model worker threads.
    #[arg(long, env = "STORYLENS_WORKERS", default_value_t = defaults::WORKERS)]
    pub workers: usize,
    /// Items per request at most (413 beyond).
    #[arg(long, env = "STORYLENS_MAX_ITEMS_PER_REQUEST", default_value_t = defaults::MAX_ITEMS_PER_REQUEST)]
    pub max_items_per_request: usize,
    /// Request body size at most, in bytes (413 beyond).
    #[arg(long, env = "STORYLENS_MAX_BODY_BYTES", default_value_t = defaults::MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Seconds a request may wait for its results (503 beyond).
    #[arg(long, env = "STORYLENS_REQUEST_TIMEOUT", default_value_t = defaults::REQUEST_TIMEOUT_S)]
    pub request_timeout: f64,
    /// Open connections at most; more are closed on accept instead of costing memory.
    #[arg(long, env = "STORYLENS_MAX_CONNECTIONS", default_value_t = defaults::MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers; slower connections are closed.
    #[arg(long, env = "STORYLENS_HEADER_READ_TIMEOUT", default_value_t = defaults::HEADER_READ_TIMEOUT_S)]
    pub header_read_timeout: f64,
    /// Longest pause, in seconds, while a client sends a body (408 beyond).
    #[arg(long, env = "STORYLENS_BODY_READ_TIMEOUT", default_value_t = defaults::BODY_READ_TIMEOUT_S)]
    pub body_read_timeout: f64,
    /// Seconds in-flight requests get to finish after SIGTERM; then the server exits anyway.
    #[arg(long, env = "STORYLENS_SHUTDOWN_GRACE", default_value_t = defaults::SHUTDOWN_GRACE_S)]
    pub shutdown_grace: f64,
    /// SQLite file keeping webhook deliveries, posted comments and feedback (created with its
    /// tables on start). Needed by /v1/feedback and the webhooks.
    #[arg(long, env = "STORYLENS_DB")]
    pub db: Option<std::path::PathBuf>,
    /// PostgreSQL instead of SQLite (`postgres://user:pass@host/db`); replicas sharing one
    /// database never comment twice on one delivery.
    #[arg(long, env = "STORYLENS_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Secret of the GitHub webhook (`POST /v1/webhooks/github`); deliveries must be signed with
    /// it (X-Hub-Signature-256). Needs --db or --database-url.
    #[arg(long, env = "STORYLENS_GITHUB_WEBHOOK_SECRET", hide_env_values = true)]
    pub github_webhook_secret: Option<String>,
    /// GitHub REST API base URL (GitHub Enterprise: `https://HOST/api/v3`).
    #[arg(long, env = "STORYLENS_GITHUB_API_URL", default_value = defaults::GITHUB_API_URL)]
    pub github_api_url: String,
    /// Token for comments and labels (fine-grained: Issues read and write).
    #[arg(long, env = "GITHUB_TOKEN", hide_env_values = true)]
    pub github_token: Option<String>,
    /// Labels to set, per storylens label: `story=user-story,task=tech-task`.
    #[arg(long, env = "STORYLENS_GITHUB_LABELS")]
    pub github_labels: Option<String>,
    /// Attempts per GitHub call (server errors and rate limits are retried with backoff).
    #[arg(long, env = "STORYLENS_GITHUB_ATTEMPTS", default_value_t = defaults::TRACKER_ATTEMPTS)]
    pub github_attempts: u32,
    /// Secret of the Jira webhook (`POST /v1/webhooks/jira`, `X-Hub-Signature`). Needs a store.
    #[arg(long, env = "STORYLENS_JIRA_WEBHOOK_SECRET", hide_env_values = true)]
    pub jira_webhook_secret: Option<String>,
    /// For Jira versions that cannot sign: a token the webhook URL carries (`?token=…`).
    #[arg(long, env = "STORYLENS_JIRA_WEBHOOK_TOKEN", hide_env_values = true)]
    pub jira_webhook_token: Option<String>,
    /// Jira base URL (`https://your-site.atlassian.net`, or the Data Center URL).
    #[arg(long, env = "STORYLENS_JIRA_URL")]
    pub jira_url: Option<String>,
    /// Jira Cloud or Data Center (comment format and API version).
    #[arg(long, env = "STORYLENS_JIRA_FLAVOR", value_enum, default_value_t = crate::tracker::jira::Flavor::Cloud)]
    pub jira_flavor: crate::tracker::jira::Flavor,
    /// Jira Cloud account e-mail (basic auth with the API token).
    #[arg(long, env = "STORYLENS_JIRA_USER")]
    pub jira_user: Option<String>,
    /// Jira Cloud API token or Data Center personal access token.
    #[arg(long, env = "JIRA_API_TOKEN", hide_env_values = true)]
    pub jira_token: Option<String>,
    /// Require `Authorization: Bearer <key>` on /v1/*.
    #[arg(long, env = "STORYLENS_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Results kept in the LRU cache of repeated items (0 disables it).
    #[arg(long, env = "STORYLENS_CACHE_SIZE", default_value_t = defaults::CACHE_SIZE)]
    pub cache_size: usize,
    #[command(flatten)]
    pub rewrite: RewriteServeArgs,
}

/// `/v1/rewrite`: its own queue and workers, so rewrites never slow classification.
#[derive(Debug, Clone, Args)]
pub struct RewriteServeArgs {
    /// Rewrite worker threads, each drafting one item at a time (0: no /v1/rewrite, and the
    /// generator is not loaded).
    #[arg(long, env = "STORYLENS_REWRITE_WORKERS", default_value_t = defaults::REWRITE_WORKERS)]
    pub rewrite_workers: usize,
    /// Rewrite items waiting at most; beyond this, requests get 429.
    #[arg(long, env = "STORYLENS_MAX_QUEUED_REWRITES", default_value_t = defaults::MAX_QUEUED_REWRITES)]
    pub max_queued_rewrites: usize,
    /// Items per /v1/rewrite request at most (413 beyond).
    #[arg(long, env = "STORYLENS_MAX_REWRITE_ITEMS", default_value_t = defaults::MAX_REWRITE_ITEMS)]
    pub max_rewrite_items: usize,
    /// Seconds a rewrite request may wait for its results (503 beyond).
    #[arg(long, env = "STORYLENS_REWRITE_TIMEOUT", default_value_t = defaults::REWRITE_TIMEOUT_S)]
    pub rewrite_timeout: f64,
    #[command(flatten)]
    pub tuning: RewriteTuning,
}

impl Default for RewriteServeArgs {
    fn default() -> Self {
        Self {
            rewrite_workers: defaults::REWRITE_WORKERS,
            max_queued_rewrites: defaults::MAX_QUEUED_REWRITES,
            max_rewrite_items: defaults::MAX_REWRITE_ITEMS,
            rewrite_timeout: defaults::REWRITE_TIMEOUT_S,
            tuning: RewriteTuning::default(),
        }
    }
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            host: defaults::HOST.into(),
            port: defaults::PORT,
            max_batch_tokens: defaults::MAX_BATCH_TOKENS,
            max_batch_items: defaults::MAX_BATCH_ITEMS,
            max_queued_items: defaults::MAX_QUEUED_ITEMS,
            workers: defaults::WORKERS,
            max_items_per_request: defaults::MAX_ITEMS_PER_REQUEST,
            max_body_bytes: defaults::MAX_BODY_BYTES,
            request_timeout: defaults::REQUEST_TIMEOUT_S,
            max_connections: defaults::MAX_CONNECTIONS,
            header_read_timeout: defaults::HEADER_READ_TIMEOUT_S,
            body_read_timeout: defaults::BODY_READ_TIMEOUT_S,
            shutdown_grace: defaults::SHUTDOWN_GRACE_S,
            db: None,
            database_url: None,
            github_webhook_secret: None,
            github_api_url: defaults::GITHUB_API_URL.into(),
            github_token: None,
            github_labels: None,
            github_attempts: defaults::TRACKER_ATTEMPTS,
            jira_webhook_secret: None,
            jira_webhook_token: None,
            jira_url: None,
            jira_flavor: crate::tracker::jira::Flavor::Cloud,
            jira_user: None,
            jira_token: None,
            api_key: None,
            cache_size: defaults::CACHE_SIZE,
            rewrite: RewriteServeArgs::default(),
        }
    }
}

impl ServeArgs {
    /// Batcher limits.
    pub fn batch_config(&self) -> BatchConfig {
        BatchConfig {
            max_batch_tokens: self.max_batch_tokens,
            max_batch_items: self.max_batch_items,
            max_queued_items: self.max_queued_items,
            workers: self.workers,
        }
    }

    /// Request limits.
    pub fn limits(&self) -> Limits {
        Limits {
            max_items_per_request: self.max_items_per_request,
            max_body_bytes: self.max_body_bytes,
            request_timeout: Duration::from_secs_f64(self.request_timeout.max(0.001)),
            max_rewrite_items: self.rewrite.max_rewrite_items,
            rewrite_timeout: Duration::from_secs_f64(self.rewrite.rewrite_timeout.max(0.001)),
            body_read_timeout: Duration::from_secs_f64(self.body_read_timeout.max(0.001)),
        }
    }

    /// The store's URL, when one is configured.
    pub fn store_url(&self) -> Option<String> {
        self.database_url.clone().or_else(|| {
            self.db
                .as_ref()
                .map(|p| format!("sqlite://{}", p.display()))
        })
    }

    /// Connection limits of the accept loop.
    pub fn connection_limits(&self) -> listen::ConnectionLimits {
        listen::ConnectionLimits {
            max_connections: self.max_connections,
            header_read_timeout: Duration::from_secs_f64(self.header_read_timeout.max(0.001)),
            shutdown_grace: Duration::from_secs_f64(self.shutdown_grace.max(0.0)),
        }
    }

    /// Refuses settings that cannot work, naming the flag.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("--request-timeout", self.request_timeout),
            ("--header-read-timeout", self.header_read_timeout),
            ("--body-read-timeout", self.body_read_timeout),
            ("--rewrite-timeout", self.rewrite.rewrite_timeout),
        ];
        for (flag, v) in positive {
            if !(v > 0.0 && v.is_finite()) {
                return Err(format!(
                    "{flag} must be a positive number of seconds, got {v}"
                ));
            }
        }
        if self.max_connections == 0 {
            return Err("--max-connections must be at least 1".into());
        }
        if self.max_batch_items == 0 {
            return Err("--max-batch-items must be at least 1".into());
        }
        if self.max_items_per_request == 0 {
            return Err("--max-items-per-request must be at least 1".into());
        }
        if self
            .github_webhook_secret
            .as_deref()
            .is_some_and(|k| k.trim().is_empty())
        {
            return Err("--github-webhook-secret is set but empty".into());
        }
        if self.github_webhook_secret.is_some() && self.store_url().is_none() {
            return Err("--github-webhook-secret needs --db PATH or --database-url URL: deliveries are remembered so none is commented on twice".into());
        }
        let jira = self.jira_webhook_secret.is_some() || self.jira_webhook_token.is_some();
        if jira && (self.store_url().is_none() || self.jira_url.is_none()) {
            return Err("a Jira webhook (--jira-webhook-secret or --jira-webhook-token) needs --jira-url and --db or --database-url".into());
        }
        for (flag, v) in [
            ("--jira-webhook-secret", &self.jira_webhook_secret),
            ("--jira-webhook-token", &self.jira_webhook_token),
        ] {
            if v.as_deref().is_some_and(|k| k.trim().is_empty()) {
                return Err(format!("{flag} is set but empty"));
            }
        }
        if let Some(spec) = &self.github_labels {
            crate::tracker::github::parse_labels(spec)
                .map_err(|e| format!("--github-labels: {e}"))?;
        }
        if self.api_key.as_deref().is_some_and(|k| k.trim().is_empty()) {
            return Err("--api-key (or STORYLENS_API_KEY) is set but empty; an empty key would turn authentication off. Unset it to run without a key".into());
        }
        Ok(())
    }
}
