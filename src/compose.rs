//! Every docker command timmy runs, built as a value first. An [`Invocation`] is the argv after
//! `docker` plus the working directory; its arguments are `OsString`s, so a path that is not
//! UTF-8 reaches docker byte for byte. Its `Display` is a shell-quoted command line (lossy for
//! such a path) that serves `--dry-run`, `-v` and error messages alike. The builders here are pure: they read no PATH,
//! no environment and no disk, so tests compare whole argv vectors.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::stack::Stack;

pub const LABEL_PROJECT: &str = "com.docker.compose.project";
pub const LABEL_CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const LABEL_SERVICE: &str = "com.docker.compose.service";
pub const LABEL_ONEOFF: &str = "com.docker.compose.oneoff";
pub const LABEL_WORKING_DIR: &str = "com.docker.compose.project.working_dir";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Arguments after the `docker` program itself.
    pub args: Vec<OsString>,
    pub cwd: PathBuf,
}

impl Invocation {
    fn new(cwd: &Path, args: Vec<OsString>) -> Self {
        Self {
            args,
            cwd: cwd.to_path_buf(),
        }
    }
}

impl fmt::Display for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("docker")?;
        for arg in &self.args {
            let arg = arg.to_string_lossy();
            let quoted = shlex::try_quote(&arg).unwrap_or_else(|_| arg.clone());
            write!(f, " {quoted}")?;
        }
        Ok(())
    }
}

fn s(v: &str) -> OsString {
    v.into()
}

fn path(p: &Path) -> OsString {
    p.as_os_str().to_owned()
}

fn all(words: &[String]) -> impl Iterator<Item = OsString> + '_ {
    words.iter().map(OsString::from)
}

/// `compose` with the full file stack: project directory, env file, name, files.
fn stack_prefix(stack: &Stack) -> Vec<OsString> {
    let mut args = vec![s("compose"), s("--project-directory"), path(&stack.root)];
    if let Some(env_file) = &stack.env_file {
        args.extend([s("--env-file"), path(env_file)]);
    }
    args.extend([s("-p"), s(&stack.name)]);
    for file in &stack.files {
        args.extend([s("-f"), path(file)]);
    }
    args
}

/// `compose --env-file /dev/null -p NAME`: commands on a running project need no compose
/// file; Compose finds the containers by label. Without a file Compose still reads `.env` from
/// its working directory, the project root (measured with Compose 2.26.1: a broken `.env` there
/// makes `docker compose -p NAME ps` fail and print the broken value), so an empty env file
/// stands in for it: a broken `.env` cannot stop `ps`, `logs`, `exec` or `down`.
fn named_prefix(name: &str) -> Vec<OsString> {
    vec![
        s("compose"),
        s("--env-file"),
        s("/dev/null"),
        s("-p"),
        s(name),
    ]
}

fn stack_cmd(stack: &Stack, tail: impl IntoIterator<Item = OsString>) -> Invocation {
    let mut args = stack_prefix(stack);
    args.extend(tail);
    Invocation::new(&stack.root, args)
}

fn named_cmd(root: &Path, name: &str, tail: impl IntoIterator<Item = OsString>) -> Invocation {
    let mut args = named_prefix(name);
    args.extend(tail);
    Invocation::new(root, args)
}

/// `up` always builds: each env names its own image (docker/docker-compose.<env>.yml), and
/// the builder's cache decides whether the Dockerfile, build args or context files changed.
/// Measured on Engine 20.10 + Compose 2.26.1 with nothing changed: `up --build` 1.22 s
/// against 1.10 s for `up` (median of 5, dev stack running), `build` alone 0.36 s; after an
/// edit of app/ the image is rebuilt and the container recreated.
pub fn up(stack: &Stack, timeout_secs: u32) -> Invocation {
    let tail = vec![
        s("up"),
        s("--detach"),
        s("--wait"),
        s("--wait-timeout"),
        timeout_secs.to_string().into(),
        s("--remove-orphans"),
        s("--build"),
    ];
    stack_cmd(stack, tail)
}

