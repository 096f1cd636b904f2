//! When may `timmy up` skip Compose because nothing would change? The decision is pure: the
//! facts gathered about the request, the resolved configuration, the running containers, the
//! images and the build inputs go in; [`Decision::Skip`] or [`Decision::Full`] with every
//! reason (one line each, for `-v`) comes out. Any fact that is missing or not understood is a
//! reason for the full `up`: a wrong skip leaves old code running after a change.
//!
//! The facts are gathered by [`wanted`], [`running`] (the engine's socket only) and the record
//! the last full `up` left in timmy's cache folder ([`Store`]). Measured with Compose
//! 2.26.1 and 2.40.3: `config --hash` cannot be compared with the containers'
//! `com.docker.compose.config-hash` label for a service with `env_file:` (the two never agree)
//! and does not change when the env file's values change, so the configuration is compared
//! through a digest of the whole resolved `config --format json` instead, recorded by the last
//! full `up`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checkout;
use crate::engine_api::EngineApi;
use crate::stack::Stack;
use crate::status::{Health, State};

/// What the user asked `up` to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub detach: bool,
    /// `--build` given explicitly.
    pub build: bool,
    pub dry_run: bool,
}

/// One container of the project as the engine shows it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub service: String,
    pub id: String,
    pub state: State,
    pub health: Health,
    /// The image ID the container runs.
    pub image_id: String,
    /// Started from this checkout with this env's files (`checkout::is_ours` and the config
    /// files label).
    pub ours: bool,
}

/// What the last successful full `up` of this project recorded, per service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    pub container_id: String,
    pub image_id: String,
    /// Digest of the build inputs ([`inputs_digest`]); `None` for a service with `image:` only.
    pub inputs: Option<String>,
}

/// What the last successful full `up` recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Digest of `config --format json` taken before that `up` ran ([`config_digest`]).
    pub config: String,
    pub services: BTreeMap<String, Recorded>,
}

/// A service of the resolved configuration now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The image ID its tag points at now; `None` when the tag is not there.
    pub tag_id: Option<String>,
    /// For a service that builds: the digest of its build inputs now, or why it is unknown.
    pub inputs: Option<Result<String, String>>,
}

/// Everything the decision needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub request: Request,
    /// Digest of `config --format json` now.
    pub config: String,
    pub record: Option<Record>,
    pub wanted: BTreeMap<String, Wanted>,
    pub running: Vec<Running>,
}

