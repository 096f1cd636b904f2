//! Exit codes and the two error types that decide them. This is the one place that documents
//! what a script can rely on:
//!
//! | code    | meaning                                                             |
//! |---------|---------------------------------------------------------------------|
//! | 0       | success (`check` with warnings only, `down` with nothing running);  |
//! |         | a closed stdout pipe (below)                                        |
//! | 1       | timmy's own error: bad `.env`, unknown env, leftovers after `down`… |
//! | 2       | usage error (unknown flag, missing argument), from clap             |
//! | N       | a docker command failed with code N; timmy passes it through        |
//! | 128 + N | timmy was stopped by signal N: 130 for Ctrl-C, 143 for SIGTERM      |
//!
//! A reader of stdout that goes away (`timmy config | head -1`) ends the command quietly, with
//! no message and code 0: what the reader took was complete and correct, and a pipeline under
//! `set -o pipefail` keeps working. Docker commands already started keep running (`up`'s log
//! following stops).

use std::fmt;

pub const OK: u8 = 0;
pub const FAILURE: u8 = 1;
pub const USAGE: u8 = 2;

/// Something the user has to act on: one line of message, one line of hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    pub message: String,
    pub hint: Option<String>,
}

impl UserError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
        }
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

/// The outcome has already been reported to the user; exit with this code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Findings or leftovers were printed.
    Failure,
    /// A docker command failed with this code; its own output said why.
    Docker(i32),
    /// Stopped by this signal.
    Signal(i32),
    /// Whoever read stdout went away: end quietly.
    ClosedPipe,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Self::Failure => FAILURE,
            // Codes outside 1..=255 cannot be an exit status; keep "failed" visible.
            Self::Docker(code) => u8::try_from(code)
                .ok()
                .filter(|c| *c != 0)
                .unwrap_or(FAILURE),
            Self::Signal(sig) => u8::try_from(128 + sig).unwrap_or(FAILURE),
            Self::ClosedPipe => OK,
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failure => f.write_str("failed"),
            Self::Docker(code) => write!(f, "docker exited with code {code}"),
            Self::Signal(sig) => write!(f, "stopped by signal {sig}"),
            Self::ClosedPipe => f.write_str("stdout was closed"),
        }
    }
}

impl std::error::Error for Exit {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(Exit::Failure.code(), 1);
        assert_eq!(Exit::Docker(3).code(), 3);
        assert_eq!(Exit::Docker(0).code(), 1);
        assert_eq!(Exit::Docker(-1).code(), 1);
        assert_eq!(Exit::Docker(300).code(), 1);
        assert_eq!(Exit::Signal(2).code(), 130);
        assert_eq!(Exit::Signal(15).code(), 143);
        assert_eq!(Exit::ClosedPipe.code(), 0);
    }
}
