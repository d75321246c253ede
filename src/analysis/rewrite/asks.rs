//! Tracker titles the first reading of a report misses: questions that ask whether something
//! can be done, a bare "Question:" lead, changes written as a commit or pull request
//! ("dnn(tflite): add …", "Proposed solution for issue #123"), and messages pasted from a log
//! as the title ("Could not load dynamic library …"). Blind round 12a rejected each of them
//! when it came back word for word as "already a story".

/// The docs task a question asks for: "Is it possible to pass X in Y?" → "Document whether it
/// is possible to pass X in Y"; "Question: X overrides Y" → "Answer the question “X overrides
/// Y”". `None` when the title is not such a question.
pub fn question_task(title: &str) -> Option<String> {
    lazy_regex!(
        possible_re,
        r"(?i)^(?:question\s*[:：]\s*)?(?:is\s+(?:it\s+)?possible\s+to|(?:can|could)\s+(?:i|we|you|one)|is\s+there\s+a\s+possibility\s+to)\s+(?P<what>[^?？]+?)\s*[?？]?\s*$"
    );
    lazy_regex!(
        support_re,
        r"(?i)^(?:question\s*[:：]\s*)?is\s+there\s+(?:any\s+)?support\s+for\s+(?P<what>[^?？]+?)\s*[?？]?\s*$"
    );
    lazy_regex!(
        question_lead_re,
        r"(?i)^(?:\[question\]|question)\s*[:：-]?\s*(?P<what>\S.*?)\s*[?？]?\s*$"
    );
    // "how using open cv to maui net": a how-to in broken English.
    lazy_regex!(
        how_use_re,
        r"(?i)^how\s+(?:using|use|to\s+using)\s+(?P<what>[^?？]+?)\s*[?？]?\s*$"
    );
    // "The relationship between the parameters of Conv2D is unclear": the docs fall short.
    lazy_regex!(
        unclear_re,
        r"(?i)^(?P<what>.+?)\s+(?:is|are)\s+(?:unclear|confusing|not\s+clear|poorly\s+documented|not\s+documented|undocumented)\s*[.!]?$"
    );
    let t = title.lines().next().unwrap_or("").trim();
    if let Some(c) = how_use_re().captures(t) {
        return Some(format!("Document how to use {}", c["what"].trim()));
    }
    if let Some(c) = unclear_re().captures(t) {
        let what = c["what"].trim();
        let what = match what.split_once(' ') {
            Some((the, rest)) if the.eq_ignore_ascii_case("the") => format!("the {rest}"),
            _ => what.to_string(),
        };
        return Some(format!("Clarify {what} in the docs"));
    }
    if let Some(c) = possible_re().captures(t) {
        let what = c["what"].trim().trim_end_matches(['.', '!']);
        return Some(format!("Document whether it is possible to {what}"));
    }
    if let Some(c) = support_re().captures(t) {
        return Some(format!(
            "Document whether there is support for {}",
            c["what"].trim()
        ));
    }
    question_lead_re().captures(t).map(|c| {
        let what = c["what"].trim();
        // "Question about X" names its subject, not the question itself.
        match what.strip_prefix("about ") {
            Some(subject) => format!("Answer the question about {subject}"),
            None => format!("Answer the question “{what}”"),
        }
    })
}

/// The answer a question no narrower rule words asks for: "when can use tap root ?" → "Answer
/// the question “when can use tap root ?”". A question naming a failure is a bug report instead.
pub fn open_question(title: &str) -> Option<String> {
    lazy_regex!(
        wh_re,
        r"(?i)^(?:when|where|which|what|why|who)\b[^?？]*[?？]"
    );
    lazy_regex!(
        failure_re,
        r"(?i)\b(?:crash\w*|errors?|fail\w*|exceptions?|broken|bugs?|wrong|segfault\w*|abort\w*)\b"
    );
    let t = title.lines().next().unwrap_or("").trim();
    (wh_re().is_match(t) && !failure_re().is_match(t)).then(|| format!("Answer the question “{t}”"))
}

