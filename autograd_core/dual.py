"""Forward-mode automatic differentiation with dual numbers, on the same op table.

A dual number ``a + a'ε`` (ε² = 0) carries a value and its derivative along one direction.
Every op maps ``(a, a')`` to ``(f(a), Σ ∂f/∂a_i · a_i')``: the *same* local-derivative rules
the reverse-mode engine uses, applied in the forward direction. One forward pass gives the
derivative of every output with respect to one input direction; reverse mode gives the
derivative of one output with respect to every input.

``observe_forward(observer)`` reports every op evaluated on dual numbers (the step-by-step
forward trace is built on it).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from . import scalar_math
from .numbers import REAL_NUMBER_TYPES, is_zero
from .op import Op
from .operators import Operators, install


class Dual(Operators):
    """A scalar ``primal + tangent·ε``: the value and its directional derivative.

    >>> x = Dual(3.0, 1.0)            # seed dx/dx = 1
    >>> y = x * x + 2 * x
    >>> (y.primal, y.tangent)         # y = 15, dy/dx = 2x + 2 = 8
    (15.0, 8.0)
    """

    __slots__ = ("primal", "tangent", "label")

    def __init__(self, primal: Any, tangent: Any = 0.0, label: str | None = None) -> None:
        for name, v in (("primal", primal), ("tangent", tangent)):
            if not isinstance(v, REAL_NUMBER_TYPES):
                raise TypeError(f"Dual {name} must be a real number, got {type(v).__name__}")
        self.primal = float(primal)
        self.tangent = float(tangent)
        self.label = label

    @property
    def data(self) -> float:
        """The primal value (the same attribute name as ``Value.data``)."""
        return self.primal

    def __repr__(self) -> str:
        return f"Dual(primal={self.primal:.6g}, tangent={self.tangent:.6g})"


@dataclass(frozen=True)
class TangentStep:
    """One op evaluated on dual numbers: ``tangent = Σ locals[i] · operands[i].tangent``
    (terms whose operand tangent is 0 are left out, so ``0 · inf`` never appears)."""

    op: Op
    params: dict[str, Any]
    operands: tuple[Dual, ...]
    locals: tuple[Any, ...]
    result: Dual


_watchers = threading.local()


@contextmanager
def observe_forward(observer: Callable[[TangentStep], None]) -> Iterator[None]:
    """Call ``observer`` with a :class:`TangentStep` for every op evaluated on dual numbers in
    this thread inside the block."""
    previous = getattr(_watchers, "observer", None)
    _watchers.observer = observer
    try:
        yield
    finally:
        _watchers.observer = previous


def _apply(op: Op, a: Any, b: Any = None, params: dict[str, Any] | None = None) -> Any:
    """Forward mode through one op: out = f(primals), out' = Σ_i ∂f/∂x_i · x_i'."""
    if op.derivatives is None:
        raise TypeError(f"op {op.name!r} has no elementwise local derivative: forward mode on "
                        "dual numbers needs one")
    duals = []
    for x in (a, b)[:op.arity]:
        if isinstance(x, Dual):
            duals.append(x)
        elif isinstance(x, REAL_NUMBER_TYPES):
            duals.append(Dual(x))
        else:
            return NotImplemented
    params = params or {}
    primals = [d.primal for d in duals]
    out = op.forward(scalar_math, *primals, **params)
    tangent = 0.0
    locals_ = []
    for rule, d in zip(op.derivatives, duals):
        local = rule(scalar_math, out, *primals, **params)
        locals_.append(local)
        if not is_zero(d.tangent):               # skip: 0 · inf would give nan
            tangent += local * d.tangent
    result = Dual(out, tangent)
    observer = getattr(_watchers, "observer", None)
    if observer is not None:
        observer(TangentStep(op, dict(params), tuple(duals), tuple(locals_), result))
    return result


Dual._apply = staticmethod(_apply)
install(Dual)
