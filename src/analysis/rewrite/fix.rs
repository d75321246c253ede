//! Fixes told as the outcome users notice, from the item's own words: a negated symptom
//! ("… gets skipped" → "… is no longer skipped"), a kept property ("preserve X" → "X is
//! preserved"), or the part users rely on when the words state no outcome.

use super::story::StoryDraft;
use super::symptoms;
use super::task::capitalise;
use super::words;

lazy_regex!(
    fix_re,
    r"(?i)^(?:fix|repair|resolve)(?:es|ed)?\s+(?:the\s+|a\s+)?(?:broken\s+|failing\s+)?(?P<what>[^.;!?\n]+?)(?:\s+(?:bugs?|issues?|problems?|errors?|crash(?:es)?|regressions?))?\s*$"
);

/// What a fix framed as work reframes to.
#[derive(Debug, Clone, PartialEq)]
pub enum Fix {
    /// The outcome users notice, stated from the item's own words: "Fix aruco
    /// CORNER_REFINE_CONTOUR parameter gets skipped" → "… parameter is no longer skipped".
    Outcome(StoryDraft),
    /// A fix of a part the product's users call or see ("Fix refineDetectedMarkers") whose
    /// outcome the words do not state. A blind product-owner panel rejected every templated
    /// title for these ("refineDetectedMarkers works correctly", "Improve login reliability")
    /// as circular, so none is written.
    Part(String),
}

/// The reframe of a fix framed as work; `None` when the title is not a fix, or fixes the
/// team's own code (a source file) or an action whose target is unclear ("fix: rename …").
pub fn reframe(title: &str) -> Option<Fix> {
    lazy_regex!(
        file_re,
        r"(?i)\.(?:c|cc|cpp|h|hpp|py|pyi|rs|js|ts|tsx|jsx|go|java|kt|rb|php|cs|swift|m|sh|ya?ml|toml|json|xml|gradle|cmake)\b|/"
    );
    let what = fix_subject(title)?;
    // A source file or path is the team's code, not a part users call.
    if file_re().is_match(&what) {
        return None;
    }
    if let Some(outcome) = symptom_outcome(&what).or_else(|| kept_outcome(&what)) {
        return Some(Fix::Outcome(fix_draft(outcome)));
    }
    let words: Vec<&str> = what.split(' ').collect();
    // A named part users call ("detect diamonds api") may start with a verb; otherwise an
    // action ("preserve the flag", "handle empty input") or a sentence is not a thing that works
    // or not: its outcome would be guessed.
    let thing = words.last().is_some_and(|w| {
        matches!(
            w.to_lowercase().as_str(),
            "api"
                | "function"
                | "method"
                | "option"
                | "parameter"
                | "flag"
                | "command"
                | "endpoint"
                | "module"
                | "parser"
                | "layer"
                | "button"
                | "page"
                | "dialog"
        )
    });
    // A problem named mid-phrase ("alignment issue on Windows") or an adverb-led action
    // ("recursively re-export …") has no outcome that can be stated from its words alone.
    let problem = words.iter().any(|w| {
        matches!(
            w.to_lowercase().trim_end_matches(','),
            "bug" | "bugs" | "issue" | "issues" | "problem" | "error" | "errors" | "leak" | "race"
        )
    });
    if (words::is_verb(words[0]) && !thing)
        || problem
        || (words[0].to_lowercase().ends_with("ly") && !is_code_name(words[0]))
        || words.len() > 10
        || words.iter().any(|w| {
            matches!(
                w.to_lowercase().as_str(),
                "is" | "are" | "was" | "not" | "when" | "if" | "doesn't" | "can't" | "should"
            )
        })
    {
        return None;
    }
    // "even input dimensions for INTER_NEAREST_EXACT": the part is the named one.
    let named = |s: &str| s.split(' ').any(is_code_name);
    let part = match what.split_once(" for ") {
        Some((case, part)) if named(part) && !named(case) => part.to_string(),
        Some((part, _)) => part.to_string(),
        None if words.len() <= 8 => what.clone(),
        None => return None,
    };
    Some(Fix::Part(part))
}

