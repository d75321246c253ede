//! Command-line and environment configuration: one clap tree, every flag also an environment
//! variable (`STORYLENS_*`), passed down as whole structs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::model::classifier::ClassifierOptions;
use crate::model::loader::{self, Locations};
use crate::model::DeviceChoice;

/// Every default of the service in one place: the flags, the `Default` impls and the benches
/// read them from here.
pub mod defaults {
    /// Characters of description prose the classifier reads after a short title.
    pub const DESCRIPTION_CHARS: usize = 60;
    /// Titles with fewer words than this get the start of their description read too.
    pub const SHORT_TITLE_WORDS: usize = 5;
    /// Address `serve` listens on.
    pub const HOST: &str = "127.0.0.1";
    /// Port `serve` listens on.
    pub const PORT: u16 = 8080;
    /// Padded tokens per model batch.
    pub const MAX_BATCH_TOKENS: usize = 4096;
    /// Items per model batch.
    pub const MAX_BATCH_ITEMS: usize = 32;
    /// Items waiting for the model at most.
    pub const MAX_QUEUED_ITEMS: usize = 4096;
    /// Model worker threads.
    pub const WORKERS: usize = 1;
    /// Items per request at most.
    pub const MAX_ITEMS_PER_REQUEST: usize = 1024;
    /// Request body bytes at most.
    pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
    /// Seconds a request may wait for its results.
    pub const REQUEST_TIMEOUT_S: f64 = 30.0;
    /// Open connections at most.
    pub const MAX_CONNECTIONS: usize = 1024;
    /// Seconds a client has to send a request's headers.
    pub const HEADER_READ_TIMEOUT_S: f64 = 10.0;
    /// Longest request target (path and query) answered; longer gets a JSON 414.
    pub const MAX_URI_BYTES: usize = 8 * 1024;
    /// Most header bytes (names, values and separators) answered; more gets a JSON 431.
    pub const MAX_HEADER_BYTES: usize = 16 * 1024;
    /// Most header fields answered; more gets a JSON 431.
    pub const MAX_HEADERS: usize = 64;
    /// The connection layer's own read buffer and header count, set above the limits the
    /// router answers in JSON so that only grossly oversized heads get hyper's bare answer.
    pub const CONNECTION_READ_BUFFER_BYTES: usize = 64 * 1024;
    /// See [`CONNECTION_READ_BUFFER_BYTES`].
    pub const CONNECTION_MAX_HEADERS: usize = 128;
    /// Longest pause, in seconds, while a client sends a body.
    pub const BODY_READ_TIMEOUT_S: f64 = 30.0;
    /// Seconds in-flight requests get to finish after a shutdown signal.
    pub const SHUTDOWN_GRACE_S: f64 = 30.0;
    /// The public GitHub REST API.
    pub const GITHUB_API_URL: &str = "https://api.github.com";
    /// Attempts per tracker call.
    pub const TRACKER_ATTEMPTS: u32 = 4;
    /// Results kept in the LRU cache.
    pub const CACHE_SIZE: usize = 10_000;
    /// Rewrite worker threads.
    pub const REWRITE_WORKERS: usize = 1;
    /// Rewrite items waiting at most.
    pub const MAX_QUEUED_REWRITES: usize = 32;
    /// Items per rewrite request at most.
    pub const MAX_REWRITE_ITEMS: usize = 16;
    /// Seconds a rewrite request may wait.
    pub const REWRITE_TIMEOUT_S: f64 = 120.0;
    /// Items per model batch in commands.
    pub const SCORE_BATCH_SIZE: usize = 64;
    /// Cosine similarity at or above which two items are near-duplicates (calibrated with
    /// `storylens eval-duplicates` on `training-data/duplicate-pairs.jsonl`).
    pub const DUPLICATE_THRESHOLD: f32 = 0.86;
    /// Items compared for near-duplicates in one backlog (each with every earlier one).
    pub const DUPLICATE_LIMIT: usize = 20_000;
}

