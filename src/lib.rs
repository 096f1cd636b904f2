//! timmy: runs the Timmy service stack on Docker Compose v2.
//!
//! `argv → Cli (clap) → plan (Stack, Invocation values) → docker → exit code`. Modules:
//! [`cli`] (arguments), [`project`] and [`stack`] (what to run), [`dotenv`], [`check`],
//! [`requirements`] (which env needs which key), [`secrets`] and [`validate`] (is `.env`
//! right), [`compose`] (argv builders),
//! [`preflight`] (is Docker usable), [`docker`] (the one runner), [`status`] (parsing what
//! runs), [`checkout`] (which stacks are this checkout's), [`app`] (the commands), [`doctor`],
//! [`overview`] (bare `timmy`), [`oneoff`] (`timmy run`) and [`man`], [`ui`] (styling),
//! [`exit`] (exit codes), [`yaml`] (compose files read by a YAML parser), [`schema`]
//! (Compose's own verdict, located) and [`types`] (what `.env` values must be).

pub mod check;
pub mod checkout;
pub mod cli;
pub mod commands;
pub mod compose;
pub mod compose_dialect;
pub mod docker;
pub mod doctor;
pub mod dotenv;
pub mod engine_api;
pub mod exit;
pub mod lock;
pub mod man;
pub mod overview;
pub mod ports;
pub mod preflight;
pub mod project;
pub mod requirements;
pub mod schema;
pub mod secrets;
pub mod stack;
pub mod status;
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
