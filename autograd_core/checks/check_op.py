"""``check_op``: every derivative rule of an :class:`~autograd_core.Op`, against numerical
differentiation of its forward; its formula templates; and its use with ``create_graph``."""
from __future__ import annotations

import math
import re
from typing import Any, Mapping, Sequence

import numpy as np

from .. import array_math, scalar_math
from .answers import SPECIAL_POINTS, _shape_report
from .diagnose import Alternative, Comparison, diagnose, number
from ..op import Op
from .report import MISTAKES, Report, is_unanswered, not_answered
from .stages import staged
from .slopes import slope
from ..tensor import Tensor
from ..value import Value

_PLACEHOLDER = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_DEFAULT_SHAPES = (((2, 3),), ((2, 3), (3, 4)), ((2, 3), (2, 3)), ((2, 3), (3,)))


def check_op(op: Op, *, params: Mapping[str, Any] | None = None,
             inputs: Sequence[Any] | None = None, points: int = 200,
             exercise: str | None = None, seed: int = 0, rtol: float = 1e-5,
             atol: float = 1e-7) -> Report:
    """Check each derivative rule (or VJP) of ``op`` against numerical differentiation.

    An elementwise op is checked at ``points`` points (0, ±1, ±½, ±2, ±10, ±30 and random
    ones; where its forward is undefined they are skipped, and at a kink any value between
    the one-sided slopes passes), on floats and on arrays. A VJP rule is checked as
    ``g · J`` with the Jacobian ``J`` from central differences, for random ``g``, at
    ``inputs`` (arrays; by default random ones of the shapes the op accepts), so a VJP of
    the wrong shape or transposed is caught. Then the formula templates must render, and
    the op must run with ``create_graph=True``. The report names the operand whose rule is
    wrong. With ``exercise=`` a wrong rule's report is staged
    (:func:`~autograd_core.checks.stages.staged`): the expected values show only on
    :meth:`Report.reveal`.
    """
    return staged(_check_op(op, params, inputs, points, exercise, seed, rtol, atol))


def _check_op(op: Op, params: Mapping[str, Any] | None, inputs: Sequence[Any] | None,
              points: int, exercise: str | None, seed: int, rtol: float,
              atol: float) -> Report:
    if not isinstance(op, Op):
        raise TypeError(f"check_op needs an autograd_core.Op; got {type(op).__name__}")
    params = op.check_params(dict(params or {})) or {}
    rng = np.random.default_rng(seed)
    waiting = _unanswered_rules(op, params)
    if waiting:
        return not_answered(f"op {op.name!r}: the rule for {', '.join(waiting)}", exercise)
    if op.elementwise and _works_on_floats(op, params):
        failure = _check_elementwise(op, params, points, rng, rtol, atol)
    else:
        failure = _check_vjps(op, params, inputs, max(1, min(points, 4)), rng, rtol, atol)
    failure = failure or _check_templates(op, params) or _check_create_graph(op, params, inputs,
                                                                             rng, rtol)
    if failure is not None:
        mistake, summary, lines, *tiers = failure
        hints, reveals = tiers or ([], [])
        return Report(False, summary, lines, mistake, exercise, hints=hints, reveals=reveals)
    kind = "derivative rule" if op.elementwise else "vector-Jacobian product"
    return Report(True, f"op {op.name!r}: every {kind} is right",
                  [f"{op.arity} operand(s) checked "
                   + (f"at {points} points" if op.elementwise else "at random inputs")
                   + "; formulas render; create_graph=True works"], None, exercise)


Failure = tuple
"""``(mistake, summary, lines)``, or ``(mistake, summary, lines, hints, reveals)`` when some
of the feedback would give the expected value away (see :class:`Report`)."""


def _unanswered_rules(op: Op, params: dict[str, Any]) -> list[str]:
    """The derivatives whose rule still returns the placeholder (``...`` or ``None``: a
    student copy's ``def rule(...): ...``), at a harmless point on floats."""
    if not (op.elementwise and _works_on_floats(op, params)):
        return []
    point = [0.5] * op.arity
    with np.errstate(all="ignore"):
        out = op.forward(scalar_math, *point, **params)
    waiting = []
    for k, rule in enumerate(op.derivatives):
        try:
            result = rule(scalar_math, out, *point, **params)
        except Exception:       # noqa: BLE001 - an error is judged (and reported) later
            continue
        if is_unanswered(result):
            waiting.append(_operand(op, k))
    return waiting


def _operand(op: Op, k: int) -> str:
    return f"∂out/∂{op.inputs[k]}" + (f" (operand {k + 1} of {op.arity})" if op.arity > 1
                                      else "")


