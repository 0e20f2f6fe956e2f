"""Browser tests of the web UI (docs/ui.md): Playwright driving Debian's Chromium
(``/usr/bin/chromium``; Playwright's own browser download is not used), against a real
``segmint serve`` on 127.0.0.1.

A missing Chromium fails the test with how to install it; nothing is skipped silently.
``SEGMINT_NO_BROWSER=1`` skips the browser tests instead."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("SEGMINT_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if os.environ.get("SEGMINT_NO_BROWSER") == "1":
        pytest.skip("SEGMINT_NO_BROWSER=1: browser tests skipped")
    if not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it (Debian: apt-get install -y "
            "chromium; .ci/run does it), point SEGMINT_CHROMIUM at it, or set "
            "SEGMINT_NO_BROWSER=1 to skip the browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        context.close()
