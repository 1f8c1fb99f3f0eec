"""Every op of both tables, applied to tensors by the engine and by an independent oracle (HIPS
``autograd.numpy``): one case per op, with inputs inside its domain and away from its kinks.

Each case is ``(engine(x[, y]), oracle(x[, y]), inputs)``. Tests use it to check the first and
second derivatives of every op, and to trace and draw every op; a test asserts that every op
of the tables has a case, so a new op cannot be forgotten here.
"""
from __future__ import annotations

from typing import Any, Callable

import autograd.numpy as anp
import numpy as np

from autograd_core import ALL_OPS, Op, concatenate, maximum, minimum, where
from autograd_core.tensor_ops import SCATTER

rng = np.random.default_rng(7)
X = rng.uniform(0.3, 1.7, size=(2, 3))            # positive, away from 0 and 1
Y = rng.uniform(-1.5, -0.2, size=(2, 3))           # negative: away from X everywhere
SIGNED = np.array([[-1.3, 0.7, -0.4], [0.9, -0.6, 1.2]])   # away from the kinks at 0
COND = np.array([[True, False, True], [False, True, False]])
ROW = np.array([0.4, -0.8, 1.1])

Case = tuple[Callable[..., Any], Callable[..., Any], tuple[np.ndarray, ...]]


def _oracle_softmax(a: Any, axis: int) -> Any:
    e = anp.exp(a - anp.max(a, axis=axis, keepdims=True))
    return e / anp.sum(e, axis=axis, keepdims=True)


def _oracle_logsumexp(a: Any, axis: int) -> Any:
    return anp.log(anp.sum(anp.exp(a), axis=axis))


def _oracle_scatter(g: Any) -> Any:
    """Zeros of shape (2, 3) with g at [[0, 1], [2, 0]] (what SCATTER(index, shape) computes)."""
    mask = np.zeros((2, 2, 3))
    mask[0, 0, 2] = mask[1, 1, 0] = 1.0                    # g[k] lands at (row k, column idx[k])
    return anp.sum(g[:, None, None] * mask, axis=0)


CASES: dict[str, Case] = {
    "add": (lambda x, y: x + y, lambda x, y: x + y, (X, ROW)),           # broadcast
    "sub": (lambda x, y: x - y, lambda x, y: x - y, (X, Y)),
    "mul": (lambda x, y: x * y, lambda x, y: x * y, (X, ROW)),
    "div": (lambda x, y: x / y, lambda x, y: x / y, (X, Y)),
    "pow": (lambda x, y: x ** y, lambda x, y: x ** y, (X, Y)),
    "neg": (lambda x: -x, lambda x: -x, (X,)),
    "abs": (lambda x: abs(x), anp.abs, (SIGNED,)),
    "exp": (lambda x: x.exp(), anp.exp, (X,)),
    "log": (lambda x: x.log(), anp.log, (X,)),
    "sqrt": (lambda x: x.sqrt(), anp.sqrt, (X,)),
    "tanh": (lambda x: x.tanh(), anp.tanh, (SIGNED,)),
    "sigmoid": (lambda x: x.sigmoid(), lambda a: 0.5 * (anp.tanh(a / 2) + 1), (SIGNED,)),
    "relu": (lambda x: x.relu(), lambda a: a * (a > 0), (SIGNED,)),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda a: anp.where(a > 0, a, 0.1 * a), (SIGNED,)),
    "softplus": (lambda x: x.softplus(), lambda a: anp.logaddexp(0.0, a), (SIGNED,)),
    "sin": (lambda x: x.sin(), anp.sin, (SIGNED,)),
    "cos": (lambda x: x.cos(), anp.cos, (SIGNED,)),
    "step": (lambda x: x.step() * x, lambda a: (a > 0) * a, (SIGNED,)),
    "sign": (lambda x: x.sign() * x, lambda a: anp.sign(a) * a, (SIGNED,)),
    "where": (lambda x, y: where(COND, x, y), lambda x, y: anp.where(COND, x, y), (X, Y)),
    "maximum": (maximum, anp.maximum, (X, Y)),
    "minimum": (minimum, anp.minimum, (X, Y)),
    "clip": (lambda x: x.clip(-0.5, 1.0), lambda a: anp.clip(a, -0.5, 1.0), (SIGNED,)),
    "matmul": (lambda x, y: x @ y.T, lambda x, y: anp.dot(x, y.T), (X, Y)),
    "sum": (lambda x: x.sum(axis=1), lambda a: anp.sum(a, axis=1), (X,)),
    "mean": (lambda x: x.mean(axis=0), lambda a: anp.mean(a, axis=0), (X,)),
    "max": (lambda x: x.max(axis=1), lambda a: anp.max(a, axis=1), (X,)),
    "min": (lambda x: x.min(axis=0), lambda a: anp.min(a, axis=0), (X,)),
    "var": (lambda x: x.var(axis=1), lambda a: anp.var(a, axis=1, ddof=1), (X,)),
    "reshape": (lambda x: x.reshape(3, 2), lambda a: anp.reshape(a, (3, 2)), (X,)),
    "permute": (lambda x: x.permute(1, 0), lambda a: anp.transpose(a, (1, 0)), (X,)),
    "expand": (lambda x: x.reshape(1, 2, 3).expand(4, 2, 3),
               lambda a: anp.reshape(a, (1, 2, 3)) * anp.ones((4, 2, 3)), (X,)),
    "getitem": (lambda x: x[[0, 1, 1], [2, 0, 0]], lambda a: a[[0, 1, 1], [2, 0, 0]], (X,)),
    "scatter": (lambda g: SCATTER(g, index=(np.array([0, 1]), np.array([2, 0])), shape=(2, 3)),
                _oracle_scatter, (ROW[:2],)),
    "concatenate": (lambda x, y: concatenate([x, y], axis=1),
                    lambda x, y: anp.concatenate([x, y], axis=1), (X, Y)),
    "softmax": (lambda x: x.softmax(axis=1), lambda a: _oracle_softmax(a, 1), (SIGNED,)),
    "log_softmax": (lambda x: x.log_softmax(axis=0), lambda a: anp.log(_oracle_softmax(a, 0)),
                    (SIGNED,)),
    "logsumexp": (lambda x: x.logsumexp(axis=1), lambda a: _oracle_logsumexp(a, 1), (SIGNED,)),
}


def every_op() -> tuple[Op, ...]:
    """The ops of both tables."""
    return ALL_OPS
