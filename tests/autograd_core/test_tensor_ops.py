"""Every Tensor op against the HIPS autograd oracle and finite differences, with
Hypothesis-generated shapes and broadcasting pairs."""
from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_core import Tensor, concatenate, maximum, minimum, stack, where

from .tensor_helpers import check_against_oracle

SETTINGS = settings(max_examples=25, deadline=None)


def arrays(shape: tuple[int, ...], lo: float = -2.0, hi: float = 2.0) -> st.SearchStrategy:
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_subnormal=False))


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1)),
    "pow": (lambda a, b: (a * a + 0.5) ** b, lambda a, b: (a * a + 0.5) ** b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                                 max_side=3))
def test_binary_ops_broadcast_and_reduce_gradients(name: str, data: st.DataObject, shapes) -> None:
    a = data.draw(arrays(shapes.input_shapes[0]))
    b = data.draw(arrays(shapes.input_shapes[1]))
    engine, oracle = BINARY[name]
    check_against_oracle(engine, oracle, a, b)


@pytest.mark.parametrize("name,engine,oracle", [
    ("maximum", maximum, anp.maximum), ("minimum", minimum, anp.minimum)])
@SETTINGS
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
def test_maximum_minimum(name: str, engine, oracle, data: st.DataObject, shapes) -> None:
    # distinct values (no ties): HIPS autograd and PyTorch differ only at ties
    a = data.draw(arrays(shapes.input_shapes[0]).filter(lambda x: len(np.unique(x)) == x.size))
    b = data.draw(arrays(shapes.input_shapes[1]))
    if np.intersect1d(a, b).size:
        return
    check_against_oracle(engine, oracle, a, b, finite_differences=False)


def test_maximum_splits_gradient_at_ties_like_torch() -> None:
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([1.0, 3.0], requires_grad=True)
    maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 0.0])
    np.testing.assert_array_equal(b.grad, [0.5, 1.0])


UNARY = {
    "neg": (lambda x: -x, lambda x: -x),
    "abs": (lambda x: abs(x), anp.abs),
    "exp": (lambda x: x.exp(), anp.exp),
    "log": (lambda x: (x * x + 0.1).log(), lambda x: anp.log(x * x + 0.1)),
    "sqrt": (lambda x: (x * x + 0.1).sqrt(), lambda x: anp.sqrt(x * x + 0.1)),
    "tanh": (lambda x: x.tanh(), anp.tanh),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: 1 / (1 + anp.exp(-x))),
    "relu": (lambda x: x.relu(), lambda x: x * (x > 0)),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda x: anp.where(x > 0, x, 0.1 * x)),
    "softplus": (lambda x: x.softplus(), lambda x: anp.logaddexp(0.0, x)),
    "sin": (lambda x: x.sin(), anp.sin),
    "cos": (lambda x: x.cos(), anp.cos),
    "clip": (lambda x: x.clip(-0.5, 0.7), lambda x: anp.clip(x, -0.5, 0.7)),
}
KINKS = {"abs": [0.0], "relu": [0.0], "leaky_relu": [0.0], "clip": [-0.5, 0.7]}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3))
def test_unary_ops(name: str, data: st.DataObject, shape) -> None:
    kinks = KINKS.get(name, [])
    x = data.draw(arrays(shape).filter(lambda a: all(np.all(np.abs(a - k) > 1e-3) for k in kinks)))
    check_against_oracle(*UNARY[name], x)


AXES = st.sampled_from([None, 0, -1, (0, 1), 1])


