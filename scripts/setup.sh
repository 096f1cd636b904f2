#!/usr/bin/env bash
# Prepare this machine to run the timmy stack with no container registry:
#   scripts/setup.sh [stable|current]   (the engine, as for scripts/setup-engine.sh)
#   1. scripts/setup-engine.sh          (root) the engine, its Compose v2 plugin, dockerd running
#   2. scripts/build-offline-images.sh  local NODE_IMAGE / REDIS_IMAGE stand-ins, built on that
#                                       engine (each engine keeps its own images)
# Both steps are idempotent: a second run takes about a second.
# Not root: the engine step is skipped when a daemon and Compose v2 already answer.
# Run it as root (`scripts/setup.sh`) or, as a normal user, with sudo (`sudo scripts/setup.sh`).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
start=$(date +%s)

if [ "$(id -u)" -eq 0 ]; then
    "$here/setup-engine.sh" "$@"
    # A private engine (TIMMY_DOCKER_SOCKET) is reached through DOCKER_HOST/DOCKER_CONFIG.
    eval "$("$here/setup-engine.sh" --env "$@")"
elif docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    echo "setup: not root; using the running Docker daemon" >&2
else
    echo "setup: error: no Docker daemon or no Compose v2, and not root to set them up" >&2
    echo "setup: hint: sudo $0" >&2
    exit 1
fi

"$here/build-offline-images.sh"

# Debian's docker-registry: the Swarm tests start one on a loopback port for `timmy deploy
# --registry` (nothing runs it otherwise; the package's own service is not started here).
if [ "$(id -u)" -eq 0 ] && ! command -v docker-registry >/dev/null 2>&1; then
    echo "setup: installing docker-registry (Debian's package, for the Swarm tests)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry >/dev/null
fi

# A fresh clone gets a .env to fill in: .env.example, mode 600, owned by whoever ran sudo,
# and the offline images when the official ones are not on this machine (no registry here).
# An existing .env is never touched.
root_dir=$(cd "$here/.." && pwd)
if [ ! -e "$root_dir/.env" ] && [ -f "$root_dir/.env.example" ]; then
    cp "$root_dir/.env.example" "$root_dir/.env"
    chmod 600 "$root_dir/.env"
    if ! docker image inspect node:20-slim >/dev/null 2>&1; then
        sed -i -e 's|^NODE_IMAGE=.*|NODE_IMAGE=timmy-offline/node:20|' \
            -e 's|^REDIS_IMAGE=.*|REDIS_IMAGE=timmy-offline/redis:7|' "$root_dir/.env"
        offline=" with the offline images"
    fi
    if [ -n "${SUDO_UID:-}" ]; then
        chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$root_dir/.env"
    fi
    echo "setup: created .env from .env.example${offline:-}; the dev stack runs without the API tokens, prod needs them (timmy check prod lists them)" >&2
fi

cat >&2 <<MSG
setup: done in $(($(date +%s) - start))s. On a machine without a container registry, .env needs:
    NODE_IMAGE=timmy-offline/node:20
    REDIS_IMAGE=timmy-offline/redis:7
MSG
