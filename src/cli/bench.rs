//! `storylens bench`: what a user's own items cost, like TEI's benchmark tool. For each batch
//! size, batches of the file's items (cycled) are tokenized, encoded and classified for the
//! given time; items/s and per-batch latency percentiles come out as a table or JSON.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde::Serialize;

use storylens::config::{BenchArgs, ModelArgs, Precision};
use storylens::model::{Classifier, Encoded, Model};

/// One batch size's figures.
#[derive(Debug, Serialize)]
struct Row {
    batch: usize,
    items_per_s: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    batches: usize,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

pub fn run(model_args: &ModelArgs, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.batch.iter().all(|&b| b > 0),
        "--batch sizes must be at least 1"
    );
    anyhow::ensure!(args.seconds > 0.0, "--seconds must be positive");
    let text = std::fs::read_to_string(&args.input)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.input.display()))?;
    let policy = model_args.text_policy();
    let items: Vec<String> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            if l.trim_start().starts_with('{') {
                let v: serde_json::Value = serde_json::from_str(l)
                    .map_err(|e| anyhow::anyhow!("{}:{}: {e}", args.input.display(), n + 1))?;
                let input = storylens::input::parse_item(&v, &format!("line {}", n + 1))
                    .map_err(anyhow::Error::msg)?;
                Ok(policy.text(&input.item))
            } else {
                Ok(l.trim().to_string())
            }
        })
        .collect::<anyhow::Result<_>>()?;
    anyhow::ensure!(!items.is_empty(), "{} has no items", args.input.display());
    let precisions = if args.precisions.is_empty() {
        vec![model_args.precision]
    } else {
        args.precisions.clone()
    };
    let mut models = Vec::new();
    for &p in &precisions {
        let args = ModelArgs {
            precision: p,
            ..model_args.clone()
        };
        let model = super::load_classifier(&args)?;
        models.push((model.precision(), model));
    }
    let tokens: usize = items
        .iter()
        .map(|t| models[0].1.tokenize(t).map(|e| e.len()).unwrap_or(0))
        .sum();
    let mean_tokens = tokens as f64 / items.len() as f64;
    let mut rows: Vec<Vec<Row>> = models.iter().map(|_| Vec::new()).collect();
    // Precisions alternate within each batch size, so a busy machine skews all of them alike.
    for &batch in &args.batch {
        for ((_, model), rows) in models.iter().zip(&mut rows) {
            rows.push(measure(model, &items, batch, args.seconds)?);
        }
    }
    for ((precision, _), rows) in models.iter().zip(&rows) {
        let name = precision_name(*precision);
        if args.json {
            let v = serde_json::json!({
                "precision": name,
                "items": items.len(),
                "mean_tokens": mean_tokens,
                "threads": model_args.threads,
                "results": rows,
            });
            println!("{v}");
        } else {
            println!(
                "{} items, {mean_tokens:.1} tokens each on average, precision {name}",
                items.len()
            );
            println!(
                "{:>6} {:>12} {:>9} {:>9} {:>9}",
                "batch", "items/s", "p50 ms", "p95 ms", "p99 ms"
            );
            for r in rows {
                println!(
                    "{:>6} {:>12.0} {:>9.2} {:>9.2} {:>9.2}",
                    r.batch, r.items_per_s, r.p50_ms, r.p95_ms, r.p99_ms
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn precision_name(p: Precision) -> &'static str {
    match p {
        Precision::Int8 => "int8",
        Precision::F32 => "f32",
        Precision::Auto => "auto",
    }
}

/// Batches of `batch` items (cycling through `items`) for `seconds`, after one warm-up batch.
fn measure(
    model: &Classifier,
    items: &[String],
    batch: usize,
    seconds: f64,
) -> anyhow::Result<Row> {
    let mut next = 0usize;
    let mut take = || -> Vec<&str> {
        (0..batch)
            .map(|_| {
                let t = items[next % items.len()].as_str();
                next += 1;
                t
            })
            .collect()
    };
    let run_batch = |texts: &[&str]| -> anyhow::Result<()> {
        let encoded: Vec<Encoded> = texts
            .iter()
            .map(|t| model.tokenize(t))
            .collect::<storylens::Result<_>>()?;
        let refs: Vec<&Encoded> = encoded.iter().collect();
        model.predict(&refs)?;
        Ok(())
    };
    run_batch(&take())?; // warm-up
    let mut lat = Vec::new();
    let started = Instant::now();
    let budget = Duration::from_secs_f64(seconds);
    while started.elapsed() < budget || lat.len() < 3 {
        let texts = take();
        let t = Instant::now();
        run_batch(&texts)?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));
    Ok(Row {
        batch,
        items_per_s: (lat.len() * batch) as f64 / elapsed,
        p50_ms: percentile(&lat, 0.5),
        p95_ms: percentile(&lat, 0.95),
        p99_ms: percentile(&lat, 0.99),
        batches: lat.len(),
    })
}
