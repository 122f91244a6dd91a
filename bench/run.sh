#!/usr/bin/env bash
# Mercato's benchmarks (see BENCHMARKS.md for the protocol). Run by `./x bench` from the
# repository root after `./x build`; needs wrk, gzip, brotli, curl and python3.
#
# - SSR throughput: wrk -t2 -c32 -d10s (after a 2 s warm-up) against two anchors served by
#   the same binary (`mercato bench-anchors`: a bare axum handler and a minimal Leptos SSR
#   page) and against the real app's `/` and a product page, three interleaved rounds;
#   medians of req/s and of the per-round ratios.
# - Experiments: `/` for a returning visitor (visitor and `mercato_ab` cookies) on the app and
#   on a second instance with MERCATO_EXPERIMENTS=off, in the same rounds; the ratio of their
#   req/s is what A/B assignment costs the page. `mercato bench-assign` times the assignment
#   itself (ns per call) and reports how 30,000 visitor ids split over the hero's variants.
# - Plans: `/api/v1/me/entitlements` for a premium session against `/api/v1/me` (the same
#   session lookup without a plan check), same rounds; and how many checks the session
#   cache answered (from `/metrics`).
# - Reviews: a product page with 1,000 approved reviews (`mercato bench-reviews-fixture` writes
#   and approves them through the app's own review functions, on the app's database while it
#   serves) against the page of a product with none, both with the shopper's session (past the
#   page cache, so every request renders), same rounds; the page lists the first 10 reviews.
# - Loyalty (`mercato bench-loyalty`, its own fresh SQLite database): leaderboard query latency
#   with 100,000 members (p50 / p95 / p99 of 300 queries per period) and ledger appends
#   committed per second by 8 concurrent writers.
# - Recommendations (`mercato bench-recs`, its own fresh SQLite database, a few minutes,
#   most of it the seed): the demo shop seeded to 1,000,000 order lines, then `recommend`
#   latency per kind (p50 / p99 of 2,000 calls each, limit 8, and p99 over all kinds), the
#   cost of applying one order to the co-purchase table (`add_order` in its own write
#   transaction, commit included, p50 / p99 of 1,000 orders), the process's peak RSS and the
#   size of the co-purchase table; fails if that table then differs from a full recomputation.
# - Analytics (`mercato bench-analytics`, its own fresh SQLite database, about a minute):
#   1,000,000 synthetic events over 90 days written to the event log and folded into the
#   rollups by the consumer's rule, then the dashboard's server time (queries + HTML) for
#   the last 7, 30 and 90 days (p95 of 40 renders each), and 5,000 live events through the
#   outbox worker.
# - Feature flags (`mercato bench-flags`, in process): ns per evaluation of a flag with 10
#   rules that walks all ten and hashes the visitor id for its rollout. And a fresh render
#   of / (the visitor has a cart cookie, so no page cache) with 20 such flags evaluated for
#   the visitor (`mercato bench-flags-fixture` writes them to the app's database between
#   runs) against none, same rounds.
# - Repricing (`mercato bench-repricing`, its own fresh SQLite database, seconds): 10,000
#   products matched to the lowest competitor price; 5 rounds of one competitor batch of
#   10,000 offers through `PUT /api/v1/competitor-prices` over TCP, timed until the response
#   (the import's transaction has repriced every product); fails if a price is not updated.
# - Sizes: the wasm, JS and CSS the browser downloads for `/` (as linked from the page):
#   raw, gzip -9, brotli -q 11.
# - Dynamic pricing (bench/prices.py, its own fresh servers and databases): latency from an
#   inventory PUT to the SSE `price` event (p50 / p95 / p99 of 1,000 sequential updates), and
#   stock events the pricing consumer applies per second after 2,000 PUTs on 8 connections.
#
# Writes target/bench/<name>.json ({"name", "value", "unit", "anchor", "ratio", "goal"})
# and prints a table. Everything runs on 127.0.0.1; the run takes about twelve minutes.
#
# - Scale-out (bench/scaleout.sh, its own PostgreSQL, nginx and servers, about three
#   minutes): 200 simulated shoppers (browse, cart, checkout) for 60 s through nginx on two
#   app servers sharing one PostgreSQL, then on one; per-route p95, throughput, 5xx and
#   oversells (checked in the database), and the two-server throughput as a ratio to one.
#
# Usage: bench/run.sh            everything
#        bench/run.sh prices     only the dynamic-pricing figures (about two minutes)
#        bench/run.sh scaleout   only the scale-out figures; SCALEOUT_SECONDS (default 60) and
#                                SCALEOUT_SHOPPERS (default 200) shorten a trial run
set -euo pipefail

