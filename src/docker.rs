//! The one place that starts processes. [`Docker`] runs [`Invocation`]s with duct, prints them
//! for `-v`/`--dry-run` and in errors (through the project's [`Masker`]); a command that changes
//! something comes back as an [`Outcome`] (ran with a code, or only printed under `--dry-run`)
//! the caller must look at. It owns signal
//! handling: while a docker child runs, Ctrl-C from the terminal reaches the child directly
//! (same process group), a signal sent to timmy alone is forwarded to it, and timmy waits for
//! docker's own shutdown before it exits 128+N.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, Result};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::low_level::siginfo::Cause;

use crate::compose::Invocation;
use crate::exit::Exit;
use crate::secrets::Masker;
use crate::ui;

/// Output of a captured (read-only) command.
#[derive(Debug, Clone)]
pub struct Captured {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// What a command that changes something came to: docker ran it and exited with a code, or
/// `--dry-run` only printed it. The caller decides what a dry run means for what follows.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ran(i32),
    DryRun,
}

impl Outcome {
    /// A non-zero exit as [`Exit::Docker`] (or the daemon-gone error when the daemon went
    /// away meanwhile); a zero exit and a dry run pass through.
    pub fn ok(self) -> Result<Outcome> {
        match self {
            Outcome::Ran(code) if code != 0 => {
                Err(daemon_gone().map_or_else(|| Exit::Docker(code).into(), Into::into))
            }
            done => Ok(done),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Docker {
    pub program: PathBuf,
    pub dry_run: bool,
    pub verbose: bool,
    /// Masks every command line and relayed text this runner shows.
    pub masker: Masker,
}

impl Docker {
    /// The runner for `program` with the user's `--dry-run` and `-v`.
    pub fn new(program: PathBuf, global: &crate::cli::Global) -> Self {
        Self {
            program,
            dry_run: global.dry_run,
            verbose: global.verbose,
            masker: Masker::default(),
        }
    }

    /// The same runner, showing commands and relayed text through `masker`.
    #[must_use]
    pub fn masking(mut self, masker: Masker) -> Self {
        self.masker = masker;
        self
    }

    /// The command line as shown to the user (`-v`, `--dry-run`, errors): masked.
    pub fn shown(&self, inv: &Invocation) -> String {
        self.masker.text(&inv.to_string())
    }

    /// Run a command that changes something, with the terminal attached. Under `--dry-run` it
    /// is only printed. Returns docker's exit code.
    pub fn run(&self, inv: &Invocation) -> Result<Outcome> {
        if self.dry_run {
            ui::out(format!("{}\n", self.shown(inv)))?;
            return Ok(Outcome::DryRun);
        }
        self.announce(inv);
        let output = spawn_and_wait(&self.expression(inv), &|| self.shown(inv), true)?;
        Ok(Outcome::Ran(code_of(output.status)))
    }

    /// Like [`Docker::run`], with docker's stderr relayed line by line through the masker:
    /// Compose quotes `.env` values in its errors (`Invalid hostPort: <value>`). Its progress
    /// output is then the plain, line-by-line kind, as under any pipe.
    pub fn run_masked(&self, inv: &Invocation) -> Result<Outcome> {
        self.masked_with(inv, None)
    }

    /// [`Docker::run_masked`] with `input` on docker's stdin (`stack deploy --compose-file -`:
    /// the rendered file never touches the disk), and docker's stdout relayed like its stderr
    /// (its progress lines are not the command's data). Under `--dry-run` only the command
    /// line is printed.
    pub fn run_masked_input(&self, inv: &Invocation, input: &[u8]) -> Result<Outcome> {
        self.masked_with(inv, Some(input))
    }

    fn masked_with(&self, inv: &Invocation, input: Option<&[u8]>) -> Result<Outcome> {
        if self.dry_run {
            ui::out(format!("{}\n", self.shown(inv)))?;
            return Ok(Outcome::DryRun);
        }
        self.announce(inv);
        let (reader, writer) = io::pipe().context("cannot create a pipe for docker's stderr")?;
        let masker = self.masker.clone();
        let relay = std::thread::spawn(move || {
            use std::io::{BufRead, Write};
            let mut reader = io::BufReader::new(reader);
            let mut line = Vec::new();
            while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                let text = masker.text(&String::from_utf8_lossy(&line));
                let mut stderr = io::stderr().lock();
                let _ = stderr
                    .write_all(text.as_bytes())
                    .and_then(|()| stderr.flush());
                line.clear();
            }
        });
        let mut expr = self.expression(inv);
        if let Some(input) = input {
            // Inside the stderr redirect below: stdout joins the masked pipe too.
            expr = expr.stdin_bytes(input.to_vec()).stdout_to_stderr();
        }
        let expr = expr.stderr_file(writer);
        let output = spawn_and_wait(&expr, &|| self.shown(inv), true);
        // The relay ends when no one holds the pipe's write end: docker has exited, and the
        // expression holding timmy's copy is gone.
        drop(expr);
        let _ = relay.join();
        Ok(Outcome::Ran(code_of(output?.status)))
    }

    /// Like [`Docker::run`] for a command whose stdout is text for the user (`logs`): its
    /// stdout is relayed through [`ui::out`] and, like its stderr, through the masker, on a
    /// terminal too; when stdout is not a terminal or colours are off ([`ui::plain_output`]) as
    /// [`ui::plain_text`] (no escape codes, no carriage returns). A closed pipe ends timmy
    /// quietly and docker with it. The caller passes Compose `--ansi never` or `always`.
    pub fn run_relayed(&self, inv: &Invocation) -> Result<Outcome> {
        if self.dry_run {
            return self.run(inv);
        }
        self.announce(inv);
        let (mut reader, writer) = io::pipe().context("cannot create a pipe")?;
        let (mut err_reader, err_writer) = io::pipe().context("cannot create a pipe")?;
        let expr = self
            .expression(inv)
            .stdout_file(writer)
            .stderr_file(err_writer);
        let stopped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let quiet = Arc::clone(&stopped);
        // docker's stderr goes on to timmy's, line by line through the masker, until timmy
        // stops docker because nobody reads stdout: then docker's "canceled" is not news.
        let err_masker = self.masker.clone();
        let errors = std::thread::spawn(move || {
            use std::io::{BufRead, Write};
            let mut err_reader = io::BufReader::new(&mut err_reader);
            let mut line = Vec::new();
            while err_reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                if !quiet.load(Ordering::SeqCst) {
                    let text = err_masker.text(&String::from_utf8_lossy(&line));
                    let _ = io::stderr().write_all(text.as_bytes());
                }
                line.clear();
            }
        });
        let masker = self.masker.clone();
        let relay = std::thread::spawn(move || -> Result<()> {
            let relayed = relay(&mut reader, &masker);
            if relayed.is_err() {
                stopped.store(true, Ordering::SeqCst);
                // Nobody reads any more (or the pipe broke): stop docker rather than wait
                // for its next line to fail.
                // The `docker` CLI runs Compose as a child process and does not pass SIGTERM
                // on (measured with 20.10): stop Compose itself, the CLI then exits with it.
                let child = CHILD.lock().ok().and_then(|c| c.clone());
                for pid in child.iter().flat_map(|c| c.pids()) {
                    let plugins =
                        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                            .unwrap_or_default();
                    let mut targets: Vec<i32> = plugins
                        .split_whitespace()
                        .filter_map(|p| p.parse().ok())
                        .collect();
                    if targets.is_empty() {
                        targets.extend(i32::try_from(pid).ok());
                    }
                    for target in targets {
                        forward(target, SIGTERM);
                    }
                }
            }
            relayed
        });
        let output = spawn_and_wait(&expr, &|| self.shown(inv), true);
        drop(expr);
        relay
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the log relay stopped")))?;
        // Only when stdout was relayed to the end: after a closed pipe, whatever docker
        // still says on stderr is not news, and waiting for it could take until its next line.
        let _ = errors.join();
        Ok(Outcome::Ran(code_of(output?.status)))
    }

    /// [`Docker::run_relayed`], with a non-zero exit turned into [`Exit::Docker`].
    pub fn run_relayed_ok(&self, inv: &Invocation) -> Result<Outcome> {
        self.run_relayed(inv)?.ok()
    }

    /// Like [`Docker::run`], but it still runs after Ctrl-C: for cleanup that must happen.
    pub fn run_always(&self, inv: &Invocation) -> Result<Outcome> {
        if self.dry_run {
            ui::out(format!("{}\n", self.shown(inv)))?;
            return Ok(Outcome::DryRun);
        }
        self.announce(inv);
        let output = spawn_and_wait(&self.expression(inv), &|| self.shown(inv), false)?;
        Ok(Outcome::Ran(code_of(output.status)))
    }

    /// Run and turn a non-zero exit into [`Exit::Docker`].
    pub fn run_ok(&self, inv: &Invocation) -> Result<Outcome> {
        self.run(inv)?.ok()
    }

    /// Run a read-only query with stdout and stderr captured. Queries run under `--dry-run` too:
    /// they are how timmy plans what it would do.
    pub fn query(&self, inv: &Invocation) -> Result<Captured> {
        self.capture(inv, true)
    }

    /// A query that still runs after Ctrl-C: to tell the user what is left running.
    pub fn query_after_signal(&self, inv: &Invocation) -> Result<Captured> {
        self.capture(inv, false)
    }

    fn capture(&self, inv: &Invocation, stop_on_signal: bool) -> Result<Captured> {
        self.announce(inv);
        let expr = self
            .expression(inv)
            .stdout_capture()
            .stderr_capture()
            .stdin_null();
        let output = spawn_and_wait(&expr, &|| self.shown(inv), stop_on_signal)?;
        Ok(Captured {
            code: code_of(output.status),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    /// A query whose failure is an error naming the command and docker's first stderr line.
    pub fn query_ok(&self, inv: &Invocation) -> Result<String> {
        let out = self.query(inv)?;
        if out.code != 0 {
            if let Some(gone) = daemon_gone() {
                return Err(gone.into());
            }
            let first = self
                .masker
                .text(out.stderr.lines().next().unwrap_or("").trim());
            anyhow::bail!(
                "`{}` failed with code {}: {first}",
                self.shown(inv),
                out.code
            );
        }
        Ok(out.stdout)
    }

    fn announce(&self, inv: &Invocation) {
        if self.verbose {
            ui::command_line("running:", &self.shown(inv));
        }
    }

    fn expression(&self, inv: &Invocation) -> duct::Expression {
        duct::cmd(&self.program, &inv.args)
            .dir(&inv.cwd)
            .unchecked()
    }
}

/// Copy `reader` to stdout as [`ui::plain_text`] through `masker`, whole lines at a time (an
/// escape sequence, a `\r\n` or a secret may straddle two reads).
fn relay(reader: &mut io::PipeReader, masker: &Masker) -> Result<()> {
    use std::io::Read;
    let mut buf = [0u8; 16 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        if stdout_closed_while_waiting(reader) {
            return Err(Exit::ClosedPipe.into());
        }
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            return ui::out(masked_plain(&pending, masker));
        }
        pending.extend_from_slice(&buf[..n]);
        if let Some(end) = pending.iter().rposition(|b| *b == b'\n') {
            let rest = pending.split_off(end + 1);
            ui::out(masked_plain(&pending, masker))?;
            pending = rest;
        }
    }
}

/// Log text as the user sees it: secrets masked, and [`ui::plain_text`] unless stdout is a
/// terminal with colours.
fn masked_plain(text: &[u8], masker: &Masker) -> String {
    if ui::plain_output() {
        masker.text(&String::from_utf8_lossy(&ui::plain_text(text)))
    } else {
        masker.text(&String::from_utf8_lossy(text))
    }
}

/// Wait until `reader` has data (or its end); true when stdout's reader went away meanwhile.
/// `timmy logs -f | head -1` must not wait for the next log line to learn that head is gone:
/// a pipe whose reader is closed reports POLLERR to its writer (a file or terminal never).
fn stdout_closed_while_waiting(reader: &io::PipeReader) -> bool {
    use rustix::event::{PollFd, PollFlags, poll};
    let stdout = io::stdout();
    let mut fds = [
        PollFd::new(reader, PollFlags::IN),
        PollFd::new(&stdout, PollFlags::empty()),
    ];
    loop {
        match poll(&mut fds, None) {
            Ok(_) => break,
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => return false,
        }
    }
    let gone = fds[1].revents().intersects(PollFlags::ERR | PollFlags::HUP);
    gone && fds[0].revents().is_empty()
}

/// After a docker command failed: did the daemon stop answering meanwhile? Preflight found it
/// up, so this tells "the daemon went away mid-session" apart from docker's own errors.
/// One socket connect, only on the failure path.
fn daemon_gone() -> Option<crate::exit::UserError> {
    let env = crate::preflight::Env::from_process(std::path::Path::new("/"));
    let socket = crate::preflight::daemon_socket(&env)?;
    crate::preflight::check_daemon(&socket).err().map(|e| {
        let hint = e.hint.clone().unwrap_or_default();
        crate::exit::UserError::new(format!(
            "the Docker daemon stopped answering on {} while timmy was working ({})",
            socket.display(),
            e.message
        ))
        .hint(hint)
    })
}

fn code_of(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

/// Which signal arrived first while timmy had children, 0 for none.
static RECEIVED: AtomicI32 = AtomicI32::new(0);
/// The child currently running, for forwarding signals sent to timmy alone.
static CHILD: Mutex<Option<Arc<duct::Handle>>> = Mutex::new(None);
static INSTALLED: OnceLock<()> = OnceLock::new();

/// The first signal received since timmy started running docker, if any.
pub fn received_signal() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

/// Installed lazily before the first child starts, so commands that never run docker keep the
/// default signal behaviour. A handler (not `SIG_IGN`, which children would inherit) records the
/// signal; the child gets it from the terminal or by forwarding, and timmy exits after it.
fn install_handlers() -> Result<()> {
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    let mut signals = SignalsInfo::<WithOrigin>::new([SIGINT, SIGTERM, SIGHUP])
        .context("cannot install signal handlers")?;
    std::thread::spawn(move || {
        for origin in signals.forever() {
            let sig = origin.signal;
            let _ = RECEIVED.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
            // A terminal's Ctrl-C or hang-up already reached the whole foreground process group;
            // sending it again would make `docker compose` skip its graceful stop.
            if matches!(origin.cause, Cause::Kernel) {
                continue;
            }
            let child = CHILD.lock().ok().and_then(|c| c.clone());
            if let Some(child) = child {
                for pid in child.pids() {
                    if let Ok(pid) = i32::try_from(pid) {
                        forward(pid, sig);
                    }
                }
            }
        }
    });
    let _ = INSTALLED.set(());
    Ok(())
}

/// Send `sig` to a child timmy started: kill(2) through rustix's safe wrapper. A pid that is
/// not a process id or a signal that is not a named one is not sent.
fn forward(pid: i32, sig: i32) {
    use rustix::process::{Pid, Signal, kill_process};
    if let (Some(pid), Some(sig)) = (Pid::from_raw(pid), Signal::from_named_raw(sig)) {
        let _ = kill_process(pid, sig);
    }
}

/// `shown` gives the command line for an error, masked; it is worked out only then.
fn spawn_and_wait(
    expr: &duct::Expression,
    shown: &dyn Fn() -> String,
    stop_on_signal: bool,
) -> Result<std::process::Output> {
    install_handlers()?;
    let interrupted = || received_signal().filter(|_| stop_on_signal);
    if let Some(sig) = interrupted() {
        return Err(Exit::Signal(sig).into());
    }
    let handle = Arc::new(expr.start().map_err(|e| spawn_error(&e, &shown()))?);
    if let Ok(mut slot) = CHILD.lock() {
        *slot = Some(Arc::clone(&handle));
    }
    let result = handle.wait().cloned();
    if let Ok(mut slot) = CHILD.lock() {
        *slot = None;
    }
    let output = result.with_context(|| format!("waiting for `{}`", shown()))?;
    if let Some(sig) = interrupted() {
        return Err(Exit::Signal(sig).into());
    }
    Ok(output)
}

fn spawn_error(e: &io::Error, inv: &str) -> anyhow::Error {
    anyhow::anyhow!("cannot start `{inv}`: {e}")
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::Outcome;

    #[test]
    fn a_zero_exit_and_a_dry_run_pass_through_ok() {
        assert_eq!(Outcome::Ran(0).ok().ok(), Some(Outcome::Ran(0)));
        assert_eq!(Outcome::DryRun.ok().ok(), Some(Outcome::DryRun));
    }

    #[test]
    fn forward_delivers_the_signal_to_the_child() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        super::forward(i32::try_from(child.id()).unwrap(), super::SIGTERM);
        assert_eq!(child.wait().unwrap().signal(), Some(super::SIGTERM));
    }
}
