//! The types `.env` values must have for the stack to start: ports, counts, CPU numbers, sizes.
//!
//! Where a type comes from: first from where the compose files use the variable, then from its
//! name. A `${VAR}` that is the whole published part of a `ports:` entry is a host port (0 lets
//! Docker pick a free one, as `.env.example` documents for `TIMMY_PORT`); the target part and
//! `expose:` are container ports; `memory`, `mem_limit`, `mem_reservation`, `memswap_limit`,
//! `shm_size` and logging's `max-size` are sizes; `max-file` is a count; `cpus` a CPU number.
//! Reading the compose files (the same YAML tree as everything else, [`crate::yaml`]) means a
//! variable added to them is typed with no change to timmy, and a variable they stop using is
//! no longer held to a type. The name convention `*_PORT` → port covers what the app reads
//! through `env_file:` (`REDIS_PORT`), which the compose files cannot type. Only a `${VAR}`
//! standing alone in its slot is typed: in `${A}${B}` or `${PORT}0` neither variable alone has
//! to be a port.
//!
//! The rules are Docker's own: ports 1–65535, sizes as Docker parses them (`units.RAMInBytes`:
//! a number, an optional space, then `b`, `k`, `m`, `g`, `t` or `p`, optionally followed by
//! `i`/`b`), `max-file` a whole number from 1, `cpus` a decimal number above 0.
//! Nothing here returns a value: messages name the key and the type only.

use std::collections::HashMap;

use crate::dotenv;
use crate::yaml::{Node, Value};

/// What a variable must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `zero_picks_free`: 0 is allowed, Docker then picks a free host port.
    Port { zero_picks_free: bool },
    /// A whole number from 1 (`max-file`).
    Count,
    /// A decimal number above 0 (`cpus`).
    Cpus,
    /// Docker's size syntax (`512m`, `4G`, `10 MiB`).
    Size,
}

/// Where a variable's type was learnt: a compose file's line and the key that uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub kind: Kind,
    pub file: String,
    pub line: usize,
    /// `a published host port`, `memory`, `max-file` …
    pub slot: String,
}

/// The type of every variable the compose files use in a typed slot, by name; the first use
/// names the place, and a port is allowed 0 only when every use lets Docker pick one.
pub fn infer(files: &[(String, Node)]) -> HashMap<String, Usage> {
    let mut found: HashMap<String, Usage> = HashMap::new();
    for (file, root) in files {
        walk(
            root,
            None,
            &mut |name, kind, line, slot| match found.get_mut(name) {
                Some(Usage {
                    kind: Kind::Port { zero_picks_free },
                    ..
                }) => {
                    if let Kind::Port {
                        zero_picks_free: also,
                    } = kind
                    {
                        *zero_picks_free &= also;
                    }
                }
                Some(_) => {}
                None => {
                    found.insert(
                        name.to_owned(),
                        Usage {
                            kind,
                            file: file.clone(),
                            line,
                            slot: slot.to_owned(),
                        },
                    );
                }
            },
        );
    }
    found
}

/// The type `key` must have: from its use in the compose files, else `*_PORT` (and `PORT`) by
/// name.
pub fn kind_of(key: &str, usage: Option<&Usage>) -> Option<Kind> {
    usage.map(|u| u.kind).or_else(|| {
        (key == "PORT" || key.ends_with("_PORT")).then_some(Kind::Port {
            zero_picks_free: false,
        })
    })
}

/// True when `value` (already trimmed of nothing: Docker does not trim) fits `kind`.
pub fn fits(kind: Kind, value: &str) -> bool {
    match kind {
        Kind::Port { zero_picks_free } => port(value).is_some_and(|p| p != 0 || zero_picks_free),
        Kind::Count => {
            value.bytes().all(|b| b.is_ascii_digit()) && value.parse::<u32>().is_ok_and(|n| n >= 1)
        }
        Kind::Cpus => is_decimal(value) && value.parse::<f64>().is_ok_and(|n| n > 0.0),
        Kind::Size => is_size(value),
    }
}

