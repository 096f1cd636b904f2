//! Which stacks belong to this checkout. Compose labels every container with its project name
//! and with the folder it was started from (`com.docker.compose.project.working_dir`); timmy
//! always passes the project root as that folder, so the label tells this checkout's containers
//! from those of another checkout that uses the same project name. [`stacks_here`] asks the
//! engine (through [`Engine`]); everything else here is a pure decision on what it answered,
//! with the messages users see.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

use crate::compose::{LABEL_PROJECT, LABEL_WORKING_DIR};
use crate::docker::Docker;
use crate::engine::Engine;
use crate::exit::UserError;
use crate::project::Project;
use crate::stack;
use crate::status::{self, Container, State};

/// The stacks of `project` that this checkout started: one label query on its working dir.
/// `name_override` is `-p`.
pub fn stacks_here(
    engine: &Engine,
    docker: &Docker,
    project: &Project,
    name_override: Option<&str>,
) -> Result<Vec<Found>> {
    let names = project
        .envs
        .iter()
        .map(|e| {
            Ok((
                e.clone(),
                stack::project_name(&project.root, e, name_override)?,
            ))
        })
        .collect::<Result<Vec<_>, UserError>>()?;
    let label = working_dir_label(&project.root);
    let ours: Vec<Container> = engine
        .containers_with(docker, &project.root, &label, false)?
        .into_iter()
        .filter(|c| is_ours(c, &project.root))
        .collect();
    let mut found = stacks(&ours, &names);
    // With -p, only that base's stacks: `timmy -p a down` must not stop what `-p b` started.
    if name_override.is_some() {
        found.retain(|f| names.iter().any(|(_, n)| *n == f.name));
    }
    Ok(found)
}

/// The label filter for the containers of project `name`.
pub fn project_label(name: &str) -> String {
    format!("{LABEL_PROJECT}={name}")
}

/// The label filter for the containers this checkout started.
pub fn working_dir_label(root: &Path) -> String {
    format!("{LABEL_WORKING_DIR}={}", root.display())
}

/// Was `c` started from this checkout? A container without the label (not created by
/// Compose, only labelled with the project) counts as this checkout's: nobody else claims it.
/// Compose records a root that is not UTF-8 with U+FFFD for each such byte (measured with
/// Compose 2.26.1), so that form is this checkout's too.
pub fn is_ours(c: &Container, root: &Path) -> bool {
    if c.working_dir.is_empty()
        || Path::new(&c.working_dir) == root
        || (root.to_str().is_none() && c.working_dir == root.to_string_lossy())
    {
        return true;
    }
    match (
        Path::new(&c.working_dir).canonicalize(),
        root.canonicalize(),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The containers under one project name, split into this checkout's and another's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    pub ours: Vec<Container>,
    pub theirs: Vec<Container>,
}

impl Split {
    pub fn new(containers: Vec<Container>, root: &Path) -> Self {
        let (ours, theirs) = containers.into_iter().partition(|c| is_ours(c, root));
        Self { ours, theirs }
    }

    /// The other checkout's folder, when there is one.
    pub fn other(&self) -> Option<&str> {
        self.theirs.first().map(|c| c.working_dir.as_str())
    }
}

/// One stack of this checkout: a project name, the environment it was started as (from the
/// compose files on its labels, else from the name), and whether anything of it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub name: String,
    pub env: Option<String>,
    pub running: bool,
}

impl Found {
    fn label(&self) -> String {
        match &self.env {
            Some(env) => format!("{env} (`{}`)", self.name),
            None => format!("`{}`", self.name),
        }
    }
}

/// This checkout's containers grouped by project; `names` maps each environment to its
/// project name. Sorted by name.
pub fn stacks(containers: &[Container], names: &[(String, String)]) -> Vec<Found> {
    let mut groups: BTreeMap<&str, Vec<Container>> = BTreeMap::new();
    for c in containers.iter().filter(|c| !c.project.is_empty()) {
        groups.entry(&c.project).or_default().push(c.clone());
    }
    groups
        .into_iter()
        .map(|(name, group)| {
            let env = status::env_of_files(&status::running_files(&group)).or_else(|| {
                names
                    .iter()
                    .find(|(_, n)| n == name)
                    .map(|(e, _)| e.clone())
            });
            Found {
                name: name.to_string(),
                env,
                running: group.iter().any(|c| c.state == State::Running),
            }
        })
        .collect()
}

