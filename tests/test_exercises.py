"""The course's exercises: both copies made by ``otter assign``, executed, and every check's verdict.

``notebooks/make_student_copies.py`` runs otter-grader's ``otter assign`` on each notebook with
exercises (once per test session, in a module-scoped fixture), giving a *student* copy (answers
replaced by ``...``) and a *solution* copy. Per notebook, two kernel runs (the third is
``tests/test_notebooks.py``, which executes the source notebook itself):

* the **student** copy runs to the end with no error, and every check reports "not answered yet";
* the **solution** copy, with each exercise's wrong answers run before its solution: every wrong
  answer is stored in the answer cell's metadata (``cell.metadata["chainrule"]["wrong_answers"]``:
  ``{"source": ..., "mistake": ...}``), and is run as that cell, followed by a copy of the check
  cell; its report must fail and name that mistake. Then the solution cell itself and its check
  run, as in the plain solution copy, and that report must pass.

The reports are read from the executed notebook, from each check cell's
``application/vnd.chainrule.report+json`` output (what ``chainrule check`` reads too).
"""
from __future__ import annotations

import copy
import importlib.util
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")
pytest.importorskip("otter")

from autograd_core.report import MISTAKES, REPORT_MIME_TYPE  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
_spec = importlib.util.spec_from_file_location("make_student_copies",
                                               NOTEBOOK_DIR / "make_student_copies.py")
copies_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(copies_tool)

NOTEBOOKS = copies_tool.course_notebooks()
IDS = [p.stem for p in NOTEBOOKS]
CELL_TIMEOUT = 120
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
SOLUTION_TAG = "otter_assign_solution_cell"

# The course's requirement (issue 13): every notebook 01-11 has checked exercises, 20 or more
# in all (and here: at least MIN_PER_NOTEBOOK in each). Notebooks 06-11 get theirs on another
# branch; until then only the notebooks that have exercises are counted. To tighten once they
# are in, set REQUIRE_WHOLE_COURSE = True.
REQUIRE_WHOLE_COURSE = True
MIN_PER_NOTEBOOK = 2
MIN_IN_ALL = 20


@pytest.fixture(scope="module")
def course_copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """``{stem: (student copy, solution copy)}``, made once by ``otter assign``."""
    out = tmp_path_factory.mktemp("copies")
    return {p.stem: copies_tool.make_copies(p, out) for p in NOTEBOOKS}


