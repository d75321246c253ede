//! Text to token ids, with truncation at a configurable limit and no padding: batches are padded
//! to their longest item later, which costs far less than the tokenizer file's fixed 128.

use std::path::Path;

use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::{Error, Result};

/// One tokenized item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Token ids including the special tokens.
    pub ids: Vec<u32>,
    /// Whether the text was cut to fit the token limit.
    pub truncated: bool,
}

impl Encoded {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no tokens at all.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A WordPiece tokenizer set up for storylens: no padding, truncation at `max_tokens`.
pub struct TextTokenizer {
    inner: Tokenizer,
    max_tokens: usize,
}

/// A token covers at least one character, and rarely more than this many: text beyond
/// `max_tokens * CHARS_PER_TOKEN_BOUND` characters can never fit, so it is cut before tokenizing
/// and a megabyte of text costs no more than a page.
const CHARS_PER_TOKEN_BOUND: usize = 16;

impl TextTokenizer {
    /// Loads `tokenizer.json` and overrides its padding and truncation.
    pub fn from_file(path: &Path, max_tokens: usize) -> Result<Self> {
        if max_tokens < 8 {
            return Err(Error::InvalidInput(format!(
                "max tokens must be at least 8, got {max_tokens}"
            )));
        }
        let mut inner = Tokenizer::from_file(path)
            .map_err(|e| Error::Tokenizer(format!("{}: {e}", path.display())))?;
        inner.with_padding(None);
        inner
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        Ok(Self { inner, max_tokens })
    }

    /// The token limit per item.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// Tokenizes one text. Empty text, and text with no letters at all (only NULs, digits,
    /// punctuation or zero-width characters), is an error: there is nothing to classify.
    pub fn encode(&self, text: &str) -> Result<Encoded> {
        check_text(text)?;
        let limit = self.max_tokens * CHARS_PER_TOKEN_BOUND;
        let (head, cut) = match text.char_indices().nth(limit) {
            Some((byte, _)) => (&text[..byte], true),
            None => (text, false),
        };
        let encoding = self
            .inner
            .encode(head, true)
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        let truncated = cut || !encoding.get_overflowing().is_empty();
        Ok(Encoded {
            ids: encoding.get_ids().to_vec(),
            truncated,
        })
    }
}

/// The check every model applies before tokenizing: text must not be empty and must have at
/// least one letter (only NULs, digits, punctuation or zero-width characters say nothing).
pub fn check_text(text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::InvalidInput("text is empty".into()));
    }
    if !text.chars().any(char::is_alphabetic) {
        return Err(Error::InvalidInput("text has no words (no letters)".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn char_bound_cut_is_on_a_boundary() {
        let text = "é".repeat(5000);
        let limit = 128 * super::CHARS_PER_TOKEN_BOUND;
        let (byte, _) = text.char_indices().nth(limit).unwrap();
        assert!(text.is_char_boundary(byte));
        assert_eq!(text[..byte].chars().count(), limit);
    }
}
