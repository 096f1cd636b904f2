//! Tests of `render/mounts.rs` (and of a network's `ipam`, checked with the mount options).

use super::*;

#[test]
fn bind_mounts_are_absolute_and_must_exist_on_every_node() {
    let json = r#"{"image": "i", "volumes": [{"type": "bind", "source": "/srv/timmy/data", "target": "/app/data", "bind": {"create_host_path": true}}, {"type": "bind", "source": "logs", "target": "/app/logs", "read_only": true}, {"type": "volume", "source": "cache", "target": "/cache", "volume": {}}]}"#;
    let yml = "services:\n  svc:\n    volumes:\n      - cache:/cache\n      - ./data:/app/data:rw\n      - ./logs:/app/logs:ro\n";
    let r = one(json, yml, &options());
    assert_eq!(
        r.stack["services"]["svc"]["volumes"],
        serde_json::json!([
            {"type": "bind", "source": "/srv/timmy/data", "target": "/app/data"},
            {"type": "bind", "source": "/srv/timmy/logs", "target": "/app/logs", "read_only": true},
            {"type": "volume", "source": "cache", "target": "/cache"}
        ])
    );
    assert_eq!(
        found(&r),
        [
            "warning: docker/docker-compose.yml:5: bind mounts /srv/timmy/data, /srv/timmy/logs of service `svc` must exist on every node that runs it: Swarm does not create them"
        ]
    );
}

#[test]
fn mount_and_ipam_options_swarm_lacks_are_dropped_with_a_warning() {
    let json = r#"{"image": "i", "volumes": [{"type": "bind", "source": "/d", "target": "/d", "bind": {"create_host_path": true, "selinux": "z", "propagation": "rslave"}}, {"type": "volume", "source": "v", "target": "/v", "volume": {"nocopy": true, "subpath": "s"}}]}"#;
    let yml = "services:\n  svc:\n    volumes:\n      - /d:/d:z\n      - v:/v\n";
    let r = one(json, yml, &options());
    assert_eq!(
        r.stack["services"]["svc"]["volumes"],
        serde_json::json!([
            {"type": "bind", "source": "/d", "target": "/d", "bind": {"propagation": "rslave"}},
            {"type": "volume", "source": "v", "target": "/v", "volume": {"nocopy": true}}
        ])
    );
    assert_eq!(
        found(&r),
        [
            "warning: docker/docker-compose.yml:4: `bind.selinux` of mount /d of service `svc` is dropped: Swarm's stack files do not have it",
            "warning: docker/docker-compose.yml:5: `volume.subpath` of mount /v of service `svc` is dropped: Swarm's stack files do not have it",
            "warning: docker/docker-compose.yml:4: bind mount /d of service `svc` must exist on every node that runs it: Swarm does not create it",
        ]
    );
    let config = serde_json::json!({
        "name": "timmy",
        "services": {},
        "networks": {"back": {"driver": "overlay", "ipam": {"driver": "default", "config": [{"subnet": "10.9.0.0/24", "gateway": "10.9.0.1"}], "options": {"a": "b"}}}}
    });
    let yml = "services: {}\nnetworks:\n  back:\n    driver: overlay\n    ipam:\n      config:\n        - subnet: 10.9.0.0/24\n          gateway: 10.9.0.1\n      options:\n        a: b\n";
    let r = render(
        &config,
        &[("docker/docker-compose.yml".into(), yml.into())],
        &options(),
    );
    assert_eq!(
        r.stack["networks"]["back"],
        serde_json::json!({"driver": "overlay", "attachable": true, "ipam": {"driver": "default", "config": [{"subnet": "10.9.0.0/24"}]}})
    );
    assert_eq!(
        found(&r),
        [
            "warning: docker/docker-compose.yml:6: `ipam.config[].gateway` of network `back` is dropped: Swarm's stack files take `subnet` only",
            "warning: docker/docker-compose.yml:9: `ipam.options` of network `back` is dropped: Swarm's stack files do not have it",
        ]
    );
}
