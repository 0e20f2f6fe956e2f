"""Webhook benchmark: a refresh in which 100k customers enter a segment, its outbox written
in the refresh's transaction, then delivered to a local receiver.

    python bench/webhooks.py [--customers 100000] [--batch-size 500] [--out F.json]

In one process (the receiver in a second one, tests/activation/receiver.py, so it does not
share the deliverer's interpreter lock):

1. a workspace of ``--customers`` customers, made from a CSV DuckDB writes, one segment
   they all enter;
2. the refresh timed (after an untimed one on a third copy, which compiles the query) on
   a copy without ``[[webhooks]]`` (the baseline) and on a copy with an endpoint
   (``batch_size`` changes a message, the customer's email and country as traits): the
   difference is the cost of writing the outbox;
3. ``ws.deliver_webhooks()`` timed against the receiver checking every signature with the
   standardwebhooks library, then again (a new refresh's changes) against one that only
   records; the receiver's count of distinct changes must equal the customers.

Target of issue 18: at least 20k changes/s delivered.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import segmint

AS_OF = "2026-01-01T00:00:00Z"
LATER = "2026-01-02T00:00:00Z"


def serve(secret: str, verify: bool, urls: Any, done: Any, counts: Any) -> None:
    """The receiver process: its url out, then the distinct changes and requests once
    told to stop."""
    from tests.activation.receiver import Receiver

    with Receiver(secret, verify=verify) as receiver:
        urls.put(receiver.url)
        done.get()
        counts.put((len(receiver.changes()), receiver.requests, receiver.bad_signatures))


def make_workspace(root: Path, customers: int) -> Path:
    import duckdb

    csv = root.parent / "customers.csv"
    duckdb.connect().execute(
        "COPY (SELECT 'C' || lpad(i::VARCHAR, 7, '0') AS customer_id, "
        "'c' || i || '@example.com' AS email, 'DE' AS country "
        f"FROM range({customers}) t(i)) TO '{csv}' (HEADER)"
    )
    with segmint.init(root) as ws:
        ws.ingest("customers", csv)
        ws.add_segment("everyone_de", 'country = "DE"')
    return root


def timed_refresh(root: Path, as_of: str) -> tuple[float, int]:
    with segmint.open(root) as ws:
        started = time.perf_counter()
        result = ws.refresh(as_of=as_of, deliver=False)
        return time.perf_counter() - started, result.messages


def deliver(root: Path, secret: str, verify: bool) -> dict[str, Any]:
    urls, done, counts = mp.Queue(), mp.Queue(), mp.Queue()
    process = mp.Process(target=serve, args=(secret, verify, urls, done, counts), daemon=True)
    process.start()
    url = urls.get(timeout=30)
    config = root / "segmint.toml"
    text = config.read_text(encoding="utf-8").replace("http://receiver.invalid/", url)
    config.write_text(text, encoding="utf-8")
    with segmint.open(root) as ws:
        result = ws.deliver_webhooks()
    done.put(True)
    distinct, requests, bad = counts.get(timeout=60)
    process.join(10)
    config.write_text(text.replace(url, "http://receiver.invalid/"), encoding="utf-8")
    return {
        "verify_signatures": verify,
        "messages": result.delivered,
        "changes": result.changes,
        "seconds": round(result.seconds, 3),
        "changes_per_s": round(result.changes / result.seconds),
        "received_distinct": distinct,
        "requests": requests,
        "bad_signatures": bad,
    }


def main() -> None:
    from tests.activation.receiver import new_secret

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    secret = new_secret()
    with tempfile.TemporaryDirectory(prefix="segmint-webhooks-") as tmp:
        base = make_workspace(Path(tmp) / "base", args.customers)
        plain = Path(shutil.copytree(base, Path(tmp) / "plain"))
        hooked = Path(shutil.copytree(base, Path(tmp) / "hooked"))
        with (hooked / "segmint.toml").open("a", encoding="utf-8") as fh:
            fh.write(
                '\n[[webhooks]]\nname = "bench"\nurl = "http://receiver.invalid/"\n'
                f'secret = "{secret}"\nbatch_size = {args.batch_size}\n'
                'traits = ["email", "country"]\n'
            )
        # An untimed refresh first: the shared query is compiled once per process.
        timed_refresh(Path(shutil.copytree(base, Path(tmp) / "warm")), AS_OF)
        baseline, _ = timed_refresh(plain, AS_OF)
        with_outbox, messages = timed_refresh(hooked, AS_OF)
        verified = deliver(hooked, secret, verify=True)
        # The next day everyone exits (a new rule): another outbox of the same size.
        with segmint.open(hooked) as ws:
            ws.add_segment("everyone_de", 'country = "FR"', replace=True)
        timed_refresh(hooked, LATER)
        recorded = deliver(hooked, secret, verify=False)
    figures = {
        "customers": args.customers,
        "batch_size": args.batch_size,
        "refresh_without_webhooks_s": round(baseline, 3),
        "refresh_with_outbox_s": round(with_outbox, 3),
        "outbox_write_s": round(with_outbox - baseline, 3),
        "messages": messages,
        "deliveries": [verified, recorded],
    }
    for d in figures["deliveries"]:  # type: ignore[attr-defined]
        assert d["received_distinct"] == args.customers and d["bad_signatures"] == 0, d
    print(json.dumps(figures, indent=2))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
