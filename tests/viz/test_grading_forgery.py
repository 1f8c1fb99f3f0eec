"""Issue 22: a grade a student cannot forge (``chainrule check SUBMISSION --key TEACHER``).

One forged submission per technique of the issue (``tests/viz/forgeries.py``), built from the
real student copy of ``notebooks/01_chain_rule.ipynb``; a forgery succeeds only if the run
reports an exercise it did not answer right as passed. They are graded in one command-line
run (a subprocess, so that what a kernel writes to file descriptor 1 would land in the
captured output), ``--jobs 2``, against a key file written by ``--make-key``. Two controls in
the same run show the grader can pass and fail: the right answers, and the wrong ones.

The self-check (no ``--key``) gets the isolation tests on tiny notebooks: stored outputs,
a planted ``autograd_core.py``, control characters, a killed worker, malformed files.
"""
from __future__ import annotations

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

from nbformat.v4 import new_code_cell, new_notebook  # noqa: E402

from tests.viz import forgeries  # noqa: E402
from viz.cli.grading import teacher as grading  # noqa: E402
from viz.cli.grading import wire as grading_wire  # noqa: E402
from viz.cli.grading import self_check as nc  # noqa: E402

# one worker builds this module's shared fixture once (pytest-xdist --dist loadgroup)
pytestmark = [pytest.mark.xdist_group("grading_forgery"), pytest.mark.slow]

ROOT = forgeries.ROOT
TIMEOUT = "120"


def chainrule(*argv: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "viz.cli", *argv], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=timeout)


def student_copy(out: Path) -> Path:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_student_copies", ROOT / "notebooks" / "make_student_copies.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    student, _ = tool.make_copies(forgeries.TEACHER, out)
    return student


@pytest.fixture(scope="session")
def forge(tmp_path_factory) -> forgeries.Forge:
    student = student_copy(tmp_path_factory.mktemp("handout"))
    teacher = nbformat.read(forgeries.TEACHER, as_version=4)
    key = grading.parse_key(forgeries.TEACHER, teacher)
    return forgeries.Forge(nbformat.read(student, as_version=4), teacher, key.exercises)


@pytest.fixture(scope="session")
def batch(forge, tmp_path_factory) -> dict:
    """Every forgery and the two controls, graded in one run; ``{folder: result}`` plus the
    run's streams."""
    root = tmp_path_factory.mktemp("class")
    renewed = forge.with_answers(forge.right)
    for number, cell in enumerate(renewed.cells):      # as an editor that renews cell ids
        cell["id"] = f"renewed-{number}"
    broken = forge.with_answers(forge.right)
    broken.cells.insert(1, nbformat.v4.new_code_cell("undefined_name + 1"))
    submissions = dict(forgeries.forgeries(forge), right=forge.with_answers(forge.right),
                       wrong=forge.wrong(), right_with_new_ids=renewed,
                       right_with_a_broken_cell=broken)
    for name, nb in submissions.items():
        (root / name).mkdir()
        nbformat.write(nb, root / name / "submission.ipynb")
    for folder in ("right", "wrong", ""):             # planted beside submissions, and above
        (root / folder / "autograd_core.py").write_text(forgeries.PLANT)
    key = root.parent / "key01.json"
    made = chainrule("check", str(forgeries.TEACHER), "--make-key", str(key))
    assert made.returncode == 0, made.stderr
    run = chainrule("check", str(root), "--key", str(key), "--json", "--jobs", "2",
                    "--timeout", TIMEOUT)
    assert run.stdout, run.stderr
    results = json.loads(run.stdout)          # forgery 4: the output is still JSON
    by_folder = {Path(r["path"]).parent.name: r for r in results["notebooks"]}
    return {"results": by_folder, "stdout": run.stdout, "stderr": run.stderr,
            "code": run.returncode, "root": root, "make_key": made.stdout,
            "names": list(submissions)}


def statuses(result: dict) -> list[str]:
    return [e["status"] for e in result["exercises"]]


