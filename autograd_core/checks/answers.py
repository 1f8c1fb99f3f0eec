"""Checks of a learner's own derivatives and gradients, with feedback that names the mistake.

* :func:`check_derivative`: a derivative ``df`` of a scalar function ``f``, at many points.
* :func:`check_gradients`: hand-computed gradients of the nodes of a small graph.
* :func:`check_answer`: any number or array against the right one (and known wrong ones).
* :func:`~autograd_core.checks.check_op.check_op`: an :class:`~autograd_core.Op`'s derivative rules.

Each returns a :class:`~autograd_core.checks.report.Report`: a wrong answer is a report, never an
exception (bad *arguments* to the check still raise ``TypeError``/``ValueError``). The
feedback names the mistake, the point and the received number; the expected number is in its
last tier (see :mod:`~autograd_core.checks.report`), shown at once unless ``exercise=`` names
an exercise (then :mod:`~autograd_core.checks.stages` shows it in stages). An answer that is no
number (text, a dict, a list that contains itself, an integer beyond the float range) is
reported as "not a number" (or "too large"); text such as ``"42"`` is never graded right.
"""
from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .._state import no_grad
from .diagnose import Alternative, Comparison, diagnose, number
from ..graph import topological_order
from .paths import (MAX_EDGES_FOR_ALTERNATIVES, RecordedPass, expression, grouped, local_formula,
                    record_pass, replay, uses)
from .learner_checks import check_learner_gradients
from .learner_engine import is_learner_node
from .report import MISTAKES, Report, is_unanswered, not_answered
from .stages import fingerprint, staged
from .slopes import Slope, slope
from ..value import Value

VARIABLE = "⟨variable⟩"
"""Stands in a slip's explanation for the variable of the partial derivative being judged."""

SPECIAL_POINTS = (0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 10.0, -10.0, 30.0, -30.0)
"""Always checked (one variable): 0, ±1, ±½, ±2 and large values; kinks are usually here."""


# -- check_answer --------------------------------------------------------------------------
def check_answer(answer: Any, expected: Any, *, exercise: str | None = None,
                 mistakes: Mapping[str, Any] | None = None, name: str = "your answer",
                 rtol: float = 1e-6, atol: float = 1e-9) -> Report:
    """Check a number or array ``answer`` against ``expected``.

    ``mistakes`` maps an explanation to the wrong answer a known mistake gives (computed in
    the notebook, e.g. ``{"no bias correction: m̂ = m / (1 - β₁ᵗ) was skipped": m}``); an
    answer equal to one is reported with that explanation. An explanation may also be a pair
    ``(explanation, hint)``: the hint (the fix, e.g. ``"m̂ = m / (1 - β₁ᵗ)"``) shows from
    stage 2 on (see :mod:`~autograd_core.checks.stages`). Besides those, the report names
    a wrong shape, a transpose, a wrong sign, a constant factor and nan/inf.
    ``answer`` and ``expected`` may also be dicts (or tuples) of parts, checked part by part;
    then ``mistakes`` is keyed by part first: ``{"db": {explanation: wrong_value}}`` (parts of
    a tuple are called ``"part 1"``, ``"part 2"``, ...).
    With ``exercise=`` a wrong answer's report is staged (:func:`~autograd_core.checks.stages.staged`):
    the expected value shows only on :meth:`Report.reveal`.
    """
    report = _check_answer(answer, expected, exercise, mistakes, name, rtol, atol)
    report.fingerprint = fingerprint(answer)
    return staged(report)


def _check_answer(answer: Any, expected: Any, exercise: str | None,
                  mistakes: Mapping[str, Any] | None, name: str, rtol: float,
                  atol: float) -> Report:
    if isinstance(expected, Mapping) or isinstance(expected, tuple):
        return _check_parts(answer, expected, exercise, mistakes, name, rtol, atol)
    if _contains_placeholder(answer):
        return not_answered(name, exercise)
    want = _as_array(expected, "expected")
    try:
        got = learner_array(answer, name)
    except NotANumber as refused:
        return refused.report(exercise)
    known = [Alternative("known", explanation, _as_array(value, "a known mistake"), hint)
             for (explanation, hint), value in ((_explained(k), v)
                                                for k, v in (mistakes or {}).items())]
    if got.shape != want.shape:
        return _shape_report(got, want, known, name, exercise)
    where = _index_names(want.shape)
    alternatives = [k for k in known if k.values.shape == want.shape]
    if want.ndim == 2 and want.shape[0] == want.shape[1]:
        alternatives.append(Alternative("transpose", f"{name} is the transpose of the right "
                                        "matrix (rows and columns swapped)", want.T))
    found = diagnose(Comparison(got, want, where, rtol, atol), alternatives, name,
                     unit="entries")
    if found.passed:
        return Report(True, f"{name} is right", [f"{number_or_shape(want)}"], None, exercise)
    return Report(False, f"{name} is wrong: {MISTAKES[found.mistake]}", found.lines,
                  found.mistake, exercise, hints=found.hints, reveals=found.reveals)


