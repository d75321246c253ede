//! `storylens feedback export`: a team's verdicts as training rows for `storylens train`.

use std::io::Write;
use std::process::ExitCode;

use storylens::config::{FeedbackArgs, FeedbackCommand, FeedbackExportArgs};
use storylens::store::{Store, Verdict};

pub fn run(args: &FeedbackArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        FeedbackCommand::Export(a) => export(a),
    }
}

/// The label a verdict teaches: a correction wins; an accepted or edited suggestion keeps its
/// label; a rejected label suggestion is the other label.
fn taught_label(
    verdict: Verdict,
    suggested: Option<&str>,
    corrected: Option<&str>,
) -> Option<&'static str> {
    let norm = |l: &str| match l.trim().to_ascii_lowercase().as_str() {
        "story" => Some("story"),
        "task" => Some("task"),
        _ => None,
    };
    if let Some(c) = corrected.and_then(norm) {
        return Some(c);
    }
    let s = suggested.and_then(norm)?;
    Some(match verdict {
        Verdict::Accept | Verdict::Edit => s,
        Verdict::Reject if s == "story" => "task",
        Verdict::Reject => "story",
    })
}

fn export(args: &FeedbackExportArgs) -> anyhow::Result<ExitCode> {
    let url = args
        .database_url
        .clone()
        .or_else(|| {
            args.db
                .as_ref()
                .map(|p| format!("sqlite://{}", p.display()))
        })
        .ok_or_else(|| anyhow::anyhow!("give --db PATH or --database-url URL"))?;
    if let Some(p) = &args.db {
        anyhow::ensure!(p.is_file(), "{}: no such store", p.display());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let records = runtime.block_on(async {
        let store = Store::open(&url).await?;
        store.feedback(args.project.as_deref()).await
    })?;
    let file = std::fs::File::create(&args.out)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.out.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let (mut written, mut skipped) = (0usize, 0usize);
    for (f, _) in &records {
        let Some(label) = taught_label(
            f.verdict,
            f.suggested_label.as_deref(),
            f.corrected_label.as_deref(),
        ) else {
            skipped += 1;
            continue;
        };
        let text = f.item_text.trim();
        let form = if text.to_ascii_lowercase().starts_with("as a") {
            "template"
        } else {
            "free"
        };
        let row = serde_json::json!({
            "text": text,
            "label": label,
            "form": form,
            "kind": "feedback",
            "project": f.project,
            "verdict": f.verdict,
        });
        writeln!(out, "{row}")?;
        written += 1;
    }
    out.flush()?;
    eprintln!(
        "storylens feedback: {written} training rows written to {}, {skipped} records teach no label",
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_teach_labels() {
        assert_eq!(
            taught_label(Verdict::Accept, Some("task"), None),
            Some("task")
        );
        assert_eq!(
            taught_label(Verdict::Reject, Some("task"), None),
            Some("story")
        );
        assert_eq!(
            taught_label(Verdict::Reject, Some("story"), Some("story")),
            Some("story")
        );
        assert_eq!(taught_label(Verdict::Edit, None, None), None);
    }
}