def test_the_right_answers_pass_and_the_wrong_ones_fail(batch) -> None:
    assert batch["results"]["right"]["passed"] is True
    assert statuses(batch["results"]["right"]) == ["passed"] * 3
    wrong = batch["results"]["wrong"]
    assert statuses(wrong) == ["FAILED"] * 3 and wrong["passed"] is False
    assert [e["mistake"] for e in wrong["exercises"]][:2] == ["dropped_local", "one_path"]


def test_the_grade_gives_the_full_feedback_with_the_expected_value(batch) -> None:
    """A learner's own run shows a wrong answer's expected value only on request (staged
    feedback); the teacher's grade shows all of it."""
    for exercise in batch["results"]["wrong"]["exercises"]:
        assert "expected" in exercise["feedback"] and "stuck?" not in exercise["feedback"], \
            exercise


def test_cells_whose_ids_were_renewed_are_found_by_the_check_cells_code(batch) -> None:
    assert statuses(batch["results"]["right_with_new_ids"]) == ["passed"] * 3


def test_a_cell_error_is_reported_with_the_submissions_cell_number(batch) -> None:
    result = batch["results"]["right_with_a_broken_cell"]
    assert statuses(result) == ["passed"] * 3 and result["passed"] is False
    assert [(e["cell"], e["ename"], e["source"]) for e in result["errors"]] == [
        (2, "NameError", "undefined_name + 1")]


def test_every_submission_is_reported_and_the_run_fails(batch) -> None:
    assert sorted(batch["results"]) == sorted(batch["names"])
    assert batch["code"] == 1
    assert "internal error" not in batch["stderr"] and "Traceback" not in batch["stderr"]


def test_make_key_names_the_exercises(batch) -> None:
    assert "3 exercises" in batch["make_key"] and "01.3 Jacobian product" in batch["make_key"]


FORGED = [name for name in ("stored_outputs_in_an_empty_cell",
                            "stored_outputs_in_a_skip_execution_cell",
                            "nothing_but_stored_outputs", "display_a_passing_report",
                            "build_a_passing_report", "rebind_the_checks",
                            "patch_report_to_json", "formatter_for_report",
                            "post_run_cell_hook", "edit_the_expected_value_in_the_check_cell",
                            "tag_the_failing_check_raises_exception",
                            "write_to_the_graders_stdout", "plant_autograd_core_at_run_time",
                            "kill_the_worker", "answer_that_equals_anything")]


@pytest.mark.parametrize("name", FORGED)
def test_a_forgery_passes_no_exercise(batch, name: str) -> None:
    result = batch["results"][name]
    assert result["passed"] is False
    assert "passed" not in statuses(result), result


def test_an_unanswered_student_copy_with_an_empty_cell_appended_is_not_answered(batch) -> None:
    result = batch["results"]["unanswered_with_an_empty_cell_appended"]
    assert statuses(result) == ["not answered"] * 3 and result["passed"] is False


def test_deleted_exercises_are_missing(batch) -> None:
    result = batch["results"]["delete_the_exercises_not_done"]
    assert statuses(result) == ["passed", "missing", "missing"]
    assert result["passed"] is False


def test_the_stored_outputs_are_reported_not_answered_and_the_edited_check_is_ignored(
        batch) -> None:
    stored = batch["results"]["nothing_but_stored_outputs"]
    assert statuses(stored) == ["not answered"] * 3, stored["exercises"]    # the why, if not
    edited = batch["results"]["edit_the_expected_value_in_the_check_cell"]
    assert statuses(edited) == ["FAILED"] * 3                      # judged by the teacher's


def test_a_killed_worker_fails_its_own_notebook_only(batch) -> None:
    killed = batch["results"]["kill_the_worker"]
    assert [e["ename"] for e in killed["errors"]] == ["WorkerDied"]
    assert "signal 9" in killed["errors"][0]["evalue"]
    assert batch["results"]["right"]["passed"] is True


