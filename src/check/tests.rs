//! Table tests for every check: `.env`, `.env.example` and compose files in, findings out.

use super::typos::{edit_distance, is_likely_typo};
use super::*;

struct Case {
    env: Option<&'static str>,
    mode: Option<u32>,
    example: Option<&'static str>,
    compose: Vec<(String, String)>,
    other: Vec<(String, String)>,
    shell: Vec<(&'static str, &'static str)>,
    docker_env: bool,
    stack_env: Option<&'static str>,
}

fn env(text: &'static str) -> Case {
    Case {
        env: Some(text),
        mode: Some(0o600),
        example: None,
        compose: Vec::new(),
        other: Vec::new(),
        shell: Vec::new(),
        docker_env: false,
        stack_env: None,
    }
}

impl Case {
    fn example(mut self, text: &'static str) -> Self {
        self.example = Some(text);
        self
    }
    fn compose(mut self, text: &str) -> Self {
        self.compose
            .push(("docker/docker-compose.yml".to_owned(), text.to_owned()));
        self
    }
    fn shell(mut self, key: &'static str, value: &'static str) -> Self {
        self.shell.push((key, value));
        self
    }
    fn mode(mut self, mode: u32) -> Self {
        self.mode = Some(mode);
        self
    }
    fn run(&self) -> Vec<Finding> {
        let shell = |k: &str| {
            self.shell
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| (*v).to_owned())
        };
        check(&Input {
            env_file: ".env",
            env_text: self.env,
            env_mode: self.mode,
            example_text: self.example,
            compose_files: &self.compose,
            other_compose_files: &self.other,
            shell: &shell,
            docker_dir_env_exists: self.docker_env,
            stack_env: self.stack_env,
        })
    }
    /// Findings as `E .env:3: message` / `W …` lines.
    fn lines(&self) -> Vec<String> {
        self.run()
            .iter()
            .map(|f| {
                let level = if f.level == Level::Error { "E" } else { "W" };
                format!("{level} {f}")
            })
            .collect()
    }
}

#[track_caller]
fn has(case: &Case, expected: &str) {
    let lines = case.lines();
    assert!(
        lines.iter().any(|l| l == expected),
        "missing {expected:?} in {lines:#?}"
    );
}

#[track_caller]
fn clean(case: &Case) {
    let lines = case.lines();
    assert!(lines.is_empty(), "expected no findings, got {lines:#?}");
}

#[test]
fn a_good_env_has_no_findings() {
    clean(
        &env("# settings\nPORT=8081\nDB_PASSWORD='s3cr$t'\n")
            .example("PORT=8080\nDB_PASSWORD=\n")
            .compose("services:\n  a:\n    ports: [\"${PORT}:80\"]\n    environment:\n      P: ${DB_PASSWORD:?}\n      T: ${TAG:-latest}\n"),
    );
}

#[test]
fn missing_env_is_an_error_with_cp_hint() {
    let mut case = env("");
    case.env = None;
    case.example = Some("A=1\n");
    let found = case.run();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].to_string(), ".env: missing");
    assert_eq!(found[0].level, Level::Error);
    assert_eq!(found[0].hint.as_deref(), Some("cp .env.example .env"));
}

#[test]
fn parse_errors_use_composes_line() {
    has(
        &env("A=1\nB=\"open\nC=2\n"),
        "E .env:4: the quote opened on line 2 is never closed (Compose reports the line where the file ends)",
    );
    has(
        &env("A=1\nMY KEY=1\n"),
        "E .env:2: key cannot contain a space",
    );
    has(
        &env("A=1\n\nlol$wut=1\n"),
        "E .env:3: unexpected character '$' in variable name (Compose refuses this file)",
    );
    has(
        &env("A=1\nB=${X:?}\n"),
        "E .env:2: the value of B requires a variable that is not set (`${VAR:?}`)",
    );
    has(
        &env("A=${B\n"),
        "E .env:1: invalid `${...}` in the value of A: Compose refuses this file",
    );
}

