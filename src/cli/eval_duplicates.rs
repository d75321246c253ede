//! `storylens eval-duplicates`: how well the encoder's embeddings separate pairs of items that
//! say the same thing from pairs that do not, and which threshold to group at.

use std::process::ExitCode;

use serde::Deserialize;

use storylens::analysis::parts;
use storylens::backlog::duplicates::{calibrate, compared_text, pair_similarity, Compared};
use storylens::config::{defaults, EvalDuplicatesArgs, ModelArgs};
use storylens::model::Model;

#[derive(Debug, Deserialize, serde::Serialize)]
struct Pair {
    a: String,
    b: String,
    duplicate: bool,
    #[serde(default)]
    similarity: f32,
}

pub fn run(model_args: &ModelArgs, args: &EvalDuplicatesArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.data)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.data.display()))?;
    let mut pairs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let p: Pair = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", args.data.display(), i + 1))?;
        pairs.push(p);
    }
    anyhow::ensure!(!pairs.is_empty(), "{}: no pairs", args.data.display());
    let model = super::load_classifier(model_args)?;
    // Compared as the finder compares backlog items: a story on its goal, more strictly.
    let compared = |t: &str| compared_text(t, Some(&parts::parse(t)), t.to_string());
    let items: Vec<Compared> = pairs
        .iter()
        .flat_map(|p| [compared(&p.a), compared(&p.b)])
        .collect();
    let refs: Vec<&str> = items.iter().map(|c| c.text.as_str()).collect();
    let vectors = model.embed_texts(&refs)?;
    let threshold = defaults::DUPLICATE_THRESHOLD;
    // The curve is over one threshold; a story pair's own margin is folded into its score.
    let sims: Vec<(f32, bool)> = pairs
        .iter()
        .zip(items.chunks(2).zip(vectors.chunks(2)))
        .map(|(p, (c, v))| {
            let (s, t) = pair_similarity(&c[0], &v[0], &c[1], &v[1], threshold);
            (s - (t - threshold), p.duplicate)
        })
        .collect();
    if let Some(path) = &args.out {
        let mut w = std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        );
        for (mut p, (s, _)) in pairs.into_iter().zip(&sims) {
            p.similarity = *s;
            std::io::Write::write_all(&mut w, (serde_json::to_string(&p)? + "\n").as_bytes())?;
        }
    }
    let c = calibrate(&sims);
    if args.json {
        println!("{}", serde_json::to_string(&c)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} pairs ({} duplicates), AUC {:.3}",
        c.pairs, c.duplicates, c.auc
    );
    println!("threshold  precision  recall  F1");
    for p in c
        .curve
        .iter()
        .filter(|p| (p.threshold * 100.0).round() as i32 % 2 == 0)
    {
        println!(
            "{:>9.2}  {:>9.3}  {:>6.3}  {:.3}",
            p.threshold, p.precision, p.recall, p.f1
        );
    }
    match c.precise {
        Some(p) => println!(
            "lowest threshold with precision ≥ 0.95: {:.2} (recall {:.3})",
            p.threshold, p.recall
        ),
        None => println!("no threshold reaches precision 0.95"),
    }
    println!(
        "best F1 {:.3} at {:.2}; the default is {:.2}",
        c.best_f1.f1,
        c.best_f1.threshold,
        defaults::DUPLICATE_THRESHOLD
    );
    Ok(ExitCode::SUCCESS)
}
