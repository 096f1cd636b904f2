//! The pure translation: `docker compose config --format json` of an environment (its files
//! merged, `.env` interpolated by Compose itself) → a stack file for `docker stack deploy -c -`,
//! the services to build first, the secret files to write, and a finding for every key Swarm
//! would drop, change or refuse, named by compose file, line and key. Which keys exist and
//! which types they take follows docker/cli's own v3 loader and schema (`cli/compose/`,
//! schema 3.9, the newest CLI 20.10 reads): a key it does not know is refused here, so a
//! deploy never starts with a file Swarm reads differently from what the user wrote.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{EndpointMode, PublishMode, SecretsMode};
use crate::check::{Finding, Level};
use crate::secrets::{self, Masker};
use crate::yaml::{self, Node};

/// The stack file format written: the newest docker/cli 20.10 knows (28.x reads it too).
pub const STACK_VERSION: &str = "3.9";
/// Where Swarm mounts a service's secrets.
pub const SECRETS_MOUNT: &str = "/run/secrets";

/// What the translation needs besides the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The stack's namespace: the env's project name.
    pub namespace: String,
    /// The project root, against which a relative bind-mount source is made absolute.
    pub project_dir: PathBuf,
    /// The image each built service runs (service → reference, e.g. a content tag); a built
    /// service not listed keeps Compose's image name.
    pub images: BTreeMap<String, String>,
    pub endpoint_mode: EndpointMode,
    /// `None` when the user did not say: ports bound to one address are then refused.
    pub publish_mode: Option<PublishMode>,
    pub secrets: SecretsMode,
    /// Where the secret files of [`Rendered::secret_files`] are written (absolute).
    pub secrets_dir: PathBuf,
    /// Replicas per service, over what the files say.
    pub scale: BTreeMap<String, u64>,
}

impl Options {
    /// Swarm's defaults: `vip`, publish mode not given, secrets as Swarm secrets, no images,
    /// no scale.
    #[must_use]
    pub fn new(namespace: &str, project_dir: &Path, secrets_dir: &Path) -> Self {
        Self {
            namespace: namespace.to_owned(),
            project_dir: project_dir.to_owned(),
            images: BTreeMap::new(),
            endpoint_mode: EndpointMode::Vip,
            publish_mode: None,
            secrets: SecretsMode::Swarm,
            secrets_dir: secrets_dir.to_owned(),
            scale: BTreeMap::new(),
        }
    }
}

/// A service Swarm cannot build: it must be built and tagged as `image` before the deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub service: String,
    /// The image the stack file runs for this service.
    pub image: String,
    /// Compose's `build` section as `config` printed it (context made absolute).
    pub build: Value,
}

/// A secret value to write to `path` (mode 0600) before `docker stack deploy` reads it; the
/// stack names it `name` and mounts it at `/run/secrets/KEY`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretFile {
    pub key: String,
    pub name: String,
    pub path: PathBuf,
    pub value: String,
}

impl fmt::Debug for SecretFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretFile")
            .field("key", &self.key)
            .field("name", &self.name)
            .field("path", &self.path)
            .field("value", &secrets::mask(&self.value))
            .finish()
    }
}

/// The translation's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The stack file as data; [`Rendered::text`] is what `docker stack deploy -c -` reads.
    pub stack: Value,
    pub secret_files: Vec<SecretFile>,
    pub builds: Vec<Build>,
    /// Warnings (dropped or changed) and errors (refused: nothing may be deployed).
    pub findings: Vec<Finding>,
}

impl Rendered {
    /// The stack file, YAML, every value as it is.
    #[must_use]
    pub fn text(&self) -> String {
        let mut out = String::new();
        emit_map(&mut out, object(&self.stack), 0, &|_, s| s.to_owned());
        out
    }

    /// The stack file for people: every secret value masked as `timmy config` masks it; the
    /// names, paths and mount points of the secrets made here are shown as they are.
    #[must_use]
    pub fn display(&self, masker: &Masker) -> String {
        let ours: Vec<String> = self
            .secret_files
            .iter()
            .flat_map(|f| {
                let source = f
                    .path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                [
                    f.name.clone(),
                    f.path.display().to_string(),
                    source,
                    format!("{SECRETS_MOUNT}/{}", f.key),
                ]
            })
            .collect();
        let mut out = String::new();
        emit_map(&mut out, object(&self.stack), 0, &|key, s| {
            if ours.iter().any(|o| o == s) {
                s.to_owned()
            } else {
                masker.value(key, s)
            }
        });
        out
    }

    /// True when a finding refuses the deploy.
    #[must_use]
    pub fn refused(&self) -> bool {
        self.findings.iter().any(|f| f.level == Level::Error)
    }
}

/// The services of `config` that have `build:`, with the image each runs under `options`.
#[must_use]
pub fn builds(config: &Value, options: &Options) -> Vec<Build> {
    let project = config.get("name").and_then(Value::as_str).unwrap_or("");
    object(config.get("services").unwrap_or(&Value::Null))
        .iter()
        .filter_map(|(name, svc)| {
            let build = svc.get("build")?.clone();
            let image = options.images.get(name).cloned().unwrap_or_else(|| {
                svc.get("image")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("{project}-{name}"), str::to_owned)
            });
            Some(Build {
                service: name.clone(),
                image,
                build,
            })
        })
        .collect()
}

