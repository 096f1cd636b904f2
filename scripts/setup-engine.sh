#!/usr/bin/env bash
# Set up a Docker engine with the Compose v2 plugin on a Debian/Ubuntu machine, as root.
#
# Idempotent: every step checks first and does nothing when already done.
#   1. apt-get update (once, only when something has to be installed)
#   2. Debian's docker.io when `dockerd` is missing; redis-server and busybox-static
#      (their binaries feed scripts/build-offline-images.sh)
#   3. the Compose v2 plugin when `docker compose version` fails: Ubuntu's
#      docker-compose-v2 package where apt has it; on Debian the one binary from trixie's
#      docker-compose .deb, fetched with a private apt list directory so the system's
#      sources stay untouched
#   4. dockerd in the background when no daemon answers, then wait for `docker info`
#
# Environment:
#   TIMMY_DOCKERD_LOG    dockerd's log file     (default /var/log/timmy-dockerd.log)
#   TIMMY_COMPOSE_SUITE  suite to take docker-compose from (default trixie)
#   TIMMY_DEBIAN_MIRROR  Debian mirror URI      (default: the one the system's sources use)
set -euo pipefail

DOCKERD_LOG=${TIMMY_DOCKERD_LOG:-/var/log/timmy-dockerd.log}
COMPOSE_SUITE=${TIMMY_COMPOSE_SUITE:-trixie}
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
WAIT_SECONDS=60