#[test]
fn example_keys_must_be_present_and_non_empty() {
    let case = env("A=1\nB=\n").example("# doc\nA=\nB=\nC=\n");
    has(&case, "E .env:2: B is empty (required by .env.example)");
    has(&case, "E .env: C is missing (required by .env.example)");
    let found = case.run();
    let c = found
        .iter()
        .find(|f| f.message.starts_with("C is missing"))
        .expect("C reported");
    assert_eq!(
        c.hint.as_deref(),
        Some(".env.example:4 defines C; add C=... to .env")
    );
    // the shell can provide it
    clean(&env("A=1\nB=2\n").example("A=\nB=\nC=\n").shell("C", "x"));
}

#[test]
fn errors_carry_the_key_they_are_about() {
    #[track_caller]
    fn keys(case: &Case, expected: &[(&str, Option<&str>)]) {
        let found: Vec<(String, Option<String>)> = case
            .run()
            .into_iter()
            .filter(|f| f.level == Level::Error)
            .map(|f| (f.message, f.key))
            .collect();
        let expected: Vec<(String, Option<String>)> = expected
            .iter()
            .map(|(m, k)| ((*m).to_owned(), k.map(str::to_owned)))
            .collect();
        assert_eq!(found, expected);
    }
    keys(
        &env("A=1\nB=\nNAME=ab\0cd\nAPI_TOKEN=example-token\nSECRET_KEY=changeme\n")
            .example("A=\nB=\nC=\nAPI_TOKEN=example-token\nSECRET_KEY=\n"),
        &[
            ("C is missing (required by .env.example)", Some("C")),
            ("B is empty (required by .env.example)", Some("B")),
            (
                "the value of NAME contains a control character (U+0000)",
                Some("NAME"),
            ),
            (
                "API_TOKEN still has the value from .env.example",
                Some("API_TOKEN"),
            ),
            (
                "SECRET_KEY holds a placeholder, not a real value",
                Some("SECRET_KEY"),
            ),
        ],
    );
    keys(
        &env("REDIS_PORT=x\n")
            .compose("services:\n  a:\n    image: ${IMG:?}\n    ports: [\"${REDIS_PORT}:6379\"]\n"),
        &[
            (
                "REDIS_PORT must be a port number 1–65535 (0 picks a free one)",
                Some("REDIS_PORT"),
            ),
            ("required variable IMG is missing a value", Some("IMG")),
        ],
    );
    keys(
        &env("A=${B\n"),
        &[(
            "invalid `${...}` in the value of A: Compose refuses this file",
            None,
        )],
    );
}

#[test]
fn example_values_and_placeholders() {
    let case = env("API_TOKEN=example-token\nHOST=example.org\nSECRET_KEY=changeme\nNAME=TODO\n")
        .example("API_TOKEN=example-token\nHOST=example.org\nSECRET_KEY=\nNAME=\n");
    has(
        &case,
        "E .env:1: API_TOKEN still has the value from .env.example",
    );
    assert!(
        !case.lines().iter().any(|l| l.contains("HOST")),
        "a non-secret default copied from .env.example is fine: {:#?}",
        case.lines()
    );
    has(
        &case,
        "E .env:3: SECRET_KEY holds a placeholder, not a real value",
    );
    has(
        &case,
        "W .env:4: NAME holds a placeholder, not a real value",
    );
    // placeholders are caught without an example too
    has(
        &env("GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxx\n"),
        "E .env:1: GITHUB_TOKEN holds a placeholder, not a real value",
    );
}

