"""Screenshots of the web UI's pages for docs/ui/ (shown in the README and docs/ui.md).

    .venv/bin/python ui/screenshots.py [--out docs/ui] [--customers 3000]

Builds the demo shop in a temporary folder, serves it with ``segmint serve`` on
127.0.0.1, and photographs each page in Debian's Chromium (Playwright) at 1280 px and at
phone width (390 px).
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

import segmint

EXAMPLE = (
    'country in ["US", "GB"] and (did order_completed at least 2 times in last 90 days '
    'or not plan = "free")'
)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else "")
    parser.add_argument("--out", type=Path, default=Path("docs/ui"))
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "shop"
        segmint.build_demo(root, customers=args.customers)
        with segmint.open(root) as ws:
            key = ws.create_key("screenshots", "read").key or ""
        port = _port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "segmint", "-w", str(root), "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=args.chromium, args=["--no-sandbox"]
                )
                for width, suffix in ((1280, ""), (390, "-phone")):
                    page = browser.new_page(viewport={"width": width, "height": 900})
                    page.goto(url + "/")
                    page.get_by_label("API key").fill(key)
                    page.get_by_role("button", name="Open").click()
                    page.locator("tbody tr").first.wait_for()
                    page.screenshot(path=args.out / f"segments{suffix}.png", full_page=False)
                    page.get_by_role("link", name="New segment").click()
                    page.get_by_test_id("live-count").locator("strong").wait_for()
                    page.get_by_role("tab", name="Text").click()
                    page.get_by_role("textbox", name="Rule").fill(EXAMPLE)
                    page.wait_for_timeout(1000)
                    page.get_by_role("tab", name="Builder").click()
                    page.wait_for_timeout(500)
                    page.screenshot(path=args.out / f"builder{suffix}.png", full_page=True)
                    page.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"wrote {len(list(args.out.glob('*.png')))} screenshots to {args.out}")


if __name__ == "__main__":
    main()
