"""Parse a formula typed on the command line into a Value graph, safely.

The text is parsed with Python's ``ast`` and walked against a whitelist: numbers, variable
names, ``+ - * / **``, unary minus and calls of the engine's functions. Nothing is ever
evaluated by Python; anything else (attribute access, subscripts, ``__import__``, keyword
arguments, unknown names) raises :class:`ExpressionError` with a one-line message.
"""
from __future__ import annotations

import ast
from typing import Callable, Mapping

from autograd_core import Value

FUNCTIONS: dict[str, Callable[..., Value]] = {
    "exp": Value.exp, "log": Value.log, "sqrt": Value.sqrt, "tanh": Value.tanh,
    "sigmoid": Value.sigmoid, "relu": Value.relu, "softplus": Value.softplus,
    "sin": Value.sin, "cos": Value.cos, "step": Value.step, "sign": Value.sign,
    "abs": Value.__abs__, "leaky_relu": Value.leaky_relu,
}
"""The functions an expression may call; ``leaky_relu(x, 0.1)`` takes a slope."""

_BINARY = {ast.Add: Value.__add__, ast.Sub: Value.__sub__, ast.Mult: Value.__mul__,
           ast.Div: Value.__truediv__, ast.Pow: Value.__pow__}


class ExpressionError(ValueError):
    """The expression uses something outside the whitelist, or a variable has no value."""


def parse_assignments(items: list[str]) -> dict[str, float]:
    """``["x=0.5", "w=-1.5"]`` -> ``{"x": 0.5, "w": -1.5}``."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, number = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ExpressionError(f"--set expects NAME=NUMBER, got {item!r}")
        try:
            values[name] = float(number)
        except ValueError:
            raise ExpressionError(f"--set {name}: {number!r} is not a number") from None
    return values


def build(expression: str, values: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
    """The Value graph of ``expression`` with each variable a labelled leaf; returns
    ``(root, variables)``."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"cannot parse {expression!r}: {err.msg}") from None
    variables: dict[str, Value] = {}

    def walk(node: ast.AST) -> Value | float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise ExpressionError(f"{node.id} is a function: call it, e.g. {node.id}(x)")
            if node.id not in values:
                raise ExpressionError(f"variable {node.id!r} has no value: pass --set {node.id}=NUMBER")
            if node.id not in variables:
                variables[node.id] = Value(values[node.id], label=node.id)
            return variables[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = walk(node.left), walk(node.right)
            if not isinstance(left, Value):
                left = Value(left, requires_grad=False)
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = walk(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
            if node.keywords:
                raise ExpressionError(f"{node.func.id}() takes no keyword arguments")
            args = [walk(a) for a in node.args]
            expected = 2 if node.func.id == "leaky_relu" else 1
            if not (1 <= len(args) <= expected):
                raise ExpressionError(f"{node.func.id}() takes {expected} argument(s), got {len(args)}")
            first = args[0] if isinstance(args[0], Value) else Value(args[0], requires_grad=False)
            extra = [float(a.data if isinstance(a, Value) else a) for a in args[1:]]
            return FUNCTIONS[node.func.id](first, *extra)
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ExpressionError(f"unknown function {name!r}; allowed: {', '.join(sorted(FUNCTIONS))}")
        raise ExpressionError(f"not allowed in an expression: {ast.unparse(node)!r} "
                              f"({type(node).__name__})")

    root = walk(tree)
    if not isinstance(root, Value):
        root = Value(root, requires_grad=False)
    return root, variables