/// Why the full `up` runs: one line each under `-v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    NotDetached,
    BuildAsked,
    DryRun,
    NoRecord,
    ConfigChanged,
    ServicesDiffer {
        wanted: Vec<String>,
        running: Vec<String>,
    },
    RecordDiffers(Vec<String>),
    NotOurs(String),
    NotReady {
        service: String,
        state: String,
    },
    Recreated(String),
    TagMoved(String),
    TagMissing(String),
    ImageDiffers(String),
    InputsChanged(String),
    InputsUnknown {
        service: String,
        why: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotDetached => f.write_str("up without --detach follows the logs"),
            Self::BuildAsked => f.write_str("--build asked for the full up"),
            Self::DryRun => f.write_str("--dry-run shows the full up"),
            Self::NoRecord => f.write_str("no full up of this stack recorded yet"),
            Self::ConfigChanged => {
                f.write_str("the resolved configuration differs from the last full up's")
            }
            Self::ServicesDiffer { wanted, running } => write!(
                f,
                "services wanted ({}) differ from the containers running ({})",
                wanted.join(", "),
                running.join(", ")
            ),
            Self::RecordDiffers(recorded) => write!(
                f,
                "the last full up recorded other services ({})",
                recorded.join(", ")
            ),
            Self::NotOurs(s) => write!(
                f,
                "the container of `{s}` was not started from this checkout with these files"
            ),
            Self::NotReady { service, state } => write!(f, "`{service}` is {state}"),
            Self::Recreated(s) => write!(
                f,
                "the container of `{s}` is not the one the last full up left"
            ),
            Self::TagMoved(s) => write!(
                f,
                "the image tag of `{s}` points at another image than the last full up's"
            ),
            Self::TagMissing(s) => write!(f, "the image tag of `{s}` is not on the engine"),
            Self::ImageDiffers(s) => write!(
                f,
                "the container of `{s}` runs another image than its tag points at"
            ),
            Self::InputsChanged(s) => write!(
                f,
                "the build inputs of `{s}` changed since the last full up"
            ),
            Self::InputsUnknown { service, why } => {
                write!(f, "the build inputs of `{service}` cannot be judged: {why}")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing would change: every service runs its current configuration and image, ready.
    Skip,
    /// Run the full `up`, for these reasons (never empty).
    Full(Vec<Reason>),
}

/// Skip only when every fact proves that Compose's `up --build` would change nothing.
pub fn decide(facts: &Facts) -> Decision {
    let mut reasons = Vec::new();
    let r = facts.request;
    if !r.detach {
        reasons.push(Reason::NotDetached);
    }
    if r.build {
        reasons.push(Reason::BuildAsked);
    }
    if r.dry_run {
        reasons.push(Reason::DryRun);
    }
    let Some(record) = &facts.record else {
        reasons.push(Reason::NoRecord);
        // Why none could be recorded, and never will be while it lasts.
        for (service, want) in &facts.wanted {
            if let Some(Err(why)) = &want.inputs {
                reasons.push(Reason::InputsUnknown {
                    service: service.clone(),
                    why: why.clone(),
                });
            }
        }
        return Decision::Full(reasons);
    };
    if record.config != facts.config {
        reasons.push(Reason::ConfigChanged);
    }
    let wanted: Vec<String> = facts.wanted.keys().cloned().collect();
    let mut running: Vec<String> = facts.running.iter().map(|c| c.service.clone()).collect();
    running.sort();
    let recorded: Vec<String> = record.services.keys().cloned().collect();
    if wanted != running {
        reasons.push(Reason::ServicesDiffer { wanted, running });
        return Decision::Full(reasons);
    }
    if wanted != recorded {
        reasons.push(Reason::RecordDiffers(recorded));
        return Decision::Full(reasons);
    }
    for c in &facts.running {
        let (Some(want), Some(rec)) = (
            facts.wanted.get(&c.service),
            record.services.get(&c.service),
        ) else {
            continue;
        };
        reasons.extend(service_reasons(c, want, rec));
    }
    if reasons.is_empty() {
        Decision::Skip
    } else {
        Decision::Full(reasons)
    }
}

fn service_reasons(c: &Running, want: &Wanted, rec: &Recorded) -> Vec<Reason> {
    let s = || c.service.clone();
    let mut reasons = Vec::new();
    if !c.ours {
        reasons.push(Reason::NotOurs(s()));
    }
    let ready = c.state == State::Running && matches!(c.health, Health::Healthy | Health::None);
    if !ready {
        let state = match (&c.state, &c.health) {
            (State::Running, h) => h.as_str().to_string(),
            (st, _) => st.as_str().to_string(),
        };
        reasons.push(Reason::NotReady {
            service: s(),
            state,
        });
    }
    if c.id != rec.container_id {
        reasons.push(Reason::Recreated(s()));
    }
    match &want.tag_id {
        None => reasons.push(Reason::TagMissing(s())),
        Some(tag) if *tag != rec.image_id => reasons.push(Reason::TagMoved(s())),
        Some(tag) if *tag != c.image_id => reasons.push(Reason::ImageDiffers(s())),
        Some(_) => {}
    }
    match (&want.inputs, &rec.inputs) {
        (None, None) => {}
        (Some(Ok(now)), Some(then)) if now == then => {}
        (Some(Err(why)), _) => reasons.push(Reason::InputsUnknown {
            service: s(),
            why: why.clone(),
        }),
        _ => reasons.push(Reason::InputsChanged(s())),
    }
    reasons
}

/// Where the record of a stack's last full `up` lives: `timmy/noop-<hash>.json` under the
/// cache folder, one file per checkout and project name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    pub file: PathBuf,
}

impl Store {
    pub fn new(cache: &Path, stack: &Stack) -> Self {
        let mut h = Sha256::new();
        h.update(stack.root.as_os_str().as_encoded_bytes());
        h.update(b"\0");
        h.update(stack.name.as_bytes());
        let key = hex(&h.finalize());
        Self {
            file: cache
                .join("timmy")
                .join(format!("noop-{}.json", &key[..16])),
        }
    }

