//! `up`: start a stack and wait for health; when it fails, name each failed service with its
//! last log lines and health-check output; after Ctrl-C, say what is still running.

use std::path::Path;

use anyhow::Result;

use super::{Ctx, plain};
use crate::checkout;
use crate::cli;
use crate::compose;
use crate::docker::{Docker, Outcome};
use crate::exit::Exit;
use crate::stack;
use crate::status::{self, Service};
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
        let base = self.name(&project, stack::PROD)?;
        let under_base = if stack.name == base {
            split.ours.clone()
        } else {
            self.split(&docker, &project, &base)?.ours
        };
        if checkout::is_legacy_dev(&under_base) {
            return Err(checkout::legacy_dev(&base).into());
        }
        if let Some(other) = checkout::other_env(&split.ours, &stack.env) {
            return Err(
                checkout::other_env_under(&stack.name, &other, &stack.env, &command).into(),
            );
        }
        let lock = self.lock(&project.root, &stack.name, "up")?;
        // Ports are bound on the engine's host: this machine's only with a local socket.
        if !docker.dry_run && crate::preflight::daemon_socket(&self.env).is_some() {
            crate::ports::preflight(&docker, &stack)?;
        }
        let started = std::time::Instant::now();
        let code = match docker.run_masked(&compose::up(&stack, a.timeout)) {
            Ok(Outcome::Ran(code)) => code,
            Ok(Outcome::DryRun) => return Ok(()),
            Err(e) => return Err(Self::after_interrupt(&docker, &stack.root, &stack.name, e)),
        };
        if code != 0 && !self.recovered(&docker, &stack.root, &stack.name, started)? {
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
        ui::out(ui::service_table(&services))?;
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
                .any(|s| s.is_failed() && s.health != "unhealthy")
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

    /// Name each exited or unhealthy service, with its last log lines and health-check output.
    pub(super) fn explain_failure(docker: &Docker, root: &Path, name: &str) -> Result<()> {
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

    pub(super) fn health_output(docker: &Docker, root: &Path, container: &str) -> Option<String> {
        let out = docker
            .query(&compose::inspect_health(root, &[container.to_string()]))
            .ok()?;
        status::last_health_check(&out.stdout)
    }
}

/// Running (healthy, or without a health check), or a one-shot that exited 0.
fn is_ready(s: &Service) -> bool {
    match s.state.as_str() {
        "running" => s.health.is_empty() || s.health == "healthy",
        "exited" => s.exit_code == 0,
        _ => false,
    }
}

/// The services a failed `up` may wait for: each failed service is running and unhealthy and
/// has been up longer than the `up` took (`up_secs`), so Compose did not start it; empty when
/// any failure is of another kind or none is there.
fn recovering(services: &[Service], up_secs: u64) -> Vec<String> {
    let failed: Vec<&Service> = services.iter().filter(|s| s.is_failed()).collect();
    let untouched = |s: &&Service| {
        s.state == "running"
            && s.health == "unhealthy"
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
    use super::*;

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
            state: state.into(),
            health: health.into(),
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
