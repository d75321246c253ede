//! Near-duplicate items: two items whose embeddings point (almost) the same way ask for the
//! same thing, and a product owner can merge them. Items are compared as they arrive, so a
//! streamed backlog needs no second pass; the threshold is calibrated on written pairs
//! ([`calibrate`], `storylens eval-duplicates`, `training-data/duplicate-pairs.jsonl`).

use serde::{Deserialize, Serialize};

/// Where an item of a group came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Member {
    /// The export file, for the bulk scorer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The row's line (the NDJSON line for `/v1/score`).
    pub line: usize,
    pub title: String,
    /// Similarity to the closest earlier item of the group (none for the group's first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
}

/// Items that say the same thing, in input order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DuplicateGroup {
    /// The lowest similarity that links an item to the group.
    pub similarity: f32,
    pub items: Vec<Member>,
}

/// Compares each new item with every earlier one; an item joins the group of its closest
/// earlier match at or above the threshold.
#[derive(Debug)]
pub struct DuplicateFinder {
    threshold: f32,
    limit: usize,
    members: Vec<Member>,
    /// Unit vectors, row after row.
    vectors: Vec<f32>,
    dim: usize,
    /// Content words of each member, for telling siblings from duplicates.
    words: Vec<Vec<String>>,
    /// Whether each member was compared on a story's goal.
    goals: Vec<bool>,
    /// Group of each member (an index into `groups`), if any.
    group_of: Vec<Option<usize>>,
    groups: Vec<DuplicateGroup>,
    skipped: usize,
}

impl DuplicateFinder {
    /// A finder linking items with cosine similarity ≥ `threshold`, comparing the first
    /// `limit` items (every item is compared with all earlier ones: the cost grows with the
    /// square of the count).
    pub fn new(threshold: f32, limit: usize) -> Self {
        Self {
            threshold,
            limit,
            members: Vec::new(),
            vectors: Vec::new(),
            dim: 0,
            words: Vec::new(),
            goals: Vec::new(),
            group_of: Vec::new(),
            groups: Vec::new(),
            skipped: 0,
        }
    }

    /// Adds one item: `compared` is what it is compared on ([`compared_text`]) and
    /// `embedding` that text's unit-length embedding.
    ///
    /// An item joins a group only when it is close to *every* member (no chains of
    /// look-alikes) and is not a sibling of any (the same words with one thing swapped:
    /// "import" for "export", "2D" for "3D": embeddings cannot see that difference).
    pub fn add(&mut self, member: Member, compared: &Compared, embedding: &[f32]) {
        if self.members.len() >= self.limit || embedding.is_empty() {
            self.skipped += 1;
            return;
        }
        if self.dim == 0 {
            self.dim = embedding.len();
        }
        if embedding.len() != self.dim {
            self.skipped += 1;
            return;
        }
        let words = content_words(&compared.text);
        let sims: Vec<f32> = self
            .vectors
            .chunks_exact(self.dim)
            .map(|v| dot(v, embedding))
            .collect();
        let close = |j: usize| {
            let t = pair_threshold(self.threshold, compared.goal || self.goals[j]);
            may_link(&self.words[j], &words) && sims[j] >= t
        };
        let mut candidates: Vec<usize> = (0..sims.len()).filter(|&j| close(j)).collect();
        candidates.sort_by(|&a, &b| sims[b].total_cmp(&sims[a]));
        let mut own = None;
        for j in candidates {
            match self.group_of[j] {
                None => {
                    self.groups.push(DuplicateGroup {
                        similarity: sims[j],
                        items: vec![self.members[j].clone()],
                    });
                    let g = self.groups.len() - 1;
                    self.group_of[j] = Some(g);
                    own = Some((g, sims[j]));
                    break;
                }
                Some(g) => {
                    let fits = (0..self.members.len())
                        .filter(|&k| self.group_of[k] == Some(g))
                        .all(close);
                    if fits {
                        own = Some((g, sims[j]));
                        break;
                    }
                }
            }
        }
        if let Some((g, sim)) = own {
            let group = &mut self.groups[g];
            group.similarity = group.similarity.min(sim);
            group.items.push(Member {
                similarity: Some(sim),
                ..member.clone()
            });
        }
        self.members.push(member);
        self.vectors.extend_from_slice(embedding);
        self.words.push(words);
        self.goals.push(compared.goal);
        self.group_of.push(own.map(|o| o.0));
    }

    /// Items not compared (past the limit).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The groups found so far, the most similar first.
    pub fn groups(&self) -> Vec<DuplicateGroup> {
        let mut g = self.groups.clone();
        g.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        g
    }
}

