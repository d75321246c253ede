//! The classification queue: items from many requests packed into model batches by token
//! budget, run on worker threads that share one model.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

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
    admitted: "storylens_items_admitted_total",
    dropped: "storylens_items_dropped_total",
    wait_seconds: "storylens_queue_time_seconds",
    run_seconds: "storylens_inference_time_seconds",
};

/// One item for the model: its tokens, and whether its caller needs the pooled features as well
/// as the scores (the refiner does; its heads read them).
#[derive(Debug, Clone)]
pub struct Job {
    pub encoded: Encoded,
    pub features: bool,
}

impl From<Encoded> for Job {
    fn from(encoded: Encoded) -> Self {
        Self {
            encoded,
            features: false,
        }
    }
}

/// The model's answer for one [`Job`].
#[derive(Debug, Clone)]
pub struct Prediction {
    pub scores: Scores,
    /// The pooled features, when the job asked for them.
    pub features: Option<Vec<f32>>,
}

struct Classify {
    model: Arc<dyn Model>,
    cfg: BatchConfig,
    rate: Arc<DrainRate>,
}

/// Items per second the workers get through, smoothed over recent batches: what a client told
/// to come back should wait for the queue ahead of it to drain.
#[derive(Default)]
struct DrainRate(AtomicU64);

impl DrainRate {
    fn record(&self, items: usize, took: Duration) {
        let now = items as f64 / took.as_secs_f64().max(1e-6);
        let old = f64::from_bits(self.0.load(Ordering::Relaxed));
        let smoothed = if old > 0.0 {
            0.8 * old + 0.2 * now
        } else {
            now
        };
        self.0.store(smoothed.to_bits(), Ordering::Relaxed);
    }

    /// Seconds for `queued` items to drain, 1 to 60; 1 before any batch has run.
    fn seconds_for(&self, queued: usize) -> u64 {
        let rate = f64::from_bits(self.0.load(Ordering::Relaxed));
        if rate <= 0.0 {
            return 1;
        }
        ((queued as f64 / rate).ceil() as u64).clamp(1, 60)
    }
}

impl Work for Classify {
    type Job = Job;
    type Output = Prediction;

    fn window(&self) -> usize {
        self.cfg.max_batch_items * WINDOW_FACTOR
    }

    /// A batch asks the model one question: jobs wanting features run apart from the rest (the
    /// oldest job decides which), so classification batches keep the fast, threaded path.
    fn pick(&self, waiting: &[&Job]) -> Vec<usize> {
        let kind = waiting.first().is_some_and(|j| j.features);
        let alike: Vec<usize> = (0..waiting.len())
            .filter(|&i| waiting[i].features == kind)
            .collect();
        let lens: Vec<usize> = alike.iter().map(|&i| waiting[i].encoded.len()).collect();
        pack::pick(&lens, self.cfg.max_batch_items, self.cfg.max_batch_tokens)
            .into_iter()
            .map(|i| alike[i])
            .collect()
    }

    fn run(&self, batch: &[&Job]) -> crate::Result<Vec<Prediction>> {
        let longest = batch.iter().map(|j| j.encoded.len()).max().unwrap_or(0);
        metrics::histogram!("storylens_batch_size").record(batch.len() as f64);
        metrics::histogram!("storylens_batch_tokens").record((longest * batch.len()) as f64);
        let encoded: Vec<&Encoded> = batch.iter().map(|j| &j.encoded).collect();
        let started = Instant::now();
        let out: Vec<Prediction> = if batch.first().is_some_and(|j| j.features) {
            self.model
                .predict_features(&encoded)?
                .into_iter()
                .map(|(scores, f)| Prediction {
                    scores,
                    features: Some(f),
                })
                .collect()
        } else {
            self.model
                .predict(&encoded)?
                .into_iter()
                .map(|scores| Prediction {
                    scores,
                    features: None,
                })
                .collect()
        };
        // Several workers share the model: each sees its own share of the throughput.
        self.rate
            .record(batch.len() * self.cfg.workers.max(1), started.elapsed());
        Ok(out)
    }
}

