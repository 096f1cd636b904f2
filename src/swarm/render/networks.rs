//! Networks: the top-level networks as attachable overlays under the stack's names (their
//! `ipam` cut to what the v3 schema takes), and each service's attachments with their
//! aliases and addresses.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{Renderer, keep, object};

impl Renderer<'_> {
    /// A service's networks: attachments with their aliases and addresses.
    pub(super) fn service_networks(&mut self, name: &str, value: &Value) -> Value {
        let Value::Object(nets) = value else {
            return value.clone();
        };
        let mut out = Map::new();
        for (net, attach) in nets {
            if attach.is_null() {
                out.insert(net.clone(), Value::Null);
                continue;
            }
            for key in object(attach).keys() {
                if !matches!(key.as_str(), "aliases" | "ipv4_address" | "ipv6_address") {
                    self.warn(
                        &["services", name, "networks", net, key],
                        format!("`networks.{net}.{key}` of service `{name}` is dropped: Swarm's stack files do not have it"),
                    );
                }
            }
            out.insert(
                net.clone(),
                keep(attach, &["aliases", "ipv4_address", "ipv6_address"]),
            );
        }
        Value::Object(out)
    }

    /// Networks as attachable overlays, under the name Swarm gives them (the namespace's).
    pub(super) fn networks(&mut self, networks: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (name, net) in networks {
            let given = object(net);
            let path = ["networks", name.as_str()];
            if given
                .get("external")
                .is_some_and(|e| e != &Value::Bool(false))
            {
                out.insert(name.clone(), keep(net, &["external", "name"]));
                continue;
            }
            let mut n = Map::new();
            for (key, value) in given {
                match key.as_str() {
                    "driver" => match value.as_str() {
                        Some("overlay") => {}
                        Some("bridge") => self.warn(
                            &["networks", name, "driver"],
                            format!("network `{name}` becomes an attachable overlay network: a bridge reaches one host only"),
                        ),
                        other => self.refuse(
                            &["networks", name, "driver"],
                            format!("network `{name}` uses the driver `{}`; Swarm services attach to overlay networks only", other.unwrap_or("?")),
                            "use the default driver (bridge with timmy up, overlay on a Swarm)",
                        ),
                    },
                    "name" => {
                        if value.as_str() != Some(&format!("{}_{name}", self.project)) {
                            n.insert(key.clone(), value.clone());
                        }
                    }
                    "ipam" => {
                        let ipam = self.ipam(name, object(value));
                        if !ipam.is_empty() {
                            n.insert(key.clone(), Value::Object(ipam));
                        }
                    }
                    "labels" | "internal" => {
                        n.insert(key.clone(), value.clone());
                    }
                    "attachable" => {}
                    _ => self.warn(
                        &["networks", name, key],
                        format!("`{key}` of network `{name}` is dropped: Swarm's overlay networks do not take it"),
                    ),
                }
            }
            if !given.contains_key("driver") {
                self.warn(
                    &path,
                    format!("network `{name}` becomes an attachable overlay network: a bridge reaches one host only"),
                );
            }
            n.insert("driver".into(), Value::from("overlay"));
            n.insert("attachable".into(), Value::Bool(true));
            out.insert(name.clone(), Value::Object(n));
        }
        out
    }

    /// A network's `ipam`: its driver and each pool's `subnet` (all the v3 schema takes).
    fn ipam(&mut self, network: &str, ipam: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in ipam {
            let path = ["networks", network, "ipam", key.as_str()];
            match key.as_str() {
                "driver" => {
                    out.insert(key.clone(), value.clone());
                }
                "config" => {
                    let pools: Vec<Value> = value
                        .as_array()
                        .map_or(&[][..], Vec::as_slice)
                        .iter()
                        .map(|pool| keep(pool, &["subnet"]))
                        .collect();
                    let dropped: BTreeSet<&String> = value
                        .as_array()
                        .map_or(&[][..], Vec::as_slice)
                        .iter()
                        .flat_map(|pool| object(pool).keys())
                        .filter(|k| *k != "subnet")
                        .collect();
                    for option in dropped {
                        self.warn(
                            &path,
                            format!("`ipam.config[].{option}` of network `{network}` is dropped: Swarm's stack files take `subnet` only"),
                        );
                    }
                    out.insert(key.clone(), Value::Array(pools));
                }
                _ => self.warn(
                    &path,
                    format!("`ipam.{key}` of network `{network}` is dropped: Swarm's stack files do not have it"),
                ),
            }
        }
        out
    }
}
