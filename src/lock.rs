//! One timmy at a time changes a stack. `up`, `down`, `build` and `test` hold an exclusive lock
//! on `<root>/.timmy/<project name>.lock` while they change it; a second one refuses at once
//! with the first one's pid instead of half-starting the same containers. The lock is per
//! project name, so `timmy test` (`<name>-test`) never waits for the dev stack, and it covers
//! changing a stack only: `up` releases it before it follows the logs. The OS releases the lock
//! when the process ends, however it ends, so a crash never leaves a stale lock behind. The
//! docker processes started while it is held inherit it: when timmy is killed (`kill -9`), the
//! `docker compose up` it started goes on changing the stack, and holds the lock until it ends.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::exit::UserError;

/// The lock file of project `name`, relative to the root.
pub fn lock_file(name: &str) -> String {
    format!(".timmy/{name}.lock")
}

/// Held for as long as the value lives.
#[derive(Debug)]
pub struct ProjectLock {
    _file: File,
}

pub fn acquire(root: &Path, name: &str, what: &str) -> Result<ProjectLock, UserError> {
    let path = root.join(lock_file(name));
    let cannot = |e: &dyn std::fmt::Display| {
        UserError::new(format!(
            "cannot create the lock file {}: {e}",
            path.display()
        ))
        .hint("timmy needs to write .timmy/ in the project root")
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| cannot(&e))?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| cannot(&e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() {
                "another timmy".to_string()
            } else {
                format!("another timmy ({holder})")
            };
            return Err(UserError::new(format!(
                "{who} is already changing the stack `{name}`; not starting `{what}`"
            ))
            .hint("wait for it to finish (or stop it), then run the command again"));
        }
        Err(TryLockError::Error(e)) => return Err(cannot(&e)),
    }
    // Inherited by the docker children (no close-on-exec): they hold it while they run.
    let _ = rustix::io::fcntl_setfd(&file, rustix::io::FdFlags::empty());
    let _ = file.set_len(0);
    let _ = file.seek(SeekFrom::Start(0));
    let _ = write!(file, "pid {}, timmy {what}", std::process::id());
    let _ = file.flush();
    Ok(ProjectLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_first_ones_pid() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path(), "app-dev", "up").unwrap();
        let err = acquire(dir.path(), "app-dev", "down").unwrap_err();
        assert_eq!(
            err.message,
            format!(
                "another timmy (pid {}, timmy up) is already changing the stack `app-dev`; not starting `down`",
                std::process::id()
            )
        );
        assert_eq!(
            err.hint.as_deref(),
            Some("wait for it to finish (or stop it), then run the command again")
        );
        drop(first);
        assert!(acquire(dir.path(), "app-dev", "down").is_ok());
    }

    /// Measured before: after `kill -9` of timmy during `up`, its `docker compose up` went on
    /// and a second `timmy up` took the lock at once and ran beside it.
    #[test]
    fn a_child_started_while_the_lock_is_held_keeps_it_until_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let lock = acquire(dir.path(), "app", "up").unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("1")
            .spawn()
            .unwrap();
        drop(lock);
        let err = acquire(dir.path(), "app", "up").unwrap_err();
        assert!(
            err.message.starts_with("another timmy (pid "),
            "{}",
            err.message
        );
        child.wait().unwrap();
        assert!(acquire(dir.path(), "app", "up").is_ok());
    }

    #[test]
    fn each_project_name_has_its_own_lock() {
        let dir = tempfile::tempdir().unwrap();
        let _dev = acquire(dir.path(), "app-dev", "up").unwrap();
        let _test = acquire(dir.path(), "app-test", "test").unwrap();
        let _prod = acquire(dir.path(), "app", "up").unwrap();
        assert!(dir.path().join(".timmy/app-dev.lock").is_file());
        assert!(dir.path().join(".timmy/app-test.lock").is_file());
        assert!(acquire(dir.path(), "app-test", "down").is_err());
    }
}