/// What a fix title fixes: "fix: Fix the broken detect diamonds api" → "detect diamonds api".
fn fix_subject(title: &str) -> Option<String> {
    lazy_regex!(
        lead_re,
        r"(?i)^(?:fix(?:\([^)]*\))?!?\s*:\s*)?(?:fix|fixes|fixed|fixing|repair|resolve)?\s*(?:(?:issue|bug)\s*#?\d+\s*[,:-]?\s*)?(?:the\s+|a\s+|an\s+)?(?:broken\s+|failing\s+|wrong\s+)?"
    );
    let t = title.lines().next().unwrap_or("").trim();
    let lower = t.to_lowercase();
    if !(lower.starts_with("fix") || lower.starts_with("repair") || lower.starts_with("resolve")) {
        return None;
    }
    let c = fix_re().captures(t).map(|c| c["what"].to_string());
    let rest = lead_re().replace(t, "").to_string();
    let mut what = c.filter(|w| w.len() <= rest.len()).unwrap_or(rest);
    what = what.trim().trim_end_matches(['.', '!', '?']).to_string();
    for lead in [
        "crash on ",
        "crash when ",
        "crash in ",
        "error on ",
        "error in ",
        "bug in ",
        "bug at ",
        "bug with ",
        "bug when ",
        "issue when ",
        "issue in ",
        "issue with ",
        "problem with ",
    ] {
        if let Some(rest) = what.to_lowercase().strip_prefix(lead) {
            what = what[what.len() - rest.len()..].to_string();
        }
    }
    (!what.is_empty() && what.chars().any(char::is_alphabetic)).then_some(what)
}

