//! Compose's own verdict on a stack (`config --quiet`), asked once timmy's checks pass, and
//! remembered in the user's cache folder while nothing it depends on changes.

use std::fs;
use std::path::Path;

use super::{read_compose_files, read_env_file, report, shell_lookup};
use crate::check::Finding;
use crate::compose;
use crate::docker::Docker;
use crate::dotenv;
use crate::exit::UserError;
use crate::schema;
use crate::stack::Stack;

/// Compose's own validation of `stack` (`config --quiet`: schema, interpolation, merge), as
/// findings located by [`schema`]. Asked only once timmy's own checks found no error, so a bad
/// value never reaches docker. It costs one Compose process, about 90 ms on this project
/// (Compose 2.26.1; longer for a long `.env`), so an accepted verdict is remembered
/// ([`Remembered`]) and the query is skipped while nothing it depends on changes.
pub fn compose_findings(docker: &Docker, stack: &Stack) -> anyhow::Result<Vec<Finding>> {
    let files = read_compose_files(stack)?;
    let inv = compose::config_quiet(stack);
    let remembered = Remembered::new(docker, stack, &inv, &files)?;
    if remembered.as_ref().is_some_and(Remembered::holds) {
        return Ok(Vec::new());
    }
    let out = docker.query(&inv)?;
    if out.code == 0 {
        if let Some(r) = remembered {
            r.store();
        }
        return Ok(Vec::new());
    }
    Ok(schema::findings(out.code, &out.stderr, &stack.root, &files))
}

/// An accepted `config --quiet` verdict, remembered in the user's cache folder (never in the
/// project: a check changes no file of it) as one file per project root and environment that
/// holds a hash of everything the verdict depends on: the docker program and the command line,
/// the compose files, `.env`, and the shell's values of the variables they name and of
/// `COMPOSE_*` / `DOCKER_*`. Any change, or a lost cache, means asking Compose again; a
/// stale entry could only hide what `up` itself then reports, since Compose validates again
/// before it starts anything.
struct Remembered {
    file: std::path::PathBuf,
    key: String,
}

/// The names of the shell's variables that stand in `text` as a word (see [`words_among`]).
fn shell_names_in(text: &str) -> Vec<String> {
    words_among(
        text,
        std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()),
    )
}

/// The `names` that stand in `text` as a word between characters that cannot be part of a
/// `.env` key (letters, digits, `_.-[]`), in the order given.
fn words_among(text: &str, names: impl Iterator<Item = String>) -> Vec<String> {
    let key_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']');
    // Each name is looked for in the text (a vectorised search; the shell has a few dozen),
    // and an occurrence counts where no key character touches it. A name starts and ends with
    // a whole character, so it matches only at character boundaries.
    let bytes = text.as_bytes();
    let a_word = |name: &str| {
        !name.is_empty()
            && name.chars().all(key_char)
            && memchr::memmem::find_iter(bytes, name.as_bytes()).any(|at| {
                !text[..at].chars().next_back().is_some_and(key_char)
                    && !text[at + name.len()..].chars().next().is_some_and(key_char)
            })
    };
    names.filter(|name| a_word(name)).collect()
}

impl Remembered {
    fn new(
        docker: &Docker,
        stack: &Stack,
        inv: &compose::Invocation,
        files: &[(String, String)],
    ) -> Result<Option<Self>, UserError> {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let cache = shell_lookup("XDG_CACHE_HOME")
            .filter(|d| Path::new(d).is_absolute())
            .map(std::path::PathBuf::from)
            .or_else(|| shell_lookup("HOME").map(|h| Path::new(&h).join(".cache")));
        let Some(cache) = cache else { return Ok(None) };
        let env_text = read_env_file(&stack.root)?.text.unwrap_or_default();
        // The shell's variables that `.env` names anywhere as a word: its keys (a bare `KEY`
        // line takes the shell's value) and the `${VAR}` its values read, without parsing it.
        let mut names: Vec<String> = files
            .iter()
            .filter_map(|(_, text)| dotenv::variables(text).ok())
            .flatten()
            .map(|r| r.name)
            .chain(shell_names_in(&env_text))
            .chain(
                std::env::vars_os()
                    .filter_map(|(k, _)| k.into_string().ok())
                    .filter(|k| k.starts_with("COMPOSE_") || k.starts_with("DOCKER_")),
            )
            .collect();
        names.sort();
        names.dedup();
        let mut h = DefaultHasher::new();
        (
            docker.program.as_os_str(),
            inv.to_string(),
            files,
            &env_text,
        )
            .hash(&mut h);
        for name in &names {
            (name, shell_lookup(name)).hash(&mut h);
        }
        let key = format!("{:016x}", h.finish());
        let mut place = DefaultHasher::new();
        (&stack.root, &stack.env).hash(&mut place);
        let file = cache
            .join("timmy")
            .join(format!("compose-ok-{:016x}", place.finish()));
        Ok(Some(Self { file, key }))
    }

    fn holds(&self) -> bool {
        fs::read_to_string(&self.file).is_ok_and(|k| k.trim() == self.key)
    }

    /// Best effort: a cache that cannot be written only means asking Compose next time.
    fn store(&self) {
        if let Some(dir) = self.file.parent()
            && fs::create_dir_all(dir).is_ok()
        {
            let _ = fs::write(&self.file, format!("{}\n", self.key));
        }
    }
}

/// [`gate`]'s second half, once docker is known to be there: stop before anything runs when
/// Compose refuses the stack.
pub fn compose_gate(docker: &Docker, stack: &Stack) -> anyhow::Result<()> {
    let found = compose_findings(docker, stack)?;
    report(&found, false, Some("nothing was started"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::words_among;

    #[track_caller]
    fn case(text: &str, names: &[&str], expected: &[&str]) {
        let found = words_among(text, names.iter().map(|n| (*n).to_string()));
        assert_eq!(found, expected, "{text:?}");
    }

    #[test]
    fn a_name_counts_only_as_a_whole_word() {
        let names = ["_", "HOME", "PATH", "NODE_ENV", "A B", "", "X.Y", "ÉTÉ"];
        case("", &names, &[]);
        case("NODE_ENV=production\n", &names, &["NODE_ENV"]);
        // `_` inside every key, `HOME` and `PATH` inside longer words: none of them.
        case("HOME_DIR=x\nMY_PATH=${PATHS}\n", &names, &[]);
        case("A=${HOME}/bin:$PATH # _\n", &names, &["_", "HOME", "PATH"]);
        // Letters, digits and `_.-[]` join a word; other characters part it.
        case("HOME.x PATH-1 [NODE_ENV] X.Y\n", &names, &["X.Y"]);
        case("é{HOME}ÉTÉ·PATH", &names, &["HOME", "PATH", "ÉTÉ"]);
        case("HOMEé PATHÉ éNODE_ENV ÉTÉS", &names, &[]);
        // A name with a character no key holds is never a word; an empty one neither.
        case("A B A=B", &names, &[]);
        case("HOME", &["HOME", "HOME"], &["HOME", "HOME"]);
    }
}
