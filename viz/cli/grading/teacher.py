"""A grade a student cannot forge: ``chainrule check SUBMISSION --key TEACHER.ipynb``.

The teacher's copy (the solution notebook in otter-grader's ``otter assign`` format, or a key
file made from it with ``--make-key``) defines everything that is judged:

* which exercises exist: each ``# BEGIN QUESTION`` / ``# END QUESTION`` block, its answer
  cells (between ``# BEGIN SOLUTION`` and ``# END SOLUTION``) and its check cells (after);
* what an answer is: each name assigned on a ``# SOLUTION`` line of an answer cell (a value,
  e.g. ``Dh1 = A  # SOLUTION``), and each function whose body has such a line (a function,
  e.g. ``def df(x): return ...  # SOLUTION``);
* the check code and the expected answers: the teacher's check cells, run on the teacher's
  own notebook.

Grading one submission takes three kernels, each fresh, each in a temporary folder of its
own holding only the teacher's declared data files (``files:`` of the assignment config),
never beside another submission:

1. **teacher** (once per key): the solution notebook runs with each function answer wrapped
   so that the arguments the checks call it with are noted (the *probes*).
2. **student**: every stored output of the submission is cleared; its code cells run,
   except its copies of the teacher's check cells (matched by cell id), which are replaced
   by a *capture* step: each answer is encoded as data (numbers, arrays, tuples, dicts);
   each function answer is called on the teacher's probes and only its results come back
   (numbers, or the name of the error it raised; for a call on graph nodes, the value and
   its slope with respect to each node).
3. **judge**: the teacher's notebook runs again, and right after each answer cell the
   student's data is bound to the answer names (a function answer becomes a lookup table
   from probe to the student's result). The teacher's check cells then run on it, and the
   reports they display are the grade. This kernel shows every report in full
   (``CHAINRULE_FEEDBACK=full``): the grade's feedback gives the expected value, which the
   learner's own run shows only on request (staged feedback, ``autograd_core.checks.stages``).

Why this cannot be forged from inside the notebook: nothing the student's kernel displays
is read as a verdict (its stored and displayed reports, formatters, hooks and patched
checks never reach the judge); the judge kernel runs only the teacher's code, imports the
library fresh, and receives the student's answers as JSON data, decoded into numbers,
arrays and strings only (never code, never pickles). A student who rewrites anything in
their kernel (``check_answer``, ``Report``, NumPy, the capture step itself) changes only
what their answer *is*; and a function answer is judged by its results on the teacher's
probe inputs, so to make the judge pass it, the student must return the right numbers at
those inputs, which is solving the exercise. An exercise the teacher defines whose answer
cell the submission lacks is "missing", a fail.

What it does not protect against: code running with the grader's permissions can edit
files on the machine (the installed library, the teacher's notebook) or outlive its
kernel; grade untrusted submissions in a container or a throw-away account, as
``otter grade`` does.
"""
from __future__ import annotations

import ast
import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from autograd_core import checks

from . import wire
from . import self_check as nc

KEY_FORMAT = "chainrule-key/1"
FULL_FEEDBACK = "CHAINRULE_FEEDBACK"
"""Set to ``full`` in the judge's kernel: every report there shows all its feedback, the
expected value included (``autograd_core.checks.stages``, documented in the README)."""
SOLUTION_LINE = re.compile(r"#\s*SOLUTION\s*$")
MAX_CAPTURE = 20_000_000           # characters of one submission's captured answers
_WIRE_SOURCE = Path(wire.__file__).read_text(encoding="utf-8")
_PROBE_SOURCE = Path(checks.learner_probe.__file__).read_text(encoding="utf-8")
"""Sent with the wire into the student's kernel: it records a student's own engine as data."""


class NotAKey(nc.NotANotebook):
    """A ``--key`` that is not a teacher's copy (no exercises in otter's format)."""


