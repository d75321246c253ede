//! Backlog items and what is wrong with them: story parts, findings and quality scores.

pub mod findings;
pub mod item;
pub mod parts;
pub mod terms;

pub use findings::{Analysis, Analyzer, Code, Finding, Severity};
pub use item::Item;
pub use parts::{Span, StoryParts};
pub use terms::Terms;
