//! A service of the configuration → a service of the stack: the keys kept as they are, those
//! rewritten (`restart` → `deploy.restart_policy`, `extra_hosts`, the image of a built
//! service), the `deploy` section and healthcheck cut to what the v3 schema takes, and a
//! warning or a refusal for every key a stack file lacks.

use serde_json::{Map, Value};

use super::{Renderer, STACK_VERSION, builds, keep, object, value_text};
use crate::check::Level;

impl Renderer<'_> {
    pub(super) fn services(&mut self, services: &Map<String, Value>) -> Map<String, Value> {
        services
            .iter()
            .map(|(name, svc)| (name.clone(), Value::Object(self.service(name, object(svc)))))
            .collect()
    }

    fn service(&mut self, name: &str, svc: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        let mut secret_mounts = Vec::new();
        for (key, value) in svc {
            match key.as_str() {
                // Kept as they are: docker/cli's v3 schema takes Compose's form of these.
                "cap_add" | "cap_drop" | "credential_spec" | "dns" | "dns_search" | "hostname"
                | "init" | "isolation" | "labels" | "read_only" | "stdin_open"
                | "stop_grace_period" | "stop_signal" | "sysctls" | "tmpfs" | "tty" | "ulimits"
                | "user" | "working_dir" | "secrets" | "configs" => {
                    out.insert(key.clone(), value.clone());
                }
                "extra_hosts" => {
                    out.insert(key.clone(), Value::Array(extra_hosts(value)));
                }
                "command" | "entrypoint" => {
                    if !value.is_null() {
                        out.insert(key.clone(), value.clone());
                    }
                }
                "image" => {
                    let image = self.options.images.get(name);
                    out.insert(
                        key.clone(),
                        image.map_or_else(|| value.clone(), |i| Value::from(i.as_str())),
                    );
                }
                "logging" => {
                    out.insert(key.clone(), keep(value, &["driver", "options"]));
                }
                "healthcheck" => {
                    out.insert(key.clone(), self.healthcheck(name, object(value)));
                }
                "environment" => {
                    let (env, mounted) = self.environment(name, object(value));
                    out.insert(key.clone(), Value::Object(env));
                    secret_mounts = mounted;
                }
                "networks" => {
                    out.insert(key.clone(), self.service_networks(name, value));
                }
                "ports" => {
                    let ports = self.ports(name, value.as_array().map_or(&[][..], Vec::as_slice));
                    out.insert(key.clone(), Value::Array(ports));
                }
                "volumes" => {
                    let mounts = self.mounts(name, value.as_array().map_or(&[][..], Vec::as_slice));
                    out.insert(key.clone(), Value::Array(mounts));
                }
                "deploy" | "restart" => {}
                _ => self.not_kept(name, key, value),
            }
        }
        if let Some(image) = self.options.images.get(name)
            && !out.contains_key("image")
        {
            out.insert("image".into(), Value::from(image.clone()));
        }
        if svc.contains_key("build") && !out.contains_key("image") {
            let image = builds(
                &serde_json::json!({"name": self.project, "services": {name: svc}}),
                self.options,
            )
            .into_iter()
            .next()
            .map(|b| b.image);
            if let Some(image) = image {
                out.insert("image".into(), Value::from(image));
            }
        }
        if !secret_mounts.is_empty() {
            let mut all = out
                .get("secrets")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            all.extend(secret_mounts);
            out.insert("secrets".into(), Value::Array(all));
        }
        let deploy = self.deploy(name, svc);
        if !deploy.is_empty() {
            out.insert("deploy".into(), Value::Object(deploy));
        }
        out
    }

    /// A key of service `name` the stack file does not keep: dropped with a warning, or
    /// refused.
    fn not_kept(&mut self, name: &str, key: &str, value: &Value) {
        let path = ["services", name, key];
        match key {
            "build" => self.warn(
                &path,
                format!("`build` of service `{name}` is dropped: Swarm runs images only, so the image is built and tagged before the deploy"),
            ),
            "depends_on" => {
                let deps: Vec<&str> = match value {
                    Value::Object(m) => m.keys().map(String::as_str).collect(),
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                self.add(
                    Level::Warning,
                    &path,
                    format!("`depends_on` of service `{name}` is dropped: Swarm starts services in no order and waits for no health"),
                    Some(format!(
                        "`{name}` must retry until {} {}",
                        quoted(&deps),
                        if deps.len() > 1 { "answer" } else { "answers" }
                    )),
                );
            }
            "container_name" => self.warn(
                &path,
                format!("`container_name` of service `{name}` is dropped: Swarm names the tasks"),
            ),
            "profiles" => self.warn(
                &path,
                format!("`profiles` of service `{name}` is dropped: a stack runs every service it lists"),
            ),
            "security_opt" | "privileged" | "devices" | "links" | "external_links"
            | "pid" | "ipc" | "shm_size" | "userns_mode" | "cgroup_parent"
            | "cgroupns_mode" | "pull_policy" | "group_add" | "oom_score_adj" | "runtime"
            | "storage_opt" | "platform" | "scale" | "env_file" | "label_file"
            | "annotations" | "attach" | "develop" | "domainname" | "mac_address" => self.warn(
                &path,
                format!("`{key}` of service `{name}` is dropped: Swarm services cannot set it"),
            ),
            "expose" => self.warn(
                &path,
                format!("`expose` of service `{name}` is dropped: on a stack's network every port of a service is reachable"),
            ),
            "network_mode" => self.refuse(
                &path,
                format!("`network_mode` of service `{name}` is refused: Swarm ignores it and would attach the service to the stack's network instead"),
                "attach the service to a network of the stack, or run it with timmy up",
            ),
            "volumes_from" | "volume_driver" | "extends" => self.refuse(
                &path,
                format!("`{key}` of service `{name}` is refused by Swarm"),
                "share a named volume of the top-level `volumes` between the services instead",
            ),
            "cpus" | "cpu_count" | "cpu_percent" | "cpu_shares" | "cpu_quota"
            | "cpu_period" | "cpu_rt_runtime" | "cpu_rt_period" | "cpuset" | "mem_limit"
            | "mem_reservation" | "memswap_limit" | "mem_swappiness" | "pids_limit" => {
                self.refuse(
                    &path,
                    format!("`{key}` of service `{name}` is refused by Swarm"),
                    "set the limit under deploy.resources (limits: cpus, memory, pids; reservations: cpus, memory)",
                );
            }
            _ => self.refuse(
                &path,
                format!("`{key}` of service `{name}` is not a key Swarm's stack files have"),
                "remove it from the files of this environment, or deploy it with timmy up",
            ),
        }
    }

    fn deploy(&mut self, name: &str, svc: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in object(svc.get("deploy").unwrap_or(&Value::Null)) {
            match key.as_str() {
                "mode" | "replicas" | "labels" | "restart_policy" | "endpoint_mode" => {
                    out.insert(key.clone(), value.clone());
                }
                "update_config" | "rollback_config" => {
                    let kept = keep(
                        value,
                        &[
                            "parallelism",
                            "delay",
                            "failure_action",
                            "monitor",
                            "max_failure_ratio",
                            "order",
                        ],
                    );
                    out.insert(key.clone(), kept);
                }
                "placement" => {
                    let kept = keep(
                        value,
                        &["constraints", "preferences", "max_replicas_per_node"],
                    );
                    if !object(&kept).is_empty() {
                        out.insert(key.clone(), kept);
                    }
                }
                "resources" => {
                    let resources = self.resources(name, object(value));
                    out.insert(key.clone(), Value::Object(resources));
                }
                _ => self.warn(
                    &["services", name, "deploy", key],
                    format!("`deploy.{key}` of service `{name}` is dropped: Swarm's stack files do not have it"),
                ),
            }
        }
        if let Some(restart) = svc.get("restart").and_then(Value::as_str) {
            let path = ["services", name, "restart"];
            if out.contains_key("restart_policy") {
                self.warn(
                    &path,
                    format!("`restart: {restart}` of service `{name}` is dropped: its deploy.restart_policy decides"),
                );
            } else {
                let (condition, attempts) = match restart.split_once(':') {
                    Some(("on-failure", n)) => ("on-failure", n.parse::<u64>().ok()),
                    _ => match restart {
                        "no" => ("none", None),
                        "on-failure" => ("on-failure", None),
                        _ => ("any", None),
                    },
                };
                let mut policy = Map::new();
                policy.insert("condition".into(), Value::from(condition));
                if let Some(n) = attempts {
                    policy.insert("max_attempts".into(), Value::from(n));
                }
                out.insert("restart_policy".into(), Value::Object(policy));
                self.warn(
                    &path,
                    format!("`restart: {restart}` of service `{name}` becomes deploy.restart_policy.condition: {condition}"),
                );
            }
        }
        out.insert(
            "endpoint_mode".into(),
            Value::from(self.options.endpoint_mode.as_str()),
        );
        if let Some(replicas) = self.options.scale.get(name) {
            if out.get("mode").and_then(Value::as_str) == Some("global") {
                self.refuse(
                    &["services", name, "deploy", "mode"],
                    format!(
                        "--scale sets replicas of `{name}`, a global service (one task per node)"
                    ),
                    "scale only replicated services",
                );
            } else {
                out.insert("replicas".into(), Value::from(*replicas));
            }
        }
        out
    }

    fn resources(&mut self, name: &str, resources: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (kind, allowed) in [
            ("limits", &["cpus", "memory", "pids"][..]),
            ("reservations", &["cpus", "memory", "generic_resources"][..]),
        ] {
            let Some(given) = resources.get(kind).map(object) else {
                continue;
            };
            let mut kept = Map::new();
            for (key, value) in given {
                if !allowed.contains(&key.as_str()) {
                    self.warn(
                        &["services", name, "deploy", "resources", kind, key],
                        format!("`deploy.resources.{kind}.{key}` of service `{name}` is dropped: Swarm's stack files do not have it"),
                    );
                    continue;
                }
                // The v3 loader takes cpus and memory as strings only.
                let value = match (key.as_str(), value) {
                    ("cpus" | "memory", Value::Number(n)) => Value::from(n.to_string()),
                    _ => value.clone(),
                };
                kept.insert(key.clone(), value);
            }
            out.insert(kind.into(), Value::Object(kept));
        }
        for key in resources.keys() {
            if key != "limits" && key != "reservations" {
                self.warn(
                    &["services", name, "deploy", "resources", key],
                    format!("`deploy.resources.{key}` of service `{name}` is dropped: Swarm's stack files do not have it"),
                );
            }
        }
        out
    }

    fn healthcheck(&mut self, name: &str, check: &Map<String, Value>) -> Value {
        let mut out = Map::new();
        for (key, value) in check {
            match key.as_str() {
                "test" | "interval" | "timeout" | "retries" | "start_period" | "disable" => {
                    out.insert(key.clone(), value.clone());
                }
                _ => self.warn(
                    &["services", name, "healthcheck", key],
                    format!("`healthcheck.{key}` of service `{name}` is dropped: stack files ({STACK_VERSION}) do not have it"),
                ),
            }
        }
        Value::Object(out)
    }
}

/// `extra_hosts` as docker/cli's v3 loader reads them, `host:ip`. Compose prints `host=ip`
/// (measured on 2.26.1), which that loader splits on `:` and silently drops.
fn extra_hosts(value: &Value) -> Vec<Value> {
    match value {
        Value::Object(m) => m
            .iter()
            .map(|(host, ip)| Value::from(format!("{host}:{}", value_text(Some(ip)))))
            .collect(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item.as_str().and_then(|e| e.split_once('=')) {
                Some((host, ip)) => Value::from(format!("{host}:{ip}")),
                None => item.clone(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `a`, `a` and `b`, `a`, `b` and `c`.
fn quoted(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => "its dependencies".to_owned(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}
