//! A rewrite engine without models, for router tests: a fixed template around the item's work,
//! an optional delay to hold the queue, and the same input errors as the real one.

use std::time::Duration;

use super::{draft, Checks, Rewrite, RewriteEngine, Source};
use crate::analysis::Item;
use crate::model::generator::{render, GenStats};
use crate::{Error, Result};

/// The fake engine.
#[derive(Debug, Default)]
pub struct FakeRewriter {
    delay: Duration,
}

impl FakeRewriter {
    /// An engine that sleeps `delay` per item, to fill queues in tests.
    pub fn with_delay(delay: Duration) -> Self {
        Self { delay }
    }
}

impl RewriteEngine for FakeRewriter {
    fn rewrite(&self, item: &Item) -> Result<Rewrite> {
        std::thread::sleep(self.delay);
        let text = item.model_text();
        if text.trim().is_empty() {
            return Err(Error::InvalidInput("the text is empty".into()));
        }
        if !draft::looks_english(&text) {
            return Err(Error::InvalidInput(
                "the text does not look like English".into(),
            ));
        }
        let (role, goal, benefit) = (
            "user".to_string(),
            "get what I came for".to_string(),
            "I can finish my work".to_string(),
        );
        Ok(Rewrite {
            id: item.id.clone(),
            original: text,
            story: render(&role, &goal, &benefit),
            supporting_task: draft::supporting_task(&item.title),
            acceptance_criteria: draft::acceptance_criteria(&role, &goal),
            role,
            goal,
            benefit,
            verified: false,
            checks: Checks {
                story_probability: 0.0,
                similarity: 0.0,
                findings: Vec::new(),
                failed: vec!["fake engine: nothing verified".into()],
            },
            source: Source::Template,
            candidates: 0,
            note: None,
            stats: GenStats::default(),
        })
    }
}
