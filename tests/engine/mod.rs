#![allow(dead_code)]
//! Harness for end-to-end tests against a real Docker engine and Compose v2, with the offline images that
//! `scripts/setup.sh` builds. Each test copies the project into a temp dir, uses its own
//! project name, asserts through `docker inspect` / `docker ps` rather than trusting timmy's
//! own output, and tears everything down in a guard even when it fails.
//!
//! Every test that uses this harness carries `#[ignore = "needs a Docker engine (TIMMY_E2E=1
//! runs it)"]`: a plain `cargo test` counts it as ignored (skipped), and `scripts/test.sh` with
//! `TIMMY_E2E=1` (CI) runs it with `--include-ignored`. Once it runs, a missing engine or missing
//! offline images fail it with the reason; it never passes without having run.

pub mod swarm;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const NODE_IMAGE: &str = "timmy-offline/node:20";
pub const REDIS_IMAGE: &str = "timmy-offline/redis:7";

/// Panics with the reason unless the engine is usable. Checked once per test binary.
pub fn require_engine() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let info = Command::new("docker")
            .args(["info", "--format", "{{.ServerVersion}}"])
            .output();
        match info {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                return Err(format!(
                    "docker info failed: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ));
            }
            Err(e) => return Err(format!("docker not runnable: {e}")),
        }
        let compose = Command::new("docker").args(["compose", "version"]).output();
        if !compose.is_ok_and(|o| o.status.success()) {
            return Err("no Compose v2 plugin".into());
        }
        for image in [NODE_IMAGE, REDIS_IMAGE] {
            let ok = Command::new("docker")
                .args(["image", "inspect", image])
                .output();
            if !ok.is_ok_and(|o| o.status.success()) {
                return Err(format!("image {image} missing: run scripts/setup.sh"));
            }
        }
        Ok(())
    });
    if let Err(why) = ready {
        panic!(
            "this end-to-end test needs a usable Docker engine: {why} (without one, leave it \
             ignored: it carries #[ignore], and only TIMMY_E2E=1 scripts/test.sh runs it)"
        );
    }
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A well-formed `.env` for tests: real-looking (fake) tokens, the offline images.
pub const TEST_ENV: &str = include_str!("../fixtures/stack.env");

/// One test's project copy and project name; dropping it removes everything it started.
pub struct Stack {
    pub dir: tempfile::TempDir,
    pub name: String,
    /// The project's folder inside `dir`.
    pub folder: String,
}

