//! The commands. Every command takes the one context value [`Ctx`] (global flags, the current
//! directory, the environment preflight reads, the [`Engine`] that asks what runs) and reads
//! as plan → run → verdict: resolve and validate everything that needs no docker, then
//! preflight, then the one [`Docker`] runner, then report. This file holds the dispatcher and
//! what several commands share; each command or family has its own file.

mod build_test;
mod deploy;
mod deployed;
mod down;
mod inspect;
pub mod run;
mod stack_ops;
mod swarm_run;
mod up;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::checkout::{self, Found, Split};
use crate::cli::{self, Cli, Command};
use crate::compose;
use crate::docker::{self, Docker};
use crate::engine::Engine;
use crate::exit::{Exit, UserError};
use crate::lock;
use crate::preflight;
use crate::project::Project;
use crate::secrets;
use crate::stack::{self, Stack};
use crate::status::{Container, Service, State};
use crate::ui;

/// What every command runs with: the global flags, the directory timmy was started in, and
/// the environment preflight reads (PATH, `DOCKER_HOST`, …), read once.
pub struct Ctx {
    pub global: cli::Global,
    pub cwd: PathBuf,
    pub env: preflight::Env,
    /// How the engine is asked what runs (socket or CLI), chosen once from `env`.
    pub engine: Engine,
    /// The local engine's API version, asked once ([`Ctx::stack`] needs it for every stack).
    api: std::sync::OnceLock<Option<crate::engine_api::ApiVersion>>,
}

impl Ctx {
    pub fn new(global: cli::Global) -> Result<Self> {
        let cwd = crate::project::current_dir().context("cannot read the current directory")?;
        let env = preflight::Env::from_process(&cwd);
        let engine = Engine::new(&env);
        Ok(Self {
            global,
            cwd,
            env,
            engine,
            api: std::sync::OnceLock::new(),
        })
    }

    pub fn run(&self, command: Command) -> Result<()> {
        match command {
            Command::Up(a) => self.up(&a),
            Command::Down(a) => self.down(&a),
            Command::Ps(a) => self.ps(&a),
            Command::Logs(a) => self.logs(&a),
            Command::Shell(a) => self.shell(&a),
            Command::Exec(a) => self.exec(&a),
            Command::Run(a) => run::run(self, &a),
            Command::Build(a) => self.build(&a),
            Command::Restart(a) => self.restart(&a),
            Command::Test(a) => self.test(&a),
            Command::Check(a) => self.check(&a),
            Command::Doctor(a) => crate::doctor::run(self, &a),
            Command::Env(a) => self.env(&a),
            Command::Config(a) => self.config(&a),
            Command::Deploy(a) => self.deploy(&a),
            Command::Completions(a) => {
                let mut script = Vec::new();
                clap_complete::generate(a.shell, &mut Cli::command(), "timmy", &mut script);
                ui::out(script)
            }
            Command::Man(a) => crate::man::run(&a),
        }
    }

    /// `timmy` without a command: a short status and the most useful next command.
    pub fn overview(&self) -> Result<()> {
        crate::overview::run(self)
    }

    pub(super) fn project(&self) -> Result<Project, UserError> {
        Project::locate(self.global.project_dir.as_deref(), &self.cwd)
    }

    /// The project, with `-p` checked before anything asks Docker which stack runs.
    pub(super) fn named_project(&self) -> Result<Project, UserError> {
        let project = self.project()?;
        self.name(&project, stack::PROD)?;
        Ok(project)
    }

    pub(super) fn stack(&self, project: &Project, env: &str) -> Result<Stack, UserError> {
        let env = project.resolve_env(env)?;
        let stack = Stack::new(project, &env, self.global.project_name.as_deref())?;
        let api = *self.api.get_or_init(|| self.engine.api_version());
        Ok(with_api(stack, api, &self.global))
    }

    pub(super) fn name(&self, project: &Project, env: &str) -> Result<String, UserError> {
        stack::project_name(&project.root, env, self.global.project_name.as_deref())
    }

    /// Every environment of the project with its project name.
    pub(super) fn names(&self, project: &Project) -> Result<Vec<(String, String)>, UserError> {
        project
            .envs
            .iter()
            .map(|e| Ok((e.clone(), self.name(project, e)?)))
            .collect()
    }

    /// The stacks of this checkout: one label query on its working dir.
    pub(super) fn stacks_here(&self, docker: &Docker, project: &Project) -> Result<Vec<Found>> {
        checkout::stacks_here(
            &self.engine,
            docker,
            project,
            self.global.project_name.as_deref(),
        )
    }

    /// The stack a command acts on: the environment given (already resolved), else the stack
    /// of this checkout that runs, else dev's name. The environment, when known, and the name.
    pub(super) fn target(
        &self,
        docker: &Docker,
        project: &Project,
        env: Option<String>,
        command: &str,
    ) -> Result<(Option<String>, String)> {
        if let Some(env) = env {
            let name = self.name(project, &env)?;
            return Ok((Some(env), name));
        }
        match checkout::pick(&self.stacks_here(docker, project)?, command)? {
            Some(found) => Ok((found.env, found.name)),
            None => Ok((None, self.name(project, "dev")?)),
        }
    }

    /// The containers under `name`, told apart by checkout.
    pub(super) fn split(&self, docker: &Docker, project: &Project, name: &str) -> Result<Split> {
        let containers = self.containers(docker, &project.root, name, false)?;
        Ok(Split::new(containers, &project.root))
    }

