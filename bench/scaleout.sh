#!/usr/bin/env bash
# Scale-out: several app servers on one PostgreSQL behind nginx, under simulated shoppers.
#
# For SERVERS in 2, then 1: a fresh database on a throw-away PostgreSQL cluster, seeded with
# the demo shop (`mercato seed`, before any server starts, so no two servers race to seed),
# SERVERS `mercato serve` processes on it, nginx in front (least_conn, keep-alive to the
# upstreams), and `mercato bench-shoppers` driving SHOPPERS shoppers (browse, add to cart,
# check out) through nginx for SECONDS. The generator checks the database afterwards
# (no oversell, stock = start - units sold). Both runs go through nginx, so the one-server
# figure pays the same proxy hop. Writes {"runs": [two servers, one server]} to OUT.
#
# Everything (PostgreSQL, nginx, the servers and the load generator) shares this machine's
# cores: more servers add concurrency in the database and in request handling, not CPU.
#
# Usage: bench/scaleout.sh --bin BIN --tmp DIR --out FILE [--seconds N] [--shoppers N]
# Needs nginx and PostgreSQL (`./x bench` installs them).
set -euo pipefail

BIN="" TMP_PARENT="" OUT="" SECONDS_PER_RUN=60 SHOPPERS=200
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN="$2"; shift 2 ;;
    --tmp) TMP_PARENT="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
    --shoppers) SHOPPERS="$2"; shift 2 ;;
    *) echo "usage: bench/scaleout.sh --bin BIN --tmp DIR --out FILE [--seconds N] [--shoppers N]" >&2; exit 2 ;;
  esac
done
[ -x "$BIN" ] || { echo "scaleout: no mercato binary at '$BIN'" >&2; exit 2; }
[ -n "$OUT" ] && [ -n "$TMP_PARENT" ] || { echo "scaleout: --tmp and --out are required" >&2; exit 2; }

say() { printf '\033[1;34m--> %s\033[0m\n' "$*" >&2; }
die() {
  printf '\033[1;31mscaleout error:\033[0m %s\n' "$*" >&2
  exit 1
}
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || die "nginx not found (./x bench installs it)"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
PG_BIN=/usr/lib/postgresql/15/bin
[ -x "$PG_BIN/initdb" ] || PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$PG_BIN/initdb" ] || die "PostgreSQL server binaries not found (./x bench installs postgresql)"

DIR="$(mktemp -d "$TMP_PARENT/scaleout.XXXXXX")"
# The cluster lives in a directory of its own under /tmp: the postgres user cannot enter
# run.sh's private temporary directory.
PG_DIR="$(mktemp -d /tmp/mercato-scaleout-pg.XXXXXX)"
PIDS=()
NGINX_PID=""
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  [ -d "$PG_DIR/data" ] && as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1
  rm -rf "$DIR" "$PG_DIR"
}
trap cleanup EXIT
# A signal exits through the EXIT trap, so run.sh stopping this script stops what it started.
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_healthy URL PID LOG: polls URL until it answers 2xx (at most 120 s).
wait_healthy() {
  local url="$1" pid="$2" log="$3"
  for _ in $(seq 1 240); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { tail -30 "$log" >&2; die "$url: the process exited"; }
    sleep 0.5
  done
  tail -30 "$log" >&2
  die "$url did not answer within 120 s"
}

