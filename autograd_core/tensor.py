"""``Tensor``: a NumPy array in the computation graph, on the same machinery as ``Value``.

Ops come from the same table as ``Value`` (``ops.py``, elementwise, with broadcasting) plus
``tensor_ops.py`` (matmul, reductions, shapes, indexing, softmax). Backward is the same loop
in ``graph.py``. A tensor's local derivative is an array for an elementwise op, with
broadcasting undone in one place (:func:`_unbroadcast`), and a linear map for the other ops:
``upstream * local`` applies the op's vector-Jacobian product.
"""
from __future__ import annotations

from itertools import count
from typing import Any, Iterable, Sequence

import numpy as np

from . import array_math
from ._state import DEFAULT_MODE, open_contexts, state
from .graph import Node, backward
from .numbers import REAL_NUMBER_TYPES, check_flag, float_of_node
from .op import Bound, GraphMath, Op, bind
from .operators import Operators, install
from .ops import CLIP, MAXIMUM, MINIMUM, TENSOR_ELEMENTWISE_OPS, WHERE
from .tensor_ops import (AMAX, AMIN, CONCATENATE, EXPAND, GETITEM, LOG_SOFTMAX, LOGSUMEXP,
                         MATMUL, MEAN, PERMUTE, RESHAPE, SOFTMAX, SUM, TENSOR_OPS, VAR)

_FLOAT_KINDS = "f"
_FLOAT64 = np.dtype(np.float64)
_new = object.__new__


def _as_array(data: Any, dtype: Any) -> np.ndarray:
    """Tensor data as a float ndarray; TypeError naming the type for anything else."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind not in _FLOAT_KINDS:
            raise TypeError(f"Tensor holds floating-point data; dtype {dtype} was requested "
                            "(use float32 or float64)")
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as err:
        try:        # a list of 0-d Tensors (NumPy takes their len() for a sequence's)
            array = np.asarray(_unwrap_tensors(data)) if isinstance(data, (list, tuple)) else None
        except (TypeError, ValueError):
            array = None
        if array is None:
            raise TypeError(f"cannot make a Tensor from {type(data).__name__}: {err}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Tensor holds real numbers; got {type(data).__name__} with dtype "
                        f"{array.dtype} (object, string and complex data are not supported)")
    if dtype is None:
        dtype = array.dtype if array.dtype.kind == "f" else np.dtype(np.float64)
    return np.array(array, dtype=dtype)   # always a copy: the tensor owns its data


def _unwrap_tensors(items: list[Any] | tuple[Any, ...]) -> Any:
    """A nested list with each Tensor in it replaced by its data (as ``torch.tensor`` of a
    list of tensors: the values are copied, the history is not)."""
    return [x.data if isinstance(x, Tensor) else
            _unwrap_tensors(x) if isinstance(x, (list, tuple)) else x for x in items]


def _unbroadcast(m: Any, g: Any, shape: tuple[int, ...]) -> Any:
    """Undo broadcasting: sum ``g`` over the axes that broadcasting added or stretched, so it
    has ``shape`` (on arrays, or on Tensors with ``create_graph``: ``m`` is their namespace)."""
    extra = g.ndim - len(shape)
    axes = tuple(range(extra))
    if 1 in shape:
        axes += tuple(i + extra for i, n in enumerate(shape) if n == 1 and g.shape[i + extra] != 1)
    if axes:
        g = m.sum(g, axes, True)
    return g if g.shape == shape else m.reshape(g, shape)


class _Unbroadcast:
    """The local derivative of an elementwise op whose operand was broadcast: the upstream
    gradient times ``local``, summed back to the operand's ``shape``."""

    __slots__ = ("m", "shown", "shape")
    __array_ufunc__ = None               # ndarray * this defers to __rmul__

    def __init__(self, m: Any, local: Any, shape: tuple[int, ...]) -> None:
        self.m, self.shown, self.shape = m, local, shape

    def __rmul__(self, upstream: Any) -> Any:
        local = self.shown
        product = upstream if local.__class__ is float and local == 1.0 else upstream * local
        return _unbroadcast(self.m, product, self.shape)


class _Identity:
    """The local derivative 1 of an operand of the output's shape: passes the gradient on."""

    __slots__ = ()
    __array_ufunc__ = None
    shown = 1.0

    def __rmul__(self, upstream: Any) -> Any:
        return upstream


