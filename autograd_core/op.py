"""The op record: one operation's forward, local derivatives and formulas, side by side.

Every op the engine knows is one :class:`Op` in ``autograd_core.ops`` (scalar and elementwise
ops, shared by ``Value`` and ``Tensor``) or ``autograd_core.tensor_ops`` (shape, reduction
and linear-algebra ops, ``Tensor`` only). The backward loop, the step-by-step trace, the graph
labels and the docs all read from these records; nothing about an op is written twice.

Rules are written once against a math namespace ``m`` so that the same lambda serves
Python floats (``m`` = :mod:`autograd_core.scalar_math`), NumPy arrays
(:mod:`autograd_core.array_math`) and, for ``create_graph=True``, graph nodes themselves
(``m`` maps each op name to a function that records that op).
"""
from __future__ import annotations

from string import Template
from typing import Any, Callable, Sequence

Rule = Callable[..., Any]
_NO_PARAMS: dict[str, Any] = {}


class Op:
    """One differentiable operation ``out = f(a, b, ...; params)``.

    Attributes:
        name: identifier, also the method name (``"mul"``, ``"tanh"``).
        symbol: what a graph's op node shows (``"*"``, ``"tanh"``).
        forward: ``forward(m, *inputs, **params) -> out``.
        derivatives: for elementwise ops, one rule per input giving the local derivative
            ``∂out/∂input_i = rule(m, out, *inputs, **params)``; the chain rule then
            multiplies it by the upstream gradient.
        vjps: one rule per input giving the vector-Jacobian product
            ``rule(m, g, out, *inputs, **params) = g · ∂out/∂input_i`` for ops whose
            Jacobian is never formed (matmul, sum, reshape, ...). Derived from
            ``derivatives`` when those are given.
        inputs: placeholder names of the operands (``"a b"``); ``"*xs"`` makes the op
            variadic: its one vjp rule returns a list with one entry per operand.
        params: names of keyword parameters (``"slope"``), passed as ``**params``.
        text, latex: the forward formula as a template over ``$a``, ``$b``, ... and params.
        derivative_text, derivative_latex: ``∂out/∂input_i`` as templates, one per input.
    """

    __slots__ = ("name", "symbol", "arity", "forward", "derivatives", "vjps", "text", "latex",
                 "derivative_text", "derivative_latex", "inputs", "params", "variadic")

    def __init__(self, name: str, *, symbol: str | None = None, inputs: str = "a", params: str = "",
                 forward: Rule, derivatives: Sequence[Rule] | None = None,
                 vjps: Sequence[Rule] | None = None, text: str, latex: str,
                 derivative_text: Sequence[str], derivative_latex: Sequence[str]) -> None:
        if (derivatives is None) == (vjps is None):
            raise ValueError(f"op {name!r}: give exactly one of derivatives= or vjps=")
        self.name = name
        self.symbol = symbol or name
        self.variadic = inputs.startswith("*")       # "*tensors": any number of inputs
        self.inputs = (inputs[1:],) if self.variadic else tuple(inputs.split())
        self.arity = len(self.inputs)
        self.params = tuple(params.split())          # non-differentiable keyword parameters
        self.forward = forward
        self.derivatives = tuple(derivatives) if derivatives is not None else None
        self.vjps = tuple(vjps) if vjps is not None else None
        self.text, self.latex = text, latex
        self.derivative_text = tuple(derivative_text)
        self.derivative_latex = tuple(derivative_latex)
        rules = self.derivatives if self.derivatives is not None else self.vjps
        for count in (len(rules), len(self.derivative_text), len(self.derivative_latex)):
            if count != self.arity:
                raise ValueError(f"op {name!r}: {self.arity} inputs but {count} rules/formulas")

    @property
    def elementwise(self) -> bool:
        """True when the op has a local derivative per element (scalar-capable op)."""
        return self.derivatives is not None

    def __repr__(self) -> str:
        return f"<Op {self.name}: {self.formula()}>"

    def __str__(self) -> str:
        return self.symbol

    # -- the chain rule for one node --------------------------------------------------
    def vjp(self, node: Any, upstream: Any, create_graph: bool = False) -> list[Any]:
        """Gradient contributions ``upstream · ∂out/∂parent`` for each parent of ``node``.

        ``None`` for a parent that does not require grad. With ``create_graph`` the
        contributions are graph nodes, so they can be differentiated again.
        """
        parents = node._parents
        if create_graph:
            m, out, args = node._graph_math, node, parents
        else:
            m, out, args = node._raw_math, node.data, [p.data for p in parents]
        params = node._ctx or _NO_PARAMS
        if self.variadic:
            contributions = self.vjps[0](m, upstream, out, *args, **params)  # type: ignore[index]
            return [c if p.requires_grad else None for p, c in zip(parents, contributions)]
        result = []
        if self.derivatives is not None:            # elementwise: upstream · local derivative
            for parent, rule in zip(parents, self.derivatives):
                if parent.requires_grad:
                    local = rule(m, out, *args, **params)
                    # a local derivative of exactly 1 (add, sub) passes upstream on, uncopied
                    result.append(upstream if local.__class__ is float and local == 1.0
                                  else upstream * local)
                else:
                    result.append(None)
        else:                                       # a vector-Jacobian product rule
            for parent, rule in zip(parents, self.vjps):  # type: ignore[arg-type]
                result.append(rule(m, upstream, out, *args, **params) if parent.requires_grad else None)
        return result

    def local_derivatives(self, node: Any) -> tuple[Any, ...]:
        """``∂out/∂parent`` for each parent of an elementwise node, as numbers (or arrays)."""
        if self.derivatives is None:
            raise TypeError(f"op {self.name!r} has no elementwise local derivative; "
                            "its gradient is a vector-Jacobian product")
        args = [p.data for p in node._parents]
        params = node._ctx or _NO_PARAMS
        return tuple(rule(node._raw_math, node.data, *args, **params) for rule in self.derivatives)

    # -- formulas -----------------------------------------------------------------------
    def _render(self, template: str, names: Sequence[str] | None, params: dict[str, Any]) -> str:
        names = self.inputs if names is None else tuple(names)
        if self.variadic:
            names = (", ".join(names),)
        if len(names) != self.arity:
            raise ValueError(f"op {self.name!r} takes {self.arity} operand names, got {len(names)}")
        mapping = {name: name for name in self.params}   # unknown values render as their names
        mapping.update({k: _fmt(v) for k, v in params.items()})
        mapping.update(zip(self.inputs, names))
        return Template(template).safe_substitute(mapping)

    def formula(self, names: Sequence[str] | None = None, *, latex: bool = False,
                **params: Any) -> str:
        """The forward formula with operand names substituted: ``x * w`` / ``x \\cdot w``."""
        return self._render(self.latex if latex else self.text, names, params)

    def derivative_formula(self, index: int, names: Sequence[str] | None = None, *,
                           latex: bool = False, **params: Any) -> str:
        """``∂out/∂input[index]`` as a formula over the operand names: ``w`` for ``x * w``."""
        templates = self.derivative_latex if latex else self.derivative_text
        return self._render(templates[index], names, params)


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