@pytest.mark.parametrize("name,engine,oracle", [
    ("sum", lambda x, axis, keepdims: x.sum(axis, keepdims), anp.sum),
    ("mean", lambda x, axis, keepdims: x.mean(axis, keepdims), anp.mean),
    ("var", lambda x, axis, keepdims: x.var(axis, keepdims),
     lambda x, axis, keepdims: anp.var(x, axis=axis, ddof=1, keepdims=keepdims)),
    ("logsumexp", lambda x, axis, keepdims: x.logsumexp(axis, keepdims),
     lambda x, axis, keepdims: anp.log(anp.sum(anp.exp(x), axis=axis, keepdims=keepdims))),
])
@SETTINGS
@given(data=st.data(), axis=AXES, keepdims=st.booleans())
def test_reductions(name: str, engine, oracle, data: st.DataObject, axis, keepdims: bool) -> None:
    x = data.draw(arrays((3, 4)))
    check_against_oracle(lambda t: engine(t, axis, keepdims),
                         lambda a: oracle(a, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("method,oracle", [("max", anp.max), ("min", anp.min)])
@SETTINGS
@given(data=st.data(), axis=AXES, keepdims=st.booleans())
def test_max_min_without_ties(method: str, oracle, data: st.DataObject, axis, keepdims: bool) -> None:
    order = data.draw(st.permutations(range(12)))        # distinct values, at least 0.25 apart
    x = np.array(order, dtype=float).reshape(3, 4) * 0.25 - 1.5
    check_against_oracle(lambda t: getattr(t, method)(axis, keepdims),
                         lambda a: oracle(a, axis=axis, keepdims=keepdims), x)


def test_max_splits_gradient_among_ties_like_amax() -> None:
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    y = Tensor([5.0, 5.0], requires_grad=True)
    y.min().backward()
    np.testing.assert_allclose(y.grad, [0.5, 0.5])


@SETTINGS
@given(data=st.data())
def test_shape_ops(data: st.DataObject) -> None:
    x = data.draw(arrays((2, 3, 4)))
    cases = [
        (lambda t: t.reshape(6, 4), lambda a: anp.reshape(a, (6, 4))),
        (lambda t: t.reshape(-1), lambda a: anp.reshape(a, (-1,))),
        (lambda t: t.flatten(1), lambda a: anp.reshape(a, (2, 12))),
        (lambda t: t.transpose(0, 2), lambda a: anp.swapaxes(a, 0, 2)),
        (lambda t: t.T, lambda a: anp.transpose(a)),
        (lambda t: t.permute(1, 2, 0), lambda a: anp.transpose(a, (1, 2, 0))),
        (lambda t: t.unsqueeze(1).expand(2, 5, 3, 4), lambda a: anp.broadcast_to(a[:, None], (2, 5, 3, 4))),
        (lambda t: t[:, :1].squeeze(1), lambda a: a[:, 0]),
        (lambda t: t.unsqueeze(-1), lambda a: a[..., None]),
    ]
    for engine, oracle in cases:
        check_against_oracle(engine, oracle, x, finite_differences=False)


@pytest.mark.parametrize("index", [
    1, -1, slice(0, 2), (Ellipsis, 1), (None, 0), (slice(None), [0, 0, 2]),
    ([0, 1, 1, 0], [2, 2, 2, 3]), np.array([[0, 1], [1, 1]]), (0, slice(1, None, 2)),
    np.int64(2), (np.int32(1), slice(None)), True,
])
def test_getitem_with_every_kind_of_index(index) -> None:
    x = np.random.default_rng(1).normal(size=(3, 4))
    check_against_oracle(lambda t: t[index], lambda a: a[index], x)


def test_getitem_repeated_indices_accumulate() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


def test_getitem_boolean_mask() -> None:
    x = np.array([[1.0, -2.0], [-3.0, 4.0]])
    check_against_oracle(lambda t: t[x > 0], lambda a: a[x > 0], x)
    t = Tensor(x, requires_grad=True)
    t[t > 0].sum().backward()
    np.testing.assert_array_equal(t.grad, [[1, 0], [0, 1]])


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                    ((5, 2, 3), (3, 4)), ((5, 2, 3), (1, 3, 4)), ((2, 1, 2, 3), (4, 3, 2))])
def test_matmul_1d_2d_batched(shapes) -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    check_against_oracle(lambda x, y: x @ y, anp.matmul, a, b)


def test_concatenate_stack_where() -> None:
    rng = np.random.default_rng(3)
    a, b, c = rng.normal(size=(2, 3)), rng.normal(size=(2, 1)), rng.normal(size=(2, 3))
    check_against_oracle(lambda x, y: concatenate([x, y, x], axis=1),
                         lambda x, y: anp.concatenate([x, y, x], axis=1), a, b)
    check_against_oracle(lambda x, y: stack([x, y], axis=1), lambda x, y: anp.stack([x, y], axis=1), a, c)
    check_against_oracle(lambda x, y: stack([x, y], axis=-1), lambda x, y: anp.stack([x, y], axis=-1), a, c)
    cond = a > 0
    check_against_oracle(lambda x, y: where(cond, x, y), lambda x, y: anp.where(cond, x, y), a, c)


def test_where_broadcast_operand_gets_summed_gradient() -> None:
    # HIPS autograd does not unbroadcast where's operands, so the reference is written out:
    # d/dy Σ W·where(c, x, y) = Σ over the broadcast axis of W·(not c)
    a = np.array([[1.0, -1, 2], [-3, 4, -5]])
    weights = np.arange(6.0).reshape(2, 3)
    y = Tensor([[10.0], [20.0]], requires_grad=True)
    (where(a > 0, Tensor(a), y) * weights).sum().backward()
    np.testing.assert_array_equal(y.grad, ((a <= 0) * weights).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_family(axis: int) -> None:
    x = np.random.default_rng(4).normal(size=(3, 4)) * 3

    def lse(a):
        return anp.log(anp.sum(anp.exp(a), axis=axis, keepdims=True))

    check_against_oracle(lambda t: t.softmax(axis), lambda a: anp.exp(a - lse(a)), x)
    check_against_oracle(lambda t: t.log_softmax(axis), lambda a: a - lse(a), x)


def test_softmax_stable_for_extreme_logits() -> None:
    logits = Tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]], requires_grad=True)
    s = logits.softmax(axis=1)
    np.testing.assert_allclose(s.data, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    ls = logits.log_softmax(axis=1)
    np.testing.assert_allclose(ls.data, [[0, -1e4, -2e4], [-np.log(3)] * 3])
    lse = logits.logsumexp(axis=1)
    np.testing.assert_allclose(lse.data, [1e4, -1e4 + np.log(3)])
    (ls[0, 1] + s[1, 0] + lse.sum()).backward()
    assert np.isfinite(logits.grad).all()