/// The dynamic batcher: a [`WorkQueue`] of encoded items. Created before the model loads, so
/// limits are known at once; [`Batcher::start`] attaches the model.
pub struct Batcher {
    queue: WorkQueue<Classify>,
    cfg: BatchConfig,
    model: OnceLock<Arc<dyn Model>>,
    rate: Arc<DrainRate>,
}

impl Batcher {
    /// A batcher with no workers yet: submissions wait until [`Batcher::start`].
    pub fn new(cfg: BatchConfig) -> Self {
        Self {
            queue: WorkQueue::new(cfg.max_queued_items, METRICS),
            cfg,
            model: OnceLock::new(),
            rate: Arc::default(),
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
                rate: Arc::clone(&self.rate),
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

    /// Items skipped so far because their caller had gone.
    pub fn dropped(&self) -> u64 {
        self.queue.dropped()
    }

    /// Items admitted so far.
    pub fn admitted(&self) -> u64 {
        self.queue.admitted()
    }

    /// Queues all items of one request, or none of them: one reply per item, in order.
    pub fn submit(&self, items: Vec<Job>) -> Result<Vec<Reply<Prediction>>, SubmitError> {
        self.queue.submit(items)
    }

    /// [`Batcher::submit`] with a full queue answered as [`crate::Error::Overloaded`], its
    /// retry time the time the queue ahead needs to drain at the recent rate.
    pub fn submit_or_overloaded(&self, items: Vec<Job>) -> crate::Result<Vec<Reply<Prediction>>> {
        self.queue.submit(items).map_err(|e| match e {
            SubmitError::QueueFull { queued, .. } => crate::Error::Overloaded {
                message: e.to_string(),
                retry_after_s: self.rate.seconds_for(queued),
            },
            other => other.into(),
        })
    }

    /// Queues all items, waiting for room while the queue is full.
    pub async fn submit_when_room(
        &self,
        items: Vec<Job>,
    ) -> Result<Vec<Reply<Prediction>>, SubmitError> {
        self.queue.submit_when_room(items).await
    }

    /// [`Batcher::submit_when_room`] for threads outside the async runtime.
    pub fn submit_blocking(&self, items: Vec<Job>) -> Result<Vec<Reply<Prediction>>, SubmitError> {
        self.queue.submit_blocking(items)
    }

    /// Stops taking submissions, lets the workers finish everything queued, and joins them.
    pub fn shutdown(&self) {
        self.queue.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_asks_one_question_and_keeps_item_order() {
        let model = Arc::new(crate::model::fake::FakeModel::new(16));
        let work = Classify {
            model: model.clone(),
            cfg: BatchConfig {
                max_batch_tokens: 1024,
                max_batch_items: 8,
                max_queued_items: 8,
                workers: 1,
            },
            rate: Arc::default(),
        };
        let job = |text: &str, features: bool| Job {
            encoded: model.tokenize(text).unwrap(),
            features,
        };
        let jobs = [
            job("Refactor the billing module", true),
            job("Let shoppers filter results", false),
            job("Upgrade the server", true),
        ];
        let waiting: Vec<&Job> = jobs.iter().collect();
        let mut picked = work.pick(&waiting);
        picked.sort();
        assert_eq!(picked, vec![0, 2], "feature jobs run apart from plain ones");
        let out = work.run(&[&jobs[0], &jobs[2]]).unwrap();
        assert_eq!(out[0].features.as_deref(), Some(&[4.0, 1.0][..]));
        assert_eq!(out[1].features.as_deref(), Some(&[3.0, 2.0][..]));
        let plain = work.run(&[&jobs[1]]).unwrap();
        assert!(plain[0].features.is_none());
        assert_eq!(plain[0].scores.label(), crate::model::Label::Story);
    }

    #[test]
    fn retry_time_follows_the_queue_and_the_drain_rate() {
        let rate = DrainRate::default();
        assert_eq!(rate.seconds_for(10_000), 1, "no batch yet: 1 s");
        rate.record(100, Duration::from_millis(100)); // 1,000 items/s
        assert_eq!(rate.seconds_for(500), 1);
        assert_eq!(rate.seconds_for(4_000), 4);
        assert_eq!(rate.seconds_for(1_000_000), 60, "capped");
    }
}
