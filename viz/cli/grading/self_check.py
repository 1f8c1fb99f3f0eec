"""``chainrule check``: run learners' notebooks in fresh kernels and collect their exercise reports.

This module is the **self-check** (feedback for a learner, not a grade: a notebook's own code
can fake what it displays) and the pieces the forgery-safe grade of :mod:`viz.cli.grading.teacher`
(``chainrule check --key``) shares with it: reading notebooks, running one in a kernel, the
result tables.

Each notebook is executed top to bottom in a new kernel (nbclient, errors allowed, a time
limit per cell), its stored outputs cleared first, in a throw-away copy of its folder without
Python files or other notebooks (:func:`isolated_folder`), as Jupyter's "Restart & Run All"
would; the kernel's stdout and stderr go to ``/dev/null``. Every check
report a cell displays carries a JSON copy under :data:`REPORT_MIME_TYPE`::

    {"exercise": str | None, "passed": bool, "answered": bool, "mistake": str | None,
     "feedback": str}            # feedback: plain text, its first line the summary

and every cell that raised leaves an ``error`` output (except cells tagged ``raises-exception``,
Jupyter's mark for an error shown on purpose). A notebook passes when it has at least
one exercise, every exercise passed and no cell raised. When one exercise is checked more
than once (the learner tried again further down), the last report counts. A misconception
guard that fired (an ``autograd_core.MisconceptionWarning`` in a cell's stderr, e.g. a
backward after ``optimizer.step()`` without ``zero_grad()``) is listed with its cell: a hint
for the learner and the teacher, which never fails a notebook.

Running a notebook runs its code with your permissions: grade untrusted submissions in a
container or a throw-away account.
"""
from __future__ import annotations

import contextlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from autograd_core import REPORT_MIME_TYPE  # a check report's JSON copy in a cell's output

DEFAULT_TIMEOUT = 300
"""Seconds each cell may run."""


class NotANotebook(ValueError):
    """A path that is not a Jupyter notebook: its message says what it is instead."""


@dataclass
class Exercise:
    """One exercise's last report in a notebook."""

    name: str                      # the exercise's name, or "cell N" for an unnamed check
    cell: int                      # 1-based index of the cell that displayed it
    status: str                    # "passed", "FAILED", "not answered" or "missing"
    summary: str                   # the feedback's first line
    feedback: str
    mistake: str | None
    checks: int = 1                # how many times the notebook checked it

    def __post_init__(self) -> None:         # a notebook's texts never reach a terminal raw
        for name, value in vars(self).items():
            if isinstance(value, str):
                setattr(self, name, clean(value))

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass
class CellError:
    """A cell that raised (or did not finish)."""

    cell: int                      # 1-based index among all cells
    ename: str
    evalue: str
    source: str                    # the cell's first line of code, to find it

    def __post_init__(self) -> None:         # a notebook's texts never reach a terminal raw
        for name, value in vars(self).items():
            if isinstance(value, str):
                setattr(self, name, clean(value))


@dataclass
class GuardWarning:
    """A misconception guard that fired in a cell (its ``MisconceptionWarning`` message)."""

    cell: int                      # 1-based index among all cells
    message: str

    def __post_init__(self) -> None:         # a notebook's texts never reach a terminal raw
        for name, value in vars(self).items():
            if isinstance(value, str):
                setattr(self, name, clean(value))


_GUARD_LINE = re.compile(r"^.*?:\d+: MisconceptionWarning: (.+)$", re.MULTILINE)
"""How Python's warnings module prints one: ``file:line: MisconceptionWarning: message``."""


@dataclass
class NotebookResult:
    path: str
    exercises: list[Exercise] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    warnings: list[GuardWarning] = field(default_factory=list)
    key: str | None = None         # the teacher's copy it was graded against (None: self-check)

    @property
    def passed(self) -> bool:
        return bool(self.exercises) and not self.errors and all(e.passed for e in self.exercises)

    def counts(self) -> str:
        """``"2/3 exercises passed, 1 failed, 1 cell error"``."""
        n = len(self.exercises)
        if n == 0:
            text = "no exercise reports found"
        else:
            text = f"{sum(e.passed for e in self.exercises)}/{n} exercises passed"
            failed = sum(e.status == "FAILED" for e in self.exercises)
            unanswered = sum(e.status == "not answered" for e in self.exercises)
            missing = sum(e.status == "missing" for e in self.exercises)
            text += f", {failed} failed" if failed else ""
            text += f", {unanswered} not answered" if unanswered else ""
            text += f", {missing} missing" if missing else ""
        if self.errors:
            text += f", {len(self.errors)} cell error{'s' if len(self.errors) > 1 else ''}"
        if self.warnings:
            text += (f", {len(self.warnings)} misconception "
                     f"warning{'s' if len(self.warnings) > 1 else ''}")
        return text

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "passed": self.passed, "key": self.key,
                "exercises": [{**asdict(e), "passed": e.passed} for e in self.exercises],
                "errors": [asdict(e) for e in self.errors],
                "warnings": [asdict(w) for w in self.warnings]}


