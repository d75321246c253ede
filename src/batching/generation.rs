//! The rewrite queue: generation is slow (about a second an item) and must never hold up
//! classification, so it has its own bounded queue and its own worker threads. Admission is
//! all-or-nothing per request; a job whose caller has gone is skipped; shutdown answers every
//! admitted job before the workers stop.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use tokio::sync::oneshot;

use super::SubmitError;
use crate::analysis::rewrite::{Profile, Rewrite, RewriteEngine};
use crate::analysis::Item;

type Reply = oneshot::Sender<Result<Rewrite, crate::Error>>;

struct Job {
    item: Item,
    /// The request's product profile, shared by its items.
    profile: Option<Arc<Profile>>,
    reply: Reply,
    enqueued: Instant,
}

#[derive(Default)]
struct Shared {
    jobs: VecDeque<Job>,
    stopping: bool,
}

/// Bounded queue of rewrite jobs and the workers that run them.
pub struct GenerationQueue {
    shared: Arc<(Mutex<Shared>, Condvar)>,
    capacity: usize,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl GenerationQueue {
    /// A queue admitting at most `capacity` waiting items.
    pub fn new(capacity: usize) -> Self {
        Self {
            shared: Arc::default(),
            capacity,
            workers: Mutex::new(Vec::new()),
        }
    }

    /// Starts `workers` threads running `engine`.
    pub fn start(&self, engine: Arc<dyn RewriteEngine>, workers: usize) {
        let mut handles = self.workers.lock().expect("workers lock");
        for i in 0..workers.max(1) {
            let (shared, engine) = (Arc::clone(&self.shared), Arc::clone(&engine));
            let handle = std::thread::Builder::new()
                .name(format!("storylens-rewrite-{i}"))
                .spawn(move || work(&shared, engine.as_ref()))
                .expect("spawn rewrite worker");
            handles.push(handle);
        }
    }

    /// Items waiting.
    pub fn queued(&self) -> usize {
        self.shared.0.lock().expect("queue lock").jobs.len()
    }

    /// Admits every item or none; each gets its own reply channel, in order.
    pub fn submit(
        &self,
        items: Vec<Item>,
        profile: Option<Arc<Profile>>,
    ) -> Result<Vec<oneshot::Receiver<Result<Rewrite, crate::Error>>>, SubmitError> {
        let (lock, cv) = &*self.shared;
        let mut s = lock.lock().expect("queue lock");
        if s.stopping {
            return Err(SubmitError::Stopped);
        }
        if s.jobs.len() + items.len() > self.capacity {
            return Err(SubmitError::QueueFull {
                queued: s.jobs.len(),
                limit: self.capacity,
            });
        }
        let now = Instant::now();
        let mut receivers = Vec::with_capacity(items.len());
        for item in items {
            let (reply, rx) = oneshot::channel();
            s.jobs.push_back(Job {
                item,
                profile: profile.clone(),
                reply,
                enqueued: now,
            });
            receivers.push(rx);
        }
        metrics::gauge!("storylens_rewrite_queue_depth").set(s.jobs.len() as f64);
        cv.notify_all();
        Ok(receivers)
    }

    /// Refuses new jobs, lets the workers answer every admitted one, and joins them.
    pub fn shutdown(&self) {
        {
            let (lock, cv) = &*self.shared;
            lock.lock().expect("queue lock").stopping = true;
            cv.notify_all();
        }
        for h in self.workers.lock().expect("workers lock").drain(..) {
            let _ = h.join();
        }
    }
}

fn work(shared: &(Mutex<Shared>, Condvar), engine: &dyn RewriteEngine) {
    let (lock, cv) = shared;
    loop {
        let job = {
            let mut s = lock.lock().expect("queue lock");
            loop {
                if let Some(j) = s.jobs.pop_front() {
                    metrics::gauge!("storylens_rewrite_queue_depth").set(s.jobs.len() as f64);
                    break j;
                }
                if s.stopping {
                    return;
                }
                s = cv.wait(s).expect("queue lock");
            }
        };
        if job.reply.is_closed() {
            metrics::counter!("storylens_rewrites_dropped_total").increment(1);
            continue;
        }
        metrics::histogram!("storylens_rewrite_queue_seconds")
            .record(job.enqueued.elapsed().as_secs_f64());
        let started = Instant::now();
        let (item, profile) = (job.item, job.profile);
        // A panic in one rewrite answers that job with an error and keeps the worker alive.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            engine.rewrite(&item, profile.as_deref())
        }))
        .unwrap_or_else(|_| Err(crate::Error::Internal("rewrite failed unexpectedly".into())));
        metrics::histogram!("storylens_rewrite_seconds").record(started.elapsed().as_secs_f64());
        let _ = job.reply.send(outcome);
    }
}

impl Drop for GenerationQueue {
    fn drop(&mut self) {
        self.shutdown();
    }
}
