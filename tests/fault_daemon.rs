//! Fault injection on the real engine: the Docker daemon stops while `timmy logs -f` runs.
//! timmy must say that the daemon went away (not print a stack trace or a raw socket error),
//! exit 1, and the next command must get the "daemon is not running" message. The daemon is
//! restarted with `scripts/setup-engine.sh` afterwards, even when the test fails.
//!
//! It stops the machine's only daemon, so it lives in a test binary of its own (cargo runs test
//! binaries one after another) and needs root, as in CI.

mod engine;

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use engine::{Stack, ok, stderr};

/// Where scripts/setup-engine.sh has the daemon write its pid: the stable engine's file, then
/// the current engine's (CI runs the suite on both, one at a time, on the default socket).
const PID_FILES: [&str; 2] = ["/var/run/docker.pid", "/var/run/docker-current.pid"];

/// Starts the daemon again when dropped.
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/setup-engine.sh");
        let out = Command::new("bash")
            .arg(script)
            .output()
            .expect("run setup-engine.sh");
        assert!(
            out.status.success(),
            "could not restart dockerd: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn dockerd_pid() -> Option<u32> {
    PID_FILES.iter().find_map(|file| {
        let pid: u32 = fs::read_to_string(file).ok()?.trim().parse().ok()?;
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        (comm.trim() == "dockerd").then_some(pid)
    })
}

fn stop_dockerd(pid: u32) {
    let st = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let start = Instant::now();
    while fs::metadata(format!("/proc/{pid}")).is_ok() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "dockerd did not stop"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
#[ignore = "needs root and a Docker engine it stops and restarts (TIMMY_E2E=1 runs it)"]
fn daemon_stopping_mid_session_gets_its_own_message() {
    let s = Stack::start("daemon", "");
    let root = Command::new("id").arg("-u").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&root.stdout).trim(),
        "0",
        "this test needs root to stop and restart dockerd"
    );
    let pid = dockerd_pid().unwrap_or_else(|| {
        panic!(
            "this test needs a dockerd started by scripts/setup-engine.sh (its pid in {})",
            PID_FILES.join(" or ")
        )
    });
    ok(&s.timmy(&["up", "prod", "-d"]));

    let mut child = s
        .timmy_cmd()
        .args(["-v", "logs", "-f"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    // `-v` names each query first (the engine socket's label lookups), then the compose call.
    let mut seen = String::new();
    while !seen.contains("running: docker compose") {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "{seen}");
        seen.push_str(&line);
    }
    std::thread::sleep(Duration::from_millis(500));

    let _restart = Restart;
    stop_dockerd(pid);

    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timmy logs -f kept running without a daemon"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut rest = String::new();
    for line in err.lines().map_while(Result::ok) {
        rest.push_str(&line);
        rest.push('\n');
    }
    assert_eq!(status.code(), Some(1), "{rest}");
    assert!(
        rest.contains("error: the Docker daemon stopped answering on /var/run/docker.sock while timmy was working"),
        "{rest}"
    );
    assert!(!rest.contains("panicked"), "{rest}");

    let ps = s.timmy(&["ps"]);
    assert_eq!(ps.status.code(), Some(1));
    assert!(
        stderr(&ps).starts_with(
            "error: the Docker daemon is not running (nothing answers on /var/run/docker.sock)"
        ),
        "{}",
        stderr(&ps)
    );
}
