//! End-to-end tests of `storylens serve` with the real model on a random port.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod support;

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(extra: &[&str]) -> Self {
        // Classification tests do not need the refiner; rewrite tests turn it on.
        let refiner: &[&str] = if extra.contains(&"--rewrite-workers") {
            &[]
        } else {
            &["--rewrite-workers", "0"]
        };
        let (child, base) = support::spawn_serve(&[refiner, extra].concat(), &[]);
        let server = Self { child, base };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let client = reqwest::blocking::Client::new();
        while Instant::now() < deadline {
            if let Ok(r) = client.get(format!("{}/health", self.base)).send() {
                if r.status() == 200 {
                    return;
                }
                assert_eq!(r.status(), 503, "health before ready is 503");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("server not ready in time");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Waits until the counter `name` on /metrics reaches `at_least`.
    /// The refiner loads after classification is ready; /info says when rewrites serve.
    fn wait_for_rewrites(&self) {
        let client = reqwest::blocking::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let info: Value = client
                .get(self.url("/info"))
                .send()
                .unwrap()
                .json()
                .unwrap();
            if info["rewrite_ready"] == json!(true) {
                return;
            }
            assert!(Instant::now() < deadline, "rewriter not ready in time");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn wait_for_counter(&self, name: &str, at_least: f64) {
        let client = reqwest::blocking::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = client
                .get(self.url("/metrics"))
                .send()
                .and_then(|r| r.text())
                .unwrap_or_default();
            let value = text
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().last())
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
            if value >= at_least {
                return;
            }
            assert!(Instant::now() < deadline, "{name} stayed at {value}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn items(n: usize, offset: usize) -> Value {
    let texts = [
        "Upgrade the payment SDK to version 5",
        "As a shopper, I want to save items to a wishlist",
        "Refactor the notification service into modules",
        "Let patients book appointments online",
    ];
    let v: Vec<Value> = (0..n)
        .map(|i| json!({"id": format!("{}", offset + i), "title": texts[(offset + i) % 4]}))
        .collect();
    json!({ "items": v })
}

#[test]
fn concurrent_clients_get_correct_ordered_results() {
    let server = Server::start(&[]);
    let handles: Vec<_> = (0..8)
        .map(|c| {
            let url = server.url("/v1/classify");
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::new();
                for round in 0..5 {
                    let offset = c * 100 + round * 10;
                    let resp = client.post(&url).json(&items(7, offset)).send().unwrap();
                    assert_eq!(resp.status(), 200);
                    let v: Value = resp.json().unwrap();
                    let results = v["results"].as_array().unwrap();
                    assert_eq!(results.len(), 7);
                    for (i, r) in results.iter().enumerate() {
                        assert_eq!(r["id"], format!("{}", offset + i));
                        let want = if (offset + i) % 2 == 0 {
                            "task"
                        } else {
                            "story"
                        };
                        assert_eq!(r["label"], want, "{r}");
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let metrics = reqwest::blocking::get(server.url("/metrics"))
        .unwrap()
        .text()
        .unwrap();
    assert!(metrics.contains("storylens_requests_total"));
    assert!(server.terminate().success());
}

#[test]
fn bad_inputs_huge_requests_and_huge_text() {
    let server = Server::start(&["--max-items-per-request", "1000"]);
    let client = reqwest::blocking::Client::new();
    let url = server.url("/v1/classify");
    let r = client.post(&url).json(&items(10_000, 0)).send().unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<Value>().unwrap()["code"], "too_large");
    let big = "As a reader, I want larger fonts. ".repeat(30_000); // ~1 MB
    let r = client
        .post(&url)
        .json(&json!({"items": [{"title": big}]}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["results"][0]["truncated"], true);
    let r = client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"items\": [")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().unwrap()["code"], "invalid_json");
    let r = client
        .post(&url)
        .json(&json!({"items": [{"title": " "}]}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("items[0].title"));
    // Still healthy afterwards.
    assert_eq!(
        client.get(server.url("/health")).send().unwrap().status(),
        200
    );
}

#[test]
fn overload_gets_429_and_the_server_recovers() {
    let server = Server::start(&["--max-queued-items", "64", "--cache-size", "0"]);
    let handles: Vec<_> = (0..24)
        .map(|c| {
            let url = server.url("/v1/classify");
            std::thread::spawn(move || {
                reqwest::blocking::Client::new()
                    .post(&url)
                    .json(&items(32, c * 32))
                    .send()
                    .map(|r| (r.status().as_u16(), r.headers().contains_key("retry-after")))
                    .unwrap()
            })
        })
        .collect();
    let statuses: Vec<(u16, bool)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(
        statuses.iter().all(|(s, _)| *s == 200 || *s == 429),
        "{statuses:?}"
    );
    assert!(statuses.iter().any(|(s, _)| *s == 429), "{statuses:?}");
    assert!(statuses
        .iter()
        .filter(|(s, _)| *s == 429)
        .all(|(_, retry)| *retry));
    assert!(statuses.iter().any(|(s, _)| *s == 200));
    let r = reqwest::blocking::Client::new()
        .post(server.url("/v1/classify"))
        .json(&items(3, 0))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn shutdown_under_load_answers_every_accepted_request() {
    let server = Server::start(&["--cache-size", "0"]);
    let handles: Vec<_> = (0..12)
        .map(|c| {
            let url = server.url("/v1/classify");
            std::thread::spawn(move || {
                let r = reqwest::blocking::Client::new()
                    .post(&url)
                    .json(&items(64, c * 64))
                    .send()
                    .unwrap();
                let status = r.status().as_u16();
                let v: Value = r.json().unwrap();
                (status, v["results"].as_array().map_or(0, |a| a.len()))
            })
        })
        .collect();
    // Once every request is admitted, ask the server to stop.
    server.wait_for_counter("storylens_items_admitted_total", 12.0 * 64.0);
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    for h in handles {
        assert_eq!(h.join().unwrap(), (200, 64));
    }
}

#[test]
fn rewrites_are_served_beside_classification_and_drained_on_shutdown() {
    let server = Server::start(&["--rewrite-workers", "1"]);
    let client = reqwest::blocking::Client::new();
    server.wait_for_rewrites();
    let url = server.url("/v1/rewrite");
    let rewrite = std::thread::spawn(move || {
        let r = reqwest::blocking::Client::new()
            .post(&url)
            .json(&json!({"items": [
                {"id": "T-1", "title": "Create a database table for wishlist items"},
                {"id": "T-2", "title": "Migrate the session store to the new cluster"}
            ]}))
            .send()
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap())
    });
    // Classification answers while the rewrite is being drafted.
    server.wait_for_counter("storylens_rewrites_admitted_total", 2.0);
    let r = client
        .post(server.url("/v1/classify"))
        .json(&items(4, 0))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // Stop while the rewrite is in flight: it is still answered.
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    let (status, v) = rewrite.join().unwrap();
    assert_eq!(status, 200, "{v}");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["id"], "T-1");
    assert_eq!(results[1]["id"], "T-2");
    for r in results {
        assert_eq!(r["disposition"], "keep-task", "{r}");
        assert_eq!(r["story"], Value::Null, "{r}");
    }
    assert_eq!(
        results[0]["task"],
        "Create a database table for wishlist items"
    );
}

/// Label, confidence (4 places), quality and finding codes of one answer, whichever door gave it.
fn answer(v: &Value) -> (String, String, u64, Vec<String>) {
    let codes = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.get("code").unwrap_or(f).as_str().unwrap().to_string())
        .collect();
    (
        v["label"].as_str().unwrap().to_string(),
        format!("{:.4}", v["confidence"].as_f64().unwrap()),
        v["quality"].as_u64().unwrap(),
        codes,
    )
}

#[test]
fn the_same_item_gets_the_same_answer_through_every_door() {
    let rows = [
        json!({"id": "1", "title": "As a developer, I want to create a database table for wishlist items"}),
        json!({"id": "2", "text": "Let shoppers filter search results by price"}),
        json!({"number": 3, "title": "Export button does nothing", "body": "Clicking Export on Safari shows no dialog.\n\n```\nTypeError: x is undefined\n```"}),
        json!({"key": "J-4", "fields": {"summary": "Migrate the orders table", "issuetype": {"name": "Story"},
            "description": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Move it to the new schema before the release."}]}]}}}),
    ];
    let dir = std::env::temp_dir().join(format!("storylens-doors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("items.jsonl");
    let jsonl: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&file, &jsonl).unwrap();

    let run = |args: &[&str]| -> Vec<Value> {
        let out = Command::new(env!("CARGO_BIN_EXE_storylens"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let file_arg = file.to_str().unwrap();
    let classify: Vec<_> = run(&["classify", "--input", file_arg])
        .iter()
        .map(answer)
        .collect();
    let score: Vec<_> = run(&["score", "--quiet", file_arg])
        .iter()
        .map(answer)
        .collect();

    // The refiner classifies through the same core: its label and confidence are classify's.
    let label_of = |v: &Value| {
        (
            v["label"].as_str().unwrap().to_string(),
            format!("{:.4}", v["confidence"].as_f64().unwrap()),
        )
    };
    let refined: Vec<_> = run(&["rewrite", "--input", file_arg])
        .iter()
        .map(label_of)
        .collect();

    let server = Server::start(&["--rewrite-workers", "1"]);
    let client = reqwest::blocking::Client::new();
    let v: Value = client
        .post(server.url("/v1/classify"))
        .json(&json!({"items": rows}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let http: Vec<_> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(answer)
        .collect();
    let streamed = client
        .post(server.url("/v1/score"))
        .header("content-type", "application/x-ndjson")
        .body(jsonl)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let streamed: Vec<_> = streamed
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("summary").is_none())
        .map(|v| answer(&v))
        .collect();
    assert_eq!(classify.len(), 4);
    assert_eq!(classify[0].0, "task", "a disguised task: {classify:?}");
    assert_eq!(classify[1].0, "story", "{classify:?}");
    assert_eq!(classify, score, "classify vs score");
    assert_eq!(classify, http, "classify vs /v1/classify");
    assert_eq!(classify, streamed, "classify vs /v1/score");
    server.wait_for_rewrites();
    let v: Value = client
        .post(server.url("/v1/rewrite"))
        .json(&json!({"items": rows}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let served: Vec<_> = v["results"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(label_of)
        .collect();
    let labels: Vec<_> = classify
        .iter()
        .map(|a| (a.0.clone(), a.1.clone()))
        .collect();
    assert_eq!(labels, refined, "classify vs rewrite");
    assert_eq!(labels, served, "classify vs /v1/rewrite");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn half_sent_requests_neither_stall_the_server_nor_its_shutdown() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    let server = Server::start(&["--header-read-timeout", "1", "--max-connections", "32"]);
    let addr = server.base.trim_start_matches("http://").to_string();
    // More half-sent requests than the server takes connections.
    let mut held: Vec<TcpStream> = (0..100)
        .filter_map(|_| {
            let mut s = TcpStream::connect(&addr).ok()?;
            s.write_all(b"POST /v1/classify HTTP/1.1\r\nHost: x\r\n")
                .ok()?;
            Some(s)
        })
        .collect();
    assert!(!held.is_empty());
    // The header timeout frees their slots: /health answers while they are still held.
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let healthy = loop {
        if let Ok(r) = client.get(server.url("/health")).send() {
            break r.status() == 200;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(healthy, "/health never answered beside half-sent requests");
    // The server closed a half-sent request instead of waiting on it for ever.
    let s = &mut held[0];
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 256];
    let closed = s.read(&mut buf).is_ok();
    assert!(closed, "a half-sent request was held open");
    // A fresh half-sent request does not block shutdown.
    let mut late = TcpStream::connect(&addr).unwrap();
    late.write_all(b"GET /health HTTP/1.1\r\n").unwrap();
    let started = Instant::now();
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "shutdown waited on a half-sent request"
    );
}

#[test]
fn oversized_heads_get_the_json_error_over_a_real_socket() {
    let server = Server::start(&[]);
    let client = reqwest::blocking::Client::new();
    let expect = |resp: reqwest::blocking::Response, status: u16, code: &str| {
        assert_eq!(resp.status().as_u16(), status);
        let v: Value = resp.json().expect("a JSON error body");
        assert_eq!(v["code"], code, "{v}");
        assert!(!v["error"].as_str().unwrap_or("").is_empty(), "{v}");
    };
    let long = format!("/health?q={}", "a".repeat(20 * 1024));
    expect(
        client.get(server.url(&long)).send().unwrap(),
        414,
        "uri_too_long",
    );
    let mut many = client.get(server.url("/health"));
    for i in 0..80 {
        many = many.header(format!("x-extra-{i}"), "1");
    }
    expect(many.send().unwrap(), 431, "headers_too_large");
    let big = client
        .get(server.url("/health"))
        .header("x-big", "b".repeat(30 * 1024));
    expect(big.send().unwrap(), 431, "headers_too_large");
    // The connection and the server are fine afterwards.
    let ok = client.get(server.url("/health")).send().unwrap();
    assert_eq!(ok.status(), 200);
}