/// The stack a command without an environment acts on: the one that runs (or, when none runs,
/// the one whose stopped containers are there). `Ok(None)` when this checkout has none.
///
/// # Errors
/// Several candidates: the user must name the environment.
pub fn pick(found: &[Found], command: &str) -> Result<Option<Found>, UserError> {
    let running: Vec<&Found> = found.iter().filter(|f| f.running).collect();
    let candidates: Vec<&Found> = if running.is_empty() {
        found.iter().collect()
    } else {
        running
    };
    match candidates.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some((*one).clone())),
        several => {
            let list: Vec<String> = several.iter().map(|f| f.label()).collect();
            let example = several
                .iter()
                .find_map(|f| f.env.clone())
                .unwrap_or_else(|| "dev".to_string());
            let verb = if several.iter().any(|f| f.running) {
                "are running"
            } else {
                "have stopped containers"
            };
            Err(UserError::new(format!(
                "{} stacks of this checkout {verb}: {}",
                several.len(),
                list.join(", ")
            ))
            .hint(format!(
                "name the environment, e.g. timmy {command} {example}"
            )))
        }
    }
}

/// A name this checkout could use instead of `base`: its parent folder's name in front
/// (`/b/app` → `b-app`), else `<base>-2`.
pub fn suggest_name(root: &Path, base: &str) -> String {
    let parent = root
        .parent()
        .and_then(Path::file_name)
        .map(|n| stack::normalize(&n.to_string_lossy()))
        .unwrap_or_default();
    if parent.is_empty() || parent == base {
        format!("{base}-2")
    } else {
        format!("{parent}-{base}")
    }
}

/// `up`, `build`, `test`, `run`: the name is taken by another checkout's containers.
pub fn in_use(name: &str, other: &str, suggestion: &str, command: &str) -> UserError {
    UserError::new(format!(
        "the project name `{name}` is in use by another checkout: {other}"
    ))
    .hint(format!(
        "give this checkout its own name: timmy -p {suggestion} {command} (or set TIMMY_PROJECT_NAME)"
    ))
}

/// `down`, `ps`, `logs`…: the only containers under the name are another checkout's.
pub fn only_theirs(name: &str, other: &str, suggestion: &str) -> UserError {
    UserError::new(format!(
        "nothing of this checkout runs under `{name}`: its containers belong to another checkout, {other}"
    ))
    .hint(format!(
        "run timmy in that checkout, or give this one its own name with -p {suggestion}"
    ))
}

/// Containers of this checkout and of another share one name (left by an earlier timmy):
/// Compose acts on a name, so any command would reach the other checkout's too.
pub fn mixed(name: &str, other: &str) -> UserError {
    UserError::new(format!(
        "containers of another checkout ({other}) share the project name `{name}` with this one's; \
         not touching them"
    ))
    .hint("stop the stack in the other checkout (timmy down there), then give each checkout its own name with -p")
}

/// The environment whose files started this checkout's containers `ours` (one project name),
/// when it is not `env`: an `up`, `run` or `test` of `env` under that name would recreate them
/// with `env`'s files and hand it their volumes (`-p app-dev up prod`, then `-p app up dev`).
pub fn other_env(ours: &[Container], env: &str) -> Option<String> {
    status::env_of_files(&status::running_files(ours)).filter(|e| e != env)
}

/// `up`, `run`, `test`: the name holds this checkout's stack of another environment.
pub fn other_env_under(name: &str, other: &str, env: &str, command: &str) -> UserError {
    let stop = stop_command(name, other);
    UserError::new(format!(
        "the project name `{name}` holds this checkout's {other} stack (started with another -p); \
         `{command}` would recreate its containers as {env} and take over its volumes"
    ))
    .hint(format!(
        "give {env} a name of its own (timmy -p NAME {command}), or stop {other} first: {stop}"
    ))
}

