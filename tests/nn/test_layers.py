"""Tensor layers: Linear, Sequential, activations, Dropout, BatchNorm1d."""
from __future__ import annotations

import math

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad as oracle_grad

import nn
from autograd_core import Tensor, gradcheck, no_grad

RNG = np.random.default_rng(0)


def test_linear_shapes_formula_and_default_init():
    lin = nn.Linear(500, 3, seed=0)
    assert lin.weight.shape == (3, 500) and lin.bias.shape == (3,)
    bound = 1 / math.sqrt(500)
    assert np.abs(lin.weight.data).max() <= bound and np.abs(lin.bias.data).max() <= bound
    x = RNG.normal(size=(4, 500))
    np.testing.assert_allclose(lin(x).data, x @ lin.weight.data.T + lin.bias.data, rtol=1e-12)
    assert nn.Linear(2, 3, bias=False).bias is None
    with pytest.raises(ValueError, match="last dimension 500"):
        lin(np.zeros((4, 3)))


def test_linear_gradients_match_oracle():
    lin = nn.Linear(3, 2, seed=1)
    x = RNG.normal(size=(5, 3))
    (lin(x) ** 2).sum().backward()
    ref = oracle_grad(lambda W: anp.sum((x @ W.T + lin.bias.data) ** 2))(lin.weight.data)
    np.testing.assert_allclose(lin.weight.grad, ref, rtol=1e-10)


def test_sequential_indexing_and_append():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    model.append(nn.Linear(3, 1))
    assert len(model) == 3 and isinstance(model[1], nn.ReLU) and isinstance(model[-1], nn.Linear)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(model[:2]) == 2
    assert model(np.zeros((7, 2))).shape == (7, 1)
    with pytest.raises(TypeError, match="Modules"):
        nn.Sequential(nn.ReLU(), "relu")


X = RNG.normal(size=(4, 3)) * 3


@pytest.mark.parametrize("module,ref", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Softplus(), lambda x: np.log1p(np.exp(x))),
    (nn.Softplus(beta=2.0, threshold=3.0), lambda x: np.where(2 * x > 3, x, np.log1p(np.exp(2 * x)) / 2)),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    (nn.Softmax(dim=0), lambda x: np.exp(x) / np.exp(x).sum(0, keepdims=True)),
    (nn.Identity(54, unused=1), lambda x: x),
    (nn.PReLU(), lambda x: np.where(x > 0, x, 0.25 * x)),
], ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else "")
def test_activation_modules(module, ref):
    np.testing.assert_allclose(module(Tensor(X)).data, ref(X), rtol=1e-12)
    assert gradcheck(lambda t: (module(t) * Tensor(np.arange(12.0).reshape(4, 3))).sum(),
                     Tensor(X + 0.01, requires_grad=True))


def test_prelu_slope_is_trainable_per_channel():
    act = nn.PReLU(num_parameters=3, init=0.1)
    assert [n for n, _ in act.named_parameters()] == ["weight"]
    act(Tensor(X)).sum().backward()
    np.testing.assert_allclose(act.weight.grad, np.minimum(X, 0).sum(0))
    with pytest.raises(ValueError, match="one per channel"):
        act(Tensor(np.zeros((2, 4))))


def test_dropout_inverted_and_identity_in_eval():
    drop = nn.Dropout(0.3, seed=0)
    x = Tensor(np.ones((200, 100)))
    out = drop(x).data
    kept = out != 0
    assert abs(1 - kept.mean() - 0.3) < 0.01
    np.testing.assert_allclose(out[kept], 1 / 0.7)
    drop.eval()
    assert drop(x) is x
    a, b = nn.Dropout(0.5, seed=3), nn.Dropout(0.5, seed=3)
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert np.all(nn.Dropout(1.0)(x).data == 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout_gradient_is_the_mask():
    drop = nn.Dropout(0.5, seed=1)
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    out = drop(x)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, out.data)


