//! `storylens rewrite`: refines items given as arguments, as lines on stdin or as a JSONL file:
//! one JSON line (or a readable block) per item, in input order.

use std::io::Write;
use std::process::ExitCode;

use storylens::analysis::rewrite::{Rewrite, RewriteEngine, Rewriter};
use storylens::config::{ModelArgs, OutputFormat, RewriteArgs, RewriteTuning};

/// Loads the refiner for one-item-at-a-time commands.
pub fn load_rewriter(model_args: &ModelArgs, tuning: &RewriteTuning) -> anyhow::Result<Rewriter> {
    let started = std::time::Instant::now();
    // One item at a time: candle's own kernel threads are the only parallelism, so they are
    // left on unless the user chose a split.
    let mut model_args = model_args.clone();
    if model_args.threads == 0 {
        model_args.threads = 1;
    }
    let profile = tuning.profile()?;
    let rewriter = model_args.rewriter(profile).map_err(|e| {
        anyhow::anyhow!("{e}").context("loading the refiner (classifier and refinement heads)")
    })?;
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "refiner loaded"
    );
    Ok(rewriter)
}

pub fn run(model_args: &ModelArgs, args: &RewriteArgs) -> anyhow::Result<ExitCode> {
    let rewriter = load_rewriter(model_args, &args.tuning)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = 0usize;
    let unreadable = super::items::for_each(&args.texts, args.input.as_deref(), |input| {
        match rewriter.rewrite(&input.item, None) {
            Ok(r) => print(&mut out, args.format, &r)?,
            Err(e) => {
                failed += 1;
                eprintln!("error: {}: {e}", input.origin);
            }
        }
        out.flush()?;
        Ok(())
    })?;
    Ok(if failed + unreadable > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print(
    out: &mut dyn Write,
    format: storylens::config::OutputFormat,
    r: &Rewrite,
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string(r)?)?,
        OutputFormat::Text => {
            writeln!(out, "{}", r.original)?;
            writeln!(out, "  {}: {}", r.disposition.as_str(), r.why)?;
            if let Some(t) = &r.task {
                let cat = r.category.map_or("", |c| c.as_str());
                writeln!(out, "  task:  {t} [{cat}]")?;
            }
            if let Some(s) = r.story.as_ref().filter(|_| r.task.is_some()) {
                writeln!(out, "  story: {s}")?;
            }
            for c in &r.acceptance_criteria {
                writeln!(out, "  - {c}")?;
            }
            for f in &r.checks.failed {
                writeln!(out, "    failed: {f}")?;
            }
            if let Some(n) = &r.note {
                writeln!(out, "  note: {n}")?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}