_IDENTITY = _Identity()


class _VectorJacobianProduct:
    """The local derivative of a non-elementwise op, as the linear map it is:
    ``upstream * this`` is the op's vjp rule ``rule(m, upstream, out, a[, b], **params)``
    (summed back to the operand's shape when the op broadcast it, as batched matmul does)."""

    __slots__ = ("rule", "m", "out", "operands", "params", "position")
    __array_ufunc__ = None
    shown = None                          # never formed as a matrix

    def __init__(self, rule: Any, m: Any, out: Any, operands: tuple[Any, ...],
                 params: dict[str, Any], position: int) -> None:
        self.rule, self.m, self.out, self.operands = rule, m, out, operands
        self.params, self.position = params, position

    def __rmul__(self, upstream: Any) -> Any:
        product = self.rule(self.m, upstream, self.out, *self.operands, **self.params)
        shape = self.operands[self.position].shape
        return product if product.shape == shape else _unbroadcast(self.m, product, shape)


def _tensor_rule(op: Op) -> Any:
    """How a tensor node's backward rule ``rule(m, out, a, b)`` is made from the op's rule (see
    :func:`bind`): an elementwise local derivative, with broadcasting undone, or the op's
    vector-Jacobian product as a linear map."""
    unary = op.arity == 1

    def vjp(rule: Any, position: int) -> Any:
        def local(m: Any, out: Any, a: Any, b: Any, **params: Any) -> Any:
            return _VectorJacobianProduct(rule, m, out, (a,) if unary else (a, b), params,
                                          position)
        return local

    def elementwise(rule: Any, position: int) -> Any:
        def local(m: Any, out: Any, a: Any, b: Any, **params: Any) -> Any:
            if params:
                value = rule(m, out, a, **params) if unary else rule(m, out, a, b, **params)
            else:
                value = rule(m, out, a) if unary else rule(m, out, a, b)
            shape = (b if position else a).shape
            if out.shape != shape:
                return _Unbroadcast(m, value, shape)
            return _IDENTITY if value.__class__ is float and value == 1.0 else value
        return local

    return elementwise if op.derivatives is not None else vjp


def _normalize_axis(axis: Any, ndim: int, what: str = "reduction") -> Any:
    """None, or a sorted tuple of non-negative axes; ValueError if out of range or repeated,
    TypeError if not an int, a tuple (or list) of ints, or None.

    A 0-d tensor accepts axis 0 and -1 as in PyTorch (``torch.sum(torch.tensor(3.), 0)``):
    they name its one element, so they normalize to None (all axes).
    """
    if axis is None:
        return None
    if axis.__class__ is int and -ndim <= axis < ndim:      # the common case, checked cheaply
        return (axis % ndim,)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else \
        tuple(axis) if isinstance(axis, (tuple, list)) else None
    if axes is None or any(not _is_int(a) for a in axes):
        raise TypeError(f"{what}: axis must be an int, a tuple of ints or None; got "
                        f"{type(axis).__name__} {axis!r}")
    out = [_normalize_dim(a, ndim, what) for a in axes]
    if len(set(out)) != len(out):
        raise ValueError(f"{what}: repeated axis in {axis}")
    return None if ndim == 0 else tuple(sorted(out))


