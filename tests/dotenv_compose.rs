//! timmy's `.env` reading against Compose's, on the corpus in `tests/dotenv_corpus/`.
//!
//! Each `NAME.env` has a `NAME.json` beside it holding what Compose 2.26.1 read from it:
//! `{"env": {KEY: value}}` or `{"error": "text Compose printed"}`. The fast test compares timmy
//! with those files; the differential test asks the real `docker compose config --format json`
//! (no daemon needed) about every corpus file and about generated inputs, through a service
//! with `env_file:` — the same parser Compose uses for the project `.env`. Both run with the
//! shell environment `SHELLV=fromshell`, `EMPTY=` and nothing else.
//!
//! The differential test runs against every Compose version present: `docker compose`, and
//! each Compose plugin binary that `scripts/setup-engine.sh` keeps per engine
//! (`/opt/timmy-engine/*/docker-compose`: 2.26.1 for stable, 2.40.3 for current), or the
//! binaries listed in `TIMMY_COMPOSE_BINARIES` (colon-separated) instead; each version once.
//!
//! The differential test needs Compose v2, so it is `#[ignore]`d (a plain `cargo test` counts
//! it as skipped) and runs with `TIMMY_E2E=1 scripts/test.sh` (CI); once it runs, a missing
//! Compose fails it. `TIMMY_DIFF_SEED` / `TIMMY_DIFF_COUNT` vary the generated inputs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use timmy::dotenv;

