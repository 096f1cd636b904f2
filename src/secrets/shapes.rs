//! Secrets recognised by value wherever they stand: token families by pattern, URLs with
//! credentials, secret paths or secret query values, `Authorization` credentials,
//! `password=…`-style assignments and random-looking strings. Each find is a range of the text
//! and what it is, never the value.

use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::Regex;

use super::is_secret_key;
use super::tokens::is_placeholder;

/// Token families recognised by their shape wherever they stand: what each is (for `check`'s
/// warning, never the value) and its pattern. An `sk-` key must also contain a digit, so
/// hyphenated words like `sk-learn-…` pass.
const FAMILIES: &[(&str, &str)] = &[
    (
        "a GitHub token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})",
    ),
    (
        "a GitLab token",
        r"\bgl(?:pat|dt|ptt|rt|cbt|oas|ft|imt|soat)-[A-Za-z0-9_-]{20,}",
    ),
    (
        "a Slack token",
        r"\b(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{10,})",
    ),
    ("an Anthropic or OpenAI key", r"\bsk-[A-Za-z0-9_-]{20,}"),
    (
        "an AWS access key id",
        r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}\b",
    ),
    ("a Google API key", r"\bAIza[A-Za-z0-9_-]{35}"),
    ("a Google OAuth token", r"\bya29\.[A-Za-z0-9_-]{20,}"),
    (
        "a Stripe key",
        r"\b(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{16,})",
    ),
    ("a ClickUp token", r"\bpk_[0-9]+_[A-Z0-9]{32}\b"),
    ("an npm token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("a PyPI token", r"\bpypi-[A-Za-z0-9_-]{50,}"),
    ("a Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}"),
    (
        "a SendGrid key",
        r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}",
    ),
    ("a DigitalOcean token", r"\bdo[opr]_v1_[a-f0-9]{64}\b"),
    ("a Shopify token", r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b"),
    (
        "a JSON Web Token",
        r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
    ),
    (
        "a private key",
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\z)",
    ),
];

/// Each pattern compiled the first time a text needs it: most values of a `.env` hold no
/// literal a family starts with, no `:`/`=` and no scheme word, and compiling all of them
/// costs more than checking 8,000 values without them.
fn regex(p: &str) -> Regex {
    Regex::new(p).expect("a valid built-in pattern")
}

/// Every family in one pattern, family `i` as capture group `i + 1`: one scan per text.
static FAMILY_PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        &FAMILIES
            .iter()
            .map(|(_, p)| format!("({p})"))
            .collect::<Vec<_>>()
            .join("|"),
    )
});
/// `Authorization: Basic …`, `authorization="Bearer …"`, `Authorization: <credential>`.
static AUTHORIZATION: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(?i)\b(?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?(?:(?:basic|bearer|token|digest|apikey|key)[ \t]+)?([^\s"',;]+)"#,
    )
});
/// A bare `Basic …`/`Bearer …` credential, e.g. in a curl line or a header list.
static SCHEME: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?:Basic|Bearer|basic|bearer)[ \t]+([A-Za-z0-9+/=._~-]{8,})"));
/// `password=…`, `"apiKey": "…"`, `GITHUB_TOKEN: …` in free text.
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"\b([A-Za-z][A-Za-z0-9_.-]*)["']?[ \t]*[=:][ \t]*["']?([^\s"'&,;]+)"#)
});

/// The literal text each family's matches start with (after `\b`): every match of
/// [`FAMILIES`] starts with one of these (`family_starts_cover_every_family` proves it from the
/// patterns), so a text with none is not scanned by the family pattern.
#[rustfmt::skip]
const FAMILY_STARTS: &[&str] = &[
    "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
    "glpat-", "gldt-", "glptt-", "glrt-", "glcbt-", "gloas-", "glft-", "glimt-", "glsoat-",
    "xox", "xapp-",
    "sk-",
    "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "APKA",
    "AIza",
    "ya29.",
    "sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_",
    "pk_",
    "npm_",
    "pypi-",
    "hf_",
    "SG.",
    "doo_v1_", "dop_v1_", "dor_v1_",
    "shpat_", "shpss_", "shpca_", "shppa_",
    "eyJ",
    "-----BEGIN",
];

