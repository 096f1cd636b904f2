//! One timmy at a time changes a project's stack. `up`, `down`, `build` and `test` hold an
//! exclusive lock on `<root>/.timmy/lock` while they run; a second one refuses at once with the
//! first one's pid instead of half-starting the same containers. The OS releases the lock when
//! the process ends, however it ends, so a crash never leaves a stale lock behind.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::exit::UserError;

pub const LOCK_FILE: &str = ".timmy/lock";

/// Held for as long as the value lives.
#[derive(Debug)]
pub struct ProjectLock {
    _file: File,
}

pub fn acquire(root: &Path, what: &str) -> Result<ProjectLock, UserError> {
    let path = root.join(LOCK_FILE);
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
                "{who} is already changing this project's stack; not starting `{what}`"
            ))
            .hint("wait for it to finish (or stop it), then run the command again"));
        }
        Err(TryLockError::Error(e)) => return Err(cannot(&e)),
    }
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
        let first = acquire(dir.path(), "up").unwrap();
        let err = acquire(dir.path(), "down").unwrap_err();
        assert_eq!(
            err.message,
            format!(
                "another timmy (pid {}, timmy up) is already changing this project's stack; not starting `down`",
                std::process::id()
            )
        );
        drop(first);
        assert!(acquire(dir.path(), "down").is_ok());
    }
}
