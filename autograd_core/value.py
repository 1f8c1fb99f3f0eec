"""``Value``: a scalar node of the computation graph (micrograd's idea, on the op table).

``x * w`` applies the op ``MUL`` (``autograd_core/ops.py``): :func:`_apply` computes its forward
on the floats and makes the result node, which remembers the op and its two parents.
``backward()`` then runs the one loop of ``autograd_core/graph.py``, which at every node adds
``∂node/∂parent · node.grad`` to each parent's ``grad``.
"""
from __future__ import annotations

from functools import partial
from typing import Any, Callable

from . import scalar_math
from ._state import open_contexts, state
from .graph import Node, backward
from .numbers import REAL_NUMBER_TYPES, check_flag, float_of_node, to_float
from .op import Bound, GraphMath, Op, bind
from .operators import Operators, install
from .ops import TENSOR_ELEMENTWISE_OPS

_new = object.__new__


class Value(Operators, Node):
    """A scalar in a computation graph: ``data`` (float), ``grad`` (∂L/∂self after backward).

    Arithmetic with Values or Python numbers records an op; ``backward()`` fills ``grad`` of
    every node the result depends on. ``requires_grad=False`` marks a constant (numbers
    mixed into arithmetic become such constants). ``==`` is identity, as in micrograd, so
    Values work in lists, sets and dicts; ``< <= > >=`` compare the data. ``float(v)`` and
    ``math.*`` refuse a Value that requires grad (TypeError naming the op to use instead, as
    micrograd refuses them): use ``v.exp()``, ``v.tanh()``, ..., or ``v.item()`` for the number.

    >>> x = Value(2.0, label="x"); y = x * x + 3 * x
    >>> y.backward(); x.grad          # dy/dx = 2x + 3
    7.0
    """

    __slots__ = ()
    _raw_math = scalar_math
    _retain_graph_default = True
    __array_ufunc__ = None              # NumPy scalars defer to Value's reflected operators
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def __new__(cls, data: Any, label: str | None = None, requires_grad: bool = True) -> Value:
        v = _node(to_float(data), None, None, None, check_flag(requires_grad, "requires_grad"))
        if label is not None:
            v._label = str(label)
        return _scoped(v)

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self.data,)

    def _seed(self, gradient: Any, create_graph: bool) -> Any:
        """The starting gradient ∂L/∂self: 1 by default; a Value with ``create_graph``."""
        if not self.requires_grad:
            raise RuntimeError("backward() on a Value that does not require grad: no leaf "
                               "with requires_grad=True contributed to it (was it computed "
                               "under no_grad()?)")
        if gradient is None:
            gradient = 1.0
        if create_graph:
            return gradient if isinstance(gradient, Value) else \
                _node(to_float(gradient, "gradient"), None, None, None, False)
        return to_float(gradient.data if isinstance(gradient, Value) else gradient, "gradient")

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Fill ``.grad`` with ∂self/∂node for every node this Value depends on.

        Leaves accumulate across calls (call ``zero_grad`` between steps, as in PyTorch);
        intermediate nodes are recomputed. ``gradient`` (default 1) is ∂L/∂self.
        ``create_graph=True`` records the backward pass itself, so each ``.grad`` becomes a
        Value that can be differentiated again (higher-order derivatives).
        """
        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    def zero_grad(self) -> None:
        """Set ``grad`` back to 0."""
        self.grad = 0.0

    def detach(self) -> Value:
        """A new constant Value with the same data and no history."""
        return _node(self.data, None, None, None, False)

    def item(self) -> float:
        """The data as a Python float (never recorded: the number, not a graph node)."""
        return self.data

    def __float__(self) -> float:
        """``float(v)``, and what ``math.exp(v)`` and friends call: the data, unless ``v``
        requires grad while grad mode is on. Then the float would leave the graph without a
        word (``math.exp(w)`` gives a number, and ``w.grad`` stays 0), so it is a TypeError
        naming the op to use (``w.exp()``); for the number itself use :meth:`item` or
        ``.data``, or convert under ``no_grad()``. Formatting (``f"{v:.4f}"``,
        ``"%.4f" % v``), printing and comparisons never convert through here."""
        if self.requires_grad:
            return float_of_node(self)
        return self.data

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        grad = self.grad.data if isinstance(self.grad, Value) else self.grad
        grad_text = "None" if grad is None else f"{grad:.6g}"
        return f"Value(data={self.data:.6g}, grad={grad_text}{label})"


def _node(data: float, bound: Bound | None, a: Value | None, b: Value | None,
          requires_grad: bool) -> Value:
    """Every Value is made here: a leaf when ``bound`` is None, else an op's result. (A label
    and a module scope are set afterwards, only on the nodes that have one.)"""
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.requires_grad = requires_grad
    v._bound = bound
    v._a = a
    v._b = b
    return v


def _as_value(x: Any) -> Any:
    """``x`` itself if it is a Value, a constant Value for a real number, else None."""
    if isinstance(x, Value):
        return x
    if isinstance(x, REAL_NUMBER_TYPES):
        return _scoped(_node(to_float(x), None, None, None, False))
    return None


def _scoped(v: Value) -> Value:
    """``v``, marked with the calling thread's module scope if it is inside one."""
    if open_contexts[0] and state.scope is not None:
        v._scope = state.scope
    return v