/// Precision and recall of "duplicate" at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub threshold: f32,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// How well similarities separate labelled pairs.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub pairs: usize,
    pub duplicates: usize,
    /// Probability that a duplicate pair scores above a distinct one.
    pub auc: f64,
    /// Every threshold from 0.50 to 0.99 in steps of 0.01.
    pub curve: Vec<Point>,
    /// The lowest threshold whose precision is at least 0.95 (merging two different items
    /// costs a product owner more than missing a pair), if any.
    pub precise: Option<Point>,
    /// The threshold with the best F1.
    pub best_f1: Point,
}

/// Calibrates on `(similarity, is duplicate)` pairs.
pub fn calibrate(pairs: &[(f32, bool)]) -> Calibration {
    let pos: Vec<f32> = pairs.iter().filter(|p| p.1).map(|p| p.0).collect();
    let neg: Vec<f32> = pairs.iter().filter(|p| !p.1).map(|p| p.0).collect();
    let mut wins = 0.0;
    for p in &pos {
        for n in &neg {
            wins += match p.total_cmp(n) {
                std::cmp::Ordering::Greater => 1.0,
                std::cmp::Ordering::Equal => 0.5,
                std::cmp::Ordering::Less => 0.0,
            };
        }
    }
    let auc = wins / (pos.len() * neg.len()).max(1) as f64;
    let curve: Vec<Point> = (50..100)
        .map(|t| {
            let threshold = t as f32 / 100.0;
            let tp = pos.iter().filter(|&&s| s >= threshold).count() as f64;
            let fp = neg.iter().filter(|&&s| s >= threshold).count() as f64;
            let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 1.0 };
            let recall = tp / pos.len().max(1) as f64;
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            Point {
                threshold,
                precision,
                recall,
                f1,
            }
        })
        .collect();
    let precise = curve
        .iter()
        .find(|p| p.precision >= 0.95 && p.recall > 0.0)
        .copied();
    let best_f1 = *curve
        .iter()
        .max_by(|a, b| a.f1.total_cmp(&b.f1))
        .expect("a curve has points");
    Calibration {
        pairs: pairs.len(),
        duplicates: pos.len(),
        auc,
        curve,
        precise,
        best_f1,
    }
}

/// What an item is compared on.
#[derive(Debug, Clone, PartialEq)]
pub struct Compared {
    pub text: String,
    /// Whether `text` is a story's goal: a backlog's stories share their template's wording,
    /// so their goals must be closer (by [`STORY_MARGIN`]) to count as the same ask.
    pub goal: bool,
}

/// How much closer two stories' goals must be than two plain items: measured on judged
/// real pairs, same-template stories at 0.86 were merged by both judges a third of the time,
/// GitHub issues nine times in ten.
pub const STORY_MARGIN: f32 = 0.06;

/// The text an item is compared on: a story's goal when it has one (a backlog's template makes
/// every story alike, and the role and benefit say who and why, not what), else `read`, the
/// text the classifier reads.
pub fn compared_text(
    title: &str,
    parts: Option<&crate::analysis::StoryParts>,
    read: String,
) -> Compared {
    match parts
        .and_then(|p| p.goal.as_ref())
        .map(|g| g.text.trim().to_string())
        .filter(|g| g.split_whitespace().count() >= 2 && title.contains(g.as_str()))
    {
        Some(text) => Compared { text, goal: true },
        None => Compared {
            text: read,
            goal: false,
        },
    }
}

/// The similarity the finder sees between two compared items and their embeddings, and the
/// threshold it applies to them: zero for siblings.
pub fn pair_similarity(
    a: &Compared,
    va: &[f32],
    b: &Compared,
    vb: &[f32],
    threshold: f32,
) -> (f32, f32) {
    let (wa, wb) = (content_words(&a.text), content_words(&b.text));
    let t = pair_threshold(threshold, a.goal || b.goal);
    if may_link(&wa, &wb) {
        (dot(va, vb), t)
    } else {
        (0.0, t)
    }
}

/// Whether two items' words allow them to be duplicates at all, however close their
/// embeddings: a vague item links only to its exact twin, and siblings never link.
fn may_link(a: &[String], b: &[String]) -> bool {
    if vague(a) || vague(b) {
        a == b
    } else {
        !siblings(a, b)
    }
}

fn pair_threshold(threshold: f32, goal: bool) -> f32 {
    if goal {
        (threshold + STORY_MARGIN).min(1.0)
    } else {
        threshold
    }
}

/// Pairs that turn an item into its sibling, not its duplicate.
const OPPOSITES: &[(&str, &str)] = &[
    ("import", "export"),
    ("frontend", "backend"),
    ("upload", "download"),
    ("add", "remove"),
    ("enable", "disable"),
    ("show", "hide"),
    ("create", "delete"),
    ("open", "close"),
    ("start", "stop"),
    ("min", "max"),
    ("increase", "decrease"),
    ("include", "exclude"),
    ("lock", "unlock"),
    ("read", "write"),
    ("input", "output"),
    ("client", "server"),
    ("login", "logout"),
    ("subscribe", "unsubscribe"),
    ("before", "after"),
    ("private", "public"),
    ("add", "edit"),
];

