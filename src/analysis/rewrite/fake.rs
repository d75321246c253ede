//! A refinement engine without models, for router tests: every item is kept as a task worded
//! by the real task-title rules, with an optional delay to hold the queue and the same input
//! errors as the real one.

use std::sync::Arc;
use std::time::Duration;

use super::{task, validate, Category, Checks, Disposition, Grounding, Profile, Rewrite};
use super::{RewriteEngine, Source};
use crate::analysis::Item;
use crate::model::fake::Gate;
use crate::model::Label;
use crate::Result;

/// The fake engine.
#[derive(Debug, Default)]
pub struct FakeRewriter {
    delay: Duration,
    gate: Option<Arc<Gate>>,
}

impl FakeRewriter {
    /// An engine that sleeps `delay` per item, to fill queues in tests.
    pub fn with_delay(delay: Duration) -> Self {
        Self { delay, gate: None }
    }

    /// Builder-style gate: every item waits at it until the test opens it.
    pub fn with_gate(mut self, gate: Option<Arc<Gate>>) -> Self {
        self.gate = gate;
        self
    }
}

impl RewriteEngine for FakeRewriter {
    fn rewrite(&self, item: &Item, profile: Option<&Profile>) -> Result<Rewrite> {
        if let Some(gate) = &self.gate {
            gate.pass();
        }
        std::thread::sleep(self.delay);
        let text = validate(item)?;
        Ok(Rewrite {
            id: item.id.clone(),
            original: text,
            label: Label::Task,
            confidence: 1.0,
            disposition: Disposition::KeepTask,
            disposition_scores: Default::default(),
            category: Some(Category::Other),
            task: Some(task::task_title(&item.title, Category::Other)),
            why: "fake engine".into(),
            story: None,
            role: profile.and_then(Profile::persona).map(str::to_string),
            goal: None,
            benefit: None,
            supporting_task: None,
            acceptance_criteria: Vec::new(),
            verified: false,
            checks: Checks {
                story_probability: None,
                findings: Vec::new(),
                failed: vec!["fake engine: nothing verified".into()],
            },
            grounding: Grounding::default(),
            source: Source::Extracted,
            note: None,
        })
    }
}
