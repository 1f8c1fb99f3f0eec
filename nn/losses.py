"""Loss functions (``torch.nn.functional``'s names, arguments and defaults), on Tensors and Values.

Every loss takes a prediction ``input`` and a ``target`` and reduces the per-element losses
with ``reduction``: ``"mean"`` (default), ``"sum"`` or ``"none"``.

``input`` may be a ``Tensor``, or Values: one ``Value``, a list of Values (one per sample)
or a list of lists of Values (``[n_samples][n_classes]`` scores, e.g. ``[model(x) for x in X]``
for an ``MLP`` with several outputs). Each formula is written once: the Values are held in a
NumPy object array, on which ``+ - * /`` and ``sum`` act element by element exactly like a
Tensor's ops. With Values, ``reduction="none"`` returns a (nested) list of Values.

``target`` is array-like (list, NumPy array or Tensor). A target that requires grad (a
Tensor with ``requires_grad=True`` for a Tensor input; Values for Values) is differentiated
through where PyTorch does: the probability targets of ``cross_entropy``, and the targets of
``binary_cross_entropy`` and ``binary_cross_entropy_with_logits`` (soft or learned targets,
knowledge distillation); there ∂L/∂target is, e.g., -log_softmax(x)/N for cross-entropy.
Every other target is a constant.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from autograd_core import Tensor, Value

from ._util import is_tensor

__all__ = ["mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "nll_loss", "hinge_loss", "multiclass_hinge_loss", "l2_penalty"]

_REDUCTIONS = ("mean", "sum", "none")
_TINY = math.exp(-100.0)        # log is clamped at -100, as PyTorch's binary_cross_entropy


# -- converting inputs ----------------------------------------------------------------------
def _values_array(x: Any) -> np.ndarray:
    """Values (single, list, nested list) as an object array of Values."""
    arr = np.empty(np.shape(np.asarray(x, dtype=object)), dtype=object)
    flat = np.asarray(x, dtype=object).ravel()
    out = arr.ravel()
    for i, v in enumerate(flat):
        if isinstance(v, Value):
            out[i] = v
        elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            out[i] = Value(float(v), requires_grad=False)
        else:
            raise TypeError(f"input must be a Tensor or (lists of) Values; found an element of "
                            f"type {type(v).__name__}")
    return out.reshape(arr.shape)


def _as_input(x: Any, name: str = "input") -> tuple[Any, bool]:
    """(Tensor or object array of Values, is_tensor)."""
    if is_tensor(x):
        return x, True
    if isinstance(x, Value) or isinstance(x, (list, tuple)):
        try:
            return _values_array(x), False
        except ValueError as exc:     # ragged nested lists
            raise ValueError(f"{name}: rows of different lengths ({exc})") from exc
    raise TypeError(f"{name} must be a Tensor or Values (a Value, a list of Values or a list of "
                    f"lists of Values); got {type(x).__name__}")


def _data(x: Any, is_t: bool) -> np.ndarray:
    if is_t:
        return np.asarray(x.data, dtype=np.float64)
    return np.vectorize(lambda v: v.data, otypes=[np.float64])(x) if x.size else \
        np.zeros(x.shape)


def _target(target: Any, name: str = "target") -> np.ndarray:
    """The target as a NumPy array (no gradient flows into targets)."""
    if is_tensor(target):
        return np.asarray(target.data)
    if isinstance(target, Value):
        return np.asarray(target.data)
    if isinstance(target, (list, tuple)) and any(isinstance(v, Value) for v in np.ravel(
            np.asarray(target, dtype=object))):
        return np.vectorize(lambda v: v.item() if isinstance(v, Value) else float(v),   # the number
                            otypes=[np.float64])(np.asarray(target, dtype=object))
    try:
        arr = np.asarray(target)
    except Exception as exc:
        raise TypeError(f"{name} must be array-like; got {type(target).__name__}") from exc
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers; got dtype {arr.dtype}")
    return arr


def _graded_target(target: Any, is_t: bool) -> Any:
    """The target as a graph operand when it requires grad (a Tensor for a Tensor input, an
    object array of Values for Values), else ``None`` (then it is a constant)."""
    if is_t:
        return target if is_tensor(target) and target.requires_grad else None
    if isinstance(target, (Value, list, tuple)):
        flat = np.ravel(np.asarray(target, dtype=object))
        if any(isinstance(v, Value) and v.requires_grad for v in flat):
            return _values_array(target)
    return None


def _const(arr: np.ndarray, like: Any) -> Any:
    """A constant operand for ``like``: on the tensor path a Tensor (no grad) of ``like``'s
    dtype, so a float32 input gives a float32 loss; the float64 array itself for Values (a
    float when it is 0-d: it may meet a bare Value, which does not combine with arrays)."""
    if is_tensor(like):
        return Tensor(arr, dtype=like.dtype)
    arr = np.asarray(arr, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


def _objects(x: Any) -> Any:
    """``x``, with a bare Value made a 0-d object array again: NumPy returns the element
    itself from arithmetic on a 0-d object array (a single-Value input)."""
    return np.asarray(x, dtype=object) if isinstance(x, Value) else x


def _same_shape(x_shape: tuple[int, ...], t_shape: tuple[int, ...], loss: str) -> None:
    if tuple(x_shape) != tuple(t_shape):
        hint = ""
        if len(x_shape) == len(t_shape) + 1 and x_shape[-1] == 1:
            hint = " (the input has a trailing dimension of size 1: squeeze it or reshape the target)"
        raise ValueError(f"{loss}: target shape {tuple(t_shape)} does not match input shape "
                         f"{tuple(x_shape)}; they must be equal{hint}")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}; got {reduction!r}")


# -- element-wise helpers that work on both carriers -------------------------------------------
def _map(x: Any, is_t: bool, method: str) -> Any:
    if is_t:
        return getattr(x, method)()
    x = _objects(x)
    return np.frompyfunc(lambda v: getattr(v, method)(), 1, 1)(x) if x.size else x


def _sum(x: Any, is_t: bool, axis: int | None = None) -> Any:
    if is_t:
        return x.sum() if axis is None else x.sum(axis=axis)
    if axis is None:
        total = x.sum() if x.size else Value(0.0, requires_grad=False)
        return total if isinstance(total, Value) else Value(float(total), requires_grad=False)
    return x.sum(axis=axis)


def _reduce(loss: Any, is_t: bool, reduction: str) -> Any:
    loss = loss if is_t else _objects(loss)
    if reduction == "none":
        if is_t:
            return loss
        return loss.tolist() if loss.ndim else loss.item()
    total = _sum(loss, is_t)
    if reduction == "sum":
        return total
    n = loss.size if not is_t else int(np.prod(loss.shape))
    return total / n if n else total * float("nan")


def _log_softmax_rows(x: Any, is_t: bool) -> Any:
    """log softmax over the last axis, stably: s_c - (m + log Σ_k exp(s_k - m)), m = max_k s_k."""
    if is_t:
        return x.log_softmax(axis=-1)
    m = _data(x, False).max(axis=-1, keepdims=True)
    shifted = x - m
    lse = np.log(_map(shifted, False, "exp").sum(axis=-1, keepdims=True).astype(object))
    return shifted - lse


def _pick(x: Any, rows: np.ndarray, cols: np.ndarray) -> Any:
    """x[i, cols[i]] for each row i (integer-array indexing on both carriers)."""
    return x[rows, cols]


def _column(v: Any, is_t: bool) -> Any:
    return v.reshape((v.shape[0], 1)) if is_t else v[:, None]


# -- regression ----------------------------------------------------------------------------------
def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    """Mean squared error: ℓ_i = (x_i - y_i)²; mean over all elements by default."""
    _check_reduction(reduction)
    x, is_t = _as_input(input)
    y = _target(target)
    _same_shape(x.shape, y.shape, "mse_loss")
    diff = x - _const(y, x)
    return _reduce(diff * diff, is_t, reduction)


# -- binary classification --------------------------------------------------------------------------
def _weighted(loss: Any, weight: Any, is_t: bool, shape: tuple[int, ...]) -> Any:
    if weight is None:
        return loss
    w = _target(weight, "weight").astype(np.float64)
    try:
        w = np.broadcast_to(w, shape)
    except ValueError:
        raise ValueError(f"weight of shape {w.shape} does not broadcast to the input shape "
                         f"{tuple(shape)}") from None
    return loss * _const(w, loss)


def binary_cross_entropy(input: Any, target: Any, weight: Any = None,
                         reduction: str = "mean") -> Any:
    """ℓ_i = -w_i [y_i log x_i + (1 - y_i) log(1 - x_i)] for probabilities x_i ∈ [0, 1].

    As PyTorch, each log is clamped at -100 so a saturated prediction gives a finite loss.
    """
    _check_reduction(reduction)
    x, is_t = _as_input(input)
    y = _target(target).astype(np.float64)
    _same_shape(x.shape, y.shape, "binary_cross_entropy")
    xd = _data(x, is_t)
    if np.any((xd < 0) | (xd > 1)) or np.any(np.isnan(xd)):
        raise ValueError("binary_cross_entropy: all elements of input should be probabilities "
                         "in [0, 1] (apply sigmoid first, or use binary_cross_entropy_with_logits)")
    if is_t:
        log_x = x.clip(_TINY, 1.0).log()
        log_1mx = (1.0 - x).clip(_TINY, 1.0).log()
    else:
        clamp_log = np.frompyfunc(
            lambda v: v.log() if v.data > _TINY else Value(-100.0, requires_grad=False), 1, 1)
        log_x = clamp_log(x) if x.size else x
        one_minus = _objects(1.0 - x)
        log_1mx = clamp_log(one_minus) if x.size else x
    yg = _graded_target(target, is_t)
    if yg is None:
        loss = -(log_x * _const(y, x) + log_1mx * _const(1.0 - y, x))
    else:                                  # ∂ℓ/∂y = -(log x - log(1 - x)), clamped logs
        loss = -(log_x * yg + log_1mx * (1.0 - yg))
    return _reduce(_weighted(loss, weight, is_t, x.shape), is_t, reduction)


def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None,
                                     reduction: str = "mean", pos_weight: Any = None) -> Any:
    """Sigmoid + binary cross-entropy in one stable formula, on logits x:

    ℓ_i = w_i [(1 - y_i) x_i + (1 + (p - 1) y_i) softplus(-x_i)],   softplus(z) = log(1 + e^z),

    which equals -w_i [p y_i log σ(x_i) + (1 - y_i) log(1 - σ(x_i))] (p = ``pos_weight``,
    default 1) without ever evaluating log(0).
    """
    _check_reduction(reduction)
    x, is_t = _as_input(input)
    y = _target(target).astype(np.float64)
    _same_shape(x.shape, y.shape, "binary_cross_entropy_with_logits")
    yg = _graded_target(target, is_t)
    pw = None if pos_weight is None else _target(pos_weight, "pos_weight").astype(np.float64)
    softplus = _map(-x, is_t, "softplus")
    if yg is None:
        coeff = np.ones_like(y) if pw is None else 1.0 + (pw - 1.0) * y
        loss = x * _const(1.0 - y, x) + softplus * _const(coeff, x)
    else:                                  # ∂ℓ/∂y = -x + (p - 1) softplus(-x)
        coeff = 1.0 if pw is None else 1.0 + yg * _const(np.broadcast_to(pw - 1.0, y.shape), x)
        loss = x * (1.0 - yg) + softplus * coeff
    return _reduce(_weighted(loss, weight, is_t, x.shape), is_t, reduction)


def hinge_loss(input: Any, target: Any, margin: float = 1.0, reduction: str = "mean") -> Any:
    """Binary hinge (SVM) loss for labels y ∈ {-1, +1}: ℓ_i = max(0, margin - y_i x_i).

    Zero only when the score has the right sign *and* a margin of at least ``margin``.
    (PyTorch has no exact equivalent; ``hinge_embedding_loss`` is a different loss.)
    """
    _check_reduction(reduction)
    x, is_t = _as_input(input)
    y = _target(target).astype(np.float64)
    _same_shape(x.shape, y.shape, "hinge_loss")
    if not np.all((y == 1) | (y == -1)):
        bad = np.unique(y[(y != 1) & (y != -1)])[:5]
        raise ValueError(f"hinge_loss: labels must be -1 or +1; found {bad.tolist()} "
                         f"(map 0/1 labels with y = 2*y - 1)")
    loss = _map(float(margin) - x * _const(y, x), is_t, "relu")
    return _reduce(loss, is_t, reduction)


# -- multi-class classification -----------------------------------------------------------------------
def _class_scores(x: Any, is_t: bool, loss: str) -> tuple[Any, bool]:
    """Scores as (N, C); returns (scores, was_unbatched)."""
    if len(x.shape) == 1:
        return (x.reshape((1, x.shape[0])) if is_t else x[None, :]), True
    if len(x.shape) != 2:
        raise ValueError(f"{loss}: input must have shape (N, C) or (C,); got {tuple(x.shape)}")
    return x, False


def _class_indices(y: np.ndarray, n: int, c: int, loss: str, ignore_index: int | None) -> np.ndarray:
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "b"):
        raise TypeError(f"{loss}: class-index targets must be integers; got dtype {y.dtype} "
                        f"(for probabilities pass a target with the input's shape (N, C))")
    y = y.astype(np.int64).reshape(-1) if y.ndim == 0 else y.astype(np.int64)
    if y.shape != (n,):
        raise ValueError(f"{loss}: class-index target must have shape ({n},), one index per "
                         f"sample; got shape {y.shape}")
    valid = y != ignore_index if ignore_index is not None else np.ones(n, dtype=bool)
    bad = valid & ((y < 0) | (y >= c))
    if np.any(bad):
        raise ValueError(f"{loss}: class index {int(y[bad][0])} out of range for {c} classes "
                         f"(expected 0 <= index < {c})")
    return y


def _class_weight(weight: Any, c: int, loss: str) -> np.ndarray:
    if weight is None:
        return np.ones(c)
    w = _target(weight, "weight").astype(np.float64)
    if w.shape != (c,):
        raise ValueError(f"{loss}: weight must have shape ({c},), one per class; got {w.shape}")
    return w


def _nll_from_logp(logp: Any, is_t: bool, y: np.ndarray, w: np.ndarray, ignore_index: int,
                   reduction: str, label_smoothing: float, unbatched: bool) -> Any:
    n, c = logp.shape
    valid = y != ignore_index
    safe_y = np.where(valid, y, 0)
    wy = np.where(valid, w[safe_y], 0.0)                       # w_{y_i}, 0 for ignored rows
    picked = _pick(logp, np.arange(n), safe_y)                  # log p_{i, y_i}
    per = -(picked * _const(wy, logp))
    if label_smoothing > 0:
        smooth = -_sum(logp * _const(w[None, :] * valid[:, None], logp), is_t, axis=1)
        per_all = per * (1 - label_smoothing) + smooth * (label_smoothing / c)
    else:
        per_all = per
    if reduction == "none":
        out = per_all.reshape(()) if (unbatched and is_t) else (per_all[0] if unbatched else per_all)
        return out if is_t else (out if isinstance(out, Value) else out.tolist())
    total = _sum(per_all, is_t)
    if reduction == "sum":
        return total
    return total / float(wy.sum())


def nll_loss(input: Any, target: Any, weight: Any = None, ignore_index: int = -100,
             reduction: str = "mean") -> Any:
    """Negative log-likelihood of log-probabilities: ℓ_i = -w_{y_i} · input[i, y_i].

    ``mean`` divides by Σ_i w_{y_i} over non-ignored samples (PyTorch's weighted mean).
    """
    _check_reduction(reduction)
    x, is_t = _as_input(input)
    x, unbatched = _class_scores(x, is_t, "nll_loss")
    n, c = x.shape
    y = _class_indices(_target(target), n, c, "nll_loss", ignore_index)
    w = _class_weight(weight, c, "nll_loss")
    return _nll_from_logp(x, is_t, y, w, ignore_index, reduction, 0.0, unbatched)


def cross_entropy(input: Any, target: Any, weight: Any = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Any:
    """Softmax cross-entropy on raw scores (logits), via a stable log-softmax:

    log p_ic = s_ic - log Σ_k exp(s_ik)   (computed with the max subtracted first)

    * class-index target y (integers, shape (N,)): ℓ_i = -w_{y_i} log p_{i,y_i};
      ``mean`` divides by Σ_i w_{y_i}; samples with ``y_i == ignore_index`` are skipped.
    * probability target Y (floats, shape (N, C)): ℓ_i = -Σ_c w_c Y_ic log p_ic; ``mean``
      divides by N.

    ``label_smoothing`` ε mixes the target with the uniform distribution: (1 - ε)·target + ε/C.
    """
    _check_reduction(reduction)
    if not 0.0 <= float(label_smoothing) <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1]; got {label_smoothing}")
    x, is_t = _as_input(input)
    input_shape = tuple(x.shape)
    x, unbatched = _class_scores(x, is_t, "cross_entropy")
    n, c = x.shape
    t = _target(target)
    w = _class_weight(weight, c, "cross_entropy")
    logp = _log_softmax_rows(x, is_t)
    if t.dtype.kind == "f" and t.shape == input_shape:
        yg = _graded_target(target, is_t)
        if yg is None:
            probs = t.astype(np.float64).reshape(n, c)
        else:                              # ∂ℓ_i/∂Y_ic = -w_c log p_ic (a learned target)
            probs = yg.reshape((n, c)) if is_t else _objects(yg).reshape(n, c)
        if label_smoothing > 0:
            probs = probs * (1 - label_smoothing) + label_smoothing / c
        weighted = _const(probs * w[None, :], logp) if yg is None else \
            probs * _const(w[None, :], logp)
        per = -_sum(logp * weighted, is_t, axis=1)
        if unbatched and reduction == "none":
            return per.reshape(()) if is_t else per[0]
        return _reduce(per, is_t, reduction)
    if t.dtype.kind == "f":
        raise ValueError(f"cross_entropy: a float target must be class probabilities with the "
                         f"input's shape {(n, c) if not unbatched else (c,)}; got shape {t.shape} "
                         f"(class indices must be integers)")
    y = _class_indices(t, n, c, "cross_entropy", ignore_index)
    return _nll_from_logp(logp, is_t, y, w, ignore_index, reduction, float(label_smoothing),
                          unbatched)


def multiclass_hinge_loss(input: Any, target: Any, margin: float = 1.0,
                          reduction: str = "mean") -> Any:
    """The multiclass SVM loss of the lecture notes, for scores s (N, C) and classes y:

    ℓ_i = Σ_{j ≠ y_i} max(0, margin + s_ij - s_{i,y_i})

    (Unlike PyTorch's ``multi_margin_loss`` there is no division by C.)
    """
    _check_reduction(reduction)
    x, is_t = _as_input(input)
    x, unbatched = _class_scores(x, is_t, "multiclass_hinge_loss")
    n, c = x.shape
    y = _class_indices(_target(target), n, c, "multiclass_hinge_loss", None)
    correct = _pick(x, np.arange(n), y)                           # s_{i, y_i}
    margins = _map(x - _column(correct, is_t) + float(margin), is_t, "relu")
    wrong = np.ones((n, c))
    wrong[np.arange(n), y] = 0.0                                   # leave out j = y_i
    per = _sum(margins * _const(wrong, margins), is_t, axis=1)
    if unbatched and reduction == "none":
        return per.reshape(()) if is_t else per[0]
    return _reduce(per, is_t, reduction)


# -- regularisation -------------------------------------------------------------------------------
def l2_penalty(parameters: Iterable[Any], alpha: float = 1.0) -> Any:
    """The L2 (ridge / weight-decay) penalty α Σ_p p² over every parameter element.

    Add it to the data loss: ``loss = data_loss + l2_penalty(model.parameters(), 1e-4)``;
    its gradient is 2αp (compare ``weight_decay`` in the optimizers, which adds λp).
    """
    params = list(parameters)
    if not params:
        raise ValueError("l2_penalty needs at least one parameter")
    total: Any = None
    for p in params:
        if isinstance(p, Value):
            term = p * p
        elif is_tensor(p):
            term = (p * p).sum()
        else:
            raise TypeError(f"l2_penalty expects Values or Tensors; got {type(p).__name__}")
        total = term if total is None else total + term
    return total * float(alpha)
