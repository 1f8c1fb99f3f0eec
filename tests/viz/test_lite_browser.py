"""The course as a student meets it in the browser: ``chainrule lite``'s static JupyterLite
site, served from 127.0.0.1 with every other request aborted, in headless Chromium.

The site is built with the notebooks' outputs cleared, so everything checked below was made by
Python running in the page (Pyodide 0.27.7 in JupyterLite's web worker):

- the student copy of ``02_value_graphs`` (what ``chainrule lite`` serves by default) runs top
  to bottom with Run ▸ Run All Cells: no cell fails, the graphs are drawn (SVG, by Graphviz in
  the browser's WebAssembly engine), both steppers mount and step with the arrow keys, every
  exercise's check shows a grey "not answered" box; the solution typed into exercise 02.1's
  answer cell turns its check green, a stored wrong answer turns it red, naming the mistake;
- a notebook driving ``viz.live`` shows the widget (anywidget's front-end ships in the site)
  and its step counter reaches the last step;
- nothing was fetched from anywhere but the site, and the guard saw the worker's own requests
  (Pyodide's WebAssembly, chainrule's wheel).

Screenshots are written next to the test's temporary folder (printed) to look at.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import nbformat
import pytest

from ..conftest import keep_offline, served
from .conftest import LITE_COURSE as COURSE
from .jupyterlab import run_all
# report.py's #1b5e20, #b71c1c and #455a64
GREEN, RED, GREY = "rgb(27, 94, 32)", "rgb(183, 28, 28)", "rgb(69, 90, 100)"
LOCAL = ("data:", "blob:", "about:")

# one worker builds the site once (pytest-xdist --dist loadgroup; test_pyodide.py serves it too)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("lite")]

def error_outputs(page: Any) -> list[str]:
    """The text of every traceback shown."""
    return [t for t in page.locator(".jp-OutputArea-output").all_inner_texts()
            if "Traceback" in t or re.search(r"^\w+Error\b", t, re.M)]


@pytest.fixture(scope="module")
def opened(browser: Any, lite_site: Path) -> Iterator[Any]:
    """A function opening a notebook of the site in a fresh page: yields (page, requests made
    off the site, every request URL, bytes received, responses that failed)."""
    pages = []
    with served(lite_site) as base:
        def open_notebook(name: str) -> tuple[Any, list[str], list[str], list[int], list[str]]:
            # no service worker: its requests would bypass the page's routes (JupyterLite only
            # needs it for the kernel to read the site's files, which these notebooks do not)
            context = browser.new_context(viewport={"width": 1280, "height": 1000},
                                          service_workers="block")
            page = context.new_page()
            elsewhere = keep_offline(page, (base, *LOCAL))
            seen: list[str] = []
            received, failed = [0], []       # failed: the site's own answers 4xx/5xx
            page.on("request", lambda r: seen.append(r.url))
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.on("response", lambda r: received.__setitem__(
                0, received[0] + int(r.headers.get("content-length") or 0)))
            pages.append(context)
            page.goto(f"{base}lab/index.html?path={name}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            return page, elsewhere, seen, received, failed
        try:
            yield open_notebook
        finally:
            for context in pages:
                context.close()


def shoot(page: Any, target: Any, path: Path) -> None:
    target.scroll_into_view_if_needed()
    page.screenshot(path=str(path))
    print(f"\nscreenshot: {path}")


def test_course_notebook_runs_in_the_browser(opened: Any, tmp_path: Path) -> None:
    page, elsewhere, seen, received, failed = opened(COURSE.name)
    first, total = run_all(page)
    print(f"\n{COURSE.name} in JupyterLite: first cell ran at {first:.1f} s, all at "
          f"{total:.1f} s; {received[0] / 1e6:.1f} MB received")
    assert error_outputs(page) == []
    # graphs: SVG drawn in the browser (JupyterLab shows it as an <img>), the tanh node inside
    graphs = page.locator(".jp-RenderedSVG img")
    assert graphs.count() >= 2
    first_graph = graphs.first
    first_graph.evaluate("el => el.decode()")
    assert first_graph.evaluate("el => el.naturalWidth") > 300
    assert ">tanh</text>" in first_graph.evaluate("el => decodeURIComponent(el.src)")
    shoot(page, first_graph, tmp_path / "graph.png")
    # steppers: mounted by their script, stepped with the arrow keys
    steppers = page.locator(".cr-stepper")
    assert steppers.count() == 2
    stepper = steppers.first
    counter = stepper.locator(".cr-counter")
    before = counter.inner_text()
    stepper.locator(".cr-next").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    after = counter.inner_text()
    assert before.startswith("step 0 of ") and after.startswith("step 2 of "), (before, after)
    page.keyboard.press("ArrowLeft")
    assert counter.inner_text().startswith("step 1 of ")
    shoot(page, stepper, tmp_path / "stepper.png")
    # check cells: each exercise's check says "not answered" (grey), none is red
    reports = page.locator(".chainrule-report")
    colours = [r.evaluate("el => getComputedStyle(el).borderLeftColor") for r in reports.all()]
    assert colours.count(GREY) >= 4 and RED not in colours, colours
    # exercise 02.1: the teacher's answer turns its check green, a stored wrong answer red
    master = next(c for c in nbformat.read(COURSE, as_version=4).cells
                  if c.metadata.get("chainrule", {}).get("wrong_answers"))
    assert "def dl_dW1" in master.source
    cells = page.locator(".jp-Notebook .jp-Cell")
    answer = next(i for i in range(cells.count())
                  if "def dl_dW1" in cells.nth(i).locator(".jp-InputArea-editor").inner_text())
    check = next(i for i in range(answer + 1, cells.count())
                 if "jp-CodeCell" in (cells.nth(i).get_attribute("class") or ""))
    for source, colour, name in ((master.source, GREEN, "check-green.png"),
                                 (master.metadata["chainrule"]["wrong_answers"][0]["source"], RED,
                                  "check-red.png")):
        cells.nth(answer).locator(".cm-content").click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(source)
        page.keyboard.press("Shift+Enter")
        cells.nth(check).locator(".jp-InputPrompt").click()
        page.keyboard.press("Escape")
        page.keyboard.press("Shift+Enter")
        report = cells.nth(check).locator(".chainrule-report").first
        page.wait_for_function("([el, c]) => el.isConnected && getComputedStyle(el).borderLeftColor === c",
                               arg=[report.element_handle(), colour], timeout=60_000)
        shoot(page, report, tmp_path / name)
    assert "no ReLU mask" in report.inner_text()          # the stored mistake, named
    assert elsewhere == [] and failed == []
    assert any(url.endswith("/static/pyodide/pyodide.asm.wasm") for url in seen)
    assert any("/pypi/chainrule-" in url for url in seen)


def test_the_site_serves_pyodide_itself_and_never_asks_pypi(lite_site: Path) -> None:
    """The built site's configuration: Pyodide from ``static/pyodide`` (checked against its
    lock: the provenance file says so), ``%pip`` only from the site's own index."""
    import json

    config = json.loads((lite_site / "jupyter-lite.json").read_text(encoding="utf-8"))
    kernel = config["jupyter-config-data"]["litePluginSettings"][
        "@jupyterlite/pyodide-kernel-extension:kernel"]
    assert kernel["pyodideUrl"] == "./static/pyodide/pyodide.js"
    assert kernel["disablePyPIFallback"] is True
    assert all(url.startswith("./") for url in kernel["pipliteUrls"])
    provenance = (lite_site / "static" / "pyodide" / "PROVENANCE.txt").read_text(encoding="utf-8")
    assert "matching the sha256 in npm's pyodide-lock.json" in provenance
    lock = json.loads((lite_site / "static" / "pyodide" / "pyodide-lock.json").read_text(encoding="utf-8"))
    for entry in lock["packages"].values():          # every package the lock names is served
        assert (lite_site / "static" / "pyodide" / entry["file_name"]).is_file(), entry["file_name"]


def test_live_view_runs_in_the_browser(opened: Any, tmp_path: Path) -> None:
    page, elsewhere, _, _, failed = opened("live_view.ipynb")
    run_all(page)
    assert error_outputs(page) == []
    step = page.locator(".cr-live-step")
    page.wait_for_function("el => /step 60\\b/.test(el.textContent)", arg=step.element_handle(),
                           timeout=30_000)
    assert page.locator(".cr-live-edge").count() == 2 * 4 + 4 * 1
    assert re.search(r"J = \d\.\d{4}", page.locator(".jp-OutputArea-output").last.inner_text())
    shoot(page, page.locator(".cr-live-net"), tmp_path / "live.png")
    assert elsewhere == [] and failed == []
