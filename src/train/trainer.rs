//! Fine-tunes the encoder's top layers and a linear head with AdamW, keeps the epoch with the
//! best validation loss, fits a softmax temperature, and writes the artifacts and manifest.
//!
//! The frozen lower layers' output is computed once per item and cached, so each epoch runs only
//! the tuned layers: training on a 2-core CPU takes minutes, not hours.

use std::collections::HashMap;
use std::path::PathBuf;

use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::dataset::{data_sha256, read_jsonl, Example};
use super::metrics::Metrics;
use crate::model::encoder::{mean_pool, Batch, Encoder, DTYPE};
use crate::model::head::{
    BaseModelRef, Head, Manifest, TrainingRecord, HEAD_BIAS, HEAD_WEIGHT, WEIGHTS_FILE,
};
use crate::model::loader::{self, Locations};
use crate::model::{Label, TextTokenizer};
use crate::{Error, Result};

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Where the base model is.
    pub locations: Locations,
    /// Training rows.
    pub train_file: PathBuf,
    /// Validation rows (early stopping and calibration).
    pub valid_file: PathBuf,
    /// Where the artifacts go.
    pub out_dir: PathBuf,
    /// How many top encoder layers to tune (0 trains the head alone).
    pub tuned_layers: usize,
    pub epochs: usize,
    /// Learning rate of the tuned encoder layers.
    pub learning_rate: f64,
    /// Learning rate of the freshly initialised head.
    pub head_learning_rate: f64,
    pub batch_size: usize,
    pub seed: u64,
    pub max_tokens: usize,
    /// Version written into the manifest.
    pub version: String,
}

/// What training produced.
pub struct TrainOutcome {
    pub manifest: Manifest,
    pub valid: Metrics,
}

/// Token id of `[PAD]` in the MiniLM vocabulary.
const PAD_ID: u32 = 0;

struct Prepared {
    ids: Vec<Vec<u32>>,
    /// Output of the frozen layers per item, `[len, hidden]`.
    states: Vec<Tensor>,
    labels: Vec<u32>,
}

