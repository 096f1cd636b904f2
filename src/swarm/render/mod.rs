//! The pure translation: `docker compose config --format json` of an environment (its files
//! merged, `.env` interpolated by Compose itself) → a stack file for `docker stack deploy -c -`,
//! the services to build first, the secret files to write, and a finding for every key Swarm
//! would drop, change or refuse, named by compose file, line and key. Which keys exist and
//! which types they take follows docker/cli's own v3 loader and schema (`cli/compose/`,
//! schema 3.9, the newest CLI 20.10 reads): a key it does not know is refused here, so a
//! deploy never starts with a file Swarm reads differently from what the user wrote.
//!
//! Here: the entry points ([`render`], [`builds`]), their options and result, and where a
//! finding points (the file and line that wrote a key). Each part of the file is translated in
//! its own module: `services` (a service's keys, `deploy`, healthcheck), `ports`, `mounts`
//! (and the named volumes), `networks`, `stack_secrets` (secret values as Swarm secrets,
//! top-level `secrets` and `configs`); `emit` writes the YAML.

mod emit;
mod mounts;
mod networks;
mod ports;
mod services;
mod stack_secrets;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use self::emit::emit_map;
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
}

fn value_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "?".to_owned(),
    }
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