/// storylens: tells user stories from technical tasks in agile backlogs.
#[derive(Debug, Parser)]
#[command(name = "storylens", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Label items as user story or technical task (arguments, stdin lines, or a JSONL file).
    Classify(ClassifyArgs),
    /// Evaluate the classifier on a labelled JSONL file.
    Eval(EvalArgs),
    /// Retrain the classifier from training-data/ and rewrite models/storylens.
    Train(TrainArgs),
    /// Serve the HTTP API.
    // Boxed: the server has many more settings than any other command.
    Serve(Box<crate::http::ServeArgs>),
    /// Refine items: disposition, honest task title, grounded story (arguments or stdin lines).
    Rewrite(RewriteArgs),
    /// Evaluate refinements against gold dispositions in a JSONL file.
    EvalRewrite(EvalRewriteArgs),
    /// Calibrate the near-duplicate threshold on labelled pairs of items.
    EvalDuplicates(EvalDuplicatesArgs),
    /// Train the refinement heads (disposition, category) on training-data/refine/.
    TrainRefine(TrainRefineArgs),
    /// Score whole backlog exports (Jira CSV, GitHub JSON, JSONL, CSV, text) into rows and a report.
    Score(ScoreArgs),
    /// Check backlog files against the findings for CI: annotations out, exit 1 when a finding
    /// reaches --fail-on.
    Lint(LintArgs),
    /// Work with the feedback store.
    Feedback(FeedbackArgs),
    /// Measure tokenize + encode + classify on a file of items at several batch sizes.
    Bench(BenchArgs),
}

pub use crate::model::Precision;

/// `storylens bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Items, one a line, or JSONL in any item shape.
    #[arg(long)]
    pub input: PathBuf,
    /// Batch sizes to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32,64")]
    pub batch: Vec<usize>,
    /// Precisions to measure side by side, alternating per batch size [default: the global
    /// `--precision`].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub precisions: Vec<Precision>,
    /// Seconds measured per batch size (after one warm-up batch).
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `storylens feedback`.
#[derive(Debug, Args)]
pub struct FeedbackArgs {
    #[command(subcommand)]
    pub command: FeedbackCommand,
}

/// What to do with feedback.
#[derive(Debug, Subcommand)]
pub enum FeedbackCommand {
    /// Write the team's verdicts as labelled training rows (JSONL: text, label, form, project,
    /// verdict); rejected label suggestions become the other label.
    Export(FeedbackExportArgs),
}

/// `storylens feedback export`.
#[derive(Debug, Args)]
pub struct FeedbackExportArgs {
    /// The SQLite store `serve --db` wrote.
    #[arg(long, env = "STORYLENS_DB")]
    pub db: Option<PathBuf>,
    /// Or a PostgreSQL URL.
    #[arg(long, env = "STORYLENS_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Only this project's records.
    #[arg(long)]
    pub project: Option<String>,
    /// Output file (JSONL).
    #[arg(long)]
    pub out: PathBuf,
}

/// How severe a finding must be to fail `storylens lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Never,
}

/// Output of `storylens lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// `file:line: severity code: message` lines.
    Text,
    /// One JSON object: findings and counts.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// GitHub Actions workflow commands (`::warning file=…,line=…::…`).
    Github,
}

/// `storylens lint`. Exit codes: 0 nothing reached --fail-on, 1 something did (or a row could
/// not be read), 2 the run failed.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Backlog files in any format `score` reads; `-` (or none) reads stdin.
    pub files: Vec<PathBuf>,
    /// The least severe finding that fails the run.
    #[arg(long, env = "STORYLENS_FAIL_ON", value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Output format.
    #[arg(long, env = "STORYLENS_LINT_FORMAT", value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
    /// Read every file as this format instead of detecting it.
    #[arg(long = "input-format", env = "STORYLENS_INPUT_FORMAT", value_enum)]
    pub input_format: Option<crate::backlog::read::Format>,
    /// The CSV column holding each item's title or text.
    #[arg(long, env = "STORYLENS_TEXT_COLUMN")]
    pub text_column: Option<String>,
}

