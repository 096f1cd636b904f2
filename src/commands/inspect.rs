//! `check`, `env` and `config`: what timmy and Compose make of the project's files, shown
//! without starting anything.

use std::fmt::Write as _;

use anyhow::Result;

use super::Ctx;
use crate::cli;
use crate::compose;
use crate::compose_dialect;
use crate::docker::Docker;
use crate::exit::Exit;
use crate::project::Project;
use crate::secrets;
use crate::stack::Stack;
use crate::ui;
use crate::validate;

impl Ctx {
    pub(super) fn check(&self, a: &cli::CheckArgs) -> Result<()> {
        let project = self.project()?;
        // `.env` is read and worked out while the stack asks the engine for its API version
        // (a wait on the daemon, up to milliseconds on a busy one).
        let (stack, judge) = std::thread::scope(|s| {
            let judge =
                s.spawn(|| validate::Judge::new(&project.root).map(validate::Judge::prepared));
            let stack = self.stack(&project, a.env.as_deref().unwrap_or("dev"));
            let judge = judge
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (stack, judge)
        });
        let stack = stack?;
        let mut judge = judge?;
        let mut found = judge.findings(&stack)?;
        // Compared with the other environments' own findings (Compose is asked for dev only).
        let own = found.clone();
        // Compose's own verdict where Docker and Compose are installed (no daemon needed),
        // unless timmy's own findings already refuse the configuration; so also what the
        // installed Compose's version reads differently from timmy.
        let refused = (a.strict && !found.is_empty())
            || found.iter().any(|f| f.level == crate::check::Level::Error);
        if !refused && let Ok(docker) = self.docker_offline() {
            let mut refused = Self::compose_dialect(&docker, &stack);
            refused.append(&mut validate::compose_findings(&docker, &stack)?);
            refused.append(&mut found);
            found = refused;
        }
        validate::report(&found, a.strict, None)?;
        // Other environments judge differently only through `.env.example`'s `#:` directives
        // (each is judged with what `judge` worked out from `.env` for dev).
        let declared = std::fs::read_to_string(project.root.join(".env.example"))
            .is_ok_and(|t| !crate::requirements::Requirements::parse(&t).0.is_empty());
        let others = if a.env.is_none() && declared {
            self.other_verdicts(&project, &mut judge, &own)
        } else {
            Vec::new()
        };
        let files = stack.relative_files().join(" + ");
        if found.is_empty() {
            ui::info(&format!(
                ".env is valid for the {} stack ({files})",
                stack.env
            ));
        } else {
            ui::info(&format!(
                ".env is usable for the {} stack ({files}) with {}",
                stack.env,
                validate::plural(found.len(), "warning")
            ));
        }
        for line in others {
            ui::info(&line);
        }
        // What `.env` gave (an entry and its findings per line) is left for the process's
        // exit to free: freeing it piece by piece cost 4 % of `check` on 10,000 lines.
        std::mem::forget(judge);
        Ok(())
    }

    /// What the installed Compose, unlike timmy, refuses in `.env` ([`compose_dialect`]); its
    /// version is asked only when `.env` may hold a dashed key, and nothing is said without it.
    pub(super) fn compose_dialect(docker: &Docker, stack: &Stack) -> Vec<crate::check::Finding> {
        let Some(text) = stack
            .env_file
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .filter(|t| compose_dialect::may_have_dashed_key(t))
        else {
            return Vec::new();
        };
        match docker.query(&crate::compose::compose_version(&stack.root)) {
            Ok(out) if out.code == 0 => compose_dialect::findings(&text, &out.stdout),
            _ => Vec::new(),
        }
    }

    /// One line for each environment other than dev whose findings differ from dev's (keys
    /// `.env.example` requires there but not in dev), so a bare `timmy check` shows every
    /// verdict that differs. `judge` has read `.env` for dev already.
    pub(super) fn other_verdicts(
        &self,
        project: &Project,
        judge: &mut validate::Judge,
        dev: &[crate::check::Finding],
    ) -> Vec<String> {
        let mut lines = Vec::new();
        for env in project.envs.iter().filter(|e| *e != "dev") {
            let found = match self.stack(project, env) {
                Ok(stack) => judge.findings(&stack),
                Err(e) => Err(e),
            };
            let verdict = match found {
                Ok(found) if same_findings(&found, dev) => continue,
                Ok(found) => validate::verdict(&found),
                Err(e) => e.message,
            };
            lines.push(format!("{env}: {verdict} (timmy check {env} lists them)"));
        }
        lines
    }

    pub(super) fn env(&self, a: &cli::EnvArgs) -> Result<()> {
        let project = self.project()?;
        project.resolve_env(&a.env)?;
        let vars = validate::resolved_env(&project.root)?;
        let masker = secrets::masker(&project.root);
        let (pasted, vars): (Vec<_>, Vec<_>) = vars
            .into_iter()
            .partition(|(k, v)| !a.show_secrets && secrets::looks_like_pasted_data(k, v));
        if !pasted.is_empty() {
            let lines = match pasted.len() {
                1 => "1 line looks".to_owned(),
                n => format!("{n} lines look"),
            };
            ui::warning(&format!(
                ".env: {lines} like a pasted value, not KEY=value; not shown (see timmy check)"
            ));
        }
        let shown: Vec<(String, String)> = vars
            .into_iter()
            .map(|(k, v)| {
                let v = if a.show_secrets {
                    v
                } else {
                    masker.value(Some(&k), &v)
                };
                (k, v)
            })
            .collect();
        let mut out = String::new();
        if a.json {
            let map: serde_json::Map<String, serde_json::Value> = shown
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            let _ = writeln!(out, "{}", serde_json::Value::Object(map));
        } else {
            for (k, v) in shown {
                let _ = writeln!(out, "{k}={v}");
            }
        }
        ui::out(out)
    }

    pub(super) fn config(&self, a: &cli::ConfigArgs) -> Result<()> {
        let project = self.project()?;
        let stack = self.stack(&project, &a.env)?;
        if a.files {
            return ui::out(stack.relative_files().join("\n") + "\n");
        }
        if a.export {
            return ui::out(ui::export_lines(&stack));
        }
        validate::gate(&stack, false)?;
        let docker = self.docker_offline()?;
        let out = docker.query(&compose::config(&stack))?;
        ui::out(docker.masker.yaml(&out.stdout))?;
        if out.code != 0 {
            eprint!("{}", docker.masker.text(&out.stderr));
            return Err(Exit::Docker(out.code).into());
        }
        Ok(())
    }
}

/// The same problems at the same places (hints name the environment, so they differ).
pub(super) fn same_findings(a: &[crate::check::Finding], b: &[crate::check::Finding]) -> bool {
    let key = |f: &crate::check::Finding| (f.level, f.file.clone(), f.line, f.message.clone());
    a.len() == b.len() && a.iter().map(key).eq(b.iter().map(key))
}
