"""Regenerate the README gallery: a graph SVG, a trace table, a stepper frame (PNG), the
demo's network diagram (SVG) and a frame of the demo's neuron-level stepper (PNG).

Run from the repository root:  python docs/gallery/make_gallery.py
The PNG needs Playwright and Chromium (Debian's ``chromium``) on PATH.
"""
from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from pathlib import Path

from autograd_core import Value
from viz import trace_backward
from viz.cli.main import main as draw_main
from viz.cli.demo import hardest_point, point_trace, run_demo, train

HERE = Path(__file__).resolve().parent


def neuron() -> Value:
    """The one-neuron example: out = tanh(x1·w1 + x2·w2 + b)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    out = n.tanh()
    out.label = "out"
    return out


def network() -> None:
    """``chainrule demo``'s network.svg: the trained moons MLP at the point it finds hardest."""
    with tempfile.TemporaryDirectory() as tmp:
        run_demo(Path(tmp))
        shutil.copy(Path(tmp) / "network.svg", HERE / "network.svg")


def demo_neuron_frame(browser) -> None:
    """``chainrule demo``'s stepper at 1000 x 700, at the first hidden neuron (layer 2) whose
    gradient δ is not zero: neuron_stepper_frame.png."""
    model, X, y, _ = train()
    x0, y0, loss = hardest_point(model, X, y)
    trace = point_trace(model, loss, x0, y0)
    k = next(s.index for s in trace.steps if s.kind == "neuron" and s.name.startswith("L2.")
             and s.detail.delta != 0)
    html = trace.save_html(Path(tempfile.mkdtemp()) / "demo_stepper.html")
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.goto(html.as_uri())
    for _ in range(k):
        page.keyboard.press("ArrowRight")
    page.screenshot(path=str(HERE / "neuron_stepper_frame.png"))
    page.close()


EXPRESSION = ["tanh(x1*w1 + x2*w2 + b)", "--set", "x1=2", "x2=0", "w1=-3", "w2=1", "b=6.8814"]
DRAW_COMMAND = ["draw", *EXPRESSION, "--local"]
"""The command the README quotes for neuron_graph.svg (with ``-o`` added)."""
TRACE_COMMAND = ["trace", *EXPRESSION, "--markdown"]
"""The command the README quotes for neuron_trace.md (its standard output)."""


def from_commands() -> None:
    """neuron_graph.svg and neuron_trace.md from the very commands the README quotes."""
    draw_main([*DRAW_COMMAND, "-o", str(HERE / "neuron_graph.svg")])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        draw_main(TRACE_COMMAND)
    (HERE / "neuron_trace.md").write_text(out.getvalue(), encoding="utf-8")


def main() -> None:
    network()
    from_commands()
    trace = trace_backward(neuron())
    html = trace.save_html(Path(tempfile.mkdtemp()) / "stepper.html")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium not found: stepper_frame.png not regenerated")
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1200, "height": 800})   # the whole graph fits
        page.goto(html.as_uri())
        for _ in range(5):                # step 5: the gradient reaches x1 and w1
            page.click(".cr-next")
        page.screenshot(path=str(HERE / "stepper_frame.png"))
        page.close()
        demo_neuron_frame(browser)
        browser.close()
    print("gallery written to", HERE)


if __name__ == "__main__":
    main()