    /// The record, when there is one that reads.
    pub fn load(&self) -> Option<Record> {
        let text = std::fs::read_to_string(&self.file).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Before a full `up` runs: what it leaves is not known until it succeeded.
    pub fn forget(&self) {
        let _ = std::fs::remove_file(&self.file);
    }

    /// Best effort: a record that cannot be written only means the full `up` next time.
    pub fn save(&self, record: &Record) {
        if let (Some(dir), Ok(text)) = (self.file.parent(), serde_json::to_string(record))
            && std::fs::create_dir_all(dir).is_ok()
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let tmp = self.file.with_extension("tmp");
            // Only the user's: the digest is of a configuration that holds `.env`'s values.
            let written = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)
                .and_then(|mut f| f.write_all(text.as_bytes()));
            if written.is_ok() {
                let _ = std::fs::rename(&tmp, &self.file);
            }
        }
    }
}

/// Each service of the resolved configuration (`config --format json`): the ID its image tag
/// points at now and, for a service that builds, the digest of its inputs or why it is not
/// known. `Err` when the configuration itself cannot be read.
pub fn wanted(api: &EngineApi, config_json: &str) -> Result<BTreeMap<String, Wanted>, String> {
    let config: serde_json::Value =
        serde_json::from_str(config_json).map_err(|e| format!("unreadable configuration: {e}"))?;
    let services = config
        .get("services")
        .and_then(serde_json::Value::as_object)
        .ok_or("the configuration has no services")?;
    let mut wanted = BTreeMap::new();
    for (name, service) in services {
        let image = service
            .get("image")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| format!("`{name}` names no image"))?;
        let tag_id = api
            .image_id(image)
            .map_err(|e| format!("the image of `{name}`: {e}"))?;
        let inputs = service.get("build").map(|b| build_inputs(api, b));
        wanted.insert(name.clone(), Wanted { tag_id, inputs });
    }
    Ok(wanted)
}

/// The digest of one `build:` section's inputs, or why it is not known.
fn build_inputs(api: &EngineApi, build: &serde_json::Value) -> Result<String, String> {
    let build = build.as_object().ok_or("an unexpected build section")?;
    if let Some(key) = build
        .keys()
        .find(|k| !matches!(k.as_str(), "context" | "dockerfile" | "args" | "target"))
    {
        return Err(format!("`build.{key}` is not judged"));
    }
    let context = build
        .get("context")
        .and_then(serde_json::Value::as_str)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.is_dir())
        .ok_or("the build context is not a local folder")?;
    let dockerfile = context.join(
        build
            .get("dockerfile")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("Dockerfile"),
    );
    let mut args = BTreeMap::new();
    for (k, v) in build
        .get("args")
        .and_then(serde_json::Value::as_object)
        .into_iter()
        .flatten()
    {
        let v = v
            .as_str()
            .ok_or_else(|| format!("build arg `{k}` has no value"))?;
        args.insert(k.clone(), v.to_string());
    }
    let mut own_ignore = dockerfile.clone().into_os_string();
    own_ignore.push(".dockerignore");
    if Path::new(&own_ignore).exists() {
        return Err(format!(
            "{} is not judged",
            Path::new(&own_ignore).display()
        ));
    }
    let text = std::fs::read(&dockerfile)
        .map_err(|e| format!("{} cannot be read: {e}", dockerfile.display()))?;
    let mut from_ids = Vec::new();
    for image in from_images(&String::from_utf8_lossy(&text), &args)? {
        let id = api
            .image_id(&image)
            .map_err(|e| format!("the FROM image `{image}`: {e}"))?
            .ok_or_else(|| format!("the FROM image `{image}` is not on the engine"))?;
        from_ids.push(id);
    }
    let ignore = match std::fs::read_to_string(context.join(".dockerignore")) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!(".dockerignore cannot be read: {e}")),
    };
    inputs_digest(&context, &text, ignore.as_deref(), &from_ids)
}