def _check_parts(answer: Any, expected: Mapping[str, Any] | tuple, exercise: str | None,
                 mistakes: Mapping[str, Any] | None, name: str, rtol: float,
                 atol: float) -> Report:
    parts = dict(expected) if isinstance(expected, Mapping) else \
        {f"part {i + 1}": v for i, v in enumerate(expected)}
    if _contains_placeholder(answer):
        return not_answered(name, exercise)
    if isinstance(expected, Mapping):
        if not isinstance(answer, Mapping) or set(answer) != set(parts):
            got = sorted(answer) if isinstance(answer, Mapping) else type(answer).__name__
            return Report(False, f"{name} should have the parts {sorted(parts)}",
                          [f"got {got}"], "shape", exercise)
        answers = dict(answer)
    else:
        if not isinstance(answer, (tuple, list)) or len(answer) != len(parts):
            return Report(False, f"{name} should be {len(parts)} values",
                          [f"got {type(answer).__name__}"], "shape", exercise)
        answers = dict(zip(parts, answer))
    reports = {key: _check_answer(answers[key], value, None, (mistakes or {}).get(key), key,
                                  rtol, atol) for key, value in parts.items()}
    failed = [r for r in reports.values() if not r.passed]
    details = [f"{'✓' if r.passed else '✗'} {r.summary}" for r in reports.values()]
    if not failed:
        return Report(True, f"{name}: every part is right", details, None, exercise)
    first = failed[0]
    details += first.details
    reveals = [f"{key}: {line}" for key, r in reports.items() if not r.passed
               for line in r.reveals]
    return Report(False, f"{name}: {len(failed)} of {len(reports)} parts wrong "
                  f"({', '.join(k for k, r in reports.items() if not r.passed)})", details,
                  first.mistake, exercise, answered=all(r.answered for r in reports.values()),
                  hints=first.hints, reveals=reveals)


def _explained(key: Any) -> tuple[str, str]:
    """A known mistake's ``explanation`` (or ``(explanation, hint)``) as both."""
    if isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, str) for k in key):
        return key[0], key[1]
    if not isinstance(key, str):
        raise TypeError(f"a known mistake is named by its explanation (a string) or a pair "
                        f"(explanation, hint); got {type(key).__name__}")
    return key, ""


def _shape_report(got: np.ndarray, want: np.ndarray, known: list[Alternative], name: str,
                  exercise: str | None) -> Report:
    at = f"expected shape {want.shape}, got shape {got.shape}"
    for k in known:
        if k.values.shape == got.shape and np.allclose(got, k.values, rtol=1e-6, atol=1e-9):
            return Report(False, f"{name} is wrong: {MISTAKES['known']}", [k.explanation, at],
                          "known", exercise, hints=[k.hint] if k.hint else [])
    if want.ndim == 2 and got.shape == want.T.shape and np.allclose(got, want.T, rtol=1e-6,
                                                                     atol=1e-9):
        return Report(False, f"{name} is wrong: {MISTAKES['transpose']}",
                      [f"{name} is the transpose of the right matrix: rows and columns "
                       "swapped (check which side the ᵀ goes on)", at], "transpose", exercise)
    same_numbers = got.size == want.size and np.allclose(got.ravel(), want.ravel(), rtol=1e-6,
                                                         atol=1e-9)
    if same_numbers:
        why = "the numbers are right but arranged in the wrong shape (reshape it)"
    elif _sums_to(got, want):
        why = ("the shape is the broadcast one: a value added to every row (a bias) gets the "
               "sum of the gradients of all the rows, so sum over the batch axis")
    else:
        why = "a gradient has the shape of the thing it is the gradient of"
    return Report(False, f"{name} is wrong: {MISTAKES['shape']}", [why, at], "shape", exercise)


