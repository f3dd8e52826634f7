#!/usr/bin/env bash
# The reporter's open pixel under load beside PostgreSQL doing the same INSERT with no HTTP and no Swift, in one
# run on one server: `make bench-tracking`. Runs inside scripts/with-test-db.sh (CICLO_DATABASE_URL, CICLO_PG_BIN).
# Every load is bounded in time (SECONDS each, default 10) and stays on loopback.
set -euo pipefail
ciclo=${CICLO:-.build/release/ciclo}
seconds=${SECONDS_EACH:-10}
connections=${CONNECTIONS:-16}
psql=("$CICLO_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$CICLO_DATABASE_URL")
work=$(mktemp -d /tmp/ciclo-bench-tracking.XXXXXX)
reporter_pid=""
cleanup() {
    if [ -n "$reporter_pid" ]; then kill -TERM "$reporter_pid" 2>/dev/null || true; wait "$reporter_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$ciclo" migrate >/dev/null 2>"$work/migrate.log" || { cat "$work/migrate.log"; exit 1; }
"${psql[@]}" <<'SQL'
INSERT INTO customers (external_id, email) VALUES ('bench', 'bench@example.com');
INSERT INTO campaigns (key, name, kind, channel, status) VALUES ('bench', 'Bench', 'adhoc', 'email', 'active');
INSERT INTO deliveries (job_id, idempotency_key, campaign_id, customer_id, channel, outcome, attempts, finished_at)
SELECT 0, 'bench-key', k.id, c.id, 'email', 'sent', 1, now() - interval '1 hour'
FROM customers c, campaigns k WHERE c.external_id = 'bench' AND k.key = 'bench';
SQL
customer=$("${psql[@]}" -At -c "SELECT id FROM customers WHERE external_id = 'bench'")

# An open token signed as the worker signs it: base64url(JSON claims) "." base64url(HMAC-SHA256 of the first part).
secret="bench-tracking-secret-$RANDOM$RANDOM"
token=$(SECRET="$secret" CUSTOMER="$customer" python3 - <<'PY'
import base64, hashlib, hmac, json, os
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
body = b64(json.dumps({"c": int(os.environ["CUSTOMER"]), "ch": "email", "k": "bench-key", "p": "o"},
                      sort_keys=True, separators=(",", ":")).encode())
print(body + "." + b64(hmac.new(os.environ["SECRET"].encode(), body.encode(), hashlib.sha256).digest()))
PY
)

CICLO_TOKEN_SECRET="$secret" CICLO_LOG_LEVEL=info CICLO_REPORTER_CONNECTIONS=$connections \
    "$ciclo" reporter --port 0 2>"$work/reporter.log" &
reporter_pid=$!
port=""
for _ in $(seq 1 200); do
    port=$(grep -o 'port=[0-9]*' "$work/reporter.log" | head -1 | cut -d= -f2 || true)
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || { echo "the reporter did not start:"; cat "$work/reporter.log"; exit 1; }

count() { "${psql[@]}" -At -c "SELECT count(*) FROM responses"; }
before=$(count)
wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) bench" \
    "http://127.0.0.1:$port/o/$token" >"$work/wrk.txt"
after=$(count)
http_rate=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
bad=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")
p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
# A rate is only a figure if every request was answered 2xx and stored one open: otherwise refuse to print it.
if [ -z "$requests" ] || [ "${bad:-0}" -ne 0 ] || [ $((after - before)) -ne "$requests" ]; then
    echo "the load did not do its work: ${requests:-no} requests, ${bad:-0} not 2xx, responses grew by $((after - before))" >&2
    cat "$work/wrk.txt" >&2
    exit 1
fi

# The reference: the reporter's own INSERT (TrackingStore.recordSQL with the values an open binds), straight into
# PostgreSQL through pgbench with as many connections and the same duration.
cat >"$work/open.sql" <<'SQL'
INSERT INTO responses (idempotency_key, customer_id, campaign_id, kind, channel, machine, provider, provider_event_id, data, occurred_at) SELECT 'bench-key', :customer, coalesce(NULL::int8, (SELECT d.campaign_id FROM deliveries d WHERE d.idempotency_key = 'bench-key' ORDER BY d.finished_at DESC LIMIT 1), (SELECT j.campaign_id FROM send_jobs j WHERE j.idempotency_key = 'bench-key')), 'open', 'email', false, NULL, NULL, '{"user_agent": "Mozilla/5.0 (X11; Linux x86_64) bench"}'::jsonb, now();
SQL
"$CICLO_PG_BIN/pgbench" -n -M prepared -c "$connections" -j 2 -T "$seconds" -D customer="$customer" \
    -f "$work/open.sql" "$CICLO_DATABASE_URL" >"$work/pgbench.txt" 2>&1
sql_rate=$(awk '/^tps = / {print $3; exit}' "$work/pgbench.txt")

echo "open pixel, GET /o/{token} through ciclo reporter (wrk, $connections connections, ${seconds} s):"
echo "  $http_rate requests/s, p50 $p50, p99 $p99; $requests answered, ${bad:-0} not 2xx; responses grew by $((after - before))"
echo "reference, the same INSERT through pgbench -M prepared ($connections connections, ${seconds} s): $sql_rate tps"
awk -v h="$http_rate" -v s="$sql_rate" 'BEGIN { printf "ratio: %.2f of the reference\n", h / s }'
