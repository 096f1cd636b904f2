//! Recognising secrets: keys that name one, values that look like one (token families, URLs
//! with credentials or secret paths, `Authorization` credentials, random-looking strings),
//! masking them where they stand (a value in `env`, a scalar in `config`, a word in text relayed
//! from Docker), token shapes checked for `check`, and placeholder values. Pure string logic,
//! except [`masker`], which reads the project's `.env` once to build the masker every command
//! shows docker's output through. No message produced here ever contains the value it looked at.

use std::ops::Range;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

/// Word parts of a key that mark it as holding a secret.
const SECRET_WORDS: &[&str] = &[
    "TOKEN",
    "TOKENS",
    "SECRET",
    "SECRETS",
    "PASSWORD",
    "PASSWORDS",
    "PASSWD",
    "PASS",
    "PASSPHRASE",
    "PWD",
    "KEY",
    "KEYS",
    "APIKEY",
    "PRIVATE",
    "CREDENTIAL",
    "CREDENTIALS",
    "CREDS",
    "AUTH",
    "AUTHORIZATION",
    "COOKIE",
    "SALT",
    "PAT",
    "DSN",
];

/// Suffixes that mark a glued word (`APITOKEN`, `DBPASSWORD`) as secret.
const SECRET_SUFFIXES: &[&str] = &["TOKEN", "SECRET", "PASSWORD", "PASSWD", "APIKEY"];

