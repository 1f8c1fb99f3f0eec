"""IEEE-754 float functions for the scalar engine: NumPy/PyTorch results, never an exception.

Python's ``math`` raises where NumPy returns ``inf``/``nan`` (``math.log(0)``, ``1 / 0``,
``math.exp(1000)``, ``(-8) ** (1/3)`` giving a complex number). An op's forward and its
local derivatives are written once against a small namespace (``m.exp``, ``m.log``, ...);
for Python floats that namespace is this module.
"""
from __future__ import annotations

import math

from .op import constant_result

inf = math.inf
nan = math.nan
_copysign = math.copysign
_isnan = math.isnan
_exp = math.exp
_log = math.log
_log1p = math.log1p


def exp(x: float) -> float:
    """e**x; ``inf`` on overflow."""
    try:
        return _exp(x)
    except OverflowError:
        return inf


def log(x: float) -> float:
    """Natural logarithm; ``log(0) = -inf``, ``log(x<0) = nan``."""
    if x > 0.0:
        return _log(x)
    if x == 0.0:
        return -inf
    return nan  # negative or nan


def log1p(x: float) -> float:
    """log(1 + x), accurate for small x; ``-inf`` at -1, ``nan`` below."""
    if x > -1.0:
        return _log1p(x)
    if x == -1.0:
        return -inf
    return nan


def sqrt(x: float) -> float:
    """Square root; ``nan`` for negative x."""
    return math.sqrt(x) if x >= 0.0 else nan if x == x else x


def div(a: float, b: float) -> float:
    """a / b with IEEE division by zero: ``±inf`` for a ≠ 0, ``nan`` for 0/0."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0.0 or a != a:
            return nan
        return _copysign(inf, a) * _copysign(1.0, b)


def pow(a: float, b: float) -> float:  # noqa: A001 - mirrors math.pow
    """a ** b as ``numpy.power`` on floats: ``nan`` for a negative base and fractional
    exponent, ``inf`` for 0 ** negative and on overflow."""
    try:
        return math.pow(a, b)
    except OverflowError:
        # |result| too large; the sign is negative only for a negative base and odd integer b
        odd = b == int(b) and int(b) % 2 == 1
        return -inf if (a < 0.0 and odd) else inf
    except ValueError:
        if a == 0.0 and b < 0.0:
            odd = b == int(b) and int(b) % 2 == 1
            return _copysign(inf, a) if odd else inf
        return nan


def tanh(x: float) -> float:
    """Hyperbolic tangent (stable everywhere: ±1 for large |x|)."""
    return math.tanh(x)


def sigmoid(x: float) -> float:
    """Logistic function 1 / (1 + e^-x), evaluated so that exp never overflows."""
    if x >= 0.0:
        return 1.0 / (1.0 + _exp(-x))
    if x != x:
        return x
    e = exp(x)
    return e / (1.0 + e)


def softplus(x: float) -> float:
    """ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|): exact for large |x|, never overflows."""
    if x != x:
        return x
    return (x if x > 0.0 else 0.0) + _log1p(_exp(-abs(x)))


def sin(x: float) -> float:
    """Sine; ``nan`` for infinite x."""
    return math.sin(x) if abs(x) != inf else nan


def cos(x: float) -> float:
    """Cosine; ``nan`` for infinite x."""
    return math.cos(x) if abs(x) != inf else nan


def step(x: float) -> float:
    """Unit step (Heaviside): 1 for x > 0, else 0 (``nan`` stays ``nan``)."""
    return 1.0 if x > 0.0 else (x if x != x else 0.0)


def indicator(condition: bool) -> float:
    """1.0 if ``condition`` else 0.0."""
    return 1.0 if condition else 0.0


def sign(x: float) -> float:
    """-1, 0 or 1 by the sign of x (``nan`` stays ``nan``)."""
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else (x if x != x else 0.0)


def relu(x: float) -> float:
    """max(x, 0), propagating ``nan`` like ``torch.relu``."""
    return 0.0 if x <= 0.0 else x


def where(condition: bool, a: float, b: float) -> float:
    """``a`` if ``condition`` else ``b`` (the scalar form of ``numpy.where``)."""
    return a if condition else b


@constant_result
def isnan(x: float) -> bool:
    """True for ``nan``."""
    return x != x


@constant_result
def finite_pow(a: float, b: float) -> bool:
    """True where a ** b is finite (a condition: it takes no gradient)."""
    return math.isfinite(pow(a, b))


@constant_result
def equal(a: float, b: float) -> bool:
    """``a == b`` (a condition: it takes no gradient)."""
    return a == b


@constant_result
def zeros_like(x: float) -> float:
    """0.0 (the derivative of a piecewise-constant function)."""
    return 0.0


def maximum(a: float, b: float) -> float:
    """The larger of a and b (``nan`` if either is ``nan``, as ``numpy.maximum``)."""
    return a if a > b or a != a else b


def minimum(a: float, b: float) -> float:
    """The smaller of a and b (``nan`` if either is ``nan``, as ``numpy.minimum``)."""
    return a if a < b or a != a else b


def clip(x: float, low: float | None, high: float | None) -> float:
    """x clamped into [low, high]; ``None`` leaves that side open."""
    if low is not None and x < low:
        return float(low)
    if high is not None and x > high:
        return float(high)
    return x


@constant_result
def in_range(x: float, low: float | None, high: float | None) -> float:
    """1.0 where low <= x <= high (``None`` = unbounded), else 0.0: the derivative of clip."""
    return 1.0 if (low is None or x >= low) and (high is None or x <= high) else 0.0
