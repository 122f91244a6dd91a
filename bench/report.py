#!/usr/bin/env python3
"""Turns bench/run.sh's raw measurements into figures: one JSON file per figure in
target/bench/<name>.json with exactly the keys name, value, unit, anchor, ratio, goal, and
a table on stdout (PASS / MISS against the goal, "-" when a figure has no goal).

Inputs (tab-separated, written by run.sh):
  samples: subject, round, req/s   (subjects: bare, leptos, home, home_on, home_off, product,
           render_on, render_off, me, entitled, product_reviews, product_plain, render_flags,
           render_noflags;
           home_on / home_off: / for a returning visitor with its mercato_ab cookie, on the
           app and on a second instance with MERCATO_EXPERIMENTS=off; product_reviews /
           product_plain: the product page of a product with 1,000 approved reviews and of
           one with none, with a shopper's session)
  sizes:   file, raw bytes, gzip -9 bytes, brotli -q 11 bytes
and JSON files:
  prices:  from bench/prices.py, {"latency": {...raw samples...}, "throughput": {...}}
  assign:  from `mercato bench-assign`, {"fresh_ns", "sticky_ns", "request_ns", "n", "runs",
           "distribution": {variant: count}, "distribution_ids", "outside", "weights"}
  reviews-fixture: from `mercato bench-reviews-fixture`, {"reviewed_sku", "plain_sku",
           "reviews", "seconds"}
  recs:    from `mercato bench-recs`, {"backend", "order_lines", "orders", "products",
           "seed_seconds", "queries", "limit", "latency_ms": {kind | "all": {"n", "p50", "p95",
           "p99", "max"}}, "latency_ms_by_viewer": {kind: {"shopper", "visitor"}},
           "apply_order_us": {"n", "p50", "p99", ...}, "peak_rss_mb", "co_purchase_rows",
           "co_purchase_rows_bound", "co_purchases_match"}
  analytics: from `mercato bench-analytics`, {"backend", "events", "log_events", "rollup_rows",
           "visitor_days", "fold_events_per_s", "write_s", "live_events_per_s",
           "live_deliveries_per_s", "dashboard_ms": {"7d" | "30d" | "90d": {"n", "p50", "p95",
           "max"}}, "report_ms": {...same...}, "sessions_90d", "orders_90d", ...}
  flags:   from `mercato bench-flags`, {"n", "runs", "rules", "eval_ns_10_rules",
           "eval_ns_first_rule", "rollout_share"}
  scaleout: from bench/scaleout.sh, {"runs": [two servers, one server]}, each the JSON of
           `mercato bench-shoppers`: {"servers", "shoppers", "seconds", "requests",
           "requests_per_s", "status_5xx", "transport_errors", "orders", "refused_checkouts",
           "units_sold", "oversold_skus", "stock_mismatches", "routes": {route: {"n", "p50",
           "p95", "p99", "max", "status"}}}
  repricing: from `mercato bench-repricing`, {"backend", "skus", "rounds", "body_bytes",
           "import_ms": {"n", "p50", "p95", "p99", "max"}, "repriced_per_round", "goal_ms"}
Each input is optional (`bench/run.sh prices` passes only --prices); only the figures of
the inputs given are written.
"""

import argparse
import json
import math
import os
import re
import statistics
import sys

KB = 1024
BARE = "bare axum handler (/bare, same run)"
LEPTOS = "minimal Leptos SSR page (/leptos, same run)"
# BENCHMARKS.md: a minimal Leptos 0.8 counter app's wasm after wasm-opt -Oz (not re-measured here).
MINIMAL_WASM = {"raw": 368 * KB, "gzip": 155 * KB, "brotli": 127 * KB}
WASM_GOAL_BROTLI = 250 * KB  # wasm + js, brotli -q 11
PRICE_LATENCY_GOAL_MS = 1000  # p95, inventory PUT -> SSE price event
EXPERIMENTS_OFF = "/ with MERCATO_EXPERIMENTS=off, same cookies (second instance, same run)"
EXPERIMENTS_GOAL = ">= 0.95"  # req/s of / with experiments on / off
ASSIGN_GOAL_NS = 1000  # per request: parse the cookie, assign, decide the hero, serialise
# chi-square with 2 degrees of freedom (three variants): 95% quantile.
CHI2_95_DF2 = 5.991
ME_ANCHOR = "GET /api/v1/me, the same session lookup without a plan check (same run)"
ENTITLEMENTS_GOAL = ">= 0.9"  # a cached plan check costs at most a tenth of the request
PUT_ANCHOR = "PUT /api/v1/inventory response time, same percentile (same run)"
INGEST_ANCHOR = "inventory PUT ingest rate, PUTs answered per second (same run)"
FLAGS_ANCHOR = "the same fresh render of / without the 20 bench flags (same server, same rounds)"
FLAGS_GOAL = ">= 0.97"
REVIEWS_ANCHOR = "the same product page, same session, for a product with 0 reviews (same run)"
REVIEWS_GOAL = ">= 0.8"  # 10 reviews per page: the page costs about the same whatever the count


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def figure(name, value, unit, anchor=None, ratio=None, goal=None):
    return {"name": name, "value": value, "unit": unit, "anchor": anchor, "ratio": ratio, "goal": goal}


