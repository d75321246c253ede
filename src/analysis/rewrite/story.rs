//! Outcome stories worded from the item's own text: the user-visible outcome a technical item
//! names ("… so the statements page stops timing out", "… to cut the dashboard bundle"), a
//! user benefit in a disguised template's "so that" clause, or the outcome of a fix. When the
//! text names no outcome that can be worded honestly, there is no story.

use super::words;

/// A suggested story and the criteria that test it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryDraft {
    /// The story as one line: "As a ‹role›, I want ‹goal›[, so that ‹benefit›]." or, for a
    /// reframed fix, an outcome title.
    pub story: String,
    pub role: Option<String>,
    pub goal: Option<String>,
    pub benefit: Option<String>,
    pub acceptance_criteria: Vec<String>,
}

lazy_regex!(
    so_that_re,
    r"(?i)\bso(?:\s+that)?\s+(?P<clause>(?:the\s+|our\s+|my\s+|users?\s+|customers?\s+|people\s+|visitors?\s+|I\s+|we\s+)[^.;!?\n]+)"
);
lazy_regex!(
    purpose_re,
    r"(?i)\bto\s+(?P<verb>cut|reduce|shrink|trim|lower|speed\s+up|improve)\s+(?P<object>[^.;!?\n]+)"
);
lazy_regex!(
    symptom_re,
    r"(?i)\b(?P<symptom>timing\s+out|times\s+out|time\s+out|timeouts?|too\s+slow|slow|takes\s+too\s+long|laggy|sluggish|unresponsive|hangs?)\b"
);
lazy_regex!(
    faster_re,
    r"(?i)^(?:[a-z][a-z ]*:\s*)?faster\s+(?P<what>[^.;!?\n]+?)(?:\s+speed)?(?:\s+(?:optimi[sz]ations?|improvements?))?\s*$"
);
lazy_regex!(
    make_faster_re,
    r"(?i)^(?:make|speed\s+up)\s+(?P<what>[^.;!?\n]+?)(?:\s+faster)?\s*$"
);
lazy_regex!(
    surface_re,
    r"(?i)\b(?P<surface>(?:[a-z][a-z-]+\s+)?(?:page|pages|dashboard|screen|app|site|website|map|search\s+results|search|checkout|feed|report|reports|editor|form|inbox|timeline|gallery|player|catalogue|catalog|cart|homepage|portal|view|list))\b"
);
lazy_regex!(
    speed_object_re,
    r"(?i)\b(?:bundle|size|load|loading|latency|time|times|startup|start-up|queries|query|memory|requests|payload|wait|render|rendering)\b"
);

/// Words that cannot open a surface phrase ("the page", "to page").
const NOT_MODIFIERS: &[&str] = &[
    "the", "a", "an", "to", "of", "on", "in", "for", "and", "or", "so", "our", "my", "its", "that",
    "this", "every", "each", "web", "new", "old", "main",
];

/// The role a story speaks for: the profile's persona, else a non-builder role the item
/// names, else "user".
pub fn story_role(item_role: Option<&str>, persona: Option<&str>) -> String {
    persona
        .or(item_role)
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "user".into())
}

pub(super) fn render(role: &str, goal: &str, benefit: Option<&str>) -> String {
    let lower = role.to_lowercase();
    let vowel_sound = lower.starts_with(['a', 'e', 'i', 'o'])
        || (lower.starts_with('u') && !lower.starts_with("us") && !lower.starts_with("uni"));
    let article = if vowel_sound { "an" } else { "a" };
    match benefit {
        Some(b) => format!("As {article} {role}, I want {goal}, so that {b}."),
        None => format!("As {article} {role}, I want {goal}."),
    }
}

/// The surface a user sees the change on ("statements page", "dashboard"), from the text.
fn surface(text: &str) -> Option<String> {
    surface_re().captures_iter(text).find_map(|c| {
        let s = c["surface"].to_lowercase();
        let mut ws: Vec<&str> = s.split_whitespace().collect();
        if ws.len() == 2
            && (NOT_MODIFIERS.contains(&ws[0])
                || words::is_verb(ws[0])
                || words::base_of_gerund(ws[0]).is_some())
        {
            ws.remove(0);
        }
        // "app" and "list" alone are too vague to promise anything about.
        (!(ws.len() == 1 && matches!(ws[0], "app" | "list" | "view" | "form")))
            .then(|| ws.join(" "))
    })
}

