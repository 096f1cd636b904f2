//! `up`: start a stack and wait for health; when it fails, name each failed service with its
//! last log lines and health-check output; after Ctrl-C, say what is still running. The
//! decisions are pure and table-tested: [`plan`] (what to run, from the resolved stack) and
//! [`verdict`] / [`interrupted`] (what docker reported, in the words the user sees).

use std::path::Path;

use anyhow::Result;

use super::{Ctx, plain};
use crate::checkout;
use crate::cli;
use crate::compose::{self, Invocation};
use crate::docker::{Docker, Outcome};
use crate::exit::{Exit, UserError};
use crate::noop;
use crate::stack::{self, Stack};
use crate::status::{self, Container, Health, Service, State};
use crate::ui;
use crate::validate;

/// Lines of each failing service's log shown when `up` fails.
const FAILURE_LOG_LINES: u32 = 20;
/// More `ps` looks, 250 ms apart, when `up` failed but no service looks failed yet.
const FAILURE_LOOKS: usize = 4;
/// How long a failed `up` waits for services that were already unhealthy before it (Compose
/// left them running) to recover: one passing probe makes a container healthy again, and the
/// stack's probes run every 2–3 s with a 3 s timeout.
const RECOVERY_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

impl Ctx {
    pub(super) fn up(&self, a: &cli::UpArgs) -> Result<()> {
        let project = self.project()?;
        let stack = self.stack(&project, &a.env)?;
        validate::gate(&stack, a.strict)?;
        let docker = self.docker()?;
        validate::compose_gate(&docker, &stack)?;
        let command = format!("up {}", stack.env);
        let split = self.refuse_other_checkout(&docker, &project, &stack.name, &command)?;
        self.refuse_deployed_stack(&docker, &stack, &split.ours)?;
        let base = self.name(&project, stack::PROD)?;
        let under_base = if stack.name == base {
            split.ours.clone()
        } else {
            self.split(&docker, &project, &base)?.ours
        };
        let local = crate::ports::on_this_machine(&self.env);
        let plan = plan(
            &stack,
            &base,
            &under_base,
            &split.ours,
            a,
            docker.dry_run,
            local,
        )?;
        let lock = self.lock(&project.root, &stack.name, "up")?;
        let pending = match self.no_op(&docker, &stack, a)? {
            NoOp::Skipped => {
                ui::info(&up_line(&stack));
                ui::info(
                    "nothing changed since the last full up (configuration, images, build inputs): Compose was not run; timmy up --build runs it",
                );
                let services = self.service_list(&docker, &stack.root, &stack.name)?;
                ui::out(ui::service_table(&services))?;
                return Ok(());
            }
            NoOp::Full(pending) => pending,
        };
        if plan.check_ports {
            match &pending {
                Some(p) => crate::ports::preflight_config(&docker, &stack, &p.config_json)?,
                None => crate::ports::preflight(&docker, &stack)?,
            }
        }
        let started = std::time::Instant::now();
        let code = match docker.run_masked(&plan.up) {
            Ok(Outcome::Ran(code)) => code,
            Ok(Outcome::DryRun) => return Ok(()),
            Err(e) => return Err(Self::after_interrupt(&docker, &stack.root, &stack.name, e)),
        };
        if code != 0 && !self.recovered(&docker, &stack.root, &stack.name, started)? {
            self.explain_failure(&docker, &stack.root, &stack.name)?;
            return Err(Exit::Docker(code).into());
        }
        if code == 0
            && let Some(p) = pending
        {
            self.remember_up(&stack, &p);
        }
        let services = self.service_list(&docker, &stack.root, &stack.name)?;
        ui::info(&up_line(&stack));
        ui::out(ui::service_table(&services))?;
        // The lock covers changing the stack, not following its logs: `timmy down` in another
        // terminal must be able to stop what this one follows.
        drop(lock);
        if let Some(logs) = plan.follow {
            ui::info(
                "following the logs; Ctrl-C stops following, the stack keeps running (timmy down stops it)",
            );
            if let Err(e) = docker.run_relayed(&plain(logs)) {
                return Err(Self::after_interrupt(&docker, &stack.root, &stack.name, e));
            }
        }
        Ok(())
    }

