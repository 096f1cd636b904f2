//! A service's mounts in the long form (bind sources made absolute, options Swarm lacks
//! dropped, a warning that bind sources must exist on every node) and the top-level named
//! volumes under the names Compose gave them.

use serde_json::{Map, Value};

use super::{Renderer, keep, object, value_text};
use crate::check::Level;
use crate::yaml::Node;

impl Renderer<'_> {
    /// Mounts in the long form, bind sources absolute: Swarm neither resolves nor creates
    /// them, so each must exist on every node that runs the service (one warning per
    /// service, at its first bind mount).
    pub(super) fn mounts(&mut self, name: &str, mounts: &[Value]) -> Vec<Value> {
        let mut out = Vec::new();
        let mut binds: Vec<(String, (String, Option<usize>))> = Vec::new();
        for mount in mounts {
            let Value::Object(given) = mount else {
                out.push(mount.clone());
                continue;
            };
            let target = value_text(given.get("target"));
            let at = self.locate_item(name, "volumes", &|item| mount_item_is(item, &target));
            let mut m = Map::new();
            for (key, value) in given {
                match key.as_str() {
                    "type" | "source" | "target" | "read_only" | "consistency" => {
                        m.insert(key.clone(), value.clone());
                    }
                    "bind" | "volume" | "tmpfs" => {
                        let allowed = match key.as_str() {
                            "bind" => "propagation",
                            "volume" => "nocopy",
                            _ => "size",
                        };
                        // Swarm never creates a bind source: the warning below says so.
                        for option in object(value).keys() {
                            if option != allowed && option != "create_host_path" {
                                self.add_at(
                                    Level::Warning,
                                    at.clone(),
                                    format!("`{key}.{option}` of mount {target} of service `{name}` is dropped: Swarm's stack files do not have it"),
                                    None,
                                );
                            }
                        }
                        m.insert(key.clone(), keep(value, &[allowed]));
                    }
                    _ => self.add_at(
                        Level::Warning,
                        at.clone(),
                        format!("`{key}` of mount {target} of service `{name}` is dropped: Swarm's stack files do not have it"),
                        None,
                    ),
                }
            }
            for key in ["bind", "volume", "tmpfs"] {
                if m.get(key).is_some_and(|v| object(v).is_empty()) {
                    m.remove(key);
                }
            }
            if m.get("type").and_then(Value::as_str) == Some("bind")
                && let Some(source) = m.get("source").and_then(Value::as_str)
            {
                let source = self.options.project_dir.join(source).display().to_string();
                m.insert("source".into(), Value::from(source.clone()));
                binds.push((source, at));
            }
            out.push(Value::Object(m));
        }
        if let Some((_, at)) = binds.first() {
            let sources: Vec<&str> = binds.iter().map(|(s, _)| s.as_str()).collect();
            let (what, them) = if sources.len() == 1 {
                ("bind mount", "it")
            } else {
                ("bind mounts", "them")
            };
            self.add_at(
                Level::Warning,
                at.clone(),
                format!("{what} {} of service `{name}` must exist on every node that runs it: Swarm does not create {them}", sources.join(", ")),
                None,
            );
        }
        out
    }

    /// Named volumes under the names Compose gave them, so a stack finds the data the
    /// single-host stack wrote on the same node.
    pub(super) fn volumes(&mut self, volumes: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (name, vol) in volumes {
            for key in object(vol).keys() {
                if !matches!(
                    key.as_str(),
                    "name" | "driver" | "driver_opts" | "external" | "labels"
                ) {
                    self.warn(
                        &["volumes", name, key],
                        format!("`{key}` of volume `{name}` is dropped: Swarm's stack files do not have it"),
                    );
                }
            }
            out.insert(
                name.clone(),
                keep(
                    vol,
                    &["name", "driver", "driver_opts", "external", "labels"],
                ),
            );
        }
        out
    }
}

/// A `volumes` item of a compose file that mounts at `target`: `"./data:/app/data:rw"`,
/// `"${DIR:-./w}:/workspace"` or `{target: /app/data}`.
fn mount_item_is(item: &Node, target: &str) -> bool {
    match item.as_str() {
        Some(text) => text.split(':').any(|part| part == target),
        None => item.get("target").and_then(Node::as_str) == Some(target),
    }
}
