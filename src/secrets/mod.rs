//! Recognising secrets: keys that name one ([`is_secret_key`]), values that look like one
//! (`shapes`: token families, URLs with credentials or secret paths, `Authorization`
//! credentials, random-looking strings), masking them where they stand (`mask`: a value in
//! `env`, a scalar in `config`, a word in text relayed from Docker), token shapes checked for
//! `check` and placeholder values (`tokens`). Pure string logic, except [`masker`], which reads
//! the project's `.env` once to build the masker every command shows docker's output through.
//! No message produced here ever contains the value it looked at.

mod mask;
mod shapes;
mod tokens;

pub use mask::{MIN_KNOWN_LEN, Masker, masker};
pub use shapes::{is_secret, looks_random, secret_kind};
pub use tokens::{is_placeholder, token_shape_problem};

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

/// The last letters of [`SECRET_WORDS`] and [`SECRET_SUFFIXES`]
/// (`secret_words_end_in_endings` keeps them so).
const ENDINGS: &[u8] = b"DEHLNSTY";

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

/// [`word_parts`] of an ASCII key, as slices of it (not upper-cased): no allocation.
fn ascii_parts(key: &str) -> impl Iterator<Item = &str> {
    let bytes = key.as_bytes();
    let (mut start, mut i) = (0, 0);
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let c = bytes[i];
            if !c.is_ascii_alphanumeric() {
                let part = &key[start..i];
                i += 1;
                start = i;
                if !part.is_empty() {
                    return Some(part);
                }
                continue;
            }
            if c.is_ascii_uppercase() && i > start && bytes[i - 1].is_ascii_lowercase() {
                let part = &key[start..i];
                start = i;
                i += 1;
                return Some(part);
            }
            i += 1;
        }
        (start < bytes.len()).then(|| {
            let part = &key[start..];
            start = bytes.len();
            part
        })
    })
}

/// True when the key names a secret: `GITHUB_TOKEN`, `db_password`, `apiKey`, `PRIVATE_KEY`,
/// `AWS_SECRET_ACCESS_KEY`… (case-insensitive, by word parts). `PWD` alone is the working
/// directory, and `PUBLIC_KEY` is not secret.
#[must_use]
pub fn is_secret_key(key: &str) -> bool {
    // `check` asks this of every key: ASCII keys are split without building strings.
    if key.is_ascii() {
        secret_by_parts(ascii_parts(key))
    } else {
        secret_by_parts(word_parts(key).iter().map(String::as_str))
    }
}

/// [`is_secret_key`] on the word parts of a key, compared without regard to ASCII case, in
/// one pass.
fn secret_by_parts<'a>(parts: impl Iterator<Item = &'a str>) -> bool {
    let is = |part: &str, word: &str| part.eq_ignore_ascii_case(word);
    let (mut count, mut first_is_pwd, mut public) = (0, false, false);
    // A secret word other than `KEY`/`KEYS`, and `KEY`/`KEYS` (not secret beside `PUBLIC`).
    let (mut secret, mut key) = (false, false);
    for part in parts {
        count += 1;
        first_is_pwd |= count == 1 && is(part, "PWD");
        public |= is(part, "PUBLIC") || is(part, "PUB");
        // Every secret word and suffix ends in one of these letters (most parts do not).
        let ends_like_one = part
            .as_bytes()
            .last()
            .is_some_and(|b| ENDINGS.contains(&b.to_ascii_uppercase()));
        let secret_word = ends_like_one
            && (SECRET_WORDS.iter().any(|w| is(part, w))
                || SECRET_SUFFIXES.iter().any(|s| {
                    part.len() > s.len()
                        && part.as_bytes()[part.len() - s.len()..]
                            .eq_ignore_ascii_case(s.as_bytes())
                }));
        if secret_word && (is(part, "KEY") || is(part, "KEYS")) {
            key = true;
        } else {
            secret |= secret_word;
        }
    }
    !(count == 1 && first_is_pwd) && (secret || (key && !public))
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
    // One pass over the key (`check` asks this of every entry, twice).
    let (mut length, mut digits, mut lower, mut upper, mut separators) =
        (0, false, false, false, false);
    for c in key.chars() {
        length += 1;
        digits |= c.is_ascii_digit();
        lower |= c.is_ascii_lowercase();
        upper |= c.is_ascii_uppercase();
        separators |= matches!(c, '_' | '-' | '.');
    }
    let mixed_case = lower && upper;
    let padding = !value.is_empty() && value.bytes().all(|b| b == b'=');
    (padding && !separators && length >= 8)
        || (mixed_case && digits && length >= 16)
        || (digits && !separators && length >= 24)
}

#[cfg(test)]
const GH: &str = "ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
#[cfg(test)]
const GH_FINE: &str =
    "github_pat_abcdefghijklmnopqrstuv_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456";
#[cfg(test)]
const CLICKUP: &str = "pk_12345678_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
#[cfg(test)]
const GOOGLE: &str = "AIzaSyA1234567890abcdefghijklmnopqrstuv";
#[cfg(test)]
const PEM: &str =
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7x9Kq2mWvB3n\n-----END RSA PRIVATE KEY-----";

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

    /// Strings built from pieces that matter to the key and placeholder rules, ASCII and not,
    /// by a fixed pseudo-random sequence: the same inputs on every run.
    pub(crate) fn generated_inputs() -> Vec<String> {
        const PIECES: &[&str] = &[
            "token",
            "TOKEN",
            "Key",
            "KEYS",
            "pwd",
            "PWD",
            "public",
            "Pub",
            "pass",
            "word",
            "api",
            "APIKEY",
            "secret",
            "_",
            "-",
            ".",
            " ",
            "#",
            "1",
            "x",
            "X",
            "a",
            "B",
            "your",
            "here",
            "change",
            "me",
            "replace",
            "with",
            "todo",
            "placeholder",
            "ghp_",
            "sk-",
            "é",
            "ß",
            "İ",
            "ı",
            "Σ",
            "\u{a0}",
            "<",
            ">",
            "*",
            "Ω",
            "ǅ",
            "fill",
            "in",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % n as u64).unwrap()
        };
        (0..40_000)
            .map(|_| (0..next(7)).map(|_| PIECES[next(PIECES.len())]).collect())
            .collect()
    }

    /// The rule as first written, on upper-cased word parts.
    fn is_secret_key_by_strings(key: &str) -> bool {
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

    #[test]
    fn secret_words_end_in_endings() {
        for word in SECRET_WORDS.iter().chain(SECRET_SUFFIXES) {
            assert!(ENDINGS.contains(&word.as_bytes()[word.len() - 1]), "{word}");
        }
    }

    #[test]
    fn secret_keys_without_allocation_agree_with_the_plain_rule() {
        for key in generated_inputs() {
            assert_eq!(
                is_secret_key(&key),
                is_secret_key_by_strings(&key),
                "{key:?}"
            );
        }
    }
}
