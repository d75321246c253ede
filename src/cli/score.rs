//! `storylens score`: whole backlog exports in, one row per item and a report out. Rows stream
//! through in batches (memory stays flat), errors name their file and line and are counted, and
//! Ctrl-C stops after the current batch with a valid, truncated output.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use storylens::analysis::rewrite::{Disposition, RewriteEngine, Rewriter};
use storylens::analysis::Item;
use storylens::backlog::duplicates::{
    compared_text, Compared, DuplicateFinder, DuplicateGroup, Member,
};
use storylens::backlog::read::{self, ReadOptions};
use storylens::backlog::report::{ScoredRow, Summary};
use storylens::backlog::{Record, RowError};
use storylens::config::{ModelArgs, ScoreArgs};
use storylens::model::{Label, Model};
use storylens::service::Scorer;

/// Where scored rows go.
enum Sink {
    Jsonl(Box<dyn Write>),
    // Boxed: the CSV writer carries its own buffer state, many times the other variant's size.
    Csv(Box<csv::Writer<Box<dyn Write>>>),
}

impl Sink {
    fn open(path: Option<&Path>) -> anyhow::Result<Self> {
        let out: Box<dyn Write> = match path {
            Some(p) => Box::new(std::io::BufWriter::with_capacity(
                1 << 16,
                std::fs::File::create(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
            )),
            None => Box::new(std::io::BufWriter::new(std::io::stdout())),
        };
        let csv = path
            .and_then(|p| p.extension())
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        Ok(if csv {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "file",
                "line",
                "id",
                "title",
                "label",
                "confidence",
                "quality",
                "findings",
                "tracker_type",
                "type_mismatch",
                "rewrite",
            ])?;
            Sink::Csv(Box::new(w))
        } else {
            Sink::Jsonl(out)
        })
    }

    fn write(&mut self, r: &ScoredRow) -> anyhow::Result<()> {
        match self {
            Sink::Jsonl(w) => writeln!(w, "{}", serde_json::to_string(r)?)?,
            Sink::Csv(w) => w.write_record([
                r.file.as_deref().unwrap_or(""),
                &r.line.to_string(),
                r.id.as_deref().unwrap_or(""),
                &r.title,
                r.label.as_str(),
                &format!("{:.4}", r.confidence),
                &r.quality.to_string(),
                &r.findings.join(";"),
                r.tracker_type.as_deref().unwrap_or(""),
                &r.type_mismatch.to_string(),
                r.rewrite.as_deref().unwrap_or(""),
            ])?,
        }
        // Each row reaches the file whole before the next is written, so a kill at any moment
        // leaves complete rows only.
        self.flush()
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        match self {
            Sink::Jsonl(w) => w.flush()?,
            Sink::Csv(w) => w.flush()?,
        }
        Ok(())
    }
}

