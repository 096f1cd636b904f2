//! `timmy man`: the man page, rendered by `clap_mangen` from the same clap definition as
//! `--help`, so the two never disagree. `timmy man COMMAND` prints the page `timmy-COMMAND(1)`.

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::exit::UserError;

pub fn run(a: &ManArgs) -> Result<()> {
    crate::ui::out(render(a.command.as_deref())?)?;
    Ok(())
}

/// The roff text of the main page, or of one command's page.
pub fn render(command: Option<&str>) -> Result<Vec<u8>> {
    let mut cli = Cli::command();
    cli.build();
    let cmd = match command {
        None => cli,
        Some(name) => {
            let Some(sub) = cli.find_subcommand(name).cloned() else {
                let names: Vec<&str> = cli
                    .get_subcommands()
                    .map(clap::Command::get_name)
                    .filter(|n| *n != "help")
                    .collect();
                return Err(UserError::new(format!("timmy has no command `{name}`"))
                    .hint(format!("commands: {}", names.join(", ")))
                    .into());
            };
            // clap names are `&'static str` without its `string` feature; one page per process.
            let full: &'static str = format!("timmy-{}", sub.get_name()).leak();
            sub.name(full)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_page_lists_commands_and_examples() {
        let page = String::from_utf8(render(None).unwrap()).unwrap();
        assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{}", &page[..80]);
        assert!(page.contains(".TH timmy 1"), "{page}");
        for command in ["doctor", "run", "up", "down", "man"] {
            assert!(page.contains(&format!("timmy\\-{command}(1)")), "{command}");
        }
        assert!(page.contains("Examples:"));
    }

    #[test]
    fn command_page_and_unknown_command() {
        let page = String::from_utf8(render(Some("up")).unwrap()).unwrap();
        assert!(page.contains(".TH timmy-up 1"), "{page}");
        assert!(page.contains("\\-\\-timeout"), "{page}");
        let err = render(Some("frobnicate")).unwrap_err();
        let user = err.downcast_ref::<UserError>().unwrap();
        assert_eq!(user.message, "timmy has no command `frobnicate`");
        assert!(user.hint.as_deref().unwrap().contains("doctor"));
    }
}
