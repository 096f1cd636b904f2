//! `timmy` without a command: where the project is, its environments, whether `.env` passes
//! `timmy check` for the dev stack, what runs (every stack of this checkout, found by label,
//! its services asked of the engine: the socket, else `docker compose ps`), a stack deployed on
//! the swarm under one of its names (`Engine::stacks_among`), and the most useful next command. Deciding what to suggest is pure ([`next_steps`]); only [`run`] reads the
//! disk and asks docker.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::check::Level;
use crate::checkout::{self, Found};
use crate::cli::Global;
use crate::commands::Ctx;
use crate::docker::Docker;
use crate::engine::Engine;
use crate::exit::UserError;
use crate::preflight;
use crate::project::Project;
use crate::stack::{self, Stack};
use crate::status::{Health, Service, State};
use crate::swarm::converge;
use crate::ui;
use crate::validate;

/// What `timmy check` would say about `.env` for the dev stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvState {
    Valid,
    Warnings(usize),
    Errors {
        errors: usize,
        warnings: usize,
    },
    /// `.env` could not be read at all (a directory, not UTF-8…): the message says why.
    Unreadable(String),
    /// The project has no dev environment to check against.
    NoDevEnv,
}

/// What runs under the project's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Running {
    /// Docker is not usable (or the query failed): the message says why.
    Unknown(String),
    Nothing,
    /// The containers of the project, and the environment read from their labels.
    Stack {
        env: Option<String>,
        services: Vec<Service>,
    },
}

pub fn run(ctx: &Ctx) -> Result<()> {
    let (global, cwd, env) = (&ctx.global, ctx.cwd.as_path(), &ctx.env);
    let project = Project::locate(global.project_dir.as_deref(), cwd).map_err(|e| {
        if global.project_dir.is_some() {
            return e;
        }
        UserError::new(e.message).hint(
            "cd into a timmy project (the folder holding docker/docker-compose.yml, or one below \
             it), or pass --project-dir DIR; timmy --help lists the commands",
        )
    })?;
    let dev_name = stack::project_name(&project.root, "dev", global.project_name.as_deref())?;
    let env_state = env_state(&project, global);
    let (stacks, docker) = running(global, env, &ctx.engine, &project);
    let text = match stacks.as_slice() {
        [] => render(&project, &dev_name, &env_state, &Running::Nothing),
        [(name, one)] => render(&project, name, &env_state, one),
        several => render_several(&project, &env_state, several),
    };
    let deployed = docker.map_or_else(Vec::new, |docker| {
        match ctx.deployed_rows(&docker, &project) {
            Ok(found) => found.iter().map(deployed_line).collect(),
            Err(e) => vec![format!("unknown: {e:#}")],
        }
    });
    let text = with_deployed(&text, &deployed);
    ui::out(text.as_bytes())?;
    Ok(())
}

fn env_state(project: &Project, global: &Global) -> EnvState {
    if !project.envs.iter().any(|e| e == "dev") {
        return EnvState::NoDevEnv;
    }
    let found = Stack::new(project, "dev", global.project_name.as_deref())
        .and_then(|stack| validate::findings(&stack));
    match found {
        Err(e) => EnvState::Unreadable(e.message),
        Ok(found) => {
            let errors = found.iter().filter(|f| f.level == Level::Error).count();
            let warnings = found.len() - errors;
            match (errors, warnings) {
                (0, 0) => EnvState::Valid,
                (0, w) => EnvState::Warnings(w),
                (errors, warnings) => EnvState::Errors { errors, warnings },
            }
        }
    }
}

