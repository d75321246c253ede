//! What a user's report in an issue tracker is, when the classifier reads it as a story: a
//! how-to question, a failure of the project's own build or code, or a bug users hit. A blind
//! product-owner panel rejected each of them when it came back unchanged as "already a story":
//! a question is not a capability, a build failure is the team's work, and a bug report is a
//! story only once it says what users should see.

use super::task::capitalise;
use super::words;

lazy_regex!(
    how_to_re,
    r"(?i)^(?:question\s*:\s*)?(?:how\s+(?:to|do\s+(?:i|you|we)|can\s+(?:i|you|we|one)|should\s+(?:i|we)|would\s+(?:i|one))|is\s+there\s+(?:a|any)\s+way\s+to|what\s+is\s+the\s+(?:best|right|correct|proper)\s+way\s+to)\s+(?P<what>[^?]+?)\s*\??\s*$"
);
lazy_regex!(
    how_do_re,
    r"(?i)^how\s+(?:do|does)\s+(?P<what>(?:[^iy?\s]|i[^\s]|y[^o])[^?]*?)\s*\??\s*$"
);
lazy_regex!(
    unsupported_re,
    r"(?i)^(?P<dep>[\w.+-]+(?:\s+[\w.+-]+)?\s+v?\d+(?:\.\d+)*(?:\.x)?)\s+(?:is|are)(?:n't|\s+not)\s+(?:yet\s+)?supported\b"
);
lazy_regex!(
    question_re,
    r"(?i)(?:\b(?P<how>is\s+there\s+(?:a|any)\s+way\s+to|how\s+(?:to|do\s+i|can\s+i))\s+(?P<what>[^?]+)|^(?:what\s+(?:is|are)\s+(?P<what2>the\s+[^?]+)|does\s+(?P<subject>[^?]+?)\s+support\s+(?P<what3>[^?]+)|(?P<way>(?:the\s+)?(?:correct|right|best|proper)\s+way\s+to)\s+(?P<what4>.+)))"
);
lazy_regex!(
    difference_re,
    r"(?i)^what(?:'s|’s|\s+is)\s+the\s+difference\s+between\s+(?P<what>[^?]+)"
);
lazy_regex!(
    missing_docs_re,
    r"(?i)^missing\s+(?P<what>jsdoc|javadoc|docstrings?|docs|documentation|api\s+docs|doc\s+comments?)(?P<rest>\s+(?:for|on|of|in)\s+.+)$"
);
lazy_regex!(
    own_test_re,
    r"(?i)\b(?:test\s+cases?|unit\s+tests?|functional\s+tests?|fuzz(?:er|ing)?|flaky|intermittent(?:ly)?)\b"
);
lazy_regex!(
    why_re,
    r"(?i)^why\s+(?:does|do)\s+(?P<subject>.+?)\s+(?P<verb>need|use|require|show|take|ask|open|send|store|keep|create|change)\s+(?P<what>[^?]*?)\s*\??\s*$"
);
lazy_regex!(
    build_failure_re,
    r"(?i)\b(?:(?:build|builds|compile|compiling|compilation|linking|linker|cmake|make)\s+(?:error|errors|fails?|failed|failure|failing|issue|problem|broken)|(?:can't|cannot|can\s+not|unable\s+to|fails?\s+to|failed\s+to|doesn't|does\s+not|won't|will\s+not)\s+(?:build|compile|link)|not\s+(?:building|compiling)\b|(?:build|compilation)\s+(?:is\s+)?broken|undefined\s+(?:reference|symbol)s?|does\s+not\s+name\s+a\s+type|was\s+not\s+declared\s+in\s+this\s+scope|error\s+C\d{4}|LNK\d{4}|cross[-\s]?compil\w*\b[^.]*\bfail(?:s|ed|ing)?)\b"
);
lazy_regex!(
    source_file_re,
    r"(?i)\b[\w-]+\.(?:c|cc|cpp|h|hpp|py|rs|js|ts|tsx|jsx|go|java|kt|rb|php|cs|swift|sh)\b"
);
lazy_regex!(
    failure_re,
    r"(?i)\b(?:fails?|failed|failing|failure|errors?|wrong|invalid|crash(?:es|ed)?|aborts?|broken|timeouts?|times\s+out|hangs?|flaky|assert(?:ion)?)\b"
);
lazy_regex!(
    problem_re,
    r"(?i)(?:^\[[^\]]*\bbug\]|^bug\s*:|\b(?:bug|errors?|crash(?:es|ed)?|fails?|failed|failing|broken|wrong|incorrect|cannot|can't|can\s+not|unable|doesn't|does\s+not|don't|isn't|aren't|haven't|hasn't|not\s+(?:working|found|loaded|shown|updated|supported|visible)|problems?|exceptions?|segfault|segmentation|not\s+permitted|denied|refused|aborted|hangs?|freezes?|mismatch|inconveniences?|wastes?|overflow|leaks?|terrible|regression)\b)"
);

