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
