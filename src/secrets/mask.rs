//! The [`Masker`]: everything secret in what timmy shows masked where it stands — `.env`
//! values under their keys, scalars of `docker compose config` output, and free text relayed
//! from Docker — and [`masker`], which builds it from the project's `.env`.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::shapes::shapes;
use super::tokens::is_placeholder;
use super::{is_secret_key, mask};

/// Characters that glue a word to its neighbours in a name, image, host or path
/// (`redis-cli`, `redis:7-alpine`, `redis.example`, `/data/redis`): a known secret value that
/// is short or a plain word is masked only where none of these touches it.
fn glues(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/' | '@' | '+' | '%' | '~')
}

/// Known secret values shorter than this are not looked for in text outside their own key:
/// they would hide every `1` or `abc` (in `env`/`config` they are still masked under their key).
pub const MIN_KNOWN_LEN: usize = 4;

/// A value distinctive enough to be masked wherever it occurs, even inside a longer word:
/// 8 characters or more, from at least two of lower case, upper case, digits and others
/// (`hunter2xyz$`, a token). Others (`redis`, `postgres`) are masked only as whole words.
fn distinctive(value: &str) -> bool {
    let classes = [
        value.chars().any(char::is_lowercase),
        value.chars().any(char::is_uppercase),
        value.chars().any(|c| c.is_ascii_digit()),
        value.chars().any(|c| !c.is_alphanumeric()),
    ];
    value.chars().count() >= 8 && classes.iter().filter(|c| **c).count() >= 2
}

/// `text` with every range masked: merged where they overlap, each shown as [`mask`] shows
/// it (a known token prefix stays).
fn mask_ranges(text: &str, mut ranges: Vec<Range<usize>>) -> String {
    ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start < last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in merged {
        out.push_str(&text[last..r.start]);
        out.push_str(&mask(&text[r.clone()]));
        last = r.end;
    }
    out.push_str(&text[last..]);
    out
}

/// Masks everything secret in what timmy shows: `.env` values under their keys, and any text
/// relayed from Docker. Built from every value of `.env` (and the shell's value of each of
/// its keys, which Compose prefers): whole values of secret keys, and the secret parts of other
/// values found by shape. One masker serves `env`, `config`, `-v`, `--dry-run`, errors and the
/// log lines `up` shows when it fails. Clones share one state, worked out once.
#[derive(Debug, Clone, Default)]
pub struct Masker(Arc<State>);

#[derive(Debug, Default)]
struct State {
    /// The project whose `.env` [`masker`] reads on first use, when `vars` was not given.
    root: Option<PathBuf>,
    vars: OnceLock<Vec<(String, String)>>,
    /// The secret values, longest first (so a secret that contains another is masked whole);
    /// worked out on first use, so a command that shows nothing pays nothing.
    known: OnceLock<Vec<String>>,
}

