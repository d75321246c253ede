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
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const METRICS: QueueMetrics = QueueMetrics {
        depth: "test_queue_depth",
        admitted: "test_queue_admitted_total",
        dropped: "test_queue_dropped_total",
        wait_seconds: "test_queue_wait_seconds",
        run_seconds: "test_queue_run_seconds",
    };

    /// Doubles numbers in batches of up to `batch`; 13 fails, 99 panics; a gate holds runs.
    struct Doubler {
        batch: usize,
        runs: AtomicUsize,
        gate: Mutex<()>,
    }

    impl Doubler {
        fn new(batch: usize) -> Arc<Self> {
            Arc::new(Self {
                batch,
                runs: AtomicUsize::new(0),
                gate: Mutex::new(()),
            })
        }
    }

    impl Work for Doubler {
        type Job = u32;
        type Output = u32;
        fn window(&self) -> usize {
            self.batch * 2
        }
        fn pick(&self, waiting: &[&u32]) -> Vec<usize> {
            (0..waiting.len().min(self.batch)).collect()
        }
        fn run(&self, batch: &[&u32]) -> crate::Result<Vec<u32>> {
            // A panic below poisons the gate; later runs still pass it.
            let _held = self.gate.lock().unwrap_or_else(|e| e.into_inner());
            self.runs.fetch_add(1, Ordering::SeqCst);
            if batch.iter().any(|&&j| j == 99) {
                panic!("ninety-nine");
            }
            if batch.iter().any(|&&j| j == 13) {
                return Err(crate::Error::InvalidInput("thirteen".into()));
            }
            Ok(batch.iter().map(|&&j| j * 2).collect())
        }
    }

    fn answers(replies: Vec<Reply<u32>>) -> Vec<Result<u32, String>> {
        replies
            .into_iter()
            .map(|r| {
                r.blocking_recv()
                    .expect("answered")
                    .map(|d| d.output)
                    .map_err(|e| e.to_string())
            })
            .collect()
    }

    #[test]
    fn answers_every_job_in_order() {
        let q = WorkQueue::new(100, METRICS);
        q.start(Doubler::new(4), 2, "t");
        let replies = q.submit((1..=10).collect()).unwrap();
        let got = answers(replies);
        assert_eq!(got, (1..=10).map(|j| Ok(j * 2)).collect::<Vec<_>>());
    }

    #[test]
    fn admission_is_all_or_nothing_and_too_large_is_told_apart() {
        let q: WorkQueue<Doubler> = WorkQueue::new(3, METRICS);
        let held = q.submit(vec![1, 2]).unwrap();
        assert_eq!(
            q.submit(vec![3, 4]).unwrap_err(),
            SubmitError::QueueFull {
                queued: 2,
                limit: 3
            }
        );
        assert_eq!(q.queued(), 2, "nothing of a refused request is admitted");
        assert_eq!(
            q.submit(vec![1, 2, 3, 4]).unwrap_err(),
            SubmitError::TooLarge { jobs: 4, limit: 3 }
        );
        drop(held);
    }

    #[test]
    fn a_failing_or_panicking_job_fails_alone() {
        let q = WorkQueue::new(100, METRICS);
        let work = Doubler::new(8);
        // Held until all jobs are queued, so they share one batch.
        let gate = work.gate.lock().unwrap();
        q.start(Arc::clone(&work), 1, "t");
        let first = q.submit(vec![0]).unwrap();
        let replies = q.submit(vec![1, 13, 3, 99, 5]).unwrap();
        drop(gate);
        let _ = answers(first);
        let got = answers(replies);
        assert_eq!(got[0], Ok(2));
        assert_eq!(got[1], Err("thirteen".to_string()));
        assert_eq!(got[2], Ok(6));
        assert!(got[3].as_ref().unwrap_err().contains("panicked"));
        assert_eq!(got[4], Ok(10));
        // The worker survived the panic.
        assert_eq!(answers(q.submit(vec![7]).unwrap()), vec![Ok(14)]);
    }

    #[test]
    fn jobs_of_callers_that_left_are_skipped() {
        let q = WorkQueue::new(100, METRICS);
        let work = Doubler::new(1);
        let gate = work.gate.lock().unwrap();
        q.start(Arc::clone(&work), 1, "t");
        let busy = q.submit(vec![1]).unwrap();
        // Wait until the worker holds the first job, so the next ones stay queued.
        while q.queued() > 0 {
            std::thread::yield_now();
        }
        drop(q.submit(vec![2, 3, 4]).unwrap());
        let kept = q.submit(vec![5]).unwrap();
        drop(gate);
        assert_eq!(answers(busy), vec![Ok(2)]);
        assert_eq!(answers(kept), vec![Ok(10)]);
        assert_eq!(
            work.runs.load(Ordering::SeqCst),
            2,
            "dropped jobs never ran"
        );
        assert_eq!(q.dropped(), 3);
    }

    #[test]
    fn a_blocking_submitter_waits_for_room_then_gets_in() {
        let q = Arc::new(WorkQueue::new(2, METRICS));
        let work = Doubler::new(1);
        let gate = work.gate.lock().unwrap();
        q.start(Arc::clone(&work), 1, "t");
        let first = q.submit(vec![1, 2]).unwrap();
        let waiter = {
            let q = Arc::clone(&q);
            std::thread::spawn(move || answers(q.submit_blocking(vec![3, 4]).unwrap()))
        };
        drop(gate);
        assert_eq!(answers(first), vec![Ok(2), Ok(4)]);
        assert_eq!(waiter.join().unwrap(), vec![Ok(6), Ok(8)]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_async_submitter_waits_for_room_without_spinning() {
        let q = Arc::new(WorkQueue::new(2, METRICS));
        let work = Doubler::new(1);
        q.start(Arc::clone(&work), 1, "t");
        // A thread holds the gate (a guard must not live across an await) until told.
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (held, is_held) = std::sync::mpsc::channel::<()>();
        let holder = {
            let work = Arc::clone(&work);
            std::thread::spawn(move || {
                let _gate = work.gate.lock().unwrap();
                held.send(()).unwrap();
                released.recv().unwrap();
            })
        };
        is_held.recv().unwrap();
        let first = q.submit(vec![1, 2]).unwrap();
        let waiter = {
            let q = Arc::clone(&q);
            tokio::spawn(async move { q.submit_when_room(vec![3, 4]).await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "waits while the queue is full");
        release.send(()).unwrap();
        holder.join().unwrap();
        let replies = waiter.await.unwrap().unwrap();
        let mut got = Vec::new();
        for r in first.into_iter().chain(replies) {
            got.push(r.await.unwrap().unwrap().output);
        }
        assert_eq!(got, vec![2, 4, 6, 8]);
        assert_eq!(
            q.submit_when_room(vec![1, 2, 3]).await.unwrap_err(),
            SubmitError::TooLarge { jobs: 3, limit: 2 }
        );
    }

    #[test]
    fn shutdown_answers_every_admitted_job_then_refuses() {
        let q = WorkQueue::new(100, METRICS);
        let work = Doubler::new(2);
        let gate = work.gate.lock().unwrap();
        q.start(Arc::clone(&work), 1, "t");
        let replies = q.submit((1..=6).collect()).unwrap();
        let stopper = std::thread::spawn({
            let q = Arc::new(q);
            let q2 = Arc::clone(&q);
            move || {
                q2.shutdown();
                q2.submit(vec![1]).unwrap_err()
            }
        });
        drop(gate);
        assert_eq!(
            answers(replies),
            (1..=6).map(|j| Ok(j * 2)).collect::<Vec<_>>()
        );
        assert_eq!(stopper.join().unwrap(), SubmitError::Stopped);
    }
}
