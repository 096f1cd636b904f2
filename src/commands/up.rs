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
use crate::status::{self, Service, State};
use crate::ui;
use crate::validate;

/// Lines of each failing service's log shown when `up` fails.
const FAILURE_LOG_LINES: u32 = 20;
/// More `ps` looks, 250 ms apart, when `up` failed but no service looks failed yet.
const FAILURE_LOOKS: usize = 4;

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
            Ok(Outcome::Ran(code)) => code,
            Ok(Outcome::DryRun) => return Ok(()),
            Err(e) => return Err(Self::after_interrupt(&docker, &stack.root, &stack.name, e)),
        };
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
                .filter(|s| s.state == State::Running)
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
