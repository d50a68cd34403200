# Starts a throwaway PostgreSQL cluster for the current shell and stops it when the shell exits.
#
# Source this file, then call `start_throwaway_postgres [setting=value ...]`: it exports
# DATABASE_URL and PROCRASTINATE_DATABASE_URL, pointing at a fresh cluster listening on a free
# port of 127.0.0.1 with its data in a temporary directory. Extra arguments are server
# settings (`fsync=off`, ...). The cluster is stopped and deleted on exit, failure or Ctrl-C.

find_postgres_bin() {
    local dir
    for dir in "${PG_BIN:-}" /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

ensure_postgres_installed() {
    if find_postgres_bin >/dev/null; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: PostgreSQL server binaries not found; install PostgreSQL 15 (e.g. apt-get install postgresql) or set PG_BIN" >&2
        return 1
    fi
    # The server alone: no recommended packages, nothing else upgraded on purpose.
    echo "Installing PostgreSQL (apt-get install --no-install-recommends postgresql)..." >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
}

free_local_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the server's owner: `postgres` when we are root, ourselves otherwise.
as_pg_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    else
        "$@"
    fi
}

stop_throwaway_postgres() {
    if [ -n "${THROWAWAY_PG_DIR:-}" ] && [ -d "$THROWAWAY_PG_DIR" ]; then
        as_pg_owner "$THROWAWAY_PG_BIN/pg_ctl" -D "$THROWAWAY_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$THROWAWAY_PG_DIR"
    fi
    THROWAWAY_PG_DIR=""
}

start_throwaway_postgres() {
    ensure_postgres_installed || return 1
    THROWAWAY_PG_BIN=$(find_postgres_bin) || return 1
    THROWAWAY_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/procrastinate-pg.XXXXXX")
    trap stop_throwaway_postgres EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        chown postgres "$THROWAWAY_PG_DIR"
    fi
    chmod 700 "$THROWAWAY_PG_DIR"
    local port options setting
    port=$(free_local_port)
    as_pg_owner "$THROWAWAY_PG_BIN/initdb" -D "$THROWAWAY_PG_DIR/data" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$THROWAWAY_PG_DIR/initdb.log" 2>&1 || {
        cat "$THROWAWAY_PG_DIR/initdb.log" >&2
        return 1
    }
    options="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$THROWAWAY_PG_DIR -c max_connections=300"
    for setting in "$@"; do
        options="$options -c $setting"
    done
    as_pg_owner "$THROWAWAY_PG_BIN/pg_ctl" -D "$THROWAWAY_PG_DIR/data" -l "$THROWAWAY_PG_DIR/server.log" \
        -o "$options" -w start >/dev/null || {
        cat "$THROWAWAY_PG_DIR/server.log" >&2
        return 1
    }
    export DATABASE_URL="postgresql://postgres@127.0.0.1:$port/postgres"
    export PROCRASTINATE_DATABASE_URL="$DATABASE_URL"
    echo "Started a throwaway PostgreSQL at $DATABASE_URL" >&2
}
