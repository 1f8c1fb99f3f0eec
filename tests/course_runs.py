"""The course's notebooks, executed once per test process and shared by the tests that read
them (``tests/test_notebooks.py``, ``tests/test_exercises.py``).

Per notebook, ``otter assign`` makes the *student* and *solution* copies
(``notebooks/make_student_copies.py``), and two kernel runs are made on demand, each at most
once per process:

* :func:`student_run`: the student copy, top to bottom;
* :func:`solution_run`: the solution copy with, before each exercise's answer cell, each stored
  wrong answer and a copy of the check cell. It runs every cell of the notebook (so it is also
  "the notebook runs top to bottom") and every check, right and wrong.

A run that raises is remembered too, and every test that reads it fails with that error. The
tests of one notebook form one ``xdist_group`` (:func:`params`), so under pytest-xdist
(``--dist loadgroup``) they share one worker and one run.
"""
from __future__ import annotations

import atexit
import copy
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
CELL_TIMEOUT = 120
KERNEL_STARTUP_TIMEOUT = 300
"""A kernel has this long to start: the suite runs more workers than cores (their kernels
wait on each other), and a slow start is no failure of the notebook."""
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
"""The kernel runs with single-threaded BLAS: the notebooks multiply small matrices, where
extra OpenBLAS threads bring nothing, and on a busy 2-core machine their spin-waiting made a
300-step training cell 10-15x slower."""
SOLUTION_TAG = "otter_assign_solution_cell"

_spec = importlib.util.spec_from_file_location("make_student_copies",
                                               NOTEBOOK_DIR / "make_student_copies.py")
copies_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(copies_tool)

NOTEBOOKS = sorted(p for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def params(paths: list[Path]) -> list[Any]:
    """``paths`` as pytest parameters, one xdist group per notebook, ids its stem."""
    return [pytest.param(p, id=p.stem, marks=pytest.mark.xdist_group(p.stem)) for p in paths]


@cache
def _workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="chainrule-course-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@cache
def copies(stem: str) -> tuple[Path, Path]:
    """``(student copy, solution copy)`` of notebook ``stem``, made by ``otter assign``."""
    return copies_tool.make_copies(NOTEBOOK_DIR / f"{stem}.ipynb", _workdir() / stem)


def execute(nb: Any, folder: Path) -> None:
    """Run ``nb`` top to bottom in a fresh kernel started in ``folder`` (this checkout's
    packages first on the path); any cell error raises ``CellExecutionError``."""
    import nbclient

    env = {**os.environ, **SINGLE_THREADED,
           "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
                            startup_timeout=KERNEL_STARTUP_TIMEOUT, store_widget_state=False,
                            shutdown_kernel="immediate",   # the outputs are in: no 0.3-3 s wait
                            resources={"metadata": {"path": str(folder)}}).execute(env=env)


def exercises(nb: Any) -> list[tuple[int, int]]:
    """``(answer cell index, check cell index)`` per exercise of an otter solution copy: the
    check is the code cell right after the answer."""
    pairs = []
    for i, cell in enumerate(nb.cells):
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            j = next(k for k in range(i + 1, len(nb.cells)) if nb.cells[k].cell_type == "code")
            assert "check_" in nb.cells[j].source, f"no check call after answer cell {i}"
            pairs.append((i, j))
    return pairs


@dataclass
class Run:
    """An executed notebook, or the error its run raised."""

    nb: Any = None
    error: BaseException | None = None
    expected: dict[int, tuple[str, str | None]] | None = None
    """For a solution run: cell index -> ("passed", None) or (the mistake, the wrong answer)."""

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.nb


@cache
def student_run(stem: str) -> Run:
    """The student copy of ``stem``, executed (once per process)."""
    import nbformat

    student, _ = copies(stem)
    nb = nbformat.read(student, as_version=4)
    try:
        execute(nb, student.parent)
    except Exception as error:          # remembered: every reader fails with it
        return Run(error=error)
    return Run(nb)


@cache
def solution_run(stem: str) -> Run:
    """The solution copy of ``stem`` with every stored wrong answer run (and checked) before
    its exercise's answer cell, executed once per process."""
    import nbformat

    _, solution = copies(stem)
    nb = nbformat.read(solution, as_version=4)
    answer_at = dict(exercises(nb))
    cells, expected = [], {}
    for i, cell in enumerate(nb.cells):
        if i in answer_at:
            check = nb.cells[answer_at[i]]
            for w in cell.metadata["chainrule"]["wrong_answers"]:
                wrong = copy.deepcopy(cell)
                wrong.source = w["source"]
                cells += [wrong, copy.deepcopy(check)]
                expected[len(cells) - 1] = (w["mistake"], w["source"])
        cells.append(cell)
        if i in answer_at.values():
            expected[len(cells) - 1] = ("passed", None)
    nb.cells = cells
    try:
        execute(nb, solution.parent)
    except Exception as error:
        return Run(error=error, expected=expected)
    return Run(nb, expected=expected)
