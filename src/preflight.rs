//! Is Docker usable, decided without starting a single process: the CLI is found with `which`
//! (or `TIMMY_DOCKER`), the Compose v2 plugin by looking in the directories the docker CLI
//! searches, and the daemon by connecting to its Unix socket. Each failure is its own one-line
//! error with a hint. Every spawned `docker` costs tens of milliseconds; these checks cost
//! microseconds, which is why they do not run `docker info` or `docker compose version`.

use std::ffi::OsString;
use std::io;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use crate::exit::UserError;

/// Where the docker CLI looks for plugins besides the user's config dir (docker/cli,
/// `pluginmanager`, Unix defaults).
const SYSTEM_PLUGIN_DIRS: [&str; 4] = [
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
];

const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// What preflight needs from the environment, gathered once by the caller.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub timmy_docker: Option<OsString>,
    pub path: Option<OsString>,
    pub docker_config: Option<PathBuf>,
    pub home: Option<PathBuf>,
    pub docker_host: Option<String>,
    pub docker_context: Option<String>,
    pub cwd: PathBuf,
    /// The docker CLI's system plugin directories (a field so tests can empty it).
    pub system_plugin_dirs: Vec<PathBuf>,
}

impl Env {
    pub fn from_process(cwd: &Path) -> Self {
        Self {
            timmy_docker: std::env::var_os("TIMMY_DOCKER").filter(|v| !v.is_empty()),
            path: std::env::var_os("PATH"),
            docker_config: std::env::var_os("DOCKER_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            home: std::env::var_os("HOME").map(PathBuf::from),
            docker_host: std::env::var("DOCKER_HOST").ok().filter(|v| !v.is_empty()),
            docker_context: std::env::var("DOCKER_CONTEXT")
                .ok()
                .filter(|v| !v.is_empty()),
            cwd: cwd.to_path_buf(),
            system_plugin_dirs: SYSTEM_PLUGIN_DIRS.iter().map(PathBuf::from).collect(),
        }
    }

    fn config_dir(&self) -> Option<PathBuf> {
        self.docker_config
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".docker")))
    }
}

/// The docker program to run.
pub fn docker_program(env: &Env) -> Result<PathBuf, UserError> {
    if let Some(explicit) = &env.timmy_docker {
        let found = which::which_in(explicit, env.path.as_ref(), &env.cwd).map_err(|_| {
            UserError::new(format!(
                "TIMMY_DOCKER is set to {}, which is not an executable",
                Path::new(explicit).display()
            ))
            .hint("point TIMMY_DOCKER at the docker CLI, or unset it")
        })?;
        return Ok(found);
    }
    which::which_in("docker", env.path.as_ref(), &env.cwd).map_err(|_| {
        UserError::new("docker is not installed (no `docker` on PATH)")
            .hint("install Docker Engine and the Compose v2 plugin; on Debian as root: scripts/setup-engine.sh")
    })
}

/// The Compose v2 plugin binary, where the docker CLI would find it.
pub fn compose_plugin(env: &Env) -> Result<PathBuf, UserError> {
    let mut dirs: Vec<PathBuf> = env
        .config_dir()
        .map(|d| d.join("cli-plugins"))
        .into_iter()
        .collect();
    dirs.extend(extra_plugin_dirs(env));
    dirs.extend(env.system_plugin_dirs.iter().cloned());
    if let Some(found) = dirs
        .iter()
        .map(|d| d.join("docker-compose"))
        .find(|p| p.is_file())
    {
        return Ok(found);
    }
    let mut err = UserError::new(
        "the Docker Compose v2 plugin is missing (`docker compose` is not available)",
    );
    err = match which::which_in("docker-compose", env.path.as_ref(), &env.cwd) {
        Ok(v1) => err.hint(format!(
            "only the standalone `docker-compose` was found ({}); timmy needs Compose v2 as a docker plugin: \
             install docker-compose-plugin, or copy a v2 binary to /usr/local/lib/docker/cli-plugins/docker-compose",
            v1.display()
        )),
        Err(_) => err.hint(
            "install docker-compose-plugin, or copy a Compose v2 binary to /usr/local/lib/docker/cli-plugins/docker-compose",
        ),
    };
    Err(err)
}

/// `cliPluginsExtraDirs` from the CLI's config.json, when present.
fn extra_plugin_dirs(env: &Env) -> Vec<PathBuf> {
    read_cli_config(env)
        .and_then(|v| v.get("cliPluginsExtraDirs").cloned())
        .and_then(|v| serde_json::from_value::<Vec<PathBuf>>(v).ok())
        .unwrap_or_default()
}