/// The project's containers (one-off `run` containers left out) as the decision sees them,
/// each container's ID and image ID.
pub fn running(api: &EngineApi, stack: &Stack) -> std::io::Result<Vec<Running>> {
    let (containers, services, images) = api.project_snapshot(&stack.name)?;
    Ok(containers
        .into_iter()
        .filter(|c| !c.oneoff)
        .map(|c| {
            let health = services
                .iter()
                .find(|s| s.name == c.name)
                .map_or(Health::Other(String::new()), |s| s.health.clone());
            Running {
                ours: checkout::is_ours(&c, &stack.root) && c.config_files == stack.files,
                image_id: images.get(&c.id).cloned().unwrap_or_default(),
                service: c.service,
                id: c.id,
                state: c.state,
                health,
            }
        })
        .collect())
}

/// What a successful full `up` leaves to record: the configuration digest and the build
/// inputs taken before it ran, the containers and images after. `None` when a service that
/// builds had no known inputs or a container is not there.
pub fn record(
    config: &str,
    wanted: &BTreeMap<String, Wanted>,
    running: &[Running],
) -> Option<Record> {
    let mut services = BTreeMap::new();
    for c in running {
        let want = wanted.get(&c.service)?;
        let inputs = match &want.inputs {
            None => None,
            Some(Ok(digest)) => Some(digest.clone()),
            Some(Err(_)) => return None,
        };
        services.insert(
            c.service.clone(),
            Recorded {
                container_id: c.id.clone(),
                image_id: c.image_id.clone(),
                inputs,
            },
        );
    }
    (services.len() == wanted.len()).then(|| Record {
        config: config.to_string(),
        services,
    })
}

/// The digest of Compose's resolved configuration (`config --format json`): every service's
/// settings with `.env` and `env_file:` values interpolated, build sections, ports, volumes.
pub fn config_digest(config_json: &str) -> String {
    hex(&Sha256::digest(config_json.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A `.dockerignore` in the forms this repository uses: `*`, `!dir/`, `!file`, plain paths,
/// comments and blank lines. Any other form (wildcards inside a path, `?`, `[`, `**`, `..`,
/// a leading `/`) is refused: what the builder would send is then in doubt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    /// (excluded?, pattern): `*` as the empty path, which every path lies under.
    rules: Vec<(bool, PathBuf)>,
}

impl Ignore {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut rules = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exclude, pattern) = match line.strip_prefix('!') {
                Some(rest) => (false, rest.trim()),
                None => (true, line),
            };
            if pattern == "*" {
                rules.push((exclude, PathBuf::new()));
                continue;
            }
            let plain = !pattern.is_empty()
                && !pattern.starts_with('/')
                && !pattern.contains(['*', '?', '[', '\\'])
                && Path::new(pattern)
                    .components()
                    .all(|c| matches!(c, Component::Normal(_)));
            if !plain {
                return Err(format!(
                    ".dockerignore line {}: `{line}` is a form timmy does not judge",
                    n + 1
                ));
            }
            rules.push((exclude, PathBuf::from(pattern.trim_end_matches('/'))));
        }
        Ok(Self { rules })
    }

    /// Does the builder send `rel` (a file's path inside the context)? The last rule that
    /// names the path or a folder above it decides.
    pub fn sends(&self, rel: &Path) -> bool {
        self.rules
            .iter()
            .rev()
            .find(|(_, p)| rel.starts_with(p))
            .is_none_or(|(exclude, _)| !exclude)
    }
}

/// The digest of what a build depends on besides its settings (those are in the configuration
/// digest): the Dockerfile's text, each file the context sends (its path and content, in path
/// order) and the image IDs of the `FROM` images. An error says why it cannot be known (a
/// symlink, a special file or an unreadable one in the context, an ignore form not judged).
pub fn inputs_digest(
    context: &Path,
    dockerfile: &[u8],
    ignore: Option<&str>,
    from_ids: &[String],
) -> Result<String, String> {
    let ignore = match ignore {
        Some(text) => Ignore::parse(text)?,
        None => Ignore { rules: Vec::new() },
    };
    let mut files = Vec::new();
    walk(context, Path::new(""), &ignore, &mut files)?;
    files.sort();
    let mut h = Sha256::new();
    h.update(b"dockerfile\0");
    h.update(dockerfile);
    for rel in &files {
        let bytes = std::fs::read(context.join(rel))
            .map_err(|e| format!("{} cannot be read: {e}", rel.display()))?;
        h.update(b"\0file\0");
        h.update(rel.as_os_str().as_encoded_bytes());
        h.update(b"\0");
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    for id in from_ids {
        h.update(b"\0from\0");
        h.update(id.as_bytes());
    }
    Ok(hex(&h.finalize()))
}

fn walk(root: &Path, rel: &Path, ignore: &Ignore, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let dir = root.join(rel);
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("{} cannot be listed: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{} cannot be listed: {e}", dir.display()))?;
        let path = rel.join(entry.file_name());
        let kind = entry
            .file_type()
            .map_err(|e| format!("{} cannot be read: {e}", path.display()))?;
        if kind.is_dir() {
            // A folder may hold a file an exception sends again: look inside every one.
            walk(root, &path, ignore, files)?;
        } else if ignore.sends(&path) {
            if !kind.is_file() {
                return Err(format!(
                    "{} is sent and is not a regular file",
                    path.display()
                ));
            }
            files.push(path);
        }
    }
    Ok(())
}

