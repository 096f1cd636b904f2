//! Compose files read with a real YAML parser (`saphyr-parser`, maintained, YAML 1.2, pure
//! Rust), into a small tree whose every node knows its line. It serves three readers: `check`
//! (syntax errors and duplicate keys with file and line, before Compose reports them without a file
//! name), the service names timmy offers and accepts (`services:` keys, whatever the style:
//! comments, flow mappings, quotes), and the types of `.env` values inferred from where the
//! compose files use them ([`crate::types`]). Compose's own schema errors are mapped back to a
//! line through [`Node::line_of`].
//!
//! Compose files hold no secrets (their values come from `.env` by `${VAR}`), so a parser
//! message quoting a character of the file is safe to show.

use saphyr_parser::{Event, Parser, ScanError, Span};

/// One YAML node and the 1-based line where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub line: usize,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Every scalar as text (`3000`, `true`, `~` included): Compose interpolates text.
    Scalar(String),
    Seq(Vec<Node>),
    /// Entries in file order.
    Map(Vec<(Node, Node)>),
}

/// A file Compose would refuse, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub message: String,
    pub hint: String,
}

impl Node {
    /// The value under `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The entries when this is a mapping, else none.
    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The line of the key at the end of `path` (mapping keys; a number indexes a sequence).
    pub fn line_of(&self, path: &[&str]) -> Option<usize> {
        let (last, parents) = path.split_last()?;
        let mut node = self;
        for step in parents {
            node = node.child(step)?;
        }
        match &node.value {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.as_str() == Some(last))
                .map(|(k, _)| k.line),
            Value::Seq(items) => items.get(last.parse::<usize>().ok()?).map(|n| n.line),
            Value::Scalar(_) => None,
        }
    }

    fn child(&self, step: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(_) => self.get(step),
            Value::Seq(items) => items.get(step.parse::<usize>().ok()?),
            Value::Scalar(_) => None,
        }
    }
}

/// The first document of `text`; `None` for a file with no content.
///
/// # Errors
/// A syntax error, a duplicate key in one mapping (Compose refuses both), or a document that
/// is not a mapping.
pub fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    let normalised = normalise_tabs(text);
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(&normalised);
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| scan_error(text, &normalised, &e))?;
        if builder.on_event(event, span)? {
            break;
        }
    }
    let Some(root) = builder.root else {
        return Ok(None);
    };
    match root.value {
        Value::Map(_) => Ok(Some(root)),
        Value::Scalar(ref s) if s.is_empty() || s == "~" || s == "null" => Ok(None),
        _ => Err(YamlError {
            line: root.line,
            message: "the file must be a mapping of top-level keys (`services:`, `volumes:` …)"
                .to_owned(),
            hint: "start the file with `services:` at the beginning of a line".to_owned(),
        }),
    }
}

/// `text` with the tabs the parser refuses and Compose (go-yaml, a libyaml port) accepts
/// replaced by spaces; line numbers stay the same. The parser (like yaml-rust2, measured) refuses
/// a tab after `:` (`key:\tvalue`) and a tab that indents a continuation line of a multi-line
/// flow collection or quoted string; YAML allows both and Compose 2.26 accepts them. A tab in a
/// block line's indentation is left alone, so the parser still reports it, as Compose does.
fn normalise_tabs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut state = State::default();
    let mut opener_indent = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_start_matches([' ', '\t']);
        let indent = &line[..line.len() - content.len()];
        let continued = state.flow_depth > 0 || state.quote.is_some();
        if continued && indent.contains('\t') {
            out.extend(std::iter::repeat_n(' ', opener_indent + 1 + indent.len()));
        } else {
            out.push_str(indent);
        }
        out.extend(content.chars().map(|c| if c == '\t' { ' ' } else { c }));
        if !continued {
            opener_indent = indent.len();
            if content.trim_start().starts_with('#') {
                continue;
            }
        }
        state.scan(content);
    }
    out
}

/// Quotes and flow brackets carried from one line to the next.
#[derive(Default)]
struct State {
    /// Open `[` / `{` carried over from earlier lines.
    flow_depth: usize,
    /// A quoted string carried over from earlier lines, by its quote character.
    quote: Option<char>,
}

