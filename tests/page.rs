//! The page in a real browser: headless Chromium driven over WebDriver (`chromedriver`, from
//! Debian's `chromium-driver`), against the real server and models. Skipped, saying so, where
//! no chromedriver is installed; `.ci/run` installs it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod support;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(db: &Path) -> (Proc, String) {
    let (child, base) = support::spawn_serve(&["--db", db.to_str().unwrap()], &[]);
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let info: Value = client
            .get(format!("{base}/info"))
            .send()
            .and_then(|r| r.json())
            .unwrap_or_default();
        if info["rewrite_ready"] == true {
            break;
        }
        assert!(Instant::now() < deadline, "server not ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    (Proc(child), base)
}

/// A WebDriver session.
struct Browser {
    http: reqwest::blocking::Client,
    url: String,
    _driver: Proc,
}

impl Browser {
    fn start() -> Option<Self> {
        let driver = which("chromedriver")?;
        let chromium = which("chromium").or_else(|| which("chromium-browser"))?;
        let port = free_port();
        let profile =
            std::env::temp_dir().join(format!("storylens-chromium-{}", std::process::id()));
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000",
                // The machine has no network: background fetches would only be refused.
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-quic", "--no-first-run",
                format!("--user-data-dir={}", profile.display())]}}}});
        let v: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let id = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        Some(Self {
            http,
            url: format!("{base}/session/{id}"),
            _driver: Proc(child),
        })
    }

    fn call(&self, path: &str, body: Value) -> Value {
        let v: Value = self
            .http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert!(v["value"].get("error").is_none(), "{path}: {v}");
        v["value"].clone()
    }

    fn go(&self, url: &str) {
        self.call("/url", json!({ "url": url }));
    }

    fn find(&self, css: &str) -> String {
        let v = self.call("/element", json!({"using": "css selector", "value": css}));
        v.as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.call(&format!("/element/{e}/value"), json!({ "text": text }));
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        self.call(&format!("/element/{e}/click"), json!({}));
    }

    fn js(&self, script: &str) -> Value {
        self.call("/execute/sync", json!({"script": script, "args": []}))
    }

    fn wait(&self, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let v = self.js(script);
            if !v.is_null() && v != false {
                return v;
            }
            assert!(Instant::now() < deadline, "page never got to: {script}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.http.delete(&self.url).send();
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

#[test]
fn the_page_classifies_pasted_and_uploaded_items_and_records_feedback() {
    let Some(browser) = Browser::start() else {
        eprintln!(
            "no chromedriver/chromium installed: browser test skipped (.ci/run installs them)"
        );
        return;
    };
    let dir = std::env::temp_dir().join(format!("storylens-page-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_server, base) = serve(&dir.join("store.db"));
    browser.go(&base);

    // Paste three items: three rows with the right labels.
    browser.type_into(
        "#items",
        "As a shopper, I want to save items to a wishlist so that I can buy them later\nCreate a database table for wishlist items\nLet patients book appointments online",
    );
    browser.click("#run");
    browser.wait("return document.body.dataset.done === 'true'");
    let labels = browser
        .js("return [...document.querySelectorAll('#rows .item')].map(e => e.dataset.label)");
    assert_eq!(labels, json!(["story", "task", "story"]));

    // Accept a refinement: the feedback record exists.
    browser.js("document.querySelectorAll('#rows .item')[1].querySelector('button').click()");
    browser.wait("return [...document.querySelectorAll('.refine button')].some(b => b.textContent === 'Accept')");
    browser.js("[...document.querySelectorAll('.refine button')].find(b => b.textContent === 'Accept').click()");
    browser.wait(
        "return document.querySelector('.refine [role=status]').textContent.startsWith('Recorded')",
    );
    let stats: Value = reqwest::blocking::get(format!("{base}/v1/feedback/stats?project=web"))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(stats["total"], 1, "{stats}");

    // Upload a real backlog: every row appears and the bar reaches the end.
    let backlog = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora/user-story-backlogs/g04-recycling.txt");
    if let Ok(path) = backlog.canonicalize() {
        let lines = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count();
        browser.js("document.body.dataset.done = ''");
        browser.type_into("#file", path.to_str().unwrap());
        browser.click("#run");
        browser.wait("return document.body.dataset.done === 'true'");
        let rows = browser.js("return document.querySelectorAll('#rows .item').length");
        assert_eq!(rows, json!(lines));
        let bar =
            browser.js("const p = document.getElementById('progress'); return [p.value, p.max]");
        assert_eq!(bar[0], bar[1], "progress reaches 100 %");
        assert_eq!(bar[1], json!(lines));
    } else {
        eprintln!("{} not found: upload step skipped", backlog.display());
    }

    // Near-duplicates are grouped on the page, and the exported report is the server's
    // rendering of the same summary.
    browser.js("document.body.dataset.done = ''; document.getElementById('file').value = ''");
    browser.js("document.getElementById('items').value = ''");
    browser.type_into(
        "#items",
        "Let shoppers save products to a wishlist\nImport customer records from a CSV file\nAllow shoppers to save products to their wish list\nExport customer records to a CSV file",
    );
    browser.click("#run");
    browser.wait("return document.body.dataset.done === 'true'");
    let groups = browser.js("return [...document.querySelectorAll('#dups > li')].map(g => g.querySelectorAll('li').length)");
    assert_eq!(groups, json!([2]), "one group of the two wishlist items");
    let note = browser
        .js("return document.querySelectorAll('#rows .item')[2].querySelector('.dup').textContent");
    assert_eq!(note, json!("Near-duplicate of line 1"));
    let html = browser.js("return reportHtml()");
    let html = html.as_str().unwrap_or_default();
    assert!(
        html.contains("4</span> items scored") && html.contains("<h2>Near-duplicates</h2>"),
        "{html}"
    );

    // Phone width: no horizontal scroll.
    browser.call("/window/rect", json!({"width": 390, "height": 844}));
    let fits = browser.js("return document.documentElement.scrollWidth <= window.innerWidth");
    assert_eq!(
        fits,
        json!(true),
        "the page scrolls sideways at phone width"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
