//! The bounded queue and its model workers.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::pack;
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

/// What an item gets back.
#[derive(Debug, Clone, Copy)]
pub struct ItemResult {
    pub scores: Scores,
    /// Time from submission until its batch started.
    pub queue_time: Duration,
    /// Time its batch spent in the model.
    pub inference_time: Duration,
}

/// Why a submission was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// Admitting the items would exceed `max_queued_items`.
    #[error("queue full: {queued} items waiting, limit {limit}")]
    QueueFull { queued: usize, limit: usize },
    /// The batcher is shutting down.
    #[error("shutting down")]
    Stopped,
}

type Reply = oneshot::Sender<Result<ItemResult, String>>;

struct Entry {
    encoded: Encoded,
    reply: Reply,
    enqueued: Instant,
}

#[derive(Default)]
struct State {
    entries: VecDeque<Entry>,
    stopping: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    cfg: BatchConfig,
}

/// The dynamic batcher. Cheap to share behind an `Arc`.
pub struct Batcher {
    shared: Arc<Shared>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

/// How far past the oldest entry the packer looks for items of similar length.
const WINDOW_FACTOR: usize = 4;

impl Batcher {
    /// A batcher with no workers yet: submissions wait until [`Batcher::start`].
    pub fn new(cfg: BatchConfig) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                wake: Condvar::new(),
                cfg,
            }),
            workers: Mutex::new(Vec::new()),
        }
    }

    /// The configured limits.
    pub fn config(&self) -> &BatchConfig {
        &self.shared.cfg
    }

    /// Starts the worker threads on `model`.
    pub fn start(&self, model: Arc<dyn Model>) {
        let mut workers = self.workers.lock().expect("workers lock");
        for n in 0..self.shared.cfg.workers.max(1) {
            let shared = Arc::clone(&self.shared);
            let model = Arc::clone(&model);
            let handle = std::thread::Builder::new()
                .name(format!("storylens-model-{n}"))
                .spawn(move || worker(&shared, model.as_ref()))
                .expect("spawn model worker");
            workers.push(handle);
        }
    }

    /// Items waiting for a batch.
    pub fn queued(&self) -> usize {
        self.shared.state.lock().expect("queue lock").entries.len()
    }

    /// Queues all items of one request, or none of them: returns one receiver per item, in order.
    pub fn submit(
        &self,
        items: Vec<Encoded>,
    ) -> Result<Vec<oneshot::Receiver<Result<ItemResult, String>>>, SubmitError> {
        let mut state = self.shared.state.lock().expect("queue lock");
        if state.stopping {
            return Err(SubmitError::Stopped);
        }
        let limit = self.shared.cfg.max_queued_items;
        if state.entries.len() + items.len() > limit {
            return Err(SubmitError::QueueFull {
                queued: state.entries.len(),
                limit,
            });
        }
        let now = Instant::now();
        let receivers = items
            .into_iter()
            .map(|encoded| {
                let (reply, rx) = oneshot::channel();
                state.entries.push_back(Entry {
                    encoded,
                    reply,
                    enqueued: now,
                });
                rx
            })
            .collect();
        metrics::gauge!("storylens_queue_depth").set(state.entries.len() as f64);
        drop(state);
        self.shared.wake.notify_all();
        Ok(receivers)
    }

    /// Stops taking submissions, lets the workers finish everything queued, and joins them.
    pub fn shutdown(&self) {
        self.shared.state.lock().expect("queue lock").stopping = true;
        self.shared.wake.notify_all();
        let handles: Vec<_> = self
            .workers
            .lock()
            .expect("workers lock")
            .drain(..)
            .collect();
        for h in handles {
            let _ = h.join();
        }
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn worker(shared: &Shared, model: &dyn Model) {
    loop {
        let batch = {
            let mut state = shared.state.lock().expect("queue lock");
            loop {
                // Callers that gave up cost nothing further.
                let before = state.entries.len();
                state.entries.retain(|e| !e.reply.is_closed());
                let dropped = before - state.entries.len();
                if dropped > 0 {
                    metrics::counter!("storylens_items_dropped_total").increment(dropped as u64);
                }
                if !state.entries.is_empty() {
                    break;
                }
                if state.stopping {
                    return;
                }
                state = shared.wake.wait(state).expect("queue lock");
            }
            let window = state
                .entries
                .len()
                .min(shared.cfg.max_batch_items * WINDOW_FACTOR);
            let lens: Vec<usize> = state
                .entries
                .iter()
                .take(window)
                .map(|e| e.encoded.len())
                .collect();
            let mut picked = pack::pick(
                &lens,
                shared.cfg.max_batch_items,
                shared.cfg.max_batch_tokens,
            );
            picked.sort_unstable_by(|a, b| b.cmp(a));
            let batch: Vec<Entry> = picked
                .into_iter()
                .filter_map(|i| state.entries.remove(i))
                .collect();
            metrics::gauge!("storylens_queue_depth").set(state.entries.len() as f64);
            batch
        };
        run_batch(model, batch);
    }
}

fn run_batch(model: &dyn Model, batch: Vec<Entry>) {
    let started = Instant::now();
    let refs: Vec<&Encoded> = batch.iter().map(|e| &e.encoded).collect();
    let longest = refs.iter().map(|e| e.len()).max().unwrap_or(0);
    metrics::histogram!("storylens_batch_size").record(refs.len() as f64);
    metrics::histogram!("storylens_batch_tokens").record((longest * refs.len()) as f64);
    // A panic inside the model must fail this batch, not kill the worker and strand the queue.
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| model.predict(&refs)))
        .unwrap_or_else(|_| Err(crate::Error::Internal("model panicked".into())));
    let inference_time = started.elapsed();
    metrics::histogram!("storylens_inference_time_seconds").record(inference_time.as_secs_f64());
    match outcome {
        Ok(scores) if scores.len() == batch.len() => {
            for (entry, scores) in batch.into_iter().zip(scores) {
                let queue_time = started.duration_since(entry.enqueued);
                metrics::histogram!("storylens_queue_time_seconds")
                    .record(queue_time.as_secs_f64());
                let _ = entry.reply.send(Ok(ItemResult {
                    scores,
                    queue_time,
                    inference_time,
                }));
            }
        }
        Ok(_) => fail_all(batch, "model returned the wrong number of results"),
        Err(e) => fail_all(batch, &e.to_string()),
    }
}

fn fail_all(batch: Vec<Entry>, message: &str) {
    tracing::error!(items = batch.len(), error = message, "batch failed");
    for entry in batch {
        let _ = entry.reply.send(Err(message.to_string()));
    }
}
