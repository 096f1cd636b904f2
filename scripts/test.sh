#!/usr/bin/env bash
# The project's test command (README): format, lints, every test including end to end.
#   scripts/test.sh [extra cargo test args...]
# End-to-end tests need a Docker engine with Compose v2 and the offline images; as root,
# this script runs scripts/setup.sh first (cheap when already set up; TIMMY_SKIP_SETUP=1
# skips it). With TIMMY_E2E=1
# (CI) a missing engine fails the end-to-end tests instead of skipping them.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

step() { printf '\n==> %s\n' "$*" >&2; }

if [ "${TIMMY_SKIP_SETUP:-0}" = 1 ]; then
    : # the caller (.ci/run) has just run scripts/setup.sh
elif [ "$(id -u)" -eq 0 ]; then
    # Idempotent: about a second when the engine is up and the images are current.
    step "scripts/setup.sh (engine and offline images)"
    scripts/setup.sh
elif docker info >/dev/null 2>&1; then
    step "scripts/build-offline-images.sh"
    scripts/build-offline-images.sh
else
    echo "warning: no Docker daemon answers and not root to start one: end-to-end tests" \
        "will report it (and fail with TIMMY_E2E=1)" >&2
fi

step "node --test app/test/health.test.js (reference service, no stack needed)"
if command -v node >/dev/null; then
    node --test app/test/health.test.js
else
    echo "node not found: skipped (the stack's own tests run it inside the container)" >&2
fi

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --all-targets --locked -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

# End-to-end tests share one engine; TIMMY_TEST_THREADS limits how many run at once.
step "cargo test --locked"
if [ -n "${TIMMY_TEST_THREADS:-}" ]; then
    cargo test --locked "$@" -- --test-threads="$TIMMY_TEST_THREADS"
else
    cargo test --locked "$@"
fi
