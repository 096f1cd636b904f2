#!/usr/bin/env bash
# The project's test command (README): format, lints, every test including end to end.
#   scripts/test.sh [cargo test args...] [-- test binary args...]
# End-to-end tests need a Docker engine with Compose v2 and the offline images; as root,
# this script runs scripts/setup.sh first (cheap when already set up; TIMMY_SKIP_SETUP=1
# skips it; TIMMY_ENGINE=stable|current picks the engine). They carry #[ignore]: only with
# TIMMY_E2E=1 (CI) does this script run them (`-- --include-ignored`), and then a missing
# engine fails them; otherwise the closing line counts them as skipped.
# TIMMY_SKIP_LINT=1 skips fmt and clippy (a second engine's run: they do not depend on it).
# TIMMY_TEST_COUNTS=FILE also writes the closing line's three numbers to FILE.
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
        "fail with TIMMY_E2E=1 (without it they are skipped)" >&2
fi

step "node --test app/test/health.test.js app/test/integrations.test.js app/test/swarm.test.js app/test/drain.test.js (reference service, no stack needed)"
if command -v node >/dev/null; then
    node --test app/test/health.test.js app/test/integrations.test.js app/test/swarm.test.js \
        app/test/drain.test.js
else
    echo "node not found: skipped (the stack's own tests run it inside the container)" >&2
fi

if [ "${TIMMY_SKIP_LINT:-0}" != 1 ]; then
    step "cargo fmt --check"
    cargo fmt --all --check

    step "cargo clippy --all-targets --locked -- -D warnings"
    cargo clippy --all-targets --locked -- -D warnings
fi

# Which engine and Compose the end-to-end tests run on.
if docker info >/dev/null 2>&1; then
    step "engine: $(docker version --format 'Engine {{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null), Compose $(docker compose version --short 2>/dev/null)"
fi

# The arguments before a `--` are cargo's, those after it the test binaries'.
cargo_args=()
test_args=()
while [ $# -gt 0 ]; do
    if [ "$1" = -- ]; then
        shift
        test_args=("$@")
        break
    fi
    cargo_args+=("$1")
    shift
done
# End-to-end tests (ignored by default) run only with TIMMY_E2E=1. The Swarm tests
# (tests/swarm.rs) put the engine into swarm mode for their run and leave it afterwards;
# TIMMY_E2E_SWARM=0 refuses that (they then fail with the reason, never pass).
if [ "${TIMMY_E2E:-}" = 1 ]; then
    test_args+=(--include-ignored)
    export TIMMY_E2E_SWARM=${TIMMY_E2E_SWARM:-1}
fi
# End-to-end tests share one engine; TIMMY_TEST_THREADS limits how many run at once.
# --no-fail-fast: a failing test binary must not hide the results of the ones after it.
if [ -n "${TIMMY_TEST_THREADS:-}" ]; then
    test_args+=(--test-threads="$TIMMY_TEST_THREADS")
fi
if [ ${#test_args[@]} -gt 0 ]; then
    test_args=(-- "${test_args[@]}")
fi
step "cargo test --locked --no-fail-fast ${cargo_args[*]} ${test_args[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
cargo test --locked --no-fail-fast "${cargo_args[@]}" "${test_args[@]}" 2>&1 | tee "$log" || rc=$?

# One closing line for the whole run, summed over every test binary.
counts=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i; if ($(i+1) ~ /^ignored;?$/) s += $i } }
     END { printf "%d %d %d\n", p, f, s }' "$log")
# A run that stopped before its results (a build error) failed, whatever it counted.
read -r passed failed skipped <<<"$counts"
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ -n "${TIMMY_TEST_COUNTS:-}" ]; then
    echo "$passed $failed $skipped" >"$TIMMY_TEST_COUNTS"
fi
printf '\ntests: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
exit "$rc"
