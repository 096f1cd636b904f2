//! Which environment needs which key, as `.env.example` declares it with a `#:` directive on
//! the comment line(s) above the key:
//!
//! ```text
//! #: required-in=prod  missing="calls to OpenAI will fail"
//! OPENAI_API_KEY=sk-your_key_here
//! ```
//!
//! `required-in` lists the environments (comma-separated) that cannot run without the key;
//! `missing` says what does not work without it. A key without a directive is required in every
//! environment. In `prod` every secret (see [`secrets::is_secret_key`]) is required whatever its
//! directive says. Where a key is not required, an absent, empty or placeholder value is a
//! warning naming what will not work, not an error. Pure: reads text, prints nothing.

use std::collections::HashMap;

use crate::secrets;

/// The environment in which every secret is required.
pub const PROD: &str = "prod";

/// What a directive says about one key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Requirement {
    /// Environments that need the key; `None` means every environment.
    pub required_in: Option<Vec<String>>,
    /// What will not work without the key.
    pub missing: Option<String>,
}

/// A directive timmy cannot read, with the line of `.env.example` it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectiveError {
    pub line: usize,
    pub message: String,
    pub hint: String,
}

/// Every key's requirement, read from `.env.example`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirements {
    by_key: HashMap<String, Requirement>,
}

impl Requirements {
    /// Read the `#:` directives of `.env.example`'s text. Each applies to the next key line.
    pub fn parse(example: &str) -> (Self, Vec<DirectiveError>) {
        let mut by_key = HashMap::new();
        let mut errors = Vec::new();
        let mut pending: Option<(usize, Requirement)> = None;
        for (i, line) in example.lines().enumerate() {
            let number = i + 1;
            let trimmed = line.trim();
            if let Some(body) = trimmed.strip_prefix("#:") {
                if let Some((earlier, _)) = pending.take() {
                    errors.push(DirectiveError {
                        line: earlier,
                        message:
                            "a `#:` directive must be followed by its key, not by another directive"
                                .to_owned(),
                        hint: "put all attributes of a key on one `#:` line".to_owned(),
                    });
                }
                match parse_directive(body) {
                    Ok(req) => pending = Some((number, req)),
                    Err(message) => errors.push(DirectiveError {
                        line: number,
                        message,
                        hint: DIRECTIVE_HINT.to_owned(),
                    }),
                }
                continue;
            }
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let key = trimmed
                .strip_prefix("export ")
                .unwrap_or(trimmed)
                .split(['=', ':'])
                .next()
                .unwrap_or("")
                .trim();
            if let Some((_, req)) = pending.take()
                && !key.is_empty()
            {
                by_key.insert(key.to_owned(), req);
            }
        }
        if let Some((line, _)) = pending {
            errors.push(DirectiveError {
                line,
                message: "a `#:` directive with no key after it".to_owned(),
                hint: "put the directive on the line above the key it describes".to_owned(),
            });
        }
        (Self { by_key }, errors)
    }

    /// True when no key has a directive: every environment requires every key.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// `None` when `env` needs `key` (then a missing or placeholder value is an error);
    /// otherwise what will not work without it. `env` `None` means "every environment".
    #[must_use]
    pub fn relaxed(&self, key: &str, env: Option<&str>) -> Option<String> {
        let env = env?;
        if env == PROD && secrets::is_secret_key(key) {
            return None;
        }
        let req = self.by_key.get(key)?;
        let needed_in = req.required_in.as_ref()?;
        if needed_in.iter().any(|e| e == env) {
            return None;
        }
        Some(req.missing.clone().unwrap_or_else(|| {
            format!(
                "what needs {key} will not work (required in {})",
                needed_in.join(", ")
            )
        }))
    }

    /// Required here because a directive names this env (not by default): a placeholder of a
    /// plain setting is then an error too.
    #[must_use]
    pub fn declared_in(&self, key: &str, env: Option<&str>) -> bool {
        let Some(env) = env else { return false };
        self.by_key
            .get(key)
            .and_then(|r| r.required_in.as_ref())
            .is_some_and(|envs| envs.iter().any(|e| e == env))
    }

    /// The environments that need `key`, for a hint.
    #[must_use]
    pub fn needed_in(&self, key: &str) -> Option<String> {
        let mut envs = self.by_key.get(key)?.required_in.clone()?;
        if secrets::is_secret_key(key) && !envs.iter().any(|e| e == PROD) {
            envs.push(PROD.to_owned());
        }
        Some(envs.join(", "))
    }
}