/// The outcome of a symptom the title names: "X gets skipped" → "X is no longer skipped",
/// "X crashes" → "X no longer crashes", "X doesn't work" → "X works", "X isn't updated" → "X is
/// updated", "X can't open Y" → "X can open Y".
fn symptom_outcome(what: &str) -> Option<String> {
    lazy_regex!(
        state_re,
        r"(?i)^(?P<subject>.+?)\s+(?:(?P<be>gets|get|is|are|being|was|were)\s+(?P<state>skipped|ignored|lost|dropped|reset|wrong|broken|incorrect|missing|duplicated|truncated|unavailable|off|incompatible)|(?P<absent>unavailable|not\s+available))\b"
    );
    lazy_regex!(
        verb_re,
        r"(?i)^(?P<subject>.+?)\s+(?P<verb>crash(?:es|ed)?|fail(?:s|ed)?|hangs?|hung|freezes?|froze|breaks?|broke|ignores?|ignored|loses|leaks|flickers|overwrites|stalls)\b"
    );
    lazy_regex!(
        broken_re,
        r"(?i)^(?P<subject>.+?)\s+(?:doesn't|does\s+not|don't|do\s+not|is\s+not|isn't|not)\s+work(?:ing)?\b"
    );
    lazy_regex!(
        does_not_re,
        r"(?i)^(?P<subject>.+?)\s+(?P<neg>doesn't|does\s+not|don't|do\s+not)\s+(?P<verb>[a-z]+)\b"
    );
    lazy_regex!(
        not_be_re,
        r"(?i)^(?P<subject>.+?)\s+(?P<be>is|are|was|were)(?:n't|\s+not)\s+(?P<state>[a-z][\w/-]*(?:\s+safe)?)"
    );
    lazy_regex!(
        not_done_re,
        r"(?i)^(?P<subject>.+?)\s+(?:(?P<have>haven't|hasn't|have\s+not|has\s+not)\s+been|not)\s+(?P<state>loaded|shown|updated|rendered|saved|displayed|visible|supported|applied|respected|detected|recogni[sz]ed|installed|started|synced|refreshed|restored|sent|called|cleared|closed|opened|implemented)\b"
    );
    lazy_regex!(
        cannot_re,
        r"(?i)^(?P<subject>.*?)\s*\b(?:can't|cannot|can\s+not|unable\s+to)\s+(?P<verb>[a-z]+)\b"
    );
    // A subject that names the problem itself ("bug when the camera …") has no outcome.
    lazy_regex!(
        problem_re,
        r"(?i)\b(?:bugs?|issues?|problems?|errors?|when|if)\b"
    );
    // An internal error message ("Cannot add child "2" to parent "1"") names no behaviour.
    lazy_regex!(quoted_id_re, r#""\d+""#);
    if quoted_id_re().is_match(what) {
        return None;
    }
    lazy_regex!(
        done_wrong_re,
        r"(?i)^(?P<subject>.+?)\s+(?P<be>is|are)\s+(?P<part>[a-z]+)\s+(?:incorrectly|wrongly)\b"
    );
    if let Some(out) = symptoms::outcome(what).or_else(|| symptoms::speed_outcome(what)) {
        return Some(out);
    }
    // "Broadcast output incorrect": the state without its verb.
    lazy_regex!(
        bare_state_re,
        r"(?i)^(?P<subject>.+?)\s+(?P<be>)(?P<state>incorrect|wrong)$"
    );
    // "X not calling the handler", "X is not updating": the action the report misses.
    lazy_regex!(
        not_doing_re,
        r"(?i)^(?P<subject>.+?)\s+(?:(?P<be>is|are)\s+)?not\s+(?P<gerund>[a-z]+ing)\b"
    );
    lazy_regex!(
        bare_broken_re,
        r"(?i)^(?P<subject>.+?)\s+(?P<be>)(?P<state>broken)\b"
    );
    lazy_regex!(
        twice_re,
        r"(?i)^(?P<subject>.+?)\s+(?:(?P<be>is|are|gets|get)\s+)?(?P<part>shown|displayed|rendered|called|printed|logged|sent|fired|triggered|added|created|executed|counted|listed)\s+(?:twice|two\s+times|multiple\s+times|several\s+times|repeatedly)\b"
    );
    lazy_regex!(
        shows_error_re,
        r"(?i)^(?P<subject>.+?)\s+(?P<shown>(?:shows?|throws?|logs?|prints?|raises?|gives?|displays?|emits?)\s+(?:an?\s+)?(?:\w+\s+)?(?:errors?|warnings?|exceptions?))\b"
    );
    // Ids, not positions, name the outcome each pattern gets; the order is the order tried.
    let patterns = [
        (0, state_re()),
        (1, broken_re()),
        (2, does_not_re()),
        (9, not_doing_re()),
        (3, not_be_re()),
        (4, not_done_re()),
        (5, cannot_re()),
        (6, verb_re()),
        (7, done_wrong_re()),
        (8, bare_state_re()),
        (10, twice_re()),
        (11, shows_error_re()),
        (8, bare_broken_re()),
    ];
    let (i, c) = patterns
        .iter()
        .find_map(|(i, re)| re.captures(what).map(|c| (*i, c)))?;
    let raw = c["subject"].trim();
    // "Diff Editor: Don't align whitespace" is an instruction after a scope, not a symptom.
    if raw.ends_with(':') {
        return None;
    }
    let subject = match raw.strip_suffix(" but") {
        // "Model runs without error in X, but crashes in Y": the subject is the first clause's.
        Some(before) => {
            let ws: Vec<&str> = before.split(' ').collect();
            let n = ws
                .iter()
                .position(|w| words::is_verb(w) || words::base_of_third_person(w).is_some())?;
            ws[..n].join(" ")
        }
        None => raw
            .rsplit_once(" but ")
            .map_or(raw, |(_, b)| b.trim())
            .to_string(),
    };
    let subject = subject.trim_end_matches(',').trim();
    // "X is fail to run", "App got crashed": an auxiliary before the symptom's verb is the
    // reporter's grammar, and the outcome drops it ("X no longer fails to run"); blind round 18
    // rejected "is no longer fail" and "got no longer crashes".
    let subject = if i == 6 {
        without_auxiliary(subject)
    } else {
        subject
    };
    // "X reportedly not synced": the hedge is the reporter's, not part of the outcome.
    let subject = without_hedge(
        subject,
        &[
            "reportedly",
            "sometimes",
            "randomly",
            "occasionally",
            "still",
        ],
    );
    // "This type of wallet does not support this command" is a message the software shows; its
    // negation states an outcome nobody asked for.
    lazy_regex!(
        demonstrative_re,
        r"(?i)(?:^|\s-\s)(?:this|that|these|those)\b"
    );
    // A subject holding a URL or a negation of its own ("Fetch API cannot load x:// … is not
    // supported") is the software's message, not a behaviour: negating once would contradict it.
    lazy_regex!(
        own_negation_re,
        r"(?i)\b(?:cannot|can't|can\s+not|not|doesn't|isn't|unable)\b"
    );
    let message = subject.contains("://") || own_negation_re().is_match(subject);
    if message
        || demonstrative_re().is_match(subject)
        || problem_re().is_match(subject)
        || (subject.is_empty() && i != 5)
    {
        return None;
    }
    // "TensorFlow operator ExtractImagePatches" is one thing; "bitcoind and bitcoin-cli" two.
    let last = subject.rsplit(' ').next().unwrap_or(subject);
    let plural_subject =
        (subject.ends_with('s') && !subject.ends_with("ss") && !is_code_name(last))
            || subject.contains(" and ");
    // A command or code name keeps its own case ("bitcoin-cli", "cv::imread").
    let named = subject
        .split(' ')
        .next()
        .is_some_and(|w| is_code_name(w) || w.contains('-'));
    let subject = if named {
        subject.to_string()
    } else {
        capitalise(subject)
    };
    // What follows the symptom ("… on Linux", "… when resizing") is kept: it is the case; a
    // consequence or cause after it ("…, resulting in …", "… because …") is not.
    let rest = what[c.get(0).expect("match").end()..].trim();
    // An error message after a colon ("…: (bool)layer in function 'cv::…'") is not the case.
    let rest = rest.split([',', ';', ':']).next().unwrap_or("");
    let rest = rest.split(" because ").next().unwrap_or("").trim();
    // "… in some cases" qualifies the report; the outcome holds in every case.
    let rest = without_hedge(
        rest,
        &[
            "in some cases",
            "sometimes",
            "randomly",
            "occasionally",
            "intermittently",
        ],
    );
    let tail = if rest.is_empty() {
        String::new()
    } else {
        format!(" {rest}")
    };
    let outcome = match i {
        // "X unavailable in Y" → "X is available in Y".
        0 if c.name("absent").is_some() => if plural_subject {
            "are available"
        } else {
            "is available"
        }
        .to_string(),
        0 | 8 => {
            let be = c["be"].to_lowercase();
            let plural = matches!(be.as_str(), "are" | "get" | "were");
            let be = if plural { "are" } else { "is" };
            match c["state"].to_lowercase().as_str() {
                "wrong" | "incorrect" | "off" => format!("{be} correct"),
                "broken" if plural => "work".to_string(),
                "broken" => "works".to_string(),
                "unavailable" => format!("{be} available"),
                "incompatible" => format!("{be} compatible"),
                state => format!("{be} no longer {state}"),
            }
        }
        1 => "works".to_string(),
        2 => {
            // "X doesn't show props" → "X shows props"; "Xs don't load" → "Xs load".
            let verb = c["verb"].to_lowercase();
            if !words::is_verb(&verb) {
                return None;
            }
            let neg = c["neg"].to_lowercase();
            if neg.starts_with("do") && !neg.starts_with("does") {
                verb
            } else {
                words::third_person(&verb)
            }
        }
        3 => {
            let be = c["be"].to_lowercase();
            let be = if matches!(be.as_str(), "are" | "were") {
                "are"
            } else {
                "is"
            };
            format!("{be} {}", &c["state"])
        }
        4 => {
            let have = c.name("have").map(|h| h.as_str().to_lowercase());
            let plural = have.map_or(plural_subject, |h| h.starts_with("have"));
            format!("{} {}", if plural { "are" } else { "is" }, &c["state"])
        }
        5 => {
            let verb = c["verb"].to_lowercase();
            if !words::is_verb(&verb) {
                return None;
            }
            if subject.is_empty() {
                // "Cannot read properties of undefined (reading 'x')" is a runtime's error
                // message, not a thing users cannot do.
                let quoted = what.replace("n't", "").contains('\'');
                if quoted || what.contains(['"', '(', '`']) || what.contains(" of undefined") {
                    return None;
                }
                return Some(format!("Users can {verb}{tail}"));
            }
            format!("can {verb}")
        }
        9 => {
            let base = words::base_of_gerund(&c["gerund"].to_lowercase())?;
            let plural = c.name("be").map_or(plural_subject, |b| b.as_str() == "are");
            if plural {
                base.to_string()
            } else {
                words::third_person(base)
            }
        }
        10 => {
            let plural = c
                .name("be")
                .map_or(plural_subject, |b| matches!(b.as_str(), "are" | "get"));
            let be = if plural { "are" } else { "is" };
            format!("{be} {} once", &c["part"])
        }
        11 => format!("no longer {}", &c["shown"]),
        7 => {
            // "Selection background is drawn incorrectly" → "… is drawn correctly".
            let be = c["be"].to_lowercase();
            format!("{be} {} correctly", &c["part"])
        }
        _ => {
            // "X crashed after Y" is reported in the past; the outcome is in the present.
            let verb = match c["verb"].to_lowercase().as_str() {
                "crashed" => "crash".to_string(),
                "failed" => "fail".to_string(),
                "hung" => "hang".to_string(),
                "froze" => "freeze".to_string(),
                "broke" => "break".to_string(),
                "ignored" => "ignore".to_string(),
                v => v.to_string(),
            };
            // "X crashes" keeps its verb; "X crash" agrees with X.
            let verb = if verb.ends_with('s') || plural_subject {
                verb
            } else {
                words::third_person(&verb)
            };
            format!("no longer {verb}")
        }
    };
    Some(format!("{subject} {outcome}{tail}"))
}

/// `subject` without a trailing auxiliary ("… layer is", "App got").
fn without_auxiliary(subject: &str) -> &str {
    match subject.rsplit_once(' ') {
        Some((before, last))
            if matches!(
                last.to_lowercase().as_str(),
                "is" | "are" | "was" | "were" | "got" | "gets" | "get" | "has" | "have" | "been"
            ) =>
        {
            before.trim_end()
        }
        _ => subject,
    }
}

/// `s` without a trailing hedge from `hedges`.
fn without_hedge<'a>(s: &'a str, hedges: &[&str]) -> &'a str {
    hedges
        .iter()
        .find_map(|h| s.strip_suffix(h))
        .map_or(s, str::trim_end)
}

