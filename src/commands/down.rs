//! `down`: stop and remove a stack (and with `--volumes` its named volumes, prod's behind a
//! confirmation), then report any container of the project that is still there.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::Ctx;
use crate::checkout::{self, Found};
use crate::cli;
use crate::compose;
use crate::docker::{Docker, Outcome};
use crate::exit::{Exit, UserError};
use crate::project::Project;
use crate::stack::{self, Stack};
use crate::status::{self, Container};
use crate::ui;
use crate::validate;

impl Ctx {
    pub(super) fn down(&self, a: &cli::DownArgs) -> Result<()> {
        let project = self.named_project()?;
        let env = a
            .env
            .as_deref()
            .map(|e| project.resolve_env(e))
            .transpose()?;
        let docker = self.docker()?;
        let Some((env, name)) = self.down_target(a, &project, &docker, env)? else {
            return Ok(());
        };
        let _lock = self.lock(&project.root, &name, "down")?;
        let before = self.ours_only(&docker, &project, &name)?.ours;
        let prod_name = self.name(&project, stack::PROD)?;
        if self
            .deployed_unless_compose(&docker, &project.root, (&name, a.env.is_some()), &before)?
            .is_some()
        {
            let guarded = name == prod_name && !a.yes;
            return Self::stack_down(&docker, &project.root, &name, a.volumes, guarded);
        }
        if before.is_empty() {
            if a.volumes {
                return Self::remove_stopped_volumes(
                    &docker,
                    &project.root,
                    &name,
                    name == prod_name && !a.yes,
                );
            }
            ui::info(&format!("nothing of project `{name}` is running"));
            return Ok(());
        }
        let asked = a.env.as_ref().and(env.as_deref());
        checkout::refuse_other_env(asked, &before, &name, &prod_name, "stopping")?;
        let files: Vec<PathBuf> = status::running_files(&before)
            .into_iter()
            .filter(|f| f.is_file())
            .collect();
        let running_env = status::env_of_files(&files).or(env);
        if name == prod_name && running_env.as_deref() == Some("dev") {
            ui::warning(&format!(
                "this dev stack was started by an earlier timmy under `{name}`, prod's project name now; `timmy up dev` starts dev as `{name}-dev`"
            ));
        }
        let guarded = name == prod_name || running_env.as_deref() == Some(stack::PROD);
        if a.volumes && guarded && !a.yes && !docker.dry_run {
            confirm_volume_removal(&name)?;
        }
        let env_file = Some(project.root.join(".env")).filter(|p| p.is_file());
        let problem = (!files.is_empty())
            .then(|| config_problem(&project.root, &name, &files, running_env.as_deref()))
            .flatten();
        let (down, warning) = plan(
            &project.root,
            &name,
            &files,
            env_file.as_deref(),
            problem,
            a.volumes,
        );
        if let Some(warning) = warning {
            ui::warning(&warning);
        }
        // After Ctrl-C Compose gives up half-way: say what still runs, as `up` does.
        let outcome = docker
            .run_ok(&down)
            .map_err(|e| Self::after_interrupt(&docker, &project.root, &name, e))?;
        let Outcome::Ran(_) = outcome else {
            return Ok(());
        };
        let left = self.containers(&docker, &project.root, &name, false)?;
        let stopped = Stopped {
            name: &name,
            env: running_env.as_deref(),
            volumes: a.volumes,
            before: &before,
            files: &files,
            known: &project.services(),
        };
        for line in stopped.verdict(&left) {
            ui::info(&line);
        }
        if left.is_empty() {
            return Ok(());
        }
        ui::report_leftovers(&name, &left);
        Err(Exit::Failure.into())
    }

    /// The stack `down` stops: the named env's, else the one stack of this checkout that runs
    /// (or, with `--volumes`, that has volumes left); None when there is nothing (said so).
    fn down_target(
        &self,
        a: &cli::DownArgs,
        project: &crate::project::Project,
        docker: &crate::docker::Docker,
        env: Option<String>,
    ) -> Result<Option<(Option<String>, String)>> {
        Ok(Some(match env {
            Some(env) => {
                let name = self.name(project, &env)?;
                (Some(env), name)
            }
            None => match checkout::pick(&self.stacks_here(docker, project)?, "down")? {
                Some(found) => (found.env, found.name),
                None if let Some(d) = self.deployed_here(docker, project, "down")? => {
                    return Err(super::deployed::deployed_not_picked(&d).into());
                }
                None if a.volumes => {
                    let Some(found) = self.stacks_with_volumes(docker, project)? else {
                        ui::info(
                            "no stack of this checkout is running, and none of its projects has a volume left",
                        );
                        return Ok(None);
                    };
                    (found.env, found.name)
                }
                None => {
                    ui::info(&nothing_runs(self.global.project_name.as_deref()));
                    return Ok(None);
                }
            },
        }))
    }

