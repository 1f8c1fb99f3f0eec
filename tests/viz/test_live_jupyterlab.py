"""The live training view in a real JupyterLab (issue 26): one ``jupyter lab`` started on
127.0.0.1 for this module (``tests/viz/jupyterlab.py``), driven by Playwright with Chromium; the
cells are run with Shift+Enter, as a learner runs them, and every check reads the widget's DOM.

- the harness: a counter widget defined in the notebook itself shows new steps while its cell
  is still running (``[*]``): widget messages reach the page during a run;
- the live view (``viz.live``) on a scalar ``nn.MLP(2, [8, 8, 1])`` learning the moons: in a
  hand-written loop calling ``view.update(loss=...)``, the step counter advances and edges
  recolour while the cell still runs; driven by ``view.run(step_fn, steps)`` (a thread: the cell
  returns at once), pause stops the counter and resume restarts it, and at the end the scrub
  slider is enabled;
- screenshots of the view in a 940 px notebook column, light and dark theme, saved under the
  test's tmp folder (``live-light.png``, ``live-dark.png``); the view is at most 940 px wide;
- nothing is fetched from the network: every request of the page goes to the local server.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import nbformat
import pytest

import viz

from .jupyterlab import (Lab, cell, cell_running, errors, jupyterlab, open_notebook, prompt, require,
                         run_cell, wait_done)

# one worker starts this module's JupyterLab once (pytest-xdist --dist loadgroup)
pytestmark = [pytest.mark.xdist_group("jupyterlab"), pytest.mark.slow]

COUNTER_WIDGET = '''\
import time

import anywidget
import traitlets


class Counter(anywidget.AnyWidget):
    """The least widget there is: a step number, shown as the live view shows its own."""
    _esm = """
    function render({ model, el }) {
      const span = document.createElement("span");
      span.className = "cr-live-step";
      const show = () => { span.textContent = `step ${model.get("step")}`; };
      show();
      model.on("change:step", show);
      el.appendChild(span);
    }
    export default { render };
    """
    step = traitlets.Int(0).tag(sync=True)


counter = Counter()
counter'''

COUNTER_LOOP = '''\
for i in range(1, 101):
    counter.step = i
    time.sleep(0.05)'''


SETUP = """\
import time

import numpy as np

import nn
import viz

X, labels = nn.data.make_moons(60, noise=0.1, seed=1337)
y = 2.0 * labels - 1.0


def svm_step(model, batch, lr=0.1):
    \"\"\"One minibatch step of notebook 03's moons training: hinge loss, backward, SGD.\"\"\"
    scores = [model(list(p)) for p in X[batch]]
    loss = sum((1 - yi * s).relu() for yi, s in zip(y[batch], scores)) * (1.0 / len(batch))
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    return loss"""

# cell A: a hand-written loop calling view.update (the sleep keeps the cell running long
# enough for the test to watch it)
VIEW_A = """\
model_a = nn.MLP(2, [8, 8, 1], seed=1337)
view_a = viz.live(model_a, inputs=X[0], data=(X, labels))
view_a"""
LOOP_A = """\
rng = np.random.default_rng(0)
for k in range(120):
    loss = svm_step(model_a, rng.choice(len(X), size=16, replace=False))
    view_a.update(loss=loss)
    time.sleep(0.03)"""
# cell B: view.run trains in a thread; the cell returns at once
RUN_B = """\
model_b = nn.MLP(2, [8, 8, 1], seed=7)
view_b = viz.live(model_b, inputs=X[0], data=(X, labels))
rng_b = np.random.default_rng(1)


def step_fn(k):
    time.sleep(0.02)
    return svm_step(model_b, rng_b.choice(len(X), size=16, replace=False))