impl Masker {
    /// From `(key, value)` pairs; a key may come more than once.
    pub fn new<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let vars: Vec<(String, String)> = vars
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
            .collect();
        Self(Arc::new(State {
            root: None,
            vars: OnceLock::from(vars),
            known: OnceLock::new(),
        }))
    }

    fn vars(&self) -> &[(String, String)] {
        self.0.vars.get_or_init(|| {
            let Some(root) = &self.0.root else {
                return Vec::new();
            };
            let vars = crate::validate::resolved_env(root).unwrap_or_default();
            let shell: Vec<(String, String)> = vars
                .iter()
                .filter_map(|(k, _)| crate::validate::shell_lookup(k).map(|v| (k.clone(), v)))
                .collect();
            vars.into_iter().chain(shell).collect()
        })
    }

    fn known(&self) -> &[String] {
        self.0.known.get_or_init(|| {
            let mut known: Vec<String> = Vec::new();
            for (key, value) in self.vars() {
                if is_secret_key(key) {
                    known.push(value.clone());
                } else {
                    known.extend(
                        shapes(value, true)
                            .into_iter()
                            .map(|f| value[f.range].to_owned()),
                    );
                }
            }
            known.retain(|v| v.chars().count() >= MIN_KNOWN_LEN && !is_placeholder(v));
            known.sort_by_key(|v| std::cmp::Reverse(v.len()));
            known.dedup();
            known
        })
    }

    /// Ranges of known secret values in `text`, also in Compose's `$$`-escaped form. A
    /// distinctive value is masked wherever it occurs, any other only where it stands as a
    /// whole word (no letter, digit or `_-.:/@+%~` touches it).
    fn known_ranges(&self, text: &str) -> Vec<Range<usize>> {
        let mut ranges = Vec::new();
        for value in self.known() {
            let escaped = value.replace('$', "$$");
            let forms: &[&str] = if escaped == *value {
                &[value.as_str()]
            } else {
                &[escaped.as_str(), value.as_str()]
            };
            let anywhere = distinctive(value);
            for form in forms {
                for (at, _) in text.match_indices(form) {
                    let end = at + form.len();
                    let free = |c: Option<char>| c.is_none_or(|c| !glues(c));
                    if anywhere
                        || (free(text[..at].chars().next_back())
                            && free(text[end..].chars().next()))
                    {
                        ranges.push(at..end);
                    }
                }
            }
        }
        ranges
    }

    /// Free text relayed from Docker (log lines, error lines, a command line): known values
    /// and secret shapes masked where they stand; random-looking words are left alone (ids
    /// and hashes fill logs), unless they are known values.
    #[must_use]
    pub fn text(&self, text: &str) -> String {
        let mut ranges = self.known_ranges(text);
        ranges.extend(shapes(text, false).into_iter().map(|f| f.range));
        mask_ranges(text, ranges)
    }

    /// One value shown under its key (`timmy env`, a scalar of `timmy config`): the whole
    /// value when the key is secret or the value is a known secret (also `$$`-escaped), else
    /// the secrets in it where they stand (`postgres://app:****@db`, `Basic ****`).
    #[must_use]
    pub fn value(&self, key: Option<&str>, value: &str) -> String {
        let unescaped = value.replace("$$", "$");
        if key.is_some_and(is_secret_key)
            || self.known().iter().any(|k| *k == value || *k == unescaped)
        {
            return mask(value);
        }
        let mut ranges = self.known_ranges(value);
        ranges.extend(shapes(value, true).into_iter().map(|f| f.range));
        mask_ranges(value, ranges)
    }

    /// `docker compose config` output: every scalar masked as [`Masker::value`] masks it
    /// under its key (block scalars as a whole), the YAML's shape unchanged.
    #[must_use]
    pub fn yaml(&self, text: &str) -> String {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            i += 1;
            let body = line.trim_end_matches(['\n', '\r']);
            let ending = &line[body.len()..];
            let Some(scalar) = yaml_scalar(body) else {
                out.push_str(line);
                continue;
            };
            let (head, value) = body.split_at(scalar.start);
            if matches!(value.chars().next(), Some('|' | '>')) {
                // A block scalar: the more indented lines that follow.
                let indent = body.len() - body.trim_start().len();
                let mut block: Vec<&str> = Vec::new();
                while i < lines.len() {
                    let next = lines[i];
                    let next_indent = next.len() - next.trim_start().len();
                    if next.trim().is_empty() || next_indent > indent {
                        block.push(next);
                        i += 1;
                    } else {
                        break;
                    }
                }
                let content: String = block.concat();
                let masked = self.value(scalar.key.as_deref(), &content);
                if masked == content {
                    out.push_str(line);
                    out.push_str(&content);
                } else {
                    out.push_str(head);
                    out.push_str(&mask(content.trim()));
                    out.push('\n');
                }
                continue;
            }
            let (open, inner, close) = unquote(value);
            let masked = self.value(scalar.key.as_deref(), inner);
            out.push_str(head);
            out.push_str(open);
            out.push_str(&masked);
            out.push_str(close);
            out.push_str(ending);
        }
        out
    }
}

/// Where the scalar of a YAML line starts, and the key it stands under (`None` for a list
/// item). Lines without a scalar (a key opening a map or list, comments) give `None`.
struct Scalar {
    start: usize,
    key: Option<String>,
}

fn yaml_scalar(line: &str) -> Option<Scalar> {
    let mut at = line.len() - line.trim_start().len();
    let rest = &line[at..];
    if rest.is_empty() || rest.starts_with('#') {
        return None;
    }
    let mut is_item = false;
    let mut rest = rest;
    while let Some(after) = rest.strip_prefix("- ") {
        at += 2;
        rest = after;
        is_item = true;
    }
    // `key: value`, with a plain or quoted key.
    let key_end = if let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
        rest[1..].find(q).map(|e| e + 2)
    } else {
        rest.find(": ")
            .or_else(|| rest.ends_with(':').then(|| rest.len() - 1))
    };
    if let Some(end) = key_end
        && rest[end..].starts_with(':')
    {
        let key = rest[..end].trim_matches(['"', '\'']).to_owned();
        let value_start = end + 1 + rest[end + 1..].len() - rest[end + 1..].trim_start().len();
        if value_start >= rest.len() {
            return None;
        }
        return Some(Scalar {
            start: at + value_start,
            key: Some(key),
        });
    }
    is_item.then_some(Scalar {
        start: at,
        key: None,
    })
}