def _recorder(op: Op, params: dict[str, Any] | None = None) -> Callable[..., Any]:
    """The function that applies ``op`` to Values: the forward on their floats, then the
    result node, which joins the graph (remembers the op and its parents) when grad mode is
    on and an operand requires grad; otherwise it is a constant. It returns
    ``NotImplemented`` for an operand that is not a real number, so Python reports the
    unsupported operand types. Made once per op (per call for an op with parameters)."""
    forward, binary = op.forward, op.arity == 2
    if params:
        forward = partial(forward, **params)
    bound = bind(op, Value, params)

    def slow_path(data: float, needs_grad: bool, a: Value, b: Value | None) -> Value:
        """Some thread is inside ``no_grad``, a module scope or ``detect_anomaly``: the
        result as the calling thread's mode says."""
        grad_enabled, scope, anomaly = state.mode
        if anomaly and data != data:
            from .anomaly import report_forward_nan
            report_forward_nan(op, (a, b) if binary else (a,))
        if needs_grad and grad_enabled:
            v = _node(data, bound, a, b, True)
        else:
            v = _node(data, None, None, None, False)
        if scope is not None:
            v._scope = scope
        return v

    def apply(a: Any, b: Any = None) -> Any:
        if a.__class__ is not Value and (a := _as_value(a)) is None:
            return NotImplemented
        if binary:
            if b.__class__ is not Value and (b := _as_value(b)) is None:
                return NotImplemented
            data = forward(scalar_math, a.data, b.data)
            needs_grad = a.requires_grad or b.requires_grad
        else:
            data = forward(scalar_math, a.data)
            needs_grad = a.requires_grad
        if open_contexts[0]:
            return slow_path(data, needs_grad, a, b)
        if needs_grad:
            return _node(data, bound, a, b, True)
        return _node(data, None, None, None, False)

    return apply


def _apply(op: Op, a: Any, b: Any = None, params: dict[str, Any] | None = None) -> Any:
    """``op`` applied to one or two operands (``Op.__call__`` and methods with parameters)."""
    if op.derivatives is None:
        raise TypeError(f"op {op.name!r} is a tensor op (its gradient is a vector-Jacobian "
                        "product, not a local derivative per element): apply it to a Tensor, "
                        "not a Value")
    apply = _RECORDERS.get(op) if not params else None
    if apply is None:
        apply = _recorder(op, params)
        if not params:
            _RECORDERS[op] = apply
    return apply(a, b) if op.arity == 2 else apply(a)


def _method(op: Op, reflected: bool) -> Callable[..., Any] | None:
    """Value's operator methods record directly (one call per op, as fast as the engine
    gets); methods with parameters take the generic path."""
    if op.params:
        return None
    apply = _RECORDERS.get(op) or _RECORDERS.setdefault(op, _recorder(op))
    if not reflected:
        return apply
    return lambda self, other: apply(other, self)


_RECORDERS: dict[Op, Callable[..., Any]] = {}
install(Value, _method)
Value._apply = staticmethod(_apply)
Value._graph_math = GraphMath(scalar_math, Value, TENSOR_ELEMENTWISE_OPS)
