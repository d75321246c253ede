//! End-to-end tests of the binary with the real model (after `scripts/fetch-models`).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn storylens(args: &[&str], stdin: Option<&[u8]>) -> Output {
    storylens_env(args, stdin, &[])
}

fn storylens_env(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_storylens"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STORYLENS_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run storylens");
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or_default()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn clear_cases_get_the_right_labels() {
    let out = storylens(
        &[
            "classify",
            "As a shopper, I want to save items to a wishlist so that I can buy them later",
            "Upgrade the ORM dependency to version 6 and fix deprecations",
            "Allow users to filter search results by price",
            "Set up a CI pipeline that runs the unit tests on every merge",
            "Cannot pay with PayPal at checkout",
            "Refactor the invoice service into smaller modules",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = json_lines(&out);
    let labels: Vec<&str> = rows.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["story", "task", "story", "task", "story", "task"]);
    for r in &rows {
        let (s, t) = (
            r["scores"]["story"].as_f64().unwrap(),
            r["scores"]["task"].as_f64().unwrap(),
        );
        assert!((s + t - 1.0).abs() < 1e-4);
        assert_eq!(r["confidence"].as_f64().unwrap(), s.max(t));
        assert_eq!(r["truncated"], Value::Bool(false));
    }
    // A well-formed story has nothing wrong with it; a bare chore is not linked to a story.
    assert_eq!(rows[0]["findings"], serde_json::json!([]));
    assert_eq!(rows[0]["quality"], 100);
    assert_eq!(rows[0]["parts"]["role"]["text"], "shopper");
    assert_eq!(rows[5]["findings"][0]["code"], "task-without-story");
}

#[test]
fn stdin_stream_keeps_order_and_reports_bad_lines() {
    let mut input = b"Migrate the orders table to the new schema\nAs a patient, I want to book appointments online\n".to_vec();
    input.extend_from_slice(b"bad \xff\xfe line\n   \nShow delivery status on the order page\n");
    let out = storylens(&["classify"], Some(&input));
    assert_eq!(out.status.code(), Some(1), "partial run exits 1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stdin:3: not valid UTF-8"), "{stderr}");
    assert!(stderr.contains("stdin:4: text is empty"), "{stderr}");
    let rows = json_lines(&out);
    let labels: Vec<&str> = rows.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["task", "story", "story"]);
}

#[test]
fn long_text_is_truncated_and_flagged() {
    let text = "As a reader I want bigger fonts. ".repeat(400);
    let out = storylens(&["classify", &text], None);
    assert!(out.status.success());
    assert_eq!(json_lines(&out)[0]["truncated"], Value::Bool(true));
}

#[test]
fn empty_argument_names_the_item() {
    let out = storylens(&["classify", "Export invoices as PDF", "  "], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("item 2: text is empty"));
    assert_eq!(json_lines(&out).len(), 1);
}