/// Every stack of this checkout with what runs in it, running ones first; one `Unknown` when
/// Docker cannot say, none when nothing of this checkout is there. The docker to ask further,
/// when it answered.
fn running(
    global: &Global,
    env: &preflight::Env,
    engine: &Engine,
    project: &Project,
) -> (Vec<(String, Running)>, Option<Docker>) {
    let root = &project.root;
    let program = match preflight::ready(env) {
        Ok(program) => program,
        Err(e) => return (vec![(String::new(), Running::Unknown(e.message))], None),
    };
    let docker = Docker::new(program, global);
    let mut found: Vec<Found> =
        match checkout::stacks_here(engine, &docker, project, global.project_name.as_deref()) {
            Ok(found) => found,
            Err(e) => {
                let unknown = Running::Unknown(format!("{e:#}"));
                return (vec![(String::new(), unknown)], None);
            }
        };
    found.sort_by_key(|f| !f.running);
    let stacks = found
        .into_iter()
        .map(|f| {
            let running = stack_state(engine, &docker, root, &f.name, f.env);
            (f.name, running)
        })
        .collect();
    (stacks, Some(docker))
}

/// A deployed stack in one line: its services with their running and wanted replicas, and the
/// command that shows more.
fn deployed_line((env, name, rows): &(String, String, Vec<converge::Row>)) -> String {
    let list: Vec<String> = rows
        .iter()
        .map(|r| {
            let mut word = format!("{} {}/{}", r.service, r.running, r.desired);
            for extra in [&r.health, &r.update] {
                if !extra.is_empty() {
                    let _ = write!(word, " {extra}");
                }
            }
            word
        })
        .collect();
    let which = if env.is_empty() {
        "stack".to_string()
    } else {
        format!("{env} stack")
    };
    let more = if env.is_empty() {
        format!("docker stack ps {name}")
    } else {
        format!("timmy ps {env}")
    };
    format!(
        "{which} `{name}` on the swarm: {} ({more} shows more)",
        list.join(", ")
    )
}

/// The status screen with a `deployed` line for each stack deployed on the swarm, after the
/// `running` lines (the text as it is without one).
fn with_deployed(text: &str, deployed: &[String]) -> String {
    if deployed.is_empty() {
        return text.to_string();
    }
    let mut out = String::new();
    let mut added = false;
    for line in text.lines() {
        if !added && (line.starts_with("next ") || line.is_empty()) {
            push_deployed(&mut out, deployed);
            added = true;
        }
        let _ = writeln!(out, "{line}");
    }
    if !added {
        push_deployed(&mut out, deployed);
    }
    out
}

fn push_deployed(out: &mut String, deployed: &[String]) {
    for (i, line) in deployed.iter().enumerate() {
        let label = if i == 0 { "deployed" } else { "" };
        let _ = writeln!(out, "{label:<9}{line}");
    }
}

/// What runs under `name` (asked through [`Engine::services_of`]); `env`: the environment the
/// label query found.
fn stack_state(
    engine: &Engine,
    docker: &Docker,
    root: &Path,
    name: &str,
    env: Option<String>,
) -> Running {
    match engine.services_of(docker, root, name) {
        Err(e) => Running::Unknown(format!("{e:#}")),
        Ok(services) if services.is_empty() => Running::Nothing,
        Ok(services) => Running::Stack { env, services },
    }
}

/// The most useful commands to run next, each with why; at most three.
pub fn next_steps(env_state: &EnvState, running: &Running) -> Vec<(String, String)> {
    let mut steps: Vec<(String, String)> = Vec::new();
    let mut push = |cmd: &str, why: &str| steps.push((cmd.to_string(), why.to_string()));
    let env_broken = matches!(env_state, EnvState::Errors { .. } | EnvState::Unreadable(_));
    match running {
        Running::Unknown(_) => {
            push("timmy doctor", "what is wrong with Docker, and the fix");
            if env_broken {
                push("timmy check", "the problems in .env, line by line");
            }
        }
        Running::Nothing => {
            if env_broken {
                push("timmy check", "the problems in .env, line by line");
            } else {
                push("timmy up", "start the dev stack");
            }
        }
        Running::Stack { services, .. } => {
            let failed: Vec<&Service> = services.iter().filter(|s| s.is_failed()).collect();
            let any_running = services.iter().any(|s| s.state == State::Running);
            if let Some(first) = failed.first() {
                push(&format!("timmy logs {}", first.service), "why it failed");
            }
            if any_running {
                if failed.is_empty() {
                    push("timmy logs -f", "follow the logs");
                }
                push("timmy down", "stop the stack");
            } else {
                push("timmy up", "start it again");
                push("timmy down", "remove its stopped containers");
            }
            if env_broken {
                push("timmy check", "the problems in .env, line by line");
            }
        }
    }
    steps.truncate(3);
    steps
}

