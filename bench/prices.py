#!/usr/bin/env python3
"""Dynamic-pricing measurements for bench/run.sh (Python 3 standard library only).

Each part starts its own `mercato serve` on a free 127.0.0.1 port with a fresh SQLite
database (demo seed) and stops it afterwards, whatever happens.

1. Latency, stock to browser: one SSE client on GET /api/v1/prices/stream; then, one at a
   time, PUT /api/v1/inventory/{sku} alternating stock 3 (scarcity markup, price rises) and
   50 (back to base, price falls) over a few SKUs round-robin, and for each PUT the time from
   sending it to receiving the SSE `price` event for that SKU moving in the expected direction
   (5 s timeout per update, timeouts counted; a random 0-100 ms pause before each PUT). The PUT's own response time is kept too, as the
   anchor: what the pipeline (outbox, pricing consumer, stream tailer) adds over the write.
2. Throughput of the pricing consumer: N inventory PUTs fired by C concurrent keep-alive
   connections, GET /metrics polled meanwhile; events applied by the pricing consumer
   (`mercato_events_applied_total{consumer="pricing"}`) per second from the first PUT sent
   until the counter has grown by the number of accepted PUTs.

Writes the raw results as one JSON file (--out); bench/report.py turns them into figures.
"""

import argparse
import http.client
import json
import os
import queue
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

TOKEN = "bench"
STOCK_LOW = 3  # < 5: +15 % of base (scarcity markup)
STOCK_NORMAL = 50  # 5..=100: base price
UPDATE_TIMEOUT_S = 5.0
POLL_S = 0.02  # /metrics poll interval during the throughput part
# A random pause before each sequential PUT, uniform over the stream tailer's 100 ms poll
# interval: sending the next PUT right after an event would land every PUT just after a
# tailer pass and measure the full interval each time instead of a random phase of it.
PAUSE_S = 0.1


