//! A fresh clone's first day, with the fake docker: `.env.example`'s per-environment
//! requirements as `timmy check` reports them, the warnings a new `.env` needs, pipes that
//! close early, and the commands that act on a stack that is not running.

mod common;

use std::time::Duration;

use common::{Project, stderr_of, stdout_of};

/// `.env.example` with two keys that only prod needs.
const EXAMPLE: &str = "\
NODE_ENV=production
LOG_LEVEL=info
#: required-in=prod  missing=\"calls to GitHub will fail\"
GITHUB_TOKEN=ghp_your_token_here
#: required-in=prod
GITHUB_REPO=your_org/your_repo
";

fn fresh(p: &Project) {
    p.write(".env.example", EXAMPLE);
    p.write(".env", EXAMPLE);
}

#[test]
fn check_without_env_judges_dev_and_names_the_env_that_differs() {
    let p = Project::new();
    fresh(&p);
    let out = p
        .timmy()
        .arg("check")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(
        stderr_of(&out),
        "\
warning: .env:4: GITHUB_TOKEN is a placeholder: calls to GitHub will fail
  hint: the dev stack starts without it; prod needs the real value of GITHUB_TOKEN in .env
warning: .env:6: GITHUB_REPO is a placeholder: what needs GITHUB_REPO will not work (required in prod)
  hint: the dev stack starts without it; prod needs the real value of GITHUB_REPO in .env
timmy: .env is usable for the dev stack (docker/docker-compose.yml + docker/docker-compose.dev.yml) with 2 warnings
timmy: prod: 2 errors: GITHUB_TOKEN, GITHUB_REPO (timmy check prod lists them)
"
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out), "");
}

#[test]
fn check_prod_fails_naming_the_placeholders_and_strict_fails_on_dev_warnings() {
    let p = Project::new();
    fresh(&p);
    let out = p.timmy().args(["check", "prod"]).output().unwrap();
    assert_eq!(
        stderr_of(&out),
        "\
error: .env:4: GITHUB_TOKEN holds a placeholder, not a real value
  hint: put the real value of GITHUB_TOKEN in .env
error: .env:6: GITHUB_REPO holds a placeholder, not a real value
  hint: put the real value of GITHUB_REPO in .env
error: 2 errors in the configuration
"
    );
    assert_eq!(out.status.code(), Some(1));
    let out = p.timmy().args(["check", "--strict"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).ends_with("error: 2 warnings in the configuration (--strict)\n"),
        "{}",
        stderr_of(&out)
    );
    // up dev starts with the placeholders; up prod refuses them before docker
    let out = p
        .timmy()
        .args(["--dry-run", "up", "prod"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(p.calls().is_empty());
}