impl State {
    /// Follows quotes and flow brackets through `content`, up to a comment.
    fn scan(&mut self, content: &str) {
        let mut chars = content.chars().peekable();
        // The last character outside a quote, to tell a quote that opens a value (`key: "x`)
        // from one inside a plain word (`it's`).
        let mut previous: Option<char> = None;
        while let Some(c) = chars.next() {
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
                        if chars.peek() == Some(&'\'') {
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
                        '#' if previous.is_none_or(char::is_whitespace) => break,
                        '"' | '\'' if starts_token => self.quote = Some(c),
                        '[' | '{' if starts_token || self.flow_depth > 0 => self.flow_depth += 1,
                        ']' | '}' if self.flow_depth > 0 => self.flow_depth -= 1,
                        _ => {}
                    }
                }
            }
            previous = Some(c);
        }
    }
}

/// The keys of the top-level `services:` mapping, in file order.
pub fn service_names(root: &Node) -> Vec<String> {
    root.get("services")
        .map(|s| {
            s.entries()
                .iter()
                .filter_map(|(k, _)| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The parser's error located: `text` is the file, `read` what the parser read
/// ([`normalise_tabs`] of it, the same lines).
fn scan_error(text: &str, read: &str, e: &ScanError) -> YamlError {
    let mut line = e.marker().line().max(1);
    let tab = tab_in_indentation(read, line, e.marker().col());
    // The scanner reports a few errors at the start of the following token: name the line
    // that holds the slip when the marker sits on a blank stretch after it.
    let lines: Vec<&str> = text.lines().collect();
    while line > 1
        && lines
            .get(line - 1)
            .is_none_or(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        line -= 1;
    }
    let message = if tab {
        "not valid YAML: a tab where indentation is expected".to_owned()
    } else {
        format!("not valid YAML: {}", e.info())
    };
    let hint = if tab {
        "indent with spaces".to_owned()
    } else {
        "check the indentation of this line and the one above (keys of one mapping line up) and the space after each `:`".to_owned()
    };
    YamlError {
        line,
        message,
        hint,
    }
}

/// Whether the parser stopped at a tab that indents a line of `text` (after [`normalise_tabs`],
/// the only tabs left are in indentation): one before column `col` (0-based) of `line`
/// (1-based) with nothing else before it, or, when a scalar starts at `col` and runs to the
/// end of the line, one in the indentation of the next line holding content (the scanner
/// reports a scalar's continuation indented by a tab at the scalar's start).
fn tab_in_indentation(text: &str, line: usize, col: usize) -> bool {
    let mut lines = text.lines().skip(line.saturating_sub(1));
    let Some(here) = lines.next() else {
        return false;
    };
    let before: String = here.chars().take(col).collect();
    if before.contains('\t') && before.chars().all(|c| c == ' ' || c == '\t') {
        return true;
    }
    let rest: String = here.chars().skip(col).collect();
    let rest = rest.trim_end();
    let block_header = rest.starts_with(['|', '>']);
    let plain = !rest.is_empty()
        && !rest.starts_with([
            ':', '-', '?', '#', '"', '\'', '[', ']', '{', '}', ',', '&', '*', '!', '%', '@', '`',
        ])
        && !rest.contains(": ")
        && !rest.contains(" #")
        && !rest.ends_with(':');
    if !(block_header || plain) {
        return false;
    }
    lines
        .find(|l| {
            let content = l.trim_start_matches([' ', '\t']);
            !content.is_empty() && !content.starts_with('#')
        })
        .is_some_and(|l| {
            let content = l.trim_start_matches([' ', '\t']);
            l[..l.len() - content.len()].contains('\t')
        })
}

/// Builds the tree from the parser's events.
#[derive(Default)]
struct Builder {
    /// Open collections: the node and, for a mapping, the key waiting for its value.
    open: Vec<(Node, Option<Node>)>,
    anchors: Vec<(usize, Node)>,
    /// Anchor ids of the open collections, to record them when they close.
    open_anchors: Vec<usize>,
    root: Option<Node>,
}

impl Builder {
    /// Takes one event; true once the first document is complete.
    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<bool, YamlError> {
        let line = span.start.line().max(1);
        match event {
            Event::Scalar(text, _, anchor, _) => {
                let node = Node {
                    line,
                    value: Value::Scalar(text.into_owned()),
                };
                if anchor > 0 {
                    self.anchors.push((anchor, node.clone()));
                }
                self.add(node)?;
            }
            Event::SequenceStart(anchor, _) => self.open(line, anchor, Value::Seq(Vec::new())),
            Event::MappingStart(anchor, _) => self.open(line, anchor, Value::Map(Vec::new())),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some((node, _)) = self.open.pop() else {
                    return Ok(false);
                };
                let anchor = self.open_anchors.pop().unwrap_or(0);
                if anchor > 0 {
                    self.anchors.push((anchor, node.clone()));
                }
                self.add(node)?;
            }
            Event::Alias(id) => {
                let mut node = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n.clone())
                    .unwrap_or(Node {
                        line,
                        value: Value::Scalar(String::new()),
                    });
                node.line = line;
                self.add(node)?;
            }
            Event::DocumentEnd => return Ok(self.root.is_some()),
            Event::StreamEnd => return Ok(true),
            Event::Nothing | Event::StreamStart | Event::DocumentStart(_) => {}
        }
        Ok(false)
    }

    fn open(&mut self, line: usize, anchor: usize, value: Value) {
        self.open.push((Node { line, value }, None));
        self.open_anchors.push(anchor);
    }

    fn add(&mut self, node: Node) -> Result<(), YamlError> {
        let Some((parent, pending_key)) = self.open.last_mut() else {
            if self.root.is_none() {
                self.root = Some(node);
            }
            return Ok(());
        };
        match &mut parent.value {
            Value::Seq(items) => items.push(node),
            Value::Map(entries) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => {
                    if let Some(name) = key.as_str().filter(|k| *k != "<<")
                        && let Some((first, _)) =
                            entries.iter().find(|(k, _)| k.as_str() == Some(name))
                    {
                        return Err(YamlError {
                            line: key.line,
                            message: format!(
                                "`{name}` is defined twice in the same mapping (first on line {})",
                                first.line
                            ),
                            hint: "keep one of them (Compose refuses a repeated key)".to_owned(),
                        });
                    }
                    entries.push((key, node));
                }
            },
            Value::Scalar(_) => unreachable!("scalars hold no children"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn names(text: &str) -> Vec<String> {
        parse(text)
            .expect("valid")
            .map(|n| service_names(&n))
            .unwrap_or_default()
    }

    #[track_caller]
    fn error(text: &str) -> String {
        let e = parse(text).expect_err("invalid");
        format!("{}: {}", e.line, e.message)
    }

    #[test]
    fn service_names_in_every_style() {
        let block = "\
# comment
name: x
services:  # the stack
  # the app
  timmy:
    image: a
    environment:
      FOO: bar
  \"redis\":
    image: b

  worker: {image: c}
networks:
  timmy-network:
";
        assert_eq!(names(block), ["timmy", "redis", "worker"]);
        assert_eq!(
            names("services: {redis: {image: r}, 'timmy': {build: .}}\n"),
            ["redis", "timmy"]
        );
        assert_eq!(
            names("services:\n    redis:\n        image: r\n"),
            ["redis"]
        );
        assert_eq!(names("x-a: &a {image: r}\nservices:\n  r: *a\n"), ["r"]);
        assert!(names("networks:\n  a:\n").is_empty());
        assert!(names("").is_empty());
        assert!(names("# only a comment\n").is_empty());
        assert!(names("services:\n").is_empty());
    }

    #[test]
    fn syntax_errors_name_the_line() {
        assert_eq!(
            error("services:\n  a:\n\timage: x\n"),
            "3: not valid YAML: a tab where indentation is expected"
        );
        assert_eq!(
            error("services:\n  redis:\n    image: r\n   command: x\n"),
            "4: not valid YAML: while parsing a block mapping, did not find expected key"
        );
        assert_eq!(
            error("services:\n  redis:\n    image: r: x\n"),
            "3: not valid YAML: mapping values are not allowed in this context"
        );
        assert_eq!(
            error("services:\n  redis:\n    command: [\"a\", \"b\"\n"),
            "3: not valid YAML: while parsing a flow sequence, expected ',' or ']'"
        );
        assert_eq!(
            error("services:\n  redis:\n    image: r\n  redis:\n    image: s\n"),
            "4: `redis` is defined twice in the same mapping (first on line 2)"
        );
        assert_eq!(
            error("- a\n- b\n"),
            "1: the file must be a mapping of top-level keys (`services:`, `volumes:` …)"
        );
    }

    #[test]
    fn a_tab_error_is_told_by_the_tab_in_the_text_not_by_the_parser_message() {
        // (text as the parser read it, the error's line and column, a tab there?)
        for (text, line, col, tab) in [
            ("a:\n\tb: 1\n", 2, 1, true),
            ("a:\n  \tb: 1\n", 2, 3, true),
            ("a:\n  b: 1\n", 2, 2, false),
            // A scalar whose next line with content is indented by a tab.
            ("a: b\n\tc: d\n", 1, 3, true),
            ("a: |\n\tx\n", 1, 3, true),
            ("a: b\n  \t\n\t# c\n\tc: d\n", 1, 3, true),
            ("a: b\n  \t\nc: d\n", 1, 3, false),
            // Not a scalar running to the end of its line: the tab below is not the error.
            ("a: r: x\n\tc: d\n", 1, 4, false),
            ("a: 'x\n\tb: 1\n", 1, 3, false),
            ("a: 1\n", 9, 0, false),
        ] {
            assert_eq!(
                tab_in_indentation(text, line, col),
                tab,
                "{text:?} at {line}:{col}"
            );
        }
        for (text, line) in [
            ("services:\n  a:\n  \timage: x\n", 3),
            ("services:\n  a:\n    image: x\n\t  command: y\n", 3),
            ("services:\n  a:\n    image: x # c\n\t  command: y\n", 4),
            ("- a\n\t- b\n", 1),
            ("a:\n  - |\n\tx\n", 2),
            // Measured: Compose 2.26 refuses it as "found character that cannot start any
            // token", the parser as "did not find expected key"; the tab is what to fix.
            ("a: [1,\n  2]\n\tb: 1\n", 3),
        ] {
            assert_eq!(
                error(text),
                format!("{line}: not valid YAML: a tab where indentation is expected"),
                "{text:?}"
            );
        }
        assert_eq!(
            error("services:\n  a:\n    image: r: x\n\t  command: y\n"),
            "3: not valid YAML: mapping values are not allowed in this context"
        );
        assert_eq!(
            error("a: 'x\nb: 1\n"),
            "1: not valid YAML: invalid indentation in quoted scalar"
        );
    }

    #[test]
    fn merge_keys_may_repeat_and_tabs_after_colons_are_fine() {
        let text = "x-a: &a {image: r}\nx-b: &b {tty: true}\nservices:\n  r:\n    <<: *a\n    <<: *b\n    command:\tx\n";
        assert_eq!(names(text), ["r"]);
        // Tabs inside block scalars are content.
        assert_eq!(
            names("services:\n  a:\n    command: |\n      if x; then\n      \techo\n      fi\n"),
            ["a"]
        );
        // Accepted by Compose 2.26: a tab after `:` and in multi-line flow collections.
        for text in [
            "services:\n  a:\n    image:\tx\n",
            "a:\n  command: [\n\t\"a\"]\n",
            "a:\n  command: {x: 1,\n\ty: 2}\n",
            "a:\n  b: >-\n    x\n\n    \ty\nc: 1\n",
            "a:\n  - |\n    x\n    \ty\n",
            "a: 1\n\t\n\t# note\nb: x | y\n",
            "a: \"x # |\"\nb: it's\n",
            "a:\n    command: \"a\n\tb\"\n",
            "a:\n  command: 'it''s\n\tb'\n",
        ] {
            assert!(parse(text).is_ok(), "{text:?}: {:?}", parse(text));
        }
    }

    #[test]
    fn line_of_follows_keys_and_indexes() {
        let root = parse(
            "services:\n  timmy:\n    ports:\n      - \"1:2\"\n      - \"3:4\"\n    restartt: x\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(root.line_of(&["services", "timmy", "restartt"]), Some(6));
        assert_eq!(root.line_of(&["services", "timmy", "ports", "1"]), Some(5));
        assert_eq!(root.line_of(&["services", "timmy"]), Some(2));
        assert_eq!(root.line_of(&["services", "nope"]), None);
        assert_eq!(root.line_of(&[]), None);
    }
}
