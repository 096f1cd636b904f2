//! The `.env` reader: Compose v2's dialect, statement by statement.
//!
//! A statement is `[export] KEY (=|:) value` or a bare `KEY` line. Unquoted values run to the
//! end of the line, are cut at the first ` #` and trimmed on the right; single-quoted values
//! are literal except `\'`; double-quoted values may span lines, expand `\n`-style escapes and
//! are interpolated. Line numbers in errors are Compose's: its counter has advanced past every
//! newline consumed so far, so an unterminated quote reports the line where the file ended.

use rustc_hash::{FxBuildHasher, FxHashMap};

use super::go_quote::go_quote;
use super::template::{TemplateErrorKind, substitute};
use super::{Entry, ParseError, ParseErrorKind, Quote};

/// Compose's "space" inside a line: what it skips around keys and after `=`.
fn is_inline_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

/// What may appear in a key besides inline spaces.
fn is_key_char(c: char) -> bool {
    matches!(c, '_' | '.' | '-' | '[' | ']') || c.is_alphabetic() || c.is_numeric()
}

pub(super) fn parse(
    src: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Entry>, ParseError> {
    let text = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut reader = Reader {
        text,
        pos: 0,
        line: 1,
        // About one entry per 40 bytes of a typical `.env`: rarely a second allocation, and
        // no copy of the entries read so far.
        entries: Vec::with_capacity(src.len() / 40),
        known: FxHashMap::with_capacity_and_hasher(src.len() / 40, FxBuildHasher),
    };
    while reader.seek_statement() {
        reader.statement(lookup)?;
    }
    Ok(reader.entries)
}

struct Reader<'a> {
    text: &'a str,
    pos: usize,
    /// Compose's line counter: 1 + newlines consumed so far.
    line: usize,
    entries: Vec<Entry>,
    /// Keys defined so far, for interpolation: the index in `entries` of each key's last
    /// definition (keys are slices of the text, so nothing is copied).
    known: FxHashMap<&'a str, usize>,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    /// Skips blank space and comment lines; false at the end of the text.
    fn seek_statement(&mut self) -> bool {
        loop {
            let rest = self.rest();
            let Some((offset, c)) = rest.char_indices().find(|&(_, c)| !c.is_whitespace()) else {
                self.line += rest.matches('\n').count();
                self.pos = self.text.len();
                return false;
            };
            self.line += rest[..offset].matches('\n').count();
            self.pos += offset;
            if c != '#' {
                return true;
            }
            let Some(newline) = self.rest().find('\n') else {
                self.pos = self.text.len();
                return false;
            };
            self.pos += newline;
        }
    }

    fn statement(&mut self, lookup: &dyn Fn(&str) -> Option<String>) -> Result<(), ParseError> {
        let start_line = self.line;
        self.skip_export();
        let key_start = self.pos;
        let rest = self.rest();

        let mut terminator = None;
        for (i, c) in rest.char_indices() {
            if is_inline_space(c) {
                continue;
            }
            if matches!(c, '=' | ':' | '\n') {
                terminator = Some((i, c));
                break;
            }
            if !is_key_char(c) {
                let first_line = rest.split('\n').next().unwrap_or_default();
                return Err(ParseError {
                    line: self.line,
                    message: format!(
                        "unexpected character {} in variable name {}",
                        go_quote(&c.to_string()),
                        go_quote(first_line)
                    ),
                    kind: ParseErrorKind::UnexpectedCharacter(c),
                    key: None,
                });
            }
        }

        let Some((end, terminator)) = terminator else {
            if rest.is_empty() {
                // `export` and blanks at the very end of the file.
                return Err(ParseError {
                    line: self.line,
                    message: "zero length string".to_owned(),
                    kind: ParseErrorKind::EmptyStatement,
                    key: None,
                });
            }
            // The last line has no `=` and no newline: Compose reads the text as the value
            // of an empty key.
            return self.value("", None, start_line, lookup);
        };
        let key = rest[..end].trim_end();
        if key.contains(' ') {
            return Err(ParseError {
                line: self.line,
                message: "key cannot contain a space".to_owned(),
                kind: ParseErrorKind::KeyContainsSpace,
                key: Some(key.to_owned()),
            });
        }
        self.pos = key_start + end + 1;
        if terminator == '\n' {
            self.line += 1;
            if let Some(value) = lookup(key) {
                self.push(
                    key,
                    Entry {
                        key: key.to_owned(),
                        value,
                        line: start_line,
                        quote: Quote::None,
                        raw: String::new(),
                        missing: Vec::new(),
                        inherited: true,
                        separator: None,
                    },
                );
            }
            return Ok(());
        }
        self.skip_inline_space();
        self.value(key, Some(terminator), start_line, lookup)
    }

    /// `export` followed by whitespace is dropped (with the inline space after it).
    fn skip_export(&mut self) {
        let rest = self.rest();
        if let Some(after) = rest.strip_prefix("export")
            && after.starts_with(['\t', '\n', '\u{c}', '\r', ' '])
        {
            self.pos += "export".len();
            self.skip_inline_space();
        }
    }

    fn skip_inline_space(&mut self) {
        let rest = self.rest();
        let trimmed = rest.trim_start_matches(is_inline_space);
        self.pos += rest.len() - trimmed.len();
    }

    fn value(
        &mut self,
        key: &'a str,
        separator: Option<char>,
        start_line: usize,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), ParseError> {
        let rest = self.rest();
        let quote = match rest.as_bytes().first() {
            Some(b'"') => Quote::Double,
            Some(b'\'') => Quote::Single,
            _ => Quote::None,
        };
        let (raw, text) = if quote == Quote::None {
            let (line, consumed) = match rest.find('\n') {
                Some(newline) => (&rest[..newline], newline + 1),
                None => (rest, rest.len()),
            };
            self.pos += consumed;
            self.line += 1;
            // The first ` #`: each `#` found by memchr, then the byte before it.
            let comment = line
                .match_indices('#')
                .map(|(at, _)| at)
                .find(|&at| at > 0 && line.as_bytes()[at - 1] == b' ')
                .map(|at| at - 1);
            let before_comment = comment.map_or(line, |at| &line[..at]);
            let raw = before_comment.trim_end().to_owned();
            (raw.clone(), raw)
        } else {
            self.quoted(quote)?
        };

        let (value, missing) = if quote == Quote::Single {
            (text, Vec::new())
        } else {
            let text = if quote == Quote::Double {
                expand_escapes(&text)
            } else {
                text
            };
            // Without a `$` there is nothing to interpolate (most values of a long `.env`).
            if text.contains('$') {
                let (known, entries) = (&self.known, &self.entries);
                let lookup_both = |name: &str| {
                    lookup(name).or_else(|| known.get(name).map(|&at| entries[at].value.clone()))
                };
                substitute(&text, &lookup_both).map_err(|e| ParseError {
                    line: start_line,
                    kind: match e.kind {
                        TemplateErrorKind::RequiredVariable => ParseErrorKind::RequiredVariable,
                        TemplateErrorKind::Invalid => ParseErrorKind::InvalidTemplate,
                    },
                    message: e.message,
                    key: Some(key.to_owned()),
                })?
            } else {
                (text, Vec::new())
            }
        };
        self.push(
            key,
            Entry {
                key: key.to_owned(),
                value,
                line: start_line,
                quote,
                raw,
                missing,
                inherited: false,
                separator,
            },
        );
        Ok(())
    }

    /// A quoted value starting at `pos`: returns (raw text between the quotes, text with
    /// escaped quotes resolved).
    fn quoted(&mut self, quote: Quote) -> Result<(String, String), ParseError> {
        let quote_char = if quote == Quote::Double { '"' } else { '\'' };
        let opened = self.line;
        let rest = self.rest();
        let mut text = String::new();
        let mut escaped = false;
        for (i, c) in rest.char_indices().skip(1) {
            if c == '\n' {
                self.line += 1;
            }
            if escaped {
                escaped = false;
                if c != quote_char {
                    text.push('\\');
                }
                text.push(c);
            } else if c == '\\' {
                escaped = true;
            } else if c == quote_char {
                let raw = rest[1..i].to_owned();
                self.pos += i + 1;
                return Ok((raw, text));
            } else {
                text.push(c);
            }
        }
        let first_line = rest.split('\n').next().unwrap_or_default();
        Err(ParseError {
            line: self.line,
            message: format!("unterminated quoted value {first_line}"),
            kind: ParseErrorKind::UnterminatedQuote { opened },
            key: None,
        })
    }

    /// `key` is `entry.key` as it stands in the text.
    fn push(&mut self, key: &'a str, entry: Entry) {
        self.known.insert(key, self.entries.len());
        self.entries.push(entry);
    }
}