def _is_int(x: Any) -> bool:
    """True for Python and NumPy integers (bool excluded: it is not a dimension)."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _one_axis(axis: Any, ndim: int, what: str) -> Any:
    """The one axis softmax-like ops work along: an int in [0, ndim), or None on a 0-d tensor."""
    if axis.__class__ is int and -ndim <= axis < ndim:      # the common case, checked cheaply
        return axis % ndim
    if axis is None:
        raise TypeError(f"{what}: axis must be an int (it normalizes along one dimension); got None")
    dim = _normalize_dim(axis, ndim, what)
    return dim if ndim else None


def _normalize_dim(dim: Any, ndim: int, what: str, shape: tuple[int, ...] | None = None) -> int:
    """One dimension index in [-ndim, ndim) as a non-negative int (0 on a 0-d tensor, which
    accepts 0 and -1 like PyTorch); TypeError/ValueError naming ``what`` otherwise."""
    if dim.__class__ is not int and not _is_int(dim):
        raise TypeError(f"{what}: an axis must be an int; got {type(dim).__name__} {dim!r}")
    span = max(ndim, 1)
    if not -span <= dim < span:
        of = f"shape {shape}" if shape is not None else \
            f"a tensor with {ndim} dimension{'s' if ndim != 1 else ''}"
        raise ValueError(f"{what}: axis {dim} is out of range for {of} "
                         f"(expected {-span} to {span - 1})")
    return int(dim) % span


class Tensor(Operators, Node):
    """An n-dimensional array in a computation graph (float64 unless float32 is asked for).

    ``requires_grad=True`` marks a leaf whose gradient backward should compute; results of
    ops on such tensors record the op. Leaves keep ``.grad`` (an ndarray, accumulated across
    backward calls, ``None`` before the first); other tensors keep it only after
    :meth:`retain_grad`, as in PyTorch. ``float(t)`` and ``math.*`` refuse a tensor that
    requires grad while grad mode is on (a TypeError naming the op, ``t.exp()``; PyTorch
    lets the number leave the graph silently): ``t.item()`` gives the number.
    """

    __slots__ = ("_retains_grad", "_freed", "_made_at", "_modified_at")
    _raw_math = array_math
    _retain_graph_default = False
    _releases_grads = True
    _quiet_arithmetic = staticmethod(lambda: np.errstate(all="ignore"))
    __array_ufunc__ = None          # ndarray (op) Tensor defers to Tensor's reflected operators

    def __new__(cls, data: Any, requires_grad: bool = False, dtype: Any = None,
                label: str | None = None) -> Tensor:
        return _node(_as_array(data, dtype), None, None, None,
                     check_flag(requires_grad, "requires_grad"), None if label is None else str(label))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self.data,)

    # -- array protocol -------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """float64 or float32 (the gradient has the same dtype)."""
        return self.data.dtype

    @property
    def size(self) -> int:
        """Number of elements."""
        return self.data.size

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element; this one has shape {self.shape}")
        return float(self.data.reshape(()))

    def __float__(self) -> float:
        """``float(t)`` of a one-element tensor (``item()``; ValueError for any other shape).
        A tensor that requires grad, while grad mode is on, is refused with a TypeError naming
        the op to use (``math.exp(t)``: ``t.exp()``), since the float would silently leave the
        graph; use :meth:`item` for the number, or convert under ``no_grad()``."""
        if self.requires_grad:
            return float_of_node(self)
        return self.item()

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (the same memory, like ``torch.Tensor.numpy``). Refused for a
        tensor that requires grad, as in PyTorch: editing that array would change the values
        every graph built from it differentiates at. Use ``detach().numpy()`` for a copy."""
        if self.requires_grad:
            raise RuntimeError("numpy() on a tensor that requires grad: editing its array in "
                               "place would silently change the gradients of every graph built "
                               "from it. Use t.detach().numpy() for a copy (or read t.data)")
        return self.data

    def mark_modified(self) -> None:
        """Say that this tensor's data was changed in place (``t.data[...] = ...``): a graph
        built from it before then refuses to backward, since its gradient would be taken at
        the new values (PyTorch's version counter does the same). The optimizers, ``nn.init``
        and ``load_state_dict`` call it."""
        self._modified_at = _stamp()

    def tolist(self) -> Any:
        """The data as (nested) Python lists of floats."""
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __bool__(self) -> bool:
        """The truth of a one-element tensor's value (as ``torch.Tensor``); without this,
        Python would fall back on ``len()``."""
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} ({self.size} "
                             "elements) is ambiguous: use .any() or .all() on its data, or "
                             "compare one element")
        return bool(self.data.reshape(()))

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4, prefix="Tensor(")
        extras = []
        if self.dtype != np.float64:
            extras.append(f"dtype={self.dtype}")
        if self._bound is not None:
            extras.append(f"op={self.op.name}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.label:
            extras.append(f"label={self.label!r}")
        return f"Tensor({body}{''.join(', ' + e for e in extras)})"

    # -- graph plumbing -------------------------------------------------------------------
    def _seed(self, gradient: Any, create_graph: bool) -> Any:
        """The starting gradient ∂L/∂self: 1 for a one-element tensor, else ``gradient``
        (same shape, real dtype; always copied, so the caller's array is never aliased)."""
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: no leaf "
                               "with requires_grad=True contributed to it (was it computed "
                               "under no_grad()?)")
        if gradient is None:
            if self.size != 1:
                raise RuntimeError(f"backward() without a gradient needs a scalar output; this "
                                   f"tensor has shape {self.shape}. Reduce it (e.g. .sum()) or "
                                   "pass gradient= of the same shape")
            seed: Any = np.ones(self.shape, dtype=self.dtype)
        elif isinstance(gradient, Tensor) and create_graph:
            seed = gradient
        else:
            raw = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient)
            if raw.dtype.kind not in "biuf":
                raise TypeError(f"backward(gradient=...) needs real numbers; got dtype "
                                f"{raw.dtype} (object, string and complex gradients are refused)")
            seed = np.array(raw, dtype=self.dtype)
        if seed.shape != self.shape:
            raise ValueError(f"gradient has shape {seed.shape} but the tensor has shape {self.shape}")
        if create_graph and not isinstance(seed, Tensor):
            seed = _node(seed, None, None, None, False, None)   # the seed joins the gradient graph
        return seed

    def _check_graph(self, order: list[Any], observed: bool) -> None:
        for node in order:
            if node._bound is None:
                continue
            if node._freed and not observed:  # a trace may walk a graph again: data is kept
                raise RuntimeError(
                    f"Trying to backward through the graph a second time (op {node.op.name!r}): "
                    "its saved values were freed by the first backward. Pass retain_graph=True "
                    "to the first backward() if you need to call backward through it again.")
            a, b, made = node._a, node._b, node._made_at
            if a._modified_at > made or (b is not None and b._modified_at > made):
                changed = a if a._modified_at > made else b
                name = f" {changed.label!r}" if changed.label else ""
                raise RuntimeError(
                    f"a tensor{name} of shape {changed.shape} used by op {node.op.name!r} "
                    "was modified in place after the graph was built (mark_modified, e.g. "
                    "an optimizer step): backward would give the gradient at the new values. "
                    "Compute the loss again after changing the data")

    def _end_backward(self, order: list[Any], retain_graph: bool) -> None:
        """Each gradient kept after the pass (leaves, retained nodes) becomes an array of
        the tensor's dtype that no other gradient or caller shares (a NumPy scalar, from
        0-d arithmetic such as float32 · a float64 local derivative, too)."""
        kept: set[int] = set()
        for node in order:
            grad = node.grad
            if grad is not None:
                if isinstance(grad, np.generic):   # 0-d arithmetic gives NumPy scalars
                    grad = node.grad = np.array(grad, dtype=node.data.dtype)
                elif grad.__class__ is np.ndarray:
                    if grad.dtype != node.data.dtype or grad.base is not None \
                            or not grad.flags.writeable or id(grad) in kept:
                        grad = node.grad = np.array(grad, dtype=node.data.dtype)
                    kept.add(id(grad))
            if not retain_graph and node._bound is not None:
                node._freed = True

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Backpropagate from this tensor: every leaf with ``requires_grad`` gets ∂/∂leaf.

        A scalar is seeded with 1. A non-scalar needs ``gradient`` (∂L/∂self, same shape),
        and backward then computes the vector-Jacobian product. The graph can be walked once
        unless ``retain_graph=True``; ``create_graph=True`` records the backward pass so the
        gradients can be differentiated again.
        """
        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        self._retains_grad = True
        return self

    def detach(self) -> Tensor:
        """A new leaf sharing no history (and not requiring grad)."""
        return _node(self.data.copy(), None, None, None, False, None)

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The last two dimensions swapped (the matrix transpose of each matrix in a batch)."""
        if self.ndim < 2:
            raise ValueError(f"mT needs at least 2 dimensions; this tensor has shape {self.shape}")
        axes = tuple(range(self.ndim - 2)) + (self.ndim - 1, self.ndim - 2)
        return self.permute(axes)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        """Clamp into [min, max] (``torch.clip``); gradient 1 inside, 0 outside."""
        if min is not None and max is not None and min > max:
            raise ValueError(f"clip: min ({min}) is greater than max ({max})")
        return _apply(CLIP, self, low=min, high=max)

    clamp = clip

    # -- linear algebra -------------------------------------------------------------------
    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(other, self)

    def matmul(self, other: Any) -> Tensor:
        """Matrix product with NumPy's rules (1-D, 2-D and batched)."""
        return matmul(self, other)

    # -- reductions -----------------------------------------------------------------------
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Σ over ``axis`` (int, tuple or None for all)."""
        return _apply(SUM, self, axis=_normalize_axis(axis, self.ndim, "sum"), keepdims=bool(keepdims))

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """(1/N) Σ over ``axis``."""
        return _apply(MEAN, self, axis=_normalize_axis(axis, self.ndim, "mean"), keepdims=bool(keepdims))

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Largest element over ``axis``; ties share the gradient evenly (``torch.amax``)."""
        axis = _normalize_axis(axis, self.ndim, "max")
        self._check_nonempty("max", axis)
        return _apply(AMAX, self, axis=axis, keepdims=bool(keepdims))

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Smallest element over ``axis``; ties share the gradient evenly (``torch.amin``)."""
        axis = _normalize_axis(axis, self.ndim, "min")
        self._check_nonempty("min", axis)
        return _apply(AMIN, self, axis=axis, keepdims=bool(keepdims))

    def var(self, axis: Any = None, keepdims: bool = False, correction: int = 1) -> Tensor:
        """Σ(x - mean)² / max(N - correction, 0) over ``axis``; unbiased by default, like
        ``torch.var`` (nan or inf where N <= correction, e.g. a single element)."""
        return _apply(VAR, self, axis=_normalize_axis(axis, self.ndim, "var"), keepdims=bool(keepdims),
                      correction=int(correction))

    def _check_nonempty(self, name: str, axis: Any) -> None:
        """ValueError if a reduced axis has no elements (max/min of nothing is undefined);
        an empty tensor reduced over its non-empty axes gives an empty result, as in PyTorch."""
        if self.data.size == 0:
            for a in range(self.ndim) if axis is None else axis:
                if self.shape[a] == 0:
                    raise ValueError(f"{name}(): axis {a} of shape {self.shape} has length 0, "
                                     f"and the {name} of no elements is undefined; reduce over "
                                     "non-empty axes")

    def softmax(self, axis: int = -1) -> Tensor:
        """e^x / Σ e^x along ``axis`` (shifted by the max: stable for logits of ±1e4)."""
        return _apply(SOFTMAX, self, axis=_one_axis(axis, self.ndim, "softmax"))

    def log_softmax(self, axis: int = -1) -> Tensor:
        """x - logsumexp(x) along ``axis``, stable."""
        return _apply(LOG_SOFTMAX, self, axis=_one_axis(axis, self.ndim, "log_softmax"))

    def logsumexp(self, axis: Any = -1, keepdims: bool = False) -> Tensor:
        """ln Σ e^x over ``axis``, stable (-inf over an empty axis: the log of an empty sum)."""
        return _apply(LOGSUMEXP, self, axis=_normalize_axis(axis, self.ndim, "logsumexp"),
                      keepdims=bool(keepdims))

    # -- shapes ---------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        """The same elements in a new shape (one entry may be -1)."""
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        try:
            target = np.empty(self.shape, dtype=bool).reshape(shape).shape
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} "
                             f"({self.size} elements) into shape {tuple(shape)}") from None
        return self if target == self.shape else _apply(RESHAPE, self, shape=target)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions start_dim..end_dim into one (``torch.flatten``)."""
        start, end = (_normalize_dim(d, self.ndim, "flatten", self.shape) for d in (start_dim, end_dim))
        if self.ndim == 0:
            return self.reshape(1)
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                             f"for shape {self.shape}")
        merged = int(np.prod(self.shape[start:end + 1]))
        return self.reshape(self.shape[:start] + (merged,) + self.shape[end + 1:])

    def permute(self, *axes: Any) -> Tensor:
        """Reorder the dimensions."""
        axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        if len(axes) != self.ndim:
            raise ValueError(f"permute: {axes} is not a permutation of the {self.ndim} dimensions "
                             f"of shape {self.shape}: it names {len(axes)}")
        dims = tuple(_normalize_dim(a, self.ndim, "permute", self.shape) for a in axes)
        if len(set(dims)) != len(dims):
            raise ValueError(f"permute: {axes} is not a permutation of the dimensions of shape "
                             f"{self.shape}: it repeats one")
        return _apply(PERMUTE, self, axes=dims)

    def transpose(self, dim0: int = -2, dim1: int = -1) -> Tensor:
        """Swap two dimensions (default: the last two; a 0-d or 1-D tensor is returned as it
        is, as by ``torch.Tensor.t``)."""
        if self.ndim < 2 and dim0 == -2 and dim1 == -1:
            return self
        d0, d1 = (_normalize_dim(d, self.ndim, "transpose", self.shape) for d in (dim0, dim1))
        if self.ndim < 2:
            return self
        axes = list(range(self.ndim))
        axes[d0], axes[d1] = axes[d1], axes[d0]
        return _apply(PERMUTE, self, axes=tuple(axes))

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """All dimensions reversed (the matrix transpose for 2-D)."""
        return self if self.ndim < 2 else self.permute(tuple(reversed(range(self.ndim))))

    def expand(self, *shape: Any) -> Tensor:
        """Broadcast to ``shape`` without copying (-1 keeps a dimension)."""
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        lead = len(shape) - self.ndim
        for i, n in enumerate(shape):
            if not _is_int(n):
                raise TypeError(f"expand: sizes must be ints; got {type(n).__name__} {n!r} in {shape}")
            if n < -1 or (n == -1 and i < lead):
                raise ValueError(f"expand: size {n} at dimension {i} of {shape} is invalid for shape "
                                 f"{self.shape} (-1 keeps an existing dimension; a new leading "
                                 "one needs its size)")
        target = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
        try:
            np.broadcast_shapes(self.shape, target)
            if lead < 0 or np.broadcast_shapes(self.shape, target) != target:
                raise ValueError
        except ValueError:
            raise ValueError(f"expand: cannot broadcast shape {self.shape} to {shape}") from None
        return self if target == self.shape else _apply(EXPAND, self, shape=target)

    def squeeze(self, axis: Any = None) -> Tensor:
        """Drop size-1 dimensions (all, or those in ``axis``)."""
        axes = range(self.ndim) if axis is None else _normalize_axis(axis, self.ndim, "squeeze") or ()
        drop = {a for a in axes if self.shape[a] == 1}
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in drop))

    def unsqueeze(self, axis: int) -> Tensor:
        """Insert a size-1 dimension at ``axis``."""
        axis = _normalize_dim(axis, self.ndim + 1, "unsqueeze", self.shape)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def __getitem__(self, index: Any) -> Tensor:
        try:
            return _apply(GETITEM, self, index=_normalize_index(index))
        except (IndexError, ValueError, TypeError) as err:
            raise IndexError(f"getitem: index {index!r} is invalid for shape {self.shape}: {err}") from None


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _normalize_index(index: Any) -> Any:
    """Turn Tensors and lists inside an index into integer/boolean arrays."""
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if item.__class__ not in array_math.BASIC_INDEX_TYPES and not (
                item.__class__ is np.ndarray and item.dtype.kind in "biu"):
            break
    else:
        return index                              # nothing to convert
    out = []
    for item in items:
        if isinstance(item, Tensor):
            item = item.data
            if np.all(np.mod(item, 1) == 0):
                item = item.astype(np.int64)
        if isinstance(item, list):
            item = np.asarray(item)
            if item.size == 0:
                item = item.astype(np.intp)       # [] selects nothing (NumPy reads it as float)
        if isinstance(item, np.ndarray) and item.dtype.kind == "f":
            raise IndexError(f"tensors used as indices must hold integers or booleans, got {item.dtype}")
        out.append(item)
    return tuple(out) if isinstance(index, tuple) else out[0]


