//! The one work-queue primitive behind classification and refinement: bounded all-or-nothing
//! admission, waiting for room without spinning, worker threads off the async runtime that
//! skip jobs whose caller has gone, a panic or failure of a batch isolated to the job that
//! caused it, and a drain of every admitted job on shutdown.
//!
//! What a batch is (many items packed by token budget, or one rewrite) belongs to the [`Work`];
//! everything else lives here once.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, Notify};

/// What a queue runs: how it picks a batch from the waiting jobs, and how it runs one.
pub trait Work: Send + Sync + 'static {
    /// One unit of work (an encoded item, a rewrite request).
    type Job: Send + 'static;
    /// Its answer.
    type Output: Send + 'static;

    /// How many of the oldest jobs [`Work::pick`] looks at.
    fn window(&self) -> usize;

    /// Picks the next batch: indices into `waiting` (oldest first, never empty). Must include
    /// index 0, so nothing starves.
    fn pick(&self, waiting: &[&Self::Job]) -> Vec<usize>;

    /// Runs a batch; one output per job, in order. Heavy: runs on the queue's own threads.
    fn run(&self, batch: &[&Self::Job]) -> crate::Result<Vec<Self::Output>>;
}

/// Metric names of one queue, so dashboards keep their series.
#[derive(Debug, Clone, Copy)]
pub struct QueueMetrics {
    /// Gauge: jobs waiting.
    pub depth: &'static str,
    /// Counter: jobs admitted.
    pub admitted: &'static str,
    /// Counter: jobs skipped because their caller had gone.
    pub dropped: &'static str,
    /// Histogram: seconds from admission until the job's batch started.
    pub wait_seconds: &'static str,
    /// Histogram: seconds a batch ran.
    pub run_seconds: &'static str,
}

/// A finished job with its timings.
#[derive(Debug, Clone)]
pub struct Done<O> {
    pub output: O,
    /// Time from admission until its batch started.
    pub queue_time: Duration,
    /// Time its batch ran.
    pub run_time: Duration,
}

/// Where a job's answer arrives. Dropping it tells the queue to skip the job.
pub type Reply<O> = oneshot::Receiver<crate::Result<Done<O>>>;

/// Why a submission was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// Admitting the jobs now would exceed the capacity; retrying later can succeed.
    #[error("queue full: {queued} items waiting, limit {limit}")]
    QueueFull { queued: usize, limit: usize },
    /// More jobs than the queue can ever hold at once; retrying cannot succeed.
    #[error("{jobs} items exceed the queue's capacity of {limit}")]
    TooLarge { jobs: usize, limit: usize },
    /// The queue is shutting down.
    #[error("shutting down")]
    Stopped,
}

impl From<SubmitError> for crate::Error {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::QueueFull { .. } => crate::Error::Overloaded {
                message: e.to_string(),
                retry_after_s: 1,
            },
            SubmitError::TooLarge { .. } => {
                crate::Error::TooLarge(format!("{e}; send fewer per request"))
            }
            SubmitError::Stopped => crate::Error::ShuttingDown,
        }
    }
}

struct Entry<J, O> {
    job: J,
    reply: oneshot::Sender<crate::Result<Done<O>>>,
    admitted: Instant,
}

struct State<J, O> {
    entries: VecDeque<Entry<J, O>>,
    stopping: bool,
}

struct Shared<J, O> {
    state: Mutex<State<J, O>>,
    /// Workers wait here for jobs.
    wake: Condvar,
    /// Blocking submitters wait here for room.
    room: Condvar,
    /// Async submitters wait here for room.
    room_async: Notify,
    capacity: usize,
    metrics: QueueMetrics,
    /// Jobs skipped because their caller had gone (also the `dropped` counter's increments).
    dropped: AtomicU64,
    /// Jobs admitted so far (also the `admitted` counter's increments).
    admitted: AtomicU64,
}

