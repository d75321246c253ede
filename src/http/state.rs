//! What every handler shares.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::analysis::rewrite::RewriteEngine;
use crate::analysis::{Analyzer, Terms};
use crate::batching::cache::ResultCache;
use crate::batching::{Batcher, GenerationQueue};
use crate::model::Model;

/// Per-request limits.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_items_per_request: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub max_rewrite_items: usize,
    pub rewrite_timeout: Duration,
}

/// Shared state: the model (once loaded), the batcher, limits, auth, cache and metrics.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

#[doc(hidden)]
pub struct Inner {
    pub model: OnceLock<Arc<dyn Model>>,
    pub batcher: Arc<Batcher>,
    pub limits: Limits,
    pub api_key: Option<String>,
    pub cache: ResultCache,
    pub metrics: PrometheusHandle,
    pub analyzer: Analyzer,
    /// The rewriter, once loaded (never, when rewrites are off).
    pub rewriter: OnceLock<Arc<dyn RewriteEngine>>,
    /// The rewrite queue (capacity 0 when rewrites are off).
    pub rewrites: Arc<GenerationQueue>,
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
            model: OnceLock::new(),
            batcher,
            limits,
            api_key: api_key.filter(|k| !k.is_empty()),
            cache: ResultCache::new(cache_size),
            metrics: metrics_handle(),
            analyzer: Analyzer::new(Terms::load(None).expect("built-in term list compiles")),
            rewriter: OnceLock::new(),
            rewrites: Arc::new(GenerationQueue::new(0)),
            ready: AtomicBool::new(false),
        }))
    }

    /// Replaces the findings analyser (before the state is shared).
    pub fn with_analyzer(mut self, analyzer: Analyzer) -> Self {
        Arc::get_mut(&mut self.0)
            .expect("with_analyzer is called before the state is shared")
            .analyzer = analyzer;
        self
    }

    /// Sets the rewrite queue (before the state is shared).
    pub fn with_rewrite_queue(mut self, queue: Arc<GenerationQueue>) -> Self {
        Arc::get_mut(&mut self.0)
            .expect("with_rewrite_queue is called before the state is shared")
            .rewrites = queue;
        self
    }

    /// Installs the loaded rewriter and starts `workers` rewrite threads on it.
    pub fn install_rewriter(&self, engine: Arc<dyn RewriteEngine>, workers: usize) {
        if self.rewriter.set(Arc::clone(&engine)).is_ok() {
            self.rewrites.start(engine, workers);
        }
    }

    /// Installs the loaded model and starts the batcher's workers on it.
    pub fn install_model(&self, model: Arc<dyn Model>) {
        if self.model.set(Arc::clone(&model)).is_ok() {
            self.batcher.start(model);
        }
    }

    /// Marks the service ready (model loaded, warm-up passed).
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    /// Whether requests can be served.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst) && self.model.get().is_some()
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