/// What a story-labelled user report is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// A question on how to use the product, or a gap in its docs: docs work. Holds the docs
    /// task: "How to find accuracy of a model?" → "Document how to find accuracy of a model".
    HowTo(String),
    /// A failure of the project's own build (`build`), or of a named source file or a test
    /// (a test case, a fuzzer, a flaky or intermittent check): the team's work.
    OwnFailure { build: bool },
    /// A change to the team's own code written as done ("added argument to … in `x.cpp`") or
    /// test work ("fuzz: …"): a task.
    OwnWork,
    /// A dependency version the project does not support yet ("protobuf 4 is not supported"):
    /// the team's dependency work. Holds the task: "Support protobuf 4".
    Unsupported(String),
    /// A problem users hit with the product: a story, told by the behaviour users should see.
    Bug,
}

/// Reads a report's first line; `None` when it is none of these (a feature wish, a story).
pub fn report(title: &str) -> Option<Report> {
    // A fullwidth question mark ends a question as well ("What is …？").
    let first = title.lines().next().unwrap_or("").trim().replace('？', "?");
    let t = first.as_str();
    if let Some(c) = how_to_re().captures(t) {
        let what = c["what"].trim().trim_end_matches(['.', '!']);
        // "How can I get X" asks for a way to do something the words name; "how to" is kept.
        return Some(Report::HowTo(format!(
            "Document how to {}",
            first_person_out(what)
        )));
    }
    if let Some(c) = how_do_re().captures(t) {
        return Some(Report::HowTo(format!("Document how {}", c["what"].trim())));
    }
    if let Some(c) = unsupported_re().captures(t) {
        return Some(Report::Unsupported(format!("Support {}", c["dep"].trim())));
    }
    // "configure: error: cannot figure out how to use X" is a tool's message, not a question.
    lazy_regex!(message_re, r"(?i)\berror\s*:");
    if let Some(c) = question_re()
        .captures(t)
        .filter(|_| !message_re().is_match(t))
    {
        let what = ["what", "what2", "what3", "what4"]
            .iter()
            .find_map(|g| c.name(g))
            .map_or("", |m| m.as_str())
            .trim()
            .trim_end_matches(['.', '!', '?'])
            .trim();
        let task = if let Some(subject) = c.name("subject") {
            format!(
                "Document whether {} supports {what}",
                subject.as_str().trim()
            )
        } else if c.name("way").is_some() {
            format!("Document the correct way to {what}")
        } else if c.name("how").is_some() {
            format!("Document how to {}", first_person_out(what))
        } else {
            format!("Document {what}")
        };
        return Some(Report::HowTo(task));
    }
    if let Some(task) = super::asks::question_task(t) {
        return Some(Report::HowTo(task));
    }
    if let Some(c) = difference_re().captures(t) {
        return Some(Report::HowTo(format!(
            "Document the difference between {}",
            c["what"].trim()
        )));
    }
    if let Some(c) = missing_docs_re().captures(t) {
        return Some(Report::HowTo(format!(
            "Add {}{}",
            c["what"].to_lowercase(),
            c["rest"].trim_end_matches(['.', '!'])
        )));
    }
    // A request for help ("Need help with running X on GPU", "Issues with running X in C++")
    // asks how to use the product: "Document how to run X on GPU".
    lazy_regex!(
        help_re,
        r"(?i)^(?:need\s+help\s+(?:with|on)|help\s+(?:with|on)|issues?\s+with|problems?\s+with|questions?\s+(?:about|on))\s+(?P<what>[^?]+?)\s*\??\s*$"
    );
    if let Some(c) = help_re().captures(t) {
        let what = c["what"].trim();
        let (first, rest) = what.split_once(' ').unwrap_or((what, ""));
        // Only a request led by what the user does reads as a how-to; "Need help with X
        // Running on GPU - Output Issue" prefixed with "Document" was judged garbled.
        if let Some(base) = words::base_of_gerund(first) {
            return Some(Report::HowTo(
                format!("Document how to {base} {rest}").trim().to_string(),
            ));
        }
        // A plain request for help is still support work, answered as what it is.
        lazy_regex!(asks_re, r"(?i)^(?:need\s+help|help|questions?)\b");
        if asks_re().is_match(t) {
            return Some(Report::HowTo(format!(
                "Answer the request for help with {what}"
            )));
        }
    }
    // "Choosing `patternSize` parameter in `findChessboardCorners`": how to use a named part.
    lazy_regex!(
        usage_re,
        r"(?i)^(?P<verb>choosing|selecting|understanding|interpreting)\s+(?P<what>.*`.+)$"
    );
    if let Some(c) = usage_re().captures(t) {
        let base = words::base_of_gerund(&c["verb"].to_lowercase())?;
        let what = c["what"].trim().trim_end_matches(['.', '?']);
        return Some(Report::HowTo(format!("Document how to {base} {what}")));
    }
    // "Where are the build instructions for X?" → "Document the build instructions for X".
    lazy_regex!(
        where_re,
        r"(?i)^where\s+(?:are|is|can\s+i\s+find|do\s+i\s+find)\s+(?P<what>[^?]+?)\s*\??\s*$"
    );
    if let Some(c) = where_re().captures(t) {
        return Some(Report::HowTo(format!("Document {}", c["what"].trim())));
    }
    // "Why is X not Y?" → "Document why X is not Y".
    lazy_regex!(
        why_is_re,
        r"(?i)^why\s+(?P<what>.+?\s+(?:is|are)\s+[^?]+?)\s*\??\s*$"
    );
    if let Some(c) = why_is_re().captures(t) {
        return Some(Report::HowTo(format!("Document why {}", c["what"].trim())));
    }
    if let Some(c) = why_re().captures(t) {
        // "Why does X need Y?" → "Document why X needs Y".
        let verb = words::third_person(&c["verb"].to_lowercase());
        let what = c["what"].trim();
        return Some(Report::HowTo(format!(
            "Document why {} {verb} {what}",
            c["subject"].trim()
        )));
    }
    if let Some(task) = super::asks::open_question(t) {
        return Some(Report::HowTo(task));
    }
    // A build log pasted under the title ("[100%] Linking CXX executable …") makes any title a
    // report about building the project.
    lazy_regex!(
        build_log_re,
        r"(?m)^\s*\[\s*\d{1,3}%\]\s+(?:Linking|Building|Built)\b"
    );
    // A failure in the team's release or build tooling ("Release process: …").
    lazy_regex!(
        own_tooling_re,
        r"(?i)^(?:release|build|packaging|deploy(?:ment)?|ci)(?:\s+(?:process|script|pipeline|job|tooling))?\s*:"
    );
    let tooling = own_tooling_re().is_match(t) && problem_re().is_match(t);
    if tooling || build_failure_re().is_match(t) || build_log_re().is_match(title) {
        return Some(Report::OwnFailure { build: true });
    }
    // A short title over a question ("Rate limits for `ping` RPC" / "What are the rate limits
    // …?") asks for the docs the title names.
    lazy_regex!(
        asks_re,
        r"(?i)^(?:what\s+(?:is|are)\s+the|how\s+(?:do|does|can)\s+(?:i|we|you|one)|is\s+there\s+(?:a|any)\s+way|where\s+(?:is|are|can))\b"
    );
    let second = title.lines().nth(1).unwrap_or("").trim();
    if t.split(' ').count() <= 6 && asks_re().is_match(second) && !problem_re().is_match(t) {
        let t = t.trim_end_matches(['.', '!', '?']);
        let lower = match t.split_once(' ') {
            Some((w, r)) if w.chars().skip(1).all(|c| c.is_lowercase()) => {
                format!("{} {r}", w.to_lowercase())
            }
            _ => t.to_string(),
        };
        return Some(Report::HowTo(format!("Document {lower}")));
    }
    lazy_regex!(flaky_re, r"(?i)\b(?:flaky|intermittent(?:ly)?)\b");
    let own_code = source_file_re().is_match(t) || own_test_re().is_match(t);
    if (own_code && failure_re().is_match(t)) || flaky_re().is_match(t) {
        return Some(Report::OwnFailure { build: false });
    }
    if super::asks::is_change_title(t) {
        return Some(Report::OwnWork);
    }
    lazy_regex!(
        done_re,
        r"(?i)^(?:added|fixed|updated|removed|changed|refactored|moved|renamed|replaced|cleaned)\b"
    );
    lazy_regex!(fuzz_re, r"(?i)^fuzz(?:ing|er)?\s*:");
    let code_named = source_file_re().is_match(t) || t.contains('`');
    if (done_re().is_match(t) && code_named) || fuzz_re().is_match(t) {
        return Some(Report::OwnWork);
    }
    if problem_re().is_match(t) {
        return Some(Report::Bug);
    }
    super::asks::asked_question(t).map(Report::HowTo)
}