@dataclass
class KeyExercise:
    """One exercise of the teacher's copy."""

    name: str                           # otter's question name, e.g. "ex01_1"
    answer_cells: list[str]             # ids of the cells between BEGIN/END SOLUTION
    check_cells: list[str]              # ids of the code cells after END SOLUTION
    answers: dict[str, str]             # answer name -> "data" or "function"
    title: str = ""                     # the exercise name its check reports


@dataclass
class Key:
    """A teacher's copy, ready to grade with: its notebook, exercises and probes."""

    path: str
    notebook: Any                                        # nbformat node, with the raw cells
    exercises: list[KeyExercise]
    files: list[str] = field(default_factory=list)       # declared data files (absolute)
    probes: dict[str, Any] | None = None                 # exercise -> function -> key -> call

    @property
    def cell_ids(self) -> set[str]:
        return {i for e in self.exercises for i in e.answer_cells + e.check_cells}

    def to_json(self) -> dict[str, Any]:
        import nbformat

        return {"format": KEY_FORMAT, "path": self.path, "files": self.files,
                "exercises": [vars(e) for e in self.exercises], "probes": self.probes,
                "notebook": json.loads(nbformat.writes(self.notebook))}


# -- reading a key -------------------------------------------------------------------------------
def load_key(path: Path) -> Key:
    """The key at ``path``: a teacher's notebook (``.ipynb``, otter assign format; its probes
    are found later by :func:`record_probes`) or a key file written by ``--make-key``."""
    import nbformat

    if path.suffix.lower() == ".json" and path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, RecursionError, UnicodeDecodeError):
            raise NotAKey(f"{path}: not a chainrule key file (not JSON)") from None
        if not isinstance(data, dict) or data.get("format") != KEY_FORMAT:
            raise NotAKey(f"{path}: not a chainrule key file (made by chainrule check "
                          f"--make-key)")
        try:
            notebook = nbformat.reads(json.dumps(data["notebook"]), as_version=4)
            exercises = [KeyExercise(**e) for e in data["exercises"]]
            return Key(str(path), notebook, exercises, list(data.get("files", [])),
                       data.get("probes"))
        except Exception as error:  # noqa: BLE001 - any damage means "not a key"
            raise NotAKey(f"{path}: a damaged chainrule key file ({error})") from None
    notebook = nc.read_notebook(path)
    return parse_key(path, notebook)


def parse_key(path: Path, nb: Any) -> Key:
    """The exercises of a teacher's notebook in otter's format (raw cells ``# BEGIN
    QUESTION`` with ``name:``, ``# BEGIN SOLUTION`` / ``# END SOLUTION``, ``# END
    QUESTION``), and its declared data files (``files:`` of ``# ASSIGNMENT CONFIG``)."""
    exercises: list[KeyExercise] = []
    files: list[str] = []
    current: KeyExercise | None = None
    in_solution = False
    for index, cell in enumerate(nb.cells):
        source = cell.get("source", "")
        first = source.strip().splitlines()[0].strip().upper() if source.strip() else ""
        if cell.get("cell_type") == "raw":
            if first.startswith("# ASSIGNMENT CONFIG"):
                files = [str((path.resolve().parent / f).resolve())
                         for f in _config(source).get("files", []) if isinstance(f, str)]
            elif first.startswith("# BEGIN QUESTION"):
                name = str(_config(source).get("name") or f"question {len(exercises) + 1}")
                current = KeyExercise(name, [], [], {})
                exercises.append(current)
            elif first.startswith("# BEGIN SOLUTION"):
                in_solution = True
            elif first.startswith("# END SOLUTION"):
                in_solution = False
            elif first.startswith("# END QUESTION"):
                current, in_solution = None, False
            continue
        if current is None or cell.get("cell_type") != "code":
            continue
        if not cell.get("id"):
            raise NotAKey(f"{path}: cell {index + 1} has no id (nbformat 4.5 or later "
                          f"is needed to match a submission's cells to the teacher's)")
        if in_solution:
            current.answer_cells.append(cell["id"])
            current.answers.update(answer_names(source))
        else:
            current.check_cells.append(cell["id"])
            current.answers.update(checked_engines(source))
    exercises = [e for e in exercises if e.answer_cells and e.check_cells]
    if not exercises:
        raise NotAKey(f"{path}: not a teacher's copy: no exercise with an answer cell and a "
                      f"check cell (otter assign format: # BEGIN QUESTION, # BEGIN SOLUTION, "
                      f"# END SOLUTION, # END QUESTION raw cells)")
    return Key(str(path), nb, exercises, files)


