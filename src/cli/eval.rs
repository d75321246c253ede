//! `storylens eval`: metrics of the classifier on a labelled file.

use std::process::ExitCode;

use storylens::analysis::{Analysis, Analyzer, Code, Item};
use storylens::config::{EvalArgs, ModelArgs};
use storylens::model::{Label, Model};
use storylens::train::{dataset, Metrics};

pub fn run(model_args: &ModelArgs, args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let rows = dataset::read_jsonl(&args.data)?;
    anyhow::ensure!(!rows.is_empty(), "{} has no rows", args.data.display());
    let model = super::load_classifier(model_args)?;
    let analyzer = model_args.analyzer()?;
    let started = std::time::Instant::now();
    let (metrics, findings) = evaluate(&model, &analyzer, &rows)?;
    let elapsed = started.elapsed();
    if args.json {
        let mut v = serde_json::to_value(&metrics)?;
        v["findings"] = serde_json::to_value(&findings)?;
        println!("{v}");
    } else {
        print!("{}", metrics.report());
        println!(
            "\nfindings: disguised-task precision {:.3} recall {:.3} over {} template rows ({} disguised); implementation-detail on {:.1}% of {} story rows",
            findings.disguised_precision,
            findings.disguised_recall,
            findings.template_rows,
            findings.disguised_rows,
            findings.implementation_detail_story_rate * 100.0,
            findings.story_rows
        );
        println!(
            "\n{} items in {:.2}s ({:.0} items/s)",
            rows.len(),
            elapsed.as_secs_f64(),
            rows.len() as f64 / elapsed.as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Metrics of the labels storylens reports (the model's scores after the analyser's definition
/// rules) and of the findings, on labelled rows.
pub fn evaluate(
    model: &dyn Model,
    analyzer: &Analyzer,
    rows: &[dataset::Example],
) -> anyhow::Result<(Metrics, FindingsQuality)> {
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let scores = model.classify(&texts)?;
    let analyses: Vec<_> = rows
        .iter()
        .zip(&scores)
        .map(|(r, (s, _))| analyzer.analyze(&Item::from_text(r.text.clone()), *s))
        .collect();
    let gold: Vec<_> = rows.iter().map(|r| r.label).collect();
    let pred: Vec<_> = analyses.iter().map(|a| a.scores.label()).collect();
    let forms: Vec<_> = rows.iter().map(|r| r.form.clone()).collect();
    Ok((
        Metrics::compute(&gold, &pred, &forms),
        findings_quality(rows, &analyses),
    ))
}

/// How well findings match the labels: `disguised-task` against rows marked `disguised`
/// (over rows in the story template), and how often `implementation-detail` fires on stories.
#[derive(serde::Serialize)]
pub struct FindingsQuality {
    template_rows: usize,
    disguised_rows: usize,
    disguised_precision: f64,
    disguised_recall: f64,
    story_rows: usize,
    implementation_detail_story_rate: f64,
}

fn findings_quality(rows: &[dataset::Example], analyses: &[Analysis]) -> FindingsQuality {
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    let (mut template_rows, mut disguised_rows, mut story_rows, mut impl_on_story) = (0, 0, 0, 0);
    for (row, analysis) in rows.iter().zip(analyses) {
        let has = |c: Code| analysis.findings.iter().any(|f| f.code == c);
        if row.label == Label::Story {
            story_rows += 1;
            impl_on_story += usize::from(has(Code::ImplementationDetail));
        }
        if row.form.as_deref() != Some("template") {
            continue;
        }
        template_rows += 1;
        let gold = row.disguised.unwrap_or(false);
        disguised_rows += usize::from(gold);
        match (has(Code::DisguisedTask), gold) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => {}
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    FindingsQuality {
        template_rows,
        disguised_rows,
        disguised_precision: ratio(tp, tp + fp),
        disguised_recall: ratio(tp, tp + fn_),
        story_rows,
        implementation_detail_story_rate: ratio(impl_on_story, story_rows),
    }
}