#[test]
fn compose_plain_and_required_references() {
    let case = env("SET=1\nEMPTY=\n").compose(
        "services:\n  a:\n    image: x:${TAG}\n    environment:\n      A: ${SET}\n      B: ${NEED:?set NEED please}\n      C: ${EMPTY:?}\n      D: ${EMPTY?}\n      E: ${OPT:-x}${ALT:+y}\n      F: $$LITERAL\n",
    );
    let lines = case.lines();
    assert_eq!(
        lines,
        [
            "E docker/docker-compose.yml:3: TAG is not set (Compose would substitute an empty string)",
            "E docker/docker-compose.yml:6: required variable NEED is missing a value: set NEED please",
            "E docker/docker-compose.yml:7: required variable EMPTY is missing a value",
        ]
    );
    // the shell counts as set
    clean(&env("A=1\n").compose("x: ${TAG}\n").shell("TAG", "v1"));
    clean(&env("A=1\n").compose("image: ${COMPOSE_PROJECT_NAME}-timmy:dev\n"));
    has(
        &env("A=1\n").compose("x: 1\ny: ${BROKEN\n"),
        "E docker/docker-compose.yml:2: Invalid template: \"y: ${BROKEN\"",
    );
}

#[test]
fn tab_indented_compose_file_is_an_error_even_without_env() {
    let mut case = env("A=1\n").compose("services:\n  a:\n\timage: x\n");
    has(
        &case,
        "E docker/docker-compose.yml:3: not valid YAML: a tab where indentation is expected",
    );
    case.env = None;
    has(
        &case,
        "E docker/docker-compose.yml:3: not valid YAML: a tab where indentation is expected",
    );
}

const TYPED_COMPOSE: &str = "services:\n  timmy:\n    ports:\n      - \"127.0.0.1:${TIMMY_PORT:-3000}:3000\"\n    environment:\n      REDIS_PORT: ${REDIS_PORT:-6379}\n    logging:\n      options:\n        max-file: \"${LOG_MAX_FILE:-3}\"\n        max-size: ${LOG_MAX_SIZE:-10m}\n    deploy:\n      resources:\n        limits:\n          cpus: \"${TIMMY_CPU_LIMIT:-2}\"\n";

#[test]
fn typed_values_are_errors_with_the_place_that_types_them() {
    let case = env("A=1\nTIMMY_PORT=99999\nREDIS_PORT=sixthousand\nLOG_MAX_FILE=0\nLOG_MAX_SIZE=lots\nTIMMY_CPU_LIMIT=two\n")
        .compose(TYPED_COMPOSE);
    assert_eq!(
        case.lines(),
        [
            "E .env:2: TIMMY_PORT must be a port number 1–65535 (0 picks a free one)",
            "E .env:3: REDIS_PORT must be a port number 1–65535",
            "E .env:4: LOG_MAX_FILE must be a whole number, 1 or more",
            "E .env:5: LOG_MAX_SIZE must be a size such as 512m or 4g (a number, then b, k, m, g, t or p)",
            "E .env:6: TIMMY_CPU_LIMIT must be a number of CPUs such as 2 or 0.5",
        ]
    );
    let hints: Vec<String> = case.run().into_iter().filter_map(|f| f.hint).collect();
    assert_eq!(
        hints,
        [
            "docker/docker-compose.yml:4 uses TIMMY_PORT as a published host port",
            "names ending in _PORT hold a port number: fix the value of REDIS_PORT",
            "docker/docker-compose.yml:9 uses LOG_MAX_FILE as `max-file`",
            "docker/docker-compose.yml:10 uses LOG_MAX_SIZE as `max-size`",
            "docker/docker-compose.yml:14 uses TIMMY_CPU_LIMIT as `cpus`",
        ]
    );
    clean(
        &env("TIMMY_PORT=0\nREDIS_PORT=6379\nLOG_MAX_FILE=3\nLOG_MAX_SIZE=10m\nTIMMY_CPU_LIMIT=0.5\nOTHER_PORT=\n")
            .compose(TYPED_COMPOSE),
    );
    // Another environment's file types the shared .env too: the prod stack does not
    // publish TIMMY_DEBUG_PORT, the dev stack does, so 0 is fine for `check prod`.
    let mut prod = env("TIMMY_DEBUG_PORT=0\n").compose("services:\n  timmy:\n    image: x\n");
    prod.other.push((
        "docker/docker-compose.dev.yml".to_owned(),
        "services:\n  timmy:\n    ports: [\"127.0.0.1:${TIMMY_DEBUG_PORT:-9229}:9229\"]\n"
            .to_owned(),
    ));
    clean(&prod);
    prod.other.clear();
    has(
        &prod,
        "E .env:1: TIMMY_DEBUG_PORT must be a port number 1–65535",
    );
    // Without a compose file using it, a port variable may not be 0.
    has(
        &env("REDIS_PORT=0\n"),
        "E .env:1: REDIS_PORT must be a port number 1–65535",
    );
    // The last definition is the one Compose uses.
    assert_eq!(
        env("TIMMY_PORT=x\nTIMMY_PORT=3000\n")
            .compose(TYPED_COMPOSE)
            .lines(),
        ["W .env:1: TIMMY_PORT is defined again on line 2; the last one (line 2) wins"]
    );
}

