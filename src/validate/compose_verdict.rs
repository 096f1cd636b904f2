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

/// The names of the shell's variables that stand in `text` as a word between characters that
/// cannot be part of a `.env` key (letters, digits, `_.-[]`).
fn shell_names_in(text: &str) -> Vec<String> {
    let shell: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .collect();
    // The names by their first byte: a word is compared only with those that start like it.
    let mut by_first: Vec<Vec<usize>> = vec![Vec::new(); 256];
    for (i, name) in shell.iter().enumerate() {
        if let Some(first) = name.bytes().next() {
            by_first[usize::from(first)].push(i);
        }
    }
    let mut found = vec![false; shell.len()];
    let mut see = |w: &str| {
        if let Some(first) = w.bytes().next() {
            for &i in &by_first[usize::from(first)] {
                found[i] |= shell[i] == w;
            }
        }
    };
    let key_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']');
    // Cut at ASCII separators byte by byte (always a character boundary); a piece with other
    // characters is cut again by character.
    let mut separator = [false; 128];
    for (b, is) in (0u8..).zip(separator.iter_mut()) {
        *is = !key_char(char::from(b));
    }
    let bytes = text.as_bytes();
    let (mut start, mut other) = (0, false);
    for i in 0..=bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(b' ');
        if b >= 0x80 {
            other = true;
            continue;
        }
        if !separator[usize::from(b)] {
            continue;
        }
        let piece = &text[start..i];
        if other {
            piece.split(|c: char| !key_char(c)).for_each(&mut see);
        } else {
            see(piece);
        }
        (start, other) = (i + 1, false);
    }
    shell
        .into_iter()
        .zip(found)
        .filter_map(|(name, found)| found.then_some(name))
        .collect()
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
