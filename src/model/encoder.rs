//! A MiniLM / BERT encoder written for inference speed and for fine-tuning its top layers.
//!
//! Differences from a textbook BERT that matter here:
//! - query, key and value projections are fused into one matrix (one matmul instead of three);
//! - activations stay two-dimensional (`tokens x hidden`) between layers, so every linear layer is
//!   a single plain GEMM;
//! - the encoder can run a range of layers, so training can cache the frozen lower layers' output
//!   once and run only the layers it tunes.

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder};
use serde::Deserialize;

use crate::Result;

/// The parts of a BERT `config.json` the encoder needs.
#[derive(Debug, Clone, Deserialize)]
pub struct EncoderConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
}

fn default_eps() -> f64 {
    1e-12
}

/// A batch of token ids laid out for the encoder.
///
/// Linear layers and the feed-forward network, nearly all of the compute, run on the rows listed
/// in `ids`. In a *packed* batch those are only the real tokens of every item, back to back, so
/// no work is spent on padding; attention alone runs on a padded `[batch, seq]` view gathered by
/// `to_padded` and scattered back by `to_packed`. A *padded* batch (used in training) has one row
/// per position and needs no gathers.
pub struct Batch {
    /// Token id of every row (u32).
    pub ids: Tensor,
    /// Position of every row within its item (u32).
    pub positions: Tensor,
    /// `[batch, 1, 1, seq]` additive attention bias: 0 for tokens, a large negative for padding.
    pub bias: Tensor,
    /// `[batch, rows]`: 1/len where a row belongs to an item; mean pooling is one matmul.
    pub pool: Tensor,
    /// Rows to gather for the padded attention view (packed batches only).
    to_padded: Option<Tensor>,
    /// Padded positions to gather back into rows (packed batches only).
    to_packed: Option<Tensor>,
    /// Items and the longest item's length.
    pub items: usize,
    pub seq: usize,
}

impl Batch {
    /// A padded batch: every item padded to the longest with `pad_id`.
    pub fn padded(rows: &[&[u32]], pad_id: u32, device: &Device) -> Result<Self> {
        Self::build(rows, Some(pad_id), device)
    }

    /// A packed batch: real tokens only.
    pub fn packed(rows: &[&[u32]], device: &Device) -> Result<Self> {
        Self::build(rows, None, device)
    }

    fn build(rows: &[&[u32]], pad: Option<u32>, device: &Device) -> Result<Self> {
        let b = rows.len();
        let s = rows.iter().map(|r| r.len()).max().unwrap_or(1).max(1);
        let uniform = rows.iter().all(|r| r.len() == s);
        let mut ids = Vec::new();
        let mut positions = Vec::new();
        let mut mask = vec![0f32; b * s];
        let mut to_padded = vec![0u32; b * s];
        let mut to_packed = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            mask[i * s..i * s + row.len()].fill(1.0);
            match pad {
                Some(pad_id) => {
                    ids.extend_from_slice(row);
                    ids.extend(std::iter::repeat_n(pad_id, s - row.len()));
                    positions.extend(0..s as u32);
                }
                None => {
                    let offset = ids.len() as u32;
                    ids.extend_from_slice(row);
                    positions.extend(0..row.len() as u32);
                    for j in 0..row.len() {
                        to_padded[i * s + j] = offset + j as u32;
                        to_packed.push((i * s + j) as u32);
                    }
                }
            }
        }
        let n = ids.len();
        let mut pool = vec![0f32; b * n];
        let mut row = 0;
        for (i, r) in rows.iter().enumerate() {
            let w = 1.0 / r.len().max(1) as f32;
            let (start, len) = match pad {
                Some(_) => (i * s, r.len()),
                None => (row, r.len()),
            };
            pool[i * n + start..i * n + start + len].fill(w);
            row += r.len();
        }
        let gathers = pad.is_none() && !uniform;
        let mask = Tensor::from_vec(mask, (b, s), device)?;
        Ok(Self {
            ids: Tensor::from_vec(ids, n, device)?,
            positions: Tensor::from_vec(positions, n, device)?,
            bias: ((mask - 1.0)? * 1e4)?.reshape((b, 1, 1, s))?,
            pool: Tensor::from_vec(pool, (b, n), device)?,
            to_padded: gathers
                .then(|| Tensor::from_vec(to_padded, b * s, device))
                .transpose()?,
            to_packed: gathers
                .then(|| Tensor::from_vec(to_packed, n, device))
                .transpose()?,
            items: b,
            seq: s,
        })
    }
}

