//! Tokenize + encode + classify throughput at batch 1, 8, 32 and 64 of backlog items, in two sets:
//! `short` (one-line tracker titles of at most 10 words, about 11 tokens with the special tokens)
//! and `mixed` (every one-line item of the validation split, template stories included, about 18
//! tokens). Needs the models (`scripts/fetch-models`). Run: `cargo bench --bench classify`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use storylens::model::{Classifier, Encoded, Model};

mod common;

fn bench(c: &mut Criterion) {
    let model = common::classifier();
    for (set, max_words) in [("short", 10), ("mixed", usize::MAX)] {
        let items: Vec<String> = common::valid_items(Some(max_words))
            .into_iter()
            .take(256)
            .collect();
        let tokens: usize = items
            .iter()
            .take(64)
            .map(|t| model.tokenize(t).unwrap().len())
            .sum();
        eprintln!(
            "{set}: {:.1} tokens per item on average",
            tokens as f64 / items.len().min(64) as f64
        );
        run_set(c, &model, set, &items);
    }
}

fn run_set(c: &mut Criterion, model: &Classifier, set: &str, items: &[String]) {
    let mut group = c.benchmark_group(format!("classify-{set}"));
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
