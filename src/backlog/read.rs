//! Readers of backlog exports. Every reader streams: rows are yielded one at a time, so memory
//! stays flat whatever the file size (a GitHub JSON array is walked element by element).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::mpsc;

use serde_json::Value;

use super::{Record, RowError};
use crate::analysis::Item;
use crate::{Error, Result};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Jira CSV export (`Summary`, `Issue key`, `Issue Type`, `Description`, …).
    JiraCsv,
    /// Any CSV with a title or text column.
    Csv,
    /// GitHub issues as a JSON array (`gh issue list --json …` or the REST API).
    GithubJson,
    /// One JSON object per line (`id`, `title` or `text`, `description`).
    Jsonl,
    /// One item per line.
    Text,
}

/// How to read one file.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Forces a format instead of detecting it.
    pub format: Option<Format>,
    /// The CSV column holding the item's title or text.
    pub text_column: Option<String>,
}

/// The format of `path`, from its extension and first bytes.
pub fn detect(path: &Path) -> Result<Format> {
    let mut head = vec![0u8; 4096];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| Error::io(path, e))?;
    let head = String::from_utf8_lossy(&head[..n]);
    let head = head.trim_start_matches('\u{feff}').trim_start();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    Ok(match ext.as_str() {
        "jsonl" | "ndjson" => Format::Jsonl,
        "json" if head.starts_with('[') => Format::GithubJson,
        "json" => Format::Jsonl,
        "csv" | "tsv" => {
            let header = head.lines().next().unwrap_or("");
            if header.contains("Issue key") || header.contains("Summary") {
                Format::JiraCsv
            } else {
                Format::Csv
            }
        }
        _ if head.starts_with('[') => Format::GithubJson,
        _ if head.starts_with('{') => Format::Jsonl,
        _ => Format::Text,
    })
}

/// The rows of a backlog export, each a record or an error naming its line.
pub type Rows = Box<dyn Iterator<Item = Result<Record, RowError>> + Send>;

/// Streams the rows of `path`.
pub fn read(path: &Path, opts: &ReadOptions) -> Result<(Format, Rows)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    read_from(path, Box::new(file), opts)
}

/// Streams the rows of `source`, the content of `path` (wrapped, e.g., to count bytes read).
pub fn read_from(
    path: &Path,
    source: Box<dyn Read + Send>,
    opts: &ReadOptions,
) -> Result<(Format, Rows)> {
    let format = match opts.format {
        Some(f) => f,
        None => detect(path)?,
    };
    let reader = BufReader::with_capacity(1 << 16, source);
    let rows: Rows = match format {
        Format::Text => Box::new(text_rows(reader)),
        Format::Jsonl => Box::new(jsonl_rows(reader)),
        Format::GithubJson => Box::new(json_array_rows(reader)),
        Format::Csv | Format::JiraCsv => {
            Box::new(csv_rows(reader, format, opts.text_column.clone())?)
        }
    };
    Ok((format, rows))
}

/// The non-blank lines of a line-based file, trimmed and without a byte-order mark, with their
/// 1-based numbers; a line that cannot be read or is not UTF-8 is an error naming it.
fn text_lines<R: BufRead + Send>(
    reader: R,
) -> impl Iterator<Item = (usize, Result<String, RowError>)> {
    use super::lines::{BoundedLines, Line, MAX_LINE_BYTES};
    BoundedLines::new(reader, MAX_LINE_BYTES).filter_map(|(line_no, line)| {
        let error = |message: String| {
            Some((
                line_no,
                Err(RowError {
                    line: line_no,
                    message,
                }),
            ))
        };
        let bytes = match line {
            Ok(Line::Bytes(b)) => b,
            Ok(Line::TooLong) => {
                return error(format!(
                    "line is longer than {MAX_LINE_BYTES} bytes; skipped"
                ))
            }
            Err(e) => return error(e.to_string()),
        };
        match std::str::from_utf8(&bytes) {
            Ok(t) => {
                let t = t.trim_start_matches('\u{feff}').trim();
                (!t.is_empty()).then(|| (line_no, Ok(t.to_string())))
            }
            Err(e) => error(format!("not valid UTF-8 (byte {})", e.valid_up_to())),
        }
    })
}