struct Layer {
    qkv: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    inter: Linear,
    out: Linear,
    out_norm: LayerNorm,
    heads: usize,
    head_dim: usize,
    eps: f64,
}

/// candle's fused layer-norm and softmax kernels are fast but record no gradient, so training
/// switches to the composed (differentiable) forms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Inference,
    Training,
}

fn norm(ln: &LayerNorm, x: &Tensor, mode: Mode, eps: f64) -> Result<Tensor> {
    Ok(match mode {
        Mode::Inference => ln.forward(x)?,
        Mode::Training => {
            let bias = ln.bias().expect("BERT layer norms have a bias");
            candle_nn::ops::layer_norm_slow(x, ln.weight(), bias, eps as f32)?
        }
    })
}

fn linear(vb: &VarBuilder, out_dim: usize, in_dim: usize, name: &str) -> Result<Linear> {
    let vb = vb.pp(name);
    let w = vb.get((out_dim, in_dim), "weight")?;
    let b = vb.get(out_dim, "bias")?;
    Ok(Linear::new(w, Some(b)))
}

fn layer_norm(vb: &VarBuilder, dim: usize, eps: f64, name: &str) -> Result<LayerNorm> {
    let vb = vb.pp(name);
    Ok(LayerNorm::new(
        vb.get(dim, "weight")?,
        vb.get(dim, "bias")?,
        eps,
    ))
}

impl Layer {
    fn load(vb: VarBuilder, cfg: &EncoderConfig) -> Result<Self> {
        let h = cfg.hidden_size;
        let eps = cfg.layer_norm_eps;
        Ok(Self {
            qkv: linear(&vb, 3 * h, h, "attention.qkv")?,
            attn_out: linear(&vb, h, h, "attention.output.dense")?,
            attn_norm: layer_norm(&vb, h, eps, "attention.output.LayerNorm")?,
            inter: linear(&vb, cfg.intermediate_size, h, "intermediate.dense")?,
            out: linear(&vb, h, cfg.intermediate_size, "output.dense")?,
            out_norm: layer_norm(&vb, h, eps, "output.LayerNorm")?,
            heads: cfg.num_attention_heads,
            head_dim: h / cfg.num_attention_heads,
            eps,
        })
    }

    /// `x`: one row per token of `batch`; returns the same shape.
    fn forward(&self, x: &Tensor, batch: &Batch, mode: Mode) -> Result<Tensor> {
        let (nh, hd) = (self.heads, self.head_dim);
        let (b, s) = (batch.items, batch.seq);
        let qkv = self.qkv.forward(x)?;
        let qkv = match &batch.to_padded {
            Some(idx) => qkv.index_select(idx, 0)?,
            None => qkv,
        };
        let qkv = qkv.reshape((b, s, 3, nh, hd))?;
        let qkv = qkv.permute((2, 0, 3, 1, 4))?; // [3, b, heads, s, hd]
        let q = qkv.get(0)?.contiguous()?;
        let k = qkv.get(1)?.contiguous()?;
        let v = qkv.get(2)?.contiguous()?;
        let scale = 1.0 / (hd as f64).sqrt();
        let scores = (q.matmul(&k.t()?)? * scale)?.broadcast_add(&batch.bias)?;
        let probs = match mode {
            Mode::Inference => candle_nn::ops::softmax_last_dim(&scores)?,
            Mode::Training => candle_nn::ops::softmax(&scores, D::Minus1)?,
        };
        let ctx = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b * s, nh * hd))?;
        let ctx = match &batch.to_packed {
            Some(idx) => ctx.index_select(idx, 0)?,
            None => ctx,
        };
        let attn = norm(
            &self.attn_norm,
            &(self.attn_out.forward(&ctx)? + x)?,
            mode,
            self.eps,
        )?;
        let inter = self.inter.forward(&attn)?;
        let inter = match mode {
            Mode::Inference => super::gelu::gelu(&inter)?,
            Mode::Training => inter.gelu_erf()?,
        };
        let out = self.out.forward(&inter)?;
        norm(&self.out_norm, &(out + attn)?, mode, self.eps)
    }
}