#[test]
fn jsonl_input_echoes_ids() {
    let dir = std::env::temp_dir().join(format!("storylens-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("items.jsonl");
    std::fs::write(&path, "{\"id\": \"A-1\", \"title\": \"Bump the logging library to 2.1\"}\n{\"id\": 2, \"text\": \"Let customers download invoices\"}\nnot json\n").unwrap();
    let out = storylens(&["classify", "--input", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("items.jsonl:3: invalid JSON"));
    let rows = json_lines(&out);
    assert_eq!(rows[0]["id"], "A-1");
    assert_eq!(rows[0]["label"], "task");
    assert_eq!(rows[1]["id"], "2");
    assert_eq!(rows[1]["label"], "story");
}

#[test]
fn eval_json_has_the_documented_keys() {
    let dir = std::env::temp_dir().join(format!("storylens-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("eval.jsonl");
    std::fs::write(
        &path,
        concat!(
            "{\"text\": \"Upgrade the web framework to the next major version\", \"label\": \"task\", \"form\": \"free\"}\n",
            "{\"text\": \"As a traveller, I want to see my boarding pass offline\", \"label\": \"story\", \"form\": \"template\"}\n",
            "{\"text\": \"As a developer, I want to containerise the build agents\", \"label\": \"task\", \"form\": \"template\"}\n",
        ),
    )
    .unwrap();
    let out = storylens(&["eval", "--data", path.to_str().unwrap(), "--json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.trim().lines().count(), 1, "exactly one JSON object");
    let v: Value = serde_json::from_str(&text).unwrap();
    for key in [
        "accuracy",
        "macro_f1",
        "per_class",
        "confusion",
        "by_form",
        "n",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["n"], 3);
    assert_eq!(v["by_form"]["template"]["n"], 2);
    assert_eq!(v["accuracy"], 1.0);
}

#[test]
fn missing_model_names_the_setup_command() {
    let nowhere = std::env::temp_dir().join("storylens-no-models");
    let nowhere = nowhere.to_str().unwrap();
    let out = storylens_env(
        &["--hub-cache", nowhere, "classify", "x"],
        None,
        &[("HF_HOME", nowhere), ("HF_HUB_CACHE", nowhere)],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("scripts/fetch-models"), "{err}");
    assert!(
        err.contains("model.safetensors") || err.contains("config.json"),
        "{err}"
    );
}

#[test]
fn bad_settings_are_refused_at_start() {
    // An empty key would turn authentication off without a word.
    let out = storylens(&["serve", "--api-key", "", "--port", "0"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty"));
    // Positions past the model's table would fail every batch holding a long item.
    let out = storylens(
        &["--max-tokens", "1000", "classify", "Upgrade angular"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("512 positions"));
    // A model directory that is not there is named, not silently skipped.
    let out = storylens(
        &["--model-dir", "/nonexistent/dir", "classify", "x y"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such directory"));
}

#[test]
fn an_endless_line_is_an_error_not_an_allocation() {
    let zeros = vec![0u8; 3 << 20];
    let out = storylens(&["classify"], Some(&zeros));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stdin:1: line is longer"));
}

/// A closed stderr (`2>&-`) once made the CLI panic (exit 101) on its first message; the error
/// is now lost quietly and the exit code still tells it.
#[test]
fn a_closed_stderr_is_not_a_panic() {
    let run = |item: &str| {
        Command::new("sh")
            .args(["-c", "exec \"$0\" classify \"$1\" 2>&-"])
            .arg(env!("CARGO_BIN_EXE_storylens"))
            .arg(item)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run sh")
    };
    let bad = run("");
    assert_eq!(
        bad.status.code(),
        Some(1),
        "an empty item is an input error"
    );
    let good = run("Upgrade eslint to v9");
    assert_eq!(good.status.code(), Some(0));
    assert_eq!(json_lines(&good)[0]["label"], "task");
}

#[test]
fn lint_annotates_findings_with_file_and_line_and_fails_as_asked() {
    let dir = std::env::temp_dir().join(format!("storylens-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("backlog.txt");
    std::fs::write(
        &file,
        "As a shopper, I want to save items to a wishlist so that I can buy them later\n\
         As a developer, I want to create a database table for wishlist items\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = storylens(
        &["lint", "--format", "github", "--fail-on", "warning", path],
        None,
    );
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    let disguised = text
        .lines()
        .find(|l| l.contains("title=disguised-task"))
        .unwrap_or_else(|| panic!("no disguised-task annotation:\n{text}"));
    assert!(disguised.starts_with("::"), "{disguised}");
    assert!(disguised.contains(",line=2,"), "{disguised}");
    assert!(!text.contains("line=1,title=disguised-task"), "{text}");

    let out = storylens(
        &["lint", "--format", "sarif", "--fail-on", "never", path],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "disguised-task"
        && r["locations"][0]["physicalLocation"]["region"]["startLine"] == 2));

    // Stdin works too, and an unreadable row fails the run whatever --fail-on says.
    let out = storylens(
        &["lint", "--format", "json", "--fail-on", "never", "-"],
        Some(b"{\"title\": \"Let players pause the game\"}\n{\"title\": 5}\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["items"], 1);
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "unreadable-row" && f["line"] == 2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_measures_each_batch_size_and_precision() {
    let dir = std::env::temp_dir().join(format!("storylens-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("items.txt");
    std::fs::write(
        &file,
        "Upgrade the build to Node 22\nLet shoppers filter results by price\n{\"title\": \"Refactor the billing module\"}\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = storylens(
        &[
            "bench",
            "--input",
            path,
            "--batch",
            "1,4",
            "--seconds",
            "0.2",
            "--precisions",
            "int8,f32",
            "--json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One JSON object per precision, in the order asked.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let objects: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 2, "{stdout}");
    for (v, precision) in objects.iter().zip(["int8", "f32"]) {
        assert_eq!(v["precision"], precision);
        assert_eq!(v["items"], 3);
        let results = v["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[1]["batch"], 4);
        assert!(results
            .iter()
            .all(|r| r["items_per_s"].as_f64().unwrap() > 0.0
                && r["p50_ms"].as_f64().unwrap() <= r["p99_ms"].as_f64().unwrap()));
    }
    let out = storylens(&["bench", "--input", path, "--batch", "0"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--batch sizes must be at least 1"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn train_with_feedback_checks_the_rows_before_training() {
    let dir = std::env::temp_dir().join(format!("storylens-fb-train-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("feedback.jsonl");
    std::fs::write(&bad, "{\"text\": \"Upgrade the build\", \"label\": \"task\"}\n{\"text\": \"x\", \"label\": \"maybe\"}\n").unwrap();
    let out = storylens(
        &[
            "train",
            "--with-feedback",
            bad.to_str().unwrap(),
            "--out",
            dir.join("model").to_str().unwrap(),
        ],
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("feedback.jsonl:2"), "{err}");
    assert!(!dir.join("model").join("classifier.safetensors").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rewrite_reads_the_same_inputs_as_classify() {
    let dir = std::env::temp_dir().join(format!("storylens-rewrite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("items.jsonl");
    std::fs::write(
        &path,
        "{\"id\": \"T-7\", \"title\": \"Bump the logging library to 2.1\", \"description\": \"The old version is end of life.\"}\n\n{\"title\": 5}\n",
    )
    .unwrap();
    let out = storylens(&["rewrite", "--input", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1), "a bad row makes a partial run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("items.jsonl:3:"), "{stderr}");
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], "T-7");
    assert_eq!(rows[0]["disposition"], "keep-task");
    assert_eq!(rows[0]["label"], "task");
    // The same item through classify gets the same label.
    let classified = storylens(&["classify", "--input", path.to_str().unwrap()], None);
    assert_eq!(json_lines(&classified)[0]["label"], rows[0]["label"]);

    let out = storylens(&["rewrite"], Some(b"Bump the logging library to 2.1\n  \n"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stdin:2: the text is empty"), "{stderr}");
    assert_eq!(json_lines(&out).len(), 1);
}
