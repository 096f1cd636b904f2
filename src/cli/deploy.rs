//! `timmy deploy`'s arguments and its help: the Swarm-only settings (render, publish and
//! secrets modes, scale, registry, the wait) kept apart from the Compose commands.

use clap::Args;
use clap_complete::engine::ArgValueCandidates;

use crate::project;

/// Printed after `timmy deploy --help`'s options.
pub(super) const AFTER_HELP: &str = "\
Examples:
  timmy deploy --render             prod's stack file for `docker stack deploy`, secrets masked
  timmy deploy dev --render --publish host
  timmy deploy --render --show-secrets > stack.yml
  timmy deploy                      build, tag by content, deploy prod, wait until healthy
  timmy deploy --scale timmy=3      three replicas of timmy
  timmy deploy --registry 127.0.0.1:5000   push the images there; every node pulls them

The stack file is the env's merged compose configuration (docker/swarm.compose.yml added),
translated for Swarm: every key Swarm drops or changes is a warning naming its file:line, every
key it refuses an error (exit 1, nothing printed on stdout). .env is checked first, exactly as
for `timmy up`. Secret values of .env become Swarm secrets (mounted at /run/secrets/KEY, with
KEY_FILE in the environment) unless --secrets env. docs/SWARM.md has the table of keys.
Without --render: the engine must be a swarm manager; the images are built and tagged
<project>-<service>:<12 hex digits of the image id> (never latest), the stack deployed, and
timmy waits until every service is at its replicas, running and healthy. A task that fails
stops the wait at once, naming the service with docker's error and its last log lines (exit 1).
timmy ps/logs/down ENV then act on the deployed stack.";

#[derive(Debug, Args)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent command-line flags, as clap defines them"
)]
pub struct DeployArgs {
    /// Environment to deploy
    #[arg(add = ArgValueCandidates::new(project::env_candidates), default_value = "prod")]
    pub env: String,
    /// Print the stack file (secret values masked) and what Swarm drops or refuses; needs no
    /// Swarm and changes nothing
    #[arg(long)]
    pub render: bool,
    /// Print secret values in full
    #[arg(long)]
    pub show_secrets: bool,
    /// How published ports are reached: `ingress` (every node, Swarm's routing mesh) or
    /// `host` (the node running the task); both bind every interface. Overrides
    /// `SWARM_PUBLISH_MODE` of .env
    #[arg(long, value_enum, value_name = "MODE")]
    pub publish: Option<crate::swarm::PublishMode>,
    /// Where the secret values of .env go: `swarm` (Swarm secrets, `KEY_FILE` in the
    /// environment) or `env` (the environment, as with timmy up)
    #[arg(long, value_enum, value_name = "MODE", default_value = "swarm")]
    pub secrets: crate::swarm::SecretsMode,
    /// Treat warnings of the .env check as errors
    #[arg(long)]
    pub strict: bool,
    /// Return once docker accepted the stack, without waiting for it to converge
    #[arg(long, conflicts_with = "render")]
    pub detach: bool,
    /// Replicas of a service, over what the files say (repeatable): --scale timmy=3
    #[arg(long, value_name = "SERVICE=N")]
    pub scale: Vec<String>,
    /// Push the images to this registry (HOST:PORT) and deploy them from it: every node of a
    /// swarm with more than one node pulls them from there
    #[arg(long, value_name = "HOST:PORT")]
    pub registry: Option<String>,
    /// Seconds to wait for every service to be at its replicas, running and healthy
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
}