# -- elementwise rules ----------------------------------------------------------------------
def _works_on_floats(op: Op, params: dict[str, Any]) -> bool:
    """An elementwise op of the scalar kind (``tanh``), not a shape op that broadcasts
    (``expand``), which is checked on arrays."""
    try:
        with np.errstate(all="ignore"):
            op.forward(scalar_math, *[0.5] * op.arity, **params)
    except (AttributeError, TypeError):
        return False
    return True


def _elementwise_points(arity: int, n: int, rng: np.random.Generator) -> list[tuple[float, ...]]:
    if arity == 1:
        special = [(p,) for p in SPECIAL_POINTS]
    else:
        special = [(a, b) for a in (0.0, 1.0, -1.0, 2.0) for b in (0.0, 1.0, -1.0, 0.5)]
    randoms = [tuple(float(v) for v in row) for row in rng.uniform(-3, 3, (n, arity))]
    return (special + randoms)[:max(n, len(special))]


def _check_elementwise(op: Op, params: dict[str, Any], n: int, rng: np.random.Generator,
                       rtol: float, atol: float) -> Failure | None:
    def forward(*args: float) -> float:
        return op.forward(scalar_math, *args, **params)

    grid = _elementwise_points(op.arity, n, rng)
    for k, rule in enumerate(op.derivatives):
        rows = []
        for point in grid:
            s = slope(forward, point, k)
            if s.kind in ("undefined", "unreliable"):
                continue
            out = forward(*point)
            try:
                result = rule(scalar_math, out, *point, **params)
                if isinstance(result, (str, bytes, bytearray)):    # float("1") would pass it
                    raise TypeError(f"the rule returned text ({result!r}), not a number")
                got = float(result)
            except Exception as error:   # noqa: BLE001 - the learner's error is feedback
                got = f"{type(error).__name__}: {error}"
            rows.append((point, s, out, got))
        if not rows:
            raise ValueError(f"op {op.name!r}: its forward is undefined at every point checked")
        failure = _judge_rule(op, k, rule, rows, params, rtol, atol)
        if failure is not None:
            return failure
        failure = _check_on_arrays(op, k, rule, rows, params)
        if failure is not None:
            return failure
    return None


def _where(op: Op, point: Sequence[float]) -> str:
    return ", ".join(f"{name} = {number(v)}" for name, v in zip(op.inputs, point))


def _judge_rule(op: Op, k: int, rule: Any, rows: list[tuple[Any, ...]], params: dict[str, Any],
                rtol: float, atol: float) -> Failure | None:
    title = f"op {op.name!r}: the rule for {_operand(op, k)} is wrong"
    errors = [(point, s, got) for point, s, _, got in rows if isinstance(got, str)]
    if errors:
        point, s, message = errors[0]
        at_kinks = all(s.kind == "kink" for _, s, _ in errors)
        mistake = "kink" if at_kinks and len(errors) < len(rows) else "raised"
        return mistake, f"{title}: {MISTAKES[mistake]}", [
            f"at {_where(op, point)}: {message} (at {len(errors)} of {len(rows)} points)"]
    expected = [s.value for _, s, _, _ in rows]
    low = [s.low if s.kind == "kink" else math.nan for _, s, _, _ in rows]
    high = [s.high if s.kind == "kink" else math.nan for _, s, _, _ in rows]
    comparison = Comparison([got for *_, got in rows], expected,
                            [_where(op, point) for point, *_ in rows], rtol, atol, low, high)
    if comparison.correct().all():
        return None
    # the rule called with the output and this operand swapped: right when the learner used
    # the input where the derivative needs the output (tanh' = 1 - a^2 for 1 - out^2)
    swapped = []
    for point, _, out, _ in rows:
        args = list(point)
        args[k] = out
        try:
            swapped.append(float(rule(scalar_math, point[k], *args, **params)))
        except Exception:    # noqa: BLE001 - a rule that fails this way simply isn't this slip
            swapped.append(math.nan)
    swap = Comparison(swapped, expected, comparison.where, rtol, atol, low, high)
    found = diagnose(comparison, (), "the rule")
    if swap.correct().all():
        return "swapped_output", f"{title}: {MISTAKES['swapped_output']}", [
            f"the rule uses the input {op.inputs[k]} where the derivative needs the output "
            "out; with the two swapped it is right everywhere", *found.lines[1:]], [
            f"for tanh: 1 - out*out, not 1 - {op.inputs[k]}*{op.inputs[k]}"], found.reveals
    return (found.mistake, f"{title}: {MISTAKES[found.mistake]}", found.lines, found.hints,
            found.reveals)