MODE="${1:-all}"
case "$MODE" in
  all | prices | scaleout) ;;
  *)
    echo "usage: bench/run.sh [prices | scaleout]" >&2
    exit 2
    ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mercato/target}"
BIN="$TARGET_DIR/release/mercato"
SITE="${LEPTOS_SITE_ROOT:-target/site}"
PKG="$SITE/pkg"
OUT="$ROOT/target/bench"

# Fixed load settings (BENCHMARKS.md).
WRK_THREADS=2
WRK_CONNECTIONS=32
WRK_SECONDS=10
WARMUP_SECONDS=2
ROUNDS=3
# A valid visitor id, so the app resolves a returning visitor instead of minting one per request.
VISITOR_COOKIE="Cookie: mercato_vid=0123456789abcdef0123456789abcdef"
# The same visitor, returning with the hero variant the server assigned them. One argument to
# wrk's -H (the JSON's double quotes go through as they are, as browsers send this cookie).
AB_COOKIE="$VISITOR_COOKIE; mercato_ab={\"hero\":\"variant_a\"}"
PRODUCT_PATH="/products/COF-001"
# What Chromium and Firefox send.
BROWSER_ENCODING="Accept-Encoding: gzip, deflate, br, zstd"

say() { printf '\033[1;34m--> %s\033[0m\n' "$*" >&2; }
die() {
  printf '\033[1;31mbench error:\033[0m %s\n' "$*" >&2
  exit 1
}

TOOLS=(wrk gzip brotli curl python3)
[ "$MODE" = prices ] && TOOLS=(python3)
[ "$MODE" = scaleout ] && TOOLS=(curl python3)
for tool in "${TOOLS[@]}"; do
  command -v "$tool" >/dev/null || die "$tool not found (./x bench installs wrk and brotli)"
done
[ -x "$BIN" ] || die "release binary $BIN not found: run ./x build first"
[ "$MODE" != all ] || [ -d "$PKG" ] || die "$PKG not found: run ./x build first"

