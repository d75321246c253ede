//! Reference tests of the hand-written model code on the real base weights (after
//! `scripts/fetch-models`): packed batches equal padded ones, the encoder equals
//! candle-transformers' `BertModel` on the same weights, splitting a batch across threads
//! changes nothing, the decoder equals candle-transformers' quantized llama on the same GGUF
//! file, and a forked prefix cache equals the full prompt.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use clap::Parser;

use storylens::config::Cli;
use storylens::model::encoder::{mean_pool, Batch, Encoder};
use storylens::model::{loader, Classifier, Encoded, Model, TextTokenizer};

const TEXTS: [&str; 5] = [
    "Upgrade the build",
    "As a shopper, I want to save items to a wishlist so that I can buy them later",
    "Create a database table for wishlist items",
    "Let patients book appointments online and see their invoices in one place, even on a phone",
    "CI",
];

struct Base {
    encoder: Encoder,
    tokenizer: TextTokenizer,
    files: loader::BaseFiles,
    /// The base model's config.json, as candle-transformers reads it.
    config: String,
}

fn base() -> Base {
    let cli = Cli::parse_from(["storylens", "classify", "x"]);
    let files =
        loader::base_files(&cli.model.locations()).expect("models set up (scripts/fetch-models)");
    let cfg = loader::read_config(&files.config).unwrap();
    let tensors = loader::load_base_tensors(&files.weights, &Device::Cpu).unwrap();
    let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
    let encoder = Encoder::load(vb, &cfg).unwrap();
    let tokenizer = TextTokenizer::from_file(&files.tokenizer, 128).unwrap();
    let config = std::fs::read_to_string(&files.config).unwrap();
    Base {
        encoder,
        tokenizer,
        files,
        config,
    }
}

fn ids(b: &Base) -> Vec<Vec<u32>> {
    TEXTS
        .iter()
        .map(|t| b.tokenizer.encode(t).unwrap().ids)
        .collect()
}

fn pooled(b: &Base, batch: &Batch) -> Vec<Vec<f32>> {
    let x = b.encoder.forward(batch).unwrap();
    mean_pool(&x, batch).unwrap().to_vec2().unwrap()
}

fn max_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn packed_batches_equal_padded_batches() {
    let b = base();
    let ids = ids(&b);
    let rows: Vec<&[u32]> = ids.iter().map(Vec::as_slice).collect();
    let packed = pooled(&b, &Batch::packed(&rows, &Device::Cpu).unwrap());
    let padded = pooled(&b, &Batch::padded(&rows, 0, &Device::Cpu).unwrap());
    let d = max_diff(&packed, &padded);
    eprintln!("packed vs padded: max diff {d:.2e}");
    assert!(d < 1e-5, "packed and padded differ by {d}");
    // Each item alone gives what it gives in the batch.
    for (i, r) in rows.iter().enumerate() {
        let alone = pooled(&b, &Batch::packed(&[r], &Device::Cpu).unwrap());
        let d = max_diff(&alone, &packed[i..=i]);
        assert!(d < 1e-5, "item {i} alone differs by {d}");
    }
}

#[test]
fn the_encoder_matches_candle_transformers_bert_on_the_same_weights() {
    use candle_transformers::models::bert::{BertModel, Config};
    let b = base();
    let config: Config = serde_json::from_str(&b.config).unwrap();
    // SAFETY: the file is the pinned, digest-checked weights, not modified while mapped.
    let vb = unsafe {
        VarBuilder::from_mmaped_safetensors(&[&b.files.weights], DType::F32, &Device::Cpu).unwrap()
    };
    let bert = BertModel::load(vb, &config).unwrap();
    for (text, row) in TEXTS.iter().zip(ids(&b)) {
        let n = row.len();
        let input = Tensor::new(row.as_slice(), &Device::Cpu)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let types = input.zeros_like().unwrap();
        let states = bert
            .forward(&input, &types, None)
            .unwrap()
            .squeeze(0)
            .unwrap();
        let mean = (states.sum(0).unwrap() / n as f64).unwrap();
        let norm = mean.sqr().unwrap().sum_all().unwrap().sqrt().unwrap();
        let reference: Vec<f32> = mean.broadcast_div(&norm).unwrap().to_vec1().unwrap();
        let ours = pooled(&b, &Batch::packed(&[row.as_slice()], &Device::Cpu).unwrap());
        let d = max_diff(&ours, std::slice::from_ref(&reference));
        let cos: f32 = ours[0].iter().zip(&reference).map(|(x, y)| x * y).sum();
        eprintln!("{text:?}: max diff {d:.2e}, cosine {cos:.7}");
        assert!(
            d < 1e-5 && cos > 0.99999,
            "{text:?}: max diff {d}, cosine {cos}"
        );
    }
}

