//! The bad-input catalogue: every way a user can hand timmy a broken project, each run through
//! the commands it concerns, with the exact message and exit code. For every case the fake
//! `docker` must never have been called and no file under the project may have changed (content,
//! mode, kind: see `tree_snapshot`). Then the other half of the promise: planted secrets never
//! reach any output, on good input or bad, and paths with spaces and non-ASCII work.
//!
//! Cases marked `// Was a bug: …` were found by the reliability review with the expectation
//! written first; they now hold timmy to it.

mod common;

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::{Duration, Instant};

use common::{GOOD_ENV, Project, stderr_of, stdout_of, tree_snapshot};

/// The last line of every refused configuration. `check` starts nothing in any case, so its
/// line ends before `; nothing was started` (see `for_command`).
const NOTHING_STARTED: &str = "error: 1 error in the configuration; nothing was started";

/// Every command that validates `.env` before it starts anything.
const GATES: &[&[&str]] = &[
    &["check"],
    &["check", "prod"],
    &["up"],
    &["up", "prod", "--build"],
    &["--dry-run", "up"],
    &["-v", "build", "prod"],
    &["test"],
];
const CHECK: &[&[&str]] = &[&["check"]];
/// Commands that refuse warnings under `--strict`.
const STRICT: &[&[&str]] = &[
    &["check", "--strict"],
    &["check", "prod", "--strict"],
    &["up", "--strict"],
    &["--dry-run", "up", "prod", "--strict"],
];
const STRICT_REFUSED: &str =
    "error: 1 warning in the configuration; nothing was started (--strict)";

/// One bad input: how to spoil the good project, what to run, what timmy must answer.
#[derive(Clone, Copy)]
struct Case {
    setup: fn(&Project),
    /// Each argv runs in turn against the same project and must give the same answer.
    runs: &'static [&'static [&'static str]],
    /// Extra environment variables for timmy.
    env: &'static [(&'static str, &'static str)],
    code: i32,
    /// The exact stderr, line by line. `{root}` is the project root, `{dir}` the temp folder
    /// holding it (also in `runs` and `env`). For `check` the summary line drops
    /// `; nothing was started` (see `for_command`).
    stderr: &'static [&'static str],
}

const BASE: Case = Case {
    setup: |_| {},
    runs: CHECK,
    env: &[],
    code: 1,
    stderr: &[],
};

/// The expected stderr for `args`: `check` only reports, so its summary line does not say
/// that nothing was started.
fn for_command(expected: &str, args: &[impl AsRef<str>]) -> String {
    if args.iter().any(|a| a.as_ref() == "check") {
        expected.replace("; nothing was started", "")
    } else {
        expected.to_owned()
    }
}

fn fill(text: &str, p: &Project) -> String {
    text.replace("{root}", &p.root().display().to_string())
        .replace("{dir}", &p.dir.path().display().to_string())
}

/// Replace `.env` (it keeps its mode 600).
fn env(p: &Project, text: &str) {
    p.write(".env", text);
}

/// The good `.env` plus `tail` from line 4 on.
fn env_plus(p: &Project, tail: &str) {
    env(p, &format!("{GOOD_ENV}{tail}"));
}

fn chmod(p: &Project, rel: &str, mode: u32) {
    fs::set_permissions(p.root().join(rel), fs::Permissions::from_mode(mode)).unwrap();
}

fn remove(p: &Project, rel: &str) {
    fs::remove_file(p.root().join(rel)).unwrap();
}

#[track_caller]
fn run(case: &Case) {
    let p = Project::new();
    (case.setup)(&p);
    let before = tree_snapshot(&p.root());
    let expected: String = case.stderr.iter().fold(String::new(), |mut all, line| {
        let _ = writeln!(all, "{}", fill(line, &p));
        all
    });
    assert!(!case.runs.is_empty() && !expected.is_empty(), "empty case");
    for args in case.runs {
        let args: Vec<String> = args.iter().map(|a| fill(a, &p)).collect();
        let mut cmd = p.timmy();
        for (key, value) in case.env {
            cmd.env(key, fill(value, &p));
        }
        let out = cmd
            .args(&args)
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        let err = stderr_of(&out);
        assert_eq!(
            out.status.code(),
            Some(case.code),
            "timmy {args:?}: exit code\n{err}"
        );
        assert_eq!(err, for_command(&expected, &args), "timmy {args:?}: stderr");
        assert_eq!(stdout_of(&out), "", "timmy {args:?}: stdout");
        assert!(
            p.calls().is_empty(),
            "timmy {args:?} called docker: {:#?}",
            p.calls()
        );
        // Compose's read-only validation runs only on a configuration timmy accepts.
        assert!(
            case.code == 0 || p.config_calls().is_empty(),
            "timmy {args:?} asked Compose to validate a refused configuration: {:#?}",
            p.config_calls()
        );
        assert_eq!(
            tree_snapshot(&p.root()),
            before,
            "timmy {args:?} changed a file of the project"
        );
    }
}

