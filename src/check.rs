//! Every validation of `.env`, `.env.example` and the compose file stack, as data: a list of
//! findings with file, line, level, message and hint. Pure: the caller reads the files and
//! the environment and passes them in; nothing here prints. No finding ever contains a value
//! from `.env` or from the shell — only key names, line numbers and Compose's own wording.

use std::fmt;

use crate::dotenv::{self, Entry};
use crate::requirements::Requirements;
use crate::secrets;

/// How serious a finding is: errors stop timmy from starting anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
}

/// One problem found by `check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file as displayed, e.g. `.env` or `docker/docker-compose.yml`.
    pub file: String,
    pub line: Option<usize>,
    pub level: Level,
    pub message: String,
    pub hint: Option<String>,
    /// The `.env` key an error is about, when it is about one: the one-line verdict names
    /// these ([`crate::validate::verdict`]), never by reading the message.
    pub key: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Everything `check` looks at.
pub struct Input<'a> {
    /// Display name of the env file, e.g. `.env`.
    pub env_file: &'a str,
    /// The env file's text; `None` when it does not exist.
    pub env_text: Option<&'a str>,
    /// Unix permission bits of the env file, when known.
    pub env_mode: Option<u32>,
    /// `.env.example`'s text, `None` when absent.
    pub example_text: Option<&'a str>,
    /// (display name, text) of each compose file of the selected stack.
    pub compose_files: &'a [(String, String)],
    /// The same for the project's other environment files: `.env` is shared by every
    /// environment, so they type its variables too (`TIMMY_DEBUG_PORT=0` is fine for `check
    /// prod` because the dev file publishes it). Only read for types.
    pub other_compose_files: &'a [(String, String)],
    /// The calling shell environment.
    pub shell: &'a dyn Fn(&str) -> Option<String>,
    /// `docker/.env` exists beside the root `.env`.
    pub docker_dir_env_exists: bool,
    /// The environment judged, for the requirements `.env.example` declares per environment
    /// (see [`crate::requirements`]); `None` judges as if every key were required.
    pub stack_env: Option<&'a str>,
}

/// Which keys the judged environment needs.
struct Needs<'a> {
    reqs: Requirements,
    env: Option<&'a str>,
}

const EXAMPLE_FILE: &str = ".env.example";

/// Runs every check. Findings are sorted: errors first, then warnings, each by file and line.
#[must_use]
pub fn check(input: &Input) -> Vec<Finding> {
    check_with(input, None)
}

/// [`check`], with what `.env` alone gives worked out already when `shared` is given.
#[must_use]
pub fn check_with(input: &Input, shared: Option<&Shared>) -> Vec<Finding> {
    let mut out = Findings::default();
    let env = input.env_file;

    if input.docker_dir_env_exists {
        out.warn(
            "docker/.env",
            None,
            "exists beside the root .env: Compose reads it when run by hand from docker/, timmy uses the root .env".to_owned(),
            Some(format!("move its settings into {env} and delete docker/.env")),
        );
    }

    let trees = check_compose_yaml(&mut out, input.compose_files);

    if input.env_text.is_none() {
        let hint = if input.example_text.is_some() {
            format!("cp {EXAMPLE_FILE} {env}")
        } else {
            format!("create {env} with the variables the compose files need")
        };
        out.error(env, None, "missing".to_owned(), Some(hint));
        return out.sorted();
    }

    let owned;
    let shared = if let Some(shared) = shared {
        shared
    } else {
        owned = Shared::new(input);
        &owned
    };
    check_mode(&mut out, env, input.env_mode);
    out.0.extend(shared.text_shape.iter().cloned());
    let needs = requirements(&mut out, input);
    let entries = match &shared.entries {
        Some(Ok(entries)) => entries,
        Some(Err(e)) => {
            out.error(env, Some(e.line), e.safe_message(), Some(e.safe_hint()));
            return out.sorted();
        }
        None => return out.sorted(),
    };

    check_entries(&mut out, env, entries, &shared.per_entry, &needs);
    out.0.extend(shared.control_characters.iter().cloned());
    check_types(&mut out, input, entries, &shared.last, &trees);
    out.0
        .extend(crate::swarm::env_findings(env, entries, input.shell));
    out.0.extend(shared.bare_lines.iter().cloned());
    check_example(&mut out, input, entries, &shared.last, &needs);
    out.0.extend(shared.typos.iter().cloned());
    check_compose_refs(&mut out, input, entries, &shared.last);
    out.sorted()
}