# -- batch norm ---------------------------------------------------------------------------------
def test_batchnorm_train_output_and_running_statistics():
    bn = nn.BatchNorm1d(3)
    z = RNG.normal(loc=[1.0, -2.0, 5.0], scale=[1.0, 3.0, 0.5], size=(8, 3))
    out = bn(z).data
    mu, var = z.mean(0), z.var(0)
    np.testing.assert_allclose(out, (z - mu) / np.sqrt(var + 1e-5), rtol=1e-10)
    np.testing.assert_allclose(bn.running_mean, 0.1 * mu, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * z.var(0, ddof=1), rtol=1e-12)
    assert int(bn.num_batches_tracked) == 1
    bn.eval()
    z2 = RNG.normal(size=(2, 3))
    expected = (z2 - bn.running_mean) / np.sqrt(bn.running_var + 1e-5)
    np.testing.assert_allclose(bn(z2).data, expected, rtol=1e-10)
    assert int(bn.num_batches_tracked) == 1                   # eval does not update


def test_batchnorm_cumulative_average_and_3d_input():
    bn = nn.BatchNorm1d(2, momentum=None)
    a, b = RNG.normal(size=(5, 2)), RNG.normal(size=(5, 2))
    bn(a)
    bn(b)
    np.testing.assert_allclose(bn.running_mean, (a.mean(0) + b.mean(0)) / 2, rtol=1e-12)
    bn3 = nn.BatchNorm1d(2)
    z = RNG.normal(size=(4, 2, 3))
    mu = z.mean(axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(bn3(z).data, (z - mu) / np.sqrt(z.var(axis=(0, 2), keepdims=True) + 1e-5),
                               rtol=1e-10)


def test_batchnorm_gradcheck_in_train_mode():
    bn = nn.BatchNorm1d(3)
    bn.weight.data[...] = [0.5, 2.0, -1.0]
    bn.bias.data[...] = [0.1, 0.0, 0.3]
    up = Tensor(RNG.normal(size=(6, 3)))
    z = Tensor(RNG.normal(size=(6, 3)), requires_grad=True)
    # the parameters are gradcheck inputs too: f reads them through the module
    assert gradcheck(lambda t, gamma, beta: (bn(t) * up).sum(), z, bn.weight, bn.bias)


def test_batchnorm_matches_the_lecture_notes_closed_form_gradient():
    """dL/dZ_ij = Σ_k dL/dẐ_ik · G_i/(Kσ_i) · (δ_jk K - 1 - (Z_ik-μ_i)(Z_ij-μ_i)/σ_i²),
    dL/dB_i = Σ_j dL/dẐ_ij, dL/dG_i = Σ_j dL/dẐ_ij Z̄_ij (the notes index units i, batch j)."""
    K, n = 7, 3
    bn = nn.BatchNorm1d(n)
    bn.weight.data[...] = [1.5, -0.5, 2.0]
    Zt = RNG.normal(size=(K, n))
    upstream = RNG.normal(size=(K, n))
    z = Tensor(Zt.copy(), requires_grad=True)
    (bn(z) * Tensor(upstream)).sum().backward()
    Z, gZ = Zt.T, upstream.T                               # the notes' layout: units x batch
    mu = Z.mean(1)
    sigma = np.sqrt(((Z - mu[:, None]) ** 2).mean(1) + bn.eps)
    G = bn.weight.data
    expected = np.zeros_like(Z)
    for i in range(n):
        for j in range(K):
            expected[i, j] = sum(gZ[i, k] * G[i] / (K * sigma[i]) *
                                 ((K if j == k else 0) - 1
                                  - (Z[i, k] - mu[i]) * (Z[i, j] - mu[i]) / sigma[i] ** 2)
                                 for k in range(K))
    np.testing.assert_allclose(z.grad, expected.T, rtol=1e-9, atol=1e-12)
    zbar = (Z - mu[:, None]) / sigma[:, None]
    np.testing.assert_allclose(bn.bias.grad, gZ.sum(1), rtol=1e-12)
    np.testing.assert_allclose(bn.weight.grad, (gZ * zbar).sum(1), rtol=1e-10)


def test_batchnorm_errors_and_state_dict_keys():
    bn = nn.BatchNorm1d(4)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(np.zeros((1, 4)))
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        bn(np.zeros((3, 5)))
    bn.eval()
    with no_grad():
        assert bn(np.zeros((1, 4))).shape == (1, 4)           # eval works on one sample


def test_tensor_parameters_are_labelled_like_their_state_dict_keys() -> None:
    model = nn.Sequential(nn.Linear(2, 3, seed=0), nn.ReLU(), nn.Linear(3, 1, seed=1))
    assert [p.label for p in model.parameters()] == list(model.state_dict())
    assert [p.label for p in nn.Linear(2, 2, seed=0).parameters()] == ["weight", "bias"]


def _float_network(dtype):
    return nn.Sequential(nn.Linear(3, 5, dtype=dtype, seed=0), nn.BatchNorm1d(5, dtype=dtype),
                         nn.PReLU(5, dtype=dtype), nn.Dropout(0.25, seed=1), nn.Tanh(),
                         nn.Softplus(beta=2.0), nn.Linear(5, 2, dtype=dtype, seed=2))


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "RMSprop", "Adagrad", "Adadelta", "AdamW"])
def test_float32_layers_keep_float32_forward_backward_and_optimizer_state(optimizer):
    x = np.random.default_rng(3).normal(size=(8, 3)).astype(np.float32)
    model, reference = _float_network(np.float32), _float_network(np.float64)
    for p in model.parameters():
        assert p.dtype == np.float32
    assert model[1].running_mean.dtype == np.float32 and model[1].running_var.dtype == np.float32
    out, ref = model(x), reference(x.astype(np.float64))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, ref.data, rtol=1e-4, atol=1e-5)   # same seeds, same maths
    out.sum().backward()
    assert {p.grad.dtype for p in model.parameters()} == {np.dtype(np.float32)}
    opt = getattr(nn.optim, optimizer)(model.parameters(), lr=0.01)
    opt.step()
    opt.step()
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float32)}
    for state in opt.state.values():
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, key
    assert model[1].running_mean.dtype == np.float32
    model.eval()
    assert model(x).dtype == np.float32


