"""Staged feedback: which tier of a wrong answer's report an exercise shows, and
:func:`hint` / :func:`reveal` to see more.

A process-wide registry notes, per exercise name, the wrong answers checked so far, each by
its *fingerprint* (the answer's numbers; for a function, what it returned at the points
checked) and the stage it got. The first wrong answer to an exercise shows stage 1 (the kind
of mistake, no expected number); a later *different* wrong answer shows stage 2 (a hint too).
An answer checked again gets the stage it got the first time, so re-running a cell shows
what it showed. Reports without ``exercise=`` are not staged: they show everything, and so
does every report while the environment variable ``CHAINRULE_FEEDBACK`` is ``full`` (the
teacher's grade, ``chainrule check --key``, sets it in the kernel that judges).

The registry is bounded (:data:`MAX_EXERCISES` exercises, :data:`MAX_ANSWERS` answers each,
the least recently checked forgotten first) and guarded by a lock.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from typing import Any, Mapping

import numpy as np

from .report import FULL, HINT, MISTAKE, Report, ReportView, short_name

FEEDBACK_VARIABLE = "CHAINRULE_FEEDBACK"
"""``CHAINRULE_FEEDBACK=full`` shows every report in full (the expected value included)."""
MAX_EXERCISES = 512
MAX_ANSWERS = 256


class _Exercise:
    __slots__ = ("answers", "latest")

    def __init__(self) -> None:
        self.answers: OrderedDict[str, int] = OrderedDict()   # fingerprint -> stage shown
        self.latest: Report | None = None


_lock = threading.Lock()
_exercises: OrderedDict[str, _Exercise] = OrderedDict()
_last_failed: list[Report] = []           # at most one: the latest failed exercise report


def full_feedback() -> bool:
    """Whether every report shows everything (``CHAINRULE_FEEDBACK=full``)."""
    return os.environ.get(FEEDBACK_VARIABLE, "").strip().lower() == "full"


def fingerprint(answer: Any) -> str:
    """A digest of an answer's content: the values of numbers and arrays (a ``Value`` or
    ``Tensor`` by its data), parts of tuples, lists and dicts in order, anything else by its
    type and ``repr``. Equal answers give equal fingerprints."""
    digest = hashlib.sha256()
    _feed(digest, answer, 0)
    return digest.hexdigest()


def _feed(digest: Any, x: Any, depth: int) -> None:
    if depth > 64:
        digest.update(b"<deep>")
        return
    if isinstance(x, (str, bytes, bytearray)) or x is None or x is Ellipsis:
        digest.update(f"<{type(x).__name__}>{x!r}".encode("utf-8", "replace"))
        return
    if isinstance(x, Mapping):
        digest.update(f"<dict {len(x)}>".encode())
        for key, value in x.items():
            _feed(digest, str(key), depth + 1)
            _feed(digest, value, depth + 1)
        return
    if isinstance(x, (list, tuple)):
        digest.update(f"<{type(x).__name__} {len(x)}>".encode())
        for value in x:
            _feed(digest, value, depth + 1)
        return
    data = getattr(x, "data", x) if hasattr(x, "grad") else x
    try:
        array = np.asarray(data, dtype=float)
    except Exception:       # noqa: BLE001 - whatever the answer is, it has a repr
        text = repr(x)
        digest.update(f"<{type(x).__name__}>{text[:10_000]}".encode("utf-8", "replace"))
        return
    digest.update(f"<array {array.shape}>".encode())
    digest.update(np.ascontiguousarray(array).tobytes())


def staged(report: Report) -> Report:
    """``report`` with the stage it shows: 3 (everything) unless it is a wrong answer to a
    named exercise; then the stage its answer got when first checked, else 1 for the
    exercise's first wrong answer and 2 for a later one. Notes it as the exercise's latest
    report (and, failed, the latest failed one)."""
    if report.exercise is None:
        return report
    staging = report.failed and not full_feedback()
    key = report.fingerprint or fingerprint(["<report>", report.summary, *report.details,
                                             *report.reveals])
    stage = FULL
    with _lock:
        exercise = _exercises.pop(report.exercise, None) or _Exercise()
        _exercises[report.exercise] = exercise                  # the most recent, last
        while len(_exercises) > MAX_EXERCISES:
            _exercises.popitem(last=False)
        if report.failed:
            stage = exercise.answers.pop(key, None)
            if stage is None:
                stage = HINT if exercise.answers else MISTAKE
            exercise.answers[key] = stage
            while len(exercise.answers) > MAX_ANSWERS:
                exercise.answers.popitem(last=False)
            _last_failed[:] = [report]
        report.stage = stage if staging else FULL
        exercise.latest = report
    return report


def forget() -> None:
    """Forget every answer checked (as a new kernel would)."""
    with _lock:
        _exercises.clear()
        _last_failed.clear()


def _latest(exercise: str | None) -> Report:
    if exercise is not None and not isinstance(exercise, str):
        raise TypeError(f"an exercise is named by a string, e.g. \"01.1\"; got "
                        f"{type(exercise).__name__}")
    with _lock:
        if exercise is None:
            if not _last_failed:
                raise ValueError("no exercise's check has failed yet in this session: run an "
                                 "exercise's check cell first (or name the exercise, e.g. "
                                 "hint(\"01.1\"))")
            return _last_failed[0]
        found = _exercises.get(exercise)
        if found is None:
            matches = [name for name in _exercises if name.startswith(exercise) and (
                len(name) == len(exercise) or not name[len(exercise)].isdigit())]
            if len(matches) > 1:
                raise ValueError(f"{exercise!r} names {len(matches)} exercises checked in this "
                                 f"session: {', '.join(map(repr, matches))}; give more of the "
                                 "name")
            if not matches:
                known = ", ".join(repr(short_name(n)) for n in _exercises) or "none yet"
                raise ValueError(f"no check of exercise {exercise!r} has run in this session "
                                 f"(exercises checked: {known}); run its check cell first")
            found = _exercises[matches[0]]
        assert found.latest is not None
        return found.latest


def hint(exercise: str | None = None) -> ReportView:
    """The hint (stage 2) of an exercise's latest report: ``exercise`` is its name or the
    number it starts with (``"01.1"``); without it, the latest failed report of this
    session. ``ValueError`` when there is none."""
    report = _latest(exercise)
    return ReportView(report, max(report.stage, HINT))


def reveal(exercise: str | None = None) -> ReportView:
    """Everything an exercise's latest report knows, the expected value(s) included (named
    as for :func:`hint`)."""
    return ReportView(_latest(exercise), FULL)
