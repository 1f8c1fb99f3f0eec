"""``chainrule demo``'s views (issue 12): one naming scheme across the graph, the trace, the
stepper and the network diagram; neuron columns in index order; a stepper whose active node
stays on screen at 1000 x 700; the same step-count wording everywhere.

The demo's model is trained for 3 steps here (the views do not depend on how well it learned);
the point, the graph and the stepper are built by the demo's own functions."""
from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd_core
import viz
from autograd_core import no_grad
from viz.cli import demo

# one worker builds this module's shared fixture once (pytest-xdist --dist loadgroup)
pytestmark = [pytest.mark.xdist_group("demo")]

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def demo_point():
    state = autograd_core.default_generator().bit_generator.state
    try:
        model, X, y, _ = demo.train(steps=3)
    finally:
        autograd_core.default_generator().bit_generator.state = state
    x0, y0, loss = demo.hardest_point(model, X, y)
    trace = demo.point_trace(model, loss, x0, y0)
    return model, X, x0, trace


def units_of(model) -> list[list[str]]:
    return [[n.label for n in layer.neurons] for layer in model.layers]


def boxes(svg: str) -> dict[str, tuple[float, float, list[str]]]:
    """First line of each node's text -> (x, y of that line, all its lines)."""
    out = {}
    for g in ET.fromstring(svg).iter(SVG + "g"):
        if "node" not in (g.get("class") or "").split():
            continue
        texts = g.findall(SVG + "text")
        if texts:
            out[texts[0].text] = (float(texts[0].get("x")), float(texts[0].get("y")),
                                  [t.text for t in texts])
    return out


def neuron_scope(node):
    return next((s for s in reversed(node.scope) if getattr(s, "scope_kind", "") == "neuron"),
                None)


def test_every_view_names_a_neuron_by_its_label(demo_point) -> None:
    model, _, x0, trace = demo_point
    units = [u for layer in units_of(model) for u in layer]
    # the graph: one box per neuron, titled L2.n7, showing its output as a(L2.n7)
    drawn = boxes(trace.graph.svg())
    for u in units:
        assert drawn[u][2][2].startswith(f"a({u}) = "), drawn[u]
    # the inputs are drawn, by their names
    assert {"x1", "x2"} <= set(drawn)
    # the trace: one step per neuron under that name
    assert sorted(s.name for s in trace.steps if s.kind == "neuron") == sorted(units)
    # every node a neuron made: a(u) (its output), z(u) (what its ReLU reads), u.v1, u.v2, ...
    for node, name in trace.names.items():
        scope = neuron_scope(node)
        if scope is None or node.op is None:
            continue
        assert name in (f"a({scope.label})", f"z({scope.label})") or \
            re.fullmatch(re.escape(scope.label) + r"\.v\d+", name), name
    hidden = [u for u in units if u.startswith(("L1.", "L2."))]
    names = set(trace.names.values())
    assert all(f"z({u})" in names and f"a({u})" in names for u in hidden)
    # parameters keep their labels
    assert {"L2.n7.w3", "L2.n7.b", "L3.n1.w16"} <= names
    # the stepper: frame titles and the equations inside an opened neuron use the same names
    steps = trace._steps()
    for step, frame in zip(trace.steps, steps.frames):
        if step.kind == "neuron":
            assert frame.title == f"step {step.index}: neuron {step.name}"
    inner_text = "\n".join(f.equation for f in steps.inner)
    assert "a(L2.n7)" in inner_text and "z(L2.n7)" in inner_text and "L2.n7.v1" in inner_text
    # outside the neurons only the loss's two unnamed values are numbered
    assert set(re.findall(r"(?<![\w.])v\d+\b", inner_text)) == {"v1", "v2"}
    # the Markdown table and the text say a(L2.n7) too
    assert "a(L2.n7)" in trace.to_markdown() and "δ(L2.n7)" in trace.to_text()
    # the network diagram: the same unit names, the same weight labels
    net = viz.draw_network(model, inputs=x0)
    assert net.columns == [["x1", "x2"]] + units_of(model)
    assert "L2.n7.w3" in net.edge_ids


def test_neuron_columns_are_in_index_order(demo_point) -> None:
    model, _, _, trace = demo_point
    drawn = boxes(trace.graph.svg())
    for layer in units_of(model)[:2]:
        xs = {round(drawn[u][0]) for u in layer}
        assert len(xs) == 1, xs                                   # one column
        ys = [drawn[u][1] for u in layer]
        assert ys == sorted(ys), layer                            # L1.n1 at the top ... n16
        assert len(set(ys)) == len(ys)


def test_batch_scores_are_the_models_own(demo_point) -> None:
    model, X, _, _ = demo_point
    scores = demo.batch_scores(model)(X[:10])
    with no_grad():
        own = [model([float(a), float(b)]).data for a, b in X[:10]]
    np.testing.assert_allclose(scores[:, 0], own, rtol=1e-12, atol=1e-12)


def test_step_count_is_worded_the_same_everywhere(demo_point, browser) -> None:
    _, _, _, trace = demo_point
    last = len(trace.steps) - 1
    stepper = trace.stepper()
    assert f"steps 0 to {last}" in stepper.static_html() and f"step {last}, the last" in stepper.alt
    assert "step 0 is the seed" in trace.conventions().lower()
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    try:
        page.set_content(trace.to_html())
        assert page.inner_text(".cr-counter") == f"step 0 of {last}"
    finally:
        page.close()


