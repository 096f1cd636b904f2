//! timmy: runs the Timmy service stack on Docker Compose v2.
//!
//! `argv → Cli (clap) → plan (Stack, Invocation values) → docker → exit code`; the layers and
//! the path of one command through them are in `docs/ARCHITECTURE.md`. Modules:
//! - arguments: [`cli`] (clap, no I/O), [`man`];
//! - commands: [`commands`] (the dispatcher and one file per command or family, all taking
//!   one [`commands::Ctx`]; `timmy run` is [`commands::run`]), [`doctor`] (probes, then pure
//!   checks), [`overview`] (bare `timmy`);
//! - what to run: [`project`] and [`stack`] (root, environments, files, project name);
//! - is it right: [`validate`] over [`dotenv`], [`check`], [`requirements`] (which env needs
//!   which key), [`types`] (what `.env` values must be), [`secrets`], [`yaml`], [`schema`]
//!   (Compose's own verdict, located) and [`compose_dialect`];
//! - docker: [`compose`] (pure argv builders), [`preflight`] (is Docker usable, no process),
//!   [`docker`] (the one runner, [`docker::Outcome`]), [`engine`] (what runs, asked over the
//!   socket or the CLI), [`engine_api`] (read-only questions over the socket), [`status`]
//!   (docker's output parsed), [`checkout`] (which stacks are this
//!   checkout's), [`lock`] (one timmy changes a stack at a time), [`ports`] (host ports
//!   before `up`), [`noop`] (when `up` may skip Compose: the facts and the pure decision);
//! - Swarm: [`swarm`] (the compose configuration translated into a stack file, pure);
//! - output: [`ui`] (styling and the one stdout writer), [`exit`] (exit codes).

pub mod check;
pub mod checkout;
pub mod cli;
pub mod commands;
pub mod compose;
pub mod compose_dialect;
pub mod docker;
pub mod doctor;
pub mod dotenv;
pub mod engine;
pub mod engine_api;
pub mod exit;
pub mod lock;
pub mod man;
pub mod noop;
pub mod overview;
pub mod ports;
pub mod preflight;
pub mod project;
pub mod requirements;
pub mod schema;
pub mod secrets;
pub mod stack;
pub mod status;
pub mod swarm;
pub mod types;
pub mod ui;
pub mod validate;
pub mod yaml;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use crate::exit::{Exit, UserError};

/// Parse `args`, run the command, print any error, and return the exit code.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    // `COMPLETE=bash timmy` prints the shell's registration, and the shell then calls timmy
    // back with COMPLETE set for each completion (environment and service names included).
    // Without COMPLETE this is one environment lookup.
    clap_complete::CompleteEnv::with_factory(<cli::Cli as clap::CommandFactory>::command)
        .complete();
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            if let Some(user) = empty_project_dir(&e) {
                ui::error(&user.message);
                if let Some(hint) = &user.hint {
                    ui::hint(hint);
                }
                return ExitCode::from(exit::USAGE);
            }
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    ui::init_colors(cli.global.color);
    let result = commands::Ctx::new(cli.global).and_then(|ctx| match cli.command {
        Some(command) => ctx.run(command),
        None => ctx.overview(),
    });
    let code = match result {
        Ok(()) => commands::pending_signal().map_or(exit::OK, Exit::code),
        Err(e) => report(&e),
    };
    ExitCode::from(code)
}

/// clap takes an empty `TIMMY_PROJECT_DIR` for `--project-dir` given without a value and says
/// so, naming a flag the user did not type: say which variable is empty instead.
fn empty_project_dir(e: &clap::Error) -> Option<UserError> {
    use clap::error::{ContextKind, ContextValue};
    let named = matches!(
        e.get(ContextKind::InvalidArg),
        Some(ContextValue::String(arg)) if arg.starts_with("--project-dir")
    );
    let empty = std::env::var_os("TIMMY_PROJECT_DIR").is_some_and(|v| v.is_empty());
    (named && empty && e.kind() == clap::error::ErrorKind::InvalidValue).then(|| {
        UserError::new("TIMMY_PROJECT_DIR is set but empty").hint(
            "unset TIMMY_PROJECT_DIR to find the project from the current directory, or set it to the project root",
        )
    })
}

fn report(e: &anyhow::Error) -> u8 {
    if let Some(exit) = e.downcast_ref::<Exit>() {
        return exit.code();
    }
    if let Some(user) = e.downcast_ref::<UserError>() {
        ui::error(&user.message);
        if let Some(hint) = &user.hint {
            ui::hint(hint);
        }
        return exit::FAILURE;
    }
    ui::error(&format!("{e:#}"));
    exit::FAILURE
}
