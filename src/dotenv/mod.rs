//! Reading `.env` files exactly as Docker Compose v2 does, and Compose's `${VAR}`
//! interpolation. Pure: text in, values out; no file or environment access (the caller passes
//! the shell environment as a lookup function).
//!
//! Compose's dialect differs from other dotenv readers (dotenvy included) on dozens of inputs;
//! the rules here were checked against `docker compose config` (see
//! `tests/dotenv_compose.rs` and `tests/dotenv_corpus/`).

mod go_quote;
mod parse;
mod template;

use std::fmt;

use rustc_hash::{FxBuildHasher, FxHashMap};

pub use template::{RefKind, TemplateError, TemplateErrorKind, VarRef, substitute, variables};

/// How a value was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    None,
    Single,
    Double,
}

/// One statement of a `.env` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    /// The value exactly as Compose sees it (escapes and interpolation done).
    pub value: String,
    /// 1-based line where the entry starts.
    pub line: usize,
    pub quote: Quote,
    /// The value as written (inside the quotes when quoted; before the ` #` comment and
    /// right-trimmed when not). For checks only; never print it.
    pub raw: String,
    /// Variables referenced with no default that were unset: Compose substitutes `""` and
    /// prints a warning.
    pub missing: Vec<String>,
    /// A bare `KEY` line: the value was copied from the calling environment.
    pub inherited: bool,
    /// The `=` or `:` between key and value; `None` for a bare `KEY` line and for a last
    /// line with neither (Compose reads that text as the value of an empty key).
    pub separator: Option<char>,
}

/// What went wrong, without any text from the file (safe to show).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// A character that cannot be part of a key before the `=`.
    UnexpectedCharacter(char),
    KeyContainsSpace,
    /// A quote opened on line `opened` and never closed.
    UnterminatedQuote {
        opened: usize,
    },
    /// `export` and blanks at the very end of the file.
    EmptyStatement,
    /// A malformed `${` in a value.
    InvalidTemplate,
    /// An unset `${V:?msg}` / `${V?msg}` in a value.
    RequiredVariable,
}

/// A `.env` error as Compose reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Compose's line number. For an unterminated quote Compose counts to the end of the file.
    pub line: usize,
    /// Compose's wording without the `line N: ` prefix. May quote text from the file.
    pub message: String,
    pub kind: ParseErrorKind,
    /// The key being read, when known.
    pub key: Option<String>,
}

impl ParseError {
    /// The text Compose prints: syntax errors carry `line N: `; interpolation errors and
    /// `zero length string` do not.
    #[must_use]
    pub fn compose_text(&self) -> String {
        match self.kind {
            ParseErrorKind::InvalidTemplate
            | ParseErrorKind::RequiredVariable
            | ParseErrorKind::EmptyStatement => self.message.clone(),
            _ => self.to_string(),
        }
    }
}

impl ParseError {
    /// The error in words that contain no text from the file, safe to print: Compose's own
    /// message may quote part of a value (a secret).
    #[must_use]
    pub fn safe_message(&self) -> String {
        let key = self.key.as_deref().unwrap_or("");
        match &self.kind {
            ParseErrorKind::UnexpectedCharacter(c) => {
                format!("unexpected character {c:?} in variable name (Compose refuses this file)")
            }
            ParseErrorKind::KeyContainsSpace => "key cannot contain a space".to_owned(),
            ParseErrorKind::UnterminatedQuote { opened } => format!(
                "the quote opened on line {opened} is never closed (Compose reports the line where the file ends)"
            ),
            ParseErrorKind::EmptyStatement => {
                "`export` with no variable at the end of the file".to_owned()
            }
            ParseErrorKind::InvalidTemplate => {
                format!("invalid `${{...}}` in the value of {key}: Compose refuses this file")
            }
            ParseErrorKind::RequiredVariable => {
                format!("the value of {key} requires a variable that is not set (`${{VAR:?}}`)")
            }
        }
    }

    /// What to do about it.
    #[must_use]
    pub fn safe_hint(&self) -> String {
        match self.kind {
            ParseErrorKind::UnexpectedCharacter(_) => {
                "keys may hold letters, digits, `_`, `.`, `-`, `[`, `]`; write KEY=value, one per line"
            }
            ParseErrorKind::KeyContainsSpace => "write KEY=value with no space inside the key",
            ParseErrorKind::UnterminatedQuote { .. } => {
                "close the quote; to keep a quote character inside a value, escape it as \\\" or \\'"
            }
            ParseErrorKind::EmptyStatement => "remove the trailing `export`",
            ParseErrorKind::InvalidTemplate => {
                "write `$$` for a literal `$`, or put the value in single quotes"
            }
            ParseErrorKind::RequiredVariable => "set that variable in .env or the shell",
        }
        .to_owned()
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Reads a `.env` text. `lookup` is the calling shell environment; interpolation looks there
/// first, then at keys defined earlier in the file. Returns entries in file order including
/// duplicates; a bare `KEY` is copied from `lookup` and dropped when unset. A leading UTF-8 BOM
/// is ignored.
///
/// # Errors
/// The first syntax or interpolation error, with Compose's line number and wording.
pub fn parse(src: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Vec<Entry>, ParseError> {
    parse::parse(src, lookup)
}

/// The variables Compose ends up with: the last duplicate wins, keys stay in the order of
/// their first appearance.
#[must_use]
pub fn resolve(entries: &[Entry]) -> Vec<(String, String)> {
    let mut index: FxHashMap<&str, usize> =
        FxHashMap::with_capacity_and_hasher(entries.len(), FxBuildHasher);
    let mut out: Vec<(String, String)> = Vec::with_capacity(entries.len());
    for entry in entries {
        if let Some(&at) = index.get(entry.key.as_str()) {
            out[at].1.clone_from(&entry.value);
        } else {
            index.insert(&entry.key, out.len());
            out.push((entry.key.clone(), entry.value.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests;
