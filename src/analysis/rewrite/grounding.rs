//! Grounding: every content word of a suggested story must come from the item, from the team's
//! product profile, or from a short documented list of outcome words and generic roles. A story
//! with any other word is never verified: this is what keeps a travel story out of an answer
//! about a date library.

use serde::{Deserialize, Serialize};

use super::words::{fold, STOPWORDS};
use crate::{Error, Result};

/// Words any outcome story may use: how a user experiences a change (speed, reliability,
/// access) and the surfaces they see it on. Nothing here names a domain or a feature.
pub const OUTCOME_WORDS: &[&str] = &[
    "able",
    "access",
    "again",
    "available",
    "change",
    "content",
    "crash",
    "error",
    "fail",
    "fast",
    "faster",
    "find",
    "quick",
    "quickly",
    "keep",
    "load",
    "lose",
    "lost",
    "noticeably",
    "open",
    "page",
    "reliable",
    "reliably",
    "respond",
    "result",
    "screen",
    "see",
    "shown",
    "shows",
    "sign",
    "slow",
    "sooner",
    "start",
    "stop",
    "time",
    "timeout",
    "try",
    "use",
    "wait",
    "waiting",
    "work",
    "working",
    "improve",
    "reliability",
    "problem",
    "described",
    "item",
    "before",
    "usual",
    "expected",
    "correct",
    "correctly",
    "works",
    "gives",
    "case",
    "longer",
    "out",
    "still",
    "same",
    "trying",
    "tries",
];

/// Roles a story may use without the item or profile naming them.
pub const GENERIC_ROLES: &[&str] = &["user", "customer", "visitor", "administrator"];

/// What the team tells storylens about its product, so outcome stories may use its personas
/// and terms. Optional: without one, stories use only the item's words and generic roles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The product's name.
    #[serde(default)]
    pub name: String,
    /// One line on what the product does.
    #[serde(default)]
    pub description: String,
    /// The people who use it ("freelancer", "accountant").
    #[serde(default)]
    pub personas: Vec<String>,
    /// The product's own terms ("invoice", "client portal").
    #[serde(default)]
    pub glossary: Vec<String>,
}

impl Profile {
    /// Reads a TOML profile (`name`, `description`, `personas`, `glossary`).
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        toml::from_str(&text)
            .map_err(|e| Error::InvalidInput(format!("profile {}: {e}", path.display())))
    }

    /// Every word the profile allows, folded.
    fn words(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in [&self.name, &self.description]
            .into_iter()
            .chain(&self.personas)
            .chain(&self.glossary)
        {
            out.extend(content_words(s));
        }
        out
    }

    /// The first persona, when the profile names any: the role outcome stories speak for.
    pub fn persona(&self) -> Option<&str> {
        self.personas
            .iter()
            .map(|p| p.trim())
            .find(|p| !p.is_empty())
    }
}

/// The grounding check's result for one suggested story.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Grounding {
    /// Content words of the story that neither the item, the profile nor the outcome list
    /// supports. Empty means grounded.
    pub unsupported: Vec<String>,
}

impl Grounding {
    /// Whether every word is supported.
    pub fn is_grounded(&self) -> bool {
        self.unsupported.is_empty()
    }
}

/// The folded content words of `text` (stopwords dropped).
fn content_words(text: &str) -> Vec<String> {
    raw_content_words(text)
        .map(fold)
        .filter(|w| !w.is_empty())
        .collect()
}

/// The words of `text` that carry content, as written.
fn raw_content_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .map(|w| w.trim_matches(|c: char| c == '\'' || c == '-'))
        .filter(|w| !w.is_empty() && !STOPWORDS.contains(&w.to_lowercase().as_str()))
}

/// Checks the parts of a story (role, goal, benefit, title) against the item's text.
pub fn check(parts: &[&str], item_text: &str, profile: Option<&Profile>) -> Grounding {
    let mut allowed: std::collections::HashSet<String> =
        content_words(item_text).into_iter().collect();
    allowed.extend(OUTCOME_WORDS.iter().map(|w| fold(w)));
    allowed.extend(GENERIC_ROLES.iter().map(|w| fold(w)));
    if let Some(p) = profile {
        allowed.extend(p.words());
    }
    let mut unsupported = Vec::new();
    for part in parts {
        for w in raw_content_words(part) {
            let f = fold(w);
            if !f.is_empty() && !allowed.contains(&f) && !unsupported.contains(&w.to_lowercase()) {
                unsupported.push(w.to_lowercase());
            }
        }
    }
    Grounding { unsupported }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_words_and_outcome_words_pass() {
        let g = check(
            &["user", "the dashboard to load faster"],
            "Lazy-load the charts library to cut the dashboard bundle",
            None,
        );
        assert!(g.is_grounded(), "{g:?}");
    }

    #[test]
    fn invented_domains_and_personas_fail() {
        let g = check(
            &["traveller", "book flights on the dates I choose"],
            "Replace moment.js with date-fns",
            None,
        );
        assert!(g.unsupported.contains(&"traveller".to_string()), "{g:?}");
        assert!(g.unsupported.contains(&"flights".to_string()), "{g:?}");
    }

    #[test]
    fn profile_terms_are_allowed() {
        let p = Profile {
            name: "Ledgerly".into(),
            description: "Invoicing for freelancers".into(),
            personas: vec!["freelancer".into()],
            glossary: vec!["client portal".into()],
        };
        let g = check(
            &["freelancer", "the client portal to load faster"],
            "Add index on invoices",
            Some(&p),
        );
        assert!(g.is_grounded(), "{g:?}");
        assert!(!check(&["freelancer"], "Add index on invoices", None).is_grounded());
    }
}
