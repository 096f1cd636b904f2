//! A temporary timmy project and a fake `docker` for CLI tests. The fake records every argv it
//! receives (one line each, read with `calls`) and answers from rules the test writes:
//!
//! - `answer_to(&["compose", "ps"], stdout, code)`: a call whose argv holds these words in this
//!   order (other words may come between them) prints `stdout` and exits `code`. Rules are tried
//!   in the order they were written and the first that matches answers, so a query added to
//!   timmy later does not shift the answers of the calls after it. `.once()` makes a rule answer
//!   one call only (then the next matching rule answers), `.stderr(text)` adds stderr and
//!   `.run(script)` runs a shell script first (`$FAKE_DOCKER_CALLER` is timmy's pid).
//! - A call no rule answers prints nothing and exits 0; it is also listed by `unanswered`.
//! - Still supported: `answer(n, …)` and `answer_stderr(n, …)` answer the `n`th call (files
//!   `n.out`, `n.code`, `n.err`) before any rule; `on_call(n, script)` runs a script at the `n`th
//!   call (file `n.sh`), whoever answers it.
//!
//! Preflight is satisfied for real: a Compose plugin file in `DOCKER_CONFIG` and a listening
//! Unix socket as `DOCKER_HOST`.
//!
//! Compose's validation query (`compose … config --quiet`, which `check`, `up`, `build`, `run`
//! and `test` ask before anything starts) is answered apart, so call numbers stay those of the
//! commands that act: it is recorded in `config.log` (read with `config_calls`) and answers
//! `config.err` / `config.code` (script them with `refuse_config`), success by default.

#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

const FAKE_DOCKER: &str = r#"#!/bin/sh
PATH=/usr/bin:/bin
dir="$FAKE_DOCKER_DIR"
case " $* " in *" config --quiet "*)
  printf '%s\n' "$*" >> "$dir/config.log"
  [ -f "$dir/config.err" ] && cat "$dir/config.err" >&2
  exit "$(cat "$dir/config.code" 2>/dev/null || echo 0)";;