def log(msg):
    print(f"\033[1;34m--> {msg}\033[0m", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------
# Server and HTTP helpers
# ---------------------------------------------------------------------------------------


class Server:
    """`mercato serve` on a fresh SQLite database in its own directory under `tmp`."""

    def __init__(self, binary, tmp, name):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"{name}.", dir=tmp)
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "app.log")
        env = dict(os.environ)
        env.update({
            "MERCATO_ADDR": f"127.0.0.1:{self.port}",
            "DATABASE_URL": f"sqlite://{self.dir}/bench.db?mode=rwc",
            "MERCATO_INVENTORY_TOKEN": TOKEN,
            "RUST_LOG": "warn",
        })
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([binary, "serve"], stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)

    def tail(self, n=30):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def wait_healthy(self, timeout=120.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"mercato serve ({self.name}) exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                ok = conn.getresponse().status == 200
                conn.close()
                if ok:
                    return
            except OSError:
                pass
            time.sleep(0.25)
        raise BenchError(f"mercato serve ({self.name}) did not answer /healthz within {timeout:.0f} s:\n{self.tail()}")

    def errors_logged(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return [line.rstrip() for line in f if "panicked" in line or "ERROR" in line]
        except OSError:
            return []

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


class Client:
    """One keep-alive HTTP/1.1 connection; reconnects once if the server closed it."""

    def __init__(self, port, timeout=10.0):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def connect(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def request(self, method, path, body=None, headers=None):
        for attempt in (1, 2):
            if self.conn is None:
                self.connect()
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                return resp.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise

    def get_json(self, path):
        status, data = self.request("GET", path)
        if status != 200:
            raise BenchError(f"GET {path} answered {status}: {data[:200]!r}")
        return json.loads(data)

    def put_stock(self, sku, stock):
        body = json.dumps({"stock": stock}).encode()
        return self.request("PUT", f"/api/v1/inventory/{sku}", body=body, headers={
            "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})

    def metrics(self):
        status, data = self.request("GET", "/metrics")
        if status != 200:
            raise BenchError(f"GET /metrics answered {status}")
        text = data.decode("utf-8", "replace")
        applied = re.search(r'^mercato_events_applied_total\{consumer="pricing"\}\s+(\S+)', text, re.M)
        pending = re.search(r"^mercato_outbox_pending\s+(\S+)", text, re.M)
        return (int(float(applied.group(1))) if applied else 0,
                int(float(pending.group(1))) if pending else None)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class SseClient:
    """GET /api/v1/prices/stream on a raw socket; a reader thread parses the stream
    (chunked or not) and queues (arrival perf_counter, id, data dict) per `price` event."""

    def __init__(self, port):
        self.events = queue.Queue()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall((f"GET /api/v1/prices/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n").encode())
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise BenchError("the price stream closed before its headers")
            raw += chunk
        head, self._raw = raw.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if lines[0].split()[1:2] != ["200"]:
            raise BenchError(f"GET /api/v1/prices/stream answered: {lines[0]}")
        headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
        if not headers.get("content-type", "").startswith("text/event-stream"):
            raise BenchError(f"the price stream is {headers.get('content-type')!r}, not text/event-stream")
        self._chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        self._text = b""
        self._stop = threading.Event()
        self.error = None
        self.received = 0
        self.sock.settimeout(0.5)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._feed(time.perf_counter(), b"")

    def _run(self):
        try:
            while not self._stop.is_set():
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    continue
                now = time.perf_counter()
                if not data:
                    if not self._stop.is_set():
                        self.error = "the price stream closed"
                    return
                self._feed(now, data)
        except OSError as e:
            if not self._stop.is_set():
                self.error = f"price stream: {e}"

    def _feed(self, now, data):
        self._raw += data
        if self._chunked:
            while True:
                line_end = self._raw.find(b"\r\n")
                if line_end < 0:
                    break
                size = int(self._raw[:line_end].split(b";")[0], 16)
                if size == 0:
                    self._stop.set()
                    break
                if len(self._raw) < line_end + 2 + size + 2:
                    break
                self._text += self._raw[line_end + 2:line_end + 2 + size]
                self._raw = self._raw[line_end + 2 + size + 2:]
        else:
            self._text, self._raw = self._text + self._raw, b""
        self._text = self._text.replace(b"\r\n", b"\n")
        while b"\n\n" in self._text:
            block, self._text = self._text.split(b"\n\n", 1)
            fields = {}
            for line in block.decode("utf-8", "replace").split("\n"):
                if not line or line.startswith(":"):
                    continue
                key, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                fields[key] = fields[key] + "\n" + value if key == "data" and key in fields else value
            if fields.get("event") == "price" and "data" in fields:
                self.received += 1
                self.events.put((now, fields.get("id"), json.loads(fields["data"])))

    def wait_for(self, match, deadline):
        """The first queued event that `match`es (earlier ones are dropped), or None at `deadline`."""
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            try:
                event = self.events.get(timeout=min(left, 0.25))
            except queue.Empty:
                if self.error:
                    raise BenchError(self.error)
                continue
            if match(event[2]):
                return event

    def discard(self):
        n = 0
        while True:
            try:
                self.events.get_nowait()
                n += 1
            except queue.Empty:
                return n

    def close(self):
        self._stop.set()
        try:
            self.sock.close()
        except OSError:
            pass
        self._thread.join(2)


# ---------------------------------------------------------------------------------------
# Part 1: PUT → SSE latency
# ---------------------------------------------------------------------------------------


def settle_at_base(client, skus, timeout=20.0):
    """Sets each SKU's stock to STOCK_NORMAL and waits until it sells at its base price (a
    seeded overstock / scarcity price may need more than one step, which is not measured)."""
    for sku in skus:
        status, data = client.put_stock(sku, STOCK_NORMAL)
        if status != 200:
            raise BenchError(f"PUT /api/v1/inventory/{sku} answered {status}: {data[:200]!r}")
    deadline = time.monotonic() + timeout
    while True:
        prices = {sku: client.get_json(f"/api/v1/products/{sku}")["price"] for sku in skus}
        if all(p["amount_cents"] == p["base_cents"] for p in prices.values()):
            return {sku: p["amount_cents"] for sku, p in prices.items()}
        if time.monotonic() > deadline:
            raise BenchError(f"prices did not settle at base within {timeout:.0f} s: {prices}")
        # Another stock event steps a step-limited price further towards the base.
        for sku, p in prices.items():
            if p["amount_cents"] != p["base_cents"]:
                client.put_stock(sku, STOCK_NORMAL)
        time.sleep(0.2)


def measure_latency(binary, tmp, skus, updates, warmup, hard_deadline):
    server = Server(binary, tmp, "latency")
    sse = client = None
    try:
        server.wait_healthy()
        client = Client(server.port)
        catalog = {p["sku"] for p in client.get_json("/api/v1/products")["items"]}
        missing = [s for s in skus if s not in catalog]
        if missing:
            raise BenchError(f"SKUs not in the demo catalog: {', '.join(missing)}")
        sse = SseClient(server.port)
        base = settle_at_base(client, skus)
        last = dict(base)
        time.sleep(0.3)
        sse.discard()

        log(f"latency: {updates} sequential inventory PUTs (+{warmup} warm-up) over "
            f"{', '.join(skus)}, stock {STOCK_LOW} <-> {STOCK_NORMAL}, SSE event per PUT, "
            f"{UPDATE_TIMEOUT_S:.0f} s timeout each, random 0-{PAUSE_S * 1000:.0f} ms pause before each")
        latencies, put_ms, timeouts, truncated = [], [], 0, False
        rng = random.Random(1)
        started = time.perf_counter()
        for i in range(warmup + updates):
            if time.monotonic() > hard_deadline:
                truncated = True
                log(f"latency: time budget used up after {len(latencies) + timeouts} measured updates")
                break
            time.sleep(rng.uniform(0, PAUSE_S))
            sku = skus[i % len(skus)]
            # Rise when at base, fall otherwise: self-correcting even after a timeout.
            rise = last[sku] <= base[sku]
            t0 = time.perf_counter()
            status, data = client.put_stock(sku, STOCK_LOW if rise else STOCK_NORMAL)
            t_put = time.perf_counter()
            if status != 200:
                raise BenchError(f"PUT /api/v1/inventory/{sku} answered {status}: {data[:200]!r}")
            prev = last[sku]
            event = sse.wait_for(
                lambda d: d.get("sku") == sku and (d["amount_cents"] > prev if rise else d["amount_cents"] < prev),
                t0 + UPDATE_TIMEOUT_S)
            measured = i >= warmup
            if event is None:
                last[sku] = client.get_json(f"/api/v1/products/{sku}")["price"]["amount_cents"]
                if measured:
                    timeouts += 1
                continue
            last[sku] = event[2]["amount_cents"]
            if measured:
                latencies.append((event[0] - t0) * 1000.0)
                put_ms.append((t_put - t0) * 1000.0)
            if measured and (i - warmup + 1) % 250 == 0:
                done = sorted(latencies)
                log(f"latency: {i - warmup + 1}/{updates}, median so far {done[len(done) // 2]:.1f} ms")
        elapsed = time.perf_counter() - started
        for line in server.errors_logged()[-5:]:
            log(f"warning: latency server logged: {line}")
        return {"samples_ms": [round(x, 3) for x in latencies], "put_ms": [round(x, 3) for x in put_ms],
                "timeouts": timeouts, "requested": updates, "warmup": warmup, "truncated": truncated,
                "skus": skus, "stock": [STOCK_LOW, STOCK_NORMAL], "seconds": round(elapsed, 2),
                "timeout_s": UPDATE_TIMEOUT_S, "pause_ms": PAUSE_S * 1000}
    finally:
        if sse:
            sse.close()
        if client:
            client.close()
        server.stop()


# ---------------------------------------------------------------------------------------
# Part 2: stock events processed per second
# ---------------------------------------------------------------------------------------


def measure_throughput(binary, tmp, skus, n_puts, concurrency, hard_deadline):
    server = Server(binary, tmp, "throughput")
    client = sse = None
    stop_polling = threading.Event()
    try:
        server.wait_healthy()
        client = Client(server.port)
        # Let the startup repricing finish so the baseline is quiet.
        quiet_by = time.monotonic() + 30
        while True:
            applied0, pending0 = client.metrics()
            if pending0 == 0:
                break
            if time.monotonic() > quiet_by:
                raise BenchError(f"the outbox still has {pending0} pending deliveries 30 s after start")
            time.sleep(0.1)
        sse = SseClient(server.port)

        samples = []  # (perf_counter when the answer arrived, applied, pending)
        poll_client = Client(server.port)

        def poll():
            while not stop_polling.is_set():
                try:
                    applied, pending = poll_client.metrics()
                    samples.append((time.perf_counter(), applied, pending))
                except (OSError, http.client.HTTPException, BenchError) as e:
                    log(f"warning: GET /metrics failed: {e}")
                    poll_client.close()
                stop_polling.wait(POLL_S)

        lock = threading.Lock()
        jobs = iter(range(n_puts))
        results = []  # (sent, answered, status)

        def worker(conn):
            mine = []
            try:
                while True:
                    with lock:
                        i = next(jobs, None)
                    if i is None or time.monotonic() > hard_deadline:
                        break
                    sku = skus[i % len(skus)]
                    stock = STOCK_LOW if (i // len(skus)) % 2 == 0 else STOCK_NORMAL
                    t0 = time.perf_counter()
                    status, _ = conn.put_stock(sku, stock)
                    mine.append((t0, time.perf_counter(), status))
            except (OSError, http.client.HTTPException) as e:
                mine.append((time.perf_counter(), time.perf_counter(), f"{type(e).__name__}: {e}"))
            finally:
                with lock:
                    results.extend(mine)
                conn.close()

        conns = []
        for _ in range(concurrency):
            c = Client(server.port)
            c.connect()
            conns.append(c)
        log(f"throughput: {n_puts} inventory PUTs over {concurrency} concurrent connections "
            f"({', '.join(skus)}, stock {STOCK_LOW} <-> {STOCK_NORMAL}), then until the pricing consumer "
            f"has applied them all (GET /metrics every {POLL_S * 1000:.0f} ms)")
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in conns]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(1.0, hard_deadline - time.monotonic() + 15))
        ok = sum(1 for r in results if r[2] == 200)
        failed = [r[2] for r in results if r[2] != 200]
        if not results:
            raise BenchError("no inventory PUT was sent")
        t_first = min(r[0] for r in results)
        t_last_put = max(r[1] for r in results)
        if failed:
            log(f"warning: {len(failed)} inventory PUTs failed, e.g. {failed[:3]}")

        target = applied0 + ok
        drained_at = None
        while time.monotonic() < hard_deadline:
            hit = next((s for s in samples if s[1] >= target), None)
            if hit:
                drained_at = hit
                break
            time.sleep(POLL_S)
        stop_polling.set()
        poller.join(5)
        poll_client.close()
        if drained_at is None:
            if not samples:
                raise BenchError("GET /metrics never answered during the throughput part")
            drained_at = samples[-1]
            log(f"warning: the pricing consumer applied {drained_at[1] - applied0} of {ok} events "
                f"within the time budget")
        time.sleep(0.5)  # the stream tailer polls every 100 ms
        applied = drained_at[1] - applied0
        seconds = drained_at[0] - t_first
        for line in server.errors_logged()[-5:]:
            log(f"warning: throughput server logged: {line}")
        return {"puts": n_puts, "sent": len(results), "ok": ok, "failed": len(failed),
                "concurrency": concurrency, "skus": skus, "stock": [STOCK_LOW, STOCK_NORMAL],
                "applied": applied, "drained": applied >= ok, "seconds": round(seconds, 4),
                "put_seconds": round(t_last_put - t_first, 4), "poll_ms": POLL_S * 1000,
                "price_events_streamed": sse.received, "pending_at_end": drained_at[2]}
    finally:
        stop_polling.set()
        if sse:
            sse.close()
        if client:
            client.close()
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True, help="the release mercato binary")
    parser.add_argument("--tmp", required=True, help="a scratch directory (databases, logs)")
    parser.add_argument("--out", required=True, help="where to write the raw results (JSON)")
    parser.add_argument("--skus", default="COF-001,TEA-001,MUG-001,SNK-001")
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=8)
    parser.add_argument("--puts", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--budget", type=float, default=170.0, help="seconds for both parts together")
    args = parser.parse_args()
    # SIGTERM (run.sh's cleanup) unwinds through the `finally`s, which stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    skus = [s.strip() for s in args.skus.split(",") if s.strip()]
    start = time.monotonic()
    try:
        # The latency part may use what the throughput part (~10-20 s) does not need.
        latency = measure_latency(args.bin, args.tmp, skus, args.updates, args.warmup,
                                  start + args.budget - 45)
        throughput = measure_throughput(args.bin, args.tmp, skus, args.puts, args.concurrency,
                                        start + args.budget)
    except (BenchError, OSError, http.client.HTTPException, ValueError) as e:
        print(f"\033[1;31mbench error:\033[0m {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"latency": latency, "throughput": throughput}, f)
    log(f"pricing part took {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