const DIRECTIVE_HINT: &str =
    "write e.g. `#: required-in=prod missing=\"calls to OpenAI will fail\"` (timmy check --help)";

/// `required-in=a,b missing="text"`: space-separated attributes, a value bare or in double
/// quotes (no escapes).
fn parse_directive(body: &str) -> Result<Requirement, String> {
    let mut req = Requirement::default();
    let mut rest = body.trim_start();
    while !rest.is_empty() {
        let Some((name, after)) = rest.split_once('=') else {
            return Err(format!(
                "`{}` has no `=value`",
                rest.split_whitespace().next().unwrap_or(rest)
            ));
        };
        let name = name.trim();
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or_else(|| format!("the quote after `{name}=` is never closed"))?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match name {
            "required-in" => {
                let envs: Vec<String> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned)
                    .collect();
                if envs.is_empty() {
                    return Err("`required-in=` names no environment".to_owned());
                }
                req.required_in = Some(envs);
            }
            "missing" => req.missing = Some(value.to_owned()),
            other => return Err(format!("unknown directive attribute `{other}`")),
        }
        rest = after.trim_start();
    }
    if req.required_in.is_none() && req.missing.is_none() {
        return Err("an empty `#:` directive".to_owned());
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "\
# OpenAI
#: required-in=prod  missing=\"calls to OpenAI will fail\"
# the key itself (sk-...)
OPENAI_API_KEY=sk-your_key_here
#: required-in=prod,staging
GITHUB_REPO=your_org/your_repo
#: missing=\"nothing\"
LOG_LEVEL=info
NODE_ENV=production
";

    #[test]
    fn directives_apply_to_the_next_key() {
        let (reqs, errors) = Requirements::parse(EXAMPLE);
        assert_eq!(errors, []);
        assert_eq!(
            reqs.relaxed("OPENAI_API_KEY", Some("dev")).as_deref(),
            Some("calls to OpenAI will fail")
        );
        // prod requires every secret, and a listed env requires the key
        assert_eq!(reqs.relaxed("OPENAI_API_KEY", Some("prod")), None);
        assert_eq!(reqs.relaxed("GITHUB_REPO", Some("staging")), None);
        assert_eq!(
            reqs.relaxed("GITHUB_REPO", Some("test")).as_deref(),
            Some("what needs GITHUB_REPO will not work (required in prod, staging)")
        );
        // no required-in, no directive, no env: required
        assert_eq!(reqs.relaxed("LOG_LEVEL", Some("dev")), None);
        assert_eq!(reqs.relaxed("NODE_ENV", Some("dev")), None);
        assert_eq!(reqs.relaxed("OPENAI_API_KEY", None), None);
        assert!(reqs.declared_in("GITHUB_REPO", Some("prod")));
        assert!(!reqs.declared_in("NODE_ENV", Some("prod")));
        assert_eq!(reqs.needed_in("OPENAI_API_KEY").as_deref(), Some("prod"));
    }

    #[test]
    fn prod_requires_a_secret_whatever_the_directive_says() {
        let (reqs, _) = Requirements::parse("#: required-in=dev\nGITHUB_TOKEN=x\n");
        assert_eq!(reqs.relaxed("GITHUB_TOKEN", Some("prod")), None);
        assert!(reqs.relaxed("GITHUB_TOKEN", Some("test")).is_some());
        assert_eq!(reqs.needed_in("GITHUB_TOKEN").as_deref(), Some("dev, prod"));
    }

    #[track_caller]
    fn bad(text: &str, line: usize, message: &str) {
        let (_, errors) = Requirements::parse(text);
        assert_eq!(
            errors
                .iter()
                .map(|e| (e.line, e.message.as_str()))
                .collect::<Vec<_>>(),
            [(line, message)]
        );
    }

    #[test]
    fn unreadable_directives_are_reported_with_their_line() {
        bad(
            "A=1\n#: needed=prod\nB=2\n",
            2,
            "unknown directive attribute `needed`",
        );
        bad("#: required-in\nB=2\n", 1, "`required-in` has no `=value`");
        bad(
            "#: missing=\"open\nB=2\n",
            1,
            "the quote after `missing=` is never closed",
        );
        bad(
            "#: required-in=\nB=2\n",
            1,
            "`required-in=` names no environment",
        );
        bad("#:\nB=2\n", 1, "an empty `#:` directive");
        bad(
            "A=1\n#: required-in=prod\n",
            2,
            "a `#:` directive with no key after it",
        );
        bad(
            "#: required-in=prod\n#: missing=x\nB=2\n",
            1,
            "a `#:` directive must be followed by its key, not by another directive",
        );
    }
}
