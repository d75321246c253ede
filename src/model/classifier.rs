//! The real classifier: tokenizer, MiniLM encoder with tuned top layers, and calibrated head.

use std::path::PathBuf;

use candle_core::{Device, Tensor};
use candle_nn::VarBuilder;

use super::encoder::{mean_pool, Batch, Encoder, DTYPE};
use super::head::{Artifacts, Head};
use super::int8::{gemm::Kernel, QuantEncoder};
use super::loader::{self, Locations};
use super::{Encoded, Model, ModelInfo, Precision, Scores, TextTokenizer};
use crate::{Error, Result};

/// candle's CPU kernels synchronise their threads on every operation, which on small matrices
/// costs more than it gains (measured here: a batch of 32 short items ran faster on one thread
/// than on two). storylens parallelises across items instead, so each kernel runs on one thread.
/// The settings are read when candle first computes, so this runs before any model work, and an
/// explicit `CANDLE_NUM_THREADS`/`RAYON_NUM_THREADS` from the user wins.
fn single_threaded_kernels() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for var in ["CANDLE_NUM_THREADS", "RAYON_NUM_THREADS"] {
            if std::env::var_os(var).is_none() {
                // Set once, before candle creates its thread pools.
                std::env::set_var(var, "1");
            }
        }
    });
}

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
    /// CPU threads a batch is split across (0: one per core).
    pub threads: usize,
    /// Encoder arithmetic.
    pub precision: Precision,
}

/// The encoder in the precision chosen at load.
enum Network {
    F32(Encoder),
    /// With its own persistent threads: each keeps its scratch buffers from batch to batch.
    Int8(QuantEncoder, rayon::ThreadPool),
}

/// The untuned base encoder, for sentence similarity.
enum Similarity {
    F32(Encoder),
    Int8(QuantEncoder),
}

/// The MiniLM story/task classifier.
pub struct Classifier {
    tokenizer: TextTokenizer,
    network: Network,
    /// Loaded on the first embedding request: classifying alone never pays for it.
    similarity: std::sync::OnceLock<Similarity>,
    /// Where the base weights are, and their shape.
    base: (PathBuf, super::encoder::EncoderConfig),
    head: Head,
    device: Device,
    info: ModelInfo,
    threads: usize,
}

/// Below this many items per thread, splitting a batch costs more than it saves.
const MIN_ITEMS_PER_THREAD: usize = 4;

