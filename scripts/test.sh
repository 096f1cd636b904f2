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
log=$(mktemp)
trap 'rm -f "$log"' EXIT
threads=()
if [ -n "${TIMMY_TEST_THREADS:-}" ]; then
    threads=(-- --test-threads="$TIMMY_TEST_THREADS")
fi
rc=0
cargo test --locked "$@" "${threads[@]}" 2>&1 | tee "$log" || rc=$?

# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i; if ($(i+1) ~ /^ignored;?$/) s += $i } }
     END { printf "\ntests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$rc"
