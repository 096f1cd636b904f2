#!/usr/bin/env bash
# Set up and start a Docker engine with the Compose v2 plugin on a Debian/Ubuntu machine, as root.
#
#   scripts/setup-engine.sh [stable|current]      (or TIMMY_ENGINE=stable|current; by default
#                                                   the current engine when it is the one
#                                                   answering, else stable)
#   scripts/setup-engine.sh --env [stable|current]  print the DOCKER_HOST/DOCKER_CONFIG exports
#                                                   that reach that engine; changes nothing
#
#   stable   Debian 12's docker.io (Engine 20.10, containerd 1.6, runc 1.1.5) and Compose 2.26.1
#            (trixie's docker-compose)
#   current  Engine 28.5 (sid's docker.io), containerd 2.1 (sid), Compose 2.40.3 (sid's
#            docker-compose), with bookworm's runc 1.1.5 (sid's runc needs glibc 2.38); the
#            .debs are unpacked under $TIMMY_ENGINE_PREFIX/current, no package is installed
#
# Idempotent: every step checks first and does nothing when already done.
#   1. apt-get update (once, only when something has to be installed)
#   2. Debian's docker.io when `dockerd` is missing (stable) or runc (current); redis-server
#      and busybox-static (their binaries feed scripts/build-offline-images.sh)
#   3. the engine's files: sid's (current) or trixie's (stable's Compose) .debs fetched with a
#      private apt list directory, so the system's sources stay untouched
#   4. the Compose plugin of that engine: on the default socket the system plugin
#      (/usr/local/lib/docker/cli-plugins/docker-compose) links to it; on another socket a
#      private DOCKER_CONFIG holds it (see --env)
#   5. dockerd in the background when the wanted engine does not answer on the socket. A
#      daemon of the other engine is stopped first, but only one this script started (it
#      carries the label timmy.setup-engine); any other daemon is left alone and the script
#      fails. Each engine keeps its own data root, so both keep their images.
#
# Environment:
#   TIMMY_ENGINE         stable | current (an argument wins)
#   TIMMY_ENGINE_PREFIX  where engine files go       (default /opt/timmy-engine)
#   TIMMY_DOCKER_SOCKET  the daemon's socket         (default /var/run/docker.sock). Any other
#                        path starts a private daemon beside the default one: data root
#                        /var/lib/timmy-engine/<socket's folder name>/<engine>, exec root and
#                        pid file in the socket's folder; reach it with the exports --env prints
#   TIMMY_ENGINE_NETNS   start dockerd inside this network namespace (created when missing):
#                        its bridges, iptables rules and published ports stay there, apart
#                        from a daemon on the host's network (run clients that use published
#                        ports with `nsenter --net=/var/run/netns/NAME`)
#   TIMMY_DOCKERD_LOG    dockerd's log file  (default /var/log/timmy-dockerd[-ENGINE].log)
#   TIMMY_COMPOSE_SUITE  suite stable's docker-compose comes from (default trixie)
#   TIMMY_CURRENT_SUITE  suite current's packages come from      (default sid)
#   TIMMY_DEBIAN_MIRROR  Debian mirror URI (default: the one the system's sources use)
set -euo pipefail

print_env=0
if [ "${1:-}" = --env ]; then
    print_env=1
    shift
fi
ENGINE=${1:-${TIMMY_ENGINE:-}}
case $ENGINE in
stable | current | "") ;;
*)
    printf 'setup-engine: error: unknown engine "%s"\nsetup-engine: hint: scripts/setup-engine.sh stable|current\n' "$ENGINE" >&2
    exit 2
    ;;
esac
PREFIX=${TIMMY_ENGINE_PREFIX:-/opt/timmy-engine}
DEFAULT_SOCKET=/var/run/docker.sock
SOCKET=${TIMMY_DOCKER_SOCKET:-$DEFAULT_SOCKET}
NETNS=${TIMMY_ENGINE_NETNS:-}
COMPOSE_SUITE=${TIMMY_COMPOSE_SUITE:-trixie}
CURRENT_SUITE=${TIMMY_CURRENT_SUITE:-sid}
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
WAIT_SECONDS=60
CURRENT_ROOT=$PREFIX/current/root
# The engine this script last started on the socket (what a restart without an engine
# name brings back).
if [ "$SOCKET" = "$DEFAULT_SOCKET" ]; then
    LAST_FILE=/var/run/timmy-engine.last
