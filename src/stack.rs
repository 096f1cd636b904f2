//! One environment's file stack: which compose files, which `.env`, which project name. A
//! value built from the project and the user's choices; it reads no environment variable and
//! only asks the disk whether files exist.

use std::fs;
use std::path::{Path, PathBuf};

use crate::engine_api::ApiVersion;
use crate::exit::UserError;
use crate::project::{BASE_FILE, Project};

/// Added after the environment's file on engines that know `healthcheck.start_interval`:
/// fast health probes while a container starts, the steady interval unchanged. Compose
/// refuses the key below Engine 25 (API 1.44), so it cannot live in the shared files. Not a
/// `docker-compose.<env>.yml`, so never taken for an environment.
pub const ENGINE25_FILE: &str = "docker/engine25.compose.yml";
/// Engine 25's API version: the first with `start_interval`.
pub const ENGINE25_API: ApiVersion = ApiVersion(1, 44);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    pub env: String,
    pub root: PathBuf,
    /// Compose project name (`-p`).
    pub name: String,
    /// Base file first, then the environment's override.
    pub files: Vec<PathBuf>,
    /// The root `.env`, passed as `--env-file` when it exists.
    pub env_file: Option<PathBuf>,
}

impl Stack {
    /// `env` must already be resolved (see [`Project::resolve_env`]); `name_override` is
    /// `--project-name` / `TIMMY_PROJECT_NAME`.
    pub fn new(
        project: &Project,
        env: &str,
        name_override: Option<&str>,
    ) -> Result<Self, UserError> {
        let files = vec![project.root.join(BASE_FILE), project.env_file(env)];
        if let Some(bad) = files.iter().find(|f| !f.is_file()) {
            let shown = bad.strip_prefix(&project.root).unwrap_or(bad).display();
            let problem = if bad.is_dir() {
                "is a directory, not a file".to_owned()
            } else if let Ok(target) = fs::read_link(bad)
                && !bad.exists()
            {
                format!(
                    "is a symbolic link to {}, which does not exist",
                    target.display()
                )
            } else if bad.exists() {
                "is not a regular file".to_owned()
            } else {
                "is missing".to_owned()
            };
            return Err(UserError::new(format!("{shown} {problem}"))
                .hint("every environment needs docker/docker-compose.yml and docker/docker-compose.<env>.yml"));
        }
        let env_file = Some(project.root.join(".env")).filter(|p| p.exists());
        Ok(Self {
            env: env.to_string(),
            root: project.root.clone(),
            name: project_name(&project.root, env, name_override)?,
            files,
            env_file,
        })
    }

    /// The stack for an engine that speaks `api`: with [`ENGINE25_FILE`] last when the engine
    /// is 25 or newer and the project has that file; as it is for older or unknown engines.
    #[must_use]
    pub fn for_engine(mut self, api: Option<ApiVersion>) -> Self {
        let file = self.root.join(ENGINE25_FILE);
        if api.is_some_and(|v| v >= ENGINE25_API) && file.is_file() {
            self.files.push(file);
        }
        self
    }

