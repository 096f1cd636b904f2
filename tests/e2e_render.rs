//! `timmy deploy --render` checked by the real docker CLI: `docker stack config` (docker/cli's
//! own v3 loader, no Swarm needed) reads the rendered file of the stack's prod and dev envs
//! without an error, and what it read holds none of the service keys docker/cli lists as
//! unsupported, deprecated or forbidden (`stack deploy` ignores them with a warning or refuses
//! them; `stack config` echoes them without a word, measured): everything Swarm would drop was
//! already dropped, and said, by timmy.

mod engine;

use std::io::Write;
use std::process::{Command, Stdio};

use engine::{Stack, stderr, stdout};

/// `docker stack config -c -` of `text`: (code, stdout, stderr).
fn stack_config(text: &str) -> (Option<i32>, String, String) {
    let mut child = Command::new("docker")
        .args(["stack", "config", "-c", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// docker/cli's `UnsupportedProperties`, `DeprecatedProperties` and `ForbiddenProperties`
/// (cli/compose/types/types.go, the same in 20.10 and today).
const IGNORED_OR_REFUSED: &[&str] = &[
    "build",
    "cgroupns_mode",
    "cgroup_parent",
    "devices",
    "domainname",
    "external_links",
    "ipc",
    "links",
    "mac_address",
    "network_mode",
    "pid",
    "privileged",
    "restart",
    "security_opt",
    "shm_size",
    "userns_mode",
    "container_name",
    "expose",
    "extends",
    "volume_driver",
    "volumes_from",
    "cpu_quota",
    "cpu_shares",
    "cpuset",
    "mem_limit",
    "memswap_limit",
];

fn rendered(s: &Stack, args: &[&str]) -> String {
    let out = s.timmy(args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
}

#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn docker_stack_config_reads_the_rendered_prod_and_dev_files_as_written() {
    let s = Stack::start(
        "render",
        "SWARM_ENDPOINT_MODE=dnsrr\nSWARM_PUBLISH_MODE=host\n",
    );
    for env in ["prod", "dev"] {
        let text = rendered(&s, &["deploy", env, "--render", "--show-secrets"]);
        let (code, config, errors) = stack_config(&text);
        assert_eq!(code, Some(0), "{env}: {errors}\n{text}");
        assert_eq!(errors, "", "{env}\n{text}");
        for key in IGNORED_OR_REFUSED {
            assert!(
                !config.contains(&format!("\n    {key}:")),
                "{env}: Swarm would ignore or refuse `{key}` in\n{config}"
            );
        }
        // What the loader made of the keys the translation exists for.
        for expected in [
            "      endpoint_mode: dnsrr\n",
            "      - mode: host\n",
            "    driver: overlay\n",
            "    attachable: true\n",
            "        condition: any\n",
            "      - source: GITHUB_TOKEN_d03680ebb084\n",
            "      GITHUB_TOKEN_FILE: /run/secrets/GITHUB_TOKEN\n",
        ] {
            assert!(
                config.contains(expected),
                "{env}: no {expected:?} in\n{config}"
            );
        }
        assert!(
            !config.contains("ghp_"),
            "{env}: a secret value in\n{config}"
        );
    }
    let prod = stack_config(&rendered(&s, &["deploy", "--render"])).1;
    for expected in [
        "          cpus: \"2\"\n",
        "          memory: \"4294967296\"\n",
        "        order: start-first\n",
        "        order: stop-first\n",
        "        published: ",
    ] {
        assert!(prod.contains(expected), "prod: no {expected:?} in\n{prod}");
    }
}

#[test]
#[ignore = "needs a Docker engine (TIMMY_E2E=1 runs it)"]
fn docker_stack_config_reads_secrets_left_in_the_environment() {
    let s = Stack::start("render-env", "SWARM_PUBLISH_MODE=ingress\n");
    let text = rendered(
        &s,
        &["deploy", "--render", "--secrets", "env", "--show-secrets"],
    );
    let (code, config, errors) = stack_config(&text);
    assert_eq!((code, errors.as_str()), (Some(0), ""), "{text}");
    assert!(config.contains("      GITHUB_TOKEN: ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u\n"));
    assert!(config.contains("      endpoint_mode: vip\n"));
    assert!(config.contains("      - mode: ingress\n"));
}
