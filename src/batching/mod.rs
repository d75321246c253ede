//! Dynamic batching: a bounded queue packs items from many requests into model batches by token
//! budget, and worker threads that own the model run them. Each item carries its own reply
//! channel; an item whose caller has gone is dropped before it costs model time.

pub mod cache;
pub mod generation;
mod pack;
mod queue;

pub use generation::GenerationQueue;
pub use queue::{BatchConfig, Batcher, ItemResult, SubmitError};
