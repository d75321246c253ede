//! Whole backlogs: reading exports (Jira CSV, GitHub issues JSON, JSONL, any CSV, plain text) as a
//! stream of items with their line numbers, scoring them in order, and summarising the result.

pub mod duplicates;
pub mod lines;
pub mod read;
pub mod report;

use serde::Serialize;

use crate::analysis::Item;

/// One backlog row read from an export.
#[derive(Debug, Clone)]
pub struct Record {
    /// The line of the file where the row starts (1-based), for error messages and reports.
    pub line: usize,
    /// The row's item; its id is the tracker's key or number when there is one.
    pub item: Item,
    /// The tracker's own type of the row (Jira `Issue Type`, a GitHub label), when present.
    pub tracker_type: Option<String>,
}

/// A row that could not be read; reported with its line, never silently dropped.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RowError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Whether a tracker type names a user story or a technical item, when it says either.
pub fn tracker_label(tracker_type: &str) -> Option<crate::model::Label> {
    use crate::model::Label;
    match tracker_type.trim().to_ascii_lowercase().as_str() {
        "story" | "user story" | "user-story" | "feature" | "enhancement" | "feature request" => {
            Some(Label::Story)
        }
        "task" | "technical task" | "sub-task" | "subtask" | "chore" | "tech debt"
        | "technical debt" | "spike" | "refactoring" | "maintenance" => Some(Label::Task),
        _ => None,
    }
}