TMP="$(mktemp -d /tmp/mercato-bench.XXXXXX)"
APP_PID=""
APP_OFF_PID=""
APP_ON_PID=""
ANCHORS_PID=""
PRICES_PID=""
SCALEOUT_PID=""
stop() {
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$PRICES_PID"
  stop "$SCALEOUT_PID"
  stop "$APP_PID"
  stop "$APP_OFF_PID"
  stop "$APP_ON_PID"
  stop "$ANCHORS_PID"
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# new_port TAKEN...: a free port that is none of TAKEN (ports not yet listened on may repeat).
new_port() {
  local port
  port="$(free_port)"
  while printf '%s\n' "$@" | grep -qx "$port"; do port="$(free_port)"; done
  echo "$port"
}

# wait_for URL PID LOG: polls URL until it answers 2xx (at most 120 s).
wait_for() {
  local url="$1" pid="$2" log="$3"
  for _ in $(seq 1 240); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -30 "$log" >&2 || true
      die "server for $url exited"
    fi
    sleep 0.5
  done
  tail -30 "$log" >&2 || true
  die "$url did not answer within 120 s"
}

# check_page NAME URL [HEADER]: one request; must be 200 with an HTML body. Prints the size.
check_page() {
  local name="$1" url="$2" header="${3:-X-Bench: 1}" status
  status="$(curl -sS -o "$TMP/$name.html" -w '%{http_code}' -H "$header" "$url")"
  [ "$status" = 200 ] || die "$url answered $status"
  grep -qi '<html' "$TMP/$name.html" || die "$url did not return an HTML page"
  say "$(printf '%-8s %s: %s bytes of HTML' "$name" "$url" "$(wc -c <"$TMP/$name.html")")"
}

# ---------------------------------------------------------------------------------------
# Dynamic pricing: bench/prices.py starts and stops its own servers (fresh SQLite database
# each) and writes its raw results as JSON; report.py turns them into figures. It runs in
# the background only so that cleanup can stop it (and, through it, its servers).
# ---------------------------------------------------------------------------------------

PRICES="$TMP/prices.json"
run_prices() {
  say "dynamic pricing: PUT /api/v1/inventory -> SSE price latency, pricing consumer throughput"
  python3 "$ROOT/bench/prices.py" --bin "$BIN" --tmp "$TMP" --out "$PRICES" &
  PRICES_PID=$!
  wait "$PRICES_PID" || die "the dynamic-pricing measurements failed"
  PRICES_PID=""
}

# ---------------------------------------------------------------------------------------
# Scale-out: bench/scaleout.sh starts its own PostgreSQL, servers and nginx, and stops them.
# ---------------------------------------------------------------------------------------

SCALEOUT="$TMP/scaleout.json"
run_scaleout() {
  say "scale-out: ${SCALEOUT_SHOPPERS:-200} shoppers through nginx on 2 servers and on 1, one PostgreSQL"
  bash "$ROOT/bench/scaleout.sh" --bin "$BIN" --tmp "$TMP" --out "$SCALEOUT" \
    --seconds "${SCALEOUT_SECONDS:-60}" --shoppers "${SCALEOUT_SHOPPERS:-200}" &
  SCALEOUT_PID=$!
  wait "$SCALEOUT_PID" || die "the scale-out measurements failed"
  SCALEOUT_PID=""
}

if [ "$MODE" = scaleout ]; then
  run_scaleout
  mkdir -p "$OUT"
  python3 "$ROOT/bench/report.py" --scaleout "$SCALEOUT" --out "$OUT"
  exit 0
fi

if [ "$MODE" = prices ]; then
  run_prices
  mkdir -p "$OUT"
  python3 "$ROOT/bench/report.py" --prices "$PRICES" --out "$OUT"
  exit 0
fi

# ---------------------------------------------------------------------------------------
# Servers: the real app on a fresh SQLite database, the same app with experiments off on a
# fresh database of its own (seeded alike), and the anchors.
# ---------------------------------------------------------------------------------------

APP_PORT="$(free_port)"
say "start mercato serve on 127.0.0.1:$APP_PORT (fresh SQLite database, demo seed)"
MERCATO_ADDR="127.0.0.1:$APP_PORT" \
  DATABASE_URL="sqlite://$TMP/bench.db?mode=rwc" \
  MERCATO_INVENTORY_TOKEN=bench \
  RUST_LOG=warn \
  "$BIN" serve >"$TMP/app.log" 2>&1 &
APP_PID=$!
wait_for "http://127.0.0.1:$APP_PORT/healthz" "$APP_PID" "$TMP/app.log"

# Experiments on and off are compared on two servers started alike, each on its own fresh
# database and serving only this comparison: the main app's history (its outbox work, its
# SQLite WAL after the other subjects) would otherwise weigh on one side only. Two servers on
# one SQLite file would contend for its write lock, which is not what experiments cost.
# start_twin NAME PORT EXPERIMENTS: starts one server and sets TWIN_PID.
start_twin() {
  local name="$1" port="$2" experiments="$3"
  say "start mercato serve with MERCATO_EXPERIMENTS=$experiments on 127.0.0.1:$port (fresh SQLite database, demo seed)"
  MERCATO_ADDR="127.0.0.1:$port" \
    DATABASE_URL="sqlite://$TMP/bench-$name.db?mode=rwc" \
    MERCATO_INVENTORY_TOKEN=bench \
    MERCATO_EXPERIMENTS="$experiments" \
    RUST_LOG=warn \
    "$BIN" serve >"$TMP/app-$name.log" 2>&1 &
  TWIN_PID=$!
  wait_for "http://127.0.0.1:$port/healthz" "$TWIN_PID" "$TMP/app-$name.log"
}
APP_OFF_PORT="$(new_port "$APP_PORT")"
start_twin off "$APP_OFF_PORT" off
APP_OFF_PID=$TWIN_PID
APP_ON_PORT="$(new_port "$APP_PORT" "$APP_OFF_PORT")"
start_twin on "$APP_ON_PORT" on
APP_ON_PID=$TWIN_PID

ANCHORS_PORT="$(new_port "$APP_PORT" "$APP_OFF_PORT" "$APP_ON_PORT")"
say "start mercato bench-anchors on 127.0.0.1:$ANCHORS_PORT"
RUST_LOG=warn "$BIN" bench-anchors --addr "127.0.0.1:$ANCHORS_PORT" >"$TMP/anchors.log" 2>&1 &
ANCHORS_PID=$!
wait_for "http://127.0.0.1:$ANCHORS_PORT/bare" "$ANCHORS_PID" "$TMP/anchors.log"

BARE_URL="http://127.0.0.1:$ANCHORS_PORT/bare"
LEPTOS_URL="http://127.0.0.1:$ANCHORS_PORT/leptos"
HOME_URL="http://127.0.0.1:$APP_PORT/"
HOME_OFF_URL="http://127.0.0.1:$APP_OFF_PORT/"
HOME_ON_URL="http://127.0.0.1:$APP_ON_PORT/"
PRODUCT_URL="http://127.0.0.1:$APP_PORT$PRODUCT_PATH"

check_page bare "$BARE_URL"
check_page leptos "$LEPTOS_URL"
check_page home "$HOME_URL" "$VISITOR_COOKIE"
check_page product "$PRODUCT_URL" "$VISITOR_COOKIE"
# What a browser gets for /: the cached page, gzip.
HOME_GZIP_HEADERS="$(curl -sS -o "$TMP/home.html.gz" -D - -H "$VISITOR_COOKIE" -H "$BROWSER_ENCODING" "$HOME_URL")"
grep -qi '^content-encoding: gzip' <<<"$HOME_GZIP_HEADERS" || die "/ is not sent gzip to a browser that accepts it"
gzip -dc "$TMP/home.html.gz" | grep -qi '<html' || die "/ sent gzip does not inflate to an HTML page"
say "$(printf '%-8s %s: %s bytes gzip for a browser' home "$HOME_URL" "$(wc -c <"$TMP/home.html.gz")")"
grep -q 'rel="modulepreload"' "$TMP/leptos.html" || die "/leptos has no hydration scripts"
# The on/off ratio means something only if the cookie's variant is served with experiments
# on and the control with them off.
check_page home_on "$HOME_ON_URL" "$AB_COOKIE"
check_page home_off "$HOME_OFF_URL" "$AB_COOKIE"
grep -q 'data-variant="variant_a"' "$TMP/home_on.html" || die "/ does not serve the hero variant of the mercato_ab cookie"
grep -q 'data-variant="control"' "$TMP/home_off.html" || die "/ with MERCATO_EXPERIMENTS=off does not serve the control hero"
# The same pair past the one-second page cache (a visitor with a cart always gets a fresh
# render): the cost of assigning and recording the exposure inside a full SSR of `/`.
RENDER_COOKIE="$AB_COOKIE; mercato_cart=1"
check_page render_on "$HOME_ON_URL" "$RENDER_COOKIE"
check_page render_off "$HOME_OFF_URL" "$RENDER_COOKIE"
grep -q 'data-variant="variant_a"' "$TMP/render_on.html" || die "a fresh render of / does not serve the cookie's variant"

# A premium shopper's session: `/api/v1/me/entitlements` (the plan check every gated feature
# makes) against `/api/v1/me` (the same session lookup, no plan check) shows what a check
# costs once its answer is cached on the session row.
SESSION_JAR="$TMP/session.cookies"
curl -fsS -o /dev/null -c "$SESSION_JAR" -H 'Content-Type: application/json' \
  -d '{"email":"bench-premium@example.com","password":"a long bench passphrase","display_name":"Bench"}' \
  "http://127.0.0.1:$APP_PORT/api/v1/auth/register" || die "could not register the bench shopper"
curl -fsS -o /dev/null -b "$SESSION_JAR" -H 'Content-Type: application/json' -d '{"plan":"premium"}' \
  "http://127.0.0.1:$APP_PORT/api/v1/me/subscription" || die "could not subscribe the bench shopper"
SESSION_TOKEN="$(awk '$6 == "mercato_session" { print $7 }' "$SESSION_JAR")"
[ -n "$SESSION_TOKEN" ] || die "no session cookie for the bench shopper"
SESSION_COOKIE="$VISITOR_COOKIE; mercato_session=$SESSION_TOKEN"
ME_URL="http://127.0.0.1:$APP_PORT/api/v1/me"
ENTITLEMENTS_URL="http://127.0.0.1:$APP_PORT/api/v1/me/entitlements"
curl -fsS -H "$SESSION_COOKIE" "$ENTITLEMENTS_URL" | grep -q '"plan":"premium"' \
  || die "/api/v1/me/entitlements does not answer the bench shopper's premium plan"

# Reviews: the first in-stock product without reviews gets 1,000 approved ones (submitted and
# approved through the app's review functions, on this app's database while it serves); the
# next one keeps none. Both are measured with the shopper's session: anonymous product pages
# come from the one-second page cache, a session's are rendered on every request.
REVIEWS_FIXTURE="$TMP/reviews-fixture.json"
say "reviews: 1,000 approved reviews on one product (mercato bench-reviews-fixture on the app's database)"
RUST_LOG=warn DATABASE_URL="sqlite://$TMP/bench.db?mode=rwc" "$BIN" bench-reviews-fixture --count 1000 \
  >"$REVIEWS_FIXTURE" 2>"$TMP/reviews-fixture.log" || {
  cat "$TMP/reviews-fixture.log" >&2
  die "mercato bench-reviews-fixture failed"
}
REVIEW_SKUS="$(python3 -c 'import json, sys; f = json.load(open(sys.argv[1])); print(f["reviewed_sku"], f["plain_sku"])' \
  "$REVIEWS_FIXTURE")" || die "could not read the SKUs from $REVIEWS_FIXTURE"
read -r REVIEWED_SKU PLAIN_SKU <<<"$REVIEW_SKUS"
[[ "$REVIEWED_SKU" =~ ^[A-Za-z0-9_-]+$ && "$PLAIN_SKU" =~ ^[A-Za-z0-9_-]+$ ]] \
  || die "unexpected SKUs from bench-reviews-fixture: $REVIEW_SKUS"
PRODUCT_REVIEWS_URL="http://127.0.0.1:$APP_PORT/products/$REVIEWED_SKU"
PRODUCT_PLAIN_URL="http://127.0.0.1:$APP_PORT/products/$PLAIN_SKU"
check_page reviewed "$PRODUCT_REVIEWS_URL" "$SESSION_COOKIE"
check_page plain "$PRODUCT_PLAIN_URL" "$SESSION_COOKIE"
grep -q 'data-testid="rating-average" data-count="1000"' "$TMP/reviewed.html" \
  || die "$PRODUCT_REVIEWS_URL does not show a rating summary of 1,000 reviews"
REVIEWS_LISTED="$(grep -o 'data-testid="review"' "$TMP/reviewed.html" | wc -l)"
[ "$REVIEWS_LISTED" -eq 10 ] || die "$PRODUCT_REVIEWS_URL lists $REVIEWS_LISTED reviews, not the first page of 10"
grep -q 'Not rated yet' "$TMP/plain.html" || die "$PRODUCT_PLAIN_URL does not say 'Not rated yet'"
# The fixture left about 2,000 event deliveries (review_submitted, review_approved) for the
# app's outbox worker; let it catch up so they do not weigh on the first round.
for _ in $(seq 1 240); do
  OUTBOX_PENDING="$(curl -fsS "http://127.0.0.1:$APP_PORT/metrics" | awk '$1 == "mercato_outbox_pending" { print $2 }')" || true
  [ "${OUTBOX_PENDING:-1}" = 0 ] && break
  sleep 0.5
done
[ "${OUTBOX_PENDING:-1}" = 0 ] || say "warning: $OUTBOX_PENDING outbox deliveries still pending after the review fixture"

# ---------------------------------------------------------------------------------------
# Sizes: the wasm, JS and CSS that `/` makes the browser download (read from the page's
# preload / modulepreload / stylesheet links), compressed fresh here (not the build's
# .gz/.br), each also fetched from the server to prove the page's URL resolves.
# ---------------------------------------------------------------------------------------

mapfile -t ASSETS < <(grep -oE '"/pkg/[A-Za-z0-9_.-]+\.(wasm|js|css)"' "$TMP/home.html" | tr -d '"' | sort -u)
for ext in wasm js css; do
  printf '%s\n' "${ASSETS[@]}" | grep -q "\.$ext\$" || die "/ references no /pkg/*.$ext file"
done
SIZES="$TMP/sizes.tsv"
: >"$SIZES"
say "sizes of what / downloads: ${ASSETS[*]} (gzip -9, brotli -q 11)"
for path in "${ASSETS[@]}"; do
  file="$SITE$path"
  [ -f "$file" ] || die "/ references $path but $file does not exist"
  status="$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APP_PORT$path")"
  [ "$status" = 200 ] || die "/ references $path but the server answers $status for it"
  raw="$(wc -c <"$file")"
  gz="$(gzip -9 -c "$file" | wc -c)"
  br="$(brotli -q 11 -c "$file" | wc -c)"
  printf '%s\t%s\t%s\t%s\n' "$(basename "$file")" "$raw" "$gz" "$br" >>"$SIZES"
