//! Compose's own verdict on a stack (`docker compose … config --quiet`, read-only, no daemon
//! needed), mapped back to the file and line that hold the offending key. Compose names the file
//! for schema errors but never the line, and names neither for interpolation and decoding
//! errors; several of its messages quote the value (from `.env`, possibly a secret). So nothing
//! of Compose's text is relayed but key names and schema words; a message this module does not
//! know becomes a generic finding that points at `timmy config` (which masks secrets).
//!
//! Measured wording (Compose 2.26.1 and 2.40.3):
//! - `validating /abs/file.yml: services.timmy Additional property restartt is not allowed`
//!   (2.26), `… services.timmy additional properties 'restartt', 'foo' not allowed` (2.40)
//! - `validating /abs/file.yml: services.timmy.ports must be a list` (2.26: `a list`, 2.40:
//!   `a array`)
//! - `error while interpolating services.timmy.tty: failed to cast … invalid boolean: <value>`
//! - `error decoding 'services[timmy].deploy.resources.limits.memory': invalid size: '<value>'`
//! - `service "timmy" depends on undefined service "nope": invalid compose project`

use std::path::Path;

use crate::check::{Finding, Level};
use crate::yaml::{self, Node};

/// Findings from a failed `config --quiet`: `code` and `stderr` as docker returned them,
/// `files` the stack's (display name, text), `root` the project root the display names are
/// relative to. Empty when `code` is 0.
pub fn findings(code: i32, stderr: &str, root: &Path, files: &[(String, String)]) -> Vec<Finding> {
    if code == 0 {
        return Vec::new();
    }
    let trees: Vec<(&str, Option<Node>)> = files
        .iter()
        .map(|(shown, text)| (shown.as_str(), yaml::parse(text).ok().flatten()))
        .collect();
    let mut out = Vec::new();
    for line in stderr.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("validating ") {
            validation(rest, root, &trees, &mut out);
        } else if let Some(rest) = line.strip_prefix("error while interpolating ") {
            if let Some((loc, _)) = rest.split_once(": ") {
                wrong_value(loc, &trees, &mut out);
            }
        } else if let Some(rest) = line.strip_prefix("error decoding '") {
            if let Some((loc, _)) = rest.split_once('\'') {
                wrong_value(&loc.replace('[', ".").replace(']', ""), &trees, &mut out);
            }
        } else if let Some(rest) = line.strip_prefix("service \"")
            && let Some((service, tail)) = rest.split_once('"')
            && tail.starts_with(" depends on undefined service")
        {
            let path = format!("services.{service}.depends_on");
            let (file, line) = locate(&path, &trees);
            out.push(finding(
                file,
                line,
                format!("service `{service}` depends on a service that no compose file of this stack defines"),
                format!("fix `depends_on` of {service}, or define the service it names"),
            ));
        }
    }
    if out.is_empty() {
        let file = trees.first().map_or("docker/docker-compose.yml", |t| t.0);
        out.push(finding(
            file,
            None,
            format!("Compose refuses this stack (`docker compose config` exited with {code}); its message is not shown because it may quote a value from .env"),
            "run `timmy config` to see Compose's message with secrets masked".to_owned(),
        ));
    }
    out
}

/// `/abs/file.yml: LOC MESSAGE`, a schema error in a named file.
fn validation(rest: &str, root: &Path, trees: &[(&str, Option<Node>)], out: &mut Vec<Finding>) {
    let Some((path, detail)) = rest.split_once(": ") else {
        return;
    };
    let Some(&(shown, ref tree)) = trees.iter().find(|(shown, _)| {
        Path::new(path) == root.join(shown) || path.ends_with(&format!("/{shown}"))
    }) else {
        return;
    };
    let (loc, message) = detail.split_once(' ').unwrap_or((detail, ""));
    let parents: Vec<&str> = if loc == "(root)" {
        Vec::new()
    } else {
        loc.split('.').collect()
    };
    let place = if parents.is_empty() {
        "at the top level".to_owned()
    } else {
        format!("in `{loc}`")
    };
    let unknown = unknown_keys(message);
    if !unknown.is_empty() {
        for key in unknown {
            let mut path = parents.clone();
            path.push(&key);
            let line = tree.as_ref().and_then(|t| t.line_of(&path));
            out.push(finding(
                shown,
                line,
                format!("unknown key `{key}` {place} (Compose refuses it)"),
                "check its spelling and indentation against the Compose file reference".to_owned(),
            ));
        }
        return;
    }
    let line = tree.as_ref().and_then(|t| t.line_of(&parents));
    let words = message.strip_prefix("must be ").filter(|w| {
        w.chars()
            .all(|c| c.is_ascii_lowercase() || matches!(c, ' ' | ','))
    });
    let text = match words {
        Some(w) => format!("`{loc}` must be {w} (Compose refuses the file)"),
        None => format!("`{loc}` does not fit Compose's schema"),
    };
    out.push(finding(
        shown,
        line,
        text,
        format!("`docker compose -f {shown} config` shows Compose's own message"),
    ));
}

/// The key names of `Additional property NAME is not allowed` (Compose 2.26) and
/// `additional properties 'A', 'B' not allowed` (2.40).
fn unknown_keys(message: &str) -> Vec<String> {
    if let Some(name) = message
        .strip_prefix("Additional property ")
        .and_then(|m| m.strip_suffix(" is not allowed"))
    {
        return vec![name.to_owned()];
    }
    let Some(list) = message
        .strip_prefix("additional properties ")
        .or_else(|| message.strip_prefix("additional property "))
        .and_then(|m| m.strip_suffix(" not allowed"))
    else {
        return Vec::new();
    };
    list.split(", ")
        .map(|k| k.trim_matches('\'').to_owned())
        .filter(|k| !k.is_empty())
        .collect()
}

