//! Small English helpers the refiner needs to word a task title from the item's own words:
//! which words are verbs, their base and third-person forms, and a one-edit spelling fix for a
//! misspelt leading verb. Lists, not a model: every output word is one the item already had.

/// Base forms of the verbs backlog items start with.
const VERB_LIST: &str = "accept access adapt add address adjust adopt alert align allow analyse \
    analyze annotate apply archive assign attach audit authenticate authorize automate avoid back \
    backfill batch benchmark block build bump bundle cache calculate call cancel capture \
    centralise centralize change check choose clarify clean cleanup clear clone close collapse collect \
    combine compile complete compress compute configure confirm connect consolidate consume \
    containerize convert copy correct cover create customise customize cut debug decide \
    declare decouple decrease define delete deploy deprecate derive design detect determine \
    disable display dispatch distribute do document download drop dump edit eliminate emit \
    enable encode encrypt enforce enhance ensure estimate evaluate execute expand explore \
    export expose extend extract fail fetch filter finalise finalize find finish fix flag flush \
    fork format generate get give group handle harden hide host identify ignore implement import \
    improve include increase index initialise initialize inject inline inspect install \
    instrument integrate introduce invalidate investigate isolate keep launch limit lint load \
    localise localize lock log lower maintain make manage map mark measure merge migrate mirror \
    mock modernise modernize modify monitor mount move normalise normalize notify open optimise \
    optimize organise organize override package parallelize parse patch pause persist pin plan \
    point populate port precompute prefetch prepare preserve prevent print prioritise prioritize \
    process produce profile promote protect prototype provide provision prune publish pull purge push \
    put query quarantine queue raise re-enable read rebase rebuild recalculate receive record \
    recover redesign redirect reduce refactor refine refresh regenerate register reindex reject \
    release reload relocate remove rename render reorder reorganise reorganize repackage repair \
    replace replicate report request require rerun research reset resolve restart restore \
    restrict restructure retain retire retrieve retry return reuse revert review revisit rework \
    rewrite roll rotate route run sanitise sanitize save scale scan schedule search secure seed \
    see select send separate serialize serve set setup share ship shorten show shrink sign simplify \
    skip solve sort speed spike split squash stabilise stabilize stage standardise standardize start \
    stop store stream streamline strip stub submit subscribe support suppress swap switch sync \
    tag test throttle tidy tighten toggle trace track transfer transform translate trigger trim \
    truncate tune turn unblock undo unify uninstall unlock unpin untangle update upgrade upload \
    use validate vendor verify version view warn watch wire work wrap write";

/// The verbs, sorted once for binary search.
fn verbs() -> &'static [&'static str] {
    static V: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        let mut v: Vec<&str> = VERB_LIST.split_whitespace().collect();
        v.sort_unstable();
        v.dedup();
        v
    })
}

fn lookup(c: &str) -> Option<&'static str> {
    let v = verbs();
    v.binary_search(&c).ok().map(|i| v[i])
}

/// Irregular past participles and their base forms.
const IRREGULAR: &[(&str, &str)] = &[
    ("begun", "begin"),
    ("built", "build"),
    ("chosen", "choose"),
    ("cut", "cut"),
    ("done", "do"),
    ("driven", "drive"),
    ("got", "get"),
    ("gotten", "get"),
    ("kept", "keep"),
    ("made", "make"),
    ("put", "put"),
    ("rebuilt", "rebuild"),
    ("rewritten", "rewrite"),
    ("run", "run"),
    ("sent", "send"),
    ("set", "set"),
    ("shown", "show"),
    ("split", "split"),
    ("taken", "take"),
    ("written", "write"),
];

/// Whether `word` (any case) is the base form of a known verb.
pub fn is_verb(word: &str) -> bool {
    lookup(&word.to_lowercase()).is_some()
}

/// The base form of a past participle ("deployed" → "deploy", "indexed" → "index",
/// "created" → "create", "mapped" → "map", "written" → "write"), when the base is a known verb.
pub fn base_of_participle(word: &str) -> Option<String> {
    let w = word.to_lowercase();
    if let Some((_, base)) = IRREGULAR.iter().find(|(p, _)| *p == w) {
        return Some(base.to_string());
    }
    let stem = w.strip_suffix("ed")?;
    let mut candidates = vec![stem.to_string(), format!("{stem}e")];
    if let Some(s) = stem.strip_suffix('i') {
        candidates.push(format!("{s}y"));
    }
    let b = stem.as_bytes();
    if b.len() >= 2 && b[b.len() - 1] == b[b.len() - 2] {
        candidates.push(stem[..stem.len() - 1].to_string());
    }
    if let Some(v) = candidates.iter().find_map(|c| lookup(c)) {
        return Some(v.to_string());
    }
    // Regular endings whose base is certain even for verbs not in the list:
    // "reformulated" → "reformulate", "modularized" → "modularize", "simplified" → "simplify".
    [
        ("ated", "ate"),
        ("ized", "ize"),
        ("ised", "ise"),
        ("ified", "ify"),
    ]
    .iter()
    .find_map(|(suffix, base)| {
        w.strip_suffix(suffix)
            .filter(|s| s.len() >= 3)
            .map(|stem| format!("{stem}{base}"))
    })
}

/// The base form of a gerund ("upgrading" → "upgrade", "setting" → "set").
pub fn base_of_gerund(word: &str) -> Option<&'static str> {
    let w = word.to_lowercase();
    let stem = w.strip_suffix("ing")?;
    let mut candidates = vec![stem.to_string(), format!("{stem}e")];
    let b = stem.as_bytes();
    if b.len() >= 2 && b[b.len() - 1] == b[b.len() - 2] {
        candidates.push(stem[..stem.len() - 1].to_string());
    }
    candidates.iter().find_map(|c| lookup(c))
}

