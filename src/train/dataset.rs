//! Labelled JSONL rows: `text`, `label`, and optional `form`, `domain`, `disguised`.

use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::model::Label;
use crate::{Error, Result};

/// One labelled item.
#[derive(Debug, Clone, Deserialize)]
pub struct Example {
    /// The item's text.
    pub text: String,
    /// Its gold label.
    pub label: Label,
    /// `template` or `free`, when known.
    #[serde(default)]
    pub form: Option<String>,
    /// The product domain, when known.
    #[serde(default)]
    pub domain: Option<String>,
    /// Whether it is a technical task written as a story.
    #[serde(default)]
    pub disguised: Option<bool>,
}

/// Reads labelled rows; a malformed row is an error naming its line.
pub fn read_jsonl(path: &Path) -> Result<Vec<Example>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut rows = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let row: Example = serde_json::from_str(&line).map_err(|source| Error::Json {
            context: format!("{}:{}", path.display(), i + 1),
            source,
        })?;
        if row.text.trim().is_empty() {
            return Err(Error::InvalidInput(format!(
                "{}:{}: text is empty",
                path.display(),
                i + 1
            )));
        }
        rows.push(row);
    }
    Ok(rows)
}

/// sha256 over the bytes of `paths`, in order: identifies the data a model was trained on.
pub fn data_sha256(paths: &[&Path]) -> Result<String> {
    let mut hasher = Sha256::new();
    for p in paths {
        hasher.update(std::fs::read(p).map_err(|e| Error::io(*p, e))?);
    }
    Ok(hex::encode(hasher.finalize()))
}
