//! The command-line surface: clap definitions and help texts, nothing else. Parsing does no I/O;
//! `commands/` turns the parsed values into plans and runs them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::ArgValueCandidates;

use crate::project;

mod deploy;

pub use deploy::DeployArgs;

const ABOUT: &str = "Run the Timmy service stack on Docker Compose v2: the right files for each \
environment, a validated .env, health waits and no orphans.";

const AFTER_HELP: &str = "\
Examples:
  timmy                    the project's status and the most useful next command
  timmy doctor             is this machine ready to run the stack? a fix for each problem
  timmy up                 start the dev stack, wait for health, follow its logs
  timmy up prod            start the prod stack in the background
  timmy check prod         validate .env against .env.example and the prod file stack
  timmy ps                 services with state, health and ports
  timmy shell              a shell in the `timmy` container (bash, else sh)
  timmy down               stop what is running and report any leftover container

Environments are the files docker/docker-compose.<env>.yml next to docker/docker-compose.yml.
Every command that acts on a stack takes the environment first: timmy logs test timmy. Without
one, ps/logs/shell/exec/restart/down act on the stack of this checkout that runs.
Exit codes: 0 ok, 1 timmy's own error, 2 usage, docker's code when a docker command fails,
128+N when stopped by signal N (130 for Ctrl-C).";

const CHECK_RULES: &str = "\
Examples:
  timmy check               the dev stack, plus a line per environment judged otherwise
  timmy check prod --strict warnings count as errors

.env is read with Compose v2's own rules (the same values, the same line numbers):
  KEY=value, `export KEY=value`, `KEY: value`; a value in \"double quotes\" expands \\n and ${VAR};
  in 'single quotes' nothing expands; unquoted, ` #` starts a comment but a tab before # does not;
  $VAR and ${VAR} are interpolated from the shell first, then from earlier keys; $$ is a `$`.

Errors (nothing starts):
  a line Compose cannot parse; a key of .env.example missing or empty (commented-out keys of
  .env.example are optional); a secret-looking key (TOKEN, SECRET, PASSWORD, API_KEY...) holding
  a placeholder or the example's value; a ${VAR} of the compose files that is unset and has no
  default; an unset ${VAR:?}; .env writable by others; a value of the wrong type (a port
  1-65535, 0 only for a published host port; a count; CPUs; a size like 512m), typed by where the
  compose files use it and `*_PORT` by name; a control character (NUL, ESC...) in a value; a
  compose file that is not valid YAML or repeats a key; and, where Docker is installed, what
  `docker compose config` refuses (an unknown key such as `restartt`), each with file:LINE.
Warnings:
  `$` that Compose would swallow (pa$word -> pa), duplicate keys (the last wins), a tab before #,
  `KEY=   # note` (the value is `# note`), CRLF, BOM, no final newline, odd or lowercase keys,
  keys shadowed by the shell, token shapes that look wrong (GitHub, ClickUp, Anthropic, OpenAI,
  Google), a value shaped like a secret (token, webhook URL, Authorization credential, random
  string) under a key that does not say it is secret, .env readable by others (chmod 600 .env),
  a docker/.env beside the root .env, COMPOSE_PROJECT_NAME / COMPOSE_FILE / COMPOSE_PROFILES in
  .env, a `KEY` line without `=` (Compose takes it from the shell), a key one or two letters
  away from one of .env.example (GITHUB_TOKNE: did you mean GITHUB_TOKEN?), and a folder name
  Compose cannot use as the project name (the name used is shown).

Requirements per environment: a `#:` line above a key of .env.example says which
environments need it and what does not work without it:
  #: required-in=prod  missing=\"calls to OpenAI will fail\"
  OPENAI_API_KEY=sk-your_key_here
`required-in` takes environment names separated by commas; a value with spaces goes in double
quotes. Where the key is not required, a missing, empty or placeholder value is a warning naming
what will not work (`OPENAI_API_KEY is a placeholder: calls to OpenAI will fail`); where it is
required, an error. A key without a directive is required everywhere, and prod requires every
secret whatever its directive says.

Findings read `.env:LINE: message` with a hint. Values are never printed.
Exit 1 when an error is found in the environment checked (dev without one), or a warning
with --strict; else 0.";

