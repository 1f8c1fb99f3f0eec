"""The op record: one operation's forward, local derivatives and formulas, side by side.

Every op the engine knows is one :class:`Op` in ``autograd_core/ops.py`` (scalar and
elementwise ops, shared by ``Value``, ``Tensor`` and ``Dual``) or ``autograd_core/tensor_ops.py``
(shape, reduction and linear-algebra ops, ``Tensor`` only). The backward loop, the
step-by-step trace, the graph labels and the docs all read these records; nothing about an op
is written twice. An ``Op`` is applied by calling it: ``MUL(x, w)`` is ``x * w``.

Rules are written once against a math namespace ``m``, so that the same lambda serves Python
floats (``m`` is :mod:`autograd_core.scalar_math`), NumPy arrays (:mod:`autograd_core.array_math`)
and, for ``create_graph=True``, graph nodes (``m.exp`` then applies the ``exp`` op).

Adding an op
------------
An entry needs: a ``name``; the operand names (``inputs="a"`` or ``"a b"``: one or two
differentiable operands) and the names of its non-differentiable keyword parameters
(``params="slope"``); ``forward(m, a[, b], **params)``; and either

* ``derivatives``: one rule per operand giving the local derivative
  ``∂out/∂operand = rule(m, out, a[, b], **params)``, for elementwise ops (the backward loop
  multiplies it by the upstream gradient, and forward mode by the operand's tangent), or
* ``vjps``: one rule per operand giving the vector-Jacobian product
  ``rule(m, g, out, a[, b], **params) = g · ∂out/∂operand`` directly, for ops whose Jacobian
  is never formed (matmul, sum, reshape, ...);

and the formulas as templates over ``$a``, ``$b`` and the parameter names: ``text``,
``latex``, and one ``derivative_text`` / ``derivative_latex`` per operand. Rules may call
anything in ``m`` that names an op of the tables (``m.exp``, ``m.sum``, ``m.where``) or a
helper of the math namespaces. Then add a test beside the others: ``check_op(op)`` and the
table-wide tests pick the entry up. Nothing else changes: the engine, the trace, the graph
labels and the docs read the record.
"""
from __future__ import annotations

from functools import partial
from string import Template
from typing import Any, Callable, Mapping, Sequence

Rule = Callable[..., Any]
_EMPTY: Mapping[str, Any] = {}


