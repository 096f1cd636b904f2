//! Shared by the CLI and snapshot tests of `doctor`, bare `timmy` and `run`: canned docker
//! answers, a free port, the current time as `docker info` prints it, and output made
//! deterministic (temp paths and machine-specific numbers replaced by placeholders).

#![allow(dead_code)]

use std::net::TcpListener;
use std::time::{SystemTime, UNIX_EPOCH};

use super::common::Project;

pub const VERSION_JSON: &str = r#"{"Client":{"Version":"28.2.2","ApiVersion":"1.41","Context":"default"},"Server":{"Version":"20.10.24+dfsg1","ApiVersion":"1.41"}}"#;
pub const VERSION_CLIENT_ONLY: &str =
    r#"{"Client":{"Version":"28.2.2","ApiVersion":"1.50","Context":"default"},"Server":null}"#;

/// `docker info` with Docker's root dir in the test's temp dir and the daemon's clock now.
pub fn info_json(p: &Project) -> String {
    let root = p.dir.path().join("docker-root");
    std::fs::create_dir_all(&root).unwrap();
    format!(
        r#"{{"ServerVersion":"20.10.24+dfsg1","DockerRootDir":"{}","SystemTime":"{}"}}"#,
        root.display(),
        rfc3339(SystemTime::now())
    )
}

/// A port nothing listens on right now (the OS's pick, released again).
pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `2026-11-27T13:25:06.705070186Z`, as the daemon reports `SystemTime`.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap();
    let secs = i64::try_from(d.as_secs()).unwrap();
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_nanos()
    )
}

/// Replace the temp dir, the given ports (keep placeholders as wide as the port, so columns
/// stay aligned) and the disk numbers with placeholders; a disk path outside the temp dir
/// (/var/lib/docker or /, depending on the machine) becomes `[DOCKER_ROOT]`.
pub fn redact(p: &Project, text: &str, ports: &[(u16, &str)]) -> String {
    let mut out = text.replace(&p.dir.path().display().to_string(), "[TMP]");
    for (port, name) in ports {
        out = out.replace(&port.to_string(), name);
    }
    let mut lines: Vec<String> = out
        .lines()
        .map(|line| {
            let Some(at) = line.find(" free of ") else {
                return line.to_string();
            };
            let start = line[..at].rfind("  ").map_or(0, |s| s + 2);
            let rest = &line[at + " free of ".len()..];
            let place = match rest.find(" in ") {
                Some(i) if rest[i + 4..].starts_with("[TMP]") => rest[i..].to_string(),
                Some(i) => {
                    let tail = rest[i + 4..].find(':').map_or("", |c| &rest[i + 4 + c..]);
                    format!(" in [DOCKER_ROOT]{tail}")
                }
                None => String::new(),
            };
            format!("{}[FREE] free of [TOTAL]{place}", &line[..start])
        })
        .collect();
    if text.ends_with('\n') {
        lines.push(String::new());
    }
    lines.join("\n")
}
