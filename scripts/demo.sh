#!/usr/bin/env bash
# make demo: the real processes on a local PostgreSQL. Until the scheduler, the importers and the reporter land
# (see the README), the demo seeds customers, a campaign with pt/it/en templates and its sends with SQL, then runs
# two real `ciclo worker` processes that render every email into .ciclo/outbox/email/ as .eml files.
#   CICLO_DEMO_CUSTOMERS   population size (default 50000)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CICLO="$ROOT/.build/release/ciclo"
STATE="$ROOT/.ciclo"
CUSTOMERS=${CICLO_DEMO_CUSTOMERS:-50000}
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || dirname "$(command -v psql)")

step() { printf '\n== %s\n' "$*"; }

step "starting the local PostgreSQL"
BASE=$(scripts/pg.sh start "$STATE/pg" "${DB_PORT:-54329}")
# The demo gets a database of its own, made afresh on every run, so `make demo` always shows a whole run and
# never touches the `ciclo` database that `make db` serves for development.
URL="${BASE%/*}/ciclo_demo"
"$PG_BIN/psql" "$BASE" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS ciclo_demo WITH (FORCE)" -c "CREATE DATABASE ciclo_demo"
echo "database: $URL"
export CICLO_DATABASE_URL="$URL"

step "applying migrations"
"$CICLO" migrate

step "seeding $CUSTOMERS customers (pt, it, en; B2C and B2B), consent, a campaign and its sends"
"$PG_BIN/psql" "$URL" -q -v ON_ERROR_STOP=1 -v customers="$CUSTOMERS" -f examples/demo-seed.sql
"$CICLO" queue depth

mkdir -p "$STATE"
if [ ! -s "$STATE/token-secret" ]; then
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$STATE/token-secret"
fi
export CICLO_TOKEN_SECRET_FILE="$STATE/token-secret"
export CICLO_LOG_LEVEL=${CICLO_LOG_LEVEL:-warning}
rm -rf "$STATE/outbox"

step "starting two workers (file transport: .ciclo/outbox/<channel>/)"
: >"$STATE/demo.pids"
for n in 1 2; do
    "$CICLO" worker --transport file --outbox "$STATE/outbox" --concurrency 16 --batch 64 \
        2>>"$STATE/worker-$n.log" &
    echo $! >>"$STATE/demo.pids"
done
stop_workers() {
    while read -r pid; do kill -TERM "$pid" 2>/dev/null || true; done <"$STATE/demo.pids"
    while read -r pid; do wait "$pid" 2>/dev/null || true; done <"$STATE/demo.pids"
    : >"$STATE/demo.pids"
}
trap 'echo; echo "stopping the workers"; stop_workers; exit 0' INT TERM

step "draining the queue"
deadline=$((SECONDS + 600))
while :; do
    json=$("$CICLO" queue depth --json)
    due=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["due_now"] + d["totals"].get("running", 0))' "$json")
    echo "$(date +%T)  due or running: $due  (completed in the last minute: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["completed_last_minute"])' "$json"))"
    [ "$due" -eq 0 ] && break
    if [ $SECONDS -ge $deadline ]; then echo "demo: the queue did not drain within 10 minutes" >&2; break; fi
    sleep 2
done

step "what happened"
"$PG_BIN/psql" "$URL" -P pager=off -c "SELECT outcome, coalesce(reason, '') AS reason, count(*) FROM deliveries GROUP BY 1, 2 ORDER BY 3 DESC"
echo "rendered emails: $( (find "$STATE/outbox/email" -name '*.eml' 2>/dev/null || true) | wc -l) files in .ciclo/outbox/email/"
sample=$(find "$STATE/outbox/email" -name '*.eml' -print -quit 2>/dev/null || true)
if [ -n "$sample" ]; then echo "a sample ($sample):"; sed -n 1,20p "$sample"; fi
"$CICLO" queue depth

if [ -t 0 ]; then
    step "the workers keep running; Ctrl-C (or make demo-stop) stops them"
    while :; do sleep 3600; done
fi
stop_workers
echo "demo finished"
