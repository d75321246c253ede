//! `storylens eval`: metrics of the classifier on a labelled file.

use std::process::ExitCode;

use storylens::analysis::{Analysis, Analyzer, Code, Item};
use storylens::config::{EvalArgs, ModelArgs};
use storylens::model::{Label, Model};
use storylens::service::Scorer;
use storylens::train::{dataset, Metrics};

pub fn run(model_args: &ModelArgs, args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let rows = dataset::read_jsonl(&args.data)?;
    anyhow::ensure!(!rows.is_empty(), "{} has no rows", args.data.display());
    let analyzer = model_args.analyzer()?;
    // The same core every other door uses, so the figures are the ones users get.
    let scorer = Scorer::standalone(
        std::sync::Arc::new(super::load_classifier(model_args)?),
        analyzer.clone(),
        model_args.text_policy(),
        storylens::config::defaults::SCORE_BATCH_SIZE,
    );
    let started = std::time::Instant::now();
    let items: Vec<Item> = rows
        .iter()
        .map(|r| Item::from_text(r.text.clone()))
        .collect();
    let scores = scorer
        .score_blocking(&items)?
        .results
        .into_iter()
        .zip(&rows)
        .map(|(r, row)| {
            r.map(|s| (s.scores, s.truncated))
                .map_err(|e| anyhow::anyhow!("{}: {e}", row.text))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let elapsed = started.elapsed();
    let (metrics, findings) = evaluate_scored(&analyzer, &rows, &scores);
    let detail = details(&analyzer, &rows, &scores);
    if args.json {
        let mut v = serde_json::to_value(&metrics)?;
        v["findings"] = serde_json::to_value(&findings)?;
        v["ece"] = serde_json::to_value(detail.ece)?;
        v["reliability"] = serde_json::to_value(&detail.reliability)?;
        v["model_alone"] = serde_json::to_value(&detail.model_alone)?;
        v["high_confidence_accuracy"] = serde_json::to_value(detail.high_confidence_accuracy)?;
        if args.errors {
            v["errors"] = serde_json::to_value(&detail.errors)?;
        }
        println!("{v}");
    } else {
        print!("{}", metrics.report());
        println!(
            "\nmodel alone (no definition rule): macro-F1 {:.3}, accuracy {:.3}",
            detail.model_alone.macro_f1, detail.model_alone.accuracy
        );
        println!(
            "calibration: ECE {:.3}; confidence > 0.9 right {:.1}% of the time",
            detail.ece,
            100.0 * detail.high_confidence_accuracy
        );
        println!("  confidence      n  mean conf  accuracy");
        for b in &detail.reliability {
            println!(
                "  {:.2}-{:.2}  {:>5}  {:>9.3}  {:>8.3}",
                b.low, b.high, b.count, b.confidence, b.accuracy
            );
        }
        if args.errors {
            println!("\nmisclassified ({}):", detail.errors.len());
            for e in &detail.errors {
                println!(
                    "  gold {} got {} ({:.2}) [{}] {}{}",
                    e.gold,
                    e.predicted,
                    e.confidence,
                    e.form.as_deref().unwrap_or("-"),
                    e.text.replace('\n', " / "),
                    if e.findings.is_empty() {
                        String::new()
                    } else {
                        format!("  findings: {}", e.findings.join(", "))
                    }
                );
            }
        }
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

/// A misclassified row, for `--errors`.
#[derive(serde::Serialize)]
struct ErrorRow {
    text: String,
    gold: Label,
    predicted: Label,
    confidence: f32,
    form: Option<String>,
    findings: Vec<&'static str>,
}

/// Calibration, the model without the definition rule, and the errors.
struct Details {
    ece: f64,
    reliability: Vec<storylens::train::metrics::ReliabilityBin>,
    high_confidence_accuracy: f64,
    model_alone: Metrics,
    errors: Vec<ErrorRow>,
}

fn details(
    analyzer: &Analyzer,
    rows: &[dataset::Example],
    scores: &[(storylens::model::Scores, bool)],
) -> Details {
    let (mut conf, mut correct, mut errors, mut alone) = (vec![], vec![], vec![], vec![]);
    for (r, (s, _)) in rows.iter().zip(scores) {
        alone.push(s.label());
        let a = analyzer.analyze(&Item::from_text(r.text.clone()), *s);
        let label = a.scores.label();
        conf.push(a.scores.confidence());
        correct.push(label == r.label);
        if label != r.label {
            errors.push(ErrorRow {
                text: r.text.clone(),
                gold: r.label,
                predicted: label,
                confidence: a.scores.confidence(),
                form: r.form.clone(),
                findings: a.findings.iter().map(|f| f.code.as_str()).collect(),
            });
        }
    }
    let (ece, reliability) = storylens::train::metrics::calibration(&conf, &correct, 5);
    let high: Vec<bool> = conf
        .iter()
        .zip(&correct)
        .filter(|(c, _)| **c > 0.9)
        .map(|(_, k)| *k)
        .collect();
    let gold: Vec<Label> = rows.iter().map(|r| r.label).collect();
    let forms: Vec<_> = rows.iter().map(|r| r.form.clone()).collect();
    Details {
        ece,
        reliability,
        high_confidence_accuracy: if high.is_empty() {
            0.0
        } else {
            high.iter().filter(|k| **k).count() as f64 / high.len() as f64
        },
        model_alone: Metrics::compute(&gold, &alone, &forms),
        errors,
    }
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
    Ok(evaluate_scored(analyzer, rows, &scores))
}

/// [`evaluate`] on scores already computed.
fn evaluate_scored(
    analyzer: &Analyzer,
    rows: &[dataset::Example],
    scores: &[(storylens::model::Scores, bool)],
) -> (Metrics, FindingsQuality) {
    let analyses: Vec<_> = rows
        .iter()
        .zip(scores)
        .map(|(r, (s, _))| analyzer.analyze(&Item::from_text(r.text.clone()), *s))
        .collect();
    let gold: Vec<_> = rows.iter().map(|r| r.label).collect();
    let pred: Vec<_> = analyses.iter().map(|a| a.scores.label()).collect();
    let forms: Vec<_> = rows.iter().map(|r| r.form.clone()).collect();
    (
        Metrics::compute(&gold, &pred, &forms),
        findings_quality(rows, &analyses),
    )
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
