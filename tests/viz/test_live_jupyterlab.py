"""The live training view in a real JupyterLab (issue 26): one ``jupyter lab`` started on
127.0.0.1 for this module (``tests/viz/jupyterlab.py``), driven by Playwright with Chromium; the
cells are run with Shift+Enter, as a learner runs them, and every check reads the widget's DOM.

- the harness: a counter widget defined in the notebook itself shows new steps while its cell
  is still running (``[*]``): widget messages reach the page during a run;
- nothing is fetched from the network: every request of the page goes to the local server.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import nbformat
import pytest

from .jupyterlab import Lab, cell_running, errors, jupyterlab, open_notebook, require, run_cell, wait_done

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
