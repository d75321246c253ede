//! The rewrite queue: refinement must never hold up classification, so it has its own bounded
//! queue, its own limits and its own worker threads, one item a job.

use std::sync::Arc;

use super::queue::{QueueMetrics, Reply, SubmitError, Work, WorkQueue};
use crate::analysis::rewrite::{Profile, Rewrite, RewriteEngine};
use crate::analysis::Item;

const METRICS: QueueMetrics = QueueMetrics {
    depth: "storylens_rewrite_queue_depth",
    admitted: "storylens_rewrites_admitted_total",
    dropped: "storylens_rewrites_dropped_total",
    wait_seconds: "storylens_rewrite_queue_seconds",
    run_seconds: "storylens_rewrite_seconds",
};

/// One item to refine, with its request's product profile.
pub struct RewriteJob {
    pub item: Item,
    pub profile: Option<Arc<Profile>>,
}

struct Refine(Arc<dyn RewriteEngine>);

impl Work for Refine {
    type Job = RewriteJob;
    type Output = Rewrite;

    fn window(&self) -> usize {
        1
    }

    fn pick(&self, _waiting: &[&RewriteJob]) -> Vec<usize> {
        vec![0]
    }

    fn run(&self, batch: &[&RewriteJob]) -> crate::Result<Vec<Rewrite>> {
        batch
            .iter()
            .map(|j| self.0.rewrite(&j.item, j.profile.as_deref()))
            .collect()
    }
}

/// Bounded queue of rewrite jobs and the workers that run them.
pub struct RewriteQueue(WorkQueue<Refine>);

impl RewriteQueue {
    /// A queue admitting at most `capacity` waiting items.
    pub fn new(capacity: usize) -> Self {
        Self(WorkQueue::new(capacity, METRICS))
    }

    /// Starts `workers` threads running `engine`.
    pub fn start(&self, engine: Arc<dyn RewriteEngine>, workers: usize) {
        self.0
            .start(Arc::new(Refine(engine)), workers, "storylens-rewrite");
    }

    /// Items waiting.
    pub fn queued(&self) -> usize {
        self.0.queued()
    }

    /// Admits every item or none; each gets its own reply, in order.
    pub fn submit(
        &self,
        items: Vec<Item>,
        profile: Option<Arc<Profile>>,
    ) -> Result<Vec<Reply<Rewrite>>, SubmitError> {
        let jobs = items
            .into_iter()
            .map(|item| RewriteJob {
                item,
                profile: profile.clone(),
            })
            .collect();
        self.0.submit(jobs)
    }

    /// Refuses new jobs, lets the workers answer every admitted one, and joins them.
    pub fn shutdown(&self) {
        self.0.shutdown();
    }
}
