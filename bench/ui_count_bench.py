"""The builder's live count in a real browser: edit -> updated count.

    python bench/ui_count_bench.py --workspace bench/data/ws-sorted [--out F.json]

Serves the workspace (``segmint serve``, no sweep), opens the builder in Debian's
Chromium (Playwright), and types 16 rules into the text form one after another (country,
order count and window varied: each a rule not counted before). For each, the time from
the keystroke to the new count on the page: the builder's debounce, the API's check of
the rule, the count, and the rendering. The first two edits warm the server up and are
reported apart.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

import segmint

EDITS = [
    f'country = "{c}" and did order_completed at least {n} times in last {d} days'
    for c in ("US", "DE", "FR", "GB")
    for n in (2, 3)
    for d in (90, 60)
]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--workspace", type=Path, default=Path("bench/data/ws-sorted"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with segmint.open(args.workspace) as ws:
        key = ws.create_key(f"ui-bench-{int(time.time())}", "read").key or ""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "segmint", "-w", str(args.workspace), "serve"]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--sweep-minutes", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    latencies: list[float] = []
    try:
        for _ in range(1200):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=args.chromium, args=["--no-sandbox"]
            )
            page = browser.new_page()
            page.goto(url + "/")
            page.get_by_label("API key").fill(key)
            page.get_by_role("button", name="Open").click()
            page.get_by_role("link", name="New segment").click()
            counter = page.get_by_test_id("live-count").locator("strong")
            counter.wait_for(timeout=120_000)
            page.get_by_role("tab", name="Text").click()
            box = page.get_by_role("textbox", name="Rule")
            for rule in EDITS:
                before = counter.inner_text()
                started = time.perf_counter()
                box.fill(rule)
                # The page's content security policy forbids evaluating strings, so the
                # count is polled from here.
                while True:
                    now = counter.inner_text() if counter.count() else ""
                    if now and now != before:
                        break
                    if time.perf_counter() - started > 60:
                        raise SystemExit(f"no count for {rule!r}")
                latencies.append((time.perf_counter() - started) * 1000)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=60)
    warm = sorted(latencies[2:])
    report = {
        "workspace": str(args.workspace),
        "edits_ms": [round(x, 1) for x in latencies],
        "warm_median_ms": round(warm[len(warm) // 2], 1),
        "warm_max_ms": round(warm[-1], 1),
    }
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