/// Escapes inside double quotes: `\a \b \f \n \r \t \v \\ \"` become their character, `\$`
/// a literal `$` (kept as `$$` for interpolation), `\0` + three octal digits a byte value;
/// `\0` with other digits loses its `0`; anything else is kept as written.
fn expand_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(&next) = chars.peek() else {
            out.push('\\');
            break;
        };
        let replacement = match next {
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            '\\' => Some('\\'),
            '"' => Some('"'),
            _ => None,
        };
        if let Some(r) = replacement {
            chars.next();
            out.push(r);
        } else if next == '$' {
            chars.next();
            out.push_str("$$");
        } else if next == '0' {
            chars.next();
            let mut digits = String::new();
            while digits.len() < 3 {
                match chars.peek() {
                    Some(&d) if d.is_ascii_digit() => {
                        digits.push(d);
                        chars.next();
                    }
                    _ => break,
                }
            }
            if let Some(byte) = octal_byte(&digits) {
                out.push(char::from(byte));
            } else {
                out.push('\\');
                out.push_str(&digits);
            }
        } else {
            out.push('\\');
        }
    }
    out
}

fn octal_byte(digits: &str) -> Option<u8> {
    if digits.len() != 3 {
        return None;
    }
    u8::from_str_radix(digits, 8).ok()
}
