//! Compose's `${VAR}` interpolation, as applied to `.env` values and to compose files.
//!
//! Behaviour follows what Compose v2 (compose-go's `template` package) does, measured against
//! `docker compose config`: `$$` is a literal `$`; `$NAME` and `${NAME}` look a variable up;
//! `${V:-d}`, `${V-d}`, `${V:+a}`, `${V+a}`, `${V:?m}`, `${V?m}` apply their operator; the
//! operand is always interpolated first (so `${A:-${B:?}}` fails even when `A` is set); a `$`
//! not followed by a name, `{` or `$` stays literal; a `${` that does not form a reference is an
//! error quoting the text being interpolated. An operator form runs to the last `}` on its line
//! and is then cut at its balancing brace; what follows is interpolated on its own, which is
//! why errors there quote only that tail, as Compose does.

use std::fmt;

use super::go_quote::go_quote;

/// An interpolation error, worded as Compose words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub kind: TemplateErrorKind,
    pub message: String,
}

/// Which interpolation error, decided where it is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateErrorKind {
    /// A `${` that does not form a reference, or references nested too deep.
    Invalid,
    /// An unset `${V:?msg}` / `${V?msg}`.
    RequiredVariable,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateError {}

/// What a reference does when its variable is unset (or empty, for the `:` forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// `$V`, `${V}`: unset becomes `""` with a warning.
    Plain,
    /// `${V:-d}`, `${V-d}`.
    Default,
    /// `${V:+a}`, `${V+a}`.
    Alternative,
    /// `${V:?m}`, `${V?m}`: unset is an error.
    Required,
}

/// One variable reference found in a compose file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef {
    pub name: String,
    /// 1-based line of the reference.
    pub line: usize,
    pub kind: RefKind,
    /// The `:` form (`:-`, `:+`, `:?`): an empty value counts as unset.
    pub colon: bool,
    /// Text after the operator as written (default, alternative or error message), `""` for
    /// plain references.
    pub arg: String,
}

/// Interpolates `s`. Returns the value and the names that were looked up without a default
/// and were unset (Compose warns about each and substitutes `""`), in order, without repeats.
///
/// # Errors
/// `Invalid template: "…"` for a malformed `${`, and
/// `required variable V is missing a value[: msg]` for an unset `${V:?msg}` / `${V?msg}`.
pub fn substitute(
    s: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, Vec<String>), TemplateError> {
    let mut missing = Vec::new();
    let value = interpolate(s, lookup, &mut missing, 0)?;
    let mut seen = std::collections::HashSet::new();
    missing.retain(|name| seen.insert(name.clone()));
    Ok((value, missing))
}

/// Characters that may start a name. Compose matches `[_a-z]` case-insensitively, which under
/// Unicode case folding also admits `ſ` (U+017F) and the Kelvin sign (U+212A).
pub(crate) fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic() || c == '\u{17f}' || c == '\u{212a}'
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit()
}

/// The operators of `${NAME<op>arg}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Default { colon: bool },
    Alternative { colon: bool },
    Required { colon: bool },
}

/// One lexical token found at a `$`.
#[derive(Debug)]
enum Token<'a> {
    /// `$$`
    Dollar,
    /// `$NAME` or `${NAME}`
    Name(&'a str),
    /// `${NAME<op>…}`: name, operator and operand. Compose's match runs greedily to the last
    /// `}` on the line; `tail_end` is where that match ends, and the text between the
    /// balancing `}` and `tail_end` is interpolated as a template of its own.
    Operator {
        name: &'a str,
        op: Op,
        arg: &'a str,
        tail_end: usize,
    },
    /// A `$` that starts nothing: kept literally.
    Literal,
    /// `${` that does not form a reference.
    Invalid,
}

/// Finds where `${NAME<op>…` matches end: the last `}` of the line. Remembers the current
/// line so a long line full of references is scanned once, not once per reference.
struct Lines<'a> {
    text: &'a str,
    line_end: usize,
    last_brace: Option<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            text,
            line_end: 0,
            last_brace: None,
        }
    }

    /// Byte index of the last `}` at or after `from` on the line holding `from`.
    fn last_brace(&mut self, from: usize) -> Option<usize> {
        if from >= self.line_end {
            let rest = &self.text[from..];
            self.line_end = from + rest.find('\n').unwrap_or(rest.len());
            self.last_brace = self.text[from..self.line_end].rfind('}').map(|i| from + i);
        }
        self.last_brace.filter(|&b| b >= from)
    }
}

/// Reads the token starting at byte `at` (where `s[at..]` starts with `$`); returns it and the
/// byte index just past what it covers (for an operator: its balancing `}`).
fn token_at<'a>(lines: &mut Lines<'a>, at: usize) -> (Token<'a>, usize) {
    let s = lines.text;
    let rest = &s[at + 1..];
    match rest.chars().next() {
        Some('$') => (Token::Dollar, at + 2),
        Some(c) if is_name_start(c) => {
            let len = name_len(rest);
            (Token::Name(&rest[..len]), at + 1 + len)
        }
        Some('{') => braced(lines, at),
        _ => (Token::Literal, at + 1),
    }
}