/// The answer to any other question a title asks ("Is opencv.js supports dft now?", "X treats
/// label as binary?"): blind round 19 rejected such titles kept as tasks or stories. Not the
/// team's own "Should we …?" or another proposal, nor a failure asked about.
pub fn asked_question(t: &str) -> Option<String> {
    lazy_regex!(own_re, r"(?i)^(?:should|shall)\s+we\b");
    lazy_regex!(
        failure_re,
        r"(?i)\b(?:crash\w*|errors?|fail\w*|exceptions?|broken|bugs?|wrong|segfault\w*|abort\w*|null|nullptr|can't|cannot|unable|doesn't|not\s+working)\b"
    );
    let proposal = own_re().is_match(t) || super::requests::proposal_decision(t).is_some();
    (t.ends_with(['?', '？']) && !proposal && !failure_re().is_match(t))
        .then(|| format!("Answer the question “{t}”"))
}

/// Whether a title is a change written as a commit or a pull request: a lower-case scope and
/// an order ("dnn(tflite): add 3rdparty flatbuffers", "rpc: drop the old call"), or a proposed
/// solution for a numbered issue. Such a title is the team's work, not a user's wish.
pub fn is_change_title(title: &str) -> bool {
    lazy_regex!(
        commit_re,
        r"^(?P<scope>[a-z][\w./+-]*(?:\([^)\s]{1,30}\))?)!?:\s*(?P<verb>[a-z]+)\b"
    );
    if change_task(title).is_some() {
        return true;
    }
    let t = title.lines().next().unwrap_or("").trim();
    // A tracker's own kind of item ("bug:", "feature:") is not a component scope.
    const KINDS: [&str; 9] = [
        "bug",
        "feature",
        "question",
        "request",
        "rfe",
        "idea",
        "proposal",
        "suggestion",
        "help",
    ];
    commit_re().captures(t).is_some_and(|c| {
        let scope = c["scope"].split('(').next().unwrap_or("");
        !KINDS.contains(&scope) && super::words::is_verb(&c["verb"])
    })
}

/// Whether a title is a message pasted from a log, behind an optional tag: "Warning: Internal
/// React error: …", "Could not load dynamic library 'libx.so.12'; dlerror: …". What the
/// reporter did and expected is not in it.
pub fn pasted_message(title: &str) -> bool {
    lazy_regex!(
        labelled_re,
        r"^(?:Warning|Error|Fatal\s+error|Fatal|Uncaught|Exception)\s*:\s*\S"
    );
    lazy_regex!(
        loader_re,
        r"(?i)(?:^(?:could\s+not|couldn't|cannot|unable\s+to)\s+(?:load|open)\s+(?:dynamic\s+library|shared\s+(?:object|library))\b|cannot\s+open\s+shared\s+object\s+file)"
    );
    let t = message_of(title);
    labelled_re().is_match(t) || loader_re().is_match(t)
}

/// The work a change title names when its words are the tracker's: "Proposed solution for
/// issue #123" → "Review the proposed solution for issue #123".
pub fn change_task(title: &str) -> Option<String> {
    lazy_regex!(
        proposal_re,
        r"(?i)^(?:proposed|suggested|possible)\s+(?P<what>(?:solution|fix|patch|change)s?\s+(?:for|to)\s+(?:issue\s+)?#\d+.*)$"
    );
    let t = title.lines().next().unwrap_or("").trim();
    proposal_re()
        .captures(t)
        .map(|c| format!("Review the proposed {}", c["what"].trim_end_matches('.')))
}