#[derive(Debug, Parser)]
#[command(
    name = "timmy",
    version,
    about = ABOUT,
    after_help = AFTER_HELP,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    /// Without a command, timmy shows a short status of the project and what to run next
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Project root (the folder holding docker/docker-compose.yml); found by walking up from the
    /// current directory when not given
    #[arg(long, global = true, value_name = "DIR", env = "TIMMY_PROJECT_DIR")]
    pub project_dir: Option<PathBuf>,

    /// Compose project base name; defaults to the root folder's name. prod runs under the name
    /// itself, every other env under `<name>-<env>` (dev: `<name>-dev`, test: `<name>-test`)
    #[arg(
        short = 'p',
        long,
        global = true,
        value_name = "NAME",
        env = "TIMMY_PROJECT_NAME"
    )]
    pub project_name: Option<String>,

    /// Print the docker commands that would change something instead of running them
    /// (read-only queries such as `docker ps` still run)
    #[arg(short = 'n', long, global = true)]
    pub dry_run: bool,

    /// Print every docker command before running it
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// When to use colours; `NO_COLOR` and non-terminals turn them off under `auto`
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate .env, start the stack, wait until every service is healthy
    #[command(after_help = "\
Examples:
  timmy up                 dev stack, then follow its logs (Ctrl-C stops following, not the stack)
  timmy up prod            prod stack, detached
  timmy up dev -d          dev stack, do not follow logs

Each env runs its own image (`<project>-timmy:<env>`), rebuilt when its sources changed.
Nothing starts when `timmy check` finds an error or a port the stack publishes is in use.
If a service exits or turns unhealthy while timmy waits, it names the service, shows its last
log lines and health-check output, and exits 1. A service that was already unhealthy before
`up` (Compose leaves it running) gets 20 s to recover first.")]
    Up(UpArgs),

    /// Stop the running stack, then check that no container of the project is left
    #[command(after_help = "\
Examples:
  timmy down               stop whatever stack of this checkout is up (learnt from container labels)
  timmy down dev --volumes also remove the dev stack's named volumes, even when it is stopped
  timmy down prod --volumes --yes   prod's volumes: asks first, --yes for scripts

Containers another checkout started under the same project name are never touched. Exits 1 when
a container of the project is still there afterwards, and prints how to remove it.")]
    Down(DownArgs),

    /// Show the services with state, health and ports
    #[command(
        visible_alias = "status",
        after_help = "\
Examples:
  timmy ps                 the stack of this checkout that runs
  timmy ps test            the test stack (every env has its own project name)
  timmy ps --json          a JSON array: [{\"service\", \"name\", \"state\", \"health\", \"exit_code\", \"ports\", \"image\"}]"
    )]
    Ps(PsArgs),

    /// Show the logs of the running stack
    #[command(
        override_usage = "timmy logs [OPTIONS] [ENV] [SERVICE]...",
        after_help = "\
Examples:
  timmy logs -f                     follow every service
  timmy logs timmy --tail 50        last 50 lines of the timmy service
  timmy logs test redis --since 10m the test stack's redis

A first name that is an environment picks the stack; without one, the stack that runs."
    )]
    Logs(LogsArgs),

    /// Open an interactive shell in a running service (bash, falling back to sh)
    #[command(
        override_usage = "timmy shell [OPTIONS] [ENV] [SERVICE]",
        after_help = "\
Examples:
  timmy shell                       a shell in the `timmy` service
  timmy shell redis
  timmy shell test                  the `timmy` service of the test stack
  timmy shell timmy -c 'ls /app'    run one shell command and exit with its code"
    )]
    Shell(ShellArgs),

    /// Run a command in a running service
    #[command(
        override_usage = "timmy exec [OPTIONS] [ENV] <SERVICE> -- <CMD>...",
        after_help = "\
Examples:
  timmy exec timmy -- node --version
  timmy exec prod redis -- redis-cli info memory

With two names the first is the environment; with one it is the service, in the stack that runs."
    )]
    Exec(ExecArgs),

    /// Run a one-off command in a new container of a service, removed afterwards
    #[command(
        override_usage = "timmy run [OPTIONS] [ENV] <SERVICE> [-- <CMD>...]",
        after_help = "\
Examples:
  timmy run timmy -- node --version          the running stack, else dev (ENV left out)
  timmy run prod timmy -- node scripts/migrate.js
  timmy run redis -- redis-cli -h redis ping

