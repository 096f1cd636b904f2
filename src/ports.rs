//! Host ports checked before `up` starts anything. The ports come from Compose's own resolved
//! configuration (`docker compose config --format json`), never from a guess; each is bound on
//! its host address for a moment. A port in use is refused with the `.env` key that sets it
//! (read from the same files without interpolation, `${TIMMY_PORT:-3000}` → `TIMMY_PORT`) and
//! who holds it: a container of a Compose project (its name, environment and checkout, from
//! its labels) or another process. A port held by the very stack being started is its own:
//! `up` on a running stack is not refused.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value;

use crate::checkout;
use crate::compose;
use crate::docker::Docker;
use crate::exit::UserError;
use crate::stack::{self, Stack};
use crate::status;
use crate::ui;
use crate::validate;

/// Published ports are bound on the engine's host: this machine's only when the engine is
/// reached through a local socket (not TCP, SSH or another context). `up` and `doctor` check
/// ports only then.
pub fn on_this_machine(env: &crate::preflight::Env) -> bool {
    crate::preflight::daemon_socket(env).is_some()
}

/// One host port a service publishes, as Compose resolved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub service: String,
    /// Empty when the port is published on every address.
    pub host_ip: String,
    pub port: u16,
    pub target: u16,
    pub protocol: String,
}

impl Published {
    fn address(&self) -> String {
        let ip = if self.host_ip.is_empty() {
            "0.0.0.0"
        } else {
            &self.host_ip
        };
        format!("{ip}:{}", self.port)
    }
}

/// The published host ports of `docker compose config --format json`. `0` and an empty
/// `published` (Docker picks a free port) are never in use, so they are left out.
pub fn published(config_json: &str) -> Result<Vec<Published>> {
    let config: Value = serde_json::from_str(config_json)
        .map_err(|e| anyhow::anyhow!("cannot read `docker compose config` JSON: {e}"))?;
    let mut out = Vec::new();
    let Some(services) = config.get("services").and_then(Value::as_object) else {
        return Ok(out);
    };
    for (service, def) in services {
        for p in def
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let port = match p.get("published") {
                Some(Value::String(s)) => s.parse::<u16>().ok(),
                Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                _ => None,
            };
            let Some(port) = port.filter(|p| *p != 0) else {
                continue;
            };
            let text = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let protocol = Some(text("protocol"))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "tcp".into());
            out.push(Published {
                service: service.clone(),
                host_ip: text("host_ip"),
                port,
                target: p
                    .get("target")
                    .and_then(Value::as_u64)
                    .and_then(|n| u16::try_from(n).ok())
                    .unwrap_or(0),
                protocol,
            });
        }
    }
    Ok(out)
}

/// The variable that sets the host port of `p`, read from the compose files as written:
/// `"127.0.0.1:${TIMMY_PORT:-3000}:3000"` or the long form's `published: ${PORT}`. Compose
/// cannot print the files uninterpolated (measured on 2.26.1: `config --no-interpolate`
/// refuses `${WORKSPACE_PATH:-./workspace}:/workspace:rw`, "too many colons"), so each
/// port-looking line is read here, and a variable counts only when its value (`value_of`,
/// else its `:-` default) is the port in use.
pub fn key_of(
    compose_texts: &[String],
    p: &Published,
    value_of: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    compose_texts
        .iter()
        .flat_map(|text| text.lines())
        .find_map(|line| {
            let line = line.split(" #").next().unwrap_or(line);
            let line = line.trim().trim_start_matches("- ").trim();
            if line.starts_with('#') {
                return None;
            }
            let segment = if let Some(rest) = line.strip_prefix("published:") {
                unquote(rest)
            } else {
                let spec = unquote(line);
                let (spec, protocol) = spec.split_once('/').unwrap_or((spec, "tcp"));
                let (host, target) = split_last_colon(spec)?;
                if protocol != p.protocol || !covers(target, p.target) {
                    return None;
                }
                last_segment(host)
            };
            let var = crate::dotenv::variables(segment).ok()?.into_iter().next()?;
            let value = value_of(&var.name).or_else(|| {
                (var.kind == crate::dotenv::RefKind::Default && !var.arg.contains('$'))
                    .then(|| var.arg.clone())
            });
            let first = value?.trim().parse::<u16>().ok()?;
            let span = range_len(segment);
            (first..=first.saturating_add(span))
                .contains(&p.port)
                .then_some(var.name)
        })
}

fn unquote(text: &str) -> &str {
    text.trim().trim_matches(['"', '\''])
}