fn shell(name: &str) -> Option<String> {
    match name {
        "SHELLV" => Some("fromshell".to_owned()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

/// What a reader made of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reading {
    Env(BTreeMap<String, String>),
    Error(String),
}

fn timmy_reading(text: &str) -> Reading {
    match dotenv::parse(text, &shell) {
        Ok(entries) => Reading::Env(dotenv::resolve(&entries).into_iter().collect()),
        Err(e) => Reading::Error(e.compose_text()),
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dotenv_corpus")
}

/// (name, text, expected) of every corpus case.
fn corpus() -> Vec<(String, String, Reading)> {
    let mut cases = Vec::new();
    let entries = std::fs::read_dir(corpus_dir()).expect("corpus directory");
    let mut paths: Vec<PathBuf> = entries.map(|e| e.expect("dir entry").path()).collect();
    paths.sort();
    for path in paths {
        if path.extension().and_then(|e| e.to_str()) != Some("env") {
            continue;
        }
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("?")
            .to_owned();
        let text = std::fs::read_to_string(&path).expect("corpus file is UTF-8");
        let json_path = path.with_extension("json");
        let json = std::fs::read_to_string(&json_path)
            .unwrap_or_else(|e| panic!("{}: {e}", json_path.display()));
        let value: serde_json::Value = serde_json::from_str(&json).expect("expected JSON");
        let expected = if let Some(error) = value.get("error").and_then(|e| e.as_str()) {
            Reading::Error(error.to_owned())
        } else {
            let env = value
                .get("env")
                .and_then(|e| e.as_object())
                .expect("env object");
            Reading::Env(
                env.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect(),
            )
        };
        cases.push((name, text, expected));
    }
    cases
}

#[test]
fn corpus_matches_recorded_compose_readings() {
    let cases = corpus();
    assert!(cases.len() >= 50, "corpus has only {} cases", cases.len());
    let mut failures = Vec::new();
    for (name, text, expected) in &cases {
        let got = timmy_reading(text);
        if &got != expected {
            failures.push(format!("{name}: timmy {got:?}\n   compose {expected:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One Compose to compare with: the program and the arguments before Compose's own
/// (`docker compose`, or a plugin binary run on its own), and its version.
#[derive(Debug, Clone)]
struct Compose {
    argv: Vec<String>,
    version: String,
}

impl Compose {
    fn probe(argv: Vec<String>) -> Option<Self> {
        let out = Command::new(&argv[0])
            .args(&argv[1..])
            .args(["version", "--short"])
            .output()
            .ok()?;
        let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        (out.status.success() && !version.is_empty()).then_some(Self { argv, version })
    }
}

/// Every Compose version present, each once (`docker compose` first).
fn composes() -> Vec<Compose> {
    let mut found: Vec<Compose> = Vec::new();
    let mut candidates = vec![vec!["docker".to_owned(), "compose".to_owned()]];
    let binaries: Vec<PathBuf> = match std::env::var_os("TIMMY_COMPOSE_BINARIES") {
        Some(list) => std::env::split_paths(&list).collect(),
        None => std::fs::read_dir("/opt/timmy-engine")
            .map(|dirs| {
                let mut v: Vec<PathBuf> = dirs
                    .filter_map(Result::ok)
                    .map(|d| d.path().join("docker-compose"))
                    .filter(|p| p.is_file())
                    .collect();
                v.sort();
                v
            })
            .unwrap_or_default(),
    };
    candidates.extend(
        binaries
            .into_iter()
            .map(|p| vec![p.to_string_lossy().into_owned()]),
    );
    for argv in candidates {
        if let Some(c) = Compose::probe(argv)
            && !found.iter().any(|f| f.version == c.version)
        {
            found.push(c);
        }
    }
    found
}

/// Runs `docker compose config` on one env file through `env_file:`.
fn compose_reading(compose: &Compose, dir: &Path, text: &str) -> Reading {
    std::fs::write(dir.join("case.env"), text).expect("write case");
    let output = Command::new(&compose.argv[0])
        .args(&compose.argv[1..])
        .args([
            "--env-file",
            "empty.env",
            "-p",
            "timmy-dotenv-diff",
            "config",
            "--format",
            "json",
        ])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("SHELLV", "fromshell")
        .env("EMPTY", "")
        .output()
        .expect("run docker compose");
    if !output.status.success() {
        return Reading::Error(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    let config: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("compose prints JSON");
    let env = config["services"]["s"]["environment"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    // `config` escapes every `$` as `$$`.
    Reading::Env(
        env.into_iter()
            .map(|(k, v)| (k, v.as_str().unwrap_or_default().replace("$$", "$")))
            .collect(),
    )
}

fn agrees(timmy: &Reading, compose: &Reading) -> bool {
    match (timmy, compose) {
        (Reading::Env(a), Reading::Env(b)) => a == b,
        // Compose prefixes the file path: "failed to read …/case.env: line 1: …".
        (Reading::Error(a), Reading::Error(b)) => b.ends_with(a.trim_end()),
        _ => false,
    }
}

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

/// A random `.env`-ish text: mostly well-formed lines with hostile pieces in the values.
fn generated(rng: &mut Rng) -> String {
    const KEYS: &[&str] = &[
        "A", "B", "C_1", "SHELLV", "EMPTY", "lower", "x.y", "export A", "K-2",
    ];
    const SEPS: &[&str] = &["=", "=", "=", " = ", ":", "\t=\t"];
    const PIECES: &[&str] = &[
        "a",
        "b c",
        " ",
        "\t",
        "#",
        " #",
        " # c",
        "\t#",
        "\"",
        "'",
        "\\",
        "\\n",
        "\\\"",
        "\\'",
        "$",
        "$$",
        "$A",
        "${A}",
        "${B:-d}",
        "${SHELLV:+x}",
        "${EMPTY-e}",
        "${X:-${A}}",
        "}",
        "{",
        "=",
        ":",
        "é",
        "\\$",
        "\\t",
        "$1",
        "${A-}",
        "${",
        "${A:-",
        "${SHELLV?",
        "${C:+",
        ":-",
    ];
    let mut text = String::new();
    for _ in 0..=rng.below(5) {
        if rng.below(8) == 0 {
            text.push_str("# comment\n");
        }
        text.push_str(KEYS[rng.below(KEYS.len())]);
        text.push_str(SEPS[rng.below(SEPS.len())]);
        let quote = ["", "", "\"", "'"][rng.below(4)];
        text.push_str(quote);
        for _ in 0..rng.below(6) {
            text.push_str(PIECES[rng.below(PIECES.len())]);
        }
        if rng.below(6) > 0 {
            text.push_str(quote);
        }
        text.push_str(["\n", "\n", "\n", "\r\n", " # end\n", ""][rng.below(6)]);
    }
    text
}

#[test]
#[ignore = "needs Docker Compose v2 (TIMMY_E2E=1 runs it)"]
fn timmy_reads_like_real_docker_compose() {
    let composes = composes();
    assert!(
        !composes.is_empty(),
        "`docker compose version` fails: this test needs the Compose v2 plugin"
    );
    let seed = std::env::var("TIMMY_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x7155_5eed_u64);
    let count = std::env::var("TIMMY_DIFF_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60_usize);
    let mut rng = Rng(seed | 1);
    let mut inputs: Vec<(String, String)> = corpus()
        .into_iter()
        .map(|(name, text, _)| (name, text))
        .collect();
    for i in 0..count {
        inputs.push((format!("generated #{i} (seed {seed})"), generated(&mut rng)));
    }

    let mut failures = Vec::new();
    for compose in &composes {
        eprintln!(
            "comparing {} inputs with Compose {} ({})",
            inputs.len(),
            compose.version,
            compose.argv.join(" ")
        );
        failures.extend(differences(compose, &inputs));
    }
    let versions: Vec<&str> = composes.iter().map(|c| c.version.as_str()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} inputs read differently (Compose {}):\n{}",
        failures.len(),
        inputs.len() * composes.len(),
        versions.join(", "),
        failures.join("\n")
    );
}

/// The inputs timmy reads differently from `compose`, one message each.
fn differences(compose: &Compose, inputs: &[(String, String)]) -> Vec<String> {
    let workers = 8;
    let chunk = inputs.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = inputs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let dir = tempfile::tempdir().expect("temp dir");
                    std::fs::write(
                        dir.path().join("compose.yml"),
                        "services:\n  s:\n    image: scratch\n    env_file: case.env\n",
                    )
                    .expect("write compose.yml");
                    std::fs::write(dir.path().join("empty.env"), "").expect("write empty.env");
                    let mut failures = Vec::new();
                    for (name, text) in part {
                        let theirs = compose_reading(compose, dir.path(), text);
                        let timmy = timmy_reading(text);
                        if !agrees(&timmy, &theirs) {
                            failures.push(format!(
                                "{name}: input {text:?}\n   timmy   {timmy:?}\n   compose {} {theirs:?}",
                                compose.version
                            ));
                        }
                    }
                    failures
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec!["worker panicked".to_owned()])
            })
            .collect()
    })
}
