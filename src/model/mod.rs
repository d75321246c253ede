//! The classifier model: tokenizer, MiniLM encoder, classification head and their loading.
//!
//! Everything above this layer talks to the [`Model`] trait, so the HTTP router and the batching
//! queue can be tested against a fake model and run unchanged against the real one.

pub mod bpe;
pub mod classifier;
pub mod device;
pub mod encoder;
pub mod fake;
mod gelu;
pub mod generator;
pub mod head;
pub mod int8;
pub mod llama;
pub mod loader;
pub mod refine_head;
pub mod tokenize;

use serde::{Deserialize, Serialize};

pub use classifier::Classifier;
pub use device::DeviceChoice;
pub use tokenize::{Encoded, TextTokenizer};

/// Arithmetic of the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// int8 where the CPU runs it fast (AVX512-VNNI) and the device is the CPU, else f32.
    Auto,
    /// 8-bit integer matrix multiplies, f32 between them.
    Int8,
    /// 32-bit floats: the reference.
    F32,
}

impl Precision {
    /// What `self` means on `device` and this CPU: `Int8` or `F32`, never `Auto`. An explicit
    /// `Int8` without VNNI still runs int8, on the portable (slow) kernel.
    pub fn resolve(self, device: &candle_core::Device) -> Precision {
        match self {
            Precision::Auto
                if device.is_cpu()
                    && int8::gemm::Kernel::detect() == int8::gemm::Kernel::Avx512Vnni =>
            {
                Precision::Int8
            }
            Precision::Auto => Precision::F32,
            p => p,
        }
    }
}

/// The two kinds of backlog item storylens tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// Value a user of the product sees.
    Story,
    /// Work to build, maintain or improve the system that users do not see.
    Task,
}

impl Label {
    /// Both labels, in the order of the classifier's output columns.
    pub const ALL: [Label; 2] = [Label::Story, Label::Task];

    /// The column of this label in the classifier's output.
    pub fn index(self) -> usize {
        match self {
            Label::Story => 0,
            Label::Task => 1,
        }
    }

    /// The lowercase name used in JSON and data files.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Story => "story",
            Label::Task => "task",
        }
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Label {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "story" | "user story" | "user-story" => Ok(Label::Story),
            "task" | "technical task" | "technical-task" => Ok(Label::Task),
            other => Err(crate::Error::InvalidInput(format!(
                "unknown label `{other}` (expected `story` or `task`)"
            ))),
        }
    }
}

/// Calibrated probabilities of each label; they sum to one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Scores {
    /// Probability that the item is a user story.
    pub story: f32,
    /// Probability that the item is a technical task.
    pub task: f32,
}

impl Scores {
    /// The more probable label.
    pub fn label(&self) -> Label {
        if self.story >= self.task {
            Label::Story
        } else {
            Label::Task
        }
    }

    /// The probability of the more probable label.
    pub fn confidence(&self) -> f32 {
        self.story.max(self.task)
    }

    /// The probability of `label`.
    pub fn get(&self, label: Label) -> f32 {
        match label {
            Label::Story => self.story,
            Label::Task => self.task,
        }
    }
}

/// Names and versions of the models behind a [`Model`], reported by `/info` and in responses.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ModelInfo {
    /// The classifier's name.
    pub name: String,
    /// The classifier's version (the trained artifact's version).
    pub version: String,
    /// The base encoder's repository id.
    pub base_model: String,
    /// Maximum tokens per item; longer items are truncated.
    pub max_tokens: usize,
}

/// A classifier of backlog items. Tokenizing is separate from predicting so that callers can
/// tokenize on their own threads and pack batches by token count before the model runs.
pub trait Model: Send + Sync + 'static {
    /// Names and versions of the model.
    fn info(&self) -> &ModelInfo;

    /// Turns text into token ids, truncated to the model's limit.
    fn tokenize(&self, text: &str) -> crate::Result<Encoded>;

    /// Scores a batch of tokenized items, in order. Heavy: call it off the async runtime.
    fn predict(&self, batch: &[&Encoded]) -> crate::Result<Vec<Scores>>;

    /// [`Model::predict`] with each item's pooled features: the vector the classification head
    /// reads, which the refinement heads read too. Heavy: call it off the async runtime.
    fn predict_features(&self, batch: &[&Encoded]) -> crate::Result<Vec<(Scores, Vec<f32>)>>;

    /// Unit-length sentence embeddings of texts, in input order, for grouping items that say
    /// the same thing. Heavy: call it off the async runtime.
    fn embed_texts(&self, texts: &[&str]) -> crate::Result<Vec<Vec<f32>>>;

    /// Tokenizes and scores texts in one go, in batches of similar length; the convenient path
    /// for commands and tests. Results come back in input order.
    fn classify(&self, texts: &[&str]) -> crate::Result<Vec<(Scores, bool)>> {
        let encoded = texts
            .iter()
            .map(|t| self.tokenize(t))
            .collect::<crate::Result<Vec<_>>>()?;
        let mut order: Vec<usize> = (0..encoded.len()).collect();
        order.sort_by_key(|&i| encoded[i].len());
        let mut out = vec![None; encoded.len()];
        for chunk in order.chunks(CLASSIFY_BATCH) {
            let refs: Vec<&Encoded> = chunk.iter().map(|&i| &encoded[i]).collect();
            for (&i, s) in chunk.iter().zip(self.predict(&refs)?) {
                out[i] = Some((s, encoded[i].truncated));
            }
        }
        Ok(out
            .into_iter()
            .map(|o| o.expect("every item scored"))
            .collect())
    }
}

/// Items per model batch in [`Model::classify`].
pub const CLASSIFY_BATCH: usize = 32;

/// Scales `v` to unit length (a zero vector stays zero).
pub fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}
