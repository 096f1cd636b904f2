//! The test harnesses themselves: an end-to-end test is counted as skipped without an engine,
//! never as passed (it carries `#[ignore]`, and run anyway it fails with the reason), and the
//! fake docker answers by matching the argv.

mod common;
mod engine;

use std::fs;
use std::process::Command;

use common::{Project, stderr_of, stdout_of};

const IGNORE_PREFIX: &str = "#[ignore = \"needs ";
const IGNORE_SUFFIX: &str = " (TIMMY_E2E=1 runs it)\"]";

/// Run by `an_engine_test_run_without_an_engine_fails_with_the_reason` in a child process
/// pointed at no engine. With an engine (`TIMMY_E2E=1`) it starts a project copy and drops it.
#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn an_engine_test() {
    let s = engine::Stack::start("harness", "");
    assert!(s.root().join(".env").is_file());
}

#[test]
fn an_engine_test_run_without_an_engine_fails_with_the_reason() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "an_engine_test", "--include-ignored"])
        .env("DOCKER_HOST", "unix:///nonexistent")
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(101), "{text}{}", stderr_of(&out));
    assert!(
        text.contains("this end-to-end test needs a usable Docker engine: docker info failed: "),
        "{text}"
    );
    assert!(
        text.contains("test result: FAILED. 0 passed; 1 failed; 0 ignored;"),
        "{text}"
    );
}

#[test]
fn without_include_ignored_an_engine_test_is_counted_as_ignored() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "an_engine_test"])
        .env("DOCKER_HOST", "unix:///nonexistent")
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("test result: ok. 0 passed; 0 failed; 1 ignored;"),
        "{text}"
    );
}

/// Every test of a file that uses the engine harness, and the Compose differential, carries
/// the `#[ignore]` that a plain `cargo test` counts as skipped.
#[test]
fn every_engine_test_carries_its_ignore() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut files = Vec::new();
    for entry in fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path();
        let text = fs::read_to_string(&path).unwrap_or_default();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name != "harness.rs" && text.contains("\nmod engine;\n") {
            files.push((name, text));
        }
    }
    files.sort();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"e2e.rs") && names.contains(&"signals.rs"),
        "{names:?}"
    );
    let differential = fs::read_to_string(dir.join("dotenv_compose.rs")).unwrap();
    let mut missing = Vec::new();
    let mut counted = 0;
    for (name, text) in &files {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim() != "#[test]" {
                continue;
            }
            counted += 1;
            let next = lines.get(i + 1).map(|l| l.trim()).unwrap_or_default();
            if !(next.starts_with(IGNORE_PREFIX) && next.ends_with(IGNORE_SUFFIX)) {
                missing.push(format!("{name}:{}", i + 1));
            }
        }
    }
    assert!(counted >= 30, "only {counted} engine tests found");
    assert!(missing.is_empty(), "#[test] without #[ignore]: {missing:?}");
    assert!(differential.contains(
        "#[test]\n#[ignore = \"needs Docker Compose v2 (TIMMY_E2E=1 runs it)\"]\nfn timmy_reads_like_real_docker_compose()"
    ));
}

fn fake(p: &Project, args: &[&str]) -> (String, String, Option<i32>) {
    let out = p
        .std_command(&p.fake.join("bin/docker"))
        .args(args)
        .output()
        .unwrap();
    (stdout_of(&out), stderr_of(&out), out.status.code())
}

fn answer(out: &str, code: i32) -> (String, String, Option<i32>) {
    (out.to_string(), String::new(), Some(code))
}

#[test]
fn the_fake_docker_answers_the_first_rule_whose_words_appear_in_order() {
    let p = Project::new();
    p.answer_to(&["compose", "ps", "json"], "ps\n", 0);
    p.answer_to(&["compose"], "any compose\n", 3)
        .stderr("oops\n");
    p.answer_to(&["inspect", "b"], "b once\n", 0).once();
    p.answer_to(&["inspect"], "inspect\n", 0);
    let ps = ["compose", "-p", "proj", "ps", "--all", "--format", "json"];
    assert_eq!(fake(&p, &ps), answer("ps\n", 0));
    // Words out of order: the next rule that matches.
    assert_eq!(
        fake(&p, &["compose", "json", "ps"]),
        ("any compose\n".into(), "oops\n".into(), Some(3))
    );
    assert_eq!(fake(&p, &["inspect", "a", "b"]), answer("b once\n", 0));
    assert_eq!(fake(&p, &["inspect", "a", "b"]), answer("inspect\n", 0));
    // A word must be a whole argument.
    assert_eq!(fake(&p, &["inspection"]), answer("", 0));
    assert_eq!(fake(&p, &["version"]), answer("", 0));
    assert_eq!(p.unanswered(), ["inspection", "version"]);
    assert_eq!(p.calls().len(), 6);
}

#[test]
fn an_answer_by_call_number_comes_before_the_rules() {
    let p = Project::new();
    p.answer_to(&["ps"], "rule\n", 0);
    p.answer(2, "second\n", 4);
    p.answer_stderr(3, "third\n");
    p.on_call(
        1,
        &format!("touch '{}'", p.dir.path().join("ran").display()),
    );
    assert_eq!(fake(&p, &["ps"]), answer("rule\n", 0));
    assert!(p.dir.path().join("ran").exists());
    assert_eq!(fake(&p, &["ps"]), answer("second\n", 4));
    assert_eq!(
        fake(&p, &["ps"]),
        (String::new(), "third\n".into(), Some(0))
    );
    assert_eq!(fake(&p, &["ps"]), answer("rule\n", 0));
    p.forget_answers();
    assert_eq!(fake(&p, &["ps"]), answer("", 0));
}