def test_the_active_node_is_on_screen_at_every_step(demo_point, browser) -> None:
    """Chromium at 1000 x 700: the graph starts above the fold (the equation box does not
    reserve a neuron's 20 lines at the seed), and at every step of the demo's stepper,
    from the first frame on, the active node is inside the window."""
    _, _, _, trace = demo_point
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    try:
        page.set_content(trace.to_html())
        view = page.query_selector(".cr-view").bounding_box()
        assert view["y"] < 700 * 0.6
        frames = trace._steps().frames
        for k, frame in enumerate(frames):
            if k:
                page.keyboard.press("ArrowRight")
            assert page.get_attribute(".cr-stepper", "data-step") == str(k)
            active = frame.active[0]
            assert "cr-active" in page.get_attribute(f"g[id='{active}']", "class")
            box = page.query_selector(f"g[id='{active}']").bounding_box()
            # (a 3 px highlight stroke may reach past the box)
            assert -3 <= box["x"] and box["x"] + box["width"] <= 1003, (k, active, box)
            assert -3 <= box["y"] and box["y"] + box["height"] <= 703, (k, active, box)
    finally:
        page.close()


# ---- training.html: the recorded animation of training (issue 26) ---------------------------
RECORDED_STEPS = 12                   # frames: before training, after steps 5, 10, and the last


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    state = autograd_core.default_generator().bit_generator.state
    try:
        written = demo.run_demo(out, steps=RECORDED_STEPS)
    finally:
        autograd_core.default_generator().bit_generator.state = state
    return out, written


def _player_data(html: str) -> dict:
    data = re.search(r'<script type="application/json" class="cr-data">(.*?)</script>', html, re.S)
    return json.loads(data.group(1))


def _svg_of(uri: str) -> str:
    head, body = uri.split(",", 1)
    assert head == "data:image/svg+xml;base64"
    return base64.b64decode(body).decode("utf-8")


def test_training_html_is_the_recorded_animation(demo_run) -> None:
    out, written = demo_run
    path = out / "training.html"
    assert path in [p for p, _ in written]            # listed with the other files
    html = path.read_text(encoding="utf-8")
    data = _player_data(html)
    frames = [_svg_of(uri) for uri in data["frames"]]
    expected = [0, 5, 10, 12]                           # every RECORD_EVERY steps and the last
    assert demo.RECORD_EVERY == 5 and len(frames) == len(expected)
    assert [c.split(":")[0] for c in data["captions"]] == [f"step {s}" for s in expected]
    # self-contained: nothing to fetch, in the page or inside its pictures (only the SVG
    # namespace names a URL)
    for text in [html] + frames:
        assert not re.findall(r"https?://(?!www\.w3\.org/)", text)
        assert not re.search(r'(?:src|href)="(?!data:|#)', text)
    # every frame: the network's edges, the loss curve, the boundary under the data
    for step, svg in zip(expected, frames):
        assert f"loss (step {step})" in svg and "decision boundary" in svg
        assert svg.count("<line ") == 2 * 10 + 10 * 10 + 10 * 1   # 10 of 16 units a column
    # the weights changed: the edges' colours and widths differ between the first and last
    first = re.findall(r'<line [^>]*stroke="([^"]+)" stroke-width="([^"]+)"', frames[0])
    last = re.findall(r'<line [^>]*stroke="([^"]+)" stroke-width="([^"]+)"', frames[-1])
    assert len(first) == len(last) > 0 and first != last
    # ... as the model's: the last frame's first edge is L1.n1.w1's colour after training
    state = autograd_core.default_generator().bit_generator.state
    try:
        model, *_ = demo.train(steps=RECORDED_STEPS)
    finally:
        autograd_core.default_generator().bit_generator.state = state
    w = model.layers[0].neurons[0].w[0].data
    assert last[0][0].startswith("#2563eb" if w > 0 else "#ea580c")


def test_training_html_is_the_same_on_every_run(demo_run, tmp_path) -> None:
    out, _ = demo_run
    state = autograd_core.default_generator().bit_generator.state
    try:
        demo.run_demo(tmp_path, steps=RECORDED_STEPS)
    finally:
        autograd_core.default_generator().bit_generator.state = state
    assert (tmp_path / "training.html").read_bytes() == (out / "training.html").read_bytes()


def test_training_html_plays_from_file_without_network(demo_run, browser) -> None:
    out, _ = demo_run
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        url = (out / "training.html").as_uri()
        page.goto(url)
        page.wait_for_selector(".cr-anim .cr-counter")
        assert page.inner_text(".cr-counter") == "frame 1 of 4"
        assert page.inner_text(".cr-title").startswith("step 0")
        first = page.get_attribute(".cr-frame", "src")
        page.screenshot(path=str(out / "training-first.png"))
        page.click(".cr-next")
        page.click(".cr-next")
        page.click(".cr-next")
        assert page.inner_text(".cr-counter") == "frame 4 of 4"
        assert page.inner_text(".cr-title").startswith(f"step {RECORDED_STEPS}: loss ")
        assert page.get_attribute(".cr-frame", "src") != first
        box = page.query_selector(".cr-frame").bounding_box()
        assert box["width"] > 800 and box["height"] > 400       # drawn, at its size
        page.screenshot(path=str(out / "training-last.png"))
        assert [r for r in requests if r != url and not r.startswith("data:")] == []
    finally:
        page.close()
