"""Fixtures for the viz tests: no Graphviz ``dot`` on PATH, and one headless Chromium."""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from typing import Iterator

import pytest

import viz.render

CHROMIUM = os.environ.get("CHAINRULE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def no_dot(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """No ``dot`` anywhere: PATH emptied of it and shutil.which refusing it."""
    real_which = shutil.which
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(viz.render.shutil, "which",
                        lambda name, *a, **k: None if name == "dot" else real_which(name, *a, **k))
    assert viz.render.dot_executable() is None


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


@contextmanager
def served(browser, html: str, url: str = "http://stepper.invalid/index.html"):
    """A page showing ``html`` at ``url``; every request is routed: the page itself is
    fulfilled, anything else aborted and recorded in the returned list."""
    page = browser.new_page()
    others: list[str] = []

    def handle(route) -> None:
        if route.request.url == url:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        else:
            others.append(route.request.url)
            route.abort()

    page.route("**/*", handle)
    page.on("request", lambda req: None if req.url == url else others.append(req.url))
    page.goto(url)
    try:
        yield page, others
    finally:
        page.close()
