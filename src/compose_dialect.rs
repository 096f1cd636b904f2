//! Where Compose versions read `.env` differently, told for the version this machine has.
//! Compose 2.29.3–2.29.7 (compose-go's dotenv of that time) refuse `-` in a key, which
//! earlier and later versions accept; timmy reads `.env` as 2.26 and 2.30+ do. Only when a
//! key holds a `-` does `check` ask the installed Compose its version (one process), so a
//! `.env` without one costs nothing.

use crate::check::{Finding, Level};
use crate::dotenv;

/// The Compose versions whose `.env` reader refuses `-` in keys.
pub fn refuses_dashes(version: (u32, u32, u32)) -> bool {
    ((2, 29, 3)..=(2, 29, 7)).contains(&version)
}

/// Whether any line's text before its first `=` holds a `-`: a cheap look (no parse) that
/// is true for every `.env` with a dashed key.
pub fn may_have_dashed_key(text: &str) -> bool {
    // One pass over the bytes: a `-` seen on this line before any `=`, then an `=`.
    let (mut in_key, mut dash) = (true, false);
    for &b in text.as_bytes() {
        match b {
            b'\n' => (in_key, dash) = (true, false),
            b'-' if in_key => dash = true,
            b'=' if in_key && dash => return true,
            b'=' => in_key = false,
            _ => {}
        }
    }
    false
}

/// What Compose `version` (as `docker compose version --short` prints it) will do with the
/// dashed keys of `.env`: one error per key for the versions that refuse them, else nothing.
pub fn findings(env_text: &str, version: &str) -> Vec<Finding> {
    let Some(v) = crate::doctor::compose_version(version) else {
        return Vec::new();
    };
    if !refuses_dashes(v) {
        return Vec::new();
    }
    let Ok(entries) = dotenv::parse(env_text, &|_| None) else {
        return Vec::new();
    };
    let version = version.trim();
    entries
        .iter()
        .filter(|e| e.key.contains('-'))
        .map(|e| Finding {
            file: ".env".to_owned(),
            line: Some(e.line),
            level: Level::Error,
            message: format!(
                "Compose {version} refuses the key {:?}: Compose 2.29.3 to 2.29.7 allow no `-` in .env keys",
                e.key
            ),
            hint: Some(
                "rename the key, or update Compose to 2.30 or later (which reads it as 2.29.2 and earlier do)"
                    .to_owned(),
            ),
            key: Some(e.key.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_versions_that_refuse_dashes() {
        for v in [(2, 29, 3), (2, 29, 5), (2, 29, 7)] {
            assert!(refuses_dashes(v), "{v:?}");
        }
        for v in [(2, 26, 1), (2, 29, 2), (2, 29, 8), (2, 30, 0), (2, 40, 3)] {
            assert!(!refuses_dashes(v), "{v:?}");
        }
    }

    #[test]
    fn cheap_look_for_dashed_keys() {
        assert!(may_have_dashed_key("A=1\nMY-KEY=2\n"));
        assert!(!may_have_dashed_key("A=plain-value # a-b\n"));
        assert!(!may_have_dashed_key("A=plain-value-1\nB=x\n"));
        assert!(!may_have_dashed_key("# dashed-word in a comment\n"));
        // A false alarm costs one version query; `findings` then parses and finds no key.
        assert!(may_have_dashed_key("# x-y=1\n"));
        assert!(findings("# x-y=1\n", "2.29.5").is_empty());
        // The same answer as the rule by lines on every placement of `-`, `=` and newlines.
        let by_lines = |text: &str| {
            text.lines()
                .any(|l| l.split_once('=').is_some_and(|(key, _)| key.contains('-')))
        };
        let pieces = ["-", "=", "\n", "\r\n", "a", "#", " "];
        let mut texts = vec![String::new()];
        for _ in 0..5 {
            texts = texts
                .iter()
                .flat_map(|t| pieces.iter().map(move |p| format!("{t}{p}")))
                .collect();
            for text in &texts {
                assert_eq!(may_have_dashed_key(text), by_lines(text), "{text:?}");
            }
        }
    }

    #[test]
    fn findings_follow_the_version() {
        let env = "A=1\nMY-KEY=2\nB-2=3\n";
        let found = findings(env, "2.29.5\n");
        let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                ".env:2: Compose 2.29.5 refuses the key \"MY-KEY\": Compose 2.29.3 to 2.29.7 allow no `-` in .env keys",
                ".env:3: Compose 2.29.5 refuses the key \"B-2\": Compose 2.29.3 to 2.29.7 allow no `-` in .env keys",
            ]
        );
        assert!(found.iter().all(|f| f.level == Level::Error));
        for accepting in ["2.26.1-4", "2.29.2", "2.30.0", "2.40.3-3", "dev"] {
            assert!(findings(env, accepting).is_empty(), "{accepting}");
        }
        assert!(findings("A=1\n", "2.29.5").is_empty());
    }
}