/// `down`, `exec`, `shell`, `restart` with ENV named (`asked`): the containers under ENV's
/// name (`ours`) are another environment's stack (two `-p` values); `doing` is what is not done
/// (`stopping`, `entering`, `restarting`). A dev stack an earlier timmy started under prod's
/// name is still reached as prod.
///
/// # Errors
/// The name holds another environment's stack.
pub fn refuse_other_env(
    asked: Option<&str>,
    ours: &[Container],
    name: &str,
    prod_name: &str,
    doing: &str,
) -> Result<(), UserError> {
    match asked.and_then(|env| Some((env, other_env(ours, env)?))) {
        Some((_, other)) if name == prod_name && other == "dev" => Ok(()),
        Some((env, other)) => Err(other_env_not(name, &other, env, doing)),
        None => Ok(()),
    }
}

/// The name holds this checkout's stack of another environment, not ENV's.
pub fn other_env_not(name: &str, other: &str, env: &str, doing: &str) -> UserError {
    UserError::new(format!(
        "the project name `{name}` holds this checkout's {other} stack (started with another -p), \
         not a {env} stack; not {doing} it"
    ))
    .hint(format!("to stop it: {}", stop_command(name, other)))
}

/// The command that stops `other`'s stack under `name`.
pub fn stop_command(name: &str, other: &str) -> String {
    let base = if other == stack::PROD {
        Some(name)
    } else {
        name.strip_suffix(&format!("-{other}"))
    };
    base.map_or_else(
        || format!("docker compose -p {name} down"),
        |base| format!("timmy -p {base} down {other}"),
    )
}

/// A dev stack that an earlier timmy started under the plain name, which is prod's now.
pub fn is_legacy_dev(ours_under_base: &[Container]) -> bool {
    status::env_of_files(&status::running_files(ours_under_base)).as_deref() == Some("dev")
}