/// A port number as Docker reads it: digits only, 0–65535.
pub fn port(value: &str) -> Option<u16> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// What `key` must be, for a message: `TIMMY_PORT must be a port number 1–65535 (0 picks a
/// free one)`.
pub fn requirement(key: &str, kind: Kind) -> String {
    let what = match kind {
        Kind::Port {
            zero_picks_free: true,
        } => "a port number 1–65535 (0 picks a free one)",
        Kind::Port {
            zero_picks_free: false,
        } => "a port number 1–65535",
        Kind::Count => "a whole number, 1 or more",
        Kind::Cpus => "a number of CPUs such as 2 or 0.5",
        Kind::Size => "a size such as 512m or 4g (a number, then b, k, m, g, t or p)",
    };
    format!("{key} must be {what}")
}

/// The first control character of `value` other than tab, line feed and carriage return
/// (which multi-line quoted values and CRLF files hold), as `U+0000`.
pub fn control_character(value: &str) -> Option<String> {
    value
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| format!("U+{:04X}", u32::from(c)))
}

fn is_decimal(value: &str) -> bool {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_empty() != value.contains('.')
}

/// Docker's `units.RAMInBytes`: `^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$`, with one
/// fraction at most (more fails Docker's float parse).
fn is_size(value: &str) -> bool {
    let number_end = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, rest) = value.split_at(number_end);
    if !is_decimal(number) {
        return false;
    }
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let rest = rest
        .strip_prefix(|c: char| "kKmMgGtTpP".contains(c))
        .unwrap_or(rest);
    let rest = rest.strip_prefix(['i', 'I']).unwrap_or(rest);
    let rest = rest.strip_prefix(['b', 'B']).unwrap_or(rest);
    rest.is_empty()
}

const SIZE_KEYS: &[&str] = &[
    "memory",
    "mem_limit",
    "mem_reservation",
    "memswap_limit",
    "shm_size",
    "max-size",
];

/// Visits every typed slot under `node`: `see(name, kind, line, slot)`.
fn walk(node: &Node, key: Option<&str>, see: &mut dyn FnMut(&str, Kind, usize, &str)) {
    match &node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                let name = k.as_str();
                match (name, &v.value) {
                    (Some("ports"), Value::Seq(items)) => {
                        for item in items {
                            port_entry(item, see);
                        }
                    }
                    (Some("expose"), Value::Seq(items)) => {
                        for item in items {
                            if let Some(var) = item.as_str().and_then(whole_reference) {
                                see(&var, port_kind(false), item.line, "a container port");
                            }
                        }
                    }
                    _ => walk(v, name, see),
                }
            }
        }
        Value::Seq(items) => {
            for item in items {
                walk(item, None, see);
            }
        }
        Value::Scalar(text) => {
            let Some(key) = key else { return };
            let kind = if SIZE_KEYS.contains(&key) {
                Kind::Size
            } else if key == "max-file" {
                Kind::Count
            } else if key == "cpus" {
                Kind::Cpus
            } else {
                return;
            };
            if let Some(var) = whole_reference(text) {
                see(&var, kind, node.line, &format!("`{key}`"));
            }
        }
    }
}

fn port_kind(zero_picks_free: bool) -> Kind {
    Kind::Port { zero_picks_free }
}

