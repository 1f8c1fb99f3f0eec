"""Edge cases of the op tables (issue 11, "Reliability"): x**0 at 0, bad operands, invalid
axes, var with N <= correction, empty and 0-d tensors, IEEE results without RuntimeWarnings,
and error messages that name the problem.

Expected values come from NumPy, the HIPS autograd oracle or the mathematics (PyTorch's
conventions where the mathematics leaves a choice), never from this engine's output.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from autograd_core import Tensor, Value, concatenate, hessian, maximum, minimum, stack, where
from autograd_core.ops import ELEMENTWISE_OPS

inf, nan = np.inf, np.nan
EDGES = [0.0, -0.0, inf, -inf, nan, 1e308, -1e308, 5e-324, -5e-324, 1.0, -2.5]
"""Zero of both signs, infinities, nan, the largest and the smallest (subnormal) floats, and
two ordinary numbers."""

quiet = pytest.mark.filterwarnings("error")     # a RuntimeWarning fails the test


def backward_ones(out: Tensor) -> None:
    """Backward with an upstream gradient of ones (no sum: a sum of ±inf would itself be nan)."""
    out.backward(np.ones(out.shape))


def assert_same(actual: Any, expected: Any) -> None:
    """Equal values, shapes and nan positions (and signs of zero do not matter)."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_array_equal(actual, expected)


# -- item 2: the gradient of x ** 0 -----------------------------------------------------------
@quiet
def test_zero_power_has_gradient_zero_at_zero_for_value() -> None:
    w = Value(0.0)
    (w ** 0 + w + w ** 2).backward()       # d/dw (1 + w + w²) = 1 + 2w = 1
    assert w.grad == 1.0
    for base in (0.0, -0.0, nan, inf, 3.0):
        v = Value(base)
        (v ** 0.0).backward()               # a^0 = 1 is constant in a (also nan ** 0 = 1)
        assert v.grad == 0.0, base


@quiet
def test_zero_power_has_gradient_zero_for_tensor() -> None:
    x = Tensor([0.0, -0.0, nan, inf, -inf, 3.0], requires_grad=True)
    out = x ** 0.0
    assert_same(out.data, np.ones(6))                          # NumPy: nan ** 0 = 1
    backward_ones(out)
    assert_same(x.grad, np.zeros(6))
    w = Tensor([0.0, 1.0], requires_grad=True)
    backward_ones(w ** 0 + w + w ** 2)
    assert_same(w.grad, [1.0, 3.0])                             # 1 + 2w


@quiet
def test_zero_power_second_derivatives() -> None:
    assert hessian(lambda x: x ** 0.0)(0.0) == 0.0
    assert_same(hessian(lambda t: (t ** 0.0).sum())(np.array([0.0, 2.0])), np.zeros((2, 2)))
    # 0 ** y = 0 for y > 0: every derivative in y is 0; the branch where() does not take
    # (0 ** y · ln 0) must not leak nan into the second derivative
    assert hessian(lambda y: 0.0 ** y)(0.5) == 0.0
    assert_same(hessian(lambda y: (0.0 ** y).sum())(np.array([0.5])), [[0.0]])
    assert_same(hessian(lambda y: (0.0 ** y).sum())(np.array([0.5, 2.0])), np.zeros((2, 2)))


@quiet
def test_power_second_derivatives_at_exponent_zero_away_from_zero() -> None:
    # f = a^b at b = 0: ∂²f/∂a² = b(b-1)a^(b-2) = 0, ∂²f/∂a∂b = a^(b-1)(1 + b ln a) = 1/a,
    # ∂²f/∂b² = a^b ln²a = ln²a (the x**0 fix must not zero these)
    for a in (2.0, 0.5, 3.0):
        h = hessian(lambda v: v[0] ** v[1])(np.array([a, 0.0]))
        np.testing.assert_allclose(h, [[0.0, 1 / a], [1 / a, np.log(a) ** 2]], rtol=1e-12)
        x, y = Value(a), Value(0.0)
        (x ** y).backward(create_graph=True)
        dx = x.grad
        x.grad, y.grad = 0.0, 0.0
        dx.backward()
        assert x.grad == pytest.approx(0.0) and y.grad == pytest.approx(1 / a)


SUBNORMALS = [5e-324, -5e-324, 1e-310, np.nextafter(0.0, 1.0) * 3]
"""Subnormal floats whose reciprocal overflows: x**-1 = inf there, so b·x**(b-1) at b = 0 is
0 · inf unless the rule says 0 (issue 23, item 6)."""


