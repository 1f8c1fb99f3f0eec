"""Every notebook client: outputs exported by nbconvert (JavaScript on, off, sanitised), dark
themes, narrow columns, keyboard shortcuts, and one trace shown twice; in headless Chromium.

The notebooks are built with nbformat from what IPython's ``display()`` really publishes for a
``Graph`` and a trace (``_repr_mimebundle_`` / ``_ipython_display_``), then exported with
nbconvert's ``HTMLExporter``. Every page is served with the network blocked.
"""
from __future__ import annotations

import base64
import re
from contextlib import contextmanager
from typing import Any, Iterator

import pytest

import viz
from autograd_core import Value

from viz.browser.stepper import PAGE_HINT, RUN_HINT

from .helpers import neuron

nbformat = pytest.importorskip("nbformat")
nbconvert = pytest.importorskip("nbconvert")
pytest.importorskip("IPython")

URL = "http://notebook.invalid/index.html"
COLUMN = 934                                   # JupyterLab's output column at 1366 x 900


def displayed(*objects: Any) -> list[Any]:
    """The outputs IPython's display() publishes for ``objects``, as nbformat outputs."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import display
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    with capture_output() as captured:
        for obj in objects:
            display(obj)
    return [nbformat.v4.new_output("display_data", data=out.data, metadata=out.metadata)
            for out in captured.outputs]


def chain(links: int) -> Value:
    """y = tanh(... tanh(x·w0 + b0) ...): ``links`` neurons in a row (wide left to right)."""
    y = Value(0.5, label="x")
    for i in range(links):
        y = (y * Value(1.5, label=f"w{i}") + Value(0.1 * i, label=f"b{i}")).tanh()
    y.label = "y"
    return y


@pytest.fixture(scope="module")
def notebook() -> Any:
    out, _ = neuron()
    out.backward()
    graph = viz.draw_graph(out)
    trace = viz.trace_backward(neuron()[0])
    nb = nbformat.v4.new_notebook()
    # (no Markdown cell: nbconvert's sanitiser escapes the <p> of its own Markdown rendering)
    nb.cells = [nbformat.v4.new_code_cell("viz.draw_graph(out)", outputs=displayed(graph)),
                nbformat.v4.new_code_cell("t = viz.trace_backward(out)\nt",
                                          outputs=displayed(trace)),
                nbformat.v4.new_code_cell("t", outputs=displayed(trace))]
    nbformat.validate(nb)
    return nb


def export(nb: Any, sanitize: bool = False) -> str:
    html, _ = nbconvert.HTMLExporter(sanitize_html=sanitize).from_notebook_node(nb)
    return html


@contextmanager
def opened(browser, html: str, *, javascript: bool = True,
           width: int = 1366, height: int = 900) -> Iterator[Any]:
    """``html`` in a fresh browser context (JavaScript on or off); other requests aborted."""
    context = browser.new_context(java_script_enabled=javascript,
                                  viewport={"width": width, "height": height})
    page = context.new_page()

    def handle(route) -> None:
        if route.request.url == URL:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        else:
            route.abort()

    page.route("**/*", handle)
    page.goto(URL)
    try:
        yield page
    finally:
        context.close()


def visible_pngs(page) -> list[dict[str, float]]:
    return page.eval_on_selector_all(
        "img[src^='data:image/png']",
        "els => els.filter(e => e.offsetParent !== null).map(e => ({natural: e.naturalWidth, "
        "shown: e.getBoundingClientRect().width, alt: e.alt}))")


# ---- exported notebooks -------------------------------------------------------------------
def test_export_with_javascript_steps_both_copies(browser, notebook) -> None:
    with opened(browser, export(notebook)) as page:
        page.wait_for_selector(".cr-stepper[data-cr-ready]")
        steppers = page.locator(".cr-stepper")
        assert steppers.count() == 2
        ids = [steppers.nth(i).get_attribute("id") for i in range(2)]
        assert ids[0] != ids[1]                          # the same trace, two renders
        steppers.nth(0).locator(".cr-next").click()
        steppers.nth(0).locator(".cr-next").click()
        steppers.nth(1).locator(".cr-next").click()
        assert steppers.nth(0).get_attribute("data-step") == "2"
        assert steppers.nth(1).get_attribute("data-step") == "1"
        assert "v4 = v3 + b" in steppers.nth(0).locator(".cr-eq").inner_text()
        # the static outputs (picture, steps as text) gave way to the steppers
        page.wait_for_function("document.querySelectorAll('[data-cr-replaced]').length === 4")
        assert not page.locator("[id^='cr-fb-']").first.is_visible()
        assert "run this cell" not in page.inner_text("body")
        assert page.locator(".jp-RenderedSVG img").is_visible()     # the graph


def test_export_without_javascript_shows_picture_and_steps(browser, notebook) -> None:
    trace_text = viz.trace_backward(neuron()[0]).to_text()
    with opened(browser, export(notebook), javascript=False) as page:
        text = page.inner_text("body")
        assert text.count(f"{RUN_HINT} steps 0 to 5") == 2
        assert "step 1: out = tanh(v4)" in text
        assert "contribution: ∂out/∂v1 · ∂(x1 * w1)/∂(1st operand)" in text
        assert trace_text.splitlines()[-1].strip() in text
        pngs = visible_pngs(page)
        assert len(pngs) == 2 and all(p["natural"] > 0 for p in pngs)
        assert all(p["shown"] <= COLUMN for p in pngs)
        assert page.locator("button").count() == 0      # no dead controls
        assert "<svg" not in text and "cr-stepper" not in text


def test_sanitised_export_is_clean_and_keeps_the_pictures(browser, notebook) -> None:
    html = export(notebook, sanitize=True)
    assert "var element" not in html                    # the JavaScript output is dropped
    with opened(browser, html) as page:
        text = page.inner_text("body")
        for raw in ("<svg", "<img", "<script", "<style", "<details", "<template", "</",
                    "font-family", ".cr-", "{", "&lt;", "function ("):
            assert raw not in text, raw
        assert text.count("run this cell, or trust the notebook") == 2
        assert "step 2: v4 = v3 + b" in text
        pngs = visible_pngs(page)
        assert len(pngs) == 2 and all(p["natural"] > 0 for p in pngs)
        assert page.locator(".jp-RenderedSVG img").is_visible()     # the graph survives too
        assert page.locator(".cr-stepper").count() == 0


def test_graph_offers_png_for_clients_without_svg(notebook) -> None:
    graph_output = notebook.cells[0].outputs[0]
    assert {"image/svg+xml", "image/png", "text/plain"} <= set(graph_output.data)
    trace_outputs = notebook.cells[1].outputs
    kinds = [sorted(o.data) for o in trace_outputs]
    assert kinds == [["image/png", "text/plain"], ["text/html", "text/plain"],
                     ["application/javascript", "text/plain"]]
    # the HTML fallback uses only tags every sanitiser keeps, so it is shown unchanged
    fallback = trace_outputs[1].data["text/html"]
    assert set(re.findall(r"</?([a-z0-9]+)", fallback)) <= {"div", "b", "pre"}
    assert fallback == nbconvert.filters.strings.clean_html(fallback)


# ---- the stepper in a page ------------------------------------------------------------------
def page_with(body: str, style: str = "") -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{style}</style></head>"
            f"<body>{body}</body></html>")


def test_same_trace_rendered_twice_steps_twice(browser) -> None:
    trace = viz.trace_backward(neuron()[0])
    html = page_with(trace._repr_html_() + trace._repr_html_())
    with opened(browser, html) as page:
        steppers = page.locator(".cr-stepper[data-cr-ready]")
        assert steppers.count() == 2
        steppers.nth(1).locator(".cr-next").click()
        assert steppers.nth(1).get_attribute("data-step") == "1"
        assert steppers.nth(0).get_attribute("data-step") == "0"
        steppers.nth(0).locator(".cr-next").click()
        assert steppers.nth(0).get_attribute("data-step") == "1"


_CONTRAST = """
(sel) => {
  function rgb(c) { const m = c.match(/[0-9.]+/g).map(Number); return m.length > 3 ? m : m.concat([1]); }
  function lum(c) { return 0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2]); }
  function ch(v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
  function background(el) {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c[3] > 0) return c;
    }
    return [255, 255, 255, 1];
  }
  const el = document.querySelector(sel);
  const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}
