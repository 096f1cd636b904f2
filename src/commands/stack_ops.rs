//! Commands on a running stack: `ps`, `logs`, `shell`, `exec` and `restart` (which waits for
//! health like `up`).

use std::path::Path;

use anyhow::Result;

use super::{Ctx, is_interactive, plain, require_running};
use crate::checkout;
use crate::cli;
use crate::compose;
use crate::docker::{Docker, Outcome};
use crate::exit::{Exit, UserError};
use crate::project::Project;
use crate::status::{Health, Service, State};
use crate::ui;

/// How long `restart` waits for health (`up`'s default `--timeout`), and how often it looks.
const RESTART_WAIT: std::time::Duration = std::time::Duration::from_secs(120);
const RESTART_POLL: std::time::Duration = std::time::Duration::from_millis(500);

impl Ctx {
    pub(super) fn ps(&self, a: &cli::PsArgs) -> Result<()> {
        let project = self.named_project()?;
        let env = a.env.as_deref().or(a.env_flag.as_deref());
        let env = env.map(|e| project.resolve_env(e)).transpose()?;
        let docker = self.docker()?;
        let asked = env.is_some();
        let (_, name) = self.target(&docker, &project, env, "ps")?;
        let split = self.split(&docker, &project, &name)?;
        if let (Some(other), true) = (split.other(), split.ours.is_empty()) {
            return Err(checkout::only_theirs(&name, other, &self.suggestion(&project)?).into());
        }
        if split.other().is_none()
            && let Some(ids) =
                self.deployed_unless_compose(&docker, &project.root, (&name, asked), &split.ours)?
        {
            return Self::stack_ps(&docker, &project.root, &name, &ids, a.json);
        }
        if !asked
            && split.ours.is_empty()
            && split.other().is_none()
            && let Some(d) = self.deployed_here(&docker, &project, "ps")?
        {
            return Self::stack_ps(&docker, &project.root, &d.name, &d.ids, a.json);
        }
        let mut services = self.service_list(&docker, &project.root, &name)?;
        if split.other().is_some() {
            services.retain(|s| split.ours.iter().any(|c| c.name == s.name));
        }
        if a.json {
            ui::out(serde_json::to_string_pretty(&services)? + "\n")?;
        } else if services.is_empty() {
            ui::info(&format!(
                "nothing of project `{name}` is running; start it with: timmy up"
            ));
        } else {
            ui::out(ui::service_table(&services))?;
        }
        Ok(())
    }

    pub(super) fn logs(&self, a: &cli::LogsArgs) -> Result<()> {
        let project = self.named_project()?;
        let (env, services) = project.split_env(&a.services, 0, None, "logs [ENV] [SERVICE]...")?;
        project.require_services(&services)?;
        let docker = self.docker()?;
        let (asked, shown_env) = (env.is_some(), env.clone().unwrap_or_default());
        let (_, name) = self.target(&docker, &project, env, "logs")?;
        let split = self.ours_only(&docker, &project, &name)?;
        if let Some(ids) =
            self.deployed_unless_compose(&docker, &project.root, (&name, asked), &split.ours)?
        {
            return Self::stack_logs(
                &docker,
                &project.root,
                (&name, &shown_env),
                &ids,
                &services,
                a,
            );
        }
        if !asked
            && split.ours.is_empty()
            && let Some(d) = self.deployed_here(&docker, &project, "logs")?
        {
            return Self::stack_logs(
                &docker,
                &project.root,
                (&d.name, &d.env),
                &d.ids,
                &services,
                a,
            );
        }
        let inv = compose::logs(
            &project.root,
            &name,
            &services,
            a.follow,
            a.tail,
            a.since.as_deref(),
        );
        if a.follow && !docker.dry_run {
            require_running(&split, &name, "no logs to follow")?;
        }
        docker.run_relayed_ok(&plain(inv)).map(drop)
    }

