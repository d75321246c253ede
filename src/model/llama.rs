//! A small llama decoder (SmolLM2) read from a GGUF file, with an explicit key/value cache that
//! callers own: a cache can be cloned to fork a prompt into several candidates, and the cache of a
//! fixed prompt prefix is computed once and reused for every request.
//!
//! The GGUF weights are 4-bit. Candle's quantized CPU kernels for that format have no SIMD path,
//! so the weights are turned at load into two forms: f32 for prompt processing (many rows, where
//! gemm is fast) and 8-bit blocks for decoding single tokens (one row, where reading the weights
//! from memory is the cost and 8-bit reads 4× fewer bytes than f32).

use std::path::Path;

use candle_core::quantized::{gguf_file, GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Module, Tensor};

use crate::{Error, Result};

/// Hyper-parameters read from the GGUF metadata.
#[derive(Debug, Clone)]
pub struct LlamaConfig {
    /// Decoder layers.
    pub layers: usize,
    /// Width of the residual stream.
    pub hidden: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (grouped-query attention).
    pub kv_heads: usize,
    /// RMS norm epsilon.
    pub eps: f64,
    /// Rotary embedding base.
    pub rope_theta: f32,
    /// Longest sequence the rotary tables cover.
    pub max_positions: usize,
}

impl LlamaConfig {
    fn head_dim(&self) -> usize {
        self.hidden / self.heads
    }

    fn from_gguf(ct: &gguf_file::Content) -> Result<Self> {
        let get = |k: &str| {
            ct.metadata
                .get(k)
                .ok_or_else(|| Error::InvalidInput(format!("GGUF metadata has no `{k}`")))
        };
        Ok(Self {
            layers: get("llama.block_count")?.to_u32()? as usize,
            hidden: get("llama.embedding_length")?.to_u32()? as usize,
            heads: get("llama.attention.head_count")?.to_u32()? as usize,
            kv_heads: get("llama.attention.head_count_kv")?.to_u32()? as usize,
            eps: get("llama.attention.layer_norm_rms_epsilon")?.to_f32()? as f64,
            rope_theta: get("llama.rope.freq_base")
                .and_then(|v| Ok(v.to_f32()?))
                .unwrap_or(10_000.0),
            // Prompts here are a few hundred tokens; the tables are cheap either way.
            max_positions: 2048,
        })
    }
}

/// A weight matrix in the two forms described in the module documentation.
#[derive(Debug, Clone)]
struct Proj {
    dense: Tensor,
    packed: QMatMul,
}

/// Rows at or below this count use the 8-bit weights; more rows use f32 gemm.
const DECODE_ROWS: usize = 4;

impl Proj {
    fn new(q: QTensor, device: &Device) -> Result<Self> {
        let dense = q.dequantize(device)?;
        let packed = match q.dtype() {
            GgmlDType::Q8_0 => QMatMul::from_qtensor(q)?,
            _ => QMatMul::from_qtensor(QTensor::quantize(&dense, GgmlDType::Q8_0)?)?,
        };
        Ok(Self { dense, packed })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.dim(0)? <= DECODE_ROWS && x.device().is_cpu() {
            Ok(self.packed.forward(x)?)
        } else {
            Ok(x.matmul(&self.dense.t()?)?)
        }
    }
}

#[derive(Debug, Clone)]
struct Layer {
    attn_norm: Tensor,
    q: Proj,
    k: Proj,
    v: Proj,
    o: Proj,
    ffn_norm: Tensor,
    gate: Proj,
    up: Proj,
    down: Proj,
}

/// Keys and values of every layer for the tokens seen so far. Cloning is cheap (tensors are
/// shared) and gives an independent continuation point.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
    len: usize,
}