def test_a_planted_module_reaches_no_submission(batch) -> None:
    root = batch["root"]
    assert not (root / "plant_autograd_core_at_run_time" / "autograd_core.py").exists()
    assert batch["results"]["wrong"]["passed"] is False        # planted beside it
    assert batch["results"]["right"]["passed"] is True         # planted beside it, and above


def test_the_kernels_output_stays_out_of_the_graders(batch) -> None:
    assert "summary: 1/1" not in batch["stdout"] and "noise on stderr" not in batch["stderr"]


# -- the self-check: isolation on tiny notebooks ------------------------------------------------
IMPORT = "from autograd_core import check_answer"


def write(path: Path, *sources: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=[new_code_cell(s) for s in sources]), path)
    return path


def test_self_check_clears_stored_outputs(tmp_path: Path) -> None:
    nb = new_notebook(cells=[new_code_cell(IMPORT), new_code_cell(forgeries.STDOUT),
                             new_code_cell("", outputs=forgeries.stored_reports(["d/dx"]))])
    nbformat.write(nb, tmp_path / "stored.ipynb")
    run = chainrule("check", str(tmp_path / "stored.ipynb"), "--json")
    result = json.loads(run.stdout)["notebooks"][0]      # fd 1 of the kernel: not ours
    assert run.returncode == 1 and result["exercises"] == []
    assert "noise on stderr" not in run.stderr


def test_self_check_isolation_planted_module_ansi_and_a_killed_worker(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    write(shared / "a_right.ipynb", IMPORT, "check_answer(6.0, 6.0, exercise='d')")
    write(shared / "b_planter.ipynb", "import pathlib\n"
          "pathlib.Path('autograd_core.py').write_text('raise SystemExit')")
    write(shared / "c_wrong.ipynb", IMPORT, "check_answer(-6.0, 6.0, exercise='d')")
    write(shared / "d_killer.ipynb", forgeries.KILL_WORKER)
    write(shared / "e_ansi.ipynb", IMPORT, "check_answer(-6.0, 6.0, exercise='\\x1b[8md')",
          "raise ValueError('\\x1b[8mhidden\\x1b[0m \\x07')")
    (shared / "autograd_core.py").write_text(forgeries.PLANT)      # shipped by a submission
    run = chainrule("check", str(shared), "--jobs", "2")
    out = run.stdout
    assert run.returncode == 1 and "\x1b" not in out and "\x07" not in out
    assert "internal error" not in run.stderr
    lines = {line.split()[1].split("/")[-1]: line.split()[0]
             for line in out.split("summary:")[1].splitlines()[1:]}
    assert lines == {"a_right.ipynb": "passed", "b_planter.ipynb": "FAILED",
                     "c_wrong.ipynb": "FAILED", "d_killer.ipynb": "FAILED",
                     "e_ansi.ipynb": "FAILED"}
    assert "WorkerDied" in out and "[8mhidden" in out.replace("\x1b", "")
    assert (shared / "autograd_core.py").read_text() == forgeries.PLANT    # not overwritten


@pytest.mark.parametrize("text, what", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"nbformat": 4, "cells": [], "x": ' + "9" * 5000 + "}", "cannot read"),
], ids=["deep_nesting", "huge_integer"])   # short ids: the test id reaches the environment
def test_malformed_json_is_not_a_notebook(tmp_path: Path, text: str, what: str) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_text(text)
    run = chainrule("check", str(path))
    assert run.returncode == 3
    assert str(path) in run.stderr and what in run.stderr and "Traceback" not in run.stderr


def test_a_key_that_is_not_a_teachers_copy_is_refused(tmp_path: Path) -> None:
    plain = write(tmp_path / "plain.ipynb", IMPORT)
    run = chainrule("check", str(plain), "--key", str(plain))
    assert run.returncode == 3 and "not a teacher's copy" in run.stderr


# -- no kernel: the key and the data format -------------------------------------------------------
def test_every_course_notebook_is_a_key_with_answers() -> None:
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        key = grading.parse_key(path, nbformat.read(path, as_version=4))
        assert len(key.exercises) >= 2, path
        assert all(e.answers for e in key.exercises), path


