//! One timmy at a time changes a stack. `up`, `down`, `build` and `test` hold an exclusive lock
//! on `<root>/.timmy/<project name>.lock` while they change it; a second one refuses at once
//! with the first one's pid instead of half-starting the same containers. The lock is per
//! project name, so `timmy test` (`<name>-test`) never waits for the dev stack, and it covers
//! changing a stack only: `up` releases it before it follows the logs. The OS releases the lock
//! when the process ends, however it ends, so a crash never leaves a stale lock behind. The
//! docker processes started while it is held inherit it: when timmy is killed (`kill -9`), the
//! `docker compose up` it started goes on changing the stack, and holds the lock until it ends.
//! A second lock on the same name in `$TMPDIR/timmy-<uid>/` keeps two checkouts whose project
//! names meet from changing one stack at once.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::exit::UserError;

/// The lock file of project `name`, relative to the root.
pub fn lock_file(name: &str) -> String {
    format!(".timmy/{name}.lock")
}

/// Held for as long as the value lives.
#[derive(Debug)]
pub struct ProjectLock {
    _file: File,
    _host: Option<File>,
}

/// The lock of project `name` in this checkout (`<root>/.timmy/`) and on this machine
/// ([`host_dir`]): two checkouts whose project names meet (folders of the same name, the same
/// `-p`) must not change one stack at once either. Measured before: two `timmy test` at once in
/// two such checkouts both failed (`network … is ambiguous`, `container name … already in
/// use`) and each removed the other's containers.
pub fn acquire(root: &Path, name: &str, what: &str) -> Result<ProjectLock, UserError> {
    acquire_in(root, host_dir().as_deref(), name, what)
}

/// `$TMPDIR/timmy-<uid>`: shared by every checkout of this user on this machine (another
/// user's timmy is not seen). `None` when it cannot be made or is not this user's.
fn host_dir() -> Option<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let uid = rustix::process::getuid().as_raw();
    let dir = std::env::temp_dir().join(format!("timmy-{uid}"));
    let _ = fs::DirBuilder::new().mode(0o700).create(&dir);
    let meta = fs::symlink_metadata(&dir).ok()?;
    (meta.is_dir() && meta.uid() == uid).then_some(dir)
}

/// [`acquire`] with the machine-wide lock in `host` (`None`: the checkout's lock only, as the
/// in-process callers of the CLI tests take it, so that parallel test runs on one machine do
/// not meet in `$TMPDIR`).
pub fn acquire_in(
    root: &Path,
    host: Option<&Path>,
    name: &str,
    what: &str,
) -> Result<ProjectLock, UserError> {
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
    let busy = |holder: &str| {
        let who = if holder.is_empty() {
            "another timmy".to_string()
        } else {
            format!("another timmy ({holder})")
        };
        UserError::new(format!(
            "{who} is already changing the stack `{name}`; not starting `{what}`"
        ))
        .hint("wait for it to finish (or stop it), then run the command again")
    };
    let file = match take(&path).map_err(|e| cannot(&e))? {
        Ok(file) => file,
        Err(holder) => return Err(busy(&holder)),
    };
    // Best effort: a machine lock that cannot be made leaves the checkout's.
    let host = match host.map(|dir| take(&dir.join(format!("{name}.lock")))) {
        Some(Ok(Ok(file))) => Some(file),
        Some(Ok(Err(holder))) => return Err(busy(&holder)),
        Some(Err(_)) | None => None,
    };
    let pid = std::process::id();
    let file = hold(file, &format!("pid {pid}, timmy {what}"));
    let host = host.map(|f| hold(f, &format!("pid {pid}, timmy {what} in {}", root.display())));
    Ok(ProjectLock {
        _file: file,
        _host: host,
    })
}

/// `path` opened and locked; `Ok(Err(text))` with the holder's text when another holds it.
fn take(path: &Path) -> std::io::Result<Result<File, String>> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Ok(file)),
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            Ok(Err(holder.trim().to_string()))
        }
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// Write who holds the lock, and let the docker children inherit it (no close-on-exec): they
/// hold it while they run.
fn hold(mut file: File, holder: &str) -> File {
    let _ = rustix::io::fcntl_setfd(&file, rustix::io::FdFlags::empty());
    let _ = file.set_len(0);
    let _ = file.seek(SeekFrom::Start(0));
    let _ = write!(file, "{holder}");
    let _ = file.flush();
    file
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`acquire`] with the machine-wide lock in the test's own folder (`<dir>/host`), so
    /// tests running at once do not meet there.
    fn acquire(root: &Path, name: &str, what: &str) -> Result<ProjectLock, UserError> {
        let host = root.join("host");
        fs::create_dir_all(&host).unwrap();
        acquire_in(root, Some(&host), name, what)
    }

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

    #[test]
    fn two_checkouts_under_one_name_do_not_change_it_at_once() {
        let host = tempfile::tempdir().unwrap();
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let first = acquire_in(a.path(), Some(host.path()), "proj-test", "test").unwrap();
        let err = acquire_in(b.path(), Some(host.path()), "proj-test", "test").unwrap_err();
        assert_eq!(
            err.message,
            format!(
                "another timmy (pid {}, timmy test in {}) is already changing the stack `proj-test`; not starting `test`",
                std::process::id(),
                a.path().display()
            )
        );
        assert!(acquire_in(b.path(), Some(host.path()), "proj-dev", "up").is_ok());
        drop(first);
        assert!(acquire_in(b.path(), Some(host.path()), "proj-test", "test").is_ok());
        assert!(
            acquire_in(a.path(), None, "proj-test", "test").is_ok(),
            "without a machine folder, the checkout's lock alone"
        );
    }
}