impl KvCache {
    /// Tokens held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no token has been processed yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The decoder and its weights; shared read-only between threads.
#[derive(Debug)]
pub struct Llama {
    cfg: LlamaConfig,
    embed: Tensor,
    lm_head: QMatMul,
    layers: Vec<Layer>,
    norm: Tensor,
    cos: Tensor,
    sin: Tensor,
    device: Device,
}

impl Llama {
    /// Reads the decoder from an open GGUF file.
    pub fn load<R: std::io::Read + std::io::Seek>(
        ct: &gguf_file::Content,
        reader: &mut R,
        device: &Device,
    ) -> Result<Self> {
        let cfg = LlamaConfig::from_gguf(ct)?;
        let mut tensor = |name: &str| ct.tensor(reader, name, device);
        let embed_q = tensor("token_embd.weight")?;
        let embed = embed_q.dequantize(device)?;
        // SmolLM2 ties the output projection to the embeddings.
        let lm_head = match ct.tensor_infos.contains_key("output.weight") {
            true => QMatMul::from_qtensor(tensor("output.weight")?)?,
            false => QMatMul::from_qtensor(embed_q)?,
        };
        let norm = tensor("output_norm.weight")?.dequantize(device)?;
        let mut layers = Vec::with_capacity(cfg.layers);
        for i in 0..cfg.layers {
            let mut proj = |n: &str| Proj::new(tensor(&format!("blk.{i}.{n}.weight"))?, device);
            layers.push(Layer {
                q: proj("attn_q")?,
                k: proj("attn_k")?,
                v: proj("attn_v")?,
                o: proj("attn_output")?,
                gate: proj("ffn_gate")?,
                up: proj("ffn_up")?,
                down: proj("ffn_down")?,
                attn_norm: tensor(&format!("blk.{i}.attn_norm.weight"))?.dequantize(device)?,
                ffn_norm: tensor(&format!("blk.{i}.ffn_norm.weight"))?.dequantize(device)?,
            });
        }
        let half = cfg.head_dim() / 2;
        let inv: Vec<f32> = (0..half)
            .map(|i| 1.0 / cfg.rope_theta.powf(2.0 * i as f32 / cfg.head_dim() as f32))
            .collect();
        let inv = Tensor::from_vec(inv, (1, half), device)?;
        let pos = Tensor::arange(0u32, cfg.max_positions as u32, device)?
            .to_dtype(DType::F32)?
            .reshape((cfg.max_positions, 1))?;
        let freqs = pos.broadcast_mul(&inv)?;
        Ok(Self {
            cos: freqs.cos()?,
            sin: freqs.sin()?,
            embed,
            lm_head,
            layers,
            norm,
            device: device.clone(),
            cfg,
        })
    }

    /// Opens a GGUF file and reads the decoder; also returns the file's metadata for the tokenizer.
    pub fn open(path: &Path, device: &Device) -> Result<(Self, gguf_file::Content)> {
        let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let ct = gguf_file::Content::read(&mut file).map_err(|e| {
            Error::InvalidInput(format!("{}: not a GGUF file: {e}", path.display()))
        })?;
        let model = Self::load(&ct, &mut file, device)?;
        Ok((model, ct))
    }

    /// The longest sequence a cache may grow to.
    pub fn max_positions(&self) -> usize {
        self.cfg.max_positions
    }