/// `${X:-4000}-4001` → 1: how many ports follow the first in a written range.
fn range_len(segment: &str) -> u16 {
    let Some((_, rest)) = split_last_dash(segment) else {
        return 0;
    };
    let end = rest.trim().parse::<u16>().ok();
    let start = crate::dotenv::variables(segment)
        .ok()
        .and_then(|v| v.into_iter().next())
        .and_then(|v| v.arg.parse::<u16>().ok());
    match (start, end) {
        (Some(s), Some(e)) if e >= s => e - s,
        _ => 0,
    }
}

/// `segment` split at its last `-` outside `${…}`.
fn split_last_dash(segment: &str) -> Option<(&str, &str)> {
    let mut depth = 0_usize;
    let mut at = None;
    let bytes = segment.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b'-' if depth == 0 => at = Some(i),
            _ => {}
        }
    }
    at.map(|i| (&segment[..i], &segment[i + 1..]))
}

/// `spec` split at its last `:` outside `${…}`: host part and container port.
fn split_last_colon(spec: &str) -> Option<(&str, &str)> {
    let mut depth = 0_usize;
    let mut at = None;
    let bytes = spec.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => at = Some(i),
            _ => {}
        }
    }
    at.map(|i| (&spec[..i], &spec[i + 1..]))
}

/// The published part of a host part `ip:port` (or just `port`).
fn last_segment(host: &str) -> &str {
    split_last_colon(host).map_or(host, |(_, port)| port)
}

/// Does a container port or range as written (`3000`, `3000-3005`) include `target`?
fn covers(written: &str, target: u16) -> bool {
    let (from, to) = written.split_once('-').unwrap_or((written, written));
    match (from.trim().parse::<u16>(), to.trim().parse::<u16>()) {
        (Ok(from), Ok(to)) => (from..=to).contains(&target),
        _ => false,
    }
}

/// Whether binding `p` on its host address fails because something else holds it. Any other
/// failure (a privileged port, an address this host does not have) is left to Docker, whose
/// daemon binds with other rights.
pub fn in_use(p: &Published) -> bool {
    let ip = if p.host_ip.is_empty() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        match p.host_ip.parse() {
            Ok(ip) => ip,
            Err(_) => return false,
        }
    };
    let addr = SocketAddr::new(ip, p.port);
    let error = if p.protocol == "udp" {
        UdpSocket::bind(addr).err()
    } else {
        TcpListener::bind(addr).err()
    };
    error.is_some_and(|e| e.kind() == ErrorKind::AddrInUse)
}

/// A running container that publishes a port, from [`compose::publishers_of`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub name: String,
    pub project: String,
    pub working_dir: String,
    pub config_files: Vec<PathBuf>,
    /// Docker's port text: `127.0.0.1:3000->3000/tcp, :::9229->9229/tcp`.
    pub ports: String,
}

/// Parse the tab-separated lines of [`compose::publishers_of`].
pub fn parse_holders(text: &str) -> Vec<Holder> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut f = line.split('\t');
            let mut next = || f.next().unwrap_or("").to_string();
            Holder {
                name: next(),
                project: next(),
                working_dir: next(),
                config_files: next()
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(PathBuf::from)
                    .collect(),
                ports: next(),
            }
        })
        .collect()
}

impl Holder {
    /// Does this container publish `p`'s port on an address that overlaps `p`'s?
    fn publishes(&self, p: &Published) -> bool {
        self.ports.split(", ").any(|entry| {
            let Some((host, rest)) = entry.split_once("->") else {
                return false;
            };
            let protocol = rest.rsplit('/').next().unwrap_or("tcp");
            let Some((ip, port)) = host.rsplit_once(':') else {
                return false;
            };
            protocol == p.protocol
                && port.parse::<u16>().ok() == Some(p.port)
                && overlaps(ip.trim_start_matches('[').trim_end_matches(']'), &p.host_ip)
        })
    }

    fn is_stack(&self, stack: &Stack) -> bool {
        self.project == stack.name && same_dir(Path::new(&self.working_dir), &stack.root)
    }
}

fn is_any(ip: &str) -> bool {
    matches!(ip, "" | "0.0.0.0" | "::" | ":")
}

fn overlaps(a: &str, b: &str) -> bool {
    is_any(a) || is_any(b) || a == b
}

fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || (a.canonicalize().ok().is_some() && a.canonicalize().ok() == b.canonicalize().ok())
}

/// A port of the stack that something else holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub port: Published,
    /// The `.env` key that sets the port, when the compose files take it from one.
    pub key: Option<String>,
    /// The container holding it; `None` for another process.
    pub holder: Option<Holder>,
}

