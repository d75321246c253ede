//! The int8 MiniLM encoder: the same network as [`super::encoder::Encoder`], with every linear
//! layer an int8 matrix multiply ([`gemm`]) and everything between them fused into a few
//! vectorised passes over packed tokens ([`ops`]). It runs on plain slices, not candle tensors:
//! a batch is a handful of tight loops over buffers reused from the last batch, with no graph,
//! no allocation and no thread hand-off inside a layer.
//!
//! The f32 encoder stays the reference: tests hold this one to it (pooled-embedding cosine and
//! labels), and `--precision f32` selects it.

pub mod gemm;
pub mod ops;

use std::cell::RefCell;
use std::collections::HashMap;

use candle_core::Tensor;

use self::gemm::{Epilogue, Kernel, PackedWeights, QuantRows};
use super::encoder::EncoderConfig;
use crate::{Error, Result};

struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

struct Layer {
    qkv: PackedWeights,
    attn_out: PackedWeights,
    attn_norm: Norm,
    inter: PackedWeights,
    out: PackedWeights,
    out_norm: Norm,
}

/// The int8 encoder, read-only and shared between threads.
pub struct QuantEncoder {
    /// Word embeddings, kept as the loaded tensor (47 MB: not copied).
    word: Tensor,
    position: Vec<f32>,
    token_type: Vec<f32>,
    norm: Norm,
    layers: Vec<Layer>,
    hidden: usize,
    heads: usize,
    eps: f32,
    kernel: Kernel,
}