pub fn legacy_dev(base: &str) -> UserError {
    UserError::new(format!(
        "a dev stack started by an earlier timmy runs under the project name `{base}`, which is prod's now (dev runs as `{base}-dev`)"
    ))
    .hint(format!(
        "stop it first with: timmy down prod (its volumes `{base}_…` are kept; see CHANGELOG)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn c(project: &str, working_dir: &str, env: &str, state: &str) -> Container {
        Container {
            id: format!("{project}-{env}"),
            name: format!("{project}-timmy-1"),
            state: State::parse(state),
            service: "timmy".into(),
            oneoff: false,
            config_files: if env.is_empty() {
                Vec::new()
            } else {
                vec![
                    PathBuf::from(format!("{working_dir}/docker/docker-compose.yml")),
                    PathBuf::from(format!("{working_dir}/docker/docker-compose.{env}.yml")),
                ]
            },
            project: project.into(),
            working_dir: working_dir.into(),
        }
    }

    fn names() -> Vec<(String, String)> {
        [("dev", "app-dev"), ("prod", "app"), ("test", "app-test")]
            .iter()
            .map(|(e, n)| (e.to_string(), n.to_string()))
            .collect()
    }

    #[test]
    fn containers_are_told_apart_by_working_dir() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let here = root.display().to_string();
        let split = Split::new(
            vec![
                c("app-dev", &here, "dev", "running"),
                c("app-dev", "/a/app", "dev", "running"),
                c("app-dev", "", "", "running"),
                c("app-dev", &format!("{here}/."), "dev", "running"),
            ],
            root,
        );
        assert_eq!(split.ours.len(), 3);
        assert_eq!(split.other(), Some("/a/app"));
        assert_eq!(Split::new(vec![], root).other(), None);
    }

    #[test]
    fn stacks_take_the_env_from_the_files_then_the_name() {
        let found = stacks(
            &[
                c("app-dev", "/p", "dev", "running"),
                c("app", "/p", "dev", "exited"),
                c("app-test", "/p", "", "running"),
                c("zzz", "/p", "", "exited"),
            ],
            &names(),
        );
        assert_eq!(
            found,
            [
                Found {
                    name: "app".into(),
                    env: Some("dev".into()),
                    running: false
                },
                Found {
                    name: "app-dev".into(),
                    env: Some("dev".into()),
                    running: true
                },
                Found {
                    name: "app-test".into(),
                    env: Some("test".into()),
                    running: true
                },
                Found {
                    name: "zzz".into(),
                    env: None,
                    running: false
                },
            ]
        );
    }

    #[test]
    fn pick_prefers_the_running_stack_and_asks_when_several_run() {
        let f = |name: &str, env: &str, running: bool| Found {
            name: name.into(),
            env: Some(env.into()),
            running,
        };
        assert_eq!(pick(&[], "ps").unwrap(), None);
        assert_eq!(
            pick(&[f("app", "prod", false), f("app-dev", "dev", true)], "ps").unwrap(),
            Some(f("app-dev", "dev", true))
        );
        assert_eq!(
            pick(&[f("app", "prod", false)], "ps").unwrap(),
            Some(f("app", "prod", false))
        );
        let err = pick(
            &[f("app-dev", "dev", true), f("app-test", "test", true)],
            "logs",
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "2 stacks of this checkout are running: dev (`app-dev`), test (`app-test`)"
        );
        assert_eq!(
            err.hint.as_deref(),
            Some("name the environment, e.g. timmy logs dev")
        );
        let err = pick(&[f("app", "prod", false), f("app-dev", "dev", false)], "ps").unwrap_err();
        assert_eq!(
            err.message,
            "2 stacks of this checkout have stopped containers: prod (`app`), dev (`app-dev`)"
        );
    }

    #[test]
    fn suggested_names_use_the_parent_folder() {
        assert_eq!(suggest_name(Path::new("/b/app"), "app"), "b-app");
        assert_eq!(
            suggest_name(Path::new("/src/My Box/app"), "app"),
            "mybox-app"
        );
        assert_eq!(suggest_name(Path::new("/app"), "app"), "app-2");
        assert_eq!(suggest_name(Path::new("/app/app"), "app"), "app-2");
    }

    #[test]
    fn another_envs_containers_under_the_name_are_named() {
        assert_eq!(
            other_env(&[c("app-dev", "/p", "prod", "exited")], "dev").as_deref(),
            Some("prod")
        );
        assert_eq!(
            other_env(&[c("app-dev", "/p", "dev", "running")], "dev"),
            None
        );
        assert_eq!(other_env(&[c("app-dev", "/p", "", "running")], "dev"), None);
        assert_eq!(other_env(&[], "dev"), None);
        let err = other_env_under("app-dev", "prod", "dev", "up dev");
        assert_eq!(
            err.message,
            "the project name `app-dev` holds this checkout's prod stack (started with another -p); \
             `up dev` would recreate its containers as dev and take over its volumes"
        );
        assert_eq!(
            err.hint.as_deref(),
            Some(
                "give dev a name of its own (timmy -p NAME up dev), or stop prod first: timmy -p app-dev down prod"
            )
        );
        let err = other_env_not("app-dev", "prod", "dev", "stopping");
        assert_eq!(
            err.message,
            "the project name `app-dev` holds this checkout's prod stack (started with another -p), \
             not a dev stack; not stopping it"
        );
        assert_eq!(
            err.hint.as_deref(),
            Some("to stop it: timmy -p app-dev down prod")
        );
        let err = other_env_under("app-test-dev", "test-dev", "dev", "up dev");
        assert_eq!(
            err.hint.as_deref(),
            Some(
                "give dev a name of its own (timmy -p NAME up dev), or stop test-dev first: timmy -p app down test-dev"
            )
        );
        let err = other_env_under("app", "dev", "prod", "up prod");
        assert_eq!(
            err.hint.as_deref(),
            Some(
                "give prod a name of its own (timmy -p NAME up prod), or stop dev first: docker compose -p app down"
            )
        );
    }

    #[test]
    fn a_root_that_is_not_utf8_owns_its_label_as_compose_records_it() {
        use std::os::unix::ffi::OsStrExt;
        let root = Path::new(std::ffi::OsStr::from_bytes(b"/x/caf\xe9/proj"));
        assert!(is_ours(
            &c("p", "/x/caf\u{fffd}/proj", "dev", "running"),
            root
        ));
        assert!(!is_ours(&c("p", "/x/cafe/proj", "dev", "running"), root));
        assert!(!is_ours(
            &c("p", "/x/caf\u{fffd}/proj", "dev", "running"),
            Path::new("/x/cafe/proj")
        ));
    }

    #[test]
    fn legacy_dev_is_a_dev_file_stack_under_the_plain_name() {
        assert!(is_legacy_dev(&[c("app", "/p", "dev", "running")]));
        assert!(!is_legacy_dev(&[c("app", "/p", "prod", "running")]));
        assert!(!is_legacy_dev(&[]));
    }
}