# -- finding and reading notebooks -------------------------------------------------------------
def find_notebooks(paths: Sequence[str]) -> tuple[list[Path], list[str]]:
    """The notebooks named by ``paths`` (files as given, directories searched recursively for
    ``*.ipynb``, checkpoints and hidden folders skipped), and what is wrong with the paths that
    name none: missing, or a directory without notebooks."""
    found: list[Path] = []
    problems: list[str] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*.ipynb") if p.is_file() and not any(
                part.startswith(".") for part in p.relative_to(path).parts))
            if not inside:
                problems.append(f"{text}: a directory with no notebooks (*.ipynb) in it")
            found.extend(inside)
        elif path.exists():
            found.append(path)
        else:
            problems.append(f"{text}: no such file or directory")
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values()), problems


def read_notebook(path: Path) -> Any:
    """The notebook at ``path`` (an ``nbformat`` v4 node), or :class:`NotANotebook` saying what
    the file is instead."""
    import nbformat

    if not path.is_file():
        raise NotANotebook(f"{path}: not a file")
    if path.suffix.lower() == ".py":
        raise NotANotebook(f"{path}: a Python script, not a notebook; chainrule check runs "
                           f"Jupyter notebooks (.ipynb). Run a script with: python {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NotANotebook(f"{path}: not a text file; a Jupyter notebook (.ipynb) is JSON "
                           f"text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotANotebook(f"{path}: not JSON ({error.msg} at line {error.lineno}, column "
                           f"{error.colno}); a Jupyter notebook (.ipynb) is a JSON file") from None
    except RecursionError:
        raise NotANotebook(f"{path}: JSON nested too deeply to be a notebook") from None
    except ValueError as error:         # e.g. an integer beyond Python's 4,300-digit limit
        raise NotANotebook(f"{path}: JSON that Python cannot read ({_shorten(str(error), 100)})"
                           f"; not a notebook") from None
    if not isinstance(data, dict) or not isinstance(data.get("nbformat"), int) or \
            not isinstance(data.get("cells", data.get("worksheets")), list):
        what = "an object" if isinstance(data, dict) else f"a JSON {type(data).__name__}"
        raise NotANotebook(f"{path}: JSON, but {what} without the 'nbformat' and 'cells' of a "
                           f"Jupyter notebook")
    try:
        return nbformat.reads(text, as_version=4)
    except Exception as error:  # noqa: BLE001 - any reader failure means "not a notebook"
        raise NotANotebook(f"{path}: not a notebook nbformat can read ({type(error).__name__}: "
                           f"{_shorten(str(error), 200)})") from None


# -- collecting results ------------------------------------------------------------------------
def collect(path: str, nb: Any, timed_out: Iterable[int] = (),
            timeout: int | None = None) -> NotebookResult:
    """The exercise reports and cell errors in the outputs of an executed notebook ``nb``; the
    cells numbered in ``timed_out`` were interrupted after ``timeout`` seconds."""
    result = NotebookResult(path)
    timed_out = set(timed_out)
    by_name: dict[str, Exercise] = {}
    for index, cell in enumerate(nb.cells, 1):
        if cell.get("cell_type") != "code":
            continue
        expected_error = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        if index in timed_out:                   # its KeyboardInterrupt is our interrupt
            expected_error = True
            result.errors.append(CellError(index, "Timeout", f"still running after {timeout} s "
                                           f"(--timeout): interrupted", _first_line(
                                               cell.get("source", ""))))
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "error" and not expected_error:
                result.errors.append(CellError(index, str(output.get("ename", "Error")),
                                               str(output.get("evalue", "")),
                                               _first_line(cell.get("source", ""))))
            elif kind == "stream" and output.get("name") == "stderr":
                text = output.get("text", "")
                text = "".join(text) if isinstance(text, list) else str(text)
                result.warnings.extend(GuardWarning(index, m.group(1).strip())
                                       for m in _GUARD_LINE.finditer(text))
            elif kind in ("display_data", "execute_result") and \
                    REPORT_MIME_TYPE in output.get("data", {}):
                exercise = _exercise(output["data"][REPORT_MIME_TYPE], index)
                earlier = by_name.get(exercise.name)
                if earlier is not None:                  # checked again: the last one counts
                    exercise.checks = earlier.checks + 1
                    result.exercises.remove(earlier)
                by_name[exercise.name] = exercise
                result.exercises.append(exercise)
    return result


def _exercise(report: Any, cell: int) -> Exercise:
    if isinstance(report, str):
        try:
            report = json.loads(report)
        except json.JSONDecodeError:
            report = None
    if not isinstance(report, dict):
        return Exercise(f"cell {cell}", cell, "FAILED", "unreadable exercise report", "", None)
    passed = report.get("passed") is True
    answered = passed or report.get("answered", True) is not False
    feedback = str(report.get("feedback") or "")
    name = report.get("exercise")
    return Exercise(str(name) if name else f"cell {cell}", cell,
                    "passed" if passed else "FAILED" if answered else "not answered",
                    _first_line(feedback), feedback,
                    report.get("mistake") if isinstance(report.get("mistake"), str) else None)


_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]?|[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f"
                      r"\u2028-\u202e\u2066-\u2069]")
