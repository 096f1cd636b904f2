//! End-to-end tests of images and host ports on a real engine: each env runs its own image,
//! built from the current sources, whatever ran before; `ps` names it; a host port in use is
//! refused before anything starts, naming the `.env` key and who holds the port.

mod engine;

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use engine::{Stack, docker, docker_lenient, ok, stderr, stdout};

/// The running `service` container of the stack, in whichever of its projects it runs (dev
/// may run under `<name>` or `<name>-dev`), with that project's name.
fn running(s: &Stack, service: &str) -> (String, String) {
    for project in [s.name.clone(), format!("{}-dev", s.name)] {
        let out = docker_lenient(&[
            "ps",
            "-q",
            "--no-trunc",
            "--filter",
            &format!("label=com.docker.compose.project={project}"),
            "--filter",
            &format!("label=com.docker.compose.service={service}"),
        ]);
        if let Some(id) = out.lines().next() {
            return (id.to_string(), project);
        }
    }
    panic!("no running {service} container in {}", s.name);
}

fn inspect(id: &str, format: &str) -> String {
    docker(&["inspect", "--format", format, id])
        .trim()
        .to_string()
}

fn set_env(s: &Stack, key: &str, value: &str) {
    let path = s.root().join(".env");
    let text = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with(&format!("{key}=")))
        .map(str::to_string)
        .collect();
    lines.push(format!("{key}={value}"));
    fs::write(&path, lines.join("\n") + "\n").unwrap();
}

fn env_value(s: &Stack, key: &str) -> String {
    fs::read_to_string(s.root().join(".env"))
        .unwrap()
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap()
        .to_string()
}

/// Hole 1: `up dev; down; up prod` ran the dev image in prod (inspector, root), and `build
/// prod; up dev` ran the prod image in dev. Each env now runs its own image, named after it.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn each_env_runs_its_own_image_whatever_ran_before() {
    let s = Stack::start("ownimage", "");
    ok(&s.timmy(&["up", "dev", "-d"]));
    ok(&s.timmy(&["down"]));
    ok(&s.timmy(&["up", "prod", "-d"]));
    let (id, project) = running(&s, "timmy");
    assert_eq!(project, s.name, "prod keeps the plain project name");
    assert_eq!(
        inspect(&id, "{{json .Config.Cmd}}"),
        r#"["node","app/server.js"]"#
    );
    assert_eq!(inspect(&id, "{{.Config.User}}"), "1000:1000");
    assert_eq!(
        inspect(&id, "{{.Config.Image}}"),
        format!("{}-timmy:prod", s.name)
    );
    let ps = s.timmy(&["ps", "--env", "prod", "--json"]);
    ok(&ps);
    let v: serde_json::Value = serde_json::from_slice(&ps.stdout).unwrap();
    let timmy = v
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service"] == "timmy")
        .unwrap();
    assert_eq!(timmy["image"], format!("{}-timmy:prod", s.name));
    let table = s.timmy(&["ps", "--env", "prod"]);
    ok(&table);
    let line = stdout(&table)
        .lines()
        .find(|l| l.starts_with("timmy "))
        .unwrap_or_default()
        .to_string();
    assert!(
        line.ends_with(&format!("  {}-timmy:prod", s.name)),
        "{}",
        stdout(&table)
    );
    ok(&s.timmy(&["down", "prod"]));

    // The reverse: a fresh prod build must not end up in dev.
    ok(&s.timmy(&["build", "prod"]));
    ok(&s.timmy(&["up", "dev", "-d"]));
    let (id, project) = running(&s, "timmy");
    assert_eq!(
        inspect(&id, "{{json .Config.Cmd}}"),
        r#"["node","--watch","--inspect=0.0.0.0:9229","app/server.js"]"#
    );
    assert_eq!(inspect(&id, "{{.Config.User}}"), "");
    assert_eq!(
        inspect(&id, "{{.Config.Image}}"),
        format!("{project}-timmy:dev")
    );
    ok(&s.timmy(&["down", "dev"]));
}

fn get_root(port: &str) -> String {
    let mut conn = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    conn.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer
}

/// Hole 1, second half: an edit of app/ reaches prod on the next `up prod` (the image was
/// only built when missing).
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn an_edit_of_the_sources_reaches_prod_on_the_next_up() {
    let s = Stack::start("newcode", "");
    ok(&s.timmy(&["up", "prod", "-d"]));
    let port = env_value(&s, "TIMMY_PORT");
    assert!(get_root(&port).contains(r#""version":"0.1.0""#));
    let package = s.root().join("app/package.json");
    let text = fs::read_to_string(&package).unwrap();
    fs::write(
        &package,
        text.replace(r#""version": "0.1.0""#, r#""version": "0.1.1-edited""#),
    )
    .unwrap();
    ok(&s.timmy(&["up", "prod", "-d"]));
    let answer = get_root(&port);
    assert!(answer.contains(r#""version":"0.1.1-edited""#), "{answer}");
}

/// Hole 8: a port held by a plain listener is refused before anything starts, naming the key.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn a_port_in_use_is_refused_before_anything_starts() {
    let s = Stack::start("portbusy", "");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    set_env(&s, "TIMMY_PORT", &port.to_string());
    for env in ["dev", "prod"] {
        let out = s.timmy(&["up", env, "-d"]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_eq!(
            stderr(&out),
            format!(
                "error: port 127.0.0.1:{port} (TIMMY_PORT) is in use by another process\n  \
                 hint: set TIMMY_PORT in .env to a free port, or stop that process \
                 (`lsof -iTCP:{port} -sTCP:LISTEN` shows it)\n"
            )
        );
        for project in [s.name.clone(), format!("{}-dev", s.name)] {
            let all = docker(&[
                "ps",
                "-a",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={project}"),
            ]);
            assert!(all.trim().is_empty(), "{env}: containers created: {all}");
        }
    }
    drop(listener);
    ok(&s.timmy(&["up", "prod", "-d"]));
}

/// Hole 8: a port held by another stack names that stack; a stack's own ports never stop its
/// own re-`up`.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn a_port_held_by_another_stack_names_it() {
    let a = Stack::start("portholder", "");
    let b = Stack::start("portwanter", "");
    ok(&a.timmy(&["up", "dev", "-d"]));
    ok(&a.timmy(&["up", "dev", "-d"]));
    let (_, project) = running(&a, "timmy");
    let port = env_value(&a, "TIMMY_PORT");
    set_env(&b, "TIMMY_PORT", &port);
    let out = b.timmy(&["up", "prod", "-d"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "error: port 127.0.0.1:{port} (TIMMY_PORT) is in use by the dev stack `{project}` of \
             the checkout {} (container {project}-timmy-1)\n  \
             hint: stop `{project}-timmy-1`, or set TIMMY_PORT in .env to a free port\n",
            a.root().display()
        )
    );
    assert!(b.containers().is_empty(), "{:?}", b.containers());
}
