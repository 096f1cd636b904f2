//! The I/O half of validation: read `.env`, `.env.example` and the stack's compose files from
//! disk, hand their text to [`crate::check`], and print the findings. `up`, `build`, `run` and
//! `test` call [`gate`] before anything starts.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use crate::check::{self, Finding, Level};
use crate::dotenv;
use crate::exit::{Exit, UserError};
use crate::stack::Stack;
use crate::ui;

mod compose_verdict;

pub use compose_verdict::{compose_findings, compose_gate};

/// `.env` as read from disk: text (None when missing) and permission bits.
pub struct EnvFile {
    pub text: Option<String>,
    pub mode: Option<u32>,
}

/// Read a text file that may be absent; every other problem is a user error naming the file.
/// Only a regular file (after following symlinks) is read: a named pipe would block until
/// something writes to it, a device may never end.
fn read_optional(path: &Path, shown: &str) -> Result<Option<(String, u32)>, UserError> {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return match fs::read_link(path) {
                Ok(target) => Err(dangling_link(shown, &target)),
                Err(_) => Ok(None),
            };
        }
        Err(e) => return Err(UserError::new(format!("cannot read {shown}: {e}"))),
    };
    if !meta.is_file() {
        return Err(not_a_regular_file(shown, meta.file_type()));
    }
    let bytes = fs::read(path).map_err(|e| {
        UserError::new(format!("cannot read {shown}: {e}"))
            .hint(format!("check the permissions of {shown} (ls -l {shown})"))
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.split(|b| *b == b'\n').count();
        UserError::new(format!("{shown}:{line}: not valid UTF-8"))
            .hint("save the file as UTF-8 (Compose reads it as UTF-8 too)")
    })?;
    Ok(Some((text, meta.permissions().mode() & 0o777)))
}

/// A symlink whose target does not exist: `cp` would refuse to write through it, so the hint
/// says to create the target or replace the link.
fn dangling_link(shown: &str, target: &Path) -> UserError {
    let target = target.display();
    let replace = if shown == ".env" {
        "rm .env && cp .env.example .env".to_owned()
    } else {
        format!("rm {shown}, then create it")
    };
    UserError::new(format!(
        "{shown} is a symbolic link to {target}, which does not exist"
    ))
    .hint(format!("create {target}, or replace the link: {replace}"))
}

fn not_a_regular_file(shown: &str, kind: fs::FileType) -> UserError {
    if kind.is_dir() {
        let hint = match shown {
            ".env" => "remove it and create .env from .env.example".to_owned(),
            ".env.example" => "remove the directory; .env.example should be a file listing the variables .env needs".to_owned(),
            _ => format!("remove the directory; {shown} must be a file"),
        };
        return UserError::new(format!("{shown} is a directory, not a file")).hint(hint);
    }
    let what = if kind.is_fifo() {
        "a named pipe"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "not a file"
    };
    let hint = match shown {
        ".env" => {
            "timmy and Compose each read .env; write its values to a regular file (chmod 600 .env)"
                .to_owned()
        }
        _ => format!("timmy reads {shown} before Compose does; make it a regular file"),
    };
    UserError::new(format!("{shown} is {what}, not a regular file")).hint(hint)
}

pub fn read_env_file(root: &Path) -> Result<EnvFile, UserError> {
    Ok(match read_optional(&root.join(".env"), ".env")? {
        Some((text, mode)) => EnvFile {
            text: Some(text),
            mode: Some(mode),
        },
        None => EnvFile {
            text: None,
            mode: None,
        },
    })
}

/// The calling shell's variable `name` (as `std::env::var`: none unless valid UTF-8). timmy
/// never changes its own environment, so it is read once, sorted, and looked up by binary
/// search: `check` asks for every key of `.env`, and `getenv` scans the whole environment.
pub fn shell_lookup(name: &str) -> Option<String> {
    static SHELL: std::sync::LazyLock<Vec<(String, String)>> = std::sync::LazyLock::new(|| {
        let mut vars: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        // The first of a repeated name wins, as in getenv.
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        vars.dedup_by(|later, first| later.0 == first.0);
        vars
    });
    SHELL
        .binary_search_by(|(k, _)| k.as_str().cmp(name))
        .ok()
        .map(|at| SHELL[at].1.clone())
}

/// Every finding for `stack`, errors first.
pub fn findings(stack: &Stack) -> Result<Vec<Finding>, UserError> {
    Judge::new(&stack.root)?.findings(stack)
}

