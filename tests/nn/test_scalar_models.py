"""Neuron / Layer / MLP on Values: formulas, micrograd compatibility, the micrograd demo, XOR."""
from __future__ import annotations

import math

import numpy as np
import pytest

import nn
from autograd_core import Value
from nn import losses, optim

ACT = {"relu": lambda z: max(0.0, z), "tanh": math.tanh, "linear": lambda z: z,
       "sigmoid": lambda z: 1 / (1 + math.exp(-z)), "leaky_relu": lambda z: z if z > 0 else 0.01 * z}


@pytest.mark.parametrize("activation", sorted(ACT))
def test_neuron_computes_activation_of_affine(activation):
    n = nn.Neuron(3, activation, seed=0)
    x = [0.5, -1.5, 2.0]
    z = sum(w.data * xi for w, xi in zip(n.w, x)) + n.b.data
    assert n(x).data == pytest.approx(ACT[activation](z), rel=1e-12)
    n.b.data = -10.0          # push z negative to see the activation's lower branch
    z = sum(w.data * xi for w, xi in zip(n.w, x)) - 10.0
    assert n(x).data == pytest.approx(ACT[activation](z), rel=1e-12)


def test_neuron_gradients_are_inputs_times_activation_slope():
    n = nn.Neuron(2, "tanh", seed=1)
    x = [Value(0.3), Value(-0.7)]
    out = n(x)
    out.backward()
    slope = 1 - out.data ** 2
    assert n.w[0].grad == pytest.approx(slope * 0.3) and n.b.grad == pytest.approx(slope)
    assert x[1].grad == pytest.approx(slope * n.w[1].data)


def test_micrograd_compatible_api():
    model = nn.MLP(2, [16, 16, 1], seed=0)
    assert isinstance(model([1.0, 2.0]), Value)
    assert isinstance(nn.MLP(2, [3])([1.0, 2.0]), list)
    assert isinstance(model.parameters(), list) and len(model.parameters()) == 337
    assert [layer.neurons[0].nonlin for layer in model.layers] == [True, True, False]
    assert nn.Neuron(2, nonlin=False).activation == "linear"
    assert isinstance(nn.Layer(2, 1)([1.0, 2.0]), Value)


def test_one_neuron_hidden_layer_works():
    model = nn.MLP(2, [1, 1], seed=0)
    out = model([1.0, -2.0])
    assert isinstance(out, Value)
    hidden = model.layers[0].neurons[0]
    h = max(0.0, hidden.w[0].data * 1.0 + hidden.w[1].data * -2.0 + hidden.b.data)
    last = model.layers[1].neurons[0]
    assert out.data == pytest.approx(last.w[0].data * h + last.b.data)


def test_last_layer_linear_by_default():
    model = nn.MLP(1, [1], seed=0)
    model.layers[0].neurons[0].w[0].data = -1.0
    assert model([3.0]).data == -3.0
    assert nn.MLP(1, [1], output_activation="relu", seed=0).layers[0].activation == "relu"


