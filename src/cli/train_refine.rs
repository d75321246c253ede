//! `storylens train-refine`: trains the disposition and category heads on the classifier's
//! embeddings of the refinement examples and writes them beside the classifier.

use std::process::ExitCode;

use storylens::config::{ModelArgs, TrainRefineArgs};
use storylens::train::refine::{train_refine, RefineTrainOptions};

pub fn run(model_args: &ModelArgs, args: &TrainRefineArgs) -> anyhow::Result<ExitCode> {
    let classifier = super::load_classifier(model_args)?;
    let opts = RefineTrainOptions {
        data: args.data.clone(),
        classifier_dir: model_args.classifier_dir(),
        out_dir: args
            .out
            .clone()
            .unwrap_or_else(|| model_args.classifier_dir()),
        epochs: args.epochs,
        learning_rate: args.lr,
        weight_decay: args.weight_decay,
        seed: args.seed,
    };
    let started = std::time::Instant::now();
    let heads = train_refine(&classifier, &opts, &|m| eprintln!("train-refine: {m}"))?;
    eprintln!(
        "train-refine: wrote {} in {:.1} s",
        opts.out_dir.display(),
        started.elapsed().as_secs_f64()
    );
    println!("{}", serde_json::to_string_pretty(&heads.manifest.metrics)?);
    Ok(ExitCode::SUCCESS)
}