def _config(source: str) -> dict[str, Any]:
    import yaml

    body = "\n".join(source.strip().splitlines()[1:])
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def answer_names(source: str) -> dict[str, str]:
    """The answers an answer cell defines: names assigned on a ``# SOLUTION`` line
    ("data") and functions with such a line in their body ("function")."""
    marked = {n for n, line in enumerate(source.splitlines(), 1) if SOLUTION_LINE.search(line)}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    names: dict[str, str] = {}
    for statement in tree.body:
        lines = set(range(statement.lineno, (statement.end_lineno or statement.lineno) + 1))
        if not lines & marked:
            continue
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names[statement.name] = "function"
        elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else \
                [statement.target]
            for target in targets:
                for node in ast.walk(target):
                    if isinstance(node, ast.Name):
                        names[node.id] = "data"
    return names


ENGINE_CHECKS = {"check_engine": "engine", "check_topological_sort": "sort"}
"""Checks of a learner's own engine: their first argument (a class, a sort function) is an
answer recorded as data in the student's kernel
(:mod:`autograd_core.checks.learner_probe`)."""


def checked_engines(source: str) -> dict[str, str]:
    """The names a check cell hands to :data:`ENGINE_CHECKS` as their first argument:
    ``check_engine(Value, ...)`` makes ``Value`` an "engine" answer."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ENGINE_CHECKS and node.args \
                and isinstance(node.args[0], ast.Name):
            names[node.args[0].id] = ENGINE_CHECKS[node.func.id]
    return names


# -- the three runs -------------------------------------------------------------------------------
def _code(source: str) -> Any:
    import nbformat

    return nbformat.v4.new_code_cell(source)


def _wire_cell() -> Any:
    return _code("import types as _chainrule_types\n"
                 "_chainrule_wire = _chainrule_types.ModuleType('_chainrule_wire')\n"
                 f"exec(compile({_WIRE_SOURCE!r}, '<chainrule grading>', 'exec'), "
                 "_chainrule_wire.__dict__)\ndel _chainrule_types")


def _literal(data: Any) -> str:
    """``data`` as a Python expression: a JSON text, decoded in the kernel."""
    return f"__import__('json').loads({json.dumps(data)!r})"


def _teacher_cells(key: Key) -> tuple[list[Any], dict[str, int]]:
    """The teacher's code cells (outputs cleared) and each cell id's index among them."""
    import copy

    cells = [nc.clear_outputs(copy.deepcopy(key.notebook)).cells[i]
             for i, c in enumerate(key.notebook.cells) if c.get("cell_type") == "code"]
    return cells, {c.get("id", ""): i for i, c in enumerate(cells)}


def _after_answers(key: Key, cells: list[Any], where: dict[str, int],
                   make: Any) -> list[Any]:
    """``cells`` with ``make(exercise)`` inserted after each exercise's last answer cell."""
    insert: dict[int, list[Any]] = {}
    for exercise in key.exercises:
        last = max(where[i] for i in exercise.answer_cells)
        insert.setdefault(last, []).append(make(exercise))
    out = [_wire_cell()]
    for i, cell in enumerate(cells):
        out.append(cell)
        out.extend(insert.get(i, []))
    return out