else
    LAST_FILE=$(dirname "$SOCKET")/timmy-engine.last
fi
# No engine named: keep the current engine when it is the one answering (or, with nothing
# answering, the one last started here), else stable.
if [ -z "$ENGINE" ]; then
    ENGINE=stable
    answering=$(timeout 10 docker -H "unix://$SOCKET" version --format '{{.Server.Version}}' 2>/dev/null || true)
    if [ -x "$CURRENT_ROOT/usr/sbin/dockerd" ] &&
        [ "$answering" = "$("$CURRENT_ROOT/usr/sbin/dockerd" --version | sed -E 's/^Docker version ([^,]+),.*/\1/')" ]; then
        ENGINE=current
    elif [ -z "$answering" ] && [ "$(cat "$LAST_FILE" 2>/dev/null || true)" = current ]; then
        ENGINE=current
    fi
fi
# Where the daemon keeps its state: the defaults for stable on the default socket, a sibling
# set for current, and the socket's own folder for a private daemon.
if [ "$SOCKET" = "$DEFAULT_SOCKET" ]; then
    private=0
    if [ "$ENGINE" = stable ]; then
        DATA_ROOT=/var/lib/docker EXEC_ROOT=/var/run/docker PIDFILE=/var/run/docker.pid
    else
        DATA_ROOT=/var/lib/docker-current EXEC_ROOT=/var/run/docker-current PIDFILE=/var/run/docker-current.pid
    fi
    # Both engines' pid files: the daemon answering here may be either.
    PIDFILES=(/var/run/docker.pid /var/run/docker-current.pid)
    DOCKERD_LOG=${TIMMY_DOCKERD_LOG:-/var/log/timmy-dockerd.log}
else
    private=1
    state=$(dirname "$SOCKET")
    DATA_ROOT=/var/lib/timmy-engine/$(basename "$state")/$ENGINE EXEC_ROOT=$state/exec-$ENGINE
    PIDFILE=$state/docker.pid
    PIDFILES=("$PIDFILE")
    DOCKERD_LOG=${TIMMY_DOCKERD_LOG:-/var/log/timmy-dockerd-$(basename "$state").log}
fi
PRIVATE_CONFIG=$PREFIX/$ENGINE/docker-config

if [ "$print_env" = 1 ]; then
    if [ "$private" = 1 ]; then
        printf 'export DOCKER_HOST=unix://%s\nexport DOCKER_CONFIG=%s\n' "$SOCKET" "$PRIVATE_CONFIG"
    else
        printf 'unset DOCKER_HOST DOCKER_CONFIG\n'
    fi
    exit 0
fi

