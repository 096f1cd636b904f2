//! `.env` against the other files: the keys `.env.example` requires, the compose files'
//! YAML, the types their use gives each variable, and the variables they refer to.

use std::collections::{HashMap, HashSet};

use super::{EXAMPLE_FILE, Findings, Input, LastByKey, Needs};
use crate::dotenv::{self, Entry, RefKind};
use crate::secrets;
use crate::types;

pub(super) fn check_example(
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
pub(super) fn check_compose_yaml(
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

/// Typed values ([`types`]). The value checked is the one Compose uses: the shell's when set
/// there, else `.env`'s last definition. An empty value is left alone: `${VAR:-default}`
/// applies the default to it.
pub(super) fn check_types(
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

pub(super) fn check_compose_refs(
    out: &mut Findings,
    input: &Input,
    entries: &[Entry],
    last: &LastByKey,
) {
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
