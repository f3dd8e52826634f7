#!/usr/bin/env bash
# A PostgreSQL cluster that accepts TCP connections only over TLS, with a certificate from a CA made on the spot:
# what `sslmode=verify-full` is tested against (Tests/CicloDeployTests/TLSTests.swift, deploy/README.md).
#
#   PG_TLS_PASSWORD=... scripts/pg-tls.sh start DIR   print the port; DIR/tls/ca.crt is the CA to trust
#   scripts/pg-tls.sh stop DIR                         stop the cluster (DIR is left for the caller to remove)
#
# DIR/tls holds ca.crt (the CA that signed the server's certificate, for localhost and 127.0.0.1), wrong-ca.crt (an
# unrelated CA, which verification must refuse) and the server's key and certificate. The cluster's pg_hba.conf
# rejects TCP without TLS and asks for a SCRAM password over TLS; the login role ciclo_app (CREATEROLE, owner of the
# database ciclo) gets the password PG_TLS_PASSWORD, read from the environment so that it never appears in argv.
# Unix-socket connections (the script's own set-up) are trusted.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}
dir=$(realpath -m "${2:?usage: pg-tls.sh start|stop DIR}")

case "$cmd" in
start)
    : "${PG_TLS_PASSWORD:?set PG_TLS_PASSWORD to the password ciclo_app gets}"
    tls="$dir/tls"
    mkdir -p "$tls"
    # Keys are 2048-bit RSA, valid two days: a throwaway cluster for one test run.
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/ca.key" -out "$tls/ca.crt" -days 2 \
        -subj "/CN=ciclo test CA" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/wrong-ca.key" -out "$tls/wrong-ca.crt" -days 2 \
        -subj "/CN=some other CA" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$tls/server.key" -out "$tls/server.csr" -subj "/CN=localhost" \
        2>/dev/null
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$tls/server.ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
        -out "$tls/server.crt" -days 2 -extfile "$tls/server.ext" 2>/dev/null
    chmod 644 "$tls"/*.crt

    # The server outlives this script and keeps every descriptor it inherits. Foundation's Process (the tests) knows
    # its child has exited when a socket it gave the child closes, so the server must not inherit that socket: it is
    # started from a subshell that closes everything but stdin, stdout and stderr. pg.sh picks the port (DIR/port).
    (
        for path in /proc/"$BASHPID"/fd/*; do
            fd=${path##*/}
            if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
        done
        "$here/pg.sh" start "$dir" free --fast >/dev/null
    )
    port=$(cat "$dir/port")
    data="$dir/data"
    sock=$(if [ ${#dir} -le 80 ]; then echo "$dir"; else echo "/tmp/ciclo-pg-$(echo "$dir" | md5sum | cut -c1-12)"; fi)
    # The server reads its key only if the server's user owns it and nobody else can read it.
    cp "$tls/server.crt" "$tls/server.key" "$data/"
    chmod 600 "$data/server.key"
    if [ "$(id -u)" = 0 ]; then chown postgres "$data/server.crt" "$data/server.key"; fi
    cat >"$data/pg_hba.conf" <<'HBA'
local     all all                trust
hostnossl all all all            reject
hostssl   all all 127.0.0.1/32   scram-sha-256
hostssl   all all ::1/128        scram-sha-256
HBA
    psql -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d postgres >/dev/null <<SQL
ALTER SYSTEM SET ssl = on;
ALTER SYSTEM SET ssl_cert_file = 'server.crt';
ALTER SYSTEM SET ssl_key_file = 'server.key';
ALTER SYSTEM SET password_encryption = 'scram-sha-256';
SELECT pg_reload_conf();
CREATE ROLE ciclo_app LOGIN CREATEROLE PASSWORD \$pw\$${PG_TLS_PASSWORD}\$pw\$;
ALTER DATABASE ciclo OWNER TO ciclo_app;
SQL
    # A reload that cannot load the key leaves ssl off and says why only in the server log.
    for _ in $(seq 50); do
        on=$(psql -X -qAt -h "$sock" -p "$port" -U postgres -d postgres -c "SHOW ssl")
        [ "$on" = on ] && break
        sleep 0.1
    done
    if [ "$on" != on ]; then
        echo "pg-tls.sh: the server did not turn TLS on; its log:" >&2
        tail -20 "$data/server.log" >&2
        exit 1
    fi
    echo "$port"
    ;;
stop)
    "$here/pg.sh" stop "$dir"
    ;;
*)
    echo "usage: pg-tls.sh start|stop DIR" >&2
    exit 2
    ;;
esac
