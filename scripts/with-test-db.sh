#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster in a temporary directory, and removes the cluster
# whatever the command's outcome. The command sees the URL in CICLO_TEST_DATABASE_URL (and CICLO_DATABASE_URL),
# the server's binaries in CICLO_PG_BIN, and keeps its own exit status.
#   scripts/with-test-db.sh [--durable] COMMAND...
# --durable keeps fsync on (benchmarks); tests run with fsync off.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=--fast
if [ "${1:-}" = "--durable" ]; then mode=""; shift; fi

dir=$(mktemp -d /tmp/ciclo-test.XXXXXX)
chmod 755 "$dir"
cleanup() {
    "$here/pg.sh" stop "$dir" || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

url=$("$here/pg.sh" start "$dir" free $mode)
echo "test database: $url" >&2
export CICLO_TEST_DATABASE_URL="$url" CICLO_DATABASE_URL="$url"
CICLO_PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || dirname "$(command -v initdb)")
export CICLO_PG_BIN CICLO_PG_DATA="$dir/data"
status=0
"$@" || status=$?
exit $status
