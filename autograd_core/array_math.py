"""NumPy functions for the tensor engine, with PyTorch's IEEE behaviour and no warnings.

The op table's rules call ``m.exp``, ``m.sum`` and so on; for ``Tensor`` data ``m`` is this
module (for Python floats it is :mod:`autograd_core.scalar_math`; with ``create_graph`` it
is a namespace that records ops). ``log(0) = -inf`` and friends are returned silently, as
PyTorch does; the ``errstate`` is local to each call, never global.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .op import constant_result

_quiet = np.errstate(all="ignore")
"""Decorator: IEEE results without warnings inside the call (thread-safe: the state is set
per call, never globally)."""

tanh = np.tanh
sin = np.sin
cos = np.cos
sign = np.sign
where = np.where
matmul = np.matmul
reshape = np.reshape
expand = np.broadcast_to
zeros_like = constant_result(np.zeros_like)


@_quiet
def exp(x: np.ndarray) -> np.ndarray:
    """e**x (``inf`` on overflow)."""
    return np.exp(x)


@_quiet
def log(x: np.ndarray) -> np.ndarray:
    """ln x (``-inf`` at 0, ``nan`` below)."""
    return np.log(x)


@_quiet
def sqrt(x: np.ndarray) -> np.ndarray:
    """√x (``nan`` below 0)."""
    return np.sqrt(x)


@_quiet
def div(a: Any, b: Any) -> np.ndarray:
    """a / b with IEEE division by zero."""
    return np.divide(a, b)


@_quiet
def pow(a: Any, b: Any) -> np.ndarray:  # noqa: A001
    """a ** b elementwise (``nan`` for negative base and fractional exponent)."""
    return np.power(a, b)


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
    """1 where x > 0 else 0, in x's dtype."""
    return (x > 0).astype(np.result_type(x, 1.0))


def indicator(condition: np.ndarray) -> np.ndarray:
    """A 0/1 mask for a derivative: the boolean array itself, which multiplies like 1/0
    without a float copy."""
    return condition


def permute(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Reorder the axes."""
    return np.transpose(x, axes)


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


def mean(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """Arithmetic mean over ``axis``: the sum divided by the number of summed elements."""
    total = np.add.reduce(x, axis=axis, keepdims=keepdims)
    return total / (x.size // max(total.size, 1) if x.size else 0)


def amax(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """Largest element over ``axis``."""
    return x.max(axis=axis, keepdims=keepdims)


def amin(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """Smallest element over ``axis``."""
    return x.min(axis=axis, keepdims=keepdims)


@_quiet
def var(x: np.ndarray, axis: Any = None, keepdims: bool = False, correction: int = 1) -> np.ndarray:
    """Variance Σ(x - mean)² / (N - correction) over ``axis`` (``torch.var``)."""
    return np.var(x, axis=axis, keepdims=keepdims, ddof=correction)


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


def stack(xs: Any, axis: int) -> np.ndarray:
    """Join arrays along a new axis."""
    return np.stack(xs, axis=axis)


def logsumexp(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """ln Σ e^x, computed as max + ln Σ e^(x - max) so that ±1e4 neither over- nor underflows."""
    peak = np.amax(x, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)
    with np.errstate(all="ignore"):
        out = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """x - logsumexp(x) along ``axis``, as (x - max) - ln Σ e^(x - max)."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """e^(x - max) / Σ e^(x - max) along ``axis``."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@constant_result
def tie_mask(x: Any, out: Any, axis: Any, keepdims: bool) -> np.ndarray:
    """For max/min: 1/k at each of the k elements equal to the extreme, else 0."""
    x, out = data(x), data(out)
    hit = (x == expand_reduced(out, np.shape(x), axis, keepdims)).astype(np.result_type(x, 1.0))
    return hit / np.sum(hit, axis=axis, keepdims=True)


maximum = np.maximum
minimum = np.minimum
