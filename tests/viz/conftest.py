"""Fixtures for the viz tests: no Graphviz ``dot`` on PATH, and a page served to the
browser (the ``browser`` fixture is in ``tests/conftest.py``)."""
from __future__ import annotations

import importlib.util
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

import viz.drawing.render

ROOT = Path(__file__).resolve().parents[2]
LITE_COURSE = ROOT / "notebooks" / "02_value_graphs.ipynb"
LIVE_CELLS = [
    "import numpy as np\nimport nn\nimport viz\n"
    "X = np.array([[0., 0.], [0., 1.], [1., 0.], [1., 1.]]); y = np.array([0., 1., 1., 0.])\n"
    "model = nn.MLP(2, [4, 1], seed=3)\n"
    "opt = nn.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)",
    "view = viz.live(model, inputs=X[3], data=(X, y))\nview.show()\n"
    "for _ in range(60):\n"
    "    outs = [model(list(x)) for x in X]\n"
    "    J = 0.5 * sum((o - t) ** 2 for o, t in zip(outs, y))\n"
    "    opt.zero_grad(); J.backward(); opt.step()\n"
    "    view.update(loss=J)\n"
    "view.finish()\nprint(f'J = {J.data:.4f}')",
]
"""The live-view notebook of the site: a 2-4-1 MLP on XOR, 60 steps shown by viz.live."""


@pytest.fixture(scope="session")
def lite_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``chainrule lite``'s site of notebook 02's student copy and a live-view notebook
    (:data:`LIVE_CELLS`), no stored outputs: built once per worker, so the modules using it
    share the xdist group "lite". Its ``static/pyodide`` and ``pypi`` serve the Pyodide test
    too. Skipped without the registries (npm, PyPI) except in CI."""
    for module in ("jupyterlite_core", "jupyterlite_pyodide_kernel", "otter"):
        if importlib.util.find_spec(module) is None:
            if os.environ.get("CI"):
                pytest.fail(f"{module} is not installed: the test extra installs it")
            pytest.skip(f"{module} is not installed (pip install '.[lite]')")
    import nbformat

    from viz.cli.lite.course import student_course
    from viz.cli.lite.pyodide_dist import PyodideFetchError
    from viz.cli.lite.site import build_site
    from viz.cli.lite.wheels import WheelError

    folder = tmp_path_factory.mktemp("lite")
    live = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in LIVE_CELLS])
    nbformat.write(live, folder / "live_view.ipynb")
    student = student_course(folder / "course", [LITE_COURSE.stem], log=lambda _: None)
    assert [p.name for p in student] == [LITE_COURSE.name]
    try:
        build_site([*student, folder / "live_view.ipynb"], folder / "site", log=lambda _: None)
    except (PyodideFetchError, WheelError) as exc:       # the registries cannot be reached
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Pyodide or wheels for the site: {exc}")
    return folder / "site"

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