def _check_on_arrays(op: Op, k: int, rule: Any, rows: list[tuple[Any, ...]],
                     params: dict[str, Any]) -> Failure | None:
    """The rule on NumPy arrays (as a Tensor calls it) gives what it gives on floats."""
    points = np.array([point for point, *_ in rows])
    with np.errstate(all="ignore"):
        out = op.forward(array_math, *points.T, **params)
    try:
        got = np.broadcast_to(np.asarray(rule(array_math, out, *points.T, **params), dtype=float),
                              (len(rows),))
    except Exception as error:   # noqa: BLE001 - the learner's error is feedback
        return "raised", f"op {op.name!r}: the rule for {_operand(op, k)} fails on arrays", [
            f"{type(error).__name__}: {error}",
            "a Tensor calls the rule on NumPy arrays: use m.exp, m.where, ... (the math "
            "namespace m), not math.exp or Python's if/else on the operands"]
    scalar = np.array([got_ for *_, got_ in rows], dtype=float)
    differ = ~np.isclose(got, scalar, rtol=1e-9, atol=1e-12, equal_nan=True)
    if differ.any():
        i = int(np.flatnonzero(differ)[0])
        return "wrong", (f"op {op.name!r}: the rule for {_operand(op, k)} gives other numbers "
                         "on arrays"), [f"at {_where(op, rows[i][0])}: {number(scalar[i])} on "
                                        f"floats, {number(got[i])} on arrays"]
    return None


# -- vector-Jacobian products ---------------------------------------------------------------
def _default_inputs(op: Op, params: dict[str, Any], rng: np.random.Generator) -> list[np.ndarray]:
    for shapes in _DEFAULT_SHAPES:
        if len(shapes) != op.arity:
            continue
        arrays = [rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape) for shape in
                  shapes]
        try:
            with np.errstate(all="ignore"):
                op.forward(array_math, *arrays, **params)
        except (ValueError, TypeError, IndexError):
            continue
        return arrays
    raise ValueError(f"check_op: pass inputs= for op {op.name!r} (no default shape fits it)")


def _check_vjps(op: Op, params: dict[str, Any], inputs: Sequence[Any] | None, trials: int,
                rng: np.random.Generator, rtol: float, atol: float) -> Failure | None:
    arrays = ([np.array(getattr(x, "data", x), dtype=float) for x in inputs] if inputs is not None
              else _default_inputs(op, params, rng))
    if len(arrays) != op.arity:
        raise ValueError(f"check_op: op {op.name!r} takes {op.arity} input(s), got {len(arrays)}")
    out = np.asarray(op.forward(array_math, *arrays, **params), dtype=float)
    jacobians = [_numerical_jacobian(op, params, arrays, k) for k in range(op.arity)]
    for _ in range(trials):
        g = rng.normal(size=out.shape)
        for k in range(op.arity):
            expected = (g.reshape(-1) @ jacobians[k]).reshape(arrays[k].shape)
            title = f"op {op.name!r}: the VJP for {_operand(op, k)} is wrong"
            try:
                got = _vjp(op, k, params, arrays, out, g)
            except Exception as error:   # noqa: BLE001 - the learner's error is feedback
                return "raised", f"{title}: {MISTAKES['raised']}", [f"{type(error).__name__}: "
                                                                     f"{error}"]
            if got.shape != expected.shape:
                report = _shape_report(got, expected, [], "the VJP", None)
                return report.mistake, f"{title}: {MISTAKES[report.mistake]}", [
                    *report.details, f"the VJP for {op.inputs[k]} must have {op.inputs[k]}'s "
                    f"shape {expected.shape}"]
            alternatives = ([Alternative("transpose", "the VJP is the transpose of the right "
                                         "one (rows and columns swapped)", expected.T)]
                            if expected.ndim == 2 and expected.shape[0] == expected.shape[1]
                            else [])
            where = [f"{op.inputs[k]}{list(i)}" for i in np.ndindex(expected.shape)] or \
                [op.inputs[k]]
            found = diagnose(Comparison(got, expected, where, rtol, atol), alternatives,
                             "the VJP")
            if not found.passed:
                return (found.mistake, f"{title}: {MISTAKES[found.mistake]}", found.lines,
                        found.hints, found.reveals)
    return None


def _vjp(op: Op, k: int, params: dict[str, Any], arrays: list[np.ndarray], out: np.ndarray,
         g: np.ndarray) -> np.ndarray:
    """``g · ∂out/∂arrays[k]`` as the op's rule gives it: a VJP rule called directly (so a
    result of the wrong shape is seen as it is); a derivative rule through a Tensor's
    backward, which undoes broadcasting."""
    if op.vjps is not None:
        return np.asarray(op.vjps[k](array_math, g, out, *arrays, **params), dtype=float)
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    op(*tensors, **params).backward(Tensor(g))
    return np.asarray(tensors[k].grad.data, dtype=float)


