//! The trained part of the classifier: a linear head on the sentence embedding, a temperature
//! for calibrated probabilities, and (optionally) fine-tuned copies of the encoder's top layers,
//! all stored in `classifier.safetensors` beside a `manifest.json` that says how they were made.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor, D};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// File holding the head and tuned layers.
pub const WEIGHTS_FILE: &str = "classifier.safetensors";
/// File describing how the weights were made.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Where the base encoder came from, pinned.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaseModelRef {
    /// Hugging Face repository id.
    pub repo: String,
    /// sha256 of the base weights the head was trained on.
    pub sha256: String,
}

/// How the artifacts were trained.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainingRecord {
    /// sha256 over the training and validation files, in order.
    pub data_sha256: String,
    /// Seed for initialisation and shuffling.
    pub seed: u64,
    /// Rows used for training and for validation.
    pub train_rows: usize,
    pub valid_rows: usize,
    /// Hyper-parameters as trained.
    pub epochs: usize,
    pub learning_rate: f64,
    pub batch_size: usize,
    /// The epoch whose weights were kept (best validation loss).
    pub best_epoch: usize,
}

/// The manifest committed with the trained artifacts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Classifier name reported by the API.
    pub name: String,
    /// Artifact version reported by the API.
    pub version: String,
    /// The encoder it builds on.
    pub base_model: BaseModelRef,
    /// Encoder layers whose weights are replaced by tuned copies in the artifact.
    pub tuned_layers: Vec<usize>,
    /// Softmax temperature fitted on the validation split.
    pub temperature: f64,
    /// Token limit used in training.
    pub max_tokens: usize,
    /// How it was trained.
    pub training: TrainingRecord,
    /// Evaluation results at training time (validation split, and any extra sets evaluated).
    pub metrics: serde_json::Value,
}

impl Manifest {
    /// Reads `manifest.json` from `dir`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::HeadMissing(dir.to_path_buf()),
            _ => Error::io(&path, e),
        })?;
        serde_json::from_str(&text).map_err(|source| Error::Json {
            context: path.display().to_string(),
            source,
        })
    }

    /// Writes `manifest.json` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(MANIFEST_FILE);
        let text = serde_json::to_string_pretty(self).expect("manifest serialises");
        std::fs::write(&path, text + "\n").map_err(|e| Error::io(path, e))
    }
}

/// The artifacts of a trained classifier, loaded.
pub struct Artifacts {
    /// The manifest.
    pub manifest: Manifest,
    /// Head weights and tuned encoder layers, named as in the encoder.
    pub tensors: HashMap<String, Tensor>,
    /// Directory they came from.
    pub dir: PathBuf,
}

impl Artifacts {
    /// Loads the artifacts from `dir`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let manifest = Manifest::read(dir)?;
        let path = dir.join(WEIGHTS_FILE);
        if !path.exists() {
            return Err(Error::HeadMissing(dir.to_path_buf()));
        }
        let tensors = candle_core::safetensors::load(&path, device)?;
        Ok(Self {
            manifest,
            tensors,
            dir: dir.to_path_buf(),
        })
    }
}

/// Linear classification head with temperature.
pub struct Head {
    weight: Tensor,
    bias: Tensor,
    temperature: f64,
}

/// Tensor names of the head.
pub const HEAD_WEIGHT: &str = "head.weight";
pub const HEAD_BIAS: &str = "head.bias";

impl Head {
    /// Builds the head from its tensors.
    pub fn new(weight: Tensor, bias: Tensor, temperature: f64) -> Self {
        Self {
            weight,
            bias,
            temperature,
        }
    }

    /// Takes the head's tensors out of the artifacts.
    pub fn from_artifacts(a: &Artifacts) -> Result<Self> {
        let get = |name: &str| {
            a.tensors.get(name).cloned().ok_or_else(|| {
                Error::InvalidInput(format!("{}: tensor `{name}` missing", a.dir.display()))
            })
        };
        Ok(Self::new(
            get(HEAD_WEIGHT)?,
            get(HEAD_BIAS)?,
            a.manifest.temperature,
        ))
    }

    /// Raw logits, `[batch, 2]`, from sentence embeddings `[batch, hidden]`.
    pub fn logits(&self, pooled: &Tensor) -> Result<Tensor> {
        Ok(pooled
            .matmul(&self.weight.t()?)?
            .broadcast_add(&self.bias)?)
    }

    /// Calibrated probabilities, `[batch, 2]`.
    pub fn probabilities(&self, pooled: &Tensor) -> Result<Tensor> {
        let logits = (self.logits(pooled)? / self.temperature)?;
        Ok(candle_nn::ops::softmax(&logits, D::Minus1)?)
    }
}