def verdict(fig):
    goal = fig["goal"]
    if goal is None or fig["value"] is None:
        return "-"
    m = re.match(r"^\s*(<=|>=|<|>)\s*([0-9.]+)", goal)
    if not m:
        return "?"
    op, bound = m.group(1), float(m.group(2))
    value = float(fig["value"])
    ok = {"<=": value <= bound, ">=": value >= bound, "<": value < bound, ">": value > bound}[op]
    return "PASS" if ok else "MISS"


def throughput_figures(samples, load, rounds, reviews_fixture=None):
    by_round = {}
    for subject, rnd, rps in samples:
        by_round.setdefault(int(rnd), {})[subject] = float(rps)
    rounds_seen = sorted(by_round)
    series = {}
    for rnd in rounds_seen:
        for subject, rps in by_round[rnd].items():
            series.setdefault(subject, []).append(rps)
    for subject in ("bare", "leptos", "home"):
        if len(series.get(subject, [])) != rounds:
            sys.exit(f"report: expected {rounds} rounds of {subject}, got {len(series.get(subject, []))}")

    def median_ratio(num, den):
        ratios = [by_round[r][num] / by_round[r][den] for r in rounds_seen if num in by_round[r]]
        return round(statistics.median(ratios), 3)

    def rps(subject):
        return round(statistics.median(series[subject]), 1)

    rps_unit = f"req/s (median of {rounds} rounds, {load} after 2 s warm-up)"
    ratio_unit = f"ratio of req/s (median of {rounds} per-round ratios, {load})"
    figs = [
        figure("ssr_bare_rps", rps("bare"), rps_unit),
        figure("ssr_leptos_rps", rps("leptos"), rps_unit, BARE, median_ratio("leptos", "bare")),
        figure("ssr_home_rps", rps("home"), rps_unit, BARE, median_ratio("home", "bare")),
        figure("ssr_home_ratio_bare", median_ratio("home", "bare"), ratio_unit, BARE,
               median_ratio("home", "bare"), ">= 0.5"),
        figure("ssr_home_ratio_leptos", median_ratio("home", "leptos"), ratio_unit, LEPTOS,
               median_ratio("home", "leptos")),
        figure("ssr_leptos_ratio_bare", median_ratio("leptos", "bare"), ratio_unit, BARE,
               median_ratio("leptos", "bare")),
    ]
    if len(series.get("home_gzip", [])) == rounds:
        gzip = "the same request with a browser's Accept-Encoding (the page sent gzip)"
        figs += [
            figure("ssr_home_gzip_rps", rps("home_gzip"), f"{rps_unit}, {gzip}", BARE,
                   median_ratio("home_gzip", "bare")),
            figure("ssr_home_gzip_ratio_bare", median_ratio("home_gzip", "bare"), f"{ratio_unit}, {gzip}",
                   BARE, median_ratio("home_gzip", "bare")),
        ]
    if len(series.get("product", [])) == rounds:
        figs.append(figure("ssr_product_rps", rps("product"), rps_unit, BARE, median_ratio("product", "bare")))
    if len(series.get("home_on", [])) == rounds and len(series.get("home_off", [])) == rounds:
        cookies = "returning visitor, mercato_vid + mercato_ab cookies"
        figs += [
            figure("ssr_home_experiments_on_rps", rps("home_on"), f"{rps_unit}, {cookies}", EXPERIMENTS_OFF,
                   median_ratio("home_on", "home_off")),
            figure("ssr_home_experiments_off_rps", rps("home_off"), f"{rps_unit}, {cookies}, MERCATO_EXPERIMENTS=off",
                   BARE, median_ratio("home_off", "bare")),
            figure("ssr_home_experiments_ratio", median_ratio("home_on", "home_off"), f"{ratio_unit}, {cookies}",
                   EXPERIMENTS_OFF, median_ratio("home_on", "home_off"), EXPERIMENTS_GOAL),
        ]
    if len(series.get("entitled", [])) == rounds and len(series.get("me", [])) == rounds:
        session = "premium shopper's session cookie"
        figs += [
            figure("entitlements_rps", rps("entitled"), f"{rps_unit}, GET /api/v1/me/entitlements, {session}",
                   ME_ANCHOR, median_ratio("entitled", "me")),
            figure("entitlements_ratio_me", median_ratio("entitled", "me"), f"{ratio_unit}, {session}",
                   ME_ANCHOR, median_ratio("entitled", "me"), ENTITLEMENTS_GOAL),
        ]
    if len(series.get("render_flags", [])) == rounds and len(series.get("render_noflags", [])) == rounds:
        fresh = "fresh render of / (cart cookie: no page cache), 20 flags of 10 rules each evaluated per request"
        figs += [
            figure("ssr_home_flags_rps", rps("render_flags"), f"{rps_unit}, {fresh}", FLAGS_ANCHOR,
                   median_ratio("render_flags", "render_noflags")),
            figure("ssr_home_flags_ratio", median_ratio("render_flags", "render_noflags"), f"{ratio_unit}, {fresh}",
                   FLAGS_ANCHOR, median_ratio("render_flags", "render_noflags"), FLAGS_GOAL),
        ]
    if len(series.get("render_on", [])) == rounds and len(series.get("render_off", [])) == rounds:
        fresh = "returning visitor with a cart (no page cache: a full SSR per request)"
        figs += [
            figure("ssr_home_render_experiments_on_rps", rps("render_on"), f"{rps_unit}, {fresh}", EXPERIMENTS_OFF,
                   median_ratio("render_on", "render_off")),
            figure("ssr_home_render_experiments_ratio", median_ratio("render_on", "render_off"),
                   f"{ratio_unit}, {fresh}", EXPERIMENTS_OFF, median_ratio("render_on", "render_off"),
                   EXPERIMENTS_GOAL),
        ]
    if len(series.get("product_reviews", [])) == rounds and len(series.get("product_plain", [])) == rounds:
        session = "shopper's session cookie (no page cache: a full SSR per request)"
        if reviews_fixture:
            n = f"{reviews_fixture['reviews']:,}"
            reviewed = f"/products/{reviews_fixture['reviewed_sku']}, {n} approved reviews, first page of 10"
            plain = f"/products/{reviews_fixture['plain_sku']}, 0 reviews"
        else:
            reviewed, plain = "product page with 1,000 approved reviews, first page of 10", "product page, 0 reviews"
        figs += [
            figure("ssr_product_reviews_rps", rps("product_reviews"), f"{rps_unit}, {reviewed}, {session}",
                   REVIEWS_ANCHOR, median_ratio("product_reviews", "product_plain")),
            figure("ssr_product_plain_rps", rps("product_plain"), f"{rps_unit}, {plain}, {session}", BARE,
                   median_ratio("product_plain", "bare")),
            figure("ssr_product_reviews_ratio", median_ratio("product_reviews", "product_plain"),
                   f"{ratio_unit}, {reviewed}, {session}", REVIEWS_ANCHOR,
                   median_ratio("product_reviews", "product_plain"), REVIEWS_GOAL),
        ]
    return figs, series


