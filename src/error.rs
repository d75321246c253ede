//! The library's error type. Binaries wrap it in `anyhow`; the HTTP layer maps it to status codes
//! in one place (`http::error`).

use std::path::PathBuf;

/// Everything that can go wrong inside the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A model file could not be found in any configured location.
    #[error("model file `{file}` of `{repo}` not found (looked in {searched}); run `scripts/fetch-models` to set the models up")]
    ModelMissing {
        repo: String,
        file: String,
        searched: String,
    },
    /// The trained classifier artifacts are missing.
    #[error("trained classifier not found in {0}; it ships with the repository (models/storylens) or is rebuilt with `storylens train`")]
    HeadMissing(PathBuf),
    /// A model file does not have the pinned digest.
    #[error("{path}: sha256 is {actual}, expected {expected}; run `scripts/fetch-models` again")]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    /// The tokenizer failed to load or to encode.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A tensor operation failed.
    #[error("model: {0}")]
    Candle(#[from] candle_core::Error),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Input the user gave cannot be processed; the message names the item or field.
    #[error("{0}")]
    InvalidInput(String),
    /// A requested device is not available in this build or on this machine.
    #[error("device: {0}")]
    Device(String),
    /// A failure of ours, not of the input.
    #[error("internal error: {0}")]
    Internal(String),
    /// A JSON document (manifest, data row) is malformed.
    #[error("{context}: {source}")]
    Json {
        context: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Shorthand used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
