//! Bug titles whose symptom comes before its subject, or is told as a mislabel, a wrong value or
//! a lost ability: "Error when running tf.x" → "Running tf.x no longer raises an error", "useEffect
//! hook incorrectly labelled as the reason" → "useEffect hook is no longer labelled as the reason",
//! "Wrong version for OpenCV 4.7.0 on the releases page" → "The version for OpenCV 4.7.0 on the
//! releases page is correct", "bitcoind does not support symbolic links anymore" → "bitcoind
//! supports symbolic links again", "webpages didn't load in chrome" → "Webpages load in chrome".
//! Blind rounds 12b and 12c rejected these returned word for word.

use super::task::capitalise;
use super::words;

/// The outcome of one of these symptoms, or `None`.
pub fn outcome(what: &str) -> Option<String> {
    let what = what.trim();
    event(what)
        .or_else(|| mislabel(what))
        .or_else(|| wrong_value(what))
        .or_else(|| lost_ability(what))
        .or_else(|| past_failure(what))
        .or_else(|| different_results(what))
}

/// A failure told in the past or as a refusal, of something users do: "webpages didn't load in
/// chrome" → "Webpages load in chrome". Only verbs of behaviour users see are negated; an object
/// that says nothing ("won't run anything") has no outcome to state.
fn past_failure(what: &str) -> Option<String> {
    lazy_regex!(
        refused_re,
        r"(?i)^(?P<subject>[^,:;?]+?)\s+(?:didn't|did\s+not|won't|will\s+not|wouldn't|would\s+not|couldn't|could\s+not)\s+(?P<verb>load|open|start|launch|show|display|appear|render|save|connect|respond|play|print|sync|update|work|run|close|install|refresh|scroll|send)\b(?P<rest>[^,;:?]*)$"
    );
    lazy_regex!(
        empty_re,
        r"(?i)\b(?:anything|everything|at\s+all|bugs?|issues?|problems?|errors?|when|if)\b"
    );
    let c = refused_re().captures(what)?;
    let (subject, rest) = (c["subject"].trim(), c["rest"].trim());
    if empty_re().is_match(rest) || empty_re().is_match(subject) {
        return None;
    }
    let base = c["verb"].to_lowercase();
    let plural = subject.contains(" and ")
        || subject.rsplit(' ').next().is_some_and(|w| {
            w.ends_with('s') && !w.ends_with("ss") && !super::fix::is_code_name(w)
        });
    let verb = if plural {
        base
    } else {
        words::third_person(&base)
    };
    let first = subject.split(' ').next().unwrap_or("");
    let subject = if super::fix::is_code_name(first) {
        subject.to_string()
    } else {
        capitalise(subject)
    };
    Some(format!("{subject} {verb} {rest}").trim_end().to_string())
}

/// "X gives different results before and after Y" → "X gives the same results before and after
/// Y": the report's own comparison is the outcome.
fn different_results(what: &str) -> Option<String> {
    lazy_regex!(
        different_re,
        r"(?i)^(?P<subject>[^,:;?]+?)\s+(?P<verb>gives?|returns?|produces?|yields?|outputs?|shows?)\s+(?:different|inconsistent)\s+(?P<what>results?|outputs?|values?|predictions?|answers?)\b(?P<rest>[^,;:?]*)$"
    );
    let c = different_re().captures(what)?;
    Some(format!(
        "{} {} the same {}{}",
        c["subject"].trim(),
        c["verb"].to_lowercase(),
        c["what"].to_lowercase(),
        c["rest"].trim_end()
    ))
}

/// A failure named before its case: "Crash when running tf.nn.pool" → "Running tf.nn.pool no
/// longer crashes"; "Segmentation fault when compiling with lto" → "Compiling with lto no longer
/// crashes".
fn event(what: &str) -> Option<String> {
    lazy_regex!(
        event_re,
        r"(?i)^(?P<event>crash(?:es)?|segfaults?|segmentation\s+fault|abort|overflow|hang|freeze|deadlock|errors?|exception)(?:\s+(?:bug|error|issue))?\s+(?:when|while)\s+(?P<case>(?P<gerund>[a-z]+ing)\b.+)$"
    );
    let c = event_re().captures(what)?;
    words::base_of_gerund(&c["gerund"].to_lowercase())?;
    let verb = match c["event"].to_lowercase().as_str() {
        "overflow" => "overflows",
        "hang" | "deadlock" => "hangs",
        "freeze" => "freezes",
        "abort" => "aborts",
        "error" | "errors" => "raises an error",
        "exception" => "raises an exception",
        _ => "crashes",
    };
    Some(format!("{} no longer {verb}", capitalise(c["case"].trim())))
}

/// "X incorrectly labelled as Y" → "X is no longer labelled as Y".
fn mislabel(what: &str) -> Option<String> {
    lazy_regex!(
        mislabel_re,
        r"(?i)^(?P<subject>[^,:;]+?)\s+(?:(?P<be>is|are)\s+)?(?:incorrectly|wrongly|falsely|mistakenly)\s+(?P<part>[a-z]+ed)\s+as\s+(?P<rest>[^,;:]+)$"
    );
    let c = mislabel_re().captures(what)?;
    let plural = c
        .name("be")
        .is_some_and(|b| b.as_str().eq_ignore_ascii_case("are"));
    let be = if plural { "are" } else { "is" };
    Some(format!(
        "{} {be} no longer {} as {}",
        c["subject"].trim(),
        c["part"].to_lowercase(),
        c["rest"].trim()
    ))
}

