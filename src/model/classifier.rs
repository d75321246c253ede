//! The real classifier: tokenizer, MiniLM encoder with tuned top layers, and calibrated head.

use std::path::PathBuf;

use candle_core::{Device, Tensor};
use candle_nn::VarBuilder;

use super::encoder::{mean_pool, Batch, Encoder, DTYPE};
use super::head::{Artifacts, Head};
use super::loader::{self, Locations};
use super::{Encoded, Model, ModelInfo, Scores, TextTokenizer};
use crate::{Error, Result};

/// Options for loading the classifier.
#[derive(Debug, Clone)]
pub struct ClassifierOptions {
    /// Where the base encoder's files are.
    pub locations: Locations,
    /// Directory of the trained artifacts (`classifier.safetensors`, `manifest.json`).
    pub classifier_dir: PathBuf,
    /// Token limit per item.
    pub max_tokens: usize,
    /// Compute device.
    pub device: Device,
}

/// Token id of `[PAD]` in the MiniLM vocabulary.
const PAD_ID: u32 = 0;

/// The MiniLM story/task classifier.
pub struct Classifier {
    tokenizer: TextTokenizer,
    encoder: Encoder,
    head: Head,
    device: Device,
    info: ModelInfo,
}

impl Classifier {
    /// Loads base encoder and trained artifacts.
    pub fn load(opts: &ClassifierOptions) -> Result<Self> {
        let files = loader::base_files(&opts.locations)?;
        let artifacts = Artifacts::load(&opts.classifier_dir, &opts.device)?;
        if artifacts.manifest.base_model.sha256 != loader::BASE_SHA256 {
            return Err(Error::InvalidInput(format!(
                "{} was trained on base weights {}, but {} is pinned; retrain with `storylens train`",
                opts.classifier_dir.display(),
                artifacts.manifest.base_model.sha256,
                loader::BASE_SHA256
            )));
        }
        let cfg = loader::read_config(&files.config)?;
        let mut tensors = loader::load_base_tensors(&files.weights, &opts.device)?;
        // Tuned layers in the artifact replace the base ones of the same name.
        for (name, t) in &artifacts.tensors {
            tensors.insert(name.clone(), t.clone());
        }
        let vb = VarBuilder::from_tensors(tensors, DTYPE, &opts.device);
        let encoder = Encoder::load(vb, &cfg)?;
        let head = Head::from_artifacts(&artifacts)?;
        let tokenizer = TextTokenizer::from_file(&files.tokenizer, opts.max_tokens)?;
        let info = ModelInfo {
            name: artifacts.manifest.name.clone(),
            version: artifacts.manifest.version.clone(),
            base_model: loader::BASE_REPO.to_string(),
            max_tokens: opts.max_tokens,
        };
        Ok(Self {
            tokenizer,
            encoder,
            head,
            device: opts.device.clone(),
            info,
        })
    }

    /// Sentence embeddings `[batch, hidden]` of a batch, for similarity checks.
    pub fn embed(&self, batch: &[&Encoded]) -> Result<Tensor> {
        let rows: Vec<&[u32]> = batch.iter().map(|e| e.ids.as_slice()).collect();
        let b = Batch::new(&rows, PAD_ID, &self.device)?;
        let states = self.encoder.forward(&b)?;
        mean_pool(&states, &b.mask)
    }
}

impl Model for Classifier {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn tokenize(&self, text: &str) -> Result<Encoded> {
        self.tokenizer.encode(text)
    }

    fn predict(&self, batch: &[&Encoded]) -> Result<Vec<Scores>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let pooled = self.embed(batch)?;
        let probs: Vec<Vec<f32>> = self.head.probabilities(&pooled)?.to_vec2()?;
        Ok(probs
            .into_iter()
            .map(|p| Scores {
                story: p[0],
                task: p[1],
            })
            .collect())
    }
}