"""

DARK = """:root { --jp-ui-font-color0: rgba(255,255,255,1); --jp-ui-font-color2: rgba(255,255,255,.54);
  --jp-content-font-color1: rgba(255,255,255,.87); --jp-layout-color0: #111111;
  --jp-layout-color1: #212121; --jp-layout-color2: #424242; --jp-border-color1: #616161; }
body { background: var(--jp-layout-color0); color: var(--jp-content-font-color1); }"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_title_and_equation_are_readable_in_the_theme(browser, theme) -> None:
    trace = viz.trace_backward(neuron()[0])
    with opened(browser, page_with(trace._repr_html_(), DARK if theme == "dark" else "")) as page:
        page.wait_for_selector(".cr-stepper[data-cr-ready]")
        page.click(".cr-next")
        for selector in (".cr-title", ".cr-eq", ".cr-counter", ".cr-next"):
            assert page.evaluate(_CONTRAST, selector) >= 4.5, selector
        # the graph keeps a light card, so its dark node text stays readable
        card = page.eval_on_selector(".cr-view", "e => getComputedStyle(e).backgroundColor")
        assert card == "rgb(255, 255, 255)"


_MIN_TEXT = """
(root) => Math.min(...Array.from(root.querySelectorAll('svg text')).map(t =>
  parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a))
"""


def test_wide_graph_fits_the_column_with_readable_text(browser) -> None:
    y = chain(2)
    y.backward()
    graph = viz.draw_graph(y)
    natural = graph.size()[0]
    assert natural > 1400                                   # a graph wider than the column
    data, metadata = graph._repr_mimebundle_()
    trace = viz.trace_backward(chain(2))
    small = viz.draw_graph(Value(2.0, label="a") * Value(3.0, label="b"), show_grad=False)
    small_svg = small._repr_mimebundle_()[0]["image/svg+xml"]
    # as JupyterLab shows them: SVG in an <img> (not confined), PNG confined to the column
    svg64 = base64.b64encode(data["image/svg+xml"].encode()).decode()
    small64 = base64.b64encode(small_svg.encode()).decode()
    body = (f'<div id="col" style="width:{COLUMN}px">'
            f'<div><img id="svg" src="data:image/svg+xml;base64,{svg64}"></div>'
            f'<div><img id="png" style="max-width:100%;height:auto" '
            f'src="data:image/png;base64,{data["image/png"]}" '
            f'width="{metadata["image/png"]["width"]}"></div>'
            f'<div><img id="small" src="data:image/svg+xml;base64,{small64}"></div>'
            + trace._repr_html_() + "</div>")
    with opened(browser, page_with(body)) as page:
        page.wait_for_selector(".cr-stepper[data-cr-ready]")
        for img in ("#svg", "#png"):
            box = page.eval_on_selector(img, "e => [e.getBoundingClientRect().width, "
                                              "e.getBoundingClientRect().height]")
            assert box[0] <= COLUMN, img
        # the smallest text of the SVG as drawn: font size (viewBox units) x drawn scale
        shown = page.eval_on_selector("#svg", "e => e.getBoundingClientRect().width")
        shown_svg = graph.for_width().svg()
        viewbox = float(re.search(r'viewBox="[-0-9. ]+? [-0-9.]+ ([0-9.]+)', shown_svg).group(1))
        smallest = min(float(v) for v in re.findall(r'font-size="([0-9.]+)"', shown_svg))
        assert smallest * shown / viewbox >= 11
        # a small graph keeps its natural size
        small_w = page.eval_on_selector("#small", "e => e.getBoundingClientRect().width")
        assert small_w == pytest.approx(small.size()[0], abs=1)
        # the stepper's graph: inside the column, every text at 11 px or more
        view = page.eval_on_selector(".cr-view svg", "e => e.getBoundingClientRect().width")
        assert view <= COLUMN
        assert page.eval_on_selector(".cr-stepper", _MIN_TEXT) >= 11
        # full size on demand
        page.click(".cr-zoom")
        full = page.eval_on_selector(".cr-view svg", "e => e.getBoundingClientRect().width")
        assert full == pytest.approx(viz.drawing.render.svg_size(trace.stepper().svg)[0], abs=1)


_KEY_LOG = """
window.seen = [];
document.addEventListener('keydown', e => window.seen.push(
  [e.key, e.ctrlKey, e.shiftKey, e.defaultPrevented]));
"""


def test_keys_the_stepper_does_not_handle_reach_the_page(browser) -> None:
    trace = viz.trace_backward(neuron()[0])
    with opened(browser, page_with(trace._repr_html_())) as page:
        page.wait_for_selector(".cr-stepper[data-cr-ready]")
        page.evaluate(_KEY_LOG)
        page.click(".cr-next")                                  # a mouse click
        assert page.get_attribute(".cr-stepper", "data-step") == "1"
        page.keyboard.press("Control+s")
        page.keyboard.press("Shift+Enter")
        page.keyboard.press("Enter")                            # focus left the button
        assert page.get_attribute(".cr-stepper", "data-step") == "1"
        page.keyboard.press("ArrowRight")                       # its own key, while focused
        assert page.get_attribute(".cr-stepper", "data-step") == "2"
        page.focus(".cr-next")                                  # keyboard users: the button
        page.keyboard.press("Shift+Enter")                      # the notebook's shortcut
        assert page.get_attribute(".cr-stepper", "data-step") == "2"
        page.keyboard.press("Enter")                            # presses the focused button
        assert page.get_attribute(".cr-stepper", "data-step") == "3"
        page.keyboard.press("Control+s")
        seen = page.evaluate("window.seen")
    assert ["s", True, False, False] in seen
    assert seen.count(["Enter", False, True, False]) == 2      # Shift+Enter, not prevented
    assert seen.count(["Enter", False, False, False]) == 2
    assert ["ArrowRight", False, False, True] in seen
    assert seen.count(["s", True, False, False]) == 2


def test_layout_does_not_move_while_stepping(browser) -> None:
    trace = viz.trace_backward(neuron()[0])
    with opened(browser, page_with(trace._repr_html_())) as page:
        page.wait_for_selector(".cr-stepper[data-cr-ready]")
        boxes = set()
        for _ in range(len(trace.steps)):
            boxes.add(tuple(page.evaluate(
                "() => [document.querySelector('.cr-stepper').offsetHeight, "
                "document.querySelector('.cr-view').offsetTop]")))
            page.click(".cr-next")
        assert len(boxes) == 1, boxes


def test_page_without_javascript_shows_the_static_form(browser) -> None:
    trace = viz.trace_backward(neuron()[0])
    with opened(browser, trace.to_html(), javascript=False) as page:
        text = page.inner_text("body")
        assert f"{PAGE_HINT} steps 0 to 5" in text
        pngs = visible_pngs(page)
        assert len(pngs) == 1 and pngs[0]["alt"].startswith("backward pass")
        page.click("summary")
        assert "step 5: v1 = x1 * w1" in page.inner_text("details")
        assert page.locator("button").count() == 0


# ---- compare_modes ---------------------------------------------------------------------------
def test_compare_modes_stacks_unless_both_fit(browser) -> None:
    x, w, b = Value(0.5, label="x"), Value(-1.5, label="w"), Value(2.0, label="b")
    y = (x * w + b).tanh()
    y.label = "y"
    comparison = viz.compare_modes(y, w)
    html = comparison.to_html()
    geometry = ("() => Array.from(document.querySelectorAll('.cr-column')).map(c => {"
                "const r = c.getBoundingClientRect(); const v = c.querySelector('.cr-view')"
                ".getBoundingClientRect(); return [r.left, r.top, r.bottom, v.top]; })")
    with opened(browser, html, width=1366) as page:
        page.wait_for_selector(".cr-stepper[data-cr-ready]")
        (l1, t1, b1, _), (l2, t2, _, _) = page.evaluate(geometry)
        assert l1 == l2 and t2 >= b1                           # one above the other
        assert page.eval_on_selector(".cr-stepper", _MIN_TEXT) >= 11
    with opened(browser, html, width=2400) as page:
        page.wait_for_selector(".cr-stepper[data-cr-ready]")
        (l1, t1, _, v1), (l2, t2, _, v2) = page.evaluate(geometry)
        assert l2 > l1 and t1 == t2 and v1 == v2               # side by side, graphs aligned
        assert page.eval_on_selector(".cr-stepper", _MIN_TEXT) >= 11
        assert [page.locator(".cr-stepper").nth(i).get_attribute("data-step")
                for i in range(2)] == ["0", "0"]


def test_compare_modes_in_an_exported_notebook(browser) -> None:
    x, w, b = Value(0.5, label="x"), Value(-1.5, label="w"), Value(2.0, label="b")
    y = (x * w + b).tanh()
    y.label = "y"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("viz.compare_modes(y, w)",
                                          outputs=displayed(viz.compare_modes(y, w)))]
    with opened(browser, export(nb)) as page:
        page.wait_for_function("document.querySelectorAll('[data-cr-replaced]').length === 3")
        steppers = page.locator(".cr-stepper[data-cr-ready]")
        assert steppers.count() == 2
        steppers.nth(1).locator(".cr-next").click()
        assert [steppers.nth(i).get_attribute("data-step") for i in range(2)] == ["0", "1"]
        assert "forward mode needs 3 passes" in page.inner_text("body")
    for html, javascript in ((export(nb), False), (export(nb, sanitize=True), True)):
        with opened(browser, html, javascript=javascript) as page:
            text = page.inner_text("body")
            assert "forward mode needs 3 passes" in text and "<" not in text
            assert "forward pass with dual numbers" in text and "step 0: ∂y/∂y = 1" in text
            assert len(visible_pngs(page)) == 2


# Notebook 7 (lumino) handles shortcuts in a capture listener on document, stopping the keys
# it binds unless an earlier listener already marked them handled (defaultPrevented).
_LUMINO_LIKE = """
<script>
document.addEventListener('keydown', e => {
  if (e.defaultPrevented) return;
  if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') { e.preventDefault(); e.stopPropagation(); }
}, true);
</script>"""


def test_arrow_keys_work_when_the_notebook_takes_keys_first(browser) -> None:
    trace = viz.trace_backward(neuron()[0])
    with opened(browser, page_with(_LUMINO_LIKE + trace._repr_html_())) as page:
        page.wait_for_selector(".cr-stepper[data-cr-ready]")
        page.click(".cr-next")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowLeft")
        assert page.get_attribute(".cr-stepper", "data-step") == "2"
        page.focus(".cr-slider")                       # the slider moves one step per arrow too
        page.keyboard.press("ArrowRight")
        assert page.get_attribute(".cr-stepper", "data-step") == "3"
        page.evaluate("document.activeElement.blur()")  # focus outside: not its keys
        page.keyboard.press("ArrowRight")
        assert page.get_attribute(".cr-stepper", "data-step") == "3"
