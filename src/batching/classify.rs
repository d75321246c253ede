//! The classification queue: items from many requests packed into model batches by token
//! budget, run on worker threads that share one model.

use std::sync::{Arc, OnceLock};

use super::pack;
use super::queue::{QueueMetrics, Reply, SubmitError, Work, WorkQueue};
use crate::model::{Encoded, Model, Scores};

/// Limits of the queue and its batches.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    /// Padded tokens (`longest item * items`) per model batch.
    pub max_batch_tokens: usize,
    /// Items per model batch.
    pub max_batch_items: usize,
    /// Items waiting at most; beyond this, submissions are refused.
    pub max_queued_items: usize,
    /// Worker threads, each running batches on the shared model.
    pub workers: usize,
}

/// How far past the oldest entry the packer looks for items of similar length.
const WINDOW_FACTOR: usize = 4;

const METRICS: QueueMetrics = QueueMetrics {
    depth: "storylens_queue_depth",
    dropped: "storylens_items_dropped_total",
    wait_seconds: "storylens_queue_time_seconds",
    run_seconds: "storylens_inference_time_seconds",
};

struct Classify {
    model: Arc<dyn Model>,
    cfg: BatchConfig,
}

impl Work for Classify {
    type Job = Encoded;
    type Output = Scores;

    fn window(&self) -> usize {
        self.cfg.max_batch_items * WINDOW_FACTOR
    }

    fn pick(&self, waiting: &[&Encoded]) -> Vec<usize> {
        let lens: Vec<usize> = waiting.iter().map(|e| e.len()).collect();
        pack::pick(&lens, self.cfg.max_batch_items, self.cfg.max_batch_tokens)
    }

    fn run(&self, batch: &[&Encoded]) -> crate::Result<Vec<Scores>> {
        let longest = batch.iter().map(|e| e.len()).max().unwrap_or(0);
        metrics::histogram!("storylens_batch_size").record(batch.len() as f64);
        metrics::histogram!("storylens_batch_tokens").record((longest * batch.len()) as f64);
        self.model.predict(batch)
    }
}

/// The dynamic batcher: a [`WorkQueue`] of encoded items. Created before the model loads, so
/// limits are known at once; [`Batcher::start`] attaches the model.
pub struct Batcher {
    queue: WorkQueue<Classify>,
    cfg: BatchConfig,
    model: OnceLock<Arc<dyn Model>>,
}

impl Batcher {
    /// A batcher with no workers yet: submissions wait until [`Batcher::start`].
    pub fn new(cfg: BatchConfig) -> Self {
        Self {
            queue: WorkQueue::new(cfg.max_queued_items, METRICS),
            cfg,
            model: OnceLock::new(),
        }
    }

    /// The configured limits.
    pub fn config(&self) -> &BatchConfig {
        &self.cfg
    }

    /// Starts the worker threads on `model` (once; later calls do nothing).
    pub fn start(&self, model: Arc<dyn Model>) {
        if self.model.set(Arc::clone(&model)).is_ok() {
            let work = Arc::new(Classify {
                model,
                cfg: self.cfg.clone(),
            });
            self.queue.start(work, self.cfg.workers, "storylens-model");
        }
    }

    /// The model the workers run, once started.
    pub fn model(&self) -> Option<&Arc<dyn Model>> {
        self.model.get()
    }

    /// Items waiting for a batch.
    pub fn queued(&self) -> usize {
        self.queue.queued()
    }

    /// Queues all items of one request, or none of them: one reply per item, in order.
    pub fn submit(&self, items: Vec<Encoded>) -> Result<Vec<Reply<Scores>>, SubmitError> {
        self.queue.submit(items)
    }

    /// Queues all items, waiting for room while the queue is full.
    pub async fn submit_when_room(
        &self,
        items: Vec<Encoded>,
    ) -> Result<Vec<Reply<Scores>>, SubmitError> {
        self.queue.submit_when_room(items).await
    }

    /// [`Batcher::submit_when_room`] for threads outside the async runtime.
    pub fn submit_blocking(&self, items: Vec<Encoded>) -> Result<Vec<Reply<Scores>>, SubmitError> {
        self.queue.submit_blocking(items)
    }

    /// Stops taking submissions, lets the workers finish everything queued, and joins them.
    pub fn shutdown(&self) {
        self.queue.shutdown();
    }
}