/// Trains and writes the artifacts into `opts.out_dir`.
pub fn train(opts: &TrainOptions, progress: &dyn Fn(&str)) -> Result<TrainOutcome> {
    let device = Device::Cpu;
    let files = loader::base_files(&opts.locations)?;
    let cfg = loader::read_config(&files.config)?;
    if opts.tuned_layers > cfg.num_hidden_layers {
        return Err(Error::InvalidInput(format!(
            "cannot tune {} layers of a {}-layer encoder",
            opts.tuned_layers, cfg.num_hidden_layers
        )));
    }
    let tokenizer = TextTokenizer::from_file(&files.tokenizer, opts.max_tokens)?;
    let base = loader::load_base_tensors(&files.weights, &device)?;
    let frozen = Encoder::load(VarBuilder::from_tensors(base.clone(), DTYPE, &device), &cfg)?;
    let first_tuned = cfg.num_hidden_layers - opts.tuned_layers;

    let train_rows = read_jsonl(&opts.train_file)?;
    let valid_rows = read_jsonl(&opts.valid_file)?;
    progress(&format!(
        "{} training rows, {} validation rows; caching layers 0..{first_tuned}",
        train_rows.len(),
        valid_rows.len()
    ));
    let train_set = prepare(&train_rows, &tokenizer, &frozen, first_tuned, &device)?;
    let valid_set = prepare(&valid_rows, &tokenizer, &frozen, first_tuned, &device)?;

    // Trainable copies of the tuned layers, and a head initialised from the seed.
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut tensors = base;
    let mut layer_vars = Vec::new();
    let mut trainable_names = Vec::new();
    for (name, t) in tensors.iter_mut() {
        let layer = name
            .strip_prefix("encoder.layer.")
            .and_then(|r| r.split('.').next())
            .and_then(|n| n.parse::<usize>().ok());
        if layer.is_some_and(|l| l >= first_tuned) {
            let var = Var::from_tensor(t)?;
            *t = var.as_tensor().clone();
            layer_vars.push(var);
            trainable_names.push(name.clone());
        }
    }
    let h = cfg.hidden_size;
    let init: Vec<f32> = (0..2 * h)
        .map(|_| (rng.random::<f32>() - 0.5) * 0.02)
        .collect();
    let head_w = Var::from_tensor(&Tensor::from_vec(init, (2, h), &device)?)?;
    let head_b = Var::from_tensor(&Tensor::zeros(2, DType::F32, &device)?)?;
    let encoder =
        Encoder::load(VarBuilder::from_tensors(tensors, DTYPE, &device), &cfg)?.for_training();
    let head = Head::new(head_w.as_tensor().clone(), head_b.as_tensor().clone(), 1.0);

    let adamw = |lr: f64| ParamsAdamW {
        lr,
        weight_decay: 0.01,
        ..Default::default()
    };
    let mut opt_layers = AdamW::new(layer_vars.clone(), adamw(opts.learning_rate))?;
    let mut opt_head = AdamW::new(
        vec![head_w.clone(), head_b.clone()],
        adamw(opts.head_learning_rate),
    )?;

    let snapshot = |vars: &[(&String, &Var)]| -> Result<HashMap<String, Tensor>> {
        vars.iter()
            .map(|(n, v)| Ok(((*n).clone(), v.as_tensor().copy()?)))
            .collect()
    };
    let mut named: Vec<(&String, &Var)> = trainable_names.iter().zip(layer_vars.iter()).collect();
    let (hw, hb) = (HEAD_WEIGHT.to_string(), HEAD_BIAS.to_string());
    named.push((&hw, &head_w));
    named.push((&hb, &head_b));

    let mut best: Option<(f64, usize, HashMap<String, Tensor>)> = None;
    let mut order: Vec<usize> = (0..train_set.labels.len()).collect();
    for epoch in 1..=opts.epochs {
        order.shuffle(&mut rng);
        let mut total = 0.0;
        for chunk in order.chunks(opts.batch_size) {
            let logits = forward(&encoder, &head, &train_set, chunk, first_tuned, &device)?;
            let targets = Tensor::new(
                chunk
                    .iter()
                    .map(|&i| train_set.labels[i])
                    .collect::<Vec<_>>(),
                &device,
            )?;
            let loss = candle_nn::loss::cross_entropy(&logits, &targets)?;
            total += loss.to_scalar::<f32>()? as f64 * chunk.len() as f64;
            let grads = loss.backward()?;
            opt_layers.step(&grads)?;
            opt_head.step(&grads)?;
        }
        let (valid_loss, _, metrics) =
            evaluate(&encoder, &head, &valid_set, first_tuned, 1.0, &device)?;
        progress(&format!(
            "epoch {epoch}/{}: train loss {:.4}, valid loss {valid_loss:.4}, valid macro-F1 {:.4}",
            opts.epochs,
            total / order.len() as f64,
            metrics.macro_f1
        ));
        if best.as_ref().is_none_or(|(l, _, _)| valid_loss < *l) {
            best = Some((valid_loss, epoch, snapshot(&named)?));
        }
    }
    let (_, best_epoch, weights) =
        best.ok_or_else(|| Error::InvalidInput("epochs must be at least 1".into()))?;
    for (name, var) in &named {
        var.set(&weights[*name])?;
    }
    let (_, logits, _) = evaluate(&encoder, &head, &valid_set, first_tuned, 1.0, &device)?;
    let temperature = fit_temperature(&logits, &valid_set.labels)?;
    let (_, _, valid) = evaluate(
        &encoder,
        &head,
        &valid_set,
        first_tuned,
        temperature,
        &device,
    )?;
    progress(&format!(
        "kept epoch {best_epoch}; temperature {temperature:.3}; valid macro-F1 {:.4}",
        valid.macro_f1
    ));

    std::fs::create_dir_all(&opts.out_dir).map_err(|e| Error::io(&opts.out_dir, e))?;
    let weights_path = opts.out_dir.join(WEIGHTS_FILE);
    candle_core::safetensors::save(&weights, &weights_path)?;
    let manifest = Manifest {
        name: "storylens-classifier".into(),
        version: opts.version.clone(),
        base_model: BaseModelRef {
            repo: loader::BASE_REPO.into(),
            sha256: loader::BASE_SHA256.into(),
        },
        tuned_layers: (first_tuned..cfg.num_hidden_layers).collect(),
        temperature,
        max_tokens: opts.max_tokens,
        training: TrainingRecord {
            data_sha256: data_sha256(&[&opts.train_file, &opts.valid_file])?,
            seed: opts.seed,
            train_rows: train_rows.len(),
            valid_rows: valid_rows.len(),
            epochs: opts.epochs,
            learning_rate: opts.learning_rate,
            batch_size: opts.batch_size,
            best_epoch,
        },
        metrics: serde_json::json!({ "valid": valid }),
    };
    manifest.write(&opts.out_dir)?;
    Ok(TrainOutcome { manifest, valid })
}

