//! The facts `up`'s decision reads from outside: the resolved configuration's services and
//! their build inputs ([`wanted`]), the project's containers ([`running`]), both over the
//! engine's socket only, and the record of the last full `up` in timmy's cache folder
//! ([`Store`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Record, Running, Wanted, hex, inputs::from_images, inputs::inputs_digest};
use crate::checkout;
use crate::engine_api::EngineApi;
use crate::stack::Stack;
use crate::status::Health;

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