/// [`FAMILY_STARTS`] as one automaton: a few hundred instructions per value.
static FAMILY_START: LazyLock<AhoCorasick> =
    LazyLock::new(|| AhoCorasick::new(FAMILY_STARTS).expect("built-in literals"));

/// True when `text` contains the start of some token family ([`FAMILY_STARTS`]).
fn may_hold_family(text: &str) -> bool {
    FAMILY_START.is_match(text)
}

/// True when `text` contains `authorization`, `basic` or `bearer` in any ASCII case: one pass,
/// a word compared only where its first letter stands.
fn names_a_scheme(text: &str) -> bool {
    let bytes = text.as_bytes();
    let at = |i: usize, word: &str| {
        bytes
            .get(i..i + word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word.as_bytes()))
    };
    (0..bytes.len()).any(|i| match bytes[i] | 0x20 {
        b'a' => at(i, "authorization"),
        b'b' => at(i, "basic") || at(i, "bearer"),
        _ => false,
    })
}

/// The runs of `[A-Za-z0-9+/_=-]` in `text`, longest first from the left: what a regex of
/// that class finds, without one.
fn token_runs(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let bytes = text.as_bytes();
    let is_token =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'=' | b'-');
    let mut at = 0;
    std::iter::from_fn(move || {
        let start = at + bytes[at..].iter().position(|&b| is_token(b))?;
        let end = bytes[start..]
            .iter()
            .position(|&b| !is_token(b))
            .map_or(bytes.len(), |n| start + n);
        at = end;
        Some(start..end)
    })
}

/// True for a random-looking string: 24 or more characters of letters, digits and `+/_-`
/// (trailing `=` padding aside) with lower case, upper case and digits, the cases balanced
/// (the rarer at least 25 % of the letters), at least 35 % of neighbouring characters of
/// different kinds, and under 45 % of it in runs of four same-case letters. Measured on
/// 16,000 random base62/base64 strings of 24–64 characters: 2.3 % are missed; on 6,500
/// generated CamelCase identifiers with numbers (`ReactNativeApp2024Build`): 0.3 % are flagged.
/// Hex strings (digests, commit and container ids) and UUIDs never pass: they have no upper
/// case, or it is A-F only.
#[must_use]
pub fn looks_random(token: &str) -> bool {
    let t = token.trim_end_matches('=');
    let n = t.chars().count();
    if n < 24
        || !t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '_' | '-'))
    {
        return false;
    }
    let upper = t.chars().filter(char::is_ascii_uppercase).count();
    let lower = t.chars().filter(char::is_ascii_lowercase).count();
    let digits = t.chars().filter(char::is_ascii_digit).count();
    if upper == 0 || lower == 0 || digits == 0 {
        return false;
    }
    let kind = |c: char| {
        if c.is_ascii_lowercase() {
            0
        } else if c.is_ascii_uppercase() {
            1
        } else if c.is_ascii_digit() {
            2
        } else {
            3
        }
    };
    let chars: Vec<char> = t.chars().collect();
    let changes = chars
        .windows(2)
        .filter(|w| kind(w[0]) != kind(w[1]))
        .count();
    let mut in_runs = 0;
    let mut run = 0;
    for (i, c) in chars.iter().enumerate() {
        let same = i > 0 && kind(*c) == kind(chars[i - 1]) && kind(*c) < 2;
        run = if same { run + 1 } else { 1 };
        if run == 4 {
            in_runs += 4;
        } else if run > 4 {
            in_runs += 1;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let ratio = |a: usize, b: usize| a as f64 / b as f64;
    ratio(upper.min(lower), upper + lower) >= 0.25
        && ratio(changes, n - 1) >= 0.35
        && ratio(in_runs, n) < 0.45
}

/// One secret found in a text: where, and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    pub(super) range: Range<usize>,
    what: &'static str,
}

