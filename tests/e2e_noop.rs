//! End-to-end tests of the no-op `up` on a real engine: a second `up -d` with nothing changed
//! skips Compose (`-v` says why, the containers stay as they were); an edit under app/ or of
//! `.env` always runs the full `up`, in dev and in prod, and the containers then run the new
//! image or configuration.

mod engine;

use std::fs;
use std::process::Output;

use engine::{Stack, ok, stderr};

/// `timmy -v up ENV -d` with the record kept in the test's own cache folder.
fn up(s: &Stack, env: &str) -> Output {
    let mut cmd = s.timmy_cmd();
    cmd.env("XDG_CACHE_HOME", s.dir.path().join("cache"))
        .args(["-v", "up", env, "-d"]);
    let out = cmd.output().unwrap();
    eprintln!(
        "$ timmy -v up {env} -d\n-> {:?}\n{}",
        out.status.code(),
        stderr(&out)
    );
    ok(&out);
    out
}

/// The test's copy with the repository's `.dockerignore` (the build context is the root).
fn start(test: &str) -> Stack {
    let s = Stack::start(test, "");
    fs::copy(
        engine::repo().join(".dockerignore"),
        s.root().join(".dockerignore"),
    )
    .unwrap();
    s
}

const SKIP: &str = "no-op up: skip: the same configuration, containers, images and build inputs as the last full up, every service ready\n";
const COMPOSE_UP: &str = " up --detach --wait --wait-timeout 120 --remove-orphans --build\n";

#[track_caller]
fn skipped(out: &Output) {
    let err = stderr(out);
    assert!(err.contains(SKIP), "{err}");
    assert!(!err.contains(COMPOSE_UP), "Compose's up ran:\n{err}");
    assert!(
        err.contains("timmy: nothing changed since the last full up (configuration, images, build inputs): Compose was not run; timmy up --build runs it\n"),
        "{err}"
    );
}

#[track_caller]
fn full(out: &Output, reason: &str) {
    let err = stderr(out);
    assert!(
        err.contains(&format!("no-op up: full up: {reason}\n")),
        "{err}"
    );
    assert!(!err.contains(SKIP), "{err}");
    assert!(err.contains(COMPOSE_UP), "Compose's up did not run:\n{err}");
}

#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn a_second_up_skips_compose_until_app_or_env_changes() {
    let s = start("noop-dev");
    full(&up(&s, "dev"), "no full up of this stack recorded yet");
    let container = s.container_of("timmy");
    let image = s.inspect("timmy", "{{.Image}}");
    let started = s.inspect("timmy", "{{.State.StartedAt}}");

    skipped(&up(&s, "dev"));
    assert_eq!(s.container_of("timmy"), container);
    assert_eq!(s.inspect("timmy", "{{.State.StartedAt}}"), started);

    // An edit under app/ (in the build context): rebuilt, and the container runs the new image.
    let log_js = s.root().join("app/log.js");
    let text = fs::read_to_string(&log_js).unwrap();
    fs::write(&log_js, format!("{text}// edited by the no-op test\n")).unwrap();
    full(
        &up(&s, "dev"),
        "the build inputs of `timmy` changed since the last full up",
    );
    let rebuilt = s.inspect("timmy", "{{.Image}}");
    assert_ne!(rebuilt, image, "the container runs the rebuilt image");
    skipped(&up(&s, "dev"));

    // A changed .env: the container is recreated with it. (A LOG_LEVEL there changes nothing:
    // dev's file sets it, so Compose would not recreate either.)
    let container = s.container_of("timmy");
    let env = s.root().join(".env");
    let text = fs::read_to_string(&env).unwrap();
    fs::write(&env, format!("{text}LOG_MAX_FILE=4\n")).unwrap();
    full(
        &up(&s, "dev"),
        "the resolved configuration differs from the last full up's",
    );
    assert_ne!(s.container_of("timmy"), container, "recreated");
    assert_eq!(
        s.inspect(
            "timmy",
            "{{index .HostConfig.LogConfig.Config \"max-file\"}}"
        ),
        "4"
    );
    skipped(&up(&s, "dev"));
}

#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn prod_after_an_app_change_is_never_skipped() {
    let s = start("noop-prod");
    full(&up(&s, "prod"), "no full up of this stack recorded yet");
    skipped(&up(&s, "prod"));
    let image = s.inspect("timmy", "{{.Image}}");
    let server = s.root().join("app/server.js");
    let text = fs::read_to_string(&server).unwrap();
    fs::write(&server, format!("{text}// a change that must reach prod\n")).unwrap();
    full(
        &up(&s, "prod"),
        "the build inputs of `timmy` changed since the last full up",
    );
    assert_ne!(s.inspect("timmy", "{{.Image}}"), image);
    let running = s.inspect("timmy", "{{.Image}}");
    let tagged = engine::docker(&[
        "image",
        "inspect",
        "--format",
        "{{.Id}}",
        &format!("{}-timmy:prod", s.name),
    ]);
    assert_eq!(
        running,
        tagged.trim(),
        "prod runs the image built from the change"
    );
}
