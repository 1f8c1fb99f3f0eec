"""Frames and the HTML stepper: one layout, escaping, and a real headless Chromium."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

import viz
import viz.drawing.render
from autograd_core import Value

from .conftest import served
from .helpers import neuron


def small():
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    z = x * w
    z.label = "z"
    L = (z + 1.0).tanh()
    L.label = "L"
    return L, x, w


def test_frames_one_per_step_from_one_render(no_dot, monkeypatch):
    calls = []
    real = viz.drawing.render.render
    monkeypatch.setattr(viz.drawing.render, "render", lambda *a, **k: calls.append(a) or real(*a, **k))
    L, x, w = small()
    t = viz.trace_backward(L)
    frames = t.frames()
    html = t.to_html()
    assert len(frames) == len(t.steps) == 4           # seed, tanh, +, *
    assert len(calls) == 1                            # one Graphviz layout for everything
    for svg in frames:
        ET.fromstring(svg.encode())
    first, last = frames[0], frames[-1]
    assert "grad ?" in first                          # nothing computed yet but the seed
    root = ET.fromstring(last.encode())
    grads = {el.get("data-cr"): el.text for el in root.iter("{http://www.w3.org/2000/svg}text")
             if el.get("data-cr")}
    assert grads[f"{t.graph.ids[x]}:grad"] == "grad " + format(t.grads[x], ".4g")
    assert x.grad == 0.0                              # drawn from the pass, not stored
    assert 'class="node cr-op cr-active"' in last or "cr-active" in last
    assert html.count("<svg") == 1


def test_forward_frames_reveal_values(no_dot):
    L, x, w = small()
    f = viz.trace_forward(L, wrt=x)
    frames = f.frames()
    assert len(frames) == len(f.steps)
    assert "data ?" in frames[0] and "data ?" not in frames[-1]
    assert "tangent " + format(f.tangents[L], ".4g") in frames[-1]


EVIL_X = '</script><script>alert("x")</script>'
EVIL_Y = "<img src=x onerror=alert(1)>"


def evil_trace():
    x = Value(2.0, label=EVIL_X)
    y = x * x
    y.label = EVIL_Y
    return viz.trace_backward(y)


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(name for name, _ in attrs)


def test_html_is_self_contained_and_escaped(no_dot):
    html = evil_trace().to_html()
    parser = TagCollector()
    parser.feed(html)
    assert parser.tags.count("img") == 1              # the no-JavaScript picture, a data: PNG
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="[^"<>]+"', html)
    assert parser.tags.count("script") == 2           # the JSON data and the stepper code
    assert not [a for a in parser.attrs if a.startswith("on")]
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", html)
    assert "https://" not in html and "http://" not in html.replace("http://www.w3.org/", "")
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown as text


def test_repr_html_for_jupyter(no_dot):
    L, _, _ = small()
    frag = viz.trace_backward(L)._repr_html_()
    assert frag.startswith('<div class="cr-stepper"') and "<html" not in frag


# ---- the stepper in a real headless Chromium ---------------------------------------------
@pytest.fixture(scope="module")
def neuron_trace():
    out, _ = neuron()
    return viz.trace_backward(out)


def test_next_advances_and_shows_that_steps_equation(browser, neuron_trace):
    t = neuron_trace
    with served(browser, t.to_html()) as (page, others):
        assert page.get_attribute(".cr-stepper", "data-step") == "0"
        assert page.inner_text(".cr-eq").startswith("∂out/∂out = 1")
        page.click(".cr-next")
        assert page.get_attribute(".cr-stepper", "data-step") == "1"
        step1 = t.steps[1]
        eq = page.inner_text(".cr-eq")
        assert step1.formula in eq and "1 - tanh(" in eq
        # the active node is highlighted, the next node's gradient shown
        vid = t.graph.ids[step1.node]
        assert "cr-active" in page.get_attribute(f"g[id='{vid}']", "class")
        parent = step1.contributions[0].parent
        pid = t.graph.ids[parent]
        grad = page.text_content(f"[data-cr='{pid}:grad']")
        assert grad == "grad " + format(t.grads[parent], ".4g")
        page.keyboard.press("ArrowRight")
        assert page.get_attribute(".cr-stepper", "data-step") == "2"
        page.keyboard.press("ArrowLeft")
        page.click(".cr-prev")
        assert page.get_attribute(".cr-stepper", "data-step") == "0"
        assert others == []


def test_slider_reaches_last_step_and_no_network(browser, neuron_trace):
    t = neuron_trace
    last = len(t.steps) - 1
    with served(browser, t.to_html()) as (page, others):
        page.eval_on_selector(".cr-slider", "(s, v) => { s.value = v; "
                              "s.dispatchEvent(new Event('input')); }", str(last))
        assert page.get_attribute(".cr-stepper", "data-step") == str(last)
        assert page.inner_text(".cr-eq").startswith(t.steps[last].formula)
        assert page.inner_text(".cr-counter") == f"step {last} of {last}"
        page.click(".cr-next")                         # stays on the last step
        assert page.get_attribute(".cr-stepper", "data-step") == str(last)
        page.click(".cr-play")                         # play from the end restarts at 0
        assert page.get_attribute(".cr-stepper", "data-step") in {str(i) for i in range(last + 1)}
        page.click(".cr-play")                         # pause
        assert others == []


def test_evil_labels_stay_text_in_the_browser(browser):
    t = evil_trace()
    with served(browser, t.to_html()) as (page, others):
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.click(".cr-next")
        assert page.locator("img").count() == 0
        texts = page.eval_on_selector_all("svg text", "els => els.map(e => e.textContent)")
        assert EVIL_X in texts and EVIL_Y in texts
        assert EVIL_Y in page.inner_text(".cr-eq")
        assert dialogs == [] and others == []


def test_the_active_node_is_scrolled_into_view(browser):
    """The active node stays in view (it stayed off-screen: issue 12). A long chain is laid
    out top to bottom to fit the column, so its root, where backward starts, is far below the
    fold of a 1000 x 600 window: the graph's box is as tall as the window leaves room for and
    pans to the active node, at the first frame already, without scrolling the page."""
    x = Value(0.5, label="x")
    y = x
    for _ in range(14):
        y = (y * 1.1).tanh()
    y.label = "y"
    t = viz.trace_backward(y)
    page = browser.new_page(viewport={"width": 1000, "height": 600})
    try:
        page.set_content(t.to_html())

        def on_screen(k: int) -> bool:
            node_id = t.graph.ids[t.steps[k].node]
            box = page.query_selector(f"g[id='{node_id}']").bounding_box()
            return box["y"] >= -3 and box["y"] + box["height"] <= 603

        assert page.evaluate("window.scrollY") == 0
        natural = page.eval_on_selector(".cr-view svg", "s => s.getBoundingClientRect().height")
        assert natural > 600                       # the graph is taller than the window
        assert on_screen(0)                        # the root, panned into the graph's box
        page.click(".cr-next")
        page.keyboard.press("ArrowRight")          # step 2
        assert page.get_attribute(".cr-stepper", "data-step") == "2"
        assert on_screen(2)
    finally:
        page.close()
