//! Living in the tracker: the comment storylens keeps on an item, and the tracker-specific
//! parts (signatures, payloads, REST calls with retries). What an item gets (label, findings,
//! refinement) comes from the same core every other door uses.

pub mod github;
pub mod jira;
pub mod retry;

use crate::analysis::rewrite::{Disposition, Rewrite};
use crate::analysis::{Finding, Severity};
use crate::model::Label;

/// What a comment reports about one item.
#[derive(Debug, Clone)]
pub struct Verdict<'a> {
    pub label: Label,
    pub confidence: f32,
    pub findings: &'a [Finding],
    /// The refinement, when the refiner runs.
    pub rewrite: Option<&'a Rewrite>,
}

/// What a comment says, before it is formatted for one tracker.
struct Parts {
    /// "a user story" / "a technical task" and the confidence.
    kind: &'static str,
    confidence: f32,
    /// The disposition and its title or story.
    next_step: Option<String>,
    why: Option<String>,
    criteria: Vec<String>,
    /// `severity code: message Fix: suggestion`.
    findings: Vec<String>,
}

fn parts(v: &Verdict<'_>) -> Parts {
    let next_step = v.rewrite.map(|r| {
        let what = match (r.disposition, &r.story, &r.task) {
            (Disposition::AlreadyStory, _, _) => None,
            (_, Some(story), _) => Some(story.clone()),
            (_, None, Some(task)) => Some(task.clone()),
            _ => None,
        };
        match what {
            Some(w) => format!("{}: {w}", r.disposition.as_str()),
            None => r.disposition.as_str().to_string(),
        }
    });
    Parts {
        kind: match v.label {
            Label::Story => "a user story",
            Label::Task => "a technical task",
        },
        confidence: v.confidence,
        next_step,
        why: v.rewrite.map(|r| r.why.clone()).filter(|w| !w.is_empty()),
        criteria: v
            .rewrite
            .map(|r| r.acceptance_criteria.clone())
            .unwrap_or_default(),
        findings: v
            .findings
            .iter()
            .map(|f| {
                let sev = match f.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Info => "note",
                };
                format!(
                    "{sev} {}: {} Fix: {}",
                    f.code.as_str(),
                    f.message,
                    f.suggestion
                )
            })
            .collect(),
    }
}

/// The comment body (GitHub-flavoured Markdown), starting with the hidden marker that finds it
/// again on edits.
pub fn comment_body(v: &Verdict<'_>) -> String {
    let p = parts(v);
    let mut out = format!(
        "{}\n**storylens** reads this as {} ({:.0}% confident).\n",
        github::MARKER,
        p.kind,
        p.confidence * 100.0
    );
    if let Some(step) = &p.next_step {
        out.push_str(&format!("\n**Next step:** {step}\n"));
    }
    if let Some(why) = &p.why {
        out.push_str(&format!("{why}\n"));
    }
    if !p.criteria.is_empty() {
        out.push_str("\nAcceptance criteria:\n");
        for c in &p.criteria {
            out.push_str(&format!("- [ ] {c}\n"));
        }
    }
    if !p.findings.is_empty() {
        out.push_str("\n**Findings**\n");
        for f in &p.findings {
            out.push_str(&format!("- {f}\n"));
        }
    }
    out.push_str("\n<sub>Updated on every edit of the item.</sub>\n");
    out
}

/// The same comment as plain lines (Jira: one paragraph a line, or wiki text).
pub fn comment_text(v: &Verdict<'_>) -> String {
    let p = parts(v);
    let mut lines = vec![format!(
        "storylens reads this as {} ({:.0}% confident).",
        p.kind,
        p.confidence * 100.0
    )];
    lines.extend(p.next_step.map(|s| format!("Next step: {s}")));
    lines.extend(p.why);
    if !p.criteria.is_empty() {
        lines.push("Acceptance criteria:".into());
        lines.extend(p.criteria.iter().map(|c| format!("- {c}")));
    }
    if !p.findings.is_empty() {
        lines.push("Findings:".into());
        lines.extend(p.findings.iter().map(|f| format!("- {f}")));
    }
    lines.join("\n")
}
