//! `build` and `test`: build the images of a stack; run the test service in a throwaway stack
//! that is always removed afterwards.

use anyhow::Result;

use super::{Ctx, is_interactive};
use crate::checkout;
use crate::cli;
use crate::compose;
use crate::docker::{Docker, Outcome};
use crate::exit::{Exit, UserError};
use crate::stack::Stack;
use crate::ui;
use crate::validate;

impl Ctx {
    pub(super) fn build(&self, a: &cli::BuildArgs) -> Result<()> {
        let project = self.project()?;
        let stack = self.stack(&project, &a.env)?;
        validate::gate(&stack, false)?;
        let docker = self.docker()?;
        validate::compose_gate(&docker, &stack)?;
        let command = format!("build {}", stack.env);
        self.refuse_other_checkout(&docker, &project, &stack.name, &command)?;
        let _lock = self.lock(&project.root, &stack.name, "build")?;
        docker.run_ok(&compose::build(&stack, a.no_cache)).map(drop)
    }

    /// Run the `tests` service of the test stack, then always remove the whole test stack.
    pub(super) fn test(&self, a: &cli::TestArgs) -> Result<()> {
        let project = self.project()?;
        if !project.envs.iter().any(|e| e == "test") {
            return Err(UserError::new(
                "the test stack needs docker/docker-compose.test.yml, which does not exist",
            )
            .hint("create it with a `tests` service; timmy test runs that service and exits with its code")
            .into());
        }
        let stack = self.stack(&project, "test")?;
        validate::gate(&stack, false)?;
        let docker = self.docker()?;
        validate::compose_gate(&docker, &stack)?;
        let split = self.refuse_other_checkout(&docker, &project, &stack.name, "test")?;
        if let Some(other) = checkout::other_env(&split.ours, &stack.env) {
            return Err(checkout::other_env_under(&stack.name, &other, &stack.env, "test").into());
        }
        let _lock = self.lock(&project.root, &stack.name, "test")?;
        let run = compose::run(&stack, "tests", &a.command, is_interactive());
        let outcome = docker.run_masked(&run);
        let cleaned = self.remove_test_stack(&docker, &stack);
        let outcome = outcome?;
        if let Err(e) = cleaned {
            ui::warning(&format!("cleaning up the test stack failed: {e:#}"));
        }
        let Outcome::Ran(code) = outcome else {
            return Ok(());
        };
        if code == 0 {
            ui::info("tests passed; test stack removed");
            Ok(())
        } else {
            ui::error(&format!(
                "tests failed with exit code {code}; test stack removed"
            ));
            Err(Exit::Docker(code).into())
        }
    }

    /// `down --volumes` for the disposable test stack, even after Ctrl-C. A container that
    /// `compose run` was still creating when it was interrupted can appear after `down` listed
    /// the project (measured: the network then stays "in use"); such stragglers are removed by
    /// id and `down` runs once more.
    pub(super) fn remove_test_stack(&self, docker: &Docker, stack: &Stack) -> Result<()> {
        let down = compose::down(
            &stack.root,
            &stack.name,
            &stack.files,
            stack.env_file.as_deref(),
            true,
        );
        if docker.run_always(&down)? == Outcome::DryRun {
            return Ok(());
        }
        let left = self.containers(docker, &stack.root, &stack.name, true)?;
        if left.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = left.iter().map(|c| c.id.clone()).collect();
        // Their exit codes are not the verdict: the label query after them is.
        let _ = docker.run_always(&compose::remove_containers(&stack.root, &ids))?;
        let _ = docker.run_always(&down)?;
        let left = self.containers(docker, &stack.root, &stack.name, true)?;
        if !left.is_empty() {
            ui::report_leftovers(&stack.name, &left);
            return Err(Exit::Failure.into());
        }
        Ok(())
    }
}
