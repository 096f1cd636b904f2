//! `timmy run [ENV] SERVICE [-- CMD…]`: a one-off command in a new container of a service,
//! removed afterwards (`docker compose run --rm`). The order is `up`'s: resolve the environment
//! and the service (it must be one of that environment's files), validate `.env` (nothing
//! starts on an error), preflight, then docker. Without an environment the stack of this
//! checkout that runs is used (dev when none runs). Dependencies that `run` had to start
//! (`depends_on`) are stopped and removed afterwards; what was running before stays. timmy
//! exits with the command's own exit code.

use anyhow::Result;

use super::Ctx;
use crate::checkout::{self, Split};
use crate::cli::RunArgs;
use crate::compose;
use crate::docker::{Docker, Outcome};
use crate::engine::Engine;
use crate::exit::{Exit, UserError};
use crate::preflight;
use crate::project::Project;
use crate::stack::{self, Stack};
use crate::status::{Container, State};
use crate::ui;
use crate::validate;

pub fn run(ctx: &Ctx, a: &RunArgs) -> Result<()> {
    let (global, cwd, env) = (&ctx.global, ctx.cwd.as_path(), &ctx.env);
    let project = Project::locate(global.project_dir.as_deref(), cwd)?;
    let (env_name, service) = target(&project, &a.names)?;
    project.require_services(std::slice::from_ref(&service))?;
    let name_override = global.project_name.as_deref();
    // `.env` is validated before Docker is asked which stack runs (dev's file stack when none
    // is named), so a bad `.env` never reaches Docker.
    let first = env_name
        .clone()
        .map_or_else(|| project.resolve_env("dev"), Ok)?;
    let mut stack = super::for_engine(
        Stack::new(&project, &first, name_override)?,
        &ctx.engine,
        global,
    );
    require_in_stack(&stack, &service)?;
    validate::gate(&stack, false)?;
    let docker =
        Docker::new(preflight::ready(env)?, global).masking(crate::secrets::masker(&project.root));
    validate::compose_gate(&docker, &stack)?;
    if env_name.is_none()
        && let Some(found) = checkout::pick(
            &checkout::stacks_here(&ctx.engine, &docker, &project, name_override)?,
            "run",
        )?
        && let Some(running) = found.env
        && running != stack.env
    {
        stack = super::for_engine(
            Stack::new(&project, &running, name_override)?,
            &ctx.engine,
            global,
        );
        require_in_stack(&stack, &service)?;
        validate::gate(&stack, false)?;
        validate::compose_gate(&docker, &stack)?;
    }
    let label = checkout::project_label(&stack.name);
    let split = Split::new(
        ctx.engine
            .containers_with(&docker, &project.root, &label, false)?,
        &project.root,
    );
    if let Some(other) = split.other() {
        let base = stack::project_name(&project.root, stack::PROD, name_override)?;
        let suggestion = checkout::suggest_name(&project.root, &base);
        return Err(checkout::in_use(
            &stack.name,
            other,
            &suggestion,
            &format!("run {}", stack.env),
        )
        .into());
    }
    ctx.refuse_deployed_stack(&docker, &stack, &split.ours)?;
    if let Some(other) = checkout::other_env(&split.ours, &stack.env) {
        let command = format!("run {} {service}", stack.env);
        return Err(checkout::other_env_under(&stack.name, &other, &stack.env, &command).into());
    }
    let tty = super::is_interactive();
    let before = running(&split.ours);
    // stderr through the masker: the daemon quotes values it refuses, as on `up`.
    let outcome = docker.run_masked(&compose::run(&stack, &service, &a.command, tty));
    if !matches!(outcome, Ok(Outcome::DryRun))
        && let Err(e) = stop_started(&ctx.engine, &docker, &stack, &label, &before)
    {
        ui::warning(&format!(
            "could not stop what `run` started: {e:#} (timmy down stops the stack)"
        ));
    }
    match outcome? {
        Outcome::Ran(0) | Outcome::DryRun => Ok(()),
        Outcome::Ran(code) => Err(Exit::Docker(code).into()),
    }
}

/// The service must be declared by the stack's own files: `timmy run tests` in dev would
/// otherwise reach Compose and fail there ("no such service").
fn require_in_stack(stack: &Stack, service: &str) -> Result<(), UserError> {
    let mut names: Vec<String> = stack
        .files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|text| crate::project::service_names(&text))
        .collect();
    names.sort();
    names.dedup();
    if names.iter().any(|n| n == service) {
        return Ok(());
    }
    Err(UserError::new(format!(
        "the {} stack has no service `{service}` ({})",
        stack.env,
        stack.relative_files().join(" + ")
    ))
    .hint(format!(
        "services of the {} stack: {}",
        stack.env,
        names.join(", ")
    )))
}