/// The outcome title of a user's bug report, from its own words: "Copy image output doesn't
/// work on Linux" → "Copy image output works on Linux". `None` for questions, long titles and
/// reports whose symptom cannot be negated from their words. The refiner reads a title that
/// has one as a symptom, answered by its fix.
pub fn bug_outcome(title: &str) -> Option<StoryDraft> {
    lazy_regex!(
        bug_lead_re,
        r"(?i)^(?:\[(?P<part>[^\]]*?)\s*\bbug\]\s*:?|bug\s*:|\[bug\]|bug\s+\([^)]*\)\s*:?)\s*"
    );
    let line = title.lines().next().unwrap_or("").trim();
    let part = bug_lead_re()
        .captures(line)
        .and_then(|c| c.name("part").map(|p| p.as_str().trim().to_string()))
        .filter(|p| !p.is_empty());
    let t = bug_lead_re().replace(line, "");
    let t = t.trim().trim_end_matches(['.', '!']);
    // "New DevTools can't access immutable.js objects?" is a report with a doubtful tone; a title
    // led by a question word, or with a question inside it, asks something instead.
    lazy_regex!(
        question_re,
        r"(?i)^(?:how|what|why|when|where|which|who|is|are|can|could|does|do|should|will|would)\s"
    );
    let t = t.strip_suffix('?').unwrap_or(t).trim_end();
    if t.is_empty() || t.contains('?') || question_re().is_match(t) {
        return None;
    }
    // A quoted message is the program's words: negating inside it garbles the quote (blind
    // round 14: "\"Hook parsing no longer fails \" Components tab").
    if t.split(' ').count() <= 16 {
        let kept = |o: &String| quotes_kept(t, o) && !states_a_fact(o);
        if let Some(outcome) = symptom_outcome(t).filter(kept) {
            return Some(fix_draft(outcome));
        }
    }
    // "[DevTools Bug] Cannot remove node "0" because …": an error message of a named part (led by
    // "Cannot …" or naming a quoted id) has
    // no behaviour to negate, but the part and its message are the item's own words.
    lazy_regex!(
        message_re,
        r#"(?i)^(?:cannot|can't|could\s+not|failed|error|uncaught|unable|unexpected)\b|"\d+""#
    );
    let message = t.split(" because ").next().unwrap_or(t).trim();
    let part = part.filter(|_| message_re().is_match(message))?;
    (message.split(' ').count() <= 10)
        .then(|| fix_draft(format!("{part} no longer fails with “{message}”")))
}