def reviews_fixture_figures(fixture):
    n = f"{fixture['reviews']:,}"
    return [figure("reviews_fixture_seconds", round(fixture["seconds"], 3),
                   f"s to insert {n} reviewer accounts, submit {n} reviews of {fixture['reviewed_sku']} "
                   "(submit_review, one transaction each) and approve them (approve_imported, in batches), "
                   "beside the serving app")]


def size_figures(sizes):
    per_file = {row[0]: {"raw": int(row[1]), "gzip": int(row[2]), "brotli": int(row[3])} for row in sizes}
    figs = []
    code = [f for f in per_file if f.endswith(".wasm") or f.endswith(".js")]
    for kind, how in (("raw", "uncompressed"), ("gzip", "gzip -9"), ("brotli", "brotli -q 11")):
        total = sum(per_file[f][kind] for f in code)
        anchor = (f"minimal Leptos 0.8 counter app wasm, {MINIMAL_WASM[kind] // KB} KB {how} "
                  "(BENCHMARKS.md, not re-measured)")
        goal = f"<= {WASM_GOAL_BROTLI} bytes" if kind == "brotli" else None
        figs.append(figure(f"wasm_size_{kind}", total, f"bytes, {' + '.join(sorted(code))}, {how}", anchor,
                           round(total / MINIMAL_WASM[kind], 3), goal))
    for f in sorted(per_file):
        if f.endswith(".css"):
            for kind, how in (("raw", "uncompressed"), ("gzip", "gzip -9"), ("brotli", "brotli -q 11")):
                figs.append(figure(f"css_size_{kind}", per_file[f][kind], f"bytes, {f}, {how}"))
    return figs, per_file