/// A pasted message without the tracker's tag or the logger's prefix before it, and without the
/// detail after its first clause: "[DevTools Bug]: Warning: …" → "Warning: …"; "W
/// tensorflow/…/dso_loader.cc:64] Could not load dynamic library 'libcudnn.so.8'; dlerror: …" →
/// "Could not load dynamic library 'libcudnn.so.8'".
pub fn message_of(title: &str) -> &str {
    // glog's "W path/file.cc:64] " (severity, source file, line) says where it was logged.
    lazy_regex!(
        log_prefix_re,
        r"^[IWEF]\d{0,4}\s*(?:[\d:.\s]+)?\S+\.\w+:\d+\]\s*"
    );
    let t = super::task::without_tag(title.trim());
    let t = log_prefix_re().find(t).map_or(t, |m| &t[m.end()..]);
    t.split("; ").next().unwrap_or(t).trim()
}

/// The fix task of a title led by the failure it names: "Intermittent failure in
/// `fee_estimation.py`" → "Fix the intermittent failure in `fee_estimation.py`"; "Build failure
/// on M1 (arm64): …" → "Fix the build failure on M1 (arm64): …".
pub fn failure_task(title: &str) -> Option<String> {
    lazy_regex!(
        failure_re,
        r"(?i)^(?P<what>(?:(?:intermittent|flaky|sporadic|random|occasional)\s+)?(?:(?:build|test|ci|link|linker|compile|compilation|unit\s+test)\s+)?(?:failures?|errors?))\s+(?P<rest>(?:in|on|of|for|with|when|while|under)\b.+)$"
    );
    // "test: failure in interface_rest.py": the commit-style kind says what failed.
    lazy_regex!(
        kind_re,
        r"(?i)^(?:\[(?P<k1>test|ci|build)\]|(?P<k2>test|ci|build)\s*:)\s*"
    );
    let t = title.lines().next().unwrap_or("").trim();
    let (kind, t) = match kind_re().captures(t) {
        Some(k) => {
            let name = k.name("k1").or(k.name("k2")).map_or("", |m| m.as_str());
            let name = if name.eq_ignore_ascii_case("ci") {
                "CI".to_string()
            } else {
                name.to_lowercase()
            };
            (Some(name), &t[k.get(0).expect("match").end()..])
        }
        None => (None, t),
    };
    let c = failure_re().captures(t)?;
    let what = c["what"].to_lowercase();
    let what = match kind {
        Some(k) if what.split(' ').count() == 1 => format!("{k} {what}"),
        _ => what,
    };
    Some(format!("Fix the {what} {}", c["rest"].trim()))
}

