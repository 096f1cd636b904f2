//! CLI tests of the no-op `up` against a fake engine (a Unix socket answering `GET /version`,
//! `GET /containers/json` and `GET /images/NAME/json` with what the test sets) and the fake
//! docker of tests/common: the second `up -d` runs no `docker compose up`; an edit in the
//! build context, an unhealthy container, a moved image tag, `--build`, a `.dockerignore` form
//! timmy does not judge and `up` without `-d` each run the full `up`, `-v` naming the reason.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::{Project, stderr_of, stdout_of};

/// What the fake engine answers; the test changes it between runs.
#[derive(Default)]
struct Engine {
    /// Body of `GET /containers/json` for a query about project `proj-dev`.
    containers: String,
    /// Image ID by image name; a name not here is a 404.
    images: HashMap<String, String>,
}

fn serve(p: &Project, engine: Arc<Mutex<Engine>>) -> std::path::PathBuf {
    let path = p.dir.path().join("engine.sock");
    common::fake_engine_at(&path, move |line| {
        let engine = engine.lock().unwrap();
        let (status, body) = if line.starts_with("GET /version ") {
            (200, r#"{"ApiVersion":"1.41"}"#.to_string())
        } else if line.starts_with("GET /containers/json?") {
            let ours = line.contains("proj-dev%22");
            (
                200,
                if ours {
                    engine.containers.clone()
                } else {
                    "[]".into()
                },
            )
        } else if let Some(rest) = line.strip_prefix("GET /images/") {
            let name = rest.split("/json").next().unwrap_or_default();
            let name = name.replace("%3A", ":").replace("%2F", "/");
            match engine.images.get(&name) {
                Some(id) => (200, format!(r#"{{"Id":"{id}"}}"#)),
                None => (404, r#"{"message":"No such image"}"#.to_string()),
            }
        } else {
            return None;
        };
        Some(common::json_answer(&format!("{status} X"), &body))
    });
    path
}

fn container(p: &Project, service: &str, image_id: &str, status: &str) -> String {
    let root = p.root().display().to_string();
    format!(
        r#"{{"Id":"c-{service}","Names":["/proj-dev-{service}-1"],"Image":"{service}","ImageID":"{image_id}","State":"running","Status":"{status}","Ports":[],"Labels":{{"com.docker.compose.project":"proj-dev","com.docker.compose.service":"{service}","com.docker.compose.oneoff":"False","com.docker.compose.project.config_files":"{root}/docker/docker-compose.yml,{root}/docker/docker-compose.dev.yml","com.docker.compose.project.working_dir":"{root}"}}}}"#
    )
}

fn healthy(p: &Project) -> String {
    format!(
        "[{},{}]",
        container(p, "redis", "sha256:redis", "Up 2 minutes (healthy)"),
        container(p, "timmy", "sha256:timmy", "Up 2 minutes (healthy)")
    )
}

/// A project whose dev stack "runs": redis from an image, timmy built from the root.
fn setup() -> (Project, Arc<Mutex<Engine>>, std::path::PathBuf) {
    let p = Project::new();
    p.write(
        "docker/Dockerfile",
        "ARG BASE=node:20\nFROM ${BASE}\nCOPY app/ /app/\n",
    );
    p.write(".dockerignore", "*\n!app/\n");
    p.write("app/server.js", "v1\n");
    let root = p.root().display().to_string();
    p.answer_to(
        &["config", "--format", "json"],
        &format!(
            r#"{{"name":"proj-dev","services":{{"redis":{{"image":"redis:7"}},"timmy":{{"image":"proj-dev-timmy:dev","build":{{"context":"{root}","dockerfile":"docker/Dockerfile"}}}}}}}}"#
        ),
        0,
    );
    let engine = Arc::new(Mutex::new(Engine {
        containers: healthy(&p),
        images: [
            ("redis:7", "sha256:redis"),
            ("proj-dev-timmy:dev", "sha256:timmy"),
            ("node:20", "sha256:node"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    }));
    let socket = serve(&p, engine.clone());
    (p, engine, socket)
}

/// `timmy -v up ARGS` on the fake engine: its stderr and whether Compose's `up` ran.
fn up(p: &Project, socket: &std::path::Path, args: &[&str]) -> (String, bool) {
    let before = p.calls().len();
    let out = p
        .timmy()
        .env_remove("TIMMY_DOCKER")
        .env("DOCKER_HOST", format!("unix://{}", socket.display()))
        .args(["-v", "up"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).starts_with("SERVICE "),
        "{}",
        stdout_of(&out)
    );
    let ran = p.calls()[before..]
        .iter()
        .any(|c| c.contains(" up --detach --wait "));
    (stderr_of(&out), ran)
}

const SKIP: &str = "no-op up: skip: the same configuration, containers, images and build inputs as the last full up, every service ready\n";

#[track_caller]
fn full(result: &(String, bool), reason: &str) {
    let (err, ran) = result;
    assert!(ran, "Compose's up did not run:\n{err}");
    assert!(
        err.contains(&format!("no-op up: full up: {reason}\n")),
        "{err}"
    );
    assert!(!err.contains(SKIP), "{err}");
}

#[track_caller]
fn skipped(result: &(String, bool)) {
    let (err, ran) = result;
    assert!(!ran, "Compose's up ran:\n{err}");
    assert!(err.contains(SKIP), "{err}");
    assert!(
        err.contains("timmy: nothing changed since the last full up (configuration, images, build inputs): Compose was not run; timmy up --build runs it\n"),
        "{err}"
    );
}

#[test]
fn a_second_up_skips_compose_and_each_change_runs_it_again() {
    let (p, engine, socket) = setup();
    full(
        &up(&p, &socket, &["-d"]),
        "no full up of this stack recorded yet",
    );
    skipped(&up(&p, &socket, &["-d"]));

    p.write("app/server.js", "v2\n");
    full(
        &up(&p, &socket, &["-d"]),
        "the build inputs of `timmy` changed since the last full up",
    );
    skipped(&up(&p, &socket, &["-d"]));

    // A file the context does not send changes nothing.
    p.write("notes.txt", "x\n");
    skipped(&up(&p, &socket, &["-d"]));

    engine.lock().unwrap().containers = format!(
        "[{},{}]",
        container(&p, "redis", "sha256:redis", "Up 2 minutes (healthy)"),
        container(&p, "timmy", "sha256:timmy", "Up 2 minutes (unhealthy)")
    );
    full(&up(&p, &socket, &["-d"]), "`timmy` is unhealthy");
    engine.lock().unwrap().containers = healthy(&p);
    skipped(&up(&p, &socket, &["-d"]));

    full(
        &up(&p, &socket, &["-d", "--build"]),
        "--build asked for the full up",
    );
    full(
        &up(&p, &socket, &[]),
        "up without --detach follows the logs",
    );
    skipped(&up(&p, &socket, &["-d"]));

    engine
        .lock()
        .unwrap()
        .images
        .insert("node:20".into(), "sha256:node-pulled".into());
    full(
        &up(&p, &socket, &["-d"]),
        "the build inputs of `timmy` changed since the last full up",
    );

    engine
        .lock()
        .unwrap()
        .images
        .insert("redis:7".into(), "sha256:redis-pulled".into());
    full(
        &up(&p, &socket, &["-d"]),
        "the image tag of `redis` points at another image than the last full up's",
    );
}

#[test]
fn what_timmy_cannot_judge_always_runs_the_full_up() {
    let (p, _engine, socket) = setup();
    p.write(".dockerignore", "*\n!app/**/*.js\n");
    let reason = "the build inputs of `timmy` cannot be judged: .dockerignore line 2: `!app/**/*.js` is a form timmy does not judge";
    for _ in 0..2 {
        let result = up(&p, &socket, &["-d"]);
        full(&result, "no full up of this stack recorded yet");
        full(&result, reason);
    }
}