def percentile(sorted_values, p):
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def price_figures(prices):
    lat, thr = prices["latency"], prices["throughput"]
    # A timed-out update counts as a sample at the timeout (a lower bound), so timeouts
    # push the percentiles up instead of silently dropping out of them.
    samples = sorted(lat["samples_ms"] + [lat["timeout_s"] * 1000.0] * lat["timeouts"])
    put = sorted(lat["put_ms"])
    n = len(samples)
    if n == 0 or not put:
        sys.exit("report: no price latency samples")
    unit = f"ms, webhook PUT → SSE event, n={n}, {lat['timeouts']} timeouts"
    if lat["timeouts"]:
        unit += f" (counted as {lat['timeout_s']:.0f} s)"
    if lat["truncated"]:
        unit += f", stopped at the time budget ({lat['requested']:,} planned)"
    figs = []
    for p in (50, 95, 99):
        value = percentile(samples, p)
        goal = f"<= {PRICE_LATENCY_GOAL_MS} ms" if p == 95 else None
        figs.append(figure(f"price_latency_p{p}_ms", round(value, 1), unit, PUT_ANCHOR,
                           round(value / percentile(put, p), 3), goal))

    rate = thr["applied"] / thr["seconds"] if thr["seconds"] > 0 else None
    ingest = thr["ok"] / thr["put_seconds"] if thr["put_seconds"] > 0 else None
    unit = (f"events/s, pricing consumer, n={thr['applied']}, first PUT → last applied, "
            f"{thr['puts']} PUTs on {thr['concurrency']} conns, /metrics polled every {thr['poll_ms']:.0f} ms")
    if not thr["drained"]:
        unit += f", NOT drained: {thr['applied']:,} of {thr['ok']:,} applied within the time budget"
    if thr["failed"]:
        unit += f", {thr['failed']} PUTs failed"
    figs.append(figure("stock_events_per_s", None if rate is None else round(rate, 1), unit, INGEST_ANCHOR,
                       None if rate is None or not ingest else round(rate / ingest, 3)))
    return figs, samples, put


def assign_figures(assign):
    n, runs = assign["n"], assign["runs"]
    how = f"median of {runs} runs over {n:,} visitor ids"
    figs = [
        figure("assign_ns_per_call", assign["request_ns"],
               f"ns/request (parse mercato_ab, assign, decide hero, to_json), {how}",
               goal=f"<= {ASSIGN_GOAL_NS} ns"),
        figure("assign_fresh_ns_per_call", assign["fresh_ns"],
               f"ns/call, Experiment::decide, no sticky variant (hash), {how}"),
        figure("assign_sticky_ns_per_call", assign["sticky_ns"],
               f"ns/call, Experiment::decide, sticky variant, {how}"),
    ]
    # How evenly the hash splits visitors, against the experiment's weights.
    counts, weights = assign["distribution"], assign["weights"]
    total = assign["distribution_ids"]
    chi2 = sum((counts[k] - total * w) ** 2 / (total * w) for k, w in weights.items() if w > 0)
    split = ", ".join(f"{k} {counts[k]:,}" for k in weights)
    figs.append(figure("assign_split_chi2", round(chi2, 3),
                       f"chi-square, {total:,} visitor ids over the hero's weights ({split}; "
                       f"{assign['outside']} outside), df {len(weights) - 1}, 95% quantile {CHI2_95_DF2}"))
    return figs


LEADERBOARD_GOAL_MS = 50  # p95 of the top-20 query at 100,000 members