_stamp = count().__next__
"""Version stamps: a tensor records when it was made and when its data was last changed in
place (``mark_modified``); a graph whose operand changed after the op refuses to backward."""


def _node(data: np.ndarray, bound: Bound | None, a: Tensor | None, b: Tensor | None,
          requires_grad: bool, label: str | None) -> Tensor:
    """Every Tensor is made here: a leaf when ``bound`` is None, else an op's result."""
    t = _new(Tensor)
    t.data = data
    t.grad = None
    t.requires_grad = requires_grad
    if label is not None:
        t._label = str(label)
    if open_contexts[0] and state.scope is not None:
        t._scope = state.scope
    t._bound = bound
    t._a = a
    t._b = b
    t._made_at = _stamp()
    t._retains_grad = False
    t._freed = False
    t._modified_at = -1
    return t


def _constant(data: Any, dtype: Any) -> Tensor:
    """A leaf that does not require grad (a number or array mixed into tensor arithmetic)."""
    return _node(np.asarray(data, dtype=dtype), None, None, None, False, None)


def _operand(x: Any, dtype: Any) -> Tensor:
    """A Tensor as it is; a number or an array as a constant in ``dtype`` (a float array as it
    is, uncopied); TypeError for anything else."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, REAL_NUMBER_TYPES):
        return _constant(np.asarray(x, dtype=dtype), dtype)
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return _constant(x, None)
    if isinstance(x, Node):                       # a Value: its number, if it needs no graph
        if x.requires_grad and (state.mode[0] if open_contexts[0] else True):
            raise TypeError("a Value that requires grad cannot join Tensor arithmetic (one graph "
                            "holds one kind of node): use its number (v.data), or compute "
                            "under no_grad()")
        return _constant(np.asarray(x.data, dtype=dtype), dtype)
    if isinstance(x, (np.ndarray, list, tuple)):
        return _constant(_as_array(x, dtype), None)
    raise TypeError(f"unsupported operand of type {type(x).__name__}; expected a Tensor, "
                    "a number or an array")


def _operands(inputs: Sequence[Any]) -> tuple[Tensor, ...]:
    """Tensors as they are; numbers and arrays as constants in the first tensor's dtype."""
    dtype = next((x.data.dtype for x in inputs if isinstance(x, Tensor)), _FLOAT64)
    return tuple(_operand(x, dtype) for x in inputs)