def _sums_to(got: np.ndarray, want: np.ndarray) -> bool:
    """``got`` has ``want`` broadcast to a larger shape, and summing the broadcast axes
    gives ``want``: the unreduced gradient of a broadcast operand."""
    try:
        np.broadcast_shapes(got.shape, want.shape)
    except ValueError:
        return False
    if got.ndim < want.ndim or np.broadcast_shapes(got.shape, want.shape) != got.shape:
        return False
    lead = got.ndim - want.ndim
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(want.shape) if n == 1)
    summed = got.sum(axis=axes, keepdims=False).reshape(want.shape)
    return bool(np.allclose(summed, want, rtol=1e-6, atol=1e-9))


def number_or_shape(a: np.ndarray) -> str:
    return f"= {number(float(a.reshape(())))}" if a.ndim == 0 else f"an array of shape {a.shape}"


def _index_names(shape: tuple[int, ...]) -> list[str]:
    if not shape:
        return ["the value given"]
    return [f"index {idx if len(idx) > 1 else idx[0]}" for idx in np.ndindex(shape)]


MAX_NESTING = 64
"""NumPy's limit on an array's dimensions: a list nested deeper (or one that contains
itself) is no array of numbers."""


def _contains_placeholder(answer: Any, depth: int = 0) -> bool:
    if is_unanswered(answer):
        return True
    if depth > MAX_NESTING:
        return False                       # learner_array reports it
    if isinstance(answer, (list, tuple)):
        return any(_contains_placeholder(a, depth + 1) for a in answer)
    if isinstance(answer, Mapping):
        return any(_contains_placeholder(a, depth + 1) for a in answer.values())
    return False


class NotANumber(ValueError):
    """A learner's answer that is no number (or none a float can hold), with the report's
    summary and the reason."""

    def __init__(self, name: str, what: str, reason: str) -> None:
        super().__init__(f"{name} is {what}: {reason}")
        self.name, self.what, self.reason = name, what, reason

    def report(self, exercise: str | None) -> Report:
        return Report(False, f"{self.name} is {self.what}", [self.reason], "not_a_number",
                      exercise)


_TEXT = (str, bytes, bytearray)


def _text_or_too_deep(x: Any, depth: int = 0) -> str | None:
    """``"text"`` if ``x`` holds a string anywhere, ``"deep"`` if it nests deeper than an
    array can (a list that contains itself does), else None."""
    if isinstance(x, _TEXT):
        return "text"
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "USV":
            return "text"
        return next((found for v in x.ravel() if (found := _text_or_too_deep(v, depth + 1))),
                    None) if x.dtype.kind == "O" else None
    if isinstance(x, (list, tuple)):
        if depth >= MAX_NESTING:
            return "deep"
        return next((found for v in x if (found := _text_or_too_deep(v, depth + 1))), None)
    return None


def learner_array(answer: Any, name: str) -> np.ndarray:
    """A learner's answer as a float array; :class:`NotANumber` (never another exception)
    when it is text, not numeric, nested like no array, or beyond the float range."""
    try:
        found = _text_or_too_deep(answer)
        if found == "text":
            shown = repr(answer) if len(repr(answer)) <= 40 else repr(answer)[:37] + "..."
            raise NotANumber(name, "not a number", f"it is text ({shown}): write the "
                             "number itself, without quotes")
        if found == "deep":
            raise NotANumber(name, "not a number", "a list that contains itself, or is "
                             f"nested deeper than an array can be ({MAX_NESTING} levels)")
        return _as_array(answer, name)
    except NotANumber:
        raise
    except OverflowError:
        raise NotANumber(name, "too large", "an integer beyond the range of a float "
                         "(about ±1.8e308)") from None
    except RecursionError:
        raise NotANumber(name, "not a number", "it is nested too deeply") from None
    except Exception as error:      # noqa: BLE001 - whatever the answer is, it is feedback
        raise NotANumber(name, "not a number", str(error)) from None


def _as_array(x: Any, what: str) -> np.ndarray:
    data = getattr(x, "data", x) if hasattr(x, "grad") else x
    try:
        a = np.asarray(data, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} must be a number or an array of numbers; got "
                         f"{type(x).__name__} ({error})") from None
    return a