/// Translate `config` (`docker compose config --format json`, parsed) into a stack. `files`
/// are the stack's compose files as (display name, text), to name where a key was written.
#[must_use]
pub fn render(config: &Value, files: &[(String, String)], options: &Options) -> Rendered {
    let trees = files
        .iter()
        .map(|(shown, text)| (shown.clone(), yaml::parse(text).ok().flatten()))
        .collect();
    let mut r = Renderer {
        options,
        trees,
        project: config
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(&options.namespace)
            .to_owned(),
        findings: Vec::new(),
        secrets: Map::new(),
        secret_files: Vec::new(),
    };
    let mut stack = Map::new();
    stack.insert("version".into(), Value::from(STACK_VERSION));
    let empty = Map::new();
    let top = config.as_object().unwrap_or(&empty);
    for (key, value) in top {
        match key.as_str() {
            // The project name is the stack's namespace; extension fields are Compose's.
            "name" => {}
            k if k.starts_with("x-") => {}
            "services" => {
                let services = r.services(object(value));
                stack.insert(key.clone(), Value::Object(services));
            }
            "networks" => {
                let networks = r.networks(object(value));
                stack.insert(key.clone(), Value::Object(networks));
            }
            "volumes" => {
                let volumes = r.volumes(object(value));
                stack.insert(key.clone(), Value::Object(volumes));
            }
            "secrets" | "configs" => {
                let kept = r.files_of(key, object(value));
                stack.insert(key.clone(), Value::Object(kept));
            }
            other => r.refuse(
                &[other],
                format!("`{other}` is not a key Swarm's stack files have"),
                "remove it from the files of this environment, or deploy it with timmy up",
            ),
        }
    }
    for service in options.scale.keys() {
        if !object(top.get("services").unwrap_or(&Value::Null)).contains_key(service) {
            r.add_at(
                Level::Error,
                ("--scale".to_owned(), None),
                format!("`{service}` is not a service of this stack"),
                Some("name a service of the stack (timmy config ENV lists them)".to_owned()),
            );
        }
    }
    if !r.secrets.is_empty() {
        let mut all = object(stack.get("secrets").unwrap_or(&Value::Null)).clone();
        all.extend(std::mem::take(&mut r.secrets));
        stack.insert("secrets".into(), Value::Object(all));
    }
    Rendered {
        stack: Value::Object(stack),
        secret_files: r.secret_files,
        builds: builds(config, options),
        findings: r.findings,
    }
}

struct Renderer<'a> {
    options: &'a Options,
    trees: Vec<(String, Option<Node>)>,
    /// Compose's project name, the prefix of the network names it printed.
    project: String,
    findings: Vec<Finding>,
    /// Top-level secrets made from the environment's values.
    secrets: Map<String, Value>,
    secret_files: Vec<SecretFile>,
}

fn object(value: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
    value.as_object().unwrap_or(&EMPTY)
}

