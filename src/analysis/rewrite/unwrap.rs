//! A disguised template's goal as the work it names: wrapper words dropped, a participle
//! after its object turned into the imperative ("FABS deployed into production" → "deploy FABS
//! into production"), first person turned into the team.

use super::words;

lazy_regex!(
    goal_lead_re,
    r"(?i)^(?:to\s+)?(?:be\s+able\s+to|have\s+the\s+ability\s+to|have\s+a\s+way\s+to|make\s+sure\s+(?:that\s+)?)\s*"
);

/// Words that can follow a participle used as a verb ("deployed into production", "loaded for
/// go-live", "managed and cached", "indexed properly").
const AFTER_VERB: &[&str] = &[
    "into",
    "to",
    "in",
    "on",
    "for",
    "from",
    "with",
    "by",
    "at",
    "and",
    "up",
    "before",
    "after",
    "when",
    "so",
    "as",
    "across",
    "properly",
    "correctly",
    "automatically",
    "daily",
    "nightly",
    "regularly",
    "first",
    "again",
    "here",
    "there",
    "via",
    "using",
    "without",
    "within",
    "onto",
];

/// The goal of a disguised template as work: "to have created database indexes" → "create
/// database indexes"; "FABS deployed into production" → "deploy FABS into production";
/// "New Relic to provide useful data" → "ensure New Relic provides useful data"; "a managed
/// backup protocol" → "set up a managed backup protocol".
pub(super) fn unwrap_goal(goal: &str) -> String {
    let g = goal.trim().trim_end_matches(['.', '!']);
    let g = goal_lead_re().replace(g, "").to_string();
    let g = g.strip_prefix("to ").unwrap_or(&g).to_string();
    let g = first_person_to_team(&g);
    let tokens: Vec<&str> = g.split(' ').collect();
    let Some(first) = tokens.first().copied() else {
        return g;
    };
    if first.eq_ignore_ascii_case("have") && tokens.len() > 1 {
        // "have created X" / "have X set up" / "have X be set up" / "have X".
        if let Some(base) = words::base_of_participle(tokens[1]) {
            return join(&base, &tokens[2..]);
        }
        if let Some(s) = participle_after_object(&tokens[1..]) {
            return s;
        }
        return join("set up", &tokens[1..]);
    }
    if words::is_verb(first) || words::base_of_gerund(first).is_some() || verb_by_place(&tokens) {
        return g;
    }
    if let Some(s) = participle_after_object(&tokens) {
        return s;
    }
    // "X to provide Y" → "ensure X provides Y".
    if let Some(i) = tokens.iter().position(|t| *t == "to") {
        // The object is a name or a determined phrase ("New Relic", "the report"); a lowercase
        // open word ("perform automatic analysis to reduce …") is an unknown verb, not one.
        let object_like =
            tokens[0].starts_with(|c: char| c.is_uppercase()) || is_determiner(tokens[0]);
        if i > 0
            && object_like
            && i + 1 < tokens.len()
            && tokens[i + 1] != "be"
            && words::is_verb(tokens[i + 1])
        {
            let verb = words::third_person(&tokens[i + 1].to_lowercase());
            let object = tokens[..i].join(" ");
            let rest = tokens[i + 2..].join(" ");
            return format!("ensure {object} {verb} {rest}").trim().to_string();
        }
    }
    g
}

/// "FABS deployed into production" → "deploy FABS into production"; "my models to be indexed
/// properly" → "index the models properly"; "requests to be managed and cached" → "manage and
/// cache requests".
fn participle_after_object(tokens: &[&str]) -> Option<String> {
    for i in 1..tokens.len().min(10) {
        let (mut j, mut k) = (i, i);
        if tokens[i] == "to" && tokens.get(i + 1) == Some(&"be") {
            k = i + 2;
        } else if tokens[i] == "be" || tokens[i] == "been" {
            k = i + 1;
        }
        // A participle before a noun is an adjective ("a managed backup protocol").
        let next = tokens.get(k + 1).map(|t| t.to_lowercase());
        let as_verb = next.as_deref().is_none_or(|n| AFTER_VERB.contains(&n));
        let Some(base) = tokens
            .get(k)
            .filter(|_| as_verb)
            .and_then(|t| words::base_of_participle(t))
        else {
            if tokens[i] == "to" {
                return None;
            }
            continue;
        };
        let mut verbs = vec![base];
        j = j.max(k + 1);
        // "managed and cached", "set up"
        if tokens.get(j) == Some(&"up") {
            verbs[0].push_str(" up");
            j += 1;
        }
        if tokens.get(j) == Some(&"and") {
            if let Some(b2) = tokens.get(j + 1).and_then(|t| words::base_of_participle(t)) {
                verbs.push(b2);
                j += 2;
            }
        }
        let object = tokens[..i].join(" ");
        let rest = tokens[j..].join(" ");
        return Some(
            format!("{} {object} {rest}", verbs.join(" and "))
                .trim()
                .to_string(),
        );
    }
    None
}

fn join(verb: &str, rest: &[&str]) -> String {
    let mut rest = rest.to_vec();
    if rest.first() == Some(&"up") && verb == "set up" {
        rest.remove(0);
    }
    format!("{verb} {}", rest.join(" ")).trim().to_string()
}

/// "my"/"our" become "the", "me"/"us" "the team": a task speaks of the work, not the asker.
fn first_person_to_team(s: &str) -> String {
    let ws: Vec<&str> = s.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(ws.len());
    let mut i = 0;
    while i < ws.len() {
        match ws[i] {
            "my" | "our" | "My" | "Our" => out.push("the".into()),
            "me" | "us" => out.push("the team".into()),
            // "when I deploy a new version" → "when the team deploys a new version": a task
            // title has no first person.
            "I" | "we" if ws.get(i + 1).is_some_and(|v| words::is_verb(v)) => {
                out.push("the team".into());
                out.push(words::third_person(&ws[i + 1].to_lowercase()));
                i += 1;
            }
            other => out.push(other.into()),
        }
        i += 1;
    }
    out.join(" ")
}

/// Whether a word opens a noun phrase ("the", "a", "my" …).
pub(super) fn is_determiner(w: &str) -> bool {
    matches!(
        w.to_lowercase().as_str(),
        "the"
            | "a"
            | "an"
            | "my"
            | "our"
            | "their"
            | "its"
            | "this"
            | "these"
            | "those"
            | "all"
            | "every"
            | "each"
            | "some"
    )
}

/// Whether an unknown first word is a verb by its place: a lowercase word before a determiner
/// ("shadow the CMS implementation").
pub(super) fn verb_by_place(tokens: &[&str]) -> bool {
    tokens.len() > 1
        && tokens[0].chars().all(|c| c.is_ascii_lowercase())
        && is_determiner(tokens[1])
}
