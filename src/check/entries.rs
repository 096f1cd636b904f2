//! What each `.env` entry shows by itself: repeated and odd keys, unset `$` names, values
//! Compose reads differently than they look, shell values that win, token shapes, secrets
//! under plain names, bare `KEY` lines and control characters.

use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};

use super::{Finding, Findings, is_plain_key};
use crate::dotenv::{self, Entry, Quote};
use crate::secrets;
use crate::types;

/// For each entry, in order: the findings that do not depend on the environment, and whether
/// its value is a placeholder ([`check_entries`] judges that).
pub(super) fn entry_findings(
    env: &str,
    entries: &[Entry],
    shell: &dyn Fn(&str) -> Option<String>,
) -> Vec<(Vec<Finding>, bool)> {
    let mut per_entry = Vec::with_capacity(entries.len());
    let mut last_line: FxHashMap<&str, usize> =
        FxHashMap::with_capacity_and_hasher(entries.len(), FxBuildHasher);
    for e in entries {
        last_line.insert(&e.key, e.line);
    }
    let mut reported_shadow = FxHashSet::default();
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
pub(super) fn secret_under_plain_key(out: &mut Findings, env: &str, e: &Entry) {
    // The key first: a value under a secret name is not scanned at all.
    if !secrets::is_secret_key(&e.key)
        && let Some(kind) = secrets::secret_kind(&e.value)
        && kind != "a URL with a password"
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
pub(super) fn check_bare_lines(
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

/// Empty, lower-case and odd key names. A name is quoted only when it was written before an
/// `=` (or `:`) and does not look like pasted data (see [`secrets::looks_like_pasted_data`]).
pub(super) fn check_key_name(out: &mut Findings, env: &str, e: &Entry) {
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

/// Control characters in values.
pub(super) fn check_control_characters(out: &mut Findings, env: &str, entries: &[Entry]) {
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
