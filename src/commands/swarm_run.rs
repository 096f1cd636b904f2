//! The run path of `timmy deploy`: after the `.env` gate and a render without refusals, check
//! the engine is a swarm manager, build the env's images and tag them by content
//! (`<project>-<service>:<12 hex digits of the image id>`, pushed to `--registry` when given),
//! render again with those tags, write the secret files (0600, removed right after), create
//! missing bind-mount sources as Compose would, `docker stack deploy` the file from stdin, and
//! wait until the stack converges ([`converge::verdict`]): every service at its replicas,
//! running and healthy. A failed task fails the deploy at once, naming the service with
//! docker's error and the task's last log lines; `--detach` skips the wait.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use jiff::Timestamp;
use serde_json::Value;

use super::Ctx;
use crate::compose;
use crate::docker::{Docker, Outcome};
use crate::exit::{Exit, UserError};
use crate::stack::Stack;
use crate::swarm::converge::{self, Verdict};
use crate::swarm::{self, invoke};
use crate::ui;

/// How often the wait asks docker, and how many log lines of a failed task it shows.
const POLL: Duration = Duration::from_millis(500);
const FAILED_LOG_LINES: u32 = 20;

/// What the run path takes beyond the render's inputs.
pub(super) struct Run<'a> {
    pub detach: bool,
    pub timeout: Duration,
    pub registry: Option<&'a str>,
}

/// The swarm state of the engine, from `docker info`: a manager can deploy.
pub(super) fn manager_refusal(state: &str) -> Option<UserError> {
    let mut words = state.split_whitespace();
    let (node, control) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    match (node, control) {
        ("active", "true") => None,
        ("active", _) => Some(
            UserError::new("this Docker engine is a swarm worker: stacks deploy from a manager")
                .hint("point DOCKER_HOST (or the docker context) at a manager node"),
        ),
        _ => Some(
            UserError::new(format!(
                "this Docker engine is not part of a swarm (node state: {})",
                if node.is_empty() { "unknown" } else { node }
            ))
            .hint(
                "one node: docker swarm init --advertise-addr <this host's address>; or point DOCKER_HOST at a manager",
            ),
        ),
    }
}

/// Secret files for `docker stack deploy` to read, in a directory only the user can read;
/// gone when dropped (also on errors and Ctrl-C unwinding through here).
struct SecretDir(Option<PathBuf>);

impl SecretDir {
    fn write(dir: &Path, files: &[swarm::SecretFile]) -> Result<Self> {
        use std::io::Write;
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        if files.is_empty() {
            return Ok(Self(None));
        }
        // Not recursive, and never an existing folder: in a shared temp directory another user
        // could have made the name first (or a link to elsewhere); creating it must fail then.
        let _ = std::fs::remove_dir_all(dir);
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let guard = Self(Some(dir.to_path_buf()));
        for f in files {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&f.path)
                .with_context(|| format!("cannot write the secret file {}", f.path.display()))?;
            file.write_all(f.value.as_bytes())?;
        }
        Ok(guard)
    }
}

impl Drop for SecretDir {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Bind-mount sources of the stack file that do not exist: Swarm refuses a missing one
/// ("bind source path does not exist"), Compose creates it, so timmy creates it (on this
/// node; other nodes need it too).
pub(super) fn missing_bind_sources(stack: &Value) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = stack
        .get("services")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|services| services.values())
        .filter_map(|svc| svc.get("volumes").and_then(Value::as_array))
        .flatten()
        .filter(|v| v.get("type").and_then(Value::as_str) == Some("bind"))
        .filter_map(|v| v.get("source").and_then(Value::as_str))
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && !p.exists())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The stack's secrets (`listed`, by name) that the stack file just deployed (`stack`) no
/// longer names: a value's earlier versions (each version is its own secret, named by content).
/// Docker refuses to remove one a service still uses.
pub(super) fn stale_secrets(stack_name: &str, stack: &Value, listed: &[String]) -> Vec<String> {
    let current: Vec<String> = stack
        .get("secrets")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(key, def)| {
            def.get("name")
                .and_then(Value::as_str)
                .map_or_else(|| format!("{stack_name}_{key}"), str::to_owned)
        })
        .collect();
    listed
        .iter()
        .filter(|n| !current.contains(n))
        .cloned()
        .collect()
}