done

# ---------------------------------------------------------------------------------------
# Throughput: three rounds, subjects interleaved so drift hits all of them alike.
# ---------------------------------------------------------------------------------------

SAMPLES="$TMP/samples.tsv"
: >"$SAMPLES"

# measure SUBJECT ROUND URL [HEADER]: warm-up, then one wrk run; appends the req/s. The
# requests accept no content coding unless ENCODING names one (the `home_gzip` subject sends
# a browser's Accept-Encoding).
ENCODING=""
measure() {
  local subject="$1" round="$2" url="$3" header="${4:-X-Bench: 1}" log rps
  local headers=(-H "$header")
  [ -z "$ENCODING" ] || headers+=(-H "$ENCODING")
  log="$TMP/wrk-$subject-$round.txt"
  wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WARMUP_SECONDS}s" "${headers[@]}" "$url" >/dev/null
  wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" --latency "${headers[@]}" "$url" >"$log"
  if grep -q 'Non-2xx or 3xx responses' "$log"; then
    cat "$log" >&2
    die "$url answered errors under load; its throughput would be meaningless"
  fi
  rps="$(awk '/^Requests\/sec:/ { print $2 }' "$log")"
  [ -n "$rps" ] || {
    cat "$log" >&2
    die "could not read Requests/sec from wrk for $url"
  }
  if grep -q 'Socket errors' "$log"; then
    say "warning: $subject round $round: $(grep 'Socket errors' "$log" | sed 's/^ *//')"
  fi
  printf '%s\t%s\t%s\n' "$subject" "$round" "$rps" >>"$SAMPLES"
  say "$(printf 'round %s  %-8s %10.0f req/s   (p50 %s, p99 %s)' "$round" "$subject" "$rps" \
    "$(awk '$1 == "50%" { print $2 }' "$log")" "$(awk '$1 == "99%" { print $2 }' "$log")")"
}

