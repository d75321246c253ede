//! The commands behind the binary. Each returns an exit code: 0 done, 1 done with some items in
//! error (reported on stderr), 2 failed.

pub mod bench;
pub mod classify;
pub mod eval;
pub mod eval_duplicates;
pub mod eval_rewrite;
pub mod feedback;
mod items;
pub mod lint;
pub mod rewrite;
pub mod score;
pub mod serve;
pub mod train;
pub mod train_refine;

use storylens::config::ModelArgs;
use storylens::model::Classifier;

/// Loads the classifier, with a hint on the setup command when files are missing.
pub fn load_classifier(args: &ModelArgs) -> anyhow::Result<Classifier> {
    let opts = args.classifier_options()?;
    let started = std::time::Instant::now();
    let model = Classifier::load(&opts)?;
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "classifier loaded"
    );
    Ok(model)
}
