//! The implementation-term list: technologies and implementation choices that do not belong in a
//! user story. Shipped as `data/implementation-terms.txt`, extensible by a file of the same format.

use std::path::Path;

use regex::Regex;

use super::parts::Span;
use crate::{Error, Result};

const BUILTIN: &str = include_str!("../../data/implementation-terms.txt");

/// A compiled term list.
#[derive(Clone)]
pub struct Terms {
    re: Regex,
}

/// Words a drafted story must not contain (see the file's header).
const REWRITE: &str = include_str!("../../data/rewrite-terms.txt");

impl Terms {
    /// The built-in list, plus the terms in `extra` when given.
    pub fn load(extra: Option<&Path>) -> Result<Self> {
        Self::from_terms(&term_list(extra, false)?)
    }

    /// The stricter list drafted stories are checked against: the implementation terms, any
    /// extra ones, and the generic names of system parts and engineering work. Build the
    /// matcher with [`Terms::from_terms`]; [`single_words`] gives the generator's token bans.
    pub fn rewrite_list(extra: Option<&Path>) -> Result<Vec<String>> {
        term_list(extra, true)
    }

    /// A list of the given terms.
    pub fn from_terms(terms: &[String]) -> Result<Self> {
        // Longest first, so "rest api" wins over "api".
        let mut sorted: Vec<&String> = terms.iter().collect();
        sorted.sort_by_key(|t| std::cmp::Reverse(t.len()));
        let alternation = sorted
            .iter()
            .map(|t| regex::escape(t).replace("\\ ", "\\s+").replace(' ', "\\s+"))
            .collect::<Vec<_>>()
            .join("|");
        let re = Regex::new(&format!(r"(?i)(?:^|[^\w.])({alternation})(?:$|[^\w])"))
            .map_err(|e| Error::InvalidInput(format!("implementation terms: {e}")))?;
        Ok(Self { re })
    }

    /// The first term in `text`, as a span.
    pub fn find(&self, text: &str) -> Option<Span> {
        let m = self.re.captures(text)?.get(1)?;
        Span::new(text, m.start(), m.end())
    }
}

/// The built-in terms (and the rewrite terms when `rewrite`), plus those in `extra`.
fn term_list(extra: Option<&Path>, rewrite: bool) -> Result<Vec<String>> {
    let mut terms: Vec<String> = parse(BUILTIN);
    if rewrite {
        terms.extend(parse(REWRITE));
    }
    if let Some(path) = extra {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        terms.extend(parse(&text));
    }
    Ok(terms)
}

/// The single-word terms of a list, lowercase: the ones a generator can ban token by token.
pub fn single_words(terms: &[String]) -> Vec<String> {
    terms
        .iter()
        .map(|t| t.to_lowercase())
        .filter(|t| !t.contains(char::is_whitespace))
        .collect()
}

fn parse(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_terms_on_word_boundaries() {
        let t = Terms::load(None).unwrap();
        let s = t
            .find("As a shopper I want a wishlist using React")
            .unwrap();
        assert_eq!(s.text, "React");
        assert!(t.find("As a reader I want reactions on posts").is_none());
        assert_eq!(
            t.find("Store carts in a database table").unwrap().text,
            "database table"
        );
    }
}