With two names the first must be an environment (dev, prod, test, … or an alias); with one name
it is the service, in the stack of this checkout that runs (dev when none runs). The command goes
after `--`; without it the service's own command runs. .env is validated first, exactly as for
`timmy up`. Services the container depends on are started when needed and stopped again
afterwards; what was running before keeps running.
Exits with the command's exit code."
    )]
    Run(RunArgs),

    /// Validate .env, then build the images of a stack
    #[command(after_help = "\
Examples:
  timmy build               images of the dev stack
  timmy build prod --no-cache")]
    Build(BuildArgs),

    /// Restart services of the running stack
    #[command(
        override_usage = "timmy restart [OPTIONS] [ENV] [SERVICE]...",
        after_help = "\
Examples:
  timmy restart             every service
  timmy restart timmy
  timmy restart prod timmy"
    )]
    Restart(RestartArgs),

    /// Run the test stack to completion and exit with the tests' exit code; always cleans up
    #[command(after_help = "\
Examples:
  timmy test                        the `tests` service of docker/docker-compose.test.yml
  timmy test -- node --test /app/app/test/health.test.js

The test stack has its own project name (<name>-test), so it never touches a dev stack and never
waits for one.")]
    Test(TestArgs),

    /// Validate .env against .env.example and the selected file stack; starts nothing
    #[command(
        after_help = "\
Examples:
  timmy check               the dev stack, plus a line per environment judged otherwise
  timmy check prod --strict warnings count as errors

Findings read `.env:LINE: message` with a hint. Values are never printed.
Exit 1 when an error is found in the environment checked (dev without one), or a warning
with --strict; else 0. `--help` lists the rules and the `#:` directives of .env.example.",
        after_long_help = CHECK_RULES
    )]
    Check(CheckArgs),

    /// Check that this machine can run the stack, with a fix for each problem
    #[command(after_help = "\
Examples:
  timmy doctor
  timmy doctor --json       [{\"check\", \"status\": \"ok|warn|fail\", \"detail\", \"fix\"}] for bug reports

Every check runs even when an earlier one fails. Exit 1 when a check fails (✗), else 0.")]
    Doctor(DoctorArgs),

    /// Print the variables of .env exactly as Compose will read them, secrets masked
    #[command(after_help = "\
Examples:
  timmy env
  timmy env --json                  {\"KEY\": \"value\", ...}
  timmy env --show-secrets          do not mask secret-looking values")]
    Env(EnvArgs),

    /// Print the merged compose configuration (secrets masked), or the file stack
    #[command(after_help = "\
Examples:
  timmy config prod                 merged config, secret values masked
  timmy config prod --files         docker/docker-compose.yml, docker/docker-compose.prod.yml
  eval \"$(timmy config prod --export)\"  then plain `docker compose ps` targets the same stack")]
    Config(ConfigArgs),

    /// Deploy an environment to a Docker Swarm as a stack; --render prints its stack file
    #[command(after_help = deploy::AFTER_HELP)]
    Deploy(DeployArgs),

    /// Print a shell completion script
    #[command(after_help = "\
Examples:
  timmy completions bash > ~/.local/share/bash-completion/completions/timmy
  timmy completions zsh > \"${fpath[1]}/_timmy\"

These scripts complete commands and flags. For environment and service names of the project
you are in, let the shell ask timmy at completion time instead:
  echo 'source <(COMPLETE=bash timmy)' >> ~/.bashrc      (zsh: COMPLETE=zsh, fish: COMPLETE=fish)")]
    Completions(CompletionsArgs),

    /// Print timmy's man page (roff), or the page of one command
    #[command(after_help = "\
Examples:
  timmy man | man -l -
  timmy man > ~/.local/share/man/man1/timmy.1
  timmy man up > ~/.local/share/man/man1/timmy-up.1")]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Environment: dev, prod, test or any docker/docker-compose.<env>.yml
    #[arg(add = ArgValueCandidates::new(project::env_candidates), default_value = "dev")]
    pub env: String,
    /// Always run Compose's `up --build`, also when nothing changed since the last `up`
    /// (without it, `up -d` on a stack that runs unchanged skips Compose; every `up` that runs
    /// Compose builds the env's image, the builder's cache skipping what did not change)
    #[arg(long, hide = true)]
    pub build: bool,
    /// Do not follow the logs after the stack is up (the default outside dev)
    #[arg(short, long)]
    pub detach: bool,
    /// Seconds to wait for the services to become healthy
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub timeout: u32,
    /// Treat warnings of the .env check as errors
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Environment to stop; by default the one that is running, learnt from container labels
    #[arg(add = ArgValueCandidates::new(project::env_candidates))]
    pub env: Option<String>,
    /// Also remove the stack's named volumes (data is lost)
    #[arg(long)]
    pub volumes: bool,
    /// Do not ask before removing volumes in prod
    #[arg(short, long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Environment whose stack to show; by default the stack of this checkout that runs
    #[arg(add = ArgValueCandidates::new(project::env_candidates), value_name = "ENV")]
    pub env: Option<String>,
    /// Print a JSON array instead of a table
    #[arg(long)]
    pub json: bool,
    /// The same as the ENV argument (kept from the first version)
    #[arg(add = ArgValueCandidates::new(project::env_candidates), long = "env", value_name = "ENV", conflicts_with = "env", hide = true)]
    pub env_flag: Option<String>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Services to show (all when none given), after an optional environment
    #[arg(add = ArgValueCandidates::new(project::env_and_service_candidates), value_name = "[ENV] SERVICE")]
    pub services: Vec<String>,
    /// Keep following new lines
    #[arg(short, long)]
    pub follow: bool,
    /// Number of lines to show from the end of each log
    #[arg(long, value_name = "N")]
    pub tail: Option<u32>,
    /// Only lines since a timestamp or a relative time (42m, 2h)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
}