impl Ctx {
    /// Build, tag, deploy and wait. `render` renders the stack for the image tags given.
    pub(super) fn deploy_run(
        &self,
        stack: &Stack,
        mut options: swarm::Options,
        render: &dyn Fn(&swarm::Options) -> swarm::Rendered,
        run: &Run,
    ) -> Result<()> {
        let docker = self.docker()?;
        let state = docker.query(&invoke::swarm_state(&stack.root))?;
        if let Some(refusal) = manager_refusal(&state.stdout) {
            return Err(refusal.into());
        }
        let compose_made = self
            .containers(&docker, &stack.root, &stack.name, false)?
            .into_iter()
            .any(|c| !c.working_dir.is_empty());
        if compose_made {
            return Err(UserError::new(format!(
                "`{}` runs under Compose on this engine (timmy up {})",
                stack.name, stack.env
            ))
            .hint(format!(
                "timmy down {} first (without --volumes: the stack keeps the named volumes); docs/SWARM.md has the move",
                stack.env
            ))
            .into());
        }
        let _lock = self.lock(&stack.root, &stack.name, "deploy")?;
        let builds = render(&options).builds;
        if !builds.is_empty() {
            let _ = docker.run_masked(&compose::build(stack, false))?.ok()?;
        }
        for b in &builds {
            let tag = content_tag(&docker, stack, &b.service, &b.image, run.registry)?;
            let _ = docker.run_ok(&invoke::tag(&stack.root, &b.image, &tag))?;
            if run.registry.is_some() {
                let _ = docker.run_masked(&invoke::push(&stack.root, &tag))?.ok()?;
            }
            options.images.insert(b.service.clone(), tag);
        }
        let rendered = render(&options);
        for dir in missing_bind_sources(&rendered.stack) {
            if docker.dry_run {
                continue;
            }
            std::fs::create_dir_all(&dir).with_context(|| {
                format!("cannot create the bind-mount source {}", dir.display())
            })?;
        }
        let secrets = if docker.dry_run {
            SecretDir(None)
        } else {
            SecretDir::write(&options.secrets_dir, &rendered.secret_files)?
        };
        let since = Timestamp::now();
        let deploy = invoke::stack_deploy(&stack.root, &stack.name, run.registry.is_some());
        let outcome = docker.run_masked_input(&deploy, rendered.text().as_bytes())?;
        drop(secrets);
        let Outcome::Ran(_) = outcome.ok()? else {
            return Ok(());
        };
        if run.detach {
            ui::info(&format!(
                "deployed stack `{}`; not waiting (--detach): timmy ps {} shows how far it got",
                stack.name, stack.env
            ));
            return Ok(());
        }
        self.wait_converged(&docker, stack, since, run.timeout)
            .inspect_err(|e| {
                // Ctrl-C stops the wait only: docker accepted the stack and the swarm goes on.
                if let Some(Exit::Signal(_)) = e.downcast_ref::<Exit>() {
                    ui::info(&format!(
                        "stopped waiting; the swarm goes on deploying stack `{}`: timmy ps {} shows how far it got",
                        stack.name, stack.env
                    ));
                }
            })?;
        Self::prune_secrets(&docker, stack, &rendered.stack);
        Ok(())
    }

    /// Once the stack converged (no update left to roll back): remove the secrets of the stack
    /// that it no longer names, each an earlier value of a key. A failure is only a warning:
    /// the deploy itself succeeded.
    fn prune_secrets(docker: &Docker, stack: &Stack, rendered: &Value) {
        let listed = match docker.query_ok(&invoke::secret_names(&stack.root, &stack.name)) {
            Ok(out) => super::deployed::ids(&out),
            Err(e) => {
                ui::warning(&format!("{e:#}; earlier secret values stay on the swarm"));
                return;
            }
        };
        let stale = stale_secrets(&stack.name, rendered, &listed);
        if stale.is_empty() {
            return;
        }
        // Captured: docker prints each removed name on stdout, which is the service table's.
        // Never reached under --dry-run (the deploy returned before the wait).
        match docker.query_ok(&invoke::remove_secrets(&stack.root, &stale)) {
            Ok(_) => ui::info(&format!(
                "removed {} the stack no longer uses: {}",
                crate::validate::plural(stale.len(), "earlier secret"),
                stale.join(", ")
            )),
            Err(e) => ui::warning(&format!(
                "{e:#}; earlier secret values stay on the swarm: {}",
                stale.join(", ")
            )),
        }
    }