    /// Runs `tokens` after what `cache` holds, appends them to it and returns the logits of the
    /// last token (vocabulary size, f32).
    pub fn forward(&self, tokens: &[u32], cache: &mut KvCache) -> Result<Tensor> {
        let t = tokens.len();
        let past = cache.len;
        if t == 0 {
            return Err(Error::InvalidInput("no tokens to run".into()));
        }
        if past + t > self.cfg.max_positions {
            return Err(Error::InvalidInput(format!(
                "prompt of {} tokens exceeds the generator's {} positions",
                past + t,
                self.cfg.max_positions
            )));
        }
        if cache.layers.is_empty() {
            cache.layers = vec![None; self.cfg.layers];
        }
        let ids = Tensor::from_slice(tokens, t, &self.device)?;
        let mut x = self.embed.index_select(&ids, 0)?;
        let cos = self.cos.narrow(0, past, t)?;
        let sin = self.sin.narrow(0, past, t)?;
        let mask = causal_mask(t, past, &self.device)?;
        for (layer, kv) in self.layers.iter().zip(cache.layers.iter_mut()) {
            let h = candle_nn::ops::rms_norm(&x, &layer.attn_norm, self.cfg.eps as f32)?;
            let a = self.attention(layer, &h, &cos, &sin, mask.as_ref(), kv)?;
            x = (x + a)?;
            let h = candle_nn::ops::rms_norm(&x, &layer.ffn_norm, self.cfg.eps as f32)?;
            let g = candle_nn::ops::silu(&layer.gate.forward(&h)?)?;
            let m = layer.down.forward(&(g * layer.up.forward(&h)?)?)?;
            x = (x + m)?;
        }
        cache.len += t;
        let last = x.narrow(0, t - 1, 1)?;
        let last = candle_nn::ops::rms_norm(&last, &self.norm, self.cfg.eps as f32)?;
        Ok(self.lm_head.forward(&last)?.squeeze(0)?)
    }

    fn attention(
        &self,
        layer: &Layer,
        h: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: Option<&Tensor>,
        kv: &mut Option<(Tensor, Tensor)>,
    ) -> Result<Tensor> {
        let (t, hd) = (h.dim(0)?, self.cfg.head_dim());
        let (nh, nkv) = (self.cfg.heads, self.cfg.kv_heads);
        let heads = |x: Tensor, n: usize| -> Result<Tensor> {
            Ok(x.reshape((t, n, hd))?
                .transpose(0, 1)?
                .contiguous()?
                .unsqueeze(0)?)
        };
        let q = heads(layer.q.forward(h)?, nh)?;
        let k = heads(layer.k.forward(h)?, nkv)?;
        let v = heads(layer.v.forward(h)?, nkv)?;
        let q = candle_nn::rotary_emb::rope_i(&q, cos, sin)?.squeeze(0)?;
        let k = candle_nn::rotary_emb::rope_i(&k, cos, sin)?.squeeze(0)?;
        let v = v.squeeze(0)?;
        let (k, v) = match kv.take() {
            Some((pk, pv)) => (Tensor::cat(&[&pk, &k], 1)?, Tensor::cat(&[&pv, &v], 1)?),
            None => (k, v),
        };
        *kv = Some((k.clone(), v.clone()));
        // Grouped-query attention: each key/value head serves nh / nkv query heads.
        let group = nh / nkv;
        let total = k.dim(1)?;
        let q = q.reshape((nkv, group * t, hd))?;
        let scores = (q.matmul(&k.t()?)? / (hd as f64).sqrt())?;
        let scores = match mask {
            Some(m) => scores
                .reshape((nkv, group, t, total))?
                .broadcast_add(m)?
                .reshape((nkv, group * t, total))?,
            None => scores,
        };
        let p = candle_nn::ops::softmax_last_dim(&scores)?;
        let out = p.matmul(&v)?.reshape((nh, t, hd))?;
        let out = out.transpose(0, 1)?.contiguous()?.reshape((t, nh * hd))?;
        layer.o.forward(&out)
    }
}

/// Additive mask hiding later tokens from earlier ones; none needed for a single token.
fn causal_mask(t: usize, past: usize, device: &Device) -> Result<Option<Tensor>> {
    if t == 1 {
        return Ok(None);
    }
    let total = past + t;
    let m: Vec<f32> = (0..t)
        .flat_map(|i| (0..total).map(move |j| if j > past + i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Ok(Some(Tensor::from_vec(m, (t, total), device)?))
}

/// A logits tensor as plain floats.
pub fn logits_to_vec(logits: &Tensor) -> Result<Vec<f32>> {
    Ok(logits.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?)
}
