"""Shared by every test: each test starts with the misconception guards on, no check armed and
no warning given yet (they warn once per process, which would otherwise couple tests); and one
headless Chromium per module for the tests that open pages (the stepper, the docs site)."""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

from autograd_core import guards
from viz.cli.main import skip_slow_optional_imports

skip_slow_optional_imports()     # nbformat's jsonschema would spend 1 s per worker on a grammar

CHROMIUM = os.environ.get("CHAINRULE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Debian Chromium per test module, driven by Playwright."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):             # CI installs Chromium: its absence is a failure
            pytest.fail(f"no Chromium at {CHROMIUM}; .ci/run should have installed it")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    """Static files with the media types browsers insist on (``.wasm`` for streaming
    compilation, ``.mjs`` as a module), and no request log on stderr."""
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".js": "text/javascript",
                      ".mjs": "text/javascript", ".whl": "application/zip"}

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """``folder`` served over HTTP on 127.0.0.1 (a free port) while the block runs; yields
    its base URL, ``http://127.0.0.1:PORT/``."""
    handler = functools.partial(_QuietFiles, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def keep_offline(page: object, allowed: str | tuple[str, ...]) -> list[str]:
    """Abort every request of ``page`` to a URL not starting with ``allowed`` and return the
    list those URLs are recorded in (requests, and websockets too); a test asserts it empty."""
    elsewhere: list[str] = []

    def route(r: object) -> None:
        if r.request.url.startswith(allowed):
            r.continue_()
        else:
            elsewhere.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("request", lambda req: None if req.url.startswith(allowed) else elsewhere.append(req.url))
    page.on("websocket", lambda ws: None if ws.url.startswith(allowed) else elsewhere.append(ws.url))
    return elsewhere


@pytest.fixture(autouse=True)
def fresh_guards() -> Iterator[None]:
    guards.set_guards(True)
    guards.reset()
    yield
    guards.set_guards(True)
    guards.reset()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than the cores. Many tests wait on a kernel or a browser of
    their own, and with one worker per core the cores idle while they wait (on two cores:
    230 s instead of 259 s for the whole suite; two more workers overload it)."""
    return len(os.sched_getaffinity(0)) + 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) + 1


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests marked slow first (a stable sort: their order is kept): under pytest-xdist
    (``--dist loadgroup``) the long groups then start at once on every worker and the many short
    tests fill in around them, instead of one long group starting last and running alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