@quiet
@pytest.mark.parametrize("a", SUBNORMALS)
def test_zero_power_and_second_derivative_of_first_power_at_subnormals(a: float) -> None:
    from autograd_core import Dual

    v = Value(a)
    (v ** 0).backward()
    assert v.grad == 0.0                                      # a^0 = 1: constant in a
    t = Tensor([a, 2.0], requires_grad=True)
    backward_ones(t ** 0.0)
    assert_same(t.grad, [0.0, 0.0])
    t32 = Tensor(np.array([1e-45, 2.0], dtype=np.float32), requires_grad=True)  # f32 subnormal
    backward_ones(t32 ** 0.0)
    assert_same(t32.grad, [0.0, 0.0])
    assert t32.grad.dtype == np.float32
    assert (Dual(a, 1.0) ** 0).tangent == 0.0
    # d²(x**1)/dx² = d/dx (1 · x**0) = 0
    assert hessian(lambda x: x ** 1.0)(a) == 0.0
    assert_same(hessian(lambda x: (x ** 1.0).sum())(np.array([a, 2.0])), np.zeros((2, 2)))
    w = Value(a)
    (w ** 1).backward(create_graph=True)
    first = w.grad
    w.grad = 0.0
    first.backward()
    assert first.data == 1.0 and w.grad == 0.0


POW_POINTS = [(2.0, 3.0), (0.5, -1.5), (3.0, 0.5), (-2.0, 3.0), (1.5, 2.0), (0.7, 1.0),
              (4.0, -2.0), (-1.5, 2.0), (0.0, 2.0), (0.0, 3.5), (0.0, 1.0), (0.0, 0.0)]
"""Away from b = 0 with a ≠ 0 (where HIPS autograd's mixed derivative is a, not 1/a: see the
test above); at a = 0 both libraries take d(0^b)/db = 0 for b >= 0."""


@quiet
@pytest.mark.parametrize("a,b", POW_POINTS)
def test_power_first_and_second_derivatives_match_autograd(a: float, b: float) -> None:
    def f(v: Any) -> Any:
        return v[0] ** v[1]

    point = np.array([a, b])
    with np.errstate(all="ignore"):                 # the oracle's own log(negative) / log(0)
        want_grad = autograd.grad(f)(point)
        want_hess = autograd.hessian(f)(point)
    t = Tensor(point, requires_grad=True)
    f(t).backward()
    np.testing.assert_allclose(t.grad, want_grad, rtol=1e-10)
    np.testing.assert_allclose(hessian(f)(point), want_hess, rtol=1e-10)
    x, y = Value(a), Value(b)
    f([x, y]).backward()
    np.testing.assert_allclose([x.grad, y.grad], want_grad, rtol=1e-10)


# -- item 3: bad operands of maximum, minimum and where -------------------------------------
@pytest.mark.parametrize("call,name,type_name", [
    (lambda t: maximum(t, "a"), "other", "str"),
    (lambda t: maximum(None, t), "input", "NoneType"),
    (lambda t: minimum(t, None), "other", "NoneType"),
    (lambda t: minimum(t, {1: 2}), "other", "dict"),
    (lambda t: where(np.array([True, False]), t, "a"), "other", "str"),
    (lambda t: where(np.array([True, False]), object(), t), "input", "object"),
    (lambda t: maximum(t, ["a", "b"]), "other", "list"),
])
def test_bad_operand_raises_type_error_naming_it(call: Callable[[Tensor], Any], name: str,
                                                 type_name: str) -> None:
    with pytest.raises(TypeError, match=rf"'{name}' has type {type_name}"):
        call(Tensor([1.0, 2.0]))


def test_where_condition_must_be_boolean_or_numeric() -> None:
    with pytest.raises(TypeError, match="where: condition has type str"):
        where("yes", Tensor([1.0]), Tensor([2.0]))


def test_good_operands_still_work() -> None:
    t = Tensor([1.0, 5.0])
    assert_same(maximum(t, 2).data, [2.0, 5.0])
    assert_same(minimum([0.0, 9.0], t).data, [0.0, 5.0])
    assert_same(where([True, False], t, 0.5).data, [1.0, 0.5])
    f32 = Tensor([1.0, 5.0], dtype=np.float32)
    assert maximum(f32, 2.0).dtype == np.float32