/// `storylens score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Export files; the format of each is detected from its extension and content.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Read every file as this format instead of detecting it.
    #[arg(long = "input-format", env = "STORYLENS_INPUT_FORMAT", value_enum)]
    pub input_format: Option<crate::backlog::read::Format>,
    /// The CSV column holding each item's title or text.
    #[arg(long, env = "STORYLENS_TEXT_COLUMN")]
    pub text_column: Option<String>,
    /// Write one row per item here: CSV for `.csv`, else JSON lines [default: JSON lines on stdout].
    #[arg(long, env = "STORYLENS_OUT")]
    pub out: Option<PathBuf>,
    /// Write a summary here: HTML for `.html`/`.htm`, JSON for `.json` (the summary line of
    /// `/v1/score`), else Markdown. Near-duplicate items are grouped in it.
    #[arg(long, env = "STORYLENS_REPORT")]
    pub report: Option<PathBuf>,
    /// Items per model batch.
    #[arg(long, env = "STORYLENS_BATCH_SIZE", default_value_t = defaults::SCORE_BATCH_SIZE)]
    pub batch_size: usize,
    /// Also refine every item labelled task (disposition and task title, or a grounded story).
    #[arg(long)]
    pub rewrite: bool,
    /// Cosine similarity at or above which the report groups two items as near-duplicates
    /// (1 or more: no grouping).
    #[arg(long, env = "STORYLENS_DUPLICATE_THRESHOLD", default_value_t = defaults::DUPLICATE_THRESHOLD)]
    pub duplicate_threshold: f32,
    /// Never show the progress bar (it shows only when stderr is a terminal anyway).
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub tuning: RewriteTuning,
}

/// Where the models are and how they run; shared by every command.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Directory holding the base encoder's files directly (config.json, tokenizer.json,
    /// model.safetensors); overrides the Hugging Face cache.
    #[arg(long, env = "STORYLENS_MODEL_DIR", global = true)]
    pub model_dir: Option<PathBuf>,
    /// Hugging Face cache folder to resolve models from [default: models/hub, then $HF_HOME/hub].
    #[arg(long, env = "STORYLENS_HUB_CACHE", global = true)]
    pub hub_cache: Option<PathBuf>,
    /// Directory of the trained classifier artifacts [default: models/storylens].
    #[arg(long, env = "STORYLENS_CLASSIFIER_DIR", global = true)]
    pub classifier_dir: Option<PathBuf>,
    /// Compute device.
    #[arg(long, env = "STORYLENS_DEVICE", value_enum, default_value_t = DeviceChoice::Auto, global = true)]
    pub device: DeviceChoice,
    /// Tokens per item; longer items are truncated and flagged.
    #[arg(
        long,
        env = "STORYLENS_MAX_TOKENS",
        default_value_t = 128,
        global = true
    )]
    pub max_tokens: usize,
    /// Allow downloading missing models from the Hugging Face Hub (needs a build with the
    /// `hub-download` feature and a network).
    #[arg(long, env = "STORYLENS_ALLOW_DOWNLOAD", global = true)]
    pub allow_download: bool,
    /// CPU threads the model splits each batch across (0: one per core).
    #[arg(long, env = "STORYLENS_THREADS", default_value_t = 0, global = true)]
    pub threads: usize,
    /// Encoder arithmetic: `int8` (integer matrix multiplies, AVX512-VNNI), `f32` (the
    /// reference), or `auto` (int8 where the CPU has VNNI, else f32).
    #[arg(long, env = "STORYLENS_PRECISION", value_enum, default_value_t = Precision::Auto, global = true)]
    pub precision: Precision,
    /// Characters of the description the classifier reads after a short title (the start of
    /// the prose; code blocks and templates skipped); 0 reads titles only. The same for every
    /// command and the server, so an item gets the same answer everywhere.
    #[arg(long, env = "STORYLENS_DESCRIPTION_CHARS", default_value_t = defaults::DESCRIPTION_CHARS, global = true)]
    pub description_chars: usize,
    /// Titles with fewer words than this get the start of their description read too.
    #[arg(long, env = "STORYLENS_SHORT_TITLE_WORDS", default_value_t = defaults::SHORT_TITLE_WORDS, global = true)]
    pub short_title_words: usize,
    /// Extra implementation terms (one per line) that raise `implementation-detail` in stories,
    /// added to the built-in data/implementation-terms.txt.
    #[arg(long, env = "STORYLENS_IMPLEMENTATION_TERMS", global = true)]
    pub implementation_terms: Option<PathBuf>,
}

impl ModelArgs {
    /// Where to look for model files.
    pub fn locations(&self) -> Locations {
        Locations {
            model_dir: self.model_dir.clone(),
            hub_cache: self.hub_cache.clone(),
            allow_download: self.allow_download,
        }
    }

    /// The classifier artifacts directory.
    pub fn classifier_dir(&self) -> PathBuf {
        self.classifier_dir
            .clone()
            .unwrap_or_else(loader::default_classifier_dir)
    }

    /// What the classifier reads of each item.
    pub fn text_policy(&self) -> crate::service::TextPolicy {
        crate::service::TextPolicy {
            description_chars: self.description_chars,
            short_title_words: self.short_title_words,
        }
    }