impl Classifier {
    /// Loads base encoder and trained artifacts.
    pub fn load(opts: &ClassifierOptions) -> Result<Self> {
        let threads = match opts.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let precision = opts.precision.resolve(&opts.device);
        if precision == Precision::Int8 && !opts.device.is_cpu() {
            return Err(Error::Device(
                "the int8 encoder runs on the CPU; use --precision f32 (or auto) on a GPU".into(),
            ));
        }
        if threads > 1 && opts.device.is_cpu() {
            single_threaded_kernels();
        }
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
        // Positions past the model's table cannot be embedded: refuse the setting up front
        // rather than fail every batch that holds a long item.
        if opts.max_tokens > cfg.max_position_embeddings {
            return Err(Error::InvalidInput(format!(
                "--max-tokens {} exceeds the model's {} positions",
                opts.max_tokens, cfg.max_position_embeddings
            )));
        }
        let mut tensors = loader::load_base_tensors(&files.weights, &opts.device)?;
        // Tuned layers in the artifact replace the base ones of the same name.
        for (name, t) in &artifacts.tensors {
            tensors.insert(name.clone(), t.clone());
        }
        let network = match precision {
            Precision::Int8 => {
                let encoder = QuantEncoder::from_tensors(&tensors, &cfg, Kernel::detect())?;
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("int8-{i}"))
                    .build()
                    .map_err(|e| Error::Internal(format!("model threads: {e}")))?;
                Network::Int8(encoder, pool)
            }
            _ => {
                let vb = VarBuilder::from_tensors(tensors, DTYPE, &opts.device);
                Network::F32(Encoder::load(vb, &cfg)?)
            }
        };
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
            network,
            similarity: std::sync::OnceLock::new(),
            base: (files.weights.clone(), cfg),
            head,
            device: opts.device.clone(),
            info,
            threads,
        })
    }

    /// Sentence embeddings `[batch, hidden]` of a batch, for similarity checks.
    pub fn embed(&self, batch: &[&Encoded]) -> Result<Tensor> {
        let rows: Vec<&[u32]> = batch.iter().map(|e| e.ids.as_slice()).collect();
        match &self.network {
            Network::F32(encoder) => {
                let b = Batch::packed(&rows, &self.device)?;
                let states = encoder.forward(&b)?;
                mean_pool(&states, &b)
            }
            Network::Int8(encoder, _) => {
                let pooled = encoder.pooled(&rows)?;
                let h = pooled.len() / rows.len().max(1);
                Ok(Tensor::from_vec(pooled, (rows.len(), h), &self.device)?)
            }
        }
    }

    /// The base encoder as published, which embeds sentences for similarity (it was trained for
    /// that; the tuned layers were not: on written pairs AUC 0.88 against 0.68), in the
    /// classifier's precision; read from the weights file on first use.
    fn similarity(&self) -> Result<&Similarity> {
        if let Some(s) = self.similarity.get() {
            return Ok(s);
        }
        let (weights, cfg) = &self.base;
        let tensors = loader::load_base_tensors(weights, &self.device)?;
        let built = match &self.network {
            Network::Int8(..) => {
                Similarity::Int8(QuantEncoder::from_tensors(&tensors, cfg, Kernel::detect())?)
            }
            Network::F32(_) => Similarity::F32(Encoder::load(
                VarBuilder::from_tensors(tensors, DTYPE, &self.device),
                cfg,
            )?),
        };
        // Two first callers at once build it twice; one copy is kept.
        Ok(self.similarity.get_or_init(|| built))
    }

    /// The precision the encoder runs in (`Int8` or `F32`).
    pub fn precision(&self) -> Precision {
        match self.network {
            Network::F32(_) => Precision::F32,
            Network::Int8(..) => Precision::Int8,
        }
    }
}

