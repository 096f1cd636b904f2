//! The pure half of `timmy doctor`: [`judge`] turns the [`Facts`] the probe gathered into the
//! rows of the report, each a [`Check`] with ✓ / ! / ✗ and a one-line fix, in the order they are
//! shown. Nothing here starts a process, opens a socket or reads a file, so every verdict is
//! table-tested (`tests.rs`). This file holds the rows about the project (project, `.env`, its
//! mode, ports); [`super::machine`] those about Docker and the machine.

use std::fmt::Write as _;

use serde::Serialize;

use super::machine;
use super::probe::{Bind, EnvFile, EnvMode, Facts, PortSetting};
use crate::check::Level;
use crate::exit::UserError;
use crate::project::Project;
use crate::status::Service;
use crate::types;
use crate::validate;

/// Every row, in the order they are shown.
pub fn judge(facts: &Facts) -> Vec<Check> {
    let mut checks = vec![
        machine::docker_cli_check(facts.docker.as_deref(), facts.versions.as_ref()),
        machine::compose_check(
            facts.plugin.as_deref(),
            facts.docker.is_ok(),
            facts.compose_version.as_ref(),
        ),
        machine::daemon_check(
            &facts.env,
            facts.socket.as_deref(),
            facts.socket_probe.as_ref(),
            facts.versions.as_ref(),
        ),
        project_check(&facts.project),
        env_check(&facts.env_file),
        env_mode_check(facts.env_mode),
        machine::disk_space_check(facts.disk.as_ref()),
    ];
    for port in &facts.ports {
        checks.push(match &facts.remote_engine {
            Some(endpoint) if port.setting.port.is_some_and(|p| p != 0) => {
                remote_port_check(port.id, port.var, &port.setting, endpoint)
            }
            _ => port_check(port.id, port.var, &port.setting, port.bound, &facts.holders),
        });
    }
    checks.push(machine::clock_check(
        facts.engine_answers(),
        facts.daemon_time.as_deref(),
        facts.local_time,
    ));
    checks
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

/// One line of the report. `check` is a stable id; `--json` prints these fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub check: &'static str,
    #[serde(skip)]
    pub label: String,
    pub status: Status,
    pub detail: String,
    pub fix: Option<String>,
}

impl Check {
    pub(super) fn new(
        check: &'static str,
        label: &str,
        status: Status,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            check,
            label: label.to_string(),
            status,
            detail: detail.into(),
            fix: None,
        }
    }

    #[must_use]
    pub(super) fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

pub(super) fn user_fail(id: &'static str, label: &str, e: &UserError) -> Check {
    let check = Check::new(id, label, Status::Fail, e.message.clone());
    match &e.hint {
        Some(hint) => check.fix(hint.clone()),
        None => check,
    }
}

pub(super) fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

pub fn project_check(project: &Result<Project, UserError>) -> Check {
    match project {
        Err(e) => user_fail("project", "project", e),
        Ok(p) if p.envs.iter().any(|e| e == "dev") => Check::new(
            "project",
            "project",
            Status::Ok,
            format!("{} (environments: {})", p.root.display(), p.envs.join(", ")),
        ),
        Ok(p) => Check::new(
            "project",
            "project",
            Status::Warn,
            format!(
                "{} has no dev environment (environments: {})",
                p.root.display(),
                if p.envs.is_empty() {
                    "none".into()
                } else {
                    p.envs.join(", ")
                }
            ),
        )
        .fix("add docker/docker-compose.dev.yml, or name the environment: timmy up ENV"),
    }
}

/// The `.env` row: what `timmy check` found for the dev stack (Compose's own verdict included
/// when it was asked).
pub fn env_check(env_file: &EnvFile) -> Check {
    const ID: &str = "env-file";
    const LABEL: &str = ".env";
    match env_file {
        EnvFile::NoProject => Check::new(ID, LABEL, Status::Warn, "not checked: no project")
            .fix("see `project` above"),
        EnvFile::NoDev => Check::new(ID, LABEL, Status::Warn, "not checked: no dev environment")
            .fix("timmy check ENV checks .env for another environment"),
        EnvFile::Checked(Err(e)) => user_fail(ID, LABEL, e),
        EnvFile::Checked(Ok(found)) => {
            let errors: Vec<_> = found.iter().filter(|f| f.level == Level::Error).collect();
            let warnings = found.len() - errors.len();
            env_summary(
                errors.len(),
                warnings,
                errors.first().map(ToString::to_string),
            )
        }
    }
}