fn name_len(s: &str) -> usize {
    s.char_indices()
        .find(|&(_, c)| !is_name_char(c))
        .map_or(s.len(), |(i, _)| i)
}

/// `${…}` at byte `at`.
fn braced<'a>(lines: &mut Lines<'a>, at: usize) -> (Token<'a>, usize) {
    let s = lines.text;
    let name_start = at + 2;
    let inner = &s[name_start..];
    if !inner.chars().next().is_some_and(is_name_start) {
        return (Token::Invalid, name_start);
    }
    let name_end = name_start + name_len(inner);
    let name = &s[name_start..name_end];
    let after = &s[name_end..];
    if after.starts_with('}') {
        return (Token::Name(name), name_end + 1);
    }
    let (op, op_len) = match after.as_bytes() {
        [b':', b'-', ..] => (Op::Default { colon: true }, 2),
        [b':', b'+', ..] => (Op::Alternative { colon: true }, 2),
        [b':', b'?', ..] => (Op::Required { colon: true }, 2),
        [b'-', ..] => (Op::Default { colon: false }, 1),
        [b'+', ..] => (Op::Alternative { colon: false }, 1),
        [b'?', ..] => (Op::Required { colon: false }, 1),
        _ => return (Token::Invalid, name_start),
    };
    let operand_start = name_end + op_len;
    let Some(last_brace) = lines.last_brace(operand_start) else {
        return (Token::Invalid, name_start);
    };
    let close = balancing_brace(s, at, last_brace);
    (
        Token::Operator {
            name,
            op,
            arg: &s[operand_start..close],
            tail_end: last_brace + 1,
        },
        close + 1,
    )
}

/// Index of the `}` that brings the brace depth back to zero, scanning `s[at..=last]` (the
/// last `}` when none does). Like Compose, the character right after each `{` is skipped.
fn balancing_brace(s: &str, at: usize, last: usize) -> usize {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = at;
    while i <= last {
        match bytes[i] {
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            b'{' => {
                depth += 1;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    last
}

fn invalid(template: &str) -> TemplateError {
    TemplateError {
        kind: TemplateErrorKind::Invalid,
        message: format!("Invalid template: {}", go_quote(template)),
    }
}

/// Operands nest (`${A:-${B:-…}}`); beyond this depth timmy gives up instead of risking its
/// stack. Compose has no limit; no real file comes near it.
const MAX_NESTING: usize = 64;

fn too_deep() -> TemplateError {
    TemplateError {
        kind: TemplateErrorKind::Invalid,
        message: format!("Invalid template: references nested more than {MAX_NESTING} deep"),
    }
}

/// The text an error quotes: Compose interpolates the tail after an operator's balancing `}`
/// as a template of its own, so an error there quotes only that tail.
struct Region {
    start: usize,
    end: usize,
}

fn error_template<'a>(template: &'a str, region: Option<&Region>) -> &'a str {
    region.map_or(template, |r| &template[r.start..r.end])
}

fn interpolate(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    missing: &mut Vec<String>,
    depth: usize,
) -> Result<String, TemplateError> {
    if depth > MAX_NESTING {
        return Err(too_deep());
    }
    let mut lines = Lines::new(template);
    let mut out = String::with_capacity(template.len());
    let mut region: Option<Region> = None;
    let mut pos = 0;
    while let Some(offset) = template[pos..].find('$') {
        let at = pos + offset;
        if region.as_ref().is_some_and(|r| at >= r.end) {
            region = None;
        }
        out.push_str(&template[pos..at]);
        let (token, next) = token_at(&mut lines, at);
        match token {
            Token::Dollar | Token::Literal => out.push('$'),
            Token::Name(name) => match lookup(name) {
                Some(value) => out.push_str(&value),
                None => missing.push(name.to_owned()),
            },
            Token::Operator {
                name,
                op,
                arg,
                tail_end,
            } => {
                let arg = interpolate(arg, lookup, missing, depth + 1)?;
                out.push_str(&apply(name, op, arg, lookup(name))?);
                if next < tail_end {
                    region = Some(Region {
                        start: next,
                        end: tail_end,
                    });
                }
            }
            Token::Invalid => return Err(invalid(error_template(template, region.as_ref()))),
        }
        pos = next;
    }
    out.push_str(&template[pos..]);
    Ok(out)
}

fn apply(name: &str, op: Op, arg: String, value: Option<String>) -> Result<String, TemplateError> {
    let set = |colon: bool| value.as_deref().is_some_and(|v| !colon || !v.is_empty());
    Ok(match op {
        Op::Default { colon } if !set(colon) => arg,
        Op::Alternative { colon } if set(colon) => arg,
        Op::Required { colon } if !set(colon) => {
            let mut message = format!("required variable {name} is missing a value");
            if !arg.is_empty() {
                message.push_str(": ");
                message.push_str(&arg);
            }
            return Err(TemplateError {
                kind: TemplateErrorKind::RequiredVariable,
                message,
            });
        }
        _ => value.unwrap_or_default(),
    })
}

/// Every variable reference in a compose YAML text, with its line: `$$` and YAML comments are
/// skipped, references nested in operands are included.
///
/// # Errors
/// The line and Compose's error for the first malformed `${`.
pub fn variables(yaml_text: &str) -> Result<Vec<VarRef>, (usize, TemplateError)> {
    let mut refs = Vec::new();
    let mut block: Option<usize> = None; // indentation of the key owning a block scalar
    for (index, raw_line) in yaml_text.lines().enumerate() {
        let line_no = index + 1;
        let indent = raw_line.len() - raw_line.trim_start_matches([' ', '\t']).len();
        let blank = raw_line.trim().is_empty();
        if let Some(owner) = block {
            if blank || indent > owner {
                collect(raw_line, line_no, &mut refs, 0).map_err(|e| (line_no, e))?;
                continue;
            }
            block = None;
        }
        let content = strip_yaml_comment(raw_line);
        collect(content, line_no, &mut refs, 0).map_err(|e| (line_no, e))?;
        if starts_block_scalar(content) {
            block = Some(indent);
        }
    }
    Ok(refs)
}

/// `key: |`, `- >-`, `key: |2+` …: the following more-indented lines are literal text.
fn starts_block_scalar(content: &str) -> bool {
    let trimmed = content.trim_end();
    let Some(last_word) = trimmed.rsplit([' ', '\t']).next() else {
        return false;
    };
    let mut chars = last_word.chars();
    matches!(chars.next(), Some('|' | '>'))
        && chars.all(|c| matches!(c, '-' | '+') || c.is_ascii_digit())
        && (trimmed.len() > last_word.len() || trimmed == last_word)
}

/// The part of a line before a YAML comment: `#` at the start or after whitespace, outside
/// quotes.
fn strip_yaml_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut prev_space = true;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some('\'') if c == '\'' => {
                if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                    chars.next();
                } else {
                    quote = None;
                }
            }
            Some('"') if c == '\\' => {
                chars.next();
            }
            Some('"') if c == '"' => quote = None,
            None if c == '#' && prev_space => return &line[..i],
            None if (c == '"' || c == '\'') && prev_space_or_indicator(line, i) => {
                quote = Some(c);
            }
            Some(_) | None => {}
        }
        prev_space = c == ' ' || c == '\t';
    }
    line
}

