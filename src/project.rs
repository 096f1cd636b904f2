//! Where the project is and what it offers: the root found by walking up to
//! `docker/docker-compose.yml`, the environments named by `docker/docker-compose.<env>.yml`,
//! and the service names the compose files declare. Reads the disk, starts no process.

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::exit::UserError;

pub const BASE_FILE: &str = "docker/docker-compose.yml";

#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
    /// Environment names from `docker/docker-compose.<env>.yml`, sorted.
    pub envs: Vec<String>,
}

impl Project {
    /// `explicit` is `--project-dir`/`TIMMY_PROJECT_DIR`; otherwise walk up from `cwd`.
    pub fn locate(explicit: Option<&Path>, cwd: &Path) -> Result<Self, UserError> {
        let root = match explicit {
            Some(dir) => {
                let dir = absolute(cwd, dir);
                if !dir.is_dir() {
                    let problem = if dir.exists() {
                        "is a file, not a directory"
                    } else {
                        "does not exist"
                    };
                    return Err(UserError::new(format!(
                        "project directory {} {problem}",
                        dir.display()
                    ))
                    .hint("check --project-dir / TIMMY_PROJECT_DIR"));
                }
                if !dir.join(BASE_FILE).is_file() {
                    return Err(UserError::new(format!(
                        "{} has no {BASE_FILE}",
                        dir.display()
                    ))
                    .hint("--project-dir must name the folder that holds docker/docker-compose.yml"));
                }
                dir
            }
            None => find_root(cwd).ok_or_else(|| {
                UserError::new(format!(
                    "no {BASE_FILE} in {} or any parent folder",
                    cwd.display()
                ))
                .hint("run timmy inside the project, or pass --project-dir DIR")
            })?,
        };
        let envs = list_envs(&root.join("docker"));
        Ok(Self { root, envs })
    }

    /// Map an environment name (or alias) to one that has a file; the error lists the choices.
    pub fn resolve_env(&self, name: &str) -> Result<String, UserError> {
        let canonical = match name {
            "development" => "dev",
            "production" => "prod",
            other => other,
        };
        if self.envs.iter().any(|e| e == canonical) {
            return Ok(canonical.to_string());
        }
        let available = if self.envs.is_empty() {
            "none".to_string()
        } else {
            self.envs.join(", ")
        };
        Err(UserError::new(format!(
            "unknown environment `{name}`: there is no docker/docker-compose.{canonical}.yml"
        ))
        .hint(format!("available environments: {available}")))
    }

    /// `[ENV] NAME…` of `ps`, `logs`, `shell`, `exec` and `restart`: the first name is the
    /// environment when it names one (or an alias) and at least `min_rest` names follow it;
    /// the rest are services. A service named like an environment goes after an explicit one
    /// (`timmy logs dev test`).
    ///
    /// # Errors
    /// More than `max_rest` names are left: the first one was meant as an environment.
    pub fn split_env(
        &self,
        names: &[String],
        min_rest: usize,
        max_rest: Option<usize>,
        usage: &str,
    ) -> Result<(Option<String>, Vec<String>), UserError> {
        if let Some((first, rest)) = names.split_first()
            && rest.len() >= min_rest
            && let Ok(env) = self.resolve_env(first)
        {
            return Ok((Some(env), rest.to_vec()));
        }
        if let Some(max) = max_rest
            && names.len() > max
        {
            return Err(UserError::new(format!(
                "`{}` is not an environment (timmy {usage})",
                names[0]
            ))
            .hint(format!("environments: {}", self.envs.join(", "))));
        }
        Ok((None, names.to_vec()))
    }

    /// Services declared by any compose file of the project (base and every environment).
    pub fn services(&self) -> Vec<String> {
        let mut files = vec![self.root.join(BASE_FILE)];
        files.extend(self.envs.iter().map(|e| self.env_file(e)));
        let mut names: Vec<String> = files
            .iter()
            .filter_map(|f| fs::read_to_string(f).ok())
            .flat_map(|text| service_names(&text))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    pub fn env_file(&self, env: &str) -> PathBuf {
        self.root.join(format!("docker/docker-compose.{env}.yml"))
    }

    /// Fail with the list of known services when one of `wanted` is not declared anywhere.
    pub fn require_services(&self, wanted: &[String]) -> Result<(), UserError> {
        if wanted.is_empty() {
            return Ok(());
        }
        let known = self.services();
        match wanted.iter().find(|w| !known.contains(w)) {
            None => Ok(()),
            Some(unknown) => Err(
                UserError::new(format!("no service `{unknown}` in this project"))
                    .hint(format!("services: {}", known.join(", "))),
            ),
        }
    }
}

/// The current directory as the shell and Compose see it: `$PWD` when it is a clean absolute
/// path to the same folder as the physical one (a path through a symlink, such as a deploy's
/// `current` link), as Go's `os.Getwd`, and so Compose, takes it; else the physical path. The
/// root's folder name is the project name, so `cd current && timmy up prod` must name the
/// project as `timmy --project-dir current` and plain Compose do.
pub fn current_dir() -> std::io::Result<PathBuf> {
    let physical = std::env::current_dir()?;
    Ok(logical_dir(
        physical,
        std::env::var_os("PWD").map(PathBuf::from),
    ))
}

fn logical_dir(physical: PathBuf, pwd: Option<PathBuf>) -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    let same = |a: &Path, b: &Path| match (fs::metadata(a), fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    };
    match pwd {
        Some(pwd)
            if pwd.is_absolute()
                && pwd
                    .components()
                    .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
                && same(&pwd, &physical) =>
        {
            pwd
        }
        _ => physical,
    }
}