/// "Wrong version for OpenCV 4.7.0 in the releases website" → "The version for OpenCV 4.7.0 in
/// the releases website is correct".
fn wrong_value(what: &str) -> Option<String> {
    lazy_regex!(
        wrong_re,
        r"(?i)^(?:wrong|incorrect)\s+(?P<thing>[a-z]+)\s+(?P<rest>(?:for|of|in|on)\s+[^,;:]+)$"
    );
    let c = wrong_re().captures(what)?;
    Some(format!(
        "The {} {} is correct",
        c["thing"].to_lowercase(),
        c["rest"].trim()
    ))
}

/// "X does not support(s) Y anymore" → "X supports Y again": the report says it worked before.
fn lost_ability(what: &str) -> Option<String> {
    lazy_regex!(
        lost_re,
        r"(?i)^(?P<subject>[^,:;]+?)\s+(?:doesn't|does\s+not|don't|do\s+not|no\s+longer)\s+(?P<verb>[a-z]+)\s+(?P<object>[^,;:]+?)\s+(?:anymore|any\s+more|any\s+longer)$"
    );
    let c = lost_re().captures(what)?;
    let verb = c["verb"].to_lowercase();
    let base = if words::is_verb(&verb) {
        verb
    } else {
        words::base_of_third_person(&verb)?.to_string()
    };
    let subject = c["subject"].trim();
    let plural = subject.contains(" and ");
    let verb = if plural {
        base
    } else {
        words::third_person(&base)
    };
    Some(format!("{subject} {verb} {} again", c["object"].trim()))
}

/// The outcome of a slowness users report: "Depthwise layer much slower than 4.7.0" →
/// "Depthwise layer is as fast as in 4.7.0"; "OpenCV DNN poor performance on Web" → "Improve
/// OpenCV DNN performance on Web". No figure is invented: the item's own comparison is the bar.
pub(super) fn speed_outcome(what: &str) -> Option<String> {
    lazy_regex!(
        slower_re,
        r"(?i)^(?P<subject>.+?)\s+(?:is\s+|are\s+|runs?\s+|got\s+)?(?:much\s+|a\s+lot\s+|significantly\s+|way\s+|\d+(?:\.\d+)?x\s+)?slower\s+than\s+(?:in\s+|with\s+)?(?P<than>.+)$"
    );
    lazy_regex!(
        poor_re,
        r"(?i)^(?P<subject>.+?)\s+(?:has\s+)?(?:poor|bad|low|terrible|slow)\s+performance\b(?P<rest>.*)$"
    );
    lazy_regex!(version_re, r"^v?\d+(?:\.\d+)*\b");
    // "Performance issue when …": the subject is the problem, not a part users use.
    lazy_regex!(
        problem_re,
        r"(?i)\b(?:bugs?|issues?|problems?|regressions?|when|if)\b"
    );
    if problem_re().is_match(what.split(" slower ").next().unwrap_or(what)) {
        return None;
    }
    if let Some(c) = slower_re().captures(what) {
        let subject = c["subject"].trim();
        let than = c["than"].trim();
        let be = if subject.ends_with('s') && !subject.ends_with("ss") {
            "are"
        } else {
            "is"
        };
        let bar = if version_re().is_match(than) {
            format!("in {than}")
        } else {
            than.to_string()
        };
        return Some(format!("{} {be} as fast as {bar}", capitalise(subject)));
    }
    let c = poor_re().captures(what)?;
    // "X appears to have surprisingly poor performance": only a plain name is the subject.
    let plain = c["subject"].split(' ').all(|w| {
        !w.ends_with("ly")
            && !matches!(
                w.to_lowercase().as_str(),
                "appears" | "seems" | "has" | "have" | "had" | "to" | "is" | "are" | "very"
            )
    });
    if !plain {
        return None;
    }
    Some(format!(
        "Improve {} performance{}",
        c["subject"].trim(),
        c["rest"].trim_end()
    ))
}

#[cfg(test)]
mod tests {
    use super::outcome;

    #[test]
    fn symptoms_before_their_subject_become_outcomes() {
        let cases = [
            (
                "Error when running tensorflow.python.ops.sparse_ops.sparse_to_dense",
                "Running tensorflow.python.ops.sparse_ops.sparse_to_dense no longer raises an error",
            ),
            (
                "Abort when running tf.math.sobol_sample",
                "Running tf.math.sobol_sample no longer aborts",
            ),
            (
                "useEffect hook incorrectly labelled as reason for component rendering",
                "useEffect hook is no longer labelled as reason for component rendering",
            ),
            (
                "Wrong version for OpenCV 4.7.0 in the releases website for iOS",
                "The version for OpenCV 4.7.0 in the releases website for iOS is correct",
            ),
            (
                "bitcoind and bitcoin-cli does not supports symbolic link anymore",
                "bitcoind and bitcoin-cli support symbolic link again",
            ),
            (
                "The exporter does not keep comments anymore",
                "The exporter keeps comments again",
            ),
        ];
        for (title, want) in cases {
            assert_eq!(outcome(title).as_deref(), Some(want), "{title}");
        }
        let more = [
            ("webpages didn't load in chrome", "Webpages load in chrome"),
            (
                "The export dialog won't open on macOS",
                "The export dialog opens on macOS",
            ),
            (
                "model with lstmcell gives different results before and after tflite conversion",
                "model with lstmcell gives the same results before and after tflite conversion",
            ),
        ];
        for (title, want) in more {
            assert_eq!(outcome(title).as_deref(), Some(want), "{title}");
        }
        assert_eq!(outcome("VS code won't run anything"), None);
        assert_eq!(outcome("The build didn't compile the docs"), None);
        assert_eq!(outcome("Wrong"), None);
        assert_eq!(outcome("Errors in the log"), None);
    }
}
