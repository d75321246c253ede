//! The honest task title: the item's own words as one clear imperative line. Tracker noise
//! (ticket keys, `chore:`, `[infra]`), story-template wrappers and question forms are removed,
//! a misspelt leading verb is corrected, and a bare noun phrase gets the plain verb of its
//! category. Nothing is added that the item does not say.

use super::unwrap::unwrap_goal;
use super::words;
use super::Category;
use crate::analysis::parts;

lazy_regex!(
    ticket_key_re,
    r"^(?:[A-Z][A-Z0-9]+-\d+|#\d+)(?:\s*[:\-–]\s+|:\s*|\s+)"
);
lazy_regex!(bracket_tag_re, r"^\[[^\]]{1,24}\]\s*[:\-–]?\s*");
lazy_regex!(
    commit_prefix_re,
    r"(?i)^(?P<kind>chore|fix|feat|feature|new feature|feature request|enhancement|proposal|idea|rfc|meta|build|ci|refactor|docs?|tests?|perf|style|deps|revert|task|todo|wip|spike|tech[ -]?debt|maintenance|infra)(?:\([^)]*\))?!?\s*(?::|\s-|–)\s*"
);
lazy_regex!(
    question_lead_re,
    r"(?i)^(?:are there (?:any )?plans to|is there (?:a|any) plan to|any plans to|plans to|should we|shall we|can we|could we|do we want to|do we need to|why not|maybe|let's|lets|we should|we need to|need to|please|consider whether to|would it make sense to)\s+"
);
lazy_regex!(
    evaluate_lead_re,
    r"(?i)^(?:is it worth|what about|how about|thoughts on|any interest in|idea:)\s+"
);
// A question about what a future version will have ("Will there be a Python API?") asks the
// team to decide, not to build.
lazy_regex!(
    decide_lead_re,
    r"(?i)^(?:will there (?:be )?|is there going to be |are there plans for |any plans for |do you plan to (?:add|provide|support) |are you planning to (?:add|provide|support) )"
);
// A pull-request number closing a title: "rpc: add timing fields (#2345)".
lazy_regex!(pull_number_re, r"\s*\(#\d+\)\s*$");
lazy_regex!(
    task_to_re,
    r"(?i)^(?:task|ticket|story|todo)\s+(?:to|for)\s+"
);

lazy_regex!(
    purpose_clause_re,
    r"(?i)\s+(?:so\s+that|so|in\s+order\s+to|to\s+(?:cut|reduce|shrink|trim|lower|speed\s+up|improve|make|let|allow|avoid|prevent|stop|keep))\s.*$"
);

/// The work without the outcome it is for ("Add a read replica so the page stops timing
/// out" → "Add a read replica"): the supporting task of an outcome story, whose story now
/// carries the outcome.
pub fn without_purpose(task: &str) -> String {
    let cut = purpose_clause_re().replace(task, "");
    let cut = cut.trim();
    if cut.split(' ').count() >= 2 {
        cut.to_string()
    } else {
        task.to_string()
    }
}

/// Words that make a title a sentence or a report rather than a noun phrase: such a title is
/// kept in its own words, with no verb put in front.
const FINITE: &[&str] = &[
    "is", "are", "was", "were", "isn't", "aren't", "doesn't", "don't", "can't", "cannot", "won't",
    "fails", "failed", "gets", "got", "should", "does", "did", "has", "have", "not", "no", "what",
    "why", "how", "when", "which", "who", "will", "would", "faster", "slower", "better", "worse",
    "slow", "broken", "wrong",
];

/// The plain verb a bare noun phrase of this category gets ("Nightly backups" → "Set up
/// nightly backups").
fn category_verb(category: Category) -> &'static str {
    match category {
        Category::Dependency => "Update",
        Category::Refactor => "Refactor",
        Category::Test => "Add",
        Category::Docs => "Write",
        Category::Spike => "Investigate",
        Category::Performance => "Improve",
        Category::Fix => "Fix",
        Category::BuildCi
        | Category::Infra
        | Category::Data
        | Category::Security
        | Category::Other => "Set up",
    }
}