fn push(found: &mut Vec<Found>, range: Range<usize>, what: &'static str) {
    if !range.is_empty() {
        found.push(Found { range, what });
    }
}

/// Secrets inside one URL starting at `start` of the text: the password (or a long user name
/// standing alone, `https://TOKEN@host`), the secret path of Slack and Discord webhooks, query
/// values of secret-named parameters, and random-looking path segments and query values.
fn url_secrets(url: &str, start: usize, found: &mut Vec<Found>) {
    let url = url.trim_end_matches(['.', ',', ';', ')', ']', '}']);
    let Some(scheme_end) = url.find("://") else {
        return;
    };
    let authority_start = scheme_end + 3;
    let authority_len = url[authority_start..]
        .find(['/', '?', '#'])
        .unwrap_or(url.len() - authority_start);
    let authority = &url[authority_start..authority_start + authority_len];
    let mut host = authority;
    if let Some(at) = authority.rfind('@') {
        host = &authority[at + 1..];
        let userinfo = &authority[..at];
        let base = start + authority_start;
        match userinfo.find(':') {
            Some(colon) => push(found, base + colon + 1..base + at, "a URL with a password"),
            None if userinfo.chars().count() >= 16 => {
                push(found, base..base + at, "a URL with a credential");
            }
            None => {}
        }
    }
    let host = host.split(':').next().unwrap_or("").to_ascii_lowercase();
    let rest_start = authority_start + authority_len;
    let rest = &url[rest_start..];
    let webhook = match host.as_str() {
        "hooks.slack.com" => ["/services/", "/workflows/", "/triggers/"]
            .iter()
            .find(|p| rest.starts_with(**p)),
        "discord.com" | "discordapp.com" | "ptb.discord.com" | "canary.discord.com" => {
            ["/api/webhooks/"].iter().find(|p| rest.starts_with(**p))
        }
        _ => None,
    };
    if let Some(prefix) = webhook {
        let from = start + rest_start + prefix.len();
        push(found, from..start + url.len(), "a webhook URL");
        return;
    }
    let mut offset = rest_start;
    for part in rest.split(['/', '?', '&', '#']) {
        let part_start = start + offset;
        offset += part.len() + 1;
        if let Some((name, value)) = part.split_once('=') {
            let from = part_start + name.len() + 1;
            let lower = name.to_ascii_lowercase();
            let name_secret =
                is_secret_key(name) || lower.ends_with("sig") || lower.ends_with("signature");
            if name_secret || looks_random(value) {
                push(found, from..from + value.len(), "a URL with a secret in it");
            }
        } else if looks_random(part) {
            push(
                found,
                part_start..part_start + part.len(),
                "a URL with a secret in it",
            );
        }
    }
}

/// Token families and `Authorization` credentials.
fn named_shapes(text: &str, found: &mut Vec<Found>) {
    // Find first (one fast scan), then ask which family only of what matched.
    let families = may_hold_family(text).then(|| &*FAMILY_PATTERN);
    for m in families.into_iter().flat_map(|f| f.find_iter(text)) {
        let Some(i) = FAMILY_PATTERN
            .captures(m.as_str())
            .and_then(|c| c.iter().skip(1).position(|g| g.is_some()))
        else {
            continue;
        };
        if !m.as_str().starts_with("sk-") || m.as_str().bytes().any(|b| b.is_ascii_digit()) {
            push(found, m.range(), FAMILIES[i].0);
        }
    }
    // A credential follows its scheme after a blank, or `authorization` after `:` or `=`.
    if !text
        .bytes()
        .any(|b| matches!(b, b' ' | b'\t' | b':' | b'='))
    {
        return;
    }
    if !names_a_scheme(text) {
        return;
    }
    for c in AUTHORIZATION.captures_iter(text) {
        if let Some(cred) = c.get(1) {
            push(found, cred.range(), "an Authorization credential");
        }
    }
    for c in SCHEME.captures_iter(text) {
        // A credential has digits or base64's `+/=`; `Basic Authentication` is prose.
        if let Some(cred) = c.get(1)
            && cred
                .as_str()
                .contains(|c: char| c.is_ascii_digit() || matches!(c, '+' | '/' | '='))
        {
            push(found, cred.range(), "an Authorization credential");
        }
    }
}

