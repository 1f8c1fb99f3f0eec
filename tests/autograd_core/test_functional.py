"""grad, value_and_grad, vjp, jvp, jacobian, hessian and Dual against HIPS autograd."""
from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from autograd_core import Dual, grad, hessian, jacobian, jvp, value_and_grad, vjp


def scalar_f(x, y):
    return (x * y).tanh() + x ** 2 * y.exp()


def scalar_f_oracle(x, y):
    return anp.tanh(x * y) + x ** 2 * anp.exp(y)


def vector_f(x):
    return (x * x).sum(axis=0).exp() * x[0]


def vector_f_oracle(x):
    return anp.exp(anp.sum(x * x, axis=0)) * x[0]


X = np.array([[0.2, -0.4, 0.1], [0.5, 0.3, -0.6]])


def test_grad_and_value_and_grad_scalars() -> None:
    args = (0.7, -0.3)
    assert grad(scalar_f)(*args) == pytest.approx(autograd.grad(scalar_f_oracle, 0)(*args))
    gx, gy = grad(scalar_f, argnums=(0, 1))(*args)
    assert gy == pytest.approx(autograd.grad(scalar_f_oracle, 1)(*args))
    value, g = value_and_grad(scalar_f, 1)(*args)
    assert value == pytest.approx(scalar_f_oracle(*args)) and g == pytest.approx(gy)


def test_grad_of_tensor_function() -> None:
    f = lambda x: vector_f(x).sum()  # noqa: E731
    np.testing.assert_allclose(grad(f)(X), autograd.grad(lambda a: anp.sum(vector_f_oracle(a)))(X))


def test_grad_requires_scalar_output() -> None:
    with pytest.raises(ValueError, match="scalar"):
        grad(vector_f)(X)


def test_vjp_matches_oracle() -> None:
    u = np.array([1.0, -2.0, 0.5])
    out, fn = vjp(vector_f, X)
    np.testing.assert_allclose(out, vector_f_oracle(X))
    (g,) = fn(u)
    want = autograd.make_vjp(vector_f_oracle)(X)[0](u)
    np.testing.assert_allclose(g, want)
    (g2,) = fn(u)                      # each call is a fresh backward pass
    np.testing.assert_allclose(g2, want)


def test_jvp_forward_mode_on_scalars_and_arrays() -> None:
    value, tangent = jvp(scalar_f, (0.7, -0.3), (1.0, 2.0))
    want = autograd.grad(scalar_f_oracle, 0)(0.7, -0.3) + 2 * autograd.grad(scalar_f_oracle, 1)(0.7, -0.3)
    assert value == pytest.approx(scalar_f_oracle(0.7, -0.3)) and tangent == pytest.approx(want)
    v = np.random.default_rng(0).normal(size=X.shape)
    out, t = jvp(vector_f, [X], [v])
    np.testing.assert_allclose(t, autograd.make_jvp(vector_f_oracle)(X)(v)[1])


def test_jacobian_reverse_and_forward_agree_with_oracle() -> None:
    np.testing.assert_allclose(jacobian(vector_f)(X), autograd.jacobian(vector_f_oracle)(X))
    f = lambda xs: [xs[0] * xs[1], xs[0].sin() + xs[1] ** 2, xs[1].exp()]  # noqa: E731
    fo = lambda a: anp.array([a[0] * a[1], anp.sin(a[0]) + a[1] ** 2, anp.exp(a[1])])  # noqa: E731
    x = np.array([0.4, -1.1])
    forward = jacobian(f, mode="forward")(list(x))
    reverse = jacobian(lambda t: [t[0] * t[1], t[0].sin() + t[1] ** 2, t[1].exp()])(x)
    np.testing.assert_allclose(forward, autograd.jacobian(fo)(x))
    np.testing.assert_allclose(reverse, autograd.jacobian(fo)(x))
    with pytest.raises(ValueError, match="mode"):
        jacobian(f, mode="sideways")


def test_hessian_matches_oracle() -> None:
    f = lambda x: (x.tanh() * x ** 3).sum() + (x[0] * x[1]).exp()  # noqa: E731
    fo = lambda a: anp.sum(anp.tanh(a) * a ** 3) + anp.exp(a[0] * a[1])  # noqa: E731
    x = np.array([0.3, -0.8, 1.1])
    np.testing.assert_allclose(hessian(f)(x), autograd.hessian(fo)(x), rtol=1e-9)
    assert float(hessian(lambda v: v ** 3 * v.sin())(0.5)) == pytest.approx(
        autograd.grad(autograd.grad(lambda a: a ** 3 * anp.sin(a)))(0.5))


def test_dual_numbers_use_the_same_rules_as_reverse_mode() -> None:
    x = Dual(0.5, 1.0)
    y = (x * x).tanh() + x.exp() / (1 + x.softplus()) - x.sigmoid() * x.leaky_relu(0.1) ** 2
    fo = lambda a: (anp.tanh(a * a) + anp.exp(a) / (1 + anp.logaddexp(0, a))  # noqa: E731
                    - 1 / (1 + anp.exp(-a)) * a ** 2)
    assert y.primal == pytest.approx(fo(0.5)) and y.tangent == pytest.approx(autograd.grad(fo)(0.5))
    with pytest.raises(TypeError, match="primal"):
        Dual("1")
