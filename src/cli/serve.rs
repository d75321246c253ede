//! `storylens serve`.

use std::process::ExitCode;
use std::sync::Arc;

use storylens::analysis::rewrite::RewriteEngine;
use storylens::config::ModelArgs;
use storylens::http::server::RewriterLoader;
use storylens::http::ServeArgs;
use storylens::model::{Classifier, Model};

pub fn run(model_args: &ModelArgs, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    args.validate().map_err(anyhow::Error::msg)?;
    let opts = model_args.classifier_options()?;
    // The async runtime only moves bytes; the model has its own threads.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let analyzer = model_args.analyzer()?;
    let profile = args.rewrite.tuning.profile()?;
    // The refiner classifies through the server's scoring core: one copy of the weights, one
    // queue, one cache.
    let rewriter: Option<RewriterLoader> = (args.rewrite.rewrite_workers > 0).then(|| {
        let model_args = model_args.clone();
        Box::new(move |scorer| {
            model_args
                .rewriter_with(scorer, profile)
                .map(|r| Arc::new(r) as Arc<dyn RewriteEngine>)
        }) as RewriterLoader
    });
    runtime.block_on(storylens::http::server::serve(
        args,
        analyzer,
        model_args.text_policy(),
        move || Ok(Arc::new(Classifier::load(&opts)?) as Arc<dyn Model>),
        rewriter,
    ))?;
    eprintln!("storylens: stopped");
    Ok(ExitCode::SUCCESS)
}
