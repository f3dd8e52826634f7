#!/usr/bin/env bash
# `make bench-partitions`: what monthly partitioning costs, beside a reference measured in the same run.
#   1. Migration 0011 on ROWS rows per raw table (spread over the last 24 months), beside copying the same rows into
#      unpartitioned tables with the same indexes (INSERT ... SELECT, rolled back).
#   2. The statements that read events by id or time (the scheduler's cursors, trigger passes, lifecycle windows,
#      segment windows, the importer's source-id probe), planned and run in one warm session, against the
#      partitioned events and an unpartitioned copy with the same indexes: median of 5 runs after one warm-up.
# Runs under scripts/with-test-db.sh (CICLO_DATABASE_URL). ROWS is bounded to 1..20,000,000; loopback only.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
rows=${ROWS:-1000000}
if ! [[ "$rows" =~ ^[0-9]+$ ]] || [ "$rows" -lt 1 ] || [ "$rows" -gt 20000000 ]; then
    echo "bench-partitions: ROWS must be a whole number from 1 to 20000000; it is '$rows'" >&2; exit 64
fi
ciclo=${CICLO:-$here/.build/debug/ciclo}
url=${CICLO_DATABASE_URL:?run under scripts/with-test-db.sh}
psql=(psql -X -q -v ON_ERROR_STOP=1 "$url")