pub fn build(stack: &Stack, no_cache: bool) -> Invocation {
    let mut tail = vec![s("build")];
    if no_cache {
        tail.push(s("--no-cache"));
    }
    stack_cmd(stack, tail)
}

pub fn config(stack: &Stack) -> Invocation {
    stack_cmd(stack, [s("config")])
}

/// `config --quiet`: Compose validates the whole stack (schema, interpolation, merge) and
/// prints nothing on success. Read-only; needs no daemon.
pub fn config_quiet(stack: &Stack) -> Invocation {
    stack_cmd(stack, [s("config"), s("--quiet")])
}

/// The resolved configuration as JSON (ports in their long form).
pub fn config_json(stack: &Stack) -> Invocation {
    stack_cmd(stack, [s("config"), s("--format"), s("json")])
}

/// Running containers that publish host port `port`/`protocol`, one tab-separated line each:
/// name, project, working dir, config files, Docker's port text.
pub fn publishers_of(root: &Path, port: u16, protocol: &str) -> Invocation {
    let format = format!(
        "{{{{.Names}}}}\t{{{{.Label \"{LABEL_PROJECT}\"}}}}\t{{{{.Label \"{LABEL_WORKING_DIR}\"}}}}\t{{{{.Label \"{LABEL_CONFIG_FILES}\"}}}}\t{{{{.Ports}}}}"
    );
    Invocation::new(
        root,
        vec![
            s("ps"),
            s("--no-trunc"),
            s("--filter"),
            format!("publish={port}/{protocol}").into(),
            s("--format"),
            format.into(),
        ],
    )
}

/// `down` for a stack learnt from labels. `files` are the config files Compose recorded; when
/// they are gone (renamed checkout) or empty (the caller found them or `.env` broken),
/// Compose stops the project by name, removing its containers and networks by label.
pub fn down(
    root: &Path,
    name: &str,
    files: &[PathBuf],
    env_file: Option<&Path>,
    volumes: bool,
) -> Invocation {
    let mut tail = vec![s("down"), s("--remove-orphans")];
    if volumes {
        tail.push(s("--volumes"));
    }
    if files.is_empty() {
        return named_cmd(root, name, tail);
    }
    let mut args = vec![s("compose"), s("--project-directory"), path(root)];
    if let Some(env_file) = env_file {
        args.extend([s("--env-file"), path(env_file)]);
    }
    args.extend([s("-p"), s(name)]);
    for file in files {
        args.extend([s("-f"), path(file)]);
    }
    args.extend(tail);
    Invocation::new(root, args)
}

pub fn ps(root: &Path, name: &str) -> Invocation {
    named_cmd(root, name, [s("ps"), s("--all"), s("--format"), s("json")])
}

pub fn logs(
    root: &Path,
    name: &str,
    services: &[String],
    follow: bool,
    tail_lines: Option<u32>,
    since: Option<&str>,
) -> Invocation {
    let mut tail = vec![s("logs")];
    if follow {
        tail.push(s("--follow"));
    }
    if let Some(n) = tail_lines {
        tail.extend([s("--tail"), n.to_string().into()]);
    }
    if let Some(t) = since {
        tail.extend([s("--since"), s(t)]);
    }
    tail.extend(all(services));
    named_cmd(root, name, tail)
}

/// The same compose command with `--ansi never`: no colours, no cursor movement (`ESC[2K`),
/// for output that goes to a pipe, a file or a terminal with colours off.
pub fn ansi_never(inv: Invocation) -> Invocation {
    with_ansi(inv, "never")
}

/// The same compose command with `--ansi always`: Compose's colours, for a terminal that
/// timmy relays docker's stdout to through a pipe (to mask it), where Compose would drop them.
pub fn ansi_always(inv: Invocation) -> Invocation {
    with_ansi(inv, "always")
}

fn with_ansi(mut inv: Invocation, mode: &str) -> Invocation {
    if inv.args.first().is_some_and(|a| a == "compose") {
        inv.args.splice(1..1, [s("--ansi"), s(mode)]);
    }
    inv
}

pub fn exec(root: &Path, name: &str, service: &str, command: &[String], tty: bool) -> Invocation {
    let mut tail = vec![s("exec")];
    if !tty {
        tail.push(s("-T"));
    }
    tail.push(s(service));
    tail.extend(all(command));
    named_cmd(root, name, tail)
}

