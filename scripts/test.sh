#!/usr/bin/env bash
# Install what the tests need, then run the linters and the tests.
#   scripts/test.sh          every test (what CI runs), with the real servers they start
#   scripts/test.sh --fast   the edit-test loop, under a minute: no PostgreSQL, Redis, RabbitMQ, Celery,
#                            Chromium, container image, and no test marked slow (the markers are in pyproject.toml)
# Other arguments go to pytest: scripts/test.sh --fast -k palette
set -euo pipefail
cd "$(dirname "$0")/.."
lane=()
if [ "${1:-}" = "--fast" ]; then
    shift
    lane=(-m "not postgres and not cluster and not browser and not image and not slow")
    # Its tests use neither schemathesis nor anyio: not loading their plugins, nor test_fuzz.py (which builds
    # the API's schema when imported), saves seconds of start-up.
    lane+=(-p no:schemathesis -p no:anyio --ignore=tests/api/test_fuzz.py)
fi
scripts/install.sh test
# The full lane's tests start real servers: Debian's Chromium (browser tests), redis-server and RabbitMQ
# (Celery brokers), PostgreSQL (initdb/pg_ctl for throwaway clusters). Install what is missing.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ] || missing+=(rabbitmq-server)
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
# docs/operations.md's commands are run by a test
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# workers whose clocks disagree (tests/tasks/test_holes.py)
command -v faketime >/dev/null 2>&1 || missing+=(faketime)
# the container image, built and run (tests/image/, scripts/image.sh)
for tool in podman buildah debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#lane[@]} -eq 0 ] && [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts the services it installs; the tests run their own on free ports.
    for service in redis-server rabbitmq-server postgresql; do
        service "$service" stop >/dev/null 2>&1 || true
    done
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy  # src/, as pyproject.toml's [tool.mypy] says (strict for engine/ and tasks/)
exec .venv/bin/python -m pytest ${lane[@]+"${lane[@]}"} "$@"