/// Whether the title is framed as a code change by a conventional-commit prefix of work
/// (`fix:`, `ci:`, `test:`, `chore:`, `build:`, `refactor:`, `perf:`, `docs:` …): such an item
/// names the change to make, so it is refined as work even when its wording reads like value.
/// Feature prefixes (`feat:`, `[Feature Request]`) do not count.
///
/// A title ending in a pull-request number ("rpc: add timing fields (#2345)") names a change
/// that was made, and counts too.
pub fn is_work_framed(title: &str) -> bool {
    let title = title.lines().next().unwrap_or("").trim();
    if pull_number_re().is_match(title) {
        return true;
    }
    commit_prefix_re().captures(title).is_some_and(|c| {
        let kind = c["kind"].to_lowercase();
        !matches!(
            kind.as_str(),
            "feat"
                | "feature"
                | "new feature"
                | "feature request"
                | "enhancement"
                | "proposal"
                | "idea"
                | "rfc"
                | "meta"
        )
    })
}

/// A task title for a failure: kept when it already names the work ("Fix …", "Update …"),
/// otherwise the symptom becomes what to fix (see [`super::report::fix_task`]).
pub fn as_fix(title: String) -> String {
    let (scope, rest) = match title.split_once(": ") {
        Some((s, r))
            if !s.contains(' ')
                && s.len() <= 30
                && !matches!(
                    s.to_lowercase().as_str(),
                    "error" | "warning" | "fatal" | "exception" | "bug"
                ) =>
        {
            (Some(s), r)
        }
        _ => (None, title.as_str()),
    };
    // "Release process: "does not appear to be a git repository"": a part and its quoted
    // message; the work is to fix that part's error.
    if let Some((part, message)) = title.split_once(": ").filter(|(_, m)| m.starts_with('"')) {
        let plain = part
            .split(' ')
            .all(|w| w.chars().skip(1).all(char::is_lowercase));
        let part = if plain {
            part.to_lowercase()
        } else {
            part.to_string()
        };
        // A linker's "…", referenced from: …" trails into the next log line.
        let message = message
            .split(", referenced from")
            .next()
            .unwrap_or(message)
            .trim_end_matches([' ', ':', '.']);
        return format!("Fix the {part} error: {message}");
    }
    let mut ws = rest.split(' ');
    let first = ws.next().unwrap_or("");
    // "Don't ignore …" is already an instruction; so is a capitalised word before a code name
    // ("Collapse forwardRef stacks"), even when the verb is not in the list.
    let negative = ["don't", "dont", "never"].contains(&first.to_lowercase().as_str());
    let before_code = first.chars().next().is_some_and(char::is_uppercase)
        && first.chars().skip(1).all(|c| c.is_ascii_lowercase())
        && ws.next().is_some_and(super::fix::is_code_name);
    // "Fail to build X" states the failure, not the work.
    let failure = first.eq_ignore_ascii_case("fail");
    if (starts_with_verb(first) && !failure) || negative || before_code {
        return title;
    }
    let after_first = rest.split_once(' ').map_or("", |(_, r)| r);
    // "Abort when running X" names the failure and its case: "Fix the abort when running X".
    let event = [
        "abort", "crash", "segfault", "overflow", "hang", "freeze", "deadlock",
    ]
    .contains(&first.to_lowercase().as_str())
        && (after_first.starts_with("when ") || after_first.starts_with("while "));
    let fixed = if event {
        format!("Fix the {} {after_first}", first.to_lowercase())
    } else if failure && after_first.starts_with("to ") {
        format!("Fix the failure {after_first}")
    } else if words::base_of_gerund(first).is_some() && gerund_is_subject(after_first) {
        // "restoring checkpoint loads weights partially" is a sentence: kept whole after "Fix:".
        format!("Fix: {}", capitalise(rest))
    } else {
        super::report::fix_task(rest)
    };
    scoped(scope, fixed)
}

/// A title under its component scope: "appcd-core: Upgrade …".
/// `line` without a leading bracket tag ("[DevTools Bug]: …").
pub(super) fn without_tag(line: &str) -> &str {
    bracket_tag_re()
        .find(line)
        .map_or(line, |m| &line[m.end()..])
}

fn scoped(scope: Option<&str>, title: String) -> String {
    match scope {
        Some(s) => format!("{s}: {title}"),
        None => title,
    }
}

