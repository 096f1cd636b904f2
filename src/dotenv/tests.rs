//! Table tests for the `.env` reader and interpolation. Expected values are what
//! `docker compose config` (Compose 2.26.1) reports for the same input, with the shell
//! environment `SHELLV=fromshell`, `EMPTY=` (see `shell`).

use super::*;

fn shell(name: &str) -> Option<String> {
    match name {
        "SHELLV" => Some("fromshell".to_owned()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

/// Every (input, expected) row of the table, exported for the one-off comparison with
/// Compose; `Err` holds Compose's error text.
type Row = (
    &'static str,
    Result<&'static [(&'static str, &'static str)], &'static str>,
);

const ROWS: &[Row] = &[
    // the reference's dialect table
    ("export A=1\n", Ok(&[("A", "1")])),
    ("A: 1\n", Ok(&[("A", "1")])),
    ("A = 1\n", Ok(&[("A", "1")])),
    ("A\t=\t1\n", Ok(&[("A", "1")])),
    ("FOO=hello world\n", Ok(&[("FOO", "hello world")])),
    ("FOO=hello world   \n", Ok(&[("FOO", "hello world")])),
    ("FOO=don't\n", Ok(&[("FOO", "don't")])),
    ("FOO=C:\\path\n", Ok(&[("FOO", "C:\\path")])),
    ("FOO=a\\nb\n", Ok(&[("FOO", "a\\nb")])),
    ("FOO=\"a\\tb\"\n", Ok(&[("FOO", "a\tb")])),
    ("FOO=\"x\\ny\"\n", Ok(&[("FOO", "x\ny")])),
    (
        "FOO=\"\\a\\b\\f\\r\\v\\\\\\\"\"\n",
        Ok(&[("FOO", "\u{7}\u{8}\u{c}\r\u{b}\\\"")]),
    ),
    ("FOO=\"\\$HOME\"\n", Ok(&[("FOO", "$HOME")])),
    ("FOO=\"\\q\\x41\\c\"\n", Ok(&[("FOO", "\\q\\x41\\c")])),
    (
        "FOO=\"\\0101\\0\\01\\0999\"\n",
        Ok(&[("FOO", "A\\\\1\\999")]),
    ),
    ("FOO='Let\\'s go!'\n", Ok(&[("FOO", "Let's go!")])),
    ("FOO='a\\nb $SHELLV'\n", Ok(&[("FOO", "a\\nb $SHELLV")])),
    ("A=1 # c\nB=2#x\n", Ok(&[("A", "1"), ("B", "2#x")])),
    ("FOO=bar\t# c\n", Ok(&[("FOO", "bar\t# c")])),
    ("FOO=   # note\n", Ok(&[("FOO", "# note")])),
    ("FOO=\"bar\"#c\n", Ok(&[("FOO", "bar")])),
    ("FOO=\"bar\" # c\n", Ok(&[("FOO", "bar")])),
    ("A=\"a\" junk\n", Ok(&[("A", "a")])),
    (
        "A=\"a\" SHELLV\n",
        Ok(&[("A", "a"), ("SHELLV", "fromshell")]),
    ),
    (
        "A=\"a\"'b'\n",
        Err("line 1: unexpected character \"'\" in variable name \"'b'\""),
    ),
    ("FOO\n", Ok(&[])),
    ("SHELLV\n", Ok(&[("SHELLV", "fromshell")])),
    ("EMPTY\n", Ok(&[("EMPTY", "")])),
    ("FOO", Ok(&[("", "FOO")])),
    ("A=1\nexport FOO", Ok(&[("A", "1"), ("", "FOO")])),
    (
        "FOO-BAR=1\nfoo.bar=2\na[1]=3\nÜBER=4\n1FOO=5\n",
        Ok(&[
            ("FOO-BAR", "1"),
            ("foo.bar", "2"),
            ("a[1]", "3"),
            ("ÜBER", "4"),
            ("1FOO", "5"),
        ]),
    ),
    ("MY KEY=1\n", Err("line 1: key cannot contain a space")),
    (
        "A=1\n\nMY KEY=1\n",
        Err("line 3: key cannot contain a space"),
    ),
    ("MY\tKEY=1\n", Ok(&[("MY\tKEY", "1")])),
    (
        "lol$wut=1\n",
        Err("line 1: unexpected character \"$\" in variable name \"lol$wut=1\""),
    ),
    (
        "A=1\n# c\nB-2\nC@D=1\n",
        Err("line 4: unexpected character \"@\" in variable name \"C@D=1\""),
    ),
    (
        "A=1\nB=\"abc\nC=2\nD=3\n",
        Err("line 5: unterminated quoted value \"abc"),
    ),
    ("A='abc", Err("line 1: unterminated quoted value 'abc")),
    ("A=1\nA=2\n", Ok(&[("A", "2")])),
    ("A=1\nB=2\nA=3\n", Ok(&[("A", "3"), ("B", "2")])),
    ("A=1\r\nB=x y\r\n", Ok(&[("A", "1"), ("B", "x y")])),
    ("\u{feff}A=1\n", Ok(&[("A", "1")])),
    ("A=\"x\"\r\nB='y'\r\n", Ok(&[("A", "x"), ("B", "y")])),
    // quotes
    (
        "A=\"multi\nline\"\nB=2\n",
        Ok(&[("A", "multi\nline"), ("B", "2")]),
    ),
    ("A='multi\nline'\n", Ok(&[("A", "multi\nline")])),
    ("A=\"say \\\"hi\\\"\"\n", Ok(&[("A", "say \"hi\"")])),
    ("A=\"a\\\\\"\n", Ok(&[("A", "a\\")])),
    ("A=\"\"\nB=''\nC=\n", Ok(&[("A", ""), ("B", ""), ("C", "")])),
    ("A=   \"x\"\n", Ok(&[("A", "x")])),
    ("A=x\"y\"\n", Ok(&[("A", "x\"y\"")])),
    ("A=\"a\" B=\"b\"\n", Ok(&[("A", "a"), ("B", "b")])),
    // interpolation
    (
        "A=1\nB=$A\nC=${A}x\n",
        Ok(&[("A", "1"), ("B", "1"), ("C", "1x")]),
    ),
    ("B=$SHELLV\n", Ok(&[("B", "fromshell")])),
    (
        "SHELLV=file\nB=$SHELLV\n",
        Ok(&[("SHELLV", "file"), ("B", "fromshell")]),
    ),
    (
        "A=1\nB=${A}\nA=2\nC=$A\n",
        Ok(&[("A", "2"), ("B", "1"), ("C", "2")]),
    ),
    ("B=$A\nA=1\n", Ok(&[("B", ""), ("A", "1")])),
    ("A_B=2\nC=$A_B\n", Ok(&[("A_B", "2"), ("C", "2")])),
    ("A=pa$word1\n", Ok(&[("A", "pa")])),
    ("A=\"pa$word1\"\n", Ok(&[("A", "pa")])),
    ("A='pa$word1'\n", Ok(&[("A", "pa$word1")])),
    ("A=pa$$word1\n", Ok(&[("A", "pa$word1")])),
    ("A=$$A\n", Ok(&[("A", "$A")])),
    (
        "A=cost$\nB=$1\nC=$-x\n",
        Ok(&[("A", "cost$"), ("B", "$1"), ("C", "$-x")]),
    ),
    ("A=${X:-d}\n", Ok(&[("A", "d")])),
    ("A=${EMPTY:-d}|${EMPTY-d}\n", Ok(&[("A", "d|")])),
    ("A=${X-d}|${SHELLV-d}\n", Ok(&[("A", "d|fromshell")])),
    (
        "A=${SHELLV:+alt}|${X:+alt}|${EMPTY:+alt}\n",
        Ok(&[("A", "alt||")]),
    ),
    (
        "A=${SHELLV+alt}|${X+alt}|${EMPTY+alt}\n",
        Ok(&[("A", "alt||alt")]),
    ),
    ("A=${X:-${Y:-deep}}\n", Ok(&[("A", "deep")])),
    ("A=${X:-${SHELLV}}\n", Ok(&[("A", "fromshell")])),
    ("A=${X:-$SHELLV-tail}\n", Ok(&[("A", "fromshell-tail")])),
    ("A=${X:-a} and ${SHELLV}\n", Ok(&[("A", "a and fromshell")])),
    ("A=${X:-{}x}\n", Ok(&[("A", "{}x")])),
    ("A=${X:-d}}\n", Ok(&[("A", "d}")])),
    ("A=${X:-a b c}\n", Ok(&[("A", "a b c")])),
    ("A=${SHELLV:?}\n", Ok(&[("A", "fromshell")])),
    ("A=${EMPTY?}\n", Ok(&[("A", "")])),
    ("A=${X:?}\n", Err("required variable X is missing a value")),
    (
        "A=${X?need it}\n",
        Err("required variable X is missing a value: need it"),
    ),
    (
        "A=${EMPTY:?no}\n",
        Err("required variable EMPTY is missing a value: no"),
    ),
    (
        "A=${SHELLV:-${X:?eager}}\n",
        Err("required variable X is missing a value: eager"),
    ),
    ("A=${B\n", Err("Invalid template: \"${B\"")),
    ("A=x ${B C}\n", Err("Invalid template: \"x ${B C}\"")),
    ("A=${}\n", Err("Invalid template: \"${}\"")),
    ("A=${1}\n", Err("Invalid template: \"${1}\"")),
    ("A=${B:x}\n", Err("Invalid template: \"${B:x}\"")),
    ("A=\"${B\nC}\"\n", Err("Invalid template: \"${B\\nC}\"")),
    ("A=${X:-a} ${B\n", Err("Invalid template: \"${X:-a} ${B\"")),
    ("A=${X:-a} ${B }\n", Err("Invalid template: \" ${B }\"")),
    ("A='${B'\n", Ok(&[("A", "${B")])),
    ("A=${B # c\n", Err("Invalid template: \"${B\"")),
    // comments, blank lines, export
    (
        "# c\n\n  # indented\n\tA=1\n   \nexport   B=2\n",
        Ok(&[("A", "1"), ("B", "2")]),
    ),
    ("export=1\n", Ok(&[("export", "1")])),
    ("exportA=1\n", Ok(&[("exportA", "1")])),
    ("export\nA=1\n", Ok(&[("A", "1")])),
    ("A=1\nexport ", Err("zero length string")),
    ("A==1\n", Ok(&[("A", "=1")])),
    ("A:=1\n", Ok(&[("A", "=1")])),
    ("A=a=b:c\n", Ok(&[("A", "a=b:c")])),
    ("A=#x\n", Ok(&[("A", "#x")])),
    ("A=x #\n", Ok(&[("A", "x")])),
    ("A= x\n", Ok(&[("A", "x")])),
    ("=1\n", Ok(&[("", "1")])),
    ("A=1\n\n\n", Ok(&[("A", "1")])),
    ("", Ok(&[])),
    ("   \n\t\n", Ok(&[])),
    ("A=\u{3000}x\n", Ok(&[("A", "\u{3000}x")])),
];

#[track_caller]
fn case(input: &str, expected: Result<&[(&str, &str)], &str>) {
    let got = parse(input, &shell);
    match (got, expected) {
        (Ok(entries), Ok(want)) => {
            let got = resolve(&entries);
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            assert_eq!(got, want, "input {input:?}");
        }
        (Err(e), Err(want)) => assert_eq!(e.compose_text(), want, "input {input:?}"),
        (got, want) => panic!("input {input:?}: got {got:?}, want {want:?}"),
    }
}

#[test]
fn compose_dialect_table() {
    assert!(ROWS.len() >= 60, "only {} rows", ROWS.len());
    for (input, expected) in ROWS {
        case(input, *expected);
    }
}

/// `TIMMY_DUMP_ROWS=path cargo test dump_rows` writes the table as JSON, to replay it against
/// the real `docker compose` (how the expected values above were confirmed).
#[test]
fn dump_rows() {
    let Some(path) = std::env::var_os("TIMMY_DUMP_ROWS") else {
        return;
    };
    let rows: Vec<serde_json::Value> = ROWS
        .iter()
        .map(|(input, expected)| {
            let expected = match expected {
                Ok(pairs) => serde_json::json!({ "ok": pairs }),
                Err(e) => serde_json::json!({ "error": e }),
            };
            serde_json::json!({ "input": input, "expected": expected })
        })
        .collect();
    let text = serde_json::to_string_pretty(&rows).expect("rows serialize");
    std::fs::write(path, text).expect("write dump");
}

#[test]
fn entries_keep_duplicates_lines_quotes_and_raw() {
    let src = "A=1\n\nB=\"x\ny\"\nA='two' # c\nC=pa$word1\nD=x\t# y\n";
    let entries = parse(src, &shell).expect("parses");
    let summary: Vec<(&str, usize, Quote, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e.key.as_str(),
                e.line,
                e.quote,
                e.raw.as_str(),
                e.value.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("A", 1, Quote::None, "1", "1"),
            ("B", 3, Quote::Double, "x\ny", "x\ny"),
            ("A", 5, Quote::Single, "two", "two"),
            ("C", 6, Quote::None, "pa$word1", "pa"),
            ("D", 7, Quote::None, "x\t# y", "x\t# y"),
        ]
    );
    assert_eq!(entries[3].missing, ["word1"]);
    assert!(entries[0].missing.is_empty());
    assert_eq!(
        resolve(&entries),
        [
            ("A".to_owned(), "two".to_owned()),
            ("B".to_owned(), "x\ny".to_owned()),
            ("C".to_owned(), "pa".to_owned()),
            ("D".to_owned(), "x\t# y".to_owned()),
        ]
    );
}

#[test]
fn inherited_entries_are_marked() {
    let entries = parse("SHELLV\nNOPE\n", &shell).expect("parses");
    assert_eq!(entries.len(), 1);
    assert!(entries[0].inherited);
    assert_eq!(entries[0].line, 1);
}

#[test]
fn separator_tells_a_missing_name_from_a_last_line_without_equals() {
    let entries = parse("=v\nA:1\nSHELLV\nB", &shell).expect("parses");
    let seen: Vec<(&str, Option<char>)> = entries
        .iter()
        .map(|e| (e.key.as_str(), e.separator))
        .collect();
    assert_eq!(
        seen,
        [
            ("", Some('=')),
            ("A", Some(':')),
            ("SHELLV", None),
            ("", None)
        ]
    );
}

#[test]
fn unterminated_quote_knows_where_it_opened() {
    let e = parse("A=1\nB='open\n\nC=2\n", &shell).expect_err("unterminated");
    assert_eq!(e.kind, ParseErrorKind::UnterminatedQuote { opened: 2 });
    assert_eq!(e.line, 5);
    assert_eq!(
        e.safe_message(),
        "the quote opened on line 2 is never closed (Compose reports the line where the file ends)"
    );
}

#[test]
fn errors_carry_kind_and_display_with_line() {
    let e = parse("A=1\nB=\"open\n", &shell).expect_err("unterminated");
    assert_eq!(e.kind, ParseErrorKind::UnterminatedQuote { opened: 2 });
    assert_eq!(e.to_string(), "line 3: unterminated quoted value \"open");
    let e = parse("A=${X:?}\n", &shell).expect_err("required");
    assert_eq!(e.kind, ParseErrorKind::RequiredVariable);
    assert_eq!(e.key.as_deref(), Some("A"));
    assert_eq!(
        e.to_string(),
        "line 1: required variable X is missing a value"
    );
    let e = parse("A=1\nB=${\n", &shell).expect_err("template");
    assert_eq!(e.kind, ParseErrorKind::InvalidTemplate);
    assert_eq!(e.line, 2);
    let e = parse("K Y=1\n", &shell).expect_err("space");
    assert_eq!(e.kind, ParseErrorKind::KeyContainsSpace);
    let e = parse("K%=1\n", &shell).expect_err("char");
    assert_eq!(e.kind, ParseErrorKind::UnexpectedCharacter('%'));
}

#[test]
fn template_errors_carry_their_kind_from_where_they_are_made() {
    let kind = |t: &str| substitute(t, &shell).expect_err(t).kind;
    assert_eq!(kind("${X:?}"), TemplateErrorKind::RequiredVariable);
    assert_eq!(
        kind("${X?required variable}"),
        TemplateErrorKind::RequiredVariable
    );
    assert_eq!(kind("${"), TemplateErrorKind::Invalid);
    assert_eq!(kind(&"${A:-".repeat(200)), TemplateErrorKind::Invalid);
}

#[test]
fn substitute_reports_missing_once_in_order() {
    let (value, missing) = substitute("$B-$A-${B}-${C:-x}-$$D", &shell).expect("ok");
    assert_eq!(value, "---x-$D");
    assert_eq!(missing, ["B", "A"]);
    // defaults are interpolated eagerly, like Compose (which warns about Y here)
    let (value, missing) = substitute("${SHELLV:-$Y}", &shell).expect("ok");
    assert_eq!(value, "fromshell");
    assert_eq!(missing, ["Y"]);
}

fn refs(yaml: &str) -> Vec<(String, usize, RefKind, bool)> {
    variables(yaml)
        .expect("valid")
        .into_iter()
        .map(|r| (r.name, r.line, r.kind, r.colon))
        .collect()
}

#[test]
fn variables_finds_every_form_with_lines() {
    let yaml = "services:\n  app:\n    image: \"img:${TAG:-latest}\"\n    environment:\n      A: $PLAIN\n      B: ${BRACED}\n      C: ${REQ:?set REQ}\n      D: ${ALT:+x}${HARD-d}${SOFTREQ?m}\n      E: $$NOT_A_VAR and $${ALSO_NOT}\n      F: ${OUTER:-${INNER:-${DEEPEST}}}\n";
    assert_eq!(
        refs(yaml),
        [
            ("TAG".to_owned(), 3, RefKind::Default, true),
            ("PLAIN".to_owned(), 5, RefKind::Plain, false),
            ("BRACED".to_owned(), 6, RefKind::Plain, false),
            ("REQ".to_owned(), 7, RefKind::Required, true),
            ("ALT".to_owned(), 8, RefKind::Alternative, true),
            ("HARD".to_owned(), 8, RefKind::Default, false),
            ("SOFTREQ".to_owned(), 8, RefKind::Required, false),
            ("OUTER".to_owned(), 10, RefKind::Default, true),
            ("INNER".to_owned(), 10, RefKind::Default, true),
            ("DEEPEST".to_owned(), 10, RefKind::Plain, false),
        ]
    );
}

#[test]
fn variables_skips_comments_but_not_hashes_in_values() {
    let yaml = "# ${IN_COMMENT}\nx: a # ${TRAILING}\ny: \"a # ${QUOTED}\"\nz: a#${GLUED}\nw: 'it''s # ${SINGLE}'\n";
    let names: Vec<String> = refs(yaml).into_iter().map(|r| r.0).collect();
    assert_eq!(names, ["QUOTED", "GLUED", "SINGLE"]);
}

#[test]
fn variables_reads_block_scalars_as_text() {
    let yaml = "x:\n  command: |\n    echo # ${IN_BLOCK}\n    done\n  other: v # ${COMMENTED}\n";
    let names: Vec<String> = refs(yaml).into_iter().map(|r| r.0).collect();
    assert_eq!(names, ["IN_BLOCK"]);
}

#[test]
fn variables_reports_invalid_template_with_line() {
    let err = variables("a: 1\nb: ${OPEN\n").expect_err("invalid");
    assert_eq!(err.0, 2);
    assert_eq!(err.1.message, "Invalid template: \"b: ${OPEN\"");
}

#[test]
fn go_quote_escapes_like_go() {
    use super::go_quote::go_quote;
    assert_eq!(
        go_quote("a\"b\\c\td\u{1}é\u{a0}"),
        "\"a\\\"b\\\\c\\td\\x01é\\u00a0\""
    );
}

#[path = "../../tests/common/rng.rs"]
mod rng;
use rng::Rng;

/// Arbitrary text: random bytes (made UTF-8 lossily) mixed with the pieces the readers treat
/// specially.
fn arbitrary(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "=", ":", "\n", "\r\n", "\r", " ", "\t", "#", " #", "\"", "'", "\\", "$", "${", "}", "{",
        ":-", "-", ":+", "+", ":?", "?", "$$", "export ", "A", "b", "_", "é", "\u{feff}", "\u{85}",
        "\u{a0}", "\u{3000}", "\u{212a}", "ſ", "0", "\\0377", "|", "- ", "key: |\n", "\u{0}",
    ];
    let mut text = String::new();
    for _ in 0..rng.below(40) {
        if rng.below(5) == 0 {
            let bytes: Vec<u8> = (0..rng.below(8))
                .map(|_| u8::try_from(rng.next() & 0xff).unwrap_or(0))
                .collect();
            text.push_str(&String::from_utf8_lossy(&bytes));
        } else {
            text.push_str(PIECES[rng.below(PIECES.len())]);
        }
    }
    text
}

fn exercise(text: &str) {
    let lookup = |name: &str| name.len().is_multiple_of(2).then(|| name.to_lowercase());
    if let Ok(entries) = parse(text, &lookup) {
        let _ = resolve(&entries);
    }
    let _ = substitute(text, &lookup);
    let _ = variables(text);
    let compose = [("c.yml".to_owned(), text.to_owned())];
    let _ = crate::check::check(&crate::check::Input {
        env_file: ".env",
        env_text: Some(text),
        env_mode: Some(0o644),
        example_text: Some(text),
        compose_files: &compose,
        other_compose_files: &compose,
        shell: &lookup,
        docker_dir_env_exists: true,
        stack_env: Some("dev"),
    });
}

/// No panic and no hang on arbitrary input, for parse, substitute, variables and check:
/// a bounded number of generated inputs, within a time limit.
#[test]
fn never_panics_or_hangs_on_arbitrary_input() {
    let seed = std::env::var("TIMMY_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_f00d_u64);
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let mut rng = Rng(seed | 1);
        let mut count = 0_u32;
        while count < 20_000 && started.elapsed() < std::time::Duration::from_secs(2) {
            exercise(&arbitrary(&mut rng));
            count += 1;
        }
        let _ = done.send(count);
    });
    let count = finished
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("a generated input hung or panicked (seed in TIMMY_FUZZ_SEED)");
    assert!(count >= 1_000, "only {count} inputs in the time limit");
}

/// Inputs kept as regression tests: huge, deeply nested and long-lined texts stay fast and
/// never overflow the stack.
#[test]
fn large_and_deep_inputs_stay_bounded() {
    use std::fmt::Write as _;
    let started = std::time::Instant::now();
    let mut many_lines = String::new();
    for i in 0..100_000 {
        let _ = writeln!(many_lines, "KEY_{i}=value{i}");
    }
    assert_eq!(parse(&many_lines, &shell).map(|e| e.len()), Ok(100_000));

    let long_line = format!("A={}\n", "${X:-x}".repeat(20_000));
    let entries = parse(&long_line, &shell).expect("long line parses");
    assert_eq!(entries[0].value, "x".repeat(20_000));

    let deep = format!("A={}x{}\n", "${X:-".repeat(10_000), "}".repeat(10_000));
    let err = parse(&deep, &shell).expect_err("too deep");
    assert!(err.message.contains("nested more than"), "{err}");
    let _ = variables(&deep);
    let _ = substitute(&"${".repeat(50_000), &shell);
    let _ = variables(&"$$${A:-}".repeat(30_000));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}
