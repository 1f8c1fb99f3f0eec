"""Run every notebook of the course top to bottom in a fresh kernel; any cell error fails.

Each notebook is its own test (``pytest tests/test_notebooks.py -k 04_xor``). The kernel is
the standard ``python3`` one, started in ``notebooks/`` (the notebooks make the repository
importable from there, so an uninstalled clone works too), with 120 s allowed per cell.
The notebooks assert their own numbers (hand-derived == engine == finite differences), so a
wrong gradient anywhere in the library breaks the notebook that teaches it.

The kernel runs with single-threaded BLAS: the notebooks multiply small matrices, where extra
OpenBLAS threads bring nothing, and on a busy 2-core machine their spin-waiting made a
300-step training cell 10-15x slower.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(p for p in NOTEBOOK_DIR.glob("*.ipynb") if not p.name.startswith("."))
CELL_TIMEOUT = 120
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def test_the_course_is_there() -> None:
    """One notebook per topic, numbered 01 to 11."""
    numbers = sorted(p.name[:2] for p in NOTEBOOKS)
    assert numbers == [f"{i:02d}" for i in range(1, 12)], [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     allow_errors=False,
                                     resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    env = {**os.environ, **SINGLE_THREADED}
    client.execute(env=env)   # raises CellExecutionError naming the cell and the traceback
    errors = [o for cell in nb.cells if cell.cell_type == "code"
              for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