before=$(mktemp -d)
trap 'rm -rf "$before"' EXIT
for f in "$here"/schema/*.sql; do
    v=$(basename "$f" | cut -c1-4)
    if [ "$((10#$v))" -lt 11 ]; then cp "$f" "$before/"; fi
done
CICLO_SCHEMA_DIR=$before CICLO_LOG_LEVEL=warning "$ciclo" migrate >/dev/null

echo "loading $rows rows into each of events, deliveries and responses (24 months back)..."
"${psql[@]}" <<SQL
INSERT INTO customers (external_id) SELECT 'c' || g FROM generate_series(1, 10000) g;
INSERT INTO events (customer_id, kind, occurred_at, received_at, source_id)
SELECT 1 + g % 10000, (ARRAY['login', 'purchase', 'deposit'])[1 + g % 3], t, t, 's' || g
FROM generate_series(1, $rows) g, LATERAL (SELECT now() - (($rows - g) * interval '730 days' / $rows) AS t) x;
INSERT INTO deliveries (job_id, idempotency_key, customer_id, channel, outcome, finished_at)
SELECT g, 'k' || g, 1 + g % 10000, 'email', 'sent', now() - (($rows - g) * interval '730 days' / $rows)
FROM generate_series(1, $rows) g;
INSERT INTO responses (idempotency_key, customer_id, kind, occurred_at)
SELECT 'k' || g, 1 + g % 10000, 'open', now() - (($rows - g) * interval '730 days' / $rows)
FROM generate_series(1, $rows) g;
VACUUM ANALYZE;
CHECKPOINT;
SQL

seconds() { python3 -c 'import sys,time; print(f"{time.time():.3f}")'; }
t0=$(seconds)
"${psql[@]}" <<'SQL'
BEGIN;
CREATE TABLE ref_deliveries (LIKE deliveries INCLUDING ALL);
INSERT INTO ref_deliveries OVERRIDING SYSTEM VALUE SELECT * FROM deliveries;
CREATE TABLE ref_responses (LIKE responses INCLUDING ALL);
INSERT INTO ref_responses OVERRIDING SYSTEM VALUE SELECT * FROM responses;
CREATE TABLE ref_events (LIKE events INCLUDING ALL);
INSERT INTO ref_events OVERRIDING SYSTEM VALUE SELECT * FROM events;
ROLLBACK;
SQL
t1=$(seconds)
CICLO_SCHEMA_DIR=$here/schema CICLO_LOG_LEVEL=warning "$ciclo" migrate >/dev/null
t2=$(seconds)
# The rates assume the migration moved every row: refuse to print them unless each table still holds ROWS.
for table in events deliveries responses; do
    n=$("${psql[@]}" -t -A -c "SELECT count(*) FROM $table")
    if [ "$n" != "$rows" ]; then
        echo "bench-partitions: $table holds $n rows after the migration, not $rows" >&2; exit 1
    fi
done
python3 - "$t0" "$t1" "$t2" "$rows" <<'PY'
import sys
t0, t1, t2, rows = map(float, sys.argv[1:])
ref, mig = t1 - t0, t2 - t1
print(f"\n{'3 x %d rows' % rows:<34}{'seconds':>10}{'rows/s':>14}")
print("(reference: the rows copied into unpartitioned tables that already have the same indexes; the migration")
print(" builds its indexes after the copy, which is why it can be the faster of the two)")
print(f"{'reference: INSERT ... SELECT copy':<34}{ref:>10.2f}{3 * rows / ref:>14,.0f}")
print(f"{'ciclo migrate (0011 + 0012)':<34}{mig:>10.2f}{3 * rows / mig:>14,.0f}")
print(f"ratio migrate / reference: {mig / ref:.2f}")
PY

"${psql[@]}" -c "CREATE TABLE events_flat (LIKE events INCLUDING ALL)" \
    -c "INSERT INTO events_flat OVERRIDING SYSTEM VALUE SELECT * FROM events" -c "VACUUM ANALYZE events_flat"
partitions=$("${psql[@]}" -t -A -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass")
echo
echo "events: $partitions partitions (months and DEFAULT); reference: events_flat, unpartitioned, same indexes"
python3 - "$url" "$rows" <<'PY'
import json, subprocess, sys
url, rows = sys.argv[1], int(sys.argv[2])
hi = rows  # ids run 1..rows; the cursor statements read the newest 5,000
statements = [
    ("cursor: max(id) received before", "SELECT max(id) FROM TBL WHERE received_at < now() - interval '1 minute'"),
    ("cursor: max(id)", "SELECT max(id) FROM TBL"),
    ("cursor: advance over 5k ids", f"SELECT id, received_at, lag(id) OVER (ORDER BY id) FROM TBL WHERE id > {hi - 5000} AND id <= {hi}"),
    ("trigger pass: 5k ids of a kind", f"SELECT e.id FROM TBL e JOIN customers c ON c.id = e.customer_id WHERE e.kind = 'login' AND e.id > {hi - 5000} AND e.id <= {hi}"),
    ("lifecycle: the last hour", "SELECT customer_id, max(occurred_at) FROM (SELECT customer_id, occurred_at FROM TBL WHERE received_at > now() - interval '1 hour' AND occurred_at <= now() UNION ALL SELECT customer_id, occurred_at FROM TBL WHERE occurred_at > now() - interval '1 hour' AND occurred_at <= now()) e GROUP BY 1"),
    ("segment: a customer's 30 days", "SELECT count(*) FROM TBL WHERE customer_id = 77 AND kind = 'deposit' AND occurred_at > now() - interval '30 days' AND occurred_at <= now()"),
    ("import: source id probe", "SELECT 1 FROM TBL WHERE source_id = 's12345'"),
]
script = ["SET jit = off;"]
for _, sql in statements:
    for table in ("events", "events_flat"):
        script += ["EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON) " + sql.replace("TBL", table) + ";"] * 6
out = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", url], input="\n".join(script),
                     capture_output=True, text=True, check=True).stdout
decoder, docs, text = json.JSONDecoder(), [], out.strip()
while text:
    doc, end = decoder.raw_decode(text)
    docs.append(doc[0]); text = text[end:].strip()
print(f"{'statement':<34}{'partitioned ms':>20}{'unpartitioned ms':>20}{'ratio':>8}")
print(f"{'':<34}{'(plan + run)':>20}{'(plan + run)':>20}")
k = 0
for name, _ in statements:
    medians = []
    for _table in range(2):
        runs = sorted(docs[k + 1:k + 6], key=lambda d: d["Planning Time"] + d["Execution Time"]); k += 6
        medians.append(runs[2])
    p, f = medians
    total = lambda d: d["Planning Time"] + d["Execution Time"]
    print(f"{name:<34}{p['Planning Time']:>9.2f} + {p['Execution Time']:<8.2f}{f['Planning Time']:>9.2f} + {f['Execution Time']:<8.2f}{total(p) / total(f):>8.1f}")
PY
