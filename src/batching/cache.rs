//! A bounded LRU of results keyed by normalised text: trackers resend unchanged items, and a
//! repeat should cost a hash lookup, not a model pass.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;

use crate::model::Scores;

/// Cached classification of one text.
#[derive(Debug, Clone, Copy)]
pub struct Cached {
    pub scores: Scores,
    pub truncated: bool,
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

    /// The cached result for a normalised key, counting hits and misses.
    pub fn get(&self, key: &str) -> Option<Cached> {
        let inner = self.inner.as_ref()?;
        let hit = inner.lock().expect("cache lock").get(key).copied();
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
        };
        c.put(normalise("A  b"), v);
        c.put(normalise("c"), v);
        assert!(c.get(&normalise("a B")).is_some());
        c.put(normalise("d"), v);
        assert!(c.get("c").is_none(), "least recently used entry evicted");
        assert!(c.get("a b").is_some());
        assert!(ResultCache::new(0).get("a b").is_none());
    }
}