/// A story about how a surface opens, and the criteria that test it: the surface shows its
/// content as `how` says, and nothing else about it changes.
fn surface_story(role: &str, surface: &str, goal: &str, how: &str) -> StoryDraft {
    let goal = format!("the {surface} to {goal}");
    StoryDraft {
        story: render(role, &goal, None),
        role: Some(role.into()),
        goal: Some(goal),
        benefit: None,
        acceptance_criteria: vec![
            format!("Opening the {surface} shows its content {how}"),
            format!("The {surface} still shows the same content as before"),
        ],
    }
}

fn faster(role: &str, surface: &str) -> StoryDraft {
    surface_story(
        role,
        surface,
        "load faster",
        "sooner than before the change",
    )
}

fn no_timeout(role: &str, surface: &str) -> StoryDraft {
    surface_story(
        role,
        surface,
        "open without timing out",
        "instead of a time-out error",
    )
}

/// A "so that" clause as the goal of a story: "the statements page stops timing out" → "the
/// statements page to stop timing out"; "users can download statements" → "to download
/// statements". `None` when its subject is a pronoun or its verb cannot be read.
fn clause_goal(clause: &str) -> Option<String> {
    let ws: Vec<&str> = clause.split_whitespace().collect();
    let (subject_end, verb) = ws.iter().enumerate().skip(1).take(5).find_map(|(i, w)| {
        let lw = w.to_lowercase();
        if matches!(lw.as_str(), "can" | "will" | "could") {
            return Some((i, None));
        }
        words::base_of_third_person(w).map(|b| (i, Some(b)))
    })?;
    let subject = ws[..subject_end].join(" ");
    let ls = subject.to_lowercase();
    if matches!(
        ls.as_str(),
        "it" | "they" | "this" | "that" | "these" | "those"
    ) {
        return None;
    }
    let person = matches!(
        ls.as_str(),
        "i" | "we"
            | "users"
            | "user"
            | "the user"
            | "the users"
            | "customers"
            | "people"
            | "visitors"
            | "the customer"
            | "customer"
    );
    let rest = match verb {
        Some(base) => format!("{base} {}", ws[subject_end + 1..].join(" ")),
        None => ws[subject_end + 1..].join(" "),
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return None;
    }
    Some(if person {
        format!("to {rest}")
    } else {
        format!(
            "{} to {rest}",
            subject.replace("our ", "the ").replace("my ", "the ")
        )
    })
}

/// The outcome story of a technical item whose text names a user-visible outcome, or `None`.
pub fn outcome_story(text: &str, role: &str) -> Option<StoryDraft> {
    let title = text.lines().next().unwrap_or("");
    if let Some(c) = so_that_re().captures(text) {
        let clause = c["clause"].trim().trim_end_matches(',');
        if let Some(s) = surface(clause) {
            if symptom_re().is_match(clause) {
                return Some(no_timeout(role, &s));
            }
        }
        if let Some(goal) = clause_goal(clause) {
            return Some(clause_story(role, goal));
        }
    }
    if let Some(c) = purpose_re().captures(text) {
        let object = &c["object"];
        let speedy =
            c["verb"].to_lowercase().starts_with("speed") || speed_object_re().is_match(object);
        if let (true, Some(s)) = (speedy, surface(object).or_else(|| surface(text))) {
            return Some(faster(role, &s));
        }
    }
    if let Some(sym) = symptom_re().captures(text) {
        if let Some(s) = surface(text) {
            let out = sym["symptom"].to_lowercase();
            return Some(if out.contains("time") {
                no_timeout(role, &s)
            } else {
                faster(role, &s)
            });
        }
    }
    let title = title.trim();
    let faster_what = make_faster_re()
        .captures(title)
        .filter(|_| {
            let t = title.to_lowercase();
            t.contains("faster") || t.starts_with("speed")
        })
        .or_else(|| faster_re().captures(title))
        .map(|c| c["what"].trim().to_string());
    if let Some(what) = faster_what {
        let goal = format!("{what} to be faster");
        return Some(StoryDraft {
            story: render(role, &goal, None),
            role: Some(role.into()),
            goal: Some(goal),
            benefit: None,
            acceptance_criteria: vec![
                format!("A user timing {what} waits less than before the change"),
                format!("The results of {what} are the same as before"),
            ],
        });
    }
    None
}

