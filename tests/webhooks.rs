//! The GitHub webhook against a fake GitHub on loopback, and feedback that survives a SIGKILL:
//! the real binary, the real models, a SQLite store in a temporary folder.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

mod support;
#[path = "support/tracker.rs"]
mod tracker;
use tracker::{fake_github, Shared};

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(db: &Path, extra: &[&str]) -> Self {
        Self::start_on(&["--db", db.to_str().unwrap()], extra)
    }

    fn start_on(store: &[&str], extra: &[&str]) -> Self {
        let (child, base) =
            support::spawn_serve(&[store, extra].concat(), &[("GITHUB_TOKEN", "test-token")]);
        let server = Self { child, base };
        let client = reqwest::blocking::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Ok(r) = client.get(server.url("/info")).send() {
                let v: Value = r.json().unwrap_or_default();
                let wants_rewrites = !extra.windows(2).any(|w| w == ["--rewrite-workers", "0"]);
                let loaded =
                    !v["model"].is_null() && (!wants_rewrites || v["rewrite_ready"] == true);
                if loaded
                    && client
                        .get(server.url("/health"))
                        .send()
                        .is_ok_and(|r| r.status() == 200)
                {
                    return server;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("server not ready in time");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn kill(mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
        std::mem::forget(self);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("storylens-hooks-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const SECRET: &str = "It's a secret to everybody";

fn deliver(
    server: &Server,
    event: &str,
    delivery: &str,
    body: &Value,
    secret: &str,
) -> (u16, Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(&bytes);
    let sig = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let r = reqwest::blocking::Client::new()
        .post(server.url("/v1/webhooks/github"))
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", sig)
        .body(bytes)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

fn issue_event(action: &str, title: &str) -> Value {
    json!({
        "action": action,
        "issue": {"number": 7, "title": title, "body": "We need it for the wishlist feature."},
        "repository": {"full_name": "acme/shop"}
    })
}

/// Waits until the store holds none of `deliveries` unfinished: each accepted one has been
/// posted or has failed, so nothing more can reach the tracker for them.
fn settled(store_url: &str, deliveries: &[&str]) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = storylens::store::Store::open(store_url).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let pending = store.pending_deliveries("github").await.unwrap();
            if !pending
                .iter()
                .any(|(d, _)| deliveries.contains(&d.as_str()))
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "deliveries never finished: {pending:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
}

/// Waits until `done` holds for the fake's calls (the comment is posted after the 202).
fn wait_for(
    fake: &Shared,
    done: impl Fn(&[(String, String, Value)]) -> bool,
) -> Vec<(String, String, Value)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let calls = fake.lock().unwrap().calls.clone();
        if done(&calls) {
            return calls;
        }
        assert!(
            Instant::now() < deadline,
            "GitHub never got the expected calls: {calls:#?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn count(calls: &[(String, String, Value)], method: &str, suffix: &str) -> usize {
    calls
        .iter()
        .filter(|(m, p, _)| m == method && p.ends_with(suffix))
        .count()
}

#[test]
fn github_issues_get_one_comment_updated_on_edit_and_never_twice() {
    let dir = tempdir("github");
    let db = dir.join("store.db");
    let (api, fake) = fake_github();
    fake.lock().unwrap().fail_posts = 1; // the first post fails: it must be retried once
    let args = [
        "--github-webhook-secret",
        SECRET,
        "--github-api-url",
        api.as_str(),
        "--github-labels",
        "story=user-story,task=tech-task",
    ];
    let server = Server::start(&db, &args);

    // A wrong signature is refused and nothing reaches GitHub.
    let title = "As a developer, I want to create a database table for wishlist items";
    let (status, body) = deliver(
        &server,
        "issues",
        "d-bad",
        &issue_event("opened", title),
        "wrong",
    );
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "bad_signature");
    let (status, _) = deliver(&server, "ping", "d-ping", &json!({"zen": "hi"}), SECRET);
    assert_eq!(status, 200);
    let (status, body) = deliver(&server, "push", "d-push", &json!({}), SECRET);
    assert_eq!(status, 422, "{body}");
    let (status, body) = deliver(
        &server,
        "issues",
        "d-junk",
        &json!({"action": "opened"}),
        SECRET,
    );
    assert_eq!(status, 422, "{body}");

    // Opened: 202 at once, then exactly one comment (after one retried 500) and a label.
    let (status, body) = deliver(
        &server,
        "issues",
        "d-1",
        &issue_event("opened", title),
        SECRET,
    );
    assert_eq!(status, 202, "{body}");
    let calls = wait_for(&fake, |c| count(c, "POST", "/labels") == 1);
    assert_eq!(
        count(&calls, "POST", "/issues/7/comments"),
        2,
        "one 500, one retry"
    );
    let posted = &calls
        .iter()
        .rfind(|(m, p, _)| m == "POST" && p.ends_with("/issues/7/comments"))
        .unwrap()
        .2["body"];
    let posted = posted.as_str().unwrap();
    assert!(posted.contains("<!-- storylens:analysis -->"), "{posted}");
    assert!(posted.contains("technical task"), "{posted}");
    assert!(posted.contains("disguised-task"), "{posted}");
    assert!(posted.contains("Next step"), "{posted}");
    let label = calls
        .iter()
        .find(|(_, p, _)| p.ends_with("/labels"))
        .unwrap();
    assert_eq!(label.2["labels"], json!(["tech-task"]));

    // A replay of the same delivery posts nothing.
    let (status, body) = deliver(
        &server,
        "issues",
        "d-1",
        &issue_event("opened", title),
        SECRET,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["duplicate"], "d-1");

    // Edited: the same comment is updated, no second one.
    let edited = "Let shoppers save items to a wishlist so that they can buy them later";
    let (status, _) = deliver(
        &server,
        "issues",
        "d-2",
        &issue_event("edited", edited),
        SECRET,
    );
    assert_eq!(status, 202);
    let calls = wait_for(&fake, |c| count(c, "PATCH", "/issues/comments/1001") == 1);
    assert_eq!(
        count(&calls, "POST", "/issues/7/comments"),
        2,
        "no new comment"
    );

    // After a SIGKILL and a restart on the same store, the replay still posts nothing.
    server.kill();
    let server = Server::start(&db, &args);
    let (status, _) = deliver(
        &server,
        "issues",
        "d-1",
        &issue_event("opened", title),
        SECRET,
    );
    assert_eq!(status, 200);
    let (status, _) = deliver(
        &server,
        "issues",
        "d-2",
        &issue_event("edited", edited),
        SECRET,
    );
    assert_eq!(status, 200);
    settled(&format!("sqlite://{}", db.display()), &["d-1", "d-2"]);
    let calls = fake.lock().unwrap().calls.clone();
    // Never a second comment. An edit killed mid-way is resumed at the restart, so the one
    // comment may be updated again: updates are idempotent.
    assert_eq!(count(&calls, "POST", "/issues/7/comments"), 2);
    assert!(count(&calls, "PATCH", "/issues/comments/1001") >= 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn acknowledged_feedback_survives_a_sigkill() {
    let dir = tempdir("feedback");
    let db = dir.join("store.db");
    let server = Server::start(&db, &["--rewrite-workers", "0"]);
    let client = reqwest::blocking::Client::new();
    let (status, body) = {
        let r = client
            .post(server.url("/v1/feedback"))
            .json(&json!({"project": "P", "item_text": "x", "verdict": "maybe"}))
            .send()
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };
    assert_eq!(status, 422, "{body}");
    // Posts from four clients; the server is killed while they are still sending.
    let url = server.url("/v1/feedback");
    let acks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let senders: Vec<_> = (0..4)
        .map(|c| {
            let url = url.clone();
            let acks = std::sync::Arc::clone(&acks);
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::new();
                let mut acked = 0usize;
                for i in 0..250 {
                    let verdict = ["accept", "reject", "edit"][i % 3];
                    let r = client
                        .post(&url)
                        .json(&json!({
                            "project": "KILL",
                            "item_text": format!("item {c}-{i}"),
                            "suggested_label": "task",
                            "suggested_disposition": "keep-task",
                            "verdict": verdict
                        }))
                        .send();
                    match r {
                        Ok(r) if r.status() == 201 => {
                            acked += 1;
                            acks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        _ => break,
                    }
                }
                acked
            })
        })
        .collect();
    // Killed mid-stream: after some posts were acknowledged, long before all 1,000 are.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acks.load(std::sync::atomic::Ordering::SeqCst) < 40 {
        assert!(Instant::now() < deadline, "no posts acknowledged");
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill();
    let acked: usize = senders.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(acked > 0, "some posts were acknowledged before the kill");
    let server = Server::start(&db, &["--rewrite-workers", "0"]);
    let stats: Value = client
        .get(server.url("/v1/feedback/stats?project=KILL"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let kept = stats["total"].as_u64().unwrap() as usize;
    eprintln!("feedback: {acked} acknowledged before the SIGKILL, {kept} kept after the restart");
    assert!(kept >= acked, "{acked} acknowledged, {kept} kept");
    assert_eq!(stats["by_disposition"][0]["key"], "keep-task");
    // Another project sees none of them.
    let other: Value = client
        .get(server.url("/v1/feedback/stats?project=OTHER"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(other["total"], 0);
    let (status, body) = {
        let r = client.get(server.url("/v1/feedback/stats")).send().unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };
    assert_eq!(status, 422, "{body}");
    server.kill();
    // The kept records become training rows.
    let rows = dir.join("rows.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_storylens"))
        .args([
            "feedback",
            "export",
            "--db",
            db.to_str().unwrap(),
            "--project",
            "KILL",
            "--out",
        ])
        .arg(&rows)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = std::fs::read_to_string(&rows)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), kept);
    assert!(rows
        .iter()
        .all(|r| r["label"] == "task" || r["verdict"] == "reject"));
    assert!(rows
        .iter()
        .any(|r| r["label"] == "story" && r["verdict"] == "reject"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn jira_issues_get_one_comment_as_a_document_updated_on_edit() {
    let dir = tempdir("jira");
    let db = dir.join("store.db");
    let (api, fake) = fake_github();
    let server = Server::start(
        &db,
        &[
            "--jira-webhook-token",
            "tok3n",
            "--jira-url",
            api.as_str(),
            "--rewrite-workers",
            "0",
        ],
    );
    let client = reqwest::blocking::Client::new();
    let send = |token: &str, body: &Value| {
        let r = client
            .post(server.url(&format!("/v1/webhooks/jira?token={token}")))
            .json(body)
            .send()
            .unwrap();
        (
            r.status().as_u16(),
            r.json::<Value>().unwrap_or(Value::Null),
        )
    };
    let event = |kind: &str, summary: &str| {
        json!({"webhookEvent": kind, "issue": {"key": "SHOP-9", "fields": {
            "summary": summary,
            "issuetype": {"name": "Story"},
            "description": {"type": "doc", "version": 1, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "Needed before the sale."}]}]}
        }}})
    };
    let created = event(
        "jira:issue_created",
        "Migrate the orders table to the new schema",
    );
    let (status, _) = send("wrong", &created);
    assert_eq!(status, 401);
    let (status, body) = send(
        "tok3n",
        &json!({"webhookEvent": "jira:worklog_updated", "issue": {}}),
    );
    assert_eq!(status, 422, "{body}");
    let (status, body) = send("tok3n", &created);
    assert_eq!(status, 202, "{body}");
    let calls = wait_for(&fake, |c| count(c, "POST", "/issue/SHOP-9/comment") == 1);
    let doc = &calls[0].2["body"];
    assert_eq!(doc["type"], "doc", "Cloud comments are Atlassian documents");
    assert!(doc.to_string().contains("technical task"), "{doc}");
    // The same delivery again is a duplicate; an edit updates the one comment.
    let (status, body) = send("tok3n", &created);
    assert_eq!(status, 200, "{body}");
    let updated = event("jira:issue_updated", "Let shoppers see their order history");
    let (status, _) = send("tok3n", &updated);
    assert_eq!(status, 202);
    let calls = wait_for(&fake, |c| {
        count(c, "PUT", "/issue/SHOP-9/comment/10001") == 1
    });
    assert_eq!(count(&calls, "POST", "/issue/SHOP-9/comment"), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The PostgreSQL the CI started (`scripts/test-postgres`), if any.
fn postgres() -> Option<String> {
    let url = std::env::var("STORYLENS_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        eprintln!("STORYLENS_TEST_DATABASE_URL is not set: PostgreSQL test skipped (CI sets it)");
    }
    url
}

#[test]
fn two_replicas_on_one_postgres_post_one_comment_per_delivery() {
    let Some(url) = postgres() else { return };
    let (api, fake) = fake_github();
    let args = [
        "--github-webhook-secret",
        SECRET,
        "--github-api-url",
        api.as_str(),
        "--rewrite-workers",
        "0",
    ];
    let store = ["--database-url", url.as_str()];
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| Server::start_on(&store, &args));
        let b = s.spawn(|| Server::start_on(&store, &args));
        (a.join().unwrap(), b.join().unwrap())
    });
    // The database outlives test runs: a fresh issue and delivery each time.
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros();
    let delivery = format!("replicas-{stamp}");
    let mut event = issue_event("opened", "Upgrade the build to the latest toolchain");
    let number = (stamp % 1_000_000_000) as u64;
    event["issue"]["number"] = json!(number);
    let comments = format!("/issues/{number}/comments");
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let sa = s.spawn(|| deliver(&a, "issues", &delivery, &event, SECRET).0);
        let sb = s.spawn(|| deliver(&b, "issues", &delivery, &event, SECRET).0);
        vec![sa.join().unwrap(), sb.join().unwrap()]
    });
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        vec![200, 202],
        "one replica takes it, the other sees a duplicate"
    );
    wait_for(&fake, |c| count(c, "POST", &comments) == 1);
    settled(&url, &[delivery.as_str()]);
    assert_eq!(count(&fake.lock().unwrap().calls, "POST", &comments), 1);

    // The same query layer keeps feedback on PostgreSQL too.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = storylens::store::Store::open(&url).await.unwrap();
        let project = format!("pg-{}", std::process::id());
        let f = storylens::store::Feedback {
            project: project.clone(),
            item_id: None,
            item_text: "Upgrade the build".into(),
            suggested_label: Some("task".into()),
            suggested_disposition: Some("keep-task".into()),
            suggested_story: None,
            verdict: storylens::store::Verdict::Accept,
            corrected_label: None,
            corrected_text: None,
        };
        store.add_feedback(&f).await.unwrap();
        let stats = store.stats(&project).await.unwrap();
        assert_eq!(stats.total, 1);
        assert_eq!(stats.by_label[0].key, "task");
    });
}
