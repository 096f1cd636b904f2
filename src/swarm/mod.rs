//! Swarm (`timmy deploy`): the environment's resolved compose configuration turned into a
//! stack file `docker stack deploy` accepts ([`render`]), and the settings that only a Swarm
//! needs. Compose has already merged the env's files and interpolated `.env` (`docker compose
//! config --format json`); Swarm reads no `.env` and has its own, older loader (docker/cli's
//! v3 schema), so the translation is ours, pure, and says what it dropped or refused.
//!
//! How `deploy` uses it: [`builds`] names the services to build (and the image each must be
//! tagged as, given in [`Options::images`]); [`render`] gives a [`Rendered`]: its
//! [`Rendered::text`] goes to `docker stack deploy -c -` on stdin after each
//! [`SecretFile`] is written (mode 0600; `docker stack deploy` reads them, then they can go);
//! its `findings` print like `check`'s ([`crate::validate::report`]), and an error among them
//! ([`Rendered::refused`]) stops the deploy before anything runs; [`Rendered::display`] is the
//! masked form `--render` prints.
//!
//! Running it: [`invoke`] builds the docker commands (build and tag by content, `stack
//! deploy`, the queries), [`converge`] judges what docker reports while `deploy` waits.

pub mod converge;
pub mod invoke;
pub mod render;

pub use render::{Build, Options, Rendered, SecretFile, builds, render};

use clap::ValueEnum;

use crate::check::{Finding, Level};
use crate::dotenv::Entry;

/// Added after the environment's files when rendering a stack: what only a Swarm needs
/// (replicas, rolling updates, restart policy, placement). Not a `docker-compose.<env>.yml`,
/// so never taken for an environment.
pub const SWARM_FILE: &str = "docker/swarm.compose.yml";
/// `.env` key choosing how services are reached inside the stack (`vip` or `dnsrr`).
pub const ENDPOINT_MODE_KEY: &str = "SWARM_ENDPOINT_MODE";
/// `.env` key choosing how ports are published (`ingress` or `host`).
pub const PUBLISH_MODE_KEY: &str = "SWARM_PUBLISH_MODE";

/// How other services reach a service: a virtual IP balanced by IPVS (`vip`, Swarm's
/// default) or DNS round robin over the tasks' own addresses (`dnsrr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EndpointMode {
    Vip,
    Dnsrr,
}

/// How a published port is reached: the routing mesh on every node (`ingress`, Swarm's
/// default) or only on the node that runs the task (`host`). Both bind every interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PublishMode {
    Ingress,
    Host,
}

/// Where secret values of the environment go: Swarm secrets mounted at `/run/secrets/KEY`
/// with `KEY_FILE` in the environment (`swarm`, the default), or left in the service's
/// environment as Compose has them (`env`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecretsMode {
    Swarm,
    Env,
}

impl EndpointMode {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vip => "vip",
            Self::Dnsrr => "dnsrr",
        }
    }

    /// A `.env` value (`vip`, `dnsrr`), case as typed.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        Self::from_str(value, false).ok()
    }
}

impl PublishMode {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ingress => "ingress",
            Self::Host => "host",
        }
    }

    /// A `.env` value (`ingress`, `host`), case as typed.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        Self::from_str(value, false).ok()
    }
}

/// A `SWARM_*` value `deploy` cannot take: the message (naming the key) and its hint. The one
/// wording for `deploy`, which refuses it, and `check`, which reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSetting {
    pub key: &'static str,
    pub message: String,
    pub hint: &'static str,
}

/// `SWARM_ENDPOINT_MODE`'s value.
pub fn endpoint_mode_setting(value: &str) -> Result<EndpointMode, BadSetting> {
    EndpointMode::parse(value).ok_or_else(|| BadSetting {
        key: ENDPOINT_MODE_KEY,
        message: format!("{ENDPOINT_MODE_KEY} must be vip or dnsrr"),
        hint: "vip: a virtual IP per service (Swarm's default); dnsrr: DNS round robin, for hosts without IPVS",
    })
}