/// Every secret in `text` found by its shape: token families, URL credentials and secret
/// paths, `Authorization` credentials, the values of `password=…`-style assignments, and,
/// when `random` is set, random-looking strings.
pub(super) fn shapes(text: &str, random: bool) -> Vec<Found> {
    let mut found = Vec::new();
    named_shapes(text, &mut found);
    // Each `://` starts a URL, also one inside another's authority (`redis://:a@h1,redis://:b@h2`).
    // Most values have no `:` at all: no search for `://` then.
    let colon = text.as_bytes().contains(&b':');
    let url_starts: Vec<usize> = if colon {
        text.match_indices("://").map(|(at, _)| at).collect()
    } else {
        Vec::new()
    };
    for &at in &url_starts {
        let start = text[..at]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
            .last()
            .map_or(at, |(i, _)| i);
        let end = text[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .map_or(text.len(), |e| at + e);
        if start < at && text[start..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            url_secrets(&text[start..end], start, &mut found);
        }
    }
    if text.bytes().any(|b| b == b'=' || b == b':') {
        for c in ASSIGNMENT.captures_iter(text) {
            if let (Some(key), Some(value)) = (c.get(1), c.get(2))
                && is_secret_key(key.as_str())
                // `key: value` and `keys=…` name no secret; `Authorization` has its own rule.
                && !matches!(key.as_str().to_ascii_lowercase().as_str(), "key" | "keys")
                && !key.as_str().to_ascii_lowercase().ends_with("authorization")
                && !value.as_str().chars().all(|c| c == '*')
            {
                push(&mut found, value.range(), "a secret assignment");
            }
        }
    }
    // A random string has upper case, lower case and digits: most text has not all three.
    let bytes = text.as_bytes();
    if random
        && bytes.iter().any(u8::is_ascii_uppercase)
        && bytes.iter().any(u8::is_ascii_lowercase)
        && bytes.iter().any(u8::is_ascii_digit)
    {
        // URLs were read part by part above; a path's words (`/services/`, `/Users/`) say it is
        // not random text.
        let in_url: Vec<Range<usize>> = url_starts
            .iter()
            .map(|&at| {
                let end = text[at..]
                    .find(char::is_whitespace)
                    .map_or(text.len(), |e| at + e);
                at..end
            })
            .collect();
        for m in token_runs(text) {
            let token = &text[m.clone()];
            let wordy = token.contains('/')
                && token
                    .split('/')
                    .any(|part| part.len() >= 3 && part.chars().all(|c| c.is_ascii_lowercase()));
            let url = in_url.iter().any(|r| r.start < m.end && m.start < r.end);
            if !wordy && !url && looks_random(token) {
                push(&mut found, m, "a random-looking string");
            }
        }
    }
    found
}

/// What a value looks like when it holds a secret by its shape alone ("a GitHub token",
/// "a webhook URL", "a random-looking string"…), for a warning that never shows the value.
#[must_use]
pub fn secret_kind(value: &str) -> Option<&'static str> {
    // No shape is shorter; most values of a `.env` are, and `check` asks this of every one.
    if value.len() < 8 {
        return None;
    }
    let mut found = shapes(value, true);
    found.sort_by_key(|f| f.range.start);
    found
        .first()
        .map(|f| f.what)
        .filter(|_| !is_placeholder(value))
}