"""ANSI escape sequences, other control characters and bidirectional overrides."""


def clean(text: Any) -> str:
    """``text`` without control characters: a notebook's texts (exercise names, feedback,
    error messages) cannot hide, recolour or rewrite lines of the grader's table."""
    return _CONTROL.sub("", str(text)).replace("\t", " ")


def _first_line(text: Any) -> str:
    if isinstance(text, list):                         # nbformat allows a list of lines
        text = "".join(text)
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return ""


# -- running -------------------------------------------------------------------------------
class KernelUnavailable(RuntimeError):
    """The kernel could not be started (no such kernel, or ipykernel missing)."""


def execute(nb: Any, workdir: Path, *, timeout: int = DEFAULT_TIMEOUT,
            kernel_name: str = "python3") -> tuple[set[int], CellError | None]:
    """Run ``nb`` (in place) top to bottom in a fresh kernel started in ``workdir``. A cell
    still running after ``timeout`` seconds is interrupted; its 1-based index is in the
    returned set, and the cells after it still run. A dying kernel ends the run: the
    returned :class:`CellError` names the cell. The kernel's own stdout and stderr (and
    those of anything it starts) go to ``/dev/null``, never to the grader's output."""
    import subprocess

    import nbclient
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    current = {"cell": 0}
    timed_out: set[int] = set()

    def on_cell_start(cell: Any, cell_index: int) -> None:
        current["cell"] = cell_index + 1

    def on_cell_error(cell: Any, cell_index: int, execute_reply: dict[str, Any]) -> None:
        if execute_reply.get("content", {}).get("ename") == _TIMEOUT_MARK:
            timed_out.add(cell_index + 1)

    client = nbclient.NotebookClient(
        nb, timeout=timeout, kernel_name=kernel_name, allow_errors=True,
        interrupt_on_timeout=True, shutdown_kernel="immediate",   # the outputs are collected:
        # a graceful shutdown only waits (0.3 s, now and then 3 s, a kernel)
        startup_timeout=max(60, timeout),     # a busy grading machine starts kernels slowly:
                                              # that is no failure of the student's notebook
        error_on_timeout={"ename": _TIMEOUT_MARK, "evalue": "", "traceback": []},
        resources={"metadata": {"path": str(workdir)}},
        on_cell_start=on_cell_start, on_cell_error=on_cell_error)
    try:
        client.execute(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    except NoSuchKernel:
        raise KernelUnavailable(f"no Jupyter kernel named {kernel_name!r} (see 'jupyter "
                                f"kernelspec list', or pass --kernel NAME)") from None
    except Exception as error:  # noqa: BLE001 - the kernel's fault is this notebook's error
        what = ("the kernel died while running this cell (out of memory? os._exit?)"
                if isinstance(error, DeadKernelError) else f"the kernel did not answer ({error})"
                if isinstance(error, CellTimeoutError) else
                f"running stopped here ({type(error).__name__}: {_shorten(str(error), 200)})")
        cell = current["cell"]
        source = _first_line(nb.cells[cell - 1].get("source", "")) \
            if 0 < cell <= len(nb.cells) else ""
        return timed_out, CellError(cell, type(error).__name__,
                                    f"{what}; the cells after it were not run", source)
    return timed_out, None


def clear_outputs(nb: Any) -> Any:
    """``nb`` with every stored output and execution count removed (in place): only what
    the run produces is read."""
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def run_notebook(path: Path, nb: Any, *, timeout: int = DEFAULT_TIMEOUT,
                 kernel_name: str = "python3") -> NotebookResult:
    """A learner's self-check: clear ``nb``'s stored outputs, execute it in a fresh kernel
    in a throw-away copy of its folder (:func:`isolated_folder`) and collect the reports its
    cells displayed. Feedback, not a grade: see :mod:`viz.cli.grading.teacher` for that. A cell still
    running after ``timeout`` seconds is interrupted and reported as a ``Timeout`` error;
    the cells after it still run. A dying kernel is that cell's error (the cells after it
    are not run)."""
    clear_outputs(nb)
    with isolated_folder(path) as workdir:
        timed_out, stopped = execute(nb, workdir, timeout=timeout, kernel_name=kernel_name)
    result = collect(str(path), nb, timed_out, timeout)
    if stopped is not None:
        result.errors.append(stopped)
    return result


CODE_SUFFIXES = (".py", ".pyc", ".pyo", ".pyd", ".so", ".pth", ".ipynb")
"""Never copied into a notebook's throw-away folder: importable code, and other notebooks."""


@contextlib.contextmanager
def isolated_folder(path: Path, files: Iterable[Path] = ()) -> Iterator[Path]:
    """A fresh temporary folder to run the notebook at ``path`` in, removed afterwards.

    It holds the data files of the notebook's folder (and of its sub-folders), but no
    Python file, package or other notebook: a submission that plants ``autograd_core.py``
    or ``numpy.py`` beside itself, or beside a classmate's notebook, imports nothing of it;
    and ``files`` (paths), copied in by name (a teacher's declared data files)."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="chainrule-check-") as tmp:
        root = Path(tmp) / "run"
        root.mkdir()
        if path is not None:
            _copy_data(path.resolve().parent, root, depth=0)
        for extra in files:
            if extra.is_file():
                shutil.copyfile(extra, root / extra.name)
        yield root


def _copy_data(source: Path, target: Path, depth: int) -> None:
    import shutil

    if depth > 3:
        return
    try:
        entries = sorted(source.iterdir())
    except OSError:
        return
    if depth > 0 and any(e.suffix.lower() in CODE_SUFFIXES or e.name == "__init__.py"
                         for e in entries):
        return                                 # a folder holding code is a package: skipped
    for entry in entries[:1000]:
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if entry.is_dir():
            (target / entry.name).mkdir(exist_ok=True)
            _copy_data(entry, target / entry.name, depth + 1)
        elif entry.is_file() and entry.suffix.lower() not in CODE_SUFFIXES and \
                entry.stat().st_size <= 50_000_000:
            shutil.copyfile(entry, target / entry.name)


_TIMEOUT_MARK = "chainrule-check-timeout"


# -- printing ------------------------------------------------------------------------------
def format_result(result: NotebookResult) -> str:
    """A notebook's table: exercise, result, the feedback's first line; then its cell errors."""
    lines = [clean(result.path)]
    if result.key:
        lines.append(f"  graded against the teacher's key {clean(result.key)}")
    if result.exercises:
        rows = [("exercise", "result", "feedback")] + [
            (e.name, e.status, e.summary + (f"  (checked {e.checks} times; the last counts)"
                                            if e.checks > 1 else ""))
            for e in result.exercises]
        width = [min(max(len(r[i]) for r in rows), 40) for i in range(2)]
        for name, status, summary in rows:
            lines.append(f"  {name:<{width[0]}}  {status:<{width[1]}}  {summary}".rstrip())
    else:
        lines.append("  no exercise reports found (no chainrule check was displayed)")
    for error in result.errors:
        where = f"cell {error.cell}" + (f" `{_shorten(error.source, 40)}`" if error.source else "")
        lines.append(f"  error in {where}: {error.ename}: {_shorten(error.evalue, 200)}")
    for warning in result.warnings:
        lines.append(f"  warning in cell {warning.cell}: {_shorten(warning.message, 200)}")
    lines.append(f"  {'passed' if result.passed else 'FAILED'}: {result.counts()}")
    return "\n".join(lines)


def format_summary(results: Iterable[NotebookResult]) -> str:
    """One line per notebook: passed or FAILED, the path, the counts."""
    results = list(results)
    width = max(len(r.path) for r in results)
    lines = [f"summary: {sum(r.passed for r in results)}/{len(results)} notebooks passed"]
    lines += [f"  {'passed' if r.passed else 'FAILED':<6}  {clean(r.path):<{width}}  {r.counts()}"
              for r in results]
    return "\n".join(lines)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
