//! A stack deployed on a swarm (`timmy deploy`), as `ps`, `logs` and `down` see it: found by
//! the label `com.docker.stack.namespace` when no Compose container carries the name, its state
//! read through [`converge`], removed with `docker stack rm` and then checked for leftovers
//! (services, the tasks' containers, networks, secrets, configs of the stack).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::Ctx;
use super::down::confirm_volume_removal;
use crate::docker::{Docker, Outcome};
use crate::exit::{Exit, UserError};
use crate::swarm::converge::{self, SwarmService, Task};
use crate::swarm::invoke::{self, Leftover};
use crate::ui;

/// How long `down` waits for `docker stack rm` to take everything away: the tasks get their
/// stop grace period (10 s by default), the networks go after them.
const REMOVAL_WAIT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(500);

/// Non-empty lines of docker's output.
pub(super) fn ids(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// A stack deployed under one of this checkout's project names.
pub(super) struct Deployed {
    pub env: String,
    pub name: String,
    pub ids: Vec<String>,
}

impl Ctx {
    /// For `ps`, `logs` and `down` without an environment when no Compose stack of this
    /// checkout is there: the stack deployed under one of this checkout's project names (one
    /// lookup per environment). A stack carries no checkout label, so its name is all there
    /// is to go by; several are an error naming each.
    pub(super) fn deployed_here(
        &self,
        docker: &Docker,
        project: &crate::project::Project,
        command: &str,
    ) -> Result<Option<Deployed>> {
        let mut found = Vec::new();
        for (env, name) in self.names(project)? {
            if let Some(ids) = self.deployed(docker, &project.root, &name)? {
                found.push(Deployed { env, name, ids });
            }
        }
        if found.len() > 1 {
            let list: Vec<String> = found
                .iter()
                .map(|d| format!("{} (`{}`)", d.env, d.name))
                .collect();
            return Err(UserError::new(format!(
                "{} stacks of this checkout's names are deployed on the swarm: {}",
                found.len(),
                list.join(", ")
            ))
            .hint(format!(
                "name the environment, e.g. timmy {command} {}",
                found[0].env
            ))
            .into());
        }
        Ok(found.pop())
    }

    /// For bare `timmy`: every stack deployed under one of this checkout's project names
    /// (asked through [`crate::engine::Engine::stacks_among`]), as `(env, name, rows of timmy
    /// ps ENV)`.
    pub(crate) fn deployed_rows(
        &self,
        docker: &Docker,
        project: &crate::project::Project,
    ) -> Result<Vec<(String, String, Vec<converge::Row>)>> {
        let names = self.names(project)?;
        let plain: Vec<String> = names.iter().map(|(_, name)| name.clone()).collect();
        let mut found = Vec::new();
        for (name, ids) in self.engine.stacks_among(docker, &project.root, &plain)? {
            let env = names
                .iter()
                .find(|(_, n)| n == name)
                .map(|(e, _)| e.clone());
            let (services, tasks) = Self::stack_state(docker, &project.root, &ids)?;
            let rows = converge::rows(&services, &tasks);
            found.push((env.unwrap_or_default(), name.to_string(), rows));
        }
        Ok(found)
    }

    /// [`Ctx::deployed`], asked only when no container under the name was created by Compose
    /// (all lack its working-dir label): a stack's task containers carry the Compose project
    /// label too, inherited from the image `docker compose build` labelled (measured with
    /// Compose 2.26 and 2.40), so they look like the project's.
    /// Only for an environment named on the command line (`timmy ps prod`): without one,
    /// these commands act on the stack of this checkout that runs, learnt from Compose's
    /// working-dir label, which a stack's containers do not carry (when none runs, see
    /// [`Ctx::deployed_here`]).
    pub(super) fn deployed_unless_compose(
        &self,
        docker: &Docker,
        root: &Path,
        (name, asked): (&str, bool),
        ours: &[crate::status::Container],
    ) -> Result<Option<Vec<String>>> {
        if !asked || ours.iter().any(|c| !c.working_dir.is_empty()) {
            return Ok(None);
        }
        self.deployed(docker, root, name)
    }

    /// For `up`: the name is a deployed stack's (its task containers, which Compose did not
    /// create, show under the project label): refuse rather than start a second copy beside
    /// it under the same network name.
    pub(super) fn refuse_deployed_stack(
        &self,
        docker: &Docker,
        stack: &crate::stack::Stack,
        ours: &[crate::status::Container],
    ) -> Result<()> {
        if ours.iter().any(|c| c.working_dir.is_empty())
            && self.deployed(docker, &stack.root, &stack.name)?.is_some()
        {
            return Err(UserError::new(format!(
                "`{}` is deployed as a Swarm stack on this engine",
                stack.name
            ))
            .hint(format!(
                "timmy down {env} removes the stack first (its named volumes stay); timmy ps {env} shows it",
                env = stack.env
            ))
            .into());
        }
        Ok(())
    }

    /// For `restart`, `exec` and `shell` of a name a deployed stack uses (its task containers,
    /// which Compose did not create, under the project label): refuse. Measured on Engine
    /// 28.5: `restart` restarted the swarm's task container behind its back and showed a
    /// table without redis; `exec` said "service timmy is not running".
    pub(super) fn refuse_compose_on_stack(
        &self,
        docker: &Docker,
        root: &Path,
        name: &str,
        ours: &[crate::status::Container],
        command: &str,
    ) -> Result<()> {
        if !ours.iter().any(|c| c.working_dir.is_empty())
            || self
                .deployed_unless_compose(docker, root, (name, true), ours)?
                .is_none()
        {
            return Ok(());
        }
        let hint = if command == "restart" {
            format!(
                "docker service update --force {name}_SERVICE restarts a service's tasks on the swarm"
            )
        } else {
            format!(
                "docker ps --filter label=com.docker.stack.namespace={name} lists its task containers, for docker exec"
            )
        };
        Err(UserError::new(format!(
            "`{name}` is deployed as a Swarm stack on this engine: timmy {command} acts on Compose stacks"
        ))
        .hint(hint)
        .into())
    }

    /// The ids of the services of stack `name` (see [`crate::engine::Engine::stack_services`]).
    pub(super) fn deployed(
        &self,
        docker: &Docker,
        root: &Path,
        name: &str,
    ) -> Result<Option<Vec<String>>> {
        self.engine.stack_services(docker, root, name)
    }

    /// The stack's services and every task of theirs, as docker reports them. A task removed
    /// between the listing and the inspection is simply not there (docker still prints the rest).
    pub(super) fn stack_state(
        docker: &Docker,
        root: &Path,
        service_ids: &[String],
    ) -> Result<(Vec<SwarmService>, Vec<Task>)> {
        let services = docker.query(&invoke::service_inspect(root, service_ids))?;
        let services = converge::parse_services(&services.stdout)?;
        let task_ids = ids(&docker.query(&invoke::task_ids(root, service_ids))?.stdout);
        if task_ids.is_empty() {
            return Ok((services, Vec::new()));
        }
        let tasks = docker.query(&invoke::task_inspect(root, &task_ids))?;
        Ok((services, converge::parse_tasks(&tasks.stdout)?))
    }

    /// `timmy ps` of a deployed stack: replicas and health per service.
    pub(super) fn stack_ps(
        docker: &Docker,
        root: &Path,
        name: &str,
        service_ids: &[String],
        json: bool,
    ) -> Result<()> {
        let (services, tasks) = Self::stack_state(docker, root, service_ids)?;
        let rows = converge::rows(&services, &tasks);
        if json {
            return ui::out(serde_json::to_string_pretty(&rows)? + "\n");
        }
        ui::info(&format!("stack `{name}`, deployed on the swarm"));
        ui::out(ui::swarm_table(&rows))
    }

    /// `timmy logs` of a deployed stack: `docker service logs` of each service asked for (all
    /// without one), in turn; docker follows one service at a time.
    pub(super) fn stack_logs(
        docker: &Docker,
        root: &Path,
        (name, env): (&str, &str),
        service_ids: &[String],
        wanted: &[String],
        a: &crate::cli::LogsArgs,
    ) -> Result<()> {
        let services: Vec<String> = if wanted.is_empty() {
            let (services, _) = Self::stack_state(docker, root, service_ids)?;
            services.into_iter().map(|s| s.service).collect()
        } else {
            wanted.to_vec()
        };
        if a.follow && services.len() > 1 {
            return Err(UserError::new(format!(
                "stack `{name}` runs on a swarm, where docker follows the logs of one service at a time"
            ))
            .hint(format!(
                "name one: timmy logs {env} {} -f (services: {})",
                services[0],
                services.join(", ")
            ))
            .into());
        }
        for service in services {
            let inv = invoke::service_logs(
                root,
                &format!("{name}_{service}"),
                a.follow,
                a.tail,
                a.since.as_deref(),
            );
            let _ = docker.run_relayed_ok(&inv)?;
        }
        Ok(())
    }

    /// `timmy down` of a deployed stack: `docker stack rm`, then wait until nothing of it is
    /// left (exit 1 naming what is, after [`REMOVAL_WAIT`]); `--volumes` then removes its named
    /// volumes (prod's behind the confirmation).
    pub(super) fn stack_down(
        docker: &Docker,
        root: &Path,
        name: &str,
        volumes: bool,
        guarded: bool,
    ) -> Result<()> {
        if volumes && guarded && !docker.dry_run {
            confirm_volume_removal(name)?;
        }
        let Outcome::Ran(_) = docker.run_ok(&invoke::stack_rm(root, name))? else {
            let found = ids(&docker.query_ok(&invoke::volumes_of(root, name))?);
            if volumes && !found.is_empty() {
                let _ = docker.run_ok(&invoke::remove_volumes(root, &found))?;
            }
            return Ok(());
        };
        let deadline = Instant::now() + REMOVAL_WAIT;
        let left = loop {
            let mut left = Vec::new();
            for kind in Leftover::ALL {
                let found = ids(&docker.query_ok(&invoke::leftovers(root, kind, name))?);
                if !found.is_empty() {
                    left.push((kind, found));
                }
            }
            if left.is_empty() || Instant::now() >= deadline {
                break left;
            }
            std::thread::sleep(POLL);
        };
        if !left.is_empty() {
            let (message, hint) = leftover_report(name, &left, REMOVAL_WAIT);
            ui::error(&message);
            ui::hint(&hint);
            return Err(Exit::Failure.into());
        }
        let mut removed = "no service, container, network, secret or config of it is left";
        if volumes {
            let found = ids(&docker.query_ok(&invoke::volumes_of(root, name))?);
            if !found.is_empty() {
                let _ = docker.run_ok(&invoke::remove_volumes(root, &found))?;
                removed = "no service, container, network, secret, config or volume of it is left";
            }
        }
        ui::info(&format!("removed stack `{name}` from the swarm: {removed}"));
        Ok(())
    }
}

/// `down` without an environment finds no Compose stack of this checkout but a deployed one:
/// named with the command that removes it, never removed unasked (nothing tells which
/// checkout deployed it).
pub(super) fn deployed_not_picked(d: &Deployed) -> UserError {
    UserError::new(format!(
        "no Compose stack of this checkout is running, but `{}` is deployed as a Swarm stack on this engine",
        d.name
    ))
    .hint(format!(
        "timmy down {} removes it (a deployed stack is only removed when its environment is named)",
        d.env
    ))
}

/// The error and hint when `docker stack rm` left something behind.
fn leftover_report(
    name: &str,
    left: &[(Leftover, Vec<String>)],
    waited: Duration,
) -> (String, String) {
    let parts: Vec<String> = left
        .iter()
        .map(|(kind, ids)| {
            let short: Vec<&str> = ids.iter().map(|i| &i[..i.len().min(12)]).collect();
            format!("{} {} ({})", ids.len(), kind.plural(), short.join(" "))
        })
        .collect();
    (
        format!(
            "stack `{name}` still has {} {} s after `docker stack rm`",
            parts.join(", "),
            waited.as_secs()
        ),
        format!(
            "docker stack ps {name} shows what still runs; run timmy down again once it has stopped"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_are_named_by_kind() {
        let left = vec![
            (Leftover::Containers, vec!["0123456789abcdef".to_string()]),
            (Leftover::Networks, vec!["n1".to_string(), "n2".to_string()]),
        ];
        assert_eq!(
            leftover_report("p", &left, Duration::from_secs(60)),
            (
                "stack `p` still has 1 containers (0123456789ab), 2 networks (n1 n2) 60 s after `docker stack rm`".to_string(),
                "docker stack ps p shows what still runs; run timmy down again once it has stopped".to_string()
            )
        );
    }

    #[test]
    fn ids_are_the_non_empty_lines() {
        assert_eq!(ids("a\n\n b \n"), vec!["a", "b"]);
        assert!(ids("").is_empty());
    }
}
