//! A backlog item as storylens sees it, and the text the classifier reads from it.

use serde::{Deserialize, Serialize};

/// A backlog item: a title, optionally a description and acceptance criteria.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Item {
    /// The caller's identifier, echoed back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The item's title or summary.
    pub title: String,
    /// Free-text description (markdown allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Acceptance criteria, one per entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acceptance_criteria: Vec<String>,
}

/// Characters of description the classifier reads after the title: the start says what the item
/// is; templates, logs and code further down only add noise.
const DESCRIPTION_CHARS: usize = 600;

impl Item {
    /// An item with a title only.
    pub fn from_text(text: impl Into<String>) -> Self {
        Self {
            title: text.into(),
            ..Default::default()
        }
    }

    /// The text the classifier reads: the title, then the meaningful start of the description
    /// (code blocks, HTML comments and blank lines skipped).
    pub fn model_text(&self) -> String {
        self.model_text_with(DESCRIPTION_CHARS)
    }

    /// [`Item::model_text`] with at most `description_chars` of the description: bulk scoring of
    /// issues with long bodies trades a little context for several times the speed.
    pub fn model_text_with(&self, description_chars: usize) -> String {
        let mut text = self.title.trim().to_string();
        if let Some(desc) = self
            .description
            .as_deref()
            .filter(|_| description_chars > 0)
        {
            let start = meaningful_start(desc, description_chars);
            if !start.is_empty() {
                text.push('\n');
                text.push_str(&start);
            }
        }
        text
    }
}

/// The first `limit` characters of prose in a markdown body.
pub fn meaningful_start(body: &str, limit: usize) -> String {
    let mut out = String::new();
    let mut in_code = false;
    let mut in_comment = false;
    for line in body.lines() {
        let t = line.trim();
        if t.starts_with("```") || t.starts_with("~~~") {
            in_code = !in_code;
            continue;
        }
        if in_comment {
            if t.contains("-->") {
                in_comment = false;
            }
            continue;
        }
        if t.starts_with("<!--") {
            in_comment = !t.contains("-->");
            continue;
        }
        if in_code || t.is_empty() || line.starts_with("    ") || line.starts_with('\t') {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(t);
        if out.chars().count() >= limit {
            break;
        }
    }
    match out.char_indices().nth(limit) {
        Some((b, _)) => out[..b].to_string(),
        None => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_text_skips_code_and_comments() {
        let item = Item {
            title: "Export fails".into(),
            description: Some(
                "<!-- template -->\n```\nstack trace\n```\n\nClicking export shows an error.\n"
                    .into(),
            ),
            ..Default::default()
        };
        assert_eq!(
            item.model_text(),
            "Export fails\nClicking export shows an error."
        );
    }

    #[test]
    fn meaningful_start_cuts_on_a_char_boundary() {
        let s = meaningful_start(&"ü".repeat(1000), 10);
        assert_eq!(s.chars().count(), 10);
    }
}