/// Whether a title asks for a speed-up: "Make rescans faster", "Speed up the export",
/// "Faster --reindex".
pub fn is_speed_title(title: &str) -> bool {
    let t = title.lines().next().unwrap_or("").trim();
    let lower = t.to_lowercase();
    (make_faster_re().is_match(t) && (lower.contains("faster") || lower.starts_with("speed")))
        || faster_re().is_match(t)
}

/// The story of a disguised template whose benefit names a user outcome: "…, so I can submit my
/// data" → "As a ‹role›, I want to submit my data."; `None` when the benefit is about builders.
pub fn benefit_story(benefit: &str, role: &str) -> Option<StoryDraft> {
    lazy_regex!(
        second_clause_re,
        r"(?i)\S\s+(?:I|we|they|users?)\s+(?:can|could|will|would|am|are|want|need)\b"
    );
    let b = benefit.trim().trim_end_matches(['.', '!']);
    // Two clauses run together ("analyse impact I can link funding …") cannot be one goal.
    if second_clause_re().is_match(b) {
        return None;
    }
    let goal = clause_goal(b).or_else(|| {
        // "so I can …" parses with the subject already removed: "submit my data".
        let first = b.split(' ').next()?;
        words::is_verb(first).then(|| format!("to {b}"))
    })?;
    Some(clause_story(role, goal))
}

/// A story whose goal comes from an outcome clause of the item.
fn clause_story(role: &str, goal: String) -> StoryDraft {
    StoryDraft {
        story: render(role, &goal, None),
        role: Some(role.into()),
        // No criterion: the clause is the goal, and "‹goal› when a user tries it" only echoes
        // it, which the rubric does not accept as a check.
        acceptance_criteria: Vec::new(),
        goal: Some(goal),
        benefit: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_outcomes() {
        let s = outcome_story(
            "Lazy-load the charts library to cut the dashboard bundle",
            "user",
        )
        .unwrap();
        assert_eq!(s.story, "As a user, I want the dashboard to load faster.");
        assert_eq!(s.acceptance_criteria.len(), 2);
        let s = outcome_story(
            "Add a read replica so the statements page stops timing out",
            "user",
        )
        .unwrap();
        assert_eq!(
            s.story,
            "As a user, I want the statements page to open without timing out."
        );
    }

    #[test]
    fn speed_titles() {
        for t in [
            "Make rescans faster",
            "Speed up the weekly export",
            "New Feature: Faster --reindex speed optimisation",
        ] {
            assert!(is_speed_title(t), "{t}");
            let s = outcome_story(t, "user").unwrap();
            assert!(s.story.ends_with("to be faster."), "{}", s.story);
        }
        let s = outcome_story("Faster --reindex", "user").unwrap();
        assert_eq!(s.story, "As a user, I want --reindex to be faster.");
        assert!(!is_speed_title("Add a cache for the feed"));
    }

    #[test]
    fn clause_outcomes_and_none() {
        let s = outcome_story("Move uploads to a queue so users can see progress", "user").unwrap();
        assert_eq!(s.story, "As a user, I want to see progress.");
        assert!(outcome_story("Upgrade angular version to 1.6.6", "user").is_none());
        assert!(outcome_story("Copy saved filters so they keep working", "user").is_none());
    }

    #[test]
    fn benefits() {
        let s = benefit_story("I can submit my Financial Assistance data", "Agency user").unwrap();
        assert_eq!(
            s.story,
            "As an Agency user, I want to submit my Financial Assistance data."
        );
    }
}
