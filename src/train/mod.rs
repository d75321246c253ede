//! Training and evaluation: datasets, the fine-tuning loop, calibration and metrics.

pub mod dataset;
pub mod metrics;
pub mod refine;
pub mod trainer;

pub use dataset::Example;
pub use metrics::Metrics;
