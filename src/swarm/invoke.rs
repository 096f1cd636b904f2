//! Every docker command of a Swarm deploy and of the commands on a deployed stack, built as an
//! [`Invocation`] first (pure, like `compose.rs`): build and tag the images by content, deploy
//! the rendered file from stdin, and the queries the wait, `ps`, `logs` and `down` read.

use std::path::Path;

use crate::compose::Invocation;

use super::converge::LABEL_NAMESPACE;

// `.into()` for each argument: the builders do not depend on how `Invocation` stores them.
fn inv(root: &Path, args: &[&str]) -> Invocation {
    Invocation {
        args: args.iter().map(|a| (*a).into()).collect(),
        cwd: root.to_path_buf(),
    }
}

fn with(mut inv: Invocation, more: &[String]) -> Invocation {
    inv.args.extend(more.iter().map(|m| m.as_str().into()));
    inv
}

fn namespace_filter(name: &str) -> String {
    format!("label={LABEL_NAMESPACE}={name}")
}

/// docker's stderr when an engine outside a swarm (or a worker) refuses a cluster query such as
/// [`service_ids`]: "Error response from daemon: This node is not a swarm manager. …" (Engine
/// 20.10 and 28 alike). No stack can be deployed there.
#[must_use]
pub fn not_a_manager(stderr: &str) -> bool {
    stderr.contains("This node is not a swarm manager")
}

/// `<node state> <manager?>`, e.g. `active true` on a manager, `inactive false` outside a swarm.
pub fn swarm_state(root: &Path) -> Invocation {
    inv(
        root,
        &[
            "info",
            "--format",
            "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}",
        ],
    )
}

/// The image's id (`sha256:…`): a content address the builder already computed.
pub fn image_id(root: &Path, image: &str) -> Invocation {
    inv(root, &["image", "inspect", "--format", "{{.Id}}", image])
}

/// `<project>-<service>:<first 12 hex digits of the image id>`, with `registry/` in front
/// when the images go through one. Never `latest`: a changed image gets a new tag, so a
/// redeploy rolls the service, and an unchanged one keeps it (nothing restarts).
pub fn content_tag(registry: Option<&str>, project: &str, service: &str, id: &str) -> String {
    let hex = id.trim().trim_start_matches("sha256:");
    let short = hex.get(..12).unwrap_or(hex);
    match registry {
        Some(r) => format!("{r}/{project}-{service}:{short}"),
        None => format!("{project}-{service}:{short}"),
    }
}

pub fn tag(root: &Path, image: &str, target: &str) -> Invocation {
    inv(root, &["tag", image, target])
}

pub fn push(root: &Path, image: &str) -> Invocation {
    inv(root, &["push", image])
}

/// `stack deploy` of the file given on stdin. `--resolve-image never` for local images (no
/// registry to ask for a digest; the content tag already pins the image), `always` when the
/// images come from a registry (nodes pull them by digest). `--prune` removes services the
/// file no longer has.
pub fn stack_deploy(root: &Path, name: &str, from_registry: bool) -> Invocation {
    let resolve = if from_registry { "always" } else { "never" };
    inv(
        root,
        &[
            "stack",
            "deploy",
            "--compose-file",
            "-",
            "--resolve-image",
            resolve,
            "--prune",
            name,
        ],
    )
}

pub fn stack_rm(root: &Path, name: &str) -> Invocation {
    inv(root, &["stack", "rm", name])
}

/// The ids of the stack's services (nothing on an engine with none; an error on one that is
/// not a swarm manager).
pub fn service_ids(root: &Path, name: &str) -> Invocation {
    inv(
        root,
        &[
            "service",
            "ls",
            "--quiet",
            "--filter",
            &namespace_filter(name),
        ],
    )
}

pub fn service_inspect(root: &Path, ids: &[String]) -> Invocation {
    with(inv(root, &["service", "inspect"]), ids)
}

/// Every task of these services (history included), full ids, one a line.
pub fn task_ids(root: &Path, services: &[String]) -> Invocation {
    with(
        inv(root, &["service", "ps", "--quiet", "--no-trunc"]),
        services,
    )
}

pub fn task_inspect(root: &Path, ids: &[String]) -> Invocation {
    with(inv(root, &["inspect", "--type", "task"]), ids)
}

/// The last `lines` log lines of one task (why it failed).
pub fn task_logs(root: &Path, task: &str, lines: u32) -> Invocation {
    inv(
        root,
        &[
            "service",
            "logs",
            "--no-task-ids",
            "--no-trunc",
            "--tail",
            &lines.to_string(),
            task,
        ],
    )
}

