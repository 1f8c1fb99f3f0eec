"""End-to-end training checks from the issue and the lecture notes."""
from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits

import nn
from autograd_core import no_grad
from nn import losses, optim


def test_digits_mlp_with_adam_reaches_97_percent():
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = nn.data.train_test_split(X / 16.0, y, test_size=0.2, seed=0)
    model = nn.Sequential(nn.Linear(64, 128, seed=0), nn.ReLU(), nn.Linear(128, 10, seed=1))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    nn.fit(model, losses.cross_entropy, opt, (Xtr, ytr), epochs=20, batch_size=32,
           progress=False, seed=0)
    model.eval()
    with no_grad():
        pred = model(Xte).data.argmax(axis=1)
    assert len(yte) == 360
    assert (pred == yte).mean() >= 0.97


def test_xor_hand_solution_with_tensor_layers():
    """g(x) = wᵀ max(0, Wᵀx + c) + b with the lecture notes' W, c, w (b = 0)."""
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    W = np.array([[1.0, 1.0], [1.0, 1.0]])
    model.load_state_dict({"0.weight": W.T, "0.bias": np.array([0.0, -1.0]),
                           "2.weight": np.array([[1.0, -2.0]]), "2.bias": np.array([0.0])})
    X, y = nn.data.make_xor()
    assert model(X).data[:, 0].tolist() == [0.0, 1.0, 1.0, 0.0] == y.tolist()


def test_red_blue_region_classifier():
    """The lecture notes' arbitrary classifier: tanh hidden layer, then a threshold at 0."""
    X, y = nn.data.make_red_blue(1500, seed=0)
    model = nn.Sequential(nn.Linear(2, 32, seed=0), nn.Tanh(), nn.Linear(32, 1, seed=1))
    opt = optim.Adam(model.parameters(), lr=0.02)
    nn.fit(model, lambda out, t: losses.binary_cross_entropy_with_logits(out, t.reshape(-1, 1) * 1.0),
           opt, (X, y), epochs=150, batch_size=128, progress=False, seed=0)
    Xt, yt = nn.data.make_red_blue(1000, seed=1)
    with no_grad():
        red = model(Xt).data[:, 0] > 0                 # the step output layer u(z₂)
    assert (red == (yt == 1)).mean() >= 0.95


def test_semicircle_to_parabola_regression():
    X, Y = nn.data.make_semicircle_parabola(100)
    model = nn.Sequential(nn.Linear(2, 16, seed=0), nn.Sigmoid(), nn.Linear(16, 2, seed=1))
    opt = optim.Adam(model.parameters(), lr=0.02)
    hist = nn.fit(model, losses.mse_loss, opt, (X, Y), epochs=800, batch_size=100,
                  progress=False, seed=0)
    assert hist.train_loss[-1] < 1e-3 < hist.train_loss[0]
    with no_grad():
        out = model(X).data
    assert np.abs(out[:, 1] - out[:, 0] ** 2).mean() < 0.03        # outputs lie near y₂ = y₁²