#[test]
fn splitting_a_batch_across_threads_changes_nothing() {
    let load = |threads: &str| -> Classifier {
        let cli = Cli::parse_from(["storylens", "--threads", threads, "classify", "x"]);
        Classifier::load(&cli.model.classifier_options().unwrap()).unwrap()
    };
    let (one, two) = (load("1"), load("2"));
    let encoded: Vec<Encoded> = TEXTS.iter().map(|t| one.tokenize(t).unwrap()).collect();
    let refs: Vec<&Encoded> = encoded.iter().collect();
    let a = one.predict(&refs).unwrap();
    let b = two.predict(&refs).unwrap();
    for (x, y) in a.iter().zip(&b) {
        assert!((x.story - y.story).abs() < 1e-6, "{x:?} vs {y:?}");
    }
}

/// The int8 encoder against the f32 reference on every item of the validation split: pooled
/// embeddings (cosine) and labels. The bars are issue 13's.
#[test]
fn int8_encoder_agrees_with_f32_on_the_validation_split() {
    let load = |precision: &str| -> Classifier {
        let cli = Cli::parse_from(["storylens", "--precision", precision, "classify", "x"]);
        Classifier::load(&cli.model.classifier_options().unwrap()).unwrap()
    };
    let (int8, f32) = (load("int8"), load("f32"));
    assert_eq!(int8.precision(), storylens::model::Precision::Int8);
    let data = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/training-data/valid.jsonl"
    ))
    .unwrap();
    let texts: Vec<String> = data
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let a = int8.scores_and_features(&refs).unwrap();
    let b = f32.scores_and_features(&refs).unwrap();
    let (mut sum, mut min, mut agree) = (0f64, 1f32, 0usize);
    for (((sa, fa), (sb, fb)), text) in a.iter().zip(&b).zip(&texts) {
        let cos: f32 = fa.iter().zip(fb).map(|(x, y)| x * y).sum();
        if cos < min {
            min = cos;
            eprintln!("lowest so far: {cos:.5} {text:?}");
        }
        sum += cos as f64;
        agree += usize::from((sa.story > sa.task) == (sb.story > sb.task));
    }
    let n = texts.len();
    let mean = sum / n as f64;
    let agreement = agree as f64 / n as f64;
    eprintln!("{n} items: cosine mean {mean:.5}, min {min:.5}; labels agree {agreement:.4}");
    assert!(n > 500, "validation split has {n} items");
    assert!(mean >= 0.995, "mean cosine {mean}");
    assert!(min >= 0.99, "min cosine {min}");
    assert!(agreement >= 0.995, "label agreement {agreement}");
}

/// The SmolLM2 decoder from the pinned GGUF file, its tokenizer and the file's path.
fn decoder() -> (
    storylens::model::llama::Llama,
    tokenizers::Tokenizer,
    std::path::PathBuf,
) {
    use storylens::model::generator::GENERATOR_FILE;
    use storylens::model::loader::GENERATOR_REPO;
    let cli = Cli::parse_from(["storylens", "classify", "x"]);
    let path = cli
        .model
        .locations()
        .resolve(GENERATOR_REPO, GENERATOR_FILE)
        .expect("generator set up (scripts/fetch-models)");
    let (llama, ct) = storylens::model::llama::Llama::open(&path, &Device::Cpu).unwrap();
    let tok = storylens::model::bpe::tokenizer_from_gguf(&ct).unwrap();
    (llama, tok, path)
}

fn prompt_ids(tok: &tokenizers::Tokenizer, text: &str) -> Vec<u32> {
    tok.encode_fast(text, false).unwrap().get_ids().to_vec()
}

