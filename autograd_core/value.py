"""``Value``: a scalar node of the computation graph (micrograd's idea, on the op table)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import scalar_math
from ._state import state
from .graph import Node, backward, new_serial
from .op import Op
from .operators import Operators

_new = object.__new__
_NUMBER_TYPES = (int, float, bool, np.integer, np.floating, np.bool_)


def _to_float(data: Any) -> float:
    """The float stored for ``data``; TypeError naming the type for anything non-real."""
    if isinstance(data, _NUMBER_TYPES):
        return float(data)
    if isinstance(data, np.ndarray) and data.size == 1 and data.dtype.kind in "biuf":
        return float(data.reshape(()))
    if isinstance(data, np.ndarray):
        raise TypeError(f"Value holds one real number; got an ndarray of shape {data.shape} "
                        f"and dtype {data.dtype} (use Tensor for arrays)")
    raise TypeError(f"Value holds one real number (int, float, bool or NumPy scalar); "
                    f"got {type(data).__name__}: {data!r:.60}")


class Value(Operators, Node):
    """A scalar in a computation graph: ``data`` (float), ``grad`` (∂L/∂self after backward).

    Arithmetic with Values or Python numbers records an op; ``backward()`` fills ``grad`` of
    every node the result depends on. ``requires_grad=False`` marks a constant (numbers
    mixed into arithmetic become such constants).

    >>> x = Value(2.0, label="x"); y = x * x + 3 * x
    >>> y.backward(); x.grad          # dy/dx = 2x + 3
    7.0
    """

    __slots__ = ("_a", "_b")        # the one or two parents (None when absent)
    _raw_math = scalar_math
    _zero_grad = 0.0
    __array_ufunc__ = None              # NumPy scalars defer to Value's reflected operators

    def __init__(self, data: Any, label: str | None = None, requires_grad: bool = True) -> None:
        self.data = _to_float(data)
        self.grad: Any = 0.0
        self.requires_grad = bool(requires_grad)
        self.label = None if label is None else str(label)
        self._op: Op | None = None
        self._a: Value | None = None
        self._b: Value | None = None
        self._ctx: dict[str, Any] | None = None
        self._scope = state.scope
        self._serial = new_serial()

    # -- graph plumbing -------------------------------------------------------------
    @property
    def _parents(self) -> tuple[Value, ...]:
        """The one or two parents as a tuple (stored in two slots: no tuple per node)."""
        if self._a is None:
            return ()
        return (self._a,) if self._b is None else (self._a, self._b)

    def _backprop(self, create_graph: bool) -> None:
        """The chain rule at this node: ``parent.grad += ∂self/∂parent · self.grad``."""
        op, a, b = self._op, self._a, self._b
        if create_graph:                          # gradients as Values: the generic step
            Node._backprop(self, True)
            return
        rules = op.derivatives                   # one local-derivative rule per operand
        g = self.grad
        if b is None:
            if self._ctx:
                a.grad += rules[0](scalar_math, self.data, a.data, **self._ctx) * g
            else:
                a.grad += rules[0](scalar_math, self.data, a.data) * g
            return
        out, a_data, b_data = self.data, a.data, b.data
        if a.requires_grad:
            a.grad += rules[0](scalar_math, out, a_data, b_data) * g
        if b.requires_grad:
            b.grad += rules[1](scalar_math, out, a_data, b_data) * g

    def _accumulate(self, contribution: Any) -> None:
        grad = self.grad
        # Starting from exact zero, take the contribution itself: with create_graph this
        # keeps 0 + g out of the gradient graph.
        self.grad = contribution if (grad.__class__ is float and grad == 0.0) else grad + contribution

    def backward(self, gradient: float = 1.0, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Fill ``.grad`` with ∂self/∂node for every node this Value depends on.

        Leaves accumulate across calls (call ``zero_grad`` between steps, as in PyTorch);
        intermediate nodes are recomputed from zero. ``create_graph=True`` records the
        backward pass itself, so each ``.grad`` becomes a Value that can be differentiated
        again (higher-order derivatives).
        """
        if create_graph and not isinstance(gradient, Value):
            gradient = Value(gradient, requires_grad=False)
        elif not create_graph:
            gradient = _to_float(gradient.data if isinstance(gradient, Value) else gradient)
        backward(self, gradient, retain_graph, create_graph)

    def zero_grad(self) -> None:
        """Set ``grad`` back to 0."""
        self.grad = 0.0

    def detach(self) -> Value:
        """A new constant Value with the same data and no history."""
        return _constant(self.data)

    def local_derivatives(self) -> tuple[float, ...]:
        """``∂self/∂parent`` for each parent, evaluated at the current data (``()`` for a leaf)."""
        return () if self._op is None else self._op.local_derivatives(self)

    def item(self) -> float:
        """The data as a Python float."""
        return self.data

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        grad = self.grad.data if isinstance(self.grad, Value) else self.grad
        return f"Value(data={self.data:.6g}, grad={grad:.6g}{label})"


def _constant(data: float) -> Value:
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.requires_grad = False
    v.label = v._op = v._a = v._b = v._ctx = None
    v._scope = state.scope
    v._serial = new_serial()
    return v


def _as_value(x: Any) -> Any:
    """``x`` itself if it is a Value, a constant Value for a real number, else None."""
    if x.__class__ is Value or isinstance(x, Value):
        return x
    if isinstance(x, _NUMBER_TYPES):
        return _constant(float(x))
    return None


def _apply(op: Op, a: Any, b: Any = None, **ctx: Any) -> Value:
    """Run ``op`` forward on one or two operands and return its result node.

    The node joins the graph (remembers ``op`` and its parents) when grad mode is on and an
    operand requires grad; otherwise it is a constant.
    """
    if a.__class__ is not Value:
        a = _as_value(a)
        if a is None:
            return NotImplemented
    if b is None:
        data = op.forward(scalar_math, a.data, **ctx) if ctx else op.forward(scalar_math, a.data)
        needs_grad = a.requires_grad
    else:
        if b.__class__ is not Value:
            b = _as_value(b)
            if b is None:
                return NotImplemented
        data = op.forward(scalar_math, a.data, b.data)
        needs_grad = a.requires_grad or b.requires_grad
    grad_enabled, scope, anomaly = state.mode
    if anomaly and data != data:
        from .anomaly import report_forward_nan
        report_forward_nan(op, (a,) if b is None else (a, b))
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = None
    v._scope = scope
    v._serial = new_serial()
    if needs_grad and grad_enabled:
        v.requires_grad = True
        v._op = op
        v._a = a
        v._b = b
        v._ctx = ctx or None
    else:
        v.requires_grad = False
        v._op = v._a = v._b = v._ctx = None
    return v


class _ValueGraphMath:
    """The math namespace over Values: each function records an op (for create_graph)."""

    div = staticmethod(lambda a, b: a / b)
    pow = staticmethod(lambda a, b: a ** b)
    where = staticmethod(scalar_math.where)
    indicator = staticmethod(scalar_math.indicator)
    zeros_like = staticmethod(scalar_math.zeros_like)


def _method(name: str) -> Callable[[Any], Any]:
    return lambda x: getattr(x, name)() if isinstance(x, Value) else getattr(scalar_math, name)(x)


for _name in ("exp", "log", "sigmoid", "sin", "cos", "sign"):   # what the derivative rules call
    setattr(_ValueGraphMath, _name, staticmethod(_method(_name)))

Value._graph_math = _ValueGraphMath
Value._record = staticmethod(_apply)
