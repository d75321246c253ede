//! The names refinement answers with: the disposition of an item and the kind of its work.

use serde::{Deserialize, Serialize};

/// The honest next step for an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Disposition {
    /// Maintenance or internal work that names no user outcome: keep it as a task.
    KeepTask,
    /// A task written in the story template: the task without the wrapper (and a story only
    /// when the benefit names a user outcome).
    Unwrap,
    /// Technical work whose text names a user-visible outcome: a story about that outcome with
    /// the work as its supporting task.
    OutcomeStory,
    /// A fix framed as work: an outcome title with the fix as its task.
    Reframe,
    /// Already a user story.
    AlreadyStory,
}

impl Disposition {
    /// Every disposition, in the order of the disposition head's outputs.
    pub const ALL: [Disposition; 5] = [
        Disposition::KeepTask,
        Disposition::Unwrap,
        Disposition::OutcomeStory,
        Disposition::Reframe,
        Disposition::AlreadyStory,
    ];

    /// The name used in JSON and data files.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::KeepTask => "keep-task",
            Disposition::Unwrap => "unwrap",
            Disposition::OutcomeStory => "outcome-story",
            Disposition::Reframe => "reframe",
            Disposition::AlreadyStory => "already-story",
        }
    }
}

/// What kind of technical work an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Dependency,
    BuildCi,
    Refactor,
    Test,
    Infra,
    Data,
    Security,
    Docs,
    Spike,
    Performance,
    Fix,
    Other,
}

impl Category {
    /// Every category, in the order of the category head's outputs.
    pub const ALL: [Category; 12] = [
        Category::Dependency,
        Category::BuildCi,
        Category::Refactor,
        Category::Test,
        Category::Infra,
        Category::Data,
        Category::Security,
        Category::Docs,
        Category::Spike,
        Category::Performance,
        Category::Fix,
        Category::Other,
    ];

    /// The name used in JSON and data files.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Dependency => "dependency",
            Category::BuildCi => "build-ci",
            Category::Refactor => "refactor",
            Category::Test => "test",
            Category::Infra => "infra",
            Category::Data => "data",
            Category::Security => "security",
            Category::Docs => "docs",
            Category::Spike => "spike",
            Category::Performance => "performance",
            Category::Fix => "fix",
            Category::Other => "other",
        }
    }

    /// What the work is, for the one-line `why`.
    pub(super) fn phrase(self) -> &'static str {
        match self {
            Category::Dependency => "A dependency change",
            Category::BuildCi => "Build or CI work",
            Category::Refactor => "A refactor",
            Category::Test => "Test work",
            Category::Infra => "Infrastructure work",
            Category::Data => "Data work",
            Category::Security => "Security work",
            Category::Docs => "Documentation for the team",
            Category::Spike => "A spike",
            Category::Performance => "Performance work on an internal part",
            Category::Fix => "A fix to an internal part",
            Category::Other => "Internal work",
        }
    }
}

impl Category {
    /// The category a title names outright, overriding the category head: "Update the
    /// matchTemplate docstring" is docs work whatever else its words suggest.
    pub(super) fn named_in(title: &str) -> Option<Category> {
        lazy_regex!(
            docs_re,
            r"(?i)\b(?:docstrings?|documentation|readme|javadoc|jsdoc|typos?\s+in\s+(?:the\s+)?docs?|(?:to|in)\s+(?:the\s+)?(?:\w+\s+)?samples?)\b"
        );
        // A named defect of the code ("Data race on vptr in BaseIndex") is a fix, not a spike.
        lazy_regex!(
            defect_re,
            r"(?i)\b(?:data\s+races?|race\s+conditions?|deadlocks?|memory\s+leaks?|use[-\s]after[-\s]free|segfaults?|segmentation\s+faults?|null\s+pointer\s+dereference)\b"
        );
        let first = title.lines().next().unwrap_or("");
        if docs_re().is_match(first) {
            return Some(Category::Docs);
        }
        defect_re().is_match(first).then_some(Category::Fix)
    }

    /// Whether this kind of work is the team's own: its tooling, tests, code or infrastructure,
    /// which a fix or a speed-up of never reaches a user directly.
    pub(super) fn is_internal(self) -> bool {
        matches!(
            self,
            Category::Dependency
                | Category::BuildCi
                | Category::Refactor
                | Category::Test
                | Category::Infra
                | Category::Docs
        )
    }
}

#[cfg(test)]
#[test]
fn titles_that_name_docs_work_are_docs() {
    assert_eq!(
        Category::named_in("Update matchTemplate with mask docstring"),
        Some(Category::Docs)
    );
    assert_eq!(
        Category::named_in("Added Aruco-based QR code detection method to python sample"),
        Some(Category::Docs)
    );
    assert_eq!(Category::named_in("Resample audio at 48 kHz"), None);
    assert_eq!(
        Category::named_in("ThreadSanitizer: data race on vptr in BaseIndex"),
        Some(Category::Fix)
    );
}

impl Disposition {
    /// The column of this disposition in the head's output.
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|d| *d == self).expect("listed")
    }
}