say() { printf 'setup-engine: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and starts dockerd)"
command -v apt-get >/dev/null || die "apt-get not found: this script supports Debian/Ubuntu only"

export DEBIAN_FRONTEND=noninteractive
started_at=$(date +%s)

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
if [ "$ENGINE" = stable ]; then
    command -v dockerd >/dev/null || need+=(docker.io)
fi
# current runs bookworm's runc (sid's needs a newer glibc); stable's docker.io brings it too.
command -v runc >/dev/null || need+=(runc)
command -v docker >/dev/null || need+=(docker.io)
command -v iptables >/dev/null || need+=(iptables)
command -v nsenter >/dev/null || need+=(util-linux)
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
    mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
    apt_install "${need[@]}"
fi
# (policy-rc.d above keeps redis-server's and docker.io's init scripts from starting
# services: only their binaries are needed.)

# --- 3. engine files from a private apt list ---------------------------------------------
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

# fetch_debs SUITE DEST PACKAGE...: download the packages' .debs from SUITE into DEST with an
# apt configuration of its own (sources, lists, cache): nothing of the system's apt changes.
fetch_debs() {
    local suite=$1 dest=$2 tmp mirror arch
    shift 2
    tmp=$(mktemp -d)
    mirror=$(debian_mirror)
    arch=$(dpkg --print-architecture)
    say "fetching $* from ${mirror} ${suite}"
    mkdir -p "$tmp/lists/partial" "$tmp/archives/partial" "$dest"
    if [ -r "$KEYRING" ]; then
        echo "deb [arch=${arch} signed-by=${KEYRING}] ${mirror} ${suite} main" >"$tmp/sources.list"
    else
        echo "deb [arch=${arch}] ${mirror} ${suite} main" >"$tmp/sources.list"
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
    local rc=0
    { apt-get "${opts[@]}" update -qq && (cd "$dest" && apt-get "${opts[@]}" download "$@" >/dev/null); } || rc=$?
    rm -rf "$tmp"
    [ "$rc" -eq 0 ] || die "fetching $* from ${suite} failed (exit $rc)"
}

# The docker-compose binary inside a docker-compose .deb, installed as DEST.
install_compose_from_deb() {
    local deb=$1 dest=$2 tmp bin
    tmp=$(mktemp -d)
    dpkg-deb -x "$deb" "$tmp"
    bin=$(find "$tmp" -type f -name docker-compose -path '*cli-plugins*' | head -n1)
    [ -n "$bin" ] || bin=$(find "$tmp" -type f -name docker-compose | head -n1)
    [ -n "$bin" ] || die "no docker-compose binary inside $(basename "$deb")"
    mkdir -p "$(dirname "$dest")"
    install -m 0755 "$bin" "$dest.new"
    mv -f "$dest.new" "$dest"
    rm -rf "$tmp"
}

# stable's Compose: the system plugin when it already runs (kept as it is), else trixie's.
stable_compose() {
    local dest=$PREFIX/stable/docker-compose
    [ -x "$dest" ] && return
    if [ -x "$PLUGIN_DIR/docker-compose" ] && [ ! -L "$PLUGIN_DIR/docker-compose" ] &&
        "$PLUGIN_DIR/docker-compose" version >/dev/null 2>&1; then
        mkdir -p "$PREFIX/stable"
        install -m 0755 "$PLUGIN_DIR/docker-compose" "$dest"
        return
    fi
    local debs=$PREFIX/debs/$COMPOSE_SUITE
    fetch_debs "$COMPOSE_SUITE" "$debs" docker-compose
    install_compose_from_deb "$(find "$debs" -name 'docker-compose_*.deb' | sort | tail -n1)" "$dest"
    say "installed trixie's docker-compose -> $dest"
}

# current's engine: sid's docker.io (dockerd, docker-proxy, docker-init), containerd (with
# its shim), tini-static and docker-compose, unpacked under $CURRENT_ROOT. runc is not among
# them: containerd's shim finds bookworm's /usr/sbin/runc on PATH.
current_files() {
    if [ -x "$CURRENT_ROOT/usr/sbin/dockerd" ] && [ -x "$CURRENT_ROOT/usr/bin/containerd" ] &&
        [ -x "$PREFIX/current/docker-compose" ]; then
        return
    fi
    local debs=$PREFIX/debs/$CURRENT_SUITE deb
    rm -rf "$debs" "$CURRENT_ROOT.new"
    fetch_debs "$CURRENT_SUITE" "$debs" docker.io containerd tini-static docker-cli docker-compose
    mkdir -p "$CURRENT_ROOT.new"
    for deb in "$debs"/docker.io_*.deb "$debs"/containerd_*.deb "$debs"/tini-static_*.deb "$debs"/docker-cli_*.deb; do
        [ -f "$deb" ] || die "apt-get download produced no $(basename "$deb")"
        dpkg-deb -x "$deb" "$CURRENT_ROOT.new"
    done
    rm -rf "$CURRENT_ROOT"
    mv "$CURRENT_ROOT.new" "$CURRENT_ROOT"
    install_compose_from_deb "$(find "$debs" -name 'docker-compose_*.deb' | sort | tail -n1)" \
        "$PREFIX/current/docker-compose"
    "$CURRENT_ROOT/usr/sbin/dockerd" --version >/dev/null 2>&1 ||
        die "$CURRENT_ROOT/usr/sbin/dockerd does not run on this machine"
    rm -rf "$debs"
    say "unpacked $("$CURRENT_ROOT/usr/sbin/dockerd" --version | sed -E 's/,.*//'), $("$CURRENT_ROOT/usr/bin/containerd" --version | awk '{print "containerd " $3}') and Compose $("$PREFIX/current/docker-compose" version --short) under $PREFIX/current"
}

if [ "$ENGINE" = stable ]; then
    stable_compose
    DOCKERD=$(command -v dockerd)
    DAEMON_PATH=$PATH
else
    current_files
    DOCKERD=$CURRENT_ROOT/usr/sbin/dockerd
    # dockerd finds containerd, its shim, docker-proxy and docker-init here first; runc
    # (absent there) comes from the system.
    DAEMON_PATH=$CURRENT_ROOT/usr/sbin:$CURRENT_ROOT/usr/bin:$PATH
fi
COMPOSE=$PREFIX/$ENGINE/docker-compose

# --- 4. the Compose plugin ----------------------------------------------------------------
if [ "$private" = 1 ]; then
    # Only clients that set DOCKER_CONFIG (see --env) see this engine's Compose.
    mkdir -p "$PRIVATE_CONFIG/cli-plugins"
    ln -sfn "$COMPOSE" "$PRIVATE_CONFIG/cli-plugins/docker-compose"
    [ -e "$PRIVATE_CONFIG/config.json" ] || echo '{}' >"$PRIVATE_CONFIG/config.json"
else
    mkdir -p "$PLUGIN_DIR"
    if [ "$(readlink "$PLUGIN_DIR/docker-compose" 2>/dev/null || true)" != "$COMPOSE" ]; then
        ln -sfn "$COMPOSE" "$PLUGIN_DIR/docker-compose.new"
        mv -Tf "$PLUGIN_DIR/docker-compose.new" "$PLUGIN_DIR/docker-compose"
        say "$PLUGIN_DIR/docker-compose -> $COMPOSE"
    fi
fi
"$COMPOSE" version >/dev/null 2>&1 || die "$COMPOSE does not run: $("$COMPOSE" version 2>&1 | head -n1)"

# --- 5. the daemon ---------------------------------------------------------------------
# Every iptables call and the daemon itself run in the network namespace when there is one.
NS=()
if [ -n "$NETNS" ]; then
    if [ ! -e "/var/run/netns/$NETNS" ]; then
        ip netns add "$NETNS"
        say "created network namespace $NETNS"
    fi
    # nsenter, not `ip netns exec`: the latter remounts /sys, and dockerd then finds no
    # devices cgroup.
    NS=(nsenter "--net=/var/run/netns/$NETNS")
    "${NS[@]}" ip link set lo up
fi

docker_here() { DOCKER_CONFIG=$PRIVATE_CONFIG timeout 10 docker -H "unix://$SOCKET" "$@"; }
daemon_answers() { docker_here version --format '{{.Server.Version}}' >/dev/null 2>&1; }
server_version() { docker_here version --format '{{.Server.Version}}' 2>/dev/null; }
# "Docker version 28.5.2+dfsg4, build …" -> 28.5.2+dfsg4
wanted_version() { "$DOCKERD" --version | sed -E 's/^Docker version ([^,]+),.*/\1/'; }

# iptables: docker needs a working backend for its NAT/filter rules and for the embedded
# DNS server inside each container (127.0.0.11). Prefer nft; fall back to legacy.
pick_iptables() {
    if "${NS[@]}" iptables -t nat -L -n >/dev/null 2>&1; then return; fi
    if command -v iptables-legacy >/dev/null && "${NS[@]}" iptables-legacy -t nat -L -n >/dev/null 2>&1 &&
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
    local ipt=("${NS[@]}" iptables)
    if [ "${TIMMY_ALLOW_EGRESS:-0}" = 1 ]; then
        "${ipt[@]}" -D DOCKER-USER -j TIMMY-EGRESS 2>/dev/null || true
        say "TIMMY_ALLOW_EGRESS=1: containers may reach the outside network"
        return
    fi
    "${ipt[@]}" -N TIMMY-EGRESS 2>/dev/null || "${ipt[@]}" -F TIMMY-EGRESS
    "${ipt[@]}" -A TIMMY-EGRESS -o docker0 -j RETURN
    "${ipt[@]}" -A TIMMY-EGRESS -o br-+ -j RETURN
    "${ipt[@]}" -A TIMMY-EGRESS -j DROP
    "${ipt[@]}" -N DOCKER-USER 2>/dev/null || true
    "${ipt[@]}" -C DOCKER-USER -j TIMMY-EGRESS 2>/dev/null || "${ipt[@]}" -I DOCKER-USER 1 -j TIMMY-EGRESS
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

# The pid of a live dockerd this script started on $SOCKET: its command line carries
# --label=timmy.setup-engine=…, or it is exactly what earlier versions of this script ran.
our_daemon_pid() {
    local file pid cmd
    for file in "${PIDFILES[@]}"; do
        pid=$(cat "$file" 2>/dev/null || true)
        if [ -z "$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" != dockerd ]; then
            continue
        fi
        cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
        case $cmd in
        *" --host=unix://$SOCKET "*"--label=timmy.setup-engine="*) ;;
        "dockerd --host=unix://$DEFAULT_SOCKET --exec-opt native.cgroupdriver=cgroupfs " | \
            "dockerd --host=unix://$DEFAULT_SOCKET --exec-opt native.cgroupdriver=cgroupfs --ip-masq=false ") ;;
        *) continue ;;
        esac
        echo "$pid"
        return
    done
    return 1
}

