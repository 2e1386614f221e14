#!/usr/bin/env bash
# The scale-out topology as processes on this machine: Redis, a throwaway PostgreSQL cluster, the API,
# Celery workers and the monitor on loopback ports. Ctrl-C (or `pixeletica cluster down`) stops them all.
#   scripts/cluster.sh --workers 2 --port 8000
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "error: ${missing[*]} missing; install them (Debian: apt-get install ${missing[*]})" >&2
        exit 2
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts the services it installs; the cluster runs its own on free ports.
    for service in redis-server postgresql; do
        service "$service" stop >/dev/null 2>&1 || true
    done
fi
exec "$here/scripts/run.sh" cluster up "$@"