/// The `.env` line from the counts of `timmy check` (findings never hold a value).
pub fn env_summary(errors: usize, warnings: usize, first_error: Option<String>) -> Check {
    const ID: &str = "env-file";
    const LABEL: &str = ".env";
    match (errors, warnings) {
        (0, 0) => Check::new(ID, LABEL, Status::Ok, "valid for the dev stack"),
        (0, w) => Check::new(
            ID,
            LABEL,
            Status::Warn,
            format!(
                "usable for the dev stack, {}",
                validate::plural(w, "warning")
            ),
        )
        .fix("timmy check lists them, each with its line and a hint"),
        (e, w) => {
            let mut detail = validate::plural(e, "error");
            if w > 0 {
                let _ = write!(detail, ", {}", validate::plural(w, "warning"));
            }
            if let Some(first) = first_error {
                let _ = write!(detail, " for the dev stack, first {first}");
            }
            Check::new(ID, LABEL, Status::Fail, detail)
                .fix("timmy check lists them, each with its line and a hint")
        }
    }
}

pub fn env_mode_check(mode: EnvMode) -> Check {
    match mode {
        EnvMode::NoProject => Check::new(
            "env-permissions",
            ".env mode",
            Status::Warn,
            "not checked: no project",
        )
        .fix("see `project` above"),
        EnvMode::NoFile => Check::new(
            "env-permissions",
            ".env mode",
            Status::Warn,
            "not checked: no .env",
        )
        .fix("cp .env.example .env && chmod 600 .env"),
        EnvMode::Mode(mode) => env_mode(mode),
    }
}

pub fn env_mode(mode: u32) -> Check {
    const ID: &str = "env-permissions";
    const LABEL: &str = ".env mode";
    if mode & 0o002 != 0 {
        Check::new(
            ID,
            LABEL,
            Status::Fail,
            format!("{mode:03o}: every user on this machine can change it"),
        )
        .fix("chmod 600 .env")
    } else if mode & 0o077 != 0 {
        Check::new(
            ID,
            LABEL,
            Status::Warn,
            format!("{mode:03o}: other users can read its secrets"),
        )
        .fix("chmod 600 .env")
    } else {
        Check::new(
            ID,
            LABEL,
            Status::Ok,
            format!("{mode:03o}: only its owner can read it"),
        )
    }
}

/// `TIMMY_PORT` and `TIMMY_DEBUG_PORT` are published host ports: 0 lets Docker pick one.
pub(super) const HOST_PORT: types::Kind = types::Kind::Port {
    zero_picks_free: true,
};

/// The service of the project that publishes `port` on the host, if any.
fn holder(services: &[Service], port: u16) -> Option<&Service> {
    let wanted = format!(":{port}->");
    services
        .iter()
        .find(|s| s.ports.iter().any(|p| p.contains(&wanted)))
}

/// A port the remote engine at `endpoint` publishes on its own host: not this machine's to
/// try (as `up` does not).
pub fn remote_port_check(
    id: &'static str,
    var: &str,
    setting: &PortSetting,
    endpoint: &str,
) -> Check {
    Check::new(
        id,
        &format!("port {}", setting.port.unwrap_or_default()),
        Status::Ok,
        format!(
            "not checked: the engine ({endpoint}) publishes it on its own host ({})",
            source_of(var, setting)
        ),
    )
}

/// Where the port's value comes from, as the rows say it.
fn source_of(var: &str, setting: &PortSetting) -> String {
    if setting.source == "default" {
        format!("{var} unset")
    } else {
        format!("{var} from {}", setting.source)
    }
}

pub fn port_check(
    id: &'static str,
    var: &str,
    setting: &PortSetting,
    bound: Option<Bind>,
    services: &[Service],
) -> Check {
    let Some(port) = setting.port else {
        return Check::new(
            id,
            &format!("port {var}"),
            Status::Fail,
            types::requirement(var, HOST_PORT).replacen(
                " must",
                &format!(" from {} must", setting.source),
                1,
            ),
        )
        .fix(format!("set {var} to a number from 1 to 65535 in .env"));
    };
    let label = format!("port {port}");
    let source = source_of(var, setting);
    if port == 0 {
        return Check::new(
            id,
            &label,
            Status::Ok,
            format!("Docker picks a free port on 127.0.0.1 ({source})"),
        );
    }
    match bound.unwrap_or(Bind::Free) {
        Bind::Free => Check::new(
            id,
            &label,
            Status::Ok,
            format!("127.0.0.1:{port} is free ({source})"),
        ),
        Bind::Denied => Check::new(
            id,
            &label,
            Status::Warn,
            format!("127.0.0.1:{port} needs privileges to bind ({source})"),
        )
        .fix(format!("set {var} to a port above 1023 in .env")),
        Bind::InUse => match holder(services, port) {
            Some(s) => Check::new(
                id,
                &label,
                Status::Ok,
                format!(
                    "127.0.0.1:{port} is published by this project's `{}` container ({})",
                    s.service, s.name
                ),
            ),
            None => Check::new(
                id,
                &label,
                Status::Fail,
                format!("127.0.0.1:{port} is taken by another program ({source})"),
            )
            .fix(format!(
                "stop it (lsof -iTCP:{port} -sTCP:LISTEN shows which), or set {var} to a free port in .env"
            )),
        },
    }
}
