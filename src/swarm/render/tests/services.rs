//! Tests of `render/services.rs`: the keys of a service kept, rewritten, dropped or refused.

use super::*;

#[test]
fn restart_becomes_the_restart_policy() {
    for (restart, policy) in [
        ("no", serde_json::json!({"condition": "none"})),
        ("always", serde_json::json!({"condition": "any"})),
        ("unless-stopped", serde_json::json!({"condition": "any"})),
        ("on-failure", serde_json::json!({"condition": "on-failure"})),
        (
            "on-failure:3",
            serde_json::json!({"condition": "on-failure", "max_attempts": 3}),
        ),
    ] {
        let json = format!(r#"{{"image": "i", "restart": "{restart}"}}"#);
        let yml = format!("services:\n  svc:\n    image: i\n    restart: {restart}\n");
        let r = one(&json, &yml, &options());
        assert_eq!(
            r.stack["services"]["svc"]["deploy"]["restart_policy"],
            policy
        );
        let condition = policy["condition"].as_str().unwrap();
        assert_eq!(
            found(&r),
            [format!(
                "warning: docker/docker-compose.yml:4: `restart: {restart}` of service `svc` becomes deploy.restart_policy.condition: {condition}"
            )]
        );
        assert!(r.stack["services"]["svc"].get("restart").is_none());
    }
    let r = one(
        r#"{"image": "i", "restart": "always", "deploy": {"restart_policy": {"condition": "on-failure"}}}"#,
        "services:\n  svc:\n    restart: always\n",
        &options(),
    );
    assert_eq!(
        r.stack["services"]["svc"]["deploy"]["restart_policy"],
        serde_json::json!({"condition": "on-failure"})
    );
    assert_eq!(
        found(&r),
        [
            "warning: docker/docker-compose.yml:3: `restart: always` of service `svc` is dropped: its deploy.restart_policy decides"
        ]
    );
}

#[test]
fn depends_on_is_dropped_and_the_service_must_retry() {
    let yml = "services:\n  svc:\n    image: i\n    depends_on:\n      redis:\n        condition: service_healthy\n";
    let r = one(
        r#"{"image": "i", "depends_on": {"redis": {"condition": "service_healthy", "required": true}, "db": {"condition": "service_started"}}}"#,
        yml,
        &options(),
    );
    assert!(r.stack["services"]["svc"].get("depends_on").is_none());
    assert_eq!(
        found(&r),
        [
            "warning: docker/docker-compose.yml:4: `depends_on` of service `svc` is dropped: Swarm starts services in no order and waits for no health (hint: `svc` must retry until `db` and `redis` answer)"
        ]
    );
}

#[test]
fn keys_swarm_ignores_are_dropped_with_a_warning_naming_file_line_and_key() {
    let yml = "services:\n  svc:\n    image: i\n    container_name: c\n    security_opt:\n      - no-new-privileges:true\n    profiles: [tools]\n    privileged: true\n    expose: [80]\n    mac_address: 02:42:ac:11:00:02\n";
    let r = one(
        r#"{"image": "i", "container_name": "c", "security_opt": ["no-new-privileges:true"], "profiles": ["tools"], "privileged": true, "tty": true, "expose": ["80"], "mac_address": "02:42:ac:11:00:02"}"#,
        yml,
        &options(),
    );
    assert_eq!(
        found(&r),
        [
            "warning: docker/docker-compose.yml:4: `container_name` of service `svc` is dropped: Swarm names the tasks",
            "warning: docker/docker-compose.yml:9: `expose` of service `svc` is dropped: on a stack's network every port of a service is reachable",
            "warning: docker/docker-compose.yml:10: `mac_address` of service `svc` is dropped: Swarm services cannot set it",
            "warning: docker/docker-compose.yml:8: `privileged` of service `svc` is dropped: Swarm services cannot set it",
            "warning: docker/docker-compose.yml:7: `profiles` of service `svc` is dropped: a stack runs every service it lists",
            "warning: docker/docker-compose.yml:5: `security_opt` of service `svc` is dropped: Swarm services cannot set it",
        ]
    );
    assert_eq!(
        r.stack["services"]["svc"],
        serde_json::json!({"image": "i", "tty": true, "deploy": {"endpoint_mode": "vip"}})
    );
    assert!(!r.refused());
}

#[test]
fn keys_swarm_refuses_stop_the_deploy_with_a_hint() {
    let yml = "services:\n  svc:\n    image: i\n    mem_limit: 1g\n    restartt: always\n    network_mode: host\n    volumes_from: [other]\n";
    let r = one(
        r#"{"image": "i", "mem_limit": "1073741824", "restartt": "always", "network_mode": "host", "volumes_from": ["other"]}"#,
        yml,
        &options(),
    );
    assert_eq!(
        found(&r),
        [
            "error: docker/docker-compose.yml:4: `mem_limit` of service `svc` is refused by Swarm (hint: set the limit under deploy.resources (limits: cpus, memory, pids; reservations: cpus, memory))",
            "error: docker/docker-compose.yml:6: `network_mode` of service `svc` is refused: Swarm ignores it and would attach the service to the stack's network instead (hint: attach the service to a network of the stack, or run it with timmy up)",
            "error: docker/docker-compose.yml:5: `restartt` of service `svc` is not a key Swarm's stack files have (hint: remove it from the files of this environment, or deploy it with timmy up)",
            "error: docker/docker-compose.yml:7: `volumes_from` of service `svc` is refused by Swarm (hint: share a named volume of the top-level `volumes` between the services instead)",
        ]
    );
    assert!(r.refused());
    let config =
        serde_json::json!({"name": "timmy", "services": {}, "include": [{"path": "x.yml"}]});
    let r = render(
        &config,
        &[(
            "docker/docker-compose.yml".into(),
            "include:\n  - x.yml\nservices: {}\n".into(),
        )],
        &options(),
    );
    assert_eq!(
        found(&r),
        [
            "error: docker/docker-compose.yml:1: `include` is not a key Swarm's stack files have (hint: remove it from the files of this environment, or deploy it with timmy up)"
        ]
    );
}

#[test]
fn build_is_dropped_and_listed_with_the_image_to_tag() {
    let yml = "services:\n  svc:\n    build:\n      context: .\n";
    let json = r#"{"build": {"context": "/srv/timmy", "dockerfile": "Dockerfile"}}"#;
    let r = one(json, yml, &options());
    assert_eq!(r.stack["services"]["svc"]["image"], "timmy-svc");
    assert_eq!(
        r.builds,
        [Build {
            service: "svc".into(),
            image: "timmy-svc".into(),
            build: serde_json::json!({"context": "/srv/timmy", "dockerfile": "Dockerfile"}),
        }]
    );
    assert_eq!(
        found(&r),
        [
            "warning: docker/docker-compose.yml:3: `build` of service `svc` is dropped: Swarm runs images only, so the image is built and tagged before the deploy"
        ]
    );
    let mut o = options();
    o.images.insert("svc".into(), "timmy-svc:0123abcd".into());
    let r = one(json, yml, &o);
    assert_eq!(r.stack["services"]["svc"]["image"], "timmy-svc:0123abcd");
    assert_eq!(builds(&serde_json::json!({"name": "timmy", "services": {"svc": serde_json::from_str::<Value>(json).unwrap()}}), &o)[0].image, "timmy-svc:0123abcd");
}

#[test]
fn cpus_and_memory_become_strings_and_limits_are_kept() {
    let json = r#"{"image": "i", "deploy": {"resources": {"limits": {"cpus": 2, "memory": 4294967296, "pids": 100}, "reservations": {"cpus": 0.5, "memory": "536870912", "devices": [{"capabilities": ["gpu"]}]}}, "placement": {}}}"#;
    let r = one(
        json,
        "services:\n  svc:\n    deploy:\n      resources:\n        reservations:\n          devices: []\n",
        &options(),
    );
    assert_eq!(
        r.stack["services"]["svc"]["deploy"],
        serde_json::json!({
            "endpoint_mode": "vip",
            "resources": {
                "limits": {"cpus": "2", "memory": "4294967296", "pids": 100},
                "reservations": {"cpus": "0.5", "memory": "536870912"}
            }
        })
    );
    assert_eq!(
        found(&r),
        [
            "warning: docker/docker-compose.yml:6: `deploy.resources.reservations.devices` of service `svc` is dropped: Swarm's stack files do not have it"
        ]
    );
}

#[test]
fn logging_healthcheck_and_commands_are_kept_start_interval_and_nulls_are_not() {
    let json = r#"{"image": "i", "command": null, "entrypoint": ["tini", "--"], "logging": {"driver": "json-file", "options": {"max-size": "10m"}}, "healthcheck": {"test": ["CMD", "true"], "interval": "2s", "start_interval": "250ms"}}"#;
    let yml = "services:\n  svc:\n    healthcheck:\n      start_interval: 250ms\n";
    let r = one(json, yml, &options());
    assert_eq!(
        r.stack["services"]["svc"],
        serde_json::json!({
            "image": "i",
            "entrypoint": ["tini", "--"],
            "logging": {"driver": "json-file", "options": {"max-size": "10m"}},
            "healthcheck": {"test": ["CMD", "true"], "interval": "2s"},
            "deploy": {"endpoint_mode": "vip"}
        })
    );
    assert_eq!(
        found(&r),
        [
            "warning: docker/docker-compose.yml:4: `healthcheck.start_interval` of service `svc` is dropped: stack files (3.9) do not have it"
        ]
    );
}

#[test]
fn scale_sets_replicas_of_replicated_services_it_names() {
    let mut o = options();
    o.publish_mode = Some(PublishMode::Host);
    o.scale.insert("timmy".into(), 3);
    let r = render(&prod(), &files(), &o);
    assert_eq!(r.stack["services"]["timmy"]["deploy"]["replicas"], 3);
    assert!(
        r.stack["services"]["redis"]["deploy"]
            .get("replicas")
            .is_none()
    );
    o.scale.insert("web".into(), 2);
    let r = render(&prod(), &files(), &o);
    assert_eq!(
        found(&r).last().unwrap(),
        "error: --scale: `web` is not a service of this stack (hint: name a service of the stack (timmy config ENV lists them))"
    );
    let mut o = options();
    o.scale.insert("svc".into(), 2);
    let r = one(
        r#"{"image": "i", "deploy": {"mode": "global"}}"#,
        "services:\n  svc:\n    deploy:\n      mode: global\n",
        &o,
    );
    assert_eq!(
        found(&r),
        [
            "error: docker/docker-compose.yml:4: --scale sets replicas of `svc`, a global service (one task per node) (hint: scale only replicated services)"
        ]
    );
}

#[test]
fn extra_hosts_are_written_the_way_the_stack_loader_reads_them() {
    let r = one(
        r#"{"image": "i", "extra_hosts": ["db=10.0.0.1", "v6=::1", "old:10.0.0.2"]}"#,
        "",
        &options(),
    );
    assert_eq!(
        r.stack["services"]["svc"]["extra_hosts"],
        serde_json::json!(["db:10.0.0.1", "v6:::1", "old:10.0.0.2"])
    );
    let r = one(
        r#"{"image": "i", "extra_hosts": {"db": "10.0.0.1"}}"#,
        "",
        &options(),
    );
    assert_eq!(
        r.stack["services"]["svc"]["extra_hosts"],
        serde_json::json!(["db:10.0.0.1"])
    );
    assert!(r.findings.is_empty());
}
