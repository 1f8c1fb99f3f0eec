"""Hypothesis: random expressions over every op, gradients checked against the HIPS autograd
oracle and against central finite differences."""
from __future__ import annotations

from typing import Any, Callable

import autograd
import autograd.numpy as anp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_core import Value, gradcheck

from .oracle import UNARY

# Operations applied to sub-expressions, guarded so every input stays in the op's domain.
# Each entry is written twice: for Values (methods) and for autograd.numpy (the oracle).
SMOOTH_UNARY: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "neg": (lambda v: -v, UNARY["neg"]),
    "exp": (lambda v: v.tanh().exp(), lambda a: anp.exp(anp.tanh(a))),
    "log": (lambda v: (v * v + 1).log(), lambda a: anp.log(a * a + 1)),
    "sqrt": (lambda v: (v * v + 0.5).sqrt(), lambda a: anp.sqrt(a * a + 0.5)),
    "tanh": (lambda v: v.tanh(), UNARY["tanh"]),
    "sigmoid": (lambda v: v.sigmoid(), UNARY["sigmoid"]),
    "softplus": (lambda v: v.softplus(), UNARY["softplus"]),
    "sin": (lambda v: v.sin(), UNARY["sin"]),
    "cos": (lambda v: v.cos(), UNARY["cos"]),
    "square": (lambda v: v ** 2, lambda a: a ** 2),
}
KINKED_UNARY = {
    "relu": (lambda v: v.relu(), UNARY["relu"]),
    "abs": (lambda v: abs(v), UNARY["abs"]),
    "leaky_relu": (lambda v: v.leaky_relu(), UNARY["leaky_relu"]),
}
BINARY: dict[str, tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]]] = {
    "add": (lambda u, v: u + v, lambda a, b: a + b),
    "sub": (lambda u, v: u - v, lambda a, b: a - b),
    "mul": (lambda u, v: u * v, lambda a, b: a * b),
    "div": (lambda u, v: u / (v * v + 1), lambda a, b: a / (b * b + 1)),
    # oracle written as exp(b ln a): HIPS autograd's own power rule uses a non-differentiable
    # where(b == 0, ...) that zeroes second derivatives at an exponent of exactly 0
    "pow": (lambda u, v: (u * u + 0.5) ** v.tanh(),
            lambda a, b: anp.exp(anp.tanh(b) * anp.log(a * a + 0.5))),
    "rsub_const": (lambda u, v: 2.0 - u * v, lambda a, b: 2.0 - a * b),
}

N_VARS = 3
# HIPS autograd warns when a random expression happens not to use a variable: expected here
pytestmark = pytest.mark.filterwarnings("ignore:Output seems independent of input")


def expressions(unary: dict[str, Any]) -> st.SearchStrategy[Any]:
    leaves = st.one_of(st.integers(0, N_VARS - 1).map(lambda i: ("var", i)),
                       st.floats(-2, 2).map(lambda c: ("const", c)))
    return st.recursive(
        leaves,
        lambda child: st.one_of(
            st.tuples(st.sampled_from(sorted(unary)), child),
            st.tuples(st.sampled_from(sorted(BINARY)), child, child)),
        max_leaves=8)


def evaluate(tree: Any, env: list[Any], backend: int, unary: dict[str, Any]) -> Any:
    kind = tree[0]
    if kind == "var":
        return env[tree[1]]
    if kind == "const":
        return Value(tree[1], requires_grad=False) if backend == 0 else tree[1]
    if kind in unary:
        return unary[kind][backend](evaluate(tree[1], env, backend, unary))
    return BINARY[kind][backend](evaluate(tree[1], env, backend, unary),
                                 evaluate(tree[2], env, backend, unary))


def engine_grads(tree: Any, xs: list[float], unary: dict[str, Any]) -> tuple[float, list[float]]:
    values = [Value(x) for x in xs]
    out = evaluate(tree, values, 0, unary)
    if not out.requires_grad:                  # an expression of constants only
        out = values[0] * 0 + out
    out.backward()
    return out.data, [v.grad for v in values]


def oracle_grads(tree: Any, xs: list[float], unary: dict[str, Any]) -> tuple[float, list[float]]:
    f = lambda *a: evaluate(tree, list(a), 1, unary) + 0.0 * a[0]  # noqa: E731
    return float(f(*xs)), [float(autograd.grad(f, i)(*xs)) for i in range(N_VARS)]


inputs = st.lists(st.floats(-2, 2), min_size=N_VARS, max_size=N_VARS)


@settings(max_examples=150, deadline=None)
@given(tree=expressions(SMOOTH_UNARY), xs=inputs)
def test_smooth_expressions_match_oracle_and_finite_differences(tree: Any, xs: list[float]) -> None:
    value, grads = engine_grads(tree, xs, SMOOTH_UNARY)
    want_value, want_grads = oracle_grads(tree, xs, SMOOTH_UNARY)
    assert value == pytest.approx(want_value, rel=1e-9, abs=1e-12)
    assert grads == pytest.approx(want_grads, rel=1e-7, abs=1e-9)
    f = lambda *vs: (lambda out: out if out.requires_grad else vs[0] * 0 + out)(  # noqa: E731
        evaluate(tree, list(vs), 0, SMOOTH_UNARY))
    assert gradcheck(f, *[Value(x) for x in xs], atol=1e-4, rtol=1e-3)


@settings(max_examples=150, deadline=None)
@given(tree=expressions({**SMOOTH_UNARY, **KINKED_UNARY}), xs=inputs)
def test_expressions_with_kinks_match_oracle(tree: Any, xs: list[float]) -> None:
    ops = {**SMOOTH_UNARY, **KINKED_UNARY}
    value, grads = engine_grads(tree, xs, ops)
    want_value, want_grads = oracle_grads(tree, xs, ops)
    assert value == pytest.approx(want_value, rel=1e-9, abs=1e-12)
    assert grads == pytest.approx(want_grads, rel=1e-7, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(tree=expressions(SMOOTH_UNARY), xs=inputs)
def test_second_derivatives_match_oracle(tree: Any, xs: list[float]) -> None:
    values = [Value(x) for x in xs]
    out = evaluate(tree, values, 0, SMOOTH_UNARY)
    if not out.requires_grad:
        out = values[0] * 0 + out
    out.backward(create_graph=True)
    first = values[0].grad
    for v in values:
        v.zero_grad()
    depends = isinstance(first, Value) and first.requires_grad
    if depends:
        first.backward()
    got = [v.grad if depends else 0.0 for v in values]
    f = lambda *a: evaluate(tree, list(a), 1, SMOOTH_UNARY) + 0.0 * a[0]  # noqa: E731
    want = [float(autograd.grad(autograd.grad(f, 0), i)(*xs)) for i in range(N_VARS)]
    assert got == pytest.approx(want, rel=1e-6, abs=1e-8)
