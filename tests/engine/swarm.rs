//! The swarm the Swarm end-to-end tests deploy to: a single-node swarm on the test engine
//! (`docker swarm init --advertise-addr 127.0.0.1`), joined by the first test that needs it and
//! left by the last one still holding it, even when it fails (a guard, dropped while
//! unwinding). Tests of one binary run in parallel, so the swarm is shared and counted: each
//! test deploys its own stack under its own name, and the node leaves the swarm when the count
//! drops to zero (a later test joins again, ~0.5 s).
//!
//! Putting an engine into swarm mode changes it for everyone using it, so the guard does it
//! only with `TIMMY_E2E_SWARM=1` (scripts/test.sh sets it with `TIMMY_E2E=1`, as in CI) and
//! otherwise fails the test with the reason. A swarm that was active before and is not marked
//! as the tests' own (node label `timmy.e2e`) is used as it is and never left.

use std::process::Command;
use std::sync::Mutex;

use super::docker_lenient;

struct Shared {
    holders: usize,
    /// The tests created (or adopted a leftover of theirs): leave when the last holder goes.
    ours: bool,
}

static SWARM: Mutex<Shared> = Mutex::new(Shared {
    holders: 0,
    ours: false,
});

/// Held while a test uses the swarm.
pub struct SwarmGuard(());

pub fn node_state() -> String {
    docker_lenient(&["info", "--format", "{{.Swarm.LocalNodeState}}"])
        .trim()
        .to_string()
}

fn ours_marked() -> bool {
    docker_lenient(&[
        "node",
        "inspect",
        "self",
        "--format",
        "{{index .Spec.Labels \"timmy.e2e\"}}",
    ])
    .trim()
        == "1"
}

fn run(args: &[&str]) {
    let out = Command::new("docker").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl SwarmGuard {
    /// Joins (or shares) the single-node swarm; panics with the reason when it may not.
    pub fn join() -> Self {
        super::require_engine();
        let mut shared = SWARM
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if shared.holders == 0 {
            let state = node_state();
            if state == "active" {
                shared.ours = ours_marked();
            } else {
                assert!(
                    std::env::var("TIMMY_E2E_SWARM").as_deref() == Ok("1"),
                    "this Swarm test puts the engine into swarm mode (node state: {state}); set \
                     TIMMY_E2E_SWARM=1 to allow it (scripts/test.sh does with TIMMY_E2E=1), or \
                     leave tests/swarm.rs out on an engine others use"
                );
                run(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
                run(&["node", "update", "--label-add", "timmy.e2e=1", "self"]);
                shared.ours = true;
            }
        }
        shared.holders += 1;
        SwarmGuard(())
    }
}

impl Drop for SwarmGuard {
    fn drop(&mut self) {
        let mut shared = SWARM
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        shared.holders -= 1;
        if shared.holders == 0 && shared.ours {
            let _ = Command::new("docker")
                .args(["swarm", "leave", "--force"])
                .output();
            shared.ours = false;
        }
    }
}
