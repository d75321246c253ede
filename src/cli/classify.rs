//! `storylens classify`: texts as arguments, one item per line on stdin, or a JSONL file.
//! Items stream through in batches, so a long stdin stream prints results as it goes.

use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

use std::sync::Arc;

use storylens::analysis::{ClassifyResult, Item};
use storylens::config::{ClassifyArgs, ModelArgs, OutputFormat};
use storylens::service::Scorer;

use super::items::Input;

/// One result line: the item's text, then the report every interface gives.
#[derive(Serialize)]
pub struct Output<'a> {
    pub text: &'a str,
    #[serde(flatten)]
    pub result: ClassifyResult,
}

pub fn run(model_args: &ModelArgs, args: &ClassifyArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.batch_size > 0, "--batch-size must be at least 1");
    let scorer = Scorer::standalone(
        Arc::new(super::load_classifier(model_args)?),
        model_args.analyzer()?,
        model_args.text_policy(),
        args.batch_size,
    );
    let mut printer = Printer::new(args.format);
    let mut failed = 0usize;
    let mut batch: Vec<Input> = Vec::with_capacity(args.batch_size);
    let flush = |batch: &mut Vec<Input>, printer: &mut Printer| -> anyhow::Result<usize> {
        let errors = classify_batch(&scorer, batch, printer)?;
        batch.clear();
        Ok(errors)
    };

    let unreadable = super::items::for_each(&args.texts, args.input.as_deref(), |input| {
        batch.push(input);
        if batch.len() >= args.batch_size {
            failed += flush(&mut batch, &mut printer)?;
        }
        Ok(())
    })?;
    failed += unreadable + flush(&mut batch, &mut printer)?;
    printer.finish()?;
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Classifies a batch, printing results in order; returns how many items were in error.
fn classify_batch(
    scorer: &Scorer,
    batch: &[Input],
    printer: &mut Printer,
) -> anyhow::Result<usize> {
    let items: Vec<Item> = batch.iter().map(|i| i.item.clone()).collect();
    let scoring = scorer.score_blocking(&items)?;
    let mut errors = 0;
    for (input, outcome) in batch.iter().zip(scoring.results) {
        match outcome {
            Ok(scored) => printer.print(&Output {
                text: &input.item.title,
                result: scored.result(input.item.id.clone()),
            })?,
            Err(e) => {
                eprintln!("error: {}: {e}", input.origin);
                errors += 1;
            }
        }
    }
    Ok(errors)
}

/// Writes results as JSON lines or as a table.
struct Printer {
    format: OutputFormat,
    out: std::io::BufWriter<std::io::Stdout>,
    header: bool,
}

impl Printer {
    fn new(format: OutputFormat) -> Self {
        Self {
            format,
            out: std::io::BufWriter::new(std::io::stdout()),
            header: false,
        }
    }

    fn print(&mut self, o: &Output) -> anyhow::Result<()> {
        match self.format {
            OutputFormat::Json => {
                serde_json::to_writer(&mut self.out, o)?;
                writeln!(self.out)?;
            }
            OutputFormat::Text => {
                if !self.header {
                    writeln!(self.out, "{:<6} {:>6}  text", "label", "conf")?;
                    self.header = true;
                }
                let mut text: String = o.text.replace('\n', " ⏎ ");
                if text.chars().count() > 100 {
                    text = text.chars().take(99).collect::<String>() + "…";
                }
                let flag = if o.result.truncated {
                    " [truncated]"
                } else {
                    ""
                };
                writeln!(
                    self.out,
                    "{:<6} {:>5.1}%  {text}{flag}",
                    o.result.label.as_str(),
                    o.result.confidence * 100.0
                )?;
                self.findings(o)?;
            }
        }
        // Streams are read by other programs as they go: hand each batch over at once.
        self.out.flush()?;
        Ok(())
    }

    /// Findings under the item, the span highlighted when stdout is a terminal.
    fn findings(&mut self, o: &Output) -> anyhow::Result<()> {
        use std::io::IsTerminal;
        let colour = std::io::stdout().is_terminal();
        for f in &o.result.findings {
            let sev = format!("{:?}", f.severity).to_lowercase();
            let at = match &f.span {
                Some(s) if colour => format!(
                    " ({}\x1b[1;31m{}\x1b[0m{})",
                    &o.text[..s.start]
                        .chars()
                        .rev()
                        .take(20)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect::<String>(),
                    s.text,
                    o.text[s.end..].chars().take(20).collect::<String>()
                ),
                Some(s) => format!(" (\"{}\")", s.text),
                None => String::new(),
            };
            writeln!(
                self.out,
                "               {sev:<7} {}: {}{at}",
                f.code.as_str(),
                f.message
            )?;
            writeln!(self.out, "                       fix: {}", f.suggestion)?;
        }
        if !o.result.findings.is_empty() || o.result.parts.is_some() {
            writeln!(self.out, "               quality {}/100", o.result.quality)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.out.flush()?;
        Ok(())
    }
}