/// One `ports:` entry: the short form `[IP:]PUBLISHED:TARGET[/PROTO]` or the long form with
/// `published:` and `target:`.
fn port_entry(item: &Node, see: &mut dyn FnMut(&str, Kind, usize, &str)) {
    match &item.value {
        Value::Scalar(text) => {
            let Some(marked) = marked(text) else { return };
            let without_proto = marked.split('/').next().unwrap_or("");
            let parts: Vec<&str> = without_proto.rsplitn(3, ':').collect();
            // rsplitn: target first, then published, then the IP.
            for (index, part) in parts.iter().take(2).enumerate() {
                let published = index == 1;
                let slot = if published {
                    "a published host port"
                } else {
                    "a container port"
                };
                for piece in part.split('-') {
                    if let Some(var) = unmark(piece) {
                        see(&var, port_kind(published), item.line, slot);
                    }
                }
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                let (published, slot) = match k.as_str() {
                    Some("published") => (true, "a published host port"),
                    Some("target") => (false, "a container port"),
                    _ => continue,
                };
                if let Some(var) = v.as_str().and_then(whole_reference) {
                    see(&var, port_kind(published), v.line, slot);
                }
            }
        }
        Value::Seq(_) => {}
    }
}

const MARK: char = '\u{1}';

/// `text` with every variable reference replaced by `\u{1}NAME\u{1}` (defaults and
/// alternatives as Compose applies them to a set variable); `None` when it does not parse.
fn marked(text: &str) -> Option<String> {
    dotenv::substitute(text, &|name| Some(format!("{MARK}{name}{MARK}")))
        .ok()
        .map(|(value, _)| value)
}

fn unmark(piece: &str) -> Option<String> {
    let name = piece.strip_prefix(MARK)?.strip_suffix(MARK)?;
    (!name.is_empty() && !name.contains(MARK)).then(|| name.to_owned())
}