/// What [`check`] works out from `.env` (and `.env.example`'s keys) alone, the same whichever
/// environment is judged: built once when several are (a bare `timmy check` judges each
/// environment, and a 10,000-line `.env` costs milliseconds to read). It reads only the
/// `.env` text, `.env.example`, the shell and the env file name of its input, and is only
/// valid with inputs that have the same.
#[derive(Default)]
pub struct Shared {
    /// BOM, CRLF and the final newline.
    text_shape: Vec<Finding>,
    /// `.env` as read (`None` without one).
    entries: Option<Result<Vec<Entry>, dotenv::ParseError>>,
    /// For each entry: its findings that do not depend on the environment, and whether its
    /// value is a placeholder (an error or a warning, by the environment's requirements).
    per_entry: Vec<(Vec<Finding>, bool)>,
    /// Each key's last definition, by key.
    last: LastByKey,
    control_characters: Vec<Finding>,
    bare_lines: Vec<Finding>,
    typos: Vec<Finding>,
}

impl Shared {
    #[must_use]
    pub fn new(input: &Input) -> Self {
        let Some(text) = input.env_text else {
            return Self::default();
        };
        let env = input.env_file;
        let mut text_shape = Findings::default();
        check_text_shape(&mut text_shape, env, text);
        let entries = match dotenv::parse(text, input.shell) {
            Ok(entries) => entries,
            Err(e) => {
                return Self {
                    text_shape: text_shape.0,
                    entries: Some(Err(e)),
                    ..Self::default()
                };
            }
        };
        let mut control_characters = Findings::default();
        check_control_characters(&mut control_characters, env, &entries);
        let mut bare_lines = Findings::default();
        check_bare_lines(&mut bare_lines, env, text, input.shell);
        let mut typos = Findings::default();
        check_typos(&mut typos, input, &entries);
        Self {
            text_shape: text_shape.0,
            control_characters: control_characters.0,
            per_entry: entry_findings(env, &entries, input.shell),
            last: LastByKey::new(&entries),
            bare_lines: bare_lines.0,
            typos: typos.0,
            entries: Some(Ok(entries)),
        }
    }
}

#[derive(Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn push(
        &mut self,
        level: Level,
        file: &str,
        line: Option<usize>,
        message: String,
        hint: Option<String>,
    ) {
        self.0.push(Finding {
            file: file.to_owned(),
            line,
            level,
            message,
            hint,
            key: None,
        });
    }
    fn error(&mut self, file: &str, line: Option<usize>, message: String, hint: Option<String>) {
        self.push(Level::Error, file, line, message, hint);
    }
    /// An error about the `.env` key `key`.
    fn error_about(
        &mut self,
        key: &str,
        file: &str,
        line: Option<usize>,
        message: String,
        hint: Option<String>,
    ) {
        self.error(file, line, message, hint);
        if let Some(last) = self.0.last_mut() {
            last.key = Some(key.to_owned());
        }
    }
    fn warn(&mut self, file: &str, line: Option<usize>, message: String, hint: Option<String>) {
        self.push(Level::Warning, file, line, message, hint);
    }
    fn sorted(mut self) -> Vec<Finding> {
        self.0.sort_by(|a, b| {
            (a.level, &a.file, a.line.unwrap_or(0)).cmp(&(b.level, &b.file, b.line.unwrap_or(0)))
        });
        self.0
    }
}

/// The `#:` directives of `.env.example`; one it cannot read is an error on its line.
fn requirements<'a>(out: &mut Findings, input: &Input<'a>) -> Needs<'a> {
    let (reqs, errors) = input
        .example_text
        .map(Requirements::parse)
        .unwrap_or_default();
    for e in errors {
        out.error(EXAMPLE_FILE, Some(e.line), e.message, Some(e.hint));
    }
    Needs {
        reqs,
        env: input.stack_env,
    }
}

impl Needs<'_> {
    /// A warning instead of an error for a key this environment can run without.
    fn relaxed(&self, env_file: &str, key: &str, what: &str) -> Option<(String, Option<String>)> {
        let missing = self.reqs.relaxed(key, self.env)?;
        let stack = self.env.unwrap_or("this");
        let needed_in = self.reqs.needed_in(key).unwrap_or_default();
        Some((
            format!("{key} {what}: {missing}"),
            Some(format!(
                "the {stack} stack starts without it; {needed_in} needs the real value of {key} in {env_file}"
            )),
        ))
    }
}