/// The error for the ports in use: one `error:` line each (all but the last printed here),
/// the last one with the hint of the first.
/// `base` is the project base name of this run (`-p`, else the folder's), for the hints.
pub fn refusal(conflicts: &[Conflict], root: &Path, base: &str) -> UserError {
    let lines: Vec<String> = conflicts.iter().map(|c| message(c, root)).collect();
    for line in &lines[..lines.len().saturating_sub(1)] {
        ui::error(line);
    }
    let last = lines.last().cloned().unwrap_or_default();
    match conflicts.first() {
        Some(first) => UserError::new(last).hint(hint(first, root, base)),
        None => UserError::new(last),
    }
}

fn message(c: &Conflict, root: &Path) -> String {
    let what = match &c.key {
        Some(key) => format!("port {} ({key})", c.port.address()),
        None => format!("port {} of service `{}`", c.port.address(), c.port.service),
    };
    let who = match &c.holder {
        None => "another process".to_string(),
        Some(h) if h.project.is_empty() => format!("the container `{}`", h.name),
        Some(h) => {
            let place = if same_dir(Path::new(&h.working_dir), root) {
                "this checkout".to_string()
            } else {
                format!("the checkout {}", h.working_dir)
            };
            match status::env_of_files(&h.config_files) {
                Some(env) => format!(
                    "the {env} stack `{}` of {place} (container {})",
                    h.project, h.name
                ),
                None => format!(
                    "the Compose project `{}` of {place} (container {})",
                    h.project, h.name
                ),
            }
        }
    };
    format!("{what} is in use by {who}")
}

fn hint(c: &Conflict, root: &Path, base: &str) -> String {
    let change = match &c.key {
        Some(key) => format!("set {key} in .env to a free port"),
        None => format!(
            "publish `{}` on a free port in the compose files",
            c.port.service
        ),
    };
    match &c.holder {
        Some(h)
            if !h.project.is_empty()
                && same_dir(Path::new(&h.working_dir), root)
                && status::env_of_files(&h.config_files).is_some() =>
        {
            let env = status::env_of_files(&h.config_files).unwrap_or_default();
            let own_name = stack::project_name(root, &env, Some(base)).ok();
            if own_name.as_deref() == Some(h.project.as_str()) {
                format!("stop it with `timmy down {env}`, or {change}")
            } else {
                // Started under another -p: plain `timmy down` would look for another name.
                let stop = checkout::stop_command(&h.project, &env);
                format!("stop it with `{stop}`, or {change}")
            }
        }
        Some(h) => format!("stop `{}`, or {change}", h.name),
        None => {
            let lsof = if c.port.protocol == "udp" {
                format!("lsof -iUDP:{}", c.port.port)
            } else {
                format!("lsof -iTCP:{} -sTCP:LISTEN", c.port.port)
            };
            format!("{change}, or stop that process (`{lsof}` shows it)")
        }
    }
}

/// Refuse to start `stack` when a port it publishes is held by anything but itself. When
/// Compose cannot print the configuration, nothing is checked: `up` then fails with Compose's
/// own message, before starting anything. Cost measured on Engine 20.10 + Compose 2.26.1:
/// the config query 70–90 ms; on the re-`up` of a running stack, one `docker ps` of 10–20 ms
/// per port it holds itself; free ports cost a bind each (microseconds).
pub fn preflight(docker: &Docker, stack: &Stack) -> Result<()> {
    let out = docker.query(&compose::config_json(stack))?;
    if out.code != 0 {
        return Ok(());
    }
    preflight_config(docker, stack, &out.stdout)
}

