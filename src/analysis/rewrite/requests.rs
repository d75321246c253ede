//! Tracker titles that are user stories but not yet written as one: a request ("Provide a way
//! to …", "X should …") becomes the story it asks for; a symptom ("Balance is 0 after …") is
//! told apart, since it asks for a fix, not a feature.
//!
//! Blind rounds 12c and 13 rejected such titles returned unchanged as "already a story": a
//! product owner wants who asks and what they want written, in the item's own words.

use super::story::{render, StoryDraft};
use super::{fix, words};

lazy_regex!(
    should_re,
    r"(?i)^(?P<subject>[^,;:?]{2,60}?)\s+(?:should|must)(?P<not>\s+not|n't)?\s+(?P<rest>[a-z][^?]*?)[.!]?$"
);

lazy_regex!(
    needs_re,
    r"(?i)^(?P<subject>[^,;:?]{2,60}?)\s+needs\s+(?P<what>(?:a|an|more|some|to)\s+[a-z][^?]*?)[.!]?$"
);

/// Request verbs whose object is what the user wants: "Provide a way to …" → "a way to …".
const GIVING: [&str; 4] = ["add", "provide", "offer", "introduce"];
/// Verbs a user performs: "Export playlists as CSV" → "to export playlists as CSV".
const USER_ACTIONS: &[&str] = &[
    "filter",
    "export",
    "import",
    "search",
    "sort",
    "view",
    "download",
    "upload",
    "share",
    "save",
    "edit",
    "delete",
    "rename",
    "print",
    "copy",
    "select",
    "hide",
    "undo",
    "preview",
    "customize",
    "broadcast",
    "send",
    "restore",
    "open",
    "find",
    "navigate",
    "trigger",
    "schedule",
    "compare",
    "merge",
    "archive",
    "invite",
    "configure",
    "change",
    "choose",
    "move",
    "track",
    "pin",
    "derive",
    "see",
    "sign",
    "connect",
    "access",
    "play",
    "read",
];
/// Words after the subject that make a title a statement of what happens now.
const FINITE: [&str; 18] = [
    "is", "are", "was", "were", "has", "have", "doesn't", "don't", "didn't", "isn't", "aren't",
    "wasn't", "can't", "cannot", "won't", "does", "did", "got",
];

/// The story a request title asks for, spoken by `role`, or `None` when the title is not a
/// request this wording can carry without changing its meaning.
pub(super) fn request_story(line: &str, role: &str) -> Option<StoryDraft> {
    let line = line.trim().trim_end_matches(['.', '!']);
    // A leading tag ("[Accessibility]") says where the request belongs, not what it asks.
    let line = match line.strip_prefix('[').and_then(|l| l.split_once(']')) {
        Some((tag, rest)) if tag.len() <= 30 => rest.trim_start_matches([' ', ':']),
        _ => line,
    };
    let line = without_area(line);
    // "Please add X", "consider adding X": the courtesy and the hedge are the reporter's; the
    // request is "add X" (blind round 18 rejected "I want a please add …", "I want consider
    // adding …").
    let line = strip_ci(line, "please ").unwrap_or(line);
    let adding = strip_ci(line, "consider adding ").map(|rest| format!("add {rest}"));
    let line = adding.as_deref().unwrap_or(line);
    let n = line.split_whitespace().count();
    if line.ends_with('?') || n < 2 {
        return None;
    }
    let goal = if let Some(c) = should_re().captures(line) {
        let subject = lower_first(c["subject"].trim());
        let not = if c.name("not").is_some() { "not " } else { "" };
        format!("{subject} {not}to {}", &c["rest"])
    } else if let Some(c) = needs_re().captures(line) {
        // "Test view output needs a space separator" → "test view output to have a space
        // separator"; "Search needs to support regex" → "search to support regex".
        let subject = lower_first(c["subject"].trim());
        let what = &c["what"];
        match what.strip_prefix("to ") {
            Some(verb) => format!("{subject} to {verb}"),
            None => format!("{subject} to have {what}"),
        }
    } else {
        let (first, rest) = line.split_once(' ')?;
        let verb = first.to_lowercase();
        if !words::is_verb(&verb) && !USER_ACTIONS.contains(&verb.as_str()) {
            return wanted(line).map(|goal| draft(role, goal));
        }
        if n < 3 {
            return None;
        }
        // A capital after the verb ("Rotate Parameter for …") is a title-cased name, not an
        // object: the verb may be a noun there.
        let named = rest.chars().next().is_some_and(char::is_uppercase)
            && !rest.starts_with("I ")
            && !fix::is_code_name(rest.split(' ').next().unwrap_or(""));
        if named && verb != "make" {
            // "Rotate Parameter for putText() function" names the thing it wants.
            return wanted(line).map(|goal| draft(role, goal));
        }
        if GIVING.contains(&verb.as_str()) {
            with_article(&into_place(rest))
        } else if verb == "support" {
            format!("support for {}", rest.strip_prefix("for ").unwrap_or(rest))
        } else if matches!(verb.as_str(), "allow" | "let" | "enable") {
            let rest = rest
                .strip_prefix("users to ")
                .or_else(|| rest.strip_prefix("the user to "))
                .or_else(|| rest.strip_prefix("user to "))?;
            format!("to {rest}")
        } else if let Some(what) = (verb == "make")
            .then(|| {
                rest.strip_prefix("possible to ")
                    .or_else(|| rest.strip_prefix("it possible to "))
            })
            .flatten()
        {
            format!("to be able to {what}")
        } else if verb == "make" {
            // "Make Alt+F2 work in notification area" → "Alt+F2 to work in notification area".
            let (what, how) = rest
                .split_once(' ')
                .filter(|(_, how)| behaves(how.split(' ').next().unwrap_or("")))?;
            format!("{what} to {how}")
        } else if USER_ACTIONS.contains(&verb.as_str()) {
            format!("to {verb} {rest}")
        } else {
            return None;
        }
    };
    Some(draft(role, goal))
}

