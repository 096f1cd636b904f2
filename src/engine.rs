//! One way to ask the engine what runs, whichever way it is reached. An [`Engine`] is chosen
//! once (in `commands::Ctx`): the engine's local Unix socket when there is one and
//! `TIMMY_DOCKER` is unset (one GET, no process; see `engine_api`), else the docker CLI (TCP,
//! SSH, a non-default context, or a `TIMMY_DOCKER` that may talk to another daemon). A socket
//! request that fails falls back to the CLI with a warning, and the CLI answers every later
//! query of the command (a failing socket warns once, not at each poll of a wait loop); `-v`
//! shows what was asked.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;

use crate::compose;
use crate::docker::Docker;
use crate::engine_api::{self, ApiVersion, EngineApi};
use crate::preflight;
use crate::status::{self, Container, Service};
use crate::swarm::{converge, invoke};
use crate::ui;

/// How the engine is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// GETs on this Unix socket, the CLI only when a request fails.
    Socket(PathBuf),
    /// `docker ps` / `docker compose ps` through the runner.
    Cli,
}

#[derive(Debug, Clone)]
pub struct Engine {
    api: Option<EngineApi>,
    /// Set when a socket request failed: the CLI answers from then on (clones share it).
    fell_back: Arc<AtomicBool>,
}

impl Engine {
    /// The socket when `env` names a local one (see [`preflight::daemon_socket`]) and
    /// `TIMMY_DOCKER` is unset; else the CLI.
    pub fn new(env: &preflight::Env) -> Self {
        let api = env
            .timmy_docker
            .is_none()
            .then(|| preflight::daemon_socket(env))
            .flatten()
            .map(|socket| EngineApi::new(&socket));
        Self {
            api,
            fell_back: Arc::default(),
        }
    }

    /// The socket to ask, `None` once a request on it failed (or without one).
    fn socket(&self) -> Option<&EngineApi> {
        self.api
            .as_ref()
            .filter(|_| !self.fell_back.load(Ordering::Relaxed))
    }

    /// Warns that the socket failed with `e` and that `instead` answers; later queries go
    /// straight to the CLI.
    fn fall_back(&self, e: &std::io::Error, instead: &str) {
        self.fell_back.store(true, Ordering::Relaxed);
        ui::warning(&format!("{e}; asking `{instead}` instead"));
    }

    pub fn route(&self) -> Route {
        self.api
            .as_ref()
            .map_or(Route::Cli, |api| Route::Socket(api.socket.clone()))
    }

    /// The socket's client, when the engine is asked through its socket (not after a request
    /// on it failed).
    pub fn api(&self) -> Option<&EngineApi> {
        self.socket()
    }

    /// The engine's API version, asked of the socket; `None` over the CLI or without an
    /// answer.
    pub fn api_version(&self) -> Option<ApiVersion> {
        self.api.as_ref()?.api_version().ok()
    }

    /// Every container carrying `label` (`KEY=VALUE`). `after_signal`: asked after Ctrl-C (for
    /// the cleanup that follows it), which the CLI route must still run.
    pub fn containers_with(
        &self,
        docker: &Docker,
        root: &Path,
        label: &str,
        after_signal: bool,
    ) -> Result<Vec<Container>> {
        if let Some(api) = self.socket() {
            if docker.verbose {
                ui::command_line("running:", &engine_api::describe_query(label));
            }
            match api.containers_with(label) {
                Ok(containers) => return Ok(containers),
                Err(e) => self.fall_back(&e, "docker ps"),
            }
        }
        let query = compose::containers_with(root, label);
        let out = if after_signal {
            let out = docker.query_after_signal(&query)?;
            anyhow::ensure!(out.code == 0, "`{query}` failed with code {}", out.code);
            out.stdout
        } else {
            docker.query_ok(&query)?
        };
        Ok(status::parse_containers(&out))
    }

    /// Project `name`'s containers as `docker compose ps --all` lists them.
    pub fn services_of(&self, docker: &Docker, root: &Path, name: &str) -> Result<Vec<Service>> {
        if let Some(api) = self.socket() {
            if docker.verbose {
                ui::command_line(
                    "running:",
                    &engine_api::describe_query(&format!("{}={name}", compose::LABEL_PROJECT)),
                );
            }
            match api.services_of(name) {
                Ok(services) => return Ok(services),
                Err(e) => self.fall_back(&e, "docker compose ps"),
            }
        }
        let out = docker.query_ok(&compose::ps(root, name))?;
        status::parse_ps(&out)
    }