#[test]
fn a_typed_value_from_the_shell_names_where_it_is_used() {
    let case = env("TIMMY_PORT=3000\n")
        .compose(TYPED_COMPOSE)
        .shell("TIMMY_PORT", "99999");
    assert_eq!(
        case.run()
            .iter()
            .filter(|f| f.level == Level::Error)
            .map(|f| format!("{f} / {}", f.hint.as_deref().unwrap_or("")))
            .collect::<Vec<_>>(),
        [
            "docker/docker-compose.yml:4: TIMMY_PORT (set in your shell) must be a port number 1–65535 (0 picks a free one) / docker/docker-compose.yml:4 uses TIMMY_PORT as a published host port; unset TIMMY_PORT in your shell or fix its value"
        ]
    );
    // A variable the compose files use but .env does not set is checked in the shell too.
    has(
        &env("A=1\n")
            .compose(TYPED_COMPOSE)
            .shell("LOG_MAX_SIZE", "huge"),
        "E docker/docker-compose.yml:10: LOG_MAX_SIZE (set in your shell) must be a size such as 512m or 4g (a number, then b, k, m, g, t or p)",
    );
}

#[test]
fn control_characters_in_values() {
    has(
        &env("A=1\nNAME=ab\0cd\n"),
        "E .env:2: the value of NAME contains a control character (U+0000)",
    );
    has(
        &env("NAME=\"red\u{1b}[0m\"\n"),
        "E .env:1: the value of NAME contains a control character (U+001B)",
    );
    clean(&env("NAME=\"a\tb\"\nKEY=\"line1\nline2\"\n"));
}

#[test]
fn compose_yaml_errors_name_file_and_line() {
    has(
        &env("A=1\n").compose("services:\n  redis:\n    image: r\n   command: x\n"),
        "E docker/docker-compose.yml:4: not valid YAML: while parsing a block mapping, did not find expected key",
    );
    has(
        &env("A=1\n").compose("services:\n  redis:\n    image: r\n    image: s\n"),
        "E docker/docker-compose.yml:4: `image` is defined twice in the same mapping (first on line 3)",
    );
    clean(&env("A=1\n").compose("services:  # the stack\n  redis: {image: r}\n"));
}

const EXAMPLE_WITH_DIRECTIVES: &str = "\
#: required-in=prod  missing=\"calls to OpenAI will fail\"
OPENAI_API_KEY=sk-your_key_here
#: required-in=prod missing=\"no repository to work on\"
GITHUB_REPO=your_org/your_repo
#: required-in=prod
CLICKUP_TEAM_ID=
LOG_LEVEL=info
";