/// The story a bare title names when its description wishes for it: "Smooth scrolling on
/// tabs" → "As a user, I want smooth scrolling on tabs." `None` for a defect, a symptom or work.
pub(super) fn wish_story(line: &str, role: &str) -> Option<StoryDraft> {
    let line = line.trim().trim_end_matches(['.', '!']);
    // One word ("powershell") names a topic, not a thing wanted.
    let bare = line.split_whitespace().count() < 2;
    if bare || line.ends_with('?') || names_defect(line) || states_symptom(line) || names_work(line)
    {
        return None;
    }
    Some(draft(role, with_article(&sentence_case(line))))
}

fn draft(role: &str, goal: String) -> StoryDraft {
    StoryDraft {
        story: render(role, &goal, None),
        role: Some(role.into()),
        goal: Some(goal),
        benefit: None,
        acceptance_criteria: Vec::new(),
    }
}

/// Words that make a noun phrase a defect ("Crash on start", "Missing icons"), not a wish.
const DEFECTS: &str = "crash crashes error errors failure exception leak regression broken wrong \
    incorrect missing not bug issue problem difference overflow slow slower false never behaves \
    unexpected unexpectedly weird overlap overlaps invalid irrelevant spurious stalls stuck bugs \
    issues problems failures worst null";

/// Whether a noun phrase names a defect ("Tensorflow Load Datasets Failure for 3.11"): a
/// symptom, answered as its fix.
pub(super) fn names_defect(line: &str) -> bool {
    line.split_whitespace().any(|w| {
        let w = w.to_lowercase();
        let w = w.trim_matches([',', '.', ':']);
        DEFECTS.split_whitespace().any(|d| d == w)
    })
}

/// `line` without a short area prefix ("DNN: Add …", "rpc: pipe support …"), which says where
/// the request belongs, not what it asks.
pub(super) fn without_area(line: &str) -> &str {
    match line.split_once(": ") {
        Some((area, rest))
            if area.split(' ').count() <= 2 && area.len() <= 20 && rest.contains(' ') =>
        {
            rest.trim()
        }
        _ => line,
    }
}

/// What a noun-phrase request wants, in its own words: "Miniscript support for decodescript" →
/// "miniscript support for decodescript", "No way to implement X" → "a way to implement X".
/// `None` for a phrase naming a defect or stating a symptom.
fn wanted(line: &str) -> Option<String> {
    if let Some(rest) = line
        .strip_prefix("No way to ")
        .or_else(|| line.strip_prefix("No option to "))
    {
        return Some(format!("a way to {rest}"));
    }
    if names_defect(line) || states_symptom(line) || names_work(line) || line.contains(':') {
        return None;
    }
    // Blind round 16 rejected every bare phrase wrapped as a want ("I want GPU detection src
    // location", "I want creating an ROI"): only a phrase naming a thing one can be given
    // ("… support", "… option", "… integration") reads as a request.
    let given = line.split_whitespace().any(|w| {
        let w = w.to_lowercase();
        WANTS.split_whitespace().any(|c| c == w) || COUNTABLE.split_whitespace().any(|c| c == w)
    });
    let first = line.split(' ').next().unwrap_or("").to_lowercase();
    // "Compiled without bdb support": a participle states what happened.
    let statement = first.ends_with("ing")
        || first.ends_with("ed")
        || matches!(first.as_str(), "the" | "is" | "are")
        || !head_ends_phrase(line);
    // "Rotate Parameter for putText() function": the wanted noun is no name, whatever its case.
    let goal: Vec<String> = sentence_case(line)
        .split(' ')
        .map(|w| {
            let lower = w.to_lowercase();
            let noun = COUNTABLE.split_whitespace().any(|c| c == lower)
                || WANTS.split_whitespace().any(|c| c == lower);
            if noun && w.chars().skip(1).all(|c| c.is_ascii_lowercase()) {
                lower
            } else {
                w.to_string()
            }
        })
        .collect();
    (given && !statement).then(|| with_article(&goal.join(" ")))
}

