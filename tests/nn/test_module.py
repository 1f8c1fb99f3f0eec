"""Module: registration, dotted names, modes, state dicts, save/load, repr, name scopes."""
from __future__ import annotations

import numpy as np
import pytest

import nn
from autograd_core import Tensor, Value

from .helpers import assert_untouched, snapshot


class Pair(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = Value(1.0)
        self.inner = nn.Linear(3, 2, seed=0)
        self.scale = Tensor(np.ones(2), requires_grad=True)
        self.not_a_param = Tensor(np.ones(2))          # constant: not registered

    def forward(self, x):
        return self.inner(x) * self.scale * self.a.data


def test_named_parameters_use_dotted_pytorch_names():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert model.state_dict()["0.weight"].shape == (3, 4)


def test_attribute_registration_and_parameter_count():
    m = Pair()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["a", "scale", "inner.weight", "inner.bias"]
    assert m.num_parameters() == 1 + 2 + 3 * 2 + 2
    assert isinstance(m.parameters(), list)
    m.a = 3.0                                            # re-assigning a non-parameter unregisters
    assert "a" not in [n for n, _ in m.named_parameters()]


def test_scalar_mlp_names_and_count():
    model = nn.MLP(2, [16, 16, 1], seed=0)
    assert len(model.parameters()) == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1)
    names = [n for n, _ in model.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    sd = model.state_dict()
    assert sd["layers.2.neurons.0.b"].shape == () and sd["layers.2.neurons.0.b"].dtype == np.float64


def test_shared_parameter_counted_once():
    lin = nn.Linear(2, 2)
    model = nn.Sequential(lin, lin)
    assert len(model.parameters()) == 2


def test_modules_and_train_eval_propagate():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5), nn.Sequential(nn.BatchNorm1d(2)))
    assert len(list(model.modules())) == 5
    model.eval()
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_values_and_tensors():
    m = Pair()
    out = m(np.ones((1, 3))).sum()
    out.backward()
    (m.a * 2.0).backward()
    assert m.a.grad == 2.0 and m.scale.grad is not None
    m.zero_grad()
    assert m.a.grad == 0.0 and m.scale.grad is None and m.inner.weight.grad is None
    m(np.ones((1, 3))).sum().backward()
    m.zero_grad(set_to_none=False)
    assert np.all(m.inner.weight.grad == 0)


def test_state_dict_round_trip_is_a_copy():
    a, b = nn.MLP(3, [4, 2], seed=1), nn.MLP(3, [4, 2], seed=2)
    sd = a.state_dict()
    sd_copy = {k: v.copy() for k, v in sd.items()}
    a.parameters()[0].data += 5.0                      # mutating the model leaves sd alone
    assert np.array_equal(sd[next(iter(sd))], sd_copy[next(iter(sd))])
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert [p.data for p in b.parameters()] == [float(v) for v in sd_copy.values()]


def test_load_state_dict_from_another_architecture_changes_nothing():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    other = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"size mismatch for '0.weight'.*\(5, 4\).*\(3, 4\)"):
        model.load_state_dict(other.state_dict())
    assert_untouched(model, before)


def test_load_state_dict_missing_and_unexpected_keys():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    before = snapshot(model)
    sd = model.state_dict()
    sd["0.weight"] = sd["0.weight"] + 1                 # a valid change that must not be applied
    del sd["1.bias"]
    sd["2.weight"] = np.zeros(3)
    with pytest.raises(ValueError) as info:
        model.load_state_dict(sd)
    assert "missing keys: ['1.bias']" in str(info.value)
    assert "unexpected keys: ['2.weight']" in str(info.value)
    assert_untouched(model, before)
    res = model.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["1.bias"] and res.unexpected_keys == ["2.weight"]
    np.testing.assert_array_equal(model.state_dict()["0.weight"], before["0.weight"] + 1)


def test_load_state_dict_rejects_non_mapping_and_non_numeric():
    model = nn.Linear(2, 1)
    with pytest.raises(TypeError, match="mapping"):
        model.load_state_dict([1, 2])
    sd = model.state_dict()
    sd["weight"] = np.array([["a", "b"]])
    before = snapshot(model)
    with pytest.raises(ValueError, match="real numbers"):
        model.load_state_dict(sd)
    assert_untouched(model, before)