#[test]
fn placeholders_of_keys_an_env_does_not_require_are_warnings() {
    let mut case = env("OPENAI_API_KEY=sk-your_key_here\nGITHUB_REPO=your_org/your_repo\nCLICKUP_TEAM_ID=\nLOG_LEVEL=info\n")
        .example(EXAMPLE_WITH_DIRECTIVES);
    case.stack_env = Some("dev");
    assert_eq!(
        case.lines(),
        [
            "W .env:1: OPENAI_API_KEY is a placeholder: calls to OpenAI will fail",
            "W .env:2: GITHUB_REPO is a placeholder: no repository to work on",
            "W .env:3: CLICKUP_TEAM_ID is empty: what needs CLICKUP_TEAM_ID will not work (required in prod)",
        ]
    );
    assert_eq!(
        case.run()[0].hint.as_deref(),
        Some(
            "the dev stack starts without it; prod needs the real value of OPENAI_API_KEY in .env"
        )
    );
    case.stack_env = Some("prod");
    assert_eq!(
        case.lines(),
        [
            "E .env:1: OPENAI_API_KEY holds a placeholder, not a real value",
            "E .env:2: GITHUB_REPO holds a placeholder, not a real value",
            "E .env:3: CLICKUP_TEAM_ID is empty (required by .env.example)",
        ]
    );
    // a key left out of .env: a warning where it is not required
    let mut case = env("LOG_LEVEL=info\nGITHUB_REPO=me/it\nCLICKUP_TEAM_ID=1\n")
        .example(EXAMPLE_WITH_DIRECTIVES);
    case.stack_env = Some("test");
    assert_eq!(
        case.lines(),
        ["W .env: OPENAI_API_KEY is missing: calls to OpenAI will fail"]
    );
    // without directives nothing changes: a secret placeholder is an error in every env
    let mut case = env("OPENAI_API_KEY=sk-your_key_here\n").example("OPENAI_API_KEY=\n");
    case.stack_env = Some("dev");
    has(
        &case,
        "E .env:1: OPENAI_API_KEY holds a placeholder, not a real value",
    );
}

#[test]
fn prod_requires_every_secret_whatever_the_directive() {
    let mut case = env("GITHUB_TOKEN=ghp_your_token_here\n")
        .example("#: required-in=dev\nGITHUB_TOKEN=ghp_your_token_here\n");
    case.stack_env = Some("prod");
    has(
        &case,
        "E .env:1: GITHUB_TOKEN holds a placeholder, not a real value",
    );
    case.stack_env = Some("test");
    has(
        &case,
        "W .env:1: GITHUB_TOKEN is a placeholder: what needs GITHUB_TOKEN will not work (required in dev)",
    );
}

#[test]
fn a_directive_timmy_cannot_read_is_an_error_in_the_example() {
    has(
        &env("A=1\n").example("#: required=prod\nA=\n"),
        "E .env.example:1: unknown directive attribute `required`",
    );
}

#[test]
fn a_bare_key_line_says_where_compose_takes_the_value() {
    has(
        &env("A=1\nLOG_LEVEL\n").shell("LOG_LEVEL", "debug"),
        "W .env:2: LOG_LEVEL has no `=`: Compose takes the value from the shell that runs it, not from .env",
    );
    has(
        &env("A=1\nLOG_LEVEL\n"),
        "W .env:2: LOG_LEVEL has no `=` and is not set in your shell: Compose leaves it out",
    );
    // a pasted token alone on its line is not named
    has(
        &env("A=1\nghpZ8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u\n"),
        "W .env:2: this line has no `=` and is not set in your shell: Compose leaves it out",
    );
    clean(&env("A=1\nB=\n"));
}

#[test]
fn a_key_close_to_one_of_the_example_is_a_likely_typo() {
    let example = "GITHUB_TOKEN=\nLOG_LEVEL=info\n#LOG_MAX_SIZE=10m\nTIMMY_PORT=3000\n";
    let case = env(
        "GITHUB_TOKNE=x\nLOG_LEVEL=info\nLOG_MAX_SZE=1m\nTIMMY_PORT=3000\nREDIS_PORT=1\nMY_OWN=1\n",
    )
    .example(example);
    has(
        &case,
        "W .env:1: GITHUB_TOKNE is not in .env.example: did you mean GITHUB_TOKEN?",
    );
    has(
        &case,
        "W .env:3: LOG_MAX_SZE is not in .env.example: did you mean LOG_MAX_SIZE?",
    );
    let lines = case.lines();
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("REDIS_PORT") || l.contains("MY_OWN")),
        "{lines:#?}"
    );
    assert_eq!(
        case.run()
            .iter()
            .find(|f| f.line == Some(1) && f.level == Level::Warning)
            .and_then(|f| f.hint.clone())
            .as_deref(),
        Some("rename it to GITHUB_TOKEN; nothing reads GITHUB_TOKNE")
    );
    assert_eq!(edit_distance("GITHUB_TOKNE", "GITHUB_TOKEN"), 1);
    assert_eq!(edit_distance("REDIS_PORT", "TIMMY_PORT"), 5);
    assert!(!is_likely_typo("PORT", "HOST"));
}

