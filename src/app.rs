//! The commands: each turns parsed arguments into a plan (a [`Stack`], [`Invocation`]s), runs
//! it through the one [`Docker`] runner and reports. Order inside a command is always: resolve
//! and validate everything that needs no docker, then preflight, then docker.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::CommandFactory;

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
                clap_complete::generate(
                    a.shell,
                    &mut Cli::command(),
                    "timmy",
                    &mut std::io::stdout(),
                );
                Ok(())
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

    fn stack(&self, project: &Project, env: &str) -> Result<Stack, UserError> {
        let env = project.resolve_env(env)?;
        let stack = Stack::new(project, &env, self.global.project_name.as_deref())?;
        Ok(for_engine(stack, &self.env, &self.global))
    }

    fn name(&self, project: &Project, env: &str) -> Result<String, UserError> {
        stack::project_name(&project.root, env, self.global.project_name.as_deref())
    }

    /// The environment asked for (resolved, if any) and the project name it runs under;
    /// without one, the name dev and prod share.
    fn target(&self, project: &Project, env: Option<&str>) -> Result<(Option<String>, String)> {
        let env = env.map(|e| project.resolve_env(e)).transpose()?;
        let name = self.name(project, env.as_deref().unwrap_or("dev"))?;
        Ok((env, name))
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

    /// The project lock, except under `--dry-run`, which changes nothing.
    fn lock(&self, root: &Path, what: &str) -> Result<Option<lock::ProjectLock>> {
        if self.global.dry_run {
            return Ok(None);
        }
        Ok(Some(lock::acquire(root, what)?))
    }

    /// The runner, masking with the project's `.env` when there is one.
    fn runner(&self, program: PathBuf) -> Docker {
        let masker = self.project().map(|p| masker(&p.root)).unwrap_or_default();
        Docker::new(program, &self.global).masking(masker)
    }

    fn check(&self, a: &cli::CheckArgs) -> Result<()> {
        let project = self.project()?;
        let stack = self.stack(&project, &a.env)?;
        let mut found = validate::findings(&stack)?;
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
        match docker.query(&crate::doctor::compose_version_invocation(&stack.root)) {
            Ok(out) if out.code == 0 => compose_dialect::findings(&text, &out.stdout),
            _ => Vec::new(),
        }
    }

    fn up(&self, a: &cli::UpArgs) -> Result<()> {
        let project = self.project()?;
        let stack = self.stack(&project, &a.env)?;
        validate::gate(&stack, a.strict)?;
        let docker = self.docker()?;
        validate::compose_gate(&docker, &stack)?;
        let _lock = self.lock(&project.root, "up")?;
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
        print!("{}", service_table(&services));
        let follow = stack.env == "dev" && !a.detach;
        if follow {
            ui::info(
                "following the logs; Ctrl-C stops following, the stack keeps running (timmy down stops it)",
            );
            let logs = compose::logs(&stack.root, &stack.name, &[], true, Some(10), None);
            if let Err(e) = docker.run(&logs) {
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
                ui::command_line("running:", &engine_api::describe_query(name));
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
            let out = docker.query(&logs)?;
            eprintln!(
                "--- last {FAILURE_LOG_LINES} log lines of {} ---",
                s.service
            );
            eprint!("{}", docker.masker.text(&out.stdout));
            eprint!("{}", docker.masker.text(&out.stderr));
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
        let project = self.project()?;
        let (env, name) = self.target(&project, a.env.as_deref())?;
        let docker = self.docker()?;
        let _lock = self.lock(&project.root, "down")?;
        let before = self.containers(&docker, &project.root, &name, false)?;
        if before.is_empty() {
            ui::info(&format!("nothing of project `{name}` is running"));
            return Ok(());
        }
        let files: Vec<PathBuf> = status::running_files(&before)
            .into_iter()
            .filter(|f| f.is_file())
            .collect();
        let running_env = env.or_else(|| status::env_of_files(&files));
        if a.volumes && running_env.as_deref() == Some("prod") && !a.yes && !docker.dry_run {
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

    /// Every container with the project label: asked of the engine's socket directly (no
    /// process, see `engine_api`), else through `docker ps`. With `TIMMY_DOCKER` set timmy
    /// always goes through that CLI, which may talk to another daemon than the local socket.
    fn containers(
        &self,
        docker: &Docker,
        root: &Path,
        name: &str,
        after_signal: bool,
    ) -> Result<Vec<Container>> {
        let api = (self.env.timmy_docker.is_none())
            .then(|| preflight::daemon_socket(&self.env))
            .flatten()
            .map(|socket| EngineApi::new(&socket));
        if let Some(api) = api {
            if docker.verbose {
                ui::command_line("running:", &engine_api::describe_query(name));
            }
            match api.containers_of(name) {
                Ok(containers) => return Ok(containers),
                Err(e) => ui::warning(&format!("{e}; asking `docker ps` instead")),
            }
        }
        let query = compose::containers_of(root, name);
        let out = if after_signal {
            let out = docker.query_after_signal(&query)?;
            anyhow::ensure!(out.code == 0, "`{query}` failed with code {}", out.code);
            out.stdout
        } else {
            docker.query_ok(&query)?
        };
        Ok(status::parse_containers(&out))
    }

    fn ps(&self, a: &cli::PsArgs) -> Result<()> {
        let project = self.project()?;
        let (_, name) = self.target(&project, a.env.as_deref())?;
        let docker = self.docker()?;
        let services = self.service_list(&docker, &project.root, &name)?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&services)?);
        } else if services.is_empty() {
            ui::info(&format!(
                "nothing of project `{name}` is running; start it with: timmy up"
            ));
        } else {
            print!("{}", service_table(&services));
        }
        Ok(())
    }

    fn logs(&self, a: &cli::LogsArgs) -> Result<()> {
        let project = self.project()?;
        project.require_services(&a.services)?;
        let name = self.name(&project, "dev")?;
        let docker = self.docker()?;
        let inv = compose::logs(
            &project.root,
            &name,
            &a.services,
            a.follow,
            a.tail,
            a.since.as_deref(),
        );
        docker.run_ok(&inv)
    }

    fn shell(&self, a: &cli::ShellArgs) -> Result<()> {
        let command = compose::shell_command(a.command.as_deref());
        self.exec_in(&a.service, &command)
    }

    fn exec(&self, a: &cli::ExecArgs) -> Result<()> {
        self.exec_in(&a.service, &a.command)
    }

    fn exec_in(&self, service: &str, command: &[String]) -> Result<()> {
        let project = self.project()?;
        project.require_services(&[service.to_string()])?;
        let name = self.name(&project, "dev")?;
        let docker = self.docker()?;
        let inv = compose::exec(&project.root, &name, service, command, is_interactive());
        docker.run_ok(&inv)
    }

    fn build(&self, a: &cli::BuildArgs) -> Result<()> {
        let project = self.project()?;
        let stack = self.stack(&project, &a.env)?;
        validate::gate(&stack, false)?;
        let docker = self.docker()?;
        validate::compose_gate(&docker, &stack)?;
        let _lock = self.lock(&project.root, "build")?;
        docker.run_ok(&compose::build(&stack, a.no_cache))
    }

    fn restart(&self, a: &cli::RestartArgs) -> Result<()> {
        let project = self.project()?;
        project.require_services(&a.services)?;
        let name = self.name(&project, "dev")?;
        let docker = self.docker()?;
        docker.run_ok(&compose::restart(&project.root, &name, &a.services))
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
        let _lock = self.lock(&project.root, "test")?;
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
        let mut out = std::io::stdout().lock();
        if a.json {
            let map: serde_json::Map<String, serde_json::Value> = shown
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            writeln!(out, "{}", serde_json::Value::Object(map))?;
        } else {
            for (k, v) in shown {
                writeln!(out, "{k}={v}")?;
            }
        }
        Ok(())
    }

    fn config(&self, a: &cli::ConfigArgs) -> Result<()> {
        let project = self.project()?;
        let stack = self.stack(&project, &a.env)?;
        if a.files {
            for f in stack.relative_files() {
                println!("{f}");
            }
            return Ok(());
        }
        if a.export {
            print!("{}", export_lines(&stack));
            return Ok(());
        }
        validate::gate(&stack, false)?;
        let docker = self.docker_offline()?;
        let out = docker.query(&compose::config(&stack))?;
        print!("{}", docker.masker.yaml(&out.stdout));
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