# set_bench_flags N: the main app's database gets exactly N bench flags (see the loop).
FLAGS_RENDER_COOKIE="$VISITOR_COOKIE; mercato_cart=1"
set_bench_flags() {
  RUST_LOG=warn DATABASE_URL="sqlite://$TMP/bench.db?mode=rwc" "$BIN" bench-flags-fixture --count "$1" \
    >/dev/null 2>"$TMP/flags-fixture.log" || {
    cat "$TMP/flags-fixture.log" >&2
    die "mercato bench-flags-fixture failed"
  }
  sleep 1
}

say "throughput: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s after ${WARMUP_SECONDS} s warm-up, $ROUNDS rounds"
for round in $(seq 1 "$ROUNDS"); do
  measure bare "$round" "$BARE_URL"
  measure leptos "$round" "$LEPTOS_URL"
  measure home "$round" "$HOME_URL" "$VISITOR_COOKIE"
  ENCODING="$BROWSER_ENCODING" measure home_gzip "$round" "$HOME_URL" "$VISITOR_COOKIE"
  # On and off back to back, their order alternating between rounds so that neither always
  # runs in the other's wake.
  if [ $((round % 2)) = 1 ]; then
    measure home_on "$round" "$HOME_ON_URL" "$AB_COOKIE"
    measure home_off "$round" "$HOME_OFF_URL" "$AB_COOKIE"
    measure render_on "$round" "$HOME_ON_URL" "$RENDER_COOKIE"
    measure render_off "$round" "$HOME_OFF_URL" "$RENDER_COOKIE"
  else
    measure home_off "$round" "$HOME_OFF_URL" "$AB_COOKIE"
    measure home_on "$round" "$HOME_ON_URL" "$AB_COOKIE"
    measure render_off "$round" "$HOME_OFF_URL" "$RENDER_COOKIE"
    measure render_on "$round" "$HOME_ON_URL" "$RENDER_COOKIE"
  fi
  measure product "$round" "$PRODUCT_URL" "$VISITOR_COOKIE"
  # A fresh render of / (past the page cache) with 20 flags of 10 rules each evaluated for
  # the visitor, and with none of them, back to back, alternating which goes first. The
  # fixture rewrites the flags on the app's database; the app sees them within a second.
  if [ $((round % 2)) = 1 ]; then
    set_bench_flags 0
    measure render_noflags "$round" "$HOME_URL" "$FLAGS_RENDER_COOKIE"
    set_bench_flags 20
    measure render_flags "$round" "$HOME_URL" "$FLAGS_RENDER_COOKIE"
    # Every round leaves the shop without bench flags: the next round's `/` and product
    # page measure the shop as shipped, not 20 rollouts it would otherwise inherit.
    set_bench_flags 0
  else
    set_bench_flags 20
    measure render_flags "$round" "$HOME_URL" "$FLAGS_RENDER_COOKIE"
    set_bench_flags 0
    measure render_noflags "$round" "$HOME_URL" "$FLAGS_RENDER_COOKIE"
  fi
  # The plan check and its anchor back to back, alternating which goes first.
  if [ $((round % 2)) = 1 ]; then
    measure me "$round" "$ME_URL" "$SESSION_COOKIE"
    measure entitled "$round" "$ENTITLEMENTS_URL" "$SESSION_COOKIE"
  else
    measure entitled "$round" "$ENTITLEMENTS_URL" "$SESSION_COOKIE"
    measure me "$round" "$ME_URL" "$SESSION_COOKIE"
  fi
  # The product page with 1,000 reviews and without any, same session, back to back,
  # alternating which goes first.
  if [ $((round % 2)) = 1 ]; then
    measure product_reviews "$round" "$PRODUCT_REVIEWS_URL" "$SESSION_COOKIE"
    measure product_plain "$round" "$PRODUCT_PLAIN_URL" "$SESSION_COOKIE"
  else
    measure product_plain "$round" "$PRODUCT_PLAIN_URL" "$SESSION_COOKIE"
    measure product_reviews "$round" "$PRODUCT_REVIEWS_URL" "$SESSION_COOKIE"
  fi