pub fn run(model_args: &ModelArgs, args: &ScoreArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.batch_size > 0, "--batch-size must be at least 1");
    for f in &args.files {
        anyhow::ensure!(f.is_file(), "{}: no such file", f.display());
    }
    // Writing over an input would destroy it before it is read.
    let inputs: Vec<_> = args
        .files
        .iter()
        .filter_map(|f| std::fs::canonicalize(f).ok())
        .collect();
    for out in [&args.out, &args.report].into_iter().flatten() {
        if let Ok(c) = std::fs::canonicalize(out) {
            anyhow::ensure!(
                !inputs.contains(&c),
                "{} is also an input; choose another output file",
                out.display()
            );
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        // Ctrl-C and SIGTERM stop after the batch in hand; a second one while finishing it is
        // ignored: the output must stay valid.
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))?;
    }
    let model: Arc<dyn Model> = Arc::new(super::load_classifier(model_args)?);
    let scorer = Arc::new(Scorer::standalone(
        model,
        model_args.analyzer()?,
        model_args.text_policy(),
        args.batch_size,
    ));
    // The refiner classifies through the same core: one model, one queue.
    let rewriter: Option<Rewriter> = if args.rewrite {
        let profile = args.tuning.profile()?;
        Some(
            model_args
                .rewriter_with(Arc::clone(&scorer), profile)
                .map_err(|e| anyhow::anyhow!("{e}").context("loading the refinement heads"))?,
        )
    } else {
        None
    };
    let mut sink = Sink::open(args.out.as_deref())?;
    let mut summary = Summary::default();
    // Near-duplicates are a report's section; without a report nobody reads them. Each file
    // is its own backlog: items of two products are never merged.
    let grouping = args.report.is_some() && args.duplicate_threshold < 1.0;
    let new_finder = || {
        DuplicateFinder::new(
            args.duplicate_threshold,
            storylens::config::defaults::DUPLICATE_LIMIT,
        )
    };
    let mut groups = Vec::new();
    let mut skipped = 0;
    let mut finder = None;
    let started = Instant::now();
    let total_bytes: u64 = args
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = progress_bar(total_bytes, args.quiet);
    let opts = ReadOptions {
        format: args.input_format,
        text_column: args.text_column.clone(),
    };
    let mut interrupted = None;
    'files: for path in &args.files {
        let name = path.display().to_string();
        if let Some(f) = finder.take() {
            collect(f, &mut groups, &mut skipped);
        }
        finder = grouping.then(new_finder);
        let source = Box::new(bar.wrap_read(std::fs::File::open(path)?));
        let (format, rows) = read::read_from(path, source, &opts)?;
        tracing::info!(file = %name, ?format, "scoring");
        // Reading and parsing run ahead on their own thread, a few batches at most.
        let (tx, rx) = mpsc::sync_channel::<Vec<Result<Record, RowError>>>(4);
        let batch = args.batch_size;
        let reader = std::thread::spawn(move || {
            let mut rows = rows;
            loop {
                let chunk: Vec<_> = rows.by_ref().take(batch).collect();
                if chunk.is_empty() || tx.send(chunk).is_err() {
                    break;
                }
            }
        });
        for chunk in rx {
            let last_line = chunk.last().map_or(0, |r| match r {
                Ok(rec) => rec.line,
                Err(e) => e.line,
            });
            let mut records = Vec::with_capacity(chunk.len());
            for row in chunk {
                match row {
                    Ok(r) => records.push(r),
                    Err(e) => {
                        summary.add_error();
                        bar.suspend(|| eprintln!("{name}: {e}"));
                    }
                }
            }
            let ctx = Ctx {
                scorer: &scorer,
                rewriter: rewriter.as_ref(),
                file: &name,
            };
            for row in score(&ctx, records, &mut summary, finder.as_mut())? {
                sink.write(&row)?;
                summary.add(&row);
            }
            let secs = started.elapsed().as_secs_f64();
            bar.set_message(format!(
                "{} items, {:.0} items/s",
                summary.rows,
                summary.rows as f64 / secs.max(1e-9)
            ));
            if stop.load(Ordering::SeqCst) {
                interrupted = Some(format!("{name} line {last_line}"));
                break 'files;
            }
        }
        let _ = reader.join();
    }
    sink.flush()?;
    bar.finish_and_clear();
    if let Some(f) = finder.take() {
        collect(f, &mut groups, &mut skipped);
    }
    if grouping {
        if skipped > 0 {
            eprintln!(
                "storylens score: {skipped} items past the first {} of a file were not compared for near-duplicates",
                storylens::config::defaults::DUPLICATE_LIMIT
            );
        }
        groups.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        summary.duplicates = Some(groups);
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "storylens score: {} items ({} stories, {} tasks, {} disguised), {} unreadable rows, {:.1} s, {:.0} items/s",
        summary.rows,
        summary.stories,
        summary.tasks,
        summary.disguised,
        summary.errors,
        secs,
        summary.rows as f64 / secs.max(1e-9)
    );
    if let Some(path) = &args.report {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let title = "storylens backlog report";
        let text = match ext.as_str() {
            "html" | "htm" => summary.html(title),
            "json" => serde_json::to_string_pretty(&summary)? + "\n",
            _ => summary.markdown(title),
        };
        std::fs::write(path, text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    if let Some(at) = interrupted {
        eprintln!(
            "storylens score: interrupted after {} items, at {at}; the output holds every item scored so far",
            summary.rows
        );
        return Ok(ExitCode::from(130));
    }
    Ok(if summary.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Keeps a finished file's near-duplicate groups.
fn collect(f: DuplicateFinder, groups: &mut Vec<DuplicateGroup>, skipped: &mut usize) {
    *skipped += f.skipped();
    groups.extend(f.groups());
}

fn progress_bar(total_bytes: u64, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::new(total_bytes);
    if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {msg} ETA {eta}")
            .expect("valid template"),
    );
    bar
}

/// What scoring a batch needs.
struct Ctx<'a> {
    scorer: &'a Scorer,
    rewriter: Option<&'a Rewriter>,
    file: &'a str,
}

/// Scores a batch into rows; an item that cannot be scored is counted as an error, by line.
fn score(
    ctx: &Ctx<'_>,
    records: Vec<Record>,
    summary: &mut Summary,
    finder: Option<&mut DuplicateFinder>,
) -> anyhow::Result<Vec<ScoredRow>> {
    let items: Vec<Item> = records.iter().map(|r| r.item.clone()).collect();
    let scoring = ctx.scorer.score_blocking(&items)?;
    if let Some(finder) = finder {
        let scored: Vec<(usize, Compared)> = scoring
            .results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().ok().map(|s| (i, s)))
            .map(|(i, s)| {
                let read = ctx.scorer.text(&items[i]);
                (
                    i,
                    compared_text(&items[i].title, s.analysis.parts.as_ref(), read),
                )
            })
            .collect();
        let texts: Vec<String> = scored.iter().map(|(_, c)| c.text.clone()).collect();
        let vectors = ctx.scorer.embed_blocking(&texts)?;
        for ((i, text), v) in scored.iter().zip(&vectors) {
            let member = Member {
                file: Some(ctx.file.to_string()),
                line: records[*i].line,
                title: items[*i].title.clone(),
                similarity: None,
            };
            finder.add(member, text, v);
        }
    }
    let mut out = Vec::with_capacity(records.len());
    for (rec, outcome) in records.into_iter().zip(scoring.results) {
        let scored = match outcome {
            Ok(s) => s,
            Err(e) => {
                summary.add_error();
                eprintln!("{}:{}: {e}", ctx.file, rec.line);
                continue;
            }
        };
        let mut row = ScoredRow::new(
            Some(ctx.file.to_string()),
            rec.line,
            &rec.item,
            rec.tracker_type.clone(),
            &scored,
        );
        if let (Some(r), Label::Task) = (ctx.rewriter, row.label) {
            // A refinement error is kept in the row, never dropped.
            row.rewrite = Some(match r.rewrite(&rec.item, None) {
                Ok(d) => match (&d.story, &d.task) {
                    (Some(s), _) if d.disposition != Disposition::AlreadyStory => {
                        format!("{}: {s}", d.disposition.as_str())
                    }
                    (_, Some(t)) => format!("{}: {t}", d.disposition.as_str()),
                    _ => d.disposition.as_str().to_string(),
                },
                Err(e) => {
                    eprintln!("{}:{}: refinement failed: {e}", ctx.file, rec.line);
                    format!("error: {e}")
                }
            });
        }
        out.push(row);
    }
    Ok(out)
}
