"""``chainrule check --key`` on notebook 00, where the answers are a learner's own engine: the
class (``check_engine(Value, ...)``) and the topological sort (``check_topological_sort``) are
recorded as data in the student's kernel (``autograd_core/checks/learner_probe.py``, sent as
text) and judged in the teacher's. The right copy passes, the student copy is "not answered",
a copy with the ``=`` bug fails where the check names it, and a record sent in place of a real
engine's is judged against the expressions' true shapes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("otter")

from autograd_core.checks import learner_checks, learner_probe  # noqa: E402
from viz.cli.grading import teacher as grading  # noqa: E402
from viz.cli.grading import wire  # noqa: E402

from ..autograd_core.learner_values import make_value_class  # noqa: E402
from .test_grading_forgery import ROOT, chainrule  # noqa: E402

NOTEBOOK = ROOT / "notebooks" / "00_build_the_engine.ipynb"


def test_the_check_cells_name_the_engine_answers() -> None:
    key = grading.parse_key(NOTEBOOK, nbformat.read(NOTEBOOK, as_version=4))
    kinds = {e.name: e.answers for e in key.exercises}
    assert kinds["ex00_1"] == {"Value": "engine"} and kinds["ex00_4"] == {"Value": "engine"}
    assert kinds["ex00_3"] == {"topological_sort": "sort"}
    assert kinds["ex00_6"] == {"losses": "data"}
    assert grading.checked_engines("check_engine(V, ('+',))\nx = check_topological_sort(s)") == \
        {"V": "engine", "s": "sort"}


def test_the_wire_and_the_checks_agree_on_the_record_attribute() -> None:
    assert wire.RECORD_ATTRIBUTE == learner_checks.RECORD_ATTRIBUTE


def test_a_record_survives_the_wire_and_is_judged_as_the_live_class() -> None:
    for bug, verdict in ((None, None), ("overwrite", "overwrite"), ("sign", "sign")):
        cls = make_value_class(bug)
        record = wire.decode(json.loads(json.dumps(wire.encode(learner_probe.engine_record(cls)))))
        carried = wire.recorded(make_value_class(), record)      # the teacher's class, carrying it
        live = learner_checks.check_engine(cls, learner_checks.ENGINE_OPS)
        judged = learner_checks.check_engine(carried, learner_checks.ENGINE_OPS)
        assert judged.passed == live.passed and judged.mistake == live.mistake == verdict
        assert judged.summary == live.summary


def test_a_record_of_another_graph_is_refused() -> None:
    """A forged record: the right numbers for a graph other than the expression's."""
    record = learner_probe.engine_record(make_value_class())
    entry = record["expressions"]["d = a*b + c"]
    entry["graph"]["nodes"][0]["data"] = 7.0                     # another leaf
    report = learner_checks.check_engine(wire.recorded(make_value_class(), record))
    assert not report.passed and report.mistake == "shape"
    sort = learner_probe.sort_record(lambda root: [root])
    sort["d = a*b + c"]["graph"]["nodes"] = sort["d = a*b + c"]["graph"]["nodes"][-1:]
    sort["d = a*b + c"]["graph"]["nodes"][0]["prev"] = []
    assert learner_checks.check_topological_sort(wire.recorded(None, sort)).mistake == "shape"


def test_an_unanswered_record_is_not_answered() -> None:
    for check, teacher in ((learner_checks.check_engine, make_value_class()),
                           (learner_checks.check_topological_sort, lambda root: [])):
        report = check(wire.recorded(teacher, {"unanswered": True}))
        assert not report.answered and report.mistake == "not_answered"


@pytest.mark.slow
@pytest.mark.xdist_group("grading_engine")
def test_grading_notebook_00(tmp_path: Path) -> None:
    """Two submissions in one run: the teacher's answers (all passed), and a mix: ``+`` with
    the ``=`` bug (00.1 fails, naming it), the sort left as the student copy has it (00.3 not
    answered), the rest right."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("copies",
                                                  ROOT / "notebooks" / "make_student_copies.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    student, _ = tool.make_copies(NOTEBOOK, tmp_path / "copies")
    student_nb = nbformat.read(student, as_version=4)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    mixed = nbformat.read(NOTEBOOK, as_version=4)
    adding = "            self.grad += 1.0 * out.grad\n            other.grad += 1.0 * out.grad"
    sort_cell = next(c for c in student_nb.cells if c.source.startswith("def topological_sort"))
    for cell in mixed.cells:
        cell.source = cell.source.replace(adding, adding.replace("+=", "="))
        if cell.source.startswith("def topological_sort"):
            cell.source = sort_cell.source                 # def topological_sort(root): ...
    assert mixed.cells != nb.cells
    for name, submission in (("right", nb), ("mixed", mixed)):
        (tmp_path / "class" / name).mkdir(parents=True)
        nbformat.write(submission, tmp_path / "class" / name / "submission.ipynb")
    key = tmp_path / "key00.json"
    assert chainrule("check", str(NOTEBOOK), "--make-key", str(key)).returncode == 0
    run = chainrule("check", str(tmp_path / "class"), "--key", str(key), "--json", "--jobs", "2")
    results = {Path(r["path"]).parent.name: r for r in json.loads(run.stdout)["notebooks"]}
    statuses = {name: [e["status"] for e in r["exercises"]] for name, r in results.items()}
    assert statuses["right"] == ["passed"] * 6
    # 00.2 builds on + too; 00.4's backward() needs the sort, so it raises (failed) and the
    # training cell (00.6) stops before it sets its answer (not answered)
    assert statuses["mixed"] == ["FAILED", "FAILED", "not answered", "FAILED", "passed",
                                 "not answered"]
    first = results["mixed"]["exercises"][0]
    assert "overwritten instead of accumulated" in first["feedback"]
