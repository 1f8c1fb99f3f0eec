"""Tensor-only ops: linear algebra, reductions, shape changes, indexing and softmax.

Their Jacobians are never formed: each entry gives the vector-Jacobian product
``rule(m, g, out, a[, b], **params) = g · ∂out/∂operand`` directly. Broadcasting is undone
in one place, for elementwise rules (``Tensor``'s binding of them), so no rule here sums over
broadcast axes: ``expand`` is elementwise, with local derivative 1.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .array_math import _quiet, count
from .op import Op

MATMUL = Op("matmul", symbol="@", inputs="a b",
            forward=lambda m, a, b: m.matmul(a, b),
            vjps=(lambda m, g, out, a, b: m.matmul(g, b.mT),
                  lambda m, g, out, a, b: m.matmul(a.mT, g)),
            text="$a @ $b", latex="$a $b",
            derivative_text=("g @ $b^T", "$a^T @ g"),
            derivative_latex=(r"\bar{g}\, $b^{\top}", r"$a^{\top} \bar{g}"))

SUM = Op("sum", symbol="Σ", params="axis keepdims",
         forward=lambda m, a, axis, keepdims: m.sum(a, axis, keepdims),
         vjps=(lambda m, g, out, a, axis, keepdims: _spread(m, g, a.shape, axis, keepdims),),
         text="sum($a, axis=$axis)", latex=r"\sum_{$axis} $a",
         derivative_text=("1 (g broadcast back over axis=$axis)",), derivative_latex=("1",))

MEAN = Op("mean", params="axis keepdims",
          forward=lambda m, a, axis, keepdims: m.mean(a, axis, keepdims),
          vjps=(lambda m, g, out, a, axis, keepdims:
                _spread(m, g, a.shape, axis, keepdims) / (a.size // max(out.size, 1)),),
          text="mean($a, axis=$axis)", latex=r"\frac{1}{N}\sum_{$axis} $a",
          derivative_text=("1/N",), derivative_latex=(r"\frac{1}{N}",))

AMAX = Op("max", params="axis keepdims",
          forward=lambda m, a, axis, keepdims: m.amax(a, axis, keepdims),
          vjps=(lambda m, g, out, a, axis, keepdims:
                _spread(m, g, a.shape, axis, keepdims) * m.tie_mask(a, out, axis, keepdims),),
          text="max($a, axis=$axis)", latex=r"\max_{$axis} $a",
          derivative_text=("1/k at the k maximal elements, else 0",),
          derivative_latex=(r"\tfrac{1}{k}\mathbb{1}[$a = \max]",))

AMIN = Op("min", params="axis keepdims",
          forward=lambda m, a, axis, keepdims: m.amin(a, axis, keepdims),
          vjps=(lambda m, g, out, a, axis, keepdims:
                _spread(m, g, a.shape, axis, keepdims) * m.tie_mask(a, out, axis, keepdims),),
          text="min($a, axis=$axis)", latex=r"\min_{$axis} $a",
          derivative_text=("1/k at the k minimal elements, else 0",),
          derivative_latex=(r"\tfrac{1}{k}\mathbb{1}[$a = \min]",))


def _spread(m: Any, g: Any, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    """The gradient of a reduction over ``axis`` spread back over the input ``shape``: the
    reduced axes put back as 1s, then expanded (written with ops, so it also records them)."""
    return m.expand(m.reshape(g, m.kept_shape(shape, axis, keepdims)), shape)

@_quiet
def _var_vjp(m: Any, g: Any, out: Any, a: Any, axis: Any, keepdims: bool, correction: int) -> Any:
    """g · 2 (a - mean) / (N - correction); N <= correction gives nan (or ±inf) as in PyTorch,
    where the divisor is clamped at 0."""
    dof = max(count(a.shape, axis) - correction, 0)
    return m.div(_spread(m, g, a.shape, axis, keepdims) * (a - m.mean(a, axis, True)),
                 0.5 * dof)


@_quiet
def _logsumexp_vjp(m: Any, g: Any, out: Any, a: Any, axis: Any, keepdims: bool) -> Any:
    """g · e^(a - logsumexp(a)) = g · softmax(a); nan where the result is infinite."""
    return (_spread(m, g, a.shape, axis, keepdims)
            * m.exp(a - _spread(m, out, a.shape, axis, keepdims)))


VAR = Op("var", params="axis keepdims correction",
         forward=lambda m, a, axis, keepdims, correction: m.var(a, axis, keepdims, correction),
         vjps=(_var_vjp,),
         text="var($a, axis=$axis)", latex=r"\operatorname{Var}_{$axis} $a",
         derivative_text=("2 ($a - mean) / (N - $correction)",),
         derivative_latex=(r"\frac{2($a - \mu)}{N - $correction}",))

RESHAPE = Op("reshape", params="shape",
             forward=lambda m, a, shape: m.reshape(a, shape),
             vjps=(lambda m, g, out, a, shape: m.reshape(g, a.shape),),
             text="reshape($a, $shape)", latex=r"\operatorname{reshape}($a)",
             derivative_text=("g reshaped back",), derivative_latex=("1",))

PERMUTE = Op("permute", params="axes",
             forward=lambda m, a, axes: m.permute(a, axes),
             vjps=(lambda m, g, out, a, axes: m.permute(g, tuple(np.argsort(axes))),),
             text="permute($a, $axes)", latex=r"$a^{\top}",
             derivative_text=("g permuted back",), derivative_latex=("1",))

EXPAND = Op("expand", params="shape",
            forward=lambda m, a, shape: m.expand(a, shape),
            derivatives=(lambda m, out, a, shape: 1.0,),   # broadcasting, undone as for any elementwise op
            text="expand($a, $shape)", latex=r"\operatorname{expand}($a)",
            derivative_text=("g summed over the broadcast axes",), derivative_latex=("1",))

GETITEM = Op("getitem", symbol="[]", params="index",
             forward=lambda m, a, index: m.getitem(a, index),
             vjps=(lambda m, g, out, a, index: m.scatter(g, index, a.shape),),
             text="$a[$index]", latex="${a}_{$index}",
             derivative_text=("g scattered back to the indexed positions (repeats add up)",),
             derivative_latex=("1",))

SCATTER = Op("scatter", params="index shape",
             forward=lambda m, a, index, shape: m.scatter(a, index, shape),
             vjps=(lambda m, g, out, a, index, shape: m.getitem(g, index),),
             text="scatter($a, $index)", latex=r"\operatorname{scatter}($a)",
             derivative_text=("g at the indexed positions",), derivative_latex=("1",))

CONCATENATE = Op("concatenate", symbol="concat", inputs="a b", params="axis",
                 forward=lambda m, a, b, axis: m.concatenate((a, b), axis),
                 vjps=(lambda m, g, out, a, b, axis:
                       m.getitem(g, (slice(None),) * axis + (slice(0, a.shape[axis]),)),
                       lambda m, g, out, a, b, axis:
                       m.getitem(g, (slice(None),) * axis + (slice(a.shape[axis], None),))),
                 text="concatenate([$a, $b], axis=$axis)", latex=r"\left[$a, $b\right]",
                 derivative_text=("the first part of g along axis=$axis",
                                  "the second part of g along axis=$axis"),
                 derivative_latex=("1", "1"))

SOFTMAX = Op("softmax", params="axis",
             forward=lambda m, a, axis: m.softmax(a, axis),
             vjps=(lambda m, g, out, a, axis: out * (g - m.sum(g * out, axis, True)),),
             text="softmax($a, axis=$axis)", latex=r"\operatorname{softmax}($a)",
             derivative_text=("s * (g - sum(g * s)) with s = softmax($a)",),
             derivative_latex=(r"s \odot (\bar{g} - \langle \bar{g}, s\rangle)",))

LOG_SOFTMAX = Op("log_softmax", params="axis",
                 forward=lambda m, a, axis: m.log_softmax(a, axis),
                 vjps=(lambda m, g, out, a, axis: g - m.exp(out) * m.sum(g, axis, True),),
                 text="log_softmax($a, axis=$axis)", latex=r"\log\operatorname{softmax}($a)",
                 derivative_text=("g - softmax($a) * sum(g)",),
                 derivative_latex=(r"\bar{g} - \operatorname{softmax}($a) \sum \bar{g}",))

LOGSUMEXP = Op("logsumexp", params="axis keepdims",
               forward=lambda m, a, axis, keepdims: m.logsumexp(a, axis, keepdims),
               vjps=(_logsumexp_vjp,),
               text="logsumexp($a, axis=$axis)", latex=r"\log\sum_{$axis} e^{$a}",
               derivative_text=("softmax($a)",), derivative_latex=(r"\operatorname{softmax}($a)",))

TENSOR_OPS: tuple[Op, ...] = (MATMUL, SUM, MEAN, AMAX, AMIN, VAR, RESHAPE, PERMUTE, EXPAND,
                              GETITEM, SCATTER, CONCATENATE, SOFTMAX, LOG_SOFTMAX,
                              LOGSUMEXP)
"""Every tensor-only op."""
