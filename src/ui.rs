//! Everything the user reads, styled in one place with `console`: `error:`, `warning:`, `hint:`
//! prefixes on stderr, aligned tables on stdout. Colours follow `--color`, `NO_COLOR`,
//! `CLICOLOR(_FORCE)` and whether the stream is a terminal.

use console::{Style, style};

use crate::cli::ColorChoice;

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

/// Colour a health or state word for a table cell on stdout.
pub fn state_word(word: &str) -> String {
    let s = match word {
        "healthy" | "running" | "exited (0)" => style(word).green(),
        w if w == "unhealthy" || w.starts_with("exited") || w == "dead" || w == "restarting" => {
            style(word).red()
        }
        "starting" | "created" | "paused" => style(word).yellow(),
        _ => style(word),
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

/// Write to stdout; a reader that went away (`timmy man | head`) is not an error.
pub fn out(text: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// A health word for a table cell, with a coloured dot when colours are on (a dot without
/// colour says nothing, so plain output keeps the bare word).
pub fn health_word(word: &str) -> String {
    if console::colors_enabled() {
        format!("{} {}", dot(word), state_word(word))
    } else {
        word.to_string()
    }
}

fn dot(word: &str) -> String {
    let s = match word {
        "healthy" => style("\u{25cf}").green(),
        "unhealthy" => style("\u{25cf}").red(),
        _ => style("\u{25cf}").yellow(),
    };
    s.to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
