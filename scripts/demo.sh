#!/usr/bin/env bash
# make demo: the whole system on a local PostgreSQL, as separate processes, with local providers.
#   - a fresh `ciclo_demo` database, migrated, with the lifecycle configuration of examples/ciclo.yaml;
#   - a generated population (scripts/demo_population.py) loaded by the real importers;
#   - the campaigns of examples/campaigns/ (one of each kind) applied and resumed;
#   - a sink (scripts/demo_sink.py): SMTP for email, HTTP for the SMS, push and webhook providers, storing what
#     they receive under .ciclo/outbox/<channel>/ (email as .eml);
#   - the scheduler, two workers and the reporter (tracking, events, dashboard, the fold);
#   - customers acting (scripts/demo_responses.py): deposits, game results, demo requests, then opens, clicks,
#     unsubscribes and purchases through the reporter's endpoints; then the KPI report.
# On a terminal everything keeps running until Ctrl-C (or `make demo-stop`); otherwise the demo stops what it started
# and exits 0 after the report.
#   CICLO_DEMO_CUSTOMERS   population size (default 50000)
#   CICLO_DEMO_PORT        the reporter's port (default 8080); DB_PORT the PostgreSQL port (default 54329);
#                          CICLO_DEMO_SMTP_PORT and CICLO_DEMO_HTTP_PORT the sink's (2525 and 2580)
#   CICLO_DEMO_STATE       where the cluster, the outbox and the logs go (default .ciclo)
#   CICLO_BIN              the ciclo executable (default .build/release/ciclo; the tests run the debug one)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CICLO=${CICLO_BIN:-$ROOT/.build/release/ciclo}
STATE=${CICLO_DEMO_STATE:-$ROOT/.ciclo}
WORK="$STATE/demo"
OUTBOX="$STATE/outbox"
CUSTOMERS=${CICLO_DEMO_CUSTOMERS:-50000}
PORT=${CICLO_DEMO_PORT:-8080}
SMTP_PORT=${CICLO_DEMO_SMTP_PORT:-2525}
HTTP_PORT=${CICLO_DEMO_HTTP_PORT:-2580}
REPORTER="http://127.0.0.1:$PORT"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || dirname "$(command -v psql)")
STARTED=$SECONDS
STEP=0

step() { STEP=$((STEP + 1)); printf '\n== %d. %s  (%d s)\n' "$STEP" "$*" $((SECONDS - STARTED)); }
pids="$STATE/demo.pids"
mkdir -p "$STATE" "$WORK"
: >"$pids"

stop_all() {
    trap - INT TERM EXIT
    echo
    echo "== stopping the demo's processes and PostgreSQL"
    while read -r pid; do kill -TERM "$pid" 2>/dev/null || true; done <"$pids"
    # Workers finish what they hold within their shutdown timeout (20 s); whatever is still up after 30 s is killed,
    # and its leases bring its sends back on the next run.
    while read -r pid; do
        for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done <"$pids"
    : >"$pids"
    scripts/pg.sh stop "$STATE/pg" >/dev/null 2>&1 || true
}
trap 'stop_all; exit 0' INT TERM
trap 'status=$?; if [ $status -ne 0 ]; then echo "demo: failed (status $status); logs in $WORK" >&2; stop_all; fi' EXIT

# Starts a background process, logging to $WORK/NAME.log, and remembers its pid for stop_all and make demo-stop.
start() {
    local name=$1
    shift
    "$@" >>"$WORK/$name.log" 2>&1 &
    echo $! >>"$pids"
}

