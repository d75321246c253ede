//! What an item must be for storylens to refine it: text, with letters, in English.

use crate::analysis::Item;
use crate::{Error, Result};

/// Checks that an item's text can be refined: not empty, has letters, reads as English.
pub fn validate(item: &Item) -> Result<String> {
    let text = item.model_text();
    let label = item
        .id
        .as_deref()
        .map_or(String::new(), |id| format!("{id}: "));
    if text.trim().is_empty() {
        return Err(Error::InvalidInput(format!("{label}the text is empty")));
    }
    if !text.chars().any(char::is_alphabetic) {
        return Err(Error::InvalidInput(format!(
            "{label}the text has no words (no letters)"
        )));
    }
    if !looks_english(&text) {
        return Err(Error::InvalidInput(format!(
            "{label}the text does not look like English; storylens refines English items only"
        )));
    }
    Ok(text)
}

/// Whether text reads as English: most letters are ASCII and common words of other languages
/// are rare. storylens's models are English-only; other languages get a clear answer.
pub fn looks_english(text: &str) -> bool {
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.is_empty() {
        return false;
    }
    let ascii = letters.iter().filter(|c| c.is_ascii()).count();
    if (ascii as f32) < 0.8 * letters.len() as f32 {
        return false;
    }
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.len() < 4 {
        return true;
    }
    const FOREIGN: &[&str] = &[
        "der", "die", "das", "und", "nicht", "mit", "für", "le", "les", "des", "une", "pour",
        "avec", "el", "los", "las", "para", "con", "una", "het", "een", "voor", "och", "att", "il",
        "di", "che", "per", "não", "uma", "com",
    ];
    let foreign = words
        .iter()
        .filter(|w| FOREIGN.contains(&w.as_str()))
        .count();
    foreign * 5 < words.len()
}