/// [`preflight`] with the configuration (`config --format json`) already asked of Compose.
pub fn preflight_config(docker: &Docker, stack: &Stack, config_json: &str) -> Result<()> {
    let mut conflicts = Vec::new();
    for p in published(config_json)? {
        if !in_use(&p) {
            continue;
        }
        let found = docker.query(&compose::publishers_of(&stack.root, p.port, &p.protocol))?;
        let holders: Vec<Holder> = parse_holders(&found.stdout)
            .into_iter()
            .filter(|h| h.publishes(&p))
            .collect();
        if holders.iter().any(|h| h.is_stack(stack)) {
            continue;
        }
        conflicts.push(Conflict {
            port: p,
            key: None,
            holder: holders.into_iter().next(),
        });
    }
    if conflicts.is_empty() {
        return Ok(());
    }
    let texts: Vec<String> = stack
        .files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();
    let env: Vec<(String, String)> = validate::resolved_env(&stack.root).unwrap_or_default();
    let value_of = |name: &str| {
        validate::shell_lookup(name).or_else(|| {
            env.iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    };
    for c in &mut conflicts {
        c.key = key_of(&texts, &c.port, &value_of);
    }
    let base = if stack.env == stack::PROD {
        stack.name.as_str()
    } else {
        stack
            .name
            .strip_suffix(&format!("-{}", stack.env))
            .unwrap_or(&stack.name)
    };
    Err(refusal(&conflicts, &stack.root, base).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"{"name":"p","services":{
      "redis":{"image":"r"},
      "timmy":{"ports":[
        {"mode":"ingress","host_ip":"127.0.0.1","target":3000,"published":"3000","protocol":"tcp"},
        {"mode":"ingress","host_ip":"127.0.0.1","target":9229,"published":"0","protocol":"tcp"},
        {"mode":"ingress","target":5000,"published":"4000","protocol":"udp"},
        {"mode":"ingress","target":6000,"protocol":"tcp"}]}}}"#;

    const FILES: &str = "services:
  timmy:
    ports:
      - \"127.0.0.1:${TIMMY_PORT:-3000}:3000\"   # the app
      - '127.0.0.1:${TIMMY_DEBUG_PORT:-9229}:9229'
      - ${UDP_PORT:-4000}-4001:5000-5001/udp
      - 8080:8080
      - target: 7000
        published: \"${LONG_PORT}\"
    volumes:
      - ${WORKSPACE_PATH:-./workspace}:/workspace:rw
";

    fn port(service: &str, host_ip: &str, port: u16, target: u16, protocol: &str) -> Published {
        Published {
            service: service.into(),
            host_ip: host_ip.into(),
            port,
            target,
            protocol: protocol.into(),
        }
    }

    #[test]
    fn published_ports_from_the_resolved_config() {
        assert_eq!(
            published(CONFIG).unwrap(),
            [
                port("timmy", "127.0.0.1", 3000, 3000, "tcp"),
                port("timmy", "", 4000, 5000, "udp"),
            ]
        );
        assert!(published("{}").unwrap().is_empty());
        assert!(published("not json").is_err());
    }

    #[test]
    fn keys_from_the_files_as_written() {
        let texts = vec![FILES.to_string()];
        let values = |name: &str| match name {
            "TIMMY_PORT" => Some("3001".to_string()),
            "LONG_PORT" => Some("7001".to_string()),
            _ => None,
        };
        let key = |p: Published| key_of(&texts, &p, &values);
        assert_eq!(
            key(port("timmy", "127.0.0.1", 3001, 3000, "tcp")).as_deref(),
            Some("TIMMY_PORT")
        );
        assert_eq!(key(port("timmy", "127.0.0.1", 3000, 3000, "tcp")), None);
        assert_eq!(
            key(port("timmy", "127.0.0.1", 9229, 9229, "tcp")).as_deref(),
            Some("TIMMY_DEBUG_PORT")
        );
        assert_eq!(
            key(port("timmy", "", 4001, 5001, "udp")).as_deref(),
            Some("UDP_PORT")
        );
        assert_eq!(key(port("timmy", "", 4001, 5001, "tcp")), None);
        assert_eq!(
            key(port("timmy", "", 7001, 7000, "tcp")).as_deref(),
            Some("LONG_PORT")
        );
        assert_eq!(key(port("timmy", "", 8080, 8080, "tcp")), None);
    }

    #[test]
    fn split_ignores_colons_inside_references() {
        assert_eq!(
            split_last_colon("127.0.0.1:${P:-3000}:3000"),
            Some(("127.0.0.1:${P:-3000}", "3000"))
        );
        assert_eq!(last_segment("127.0.0.1:${P:-3000}"), "${P:-3000}");
        assert_eq!(last_segment("${P:-3000}"), "${P:-3000}");
        assert_eq!(split_last_colon("3000"), None);
    }

    #[test]
    fn holders_and_what_they_publish() {
        let text = "p-dev-timmy-1\tp-dev\t/src/p\t/src/p/docker/docker-compose.yml,/src/p/docker/docker-compose.dev.yml\t127.0.0.1:3000->3000/tcp, 127.0.0.1:9229->9229/tcp\n\
                    web\t\t\t\t0.0.0.0:3000->80/tcp, :::3000->80/tcp\n";
        let h = parse_holders(text);
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].project, "p-dev");
        assert_eq!(h[0].config_files.len(), 2);
        let app = port("timmy", "127.0.0.1", 3000, 3000, "tcp");
        assert!(h[0].publishes(&app));
        assert!(h[1].publishes(&app));
        assert!(!h[0].publishes(&port("timmy", "127.0.0.2", 3000, 3000, "tcp")));
        assert!(!h[0].publishes(&port("timmy", "127.0.0.1", 3000, 3000, "udp")));
        assert!(h[0].publishes(&port("timmy", "", 9229, 9229, "tcp")));
    }

    #[track_caller]
    fn case(c: &Conflict, message_text: &str, hint_text: &str) {
        let root = Path::new("/src/p");
        assert_eq!(message(c, root), message_text);
        assert_eq!(hint(c, root, "p"), hint_text);
    }

    fn holder(project: &str, dir: &str, env: &str) -> Holder {
        Holder {
            name: format!("{project}-timmy-1"),
            project: project.into(),
            working_dir: dir.into(),
            config_files: if env.is_empty() {
                vec![PathBuf::from(format!("{dir}/compose.yaml"))]
            } else {
                vec![
                    PathBuf::from(format!("{dir}/docker/docker-compose.yml")),
                    PathBuf::from(format!("{dir}/docker/docker-compose.{env}.yml")),
                ]
            },
            ports: String::new(),
        }
    }

    #[test]
    fn messages_name_the_key_and_the_holder() {
        let app = port("timmy", "127.0.0.1", 3000, 3000, "tcp");
        let with = |key: Option<&str>, holder: Option<Holder>| Conflict {
            port: app.clone(),
            key: key.map(str::to_string),
            holder,
        };
        case(
            &with(Some("TIMMY_PORT"), None),
            "port 127.0.0.1:3000 (TIMMY_PORT) is in use by another process",
            "set TIMMY_PORT in .env to a free port, or stop that process (`lsof -iTCP:3000 -sTCP:LISTEN` shows it)",
        );
        case(
            &with(Some("TIMMY_PORT"), Some(holder("p-dev", "/src/p", "dev"))),
            "port 127.0.0.1:3000 (TIMMY_PORT) is in use by the dev stack `p-dev` of this checkout (container p-dev-timmy-1)",
            "stop it with `timmy down dev`, or set TIMMY_PORT in .env to a free port",
        );
        case(
            &with(Some("TIMMY_PORT"), Some(holder("p-old", "/src/p", "prod"))),
            "port 127.0.0.1:3000 (TIMMY_PORT) is in use by the prod stack `p-old` of this checkout (container p-old-timmy-1)",
            "stop it with `timmy -p p-old down prod`, or set TIMMY_PORT in .env to a free port",
        );
        case(
            &with(Some("TIMMY_PORT"), Some(holder("q-dev", "/src/p", "dev"))),
            "port 127.0.0.1:3000 (TIMMY_PORT) is in use by the dev stack `q-dev` of this checkout (container q-dev-timmy-1)",
            "stop it with `timmy -p q down dev`, or set TIMMY_PORT in .env to a free port",
        );
        case(
            &with(Some("TIMMY_PORT"), Some(holder("p", "/other/p", "prod"))),
            "port 127.0.0.1:3000 (TIMMY_PORT) is in use by the prod stack `p` of the checkout /other/p (container p-timmy-1)",
            "stop `p-timmy-1`, or set TIMMY_PORT in .env to a free port",
        );
        case(
            &with(None, Some(holder("web", "/srv/web", ""))),
            "port 127.0.0.1:3000 of service `timmy` is in use by the Compose project `web` of the checkout /srv/web (container web-timmy-1)",
            "stop `web-timmy-1`, or publish `timmy` on a free port in the compose files",
        );
        let mut plain = holder("", "", "");
        plain.name = "web".into();
        plain.config_files.clear();
        case(
            &with(Some("TIMMY_PORT"), Some(plain)),
            "port 127.0.0.1:3000 (TIMMY_PORT) is in use by the container `web`",
            "stop `web`, or set TIMMY_PORT in .env to a free port",
        );
        let udp = Conflict {
            port: port("timmy", "", 4000, 5000, "udp"),
            key: None,
            holder: None,
        };
        case(
            &udp,
            "port 0.0.0.0:4000 of service `timmy` is in use by another process",
            "publish `timmy` on a free port in the compose files, or stop that process (`lsof -iUDP:4000` shows it)",
        );
    }

    #[test]
    fn a_listening_port_is_in_use_a_free_one_is_not() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = listener.local_addr().unwrap().port();
        assert!(in_use(&port("timmy", "127.0.0.1", taken, 3000, "tcp")));
        assert!(in_use(&port("timmy", "", taken, 3000, "tcp")));
        drop(listener);
        assert!(!in_use(&port("timmy", "127.0.0.1", taken, 3000, "tcp")));
        assert!(!in_use(&port("timmy", "not an ip", taken, 3000, "tcp")));
    }
}
