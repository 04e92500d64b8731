#!/usr/bin/env bash
# A private PostgreSQL cluster from Debian's postgresql package, for the
# tests and for `make hosted`: its own data directory and port, loopback
# only, trust authentication (nothing but this machine can reach it).
# Ports stay below Linux's ephemeral range (32768+), where an outgoing
# connection could hold the port when the cluster starts.
#
#   deploy/pg.sh start   DIR PORT   initdb on first use, then start; prints the URL
#   deploy/pg.sh stop    DIR
#   deploy/pg.sh restart DIR
#   deploy/pg.sh kill    DIR        SIGKILL the postmaster (fault tests)
#   deploy/pg.sh url     PORT [DB]
#
# As root, the cluster runs as the `postgres` user (PostgreSQL refuses
# root); otherwise as the caller.
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; then
  echo "deploy/pg.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
fi

# The server must not inherit the start lock's descriptor (fd 9): it would
# hold the lock for as long as it runs.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@" 9>&-; else "$@" 9>&-; fi
}

url() { echo "postgres://postgres@127.0.0.1:$1/${2:-postgres}"; }

cmd=${1:?usage: deploy/pg.sh start|stop|restart|kill|url ...}
case "$cmd" in
  start)
    dir=$(realpath -m "${2:?DIR}"); port=${3:?PORT}
    # Test processes start it concurrently: one at a time.
    mkdir -p "$dir"
    exec 9>"$dir.lock"
    flock 9
    if [ ! -s "$dir/data/PG_VERSION" ]; then
      mkdir -p "$dir/data"
      [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
      as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
      # Enough connections for two replicas' pools and a test suite's
      # databases; loopback only; the socket stays in the cluster's dir.
      cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
fsync = on
CONF
    fi
    # Running on another port: restart it on this one.
    if as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 \
        && [ "$(cat "$dir/port" 2>/dev/null)" != "$port" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      # The port is given at each start, so the caller's always wins.
      echo "$port" >"$dir/port"
      as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w -t 30 start >/dev/null \
        || { tail -20 "$dir/server.log" >&2; exit 1; }
    fi
    url "$port"
    ;;
  stop)
    dir=$(realpath -m "${2:?DIR}")
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  restart)
    dir=$(realpath -m "${2:?DIR}")
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $(cat "$dir/port")" -m fast -w -t 30 restart >/dev/null
    ;;
  kill)
    dir=$(realpath -m "${2:?DIR}")
    pid=$(head -1 "$dir/data/postmaster.pid")
    kill -9 "$pid"
    ;;
  url)
    url "${2:?PORT}" "${3:-}"
    ;;
  *) echo "deploy/pg.sh: unknown command $cmd" >&2; exit 2 ;;
esac