def record_probes(key: Key, *, timeout: int, kernel_name: str) -> Key:
    """Run the teacher's notebook once, noting the inputs its checks give each function
    answer (``key.probes``) and the name each check reports (``KeyExercise.title``).
    Raises :class:`NotAKey` when a teacher's check does not pass on the teacher's answers."""
    import nbformat

    if key.probes is not None:
        return key
    cells, where = _teacher_cells(key)

    def recorder(exercise: KeyExercise) -> Any:
        functions = [n for n, kind in exercise.answers.items() if kind == "function"]
        return _code(f"for _chainrule_name in {functions!r}:\n"
                     f"    if _chainrule_name in globals():\n"
                     f"        globals()[_chainrule_name] = _chainrule_wire.record_calls("
                     f"{exercise.name!r}, _chainrule_name, globals()[_chainrule_name])")

    run = _after_answers(key, cells, where, recorder)
    run.append(_code(f"_chainrule_wire.emit({wire.PROBES_MIME!r}, _chainrule_wire.PROBES)"))
    nb = nbformat.v4.new_notebook(cells=run, metadata=key.notebook.metadata)
    with nc.isolated_folder(None, [Path(f) for f in key.files]) as workdir:
        _, stopped = nc.execute(nb, workdir, timeout=timeout, kernel_name=kernel_name)
    if stopped is not None:
        raise NotAKey(f"{key.path}: the teacher's notebook did not run to the end "
                      f"({stopped.ename}: {stopped.evalue})")
    probes = _find(nb.cells[-1], wire.PROBES_MIME)
    if not isinstance(probes, dict):
        raise NotAKey(f"{key.path}: the teacher's notebook did not run to the end")
    verdicts = _verdicts(key, nb)
    wrong = [f"{e.name} ({v.summary})" for e, v in zip(key.exercises, verdicts) if not v.passed]
    if wrong:
        raise NotAKey(f"{key.path}: the teacher's own answers do not pass their checks: "
                      f"{'; '.join(wrong)}")
    for exercise, verdict in zip(key.exercises, verdicts):
        exercise.title = verdict.name
    key.probes = probes
    return key


def _find(cell: Any, mime: str, *, nonce: str | None = None,
          exercise: str | None = None) -> Any:
    """The last payload of type ``mime`` a cell displayed (with that nonce and exercise)."""
    found = None
    for output in cell.get("outputs", []):
        data = output.get("data", {}) if output.get("output_type") in (
            "display_data", "execute_result") else {}
        payload = data.get(mime)
        if isinstance(payload, str):
            try:
                payload = json.loads(payload)
            except (ValueError, RecursionError):
                continue
        if payload is None:
            continue
        if nonce is not None and not (isinstance(payload, dict) and payload.get("nonce") == nonce
                                      and payload.get("exercise") == exercise):
            continue
        found = payload
    return found


def _verdicts(key: Key, nb: Any) -> list[nc.Exercise]:
    """Each exercise's verdict: the last report its check cells displayed in ``nb`` (run from
    the teacher's cells, whose ids it kept), or FAILED with the error its check raised."""
    by_id: dict[str, tuple[int, Any]] = {}
    for i, cell in enumerate(nb.cells, 1):
        if cell.get("id"):
            by_id.setdefault(cell["id"], (i, cell))
    verdicts = []
    for exercise in key.exercises:
        verdict: nc.Exercise | None = None
        error = None
        for cell_id in exercise.check_cells:
            index, cell = by_id.get(cell_id, (0, None))
            if cell is None:
                continue
            found = nc.collect("", SimpleNamespace(cells=[dict(cell, metadata={})]))
            if found.exercises:
                verdict = found.exercises[-1]
                verdict.cell = index
            error = error or (found.errors[0] if found.errors else None)
        name = exercise.title or exercise.name
        if error is not None and (verdict is None or verdict.passed):
            verdict = nc.Exercise(name, 0, "FAILED", f"the check raised {error.ename}: "
                                  f"{error.evalue}", f"{error.ename}: {error.evalue}", "raised")
        if verdict is None:
            verdict = nc.Exercise(name, 0, "FAILED", "the check showed no report", "", None)
        if verdict.name.startswith("cell "):
            verdict.name = name
        verdicts.append(verdict)
    return verdicts


