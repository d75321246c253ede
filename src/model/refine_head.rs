//! The refinement heads: two linear softmax layers on the classifier's pooled sentence
//! embedding, one for the disposition of an item (keep-task, unwrap, outcome-story, reframe,
//! already-story) and one for the category of technical work. Trained by `storylens
//! train-refine` on the project's own refinement examples; stored beside the classifier as
//! `refine.safetensors` and `refine.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Weights file of the heads.
pub const REFINE_WEIGHTS: &str = "refine.safetensors";
/// Manifest of the heads.
pub const REFINE_MANIFEST: &str = "refine.json";

/// How the heads were trained.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefineManifest {
    /// sha256 of the `classifier.safetensors` whose embeddings the heads read; they must match,
    /// so a retrained classifier cannot run with stale heads.
    pub classifier_sha256: String,
    /// Class names of each head, in output order.
    pub dispositions: Vec<String>,
    pub categories: Vec<String>,
    /// sha256 over the training files.
    pub data_sha256: String,
    pub train_rows: usize,
    pub valid_rows: usize,
    pub seed: u64,
    pub epochs: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    /// Validation figures at training time.
    pub metrics: serde_json::Value,
}

/// sha256 of the classifier weights in `dir`.
pub fn classifier_digest(dir: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    let path = dir.join(super::head::WEIGHTS_FILE);
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// One linear softmax layer, `classes × hidden`, in plain memory: five or twelve dot products
/// per item cost less than building a tensor.
#[derive(Debug, Clone)]
pub struct LinearSoftmax {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub hidden: usize,
}

impl LinearSoftmax {
    /// Probabilities over the classes for one embedding.
    pub fn probabilities(&self, x: &[f32]) -> Vec<f32> {
        let logits: Vec<f32> = self
            .bias
            .iter()
            .enumerate()
            .map(|(c, b)| {
                let row = &self.weight[c * self.hidden..(c + 1) * self.hidden];
                b + row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>()
            })
            .collect();
        softmax(&logits)
    }
}

/// Softmax of a logit vector.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.into_iter().map(|e| e / sum).collect()
}

/// Both heads and their manifest.
#[derive(Debug, Clone)]
pub struct RefineHeads {
    pub manifest: RefineManifest,
    pub disposition: LinearSoftmax,
    pub category: LinearSoftmax,
}

impl RefineHeads {
    /// Loads the heads from `dir`, checking they were trained on the classifier beside them.
    pub fn load(dir: &Path) -> Result<Self> {
        let mpath = dir.join(REFINE_MANIFEST);
        let text = std::fs::read_to_string(&mpath).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::InvalidInput(format!(
                "refinement heads not found in {}; train them with `storylens train-refine`",
                dir.display()
            )),
            _ => Error::io(&mpath, e),
        })?;
        let manifest: RefineManifest =
            serde_json::from_str(&text).map_err(|source| Error::Json {
                context: mpath.display().to_string(),
                source,
            })?;
        let digest = classifier_digest(dir)?;
        if manifest.classifier_sha256 != digest {
            return Err(Error::InvalidInput(format!(
                "{} was trained on another classifier (sha256 {}, loaded {digest}); run `storylens train-refine`",
                mpath.display(),
                manifest.classifier_sha256
            )));
        }
        let tensors =
            candle_core::safetensors::load(dir.join(REFINE_WEIGHTS), &candle_core::Device::Cpu)?;
        let get = |name: &str| -> Result<Vec<f32>> {
            let t = tensors.get(name).ok_or_else(|| {
                Error::InvalidInput(format!("{}: tensor `{name}` missing", dir.display()))
            })?;
            Ok(t.flatten_all()?.to_vec1::<f32>()?)
        };
        let layer = |prefix: &str, classes: usize| -> Result<LinearSoftmax> {
            let weight = get(&format!("{prefix}.weight"))?;
            let bias = get(&format!("{prefix}.bias"))?;
            if bias.len() != classes || weight.len() % classes != 0 {
                return Err(Error::InvalidInput(format!(
                    "{}: `{prefix}` has the wrong shape",
                    dir.display()
                )));
            }
            Ok(LinearSoftmax {
                hidden: weight.len() / classes,
                weight,
                bias,
            })
        };
        Ok(Self {
            disposition: layer("disposition", manifest.dispositions.len())?,
            category: layer("category", manifest.categories.len())?,
            manifest,
        })
    }

    /// Writes the heads and manifest into `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        use candle_core::{Device, Tensor};
        let mut map = std::collections::HashMap::new();
        for (prefix, l) in [
            ("disposition", &self.disposition),
            ("category", &self.category),
        ] {
            let classes = l.bias.len();
            map.insert(
                format!("{prefix}.weight"),
                Tensor::from_vec(l.weight.clone(), (classes, l.hidden), &Device::Cpu)?,
            );
            map.insert(
                format!("{prefix}.bias"),
                Tensor::from_vec(l.bias.clone(), classes, &Device::Cpu)?,
            );
        }
        candle_core::safetensors::save(&map, dir.join(REFINE_WEIGHTS))?;
        let text = serde_json::to_string_pretty(&self.manifest).expect("manifest serialises");
        let path = dir.join(REFINE_MANIFEST);
        std::fs::write(&path, text + "\n").map_err(|e| Error::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_orders() {
        let l = LinearSoftmax {
            weight: vec![1.0, 0.0, 0.0, 1.0],
            bias: vec![0.0, 0.5],
            hidden: 2,
        };
        let p = l.probabilities(&[2.0, 0.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(p[0] > p[1]);
    }
}
