"""The web UI's shell served by ``segmint serve`` (docs/ui.md): the page and its assets
come from the package, need no key, carry a content security policy that allows only
the server itself, and the API behind them still needs one."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

import segmint
from segmint.server.app import UI
from tests.server.conftest import serving


def test_the_ui_is_served_at_the_root_without_a_key(tmp_path: Path) -> None:
    segmint.init(tmp_path / "ws").close()
    with serving(tmp_path / "ws") as server, httpx.Client(base_url=server.url) as http:
        page = http.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        scripts = re.findall(r'src="(/assets/[^"]+\.js)"', page.text)
        styles = re.findall(r'href="(/assets/[^"]+\.css)"', page.text)
        assert scripts and styles
        for path in scripts + styles:
            asset = http.get(path)
            assert asset.status_code == 200, path
            assert asset.content == (UI / path.removeprefix("/")).read_bytes()
        assert "javascript" in http.get(scripts[0]).headers["content-type"]
        # Nothing from a CDN: every script and style is the server's own.
        assert not re.search(r'(src|href)="https?://', page.text)
        assert http.get("/v1/segments").status_code == 401
        with server.client("read") as reader:
            assert reader.get("/v1/segments").status_code == 200


def test_the_built_ui_is_in_the_package() -> None:
    index = (UI / "index.html").read_text(encoding="utf-8")
    for path in re.findall(r'(?:src|href)="/(assets/[^"]+)"', index):
        assert (UI / path).is_file(), path