/// The images a Dockerfile's `FROM` lines name, with `${ARG}` / `$ARG` taken from the build
/// arguments or the `ARG` defaults before the first `FROM`; a `FROM` naming an earlier stage
/// is not an image. Lines continued with `\` are joined first. An error for what is not
/// understood, or brings in content the digest cannot see: `FROM --platform`, a variable
/// without a value, a `# syntax=` frontend, `COPY --from=` an image (not a stage), a
/// `RUN --mount` from another image, `ADD` of a URL or a git repository.
pub fn from_images(
    dockerfile: &str,
    args: &BTreeMap<String, String>,
) -> Result<Vec<String>, String> {
    let mut defaults: BTreeMap<String, String> = BTreeMap::new();
    let mut stages: Vec<String> = Vec::new();
    let mut images = Vec::new();
    let mut froms = 0_usize;
    for line in logical_lines(dockerfile) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') {
            let directive = line.trim_start_matches('#').replace(' ', "");
            if froms == 0 && directive.to_ascii_lowercase().starts_with("syntax=") {
                return Err(format!(
                    "`{line}` picks a builder frontend timmy does not judge"
                ));
            }
            continue;
        }
        let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let word = word.to_ascii_uppercase();
        let rest = rest.trim();
        let unjudged = || format!("`{line}` is a {word} timmy does not judge");
        match word.as_str() {
            "ARG" if froms == 0 => {
                let (name, value) = rest.split_once('=').unwrap_or((rest, ""));
                let value = value.trim_matches('"');
                if !value.is_empty() {
                    defaults.insert(name.trim().to_string(), value.to_string());
                }
            }
            "FROM" => {
                froms += 1;
                let mut parts = rest.split_whitespace();
                let image = parts.next().unwrap_or_default();
                if image.starts_with("--") || image.is_empty() {
                    return Err(unjudged());
                }
                let image = substitute(image, args, &defaults)
                    .ok_or_else(|| format!("`{line}` names a variable without a value"))?;
                if !stages.iter().any(|s| s.eq_ignore_ascii_case(&image)) && image != "scratch" {
                    images.push(image);
                }
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(as_), Some(stage), None) if as_.eq_ignore_ascii_case("AS") => {
                        stages.push(stage.to_string());
                    }
                    (None, None, None) => {}
                    _ => return Err(unjudged()),
                }
            }
            "COPY" | "ADD" => {
                for flag in rest.split_whitespace().take_while(|w| w.starts_with("--")) {
                    if let Some(from) = flag.strip_prefix("--from=") {
                        let stage = stages.iter().any(|s| s.eq_ignore_ascii_case(from))
                            || from.parse::<usize>().is_ok_and(|n| n + 1 < froms);
                        if !stage {
                            return Err(unjudged());
                        }
                    }
                }
                if word == "ADD" && (rest.contains("://") || rest.contains("git@")) {
                    return Err(unjudged());
                }
            }
            "RUN" if rest.contains("--mount") && rest.contains("from=") => {
                return Err(unjudged());
            }
            _ => {}
        }
    }
    if froms == 0 {
        return Err("the Dockerfile has no FROM".to_string());
    }
    Ok(images)
}