/// The MiniLM encoder.
pub struct Encoder {
    word: Embedding,
    position: Embedding,
    token_type: Tensor,
    norm: LayerNorm,
    layers: Vec<Layer>,
    mode: Mode,
}

impl Encoder {
    /// Builds the encoder from weights whose attention projections are already fused
    /// (`encoder.layer.N.attention.qkv.*`, see [`crate::model::loader::fuse_qkv`]).
    pub fn load(vb: VarBuilder, cfg: &EncoderConfig) -> Result<Self> {
        let h = cfg.hidden_size;
        let emb = vb.pp("embeddings");
        let word = Embedding::new(emb.get((cfg.vocab_size, h), "word_embeddings.weight")?, h);
        let position = Embedding::new(
            emb.get(
                (cfg.max_position_embeddings, h),
                "position_embeddings.weight",
            )?,
            h,
        );
        // Every storylens input is a single segment, so only the first type row is ever used.
        let token_type = emb
            .get((cfg.type_vocab_size, h), "token_type_embeddings.weight")?
            .get(0)?;
        let norm = layer_norm(&emb, h, cfg.layer_norm_eps, "LayerNorm")?;
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| Layer::load(vb.pp(format!("encoder.layer.{i}")), cfg))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            word,
            position,
            token_type,
            norm,
            layers,
            mode: Mode::Inference,
        })
    }

    /// Switches the transformer layers to differentiable kernels, for fine-tuning.
    pub fn for_training(mut self) -> Self {
        self.mode = Mode::Training;
        self
    }

    /// Number of transformer layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// Embedding output, one row per token of `batch`.
    pub fn embed(&self, batch: &Batch) -> Result<Tensor> {
        let words = self.word.forward(&batch.ids)?;
        let pos = self.position.forward(&batch.positions)?;
        let x = (words + pos)?.broadcast_add(&self.token_type)?;
        Ok(self.norm.forward(&x)?)
    }

    /// Runs layers `from..to` on `x` (`[batch * seq, hidden]`).
    pub fn run_layers(
        &self,
        mut x: Tensor,
        batch: &Batch,
        from: usize,
        to: usize,
    ) -> Result<Tensor> {
        for layer in &self.layers[from..to] {
            x = layer.forward(&x, batch, self.mode)?;
        }
        Ok(x)
    }

    /// Token states of the last layer, `[batch * seq, hidden]`.
    pub fn forward(&self, batch: &Batch) -> Result<Tensor> {
        let x = self.embed(batch)?;
        self.run_layers(x, batch, 0, self.layers.len())
    }
}

/// Mean of the token states over each item's real tokens, L2-normalised: the sentence embedding
/// all-MiniLM-L6-v2 was trained to produce. Returns `[batch, hidden]`.
pub fn mean_pool(x: &Tensor, batch: &Batch) -> Result<Tensor> {
    let mean = batch.pool.matmul(x)?;
    let norm = mean
        .sqr()?
        .sum_keepdim(D::Minus1)?
        .sqrt()?
        .clamp(1e-12, f64::MAX)?;
    Ok(mean.broadcast_div(&norm)?)
}

/// The dtype the encoder computes in.
pub const DTYPE: DType = DType::F32;
