//! The translation's tests. Here: the fixtures every test file shares (the repository's own
//! compose files with `config`'s output for prod and dev, one-service stacks, findings as
//! printed) and the renders of whole environments; each part's tests sit in the file named
//! after its module.

use super::*;

mod emit;
mod mounts;
mod networks;
mod ports;
mod services;
mod stack_secrets;

const PROD: &str = include_str!("../../testdata/prod.json");

fn files() -> Vec<(String, String)> {
    [
        "docker/docker-compose.yml",
        "docker/docker-compose.prod.yml",
    ]
    .iter()
    .map(|f| {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(f));
        ((*f).to_owned(), text.unwrap_or_default())
    })
    .collect()
}

fn options() -> Options {
    Options::new(
        "timmy",
        Path::new("/srv/timmy"),
        Path::new("/run/user/1000/timmy"),
    )
}

fn prod() -> Value {
    serde_json::from_str(PROD).unwrap()
}

#[test]
fn prod_renders_to_a_stack_file_with_its_secrets_as_swarm_secrets() {
    let mut o = options();
    o.publish_mode = Some(PublishMode::Host);
    let r = render(&prod(), &files(), &o);
    assert_eq!(r.text(), include_str!("../../testdata/prod.stack.yml"));
    let files: Vec<(&str, &str, String, &str)> = r
        .secret_files
        .iter()
        .map(|f| {
            (
                f.key.as_str(),
                f.name.as_str(),
                f.path.display().to_string(),
                f.value.as_str(),
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            (
                "ANTHROPIC_API_KEY",
                "timmy_ANTHROPIC_API_KEY_7aab4a478b27",
                "/run/user/1000/timmy/ANTHROPIC_API_KEY_7aab4a478b27".to_owned(),
                "sk-ant-your_key_here"
            ),
            (
                "CLICKUP_API_TOKEN",
                "timmy_CLICKUP_API_TOKEN_d6b162932db3",
                "/run/user/1000/timmy/CLICKUP_API_TOKEN_d6b162932db3".to_owned(),
                "pk_your_token_here"
            ),
            (
                "GITHUB_TOKEN",
                "timmy_GITHUB_TOKEN_2fdacb9cd4b0",
                "/run/user/1000/timmy/GITHUB_TOKEN_2fdacb9cd4b0".to_owned(),
                "ghp_your_token_here"
            ),
            (
                "OPENAI_API_KEY",
                "timmy_OPENAI_API_KEY_3bb9fbfa54c6",
                "/run/user/1000/timmy/OPENAI_API_KEY_3bb9fbfa54c6".to_owned(),
                "sk-your_key_here"
            ),
        ]
    );
    assert_eq!(
        r.builds,
        [Build {
            service: "timmy".into(),
            image: "timmy-timmy:prod".into(),
            build: serde_json::json!({
                "context": "/srv/timmy",
                "dockerfile": "docker/Dockerfile.prod",
                "args": {"NODE_IMAGE": "node:20-slim"}
            }),
        }]
    );
    assert!(!r.refused());
}

#[test]
fn dev_renders_with_its_two_local_ports_its_terminal_and_its_source_mount() {
    let config: Value = serde_json::from_str(include_str!("../../testdata/dev.json")).unwrap();
    let files: Vec<(String, String)> =
        ["docker/docker-compose.yml", "docker/docker-compose.dev.yml"]
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(f));
                ((*f).to_owned(), text.unwrap())
            })
            .collect();
    let mut o = Options::new("timmy-dev", Path::new("/srv/timmy"), Path::new("/run/s"));
    let r = render(&config, &files, &o);
    assert_eq!(
        found(&r)
            .iter()
            .filter(|f| f.starts_with("error"))
            .collect::<Vec<_>>(),
        [
            "error: docker/docker-compose.dev.yml:18: port 3000:3000 of service `timmy` is published on 127.0.0.1 only, and Swarm publishes on every interface (hint: say how to publish: timmy deploy --publish ingress (every node) or --publish host (the node running the task), or SWARM_PUBLISH_MODE in .env)",
            "error: docker/docker-compose.dev.yml:19: port 9229:9229 of service `timmy` is published on 127.0.0.1 only, and Swarm publishes on every interface (hint: say how to publish: timmy deploy --publish ingress (every node) or --publish host (the node running the task), or SWARM_PUBLISH_MODE in .env)",
        ]
    );
    o.publish_mode = Some(PublishMode::Host);
    let r = render(&config, &files, &o);
    assert_eq!(
        found(&r),
        [
            "warning: docker/docker-compose.yml:67: network `timmy-network` becomes an attachable overlay network: a bridge reaches one host only",
            "warning: docker/docker-compose.dev.yml:8: `build` of service `timmy` is dropped: Swarm runs images only, so the image is built and tagged before the deploy",
            "warning: docker/docker-compose.yml:51: `depends_on` of service `timmy` is dropped: Swarm starts services in no order and waits for no health (hint: `timmy` must retry until `redis` answers)",
            "warning: docker/docker-compose.dev.yml:18: port 3000:3000 of service `timmy` was published on 127.0.0.1 only; Swarm publishes it on every interface (host mode)",
            "warning: docker/docker-compose.dev.yml:19: port 9229:9229 of service `timmy` was published on 127.0.0.1 only; Swarm publishes it on every interface (host mode)",
            "warning: docker/docker-compose.yml:47: bind mounts /srv/timmy/workspace, /srv/timmy/data, /srv/timmy/config, /srv/timmy/logs, /srv/timmy/app of service `timmy` must exist on every node that runs it: Swarm does not create them",
        ]
    );
    let timmy = &r.stack["services"]["timmy"];
    assert_eq!(
        (&timmy["tty"], &timmy["stdin_open"]),
        (&Value::Bool(true), &Value::Bool(true))
    );
    assert_eq!(timmy["image"], "timmy-dev-timmy:dev");
    assert_eq!(timmy["environment"]["NODE_ENV"], "development");
    assert_eq!(r.secret_files.len(), 4);
    assert_eq!(
        r.stack["volumes"]["redis-data"]["name"],
        "timmy-dev_redis-data"
    );
}