PG_PORT="$(free_port)"
[ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
say "start PostgreSQL on 127.0.0.1:$PG_PORT"
as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U mercato >/dev/null
# max_connections: each server's pool (MERCATO_DB_MAX_CONNECTIONS) plus the generator's.
as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -l "$PG_DIR/log" \
  -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c full_page_writes=off -c wal_level=minimal -c max_wal_senders=0" \
  start >/dev/null
PG_URL="postgres://mercato@127.0.0.1:$PG_PORT"

# run_with SERVERS: one measured run; writes $DIR/run-SERVERS.json.
run_with() {
  local servers="$1" db="scaleout_$1" lb_port upstreams="" port pid i
  as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U mercato "$db"
  local url="$PG_URL/$db"
  say "$servers server(s): seed the demo shop on PostgreSQL"
  DATABASE_URL="$url" RUST_LOG=warn "$BIN" seed --orders 400 >"$DIR/seed-$servers.log" 2>&1 \
    || { tail -20 "$DIR/seed-$servers.log" >&2; die "mercato seed failed"; }
  PIDS=()
  for i in $(seq 1 "$servers"); do
    port="$(free_port)"
    # All simulated shoppers come from one address (through nginx): the per-address limits
    # on registrations, logins, posts and events are raised out of their reach.
    MERCATO_ADDR="127.0.0.1:$port" DATABASE_URL="$url" MERCATO_SEED_DEMO=false MERCATO_INVENTORY_TOKEN=bench \
      MERCATO_LOGINS_PER_IP_PER_MINUTE=1000000 MERCATO_REGISTRATIONS_PER_IP_PER_HOUR=1000000 \
      MERCATO_POSTS_PER_IP_PER_MINUTE=1000000 MERCATO_EVENTS_PER_IP_PER_SECOND=1000000 \
      MERCATO_DB_MAX_CONNECTIONS=16 RUST_LOG=warn "$BIN" serve >"$DIR/app-$servers-$i.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_healthy "http://127.0.0.1:$port/healthz" "$pid" "$DIR/app-$servers-$i.log"
    upstreams+="    server 127.0.0.1:$port max_fails=0;"$'\n'
  done
  lb_port="$(free_port)"
  mkdir -p "$DIR/nginx-$servers"
  local user_line=""
  [ "$(id -u)" -eq 0 ] && user_line="user root;"
  cat >"$DIR/nginx-$servers/nginx.conf" <<EOF
$user_line
worker_processes 1;
daemon off;
pid $DIR/nginx-$servers/nginx.pid;
error_log $DIR/nginx-$servers/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $DIR/nginx-$servers/body;
  proxy_temp_path $DIR/nginx-$servers/proxy;
  fastcgi_temp_path $DIR/nginx-$servers/fastcgi;
  uwsgi_temp_path $DIR/nginx-$servers/uwsgi;
  scgi_temp_path $DIR/nginx-$servers/scgi;
  upstream mercato {
    least_conn;
$upstreams    keepalive 64;
  }
  server {
    listen 127.0.0.1:$lb_port;
    location / {
      proxy_pass http://mercato;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_read_timeout 60s;
    }
  }
}
EOF
  "$NGINX" -p "$DIR/nginx-$servers" -c "$DIR/nginx-$servers/nginx.conf" 2>"$DIR/nginx-$servers/stderr.log" &
  NGINX_PID=$!
  wait_healthy "http://127.0.0.1:$lb_port/healthz" "$NGINX_PID" "$DIR/nginx-$servers/stderr.log"
  say "$servers server(s) behind nginx: $SHOPPERS shoppers for $SECONDS_PER_RUN s"
  DATABASE_URL="$url" RUST_LOG=warn "$BIN" bench-shoppers --target "http://127.0.0.1:$lb_port" \
    --shoppers "$SHOPPERS" --seconds "$SECONDS_PER_RUN" --servers "$servers" >"$DIR/run-$servers.json" \
    2>"$DIR/shoppers-$servers.log" || { tail -20 "$DIR/shoppers-$servers.log" >&2; die "mercato bench-shoppers failed"; }
  for i in $(seq 1 "$servers"); do
    if grep -qE 'panicked|ERROR' "$DIR/app-$servers-$i.log"; then
      say "warning: server $i of $servers logged errors:"
      grep -E 'panicked|ERROR' "$DIR/app-$servers-$i.log" | tail -5 >&2
    fi
  done
  kill "$NGINX_PID" 2>/dev/null || true
  wait "$NGINX_PID" 2>/dev/null || true
  NGINX_PID=""
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}

run_with 2
run_with 1
python3 - "$DIR/run-2.json" "$DIR/run-1.json" "$OUT" <<'EOF'
import json, sys
runs = [json.load(open(path, encoding="utf-8")) for path in sys.argv[1:3]]
with open(sys.argv[3], "w", encoding="utf-8") as f:
    json.dump({"runs": runs}, f, indent=2)
EOF
say "scale-out results in $OUT"