def _numerical_jacobian(op: Op, params: dict[str, Any], arrays: list[np.ndarray],
                        k: int) -> np.ndarray:
    """``∂out/∂arrays[k]`` by central differences: one column per element of the input."""
    x = arrays[k]
    columns = []
    for index in np.ndindex(x.shape):
        h = 1e-6 * max(1.0, abs(float(x[index])))
        moved = [a.copy() for a in arrays]
        moved[k][index] += h
        plus = np.array(op.forward(array_math, *moved, **params), dtype=float)  # a copy: the
        moved[k][index] -= 2 * h                        # forward may return a view of its input
        minus = np.array(op.forward(array_math, *moved, **params), dtype=float)
        columns.append(((plus - minus) / (2 * h)).reshape(-1))
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0))


# -- formulas and create_graph ----------------------------------------------------------------
def _check_templates(op: Op, params: dict[str, Any]) -> Failure | None:
    """Every template names only operands and parameters, and renders."""
    known = set(op.inputs) | set(op.params)
    templates = [("text", op.text), ("latex", op.latex)]
    templates += [(f"derivative_text[{i}]", t) for i, t in enumerate(op.derivative_text)]
    templates += [(f"derivative_latex[{i}]", t) for i, t in enumerate(op.derivative_latex)]
    for name, template in templates:
        unknown = {a or b for a, b in _PLACEHOLDER.findall(template)} - known
        if unknown:
            parameters = ", ".join(op.params) or "none"
            return "wrong", f"op {op.name!r}: the template {name} does not render", [
                f"{template!r} names ${', $'.join(sorted(unknown))}, which is neither an "
                f"operand ({', '.join(op.inputs)}) nor a parameter ({parameters})"]
    try:
        op.formula(params=params), op.formula(latex=True, params=params)
        for k in range(op.arity):
            op.derivative_formula(k, params=params)
            op.derivative_formula(k, latex=True, params=params)
    except (ValueError, KeyError) as error:
        return "wrong", f"op {op.name!r}: a formula template does not render", [str(error)]
    return None


def _check_create_graph(op: Op, params: dict[str, Any], inputs: Sequence[Any] | None,
                        rng: np.random.Generator, rtol: float) -> Failure | None:
    """The op differentiates twice: its rules, run on graph nodes, record a graph whose
    derivative (for an elementwise op) is the numerical derivative of the rule."""
    title = f"op {op.name!r} fails with create_graph=True"
    try:
        if op.elementwise and _works_on_floats(op, params):
            return _second_derivatives(op, params, rng, rtol, title)
        arrays = ([np.array(getattr(x, "data", x), dtype=float) for x in inputs]
                  if inputs is not None else _default_inputs(op, params, rng))
        tensors = [Tensor(a, requires_grad=True) for a in arrays]
        out = op(*tensors, **params)
        (out * Tensor(rng.normal(size=out.shape))).sum().backward(create_graph=True)
        first = [t.grad for t in tensors if t.grad is not None and t.grad.requires_grad]
        for t in tensors:
            t.grad = None
        if first:              # (a linear op's gradient is constant: nothing to differentiate)
            sum(((g * g).sum() for g in first), Tensor(0.0)).backward()
    except Exception as error:    # noqa: BLE001 - the learner's error is feedback
        return "raised", title, [f"{type(error).__name__}: {error}",
                                 "rules must use the math namespace m (m.exp, m.where, ...), "
                                 "which records graph nodes when create_graph=True"]
    return None


def _second_derivatives(op: Op, params: dict[str, Any], rng: np.random.Generator, rtol: float,
                        title: str) -> Failure | None:
    checked = 0
    for point in _elementwise_points(op.arity, 40, rng):
        for k, rule in enumerate(op.derivatives):
            def first(*args: float) -> float:
                return rule(scalar_math, op.forward(scalar_math, *args, **params), *args,
                            **params)
            s = slope(first, point, k)
            if s.kind != "smooth":
                continue
            nodes = [Value(v) for v in point]
            out = op(*nodes, **params)
            out.backward(create_graph=True)
            gradient = nodes[k].grad
            for n in nodes:
                n.grad = 0.0
            if not isinstance(gradient, Value) or not gradient.requires_grad:
                second = 0.0      # a constant first derivative
            else:
                gradient.backward()
                second = float(nodes[k].grad)
            if not abs(second - s.value) <= 1e-4 + rtol * 10 * abs(s.value):
                return "wrong", title, [
                    f"at {_where(op, point)}: the second derivative through the recorded rule "
                    f"is {number(second)}, but the rule's own slope is {number(s.value)}: a "
                    "helper of the rule takes no gradient (mark it constant_result only if its "
                    "result really is constant)"]
            checked += 1
            if checked >= 10 * op.arity:
                return None
    return None
