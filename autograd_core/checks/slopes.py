"""Numerical slopes of a function of floats: the truth a learner's derivative is checked
against when no graph gives it, and the test for a kink.

Where the one-sided slopes ``(f(x) - f(x-h)) / h`` and ``(f(x+h) - f(x)) / h`` differ by more
than their ``O(h)`` error, ``x`` is a kink (``relu`` or ``|x|`` at 0): there is no derivative,
and any value between the two one-sided slopes is a valid choice of one. Elsewhere the
central difference ``(f(x+h) - f(x-h)) / 2h``, accurate to about ``h²``, is trusted when it
agrees with the one at ``2h``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

UNDEFINED_ERRORS = (ArithmeticError, ValueError)
"""What a function raises where it is undefined (``math.log(-1)``, ``1 / 0``)."""


@dataclass
class Slope:
    """The numerical derivative at one point. ``kind`` is ``"smooth"`` (``value`` is the
    derivative), ``"kink"`` (``low``/``high`` are the one-sided slopes), ``"unreliable"`` (the
    estimates disagree without a kink's pattern) or ``"undefined"`` (f is not finite nearby);
    a check may mark a smooth point ``"corrected"`` (``low = high = value``) when it replaces
    another source's derivative by this one."""

    kind: str
    value: float = math.nan
    low: float = math.nan
    high: float = math.nan


def evaluate(f: Callable[..., float], point: Sequence[float]) -> float:
    """``f(*point)`` as a float, or nan where f raises or is not a finite number."""
    try:
        y = float(f(*point))
    except UNDEFINED_ERRORS:
        return math.nan
    return y if math.isfinite(y) else math.nan


def slope(f: Callable[..., float], point: Sequence[float], k: int) -> Slope:
    """The numerical partial derivative ``∂f/∂x_k`` at ``point`` (see the module's doc)."""
    x = float(point[k])
    h = 1e-6 * max(1.0, abs(x))

    def at(t: float) -> float:
        moved = list(point)
        moved[k] = t
        return evaluate(f, moved)

    f0, fp, fm, fp2, fm2 = at(x), at(x + h), at(x - h), at(x + 2 * h), at(x - 2 * h)
    if not all(math.isfinite(v) for v in (f0, fp, fm, fp2, fm2)):
        return Slope("undefined")
    noise = 1e-13 * (1.0 + abs(f0)) / h
    left, right = (f0 - fm) / h, (fp - f0) / h
    if abs(left - right) > 1e-3 * (1.0 + abs(left) + abs(right)) + noise:
        return Slope("kink", (fp - fm) / (2 * h), min(left, right), max(left, right))
    central, wide = (fp - fm) / (2 * h), (fp2 - fm2) / (4 * h)
    if abs(central - wide) <= 1e-6 * (1.0 + abs(central)) + noise:
        return Slope("smooth", central)
    return Slope("unreliable")
