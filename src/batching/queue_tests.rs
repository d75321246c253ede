//! Unit tests of the work-queue primitive.
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
