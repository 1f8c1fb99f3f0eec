"""Every scalar op: forward against NumPy, local derivative against HIPS autograd and
central differences, formulas present and rendered."""
from __future__ import annotations

import math

import autograd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_core import Value, gradcheck
from autograd_core.ops import TENSOR_ELEMENTWISE_OPS
from autograd_core.tensor_ops import TENSOR_OPS

from .oracle import BINARY, UNARY

# Points inside each op's domain and away from kinks, so finite differences apply.
UNARY_DOMAIN = {"log": (0.1, 5.0), "sqrt": (0.1, 5.0)}
finite = st.floats(-3.0, 3.0, allow_nan=False)


def apply_unary(name: str, x: Value) -> Value:
    return -x if name == "neg" else abs(x) if name == "abs" else getattr(x, name)()


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_unary_value_and_gradient_match_autograd(name: str, data: st.DataObject) -> None:
    lo, hi = UNARY_DOMAIN.get(name, (-3.0, 3.0))
    x0 = data.draw(st.floats(lo, hi).filter(lambda v: abs(v) > 1e-3))
    x = Value(x0)
    y = apply_unary(name, x)
    y.backward()
    assert y.data == pytest.approx(float(UNARY[name](x0)), rel=1e-12, abs=1e-300)
    assert x.grad == pytest.approx(float(autograd.grad(UNARY[name])(x0)), rel=1e-9, abs=1e-12)
    assert gradcheck(lambda v: apply_unary(name, v), Value(x0))


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=40, deadline=None)
@given(a0=st.floats(0.2, 3.0), b0=st.floats(-2.5, 2.5).filter(lambda v: abs(v) > 0.1))
def test_binary_value_and_gradients_match_autograd(name: str, a0: float, b0: float) -> None:
    ops = {"add": Value.__add__, "sub": Value.__sub__, "mul": Value.__mul__,
           "div": Value.__truediv__, "pow": Value.__pow__}
    a, b = Value(a0), Value(b0)
    out = ops[name](a, b)
    out.backward()
    f = BINARY[name]
    assert out.data == pytest.approx(float(f(a0, b0)), rel=1e-12)
    assert a.grad == pytest.approx(float(autograd.grad(f, 0)(a0, b0)), rel=1e-9)
    assert b.grad == pytest.approx(float(autograd.grad(f, 1)(a0, b0)), rel=1e-9)
    assert gradcheck(lambda u, v: ops[name](u, v), Value(a0), Value(b0))


@pytest.mark.parametrize("method,number_first", [("__add__", 2.0), ("__sub__", 2.0),
                                                  ("__mul__", 2.0), ("__truediv__", 2.0),
                                                  ("__pow__", 2.0)])
def test_python_numbers_work_on_both_sides(method: str, number_first: float) -> None:
    x = Value(3.0)
    reflected = method.replace("__", "__r", 1)
    direct = getattr(x, method)(number_first)
    swapped = getattr(x, reflected)(number_first)
    py = getattr(float(3.0), method)(number_first)
    py_swapped = getattr(float(3.0), reflected)(number_first)
    assert direct.data == pytest.approx(py) and swapped.data == pytest.approx(py_swapped)
    # the number became a constant parent: it takes no gradient
    assert [p.requires_grad for p in direct.parents] == [True, False]
    assert [p.requires_grad for p in swapped.parents] == [False, True]


def test_numpy_scalars_defer_to_value() -> None:
    x = Value(2.0)
    for left in (np.float64(3.0), np.int64(3), np.float32(3.0)):
        out = left * x
        assert isinstance(out, Value) and out.data == 6.0
    out = np.float64(1.0) - x
    assert isinstance(out, Value) and out.data == -1.0


def test_power_with_value_exponent_has_log_derivative() -> None:
    a, b = Value(2.0), Value(3.0)
    (a ** b).backward()
    assert b.grad == pytest.approx(8.0 * math.log(2.0))
    assert a.grad == pytest.approx(3.0 * 4.0)
    c = Value(1.5)
    (2 ** c).backward()
    assert c.grad == pytest.approx(2 ** 1.5 * math.log(2.0))


def test_power_exponent_gradient_at_zero_base_is_zero_like_pytorch() -> None:
    a, b = Value(0.0), Value(2.0)
    (a ** b).backward()
    assert b.grad == 0.0 and a.grad == 0.0


def test_leaky_relu_slope_parameter() -> None:
    x = Value(-2.0)
    y = x.leaky_relu(0.2)
    y.backward()
    assert y.data == pytest.approx(-0.4) and x.grad == pytest.approx(0.2)
    assert y.params == {"slope": 0.2}
    x2 = Value(-2.0)
    x2.leaky_relu().backward()
    assert x2.grad == pytest.approx(0.01)


@pytest.mark.parametrize("method", ["step", "sign"])
@pytest.mark.parametrize("x0,expected", [(-2.0, None), (0.0, None), (1.5, None)])
def test_step_and_sign_have_zero_gradient(method: str, x0: float, expected: None) -> None:
    x = Value(x0)
    y = getattr(x, method)()
    y.backward()
    assert x.grad == 0.0
    want = float(np.heaviside(x0, 0.0)) if method == "step" else float(np.sign(x0))
    assert y.data == want


def test_every_op_has_formulas_for_each_input() -> None:
    for op in TENSOR_ELEMENTWISE_OPS + TENSOR_OPS:
        names = ["x", "w"][: op.arity]
        text = op.formula(names)
        assert "x" in text and "$" not in text, op.name
        assert "$" not in op.formula(names, latex=True)
        for i in range(op.arity):
            assert "$" not in op.derivative_formula(i, names)
            assert "$" not in op.derivative_formula(i, names, latex=True)


def test_formula_renders_operand_names_and_params() -> None:
    x, w = Value(2.0, label="x"), Value(3.0, label="w")
    z = x * w
    assert z.op.formula(["x", "w"]) == "x * w"
    assert z.op.formula(["x", "w"], latex=True) == r"x \cdot w"
    assert z.op.derivative_formula(0, ["x", "w"]) == "w"
    assert z.local_derivatives() == (3.0, 2.0)
    y = x.leaky_relu(0.1)
    assert "0.1" in y.op.derivative_formula(0, ["x"], params=y.params)
