//! Tokenize + encode + classify throughput at batch 1, 8, 32 and 64 of short backlog items.
//! Needs the models (`scripts/fetch-models`). Run: `cargo bench --bench classify`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use storylens::model::classifier::ClassifierOptions;
use storylens::model::loader::{default_classifier_dir, Locations};
use storylens::model::{Classifier, Encoded, Model};

fn short_items() -> Vec<String> {
    let data = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/training-data/valid.jsonl"
    ))
    .expect("training-data/valid.jsonl");
    data.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .filter(|t| !t.contains('\n'))
        .take(256)
        .collect()
}

fn bench(c: &mut Criterion) {
    let model = Classifier::load(&ClassifierOptions {
        locations: Locations::default(),
        classifier_dir: default_classifier_dir(),
        max_tokens: 128,
        device: candle_core::Device::Cpu,
        threads: 0,
    })
    .expect("models set up (scripts/fetch-models)");
    let items = short_items();
    let mut group = c.benchmark_group("classify");
    group.sample_size(10);
    for batch in [1usize, 8, 32, 64] {
        let texts: Vec<&str> = items.iter().take(batch).map(String::as_str).collect();
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_with_input(
            BenchmarkId::new("tokenize+encode+classify", batch),
            &texts,
            |b, texts| {
                b.iter(|| {
                    let encoded: Vec<Encoded> =
                        texts.iter().map(|t| model.tokenize(t).unwrap()).collect();
                    let refs: Vec<&Encoded> = encoded.iter().collect();
                    model.predict(&refs).unwrap()
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