def _apply_op(op: Op, a: Any, b: Any = None, params: dict[str, Any] | None = None) -> Any:
    """Run ``op`` forward on the operands' data and return the result, recorded in the graph
    if an operand requires grad (and grad mode is on). ``NotImplemented`` for an operand that
    is neither a tensor, a number nor an array, so Python reports the unsupported types."""
    binary = op.arity == 2
    if a.__class__ is not Tensor or (binary and b.__class__ is not Tensor):
        try:
            a, b = _operands((a, b)) if binary else (_operands((a,))[0], None)
        except TypeError:
            return NotImplemented
    try:
        if binary:
            data = op.forward(array_math, a.data, b.data, **params) if params else \
                op.forward(array_math, a.data, b.data)
        else:
            data = op.forward(array_math, a.data, **params) if params else \
                op.forward(array_math, a.data)
    except (ValueError, IndexError) as err:
        shapes = f"{a.shape} and {b.shape}" if binary else str(a.shape)
        raise ValueError(f"{op.name}: cannot apply to shapes {shapes}: {err}") from None
    if data.__class__ is not np.ndarray:
        data = np.asarray(data)
    grad_enabled, _, anomaly = state.mode if open_contexts[0] else DEFAULT_MODE
    if anomaly and data.dtype.kind == "f" and np.isnan(data).any():
        from .anomaly import report_forward_nan
        report_forward_nan(op, (a, b) if binary else (a,))
    if grad_enabled and (a.requires_grad or (binary and b.requires_grad)):
        bound = op._bound.get(Tensor) if params is None else None
        return _node(data, bound or bind(op, Tensor, params, _tensor_rule(op)), a, b, True, None)
    return _node(data, None, None, None, False, None)