# -- item 4: invalid axes --------------------------------------------------------------------
A = Tensor(np.zeros((2, 3)))


@pytest.mark.parametrize("call,match", [
    (lambda: A.permute(1, 2), r"axis 2 is out of range for shape \(2, 3\)"),
    (lambda: A.permute(0, -3), r"axis -3 is out of range for shape \(2, 3\)"),
    (lambda: A.permute(0), r"not a permutation .* shape \(2, 3\)"),
    (lambda: A.permute(1, 1), r"not a permutation .* shape \(2, 3\)"),
    (lambda: A.flatten(0, 7), r"flatten: axis 7 is out of range for shape \(2, 3\)"),
    (lambda: A.flatten(5, 0), r"flatten: axis 5 is out of range for shape \(2, 3\)"),
    (lambda: A.flatten(1, 0), r"start_dim 1 comes after end_dim 0 for shape \(2, 3\)"),
    (lambda: Tensor([1.0, 2.0]).expand(-1, -1), r"size -1 at dimension 0 .* shape \(2,\)"),
    (lambda: Tensor([1.0, 2.0]).expand(3, -2), r"size -2 at dimension 1 .* shape \(2,\)"),
    (lambda: A.transpose(0, 5), r"transpose: axis 5 is out of range for shape \(2, 3\)"),
    (lambda: A.unsqueeze(3), r"unsqueeze: axis 3 is out of range for shape \(2, 3\)"),
    (lambda: A.unsqueeze(-4), r"unsqueeze: axis -4 is out of range"),
    (lambda: A.squeeze(2), r"squeeze: axis 2 is out of range"),
    (lambda: A.sum(axis=(0, 2)), r"sum: axis 2 is out of range"),
    (lambda: A.softmax(2), r"softmax: axis 2 is out of range"),
    (lambda: concatenate([A, A], axis=2), r"concatenate: axis 2 is out of range"),
    (lambda: stack([A, A], axis=3), r"stack: axis 3 is out of range"),
    (lambda: Tensor(3.0).sum(1), r"sum: axis 1 is out of range"),
    (lambda: Tensor(3.0).squeeze(-2), r"squeeze: axis -2 is out of range"),
    (lambda: Tensor(3.0).unsqueeze(1), r"unsqueeze: axis 1 is out of range"),
    (lambda: concatenate([Tensor(1.0), Tensor(2.0)]), r"0-d tensors have no axis"),
])
def test_invalid_axes_are_refused(call: Callable[[], Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_valid_axes_still_work() -> None:
    assert A.permute(-1, 0).shape == (3, 2)
    assert A.permute([1, 0]).shape == (3, 2)
    assert A.flatten(-2, -1).shape == (6,)
    assert A.flatten(1, 1).shape == (2, 3)
    assert Tensor([1.0, 2.0]).expand(3, -1).shape == (3, 2)
    assert A.transpose(-1, 0).shape == (3, 2)
    assert A.unsqueeze(-3).shape == (1, 2, 3) and A.unsqueeze(2).shape == (2, 3, 1)
    assert A.sum(axis=np.int64(1)).shape == (2,)
    assert Tensor([1.0, 2.0]).transpose().shape == (2,)          # like t(): nothing to swap
    assert Tensor([1.0, 2.0]).transpose(0, -1).shape == (2,)


# -- item 8: var with N <= correction ------------------------------------------------------
@quiet
@pytest.mark.parametrize("data,kwargs,value,grad", [
    # N = correction: Σ(x - mean)² / 0 → nan where every x equals the mean (0 / 0), else inf;
    # the gradient 2 (x - mean) / 0 is nan at the mean and ±inf elsewhere
    ([1.0], {}, nan, [nan]),
    ([[1.0], [2.0]], {"axis": 1}, [nan, nan], [[nan], [nan]]),
    ([1.0, 2.0], {"correction": 2}, inf, [-inf, inf]),
    ([1.0, 2.0], {"correction": 3}, inf, [-inf, inf]),      # divisor clamped at 0, as PyTorch
    ([3.0, 3.0], {"correction": 2}, nan, [nan, nan]),
    (np.zeros((2, 0)), {"axis": 1, "correction": 0}, [nan, nan], np.zeros((2, 0))),
    (np.zeros((0, 3)), {"axis": 0}, [nan, nan, nan], np.zeros((0, 3))),
    (np.zeros((0, 3)), {"axis": 1}, np.zeros(0), np.zeros((0, 3))),
    (3.0, {}, nan, nan),
])
def test_var_where_n_does_not_exceed_correction(data: Any, kwargs: dict, value: Any, grad: Any) -> None:
    x = Tensor(data, requires_grad=True)
    out = x.var(**kwargs)
    assert_same(out.data, value)
    backward_ones(out)
    assert_same(x.grad, grad)


@quiet
@pytest.mark.parametrize("axis,correction", [(None, 0), (None, 1), (0, 2), (1, 1), ((0, 1), 3)])
def test_var_matches_numpy_and_autograd(axis: Any, correction: int) -> None:
    data = np.random.default_rng(5).normal(size=(4, 5))
    x = Tensor(data, requires_grad=True)
    out = x.var(axis=axis, correction=correction)
    np.testing.assert_allclose(out.data, np.var(data, axis=axis, ddof=correction), rtol=1e-12)
    weights = np.random.default_rng(6).normal(size=out.shape)
    (out * weights).sum().backward()
    want = autograd.grad(lambda a: anp.sum(anp.var(a, axis=axis, ddof=correction) * weights))(data)
    np.testing.assert_allclose(x.grad, want, rtol=1e-10)


# -- item 9: empty and 0-d tensors ----------------------------------------------------------
@quiet
def test_getitem_with_an_empty_list_selects_nothing() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    out = x[[]]
    assert out.shape == np.array([1.0, 2.0])[[]].shape == (0,)
    backward_ones(out)
    assert_same(x.grad, [0.0, 0.0])
    m = Tensor(np.ones((2, 3)))
    assert m[[]].shape == np.ones((2, 3))[[]].shape
    assert m[:, []].shape == np.ones((2, 3))[:, []].shape


@quiet
@pytest.mark.parametrize("shape,axis", [((2, 0), 1), ((2, 0), 0), ((0, 3), 1), ((0,), 0), ((0,), -1)])
def test_softmax_family_over_empty_tensors(shape: tuple[int, ...], axis: int) -> None:
    for method in ("softmax", "log_softmax"):
        x = Tensor(np.zeros(shape), requires_grad=True)
        out = getattr(x, method)(axis)
        assert out.shape == shape
        backward_ones(out)
        assert x.grad.shape == shape
    x = Tensor(np.zeros(shape), requires_grad=True)
    out = x.logsumexp(axis)
    # log of an empty sum is log 0 = -inf; over a non-empty axis of an empty tensor, nothing
    reduced = np.sum(np.exp(np.zeros(shape)), axis=axis)
    assert_same(out.data, np.full(reduced.shape, -inf) if reduced.size else reduced)
    backward_ones(out)
    assert x.grad.shape == shape


ZERO_D = [   # method, kwargs, value and gradient at x = 3 (a 0-d tensor is its one element)
    ("sum", {}, 3.0, 1.0), ("mean", {}, 3.0, 1.0), ("max", {}, 3.0, 1.0), ("min", {}, 3.0, 1.0),
    ("logsumexp", {}, 3.0, 1.0), ("var", {}, nan, nan), ("var", {"correction": 0}, 0.0, 0.0),
    ("softmax", {}, 1.0, 0.0), ("log_softmax", {}, 0.0, 0.0), ("squeeze", {}, 3.0, 1.0),
]


@quiet
@pytest.mark.parametrize("method,kwargs,value,grad", ZERO_D)
@pytest.mark.parametrize("axis", [0, -1, "default"])
def test_zero_d_tensors_accept_axis_0_and_minus_1(method: str, kwargs: dict, value: float,
                                                  grad: float, axis: Any) -> None:
    keepdims = [{}] if method in ("softmax", "log_softmax", "squeeze") else [{}, {"keepdims": True}]
    for extra in keepdims:
        x = Tensor(3.0, requires_grad=True)
        args = () if axis == "default" else (axis,)
        out = getattr(x, method)(*args, **kwargs, **extra)
        assert out.shape == ()
        assert_same(out.data, value)
        backward_ones(out)
        assert_same(x.grad, grad)


def test_zero_d_unsqueeze_flatten_transpose() -> None:
    x = Tensor(3.0, requires_grad=True)
    assert x.unsqueeze(0).shape == x.unsqueeze(-1).shape == (1,)
    assert x.flatten().shape == x.flatten(0, -1).shape == (1,)
    assert x.transpose(0, -1).shape == ()
    assert x.permute().shape == ()
    out = x.unsqueeze(-1)
    backward_ones(out)
    assert_same(x.grad, 1.0)


@quiet
@pytest.mark.parametrize("method", ["sum", "mean", "var", "logsumexp", "max", "min"])
@pytest.mark.parametrize("shape,axis", [((0,), None), ((2, 0), 1), ((2, 0), 0), ((0, 3), 0),
                                        ((0, 3), 1), ((2, 0), (0, 1))])
def test_reductions_of_empty_tensors_follow_numpy_values(method: str, shape: tuple[int, ...],
                                                         axis: Any) -> None:
    x = Tensor(np.zeros(shape), requires_grad=True)
    reduced = np.zeros(shape).sum(axis=axis)
    reduces_nothing = np.zeros(shape).size == 0 and reduced.size != 0
    if method in ("max", "min") and reduces_nothing:
        with pytest.raises(ValueError, match=f"{method}\\(\\): axis .* has length 0"):
            getattr(x, method)(axis)
        return
    out = getattr(x, method)(axis)
    # sum of nothing 0, mean and var 0/0 = nan, logsumexp log(0) = -inf (PyTorch's values)
    empty_value = {"sum": 0.0, "mean": nan, "var": nan, "logsumexp": -inf}.get(method)
    assert_same(out.data, np.full(reduced.shape, empty_value) if reduced.size else reduced)
    backward_ones(out)
    assert_same(x.grad, np.zeros(shape))


# -- item 11: IEEE results without RuntimeWarnings ------------------------------------------
UNARY_NAMES = [op.name for op in ELEMENTWISE_OPS if op.arity == 1]
NUMPY_UNARY = {
    "abs": np.abs, "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "tanh": np.tanh,
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)), "relu": lambda a: np.maximum(a, 0.0),
    "softplus": lambda a: np.logaddexp(0.0, a), "sin": np.sin, "cos": np.cos,
    "sign": np.sign, "step": lambda a: np.where(np.isnan(a), a, (a > 0) * 1.0),
    "leaky_relu": lambda a: np.where(a > 0, a, 0.01 * a), "neg": np.negative,
}


