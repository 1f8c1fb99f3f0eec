"""``chainrule check``: learners' notebooks run in fresh kernels, graded from their check reports.

The kernel runs are few (each costs a few seconds): one over a folder holding a right, a wrong
and a broken notebook, one over the right notebook alone with ``--json``, one with a cell over
the time limit. Everything else (refusals, the collection rules) needs no kernel.
"""
from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output  # noqa: E402

import viz.cli.grading.self_check as nc  # noqa: E402
from autograd_core import check_answer  # noqa: E402
from autograd_core.checks.report import REPORT_MIME_TYPE  # noqa: E402
from viz.cli.main import EXIT_NOT_A_NOTEBOOK, main  # noqa: E402

# one worker builds this module's shared fixture once (pytest-xdist --dist loadgroup)
pytestmark = [pytest.mark.xdist_group("cli_check"), pytest.mark.slow]

IMPORT = "from autograd_core import check_answer"
RIGHT = "check_answer(6.0, 6.0, exercise='d/dx 3x² at 1')"
WRONG = "check_answer(-6.0, 6.0, exercise='d/dx 3x² at 1')"       # a sign error
SECOND = "check_answer([1.0, 2.0], [1.0, 2.0], exercise='gradient of w')"
FORGOT_ZERO_GRAD = """import nn
model = nn.MLP(2, [1], seed=0)
opt = nn.optim.SGD(model.parameters(), lr=0.1)
for _ in range(2):
    loss = model([1.0, 2.0]) ** 2
    loss.backward()
    opt.step()"""                                   # the second backward adds to stale grads


def write(path: Path, *sources: str, tags: dict[int, list[str]] | None = None) -> Path:
    cells = [new_markdown_cell("# Exercises")] + [new_code_cell(s) for s in sources]
    for index, cell_tags in (tags or {}).items():
        cells[index].metadata["tags"] = cell_tags
    nbformat.write(new_notebook(cells=cells), path)
    return path


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["check", *argv])
    return code, out.getvalue(), err.getvalue()


def block(output: str, name: str) -> str:
    """The table printed for the notebook whose path ends with ``name``."""
    for chunk in output.split("\n\n"):
        if chunk.splitlines()[0].endswith(name):
            return chunk
    raise AssertionError(f"no table for {name} in:\n{output}")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("submissions")
    (root / "ada").mkdir()
    (root / "bob").mkdir()
    (root / "cy").mkdir()
    (root / "ada" / ".ipynb_checkpoints").mkdir()
    write(root / "ada" / "right.ipynb", IMPORT, RIGHT, SECOND)
    write(root / "ada" / ".ipynb_checkpoints" / "right-checkpoint.ipynb", "1/0")   # skipped
    write(root / "bob" / "wrong.ipynb", IMPORT, WRONG, SECOND, FORGOT_ZERO_GRAD)
    write(root / "cy" / "broken.ipynb", IMPORT, RIGHT, "undefined_name + 1", SECOND)
    return root


@pytest.fixture(scope="module")
def graded(folder: Path) -> tuple[int, str, str]:
    return run(str(folder))                               # three kernels


def test_a_folder_with_a_failure_exits_non_zero(graded) -> None:
    code, out, _ = graded
    assert code == 1
    assert out.count("\n\n") >= 3                         # three tables, then the summary
    assert "checkpoint" not in out


def test_the_right_notebook_is_passed(graded) -> None:
    table = block(graded[1], "right.ipynb")
    rows = table.splitlines()
    assert rows[1].split() == ["exercise", "result", "feedback"]
    assert rows[2].startswith("  d/dx 3x² at 1  passed")
    assert rows[3].startswith("  gradient of w  passed")
    assert rows[-1] == "  passed: 2/2 exercises passed"