/// A title without the tracker's kind tag: "[Feature Request] Default Keras callback" and "GPU
/// delegate dynamic shapes (Feature Request)" name what users get without it. A component tag
/// ("[Accessibility] …") stays: it says where.
pub fn without_kind_tag(line: &str) -> &str {
    lazy_regex!(
        lead_re,
        r"(?i)^(?:\[\s*(?:feature(?:[\s-]+request)?|fr|enhancement|request|proposal|suggestion|idea|rfe)\s*\]|(?:feature(?:\s+request)?|enhancement|rfe)\s*:)\s*:?\s*"
    );
    lazy_regex!(
        trail_re,
        r"(?i)\s*[\[(]\s*(?:feature(?:[\s-]+request)?|enhancement|fr)\s*[\])]\s*$"
    );
    let t = lead_re().find(line).map_or(line, |m| &line[m.end()..]);
    let t = trail_re().find(t).map_or(t, |m| &t[..m.start()]);
    if t.chars().any(char::is_alphabetic) {
        t.trim()
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_and_log_lines_are_worded_as_the_work() {
        assert_eq!(
            failure_task("Intermittent failure in `feature_fee_estimation.py`").as_deref(),
            Some("Fix the intermittent failure in `feature_fee_estimation.py`")
        );
        assert_eq!(
            failure_task("Build failure on M1 (arm64): error: unknown target CPU").as_deref(),
            Some("Fix the build failure on M1 (arm64): error: unknown target CPU")
        );
        assert_eq!(
            failure_task("test: failure in wallet_backup.py").as_deref(),
            Some("Fix the test failure in wallet_backup.py")
        );
        assert_eq!(
            failure_task("[CI] flaky failure on the arm runner").as_deref(),
            Some("Fix the flaky failure on the arm runner")
        );
        assert_eq!(failure_task("Failure modes of the exporter"), None);
        assert_eq!(
            message_of("W tensorflow/stream_executor/dso_loader.cc:64] Could not load dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open"),
            "Could not load dynamic library 'libcudnn.so.8'"
        );
    }

    #[test]
    fn kind_tags_leave_story_titles() {
        assert_eq!(
            without_kind_tag("[Feature Request] Default callback for timing the loop"),
            "Default callback for timing the loop"
        );
        assert_eq!(
            without_kind_tag("GPU delegate dynamic input shapes (Feature Request)"),
            "GPU delegate dynamic input shapes"
        );
        assert_eq!(without_kind_tag("Feature: dark mode"), "dark mode");
        assert_eq!(
            without_kind_tag("[Accessibility] Focus moves to the symbol"),
            "[Accessibility] Focus moves to the symbol"
        );
        assert_eq!(without_kind_tag("[Feature]"), "[Feature]");
    }

    #[test]
    fn questions_become_the_docs_they_ask_for() {
        assert_eq!(
            question_task("Is it possible to pass in multiple thresholds in NMSBoxes？").as_deref(),
            Some("Document whether it is possible to pass in multiple thresholds in NMSBoxes")
        );
        assert_eq!(
            question_task("Is possible to measure height using pose estimation").as_deref(),
            Some("Document whether it is possible to measure height using pose estimation")
        );
        assert_eq!(
            question_task("Can I run the exporter on a GPU?").as_deref(),
            Some("Document whether it is possible to run the exporter on a GPU")
        );
        assert_eq!(
            question_task("Is there support for arm64 wheels?").as_deref(),
            Some("Document whether there is support for arm64 wheels")
        );
        assert_eq!(
            question_task("Question: lib context overrides app context").as_deref(),
            Some("Answer the question “lib context overrides app context”")
        );
        assert_eq!(question_task("Add a way to export timings"), None);
        assert_eq!(
            question_task("how using the exporter in a flask app").as_deref(),
            Some("Document how to use the exporter in a flask app")
        );
        assert_eq!(
            question_task("The relationship between the strides of Pool2D is unclear").as_deref(),
            Some("Clarify the relationship between the strides of Pool2D in the docs")
        );
        assert_eq!(
            open_question("when can I use batched exports ? is there a guide ?").as_deref(),
            Some("Answer the question “when can I use batched exports ? is there a guide ?”")
        );
        // A question about a failure is a bug report, not a docs question.
        assert_eq!(open_question("Why does the exporter crash on start?"), None);
    }

    #[test]
    fn changes_are_told_from_wishes() {
        assert!(is_change_title(
            "dnn(tflite): add 3rdparty flatbuffers with pre-generated schema"
        ));
        assert!(is_change_title("rpc: drop the deprecated call"));
        assert!(is_change_title("Proposed solution for issue #23633"));
        assert!(!is_change_title("bug: export fails"));
        assert!(!is_change_title("feature: add dark mode"));
        assert!(!is_change_title("Add a dark mode"));
        // A scope followed by a noun is a component's report, not a change.
        assert!(!is_change_title("dnn: wrong results in test case"));
        assert_eq!(
            change_task("Proposed solution for issue #23633").as_deref(),
            Some("Review the proposed solution for issue #23633")
        );
        assert_eq!(message_of("[DevTools Bug]: Warning: x"), "Warning: x");
    }

    #[test]
    fn pasted_messages_are_recognised() {
        assert!(pasted_message(
            "[DevTools Bug]: Warning: Internal React error: Expected static flag was missing."
        ));
        assert!(pasted_message(
            "Could not load dynamic library 'libcublasLt.so.12'; dlerror: cannot open shared object file"
        ));
        assert!(!pasted_message("Error handling in the exporter"));
        assert!(!pasted_message("Export fails with a warning"));
    }
}