/// The variable when `text` is one reference and nothing else (`${X:-10m}`, `$X`).
fn whole_reference(text: &str) -> Option<String> {
    unmark(&marked(text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inferred(text: &str) -> HashMap<String, Usage> {
        let root = crate::yaml::parse(text).unwrap().unwrap();
        infer(&[("docker/docker-compose.yml".to_owned(), root)])
    }

    #[track_caller]
    fn kinds(text: &str, expected: &[(&str, Kind, usize, &str)]) {
        let found = inferred(text);
        let mut got: Vec<(&str, Kind, usize, &str)> = found
            .iter()
            .map(|(k, u)| (k.as_str(), u.kind, u.line, u.slot.as_str()))
            .collect();
        got.sort_by_key(|g| g.0);
        assert_eq!(got, expected, "{text}");
    }

    const HOST: Kind = Kind::Port {
        zero_picks_free: true,
    };
    const CONTAINER: Kind = Kind::Port {
        zero_picks_free: false,
    };

    #[test]
    fn types_come_from_where_the_compose_files_use_a_variable() {
        kinds(
            "services:\n  a:\n    ports:\n      - \"127.0.0.1:${APP_PORT:-3000}:3000\"\n      - \"${DBG}:${INNER}/tcp\"\n      - ${ONLY}\n      - \"${LOW}-${HIGH}:80-81\"\n",
            &[
                ("APP_PORT", HOST, 4, "a published host port"),
                ("DBG", HOST, 5, "a published host port"),
                ("HIGH", HOST, 7, "a published host port"),
                ("INNER", CONTAINER, 5, "a container port"),
                ("LOW", HOST, 7, "a published host port"),
                ("ONLY", CONTAINER, 6, "a container port"),
            ],
        );
        kinds(
            "services:\n  a:\n    ports:\n      - published: ${P}\n        target: ${T}\n        host_ip: ${IP}\n    expose: [\"${E}\"]\n",
            &[
                ("E", CONTAINER, 7, "a container port"),
                ("P", HOST, 4, "a published host port"),
                ("T", CONTAINER, 5, "a container port"),
            ],
        );
        kinds(
            "x-logging: &l\n  options:\n    max-size: \"${LOG_MAX_SIZE:-10m}\"\n    max-file: \"${LOG_MAX_FILE:-3}\"\nservices:\n  a:\n    logging: *l\n    shm_size: $SHM\n    deploy:\n      resources:\n        limits:\n          cpus: \"${CPU:-2}\"\n          memory: ${MEM:-4G}\n",
            &[
                ("CPU", Kind::Cpus, 12, "`cpus`"),
                ("LOG_MAX_FILE", Kind::Count, 4, "`max-file`"),
                ("LOG_MAX_SIZE", Kind::Size, 3, "`max-size`"),
                ("MEM", Kind::Size, 13, "`memory`"),
                ("SHM", Kind::Size, 8, "`shm_size`"),
            ],
        );
        // Only a reference standing alone in its slot is typed.
        kinds(
            "services:\n  a:\n    ports: [\"${BASE}0:80\", \"${IP}:1:2\"]\n    environment:\n      PORT: ${X}\n    mem_limit: ${M}m\n",
            &[],
        );
    }

    #[test]
    fn a_port_used_both_ways_may_not_be_zero() {
        let found =
            inferred("services:\n  a:\n    ports: [\"${P}:80\"]\n  b:\n    ports: [\"81:${P}\"]\n");
        assert_eq!(found["P"].kind, CONTAINER);
        assert_eq!(found["P"].line, 3);
    }

    #[test]
    fn names_ending_in_port_are_ports() {
        assert_eq!(kind_of("REDIS_PORT", None), Some(CONTAINER));
        assert_eq!(kind_of("PORT", None), Some(CONTAINER));
        assert_eq!(kind_of("PORTAL", None), None);
        assert_eq!(kind_of("REPORT", None), None);
        let usage = inferred("services:\n  a:\n    ports: [\"${REDIS_PORT}:1\"]\n");
        assert_eq!(kind_of("REDIS_PORT", usage.get("REDIS_PORT")), Some(HOST));
    }

    #[track_caller]
    fn table(kind: Kind, good: &[&str], bad: &[&str]) {
        for v in good {
            assert!(fits(kind, v), "{kind:?} should accept {v:?}");
        }
        for v in bad {
            assert!(!fits(kind, v), "{kind:?} should refuse {v:?}");
        }
    }

    #[test]
    fn values_are_checked_as_docker_reads_them() {
        table(
            HOST,
            &["0", "1", "3000", "65535"],
            &[
                "99999",
                "65536",
                "-1",
                "sixthousand",
                "30 00",
                " 3000",
                "3000 ",
                "3e3",
                "+80",
                "",
            ],
        );
        table(CONTAINER, &["1", "6379"], &["0", "99999", "6379/tcp"]);
        table(
            Kind::Count,
            &["1", "3", "10"],
            &["0", "-1", "3.5", "three", ""],
        );
        table(
            Kind::Cpus,
            &["2", "0.5", "1.25", "16"],
            &["0", "0.0", ".5", "2.", "two", "-1", "1e2", ""],
        );
        table(
            Kind::Size,
            &[
                "4G", "512M", "10m", "1024", "1.5g", "10 MiB", "4gb", "4GB", "2k", "1p",
            ],
            &["lots", "4 G B", "G", "4x", "-4G", "4G ", "1.2.3m", ""],
        );
    }

    #[test]
    fn requirements_name_the_key_and_never_a_value() {
        assert_eq!(
            requirement("TIMMY_PORT", HOST),
            "TIMMY_PORT must be a port number 1–65535 (0 picks a free one)"
        );
        assert_eq!(
            requirement("REDIS_PORT", CONTAINER),
            "REDIS_PORT must be a port number 1–65535"
        );
        assert_eq!(
            requirement("LOG_MAX_FILE", Kind::Count),
            "LOG_MAX_FILE must be a whole number, 1 or more"
        );
    }

    #[test]
    fn control_characters() {
        assert_eq!(control_character("a\0b").as_deref(), Some("U+0000"));
        assert_eq!(control_character("\u{1b}[31m").as_deref(), Some("U+001B"));
        assert_eq!(control_character("x\u{7f}").as_deref(), Some("U+007F"));
        assert_eq!(control_character("x\u{9b}").as_deref(), Some("U+009B"));
        assert_eq!(control_character("a\tb\nc\r"), None);
        assert_eq!(control_character("héllo €"), None);
    }
}
