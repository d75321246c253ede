//! `storylens eval-rewrite`: refines rows with a gold disposition and reports disposition
//! accuracy and macro-F1, how often maintenance stays a task, how many items got a story, the
//! grounding of those stories, acceptance criteria, and latency.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use storylens::analysis::rewrite::{Category, Disposition, RewriteEngine};
use storylens::analysis::Item;
use storylens::config::{EvalRewriteArgs, ModelArgs};
use storylens::train::metrics::accuracy_and_macro_f1;

/// A gold row.
#[derive(Debug, Deserialize)]
struct GoldRow {
    text: String,
    disposition: Disposition,
    #[serde(default)]
    category: Option<Category>,
}

/// The summary `--json` prints.
#[derive(Debug, Serialize)]
struct Summary {
    rows: usize,
    errors: usize,
    disposition_accuracy: f64,
    disposition_macro_f1: f64,
    /// `confusion[gold][predicted]`, in the order of `dispositions`.
    confusion: Vec<Vec<usize>>,
    dispositions: Vec<&'static str>,
    /// Gold keep-task or unwrap rows answered keep-task or unwrap.
    maintenance_kept_as_task: f64,
    category_accuracy: f64,
    /// Share of rows answered with a story (already-story rows excluded).
    story_share: f64,
    stories: usize,
    /// Share of suggested stories with any unsupported term, all and verified.
    unsupported_rate: f64,
    unsupported_rate_verified: f64,
    /// Share of suggested stories with 1–3 criteria a user can observe.
    criteria_ok: f64,
    latency_p50_s: f64,
    latency_p95_s: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

pub fn run(model_args: &ModelArgs, args: &EvalRewriteArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.data)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.data.display()))?;
    let mut rows = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let row: GoldRow = serde_json::from_str(line).map_err(|e| {
            anyhow::anyhow!(
                "{}:{}: {e} (needs `text` and `disposition`)",
                args.data.display(),
                i + 1
            )
        })?;
        rows.push(row);
    }
    anyhow::ensure!(!rows.is_empty(), "{} has no rows", args.data.display());
    if args.limit > 0 {
        rows.truncate(args.limit);
    }
    let rewriter = super::rewrite::load_rewriter(model_args, &args.tuning)?;
    let analyzer = model_args.analyzer()?;
    let mut out = match &args.out {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => None,
    };
    let n = Disposition::ALL.len();
    let mut conf = vec![vec![0usize; n]; n];
    let (mut errors, mut maint, mut maint_ok, mut cat_n, mut cat_ok) = (0, 0, 0, 0, 0);
    let (mut non_story_rows, mut stories, mut unsupported, mut verified, mut unsupported_verified) =
        (0, 0, 0, 0, 0);
    let mut criteria_ok = 0;
    let mut latencies = Vec::new();
    let started = Instant::now();
    for (i, row) in rows.iter().enumerate() {
        let t = Instant::now();
        let r = match rewriter.rewrite(&Item::from_text(row.text.clone()), None) {
            Ok(r) => r,
            Err(e) => {
                errors += 1;
                eprintln!("row {}: {e}", i + 1);
                continue;
            }
        };
        latencies.push(t.elapsed().as_secs_f64());
        conf[row.disposition.index()][r.disposition.index()] += 1;
        let is_maint = |d: Disposition| matches!(d, Disposition::KeepTask | Disposition::Unwrap);
        if is_maint(row.disposition) {
            maint += 1;
            maint_ok += usize::from(is_maint(r.disposition));
        }
        if let (Some(g), Some(p)) = (row.category, r.category) {
            cat_n += 1;
            cat_ok += usize::from(g == p);
        }
        if r.disposition != Disposition::AlreadyStory {
            non_story_rows += 1;
            if r.story.is_some() {
                stories += 1;
                unsupported += usize::from(!r.grounding.is_grounded());
                if r.verified {
                    verified += 1;
                    unsupported_verified += usize::from(!r.grounding.is_grounded());
                }
                let ac = &r.acceptance_criteria;
                criteria_ok += usize::from(
                    (1..=3).contains(&ac.len())
                        && ac.iter().all(|c| analyzer.criterion_is_observable(c)),
                );
            }
        }
        if let Some(o) = out.as_mut() {
            let mut v = serde_json::to_value(&r)?;
            v["gold_disposition"] = serde_json::to_value(row.disposition)?;
            writeln!(o, "{v}")?;
        }
        if !args.json && (i + 1) % 25 == 0 {
            eprintln!(
                "eval-rewrite: {}/{} rows, {:.1} s",
                i + 1,
                rows.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    latencies.sort_by(f64::total_cmp);
    let (acc, f1) = accuracy_and_macro_f1(&conf);
    let s = Summary {
        rows: rows.len(),
        errors,
        disposition_accuracy: acc,
        disposition_macro_f1: f1,
        confusion: conf,
        dispositions: Disposition::ALL.iter().map(|d| d.as_str()).collect(),
        maintenance_kept_as_task: ratio(maint_ok, maint),
        category_accuracy: ratio(cat_ok, cat_n),
        story_share: ratio(stories, non_story_rows),
        stories,
        unsupported_rate: ratio(unsupported, stories),
        unsupported_rate_verified: ratio(unsupported_verified, verified),
        criteria_ok: ratio(criteria_ok, stories),
        latency_p50_s: percentile(&latencies, 0.5),
        latency_p95_s: percentile(&latencies, 0.95),
    };
    if args.json {
        println!("{}", serde_json::to_string(&s)?);
    } else {
        println!("rows {} (errors {})", s.rows, s.errors);
        println!(
            "disposition accuracy {:.3}, macro-F1 {:.3}; maintenance kept as task {:.1}%; category accuracy {:.3}",
            s.disposition_accuracy,
            s.disposition_macro_f1,
            100.0 * s.maintenance_kept_as_task,
            s.category_accuracy
        );
        println!(
            "confusion (rows gold, columns predicted; {}):",
            s.dispositions.join(", ")
        );
        for (d, row) in s.dispositions.iter().zip(&s.confusion) {
            println!("  {d:>14} {row:?}");
        }
        println!(
            "stories {} ({:.1}% of technical rows); unsupported terms {:.1}% (verified {:.1}%); criteria ok {:.1}%",
            s.stories,
            100.0 * s.story_share,
            100.0 * s.unsupported_rate,
            100.0 * s.unsupported_rate_verified,
            100.0 * s.criteria_ok
        );
        println!(
            "latency p50 {:.1} ms, p95 {:.1} ms",
            1000.0 * s.latency_p50_s,
            1000.0 * s.latency_p95_s
        );
    }
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
