//! `storylens eval-rewrite`: rewrites the rows labelled `task` of a labelled file and reports
//! well-formedness, verification, classification, similarity, implementation-term leaks and
//! latency, with prompt and generation speeds.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use serde::Serialize;

use storylens::analysis::rewrite::{bank, Rewrite, RewriteEngine, Source};
use storylens::analysis::{Item, Terms};
use storylens::config::{EvalRewriteArgs, ModelArgs};
use storylens::model::Label;
use storylens::train::dataset;

/// The summary `--json` prints.
#[derive(Debug, Serialize)]
struct Summary {
    rows: usize,
    errors: usize,
    well_formed: f64,
    verified: f64,
    classified_story: f64,
    mean_similarity: f64,
    implementation_leak: f64,
    from_model: usize,
    from_template: usize,
    unchanged_input: usize,
    latency_p50_s: f64,
    latency_p95_s: f64,
    prompt_tokens_per_s: f64,
    generated_tokens_per_s: f64,
    mean_candidates: f64,
}

fn well_formed(r: &Rewrite) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"^As an? [^,]+, I want to [^,]+, so that [^,]+\.$").expect("regex")
    });
    !r.role.is_empty() && !r.goal.is_empty() && !r.benefit.is_empty() && re.is_match(&r.story)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn run(model_args: &ModelArgs, args: &EvalRewriteArgs) -> anyhow::Result<ExitCode> {
    let rows = dataset::read_jsonl(&args.data)?;
    let mut tasks: Vec<_> = rows.iter().filter(|r| r.label == Label::Task).collect();
    anyhow::ensure!(
        !tasks.is_empty(),
        "{} has no rows labelled task",
        args.data.display()
    );
    if args.limit > 0 {
        tasks.truncate(args.limit);
    }
    let rewriter = super::rewrite::load_rewriter(model_args, args.tuning.options())?;
    if args.calibrate {
        calibrate(&rewriter)?;
    }
    let terms = Terms::load(model_args.implementation_terms.as_deref())?;
    let mut out = match &args.out {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => None,
    };
    let mut results = Vec::new();
    let mut latencies = Vec::new();
    let mut errors = 0;
    let started = Instant::now();
    for (i, row) in tasks.iter().enumerate() {
        let t = Instant::now();
        match rewriter.rewrite(&Item::from_text(row.text.clone())) {
            Ok(r) => {
                latencies.push(t.elapsed().as_secs_f64());
                if let Some(o) = out.as_mut() {
                    writeln!(o, "{}", serde_json::to_string(&r)?)?;
                }
                results.push(r);
            }
            Err(e) => {
                errors += 1;
                eprintln!("row {}: {e}", i + 1);
            }
        }
        if !args.json && (i + 1) % 10 == 0 {
            eprintln!(
                "eval-rewrite: {}/{} rows, {:.1} s",
                i + 1,
                tasks.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    latencies.sort_by(f64::total_cmp);
    let n = results.len().max(1) as f64;
    let share = |f: &dyn Fn(&Rewrite) -> bool| results.iter().filter(|r| f(r)).count() as f64 / n;
    let (mut pt, mut ps, mut gt, mut gs) = (0usize, 0f64, 0usize, 0f64);
    for r in &results {
        pt += r.stats.prompt_tokens;
        ps += r.stats.prompt_secs;
        gt += r.stats.generated_tokens;
        gs += r.stats.generate_secs;
    }
    let s = Summary {
        rows: tasks.len(),
        errors,
        well_formed: share(&|r| r.source == Source::Input || well_formed(r)),
        verified: share(&|r| r.verified),
        classified_story: share(&|r| r.checks.story_probability >= 0.5),
        mean_similarity: results
            .iter()
            .map(|r| r.checks.similarity as f64)
            .sum::<f64>()
            / n,
        implementation_leak: share(&|r| terms.find(&r.story).is_some()),
        from_model: results.iter().filter(|r| r.source == Source::Model).count(),
        from_template: results
            .iter()
            .filter(|r| r.source == Source::Template)
            .count(),
        unchanged_input: results.iter().filter(|r| r.source == Source::Input).count(),
        latency_p50_s: percentile(&latencies, 0.5),
        latency_p95_s: percentile(&latencies, 0.95),
        prompt_tokens_per_s: pt as f64 / ps.max(1e-9),
        generated_tokens_per_s: gt as f64 / gs.max(1e-9),
        mean_candidates: results.iter().map(|r| r.candidates as f64).sum::<f64>() / n,
    };
    if args.json {
        println!("{}", serde_json::to_string(&s)?);
    } else {
        println!("rewrites of {} task rows ({} errors)", s.rows, s.errors);
        println!("  well-formed          {:6.1}%", s.well_formed * 100.0);
        println!("  verified             {:6.1}%", s.verified * 100.0);
        println!("  classified as story  {:6.1}%", s.classified_story * 100.0);
        println!("  mean similarity      {:6.3}", s.mean_similarity);
        println!(
            "  implementation leak  {:6.1}%",
            s.implementation_leak * 100.0
        );
        println!(
            "  sources              model {}, template {}, unchanged input {}",
            s.from_model, s.from_template, s.unchanged_input
        );
        println!(
            "  latency              p50 {:.2} s, p95 {:.2} s, {:.2} candidates per item",
            s.latency_p50_s, s.latency_p95_s, s.mean_candidates
        );
        println!(
            "  speed                prompt {:.0} tokens/s, generation {:.1} tokens/s",
            s.prompt_tokens_per_s, s.generated_tokens_per_s
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Similarity of each rewrite pair's task to its own story and to another pair's story.
fn calibrate(rewriter: &storylens::analysis::rewrite::Rewriter) -> anyhow::Result<()> {
    let pairs = bank::parse_pairs(bank::PAIRS)?;
    let tasks: Vec<&str> = pairs.iter().map(|p| p.task.as_str()).collect();
    let stories: Vec<String> = pairs
        .iter()
        .map(|p| storylens::model::generator::render(&p.role, &p.goal, &p.benefit))
        .collect();
    let story_refs: Vec<&str> = stories.iter().map(String::as_str).collect();
    let te = rewriter.classifier().sentence_embeddings(&tasks)?;
    let se = rewriter.classifier().sentence_embeddings(&story_refs)?;
    let mut own: Vec<f64> = te
        .iter()
        .zip(&se)
        .map(|(a, b)| bank::dot(a, b) as f64)
        .collect();
    let mut other: Vec<f64> = (0..te.len())
        .map(|i| bank::dot(&te[i], &se[(i * 7 + 13) % se.len()]) as f64)
        .collect();
    own.sort_by(f64::total_cmp);
    other.sort_by(f64::total_cmp);
    for (name, v) in [("own story", &own), ("other story", &other)] {
        println!(
            "calibration: task vs {name}: p5 {:.3} p10 {:.3} p50 {:.3} p90 {:.3}",
            percentile(v, 0.05),
            percentile(v, 0.10),
            percentile(v, 0.5),
            percentile(v, 0.9)
        );
    }
    Ok(())
}
