"""Fixtures for the viz tests: no Graphviz ``dot`` on PATH, and a page served to the
browser (the ``browser`` fixture is in ``tests/conftest.py``)."""
from __future__ import annotations

import shutil
from contextlib import contextmanager

import pytest

import viz.drawing.render

@pytest.fixture
def no_dot(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """No ``dot`` anywhere: PATH emptied of it and shutil.which refusing it."""
    real_which = shutil.which
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(viz.drawing.render.shutil, "which",
                        lambda name, *a, **k: None if name == "dot" else real_which(name, *a, **k))
    assert viz.drawing.render.dot_executable() is None


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
