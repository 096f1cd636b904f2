//! Swarm (`timmy deploy`): the environment's resolved compose configuration turned into a
//! stack file `docker stack deploy` accepts ([`render`]), and the settings that only a Swarm
//! needs. Compose has already merged the env's files and interpolated `.env` (`docker compose
//! config --format json`); Swarm reads no `.env` and has its own, older loader (docker/cli's
//! v3 schema), so the translation is ours, pure, and says what it dropped or refused.
//!
//! How `deploy` uses it: [`builds`] names the services to build (and the image each must be
//! tagged as, given in [`Options::images`]); [`render`] gives a [`Rendered`]: its
//! [`Rendered::text`] goes to `docker stack deploy -c -` on stdin after each
//! [`SecretFile`] is written (mode 0600; `docker stack deploy` reads them, then they can go);
//! its `findings` print like `check`'s ([`crate::validate::report`]), and an error among them
//! ([`Rendered::refused`]) stops the deploy before anything runs; [`Rendered::display`] is the
//! masked form `--render` prints.
//!
//! Running it: [`invoke`] builds the docker commands (build and tag by content, `stack
//! deploy`, the queries), [`converge`] judges what docker reports while `deploy` waits.

pub mod converge;
pub mod invoke;
pub mod render;

pub use render::{Build, Options, Rendered, SecretFile, builds, render};

use clap::ValueEnum;

/// Added after the environment's files when rendering a stack: what only a Swarm needs
/// (replicas, rolling updates, restart policy, placement). Not a `docker-compose.<env>.yml`,
/// so never taken for an environment.
pub const SWARM_FILE: &str = "docker/swarm.compose.yml";
/// `.env` key choosing how services are reached inside the stack (`vip` or `dnsrr`).
pub const ENDPOINT_MODE_KEY: &str = "SWARM_ENDPOINT_MODE";
/// `.env` key choosing how ports are published (`ingress` or `host`).
pub const PUBLISH_MODE_KEY: &str = "SWARM_PUBLISH_MODE";

/// How other services reach a service: a virtual IP balanced by IPVS (`vip`, Swarm's
/// default) or DNS round robin over the tasks' own addresses (`dnsrr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EndpointMode {
    Vip,
    Dnsrr,
}

/// How a published port is reached: the routing mesh on every node (`ingress`, Swarm's
/// default) or only on the node that runs the task (`host`). Both bind every interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PublishMode {
    Ingress,
    Host,
}

/// Where secret values of the environment go: Swarm secrets mounted at `/run/secrets/KEY`
/// with `KEY_FILE` in the environment (`swarm`, the default), or left in the service's
/// environment as Compose has them (`env`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecretsMode {
    Swarm,
    Env,
}

impl EndpointMode {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vip => "vip",
            Self::Dnsrr => "dnsrr",
        }
    }

    /// A `.env` value (`vip`, `dnsrr`), case as typed.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        Self::from_str(value, false).ok()
    }
}

impl PublishMode {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ingress => "ingress",
            Self::Host => "host",
        }
    }

    /// A `.env` value (`ingress`, `host`), case as typed.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        Self::from_str(value, false).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_their_env_values_only() {
        assert_eq!(EndpointMode::parse("dnsrr"), Some(EndpointMode::Dnsrr));
        assert_eq!(EndpointMode::parse("vip"), Some(EndpointMode::Vip));
        assert_eq!(EndpointMode::parse("VIP"), None);
        assert_eq!(PublishMode::parse("host"), Some(PublishMode::Host));
        assert_eq!(PublishMode::parse("ingress"), Some(PublishMode::Ingress));
        assert_eq!(PublishMode::parse("mesh"), None);
        assert_eq!(PublishMode::Host.as_str(), "host");
        assert_eq!(EndpointMode::Dnsrr.as_str(), "dnsrr");
    }
}