stop_daemon() {
    local pid=$1 waited=0
    say "stopping the dockerd this script started (pid $pid, engine $(server_version || echo '?'))"
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)" != Z ]; do
        [ "$waited" -lt "$WAIT_SECONDS" ] || die "dockerd (pid $pid) did not stop within ${WAIT_SECONDS}s"
        sleep 1
        waited=$((waited + 1))
    done
    say "stopped in ${waited}s"
}

start_dockerd() {
    pick_iptables
    remove_stale_pidfile "$PIDFILE" dockerd
    remove_stale_pidfile "$EXEC_ROOT/containerd/containerd.pid" containerd
    mkdir -p "$(dirname "$DOCKERD_LOG")" "$(dirname "$SOCKET")" "$DATA_ROOT" "$EXEC_ROOT"
    # cgroupfs: there is no systemd here to delegate cgroups to.
    local args=(
        --host="unix://$SOCKET"
        --exec-opt native.cgroupdriver=cgroupfs
        --data-root="$DATA_ROOT"
        --exec-root="$EXEC_ROOT"
        --pidfile="$PIDFILE"
        --label="timmy.setup-engine=$ENGINE"
    )
    if [ "${TIMMY_ALLOW_EGRESS:-0}" != 1 ]; then
        args+=(--ip-masq=false)
    fi
    say "starting $ENGINE dockerd $(wanted_version) on $SOCKET${NETNS:+ in network namespace $NETNS} (log: $DOCKERD_LOG)"
    # setsid + nohup: the daemon outlives this script and its terminal.
    PATH=$DAEMON_PATH setsid nohup "${NS[@]}" "$DOCKERD" "${args[@]}" >>"$DOCKERD_LOG" 2>&1 </dev/null &
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
    echo "$ENGINE" >"$LAST_FILE"
    say "dockerd is up (pid $pid, ${waited}s)"
}

