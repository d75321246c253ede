//! The scoring core: every door (HTTP routes, CLI commands, the bulk scorer, the evaluator)
//! classifies through one [`Scorer`], so an item gets the same text read, the same cache, the
//! same queue and the same findings wherever it comes from. Transports only parse their input
//! and render the [`Scored`] results.

use std::sync::Arc;
use std::time::Duration;

use crate::analysis::{Analysis, Analyzer, ClassifyResult, Item};
use crate::batching::cache::{normalise, Cached, ResultCache};
use crate::batching::{BatchConfig, Batcher, Job};
use crate::model::{Encoded, Model, ModelInfo, Scores};

/// What the classifier reads of an item: the title, then, when the title is short, the start
/// of the description. A title of several words says what the item is; every token of a long
/// body costs model time and rarely changes the label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextPolicy {
    /// Characters of description prose read after a short title (0: titles only).
    pub description_chars: usize,
    /// Titles with fewer words than this are short.
    pub short_title_words: usize,
}

impl Default for TextPolicy {
    fn default() -> Self {
        Self {
            description_chars: crate::config::defaults::DESCRIPTION_CHARS,
            short_title_words: crate::config::defaults::SHORT_TITLE_WORDS,
        }
    }
}

impl TextPolicy {
    /// The text the classifier reads for `item`.
    pub fn text(&self, item: &Item) -> String {
        let short = item.title.split_whitespace().count() < self.short_title_words;
        item.model_text_with(if short { self.description_chars } else { 0 })
    }
}

/// One item's classification and analysis.
#[derive(Debug, Clone)]
pub struct Scored {
    /// The model's own scores; the reported ones (after the definition rules) are
    /// `analysis.scores`.
    pub scores: Scores,
    /// Whether the text was cut to the model's token limit.
    pub truncated: bool,
    pub analysis: Analysis,
    /// The pooled features the refinement heads read, when asked for
    /// ([`Scorer::score_features_blocking`]).
    pub features: Option<Arc<[f32]>>,
}

impl Scored {
    /// The report every interface gives for an item.
    pub fn result(&self, id: Option<String>) -> ClassifyResult {
        ClassifyResult::new(id, self.truncated, self.analysis.clone())
    }
}

/// A scored request: one outcome per item, in order, and the slowest item's timings.
#[derive(Debug)]
pub struct Scoring {
    pub results: Vec<crate::Result<Scored>>,
    pub queue_time: Duration,
    pub inference_time: Duration,
}

/// How a request enters a full queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// All at once or refused (429): interactive requests.
    Now,
    /// Wait for room, in pieces the queue can hold: streams and bulk work.
    Wait,
}

/// The scoring core. Share it behind an `Arc`.
pub struct Scorer {
    model: Arc<dyn Model>,
    batcher: Arc<Batcher>,
    cache: ResultCache,
    analyzer: Analyzer,
    policy: TextPolicy,
}

/// An item's text, ready for the queue or already answered.
enum Prepared {
    Answered(Cached),
    Encoded(String, Encoded),
    Failed(crate::Error),
}

impl Scorer {
    /// A scorer over `model`, starting `batcher`'s workers on it.
    pub fn new(
        model: Arc<dyn Model>,
        batcher: Arc<Batcher>,
        analyzer: Analyzer,
        cache_size: usize,
        policy: TextPolicy,
    ) -> Self {
        batcher.start(Arc::clone(&model));
        Self {
            model,
            batcher,
            cache: ResultCache::new(cache_size),
            analyzer,
            policy,
        }
    }

    /// A scorer with a batcher of its own, for commands: batches of `batch_size` items on one
    /// worker, no cache (a command reads each item once).
    pub fn standalone(
        model: Arc<dyn Model>,
        analyzer: Analyzer,
        policy: TextPolicy,
        batch_size: usize,
    ) -> Self {
        let batcher = Arc::new(Batcher::new(BatchConfig {
            max_batch_tokens: batch_size.max(1) * model.info().max_tokens,
            max_batch_items: batch_size.max(1),
            max_queued_items: batch_size.max(1) * 4,
            workers: 1,
        }));
        Self::new(model, batcher, analyzer, 0, policy)
    }

    /// Names and versions of the model.
    pub fn info(&self) -> &ModelInfo {
        self.model.info()
    }

    /// The findings analyser every result is built with.
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// The batcher (limits, depth, shutdown).
    pub fn batcher(&self) -> &Arc<Batcher> {
        &self.batcher
    }

    /// The text the classifier reads for `item`.
    pub fn text(&self, item: &Item) -> String {
        self.policy.text(item)
    }