def test_the_wrong_notebook_shows_the_failures_first_line(graded) -> None:
    table = block(graded[1], "wrong.ipynb")
    first_line = check_answer(-6.0, 6.0).feedback.splitlines()[0]
    assert "sign" in first_line                           # the checker names the mistake
    assert f"d/dx 3x² at 1  FAILED  {first_line}" in table
    assert table.splitlines()[-1] == ("  FAILED: 1/2 exercises passed, 1 failed, "
                                      "1 misconception warning")


def test_a_guard_that_fired_is_listed_with_its_cell_and_fails_nothing(graded) -> None:
    table = block(graded[1], "wrong.ipynb")
    [line] = [row for row in table.splitlines() if row.startswith("  warning in")]
    assert line.startswith("  warning in cell 5: backward() after SGD.step() without zero_grad()")
    assert "warning" not in block(graded[1], "right.ipynb")


def test_guard_warnings_are_read_from_stderr_and_other_warnings_are_not() -> None:
    stderr = ("/tmp/ipykernel_1/2.py:8: MisconceptionWarning: backward() after SGD.step() "
              "without zero_grad(): ...\n  loss.backward()\n"
              "/tmp/ipykernel_1/2.py:9: RuntimeWarning: overflow in exp\n  y = np.exp(x)\n"
              "/tmp/ipykernel_1/3.py:2: MisconceptionWarning: every gradient in this graph is 0"
              "\n  viz.draw_graph(y)\n")
    cell = new_code_cell("...")
    cell.outputs = [new_output("stream", name="stderr", text=stderr),
                    new_output("stream", name="stdout", text="x.py:1: MisconceptionWarning: no\n")]
    result = nc.collect("nb.ipynb", new_notebook(cells=[new_markdown_cell("#"), cell]))
    assert [(w.cell, w.message) for w in result.warnings] == [
        (2, "backward() after SGD.step() without zero_grad(): ..."),
        (2, "every gradient in this graph is 0")]
    assert result.to_json()["warnings"] == [{"cell": 2, "message": w.message}
                                           for w in result.warnings]
    assert result.counts() == "no exercise reports found, 2 misconception warnings"


def test_the_broken_notebook_reports_the_cell_and_the_exception(graded) -> None:
    table = block(graded[1], "broken.ipynb")
    assert ("error in cell 4 `undefined_name + 1`: NameError: name 'undefined_name' is not "
            "defined") in table
    assert "gradient of w  passed" in table               # the cells after it still ran
    assert table.splitlines()[-1] == "  FAILED: 2/2 exercises passed, 1 cell error"


def test_the_summary_has_one_line_per_notebook(graded, folder: Path) -> None:
    summary = graded[1].split("\n\n")[-1].strip().splitlines()
    assert summary[0] == "summary: 1/3 notebooks passed"
    verdicts = {line.split()[1]: line.split()[0] for line in summary[1:]}
    assert verdicts == {str(folder / "ada" / "right.ipynb"): "passed",
                        str(folder / "bob" / "wrong.ipynb"): "FAILED",
                        str(folder / "cy" / "broken.ipynb"): "FAILED"}


def test_jobs_run_notebooks_at_once_and_print_the_same_tables_in_order(graded, folder) -> None:
    code, out, _ = run("--jobs", "3", str(folder))       # three kernels at once
    assert code == graded[0] == 1
    assert out == graded[1]                               # the same tables, in the same order


def test_jobs_must_be_a_positive_count(folder: Path) -> None:
    code, _, err = run("--jobs", "0", str(folder))
    assert code == 2 and "--jobs" in err


def test_json_for_a_right_notebook_exits_zero(folder: Path) -> None:
    code, out, _ = run("--json", str(folder / "ada" / "right.ipynb"))   # one kernel
    assert code == 0
    results = json.loads(out)
    assert results["passed"] is True
    [notebook] = results["notebooks"]
    assert notebook["passed"] and notebook["errors"] == []
    assert [(e["name"], e["status"], e["cell"]) for e in notebook["exercises"]] == [
        ("d/dx 3x² at 1", "passed", 3), ("gradient of w", "passed", 4)]
    assert notebook["exercises"][0]["feedback"] == check_answer(6.0, 6.0).feedback