done

# Where the entitlement answers came from during the load: the session row or the database.
ENTITLEMENT_CHECKS="$TMP/entitlement-checks.tsv"
curl -fsS "http://127.0.0.1:$APP_PORT/metrics" \
  | awk -F'[{}" ]+' '/^mercato_entitlement_checks_total/ { for (i = 1; i < NF; i++) if ($i == "source=") print $(i + 1) "\t" $NF }' \
    >"$ENTITLEMENT_CHECKS"

# check_healthy PORT NAME: the app must still be healthy after the load (no crash, no pool
# exhaustion); errors in its log ($TMP/NAME.log) are shown.
check_healthy() {
  local port="$1" name="$2"
  curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" || die "$name is unhealthy after the load"
  if grep -qE 'panicked|ERROR' "$TMP/$name.log"; then
    say "warning: $name logged errors during the run:"
    grep -E 'panicked|ERROR' "$TMP/$name.log" | tail -5 >&2
  fi
}
check_healthy "$APP_PORT" app
check_healthy "$APP_OFF_PORT" app-off
check_healthy "$APP_ON_PORT" app-on

# What follows uses servers of its own or none: stop these so they take no CPU from it.
stop "$APP_PID"
APP_PID=""
stop "$APP_OFF_PID"
APP_OFF_PID=""
stop "$APP_ON_PID"
APP_ON_PID=""
stop "$ANCHORS_PID"
ANCHORS_PID=""