    /// May this `up` skip Compose? Gathers the facts (the resolved configuration from Compose,
    /// the rest from the engine's socket) and asks [`noop::decide`]; `-v` shows each reason.
    /// A full `up` first forgets the stack's record and gets what to record once it succeeded.
    fn no_op(&self, docker: &Docker, stack: &Stack, a: &cli::UpArgs) -> Result<NoOp> {
        let say = |line: &str| {
            if docker.verbose {
                ui::command_line("no-op up:", line);
            }
        };
        if docker.dry_run {
            say(&format!("full up: {}", noop::Reason::DryRun));
            return Ok(NoOp::Full(None));
        }
        let Some(cache) = cache_dir() else {
            say("full up: no cache folder to record it in (XDG_CACHE_HOME, HOME)");
            return Ok(NoOp::Full(None));
        };
        let store = noop::Store::new(&cache, stack);
        let full = |why: &str| {
            say(&format!("full up: {why}"));
            store.forget();
            Ok(NoOp::Full(None))
        };
        let Some(api) = self.engine.api() else {
            return full("the engine is not asked through its local socket");
        };
        let out = docker.query(&compose::config_json(stack))?;
        if out.code != 0 {
            return full("docker compose config failed");
        }
        let config = noop::config_digest(&out.stdout);
        // Nothing to record, but the port check still reads this configuration.
        let unrecorded = |why: &str, config_json: String| {
            say(&format!("full up: {why}"));
            store.forget();
            Ok(NoOp::Full(Some(Pending {
                store: store.clone(),
                config: String::new(),
                config_json,
                wanted: None,
            })))
        };
        let wanted = match noop::wanted(api, &out.stdout) {
            Ok(wanted) => wanted,
            Err(why) => return unrecorded(&why, out.stdout),
        };
        let running = match noop::running(api, stack) {
            Ok(running) => running,
            Err(e) => return unrecorded(&format!("the engine's containers: {e}"), out.stdout),
        };
        let facts = noop::Facts {
            request: noop::Request {
                detach: a.detach,
                build: a.build,
                dry_run: docker.dry_run,
            },
            config,
            record: store.load(),
            wanted,
            running,
        };
        match noop::decide(&facts) {
            noop::Decision::Skip => {
                say(
                    "skip: the same configuration, containers, images and build inputs as the last full up, every service ready",
                );
                Ok(NoOp::Skipped)
            }
            noop::Decision::Full(reasons) => {
                for reason in &reasons {
                    say(&format!("full up: {reason}"));
                }
                store.forget();
                Ok(NoOp::Full(Some(Pending {
                    store,
                    config: facts.config,
                    config_json: out.stdout,
                    wanted: Some(facts.wanted),
                })))
            }
        }
    }

    /// After a successful full `up`: record what it left, for the next `up` to compare with.
    fn remember_up(&self, stack: &Stack, p: &Pending) {
        let (Some(api), Some(wanted)) = (self.engine.api(), &p.wanted) else {
            return;
        };
        if let Ok(now) = noop::running(api, stack)
            && let Some(record) = noop::record(&p.config, wanted, &now)
        {
            p.store.save(&record);
        }
    }

