"""Class-scale grading through otter-grader: the same verdicts as ``chainrule check --key``.

``notebooks/make_student_copies.py --autograder`` turns each question's check cells into a
hidden otter test and builds otter's autograder zip with ``otter assign``. Here it is built for
``01_chain_rule`` (check_derivative, check_answer) and ``06_activations`` (also check_op, a
function-valued answer), and ``otter run`` (no container) grades submissions whose answers are
right, wrong (the course's own wrong answers) and unanswered, mixed within one notebook; every
question's otter score must agree with the exercise's verdict in ``chainrule check --key``.
"""
from __future__ import annotations

import copy
import functools
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("otter")

from viz.cli.grading import teacher as grading  # noqa: E402

# one worker builds this module's shared fixture once (pytest-xdist --dist loadgroup)
pytestmark = [pytest.mark.xdist_group("grading_otter"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")


def copies_tool():
    spec = importlib.util.spec_from_file_location(
        "make_student_copies", ROOT / "notebooks" / "make_student_copies.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def submission(student: Path, teacher: Path, choices: list[str]) -> object:
    """The student copy with each exercise's answer cell set to the teacher's ("right"), the
    course's first wrong answer ("wrong"), or left as it is ("unanswered")."""
    nb = nbformat.read(student, as_version=4)
    teacher_nb = nbformat.read(teacher, as_version=4)
    by_id = {c.get("id"): c for c in teacher_nb.cells}
    key = grading.parse_key(teacher, teacher_nb)
    for exercise, choice in zip(key.exercises, choices):
        cell = next(c for c in nb.cells if c.get("id") == exercise.answer_cells[0])
        source = by_id[exercise.answer_cells[0]]
        if choice == "right":
            cell.source = source.source
        elif choice == "wrong":
            cell.source = source.metadata["chainrule"]["wrong_answers"][0]["source"]
    return copy.deepcopy(nb)


@functools.cache
def teacher_of(stem: str) -> Path:
    """The teacher's copy: the notebook's exercises only, as the forgery tests use (the same
    cells, answers and checks, without the lesson between them): 01's, and 06's (check_op)."""
    from tests.viz import forgeries
    if stem == "01_chain_rule":
        return forgeries.TEACHER
    return forgeries.exercises_only(ROOT / "notebooks" / f"{stem}.ipynb")


CASES = {"01_chain_rule": [["wrong", "right", "unanswered"]],     # each verdict, one run each
         "06_activations": [["right", "wrong", "right"]]}


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> dict:
    """``{submission: (chainrule's verdicts, otter's verdicts)}``, per exercise in order."""
    out = tmp_path_factory.mktemp("otter")
    tool = copies_tool()
    runs: list[tuple[Path, Path, Path]] = []                     # submission, teacher, zip
    for stem, cases in CASES.items():
        teacher = teacher_of(stem)
        student, _ = tool.make_copies(teacher, out / "copies")
        autograder = tool.make_autograder(teacher, out)
        for i, choices in enumerate(cases):
            path = out / "class" / f"{stem}_{i}" / "submission.ipynb"
            path.parent.mkdir(parents=True)
            nbformat.write(submission(student, teacher, choices), path)
            runs.append((path, teacher, autograder))
    keys = [arg for stem in CASES for arg in ("--key", str(teacher_of(stem)))]
    checked = subprocess.run([sys.executable, "-m", "viz.cli", "check", str(out / "class"),
                              *keys, "--json", "--jobs", "2"], capture_output=True, text=True,
                             env=ENV, cwd=ROOT, timeout=900)
    ours = {Path(r["path"]).parent.name: [e["status"] == "passed" for e in r["exercises"]]
            for r in json.loads(checked.stdout)["notebooks"]}
    theirs = {}
    for path, _, autograder in runs:
        results = path.parent / "otter"
        results.mkdir()
        ran = subprocess.run(["otter", "run", "-a", str(autograder), "-o", str(results),
                              str(path)], capture_output=True, text=True, env=ENV,
                             cwd=path.parent, timeout=600)
        assert ran.returncode == 0, ran.stderr[-2000:]
        tests = json.loads((results / "results.json").read_text())["tests"]
        theirs[path.parent.name] = [t["score"] == t["max_score"] for t in tests
                                    if t["name"] != "Public Tests"]
    return {name: (ours[name], theirs[name]) for name in theirs}


def test_otter_run_gives_chainrules_verdicts(verdicts) -> None:
    for name, (ours, theirs) in verdicts.items():
        assert ours == theirs, name


def test_the_verdicts_are_the_answers(verdicts) -> None:
    expected = {f"{stem}_{i}": [c == "right" for c in choices]
                for stem, cases in CASES.items() for i, choices in enumerate(cases)}
    assert {name: ours for name, (ours, _) in verdicts.items()} == expected


def test_the_otter_tests_are_the_teachers_check_cells() -> None:
    tool = copies_tool()
    teacher = nbformat.read(ROOT / "notebooks" / "01_chain_rule.ipynb", as_version=4)
    tests = [c for c in tool.with_otter_tests(teacher).cells
             if c.cell_type == "code" and "BEGIN TEST CONFIG" in c.source]
    assert len(tests) == 3 and all("hidden: true" in t.source for t in tests)
    assert "check_derivative(loss_of_w, dL_dw" in tests[0].source
