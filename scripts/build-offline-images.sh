#!/usr/bin/env bash
# Build local stand-ins for the stack's base images, for machines that cannot reach a
# container registry:
#   timmy-offline/node:20   the host's node + its shared libraries + busybox, user node (1000)
#   timmy-offline/redis:7   the host's redis-server/redis-cli + libraries + busybox
# Each image is `FROM scratch` with one layer: a root filesystem assembled here from host
# binaries and the libraries `ldd` lists. Point the stack at them in .env:
#   NODE_IMAGE=timmy-offline/node:20
#   REDIS_IMAGE=timmy-offline/redis:7
# Idempotent and cheap: an image whose label timmy.offline.inputs matches the hash of its
# inputs (binaries, libraries, this script) is left alone. FORCE=1 rebuilds anyway.
#
# Needs: a Docker daemon, node, redis-server, redis-cli, busybox (static) on the host
# (scripts/setup-engine.sh installs the last three).
set -euo pipefail

NODE_TAG=${TIMMY_OFFLINE_NODE_IMAGE:-timmy-offline/node:20}
REDIS_TAG=${TIMMY_OFFLINE_REDIS_IMAGE:-timmy-offline/redis:7}
LABEL=timmy.offline.inputs
SELF=$(readlink -f "${BASH_SOURCE[0]}")
PATH_IN_IMAGE=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say() { printf 'build-offline-images: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

need_bin() {
    local path
    path=$(command -v "$1" 2>/dev/null) || die "$1 not found on the host (run scripts/setup-engine.sh as root)"
    readlink -f "$path"
}

find_busybox() {
    local b
    for b in /bin/busybox /usr/bin/busybox; do
        if [ -x "$b" ] && file -L "$b" 2>/dev/null | grep -q 'statically linked'; then
            readlink -f "$b"
            return
        fi
    done
    # `file` may be missing; accept a busybox whose ldd says it is not dynamic.
    for b in /bin/busybox /usr/bin/busybox; do
        if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then
            readlink -f "$b"
            return
        fi
    done
    die "a static busybox was not found (apt-get install busybox-static)"
}

# The shared libraries (and the dynamic loader) a binary needs, one absolute path a line.
libs_of() {
    ldd "$1" | awk '
        $2 == "=>" && $3 ~ /^\// { print $3 }
        $1 ~ /^\// { print $1 }
    ' | sort -u
}

# Hash of everything that goes into an image: file contents, names, and this script.
inputs_hash() {
    {
        printf '%s\n' "$@"
        sha256sum "$@" "$SELF" | awk '{print $1}'
    } | sha256sum | awk '{print $1}'
}

image_is_current() {
    local tag=$1 hash=$2 have
    have=$(docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$tag" 2>/dev/null) || return 1
    [ "$have" = "$hash" ]
}

# Copy a file into the rootfs at the same path, resolving symlinks (so /lib/x/libc.so.6,
# a path through the /lib -> usr/lib symlink on merged-/usr hosts, lands as a real file).
put() {
    local root=$1 src=$2 dest=${3:-$2}
    mkdir -p "$root$(dirname "$dest")"
    cp -L "$src" "$root$dest"
}

# busybox as /bin/busybox plus a symlink for every applet, without shadowing real files.
put_busybox() {
    local root=$1 bb=$2 applet
    put "$root" "$bb" /bin/busybox
    chmod 755 "$root/bin/busybox"
    while read -r applet; do
        [ -n "$applet" ] || continue
        [ -e "$root/$applet" ] || [ -L "$root/$applet" ] && continue
        mkdir -p "$root/$(dirname "$applet")"
        ln -s /bin/busybox "$root/$applet"
    done < <("$bb" --list-full)
}

base_files() {
    local root=$1 user=$2 uid=$3 home=$4
    mkdir -p "$root/etc" "$root/tmp" "$root/root" "$root$home" "$root/var/tmp"
    chmod 1777 "$root/tmp" "$root/var/tmp"
    chmod 700 "$root/root"
    cat >"$root/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/bin/sh
${user}:x:${uid}:${uid}:${user}:${home}:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
    cat >"$root/etc/group" <<GROUP
root:x:0:
${user}:x:${uid}:
nogroup:x:65534:
GROUP
    printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
    # Owned by the user, as in the official images (tar --owner below keeps this).
    printf '%s\n' "$home" >"$root/.chown-list"
}

# Turn the assembled rootfs into an image: a tar with numeric owners, imported by a
# FROM-scratch Dockerfile through ADD (which keeps owners and modes).
build_image() {
    local tag=$1 hash=$2 root=$3 uid=$4 workdir=$5
    shift 5
    local ctx
    ctx=$(dirname "$root")
    local chown_list
    chown_list=$(cat "$root/.chown-list")
    rm -f "$root/.chown-list"
    (
        cd "$root"
        # Everything root-owned except the user's home.
        tar --numeric-owner --owner=0 --group=0 -cf "$ctx/rootfs.tar" \
            --exclude=".${chown_list}" .
        tar --numeric-owner --owner="$uid" --group="$uid" -rf "$ctx/rootfs.tar" ".${chown_list}"
    )
    {
        echo "FROM scratch"
        echo "ADD rootfs.tar /"
        echo "ENV PATH=${PATH_IN_IMAGE}"
        echo "LABEL ${LABEL}=\"${hash}\""
        echo "WORKDIR ${workdir}"
        printf '%s\n' "$@"
    } >"$ctx/Dockerfile"
    rm -rf "$root"
    # The classic builder needs no buildx plugin and works with any daemon version.
    DOCKER_BUILDKIT=0 docker build --quiet -t "$tag" "$ctx" >/dev/null 2>"$ctx/build.log" || {
        cat "$ctx/build.log" >&2
        die "docker build $tag failed"
    }
}

docker info >/dev/null 2>&1 || die "no Docker daemon answers (run scripts/setup-engine.sh as root)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

busybox=$(find_busybox)

# --- node ------------------------------------------------------------------------------
node=$(need_bin node)
mapfile -t node_libs < <(libs_of "$node")
node_hash=$(inputs_hash "$node" "$busybox" "${node_libs[@]}")
if [ "${FORCE:-0}" != 1 ] && image_is_current "$NODE_TAG" "$node_hash"; then
    say "$NODE_TAG is up to date ($("$node" --version))"
else
    start=$(date +%s)
    root="$work/node/rootfs"
    put "$root" "$node" /usr/local/bin/node
    for lib in "${node_libs[@]}"; do put "$root" "$lib"; done
    put_busybox "$root" "$busybox"
    ln -sf /usr/local/bin/node "$root/usr/bin/node" 2>/dev/null || true
    base_files "$root" node 1000 /home/node
    build_image "$NODE_TAG" "$node_hash" "$root" 1000 / 'CMD ["node"]'
    say "built $NODE_TAG (node $("$node" --version)) in $(($(date +%s) - start))s"
fi

# --- redis -----------------------------------------------------------------------------
redis_server=$(need_bin redis-server)
redis_cli=$(need_bin redis-cli)
mapfile -t redis_libs < <({ libs_of "$redis_server"; libs_of "$redis_cli"; } | sort -u)
redis_hash=$(inputs_hash "$redis_server" "$redis_cli" "$busybox" "${redis_libs[@]}")
if [ "${FORCE:-0}" != 1 ] && image_is_current "$REDIS_TAG" "$redis_hash"; then
    say "$REDIS_TAG is up to date ($(redis-server --version | sed -E "s/.*v=([^ ]+).*/\1/"))"
else
    start=$(date +%s)
    root="$work/redis/rootfs"
    put "$root" "$redis_server" /usr/local/bin/redis-server
    put "$root" "$redis_cli" /usr/local/bin/redis-cli
    for lib in "${redis_libs[@]}"; do put "$root" "$lib"; done
    put_busybox "$root" "$busybox"
    base_files "$root" redis 999 /data
    # Like the official image: data in /data, protected mode off (the network is private to
    # the stack), listening on all interfaces of the container.
    build_image "$REDIS_TAG" "$redis_hash" "$root" 999 /data \
        'VOLUME /data' 'EXPOSE 6379' 'CMD ["redis-server", "--protected-mode", "no"]'
    say "built $REDIS_TAG (redis $(redis-server --version | sed -E "s/.*v=([^ ]+).*/\1/")) in $(($(date +%s) - start))s"
fi
