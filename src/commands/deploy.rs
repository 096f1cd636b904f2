//! `deploy`: an environment as a Swarm stack. The plan is the env's merged compose
//! configuration (with [`swarm::SWARM_FILE`]) translated by [`swarm::render`]; `--render`
//! prints it, masked, with what Swarm drops or refuses, and needs no Swarm.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{Ctx, swarm_run};
use crate::cli;
use crate::compose;
use crate::exit::{Exit, UserError};
use crate::project::Project;
use crate::stack::Stack;
use crate::swarm;
use crate::ui;
use crate::validate;

impl Ctx {
    pub(super) fn deploy(&self, a: &cli::DeployArgs) -> Result<()> {
        let project = self.project()?;
        let stack = self.swarm_stack(&project, &a.env)?;
        validate::gate(&stack, a.strict)?;
        // As Compose reads a variable: the shell's value over `.env`'s.
        let mut env = validate::resolved_env(&stack.root)?;
        for key in [swarm::ENDPOINT_MODE_KEY, swarm::PUBLISH_MODE_KEY] {
            if let Some(value) = validate::shell_lookup(key) {
                env.push((key.to_owned(), value));
            }
        }
        let mut options = options(a, &env, &stack, &secrets_dir(&stack.name))?;
        options.scale = swarm_run::parse_scale(&a.scale)?;
        let docker = self.docker_offline()?;
        validate::compose_gate(&docker, &stack)?;
        let out = docker.query(&compose::config_json(&stack))?;
        if out.code != 0 {
            eprint!("{}", docker.masker.text(&out.stderr));
            return Err(Exit::Docker(out.code).into());
        }
        let config: serde_json::Value = serde_json::from_str(&out.stdout)
            .context("cannot read the JSON of `docker compose config`")?;
        let sources = sources(&stack);
        let mut rendered = swarm::render(&config, &sources, &options);
        rendered
            .findings
            .extend(swarm::update_hazards(&rendered.stack));
        validate::report(
            &rendered.findings,
            false,
            Some("Swarm would not run this stack as written"),
        )?;
        if !a.render {
            let run = swarm_run::Run {
                detach: a.detach,
                timeout: std::time::Duration::from_secs(a.timeout),
                registry: a.registry.as_deref(),
            };
            let render = |o: &swarm::Options| swarm::render(&config, &sources, o);
            return self.deploy_run(&stack, options, &render, &run);
        }
        let text = if a.show_secrets {
            rendered.text()
        } else {
            rendered.display(&docker.masker)
        };
        ui::out(text)
    }

    /// The env's file stack for a Swarm: its files and [`swarm::SWARM_FILE`] when the project
    /// has it; never the engine-specific file (stack files have no `start_interval`).
    fn swarm_stack(&self, project: &Project, env: &str) -> Result<Stack, UserError> {
        let env = project.resolve_env(env)?;
        let mut stack = Stack::new(project, &env, self.global.project_name.as_deref())?;
        let file = stack.root.join(swarm::SWARM_FILE);
        if file.is_file() {
            stack.files.push(file);
        }
        Ok(stack)
    }
}

/// Where the secret files of a stack are written for `docker stack deploy` to read: the
/// user's own runtime directory (`XDG_RUNTIME_DIR`, mode 0700, in memory) when there is one,
/// else the temp directory.
fn secrets_dir(name: &str) -> PathBuf {
    secrets_dir_in(
        std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from),
        &std::env::temp_dir(),
        name,
    )
}

fn secrets_dir_in(runtime: Option<PathBuf>, temp: &Path, name: &str) -> PathBuf {
    runtime
        .filter(|dir| dir.is_absolute())
        .unwrap_or_else(|| temp.to_owned())
        .join(format!("timmy-{name}-secrets"))
}

/// The stack's compose files as (display name, text), to name where a key was written.
fn sources(stack: &Stack) -> Vec<(String, String)> {
    stack
        .relative_files()
        .into_iter()
        .zip(&stack.files)
        .map(|(shown, path)| (shown, std::fs::read_to_string(path).unwrap_or_default()))
        .collect()
}