/// The project seen from the shell's current directory, for completion candidates only.
fn completing_project() -> Option<Project> {
    let cwd = current_dir().ok()?;
    let explicit = std::env::var_os("TIMMY_PROJECT_DIR").map(PathBuf::from);
    Project::locate(explicit.as_deref(), &cwd).ok()
}

/// Environment names for dynamic shell completion (`source <(COMPLETE=bash timmy)`).
pub fn env_candidates() -> Vec<clap_complete::CompletionCandidate> {
    completing_project()
        .map(|p| p.envs)
        .unwrap_or_default()
        .into_iter()
        .map(clap_complete::CompletionCandidate::new)
        .collect()
}

/// Environment names, then service names, for the `[ENV] SERVICE…` arguments of `logs`,
/// `shell`, `exec` and `restart`.
pub fn env_and_service_candidates() -> Vec<clap_complete::CompletionCandidate> {
    let mut all = env_candidates();
    all.extend(service_candidates());
    all
}

/// Service names for dynamic shell completion.
pub fn service_candidates() -> Vec<clap_complete::CompletionCandidate> {
    completing_project()
        .map(|p| p.services())
        .unwrap_or_default()
        .into_iter()
        .map(clap_complete::CompletionCandidate::new)
        .collect()
}

fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(BASE_FILE).is_file())
        .map(Path::to_path_buf)
}

fn list_envs(docker_dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(docker_dir) else {
        return Vec::new();
    };
    let mut envs: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let env = name.strip_prefix("docker-compose.")?.strip_suffix(".yml")?;
            (!env.is_empty() && !env.contains('.')).then(|| env.to_string())
        })
        .collect();
    envs.sort();
    envs
}

/// Keys of the top-level `services:` mapping, read by the YAML parser (comments, flow style and
/// quoted names included); none for a file that does not parse (`check` reports it).
pub fn service_names(yaml: &str) -> Vec<String> {
    match crate::yaml::parse(yaml) {
        Ok(Some(root)) => crate::yaml::service_names(&root),
        _ => Vec::new(),
    }
}

