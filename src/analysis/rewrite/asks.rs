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
        r"(?i)^(?:question\s*[:：]\s*)?(?:is\s+it\s+possible\s+to|(?:can|could)\s+(?:i|we|you|one)|is\s+there\s+a\s+possibility\s+to)\s+(?P<what>[^?？]+?)\s*[?？]?\s*$"
    );
    lazy_regex!(
        support_re,
        r"(?i)^(?:question\s*[:：]\s*)?is\s+there\s+(?:any\s+)?support\s+for\s+(?P<what>[^?？]+?)\s*[?？]?\s*$"
    );
    lazy_regex!(
        question_lead_re,
        r"(?i)^(?:\[question\]|question)\s*[:：-]?\s*(?P<what>\S.*?)\s*[?？]?\s*$"
    );
    let t = title.lines().next().unwrap_or("").trim();
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
    question_lead_re()
        .captures(t)
        .map(|c| format!("Answer the question “{}”", c["what"].trim()))
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

/// A pasted message without the tracker's tag before it: "[DevTools Bug]: Warning: …" →
/// "Warning: …".
pub fn message_of(title: &str) -> &str {
    super::task::without_tag(title.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_become_the_docs_they_ask_for() {
        assert_eq!(
            question_task("Is it possible to pass in multiple thresholds in NMSBoxes？").as_deref(),
            Some("Document whether it is possible to pass in multiple thresholds in NMSBoxes")
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
