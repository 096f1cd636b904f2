//! `timmy doctor`: one screen that says whether this machine can run the stack, each check with
//! ✓ / ! / ✗ and a one-line fix. The command is three steps: [`probe::gather`] looks (every
//! process and socket call, into one [`Facts`] value), [`checks::judge`] decides the rows (pure),
//! and [`render`] lays them out for [`ui::out`] (or `--json` prints the rows' fields). Any ✗
//! makes the exit code 1.

mod checks;
mod machine;
mod probe;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use anyhow::Result;

pub use checks::{Check, Status, judge};
pub use machine::compose_version;
pub use probe::{Facts, gather};

use crate::cli::DoctorArgs;
use crate::commands::Ctx;
use crate::exit::Exit;
use crate::ui;
use crate::validate;

pub fn run(ctx: &Ctx, a: &DoctorArgs) -> Result<()> {
    let (global, cwd, env) = (&ctx.global, ctx.cwd.as_path(), &ctx.env);
    let checks = judge(&gather(global, cwd, env));
    let text = if a.json {
        serde_json::to_string_pretty(&checks)? + "\n"
    } else {
        render(&checks)
    };
    ui::out(text.as_bytes())?;
    if checks.iter().any(|c| c.status == Status::Fail) {
        return Err(Exit::Failure.into());
    }
    Ok(())
}

/// The checklist: `mark label  detail`, the fix indented below each check that is not ok, and
/// a closing count.
pub fn render(checks: &[Check]) -> String {
    let width = checks
        .iter()
        .map(|c| c.label.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for c in checks {
        let mark = ui::mark(match c.status {
            Status::Ok => ui::Mark::Ok,
            Status::Warn => ui::Mark::Warn,
            Status::Fail => ui::Mark::Fail,
        });
        let _ = writeln!(out, "{mark} {:<width$}  {}", c.label, c.detail);
        if let (Some(fix), false) = (&c.fix, c.status == Status::Ok) {
            let pad = " ".repeat(width + 4);
            let _ = writeln!(out, "{pad}{}", ui::dim(&format!("fix: {fix}")));
        }
    }
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    let (failed, warned) = (count(Status::Fail), count(Status::Warn));
    out.push('\n');
    let _ = match (failed, warned) {
        (0, 0) => writeln!(out, "all checks passed"),
        (0, w) => writeln!(out, "no failures, {}", validate::plural(w, "warning")),
        (f, w) => writeln!(
            out,
            "{} failed, {}",
            validate::plural(f, "check"),
            validate::plural(w, "warning")
        ),
    };
    out
}
