//! A tiny stand-in for the classifier, for tests of the layers above the model and for demos
//! without model files: words are tokens, and an item is a task when it names technical work.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::{Encoded, Model, ModelInfo, Scores};
use crate::Result;

/// Words that make the fake model answer `task`.
const TASK_WORDS: [&str; 8] = [
    "refactor",
    "upgrade",
    "migrate",
    "database",
    "ci",
    "server",
    "dependency",
    "spike",
];

/// Token id marking a task word; every other word is id 2.
const TASK_ID: u32 = 1;

/// The fake model.
pub struct FakeModel {
    info: ModelInfo,
    /// Time each batch takes, to exercise queueing and timeouts.
    pub delay: Duration,
    /// Holds every batch until a test opens it.
    pub gate: Option<Arc<Gate>>,
}

/// A test's hold on a fake's batches: it counts the batches that started and keeps each one
/// waiting until the test opens it, so a test can stage a queue (one batch running, others
/// waiting) without sleeping and hoping.
#[derive(Debug, Default)]
pub struct Gate {
    /// Batches started, and whether the gate is open.
    state: Mutex<(usize, bool)>,
    opened: Condvar,
}

impl Gate {
    /// A closed gate.
    pub fn closed() -> Arc<Self> {
        Arc::default()
    }

    /// Lets every waiting and later batch run.
    pub fn open(&self) {
        self.state.lock().expect("gate lock").1 = true;
        self.opened.notify_all();
    }

    /// Batches that have started (reached the gate).
    pub fn started(&self) -> usize {
        self.state.lock().expect("gate lock").0
    }

    /// Counts a batch and waits until the gate is open.
    pub fn pass(&self) {
        let mut state = self.state.lock().expect("gate lock");
        state.0 += 1;
        while !state.1 {
            state = self.opened.wait(state).expect("gate lock");
        }
    }
}

impl FakeModel {
    /// A fake with no delay and the given token limit.
    pub fn new(max_tokens: usize) -> Self {
        Self {
            info: ModelInfo {
                name: "fake".into(),
                version: "0".into(),
                base_model: "none".into(),
                max_tokens,
            },
            delay: Duration::ZERO,
            gate: None,
        }
    }

    /// Builder-style delay.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Builder-style gate.
    pub fn with_gate(mut self, gate: Option<Arc<Gate>>) -> Self {
        self.gate = gate;
        self
    }
}

impl Model for FakeModel {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn tokenize(&self, text: &str) -> Result<Encoded> {
        super::tokenize::check_text(text)?;
        let mut ids: Vec<u32> = text
            .split_whitespace()
            .map(|w| {
                let w = w
                    .trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase();
                if TASK_WORDS.contains(&w.as_str()) {
                    TASK_ID
                } else {
                    2
                }
            })
            .collect();
        let truncated = ids.len() > self.info.max_tokens;
        ids.truncate(self.info.max_tokens);
        Ok(Encoded { ids, truncated })
    }

    /// A bag of lower-cased words hashed into 64 buckets: items with the same words point the
    /// same way, which is all the layers above need to test grouping.
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        Ok(texts
            .iter()
            .map(|t| {
                let mut v = vec![0f32; 64];
                for w in t.split_whitespace() {
                    let w = w
                        .trim_matches(|c: char| !c.is_alphanumeric())
                        .to_lowercase();
                    if w.is_empty() {
                        continue;
                    }
                    let h = w
                        .bytes()
                        .fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
                    v[h as usize % 64] += 1.0;
                }
                super::unit(v)
            })
            .collect())
    }

    fn predict(&self, batch: &[&Encoded]) -> Result<Vec<Scores>> {
        if let Some(gate) = &self.gate {
            gate.pass();
        }
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        Ok(batch
            .iter()
            .map(|e| {
                if e.ids.contains(&TASK_ID) {
                    Scores {
                        story: 0.1,
                        task: 0.9,
                    }
                } else {
                    Scores {
                        story: 0.9,
                        task: 0.1,
                    }
                }
            })
            .collect())
    }

    /// The scores, and as features the item's length and its count of task words.
    fn predict_features(&self, batch: &[&Encoded]) -> Result<Vec<(Scores, Vec<f32>)>> {
        let scores = self.predict(batch)?;
        Ok(scores
            .into_iter()
            .zip(batch)
            .map(|(s, e)| {
                let task_words = e.ids.iter().filter(|&&id| id == TASK_ID).count();
                (s, vec![e.len() as f32, task_words as f32])
            })
            .collect())
    }
}
