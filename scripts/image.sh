#!/usr/bin/env bash
# Build Pixeletica's container image from the Dockerfile, and check it by running it (README, "Docker Compose").
#   scripts/image.sh build [podman build options, e.g. --no-cache]
#                            build the image with podman as `docker build .` would (tag: $PIXELETICA_IMAGE,
#                            default localhost/pixeletica:test)
#   scripts/image.sh check   build it, then run its API, Celery worker and monitor with the commands and
#                            environment of docker-compose.yml against a real PostgreSQL and Redis, convert over
#                            HTTP, kill the worker mid-task and see the task recovered (tests/image/)
# Needs root (podman's storage, network namespaces). Without a Docker engine, podman builds and buildah runs
# the image with chroot isolation. Where the Dockerfile's base (ARG BASE, python:3.11-slim) cannot be
# pulled, a stand-in of it is made from Debian's packages (debootstrap: bookworm's Python 3.11, as the real
# image's Debian) and given its name. The build is lent the host's network and certificates (for pip
# behind a proxy with a certificate of its own); nothing else differs from `docker build .`.
set -euo pipefail
cd "$(dirname "$0")/.."
image="${PIXELETICA_IMAGE:-localhost/pixeletica:test}"
# The Dockerfile's base, named as podman stores it (docker.io/library/ before a Docker Hub short name).
base=$(sed -n 's/^ARG BASE=//p' Dockerfile)
[[ "$base" == */* ]] || base="docker.io/library/$base"
standin=""

usage() {
    echo "usage: scripts/image.sh build [podman build options] | check [pytest arguments]" >&2
    exit "${1:-2}"
}

tools() {
    local missing=()
    command -v podman >/dev/null 2>&1 || missing+=(podman)
    command -v buildah >/dev/null 2>&1 || missing+=(buildah)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    if [ ${#missing[@]} -gt 0 ]; then
        if ! command -v apt-get >/dev/null 2>&1; then
            echo "error: the image is built with ${missing[*]}: install them (Debian: apt-get install ${missing[*]})" >&2
            exit 2
        fi
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

base_image() {
    podman image exists "$base" && return 0
    if timeout 60 podman pull -q "$base" >/dev/null 2>&1; then
        return 0
    fi
    echo "$base cannot be pulled here: making a stand-in from Debian bookworm's packages" >&2
    standin=$(mktemp -d /tmp/pixeletica-base.XXXXXX)
    trap 'rm -rf "$standin"' EXIT
    local root="$standin"
    if ! debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$root/fs" http://deb.debian.org/debian >"$root/debootstrap.log" 2>&1; then
        tail -20 "$root/debootstrap.log" >&2
        echo "error: debootstrap could not make a stand-in of $base (its log is above)" >&2
        exit 1
    fi
    # As the real image: python on PATH in /usr/local/bin, no package lists, caches, manuals or translations.
    ln -sf /usr/bin/python3 "$root/fs/usr/local/bin/python"
    rm -rf "$root"/fs/var/cache/apt/archives/*.deb "$root"/fs/var/lib/apt/lists/* \
        "$root"/fs/usr/share/doc/* "$root"/fs/usr/share/man/* "$root"/fs/usr/share/locale/* "$root"/fs/usr/share/info/*
    tar -C "$root/fs" -c . | podman import -q - "$base" >/dev/null
    rm -rf "$standin"
}

build() {
    tools
    base_image
    local source revision
    # The clone's remote without any user name or token in it: labels are public.
    source=$(git remote get-url origin 2>/dev/null | sed -E 's#^([a-z+]+://)[^/@]*@#\1#' || true)
    source=${source:-"file://$PWD"}
    revision=$(git rev-parse HEAD 2>/dev/null || echo "")
    # --format docker keeps the HEALTHCHECK (the OCI format has none); the host's certificates are lent to the
    # build's pip, for machines whose HTTPS goes through a proxy of their own.
    podman build --isolation=chroot --network host --pull=never --format docker \
        -v /etc/ssl/certs:/etc/ssl/certs:ro \
        --build-arg SOURCE="$source" --build-arg REVISION="$revision" \
        -t "$image" "$@" .
}

[ $# -ge 1 ] || usage
case "$1" in -h | --help) usage 0 ;; esac
if [ "$(id -u)" != 0 ]; then
    echo "error: scripts/image.sh needs root (podman's storage, the tests' network namespaces): run it as root" >&2
    exit 2
fi
case "$1" in
    build)
        build "${@:2}"
        ;;
    check)
        build
        scripts/install.sh test
        PIXELETICA_IMAGE="$image" exec .venv/bin/python -m pytest -p no:cacheprovider tests/image "${@:2}"
        ;;
    *)
        usage
        ;;
esac
