//! Every validation of `.env`, `.env.example` and the compose file stack, as data: a list of
//! findings with file, line, level, message and hint. Pure: the caller reads the files and
//! the environment and passes them in; nothing here prints. No finding ever contains a value
//! from `.env` or from the shell — only key names, line numbers and Compose's own wording.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::dotenv::{self, Entry, Quote, RefKind};
use crate::requirements::Requirements;
use crate::secrets;
use crate::types;

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
    if let Some(at) = text.find("\r\n") {
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
        let mut order: Vec<usize> = (0..entries.len()).collect();
        // By key, the last definition first; then one per key.
        order.sort_unstable_by(|&a, &b| entries[a].key.cmp(&entries[b].key).then(b.cmp(&a)));
        order.dedup_by(|a, b| entries[*a].key == entries[*b].key);
        Self(order)
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

/// For each entry, in order: the findings that do not depend on the environment, and whether
/// its value is a placeholder ([`check_entries`] judges that).
fn entry_findings(
    env: &str,
    entries: &[Entry],
    shell: &dyn Fn(&str) -> Option<String>,
) -> Vec<(Vec<Finding>, bool)> {
    let mut per_entry = Vec::with_capacity(entries.len());
    let mut last_line: HashMap<&str, usize> = HashMap::with_capacity(entries.len());
    for e in entries {
        last_line.insert(&e.key, e.line);
    }
    let mut reported_shadow = HashSet::new();
    for e in entries {
        let mut out = Findings::default();
        let out = &mut out;
        let key = &e.key;
        let line = Some(e.line);
        if e.separator.is_some() && secrets::looks_like_pasted_data(key, &e.value) {
            // Every other finding would name the key, which may be the secret itself.
            out.warn(
                env,
                line,
                "looks like a pasted value (a token or base64 text), not KEY=value: Compose reads the text before `=` as a variable name".to_owned(),
                Some("put the value after its name on one line (NAME=value), or remove the line".to_owned()),
            );
            per_entry.push((std::mem::take(&mut out.0), false));
            continue;
        }
        if let Some(&last) = last_line.get(key.as_str())
            && last != e.line
        {
            out.warn(
                env,
                line,
                format!("{key} is defined again on line {last}; the last one (line {last}) wins"),
                Some("keep a single definition".to_owned()),
            );
        }
        check_key_name(out, env, e);
        if e.quote != Quote::Single && !e.missing.is_empty() {
            out.warn(
                env,
                line,
                format!(
                    "the value of {key} contains `$` followed by a name that is not set; Compose replaces it with an empty string"
                ),
                Some("put the value in single quotes, or write `$$` for a literal `$`".to_owned()),
            );
        }
        if e.quote == Quote::None && e.raw.contains("\t#") {
            out.warn(
                env,
                line,
                format!("the value of {key} has a tab before `#`: Compose keeps the `#` and what follows as part of the value"),
                Some("only ` #` (space, hash) starts a comment; quote the value or use a space".to_owned()),
            );
        }
        if e.quote == Quote::None && e.raw.starts_with('#') {
            out.warn(
                env,
                line,
                format!("the value of {key} starts with `#`: Compose reads it as the value, not as a comment"),
                Some(format!("write {key}= on its own line and put the comment on the line above")),
            );
        }
        if matches!(
            key.as_str(),
            "COMPOSE_PROJECT_NAME" | "COMPOSE_FILE" | "COMPOSE_PROFILES"
        ) {
            out.warn(
                env,
                line,
                format!(
                    "{key} changes what Compose does; timmy passes its own -p/-f and ignores it"
                ),
                Some(format!("remove {key} from {env}")),
            );
        }
        if !e.inherited
            && let Some(shell_value) = shell(key)
            && shell_value != e.value
            && reported_shadow.insert(key.clone())
        {
            out.warn(
                env,
                line,
                format!("{key} is also set in your shell with a different value; Compose uses the shell's"),
                Some(format!("unset {key} in your shell, or remove it from {env}")),
            );
        }
        let is_last = last_line.get(key.as_str()) == Some(&e.line);
        if is_last && let Some(problem) = secrets::token_shape_problem(key, &e.value) {
            out.warn(env, line, problem, None);
        } else if is_last {
            secret_under_plain_key(out, env, e);
        }
        let placeholder = is_last && !e.inherited && secrets::is_placeholder(&e.value);
        per_entry.push((std::mem::take(&mut out.0), placeholder));
    }
    per_entry
}

/// A value shaped like a secret (a token, a webhook URL, an `Authorization` credential, a
/// random string) under a key that does not say it is secret. A password inside a URL is the
/// usual `DATABASE_URL`, not worth a warning. The value is never named.
fn secret_under_plain_key(out: &mut Findings, env: &str, e: &Entry) {
    if let Some(kind) = secrets::secret_kind(&e.value)
        && kind != "a URL with a password"
        && !secrets::is_secret_key(&e.key)
    {
        out.warn(
            env,
            Some(e.line),
            format!(
                "{} holds what looks like {kind}, but its name does not say it is secret",
                e.key
            ),
            Some("timmy masks it by its value; a name ending in _TOKEN, _KEY, _SECRET or _PASSWORD tells every tool it is secret".to_owned()),
        );
    }
}

/// A `KEY` line without `=`: Compose copies the value from the shell that runs it, or leaves
/// the key out when the shell has none — easy to mistake for "set to empty".
fn check_bare_lines(
    out: &mut Findings,
    env: &str,
    text: &str,
    shell: &dyn Fn(&str) -> Option<String>,
) {
    // Parsed once more with every unset name read as empty, so that each bare line yields an
    // entry (the real parse drops those the shell does not set). An error here was already
    // reported by the real parse.
    let maybe_bare = text.lines().any(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with('#') && !l.contains(['=', ':'])
    });
    if !maybe_bare {
        return;
    }
    let Ok(entries) = dotenv::parse(text, &|k| shell(k).or_else(|| Some(String::new()))) else {
        return;
    };
    for e in entries.iter().filter(|e| e.inherited && !e.key.is_empty()) {
        let subject = if secrets::looks_like_pasted_data(&e.key, "") {
            "this line".to_owned()
        } else {
            e.key.clone()
        };
        let message = if shell(&e.key).is_some() {
            format!(
                "{subject} has no `=`: Compose takes the value from the shell that runs it, not from {env}"
            )
        } else {
            format!("{subject} has no `=` and is not set in your shell: Compose leaves it out")
        };
        out.warn(
            env,
            Some(e.line),
            message,
            Some(
                "write NAME=value to set it here (NAME= for empty), or delete the line".to_owned(),
            ),
        );
    }
}

