"""Every notebook of the course runs top to bottom in a fresh kernel; any cell error fails.

Each notebook is its own test (``pytest tests/test_notebooks.py -k 04_xor``). The run is the
one ``tests/test_exercises.py`` grades (:func:`tests.course_runs.solution_run`: the solution
copy, every cell, with each exercise's wrong answers checked too), made once and shared, so a
notebook executes once for both. The notebooks assert their own numbers (hand-derived ==
engine == finite differences), so a wrong gradient anywhere in the library breaks the notebook
that teaches it.
"""
from __future__ import annotations

import pytest

from .course_runs import NOTEBOOKS, params, solution_run

pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")
pytest.importorskip("otter")


def test_the_course_is_there() -> None:
    """One notebook per topic, numbered 00 (build the engine) to 11."""
    numbers = sorted(p.name[:2] for p in NOTEBOOKS)
    assert numbers == [f"{i:02d}" for i in range(0, 12)], [p.name for p in NOTEBOOKS]


@pytest.mark.slow
@pytest.mark.parametrize("path", params(NOTEBOOKS))
def test_notebook_runs(path) -> None:
    nb = solution_run(path.stem).result()     # raises CellExecutionError naming the cell
    errors = [o for cell in nb.cells if cell.cell_type == "code"
              for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
