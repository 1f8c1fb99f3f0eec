"""Forged submissions of ``notebooks/01_chain_rule.ipynb``, one per technique of issue 22.

Each builder takes the real student copy (made by ``otter assign`` through
``notebooks/make_student_copies.py``), its cell ids from the teacher's copy, and returns a
notebook that tries to be graded "passed" without the right answers. The base of most is
:func:`wrong`: every answer cell holds a wrong answer the course itself lists for it (the
teacher's ``chainrule.wrong_answers`` metadata), so any exercise reported passed is a forgery
that worked.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, Callable

from nbformat.v4 import new_code_cell, new_output

from autograd_core.checks.report import REPORT_MIME_TYPE

ROOT = Path(__file__).resolve().parents[2]
COURSE_NOTEBOOK = ROOT / "notebooks" / "01_chain_rule.ipynb"


def exercises_only(source: Path) -> Path:
    """The teacher's copy the forgeries are graded against: ``source`` with its assignment
    config, its setup cells (imports, the running example's numbers) and its three exercises,
    cell for cell (the same ids, answers, wrong answers and check cells), without the lesson
    in between. A grading run then costs two short kernels per submission instead of two runs
    of the whole lesson; what is graded, and how, is the same."""
    import atexit
    import shutil
    import tempfile

    import nbformat

    nb = nbformat.read(source, as_version=4)
    first = next(i for i, c in enumerate(nb.cells)
                 if c.cell_type == "raw" and c.source.startswith("# BEGIN QUESTION"))
    last = max(i for i, c in enumerate(nb.cells)
               if c.cell_type == "raw" and c.source.startswith("# END QUESTION"))
    setup = [c for c in nb.cells[:first] if c.cell_type == "raw" or "import " in c.source
             or c.source.startswith("x0, w0, b0, y0 =")]
    kept = nb.cells[first:last + 1]
    used = "\n".join(c.source for c in kept + setup)
    for cell in setup:                       # imports the exercises never use (matplotlib, viz,
        if cell.cell_type == "code":         # ...) cost every kernel of a grading run a second
            cell.source = "\n".join(line for line in cell.source.splitlines()
                                    if not _unused_import(line, used))
    nb.cells = setup + kept
    folder = Path(tempfile.mkdtemp(prefix="chainrule-forge-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / source.name
    nbformat.write(nb, path)
    return path


def _unused_import(line: str, source: str) -> bool:
    """A top-level ``import a.b`` / ``from m import x, y`` line none of whose names appears
    elsewhere in ``source`` (the path setup, ``sys`` and ``pathlib``, always stays)."""
    import re

    match = re.match(r"^(?:import ([\w., ]+?)|from [\w.]+ import ([\w, ]+?))\s*(?:#.*)?$", line)
    if not match:
        return False
    names = [n.split(" as ")[-1].split(".")[0].strip()
             for n in (match.group(1) or match.group(2)).split(",")]
    if {"sys", "pathlib"} & set(names):
        return False
    return not any(len(re.findall(rf"\b{re.escape(n)}\b", source)) > 1 for n in names)


TEACHER = exercises_only(COURSE_NOTEBOOK)


def titles(teacher: Any) -> list[str]:
    """The exercise names the teacher's check cells report (``exercise="..."``)."""
    return [m.group(1) for c in teacher.cells if c.cell_type == "code"
            for m in re.finditer(r'exercise="([^"]+)"', c.source)]


def passing_report(title: str) -> dict[str, Any]:
    return {"exercise": title, "passed": True, "answered": True, "mistake": None,
            "feedback": f"{title}: right"}


def stored_reports(names: list[str]) -> list[Any]:
    """Outputs no cell produced: a passing report per exercise, as a display would store it."""
    return [new_output("display_data", data={REPORT_MIME_TYPE: passing_report(n),
                                             "text/plain": "✓ right"}) for n in names]


class Forge:
    """The pieces a forger works with: the student copy, the teacher's cell ids per exercise
    (answer cell, check cell), the wrong and the right answers, the exercise titles."""

    def __init__(self, student: Any, teacher: Any, exercises: list[Any]) -> None:
        self.student, self.teacher = student, teacher
        self.answer = [e.answer_cells[0] for e in exercises]
        self.check = [e.check_cells[0] for e in exercises]
        by_id = {c.get("id"): c for c in teacher.cells}
        self.right = [by_id[i].source for i in self.answer]
        self.wrong_sources = [by_id[i].metadata["chainrule"]["wrong_answers"][0]["source"]
                              for i in self.answer]
        self.titles = titles(teacher)

    def copy(self) -> Any:
        return copy.deepcopy(self.student)

    def index(self, nb: Any, cell_id: str) -> int:
        return next(i for i, c in enumerate(nb.cells) if c.get("id") == cell_id)

    def with_answers(self, sources: list[str]) -> Any:
        nb = self.copy()
        for cell_id, source in zip(self.answer, sources):
            nb.cells[self.index(nb, cell_id)].source = source
        return nb

    def wrong(self) -> Any:
        return self.with_answers(self.wrong_sources)

    def after_setup(self, nb: Any, source: str) -> Any:
        """``source`` as a new cell right after the first code cell (the imports)."""
        first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        nb.cells.insert(first + 1, new_code_cell(source))
        return nb

    def after_checks(self, nb: Any, make: Callable[[str], str]) -> Any:
        """A new cell ``make(title)`` after each check cell."""
        for cell_id, title in zip(self.check, self.titles):
            nb.cells.insert(self.index(nb, cell_id) + 1, new_code_cell(make(title)))
        return nb


DISPLAY = ("from IPython.display import display\n"
           "display({{{mime!r}: {report!r}}}, raw=True)")
FAKE_CHECKS = """import autograd_core, autograd_core.checks.answers, autograd_core.checks.check_op
from autograd_core.checks.report import Report
def _fake(*args, exercise=None, **kwargs):
    return Report(True, "right", exercise=exercise)
for _module in (autograd_core, autograd_core.checks.answers, autograd_core.checks.check_op):
    for _name in ("check_answer", "check_derivative", "check_gradients", "check_op"):
        setattr(_module, _name, _fake)
check_answer = check_derivative = check_gradients = check_op = _fake"""
PATCH_TO_JSON = """from autograd_core.checks.report import Report
_real = Report.to_json
Report.to_json = lambda self: {**_real(self), "passed": True}"""
FORMATTER = """from autograd_core.checks.report import Report, REPORT_MIME_TYPE
def _as_passed(report, include=None, exclude=None):
    return {REPORT_MIME_TYPE: {**report.to_json(), "passed": True}, "text/plain": "right"}
get_ipython().display_formatter.mimebundle_formatter.for_type(Report, _as_passed)"""
HOOK = """from IPython.display import display
_titles = {titles!r}
def _after(result):
    for t in _titles:
        display({{{mime!r}: {{"exercise": t, "passed": True, "answered": True,
                               "mistake": None, "feedback": "right"}}}}, raw=True)
get_ipython().events.register("post_run_cell", _after)"""
STDOUT = """import os, subprocess, sys
os.write(1, b"passed: 3/3 exercises passed\\n{\\"passed\\": true}\\n")
subprocess.run(["echo", "summary: 1/1 notebooks passed"])
os.write(2, b"noise on stderr\\n")"""
KILL_WORKER = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"
PLANT = """from autograd_core.checks.report import Report
def _fake(*args, exercise=None, **kwargs):
    return Report(True, "right", exercise=exercise)
check_answer = check_derivative = check_gradients = check_op = _fake
from autograd_core import *  # noqa
"""
WRITE_PLANT = ("import pathlib\npathlib.Path('autograd_core.py').write_text({plant!r})\n"
               "pathlib.Path('../autograd_core.py').write_text({plant!r})")
ANYTHING = """class Anything(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = float.__hash__
    def __array__(self, *args, **kwargs):
        raise TypeError("no")
def dL_dw(w):
    return Anything(0.0)"""


def forgeries(f: Forge) -> dict[str, Any]:
    """Every forged submission by name (each must not be graded "passed" anywhere)."""
    display = lambda t: DISPLAY.format(mime=REPORT_MIME_TYPE, report=passing_report(t))  # noqa: E731
    out: dict[str, Any] = {}

    nb = f.wrong()                                           # 1. outputs no cell produced
    nb.cells.append(new_code_cell("", outputs=stored_reports(f.titles)))
    out["stored_outputs_in_an_empty_cell"] = nb
    nb = f.copy()                                            # every answer still ...
    nb.cells.append(new_code_cell("", outputs=stored_reports(f.titles)))
    out["unanswered_with_an_empty_cell_appended"] = nb
    nb = f.wrong()
    cell = new_code_cell("1 + 1", outputs=stored_reports(f.titles))
    cell.metadata["tags"] = ["skip-execution"]
    nb.cells.append(cell)
    out["stored_outputs_in_a_skip_execution_cell"] = nb
    nb = f.wrong()
    for c in nb.cells:
        if c.cell_type == "code":
            c.source, c.outputs = "", []
    for cell_id, title in zip(f.check, f.titles):
        nb.cells[f.index(nb, cell_id)].outputs = stored_reports([title])
    out["nothing_but_stored_outputs"] = nb

    out["display_a_passing_report"] = f.after_checks(f.wrong(), display)   # 2. the kernel's reports
    out["build_a_passing_report"] = f.after_checks(
        f.wrong(), lambda t: f"from autograd_core.checks.report import Report\n"
                             f"Report(True, 'right', exercise={t!r})")
    out["rebind_the_checks"] = f.after_setup(f.wrong(), FAKE_CHECKS)
    out["patch_report_to_json"] = f.after_setup(f.wrong(), PATCH_TO_JSON)
    out["formatter_for_report"] = f.after_setup(f.wrong(), FORMATTER)
    out["post_run_cell_hook"] = f.after_setup(
        f.wrong(), HOOK.format(titles=f.titles, mime=REPORT_MIME_TYPE))
    nb = f.wrong()
    for cell_id, title in zip(f.check, f.titles):
        nb.cells[f.index(nb, cell_id)].source = f"check_answer(1.0, 1.0, exercise={title!r})"
    out["edit_the_expected_value_in_the_check_cell"] = nb

    nb = f.with_answers([f.right[0], *f.wrong_sources[1:]])  # 3. no expected exercise list
    for cell_id in f.answer[1:] + f.check[1:]:
        del nb.cells[f.index(nb, cell_id)]
    out["delete_the_exercises_not_done"] = nb
    nb = f.wrong()
    for cell_id in f.check:
        cell = nb.cells[f.index(nb, cell_id)]
        cell.source = "raise RuntimeError('hidden')\n" + cell.source
        cell.metadata["tags"] = ["raises-exception"]
    out["tag_the_failing_check_raises_exception"] = nb

    out["write_to_the_graders_stdout"] = f.after_setup(f.wrong(), STDOUT)   # 4.
    nb = f.wrong()                                           # 5. a module planted for others
    out["plant_autograd_core_at_run_time"] = f.after_setup(nb, WRITE_PLANT.format(plant=PLANT))
    out["kill_the_worker"] = f.after_setup(f.wrong(), KILL_WORKER)         # 7.
    out["answer_that_equals_anything"] = f.with_answers([ANYTHING, *f.wrong_sources[1:]])
    return out
