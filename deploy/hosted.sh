#!/usr/bin/env bash
# A hosted AutoLearn on this machine, on loopback: PostgreSQL (Debian's
# package, a private cluster), two replicas of the release binary, and
# HAProxy in front. `make hosted` runs `deploy/hosted.sh up`.
#
#   deploy/hosted.sh up     start everything (again), print the URL
#   deploy/hosted.sh down   stop everything
#   deploy/hosted.sh status
#
# Everything lives under target/hosted/: the cluster, each replica's
# cache and JSON log, HAProxy's config and log. See README "Deployment".
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${HOSTED_DIR:-target/hosted}
bin=${AUTOLEARN_BIN_RELEASE:-target/release/autolearn}
pg_port=${HOSTED_PG_PORT:-25433}
lb_port=${HOSTED_PORT:-8780}
replica_ports=(${HOSTED_REPLICA_PORTS:-8781 8782})

need() {
  command -v "$1" >/dev/null 2>&1 && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq "$2" >/dev/null
  else
    echo "hosted: $1 is missing: apt-get install $2" >&2
    exit 1
  fi
}

stop_pid() {
  local f=$1
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

down() {
  stop_pid "$dir/haproxy.pid"
  for i in "${!replica_ports[@]}"; do stop_pid "$dir/replica$((i + 1)).pid"; done
  [ -d "$dir/pg" ] && deploy/pg.sh stop "$dir/pg"
  echo "hosted: stopped"
}

up() {
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need psql postgresql
  need haproxy haproxy
  [ -x "$bin" ] || { echo "hosted: build first (make build)" >&2; exit 1; }
  mkdir -p "$dir"
  down >/dev/null

  admin=$(deploy/pg.sh start "$dir/pg" "$pg_port")
  psql "$admin" -qtAc "SELECT 1 FROM pg_database WHERE datname = 'autolearn'" | grep -q 1 \
    || psql "$admin" -qc "CREATE DATABASE autolearn"
  db_url="${admin%/*}/autolearn"

  servers=""
  for i in "${!replica_ports[@]}"; do
    n=$((i + 1)); port=${replica_ports[$i]}
    mkdir -p "$dir/replica$n"
    AUTOLEARN_DATABASE_URL="$db_url" AUTOLEARN_DATA_DIR="$dir/replica$n" \
    AUTOLEARN_LOG=info AUTOLEARN_LOG_FORMAT=json AUTOLEARN_LLM=${AUTOLEARN_LLM:-none} \
      nohup "$bin" serve --addr "127.0.0.1:$port" \
      >"$dir/replica$n.out" 2>"$dir/replica$n.log" &
    echo $! >"$dir/replica$n.pid"
    servers+="    server replica$n 127.0.0.1:$port check inter 1s fall 2 rise 1"$'\n'
  done
  for i in "${!replica_ports[@]}"; do
    port=${replica_ports[$i]}
    for _ in $(seq 600); do
      curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
      kill -0 "$(cat "$dir/replica$((i + 1)).pid")" 2>/dev/null \
        || { echo "hosted: replica $((i + 1)) died:" >&2; tail -5 "$dir/replica$((i + 1)).log" >&2; exit 1; }
      sleep 0.1
    done
  done

  SERVERS="$servers" BIND="127.0.0.1:$lb_port" python3 - "$dir/haproxy.cfg" <<'PY'
import os, sys
text = open("deploy/haproxy.cfg.in").read()
text = text.replace("@BIND@", os.environ["BIND"]).replace("@SERVERS@", os.environ["SERVERS"])
open(sys.argv[1], "w").write(text)
PY
  haproxy -c -q -f "$dir/haproxy.cfg"
  haproxy -D -f "$dir/haproxy.cfg" -p "$dir/haproxy.pid" >"$dir/haproxy.log" 2>&1
  for _ in $(seq 50); do
    curl -fs "http://127.0.0.1:$lb_port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done

  echo "hosted: PostgreSQL  $db_url"
  for i in "${!replica_ports[@]}"; do
    echo "hosted: replica $((i + 1))   http://127.0.0.1:${replica_ports[$i]}/ (log: $dir/replica$((i + 1)).log)"
  done
  echo "hosted: AutoLearn at http://127.0.0.1:$lb_port/  (MCP: http://127.0.0.1:$lb_port/mcp)"
  echo "hosted: stop with: make hosted-down"
}

status() {
  for f in "$dir"/*.pid; do
    [ -f "$f" ] || continue
    if kill -0 "$(cat "$f")" 2>/dev/null; then echo "$(basename "$f" .pid): running"; else echo "$(basename "$f" .pid): stopped"; fi
  done
  curl -fs "http://127.0.0.1:$lb_port/readyz" && echo
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: deploy/hosted.sh up|down|status" >&2; exit 2 ;;
esac
