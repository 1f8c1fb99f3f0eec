"""Parse a formula typed on the command line into a Value graph, safely.

The text is parsed with Python's ``ast`` and walked against a whitelist: numbers, variable
names, ``+ - * / **``, unary minus and calls of the engine's functions. Nothing is ever
evaluated by Python; anything else (attribute access, subscripts, ``__import__``, keyword
arguments, unknown names) raises :class:`ExpressionError` with a one-line message.

Its size is bounded before anything is built: at most :data:`MAX_LENGTH` characters (checked
before parsing), :data:`MAX_NODES` operands and operations, nested at most :data:`MAX_DEPTH`
deep. The walk over the tree is iterative, so no expression within the bounds can exhaust
Python's recursion limit.
"""
from __future__ import annotations

import ast
import math
from typing import Callable, Mapping

from autograd_core import ELEMENTWISE_OPS, Value

FUNCTION_OPS = {op.name: op for op in ELEMENTWISE_OPS if op.arity == 1 and op.name != "neg"}
"""The ops an expression may call by name: every one-operand op of the table (``-x`` is
written as such); an op's parameters follow its operand (``leaky_relu(x, 0.1)``)."""
FUNCTIONS: dict[str, Callable[..., Value]] = {name: getattr(Value, name) for name in FUNCTION_OPS}
"""The Value method behind each function name (parameters take the method's defaults)."""

_BINARY = {ast.Add: Value.__add__, ast.Sub: Value.__sub__, ast.Mult: Value.__mul__,
           ast.Div: Value.__truediv__, ast.Pow: Value.__pow__}


MAX_LENGTH = 5_000
"""The longest expression accepted, in characters."""
MAX_NODES = 1_000
"""The most numbers, variables, operations and calls in one expression (``x + y*2``: 5)."""
MAX_DEPTH = 500
"""The deepest nesting accepted (``x + x + x`` nests 3 deep: each ``+`` holds the one before)."""


class ExpressionError(ValueError):
    """The expression uses something outside the whitelist, is too large, or a variable has
    no value."""


TOO_LARGE = "a float holds at most about 1.8e308"


def parse_assignments(items: list[str]) -> dict[str, float]:
    """``["x=0.5", "w=-1.5"]`` -> ``{"x": 0.5, "w": -1.5}``.

    The one rule for numbers typed on the command line, here as in an expression: each is
    a finite float. ``1e999``, ``inf`` and ``nan`` are refused (as the literal ``1e309``
    is); a result may still overflow to ``inf``, as IEEE arithmetic says."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, number = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ExpressionError(f"--set expects NAME=NUMBER, got {item!r}")
        try:
            value = float(number)
        except ValueError:
            raise ExpressionError(f"--set {name}: {number!r} is not a number") from None
        if not math.isfinite(value):
            why = "is too large" if math.isinf(value) and "inf" not in number.lower() else \
                "is not a finite number"
            raise ExpressionError(f"--set {name}: {_short(number.strip(), 30)} {why} (every "
                                  f"number must be finite; {TOO_LARGE})")
        values[name] = value
    return values


def _source(expression: str, node: ast.AST, limit: int = 60) -> str:
    """The text of ``node`` (shortened), without ``ast.unparse`` (which recurses)."""
    return _short(ast.get_source_segment(expression, node) or type(node).__name__, limit)


def parse(expression: str) -> ast.expr:
    """The syntax tree of ``expression``, after checking its length, node count and depth."""
    if not isinstance(expression, str):
        raise ExpressionError(f"an expression is a string; got {type(expression).__name__}")
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(f"the expression has {len(expression):,} characters; at most "
                              f"{MAX_LENGTH:,} are accepted")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"cannot parse {_short(expression)!r}: {err.msg}") from None
    except (RecursionError, MemoryError):          # the parser's own nesting limits
        raise ExpressionError(f"the expression is nested too deeply (at most {MAX_DEPTH} "
                              f"levels are accepted)") from None
    count, deepest, stack = 0, 0, [(tree.body, 1)]
    while stack:                    # the length bound keeps this walk short
        node, depth = stack.pop()
        count, deepest = count + 1, max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node)
                     if isinstance(child, (ast.expr, ast.keyword)))
    if count > MAX_NODES:
        raise ExpressionError(f"the expression has {count:,} numbers, variables and "
                              f"operations; at most {MAX_NODES:,} are accepted")
    if deepest > MAX_DEPTH:
        raise ExpressionError(f"the expression is nested {deepest:,} levels deep (each "
                              f"operation holding the next); at most {MAX_DEPTH} are accepted")
    return tree.body


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _operands(node: ast.AST) -> list[ast.expr]:
    """The sub-expressions ``node`` is computed from (checked by :func:`_check` first)."""
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _check(node: ast.AST, expression: str, values: Mapping[str, float]) -> None:
    """ExpressionError unless ``node`` is on the whitelist (its operands are checked later)."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        try:
            finite = math.isfinite(float(node.value))
        except OverflowError:
            finite = False
        if not finite:
            raise ExpressionError(f"the number {_source(expression, node, 30)} is too large "
                                  f"(every number must be finite; {TOO_LARGE})")
        return
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(f"{node.id} is a function: call it, e.g. {node.id}(x)")
        if node.id not in values:
            raise ExpressionError(f"variable {node.id!r} has no value: pass --set {node.id}=NUMBER")
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
        if node.keywords:
            raise ExpressionError(f"{node.func.id}() takes no keyword arguments")
        expected = 1 + len(FUNCTION_OPS[node.func.id].params)
        if not 1 <= len(node.args) <= expected:
            raise ExpressionError(f"{node.func.id}() takes {expected} argument(s), "
                                  f"got {len(node.args)}")
        return
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else _source(expression, node.func)
        raise ExpressionError(f"unknown function {name!r}; allowed: {', '.join(sorted(FUNCTIONS))}")
    raise ExpressionError(f"not allowed in an expression: {_source(expression, node)!r} "
                          f"({type(node).__name__})")


def _as_value(x: Value | float) -> Value:
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


def build(expression: str, values: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
    """The Value graph of ``expression`` with each variable a labelled leaf; returns
    ``(root, variables)``. The size is checked first (:func:`parse`); the tree is then
    walked with an explicit stack, operands left to right."""
    body = parse(expression)
    variables: dict[str, Value] = {}
    results: dict[ast.AST, Value | float] = {}
    stack: list[tuple[ast.AST, bool]] = [(body, False)]
    while stack:
        node, operands_done = stack.pop()
        if not operands_done:
            _check(node, expression, values)
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(_operands(node)))
            continue
        args = [results.pop(child) for child in _operands(node)]
        if isinstance(node, ast.Constant):
            results[node] = float(node.value)
        elif isinstance(node, ast.Name):
            if node.id not in variables:
                variables[node.id] = Value(values[node.id], label=node.id)
            results[node] = variables[node.id]
        elif isinstance(node, ast.BinOp):
            results[node] = _BINARY[type(node.op)](_as_value(args[0]), args[1])
        elif isinstance(node, ast.UnaryOp):
            results[node] = -args[0] if isinstance(node.op, ast.USub) else args[0]
        else:
            extra = [float(a.data if isinstance(a, Value) else a) for a in args[1:]]
            results[node] = FUNCTIONS[node.func.id](_as_value(args[0]), *extra)
    return _as_value(results[body]), variables