/// Why a story-labelled title is too little to refine, when it is: a bare name of at most four
/// words with no verb ("music store database", "Bug in CodeSpace"). A blind panel judged the
/// same note on a question worse than the plain story answer, so questions do not get it.
pub fn too_little(title: &str) -> Option<&'static str> {
    let t = title.trim();
    let ws: Vec<&str> = t.split_whitespace().collect();
    // A verb leads ("Add …", "Getting …"), or a clause follows ("… to prevent sleep", "… is
    // off"): then the title says something to act on. Nouns that are also verbs ("store")
    // elsewhere in a name do not count.
    const FINITE: [&str; 24] = [
        "is",
        "are",
        "was",
        "were",
        "does",
        "doesn't",
        "don't",
        "can't",
        "cannot",
        "won't",
        "not",
        "to",
        "no",
        "fails",
        "broken",
        "missing",
        "wrong",
        "incorrect",
        "slow",
        "crash",
        "crashes",
        "hangs",
        "freezes",
        "error",
    ];
    let first = ws
        .first()
        .map_or("", |w| w.trim_matches(|c: char| !c.is_alphanumeric()));
    let verbless = !(words::is_verb(first)
        || words::base_of_gerund(first).is_some()
        || words::base_of_participle(first).is_some()
        || ws
            .iter()
            .any(|w| FINITE.contains(&w.to_lowercase().as_str())));
    // A version ("tensorflow-aarch64==2.6.0 build") names what is asked for.
    lazy_regex!(version_re, r"\d+\.\d+");
    (ws.len() <= 4 && verbless && !version_re().is_match(t)).then_some(
        "Too little to tell what users should get; ask the reporter what they did and what they expected before refining it.",
    )
}