/// Each key's last definition, found by key; the keys come out sorted, once each.
#[test]
fn last_by_key_finds_the_last_definition() {
    let entries = dotenv::parse("B=1\nA=2\nB=3\nC=4\nA=5\n", &|_| None).unwrap();
    let last = LastByKey::new(&entries);
    assert_eq!(last.keys(&entries).collect::<Vec<_>>(), ["A", "B", "C"]);
    for (key, value, line) in [("A", "5", 5), ("B", "3", 3), ("C", "4", 4)] {
        let e = last.get(&entries, key).unwrap();
        assert_eq!((e.value.as_str(), e.line), (value, line), "{key}");
    }
    assert!(last.get(&entries, "D").is_none());
}

/// The character-count test in front of the distance table keeps every name within the
/// allowed edits (swap, insertion, deletion, substitutions, lower case) and drops the rest.
#[test]
fn typo_prefilter_keeps_every_near_name() {
    for near in [
        "GITHUB_TOKNE",
        "GITHUBB_TOKEN",
        "GITHUB_TOKN",
        "GITHUB_TOKEM",
        "GITHUX_TOKEM",
        "github_token",
        "GITHUB_TOKEN_",
    ] {
        assert!(is_likely_typo(near, "GITHUB_TOKEN"), "{near}");
    }
    for far in ["SETTING_00001", "GITHUX_TOXEM_", "TOKEN_GITHUB", "GH_TOKEN"] {
        assert!(!is_likely_typo(far, "GITHUB_TOKEN"), "{far}");
    }
    assert!(is_likely_typo("REDIS_POTR", "REDIS_PORT"));
    assert!(!is_likely_typo("ÜEDIS_PORT", "REDIS_PORT_X_Y"));
}

#[test]
fn duplicate_keys_say_which_wins() {
    has(
        &env("A=1\nB=2\nA=3\n"),
        "W .env:1: A is defined again on line 3; the last one (line 3) wins",
    );
}

#[test]
fn dollar_in_unquoted_or_double_quoted_value() {
    let msg = "the value of P contains `$` followed by a name that is not set; Compose replaces it with an empty string";
    has(&env("P=pa$word1\n"), &format!("W .env:1: {msg}"));
    has(&env("P=\"pa$word1\"\n"), &format!("W .env:1: {msg}"));
    clean(&env("P='pa$word1'\n"));
    clean(&env("P=pa$$word1\n"));
}

#[test]
fn tab_before_hash_and_value_starting_with_hash() {
    has(
        &env("A=bar\t# c\n"),
        "W .env:1: the value of A has a tab before `#`: Compose keeps the `#` and what follows as part of the value",
    );
    has(
        &env("A=   # note\n"),
        "W .env:1: the value of A starts with `#`: Compose reads it as the value, not as a comment",
    );
    clean(&env("A=bar # c\nB=\"x\t# y\"\n"));
}

#[test]
fn crlf_bom_and_final_newline() {
    has(
        &env("A=1\nB=2\r\n"),
        "W .env:2: has Windows (CRLF) line endings",
    );
    // A lone `\r` is no line ending: the first `\r\n` is named.
    has(
        &env("A=\"1\r\"\nB=2\n\nC=3\r\n"),
        "W .env:4: has Windows (CRLF) line endings",
    );
    has(
        &env("\u{feff}A=1\n"),
        "W .env:1: starts with a UTF-8 byte order mark; Compose ignores it, other tools may not",
    );
    has(&env("A=1\nB=2"), "W .env:2: does not end with a newline");
    has(
        &env("A=1\nB"),
        "W .env:2: the last line has no `=` and no final newline: Compose reads it as a value with an empty name",
    );
}