    /// Compose's `up --wait` gives up at once on an unhealthy container, also one it left
    /// running untouched: `timmy up prod` after redis was stopped starts redis, but the app that
    /// lost it stays unhealthy until its next probe passes. When every failed service is such a
    /// container (up since before this `up` began), wait up to [`RECOVERY_WAIT`] for the stack
    /// to become healthy; true when it did.
    fn recovered(
        &self,
        docker: &Docker,
        root: &Path,
        name: &str,
        started: std::time::Instant,
    ) -> Result<bool> {
        let before = started.elapsed().as_secs() + 1;
        let mut services = self.service_list(docker, root, name)?;
        let waiting = recovering(&services, before);
        if waiting.is_empty() {
            return Ok(false);
        }
        ui::info(&format!(
            "{} was unhealthy before this up and Compose left it running; waiting up to {} s for it to recover",
            waiting.join(", "),
            RECOVERY_WAIT.as_secs()
        ));
        let deadline = std::time::Instant::now() + RECOVERY_WAIT;
        while std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(500));
            services = self.service_list(docker, root, name)?;
            if services.iter().all(is_ready) {
                ui::info(&format!("{} recovered", waiting.join(", ")));
                return Ok(true);
            }
            if services
                .iter()
                .any(|s| s.is_failed() && s.health != Health::Unhealthy)
            {
                break;
            }
        }
        Ok(false)
    }

    /// After Ctrl-C/SIGTERM: say what is still running, then keep the signal's exit code.
    pub(super) fn after_interrupt(
        docker: &Docker,
        root: &Path,
        name: &str,
        e: anyhow::Error,
    ) -> anyhow::Error {
        if let Some(Exit::Signal(_)) = e.downcast_ref::<Exit>()
            && let Ok(out) = docker.query_after_signal(&compose::ps(root, name))
        {
            let services = status::parse_ps(&out.stdout).unwrap_or_default();
            ui::info(&interrupted(name, &services));
        }
        e
    }

    /// Name each exited or unhealthy service, with its last log lines and health-check output.
    pub(super) fn explain_failure(&self, docker: &Docker, root: &Path, name: &str) -> Result<()> {
        // A crash-looping container can be caught just restarted, `running` with its health
        // `starting` (seen with Engine 28.5 + Compose 2.40): look again for about a second.
        let mut services = self.service_list(docker, root, name)?;
        for _ in 0..FAILURE_LOOKS {
            if services.iter().any(Service::is_failed) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
            services = self.service_list(docker, root, name)?;
        }
        let failed = match verdict(name, &services) {
            Verdict::NotUp(line) => {
                ui::error(&line);
                return Ok(());
            }
            Verdict::Failed(failed) => failed,
        };
        for s in &failed {
            ui::error(&s.error);
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
            if let Some(health) = Self::health_output(docker, root, &s.container) {
                eprintln!("--- last health check of {} ---", s.service);
                eprintln!("{}", docker.masker.text(&health));
            }
        }
        ui::hint("fix the service, then run timmy up again; timmy down removes what was started");
        Ok(())
    }

    pub(super) fn health_output(docker: &Docker, root: &Path, container: &str) -> Option<String> {
        let out = docker
            .query(&compose::inspect_health(root, &[container.to_string()]))
            .ok()?;
        status::last_health_check(&out.stdout)
    }
}

/// The no-op check's outcome: skipped, or the full `up` with what to record after it.
enum NoOp {
    Skipped,
    Full(Option<Pending>),
}

/// What a full `up` records once it succeeded, gathered before it ran.
struct Pending {
    store: noop::Store,
    config: String,
    /// Compose's resolved configuration, also the port check's input.
    config_json: String,
    /// `None`: nothing to record (the facts could not be gathered).
    wanted: Option<std::collections::BTreeMap<String, noop::Wanted>>,
}

/// timmy's cache folder: `$XDG_CACHE_HOME` when absolute, else `$HOME/.cache`.
fn cache_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .filter(|d| d.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
}

/// What `up` runs, decided before docker is asked to start anything.
#[derive(Debug, PartialEq, Eq)]
struct Plan {
    up: Invocation,
    /// Bind each published host port for a moment first (not under `--dry-run`, and only when
    /// the engine is local).
    check_ports: bool,
    /// The logs to follow once the stack is up: dev without `--detach`.
    follow: Option<Invocation>,
}

