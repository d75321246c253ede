//! The HTTP API: router, handlers, request/response types, errors as JSON, and the server.

pub mod error;
pub mod handlers;
pub mod openapi;
pub mod rewrite;
pub mod router;
pub mod score;
pub mod server;
pub mod state;
pub mod types;

use std::time::Duration;

use clap::Args;

pub use router::router;
pub use state::{AppState, Limits};

use crate::config::RewriteTuning;

use crate::batching::BatchConfig;

/// `storylens serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "STORYLENS_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one and prints it).
    #[arg(long, env = "STORYLENS_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Padded tokens per model batch (longest item x items).
    #[arg(long, env = "STORYLENS_MAX_BATCH_TOKENS", default_value_t = 4096)]
    pub max_batch_tokens: usize,
    /// Items per model batch.
    #[arg(long, env = "STORYLENS_MAX_BATCH_ITEMS", default_value_t = 32)]
    pub max_batch_items: usize,
    /// Items waiting at most; beyond this, requests get 429.
    #[arg(long, env = "STORYLENS_MAX_QUEUED_ITEMS", default_value_t = 4096)]
    pub max_queued_items: usize,
    /// Model worker threads.
    #[arg(long, env = "STORYLENS_WORKERS", default_value_t = 1)]
    pub workers: usize,
    /// Items per request at most (413 beyond).
    #[arg(long, env = "STORYLENS_MAX_ITEMS_PER_REQUEST", default_value_t = 1024)]
    pub max_items_per_request: usize,
    /// Request body size at most, in bytes (413 beyond).
    #[arg(long, env = "STORYLENS_MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Seconds a request may wait for its results (503 beyond).
    #[arg(long, env = "STORYLENS_REQUEST_TIMEOUT", default_value_t = 30.0)]
    pub request_timeout: f64,
    /// Require `Authorization: Bearer <key>` on /v1/*.
    #[arg(long, env = "STORYLENS_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Results kept in the LRU cache of repeated items (0 disables it).
    #[arg(long, env = "STORYLENS_CACHE_SIZE", default_value_t = 10_000)]
    pub cache_size: usize,
    #[command(flatten)]
    pub rewrite: RewriteServeArgs,
}

/// `/v1/rewrite`: its own queue and workers, so rewrites never slow classification.
#[derive(Debug, Clone, Args)]
pub struct RewriteServeArgs {
    /// Rewrite worker threads, each drafting one item at a time (0: no /v1/rewrite, and the
    /// generator is not loaded).
    #[arg(long, env = "STORYLENS_REWRITE_WORKERS", default_value_t = 1)]
    pub rewrite_workers: usize,
    /// Rewrite items waiting at most; beyond this, requests get 429.
    #[arg(long, env = "STORYLENS_MAX_QUEUED_REWRITES", default_value_t = 32)]
    pub max_queued_rewrites: usize,
    /// Items per /v1/rewrite request at most (413 beyond).
    #[arg(long, env = "STORYLENS_MAX_REWRITE_ITEMS", default_value_t = 16)]
    pub max_rewrite_items: usize,
    /// Seconds a rewrite request may wait for its results (503 beyond).
    #[arg(long, env = "STORYLENS_REWRITE_TIMEOUT", default_value_t = 120.0)]
    pub rewrite_timeout: f64,
    #[command(flatten)]
    pub tuning: RewriteTuning,
}

impl Default for RewriteServeArgs {
    fn default() -> Self {
        Self {
            rewrite_workers: 1,
            max_queued_rewrites: 32,
            max_rewrite_items: 16,
            rewrite_timeout: 120.0,
            tuning: RewriteTuning::default(),
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
        }
    }
}