/// Lower-cased, folded words of `text` without stopwords: a leading tracker tag (`[infra]`,
/// `chore(deps):`) and quoted strings (ids and names in error messages) are left out, and
/// dotted identifiers stay whole.
fn content_words(text: &str) -> Vec<String> {
    let text = tag_re().replace(text, "");
    let mut plain = String::with_capacity(text.len());
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' | '\u{201c}' | '\u{201d}' => quoted = !quoted,
            _ if !quoted => plain.push(c),
            _ => {}
        }
    }
    plain
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(crate::analysis::rewrite::words::fold)
        .filter(|w| !crate::analysis::rewrite::words::STOPWORDS.contains(&w.as_str()))
        .collect()
}

fn tag_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^\s*(?:\[[^\]]{1,30}\]\s*|[a-zA-Z]{2,12}(?:\([^)]{0,30}\))?!?:\s+)+")
            .expect("tag pattern")
    })
}

/// A misspelling, another form or an abbreviation of the same word ("confg", "certs", "nr").
fn same_word(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    // Numbers and code identifiers are the same only when equal: `Pad` is not `PadV2`.
    let code = |w: &str| {
        w.chars()
            .any(|c| c.is_ascii_digit() || c == '.' || c == '_')
    };
    if short.len() < 2 || code(short) || code(long) {
        return false;
    }
    if long.starts_with(short) || strsim::levenshtein(a, b) <= (long.len() / 4).clamp(1, 2) {
        return true;
    }
    // An abbreviation keeps the first letter and the rest in order.
    let mut rest = long.chars();
    short.chars().next() == long.chars().next() && short.chars().all(|c| rest.any(|l| l == c))
}

/// Whether two items say the same thing about different objects: opposite words ("import",
/// "export"), a negation ("loan", "non-loan"), or another number or identifier in the same
/// words ("round 2", "round 3"; `ZeroPadding2D`, `ZeroPadding3D`).
fn siblings(a: &[String], b: &[String]) -> bool {
    let has = |v: &[String], w: &str| v.iter().any(|x| x == w);
    if OPPOSITES.iter().any(|(x, y)| {
        (has(a, x) && has(b, y) && !has(a, y)) || (has(a, y) && has(b, x) && !has(b, y))
    }) {
        return true;
    }
    let differ = |v: &[String], other: &[String]| -> Vec<String> {
        v.iter()
            .filter(|w| !other.iter().any(|o| o == *w || same_word(o, w)))
            .cloned()
            .collect()
    };
    let (only_a, only_b) = (differ(a, b), differ(b, a));
    // "loan" on one side, "non-loan" or "unloan" on the other.
    let negates = |words: &[String], negated: &[String]| {
        words.iter().any(|w| {
            negated
                .iter()
                .any(|o| o.strip_prefix("non-").or(o.strip_prefix("un")) == Some(w.as_str()))
        })
    };
    if negates(&only_a, &only_b) || negates(&only_b, &only_a) {
        return true;
    }
    let shared = a.iter().filter(|w| has(b, w)).count();
    if only_a.is_empty() || only_b.is_empty() || only_a.len() > 3 || only_b.len() > 3 || shared < 2
    {
        return false;
    }
    let digits = |v: &[String]| -> String {
        let mut d: Vec<char> = v
            .iter()
            .flat_map(|w| w.chars())
            .filter(char::is_ascii_digit)
            .collect();
        d.sort_unstable();
        d.into_iter().collect()
    };
    let (da, db) = (digits(&only_a), digits(&only_b));
    let code = |v: &[String]| v.iter().filter(|w| w.contains(['.', '_'])).count();
    let swap = only_a.len() <= 2 && only_b.len() <= 2;
    (!da.is_empty() && !db.is_empty() && da != db)
        || (swap && code(&only_a) == 1 && code(&only_b) == 1)
}

