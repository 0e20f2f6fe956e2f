"""Server benchmark (issue 20): HTTP ingest throughput, event-to-membership latency and
look-up latency of a real ``segmint serve``, driven from separate processes.

    python bench/server_bench.py ingest  [--workspace W] [--seconds 20] [--clients 4]
    python bench/server_bench.py latency [--workspace W] [--rate 1000] [--seconds 30]
    python bench/server_bench.py lookup  [--workspace W] [--rate 1000] [--seconds 30]
    ... [--out F.json]

``--workspace`` is copied first (the bench writes to it); without it a fresh workspace
with 10,000 customers is made. The server runs as ``python -m segmint serve`` and the load
comes from other processes (multiprocessing), so neither shares the other's interpreter.
Each measure starts once the server's start-up work (its first sweep) is done.

- ``ingest``: ``--clients`` processes post batches of 100 ``track`` messages to
  ``/v1/batch`` as fast as the server acknowledges them, for ``--seconds``. Reported:
  messages acknowledged per second, and per second until the last one was also loaded
  into the store. The hand-written baseline in the same run: the same clients against a
  bare uvicorn application that parses each body and answers 200 (no key, no journal, no
  store), the ceiling of HTTP and JSON on this machine.
- ``latency``: a live segment ``bench-buyers`` (``did order_completed``), and a client
  sending ``--rate`` messages a second (a batch of 10 every 10 ms), each a purchase of a
  new customer, so each one enters the segment. Reported: from a message's arrival to its
  membership change being recorded, p50/p95/p99 (the server's own clock,
  ``/v1/status``).
- ``lookup``: a load generator sending ``--rate`` requests a second (open loop: each is
  sent on schedule, not when the previous one answered) for
  ``GET /v1/profiles/{id}/segments`` of random customers; reported: p50/p99/max of the
  time each took, measured by the generator.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from fastapi import Request

import segmint
from tests.server.conftest import free_port, make_keys, start_server

BATCH = 100


def _workspace(given: Path | None, folder: Path, customers: int = 10_000) -> Path:
    root = folder / "ws"
    if given is not None:
        shutil.copytree(given, root, ignore=shutil.ignore_patterns("segmint.lock", "server.json"))
        return root
    ws = segmint.init(root)
    rows = [{"customer_id": f"C{i}", "email": f"c{i}@example.com"} for i in range(customers)]
    import pyarrow as pa

    ws.ingest("customers", pa.Table.from_pylist(rows))
    ws.close()
    return root


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "n": len(ordered),
        "p50_ms": at(0.50) * 1000,
        "p95_ms": at(0.95) * 1000,
        "p99_ms": at(0.99) * 1000,
        "max_ms": ordered[-1] * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
    }


# -- ingest ------------------------------------------------------------------------------


def _post_batches(url: str, key: str, seconds: float, client: int, counts: Any) -> None:
    sent = 0
    stop = time.monotonic() + seconds
    with httpx.Client(base_url=url, auth=(key, ""), timeout=30) as http:
        while time.monotonic() < stop:
            body = {
                "batch": [
                    {"type": "track", "userId": f"B{client}-{sent + i}",
                     "event": "bench_event", "messageId": f"b{client}-{sent + i}",
                     "timestamp": "2026-11-01T10:00:00Z", "properties": {"n": sent + i}}
                    for i in range(BATCH)
                ]
            }  # fmt: skip
            answer = http.post("/v1/batch", json=body)
            if answer.status_code == 200:
                sent += BATCH
            elif answer.status_code == 429:
                time.sleep(float(answer.headers.get("Retry-After", "1")))
            else:
                raise SystemExit(f"{answer.status_code}: {answer.text}")
    counts.put(sent)


def _settled(server: Any, timeout: float = 600) -> None:
    """Until the server's start-up work is done (the first sweep: the live segments'
    refresh and everyone's traits for the look-ups): the figures are of steady state."""
    deadline = time.monotonic() + timeout
    while server.status()["sweeps"] < 1:
        if time.monotonic() > deadline:
            raise SystemExit("the server's first sweep did not finish")
        time.sleep(0.2)


