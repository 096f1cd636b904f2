//! The digest of what a build depends on besides its settings: the `.dockerignore` forms
//! timmy judges ([`Ignore`]), the walk of the files the context sends, and the images the
//! Dockerfile's `FROM` lines name ([`from_images`]). Whatever is in doubt (a form not judged,
//! a symlink sent, an image the digest cannot see) is an error that says why.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::hex;

/// A `.dockerignore` in the forms this repository uses: `*`, `!dir/`, `!file`, plain paths,
/// comments and blank lines. Any other form (wildcards inside a path, `?`, `[`, `**`, `..`,
/// a leading `/`) is refused: what the builder would send is then in doubt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    /// (excluded?, pattern): `*` as the empty path, which every path lies under.
    rules: Vec<(bool, PathBuf)>,
}

impl Ignore {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut rules = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exclude, pattern) = match line.strip_prefix('!') {
                Some(rest) => (false, rest.trim()),
                None => (true, line),
            };
            if pattern == "*" {
                rules.push((exclude, PathBuf::new()));
                continue;
            }
            let plain = !pattern.is_empty()
                && !pattern.starts_with('/')
                && !pattern.contains(['*', '?', '[', '\\'])
                && Path::new(pattern)
                    .components()
                    .all(|c| matches!(c, Component::Normal(_)));
            if !plain {
                return Err(format!(
                    ".dockerignore line {}: `{line}` is a form timmy does not judge",
                    n + 1
                ));
            }
            rules.push((exclude, PathBuf::from(pattern.trim_end_matches('/'))));
        }
        Ok(Self { rules })
    }

    /// Does the builder send `rel` (a file's path inside the context)? The last rule that
    /// names the path or a folder above it decides.
    pub fn sends(&self, rel: &Path) -> bool {
        self.rules
            .iter()
            .rev()
            .find(|(_, p)| rel.starts_with(p))
            .is_none_or(|(exclude, _)| !exclude)
    }
}

/// The digest of what a build depends on besides its settings (those are in the configuration
/// digest): the Dockerfile's text, each file the context sends (its path and content, in path
/// order) and the image IDs of the `FROM` images. An error says why it cannot be known (a
/// symlink, a special file or an unreadable one in the context, an ignore form not judged).
pub fn inputs_digest(
    context: &Path,
    dockerfile: &[u8],
    ignore: Option<&str>,
    from_ids: &[String],
) -> Result<String, String> {
    let ignore = match ignore {
        Some(text) => Ignore::parse(text)?,
        None => Ignore { rules: Vec::new() },
    };
    let mut files = Vec::new();
    walk(context, Path::new(""), &ignore, &mut files)?;
    files.sort();
    let mut h = Sha256::new();
    h.update(b"dockerfile\0");
    h.update(dockerfile);
    for rel in &files {
        let bytes = std::fs::read(context.join(rel))
            .map_err(|e| format!("{} cannot be read: {e}", rel.display()))?;
        h.update(b"\0file\0");
        h.update(rel.as_os_str().as_encoded_bytes());
        h.update(b"\0");
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    for id in from_ids {
        h.update(b"\0from\0");
        h.update(id.as_bytes());
    }
    Ok(hex(&h.finalize()))
}

fn walk(root: &Path, rel: &Path, ignore: &Ignore, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let dir = root.join(rel);
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("{} cannot be listed: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{} cannot be listed: {e}", dir.display()))?;
        let path = rel.join(entry.file_name());
        let kind = entry
            .file_type()
            .map_err(|e| format!("{} cannot be read: {e}", path.display()))?;
        if kind.is_dir() {
            // A folder may hold a file an exception sends again: look inside every one.
            walk(root, &path, ignore, files)?;
        } else if ignore.sends(&path) {
            if !kind.is_file() {
                return Err(format!(
                    "{} is sent and is not a regular file",
                    path.display()
                ));
            }
            files.push(path);
        }
    }
    Ok(())
}

