//! Story parts: role, goal and benefit of an item written in the story template, with their
//! spans. Accepts the common variants: "As a/an/the …", "I want/need/can/would like …",
//! "so that / in order to / so I can …", markdown emphasis and line breaks between parts.

use serde::Serialize;

/// A byte range of the item's text, always on character boundaries, with the text it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Span {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset just past the last character.
    pub end: usize,
    /// The covered text.
    pub text: String,
}

impl Span {
    /// The span `start..end` of `text`, trimmed of spaces and markdown emphasis.
    pub fn new(text: &str, start: usize, end: usize) -> Option<Self> {
        let inner = &text[start..end];
        let lead = inner.len() - inner.trim_start_matches(TRIM).len();
        let trail = inner.len() - inner.trim_end_matches(TRIM).len();
        let (s, e) = (start + lead, end - trail);
        (s < e).then(|| Self {
            start: s,
            end: e,
            text: text[s..e].to_string(),
        })
    }
}

const TRIM: &[char] = &[' ', '\t', '\r', '\n', '*', '_', ',', '.', ';', ':', '!'];

/// The parts of a template story; each is absent when the item does not state it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StoryParts {
    pub role: Option<Span>,
    pub goal: Option<Span>,
    pub benefit: Option<Span>,
}

impl StoryParts {
    /// Whether the item is written as a story at all (a role or an "I want").
    pub fn is_story_shaped(&self) -> bool {
        self.role.is_some() || self.goal.is_some()
    }
}

lazy_regex!(
    role_re,
    // A leading tag such as `#G17#` (some backlog exports group items this way) is skipped.
    r"(?i)^[\s>*_-]*(?:#\w+#)?[\s>#*_-]*as\s+(?:an?|the)?\b[\s*_]*(?P<role>[^,\n]+?)[\s*_]*(?:,|\n|\bI\b|\bwe\b|$)"
);

lazy_regex!(
    want_re,
    r"(?i)\b(?:I|we)\b[\s*_]*(?:want(?:\s+to)?|need(?:\s+to)?|can|could|would\s+like(?:\s+to)?|'d\s+like(?:\s+to)?|wish\s+to|would\s+love\s+to|should\s+be\s+able\s+to|must\s+be\s+able\s+to|am\s+able\s+to|expect(?:\s+to)?)\b[*_]*"
);

lazy_regex!(
    benefit_re,
    r"(?i)[\s,;.*_]*\b(?:so\s+that|so\s+I\s+can|so\s+we\s+can|so\s+I|in\s+order\s+to|in\s+order\s+that)\b[*_]*"
);

/// Finds the story parts of `text`.
pub fn parse(text: &str) -> StoryParts {
    let mut parts = StoryParts::default();
    let mut rest_from = 0;
    if let Some(c) = role_re().captures(text) {
        let m = c.name("role").expect("role group");
        parts.role = Span::new(text, m.start(), m.end());
        rest_from = m.end();
    }
    let first_benefit = benefit_re().find_at(text, rest_from);
    let want = want_re()
        .find_at(text, rest_from)
        .filter(|w| first_benefit.is_none_or(|b| w.start() < b.start()));
    let Some(want) = want else {
        // "As a manager, so that I can plan": a benefit with no goal.
        if let (Some(_), Some(b)) = (&parts.role, first_benefit) {
            parts.benefit = Span::new(text, b.end(), text.len());
        }
        return parts;
    };
    // Only an "I want" near the start (or right after the role) makes the item a story.
    if parts.role.is_none() && want.start() > 40 {
        return parts;
    }
    let goal_start = want.end();
    match benefit_re().find_at(text, goal_start) {
        Some(b) => {
            parts.goal = Span::new(text, goal_start, b.start());
            parts.benefit = Span::new(text, b.end(), text.len());
        }
        None => parts.goal = Span::new(text, goal_start, text.len()),
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(p: &StoryParts) -> (Option<&str>, Option<&str>, Option<&str>) {
        (
            p.role.as_ref().map(|s| s.text.as_str()),
            p.goal.as_ref().map(|s| s.text.as_str()),
            p.benefit.as_ref().map(|s| s.text.as_str()),
        )
    }

    #[test]
    fn leading_group_tag_is_skipped() {
        let p = parse("#G17# As a plugin developer, I want to upgrade the dataset code.");
        assert_eq!(texts(&p).0, Some("plugin developer"));
        assert_eq!(texts(&p).1, Some("upgrade the dataset code"));
    }

    #[test]
    fn classic_template() {
        let p = parse(
            "As a shopper, I want to save items to a wishlist, so that I can buy them later.",
        );
        assert_eq!(
            texts(&p),
            (
                Some("shopper"),
                Some("save items to a wishlist"),
                Some("I can buy them later")
            )
        );
    }

    #[test]
    fn variants() {
        let p = parse("**As an** admin I need to ban spammers in order to keep the forum clean");
        assert_eq!(
            texts(&p),
            (
                Some("admin"),
                Some("ban spammers"),
                Some("keep the forum clean")
            )
        );
        let p =
            parse("As the finance team\nI would like to export invoices\nso that audits go faster");
        assert_eq!(
            texts(&p),
            (
                Some("finance team"),
                Some("export invoices"),
                Some("audits go faster")
            )
        );
        let p = parse("As a developer I want CI on every merge");
        assert_eq!(
            texts(&p),
            (Some("developer"), Some("CI on every merge"), None)
        );
        let p = parse("I want to reset my password from the app");
        assert_eq!(
            texts(&p),
            (None, Some("reset my password from the app"), None)
        );
        let p = parse("Upgrade Spring to 6.1");
        assert!(!p.is_story_shaped());
    }

    #[test]
    fn spans_index_the_original_text() {
        let t = "As a 🧑‍🍳 chef, I want récipes";
        let p = parse(t);
        for s in [p.role.unwrap(), p.goal.unwrap()] {
            assert_eq!(&t[s.start..s.end], s.text);
        }
    }
}