def test_the_self_check_keeps_the_expected_value_out_of_a_wrong_answers_feedback(
        folder: Path) -> None:
    """The self-check is the learner's own run: a wrong answer's feedback is stage 1 (the
    mistake, the learner's number), never the expected value (the teacher's grade shows it)."""
    code, out, _ = run("--json", str(folder / "bob" / "wrong.ipynb"))   # one kernel
    assert code == 1
    [notebook] = json.loads(out)["notebooks"]
    wrong = notebook["exercises"][0]
    assert (wrong["status"], wrong["mistake"]) == ("FAILED", "sign")
    assert "got -6" in wrong["feedback"] and "stuck?" in wrong["feedback"]
    assert not re.search(r"expected -?\d|(?<!-)\b6\b", wrong["feedback"]), wrong["feedback"]


def test_the_grader_sets_the_variable_the_checks_read() -> None:
    from autograd_core.checks import stages
    from viz.cli.grading import teacher

    assert teacher.FULL_FEEDBACK == stages.FEEDBACK_VARIABLE


def test_a_cell_over_the_time_limit_is_interrupted_and_reported(tmp_path: Path) -> None:
    report = {"exercise": "after", "passed": True, "answered": True, "mistake": None,
              "feedback": "fine"}
    emit = ("from IPython.display import display\n"
            f"display({{{REPORT_MIME_TYPE!r}: {report!r}, 'text/plain': 'ok'}}, raw=True)")
    path = write(tmp_path / "slow.ipynb", "import time\ntime.sleep(120)", emit)
    code, out, _ = run("--timeout", "3", str(path))       # one kernel
    assert code == 1
    assert "error in cell 2 `import time`: Timeout: still running after 3 s" in out
    assert "KeyboardInterrupt" not in out                 # our interrupt, not the learner's
    assert ["after", "passed", "fine"] in [line.split() for line in out.splitlines()]


# -- refusals: no kernel is started -------------------------------------------------------------
@pytest.fixture
def no_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a kernel was started")
    monkeypatch.setattr(nc, "run_notebook", refuse)
    monkeypatch.setattr(nc, "execute", refuse)


@pytest.mark.parametrize("name, content, says", [
    ("script.py", "print('hello')\n", "a Python script, not a notebook"),
    ("garbage.ipynb", "{not json", "not JSON (Expecting property name"),
    ("data.json", '{"a": 1}', "JSON, but an object without the 'nbformat' and 'cells'"),
    ("list.ipynb", "[1, 2]", "JSON, but a JSON list without"),
    ("image.ipynb", b"\x89PNG\r\n\x1a\n\xff\xfe", "not a text file"),
], ids=["py", "not-json", "json-not-notebook", "json-list", "binary"])
def test_not_a_notebook_is_refused_with_its_own_exit_code(tmp_path: Path, no_kernel, name,
                                                          content, says) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, out, err = run(str(path))
    assert code == EXIT_NOT_A_NOTEBOOK == 3
    assert err.startswith(f"chainrule check: error: {path}: {says}")
    assert err.count("\n") == 1 and out == ""


def test_one_bad_file_among_good_ones_refuses_all_before_running_any(tmp_path: Path,
                                                                     no_kernel) -> None:
    good = write(tmp_path / "good.ipynb", IMPORT, RIGHT)
    code, _, err = run(str(good), str(tmp_path / "missing.ipynb"), str(tmp_path))
    assert code == 3
    assert "missing.ipynb: no such file or directory" in err and "nothing was run" in err


def test_an_empty_directory_is_refused(tmp_path: Path, no_kernel) -> None:
    code, _, err = run(str(tmp_path))
    assert code == 3 and "a directory with no notebooks" in err