def call_unary(x: Any, name: str) -> Any:
    if name == "neg":
        return -x
    return x.clip(-1.0, 2.0) if name == "clip" else getattr(x, name)()


TENSOR_INPUTS = [np.array(EDGES), np.zeros((0,)), np.zeros((2, 0))] + [np.array(v) for v in EDGES]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", UNARY_NAMES + ["clip"])
def test_unary_ops_at_edge_values_warn_nothing(name: str) -> None:
    for data in TENSOR_INPUTS:
        x = Tensor(data, requires_grad=True)
        out = call_unary(x, name)
        if name in NUMPY_UNARY:
            with np.errstate(all="ignore"):
                np.testing.assert_allclose(out.data, NUMPY_UNARY[name](data), rtol=1e-15,
                                           err_msg=f"{name}({data})")
        backward_ones(out)
        assert x.grad.shape == data.shape
    for v in EDGES if name != "clip" else ():          # clip is a Tensor op
        x = Value(v)
        out = call_unary(x, name)
        if name in NUMPY_UNARY:
            with np.errstate(all="ignore"):
                np.testing.assert_allclose(out.data, NUMPY_UNARY[name](np.float64(v)), rtol=1e-15)
        out.backward()


def _numpy_flags(fn: Callable[[], Any]) -> bool:
    """True if NumPy's own arithmetic (fn) raises a floating-point flag (overflow, inf - inf,
    0 · inf): such operand pairs of + - * are left to NumPy's semantics (see below)."""
    with np.errstate(all="raise"):
        try:
            fn()
        except FloatingPointError:
            return True
    return False


BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
          "maximum": maximum, "minimum": minimum,
          "where": lambda a, b: where(np.array(True), a, b)}
PAIRS = list(itertools.product(EDGES, EDGES))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_at_edge_values_warn_nothing(name: str) -> None:
    fn = BINARY[name]
    for v, w in PAIRS:
        if name in ("add", "sub", "mul") and _numpy_flags(lambda: fn(np.array(v), np.array(w))):
            # The forward of + - * is NumPy's own a + b (the hottest ops: no errstate there);
            # their gradients are checked at these points with Value below.
            continue
        a, b = Tensor([v], requires_grad=True), Tensor([w], requires_grad=True)
        out = fn(a, b)
        backward_ones(out)
        assert a.grad.shape == b.grad.shape == (1,)
    if name in ("add", "sub", "mul", "div", "pow"):
        for v, w in PAIRS:                        # Python floats: every pair
            a, b = Value(v), Value(w)
            fn(a, b).backward()


REDUCTIONS = {
    "sum": lambda t, axis: t.sum(axis), "mean": lambda t, axis: t.mean(axis),
    "max": lambda t, axis: t.max(axis), "min": lambda t, axis: t.min(axis),
    "var": lambda t, axis: t.var(axis), "logsumexp": lambda t, axis: t.logsumexp(axis),
    "softmax": lambda t, axis: t.softmax(-1 if axis is None else axis),
    "log_softmax": lambda t, axis: t.log_softmax(-1 if axis is None else axis),
}


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_and_softmax_at_edge_values_warn_nothing(name: str) -> None:
    inputs = [np.array(pair) for pair in PAIRS] + [np.array(EDGES).reshape(1, -1),
                                                  np.array(EDGES[:10]).reshape(5, 2)]
    for data in inputs:     # sum and mean too: inf + -inf, 1e308 + 1e308 (issue 23, item 9)
        for axis in [None, -1] + ([0] if data.ndim == 2 else []):
            x = Tensor(data, requires_grad=True)
            out = REDUCTIONS[name](x, axis)
            backward_ones(out)
            assert x.grad.shape == data.shape