/// `.env` and `.env.example` of one project read once, and what [`check::Shared`] works out
/// from them alone, to judge several of its environments (a bare `timmy check`).
pub struct Judge {
    env: EnvFile,
    example: Option<String>,
    shared: Option<check::Shared>,
}

impl Judge {
    pub fn new(root: &Path) -> Result<Self, UserError> {
        Ok(Self {
            env: read_env_file(root)?,
            example: read_optional(&root.join(".env.example"), ".env.example")?.map(|(t, _)| t),
            shared: None,
        })
    }

    /// This judge with what `.env` alone gives worked out ([`check::Shared`]), before any
    /// stack is known: nothing of it depends on the compose files.
    #[must_use]
    pub fn prepared(mut self) -> Self {
        let input = check::Input {
            env_file: ".env",
            env_text: self.env.text.as_deref(),
            env_mode: self.env.mode,
            example_text: self.example.as_deref(),
            compose_files: &[],
            other_compose_files: &[],
            shell: &shell_lookup,
            docker_dir_env_exists: false,
            stack_env: None,
        };
        self.shared = Some(check::Shared::new(&input));
        self
    }

    /// Every finding for `stack` (of the project this judge read), errors first.
    pub fn findings(&mut self, stack: &Stack) -> Result<Vec<Finding>, UserError> {
        let compose_files = read_compose_files(stack)?;
        let other_compose_files = other_env_files(stack);
        let input = check::Input {
            env_file: ".env",
            env_text: self.env.text.as_deref(),
            env_mode: self.env.mode,
            example_text: self.example.as_deref(),
            compose_files: &compose_files,
            other_compose_files: &other_compose_files,
            shell: &shell_lookup,
            docker_dir_env_exists: stack.root.join("docker/.env").exists(),
            stack_env: Some(&stack.env),
        };
        let shared = self
            .shared
            .get_or_insert_with(|| check::Shared::new(&input));
        let mut found = check::check_with(&input, Some(shared));
        if let Some(f) = folder_name_finding(stack) {
            found.push(f);
            found.sort_by(|a, b| {
                (a.level, &a.file, a.line.unwrap_or(0)).cmp(&(
                    b.level,
                    &b.file,
                    b.line.unwrap_or(0),
                ))
            });
        }
        Ok(found)
    }
}

/// A folder whose name Compose cannot use as it is, when the project name comes from it: `ÜÜÜ`
/// normalises to nothing (timmy then uses `timmy`), `my pröject` to `myprject`. Another
/// checkout's stack could answer to such a name.
fn folder_name_finding(stack: &Stack) -> Option<Finding> {
    let folder = stack.root.file_name()?.to_string_lossy().into_owned();
    let base = crate::stack::project_name(&stack.root, "prod", None).ok()?;
    let from_folder = stack.name == base || stack.name.starts_with(&format!("{base}-"));
    let dropped: String = folder
        .chars()
        .filter(|c| c.is_alphanumeric() && !c.is_ascii())
        .collect();
    if !from_folder || dropped.is_empty() {
        return None;
    }
    let kept_any = folder.chars().any(|c| c.is_ascii_alphanumeric());
    let message = if kept_any {
        format!(
            "the folder name `{folder}` has letters Compose drops ({dropped}): the project name is `{base}`"
        )
    } else {
        format!(
            "the folder name `{folder}` has no letter or digit Compose accepts: the project name is `{base}`"
        )
    };
    Some(Finding {
        file: "project folder".to_owned(),
        line: None,
        level: Level::Warning,
        message,
        hint: Some(
            "choose the name with -p NAME (or TIMMY_PROJECT_NAME), or rename the folder".to_owned(),
        ),
        key: None,
    })
}

/// (display name, text) of the project's environment files that `stack` does not use; those
/// that cannot be read are left out (they only add types).
fn other_env_files(stack: &Stack) -> Vec<(String, String)> {
    let Ok(project) = crate::project::Project::locate(Some(&stack.root), &stack.root) else {
        return Vec::new();
    };
    project
        .envs
        .iter()
        .map(|env| project.env_file(env))
        .filter(|file| !stack.files.contains(file))
        .filter_map(|file| {
            let shown = file
                .strip_prefix(&stack.root)
                .ok()?
                .to_string_lossy()
                .into_owned();
            let (text, _) = read_optional(&file, &shown).ok()??;
            Some((shown, text))
        })
        .collect()
}

/// (display name, text) of each compose file of `stack`.
fn read_compose_files(stack: &Stack) -> Result<Vec<(String, String)>, UserError> {
    let mut compose_files = Vec::new();
    for (file, shown) in stack.files.iter().zip(stack.relative_files()) {
        let text = read_optional(file, &shown)?
            .ok_or_else(|| UserError::new(format!("{shown} is missing")))?
            .0;
        compose_files.push((shown, text));
    }
    Ok(compose_files)
}

