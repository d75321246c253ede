//! Backlog items and what is wrong with them: story parts, findings and quality scores.

/// Defines `fn $name() -> &'static Regex`, compiled once on first use.
macro_rules! lazy_regex {
    ($(#[$doc:meta])* $name:ident, $pattern:expr) => {
        $(#[$doc])*
        fn $name() -> &'static regex::Regex {
            static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
            RE.get_or_init(|| regex::Regex::new($pattern).expect(stringify!($name)))
        }
    };
}

pub mod findings;
pub mod item;
pub mod parts;
pub mod report;
pub mod rewrite;
pub mod terms;

pub use findings::{Analysis, Analyzer, Code, Finding, Severity};
pub use item::Item;
pub use parts::{Span, StoryParts};
pub use report::ClassifyResult;
pub use terms::Terms;
