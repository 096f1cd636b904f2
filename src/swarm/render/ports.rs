//! Published ports in the long form a stack file takes, under the publish and endpoint modes
//! chosen; a port bound to one address, a published range, or the routing mesh with `dnsrr`
//! is refused, each named at its item of the compose file.

use serde_json::{Map, Value};

use super::{Renderer, object, value_text};
use crate::check::Level;
use crate::swarm::{EndpointMode, PublishMode};
use crate::yaml::Node;

impl Renderer<'_> {
    /// Ports in the long form: `published` an integer, the publish mode applied; a port bound
    /// to one address is refused until the user says how to publish (Swarm binds every
    /// interface).
    pub(super) fn ports(&mut self, name: &str, ports: &[Value]) -> Vec<Value> {
        let mut out = Vec::new();
        for port in ports {
            let port = object(port);
            let target = port.get("target").cloned().unwrap_or(Value::Null);
            let target_text = value_text(Some(&target));
            let at = self.locate_item(name, "ports", &|item| port_item_is(item, &target_text));
            let published = match port.get("published") {
                Some(Value::String(s)) if s.is_empty() => None,
                Some(Value::String(s)) => {
                    if let Ok(n) = s.parse::<u16>() {
                        Some(n)
                    } else {
                        self.add_at(
                            Level::Error,
                            at,
                            format!("port {target_text} of service `{name}` is published as the range `{s}`: a stack publishes single ports"),
                            Some("list each port of the range on its own line".to_owned()),
                        );
                        continue;
                    }
                }
                Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                _ => None,
            };
            let host_ip = port
                .get("host_ip")
                .and_then(Value::as_str)
                .filter(|ip| !matches!(*ip, "" | "0.0.0.0" | "::"));
            let shown = match published {
                Some(p) => format!("{p}:{target_text}"),
                None => target_text.clone(),
            };
            let mode = match (self.options.publish_mode, host_ip) {
                (None, Some(ip)) => {
                    self.add_at(
                        Level::Error,
                        at,
                        format!("port {shown} of service `{name}` is published on {ip} only, and Swarm publishes on every interface"),
                        Some("say how to publish: timmy deploy --publish ingress (every node) or --publish host (the node running the task), or SWARM_PUBLISH_MODE in .env".to_owned()),
                    );
                    continue;
                }
                (Some(mode), Some(_)) => mode,
                (mode, None) => mode.unwrap_or(PublishMode::Ingress),
            };
            if mode == PublishMode::Ingress && self.options.endpoint_mode == EndpointMode::Dnsrr {
                self.add_at(
                    Level::Error,
                    at,
                    format!("port {shown} of service `{name}` cannot use the routing mesh (ingress) with endpoint mode dnsrr"),
                    Some("publish in host mode (--publish host or SWARM_PUBLISH_MODE=host), or use SWARM_ENDPOINT_MODE=vip".to_owned()),
                );
                continue;
            }
            if let Some(ip) = host_ip {
                self.add_at(
                    Level::Warning,
                    at,
                    format!("port {shown} of service `{name}` was published on {ip} only; Swarm publishes it on every interface ({} mode)", mode.as_str()),
                    None,
                );
            }
            let mut long = Map::new();
            long.insert("target".into(), target);
            if let Some(p) = published {
                long.insert("published".into(), Value::from(p));
            }
            if let Some(protocol) = port.get("protocol") {
                long.insert("protocol".into(), protocol.clone());
            }
            long.insert("mode".into(), Value::from(mode.as_str()));
            out.push(Value::Object(long));
        }
        out
    }
}

/// A `ports` item of a compose file that publishes container port `target`: `"8080:3000"`,
/// `"127.0.0.1:${PORT}:3000/tcp"` or `{target: 3000}`.
fn port_item_is(item: &Node, target: &str) -> bool {
    match item.as_str() {
        Some(text) => {
            let text = text.split('/').next().unwrap_or(text);
            text.rsplit(':').next() == Some(target)
        }
        None => item.get("target").and_then(Node::as_str) == Some(target),
    }
}
