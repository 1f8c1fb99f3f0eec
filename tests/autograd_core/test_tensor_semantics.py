"""Tensor construction, grads and backward semantics, dtypes and error messages."""
from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from autograd_core import Tensor, Value, no_grad
from autograd_core.graph import topological_order


def test_construction_dtypes() -> None:
    assert Tensor([[1, 2], [3, 4]]).dtype == np.float64          # ints become float
    assert Tensor([True, False]).dtype == np.float64
    assert Tensor(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert Tensor([1.0], dtype="float32").dtype == np.float32
    t = Tensor(3.0)
    assert t.shape == () and t.ndim == 0 and t.size == 1 and t.item() == 3.0


@pytest.mark.parametrize("bad,match", [(np.array(["a"]), "dtype <U1"), (np.array([object()]), "object"),
                                       ([1 + 2j], "complex"), ({"a": 1}, "dict")])
def test_construction_rejects_non_real_data(bad, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        Tensor(bad)


def test_construction_rejects_integer_dtype() -> None:
    with pytest.raises(TypeError, match="int64"):
        Tensor([1, 2], dtype=np.int64)


def test_data_is_copied_and_array_protocol() -> None:
    src = np.array([1.0, 2.0])
    t = Tensor(src)
    src[0] = 99
    assert t.data[0] == 1.0
    assert np.asarray(t) is t.data and t.numpy() is t.data
    assert t.tolist() == [1.0, 2.0] and len(t) == 2
    assert "Tensor([1., 2.])" == repr(t)
    assert "requires_grad=True" in repr(Tensor([1.0], requires_grad=True))


def test_repr_of_an_op_result_names_its_op_and_label() -> None:
    """A notebook shows a tensor by its repr: an op's result must print, with its op."""
    w = Tensor([1.0, -2.0], requires_grad=True, label="w")
    y = w * 3.0
    assert repr(y) == "Tensor([ 3., -6.], op=mul)"
    y.label = "y"
    assert repr(y).endswith("op=mul, label='y')")
    assert repr(w) == "Tensor([ 1., -2.], requires_grad=True, label='w')"


def test_float32_is_kept_through_ops_and_gradients() -> None:
    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    w = Tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    out = ((x @ w) * 2.0 + 1.0).tanh().log_softmax(axis=1).mean()
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_grad_none_before_backward_and_accumulates() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert x.grad is None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])


def test_non_leaf_grad_only_with_retain_grad() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    k = (x * 2).retain_grad()
    (h * k).sum().backward()
    assert h.grad is None
    np.testing.assert_array_equal(k.grad, h.data)


def test_requires_grad_propagates() -> None:
    a, b = Tensor([1.0]), Tensor([2.0], requires_grad=True)
    assert not (a * 2).requires_grad and (a * b).requires_grad
    with no_grad():
        assert not (a * b).requires_grad


def test_second_backward_explains_retain_graph() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    z = (x.exp() * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad, np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])) * 3)