# -- check_derivative ----------------------------------------------------------------------
def check_derivative(f: Callable[..., Any], df: Callable[..., Any], *,
                     points: Sequence[Any] | None = None, exercise: str | None = None,
                     rtol: float = 1e-5, atol: float = 1e-7, seed: int = 0) -> Report:
    """Check a learner's derivative ``df`` of ``f`` at many points.

    ``f`` takes one or more numbers and returns one; ``df`` takes the same arguments and
    returns ``f'(x)`` (or a tuple of the partial derivatives ``∂f/∂x_i``). The truth is
    chainrule's own backward when ``f`` works on :class:`Value` s (then the feedback can
    also name the step of the chain rule that went wrong), else the central difference.
    The points are ``points``, or 0, ±½, ±1, ±2, ±10, ±30 and 20 random ones in [-3, 3];
    points where ``f`` is undefined (an error, nan or inf nearby) are skipped, and at a kink
    any value between the one-sided slopes is accepted.
    With ``exercise=`` a wrong answer's report is staged (:func:`~autograd_core.checks.stages.staged`):
    the expected values show only on :meth:`Report.reveal`.
    """
    return staged(_check_derivative(f, df, points, exercise, rtol, atol, seed))


def _check_derivative(f: Callable[..., Any], df: Callable[..., Any],
                      points: Sequence[Any] | None, exercise: str | None, rtol: float,
                      atol: float, seed: int) -> Report:
    if not callable(f) or not callable(df):
        raise TypeError(f"check_derivative(f, df) takes two functions; got "
                        f"{type(f).__name__} and {type(df).__name__}")
    names = _argument_names(f, points)
    if points is None:
        points = _default_points(len(names), seed)
    grid = [tuple(float(v) for v in np.atleast_1d(np.asarray(p, dtype=float))) for p in points]
    if any(len(p) != len(names) for p in grid):
        raise ValueError(f"every point must give {len(names)} value(s) ({', '.join(names)})")
    on_values = _works_on_values(f, grid)
    numeric = (lambda *p: _value_data(f, p)) if on_values else f
    rows: list[dict[str, Any]] = []
    for point in grid:
        row = _truth_at(f, numeric, point, names, on_values)
        if row is None:
            continue
        got = _call_learner(df, point, len(names))
        if got == "unanswered":
            return not_answered("df", exercise)
        row["received"] = got
        rows.append(row)
    if not rows:
        raise ValueError("f is undefined (or has no derivative) at every point checked; pass "
                         "points= inside its domain")
    report = _judge_derivative(rows, names, exercise, rtol, atol)
    report.fingerprint = fingerprint([r["received"] for r in rows])  # df's values: its answer
    return report