/// Keys of `.env` that are not in `.env.example` (set or commented out) but one or two
/// letters away from a key that is: `GITHUB_TOKNE` is read by nobody.
fn check_typos(out: &mut Findings, input: &Input, entries: &[Entry]) {
    let Some(example) = input.example_text else {
        return;
    };
    let known = example_keys(example);
    let names: Vec<Name> = known.iter().map(|k| Name::new(k)).collect();
    let mut reported = HashSet::new();
    for e in entries {
        if e.key.is_empty()
            || known.contains(&e.key)
            || secrets::looks_like_pasted_data(&e.key, &e.value)
            || !reported.insert(e.key.as_str())
        {
            continue;
        }
        // Also when .env sets the near name too: a fresh .env keeps the example's placeholder
        // under the right name while the real value goes in under the misspelt one.
        let key = Name::new(&e.key);
        let near = names
            .iter()
            .filter(|k| key.is_likely_typo_of(k))
            .min_by_key(|k| edit_distance(&key.upper, &k.upper))
            .map(|k| k.upper.as_str());
        if let Some(near) = near {
            out.warn(
                input.env_file,
                Some(e.line),
                format!("{} is not in {EXAMPLE_FILE}: did you mean {near}?", e.key),
                Some(format!("rename it to {near}; nothing reads {}", e.key)),
            );
        }
    }
}

/// Keys `.env.example` sets, and those it shows commented out (`#REDIS_HOST=redis`).
fn example_keys(example: &str) -> Vec<String> {
    example
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let line = line.strip_prefix('#').unwrap_or(line).trim_start();
            let line = line.strip_prefix("export ").unwrap_or(line);
            let (key, _) = line.split_once('=')?;
            is_plain_key(key).then(|| key.to_owned())
        })
        .collect()
}

/// One edit (two for names of 8 characters or more), counting a swap of neighbours as one:
/// close enough to be a slip, far enough that `REDIS_PORT` is not `REDIS_HOST`.
#[cfg(test)]
fn is_likely_typo(key: &str, known: &str) -> bool {
    Name::new(key).is_likely_typo_of(&Name::new(known))
}

/// A key name as the typo check compares it: upper-cased, its length in characters, and how
/// often each character occurs (ASCII by code, anything else in one bucket). One edit changes
/// those counts by at most 2 in all, so two names whose counts differ by more than twice the
/// allowed edits cannot be that close: most unrelated names (a 10,000-line `.env`) are
/// dismissed here, without the distance table.
struct Name {
    upper: String,
    len: usize,
    counts: [u16; 128],
    /// Which buckets of `counts` are not zero: a bucket only one name uses adds at least 1 to
    /// the difference, so this dismisses most pairs before the counts are compared.
    present: u128,
}

impl Name {
    fn new(key: &str) -> Self {
        let upper = key.to_ascii_uppercase();
        let mut counts = [0u16; 128];
        let mut present = 0u128;
        let mut len = 0;
        for c in upper.chars() {
            let bucket = usize::try_from(u32::from(c)).map_or(127, |b| b.min(127));
            counts[bucket] = counts[bucket].saturating_add(1);
            present |= 1 << bucket;
            len += 1;
        }
        Self {
            upper,
            len,
            counts,
            present,
        }
    }

    /// See [`edit_distance`]: one edit, two for names of 8 characters or more.
    fn is_likely_typo_of(&self, known: &Name) -> bool {
        if known.len < 4 {
            return false;
        }
        let allowed = if known.len >= 8 { 2 } else { 1 };
        if self.len.abs_diff(known.len) > allowed
            || (self.present ^ known.present).count_ones() as usize > 2 * allowed
        {
            return false;
        }
        let apart: usize = self
            .counts
            .iter()
            .zip(&known.counts)
            .map(|(a, b)| usize::from(a.abs_diff(*b)))
            .sum();
        apart <= 2 * allowed && edit_distance_within(&self.upper, &known.upper, allowed)
    }
}

/// [`edit_distance`] ≤ `limit`, stopping at the first row already beyond it: a 100,000-line
/// `.env` of unrelated names then costs a few cells per name, not the whole table.
fn edit_distance_within(a: &str, b: &str, limit: usize) -> bool {
    edit_distance_bounded(a, b, limit) <= limit
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbours each cost 1. Written here (20 lines) rather than a crate for one comparison.
fn edit_distance(a: &str, b: &str) -> usize {
    edit_distance_bounded(a, b, usize::MAX)
}

/// The distance, or some value above `limit` as soon as every cell of a row exceeds it.
fn edit_distance_bounded(a: &str, b: &str, limit: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
        // A swap looks two rows back, so stop only when two rows in a row are beyond limit.
        if i > 1 && d[i].iter().min() > Some(&limit) && d[i - 1].iter().min() > Some(&limit) {
            return limit.saturating_add(1);
        }
    }
    d[a.len()][b.len()]
}

/// Empty, lower-case and odd key names. A name is quoted only when it was written before an
/// `=` (or `:`) and does not look like pasted data (see [`secrets::looks_like_pasted_data`]).
fn check_key_name(out: &mut Findings, env: &str, e: &Entry) {
    let key = &e.key;
    let line = Some(e.line);
    if key.is_empty() {
        let (message, hint) = match e.separator {
            None => (
                "the last line has no `=` and no final newline: Compose reads it as a value with an empty name".to_owned(),
                "write KEY=value, or end the file with a newline".to_owned(),
            ),
            Some(separator) => (
                format!(
                    "no name before `{separator}`: Compose reads it as a variable with an empty name"
                ),
                "write KEY=value".to_owned(),
            ),
        };
        out.warn(env, line, message, Some(hint));
        return;
    }
    if is_plain_key(key) {
        return;
    }
    // Compose's `${NAME}` takes letters of either case, digits and `_`, starting with a
    // letter or `_` (measured: `${log_format}` works); `-`, `.`, `[`, `]`, other letters
    // and a leading digit cannot be written there.
    let (what, referable) = if key.starts_with(|c: char| c.is_ascii_digit()) {
        ("starts with a digit", false)
    } else if key.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) {
        ("is not upper-case", true)
    } else {
        ("contains characters other than A-Z, 0-9 and _", false)
    };
    let subject = if e.separator.is_some() {
        format!("key {key:?}")
    } else {
        "the name on this line".to_owned()
    };
    let message = if referable {
        format!("{subject} {what} (Compose accepts it; .env keys are upper-case by convention)")
    } else {
        format!("{subject} {what}; compose files cannot refer to it as ${{...}}")
    };
    out.warn(
        env,
        line,
        message,
        Some("use names like MY_SETTING".to_owned()),
    );
}