    /// File paths relative to the root, for people: `docker/docker-compose.yml`.
    pub fn relative_files(&self) -> Vec<String> {
        self.files
            .iter()
            .map(|f| {
                f.strip_prefix(&self.root)
                    .unwrap_or(f)
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }
}

/// The Compose project name for `env`: the base name (the override, else the root folder's
/// name normalised the way Compose normalises names) for prod, `<base>-<env>` for every other
/// environment. So dev, prod and test never share a container, a network or a volume, and the
/// production host's stack and its `redis-data` volume keep the plain name they always had.
///
/// # Errors
/// An override Compose would refuse (`-p` must already be a valid name, as for Compose
/// itself): rewriting it could name another project.
pub fn project_name(
    root: &Path,
    env: &str,
    name_override: Option<&str>,
) -> Result<String, UserError> {
    let folder = normalize(
        &root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    let folder = if folder.is_empty() {
        "timmy".to_string()
    } else {
        folder
    };
    let base = match name_override {
        None => folder,
        Some(name) => {
            // The name comes from -p or from TIMMY_PROJECT_NAME (set, perhaps empty, by a
            // script): the hint names both.
            let hint = format!(
                "give -p or TIMMY_PROJECT_NAME a name such as `{folder}`, or leave out -p and unset TIMMY_PROJECT_NAME to use the folder name"
            );
            if name.is_empty() {
                return Err(UserError::new("the project name is empty").hint(hint));
            }
            if !is_valid_name(name) {
                return Err(UserError::new(format!(
                    "invalid project name `{name}`: Compose allows lower-case letters, digits, `-` and `_`, starting with a letter or digit"
                ))
                .hint(hint));
            }
            name.to_string()
        }
    };
    Ok(if env == PROD {
        base
    } else {
        format!("{base}-{env}")
    })
}

/// The environment whose project keeps the plain base name.
pub const PROD: &str = "prod";

fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Compose accepts lowercase letters, digits, `_` and `-`, starting with a letter or digit.
pub fn normalize(name: &str) -> String {
    let lowered: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    lowered.trim_start_matches(['_', '-']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[track_caller]
    fn name_case(root: &str, env: &str, over: Option<&str>, expected: &str) {
        assert_eq!(
            project_name(Path::new(root), env, over).as_deref(),
            Ok(expected)
        );
    }

    #[track_caller]
    fn bad_name(over: &str, message: &str) {
        let err = project_name(Path::new("/src/My App"), "dev", Some(over)).unwrap_err();
        assert_eq!(err.message, message);
        assert_eq!(
            err.hint.as_deref(),
            Some(
                "give -p or TIMMY_PROJECT_NAME a name such as `myapp`, or leave out -p and unset TIMMY_PROJECT_NAME to use the folder name"
            )
        );
    }

    #[test]
    fn project_names() {
        name_case("/src/timmy", "dev", None, "timmy-dev");
        name_case("/src/timmy", "prod", None, "timmy");
        name_case("/src/timmy", "test", None, "timmy-test");
        name_case("/src/timmy", "staging", None, "timmy-staging");
        name_case("/src/My Timmy.App", "prod", None, "mytimmyapp");
        name_case("/src/My Timmy.App", "dev", None, "mytimmyapp-dev");
        name_case("/src/_x", "prod", None, "x");
        name_case("/src/ÜBER", "prod", None, "ber");
        name_case("/", "prod", None, "timmy");
        name_case("/src/timmy", "prod", Some("e2e_one-2"), "e2e_one-2");
        name_case("/src/timmy", "dev", Some("e2e_one-2"), "e2e_one-2-dev");
        name_case("/src/timmy", "test", Some("ci"), "ci-test");
        name_case("/src/timmy", "prod", Some("9lives"), "9lives");
    }

    #[test]
    fn explicit_names_must_already_be_valid() {
        bad_name("", "the project name is empty");
        for name in ["!!!", "E2E_one", "_x", "-x", "my app", "ümlaut"] {
            bad_name(
                name,
                &format!(
                    "invalid project name `{name}`: Compose allows lower-case letters, digits, `-` and `_`, starting with a letter or digit"
                ),
            );
        }
    }

    #[test]
    fn stack_lists_base_then_override_and_finds_env_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("docker")).unwrap();
        fs::write(
            dir.path().join("docker/docker-compose.yml"),
            "services: {}\n",
        )
        .unwrap();
        fs::write(
            dir.path().join("docker/docker-compose.prod.yml"),
            "services: {}\n",
        )
        .unwrap();
        let project = Project::locate(Some(dir.path()), dir.path()).unwrap();
        let stack = Stack::new(&project, "prod", None).unwrap();
        assert_eq!(
            stack.relative_files(),
            [
                "docker/docker-compose.yml",
                "docker/docker-compose.prod.yml"
            ]
        );
        assert_eq!(stack.env_file, None);
        fs::write(dir.path().join(".env"), "A=1\n").unwrap();
        let stack = Stack::new(&project, "prod", None).unwrap();
        assert_eq!(stack.env_file, Some(dir.path().join(".env")));
    }

    #[test]
    fn engine_file_only_from_engine_25_and_only_when_present() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("docker")).unwrap();
        for f in ["docker-compose.yml", "docker-compose.dev.yml"] {
            fs::write(dir.path().join("docker").join(f), "services: {}\n").unwrap();
        }
        let project = Project::locate(Some(dir.path()), dir.path()).unwrap();
        let files = |api: Option<ApiVersion>| {
            Stack::new(&project, "dev", None)
                .unwrap()
                .for_engine(api)
                .relative_files()
        };
        let plain = ["docker/docker-compose.yml", "docker/docker-compose.dev.yml"];
        assert_eq!(
            files(Some(ApiVersion(1, 51))),
            plain,
            "no file, no override"
        );
        fs::write(dir.path().join(ENGINE25_FILE), "services: {}\n").unwrap();
        assert_eq!(
            files(Some(ApiVersion(1, 44))),
            [
                "docker/docker-compose.yml",
                "docker/docker-compose.dev.yml",
                "docker/engine25.compose.yml"
            ]
        );
        assert_eq!(files(Some(ApiVersion(1, 51))).len(), 3);
        assert_eq!(files(Some(ApiVersion(1, 43))), plain);
        assert_eq!(files(Some(ApiVersion(1, 41))), plain);
        assert_eq!(files(None), plain);
        assert_eq!(project.envs, ["dev"], "the engine file is no environment");
    }

    #[test]
    fn missing_override_is_an_error_not_skipped() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("docker")).unwrap();
        fs::write(
            dir.path().join("docker/docker-compose.yml"),
            "services: {}\n",
        )
        .unwrap();
        let project = Project::locate(Some(dir.path()), dir.path()).unwrap();
        let err = Stack::new(&project, "dev", None).unwrap_err();
        assert_eq!(err.message, "docker/docker-compose.dev.yml is missing");
        fs::create_dir(dir.path().join("docker/docker-compose.dev.yml")).unwrap();
        let err = Stack::new(&project, "dev", None).unwrap_err();
        assert_eq!(
            err.message,
            "docker/docker-compose.dev.yml is a directory, not a file"
        );
    }
}
