//! The README's quick start, run as written on a copy of the repository with no `.env`: the
//! two commands between the `quick-start` markers bring the dev stack to healthy (asserted with
//! `docker inspect`), and `timmy check prod` on the `.env` that setup created fails naming the
//! placeholders. The engine is shared with other test runs, so the copy's two engine steps of
//! `scripts/setup.sh` (`setup-engine.sh`, `build-offline-images.sh`, both idempotent and
//! already done on this machine) are replaced by stubs that only prove the engine answers;
//! everything else of `setup.sh` (the `.env` it creates) runs for real. `cargo run [--release]
//! --` is a shim on PATH that runs the timmy binary this test was built with.

mod engine;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use engine::{Stack, docker_lenient, repo, stderr, stdout};

const BEGIN: &str = "<!-- quick-start:begin -->";
const END: &str = "<!-- quick-start:end -->";

/// The command lines of the README's quick start block, comments and all (`sh` drops them).
fn quick_start(readme: &str) -> Vec<String> {
    let start = readme
        .find(BEGIN)
        .expect("README has the quick-start:begin marker")
        + BEGIN.len();
    let len = readme[start..]
        .find(END)
        .expect("README has the quick-start:end marker");
    readme[start..start + len]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("```"))
        .map(str::to_owned)
        .collect()
}

#[test]
#[ignore = "needs no engine, but belongs with the quick-start engine tests (TIMMY_E2E=1 runs it)"]
fn readme_quick_start_is_two_commands_setup_then_up_dev() {
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let lines = quick_start(&readme);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(lines[0].starts_with("scripts/setup.sh "), "{lines:#?}");
    assert!(lines[1].starts_with("cargo run "), "{lines:#?}");
    assert!(lines[1].contains(" up dev"), "{lines:#?}");
    assert!(
        !readme.contains("${EDITOR"),
        "the quick start has no editor step"
    );
}

const STUB: &str = "#!/bin/sh\n# stands in for an engine step already done on this machine\ndocker info >/dev/null\n";

/// `cargo run [--release] -- ARGS…` → the timmy binary under test with ARGS.
fn cargo_shim(bin: &Path) -> String {
    format!(
        "#!/bin/sh\n[ \"$1\" = run ] || exit 99\nwhile [ $# -gt 0 ] && [ \"$1\" != -- ]; do shift; done\nshift\nexec {} \"$@\"\n",
        bin.display()
    )
}

