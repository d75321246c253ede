//! The worked examples of the few-shot prompt: the project's own rewrite pairs
//! (`training-data/rewrites.jsonl`), compiled into the binary, and the nearest ones to an item by
//! sentence-encoder similarity.

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::model::Classifier;
use crate::{Error, Result};

/// The rewrite pairs, one JSON object per line.
pub const PAIRS: &str = include_str!("../../../training-data/rewrites.jsonl");

/// One rewrite pair.
#[derive(Debug, Clone, Deserialize)]
pub struct Example {
    pub task: String,
    pub role: String,
    pub goal: String,
    pub benefit: String,
    pub supporting_task: String,
    pub acceptance_criteria: Vec<String>,
    pub domain: String,
    pub kind: String,
}

/// Parses rewrite pairs, naming the line of any malformed one.
pub fn parse_pairs(text: &str) -> Result<Vec<Example>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| Error::Json {
                context: format!("rewrite pairs line {}", i + 1),
                source: e,
            })
        })
        .collect()
}

/// The examples and their embeddings.
pub struct Bank {
    examples: Vec<Example>,
    /// `[examples, dim]`, L2-normalised rows.
    embeddings: Vec<Vec<f32>>,
}

impl Bank {
    /// Embeds the compiled-in pairs, reading and writing the embeddings cache in `cache_dir`
    /// (keyed by the pairs' sha256) so that only the first run after a data change pays for it.
    pub fn load(encoder: &Classifier, cache_dir: Option<&Path>) -> Result<Self> {
        Self::from_examples(parse_pairs(PAIRS)?, encoder, cache_dir)
    }

    /// A bank over the given examples.
    pub fn from_examples(
        examples: Vec<Example>,
        encoder: &Classifier,
        cache_dir: Option<&Path>,
    ) -> Result<Self> {
        let mut h = Sha256::new();
        for e in &examples {
            h.update(e.task.as_bytes());
            h.update([0]);
        }
        let key = hex::encode(h.finalize());
        let cache: Option<PathBuf> =
            cache_dir.map(|d| d.join(format!("rewrite-examples-{}.safetensors", &key[..16])));
        if let Some(path) = cache.as_deref().filter(|p| p.is_file()) {
            if let Ok(t) = candle_core::safetensors::load(path, &Device::Cpu) {
                if let Some(m) = t.get("embeddings").and_then(|m| m.to_vec2::<f32>().ok()) {
                    if m.len() == examples.len() {
                        return Ok(Self {
                            examples,
                            embeddings: m,
                        });
                    }
                }
            }
        }
        let texts: Vec<&str> = examples.iter().map(|e| e.task.as_str()).collect();
        let embeddings = encoder.sentence_embeddings(&texts)?;
        if let Some(path) = cache {
            // A cache that cannot be written only costs time on the next start.
            let rows = embeddings.len();
            let dim = embeddings.first().map_or(0, Vec::len);
            let flat: Vec<f32> = embeddings.iter().flatten().copied().collect();
            if let Ok(t) = Tensor::from_vec(flat, (rows, dim), &Device::Cpu) {
                let map = std::collections::HashMap::from([("embeddings".to_string(), t)]);
                if let Err(e) = candle_core::safetensors::save(&map, &path) {
                    tracing::debug!("could not cache rewrite example embeddings: {e}");
                }
            }
        }
        Ok(Self {
            examples,
            embeddings,
        })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// Whether the bank is empty.
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// The `k` examples most similar to `query` (an L2-normalised embedding), best first,
    /// skipping any whose task is the query text itself (so evaluation on the pairs is fair).
    pub fn nearest(&self, query: &[f32], k: usize, text: &str) -> Vec<&Example> {
        let mut scored: Vec<(f32, usize)> = self
            .embeddings
            .iter()
            .enumerate()
            .filter(|(i, _)| self.examples[*i].task.trim() != text.trim())
            .map(|(i, e)| (dot(e, query), i))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored
            .into_iter()
            .take(k)
            .map(|(_, i)| &self.examples[i])
            .collect()
    }
}

/// Dot product; the cosine similarity of two L2-normalised vectors.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
