//! One way to ask the engine what runs, whichever way it is reached. An [`Engine`] is chosen
//! once (in `commands::Ctx`): the engine's local Unix socket when there is one and
//! `TIMMY_DOCKER` is unset (one GET, no process; see `engine_api`), else the docker CLI (TCP,
//! SSH, a non-default context, or a `TIMMY_DOCKER` that may talk to another daemon). A socket
//! request that fails falls back to the CLI with a warning; `-v` shows what was asked.

use std::path::{Path, PathBuf};

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
        Self { api }
    }

    pub fn route(&self) -> Route {
        self.api
            .as_ref()
            .map_or(Route::Cli, |api| Route::Socket(api.socket.clone()))
    }

    /// The socket's client, when the engine is asked through its socket.
    pub fn api(&self) -> Option<&EngineApi> {
        self.api.as_ref()
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
        if let Some(api) = &self.api {
            if docker.verbose {
                ui::command_line("running:", &engine_api::describe_query(label));
            }
            match api.containers_with(label) {
                Ok(containers) => return Ok(containers),
                Err(e) => ui::warning(&format!("{e}; asking `docker ps` instead")),
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
        if let Some(api) = &self.api {
            if docker.verbose {
                ui::command_line(
                    "running:",
                    &engine_api::describe_query(&format!("{}={name}", compose::LABEL_PROJECT)),
                );
            }
            match api.services_of(name) {
                Ok(services) => return Ok(services),
                Err(e) => ui::warning(&format!("{e}; asking `docker compose ps` instead")),
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
        if let Some(api) = &self.api {
            let label = format!("{}={name}", converge::LABEL_NAMESPACE);
            if docker.verbose {
                ui::command_line(
                    "running:",
                    &format!("GET /services (label {label}) on the Docker socket"),
                );
            }
            match api.service_ids_with(&label) {
                Ok(found) => return Ok(found.filter(|ids| !ids.is_empty())),
                Err(e) => ui::warning(&format!("{e}; asking `docker service ls` instead")),
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
        Ok((!ids.is_empty()).then_some(ids))
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