    /// Poll the stack until [`converge::verdict`] says converged (the service table then),
    /// failed (each failure with the task's last log lines; exit 1) or the timeout passes.
    fn wait_converged(
        &self,
        docker: &Docker,
        stack: &Stack,
        since: Timestamp,
        timeout: Duration,
    ) -> Result<()> {
        let (root, name) = (&stack.root, &stack.name);
        let started = Instant::now();
        let mut shown = Vec::new();
        loop {
            let service_ids = self.deployed(docker, root, name)?.unwrap_or_default();
            let (services, tasks) = if service_ids.is_empty() {
                (Vec::new(), Vec::new())
            } else {
                Self::stack_state(docker, root, &service_ids)?
            };
            let verdict = if services.is_empty() {
                Verdict::Waiting(vec![format!("no service of stack `{name}` yet")])
            } else {
                converge::verdict(&services, &tasks, since)
            };
            match verdict {
                Verdict::Converged => {
                    ui::info(&format!(
                        "stack `{name}` converged in {:.1} s: every service at its replicas, running and healthy",
                        started.elapsed().as_secs_f64()
                    ));
                    return ui::out(ui::swarm_table(&converge::rows(&services, &tasks)));
                }
                Verdict::Failed(failures) => {
                    for f in &failures {
                        ui::error(&format!("{}: {}", f.service, f.reason));
                        if let Some(hint) = failure_hint(&f.reason) {
                            ui::hint(hint);
                        }
                        if f.task_id.is_empty() {
                            continue;
                        }
                        let logs =
                            docker.query(&invoke::task_logs(root, &f.task_id, FAILED_LOG_LINES))?;
                        let text = docker
                            .masker
                            .text(&format!("{}{}", logs.stdout, logs.stderr));
                        let lines: Vec<&str> =
                            text.lines().filter(|l| !l.trim().is_empty()).collect();
                        if !lines.is_empty() {
                            eprintln!("  last log lines of {}:", f.service);
                            for line in lines {
                                eprintln!("    {line}");
                            }
                        }
                    }
                    let names: Vec<&str> = failures.iter().map(|f| f.service.as_str()).collect();
                    ui::error(&format!(
                        "stack `{name}` did not converge: {} failed",
                        names.join(", ")
                    ));
                    ui::hint(&format!(
                        "the stack stays deployed as it is: timmy ps {env} shows its tasks, timmy logs {env} {} the logs, timmy down {env} removes it",
                        names[0],
                        env = stack.env
                    ));
                    return Err(Exit::Failure.into());
                }
                Verdict::Waiting(lines) => {
                    if started.elapsed() >= timeout {
                        return Err(UserError::new(format!(
                            "stack `{name}` did not converge within {} s: {}",
                            timeout.as_secs(),
                            lines.join("; ")
                        ))
                        .hint(format!(
                            "timmy ps {env} shows its tasks; timmy logs {env} SERVICE shows why; --timeout waits longer",
                            env = stack.env
                        ))
                        .into());
                    }
                    if lines != shown {
                        ui::info(&format!("waiting: {}", lines.join("; ")));
                        shown = lines;
                    }
                }
            }
            std::thread::sleep(POLL);
        }
    }
}

/// What to do about a failure docker names in a way that has one usual cause.
pub(super) fn failure_hint(reason: &str) -> Option<&'static str> {
    if reason.starts_with("No such image") {
        // Measured with two nodes: the worker's task is rejected, the manager's runs.
        return Some(
            "a node without the image rejects its task: with more than one node, deploy with --registry HOST:PORT (or load the image on every node)",
        );
    }
    if reason.contains("Pool overlaps with other one on this address space") {
        return Some(
            "the node still held the network of a stack removed just before; run timmy deploy again in a few seconds",
        );
    }
    None
}

/// The content tag of a built image; under `--dry-run` an image not built yet shows as
/// `<content>`.
fn content_tag(
    docker: &Docker,
    stack: &Stack,
    service: &str,
    image: &str,
    registry: Option<&str>,
) -> Result<String> {
    let out = docker.query(&invoke::image_id(&stack.root, image))?;
    let id = if out.code == 0 {
        out.stdout
    } else if docker.dry_run {
        "<content>".to_string()
    } else {
        anyhow::bail!(
            "the image `{image}` of service {service} is not there after the build: {}",
            out.stderr.trim()
        );
    };
    Ok(invoke::content_tag(registry, &stack.name, service, &id))
}