want=$(wanted_version)
if daemon_answers; then
    have=$(server_version || true)
    if [ "$have" = "$want" ]; then
        say "the $ENGINE engine ($have) already answers on $SOCKET"
    elif pid=$(our_daemon_pid); then
        stop_daemon "$pid"
        start_dockerd
    else
        die "Engine ${have:-?} answers on $SOCKET and was not started by this script: it is left alone (stop it yourself, or set TIMMY_DOCKER_SOCKET to start the $ENGINE engine ($want) beside it)"
    fi
else
    # A daemon of ours that stopped answering (still starting, or stuck) is given the usual
    # time; a stuck one is stopped and started again.
    if pid=$(our_daemon_pid); then
        say "a dockerd this script started (pid $pid) does not answer yet; waiting up to ${WAIT_SECONDS}s"
        waited=0
        until daemon_answers || [ "$waited" -ge "$WAIT_SECONDS" ]; do
            sleep 1
            waited=$((waited + 1))
        done
    fi
    if ! daemon_answers; then
        [ -z "${pid:-}" ] || stop_daemon "$pid"
        start_dockerd
    elif [ "$(server_version)" != "$want" ]; then
        stop_daemon "$(our_daemon_pid)"
        start_dockerd
    fi
fi

say "$(docker_here version --format 'client {{.Client.Version}} (API {{.Client.APIVersion}}), server {{.Server.Version}} (API {{.Server.APIVersion}})')"
say "$(DOCKER_CONFIG=$PRIVATE_CONFIG DOCKER_HOST=unix://$SOCKET docker compose version) (from $(readlink -f "$COMPOSE"))"
say "done in $(($(date +%s) - started_at))s"
if [ "$private" = 1 ]; then
    say "reach it with: eval \"\$(scripts/setup-engine.sh --env $ENGINE)\" (with TIMMY_DOCKER_SOCKET=$SOCKET)"
fi