def _apply(op: Op, *operands: Any, **params: Any) -> Tensor:
    """``op`` applied to the operands, parameters by keyword (the methods' shorthand)."""
    result = _apply_op(op, operands[0], operands[1] if len(operands) > 1 else None, params or None)
    if result is NotImplemented:
        kinds = ", ".join(type(x).__name__ for x in operands)
        raise TypeError(f"{op.name}: unsupported operand types ({kinds}); expected Tensors, "
                        "numbers or arrays")
    return result


# -- functions over several tensors -------------------------------------------------------
def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy's rules: 1-D operands are promoted and the added axis removed."""
    a, b = _operands((a, b))
    if a.data.ndim >= 2 and b.data.ndim >= 2:
        try:
            return _apply(MATMUL, a, b)
        except ValueError:
            raise ValueError(_matmul_mismatch(a.shape, b.shape)) from None
    if a.ndim == 0 or b.ndim == 0 or a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(_matmul_mismatch(a.shape, b.shape))
    a2 = a.reshape(1, a.shape[0]) if a.ndim == 1 else a
    b2 = b.reshape(b.shape[0], 1) if b.ndim == 1 else b
    out = _apply(MATMUL, a2, b2)
    if a.ndim == 1 and b.ndim == 1:
        return out.reshape(())
    if a.ndim == 1:
        return out.squeeze(-2)
    if b.ndim == 1:
        return out.squeeze(-1)
    return out


