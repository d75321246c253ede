//! A bounded LRU of results keyed by normalised text: trackers resend unchanged items, and a
//! repeat should cost a hash lookup, not a model pass.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;

use crate::model::Scores;

/// Cached classification of one text.
#[derive(Debug, Clone)]
pub struct Cached {
    pub scores: Scores,
    pub truncated: bool,
    /// The pooled features, when a caller asked for them (the refiner).
    pub features: Option<Arc<[f32]>>,
}

/// The result cache; a size of zero disables it.
pub struct ResultCache {
    inner: Option<Mutex<LruCache<String, Cached>>>,
}

/// The cache key: the model is uncased and whitespace-insensitive, so texts that differ only
/// there get the same answer.
pub fn normalise(text: &str) -> String {
    text.split_whitespace()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

impl ResultCache {
    /// A cache of at most `size` entries.
    pub fn new(size: usize) -> Self {
        Self {
            inner: NonZeroUsize::new(size).map(|n| Mutex::new(LruCache::new(n))),
        }
    }

    /// The cached result for a normalised key, counting hits and misses; an entry without
    /// features does not answer a caller that needs them.
    pub fn get(&self, key: &str, features: bool) -> Option<Cached> {
        let inner = self.inner.as_ref()?;
        let hit = inner
            .lock()
            .expect("cache lock")
            .get(key)
            .filter(|c| !features || c.features.is_some())
            .cloned();
        if hit.is_some() {
            metrics::counter!("storylens_cache_hits_total").increment(1);
        } else {
            metrics::counter!("storylens_cache_misses_total").increment(1);
        }
        hit
    }

    /// Stores a result.
    pub fn put(&self, key: String, value: Cached) {
        if let Some(inner) = &self.inner {
            inner.lock().expect("cache lock").put(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recent_and_normalises() {
        let c = ResultCache::new(2);
        let v = Cached {
            scores: Scores {
                story: 1.0,
                task: 0.0,
            },
            truncated: false,
            features: None,
        };
        c.put(normalise("A  b"), v.clone());
        c.put(normalise("c"), v.clone());
        assert!(c.get(&normalise("a B"), false).is_some());
        assert!(
            c.get("a b", true).is_none(),
            "no features: not an answer for the refiner"
        );
        c.put(normalise("d"), v);
        assert!(
            c.get("c", false).is_none(),
            "least recently used entry evicted"
        );
        assert!(c.get("a b", false).is_some());
        assert!(ResultCache::new(0).get("a b", false).is_none());
    }
}