impl Renderer<'_> {
    /// The file and line that wrote `path`: the last file (overrides win) holding the key,
    /// else the nearest parent key, else the base file.
    fn locate(&self, path: &[&str]) -> (String, Option<usize>) {
        for len in (1..=path.len()).rev() {
            for (shown, tree) in self.trees.iter().rev() {
                if let Some(line) = tree.as_ref().and_then(|t| t.line_of(&path[..len])) {
                    return (shown.clone(), Some(line));
                }
            }
        }
        let file = self
            .trees
            .first()
            .map_or_else(|| "docker/docker-compose.yml".to_owned(), |t| t.0.clone());
        (file, None)
    }

    /// The file and line of the item of `services.<service>.<list>` that `is_it` picks
    /// (Compose merges `ports` and `volumes` by target, so an index of the configuration is
    /// not an index of a file); else the list's key.
    fn locate_item(
        &self,
        service: &str,
        list: &str,
        is_it: &dyn Fn(&Node) -> bool,
    ) -> (String, Option<usize>) {
        for (shown, tree) in self.trees.iter().rev() {
            let item = tree
                .as_ref()
                .and_then(|t| t.get("services")?.get(service)?.get(list))
                .and_then(|l| match &l.value {
                    yaml::Value::Seq(items) => items.iter().find(|i| is_it(i)),
                    _ => None,
                });
            if let Some(item) = item {
                return (shown.clone(), Some(item.line));
            }
        }
        self.locate(&["services", service, list])
    }

    fn add(&mut self, level: Level, path: &[&str], message: String, hint: Option<String>) {
        let (file, line) = self.locate(path);
        self.add_at(level, (file, line), message, hint);
    }

    fn add_at(
        &mut self,
        level: Level,
        (file, line): (String, Option<usize>),
        message: String,
        hint: Option<String>,
    ) {
        self.findings.push(Finding {
            file,
            line,
            level,
            message,
            hint,
            key: None,
        });
    }

    fn warn(&mut self, path: &[&str], message: String) {
        self.add(Level::Warning, path, message, None);
    }

    fn refuse(&mut self, path: &[&str], message: String, hint: &str) {
        self.add(Level::Error, path, message, Some(hint.to_owned()));
    }

    fn services(&mut self, services: &Map<String, Value>) -> Map<String, Value> {
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

    /// The environment, and in secrets mode `swarm` the service's mounts of the secrets made
    /// from it.
    fn environment(
        &mut self,
        name: &str,
        env: &Map<String, Value>,
    ) -> (Map<String, Value>, Vec<Value>) {
        if self.options.secrets == SecretsMode::Env {
            let secret = env
                .iter()
                .any(|(k, v)| v.as_str().is_some_and(|v| secrets::is_secret(k, v)));
            if secret {
                self.warn(
                    &["services", name, "environment"],
                    format!("the secret values of service `{name}` stay in its environment (--secrets env): `docker service inspect` shows them"),
                );
            }
            return (env.clone(), Vec::new());
        }
        let mut out = Map::new();
        let mut mounted = Vec::new();
        for (key, value) in env {
            let Some(text) = value.as_str().filter(|v| secrets::is_secret(key, v)) else {
                out.insert(key.clone(), value.clone());
                continue;
            };
            // Compose prints a `$` of a value as `$$` (the stack file's loader reads it back as
            // one `$`); the secret file holds the value itself.
            let text = text.replace("$$", "$");
            let hash = content_hash(&text);
            let source = format!("{key}_{hash}");
            let secret_name = format!("{}_{source}", self.options.namespace);
            let path = self.options.secrets_dir.join(&source);
            if !self.secrets.contains_key(&source) {
                let mut top = Map::new();
                top.insert("name".into(), Value::from(secret_name.clone()));
                let file = path.display().to_string().replace('$', "$$");
                top.insert("file".into(), Value::from(file));
                self.secrets.insert(source.clone(), Value::Object(top));
                self.secret_files.push(SecretFile {
                    key: key.clone(),
                    name: secret_name,
                    path,
                    value: text,
                });
            }
            out.insert(
                format!("{key}_FILE"),
                Value::from(format!("{SECRETS_MOUNT}/{key}")),
            );
            mounted.push(serde_json::json!({"source": source, "target": key}));
        }
        (out, mounted)
    }

    /// A service's networks: attachments with their aliases and addresses.
    fn service_networks(&mut self, name: &str, value: &Value) -> Value {
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

    /// Ports in the long form: `published` an integer, the publish mode applied; a port bound
    /// to one address is refused until the user says how to publish (Swarm binds every
    /// interface).
    fn ports(&mut self, name: &str, ports: &[Value]) -> Vec<Value> {
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

    /// Mounts in the long form, bind sources absolute: Swarm neither resolves nor creates
    /// them, so each must exist on every node that runs the service (one warning per
    /// service, at its first bind mount).
    fn mounts(&mut self, name: &str, mounts: &[Value]) -> Vec<Value> {
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

    /// Networks as attachable overlays, under the name Swarm gives them (the namespace's).
    fn networks(&mut self, networks: &Map<String, Value>) -> Map<String, Value> {
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

    /// Top-level `secrets` or `configs` (`kind`) of the compose files: Swarm reads them from a
    /// file or takes existing ones (`external`), never from `environment` or `content`.
    fn files_of(&mut self, kind: &str, entries: &Map<String, Value>) -> Map<String, Value> {
        const KEYS: &[&str] = &[
            "name",
            "file",
            "external",
            "labels",
            "driver",
            "driver_opts",
            "template_driver",
        ];
        let mut out = Map::new();
        for (name, entry) in entries {
            for key in object(entry).keys() {
                if !KEYS.contains(&key.as_str()) {
                    self.refuse(
                        &[kind, name, key],
                        format!("`{kind}.{name}.{key}`: Swarm reads {kind} from a file, or takes existing ones (external)"),
                        "write the value to a file and name it with `file:`",
                    );
                }
            }
            out.insert(name.clone(), keep(entry, KEYS));
        }
        out
    }

    /// Named volumes under the names Compose gave them, so a stack finds the data the
    /// single-host stack wrote on the same node.
    fn volumes(&mut self, volumes: &Map<String, Value>) -> Map<String, Value> {
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

/// A `volumes` item of a compose file that mounts at `target`: `"./data:/app/data:rw"`,
/// `"${DIR:-./w}:/workspace"` or `{target: /app/data}`.
fn mount_item_is(item: &Node, target: &str) -> bool {
    match item.as_str() {
        Some(text) => text.split(':').any(|part| part == target),
        None => item.get("target").and_then(Node::as_str) == Some(target),
    }
}

fn value_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "?".to_owned(),
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

/// The first 12 hex digits of the value's SHA-256: a new value makes a new secret name, so
/// Swarm rolls the services that use it.
fn content_hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    digest.iter().take(6).fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// `value`'s mapping with only `keys`.
fn keep(value: &Value, keys: &[&str]) -> Value {
    Value::Object(
        object(value)
            .iter()
            .filter(|(k, _)| keys.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
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

/// YAML for `docker stack deploy`: block style, every string double-quoted (JSON's escapes
/// are YAML's), `scalar` mapping each string under its key before it is quoted.
type ScalarFn<'a> = &'a dyn Fn(Option<&str>, &str) -> String;

fn emit_map(out: &mut String, map: &Map<String, Value>, indent: usize, scalar: ScalarFn) {
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

#[cfg(test)]
mod tests {
    use super::*;

    const PROD: &str = include_str!("testdata/prod.json");

    fn files() -> Vec<(String, String)> {
        [
            "docker/docker-compose.yml",
            "docker/docker-compose.prod.yml",
        ]
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(f));
            ((*f).to_owned(), text.unwrap_or_default())
        })
        .collect()
    }

    fn options() -> Options {
        Options::new(
            "timmy",
            Path::new("/srv/timmy"),
            Path::new("/run/user/1000/timmy"),
        )
    }

    fn prod() -> Value {
        serde_json::from_str(PROD).unwrap()
    }

    #[test]
    fn prod_renders_to_a_stack_file_with_its_secrets_as_swarm_secrets() {
        let mut o = options();
        o.publish_mode = Some(PublishMode::Host);
        let r = render(&prod(), &files(), &o);
        assert_eq!(r.text(), include_str!("testdata/prod.stack.yml"));
        let files: Vec<(&str, &str, String, &str)> = r
            .secret_files
            .iter()
            .map(|f| {
                (
                    f.key.as_str(),
                    f.name.as_str(),
                    f.path.display().to_string(),
                    f.value.as_str(),
                )
            })
            .collect();
        assert_eq!(
            files,
            [
                (
                    "ANTHROPIC_API_KEY",
                    "timmy_ANTHROPIC_API_KEY_7aab4a478b27",
                    "/run/user/1000/timmy/ANTHROPIC_API_KEY_7aab4a478b27".to_owned(),
                    "sk-ant-your_key_here"
                ),
                (
                    "CLICKUP_API_TOKEN",
                    "timmy_CLICKUP_API_TOKEN_d6b162932db3",
                    "/run/user/1000/timmy/CLICKUP_API_TOKEN_d6b162932db3".to_owned(),
                    "pk_your_token_here"
                ),
                (
                    "GITHUB_TOKEN",
                    "timmy_GITHUB_TOKEN_2fdacb9cd4b0",
                    "/run/user/1000/timmy/GITHUB_TOKEN_2fdacb9cd4b0".to_owned(),
                    "ghp_your_token_here"
                ),
                (
                    "OPENAI_API_KEY",
                    "timmy_OPENAI_API_KEY_3bb9fbfa54c6",
                    "/run/user/1000/timmy/OPENAI_API_KEY_3bb9fbfa54c6".to_owned(),
                    "sk-your_key_here"
                ),
            ]
        );
        assert_eq!(
            r.builds,
            [Build {
                service: "timmy".into(),
                image: "timmy-timmy:prod".into(),
                build: serde_json::json!({
                    "context": "/srv/timmy",
                    "dockerfile": "docker/Dockerfile.prod",
                    "args": {"NODE_IMAGE": "node:20-slim"}
                }),
            }]
        );
        assert!(!r.refused());
    }

    #[test]
    fn dev_renders_with_its_two_local_ports_its_terminal_and_its_source_mount() {
        let config: Value = serde_json::from_str(include_str!("testdata/dev.json")).unwrap();
        let files: Vec<(String, String)> =
            ["docker/docker-compose.yml", "docker/docker-compose.dev.yml"]
                .iter()
                .map(|f| {
                    let text =
                        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(f));
                    ((*f).to_owned(), text.unwrap())
                })
                .collect();
        let mut o = Options::new("timmy-dev", Path::new("/srv/timmy"), Path::new("/run/s"));
        let r = render(&config, &files, &o);
        assert_eq!(
            found(&r)
                .iter()
                .filter(|f| f.starts_with("error"))
                .collect::<Vec<_>>(),
            [
                "error: docker/docker-compose.dev.yml:18: port 3000:3000 of service `timmy` is published on 127.0.0.1 only, and Swarm publishes on every interface (hint: say how to publish: timmy deploy --publish ingress (every node) or --publish host (the node running the task), or SWARM_PUBLISH_MODE in .env)",
                "error: docker/docker-compose.dev.yml:19: port 9229:9229 of service `timmy` is published on 127.0.0.1 only, and Swarm publishes on every interface (hint: say how to publish: timmy deploy --publish ingress (every node) or --publish host (the node running the task), or SWARM_PUBLISH_MODE in .env)",
            ]
        );
        o.publish_mode = Some(PublishMode::Host);
        let r = render(&config, &files, &o);
        assert_eq!(
            found(&r),
            [
                "warning: docker/docker-compose.yml:67: network `timmy-network` becomes an attachable overlay network: a bridge reaches one host only",
                "warning: docker/docker-compose.dev.yml:8: `build` of service `timmy` is dropped: Swarm runs images only, so the image is built and tagged before the deploy",
                "warning: docker/docker-compose.yml:51: `depends_on` of service `timmy` is dropped: Swarm starts services in no order and waits for no health (hint: `timmy` must retry until `redis` answers)",
                "warning: docker/docker-compose.dev.yml:18: port 3000:3000 of service `timmy` was published on 127.0.0.1 only; Swarm publishes it on every interface (host mode)",
                "warning: docker/docker-compose.dev.yml:19: port 9229:9229 of service `timmy` was published on 127.0.0.1 only; Swarm publishes it on every interface (host mode)",
                "warning: docker/docker-compose.yml:47: bind mounts /srv/timmy/workspace, /srv/timmy/data, /srv/timmy/config, /srv/timmy/logs, /srv/timmy/app of service `timmy` must exist on every node that runs it: Swarm does not create them",
            ]
        );
        let timmy = &r.stack["services"]["timmy"];
        assert_eq!(
            (&timmy["tty"], &timmy["stdin_open"]),
            (&Value::Bool(true), &Value::Bool(true))
        );
        assert_eq!(timmy["image"], "timmy-dev-timmy:dev");
        assert_eq!(timmy["environment"]["NODE_ENV"], "development");
        assert_eq!(r.secret_files.len(), 4);
        assert_eq!(
            r.stack["volumes"]["redis-data"]["name"],
            "timmy-dev_redis-data"
        );
    }

    #[test]
    fn a_built_service_runs_the_image_it_is_given() {
        let mut o = options();
        o.publish_mode = Some(PublishMode::Host);
        o.images.insert("timmy".into(), "timmy-timmy:3f2a9c".into());
        let r = render(&prod(), &files(), &o);
        assert_eq!(r.stack["services"]["timmy"]["image"], "timmy-timmy:3f2a9c");
        assert_eq!(r.stack["services"]["redis"]["image"], "redis:7-alpine");
        assert_eq!(r.builds[0].image, "timmy-timmy:3f2a9c");
        // Any service's image can be given (a registry's copy, say).
        o.images
            .insert("redis".into(), "127.0.0.1:5000/redis:7-alpine".into());
        let r = render(&prod(), &files(), &o);
        assert_eq!(
            r.stack["services"]["redis"]["image"],
            "127.0.0.1:5000/redis:7-alpine"
        );
        assert_eq!(r.builds.len(), 1);
    }

    #[test]
    fn the_display_masks_every_secret_value_and_keeps_the_secret_names() {
        let mut config = prod();
        config["services"]["timmy"]["environment"]["SENTRY_DSN"] =
            Value::from("https://abc:s3cr3tpassw0rd@sentry.example.com/1");
        let mut o = options();
        o.publish_mode = Some(PublishMode::Host);
        o.secrets = SecretsMode::Env;
        let masker = Masker::new([("GITHUB_TOKEN", "ghp_your_token_here")]);
        let shown = render(&config, &files(), &o).display(&masker);
        assert!(
            shown.contains("      GITHUB_TOKEN: \"ghp_****\"\n"),
            "{shown}"
        );
        assert!(shown.contains("      SENTRY_DSN: \"****\"\n"), "{shown}");
        assert!(
            shown.contains("      OPENAI_API_KEY: \"sk-****\"\n"),
            "{shown}"
        );
        assert!(!shown.contains("your_key_here"), "{shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");

        o.secrets = SecretsMode::Swarm;
        let r = render(&config, &files(), &o);
        let shown = r.display(&masker);
        assert!(
            shown.contains("      GITHUB_TOKEN_FILE: \"/run/secrets/GITHUB_TOKEN\"\n"),
            "{shown}"
        );
        assert!(
            shown.contains("    name: \"timmy_OPENAI_API_KEY_3bb9fbfa54c6\"\n"),
            "{shown}"
        );
        assert!(
            shown.contains("      - source: \"GITHUB_TOKEN_2fdacb9cd4b0\"\n"),
            "{shown}"
        );
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert_eq!(
            format!("{:?}", r.secret_files[0]),
            "SecretFile { key: \"ANTHROPIC_API_KEY\", name: \"timmy_ANTHROPIC_API_KEY_7aab4a478b27\", path: \"/run/user/1000/timmy/ANTHROPIC_API_KEY_7aab4a478b27\", value: \"sk-ant-****\" }"
        );
    }

    /// One service `svc` from `json`, written in a one-file stack `yml` for the locations.
    fn one(json: &str, yml: &str, o: &Options) -> Rendered {
        let svc: Value = serde_json::from_str(json).unwrap();
        let config = serde_json::json!({"name": "timmy", "services": {"svc": svc}});
        let files = [("docker/docker-compose.yml".to_owned(), yml.to_owned())];
        render(&config, &files, o)
    }

    fn found(r: &Rendered) -> Vec<String> {
        r.findings
            .iter()
            .map(|f| {
                let level = if f.level == Level::Error {
                    "error"
                } else {
                    "warning"
                };
                match &f.hint {
                    Some(h) => format!("{level}: {f} (hint: {h})"),
                    None => format!("{level}: {f}"),
                }
            })
            .collect()
    }

    #[test]
    fn restart_becomes_the_restart_policy() {
        for (restart, policy) in [
            ("no", serde_json::json!({"condition": "none"})),
            ("always", serde_json::json!({"condition": "any"})),
            ("unless-stopped", serde_json::json!({"condition": "any"})),
            ("on-failure", serde_json::json!({"condition": "on-failure"})),
            (
                "on-failure:3",
                serde_json::json!({"condition": "on-failure", "max_attempts": 3}),
            ),
        ] {
            let json = format!(r#"{{"image": "i", "restart": "{restart}"}}"#);
            let yml = format!("services:\n  svc:\n    image: i\n    restart: {restart}\n");
            let r = one(&json, &yml, &options());
            assert_eq!(
                r.stack["services"]["svc"]["deploy"]["restart_policy"],
                policy
            );
            let condition = policy["condition"].as_str().unwrap();
            assert_eq!(
                found(&r),
                [format!(
                    "warning: docker/docker-compose.yml:4: `restart: {restart}` of service `svc` becomes deploy.restart_policy.condition: {condition}"
                )]
            );
            assert!(r.stack["services"]["svc"].get("restart").is_none());
        }
        let r = one(
            r#"{"image": "i", "restart": "always", "deploy": {"restart_policy": {"condition": "on-failure"}}}"#,
            "services:\n  svc:\n    restart: always\n",
            &options(),
        );
        assert_eq!(
            r.stack["services"]["svc"]["deploy"]["restart_policy"],
            serde_json::json!({"condition": "on-failure"})
        );
        assert_eq!(
            found(&r),
            [
                "warning: docker/docker-compose.yml:3: `restart: always` of service `svc` is dropped: its deploy.restart_policy decides"
            ]
        );
    }

    #[test]
    fn depends_on_is_dropped_and_the_service_must_retry() {
        let yml = "services:\n  svc:\n    image: i\n    depends_on:\n      redis:\n        condition: service_healthy\n";
        let r = one(
            r#"{"image": "i", "depends_on": {"redis": {"condition": "service_healthy", "required": true}, "db": {"condition": "service_started"}}}"#,
            yml,
            &options(),
        );
        assert!(r.stack["services"]["svc"].get("depends_on").is_none());
        assert_eq!(
            found(&r),
            [
                "warning: docker/docker-compose.yml:4: `depends_on` of service `svc` is dropped: Swarm starts services in no order and waits for no health (hint: `svc` must retry until `db` and `redis` answer)"
            ]
        );
    }

    #[test]
    fn keys_swarm_ignores_are_dropped_with_a_warning_naming_file_line_and_key() {
        let yml = "services:\n  svc:\n    image: i\n    container_name: c\n    security_opt:\n      - no-new-privileges:true\n    profiles: [tools]\n    privileged: true\n    expose: [80]\n    mac_address: 02:42:ac:11:00:02\n";
        let r = one(
            r#"{"image": "i", "container_name": "c", "security_opt": ["no-new-privileges:true"], "profiles": ["tools"], "privileged": true, "tty": true, "expose": ["80"], "mac_address": "02:42:ac:11:00:02"}"#,
            yml,
            &options(),
        );
        assert_eq!(
            found(&r),
            [
                "warning: docker/docker-compose.yml:4: `container_name` of service `svc` is dropped: Swarm names the tasks",
                "warning: docker/docker-compose.yml:9: `expose` of service `svc` is dropped: on a stack's network every port of a service is reachable",
                "warning: docker/docker-compose.yml:10: `mac_address` of service `svc` is dropped: Swarm services cannot set it",
                "warning: docker/docker-compose.yml:8: `privileged` of service `svc` is dropped: Swarm services cannot set it",
                "warning: docker/docker-compose.yml:7: `profiles` of service `svc` is dropped: a stack runs every service it lists",
                "warning: docker/docker-compose.yml:5: `security_opt` of service `svc` is dropped: Swarm services cannot set it",
            ]
        );
        assert_eq!(
            r.stack["services"]["svc"],
            serde_json::json!({"image": "i", "tty": true, "deploy": {"endpoint_mode": "vip"}})
        );
        assert!(!r.refused());
    }

    #[test]
    fn keys_swarm_refuses_stop_the_deploy_with_a_hint() {
        let yml = "services:\n  svc:\n    image: i\n    mem_limit: 1g\n    restartt: always\n    network_mode: host\n    volumes_from: [other]\n";
        let r = one(
            r#"{"image": "i", "mem_limit": "1073741824", "restartt": "always", "network_mode": "host", "volumes_from": ["other"]}"#,
            yml,
            &options(),
        );
        assert_eq!(
            found(&r),
            [
                "error: docker/docker-compose.yml:4: `mem_limit` of service `svc` is refused by Swarm (hint: set the limit under deploy.resources (limits: cpus, memory, pids; reservations: cpus, memory))",
                "error: docker/docker-compose.yml:6: `network_mode` of service `svc` is refused: Swarm ignores it and would attach the service to the stack's network instead (hint: attach the service to a network of the stack, or run it with timmy up)",
                "error: docker/docker-compose.yml:5: `restartt` of service `svc` is not a key Swarm's stack files have (hint: remove it from the files of this environment, or deploy it with timmy up)",
                "error: docker/docker-compose.yml:7: `volumes_from` of service `svc` is refused by Swarm (hint: share a named volume of the top-level `volumes` between the services instead)",
            ]
        );
        assert!(r.refused());
        let config =
            serde_json::json!({"name": "timmy", "services": {}, "include": [{"path": "x.yml"}]});
        let r = render(
            &config,
            &[(
                "docker/docker-compose.yml".into(),
                "include:\n  - x.yml\nservices: {}\n".into(),
            )],
            &options(),
        );
        assert_eq!(
            found(&r),
            [
                "error: docker/docker-compose.yml:1: `include` is not a key Swarm's stack files have (hint: remove it from the files of this environment, or deploy it with timmy up)"
            ]
        );
    }

    #[test]
    fn build_is_dropped_and_listed_with_the_image_to_tag() {
        let yml = "services:\n  svc:\n    build:\n      context: .\n";
        let json = r#"{"build": {"context": "/srv/timmy", "dockerfile": "Dockerfile"}}"#;
        let r = one(json, yml, &options());
        assert_eq!(r.stack["services"]["svc"]["image"], "timmy-svc");
        assert_eq!(
            r.builds,
            [Build {
                service: "svc".into(),
                image: "timmy-svc".into(),
                build: serde_json::json!({"context": "/srv/timmy", "dockerfile": "Dockerfile"}),
            }]
        );
        assert_eq!(
            found(&r),
            [
                "warning: docker/docker-compose.yml:3: `build` of service `svc` is dropped: Swarm runs images only, so the image is built and tagged before the deploy"
            ]
        );
        let mut o = options();
        o.images.insert("svc".into(), "timmy-svc:0123abcd".into());
        let r = one(json, yml, &o);
        assert_eq!(r.stack["services"]["svc"]["image"], "timmy-svc:0123abcd");
        assert_eq!(builds(&serde_json::json!({"name": "timmy", "services": {"svc": serde_json::from_str::<Value>(json).unwrap()}}), &o)[0].image, "timmy-svc:0123abcd");
    }

    #[test]
    fn cpus_and_memory_become_strings_and_limits_are_kept() {
        let json = r#"{"image": "i", "deploy": {"resources": {"limits": {"cpus": 2, "memory": 4294967296, "pids": 100}, "reservations": {"cpus": 0.5, "memory": "536870912", "devices": [{"capabilities": ["gpu"]}]}}, "placement": {}}}"#;
        let r = one(
            json,
            "services:\n  svc:\n    deploy:\n      resources:\n        reservations:\n          devices: []\n",
            &options(),
        );
        assert_eq!(
            r.stack["services"]["svc"]["deploy"],
            serde_json::json!({
                "endpoint_mode": "vip",
                "resources": {
                    "limits": {"cpus": "2", "memory": "4294967296", "pids": 100},
                    "reservations": {"cpus": "0.5", "memory": "536870912"}
                }
            })
        );
        assert_eq!(
            found(&r),
            [
                "warning: docker/docker-compose.yml:6: `deploy.resources.reservations.devices` of service `svc` is dropped: Swarm's stack files do not have it"
            ]
        );
    }

    #[test]
    fn logging_healthcheck_and_commands_are_kept_start_interval_and_nulls_are_not() {
        let json = r#"{"image": "i", "command": null, "entrypoint": ["tini", "--"], "logging": {"driver": "json-file", "options": {"max-size": "10m"}}, "healthcheck": {"test": ["CMD", "true"], "interval": "2s", "start_interval": "250ms"}}"#;
        let yml = "services:\n  svc:\n    healthcheck:\n      start_interval: 250ms\n";
        let r = one(json, yml, &options());
        assert_eq!(
            r.stack["services"]["svc"],
            serde_json::json!({
                "image": "i",
                "entrypoint": ["tini", "--"],
                "logging": {"driver": "json-file", "options": {"max-size": "10m"}},
                "healthcheck": {"test": ["CMD", "true"], "interval": "2s"},
                "deploy": {"endpoint_mode": "vip"}
            })
        );
        assert_eq!(
            found(&r),
            [
                "warning: docker/docker-compose.yml:4: `healthcheck.start_interval` of service `svc` is dropped: stack files (3.9) do not have it"
            ]
        );
    }

    const PORTS_YML: &str = "services:\n  svc:\n    ports:\n      - \"127.0.0.1:${PORT:-3000}:3000\"\n      - 8080:80\n";
    const PORTS: &str = r#"{"image": "i", "ports": [{"mode": "ingress", "host_ip": "127.0.0.1", "target": 3000, "published": "3000", "protocol": "tcp"}, {"mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp"}]}"#;

    #[test]
    fn a_port_on_one_address_is_refused_until_the_publish_mode_is_given() {
        let r = one(PORTS, PORTS_YML, &options());
        assert_eq!(
            found(&r),
            [
                "error: docker/docker-compose.yml:4: port 3000:3000 of service `svc` is published on 127.0.0.1 only, and Swarm publishes on every interface (hint: say how to publish: timmy deploy --publish ingress (every node) or --publish host (the node running the task), or SWARM_PUBLISH_MODE in .env)"
            ]
        );
        assert_eq!(
            r.stack["services"]["svc"]["ports"],
            serde_json::json!([{"target": 80, "published": 8080, "protocol": "tcp", "mode": "ingress"}])
        );
        for mode in [PublishMode::Ingress, PublishMode::Host] {
            let mut o = options();
            o.publish_mode = Some(mode);
            let r = one(PORTS, PORTS_YML, &o);
            let m = mode.as_str();
            assert_eq!(
                found(&r),
                [format!(
                    "warning: docker/docker-compose.yml:4: port 3000:3000 of service `svc` was published on 127.0.0.1 only; Swarm publishes it on every interface ({m} mode)"
                )]
            );
            assert_eq!(
                r.stack["services"]["svc"]["ports"],
                serde_json::json!([
                    {"target": 3000, "published": 3000, "protocol": "tcp", "mode": m},
                    {"target": 80, "published": 8080, "protocol": "tcp", "mode": m}
                ])
            );
        }
    }

    #[test]
    fn dnsrr_takes_host_mode_ports_only_and_is_set_on_every_service() {
        let mut o = options();
        o.endpoint_mode = EndpointMode::Dnsrr;
        o.publish_mode = Some(PublishMode::Ingress);
        let r = one(PORTS, PORTS_YML, &o);
        assert_eq!(
            found(&r),
            [
                "error: docker/docker-compose.yml:4: port 3000:3000 of service `svc` cannot use the routing mesh (ingress) with endpoint mode dnsrr (hint: publish in host mode (--publish host or SWARM_PUBLISH_MODE=host), or use SWARM_ENDPOINT_MODE=vip)",
                "error: docker/docker-compose.yml:5: port 8080:80 of service `svc` cannot use the routing mesh (ingress) with endpoint mode dnsrr (hint: publish in host mode (--publish host or SWARM_PUBLISH_MODE=host), or use SWARM_ENDPOINT_MODE=vip)",
            ]
        );
        o.publish_mode = Some(PublishMode::Host);
        let r = one(PORTS, PORTS_YML, &o);
        assert!(!r.refused());
        assert_eq!(
            r.stack["services"]["svc"]["deploy"]["endpoint_mode"],
            "dnsrr"
        );
        let r = render(&prod(), &files(), &o);
        assert_eq!(
            r.stack["services"]["redis"]["deploy"]["endpoint_mode"],
            "dnsrr"
        );
        assert_eq!(
            r.stack["services"]["timmy"]["deploy"]["endpoint_mode"],
            "dnsrr"
        );
    }

    #[test]
    fn a_published_range_is_refused() {
        let r = one(
            r#"{"image": "i", "ports": [{"mode": "ingress", "target": 80, "published": "8000-8001", "protocol": "tcp"}]}"#,
            "services:\n  svc:\n    ports:\n      - 8000-8001:80\n",
            &options(),
        );
        assert_eq!(
            found(&r),
            [
                "error: docker/docker-compose.yml:4: port 80 of service `svc` is published as the range `8000-8001`: a stack publishes single ports (hint: list each port of the range on its own line)"
            ]
        );
    }

    #[test]
    fn bind_mounts_are_absolute_and_must_exist_on_every_node() {
        let json = r#"{"image": "i", "volumes": [{"type": "bind", "source": "/srv/timmy/data", "target": "/app/data", "bind": {"create_host_path": true}}, {"type": "bind", "source": "logs", "target": "/app/logs", "read_only": true}, {"type": "volume", "source": "cache", "target": "/cache", "volume": {}}]}"#;
        let yml = "services:\n  svc:\n    volumes:\n      - cache:/cache\n      - ./data:/app/data:rw\n      - ./logs:/app/logs:ro\n";
        let r = one(json, yml, &options());
        assert_eq!(
            r.stack["services"]["svc"]["volumes"],
            serde_json::json!([
                {"type": "bind", "source": "/srv/timmy/data", "target": "/app/data"},
                {"type": "bind", "source": "/srv/timmy/logs", "target": "/app/logs", "read_only": true},
                {"type": "volume", "source": "cache", "target": "/cache"}
            ])
        );
        assert_eq!(
            found(&r),
            [
                "warning: docker/docker-compose.yml:5: bind mounts /srv/timmy/data, /srv/timmy/logs of service `svc` must exist on every node that runs it: Swarm does not create them"
            ]
        );
    }

    #[test]
    fn networks_become_attachable_overlays_under_the_stack_name() {
        let config = serde_json::json!({
            "name": "timmy",
            "services": {},
            "networks": {
                "back": {"name": "timmy_back", "driver": "bridge", "ipam": {}},
                "plain": {"name": "timmy_plain", "ipam": {}},
                "shared": {"name": "proxy", "external": true},
                "odd": {"name": "timmy_odd", "driver": "macvlan"}
            }
        });
        let yml = "services: {}\nnetworks:\n  back:\n    driver: bridge\n  plain:\n  shared:\n    external: true\n    name: proxy\n  odd:\n    driver: macvlan\n";
        let r = render(
            &config,
            &[("docker/docker-compose.yml".into(), yml.into())],
            &options(),
        );
        assert_eq!(
            r.stack["networks"],
            serde_json::json!({
                "back": {"driver": "overlay", "attachable": true},
                "plain": {"driver": "overlay", "attachable": true},
                "shared": {"name": "proxy", "external": true},
                "odd": {"driver": "overlay", "attachable": true}
            })
        );
        assert_eq!(
            found(&r),
            [
                "warning: docker/docker-compose.yml:4: network `back` becomes an attachable overlay network: a bridge reaches one host only",
                "error: docker/docker-compose.yml:10: network `odd` uses the driver `macvlan`; Swarm services attach to overlay networks only (hint: use the default driver (bridge with timmy up, overlay on a Swarm))",
                "warning: docker/docker-compose.yml:5: network `plain` becomes an attachable overlay network: a bridge reaches one host only",
            ]
        );
    }

    #[test]
    fn scale_sets_replicas_of_replicated_services_it_names() {
        let mut o = options();
        o.publish_mode = Some(PublishMode::Host);
        o.scale.insert("timmy".into(), 3);
        let r = render(&prod(), &files(), &o);
        assert_eq!(r.stack["services"]["timmy"]["deploy"]["replicas"], 3);
        assert!(
            r.stack["services"]["redis"]["deploy"]
                .get("replicas")
                .is_none()
        );
        o.scale.insert("web".into(), 2);
        let r = render(&prod(), &files(), &o);
        assert_eq!(
            found(&r).last().unwrap(),
            "error: --scale: `web` is not a service of this stack (hint: name a service of the stack (timmy config ENV lists them))"
        );
        let mut o = options();
        o.scale.insert("svc".into(), 2);
        let r = one(
            r#"{"image": "i", "deploy": {"mode": "global"}}"#,
            "services:\n  svc:\n    deploy:\n      mode: global\n",
            &o,
        );
        assert_eq!(
            found(&r),
            [
                "error: docker/docker-compose.yml:4: --scale sets replicas of `svc`, a global service (one task per node) (hint: scale only replicated services)"
            ]
        );
    }

    #[test]
    fn a_changed_secret_value_is_a_new_secret_name_and_the_same_value_is_one_secret() {
        let json = |token: &str| {
            format!(
                r#"{{"image": "i", "environment": {{"GITHUB_TOKEN": "{token}", "LOG_LEVEL": "info", "EMPTY_PASSWORD": ""}}}}"#
            )
        };
        let a = one(
            &json("ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u"),
            "",
            &options(),
        );
        let b = one(
            &json("ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3v"),
            "",
            &options(),
        );
        let names = |r: &Rendered| {
            r.secret_files
                .iter()
                .map(|f| f.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&a), ["timmy_GITHUB_TOKEN_d03680ebb084"]);
        assert_eq!(names(&b), ["timmy_GITHUB_TOKEN_1d3ade937f7c"]);
        assert_eq!(
            a.stack["services"]["svc"]["environment"],
            serde_json::json!({"GITHUB_TOKEN_FILE": "/run/secrets/GITHUB_TOKEN", "LOG_LEVEL": "info", "EMPTY_PASSWORD": ""})
        );
        assert_eq!(
            a.stack["services"]["svc"]["secrets"],
            serde_json::json!([{"source": "GITHUB_TOKEN_d03680ebb084", "target": "GITHUB_TOKEN"}])
        );
        assert_eq!(
            a.stack["secrets"],
            serde_json::json!({"GITHUB_TOKEN_d03680ebb084": {"name": "timmy_GITHUB_TOKEN_d03680ebb084", "file": "/run/user/1000/timmy/GITHUB_TOKEN_d03680ebb084"}})
        );
        assert!(!a.text().contains("ghp_"));
        // Two services with the same value share one secret.
        let svc: Value =
            serde_json::from_str(&json("ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u")).unwrap();
        let config = serde_json::json!({"name": "timmy", "services": {"a": svc.clone(), "b": svc}});
        let r = render(&config, &[], &options());
        assert_eq!(names(&r), ["timmy_GITHUB_TOKEN_d03680ebb084"]);
        assert_eq!(
            r.stack["services"]["b"]["secrets"],
            r.stack["services"]["a"]["secrets"]
        );
    }

    #[test]
    fn mount_and_ipam_options_swarm_lacks_are_dropped_with_a_warning() {
        let json = r#"{"image": "i", "volumes": [{"type": "bind", "source": "/d", "target": "/d", "bind": {"create_host_path": true, "selinux": "z", "propagation": "rslave"}}, {"type": "volume", "source": "v", "target": "/v", "volume": {"nocopy": true, "subpath": "s"}}]}"#;
        let yml = "services:\n  svc:\n    volumes:\n      - /d:/d:z\n      - v:/v\n";
        let r = one(json, yml, &options());
        assert_eq!(
            r.stack["services"]["svc"]["volumes"],
            serde_json::json!([
                {"type": "bind", "source": "/d", "target": "/d", "bind": {"propagation": "rslave"}},
                {"type": "volume", "source": "v", "target": "/v", "volume": {"nocopy": true}}
            ])
        );
        assert_eq!(
            found(&r),
            [
                "warning: docker/docker-compose.yml:4: `bind.selinux` of mount /d of service `svc` is dropped: Swarm's stack files do not have it",
                "warning: docker/docker-compose.yml:5: `volume.subpath` of mount /v of service `svc` is dropped: Swarm's stack files do not have it",
                "warning: docker/docker-compose.yml:4: bind mount /d of service `svc` must exist on every node that runs it: Swarm does not create it",
            ]
        );
        let config = serde_json::json!({
            "name": "timmy",
            "services": {},
            "networks": {"back": {"driver": "overlay", "ipam": {"driver": "default", "config": [{"subnet": "10.9.0.0/24", "gateway": "10.9.0.1"}], "options": {"a": "b"}}}}
        });
        let yml = "services: {}\nnetworks:\n  back:\n    driver: overlay\n    ipam:\n      config:\n        - subnet: 10.9.0.0/24\n          gateway: 10.9.0.1\n      options:\n        a: b\n";
        let r = render(
            &config,
            &[("docker/docker-compose.yml".into(), yml.into())],
            &options(),
        );
        assert_eq!(
            r.stack["networks"]["back"],
            serde_json::json!({"driver": "overlay", "attachable": true, "ipam": {"driver": "default", "config": [{"subnet": "10.9.0.0/24"}]}})
        );
        assert_eq!(
            found(&r),
            [
                "warning: docker/docker-compose.yml:6: `ipam.config[].gateway` of network `back` is dropped: Swarm's stack files take `subnet` only",
                "warning: docker/docker-compose.yml:9: `ipam.options` of network `back` is dropped: Swarm's stack files do not have it",
            ]
        );
    }

    #[test]
    fn extra_hosts_are_written_the_way_the_stack_loader_reads_them() {
        let r = one(
            r#"{"image": "i", "extra_hosts": ["db=10.0.0.1", "v6=::1", "old:10.0.0.2"]}"#,
            "",
            &options(),
        );
        assert_eq!(
            r.stack["services"]["svc"]["extra_hosts"],
            serde_json::json!(["db:10.0.0.1", "v6:::1", "old:10.0.0.2"])
        );
        let r = one(
            r#"{"image": "i", "extra_hosts": {"db": "10.0.0.1"}}"#,
            "",
            &options(),
        );
        assert_eq!(
            r.stack["services"]["svc"]["extra_hosts"],
            serde_json::json!(["db:10.0.0.1"])
        );
        assert!(r.findings.is_empty());
    }

    #[test]
    fn top_level_secrets_come_from_files_or_are_external() {
        let config = serde_json::json!({
            "name": "timmy",
            "services": {},
            "secrets": {
                "cert": {"name": "timmy_cert", "file": "/srv/timmy/cert.pem"},
                "shared": {"name": "shared", "external": true},
                "token": {"name": "timmy_token", "environment": "GITHUB_TOKEN"}
            }
        });
        let yml = "services: {}\nsecrets:\n  cert:\n    file: ./cert.pem\n  shared:\n    external: true\n  token:\n    environment: GITHUB_TOKEN\n";
        let r = render(
            &config,
            &[("docker/docker-compose.yml".into(), yml.into())],
            &options(),
        );
        assert_eq!(
            r.stack["secrets"],
            serde_json::json!({
                "cert": {"name": "timmy_cert", "file": "/srv/timmy/cert.pem"},
                "shared": {"name": "shared", "external": true},
                "token": {"name": "timmy_token"}
            })
        );
        assert_eq!(
            found(&r),
            [
                "error: docker/docker-compose.yml:8: `secrets.token.environment`: Swarm reads secrets from a file, or takes existing ones (external) (hint: write the value to a file and name it with `file:`)"
            ]
        );
    }

    #[test]
    fn a_secret_file_holds_the_value_compose_escaped_as_double_dollars() {
        // `.env`: DB_PASSWORD='pa$word'; `docker compose config` prints "pa$$word" (measured).
        let r = one(
            r#"{"image": "i", "environment": {"DB_PASSWORD": "pa$$word"}}"#,
            "",
            &options(),
        );
        assert_eq!(r.secret_files[0].value, "pa$word");
        // sha256sum of `pa$word`.
        assert_eq!(r.secret_files[0].name, "timmy_DB_PASSWORD_31215ff0f8bb");
    }

    #[test]
    fn secrets_mode_env_keeps_the_values_and_says_where_they_show() {
        let mut o = options();
        o.secrets = SecretsMode::Env;
        let r = one(
            r#"{"image": "i", "environment": {"GITHUB_TOKEN": "ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u"}}"#,
            "services:\n  svc:\n    environment:\n      GITHUB_TOKEN: x\n",
            &o,
        );
        assert!(r.secret_files.is_empty());
        assert_eq!(
            r.stack["services"]["svc"]["environment"]["GITHUB_TOKEN"],
            "ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u"
        );
        assert_eq!(
            found(&r),
            [
                "warning: docker/docker-compose.yml:3: the secret values of service `svc` stay in its environment (--secrets env): `docker service inspect` shows them"
            ]
        );
    }

    #[test]
    fn the_yaml_quotes_keys_yaml_would_read_otherwise() {
        let stack = serde_json::json!({"version": "3.9", "services": {"a": {"labels": {"yes": "1", "on": "x", "3000": "p", "a b": "c", "x.y/z-w": "ok"}, "command": [], "x": {}, "n": null, "nested": [["a"], {"k": "v", "l": 1}]}}});
        let r = Rendered {
            stack,
            secret_files: Vec::new(),
            builds: Vec::new(),
            findings: Vec::new(),
        };
        assert_eq!(
            r.text(),
            "version: \"3.9\"\nservices:\n  a:\n    command: []\n    labels:\n      \"3000\": \"p\"\n      \"a b\": \"c\"\n      \"on\": \"x\"\n      x.y/z-w: \"ok\"\n      \"yes\": \"1\"\n    \"n\": null\n    nested:\n      - - \"a\"\n      - k: \"v\"\n        l: 1\n    x: {}\n"
        );
    }
}