/// `SWARM_PUBLISH_MODE`'s value.
pub fn publish_mode_setting(value: &str) -> Result<PublishMode, BadSetting> {
    PublishMode::parse(value).ok_or_else(|| BadSetting {
        key: PUBLISH_MODE_KEY,
        message: format!("{PUBLISH_MODE_KEY} must be ingress or host"),
        hint: "ingress: the port answers on every node; host: only on the node running the task",
    })
}

/// For `check`: an error for each `SWARM_*` value `deploy` would refuse, at the line of its
/// last definition in `env_file` (`entries`), or said to be the shell's when the shell sets
/// the key (`deploy` takes the shell's value over `.env`'s). An empty value is unset.
pub fn env_findings(
    env_file: &str,
    entries: &[Entry],
    shell: &dyn Fn(&str) -> Option<String>,
) -> Vec<Finding> {
    let judge = |key: &str, value: &str| match key {
        ENDPOINT_MODE_KEY => endpoint_mode_setting(value).err(),
        _ => publish_mode_setting(value).err(),
    };
    let mut found = Vec::new();
    for key in [ENDPOINT_MODE_KEY, PUBLISH_MODE_KEY] {
        let (value, line, from_shell) = match shell(key) {
            Some(value) => (value, None, true),
            None => match entries.iter().rev().find(|e| e.key == key) {
                Some(e) => (e.value.clone(), Some(e.line), false),
                None => continue,
            },
        };
        if value.is_empty() {
            continue;
        }
        if let Some(bad) = judge(key, &value) {
            let message = if from_shell {
                bad.message
                    .replacen(" must", " (set in your shell) must", 1)
            } else {
                bad.message
            };
            found.push(Finding {
                file: env_file.to_owned(),
                line,
                level: Level::Error,
                message,
                hint: Some(bad.hint.to_owned()),
                key: Some(key.to_owned()),
            });
        }
    }
    found
}