def test_answer_names_are_the_solution_lines() -> None:
    source = ("A = 1\nb = A + 1  # SOLUTION\nc, d = 1, 2  # SOLUTION\n"
              "def f(x):\n    y = x\n    return y  # SOLUTION\ndef helper(x):\n    return x\n")
    assert grading.answer_names(source) == {"b": "data", "c": "data", "d": "data",
                                            "f": "function"}


def test_the_format_carries_data_only() -> None:
    import numpy as np

    from autograd_core import Value

    value = {"a": (1.5, float("nan"), ...), "b": np.arange(6.0).reshape(2, 3),
             "c": [np.float64(2.5), np.int64(3), True, None, "x"], "v": Value(2.0)}
    back = grading_wire.decode(json.loads(json.dumps(grading_wire.encode(value))))
    assert back["a"][0] == 1.5 and np.isnan(back["a"][1]) and back["a"][2] is Ellipsis
    assert np.array_equal(back["b"], value["b"]) and back["b"].dtype == np.float64
    assert back["c"] == [2.5, 3, True, None, "x"] and isinstance(back["c"][0], np.float64)
    assert isinstance(back["v"], Value) and back["v"].data == 2.0
    for odd in (object(), np.array(["x"], dtype=object), lambda: 1):
        decoded = grading_wire.decode(grading_wire.encode(odd))
        assert isinstance(decoded, grading_wire.Unsupported)


def test_a_function_answer_is_replayed_from_its_recorded_results_only() -> None:
    def teacher(x):
        return 2 * x

    calls = {grading_wire.probe_key((1.0,), {}): 2.0,
             grading_wire.probe_key((2.0,), {}): {"__raised__": "ZeroDivisionError",
                                                  "message": "no"}}
    student = grading_wire.replay(teacher, calls)
    assert student(1.0) == 2.0
    with pytest.raises(ZeroDivisionError):
        student(2.0)
    with pytest.raises(grading_wire.NotProbed):
        student(3.0)


def test_a_rule_called_on_graph_nodes_is_replayed_as_a_node_with_its_slope() -> None:
    """check_op with create_graph calls a rule on Values while grad mode is on: the replay
    rebuilds a node from the recorded value and slope (without float() of a node, which the
    engine refuses there), so the judge's second derivative goes through it."""
    from autograd_core import Value

    def teacher(x):
        return x * x

    node = Value(3.0)
    calls = {grading_wire.probe_key((node,), {}): {"__node__": grading_wire.encode(Value(9.0)),
                                                   "slopes": [6.0]}}
    student = grading_wire.replay(teacher, calls)
    x = Value(3.0)
    out = student(x)
    assert isinstance(out, Value) and out.data == 9.0
    out.backward()
    assert x.grad == 6.0


def test_collected_texts_lose_control_characters() -> None:
    error = nc.CellError(1, "E\x1b[8m", "a\x1b[31mb\rc\x00", "s\u202e")
    assert (error.ename, error.evalue, error.source) == ("E", "abc", "s")


def test_injecting_never_leaves_the_teachers_answer_in_place() -> None:
    def df(x):
        return 2 * x

    answers = {"x": "data", "df": "function"}
    malformed = {"answers": {"x": {"value": {"__ndarray__": [1], "dtype": "no such dtype"}},
                             "df": {"calls": 5}}}
    namespace = {"x": 3.0, "df": df}
    grading_wire.inject(namespace, malformed, answers)
    assert isinstance(namespace["x"], grading_wire.Unsupported)
    with pytest.raises(grading_wire.NotProbed):
        namespace["df"](1.0)
    for record in (None, {"answers": "nonsense"}, {"answers": {"x": {"undefined": True}}}):
        namespace = {"x": 3.0, "df": df}
        grading_wire.inject(namespace, record, answers)
        assert namespace["x"] is Ellipsis and namespace["df"](1.0) is None