    /// `down --volumes` of a stack whose containers are gone: its named volumes, found by the
    /// project label, removed by name (`guarded`: prod's, behind the confirmation). Volumes
    /// carry no working-dir label (measured on Compose 2.26.1: only project, version and
    /// volume), so the caller has already refused a name whose containers are another
    /// checkout's.
    pub(super) fn remove_stopped_volumes(
        docker: &Docker,
        root: &Path,
        name: &str,
        guarded: bool,
    ) -> Result<()> {
        let volumes = Self::volumes(docker, root, name)?;
        if volumes.is_empty() {
            ui::info(&format!(
                "nothing of project `{name}` is running, and it has no volume left"
            ));
            return Ok(());
        }
        if guarded && !docker.dry_run {
            confirm_volume_removal(name)?;
        }
        if let Outcome::Ran(_) = docker.run_ok(&compose::remove_volumes(root, &volumes))? {
            ui::info(&format!(
                "nothing of project `{name}` was running; removed its {}: {}",
                if volumes.len() == 1 {
                    "volume"
                } else {
                    "volumes"
                },
                volumes.join(", ")
            ));
        }
        Ok(())
    }

    pub(super) fn volumes(docker: &Docker, root: &Path, name: &str) -> Result<Vec<String>> {
        let out = docker.query_ok(&compose::volumes_of(root, name))?;
        Ok(out
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect())
    }

    /// `down --volumes` without an environment when nothing runs: the one project of this
    /// checkout that still has volumes.
    pub(super) fn stacks_with_volumes(
        &self,
        docker: &Docker,
        project: &Project,
    ) -> Result<Option<Found>> {
        let mut found = Vec::new();
        for (env, name) in self.names(project)? {
            if !Self::volumes(docker, &project.root, &name)?.is_empty() {
                found.push(Found {
                    name,
                    env: Some(env),
                    running: false,
                });
            }
        }
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.clone())),
            several => {
                let list: Vec<String> = several
                    .iter()
                    .map(|f| format!("{} (`{}`)", f.env.as_deref().unwrap_or("?"), f.name))
                    .collect();
                let example = several[0].env.clone().unwrap_or_default();
                Err(UserError::new(format!(
                    "nothing of this checkout is running, and {} of its stacks have volumes: {}",
                    several.len(),
                    list.join(", ")
                ))
                .hint(format!(
                    "name the environment, e.g. timmy down {example} --volumes"
                ))
                .into())
            }
        }
    }
}

pub(super) fn confirm_volume_removal(name: &str) -> Result<()> {
    let refuse = || {
        UserError::new(format!(
            "refusing to remove the volumes of the prod stack `{name}` without confirmation"
        ))
        .hint("the data in them is lost for good; pass --yes if that is what you want")
    };
    if !std::io::stdin().is_terminal() {
        return Err(refuse().into());
    }
    eprint!(
        "Remove the named volumes of the prod stack `{name}`? Their data is lost. Type `yes`: "
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(refuse().into())
    }
}

/// What would make Compose refuse the running stack's files (errors only: a warning does not
/// stop Compose), read from disk without starting any process.
pub(super) fn config_problem(
    root: &Path,
    name: &str,
    files: &[PathBuf],
    env: Option<&str>,
) -> Option<String> {
    let stack = Stack {
        env: env.unwrap_or("dev").to_string(),
        root: root.to_path_buf(),
        name: name.to_string(),
        files: files.to_vec(),
        env_file: Some(root.join(".env")),
    };
    match validate::findings(&stack) {
        Err(e) => Some(e.message),
        Ok(found) => found
            .iter()
            .find(|f| f.level == crate::check::Level::Error)
            .map(|f| format!("{} has errors (see timmy check)", f.file)),
    }
}

/// `down` without an environment when no stack of this checkout (of `-p`'s, when given) runs.
fn nothing_runs(base: Option<&str>) -> String {
    match base {
        Some(base) => format!("no stack of this checkout is running under `{base}` (-p)"),
        None => "no stack of this checkout is running".to_string(),
    }
}