/// A value Compose could not use after interpolation: the key is named, the value never.
fn wrong_value(loc: &str, trees: &[(&str, Option<Node>)], out: &mut Vec<Finding>) {
    let (file, line) = locate(loc, trees);
    out.push(finding(
        file,
        line,
        format!("`{loc}` gets a value Compose cannot use"),
        "check the variable it uses in .env (`timmy config` shows the result, secrets masked)"
            .to_owned(),
    ));
}

/// The last file of the stack (the override wins) that holds the dotted `loc`.
fn locate<'a>(loc: &str, trees: &[(&'a str, Option<Node>)]) -> (&'a str, Option<usize>) {
    let path: Vec<&str> = loc.split('.').collect();
    trees
        .iter()
        .rev()
        .find_map(|(shown, tree)| Some((*shown, Some(tree.as_ref()?.line_of(&path)?))))
        .unwrap_or_else(|| {
            (
                trees.first().map_or("docker/docker-compose.yml", |t| t.0),
                None,
            )
        })
}

fn finding(file: &str, line: Option<usize>, message: String, hint: String) -> Finding {
    Finding {
        file: file.to_owned(),
        line,
        level: Level::Error,
        message,
        hint: Some(hint),
        key: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "services:\n  redis:\n    image: r\n  timmy:\n    build: .\n    tty: ${TTY}\n";
    const DEV: &str = "services:\n  timmy:\n    tty: true\n    restartt: always\n    foo: 1\n    deploy:\n      resources:\n        limits:\n          memory: ${MEM}\n    depends_on: [nope]\n";

    #[track_caller]
    fn case(stderr: &str, expected: &[&str]) {
        let files = vec![
            ("docker/docker-compose.yml".to_owned(), BASE.to_owned()),
            ("docker/docker-compose.dev.yml".to_owned(), DEV.to_owned()),
        ];
        let got: Vec<String> = findings(15, stderr, Path::new("/p"), &files)
            .iter()
            .map(|f| format!("{f} / {}", f.hint.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(got, expected, "{stderr}");
    }

    #[test]
    fn unknown_keys_are_located_in_their_file() {
        let hint = "check its spelling and indentation against the Compose file reference";
        case(
            "validating /p/docker/docker-compose.dev.yml: services.timmy Additional property restartt is not allowed\n",
            &[&format!(
                "docker/docker-compose.dev.yml:4: unknown key `restartt` in `services.timmy` (Compose refuses it) / {hint}"
            )],
        );
        case(
            "validating /p/docker/docker-compose.dev.yml: services.timmy additional properties 'restartt', 'foo' not allowed\n",
            &[
                &format!(
                    "docker/docker-compose.dev.yml:4: unknown key `restartt` in `services.timmy` (Compose refuses it) / {hint}"
                ),
                &format!(
                    "docker/docker-compose.dev.yml:5: unknown key `foo` in `services.timmy` (Compose refuses it) / {hint}"
                ),
            ],
        );
        case(
            "validating /p/docker/docker-compose.yml: (root) Additional property services is not allowed\n",
            &[&format!(
                "docker/docker-compose.yml:1: unknown key `services` at the top level (Compose refuses it) / {hint}"
            )],
        );
    }

    #[test]
    fn other_schema_errors_keep_only_schema_words() {
        case(
            "validating /p/docker/docker-compose.dev.yml: services.timmy.tty must be a boolean\n",
            &[
                "docker/docker-compose.dev.yml:3: `services.timmy.tty` must be a boolean (Compose refuses the file) / `docker compose -f docker/docker-compose.dev.yml config` shows Compose's own message",
            ],
        );
        case(
            "validating /p/docker/docker-compose.dev.yml: services.timmy.tty does not match 'hunter2'\n",
            &[
                "docker/docker-compose.dev.yml:3: `services.timmy.tty` does not fit Compose's schema / `docker compose -f docker/docker-compose.dev.yml config` shows Compose's own message",
            ],
        );
    }

    #[test]
    fn value_errors_name_the_key_never_the_value() {
        let hint =
            "check the variable it uses in .env (`timmy config` shows the result, secrets masked)";
        case(
            "error while interpolating services.timmy.tty: failed to cast to expected type: invalid boolean: hunter2\n",
            &[&format!(
                "docker/docker-compose.dev.yml:3: `services.timmy.tty` gets a value Compose cannot use / {hint}"
            )],
        );
        case(
            "decoding failed due to the following error(s):\n\nerror decoding 'services[timmy].deploy.resources.limits.memory': invalid size: 'hunter2'\n",
            &[&format!(
                "docker/docker-compose.dev.yml:9: `services.timmy.deploy.resources.limits.memory` gets a value Compose cannot use / {hint}"
            )],
        );
        case(
            "service \"timmy\" depends on undefined service \"nope\": invalid compose project\n",
            &[
                "docker/docker-compose.dev.yml:10: service `timmy` depends on a service that no compose file of this stack defines / fix `depends_on` of timmy, or define the service it names",
            ],
        );
    }

    #[test]
    fn an_unknown_message_is_not_relayed() {
        case(
            "something new: hunter2\n",
            &[
                "docker/docker-compose.yml: Compose refuses this stack (`docker compose config` exited with 15); its message is not shown because it may quote a value from .env / run `timmy config` to see Compose's message with secrets masked",
            ],
        );
        assert!(findings(0, "warning", Path::new("/p"), &[]).is_empty());
    }
}
