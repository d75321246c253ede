//! `storylens eval`: metrics of the classifier on a labelled file.

use std::process::ExitCode;

use storylens::config::{EvalArgs, ModelArgs};
use storylens::model::Model;
use storylens::train::{dataset, Metrics};

pub fn run(model_args: &ModelArgs, args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let rows = dataset::read_jsonl(&args.data)?;
    anyhow::ensure!(!rows.is_empty(), "{} has no rows", args.data.display());
    let model = super::load_classifier(model_args)?;
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let started = std::time::Instant::now();
    let scores = model.classify(&texts)?;
    let elapsed = started.elapsed();
    let gold: Vec<_> = rows.iter().map(|r| r.label).collect();
    let pred: Vec<_> = scores.iter().map(|(s, _)| s.label()).collect();
    let forms: Vec<_> = rows.iter().map(|r| r.form.clone()).collect();
    let metrics = Metrics::compute(&gold, &pred, &forms);
    if args.json {
        println!("{}", serde_json::to_string(&metrics)?);
    } else {
        print!("{}", metrics.report());
        println!(
            "\n{} items in {:.2}s ({:.0} items/s)",
            rows.len(),
            elapsed.as_secs_f64(),
            rows.len() as f64 / elapsed.as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}