    /// What another checkout's name can be replaced by, for hints.
    pub(super) fn suggestion(&self, project: &Project) -> Result<String, UserError> {
        let base = self.name(project, stack::PROD)?;
        Ok(checkout::suggest_name(&project.root, &base))
    }

    /// For `up`, `build`, `test`: refuse a name another checkout's containers carry.
    pub(super) fn refuse_other_checkout(
        &self,
        docker: &Docker,
        project: &Project,
        name: &str,
        command: &str,
    ) -> Result<Split> {
        let split = self.split(docker, project, name)?;
        if let Some(other) = split.other() {
            return Err(checkout::in_use(name, other, &self.suggestion(project)?, command).into());
        }
        Ok(split)
    }

    /// For commands on a running stack: this checkout's containers under `name`; an error when
    /// they are only another checkout's, or when both share the name.
    pub(super) fn ours_only(
        &self,
        docker: &Docker,
        project: &Project,
        name: &str,
    ) -> Result<Split> {
        let split = self.split(docker, project, name)?;
        if let Some(other) = split.other() {
            if split.ours.is_empty() {
                return Err(checkout::only_theirs(name, other, &self.suggestion(project)?).into());
            }
            return Err(checkout::mixed(name, other).into());
        }
        Ok(split)
    }

    /// Docker CLI, Compose plugin and daemon, checked without spawning anything.
    pub(super) fn docker(&self) -> Result<Docker> {
        let program = preflight::ready(&self.env)?;
        Ok(self.runner(program))
    }

    /// Docker CLI and Compose plugin only: for `config`, which needs no daemon.
    pub(super) fn docker_offline(&self) -> Result<Docker> {
        let program = preflight::docker_program(&self.env)?;
        preflight::compose_plugin(&self.env)?;
        Ok(self.runner(program))
    }

    /// The lock of project `name`, except under `--dry-run`, which changes nothing.
    pub(super) fn lock(
        &self,
        root: &Path,
        name: &str,
        what: &str,
    ) -> Result<Option<lock::ProjectLock>> {
        if self.global.dry_run {
            return Ok(None);
        }
        Ok(Some(lock::acquire(root, name, what)?))
    }

    /// The runner, masking with the project's `.env` when there is one.
    pub(super) fn runner(&self, program: PathBuf) -> Docker {
        let masker = self
            .project()
            .map(|p| secrets::masker(&p.root))
            .unwrap_or_default();
        Docker::new(program, &self.global).masking(masker)
    }

    /// Every container with the project label (see [`Engine::containers_with`]).
    pub(super) fn containers(
        &self,
        docker: &Docker,
        root: &Path,
        name: &str,
        after_signal: bool,
    ) -> Result<Vec<Container>> {
        let label = checkout::project_label(name);
        self.engine
            .containers_with(docker, root, &label, after_signal)
    }

    /// The project's services for `ps`, the table after `up` and the explanation of a failed
    /// `up` or `restart` (see [`Engine::services_of`]).
    pub(super) fn service_list(
        &self,
        docker: &Docker,
        root: &Path,
        name: &str,
    ) -> Result<Vec<Service>> {
        self.engine.services_of(docker, root, name)
    }
}

/// The stack with the engine-specific file its engine takes ([`Stack::for_engine`]), the
/// engine's API version asked once of its socket; `-v` says what was decided when the engine
/// answered (an unknown version leaves the files as they are).
pub fn for_engine(stack: Stack, engine: &Engine, global: &cli::Global) -> Stack {
    with_api(stack, engine.api_version(), global)
}

fn with_api(
    stack: Stack,
    api: Option<crate::engine_api::ApiVersion>,
    global: &cli::Global,
) -> Stack {
    let stack = stack.for_engine(api);
    if let Some(v) = api.filter(|_| global.verbose) {
        let decision = if stack.files.last() == Some(&stack.root.join(stack::ENGINE25_FILE)) {
            format!("API {v}: adding {}", stack::ENGINE25_FILE)
        } else {
            format!("API {v}: files as they are")
        };
        ui::command_line("engine:", &decision);
    }
    stack
}

/// `--ansi never` when stdout is not a terminal or colours are off (see [`ui::plain_output`]);
/// else `--ansi always`, since [`Docker::run_relayed`] masks docker's stdout through a pipe.
pub(super) fn plain(inv: compose::Invocation) -> compose::Invocation {
    if ui::plain_output() {
        compose::ansi_never(inv)
    } else {
        compose::ansi_always(inv)
    }
}

/// Something of `name` runs in this checkout (a one-off `run` container does not count), per
/// the label query the command already made; else an error (exit 1) with the command that
/// starts the stack: `logs -f` would return at once and `restart` do nothing.
pub(super) fn require_running(split: &Split, name: &str, why: &str) -> Result<(), UserError> {
    if split
        .ours
        .iter()
        .any(|c| c.state == State::Running && !c.oneoff)
    {
        return Ok(());
    }
    Err(
        UserError::new(format!("nothing of project `{name}` is running: {why}"))
            .hint("start the stack with: timmy up"),
    )
}

pub(super) fn is_interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// Used by `lib::main` to keep the signal exit code when a command returned Ok after one.
pub fn pending_signal() -> Option<Exit> {
    docker::received_signal().map(Exit::Signal)
}
