//! What every handler shares.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::analysis::rewrite::RewriteEngine;
use crate::analysis::{Analyzer, Terms};
use crate::batching::{Batcher, RewriteQueue};
use crate::model::Model;
use crate::service::{Scorer, TextPolicy};

/// Per-request limits.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_items_per_request: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub max_rewrite_items: usize,
    pub rewrite_timeout: Duration,
    /// Longest pause allowed while a client sends its body.
    pub body_read_timeout: Duration,
}

/// Shared state: the scoring core (once the model is loaded), the queues, limits, auth and
/// metrics.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

#[doc(hidden)]
pub struct Inner {
    /// The scoring core, once the model is loaded.
    pub scorer: OnceLock<Arc<Scorer>>,
    pub batcher: Arc<Batcher>,
    pub limits: Limits,
    pub api_key: Option<String>,
    pub metrics: PrometheusHandle,
    analyzer: Analyzer,
    cache_size: usize,
    policy: TextPolicy,
    /// The rewriter, once loaded (never, when rewrites are off).
    pub rewriter: OnceLock<Arc<dyn RewriteEngine>>,
    /// The rewrite queue (capacity 0 when rewrites are off).
    pub rewrites: Arc<RewriteQueue>,
    /// Deliveries, comments and feedback, when `--db` or `--database-url` is given.
    pub store: Option<crate::store::Store>,
    /// The GitHub webhook, when `--github-webhook-secret` is given.
    pub github: Option<Arc<super::webhooks::GitHubHook>>,
    /// The Jira webhook, when a secret or URL token is given.
    pub jira: Option<Arc<super::jira_hook::JiraHook>>,
    ready: AtomicBool,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// State with no model yet: `/health` answers 503 until [`AppState::set_ready`].
    pub fn new(
        batcher: Arc<Batcher>,
        limits: Limits,
        api_key: Option<String>,
        cache_size: usize,
    ) -> Self {
        Self(Arc::new(Inner {
            scorer: OnceLock::new(),
            batcher,
            limits,
            api_key: api_key.filter(|k| !k.is_empty()),
            metrics: metrics_handle(),
            analyzer: Analyzer::new(Terms::load(None).expect("built-in term list compiles")),
            cache_size,
            policy: TextPolicy::default(),
            rewriter: OnceLock::new(),
            rewrites: Arc::new(RewriteQueue::new(0)),
            store: None,
            github: None,
            jira: None,
            ready: AtomicBool::new(false),
        }))
    }

    fn inner_mut(&mut self) -> &mut Inner {
        Arc::get_mut(&mut self.0).expect("the state is configured before it is shared")
    }

    /// Replaces the findings analyser (before the state is shared).
    pub fn with_analyzer(mut self, analyzer: Analyzer) -> Self {
        self.inner_mut().analyzer = analyzer;
        self
    }

    /// Sets what the classifier reads of each item (before the state is shared).
    pub fn with_text_policy(mut self, policy: TextPolicy) -> Self {
        self.inner_mut().policy = policy;
        self
    }

    /// Sets the rewrite queue (before the state is shared).
    pub fn with_rewrite_queue(mut self, queue: Arc<RewriteQueue>) -> Self {
        self.inner_mut().rewrites = queue;
        self
    }

    /// Sets the store (before the state is shared).
    pub fn with_store(mut self, store: crate::store::Store) -> Self {
        self.inner_mut().store = Some(store);
        self
    }

    /// Sets the GitHub webhook (before the state is shared).
    pub fn with_github(mut self, hook: super::webhooks::GitHubHook) -> Self {
        self.inner_mut().github = Some(Arc::new(hook));
        self
    }

    /// Sets the Jira webhook (before the state is shared).
    pub fn with_jira(mut self, hook: super::jira_hook::JiraHook) -> Self {
        self.inner_mut().jira = Some(Arc::new(hook));
        self
    }

    /// Installs the loaded rewriter and starts `workers` rewrite threads on it.
    pub fn install_rewriter(&self, engine: Arc<dyn RewriteEngine>, workers: usize) {
        if self.rewriter.set(Arc::clone(&engine)).is_ok() {
            self.rewrites.start(engine, workers);
        }
    }

    /// Installs the loaded model: builds the scoring core and starts the batcher on it.
    pub fn install_model(&self, model: Arc<dyn Model>) {
        self.scorer.get_or_init(|| {
            Arc::new(Scorer::new(
                model,
                Arc::clone(&self.batcher),
                self.analyzer.clone(),
                self.cache_size,
                self.policy,
            ))
        });
    }

    /// The scoring core, once the model is loaded and warmed up.
    pub fn ready_scorer(&self) -> Option<&Arc<Scorer>> {
        self.scorer
            .get()
            .filter(|_| self.ready.load(Ordering::SeqCst))
    }

    /// Marks the service ready (model loaded, warm-up passed).
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    /// Whether requests can be served.
    pub fn is_ready(&self) -> bool {
        self.ready_scorer().is_some()
    }
}

/// The process-wide Prometheus recorder (installed once; every router shares it).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let seconds = [
                0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
            ];
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
                    &seconds,
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        metrics_exporter_prometheus::Matcher::Full("storylens_batch_size".into()),
                        &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0],
                    )
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        metrics_exporter_prometheus::Matcher::Full("storylens_batch_tokens".into()),
                        &[
                            64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0, 16384.0,
                        ],
                    )
                })
                .expect("valid buckets")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (tests); metrics then go there.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}
