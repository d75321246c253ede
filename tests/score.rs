//! Backlog readers on messy exports, and `storylens score` end to end: every input row is either
//! an output row or a reported error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use storylens::backlog::read::{read, Format, ReadOptions};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
    p
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("storylens-score-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rows(
    path: &Path,
) -> (
    Format,
    Vec<Result<storylens::backlog::Record, storylens::backlog::RowError>>,
) {
    let (f, it) = read(path, &ReadOptions::default()).unwrap();
    (f, it.collect())
}

#[test]
fn jira_csv_with_bom_crlf_quoted_newlines_and_repeated_columns() {
    let dir = tempdir("jira");
    let csv = "\u{feff}Summary,Issue key,Issue Type,Description,Sprint,Sprint\r\n\
Create a database table for wishlist items,SHOP-1,Task,\"First line\r\nsecond line\",S1,S2\r\n\
Let shoppers save a wishlist,SHOP-2,Story,,S1,\r\n\
,SHOP-3,Task,no summary here,S1,\r\n\
Refactor the cart service,SHOP-4,Story,\"a \"\"quoted\"\" word\",S1,\r\n";
    let p = write(&dir, "export.csv", csv.as_bytes());
    let (format, rows) = rows(&p);
    assert_eq!(format, Format::JiraCsv);
    assert_eq!(rows.len(), 4);
    let first = rows[0].as_ref().unwrap();
    assert_eq!(
        first.item.title,
        "Create a database table for wishlist items"
    );
    assert_eq!(first.item.id.as_deref(), Some("SHOP-1"));
    assert_eq!(first.tracker_type.as_deref(), Some("Task"));
    assert_eq!(
        first.item.description.as_deref(),
        Some("First line\r\nsecond line")
    );
    let err = rows[2].as_ref().unwrap_err();
    assert_eq!(
        err.line, 5,
        "the row after a quoted newline starts on line 5"
    );
    assert!(err.message.contains("Summary"), "{}", err.message);
    assert_eq!(
        rows[3].as_ref().unwrap().item.description.as_deref(),
        Some("a \"quoted\" word")
    );
}

#[test]
fn github_json_array_jsonl_and_text() {
    let dir = tempdir("formats");
    let gh = r#"[{"number": 7, "title": "Upgrade the build to Gradle 8", "body": "```\ncode\n```\nReal text", "labels": [{"name": "chore"}]},
                 {"number": 8, "title": "Cannot pay with PayPal", "body": null, "labels": []},
                 {"number": 9, "body": "no title"}]"#;
    let (f, r) = rows(&write(&dir, "issues.json", gh.as_bytes()));
    assert_eq!(f, Format::GithubJson);
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].as_ref().unwrap().item.id.as_deref(), Some("7"));
    assert_eq!(
        r[0].as_ref().unwrap().tracker_type.as_deref(),
        Some("chore")
    );
    assert!(r[2].is_err());

    let jsonl = b"{\"id\": \"A\", \"text\": \"Refactor billing\"}\n{not json\n\n{\"title\": \"Show order history\"}\n";
    let (f, r) = rows(&write(&dir, "items.jsonl", jsonl));
    assert_eq!(f, Format::Jsonl);
    assert_eq!(r.len(), 3);
    assert_eq!(r[1].as_ref().unwrap_err().line, 2);
    assert_eq!(r[2].as_ref().unwrap().line, 4);

    let text =
        b"\xef\xbb\xbfRefactor billing\r\n\r\nLet users export invoices\r\n\xff\xfe broken\n";
    let (f, r) = rows(&write(&dir, "items.txt", text));
    assert_eq!(f, Format::Text);
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].as_ref().unwrap().item.title, "Refactor billing");
    assert_eq!(r[2].as_ref().unwrap_err().line, 4);
}