impl Stack {
    /// Kept for tests written as `let Some(s) = Stack::new(..) else { return };`: always
    /// `Some`, since `start` panics without an engine. New tests call `start`.
    #[allow(
        clippy::unnecessary_wraps,
        reason = "the Option of call sites written before `start`"
    )]
    pub fn new(test: &str, extra_env: &str) -> Option<Self> {
        Some(Self::start(test, extra_env))
    }

    /// A fresh project copy; panics with the reason when the engine is not usable.
    pub fn start(test: &str, extra_env: &str) -> Self {
        Self::start_in(test, extra_env, "proj")
    }

    /// [`Stack::start`] with the project in `dir/<folder>` instead of `dir/proj`.
    pub fn start_in(test: &str, extra_env: &str, folder: &str) -> Self {
        require_engine();
        let dir = tempfile::Builder::new()
            .prefix("timmy-e2e-")
            .tempdir()
            .unwrap();
        let root = dir.path().join(folder);
        for sub in ["docker", "app", "scripts"] {
            copy_dir(&repo().join(sub), &root.join(sub));
        }
        fs::copy(repo().join(".env.example"), root.join(".env.example")).unwrap();
        let port = free_port();
        let debug_port = free_port();
        let env = format!(
            "{TEST_ENV}NODE_IMAGE={NODE_IMAGE}\nREDIS_IMAGE={REDIS_IMAGE}\nTIMMY_PORT={port}\nTIMMY_DEBUG_PORT={debug_port}\n{extra_env}"
        );
        fs::write(root.join(".env"), env).unwrap();
        fs::set_permissions(root.join(".env"), fs::Permissions::from_mode(0o600)).unwrap();
        let name = format!("e2e-{test}-{}", std::process::id());
        Self {
            dir,
            name,
            folder: folder.to_string(),
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join(&self.folder)
    }

    pub fn timmy(&self, args: &[&str]) -> Output {
        let out = self.timmy_cmd().args(args).output().unwrap();
        eprintln!(
            "$ timmy {}\n-> {:?}\n{}{}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn timmy_cmd(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_timmy"));
        cmd.current_dir(self.root())
            .env("TIMMY_PROJECT_NAME", &self.name)
            .env("NO_COLOR", "1")
            .env_remove("TIMMY_PROJECT_DIR")
            .env_remove("TIMMY_DOCKER");
        cmd
    }

    /// The project names of this test's stacks: prod's (the plain name), then `<name>-<env>`
    /// for dev, test and any other env file the test added.
    pub fn projects(&self) -> Vec<String> {
        let mut envs = vec!["dev".to_string(), "test".to_string()];
        for entry in fs::read_dir(self.root().join("docker"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let file = entry.file_name().to_string_lossy().into_owned();
            if let Some(env) = file
                .strip_prefix("docker-compose.")
                .and_then(|f| f.strip_suffix(".yml"))
                && !env.is_empty()
                && env != "prod"
                && !envs.iter().any(|e| e == env)
            {
                envs.push(env.to_string());
            }
        }
        let mut names = vec![self.name.clone()];
        names.extend(envs.iter().map(|env| format!("{}-{env}", self.name)));
        names
    }

    /// Containers of this test's stacks (any env), as docker sees them.
    pub fn containers(&self) -> Vec<String> {
        self.projects()
            .iter()
            .flat_map(|project| {
                docker(&[
                    "ps",
                    "-a",
                    "-q",
                    "--filter",
                    &format!("label=com.docker.compose.project={project}"),
                ])
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Named volumes of this test's stacks (any env).
    pub fn volumes(&self) -> Vec<String> {
        self.projects().iter().flat_map(|p| volumes_of(p)).collect()
    }

    /// The container of `service` in whichever of this test's stacks has one (dev's first).
    pub fn container_of(&self, service: &str) -> String {
        let mut projects = self.projects();
        projects.swap(0, 1);
        for project in projects {
            if let Some(id) = container_in(&project, service) {
                return id;
            }
        }
        panic!("no container for service {service} in {}", self.name);
    }

    pub fn inspect(&self, service: &str, format: &str) -> String {
        docker(&["inspect", "--format", format, &self.container_of(service)])
            .trim()
            .to_string()
    }

    pub fn health(&self, service: &str) -> String {
        self.inspect(service, "{{.State.Health.Status}}")
    }

    pub fn wait_for_health(&self, service: &str, want: &str, limit: Duration) {
        let start = Instant::now();
        loop {
            let now = self.health(service);
            if now == want {
                return;
            }
            assert!(
                start.elapsed() < limit,
                "{service} is {now}, not {want}, after {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for project in self.projects() {
            let _ = Command::new("docker")
                .args([
                    "compose",
                    "-p",
                    &project,
                    "down",
                    "--volumes",
                    "--remove-orphans",
                    "--timeout",
                    "2",
                ])
                .current_dir(self.dir.path())
                .output();
            let ids = docker_lenient(&[
                "ps",
                "-a",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={project}"),
            ]);
            for id in ids.lines() {
                let _ = Command::new("docker").args(["rm", "-fv", id]).output();
            }
            let vols = docker_lenient(&[
                "volume",
                "ls",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={project}"),
            ]);
            for v in vols.lines() {
                let _ = Command::new("docker")
                    .args(["volume", "rm", "-f", v])
                    .output();
            }
            // Each env names its image `<project>-<service>:<env>` (docker/docker-compose.*.yml).
            for image in ["timmy", "tests"] {
                for tag in ["dev", "prod", "test", "latest"] {
                    let _ = Command::new("docker")
                        .args(["image", "rm", "-f", &format!("{project}-{image}:{tag}")])
                        .output();
                }
            }
        }
    }
}

/// The container of `service` in project `project`, if there is one.
pub fn container_in(project: &str, service: &str) -> Option<String> {
    let out = docker(&[
        "ps",
        "-a",
        "-q",
        "--no-trunc",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        &format!("label=com.docker.compose.service={service}"),
    ]);
    out.lines().next().map(str::to_string)
}

/// Named volumes of project `project`, as docker lists them.
pub fn volumes_of(project: &str) -> Vec<String> {
    labelled("volume", project)
        .lines()
        .map(str::to_string)
        .collect()
}

pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The ids of what docker lists with `project`'s Compose label: `kind` is `container` (stopped
/// ones included), `network` or `volume`.
pub fn labelled(kind: &str, project: &str) -> String {
    let filter = format!("label=com.docker.compose.project={project}");
    match kind {
        "container" => docker(&["container", "ls", "-a", "-q", "--filter", &filter]),
        "network" | "volume" => docker(&[kind, "ls", "-q", "--filter", &filter]),
        _ => panic!("no such kind of docker object: {kind}"),
    }
}

/// Fails unless docker lists no `kind` (see `labelled`) of `project`.
#[track_caller]
pub fn assert_none_left(kind: &str, project: &str) {
    let left = labelled(kind, project);
    assert!(
        left.trim().is_empty(),
        "{kind}s of project {project} left: {left}"
    );
}

pub fn docker_lenient(args: &[&str]) -> String {
    Command::new("docker")
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
pub fn ok(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}