/// Whether every quoted message in `outcome` is one of `title`'s: a quote is the program's
/// words, and negating inside it garbles them (blind round 14).
fn quotes_kept(title: &str, outcome: &str) -> bool {
    lazy_regex!(quote_re, r#""[^"]+"|“[^”]+”|`[^`]+`|(?:^|\s)'[^']+'"#);
    quote_re()
        .find_iter(outcome)
        .all(|m| title.contains(m.as_str().trim_start()))
}

/// Whether an outcome only asserts what a thing is ("DistributedDatasetInterface is an
/// attribute of input_lib"): the negation of "is not a …" is a fact about code, not behaviour
/// a user sees, and blind rounds 13 and 14 rejected it as circular.
fn states_a_fact(outcome: &str) -> bool {
    lazy_regex!(
        fact_re,
        r"(?i)^\S+(?:\s+\S+)?\s+(?:is|are)\s+(?:a|an|the)\s"
    );
    fact_re().is_match(outcome)
}

/// The outcome of a fix worded as keeping something right: "preserve the writeable flag in
/// output arguments" → "The writeable flag in output arguments is preserved".
fn kept_outcome(what: &str) -> Option<String> {
    let (verb, rest) = what.split_once(' ')?;
    let done = match verb.to_lowercase().as_str() {
        "preserve" => "preserved",
        "respect" => "respected",
        "honor" | "honour" => "honoured",
        "restore" => "restored",
        "keep" => "kept",
        _ => return None,
    };
    let rest = rest.trim();
    let plural = rest.split(' ').next().is_some_and(|w| w.ends_with('s'));
    let be = if plural { "are" } else { "is" };
    Some(format!("{} {be} {done}", capitalise(rest)))
}

/// Whether a word names a part of the code: `snake_case`, `camelCase`, `SHOUTING`, `a::b`.
pub(super) fn is_code_name(w: &str) -> bool {
    w.contains(['_', '(', ':', '.', '`'])
        || w.chars().skip(1).any(|c| c.is_uppercase()) && w.chars().any(|c| c.is_lowercase())
        || (w.len() > 2 && w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
}

/// A fix's outcome title. It carries no criteria: the panel judged the generic ones ("the case
/// the item describes gives the expected result") boilerplate, and the item's words name no
/// checkable case beyond the title itself.
fn fix_draft(outcome: String) -> StoryDraft {
    StoryDraft {
        story: outcome,
        role: None,
        goal: None,
        benefit: None,
        acceptance_criteria: Vec::new(),
    }
}

#[cfg(test)]
#[path = "fix_tests.rs"]
mod tests;
