//! Why timmy reads `.env` with its own parser: inputs where dotenvy 0.15.7 reads something
//! other than what Docker Compose v2 reads. For each, the Compose column is what
//! `docker compose config` printed (Compose 2.26.1; see `tests/dotenv_corpus/`), timmy must
//! equal it, and dotenvy's reading is asserted as it is today.

use timmy::dotenv;

fn no_shell(_: &str) -> Option<String> {
    None
}

fn timmy_reads(text: &str) -> Result<Vec<(String, String)>, String> {
    dotenv::parse(text, &no_shell)
        .map(|entries| dotenv::resolve(&entries))
        .map_err(|e| e.compose_text())
}

fn dotenvy_reads(text: &str) -> Result<Vec<(String, String)>, String> {
    dotenvy::from_read_iter(text.as_bytes())
        .map(|item| item.map_err(|e| e.to_string()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

enum Dotenvy {
    /// dotenvy refuses a file Compose accepts.
    Rejects,
    /// dotenvy accepts it with other values.
    Reads(&'static [(&'static str, &'static str)]),
}

#[track_caller]
fn disagree(text: &str, compose: &[(&str, &str)], dotenvy: &Dotenvy) {
    let compose = pairs(compose);
    assert_eq!(
        timmy_reads(text),
        Ok(compose.clone()),
        "timmy vs Compose on {text:?}"
    );
    let got = dotenvy_reads(text);
    match dotenvy {
        Dotenvy::Rejects => assert!(got.is_err(), "dotenvy now accepts {text:?}: {got:?}"),
        Dotenvy::Reads(values) => assert_eq!(got, Ok(pairs(values)), "dotenvy on {text:?}"),
    }
    assert_ne!(got, Ok(compose), "dotenvy agrees with Compose on {text:?}");
}

#[test]
fn dotenvy_rejects_files_compose_accepts() {
    use Dotenvy::Rejects;
    disagree("FOO=hello world\n", &[("FOO", "hello world")], &Rejects);
    disagree("FOO=don't\n", &[("FOO", "don't")], &Rejects);
    disagree("FOO=C:\\path\n", &[("FOO", "C:\\path")], &Rejects);
    disagree("FOO: bar\n", &[("FOO", "bar")], &Rejects);
    disagree("FOO-BAR=1\n", &[("FOO-BAR", "1")], &Rejects);
    disagree("1FOO=1\n", &[("1FOO", "1")], &Rejects);
    disagree("ÜBER=1\n", &[("ÜBER", "1")], &Rejects);
    disagree("FOO=\"a\\tb\"\n", &[("FOO", "a\tb")], &Rejects);
    disagree("FOO='Let\\'s go'\n", &[("FOO", "Let's go")], &Rejects);
    disagree("A=\"a\" junk\n", &[("A", "a")], &Rejects);
    disagree("\u{feff}A=1\n", &[("A", "1")], &Rejects);
    // A bare key is copied from the shell by Compose (dropped here: unset).
    disagree("A=1\nFOO\n", &[("A", "1")], &Rejects);
}

#[test]
fn dotenvy_reads_other_values() {
    use Dotenvy::Reads;
    disagree(
        "FOO=a\\nb\n",
        &[("FOO", "a\\nb")],
        &Reads(&[("FOO", "a\nb")]),
    );
    disagree(
        "FOO=\"bar\"#c\n",
        &[("FOO", "bar")],
        &Reads(&[("FOO", "bar#c")]),
    );
    disagree(
        "FOO=bar\t# c\n",
        &[("FOO", "bar\t# c")],
        &Reads(&[("FOO", "bar")]),
    );
    disagree(
        "FOO=   # note\n",
        &[("FOO", "# note")],
        &Reads(&[("FOO", "")]),
    );
    disagree("FOO=${X:-d}\n", &[("FOO", "d")], &Reads(&[("FOO", "")]));
    disagree(
        "A=1\nFOO=${X:-${A}}\n",
        &[("A", "1"), ("FOO", "1")],
        &Reads(&[("A", "1"), ("FOO", "}")]),
    );
    disagree("FOO=$$A\n", &[("FOO", "$A")], &Reads(&[("FOO", "")]));
    disagree(
        "A_B=2\nA=1\nC=$A_B\n",
        &[("A_B", "2"), ("A", "1"), ("C", "2")],
        &Reads(&[("A_B", "2"), ("A", "1"), ("C", "1_B")]),
    );
}

#[test]
fn dotenvy_errors_give_a_line_index_not_a_line_number() {
    let text = "A=1\nB=2\nMY KEY=3\n";
    assert_eq!(
        timmy_reads(text),
        Err("line 3: key cannot contain a space".to_owned())
    );
    let err = dotenvy_reads(text).expect_err("dotenvy rejects it too");
    assert!(!err.contains("line 3"), "{err}");
    assert!(err.contains("line index"), "{err}");
}

#[test]
fn dotenvy_loading_keeps_the_first_duplicate() {
    // Compose: the last definition wins.
    let text = "TIMMY_DOTENVY_DUPLICATE_PROBE=first\nTIMMY_DOTENVY_DUPLICATE_PROBE=last\n";
    assert_eq!(
        timmy_reads(text),
        Ok(pairs(&[("TIMMY_DOTENVY_DUPLICATE_PROBE", "last")]))
    );
    // dotenvy's loader never overrides a variable that is already set — including one it set
    // from an earlier line of the same file.
    dotenvy::from_read(text.as_bytes()).expect("dotenvy loads it");
    assert_eq!(
        std::env::var("TIMMY_DOTENVY_DUPLICATE_PROBE").as_deref(),
        Ok("first")
    );
}