def loyalty_figures(loyalty):
    members = loyalty["members"]
    figs = []
    for period, ms in loyalty["leaderboard_ms"].items():
        unit = (f"ms, top 20 of the {period} leaderboard, {members:,} members with points, "
                f"p95 of {loyalty['queries_per_period']} queries, {loyalty['backend']}")
        figs.append(figure(f"leaderboard_{period}_p95_ms", round(ms["p95"], 3), unit,
                           goal=f"<= {LEADERBOARD_GOAL_MS} ms"))
    balanced = "balances = sum(ledger) afterwards" if loyalty["balanced"] else "BALANCES DIFFER FROM THE LEDGER"
    figs.append(figure("ledger_writes_per_s", round(loyalty["ledger_writes_per_s"], 1),
                       f"appends/s committed, {loyalty['writers']} concurrent writers, one write transaction each, "
                       f"{loyalty['ledger_writes']:,} in {loyalty['seconds']:.1f} s, {loyalty['backend']}, {balanced}"))
    return figs


RECS_GOAL_MS = 5  # p99 over all kinds at 1,000,000 order lines, SQLite
RECS_KINDS = ("upsell", "cross_sell", "frequently_bought_together", "for_you")


def recs_figures(recs):
    backend = {"sqlite": "SQLite", "postgres": "PostgreSQL"}.get(recs["backend"], recs["backend"])
    scale = f"{recs['order_lines']:,} order lines ({recs['orders']:,} orders), {backend}"
    lat = recs["latency_ms"]
    how = f"recommend(limit {recs['limit']}), {recs['queries']:,} calls"
    figs = []
    for kind in RECS_KINDS:
        if kind not in lat:
            continue
        for p in (50, 99):
            figs.append(figure(f"recs_p{p}_ms_{kind}", round(lat[kind][f"p{p}"], 3),
                               f"ms, p{p}, {kind}, {how}, at {scale}"))
    figs.append(figure("recs_p99_ms", round(lat["all"]["p99"], 3),
                       f"ms, p99 over all kinds ({lat['all']['n']:,} calls), at {scale}", goal=f"<= {RECS_GOAL_MS} ms"))
    apply = recs["apply_order_us"]
    for p in (50, 99):
        figs.append(figure(f"recs_apply_order_us_p{p}", round(apply[f"p{p}"], 1),
                           f"µs, p{p}, add_order in its own write transaction, commit included, {apply['n']:,} orders "
                           f"of {apply['lines_per_order']:.2f} products on average, at {scale}"))
    if recs.get("peak_rss_mb") is not None:
        figs.append(figure("recs_peak_rss_mb", round(recs["peak_rss_mb"], 1),
                           f"MB, peak RSS (VmHWM) of mercato bench-recs after the queries, seed included, at {scale}"))
    figs.append(figure("recs_co_purchase_rows", recs["co_purchase_rows"],
                       f"rows in co_purchases, bounded by products² ({recs['co_purchase_rows_bound']:,} for "
                       f"{recs['products']} products) whatever the order count, at {scale}"))
    return figs


FLAG_EVAL_GOAL_NS = 1000  # one flag of 10 rules


def flags_figures(flags):
    how = f"median of {flags['runs']} runs over {flags['n']:,} visitor ids, in process"
    return [
        figure("flag_eval_ns_10_rules", round(flags["eval_ns_10_rules"], 1),
               f"ns per evaluate() of a flag with {flags['rules']} rules, all ten tried and the last a 50 % rollout "
               f"(hash of the visitor id; {flags['rollout_share']:.2%} let in), {how}",
               goal=f"<= {FLAG_EVAL_GOAL_NS} ns"),
        figure("flag_eval_ns_first_rule", round(flags["eval_ns_first_rule"], 1),
               f"ns per evaluate() of the same flag when its first rule matches, {how}"),
    ]


REPRICING_GOAL_MS = 2000  # a competitor batch for 10,000 SKUs, end to end on SQLite


def repricing_figures(repricing):
    ms = repricing["import_ms"]
    how = (f"PUT /api/v1/competitor-prices of {repricing['skus']:,} offers ({repricing['body_bytes']:,} bytes) "
           f"until every price is updated (one transaction: offers, repricing, history, events), "
           f"{ms['n']} rounds, SQLite")
    return [
        figure("repricing_10k_ms_p50", round(ms["p50"], 1), f"ms, median, {how}", goal=f"<= {REPRICING_GOAL_MS} ms"),
        figure("repricing_10k_ms_max", round(ms["max"], 1), f"ms, slowest round, {how}"),
    ]


SCALEOUT_ROUTES = ("home", "category", "product", "add_to_cart", "cart", "checkout")