    /// Scores items from async code: tokenizing goes to the blocking pool and the model to the
    /// batcher's threads; `timeout` bounds the wait for the model (`Error::Timeout`).
    pub async fn score(
        self: &Arc<Self>,
        items: Arc<Vec<Item>>,
        admission: Admission,
        timeout: Duration,
    ) -> crate::Result<Scoring> {
        let this = Arc::clone(self);
        let prepared = {
            let items = Arc::clone(&items);
            tokio::task::spawn_blocking(move || this.prepare(&items, false))
                .await
                .map_err(|e| crate::Error::Internal(format!("tokenizer task: {e}")))?
        };
        let (jobs, slots) = pending(&prepared, false);
        let mut replies = Vec::with_capacity(jobs.len());
        match admission {
            Admission::Now => replies.extend(self.batcher.submit_or_overloaded(jobs)?),
            Admission::Wait => {
                for piece in pieces(jobs, self.batcher.config().max_queued_items) {
                    replies.extend(self.batcher.submit_when_room(piece).await?);
                }
            }
        }
        let answers = tokio::time::timeout(timeout, async {
            let mut out = Vec::with_capacity(replies.len());
            for rx in replies {
                out.push(rx.await);
            }
            out
        })
        .await
        .map_err(|_| crate::Error::Timeout(timeout.as_millis() as u64))?;
        Ok(self.finish(&items, prepared, slots, answers))
    }

    /// Scores items from a thread outside the async runtime (commands), waiting for room.
    pub fn score_blocking(&self, items: &[Item]) -> crate::Result<Scoring> {
        self.blocking(items, false)
    }

    /// [`Scorer::score_blocking`] with each item's pooled features, for the refiner: its heads
    /// read the vector the classification head reads, so a refinement goes through the same
    /// text policy, cache and queue as a classification, and gets the same label.
    pub fn score_features_blocking(&self, items: &[Item]) -> crate::Result<Scoring> {
        self.blocking(items, true)
    }

    fn blocking(&self, items: &[Item], features: bool) -> crate::Result<Scoring> {
        let prepared = self.prepare(items, features);
        let (jobs, slots) = pending(&prepared, features);
        let mut answers = Vec::with_capacity(jobs.len());
        for piece in pieces(jobs, self.batcher.config().max_queued_items) {
            let replies = self.batcher.submit_blocking(piece)?;
            answers.extend(replies.into_iter().map(|r| r.blocking_recv()));
        }
        Ok(self.finish(items, prepared, slots, answers))
    }

    /// Unit-length sentence embeddings of texts, for near-duplicate grouping, on the calling
    /// thread (commands).
    pub fn embed_blocking(&self, texts: &[String]) -> crate::Result<Vec<Vec<f32>>> {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        self.model.embed_texts(&refs)
    }

    /// [`Scorer::embed_blocking`] from async code, on the blocking pool.
    pub async fn embed(self: &Arc<Self>, texts: Vec<String>) -> crate::Result<Vec<Vec<f32>>> {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || this.embed_blocking(&texts))
            .await
            .map_err(|e| crate::Error::Internal(format!("embedding task: {e}")))?
    }

    /// Texts, cache lookups and tokenizing: CPU work, off the async runtime.
    fn prepare(&self, items: &[Item], features: bool) -> Vec<Prepared> {
        items
            .iter()
            .map(|item| {
                let text = self.text(item);
                let key = normalise(&text);
                if let Some(hit) = self.cache.get(&key, features) {
                    return Prepared::Answered(hit);
                }
                match self.model.tokenize(&text) {
                    Ok(e) => Prepared::Encoded(key, e),
                    Err(e) => Prepared::Failed(e),
                }
            })
            .collect()
    }

    /// Results in item order, the new answers cached.
    fn finish(
        &self,
        items: &[Item],
        prepared: Vec<Prepared>,
        slots: Vec<usize>,
        answers: Vec<
            Result<
                crate::Result<crate::batching::Done<crate::batching::Prediction>>,
                tokio::sync::oneshot::error::RecvError,
            >,
        >,
    ) -> Scoring {
        let mut queue_time = Duration::ZERO;
        let mut inference_time = Duration::ZERO;
        let mut outcomes: Vec<Option<crate::Result<Cached>>> = prepared
            .iter()
            .map(|p| match p {
                Prepared::Answered(c) => Some(Ok(c.clone())),
                _ => None,
            })
            .collect();
        for (slot, answer) in slots.into_iter().zip(answers) {
            let Prepared::Encoded(key, encoded) = &prepared[slot] else {
                unreachable!("only encoded items are queued")
            };
            let outcome = match answer {
                Ok(Ok(done)) => {
                    queue_time = queue_time.max(done.queue_time);
                    inference_time = inference_time.max(done.run_time);
                    let cached = Cached {
                        scores: done.output.scores,
                        truncated: encoded.truncated,
                        features: done.output.features.map(Arc::from),
                    };
                    self.cache.put(key.clone(), cached.clone());
                    Ok(cached)
                }
                Ok(Err(e)) => Err(e),
                Err(_) => Err(crate::Error::Internal("model worker stopped".into())),
            };
            outcomes[slot] = Some(outcome);
        }
        let results = prepared
            .into_iter()
            .zip(outcomes)
            .zip(items)
            .map(|((p, outcome), item)| {
                let cached = match (p, outcome) {
                    (Prepared::Failed(e), _) => return Err(e),
                    (_, Some(o)) => o?,
                    (_, None) => return Err(crate::Error::Internal("item not answered".into())),
                };
                Ok(Scored {
                    scores: cached.scores,
                    truncated: cached.truncated,
                    analysis: self.analyzer.analyze(item, cached.scores),
                    features: cached.features,
                })
            })
            .collect();
        Scoring {
            results,
            queue_time,
            inference_time,
        }
    }
}