/// A quote opens a quoted scalar only at the start of a value (after `: `, `- `, `[`, `{`,
/// `,` or at the start of the line).
fn prev_space_or_indicator(line: &str, i: usize) -> bool {
    let before = line[..i].trim_end_matches([' ', '\t']);
    before.is_empty()
        || before.ends_with(':')
        || before.ends_with('-')
        || before.ends_with('[')
        || before.ends_with('{')
        || before.ends_with(',')
        || before.ends_with('?')
}

fn collect(
    text: &str,
    line: usize,
    refs: &mut Vec<VarRef>,
    depth: usize,
) -> Result<(), TemplateError> {
    if depth > MAX_NESTING {
        return Err(too_deep());
    }
    let mut lines = Lines::new(text);
    let mut region: Option<Region> = None;
    let mut pos = 0;
    while let Some(offset) = text[pos..].find('$') {
        let at = pos + offset;
        if region.as_ref().is_some_and(|r| at >= r.end) {
            region = None;
        }
        let (token, next) = token_at(&mut lines, at);
        match token {
            Token::Dollar | Token::Literal => {}
            Token::Name(name) => refs.push(VarRef {
                name: name.to_owned(),
                line,
                kind: RefKind::Plain,
                colon: false,
                arg: String::new(),
            }),
            Token::Operator {
                name,
                op,
                arg,
                tail_end,
            } => {
                let (kind, colon) = match op {
                    Op::Default { colon } => (RefKind::Default, colon),
                    Op::Alternative { colon } => (RefKind::Alternative, colon),
                    Op::Required { colon } => (RefKind::Required, colon),
                };
                refs.push(VarRef {
                    name: name.to_owned(),
                    line,
                    kind,
                    colon,
                    arg: arg.to_owned(),
                });
                collect(arg, line, refs, depth + 1)?;
                if next < tail_end {
                    region = Some(Region {
                        start: next,
                        end: tail_end,
                    });
                }
            }
            Token::Invalid => return Err(invalid(error_template(text, region.as_ref()))),
        }
        pos = next;
    }
    Ok(())
}
