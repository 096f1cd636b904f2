//! The commands: each turns parsed arguments into a plan (a [`Stack`], [`Invocation`]s), runs
//! it through the one [`Docker`] runner and reports. Order inside a command is always: resolve
//! and validate everything that needs no docker, then preflight, then docker.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::checkout::{self, Found, Split};
use crate::cli::{self, Cli, Command};
use crate::compose;
use crate::compose_dialect;
use crate::docker::{self, Docker};
use crate::engine_api::{self, EngineApi};
use crate::exit::{Exit, UserError};
use crate::lock;
use crate::preflight;
use crate::project::Project;
use crate::secrets;
use crate::stack::{self, Stack};
use crate::status::{self, Container, Service};
use crate::ui;
use crate::validate;

/// Lines of each failing service's log shown when `up` fails.
const FAILURE_LOG_LINES: u32 = 20;
/// More `ps` looks, 250 ms apart, when `up` failed but no service looks failed yet.
const FAILURE_LOOKS: usize = 4;
/// How long `restart` waits for health (`up`'s default `--timeout`), and how often it looks.
const RESTART_WAIT: std::time::Duration = std::time::Duration::from_secs(120);
const RESTART_POLL: std::time::Duration = std::time::Duration::from_millis(500);

pub struct App {
    global: cli::Global,
    cwd: PathBuf,
    env: preflight::Env,
}