/// Whether the wanted noun ends its phrase or a preposition follows it: "Tab separator setting
/// refers to the same setting twice" goes on with a verb, a statement of what happens.
fn head_ends_phrase(line: &str) -> bool {
    const AFTER: [&str; 15] = [
        "for", "to", "in", "on", "of", "with", "from", "that", "when", "and", "or", "via", "like",
        "similar", "as",
    ];
    let ws: Vec<String> = line.split(' ').map(str::to_lowercase).collect();
    let head = ws.iter().position(|w| {
        WANTS.split_whitespace().any(|c| c == w) || COUNTABLE.split_whitespace().any(|c| c == w)
    });
    head.is_none_or(|i| {
        ws.get(i + 1)
            .is_none_or(|next| AFTER.contains(&next.as_str()))
    })
}

/// Nouns that name the team's work on the code ("Reimplementation of element-wise layers"):
/// a phrase led by one is a task, whatever it supports.
const WORK: &str = "reimplementation implementation refactor refactoring rewrite rewriting \
    migration cleanup clean-up removal port porting upgrade deprecation optimization \
    optimisation restructuring consolidation";

/// Whether a title is led by a noun naming work on the code.
pub(super) fn names_work(line: &str) -> bool {
    let first = line.split(' ').next().unwrap_or("").to_lowercase();
    WORK.split_whitespace().any(|w| w == first)
}

/// The task a title led by a work noun names, as an imperative: "Reimplementation of
/// Element-wise layers with broadcasting support" → "Reimplement element-wise layers with
/// broadcasting support". `None` for a noun without a verb of its own here.
pub(super) fn work_task(line: &str) -> Option<String> {
    let (first, rest) = line.split_once(' ')?;
    let verb = match first.to_lowercase().as_str() {
        "reimplementation" => "Reimplement",
        "implementation" => "Implement",
        "refactor" | "refactoring" => "Refactor",
        "rewrite" | "rewriting" => "Rewrite",
        "migration" => "Migrate",
        "cleanup" | "clean-up" => "Clean up",
        "removal" => "Remove",
        "port" | "porting" => "Port",
        "upgrade" => "Upgrade",
        "deprecation" => "Deprecate",
        "optimization" | "optimisation" => "Optimize",
        "restructuring" => "Restructure",
        "consolidation" => "Consolidate",
        _ => return None,
    };
    let rest = rest.strip_prefix("of ").unwrap_or(rest).trim();
    (!rest.is_empty()).then(|| format!("{verb} {}", lower_first(rest)))
}

/// `s` without `prefix`, compared case-insensitively.
fn strip_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    s.get(..prefix.len())
        .filter(|head| head.eq_ignore_ascii_case(prefix))
        .map(|_| &s[prefix.len()..])
}

/// Uncountable things a request can ask for ("miniscript support for decodescript").
const WANTS: &str = "support integration ability access";

/// Singular nouns a request names as the thing it wants ("undistortImagePoints function").
const COUNTABLE: &str = "function option button setting flag command mode method parameter \
    field page view tab shortcut menu endpoint hook argument tool way filter check warning \
    message dialog wallet extension plugin layer operator toggle keybinding";

/// `goal` with the article its singular head noun needs: "undistortImagePoints function" →
/// "an undistortImagePoints function". A phrase led by a determiner, or whose head is plural
/// or uncountable ("support for X", "nicer formatting"), is left as it is.
fn with_article(goal: &str) -> String {
    const DETERMINERS: [&str; 9] = ["a", "an", "the", "some", "any", "more", "my", "our", "no"];
    const PREPOSITIONS: [&str; 8] = ["for", "to", "in", "on", "of", "with", "from", "that"];
    let first = goal.split(' ').next().unwrap_or("").to_lowercase();
    if DETERMINERS.contains(&first.as_str()) {
        return goal.to_string();
    }
    let countable = goal
        .split(' ')
        .take_while(|w| !PREPOSITIONS.contains(w))
        .any(|w| COUNTABLE.split_whitespace().any(|c| c == w.to_lowercase()));
    if !countable {
        return goal.to_string();
    }
    let vowel = first.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {goal}", if vowel { "an" } else { "a" })
}