def _drive(url: str, key: str, seconds: float, clients: int) -> tuple[int, float]:
    counts: Any = mp.Queue()
    started = time.perf_counter()
    workers = [
        mp.Process(target=_post_batches, args=(url, key, seconds, c, counts))
        for c in range(clients)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    return sum(counts.get() for _ in workers), elapsed


def _bare_app(port: int) -> None:
    """The baseline: parse the body, answer 200."""
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    app = FastAPI()

    @app.post("/v1/batch")
    async def batch(request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        return JSONResponse({"success": True, "n": len(body["batch"])})

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def bench_ingest(root: Path, seconds: float, clients: int) -> dict[str, Any]:
    keys = make_keys(root)
    server = start_server(root, keys)
    try:
        _settled(server)
        started = time.perf_counter()
        acknowledged, elapsed = _drive(server.url, keys["write"], seconds, clients)
        server.wait_applied(acknowledged=acknowledged, timeout=600)
        applied_seconds = time.perf_counter() - started
        status = server.status()
    finally:
        server.stop()
    port = free_port()
    bare = mp.Process(target=_bare_app, args=(port,))
    bare.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    baseline, base_elapsed = _drive(url, "none", seconds, clients)
    bare.terminate()
    bare.join()
    return {
        "clients": clients,
        "seconds": elapsed,
        "acknowledged": acknowledged,
        "acknowledged_per_s": acknowledged / elapsed,
        "applied_batches": status["batches"],
        "applied_per_s": acknowledged / applied_seconds,
        "baseline_per_s": baseline / base_elapsed,
        "ratio_to_baseline": (acknowledged / elapsed) / (baseline / base_elapsed),
        "applied_seconds": applied_seconds,
    }


# -- latency -----------------------------------------------------------------------------


def _steady(url: str, key: str, rate: int, seconds: float, sent: Any) -> None:
    per_batch = 10
    interval = per_batch / rate
    n = 0
    next_at = time.monotonic()
    stop = next_at + seconds
    with httpx.Client(base_url=url, auth=(key, ""), timeout=30) as http:
        while next_at < stop:
            body = {
                "batch": [
                    {"type": "track", "userId": f"L{n + i}", "event": "order_completed",
                     "messageId": f"l{n + i}", "properties": {"revenue": 10}}
                    for i in range(per_batch)
                ]
            }  # fmt: skip
            http.post("/v1/batch", json=body).raise_for_status()
            n += per_batch
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
    sent.put(n)


def bench_latency(root: Path, rate: int, seconds: float) -> dict[str, Any]:
    with segmint.open(root) as ws:
        ws.ingest_messages(
            [{"type": "track", "userId": "L-seed", "event": "order_completed",
              "messageId": "l-seed", "properties": {"revenue": 1}}]
        )  # fmt: skip
        ws.add_segment("bench-buyers", "did order_completed", live=True, replace=True)
    keys = make_keys(root)
    server = start_server(root, keys, timeout=600)
    try:
        _settled(server)
        sent: Any = mp.Queue()
        sender = mp.Process(target=_steady, args=(server.url, keys["write"], rate, seconds, sent))
        sender.start()
        sender.join()
        total = sent.get()
        server.wait_applied(acknowledged=total, timeout=600)
        time.sleep(0.5)
        status = server.status()
    finally:
        server.stop()
    return {"rate": rate, "sent": total, "latency": status.pop("live_latency"), "status": status}


# -- lookup ------------------------------------------------------------------------------


def _generate(url: str, key: str, ids: list[str], rate: int, seconds: float, out: Any) -> None:
    """The load generator: raw HTTP/1.1 on keep-alive connections with asyncio (an HTTP
    client library costs more CPU per request than the server does, and on two cores
    would measure itself). Request i is due at ``i / rate``; it waits for a free
    connection if need be, and that wait counts in its time."""
    import base64
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    auth = base64.b64encode(f"{key}:".encode()).decode()

    async def run() -> list[float]:
        free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
        for _ in range(32):
            free.put_nowait(await asyncio.open_connection(parts.hostname, parts.port))
        took: list[float] = []
        errors = 0

        async def one(customer: str, due: float) -> None:
            nonlocal errors
            reader, writer = await free.get()
            writer.write(
                f"GET /v1/profiles/{customer}/segments HTTP/1.1\r\nHost: bench\r\n"
                f"Authorization: Basic {auth}\r\n\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            took.append(time.perf_counter() - due)
            if not head.startswith(b"HTTP/1.1 200"):
                errors += 1
            free.put_nowait((reader, writer))

        rng = random.Random(1)
        for _ in range(200):  # warm up
            await one(rng.choice(ids), time.perf_counter())
        took.clear()
        tasks = []
        begin = time.perf_counter()
        for i in range(int(rate * seconds)):
            due = begin + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(rng.choice(ids), due)))
        await asyncio.gather(*tasks)
        if errors:
            raise SystemExit(f"{errors} look-ups failed")
        return took

    out.put(asyncio.run(run()))


def bench_lookup(root: Path, rate: int, seconds: float) -> dict[str, Any]:
    with segmint.open(root) as ws:
        customers = [
            r["value"] for r in ws.profile_keys().to_pylist() if r["kind"] == "customer_id"
        ]
        # Everyone is in one segment, so each answer carries a segment.
        ws.add_segment("bench-all", {"and": []}, replace=True)
        ws.refresh(["bench-all"])
    keys = make_keys(root)
    server = start_server(root, keys, timeout=600)
    try:
        _settled(server)
        out: Any = mp.Queue()
        gen = mp.Process(
            target=_generate, args=(server.url, keys["read"], customers, rate, seconds, out)
        )
        gen.start()
        took = out.get()
        gen.join()
    finally:
        server.stop()
    return {"rate": rate, "customers": len(customers), "latency": _percentiles(took)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["ingest", "latency", "lookup"])
    parser.add_argument("--workspace", type=Path)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent / "data") as tmp:
        root = _workspace(args.workspace, Path(tmp))
        if args.what == "ingest":
            result = bench_ingest(root, args.seconds, args.clients)
        elif args.what == "latency":
            result = bench_latency(root, args.rate, args.seconds)
        else:
            result = bench_lookup(root, args.rate, args.seconds)
    result["workspace"] = str(args.workspace or "fresh, 10,000 customers")
    print(json.dumps(result, indent=2, default=str))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