    /// The findings analyser, with any extra implementation terms.
    pub fn analyzer(&self) -> crate::Result<crate::analysis::Analyzer> {
        let terms = crate::analysis::Terms::load(self.implementation_terms.as_deref())?;
        Ok(crate::analysis::Analyzer::new(terms))
    }

    /// Loads the refiner for commands: the classifier behind a scoring core of its own (one
    /// item at a time), the findings analyser and the refinement heads.
    pub fn rewriter(
        &self,
        profile: Option<crate::analysis::rewrite::Profile>,
    ) -> crate::Result<crate::analysis::rewrite::Rewriter> {
        let classifier =
            std::sync::Arc::new(crate::model::Classifier::load(&self.classifier_options()?)?);
        let scorer =
            crate::service::Scorer::standalone(classifier, self.analyzer()?, self.text_policy(), 1);
        self.rewriter_with(std::sync::Arc::new(scorer), profile)
    }

    /// The refiner on a running scoring core (so a server or a bulk command loads the model
    /// once, and a refinement is classified as `/v1/classify` classifies).
    pub fn rewriter_with(
        &self,
        scorer: std::sync::Arc<crate::service::Scorer>,
        profile: Option<crate::analysis::rewrite::Profile>,
    ) -> crate::Result<crate::analysis::rewrite::Rewriter> {
        let heads = crate::model::refine_head::RefineHeads::load(&self.classifier_dir())?;
        Ok(crate::analysis::rewrite::Rewriter::new(
            scorer, heads, profile,
        ))
    }

    /// Everything needed to load the classifier.
    pub fn classifier_options(&self) -> crate::Result<ClassifierOptions> {
        Ok(ClassifierOptions {
            locations: self.locations(),
            classifier_dir: self.classifier_dir(),
            max_tokens: self.max_tokens,
            device: self.device.open()?,
            threads: self.threads,
            precision: self.precision,
        })
    }
}

/// Output format for people or programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// One JSON object per item (JSON lines).
    Json,
    /// A readable table.
    Text,
}

/// `storylens classify`.
#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Items to classify; without any (and without --input), one item per line is read from stdin.
    pub texts: Vec<String>,
    /// A JSONL file of items (`text`, or `title` with optional `description`; optional `id`).
    #[arg(long, env = "STORYLENS_INPUT", conflicts_with = "texts")]
    pub input: Option<PathBuf>,
    /// Output format.
    #[arg(long, env = "STORYLENS_FORMAT", value_enum, default_value_t = OutputFormat::Json)]
    pub format: OutputFormat,
    /// Items per model batch when reading a stream or file.
    #[arg(long, env = "STORYLENS_BATCH_SIZE", default_value_t = 32)]
    pub batch_size: usize,
}

/// `storylens eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Labelled JSONL file (`text`, `label`; optional `form`).
    #[arg(long, env = "STORYLENS_EVAL_DATA")]
    pub data: PathBuf,
    /// Print exactly one JSON object instead of a report.
    #[arg(long)]
    pub json: bool,
    /// Also list the misclassified rows with confidence, form and findings.
    #[arg(long)]
    pub errors: bool,
}

/// `storylens train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training rows.
    #[arg(
        long,
        env = "STORYLENS_TRAIN_FILE",
        default_value = "training-data/train.jsonl"
    )]
    pub train: PathBuf,
    /// Validation rows (early stopping, calibration).
    #[arg(
        long,
        env = "STORYLENS_VALID_FILE",
        default_value = "training-data/valid.jsonl"
    )]
    pub valid: PathBuf,
    /// Output directory for artifacts [default: the classifier directory].
    #[arg(long, env = "STORYLENS_TRAIN_OUT")]
    pub out: Option<PathBuf>,
    /// Top encoder layers to fine-tune (0: head only).
    #[arg(long, env = "STORYLENS_TUNED_LAYERS", default_value_t = 2)]
    pub tuned_layers: usize,
    /// Training epochs; the epoch with the best validation loss is kept.
    #[arg(long, env = "STORYLENS_EPOCHS", default_value_t = 3)]
    pub epochs: usize,
    /// AdamW learning rate of the tuned encoder layers.
    #[arg(long, env = "STORYLENS_LR", default_value_t = 1e-4)]
    pub lr: f64,
    /// AdamW learning rate of the head.
    #[arg(long, env = "STORYLENS_HEAD_LR", default_value_t = 2e-2)]
    pub head_lr: f64,
    /// Items per training step.
    #[arg(long, env = "STORYLENS_TRAIN_BATCH", default_value_t = 16)]
    pub batch_size: usize,
    /// Seed for initialisation and shuffling.
    #[arg(long, env = "STORYLENS_SEED", default_value_t = 42)]
    pub seed: u64,
    /// Feedback rows (`storylens feedback export`) added to the training rows; with `--eval`,
    /// the figures of the model in use are printed first, so before and after can be compared.
    #[arg(
        long = "with-feedback",
        env = "STORYLENS_WITH_FEEDBACK",
        value_delimiter = ','
    )]
    pub with_feedback: Vec<PathBuf>,
    /// Extra labelled files evaluated after training and recorded in the manifest.
    #[arg(long = "eval", env = "STORYLENS_TRAIN_EVAL", value_delimiter = ',')]
    pub eval: Vec<PathBuf>,
}