def test_save_and_load_npz(tmp_path):
    a = nn.Sequential(nn.Linear(3, 4, seed=0), nn.BatchNorm1d(4))
    a(np.random.default_rng(0).normal(size=(8, 3)))       # moves the running statistics
    path = tmp_path / "model.npz"
    a.save(path)
    b = nn.Sequential(nn.Linear(3, 4, seed=1), nn.BatchNorm1d(4))
    b.load(path)
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[k], v)
    assert int(b.state_dict()["1.num_batches_tracked"]) == 1


def test_load_rejects_a_file_that_is_not_npz(tmp_path):
    model = nn.Linear(2, 2)
    before = snapshot(model)
    text = tmp_path / "weights.npz"
    text.write_text("definitely not a zip archive")
    with pytest.raises(ValueError, match="not an .npz"):
        model.load(text)
    npy = tmp_path / "weights.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(ValueError, match="not an .npz"):
        model.load(npy)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, weight=np.array([{"x": 1}], dtype=object), bias=np.zeros(2))
    with pytest.raises(ValueError):
        model.load(pickled)
    with pytest.raises(FileNotFoundError):
        model.load(tmp_path / "missing.npz")
    assert_untouched(model, before)


def test_load_npz_from_another_architecture_is_refused(tmp_path):
    path = tmp_path / "other.npz"
    nn.MLP(2, [3, 1], seed=0).save(path)
    model = nn.MLP(2, [4, 1], seed=1)
    before = snapshot(model)
    with pytest.raises(ValueError, match="missing keys"):
        model.load(path)
    assert_untouched(model, before)


def test_repr_tree_with_parameter_counts():
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    text = repr(model)
    assert "(0): Linear(in_features=64, out_features=128, bias=True)  # 8,320 params" in text
    assert "(1): ReLU()" in text
    assert text.endswith("# 9,610 params")
    assert repr(nn.MLP(2, [16, 1])).splitlines()[1] == \
        "  (layers.0): Layer(2, 16, activation='relu')  # 48 params"


def test_repr_of_a_model_holding_prelu():
    # PReLU.num_parameters is PyTorch's int attribute (the number of slopes), which hides
    # Module.num_parameters(): the tree repr must count the child's parameters regardless.
    model = nn.Sequential(nn.Linear(2, 3), nn.PReLU(3), nn.Linear(3, 1))
    text = repr(model)
    assert "(1): PReLU(num_parameters=3)  # 3 params" in text
    assert text.endswith("# 16 params")
    assert model[1].num_parameters == 3


def test_call_pushes_name_scope_for_viz():
    model = nn.MLP(2, [2, 1], seed=0)
    out = model([1.0, 2.0])
    neuron = model.layers[1].neurons[0]
    assert out.scope == (model, model.layers[1], neuron)
    kinds = [getattr(s, "scope_kind", "module") for s in out.scope]
    assert kinds == ["module", "layer", "neuron"]
    assert nn.Linear(1, 1).scope_kind == "layer" and nn.Sequential().scope_kind == "module"
    y = nn.Sequential(nn.Linear(2, 1))(np.ones((1, 2)))
    assert y.scope[0].scope_kind == "module" and y.scope[-1].scope_kind == "layer"


def test_every_module_call_is_recorded_once_and_linked_to_the_call_around_it():
    """node.module_call: one ModuleCall per call, so two calls of a module (two samples) stay
    apart; the nodes one call makes share it; a neuron's call sits inside its layer's call."""
    model = nn.MLP(2, [2, 1], seed=0)
    first, second = model([1.0, 2.0]), model([1.0, 2.0])
    assert first.module_call is not second.module_call
    assert first.module_call.module is second.module_call.module is model.layers[1].neurons[0]
    calls = first.module_call.calls
    assert [c.module for c in calls] == list(first.scope) == [model, model.layers[1],
                                                              model.layers[1].neurons[0]]
    assert calls[-1].outer is calls[-2] and calls[0].outer is None
    hidden = [p for p in first.parents if p.op is not None]
    assert all(p.module_call is first.module_call for p in hidden)   # made in the same call
    layer1 = model.layers[0]
    outs = model.layers[0]([1.0, 2.0])
    assert outs[0].module_call.outer is outs[1].module_call.outer   # one call of layer 1
    assert outs[0].module_call.outer.module is layer1
    assert Value(1.0).module_call is None and (Value(1.0) * 2).scope == ()


def test_forward_must_be_defined_and_super_init_called():
    class Bad(nn.Module):
        def __init__(self):
            self.w = Value(1.0)

    with pytest.raises(AttributeError, match="super"):
        Bad()
    with pytest.raises(NotImplementedError):
        nn.Module()(1)