def _argument_names(f: Callable[..., Any], points: Sequence[Any] | None) -> list[str]:
    try:
        parameters = [p for p in inspect.signature(f).parameters.values()
                      if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY,
                                                             p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        parameters = []
    if parameters:
        return [p.name for p in parameters]
    n = 1 if points is None else len(np.atleast_1d(np.asarray(points[0], dtype=float)))
    return ["x"] if n == 1 else [f"x{i + 1}" for i in range(n)]


def _default_points(n: int, seed: int) -> list[tuple[float, ...]]:
    rng = np.random.default_rng(seed)
    if n == 1:
        return [(p,) for p in SPECIAL_POINTS] + [(float(v),) for v in rng.uniform(-3, 3, 20)]
    corners = [tuple([0.0] * n), tuple([1.0] * n), tuple([-1.0] * n)]
    for k in range(n):
        corners += [tuple(1.0 if i == k else 0.0 for i in range(n)),
                    tuple(-1.0 if i == k else 0.5 for i in range(n))]
    randoms = [tuple(float(v) for v in row) for row in rng.uniform(-3, 3, (24, n))]
    large = [tuple(float(v) for v in row) for row in rng.uniform(-10, 10, (4, n))]
    return corners + randoms + large


def _works_on_values(f: Callable[..., Any], grid: list[tuple[float, ...]]) -> bool:
    """Whether ``f`` builds a graph when given Values (so backward gives the truth)."""
    try:
        with no_grad():
            return isinstance(f(*(Value(v) for v in grid[0])), Value)
    except Exception:      # noqa: BLE001 - any failure means: treat f as a float function
        return False


def _value_data(f: Callable[..., Any], point: Sequence[float]) -> float:
    with no_grad():
        return float(f(*(Value(v) for v in point)).data)


def _truth_at(f: Callable[..., Any], numeric: Callable[..., float], point: tuple[float, ...],
              names: list[str], on_values: bool) -> dict[str, Any] | None:
    """The right partials at ``point`` (and, on Values, the slips' alternatives), or None
    where f is undefined there."""
    slopes = [slope(numeric, point, k) for k in range(len(point))]
    if any(s.kind in ("undefined", "unreliable") for s in slopes):
        return None
    row: dict[str, Any] = {"point": point, "slopes": slopes, "alternatives": {}}
    if not on_values:
        row["expected"] = [s.value for s in slopes]
        return row
    inputs = [Value(v, label=name) for v, name in zip(point, names)]
    out = f(*inputs)
    if not math.isfinite(float(out.data)):
        return None
    recorded = record_pass(out)
    expected = [float(recorded.grads.get(x, 0.0)) for x in inputs]
    if not all(math.isfinite(e) for e in expected):
        return None
    for k, s in enumerate(slopes):
        # where f is smooth but backward disagrees with both one-sided slopes (relu'(0) = 0 on
        # two paths that cancel: relu(z) - relu(-z) = z), the slopes are the truth; the point
        # is judged like a kink whose interval is one number, and no slip is judged there
        if s.kind == "smooth" and not math.isclose(expected[k], s.value, rel_tol=1e-4,
                                                   abs_tol=1e-6):
            expected[k] = s.value
            slopes[k] = Slope("corrected", s.value, s.value, s.value)
    row["expected"] = expected
    if len(recorded.edges) <= MAX_EDGES_FOR_ALTERNATIVES:
        row["alternatives"] = slips(recorded, inputs, {x: n for x, n in zip(inputs, names)})
    return row


def _call_learner(df: Callable[..., Any], point: tuple[float, ...], n: int) -> Any:
    """The learner's partials at ``point`` (a list of floats, nan where it failed), the
    error it raised (a string), or ``"unanswered"``."""
    try:
        got = df(*point)
    except Exception as error:      # noqa: BLE001 - the learner's error is feedback
        return f"{type(error).__name__}: {error}"
    if _contains_placeholder(got):
        return "unanswered"
    values = list(got) if isinstance(got, (tuple, list)) else [got]
    if len(values) != n:
        return f"returned {len(values)} value(s); {n} partial derivative(s) were expected"
    numbers = []
    for v in values:
        try:
            a = learner_array(v, "df's value")
        except NotANumber as refused:
            return _NotANumberText(f"what df returned is {refused.what}: {refused.reason}")
        if a.size != 1:
            return _NotANumberText(f"returned an array of shape {a.shape}, not a number")
        numbers.append(float(a.reshape(())))
    return numbers


class _NotANumberText(str):
    """What df returned, when it is no number (judged "not a number", not "raised")."""


def _judge_derivative(rows: list[dict[str, Any]], names: list[str], exercise: str | None,
                      rtol: float, atol: float) -> Report:
    where = [", ".join(f"{n} = {number(v)}" for n, v in zip(names, r["point"])) for r in rows]
    errors = [(w, r) for w, r in zip(where, rows) if isinstance(r["received"], str)]
    n = len(names)
    if errors:
        kinks = [w for w, r in errors if any(s.kind == "kink" for s in r["slopes"])]
        where_text, message = errors[0][0], errors[0][1]["received"]
        if len(kinks) == len(errors) and len(errors) < len(rows):
            return Report(False, f"df is wrong: {MISTAKES['kink']}",
                          [f"df fails at the kink ({', '.join(kinks)}): {message}; "
                           "pick a value between the one-sided slopes there"], "kink", exercise)
        mistake = "not_a_number" if isinstance(message, _NotANumberText) else "raised"
        return Report(False, f"df is wrong: {MISTAKES[mistake]}",
                      [f"at {where_text}: {message}",
                       f"(at {len(errors)} of {len(rows)} points checked)"], mistake, exercise)
    for k in range(n):
        expected = np.array([r["expected"][k] for r in rows])
        received = np.array([r["received"][k] for r in rows])
        low = np.array([r["slopes"][k].low if r["slopes"][k].kind in ("kink", "corrected")
                        else np.nan for r in rows])
        high = np.array([r["slopes"][k].high for r in rows])
        high[np.isnan(low)] = np.nan
        keys = set.intersection(*(set(r["alternatives"]) for r in rows)) if rows else set()
        alternatives = [Alternative(rows[0]["alternatives"][key][0],
                                    rows[0]["alternatives"][key][1].replace(VARIABLE, names[k]),
                                    np.array([r["alternatives"][key][2][k] for r in rows]),
                                    rows[0]["alternatives"][key][3].replace(VARIABLE, names[k]))
                        for key in sorted(keys)]
        what = "df" if n == 1 else f"your ∂f/∂{names[k]}"
        found = diagnose(Comparison(received, expected, where, rtol, atol, low, high),
                         alternatives, what)
        if not found.passed:
            return Report(False, f"{what} is wrong: {MISTAKES[found.mistake]}", found.lines,
                          found.mistake, exercise, hints=found.hints, reveals=found.reveals)
    kinks = sum(any(s.kind == "kink" for s in r["slopes"]) for r in rows)
    note = f", {kinks} of them at a kink" if kinks else ""
    return Report(True, f"{'df' if n == 1 else 'every partial derivative'} is right",
                  [f"checked at {len(rows)} points{note}"], None, exercise)


# -- the slips a learner makes in a chain rule, as alternative gradients ---------------------
def slips(recorded: RecordedPass, targets: Sequence[Any],
          names: dict[Any, str]) -> dict[tuple[int, str], tuple[str, str, list[float], str]]:
    """For each slip in the recorded pass, what the targets' gradients would be:
    ``{(edge index, kind): (mistake, explanation, [gradient of each target], hint)}`` (the
    hint: the part of the explanation that gives the fix away, shown from stage 2)."""
    found: dict[tuple[int, str], tuple[str, str, list[float], str]] = {}
    into = uses(recorded)

    def add(key: tuple[int, str], mistake: str, why: str, grads: dict[Any, Any],
            hint: str = "") -> None:
        found[key] = (mistake, why, [float(grads.get(t, 0.0)) for t in targets], hint)

    # every slip is listed at every point (even where it happens to give the right number),
    # so that the slips line up across points
    for i, e in enumerate(recorded.edges):
        node, parent = e.node, e.parent
        here, there = expression(node, names), expression(parent, names)
        add((i, "dropped"), "dropped_local",
            f"your answer leaves out the local derivative {local_formula(e, names)}",
            replay(recorded, e, 1.0))
        if len(into.get(parent, ())) > 1:
            add((i, "path"), "one_path",
                f"{there} is used {len(into[parent])} times and the gradients along all its "
                f"uses add up; your answer leaves out the term from its use as an operand of "
                f"{here}",
                replay(recorded, e, 0.0))
        op = node.op
        if op.arity == 1 and op.elementwise:
            swapped = float(op.derivatives[0](node._raw_math, parent.data, parent.data,
                                              **node.params))
            # a long operand is called z in these formulas and spelled out after them
            z, spelled = (there, "") if len(there) <= 16 else ("z", f" (with z = {there})")
            z_grouped = grouped(there, parent) if z == there else z
            out = op.formula([z], params=node.params)
            right = op.derivative_formula(0, [z], params=node.params)
            wrong = right.replace(out, z_grouped)
            add((i, "swapped"), "swapped_output",
                f"your answer uses the input {z} where the derivative of {out} needs the "
                f"output {out}{spelled}", replay(recorded, e, swapped),
                f"∂{out}/∂{z_grouped} = {right} is written with the output {out}"
                + (f"; you wrote {wrong} instead of {right}" if wrong != right else ""))
            add((i, "function"), "function_for_derivative",
                f"your answer uses {out} itself where its derivative belongs{spelled}",
                replay(recorded, e, float(node.data)), f"∂{out}/∂{z_grouped} = {right}")
    target_set = set(targets)
    wrt = "the inner derivative ∂u/∂" + VARIABLE      # the partial's variable, filled in later
    for j, node in enumerate(recorded.order):
        if node.is_leaf or node is recorded.root or node in target_set or node not in \
                recorded.grads:
            continue
        add((-1 - j, "inner"), "inner_factor",
            f"your answer is ∂f/∂u for the inner expression u = {expression(node, names)}: the "
            f"chain rule multiplies it by {wrt}, which is missing",
            {t: recorded.grads[node] for t in targets})
    return found


# -- check_gradients ------------------------------------------------------------------------
def check_gradients(root: Any, answers: Mapping[Any, Any] | None = None, *,
                    exercise: str | None = None, rtol: float = 1e-6, atol: float = 1e-9,
                    ops: Mapping[str, Callable[..., Any]] | None = None) -> Report:
    """Check hand-computed gradients ``∂root/∂node`` of the nodes of a small graph, or the
    gradients a learner's own engine computes.

    ``answers`` maps nodes (or their labels) to numbers (or arrays for a Tensor graph). The
    truth is the engine's backward, run on the side: every ``.grad`` is left as it was. The
    report names the first wrong node in backward order, and for each wrong node whether its
    own step is wrong (its local derivative, a path left out, a gradient overwritten instead
    of accumulated) or it only inherited a wrong gradient from upstream.

    ``root`` may also be a node of the learner's own micrograd-style engine (``data``,
    ``grad``, ``_prev``, ``_op``, ``_backward``), with no ``answers``: then the learner's own
    backward pass is run, watched (every ``grad`` is put back), and compared with chainrule's
    engine on the same graph (:func:`~autograd_core.checks.learner_checks.check_learner_gradients`;
    ``ops`` maps an op string chainrule does not know to the same op on its Values).

    With ``exercise=`` a wrong answer's report is staged (:func:`~autograd_core.checks.stages.staged`):
    the expected gradients show only on :meth:`Report.reveal`.
    """
    if is_learner_node(root):
        if answers is not None:
            raise TypeError("check_gradients on your own engine's node checks your engine's "
                            "backward pass: call it without answers")
        return check_learner_gradients(root, exercise=exercise, ops=ops)
    if answers is None:
        raise TypeError("check_gradients needs answers, a dict {node or label: gradient} "
                        "(only a node of your own engine is checked without them)")
    return staged(_check_gradients(root, answers, exercise, rtol, atol))


def _check_gradients(root: Any, answers: Mapping[Any, Any], exercise: str | None,
                     rtol: float, atol: float) -> Report:
    if not hasattr(root, "_bound") or not hasattr(root, "grad"):
        raise TypeError(f"check_gradients needs the graph's output node (a Value or Tensor); "
                        f"got {type(root).__name__}")
    if not isinstance(answers, Mapping) or not answers:
        raise TypeError("check_gradients needs answers as a non-empty dict {node or label: "
                        "gradient}")
    order = topological_order(root)
    nodes = _resolve(order, answers)
    unanswered = [n for n, a in nodes.items() if _contains_placeholder(a)]
    if len(unanswered) == len(nodes):
        return not_answered("the gradients", exercise)
    recorded = record_pass(root)
    names = {n: _name(n, i) for i, n in enumerate(order)}
    learner, refused = {}, {}
    for n, a in nodes.items():
        if n not in unanswered:
            try:
                learner[n] = learner_array(a, f"the answer for {names[n]}")
            except NotANumber as why:
                refused[n] = why
    into = uses(recorded)
    lines, hints, reveals, first = [], [], [], None
    backward_order = [n for n in reversed(order) if n in nodes]
    for n in backward_order:
        if n in unanswered:
            lines.append(f"… {names[n]}: not answered yet")
            continue
        if n in refused:
            first = first or (n, "not_a_number")
            lines.append(f"✗ {names[n]}: {refused[n].what}: {refused[n].reason}")
            continue
        truth = np.asarray(recorded.grads.get(n, np.zeros_like(np.asarray(n.data, float))),
                           dtype=float)
        verdict = _judge_node(n, learner, truth, recorded, into, names, rtol, atol)
        if verdict is None:
            lines.append(f"✓ {names[n]}: {_short(learner[n])}")
            continue
        mistake, why, hint = verdict
        first = first or (n, mistake)
        lines.append(f"✗ {names[n]}: got {_short(learner[n])}: {why}")
        hints += [f"{names[n]}: {h}" for h in hint]
        reveals.append(f"{names[n]}: expected {_short(truth)}, got {_short(learner[n])}")
    if first is None:
        if unanswered:
            return Report(False, f"{len(unanswered)} of {len(nodes)} gradients not answered "
                          "yet", lines, "not_answered", exercise, answered=False)
        return Report(True, f"all {len(nodes)} gradients are right", lines, None, exercise)
    node, mistake = first
    return Report(False, f"{names[node]} is the first wrong gradient in backward order: "
                  f"{MISTAKES[mistake]}", lines, mistake, exercise, hints=hints,
                  reveals=reveals, fingerprint=fingerprint(
                      [(names[n], a) for n, a in nodes.items()]))


def _name(node: Any, index: int) -> str:
    return node.label or (f"node {index} ({node.op.name})" if node.op else f"leaf {index}")


def _short(a: np.ndarray) -> str:
    if a.size == 1:
        return number(float(a.reshape(())))
    return np.array2string(a, precision=4, suppress_small=True,
                           max_line_width=10**6).replace("\n", "")


def _resolve(order: list[Any], answers: Mapping[Any, Any]) -> dict[Any, Any]:
    """The answers keyed by node: labels are looked up in the graph (uniquely)."""
    in_graph = set(order)
    by_label: dict[str, list[Any]] = {}
    for n in order:
        if n.label:
            by_label.setdefault(n.label, []).append(n)
    resolved = {}
    for key, answer in answers.items():
        if isinstance(key, str):
            found = by_label.get(key, [])
            if len(found) != 1:
                known = ", ".join(sorted(by_label)) or "none"
                raise ValueError(f"check_gradients: the label {key!r} names {len(found)} nodes "
                                 f"of this graph (labels in the graph: {known})")
            key = found[0]
        elif key not in in_graph:
            raise ValueError(f"check_gradients: {key!r} is not a node of this graph")
        resolved[key] = answer
    return resolved


def _judge_node(n: Any, learner: dict[Any, np.ndarray], truth: np.ndarray,
                recorded: RecordedPass, into: dict[Any, list[Any]], names: dict[Any, str],
                rtol: float, atol: float) -> tuple[str, str, list[str]] | None:
    """``None`` when the learner's gradient at ``n`` is right, else the mistake, why (no
    expected number) and hints.

    The learner's own step at ``n`` is ``Σ over the uses e of ∂root/∂e.node · local(e)``
    with *their* upstream gradients (the truth where they gave none): if their value equals
    it, the step is right and the error was inherited; otherwise the slips are tried on it.
    """
    got = learner[n]
    if got.shape != truth.shape:
        report = _shape_report(got, truth, [], names[n], None)
        return report.mistake or "shape", report.details[0], []
    comparison = Comparison(got, truth, _index_names(truth.shape), rtol, atol)
    if comparison.correct().all():
        return None
    edges = into.get(n, [])
    alternatives = []
    if edges:
        ups = [learner.get(e.node, recorded.grads[e.node]) for e in edges]
        parts = [_contribution(e, up) for e, up in zip(edges, ups)]
        theirs = np.asarray(sum(parts[1:], parts[0]), dtype=float)
        if theirs.shape == truth.shape and Comparison(got, theirs, (), rtol, atol).correct().all():
            wrong_up = [names[m] for m in dict.fromkeys(e.node for e in edges)
                        if m in learner and not Comparison(
                            learner[m], np.asarray(recorded.grads[m], float), (), rtol,
                            atol).correct().all()]
            return "inherited", (f"this step is right for the upstream gradient you used; the "
                                 f"error comes from {', '.join(wrong_up) or 'upstream'}"), []
        alternatives = _node_slips(n, edges, ups, parts, theirs, names)
    found = diagnose(comparison, alternatives, "this gradient")
    return found.mistake or "wrong", found.lines[0], found.hints


def _contribution(edge: Any, upstream: Any) -> Any:
    """``upstream · ∂edge.node/∂edge.parent``: the edge's chain-rule step applied to another
    upstream gradient (a tensor's local derivative is the op's linear map, rebuilt here)."""
    node = edge.node
    if isinstance(node, Value):
        return upstream * edge.local
    b = node._b
    local = node._bound.rules[edge.position](node._raw_math, node.data, node._a.data,
                                          None if b is None else b.data)
    return np.asarray(upstream, dtype=float) * local


def _node_slips(n: Any, edges: list[Any], ups: list[Any], parts: list[Any], theirs: np.ndarray,
                names: dict[Any, str]) -> list[Alternative]:
    """The wrong values of ``∂root/∂n`` from one slip in ``n``'s own step: a use forgotten,
    each use overwriting the gradient instead of adding to it (``=`` for ``+=``), a local
    derivative left out."""
    found = []
    if len(edges) > 1:
        found.append(Alternative(
            "overwrite", f"{names[n]} is used {len(edges)} times, so its gradient must "
            f"accumulate (+=) one contribution per use; your value is the last contribution "
            f"alone, as if each use overwrote it (=)", np.asarray(parts[-1], float)))
        for e, part in zip(edges, parts):
            found.append(Alternative(
                "one_path", f"{names[n]} is used {len(edges)} times and the gradients along "
                f"all its uses add up; your value leaves out the use in {names[e.node]}",
                theirs - np.asarray(part, float)))
    for e, up, part in zip(edges, ups, parts):
        if isinstance(e.node, Value) and not math.isclose(float(e.local), 1.0):
            found.append(Alternative(
                "dropped_local", f"your value leaves out the local derivative "
                f"{local_formula(e, names)}", theirs - part + np.asarray(up, float)))
    return found
