"""NumPy functions for the tensor engine, with PyTorch's IEEE behaviour and no warnings.

The op table's rules call ``m.exp``, ``m.sum`` and so on; for ``Tensor`` data ``m`` is this
module (for Python floats it is :mod:`autograd_core.scalar_math`; with ``create_graph`` it
is a namespace that records ops). ``log(0) = -inf`` and friends are returned silently, as
PyTorch does; the ``errstate`` is local to each call, never global.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .op import constant_result

_quiet = np.errstate(all="ignore")
"""Decorator: IEEE results without warnings inside the call (thread-safe: the state is set
per call, never globally)."""

tanh = np.tanh
sign = np.sign
where = np.where


def reshape(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``x`` with a new shape (a view when possible)."""
    return x.reshape(shape)


def expand(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``x`` broadcast to ``shape``, as an array of its own (a writable copy: gradients that
    come out of it are later kept as leaves' ``.grad``)."""
    out = np.empty(shape, dtype=x.dtype)
    out[...] = x
    return out

zeros_like = constant_result(np.zeros_like)


def _ieee(ufunc: np.ufunc, doc: str) -> Callable[..., np.ndarray]:
    """``ufunc`` with IEEE results and no warnings (the errstate is set per call)."""
    quiet = _quiet(ufunc)
    quiet.__doc__ = doc
    return quiet


exp = _ieee(np.exp, "e**x (``inf`` on overflow).")
sin = _ieee(np.sin, "sin x (``nan`` at ±inf).")
cos = _ieee(np.cos, "cos x (``nan`` at ±inf).")
log = _ieee(np.log, "ln x (``-inf`` at 0, ``nan`` below).")
sqrt = _ieee(np.sqrt, "√x (``nan`` below 0).")
div = _ieee(np.divide, "a / b with IEEE division by zero.")
pow = _ieee(np.power, "a ** b (``nan`` for a negative base and fractional exponent).")  # noqa: A001


matmul = _ieee(np.matmul, "Matrix product ``a @ b`` (``inf · 0 = nan`` and overflow silently).")


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) without overflow: e^-|x| is always <= 1."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(np.result_type(x, 1.0), copy=False)


def softplus(x: np.ndarray) -> np.ndarray:
    """ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|)."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0), propagating nan."""
    return np.maximum(x, 0.0)


def step(x: np.ndarray) -> np.ndarray:
    """1 where x > 0 else 0, in x's dtype; ``nan`` stays ``nan`` (as for floats, and as
    ``torch.heaviside``)."""
    return np.where(x != x, x, (x > 0).astype(np.result_type(x, 1.0)))


def indicator(condition: np.ndarray) -> np.ndarray:
    """A 0/1 mask for a derivative: the boolean array itself, which multiplies like 1/0
    without a float copy."""
    return condition


def permute(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Reorder the axes."""
    return x.transpose(axes)


@_quiet     # inf + -inf = nan and overflow arise silently, as in every op but + - *
def sum(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:  # noqa: A001
    """Sum over ``axis``."""
    return x.sum(axis=axis, keepdims=keepdims)


def kept_shape(shape: tuple[int, ...], axis: Any, keepdims: bool) -> tuple[int, ...]:
    """The shape of a reduction over ``axis`` with the reduced axes kept as 1s."""
    if axis is None:
        return (1,) * len(shape)
    axes = (axis,) if isinstance(axis, int) else axis
    axes = {a % len(shape) for a in axes} if shape else set()
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


@constant_result
def isnan(x: Any) -> Any:
    """``x != x`` elementwise (a mask: it takes no gradient)."""
    return np.isnan(x)


@constant_result
@_quiet
def finite_pow(a: Any, b: Any) -> Any:
    """``a ** b`` is finite, elementwise (a mask: it takes no gradient)."""
    return np.isfinite(np.power(a, b))


@constant_result
def equal(a: Any, b: Any) -> Any:
    """``a == b`` elementwise (a mask: it takes no gradient)."""
    return np.equal(a, b)


def expand_reduced(g: Any, shape: tuple[int, ...], axis: Any, keepdims: bool) -> np.ndarray:
    """Broadcast the gradient of a reduction over ``axis`` back to the input ``shape``."""
    if axis is None:
        out = np.empty(shape, dtype=np.result_type(g, 1.0))
        out[...] = g
        return out
    if not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape)


def getitem(x: np.ndarray, index: Any) -> np.ndarray:
    """``x[index]``."""
    return x[index]


def scatter(g: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices accumulate)."""
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] += g
    else:
        np.add.at(out, index, g)
    return out


def data(x: Any) -> np.ndarray:
    """The raw array behind ``x`` (an ndarray, or a Tensor through ``__array__``)."""
    return np.asarray(x)


def _is_basic(index: Any) -> bool:
    """True for indices of ints, slices, None and Ellipsis only (no repeated elements)."""
    for item in index if isinstance(index, tuple) else (index,):
        if item.__class__ not in BASIC_INDEX_TYPES and not isinstance(item, np.integer):
            return False
    return True


BASIC_INDEX_TYPES = (int, slice, type(None), type(Ellipsis))
"""Index items that select without repeating an element (bool excluded: it adds an axis)."""


def count(shape: tuple[int, ...], axis: Any) -> int:
    """N, the number of elements a reduction over ``axis`` (None: all) combines into one."""
    if axis is None:
        return int(np.prod(shape))
    return int(np.prod([shape[a] for a in axis]))


@_quiet
def mean(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """Arithmetic mean over ``axis``: the sum divided by the number of summed elements
    (``nan`` for none, as 0 / 0)."""
    total = np.add.reduce(x, axis=axis, keepdims=keepdims)
    if x.size:
        return total / (x.size // total.size)
    return div(total, 0.0)


def amax(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """Largest element over ``axis``."""
    return x.max(axis=axis, keepdims=keepdims)


def amin(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """Smallest element over ``axis``."""
    return x.min(axis=axis, keepdims=keepdims)


@_quiet
def var(x: np.ndarray, axis: Any = None, keepdims: bool = False, correction: int = 1) -> np.ndarray:
    """Variance Σ(x - mean)² / max(N - correction, 0) over ``axis`` (``torch.var``): ``nan``
    (or ``inf``) where N <= correction, without NumPy's degrees-of-freedom warning."""
    deviation = x - mean(x, axis, True)
    squares = np.add.reduce(deviation * deviation, axis=axis, keepdims=keepdims)
    return np.divide(squares, max(count(x.shape, axis) - correction, 0))


def clip(x: np.ndarray, low: Any, high: Any) -> np.ndarray:
    """Clamp to [low, high]; ``None`` leaves that side open."""
    if low is None and high is None:
        return x.copy()
    return np.clip(x, low, high)


@constant_result
def in_range(x: Any, low: Any, high: Any) -> np.ndarray:
    """1.0 where low <= x <= high (``None`` = unbounded), else 0.0: the derivative of clip."""
    x = data(x)
    inside = np.ones(np.shape(x), dtype=bool)
    if low is not None:
        inside &= x >= low
    if high is not None:
        inside &= x <= high
    return inside.astype(np.result_type(x, 1.0))


def concatenate(xs: Any, axis: int) -> np.ndarray:
    """Join arrays along an existing axis."""
    return np.concatenate(xs, axis=axis)


@_quiet
def logsumexp(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """ln Σ e^x, computed as max + ln Σ e^(x - max) so that ±1e4 neither over- nor underflows;
    an infinite max is not subtracted (PyTorch's rule), and an empty sum gives -inf."""
    peak = x.max(axis=axis, keepdims=True, initial=-np.inf)
    peak = np.where(np.isfinite(peak), peak, 0)
    out = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else np.squeeze(out, axis=axis)


@_quiet
def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """x - logsumexp(x) along ``axis``, as (x - max) - ln Σ e^(x - max) (``nan`` along an
    axis whose max is infinite, as in PyTorch)."""
    shifted = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@_quiet
def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """e^(x - max) / Σ e^(x - max) along ``axis`` (``nan`` along an axis whose max is
    infinite, as in PyTorch: softmax([-inf, 0]) = [0, 1], softmax([-inf, -inf]) = nan)."""
    e = np.exp(x - x.max(axis=axis, keepdims=True, initial=-np.inf))
    return e / e.sum(axis=axis, keepdims=True)


@constant_result
@_quiet
def tie_mask(x: Any, out: Any, axis: Any, keepdims: bool) -> np.ndarray:
    """For max/min: 1/k at each of the k elements equal to the extreme, else 0 (``nan``
    throughout where the extreme is ``nan``: no element equals it, as in PyTorch)."""
    x, out = data(x), data(out)
    hit = (x == expand_reduced(out, np.shape(x), axis, keepdims)).astype(np.result_type(x, 1.0))
    return hit / np.sum(hit, axis=axis, keepdims=True)


maximum = np.maximum
minimum = np.minimum
