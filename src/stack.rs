//! One environment's file stack: which compose files, which `.env`, which project name. A
//! value built from the project and the user's choices; it reads no environment variable and
//! only asks the disk whether files exist.

use std::path::{Path, PathBuf};

use crate::exit::UserError;
use crate::project::{BASE_FILE, Project};

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
        if let Some(missing) = files.iter().find(|f| !f.is_file()) {
            return Err(UserError::new(format!("{} is missing", missing.display()))
                .hint("every environment needs docker/docker-compose.yml and docker/docker-compose.<env>.yml"));
        }
        let env_file = Some(project.root.join(".env")).filter(|p| p.exists());
        Ok(Self {
            env: env.to_string(),
            root: project.root.clone(),
            name: project_name(&project.root, env, name_override),
            files,
            env_file,
        })
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

/// The Compose project name for `env`: the override, else the root folder's name normalised
/// the way Compose normalises names. The test environment gets `-test` appended so that
/// `timmy test` can never stop or recreate the containers of a running dev stack.
pub fn project_name(root: &Path, env: &str, name_override: Option<&str>) -> String {
    let base = match name_override {
        Some(name) => normalize(name),
        None => normalize(
            &root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
    };
    let base = if base.is_empty() {
        "timmy".to_string()
    } else {
        base
    };
    if env == "test" {
        format!("{base}-test")
    } else {
        base
    }
}

/// Compose accepts lowercase letters, digits, `_` and `-`, starting with a letter or digit.
fn normalize(name: &str) -> String {
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
        assert_eq!(project_name(Path::new(root), env, over), expected);
    }

    #[test]
    fn project_names() {
        name_case("/src/timmy", "dev", None, "timmy");
        name_case("/src/timmy", "prod", None, "timmy");
        name_case("/src/timmy", "test", None, "timmy-test");
        name_case("/src/My Timmy.App", "dev", None, "mytimmyapp");
        name_case("/src/_x", "dev", None, "x");
        name_case("/src/ÜBER", "dev", None, "ber");
        name_case("/", "dev", None, "timmy");
        name_case("/src/timmy", "dev", Some("E2E_one"), "e2e_one");
        name_case("/src/timmy", "test", Some("ci"), "ci-test");
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
        assert!(
            err.message
                .ends_with("docker/docker-compose.dev.yml is missing"),
            "{err:?}"
        );
    }
}
