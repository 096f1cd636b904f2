//! Tests of `render/networks.rs`: overlays, external networks, drivers Swarm refuses.

use super::*;

#[test]
fn networks_become_attachable_overlays_under_the_stack_name() {
    let config = serde_json::json!({
        "name": "timmy",
        "services": {},
        "networks": {
            "back": {"name": "timmy_back", "driver": "bridge", "ipam": {}},
            "plain": {"name": "timmy_plain", "ipam": {}},
            "shared": {"name": "proxy", "external": true},
            "odd": {"name": "timmy_odd", "driver": "macvlan"}
        }
    });
    let yml = "services: {}\nnetworks:\n  back:\n    driver: bridge\n  plain:\n  shared:\n    external: true\n    name: proxy\n  odd:\n    driver: macvlan\n";
    let r = render(
        &config,
        &[("docker/docker-compose.yml".into(), yml.into())],
        &options(),
    );
    assert_eq!(
        r.stack["networks"],
        serde_json::json!({
            "back": {"driver": "overlay", "attachable": true},
            "plain": {"driver": "overlay", "attachable": true},
            "shared": {"name": "proxy", "external": true},
            "odd": {"driver": "overlay", "attachable": true}
        })
    );
    assert_eq!(
        found(&r),
        [
            "warning: docker/docker-compose.yml:4: network `back` becomes an attachable overlay network: a bridge reaches one host only",
            "error: docker/docker-compose.yml:10: network `odd` uses the driver `macvlan`; Swarm services attach to overlay networks only (hint: use the default driver (bridge with timmy up, overlay on a Swarm))",
            "warning: docker/docker-compose.yml:5: network `plain` becomes an attachable overlay network: a bridge reaches one host only",
        ]
    );
}