    /// After `restart`: wait, as `up --wait` does, until every restarted service is healthy
    /// (or running, without a health check); a service that turns unhealthy or exits is
    /// explained like a failed `up`.
    pub(super) fn wait_for_health(
        &self,
        docker: &Docker,
        root: &Path,
        name: &str,
        wanted: &[String],
    ) -> Result<()> {
        let deadline = std::time::Instant::now() + RESTART_WAIT;
        loop {
            let services: Vec<Service> = self
                .service_list(docker, root, name)?
                .into_iter()
                .filter(|s| wanted.is_empty() || wanted.contains(&s.service))
                .collect();
            if services.iter().any(Service::is_failed) {
                self.explain_failure(docker, root, name)?;
                return Err(Exit::Failure.into());
            }
            let ready = |s: &Service| match s.state {
                State::Running => matches!(s.health, Health::None | Health::Healthy),
                State::Exited => s.exit_code == 0,
                _ => false,
            };
            if services.iter().all(ready) {
                ui::info(&format!("restarted; `{name}` is healthy"));
                return ui::out(ui::service_table(&services));
            }
            if std::time::Instant::now() >= deadline {
                let waiting: Vec<&str> = services
                    .iter()
                    .filter(|s| !ready(s))
                    .map(|s| s.service.as_str())
                    .collect();
                return Err(UserError::new(format!(
                    "{} not healthy {} s after the restart",
                    waiting.join(", "),
                    RESTART_WAIT.as_secs()
                ))
                .hint("timmy logs shows why; timmy ps shows the health")
                .into());
            }
            std::thread::sleep(RESTART_POLL);
        }
    }

    pub(super) fn shell(&self, a: &cli::ShellArgs) -> Result<()> {
        let project = self.named_project()?;
        let (env, names) = project.split_env(&a.names, 0, Some(1), "shell [ENV] [SERVICE]")?;
        let service = names.first().map_or("timmy", String::as_str);
        let command = compose::shell_command(a.command.as_deref());
        self.exec_in(&project, env, service, &command, "shell")
    }

    pub(super) fn exec(&self, a: &cli::ExecArgs) -> Result<()> {
        let project = self.named_project()?;
        let (env, names) = project.split_env(&a.names, 1, Some(1), "exec [ENV] SERVICE -- CMD")?;
        self.exec_in(&project, env, &names[0], &a.command, "exec")
    }

    pub(super) fn exec_in(
        &self,
        project: &Project,
        env: Option<String>,
        service: &str,
        command: &[String],
        what: &str,
    ) -> Result<()> {
        project.require_services(&[service.to_string()])?;
        let docker = self.docker()?;
        let asked = env.clone();
        let (_, name) = self.target(&docker, project, env, what)?;
        let split = self.ours_only(&docker, project, &name)?;
        self.refuse_compose_on_stack(&docker, &project.root, &name, &split.ours, what)?;
        let prod_name = self.name(project, crate::stack::PROD)?;
        checkout::refuse_other_env(asked.as_deref(), &split.ours, &name, &prod_name, "entering")?;
        let inv = compose::exec(&project.root, &name, service, command, is_interactive());
        docker.run_ok(&inv).map(drop)
    }

    pub(super) fn restart(&self, a: &cli::RestartArgs) -> Result<()> {
        let project = self.named_project()?;
        let (env, services) =
            project.split_env(&a.services, 0, None, "restart [ENV] [SERVICE]...")?;
        project.require_services(&services)?;
        let docker = self.docker()?;
        let asked = env.clone();
        let (_, name) = self.target(&docker, &project, env, "restart")?;
        let split = self.ours_only(&docker, &project, &name)?;
        self.refuse_compose_on_stack(&docker, &project.root, &name, &split.ours, "restart")?;
        let prod_name = self.name(&project, crate::stack::PROD)?;
        checkout::refuse_other_env(
            asked.as_deref(),
            &split.ours,
            &name,
            &prod_name,
            "restarting",
        )?;
        if !docker.dry_run {
            require_running(&split, &name, "nothing to restart")?;
        }
        let Outcome::Ran(_) = docker.run_ok(&compose::restart(&project.root, &name, &services))?
        else {
            return Ok(());
        };
        self.wait_for_health(&docker, &project.root, &name, &services)
    }
}