fn env_line(state: &EnvState) -> String {
    match state {
        EnvState::Valid => "valid for the dev stack".into(),
        EnvState::Warnings(w) => format!(
            "usable for the dev stack, {}",
            validate::plural(*w, "warning")
        ),
        EnvState::Errors { errors, warnings } => {
            let mut text = validate::plural(*errors, "error");
            if *warnings > 0 {
                text.push_str(", ");
                text.push_str(&validate::plural(*warnings, "warning"));
            }
            format!("{text} for the dev stack: nothing can start")
        }
        EnvState::Unreadable(message) => message.clone(),
        EnvState::NoDevEnv => "not checked (no docker/docker-compose.dev.yml)".into(),
    }
}

fn service_word(s: &Service) -> String {
    let word = if s.state == State::Running && s.health != Health::None {
        ui::health_word(&s.health)
    } else {
        ui::state_word(&s.state, s.exit_code)
    };
    format!("{} {word}", s.service)
}

fn running_line(name: &str, running: &Running) -> String {
    match running {
        Running::Unknown(why) => format!("unknown: {why}"),
        Running::Nothing => format!("nothing of `{name}`"),
        Running::Stack { env, services } => {
            let which = env
                .as_deref()
                .map_or_else(|| "stack".to_string(), |e| format!("{e} stack"));
            let up = services.iter().any(|s| s.state == State::Running);
            let list: Vec<String> = services.iter().map(service_word).collect();
            format!(
                "{which} `{name}` {}: {}",
                if up { "is up" } else { "is stopped" },
                list.join(", ")
            )
        }
    }
}

/// The status screen when several stacks of this checkout are there: one `running` line each;
/// the next commands are the first stack's, with its environment named.
pub fn render_several(
    project: &Project,
    env_state: &EnvState,
    stacks: &[(String, Running)],
) -> String {
    let (name, first) = &stacks[0];
    let text = render(project, name, env_state, first);
    let env = match first {
        Running::Stack { env: Some(env), .. } => Some(env.as_str()),
        _ => None,
    };
    let mut out = String::new();
    let mut steps = false;
    for line in text.lines() {
        if steps && let Some(env) = env {
            let _ = writeln!(out, "{}", with_env(line, env));
            continue;
        }
        let _ = writeln!(out, "{line}");
        if line.starts_with("running  ") {
            for (name, running) in &stacks[1..] {
                let _ = writeln!(out, "{:<9}{}", "", running_line(name, running));
            }
            steps = true;
        }
    }
    out
}

/// `timmy logs -f` → `timmy logs dev -f` inside a status line (only the `next` lines hold
/// `timmy ` commands; every one grows by the same width, so the explanations stay aligned).
fn with_env(line: &str, env: &str) -> String {
    let Some(at) = line.find("timmy ") else {
        return line.to_string();
    };
    let rest = &line[at + "timmy ".len()..];
    let (verb, after) = rest.split_at(rest.find(' ').unwrap_or(rest.len()));
    format!("{}timmy {verb} {env}{after}", &line[..at])
}