impl App {
    pub fn new(global: cli::Global) -> Result<Self> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let env = preflight::Env::from_process(&cwd);
        Ok(Self { global, cwd, env })
    }

    pub fn run(&self, command: Command) -> Result<()> {
        match command {
            Command::Up(a) => self.up(&a),
            Command::Down(a) => self.down(&a),
            Command::Ps(a) => self.ps(&a),
            Command::Logs(a) => self.logs(&a),
            Command::Shell(a) => self.shell(&a),
            Command::Exec(a) => self.exec(&a),
            Command::Run(a) => crate::oneoff::run(&self.global, &self.cwd, &self.env, &a),
            Command::Build(a) => self.build(&a),
            Command::Restart(a) => self.restart(&a),
            Command::Test(a) => self.test(&a),
            Command::Check(a) => self.check(&a),
            Command::Doctor(a) => crate::doctor::run(&self.global, &self.cwd, &self.env, &a),
            Command::Env(a) => self.env(&a),
            Command::Config(a) => self.config(&a),
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
        crate::overview::run(&self.global, &self.cwd, &self.env)
    }

    fn project(&self) -> Result<Project, UserError> {
        Project::locate(self.global.project_dir.as_deref(), &self.cwd)
    }

    /// The project, with `-p` checked before anything asks Docker which stack runs.
    fn named_project(&self) -> Result<Project, UserError> {
        let project = self.project()?;
        self.name(&project, stack::PROD)?;
        Ok(project)
    }

    fn stack(&self, project: &Project, env: &str) -> Result<Stack, UserError> {
        let env = project.resolve_env(env)?;
        let stack = Stack::new(project, &env, self.global.project_name.as_deref())?;
        Ok(for_engine(stack, &self.env, &self.global))
    }

    fn name(&self, project: &Project, env: &str) -> Result<String, UserError> {
        stack::project_name(&project.root, env, self.global.project_name.as_deref())
    }

    /// Every environment of the project with its project name.
    fn names(&self, project: &Project) -> Result<Vec<(String, String)>, UserError> {
        project
            .envs
            .iter()
            .map(|e| Ok((e.clone(), self.name(project, e)?)))
            .collect()
    }

    /// The stacks of this checkout: one label query on its working dir.
    fn stacks_here(&self, docker: &Docker, project: &Project) -> Result<Vec<Found>> {
        checkout::stacks_here(
            &self.env,
            docker,
            project,
            self.global.project_name.as_deref(),
        )
    }

    /// The stack a command acts on: the environment given (already resolved), else the stack
    /// of this checkout that runs, else dev's name. The environment, when known, and the name.
    fn target(
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
    fn split(&self, docker: &Docker, project: &Project, name: &str) -> Result<Split> {
        let containers = self.containers(docker, &project.root, name, false)?;
        Ok(Split::new(containers, &project.root))
    }

    /// What another checkout's name can be replaced by, for hints.
    fn suggestion(&self, project: &Project) -> Result<String, UserError> {
        let base = self.name(project, stack::PROD)?;
        Ok(checkout::suggest_name(&project.root, &base))
    }

    /// For `up`, `build`, `test`: refuse a name another checkout's containers carry.
    fn refuse_other_checkout(
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
    fn ours_only(&self, docker: &Docker, project: &Project, name: &str) -> Result<Split> {
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
    fn docker(&self) -> Result<Docker> {
        let program = preflight::ready(&self.env)?;
        Ok(self.runner(program))
    }

    /// Docker CLI and Compose plugin only: for `config`, which needs no daemon.
    fn docker_offline(&self) -> Result<Docker> {
        let program = preflight::docker_program(&self.env)?;
        preflight::compose_plugin(&self.env)?;
        Ok(self.runner(program))
    }

    /// The lock of project `name`, except under `--dry-run`, which changes nothing.
    fn lock(&self, root: &Path, name: &str, what: &str) -> Result<Option<lock::ProjectLock>> {
        if self.global.dry_run {
            return Ok(None);
        }
        Ok(Some(lock::acquire(root, name, what)?))
    }

    /// The runner, masking with the project's `.env` when there is one.
    fn runner(&self, program: PathBuf) -> Docker {
        let masker = self.project().map(|p| masker(&p.root)).unwrap_or_default();
        Docker::new(program, &self.global).masking(masker)
    }

    fn check(&self, a: &cli::CheckArgs) -> Result<()> {
        let project = self.project()?;
        let stack = self.stack(&project, a.env.as_deref().unwrap_or("dev"))?;
        let mut found = validate::findings(&stack)?;
        // Compared with the other environments' own findings (Compose is asked for dev only).
        let own = found.clone();
        // Compose's own verdict where Docker and Compose are installed (no daemon needed),
        // unless timmy's own findings already refuse the configuration; so also what the
        // installed Compose's version reads differently from timmy.
        let refused = (a.strict && !found.is_empty())
            || found.iter().any(|f| f.level == crate::check::Level::Error);
        if !refused && let Ok(docker) = self.docker_offline() {
            let mut refused = Self::compose_dialect(&docker, &stack);
            refused.append(&mut validate::compose_findings(&docker, &stack)?);
            refused.append(&mut found);
            found = refused;
        }
        validate::report(&found, a.strict, None)?;
        // Other environments judge differently only through `.env.example`'s `#:` directives
        // (each one costs a whole check: a 100,000-line `.env` takes seconds).
        let declared = std::fs::read_to_string(project.root.join(".env.example"))
            .is_ok_and(|t| !crate::requirements::Requirements::parse(&t).0.is_empty());
        let others = if a.env.is_none() && declared {
            self.other_verdicts(&project, &own)
        } else {
            Vec::new()
        };
        let files = stack.relative_files().join(" + ");
        if found.is_empty() {
            ui::info(&format!(
                ".env is valid for the {} stack ({files})",
                stack.env
            ));
        } else {
            ui::info(&format!(
                ".env is usable for the {} stack ({files}) with {}",
                stack.env,
                validate::plural(found.len(), "warning")
            ));
        }
        for line in others {
            ui::info(&line);
        }
        Ok(())
    }

    /// What the installed Compose, unlike timmy, refuses in `.env` ([`compose_dialect`]); its
    /// version is asked only when `.env` may hold a dashed key, and nothing is said without it.
    fn compose_dialect(docker: &Docker, stack: &Stack) -> Vec<crate::check::Finding> {
        let Some(text) = stack
            .env_file
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .filter(|t| compose_dialect::may_have_dashed_key(t))
        else {
            return Vec::new();
        };
        match docker.query(&crate::compose::compose_version(&stack.root)) {
            Ok(out) if out.code == 0 => compose_dialect::findings(&text, &out.stdout),
            _ => Vec::new(),
        }
    }

    /// One line for each environment other than dev whose findings differ from dev's (keys
    /// `.env.example` requires there but not in dev), so a bare `timmy check` shows every
    /// verdict that differs.
    fn other_verdicts(&self, project: &Project, dev: &[crate::check::Finding]) -> Vec<String> {
        let mut lines = Vec::new();
        for env in project.envs.iter().filter(|e| *e != "dev") {
            let found = match self.stack(project, env) {
                Ok(stack) => validate::findings(&stack),
                Err(e) => Err(e),
            };
            let verdict = match found {
                Ok(found) if same_findings(&found, dev) => continue,
                Ok(found) => validate::verdict(&found),
                Err(e) => e.message,
            };
            lines.push(format!("{env}: {verdict} (timmy check {env} lists them)"));
        }
        lines
    }

    fn up(&self, a: &cli::UpArgs) -> Result<()> {
        let project = self.project()?;
        let stack = self.stack(&project, &a.env)?;
        validate::gate(&stack, a.strict)?;
        let docker = self.docker()?;
        validate::compose_gate(&docker, &stack)?;
        let command = format!("up {}", stack.env);
        let split = self.refuse_other_checkout(&docker, &project, &stack.name, &command)?;
        let base = self.name(&project, stack::PROD)?;
        let under_base = if stack.name == base {
            split.ours
        } else {
            self.split(&docker, &project, &base)?.ours
        };
        if checkout::is_legacy_dev(&under_base) {
            return Err(checkout::legacy_dev(&base).into());
        }
        let lock = self.lock(&project.root, &stack.name, "up")?;
        if !docker.dry_run {
            crate::ports::preflight(&docker, &stack)?;
        }
        let code = match docker.run_masked(&compose::up(&stack, a.timeout)) {
            Ok(code) => code,
            Err(e) => return Err(Self::after_interrupt(&docker, &stack.root, &stack.name, e)),
        };
        if docker.dry_run {
            return Ok(());
        }
        if code != 0 {
            Self::explain_failure(&docker, &stack.root, &stack.name)?;
            return Err(Exit::Docker(code).into());
        }
        let services = self.service_list(&docker, &stack.root, &stack.name)?;
        ui::info(&format!(
            "{} stack `{}` is up ({})",
            stack.env,
            stack.name,
            stack.relative_files().join(" + ")
        ));
        ui::out(service_table(&services))?;
        let follow = stack.env == "dev" && !a.detach;
        // The lock covers changing the stack, not following its logs: `timmy down` in another
        // terminal must be able to stop what this one follows.
        drop(lock);
        if follow {
            ui::info(
                "following the logs; Ctrl-C stops following, the stack keeps running (timmy down stops it)",
            );
            let logs = compose::logs(&stack.root, &stack.name, &[], true, Some(10), None);
            if let Err(e) = docker.run_relayed(&plain(logs)) {
                return Err(Self::after_interrupt(&docker, &stack.root, &stack.name, e));
            }
        }
        Ok(())
    }

    /// After Ctrl-C/SIGTERM: say what is still running, then keep the signal's exit code.
    fn after_interrupt(
        docker: &Docker,
        root: &Path,
        name: &str,
        e: anyhow::Error,
    ) -> anyhow::Error {
        if let Some(Exit::Signal(_)) = e.downcast_ref::<Exit>()
            && let Ok(out) = docker.query_after_signal(&compose::ps(root, name))
        {
            let running: Vec<Service> = status::parse_ps(&out.stdout)
                .unwrap_or_default()
                .into_iter()
                .filter(|s| s.state == "running")
                .collect();
            if running.is_empty() {
                ui::info(&format!("interrupted; nothing of `{name}` is running"));
            } else {
                let names: Vec<&str> = running.iter().map(|s| s.service.as_str()).collect();
                ui::info(&format!(
                    "interrupted; still running in `{name}`: {} (timmy down stops them)",
                    names.join(", ")
                ));
            }
        }
        e
    }

    fn services(docker: &Docker, root: &Path, name: &str) -> Result<Vec<Service>> {
        let out = docker.query_ok(&compose::ps(root, name))?;
        status::parse_ps(&out)
    }

    /// The project's services for `ps` and the table after `up`: asked of the engine's socket
    /// (one request, no process; what `docker compose ps --all` lists), else through compose
    /// (no local socket, `TIMMY_DOCKER`, or the request failed).
    fn service_list(&self, docker: &Docker, root: &Path, name: &str) -> Result<Vec<Service>> {
        let api = (self.env.timmy_docker.is_none())
            .then(|| preflight::daemon_socket(&self.env))
            .flatten()
            .map(|socket| EngineApi::new(&socket));
        if let Some(api) = api {
            if docker.verbose {
                ui::command_line(
                    "running:",
                    &engine_api::describe_query(&checkout::project_label(name)),
                );
            }
            match api.services_of(name) {
                Ok(services) => return Ok(services),
                Err(e) => ui::warning(&format!("{e}; asking `docker compose ps` instead")),
            }
        }
        Self::services(docker, root, name)
    }

    /// Name each exited or unhealthy service, with its last log lines and health-check output.
    fn explain_failure(docker: &Docker, root: &Path, name: &str) -> Result<()> {
        // A crash-looping container can be caught just restarted, `running` with its health
        // `starting` (seen with Engine 28.5 + Compose 2.40): look again for about a second.
        let mut services = Self::services(docker, root, name)?;
        for _ in 0..FAILURE_LOOKS {
            if services.iter().any(Service::is_failed) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
            services = Self::services(docker, root, name)?;
        }
        let failed: Vec<&Service> = services.iter().filter(|s| s.is_failed()).collect();
        if failed.is_empty() {
            ui::error(&format!(
                "`{name}` did not come up (see docker's message above)"
            ));
            return Ok(());
        }
        for s in &failed {
            let what = s.failure();
            ui::error(&format!("service `{}` {what}", s.service));
            let logs = compose::logs(
                root,
                name,
                std::slice::from_ref(&s.service),
                false,
                Some(FAILURE_LOG_LINES),
                None,
            );
            let out = docker.query(&compose::ansi_never(logs))?;
            eprintln!(
                "--- last {FAILURE_LOG_LINES} log lines of {} ---",
                s.service
            );
            for text in [&out.stdout, &out.stderr] {
                let plain = ui::plain_text(text.as_bytes());
                eprint!("{}", docker.masker.text(&String::from_utf8_lossy(&plain)));
            }
            if let Some(health) = Self::health_output(docker, root, &s.name) {
                eprintln!("--- last health check of {} ---", s.service);
                eprintln!("{}", docker.masker.text(&health));
            }
        }
        ui::hint("fix the service, then run timmy up again; timmy down removes what was started");
        Ok(())
    }

    fn health_output(docker: &Docker, root: &Path, container: &str) -> Option<String> {
        let out = docker
            .query(&compose::inspect_health(root, &[container.to_string()]))
            .ok()?;
        let json = out.stdout.lines().next()?.split_once('\t')?.1.to_string();
        let value: serde_json::Value = serde_json::from_str(&json).ok()?;
        let last = value.get("Log")?.as_array()?.last()?;
        let code = last
            .get("ExitCode")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(-1);
        let output = last
            .get("Output")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .trim();
        Some(format!("exit code {code}: {output}"))
    }

    fn down(&self, a: &cli::DownArgs) -> Result<()> {
        let project = self.named_project()?;
        let env = a
            .env
            .as_deref()
            .map(|e| project.resolve_env(e))
            .transpose()?;
        let docker = self.docker()?;
        let (env, name) = match env {
            Some(env) => {
                let name = self.name(&project, &env)?;
                (Some(env), name)
            }
            None => match checkout::pick(&self.stacks_here(&docker, &project)?, "down")? {
                Some(found) => (found.env, found.name),
                None if a.volumes => {
                    let Some(found) = self.stacks_with_volumes(&docker, &project)? else {
                        ui::info(
                            "no stack of this checkout is running, and none of its projects has a volume left",
                        );
                        return Ok(());
                    };
                    (found.env, found.name)
                }
                None => {
                    ui::info("no stack of this checkout is running");
                    return Ok(());
                }
            },
        };
        let _lock = self.lock(&project.root, &name, "down")?;
        let before = self.ours_only(&docker, &project, &name)?.ours;
        let prod_name = self.name(&project, stack::PROD)?;
        if before.is_empty() {
            if a.volumes {
                return Self::remove_stopped_volumes(
                    &docker,
                    &project.root,
                    &name,
                    name == prod_name && !a.yes,
                );
            }
            ui::info(&format!("nothing of project `{name}` is running"));
            return Ok(());
        }
        let files: Vec<PathBuf> = status::running_files(&before)
            .into_iter()
            .filter(|f| f.is_file())
            .collect();
        let running_env = status::env_of_files(&files).or(env);
        if name == prod_name && running_env.as_deref() == Some("dev") {
            ui::warning(&format!(
                "this dev stack was started by an earlier timmy under `{name}`, prod's project name now; `timmy up dev` starts dev as `{name}-dev`"
            ));
        }
        let guarded = name == prod_name || running_env.as_deref() == Some(stack::PROD);
        if a.volumes && guarded && !a.yes && !docker.dry_run {
            confirm_volume_removal(&name)?;
        }
        let env_file = Some(project.root.join(".env")).filter(|p| p.is_file());
        let down = if files.is_empty() {
            compose::down(&project.root, &name, &[], None, a.volumes)
        } else if let Some(problem) =
            config_problem(&project.root, &name, &files, running_env.as_deref())
        {
            // Compose refuses to read a broken `.env` or compose file, stops nothing and quotes
            // the value; by name only it finds the containers and networks by label.
            ui::warning(&format!("{problem}: stopping the project by name only"));
            compose::down(&project.root, &name, &[], None, a.volumes)
        } else {
            compose::down(&project.root, &name, &files, env_file.as_deref(), a.volumes)
        };
        docker.run_ok(&down)?;
        if docker.dry_run {
            return Ok(());
        }
        let left = self.containers(&docker, &project.root, &name, false)?;
        let known = project.services();
        for (c, why) in status::orphans(&before, &files, &known) {
            if !left.iter().any(|l| l.id == c.id) {
                ui::info(&format!("also removed {} ({why})", c.name));
            }
        }
        if left.is_empty() {
            let which = running_env.map_or_else(|| "stack".into(), |e| format!("{e} stack"));
            ui::info(&format!(
                "stopped the {which} `{name}`; no container of the project is left{}",
                if a.volumes { "" } else { " (volumes kept)" }
            ));
            return Ok(());
        }
        report_leftovers(&name, &left);
        Err(Exit::Failure.into())
    }

    /// `down --volumes` of a stack whose containers are gone: its named volumes, found by the
    /// project label, removed by name (`guarded`: prod's, behind the confirmation). Volumes
    /// carry no working-dir label (measured on Compose 2.26.1: only project, version and
    /// volume), so the caller has already refused a name whose containers are another
    /// checkout's.
    fn remove_stopped_volumes(
        docker: &Docker,
        root: &Path,
        name: &str,
        guarded: bool,
    ) -> Result<()> {
        let volumes = Self::volumes(docker, root, name)?;
        if volumes.is_empty() {
            ui::info(&format!(
                "nothing of project `{name}` is running, and it has no volume left"
            ));
            return Ok(());
        }
        if guarded && !docker.dry_run {
            confirm_volume_removal(name)?;
        }
        docker.run_ok(&compose::remove_volumes(root, &volumes))?;
        if !docker.dry_run {
            ui::info(&format!(
                "nothing of project `{name}` was running; removed its {}: {}",
                if volumes.len() == 1 {
                    "volume"
                } else {
                    "volumes"
                },
                volumes.join(", ")
            ));
        }
        Ok(())
    }

    fn volumes(docker: &Docker, root: &Path, name: &str) -> Result<Vec<String>> {
        let out = docker.query_ok(&compose::volumes_of(root, name))?;
        Ok(out
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect())
    }

    /// `down --volumes` without an environment when nothing runs: the one project of this
    /// checkout that still has volumes.
    fn stacks_with_volumes(&self, docker: &Docker, project: &Project) -> Result<Option<Found>> {
        let mut found = Vec::new();
        for (env, name) in self.names(project)? {
            if !Self::volumes(docker, &project.root, &name)?.is_empty() {
                found.push(Found {
                    name,
                    env: Some(env),
                    running: false,
                });
            }
        }
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.clone())),
            several => {
                let list: Vec<String> = several
                    .iter()
                    .map(|f| format!("{} (`{}`)", f.env.as_deref().unwrap_or("?"), f.name))
                    .collect();
                let example = several[0].env.clone().unwrap_or_default();
                Err(UserError::new(format!(
                    "nothing of this checkout is running, and {} of its stacks have volumes: {}",
                    several.len(),
                    list.join(", ")
                ))
                .hint(format!(
                    "name the environment, e.g. timmy down {example} --volumes"
                ))
                .into())
            }
        }
    }

    /// Every container with the project label (see [`checkout::query`]).
    fn containers(
        &self,
        docker: &Docker,
        root: &Path,
        name: &str,
        after_signal: bool,
    ) -> Result<Vec<Container>> {
        let label = checkout::project_label(name);
        checkout::query(&self.env, docker, root, &label, after_signal)
    }

    fn ps(&self, a: &cli::PsArgs) -> Result<()> {
        let project = self.named_project()?;
        let env = a.env.as_deref().or(a.env_flag.as_deref());
        let env = env.map(|e| project.resolve_env(e)).transpose()?;
        let docker = self.docker()?;
        let (_, name) = self.target(&docker, &project, env, "ps")?;
        let split = self.split(&docker, &project, &name)?;
        if let (Some(other), true) = (split.other(), split.ours.is_empty()) {
            return Err(checkout::only_theirs(&name, other, &self.suggestion(&project)?).into());
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
            ui::out(service_table(&services))?;
        }
        Ok(())
    }

    fn logs(&self, a: &cli::LogsArgs) -> Result<()> {
        let project = self.named_project()?;
        let (env, services) = project.split_env(&a.services, 0, None, "logs [ENV] [SERVICE]...")?;
        project.require_services(&services)?;
        let docker = self.docker()?;
        let (_, name) = self.target(&docker, &project, env, "logs")?;
        let split = self.ours_only(&docker, &project, &name)?;
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
        docker.run_relayed_ok(&plain(inv))
    }

    /// After `restart`: wait, as `up --wait` does, until every restarted service is healthy
    /// (or running, without a health check); a service that turns unhealthy or exits is
    /// explained like a failed `up`.
    fn wait_for_health(
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
                Self::explain_failure(docker, root, name)?;
                return Err(Exit::Failure.into());
            }
            let ready = |s: &Service| match s.state.as_str() {
                "running" => s.health.is_empty() || s.health == "healthy",
                "exited" => s.exit_code == 0,
                _ => false,
            };
            if services.iter().all(ready) {
                ui::info(&format!("restarted; `{name}` is healthy"));
                return ui::out(service_table(&services));
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

    fn shell(&self, a: &cli::ShellArgs) -> Result<()> {
        let project = self.named_project()?;
        let (env, names) = project.split_env(&a.names, 0, Some(1), "shell [ENV] [SERVICE]")?;
        let service = names.first().map_or("timmy", String::as_str);
        let command = compose::shell_command(a.command.as_deref());
        self.exec_in(&project, env, service, &command, "shell")
    }

    fn exec(&self, a: &cli::ExecArgs) -> Result<()> {
        let project = self.named_project()?;
        let (env, names) = project.split_env(&a.names, 1, Some(1), "exec [ENV] SERVICE -- CMD")?;
        self.exec_in(&project, env, &names[0], &a.command, "exec")
    }

    fn exec_in(
        &self,
        project: &Project,
        env: Option<String>,
        service: &str,
        command: &[String],
        what: &str,
    ) -> Result<()> {
        project.require_services(&[service.to_string()])?;
        let docker = self.docker()?;
        let (_, name) = self.target(&docker, project, env, what)?;
        self.ours_only(&docker, project, &name)?;
        let inv = compose::exec(&project.root, &name, service, command, is_interactive());
        docker.run_ok(&inv)
    }

    fn build(&self, a: &cli::BuildArgs) -> Result<()> {
        let project = self.project()?;
        let stack = self.stack(&project, &a.env)?;
        validate::gate(&stack, false)?;
        let docker = self.docker()?;
        validate::compose_gate(&docker, &stack)?;
        let command = format!("build {}", stack.env);
        self.refuse_other_checkout(&docker, &project, &stack.name, &command)?;
        let _lock = self.lock(&project.root, &stack.name, "build")?;
        docker.run_ok(&compose::build(&stack, a.no_cache))
    }

    fn restart(&self, a: &cli::RestartArgs) -> Result<()> {
        let project = self.named_project()?;
        let (env, services) =
            project.split_env(&a.services, 0, None, "restart [ENV] [SERVICE]...")?;
        project.require_services(&services)?;
        let docker = self.docker()?;
        let (_, name) = self.target(&docker, &project, env, "restart")?;
        let split = self.ours_only(&docker, &project, &name)?;
        if !docker.dry_run {
            require_running(&split, &name, "nothing to restart")?;
        }
        docker.run_ok(&compose::restart(&project.root, &name, &services))?;
        if docker.dry_run {
            return Ok(());
        }
        self.wait_for_health(&docker, &project.root, &name, &services)
    }

    /// Run the `tests` service of the test stack, then always remove the whole test stack.
    fn test(&self, a: &cli::TestArgs) -> Result<()> {
        let project = self.project()?;
        if !project.envs.iter().any(|e| e == "test") {
            return Err(UserError::new(
                "the test stack needs docker/docker-compose.test.yml, which does not exist",
            )
            .hint("create it with a `tests` service; timmy test runs that service and exits with its code")
            .into());
        }
        let stack = self.stack(&project, "test")?;
        validate::gate(&stack, false)?;
        let docker = self.docker()?;
        validate::compose_gate(&docker, &stack)?;
        self.refuse_other_checkout(&docker, &project, &stack.name, "test")?;
        let _lock = self.lock(&project.root, &stack.name, "test")?;
        let outcome = docker.run(&compose::run(&stack, "tests", &a.command, is_interactive()));
        let cleaned = self.remove_test_stack(&docker, &stack);
        let code = outcome?;
        if let Err(e) = cleaned {
            ui::warning(&format!("cleaning up the test stack failed: {e:#}"));
        }
        if docker.dry_run {
            return Ok(());
        }
        if code == 0 {
            ui::info("tests passed; test stack removed");
            Ok(())
        } else {
            ui::error(&format!(
                "tests failed with exit code {code}; test stack removed"
            ));
            Err(Exit::Docker(code).into())
        }
    }

    /// `down --volumes` for the disposable test stack, even after Ctrl-C. A container that
    /// `compose run` was still creating when it was interrupted can appear after `down` listed
    /// the project (measured: the network then stays "in use"); such stragglers are removed by
    /// id and `down` runs once more.
    fn remove_test_stack(&self, docker: &Docker, stack: &Stack) -> Result<()> {
        let down = compose::down(
            &stack.root,
            &stack.name,
            &stack.files,
            stack.env_file.as_deref(),
            true,
        );
        docker.run_always(&down)?;
        if docker.dry_run {
            return Ok(());
        }
        let left = self.containers(docker, &stack.root, &stack.name, true)?;
        if left.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = left.iter().map(|c| c.id.clone()).collect();
        docker.run_always(&compose::remove_containers(&stack.root, &ids))?;
        docker.run_always(&down)?;
        let left = self.containers(docker, &stack.root, &stack.name, true)?;
        if !left.is_empty() {
            report_leftovers(&stack.name, &left);
            return Err(Exit::Failure.into());
        }
        Ok(())
    }

    fn env(&self, a: &cli::EnvArgs) -> Result<()> {
        let project = self.project()?;
        project.resolve_env(&a.env)?;
        let vars = validate::resolved_env(&project.root)?;
        let masker = masker(&project.root);
        let (pasted, vars): (Vec<_>, Vec<_>) = vars
            .into_iter()
            .partition(|(k, v)| !a.show_secrets && secrets::looks_like_pasted_data(k, v));
        if !pasted.is_empty() {
            let lines = match pasted.len() {
                1 => "1 line looks".to_owned(),
                n => format!("{n} lines look"),
            };
            ui::warning(&format!(
                ".env: {lines} like a pasted value, not KEY=value; not shown (see timmy check)"
            ));
        }
        let shown: Vec<(String, String)> = vars
            .into_iter()
            .map(|(k, v)| {
                let v = if a.show_secrets {
                    v
                } else {
                    masker.value(Some(&k), &v)
                };
                (k, v)
            })
            .collect();
        let mut out = String::new();
        if a.json {
            let map: serde_json::Map<String, serde_json::Value> = shown
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            let _ = writeln!(out, "{}", serde_json::Value::Object(map));
        } else {
            for (k, v) in shown {
                let _ = writeln!(out, "{k}={v}");
            }
        }
        ui::out(out)
    }

    fn config(&self, a: &cli::ConfigArgs) -> Result<()> {
        let project = self.project()?;
        let stack = self.stack(&project, &a.env)?;
        if a.files {
            return ui::out(stack.relative_files().join("\n") + "\n");
        }
        if a.export {
            return ui::out(export_lines(&stack));
        }
        validate::gate(&stack, false)?;
        let docker = self.docker_offline()?;
        let out = docker.query(&compose::config(&stack))?;
        ui::out(docker.masker.yaml(&out.stdout))?;
        if out.code != 0 {
            eprint!("{}", docker.masker.text(&out.stderr));
            return Err(Exit::Docker(out.code).into());
        }
        Ok(())
    }
}

/// The stack with the engine-specific file its engine takes ([`Stack::for_engine`]), the
/// engine's API version asked once of its socket; `-v` says what was decided when the engine
/// answered (an unknown version leaves the files as they are).
pub fn for_engine(stack: Stack, env: &preflight::Env, global: &cli::Global) -> Stack {
    let api = engine_api::local_api_version(env);
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

/// The same problems at the same places (hints name the environment, so they differ).
fn same_findings(a: &[crate::check::Finding], b: &[crate::check::Finding]) -> bool {
    let key = |f: &crate::check::Finding| (f.level, f.file.clone(), f.line, f.message.clone());
    a.len() == b.len() && a.iter().map(key).eq(b.iter().map(key))
}

/// `--ansi never` when stdout is not a terminal or colours are off (see [`ui::plain_output`]).
fn plain(inv: compose::Invocation) -> compose::Invocation {
    if ui::plain_output() {
        compose::ansi_never(inv)
    } else {
        inv
    }
}

/// Something of `name` runs in this checkout (a one-off `run` container does not count), per
/// the label query the command already made; else an error (exit 1) with the command that
/// starts the stack: `logs -f` would return at once and `restart` do nothing.
fn require_running(split: &Split, name: &str, why: &str) -> Result<(), UserError> {
    if split.ours.iter().any(|c| c.state == "running" && !c.oneoff) {
        return Ok(());
    }
    Err(
        UserError::new(format!("nothing of project `{name}` is running: {why}"))
            .hint("start the stack with: timmy up"),
    )
}

fn is_interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

fn confirm_volume_removal(name: &str) -> Result<()> {
    let refuse = || {
        UserError::new(format!(
            "refusing to remove the volumes of the prod stack `{name}` without confirmation"
        ))
        .hint("the data in them is lost for good; pass --yes if that is what you want")
    };
    if !std::io::stdin().is_terminal() {
        return Err(refuse().into());
    }
    eprint!(
        "Remove the named volumes of the prod stack `{name}`? Their data is lost. Type `yes`: "
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(refuse().into())
    }
}

/// What would make Compose refuse the running stack's files (errors only: a warning does not
/// stop Compose), read from disk without starting any process.
fn config_problem(root: &Path, name: &str, files: &[PathBuf], env: Option<&str>) -> Option<String> {
    let stack = Stack {
        env: env.unwrap_or("dev").to_string(),
        root: root.to_path_buf(),
        name: name.to_string(),
        files: files.to_vec(),
        env_file: Some(root.join(".env")),
    };
    match validate::findings(&stack) {
        Err(e) => Some(e.message),
        Ok(found) => found
            .iter()
            .find(|f| f.level == crate::check::Level::Error)
            .map(|f| format!("{} has errors (see timmy check)", f.file)),
    }
}

fn report_leftovers(name: &str, left: &[Container]) {
    ui::error(&format!(
        "{} of project `{name}` still there after down:",
        validate::plural(left.len(), "container")
    ));
    for c in left {
        let kind = if c.oneoff {
            "one-off (docker compose run)"
        } else if c.service.is_empty() {
            "not from a compose service"
        } else {
            "service container"
        };
        eprintln!(
            "  {}  {}  {}  {kind}",
            c.name,
            &c.id[..c.id.len().min(12)],
            c.state
        );
    }
    let ids: Vec<&str> = left.iter().map(|c| &c.id[..c.id.len().min(12)]).collect();
    ui::hint(&format!("remove them with: docker rm -f {}", ids.join(" ")));
}

/// The service table of `up` and `ps`, with the image each container runs (its env's own,
/// `<project>-timmy:<env>`); the full port form is in `ps --json`.
fn service_table(services: &[Service]) -> String {
    let rows: Vec<Vec<String>> = services
        .iter()
        .map(|s| {
            let state = if s.state == "exited" {
                format!("exited ({})", s.exit_code)
            } else {
                s.state.clone()
            };
            let health = if s.health.is_empty() {
                "-".into()
            } else {
                ui::health_word(&s.health)
            };
            let ports: Vec<&str> = s.ports.iter().map(|p| p.trim_end_matches("/tcp")).collect();
            vec![
                s.service.clone(),
                ui::state_word(&state),
                health,
                s.uptime().unwrap_or("-").to_string(),
                if ports.is_empty() {
                    "-".into()
                } else {
                    ports.join(", ")
                },
                if s.image.is_empty() {
                    "-".into()
                } else {
                    s.image.clone()
                },
            ]
        })
        .collect();
    ui::table(
        &["SERVICE", "STATE", "HEALTH", "UPTIME", "PORTS", "IMAGE"],
        &rows,
    )
}

/// Shell lines that point plain `docker compose` at the same stack. Measured on Compose
/// 2.26: it ignores `COMPOSE_PROJECT_DIRECTORY`, so the project directory (and with it the
/// root `.env`) can only be given as a flag; the `dc` alias carries it.
fn export_lines(stack: &Stack) -> String {
    let files: Vec<String> = stack
        .files
        .iter()
        .map(|f| f.to_string_lossy().into_owned())
        .collect();
    let quote =
        |v: &str| shlex::try_quote(v).map_or_else(|_| v.to_string(), std::borrow::Cow::into_owned);
    let mut compose = format!(
        "docker compose --project-directory {}",
        quote(&stack.root.to_string_lossy())
    );
    if let Some(env_file) = &stack.env_file {
        let _ = write!(
            compose,
            " --env-file {}",
            quote(&env_file.to_string_lossy())
        );
    }
    format!(
        "export COMPOSE_FILE={}\nexport COMPOSE_PROJECT_NAME={}\n\
         # Compose takes the project directory only as a flag: use `dc` like `docker compose`\n\
         alias dc={}\n",
        quote(&files.join(":")),
        quote(&stack.name),
        quote(&compose)
    )
}

/// The masker for everything timmy shows of the project at `root`: built from every value of
/// `.env` and the shell's value of each of its keys (Compose prefers the shell's). A `.env`
/// that cannot be read gives an empty masker; the commands that need `.env` refuse it anyway.
pub(crate) fn masker(root: &Path) -> secrets::Masker {
    let vars = validate::resolved_env(root).unwrap_or_default();
    let shell: Vec<(String, String)> = vars
        .iter()
        .filter_map(|(k, _)| validate::shell_lookup(k).map(|v| (k.clone(), v)))
        .collect();
    secrets::Masker::new(vars.into_iter().chain(shell))
}

/// Used by `lib::main` to keep the signal exit code when a command returned Ok after one.
pub fn pending_signal() -> Option<Exit> {
    docker::received_signal().map(Exit::Signal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_lines_use_absolute_files_and_name() {
        let stack = Stack {
            env: "prod".into(),
            root: PathBuf::from("/p q"),
            name: "timmy".into(),
            files: vec![
                PathBuf::from("/p q/docker/docker-compose.yml"),
                PathBuf::from("/p q/docker/docker-compose.prod.yml"),
            ],
            env_file: Some(PathBuf::from("/p q/.env")),
        };
        assert_eq!(
            export_lines(&stack),
            "export COMPOSE_FILE='/p q/docker/docker-compose.yml:/p q/docker/docker-compose.prod.yml'\n\
             export COMPOSE_PROJECT_NAME=timmy\n\
             # Compose takes the project directory only as a flag: use `dc` like `docker compose`\n\
             alias dc=\"docker compose --project-directory '/p q' --env-file '/p q/.env'\"\n"
        );
    }
}