fn text_rows<R: BufRead + Send>(reader: R) -> impl Iterator<Item = Result<Record, RowError>> {
    text_lines(reader).map(|(line, text)| {
        text.map(|t| Record {
            line,
            item: Item::from_text(t),
            tracker_type: None,
        })
    })
}

fn jsonl_rows<R: BufRead + Send>(reader: R) -> impl Iterator<Item = Result<Record, RowError>> {
    text_lines(reader).map(|(line_no, text)| {
        serde_json::from_str::<Value>(&text?)
            .map_err(|e| format!("not valid JSON: {e}"))
            .and_then(|v| object_record(&v))
            .map(|(item, tracker_type)| Record {
                line: line_no,
                item,
                tracker_type,
            })
            .map_err(|message| RowError {
                line: line_no,
                message,
            })
    })
}

/// An item from a JSON object of any shape `/v1/classify` takes.
pub fn object_record(v: &Value) -> std::result::Result<(Item, Option<String>), String> {
    crate::input::parse_item(v, "row").map(|i| (i.item, i.tracker_type))
}

/// Walks a JSON array element by element on its own thread, handing rows over a small bounded
/// channel; "line" is the element's position (1-based), as a JSON array has no row lines.
fn json_array_rows<R: Read + Send + 'static>(
    reader: R,
) -> impl Iterator<Item = Result<Record, RowError>> {
    use serde::de::{Deserializer, SeqAccess, Visitor};
    let (tx, rx) = mpsc::sync_channel::<Result<Record, RowError>>(256);
    std::thread::spawn(move || {
        struct Each(mpsc::SyncSender<Result<Record, RowError>>);
        impl<'de> Visitor<'de> for Each {
            type Value = usize;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON array of issues")
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<usize, A::Error> {
                let mut n = 0;
                while let Some(v) = seq.next_element::<Value>()? {
                    n += 1;
                    let row = object_record(&v)
                        .map(|(item, tracker_type)| Record {
                            line: n,
                            item,
                            tracker_type,
                        })
                        .map_err(|message| RowError {
                            line: n,
                            message: format!("element {n}: {message}"),
                        });
                    if self.0.send(row).is_err() {
                        break;
                    }
                }
                Ok(n)
            }
        }
        let mut de = serde_json::Deserializer::from_reader(reader);
        let sender = tx.clone();
        if let Err(e) = de.deserialize_seq(Each(tx)) {
            let _ = sender.send(Err(RowError {
                line: e.line(),
                message: format!("the JSON array is malformed; reading stopped here: {e}"),
            }));
        }
    });
    rx.into_iter()
}

/// Column positions of a CSV export.
struct Columns {
    title: usize,
    description: Option<usize>,
    criteria: Option<usize>,
    id: Option<usize>,
    kind: Option<usize>,
}

fn find(headers: &[String], names: &[&str]) -> Option<usize> {
    // Jira repeats column names; the first wins, and a later duplicate fills in when it is empty
    // (see `field`).
    names.iter().find_map(|n| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(n))
    })
}

