//! Signals on a real engine: SIGINT and SIGTERM sent to a running timmy, and a real Ctrl-C
//! typed into a pseudo-terminal. timmy must wait for docker's own shutdown, exit 128+N, say
//! what is still running, and leave no child process behind.

mod engine;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use engine::{Stack, ok};

/// Every live descendant of `pid`, from /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let mut all = Vec::new();
    let mut frontier = vec![pid];
    while let Some(parent) = frontier.pop() {
        let Ok(entries) = fs::read_dir("/proc") else {
            break;
        };
        for e in entries.flatten() {
            let Ok(child) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = fs::read_to_string(format!("/proc/{child}/stat")) else {
                continue;
            };
            // Fields after the parenthesised command: state, ppid, ...
            let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r.to_string()) else {
                continue;
            };
            let mut fields = rest.split_whitespace();
            let _state = fields.next();
            if fields.next().and_then(|p| p.parse::<u32>().ok()) == Some(parent) {
                all.push(child);
                frontier.push(child);
            }
        }
    }
    all
}

fn alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .is_some_and(|zombie| !zombie)
}

/// Spawn timmy with stderr read line by line on a thread; returns the child and the lines.
fn spawn(s: &Stack, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = s
        .timmy_cmd()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            eprintln!("timmy> {line}");
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Wait until a stderr line contains `needle`; every line seen is appended to `seen`.
fn wait_for(rx: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>, limit: Duration) {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            let hit = line.contains(needle);
            seen.push(line);
            if hit {
                return;
            }
        }
    }
    panic!("no `{needle}` within {limit:?}; saw:\n{}", seen.join("\n"));
}

fn kill(pid: u32, sig: &str) {
    let st = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

/// Send `sig` to timmy alone, then check the exit code and that no child survived.
fn interrupt(
    mut child: Child,
    rx: &mpsc::Receiver<String>,
    sig: &str,
    code: i32,
    seen: &mut Vec<String>,
) {
    let pid = child.id();
    let kids = descendants(pid);
    assert!(!kids.is_empty(), "timmy has no docker child to interrupt");
    kill(pid, sig);
    let end = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < end, "timmy did not exit after {sig}");
        std::thread::sleep(Duration::from_millis(50));
    };
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
        seen.push(line);
    }
    assert_eq!(
        status.code(),
        Some(code),
        "after {sig}:\n{}",
        seen.join("\n")
    );
    let left: Vec<u32> = kids.into_iter().filter(|p| alive(*p)).collect();
    assert!(left.is_empty(), "processes left after {sig}: {left:?}");
}

#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn sigint_to_logs_follow_exits_130_and_leaves_no_child() {
    let s = Stack::start("sig-logs", "");
    ok(&s.timmy(&["up", "prod", "-d"]));
    let (child, rx) = spawn(&s, &["-v", "logs", "-f"]);
    let mut seen = Vec::new();
    wait_for(
        &rx,
        "running: docker compose",
        &mut seen,
        Duration::from_secs(10),
    );
    std::thread::sleep(Duration::from_millis(500));
    interrupt(child, &rx, "-INT", 130, &mut seen);
    // The stack itself is untouched.
    assert_eq!(s.health("timmy"), "healthy");
}

#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn sigterm_while_up_follows_logs_exits_143_and_says_what_runs() {
    let s = Stack::start("sig-up", "");
    let (child, rx) = spawn(&s, &["up", "dev"]);
    let mut seen = Vec::new();
    wait_for(
        &rx,
        "following the logs",
        &mut seen,
        Duration::from_secs(120),
    );
    std::thread::sleep(Duration::from_millis(500));
    interrupt(child, &rx, "-TERM", 143, &mut seen);
    let text = seen.join("\n");
    assert!(text.contains("still running in"), "{text}");
    assert!(
        text.contains("redis") && text.contains("timmy down"),
        "{text}"
    );
}

#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn sigint_while_up_waits_for_health_exits_130() {
    let s = Stack::start("sig-wait", "REDIS_HOST=nowhere.invalid\n");
    let (child, rx) = spawn(&s, &["up", "prod", "-d", "--timeout", "100"]);
    let mut seen = Vec::new();
    wait_for(&rx, "Waiting", &mut seen, Duration::from_secs(120));
    std::thread::sleep(Duration::from_millis(500));
    interrupt(child, &rx, "-INT", 130, &mut seen);
    let text = seen.join("\n");
    assert!(text.contains("interrupted;"), "{text}");
}

/// A real Ctrl-C: the byte 0x03 typed into a pseudo-terminal (util-linux `script` provides
/// it), so the kernel signals the whole foreground process group, timmy and docker alike.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn ctrl_c_in_a_terminal_stops_following_logs() {
    let s = Stack::start("sig-tty", "");
    ok(&s.timmy(&["up", "prod", "-d"]));
    let timmy = env!("CARGO_BIN_EXE_timmy");
    let mut child = Command::new("script")
        .args(["-qfec", &format!("{timmy} logs -f"), "/dev/null"])
        .current_dir(s.root())
        .env("TIMMY_PROJECT_NAME", &s.name)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("util-linux `script` is needed for the pseudo-terminal test");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    // Wait for the first log line, so docker compose is surely following.
    let end = Instant::now() + Duration::from_secs(20);
    while !line.contains("timmy-1") {
        line.clear();
        assert!(Instant::now() < end, "no log line through the terminal");
        assert!(
            out.read_line(&mut line).unwrap() != 0,
            "terminal closed before any log line"
        );
    }
    let kids = descendants(child.id());
    child.stdin.as_mut().unwrap().write_all(b"\x03").unwrap();
    child.stdin.as_mut().unwrap().flush().unwrap();
    let end = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < end, "Ctrl-C did not stop timmy logs -f");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130));
    let left: Vec<u32> = kids.into_iter().filter(|p| alive(*p)).collect();
    assert!(left.is_empty(), "processes left after Ctrl-C: {left:?}");
}

/// SIGINT while `timmy test` runs: the test stack is still removed, timmy exits 130.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn sigint_during_test_still_cleans_up() {
    let s = Stack::start("sig-test", "");
    let (child, rx) = spawn(&s, &["-v", "test", "--", "sleep", "60"]);
    let mut seen = Vec::new();
    wait_for(
        &rx,
        "run --rm --build -T tests sleep 60",
        &mut seen,
        Duration::from_secs(60),
    );
    // Let the tests container start (its dependencies come up first).
    let test_project = format!("{}-test", s.name);
    let start = Instant::now();
    loop {
        let out = Command::new("docker")
            .args([
                "ps",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={test_project}"),
                "--filter",
                "label=com.docker.compose.oneoff=True",
            ])
            .output()
            .unwrap();
        if !out.stdout.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "tests container never started"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    interrupt(child, &rx, "-INT", 130, &mut seen);
    engine::assert_none_left("container", &test_project);
}