/// A YAML flow scalar split into its opening quote, content and closing quote.
fn unquote(value: &str) -> (&str, &str, &str) {
    for q in ["\"", "'"] {
        if value.len() >= 2 && value.starts_with(q) && value.ends_with(q) {
            return (q, &value[1..value.len() - 1], q);
        }
    }
    ("", value, "")
}

/// The masker for everything timmy shows of the project at `root`: built from every value of
/// `.env` and the shell's value of each of its keys (Compose prefers the shell's), read when
/// it first masks something (`check` and most successful commands never do; a 10,000-line
/// `.env` costs milliseconds to read). A `.env` that cannot be read gives an empty masker; the
/// commands that need `.env` refuse it anyway.
pub fn masker(root: &Path) -> Masker {
    Masker(Arc::new(State {
        root: Some(root.to_path_buf()),
        ..State::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::PEM;

    #[test]
    fn url_passwords_are_masked_and_nothing_else() {
        let masker = Masker::default();
        for (value, masked) in [
            (
                "postgres://app:UrlS3cretPw@db:5432/app",
                Some("postgres://app:****@db:5432/app"),
            ),
            (
                "redis://:pw@cache:6379/0",
                Some("redis://:****@cache:6379/0"),
            ),
            (
                "https://u:p@ss@host/x?y=1",
                Some("https://u:****@host/x?y=1"),
            ),
            (
                "a=redis://:x1@h1,redis://:y2@h2 b",
                Some("a=redis://:****@h1,redis://:****@h2 b"),
            ),
            (
                "url: 'amqp://guest:gu3st@mq'\n",
                Some("url: 'amqp://guest:****@mq'\n"),
            ),
            ("postgres://app@db/app", None),
            ("postgres://app:@db/app", None),
            ("https://host:8443/path/u:p@x", None),
            ("http://host", None),
            ("no url", None),
            ("", None),
        ] {
            assert_eq!(
                masker.value(None, value),
                masked.unwrap_or(value),
                "{value}"
            );
            assert_eq!(masker.text(value), masked.unwrap_or(value), "{value}");
        }
    }

    #[track_caller]
    fn shown(masker: &Masker, key: &str, value: &str, expected: &str) {
        assert_eq!(masker.value(Some(key), value), expected, "{key}={value}");
    }

    #[test]
    fn values_are_masked_where_they_stand() {
        let masker = Masker::new([
            ("REDIS_PASSWORD", "redis"),
            ("SMTP_PASS", "hunter2xyz$"),
            ("GH_CLI", "ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u"),
            ("PIN", "123"),
        ]);
        shown(&masker, "REDIS_PASSWORD", "redis", "****");
        shown(&masker, "SMTP_PASS", "hunter2xyz$", "****");
        shown(
            &masker,
            "GH_CLI",
            "ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u",
            "ghp_****",
        );
        shown(&masker, "REDIS_IMAGE", "redis:7-alpine", "redis:7-alpine");
        shown(&masker, "REDIS_HOST", "redis", "****");
        shown(
            &masker,
            "CACHE_URL",
            "redis://redis:6379/0",
            "redis://redis:6379/0",
        );
        shown(&masker, "PORT", "123", "123");
        shown(
            &masker,
            "SLACK_HOOK",
            "https://hooks.slack.com/services/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",
            "https://hooks.slack.com/services/****",
        );
        shown(
            &masker,
            "API_HEADER",
            "Authorization: Basic dXNlcjpwYXNzd29yZA==",
            "Authorization: Basic ****",
        );
        shown(
            &masker,
            "CURL_ARGS",
            "-H 'Authorization: Bearer Xk7pQ2rT9vW3' -s",
            "-H 'Authorization: Bearer ****' -s",
        );
        shown(
            &masker,
            "MIRROR",
            "https://ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u@github.com/o/r",
            "https://ghp_****@github.com/o/r",
        );
        shown(&masker, "TLS", PEM, "****");
        shown(&masker, "AWS_ID", "AKIAIOSFODNN7EXAMPLE", "****");
        // Compose's `$$` form of a known value is that value.
        shown(&masker, "MAIL", "hunter2xyz$$", "****");
    }

    #[test]
    fn relayed_text_masks_known_values_at_word_boundaries() {
        let masker = Masker::new([
            ("REDIS_PASSWORD", "redis"),
            ("SMTP_PASS", "hunter2xyz$"),
            ("GH_CLI", "ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u"),
            (
                "WEBHOOK",
                "https://hooks.slack.com/services/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",
            ),
            ("PIN", "123"),
            ("SESSION_SECRET", "changeme"),
        ]);
        for (text, expected) in [
            ("image: redis:7-alpine", "image: redis:7-alpine"),
            ("redis-cli -a redis ping", "redis-cli -a **** ping"),
            (
                "connect redis.example:6379 as redis",
                "connect redis.example:6379 as ****",
            ),
            ("{\"pw\":\"redis\"}", "{\"pw\":\"****\"}"),
            ("timmy-redis-1  | Ready", "timmy-redis-1  | Ready"),
            ("smtp login hunter2xyz$ ok", "smtp login **** ok"),
            ("SMTP_PASS: hunter2xyz$$", "SMTP_PASS: ****"),
            ("pw=xhunter2xyz$y", "pw=x****y"),
            (
                "token is ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u.",
                "token is ghp_****.",
            ),
            (
                "posting to https://hooks.slack.com/services/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 failed",
                "posting to https://hooks.slack.com/services/**** failed",
            ),
            (
                "listening on 0.0.0.0:3000, pid 123",
                "listening on 0.0.0.0:3000, pid 123",
            ),
            (
                "changeme is not masked: a placeholder",
                "changeme is not masked: a placeholder",
            ),
            (
                "GET / Authorization: Bearer Xk7pQ2rT9vW3",
                "GET / Authorization: Bearer ****",
            ),
            ("api_key=abc12345&x=1", "api_key=****&x=1"),
            // Random-looking words in logs are ids, not secrets, unless .env holds them.
            (
                "request Rk3vPq8ZmW2nLx7TcY4bJd9HsA6e done",
                "request Rk3vPq8ZmW2nLx7TcY4bJd9HsA6e done",
            ),
            (
                "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            ),
        ] {
            assert_eq!(masker.text(text), expected, "{text}");
        }
        // A random-looking value of .env is known, so masked in text too.
        let masker = Masker::new([("OPAQUE", "Rk3vPq8ZmW2nLx7TcY4bJd9HsA6e")]);
        assert_eq!(
            masker.text("request Rk3vPq8ZmW2nLx7TcY4bJd9HsA6e done"),
            "request **** done"
        );
    }

    #[test]
    fn compose_config_is_masked_scalar_by_scalar() {
        let masker = Masker::new([
            ("REDIS_PASSWORD", "redis"),
            ("SMTP_PASS", "hunter2xyz$"),
            ("GH_CLI", "ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u"),
        ]);
        let config = "\
name: proj
services:
  redis:
    command:
      - redis-server
      - --requirepass
      - redis
    image: redis:7-alpine
  timmy:
    environment:
      GH_CLI: ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u
      REDIS_HOST: redis
      REDIS_PASSWORD: redis
      SMTP_PASS: hunter2xyz$$
      API_HEADER: 'Authorization: Basic dXNlcjpwYXNzd29yZA=='
      HOOK: https://hooks.slack.com/services/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
      TLS_CERT: |
        -----BEGIN PRIVATE KEY-----
        MIIEowIBAAKCAQEA7x9Kq2mWvB3n
        -----END PRIVATE KEY-----
      WORKSPACE_PATH: ./workspace
    healthcheck:
      test:
        - CMD-SHELL
        - redis-cli -a redis ping
";
        assert_eq!(
            masker.yaml(config),
            "\
name: proj
services:
  redis:
    command:
      - redis-server
      - --requirepass
      - ****
    image: redis:7-alpine
  timmy:
    environment:
      GH_CLI: ghp_****
      REDIS_HOST: ****
      REDIS_PASSWORD: ****
      SMTP_PASS: ****
      API_HEADER: 'Authorization: Basic ****'
      HOOK: https://hooks.slack.com/services/****
      TLS_CERT: ****
      WORKSPACE_PATH: ./workspace
    healthcheck:
      test:
        - CMD-SHELL
        - redis-cli -a **** ping
"
        );
    }

    #[test]
    fn the_project_masker_reads_env_when_it_first_masks() {
        let dir = tempfile::tempdir().unwrap();
        let masker = masker(dir.path());
        let shared = masker.clone();
        // Built before `.env` exists: nothing was read yet.
        std::fs::write(
            dir.path().join(".env"),
            "TIMMY_TEST_MASK_PASSWORD=hunter2xyz\n",
        )
        .unwrap();
        assert_eq!(shared.text("login hunter2xyz ok"), "login **** ok");
        // Clones share what the first use read.
        std::fs::write(dir.path().join(".env"), "OTHER=1\n").unwrap();
        assert_eq!(masker.text("again hunter2xyz"), "again ****");
    }
}