fn csv_rows<R: Read + Send + 'static>(
    reader: R,
    format: Format,
    text_column: Option<String>,
) -> Result<impl Iterator<Item = Result<Record, RowError>>> {
    // The csv crate numbers records one line early in files with CRLF line ends (it takes a
    // record's start before the `\n` of the previous `\r\n`); the header line tells which.
    let mut reader = BufReader::new(reader);
    let head = reader.fill_buf().unwrap_or_default();
    let crlf = head
        .iter()
        .position(|&b| b == b'\n')
        .is_some_and(|i| i > 0 && head[i - 1] == b'\r') as usize;
    // Tab-separated exports (`.tsv`, or a CSV saved by a spreadsheet with tabs) are told apart
    // by their header line.
    let header_line = &head[..head.iter().position(|&b| b == b'\n').unwrap_or(head.len())];
    let count = |c: u8| header_line.iter().filter(|&&b| b == c).count();
    let delimiter = if count(b'\t') > count(b',') {
        b'\t'
    } else {
        b','
    };
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(reader);
    let headers: Vec<String> = csv
        .byte_headers()
        .map_err(|e| Error::InvalidInput(format!("CSV header: {e}")))?
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim_start_matches('\u{feff}')
                .to_string()
        })
        .collect();
    let title_names: Vec<&str> = match &text_column {
        Some(c) => vec![c.as_str()],
        None if format == Format::JiraCsv => vec!["Summary"],
        None => vec!["title", "summary", "text", "story", "name", "subject"],
    };
    let title = find(&headers, &title_names).ok_or_else(|| {
        Error::InvalidInput(format!(
            "no {} column among {:?}; name one with --text-column",
            title_names.join("/"),
            headers
        ))
    })?;
    let cols = Columns {
        title,
        description: find(&headers, &["Description", "body", "details"]),
        criteria: find(
            &headers,
            &[
                "Acceptance Criteria",
                "Custom field (Acceptance Criteria)",
                "acceptance_criteria",
            ],
        ),
        id: find(&headers, &["Issue key", "key", "id", "number"]),
        kind: find(&headers, &["Issue Type", "type", "label", "labels"]),
    };
    let dup_of: Vec<usize> = (0..headers.len())
        .map(|i| headers.iter().position(|h| h == &headers[i]).unwrap_or(i))
        .collect();
    let mut record = csv::ByteRecord::new();
    Ok(std::iter::from_fn(move || loop {
        let line = csv.position().line() as usize + crlf;
        match csv.read_byte_record(&mut record) {
            Ok(false) => return None,
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line() as usize + crlf);
                return Some(Err(RowError {
                    line,
                    message: format!("malformed CSV row: {e}"),
                }));
            }
            Ok(true) => {}
        }
        let line = record.position().map_or(line, |p| p.line() as usize + crlf);
        let field = |c: usize| -> Option<String> {
            // The column itself, else a later column of the same name that has a value.
            let mut v = record
                .get(c)
                .map(|b| String::from_utf8_lossy(b).trim().to_string());
            if v.as_deref().is_none_or(str::is_empty) {
                v = (0..record.len())
                    .filter(|&i| i != c && dup_of.get(i) == Some(&c))
                    .filter_map(|i| record.get(i))
                    .map(|b| String::from_utf8_lossy(b).trim().to_string())
                    .find(|s| !s.is_empty());
            }
            v.filter(|s| !s.is_empty())
        };
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let Some(title) = field(cols.title) else {
            return Some(Err(RowError {
                line,
                message: format!("column `{}` is empty", headers[cols.title]),
            }));
        };
        let item = Item {
            id: cols.id.and_then(field),
            title,
            description: cols.description.and_then(field),
            acceptance_criteria: cols
                .criteria
                .and_then(field)
                .map(|c| {
                    c.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        };
        return Some(Ok(Record {
            line,
            item,
            tracker_type: cols.kind.and_then(field),
        }));
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_separated_files_split_on_tabs() {
        let dir = std::env::temp_dir().join(format!("storylens-tsv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("items.tsv");
        std::fs::write(
            &path,
            "Summary\tIssue Type\nAdd export, with CSV\tStory\nBump eslint\tTask\n",
        )
        .unwrap();
        let (format, rows) = read(&path, &ReadOptions::default()).unwrap();
        assert_eq!(format, Format::JiraCsv);
        let titles: Vec<String> = rows.map(|r| r.unwrap().item.title).collect();
        assert_eq!(titles, ["Add export, with CSV", "Bump eslint"]);
        std::fs::remove_dir_all(&dir).ok();
    }
}
