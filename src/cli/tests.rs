//! The clap definition checked as a whole (`debug_assert`, an example in every command's help)
//! and the parsing of the arguments that take more than flags.

use super::*;
use clap::CommandFactory;

#[test]
fn cli_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn every_subcommand_help_has_an_example() {
    let cmd = Cli::command();
    for sub in cmd.get_subcommands() {
        let after = sub
            .get_after_help()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(
            after.contains("Examples:") && after.contains("timmy "),
            "`timmy {}` has no example in its help",
            sub.get_name()
        );
    }
}

#[test]
fn exec_needs_a_command_after_double_dash() {
    assert!(Cli::try_parse_from(["timmy", "exec", "timmy"]).is_err());
    let cli = Cli::try_parse_from(["timmy", "exec", "timmy", "--", "ls", "-la"]).unwrap();
    match cli.command {
        Some(Command::Exec(a)) => assert_eq!(a.command, ["ls", "-la"]),
        other => panic!("parsed as {other:?}"),
    }
}

#[test]
fn no_command_is_the_status_view() {
    let cli = Cli::try_parse_from(["timmy", "-p", "x"]).unwrap();
    assert!(cli.command.is_none());
    assert_eq!(cli.global.project_name.as_deref(), Some("x"));
}

#[test]
fn run_takes_one_or_two_names_then_the_command() {
    let names = |args: &[&str]| match Cli::try_parse_from(args).map(|c| c.command) {
        Ok(Some(Command::Run(a))) => Ok((a.names, a.command)),
        Ok(other) => panic!("parsed as {other:?}"),
        Err(e) => Err(e.kind()),
    };
    assert_eq!(
        names(&["timmy", "run", "timmy", "--", "node", "-v"]).unwrap(),
        (
            vec!["timmy".to_string()],
            vec!["node".to_string(), "-v".to_string()]
        )
    );
    assert_eq!(
        names(&["timmy", "run", "prod", "timmy"]).unwrap(),
        (vec!["prod".to_string(), "timmy".to_string()], vec![])
    );
    assert!(names(&["timmy", "run"]).is_err());
    assert!(names(&["timmy", "run", "a", "b", "c"]).is_err());
}
