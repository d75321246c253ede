//! `storylens serve`.

use std::process::ExitCode;
use std::sync::Arc;

use storylens::analysis::rewrite::RewriteEngine;
use storylens::config::ModelArgs;
use storylens::http::server::RewriterLoader;
use storylens::http::ServeArgs;
use storylens::model::{Classifier, Model};

pub fn run(model_args: &ModelArgs, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.max_batch_items > 0,
        "--max-batch-items must be at least 1"
    );
    anyhow::ensure!(
        args.max_items_per_request > 0,
        "--max-items-per-request must be at least 1"
    );
    let opts = model_args.classifier_options()?;
    // The async runtime only moves bytes; the model has its own threads.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let analyzer = model_args.analyzer()?;
    let rewriter: Option<RewriterLoader> = (args.rewrite.rewrite_workers > 0).then(|| {
        let (model_args, opts) = (model_args.clone(), args.rewrite.tuning.options());
        Box::new(move || {
            model_args
                .rewriter(opts)
                .map(|r| Arc::new(r) as Arc<dyn RewriteEngine>)
        }) as RewriterLoader
    });
    runtime.block_on(storylens::http::server::serve(
        args,
        analyzer,
        move || Classifier::load(&opts).map(|m| Arc::new(m) as Arc<dyn Model>),
        rewriter,
    ))?;
    eprintln!("storylens: stopped");
    Ok(ExitCode::SUCCESS)
}