/// A bounded queue of `W::Job`s and the threads that run them. Cheap to share behind an `Arc`.
pub struct WorkQueue<W: Work> {
    shared: Arc<Shared<W::Job, W::Output>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl<W: Work> WorkQueue<W> {
    /// A queue admitting at most `capacity` waiting jobs; none run until [`WorkQueue::start`].
    pub fn new(capacity: usize, metrics: QueueMetrics) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    entries: VecDeque::new(),
                    stopping: false,
                }),
                wake: Condvar::new(),
                room: Condvar::new(),
                room_async: Notify::new(),
                capacity,
                metrics,
                dropped: AtomicU64::new(0),
                admitted: AtomicU64::new(0),
            }),
            workers: Mutex::new(Vec::new()),
        }
    }

    /// Starts `threads` workers (at least one) named `name-N`, all running `work`.
    pub fn start(&self, work: Arc<W>, threads: usize, name: &str) {
        let mut workers = self.workers.lock().expect("workers lock");
        for n in 0..threads.max(1) {
            let (shared, work) = (Arc::clone(&self.shared), Arc::clone(&work));
            let handle = std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || worker(&shared, work.as_ref()))
                .expect("spawn queue worker");
            workers.push(handle);
        }
    }

    /// The most jobs that can wait at once.
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// Jobs waiting.
    pub fn queued(&self) -> usize {
        self.shared.state.lock().expect("queue lock").entries.len()
    }

    /// Jobs skipped so far because their caller had gone.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Jobs admitted so far.
    pub fn admitted(&self) -> u64 {
        self.shared.admitted.load(Ordering::Relaxed)
    }

    /// Admits all jobs or none, at once: one reply per job, in order.
    pub fn submit(&self, jobs: Vec<W::Job>) -> Result<Vec<Reply<W::Output>>, SubmitError> {
        self.try_submit(jobs).map_err(|(e, _)| e)
    }

    /// Like [`WorkQueue::submit`], but waits for room while the queue is full (dropping the
    /// future stops the wait). Refuses at once what could never fit.
    pub async fn submit_when_room(
        &self,
        mut jobs: Vec<W::Job>,
    ) -> Result<Vec<Reply<W::Output>>, SubmitError> {
        loop {
            // Registered before trying, so a worker making room in between is not missed.
            let room = self.shared.room_async.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            match self.try_submit(jobs) {
                Err((SubmitError::QueueFull { .. }, back)) => {
                    jobs = back;
                    room.await;
                }
                other => return other.map_err(|(e, _)| e),
            }
        }
    }

    /// Like [`WorkQueue::submit_when_room`], for threads outside the async runtime.
    pub fn submit_blocking(&self, jobs: Vec<W::Job>) -> Result<Vec<Reply<W::Output>>, SubmitError> {
        let mut state = self.shared.state.lock().expect("queue lock");
        loop {
            self.admissible(&state, jobs.len())?;
            if state.entries.len() + jobs.len() <= self.shared.capacity {
                return Ok(self.admit(state, jobs));
            }
            state = self.shared.room.wait(state).expect("queue lock");
        }
    }

    /// Like [`WorkQueue::submit`], handing the jobs back when refused so a waiter can retry.
    #[allow(clippy::type_complexity)]
    fn try_submit(
        &self,
        jobs: Vec<W::Job>,
    ) -> Result<Vec<Reply<W::Output>>, (SubmitError, Vec<W::Job>)> {
        let state = self.shared.state.lock().expect("queue lock");
        if let Err(e) = self.admissible(&state, jobs.len()) {
            return Err((e, jobs));
        }
        if state.entries.len() + jobs.len() > self.shared.capacity {
            let e = SubmitError::QueueFull {
                queued: state.entries.len(),
                limit: self.shared.capacity,
            };
            return Err((e, jobs));
        }
        Ok(self.admit(state, jobs))
    }

    /// Refusals that waiting cannot cure.
    fn admissible(&self, state: &State<W::Job, W::Output>, jobs: usize) -> Result<(), SubmitError> {
        if state.stopping {
            return Err(SubmitError::Stopped);
        }
        if jobs > self.shared.capacity {
            return Err(SubmitError::TooLarge {
                jobs,
                limit: self.shared.capacity,
            });
        }
        Ok(())
    }

    fn admit(
        &self,
        mut state: std::sync::MutexGuard<'_, State<W::Job, W::Output>>,
        jobs: Vec<W::Job>,
    ) -> Vec<Reply<W::Output>> {
        let now = Instant::now();
        let replies: Vec<_> = jobs
            .into_iter()
            .map(|job| {
                let (reply, rx) = oneshot::channel();
                state.entries.push_back(Entry {
                    job,
                    reply,
                    admitted: now,
                });
                rx
            })
            .collect();
        metrics::gauge!(self.shared.metrics.depth).set(state.entries.len() as f64);
        drop(state);
        self.shared
            .admitted
            .fetch_add(replies.len() as u64, Ordering::Relaxed);
        metrics::counter!(self.shared.metrics.admitted).increment(replies.len() as u64);
        self.shared.wake.notify_all();
        replies
    }

    /// Stops admitting, lets the workers answer every admitted job, and joins them.
    pub fn shutdown(&self) {
        self.shared.state.lock().expect("queue lock").stopping = true;
        self.shared.wake.notify_all();
        self.shared.room.notify_all();
        self.shared.room_async.notify_waiters();
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

impl<W: Work> Drop for WorkQueue<W> {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn worker<W: Work>(shared: &Shared<W::Job, W::Output>, work: &W) {
    loop {
        let batch = {
            let mut state = shared.state.lock().expect("queue lock");
            loop {
                // Callers that gave up cost nothing further.
                let before = state.entries.len();
                state.entries.retain(|e| !e.reply.is_closed());
                let dropped = before - state.entries.len();
                if dropped > 0 {
                    shared.dropped.fetch_add(dropped as u64, Ordering::Relaxed);
                    metrics::counter!(shared.metrics.dropped).increment(dropped as u64);
                }
                if !state.entries.is_empty() {
                    break;
                }
                if state.stopping {
                    return;
                }
                state = shared.wake.wait(state).expect("queue lock");
            }
            let window = state.entries.len().min(work.window().max(1));
            let waiting: Vec<&W::Job> = state.entries.iter().take(window).map(|e| &e.job).collect();
            let mut picked = work.pick(&waiting);
            picked.retain(|&i| i < window);
            picked.sort_unstable_by(|a, b| b.cmp(a));
            picked.dedup();
            if picked.is_empty() {
                picked.push(0);
            }
            // Removed from the back first, so the indices stay valid; then oldest first again.
            let mut batch: Vec<Entry<W::Job, W::Output>> = picked
                .into_iter()
                .filter_map(|i| state.entries.remove(i))
                .collect();
            batch.reverse();
            metrics::gauge!(shared.metrics.depth).set(state.entries.len() as f64);
            batch
        };
        shared.room.notify_all();
        shared.room_async.notify_waiters();
        run_batch(shared, work, batch);
    }
}

/// Runs `work` on `jobs`, turning a panic into an error.
fn run_guarded<W: Work>(work: &W, jobs: &[&W::Job]) -> crate::Result<Vec<W::Output>> {
    match std::panic::catch_unwind(AssertUnwindSafe(|| work.run(jobs))) {
        Ok(Ok(out)) if out.len() == jobs.len() => Ok(out),
        Ok(Ok(_)) => Err(crate::Error::Internal(
            "a batch returned the wrong number of results".into(),
        )),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(crate::Error::Internal("a batch panicked".into())),
    }
}

fn run_batch<W: Work>(
    shared: &Shared<W::Job, W::Output>,
    work: &W,
    batch: Vec<Entry<W::Job, W::Output>>,
) {
    let started = Instant::now();
    let jobs: Vec<&W::Job> = batch.iter().map(|e| &e.job).collect();
    let outcome = run_guarded(work, &jobs);
    let run_time = started.elapsed();
    metrics::histogram!(shared.metrics.run_seconds).record(run_time.as_secs_f64());
    let outputs: Vec<crate::Result<W::Output>> = match outcome {
        Ok(out) => out.into_iter().map(Ok).collect(),
        // One bad job must not fail its neighbours: run each alone to find it.
        Err(e) if jobs.len() > 1 => {
            tracing::warn!(jobs = jobs.len(), error = %e, "batch failed; running its jobs one by one");
            jobs.iter()
                .map(|job| run_guarded(work, std::slice::from_ref(job)).map(|mut o| o.remove(0)))
                .collect()
        }
        Err(e) => vec![Err(e)],
    };
    for (entry, output) in batch.into_iter().zip(outputs) {
        let queue_time = started.duration_since(entry.admitted);
        metrics::histogram!(shared.metrics.wait_seconds).record(queue_time.as_secs_f64());
        if let Err(e) = &output {
            tracing::error!(error = %e, "job failed");
        }
        let _ = entry.reply.send(output.map(|output| Done {
            output,
            queue_time,
            run_time,
        }));
    }
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
