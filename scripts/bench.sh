#!/usr/bin/env bash
# Measure what timmy costs on top of the docker commands it wraps, against the real engine, and
# write the results to docs/PERFORMANCE.md (issue 5). Takes about 4½ minutes on 2 cores.
#
#   scripts/bench.sh               full run (root once: installs hyperfine from Debian)
#   BENCH_UP_RUNS=3 BENCH_DOWN_RUNS=3 BENCH_FAST_RUNS=10 scripts/bench.sh   quicker, noisier
#
# Works in a throw-away copy of docker/, app/, scripts/, .env.example and .dockerignore under a temp dir, with
# its own .env (offline images, ports picked by Docker) and its own project name, and always
# removes its containers, network, volume, image and temp dir, whatever happens. Every pair is
# timed in ONE hyperfine run, so each ratio timmy/bare comes from the same minutes on the same
# engine. Bare commands are the exact argv timmy prints for --dry-run or hands to docker.
#
# Environment: BENCH_UP_RUNS (7), BENCH_DOWN_RUNS (6), BENCH_FAST_RUNS (30, doubled for ps and
# the in-process commands), BENCH_OUT (the doc to write, default docs/PERFORMANCE.md), TIMMY_BIN
# (a timmy binary to use instead of building), BENCH_CRITERION=1 (also run `cargo bench --bench
# check`, the in-process split of `check`; about 2 more minutes, most of it compiling).
#
# Swarm (a manager engine; the doc is not rewritten): BENCH_ONLY=swarm scripts/bench.sh, see
# swarm_bench below.
# `check` on the 10,000-line .env alone (no stack is started; the doc is not rewritten):
#   BENCH_ONLY=check [BENCH_FAST_RUNS=30] scripts/bench.sh
# times `timmy check dev` and a bare `timmy check` (dev, then every environment whose verdict
# differs) and counts their instructions with valgrind's callgrind when it is installed (the
# figure that holds on a busy machine); prints a Markdown table. A full run includes the same.
#
# Time to healthy, on either engine (DOCKER_HOST picks it; the doc is not rewritten):
#   BENCH_ONLY=healthy [BENCH_HEALTHY_RUNS=7] [BENCH_HEALTHY_OUT=file.md] scripts/bench.sh
# times `timmy up -d` until every service is healthy against the bare compose call (and, on
# Engine 25+, the bare call without docker/engine25.compose.yml) and prints a Markdown table.
#
# A no-op up, on either engine (the doc is not rewritten):
#   BENCH_ONLY=noop [BENCH_NOOP_RUNS=10] [BENCH_NOOP_OUT=file.md] scripts/bench.sh
# starts the dev stack once, then times `timmy up -d` on it (nothing changed) beside the
# compose calls it makes and could make instead, and one such `up` call by call.
# shellcheck disable=SC2016 # backquotes inside single quotes are Markdown, not expansions
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
up_runs=${BENCH_UP_RUNS:-7}
healthy_runs=${BENCH_HEALTHY_RUNS:-7}
noop_runs=${BENCH_NOOP_RUNS:-10}
down_runs=${BENCH_DOWN_RUNS:-6}
fast_runs=${BENCH_FAST_RUNS:-30}
out_doc=${BENCH_OUT:-$repo/docs/PERFORMANCE.md}
node_image=timmy-offline/node:20
redis_image=timmy-offline/redis:7
marker='<!-- Everything below is written by scripts/bench.sh; edit the text above this line. -->'

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
    printf 'bench: error: %s\n' "$1" >&2
    [ -n "${2:-}" ] && printf 'bench: hint: %s\n' "$2" >&2
    exit 1
}

