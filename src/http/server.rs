//! Running the server: bind, load the model in the background (health says 503 until a warm-up
//! batch passes), serve, and on SIGTERM/SIGINT stop accepting, answer everything accepted, exit.

use std::sync::Arc;

use tokio::net::TcpListener;

use super::state::AppState;
use super::{router, ServeArgs};
use crate::analysis::rewrite::RewriteEngine;
use crate::batching::{Batcher, RewriteQueue};
use crate::model::Model;
use crate::service::{Admission, Scorer, TextPolicy};

/// Builds the rewriter on a blocking thread, on the scoring core, once classification is
/// serving.
pub type RewriterLoader =
    Box<dyn FnOnce(Arc<Scorer>) -> crate::Result<Arc<dyn RewriteEngine>> + Send + 'static>;

/// Serves until a shutdown signal. `load` builds the model on a blocking thread; `rewriter`,
/// when given, builds the rewriter once classification is ready.
pub async fn serve<F>(
    args: &ServeArgs,
    analyzer: crate::analysis::Analyzer,
    policy: TextPolicy,
    load: F,
    rewriter: Option<RewriterLoader>,
) -> anyhow::Result<()>
where
    F: FnOnce() -> crate::Result<Arc<dyn Model>> + Send + 'static,
{
    let batcher = Arc::new(Batcher::new(args.batch_config()));
    let rewrites = Arc::new(RewriteQueue::new(args.rewrite.max_queued_rewrites));
    let mut state = AppState::new(
        Arc::clone(&batcher),
        args.limits(),
        args.api_key.clone(),
        args.cache_size,
    )
    .with_analyzer(analyzer)
    .with_text_policy(policy)
    .with_rewrite_queue(Arc::clone(&rewrites));
    if let Some(url) = args.store_url() {
        let store = crate::store::Store::open(&url)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if let Some(secret) = &args.github_webhook_secret {
            state = state.with_github(super::webhooks::GitHubHook {
                secret: secret.as_bytes().to_vec(),
                api: crate::tracker::github::GitHubApi {
                    base_url: args.github_api_url.clone(),
                    token: args.github_token.clone(),
                    labels: args
                        .github_labels
                        .as_deref()
                        .map(crate::tracker::github::parse_labels)
                        .transpose()
                        .map_err(anyhow::Error::msg)?
                        .unwrap_or_default(),
                    retry: crate::tracker::retry::RetryPolicy {
                        max_attempts: args.github_attempts,
                        ..crate::tracker::github::default_retry()
                    },
                },
                client: reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(30))
                    .build()?,
                store: store.clone(),
            });
        }
        let jira_auth = match (&args.jira_webhook_secret, &args.jira_webhook_token) {
            (Some(s), _) => Some(crate::tracker::jira::JiraAuth::Secret(
                s.as_bytes().to_vec(),
            )),
            (None, Some(t)) => Some(crate::tracker::jira::JiraAuth::UrlToken(t.clone())),
            _ => None,
        };
        if let (Some(auth), Some(base_url)) = (jira_auth, &args.jira_url) {
            state = state.with_jira(super::jira_hook::JiraHook {
                auth,
                api: crate::tracker::jira::JiraApi {
                    base_url: base_url.clone(),
                    flavor: args.jira_flavor,
                    user: args.jira_user.clone(),
                    token: args.jira_token.clone(),
                    retry: crate::tracker::github::default_retry(),
                },
                client: reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(30))
                    .build()?,
                store: store.clone(),
            });
        }
        state = state.with_store(store);
    }
    let rewrite_workers = args.rewrite.rewrite_workers;
    let listener = TcpListener::bind((args.host.as_str(), args.port))
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}:{}: {e}", args.host, args.port))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening; loading model");
    eprintln!("storylens: listening on http://{addr}");

    // A model that fails to load stops the server with that error instead of leaving it at 503.
    let failed: Arc<std::sync::Mutex<Option<anyhow::Error>>> = Arc::default();
    let failed_signal = Arc::new(tokio::sync::Notify::new());
    let loader_state = state.clone();
    let (fail_slot, fail_notify) = (Arc::clone(&failed), Arc::clone(&failed_signal));
    tokio::spawn(async move {
        let outcome = async {
            let model = tokio::task::spawn_blocking(load).await??;
            loader_state.install_model(model);
            warm_up(&loader_state).await?;
            loader_state.set_ready();
            tracing::info!("model ready");
            // Deliveries accepted before a restart are answered now.
            tokio::spawn(super::webhooks::resume(loader_state.clone()));
            if let Some(load_rewriter) = rewriter {
                let scorer = loader_state
                    .scorer
                    .get()
                    .cloned()
                    .ok_or_else(|| anyhow::anyhow!("no scoring core installed"))?;
                let engine = tokio::task::spawn_blocking(move || load_rewriter(scorer)).await??;
                loader_state.install_rewriter(engine, rewrite_workers);
                tracing::info!("rewriter ready");
            }
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = outcome {
            *fail_slot.lock().expect("failure slot") = Some(e.context("loading the model"));
            fail_notify.notify_one();
        }
    });

    let stop = async move {
        tokio::select! {
            _ = shutdown_signal() => {},
            _ = failed_signal.notified() => {},
        }
    };
    super::listen::serve(listener, router(state), args.connection_limits(), stop).await;
    // Every accepted request has been answered; let the workers finish and stop. Rewrites
    // first: they classify through the batcher.
    rewrites.shutdown();
    batcher.shutdown();
    let failure = failed.lock().expect("failure slot").take();
    failure.map_or(Ok(()), Err)
}

/// Runs one small batch through the whole path so the first real request pays no start-up cost.
async fn warm_up(state: &AppState) -> anyhow::Result<()> {
    let scorer = state
        .scorer
        .get()
        .ok_or_else(|| anyhow::anyhow!("warm-up: no model installed"))?;
    let items = [
        "As a shopper, I want to save items to a wishlist",
        "Upgrade the build to the latest toolchain",
    ]
    .map(crate::analysis::Item::from_text);
    let scoring = scorer
        .score(
            Arc::new(items.to_vec()),
            Admission::Now,
            state.limits.request_timeout,
        )
        .await
        .map_err(|e| anyhow::anyhow!("warm-up: {e}"))?;
    for r in scoring.results {
        r.map_err(|e| anyhow::anyhow!("warm-up batch failed: {e}"))?;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal: draining accepted requests");
}