/// bash when the image has it, else sh; with `command`, `-c command` in that shell.
pub fn shell_command(command: Option<&str>) -> Vec<String> {
    let script = match command {
        None => "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi",
        Some(_) => {
            "if command -v bash >/dev/null 2>&1; then exec bash -c \"$0\"; else exec sh -c \"$0\"; fi"
        }
    };
    let mut argv = vec![String::from("sh"), String::from("-c"), String::from(script)];
    if let Some(c) = command {
        argv.push(String::from(c));
    }
    argv
}

pub fn restart(root: &Path, name: &str, services: &[String]) -> Invocation {
    let mut tail = vec![s("restart")];
    tail.extend(all(services));
    named_cmd(root, name, tail)
}

/// Stop and remove the containers of `services` (with their anonymous volumes), found by
/// project label: what `run` started as dependencies.
pub fn remove_services(root: &Path, name: &str, services: &[String]) -> Invocation {
    let mut tail = vec![s("rm"), s("--stop"), s("--force"), s("-v")];
    tail.extend(all(services));
    named_cmd(root, name, tail)
}

/// One-off run of `service`, removed afterwards; its image and those of the services it
/// starts are built first, as for [`up`].
pub fn run(stack: &Stack, service: &str, command: &[String], tty: bool) -> Invocation {
    let mut tail = vec![s("run"), s("--rm"), s("--build")];
    if !tty {
        tail.push(s("-T"));
    }
    tail.push(s(service));
    tail.extend(all(command));
    stack_cmd(stack, tail)
}

/// Every container (running or not) carrying the project label, one tab-separated line each:
/// id, name, state, service, one-off flag, config files, project, working dir. Go-template
/// `Label` lookups instead of `.Labels`, because the config-files label itself contains commas.
pub fn containers_of(root: &Path, name: &str) -> Invocation {
    containers_with(root, &format!("{LABEL_PROJECT}={name}"))
}

/// [`containers_of`] for any label filter (`KEY=VALUE`), e.g. one checkout's working dir.
pub fn containers_with(root: &Path, label: &str) -> Invocation {
    let format = format!(
        "{{{{.ID}}}}\t{{{{.Names}}}}\t{{{{.State}}}}\t{{{{.Label \"{LABEL_SERVICE}\"}}}}\t{{{{.Label \"{LABEL_ONEOFF}\"}}}}\t{{{{.Label \"{LABEL_CONFIG_FILES}\"}}}}\t{{{{.Label \"{LABEL_PROJECT}\"}}}}\t{{{{.Label \"{LABEL_WORKING_DIR}\"}}}}"
    );
    Invocation::new(
        root,
        vec![
            s("ps"),
            s("--all"),
            s("--no-trunc"),
            s("--filter"),
            format!("label={label}").into(),
            s("--format"),
            format.into(),
        ],
    )
}

/// The named volumes carrying the project label, one name a line.
pub fn volumes_of(root: &Path, name: &str) -> Invocation {
    Invocation::new(
        root,
        vec![
            s("volume"),
            s("ls"),
            s("--quiet"),
            s("--filter"),
            format!("label={LABEL_PROJECT}={name}").into(),
        ],
    )
}

/// Remove named volumes (their data is lost).
pub fn remove_volumes(root: &Path, names: &[String]) -> Invocation {
    let mut args = vec![s("volume"), s("rm")];
    args.extend(all(names));
    Invocation::new(root, args)
}

/// Force-remove containers by id, with their anonymous volumes.
pub fn remove_containers(root: &Path, ids: &[String]) -> Invocation {
    let mut args = vec![s("rm"), s("--force"), s("--volumes")];
    args.extend(all(ids));
    Invocation::new(root, args)
}

/// The health record (`State.Health`) of containers, as JSON, one line each.
pub fn inspect_health(root: &Path, ids: &[String]) -> Invocation {
    let mut args = vec![
        s("inspect"),
        s("--format"),
        s("{{.Name}}\t{{json .State.Health}}"),
    ];
    args.extend(all(ids));
    Invocation::new(root, args)
}