# --- tools ---------------------------------------------------------------------------------
need_pkg() { # command package
    command -v "$1" >/dev/null 2>&1 && return 0
    [ "$(id -u)" -eq 0 ] || die "$1 is missing" "as root: apt-get install -y $2"
    say "installing $2 from Debian's packages"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need_pkg hyperfine hyperfine
need_pkg jq jq
[ -x /usr/bin/time ] || { need_pkg time time; }
command -v docker >/dev/null 2>&1 || die "docker is not installed" "sudo scripts/setup.sh"
docker info >/dev/null 2>&1 || die "the Docker daemon does not answer" "sudo scripts/setup.sh"
docker compose version >/dev/null 2>&1 || die "no Compose v2 plugin" "sudo scripts/setup.sh"
if ! docker image inspect "$node_image" "$redis_image" >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || die "offline images missing" "sudo scripts/setup.sh"
    "$repo/scripts/setup.sh"
fi
real_docker=$(command -v docker)

# --- timmy ---------------------------------------------------------------------------------
if [ -n "${TIMMY_BIN:-}" ]; then
    bin=$(cd "$(dirname "$TIMMY_BIN")" && pwd)/$(basename "$TIMMY_BIN")
else
    say "cargo build --release"
    (cd "$repo" && cargo build --release --quiet) || die "cargo build --release failed" \
        "fix the build, or point TIMMY_BIN at a timmy binary"
    bin=$repo/target/release/timmy
fi
[ -x "$bin" ] || die "no timmy binary at $bin"

# --- throw-away project, always torn down --------------------------------------------------
work=$(mktemp -d /tmp/timmy-bench.XXXXXX)
name="timmy-bench-$$"
dev_name="$name-dev" # the dev stack's project name (prod alone keeps the plain one)
proj=$work/proj
big=$work/big

cleanup() {
    local code=$?
    trap - EXIT INT TERM
    set +e
    cd /
    say "tearing down $name"
    local project ids
    if [ "${BENCH_ONLY:-}" = swarm ]; then
        docker stack rm "$name" >/dev/null 2>&1
        sleep 2
        docker image ls --format '{{.Repository}}:{{.Tag}}' --filter "reference=$name-*" |
            xargs -r docker image rm -f >/dev/null 2>&1
    fi
    for project in "$name" "$dev_name"; do
        docker compose -p "$project" down --volumes --remove-orphans --timeout 2 >/dev/null 2>&1 || true
        mapfile -t ids < <(docker ps -aq --filter "label=com.docker.compose.project=$project" 2>/dev/null)
        [ ${#ids[@]} -eq 0 ] || docker rm -fv "${ids[@]}" >/dev/null 2>&1
        docker volume rm -f "${project}_redis-data" >/dev/null 2>&1 || true
        docker network rm "${project}_timmy-network" >/dev/null 2>&1 || true
    done
    # Each env tags its own image <project>-timmy:<env> (dev's project is $name-dev).
    docker image rm -f "$name-timmy" "$name-timmy:dev" "$name-timmy:prod" "$name-dev-timmy:dev" \
        >/dev/null 2>&1 || true
    rm -rf "$work"
    exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for dir in "$proj" "$big"; do
    mkdir -p "$dir"
    cp -R "$repo/docker" "$repo/app" "$repo/scripts" "$repo/.env.example" "$repo/.dockerignore" "$dir/"
done
# The end-to-end tests' .env (tests/fixtures/stack.env); port 0 lets Docker pick free ports.
{
    cat "$repo/tests/fixtures/stack.env"
    printf 'NODE_IMAGE=%s\nREDIS_IMAGE=%s\nTIMMY_PORT=0\nTIMMY_DEBUG_PORT=0\n' "$node_image" "$redis_image"
} >"$proj/.env"
# The same .env filled to 10,000 lines; per ten lines: a comment, a blank, a double-quoted
# value with \${...} and an escape, a single-quoted value, six plain values with a comment
# (benches/check.rs generates the same text).
awk -v n=10000 '{ print; c++ } END {
    for (i = 1; c < n; i++) {
        r = i % 10
        if (r == 0) printf "# section %d: a comment line\n", i
        else if (r == 5) printf "\n"
        else if (r == 3) printf "SETTING_%05d=\"double quoted ${SETTING_%05d} and \\n escape\"\n", i, i - 1
        else if (r == 7) printf "SETTING_%05d=\x27single quoted $literal value\x27\n", i
        else printf "SETTING_%05d=plain-value-%d-abcdefghijklmnop # trailing comment\n", i, i
        c++
    }
}' "$proj/.env" >"$big/.env"
chmod 600 "$proj/.env" "$big/.env"

# timmy sees the project through its cwd and TIMMY_PROJECT_NAME; nothing else may steer it.
unset TIMMY_DOCKER TIMMY_PROJECT_DIR COMPOSE_FILE COMPOSE_PROJECT_NAME
export TIMMY_PROJECT_NAME=$name NO_COLOR=1
cd "$proj"

mkdir -p "$work/bin" "$work/shim" "$work/results"

# --- check on 10,000 lines -------------------------------------------------------------------
# Instructions of one run (callgrind counts the process's own, not its children's), or –.
instructions() {
    command -v valgrind >/dev/null 2>&1 || { echo –; return; }
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
        awk '/Collected :/ { print $NF }'
}
check_figures() { # times and counts both checks; prints a Markdown table
    say "check on the 10,000-line .env: check dev and a bare check ($((fast_runs * 2)) runs each)"
    hyperfine -N --style basic --export-json "$work/results/check10k.json" \
        --warmup 5 --runs $((fast_runs * 2)) \
        -n "timmy check dev (10,000-line .env)" "$bin --project-dir $big check dev" \
        -n "timmy check (10,000-line .env)" "$bin --project-dir $big check" >&2
    ir_dev=$(instructions "$bin" --project-dir "$big" check dev)
    ir_all=$(instructions "$bin" --project-dir "$big" check)
    jq -r --arg dev "$ir_dev" --arg all "$ir_all" '
      def millions: if . == "–" or . == "" then "–" else (tonumber / 1e6 | . * 10 | round / 10 | tostring) + " M" end;
      "| command | median | mean ± σ | min … max | runs | instructions |",
      "|---|---:|---:|---:|---:|---:|",
      (.results[] | "| `\(.command)` | \(.median * 1000 | . * 10 | round / 10) ms | \(.mean * 1000 | . * 10 | round / 10) ± \(.stddev * 1000 | . * 10 | round / 10) ms | \(.min * 1000 | . * 10 | round / 10) … \(.max * 1000 | . * 10 | round / 10) ms | \(.times | length) | \(if (.command | startswith("timmy check dev")) then $dev else $all end | millions) |")
    ' "$work/results/check10k.json"
}
if [ "${BENCH_ONLY:-}" = check ]; then
    check_figures
    exit 0
fi
# The docker shim counts the processes timmy starts: it logs each call's argv as one
# shell-quoted line (so the bare commands below can be exactly timmy's), then execs docker.
cat >"$work/shim/docker" <<'EOF'
#!/usr/bin/env bash
line=
for a in "$@"; do
    case $a in
    *[!A-Za-z0-9_./=:,+@%-]* | '') a="'${a//\'/\'\\\'\'}'" ;;
    esac
    line+=" $a"
done
printf '%s\n' "${line# }" >>"$BENCH_SHIM_LOG"
exec "$BENCH_REAL_DOCKER" "$@"
EOF
chmod +x "$work/shim/docker"
# A second shim, for one run call by call of `timmy up -d`, `timmy down` and docker-stop.sh: it
# waits for docker and logs when each call started and ended (bash's clock, no extra process).
mkdir -p "$work/tshim"
cat >"$work/tshim/docker" <<'EOF'
#!/usr/bin/env bash
start=$EPOCHREALTIME
"$BENCH_REAL_DOCKER" "$@"
code=$?
printf '%s %s %s\n' "$start" "$EPOCHREALTIME" "$*" >>"$BENCH_SHIM_LOG"
exit "$code"
EOF
chmod +x "$work/tshim/docker"
timeline() { # label main-call-regex command...: the docker calls of one run, in ms from its start
    local label=$1 main=$2 log=$work/results/timeline-$1.log t0 t1
    shift 2
    : >"$log"
    t0=$EPOCHREALTIME
    BENCH_SHIM_LOG=$log BENCH_REAL_DOCKER=$real_docker PATH="$work/tshim:$PATH" "$@" >/dev/null 2>&1 ||
        die "$* failed under the timing shim"
    t1=$EPOCHREALTIME
    awk -v t0="$t0" -v t1="$t1" -v main="$main" -v out="$work/results/timeline-$label.outside" '{
        s = ($1 - t0) * 1000; e = ($2 - t0) * 1000; busy += e - s
        cmd = $3; for (i = 4; i <= NF; i++) cmd = cmd " " $i
        if (!found && cmd ~ main) { found = 1; wrapped = e - s }
        short = "docker"; for (i = 3; i <= NF && length(short) < 70; i++) short = short " " $i
        if (i <= NF) short = short " …"
        printf "    %7.1f … %7.1f ms  %7.1f ms  %s\n", s, e, e - s, short
    } END {
        total = (t1 - t0) * 1000
        printf "    the run took %.1f ms: %.1f ms in docker calls, %.1f ms around them (its own work and the shim)\n",
            total, busy, total - busy
        printf "%.1f\n", total - wrapped > out
    }' "$log" >"$work/results/timeline-$label.txt"
}

# Run timmy under the shim; the log names the docker processes it started. Where strace is
# installed, it also counts timmy's own connections to the engine's socket (the preflight
# probe and any Engine API request); its docker children are not traced.
tracer=()
command -v strace >/dev/null 2>&1 && tracer=(strace -qq -e trace=connect -o)
counted() { # label args...
    local label=$1 log=$work/results/calls-$1.log
    shift
    : >"$log"
    local trace=()
    [ ${#tracer[@]} -gt 0 ] && trace=("${tracer[@]}" "$work/results/connect-$label.log")
    BENCH_SHIM_LOG=$log BENCH_REAL_DOCKER=$real_docker PATH="$work/shim:$PATH" \
        "${trace[@]}" "$bin" "$@" >"$work/results/out-$label.txt" 2>&1 ||
        die "timmy $* failed: $(tail -n 3 "$work/results/out-$label.txt")"
}

# --- the exact commands timmy wraps ----------------------------------------------------------
say "project $name in $proj; bare commands from timmy --dry-run"
up_cmd=$("$bin" --dry-run up -d | grep '^docker compose ') || die "timmy --dry-run up -d printed no compose command"
case $up_cmd in *[\ ]--wait*) ;; *) die "unexpected up command: $up_cmd" ;; esac
case $up_cmd in *[\'\"]*) die "the temp path needs quoting; run from a path without spaces" ;; esac

say "timmy up -d under the docker shim (also builds the stack's image, not timed)"
counted up up -d
counted ps ps
down_cmd=$("$bin" --dry-run down | grep '^docker compose ') || die "timmy --dry-run down printed no compose command"
compose_prefix=${down_cmd%% down*}
counted down down
counted down-idle down
counted check check
counted check-10k --project-dir "$big" check
counted version --version
# `timmy ps`'s compose call exactly as it ran (from the shim's log); the plain one if it ran none.
ps_cmd="docker $(grep -m 1 '^compose ' "$work/results/calls-ps.log")" ||
    ps_cmd="docker compose -p $dev_name ps --all --format json"
# A label query as `docker ps` (timmy down's own argv when it still runs one), for comparison
# with the Engine API request that replaces it.
label_query="docker $(grep -m 1 '^ps ' "$work/results/calls-down.log")" ||
    label_query="docker ps --all --no-trunc --filter label=com.docker.compose.project=$dev_name --format '{{.ID}}\t{{.Names}}\t{{.State}}\t{{.Label \"com.docker.compose.service\"}}\t{{.Label \"com.docker.compose.oneoff\"}}\t{{.Label \"com.docker.compose.project.config_files\"}}'"

# Helpers for --prepare (quiet, exact argv) and the old docker-stop.sh.
printf '#!/bin/sh\nexec %s >/dev/null 2>&1\n' "$up_cmd" >"$work/bin/stack-up"
printf '#!/bin/sh\nexec %s >/dev/null 2>&1\n' "$down_cmd" >"$work/bin/stack-down"
cat >"$work/bin/docker-stop.sh" <<EOF
#!/usr/bin/env bash
# What docker-stop.sh did: stop the stack, then look for leftovers by name.
$compose_prefix down
docker ps -a | grep $name || echo "no $name container left"
EOF
chmod +x "$work/bin/"*

# --- time to healthy -------------------------------------------------------------------------
# `timmy up -d` (dev) from nothing running to every service healthy (`up --wait` returns then),
# against the bare compose call with timmy's files and, on Engine 25+, against the bare call
# with the shared files only (no docker/engine25.compose.yml: what the stack cost before).
# Runs against whichever engine DOCKER_HOST points at. BENCH_ONLY=healthy stops after it.
healthy_table() {
    local plain_cmd=${up_cmd/ -f $proj\/docker\/engine25.compose.yml/}
    local rows=(-n "timmy up -d (to all healthy)" "$bin up -d"
        -n "docker compose … up --detach --wait" "$up_cmd")
    if [ "$plain_cmd" != "$up_cmd" ]; then
        rows+=(-n "… without docker/engine25.compose.yml" "$plain_cmd")
    fi
    say "time to healthy: timmy up -d vs bare compose ($healthy_runs runs each, stack down before every run)"
    bench healthy --runs "$healthy_runs" --prepare "$work/bin/stack-down" "${rows[@]}" >&2
    local engine
    engine="Engine $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})'), Compose $(docker compose version --short)"
    {
        printf '### time to healthy on %s\n\n' "$engine"
        printf '%s, timmy at %s; `timmy up -d` (dev) from nothing running to every service healthy.\n\n' \
            "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
        table healthy "docker compose … up --detach --wait"
        printf '\n```sh\nhyperfine %s\n```\n' "$(shown "$work/results/healthy.cmd")"
    } >"$work/results/healthy.md"
    printf '\n' >&2
    cat "$work/results/healthy.md" >&2
    if [ -n "${BENCH_HEALTHY_OUT:-}" ]; then
        cp "$work/results/healthy.md" "$BENCH_HEALTHY_OUT"
    fi
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
others_before=$(docker ps -q | wc -l)

# --- timing ----------------------------------------------------------------------------------
# -N: no shell in between, so nothing is subtracted or added on either side.
quote() { # shell-quote each argument that needs it, for the doc
    local a sep=''
    for a in "$@"; do
        case $a in
        *[!A-Za-z0-9_./=:,+@%-]* | '') printf "%s'%s'" "$sep" "${a//\'/\'\\\'\'}" ;;
        *) printf '%s%s' "$sep" "$a" ;;
        esac
        sep=' '
    done
}
bench() { # result-name hyperfine-args...
    local result=$1
    shift
    quote "$@" >"$work/results/$result.cmd"
    hyperfine -N --style basic --export-json "$work/results/$result.json" "$@"
}

# --- Swarm: `timmy deploy` against the bare `docker stack deploy` of the same file ----------
# BENCH_ONLY=swarm [BENCH_SWARM_RUNS=5] scripts/bench.sh, on an engine that is a swarm manager
# (the bench never changes that: `docker swarm init --advertise-addr 127.0.0.1` first). The
# prod env with SWARM_ENDPOINT_MODE=dnsrr, SWARM_PUBLISH_MODE=host and --secrets env (the bare
# command then needs no secret files). Measures:
#   1. a redeploy of the unchanged, converged stack: `timmy deploy --detach` (.env checks,
#      Compose's config, render, build and tag, stack deploy) against the bare
#      `docker stack deploy -c FILE` of the file `timmy deploy --render` printed; processes each;
#   2. time to converge from nothing: `timmy deploy` (build, deploy, wait until healthy) against
#      the bare deploy followed by a poll of `docker service ls` until every service is n/n.
swarm_bench() {
    local runs=${BENCH_SWARM_RUNS:-5} file=$work/results/stack.yml
    [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ] ||
        die "this engine is not a swarm manager" "docker swarm init --advertise-addr 127.0.0.1 (and docker swarm leave --force afterwards)"
    printf 'SWARM_ENDPOINT_MODE=dnsrr\nSWARM_PUBLISH_MODE=host\n' >>"$proj/.env"
    local deploy=("$bin" deploy prod --secrets env --timeout 180)
    say "swarm: first deploy of $name (build and converge)"
    "${deploy[@]}" >/dev/null 2>&1 || die "timmy deploy failed" "run it by hand in a copy of the project"
    "$bin" deploy prod --secrets env --render --show-secrets >"$file" 2>/dev/null
    local bare="docker stack deploy --compose-file $file --resolve-image never --prune $name"
    # The rendered file runs the content-tagged image timmy deployed: both sides are no-ops.
    say "swarm: redeploy of the converged stack, timmy vs bare ($runs runs each)"
    bench swarm-redeploy --warmup 1 --runs "$runs" \
        -n "timmy deploy --detach (unchanged)" "${deploy[*]} --detach" \
        -n "docker stack deploy -c FILE (unchanged)" "$bare"
    counted swarm-deploy deploy prod --secrets env --detach >/dev/null
    cat >"$work/bin/stack-rm" <<EOS
#!/usr/bin/env bash
docker stack rm $name >/dev/null 2>&1
while [ -n "\$(docker ps -aq --filter label=com.docker.stack.namespace=$name)\$(docker network ls -q --filter label=com.docker.stack.namespace=$name)" ]; do sleep 0.2; done
EOS
    cat >"$work/bin/bare-converge" <<EOS
#!/usr/bin/env bash
$bare >/dev/null 2>&1 || exit 1
until [ -n "\$(docker service ls -q --filter label=com.docker.stack.namespace=$name)" ] &&
    ! docker service ls --filter label=com.docker.stack.namespace=$name --format '{{.Replicas}}' | awk -F/ '\$1 != \$2 { bad = 1 } END { exit !bad }'; do
    sleep 0.2
done
EOS
    chmod +x "$work/bin/stack-rm" "$work/bin/bare-converge"
    say "swarm: time to converge from nothing ($runs runs each, stack removed before every run)"
    bench swarm-converge --runs "$runs" --prepare "$work/bin/stack-rm" \
        -n "timmy deploy (to all healthy)" "${deploy[*]}" \
        -n "docker stack deploy + poll service ls until n/n" "$work/bin/bare-converge"
    "$work/bin/stack-rm"
    {
        printf '### Swarm on Engine %s\n\n' "$(docker version --format '{{.Server.Version}}')"
        table swarm-redeploy "docker stack deploy -c FILE (unchanged)"
        printf '\n`timmy deploy --detach` started %s docker processes.\n\n' "$(wc -l <"$work/results/calls-swarm-deploy.log" | tr -d ' ')"
        table swarm-converge "docker stack deploy + poll service ls until n/n"
    } >&2
}

# --- a no-op up --------------------------------------------------------------------------------
# `timmy up -d` (dev) on a stack that already runs with the same configuration and current
# images: what it costs today and what each part costs alone, for a fast path that skips
# Compose only when nothing would change. Against whichever engine DOCKER_HOST points at.
noop_table() {
    local prefix=${up_cmd%% up --detach*}
    say "no-op up: the stack is started once, then timmy up -d and its parts ($noop_runs runs each)"
    "$work/bin/stack-up"
    "$bin" up -d >/dev/null 2>&1 || die "timmy up -d failed on the running stack"
    bench noop --warmup 1 --runs "$noop_runs" \
        -n "timmy up -d (nothing changed)" "$bin up -d" \
        -n "timmy up -d --build (the full up)" "$bin up -d --build" \
        -n "docker compose … up --detach --wait … --build" "$up_cmd" \
        -n "… the same without --build" "${up_cmd% --build}" \
        -n "docker compose … config --format json" "$prefix config --format json" \
        -n "docker compose … config --hash '*'" "$prefix config --hash *" \
        -n "timmy ps (the engine's socket)" "$bin ps" >&2
    timeline noop ' up( |$)' "$bin" up -d
    local engine
    engine="Engine $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})'), Compose $(docker compose version --short)"
    {
        printf '### a no-op `timmy up -d` on %s\n\n' "$engine"
        printf '%s, timmy at %s; the dev stack running, nothing changed.\n\n' \
            "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
        table noop "docker compose … up --detach --wait … --build"
        printf '\nOne `timmy up -d`, call by call:\n\n'
        cat "$work/results/timeline-noop.txt"
        printf '\n```sh\nhyperfine %s\n```\n' "$(shown "$work/results/noop.cmd")"
    } >"$work/results/noop.md"
    printf '\n' >&2
    cat "$work/results/noop.md" >&2
    if [ -n "${BENCH_NOOP_OUT:-}" ]; then
        cp "$work/results/noop.md" "$BENCH_NOOP_OUT"
    fi
}

if [ "${BENCH_ONLY:-}" = healthy ] || [ "${BENCH_ONLY:-}" = swarm ] || [ "${BENCH_ONLY:-}" = noop ]; then
    # The table helpers are defined with the results below; this mode needs only these two.
    table() { # result ref-name
        jq -r --arg ref "$2" '
          (.results[] | select(.command == $ref) | .median) as $base |
          "| command | median | mean ± σ | min … max | runs | ÷ \($ref | split(" (")[0]) |",
          "|---|---:|---:|---:|---:|---:|",
          (.results[] | "| `\(.command)` | \(.median * 1000 | round) ms | \(.mean * 1000 | round) ± \(.stddev * 1000 | round) ms | \(.min * 1000 | round) … \(.max * 1000 | round) ms | \(.times | length) | \(.median / $base | . * 1000 | round / 1000) |")
        ' "$work/results/$1.json"
    }
    shown() {
        sed -e "s#$proj#\$PROJ#g" -e "s#$work/bin/#\$BENCH/#g" -e "s#$bin#timmy#g" -e "s#$name#\$NAME#g" "$@"
    }
    if [ "$BENCH_ONLY" = swarm ]; then
        swarm_bench
    elif [ "$BENCH_ONLY" = noop ]; then
        noop_table
    else
        healthy_table
    fi
    exit 0
fi

say "up: timmy vs bare compose ($up_runs runs each, stack brought down before every run)"
bench up --runs "$up_runs" --prepare "$work/bin/stack-down" \
    -n "timmy up -d" "$bin up -d" \
    -n "docker compose … up --detach --wait" "$up_cmd"

# ps is cheap enough to time timmy right before and right after the bare command (A B A):
# drift on a shared engine then hits both sides alike. Its median is over both timmy blocks.
say "ps: timmy vs bare compose, and a docker ps label query ($((fast_runs * 2)) runs each)"
"$work/bin/stack-up"
bench ps --warmup 3 --runs $((fast_runs * 2)) \
    -n "timmy ps" "$bin ps" \
    -n "docker compose … ps --all --format json" "$ps_cmd" \
    -n "timmy ps (again)" "$bin ps" \
    -n "docker compose -p … ps" "docker compose -p $dev_name ps" \
    -n "docker ps --filter label=… (label query)" "$label_query"

say "down: timmy vs bare compose vs the old docker-stop.sh ($down_runs runs each, stack brought up before every run)"
bench down --runs "$down_runs" --prepare "$work/bin/stack-up" \
    -n "timmy down" "$bin down" \
    -n "docker compose … down" "$down_cmd" \
    -n "docker-stop.sh (down + docker ps -a | grep)" "$work/bin/docker-stop.sh"

# `timmy ps` against a docker that does nothing: its own work around the compose call.
say "in-process: --version, check on the real .env and on 10,000 lines, ps with a no-op docker"
bench local --warmup 5 --runs $((fast_runs * 2)) \
    -n "timmy --version" "$bin --version" \
    -n "timmy check (real .env, $(wc -l <"$proj/.env") lines)" "$bin check" \
    -n "timmy check (10,000-line .env)" "$bin --project-dir $big check" \
    -n "timmy ps, docker = /bin/true" "env TIMMY_DOCKER=/bin/true $bin ps" \
    -n "/bin/true (the same env)" "env TIMMY_DOCKER=/bin/true /bin/true"

check_table=$(check_figures)

say "one run each of timmy up -d, timmy down and docker-stop.sh, call by call"
"$work/bin/stack-down"
timeline up ' up( |$)' "$bin" up -d
timeline down ' down( |$)' "$bin" down
"$work/bin/stack-up"
timeline stop ' down( |$)' "$work/bin/docker-stop.sh"

crit_ran=0
if [ "${BENCH_CRITERION:-0}" = 1 ]; then
    say "criterion: cargo bench --bench check (in-process parse / resolve / check)"
    (cd "$repo" && cargo bench --quiet --bench check -- --warm-up-time 1 --measurement-time 3 --noplot) >&2
    crit_ran=1
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
others_after=$(docker ps -q | wc -l)

# Peak memory: these two start no child, so the max RSS is timmy's own.
rss_kib() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -n 1; }
rss_check=$(rss_kib "$bin" --project-dir "$big" check)
rss_version=$(rss_kib "$bin" --version)
size=$(stat -c %s "$bin")

# --- results ---------------------------------------------------------------------------------
# Median and minimum in ms of the runs named $2 (and "$2 (again)", when there is one).
ms() {
    jq -r --arg n "$2" '[.results[] | select(.command == $n or .command == "\($n) (again)") | .times[]]
        | sort | (length / 2 | floor) as $h
        | (if length % 2 == 1 then .[$h] else (.[$h - 1] + .[$h]) / 2 end) * 1000' "$work/results/$1.json"
}
min_ms() {
    jq -r --arg n "$2" '[.results[] | select(.command == $n or .command == "\($n) (again)") | .min] | min * 1000' \
        "$work/results/$1.json"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
fmt() { awk -v v="$1" 'BEGIN { printf (v >= 100 ? "%.0f" : "%.1f"), v }'; }
calls() { wc -l <"$work/results/calls-$1.log" | tr -d ' '; }
sockets() { # timmy's own connections to the engine socket, or – without strace
    if [ -f "$work/results/connect-$1.log" ]; then
        grep -c 'docker\.sock' "$work/results/connect-$1.log" || true
    else
        echo –
    fi
}

up_t=$(ms up "timmy up -d")
up_b=$(ms up "docker compose … up --detach --wait")
ps_t=$(ms ps "timmy ps")
ps_b=$(ms ps "docker compose … ps --all --format json")
label_ms=$(ms ps "docker ps --filter label=… (label query)")
down_t=$(ms down "timmy down")
down_b=$(ms down "docker compose … down")
down_old=$(ms down "docker-stop.sh (down + docker ps -a | grep)")
ver=$(ms local "timmy --version")
chk=$(ms local "timmy check (real .env, $(wc -l <"$proj/.env") lines)")
chk10k=$(ms local "timmy check (10,000-line .env)")

# The docker processes a command ran besides its main compose call, with their cost alone.
extras() { # calls-label main-call-regex
    local rest n_ps n_label n_other parts=()
    rest=$(awk -v main="$2" '!done && $0 ~ main { done = 1; next } { print }' "$work/results/calls-$1.log")
    [ -n "$rest" ] || { echo none; return; }
    n_ps=$(grep -c '^compose .* ps ' <<<"$rest" || true)
    n_label=$(grep -c '^ps ' <<<"$rest" || true)
    n_other=$(($(wc -l <<<"$rest") - n_ps - n_label))
    [ "$n_ps" -gt 0 ] && parts+=("$n_ps × \`compose ps\` $(fmt "$ps_b") ms")
    [ "$n_label" -gt 0 ] && parts+=("$n_label × \`docker ps --filter label=…\` $(fmt "$label_ms") ms")
    [ "$n_other" -gt 0 ] && parts+=("$n_other other (not timed)")
    local IFS='+'
    printf '%s = %s ms' "${parts[*]}" \
        "$(fmt "$(awk -v a="$n_ps" -v b="$n_label" -v p="$ps_b" -v l="$label_ms" 'BEGIN { print a * p + b * l }')")" |
        sed 's/+/ + /g'
}
verdict() { if "$@"; then echo met; else echo "**missed**"; fi; }
out_down=$(cat "$work/results/timeline-down.outside")
out_up=$(cat "$work/results/timeline-up.outside")
out_ps=$(awk -v a="$(ms local "timmy ps, docker = /bin/true")" -v b="$(ms local "/bin/true (the same env)")" \
    'BEGIN { printf "%.1f", a - b }')
# Ratio from structure: the bare median plus what timmy spent outside the compose call.
s_up=$(awk -v b="$up_b" -v o="$out_up" 'BEGIN { printf "%.3f", (b + o) / b }')
s_down=$(awk -v b="$down_b" -v o="$out_down" 'BEGIN { printf "%.3f", (b + o) / b }')
s_ps=$(awk -v b="$ps_b" -v o="$out_ps" 'BEGIN { printf "%.3f", (b + o) / b }')
# Medians decide; when they miss but the structure meets the target, the table says both.
verdict2() { # ratio structural-ratio limit
    if le "$1" "$3"; then
        echo met
    elif le "$2" "$3"; then
        echo "**missed** by the medians; met call by call"
    else
        echo "**missed**"
    fi
}
out_stop=$(cat "$work/results/timeline-stop.outside")
# Medians decide; when they miss but the call-by-call run shows timmy doing less around
# compose than the script, the gap is noise in compose down itself, and the table says so.
if le "$down_t" "$down_old"; then
    stop_verdict=met
elif le "$out_down" "$out_stop"; then
    stop_verdict="**missed** by the medians; met call by call"
else
    stop_verdict="**missed**"
fi
r_up=$(ratio "$up_t" "$up_b")
r_ps=$(ratio "$ps_t" "$ps_b")
r_down=$(ratio "$down_t" "$down_b")
r_old=$(ratio "$down_t" "$down_old")
m_up=$(ratio "$(min_ms up "timmy up -d")" "$(min_ms up "docker compose … up --detach --wait")")
m_down=$(ratio "$(min_ms down "timmy down")" "$(min_ms down "docker compose … down")")
m_old=$(ratio "$(min_ms down "timmy down")" "$(min_ms down "docker-stop.sh (down + docker ps -a | grep)")")
m_ps=$(ratio "$(min_ms ps "timmy ps")" "$(min_ms ps "docker compose … ps --all --format json")")
rss_mib=$(awk -v k="$rss_check" 'BEGIN { printf "%.1f", k / 1024 }')
size_mib=$(awk -v b="$size" 'BEGIN { printf "%.2f", b / 1048576 }')

printf '\nratios timmy/bare (medians, same hyperfine run):\n' >&2
printf '  up   %s  (%s ms vs %s ms; fastest runs %s)\n' "$r_up" "$(fmt "$up_t")" "$(fmt "$up_b")" "$m_up" >&2
printf '  down %s  (%s ms vs %s ms; fastest runs %s); vs docker-stop.sh %s (%s ms; fastest runs %s)\n' \
    "$r_down" "$(fmt "$down_t")" "$(fmt "$down_b")" "$m_down" "$r_old" "$(fmt "$down_old")" "$m_old" >&2
printf '  ps   %s  (%s ms vs %s ms; fastest runs %s)\n' "$r_ps" "$(fmt "$ps_t")" "$(fmt "$ps_b")" "$m_ps" >&2
printf '  check (10,000 lines) %s ms, --version %s ms, peak %s KiB, binary %s bytes\n' \
    "$(fmt "$chk10k")" "$(fmt "$ver")" "$rss_check" "$size" >&2

# Markdown table of one hyperfine run: median, mean ± σ, min … max, ratio to the row `ref`.
table() { # result ref-name
    jq -r --arg ref "$2" '
      (.results[] | select(.command == $ref) | .median) as $base |
      "| command | median | mean ± σ | min … max | runs | ÷ \($ref | split(" (")[0]) |",
      "|---|---:|---:|---:|---:|---:|",
      (.results[] | "| `\(.command | gsub("\\|"; "\\|"))` | \(.median * 1000 | . * 10 | round / 10) ms | \(.mean * 1000 | . * 10 | round / 10) ± \(.stddev * 1000 | . * 10 | round / 10) ms | \(.min * 1000 | . * 10 | round / 10) … \(.max * 1000 | . * 10 | round / 10) ms | \(.times | length) | \(.median / $base | . * 1000 | round / 1000) |")
    ' "$work/results/$1.json"
}
shown() { # the command lines with the temp paths named
    sed -e "s#$big#\$BIG#g" -e "s#$proj#\$PROJ#g" -e "s#$work/bin/#\$BENCH/#g" \
        -e "s#$bin#target/release/timmy#g" -e "s#$name#\$NAME#g" "$@"
}
call_list() { # one indented line per docker call, tabs as \t, cut at 150 characters
    sed -e 's/^/    docker /' -e 's/\t/\\t/g' "$work/results/calls-$1.log" | shown |
        awk '{ print (length($0) > 150 ? substr($0, 1, 149) "…" : $0) }'
}

criterion_section() { # only when it ran in this run: older estimates would be stale
    [ "$crit_ran" = 1 ] || return 0
    local dir=$repo/target/criterion f
    printf '\n### in-process split (Criterion, `cargo bench --bench check`)\n\n'
    printf 'Medians of `benches/check.rs` on the same generated 10,000-line text, shell lookups off.\n\n'
    printf '| bench | median |\n|---|---:|\n'
    for f in env_10k_lines/dotenv_parse env_10k_lines/dotenv_resolve \
        env_10k_lines/secrets_is_placeholder_each_value env_10k_lines/check env_real/check; do
        [ -f "$dir/$f/new/estimates.json" ] || continue
        printf '| `%s` | %s |\n' "$f" "$(jq -r '.median.point_estimate / 1000000 |
            if . >= 1 then "\(. * 100 | round / 100) ms" else "\(. * 1000 * 10 | round / 10) µs" end' \
            "$dir/$f/new/estimates.json")"
    done
    printf '\n'
}

intro_default='# Performance

What timmy costs on top of the `docker compose` commands it wraps, measured against the real
engine with `scripts/bench.sh`. The text above the marker line is hand-written and kept; the
rest is rewritten by each run.
'
intro=$intro_default
if [ -f "$out_doc" ] && grep -qxF "$marker" "$out_doc"; then
    intro=$(awk -v m="$marker" '$0 == m { exit } { print }' "$out_doc")
fi

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem_gib=$(awk '/MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
rev=$(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=
if (cd "$repo" && git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null | grep -q .); then
    dirty=", with uncommitted changes in src/"
fi

mkdir -p "$(dirname "$out_doc")"
{
    printf '%s\n\n%s\n\n' "$intro" "$marker"
    cat <<EOF
## Results of the last run

$(date -u '+%Y-%m-%d %H:%M UTC'), timmy $("$bin" --version | awk '{ print $NF }') at $rev$dirty.
Rerun with \`scripts/bench.sh\` (root the first time, to install hyperfine).

| target (issue 5) | measured | |
|---|---|---|
| \`timmy up -d\` ≤ 1.05× bare \`docker compose up --detach --wait\` | $r_up× ($(fmt "$up_t") vs $(fmt "$up_b") ms; fastest runs $m_up×); call by call $s_up× | $(verdict2 "$r_up" "$s_up" 1.05) |
| \`timmy down\` ≤ 1.05× bare \`docker compose down\` | $r_down× ($(fmt "$down_t") vs $(fmt "$down_b") ms; fastest runs $m_down×); call by call $s_down× | $(verdict2 "$r_down" "$s_down" 1.05) |
| \`timmy down\` faster than the old docker-stop.sh | $r_old× ($(fmt "$down_t") vs $(fmt "$down_old") ms; fastest runs $m_old×); outside compose $out_down vs $out_stop ms | $stop_verdict |
| \`timmy ps\` ≤ 1.05× bare \`docker compose ps\` | $r_ps× ($(fmt "$ps_t") vs $(fmt "$ps_b") ms; fastest runs $m_ps×); call by call $s_ps× | $(verdict2 "$r_ps" "$s_ps" 1.05) |
| ≤ 1 docker process beyond the compose call: \`up\` | $(calls up) in all, $(($(calls up) - 1)) beyond | $(verdict le "$(calls up)" 2) |
| … \`down\` | $(calls down) in all, $(($(calls down) - 1)) beyond | $(verdict le "$(calls down)" 2) |
| … \`ps\` | $(calls ps) in all, $(($(calls ps) - 1)) beyond | $(verdict le "$(calls ps)" 2) |
| \`timmy check\` on a 10,000-line .env < 20 ms | $(fmt "$chk10k") ms | $(verdict le "$chk10k" 20) |
| \`timmy --version\` < 5 ms | $(fmt "$ver") ms | $(verdict le "$ver" 5) |
| peak memory < 15 MiB (\`check\`, 10,000 lines) | $rss_mib MiB ($rss_check KiB; \`--version\`: $rss_version KiB) | $(verdict le "$rss_check" 15360) |
| release binary < 8 MiB | $size_mib MiB ($size bytes) | $(verdict le "$size" 8388608) |

Where the extra time goes. The medians of \`up\` and \`down\` move by tens of milliseconds
between runs (health checks every 2 s and 3 s make \`up\` wait in steps; stopping containers
varies), more than timmy adds. The last column is the low-noise view: the time a command spent
outside the compose call it wraps, in one run timed call by call (below; for \`ps\`, timmy
with \`TIMMY_DOCKER=/bin/true\` minus /bin/true); "call by call" above is the bare median plus
that time. Each extra part is also timed on its own (the ps and in-process tables): timmy's
own work is at least a process start (\`--version\`), plus \`check\` of the .env for \`up\`.

| command | − bare (medians) | its extra docker processes, timed alone | timmy's own work, timed alone | outside the wrapped compose call, one run |
|---|---:|---|---:|---:|
| \`timmy up -d\` | $(fmt "$(awk -v a="$up_t" -v b="$up_b" 'BEGIN { print a - b }')") ms | $(extras up ' up( |$)') | $(fmt "$chk") ms | $(cat "$work/results/timeline-up.outside") ms |
| \`timmy down\` | $(fmt "$(awk -v a="$down_t" -v b="$down_b" 'BEGIN { print a - b }')") ms | $(extras down ' down( |$)') | $(fmt "$ver") ms | $(cat "$work/results/timeline-down.outside") ms |
| docker-stop.sh | $(fmt "$(awk -v a="$down_old" -v b="$down_b" 'BEGIN { print a - b }')") ms | 1 × \`docker ps -a\`, bash | – | $(cat "$work/results/timeline-stop.outside") ms |
| \`timmy ps\` | $(fmt "$(awk -v a="$ps_t" -v b="$ps_b" 'BEGIN { print a - b }')") ms | $(extras ps ' ps( |$)') | $(fmt "$ver") ms | $out_ps ms (with a no-op docker) |

### up (stack brought down before every run)

$(table up "docker compose … up --detach --wait")

### down (stack brought up before every run)

$(table down "docker compose … down")

### ps (stack up)

\`timmy ps\` is timed right before and right after the bare command (A B A), so drift on the
shared engine hits both sides; the target row above uses the median over both timmy blocks.

$(table ps "docker compose … ps --all --format json")

### in-process

$(table local "timmy --version")

### \`check\` on 10,000 lines

\`check dev\` judges dev; a bare \`check\` also judges every other environment (it names those
whose verdict differs). Instructions counted by valgrind's callgrind in one run of each:
unlike the times, they do not move with the load of a shared machine.

$check_table

### one run of each, call by call

From the start of the command, measured by a shim that waits for each docker call. A query
right after \`up\` or \`down\` is slower than the same query timed alone above: the engine is
still busy with the containers.

\`timmy up -d\`:

$(shown "$work/results/timeline-up.txt")

\`timmy down\`:

$(shown "$work/results/timeline-down.txt")

\`docker-stop.sh\`:

$(shown "$work/results/timeline-stop.txt")
$(criterion_section)

### docker processes per timmy command

Counted with a \`docker\` shim first on PATH that logs its argv and execs the real docker.

| command | docker processes | beyond the compose call | timmy's own connections to the engine socket |
|---|---:|---:|---:|
| \`timmy up -d\` (stack down) | $(calls up) | $(($(calls up) - 1)) | $(sockets up) |
| \`timmy ps\` | $(calls ps) | $(($(calls ps) - 1)) | $(sockets ps) |
| \`timmy down\` (stack up) | $(calls down) | $(($(calls down) - 1)) | $(sockets down) |
| \`timmy down\` (nothing running) | $(calls down-idle) | – | $(sockets down-idle) |
| \`timmy check\` | $(calls check) | – | $(sockets check) |
| \`timmy check\` (10,000 lines) | $(calls check-10k) | – | $(sockets check-10k) |
| \`timmy --version\` | $(calls version) | – | $(sockets version) |

A socket connection is the preflight probe (is the daemon up?) or an Engine API request; each
costs well under a millisecond, a docker process 14–90 ms.

\`timmy up -d\`:

$(call_list up)

\`timmy down\`:

$(call_list down)

### machine and versions

- $(nproc) cores ($cpu), $mem_gib GiB memory, kernel $(uname -r)
- Docker Engine $(docker version --format '{{.Server.Version}}' 2>/dev/null), CLI $(docker version --format '{{.Client.Version}}' 2>/dev/null), $(docker compose version)
- $(rustc --version), $(hyperfine --version)
- noise: load average $load_before before, $load_after after; $others_before running containers on the engine before (others' included), $others_after after

### exact commands

\`\$PROJ\` is a temp copy of docker/, app/, scripts/, .env.example and .dockerignore with the .env above;
\`\$BIG\` the same with the 10,000-line .env; \`\$NAME\` the project name (\`TIMMY_PROJECT_NAME\`
for timmy); \`\$BENCH/stack-up\` and \`\$BENCH/stack-down\` run the bare up and down commands
quietly; cwd \`\$PROJ\`.

\`\`\`sh
$(for r in up ps down local; do printf 'hyperfine %s\n' "$(shown "$work/results/$r.cmd")"; done)
\`\`\`

\`\$BENCH/docker-stop.sh\`:

\`\`\`sh
$(shown "$work/bin/docker-stop.sh")
\`\`\`

Peak memory: \`/usr/bin/time -f %M target/release/timmy --project-dir \$BIG check\`.
EOF
} >"$out_doc.tmp"
mv "$out_doc.tmp" "$out_doc"
say "wrote ${out_doc#"$repo"/}"