/// The one decision "is this value secret": by its key, or by its shape.
#[must_use]
pub fn is_secret(key: &str, value: &str) -> bool {
    !value.is_empty() && (is_secret_key(key) || secret_kind(value).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::{CLICKUP, GH, GH_FINE, GOOGLE, PEM};

    #[test]
    fn secret_values_are_recognised_by_shape() {
        for (value, kind) in [
            ("ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u", "a GitHub token"),
            (GH, "a GitHub token"),
            ("gho_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u", "a GitHub token"),
            ("ghs_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u", "a GitHub token"),
            (GH_FINE, "a GitHub token"),
            (
                "xoxb-2748562341-5529301837462-Rk3vPq8ZmW2nLx7TcY4bJd9H",
                "a Slack token",
            ),
            ("xoxp-1234567890-0987654321-abcdefABCDEF", "a Slack token"),
            (
                "sk-ant-api03-kR2vN8qLm4TzW9pXc3HbJ6sFd1GyA5eUo7iQ0tZr",
                "an Anthropic or OpenAI key",
            ),
            (
                "sk-proj-e2eFakeKeyForTestsOnly0123456789",
                "an Anthropic or OpenAI key",
            ),
            ("AKIAIOSFODNN7EXAMPLE", "an AWS access key id"),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "a JSON Web Token",
            ),
            (PEM, "a private key"),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", "a private key"),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "a Stripe key"),
            ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "a Stripe key"),
            ("glpat-xR4vKp9mZ2qW7nTc3LbY", "a GitLab token"),
            (GOOGLE, "a Google API key"),
            (CLICKUP, "a ClickUp token"),
            ("npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "an npm token"),
            (
                "https://hooks.slack.com/services/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",
                "a webhook URL",
            ),
            (
                "https://discord.com/api/webhooks/112233445566778899/aBcD-eFgH_iJkL",
                "a webhook URL",
            ),
            (
                "postgres://app:UrlS3cretPw@db:5432/app",
                "a URL with a password",
            ),
            (
                "https://ghtoken1234567890abc@github.com/o/r.git",
                "a URL with a credential",
            ),
            (
                "https://api.example.com/v1/hook?token=abc123",
                "a URL with a secret in it",
            ),
            (
                "https://b.s3.amazonaws.com/f?X-Amz-Signature=9f86d081884c7d65",
                "a URL with a secret in it",
            ),
            (
                "https://files.example.com/share/Xk7pQ2rT9vW3mZ8nL4cY6bH1Tq/report.pdf",
                "a URL with a secret in it",
            ),
            (
                "Authorization: Basic dXNlcjpwYXNzd29yZA==",
                "an Authorization credential",
            ),
            (
                "Authorization: Bearer abc.def.ghi",
                "an Authorization credential",
            ),
            ("Bearer Xk7pQ2rT9vW3", "an Authorization credential"),
            ("Basic dXNlcjpwYXNzd29yZA==", "an Authorization credential"),
            ("-Dpassword=hunter2 -Xmx1g", "a secret assignment"),
            (
                "q8Vt2xR7nK4pL9wZ3mB6cY1hJ5dF0gTsA/eU+iO2k",
                "a random-looking string",
            ),
            ("Rk3vPq8ZmW2nLx7TcY4bJd9HsA6e", "a random-looking string"),
        ] {
            assert_eq!(secret_kind(value), Some(kind), "{value}");
            assert!(is_secret("PLAIN", value), "{value}");
        }
    }

    #[test]
    fn ordinary_values_are_not_secret() {
        for value in [
            "redis:7-alpine",
            "./workspace",
            "/Users/JohnSmith/Projects2024/timmy",
            "8080",
            "timmy-offline/node:20",
            "node:20-slim",
            "production",
            "timmy-org/timmy",
            "https://example.com/docs/getting-started?page=2#install",
            "https://registry.npmjs.org/",
            "ssh://git@github.com/timmy-org/timmy.git",
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "550e8400-e29b-41d4-a716-446655440000",
            "3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a",
            "ReactNativeApp2024Build",
            "ThisIsMyApplicationName2024",
            "AmazonLinux2023Minimal",
            "en_US.UTF-8",
            "Basic authentication failed",
            "Basic Authentication failed for Administrator",
            "bearer tokens expire",
            "sort key: createdAt",
            "https://example.com/search?q=redis&page=2",
            "sk-learn-extensions-are-nice",
            "--max-old-space-size=4096",
            "user@example.com",
            "ghp_your_token_here",
            "",
        ] {
            assert_eq!(secret_kind(value), None, "{value}");
            assert!(!is_secret("PLAIN", value), "{value}");
        }
        assert!(is_secret("REDIS_PASSWORD", "redis"));
        assert!(!is_secret("REDIS_PASSWORD", ""));
    }

    #[test]
    fn random_strings_are_told_from_identifiers() {
        for token in [
            "Rk3vPq8ZmW2nLx7TcY4bJd9HsA6e",
            "q8Vt2xR7nK4pL9wZ3mB6cY1hJ5dF0gTsA/eU+iO2k",
            "dGhpcyBpcyBhIDMyIGJ5dGUgc2VjcmV0IGtleSE1Mg==",
        ] {
            assert!(looks_random(token), "{token}");
        }
        for token in [
            "ReactNativeApp2024Build",
            "MyVeryLongHostname2024Prd",
            "Rk3vPq8ZmW2nLx7TcY4b",
            "3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a",
            "ABCDEF0123456789ABCDEF0123456789",
            "S3_BUCKET_NAME_FOR_BACKUPS_2024",
            "my-service-name-v2-Production-01",
        ] {
            assert!(!looks_random(token), "{token}");
        }
    }

    /// Every match of a family starts with one of [`FAMILY_STARTS`]: the literal prefixes the
    /// regex engine itself extracts from each pattern all begin with one, so the pre-filter
    /// never hides a token (a family added without its start fails here).
    #[test]
    fn family_starts_cover_every_family() {
        use regex_syntax::hir::literal::Extractor;
        for (what, pattern) in FAMILIES {
            let hir = regex_syntax::parse(pattern).expect("a valid pattern");
            let prefixes = Extractor::new().extract(&hir);
            let literals = prefixes.literals().expect("a finite set of prefixes");
            assert!(!literals.is_empty(), "{what}");
            for literal in literals {
                assert!(
                    FAMILY_STARTS
                        .iter()
                        .any(|start| literal.as_bytes().starts_with(start.as_bytes())),
                    "{what}: {:?} starts with none of FAMILY_STARTS",
                    String::from_utf8_lossy(literal.as_bytes())
                );
            }
        }
    }

    #[test]
    fn family_pre_filter_passes_every_token_and_stops_plain_text() {
        for token in [
            GH,
            GH_FINE,
            CLICKUP,
            GOOGLE,
            PEM,
            "AKIAIOSFODNN7EXAMPLE",
            "x ya29.a0AfH6SMBx",
        ] {
            assert!(may_hold_family(token), "{token}");
        }
        for text in [
            "plain-value-12-abcdefghijklmnop",
            "double quoted and \n escape",
            "",
        ] {
            assert!(!may_hold_family(text), "{text}");
        }
    }

    /// The runs of token characters are the matches of the class as a regex, on every
    /// generated input and on each test value.
    #[test]
    fn token_runs_are_the_regex_matches() {
        let class = Regex::new(r"[A-Za-z0-9+/_=-]+").unwrap();
        let mut texts = crate::secrets::tests::generated_inputs();
        texts.extend(["", "a", "==", " a+b/c= d\u{e9}e-f ", "\u{a0}xY9_", "é"].map(String::from));
        for text in texts {
            let runs: Vec<_> = token_runs(&text).collect();
            let matches: Vec<_> = class.find_iter(&text).map(|m| m.range()).collect();
            assert_eq!(runs, matches, "{text:?}");
        }
    }

    #[test]
    fn scheme_words_are_found_in_any_case() {
        for text in [
            "x AUTHORIZATION: y",
            "Basic",
            "a bEaReR b",
            "proxy-authorization=1",
        ] {
            assert!(names_a_scheme(text), "{text}");
        }
        for text in ["basi", "bear er", "authorisation", "", "Ω basİc"] {
            assert!(!names_a_scheme(text), "{text}");
        }
    }
}