/// How items are refined; shared by `rewrite`, `eval-rewrite`, `score` and `serve`.
#[derive(Debug, Clone, Default, Args)]
pub struct RewriteTuning {
    /// Product profile (TOML: `name`, `description`, `personas`, `glossary`): outcome stories
    /// may use its personas and terms. Without one, only the item's own words and generic roles.
    #[arg(long, env = "STORYLENS_PROFILE")]
    pub profile: Option<PathBuf>,
}

impl RewriteTuning {
    /// The product profile, read and checked.
    pub fn profile(&self) -> crate::Result<Option<crate::analysis::rewrite::Profile>> {
        self.profile
            .as_deref()
            .map(crate::analysis::rewrite::Profile::load)
            .transpose()
    }
}

/// `storylens rewrite`.
#[derive(Debug, Args)]
pub struct RewriteArgs {
    /// Items to rewrite; without any (and without --input), one item per line is read from stdin.
    pub texts: Vec<String>,
    /// A JSONL file of items (`text`, or `title` with optional `description`; optional `id`).
    #[arg(long, env = "STORYLENS_INPUT", conflicts_with = "texts")]
    pub input: Option<PathBuf>,
    /// Output format.
    #[arg(long, env = "STORYLENS_FORMAT", value_enum, default_value_t = OutputFormat::Json)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub tuning: RewriteTuning,
}

/// `storylens eval-rewrite`.
#[derive(Debug, Args)]
pub struct EvalRewriteArgs {
    /// JSONL file of rows with `text` and a gold `disposition` (optional `category`,
    /// `reference`).
    #[arg(long, env = "STORYLENS_EVAL_DATA")]
    pub data: PathBuf,
    /// Print exactly one JSON object instead of a report.
    #[arg(long)]
    pub json: bool,
    /// Refine at most this many rows (0: all).
    #[arg(long, default_value_t = 0)]
    pub limit: usize,
    /// Write every refinement as JSON lines to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub tuning: RewriteTuning,
}

/// `storylens eval-duplicates`.
#[derive(Debug, Args)]
pub struct EvalDuplicatesArgs {
    /// JSONL file of pairs: `a`, `b` (item texts) and `duplicate` (true/false).
    #[arg(long, default_value = "training-data/duplicate-pairs.jsonl")]
    pub data: PathBuf,
    /// Print exactly one JSON object instead of a report.
    #[arg(long)]
    pub json: bool,
    /// Write every pair with its `similarity` as JSON lines to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `storylens train-refine`.
#[derive(Debug, Args)]
pub struct TrainRefineArgs {
    /// Refinement examples (JSONL; `text`, `disposition`, `category`), comma-separated; labelled
    /// classification rows (`text`, `label`, `form`, `kind`) serve too.
    #[arg(
        long,
        env = "STORYLENS_REFINE_DATA",
        value_delimiter = ',',
        default_value = "training-data/refine/part-a.jsonl,training-data/refine/part-b.jsonl,training-data/refine/part-c.jsonl,training-data/refine/part-d.jsonl,training-data/train.jsonl"
    )]
    pub data: Vec<PathBuf>,
    /// Output directory [default: the classifier directory].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Full-batch gradient steps.
    #[arg(long, default_value_t = 400)]
    pub epochs: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 0.5)]
    pub lr: f64,
    /// L2 weight decay.
    #[arg(long, default_value_t = 1e-4)]
    pub weight_decay: f64,
    /// Seed of the validation split.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}