# Assignment per call, in process (about half a minute); stdout is the JSON.
ASSIGN="$TMP/assign.json"
say "experiment assignment: mercato bench-assign (ns per call, median of 5 runs over 2,000,000 visitor ids)"
RUST_LOG=warn "$BIN" bench-assign >"$ASSIGN" 2>"$TMP/assign.log" || {
  cat "$TMP/assign.log" >&2
  die "mercato bench-assign failed"
}

# Loyalty at scale, in process on a fresh SQLite database of its own (about a minute).
LOYALTY="$TMP/loyalty.json"
say "loyalty: leaderboard latency with 100,000 members, ledger writes per second on 8 writers"
RUST_LOG=warn DATABASE_URL="sqlite://$TMP/loyalty.db?mode=rwc" "$BIN" bench-loyalty >"$LOYALTY" 2>"$TMP/loyalty.log" || {
  cat "$TMP/loyalty.log" >&2
  die "mercato bench-loyalty failed"
}

# Recommendations at 1,000,000 order lines, in process on a fresh SQLite database of its own
# (a few minutes, most of it seeding). The database is removed straight after: it is
# about 200 MB.
RECS="$TMP/recs.json"
say "recommendations: seed 1,000,000 order lines, recommend latency per kind, applying one order, memory"
RUST_LOG=warn DATABASE_URL="sqlite://$TMP/recs.db?mode=rwc" "$BIN" bench-recs --order-lines 1000000 >"$RECS" \
  2>"$TMP/recs.log" || {
  tail -30 "$TMP/recs.log" >&2
  die "mercato bench-recs failed"
}
rm -f "$TMP"/recs.db*