/// The services with a running container among `containers` (the label query's answer for
/// the stack's project; one-off containers of `run` are not services that run).
fn running(containers: &[Container]) -> Vec<String> {
    let mut services: Vec<String> = containers
        .iter()
        .filter(|c| c.state == State::Running && !c.oneoff && !c.service.is_empty())
        .map(|c| c.service.clone())
        .collect();
    services.sort();
    services.dedup();
    services
}

/// Stop and remove what `run` started (its `depends_on` services): the whole project when
/// nothing ran before (its network too), else only the services that were not running. The
/// project's containers are asked again with the label query (`label`) that found `before`;
/// runs after Ctrl-C as well.
fn stop_started(
    engine: &Engine,
    docker: &Docker,
    stack: &Stack,
    label: &str,
    before: &[String],
) -> Result<()> {
    let now = engine.containers_with(docker, &stack.root, label, true)?;
    let ours: Vec<Container> = now
        .into_iter()
        .filter(|c| checkout::is_ours(c, &stack.root))
        .collect();
    let started: Vec<String> = running(&ours)
        .into_iter()
        .filter(|s| !before.contains(s))
        .collect();
    if started.is_empty() {
        return Ok(());
    }
    let stop = if before.is_empty() {
        compose::down(&stack.root, &stack.name, &[], None, false)
    } else {
        compose::remove_services(&stack.root, &stack.name, &started)
    };
    let out = docker.query_after_signal(&stop)?;
    anyhow::ensure!(
        out.code == 0,
        "`{}` failed with code {}: {}",
        docker.shown(&stop),
        out.code,
        docker.masker.text(out.stderr.lines().last().unwrap_or(""))
    );
    ui::info(&format!(
        "stopped {} again: `run` started it for the one-off container",
        started.join(", ")
    ));
    Ok(())
}

/// `[ENV] SERVICE` → (environment, service). One name is the service (the environment is
/// then the running stack's, else dev); with two, the first must be a known environment or
/// alias (a common slip is `timmy run SERVICE CMD` without `--`, which this names).
fn target(project: &Project, names: &[String]) -> Result<(Option<String>, String), UserError> {
    match names {
        [service] => Ok((None, service.clone())),
        [env, service] => Ok((Some(resolve_env(project, Some(env))?), service.clone())),
        _ => Err(UserError::new("timmy run takes [ENV] SERVICE")
            .hint("e.g. timmy run timmy -- node --version")),
    }
}

fn resolve_env(project: &Project, env: Option<&str>) -> Result<String, UserError> {
    let Some(name) = env else {
        return project.resolve_env("dev");
    };
    project.resolve_env(name).map_err(|e| {
        let available = e
            .hint
            .as_deref()
            .and_then(|h| h.strip_prefix("available environments: "))
            .unwrap_or("none")
            .to_string();
        UserError::new(format!(
            "`{name}` is not an environment (timmy run takes [ENV] SERVICE, then `--` and the command)"
        ))
        .hint(format!(
            "environments: {available}; for the dev stack name only the service, e.g. timmy run {name} -- CMD"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn project() -> Project {
        Project {
            root: PathBuf::from("/p"),
            envs: vec!["dev".into(), "prod".into(), "test".into()],
        }
    }

    #[test]
    fn env_defaults_to_dev_and_accepts_aliases() {
        assert_eq!(resolve_env(&project(), None).unwrap(), "dev");
        assert_eq!(resolve_env(&project(), Some("prod")).unwrap(), "prod");
        assert_eq!(resolve_env(&project(), Some("production")).unwrap(), "prod");
    }

    #[test]
    fn one_name_is_the_service_two_are_env_and_service() {
        let names = |v: &[&str]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(
            target(&project(), &names(&["redis"])).unwrap(),
            (None, "redis".to_string())
        );
        assert_eq!(
            target(&project(), &names(&["production", "timmy"])).unwrap(),
            (Some("prod".to_string()), "timmy".to_string())
        );
        assert!(target(&project(), &names(&["timmy", "node"])).is_err());
    }

    #[test]
    fn a_service_in_the_env_position_is_explained() {
        let err = resolve_env(&project(), Some("timmy")).unwrap_err();
        assert_eq!(
            err.message,
            "`timmy` is not an environment (timmy run takes [ENV] SERVICE, then `--` and the command)"
        );
        assert_eq!(
            err.hint.unwrap(),
            "environments: dev, prod, test; for the dev stack name only the service, e.g. timmy run timmy -- CMD"
        );
    }
}