/// Splits `key` into upper-case word parts at non-alphanumerics and lower→upper case changes.
fn word_parts(key: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                parts.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase();
        current.extend(c.to_uppercase());
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// True when the key names a secret: `GITHUB_TOKEN`, `db_password`, `apiKey`, `PRIVATE_KEY`,
/// `AWS_SECRET_ACCESS_KEY`… (case-insensitive, by word parts). `PWD` alone is the working
/// directory, and `PUBLIC_KEY` is not secret.
#[must_use]
pub fn is_secret_key(key: &str) -> bool {
    let parts = word_parts(key);
    if parts.len() == 1 && parts[0] == "PWD" {
        return false;
    }
    let public = parts.iter().any(|p| p == "PUBLIC" || p == "PUB");
    parts.iter().any(|part| {
        let secret_word = SECRET_WORDS.contains(&part.as_str())
            || SECRET_SUFFIXES
                .iter()
                .any(|s| part.len() > s.len() && part.ends_with(s));
        secret_word && !(public && (part == "KEY" || part == "KEYS"))
    })
}

/// Known token prefixes, longest first, kept visible by `mask`.
const PREFIXES: &[&str] = &[
    "sk-ant-admin01-",
    "sk-ant-api03-",
    "github_pat_",
    "sk-svcacct-",
    "sk-proj-",
    "sk-ant-",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "AIza",
    "pk_",
    "sk-",
];

/// Masks a secret for display: a known token prefix stays (`ghp_****`, `sk-ant-api03-****`),
/// anything else becomes `****`; an empty value stays empty.
#[must_use]
pub fn mask(value: &str) -> String {
    if value.is_empty() {
        return String::new();
    }
    let prefix = PREFIXES
        .iter()
        .find(|p| value.len() > p.len() && value.starts_with(**p))
        .copied()
        .unwrap_or("");
    format!("{prefix}****")
}

/// True when what Compose reads as a key is more likely pasted data than a name: 8 or more
/// characters without any `_`, `-` or `.` followed by nothing but `=` (base64 padding:
/// `c2VjcmV0...==` is read as key `c2VjcmV0...` with the value `=`), or a "name" with the shape
/// of a token (mixed case and digits, 16 characters or more; or 24 or more characters with
/// digits and no `_`, `-` or `.`). Such a key must never be printed: it may be the secret.
#[must_use]
pub fn looks_like_pasted_data(key: &str, value: &str) -> bool {
    let length = key.chars().count();
    let has = |pred: fn(&char) -> bool| key.chars().any(|c| pred(&c));
    let digits = has(char::is_ascii_digit);
    let mixed_case = has(char::is_ascii_lowercase) && has(char::is_ascii_uppercase);
    let separators = has(|c| matches!(c, '_' | '-' | '.'));
    let padding = !value.is_empty() && value.chars().all(|c| c == '=');
    (padding && !separators && length >= 8)
        || (mixed_case && digits && length >= 16)
        || (digits && !separators && length >= 24)
}

fn all(s: &str, pred: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && s.chars().all(pred)
}

fn is_base62(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

fn is_urlsafe(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// The token family a value claims by its prefix, checked for shape.
fn shape_by_prefix(value: &str) -> Option<Result<&'static str, String>> {
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        if let Some(rest) = value.strip_prefix(prefix) {
            return Some(if !all(rest, is_base62) {
                Err(format!(
                    "looks like a GitHub token ({prefix}…) but contains characters other than letters and digits"
                ))
            } else if rest.len() == 36 {
                Ok("GitHub")
            } else {
                Err(format!(
                    "looks like a GitHub token ({prefix}…) but has {} characters after the prefix, expected 36",
                    rest.chars().count()
                ))
            });
        }
    }
    if let Some(rest) = value.strip_prefix("github_pat_") {
        let ok = rest.split_once('_').is_some_and(|(a, b)| {
            a.len() == 22 && b.len() == 59 && all(a, is_base62) && all(b, is_base62)
        });
        return Some(if ok {
            Ok("GitHub")
        } else if all(rest, |c| is_base62(c) || c == '_') {
            Err("looks like a GitHub fine-grained token (github_pat_…) but is not 22 + `_` + 59 letters/digits long".to_owned())
        } else {
            Err("looks like a GitHub fine-grained token (github_pat_…) but contains characters other than letters, digits and `_`".to_owned())
        });
    }
    if let Some(rest) = value.strip_prefix("pk_") {
        let ok = rest.split_once('_').is_some_and(|(id, token)| {
            all(id, |c| c.is_ascii_digit())
                && token.len() == 32
                && all(token, |c| c.is_ascii_digit() || c.is_ascii_uppercase())
        });
        return Some(if ok {
            Ok("ClickUp")
        } else {
            Err("looks like a ClickUp token (pk_…) but is not pk_<digits>_<32 upper-case letters/digits>".to_owned())
        });
    }
    if let Some(rest) = value.strip_prefix("sk-ant-") {
        let body = rest
            .strip_prefix("api03-")
            .or_else(|| rest.strip_prefix("admin01-"));
        return Some(match body {
            None => Err(
                "looks like an Anthropic key (sk-ant-…) but does not continue with api03- or admin01-"
                    .to_owned(),
            ),
            Some(body) if !all(body, is_urlsafe) => Err(
                "looks like an Anthropic key but contains characters other than letters, digits, `-` and `_`"
                    .to_owned(),
            ),
            Some(body) if body.len() < 80 => Err(format!(
                "looks like an Anthropic key but is short ({} characters after the prefix)",
                body.len()
            )),
            Some(_) => Ok("Anthropic"),
        });
    }
    if let Some(rest) = value.strip_prefix("sk-") {
        let body = rest
            .strip_prefix("proj-")
            .or_else(|| rest.strip_prefix("svcacct-"))
            .or_else(|| rest.strip_prefix("admin-"))
            .unwrap_or(rest);
        return Some(if !all(body, is_urlsafe) {
            Err(
                "looks like an OpenAI key (sk-…) but contains characters other than letters, digits, `-` and `_`"
                    .to_owned(),
            )
        } else if body.len() < 32 {
            Err(format!(
                "looks like an OpenAI key (sk-…) but is short ({} characters after the prefix)",
                body.len()
            ))
        } else {
            Ok("OpenAI")
        });
    }
    if let Some(rest) = value.strip_prefix("AIza") {
        return Some(if !all(rest, is_urlsafe) {
            Err("looks like a Google API key (AIza…) but contains characters other than letters, digits, `-` and `_`".to_owned())
        } else if rest.len() == 35 {
            Ok("Google")
        } else {
            Err(format!(
                "looks like a Google API key (AIza…) but has {} characters after the prefix, expected 35",
                rest.len()
            ))
        });
    }
    None
}

/// The token family a key name asks for, with the prefixes it accepts.
fn family_by_key(key: &str) -> Option<(&'static str, &'static [&'static str])> {
    if !is_secret_key(key) {
        return None;
    }
    let parts = word_parts(key);
    let has = |w: &str| parts.iter().any(|p| p == w);
    if (has("GITHUB") || has("GH")) && (has("TOKEN") || has("PAT")) {
        return Some((
            "GitHub",
            &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
        ));
    }
    if has("CLICKUP") {
        return Some(("ClickUp", &["pk_"]));
    }
    if has("ANTHROPIC") || has("CLAUDE") {
        return Some(("Anthropic", &["sk-ant-"]));
    }
    if has("OPENAI") {
        return Some(("OpenAI", &["sk-"]));
    }
    if (has("GOOGLE") || has("GEMINI")) && (has("KEY") || has("APIKEY")) {
        return Some(("Google", &["AIza"]));
    }
    None
}

/// A warning (never containing the value) when the value looks like a known token but has
/// the wrong shape, or when the key names a token family and the value does not match it.
/// Prefixes are checked strictly; lengths only produce a warning. Empty values and
/// placeholders are left to other checks.
#[must_use]
pub fn token_shape_problem(key: &str, value: &str) -> Option<String> {
    let family = family_by_key(key);
    // Most keys name no token family and most values start with no token prefix: decide
    // those without the allocation-heavy placeholder test (it dominated `check` on 10k lines).
    if value.is_empty()
        || (family.is_none() && !PREFIXES.iter().any(|p| value.starts_with(p)))
        || is_placeholder(value)
    {
        return None;
    }
    if family.is_some() && value.trim() != value {
        return Some(format!(
            "{key} has leading or trailing whitespace around the token"
        ));
    }
    if let Some((name, prefixes)) = family {
        if name == "OpenAI" && value.starts_with("sk-ant-") {
            return Some(format!(
                "{key} holds an Anthropic key (sk-ant-…), not an OpenAI key"
            ));
        }
        if !prefixes.iter().any(|p| value.starts_with(p)) {
            return Some(format!(
                "{key} does not look like a {name} token: expected it to start with {}",
                prefixes.join(" or ")
            ));
        }
    }
    match shape_by_prefix(value) {
        Some(Err(problem)) => Some(format!("{key} {problem}")),
        _ => None,
    }
}

/// Whole values (lower-case, non-alphanumerics as `_`) that are placeholders.
const EXACT: &[&str] = &[
    "changeme",
    "change_me",
    "changeit",
    "change_it",
    "replaceme",
    "replace_me",
    "todo",
    "tbd",
    "fixme",
    "placeholder",
    "your_token",
    "your_key",
    "your_password",
    "your_secret",
    "dummy",
    "fill_me_in",
    "fill_in",
    "redacted",
    "secret_here",
    "token_here",
    "key_here",
    "password_here",
];

/// True for values that are obviously not filled in: `xxx…`, `changeme`, `change_me`,
/// `your_api_key_here`, `<token>`, `TODO`, `placeholder`, `ghp_xxxx…` (case-insensitive).
#[must_use]
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() {
        return false;
    }
    // Case-insensitive without lower-casing the whole value: `check` asks this of every entry.
    let starts = |p: &str| v.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    let unprefixed = PREFIXES
        .iter()
        .find(|p| starts(p))
        .map(|p| &v[p.len()..])
        .filter(|rest| !rest.is_empty())
        .unwrap_or(v);
    if unprefixed.len() >= 3
        && unprefixed
            .chars()
            .all(|c| matches!(c, 'x' | 'X' | '*' | '.'))
    {
        return true;
    }
    if starts("xxx") || (v.starts_with('<') && v.ends_with('>')) {
        return true;
    }
    // The word rules apply to the value and to what follows a token prefix
    // (`sk-ant-your_key_here`, `ghp_changeme`).
    placeholder_words(v) || (unprefixed.len() < v.len() && placeholder_words(unprefixed))
}

fn placeholder_words(text: &str) -> bool {
    // Every marker below is ASCII, so only ASCII letters need lower-casing.
    let words: String = text
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let words = words.trim_matches('_');
    if EXACT.contains(&words) {
        return true;
    }
    let fill_in = ["your_", "insert_", "put_", "enter_", "add_", "paste_"]
        .iter()
        .any(|p| words.starts_with(p));
    fill_in && (words.ends_with("_here") || words.starts_with("your_"))
        || words.starts_with("change_me")
        || words.starts_with("changeme")
        || words.starts_with("replace_with")
        || words.starts_with("todo_")
        || words.starts_with("placeholder")
}

// ---- secrets by value ----

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

struct Patterns {
    /// Every family in one pattern, family `i` as capture group `i + 1`: one scan per text.
    families: Regex,
    authorization: Regex,
    scheme: Regex,
    assignment: Regex,
    token: Regex,
}

static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| {
    let re = |p: &str| Regex::new(p).expect("a valid built-in pattern");
    let families = FAMILIES
        .iter()
        .map(|(_, p)| format!("({p})"))
        .collect::<Vec<_>>()
        .join("|");
    Patterns {
        families: re(&families),
        // `Authorization: Basic …`, `authorization="Bearer …"`, `Authorization: <credential>`.
        authorization: re(
            r#"(?i)\b(?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?(?:(?:basic|bearer|token|digest|apikey|key)[ \t]+)?([^\s"',;]+)"#,
        ),
        // A bare `Basic …`/`Bearer …` credential, e.g. in a curl line or a header list.
        scheme: re(r"\b(?:Basic|Bearer|basic|bearer)[ \t]+([A-Za-z0-9+/=._~-]{8,})"),
        // `password=…`, `"apiKey": "…"`, `GITHUB_TOKEN: …` in free text.
        assignment: re(r#"\b([A-Za-z][A-Za-z0-9_.-]*)["']?[ \t]*[=:][ \t]*["']?([^\s"'&,;]+)"#),
        token: re(r"[A-Za-z0-9+/_=-]+"),
    }
});

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
struct Found {
    range: Range<usize>,
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
fn named_shapes(p: &Patterns, text: &str, found: &mut Vec<Found>) {
    // Find first (one fast scan), then ask which family only of what matched.
    for m in p.families.find_iter(text) {
        let Some(i) = p
            .families
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
    let lower = text.to_ascii_lowercase();
    if !["authorization", "basic", "bearer"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return;
    }
    for c in p.authorization.captures_iter(text) {
        if let Some(cred) = c.get(1) {
            push(found, cred.range(), "an Authorization credential");
        }
    }
    for c in p.scheme.captures_iter(text) {
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
fn shapes(text: &str, random: bool) -> Vec<Found> {
    let p = &*PATTERNS;
    let mut found = Vec::new();
    named_shapes(p, text, &mut found);
    // Each `://` starts a URL, also one inside another's authority (`redis://:a@h1,redis://:b@h2`).
    for (at, _) in text.match_indices("://") {
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
        for c in p.assignment.captures_iter(text) {
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
        let in_url: Vec<Range<usize>> = text
            .match_indices("://")
            .map(|(at, _)| {
                let end = text[at..]
                    .find(char::is_whitespace)
                    .map_or(text.len(), |e| at + e);
                at..end
            })
            .collect();
        for m in p.token.find_iter(text) {
            let wordy = m.as_str().contains('/')
                && m.as_str()
                    .split('/')
                    .any(|part| part.len() >= 3 && part.chars().all(|c| c.is_ascii_lowercase()));
            let url = in_url
                .iter()
                .any(|r| r.start < m.end() && m.start() < r.end);
            if !wordy && !url && looks_random(m.as_str()) {
                push(&mut found, m.range(), "a random-looking string");
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
/// log lines `up` shows when it fails.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    vars: Vec<(String, String)>,
    /// The secret values, longest first (so a secret that contains another is masked whole);
    /// worked out on first use, so a command that shows nothing pays nothing.
    known: std::sync::OnceLock<Vec<String>>,
}

impl Masker {
    /// From `(key, value)` pairs; a key may come more than once.
    pub fn new<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Self {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
                .collect(),
            known: std::sync::OnceLock::new(),
        }
    }

    fn known(&self) -> &[String] {
        self.known.get_or_init(|| {
            let mut known: Vec<String> = Vec::new();
            for (key, value) in &self.vars {
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
/// `.env` and the shell's value of each of its keys (Compose prefers the shell's). A `.env`
/// that cannot be read gives an empty masker; the commands that need `.env` refuse it anyway.
pub fn masker(root: &Path) -> Masker {
    let vars = crate::validate::resolved_env(root).unwrap_or_default();
    let shell: Vec<(String, String)> = vars
        .iter()
        .filter_map(|(k, _)| crate::validate::shell_lookup(k).map(|v| (k.clone(), v)))
        .collect();
    Masker::new(vars.into_iter().chain(shell))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_by_word_parts() {
        for key in [
            "GITHUB_TOKEN",
            "token",
            "DB_PASSWORD",
            "db_passwd",
            "SMTP_PASS",
            "OPENAI_API_KEY",
            "SSH_KEY",
            "apiKey",
            "PRIVATE_KEY_PEM",
            "AWS_SECRET_ACCESS_KEY",
            "GOOGLE_CREDENTIALS",
            "BASIC_AUTH",
            "GITHUBTOKEN",
            "MYAPPPASSWORD",
            "SESSION_COOKIE",
            "CLICKUP_PAT",
        ] {
            assert!(is_secret_key(key), "{key} should be secret");
        }
        for key in [
            "PORT",
            "DATABASE_HOST",
            "PWD",
            "KEYBOARD",
            "MONKEY",
            "PASSENGER_COUNT",
            "AUTHOR",
            "PUBLIC_KEY",
            "TOKENIZER_MODEL",
            "COMPOSE_PROJECT_NAME",
            "",
        ] {
            assert!(!is_secret_key(key), "{key} should not be secret");
        }
    }

    #[test]
    fn mask_keeps_only_known_prefix() {
        assert_eq!(mask("ghp_abcdefghijklmnopqrstuvwxyz0123456789"), "ghp_****");
        assert_eq!(mask("sk-ant-api03-abc"), "sk-ant-api03-****");
        assert_eq!(mask("sk-ant-zzz"), "sk-ant-****");
        assert_eq!(mask("sk-proj-abc"), "sk-proj-****");
        assert_eq!(mask("github_pat_x"), "github_pat_****");
        assert_eq!(mask("pk_1_AB"), "pk_****");
        assert_eq!(mask("AIzaXYZ"), "AIza****");
        assert_eq!(mask("hunter2"), "****");
        assert_eq!(mask("ghp_"), "****");
        assert_eq!(mask(""), "");
    }

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

    #[test]
    fn pasted_data_is_told_from_names() {
        for (key, value) in [
            ("c2VjcmV0LXRva2VuLXZhbHVlcw", "="),
            ("QW7ER9TY2UI4OP6AS8DF1GH3JK5L", "=="),
            ("ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u", ""),
            ("3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c", ""),
        ] {
            assert!(looks_like_pasted_data(key, value), "{key}");
        }
        for (key, value) in [
            ("LOG_LEVEL", "info"),
            ("log_format", "json"),
            ("apiKey", "x"),
            ("S3_BUCKET_NAME_FOR_BACKUPS_2024", "b"),
            ("OAUTH2_CLIENT_ID", "="),
            ("SHORT", "=="),
            ("", "="),
        ] {
            assert!(!looks_like_pasted_data(key, value), "{key}");
        }
    }

    const GH: &str = "ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
    const GH_FINE: &str = "github_pat_abcdefghijklmnopqrstuv_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456";
    const CLICKUP: &str = "pk_12345678_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    const GOOGLE: &str = "AIzaSyA1234567890abcdefghijklmnopqrstuv";

    #[test]
    fn well_formed_tokens_pass() {
        assert_eq!(GH.len(), 40);
        assert_eq!(token_shape_problem("GITHUB_TOKEN", GH), None);
        assert_eq!(token_shape_problem("GH_TOKEN", GH_FINE), None);
        assert_eq!(token_shape_problem("CLICKUP_API_TOKEN", CLICKUP), None);
        let anthropic = format!("sk-ant-api03-{}", "a".repeat(95));
        assert_eq!(token_shape_problem("ANTHROPIC_API_KEY", &anthropic), None);
        let openai = format!("sk-proj-{}", "A1_-".repeat(20));
        assert_eq!(token_shape_problem("OPENAI_API_KEY", &openai), None);
        assert_eq!(token_shape_problem("GOOGLE_API_KEY", GOOGLE), None);
        assert_eq!(token_shape_problem("PORT", "8080"), None);
        assert_eq!(token_shape_problem("CLICKUP_TEAM_ID", "123"), None);
    }

    #[test]
    fn malformed_tokens_warn_without_the_value() {
        let cases: Vec<(&str, String, &str)> = vec![
            ("GITHUB_TOKEN", format!("{GH}x"), "expected 36"),
            (
                "GITHUB_TOKEN",
                "ghp_abc!def".to_owned(),
                "other than letters",
            ),
            ("GITHUB_TOKEN", "gh_abcdef".to_owned(), "start with ghp_"),
            ("GITHUB_TOKEN", format!(" {GH}"), "whitespace"),
            ("GH_TOKEN", "github_pat_short_x".to_owned(), "22 + `_` + 59"),
            ("CLICKUP_TOKEN", "pk_123_abc".to_owned(), "pk_<digits>"),
            (
                "CLICKUP_API_KEY",
                "abc123def456".to_owned(),
                "start with pk_",
            ),
            ("ANTHROPIC_API_KEY", "sk-ant-api04-zzz".to_owned(), "api03-"),
            (
                "ANTHROPIC_API_KEY",
                "sk-ant-api03-short".to_owned(),
                "short",
            ),
            (
                "ANTHROPIC_API_KEY",
                "sk-proj-abc".to_owned(),
                "start with sk-ant-",
            ),
            (
                "OPENAI_API_KEY",
                format!("sk-ant-api03-{}", "a".repeat(90)),
                "Anthropic",
            ),
            ("OPENAI_API_KEY", "sk-abc".to_owned(), "short"),
            (
                "OPENAI_API_KEY",
                "openai-key-123".to_owned(),
                "start with sk-",
            ),
            ("GOOGLE_API_KEY", "AIzaTooShort".to_owned(), "expected 35"),
            ("GOOGLE_API_KEY", "Aiza1234".to_owned(), "start with AIza"),
            ("SOME_VAR", "ghp_short".to_owned(), "GitHub"),
        ];
        for (key, value, expect) in cases {
            let problem = token_shape_problem(key, &value)
                .unwrap_or_else(|| panic!("{key}={value} should warn"));
            assert!(
                problem.contains(expect),
                "{key}: {problem:?} lacks {expect:?}"
            );
            assert!(problem.starts_with(key), "{problem:?} should name {key}");
            let secret_part = value.trim().get(4..).unwrap_or_default();
            assert!(
                !problem.contains(secret_part),
                "{problem:?} leaks the value"
            );
        }
    }

    #[test]
    fn placeholders() {
        for v in [
            "xxx",
            "XXXXXXXX",
            "xxx-yyy",
            "changeme",
            "CHANGE_ME",
            "change-me",
            "change me",
            "your_api_key_here",
            "YOUR-TOKEN-HERE",
            "your_token",
            "<token>",
            "<your github token>",
            "TODO",
            "todo: fill",
            "placeholder",
            "ghp_xxxxxxxxxxxxxxxxxxxx",
            "sk-ant-...",
            "***",
            "insert_key_here",
            "replace_me",
            "sk-ant-your_key_here",
            "pk_your_token_here",
            "ghp_changeme",
        ] {
            assert!(is_placeholder(v), "{v:?} should be a placeholder");
        }
        for v in [
            "",
            "x",
            "postgres",
            "8080",
            "localhost",
            "ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
            "yourself",
            "todos-app",
            "<html",
            "exchange",
        ] {
            assert!(!is_placeholder(v), "{v:?} should not be a placeholder");
        }
    }

    // ---- secrets by value ----

    const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7x9Kq2mWvB3n\n-----END RSA PRIVATE KEY-----";

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
}
