"""The arithmetic and elementwise methods shared by ``Value``, ``Tensor`` and ``Dual``.

Each method records one op of the table through the class's ``_record(op, *operands,
**params)``: ``Value`` and ``Tensor`` add a node to the graph, ``Dual`` carries a tangent
forward. Python numbers (and, for tensors, arrays) are accepted on either side.
"""
from __future__ import annotations

from typing import Any, Callable

from .ops import (ABS, ADD, COS, DIV, EXP, LEAKY_RELU, LOG, MUL, NEG, POW, RELU, SIGMOID, SIGN,
                  SIN, SOFTPLUS, SQRT, STEP, SUB, TANH)


class Operators:
    """``+ - * / **`` (both operand orders), unary ``-``, ``abs`` and the elementwise
    functions of the op table, each one line: ``self._record(OP, operands...)``."""

    __slots__ = ()
    _record: Callable[..., Any]

    def __add__(self, other: Any) -> Any:
        return self._record(ADD, self, other)

    def __radd__(self, other: Any) -> Any:
        return self._record(ADD, other, self)

    def __sub__(self, other: Any) -> Any:
        return self._record(SUB, self, other)

    def __rsub__(self, other: Any) -> Any:
        return self._record(SUB, other, self)

    def __mul__(self, other: Any) -> Any:
        return self._record(MUL, self, other)

    def __rmul__(self, other: Any) -> Any:
        return self._record(MUL, other, self)

    def __truediv__(self, other: Any) -> Any:
        return self._record(DIV, self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return self._record(DIV, other, self)

    def __pow__(self, other: Any) -> Any:
        """``self ** other``; the exponent may be a number or a node (d/db a^b = a^b ln a)."""
        return self._record(POW, self, other)

    def __rpow__(self, other: Any) -> Any:
        return self._record(POW, other, self)

    def __neg__(self) -> Any:
        return self._record(NEG, self)

    def __pos__(self) -> Any:
        return self

    def __abs__(self) -> Any:
        return self._record(ABS, self)

    def abs(self) -> Any:
        """|x|; derivative sign(x)."""
        return self._record(ABS, self)

    def exp(self) -> Any:
        """e^x (``inf`` on overflow)."""
        return self._record(EXP, self)

    def log(self) -> Any:
        """Natural log ln x (``-inf`` at 0, ``nan`` below)."""
        return self._record(LOG, self)

    def sqrt(self) -> Any:
        """√x; derivative 1 / (2√x)."""
        return self._record(SQRT, self)

    def tanh(self) -> Any:
        """tanh x; derivative 1 - tanh² x."""
        return self._record(TANH, self)

    def sigmoid(self) -> Any:
        """σ(x) = 1 / (1 + e^-x), stable for large |x|; derivative σ(x)(1 - σ(x))."""
        return self._record(SIGMOID, self)

    def relu(self) -> Any:
        """max(0, x); derivative 1 for x > 0, else 0."""
        return self._record(RELU, self)

    def leaky_relu(self, slope: float = 0.01) -> Any:
        """x for x > 0, else slope·x (``torch.nn.functional.leaky_relu``'s negative_slope)."""
        return self._record(LEAKY_RELU, self, slope=float(slope))

    def softplus(self) -> Any:
        """ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|); derivative σ(x)."""
        return self._record(SOFTPLUS, self)

    def sin(self) -> Any:
        """sin x; derivative cos x."""
        return self._record(SIN, self)

    def cos(self) -> Any:
        """cos x; derivative -sin x."""
        return self._record(COS, self)

    def step(self) -> Any:
        """Unit step u(x): 1 for x > 0, else 0. Its gradient is 0 everywhere (not trainable)."""
        return self._record(STEP, self)

    def sign(self) -> Any:
        """sign x ∈ {-1, 0, 1}. Gradient 0."""
        return self._record(SIGN, self)

    # -- comparisons look at the data: bool for scalars, boolean arrays for tensors ---------
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
    data: Any


def _data_of(x: Any) -> Any:
    """The number or array behind ``x`` (``x`` itself when it is not one of ours)."""
    return x.data if isinstance(x, Operators) else x
