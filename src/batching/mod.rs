//! Work queues. One primitive ([`queue::WorkQueue`]) admits, waits for room, skips jobs whose
//! caller has gone, isolates failures and drains on shutdown; the classification queue packs
//! items from many requests into model batches by token budget, and the rewrite queue runs
//! refinements on their own threads.

pub mod cache;
mod classify;
mod pack;
pub mod queue;
mod rewrite;

pub use classify::{BatchConfig, Batcher, Job, Prediction};
pub use queue::{Done, Reply, SubmitError};
pub use rewrite::{RewriteJob, RewriteQueue};
