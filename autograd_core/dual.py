"""Forward-mode automatic differentiation with dual numbers, on the same op table.

A dual number ``a + a'ε`` (ε² = 0) carries a value and its derivative along one direction.
Every op maps ``(a, a')`` to ``(f(a), Σ ∂f/∂a_i · a_i')``: the *same* local-derivative rules
the reverse-mode engine uses, applied in the forward direction. One forward pass gives the
derivative of every output with respect to one input direction; reverse mode gives the
derivative of one output with respect to every input.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import scalar_math
from .op import Op
from .operators import Operators

_NUMBERS = (int, float, bool, np.integer, np.floating, np.bool_)


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
            if not isinstance(v, _NUMBERS):
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


def _apply(op: Op, *operands: Any, **params: Any) -> Dual:
    """Forward mode through one op: out = f(primals), out' = Σ_i ∂f/∂x_i · x_i'."""
    duals = []
    for x in operands:
        if isinstance(x, Dual):
            duals.append(x)
        elif isinstance(x, _NUMBERS):
            duals.append(Dual(x))
        else:
            return NotImplemented
    primals = [d.primal for d in duals]
    out = op.forward(scalar_math, *primals, **params)
    tangent = 0.0
    for rule, d in zip(op.derivatives, duals):  # type: ignore[arg-type]
        if d.tangent != 0.0:                    # skip: 0 · inf would give nan
            tangent += rule(scalar_math, out, *primals, **params) * d.tangent
    return Dual(out, tangent)


Dual._record = staticmethod(_apply)
