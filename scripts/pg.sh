#!/usr/bin/env bash
# A local PostgreSQL cluster with no set-up by hand.
#
#   scripts/pg.sh start DIR PORT [--fast]   initdb if needed, start, print the URL; PORT "free" picks a free port
#                                           (written to DIR/port), and another if it is taken before the server binds it
#   scripts/pg.sh stop DIR                  stop it (no error when it is not running)
#   scripts/pg.sh url DIR                   print the URL of a started cluster
#
# The data lives in DIR/data and the unix socket in DIR (short paths are required by the socket API; a DIR whose
# path is too long gets its socket in a private directory under /tmp instead). PostgreSQL refuses to run as root,
# so under root the server runs as the `postgres` system user, which Debian's server package creates.
# --fast turns off fsync for throwaway test clusters: a crash loses them anyway.
set -euo pipefail

pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
    dir=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
    if [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
    echo "pg.sh: no PostgreSQL server found; run scripts/deps.sh (make deps) first" >&2
    exit 1
}

as_server_user() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

socket_dir() {
    local dir=$1
    if [ ${#dir} -le 80 ]; then echo "$dir"; else echo "/tmp/ciclo-pg-$(echo "$dir" | md5sum | cut -c1-12)"; fi
}

cmd=${1:-}
dir=$(realpath -m "${2:?usage: pg.sh start|stop|url DIR [PORT]}")
BIN=$(pg_bin)

case "$cmd" in
start)
    port=${3:?usage: pg.sh start DIR PORT [--fast]}
    fast=${4:-}
    sock=$(socket_dir "$dir")
    mkdir -p "$dir" "$sock"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir" "$sock"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_server_user "$BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    opts="-c listen_addresses=127.0.0.1 -c unix_socket_directories=$sock -c max_connections=200"
    if [ "$fast" = "--fast" ]; then
        # Test suites run in parallel, each with its own databases, connections and ciclo processes.
        opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=600"
    fi
    # Server settings a benchmark asks for (CICLO_PG_OPTS="-c shared_buffers=4GB"), after ours so they win.
    opts="$opts ${CICLO_PG_OPTS:-}"
    if ! as_server_user "$BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        # A port that was free when picked can be taken before the server binds it (tests start servers of their own
        # in parallel): with "free", another port is tried, up to five.
        attempts=1
        if [ "$port" = free ]; then attempts=5; fi
        for attempt in $(seq "$attempts"); do
            if [ "$attempts" -gt 1 ]; then
                port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
            fi
            if as_server_user "$BIN/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" \
                -o "$opts -c port=$port" -w -t 60 start >/dev/null; then
                break
            fi
            tail -20 "$dir/data/server.log" >&2
            if [ "$attempt" = "$attempts" ]; then exit 1; fi
        done
    elif [ "$port" = free ]; then
        port=$(cat "$dir/port")
    fi
    echo "$port" >"$dir/port"
    "$BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAtc "SELECT 1 FROM pg_database WHERE datname = 'ciclo'" \
        | grep -q 1 || "$BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres ciclo
    echo "postgresql://postgres@127.0.0.1:$port/ciclo"
    ;;
stop)
    if [ -f "$dir/data/PG_VERSION" ]; then
        as_server_user "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
url)
    echo "postgresql://postgres@127.0.0.1:$(cat "$dir/port")/ciclo"
    ;;
*)
    echo "usage: pg.sh start|stop|url DIR [PORT]" >&2
    exit 2
    ;;
esac