/// The plan for `stack`, given prod's project name `base`, this checkout's containers under it
/// (a dev stack an earlier timmy started there is refused: stop it first) and under the stack's
/// own name (another env's stack there, started with another -p, is refused), and whether the
/// engine is local (only then are its published ports this machine's).
fn plan(
    stack: &Stack,
    base: &str,
    under_base: &[Container],
    ours: &[Container],
    a: &cli::UpArgs,
    dry_run: bool,
    local: bool,
) -> Result<Plan, UserError> {
    if checkout::is_legacy_dev(under_base) {
        return Err(checkout::legacy_dev(base));
    }
    if let Some(other) = checkout::other_env(ours, &stack.env) {
        let command = format!("up {}", stack.env);
        return Err(checkout::other_env_under(
            &stack.name,
            &other,
            &stack.env,
            &command,
        ));
    }
    Ok(Plan {
        up: compose::up(stack, a.timeout),
        check_ports: !dry_run && local,
        follow: (stack.env == "dev" && !a.detach)
            .then(|| compose::logs(&stack.root, &stack.name, &[], true, Some(10), None)),
    })
}

/// The line above the service table once the stack is up.
fn up_line(stack: &Stack) -> String {
    format!(
        "{} stack `{}` is up ({})",
        stack.env,
        stack.name,
        stack.relative_files().join(" + ")
    )
}

/// A service `up` reports as failed: its `error:` line, then its logs and last health check.
#[derive(Debug, PartialEq, Eq)]
struct Failed {
    service: String,
    container: String,
    error: String,
}

/// What a failed `up` shows, from the services docker lists afterwards.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Each exited, crash-looping or unhealthy service.
    Failed(Vec<Failed>),
    /// No service looks failed: the one `error:` line (docker's own message says why).
    NotUp(String),
}

fn verdict(name: &str, services: &[Service]) -> Verdict {
    let failed: Vec<Failed> = services
        .iter()
        .filter(|s| s.is_failed())
        .map(|s| Failed {
            service: s.service.clone(),
            container: s.name.clone(),
            error: format!("service `{}` {}", s.service, s.failure()),
        })
        .collect();
    if failed.is_empty() {
        Verdict::NotUp(format!(
            "`{name}` did not come up (see docker's message above)"
        ))
    } else {
        Verdict::Failed(failed)
    }
}

/// What `up` says after Ctrl-C, from the services docker lists then.
fn interrupted(name: &str, services: &[Service]) -> String {
    let running: Vec<&str> = services
        .iter()
        .filter(|s| s.state == State::Running)
        .map(|s| s.service.as_str())
        .collect();
    if running.is_empty() {
        format!("interrupted; nothing of `{name}` is running")
    } else {
        format!(
            "interrupted; still running in `{name}`: {} (timmy down stops them)",
            running.join(", ")
        )
    }
}

/// Running (healthy, or without a health check), or a one-shot that exited 0.
fn is_ready(s: &Service) -> bool {
    match s.state {
        State::Running => matches!(s.health, Health::None | Health::Healthy),
        State::Exited => s.exit_code == 0,
        _ => false,
    }
}

/// The services a failed `up` may wait for: each failed service is running and unhealthy and
/// has been up longer than the `up` took (`up_secs`), so Compose did not start it; empty when
/// any failure is of another kind or none is there.
fn recovering(services: &[Service], up_secs: u64) -> Vec<String> {
    let failed: Vec<&Service> = services.iter().filter(|s| s.is_failed()).collect();
    let untouched = |s: &&Service| {
        s.state == State::Running
            && s.health == Health::Unhealthy
            && s.uptime()
                .and_then(uptime_secs)
                .is_some_and(|up| up > up_secs)
    };
    if failed.is_empty() || !failed.iter().all(untouched) {
        return Vec::new();
    }
    failed.iter().map(|s| s.service.clone()).collect()
}

