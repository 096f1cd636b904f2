//! Tests of `render/stack_secrets.rs`: secret values as Swarm secrets, `--secrets env`, top-level secrets.

use super::*;

#[test]
fn a_changed_secret_value_is_a_new_secret_name_and_the_same_value_is_one_secret() {
    let json = |token: &str| {
        format!(
            r#"{{"image": "i", "environment": {{"GITHUB_TOKEN": "{token}", "LOG_LEVEL": "info", "EMPTY_PASSWORD": ""}}}}"#
        )
    };
    let a = one(
        &json("ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u"),
        "",
        &options(),
    );
    let b = one(
        &json("ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3v"),
        "",
        &options(),
    );
    let names = |r: &Rendered| {
        r.secret_files
            .iter()
            .map(|f| f.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&a), ["timmy_GITHUB_TOKEN_d03680ebb084"]);
    assert_eq!(names(&b), ["timmy_GITHUB_TOKEN_1d3ade937f7c"]);
    assert_eq!(
        a.stack["services"]["svc"]["environment"],
        serde_json::json!({"GITHUB_TOKEN_FILE": "/run/secrets/GITHUB_TOKEN", "LOG_LEVEL": "info", "EMPTY_PASSWORD": ""})
    );
    assert_eq!(
        a.stack["services"]["svc"]["secrets"],
        serde_json::json!([{"source": "GITHUB_TOKEN_d03680ebb084", "target": "GITHUB_TOKEN"}])
    );
    assert_eq!(
        a.stack["secrets"],
        serde_json::json!({"GITHUB_TOKEN_d03680ebb084": {"name": "timmy_GITHUB_TOKEN_d03680ebb084", "file": "/run/user/1000/timmy/GITHUB_TOKEN_d03680ebb084"}})
    );
    assert!(!a.text().contains("ghp_"));
    // Two services with the same value share one secret.
    let svc: Value =
        serde_json::from_str(&json("ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u")).unwrap();
    let config = serde_json::json!({"name": "timmy", "services": {"a": svc.clone(), "b": svc}});
    let r = render(&config, &[], &options());
    assert_eq!(names(&r), ["timmy_GITHUB_TOKEN_d03680ebb084"]);
    assert_eq!(
        r.stack["services"]["b"]["secrets"],
        r.stack["services"]["a"]["secrets"]
    );
}

#[test]
fn top_level_secrets_come_from_files_or_are_external() {
    let config = serde_json::json!({
        "name": "timmy",
        "services": {},
        "secrets": {
            "cert": {"name": "timmy_cert", "file": "/srv/timmy/cert.pem"},
            "shared": {"name": "shared", "external": true},
            "token": {"name": "timmy_token", "environment": "GITHUB_TOKEN"}
        }
    });
    let yml = "services: {}\nsecrets:\n  cert:\n    file: ./cert.pem\n  shared:\n    external: true\n  token:\n    environment: GITHUB_TOKEN\n";
    let r = render(
        &config,
        &[("docker/docker-compose.yml".into(), yml.into())],
        &options(),
    );
    assert_eq!(
        r.stack["secrets"],
        serde_json::json!({
            "cert": {"name": "timmy_cert", "file": "/srv/timmy/cert.pem"},
            "shared": {"name": "shared", "external": true},
            "token": {"name": "timmy_token"}
        })
    );
    assert_eq!(
        found(&r),
        [
            "error: docker/docker-compose.yml:8: `secrets.token.environment`: Swarm reads secrets from a file, or takes existing ones (external) (hint: write the value to a file and name it with `file:`)"
        ]
    );
}

#[test]
fn a_secret_file_holds_the_value_compose_escaped_as_double_dollars() {
    // `.env`: DB_PASSWORD='pa$word'; `docker compose config` prints "pa$$word" (measured).
    let r = one(
        r#"{"image": "i", "environment": {"DB_PASSWORD": "pa$$word"}}"#,
        "",
        &options(),
    );
    assert_eq!(r.secret_files[0].value, "pa$word");
    // sha256sum of `pa$word`.
    assert_eq!(r.secret_files[0].name, "timmy_DB_PASSWORD_31215ff0f8bb");
}

#[test]
fn secrets_mode_env_keeps_the_values_and_says_where_they_show() {
    let mut o = options();
    o.secrets = SecretsMode::Env;
    let r = one(
        r#"{"image": "i", "environment": {"GITHUB_TOKEN": "ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u"}}"#,
        "services:\n  svc:\n    environment:\n      GITHUB_TOKEN: x\n",
        &o,
    );
    assert!(r.secret_files.is_empty());
    assert_eq!(
        r.stack["services"]["svc"]["environment"]["GITHUB_TOKEN"],
        "ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u"
    );
    assert_eq!(
        found(&r),
        [
            "warning: docker/docker-compose.yml:3: the secret values of service `svc` stay in its environment (--secrets env): `docker service inspect` shows them"
        ]
    );
}
