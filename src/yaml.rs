//! The one YAML rule timmy checks itself: no tab in a line's indentation. It is the slip a
//! hand-edited compose file most often has, and Compose refuses such a file (measured with
//! Compose 2.26: `found character that cannot start any token`, or `found a tab character that
//! violates indentation`).
//!
//! Not a YAML parser, on purpose: a full parser would be the largest dependency of the binary
//! for one rule, and Compose itself reports every other YAML error with its own message. The
//! scan errs on the side of silence: lines inside block scalars (`|`, `>`), multi-line flow
//! collections (`[`…`]`, `{`…`}`) and multi-line quoted strings are skipped, since tabs may
//! be allowed there, and so are blank and comment-only lines.

/// The 1-based number of the first line whose indentation holds a tab where YAML's block
/// context expects spaces, if any.
#[must_use]
pub fn tab_in_indentation(text: &str) -> Option<usize> {
    let mut state = State::default();
    for (index, line) in text.lines().enumerate() {
        if state.tab_in_indentation(line) {
            return Some(index + 1);
        }
    }
    None
}

#[derive(Default)]
struct State {
    /// Inside a block scalar whose header line was indented by this many spaces.
    block_scalar: Option<usize>,
    /// Open `[` / `{` carried over from earlier lines.
    flow_depth: usize,
    /// A quoted string carried over from earlier lines, by its quote character.
    quote: Option<char>,
}

impl State {
    /// Reads one line; true when its indentation holds a tab in block context.
    fn tab_in_indentation(&mut self, line: &str) -> bool {
        let content = line.trim_start_matches([' ', '\t']);
        let indent = &line[..line.len() - content.len()];
        let spaces = indent.len() - indent.trim_start_matches(' ').len();
        if let Some(parent) = self.block_scalar {
            if content.is_empty() || spaces > parent {
                return false;
            }
            self.block_scalar = None;
        }
        let continued = self.flow_depth > 0 || self.quote.is_some();
        if !continued && (content.is_empty() || content.starts_with('#')) {
            return false;
        }
        if !continued && indent.contains('\t') {
            return true;
        }
        let ends_with_block_header = self.scan(content);
        if ends_with_block_header && self.flow_depth == 0 && self.quote.is_none() {
            self.block_scalar = Some(spaces);
        }
        false
    }

    /// Follows quotes and flow brackets through `content`; true when the line (outside any
    /// quote, before a comment) ends with a block scalar header such as `|`, `>-` or `|2`.
    fn scan(&mut self, content: &str) -> bool {
        let mut chars = content.char_indices().peekable();
        // The last character outside a quote, to tell a quote that opens a value (`key: "x`)
        // from one inside a plain word (`it's`).
        let mut previous: Option<char> = None;
        let mut end = content.len();
        while let Some((i, c)) = chars.next() {
            match self.quote {
                Some('"') => {
                    if c == '\\' {
                        chars.next();
                    } else if c == '"' {
                        self.quote = None;
                    }
                }
                Some(_) => {
                    if c == '\'' {
                        if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                            chars.next();
                        } else {
                            self.quote = None;
                        }
                    }
                }
                None => {
                    let starts_token =
                        previous.is_none_or(|p| p.is_whitespace() || matches!(p, '[' | '{' | ','));
                    match c {
                        '#' if previous.is_none_or(char::is_whitespace) => {
                            end = i;
                            break;
                        }
                        '"' | '\'' if starts_token => self.quote = Some(c),
                        '[' | '{' if starts_token || self.flow_depth > 0 => self.flow_depth += 1,
                        ']' | '}' if self.flow_depth > 0 => self.flow_depth -= 1,
                        _ => {}
                    }
                }
            }
            previous = Some(c);
        }
        if self.quote.is_some() {
            return false;
        }
        let before_comment = content[..end].trim_end();
        let header_start = before_comment
            .rfind(['|', '>'])
            .filter(|&at| {
                before_comment[at + 1..]
                    .chars()
                    .all(|c| matches!(c, '+' | '-') || c.is_ascii_digit())
            })
            .filter(|&at| at == 0 || before_comment[..at].ends_with([' ', '\t']));
        header_start.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn case(text: &str, expected: Option<usize>) {
        assert_eq!(tab_in_indentation(text), expected, "{text:?}");
    }

    #[test]
    fn tabs_in_block_indentation_are_found() {
        case("services:\n  timmy:\n\timage: x\n", Some(3));
        case("services:\n  a:\n   \timage: x\n", Some(3));
        case("services:\n\ta:\n", Some(2));
        case("services:\n  a:\n    command: a\n\tb\n", Some(4));
        // A block scalar ends at a line indented no deeper than its header.
        case("a:\n    command: |\n\techo\n    image: x\n", Some(3));
    }

    #[test]
    fn tabs_elsewhere_are_left_to_compose() {
        // Accepted by Compose 2.26: a tab after `:`, in flow collections and quoted strings
        // across lines.
        case("services:\n  a:\n    image:\tx\n", None);
        case("a:\n  command: [\n\t\"a\"]\n", None);
        case("a:\n  command: {x: 1,\n\ty: 2}\n", None);
        case("a:\n  command: \"a\n\tb\"\n", None);
        case("a:\n  command: 'it''s\n\tb'\n", None);
        // Inside block scalars tabs may be content.
        case(
            "a:\n  command: |\n    if x; then\n    \techo\n    fi\n",
            None,
        );
        case("a:\n  b: >-\n    x\n\n    \ty\nc: 1\n", None);
        case("a:\n  - |\n    x\n    \ty\n", None);
        // Blank and comment lines are left alone, and so is a `|` inside a value.
        case("a: 1\n\t\n\t# note\nb: x | y\n", None);
        case("a: \"x # |\"\nb: it's\n", None);
        case("", None);
    }
}