fn write_exe(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn sh(s: &Stack, path: &str, line: &str) -> Output {
    let out = Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(s.root())
        .env("PATH", path)
        .env("TIMMY_PROJECT_NAME", &s.name)
        .env("NO_COLOR", "1")
        // The shared engine may already publish 3000/9229: Compose takes the shell's value
        // over .env's, so .env stays exactly as setup wrote it.
        .env("TIMMY_PORT", "0")
        .env("TIMMY_DEBUG_PORT", "0")
        .env_remove("TIMMY_PROJECT_DIR")
        .env_remove("TIMMY_DOCKER")
        .output()
        .unwrap();
    eprintln!(
        "$ {line}\n-> {:?}\n{}{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    out
}

/// The health of `service` in whichever project the dev stack runs under (`<name>` or
/// `<name>-dev`), as the engine reports it.
fn dev_health(s: &Stack, service: &str) -> String {
    for project in [s.name.clone(), format!("{}-dev", s.name)] {
        let id = docker_lenient(&[
            "ps",
            "-q",
            "--filter",
            &format!("label=com.docker.compose.project={project}"),
            "--filter",
            &format!("label=com.docker.compose.service={service}"),
        ]);
        if let Some(id) = id.lines().next() {
            return docker_lenient(&["inspect", "--format", "{{.State.Health.Status}}", id])
                .trim()
                .to_owned();
        }
    }
    "no container".to_owned()
}

/// Also removes a `<name>-dev` project, whatever the harness cleans.
struct DevGuard(String);

impl Drop for DevGuard {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args([
                "compose",
                "-p",
                &self.0,
                "down",
                "--volumes",
                "--remove-orphans",
                "--timeout",
                "2",
            ])
            .current_dir("/")
            .output();
    }
}

#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn readme_quick_start_brings_dev_healthy_and_prod_check_names_placeholders() {
    let s = Stack::start("quickstart", "");
    let _dev = DevGuard(format!("{}-dev", s.name));
    let root = s.root();
    // A fresh clone: no .env, the engine steps already done on this machine.
    fs::remove_file(root.join(".env")).unwrap();
    write_exe(&root.join("scripts/setup-engine.sh"), STUB);
    write_exe(&root.join("scripts/build-offline-images.sh"), STUB);
    let shims = s.dir.path().join("bin");
    fs::create_dir_all(&shims).unwrap();
    write_exe(
        &shims.join("cargo"),
        &cargo_shim(Path::new(env!("CARGO_BIN_EXE_timmy"))),
    );
    let path = format!(
        "{}:{}",
        shims.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    for line in quick_start(&readme) {
        let out = sh(&s, &path, &line);
        assert_eq!(out.status.code(), Some(0), "`{line}` failed");
    }

    let env = fs::read_to_string(root.join(".env")).unwrap();
    let example = fs::read_to_string(root.join(".env.example")).unwrap();
    assert_eq!(
        env,
        example
            .replace(
                "NODE_IMAGE=node:20-slim",
                "NODE_IMAGE=timmy-offline/node:20"
            )
            .replace(
                "REDIS_IMAGE=redis:7-alpine",
                "REDIS_IMAGE=timmy-offline/redis:7"
            ),
        ".env is .env.example untouched (offline images aside)"
    );
    assert_eq!(
        fs::metadata(root.join(".env"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(dev_health(&s, "redis"), "healthy");
    assert_eq!(dev_health(&s, "timmy"), "healthy");

    let prod = s.timmy(&["check", "prod"]);
    assert_eq!(prod.status.code(), Some(1));
    let err = stderr(&prod);
    for key in [
        "CLICKUP_API_TOKEN",
        "CLICKUP_TEAM_ID",
        "GITHUB_TOKEN",
        "GITHUB_REPO",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
    ] {
        assert!(
            err.contains(&format!(": {key} holds a placeholder, not a real value\n")),
            "{key} not named: {err}"
        );
    }
    assert!(
        err.ends_with("error: 6 errors in the configuration\n"),
        "{err}"
    );

    // Piped logs are plain text: the dev service's `tty: true` writes `\r\n`, Compose colours.
    let logs = s.timmy(&["logs", "--tail", "20", "timmy"]);
    assert_eq!(logs.status.code(), Some(0));
    let text = stdout(&logs);
    assert!(text.contains("\"msg\":\"listening\""), "{text}");
    assert!(!text.contains('\r') && !text.contains('\u{1b}'), "{text:?}");

    // `restart` returns once the service is healthy again, as `up` does.
    let restart = s.timmy(&["restart", "timmy"]);
    assert_eq!(restart.status.code(), Some(0), "{}", stderr(&restart));
    assert_eq!(dev_health(&s, "timmy"), "healthy");

    // The service says which integrations it runs without.
    let health = sh(
        &s,
        &path,
        "cargo run -- exec timmy -- node -e \"fetch('http://localhost:3000/health').then(r=>r.text()).then(t=>console.log(t))\"",
    );
    assert!(
        stdout(&health).contains(
            "\"integrations\":{\"clickup\":\"unavailable\",\"github\":\"unavailable\",\"anthropic\":\"unavailable\",\"openai\":\"unavailable\"}"
        ),
        "{}",
        stdout(&health)
    );
}

/// `timmy run` starts redis for the one-off container (`depends_on`) and stops it again; with a
/// running stack, what ran before keeps running.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn run_leaves_no_dependency_running() {
    let s = Stack::start("rundeps", "");
    let _dev = DevGuard(format!("{}-dev", s.name));
    let out = s.timmy(&["run", "timmy", "--", "node", "-e", "console.log('one-off')"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("one-off"), "{}", stdout(&out));
    assert_eq!(s.containers(), Vec::<String>::new());
    let dev = format!("{}-dev", s.name);
    let left = docker_lenient(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={dev}"),
    ]);
    assert_eq!(left, "");
}
