//! `storylens train`: retrain the classifier reproducibly and rewrite its artifacts.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use storylens::config::{ModelArgs, TrainArgs};
use storylens::model::classifier::ClassifierOptions;
use storylens::model::head::Manifest;
use storylens::model::Classifier;
use storylens::train::dataset;
use storylens::train::trainer::{self, TrainOptions};

/// The training rows plus the feedback rows, in one file beside the output (the manifest's
/// data digest then covers both).
fn with_feedback(args: &TrainArgs, out_dir: &Path) -> anyhow::Result<PathBuf> {
    if args.with_feedback.is_empty() {
        return Ok(args.train.clone());
    }
    let mut text = std::fs::read_to_string(&args.train)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.train.display()))?;
    if !text.ends_with('\n') && !text.is_empty() {
        text.push('\n');
    }
    for f in &args.with_feedback {
        // Validated as training rows before anything is trained.
        let rows = dataset::read_jsonl(f)?;
        eprintln!("train: {} feedback rows from {}", rows.len(), f.display());
        text.push_str(&std::fs::read_to_string(f)?);
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    std::fs::create_dir_all(out_dir)?;
    let merged = out_dir.join("train-with-feedback.jsonl");
    std::fs::write(&merged, text)?;
    Ok(merged)
}

/// Prints the figures of the classifier in `dir` on each `--eval` file.
fn report(model_args: &ModelArgs, dir: &Path, eval: &[PathBuf], when: &str) -> anyhow::Result<()> {
    let model = Classifier::load(&ClassifierOptions {
        classifier_dir: dir.to_path_buf(),
        ..model_args.classifier_options()?
    })?;
    let analyzer = model_args.analyzer()?;
    for path in eval {
        let rows = dataset::read_jsonl(path)?;
        let (m, _) = super::eval::evaluate(&model, &analyzer, &rows)?;
        eprintln!(
            "train: {when}: {}: macro-F1 {:.4}, accuracy {:.4}",
            path.display(),
            m.macro_f1,
            m.accuracy
        );
    }
    Ok(())
}

pub fn run(model_args: &ModelArgs, args: &TrainArgs) -> anyhow::Result<ExitCode> {
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| model_args.classifier_dir());
    if !args.with_feedback.is_empty() && !args.eval.is_empty() {
        report(
            model_args,
            &model_args.classifier_dir(),
            &args.eval,
            "before",
        )?;
    }
    let train_file = with_feedback(args, &out_dir)?;
    let opts = TrainOptions {
        locations: model_args.locations(),
        train_file,
        valid_file: args.valid.clone(),
        out_dir: out_dir.clone(),
        tuned_layers: args.tuned_layers,
        epochs: args.epochs,
        learning_rate: args.lr,
        head_learning_rate: args.head_lr,
        batch_size: args.batch_size,
        seed: args.seed,
        max_tokens: model_args.max_tokens,
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let started = std::time::Instant::now();
    let outcome = trainer::train(&opts, &|msg| eprintln!("train: {msg}"))?;
    eprintln!("train: done in {:.0}s", started.elapsed().as_secs_f64());

    if !args.eval.is_empty() {
        let model = Classifier::load(&ClassifierOptions {
            classifier_dir: out_dir.clone(),
            ..model_args.classifier_options()?
        })?;
        let analyzer = model_args.analyzer()?;
        let mut manifest: Manifest = outcome.manifest;
        for path in &args.eval {
            let rows = dataset::read_jsonl(path)?;
            let (m, _) = super::eval::evaluate(&model, &analyzer, &rows)?;
            eprintln!("train: {}: macro-F1 {:.4}", path.display(), m.macro_f1);
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            manifest.metrics[name] = serde_json::to_value(&m)?;
        }
        manifest.write(&out_dir)?;
    }
    Ok(ExitCode::SUCCESS)
}
