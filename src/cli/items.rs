//! Where one-item commands (`classify`, `rewrite`) read their items: texts given as arguments,
//! one text per line on stdin, or a JSONL file of items parsed by the one input layer
//! ([`storylens::input::parse_item`]). Unreadable lines are reported and counted, never dropped
//! silently.

use std::io::BufRead;
use std::path::Path;

use storylens::analysis::Item;
use storylens::backlog::lines::{BoundedLines, Line, MAX_LINE_BYTES};

/// One input item with where it came from, for error messages.
pub struct Input {
    /// "item 3", "stdin:12", "input.jsonl:7".
    pub origin: String,
    pub item: Item,
}

/// Calls `each` for every item in order; returns how many lines could not be read as items
/// (reported on stderr). Errors from `each` stop the reading.
pub fn for_each(
    texts: &[String],
    input: Option<&Path>,
    mut each: impl FnMut(Input) -> anyhow::Result<()>,
) -> anyhow::Result<usize> {
    if !texts.is_empty() {
        for (i, t) in texts.iter().enumerate() {
            each(Input {
                origin: format!("item {}", i + 1),
                item: Item::from_text(t.clone()),
            })?;
        }
        return Ok(0);
    }
    let (reader, name): (Box<dyn BufRead>, String) = match input {
        Some(path) => {
            let f = std::fs::File::open(path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            (
                Box::new(std::io::BufReader::new(f)),
                path.display().to_string(),
            )
        }
        None => (Box::new(std::io::stdin().lock()), "stdin".to_string()),
    };
    let mut failed = 0usize;
    for (lineno, line) in BoundedLines::new(reader, MAX_LINE_BYTES) {
        let bytes = match line.map_err(|e| anyhow::anyhow!("{name}: {e}"))? {
            Line::Bytes(b) => b,
            Line::TooLong => {
                eprintln!(
                    "error: {name}:{lineno}: line is longer than {MAX_LINE_BYTES} bytes; item skipped"
                );
                failed += 1;
                continue;
            }
        };
        let Ok(text) = String::from_utf8(bytes) else {
            eprintln!("error: {name}:{lineno}: not valid UTF-8; item skipped");
            failed += 1;
            continue;
        };
        let text = text.strip_suffix('\r').unwrap_or(&text);
        let origin = format!("{name}:{lineno}");
        let item = if input.is_some() {
            // A blank line in a file is spacing; on stdin it is an item, reported as empty.
            if text.trim().is_empty() {
                continue;
            }
            match parse_row(text) {
                Ok(item) => item,
                Err(e) => {
                    eprintln!("error: {origin}: {e}; item skipped");
                    failed += 1;
                    continue;
                }
            }
        } else {
            Item::from_text(text)
        };
        each(Input { origin, item })?;
    }
    Ok(failed)
}

fn parse_row(line: &str) -> anyhow::Result<Item> {
    let v: serde_json::Value =
        serde_json::from_str(line).map_err(|e| anyhow::anyhow!("invalid JSON: {e}"))?;
    storylens::input::parse_item(&v, "row")
        .map(|i| i.item)
        .map_err(|e| anyhow::anyhow!(e))
}