class Op:
    """One differentiable operation ``out = f(a[, b]; params)``.

    Attributes:
        name: identifier (``"mul"``, ``"tanh"``), also what ``m.<name>`` resolves to when a
            rule runs on graph nodes.
        symbol: what a graph's op node shows (``"*"``, ``"tanh"``).
        inputs: the operand names (``("a", "b")``); ``arity`` is their number (1 or 2).
        params: names of the keyword parameters (``("slope",)``), which take no gradient.
        signature: the order of positional arguments when a rule calls ``m.<name>(...)``
            (operands and parameters; default: operands, then parameters).
        forward: ``forward(m, a[, b], **params) -> out``.
        derivatives: for elementwise ops, one rule per operand:
            ``∂out/∂operand = rule(m, out, a[, b], **params)``.
        vjps: otherwise, one rule per operand: ``rule(m, g, out, a[, b], **params)`` is
            ``g · ∂out/∂operand``.
        text: the forward formula as a text template (``"$a * $b"``).
        latex: the forward formula as a LaTeX template.
        derivative_text: per operand, ``∂out/∂operand`` as a text template (``"$b"``).
        derivative_latex: per operand, ``∂out/∂operand`` as a LaTeX template.
    """

    __slots__ = ("name", "symbol", "inputs", "arity", "params", "signature", "forward",
                 "derivatives", "vjps", "text", "latex", "derivative_text", "derivative_latex",
                 "_bound")

    def __init__(self, name: str, *, symbol: str | None = None, inputs: str = "a",
                 params: str = "", signature: str | None = None, forward: Rule,
                 derivatives: Sequence[Rule] | None = None, vjps: Sequence[Rule] | None = None,
                 text: str, latex: str, derivative_text: Sequence[str],
                 derivative_latex: Sequence[str]) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"an op's name must be an identifier, got {name!r}")
        if (derivatives is None) == (vjps is None):
            raise ValueError(f"op {name!r}: give exactly one of derivatives= or vjps=")
        self.name = name
        self.symbol = symbol or name
        self.inputs = tuple(inputs.split())
        self.arity = len(self.inputs)
        if self.arity not in (1, 2):
            raise ValueError(f"op {name!r}: an op has one or two operands, got inputs={inputs!r}")
        self.params = tuple(params.split())
        names = self.inputs + self.params
        if len(set(names)) != len(names):
            raise ValueError(f"op {name!r}: operand and parameter names must differ: {names}")
        self.signature = tuple(signature.split()) if signature else names
        if sorted(self.signature) != sorted(names):
            raise ValueError(f"op {name!r}: signature {signature!r} must list {names}")
        if not callable(forward):
            raise TypeError(f"op {name!r}: forward must be callable")
        self.forward = forward
        self.derivatives = tuple(derivatives) if derivatives is not None else None
        self.vjps = tuple(vjps) if vjps is not None else None
        self.text, self.latex = text, latex
        self.derivative_text = tuple(derivative_text)
        self.derivative_latex = tuple(derivative_latex)
        rules = self.derivatives if self.derivatives is not None else self.vjps
        for what, count in (("rules", len(rules)), ("derivative_text", len(self.derivative_text)),
                            ("derivative_latex", len(self.derivative_latex))):
            if count != self.arity:
                raise ValueError(f"op {name!r}: {self.arity} operand(s) but {count} {what}")
        if not all(callable(rule) for rule in rules):
            raise TypeError(f"op {name!r}: every derivative or vjp rule must be callable")
        self._bound: dict[Any, Any] = {}

    @property
    def elementwise(self) -> bool:
        """True when the op has a local derivative per element (usable by ``Value`` and ``Dual``)."""
        return self.derivatives is not None

    def __repr__(self) -> str:
        return f"<Op {self.name}: {self.formula()}>"

    def __str__(self) -> str:
        return self.symbol

    # -- applying the op ------------------------------------------------------------------
    def __call__(self, *operands: Any, **params: Any) -> Any:
        """Apply the op: ``MUL(x, w)`` is ``x * w``; parameters by keyword
        (``LEAKY_RELU(x, slope=0.1)``). The result is a ``Value``, ``Tensor`` or ``Dual``, as
        its operands are (numbers and arrays mixed in become constants)."""
        if len(operands) != self.arity:
            raise TypeError(f"op {self.name!r} takes {self.arity} operand(s) "
                            f"({', '.join(self.inputs)}), got {len(operands)}")
        params = self.check_params(params)
        for x in operands:
            apply = getattr(type(x), "_apply", None)
            if apply is not None:
                result = apply(self, operands[0], operands[1] if self.arity == 2 else None,
                               params)
                if result is NotImplemented:
                    break
                return result
        kinds = ", ".join(type(x).__name__ for x in operands)
        raise TypeError(f"op {self.name!r} needs a Value, Tensor or Dual operand (numbers and "
                        f"arrays may be mixed in); got {kinds}")

    def check_params(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The parameters as the op stores them, or TypeError naming a missing or unknown one."""
        if not params and not self.params:
            return None
        unknown = [k for k in params if k not in self.params]
        missing = [k for k in self.params if k not in params]
        if unknown or missing:
            expected = ", ".join(self.params) or "none"
            raise TypeError(f"op {self.name!r} takes the parameters ({expected}); "
                            + (f"unknown: {', '.join(unknown)}" if unknown else
                               f"missing: {', '.join(missing)}"))
        return dict(params)

    def local_derivatives(self, node: Any) -> tuple[Any, ...]:
        """``∂out/∂operand`` for each operand of an elementwise node, at its data (numbers
        or arrays before broadcasting is undone)."""
        if self.derivatives is None:
            raise TypeError(f"op {self.name!r} has no elementwise local derivative; its "
                            "gradient is a vector-Jacobian product")
        args = [p.data for p in node.parents]
        math = node._raw_math
        return tuple(rule(math, node.data, *args, **node.params) for rule in self.derivatives)

    # -- formulas -------------------------------------------------------------------------
    def _render(self, template: str, names: Sequence[str] | None,
                params: Mapping[str, Any] | None) -> str:
        names = self.inputs if names is None else tuple(names)
        if len(names) != self.arity:
            raise ValueError(f"op {self.name!r} takes {self.arity} operand name(s), got {len(names)}")
        mapping = {name: name for name in self.params}   # unknown values render as their names
        mapping.update({k: _fmt(v) for k, v in (params or _EMPTY).items()})
        mapping.update(zip(self.inputs, names))
        return Template(template).safe_substitute(mapping)

    def formula(self, names: Sequence[str] | None = None, *, latex: bool = False,
                params: Mapping[str, Any] | None = None) -> str:
        """The forward formula with operand names and parameter values substituted:
        ``x * w`` (or ``x \\cdot w`` with ``latex=True``)."""
        return self._render(self.latex if latex else self.text, names, params)

    def derivative_formula(self, position: int, names: Sequence[str] | None = None, *,
                           latex: bool = False, params: Mapping[str, Any] | None = None) -> str:
        """``∂out/∂operand[position]`` as a formula over the operand names: ``w`` for ``x * w``."""
        templates = self.derivative_latex if latex else self.derivative_text
        try:
            template = templates[position]
        except IndexError:
            raise IndexError(f"op {self.name!r} has {self.arity} operand(s) "
                             f"({', '.join(self.inputs)}): position must be 0"
                             f"{' or 1' if self.arity == 2 else ''}, got {position!r}") from None
        return self._render(template, names, params)


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


class Bound:
    """An op as a node stores it: the record, its parameter values, and the two rules the
    backward loop calls, ``rule(m, out, a, b) -> ∂out/∂operand`` (``None`` for a missing
    second operand). One per op and node class, or per node when the op has parameters."""

    __slots__ = ("op", "params", "rules")

    def __init__(self, op: Op, params: dict[str, Any] | None, rules: tuple[Any, Any]) -> None:
        self.op, self.params, self.rules = op, params, rules

    def __repr__(self) -> str:
        return f"<Bound {self.op.name} {self.params or ''}>"


def bind(op: Op, node_class: type, params: dict[str, Any] | None,
         wrap: Callable[[Rule, int], Rule] | None = None) -> Bound:
    """``op`` as a node of ``node_class`` stores it. Its rules are the op's derivative (or
    vjp) rules called as ``rule(m, out, a, b)``; ``wrap(rule, position)`` adapts a rule to the
    node class and that calling convention (a tensor makes a vjp a linear map on the upstream
    gradient). Made once per op and class; an op with parameters gets them bound per node."""
    plain = op._bound.get(node_class)
    if plain is None:
        rules = []
        for position, rule in enumerate(op.derivatives if op.derivatives is not None else op.vjps):
            if wrap is not None:
                rules.append(wrap(rule, position))
            else:
                rules.append(_ignore_second(rule) if op.arity == 1 else rule)
        plain = op._bound[node_class] = Bound(op, None, (rules[0], rules[1] if op.arity == 2 else None))
    if not params:
        return plain
    return Bound(op, params, tuple(None if r is None else partial(r, **params) for r in plain.rules))


def _ignore_second(rule: Rule) -> Rule:
    """``rule(m, out, a)`` called as the loop calls every rule, ``(m, out, a, b)``."""
    def one_operand(m: Any, out: Any, a: Any, b: Any, **params: Any) -> Any:
        return rule(m, out, a, **params) if params else rule(m, out, a)
    return one_operand


def constant_result(function: Rule) -> Rule:
    """Mark a math-namespace helper whose result takes no gradient (a mask, a shape): on
    graph nodes it is called with their data."""
    function.constant_result = True  # type: ignore[attr-defined]
    return function


class GraphMath:
    """The math namespace for ``create_graph``: ``m.name(...)`` applies the op called ``name``
    when an argument is a graph node, and is ``raw.name(...)`` otherwise.

    So a rule may call any op of the tables by name, with its operands and then its
    parameters in the op's ``signature`` order (``m.sum(g, axis, True)``,
    ``m.where(condition, a, b)``); a helper marked :func:`constant_result` gets the nodes'
    data. Nothing is listed by hand: a new op is resolvable as soon as it is in the table.
    """

    def __init__(self, raw: Any, node_class: type, ops: Sequence[Op]) -> None:
        self._raw, self._node_class = raw, node_class
        self._ops = {op.name: op for op in ops}

    def __getattr__(self, name: str) -> Any:
        op = self._ops.get(name)
        raw = getattr(self._raw, name, None)
        if op is None and raw is None:
            raise AttributeError(f"a rule called m.{name}, which is neither an op of the tables "
                                 f"nor a function of {self._raw.__name__}")
        node_class = self._node_class

        def call(*args: Any, **kwargs: Any) -> Any:
            if not any(isinstance(v, node_class) for v in (*args, *kwargs.values())):
                return raw(*args, **kwargs)
            if op is not None:
                named = dict(zip(op.signature, args), **kwargs)
                return op(*[named.pop(k) for k in op.inputs], **named)
            if getattr(raw, "constant_result", False):
                data = [v.data if isinstance(v, node_class) else v for v in args]
                return raw(*data, **{k: getattr(v, "data", v) for k, v in kwargs.items()})
            raise TypeError(f"a rule called m.{name} on a graph node, but {name!r} is not an op "
                            "of the tables: write the rule with ops, or mark the helper "
                            "constant_result if its result takes no gradient")

        setattr(self, name, call)
        return call