@pytest.mark.filterwarnings("error")
def test_matmul_at_edge_values_warns_nothing() -> None:
    """The one rule (README): only the forward of + - * keeps NumPy's warnings; @ is quiet,
    with NumPy's IEEE values (issue 23, item 9)."""
    for a, b in [([[inf, 1e308]], [[-1.0], [1e308]]), ([[inf, 0.0]], [[0.0], [1.0]]),
                 ([[nan, 1.0], [1e308, 1e308]], [[1.0, -inf], [1e308, 2.0]])]:
        x, w = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
        out = x @ w
        with np.errstate(all="ignore"):
            assert_same(out.data, np.array(a) @ np.array(b))
        backward_ones(out)
        assert x.grad.shape == x.shape and w.grad.shape == w.shape


def test_only_plus_minus_times_keep_numpys_warnings() -> None:
    """The other side of the rule: the bare NumPy operators still warn (as NumPy does)."""
    for fn in (lambda a: a - a, lambda a: a + (-a), lambda a: a * 0.0):
        with pytest.warns(RuntimeWarning):
            fn(Tensor([inf]))


@quiet
@pytest.mark.parametrize("logits,expected", [
    ([-inf, 0.0], [0.0, 1.0]), ([-inf, -inf], [nan, nan]), ([inf, 1.0], [nan, nan]),
    ([1e308, -1e308], [1.0, 0.0]), ([-1e308, -1e308], [0.5, 0.5]), ([nan, 1.0], [nan, nan]),
])
def test_softmax_ieee_values(logits: list[float], expected: list[float]) -> None:
    # softmax = e^(x - max) / Σ e^(x - max) evaluated in IEEE arithmetic (PyTorch's formula):
    # an infinite max gives inf - inf = nan
    x = Tensor(logits, requires_grad=True)
    assert_same(x.softmax(-1).data, expected)
    with np.errstate(all="ignore"):
        want_log = np.log(np.array(expected)) if not np.isnan(expected).any() else expected
    assert_same(x.log_softmax(-1).data, want_log)


@quiet
@pytest.mark.parametrize("values,expected", [
    ([-inf, -inf], -inf), ([inf, 1.0], inf), ([-inf, 0.0], 0.0), ([1e308, 1e308], 1e308 + np.log(2)),
    ([nan, 1.0], nan), ([-1e308, 1e308], 1e308),
])
def test_logsumexp_ieee_values(values: list[float], expected: float) -> None:
    x = Tensor(values, requires_grad=True)
    out = x.logsumexp(-1)
    assert_same(out.data, expected)
    out.backward()
    assert x.grad.shape == (2,)


@quiet
def test_max_min_with_nan_give_nan_gradients() -> None:
    # amax's gradient is shared among the elements equal to the max; nan equals nothing, so
    # PyTorch's count is 0 and the gradient g / 0 · 0 is nan
    for method in ("max", "min"):
        x = Tensor([nan, 1.0], requires_grad=True)
        out = getattr(x, method)()
        assert_same(out.data, nan)
        out.backward()
        assert_same(x.grad, [nan, nan])