def test_seed_reproducible_and_inits():
    a, b = nn.MLP(2, [4, 1], seed=7), nn.MLP(2, [4, 1], seed=7)
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    big = nn.Layer(400, 50, init="normal", seed=0)
    w = np.array([p.data for n in big.neurons for p in n.w])
    assert w.std() == pytest.approx(1 / math.sqrt(400), rel=0.05)   # the notes' variance 1/m
    u = np.array([p.data for n in nn.Layer(10, 100, seed=0).neurons for p in n.w])
    assert u.min() >= -1 and u.max() <= 1 and u.std() == pytest.approx(1 / math.sqrt(3), rel=0.1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="expects 2 inputs; got 3"):
        nn.MLP(2, [3, 1])([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="activation"):
        nn.Neuron(2, "swish")
    with pytest.raises(TypeError, match="nouts"):
        nn.MLP(2, 3)
    with pytest.raises(ValueError, match="nin"):
        nn.Neuron(0)
    with pytest.raises(TypeError):
        nn.Neuron(2)("ab")


def test_micrograd_demo_moons_reaches_100_percent():
    """micrograd's demo: 2-16-16-1, 100 noisy moons, SVM loss + 1e-4 L2, lr 1 - 0.9 k/100."""
    X, y = nn.data.make_moons(100, noise=0.1, seed=0)
    y = 2 * y - 1
    model = nn.MLP(2, [16, 16, 1], seed=0)
    opt = optim.SGD(model.parameters(), lr=1.0)
    sched = optim.LambdaLR(opt, lambda k: 1.0 - 0.9 * k / 100)
    best = 0.0
    for k in range(100):
        scores = [model(list(x)) for x in X]
        loss = losses.hinge_loss(scores, y) + losses.l2_penalty(model.parameters(), alpha=1e-4)
        acc = np.mean([(s.data > 0) == (t > 0) for s, t in zip(scores, y)])
        best = max(best, acc)
        if acc == 1.0:
            break
        assert opt.param_groups[0]["lr"] == pytest.approx(1.0 - 0.9 * k / 100)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    assert best == 1.0, f"training accuracy only reached {best}"


def _set_xor_hand_solution(model):
    """The lecture notes: g(x) = wᵀ max(0, Wᵀx + c) + b, W = [[1,1],[1,1]], c = [0,-1], w = [1,-2], b = 0."""
    W = np.array([[1.0, 1.0], [1.0, 1.0]])
    c, w = [0.0, -1.0], [1.0, -2.0]
    for j, neuron in enumerate(model.layers[0].neurons):
        for i in range(2):
            neuron.w[i].data = W[i, j]
        neuron.b.data = c[j]
    out = model.layers[1].neurons[0]
    out.w[0].data, out.w[1].data, out.b.data = w[0], w[1], 0.0


def test_xor_hand_solution_is_exact():
    model = nn.MLP(2, [2, 1], seed=0)
    _set_xor_hand_solution(model)
    X, y = nn.data.make_xor()
    assert [model(list(x)).data for x in X] == [0.0, 1.0, 1.0, 0.0] == y.tolist()


def test_xor_learned_by_2_2_1_relu_net():
    """A 2-2-1 ReLU net has poor local minima (a dead hidden unit gives loss 1/6), so, as in
    practice, train from a few seeded restarts and keep the first that fits XOR."""
    X, y = nn.data.make_xor()
    for seed in range(10):
        model = nn.MLP(2, [2, 1], seed=seed)
        opt = optim.Adam(model.parameters(), lr=0.05)
        for _ in range(400):
            opt.zero_grad()
            loss = losses.mse_loss([model(list(x)) for x in X], y.astype(float))
            loss.backward()
            opt.step()
        if loss.data < 1e-3:
            break
    assert loss.data < 1e-3, "no restart learned XOR"
    preds = [model(list(x)).data for x in X]
    assert [int(p > 0.5) for p in preds] == y.tolist()


def test_mlp_parameter_labels_are_unique_and_say_where_they_are() -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    labels = [p.label for p in model.parameters()]
    assert len(set(labels)) == len(labels) == 13
    assert labels[:3] == ["L1.n1.w1", "L1.n1.w2", "L1.n1.b"] and labels[-1] == "L2.n1.b"
    assert [p.label for p in nn.Neuron(2, seed=0).parameters()] == ["w1", "w2", "b"]


def test_neurons_and_layers_are_named_like_their_parameters():
    """A neuron's box in a graph reads L2.n7, as its weights read L2.n7.w3 (it read
    'Neuron #23' beside 'L3.n1.w7')."""
    import re

    import viz

    model = nn.MLP(2, [4, 4, 1], seed=0)
    assert model.layers[1].neurons[2].label == "L2.n3" and model.layers[1].label == "L2"
    assert model.layers[1].neurons[2].w[0].label == "L2.n3.w1"
    out = model([Value(1.0, label="x1"), Value(-0.5, label="x2")])
    out.backward()
    source = viz.draw_graph(out, collapse="neuron").source.replace("\\ ", " ")
    assert "Neuron #" not in source
    assert {f"L{i}.n{j}" for i in (1, 2) for j in range(1, 5)} | {"L3.n1"} <= \
        set(re.findall(r"L\d\.n\d+\b", source))


def test_a_scalar_mlp_evaluates_a_batch_of_tensor_columns_under_no_grad() -> None:
    """One Tensor per input (a whole batch) gives, sample for sample, what the Values give;
    a one-neuron hidden layer's Tensor output feeds the next layer too."""
    from autograd_core import Tensor, Value, no_grad

    points = np.random.default_rng(0).normal(size=(40, 2))
    for sizes, activation in (([16, 16, 1], "relu"), ([1, 3, 1], "tanh")):
        model = nn.MLP(2, sizes, seed=3, activation=activation)
        with no_grad():
            batch = model([Tensor(points[:, 0]), Tensor(points[:, 1])])
            one_by_one = [model([Value(a), Value(b)]).data for a, b in points]
        assert isinstance(batch, Tensor) and batch.shape == (40,)
        np.testing.assert_allclose(batch.data, one_by_one, rtol=1e-12, atol=1e-12)