def grade(path: Path, submission: Any, key: Key, *, timeout: int = nc.DEFAULT_TIMEOUT,
          kernel_name: str = "python3") -> nc.NotebookResult:
    """Grade the notebook ``submission`` (read from ``path``) against ``key``: run the
    student's cells and capture the answers, then run the teacher's checks on them in a
    kernel of their own. See the module's docstring."""
    record_probes(key, timeout=timeout, kernel_name=kernel_name)
    result = nc.NotebookResult(str(path), key=key.path)
    nonce = secrets.token_hex(16)
    student, captures = _student_notebook(submission, key, nonce)
    with nc.isolated_folder(None, [Path(f) for f in key.files]) as workdir:
        timed_out, stopped = nc.execute(student, workdir, timeout=timeout,
                                        kernel_name=kernel_name)
    origin = {id(c): i for i, c in enumerate(submission.cells, 1)}
    where = [origin.get(id(c), 0) for c in student.cells]    # 0: a capture cell
    found = nc.collect(str(path), SimpleNamespace(cells=[
        c if w else dict(c, outputs=[]) for c, w in zip(student.cells, where)]),
        timed_out, timeout)
    for item in found.errors + found.warnings + ([stopped] if stopped else []):
        item.cell = where[item.cell - 1] if 0 < item.cell <= len(where) else 0
    result.errors, result.warnings = found.errors + ([stopped] if stopped else []), \
        found.warnings
    records: dict[str, Any] = {}
    budget = MAX_CAPTURE
    for exercise in key.exercises:
        cell = captures.get(exercise.name)
        payload = _find(cell, wire.CAPTURE_MIME, nonce=nonce, exercise=exercise.name) \
            if cell is not None else None
        size = len(json.dumps(payload)) if payload is not None else 0
        if payload is not None and size <= budget:
            budget -= size
            records[exercise.name] = payload
    judge, injected = _judge_notebook(key, records)
    with nc.isolated_folder(None, [Path(f) for f in key.files]) as workdir:
        _, stopped = nc.execute(judge, workdir, timeout=timeout, kernel_name=kernel_name)
    verdicts = _verdicts(key, judge)
    for exercise, verdict in zip(key.exercises, verdicts):
        if exercise.name not in captures:
            verdict = nc.Exercise(exercise.title or exercise.name, 0, "missing",
                                  "its answer cell is not in the submission",
                                  "its answer cell is not in the submission (deleted, or "
                                  "replaced by a new cell)", None)
        elif not _ran(injected[exercise.name]):          # never judge the teacher's answers
            verdict = nc.Exercise(verdict.name, 0, "FAILED", "the grader could not put the "
                                  "answers in place", "", None)
        elif exercise.name not in records and verdict.status != "not answered":
            verdict = nc.Exercise(verdict.name, 0, "FAILED", "the answers could not be read "
                                  "(the notebook stopped, or its answers are too large)",
                                  "", None)
        result.exercises.append(verdict)
    if stopped is not None:
        result.errors.append(nc.CellError(0, "grader", f"the teacher's checks did not run to "
                                          f"the end ({stopped.ename}: {stopped.evalue})", ""))
    return result


def _ran(cell: Any) -> bool:
    """Whether a cell the grader added ran, without an error."""
    return cell.get("execution_count") is not None and not any(
        o.get("output_type") == "error" for o in cell.get("outputs", []))