wait_for() {  # wait_for WHAT SECONDS COMMAND...: until the command succeeds, or fail naming WHAT
    local what=$1 limit=$2
    shift 2
    for _ in $(seq 1 $((limit * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "demo: $what did not come up within $limit s; see $WORK" >&2
    return 1
}

step "starting the local PostgreSQL"
BASE=$(scripts/pg.sh start "$STATE/pg" "${DB_PORT:-54329}")
# A database of its own, made afresh on every run: `make demo` always shows a whole run and never touches the
# `ciclo` database that `make db` serves for development.
URL="${BASE%/*}/ciclo_demo"
"$PG_BIN/psql" "$BASE" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS ciclo_demo WITH (FORCE)" \
    -c "CREATE DATABASE ciclo_demo"
echo "database: $URL"
export CICLO_DATABASE_URL="$URL"
export CICLO_LOG_LEVEL=${CICLO_LOG_LEVEL:-notice}

step "applying migrations"
"$CICLO" migrate

step "storing the lifecycle configuration (examples/ciclo.yaml: stages, transitions, scoring, caps, quiet hours)"
"$CICLO" config apply examples/ciclo.yaml

step "generating $CUSTOMERS customers (B2C and B2B; pt, it, en; 13 time zones) and three weeks of their events"
python3 scripts/demo_population.py "$WORK" --customers "$CUSTOMERS"

step "importing them with ciclo customers import and ciclo events import"
"$CICLO" customers import "$WORK/customers.csv"
"$CICLO" events import "$WORK/events.jsonl"

step "applying the campaigns of examples/campaigns/ (one of each kind) and resuming them"
"$CICLO" campaign apply examples/campaigns/*.yaml
for file in examples/campaigns/*.yaml; do
    "$CICLO" campaign resume "$(sed -n 's/^key: *//p' "$file")"
done
"$CICLO" campaign list

step "starting the providers' sink, the reporter, two workers and the scheduler"
# Secrets go through files, as in production (never argv).
for secret in token-secret events-token webhook-secret; do
    [ -s "$STATE/$secret" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$STATE/$secret"
done
export CICLO_TOKEN_SECRET_FILE="$STATE/token-secret"
export CICLO_EVENTS_TOKEN_FILE="$STATE/events-token"
export CICLO_WEBHOOK_SECRET_FILE="$STATE/webhook-secret"
export CICLO_PUBLIC_URL="$REPORTER"
export CICLO_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" CICLO_SMTP_STARTTLS=off
export CICLO_SMS_URL="http://127.0.0.1:$HTTP_PORT/sms" CICLO_SMS_SENDER=Ciclo
export CICLO_PUSH_URL="http://127.0.0.1:$HTTP_PORT/push"
export CICLO_WEBHOOK_URL="http://127.0.0.1:$HTTP_PORT/webhook"
export CICLO_EMAIL_FROM="Ciclo demo <noreply@demo.example>" CICLO_UNSUBSCRIBE_MAILBOX="unsubscribe@demo.example"
# The simulated recipients click seconds after delivery; real people take longer than the 10 s scanner rule.
export CICLO_SCANNER_CLICK_SECONDS=1
rm -rf "$OUTBOX" "$WORK"/*.log
start sink python3 scripts/demo_sink.py "$OUTBOX" --smtp-port "$SMTP_PORT" --http-port "$HTTP_PORT"
start reporter "$CICLO" reporter --port "$PORT"
start worker-1 "$CICLO" worker --concurrency 32 --batch 64
start worker-2 "$CICLO" worker --concurrency 32 --batch 64
start scheduler "$CICLO" scheduler --tick 2
wait_for "the providers' sink" 60 grep -q "demo sink:" "$WORK/sink.log"
wait_for "the reporter" 60 curl -fsS "$REPORTER/healthz"
echo "sink: SMTP 127.0.0.1:$SMTP_PORT, HTTP 127.0.0.1:$HTTP_PORT -> $OUTBOX/<channel>/"
echo "reporter: $REPORTER (tracking, unsubscribe, POST /events, dashboard, /metrics); logs in $WORK/"

step "running the win-back cycle now (out of its 09:00 schedule) and launching the ad hoc flash sale"
"$CICLO" campaign run winback-cycle
"$CICLO" campaign launch flash-sale

step "previewing what a worker would send one customer: the deposit SMS (ciclo preview sends nothing)"
previewed=$("$PG_BIN/psql" "$URL" -X -At -c "
    SELECT c.external_id FROM customers c JOIN consents s ON s.customer_id = c.id
    WHERE s.channel = 'sms' AND s.granted AND c.phone IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.customer_id = c.id AND x.channel = 'sms')
    ORDER BY c.id LIMIT 1")
if [ -n "$previewed" ]; then
    "$CICLO" preview --campaign deposit-thanks --customer "$previewed" || echo "(a worker would not send it: see above)"
else
    echo "no customer with a phone and SMS consent to preview"
fi

step "customers act: deposits, big wins and losses, B2B demo requests, through POST /events"
CICLO_EVENTS_TOKEN=$(cat "$STATE/events-token") python3 scripts/demo_responses.py events --reporter "$REPORTER" \
    --database "$URL"
events_at=$SECONDS

step "delivering: the queue while the workers drain it (triggers wait out their delays, quiet hours defer)"
deadline=$((SECONDS + 300))
while :; do
    json=$("$CICLO" queue depth --json)
    read -r due running later done_minute < <(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print(d["due_now"], d["totals"].get("running", 0), d["scheduled_later"], d["completed_last_minute"])' "$json")
    printf '%s  due now %6d  running %4d  later %6d  finished in the last minute %6d\n' \
        "$(date +%T)" "$due" "$running" "$later" "$done_minute"
    # Done when nothing is due or running and the triggers' one-minute delay has passed with a tick to spare.
    if [ "$due" -eq 0 ] && [ "$running" -eq 0 ] && [ $((SECONDS - events_at)) -ge 75 ]; then break; fi
    if [ $SECONDS -ge $deadline ]; then echo "demo: the queue did not drain within 5 minutes" >&2; break; fi
    sleep 3
done
echo "later: sends deferred to the end of quiet hours in the customers' own time zones, or delayed triggers"

step "what was decided and delivered"
"$PG_BIN/psql" "$URL" -X -q -P pager=off -c "
    SELECT k.key AS campaign, d.outcome AS decision, count(*)
    FROM send_decisions d JOIN campaigns k ON k.id = d.campaign_id GROUP BY 1, 2 ORDER BY 1, 3 DESC" -c "
    SELECT channel, outcome, coalesce(reason, '') AS reason, count(*) FROM deliveries GROUP BY 1, 2, 3 ORDER BY 1, 4 DESC"
for channel in email sms push webhook; do
    printf '%-8s %6d messages in %s\n' "$channel" "$(find "$OUTBOX/$channel" -type f ! -name '*.tmp' | wc -l)" \
        "${OUTBOX#"$ROOT/"}/$channel/"
done
sample=$(find "$OUTBOX/email" -name '*.eml' -print -quit)
if [ -n "$sample" ]; then
    echo "the headers of one email ($sample):"
    sed -n '1,/^\r\{0,1\}$/p' "$sample" | head -20
fi

step "recipients respond: opens (some by a privacy proxy), clicks, unsubscribes, purchases (and the holdouts')"
CICLO_EVENTS_TOKEN=$(cat "$STATE/events-token") python3 scripts/demo_responses.py outcomes --reporter "$REPORTER" \
    --database "$URL" --outbox "$OUTBOX"

step "the KPI report (ciclo aggregate --once folds what is committed; the reporter folds on its own too)"
"$CICLO" aggregate --once --wait 120
"$CICLO" report
"$CICLO" report --verify
holdout=$("$PG_BIN/psql" "$URL" -X -At -c "
    SELECT c.external_id FROM send_decisions d JOIN customers c ON c.id = d.customer_id
    JOIN campaigns k ON k.id = d.campaign_id WHERE k.key = 'winback-cycle' AND d.outcome = 'holdout' LIMIT 1")
if [ -n "$holdout" ]; then
    echo
    echo "why did $holdout not get the win-back email?  ciclo why --customer $holdout --campaign winback-cycle"
    "$CICLO" why --customer "$holdout" --campaign winback-cycle
fi

echo
echo "dashboard: $REPORTER/   (campaign pages: $REPORTER/campaigns/winback-cycle, stages: $REPORTER/stages/at_risk)"
echo "messages:  $OUTBOX/<channel>/   logs: $WORK/   database: psql $URL"
echo "demo took $((SECONDS - STARTED)) s"
if [ -t 0 ]; then
    echo "everything keeps running; Ctrl-C (or make demo-stop) stops it"
    while :; do sleep 3600; done
fi
stop_all
echo "demo finished"