/// The whole status screen.
pub fn render(project: &Project, name: &str, env_state: &EnvState, running: &Running) -> String {
    let envs = if project.envs.is_empty() {
        "none".to_string()
    } else {
        project.envs.join(", ")
    };
    let mut lines = vec![
        ("project", project.root.display().to_string()),
        ("envs", envs),
        (".env", env_line(env_state)),
        ("running", running_line(name, running)),
    ];
    let steps = next_steps(env_state, running);
    let width = steps.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    for (i, (cmd, why)) in steps.iter().enumerate() {
        let label = if i == 0 { "next" } else { "" };
        lines.push((label, format!("{cmd:<width$}  {}", ui::dim(why))));
    }
    let mut out = String::new();
    for (label, text) in lines {
        let _ = writeln!(out, "{label:<9}{text}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(service: &str, state: &str, health: &str, exit_code: i64) -> Service {
        Service {
            service: service.into(),
            name: format!("p-{service}-1"),
            state: State::parse(state),
            health: Health::parse(health),
            exit_code,
            ports: Vec::new(),
            image: String::new(),
            status: String::new(),
        }
    }

    fn cmds(steps: &[(String, String)]) -> Vec<&str> {
        steps.iter().map(|(c, _)| c.as_str()).collect()
    }

    #[test]
    fn next_steps_follow_the_state() {
        let up = Running::Stack {
            env: Some("dev".into()),
            services: vec![svc("redis", "running", "healthy", 0)],
        };
        assert_eq!(
            cmds(&next_steps(&EnvState::Valid, &Running::Nothing)),
            ["timmy up"]
        );
        let bad = EnvState::Errors {
            errors: 1,
            warnings: 0,
        };
        assert_eq!(cmds(&next_steps(&bad, &Running::Nothing)), ["timmy check"]);
        assert_eq!(
            cmds(&next_steps(&EnvState::Valid, &up)),
            ["timmy logs -f", "timmy down"]
        );
        assert_eq!(
            cmds(&next_steps(&bad, &Running::Unknown("x".into()))),
            ["timmy doctor", "timmy check"]
        );
        let failing = Running::Stack {
            env: None,
            services: vec![
                svc("redis", "running", "healthy", 0),
                svc("timmy", "exited", "", 1),
            ],
        };
        assert_eq!(
            cmds(&next_steps(&EnvState::Valid, &failing)),
            ["timmy logs timmy", "timmy down"]
        );
        let stopped = Running::Stack {
            env: None,
            services: vec![svc("timmy", "exited", "", 0)],
        };
        assert_eq!(
            cmds(&next_steps(&EnvState::Warnings(2), &stopped)),
            ["timmy up", "timmy down"]
        );
    }

    #[test]
    fn deployed_stacks_go_after_the_running_lines() {
        let row = |service: &str, running, desired, health: &str| converge::Row {
            service: service.into(),
            name: format!("p_{service}"),
            running,
            desired,
            health: health.into(),
            update: String::new(),
            image: String::new(),
            ports: Vec::new(),
        };
        let prod = (
            "prod".to_string(),
            "p".to_string(),
            vec![row("redis", 1, 1, "healthy"), row("timmy", 0, 2, "")],
        );
        let unnamed = (String::new(), "q".to_string(), vec![row("web", 1, 1, "")]);
        let lines = [deployed_line(&prod), deployed_line(&unnamed)];
        let text = "running  nothing of `p-dev`\nnext     timmy up  start the dev stack\n";
        assert_eq!(
            with_deployed(text, &lines),
            "running  nothing of `p-dev`\n\
             deployed prod stack `p` on the swarm: redis 1/1 healthy, timmy 0/2 (timmy ps prod shows more)\n\
             \x20        stack `q` on the swarm: web 1/1 (docker stack ps q shows more)\n\
             next     timmy up  start the dev stack\n"
        );
        assert_eq!(with_deployed(text, &[]), text);
    }

    #[test]
    fn render_aligns_labels_and_commands() {
        console::set_colors_enabled(false);
        let project = Project {
            root: "/src/p".into(),
            envs: vec!["dev".into(), "prod".into()],
        };
        let running = Running::Stack {
            env: Some("dev".into()),
            services: vec![
                svc("redis", "running", "healthy", 0),
                svc("timmy", "running", "", 0),
            ],
        };
        assert_eq!(
            render(&project, "p", &EnvState::Valid, &running),
            "project  /src/p\n\
             envs     dev, prod\n\
             .env     valid for the dev stack\n\
             running  dev stack `p` is up: redis healthy, timmy running\n\
             next     timmy logs -f  follow the logs\n\
             \x20        timmy down     stop the stack\n"
        );
    }
}