/// `version --format '{{json .}}'`: the client's version and context, and the engine's when
/// the daemon answers (the client part is printed even when it does not).
pub fn version(root: &Path) -> Invocation {
    Invocation::new(root, vec![s("version"), s("--format"), s("{{json .}}")])
}

/// `compose version --short`: the Compose plugin's version alone, e.g. `2.26.1-4`.
pub fn compose_version(root: &Path) -> Invocation {
    Invocation::new(root, vec![s("compose"), s("version"), s("--short")])
}

/// `info --format '{{json .}}'`: the daemon's view of itself (root dir, clock, ...).
pub fn info(root: &Path) -> Invocation {
    Invocation::new(root, vec![s("info"), s("--format"), s("{{json .}}")])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> String {
        v.to_string()
    }

    fn stack(env_file: bool) -> Stack {
        Stack {
            env: s("dev"),
            root: PathBuf::from("/p"),
            name: s("timmy"),
            files: vec![
                PathBuf::from("/p/docker/docker-compose.yml"),
                PathBuf::from("/p/docker/docker-compose.dev.yml"),
            ],
            env_file: env_file.then(|| PathBuf::from("/p/.env")),
        }
    }

    #[track_caller]
    fn case(inv: &Invocation, expected: &str) {
        assert_eq!(inv.to_string(), expected);
    }

    const STACK: &str = "docker compose --project-directory /p --env-file /p/.env -p timmy \
                         -f /p/docker/docker-compose.yml -f /p/docker/docker-compose.dev.yml";

    #[test]
    fn stack_commands() {
        case(
            &up(&stack(true), 120),
            &format!("{STACK} up --detach --wait --wait-timeout 120 --remove-orphans --build"),
        );
        case(
            &config_json(&stack(true)),
            &format!("{STACK} config --format json"),
        );
        case(
            &build(&stack(true), true),
            &format!("{STACK} build --no-cache"),
        );
        case(&config(&stack(true)), &format!("{STACK} config"));
        case(
            &run(
                &stack(true),
                "tests",
                &[s("sh"), s("-c"), s("exit 3")],
                false,
            ),
            &format!("{STACK} run --rm --build -T tests sh -c 'exit 3'"),
        );
    }

    #[test]
    fn no_env_file_no_flag() {
        let inv = build(&stack(false), false);
        assert!(!inv.args.iter().any(|a| a == "--env-file"));
        assert_eq!(inv.cwd, PathBuf::from("/p"));
    }

    #[test]
    fn named_commands() {
        let root = Path::new("/p");
        case(
            &ps(root, "timmy"),
            "docker compose --env-file /dev/null -p timmy ps --all --format json",
        );
        case(
            &logs(root, "timmy", &[s("redis")], true, Some(5), Some("10m")),
            "docker compose --env-file /dev/null -p timmy logs --follow --tail 5 --since 10m redis",
        );
        case(
            &logs(root, "timmy", &[], false, None, None),
            "docker compose --env-file /dev/null -p timmy logs",
        );
        case(
            &exec(root, "timmy", "timmy", &[s("node"), s("--version")], true),
            "docker compose --env-file /dev/null -p timmy exec timmy node --version",
        );
        case(
            &exec(root, "timmy", "redis", &[s("redis-cli"), s("ping")], false),
            "docker compose --env-file /dev/null -p timmy exec -T redis redis-cli ping",
        );
        case(
            &restart(root, "timmy", &[]),
            "docker compose --env-file /dev/null -p timmy restart",
        );
        case(
            &remove_services(root, "timmy", &[s("redis")]),
            "docker compose --env-file /dev/null -p timmy rm --stop --force -v redis",
        );
    }

    #[test]
    fn ansi_never_goes_right_after_compose() {
        case(
            &ansi_never(logs(Path::new("/p"), "timmy", &[], true, Some(10), None)),
            "docker compose --ansi never --env-file /dev/null -p timmy logs --follow --tail 10",
        );
        case(
            &ansi_never(remove_containers(Path::new("/p"), &[s("abc")])),
            "docker rm --force --volumes abc",
        );
        case(
            &ansi_always(logs(Path::new("/p"), "timmy", &[], false, None, None)),
            "docker compose --ansi always --env-file /dev/null -p timmy logs",
        );
    }

    #[test]
    fn down_with_and_without_learnt_files() {
        let root = Path::new("/p");
        let files = [
            PathBuf::from("/p/docker/docker-compose.yml"),
            PathBuf::from("/p/docker/docker-compose.prod.yml"),
        ];
        case(
            &down(root, "timmy", &files, Some(Path::new("/p/.env")), false),
            "docker compose --project-directory /p --env-file /p/.env -p timmy \
             -f /p/docker/docker-compose.yml -f /p/docker/docker-compose.prod.yml down --remove-orphans",
        );
        case(
            &down(root, "timmy", &[], Some(Path::new("/p/.env")), true),
            "docker compose --env-file /dev/null -p timmy down --remove-orphans --volumes",
        );
    }

    #[test]
    fn shell_falls_back_to_sh_and_passes_command_as_argument() {
        assert_eq!(shell_command(None)[..2], [s("sh"), s("-c")]);
        let with = shell_command(Some("echo 'a b'"));
        assert_eq!(with.last().unwrap(), "echo 'a b'");
        assert!(with[2].contains("exec bash -c \"$0\""));
    }

    #[test]
    fn paths_that_are_not_utf8_stay_exact_and_display_lossy() {
        use std::os::unix::ffi::OsStrExt;
        let root = PathBuf::from(std::ffi::OsStr::from_bytes(b"/caf\xe9"));
        let inv = ps(&root, "timmy");
        assert_eq!(inv.cwd, root);
        let mut st = stack(false);
        st.root.clone_from(&root);
        st.files = vec![root.join("c.yml")];
        let inv = config(&st);
        assert_eq!(inv.args[2].as_bytes(), b"/caf\xe9");
        assert_eq!(inv.args[6].as_bytes(), b"/caf\xe9/c.yml");
        assert_eq!(
            inv.to_string(),
            "docker compose --project-directory '/caf\u{fffd}' -p timmy -f '/caf\u{fffd}/c.yml' config"
        );
    }

    #[test]
    fn display_quotes_spaces_and_quotes() {
        let inv = Invocation::new(
            Path::new("/"),
            vec![
                super::s("compose"),
                super::s("-f"),
                super::s("/a b/it's.yml"),
            ],
        );
        assert_eq!(inv.to_string(), "docker compose -f \"/a b/it's.yml\"");
    }

    #[test]
    fn publishers_query_filters_by_port() {
        let inv = publishers_of(Path::new("/p"), 3000, "tcp");
        assert_eq!(
            inv.args[..4],
            ["ps", "--no-trunc", "--filter", "publish=3000/tcp"]
        );
        assert_eq!(
            inv.args[5],
            "{{.Names}}\t{{.Label \"com.docker.compose.project\"}}\t{{.Label \"com.docker.compose.project.working_dir\"}}\t{{.Label \"com.docker.compose.project.config_files\"}}\t{{.Ports}}"
        );
    }

    #[test]
    fn label_query_filters_by_project_label() {
        let inv = containers_of(Path::new("/p"), "timmy");
        assert_eq!(
            inv.args[..5],
            [
                "ps",
                "--all",
                "--no-trunc",
                "--filter",
                "label=com.docker.compose.project=timmy"
            ]
        );
        assert!(
            inv.args[6]
                .to_str()
                .unwrap()
                .contains("{{.Label \"com.docker.compose.project.config_files\"}}")
        );
    }

    #[test]
    fn engine_queries() {
        let root = Path::new("/p");
        let cases: [(Invocation, &[&str]); 3] = [
            (version(root), &["version", "--format", "{{json .}}"]),
            (compose_version(root), &["compose", "version", "--short"]),
            (info(root), &["info", "--format", "{{json .}}"]),
        ];
        for (inv, argv) in cases {
            assert_eq!(inv.args, argv, "{inv}");
            assert_eq!(inv.cwd, PathBuf::from("/p"));
        }
        assert_eq!(
            version(root).to_string(),
            "docker version --format '{{json .}}'"
        );
    }
}