/// The jobs to queue and the item index of each.
fn pending(prepared: &[Prepared], features: bool) -> (Vec<Job>, Vec<usize>) {
    prepared
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match p {
            Prepared::Encoded(_, e) => Some((
                Job {
                    encoded: e.clone(),
                    features,
                },
                i,
            )),
            _ => None,
        })
        .unzip()
}

/// Splits jobs into pieces a queue of `capacity` can hold.
fn pieces(jobs: Vec<Job>, capacity: usize) -> Vec<Vec<Job>> {
    let capacity = capacity.max(1);
    let mut out = Vec::with_capacity(jobs.len().div_ceil(capacity));
    let mut jobs = jobs.into_iter().peekable();
    while jobs.peek().is_some() {
        out.push(jobs.by_ref().take(capacity).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Terms;
    use crate::model::fake::FakeModel;

    fn scorer(capacity: usize) -> Arc<Scorer> {
        cached_scorer(capacity, 0)
    }

    fn cached_scorer(capacity: usize, cache: usize) -> Arc<Scorer> {
        let batcher = Arc::new(Batcher::new(BatchConfig {
            max_batch_tokens: 1024,
            max_batch_items: 4,
            max_queued_items: capacity,
            workers: 1,
        }));
        Arc::new(Scorer::new(
            Arc::new(FakeModel::new(32)),
            batcher,
            Analyzer::new(Terms::load(None).unwrap()),
            cache,
            TextPolicy::default(),
        ))
    }

    fn items() -> Vec<Item> {
        [
            "As a shopper, I want to save items to a wishlist",
            "Upgrade the build to the latest toolchain",
            "\u{200b}\u{200b}",
            "Refactor the billing module",
            "Show a progress bar while the upload runs",
        ]
        .into_iter()
        .map(Item::from_text)
        .collect()
    }

    fn labels(s: &Scoring) -> Vec<Result<crate::model::Label, String>> {
        s.results
            .iter()
            .map(|r| {
                r.as_ref()
                    .map(|s| s.scores.label())
                    .map_err(|e| e.to_string())
            })
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn async_and_blocking_paths_agree_and_a_bad_item_fails_alone() {
        let s = scorer(2);
        let items = items();
        let waited = s
            .score(
                Arc::new(items.clone()),
                Admission::Wait,
                Duration::from_secs(5),
            )
            .await
            .unwrap();
        let blocking = {
            let s = Arc::clone(&s);
            let items = items.clone();
            tokio::task::spawn_blocking(move || s.score_blocking(&items))
                .await
                .unwrap()
                .unwrap()
        };
        assert_eq!(labels(&waited), labels(&blocking));
        assert!(
            waited.results[2].is_err(),
            "an item with no letters is refused"
        );
        assert_eq!(waited.results.iter().filter(|r| r.is_ok()).count(), 4);
        // Four items to queue, capacity two: all at once is too large, never retryable.
        let err = scorer(2)
            .score(Arc::new(items), Admission::Now, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(err, crate::Error::TooLarge(_)), "{err}");
    }

    #[test]
    fn features_come_through_the_queue_and_the_cache_with_the_same_answer() {
        let s = cached_scorer(8, 16);
        let items = items();
        let plain = s.score_blocking(&items).unwrap();
        assert_eq!(s.batcher().admitted(), 4, "four items with letters");
        assert!(plain.results[0].as_ref().unwrap().features.is_none());
        // Cached without features: the refiner's request still goes to the model.
        let with = s.score_features_blocking(&items).unwrap();
        assert_eq!(s.batcher().admitted(), 8);
        assert_eq!(labels(&plain), labels(&with));
        let f = with.results[1].as_ref().unwrap().features.clone().unwrap();
        assert_eq!(&f[..], &[7.0, 1.0], "7 tokens, one a task word");
        // Now both kinds of request are answered from the cache.
        let again = s.score_features_blocking(&items[..2]).unwrap();
        s.score_blocking(&items[..2]).unwrap();
        assert_eq!(
            s.batcher().admitted(),
            8,
            "cache hits never reach the queue"
        );
        assert_eq!(
            again.results[1].as_ref().unwrap().features.as_deref(),
            Some(&f[..])
        );
    }

    #[test]
    fn pieces_cover_every_job_within_capacity() {
        let jobs: Vec<Job> = (0..7)
            .map(|_| FakeModel::new(8).tokenize("some words").unwrap().into())
            .collect();
        let p = pieces(jobs, 3);
        assert_eq!(p.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 3, 1]);
    }
}