#[test]
fn a_built_service_runs_the_image_it_is_given() {
    let mut o = options();
    o.publish_mode = Some(PublishMode::Host);
    o.images.insert("timmy".into(), "timmy-timmy:3f2a9c".into());
    let r = render(&prod(), &files(), &o);
    assert_eq!(r.stack["services"]["timmy"]["image"], "timmy-timmy:3f2a9c");
    assert_eq!(r.stack["services"]["redis"]["image"], "redis:7-alpine");
    assert_eq!(r.builds[0].image, "timmy-timmy:3f2a9c");
    // Any service's image can be given (a registry's copy, say).
    o.images
        .insert("redis".into(), "127.0.0.1:5000/redis:7-alpine".into());
    let r = render(&prod(), &files(), &o);
    assert_eq!(
        r.stack["services"]["redis"]["image"],
        "127.0.0.1:5000/redis:7-alpine"
    );
    assert_eq!(r.builds.len(), 1);
}

#[test]
fn the_display_masks_every_secret_value_and_keeps_the_secret_names() {
    let mut config = prod();
    config["services"]["timmy"]["environment"]["SENTRY_DSN"] =
        Value::from("https://abc:s3cr3tpassw0rd@sentry.example.com/1");
    let mut o = options();
    o.publish_mode = Some(PublishMode::Host);
    o.secrets = SecretsMode::Env;
    let masker = Masker::new([("GITHUB_TOKEN", "ghp_your_token_here")]);
    let shown = render(&config, &files(), &o).display(&masker);
    assert!(
        shown.contains("      GITHUB_TOKEN: \"ghp_****\"\n"),
        "{shown}"
    );
    assert!(shown.contains("      SENTRY_DSN: \"****\"\n"), "{shown}");
    assert!(
        shown.contains("      OPENAI_API_KEY: \"sk-****\"\n"),
        "{shown}"
    );
    assert!(!shown.contains("your_key_here"), "{shown}");
    assert!(!shown.contains("s3cr3t"), "{shown}");

    o.secrets = SecretsMode::Swarm;
    let r = render(&config, &files(), &o);
    let shown = r.display(&masker);
    assert!(
        shown.contains("      GITHUB_TOKEN_FILE: \"/run/secrets/GITHUB_TOKEN\"\n"),
        "{shown}"
    );
    assert!(
        shown.contains("    name: \"timmy_OPENAI_API_KEY_3bb9fbfa54c6\"\n"),
        "{shown}"
    );
    assert!(
        shown.contains("      - source: \"GITHUB_TOKEN_2fdacb9cd4b0\"\n"),
        "{shown}"
    );
    assert!(!shown.contains("s3cr3t"), "{shown}");
    assert_eq!(
        format!("{:?}", r.secret_files[0]),
        "SecretFile { key: \"ANTHROPIC_API_KEY\", name: \"timmy_ANTHROPIC_API_KEY_7aab4a478b27\", path: \"/run/user/1000/timmy/ANTHROPIC_API_KEY_7aab4a478b27\", value: \"sk-ant-****\" }"
    );
}

/// One service `svc` from `json`, written in a one-file stack `yml` for the locations.
fn one(json: &str, yml: &str, o: &Options) -> Rendered {
    let svc: Value = serde_json::from_str(json).unwrap();
    let config = serde_json::json!({"name": "timmy", "services": {"svc": svc}});
    let files = [("docker/docker-compose.yml".to_owned(), yml.to_owned())];
    render(&config, &files, o)
}

fn found(r: &Rendered) -> Vec<String> {
    r.findings
        .iter()
        .map(|f| {
            let level = if f.level == Level::Error {
                "error"
            } else {
                "warning"
            };
            match &f.hint {
                Some(h) => format!("{level}: {f} (hint: {h})"),
                None => format!("{level}: {f}"),
            }
        })
        .collect()
}