fn prepare(
    rows: &[Example],
    tokenizer: &TextTokenizer,
    frozen: &Encoder,
    upto: usize,
    device: &Device,
) -> Result<Prepared> {
    let ids = rows
        .iter()
        .map(|r| tokenizer.encode(&r.text).map(|e| e.ids))
        .collect::<Result<Vec<_>>>()?;
    let mut states = vec![None; rows.len()];
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| ids[i].len());
    for chunk in order.chunks(64) {
        let batch_ids: Vec<&[u32]> = chunk.iter().map(|&i| ids[i].as_slice()).collect();
        let batch = Batch::padded(&batch_ids, PAD_ID, device)?;
        let x = frozen.embed(&batch)?;
        let x = frozen.run_layers(x, &batch, 0, upto)?;
        let s = batch.seq;
        let x = x.reshape((chunk.len(), s, ()))?;
        for (j, &i) in chunk.iter().enumerate() {
            states[i] = Some(x.get(j)?.narrow(0, 0, ids[i].len())?.contiguous()?);
        }
    }
    Ok(Prepared {
        labels: rows.iter().map(|r| r.label.index() as u32).collect(),
        ids,
        states: states
            .into_iter()
            .map(|s| s.expect("every row cached"))
            .collect(),
    })
}

/// Logits of the items `idx` of `set`, running only the tuned layers.
fn forward(
    encoder: &Encoder,
    head: &Head,
    set: &Prepared,
    idx: &[usize],
    first_tuned: usize,
    device: &Device,
) -> Result<Tensor> {
    let rows: Vec<&[u32]> = idx.iter().map(|&i| set.ids[i].as_slice()).collect();
    let batch = Batch::padded(&rows, PAD_ID, device)?;
    let s = batch.seq;
    let padded = idx
        .iter()
        .map(|&i| {
            let t = &set.states[i];
            let len = t.dim(0)?;
            if len == s {
                Ok(t.clone())
            } else {
                let pad = Tensor::zeros((s - len, t.dim(1)?), t.dtype(), device)?;
                Ok(Tensor::cat(&[t, &pad], 0)?)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let x = Tensor::cat(&padded, 0)?;
    let x = encoder.run_layers(x, &batch, first_tuned, encoder.num_layers())?;
    head.logits(&mean_pool(&x, &batch)?)
}

/// Mean loss, all logits, and metrics at `temperature`.
fn evaluate(
    encoder: &Encoder,
    head: &Head,
    set: &Prepared,
    first_tuned: usize,
    temperature: f64,
    device: &Device,
) -> Result<(f64, Tensor, Metrics)> {
    let idx: Vec<usize> = (0..set.labels.len()).collect();
    let parts = idx
        .chunks(64)
        .map(|c| forward(encoder, head, set, c, first_tuned, device))
        .collect::<Result<Vec<_>>>()?;
    let logits = Tensor::cat(&parts, 0)?.detach();
    let targets = Tensor::new(set.labels.clone(), device)?;
    let loss = candle_nn::loss::cross_entropy(&(&logits / temperature)?, &targets)?
        .to_scalar::<f32>()? as f64;
    let pred: Vec<u32> = logits.argmax(D::Minus1)?.to_vec1()?;
    let to_label = |i: u32| Label::ALL[i as usize];
    let gold: Vec<Label> = set.labels.iter().map(|&l| to_label(l)).collect();
    let pred: Vec<Label> = pred.into_iter().map(to_label).collect();
    Ok((
        loss,
        logits,
        Metrics::compute(&gold, &pred, &vec![None; gold.len()]),
    ))
}

/// The temperature minimising validation negative log-likelihood, by a fine grid search
/// (one parameter, so a grid is exact enough and fully deterministic).
fn fit_temperature(logits: &Tensor, labels: &[u32]) -> Result<f64> {
    // An error here must stop training: an empty grid would silently pick 0.05.
    let rows: Vec<Vec<f32>> = logits.to_vec2()?;
    if rows.is_empty() {
        return Err(Error::InvalidInput(
            "no validation rows to fit the temperature on".into(),
        ));
    }
    let nll = |t: f64| -> f64 {
        rows.iter()
            .zip(labels)
            .map(|(r, &y)| {
                let a = r[0] as f64 / t;
                let b = r[1] as f64 / t;
                let m = a.max(b);
                let lse = m + ((a - m).exp() + (b - m).exp()).ln();
                lse - if y == 0 { a } else { b }
            })
            .sum::<f64>()
    };
    Ok((5..=1000)
        .map(|i| i as f64 * 0.01)
        .min_by(|a, b| nll(*a).total_cmp(&nll(*b)))
        .unwrap_or(1.0))
}