esac
n=$(( $(cat "$dir/count" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$dir/count"
printf '%s\n' "$*" >> "$dir/argv.log"
# Scripts may signal the process that ran docker (timmy).
export FAKE_DOCKER_CALLER=$PPID
[ -f "$dir/$n.sh" ] && sh "$dir/$n.sh"
# An answer scripted for this call's number comes first.
if [ -f "$dir/$n.out" ] || [ -f "$dir/$n.err" ] || [ -f "$dir/$n.code" ]; then
  [ -f "$dir/$n.out" ] && cat "$dir/$n.out"
  [ -f "$dir/$n.err" ] && cat "$dir/$n.err" >&2
  exit "$(cat "$dir/$n.code" 2>/dev/null || echo 0)"
fi
# Does the argv (after the file) hold the file's words, one a line, in this order?
holds() {
  words=$1; shift
  while IFS= read -r word; do
    while :; do
      [ $# -gt 0 ] || return 1
      arg=$1; shift
      [ "$arg" = "$word" ] && break
    done
  done < "$words"
  return 0
}
for rule in "$dir"/rules/*; do
  [ -f "$rule/words" ] || continue
  [ -f "$rule/spent" ] && continue
  holds "$rule/words" "$@" || continue
  [ -f "$rule/once" ] && : > "$rule/spent"
  [ -f "$rule/sh" ] && . "$rule/sh"
  [ -f "$rule/out" ] && cat "$rule/out"
  [ -f "$rule/err" ] && cat "$rule/err" >&2
  exit "$(cat "$rule/code")"
done
printf '%s\n' "$*" >> "$dir/unanswered.log"
exit 0
"#;

pub const BASE: &str = "\
services:
  redis:
    image: ${REDIS_IMAGE:-redis:7-alpine}
  timmy:
    build: .
    environment:
      NODE_ENV: ${NODE_ENV:-production}
";

pub const ENV_EXAMPLE: &str = "\
# Runtime
NODE_ENV=production
LOG_LEVEL=info
# GitHub
GITHUB_TOKEN=ghp_your_token_here
";

/// A valid `.env` whose secret is a well-shaped fake token.
pub const GOOD_ENV: &str = "\
NODE_ENV=production
LOG_LEVEL=info
GITHUB_TOKEN=ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u
";

pub struct Project {
    pub dir: tempfile::TempDir,
    pub fake: PathBuf,
    _socket: UnixListener,
    socket_path: PathBuf,
}

impl Project {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("proj");
        fs::create_dir_all(root.join("docker")).unwrap();
        fs::write(root.join("docker/docker-compose.yml"), BASE).unwrap();
        for env in ["dev", "prod", "test"] {
            fs::write(
                root.join(format!("docker/docker-compose.{env}.yml")),
                "services:\n  timmy:\n    environment:\n      LOG_LEVEL: debug\n",
            )
            .unwrap();
        }
        fs::write(root.join(".env.example"), ENV_EXAMPLE).unwrap();
        fs::write(root.join(".env"), GOOD_ENV).unwrap();
        fs::set_permissions(root.join(".env"), fs::Permissions::from_mode(0o600)).unwrap();

        let fake = dir.path().join("fake");
        fs::create_dir_all(fake.join("bin")).unwrap();
        let docker = fake.join("bin/docker");
        fs::write(&docker, FAKE_DOCKER).unwrap();
        fs::set_permissions(&docker, fs::Permissions::from_mode(0o755)).unwrap();
        let plugin = fake.join("config/cli-plugins/docker-compose");
        fs::create_dir_all(plugin.parent().unwrap()).unwrap();
        fs::write(&plugin, "").unwrap();
        fs::set_permissions(&plugin, fs::Permissions::from_mode(0o755)).unwrap();
        let socket_path = fake.join("docker.sock");
        let socket = UnixListener::bind(&socket_path).unwrap();
        Self {
            dir,
            fake,
            _socket: socket,
            socket_path,
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("proj")
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.root().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Script the fake's answer to its `n`th call.
    pub fn answer(&self, n: usize, stdout: &str, code: i32) {
        fs::write(self.fake.join(format!("{n}.out")), stdout).unwrap();
        fs::write(self.fake.join(format!("{n}.code")), code.to_string()).unwrap();
    }

    /// A shell script the fake runs at its `n`th call, before answering.
    pub fn on_call(&self, n: usize, script: &str) {
        fs::write(self.fake.join(format!("{n}.sh")), script).unwrap();
    }

    /// Answer every call whose argv holds `words` in this order (not necessarily next to each
    /// other) with `stdout` and exit `code`, unless a rule written earlier matches it first.
    pub fn answer_to(&self, words: &[&str], stdout: &str, code: i32) -> Rule {
        let rules = self.fake.join("rules");
        fs::create_dir_all(&rules).unwrap();
        let n = fs::read_dir(&rules).unwrap().count();
        let dir = rules.join(format!("{n:04}"));
        fs::create_dir(&dir).unwrap();
        assert!(
            words.iter().all(|w| !w.is_empty() && !w.contains('\n')),
            "a rule's words are non-empty and on one line: {words:?}"
        );
        let mut text = words.join("\n");
        text.push('\n');
        fs::write(dir.join("words"), text).unwrap();
        fs::write(dir.join("out"), stdout).unwrap();
        fs::write(dir.join("code"), code.to_string()).unwrap();
        Rule { dir }
    }

    /// Answer timmy's label query for the containers of project `name` (`label_query`).
    pub fn answer_labels(&self, name: &str, stdout: &str) -> Rule {
        let filter = format!("label=com.docker.compose.project={name}");
        self.answer_to(&["ps", "--filter", &filter], stdout, 0)
    }

    /// Answer timmy's label query for the containers this checkout started (`here_query`).
    pub fn answer_here(&self, stdout: &str) -> Rule {
        let filter = format!(
            "label=com.docker.compose.project.working_dir={}",
            self.root().display()
        );
        self.answer_to(&["ps", "--filter", &filter], stdout, 0)
    }

    /// The argv of every call that neither a rule nor a call-number answer matched.
    pub fn unanswered(&self) -> Vec<String> {
        fs::read_to_string(self.fake.join("unanswered.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    pub fn socket_path(&self) -> &Path {
        &self.socket_path
    }

    /// The argv of every docker call, in order (words joined by spaces).
    pub fn calls(&self) -> Vec<String> {
        fs::read_to_string(self.fake.join("argv.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// `timmy` run in the project root with the fake docker and a clean environment.
    pub fn timmy(&self) -> Command {
        Command::from_std(self.std_command(&assert_cmd::cargo::cargo_bin("timmy")))
    }
}

/// The `--format` of timmy's label query (`docker ps`).
pub const LABEL_FORMAT: &str = "{{.ID}}\t{{.Names}}\t{{.State}}\t{{.Label \"com.docker.compose.service\"}}\t{{.Label \"com.docker.compose.oneoff\"}}\t{{.Label \"com.docker.compose.project.config_files\"}}\t{{.Label \"com.docker.compose.project\"}}\t{{.Label \"com.docker.compose.project.working_dir\"}}";

/// timmy's label query for the containers of project `name`, as the fake records it.
pub fn label_query(name: &str) -> String {
    format!(
        "ps --all --no-trunc --filter label=com.docker.compose.project={name} --format {LABEL_FORMAT}"
    )
}

/// Is a stack of this name deployed on a swarm? Asked (where there is no engine socket) when
/// an environment named on the command line has no Compose container.
pub fn stack_query(name: &str) -> String {
    format!("service ls --quiet --filter label=com.docker.stack.namespace={name}")
}

/// timmy's label query for the containers this checkout started.
pub fn here_query(p: &Project) -> String {
    format!(
        "ps --all --no-trunc --filter label=com.docker.compose.project.working_dir={} --format {LABEL_FORMAT}",
        p.root().display()
    )
}

/// One line of the label query's answer: a `timmy` container of `env` in project `name`,
/// started from the checkout at `dir`.
pub fn container_line(id: &str, name: &str, env: &str, dir: &str) -> String {
    format!(
        "{id}\t{name}-timmy-1\trunning\ttimmy\tFalse\t{dir}/docker/docker-compose.yml,{dir}/docker/docker-compose.{env}.yml\t{name}\t{dir}\n"
    )
}

/// A rule of the fake docker, written by `Project::answer_to`.
pub struct Rule {
    dir: PathBuf,
}

impl Rule {
    /// Answer only the first call this rule matches; later calls go to the rules after it.
    pub fn once(&self) -> &Self {
        fs::write(self.dir.join("once"), "").unwrap();
        self
    }

    /// Also print `text` on stderr.
    pub fn stderr(&self, text: &str) -> &Self {
        fs::write(self.dir.join("err"), text).unwrap();
        self
    }

    /// Run this shell script before answering, in the fake's own shell (sourced, so a `trap`
    /// there holds for the fake); `$FAKE_DOCKER_CALLER` is the pid of the process that ran
    /// docker (timmy).
    pub fn run(&self, script: &str) -> &Self {
        fs::write(self.dir.join("sh"), script).unwrap();
        self
    }
}

pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fake Docker engine on the Unix socket `path`: each connection's request is read up to
/// the blank line after its headers, and `handler` gets its first line (`GET /version HTTP/1.1`)
/// and returns the whole HTTP answer to write, or `None` to close the connection unanswered
/// (as for timmy's bare is-the-daemon-up probe). Runs until the test process ends.
pub fn fake_engine_at(
    path: &Path,
    mut handler: impl FnMut(&str) -> Option<String> + Send + 'static,
) {
    use std::io::{Read, Write};
    let listener = UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut request = Vec::new();
            let mut buf = [0_u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let request = String::from_utf8_lossy(&request);
            let line = request.lines().next().unwrap_or_default();
            if let Some(answer) = handler(line) {
                let _ = conn.write_all(answer.as_bytes());
            }
        }
    });
}

/// An HTTP answer with status line `HTTP/1.1 STATUS`, a JSON content type and `body`.
pub fn json_answer(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// `200 OK` with the JSON `body`.
pub fn json_ok(body: &str) -> String {
    json_answer("200 OK", body)
}

// Helpers added for tests/bad_inputs.rs.

/// Wraps the fake `docker` so that call N also leaves `N.argv`: its arguments separated by NUL
/// bytes, exact even when an argument holds spaces (which `argv.log` cannot show).
const EXACT_ARGV_WRAPPER: &str = r#"#!/bin/sh
PATH=/usr/bin:/bin
dir="$FAKE_DOCKER_DIR"
case " $* " in *" config --quiet "*) exec "$dir/docker-inner" "$@";; esac
n=$(( $(cat "$dir/count" 2>/dev/null || echo 0) + 1 ))
printf '%s\0' "$@" > "$dir/$n.argv"
exec "$dir/docker-inner" "$@"
"#;

impl Project {
    /// Every `config --quiet` query (argv words joined by spaces), in order.
    pub fn config_calls(&self) -> Vec<String> {
        fs::read_to_string(self.fake.join("config.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Make Compose's validation query fail with `stderr` and exit `code`.
    pub fn refuse_config(&self, stderr: &str, code: i32) {
        fs::write(self.fake.join("config.err"), stderr).unwrap();
        fs::write(self.fake.join("config.code"), code.to_string()).unwrap();
    }

    /// Script what the fake prints on stderr for its `n`th call.
    pub fn answer_stderr(&self, n: usize, stderr: &str) {
        fs::write(self.fake.join(format!("{n}.err")), stderr).unwrap();
    }

    /// Forget the calls recorded so far: the next call is call 1 again, and answers scripted
    /// with `answer` for 1, 2… apply to it again.
    pub fn forget_calls(&self) {
        for name in ["count", "argv.log", "config.log", "unanswered.log"] {
            let _ = fs::remove_file(self.fake.join(name));
        }
        for n in 1.. {
            if fs::remove_file(self.fake.join(format!("{n}.argv"))).is_err() {
                break;
            }
        }
    }

    /// Drop every answer scripted so far, by rule or by call number.
    pub fn forget_answers(&self) {
        let _ = fs::remove_dir_all(self.fake.join("rules"));
        for entry in fs::read_dir(&self.fake).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some((n, ext)) = name.split_once('.')
                && n.parse::<usize>().is_ok()
                && ["out", "err", "code", "sh"].contains(&ext)
            {
                fs::remove_file(entry.path()).unwrap();
            }
        }
    }

    /// From now on, also record each call's argv exactly; read it back with `exact_calls`.
    pub fn record_exact_argv(&self) {
        let docker = self.fake.join("bin/docker");
        let inner = self.fake.join("docker-inner");
        if !inner.exists() {
            fs::rename(&docker, &inner).unwrap();
            fs::write(&docker, EXACT_ARGV_WRAPPER).unwrap();
            fs::set_permissions(&docker, fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    /// The exact argv of every call since `record_exact_argv`, in order.
    pub fn exact_calls(&self) -> Vec<Vec<String>> {
        (1..)
            .map_while(|n| fs::read(self.fake.join(format!("{n}.argv"))).ok())
            .map(|bytes| {
                bytes
                    .split(|b| *b == 0)
                    .map(|arg| String::from_utf8_lossy(arg).into_owned())
                    .collect::<Vec<_>>()
            })
            .map(|mut args| {
                args.pop(); // after the last NUL
                args
            })
            .collect()
    }

    /// The exact argv bytes of every call since `record_exact_argv` (for arguments that are not
    /// UTF-8), in order.
    pub fn exact_call_bytes(&self) -> Vec<Vec<Vec<u8>>> {
        (1..)
            .map_while(|n| fs::read(self.fake.join(format!("{n}.argv"))).ok())
            .map(|bytes| {
                let mut args: Vec<Vec<u8>> = bytes.split(|b| *b == 0).map(<[u8]>::to_vec).collect();
                args.pop(); // after the last NUL
                args
            })
            .collect()
    }

    /// The same process setup as `timmy()`, as a plain `std::process::Command` running
    /// `program` (for what `assert_cmd` cannot do, such as running as another user).
    pub fn std_command(&self, program: &Path) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        cmd.current_dir(self.root())
            .env_clear()
            .env("PATH", self.fake.join("bin"))
            .env("HOME", self.dir.path())
            // The machine-wide project lock (`$TMPDIR/timmy-<uid>/`) per test: tests running
            // at once all name their project `proj`.
            .env("TMPDIR", self.dir.path())
            .env("FAKE_DOCKER_DIR", &self.fake)
            .env("TIMMY_DOCKER", self.fake.join("bin/docker"))
            .env("DOCKER_CONFIG", self.fake.join("config"))
            .env(
                "DOCKER_HOST",
                format!("unix://{}", self.socket_path.display()),
            )
            .env("NO_COLOR", "1");
        cmd
    }
}

/// One entry of `tree_snapshot`: path, kind and permission bits, and a regular file's bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub path: PathBuf,
    /// `file 600`, `dir 755`, `symlink -> target`, `fifo 644`, `socket 755`…
    pub kind: String,
    pub bytes: Vec<u8>,
}

/// Every entry under `root` (files, folders, links, pipes, sockets) with its kind, mode and,
/// for regular files, content. Never follows a symlink and never opens anything but a regular
/// file, so it cannot hang on a named pipe; it proves that no file appeared, disappeared,
/// changed or changed mode.
pub fn tree_snapshot(root: &Path) -> Vec<Entry> {
    use std::os::unix::fs::FileTypeExt;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            let mode = meta.permissions().mode() & 0o7777;
            let t = meta.file_type();
            let (kind, bytes) = if t.is_symlink() {
                let target = fs::read_link(&path).unwrap_or_default();
                (format!("symlink -> {}", target.display()), Vec::new())
            } else if t.is_dir() {
                stack.push(path.clone());
                (format!("dir {mode:o}"), Vec::new())
            } else if t.is_file() {
                (
                    format!("file {mode:o}"),
                    fs::read(&path).unwrap_or_default(),
                )
            } else if t.is_fifo() {
                (format!("fifo {mode:o}"), Vec::new())
            } else if t.is_socket() {
                (format!("socket {mode:o}"), Vec::new())
            } else {
                (format!("other {mode:o}"), Vec::new())
            };
            out.push(Entry { path, kind, bytes });
        }
    }
    out.sort();
    out
}
