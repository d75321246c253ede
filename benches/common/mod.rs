//! What both benches need: realistic items and the real classifier.

use storylens::model::classifier::ClassifierOptions;
use storylens::model::loader::{default_classifier_dir, Locations};
use storylens::model::Classifier;

/// Texts of the validation split, optionally only one-line items of at most `max_words` words.
pub fn valid_items(max_words: Option<usize>) -> Vec<String> {
    let data = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/training-data/valid.jsonl"
    ))
    .expect("training-data/valid.jsonl");
    data.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .filter(|t| {
            max_words.is_none_or(|m| !t.contains('\n') && t.split_whitespace().count() <= m)
        })
        .collect()
}

/// The committed classifier on the CPU (needs `scripts/fetch-models`), in the precision
/// `STORYLENS_PRECISION` names (auto, int8, f32; default auto), as the CLI reads it.
pub fn classifier() -> Classifier {
    use clap::ValueEnum;
    let precision = std::env::var("STORYLENS_PRECISION")
        .ok()
        .map(|p| storylens::model::Precision::from_str(&p, true).expect("STORYLENS_PRECISION"))
        .unwrap_or(storylens::model::Precision::Auto);
    storylens::tune_allocator();
    Classifier::load(&ClassifierOptions {
        locations: Locations::default(),
        classifier_dir: default_classifier_dir(),
        max_tokens: 128,
        device: candle_core::Device::Cpu,
        threads: 0,
        precision,
    })
    .expect("models set up (scripts/fetch-models)")
}