def _matmul_mismatch(a: tuple[int, ...], b: tuple[int, ...]) -> str:
    """Why shapes ``a @ b`` do not multiply: which dimensions of which shapes disagree."""
    if not a or not b:
        return f"matmul: both operands need at least one dimension; got shapes {a} and {b}"
    inner = -2 if len(b) > 1 else 0
    if a[-1] != b[inner]:
        return (f"matmul: shapes {a} and {b} do not align: {a[-1]} (last dim of the first) != "
                f"{b[inner]} ({'second-to-last' if len(b) > 1 else 'only'} dim of the second)")
    return (f"matmul: the batch dimensions {a[:-2]} of shape {a} and {b[:-2]} of shape {b} "
            "do not broadcast")


def _operands_named(what: str, **operands: Any) -> tuple[Tensor, ...]:
    """The operands as Tensors (``_operands``); a TypeError naming the operand that is not a
    Tensor, a number or an array, and its type."""
    try:
        return _operands(tuple(operands.values()))
    except TypeError:
        for name, x in operands.items():
            try:
                _operands((x,))
            except TypeError:
                raise TypeError(f"{what}: argument {name!r} has type {type(x).__name__}; expected "
                                "a Tensor, a number or an array of numbers") from None
        raise


def concatenate(tensors: Iterable[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing ``axis`` (``torch.cat``). The graph joins two at a time:
    ``concatenate([a, b, c])`` is ``concat(concat(a, b), c)``, balanced for long lists."""
    tensors = list(_operands(list(tensors)))
    if not tensors:
        raise ValueError("concatenate needs at least one tensor")
    if tensors[0].ndim == 0:
        raise ValueError("concatenate: 0-d tensors have no axis to join along; use stack")
    axis = _normalize_dim(axis, tensors[0].ndim, "concatenate")
    if len(tensors) == 1:                     # a new tensor, as torch.cat gives
        return _apply(RESHAPE, tensors[0], shape=tensors[0].shape)
    while len(tensors) > 1:
        pairs = [_apply(CONCATENATE, x, y, axis=axis) for x, y in zip(tensors[::2], tensors[1::2])]
        tensors = pairs + tensors[len(pairs) * 2:]
    return tensors[0]


def stack(tensors: Iterable[Any], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new ``axis`` (``torch.stack``)."""
    tensors = _operands(list(tensors))
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack needs tensors of one shape; got {sorted(shapes)}")
    axis = _normalize_dim(axis, tensors[0].ndim + 1, "stack")
    return concatenate([t.unsqueeze(axis) for t in tensors], axis)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` else ``b``, elementwise with broadcasting; the condition
    (boolean) takes no gradient."""
    cond = np.asarray(_raw(condition))
    if cond.dtype.kind not in "biuf":
        raise TypeError(f"where: condition has type {type(condition).__name__} (dtype {cond.dtype}); "
                        "expected a boolean Tensor or array")
    if cond.dtype.kind != "b":
        cond = cond.astype(bool)
    return _apply(WHERE, *_operands_named("where", input=a, other=b), condition=cond)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max; at ties the gradient is split evenly (``torch.maximum``)."""
    return _apply(MAXIMUM, *_operands_named("maximum", input=a, other=b))


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise min; at ties the gradient is split evenly (``torch.minimum``)."""
    return _apply(MINIMUM, *_operands_named("minimum", input=a, other=b))


Tensor._apply = staticmethod(_apply_op)
install(Tensor)
Tensor._graph_math = GraphMath(array_math, Tensor, TENSOR_ELEMENTWISE_OPS + TENSOR_OPS)