/// `timmy logs` on a deployed stack: one service's logs (docker follows one at a time).
pub fn service_logs(
    root: &Path,
    service: &str,
    follow: bool,
    tail: Option<u32>,
    since: Option<&str>,
) -> Invocation {
    let mut args = vec!["service".to_string(), "logs".to_string()];
    if follow {
        args.push("--follow".into());
    }
    if let Some(n) = tail {
        args.extend(["--tail".into(), n.to_string()]);
    }
    if let Some(t) = since {
        args.extend(["--since".into(), t.to_string()]);
    }
    args.push(service.to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    inv(root, &args)
}

/// What `docker stack rm` may leave behind, one id a line: the stack's tasks' containers
/// (`ps`), networks, secrets, configs (`kind` picks the command).
pub fn leftovers(root: &Path, kind: Leftover, name: &str) -> Invocation {
    let filter = namespace_filter(name);
    match kind {
        Leftover::Services => service_ids(root, name),
        Leftover::Containers => inv(root, &["ps", "--all", "--quiet", "--filter", &filter]),
        Leftover::Networks => inv(root, &["network", "ls", "--quiet", "--filter", &filter]),
        Leftover::Secrets => inv(root, &["secret", "ls", "--quiet", "--filter", &filter]),
        Leftover::Configs => inv(root, &["config", "ls", "--quiet", "--filter", &filter]),
    }
}

/// The named volumes of the stack (`docker stack rm` keeps them, like `compose down`).
pub fn volumes_of(root: &Path, name: &str) -> Invocation {
    inv(
        root,
        &[
            "volume",
            "ls",
            "--quiet",
            "--filter",
            &namespace_filter(name),
        ],
    )
}

pub fn remove_volumes(root: &Path, names: &[String]) -> Invocation {
    with(inv(root, &["volume", "rm"]), names)
}

/// The names of the stack's secrets (`docker stack deploy` labels those it creates).
pub fn secret_names(root: &Path, name: &str) -> Invocation {
    inv(
        root,
        &[
            "secret",
            "ls",
            "--filter",
            &namespace_filter(name),
            "--format",
            "{{.Name}}",
        ],
    )
}

pub fn remove_secrets(root: &Path, names: &[String]) -> Invocation {
    with(inv(root, &["secret", "rm"]), names)
}

/// What a removed stack must not leave, in the order `docker stack rm` removes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leftover {
    Services,
    Containers,
    Networks,
    Secrets,
    Configs,
}

impl Leftover {
    pub const ALL: [Leftover; 5] = [
        Leftover::Services,
        Leftover::Containers,
        Leftover::Networks,
        Leftover::Secrets,
        Leftover::Configs,
    ];

    pub fn plural(self) -> &'static str {
        match self {
            Leftover::Services => "services",
            Leftover::Containers => "containers",
            Leftover::Networks => "networks",
            Leftover::Secrets => "secrets",
            Leftover::Configs => "configs",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn case(inv: &Invocation, want: &str) {
        assert_eq!(inv.to_string(), want);
    }

    #[test]
    fn builders() {
        let r = Path::new("/p");
        case(
            &image_id(r, "p-timmy:prod"),
            "docker image inspect --format '{{.Id}}' p-timmy:prod",
        );
        case(
            &tag(r, "p-timmy:prod", "p-timmy:0123456789ab"),
            "docker tag p-timmy:prod p-timmy:0123456789ab",
        );
        case(
            &stack_deploy(r, "p", false),
            "docker stack deploy --compose-file - --resolve-image never --prune p",
        );
        case(
            &stack_deploy(r, "p", true),
            "docker stack deploy --compose-file - --resolve-image always --prune p",
        );
        case(&stack_rm(r, "p"), "docker stack rm p");
        case(
            &swarm_state(r),
            "docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'",
        );
        case(
            &service_ids(r, "p"),
            "docker service ls --quiet --filter 'label=com.docker.stack.namespace=p'",
        );
        case(
            &service_inspect(r, &["a".into(), "b".into()]),
            "docker service inspect a b",
        );
        case(
            &task_ids(r, &["a".into()]),
            "docker service ps --quiet --no-trunc a",
        );
        case(
            &task_inspect(r, &["t1".into(), "t2".into()]),
            "docker inspect --type task t1 t2",
        );
        case(
            &task_logs(r, "t1", 20),
            "docker service logs --no-task-ids --no-trunc --tail 20 t1",
        );
        case(
            &service_logs(r, "p_timmy", true, Some(5), Some("10m")),
            "docker service logs --follow --tail 5 --since 10m p_timmy",
        );
        case(
            &service_logs(r, "p_redis", false, None, None),
            "docker service logs p_redis",
        );
        let all: Vec<String> = Leftover::ALL
            .iter()
            .map(|k| leftovers(r, *k, "p").to_string())
            .collect();
        assert_eq!(
            all,
            [
                "docker service ls --quiet --filter 'label=com.docker.stack.namespace=p'",
                "docker ps --all --quiet --filter 'label=com.docker.stack.namespace=p'",
                "docker network ls --quiet --filter 'label=com.docker.stack.namespace=p'",
                "docker secret ls --quiet --filter 'label=com.docker.stack.namespace=p'",
                "docker config ls --quiet --filter 'label=com.docker.stack.namespace=p'",
            ]
        );
    }

    #[test]
    fn content_tags() {
        let id = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
        assert_eq!(content_tag(None, "p", "timmy", id), "p-timmy:0123456789ab");
        assert_eq!(
            content_tag(Some("127.0.0.1:5000"), "p", "timmy", id),
            "127.0.0.1:5000/p-timmy:0123456789ab"
        );
        assert_eq!(content_tag(None, "p", "timmy", "abc"), "p-timmy:abc");
    }
}