/// Largest difference of two logit vectors, relative to the largest logit.
fn relative_diff(a: &[f32], b: &[f32]) -> f32 {
    let scale = a.iter().map(|x| x.abs()).fold(1e-6, f32::max);
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
        / scale
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

/// The `k` highest-scoring token ids, best first.
fn top(v: &[f32], k: usize) -> Vec<usize> {
    let mut ids: Vec<usize> = (0..v.len()).collect();
    ids.sort_by(|&a, &b| v[b].total_cmp(&v[a]));
    ids.truncate(k);
    ids
}

fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0
}

const PROMPT: &str = "<|im_start|>user\nRewrite as a task: chore: bump eslint to v9<|im_end|>\n\
                      <|im_start|>assistant\nUpgrade";

#[test]
fn the_decoder_matches_candle_transformers_quantized_llama_on_the_same_file() {
    use candle_core::quantized::gguf_file;
    use candle_transformers::models::quantized_llama::ModelWeights;
    let (llama, tok, path) = decoder();
    let ids = prompt_ids(&tok, PROMPT);
    let ours = {
        let mut cache = storylens::model::llama::KvCache::default();
        let l = llama.forward(&ids, &mut cache).unwrap();
        storylens::model::llama::logits_to_vec(&l).unwrap()
    };
    let theirs = {
        let mut file = std::fs::File::open(&path).unwrap();
        let ct = gguf_file::Content::read(&mut file).unwrap();
        let mut model = ModelWeights::from_gguf(ct, &mut file, &Device::Cpu).unwrap();
        let x = Tensor::new(ids.as_slice(), &Device::Cpu)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let l = model.forward(&x, 0).unwrap();
        storylens::model::llama::logits_to_vec(&l).unwrap()
    };
    assert_eq!(ours.len(), theirs.len());
    let d = relative_diff(&theirs, &ours);
    let c = cosine(&theirs, &ours);
    eprintln!(
        "{} prompt tokens: logit cosine {c:.6}, relative difference {d:.5}",
        ids.len()
    );
    // Candle's 4-bit kernels quantize activations to 8 bits; ours run the dequantized weights
    // in f32 for a prompt, so the two agree closely in direction and ranking, not to 1e-5.
    assert!(c > 0.998, "logit cosine {c}");
    assert!(d < 0.1, "relative difference {d}");
    assert_eq!(top(&ours, 5), top(&theirs, 5));
}

#[test]
fn a_prefix_cache_forked_equals_the_full_prompt() {
    let (llama, tok, _) = decoder();
    let ids = prompt_ids(&tok, PROMPT);
    let split = ids.len() / 2;
    let run = |tokens: &[u32], cache: &mut storylens::model::llama::KvCache| {
        storylens::model::llama::logits_to_vec(&llama.forward(tokens, cache).unwrap()).unwrap()
    };
    let full = run(&ids, &mut Default::default());
    let mut prefix = storylens::model::llama::KvCache::default();
    run(&ids[..split], &mut prefix);
    // A fork that goes elsewhere first leaves the prefix as it was.
    let mut elsewhere = prefix.clone();
    run(
        &prompt_ids(&tok, " something else entirely"),
        &mut elsewhere,
    );
    let mut fork = prefix.clone();
    let forked = run(&ids[split..], &mut fork);
    assert_eq!(fork.len(), ids.len());
    assert_eq!(prefix.len(), split);
    let d = relative_diff(&full, &forked);
    eprintln!("prefix + fork vs full prompt: relative logit difference {d:.2e}");
    assert!(d < 1e-4, "relative difference {d}");
    // Decoding one token at a time (the 8-bit single-row path) after the prefix agrees too.
    let mut stepped = prefix.clone();
    let mut last = Vec::new();
    for &t in &ids[split..] {
        last = run(&[t], &mut stepped);
    }
    let d = relative_diff(&full, &last);
    let c = cosine(&full, &last);
    eprintln!(
        "token-by-token decode vs full prompt: logit cosine {c:.6}, relative difference {d:.5}"
    );
    assert!(c > 0.998, "logit cosine {c}");
    assert!(d < 0.1, "relative difference {d}");
    assert_eq!(argmax(&full), argmax(&last));
}