# Feature flags: evaluating a flag of 10 rules, in process (no database).
FLAGS="$TMP/flags.json"
say "feature flags: mercato bench-flags (ns per evaluation, 10 rules, median of 5 runs over 1,000,000 visitor ids)"
RUST_LOG=warn "$BIN" bench-flags >"$FLAGS" 2>"$TMP/flags.log" || {
  cat "$TMP/flags.log" >&2
  die "mercato bench-flags failed"
}

# The dashboard at 1,000,000 events, on a fresh SQLite database of its own (removed after).
ANALYTICS="$TMP/analytics.json"
say "analytics: 1,000,000 events, dashboard server time for 7/30/90 days"
RUST_LOG=warn DATABASE_URL="sqlite://$TMP/analytics.db?mode=rwc" "$BIN" bench-analytics --events 1000000 \
  >"$ANALYTICS" 2>"$TMP/analytics.log" || {
  tail -30 "$TMP/analytics.log" >&2
  die "mercato bench-analytics failed"
}
rm -f "$TMP"/analytics.db*

# Repricing after a competitor batch for 10,000 products, on its own fresh SQLite database.
REPRICING="$TMP/repricing.json"
say "repricing: a competitor batch of 10,000 offers through PUT /api/v1/competitor-prices"
RUST_LOG=warn "$BIN" bench-repricing >"$REPRICING" 2>"$TMP/repricing.log" || {
  tail -30 "$TMP/repricing.log" >&2
  die "mercato bench-repricing failed"
}

run_prices
run_scaleout

# ---------------------------------------------------------------------------------------
# Figures: JSON files and the table.
# ---------------------------------------------------------------------------------------

mkdir -p "$OUT"
python3 "$ROOT/bench/report.py" \
  --samples "$SAMPLES" --sizes "$SIZES" --out "$OUT" \
  --load "wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s" --rounds "$ROUNDS" \
  --product-path "$PRODUCT_PATH" --prices "$PRICES" --assign "$ASSIGN" \
  --entitlement-checks "$ENTITLEMENT_CHECKS" --loyalty "$LOYALTY" --reviews-fixture "$REVIEWS_FIXTURE" \
  --recs "$RECS" --analytics "$ANALYTICS" --flags "$FLAGS" --repricing "$REPRICING" \
  --scaleout "$SCALEOUT"