def scaleout_figures(scaleout):
    two, one = scaleout["runs"]
    how = (f"{two['shoppers']} simulated shoppers (browse, cart, checkout) for {two['seconds']:.0f} s through "
           f"nginx, app servers on one PostgreSQL, all on this machine's shared cores")
    anchor = f"the same load on 1 server behind nginx (same run, {one['seconds']:.0f} s)"
    ratio = two["requests_per_s"] / one["requests_per_s"] if one["requests_per_s"] else None
    figs = [
        figure("scaleout_2_servers_req_per_s", round(two["requests_per_s"], 1), f"req/s, 2 servers, {how}",
               anchor=anchor, ratio=ratio),
        figure("scaleout_1_server_req_per_s", round(one["requests_per_s"], 1), f"req/s, 1 server, {how}"),
        figure("scaleout_5xx", two["status_5xx"] + one["status_5xx"], "5xx responses, both runs", goal="<= 0"),
        figure("scaleout_transport_errors", two["transport_errors"] + one["transport_errors"],
               "requests without an HTTP answer, both runs", goal="<= 0"),
        figure("scaleout_oversells",
               sum(len(run["oversold_skus"]) + len(run["stock_mismatches"]) for run in (two, one)),
               "products sold beyond their stock or whose stock is not start - units sold, both runs",
               goal="<= 0"),
        figure("scaleout_2_servers_orders", two["orders"], f"orders placed, 2 servers, {how}"),
    ]
    for route in SCALEOUT_ROUTES:
        if route in two["routes"] and route in one["routes"]:
            p95_two, p95_one = two["routes"][route]["p95"], one["routes"][route]["p95"]
            figs.append(figure(f"scaleout_{route}_p95_ms", round(p95_two, 1), f"ms, p95 of {route}, 2 servers, {how}",
                               anchor=f"p95 of {route} on 1 server (same run)",
                               ratio=p95_two / p95_one if p95_one else None))
    return figs


DASHBOARD_GOAL_MS = 100  # server time of /admin's dashboard at 1,000,000 events


def analytics_figures(analytics):
    backend = {"sqlite": "SQLite", "postgres": "PostgreSQL"}.get(analytics["backend"], analytics["backend"])
    scale = (f"{analytics['log_events']:,} events in the log ({analytics['events']:,} synthetic over 90 days), "
             f"{analytics['rollup_rows']:,} rollup rows, {backend}")
    figs = []
    for period, ms in analytics["dashboard_ms"].items():
        queries = analytics["report_ms"][period]["p95"]
        figs.append(figure(f"dashboard_{period}_p95_ms", round(ms["p95"], 3),
                           f"ms, p95 of {ms['n']} dashboard renders for the last {period[:-1]} days (queries "
                           f"p95 {queries:.3f} ms + HTML), at {scale}", goal=f"<= {DASHBOARD_GOAL_MS} ms"))
    figs.append(figure("analytics_live_events_per_s", round(analytics["live_events_per_s"], 1),
                       f"events/s through the outbox worker, one delivery per transaction, "
                       f"{analytics['live_deliveries_per_s']:,.0f} deliveries/s over every consumer, {backend}"))
    figs.append(figure("analytics_fold_events_per_s", round(analytics["fold_events_per_s"], 1),
                       f"events/s folded into rollups by the consumer's rule in memory (imported history), "
                       f"then written in {analytics['write_s']:.2f} s, {backend}"))
    return figs


def entitlement_cache_figures(rows):
    checks = {source: float(count) for source, count in rows}
    total = sum(checks.values())
    if total == 0:
        return []
    hits = checks.get("session", 0.0)
    return [figure("entitlement_cache_hit_ratio", round(hits / total, 4),
                   f"share of plan checks answered from the session row ({int(hits):,} of {int(total):,}, "
                   "/metrics after the load)", goal=">= 0.99")]


