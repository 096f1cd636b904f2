//! Tests of `render/ports.rs`: publish modes, `dnsrr`, ranges.

use super::*;

const PORTS_YML: &str =
    "services:\n  svc:\n    ports:\n      - \"127.0.0.1:${PORT:-3000}:3000\"\n      - 8080:80\n";
const PORTS: &str = r#"{"image": "i", "ports": [{"mode": "ingress", "host_ip": "127.0.0.1", "target": 3000, "published": "3000", "protocol": "tcp"}, {"mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp"}]}"#;

#[test]
fn a_port_on_one_address_is_refused_until_the_publish_mode_is_given() {
    let r = one(PORTS, PORTS_YML, &options());
    assert_eq!(
        found(&r),
        [
            "error: docker/docker-compose.yml:4: port 3000:3000 of service `svc` is published on 127.0.0.1 only, and Swarm publishes on every interface (hint: say how to publish: timmy deploy --publish ingress (every node) or --publish host (the node running the task), or SWARM_PUBLISH_MODE in .env)"
        ]
    );
    assert_eq!(
        r.stack["services"]["svc"]["ports"],
        serde_json::json!([{"target": 80, "published": 8080, "protocol": "tcp", "mode": "ingress"}])
    );
    for mode in [PublishMode::Ingress, PublishMode::Host] {
        let mut o = options();
        o.publish_mode = Some(mode);
        let r = one(PORTS, PORTS_YML, &o);
        let m = mode.as_str();
        assert_eq!(
            found(&r),
            [format!(
                "warning: docker/docker-compose.yml:4: port 3000:3000 of service `svc` was published on 127.0.0.1 only; Swarm publishes it on every interface ({m} mode)"
            )]
        );
        assert_eq!(
            r.stack["services"]["svc"]["ports"],
            serde_json::json!([
                {"target": 3000, "published": 3000, "protocol": "tcp", "mode": m},
                {"target": 80, "published": 8080, "protocol": "tcp", "mode": m}
            ])
        );
    }
}

#[test]
fn dnsrr_takes_host_mode_ports_only_and_is_set_on_every_service() {
    let mut o = options();
    o.endpoint_mode = EndpointMode::Dnsrr;
    o.publish_mode = Some(PublishMode::Ingress);
    let r = one(PORTS, PORTS_YML, &o);
    assert_eq!(
        found(&r),
        [
            "error: docker/docker-compose.yml:4: port 3000:3000 of service `svc` cannot use the routing mesh (ingress) with endpoint mode dnsrr (hint: publish in host mode (--publish host or SWARM_PUBLISH_MODE=host), or use SWARM_ENDPOINT_MODE=vip)",
            "error: docker/docker-compose.yml:5: port 8080:80 of service `svc` cannot use the routing mesh (ingress) with endpoint mode dnsrr (hint: publish in host mode (--publish host or SWARM_PUBLISH_MODE=host), or use SWARM_ENDPOINT_MODE=vip)",
        ]
    );
    o.publish_mode = Some(PublishMode::Host);
    let r = one(PORTS, PORTS_YML, &o);
    assert!(!r.refused());
    assert_eq!(
        r.stack["services"]["svc"]["deploy"]["endpoint_mode"],
        "dnsrr"
    );
    let r = render(&prod(), &files(), &o);
    assert_eq!(
        r.stack["services"]["redis"]["deploy"]["endpoint_mode"],
        "dnsrr"
    );
    assert_eq!(
        r.stack["services"]["timmy"]["deploy"]["endpoint_mode"],
        "dnsrr"
    );
}

#[test]
fn a_published_range_is_refused() {
    let r = one(
        r#"{"image": "i", "ports": [{"mode": "ingress", "target": 80, "published": "8000-8001", "protocol": "tcp"}]}"#,
        "services:\n  svc:\n    ports:\n      - 8000-8001:80\n",
        &options(),
    );
    assert_eq!(
        found(&r),
        [
            "error: docker/docker-compose.yml:4: port 80 of service `svc` is published as the range `8000-8001`: a stack publishes single ports (hint: list each port of the range on its own line)"
        ]
    );
}