/// The images a Dockerfile's `FROM` lines name, with `${ARG}` / `$ARG` taken from the build
/// arguments or the `ARG` defaults before the first `FROM`; a `FROM` naming an earlier stage
/// is not an image. Lines continued with `\` are joined first. An error for what is not
/// understood, or brings in content the digest cannot see: `FROM --platform`, a variable
/// without a value, a `# syntax=` frontend, `COPY --from=` an image (not a stage), a
/// `RUN --mount` from another image, `ADD` of a URL or a git repository.
pub fn from_images(
    dockerfile: &str,
    args: &BTreeMap<String, String>,
) -> Result<Vec<String>, String> {
    let mut defaults: BTreeMap<String, String> = BTreeMap::new();
    let mut stages: Vec<String> = Vec::new();
    let mut images = Vec::new();
    let mut froms = 0_usize;
    for line in logical_lines(dockerfile) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') {
            let directive = line.trim_start_matches('#').replace(' ', "");
            if froms == 0 && directive.to_ascii_lowercase().starts_with("syntax=") {
                return Err(format!(
                    "`{line}` picks a builder frontend timmy does not judge"
                ));
            }
            continue;
        }
        let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let word = word.to_ascii_uppercase();
        let rest = rest.trim();
        let unjudged = || format!("`{line}` is a {word} timmy does not judge");
        match word.as_str() {
            "ARG" if froms == 0 => {
                let (name, value) = rest.split_once('=').unwrap_or((rest, ""));
                let value = value.trim_matches('"');
                if !value.is_empty() {
                    defaults.insert(name.trim().to_string(), value.to_string());
                }
            }
            "FROM" => {
                froms += 1;
                let mut parts = rest.split_whitespace();
                let image = parts.next().unwrap_or_default();
                if image.starts_with("--") || image.is_empty() {
                    return Err(unjudged());
                }
                let image = substitute(image, args, &defaults)
                    .ok_or_else(|| format!("`{line}` names a variable without a value"))?;
                if !stages.iter().any(|s| s.eq_ignore_ascii_case(&image)) && image != "scratch" {
                    images.push(image);
                }
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(as_), Some(stage), None) if as_.eq_ignore_ascii_case("AS") => {
                        stages.push(stage.to_string());
                    }
                    (None, None, None) => {}
                    _ => return Err(unjudged()),
                }
            }
            "COPY" | "ADD" => {
                for flag in rest.split_whitespace().take_while(|w| w.starts_with("--")) {
                    if let Some(from) = flag.strip_prefix("--from=") {
                        let stage = stages.iter().any(|s| s.eq_ignore_ascii_case(from))
                            || from.parse::<usize>().is_ok_and(|n| n + 1 < froms);
                        if !stage {
                            return Err(unjudged());
                        }
                    }
                }
                if word == "ADD" && (rest.contains("://") || rest.contains("git@")) {
                    return Err(unjudged());
                }
            }
            "RUN" if rest.contains("--mount") && rest.contains("from=") => {
                return Err(unjudged());
            }
            _ => {}
        }
    }
    if froms == 0 {
        return Err("the Dockerfile has no FROM".to_string());
    }
    Ok(images)
}