#[test]
fn score_loses_no_row_on_broken_files() {
    let dir = tempdir("cli");
    let mut jsonl = String::new();
    for i in 0..150 {
        match i % 10 {
            3 => jsonl.push_str("{broken\n"),
            7 => jsonl.push_str("{\"title\": \"\"}\n"),
            _ if i % 2 == 0 => jsonl.push_str(&format!(
                "{{\"id\": \"T-{i}\", \"title\": \"Migrate table {i} to the new schema\"}}\n"
            )),
            _ => jsonl.push_str(&format!(
                "{{\"id\": \"S-{i}\", \"title\": \"Let shoppers filter results by colour {i}\"}}\n"
            )),
        }
    }
    let input = write(&dir, "broken.jsonl", jsonl.as_bytes());
    let out = dir.join("rows.jsonl");
    let report = dir.join("report.html");
    let res = Command::new(env!("CARGO_BIN_EXE_storylens"))
        .args([
            "score",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STORYLENS_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(1), "partial run exits 1: {stderr}");
    let errors = stderr.lines().filter(|l| l.contains(": line ")).count();
    let rows: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(errors, 30, "{stderr}");
    assert_eq!(rows.len() + errors, 150);
    assert!(stderr.contains("line 4: not valid JSON"), "{stderr}");
    // Rows keep input order and their lines; clear cases get their labels.
    let lines: Vec<u64> = rows.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert!(lines.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(rows[0]["id"], "T-0");
    assert_eq!(rows[0]["label"], "task");
    assert_eq!(rows[1]["label"], "story");
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains("<svg") && html.contains("120</span> items scored"),
        "report"
    );
}

#[test]
fn score_refuses_to_write_over_its_input() {
    let dir = tempdir("overwrite");
    let input = write(
        &dir,
        "items.txt",
        b"Upgrade angular\nLet users export invoices\n",
    );
    for flag in ["--out", "--report"] {
        let out = Command::new(env!("CARGO_BIN_EXE_storylens"))
            .args([
                "score",
                input.to_str().unwrap(),
                flag,
                input.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("is also an input"), "{err}");
        assert_eq!(
            std::fs::read(&input).unwrap(),
            b"Upgrade angular\nLet users export invoices\n",
            "the input is untouched"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_report_groups_near_duplicates_but_not_siblings() {
    let dir = tempdir("dups");
    let items = [
        "Let shoppers save products to a wishlist",
        "Import customer records from a CSV file",
        "Allow shoppers to save products to their wish list",
        "Export customer records to a CSV file",
        "Upgrade the logging library to version 2",
    ];
    let jsonl: String = items
        .iter()
        .map(|t| format!("{}\n", serde_json::json!({ "title": t })))
        .collect();
    let input = write(&dir, "dups.jsonl", jsonl.as_bytes());
    for (name, check) in [
        ("report.json", "json"),
        ("report.html", "<h2>Near-duplicates</h2>"),
        ("report.md", "## Near-duplicates"),
    ] {
        let report = dir.join(name);
        let res = Command::new(env!("CARGO_BIN_EXE_storylens"))
            .args(["score", input.to_str().unwrap(), "--quiet", "--report"])
            .arg(&report)
            .arg("--out")
            .arg(dir.join("rows.jsonl"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("STORYLENS_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            res.status.success(),
            "{}",
            String::from_utf8_lossy(&res.stderr)
        );
        let text = std::fs::read_to_string(&report).unwrap();
        if check != "json" {
            assert!(text.contains(check), "{name}: {text}");
            continue;
        }
        let summary: Value = serde_json::from_str(&text).unwrap();
        let groups = summary["duplicates"].as_array().unwrap();
        let lines: Vec<Vec<u64>> = groups
            .iter()
            .map(|g| {
                g["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["line"].as_u64().unwrap())
                    .collect()
            })
            .collect();
        // The wishlist items are one request; import and export of the same records are two.
        assert_eq!(lines, vec![vec![1, 3]], "{summary}");
        let sim = groups[0]["similarity"].as_f64().unwrap();
        assert!((0.86..=1.0).contains(&sim), "{sim}");
        assert_eq!(summary["rows"], 5);
        assert_eq!(summary["worst"].as_array().unwrap().len(), 5);
    }
}