@quiet
def test_sin_cos_at_infinity_are_nan() -> None:
    for method in ("sin", "cos"):
        x = Tensor([inf, -inf, 0.0], requires_grad=True)
        out = getattr(x, method)()
        assert_same(out.data[:2], [nan, nan])
        backward_ones(out)
        assert np.isnan(x.grad[:2]).all()
        v = Value(inf)
        assert np.isnan(getattr(v, method)().data)


# -- item 14: messages that name the problem ------------------------------------------------
@pytest.mark.parametrize("call,error,match", [
    (lambda: A.sum(axis="a"), TypeError, r"sum: axis must be an int, a tuple of ints or None; got str 'a'"),
    (lambda: A.sum(axis=1.5), TypeError, r"sum: axis must be an int.*got float 1.5"),
    (lambda: A.mean(axis=(0, "x")), TypeError, r"mean: axis must be an int.*got tuple"),
    (lambda: A.max(axis=True), TypeError, r"max: axis must be an int.*got bool"),
    (lambda: A.softmax(axis=None), TypeError, r"softmax: axis must be an int .*got None"),
    (lambda: A.log_softmax(axis=1.0), TypeError, r"log_softmax: an axis must be an int; got float"),
    (lambda: A.transpose(0, 5), ValueError, r"transpose: axis 5 is out of range for shape \(2, 3\)"),
    (lambda: A.unsqueeze("0"), TypeError, r"unsqueeze: an axis must be an int; got str"),
    (lambda: A.expand(2.0, 3), TypeError, r"expand: sizes must be ints; got float"),
])
def test_axis_errors_name_the_problem(call: Callable[[], Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("a,b,match", [
    ((2, 3), (2, 3), r"shapes \(2, 3\) and \(2, 3\) do not align: 3 \(last dim of the first\) != "
                     r"2 \(second-to-last dim of the second\)"),
    ((4, 2, 3), (4, 4, 5), r"3 \(last dim of the first\) != 4 \(second-to-last dim of the second\)"),
    ((2, 2, 3), (3, 3, 4), r"batch dimensions \(2,\) of shape \(2, 2, 3\) and \(3,\) of shape "
                           r"\(3, 3, 4\) do not broadcast"),
    ((3,), (4,), r"3 \(last dim of the first\) != 4 \(only dim of the second\)"),
    ((), (3,), r"need at least one dimension"),
])
def test_matmul_errors_say_which_dims_disagree(a: tuple, b: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        Tensor(np.ones(a)) @ Tensor(np.ones(b))
    assert "gufunc" not in str(info.value)


def test_tensor_from_a_list_of_tensors() -> None:
    parts = [Tensor(1.0, requires_grad=True), Tensor(2.0)]
    t = Tensor(parts)
    assert_same(t.data, [1.0, 2.0])
    assert t.is_leaf and not t.requires_grad              # a new leaf: data only, as torch.tensor
    parts[1].data[...] = 5.0
    assert_same(t.data, [1.0, 2.0])                        # copied
    assert_same(Tensor([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])]).data, [[1, 2], [3, 4]])
    assert_same(Tensor([[Tensor(1.0), 2.0], (3.0, Tensor(4.0))]).data, [[1, 2], [3, 4]])
    assert Tensor([Tensor(1.0, dtype=np.float32)]).dtype == np.float32
    with pytest.raises(TypeError, match="cannot make a Tensor from list"):
        Tensor([Tensor([1.0]), Tensor([1.0, 2.0])])


@quiet
@pytest.mark.parametrize("engine,oracle", [
    (lambda t: t.var(), lambda a: anp.var(a, ddof=1)),
    (lambda t: t.var(correction=0), lambda a: anp.var(a)),
    (lambda t: t.logsumexp(-1), lambda a: anp.log(anp.sum(anp.exp(a)))),
    (lambda t: (abs(t) ** t).sum(), lambda a: anp.sum(anp.abs(a) ** a)),
])
def test_second_derivatives_of_the_rewritten_rules_match_autograd(engine: Callable[[Any], Any],
                                                                  oracle: Callable[[Any], Any]) -> None:
    x = np.random.default_rng(7).normal(size=5)
    np.testing.assert_allclose(hessian(engine)(x), autograd.hessian(oracle)(x), rtol=1e-9, atol=1e-12)