/// The least number of seconds Docker's uptime words mean (`Less than a second`, `5 seconds`,
/// `About a minute`, `3 minutes`, `About an hour`, `2 hours`, `4 days`, …).
fn uptime_secs(words: &str) -> Option<u64> {
    let (count, unit) = words.split_once(' ')?;
    let count = match count {
        "Less" => return Some(0),
        "About" | "a" | "an" => 1,
        n => n.parse().ok()?,
    };
    let unit = unit.trim_start_matches("a ").trim_start_matches("an ");
    let per = match unit.trim_end_matches('s') {
        "second" => 1,
        "minute" => 60,
        "hour" => 3600,
        "day" => 86_400,
        "week" => 604_800,
        "month" => 2_592_000,
        "year" => 31_536_000,
        _ => return None,
    };
    Some(count * per)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn stack(env: &str, name: &str) -> Stack {
        Stack {
            env: env.into(),
            root: PathBuf::from("/p"),
            name: name.into(),
            files: vec![
                PathBuf::from("/p/docker/docker-compose.yml"),
                PathBuf::from(format!("/p/docker/docker-compose.{env}.yml")),
            ],
            env_file: Some(PathBuf::from("/p/.env")),
        }
    }

    fn args(env: &str, detach: bool) -> cli::UpArgs {
        cli::UpArgs {
            env: env.into(),
            build: false,
            detach,
            timeout: 60,
            strict: false,
        }
    }

    /// The label query's lines: one `timmy` container of `env` under project `p`.
    fn under_p(env: &str) -> Vec<Container> {
        status::parse_containers(&format!(
            "id1\tp-timmy-1\trunning\ttimmy\tFalse\t/p/docker/docker-compose.yml,/p/docker/docker-compose.{env}.yml\tp\t/p\n"
        ))
    }

    const UP: &str = "docker compose --project-directory /p --env-file /p/.env";

    /// `up ENV` as `name`, with or without `--detach` and `--dry-run`, on a local engine or
    /// not, and the env of the containers already under prod's name `p`: ports checked? which
    /// logs followed?
    #[track_caller]
    fn case(
        env: &str,
        name: &str,
        (detach, dry_run, local): (bool, bool, bool),
        under_base: Option<&str>,
        ports: bool,
        follow: Option<&str>,
    ) {
        let under = under_base.map(under_p).unwrap_or_default();
        let plan = plan(
            &stack(env, name),
            "p",
            &under,
            &[],
            &args(env, detach),
            dry_run,
            local,
        )
        .unwrap();
        assert_eq!(
            plan.up.to_string(),
            format!(
                "{UP} -p {name} -f /p/docker/docker-compose.yml -f /p/docker/docker-compose.{env}.yml \
                 up --detach --wait --wait-timeout 60 --remove-orphans --build"
            )
        );
        assert_eq!(plan.check_ports, ports);
        assert_eq!(plan.follow.map(|f| f.to_string()).as_deref(), follow);
    }

    #[test]
    fn plan_runs_up_checks_ports_and_follows_dev_only_when_attached() {
        let logs = "docker compose --env-file /dev/null -p p-dev logs --follow --tail 10";
        case("dev", "p-dev", (false, false, true), None, true, Some(logs));
        case("dev", "p-dev", (true, false, true), None, true, None);
        case("dev", "p-dev", (false, true, true), None, false, Some(logs));
        case("dev", "p-dev", (true, false, false), None, false, None);
        case("prod", "p", (false, false, true), Some("prod"), true, None);
        case("prod", "p", (true, false, false), Some("prod"), false, None);
        case(
            "test",
            "p-test",
            (false, true, true),
            Some("prod"),
            false,
            None,
        );
    }

    #[test]
    fn plan_refuses_a_dev_stack_an_earlier_timmy_left_under_prods_name() {
        let e = plan(
            &stack("prod", "p"),
            "p",
            &under_p("dev"),
            &[],
            &args("prod", true),
            false,
            true,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "a dev stack started by an earlier timmy runs under the project name `p`, which is prod's now (dev runs as `p-dev`)"
        );
    }

    #[test]
    fn plan_refuses_a_name_that_holds_another_envs_stack_of_this_checkout() {
        let e = plan(
            &stack("dev", "p"),
            "p",
            &under_p("prod"),
            &under_p("prod"),
            &args("dev", true),
            false,
            true,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "the project name `p` holds this checkout's prod stack (started with another -p); \
             `up dev` would recreate its containers as dev and take over its volumes"
        );
    }

    #[test]
    fn up_line_names_env_project_and_files() {
        assert_eq!(
            up_line(&stack("prod", "p")),
            "prod stack `p` is up (docker/docker-compose.yml + docker/docker-compose.prod.yml)"
        );
    }

    #[test]
    fn verdict_names_each_failed_service_or_says_it_did_not_come_up() {
        let ps = |lines: &str| status::parse_ps(lines).unwrap();
        let failed = |service: &str, container: &str, error: &str| Failed {
            service: service.into(),
            container: container.into(),
            error: error.into(),
        };
        let cases = [
            (
                r#"{"Name":"p-redis-1","Service":"redis","State":"running","Health":"healthy","ExitCode":0}
{"Name":"p-timmy-1","Service":"timmy","State":"exited","Health":"","ExitCode":3}"#,
                Verdict::Failed(vec![failed(
                    "timmy",
                    "p-timmy-1",
                    "service `timmy` exited with exit code 3",
                )]),
            ),
            (
                r#"{"Name":"p-loop-1","Service":"loop","State":"restarting","ExitCode":0,"Status":"Restarting (2) 1 second ago"}
{"Name":"p-sick-1","Service":"sick","State":"running","Health":"unhealthy","ExitCode":0}
{"Name":"p-init-1","Service":"init","State":"exited","ExitCode":0}"#,
                Verdict::Failed(vec![
                    failed(
                        "loop",
                        "p-loop-1",
                        "service `loop` keeps crashing and restarting, last exit code 2",
                    ),
                    failed("sick", "p-sick-1", "service `sick` is unhealthy"),
                ]),
            ),
            (
                r#"{"Name":"p-redis-1","Service":"redis","State":"running","Health":"starting","ExitCode":0}"#,
                Verdict::NotUp("`p` did not come up (see docker's message above)".into()),
            ),
            (
                "",
                Verdict::NotUp("`p` did not come up (see docker's message above)".into()),
            ),
        ];
        for (lines, expected) in cases {
            assert_eq!(verdict("p", &ps(lines)), expected, "{lines}");
        }
    }

    #[test]
    fn interrupted_says_what_still_runs() {
        let ps = |lines: &str| status::parse_ps(lines).unwrap();
        assert_eq!(
            interrupted("p", &ps("")),
            "interrupted; nothing of `p` is running"
        );
        assert_eq!(
            interrupted(
                "p",
                &ps(r#"{"Service":"timmy","State":"created"}
{"Service":"redis","State":"running"}"#)
            ),
            "interrupted; still running in `p`: redis (timmy down stops them)"
        );
    }

    #[test]
    fn uptime_words_read_as_their_least_seconds() {
        for (words, secs) in [
            ("Less than a second", Some(0)),
            ("1 second", Some(1)),
            ("42 seconds", Some(42)),
            ("About a minute", Some(60)),
            ("3 minutes", Some(180)),
            ("About an hour", Some(3600)),
            ("2 hours", Some(7200)),
            ("4 days", Some(345_600)),
            ("soon", None),
            ("3 fortnights", None),
        ] {
            assert_eq!(uptime_secs(words), secs, "{words}");
        }
    }

    fn svc(service: &str, state: &str, health: &str, status: &str) -> Service {
        Service {
            service: service.into(),
            name: format!("p-{service}-1"),
            state: State::parse(state),
            health: Health::parse(health),
            exit_code: i64::from(state == "exited"),
            ports: Vec::new(),
            image: String::new(),
            status: status.into(),
        }
    }

    #[test]
    fn only_services_compose_left_running_unhealthy_are_waited_for() {
        let redis = svc("redis", "running", "healthy", "Up 6 seconds (healthy)");
        let old_sick = svc("timmy", "running", "unhealthy", "Up 2 minutes (unhealthy)");
        let new_sick = svc("timmy", "running", "unhealthy", "Up 9 seconds (unhealthy)");
        let crashed = svc("worker", "exited", "", "Exited (1) 2 seconds ago");
        assert_eq!(recovering(&[redis.clone(), old_sick.clone()], 8), ["timmy"]);
        assert!(recovering(&[redis.clone(), new_sick], 12).is_empty());
        assert!(recovering(&[redis.clone(), old_sick, crashed], 8).is_empty());
        assert!(recovering(&[redis], 8).is_empty());
    }
}