/// The render's options: `--publish` over `SWARM_PUBLISH_MODE`, `SWARM_ENDPOINT_MODE`
/// (default `vip`), from `env` (`.env`, then the shell's values: the last one counts).
fn options(
    a: &cli::DeployArgs,
    env: &[(String, String)],
    stack: &Stack,
    secrets_dir: &Path,
) -> Result<swarm::Options, UserError> {
    let lookup = |key: &str| {
        env.iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let mut options = swarm::Options::new(&stack.name, &stack.root, secrets_dir);
    let refused =
        |bad: swarm::BadSetting| UserError::new(format!(".env: {}", bad.message)).hint(bad.hint);
    if let Some(value) = lookup(swarm::ENDPOINT_MODE_KEY) {
        options.endpoint_mode = swarm::endpoint_mode_setting(value).map_err(refused)?;
    }
    options.publish_mode = match (a.publish, lookup(swarm::PUBLISH_MODE_KEY)) {
        (Some(mode), _) => Some(mode),
        (None, Some(value)) => Some(swarm::publish_mode_setting(value).map_err(refused)?),
        (None, None) => None,
    };
    options.secrets = a.secrets;
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> cli::DeployArgs {
        let argv = ["timmy", "deploy", "--render"].iter().chain(extra);
        match cli::Cli::try_parse_from(argv).map(|c| c.command) {
            Ok(Some(cli::Command::Deploy(a))) => a,
            other => panic!("parsed as {other:?}"),
        }
    }

    fn stack() -> Stack {
        Stack {
            env: "prod".into(),
            root: PathBuf::from("/srv/timmy"),
            name: "timmy".into(),
            files: Vec::new(),
            env_file: None,
        }
    }

    #[track_caller]
    fn case(
        extra: &[&str],
        env: &[(&str, &str)],
        expected: Result<(swarm::EndpointMode, Option<swarm::PublishMode>), &str>,
    ) {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let got = options(&args(extra), &env, &stack(), Path::new("/tmp/s"))
            .map(|o| (o.endpoint_mode, o.publish_mode))
            .map_err(|e| e.message);
        assert_eq!(got, expected.map_err(str::to_owned));
    }

    #[test]
    fn modes_come_from_the_flag_then_env_then_the_defaults() {
        use swarm::EndpointMode::{Dnsrr, Vip};
        use swarm::PublishMode::{Host, Ingress};
        case(&[], &[], Ok((Vip, None)));
        case(&[], &[("SWARM_ENDPOINT_MODE", "")], Ok((Vip, None)));
        case(
            &[],
            &[
                ("SWARM_ENDPOINT_MODE", "dnsrr"),
                ("SWARM_PUBLISH_MODE", "host"),
            ],
            Ok((Dnsrr, Some(Host))),
        );
        case(
            &["--publish", "ingress"],
            &[("SWARM_PUBLISH_MODE", "host")],
            Ok((Vip, Some(Ingress))),
        );
        case(
            &["--publish", "host"],
            &[("SWARM_PUBLISH_MODE", "mesh")],
            Ok((Vip, Some(Host))),
        );
        case(
            &[],
            &[("SWARM_PUBLISH_MODE", "mesh")],
            Err(".env: SWARM_PUBLISH_MODE must be ingress or host"),
        );
        case(
            &[],
            &[("SWARM_ENDPOINT_MODE", "VIP")],
            Err(".env: SWARM_ENDPOINT_MODE must be vip or dnsrr"),
        );
    }

    #[test]
    fn deploy_runs_without_render_and_secrets_default_to_swarm() {
        assert!(cli::Cli::try_parse_from(["timmy", "deploy"]).is_ok());
        assert!(cli::Cli::try_parse_from(["timmy", "deploy", "--render", "--detach"]).is_err());
        assert_eq!(args(&[]).secrets, swarm::SecretsMode::Swarm);
        assert_eq!(args(&[]).env, "prod");
        let o = options(
            &args(&["--secrets", "env"]),
            &[],
            &stack(),
            Path::new("/tmp/s"),
        );
        assert_eq!(o.map(|o| o.secrets), Ok(swarm::SecretsMode::Env));
    }

    #[test]
    fn secret_files_go_to_the_users_runtime_dir_when_there_is_one() {
        let temp = Path::new("/tmp");
        assert_eq!(
            secrets_dir_in(Some("/run/user/1000".into()), temp, "timmy"),
            Path::new("/run/user/1000/timmy-timmy-secrets")
        );
        assert_eq!(
            secrets_dir_in(None, temp, "timmy"),
            Path::new("/tmp/timmy-timmy-secrets")
        );
        assert_eq!(
            secrets_dir_in(Some("relative".into()), temp, "timmy"),
            Path::new("/tmp/timmy-timmy-secrets")
        );
    }
}