/// One `#[test]` per case, and the list of their names in `$list`.
macro_rules! catalogue {
    ($list:ident; $($(#[$attr:meta])* $name:ident: $case:expr;)+) => {
        $(
            $(#[$attr])*
            #[test]
            fn $name() {
                run(&$case);
            }
        )+

        const $list: &[&str] = &[$(stringify!($name)),+];
    };
}

#[test]
fn the_catalogue_holds_at_least_45_bad_inputs() {
    assert!(CATALOGUE.len() >= 45, "only {} cases", CATALOGUE.len());
}

catalogue! {
    CATALOGUE;

    // ---- .env syntax: every error Compose raises, with Compose's line number ----

    // Compose reports an unterminated quote on the line where the file ends, not where the
    // quote opens: the file has 4 lines and a final newline, so line 5.
    env_unterminated_double_quote: Case {
        setup: |p| env_plus(p, "SESSION_SECRET=\"never closed\n"),
        runs: GATES,
        stderr: &[
            "error: .env:5: the quote opened on line 4 is never closed (Compose reports the line where the file ends)",
            "  hint: close the quote; to keep a quote character inside a value, escape it as \\\" or \\'",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_unterminated_single_quote_then_blank_lines: Case {
        setup: |p| env_plus(p, "SESSION_SECRET='never closed\n\n\nOTHER=1\n"),
        runs: GATES,
        stderr: &[
            "error: .env:8: the quote opened on line 4 is never closed (Compose reports the line where the file ends)",
            "  hint: close the quote; to keep a quote character inside a value, escape it as \\\" or \\'",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_unterminated_quote_without_final_newline: Case {
        setup: |p| env_plus(p, "SESSION_SECRET=\"never closed"),
        runs: CHECK,
        stderr: &[
            "error: .env:4: the quote opened on line 4 is never closed (Compose reports the line where the file ends)",
            "  hint: close the quote; to keep a quote character inside a value, escape it as \\\" or \\'",
            "warning: .env:4: does not end with a newline",
            "  hint: add a newline at the end of the file",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_dollar_in_key: Case {
        setup: |p| env_plus(p, "\nlol$wut=1\n"),
        runs: GATES,
        stderr: &[
            "error: .env:5: unexpected character '$' in variable name (Compose refuses this file)",
            "  hint: keys may hold letters, digits, `_`, `.`, `-`, `[`, `]`; write KEY=value, one per line",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_at_sign_in_key: Case {
        setup: |p| env_plus(p, "B@C=2\n"),
        runs: GATES,
        stderr: &[
            "error: .env:4: unexpected character '@' in variable name (Compose refuses this file)",
            "  hint: keys may hold letters, digits, `_`, `.`, `-`, `[`, `]`; write KEY=value, one per line",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_quote_in_key: Case {
        setup: |p| env_plus(p, "A\"B=1\n"),
        runs: CHECK,
        stderr: &[
            "error: .env:4: unexpected character '\"' in variable name (Compose refuses this file)",
            "  hint: keys may hold letters, digits, `_`, `.`, `-`, `[`, `]`; write KEY=value, one per line",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // Compose reads what follows a closing quote as the next key.
    env_text_after_closing_quote: Case {
        setup: |p| env_plus(p, "A=\"a\"'b'\n"),
        runs: CHECK,
        stderr: &[
            "error: .env:4: unexpected character '\\'' in variable name (Compose refuses this file)",
            "  hint: keys may hold letters, digits, `_`, `.`, `-`, `[`, `]`; write KEY=value, one per line",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_key_with_space: Case {
        setup: |p| env_plus(p, "MY KEY=1\n"),
        runs: GATES,
        stderr: &[
            "error: .env:4: key cannot contain a space",
            "  hint: write KEY=value with no space inside the key",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_export_at_end_of_file: Case {
        setup: |p| env_plus(p, "export "),
        runs: GATES,
        stderr: &[
            "error: .env:4: `export` with no variable at the end of the file",
            "  hint: remove the trailing `export`",
            "warning: .env:4: does not end with a newline",
            "  hint: add a newline at the end of the file",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_template_not_closed: Case {
        setup: |p| env_plus(p, "A=${B\n"),
        runs: GATES,
        stderr: &[
            "error: .env:4: invalid `${...}` in the value of A: Compose refuses this file",
            "  hint: write `$$` for a literal `$`, or put the value in single quotes",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_template_empty_name: Case {
        setup: |p| env_plus(p, "A=${}\n"),
        stderr: &[
            "error: .env:4: invalid `${...}` in the value of A: Compose refuses this file",
            "  hint: write `$$` for a literal `$`, or put the value in single quotes",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_template_name_starts_with_digit: Case {
        setup: |p| env_plus(p, "A=${1}\n"),
        stderr: &[
            "error: .env:4: invalid `${...}` in the value of A: Compose refuses this file",
            "  hint: write `$$` for a literal `$`, or put the value in single quotes",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_template_unknown_operator: Case {
        setup: |p| env_plus(p, "A=${B:x}\n"),
        stderr: &[
            "error: .env:4: invalid `${...}` in the value of A: Compose refuses this file",
            "  hint: write `$$` for a literal `$`, or put the value in single quotes",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // The error names the line where the value starts.
    env_template_across_lines_in_double_quotes: Case {
        setup: |p| env_plus(p, "A=\"${B\nC}\"\n"),
        stderr: &[
            "error: .env:4: invalid `${...}` in the value of A: Compose refuses this file",
            "  hint: write `$$` for a literal `$`, or put the value in single quotes",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_required_variable_unset: Case {
        setup: |p| env_plus(p, "A=${X:?you must set X}\n"),
        runs: GATES,
        stderr: &[
            "error: .env:4: the value of A requires a variable that is not set (`${VAR:?}`)",
            "  hint: set that variable in .env or the shell",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_required_variable_without_colon: Case {
        setup: |p| env_plus(p, "A=${X?}\n"),
        stderr: &[
            "error: .env:4: the value of A requires a variable that is not set (`${VAR:?}`)",
            "  hint: set that variable in .env or the shell",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_required_variable_empty: Case {
        setup: |p| env_plus(p, "E=\nA=${E:?}\n"),
        stderr: &[
            "error: .env:5: the value of A requires a variable that is not set (`${VAR:?}`)",
            "  hint: set that variable in .env or the shell",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // Compose evaluates the default first, so an unset required variable inside it fails even
    // when the outer variable is set.
    env_required_variable_inside_a_default: Case {
        setup: |p| env_plus(p, "A=${NODE_ENV:-${X:?}}\n"),
        stderr: &[
            "error: .env:4: the value of A requires a variable that is not set (`${VAR:?}`)",
            "  hint: set that variable in .env or the shell",
            NOTHING_STARTED,
        ],
        ..BASE
    };

    // ---- keys required by .env.example ----

    key_from_example_missing: Case {
        setup: |p| env(p, "NODE_ENV=production\nGITHUB_TOKEN=ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u\n"),
        runs: GATES,
        stderr: &[
            "error: .env: LOG_LEVEL is missing (required by .env.example)",
            "  hint: .env.example:3 defines LOG_LEVEL; add LOG_LEVEL=... to .env",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // All of them, in the order of .env.example.
    keys_from_example_missing_are_all_listed: Case {
        setup: |p| env(p, "# nothing yet\n"),
        stderr: &[
            "error: .env: NODE_ENV is missing (required by .env.example)",
            "  hint: .env.example:2 defines NODE_ENV; add NODE_ENV=... to .env",
            "error: .env: LOG_LEVEL is missing (required by .env.example)",
            "  hint: .env.example:3 defines LOG_LEVEL; add LOG_LEVEL=... to .env",
            "error: .env: GITHUB_TOKEN is missing (required by .env.example)",
            "  hint: .env.example:5 defines GITHUB_TOKEN; add GITHUB_TOKEN=... to .env",
            "error: 3 errors in the configuration; nothing was started",
        ],
        ..BASE
    };
    key_from_example_empty: Case {
        setup: |p| env(p, "NODE_ENV=production\nLOG_LEVEL=\nGITHUB_TOKEN=ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u\n"),
        runs: GATES,
        stderr: &[
            "error: .env:2: LOG_LEVEL is empty (required by .env.example)",
            "  hint: .env.example:3 defines LOG_LEVEL; give it a value in .env",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // Looks empty, but Compose skips the blanks after `=` and reads `# set me` as the value.
    setting_that_is_only_a_comment_under_strict: Case {
        setup: |p| env(p, "NODE_ENV=production\nLOG_LEVEL=    # set me\nGITHUB_TOKEN=ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u\n"),
        runs: &[&["check", "--strict"], &["up", "--strict"]],
        stderr: &[
            "warning: .env:2: the value of LOG_LEVEL starts with `#`: Compose reads it as the value, not as a comment",
            "  hint: write LOG_LEVEL= on its own line and put the comment on the line above",
            STRICT_REFUSED,
        ],
        ..BASE
    };
    secret_from_example_empty: Case {
        setup: |p| env(p, "NODE_ENV=production\nLOG_LEVEL=info\nGITHUB_TOKEN=\n"),
        runs: GATES,
        stderr: &[
            "error: .env:3: GITHUB_TOKEN is empty (required by .env.example)",
            "  hint: .env.example:5 defines GITHUB_TOKEN; give it a value in .env",
            NOTHING_STARTED,
        ],
        ..BASE
    };

    // ---- placeholders and example values ----

    secret_is_a_placeholder_word: Case {
        setup: |p| env(p, "NODE_ENV=production\nLOG_LEVEL=info\nGITHUB_TOKEN=changeme\n"),
        runs: GATES,
        stderr: &[
            "error: .env:3: GITHUB_TOKEN holds a placeholder, not a real value",
            "  hint: put the real value of GITHUB_TOKEN in .env",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    secret_is_a_token_shaped_placeholder: Case {
        setup: |p| env(p, "NODE_ENV=production\nLOG_LEVEL=info\nGITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"),
        runs: GATES,
        stderr: &[
            "error: .env:3: GITHUB_TOKEN holds a placeholder, not a real value",
            "  hint: put the real value of GITHUB_TOKEN in .env",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // A secret that .env.example does not know is still checked by its name.
    secret_outside_the_example_is_a_placeholder: Case {
        setup: |p| env_plus(p, "DB_PASSWORD=your_password_here\n"),
        runs: GATES,
        stderr: &[
            "error: .env:4: DB_PASSWORD holds a placeholder, not a real value",
            "  hint: put the real value of DB_PASSWORD in .env",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // The example's own value, when it looks real (here a well-shaped token).
    secret_still_has_the_example_value: Case {
        setup: |p| {
            let token = "GITHUB_TOKEN=ghp_Ex4mpleEx4mpleEx4mpleEx4mpleEx4mple1\n";
            p.write(".env.example", &format!("NODE_ENV=production\nLOG_LEVEL=info\n{token}"));
            env(p, &format!("NODE_ENV=production\nLOG_LEVEL=info\n{token}"));
        },
        runs: GATES,
        stderr: &[
            "error: .env:3: GITHUB_TOKEN still has the value from .env.example",
            "  hint: .env.example:3 is only an example; set the real value of GITHUB_TOKEN in .env",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // A placeholder after a real token prefix is a placeholder, not a malformed token.
    secret_is_a_prefixed_placeholder: Case {
        setup: |p| env(p, "NODE_ENV=production\nLOG_LEVEL=info\nGITHUB_TOKEN=ghp_your_token_here\n"),
        runs: GATES,
        stderr: &[
            "error: .env:3: GITHUB_TOKEN holds a placeholder, not a real value",
            "  hint: put the real value of GITHUB_TOKEN in .env",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // A placeholder in a setting that is not secret only warns: check passes...
    setting_is_a_placeholder_warns: Case {
        setup: |p| env(p, "NODE_ENV=<your-env>\nLOG_LEVEL=info\nGITHUB_TOKEN=ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u\n"),
        code: 0,
        stderr: &[
            "warning: .env:1: NODE_ENV holds a placeholder, not a real value",
            "  hint: put the real value of NODE_ENV in .env",
            "timmy: .env is usable for the dev stack (docker/docker-compose.yml + docker/docker-compose.dev.yml) with 1 warning",
        ],
        ..BASE
    };
    // ...and --strict refuses it.
    setting_is_a_placeholder_under_strict: Case {
        setup: |p| env(p, "NODE_ENV=production\nLOG_LEVEL=TODO\nGITHUB_TOKEN=ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u\n"),
        runs: &[&["check", "--strict"], &["check", "prod", "--strict"], &["up", "--strict"], &["--dry-run", "up", "prod", "--strict"]],
        stderr: &[
            "warning: .env:2: LOG_LEVEL holds a placeholder, not a real value",
            "  hint: put the real value of LOG_LEVEL in .env",
            STRICT_REFUSED,
        ],
        ..BASE
    };

    // ---- variables the compose files need ----

    compose_required_variable_unset: Case {
        setup: |p| p.write(
            "docker/docker-compose.yml",
            "services:\n  redis:\n    image: redis\n  timmy:\n    build: .\n    environment:\n      DB_URL: ${DATABASE_URL:?set DATABASE_URL in .env}\n",
        ),
        runs: GATES,
        stderr: &[
            "error: docker/docker-compose.yml:7: required variable DATABASE_URL is missing a value: set DATABASE_URL in .env",
            "  hint: set DATABASE_URL in .env or in the shell",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    compose_required_variable_empty_in_env: Case {
        setup: |p| {
            env_plus(p, "DATABASE_URL=\n");
            p.write(
                "docker/docker-compose.prod.yml",
                "services:\n  timmy:\n    environment:\n      DB_URL: ${DATABASE_URL:?}\n",
            );
        },
        runs: &[&["check", "prod"], &["up", "prod"], &["build", "prod"], &["--dry-run", "up", "production"]],
        stderr: &[
            "error: docker/docker-compose.prod.yml:4: required variable DATABASE_URL is missing a value",
            "  hint: set DATABASE_URL in .env or in the shell",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    compose_variable_without_default_unset: Case {
        setup: |p| p.write(
            "docker/docker-compose.prod.yml",
            "services:\n  timmy:\n    image: node:${NODE_TAG}\n",
        ),
        runs: &[&["check", "prod"], &["up", "prod"], &["build", "prod"], &["--dry-run", "up", "production"]],
        stderr: &[
            "error: docker/docker-compose.prod.yml:3: NODE_TAG is not set (Compose would substitute an empty string)",
            "  hint: add NODE_TAG=... to .env, or write ${NODE_TAG:-default} in docker/docker-compose.prod.yml",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    compose_invalid_template: Case {
        setup: |p| p.write(
            "docker/docker-compose.test.yml",
            "services:\n  tests:\n    image: \"node:${TAG\"\n",
        ),
        runs: &[&["check", "test"], &["test"], &["test", "--", "true"]],
        stderr: &[
            "error: docker/docker-compose.test.yml:3: Invalid template: \"    image: \\\"node:${TAG\\\"\"",
            "  hint: write `$$` for a literal `$`",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    compose_file_not_utf8: Case {
        runs: &[&["check"], &["up"], &["build"]],
        stderr: &[
            "error: docker/docker-compose.dev.yml:4: not valid UTF-8",
            "  hint: save the file as UTF-8 (Compose reads it as UTF-8 too)",
        ],
        setup: |p| {
            let path = p.root().join("docker/docker-compose.dev.yml");
            fs::write(path, b"services:\n  timmy:\n    environment:\n      A: \xff\n").unwrap();
        },
        ..BASE
    };

    // ---- the .env file itself ----

    env_missing: Case {
        setup: |p| remove(p, ".env"),
        runs: GATES,
        stderr: &[
            "error: .env: missing",
            "  hint: cp .env.example .env",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_and_example_missing: Case {
        setup: |p| {
            remove(p, ".env");
            remove(p, ".env.example");
        },
        runs: GATES,
        stderr: &[
            "error: .env: missing",
            "  hint: create .env with the variables the compose files need",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_is_a_directory: Case {
        setup: |p| {
            remove(p, ".env");
            fs::create_dir(p.root().join(".env")).unwrap();
        },
        runs: &[&["check"], &["up"], &["build"], &["test"], &["env"]],
        stderr: &[
            "error: .env is a directory, not a file",
            "  hint: remove it and create .env from .env.example",
        ],
        ..BASE
    };
    // The OS's own words; timmy adds no hint.
    env_is_a_symlink_loop: Case {
        setup: |p| {
            remove(p, ".env");
            std::os::unix::fs::symlink(".env", p.root().join(".env")).unwrap();
        },
        runs: &[&["check"], &["up"], &["env"]],
        stderr: &["error: cannot read .env: Too many levels of symbolic links (os error 40)"],
        ..BASE
    };
    env_not_utf8: Case {
        setup: |p| {
            fs::write(p.root().join(".env"), b"NODE_ENV=production\nLOG_LEVEL=inf\xff\nGITHUB_TOKEN=ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u\n").unwrap();
        },
        runs: &[&["check"], &["up"], &["build"], &["test"], &["env"], &["env", "--json"]],
        stderr: &[
            "error: .env:2: not valid UTF-8",
            "  hint: save the file as UTF-8 (Compose reads it as UTF-8 too)",
        ],
        ..BASE
    };
    env_not_utf8_on_its_last_line: Case {
        setup: |p| {
            let mut bytes = GOOD_ENV.as_bytes().to_vec();
            bytes.extend_from_slice(b"\n# caf\xe9\n");
            fs::write(p.root().join(".env"), bytes).unwrap();
        },
        stderr: &[
            "error: .env:5: not valid UTF-8",
            "  hint: save the file as UTF-8 (Compose reads it as UTF-8 too)",
        ],
        ..BASE
    };
    env_world_writable: Case {
        setup: |p| chmod(p, ".env", 0o666),
        runs: GATES,
        stderr: &[
            "error: .env: is writable by every user on this machine",
            "  hint: chmod 600 .env",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    env_writable_by_others_only: Case {
        setup: |p| chmod(p, ".env", 0o602),
        runs: GATES,
        stderr: &[
            "error: .env: is writable by every user on this machine",
            "  hint: chmod 600 .env",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // Readable by the group: a warning with the chmod to run; check passes...
    env_group_readable_warns: Case {
        setup: |p| chmod(p, ".env", 0o640),
        runs: &[&["check"], &["check", "development"]],
        code: 0,
        stderr: &[
            "warning: .env: is readable by other users (it holds secrets)",
            "  hint: chmod 600 .env",
            "timmy: .env is usable for the dev stack (docker/docker-compose.yml + docker/docker-compose.dev.yml) with 1 warning",
        ],
        ..BASE
    };
    // ...and --strict refuses it, for check and up alike.
    env_group_readable_under_strict: Case {
        setup: |p| chmod(p, ".env", 0o640),
        runs: &[&["check", "--strict"], &["check", "prod", "--strict"], &["up", "--strict"], &["--dry-run", "up", "prod", "--strict"]],
        stderr: &[
            "warning: .env: is readable by other users (it holds secrets)",
            "  hint: chmod 600 .env",
            STRICT_REFUSED,
        ],
        ..BASE
    };
    env_other_readable_under_strict: Case {
        setup: |p| chmod(p, ".env", 0o604),
        runs: &[&["check", "--strict"], &["up", "--strict"]],
        stderr: &[
            "warning: .env: is readable by other users (it holds secrets)",
            "  hint: chmod 600 .env",
            STRICT_REFUSED,
        ],
        ..BASE
    };
    env_crlf_under_strict: Case {
        setup: |p| env(p, &GOOD_ENV.replace('\n', "\r\n")),
        runs: &[&["check", "--strict"], &["up", "--strict"]],
        stderr: &[
            "warning: .env:1: has Windows (CRLF) line endings",
            "  hint: convert it: sed -i 's/\\r$//' .env",
            STRICT_REFUSED,
        ],
        ..BASE
    };
    env_dollar_swallowed_under_strict: Case {
        setup: |p| env_plus(p, "DB_PASSWORD=pa$word9\n"),
        runs: &[&["check", "--strict"], &["up", "--strict"]],
        stderr: &[
            "warning: .env:4: the value of DB_PASSWORD contains `$` followed by a name that is not set; Compose replaces it with an empty string",
            "  hint: put the value in single quotes, or write `$$` for a literal `$`",
            STRICT_REFUSED,
        ],
        ..BASE
    };
    docker_dir_env_under_strict: Case {
        setup: |p| p.write("docker/.env", "NODE_ENV=development\n"),
        runs: &[&["check", "--strict"], &["up", "--strict"]],
        stderr: &[
            "warning: docker/.env: exists beside the root .env: Compose reads it when run by hand from docker/, timmy uses the root .env",
            "  hint: move its settings into .env and delete docker/.env",
            STRICT_REFUSED,
        ],
        ..BASE
    };
    env_byte_order_mark_under_strict: Case {
        setup: |p| env(p, &format!("\u{feff}{GOOD_ENV}")),
        runs: STRICT,
        stderr: &[
            "warning: .env:1: starts with a UTF-8 byte order mark; Compose ignores it, other tools may not",
            "  hint: save the file as UTF-8 without BOM",
            STRICT_REFUSED,
        ],
        ..BASE
    };
    env_without_final_newline_under_strict: Case {
        setup: |p| env(p, GOOD_ENV.trim_end()),
        runs: STRICT,
        stderr: &[
            "warning: .env:3: does not end with a newline",
            "  hint: add a newline at the end of the file",
            STRICT_REFUSED,
        ],
        ..BASE
    };
    env_key_defined_twice_under_strict: Case {
        setup: |p| env_plus(p, "LOG_LEVEL=debug\n"),
        runs: STRICT,
        stderr: &[
            "warning: .env:2: LOG_LEVEL is defined again on line 4; the last one (line 4) wins",
            "  hint: keep a single definition",
            STRICT_REFUSED,
        ],
        ..BASE
    };
    env_sets_the_compose_project_name_under_strict: Case {
        setup: |p| env_plus(p, "COMPOSE_PROJECT_NAME=other\n"),
        runs: STRICT,
        stderr: &[
            "warning: .env:4: COMPOSE_PROJECT_NAME changes what Compose does; timmy passes its own -p/-f and ignores it",
            "  hint: remove COMPOSE_PROJECT_NAME from .env",
            STRICT_REFUSED,
        ],
        ..BASE
    };
    env_key_with_a_dash_under_strict: Case {
        setup: |p| env_plus(p, "LOG-FORMAT=json\n"),
        runs: STRICT,
        stderr: &[
            "warning: .env:4: key \"LOG-FORMAT\" contains characters other than A-Z, 0-9 and _; compose files cannot refer to it as ${...}",
            "  hint: use names like MY_SETTING",
            STRICT_REFUSED,
        ],
        ..BASE
    };
    // The shell wins over .env in Compose: a different value there is worth a warning.
    shell_overrides_env_under_strict: Case {
        env: &[("LOG_LEVEL", "debug")],
        runs: STRICT,
        stderr: &[
            "warning: .env:2: LOG_LEVEL is also set in your shell with a different value; Compose uses the shell's",
            "  hint: unset LOG_LEVEL in your shell, or remove it from .env",
            STRICT_REFUSED,
        ],
        ..BASE
    };
    token_of_the_wrong_shape_under_strict: Case {
        setup: |p| env(p, "NODE_ENV=production\nLOG_LEVEL=info\nGITHUB_TOKEN=ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1\n"),
        runs: STRICT,
        stderr: &[
            "warning: .env:3: GITHUB_TOKEN looks like a GitHub token (ghp_…) but has 32 characters after the prefix, expected 36",
            STRICT_REFUSED,
        ],
        ..BASE
    };
    example_has_a_syntax_error: Case {
        setup: |p| p.write(".env.example", "NODE_ENV=production\nLOG_LEVEL=\"info\n"),
        runs: GATES,
        stderr: &[
            "error: .env.example:3: the quote opened on line 2 is never closed (Compose reports the line where the file ends)",
            "  hint: close the quote; to keep a quote character inside a value, escape it as \\\" or \\'",
            NOTHING_STARTED,
        ],
        ..BASE
    };

    // ---- environments and their files ----

    unknown_environment: Case {
        runs: &[
            &["check", "staging"],
            &["up", "staging"],
            &["build", "staging"],
            &["env", "staging"],
            &["config", "staging"],
            &["config", "staging", "--files"],
            &["down", "staging"],
            &["ps", "--env", "staging"],
        ],
        stderr: &[
            "error: unknown environment `staging`: there is no docker/docker-compose.staging.yml",
            "  hint: available environments: dev, prod, test",
        ],
        ..BASE
    };
    environment_given_as_a_file_name: Case {
        runs: &[&["check", "prod.yml"], &["up", "prod.yml"]],
        stderr: &[
            "error: unknown environment `prod.yml`: there is no docker/docker-compose.prod.yml.yml",
            "  hint: available environments: dev, prod, test",
        ],
        ..BASE
    };
    override_file_missing: Case {
        setup: |p| remove(p, "docker/docker-compose.dev.yml"),
        runs: &[&["check"], &["up"], &["build"], &["--dry-run", "up", "dev"]],
        stderr: &[
            "error: unknown environment `dev`: there is no docker/docker-compose.dev.yml",
            "  hint: available environments: prod, test",
        ],
        ..BASE
    };
    test_override_missing: Case {
        setup: |p| remove(p, "docker/docker-compose.test.yml"),
        runs: &[&["test"], &["test", "--", "true"]],
        stderr: &[
            "error: the test stack needs docker/docker-compose.test.yml, which does not exist",
            "  hint: create it with a `tests` service; timmy test runs that service and exits with its code",
        ],
        ..BASE
    };
    test_override_missing_for_check: Case {
        setup: |p| remove(p, "docker/docker-compose.test.yml"),
        runs: &[&["check", "test"]],
        stderr: &[
            "error: unknown environment `test`: there is no docker/docker-compose.test.yml",
            "  hint: available environments: dev, prod",
        ],
        ..BASE
    };
    override_file_is_a_dangling_symlink: Case {
        setup: |p| {
            std::os::unix::fs::symlink("gone.yml", p.root().join("docker/docker-compose.staging.yml")).unwrap();
        },
        runs: &[&["check", "staging"], &["up", "staging"]],
        stderr: &[
            "error: docker/docker-compose.staging.yml is a symbolic link to gone.yml, which does not exist",
            "  hint: every environment needs docker/docker-compose.yml and docker/docker-compose.<env>.yml",
        ],
        ..BASE
    };

    // ---- services ----

    unknown_service: Case {
        runs: &[
            &["shell", "web"],
            &["shell", "web", "-c", "ls"],
            &["logs", "web"],
            &["logs", "timmy", "web", "-f"],
            &["exec", "web", "--", "ls"],
            &["restart", "web"],
            &["restart", "redis", "web"],
            &["-v", "logs", "web"],
        ],
        stderr: &[
            "error: no service `web` in this project",
            "  hint: services: redis, timmy",
        ],
        ..BASE
    };
    // Service names are case-sensitive in Compose.
    service_name_in_the_wrong_case: Case {
        runs: &[&["shell", "Timmy"], &["logs", "redis", "Timmy"], &["exec", "Timmy", "--", "ls"]],
        stderr: &[
            "error: no service `Timmy` in this project",
            "  hint: services: redis, timmy",
        ],
        ..BASE
    };

    // ---- where the project is ----

    project_dir_does_not_exist: Case {
        runs: &[
            &["--project-dir", "{dir}/nowhere", "check"],
            &["--project-dir", "{dir}/nowhere", "up"],
            &["--project-dir", "{dir}/nowhere", "ps"],
            &["--project-dir", "{dir}/nowhere", "logs", "timmy"],
            &["--project-dir", "{dir}/nowhere", "down"],
        ],
        stderr: &[
            "error: project directory {dir}/nowhere does not exist",
            "  hint: check --project-dir / TIMMY_PROJECT_DIR",
        ],
        ..BASE
    };
    project_dir_from_the_environment_does_not_exist: Case {
        env: &[("TIMMY_PROJECT_DIR", "{dir}/nowhere")],
        runs: &[&["check"], &["up"]],
        stderr: &[
            "error: project directory {dir}/nowhere does not exist",
            "  hint: check --project-dir / TIMMY_PROJECT_DIR",
        ],
        ..BASE
    };
    project_dir_without_a_compose_file: Case {
        runs: &[
            &["--project-dir", "{root}/docker", "check"],
            &["--project-dir", "{root}/docker", "up"],
            &["--project-dir", "{root}/docker", "down"],
        ],
        stderr: &[
            "error: {root}/docker has no docker/docker-compose.yml",
            "  hint: --project-dir must name the folder that holds docker/docker-compose.yml",
        ],
        ..BASE
    };
    relative_project_dir_without_a_compose_file: Case {
        runs: &[&["--project-dir", "docker", "check"]],
        stderr: &[
            "error: {root}/docker has no docker/docker-compose.yml",
            "  hint: --project-dir must name the folder that holds docker/docker-compose.yml",
        ],
        ..BASE
    };

    // ---- the docker program ----

    // Checked after .env (a bad .env is reported first, see below) and before any docker call.
    timmy_docker_points_at_nothing: Case {
        env: &[("TIMMY_DOCKER", "{dir}/nowhere/docker")],
        runs: &[
            &["up"],
            &["up", "prod"],
            &["build"],
            &["test"],
            &["ps"],
            &["logs", "timmy"],
            &["shell"],
            &["exec", "timmy", "--", "ls"],
            &["restart"],
            &["down"],
            &["config"],
        ],
        stderr: &[
            "error: TIMMY_DOCKER is set to {dir}/nowhere/docker, which is not an executable",
            "  hint: point TIMMY_DOCKER at the docker CLI, or unset it",
        ],
        ..BASE
    };
    timmy_docker_points_at_a_plain_file: Case {
        env: &[("TIMMY_DOCKER", "{root}/.env.example")],
        runs: &[&["up"], &["ps"]],
        stderr: &[
            "error: TIMMY_DOCKER is set to {root}/.env.example, which is not an executable",
            "  hint: point TIMMY_DOCKER at the docker CLI, or unset it",
        ],
        ..BASE
    };
    bad_env_is_reported_before_a_missing_docker: Case {
        setup: |p| env_plus(p, "MY KEY=1\n"),
        env: &[("TIMMY_DOCKER", "{dir}/nowhere/docker")],
        runs: &[&["up"], &["build"], &["test"]],
        stderr: &[
            "error: .env:4: key cannot contain a space",
            "  hint: write KEY=value with no space inside the key",
            NOTHING_STARTED,
        ],
        ..BASE
    };

    // ---- usage errors: clap's words, exit 2 ----

    usage_timeout_not_a_number: Case {
        runs: &[&["up", "--timeout", "abc"]],
        code: 2,
        stderr: &[
            "error: invalid value 'abc' for '--timeout <SECS>': invalid digit found in string",
            "",
            "For more information, try '--help'.",
        ],
        ..BASE
    };
    // Was a bug: `TIMMY_PROJECT_DIR=` (set but empty) was reported as `--project-dir` given
    // without a value, a flag the user had not typed.
    usage_project_dir_empty_in_the_environment: Case {
        runs: &[&["ps"], &["up"], &["check"]],
        env: &[("TIMMY_PROJECT_DIR", "")],
        code: 2,
        stderr: &[
            "error: TIMMY_PROJECT_DIR is set but empty",
            "  hint: unset TIMMY_PROJECT_DIR to find the project from the current directory, or set it to the project root",
        ],
        ..BASE
    };
    usage_unknown_flag: Case {
        runs: &[&["check", "--bogus"]],
        code: 2,
        stderr: &[
            "error: unexpected argument '--bogus' found",
            "",
            "  tip: to pass '--bogus' as a value, use '-- --bogus'",
            "",
            "Usage: timmy check [OPTIONS] [ENV]",
            "",
            "For more information, try '--help'.",
        ],
        ..BASE
    };
    usage_two_environments: Case {
        runs: &[&["up", "dev", "prod"]],
        code: 2,
        stderr: &[
            "error: unexpected argument 'prod' found",
            "",
            "Usage: timmy up [OPTIONS] [ENV]",
            "",
            "For more information, try '--help'.",
        ],
        ..BASE
    };
    usage_exec_without_a_command: Case {
        runs: &[&["exec", "timmy"]],
        code: 2,
        stderr: &[
            "error: the following required arguments were not provided:",
            "  <CMD>...",
            "",
            "Usage: timmy exec [OPTIONS] [ENV] <SERVICE> -- <CMD>...",
            "",
            "For more information, try '--help'.",
        ],
        ..BASE
    };
    usage_bad_color: Case {
        runs: &[&["--color", "sometimes", "check"]],
        code: 2,
        stderr: &[
            "error: invalid value 'sometimes' for '--color <WHEN>'",
            "  [possible values: auto, always, never]",
            "",
            "For more information, try '--help'.",
        ],
        ..BASE
    };
    usage_files_and_export_together: Case {
        runs: &[&["config", "--files", "--export"]],
        code: 2,
        stderr: &[
            "error: the argument '--files' cannot be used with '--export'",
            "",
            "Usage: timmy config --files [ENV]",
            "",
            "For more information, try '--help'.",
        ],
        ..BASE
    };
    usage_empty_project_dir: Case {
        runs: &[&["--project-dir", "", "check"]],
        code: 2,
        stderr: &[
            "error: a value is required for '--project-dir <DIR>' but none was supplied",
            "",
            "For more information, try '--help'.",
        ],
        ..BASE
    };

    // ---- found by the reliability review, fixed since ----

    // Was a bug: timmy has no YAML check, so `up` starts docker on a compose file Compose will refuse.
    compose_file_is_not_yaml: Case {
        // A tab in the indentation: line 3 for every YAML parser.
        setup: |p| p.write("docker/docker-compose.dev.yml", "services:\n  timmy:\n\timage: x\n"),
        runs: &[&["check"], &["up"], &["build"], &["--dry-run", "up"]],
        stderr: &[
            "error: docker/docker-compose.dev.yml:3: not valid YAML: a tab where indentation is expected",
            "  hint: indent with spaces; `docker compose -f docker/docker-compose.dev.yml config` shows Compose's own message",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // Was a bug: a dangling .env symlink is reported as `missing` with a `cp` hint that cp refuses (it does not write through a dangling link).
    env_is_a_dangling_symlink: Case {
        setup: |p| {
            remove(p, ".env");
            std::os::unix::fs::symlink("secrets/timmy.env", p.root().join(".env")).unwrap();
        },
        runs: &[&["check"], &["up"], &["env"]],
        stderr: &[
            "error: .env is a symbolic link to secrets/timmy.env, which does not exist",
            "  hint: create secrets/timmy.env, or replace the link: rm .env && cp .env.example .env",
        ],
        ..BASE
    };
    // Was a bug: --project-dir naming a file says the directory `does not exist`.
    project_dir_is_a_file: Case {
        runs: &[&["--project-dir", "{root}/.env.example", "check"], &["--project-dir", "{root}/.env.example", "up"]],
        stderr: &[
            "error: project directory {root}/.env.example is a file, not a directory",
            "  hint: check --project-dir / TIMMY_PROJECT_DIR",
        ],
        ..BASE
    };
    // Was a bug: an invalid -p is silently rewritten (`!!!` becomes `timmy`, another project's name) where Compose refuses it.
    project_name_that_compose_refuses: Case {
        runs: &[&["-p", "!!!", "up", "prod"], &["-p", "!!!", "down"], &["-p", "!!!", "ps"], &["-p", "!!!", "--dry-run", "up"]],
        stderr: &[
            "error: invalid project name `!!!`: Compose allows lower-case letters, digits, `-` and `_`, starting with a letter or digit",
            "  hint: give -p or TIMMY_PROJECT_NAME a name such as `proj`, or leave out -p and unset TIMMY_PROJECT_NAME to use the folder name",
        ],
        ..BASE
    };
    // Was a bug: an empty -p is silently replaced by `timmy`, another project's name.
    project_name_empty: Case {
        runs: &[&["-p", "", "down", "--volumes", "--yes"], &["-p", "", "up"]],
        stderr: &[
            "error: the project name is empty",
            "  hint: give -p or TIMMY_PROJECT_NAME a name such as `proj`, or leave out -p and unset TIMMY_PROJECT_NAME to use the folder name",
        ],
        ..BASE
    };
    // Was a bug: `TIMMY_PROJECT_NAME=` (set but empty) got the hint `leave out -p`, which was
    // not given. An empty variable is not taken for unset: a script's failed expansion must
    // not turn `down` onto the folder's own project.
    project_name_empty_in_the_environment: Case {
        runs: &[&["down"], &["up"], &["ps"], &["check"]],
        env: &[("TIMMY_PROJECT_NAME", "")],
        stderr: &[
            "error: the project name is empty",
            "  hint: give -p or TIMMY_PROJECT_NAME a name such as `proj`, or leave out -p and unset TIMMY_PROJECT_NAME to use the folder name",
        ],
        ..BASE
    };
    // Was a bug: `.env.example` as a directory gets the hint `create .env.example from .env.example`.
    example_is_a_directory: Case {
        setup: |p| {
            remove(p, ".env.example");
            fs::create_dir(p.root().join(".env.example")).unwrap();
        },
        runs: &[&["check"], &["up"]],
        stderr: &[
            "error: .env.example is a directory, not a file",
            "  hint: remove the directory; .env.example should be a file listing the variables .env needs",
        ],
        ..BASE
    };
    // Was a bug: an override that is a directory is reported as `missing`, with an absolute path.
    override_file_is_a_directory: Case {
        setup: |p| {
            remove(p, "docker/docker-compose.dev.yml");
            fs::create_dir(p.root().join("docker/docker-compose.dev.yml")).unwrap();
        },
        runs: &[&["check"], &["up"]],
        stderr: &[
            "error: docker/docker-compose.dev.yml is a directory, not a file",
            "  hint: every environment needs docker/docker-compose.yml and docker/docker-compose.<env>.yml",
        ],
        ..BASE
    };
    // Was a bug: the warning says compose files cannot refer to a lower-case key, but `${log_format}` works in Compose.
    env_lower_case_key_under_strict: Case {
        setup: |p| env_plus(p, "log_format=json\n"),
        runs: STRICT,
        stderr: &[
            "warning: .env:4: key \"log_format\" is not upper-case (Compose accepts it; .env keys are upper-case by convention)",
            "  hint: use names like MY_SETTING",
            STRICT_REFUSED,
        ],
        ..BASE
    };
    // Was a bug: `=value` (no name) gets the warning meant for a last line without `=` and newline.
    env_line_without_a_name: Case {
        setup: |p| env_plus(p, "=value\n"),
        runs: &[&["check", "--strict"], &["up", "--strict"]],
        stderr: &[
            "warning: .env:4: no name before `=`: Compose reads it as a variable with an empty name",
            "  hint: write KEY=value",
            STRICT_REFUSED,
        ],
        ..BASE
    };

    // ---- typed values and compose files (issue 9, holes 7 and 9) ----

    // Was a bug: a port out of range passed `check`; `up` started redis, then Docker refused it.
    timmy_port_out_of_range: Case {
        setup: |p| {
            p.write("docker/docker-compose.dev.yml", DEV_WITH_PORTS);
            env_plus(p, "TIMMY_PORT=99999\n");
        },
        runs: TYPED_GATES,
        stderr: &[
            "error: .env:4: TIMMY_PORT must be a port number 1–65535 (0 picks a free one)",
            "  hint: docker/docker-compose.dev.yml:5 uses TIMMY_PORT as a published host port",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // Was a bug: a port that is not a number passed `check`.
    redis_port_not_a_number: Case {
        setup: |p| env_plus(p, "REDIS_PORT=sixthousand\n"),
        runs: GATES,
        stderr: &[
            "error: .env:4: REDIS_PORT must be a port number 1–65535",
            "  hint: names ending in _PORT hold a port number: fix the value of REDIS_PORT",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // Was a bug: a size Docker cannot read passed `check`.
    log_max_size_not_a_size: Case {
        setup: |p| {
            p.write("docker/docker-compose.yml", &format!("{}{LOGGING}", common::BASE));
            env_plus(p, "LOG_MAX_SIZE=ten megs\n");
        },
        runs: GATES,
        stderr: &[
            "error: .env:4: LOG_MAX_SIZE must be a size such as 512m or 4g (a number, then b, k, m, g, t or p)",
            "  hint: docker/docker-compose.yml:10 uses LOG_MAX_SIZE as `max-size`",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // Was a bug: a NUL byte in a value passed `check`; Docker refused it after redis started.
    env_value_with_a_nul_byte: Case {
        setup: |p| env_plus(p, "APP_NAME=timmy\0bot\n"),
        runs: GATES,
        stderr: &[
            "error: .env:4: the value of APP_NAME contains a control character (U+0000)",
            "  hint: remove it: a NUL or escape character in a value is a copy-and-paste slip, and Docker refuses NUL",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // Was a bug: bad indentation in the base file passed `check`; `up` printed Compose's
    // `yaml: line 4: …` with no file name.
    base_compose_file_badly_indented: Case {
        setup: |p| p.write(
            "docker/docker-compose.yml",
            "services:\n  redis:\n    image: r\n   command: x\n  timmy:\n    build: .\n",
        ),
        runs: GATES,
        stderr: &[
            "error: docker/docker-compose.yml:4: not valid YAML: while parsing a block mapping, did not find expected key",
            "  hint: check the indentation of this line and the one above (keys of one mapping line up) and the space after each `:`; `docker compose -f docker/docker-compose.yml config` shows Compose's own message",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // Was a bug: a syntax error in the environment's file passed `check`.
    env_compose_file_syntax_error: Case {
        setup: |p| p.write(
            "docker/docker-compose.dev.yml",
            "services:\n  timmy:\n    image: x: y\n",
        ),
        runs: &[&["check"], &["up"], &["build"], &["--dry-run", "up"], &["run", "timmy", "--", "true"]],
        stderr: &[
            "error: docker/docker-compose.dev.yml:3: not valid YAML: mapping values are not allowed in this context",
            "  hint: check the indentation of this line and the one above (keys of one mapping line up) and the space after each `:`; `docker compose -f docker/docker-compose.dev.yml config` shows Compose's own message",
            NOTHING_STARTED,
        ],
        ..BASE
    };
    // Was a bug: a key repeated in one mapping passed `check`; Compose refuses it without
    // naming the file.
    compose_key_defined_twice: Case {
        setup: |p| p.write(
            "docker/docker-compose.dev.yml",
            "services:\n  timmy:\n    environment:\n      LOG_LEVEL: debug\n    environment:\n      A: b\n",
        ),
        runs: &[&["check"], &["up"]],
        stderr: &[
            "error: docker/docker-compose.dev.yml:5: `environment` is defined twice in the same mapping (first on line 3)",
            "  hint: keep one of them (Compose refuses a repeated key); `docker compose -f docker/docker-compose.dev.yml config` shows Compose's own message",
            NOTHING_STARTED,
        ],
        ..BASE
    };
}

/// The dev file of the real project's shape: `TIMMY_PORT` is a published host port (line 5).
const DEV_WITH_PORTS: &str = "services:\n  timmy:\n    tty: true\n    ports:\n      - \"127.0.0.1:${TIMMY_PORT:-3000}:3000\"\n";
/// Log rotation as the real base file has it (`max-size` on line 10 of the fake base).
const LOGGING: &str = "    logging:\n      options:\n        max-size: \"${LOG_MAX_SIZE:-10m}\"\n";
/// The gates of the dev stack (the fake prod file publishes no port).
const TYPED_GATES: &[&[&str]] = &[
    &["check"],
    &["up"],
    &["build"],
    &["--dry-run", "up"],
    &["run", "timmy", "--", "true"],
];

// ---- cases that need more than a table row ----

/// Runs `timmy args` and asserts the exit code, the exact stderr (for `check` without
/// `; nothing was started`), an empty stdout, that docker was never called and that the
/// project did not change.
#[track_caller]
fn refused(p: &Project, args: &[&str], code: i32, stderr: &str) {
    let before = tree_snapshot(&p.root());
    let out = p
        .timmy()
        .args(args)
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "timmy {args:?}\n{}",
        stderr_of(&out)
    );
    assert_eq!(stderr_of(&out), for_command(stderr, args), "timmy {args:?}");
    assert_eq!(stdout_of(&out), "", "timmy {args:?}");
    assert!(p.calls().is_empty(), "docker was called: {:?}", p.calls());
    assert_eq!(
        tree_snapshot(&p.root()),
        before,
        "timmy {args:?} changed a file"
    );
}

/// An `.env` that timmy cannot read. As a normal user `chmod 000` does it. Tests run as root
/// in CI, and root reads any file whatever its mode, so there timmy runs as `nobody` (uid
/// 65534) against the root-owned `.env` of mode 600: the situation of a `.env` created with
/// sudo. Both must give the same message.
#[test]
fn env_unreadable() {
    let p = Project::new();
    let env_path = p.root().join(".env");
    let as_root = fs::metadata(&env_path).unwrap().uid() == 0;
    let program = if as_root {
        // `nobody` must reach the project, the binary and the fake's log, but not `.env`.
        fs::set_permissions(p.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(&p.fake, fs::Permissions::from_mode(0o777)).unwrap();
        let copy = p.dir.path().join("timmy-bin");
        fs::copy(assert_cmd::cargo::cargo_bin("timmy"), &copy).unwrap();
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
        copy
    } else {
        fs::set_permissions(&env_path, fs::Permissions::from_mode(0o000)).unwrap();
        assert_cmd::cargo::cargo_bin("timmy")
    };
    let before = tree_snapshot(&p.root());
    for args in [&["check"][..], &["up"], &["build"], &["test"], &["env"]] {
        let mut cmd = p.std_command(&program);
        if as_root {
            use std::os::unix::process::CommandExt;
            cmd.uid(65534).gid(65534);
        }
        let out = match cmd.args(args).output() {
            Ok(out) => out,
            // A user namespace may map no uid but root: then show what root sees.
            Err(e) if as_root => {
                eprintln!("NOTE: cannot run timmy as uid 65534 ({e}); checking what root sees");
                return root_reads_env_of_any_mode(&p);
            }
            Err(e) => panic!("cannot run timmy: {e}"),
        };
        assert_eq!(
            stderr_of(&out),
            "error: cannot read .env: Permission denied (os error 13)\n  hint: check the permissions of .env (ls -l .env)\n",
            "timmy {args:?} (as root: {as_root})"
        );
        assert_eq!(out.status.code(), Some(1), "timmy {args:?}");
        assert_eq!(stdout_of(&out), "");
    }
    assert!(p.calls().is_empty(), "docker was called: {:?}", p.calls());
    assert_eq!(tree_snapshot(&p.root()), before);
}

/// Root reads a `.env` of mode 000 like any other; mode 000 has no group or other bit, so
/// there is nothing to warn about either.
fn root_reads_env_of_any_mode(p: &Project) {
    chmod(p, ".env", 0o000);
    refused(
        p,
        &["check"],
        0,
        "timmy: .env is valid for the dev stack (docker/docker-compose.yml + docker/docker-compose.dev.yml)\n",
    );
}

/// 100 000 lines: the whole file is read (an error on line 99 999 is found), quickly.
#[test]
fn huge_env_is_read_to_the_end_quickly() {
    let p = Project::new();
    let mut text = String::from(GOOD_ENV);
    for i in 4..=100_000 {
        if i == 99_999 {
            text.push_str("BAD KEY=1\n");
        } else {
            let _ = writeln!(text, "SETTING_{i}=value-{i}");
        }
    }
    env(&p, &text);
    for args in [&["check"][..], &["up"]] {
        let started = Instant::now();
        refused(
            &p,
            args,
            1,
            "error: .env:99999: key cannot contain a space\n  hint: write KEY=value with no space inside the key\n\
             error: 1 error in the configuration; nothing was started\n",
        );
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(15),
            "timmy {args:?} took {took:?}"
        );
    }
}

#[test]
fn huge_valid_env_passes_quickly_with_the_right_finding() {
    let p = Project::new();
    let mut text = String::from(GOOD_ENV);
    for i in 4..100_000 {
        let _ = writeln!(text, "SETTING_{i}=value-{i}");
    }
    text.push_str("LOG_LEVEL=debug\n");
    env(&p, &text);
    let started = Instant::now();
    refused(
        &p,
        &["check"],
        0,
        "warning: .env:2: LOG_LEVEL is defined again on line 100000; the last one (line 100000) wins\n  \
         hint: keep a single definition\n\
         timmy: .env is usable for the dev stack (docker/docker-compose.yml + docker/docker-compose.dev.yml) with 1 warning\n",
    );
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "check took {took:?}");
}

/// timmy's label query for project `name`, as the fake records it.
fn label_query(name: &str) -> String {
    format!(
        "ps --all --no-trunc --filter label=com.docker.compose.project={name} --format {LABEL_FORMAT}"
    )
}

/// The same query as `-v` shows it, quoted for a shell.
fn shown(name: &str) -> String {
    format!(
        "running: docker ps --all --no-trunc --filter 'label=com.docker.compose.project={name}' --format '{LABEL_FORMAT}'\n"
    )
}

/// The `--format` of timmy's label query (`docker ps`).
const LABEL_FORMAT: &str = "{{.ID}}\t{{.Names}}\t{{.State}}\t{{.Label \"com.docker.compose.service\"}}\t{{.Label \"com.docker.compose.oneoff\"}}\t{{.Label \"com.docker.compose.project.config_files\"}}\t{{.Label \"com.docker.compose.project\"}}\t{{.Label \"com.docker.compose.project.working_dir\"}}";

const PS_HEALTHY: &str = r#"{"Name":"myprject-redis-1","Service":"redis","State":"running","Health":"healthy","ExitCode":0,"Publishers":[]}
{"Name":"myprject-timmy-1","Service":"timmy","State":"running","Health":"healthy","ExitCode":0,"Publishers":[]}
"#;

/// What `check` says of a folder whose name Compose shortens.
const FOREIGN: &str = "warning: project folder: the folder name `my pröject` has letters Compose drops (ö): the project name is `myprject`\n  \
                       hint: choose the name with -p NAME (or TIMMY_PROJECT_NAME), or rename the folder\n";

/// A project under `…/my pröject/`: every path reaches docker as one argument, unchanged, and
/// the project name is what Compose itself derives from the folder (`myprject`).
#[test]
fn project_path_with_spaces_and_non_ascii_works() {
    let p = Project::new();
    let root = p.dir.path().join("my pröject");
    fs::rename(p.root(), &root).unwrap();
    let r = root.display().to_string();
    p.record_exact_argv();
    p.answer_to(&["config", "--format", "json"], "{}", 0);
    p.answer_to(&["compose", "ps"], PS_HEALTHY, 0);
    let out = p
        .timmy()
        .current_dir(root.join("docker"))
        .args(["-v", "up", "-d"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let stack = [
        "compose",
        "--project-directory",
        &r,
        "--env-file",
        &format!("{r}/.env"),
        "-p",
        "myprject-dev",
        "-f",
        &format!("{r}/docker/docker-compose.yml"),
        "-f",
        &format!("{r}/docker/docker-compose.dev.yml"),
    ]
    .map(String::from)
    .to_vec();
    let config: Vec<String> = [
        &stack[..],
        &["config", "--format", "json"].map(String::from),
    ]
    .concat();
    let up: Vec<String> = [
        &stack[..],
        &[
            "up",
            "--detach",
            "--wait",
            "--wait-timeout",
            "120",
            "--remove-orphans",
            "--build",
        ]
        .map(String::from),
    ]
    .concat();
    let ps: Vec<String> = "compose --env-file /dev/null -p myprject-dev ps --all --format json"
        .split(' ')
        .map(String::from)
        .collect();
    // Calls 1 and 2: who else uses dev's name, and whether an earlier dev stack runs under
    // the plain name (prod's).
    let calls = p.exact_calls();
    assert_eq!(calls[0].join(" "), label_query("myprject-dev"));
    assert_eq!(calls[1].join(" "), label_query("myprject"));
    assert_eq!(calls[2..], [config, up, ps]);
    // The verbose lines quote the paths so that they can be pasted into a shell.
    assert_eq!(
        stderr_of(&out),
        format!(
            "{FOREIGN}running: docker compose --project-directory '{r}' --env-file '{r}/.env' -p myprject-dev \
             -f '{r}/docker/docker-compose.yml' -f '{r}/docker/docker-compose.dev.yml' \
             config --quiet\n\
             {}{}no-op up: full up: the engine is not asked through its local socket\n\
             running: docker compose --project-directory '{r}' --env-file '{r}/.env' -p myprject-dev \
             -f '{r}/docker/docker-compose.yml' -f '{r}/docker/docker-compose.dev.yml' \
             config --format json\n\
             running: docker compose --project-directory '{r}' --env-file '{r}/.env' -p myprject-dev \
             -f '{r}/docker/docker-compose.yml' -f '{r}/docker/docker-compose.dev.yml' \
             up --detach --wait --wait-timeout 120 --remove-orphans --build\n\
             running: docker compose --env-file /dev/null -p myprject-dev ps --all --format json\n\
             timmy: dev stack `myprject-dev` is up (docker/docker-compose.yml + docker/docker-compose.dev.yml)\n",
            shown("myprject-dev"),
            shown("myprject")
        )
    );
    assert_eq!(
        stdout_of(&out),
        "SERVICE  STATE    HEALTH   UPTIME  PORTS  IMAGE\nredis    running  healthy  -       -      -\ntimmy    running  healthy  -       -      -\n"
    );

    // From elsewhere with --project-dir, and a bad .env there: the same relative message.
    fs::write(root.join(".env"), format!("{GOOD_ENV}MY KEY=1\n")).unwrap();
    p.forget_calls();
    let out = p
        .timmy()
        .current_dir(p.dir.path())
        .args(["--project-dir", &r, "up"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        format!(
            "error: .env:4: key cannot contain a space\n  hint: write KEY=value with no space inside the key\n\
             {FOREIGN}error: 1 error in the configuration; nothing was started\n"
        )
    );
    assert!(p.exact_calls().is_empty());
}

// Was a bug: a named pipe as .env makes timmy wait forever for a writer, silently.
#[test]
fn env_is_a_named_pipe() {
    let p = Project::new();
    remove(&p, ".env");
    let made = std::process::Command::new("mkfifo")
        .arg(p.root().join(".env"))
        .status()
        .unwrap();
    assert!(made.success());
    for args in [&["check"][..], &["up"]] {
        refused(
            &p,
            args,
            1,
            "error: .env is a named pipe, not a regular file\n  \
             hint: timmy and Compose each read .env; write its values to a regular file (chmod 600 .env)\n",
        );
    }
}

// ---- secrets never reach the terminal ----

/// A `.env` full of secrets: a GitHub token, passwords with `$` (literal in single quotes,
/// `$$` unquoted), a double-quoted value with spaces, an Anthropic key, a `ClickUp` token.
const SECRET_ENV: &str = "\
NODE_ENV=production
LOG_LEVEL=info
GITHUB_TOKEN=ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u
DB_PASSWORD='Pa$$w0rd-Kq8$zz'
REDIS_PASSWORD=Pl41n$$D0llar
SESSION_SECRET=\"quoted s3cret value\"
ANTHROPIC_API_KEY=sk-ant-api03-kR2vN8qLm4TzW9pXc3HbJ6sFd1GyA5eUo7iQ0tZrV2nM8wK4xC6bP9hL3jS5gD1fY7aE0uT2oI4qN6mR8vB
CLICKUP_TOKEN=pk_4815162_QW7ER9TY2UI4OP6AS8DF1GH3JK5LZX0C
";

/// What must never be printed: each value, its `$$`-escaped form, and a telling piece of each.
const PLANTED: &[&str] = &[
    "ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u",
    "Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u",
    "Pa$$w0rd-Kq8$zz",
    "Pa$$$$w0rd-Kq8$$zz",
    "w0rd-Kq8",
    "Pl41n$D0llar",
    "Pl41n$$D0llar",
    "D0llar",
    "quoted s3cret value",
    "s3cret",
    "kR2vN8qLm4TzW9pXc3Hb",
    "QW7ER9TY2UI4OP6AS8DF1GH3JK5LZX0C",
];

/// What `docker compose config` prints for that `.env` (Compose doubles every `$`).
const COMPOSE_CONFIG: &str = "\
name: proj
services:
  timmy:
    environment:
      ANTHROPIC_API_KEY: sk-ant-api03-kR2vN8qLm4TzW9pXc3HbJ6sFd1GyA5eUo7iQ0tZrV2nM8wK4xC6bP9hL3jS5gD1fY7aE0uT2oI4qN6mR8vB
      CLICKUP_TOKEN: pk_4815162_QW7ER9TY2UI4OP6AS8DF1GH3JK5LZX0C
      DB_PASSWORD: Pa$$$$w0rd-Kq8$$zz
      GITHUB_TOKEN: ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u
      REDIS_PASSWORD: Pl41n$$D0llar
      SESSION_SECRET: quoted s3cret value
";

#[track_caller]
fn assert_no_secret(args: &[&str], out: &std::process::Output, planted: &[&str]) {
    for stream in [stdout_of(out), stderr_of(out)] {
        for secret in planted {
            assert!(
                !stream.contains(secret),
                "timmy {args:?} printed {secret:?}:\n{stream}"
            );
        }
    }
}

/// A fresh project with `env_text`, the fake scripted by `script`, then `timmy args`.
fn output_with(
    env_text: &str,
    script: fn(&Project),
    args: &[&str],
) -> (Project, std::process::Output) {
    let p = Project::new();
    env(&p, env_text);
    script(&p);
    let out = p
        .timmy()
        .args(args)
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    (p, out)
}

/// Arguments, how to script the fake, expected exit code.
type Run = (&'static [&'static str], fn(&Project), i32);

#[test]
fn no_secret_in_any_output_on_good_input() {
    // Calls 1 and 2 are the label queries (which stack of this checkout runs, and who else
    // uses its name); call 3 is `compose ps`.
    let ps = |p: &Project| {
        p.answer_to(&["compose", "ps"], PS_HEALTHY, 0);
    };
    let runs: &[Run] = &[
        (&["check"], |_| {}, 0),
        (&["check", "prod", "--strict"], |_| {}, 0),
        (&["-v", "--dry-run", "up"], |_| {}, 0),
        (&["--dry-run", "up", "prod", "--build"], |_| {}, 0),
        (&["-v", "--dry-run", "build", "prod"], |_| {}, 0),
        (&["-v", "--dry-run", "test"], |_| {}, 0),
        (
            &["-v", "up", "-d"],
            |p| {
                p.answer_to(&["config", "--format", "json"], "{}", 0);
                p.answer_to(&["compose", "ps"], PS_HEALTHY, 0);
            },
            0,
        ),
        (&["-v", "ps"], ps, 0),
        (&["-v", "ps", "--json"], ps, 0),
        (
            &["-v", "test"],
            |p| {
                p.answer_to(&["compose", "run", "tests"], "", 3);
            },
            3,
        ),
        (&["env"], |_| {}, 0),
        (&["env", "--json"], |_| {}, 0),
        (&["env", "prod"], |_| {}, 0),
        (&["config", "--files"], |_| {}, 0),
        (&["config", "--export"], |_| {}, 0),
        (
            &["-v", "config", "prod"],
            |p| {
                p.answer_to(&["compose", "config"], COMPOSE_CONFIG, 0);
            },
            0,
        ),
        // Compose failing with its config on stdout: still masked.
        (
            &["config"],
            |p| {
                p.answer_to(&["compose", "config"], COMPOSE_CONFIG, 15);
            },
            15,
        ),
    ];
    for (args, script, code) in runs {
        let (_p, out) = output_with(SECRET_ENV, *script, args);
        assert_eq!(
            out.status.code(),
            Some(*code),
            "timmy {args:?}\n{}",
            stderr_of(&out)
        );
        assert_no_secret(args, &out, PLANTED);
    }
    // `env` shows every key, the secrets masked (a known token prefix stays).
    let (_p, out) = output_with(SECRET_ENV, |_| {}, &["env"]);
    assert_eq!(
        stdout_of(&out),
        "NODE_ENV=production\nLOG_LEVEL=info\nGITHUB_TOKEN=ghp_****\nDB_PASSWORD=****\n\
         REDIS_PASSWORD=****\nSESSION_SECRET=****\nANTHROPIC_API_KEY=sk-ant-api03-****\n\
         CLICKUP_TOKEN=pk_****\n"
    );
    // The merged config keeps its shape with the values masked.
    let (_p, out) = output_with(
        SECRET_ENV,
        |p| {
            p.answer_to(&["compose", "config"], COMPOSE_CONFIG, 0);
        },
        &["config"],
    );
    assert_eq!(
        stdout_of(&out),
        "name: proj\nservices:\n  timmy:\n    environment:\n      \
         ANTHROPIC_API_KEY: sk-ant-api03-****\n      CLICKUP_TOKEN: pk_****\n      \
         DB_PASSWORD: ****\n      GITHUB_TOKEN: ghp_****\n      REDIS_PASSWORD: ****\n      \
         SESSION_SECRET: ****\n"
    );
}

/// Broken lines that carry a secret of their own, each appended to `SECRET_ENV` (line 9).
const BROKEN_SECRET_LINES: &[(&str, &str)] = &[
    ("API_TOKEN=\"Unterminated-s3cret\n", "Unterminated-s3cret"),
    ("API_TOKEN=${BracedS3cretValue\n", "BracedS3cretValue"),
    (
        "API_TOKEN=${UNSET_VAR:?MessageS3cretValue}\n",
        "MessageS3cretValue",
    ),
    ("API_TOKEN=\"ok\"TailS3cretValue$\n", "TailS3cretValue"),
    ("API_TOKEN=ghp_ShortS3cretValue\n", "ShortS3cretValue"),
    (
        "API_TOKEN=changeme\nAPI_PASSWORD=pa$wordS3cretValue\n",
        "wordS3cretValue",
    ),
];

#[test]
fn no_secret_in_any_output_on_bad_input() {
    let commands: &[&[&str]] = &[
        &["check"],
        &["check", "--strict"],
        &["up"],
        &["-v", "up", "--strict"],
        &["--dry-run", "up", "prod"],
        &["build"],
        &["test"],
        &["env"],
        &["env", "--json"],
        &["config", "--files"],
        &["config", "--export"],
    ];
    for (line, own_secret) in BROKEN_SECRET_LINES {
        let text = format!("{SECRET_ENV}{line}");
        let mut planted = PLANTED.to_vec();
        planted.push(own_secret);
        for args in commands {
            let (_p, out) = output_with(&text, |_| {}, args);
            assert_no_secret(args, &out, &planted);
        }
    }
    // Bytes that are not UTF-8 on a secret's line.
    let p = Project::new();
    let mut bytes = SECRET_ENV.as_bytes().to_vec();
    bytes.extend_from_slice(b"API_TOKEN=Utf8S3cretValue\xff\n");
    fs::write(p.root().join(".env"), bytes).unwrap();
    for args in commands {
        let out = p.timmy().args(*args).output().unwrap();
        let mut planted = PLANTED.to_vec();
        planted.push("Utf8S3cretValue");
        assert_no_secret(args, &out, &planted);
    }
    // A secret left at its .env.example value.
    let p = Project::new();
    p.write(
        ".env.example",
        &format!("{}API_TOKEN=ExampleS3cretValue\n", common::ENV_EXAMPLE),
    );
    env(&p, &format!("{SECRET_ENV}API_TOKEN=ExampleS3cretValue\n"));
    for args in commands {
        let out = p.timmy().args(*args).output().unwrap();
        let mut planted = PLANTED.to_vec();
        planted.push("ExampleS3cretValue");
        assert_no_secret(args, &out, &planted);
    }
}

/// Compose's own error quotes the broken value: `timmy config` must refuse a bad `.env`
/// itself, before docker, as `up` does.
// Was a bug: `config` does not validate .env; it runs `docker compose config` and prints Compose's error, which quotes the secret, unmasked.
#[test]
fn config_refuses_a_bad_env_before_docker() {
    let p = Project::new();
    env_plus(&p, "SESSION_SECRET=\"s3cret-value-never-closed\n");
    p.answer_to(&["compose", "config"], "", 1).stderr(&format!(
        "failed to read {}/.env: line 5: unterminated quoted value \"s3cret-value-never-closed\n",
        p.root().display()
    ));
    for args in [&["config"][..], &["config", "prod"]] {
        refused(
            &p,
            args,
            1,
            "error: .env:5: the quote opened on line 4 is never closed (Compose reports the line where the file ends)\n  \
             hint: close the quote; to keep a quote character inside a value, escape it as \\\" or \\'\n\
             error: 1 error in the configuration; nothing was started\n",
        );
    }
}

/// `down` must still stop a stack after `.env` broke, and Compose must not be handed the broken
/// file (it would refuse to stop anything and print the broken value).
// Was a bug: `down` passes a broken .env to Compose, which refuses to stop the stack and prints the secret.
#[test]
fn down_still_works_and_leaks_nothing_after_env_broke() {
    let p = Project::new();
    let root = p.root().display().to_string();
    env_plus(&p, "SESSION_SECRET=\"s3cret-value-never-closed\n");
    let files = format!("{root}/docker/docker-compose.yml,{root}/docker/docker-compose.dev.yml");
    let line = format!(
        "aaaaaaaaaaaaaaaa\tproj-dev-timmy-1\trunning\ttimmy\tFalse\t{files}\tproj-dev\t{root}\n"
    );
    p.answer_here(&line);
    p.answer_labels("proj-dev", &line).once();
    let out = p.timmy().arg("down").output().unwrap();
    assert_no_secret(&["down"], &out, &["s3cret-value-never-closed"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // By name only. The brief expected plain `compose -p proj down`, but Compose 2.26.1 also
    // reads `.env` from its working directory (the project root) when given no file, and then
    // fails on the broken `.env` and prints its value (measured against the real engine), so
    // an empty env file stands in for it.
    let calls = p.calls();
    assert_eq!(
        calls[2], "compose --env-file /dev/null -p proj-dev down --remove-orphans",
        "{calls:#?}"
    );
}

/// A password inside a URL is a secret whatever the key is called.
// Was a bug: `env` and `config` print the password of DATABASE_URL=postgres://user:PASSWORD@host.
#[test]
fn url_credentials_are_masked() {
    let text = format!("{GOOD_ENV}DATABASE_URL=postgres://app:UrlS3cretPw@db:5432/app\n");
    let (_p, out) = output_with(&text, |_| {}, &["env"]);
    assert_eq!(
        stdout_of(&out),
        "NODE_ENV=production\nLOG_LEVEL=info\nGITHUB_TOKEN=ghp_****\n\
         DATABASE_URL=postgres://app:****@db:5432/app\n"
    );
    for args in [&["env", "--json"][..], &["config"]] {
        let (_p, out) = output_with(
            &text,
            |p| {
                p.answer_to(
                    &["compose", "config"],
                    "services:\n  timmy:\n    environment:\n      DATABASE_URL: postgres://app:UrlS3cretPw@db:5432/app\n",
                    0,
                );
            },
            args,
        );
        assert_no_secret(args, &out, &["UrlS3cretPw"]);
    }
}

/// A base64 secret pasted on a line of its own ends in `=`: Compose reads it as a key, and
/// check's warning about odd key names quotes it.
// Was a bug: check quotes a key name in full, and a pasted base64 secret (`c2Vj…==`) is read as one.
#[test]
fn pasted_secret_read_as_a_key_is_not_quoted() {
    let text = format!("{GOOD_ENV}SESSION_SECRET=\nc2VjcmV0LXRva2VuLXZhbHVlcw==\n");
    for args in [&["check"][..], &["check", "--strict"]] {
        let (_p, out) = output_with(&text, |_| {}, args);
        assert_no_secret(args, &out, &["c2VjcmV0LXRva2VuLXZhbHVlcw"]);
    }
}

#[test]
fn root_sees_through_mode_000() {
    let p = Project::new();
    if fs::metadata(p.root().join(".env")).unwrap().uid() == 0 {
        root_reads_env_of_any_mode(&p);
    }
}
