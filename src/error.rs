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
    /// Model weights are not what the code expects (shape, name, device).
    #[error("model: {0}")]
    Model(String),
    /// A requested device is not available in this build or on this machine.
    #[error("device: {0}")]
    Device(String),
    /// A failure of ours, not of the input.
    #[error("internal error: {0}")]
    Internal(String),
    /// A request larger than the service can ever take (more items than its queue holds).
    #[error("{0}")]
    TooLarge(String),
    /// The service is at capacity now; the same request can succeed later.
    #[error("server is at capacity ({message}); retry in {retry_after_s} s")]
    Overloaded { message: String, retry_after_s: u64 },
    /// Work took longer than its deadline.
    #[error("timed out after {0} ms")]
    Timeout(u64),
    /// The service is shutting down and takes no new work.
    #[error("shutting down")]
    ShuttingDown,
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

/// Whose fault an error is: the one taxonomy every transport maps from (HTTP statuses in
/// `http::error`, exit codes and messages in the CLI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller's input; the message says what to change.
    Input,
    /// Too much at once or shutting down; retrying later can succeed.
    Unavailable,
    /// A model or artifact is missing, corrupt or failed to run.
    Model,
    /// A failure of ours.
    Internal,
}

impl Error {
    /// The kind of failure, for status codes and logs.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput(_) | Error::TooLarge(_) => ErrorKind::Input,
            Error::Overloaded { .. } | Error::Timeout(_) | Error::ShuttingDown => {
                ErrorKind::Unavailable
            }
            Error::ModelMissing { .. }
            | Error::HeadMissing(_)
            | Error::Checksum { .. }
            | Error::Tokenizer(_)
            | Error::Candle(_)
            | Error::Model(_)
            | Error::Device(_) => ErrorKind::Model,
            Error::Io { .. } | Error::Json { .. } | Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
