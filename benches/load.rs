//! Load benchmark of `storylens serve`: starts the server in-process on a free loopback port with
//! the real model, then drives it with single-item requests (and 32-item requests) drawn from
//! realistic items at concurrency 1, 8 and 64 for a fixed time each, and prints items/s and
//! p50/p99 latency per level.
//!
//! Run: `cargo bench --bench load` (env LOAD_SECONDS sets seconds per level, default 10).

use std::sync::Arc;
use std::time::{Duration, Instant};

use storylens::http::ServeArgs;
use storylens::model::Model;

mod common;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Level {
    concurrency: usize,
    per_request: usize,
    items_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: usize,
    requests: usize,
}

async fn drive(
    url: &str,
    items: Arc<Vec<String>>,
    concurrency: usize,
    per_request: usize,
    secs: f64,
) -> Level {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (client, url, items) = (client.clone(), url.to_string(), Arc::clone(&items));
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors, mut n) = (Vec::new(), 0usize, worker * 7919);
            while Instant::now() < deadline {
                let batch: Vec<_> = (0..per_request)
                    .map(|_| {
                        n += 1;
                        serde_json::json!({"title": items[n % items.len()]})
                    })
                    .collect();
                let started = Instant::now();
                let resp = client
                    .post(&url)
                    .json(&serde_json::json!({"items": batch}))
                    .send()
                    .await;
                match resp {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(started.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let started = Instant::now();
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        lat.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64().max(secs);
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Level {
        concurrency,
        per_request,
        items_per_s: (lat.len() * per_request) as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        errors,
        requests: lat.len(),
    }
}

fn main() {
    // `cargo bench` passes --bench; nothing else to parse.
    let secs: f64 = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let port = free_port();
    // The service's own defaults, except: no result cache (every item goes through the model)
    // and classification only (no refiner loaded).
    let args = ServeArgs {
        port,
        cache_size: 0,
        rewrite: storylens::http::RewriteServeArgs {
            rewrite_workers: 0,
            ..Default::default()
        },
        ..Default::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.spawn(async move {
        let analyzer =
            storylens::analysis::Analyzer::new(storylens::analysis::Terms::load(None).unwrap());
        storylens::http::server::serve(
            &args,
            analyzer,
            storylens::service::TextPolicy::default(),
            || Ok(Arc::new(common::classifier()) as Arc<dyn Model>),
            None,
        )
        .await
        .expect("server");
    });
    let base = format!("http://127.0.0.1:{port}");
    let items = Arc::new(common::valid_items(None));
    runtime.block_on(async {
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(r) = client.get(format!("{base}/health")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!("load: {secs} s per level, 1 model worker, result cache off, items from training-data/valid.jsonl");
        println!("| items/request | concurrency | requests | items/s | p50 ms | p99 ms | errors |");
        println!("|---|---|---|---|---|---|---|");
        for per_request in [1usize, 32] {
            for concurrency in [1usize, 8, 64] {
                let l = drive(&format!("{base}/v1/classify"), Arc::clone(&items), concurrency, per_request, secs).await;
                println!(
                    "| {} | {} | {} | {:.0} | {:.1} | {:.1} | {} |",
                    l.per_request, l.concurrency, l.requests, l.items_per_s, l.p50_ms, l.p99_ms, l.errors
                );
            }
        }
    });
}
