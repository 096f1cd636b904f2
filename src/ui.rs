//! Everything the user reads, styled in one place with `console`: `error:`, `warning:`, `hint:`
//! prefixes on stderr, aligned tables on stdout (the service table of `up` and `ps`, the
//! leftovers after `down`, `config --export`'s shell lines). Every write to stdout goes through
//! [`out`], which ends timmy quietly on a closed pipe. Colours follow `--color`, `NO_COLOR`,
//! `CLICOLOR(_FORCE)` and whether the stream is a terminal.

use std::fmt::Write as _;

use console::{Style, style};

use crate::cli::ColorChoice;
use crate::exit::Exit;
use crate::stack::Stack;
use crate::status::{Container, Health, Service, State};
use crate::validate;

pub fn init_colors(choice: ColorChoice) {
    match choice {
        ColorChoice::Auto => {
            // console already honours NO_COLOR / CLICOLOR and terminal detection per stream.
            if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                console::set_colors_enabled(false);
                console::set_colors_enabled_stderr(false);
            }
        }
        ColorChoice::Always => {
            console::set_colors_enabled(true);
            console::set_colors_enabled_stderr(true);
        }
        ColorChoice::Never => {
            console::set_colors_enabled(false);
            console::set_colors_enabled_stderr(false);
        }
    }
}

fn err_style(s: Style) -> Style {
    s.for_stderr()
}

pub fn error(message: &str) {
    eprintln!(
        "{} {message}",
        err_style(Style::new().red().bold()).apply_to("error:")
    );
}

pub fn warning(message: &str) {
    eprintln!(
        "{} {message}",
        err_style(Style::new().yellow().bold()).apply_to("warning:")
    );
}

pub fn hint(message: &str) {
    eprintln!(
        "  {} {message}",
        err_style(Style::new().cyan()).apply_to("hint:")
    );
}

/// A progress or status line for humans, on stderr so stdout stays data.
pub fn info(message: &str) {
    eprintln!(
        "{} {message}",
        err_style(Style::new().green().bold()).apply_to("timmy:")
    );
}

/// A docker command about to run (`-v`) or that would run (`--dry-run`).
pub fn command_line(prefix: &str, line: &str) {
    eprintln!("{} {line}", err_style(Style::new().dim()).apply_to(prefix));
}

/// A container state for a table cell on stdout, coloured: an exited container with its code
/// (`exited (0)` green, any other code red).
pub fn state_word(state: &State, exit_code: i64) -> String {
    let s = match state {
        State::Exited => {
            let word = format!("exited ({exit_code})");
            if exit_code == 0 {
                style(word).green()
            } else {
                style(word).red()
            }
        }
        State::Running => style(state.to_string()).green(),
        State::Dead | State::Restarting => style(state.to_string()).red(),
        State::Created | State::Paused => style(state.to_string()).yellow(),
        State::Removing | State::Other(_) => style(state.to_string()),
    };
    s.to_string()
}

/// A health word for stdout, coloured (healthy green, unhealthy red, starting yellow).
pub fn health_word(health: &Health) -> String {
    let word = health.as_str().to_string();
    let s = match health {
        Health::Healthy => style(word).green(),
        Health::Unhealthy => style(word).red(),
        Health::Starting => style(word).yellow(),
        Health::None | Health::Other(_) => style(word),
    };
    s.to_string()
}

/// The outcome of one check, as `timmy doctor` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Ok,
    Warn,
    Fail,
}

/// `✓` (green), `!` (yellow) or `✗` (red), for a line on stdout.
pub fn mark(m: Mark) -> String {
    match m {
        Mark::Ok => style("✓").green(),
        Mark::Warn => style("!").yellow().bold(),
        Mark::Fail => style("✗").red().bold(),
    }
    .to_string()
}

/// Dimmed text for a line on stdout (a fix under a check, a comment beside a command).
pub fn dim(text: &str) -> String {
    style(text).dim().to_string()
}

/// Write to stdout: every stdout write of timmy goes through here. A reader that went away
/// (`timmy config | head -1`) is not an error: the command ends quietly there with
/// [`Exit::ClosedPipe`] (exit code 0, see `exit.rs`), never a panic or "Broken pipe".
pub fn out(text: impl AsRef<[u8]>) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_ref())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Exit::ClosedPipe.into()),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to stdout")),
    }
}

/// Docker output relayed to stdout (see `Docker::run_relayed`) is plain text: no escape codes
/// from Compose (`--ansi never`) and no carriage returns from a service with `tty: true`.
/// True when stdout is not a terminal or colours are off.
pub fn plain_output() -> bool {
    use std::io::IsTerminal;
    !std::io::stdout().is_terminal() || !console::colors_enabled()
}

