//! storylens: tells user stories from technical tasks in agile backlogs.
//!
//! Layers, each with one job:
//! - [`model`]: tokenizer, MiniLM encoder, classifier head, loading through the hf-hub cache.
//! - [`analysis`]: backlog items, story parts and findings.
//! - [`batching`]: the one work-queue primitive, the classification queue that packs requests
//!   into model batches, and the rewrite queue.
//! - [`service`]: the scoring core every transport calls (text selection, cache, tokenizing,
//!   queueing, analysis).
//! - [`input`]: the one input layer: every item shape accepted, errors naming the field.
//! - [`http`]: the axum router, handlers, request/response types and JSON errors.
//! - [`train`]: datasets, the training loop, calibration and evaluation metrics.
//! - [`config`]: the command-line and environment configuration.

pub mod analysis;
pub mod backlog;
pub mod batching;
pub mod config;
pub mod error;
pub mod http;
pub mod input;
pub mod model;
pub mod service;
pub mod store;
pub mod tracker;
pub mod train;

pub use error::{Error, Result};

/// Every forward pass allocates activations of a few hundred KiB to a few MiB; glibc hands
/// those back to the kernel with `munmap`, so each batch paid page faults and page zeroing
/// (about a sixth of CPU time under load). mimalloc keeps them in process. Declared here so the
/// binary, the tests and the benches all measure the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (`mi_option_purge_delay` in its header; the sys crate names
/// the options around it but not this one).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed pages in the process: by default mimalloc returns them to the kernel after 10 ms,
/// so a server answering one request at a time faulted its activations back in on every request.
/// Memory stays bounded by the peak of one batch. Call once at start-up.
pub fn tune_allocator() {
    // SAFETY: setting an option is a plain store into mimalloc's option table.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}
