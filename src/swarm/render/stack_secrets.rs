//! Secrets: the secret values of a service's environment become Swarm secrets (a file per
//! value, named by its content hash, mounted at `/run/secrets/KEY` and passed as `KEY_FILE`),
//! or stay in the environment with a warning under `--secrets env`; top-level `secrets` and
//! `configs` are kept where Swarm can read them (a file, or `external`).

use std::fmt::Write as _;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{Renderer, SECRETS_MOUNT, SecretFile, keep, object};
use crate::secrets;
use crate::swarm::SecretsMode;

impl Renderer<'_> {
    /// The environment, and in secrets mode `swarm` the service's mounts of the secrets made
    /// from it.
    pub(super) fn environment(
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

    /// Top-level `secrets` or `configs` (`kind`) of the compose files: Swarm reads them from a
    /// file or takes existing ones (`external`), never from `environment` or `content`.
    pub(super) fn files_of(
        &mut self,
        kind: &str,
        entries: &Map<String, Value>,
    ) -> Map<String, Value> {
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