/// The Dockerfile's lines with each `\`-continued line joined to the next.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if let Some(head) = line.trim_end().strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
        } else {
            current.push_str(line);
            lines.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

fn substitute(
    word: &str,
    args: &BTreeMap<String, String>,
    defaults: &BTreeMap<String, String>,
) -> Option<String> {
    let mut out = String::new();
    let mut rest = word;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, tail) = if let Some(inner) = after.strip_prefix('{') {
            let end = inner.find('}')?;
            let name = &inner[..end];
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return None;
            }
            (name, &inner[end + 1..])
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        let value = args.get(name).or_else(|| defaults.get(name))?;
        if value.is_empty() {
            return None;
        }
        out.push_str(value);
        rest = tail;
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(service: &str) -> Running {
        Running {
            service: service.into(),
            id: format!("c-{service}"),
            state: State::Running,
            health: Health::Healthy,
            image_id: format!("i-{service}"),
            ours: true,
        }
    }

    /// redis (image only) and timmy (built), both running what the last full up left.
    fn facts() -> Facts {
        let rec = |s: &str, inputs: Option<&str>| Recorded {
            container_id: format!("c-{s}"),
            image_id: format!("i-{s}"),
            inputs: inputs.map(String::from),
        };
        Facts {
            request: Request {
                detach: true,
                build: false,
                dry_run: false,
            },
            config: "cfg".into(),
            record: Some(Record {
                config: "cfg".into(),
                services: BTreeMap::from([
                    ("redis".into(), rec("redis", None)),
                    ("timmy".into(), rec("timmy", Some("in"))),
                ]),
            }),
            wanted: BTreeMap::from([
                (
                    "redis".into(),
                    Wanted {
                        tag_id: Some("i-redis".into()),
                        inputs: None,
                    },
                ),
                (
                    "timmy".into(),
                    Wanted {
                        tag_id: Some("i-timmy".into()),
                        inputs: Some(Ok("in".into())),
                    },
                ),
            ]),
            running: vec![running("redis"), running("timmy")],
        }
    }

    #[track_caller]
    fn case(change: impl Fn(&mut Facts), expected: &[&str]) {
        let mut f = facts();
        change(&mut f);
        let lines: Vec<String> = match decide(&f) {
            Decision::Skip => Vec::new(),
            Decision::Full(reasons) => {
                assert!(!reasons.is_empty());
                reasons.iter().map(ToString::to_string).collect()
            }
        };
        assert_eq!(lines, expected);
    }

    fn timmy(f: &mut Facts) -> &mut Running {
        &mut f.running[1]
    }

    #[test]
    fn skips_only_when_every_fact_says_nothing_would_change() {
        case(|_| {}, &[]);
        case(|f| f.running[0].health = Health::None, &[]);
        case(
            |f| f.request.detach = false,
            &["up without --detach follows the logs"],
        );
        case(
            |f| f.request.build = true,
            &["--build asked for the full up"],
        );
        case(
            |f| f.request.dry_run = true,
            &["--dry-run shows the full up"],
        );
        case(
            |f| f.record = None,
            &["no full up of this stack recorded yet"],
        );
        case(
            |f| {
                f.record = None;
                f.wanted.get_mut("timmy").unwrap().inputs = Some(Err("a symlink".into()));
            },
            &[
                "no full up of this stack recorded yet",
                "the build inputs of `timmy` cannot be judged: a symlink",
            ],
        );
        case(
            |f| f.config = "other".into(),
            &["the resolved configuration differs from the last full up's"],
        );
        case(
            |f| {
                f.running.remove(0);
            },
            &["services wanted (redis, timmy) differ from the containers running (timmy)"],
        );
        case(
            |f| f.running.push(running("worker")),
            &[
                "services wanted (redis, timmy) differ from the containers running (redis, timmy, worker)",
            ],
        );
        case(
            |f| {
                f.wanted.insert(
                    "worker".into(),
                    Wanted {
                        tag_id: None,
                        inputs: None,
                    },
                );
                f.running.push(running("worker"));
            },
            &["the last full up recorded other services (redis, timmy)"],
        );
    }

    #[test]
    fn each_service_must_run_its_recorded_container_image_and_inputs() {
        case(
            |f| timmy(f).ours = false,
            &["the container of `timmy` was not started from this checkout with these files"],
        );
        case(
            |f| timmy(f).health = Health::Starting,
            &["`timmy` is starting"],
        );
        case(
            |f| timmy(f).health = Health::Unhealthy,
            &["`timmy` is unhealthy"],
        );
        case(
            |f| timmy(f).state = State::Restarting,
            &["`timmy` is restarting"],
        );
        case(|f| timmy(f).state = State::Exited, &["`timmy` is exited"]);
        case(
            |f| timmy(f).id = "c-new".into(),
            &["the container of `timmy` is not the one the last full up left"],
        );
        case(
            |f| f.wanted.get_mut("redis").unwrap().tag_id = Some("i-pulled".into()),
            &["the image tag of `redis` points at another image than the last full up's"],
        );
        case(
            |f| f.wanted.get_mut("redis").unwrap().tag_id = None,
            &["the image tag of `redis` is not on the engine"],
        );
        case(
            |f| f.running[0].image_id = "i-old".into(),
            &["the container of `redis` runs another image than its tag points at"],
        );
        case(
            |f| f.wanted.get_mut("timmy").unwrap().inputs = Some(Ok("edited".into())),
            &["the build inputs of `timmy` changed since the last full up"],
        );
        case(
            |f| f.wanted.get_mut("redis").unwrap().inputs = Some(Ok("in".into())),
            &["the build inputs of `redis` changed since the last full up"],
        );
        case(
            |f| f.wanted.get_mut("timmy").unwrap().inputs = None,
            &["the build inputs of `timmy` changed since the last full up"],
        );
        case(
            |f| {
                f.wanted.get_mut("timmy").unwrap().inputs = Some(Err(
                    "`FROM --platform=x y` is a FROM timmy does not judge".into(),
                ));
            },
            &[
                "the build inputs of `timmy` cannot be judged: `FROM --platform=x y` is a FROM timmy does not judge",
            ],
        );
        case(
            |f| {
                f.request.detach = false;
                f.config = "other".into();
                timmy(f).health = Health::Unhealthy;
            },
            &[
                "up without --detach follows the logs",
                "the resolved configuration differs from the last full up's",
                "`timmy` is unhealthy",
            ],
        );
    }

    #[test]
    fn dockerignore_forms_this_repository_uses() {
        let ig = Ignore::parse("# c\n*\n!app/\n!scripts/healthcheck.js\n\n").unwrap();
        for (path, sent) in [
            ("app/server.js", true),
            ("app/test/a.js", true),
            ("apps/x", false),
            ("scripts/healthcheck.js", true),
            ("scripts/bench.sh", false),
            (".env", false),
            ("target/debug/timmy", false),
        ] {
            assert_eq!(ig.sends(Path::new(path)), sent, "{path}");
        }
        let ig = Ignore::parse("target/\nnode_modules\n!target/keep").unwrap();
        assert!(ig.sends(Path::new("app/x")));
        assert!(!ig.sends(Path::new("target/x")));
        assert!(ig.sends(Path::new("target/keep")));
        assert!(!ig.sends(Path::new("node_modules/a/b")));
        for bad in ["*.md", "**/x", "a?", "[ab]", "/abs", "../up", "!", "a/*/b"] {
            assert_eq!(
                Ignore::parse(bad).unwrap_err(),
                format!(".dockerignore line 1: `{bad}` is a form timmy does not judge"),
            );
        }
    }

    #[test]
    fn inputs_digest_follows_what_the_context_sends() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("app")).unwrap();
        std::fs::create_dir_all(root.join("scripts")).unwrap();
        std::fs::write(root.join("app/server.js"), "v1").unwrap();
        std::fs::write(root.join("scripts/healthcheck.js"), "h").unwrap();
        std::fs::write(root.join("scripts/bench.sh"), "b").unwrap();
        std::fs::write(root.join(".env"), "SECRET=1").unwrap();
        let ignore = "*\n!app/\n!scripts/healthcheck.js\n";
        let ids = vec!["sha256:node".to_string()];
        let digest = || inputs_digest(root, b"FROM x", Some(ignore), &ids).unwrap();
        let first = digest();
        assert_eq!(first, digest());
        // Files the context does not send change nothing.
        std::fs::write(root.join(".env"), "SECRET=2").unwrap();
        std::fs::write(root.join("scripts/bench.sh"), "b2").unwrap();
        std::fs::create_dir_all(root.join("target")).unwrap();
        std::fs::write(root.join("target/t"), "t").unwrap();
        assert_eq!(digest(), first);
        // A sent file's content, a new sent file, the Dockerfile, a FROM image: each changes it.
        std::fs::write(root.join("app/server.js"), "v2").unwrap();
        let edited = digest();
        assert_ne!(edited, first);
        std::fs::write(root.join("app/new.js"), "n").unwrap();
        let added = digest();
        assert_ne!(added, edited);
        assert_ne!(
            inputs_digest(root, b"FROM y", Some(ignore), &ids).unwrap(),
            added
        );
        assert_ne!(
            inputs_digest(root, b"FROM x", Some(ignore), &["sha256:other".into()]).unwrap(),
            added
        );
        assert_eq!(
            inputs_digest(root, b"FROM x", Some("**/x"), &ids).unwrap_err(),
            ".dockerignore line 1: `**/x` is a form timmy does not judge"
        );
        std::os::unix::fs::symlink("/etc/hostname", root.join("app/link")).unwrap();
        assert_eq!(
            inputs_digest(root, b"FROM x", Some(ignore), &ids).unwrap_err(),
            "app/link is sent and is not a regular file"
        );
    }

    #[test]
    fn from_images_resolve_args_and_skip_stages() {
        let args = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect()
        };
        let repo = "ARG NODE_IMAGE=node:20-slim\nFROM ${NODE_IMAGE}\nRUN x\n";
        assert_eq!(from_images(repo, &args(&[])).unwrap(), ["node:20-slim"]);
        assert_eq!(
            from_images(repo, &args(&[("NODE_IMAGE", "timmy-offline/node:20")])).unwrap(),
            ["timmy-offline/node:20"]
        );
        assert_eq!(
            from_images(
                "FROM a:1 AS build\nFROM $BASE\nCOPY --from=build / /\nFROM build\nFROM scratch\n",
                &args(&[("BASE", "b:2")])
            )
            .unwrap(),
            ["a:1", "b:2"]
        );
        assert_eq!(
            from_images(
                "FROM a:1 \\\n  AS build\nFROM b\nCOPY --from=build /x /x\nCOPY --from=0 /y /y\n",
                &args(&[])
            )
            .unwrap(),
            ["a:1", "b"]
        );
        for (text, err) in [
            (
                "FROM $NOPE\n",
                "`FROM $NOPE` names a variable without a value",
            ),
            (
                "FROM --platform=linux/amd64 a\n",
                "`FROM --platform=linux/amd64 a` is a FROM timmy does not judge",
            ),
            (
                "# syntax=docker/dockerfile:1\nFROM a\n",
                "`# syntax=docker/dockerfile:1` picks a builder frontend timmy does not judge",
            ),
            (
                "FROM a\nCOPY --from=other:1 /x /x\n",
                "`COPY --from=other:1 /x /x` is a COPY timmy does not judge",
            ),
            (
                "FROM a\nCOPY --chown=1 \\\n  --from=other:1 /x /x\n",
                "`COPY --chown=1    --from=other:1 /x /x` is a COPY timmy does not judge",
            ),
            (
                "FROM a\nCOPY --from=0 /x /x\n",
                "`COPY --from=0 /x /x` is a COPY timmy does not judge",
            ),
            (
                "FROM a\nADD https://example.com/x /x\n",
                "`ADD https://example.com/x /x` is a ADD timmy does not judge",
            ),
            (
                "FROM a\nRUN --mount=type=bind,from=b:1,target=/b true\n",
                "`RUN --mount=type=bind,from=b:1,target=/b true` is a RUN timmy does not judge",
            ),
            (
                "FROM ${A:-x}\n",
                "`FROM ${A:-x}` names a variable without a value",
            ),
            ("RUN x\n", "the Dockerfile has no FROM"),
        ] {
            assert_eq!(from_images(text, &args(&[])).unwrap_err(), err, "{text}");
        }
    }

    #[test]
    fn config_digest_sees_any_change_of_the_resolved_text() {
        assert_eq!(
            config_digest("{}"),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_ne!(
            config_digest(r#"{"FOO":"1"}"#),
            config_digest(r#"{"FOO":"2"}"#)
        );
    }
}