/// `--scale SERVICE=N`, each.
pub(super) fn parse_scale(items: &[String]) -> Result<BTreeMap<String, u64>, UserError> {
    let mut out = BTreeMap::new();
    for item in items {
        let parsed = item
            .split_once('=')
            .and_then(|(s, n)| Some((s.trim(), n.trim().parse::<u64>().ok()?)))
            .filter(|(s, _)| !s.is_empty());
        let Some((service, n)) = parsed else {
            return Err(
                UserError::new(format!("--scale {item}: expected SERVICE=N"))
                    .hint("e.g. --scale timmy=3 (N replicas, 0 or more)"),
            );
        };
        out.insert(service.to_string(), n);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_secrets_are_the_stacks_own_the_file_no_longer_names() {
        let stack = serde_json::json!({"secrets": {
            "GITHUB_TOKEN_a5adb0c0ebf0": {"file": "/x", "name": "hp_GITHUB_TOKEN_a5adb0c0ebf0"},
            "extra": {"file": "/y"}
        }});
        let listed: Vec<String> = [
            "hp_GITHUB_TOKEN_d03680ebb084",
            "hp_GITHUB_TOKEN_a5adb0c0ebf0",
            "hp_extra",
            "hp_OPENAI_API_KEY_e9f00239a75e",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            stale_secrets("hp", &stack, &listed),
            [
                "hp_GITHUB_TOKEN_d03680ebb084",
                "hp_OPENAI_API_KEY_e9f00239a75e"
            ]
        );
        assert!(stale_secrets("hp", &stack, &[]).is_empty());
    }

    #[test]
    fn only_a_manager_deploys() {
        assert!(manager_refusal("active true\n").is_none());
        let worker = manager_refusal("active false").unwrap();
        assert_eq!(
            worker.message,
            "this Docker engine is a swarm worker: stacks deploy from a manager"
        );
        let none = manager_refusal("inactive false").unwrap();
        assert_eq!(
            none.message,
            "this Docker engine is not part of a swarm (node state: inactive)"
        );
        assert_eq!(
            none.hint.as_deref(),
            Some(
                "one node: docker swarm init --advertise-addr <this host's address>; or point DOCKER_HOST at a manager"
            )
        );
        assert_eq!(
            manager_refusal("").unwrap().message,
            "this Docker engine is not part of a swarm (node state: unknown)"
        );
    }

    #[test]
    fn failures_with_one_usual_cause_get_a_hint() {
        assert_eq!(
            failure_hint("No such image: p-timmy:0123456789ab"),
            Some(
                "a node without the image rejects its task: with more than one node, deploy with --registry HOST:PORT (or load the image on every node)"
            )
        );
        assert_eq!(
            failure_hint(
                "invalid pool request: Pool overlaps with other one on this address space"
            ),
            Some(
                "the node still held the network of a stack removed just before; run timmy deploy again in a few seconds"
            )
        );
        assert_eq!(failure_hint("task: non-zero exit (1)"), None);
    }

    #[test]
    fn scale_takes_service_equals_count() {
        let got = parse_scale(&["timmy=3".into(), "redis = 0".into()]).unwrap();
        assert_eq!(
            got.into_iter().collect::<Vec<_>>(),
            vec![("redis".to_string(), 0), ("timmy".to_string(), 3)]
        );
        for bad in ["timmy", "=3", "timmy=-1", "timmy=x"] {
            assert_eq!(
                parse_scale(&[bad.into()]).unwrap_err().message,
                format!("--scale {bad}: expected SERVICE=N")
            );
        }
    }

    #[test]
    fn missing_bind_sources_are_the_absolute_absent_ones() {
        let dir = tempfile::tempdir().unwrap();
        let there = dir.path().join("data");
        std::fs::create_dir(&there).unwrap();
        let absent = dir.path().join("logs");
        let stack = serde_json::json!({"services": {
            "timmy": {"volumes": [
                {"type": "bind", "source": there, "target": "/a"},
                {"type": "bind", "source": absent, "target": "/b"},
                {"type": "volume", "source": "redis-data", "target": "/c"},
            ]},
            "other": {"volumes": [{"type": "bind", "source": absent, "target": "/d"}]}
        }});
        assert_eq!(missing_bind_sources(&stack), vec![absent]);
    }

    #[test]
    fn secret_files_are_private_and_gone_after_the_deploy() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let secrets = dir.path().join("s");
        let files = vec![swarm::SecretFile {
            key: "K".into(),
            name: "p_K_1".into(),
            path: secrets.join("K_1"),
            value: "v4lue".into(),
        }];
        let guard = SecretDir::write(&secrets, &files).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&secrets), 0o700);
        assert_eq!(mode(&secrets.join("K_1")), 0o600);
        assert_eq!(
            std::fs::read_to_string(secrets.join("K_1")).unwrap(),
            "v4lue"
        );
        drop(guard);
        assert!(!secrets.exists());
    }
}