impl Model for Classifier {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn tokenize(&self, text: &str) -> Result<Encoded> {
        self.tokenizer.encode(text)
    }

    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let encoded = texts
            .iter()
            .map(|t| self.tokenizer.encode(t))
            .collect::<Result<Vec<_>>>()?;
        let similarity = self.similarity()?;
        // Batches of similar length pad least; on int8 they run on the model's threads.
        let mut order: Vec<usize> = (0..encoded.len()).collect();
        order.sort_by_key(|&i| encoded[i].len());
        let chunks: Vec<&[usize]> = order.chunks(super::CLASSIFY_BATCH).collect();
        let one = |chunk: &[usize]| -> Result<Vec<Vec<f32>>> {
            let ids: Vec<&[u32]> = chunk.iter().map(|&i| encoded[i].ids.as_slice()).collect();
            Ok(match similarity {
                Similarity::F32(encoder) => {
                    let b = Batch::packed(&ids, &self.device)?;
                    mean_pool(&encoder.forward(&b)?, &b)?.to_vec2()?
                }
                Similarity::Int8(encoder) => {
                    let pooled = encoder.pooled(&ids)?;
                    let h = pooled.len() / ids.len().max(1);
                    pooled.chunks(h.max(1)).map(<[f32]>::to_vec).collect()
                }
            })
        };
        let rows: Vec<Result<Vec<Vec<f32>>>> = match &self.network {
            Network::Int8(_, pool) => pool.install(|| {
                use rayon::prelude::*;
                chunks.par_iter().map(|c| one(c)).collect()
            }),
            Network::F32(_) => chunks.iter().map(|c| one(c)).collect(),
        };
        let mut out = vec![Vec::new(); encoded.len()];
        for (chunk, rows) in chunks.iter().zip(rows) {
            for (&i, v) in chunk.iter().zip(rows?) {
                out[i] = super::unit(v);
            }
        }
        Ok(out)
    }

    /// One thread: feature requests are the refiner's, one item at a time.
    fn predict_features(&self, batch: &[&Encoded]) -> Result<Vec<(Scores, Vec<f32>)>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let pooled = self.embed(batch)?;
        let probs: Vec<Vec<f32>> = self.head.probabilities(&pooled)?.to_vec2()?;
        let feats: Vec<Vec<f32>> = pooled.to_vec2()?;
        Ok(probs
            .into_iter()
            .zip(feats)
            .map(|(p, f)| {
                (
                    Scores {
                        story: p[0],
                        task: p[1],
                    },
                    f,
                )
            })
            .collect())
    }

    fn predict(&self, batch: &[&Encoded]) -> Result<Vec<Scores>> {
        let parts = if self.device.is_cpu() {
            self.threads.min(batch.len() / MIN_ITEMS_PER_THREAD).max(1)
        } else {
            1
        };
        if parts == 1 {
            return self.predict_one(batch);
        }
        // Items of similar length go to the same thread, which also cuts attention padding.
        let mut order: Vec<usize> = (0..batch.len()).collect();
        order.sort_by_key(|&i| batch[i].len());
        let total: usize = batch.iter().map(|e| e.len()).sum();
        let mut chunks: Vec<Vec<usize>> = vec![Vec::new()];
        let mut acc = 0;
        for &i in &order {
            if acc * parts >= total * chunks.len() && chunks.len() < parts {
                chunks.push(Vec::new());
            }
            acc += batch[i].len();
            chunks.last_mut().expect("one chunk").push(i);
        }
        let results: Vec<Result<Vec<Scores>>> = match &self.network {
            Network::Int8(_, pool) => pool.install(|| {
                use rayon::prelude::*;
                chunks
                    .par_iter()
                    .map(|chunk| {
                        let items: Vec<&Encoded> = chunk.iter().map(|&i| batch[i]).collect();
                        self.predict_one(&items)
                    })
                    .collect()
            }),
            Network::F32(_) => self.predict_scoped(batch, &chunks),
        };
        let mut out = vec![
            Scores {
                story: 0.0,
                task: 0.0
            };
            batch.len()
        ];
        for (chunk, scores) in chunks.iter().zip(results) {
            for (&i, s) in chunk.iter().zip(scores?) {
                out[i] = s;
            }
        }
        Ok(out)
    }
}

impl Classifier {
    /// f32: candle's kernels on one thread each, one spawned thread per chunk.
    fn predict_scoped(
        &self,
        batch: &[&Encoded],
        chunks: &[Vec<usize>],
    ) -> Vec<Result<Vec<Scores>>> {
        std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .iter()
                .map(|chunk| {
                    let items: Vec<&Encoded> = chunk.iter().map(|&i| batch[i]).collect();
                    scope.spawn(move || self.predict_one(&items))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(Error::Internal("model thread panicked".into())))
                })
                .collect()
        })
    }

    /// Scores and pooled features of texts, on the calling thread, in input order (training
    /// and reference tests; serving asks the queue through [`Model::predict_features`]).
    pub fn scores_and_features(&self, texts: &[&str]) -> Result<Vec<(Scores, Vec<f32>)>> {
        let encoded = texts
            .iter()
            .map(|t| self.tokenizer.encode(t))
            .collect::<Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(texts.len());
        for chunk in encoded.chunks(super::CLASSIFY_BATCH) {
            let refs: Vec<&Encoded> = chunk.iter().collect();
            out.extend(self.predict_features(&refs)?);
        }
        Ok(out)
    }

    /// Scores a batch on the calling thread.
    fn predict_one(&self, batch: &[&Encoded]) -> Result<Vec<Scores>> {
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