/// Per-thread buffers, kept from batch to batch.
#[derive(Default)]
struct Scratch {
    x: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    attn: Vec<f32>,
    inter: Vec<f32>,
    quant: QuantRows,
    scores: Vec<f32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

fn take(map: &HashMap<String, Tensor>, name: &str) -> Result<Vec<f32>> {
    let t = map
        .get(name)
        .ok_or_else(|| Error::Model(format!("encoder weights lack {name}")))?;
    Ok(t.flatten_all()?.to_vec1::<f32>()?)
}

fn linear(map: &HashMap<String, Tensor>, name: &str, n: usize, k: usize) -> Result<PackedWeights> {
    let w = take(map, &format!("{name}.weight"))?;
    let b = take(map, &format!("{name}.bias"))?;
    if w.len() != n * k || b.len() != n {
        return Err(Error::Model(format!("{name}: expected a {n}×{k} weight")));
    }
    Ok(PackedWeights::new(&w, &b, n, k))
}

fn norm(map: &HashMap<String, Tensor>, name: &str) -> Result<Norm> {
    Ok(Norm {
        gamma: take(map, &format!("{name}.weight"))?,
        beta: take(map, &format!("{name}.bias"))?,
    })
}

impl QuantEncoder {
    /// Quantizes the encoder weights of `map` (the names [`super::encoder::Encoder::load`]
    /// reads, with fused `attention.qkv`).
    pub fn from_tensors(
        map: &HashMap<String, Tensor>,
        cfg: &EncoderConfig,
        kernel: Kernel,
    ) -> Result<Self> {
        let h = cfg.hidden_size;
        let i = cfg.intermediate_size;
        let word = map
            .get("embeddings.word_embeddings.weight")
            .ok_or_else(|| Error::Model("encoder weights lack word embeddings".into()))?
            .contiguous()?;
        let mut token_type = take(map, "embeddings.token_type_embeddings.weight")?;
        // Every storylens input is a single segment (as in the f32 encoder).
        token_type.truncate(h);
        let layers = (0..cfg.num_hidden_layers)
            .map(|l| {
                let p = format!("encoder.layer.{l}");
                Ok(Layer {
                    qkv: linear(map, &format!("{p}.attention.qkv"), 3 * h, h)?,
                    attn_out: linear(map, &format!("{p}.attention.output.dense"), h, h)?,
                    attn_norm: norm(map, &format!("{p}.attention.output.LayerNorm"))?,
                    inter: linear(map, &format!("{p}.intermediate.dense"), i, h)?,
                    out: linear(map, &format!("{p}.output.dense"), h, i)?,
                    out_norm: norm(map, &format!("{p}.output.LayerNorm"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            word,
            position: take(map, "embeddings.position_embeddings.weight")?,
            token_type,
            norm: norm(map, "embeddings.LayerNorm")?,
            layers,
            hidden: h,
            heads: cfg.num_attention_heads,
            eps: cfg.layer_norm_eps as f32,
            kernel,
        })
    }

    /// The integer kernel in use.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// L2-normalised mean-pooled sentence embeddings, `rows.len() × hidden`, row-major.
    pub fn pooled(&self, rows: &[&[u32]]) -> Result<Vec<f32>> {
        let h = self.hidden;
        let lens: Vec<usize> = rows.iter().map(|r| r.len()).collect();
        if lens.contains(&0) {
            return Err(Error::InvalidInput("an item has no tokens".into()));
        }
        let n: usize = lens.iter().sum();
        if lens.iter().any(|&l| l * h > self.position.len()) {
            return Err(Error::InvalidInput(
                "an item is longer than the model's positions".into(),
            ));
        }
        SCRATCH.with(|s| {
            let s = &mut *s.borrow_mut();
            self.embed(rows, s)?;
            for layer in &self.layers {
                self.layer(layer, &lens, s);
            }
            let mut out = vec![0f32; rows.len() * h];
            ops::mean_pool(&s.x[..n * h], &lens, h, &mut out);
            Ok(out)
        })
    }

    fn embed(&self, rows: &[&[u32]], s: &mut Scratch) -> Result<()> {
        let h = self.hidden;
        let (storage, layout) = self.word.storage_and_layout();
        let candle_core::Storage::Cpu(cpu) = &*storage else {
            return Err(Error::Model("the int8 encoder runs on the CPU only".into()));
        };
        let table = &cpu.as_slice::<f32>()?[layout.start_offset()..];
        s.x.clear();
        for row in rows {
            for (pos, &id) in row.iter().enumerate() {
                let id = id as usize;
                let w = table
                    .get(id * h..(id + 1) * h)
                    .ok_or_else(|| Error::InvalidInput(format!("token id {id} out of range")))?;
                let p = &self.position[pos * h..(pos + 1) * h];
                s.x.extend(
                    w.iter()
                        .zip(p)
                        .zip(&self.token_type)
                        .map(|((a, b), c)| a + b + c),
                );
            }
        }
        ops::add_layer_norm(
            &mut s.x,
            &[],
            &self.norm.gamma,
            &self.norm.beta,
            h,
            self.eps,
        );
        Ok(())
    }

    fn layer(&self, l: &Layer, lens: &[usize], s: &mut Scratch) {
        let h = self.hidden;
        let n = s.x.len() / h;
        let k = self.kernel;
        s.qkv.resize(n * 3 * h, 0.0);
        s.ctx.resize(n * h, 0.0);
        s.attn.resize(n * h, 0.0);
        s.inter.resize(n * l.inter.n, 0.0);

        s.quant.quantize(k, &s.x, n, h);
        gemm::matmul(k, &s.quant, &l.qkv, &mut s.qkv, Epilogue::Bias);
        ops::attention(&s.qkv, lens, self.heads, &mut s.ctx, &mut s.scores);

        s.quant.quantize(k, &s.ctx, n, h);
        gemm::matmul(k, &s.quant, &l.attn_out, &mut s.attn, Epilogue::Bias);
        ops::add_layer_norm(
            &mut s.attn,
            &s.x,
            &l.attn_norm.gamma,
            &l.attn_norm.beta,
            h,
            self.eps,
        );

        s.quant.quantize(k, &s.attn, n, h);
        gemm::matmul(k, &s.quant, &l.inter, &mut s.inter, Epilogue::BiasGelu);

        s.quant.quantize(k, &s.inter, n, l.inter.n);
        gemm::matmul(k, &s.quant, &l.out, &mut s.x, Epilogue::Bias);
        ops::add_layer_norm(
            &mut s.x,
            &s.attn,
            &l.out_norm.gamma,
            &l.out_norm.beta,
            h,
            self.eps,
        );
    }

    /// Bytes of quantized weights and f32 side tables held (the word table excluded).
    pub fn weight_bytes(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.qkv.bytes() + l.attn_out.bytes() + l.inter.bytes() + l.out.bytes())
            .sum::<usize>()
            + 4 * self.position.len()
    }
}