#[test]
fn odd_keys() {
    has(
        &env("lower=1\n"),
        "W .env:1: key \"lower\" is not upper-case (Compose accepts it; .env keys are upper-case by convention)",
    );
    has(
        &env("=value\n"),
        "W .env:1: no name before `=`: Compose reads it as a variable with an empty name",
    );
    has(
        &env("lower\n").shell("lower", "x"),
        "W .env:1: the name on this line is not upper-case (Compose accepts it; .env keys are upper-case by convention)",
    );
    has(
        &env("A=1\nc2VjcmV0LXRva2VuLXZhbHVlcw==\n"),
        "W .env:2: looks like a pasted value (a token or base64 text), not KEY=value: Compose reads the text before `=` as a variable name",
    );
    has(
        &env("1ST=1\n"),
        "W .env:1: key \"1ST\" starts with a digit; compose files cannot refer to it as ${...}",
    );
    has(
        &env("A-B=1\n"),
        "W .env:1: key \"A-B\" contains characters other than A-Z, 0-9 and _; compose files cannot refer to it as ${...}",
    );
    clean(&env("_OK_1=1\n"));
}

#[test]
fn shell_shadowing() {
    has(
        &env("A=1\n").shell("A", "2"),
        "W .env:1: A is also set in your shell with a different value; Compose uses the shell's",
    );
    clean(&env("A=1\n").shell("A", "1"));
}

#[test]
fn token_shapes() {
    has(
        &env("GITHUB_TOKEN=gh_not_a_token\n"),
        "W .env:1: GITHUB_TOKEN does not look like a GitHub token: expected it to start with ghp_ or gho_ or ghu_ or ghs_ or ghr_ or github_pat_",
    );
}

#[test]
fn secret_shaped_values_under_plain_keys_warn_without_the_value() {
    let hint = "timmy masks it by its value; a name ending in _TOKEN, _KEY, _SECRET or _PASSWORD tells every tool it is secret";
    let case = env(
        "GH_CLI=ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u\nTIMMY_PORT=xoxb-2748562341-5529301837462-Rk3vPq8ZmW2nLx7TcY4bJd9H\nALERTS=https://hooks.slack.com/services/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\nHEADER=Authorization: Basic dXNlcjpwYXNzd29yZA==\nDATABASE_URL=postgres://app:UrlS3cretPw@db/app\nGITHUB_TOKEN=ghp_Z8v1XkR3mQ9tL2pW7sN4bH6cJ0dF5gY1aE3u\nREDIS_IMAGE=redis:7-alpine\n",
    );
    assert_eq!(
        case.lines(),
        [
            // The port's type is checked on its own; the shape warning comes on top.
            "E .env:2: TIMMY_PORT must be a port number 1–65535",
            "W .env:1: GH_CLI holds what looks like a GitHub token, but its name does not say it is secret",
            "W .env:2: TIMMY_PORT holds what looks like a Slack token, but its name does not say it is secret",
            "W .env:3: ALERTS holds what looks like a webhook URL, but its name does not say it is secret",
            "W .env:4: HEADER holds what looks like an Authorization credential, but its name does not say it is secret",
        ]
    );
    let found = case.run();
    assert!(
        found
            .iter()
            .filter(|f| f.level == Level::Warning)
            .all(|f| f.hint.as_deref() == Some(hint))
    );
    for f in &found {
        for piece in [
            "Z8v1XkR3",
            "Rk3vPq8Zm",
            "Xk7pQ2rT9",
            "dXNlcjpw",
            "UrlS3cret",
        ] {
            assert!(!f.to_string().contains(piece), "{f} leaks {piece}");
        }
    }
}

#[test]
fn permissions() {
    let readable = "W .env: is readable by other users (it holds secrets)";
    has(&env("A=1\n").mode(0o644), readable);
    has(&env("A=1\n").mode(0o640), readable);
    has(
        &env("A=1\n").mode(0o666),
        "E .env: is writable by every user on this machine",
    );
    clean(&env("A=1\n").mode(0o600));
    let found = env("A=1\n").mode(0o604).run();
    assert_eq!(found[0].hint.as_deref(), Some("chmod 600 .env"));
}