def test_bad_options_are_usage_errors(tmp_path: Path, no_kernel) -> None:
    good = write(tmp_path / "good.ipynb", IMPORT, RIGHT)
    assert run()[0] == 2
    code, _, err = run("--timeout", "0", str(good))
    assert code == 2 and "--timeout" in err


def test_help_explains_the_exit_status(capsys) -> None:
    assert main(["check", "--help"]) == 0
    text = capsys.readouterr().out
    assert "chainrule check NOTEBOOK [NOTEBOOK ...]" in text
    assert "exit status: 0 every notebook passed; 1 an exercise failed" in text
    assert "3 a file is not" in text and "--json" in text and "--timeout" in text
    assert main(["--help"]) == 0
    assert "check" in capsys.readouterr().out


# -- collection rules, on outputs written by hand -----------------------------------------------
def report_output(exercise, passed, answered=True, feedback="summary\nmore") -> dict:
    return new_output("display_data", data={
        REPORT_MIME_TYPE: {"exercise": exercise, "passed": passed, "answered": answered,
                           "mistake": None if passed else "sign", "feedback": feedback},
        "text/plain": "report"})


def executed(*cells: list[dict], tags: dict[int, list[str]] | None = None):
    nb = new_notebook(cells=[new_code_cell("...", outputs=outs) for outs in cells])
    for index, cell_tags in (tags or {}).items():
        nb.cells[index].metadata["tags"] = cell_tags
    return nb


def test_the_mime_type_is_the_one_reports_carry() -> None:
    assert nc.REPORT_MIME_TYPE == REPORT_MIME_TYPE
    assert REPORT_MIME_TYPE in check_answer(1.0, 1.0)._repr_mimebundle_()


def test_the_last_report_of_an_exercise_counts() -> None:
    result = nc.collect("nb", executed([report_output("ex", False, feedback="wrong sign")],
                                       [report_output("ex", True, feedback="right")]))
    [exercise] = result.exercises
    assert (exercise.status, exercise.cell, exercise.checks) == ("passed", 2, 2)
    assert result.passed
    again = nc.collect("nb", executed([report_output("ex", True)], [report_output("ex", False)]))
    assert not again.passed


def test_statuses_unnamed_reports_and_an_empty_notebook() -> None:
    result = nc.collect("nb", executed(
        [report_output(None, False, answered=False, feedback="\n  not answered yet\nx")],
        [report_output(None, True)]))
    assert [(e.name, e.status, e.summary) for e in result.exercises] == [
        ("cell 1", "not answered", "not answered yet"), ("cell 2", "passed", "summary")]
    assert not result.passed and "1 not answered" in result.counts()
    empty = nc.collect("nb", executed([new_output("stream", name="stdout", text="hi")]))
    assert not empty.passed and empty.counts() == "no exercise reports found"
    assert "no exercise reports found" in nc.format_result(empty)


def test_an_error_counts_unless_the_cell_is_tagged_raises_exception() -> None:
    error = new_output("error", ename="RuntimeError", evalue="backward twice", traceback=[])
    shown_on_purpose = nc.collect("nb", executed([error], [report_output("ex", True)],
                                                 tags={0: ["raises-exception"]}))
    assert shown_on_purpose.passed and shown_on_purpose.errors == []
    real = nc.collect("nb", executed([error], [report_output("ex", True)]))
    assert not real.passed
    assert [(e.cell, e.ename, e.evalue) for e in real.errors] == [
        (1, "RuntimeError", "backward twice")]


@pytest.mark.parametrize("argv, what", [
    (["--make-key", "key.txt"], "must end in .json"),
    (["--make-key", "key.json", "--key", "x.ipynb"], "exactly one teacher's notebook"),
])
def test_make_key_usage_errors(tmp_path: Path, no_kernel, argv, what) -> None:
    notebook = write(tmp_path / "teacher.ipynb", IMPORT)
    code, _, err = run(str(notebook), *[str(tmp_path / a) if a.endswith((".json", ".txt"))
                                         else a for a in argv])
    assert code == 2 and what in err