/// Whether a bare title names an error ("Invalid work group size"): the reporter is asked
/// for the steps that raise it, not for what it should do.
pub fn names_error(title: &str) -> bool {
    lazy_regex!(
        error_lead_re,
        r"(?i)^(?:invalid|unknown|unexpected|illegal)\b"
    );
    error_lead_re().is_match(title.trim())
}

/// Whether a title is only a runtime's error message ("TypeError: Cannot convert 0.1 to
/// EagerTensor of dtype int64"): what the reporter did, and expected, is not in it.
pub fn raw_error(title: &str) -> bool {
    lazy_regex!(raw_error_re, r"^[A-Z][A-Za-z]*(?:Error|Exception)\s*:\s*\S");
    raw_error_re().is_match(title.trim()) || super::asks::pasted_message(title)
}

/// The task of fixing a failure a title states as a symptom: a noun phrase gets "Fix" before
/// it ("Android NDK 23b LTS Compile Error" → "Fix Android NDK 23b LTS Compile Error"); a
/// sentence is kept whole after "Fix:" rather than re-worded, as a guess would garble it.
pub fn fix_task(core: &str) -> String {
    lazy_regex!(
        finite_re,
        r"(?i)\b(?:is|are|was|were|has|have|had|does|do|did|unable|can't|cannot|can|won't|doesn't|don't|isn't|fails|failed|crashes|crashed|makes?|gets?|breaks?|causes?|returns?|throws?)\b"
    );
    let core = core.trim().trim_end_matches(['.', '!', '?']);
    // "OpenCL FP16 tests are broken (…)" → "Fix the broken OpenCL FP16 tests (…)".
    lazy_regex!(
        broken_re,
        r"(?i)^(?P<what>[^:]+?)\s+(?:is|are)\s+broken\b(?P<rest>.*)$"
    );
    // "OpenCV 4.5 not building with OpenVINO" → "Fix the build of OpenCV 4.5 with OpenVINO".
    lazy_regex!(
        not_building_re,
        r"(?i)^(?P<what>[^:]+?)\s+(?:is\s+|are\s+)?not\s+(?:building|compiling)\b(?P<rest>.*)$"
    );
    if let Some(c) = not_building_re().captures(core) {
        return format!("Fix the build of {}{}", &c["what"], &c["rest"]);
    }
    if let Some(c) = broken_re().captures(core) {
        let what = &c["what"];
        let plain = what
            .split(' ')
            .next()
            .is_some_and(|w| w.chars().skip(1).all(char::is_lowercase));
        let what = if plain {
            let mut cs = what.chars();
            cs.next()
                .map(|f| f.to_lowercase().chain(cs).collect())
                .unwrap_or_default()
        } else {
            what.to_string()
        };
        return format!("Fix the broken {what}{}", &c["rest"]);
    }
    // "Strict mode badge points to the old docs": a verb in the third person makes a sentence.
    let sentence = core
        .split(' ')
        .skip(1)
        .any(|w| w.len() > 3 && super::words::base_of_third_person(w).is_some());
    if finite_re().is_match(core) || sentence {
        format!("Fix: {}", capitalise(core))
    } else {
        format!("Fix {core}")
    }
}

/// "get the label", "I get the label" → "get the label"; "my model" → "a model" is not done:
/// the item's own words stay.
fn first_person_out(what: &str) -> String {
    let w = what.trim();
    for lead in ["I ", "we ", "you ", "one "] {
        if let Some(rest) = w.strip_prefix(lead) {
            return rest.to_string();
        }
    }
    w.to_string()
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