/// The honest imperative task title for an item.
pub fn task_title(title: &str, category: Category) -> String {
    if let Some(task) = super::asks::change_task(title).or_else(|| super::asks::failure_task(title))
    {
        return task;
    }
    let line = title.lines().next().unwrap_or("").trim();
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    // The pull-request number is the tracker's reference, not part of the work.
    let line = pull_number_re().replace(&line, "").into_owned();
    let p = parts::parse(&line);
    if let (Some(_), Some(goal)) = (&p.role, &p.goal) {
        return finish(&unwrap_goal(&goal.text), category);
    }
    let (scope, rest) = strip_noise(&line);
    let question = rest.trim().ends_with('?');
    let mut core = rest
        .trim()
        .trim_end_matches(['?', '.', '!'])
        .trim()
        .to_string();
    let mut led = false;
    if let Some(m) = evaluate_lead_re().find(&core) {
        core = format!("Evaluate {}", &core[m.end()..]);
        led = true;
    } else if let Some(m) = question_lead_re().find(&core) {
        core = core[m.end()..].to_string();
        led = true;
    } else if let Some(m) = decide_lead_re().find(&core).filter(|_| question) {
        core = format!("Decide whether to provide {}", &core[m.end()..]);
        led = true;
    }
    // A question that does not read as work once its "?" is gone ("Will X affect Y?") keeps
    // its own words and its question mark: dropping the mark would turn it into a claim.
    let first = core.split(' ').next().unwrap_or("");
    if question && !led && !starts_with_verb(first) {
        return scoped(scope.as_deref(), format!("{}?", capitalise(&core)));
    }
    scoped(scope.as_deref(), finish(&core, category))
}

/// Removes ticket keys, bracket tags and conventional-commit prefixes; keeps a component scope
/// ("appcd-core: Upgrade …") because it says where the work is.
fn strip_noise(line: &str) -> (Option<String>, String) {
    let mut s = line.to_string();
    loop {
        let before = s.len();
        for re in [ticket_key_re(), bracket_tag_re(), task_to_re()] {
            if let Some(m) = re.find(&s) {
                s = s[m.end()..].to_string();
            }
        }
        if let Some(c) = commit_prefix_re().captures(&s) {
            let kind = c["kind"].to_lowercase();
            let rest = s[c.get(0).expect("match").end()..].to_string();
            let first = rest.split(' ').next().unwrap_or("");
            // "fix: login times out" keeps the fix; "spike: ruff" keeps the investigation.
            s = match kind.as_str() {
                "fix" if !starts_with_verb(first) => format!("Fix {rest}"),
                "spike" if !starts_with_verb(first) => format!("Investigate {rest}"),
                _ => rest,
            };
        }
        if s.len() == before {
            break;
        }
    }
    // A scope before a colon: one word ("appcd-core: Upgrade to Node 12"), or up to three
    // when the rest starts with a verb ("Platform Support: remove Ubuntu 12.04 builds").
    if let Some((scope, rest)) = s.split_once(": ") {
        let words_in_scope = scope.split(' ').count();
        let rest_verb = starts_with_verb(rest.split(' ').next().unwrap_or(""));
        let is_scope = scope.len() <= 30
            && (words_in_scope == 1 || (words_in_scope <= 3 && rest_verb))
            && scope.chars().any(|c| c.is_ascii_lowercase())
            && !rest.trim().is_empty();
        if is_scope {
            return (Some(scope.to_string()), rest.to_string());
        }
    }
    (None, s)
}

fn starts_with_verb(word: &str) -> bool {
    words::is_verb(word) || words::spelling_fix(word).is_some()
}

/// Whether a leading gerund is the subject of a sentence ("restoring checkpoint loads weights
/// partially"): a verb in the third person follows within two words, so the item reports what
/// happens rather than naming work.
fn gerund_is_subject(rest: &str) -> bool {
    const LINKS: [&str; 12] = [
        "for", "to", "in", "on", "of", "and", "with", "from", "into", "at", "by", "as",
    ];
    let ws: Vec<&str> = rest.split(' ').collect();
    // "checkpoint loads weights" reads as subject and verb; "unit tests for X" and "tests" at
    // the end are the work's object.
    ws.len() >= 3
        && ws[1].ends_with('s')
        && words::base_of_third_person(ws[1]).is_some()
        && !LINKS.contains(&ws[2].to_lowercase().as_str())
}