/// Text relayed from docker, made plain: no escape sequences (Compose 2.26 writes `ESC[2K`
/// before every log line even with `--ansi never`, measured) and no carriage returns (a service
/// with `tty: true` ends its lines with `\r\n`; a lone `\r` becomes a line end).
pub fn plain_text(text: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(text);
    let text = console::strip_ansi_codes(&text);
    let mut out = Vec::with_capacity(text.len());
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\r' {
            if bytes.get(i + 1) != Some(&b'\n') {
                out.push(b'\n');
            }
            continue;
        }
        out.push(b);
    }
    out
}

/// A health cell of a table: `-` without a health check, else the word with a coloured dot
/// when colours are on (a dot without colour says nothing, so plain output keeps the bare word).
fn health_cell(health: &Health) -> String {
    if *health == Health::None {
        "-".into()
    } else if console::colors_enabled() {
        let dot = match health {
            Health::Healthy => style("\u{25cf}").green(),
            Health::Unhealthy => style("\u{25cf}").red(),
            _ => style("\u{25cf}").yellow(),
        };
        format!("{dot} {}", health_word(health))
    } else {
        health.as_str().to_string()
    }
}

/// Left-aligned columns separated by two spaces; widths ignore ANSI escapes.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let w = console::measure_text_width(cell);
            if i < widths.len() && w > widths[i] {
                widths[i] = w;
            }
        }
    }
    let mut out = String::new();
    let head: Vec<String> = header.iter().map(|h| (*h).to_string()).collect();
    for row in std::iter::once(&head).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i].saturating_sub(console::measure_text_width(cell)) + 2;
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn report_leftovers(name: &str, left: &[Container]) {
    error(&format!(
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
    hint(&format!("remove them with: docker rm -f {}", ids.join(" ")));
}

/// The service table of `up` and `ps`, with the image each container runs (its env's own,
/// `<project>-timmy:<env>`); the full port form is in `ps --json`.
pub fn service_table(services: &[Service]) -> String {
    let rows: Vec<Vec<String>> = services
        .iter()
        .map(|s| {
            let ports: Vec<&str> = s.ports.iter().map(|p| p.trim_end_matches("/tcp")).collect();
            vec![
                s.service.clone(),
                state_word(&s.state, s.exit_code),
                health_cell(&s.health),
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
    table(
        &["SERVICE", "STATE", "HEALTH", "UPTIME", "PORTS", "IMAGE"],
        &rows,
    )
}

/// Shell lines that point plain `docker compose` at the same stack. Measured on Compose
/// 2.26: it ignores `COMPOSE_PROJECT_DIRECTORY`, so the project directory (and with it the
/// root `.env`) can only be given as a flag; the `dc` alias carries it.
pub fn export_lines(stack: &Stack) -> String {
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

/// `timmy ps` for a stack deployed on a swarm: replicas running (healthy) of those wanted.
pub fn swarm_table(rows: &[crate::swarm::converge::Row]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let replicas = format!("{}/{}", r.running, r.desired);
            let health = match r.health.as_str() {
                "" => "-".to_string(),
                "healthy" => style(&r.health).green().to_string(),
                other => style(other).yellow().to_string(),
            };
            vec![
                r.service.clone(),
                replicas,
                health,
                if r.update.is_empty() {
                    "-".into()
                } else {
                    style(&r.update).yellow().to_string()
                },
                if r.ports.is_empty() {
                    "-".into()
                } else {
                    r.ports.join(", ")
                },
                r.image.clone(),
            ]
        })
        .collect();
    table(
        &["SERVICE", "REPLICAS", "HEALTH", "UPDATE", "PORTS", "IMAGE"],
        &cells,
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn plain_text_has_no_escapes_or_carriage_returns() {
        assert_eq!(plain_text(b"a\r\nb\rc\n\r\n"), b"a\nb\nc\n\n");
        assert_eq!(
            plain_text(b"\x1b[2Ktimmy-1  | \x1b[32mok\x1b[0m\r\n"),
            b"timmy-1  | ok\n"
        );
    }

    #[test]
    fn table_aligns_columns() {
        let t = table(
            &["SERVICE", "STATE"],
            &[
                vec!["redis".into(), "running".into()],
                vec!["timmy-long".into(), "exited".into()],
            ],
        );
        assert_eq!(
            t,
            "SERVICE     STATE\nredis       running\ntimmy-long  exited\n"
        );
    }

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
