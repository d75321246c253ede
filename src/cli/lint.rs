//! `storylens lint`: backlog files checked in CI. Every finding of every item becomes an
//! annotation with its file and line; the exit code says whether any reached `--fail-on`.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;

use storylens::analysis::{Item, Severity};
use storylens::backlog::read::{self, Format, ReadOptions};
use storylens::config::{defaults, FailOn, LintArgs, LintFormat, ModelArgs};
use storylens::service::Scorer;

/// One annotation.
#[derive(Debug, Serialize)]
struct Annotation {
    file: String,
    line: usize,
    /// `error`, `warning` or `info`; unreadable rows are errors.
    severity: &'static str,
    /// A finding code, or `unreadable-row`.
    code: String,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    suggestion: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'static str>,
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn fails(fail_on: FailOn, severity: &str) -> bool {
    match fail_on {
        FailOn::Never => false,
        FailOn::Error => severity == "error",
        FailOn::Warning => severity == "error" || severity == "warning",
    }
}

pub fn run(model_args: &ModelArgs, args: &LintArgs) -> anyhow::Result<ExitCode> {
    let stdin = PathBuf::from("-");
    let files: Vec<&Path> = if args.files.is_empty() {
        vec![stdin.as_path()]
    } else {
        args.files.iter().map(PathBuf::as_path).collect()
    };
    for f in &files {
        anyhow::ensure!(
            f.as_os_str() == "-" || f.is_file(),
            "{}: no such file",
            f.display()
        );
    }
    let scorer = Scorer::standalone(
        Arc::new(super::load_classifier(model_args)?),
        model_args.analyzer()?,
        model_args.text_policy(),
        defaults::SCORE_BATCH_SIZE,
    );
    let mut notes = Vec::new();
    let mut items = 0usize;
    for path in files {
        let (name, format, rows) = open(path, args)?;
        tracing::info!(file = %name, ?format, "linting");
        let mut batch: Vec<(usize, Item)> = Vec::new();
        let flush = |batch: &mut Vec<(usize, Item)>, notes: &mut Vec<Annotation>| {
            let list: Vec<Item> = batch.iter().map(|(_, i)| i.clone()).collect();
            let scoring = scorer.score_blocking(&list)?;
            for ((line, _), outcome) in batch.drain(..).zip(scoring.results) {
                match outcome {
                    Ok(scored) => {
                        let label = scored.analysis.scores.label().as_str();
                        for f in &scored.analysis.findings {
                            notes.push(Annotation {
                                file: name.clone(),
                                line,
                                severity: severity(f.severity),
                                code: f.code.as_str().to_string(),
                                message: f.message.clone(),
                                suggestion: Some(f.suggestion.clone()),
                                label: Some(label),
                            });
                        }
                    }
                    Err(e) => notes.push(unreadable(&name, line, e.to_string())),
                }
            }
            anyhow::Ok(())
        };
        for row in rows {
            match row {
                Ok(rec) => {
                    items += 1;
                    batch.push((rec.line, rec.item));
                    if batch.len() >= defaults::SCORE_BATCH_SIZE {
                        flush(&mut batch, &mut notes)?;
                    }
                }
                Err(e) => notes.push(unreadable(&name, e.line, e.message)),
            }
        }
        flush(&mut batch, &mut notes)?;
    }
    let failing = notes
        .iter()
        .filter(|n| n.code == "unreadable-row" || fails(args.fail_on, n.severity))
        .count();
    print(args.format, &notes, items, failing)?;
    Ok(if failing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn unreadable(file: &str, line: usize, message: String) -> Annotation {
    Annotation {
        file: file.to_string(),
        line,
        severity: "error",
        code: "unreadable-row".into(),
        message,
        suggestion: None,
        label: None,
    }
}

/// Opens a file, or stdin for `-` (JSON lines when it starts with `{`, else text lines).
fn open(path: &Path, args: &LintArgs) -> anyhow::Result<(String, Format, read::Rows)> {
    let mut opts = ReadOptions {
        format: args.input_format,
        text_column: args.text_column.clone(),
    };
    if path.as_os_str() == "-" {
        let mut reader = std::io::BufReader::new(std::io::stdin());
        let first = reader
            .fill_buf()?
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .copied();
        opts.format = opts.format.or(Some(if first == Some(b'{') {
            Format::Jsonl
        } else {
            Format::Text
        }));
        let source: Box<dyn Read + Send> = Box::new(reader);
        let (format, rows) = read::read_from(Path::new("stdin"), source, &opts)?;
        return Ok(("stdin".into(), format, rows));
    }
    let (format, rows) = read::read(path, &opts)?;
    Ok((path.display().to_string(), format, rows))
}

fn print(
    format: LintFormat,
    notes: &[Annotation],
    items: usize,
    failing: usize,
) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match format {
        LintFormat::Text => {
            for n in notes {
                writeln!(
                    out,
                    "{}:{}: {} {}: {}",
                    n.file, n.line, n.severity, n.code, n.message
                )?;
                if let Some(s) = &n.suggestion {
                    writeln!(out, "    fix: {s}")?;
                }
            }
            writeln!(
                out,
                "{items} items, {} findings, {failing} failing",
                notes.len()
            )?;
        }
        LintFormat::Json => {
            let v = json!({"items": items, "failing": failing, "findings": notes});
            writeln!(out, "{v}")?;
        }
        LintFormat::Github => {
            for n in notes {
                // Workflow commands have no `info` level; it is a notice.
                let level = if n.severity == "info" {
                    "notice"
                } else {
                    n.severity
                };
                writeln!(
                    out,
                    "::{level} file={},line={},title={}::{}",
                    escape_property(&n.file),
                    n.line,
                    escape_property(&n.code),
                    escape_data(&n.message)
                )?;
            }
        }
        LintFormat::Sarif => writeln!(out, "{}", sarif(notes))?,
    }
    out.flush()?;
    Ok(())
}

/// GitHub workflow-command escaping of a message.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub workflow-command escaping of a property value.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A SARIF 2.1.0 log with one run.
fn sarif(notes: &[Annotation]) -> serde_json::Value {
    let rules: Vec<_> = storylens::analysis::Code::ALL
        .iter()
        .map(|c| json!({"id": c.as_str()}))
        .chain(std::iter::once(json!({"id": "unreadable-row"})))
        .collect();
    let results: Vec<_> = notes
        .iter()
        .map(|n| {
            let level = match n.severity {
                "info" => "note",
                other => other,
            };
            json!({
                "ruleId": n.code,
                "level": level,
                "message": {"text": n.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": n.file},
                    "region": {"startLine": n.line.max(1)}
                }}]
            })
        })
        .collect();
    json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "storylens",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules
            }},
            "results": results
        }]
    })
}
