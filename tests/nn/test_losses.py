"""Losses: value = formula (written here with HIPS autograd.numpy), gradient = autograd's
gradient, gradcheck passes; on Tensors and on Values; clear errors for bad targets."""
from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad as oracle_grad

from autograd_core import Tensor, Value, gradcheck
from nn import losses

RNG = np.random.default_rng(0)
N, C = 5, 4
LOGITS = RNG.normal(size=(N, C)) * 2
LABELS = np.array([0, 3, 1, 1, 2])
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True)
X1 = RNG.normal(size=N)
Y_REG = RNG.normal(size=N)
Y01 = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
YPM = 2 * Y01 - 1
P01 = 1 / (1 + np.exp(-X1))
W_C = np.array([0.5, 1.0, 2.0, 1.5])


def _log_softmax(s):
    m = anp.max(s, axis=1, keepdims=True)
    return s - m - anp.log(anp.sum(anp.exp(s - m), axis=1, keepdims=True))


def _reduce(losses, reduction):
    return anp.mean(losses) if reduction == "mean" else anp.sum(losses)


# (name, our call, reference formula in autograd.numpy, input array)
CASES = [
    ("mse", lambda x, r: losses.mse_loss(x, Y_REG, reduction=r),
     lambda x, r: _reduce((x - Y_REG) ** 2, r), X1),
    ("bce", lambda x, r: losses.binary_cross_entropy(x, Y01, reduction=r),
     lambda x, r: _reduce(-(Y01 * anp.log(x) + (1 - Y01) * anp.log(1 - x)), r), P01),
    ("bce_weight", lambda x, r: losses.binary_cross_entropy(x, Y01, weight=np.arange(1, N + 1), reduction=r),
     lambda x, r: _reduce(-np.arange(1, N + 1) * (Y01 * anp.log(x) + (1 - Y01) * anp.log(1 - x)), r), P01),
    ("bce_logits", lambda x, r: losses.binary_cross_entropy_with_logits(x, Y01, reduction=r),
     lambda x, r: _reduce(-(Y01 * anp.log(1 / (1 + anp.exp(-x)))
                            + (1 - Y01) * anp.log(1 - 1 / (1 + anp.exp(-x)))), r), X1),
    ("bce_logits_pos_weight",
     lambda x, r: losses.binary_cross_entropy_with_logits(x, Y01, pos_weight=np.array(3.0), reduction=r),
     lambda x, r: _reduce(-(3.0 * Y01 * anp.log(1 / (1 + anp.exp(-x)))
                            + (1 - Y01) * anp.log(1 - 1 / (1 + anp.exp(-x)))), r), X1),
    ("hinge", lambda x, r: losses.hinge_loss(x, YPM, reduction=r),
     lambda x, r: _reduce(anp.maximum(0.0, 1 - YPM * x), r), X1 * 0.7),
    ("cross_entropy", lambda x, r: losses.cross_entropy(x, LABELS, reduction=r),
     lambda x, r: _reduce(-_log_softmax(x)[np.arange(N), LABELS], r), LOGITS),
    ("cross_entropy_probs", lambda x, r: losses.cross_entropy(x, PROBS, reduction=r),
     lambda x, r: _reduce(-anp.sum(PROBS * _log_softmax(x), axis=1), r), LOGITS),
    ("nll", lambda x, r: losses.nll_loss(x, LABELS, reduction=r),
     lambda x, r: _reduce(-x[np.arange(N), LABELS], r), _log_softmax(LOGITS)),
    ("multiclass_hinge", lambda x, r: losses.multiclass_hinge_loss(x, LABELS, reduction=r),
     lambda x, r: _reduce(anp.sum(anp.maximum(0.0, 1 + x - x[np.arange(N), LABELS][:, None])
                                  * (1 - np.eye(C)[LABELS]), axis=1), r), LOGITS * 0.3),
]