/// The base form of a third-person verb ("stops" → "stop", "loads" → "load",
/// "fixes" → "fix"); `None` when the word is not a known verb in that form.
pub fn base_of_third_person(word: &str) -> Option<&'static str> {
    let w = word.to_lowercase();
    let mut candidates = Vec::new();
    if let Some(s) = w.strip_suffix("ies") {
        candidates.push(format!("{s}y"));
    }
    if let Some(s) = w.strip_suffix("es") {
        candidates.push(s.to_string());
    }
    if let Some(s) = w.strip_suffix('s') {
        candidates.push(s.to_string());
    }
    candidates.iter().find_map(|c| lookup(c))
}

/// The third-person form of a base verb, for "Ensure X provides …".
pub fn third_person(verb: &str) -> String {
    match verb {
        "be" => "is".into(),
        "have" => "has".into(),
        "do" => "does".into(),
        "go" => "goes".into(),
        v if v.ends_with(['s', 'x', 'z']) || v.ends_with("sh") || v.ends_with("ch") => {
            format!("{v}es")
        }
        v if v.ends_with('y')
            && !v.ends_with("ay")
            && !v.ends_with("ey")
            && !v.ends_with("oy")
            && !v.ends_with("uy") =>
        {
            format!("{}ies", &v[..v.len() - 1])
        }
        v => format!("{v}s"),
    }
}

/// A known verb one edit (a letter left out or added, or two neighbours swapped) from a
/// misspelt `word` of at least five letters, so "Swich" reads "Switch" and "Upgarde" reads
/// "Upgrade". Substitutions are not tried ("Apple" is not a misspelt "apply"), and shorter
/// words are left alone: too many real words lie one edit apart.
pub fn spelling_fix(word: &str) -> Option<&'static str> {
    let w = word.to_lowercase();
    if w.chars().count() < 5 || !w.chars().all(|c| c.is_ascii_lowercase()) || is_verb(&w) {
        return None;
    }
    let mut found = verbs().iter().filter(|v| one_edit(&w, v));
    let first = found.next()?;
    // A verb with one more letter at its end is another word ("Explorer", "Builds").
    if w.len() == first.len() + 1 && w.starts_with(first) {
        return None;
    }
    // Two equally close verbs: no honest guess.
    found.next().is_none().then_some(*first)
}

fn one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match a.len() as isize - b.len() as isize {
        0 => {
            let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            diff.len() == 2
                && diff[1] == diff[0] + 1
                && a[diff[0]] == b[diff[1]]
                && a[diff[1]] == b[diff[0]]
        }
        1 => (0..a.len()).any(|i| a[..i] == b[..i] && a[i + 1..] == b[i..]),
        -1 => (0..b.len()).any(|i| b[..i] == a[..i] && b[i + 1..] == a[i..]),
        _ => false,
    }
}

/// Words that carry no content: a story word of this list needs no grounding.
pub const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
    "been", "before", "being", "but", "by", "can", "could", "do", "does", "each", "every", "for",
    "from", "get", "gets", "has", "have", "i", "if", "in", "into", "is", "it", "its", "it's", "me",
    "more", "my", "no", "not", "of", "on", "once", "one", "or", "our", "same", "so", "some",
    "still", "than", "that", "the", "their", "them", "then", "there", "they", "this", "to", "too",
    "up", "us", "want", "was", "we", "were", "what", "when", "where", "which", "while", "who",
    "will", "with", "without", "would", "you", "your",
];

/// Folds a word for grounding: lowercase, possessive and common endings removed, so "pages"
/// matches "page" and "loading" matches "load".
pub fn fold(word: &str) -> String {
    let w = word
        .to_lowercase()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .trim_end_matches("'s")
        .to_string();
    for suffix in ["ing", "ies", "es", "ed", "s"] {
        if let Some(stem) = w.strip_suffix(suffix) {
            if stem.len() >= 3 {
                return match suffix {
                    "ies" => format!("{stem}y"),
                    _ => stem.trim_end_matches('e').to_string(),
                };
            }
        }
    }
    w.trim_end_matches('e').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let base = |w: &str| base_of_participle(w);
        assert_eq!(base("deployed").as_deref(), Some("deploy"));
        assert_eq!(base("created").as_deref(), Some("create"));
        assert_eq!(base("indexed").as_deref(), Some("index"));
        assert_eq!(base("mapped").as_deref(), Some("map"));
        assert_eq!(base("written").as_deref(), Some("write"));
        assert_eq!(base("processed").as_deref(), Some("process"));
        assert_eq!(base("reformulated").as_deref(), Some("reformulate"));
        assert_eq!(base_of_gerund("upgrading"), Some("upgrade"));
        assert_eq!(base_of_gerund("setting"), Some("set"));
        assert_eq!(base_of_third_person("stops"), Some("stop"));
        assert_eq!(base_of_third_person("fixes"), Some("fix"));
        assert_eq!(third_person("provide"), "provides");
        assert_eq!(third_person("fix"), "fixes");
        assert_eq!(third_person("copy"), "copies");
    }

    #[test]
    fn spelling() {
        assert_eq!(spelling_fix("Swich"), Some("switch"));
        assert_eq!(spelling_fix("upgarde"), Some("upgrade"));
        assert_eq!(spelling_fix("migrat"), Some("migrate"));
        assert_eq!(spelling_fix("terraform"), None);
        assert_eq!(spelling_fix("Apple"), None);
        assert_eq!(spelling_fix("Explorer"), None);
        assert_eq!(spelling_fix("add"), None);
        assert_eq!(fold("Pages"), fold("page"));
        assert_eq!(fold("loading"), fold("loads"));
    }
}
