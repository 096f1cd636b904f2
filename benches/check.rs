//! In-process cost of validating `.env`: `dotenv::parse`, `dotenv::resolve` and the whole
//! `check::check` on a generated 10,000-line `.env` (the same text `scripts/bench.sh` writes)
//! and on a realistic 16-line one, against the real `.env.example` and dev file stack. The
//! process-level numbers (startup, file reads, printing) are in `docs/PERFORMANCE.md`; these
//! split the in-process part. Run: `cargo bench --bench check`.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use timmy::check::{self, Input};
use timmy::dotenv;

/// A well-formed `.env` like the end-to-end tests' (fake tokens, offline images).
const REAL_ENV: &str = concat!(
    include_str!("../tests/fixtures/stack.env"),
    "NODE_IMAGE=timmy-offline/node:20\nREDIS_IMAGE=timmy-offline/redis:7\nTIMMY_PORT=0\nTIMMY_DEBUG_PORT=0\n"
);

const EXAMPLE: &str = include_str!("../.env.example");
const BASE: &str = include_str!("../docker/docker-compose.yml");
const DEV: &str = include_str!("../docker/docker-compose.dev.yml");

/// `REAL_ENV` filled up to `lines` lines with the mix `scripts/bench.sh` generates: per ten
/// lines one comment, one blank, one double-quoted value with `${}` and an escape, one
/// single-quoted value and six plain values with a trailing comment.
fn big_env(lines: usize) -> String {
    let mut text = REAL_ENV.to_owned();
    let mut count = REAL_ENV.lines().count();
    let mut i = 0;
    while count < lines {
        i += 1;
        let _ = match i % 10 {
            0 => writeln!(text, "# section {i}: a comment line"),
            5 => writeln!(text),
            3 => writeln!(
                text,
                "SETTING_{i:05}=\"double quoted ${{SETTING_{:05}}} and \\n escape\"",
                i - 1
            ),
            7 => writeln!(text, "SETTING_{i:05}='single quoted $literal value'"),
            _ => writeln!(
                text,
                "SETTING_{i:05}=plain-value-{i}-abcdefghijklmnop # trailing comment"
            ),
        };
        count += 1;
    }
    text
}

fn no_shell(_: &str) -> Option<String> {
    None
}

fn run_check(env_text: &str, compose: &[(String, String)]) -> Vec<check::Finding> {
    check::check(&Input {
        env_file: ".env",
        env_text: Some(env_text),
        env_mode: Some(0o600),
        example_text: Some(EXAMPLE),
        compose_files: compose,
        other_compose_files: &[],
        shell: &no_shell,
        docker_dir_env_exists: false,
        stack_env: Some("dev"),
    })
}

fn benches(c: &mut Criterion) {
    let big = big_env(10_000);
    let compose = vec![
        ("docker/docker-compose.yml".to_owned(), BASE.to_owned()),
        ("docker/docker-compose.dev.yml".to_owned(), DEV.to_owned()),
    ];
    assert!(
        run_check(&big, &compose).is_empty(),
        "the generated .env must be valid, or the bench measures error reporting"
    );
    let entries = dotenv::parse(&big, &no_shell).expect("generated .env parses");

    let mut group = c.benchmark_group("env_10k_lines");
    group.throughput(Throughput::Bytes(big.len() as u64));
    group.bench_function("dotenv_parse", |b| {
        b.iter(|| dotenv::parse(black_box(&big), &no_shell));
    });
    group.bench_function("dotenv_resolve", |b| {
        b.iter(|| dotenv::resolve(black_box(&entries)));
    });
    group.bench_function("secrets_is_placeholder_each_value", |b| {
        b.iter(|| {
            entries
                .iter()
                .filter(|e| timmy::secrets::is_placeholder(black_box(&e.value)))
                .count()
        });
    });
    group.bench_function("check", |b| {
        b.iter(|| run_check(black_box(&big), &compose));
    });
    group.finish();

    let mut group = c.benchmark_group("env_real");
    group.bench_function("check", |b| {
        b.iter(|| run_check(black_box(REAL_ENV), &compose));
    });
    group.finish();
}

criterion_group!(check_benches, benches);
criterion_main!(check_benches);
