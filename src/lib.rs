//! storylens: tells user stories from technical tasks in agile backlogs.
//!
//! Layers, each with one job:
//! - [`model`]: tokenizer, MiniLM encoder, classifier head, loading through the hf-hub cache.
//! - [`analysis`]: backlog items, story parts and findings.
//! - [`batching`]: the queue that packs requests into model batches and the worker owning the model.
//! - [`http`]: the axum router, handlers, request/response types and JSON errors.
//! - [`train`]: datasets, the training loop, calibration and evaluation metrics.
//! - [`config`]: the command-line and environment configuration.

pub mod analysis;
pub mod batching;
pub mod config;
pub mod error;
pub mod http;
pub mod model;
pub mod train;

pub use error::{Error, Result};

/// Every forward pass allocates activations of a few hundred KiB to a few MiB; glibc hands
/// those back to the kernel with `munmap`, so each batch paid page faults and page zeroing
/// (about a sixth of CPU time under load). mimalloc keeps them in process. Declared here so the
/// binary, the tests and the benches all measure the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