#[derive(Debug, Args)]
pub struct ShellArgs {
    /// Service to enter (`timmy` when left out), after an optional environment
    #[arg(add = ArgValueCandidates::new(project::env_and_service_candidates), num_args = 0..=2, value_name = "[ENV] SERVICE")]
    pub names: Vec<String>,
    /// Run this shell command instead of an interactive shell
    #[arg(short = 'c', value_name = "COMMAND")]
    pub command: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Service to run the command in, after an optional environment
    #[arg(add = ArgValueCandidates::new(project::env_and_service_candidates), required = true, num_args = 1..=2, value_name = "[ENV] SERVICE")]
    pub names: Vec<String>,
    /// The command and its arguments (after `--`)
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Environment whose images to build
    #[arg(add = ArgValueCandidates::new(project::env_candidates), default_value = "dev")]
    pub env: String,
    /// Build without the layer cache
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Services to restart (all when none given), after an optional environment
    #[arg(add = ArgValueCandidates::new(project::env_and_service_candidates), value_name = "[ENV] SERVICE")]
    pub services: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Command to run in the `tests` service instead of its default (after `--`)
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Environment whose file stack to check; without one, dev is checked and every other
    /// environment whose verdict differs gets a line of its own
    #[arg(add = ArgValueCandidates::new(project::env_candidates))]
    pub env: Option<String>,
    /// Treat warnings as errors
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Environment (only matters for the shell-environment lookup order, kept for symmetry)
    #[arg(add = ArgValueCandidates::new(project::env_candidates), default_value = "dev")]
    pub env: String,
    /// Print one JSON object {"KEY": "value", ...}
    #[arg(long)]
    pub json: bool,
    /// Print secret-looking values in full
    #[arg(long)]
    pub show_secrets: bool,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Environment whose configuration to print
    #[arg(add = ArgValueCandidates::new(project::env_candidates), default_value = "dev")]
    pub env: String,
    /// Print only the compose files of the stack, one per line
    #[arg(long, conflicts_with = "export")]
    pub files: bool,
    /// Print `export COMPOSE_FILE=… COMPOSE_PROJECT_NAME=…` lines for plain `docker compose`
    #[arg(long)]
    pub export: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The service, optionally preceded by an environment (dev when left out): with two names
    /// the first must be an environment
    #[arg(required = true, num_args = 1..=2, value_name = "[ENV] SERVICE")]
    pub names: Vec<String>,
    /// The command and its arguments (after `--`); the service's own command when left out
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print a JSON array [{"check", "status", "detail", "fix"}] instead of the checklist
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (timmy-COMMAND(1)); the main page when left out
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to generate the script for
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests;