def test_float32_input_through_default_layers_keeps_its_dtype():
    x = Tensor(np.ones((4, 3), dtype=np.float32))
    assert nn.Dropout(0.5, seed=0)(x).dtype == np.float32
    assert nn.ReLU()(np.ones((2, 2), dtype=np.float32)).dtype == np.float32   # arrays keep dtype
    assert nn.Softplus(beta=3.0, threshold=1.0)(x).dtype == np.float32
    assert nn.Linear(3, 2)(np.ones((1, 3), dtype=np.int64)).dtype == np.float64


def test_layer_dtype_must_be_floating_point():
    for bad in (np.int64, "complex128", object):
        with pytest.raises(TypeError, match="floating-point dtype"):
            nn.Linear(2, 2, dtype=bad)
        with pytest.raises(TypeError, match="floating-point dtype"):
            nn.BatchNorm1d(2, affine=False, dtype=bad)


def test_module_float_and_double_cast_in_place_keeping_the_parameter_objects():
    model = nn.Sequential(nn.Linear(3, 4, seed=0), nn.BatchNorm1d(4), nn.PReLU())
    x = np.random.default_rng(1).normal(size=(5, 3))
    reference = model(x).data
    model(x).sum().backward()
    params = model.parameters()
    opt = nn.optim.SGD(params, lr=0.1)
    assert model.float() is model
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    assert {p.dtype for p in params} == {np.dtype(np.float32)}
    assert {p.grad.dtype for p in params} == {np.dtype(np.float32)}
    assert model[1].running_var.dtype == np.float32
    assert model[1].num_batches_tracked.dtype == np.int64           # integer buffers stay
    out = model(x.astype(np.float32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, reference, rtol=1e-5, atol=1e-6)
    opt.step()                                                        # the optimizer still owns them
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float32)}
    model.double()
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float64)}
    assert model[1].running_mean.dtype == np.float64
    with pytest.raises(TypeError, match="floating-point dtype"):
        model.to(np.int32)


def test_float_on_a_model_with_value_parameters_is_refused_before_casting():
    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2, seed=0)
            self.scale = nn.MLP(1, [1], seed=0)

    model = Mixed()
    with pytest.raises(TypeError, match="Value parameters"):
        model.float()
    assert model.lin.weight.dtype == np.float64                       # nothing half-done
    assert model.double() is model                                    # float64 is what Values hold