fn check_example(
    out: &mut Findings,
    input: &Input,
    entries: &[Entry],
    last: &LastByKey,
    needs: &Needs,
) {
    let Some(example_text) = input.example_text else {
        return;
    };
    let env = input.env_file;
    let example = match dotenv::parse(example_text, &|_| None) {
        Ok(example) => example,
        Err(e) => {
            out.error(
                EXAMPLE_FILE,
                Some(e.line),
                e.safe_message(),
                Some(e.safe_hint()),
            );
            return;
        }
    };
    let example_lines: HashMap<&str, usize> =
        example.iter().map(|e| (e.key.as_str(), e.line)).collect();
    let mut seen = HashSet::new();
    for ex in dotenv::resolve(&example) {
        let (key, example_value) = ex;
        if key.is_empty() || !seen.insert(key.clone()) {
            continue;
        }
        let example_line = example_lines.get(key.as_str()).copied().unwrap_or(0);
        let line = last.get(entries, &key).map(|e| e.line);
        let from_shell = (input.shell)(&key);
        // The value Compose reads from `.env`: its last definition.
        let from_file = last.get(entries, &key).map(|e| &e.value);
        let effective = from_shell.as_deref().or(from_file.map(String::as_str));
        let relaxed = |what| needs.relaxed(env, &key, what);
        match effective {
            None if let Some((message, hint)) = relaxed("is missing") => {
                out.warn(env, None, message, hint);
            }
            Some("") if let Some((message, hint)) = relaxed("is empty") => {
                out.warn(env, line, message, hint);
            }
            None => out.error_about(
                &key,
                env,
                None,
                format!("{key} is missing (required by {EXAMPLE_FILE})"),
                Some(format!(
                    "{EXAMPLE_FILE}:{example_line} defines {key}; add {key}=... to {env}"
                )),
            ),
            Some("") => out.error_about(
                &key,
                env,
                line,
                format!("{key} is empty (required by {EXAMPLE_FILE})"),
                Some(format!(
                    "{EXAMPLE_FILE}:{example_line} defines {key}; give it a value in {env}"
                )),
            ),
            // A non-secret value equal to the example's is usually the intended default
            // (`LOG_LEVEL=info`): warning about it would teach people to ignore warnings.
            // A secret equal to the example's is never real.
            Some(_) => {
                let same_as_example = from_shell.is_none()
                    && !example_value.is_empty()
                    && from_file == Some(&example_value)
                    && !secrets::is_placeholder(&example_value);
                if same_as_example
                    && secrets::is_secret_key(&key)
                    && let Some((message, hint)) = relaxed("still has the value from .env.example")
                {
                    out.warn(env, line, message, hint);
                } else if same_as_example && secrets::is_secret_key(&key) {
                    out.error_about(
                        &key,
                        env,
                        line,
                        format!("{key} still has the value from {EXAMPLE_FILE}"),
                        Some(format!(
                            "{EXAMPLE_FILE}:{example_line} is only an example; set the real value of {key} in {env}"
                        )),
                    );
                }
            }
        }
    }
}

/// Each compose file through the YAML parser: a syntax error or a repeated key is reported
/// with its file and line here, before Compose reports it as `yaml: line N` with no file name.
/// Returns the files that parsed, as trees, for the checks that read them.
fn check_compose_yaml(
    out: &mut Findings,
    compose_files: &[(String, String)],
) -> Vec<(String, crate::yaml::Node)> {
    let mut trees = Vec::new();
    for (file, text) in compose_files {
        match crate::yaml::parse(text) {
            Ok(Some(root)) => trees.push((file.clone(), root)),
            Ok(None) => {}
            Err(e) => out.error(
                file,
                Some(e.line),
                e.message,
                Some(format!(
                    "{}; `docker compose -f {file} config` shows Compose's own message",
                    e.hint
                )),
            ),
        }
    }
    trees
}

/// Control characters in values.
fn check_control_characters(out: &mut Findings, env: &str, entries: &[Entry]) {
    for e in entries {
        if let Some(code) = types::control_character(&e.value)
            && !(e.separator.is_some() && secrets::looks_like_pasted_data(&e.key, &e.value))
        {
            out.error_about(
                &e.key,
                env,
                Some(e.line),
                format!("the value of {} contains a control character ({code})", e.key),
                Some("remove it: a NUL or escape character in a value is a copy-and-paste slip, and Docker refuses NUL".to_owned()),
            );
        }
    }
}

/// Typed values ([`types`]). The value checked is the one Compose uses: the shell's when set
/// there, else `.env`'s last definition. An empty value is left alone: `${VAR:-default}`
/// applies the default to it.
fn check_types(
    out: &mut Findings,
    input: &Input,
    entries: &[Entry],
    last: &LastByKey,
    trees: &[(String, crate::yaml::Node)],
) {
    let env = input.env_file;
    let others: Vec<(String, crate::yaml::Node)> = input
        .other_compose_files
        .iter()
        .filter_map(|(file, text)| Some((file.clone(), crate::yaml::parse(text).ok()??)))
        .collect();
    let all: Vec<(String, crate::yaml::Node)> = trees.iter().cloned().chain(others).collect();
    let inferred = types::infer(&all);
    // Every key of `.env` (sorted already) and of the compose files, sorted.
    let mut keys: Vec<&str> = last.keys(entries).collect();
    for key in inferred.keys() {
        if let Err(at) = keys.binary_search(&key.as_str()) {
            keys.insert(at, key);
        }
    }
    let last = |key: &str| last.get(entries, key);
    for key in keys {
        let usage = inferred.get(key);
        let Some(kind) = types::kind_of(key, usage) else {
            continue;
        };
        let from_shell = (input.shell)(key);
        let value = from_shell
            .as_deref()
            .or_else(|| last(key).map(|e| e.value.as_str()));
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            continue;
        };
        if types::fits(kind, value) {
            continue;
        }
        let requirement = types::requirement(key, kind);
        let used = usage.map_or_else(
            || format!("names ending in _PORT hold a port number: fix the value of {key}"),
            |u| format!("{}:{} uses {key} as {}", u.file, u.line, u.slot),
        );
        if from_shell.is_some() {
            let (file, line) = usage.map_or((env, None), |u| (u.file.as_str(), Some(u.line)));
            out.error_about(
                key,
                file,
                line,
                requirement.replacen(" must", " (set in your shell) must", 1),
                Some(format!(
                    "{used}; unset {key} in your shell or fix its value"
                )),
            );
        } else {
            out.error_about(key, env, last(key).map(|e| e.line), requirement, Some(used));
        }
    }
}

