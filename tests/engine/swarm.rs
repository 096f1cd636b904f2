//! The swarm the Swarm end-to-end tests deploy to: a single-node swarm on the test engine
//! (`docker swarm init --advertise-addr 127.0.0.1`), joined by the first test that needs it and
//! left by the last one still holding it, even when it fails (a guard, dropped while
//! unwinding). The guard also runs the scenarios one at a time: measured on Engine 28.5, a
//! stack deployed while another test's stack is being removed can get the overlay subnet the
//! manager just freed while this node still holds the old network, and its tasks are rejected
//! with "invalid pool request: Pool overlaps with other one on this address space". Each test
//! still deploys its own stack under its own name; the swarm is counted, and the node leaves
//! it when the count drops to zero (the next test joins again, ~0.5 s).
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

/// One scenario at a time (see the module's doc).
static SERIAL: Mutex<()> = Mutex::new(());

/// Held while a test uses the swarm. Fields drop in order: the swarm is left (when this is
/// the last holder) before the next scenario may start.
pub struct SwarmGuard {
    _serial: std::sync::MutexGuard<'static, ()>,
}

pub fn node_state() -> String {
    docker_lenient(&["info", "--format", "{{.Swarm.LocalNodeState}}"])
        .trim()
        .to_string()
}

/// This node's id (`docker node update` takes no `self`, measured on CLI 28).
fn node_id() -> String {
    docker_lenient(&["info", "--format", "{{.Swarm.NodeID}}"])
        .trim()
        .to_string()
}

fn ours_marked() -> bool {
    docker_lenient(&[
        "node",
        "inspect",
        &node_id(),
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
        let serial = SERIAL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
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
                let label = Command::new("docker")
                    .args(["node", "update", "--label-add", "timmy.e2e=1", &node_id()])
                    .output()
                    .unwrap();
                if !label.status.success() {
                    let _ = Command::new("docker")
                        .args(["swarm", "leave", "--force"])
                        .output();
                    panic!(
                        "cannot label the swarm node: {}",
                        String::from_utf8_lossy(&label.stderr)
                    );
                }
                shared.ours = true;
            }
        }
        shared.holders += 1;
        SwarmGuard { _serial: serial }
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

/// A stack this test deployed under `name`; dropping it removes the stack, waits until its
/// containers are gone, then removes what `docker stack rm` keeps (volumes) and the images
/// `timmy deploy` tagged (`<name>-<service>:<hash>`), and any container the test started with
/// the label `timmy.e2e.stack=<name>` (probes on the overlay network).
pub struct Deployed {
    pub name: String,
}

impl Deployed {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
        }
    }

    fn filter(&self) -> String {
        format!("label=com.docker.stack.namespace={}", self.name)
    }
}

/// Non-empty lines of a lenient docker query.
pub fn lines(args: &[&str]) -> Vec<String> {
    docker_lenient(args)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

impl Drop for Deployed {
    fn drop(&mut self) {
        let probes = lines(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=timmy.e2e.stack={}", self.name),
        ]);
        for id in probes {
            let _ = Command::new("docker").args(["rm", "-f", &id]).output();
        }
        let _ = Command::new("docker")
            .args(["stack", "rm", &self.name])
            .output();
        let filter = self.filter();
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(60)
            && !(lines(&["ps", "-aq", "--filter", &filter]).is_empty()
                && lines(&["network", "ls", "-q", "--filter", &filter]).is_empty())
        {
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        for kind in ["secret", "config", "network"] {
            for id in lines(&[kind, "ls", "-q", "--filter", &filter]) {
                let _ = Command::new("docker").args([kind, "rm", &id]).output();
            }
        }
        for v in lines(&["volume", "ls", "-q", "--filter", &filter]) {
            let _ = Command::new("docker")
                .args(["volume", "rm", "-f", &v])
                .output();
        }
        for image in lines(&[
            "image",
            "ls",
            "--format",
            "{{.Repository}}:{{.Tag}}",
            "--filter",
            &format!("reference={}-*", self.name),
        ]) {
            let _ = Command::new("docker")
                .args(["image", "rm", "-f", &image])
                .output();
        }
        // Tags pushed to a test registry: `HOST:PORT/<name>-<service>:<hash>`.
        for image in lines(&["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]) {
            if image
                .split_once('/')
                .is_some_and(|(_, rest)| rest.starts_with(&format!("{}-", self.name)))
            {
                let _ = Command::new("docker")
                    .args(["image", "rm", "-f", &image])
                    .output();
            }
        }
    }
}