fn check_mode(out: &mut Findings, env: &str, mode: Option<u32>) {
    let Some(mode) = mode else { return };
    let hint = Some(format!("chmod 600 {env}"));
    if mode & 0o002 != 0 {
        out.error(
            env,
            None,
            "is writable by every user on this machine".to_owned(),
            hint,
        );
    } else if mode & 0o077 != 0 {
        out.warn(
            env,
            None,
            "is readable by other users (it holds secrets)".to_owned(),
            hint,
        );
    }
}

/// BOM, CRLF and the final newline: read from the text itself.
fn check_text_shape(out: &mut Findings, env: &str, text: &str) {
    if text.starts_with('\u{feff}') {
        out.warn(
            env,
            Some(1),
            "starts with a UTF-8 byte order mark; Compose ignores it, other tools may not"
                .to_owned(),
            Some("save the file as UTF-8 without BOM".to_owned()),
        );
    }
    // A `\r` is found by memchr, where a search for the pair compares at every byte.
    let crlf = text
        .match_indices('\r')
        .map(|(at, _)| at)
        .find(|&at| text.as_bytes().get(at + 1) == Some(&b'\n'));
    if let Some(at) = crlf {
        let line = text[..at].matches('\n').count() + 1;
        out.warn(
            env,
            Some(line),
            "has Windows (CRLF) line endings".to_owned(),
            Some(format!("convert it: sed -i 's/\\r$//' {env}")),
        );
    }
    if !text.is_empty() && !text.ends_with('\n') {
        let line = text.matches('\n').count() + 1;
        out.warn(
            env,
            Some(line),
            "does not end with a newline".to_owned(),
            Some("add a newline at the end of the file".to_owned()),
        );
    }
}

fn is_plain_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_uppercase())
        && chars.all(|c| c == '_' || c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// The entries that define each key last (the value Compose uses), sorted by key: built once
/// for every environment, looked up by binary search.
#[derive(Default)]
struct LastByKey(Vec<usize>);

impl LastByKey {
    fn new(entries: &[Entry]) -> Self {
        // By key, the last definition first; then one per key. The keys stand beside their
        // index while sorting, not behind it.
        let mut order: Vec<(&str, usize)> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.key.as_str(), i))
            .collect();
        order.sort_unstable_by(|a, b| a.0.cmp(b.0).then(b.1.cmp(&a.1)));
        order.dedup_by(|a, b| a.0 == b.0);
        Self(order.into_iter().map(|(_, i)| i).collect())
    }

    fn get<'e>(&self, entries: &'e [Entry], key: &str) -> Option<&'e Entry> {
        self.0
            .binary_search_by(|&i| entries[i].key.as_str().cmp(key))
            .ok()
            .map(|at| &entries[self.0[at]])
    }

    /// Every key, sorted.
    fn keys<'e>(&self, entries: &'e [Entry]) -> impl Iterator<Item = &'e str> {
        self.0.iter().map(|&i| entries[i].key.as_str())
    }
}

/// Each entry's findings with its placeholder judged by the environment's requirements.
fn check_entries(
    out: &mut Findings,
    env: &str,
    entries: &[Entry],
    per_entry: &[(Vec<Finding>, bool)],
    needs: &Needs,
) {
    for (e, (found, placeholder)) in entries.iter().zip(per_entry) {
        out.0.extend(found.iter().cloned());
        if !placeholder {
            continue;
        }
        let (key, line) = (&e.key, Some(e.line));
        if let Some((message, hint)) = needs.relaxed(env, key, "is a placeholder") {
            out.warn(env, line, message, hint);
            continue;
        }
        let message = format!("{key} holds a placeholder, not a real value");
        let hint = Some(format!("put the real value of {key} in {env}"));
        if secrets::is_secret_key(key) || needs.reqs.declared_in(key, needs.env) {
            out.error_about(key, env, line, message, hint);
        } else {
            out.warn(env, line, message, hint);
        }
    }
}

mod entries;
mod files;
mod typos;

use entries::{check_bare_lines, check_control_characters, entry_findings};
use files::{check_compose_refs, check_compose_yaml, check_example, check_types};
use typos::check_typos;

#[cfg(test)]
mod tests;