    /// The ids of the services of Swarm stack `name` (label `com.docker.stack.namespace`);
    /// `None` when it has none, or when the engine is not a swarm manager (no stack can be
    /// deployed there: the socket answers 503, `docker service ls` says so). Any other failure
    /// is an error, never "nothing deployed": a socket that answers otherwise falls back to
    /// `docker service ls` with a warning, and that failing is an error.
    pub fn stack_services(
        &self,
        docker: &Docker,
        root: &Path,
        name: &str,
    ) -> Result<Option<Vec<String>>> {
        Ok(self
            .stack_lookup(docker, root, name)?
            .filter(|ids| !ids.is_empty()))
    }

    /// [`Engine::stack_services`] of each name in turn, stopping at the first answer that the
    /// engine is not a swarm manager (then one request on the socket, or one `docker service
    /// ls`, whatever the number of names): the names with a stack, with their services' ids.
    pub fn stacks_among<'a>(
        &self,
        docker: &Docker,
        root: &Path,
        names: &'a [String],
    ) -> Result<Vec<(&'a str, Vec<String>)>> {
        let mut found = Vec::new();
        for name in names {
            match self.stack_lookup(docker, root, name)? {
                None => break,
                Some(ids) if ids.is_empty() => {}
                Some(ids) => found.push((name.as_str(), ids)),
            }
        }
        Ok(found)
    }

    /// The ids of stack `name`'s services (maybe none); `None` when the engine is not a swarm
    /// manager.
    fn stack_lookup(
        &self,
        docker: &Docker,
        root: &Path,
        name: &str,
    ) -> Result<Option<Vec<String>>> {
        if let Some(api) = self.socket() {
            let label = format!("{}={name}", converge::LABEL_NAMESPACE);
            if docker.verbose {
                ui::command_line(
                    "running:",
                    &format!("GET /services (label {label}) on the Docker socket"),
                );
            }
            match api.service_ids_with(&label) {
                Ok(found) => return Ok(found),
                Err(e) => self.fall_back(&e, "docker service ls"),
            }
        }
        let query = invoke::service_ids(root, name);
        let out = docker.query(&query)?;
        if out.code != 0 {
            if invoke::not_a_manager(&out.stderr) {
                return Ok(None);
            }
            let first = docker
                .masker
                .text(out.stderr.lines().next().unwrap_or("").trim());
            anyhow::bail!(
                "`{}` failed with code {}: {first}",
                docker.shown(&query),
                out.code
            );
        }
        let ids: Vec<String> = out
            .stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        Ok(Some(ids))
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;

    #[track_caller]
    fn case(env: &preflight::Env, expected: &Route) {
        assert_eq!(&Engine::new(env).route(), expected, "{env:?}");
    }

    #[test]
    fn after_a_failed_request_neither_the_engine_nor_its_clones_offer_the_socket() {
        let engine = Engine {
            api: Some(EngineApi::new(Path::new("/nonexistent/docker.sock"))),
            fell_back: Arc::default(),
        };
        let clone = engine.clone();
        assert!(engine.api().is_some() && clone.api().is_some());
        engine.fall_back(&std::io::Error::other("boom"), "docker ps");
        assert!(engine.api().is_none() && clone.api().is_none());
    }

    #[test]
    fn the_socket_only_when_it_is_local_and_timmy_docker_is_unset() {
        let dir = tempfile::tempdir().unwrap();
        let env = preflight::Env {
            docker_config: Some(dir.path().join("cfg")),
            ..preflight::Env::default()
        };
        let with = |f: &dyn Fn(&mut preflight::Env)| {
            let mut e = env.clone();
            f(&mut e);
            e
        };
        case(&env, &Route::Socket("/var/run/docker.sock".into()));
        case(
            &with(&|e| e.docker_host = Some("unix:///run/user/1000/docker.sock".into())),
            &Route::Socket("/run/user/1000/docker.sock".into()),
        );
        case(
            &with(&|e| e.docker_host = Some("tcp://127.0.0.1:2375".into())),
            &Route::Cli,
        );
        case(
            &with(&|e| e.docker_host = Some("ssh://me@host".into())),
            &Route::Cli,
        );
        case(
            &with(&|e| e.docker_context = Some("remote".into())),
            &Route::Cli,
        );
        case(
            &with(&|e| e.docker_context = Some("default".into())),
            &Route::Socket("/var/run/docker.sock".into()),
        );
        case(
            &with(&|e| e.timmy_docker = Some(OsString::from("/usr/bin/docker"))),
            &Route::Cli,
        );
        case(
            &with(&|e| {
                e.timmy_docker = Some(OsString::from("/usr/bin/docker"));
                e.docker_host = Some("unix:///var/run/docker.sock".into());
            }),
            &Route::Cli,
        );
        std::fs::create_dir_all(dir.path().join("cfg")).unwrap();
        std::fs::write(
            dir.path().join("cfg/config.json"),
            r#"{"currentContext":"remote"}"#,
        )
        .unwrap();
        case(&env, &Route::Cli);
        assert_eq!(
            Engine::new(&env).api_version(),
            None,
            "no socket, no version"
        );
    }
}