def execute(nb: "nbformat.NotebookNode", folder: Path) -> None:
    """Run ``nb`` top to bottom in a fresh kernel started in ``folder`` (this checkout's
    packages first on the path); any cell error fails the test."""
    env = {**os.environ, **SINGLE_THREADED,
           "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(folder)}}).execute(env=env)


def report_of(cell: "nbformat.NotebookNode") -> dict | None:
    """The check report a cell displayed, or None."""
    found = [o["data"][REPORT_MIME_TYPE] for o in cell.get("outputs", [])
             if o.get("output_type") in ("execute_result", "display_data")
             and REPORT_MIME_TYPE in o.get("data", {})]
    assert len(found) <= 1, "one check per check cell"
    return found[0] if found else None


def exercises(nb: "nbformat.NotebookNode") -> list[tuple[int, int]]:
    """``(answer cell index, check cell index)`` per exercise of an otter solution copy: the
    check is the code cell right after the answer."""
    pairs = []
    for i, cell in enumerate(nb.cells):
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            j = next(k for k in range(i + 1, len(nb.cells)) if nb.cells[k].cell_type == "code")
            assert "check_" in nb.cells[j].source, f"no check call after answer cell {i}"
            pairs.append((i, j))
    return pairs


def source_exercises(path: Path) -> list["nbformat.NotebookNode"]:
    """The answer cells of a source notebook: the code cells between BEGIN and END SOLUTION."""
    nb = nbformat.read(path, as_version=4)
    cells, inside = [], False
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.strip().startswith("# BEGIN SOLUTION"):
            inside = True
        elif cell.cell_type == "raw" and cell.source.strip().startswith("# END SOLUTION"):
            inside = False
        elif inside and cell.cell_type == "code":
            cells.append(cell)
    return cells


# -- without a kernel ----------------------------------------------------------------------
def test_exercise_counts() -> None:
    counts = {p.stem: len(source_exercises(p)) for p in NOTEBOOKS}
    assert counts, "no notebook has exercises"
    assert all(n >= MIN_PER_NOTEBOOK for n in counts.values()), counts
    if REQUIRE_WHOLE_COURSE:
        every = sorted(p.stem[:2] for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
        assert sorted(s[:2] for s in counts) == every, counts
        assert sum(counts.values()) >= MIN_IN_ALL, counts
    else:
        assert sum(counts.values()) >= MIN_PER_NOTEBOOK * len(counts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_answer_cell_has_wrong_answers(path: Path) -> None:
    """Each exercise carries at least one constructed wrong answer, each naming a known mistake
    class, and its answer lines are marked for otter."""
    for cell in source_exercises(path):
        assert "# SOLUTION" in cell.source
        wrong = cell.metadata.get("chainrule", {}).get("wrong_answers", [])
        assert wrong, f"no wrong answers for:\n{cell.source}"
        for w in wrong:
            assert w["mistake"] in MISTAKES and w["mistake"] not in ("not_answered", "wrong")
            assert w["source"] != cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_outputs_pass(path: Path) -> None:
    """The notebooks are committed with outputs: every check shown there passed."""
    nb = nbformat.read(path, as_version=4)
    reports = [r for c in nb.cells if c.cell_type == "code" for r in [report_of(c)] if r]
    assert len(reports) == len(source_exercises(path)), "re-run notebooks/run_all.py"
    assert all(r["passed"] for r in reports), [r["feedback"] for r in reports if not r["passed"]]


def test_exercise_names_are_unique() -> None:
    names = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        names += [c.source.split("name:", 1)[1].split()[0] for c in nb.cells
                  if c.cell_type == "raw" and c.source.startswith("# BEGIN QUESTION")]
        assert all(n.startswith(f"ex{path.stem[:2]}_") for n in names[-len(source_exercises(path)):])
    assert len(names) == len(set(names)), names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_copy_gives_nothing_away(path: Path, course_copies) -> None:
    student, solution = course_copies[path.stem]
    nb = nbformat.read(student, as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "# SOLUTION" not in text and "# BEGIN" not in text and "# END" not in text
    assert not any("chainrule" in c.metadata for c in nb.cells)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert len(exercises(nbformat.read(solution, as_version=4))) == len(source_exercises(path))


# -- the two kernel runs per notebook --------------------------------------------------------
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_copy_runs_and_reports_not_answered(path: Path, course_copies) -> None:
    student, _ = course_copies[path.stem]
    nb = nbformat.read(student, as_version=4)
    execute(nb, student.parent)
    reports = [r for c in nb.cells if c.cell_type == "code" for r in [report_of(c)] if r]
    assert len(reports) == len(source_exercises(path))
    for r in reports:
        assert not r["answered"] and not r["passed"] and r["mistake"] == "not_answered", r


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_solution_copy_passes_and_wrong_answers_are_named(path: Path, course_copies) -> None:
    _, solution = course_copies[path.stem]
    nb = nbformat.read(solution, as_version=4)
    pairs = exercises(nb)
    # rebuild the cell list: before each answer cell, (wrong answer, check) per wrong answer
    cells, expected = [], {}     # expected: index in the new list -> the mistake, or "passed"
    answer_at = {i: j for i, j in pairs}
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
    execute(nb, solution.parent)
    problems = []
    for k, (want, source) in expected.items():
        r = report_of(nb.cells[k])
        if r is None:
            problems.append(f"cell {k}: no report")
        elif want == "passed":
            if not r["passed"]:
                problems.append(f"{r['exercise']}: the solution fails:\n{r['feedback']}")
        elif r["passed"] or not r["answered"] or r["mistake"] != want:
            problems.append(f"{r['exercise']}: expected the mistake {want!r}, got "
                            f"{r['mistake']!r} for\n{source}\n{r['feedback']}")
    assert not problems, "\n\n".join(problems)
    solved = [v for v in expected.values() if v[0] == "passed"]
    assert len(solved) == len(source_exercises(path)) >= MIN_PER_NOTEBOOK
