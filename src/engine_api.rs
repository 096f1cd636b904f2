//! Read-only questions to the Docker Engine API over its Unix socket, without starting a
//! `docker` process: each spawned `docker ps` costs 15–30 ms here, a GET on the socket well
//! under one. Asked through [`crate::engine::Engine`], which falls back to the CLI. Used for the
//! label queries, the service list of `ps` and `up`, and the engine's API version, which picks
//! the engine-specific compose file.
//!
//! Written by hand on purpose: the Rust Docker clients (bollard and its kin) are async and
//! bring a runtime, TLS and hundreds of crates for what is one HTTP/1.1 GET with
//! `Connection: close`. Only what the engine sends for these requests is handled: a status
//! line, headers, and a body either sized by `Content-Length`, chunked, or closed by EOF.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::compose::{
    LABEL_CONFIG_FILES, LABEL_ONEOFF, LABEL_PROJECT, LABEL_SERVICE, LABEL_WORKING_DIR,
};
use crate::status::{Container, Health, Service, State};

const TIMEOUT: Duration = Duration::from_secs(10);
/// `GET /version` answers at once; a daemon that does not is stuck, and the version not worth
/// waiting for.
const VERSION_TIMEOUT: Duration = Duration::from_secs(2);

/// An Engine API version such as `1.41` (Engine 20.10) or `1.51` (Engine 28.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion(pub u32, pub u32);