/// `dir` made absolute against `cwd` and cleaned as Compose cleans `--project-directory` (Go's
/// `filepath.Abs`): no `.`, and `..` drops the folder before it. So `--project-dir ..` from
/// `docker/` is the root itself, with the root folder's name as the project name (not
/// `timmy`, the name for a root without one) and the working-dir label of every other run.
fn absolute(cwd: &Path, dir: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in cwd.join(dir).components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_dir_is_the_shells_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let release = dir.path().join("release-42");
        let other = dir.path().join("other");
        fs::create_dir_all(&release).unwrap();
        fs::create_dir_all(&other).unwrap();
        let link = dir.path().join("current");
        std::os::unix::fs::symlink(&release, &link).unwrap();
        let through = |pwd: Option<PathBuf>| logical_dir(release.clone(), pwd);
        assert_eq!(through(Some(link.clone())), link);
        assert_eq!(through(Some(release.clone())), release);
        assert_eq!(through(None), release, "no PWD");
        assert_eq!(through(Some(other)), release, "a PWD of another folder");
        assert_eq!(through(Some(PathBuf::from("current"))), release, "relative");
        assert_eq!(through(Some(link.join("../current"))), release, "not clean");
    }

    #[test]
    fn a_relative_project_dir_is_cleaned_like_composes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("app");
        fs::create_dir_all(root.join("docker")).unwrap();
        fs::write(root.join(BASE_FILE), "services: {}\n").unwrap();
        for (given, from) in [
            ("..", root.join("docker")),
            (".", root.clone()),
            ("./docker/../", root.clone()),
            ("../app", root.clone()),
        ] {
            let project = Project::locate(Some(Path::new(given)), &from).unwrap();
            assert_eq!(project.root, root, "{given} from {}", from.display());
            assert_eq!(
                crate::stack::project_name(&project.root, "prod", None).as_deref(),
                Ok("app"),
                "{given}"
            );
        }
    }

    #[test]
    fn service_names_come_from_the_yaml_reading() {
        let yaml = "services:  # the stack\n  timmy:\n    image: a\n  redis: {image: b}\n";
        assert_eq!(service_names(yaml), ["timmy", "redis"]);
        assert_eq!(service_names("services: {redis: {image: r}}\n"), ["redis"]);
        assert!(service_names("networks:\n  a:\n").is_empty());
        assert!(service_names("services:\n  a:\n\tb: 1\n").is_empty());
    }

    fn project_with(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("docker")).unwrap();
        for f in files {
            fs::write(
                dir.path().join("docker").join(f),
                "services:\n  timmy:\n    image: x\n",
            )
            .unwrap();
        }
        dir
    }

    #[test]
    fn walks_up_to_the_root_and_lists_envs() {
        let dir = project_with(&[
            "docker-compose.yml",
            "docker-compose.dev.yml",
            "docker-compose.prod.yml",
            "docker-compose.prod.yml.bak",
            "Dockerfile",
        ]);
        let deep = dir.path().join("a/b");
        fs::create_dir_all(&deep).unwrap();
        let p = Project::locate(None, &deep).unwrap();
        assert_eq!(p.root, dir.path());
        assert_eq!(p.envs, ["dev", "prod"]);
    }

    #[test]
    fn outside_a_project_names_what_was_looked_for() {
        let dir = tempfile::tempdir().unwrap();
        let err = Project::locate(None, dir.path()).unwrap_err();
        assert!(
            err.message.contains("no docker/docker-compose.yml in"),
            "{err:?}"
        );
        assert!(err.hint.unwrap().contains("--project-dir"));
    }

    #[test]
    fn explicit_dir_must_exist_and_hold_the_base_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = Project::locate(Some(&dir.path().join("nope")), dir.path()).unwrap_err();
        assert!(err.message.ends_with("does not exist"), "{err:?}");
        fs::write(dir.path().join("file"), "").unwrap();
        let err = Project::locate(Some(&dir.path().join("file")), dir.path()).unwrap_err();
        assert!(
            err.message.ends_with("is a file, not a directory"),
            "{err:?}"
        );
        let err = Project::locate(Some(dir.path()), dir.path()).unwrap_err();
        assert!(
            err.message.ends_with("has no docker/docker-compose.yml"),
            "{err:?}"
        );
    }

    #[test]
    fn aliases_and_unknown_envs() {
        let dir = project_with(&[
            "docker-compose.yml",
            "docker-compose.dev.yml",
            "docker-compose.prod.yml",
        ]);
        let p = Project::locate(Some(dir.path()), dir.path()).unwrap();
        assert_eq!(p.resolve_env("development").unwrap(), "dev");
        assert_eq!(p.resolve_env("production").unwrap(), "prod");
        let err = p.resolve_env("staging").unwrap_err();
        assert_eq!(
            err.message,
            "unknown environment `staging`: there is no docker/docker-compose.staging.yml"
        );
        assert_eq!(err.hint.unwrap(), "available environments: dev, prod");
    }

    #[test]
    fn an_environment_may_lead_the_names() {
        let dir = project_with(&[
            "docker-compose.yml",
            "docker-compose.dev.yml",
            "docker-compose.test.yml",
        ]);
        let p = Project::locate(Some(dir.path()), dir.path()).unwrap();
        let v = |names: &[&str]| names.iter().map(ToString::to_string).collect::<Vec<_>>();
        let split =
            |names: &[&str], min, max| p.split_env(&v(names), min, max, "shell [ENV] [SERVICE]");
        assert_eq!(
            split(&["test"], 0, Some(1)).unwrap(),
            (Some("test".into()), v(&[]))
        );
        assert_eq!(
            split(&["development", "redis"], 0, None).unwrap(),
            (Some("dev".into()), v(&["redis"]))
        );
        assert_eq!(
            split(&["redis"], 0, Some(1)).unwrap(),
            (None, v(&["redis"]))
        );
        assert_eq!(split(&[], 0, Some(1)).unwrap(), (None, v(&[])));
        // exec: one name is always the service, even when it names an environment.
        assert_eq!(split(&["test"], 1, Some(1)).unwrap(), (None, v(&["test"])));
        assert_eq!(
            split(&["dev", "test"], 1, Some(1)).unwrap(),
            (Some("dev".into()), v(&["test"]))
        );
        let err = split(&["timmy", "redis"], 0, Some(1)).unwrap_err();
        assert_eq!(
            err.message,
            "`timmy` is not an environment (timmy shell [ENV] [SERVICE])"
        );
        assert_eq!(err.hint.as_deref(), Some("environments: dev, test"));
    }

    #[test]
    fn unknown_service_lists_known_ones() {
        let dir = project_with(&["docker-compose.yml", "docker-compose.dev.yml"]);
        let p = Project::locate(Some(dir.path()), dir.path()).unwrap();
        assert!(p.require_services(&["timmy".into()]).is_ok());
        let err = p.require_services(&["tímmy".into()]).unwrap_err();
        assert_eq!(err.message, "no service `tímmy` in this project");
        assert_eq!(err.hint.unwrap(), "services: timmy");
    }
}
