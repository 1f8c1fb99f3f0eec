"""The arithmetic and elementwise methods of ``Value``, ``Tensor`` and ``Dual``, made from the op
table: each method applies one op through its class's ``_apply(op, a, b=None, params=None)``
(``Value`` and ``Tensor`` add a node to the graph, ``Dual`` carries a tangent forward), and its
docstring is the op's formula and local derivatives, read from the record.
"""
from __future__ import annotations

from typing import Any, Callable

from .op import Op
from .ops import ADD, DIV, ELEMENTWISE_OPS, MUL, POW, SUB

_BINARY: dict[str, Op] = {"add": ADD, "sub": SUB, "mul": MUL, "truediv": DIV, "pow": POW}
"""Python's binary operators (``__add__``, ``__radd__``, ...) and the op each applies."""
_DEFAULTS: dict[str, dict[str, Any]] = {"leaky_relu": {"slope": 0.01}}
"""Default parameter values of the methods (PyTorch's: ``negative_slope=0.01``)."""


def describe(op: Op, names: tuple[str, ...]) -> str:
    """A docstring from the record: ``x * y; ∂/∂x = y, ∂/∂y = x``."""
    parts = [f"∂/∂{name} = {op.derivative_formula(i, names)}" for i, name in enumerate(names)]
    return f"``{op.formula(names)}``; " + ", ".join(parts) + f" (op ``{op.name}``)."


def _binary(op: Op, reflected: bool) -> Callable[[Any, Any], Any]:
    if reflected:
        def method(self: Any, other: Any) -> Any:
            return self._apply(op, other, self)
        method.__doc__ = describe(op, ("other", "self"))
    else:
        def method(self: Any, other: Any) -> Any:
            return self._apply(op, self, other)
        method.__doc__ = describe(op, ("self", "other"))
    return method


def _unary(op: Op) -> Callable[..., Any]:
    defaults = _DEFAULTS.get(op.name)
    if not op.params:
        def method(self: Any) -> Any:
            return self._apply(op, self)
    else:
        def method(self: Any, *args: Any, **params: Any) -> Any:
            values = dict(defaults or {})
            values.update(zip(op.params, args))
            values.update(params)
            return self._apply(op, self, None, op.check_params(values))
    method.__doc__ = describe(op, ("self",)) + (
        f" Defaults: {defaults}." if defaults else "")
    return method


class Operators:
    """Comparisons, which look at the data (a bool for scalars, a boolean array for
    tensors). :func:`install` adds ``+ - * / **`` (both operand orders), unary ``-`` and
    ``abs``, and one method per one-operand op of the table (``exp``, ``tanh``, ``relu``,
    ``leaky_relu(slope)``, ...) to each node class."""

    __slots__ = ()
    _apply: Callable[..., Any]
    data: Any

    def __pos__(self) -> Any:
        return self

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats the value (of a one-element tensor too, as PyTorch does);
        with no format spec, the repr."""
        if not spec:
            return str(self)
        data = self.data
        if getattr(data, "size", 1) != 1:
            raise TypeError(f"format spec {spec!r} formats one number; this tensor has shape "
                            f"{data.shape}: format its elements (t.data), or t.item() for one")
        return format(data.item() if hasattr(data, "item") else data, spec)

    def __lt__(self, other: Any) -> Any:
        return self.data < _data_of(other)

    def __le__(self, other: Any) -> Any:
        return self.data <= _data_of(other)

    def __gt__(self, other: Any) -> Any:
        return self.data > _data_of(other)

    def __ge__(self, other: Any) -> Any:
        return self.data >= _data_of(other)

    def __eq__(self, other: object) -> Any:  # type: ignore[override]
        return self.data == _data_of(other)

    def __ne__(self, other: object) -> Any:  # type: ignore[override]
        return self.data != _data_of(other)

    __hash__ = object.__hash__        # identity: nodes work as dict keys and set members


Method = Callable[..., Any]


def _generic_method(op: Op, reflected: bool) -> Method:
    """The method that applies ``op`` through the class's ``_apply``."""
    if op.arity == 2:
        return _binary(op, reflected)
    return _unary(op)


def install(cls: type, method_for: Callable[[Op, bool], Method | None] | None = None) -> None:
    """Give ``cls`` its operators and one-operand methods from the table. ``method_for(op,
    reflected)`` may return a faster function for an op (``Value`` makes one per op that
    records the node directly); the docstring is always the op's."""
    def put(name: str, op: Op, reflected: bool, names: tuple[str, ...]) -> None:
        method = (method_for and method_for(op, reflected)) or _generic_method(op, reflected)
        if method.__doc__ is None:
            method.__doc__ = describe(op, names)
        setattr(cls, name, method)

    for name, op in _BINARY.items():
        put(f"__{name}__", op, False, ("self", "other"))
        put(f"__r{name}__", op, True, ("other", "self"))
    for op in ELEMENTWISE_OPS:
        if op.arity == 1:
            put(op.name, op, False, ("self",))
    cls.__neg__ = cls.neg  # type: ignore[attr-defined]
    cls.__abs__ = cls.abs  # type: ignore[attr-defined]




def _data_of(x: Any) -> Any:
    """The number or array behind ``x`` (``x`` itself when it is not one of ours)."""
    return x.data if isinstance(x, Operators) else x