/// A title-cased phrase in sentence case ("Nicer Formatting of SSR Validation" → "nicer
/// formatting of SSR validation"); acronyms and code names keep their case.
fn sentence_case(s: &str) -> String {
    let plain = |w: &str| {
        w.chars().next().is_some_and(char::is_uppercase)
            && w.chars().skip(1).all(|c| c.is_ascii_lowercase())
            && !fix::is_code_name(w)
    };
    let long: Vec<&str> = s.split(' ').filter(|w| w.len() > 3).collect();
    let titled = long.len() >= 2 && long.iter().filter(|w| plain(w)).count() * 3 >= long.len() * 2;
    if !titled {
        return lower_first(s);
    }
    s.split(' ')
        .map(|w| {
            if plain(w) {
                w.to_lowercase()
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `word` says how something should behave after "Make X …": a verb of the list, or
/// one of the few that only follow "make".
fn behaves(word: &str) -> bool {
    matches!(
        word,
        "work" | "behave" | "respect" | "appear" | "stay" | "look" | "remember"
    ) || words::is_verb(word)
}

/// The decision a proposal asks the team for: "RFC: Make Refs Opt-in" → "Decide on the
/// proposal “Make Refs Opt-in”". `None` when the title is no proposal.
pub(super) fn proposal_decision(line: &str) -> Option<String> {
    lazy_regex!(
        proposal_re,
        r"(?i)^(?:\[\s*(?:rfc|proposal)\s*\]|(?:rfc|proposal)\s*:)\s*(?P<what>\S.*?)\s*$"
    );
    // "How about exporting X to the Python API?" proposes; the team decides.
    lazy_regex!(
        how_about_re,
        r"(?i)^how\s+about\s+(?P<what>\S.*?)\s*[?？]?\s*$"
    );
    if let Some(c) = how_about_re().captures(line) {
        return Some(format!("Decide on {}", &c["what"]));
    }
    // "Do you have any plans to add X?" asks for the team's roadmap decision.
    lazy_regex!(
        plans_re,
        r"(?i)^(?:do\s+you\s+have\s+|are\s+there\s+|is\s+there\s+a\s+|any\s+)?(?:any\s+)?plans?\s+to\s+(?P<what>[^?？]+?)\s*[?？]?\s*$"
    );
    if let Some(c) = plans_re().captures(line) {
        return Some(format!(
            "Decide whether to {}",
            c["what"].trim_end_matches('.')
        ));
    }
    let c = proposal_re().captures(line)?;
    Some(format!("Decide on the proposal “{}”", &c["what"]))
}

/// Whether a title states what happens now ("Notebook list height changes after toggling",
/// "Balance is 0 after send"): a symptom, whose next step is a fix.
pub(super) fn states_symptom(line: &str) -> bool {
    let ws: Vec<String> = line
        .split_whitespace()
        .map(|w| w.to_lowercase().trim_matches([',', '.', '!']).to_string())
        .collect();
    let Some(first) = ws.first() else {
        return false;
    };
    if words::is_verb(first) || ws.iter().any(|w| w == "should" || w == "must") {
        return false;
    }
    ws.iter().skip(1).any(|w| {
        FINITE.contains(&w.as_str())
            || (w.len() > 3 && !w.ends_with("ss") && words::base_of_third_person(w).is_some())
    })
}

/// "dark mode to the settings page" → "dark mode in the settings page": what is added to a
/// place is wanted in it. Only a determiner marks a place: "export to CSV" and "a way to
/// export" keep their "to".
fn into_place(rest: &str) -> String {
    const PLACE: [&str; 6] = ["the", "each", "every", "all", "our", "your"];
    match rest.split_once(" to ") {
        Some((what, place)) if PLACE.contains(&place.split(' ').next().unwrap_or("")) => {
            format!("{what} in {place}")
        }
        _ => rest.to_string(),
    }
}

/// `s` with a plain capitalised first word lowered ("Quick diff" → "quick diff"); names keep
/// their case ("DevTools", "React's").
pub(super) fn lower_first(s: &str) -> String {
    let first = s.split(' ').next().unwrap_or("");
    let plain = first.chars().skip(1).all(|c| c.is_ascii_lowercase());
    if plain && !fix::is_code_name(first) {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_lowercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
#[path = "requests_tests.rs"]
mod tests;