say() { printf 'setup-engine: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and starts dockerd)"
command -v apt-get >/dev/null || die "apt-get not found: this script supports Debian/Ubuntu only"

export DEBIAN_FRONTEND=noninteractive

apt_updated=0
apt_update_once() {
    if [ "$apt_updated" -eq 0 ]; then
        say "apt-get update"
        apt-get update -qq
        apt_updated=1
    fi
}

# Install packages without letting their maintainer scripts start services: we start
# dockerd ourselves, with our own flags, below.
apt_install() {
    apt_update_once
    say "apt-get install $*"
    local policy=/usr/sbin/policy-rc.d created=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        created=1
    fi
    local rc=0
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null || rc=$?
    if [ "$created" -eq 1 ]; then rm -f "$policy"; fi
    [ "$rc" -eq 0 ] || die "apt-get install $* failed (exit $rc)"
}

# --- 2. packages -----------------------------------------------------------------------
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v iptables >/dev/null || need+=(iptables)
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || need+=(redis-server)
# A static busybox (ldd refuses it): the images' /bin/sh and tools, with no libraries.
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || need+=(busybox-static)
# The offline node image is built from the host's node. Machines of this project's kind
# have Node 20; elsewhere Debian's nodejs (18 on bookworm) is a working fallback.
if ! command -v node >/dev/null; then
    say "warning: node not found: installing Debian's nodejs (the official images use Node 20)"
    need+=(nodejs)
fi
if [ "${#need[@]}" -gt 0 ]; then
    apt_install "${need[@]}"
fi
# (policy-rc.d above keeps redis-server's and docker.io's init scripts from starting
# services: only their binaries are needed.)

# --- 3. Compose v2 plugin --------------------------------------------------------------
debian_mirror() {
    if [ -n "${TIMMY_DEBIAN_MIRROR:-}" ]; then
        echo "$TIMMY_DEBIAN_MIRROR"
        return
    fi
    local uri
    # deb822 sources (URIs: ...) first, then one-line sources (deb URI suite ...).
    uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)
    if [ -z "$uri" ]; then
        uri=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            sed -E 's/\[[^]]*\] *//' | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

install_compose_plugin() {
    local tmp mirror arch deb bin
    tmp=$(mktemp -d)
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" RETURN
    mirror=$(debian_mirror)
    arch=$(dpkg --print-architecture)
    say "fetching docker-compose (Compose v2) from ${mirror} ${COMPOSE_SUITE}"
    mkdir -p "$tmp/lists/partial" "$tmp/archives/partial"
    if [ -r "$KEYRING" ]; then
        echo "deb [arch=${arch} signed-by=${KEYRING}] ${mirror} ${COMPOSE_SUITE} main" >"$tmp/sources.list"
    else
        echo "deb [arch=${arch}] ${mirror} ${COMPOSE_SUITE} main" >"$tmp/sources.list"
    fi
    local opts=(
        -o "Dir::Etc::SourceList=$tmp/sources.list"
        -o "Dir::Etc::SourceParts=/dev/null"
        -o "Dir::State::Lists=$tmp/lists"
        -o "Dir::Cache::Archives=$tmp/archives"
        -o "Dir::Cache::pkgcache="
        -o "Dir::Cache::srcpkgcache="
        -o "APT::Architecture=$arch"
        -o "APT::Sandbox::User=root"
    )
    apt-get "${opts[@]}" update -qq
    (cd "$tmp" && apt-get "${opts[@]}" download docker-compose >/dev/null)
    deb=$(find "$tmp" -maxdepth 1 -name 'docker-compose_*.deb' | head -n1)
    [ -n "$deb" ] || die "apt-get download docker-compose produced no .deb"
    dpkg-deb -x "$deb" "$tmp/root"
    bin=$(find "$tmp/root" -type f -name docker-compose -path '*cli-plugins*' | head -n1)
    [ -n "$bin" ] || bin=$(find "$tmp/root" -type f -name docker-compose | head -n1)
    [ -n "$bin" ] || die "no docker-compose binary inside $(basename "$deb")"
    mkdir -p "$PLUGIN_DIR"
    install -m 0755 "$bin" "$PLUGIN_DIR/docker-compose"
    say "installed $(basename "$deb") -> $PLUGIN_DIR/docker-compose"
}

has_candidate() {
    local c
    c=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
    [ -n "$c" ] && [ "$c" != "(none)" ]
}

if ! docker compose version >/dev/null 2>&1; then
    apt_update_once
    if has_candidate docker-compose-v2; then
        # Ubuntu ships the plugin as its own package.
        apt_install docker-compose-v2
    else
        install_compose_plugin
    fi
    docker compose version >/dev/null 2>&1 ||
        die "docker compose still fails after installing the plugin: $(docker compose version 2>&1 | head -n1)"
fi

# --- 4. the daemon ---------------------------------------------------------------------
daemon_answers() { timeout 10 docker info >/dev/null 2>&1; }

# iptables: docker needs a working backend for its NAT/filter rules and for the embedded
# DNS server inside each container (127.0.0.11). Prefer nft; fall back to legacy.
pick_iptables() {
    if iptables -t nat -L -n >/dev/null 2>&1; then return; fi
    if command -v iptables-legacy >/dev/null && iptables-legacy -t nat -L -n >/dev/null 2>&1 &&
        command -v update-alternatives >/dev/null; then
        say "iptables (nft) does not work here; switching to iptables-legacy"
        update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
        update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null 2>&1 || true
        return
    fi
    die "no working iptables backend (nft or legacy): dockerd cannot set up its networks"
}

# Containers of the daemon started here reach each other (bridge networks, embedded DNS) and
# are reached through ports published on the host, but cannot send anything off the machine:
# no masquerading, and forwarded packets that would leave through any interface other than
# a docker bridge are dropped (chain TIMMY-EGRESS, jumped to first from DOCKER-USER).
# IP forwarding itself stays on, as dockerd wants it (with it off, every container start
# warns "IPv4 forwarding is disabled. Networking will not work."). TIMMY_ALLOW_EGRESS=1
# skips the block and masquerades as usual (the real Timmy app calls external APIs).
isolate_egress() {
    if [ "${TIMMY_ALLOW_EGRESS:-0}" = 1 ]; then
        iptables -D DOCKER-USER -j TIMMY-EGRESS 2>/dev/null || true
        say "TIMMY_ALLOW_EGRESS=1: containers may reach the outside network"
        return
    fi
    iptables -N TIMMY-EGRESS 2>/dev/null || iptables -F TIMMY-EGRESS
    iptables -A TIMMY-EGRESS -o docker0 -j RETURN
    iptables -A TIMMY-EGRESS -o br-+ -j RETURN
    iptables -A TIMMY-EGRESS -j DROP
    iptables -N DOCKER-USER 2>/dev/null || true
    iptables -C DOCKER-USER -j TIMMY-EGRESS 2>/dev/null || iptables -I DOCKER-USER 1 -j TIMMY-EGRESS
}

# A dockerd or containerd that was killed (not stopped) leaves its pid file behind; if the
# pid now belongs to another process, dockerd refuses to start or waits on the wrong one.
remove_stale_pidfile() {
    local file=$1 comm=$2 pid
    [ -f "$file" ] || return 0
    pid=$(cat "$file" 2>/dev/null || true)
    if [ -z "$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" != "$comm" ] ||
        [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)" = Z ]; then
        rm -f "$file"
    fi
}

# A running (not zombie) process with this exact name.
live_process() {
    local pid state
    for pid in $(pgrep -x "$1" || true); do
        state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
        [ -n "$state" ] && [ "$state" != Z ] && return 0
    done
    return 1
}

start_dockerd() {
    pick_iptables
    if live_process dockerd; then
        # Probably still starting: give it the usual time before giving up.
        say "a dockerd process runs but does not answer yet; waiting up to ${WAIT_SECONDS}s"
        local waited=0
        until daemon_answers; do
            [ "$waited" -lt "$WAIT_SECONDS" ] ||
                die "dockerd runs but does not answer on /var/run/docker.sock (see $DOCKERD_LOG)"
            sleep 1
            waited=$((waited + 1))
        done
        return
    fi
    remove_stale_pidfile /var/run/docker.pid dockerd
    remove_stale_pidfile /var/run/docker/containerd/containerd.pid containerd
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    # cgroupfs: there is no systemd here to delegate cgroups to.
    local args=(
        --host=unix:///var/run/docker.sock
        --exec-opt native.cgroupdriver=cgroupfs
    )
    if [ "${TIMMY_ALLOW_EGRESS:-0}" != 1 ]; then
        args+=(--ip-masq=false)
    fi
    say "starting dockerd (log: $DOCKERD_LOG)"
    # setsid + nohup: the daemon outlives this script and its terminal.
    setsid nohup dockerd "${args[@]}" >>"$DOCKERD_LOG" 2>&1 </dev/null &
    local pid=$!
    local waited=0
    until daemon_answers; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$DOCKERD_LOG" >&2 || true
            die "dockerd exited during start-up (see $DOCKERD_LOG)"
        fi
        if [ "$waited" -ge "$WAIT_SECONDS" ]; then
            tail -n 20 "$DOCKERD_LOG" >&2 || true
            die "dockerd did not answer within ${WAIT_SECONDS}s (see $DOCKERD_LOG)"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    isolate_egress
    say "dockerd is up (pid $pid, ${waited}s)"
}

if daemon_answers; then
    say "a Docker daemon already answers"
else
    start_dockerd
fi

say "$(docker version --format 'client {{.Client.Version}} (API {{.Client.APIVersion}}), server {{.Server.Version}} (API {{.Server.APIVersion}})')"
say "$(docker compose version)"