/// The `down` to run: by the running stack's own files; by name only when they are gone or
/// Compose would refuse them (`problem`, then also the warning to show). Compose refuses to
/// read a broken `.env` or compose file, stops nothing and quotes the value; by name only it
/// finds the containers and networks by label.
fn plan(
    root: &Path,
    name: &str,
    files: &[PathBuf],
    env_file: Option<&Path>,
    problem: Option<String>,
    volumes: bool,
) -> (compose::Invocation, Option<String>) {
    match problem {
        _ if files.is_empty() => (compose::down(root, name, &[], None, volumes), None),
        Some(problem) => (
            compose::down(root, name, &[], None, volumes),
            Some(format!("{problem}: stopping the project by name only")),
        ),
        None => (compose::down(root, name, files, env_file, volumes), None),
    }
}

/// What `down` stopped: the project, its environment when known, and the containers and files
/// it found before running docker.
struct Stopped<'a> {
    name: &'a str,
    env: Option<&'a str>,
    volumes: bool,
    before: &'a [Container],
    files: &'a [PathBuf],
    known: &'a [String],
}

impl Stopped<'_> {
    /// The lines to show once docker is done, from the containers `left` under the project:
    /// each container that went with the stack but was not part of it (and why), then, when
    /// nothing is left, that the stack is stopped. Leftovers are the caller's error report.
    fn verdict(&self, left: &[Container]) -> Vec<String> {
        let mut lines: Vec<String> = status::orphans(self.before, self.files, self.known)
            .into_iter()
            .filter(|(c, _)| !left.iter().any(|l| l.id == c.id))
            .map(|(c, why)| format!("also removed {} ({why})", c.name))
            .collect();
        if left.is_empty() {
            let which = self
                .env
                .map_or_else(|| "stack".into(), |e| format!("{e} stack"));
            lines.push(format!(
                "stopped the {which} `{}`; no container of the project is left{}",
                self.name,
                if self.volumes { "" } else { " (volumes kept)" }
            ));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(id: &str, service: &str, oneoff: bool, files: &[&str]) -> Container {
        Container {
            id: id.into(),
            name: format!("p-{id}"),
            state: crate::status::State::Running,
            service: service.into(),
            oneoff,
            config_files: files.iter().map(PathBuf::from).collect(),
            project: "p".into(),
            working_dir: "/p".into(),
        }
    }

    #[test]
    fn verdict_names_each_orphan_removed_and_the_stopped_stack() {
        let files = [PathBuf::from("/p/docker/docker-compose.yml")];
        let before = [
            container("a", "web", false, &["/p/docker/docker-compose.yml"]),
            container("b", "web", true, &["/p/docker/docker-compose.yml"]),
            container("c", "web", false, &["/q/docker/docker-compose.yml"]),
            container("d", "gone", false, &["/p/docker/docker-compose.yml"]),
            container("e", "", false, &[]),
        ];
        let stopped = Stopped {
            name: "p",
            env: Some("prod"),
            volumes: false,
            before: &before,
            files: &files,
            known: &["web".to_string()],
        };
        assert_eq!(
            stopped.verdict(&[]),
            [
                "also removed p-b (one-off container from `docker compose run`)",
                "also removed p-c (started from other compose files)",
                "also removed p-d (its service is no longer in any compose file)",
                "also removed p-e (not created by Compose, only labelled with the project)",
                "stopped the prod stack `p`; no container of the project is left (volumes kept)",
            ]
        );
        // What is left is not reported as removed, and the stack is not called stopped.
        assert_eq!(stopped.verdict(&before[1..]), Vec::<String>::new());
        let stopped = Stopped {
            env: None,
            volumes: true,
            before: &before[..1],
            ..stopped
        };
        assert_eq!(
            stopped.verdict(&[]),
            ["stopped the stack `p`; no container of the project is left"]
        );
    }

    #[test]
    fn plan_goes_by_name_only_without_files_or_when_compose_would_refuse_them() {
        let root = Path::new("/p");
        let files = [PathBuf::from("/p/docker/docker-compose.yml")];
        let env_file = Some(Path::new("/p/.env"));
        let by_name = compose::down(root, "p", &[], None, true);
        assert_eq!(
            plan(root, "p", &[], env_file, None, true),
            (by_name.clone(), None)
        );
        assert_eq!(
            plan(
                root,
                "p",
                &files,
                env_file,
                Some(".env:3 is broken".into()),
                true
            ),
            (
                by_name,
                Some(".env:3 is broken: stopping the project by name only".into())
            )
        );
        assert_eq!(
            plan(root, "p", &files, env_file, None, false),
            (compose::down(root, "p", &files, env_file, false), None)
        );
    }
}