fn check_compose_refs(out: &mut Findings, input: &Input, entries: &[Entry], last: &LastByKey) {
    let env = input.env_file;
    // Compose sets COMPOSE_PROJECT_NAME itself from `-p` (measured on 2.26.1: `-p` wins over
    // `.env`), so the env files can name their images after the project.
    let value_of = |name: &str| {
        (input.shell)(name)
            .or_else(|| last.get(entries, name).map(|e| e.value.clone()))
            .or_else(|| (name == "COMPOSE_PROJECT_NAME").then(String::new))
    };
    for (file, text) in input.compose_files {
        let refs = match dotenv::variables(text) {
            Ok(refs) => refs,
            Err((line, e)) => {
                out.error(
                    file,
                    Some(line),
                    e.message,
                    Some("write `$$` for a literal `$`".to_owned()),
                );
                continue;
            }
        };
        let mut reported = HashSet::new();
        for r in refs {
            let value = value_of(&r.name);
            let problem = match r.kind {
                RefKind::Plain if value.is_none() => Some((
                    format!(
                        "{} is not set (Compose would substitute an empty string)",
                        r.name
                    ),
                    format!(
                        "add {}=... to {env}, or write ${{{}:-default}} in {file}",
                        r.name, r.name
                    ),
                )),
                RefKind::Required
                    if value.is_none() || (r.colon && value.as_deref() == Some("")) =>
                {
                    let mut message = format!("required variable {} is missing a value", r.name);
                    if !r.arg.is_empty() && !r.arg.contains('$') {
                        message.push_str(": ");
                        message.push_str(&r.arg);
                    }
                    Some((message, format!("set {} in {env} or in the shell", r.name)))
                }
                _ => None,
            };
            if let Some((message, hint)) = problem
                && reported.insert((r.line, r.name.clone()))
            {
                out.error_about(&r.name, file, Some(r.line), message, Some(hint));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        env: Option<&'static str>,
        mode: Option<u32>,
        example: Option<&'static str>,
        compose: Vec<(String, String)>,
        other: Vec<(String, String)>,
        shell: Vec<(&'static str, &'static str)>,
        docker_env: bool,
        stack_env: Option<&'static str>,
    }

    fn env(text: &'static str) -> Case {
        Case {
            env: Some(text),
            mode: Some(0o600),
            example: None,
            compose: Vec::new(),
            other: Vec::new(),
            shell: Vec::new(),
            docker_env: false,
            stack_env: None,
        }
    }

    impl Case {
        fn example(mut self, text: &'static str) -> Self {
            self.example = Some(text);
            self
        }
        fn compose(mut self, text: &str) -> Self {
            self.compose
                .push(("docker/docker-compose.yml".to_owned(), text.to_owned()));
            self
        }
        fn shell(mut self, key: &'static str, value: &'static str) -> Self {
            self.shell.push((key, value));
            self
        }
        fn mode(mut self, mode: u32) -> Self {
            self.mode = Some(mode);
            self
        }
        fn run(&self) -> Vec<Finding> {
            let shell = |k: &str| {
                self.shell
                    .iter()
                    .find(|(key, _)| *key == k)
                    .map(|(_, v)| (*v).to_owned())
            };
            check(&Input {
                env_file: ".env",
                env_text: self.env,
                env_mode: self.mode,
                example_text: self.example,
                compose_files: &self.compose,
                other_compose_files: &self.other,
                shell: &shell,
                docker_dir_env_exists: self.docker_env,
                stack_env: self.stack_env,
            })
        }
        /// Findings as `E .env:3: message` / `W …` lines.
        fn lines(&self) -> Vec<String> {
            self.run()
                .iter()
                .map(|f| {
                    let level = if f.level == Level::Error { "E" } else { "W" };
                    format!("{level} {f}")
                })
                .collect()
        }
    }

    #[track_caller]
    fn has(case: &Case, expected: &str) {
        let lines = case.lines();
        assert!(
            lines.iter().any(|l| l == expected),
            "missing {expected:?} in {lines:#?}"
        );
    }

    #[track_caller]
    fn clean(case: &Case) {
        let lines = case.lines();
        assert!(lines.is_empty(), "expected no findings, got {lines:#?}");
    }

    #[test]
    fn a_good_env_has_no_findings() {
        clean(
            &env("# settings\nPORT=8081\nDB_PASSWORD='s3cr$t'\n")
                .example("PORT=8080\nDB_PASSWORD=\n")
                .compose("services:\n  a:\n    ports: [\"${PORT}:80\"]\n    environment:\n      P: ${DB_PASSWORD:?}\n      T: ${TAG:-latest}\n"),
        );
    }

    #[test]
    fn missing_env_is_an_error_with_cp_hint() {
        let mut case = env("");
        case.env = None;
        case.example = Some("A=1\n");
        let found = case.run();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].to_string(), ".env: missing");
        assert_eq!(found[0].level, Level::Error);
        assert_eq!(found[0].hint.as_deref(), Some("cp .env.example .env"));
    }

    #[test]
    fn parse_errors_use_composes_line() {
        has(
            &env("A=1\nB=\"open\nC=2\n"),
            "E .env:4: the quote opened on line 2 is never closed (Compose reports the line where the file ends)",
        );
        has(
            &env("A=1\nMY KEY=1\n"),
            "E .env:2: key cannot contain a space",
        );
        has(
            &env("A=1\n\nlol$wut=1\n"),
            "E .env:3: unexpected character '$' in variable name (Compose refuses this file)",
        );
        has(
            &env("A=1\nB=${X:?}\n"),
            "E .env:2: the value of B requires a variable that is not set (`${VAR:?}`)",
        );
        has(
            &env("A=${B\n"),
            "E .env:1: invalid `${...}` in the value of A: Compose refuses this file",
        );
    }

    #[test]
    fn example_keys_must_be_present_and_non_empty() {
        let case = env("A=1\nB=\n").example("# doc\nA=\nB=\nC=\n");
        has(&case, "E .env:2: B is empty (required by .env.example)");
        has(&case, "E .env: C is missing (required by .env.example)");
        let found = case.run();
        let c = found
            .iter()
            .find(|f| f.message.starts_with("C is missing"))
            .expect("C reported");
        assert_eq!(
            c.hint.as_deref(),
            Some(".env.example:4 defines C; add C=... to .env")
        );
        // the shell can provide it
        clean(&env("A=1\nB=2\n").example("A=\nB=\nC=\n").shell("C", "x"));
    }

    #[test]
    fn errors_carry_the_key_they_are_about() {
        #[track_caller]
        fn keys(case: &Case, expected: &[(&str, Option<&str>)]) {
            let found: Vec<(String, Option<String>)> = case
                .run()
                .into_iter()
                .filter(|f| f.level == Level::Error)
                .map(|f| (f.message, f.key))
                .collect();
            let expected: Vec<(String, Option<String>)> = expected
                .iter()
                .map(|(m, k)| ((*m).to_owned(), k.map(str::to_owned)))
                .collect();
            assert_eq!(found, expected);
        }
        keys(
            &env("A=1\nB=\nNAME=ab\0cd\nAPI_TOKEN=example-token\nSECRET_KEY=changeme\n")
                .example("A=\nB=\nC=\nAPI_TOKEN=example-token\nSECRET_KEY=\n"),
            &[
                ("C is missing (required by .env.example)", Some("C")),
                ("B is empty (required by .env.example)", Some("B")),
                (
                    "the value of NAME contains a control character (U+0000)",
                    Some("NAME"),
                ),
                (
                    "API_TOKEN still has the value from .env.example",
                    Some("API_TOKEN"),
                ),
                (
                    "SECRET_KEY holds a placeholder, not a real value",
                    Some("SECRET_KEY"),
                ),
            ],
        );
        keys(
            &env("REDIS_PORT=x\n").compose(
                "services:\n  a:\n    image: ${IMG:?}\n    ports: [\"${REDIS_PORT}:6379\"]\n",
            ),
            &[
                (
                    "REDIS_PORT must be a port number 1–65535 (0 picks a free one)",
                    Some("REDIS_PORT"),
                ),
                ("required variable IMG is missing a value", Some("IMG")),
            ],
        );
        keys(
            &env("A=${B\n"),
            &[(
                "invalid `${...}` in the value of A: Compose refuses this file",
                None,
            )],
        );
    }

    #[test]
    fn example_values_and_placeholders() {
        let case =
            env("API_TOKEN=example-token\nHOST=example.org\nSECRET_KEY=changeme\nNAME=TODO\n")
                .example("API_TOKEN=example-token\nHOST=example.org\nSECRET_KEY=\nNAME=\n");
        has(
            &case,
            "E .env:1: API_TOKEN still has the value from .env.example",
        );
        assert!(
            !case.lines().iter().any(|l| l.contains("HOST")),
            "a non-secret default copied from .env.example is fine: {:#?}",
            case.lines()
        );
        has(
            &case,
            "E .env:3: SECRET_KEY holds a placeholder, not a real value",
        );
        has(
            &case,
            "W .env:4: NAME holds a placeholder, not a real value",
        );
        // placeholders are caught without an example too
        has(
            &env("GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxx\n"),
            "E .env:1: GITHUB_TOKEN holds a placeholder, not a real value",
        );
    }

    #[test]
    fn compose_plain_and_required_references() {
        let case = env("SET=1\nEMPTY=\n").compose(
            "services:\n  a:\n    image: x:${TAG}\n    environment:\n      A: ${SET}\n      B: ${NEED:?set NEED please}\n      C: ${EMPTY:?}\n      D: ${EMPTY?}\n      E: ${OPT:-x}${ALT:+y}\n      F: $$LITERAL\n",
        );
        let lines = case.lines();
        assert_eq!(
            lines,
            [
                "E docker/docker-compose.yml:3: TAG is not set (Compose would substitute an empty string)",
                "E docker/docker-compose.yml:6: required variable NEED is missing a value: set NEED please",
                "E docker/docker-compose.yml:7: required variable EMPTY is missing a value",
            ]
        );
        // the shell counts as set
        clean(&env("A=1\n").compose("x: ${TAG}\n").shell("TAG", "v1"));
        clean(&env("A=1\n").compose("image: ${COMPOSE_PROJECT_NAME}-timmy:dev\n"));
        has(
            &env("A=1\n").compose("x: 1\ny: ${BROKEN\n"),
            "E docker/docker-compose.yml:2: Invalid template: \"y: ${BROKEN\"",
        );
    }

    #[test]
    fn tab_indented_compose_file_is_an_error_even_without_env() {
        let mut case = env("A=1\n").compose("services:\n  a:\n\timage: x\n");
        has(
            &case,
            "E docker/docker-compose.yml:3: not valid YAML: a tab where indentation is expected",
        );
        case.env = None;
        has(
            &case,
            "E docker/docker-compose.yml:3: not valid YAML: a tab where indentation is expected",
        );
    }

    const TYPED_COMPOSE: &str = "services:\n  timmy:\n    ports:\n      - \"127.0.0.1:${TIMMY_PORT:-3000}:3000\"\n    environment:\n      REDIS_PORT: ${REDIS_PORT:-6379}\n    logging:\n      options:\n        max-file: \"${LOG_MAX_FILE:-3}\"\n        max-size: ${LOG_MAX_SIZE:-10m}\n    deploy:\n      resources:\n        limits:\n          cpus: \"${TIMMY_CPU_LIMIT:-2}\"\n";

    #[test]
    fn typed_values_are_errors_with_the_place_that_types_them() {
        let case = env("A=1\nTIMMY_PORT=99999\nREDIS_PORT=sixthousand\nLOG_MAX_FILE=0\nLOG_MAX_SIZE=lots\nTIMMY_CPU_LIMIT=two\n")
            .compose(TYPED_COMPOSE);
        assert_eq!(
            case.lines(),
            [
                "E .env:2: TIMMY_PORT must be a port number 1–65535 (0 picks a free one)",
                "E .env:3: REDIS_PORT must be a port number 1–65535",
                "E .env:4: LOG_MAX_FILE must be a whole number, 1 or more",
                "E .env:5: LOG_MAX_SIZE must be a size such as 512m or 4g (a number, then b, k, m, g, t or p)",
                "E .env:6: TIMMY_CPU_LIMIT must be a number of CPUs such as 2 or 0.5",
            ]
        );
        let hints: Vec<String> = case.run().into_iter().filter_map(|f| f.hint).collect();
        assert_eq!(
            hints,
            [
                "docker/docker-compose.yml:4 uses TIMMY_PORT as a published host port",
                "names ending in _PORT hold a port number: fix the value of REDIS_PORT",
                "docker/docker-compose.yml:9 uses LOG_MAX_FILE as `max-file`",
                "docker/docker-compose.yml:10 uses LOG_MAX_SIZE as `max-size`",
                "docker/docker-compose.yml:14 uses TIMMY_CPU_LIMIT as `cpus`",
            ]
        );
        clean(
            &env("TIMMY_PORT=0\nREDIS_PORT=6379\nLOG_MAX_FILE=3\nLOG_MAX_SIZE=10m\nTIMMY_CPU_LIMIT=0.5\nOTHER_PORT=\n")
                .compose(TYPED_COMPOSE),
        );
        // Another environment's file types the shared .env too: the prod stack does not
        // publish TIMMY_DEBUG_PORT, the dev stack does, so 0 is fine for `check prod`.
        let mut prod = env("TIMMY_DEBUG_PORT=0\n").compose("services:\n  timmy:\n    image: x\n");
        prod.other.push((
            "docker/docker-compose.dev.yml".to_owned(),
            "services:\n  timmy:\n    ports: [\"127.0.0.1:${TIMMY_DEBUG_PORT:-9229}:9229\"]\n"
                .to_owned(),
        ));
        clean(&prod);
        prod.other.clear();
        has(
            &prod,
            "E .env:1: TIMMY_DEBUG_PORT must be a port number 1–65535",
        );
        // Without a compose file using it, a port variable may not be 0.
        has(
            &env("REDIS_PORT=0\n"),
            "E .env:1: REDIS_PORT must be a port number 1–65535",
        );
        // The last definition is the one Compose uses.
        assert_eq!(
            env("TIMMY_PORT=x\nTIMMY_PORT=3000\n")
                .compose(TYPED_COMPOSE)
                .lines(),
            ["W .env:1: TIMMY_PORT is defined again on line 2; the last one (line 2) wins"]
        );
    }

    #[test]
    fn a_typed_value_from_the_shell_names_where_it_is_used() {
        let case = env("TIMMY_PORT=3000\n")
            .compose(TYPED_COMPOSE)
            .shell("TIMMY_PORT", "99999");
        assert_eq!(
            case.run()
                .iter()
                .filter(|f| f.level == Level::Error)
                .map(|f| format!("{f} / {}", f.hint.as_deref().unwrap_or("")))
                .collect::<Vec<_>>(),
            [
                "docker/docker-compose.yml:4: TIMMY_PORT (set in your shell) must be a port number 1–65535 (0 picks a free one) / docker/docker-compose.yml:4 uses TIMMY_PORT as a published host port; unset TIMMY_PORT in your shell or fix its value"
            ]
        );
        // A variable the compose files use but .env does not set is checked in the shell too.
        has(
            &env("A=1\n")
                .compose(TYPED_COMPOSE)
                .shell("LOG_MAX_SIZE", "huge"),
            "E docker/docker-compose.yml:10: LOG_MAX_SIZE (set in your shell) must be a size such as 512m or 4g (a number, then b, k, m, g, t or p)",
        );
    }

    #[test]
    fn control_characters_in_values() {
        has(
            &env("A=1\nNAME=ab\0cd\n"),
            "E .env:2: the value of NAME contains a control character (U+0000)",
        );
        has(
            &env("NAME=\"red\u{1b}[0m\"\n"),
            "E .env:1: the value of NAME contains a control character (U+001B)",
        );
        clean(&env("NAME=\"a\tb\"\nKEY=\"line1\nline2\"\n"));
    }

    #[test]
    fn compose_yaml_errors_name_file_and_line() {
        has(
            &env("A=1\n").compose("services:\n  redis:\n    image: r\n   command: x\n"),
            "E docker/docker-compose.yml:4: not valid YAML: while parsing a block mapping, did not find expected key",
        );
        has(
            &env("A=1\n").compose("services:\n  redis:\n    image: r\n    image: s\n"),
            "E docker/docker-compose.yml:4: `image` is defined twice in the same mapping (first on line 3)",
        );
        clean(&env("A=1\n").compose("services:  # the stack\n  redis: {image: r}\n"));
    }

    const EXAMPLE_WITH_DIRECTIVES: &str = "\
#: required-in=prod  missing=\"calls to OpenAI will fail\"
OPENAI_API_KEY=sk-your_key_here
#: required-in=prod missing=\"no repository to work on\"
GITHUB_REPO=your_org/your_repo
#: required-in=prod
CLICKUP_TEAM_ID=
LOG_LEVEL=info
";

    #[test]
    fn placeholders_of_keys_an_env_does_not_require_are_warnings() {
        let mut case = env("OPENAI_API_KEY=sk-your_key_here\nGITHUB_REPO=your_org/your_repo\nCLICKUP_TEAM_ID=\nLOG_LEVEL=info\n")
            .example(EXAMPLE_WITH_DIRECTIVES);
        case.stack_env = Some("dev");
        assert_eq!(
            case.lines(),
            [
                "W .env:1: OPENAI_API_KEY is a placeholder: calls to OpenAI will fail",
                "W .env:2: GITHUB_REPO is a placeholder: no repository to work on",
                "W .env:3: CLICKUP_TEAM_ID is empty: what needs CLICKUP_TEAM_ID will not work (required in prod)",
            ]
        );
        assert_eq!(
            case.run()[0].hint.as_deref(),
            Some(
                "the dev stack starts without it; prod needs the real value of OPENAI_API_KEY in .env"
            )
        );
        case.stack_env = Some("prod");
        assert_eq!(
            case.lines(),
            [
                "E .env:1: OPENAI_API_KEY holds a placeholder, not a real value",
                "E .env:2: GITHUB_REPO holds a placeholder, not a real value",
                "E .env:3: CLICKUP_TEAM_ID is empty (required by .env.example)",
            ]
        );
        // a key left out of .env: a warning where it is not required
        let mut case = env("LOG_LEVEL=info\nGITHUB_REPO=me/it\nCLICKUP_TEAM_ID=1\n")
            .example(EXAMPLE_WITH_DIRECTIVES);
        case.stack_env = Some("test");
        assert_eq!(
            case.lines(),
            ["W .env: OPENAI_API_KEY is missing: calls to OpenAI will fail"]
        );
        // without directives nothing changes: a secret placeholder is an error in every env
        let mut case = env("OPENAI_API_KEY=sk-your_key_here\n").example("OPENAI_API_KEY=\n");
        case.stack_env = Some("dev");
        has(
            &case,
            "E .env:1: OPENAI_API_KEY holds a placeholder, not a real value",
        );
    }

    #[test]
    fn prod_requires_every_secret_whatever_the_directive() {
        let mut case = env("GITHUB_TOKEN=ghp_your_token_here\n")
            .example("#: required-in=dev\nGITHUB_TOKEN=ghp_your_token_here\n");
        case.stack_env = Some("prod");
        has(
            &case,
            "E .env:1: GITHUB_TOKEN holds a placeholder, not a real value",
        );
        case.stack_env = Some("test");
        has(
            &case,
            "W .env:1: GITHUB_TOKEN is a placeholder: what needs GITHUB_TOKEN will not work (required in dev)",
        );
    }

    #[test]
    fn a_directive_timmy_cannot_read_is_an_error_in_the_example() {
        has(
            &env("A=1\n").example("#: required=prod\nA=\n"),
            "E .env.example:1: unknown directive attribute `required`",
        );
    }

    #[test]
    fn a_bare_key_line_says_where_compose_takes_the_value() {
        has(
            &env("A=1\nLOG_LEVEL\n").shell("LOG_LEVEL", "debug"),
            "W .env:2: LOG_LEVEL has no `=`: Compose takes the value from the shell that runs it, not from .env",
        );
        has(
            &env("A=1\nLOG_LEVEL\n"),
            "W .env:2: LOG_LEVEL has no `=` and is not set in your shell: Compose leaves it out",
        );
        // a pasted token alone on its line is not named
        has(
            &env("A=1\nghpZ8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u\n"),
            "W .env:2: this line has no `=` and is not set in your shell: Compose leaves it out",
        );
        clean(&env("A=1\nB=\n"));
    }

    #[test]
    fn a_key_close_to_one_of_the_example_is_a_likely_typo() {
        let example = "GITHUB_TOKEN=\nLOG_LEVEL=info\n#LOG_MAX_SIZE=10m\nTIMMY_PORT=3000\n";
        let case = env("GITHUB_TOKNE=x\nLOG_LEVEL=info\nLOG_MAX_SZE=1m\nTIMMY_PORT=3000\nREDIS_PORT=1\nMY_OWN=1\n")
            .example(example);
        has(
            &case,
            "W .env:1: GITHUB_TOKNE is not in .env.example: did you mean GITHUB_TOKEN?",
        );
        has(
            &case,
            "W .env:3: LOG_MAX_SZE is not in .env.example: did you mean LOG_MAX_SIZE?",
        );
        let lines = case.lines();
        assert!(
            !lines
                .iter()
                .any(|l| l.contains("REDIS_PORT") || l.contains("MY_OWN")),
            "{lines:#?}"
        );
        assert_eq!(
            case.run()
                .iter()
                .find(|f| f.line == Some(1) && f.level == Level::Warning)
                .and_then(|f| f.hint.clone())
                .as_deref(),
            Some("rename it to GITHUB_TOKEN; nothing reads GITHUB_TOKNE")
        );
        assert_eq!(edit_distance("GITHUB_TOKNE", "GITHUB_TOKEN"), 1);
        assert_eq!(edit_distance("REDIS_PORT", "TIMMY_PORT"), 5);
        assert!(!is_likely_typo("PORT", "HOST"));
    }

    /// Each key's last definition, found by key; the keys come out sorted, once each.
    #[test]
    fn last_by_key_finds_the_last_definition() {
        let entries = dotenv::parse("B=1\nA=2\nB=3\nC=4\nA=5\n", &|_| None).unwrap();
        let last = LastByKey::new(&entries);
        assert_eq!(last.keys(&entries).collect::<Vec<_>>(), ["A", "B", "C"]);
        for (key, value, line) in [("A", "5", 5), ("B", "3", 3), ("C", "4", 4)] {
            let e = last.get(&entries, key).unwrap();
            assert_eq!((e.value.as_str(), e.line), (value, line), "{key}");
        }
        assert!(last.get(&entries, "D").is_none());
    }

    /// The character-count test in front of the distance table keeps every name within the
    /// allowed edits (swap, insertion, deletion, substitutions, lower case) and drops the rest.
    #[test]
    fn typo_prefilter_keeps_every_near_name() {
        for near in [
            "GITHUB_TOKNE",
            "GITHUBB_TOKEN",
            "GITHUB_TOKN",
            "GITHUB_TOKEM",
            "GITHUX_TOKEM",
            "github_token",
            "GITHUB_TOKEN_",
        ] {
            assert!(is_likely_typo(near, "GITHUB_TOKEN"), "{near}");
        }
        for far in ["SETTING_00001", "GITHUX_TOXEM_", "TOKEN_GITHUB", "GH_TOKEN"] {
            assert!(!is_likely_typo(far, "GITHUB_TOKEN"), "{far}");
        }
        assert!(is_likely_typo("REDIS_POTR", "REDIS_PORT"));
        assert!(!is_likely_typo("ÜEDIS_PORT", "REDIS_PORT_X_Y"));
    }

    #[test]
    fn duplicate_keys_say_which_wins() {
        has(
            &env("A=1\nB=2\nA=3\n"),
            "W .env:1: A is defined again on line 3; the last one (line 3) wins",
        );
    }

    #[test]
    fn dollar_in_unquoted_or_double_quoted_value() {
        let msg = "the value of P contains `$` followed by a name that is not set; Compose replaces it with an empty string";
        has(&env("P=pa$word1\n"), &format!("W .env:1: {msg}"));
        has(&env("P=\"pa$word1\"\n"), &format!("W .env:1: {msg}"));
        clean(&env("P='pa$word1'\n"));
        clean(&env("P=pa$$word1\n"));
    }

    #[test]
    fn tab_before_hash_and_value_starting_with_hash() {
        has(
            &env("A=bar\t# c\n"),
            "W .env:1: the value of A has a tab before `#`: Compose keeps the `#` and what follows as part of the value",
        );
        has(
            &env("A=   # note\n"),
            "W .env:1: the value of A starts with `#`: Compose reads it as the value, not as a comment",
        );
        clean(&env("A=bar # c\nB=\"x\t# y\"\n"));
    }

    #[test]
    fn crlf_bom_and_final_newline() {
        has(
            &env("A=1\nB=2\r\n"),
            "W .env:2: has Windows (CRLF) line endings",
        );
        has(
            &env("\u{feff}A=1\n"),
            "W .env:1: starts with a UTF-8 byte order mark; Compose ignores it, other tools may not",
        );
        has(&env("A=1\nB=2"), "W .env:2: does not end with a newline");
        has(
            &env("A=1\nB"),
            "W .env:2: the last line has no `=` and no final newline: Compose reads it as a value with an empty name",
        );
    }

    #[test]
    fn odd_keys() {
        has(
            &env("lower=1\n"),
            "W .env:1: key \"lower\" is not upper-case (Compose accepts it; .env keys are upper-case by convention)",
        );
        has(
            &env("=value\n"),
            "W .env:1: no name before `=`: Compose reads it as a variable with an empty name",
        );
        has(
            &env("lower\n").shell("lower", "x"),
            "W .env:1: the name on this line is not upper-case (Compose accepts it; .env keys are upper-case by convention)",
        );
        has(
            &env("A=1\nc2VjcmV0LXRva2VuLXZhbHVlcw==\n"),
            "W .env:2: looks like a pasted value (a token or base64 text), not KEY=value: Compose reads the text before `=` as a variable name",
        );
        has(
            &env("1ST=1\n"),
            "W .env:1: key \"1ST\" starts with a digit; compose files cannot refer to it as ${...}",
        );
        has(
            &env("A-B=1\n"),
            "W .env:1: key \"A-B\" contains characters other than A-Z, 0-9 and _; compose files cannot refer to it as ${...}",
        );
        clean(&env("_OK_1=1\n"));
    }

    #[test]
    fn shell_shadowing() {
        has(
            &env("A=1\n").shell("A", "2"),
            "W .env:1: A is also set in your shell with a different value; Compose uses the shell's",
        );
        clean(&env("A=1\n").shell("A", "1"));
    }

    #[test]
    fn token_shapes() {
        has(
            &env("GITHUB_TOKEN=gh_not_a_token\n"),
            "W .env:1: GITHUB_TOKEN does not look like a GitHub token: expected it to start with ghp_ or gho_ or ghu_ or ghs_ or ghr_ or github_pat_",
        );
    }

    #[test]
    fn secret_shaped_values_under_plain_keys_warn_without_the_value() {
        let hint = "timmy masks it by its value; a name ending in _TOKEN, _KEY, _SECRET or _PASSWORD tells every tool it is secret";
        let case = env(
            "GH_CLI=ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u\nTIMMY_PORT=xoxb-2748562341-5529301837462-Rk3vPq8ZmW2nLx7TcY4bJd9H\nALERTS=https://hooks.slack.com/services/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\nHEADER=Authorization: Basic dXNlcjpwYXNzd29yZA==\nDATABASE_URL=postgres://app:UrlS3cretPw@db/app\nGITHUB_TOKEN=ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u\nREDIS_IMAGE=redis:7-alpine\n",
        );
        assert_eq!(
            case.lines(),
            [
                // The port's type is checked on its own; the shape warning comes on top.
                "E .env:2: TIMMY_PORT must be a port number 1–65535",
                "W .env:1: GH_CLI holds what looks like a GitHub token, but its name does not say it is secret",
                "W .env:2: TIMMY_PORT holds what looks like a Slack token, but its name does not say it is secret",
                "W .env:3: ALERTS holds what looks like a webhook URL, but its name does not say it is secret",
                "W .env:4: HEADER holds what looks like an Authorization credential, but its name does not say it is secret",
            ]
        );
        let found = case.run();
        assert!(
            found
                .iter()
                .filter(|f| f.level == Level::Warning)
                .all(|f| f.hint.as_deref() == Some(hint))
        );
        for f in &found {
            for piece in [
                "Z8v1XkR3",
                "Rk3vPq8Zm",
                "Xk7pQ2rT9",
                "dXNlcjpw",
                "UrlS3cret",
            ] {
                assert!(!f.to_string().contains(piece), "{f} leaks {piece}");
            }
        }
    }

    #[test]
    fn permissions() {
        let readable = "W .env: is readable by other users (it holds secrets)";
        has(&env("A=1\n").mode(0o644), readable);
        has(&env("A=1\n").mode(0o640), readable);
        has(
            &env("A=1\n").mode(0o666),
            "E .env: is writable by every user on this machine",
        );
        clean(&env("A=1\n").mode(0o600));
        let found = env("A=1\n").mode(0o604).run();
        assert_eq!(found[0].hint.as_deref(), Some("chmod 600 .env"));
    }

    #[test]
    fn docker_dir_env_and_compose_variables() {
        let mut case = env("COMPOSE_PROJECT_NAME=x\nCOMPOSE_FILE=a.yml\nCOMPOSE_PROFILES=p\n");
        case.docker_env = true;
        has(
            &case,
            "W docker/.env: exists beside the root .env: Compose reads it when run by hand from docker/, timmy uses the root .env",
        );
        for (line, key) in [
            (1, "COMPOSE_PROJECT_NAME"),
            (2, "COMPOSE_FILE"),
            (3, "COMPOSE_PROFILES"),
        ] {
            has(
                &case,
                &format!(
                    "W .env:{line}: {key} changes what Compose does; timmy passes its own -p/-f and ignores it"
                ),
            );
        }
    }

    #[test]
    fn sorted_errors_first_then_by_file_and_line() {
        let case = env("b=1\nA=1\nA=2\nGITHUB_TOKEN=changeme\n")
            .mode(0o644)
            .compose("x: ${UNSET}\n");
        let found = case.run();
        let keys: Vec<(Level, String, Option<usize>)> = found
            .iter()
            .map(|f| (f.level, f.file.clone(), f.line))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_by_key(|(level, file, line)| (*level, file.clone(), line.unwrap_or(0)));
        assert_eq!(keys, sorted);
        assert_eq!(found[0].level, Level::Error);
        assert_eq!(found.last().map(|f| f.level), Some(Level::Warning));
    }

    /// Plants secret values in every situation that produces a finding and checks none of
    /// them reaches a message or hint.
    #[test]
    fn no_finding_contains_a_value() {
        let secrets = [
            "hunter2secret",
            "word1zz",
            "S3cretTabby",
            "HashNoteQ",
            "shellSideV4lue",
            "fileSideV4lue",
            "gh_wrongShapeTok",
            "ExampleDefault9",
            "CRLFvalueZ",
            "lastLineNoNl",
            "UGFzdGVkU2VjcmV0VmFsdWU",
            "TypedPortSecret",
            "nulSecret",
        ];
        let text = "\u{feff}DB_PASSWORD=hunter2secret\nPW=pa$word1zz\nTABBY=S3cretTabby\t# x\nNOTE=   #HashNoteQ\nSHADOW=fileSideV4lue\nGITHUB_TOKEN=gh_wrongShapeTok\nAPI_SECRET=ExampleDefault9\nlower=CRLFvalueZ\r\nDB_PASSWORD=hunter2secret\nUGFzdGVkU2VjcmV0VmFsdWU=\nTIMMY_PORT=TypedPortSecret\nNUL=nulSecret\0\nlastLineNoNl";
        let mut case = env(text)
            .example("API_SECRET=ExampleDefault9\nMISSING=\n")
            .shell("SHADOW", "shellSideV4lue")
            .mode(0o666)
            .compose("x: ${NOPE}${REQ:?}\nservices:\n  a:\n    ports: [\"${TIMMY_PORT}:1\"]\n");
        case.docker_env = true;
        let found = case.run();
        assert!(
            found.len() >= 12,
            "too few findings to prove anything: {found:#?}"
        );
        for f in &found {
            let shown = format!("{f} {}", f.hint.as_deref().unwrap_or(""));
            for secret in secrets {
                assert!(!shown.contains(secret), "{secret:?} leaked in {shown:?}");
            }
        }
        // parse errors too: Compose's own message would quote the value
        for bad in [
            "A=1\nPASSWORD=\"hunter2secret\n",
            "PASSWORD=${hunter2secret\n",
            "PASSWORD=\"x\"hunter2secret$\n",
            "PASSWORD=${A:?hunter2secret}\n",
        ] {
            for f in env(bad).run() {
                let shown = format!("{f} {}", f.hint.as_deref().unwrap_or(""));
                assert!(!shown.contains("hunter2secret"), "leaked in {shown:?}");
            }
        }
    }
}