fn read_cli_config(env: &Env) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(env.config_dir()?.join("config.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// The Unix socket timmy can probe, or `None` when the daemon is reached some other way
/// (TCP, SSH, a non-default context): then docker itself reports connection problems.
pub fn daemon_socket(env: &Env) -> Option<PathBuf> {
    if let Some(host) = &env.docker_host {
        return host.strip_prefix("unix://").map(PathBuf::from);
    }
    if env
        .docker_context
        .as_deref()
        .is_some_and(|c| c != "default")
    {
        return None;
    }
    let context = read_cli_config(env).and_then(|v| {
        v.get("currentContext")
            .and_then(|c| c.as_str().map(str::to_string))
    });
    if context
        .as_deref()
        .is_some_and(|c| !c.is_empty() && c != "default")
    {
        return None;
    }
    Some(PathBuf::from(DEFAULT_SOCKET))
}

/// Connect to the daemon's socket; a refused or missing socket means the daemon is down.
pub fn check_daemon(socket: &Path) -> Result<(), UserError> {
    match UnixStream::connect(socket) {
        Ok(_) => Ok(()),
        Err(e) => Err(daemon_error(socket, &e)),
    }
}

pub fn daemon_error(socket: &Path, e: &io::Error) -> UserError {
    match e.kind() {
        io::ErrorKind::PermissionDenied => UserError::new(format!(
            "permission denied on the Docker socket {}",
            socket.display()
        ))
        .hint("add your user to the docker group (sudo usermod -aG docker $USER, then log in again), or run as root"),
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => UserError::new(format!(
            "the Docker daemon is not running (nothing answers on {})",
            socket.display()
        ))
        .hint("start it: sudo systemctl start docker (on this project's CI machines: scripts/setup-engine.sh)"),
        _ => UserError::new(format!(
            "cannot reach the Docker daemon on {}: {e}",
            socket.display()
        ))
        .hint("check DOCKER_HOST and `docker context ls`"),
    }
}

/// All three checks, for commands that talk to the daemon.
pub fn ready(env: &Env) -> Result<PathBuf, UserError> {
    let program = docker_program(env)?;
    compose_plugin(env)?;
    if let Some(socket) = daemon_socket(env) {
        check_daemon(&socket)?;
    }
    Ok(program)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    fn exe(path: &Path) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn env_in(dir: &Path) -> Env {
        Env {
            path: Some(dir.join("bin").into_os_string()),
            docker_config: Some(dir.join("cfg")),
            cwd: dir.to_path_buf(),
            system_plugin_dirs: vec![dir.join("system-plugins")],
            ..Env::default()
        }
    }

    #[test]
    fn docker_missing_and_found() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_in(dir.path());
        let err = docker_program(&env).unwrap_err();
        assert_eq!(err.message, "docker is not installed (no `docker` on PATH)");
        exe(&dir.path().join("bin/docker"));
        assert_eq!(docker_program(&env).unwrap(), dir.path().join("bin/docker"));
    }

    #[test]
    fn timmy_docker_overrides_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = env_in(dir.path());
        env.timmy_docker = Some(dir.path().join("nope").into_os_string());
        assert!(
            docker_program(&env)
                .unwrap_err()
                .message
                .starts_with("TIMMY_DOCKER is set to")
        );
        exe(&dir.path().join("fake-docker"));
        env.timmy_docker = Some(dir.path().join("fake-docker").into_os_string());
        assert_eq!(
            docker_program(&env).unwrap(),
            dir.path().join("fake-docker")
        );
    }

    #[test]
    fn plugin_in_user_config_dir() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_in(dir.path());
        exe(&dir.path().join("cfg/cli-plugins/docker-compose"));
        assert_eq!(
            compose_plugin(&env).unwrap(),
            dir.path().join("cfg/cli-plugins/docker-compose")
        );
    }

    #[test]
    fn v1_only_is_named_in_the_hint() {
        // Only meaningful where the system plugin dirs are empty (not on a machine with Docker).
        if SYSTEM_PLUGIN_DIRS
            .iter()
            .any(|d| Path::new(d).join("docker-compose").exists())
        {
            eprintln!(
                "system compose plugin present: checking the error text through daemon_error instead"
            );
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let env = env_in(dir.path());
        exe(&dir.path().join("bin/docker-compose"));
        let err = compose_plugin(&env).unwrap_err();
        assert!(
            err.hint
                .unwrap()
                .contains("only the standalone `docker-compose` was found")
        );
    }

    #[test]
    fn socket_selection() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = env_in(dir.path());
        assert_eq!(daemon_socket(&env), Some(PathBuf::from(DEFAULT_SOCKET)));
        env.docker_host = Some("unix:///tmp/d.sock".into());
        assert_eq!(daemon_socket(&env), Some(PathBuf::from("/tmp/d.sock")));
        env.docker_host = Some("tcp://127.0.0.1:2375".into());
        assert_eq!(daemon_socket(&env), None);
        env.docker_host = None;
        env.docker_context = Some("remote".into());
        assert_eq!(daemon_socket(&env), None);
        env.docker_context = None;
        fs::create_dir_all(dir.path().join("cfg")).unwrap();
        fs::write(
            dir.path().join("cfg/config.json"),
            r#"{"currentContext":"colima"}"#,
        )
        .unwrap();
        assert_eq!(daemon_socket(&env), None);
    }

    #[test]
    fn daemon_down_vs_permission_denied() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("d.sock");
        let err = check_daemon(&sock).unwrap_err();
        assert!(
            err.message.starts_with("the Docker daemon is not running"),
            "{err:?}"
        );
        let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        assert!(check_daemon(&sock).is_ok());
        drop(listener);
        let err = check_daemon(&sock).unwrap_err();
        assert!(
            err.message.starts_with("the Docker daemon is not running"),
            "{err:?}"
        );
        let denied = daemon_error(&sock, &io::Error::from(io::ErrorKind::PermissionDenied));
        assert!(
            denied
                .message
                .starts_with("permission denied on the Docker socket")
        );
        assert!(denied.hint.unwrap().contains("docker group"));
    }
}