/// Gives the phrase a leading imperative verb and a capital.
fn finish(core: &str, category: Category) -> String {
    let core = core.trim();
    if core.is_empty() {
        return String::new();
    }
    let (first, rest) = core.split_once(' ').unwrap_or((core, ""));
    let verb = if words::is_verb(first) {
        Some(first.to_lowercase())
    } else if let Some(b) = words::base_of_gerund(first).filter(|_| !gerund_is_subject(rest)) {
        Some(b.to_string())
    } else if let Some(b) = words::base_of_participle(first) {
        // Commit-style past tense: "Removed the last uses of sprintf".
        Some(b)
    } else if let Some(b) = words::base_of_third_person(first) {
        // Pull-request style: "Fixes pixel info colour for dark themes".
        Some(b.to_string())
    } else {
        words::spelling_fix(first).map(str::to_string)
    };
    // Only a short noun phrase gets a verb put in front ("Nightly backups"); anything else
    // that does not start with a known verb keeps its own words rather than risk a garbled
    // title ("Set up resize source code").
    let lower = first.to_lowercase();
    let verb_like = ["ize", "ise", "ate", "ify", "ed"]
        .iter()
        .any(|s| lower.ends_with(s));
    let code_like = first.chars().any(|c| "_:()<>`'\"=#[]{}".contains(c))
        || (first.len() > 1
            && first
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    let tokens: Vec<&str> = core.split(' ').collect();
    let noun_phrase = tokens.len() <= 4
        && !verb_like
        && !super::unwrap::verb_by_place(&tokens)
        && !code_like
        // "fatal error" is a failure to fix, not a thing to set up (blind round 16).
        && !super::requests::names_defect(core)
        && !core
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .any(|w| FINITE.contains(&w.to_lowercase().as_str()));
    let phrase = match verb {
        Some(v) => format!("{v} {rest}"),
        None if noun_phrase => format!("{} {}", category_verb(category), lower_first(core)),
        None => core.to_string(),
    };
    capitalise(phrase.trim())
}

/// Common words a bare noun phrase starts with: lowercased after the verb put in front
/// ("Nightly backups" → "Set up nightly backups"). Any other first word keeps its case,
/// since it may be a name ("Terraform staging" → "Set up Terraform staging").
const COMMON_FIRST: &[&str] = &[
    "automated",
    "automatic",
    "backup",
    "backups",
    "benchmark",
    "benchmarks",
    "build",
    "builds",
    "cache",
    "changelog",
    "code",
    "config",
    "configuration",
    "contributor",
    "coverage",
    "crash",
    "daily",
    "database",
    "dependency",
    "dependencies",
    "deployment",
    "dev",
    "development",
    "docs",
    "documentation",
    "end-to-end",
    "environment",
    "error",
    "formatting",
    "integration",
    "linting",
    "load",
    "local",
    "logging",
    "monitoring",
    "nightly",
    "package",
    "packaging",
    "performance",
    "production",
    "release",
    "releases",
    "search",
    "secrets",
    "security",
    "smoke",
    "staging",
    "static",
    "style",
    "test",
    "tests",
    "type",
    "unit",
    "weekly",
];

fn lower_first(s: &str) -> String {
    let first = s.split(' ').next().unwrap_or("");
    if !COMMON_FIRST.contains(&first.to_lowercase().as_str()) {
        return s.to_string();
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Uppercases the first letter, unless the first word is an identifier ("cv::resize",
/// "npm"-style lowercase names with punctuation) whose case matters.
pub fn capitalise(s: &str) -> String {
    let first = s.split(' ').next().unwrap_or("");
    // A code name keeps its case: "refineDetectedMarkers", "snake_case", "a::b".
    if first.contains("::")
        || first.contains(['_', '(', '`', '.'])
        || first.chars().skip(1).any(char::is_uppercase)
    {
        return s.to_string();
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
#[path = "task_tests.rs"]
mod tests;