impl ApiVersion {
    pub fn parse(text: &str) -> Option<Self> {
        let (major, minor) = text.trim().split_once('.')?;
        Some(Self(major.parse().ok()?, minor.parse().ok()?))
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// A project's containers, the same containers as services, and image ID by container ID.
pub type Snapshot = (
    Vec<Container>,
    Vec<Service>,
    std::collections::HashMap<String, String>,
);

#[derive(Debug, Clone)]
pub struct EngineApi {
    pub socket: PathBuf,
}

impl EngineApi {
    pub fn new(socket: &Path) -> Self {
        Self {
            socket: socket.to_path_buf(),
        }
    }

    /// `GET path` → status code and body.
    pub fn get(&self, path: &str) -> io::Result<(u16, Vec<u8>)> {
        self.get_within(path, TIMEOUT)
    }

    fn get_within(&self, path: &str, timeout: Duration) -> io::Result<(u16, Vec<u8>)> {
        let mut stream = UnixStream::connect(&self.socket)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        // One write: `write!` would send each formatted piece on its own, and a server that
        // answers after the first read could close on a half-sent request.
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: timmy\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes())?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        parse_response(&raw)
    }

    /// The engine's `ApiVersion`, from `GET /version`.
    pub fn api_version(&self) -> io::Result<ApiVersion> {
        let (status, body) = self.get_within("/version", VERSION_TIMEOUT)?;
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        value
            .get("ApiVersion")
            .and_then(serde_json::Value::as_str)
            .and_then(ApiVersion::parse)
            .filter(|_| status == 200)
            .ok_or_else(|| {
                io::Error::other(format!(
                    "the engine answered {status} to GET /version without an ApiVersion"
                ))
            })
    }

    /// Every container (running or not) carrying the Compose project label `name`.
    pub fn containers_of(&self, name: &str) -> io::Result<Vec<Container>> {
        self.containers_with(&format!("{LABEL_PROJECT}={name}"))
    }

    /// Every container (running or not) carrying the label `KEY=VALUE`.
    pub fn containers_with(&self, label: &str) -> io::Result<Vec<Container>> {
        parse_containers(&self.labelled(label)?)
    }

    /// The project's containers as `docker compose ps --all --format json` describes them.
    pub fn services_of(&self, name: &str) -> io::Result<Vec<Service>> {
        parse_services(&self.labelled(&format!("{LABEL_PROJECT}={name}"))?)
    }

    /// Project `name`'s containers in one request: as [`Container`]s, as [`Service`]s (for
    /// their health) and each container's image ID by container ID.
    pub fn project_snapshot(&self, name: &str) -> io::Result<Snapshot> {
        #[derive(Deserialize)]
        struct Ids {
            #[serde(rename = "Id")]
            id: String,
            #[serde(rename = "ImageID", default)]
            image_id: String,
        }
        let body = self.labelled(&format!("{LABEL_PROJECT}={name}"))?;
        let ids: Vec<Ids> = serde_json::from_slice(&body)
            .map_err(|e| io::Error::other(format!("unexpected answer from the engine: {e}")))?;
        Ok((
            parse_containers(&body)?,
            parse_services(&body)?,
            ids.into_iter().map(|i| (i.id, i.image_id)).collect(),
        ))
    }

    /// The ID of the image `reference` names (`GET /images/{name}/json`); `None` when the
    /// engine has no such image.
    pub fn image_id(&self, reference: &str) -> io::Result<Option<String>> {
        #[derive(Deserialize)]
        struct Image {
            #[serde(rename = "Id")]
            id: String,
        }
        let (status, body) = self.get(&format!("/images/{}/json", percent_encode(reference)))?;
        match status {
            200 => {
                let image: Image = serde_json::from_slice(&body).map_err(|e| {
                    io::Error::other(format!("unexpected answer from the engine: {e}"))
                })?;
                Ok(Some(image.id))
            }
            404 => Ok(None),
            _ => Err(io::Error::other(format!(
                "the engine answered {status} to GET /images/{reference}/json: {}",
                String::from_utf8_lossy(&body).trim()
            ))),
        }
    }

    /// The ids of the swarm services carrying the label `KEY=VALUE` (a stack's:
    /// `com.docker.stack.namespace=NAME`); `None` when the engine is not a swarm manager
    /// (it answers 503 to `GET /services`).
    pub fn service_ids_with(&self, label: &str) -> io::Result<Option<Vec<String>>> {
        #[derive(Deserialize)]
        struct Id {
            #[serde(rename = "ID")]
            id: String,
        }
        let filters = serde_json::json!({ "label": [label] }).to_string();
        let (status, body) =
            self.get(&format!("/services?filters={}", percent_encode(&filters)))?;
        match status {
            200 => {
                let ids: Vec<Id> = serde_json::from_slice(&body).map_err(|e| {
                    io::Error::other(format!("unexpected answer from the engine: {e}"))
                })?;
                Ok(Some(ids.into_iter().map(|i| i.id).collect()))
            }
            503 => Ok(None),
            _ => Err(io::Error::other(format!(
                "the engine answered {status} to GET /services: {}",
                String::from_utf8_lossy(&body).trim()
            ))),
        }
    }

    /// `GET /containers/json?all=1` filtered by the label `KEY=VALUE`: the body.
    fn labelled(&self, label: &str) -> io::Result<Vec<u8>> {
        let filters = serde_json::json!({ "label": [label] }).to_string();
        let path = format!(
            "/containers/json?all=1&filters={}",
            percent_encode(&filters)
        );
        let (status, body) = self.get(&path)?;
        if status != 200 {
            let text = String::from_utf8_lossy(&body);
            return Err(io::Error::other(format!(
                "the engine answered {status} to GET /containers/json: {}",
                text.trim()
            )));
        }
        Ok(body)
    }
}

/// The path shown by `-v` for a label query (`KEY=VALUE`).
pub fn describe_query(label: &str) -> String {
    format!("GET /containers/json?all=1 (label {label}) on the Docker socket")
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawContainer {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    state: String,
    #[serde(default)]
    labels: Option<std::collections::HashMap<String, String>>,
}

fn parse_containers(body: &[u8]) -> io::Result<Vec<Container>> {
    let raw: Vec<RawContainer> = serde_json::from_slice(body)
        .map_err(|e| io::Error::other(format!("unexpected answer from the engine: {e}")))?;
    Ok(raw
        .into_iter()
        .map(|c| {
            let labels = c.labels.unwrap_or_default();
            let label = |k: &str| labels.get(k).cloned().unwrap_or_default();
            Container {
                name: c
                    .names
                    .first()
                    .map(|n| n.trim_start_matches('/').to_string())
                    .unwrap_or_default(),
                id: c.id,
                state: State::parse(&c.state),
                service: label(LABEL_SERVICE),
                oneoff: label(LABEL_ONEOFF).eq_ignore_ascii_case("true"),
                config_files: label(LABEL_CONFIG_FILES)
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(PathBuf::from)
                    .collect(),
                project: label(LABEL_PROJECT),
                working_dir: label(LABEL_WORKING_DIR),
            }
        })
        .collect())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawService {
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    image: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    ports: Option<Vec<RawPort>>,
    #[serde(default)]
    labels: Option<std::collections::HashMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPort {
    #[serde(default, rename = "IP")]
    ip: String,
    #[serde(default)]
    private_port: u32,
    #[serde(default)]
    public_port: u32,
    #[serde(default, rename = "Type")]
    kind: String,
}

/// The engine's container list as [`Service`]s, in the form `status::parse_ps` gives for
/// Compose's `ps`: health and an exited container's code read from the status text (`Up 2
/// minutes (healthy)`, `Exited (137) 3 seconds ago`; like Compose, 0 while restarting),
/// published ports only, sorted by service and name.
fn parse_services(body: &[u8]) -> io::Result<Vec<Service>> {
    let raw: Vec<RawService> = serde_json::from_slice(body)
        .map_err(|e| io::Error::other(format!("unexpected answer from the engine: {e}")))?;
    let mut services: Vec<Service> = raw
        .into_iter()
        .map(|c| {
            let labels = c.labels.unwrap_or_default();
            let health = if c.status.ends_with("(healthy)") {
                Health::Healthy
            } else if c.status.ends_with("(unhealthy)") {
                Health::Unhealthy
            } else if c.status.ends_with("(health: starting)") {
                Health::Starting
            } else {
                Health::None
            };
            let exit_code = c
                .status
                .strip_prefix("Exited (")
                .and_then(|r| r.split_once(')'))
                .and_then(|(code, _)| code.parse().ok())
                .unwrap_or(0);
            let mut ports: Vec<String> = c
                .ports
                .unwrap_or_default()
                .into_iter()
                .filter(|p| p.public_port != 0)
                .map(|p| {
                    let host = if p.ip.is_empty() {
                        "0.0.0.0".into()
                    } else {
                        p.ip
                    };
                    format!("{host}:{}->{}/{}", p.public_port, p.private_port, p.kind)
                })
                .collect();
            ports.sort();
            ports.dedup();
            Service {
                service: labels.get(LABEL_SERVICE).cloned().unwrap_or_default(),
                name: c
                    .names
                    .first()
                    .map(|n| n.trim_start_matches('/').to_string())
                    .unwrap_or_default(),
                state: State::parse(&c.state),
                health,
                exit_code,
                ports,
                image: c.image,
                status: c.status,
            }
        })
        .collect();
    services.sort_by(|a, b| a.service.cmp(&b.service).then(a.name.cmp(&b.name)));
    Ok(services)
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn parse_response(raw: &[u8]) -> io::Result<(u16, Vec<u8>)> {
    let bad = |what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad HTTP answer from the engine: {what}"),
        )
    };
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| bad("headers are not text"))?;
    let body = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| bad("no status line"))?;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        } else if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        }
    }
    let body = if chunked {
        dechunk(body).ok_or_else(|| bad("broken chunked body"))?
    } else if let Some(n) = length {
        body.get(..n)
            .ok_or_else(|| bad("body shorter than Content-Length"))?
            .to_vec()
    } else {
        body.to_vec()
    };
    Ok((status, body))
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    const BODY: &str = r#"[{"Id":"abc123","Names":["/p-redis-1"],"State":"running","Labels":{"com.docker.compose.project":"p","com.docker.compose.service":"redis","com.docker.compose.oneoff":"False","com.docker.compose.project.config_files":"/p/docker/docker-compose.yml,/p/docker/docker-compose.prod.yml","com.docker.compose.project.working_dir":"/p"}},
{"Id":"def456","Names":["/stray"],"State":"exited","Labels":{"com.docker.compose.project":"p"}}]"#;

    #[test]
    fn content_length_and_chunked_bodies() {
        let plain = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]trailing";
        assert_eq!(
            parse_response(plain.as_bytes()).unwrap(),
            (200, b"[]".to_vec())
        );
        let chunked =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[{}\r\n1\r\n]\r\n0\r\n\r\n";
        assert_eq!(
            parse_response(chunked.as_bytes()).unwrap(),
            (200, b"[{}]".to_vec())
        );
        assert!(parse_response(b"garbage").is_err());
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err()
        );
    }

    #[test]
    fn containers_from_engine_json() {
        let c = parse_containers(BODY.as_bytes()).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].name, "p-redis-1");
        assert_eq!(c[0].service, "redis");
        assert!(!c[0].oneoff);
        assert_eq!(c[0].config_files.len(), 2);
        assert_eq!(c[1].service, "");
        assert!(c[1].config_files.is_empty());
        assert_eq!(c[0].project, "p");
        assert_eq!(c[0].working_dir, "/p");
        assert_eq!(c[1].working_dir, "");
    }

    #[test]
    fn services_read_like_compose_ps() {
        let body = r#"[{"Id":"b","Names":["/p-timmy-1"],"Image":"p-timmy","State":"running","Status":"Up 2 minutes (health: starting)","Ports":[{"IP":"127.0.0.1","PrivatePort":3000,"PublicPort":3000,"Type":"tcp"},{"IP":"127.0.0.1","PrivatePort":9229,"PublicPort":9229,"Type":"tcp"},{"PrivatePort":8080,"Type":"tcp"}],"Labels":{"com.docker.compose.service":"timmy"}},
{"Id":"a","Names":["/p-redis-1"],"Image":"redis:7","State":"running","Status":"Up 3 minutes (healthy)","Ports":[],"Labels":{"com.docker.compose.service":"redis"}},
{"Id":"c","Names":["/p-worker-1"],"Image":"w","State":"exited","Status":"Exited (137) 5 seconds ago","Ports":null,"Labels":{"com.docker.compose.service":"worker"}},
{"Id":"d","Names":["/p-loop-1"],"Image":"l","State":"restarting","Status":"Restarting (3) 1 second ago","Labels":{"com.docker.compose.service":"loop"}},
{"Id":"e","Names":["/p-sick-1"],"Image":"s","State":"running","Status":"Up 9 seconds (unhealthy)","Labels":{"com.docker.compose.service":"sick"}}]"#;
        let s = parse_services(body.as_bytes()).unwrap();
        let rows: Vec<(&str, &str, &str, i64)> = s
            .iter()
            .map(|s| {
                (
                    s.service.as_str(),
                    s.state.as_str(),
                    s.health.as_str(),
                    s.exit_code,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("loop", "restarting", "", 0),
                ("redis", "running", "healthy", 0),
                ("sick", "running", "unhealthy", 0),
                ("timmy", "running", "starting", 0),
                ("worker", "exited", "", 137),
            ]
        );
        assert_eq!(
            s[3].ports,
            ["127.0.0.1:3000->3000/tcp", "127.0.0.1:9229->9229/tcp"]
        );
        assert_eq!(s[3].name, "p-timmy-1");
        assert_eq!(s[3].image, "p-timmy");
        assert_eq!(s[3].uptime(), Some("2 minutes"));
        assert!(s[1].ports.is_empty());
        assert_eq!(
            s[0].failure(),
            "keeps crashing and restarting, last exit code 3"
        );
    }

    #[test]
    fn filters_are_percent_encoded() {
        assert_eq!(
            percent_encode(r#"{"label":["a=b"]}"#),
            "%7B%22label%22%3A%5B%22a%3Db%22%5D%7D"
        );
    }

    #[test]
    fn api_versions_parse_and_order() {
        assert_eq!(ApiVersion::parse("1.41"), Some(ApiVersion(1, 41)));
        assert_eq!(ApiVersion::parse(" 1.51\n"), Some(ApiVersion(1, 51)));
        assert_eq!(ApiVersion::parse("1"), None);
        assert_eq!(ApiVersion::parse("1.x"), None);
        assert!(ApiVersion(1, 44) > ApiVersion(1, 9));
        assert_eq!(ApiVersion(1, 44).to_string(), "1.44");
    }

    /// One connection answered with `answer` (status line, headers, body).
    fn serve_once(answer: String) -> (tempfile::TempDir, PathBuf, std::thread::JoinHandle<String>) {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("d.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut req = Vec::new();
            let mut buf = [0_u8; 1024];
            while !req.ends_with(b"\r\n\r\n") {
                let n = conn.read(&mut buf).unwrap();
                assert!(n > 0, "the request ended before its blank line");
                req.extend_from_slice(&buf[..n]);
            }
            conn.write_all(answer.as_bytes()).unwrap();
            String::from_utf8_lossy(&req).into_owned()
        });
        (dir, sock, server)
    }

    #[test]
    fn api_version_from_get_version() {
        let body = r#"{"Version":"28.5.2","ApiVersion":"1.51","MinAPIVersion":"1.24"}"#;
        let (_dir, sock, server) = serve_once(format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
        assert_eq!(
            EngineApi::new(&sock).api_version().unwrap(),
            ApiVersion(1, 51)
        );
        assert!(
            server
                .join()
                .unwrap()
                .starts_with("GET /version HTTP/1.1\r\n")
        );
        let (_dir, sock, _server) =
            serve_once("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}".into());
        assert_eq!(
            EngineApi::new(&sock).api_version().unwrap_err().to_string(),
            "the engine answered 500 to GET /version without an ApiVersion"
        );
    }

    /// A one-shot server on a real Unix socket: the request line and the answer round-trip.
    #[test]
    fn get_over_a_unix_socket() {
        let (_dir, sock, server) = serve_once(format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{BODY}",
            BODY.len()
        ));
        let api = EngineApi::new(&sock);
        let containers = api.containers_of("p").unwrap();
        assert_eq!(containers.len(), 2);
        let request = server.join().unwrap();
        assert!(
            request.starts_with("GET /containers/json?all=1&filters=%7B%22label%22%3A%5B%22com.docker.compose.project%3Dp%22%5D%7D HTTP/1.1\r\n"),
            "{request}"
        );
    }
}