/// The Dockerfile's lines with each `\`-continued line joined to the next.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if let Some(head) = line.trim_end().strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
        } else {
            current.push_str(line);
            lines.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

fn substitute(
    word: &str,
    args: &BTreeMap<String, String>,
    defaults: &BTreeMap<String, String>,
) -> Option<String> {
    let mut out = String::new();
    let mut rest = word;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, tail) = if let Some(inner) = after.strip_prefix('{') {
            let end = inner.find('}')?;
            let name = &inner[..end];
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return None;
            }
            (name, &inner[end + 1..])
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        let value = args.get(name).or_else(|| defaults.get(name))?;
        if value.is_empty() {
            return None;
        }
        out.push_str(value);
        rest = tail;
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerignore_forms_this_repository_uses() {
        let ig = Ignore::parse("# c\n*\n!app/\n!scripts/healthcheck.js\n\n").unwrap();
        for (path, sent) in [
            ("app/server.js", true),
            ("app/test/a.js", true),
            ("apps/x", false),
            ("scripts/healthcheck.js", true),
            ("scripts/bench.sh", false),
            (".env", false),
            ("target/debug/timmy", false),
        ] {
            assert_eq!(ig.sends(Path::new(path)), sent, "{path}");
        }
        let ig = Ignore::parse("target/\nnode_modules\n!target/keep").unwrap();
        assert!(ig.sends(Path::new("app/x")));
        assert!(!ig.sends(Path::new("target/x")));
        assert!(ig.sends(Path::new("target/keep")));
        assert!(!ig.sends(Path::new("node_modules/a/b")));
        for bad in ["*.md", "**/x", "a?", "[ab]", "/abs", "../up", "!", "a/*/b"] {
            assert_eq!(
                Ignore::parse(bad).unwrap_err(),
                format!(".dockerignore line 1: `{bad}` is a form timmy does not judge"),
            );
        }
    }

    #[test]
    fn inputs_digest_follows_what_the_context_sends() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("app")).unwrap();
        std::fs::create_dir_all(root.join("scripts")).unwrap();
        std::fs::write(root.join("app/server.js"), "v1").unwrap();
        std::fs::write(root.join("scripts/healthcheck.js"), "h").unwrap();
        std::fs::write(root.join("scripts/bench.sh"), "b").unwrap();
        std::fs::write(root.join(".env"), "SECRET=1").unwrap();
        let ignore = "*\n!app/\n!scripts/healthcheck.js\n";
        let ids = vec!["sha256:node".to_string()];
        let digest = || inputs_digest(root, b"FROM x", Some(ignore), &ids).unwrap();
        let first = digest();
        assert_eq!(first, digest());
        // Files the context does not send change nothing.
        std::fs::write(root.join(".env"), "SECRET=2").unwrap();
        std::fs::write(root.join("scripts/bench.sh"), "b2").unwrap();
        std::fs::create_dir_all(root.join("target")).unwrap();
        std::fs::write(root.join("target/t"), "t").unwrap();
        assert_eq!(digest(), first);
        // A sent file's content, a new sent file, the Dockerfile, a FROM image: each changes it.
        std::fs::write(root.join("app/server.js"), "v2").unwrap();
        let edited = digest();
        assert_ne!(edited, first);
        std::fs::write(root.join("app/new.js"), "n").unwrap();
        let added = digest();
        assert_ne!(added, edited);
        assert_ne!(
            inputs_digest(root, b"FROM y", Some(ignore), &ids).unwrap(),
            added
        );
        assert_ne!(
            inputs_digest(root, b"FROM x", Some(ignore), &["sha256:other".into()]).unwrap(),
            added
        );
        assert_eq!(
            inputs_digest(root, b"FROM x", Some("**/x"), &ids).unwrap_err(),
            ".dockerignore line 1: `**/x` is a form timmy does not judge"
        );
        std::os::unix::fs::symlink("/etc/hostname", root.join("app/link")).unwrap();
        assert_eq!(
            inputs_digest(root, b"FROM x", Some(ignore), &ids).unwrap_err(),
            "app/link is sent and is not a regular file"
        );
    }

    #[test]
    fn from_images_resolve_args_and_skip_stages() {
        let args = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect()
        };
        let repo = "ARG NODE_IMAGE=node:20-slim\nFROM ${NODE_IMAGE}\nRUN x\n";
        assert_eq!(from_images(repo, &args(&[])).unwrap(), ["node:20-slim"]);
        assert_eq!(
            from_images(repo, &args(&[("NODE_IMAGE", "timmy-offline/node:20")])).unwrap(),
            ["timmy-offline/node:20"]
        );
        assert_eq!(
            from_images(
                "FROM a:1 AS build\nFROM $BASE\nCOPY --from=build / /\nFROM build\nFROM scratch\n",
                &args(&[("BASE", "b:2")])
            )
            .unwrap(),
            ["a:1", "b:2"]
        );
        assert_eq!(
            from_images(
                "FROM a:1 \\\n  AS build\nFROM b\nCOPY --from=build /x /x\nCOPY --from=0 /y /y\n",
                &args(&[])
            )
            .unwrap(),
            ["a:1", "b"]
        );
        for (text, err) in [
            (
                "FROM $NOPE\n",
                "`FROM $NOPE` names a variable without a value",
            ),
            (
                "FROM --platform=linux/amd64 a\n",
                "`FROM --platform=linux/amd64 a` is a FROM timmy does not judge",
            ),
            (
                "# syntax=docker/dockerfile:1\nFROM a\n",
                "`# syntax=docker/dockerfile:1` picks a builder frontend timmy does not judge",
            ),
            (
                "FROM a\nCOPY --from=other:1 /x /x\n",
                "`COPY --from=other:1 /x /x` is a COPY timmy does not judge",
            ),
            (
                "FROM a\nCOPY --chown=1 \\\n  --from=other:1 /x /x\n",
                "`COPY --chown=1    --from=other:1 /x /x` is a COPY timmy does not judge",
            ),
            (
                "FROM a\nCOPY --from=0 /x /x\n",
                "`COPY --from=0 /x /x` is a COPY timmy does not judge",
            ),
            (
                "FROM a\nADD https://example.com/x /x\n",
                "`ADD https://example.com/x /x` is a ADD timmy does not judge",
            ),
            (
                "FROM a\nRUN --mount=type=bind,from=b:1,target=/b true\n",
                "`RUN --mount=type=bind,from=b:1,target=/b true` is a RUN timmy does not judge",
            ),
            (
                "FROM ${A:-x}\n",
                "`FROM ${A:-x}` names a variable without a value",
            ),
            ("RUN x\n", "the Dockerfile has no FROM"),
        ] {
            assert_eq!(from_images(text, &args(&[])).unwrap_err(), err, "{text}");
        }
    }
}
