//! Token shapes checked for `check` (a known token family's prefix with the wrong length or
//! characters, or a key that names a family its value does not match) and placeholder values
//! (`changeme`, `your_token_here`, `ghp_xxxx…`).

use super::{PREFIXES, is_secret_key, word_parts};

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

/// True when `key` holds one of the words [`family_by_parts`] looks for, in any ASCII case.
fn names_a_family(key: &str) -> bool {
    let bytes = key.as_bytes();
    let at = |i: usize, word: &str| {
        bytes
            .get(i..i + word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word.as_bytes()))
    };
    (0..bytes.len()).any(|i| match bytes[i] | 0x20 {
        b'g' => at(i, "gh") || at(i, "github") || at(i, "google") || at(i, "gemini"),
        b'c' => at(i, "clickup") || at(i, "claude"),
        b'a' => at(i, "anthropic"),
        b'o' => at(i, "openai"),
        _ => false,
    })
}

/// The token family a key name asks for, with the prefixes it accepts.
fn family_by_key(key: &str) -> Option<(&'static str, &'static [&'static str])> {
    // Each family's name stands in an ASCII key as it is (a non-ASCII key may upper-case
    // into one: `ı` is `I`): most keys name none, decided in one pass without splitting them.
    if key.is_ascii() && !names_a_family(key) {
        return None;
    }
    family_by_parts(key)
}

/// [`family_by_key`] from the key's word parts.
fn family_by_parts(key: &str) -> Option<(&'static str, &'static [&'static str])> {
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

/// The longest marker below is 13 characters: the words' first 16 decide every rule but
/// `_here` at the end.
const HEAD: usize = 16;

fn placeholder_words(text: &str) -> bool {
    // The text as words: letters and digits lower-cased (every marker below is ASCII, so
    // only ASCII letters need it), anything else as `_`, and no `_` at either end. Only the
    // first 16 characters are built, in place (`check` asks this of every entry); a
    // character no marker holds (not ASCII) stands as a byte no marker has.
    let words = text.trim_matches(|c: char| !c.is_alphanumeric());
    let norm = |c: char| {
        if c.is_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        }
    };
    let mut head = [0u8; HEAD];
    let mut chars = words.chars();
    let mut len = 0;
    for (slot, c) in head.iter_mut().zip(chars.by_ref()) {
        *slot = u8::try_from(norm(c))
            .ok()
            .filter(u8::is_ascii)
            .unwrap_or(0xff);
        len += 1;
    }
    // The whole words fit in `head` when nothing is left after it.
    let whole = len < HEAD || chars.next().is_none();
    let head = &head[..len];
    let is = |p: &str| whole && head == p.as_bytes();
    let starts = |p: &str| head.starts_with(p.as_bytes());
    let ends = |p: &str| {
        let mut w = words.chars().rev().map(norm);
        p.chars().rev().all(|c| w.next() == Some(c))
    };
    if head.is_empty() {
        return false;
    }
    if EXACT.iter().any(|p| is(p)) {
        return true;
    }
    let fill_in = ["your_", "insert_", "put_", "enter_", "add_", "paste_"]
        .iter()
        .any(|p| starts(p));
    fill_in && (ends("_here") || starts("your_"))
        || starts("change_me")
        || starts("changeme")
        || starts("replace_with")
        || starts("todo_")
        || starts("placeholder")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::{CLICKUP, GH, GH_FINE, GOOGLE};

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

    /// The word rules as first written, on the words built as a string.
    fn placeholder_words_by_string(text: &str) -> bool {
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

    #[test]
    fn placeholder_words_without_allocation_agree_with_the_plain_rule() {
        let mut found = 0;
        for text in crate::secrets::tests::generated_inputs() {
            let expected = placeholder_words_by_string(&text);
            assert_eq!(placeholder_words(&text), expected, "{text:?}");
            found += usize::from(expected);
        }
        // The inputs reach the rules, not only their "no".
        assert!(found > 100, "{found}");
    }

    #[test]
    fn family_by_key_agrees_with_the_word_parts() {
        let mut keys: Vec<String> = [
            "GITHUB_TOKEN",
            "gh_pat",
            "myGithubToken",
            "GH-PAT",
            "ClickUp_Key",
            "CLICKUP_PAT",
            "ANTHROPIC_API_KEY",
            "claudeApiKey",
            "OPENAI_API_KEY",
            "GOOGLE_API_KEY",
            "geminiApiKey",
            "G\u{131}THUB_TOKEN",
            "\u{131}_GH_TOKEN",
            "SETTING_00001",
            "PORT",
            "",
        ]
        .map(String::from)
        .to_vec();
        for text in crate::secrets::tests::generated_inputs().iter().take(5_000) {
            for word in [
                "GITHUB",
                "GH",
                "CLICKUP",
                "ANTHROPIC",
                "CLAUDE",
                "OPENAI",
                "GOOGLE",
                "GEMINI",
            ] {
                keys.push(format!("{word}{text}"));
                keys.push(format!("{text}_{}", word.to_lowercase()));
            }
            keys.push(text.clone());
        }
        let mut named = 0;
        for key in &keys {
            let expected = family_by_parts(key);
            assert_eq!(family_by_key(key), expected, "{key:?}");
            named += usize::from(expected.is_some());
        }
        assert!(named > 1_000, "{named}");
    }
}