def _values(arr):
    return Value(float(arr)) if np.ndim(arr) == 0 else [_values(a) for a in arr]


def _value_grads(vals):
    return np.array([_value_grads(v) for v in vals]) if isinstance(vals, list) else vals.grad


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("name,ours,ref,x0", CASES, ids=[c[0] for c in CASES])
def test_tensor_loss_matches_formula_and_oracle_gradient(name, ours, ref, x0, reduction):
    x = Tensor(x0.copy(), requires_grad=True)
    loss = ours(x, reduction)
    assert loss.item() == pytest.approx(float(ref(x0, reduction)), rel=1e-12, abs=1e-12)
    loss.backward()
    np.testing.assert_allclose(x.grad, oracle_grad(lambda a: ref(a, reduction))(x0),
                               rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda t: ours(t, reduction), Tensor(x0.copy(), requires_grad=True))


@pytest.mark.parametrize("name,ours,ref,x0", CASES, ids=[c[0] for c in CASES])
def test_value_loss_matches_formula_and_oracle_gradient(name, ours, ref, x0):
    vals = _values(x0)
    loss = ours(vals, "mean")
    assert isinstance(loss, Value)
    assert loss.data == pytest.approx(float(ref(x0, "mean")), rel=1e-12, abs=1e-12)
    loss.backward()
    np.testing.assert_allclose(_value_grads(vals), oracle_grad(lambda a: ref(a, "mean"))(x0),
                               rtol=1e-10, atol=1e-12)
    flat = [v for row in vals for v in (row if isinstance(row, list) else [row])]
    rows = len(vals[0]) if isinstance(vals[0], list) else None

    def f(*leaves):
        leaves = list(leaves)
        nested = [leaves[i * rows:(i + 1) * rows] for i in range(len(leaves) // rows)] if rows else leaves
        return ours(nested, "mean")

    assert gradcheck(f, *flat)


@pytest.mark.parametrize("name,ours,ref,x0", CASES, ids=[c[0] for c in CASES])
def test_reduction_none_gives_per_sample_losses(name, ours, ref, x0):
    per = ours(Tensor(x0.copy()), "none")
    assert per.shape == (N,)
    assert per.data.sum() == pytest.approx(ours(Tensor(x0.copy()), "sum").item(), rel=1e-12)
    per_v = ours(_values(x0), "none")
    assert isinstance(per_v, list) and len(per_v) == N
    np.testing.assert_allclose([v.data for v in per_v], per.data, rtol=1e-12)


def test_cross_entropy_weight_ignore_index_and_label_smoothing():
    y = LABELS.copy()
    y[2] = -100
    valid = y != -100
    logp = _log_softmax(LOGITS)
    wy = W_C[np.where(valid, y, 0)] * valid
    nll = -logp[np.arange(N), np.where(valid, y, 0)] * wy
    expected = nll.sum() / wy.sum()
    got = losses.cross_entropy(Tensor(LOGITS), y, weight=W_C)
    assert got.item() == pytest.approx(expected, rel=1e-12)
    eps = 0.1
    smooth = -(logp * W_C).sum(1) * valid
    expected_ls = ((1 - eps) * nll.sum() + eps / C * smooth.sum()) / wy.sum()
    got_ls = losses.cross_entropy(Tensor(LOGITS), y, weight=W_C, label_smoothing=eps)
    assert got_ls.item() == pytest.approx(expected_ls, rel=1e-12)
    x = Tensor(LOGITS.copy(), requires_grad=True)
    assert gradcheck(lambda t: losses.cross_entropy(t, y, weight=W_C, label_smoothing=eps), x)


def test_cross_entropy_unbatched_and_stable():
    s = np.array([1000.0, 0.0, -1000.0])
    loss = losses.cross_entropy(Tensor(s), np.array(1))
    assert loss.item() == pytest.approx(1000.0)
    assert np.isfinite(losses.cross_entropy([Value(1000.0), Value(-1000.0)], 1).data)
    big = losses.binary_cross_entropy_with_logits(Tensor(np.array([800.0, -800.0])),
                                                  np.array([0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(big.data, [800.0, 800.0])


def test_bce_clamps_log_at_minus_100():
    loss = losses.binary_cross_entropy(Tensor(np.array([0.0, 1.0])), np.array([1.0, 0.0]),
                                       reduction="none")
    np.testing.assert_allclose(loss.data, [100.0, 100.0])
    assert losses.binary_cross_entropy([Value(0.0)], [1.0]).data == pytest.approx(100.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss,x,y,kwargs", [
    (losses.mse_loss, 0.3, 0.5, {}),
    (losses.binary_cross_entropy, 0.3, 1.0, {"weight": 2.0}),
    (losses.binary_cross_entropy, 0.0, 1.0, {}),
    (losses.binary_cross_entropy_with_logits, 0.3, 1.0, {"pos_weight": 2.0}),
    (losses.hinge_loss, 0.3, -1.0, {}),
], ids=["mse", "bce", "bce_clamped", "bce_logits", "hinge"])
def test_a_single_value_input_is_one_sample(loss, x, y, kwargs, reduction):
    # The single output of an MLP(n, [.., 1]) is one Value; NumPy returns the element itself
    # from arithmetic on a 0-d object array, which used to crash every elementwise loss.
    v, w = Value(x), Value(x)
    got = loss(v, y, reduction=reduction, **kwargs)
    want = loss([w], [y], reduction=reduction, **kwargs)
    want = want[0] if reduction == "none" else want
    assert isinstance(got, Value)
    assert got.data == pytest.approx(want.data, rel=1e-12)
    got.backward()
    want.backward()
    assert v.grad == pytest.approx(w.grad, rel=1e-12)


def test_l2_penalty():
    params = [Value(1.0), Value(-2.0)]
    pen = losses.l2_penalty(params, alpha=0.5)
    assert pen.data == pytest.approx(0.5 * 5)
    pen.backward()
    assert [p.grad for p in params] == [1.0, -2.0]
    t = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    assert losses.l2_penalty([t], alpha=2.0).item() == pytest.approx(60.0)
    with pytest.raises(ValueError):
        losses.l2_penalty([])


# -- bad input -----------------------------------------------------------------------------------
def test_wrong_label_shapes_are_named():
    with pytest.raises(ValueError, match=r"target shape \(5,\) does not match input shape \(5, 1\).*squeeze"):
        losses.mse_loss(Tensor(np.zeros((5, 1))), np.zeros(5))
    with pytest.raises(ValueError, match="does not match"):
        losses.hinge_loss([Value(0.0)] * 3, [1, -1])
    with pytest.raises(ValueError, match=r"class-index target must have shape \(5,\)"):
        losses.cross_entropy(Tensor(LOGITS), np.zeros((5, 2), dtype=int))
    with pytest.raises(ValueError, match="probabilities with the input's shape"):
        losses.cross_entropy(Tensor(LOGITS), np.zeros(5))
    with pytest.raises(ValueError, match=r"shape \(N, C\)"):
        losses.multiclass_hinge_loss(Tensor(np.zeros((2, 3, 4))), np.zeros(2, dtype=int))


def test_class_index_out_of_range():
    for fn in (losses.cross_entropy, losses.nll_loss, losses.multiclass_hinge_loss):
        with pytest.raises(ValueError, match=r"class index 4 out of range for 4 classes"):
            fn(Tensor(LOGITS), np.array([0, 1, 4, 0, 0]))
        with pytest.raises(ValueError, match="out of range"):
            fn(_values(LOGITS), np.array([0, 1, -1, 0, 0]))


def test_other_bad_targets():
    with pytest.raises(ValueError, match=r"-1 or \+1"):
        losses.hinge_loss(Tensor(X1), Y01)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        losses.binary_cross_entropy(Tensor(X1), Y01)
    with pytest.raises(TypeError, match="integers"):
        losses.nll_loss(Tensor(LOGITS), LABELS.astype(float))
    with pytest.raises(ValueError, match="reduction"):
        losses.mse_loss(Tensor(X1), Y_REG, reduction="avg")
    with pytest.raises(TypeError, match="input must be a Tensor"):
        losses.mse_loss(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\)"):
        losses.cross_entropy(Tensor(LOGITS), LABELS, weight=np.ones(3))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,ours,ref,x0", CASES, ids=[c[0] for c in CASES])
def test_float32_input_gives_float32_loss_and_gradient(name, ours, ref, x0, reduction):
    # PyTorch keeps float32: the loss, and the gradient reaching the input, stay float32
    x = Tensor(x0.astype(np.float32), requires_grad=True)
    loss = ours(x, reduction)
    assert loss.dtype == np.float32
    loss.sum().backward()
    assert x.grad.dtype == np.float32
    x64 = Tensor(x0.astype(np.float32).astype(np.float64), requires_grad=True)
    ref_loss = ours(x64, reduction)
    ref_loss.sum().backward()
    np.testing.assert_allclose(loss.data, ref_loss.data, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad, x64.grad, rtol=1e-4, atol=1e-6)


def test_float32_weighted_smoothed_losses_and_l2_penalty_stay_float32():
    x = Tensor(LOGITS.astype(np.float32), requires_grad=True)
    for loss in (losses.cross_entropy(x, LABELS, weight=W_C, label_smoothing=0.1),
                 losses.cross_entropy(x, PROBS, weight=W_C, label_smoothing=0.2),
                 losses.nll_loss(x.log_softmax(axis=-1), LABELS, weight=W_C),
                 losses.binary_cross_entropy(x.sigmoid(), (LOGITS > 0).astype(float),
                                             weight=np.ones(C)),
                 losses.binary_cross_entropy_with_logits(x, (LOGITS > 0).astype(float),
                                                         pos_weight=np.full(C, 2.0)),
                 losses.multiclass_hinge_loss(x, LABELS, margin=0.5),
                 losses.l2_penalty([x, Tensor(np.ones(3, dtype=np.float32), requires_grad=True)],
                                   1e-3)):
        assert loss.dtype == np.float32
        x.grad = None
        loss.backward()
        assert x.grad.dtype == np.float32


# -- soft targets that require grad (issue 23, item 5) --------------------------------------------
# PyTorch 2.13.0 (CPU), float64, in a separate venv (torch is not a test dependency):
#   x = torch.tensor(SOFT_X, dtype=torch.float64, requires_grad=True); y likewise, then
#   F.cross_entropy(x, y, weight=torch.tensor(SOFT_W), label_smoothing=0.1).backward()
#   F.binary_cross_entropy(p, t, weight=torch.tensor(BCE_W)).backward()
#   F.binary_cross_entropy_with_logits(z, t, pos_weight=torch.tensor(POS_W), reduction="sum")
# and the printed loss.item(), y.grad.tolist(), x.grad.tolist() pasted below.
SOFT_X = np.array([[0.5, -1.2, 2.0], [0.1, 0.3, -0.4]])
SOFT_Y = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
SOFT_W = np.array([1.0, 2.0, 0.5])
TORCH_CE = (1.773281980173972,
            [[0.7803882617111092, 3.0907765234222184, 0.05269413085555459],
             [0.46779579173922536, 0.7555915834784507, 0.3463978958696126]],
            [[-0.012952257085101317, -0.28621325473645165, 0.29916551182155293],
             [-0.11486865676204122, 0.0865012298106044, 0.02836742695143671]])
BCE_P, BCE_T, BCE_W = np.array([0.2, 0.7, 0.999, 0.05]), np.array([0.3, 0.9, 0.5, 0.4]), \
    np.array([1.0, 2.0, 1.0, 0.5])
TORCH_BCE = (1.3976884130725016,
             [0.34657359027997264, -0.4236489301936017, -1.7266886946621383, 0.36805487239580503],
             [-0.15624999999999994, -0.47619047619047633, 124.87487487487475, -0.9210526315789475])
BCEL_Z, BCEL_T, POS_W = np.array([[0.5, -3.0], [2.0, 0.0]]), np.array([[0.3, 0.9], [0.5, 0.1]]), \
    np.array([2.0, 0.5])
TORCH_BCEL = (4.191904960896104,
              [[-0.025923015819893314, 1.475706324213129], [-1.8730719889570278, -0.34657359027997264]],
              [[0.20919713056241107, -0.4239157697523383], [0.3211956169668235, 0.42500000000000004]])

SOFT_CASES = [   # name, our loss of (input, target), same formula in autograd.numpy, x0, y0, torch
    ("cross_entropy_probs",
     lambda x, y: losses.cross_entropy(x, y, weight=SOFT_W, label_smoothing=0.1),
     lambda x, y: anp.mean(-anp.sum((y * 0.9 + 0.1 / 3) * SOFT_W * _log_softmax(x), axis=1)),
     SOFT_X, SOFT_Y, TORCH_CE),
    ("binary_cross_entropy",
     lambda x, y: losses.binary_cross_entropy(x, y, weight=BCE_W),
     lambda x, y: anp.mean(-BCE_W * (y * anp.log(x) + (1 - y) * anp.log(1 - x))),
     BCE_P, BCE_T, TORCH_BCE),
    ("binary_cross_entropy_with_logits",
     lambda x, y: losses.binary_cross_entropy_with_logits(x, y, pos_weight=POS_W, reduction="sum"),
     lambda x, y: anp.sum(-(POS_W * y * anp.log(1 / (1 + anp.exp(-x)))
                            + (1 - y) * anp.log(1 - 1 / (1 + anp.exp(-x))))),
     BCEL_Z, BCEL_T, TORCH_BCEL),
]


@pytest.mark.parametrize("name, ours, ref, x0, y0, torch_numbers", SOFT_CASES,
                         ids=[c[0] for c in SOFT_CASES])
def test_a_target_that_requires_grad_gets_pytorchs_gradient(name, ours, ref, x0, y0, torch_numbers):
    x, y = Tensor(x0, requires_grad=True), Tensor(y0, requires_grad=True)
    loss = ours(x, y)
    loss.backward()
    torch_loss, torch_dy, torch_dx = torch_numbers
    assert float(loss.data) == pytest.approx(torch_loss, rel=1e-12)
    np.testing.assert_allclose(y.grad, torch_dy, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(x.grad, torch_dx, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(y.grad, oracle_grad(lambda b: ref(x0, b))(y0), rtol=1e-10)
    assert gradcheck(lambda b: ours(Tensor(x0), b), Tensor(y0.copy(), requires_grad=True))


@pytest.mark.parametrize("name, ours, ref, x0, y0, torch_numbers", SOFT_CASES,
                         ids=[c[0] for c in SOFT_CASES])
def test_value_targets_that_require_grad_get_a_gradient(name, ours, ref, x0, y0, torch_numbers):
    xs, ys = _values(x0), _values(y0)
    ours(xs, ys).backward()
    np.testing.assert_allclose(_value_grads(ys), torch_numbers[1], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(_value_grads(xs), torch_numbers[2], rtol=1e-10, atol=1e-14)


def test_a_target_without_grad_stays_a_constant():
    x = Tensor(SOFT_X, requires_grad=True)
    y = Tensor(SOFT_Y)                                  # requires_grad=False
    losses.cross_entropy(x, y).backward()
    assert y.grad is None
    ys = _values(SOFT_Y)
    for row in ys:
        for v in row:
            v.requires_grad = False
    losses.cross_entropy(_values(SOFT_X), ys).backward()
    assert all(v.grad == 0.0 for row in ys for v in row)