def test_non_scalar_backward_needs_gradient() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        (x * 2).backward()
    (x * 2).backward(np.array([1.0, 10.0]))          # vector-Jacobian product
    np.testing.assert_array_equal(x.grad, [2.0, 20.0])
    with pytest.raises(ValueError, match=r"\(3,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_on_constant_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()


@pytest.mark.parametrize("fn,match", [
    (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5))), r"matmul.*\(2, 3\).*\(4, 5\)"),
    (lambda: Tensor(np.ones((2, 3))) + Tensor(np.ones((4,))), r"add.*\(2, 3\).*\(4,\)"),
    (lambda: Tensor(np.ones((2, 3))).reshape(4, 2), r"reshape.*\(2, 3\).*\(4, 2\)"),
    (lambda: Tensor(np.ones((2, 3))).expand(4, 3), r"expand.*\(2, 3\)"),
    (lambda: Tensor(np.ones(3)) @ Tensor(2.0), "at least one dimension"),
    (lambda: Tensor(np.ones((2, 3))).sum(axis=2), "axis 2 is out of range"),
    (lambda: Tensor(np.ones((2, 3))).permute(0, 0), "not a permutation"),
    (lambda: Tensor(np.ones(3)).clip(1.0, 0.0), "greater than max"),
])
def test_shape_errors_name_the_op_and_shapes(fn, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fn()


def test_index_errors() -> None:
    with pytest.raises(IndexError, match=r"shape \(3,\)"):
        Tensor(np.ones(3))[5]
    with pytest.raises(IndexError, match="integers or booleans"):
        Tensor(np.ones(3))[np.array([0.5])]


def test_comparisons_return_plain_boolean_arrays() -> None:
    t = Tensor([1.0, 2.0, 3.0])
    mask = t > 1.5
    assert isinstance(mask, np.ndarray) and mask.dtype == bool
    np.testing.assert_array_equal(t == Tensor([1.0, 0.0, 3.0]), [True, False, True])


def test_truth_value_is_the_value_of_a_one_element_tensor() -> None:
    # Without __bool__ Python used len(): bool(Tensor([0.0])) was True, bool(Tensor(0.0))
    # raised "len() of a 0-d tensor" and bool(Tensor([0.0, 0.0])) was True.
    assert bool(Tensor(2.0)) and not bool(Tensor(0.0)) and not bool(Tensor([[0.0]]))
    t = Tensor(3.0, requires_grad=True)
    assert bool(t * 0 + 1) and not bool(t * 0)
    for ambiguous in (Tensor([0.0, 0.0]), Tensor(np.zeros((0,)))):
        with pytest.raises(ValueError, match="ambiguous"):
            bool(ambiguous)


def test_numpy_operands_defer_to_tensor() -> None:
    t = Tensor([1.0, 2.0], requires_grad=True)
    out = np.array([3.0, 4.0]) * t
    assert isinstance(out, Tensor) and out.requires_grad
    np.testing.assert_array_equal(out.data, [3.0, 8.0])


def test_in_place_update_through_data_under_no_grad() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with no_grad():
        w.data -= 0.5 * w.grad
    np.testing.assert_array_equal(w.data, [0.0, 0.0])
    assert w.is_leaf and w.requires_grad


def test_tensor_and_value_share_one_topological_sort() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    assert [n.op.name if n.op else "leaf" for n in topological_order(y)] == ["leaf", "mul", "sum"]
    v = Value(2.0)
    assert len(topological_order(v * v)) == 2


def test_create_graph_second_derivative_matches_oracle() -> None:
    x0 = np.array([0.3, -1.2, 2.0])
    x = Tensor(x0, requires_grad=True)
    y = (x.tanh() * x ** 3).sum()
    y.backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Tensor)
    x.grad = None
    (g * g).sum().backward()

    def f(a):
        return anp.sum(anp.tanh(a) * a ** 3)

    want = autograd.grad(lambda a: anp.sum(autograd.grad(f)(a) ** 2))(x0)
    np.testing.assert_allclose(x.grad, want, rtol=1e-10)


def test_create_graph_through_indexing_reductions_and_softmax() -> None:
    x0 = np.array([[0.1, 0.5, -0.3], [1.0, -2.0, 0.4]])
    x = Tensor(x0, requires_grad=True)
    y = (x.log_softmax(axis=1)[[0, 1], [2, 0]].sum() + x.max(axis=0).sum() + x.var()
         + x.mean(axis=1).exp().sum())
    y.backward(create_graph=True)
    g = x.grad
    x.grad = None
    (g ** 2).sum().backward()

    def f(a):
        lsm = a - anp.log(anp.sum(anp.exp(a), axis=1, keepdims=True))
        return (lsm[[0, 1], [2, 0]].sum() + anp.max(a, axis=0).sum() + anp.var(a, ddof=1)
                + anp.exp(anp.mean(a, axis=1)).sum())

    want = autograd.grad(lambda a: anp.sum(autograd.grad(f)(a) ** 2))(x0)
    np.testing.assert_allclose(x.grad, want, rtol=1e-8)


def test_format_and_float_of_a_one_element_tensor_and_refusal_for_more() -> None:
    t = Tensor(2.5, dtype="float32")
    assert f"{t:.2f}" == "2.50" and f"{Tensor([[3.0]]):e}" == "3.000000e+00"
    assert float(t) == 2.5 and float(Tensor([[4.0]])) == 4.0
    assert f"{t}" == repr(t)
    with pytest.raises(TypeError, match=r"'.2f' formats one number; this tensor has shape \(2,\)"):
        f"{Tensor([1.0, 2.0]):.2f}"
    with pytest.raises(ValueError, match="one element"):
        float(Tensor([1.0, 2.0]))


def test_float_and_math_of_a_tensor_that_requires_grad_are_refused() -> None:
    import math

    t = Tensor([0.5], requires_grad=True)
    with pytest.raises(TypeError, match=r"math\.exp\(t\) turns t, a Tensor that requires grad"
                                        r".*Use t\.exp\(\)"):
        math.exp(t)
    with pytest.raises(TypeError, match=r"float\(t\).*t\.item\(\)"):
        float(t)
    assert t.item() == 0.5 and f"{t:.2f}" == "0.50" and "%.1f" % t == "0.5"
    with no_grad():
        assert float(t) == 0.5
    assert float(t.detach()) == 0.5 and float((t * 2).detach()) == 1.0
