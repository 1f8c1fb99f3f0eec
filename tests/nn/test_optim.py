"""Optimizers: the first 10 updates equal PyTorch's documented algorithms, written here in
plain NumPy; schedules equal their formulas; gradient clipping; state dicts; bad arguments."""
from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_core import Tensor, Value
from nn import optim

A = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.2]])
B = np.array([1.0, -2.0, 0.5])
THETA0 = np.array([0.7, -1.3])


def grad_f(theta):
    """∇ of f(θ) = ½‖Aθ - b‖² + 0.1 Σ θ⁴."""
    return A.T @ (A @ theta - B) + 0.4 * theta ** 3


def f_tensor(t):
    r = (Tensor(A) @ t) - Tensor(B)
    return (r * r).sum() * 0.5 + (t ** 4).sum() * 0.1


def f_values(vs):
    total = 0.0
    for i in range(3):
        r = sum(A[i, j] * vs[j] for j in range(2)) - B[i]
        total = total + 0.5 * r * r
    return total + sum(0.1 * v ** 4 for v in vs)


# -- reference algorithms (torch.optim documentation), one update per call -----------------
def ref_sgd(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    theta, b, out = THETA0.copy(), None, []
    for t in range(1, 11):
        g = grad_f(theta)
        if maximize:
            g = -g
        if weight_decay:
            g = g + weight_decay * theta
        if momentum:
            b = g if t == 1 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
        out.append(theta)
    return out


def ref_adagrad(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    theta, state_sum, out = THETA0.copy(), np.full(2, initial_accumulator_value), []
    for t in range(1, 11):
        g = grad_f(theta) + weight_decay * theta
        gamma = lr / (1 + (t - 1) * lr_decay)
        state_sum = state_sum + g ** 2
        theta = theta - gamma * g / (np.sqrt(state_sum) + eps)
        out.append(theta)
    return out


def ref_rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    theta, v, gav, buf, out = THETA0.copy(), np.zeros(2), np.zeros(2), np.zeros(2), []
    for t in range(1, 11):
        g = grad_f(theta) + weight_decay * theta
        v = alpha * v + (1 - alpha) * g ** 2
        vt = v
        if centered:
            gav = alpha * gav + (1 - alpha) * g
            vt = vt - gav ** 2
        if momentum > 0:
            buf = momentum * buf + g / (np.sqrt(vt) + eps)
            theta = theta - lr * buf
        else:
            theta = theta - lr * g / (np.sqrt(vt) + eps)
        out.append(theta)
    return out


def ref_adadelta(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    theta, v, u, out = THETA0.copy(), np.zeros(2), np.zeros(2), []
    for t in range(1, 11):
        g = grad_f(theta) + weight_decay * theta
        v = v * rho + g ** 2 * (1 - rho)
        dx = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = u * rho + dx ** 2 * (1 - rho)
        theta = theta - lr * dx
        out.append(theta)
    return out


def ref_adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False):
    b1, b2 = betas
    theta, m, v, vmax, out = THETA0.copy(), np.zeros(2), np.zeros(2), np.zeros(2), []
    for t in range(1, 11):
        g = grad_f(theta)
        if decoupled:
            theta = theta - lr * weight_decay * theta
        elif weight_decay:
            g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        mh = m / (1 - b1 ** t)
        if amsgrad:
            vmax = np.maximum(vmax, v)
            vh = vmax / (1 - b2 ** t)
        else:
            vh = v / (1 - b2 ** t)
        theta = theta - lr * mh / (np.sqrt(vh) + eps)
        out.append(theta)
    return out


CASES = [
    ("sgd", optim.SGD, dict(lr=0.05), lambda: ref_sgd(lr=0.05)),
    ("sgd_default_lr", optim.SGD, dict(), lambda: ref_sgd()),
    ("sgd_momentum", optim.SGD, dict(lr=0.02, momentum=0.9), lambda: ref_sgd(lr=0.02, momentum=0.9)),
    ("sgd_dampening_wd", optim.SGD, dict(lr=0.02, momentum=0.8, dampening=0.5, weight_decay=0.1),
     lambda: ref_sgd(lr=0.02, momentum=0.8, dampening=0.5, weight_decay=0.1)),
    ("sgd_nesterov", optim.SGD, dict(lr=0.02, momentum=0.9, nesterov=True),
     lambda: ref_sgd(lr=0.02, momentum=0.9, nesterov=True)),
    ("sgd_maximize", optim.SGD, dict(lr=0.01, maximize=True), lambda: ref_sgd(lr=0.01, maximize=True)),
    ("adagrad", optim.Adagrad, dict(), lambda: ref_adagrad()),
    ("adagrad_all", optim.Adagrad,
     dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2),
     lambda: ref_adagrad(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2)),
    ("rmsprop", optim.RMSprop, dict(), lambda: ref_rmsprop()),
    ("rmsprop_all", optim.RMSprop, dict(lr=0.01, alpha=0.9, weight_decay=0.1, momentum=0.5, centered=True),
     lambda: ref_rmsprop(lr=0.01, alpha=0.9, weight_decay=0.1, momentum=0.5, centered=True)),
    ("adadelta", optim.Adadelta, dict(), lambda: ref_adadelta()),
    ("adadelta_wd", optim.Adadelta, dict(lr=0.5, rho=0.8, weight_decay=0.1),
     lambda: ref_adadelta(lr=0.5, rho=0.8, weight_decay=0.1)),
    ("adam", optim.Adam, dict(), lambda: ref_adam()),
    ("adam_all", optim.Adam, dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True),
     lambda: ref_adam(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("adamw", optim.AdamW, dict(), lambda: ref_adam(weight_decay=1e-2, decoupled=True)),
    ("adamw_amsgrad", optim.AdamW, dict(lr=0.05, weight_decay=0.3, amsgrad=True),
     lambda: ref_adam(lr=0.05, weight_decay=0.3, amsgrad=True, decoupled=True)),
]


@pytest.mark.parametrize("name,cls,kwargs,ref", CASES, ids=[c[0] for c in CASES])
def test_first_ten_updates_on_tensor_parameter(name, cls, kwargs, ref):
    theta = Tensor(THETA0.copy(), requires_grad=True)
    opt = cls([theta], **kwargs)
    for expected in ref():
        opt.zero_grad()
        f_tensor(theta).backward()
        opt.step()
        np.testing.assert_allclose(theta.data, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("name,cls,kwargs,ref", CASES, ids=[c[0] for c in CASES])
def test_first_ten_updates_on_value_parameters(name, cls, kwargs, ref):
    vs = [Value(THETA0[0]), Value(THETA0[1])]
    opt = cls(vs, **kwargs)
    for expected in ref():
        opt.zero_grad()
        f_values(vs).backward()
        opt.step()
        np.testing.assert_allclose([v.data for v in vs], expected, rtol=0, atol=1e-10)


def test_optimizer_state_dict_resumes_exactly():
    a = Tensor(THETA0.copy(), requires_grad=True)
    opt = optim.Adam([a], lr=0.05)
    for _ in range(3):
        opt.zero_grad()
        f_tensor(a).backward()
        opt.step()
    saved, theta_saved = opt.state_dict(), a.data.copy()
    assert saved["param_groups"][0]["params"] == [0] and saved["state"][0]["step"] == 3
    b = Tensor(theta_saved.copy(), requires_grad=True)
    opt_b = optim.Adam([b], lr=0.05)
    opt_b.load_state_dict(saved)
    for o, p in ((opt, a), (opt_b, b)):
        for _ in range(3):
            o.zero_grad()
            f_tensor(p).backward()
            o.step()
    np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameters; the loaded one has 1"):
        optim.Adam([b, Tensor(np.zeros(3), requires_grad=True)]).load_state_dict(saved)


def test_param_groups_have_their_own_hyperparameters():
    x, y = Value(1.0), Value(1.0)
    opt = optim.SGD([{"params": [x]}, {"params": [y], "lr": 0.5}], lr=0.1)
    x.grad = y.grad = 1.0
    opt.step()
    assert (x.data, y.data) == (0.9, 0.5)


def test_tensor_without_grad_is_skipped():
    t = Tensor(np.ones(2), requires_grad=True)
    optim.Adam([t], lr=1.0).step()
    np.testing.assert_array_equal(t.data, np.ones(2))


def test_bad_optimizer_arguments():
    p = Value(1.0)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([])
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(TypeError, match="trainable leaves"):
        optim.SGD([p, 3.0])
    with pytest.raises(TypeError, match="not a single parameter"):
        optim.SGD(p)
    with pytest.raises(TypeError, match="unknown hyperparameters"):
        optim.SGD([{"params": [p], "betas": (0.9, 0.9)}])


# -- schedules --------------------------------------------------------------------------------------
def _lrs(make, steps=12, lr=0.5):
    opt = optim.SGD([Value(0.0)], lr=lr)
    sched = make(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_inverse_time_decay_of_the_lecture_notes():
    got = _lrs(lambda o: optim.InverseTimeLR(o, lam=0.3))
    assert got == pytest.approx([0.5 / (1 + 0.5 * 0.3 * t) for t in range(12)], rel=1e-14)


def test_step_exponential_cosine_lambda():
    assert _lrs(lambda o: optim.StepLR(o, step_size=5, gamma=0.5)) == pytest.approx(
        [0.5 * 0.5 ** (t // 5) for t in range(12)])
    assert _lrs(lambda o: optim.ExponentialLR(o, gamma=0.9)) == pytest.approx(
        [0.5 * 0.9 ** t for t in range(12)])
    assert _lrs(lambda o: optim.CosineAnnealingLR(o, T_max=10, eta_min=0.1)) == pytest.approx(
        [0.1 + 0.4 * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(12)])
    assert _lrs(lambda o: optim.LambdaLR(o, lambda k: 1.0 - 0.9 * k / 100), lr=1.0) == pytest.approx(
        [1.0 - 0.9 * k / 100 for k in range(12)])


def test_scheduler_get_last_lr_and_errors():
    opt = optim.SGD([Value(0.0)], lr=1.0)
    sched = optim.StepLR(opt, step_size=1, gamma=0.1)
    sched.step()
    assert sched.get_last_lr() == pytest.approx([0.1])
    with pytest.raises(ValueError, match="step_size"):
        optim.StepLR(opt, step_size=0)
    with pytest.raises(TypeError, match="Optimizer"):
        optim.ExponentialLR("sgd", gamma=0.5)


# -- clipping --------------------------------------------------------------------------------------
def test_clip_grad_norm_scales_all_gradients_together():
    a = Tensor(np.zeros(2), requires_grad=True)
    v = Value(0.0)
    a.grad, v.grad = np.array([3.0, 0.0]), 4.0
    total = optim.clip_grad_norm_([a, v], max_norm=1.0)
    assert total == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad, [3.0 / (5 + 1e-6), 0.0])
    assert v.grad == pytest.approx(4.0 / (5 + 1e-6))
    a.grad, v.grad = np.array([0.3, 0.0]), 0.4
    assert optim.clip_grad_norm_([a, v], max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(a.grad, [0.3, 0.0])          # below the limit: unchanged
    a.grad, v.grad = np.array([-7.0, 1.0]), 2.0
    assert optim.clip_grad_norm_([a, v], 1.0, norm_type=float("inf")) == pytest.approx(7.0)
    with pytest.raises(RuntimeError, match="non-finite"):
        a.grad = np.array([np.inf, 0.0])
        optim.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)


# -- hyperparameter validation (issue 23, items 2-4 and 14) -----------------------------------------
NAN = float("nan")


@pytest.mark.parametrize("make", [
    lambda p: optim.SGD([p], lr=NAN),
    lambda p: optim.SGD([p], lr=0.1, momentum=NAN),
    lambda p: optim.SGD([p], lr=0.1, momentum=0.9, dampening=NAN),
    lambda p: optim.SGD([p], lr=0.1, weight_decay=NAN),
    lambda p: optim.Adam([p], betas=(NAN, 0.999)),
    lambda p: optim.Adam([p], betas=(0.9, NAN)),
    lambda p: optim.Adam([p], eps=NAN),
    lambda p: optim.AdamW([p], weight_decay=NAN),
    lambda p: optim.RMSprop([p], alpha=NAN),
    lambda p: optim.RMSprop([p], momentum=NAN),
    lambda p: optim.Adadelta([p], rho=NAN),
    lambda p: optim.Adagrad([p], lr_decay=NAN),
    lambda p: optim.Adagrad([p], initial_accumulator_value=NAN),
])
def test_nan_hyperparameters_are_refused(make):
    p = Value(1.0)
    with pytest.raises(ValueError, match=r"Invalid .*nan"):
        make(p)


def test_numpy_scalar_hyperparameters_are_numbers():
    """PyTorch accepts np.float32(0.1) as a learning rate; so do we, and float32 stays float32."""
    t = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    opt = optim.SGD([t], lr=np.float32(0.5), momentum=np.float64(0.5), weight_decay=np.int64(0))
    t.grad = np.ones(2, dtype=np.float32)
    opt.step()
    assert t.data.dtype == np.float32
    np.testing.assert_allclose(t.data, [0.5, 0.5])
    optim.Adam([Value(1.0)], lr=np.float32(1e-3), betas=np.array([0.9, 0.999]))


def test_hyperparameter_messages_name_the_problem():
    p = Value(1.0)
    with pytest.raises(TypeError, match=r"betas must be a pair \(beta1, beta2\).*got 0.9"):
        optim.Adam([p], betas=0.9)
    with pytest.raises(TypeError, match=r"Invalid weight_decay: expected a number >= 0; got 'x'"):
        optim.SGD([p], weight_decay="x")
    with pytest.raises(TypeError, match=r"Invalid learning rate: .*got 'fast' \(str\)"):
        optim.SGD([p], lr="fast")
    with pytest.raises(ValueError, match=r"rho value: 1.5; expected a number in \[0, 1\]"):
        optim.Adadelta([p], rho=1.5)
    optim.Adadelta([p], rho=1.0)                   # 1 is allowed, as in PyTorch


@pytest.mark.parametrize("make, bad, error", [
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), {"lr": "bogus"}, TypeError),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), {"lr": NAN}, ValueError),
    (lambda ps: optim.Adam(ps, lr=0.1), {"betas": (2.0, -1.0)}, ValueError),
    (lambda ps: optim.Adam(ps, lr=0.1), {"betas": 0.5}, TypeError),
    (lambda ps: optim.Adam(ps, lr=0.1), {"nonsense": 1}, ValueError),
])
def test_load_state_dict_validates_before_changing_anything(make, bad, error):
    ps = [Value(1.0), Value(2.0)]
    opt = make(ps)
    for p in ps:
        p.grad = 1.0
    opt.step()
    good = opt.state_dict()
    before_groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    before_state = {k: dict(v) for k, v in good["state"].items()}
    # a state dict whose state differs too, so a half-done load would show in both places
    sd = opt.state_dict()
    sd["param_groups"][0].update(bad)
    for st in sd["state"].values():
        st["step"] = 99
    with pytest.raises(error, match="parameter group 0 of the loaded state dict"):
        opt.load_state_dict(sd)
    assert [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups] == before_groups
    assert {k: v["step"] for k, v in opt.state_dict()["state"].items()} == \
        {k: v["step"] for k, v in before_state.items()}


def test_duplicate_parameters_warn_as_pytorch():
    """PyTorch warns ("optimizer contains a parameter group with duplicate parameters") and
    still updates the parameter once per listing; we do the same, naming the duplicate."""
    w = Value(1.0, label="w")
    with pytest.warns(UserWarning, match=r"duplicate parameters: parameter 1 'w'"):
        opt = optim.SGD([w, w], lr=0.1)
    w.grad = 1.0
    opt.step()
    assert w.data == pytest.approx(0.8)            # twice, as torch.optim.SGD([w, w]) does
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optim.SGD([Value(1.0), Value(1.0)], lr=0.1)   # equal data, distinct parameters: silent