/// Print findings; `Err(Exit::Failure)` when one is an error (or a warning under `strict`).
/// `refused` says what that stopped (`nothing was started`); `check`, which starts nothing
/// anyway, passes `None`.
pub fn report(findings: &[Finding], strict: bool, refused: Option<&str>) -> Result<(), Exit> {
    for f in findings {
        match f.level {
            Level::Error => ui::error(&f.to_string()),
            Level::Warning => ui::warning(&f.to_string()),
        }
        if let Some(hint) = &f.hint {
            ui::hint(hint);
        }
    }
    let errors = findings
        .iter()
        .filter(|f| matches!(f.level, Level::Error))
        .count();
    let warnings = findings.len() - errors;
    if errors > 0 || (strict && warnings > 0) {
        let what = if errors > 0 {
            plural(errors, "error")
        } else {
            plural(warnings, "warning")
        };
        ui::error(&format!(
            "{what} in the configuration{}{}",
            refused.map(|r| format!("; {r}")).unwrap_or_default(),
            if errors == 0 { " (--strict)" } else { "" }
        ));
        return Err(Exit::Failure);
    }
    Ok(())
}

/// `2 errors, 6 warnings: CLICKUP_API_TOKEN, GITHUB_TOKEN` — the counts and the keys the
/// errors name, for a one-line verdict.
pub fn verdict(findings: &[Finding]) -> String {
    let errors: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.level == Level::Error)
        .collect();
    let warnings = findings.len() - errors.len();
    let mut counts = Vec::new();
    if !errors.is_empty() {
        counts.push(plural(errors.len(), "error"));
    }
    if warnings > 0 {
        counts.push(plural(warnings, "warning"));
    }
    if counts.is_empty() {
        return ".env is valid".to_owned();
    }
    let mut keys: Vec<&str> = errors.iter().filter_map(|f| f.key.as_deref()).collect();
    keys.dedup();
    if keys.is_empty() {
        counts.join(", ")
    } else {
        format!("{}: {}", counts.join(", "), keys.join(", "))
    }
}

pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Validate and stop before anything runs when there is an error.
pub fn gate(stack: &Stack, strict: bool) -> anyhow::Result<()> {
    let found = findings(stack)?;
    report(&found, strict, Some("nothing was started"))?;
    Ok(())
}

/// `.env` as Compose reads it (last duplicate wins), with the shell environment first.
pub fn resolved_env(root: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let env = read_env_file(root)?;
    let Some(text) = env.text else {
        return Err(UserError::new(".env is missing")
            .hint("create it: cp .env.example .env, then fill in the values")
            .into());
    };
    let entries = dotenv::parse(&text, &shell_lookup).map_err(|e| {
        // Compose's own wording may quote part of a value: print the safe form only.
        UserError::new(format!(".env:{}: {}", e.line, e.safe_message())).hint(e.safe_hint())
    })?;
    Ok(dotenv::resolve(&entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_lookup_reads_the_environment_as_std_env_var() {
        let mut names: Vec<String> = std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .collect();
        assert!(names.iter().any(|n| n == "PATH"), "{names:?}");
        names.extend(["", "TIMMY_NOT_SET_ANYWHERE", "PATH=", "A\u{0}B"].map(String::from));
        for name in names {
            assert_eq!(shell_lookup(&name), std::env::var(&name).ok(), "{name:?}");
        }
    }

    fn finding(level: Level, message: &str, key: Option<&str>) -> Finding {
        Finding {
            file: ".env".to_owned(),
            line: Some(1),
            level,
            message: message.to_owned(),
            hint: None,
            key: key.map(str::to_owned),
        }
    }

    #[test]
    fn verdict_names_the_keys_errors_carry_never_words_of_their_messages() {
        let found = [
            finding(
                Level::Error,
                "GITHUB_TOKEN is missing (required by .env.example)",
                Some("GITHUB_TOKEN"),
            ),
            finding(
                Level::Error,
                "the value of NAME contains a control character (U+0000)",
                Some("NAME"),
            ),
            finding(Level::Error, "NOT_A_KEY reads like one", None),
            finding(Level::Warning, "LOG_LEVEL is unusual", Some("LOG_LEVEL")),
        ];
        assert_eq!(verdict(&found), "3 errors, 1 warning: GITHUB_TOKEN, NAME");
        assert_eq!(verdict(&found[2..3]), "1 error");
        assert_eq!(verdict(&[]), ".env is valid");
    }
}