display(view_b)
view_b.run(step_fn, 200);"""
LIVE_CELLS = (SETUP, VIEW_A, LOOP_A, RUN_B)
COLUMN = 940                       # px: the notebook column the view must fit


def notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require("anywidget", "ipywidgets")
    tmp = tmp_path_factory.mktemp("jupyterlab")
    (tmp / "root").mkdir()
    notebook(tmp / "root" / "counter.ipynb", COUNTER_WIDGET, COUNTER_LOOP)
    notebook(tmp / "root" / "live.ipynb", *LIVE_CELLS)
    with jupyterlab(tmp) as running:
        yield running


def snapshot(page: Any, target: Any) -> tuple[str, str]:
    """The cell's prompt and the step counter's text, read in one go."""
    return page.evaluate(
        "([cell]) => [cell.querySelector('.jp-InputArea-prompt').innerText.trim(),"
        " document.querySelector('.cr-live-step')?.textContent ?? '']",
        [target.element_handle()])


def test_harness_widget_updates_while_its_cell_runs(lab: Lab, browser: Any) -> None:
    with open_notebook(browser, lab, "counter.ipynb") as (page, elsewhere):
        first = run_cell(page, 0)
        wait_done(page, first)
        assert not errors(first)
        page.wait_for_selector(".cr-live-step:text('step 0')")
        loop = run_cell(page, 1)
        seen_running: set[str] = set()
        while True:
            shown, text = snapshot(page, loop)
            if shown != "[*]:":
                break
            seen_running.add(text)
            page.wait_for_timeout(50)
        wait_done(page, loop)
        assert not cell_running(loop) and not errors(loop)
        steps = {int(t.split()[1]) for t in seen_running if t.startswith("step ")}
        # the page showed several different steps while the loop was still running
        assert len(steps - {0, 100}) >= 2, seen_running
        page.wait_for_selector(".cr-live-step:text('step 100')")
        assert not elsewhere, f"JupyterLab fetched from the network: {sorted(set(elsewhere))}"
        assert not lab.network(), f"the Jupyter server reached out to {sorted(set(lab.network()))}"


# ---- the live view ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def live_page(lab: Lab, browser: Any) -> Iterator[Any]:
    """live.ipynb open in a notebook column of 940 px, its setup cell run; the tests below run
    the cells they need (:func:`ran`) on this one page and kernel."""
    if not hasattr(viz, "live"):
        pytest.skip("viz.live does not exist in this checkout (issue 26's live view)")
    with open_notebook(browser, lab, "live.ipynb") as (page, elsewhere):
        column = page.locator(".jp-Notebook").bounding_box()
        viewport = page.viewport_size
        page.set_viewport_size({"width": viewport["width"] + COLUMN - round(column["width"]),
                                "height": 1400})         # tall: a whole view on screen
        page.wait_for_function(f"Math.round(document.querySelector('.jp-Notebook')"
                               f".getBoundingClientRect().width) === {COLUMN}")
        ran(page, 0)
        yield page
        assert not elsewhere, f"JupyterLab fetched from the network: {sorted(set(elsewhere))}"
        assert not lab.network(), f"the Jupyter server reached out to {sorted(set(lab.network()))}"


def ran(page: Any, index: int) -> Any:
    """Cell ``index``, run (now, unless it has run already) and finished without an error."""
    target = cell(page, index)
    if not any(ch.isdigit() for ch in prompt(target)):
        run_cell(page, index)
        wait_done(page, target)
    assert not errors(target), errors(target)
    return target


def until(page: Any, target: Any, condition: str, arg: Any = None, timeout: float = 30_000) -> None:
    """Wait until ``condition`` (JavaScript of the view ``v`` and ``arg``) holds for the view in
    cell ``target``, found anew at every look: JupyterLab renders a widget output again when
    its display is updated (the live view's ``finish`` does), and the old element is gone."""
    page.wait_for_function(f"([c, arg]) => {{ const v = c.querySelector('.cr-live'); "
                           f"return !!v && ({condition}); }}", arg=[target.element_handle(), arg],
                           timeout=timeout)


def watch(page: Any, target: Any, shown_in: Any) -> tuple[list[int], list[str]]:
    """While ``target``'s cell shows ``[*]``: the steps the view in cell ``shown_in`` showed,
    and the signature of its edges' strokes, at every look."""
    steps, strokes = [], []
    while True:
        shown, step, edges = page.evaluate(
            "([c, o]) => { const v = o.querySelector('.cr-live');"
            " return [c.querySelector('.jp-InputArea-prompt').innerText.trim(),"
            " v.querySelector('.cr-live-step').textContent,"
            " Array.from(v.querySelectorAll('.cr-live-edge')).map(e => e.getAttribute('stroke')).join()]; }",
            [target.element_handle(), shown_in.element_handle()])
        if shown != "[*]:":
            return steps, strokes
        steps.append(int(step.split()[1]))
        strokes.append(edges)
        page.wait_for_timeout(50)


def step_of(view: Any) -> int:
    text = view.locator(".cr-live-step").inner_text()
    assert text.startswith("step "), text
    return int(text.split()[1])


def test_hand_written_loop_moves_the_view_while_its_cell_runs(live_page: Any) -> None:
    page = live_page
    shown_in = ran(page, 1)
    view = shown_in.locator(".cr-live")
    view.wait_for()
    # the DOM contract: the controls and the curves are there
    for part in (".cr-live-step", ".cr-live-pause", ".cr-live-once", ".cr-live-speed",
                 ".cr-live-scrub", ".cr-live-show", ".cr-live-loss"):
        assert view.locator(part).count() == 1, part
    edges = view.locator(".cr-live-edge")
    assert edges.count() == 2 * 8 + 8 * 8 + 8 * 1                 # every weight of 2-8-8-1
    assert edges.first.get_attribute("data-edge") is not None
    loop = run_cell(page, 2)
    steps, strokes = watch(page, loop, shown_in)
    wait_done(page, loop)
    assert not errors(loop), errors(loop)
    # while the loop ran, the counter showed several steps, in order, and the edges recoloured
    assert len(set(steps) - {0}) >= 2, steps
    assert steps == sorted(steps), steps
    assert len(set(strokes)) >= 2, "no edge's stroke changed while the cell ran"
    until(page, shown_in, "v.querySelector('.cr-live-step').textContent === 'step 120'")
    assert view.locator(".cr-live-loss").get_attribute("points")


def test_thread_run_pauses_and_resumes(live_page: Any) -> None:
    page = live_page
    target = ran(page, 3)                      # returns at once: the thread trains
    view = target.locator(".cr-live")
    view.wait_for()
    until(page, target, "v.querySelector('.cr-live-step').textContent !== 'step 0'")
    assert not cell_running(target)
    pause = view.locator(".cr-live-pause")
    pause.click()
    page.wait_for_function("b => b.textContent === 'resume'", arg=pause.element_handle())
    # once the step in flight has been shown, the counter stays put over a second
    until(page, target, "v.getAttribute('data-status') === 'paused'")
    page.wait_for_timeout(300)
    held = step_of(view)
    page.wait_for_timeout(1000)
    assert step_of(view) == held, "the counter moved while paused"
    assert held < 200
    assert view.locator(".cr-live-scrub").is_disabled()
    pause.click()
    page.wait_for_function("b => b.textContent === 'pause'", arg=pause.element_handle())
    until(page, target, "v.querySelector('.cr-live-step').textContent !== 'step ' + arg", held)
    assert step_of(view) > held
    # at the end: the last step shown and the scrub slider enabled
    until(page, target, "!v.querySelector('.cr-live-scrub').disabled", timeout=60_000)
    assert step_of(view) == 200


def test_screenshots_fit_the_column_in_light_and_dark(live_page: Any,
                                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    page = live_page
    out = tmp_path_factory.mktemp("screenshots")
    target = ran(page, 3)
    view = target.locator(".cr-live")
    until(page, target, "!v.querySelector('.cr-live-scrub').disabled", timeout=60_000)
    settle(page, view)
    for theme in ("Light", "Dark"):
        set_theme(page, f"JupyterLab {theme}")
        view.scroll_into_view_if_needed()
        box = view.bounding_box()
        assert box["width"] <= COLUMN, box
        path = out / f"live-{theme.lower()}.png"
        view.screenshot(path=str(path))
        print(f"\n{path}: view {box['width']:.0f} x {box['height']:.0f} px")


def settle(page: Any, view: Any, tries: int = 10) -> None:
    """Wait until the same view element has stayed in the page for a second (its output is
    not being rendered again)."""
    for _ in range(tries):
        element = view.element_handle()
        page.wait_for_timeout(1000)
        if page.evaluate("v => v.isConnected", element):
            return
    raise AssertionError(f"the view was rendered anew every second for {tries} s")


def set_theme(page: Any, name: str) -> None:
    """Switch JupyterLab's theme through the command palette."""
    if page.evaluate("document.body.dataset.jpThemeName") == name:
        return
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Shift+C")
    palette = page.locator(".lm-CommandPalette-input")
    palette.wait_for()
    palette.fill(f"Use Theme: {name}")
    page.locator(".lm-CommandPalette-item.lm-mod-active").wait_for()
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.body.dataset.jpThemeName === {name!r}")
    page.wait_for_timeout(300)                 # the theme's CSS applied