def _student_notebook(submission: Any, key: Key, nonce: str) -> tuple[Any, dict[str, Any]]:
    """The notebook run in the student's kernel: the submission's code cells with their
    outputs cleared, its copies of the teacher's check cells removed, and a capture cell per
    exercise whose answer cell it has (after that exercise's check cell, or its answer cell
    when the check cell was deleted). Cells are matched by id; when an exercise's ids are all
    gone, its check cell is found by its unchanged code and the answer cell is the code cell
    before it."""
    import nbformat

    cells = [c for c in nc.clear_outputs(submission).cells if c.get("cell_type") == "code"]
    ids = [c.get("id") for c in cells]
    teacher = {c.get("id"): c.get("source", "").strip() for c in key.notebook.cells}
    skipped: set[int] = set()
    insert: dict[int, list[Any]] = {}
    captures: dict[str, Any] = {}
    for exercise in key.exercises:
        answers = [ids.index(i) for i in exercise.answer_cells if i in ids]
        checks = [ids.index(i) for i in exercise.check_cells if i in ids]
        if not answers:       # ids lost (an editor that renews them): the check cell by its
            sources = {teacher[i] for i in exercise.check_cells} - {""}     # code, the answer
            checks = [k for k, c in enumerate(cells) if c.get("source", "").strip() in sources]
            answers = [checks[0] - 1] if checks and checks[0] > 0 else []   # cell before it
        skipped.update(checks)
        if not answers:
            continue                               # missing
        probes = (key.probes or {}).get(exercise.name, {})
        cell = _code("_chainrule_capture = {}\n"
                     f"exec(compile({_PROBE_SOURCE!r}, '<chainrule probe>', 'exec'), "
                     "_chainrule_capture)\n"
                     f"exec(compile({_WIRE_SOURCE!r}, '<chainrule grading>', 'exec'), "
                     "_chainrule_capture)\n"
                     f"_chainrule_capture['capture'](globals(), {exercise.name!r}, "
                     f"{exercise.answers!r}, {_literal(probes)}, {nonce!r})\n"
                     "del _chainrule_capture")
        insert.setdefault(max(checks or answers), []).append(cell)
        captures[exercise.name] = cell
    run = []
    for i, cell in enumerate(cells):
        if i not in skipped:
            run.append(cell)
        run.extend(insert.get(i, []))
    return nbformat.v4.new_notebook(cells=run, metadata=key.notebook.metadata), captures


def _judge_notebook(key: Key, records: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The teacher's notebook with each exercise's answers replaced, right after its answer
    cells, by the student's captured answers (``None``: missing, answered with ``...``); and
    the cell that does it, per exercise."""
    import nbformat

    cells, where = _teacher_cells(key)

    def injector(exercise: KeyExercise) -> Any:
        cell = _code(f"_chainrule_wire.inject(globals(), "
                     f"{_literal(records.get(exercise.name))}, {exercise.answers!r})")
        injected[exercise.name] = cell
        return cell

    injected: dict[str, Any] = {}
    run = _after_answers(key, cells, where, injector)
    # the grade's feedback is the full report, the expected value included
    run.insert(1, _code(f"__import__('os').environ[{FULL_FEEDBACK!r}] = 'full'"))
    return nbformat.v4.new_notebook(cells=run, metadata=key.notebook.metadata), injected


def match_key(nb: Any, keys: list[Key]) -> Key | None:
    """The key a submission is graded against: the only one; or the one whose exercises'
    cell ids it shares most, then whose check cells' code it holds most (``None``: none)."""
    if len(keys) == 1:
        return keys[0]
    ids = {c.get("id") for c in nb.cells}
    sources = {c.get("source", "").strip() for c in nb.cells} - {""}

    def score(key: Key) -> tuple[int, int]:
        checks = {i for e in key.exercises for i in e.check_cells}
        code = {c.get("source", "").strip() for c in key.notebook.cells if c.get("id") in checks}
        return len(key.cell_ids & ids), len(code & sources)

    best = max(keys, key=score)
    return best if any(score(best)) else None