#[test]
fn docker_dir_env_and_compose_variables() {
    let mut case = env("COMPOSE_PROJECT_NAME=x\nCOMPOSE_FILE=a.yml\nCOMPOSE_PROFILES=p\n");
    case.docker_env = true;
    has(
        &case,
        "W docker/.env: exists beside the root .env: Compose reads it when run by hand from docker/, timmy uses the root .env",
    );
    for (line, key) in [
        (1, "COMPOSE_PROJECT_NAME"),
        (2, "COMPOSE_FILE"),
        (3, "COMPOSE_PROFILES"),
    ] {
        has(
            &case,
            &format!(
                "W .env:{line}: {key} changes what Compose does; timmy passes its own -p/-f and ignores it"
            ),
        );
    }
}

#[test]
fn sorted_errors_first_then_by_file_and_line() {
    let case = env("b=1\nA=1\nA=2\nGITHUB_TOKEN=changeme\n")
        .mode(0o644)
        .compose("x: ${UNSET}\n");
    let found = case.run();
    let keys: Vec<(Level, String, Option<usize>)> = found
        .iter()
        .map(|f| (f.level, f.file.clone(), f.line))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by_key(|(level, file, line)| (*level, file.clone(), line.unwrap_or(0)));
    assert_eq!(keys, sorted);
    assert_eq!(found[0].level, Level::Error);
    assert_eq!(found.last().map(|f| f.level), Some(Level::Warning));
}

/// Plants secret values in every situation that produces a finding and checks none of
/// them reaches a message or hint.
#[test]
fn no_finding_contains_a_value() {
    let secrets = [
        "hunter2secret",
        "word1zz",
        "S3cretTabby",
        "HashNoteQ",
        "shellSideV4lue",
        "fileSideV4lue",
        "gh_wrongShapeTok",
        "ExampleDefault9",
        "CRLFvalueZ",
        "lastLineNoNl",
        "UGFzdGVkU2VjcmV0VmFsdWU",
        "TypedPortSecret",
        "nulSecret",
    ];
    let text = "\u{feff}DB_PASSWORD=hunter2secret\nPW=pa$word1zz\nTABBY=S3cretTabby\t# x\nNOTE=   #HashNoteQ\nSHADOW=fileSideV4lue\nGITHUB_TOKEN=gh_wrongShapeTok\nAPI_SECRET=ExampleDefault9\nlower=CRLFvalueZ\r\nDB_PASSWORD=hunter2secret\nUGFzdGVkU2VjcmV0VmFsdWU=\nTIMMY_PORT=TypedPortSecret\nNUL=nulSecret\0\nlastLineNoNl";
    let mut case = env(text)
        .example("API_SECRET=ExampleDefault9\nMISSING=\n")
        .shell("SHADOW", "shellSideV4lue")
        .mode(0o666)
        .compose("x: ${NOPE}${REQ:?}\nservices:\n  a:\n    ports: [\"${TIMMY_PORT}:1\"]\n");
    case.docker_env = true;
    let found = case.run();
    assert!(
        found.len() >= 12,
        "too few findings to prove anything: {found:#?}"
    );
    for f in &found {
        let shown = format!("{f} {}", f.hint.as_deref().unwrap_or(""));
        for secret in secrets {
            assert!(!shown.contains(secret), "{secret:?} leaked in {shown:?}");
        }
    }
    // parse errors too: Compose's own message would quote the value
    for bad in [
        "A=1\nPASSWORD=\"hunter2secret\n",
        "PASSWORD=${hunter2secret\n",
        "PASSWORD=\"x\"hunter2secret$\n",
        "PASSWORD=${A:?hunter2secret}\n",
    ] {
        for f in env(bad).run() {
            let shown = format!("{f} {}", f.hint.as_deref().unwrap_or(""));
            assert!(!shown.contains("hunter2secret"), "leaked in {shown:?}");
        }
    }
}
