//! `storylens rewrite`: drafts user stories for technical items given as arguments or as lines
//! on stdin, one JSON line (or a readable block) per item, in input order.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use storylens::analysis::rewrite::{Rewrite, RewriteEngine, RewriteOptions, Rewriter};
use storylens::analysis::Item;
use storylens::config::{ModelArgs, OutputFormat, RewriteArgs};

/// Loads the rewriter for one-item-at-a-time commands.
pub fn load_rewriter(model_args: &ModelArgs, opts: RewriteOptions) -> anyhow::Result<Rewriter> {
    let started = std::time::Instant::now();
    // One item at a time: candle's own kernel threads are the only parallelism, so they are
    // left on unless the user chose a split.
    let mut model_args = model_args.clone();
    if model_args.threads == 0 {
        model_args.threads = 1;
    }
    let rewriter = model_args.rewriter(opts).map_err(|e| {
        anyhow::anyhow!("{e}").context("loading the rewriter (classifier, generator, examples)")
    })?;
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "rewriter loaded"
    );
    Ok(rewriter)
}

pub fn run(model_args: &ModelArgs, args: &RewriteArgs) -> anyhow::Result<ExitCode> {
    let rewriter = load_rewriter(model_args, args.tuning.options())?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut failed, mut unreadable) = (0usize, 0usize);
    let mut one = |origin: &str, text: &str, out: &mut dyn Write| -> anyhow::Result<()> {
        let mut item = Item::from_text(text.trim());
        item.id = None;
        match rewriter.rewrite(&item) {
            Ok(r) => print(out, args.format, &r)?,
            Err(e) => {
                failed += 1;
                eprintln!("{origin}: {e}");
            }
        }
        out.flush()?;
        Ok(())
    };
    if args.texts.is_empty() {
        for (i, line) in std::io::stdin().lock().lines().enumerate() {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("line {}: not readable as UTF-8 text: {e}", i + 1);
                    unreadable += 1;
                    continue;
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            one(&format!("line {}", i + 1), &line, &mut out)?;
        }
    } else {
        for (i, t) in args.texts.iter().enumerate() {
            one(&format!("item {}", i + 1), t, &mut out)?;
        }
    }
    Ok(if failed + unreadable > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print(out: &mut dyn Write, format: OutputFormat, r: &Rewrite) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string(r)?)?,
        OutputFormat::Text => {
            writeln!(out, "{}", r.original)?;
            writeln!(out, "  story:  {}", r.story)?;
            if !r.supporting_task.is_empty() {
                writeln!(out, "  task:   {}", r.supporting_task)?;
            }
            for c in &r.acceptance_criteria {
                writeln!(out, "  - {c}")?;
            }
            let source = serde_json::to_value(r.source)?;
            writeln!(
                out,
                "  {} (story {:.2}, similarity {:.2}; {}, {} candidate(s), {:.2} s)",
                if r.verified {
                    "verified"
                } else {
                    "NOT verified"
                },
                r.checks.story_probability,
                r.checks.similarity,
                source.as_str().unwrap_or("?"),
                r.candidates,
                r.stats.prompt_secs + r.stats.generate_secs,
            )?;
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