/// Too few words to say what an item is ("Issue", "Please help!"): such items match only
/// their exact twin.
fn vague(words: &[String]) -> bool {
    words.len() < 2
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Compared {
        Compared {
            text: text.into(),
            goal: false,
        }
    }

    fn m(line: usize) -> Member {
        Member {
            file: None,
            line,
            title: format!("item {line}"),
            similarity: None,
        }
    }

    #[test]
    fn close_items_group_and_others_stay_apart() {
        let mut f = DuplicateFinder::new(0.9, 100);
        f.add(m(1), &plain("apple pear"), &[1.0, 0.0]);
        f.add(m(2), &plain("kiwi lime"), &[0.0, 1.0]);
        f.add(m(3), &plain("plum fig"), &[0.99, 0.141]);
        f.add(m(4), &plain("date lemon"), &[0.6, 0.8]);
        f.add(m(5), &plain("melon grape"), &[0.995, 0.0998]);
        let groups = f.groups();
        assert_eq!(groups.len(), 1);
        let lines: Vec<usize> = groups[0].items.iter().map(|m| m.line).collect();
        assert_eq!(lines, vec![1, 3, 5]);
        assert!(groups[0].similarity >= 0.9 && groups[0].similarity < 0.995);
    }

    #[test]
    fn a_chain_of_look_alikes_is_not_one_group() {
        // 2 is close to 1 and to 3, but 3 is not close to 1: 3 starts no chain through 2.
        let mut f = DuplicateFinder::new(0.9, 100);
        let at = |deg: f32| [deg.to_radians().cos(), deg.to_radians().sin()];
        f.add(m(1), &plain("apple pear"), &at(0.0));
        f.add(m(2), &plain("kiwi lime"), &at(20.0));
        f.add(m(3), &plain("plum fig"), &at(40.0));
        let groups = f.groups();
        assert_eq!(groups.len(), 1);
        assert_eq!(
            groups[0].items.iter().map(|m| m.line).collect::<Vec<_>>(),
            vec![1, 2]
        );
    }

    #[test]
    fn siblings_are_told_from_duplicates() {
        let w = |t: &str| content_words(t);
        let sib = |a: &str, b: &str| siblings(&w(a), &w(b));
        assert!(sib(
            "import agent records from EAC-CPF",
            "export agent records as EAC-CPF"
        ));
        assert!(sib(
            "backend changes for managing enum lists",
            "frontend changes for managing enum lists"
        ));
        assert!(sib(
            "Overflow bug when running tf.compat.v1.keras.layers.ZeroPadding2D",
            "Overflow bug when running tf.keras.layers.ZeroPadding3D"
        ));
        assert!(sib(
            "move on to round 3 of the Help page edits",
            "move on to round 2 of the Help page edits"
        ));
        // The same ask in other words, or the same error with another id, is a duplicate.
        assert!(!sib(
            "see a publisher's profile",
            "view a publisher's profile"
        ));
        assert!(!sib(
            "have a flexible pick up time",
            "choose a flexible pick up time"
        ));
        assert!(!sib(
            "[DevTools Bug] Element \"5\" not found",
            "[DevTools Bug] Element \"34\" not found"
        ));
        assert!(sib(
            "Abort when running tensorflow.python.ops.gen_sparse_ops.sparse_slice",
            "Abort when running tensorflow.python.ops.gen_sparse_ops.sparse_split"
        ));
        assert!(sib(
            "Overflow bug when running tf.raw_ops.Pad",
            "Overflow when running tf.raw_ops.PadV2"
        ));
        assert!(sib(
            "OpenCV 4.5.5 not building with OpenVINO-Toolkit 2021.4.2",
            "Error trying to build OpenCV 4.5.5 with OpenVINO 2023.2"
        ));
        assert!(sib(
            "accept zero and blank for loan records",
            "accept zero and blank for non-loan records"
        ));
        assert!(!sib(
            "chore: upgrade eslint to v9",
            "Upgrade ESLint to version 9"
        ));
        assert!(!sib(
            "fix crash on startup when config file is missing",
            "fix crash on start up when confg file missing!!"
        ));
        assert!(!sib(
            "Invoice PDF has wrong VAT number",
            "invoice pdf has wrong vat nr"
        ));
        assert!(!sib(
            "get suggestions for sports classes in my neighbourhood",
            "receive suggestions about local sport classes"
        ));
        let mut f = DuplicateFinder::new(0.5, 100);
        f.add(m(1), &plain("import agent records"), &[1.0, 0.0]);
        f.add(m(2), &plain("export agent records"), &[1.0, 0.0]);
        assert!(f.groups().is_empty());
    }

    #[test]
    fn calibration_finds_the_separating_threshold() {
        let pairs = [
            (0.95, true),
            (0.93, true),
            (0.91, false),
            (0.7, false),
            (0.97, true),
        ];
        let c = calibrate(&pairs);
        assert!((c.auc - 1.0).abs() < 1e-9);
        let p = c.precise.expect("a precise threshold");
        assert!((p.threshold - 0.92).abs() < 1e-6, "{p:?}");
        assert_eq!(p.recall, 1.0);
    }

    #[test]
    fn items_past_the_limit_are_counted_not_compared() {
        let mut f = DuplicateFinder::new(0.9, 2);
        f.add(m(1), &plain("apple pear"), &[1.0, 0.0]);
        f.add(m(2), &plain("apple pear"), &[1.0, 0.0]);
        f.add(m(3), &plain("apple pear"), &[1.0, 0.0]);
        assert_eq!(f.skipped(), 1);
        assert_eq!(f.groups()[0].items.len(), 2);
    }
}
