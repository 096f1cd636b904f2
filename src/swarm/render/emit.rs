//! The stack file as YAML text for `docker stack deploy`: block style, every string
//! double-quoted, a key quoted where YAML would read it otherwise, and a hook on each string
//! (the masked display uses it).

use serde_json::{Map, Value};

/// YAML for `docker stack deploy`: block style, every string double-quoted (JSON's escapes
/// are YAML's), `scalar` mapping each string under its key before it is quoted.
type ScalarFn<'a> = &'a dyn Fn(Option<&str>, &str) -> String;

pub(super) fn emit_map(
    out: &mut String,
    map: &Map<String, Value>,
    indent: usize,
    scalar: ScalarFn,
) {
    let pad = " ".repeat(indent);
    // `version` first, as people expect it; the rest in order.
    let ordered = map
        .get_key_value("version")
        .into_iter()
        .chain(map.iter().filter(|(k, _)| *k != "version"));
    for (key, value) in ordered {
        out.push_str(&pad);
        out.push_str(&yaml_key(key));
        out.push(':');
        emit_value(out, value, indent, Some(key), scalar);
    }
}

/// After `key:` or `-`: an inline scalar or empty collection, else a new indented block.
fn emit_value(out: &mut String, value: &Value, indent: usize, key: Option<&str>, scalar: ScalarFn) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            emit_map(out, m, indent + 2, scalar);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            emit_seq(out, a, indent + 2, key, scalar);
        }
        _ => {
            out.push(' ');
            out.push_str(&yaml_scalar(value, key, scalar));
            out.push('\n');
        }
    }
}

fn emit_seq(out: &mut String, items: &[Value], indent: usize, key: Option<&str>, scalar: ScalarFn) {
    let pad = " ".repeat(indent);
    for item in items {
        let nested = match item {
            Value::Object(m) if !m.is_empty() => {
                let mut block = String::new();
                emit_map(&mut block, m, indent + 2, scalar);
                Some(block)
            }
            Value::Array(a) if !a.is_empty() => {
                let mut block = String::new();
                emit_seq(&mut block, a, indent + 2, key, scalar);
                Some(block)
            }
            _ => None,
        };
        out.push_str(&pad);
        out.push_str("- ");
        if let Some(block) = nested {
            // The block's first line starts `indent + 2` spaces in: the dash stands there.
            out.push_str(&block[indent + 2..]);
        } else {
            out.push_str(&yaml_scalar(item, key, scalar));
            out.push('\n');
        }
    }
}

fn yaml_scalar(value: &Value, key: Option<&str>, scalar: ScalarFn) -> String {
    match value {
        Value::String(s) => Value::from(scalar(key, s)).to_string(),
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
        other => other.to_string(),
    }
}

/// A mapping key, plain where YAML reads it back as the same string, else double-quoted.
fn yaml_key(key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && !matches!(
            key.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "true" | "false" | "on" | "off" | "null"
        );
    if plain {
        key.to_owned()
    } else {
        Value::from(key).to_string()
    }
}