def fmt_value(value):
    if isinstance(value, int):
        return f"{value:,}"
    if value is None:
        return "null"
    return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples")
    parser.add_argument("--sizes")
    parser.add_argument("--prices")
    parser.add_argument("--assign")
    parser.add_argument("--entitlement-checks")
    parser.add_argument("--loyalty")
    parser.add_argument("--reviews-fixture")
    parser.add_argument("--recs")
    parser.add_argument("--analytics")
    parser.add_argument("--flags")
    parser.add_argument("--repricing")
    parser.add_argument("--scaleout")
    parser.add_argument("--out", required=True)
    parser.add_argument("--load")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--product-path", default="/products/COF-001")
    args = parser.parse_args()
    if args.samples and (not args.load or not args.rounds):
        parser.error("--samples needs --load and --rounds")
    if not (args.samples or args.sizes or args.prices or args.assign or args.recs or args.analytics or args.flags
            or args.repricing or args.scaleout):
        parser.error("nothing to report: give --samples, --sizes, --prices, --assign, --recs, --analytics, --flags, "
                     "--repricing and/or --scaleout")

    figs, series, per_file, prices, assign, reviews_fixture, recs = [], {}, {}, None, None, None, None
    if args.reviews_fixture:
        with open(args.reviews_fixture, encoding="utf-8") as f:
            reviews_fixture = json.load(f)
    if args.samples:
        ssr, series = throughput_figures(read_tsv(args.samples), args.load, args.rounds, reviews_fixture)
        figs += ssr
    if args.sizes:
        sizes, per_file = size_figures(read_tsv(args.sizes))
        figs += sizes
    if args.prices:
        with open(args.prices, encoding="utf-8") as f:
            prices = json.load(f)
        pricing, latency_ms, put_ms = price_figures(prices)
        figs += pricing
    if args.assign:
        with open(args.assign, encoding="utf-8") as f:
            assign = json.load(f)
        figs += assign_figures(assign)
    if args.loyalty:
        with open(args.loyalty, encoding="utf-8") as f:
            figs += loyalty_figures(json.load(f))
    if args.recs:
        with open(args.recs, encoding="utf-8") as f:
            recs = json.load(f)
        figs += recs_figures(recs)
    if args.analytics:
        with open(args.analytics, encoding="utf-8") as f:
            figs += analytics_figures(json.load(f))
    if args.flags:
        with open(args.flags, encoding="utf-8") as f:
            figs += flags_figures(json.load(f))
    if args.repricing:
        with open(args.repricing, encoding="utf-8") as f:
            figs += repricing_figures(json.load(f))
    scaleout = None
    if args.scaleout:
        with open(args.scaleout, encoding="utf-8") as f:
            scaleout = json.load(f)
        figs += scaleout_figures(scaleout)
    if args.entitlement_checks:
        figs += entitlement_cache_figures(read_tsv(args.entitlement_checks))
    if reviews_fixture:
        figs += reviews_fixture_figures(reviews_fixture)

    os.makedirs(args.out, exist_ok=True)
    for fig in figs:
        assert list(fig) == ["name", "value", "unit", "anchor", "ratio", "goal"]
        with open(os.path.join(args.out, f"{fig['name']}.json"), "w", encoding="utf-8") as f:
            json.dump(fig, f, indent=2)
            f.write("\n")

    labels = {"bare": "/bare (anchor)", "leptos": "/leptos (anchor)", "home": "/ (Mercato)", "home_gzip": "/ gzip (browser Accept-Encoding)",
              "home_on": "/ + mercato_ab, experiments on", "home_off": "/ + mercato_ab, experiments off",
              "render_on": "/ uncached, experiments on", "render_off": "/ uncached, experiments off",
              "product": f"{args.product_path} (Mercato)", "me": "/api/v1/me (session anchor)",
              "entitled": "/api/v1/me/entitlements", "product_reviews": "product, 1,000 reviews (session)",
              "product_plain": "product, 0 reviews (session)"}
    if reviews_fixture:
        labels["product_reviews"] = f"/products/{reviews_fixture['reviewed_sku']}, {reviews_fixture['reviews']:,} reviews"
        labels["product_plain"] = f"/products/{reviews_fixture['plain_sku']}, 0 reviews"
    print()
    if series:
        print(f"SSR throughput, req/s per round ({args.load})")
        for subject in ("bare", "leptos", "home", "home_gzip", "home_on", "home_off", "render_on", "render_off", "product", "me",
                        "entitled", "product_reviews", "product_plain"):
            if subject in series:
                rounds = "  ".join(f"{v:>10,.0f}" for v in series[subject])
                print(f"  {labels[subject]:<32} {rounds}   median {statistics.median(series[subject]):>10,.0f}")
        print()
    if per_file:
        print("Downloaded for / (bytes)")
        print(f"  {'file':<18} {'raw':>12} {'gzip -9':>12} {'brotli -q 11':>14}")
        for name, s in per_file.items():
            print(f"  {name:<18} {s['raw']:>12,} {s['gzip']:>12,} {s['brotli']:>14,}")
        print()
    if prices:
        lat, thr = prices["latency"], prices["throughput"]
        print(f"Dynamic pricing: {len(latency_ms):,} sequential inventory PUTs over {', '.join(lat['skus'])} "
              f"(stock {lat['stock'][0]} <-> {lat['stock'][1]}), {lat['timeouts']} timeouts, {lat['seconds']:.0f} s")
        print(f"  {'ms':<32} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
        for label, values in (("PUT -> SSE price event", latency_ms), ("PUT response (anchor)", put_ms)):
            print(f"  {label:<32} " + " ".join(f"{percentile(values, p):>8.1f}" for p in (50, 95, 99))
                  + f" {values[-1]:>8.1f}")
        print(f"  {thr['ok']:,} of {thr['puts']:,} PUTs accepted on {thr['concurrency']} connections in "
              f"{thr['put_seconds']:.2f} s; pricing consumer applied {thr['applied']:,} events by "
              f"{thr['seconds']:.2f} s after the first PUT; {thr['price_events_streamed']:,} price events streamed")
        print()
    if assign:
        print(f"Experiment assignment, ns per call (median of {assign['runs']} runs over {assign['n']:,} visitor ids)")
        print(f"  fresh (hash) {assign['fresh_ns']:>8,.1f}   sticky {assign['sticky_ns']:>8,.1f}   "
              f"per request {assign['request_ns']:>8,.1f}")
        print(f"  {assign['distribution_ids']:,} visitor ids over the hero's variants: "
              + ", ".join(f"{k} {v:,} ({v / assign['distribution_ids']:.2%}, weight {assign['weights'][k]:.2%})"
                          for k, v in assign["distribution"].items())
              + f", outside {assign['outside']}")
        print()

    if recs:
        print(f"Recommendations at {recs['order_lines']:,} order lines ({recs['orders']:,} orders, seeded in "
              f"{recs['seed_seconds']:.0f} s), {recs['backend']}, ms per recommend(limit {recs['limit']})")
        print(f"  {'kind':<28} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}   {'p99 shopper':>12} {'p99 visitor':>12}")
        by_viewer = recs.get("latency_ms_by_viewer", {})
        for kind, lat in recs["latency_ms"].items():
            split = by_viewer.get(kind)
            viewers = (f"   {split['shopper']['p99']:>12.3f} {split['visitor']['p99']:>12.3f}" if split else "")
            print(f"  {kind:<28} " + " ".join(f"{lat[k]:>8.3f}" for k in ("p50", "p95", "p99", "max")) + viewers)
        print()
    if scaleout:
        for run in scaleout["runs"]:
            print(f"Scale-out, {run['servers']} server(s) behind nginx on one PostgreSQL: {run['shoppers']} shoppers, "
                  f"{run['seconds']:.0f} s, {run['requests']:,} requests ({run['requests_per_s']:,.1f}/s), "
                  f"{run['orders']:,} orders, {run['refused_checkouts']:,} checkouts refused (409), "
                  f"{run['status_5xx']} 5xx, {run['transport_errors']} without answer, "
                  f"{len(run['oversold_skus'])} oversold")
            print(f"  {'route (ms)':<14} {'n':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}   statuses")
            for route in SCALEOUT_ROUTES:
                lat = run["routes"].get(route)
                if lat:
                    statuses = ", ".join(f"{k}: {v:,}" for k, v in lat["status"].items())
                    print(f"  {route:<14} {lat['n']:>8,} " + " ".join(f"{lat[k]:>8.1f}" for k in ("p50", "p95", "p99", "max"))
                          + f"   {statuses}")
            print()
    header = ("name", "value", "unit", "ratio", "goal", "result")
    rows = [(f["name"], fmt_value(f["value"]), f["unit"], "-" if f["ratio"] is None else f"{f['ratio']:.3f}",
             f["goal"] or "-", verdict(f)) for f in figs]
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = "  ".join("{:<%d}" % w if i != 1 else "{:>%d}" % w for i, w in enumerate(widths))
    print(line.format(*header).rstrip())
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row).rstrip())
    print()
    print(f"wrote {len(figs)} figures to {args.out}/<name>.json")
    missed = [f["name"] for f in figs if verdict(f) == "MISS"]
    if missed:
        print(f"goals missed: {', '.join(missed)}")


if __name__ == "__main__":
    main()