/// For a rendered stack ([`Rendered::stack`]): a warning for each service that updates or
/// rolls back `start-first` while it publishes a port in host mode. The new task needs the
/// port on its node while the old task still holds it there: it waits ("no suitable node
/// (host-mode port already in use on 1 node)"), so on one node every update of the service
/// waits until `--timeout` and the old task keeps running — with the old image and secrets
/// (measured on Engine 28.5: a changed secret redeployed, `deploy` failed after 120 s).
#[must_use]
pub fn update_hazards(stack: &serde_json::Value) -> Vec<Finding> {
    let mut found = Vec::new();
    let Some(services) = stack.get("services").and_then(serde_json::Value::as_object) else {
        return found;
    };
    for (name, svc) in services {
        let host_ports: Vec<String> = svc
            .get("ports")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter(|p| p.get("mode").and_then(serde_json::Value::as_str) == Some("host"))
            .filter_map(|p| p.get("published").map(ToString::to_string))
            .collect();
        let start_first: Vec<&str> = ["update_config", "rollback_config"]
            .into_iter()
            .filter(|key| {
                svc.pointer(&format!("/deploy/{key}/order"))
                    .and_then(serde_json::Value::as_str)
                    == Some("start-first")
            })
            .collect();
        if host_ports.is_empty() || start_first.is_empty() {
            continue;
        }
        found.push(Finding {
            file: SWARM_FILE.to_owned(),
            line: None,
            level: Level::Warning,
            message: format!(
                "service `{name}` updates start-first ({}) and publishes {} {} in host mode: the new task cannot bind it while the old one holds it on the same node, so on one node every update of `{name}` waits until --timeout",
                start_first.join(", "),
                if host_ports.len() == 1 { "port" } else { "ports" },
                host_ports.join(", ")
            ),
            hint: Some(format!(
                "set `order: stop-first` in {} of `{name}` (a short gap per update), or publish in ingress mode",
                start_first.join(" and ")
            )),
            key: None,
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_reports_the_values_deploy_refuses_where_deploy_reads_them() {
        #[track_caller]
        fn case(env: &str, shell: &[(&str, &str)], expected: &[&str]) {
            let entries = crate::dotenv::parse(env, &|_| None).unwrap();
            let lookup = |k: &str| {
                shell
                    .iter()
                    .find(|(key, _)| *key == k)
                    .map(|(_, v)| (*v).to_owned())
            };
            let found: Vec<String> = env_findings(".env", &entries, &lookup)
                .iter()
                .map(|f| format!("{f} [{}]", f.key.as_deref().unwrap_or("")))
                .collect();
            assert_eq!(found, expected, "{env:?} {shell:?}");
        }
        case("", &[], &[]);
        case(
            "SWARM_PUBLISH_MODE=host\nSWARM_ENDPOINT_MODE=dnsrr\n",
            &[],
            &[],
        );
        case("SWARM_PUBLISH_MODE=\n", &[], &[]);
        case(
            "A=1\nSWARM_ENDPOINT_MODE=VIP\nSWARM_PUBLISH_MODE=mesh\n",
            &[],
            &[
                ".env:2: SWARM_ENDPOINT_MODE must be vip or dnsrr [SWARM_ENDPOINT_MODE]",
                ".env:3: SWARM_PUBLISH_MODE must be ingress or host [SWARM_PUBLISH_MODE]",
            ],
        );
        // The last definition counts, as for Compose.
        case(
            "SWARM_PUBLISH_MODE=mesh\nSWARM_PUBLISH_MODE=host\n",
            &[],
            &[],
        );
        // The shell's value is deploy's.
        case(
            "SWARM_PUBLISH_MODE=mesh\n",
            &[("SWARM_PUBLISH_MODE", "host")],
            &[],
        );
        case(
            "SWARM_PUBLISH_MODE=host\n",
            &[("SWARM_PUBLISH_MODE", "routing")],
            &[
                ".env: SWARM_PUBLISH_MODE (set in your shell) must be ingress or host [SWARM_PUBLISH_MODE]",
            ],
        );
    }

    #[test]
    fn start_first_with_a_host_mode_port_is_a_warning() {
        let stack = |order: &str, mode: &str| {
            serde_json::json!({"services": {
                "redis": {"deploy": {"update_config": {"order": "start-first"}}},
                "timmy": {
                    "deploy": {
                        "update_config": {"order": order},
                        "rollback_config": {"order": "stop-first"}
                    },
                    "ports": [
                        {"mode": mode, "published": 3300, "target": 3000},
                        {"mode": mode, "target": 9229}
                    ]
                }
            }})
        };
        let found = update_hazards(&stack("start-first", "host"));
        let shown: Vec<String> = found
            .iter()
            .map(|f| format!("{f} (hint: {})", f.hint.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            shown,
            [
                "docker/swarm.compose.yml: service `timmy` updates start-first (update_config) and publishes port 3300 in host mode: the new task cannot bind it while the old one holds it on the same node, so on one node every update of `timmy` waits until --timeout (hint: set `order: stop-first` in update_config of `timmy` (a short gap per update), or publish in ingress mode)"
            ]
        );
        assert_eq!(found[0].level, Level::Warning);
        assert!(update_hazards(&stack("stop-first", "host")).is_empty());
        assert!(update_hazards(&stack("start-first", "ingress")).is_empty());
        assert!(update_hazards(&serde_json::json!({})).is_empty());
    }

    #[test]
    fn modes_parse_their_env_values_only() {
        assert_eq!(EndpointMode::parse("dnsrr"), Some(EndpointMode::Dnsrr));
        assert_eq!(EndpointMode::parse("vip"), Some(EndpointMode::Vip));
        assert_eq!(EndpointMode::parse("VIP"), None);
        assert_eq!(PublishMode::parse("host"), Some(PublishMode::Host));
        assert_eq!(PublishMode::parse("ingress"), Some(PublishMode::Ingress));
        assert_eq!(PublishMode::parse("mesh"), None);
        assert_eq!(PublishMode::Host.as_str(), "host");
        assert_eq!(EndpointMode::Dnsrr.as_str(), "dnsrr");
    }
}
