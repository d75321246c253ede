//! `storylens serve`.

use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

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
    // The refiner shares the classifier the server loads: one copy of the weights.
    let loaded: Arc<OnceLock<Arc<Classifier>>> = Arc::default();
    let profile = args.rewrite.tuning.profile()?;
    let rewriter: Option<RewriterLoader> = (args.rewrite.rewrite_workers > 0).then(|| {
        let (model_args, loaded) = (model_args.clone(), Arc::clone(&loaded));
        Box::new(move || {
            let classifier = loaded
                .get()
                .cloned()
                .ok_or_else(|| storylens::Error::Internal("classifier not loaded".into()))?;
            model_args
                .rewriter_with(classifier, profile)
                .map(|r| Arc::new(r) as Arc<dyn RewriteEngine>)
        }) as RewriterLoader
    });
    runtime.block_on(storylens::http::server::serve(
        args,
        analyzer,
        model_args.text_policy(),
        move || {
            let c = Arc::new(Classifier::load(&opts)?);
            let _ = loaded.set(Arc::clone(&c));
            Ok(c as Arc<dyn Model>)
        },
        rewriter,
    ))?;
    eprintln!("storylens: stopped");
    Ok(ExitCode::SUCCESS)
}
