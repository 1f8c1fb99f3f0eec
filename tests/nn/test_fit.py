"""nn.fit: history, accuracy, schedules, early stopping that restores the best weights."""
from __future__ import annotations

import numpy as np
import pytest

import nn
from nn import losses, optim
from nn.fit import accuracy


def _regression(n=64, sign=1.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, sign * (X @ np.array([[1.5], [-2.0]]))


def test_history_and_accuracy_on_a_tensor_classifier():
    X, y = nn.data.make_moons(200, noise=0.1, seed=0)
    model = nn.Sequential(nn.Linear(2, 16, seed=0), nn.Tanh(), nn.Linear(16, 2, seed=1))
    opt = optim.Adam(model.parameters(), lr=0.05)
    sched = optim.StepLR(opt, step_size=5, gamma=0.5)
    hist = nn.fit(model, losses.cross_entropy, opt, (X[:150], y[:150]), (X[150:], y[150:]),
                  epochs=12, batch_size=16, scheduler=sched, progress=False, seed=0)
    assert len(hist.train_loss) == len(hist.val_loss) == len(hist.train_acc) == 12
    assert hist.lr[:6] == pytest.approx([0.05] * 5 + [0.025])
    assert hist.train_loss[-1] < hist.train_loss[0]
    assert hist.val_acc[-1] >= 0.85 and hist.best_epoch == 11


def test_fit_on_scalar_mlp():
    X, y = nn.data.make_moons(40, noise=0.05, seed=1)
    model = nn.MLP(2, [8, 1], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    hist = nn.fit(model, losses.hinge_loss, opt, (X, 2 * y - 1), epochs=5, batch_size=10,
                  progress=False, seed=0)
    assert len(hist.train_loss) == 5 and hist.train_acc[0] is not None
    assert hist.train_loss[-1] < hist.train_loss[0]


def test_early_stopping_restores_the_best_weights():
    """Validation targets have the opposite sign of the training targets, so the validation
    loss is best after the first epoch and only grows: fit must stop after `patience` more
    epochs and hand back the weights of epoch 0."""
    Xtr, ytr = _regression(sign=1.0)
    Xva, yva = _regression(sign=-1.0, seed=1)

    def run(epochs, patience):
        model = nn.Sequential(nn.Linear(2, 1, seed=3))
        opt = optim.SGD(model.parameters(), lr=0.05)
        hist = nn.fit(model, losses.mse_loss, opt, (Xtr, ytr), (Xva, yva), epochs=epochs,
                      patience=patience, batch_size=16, shuffle=False, progress=False)
        return model, hist

    model, hist = run(epochs=50, patience=3)
    assert hist.stopped_early and len(hist.val_loss) == 4 and hist.best_epoch == 0
    assert np.argmin(hist.val_loss) == 0
    reference, _ = run(epochs=1, patience=None)
    for k, v in reference.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[k], v)


def test_progress_bar_runs():
    X, y = _regression(16)
    model = nn.Sequential(nn.Linear(2, 1))
    hist = nn.fit(model, losses.mse_loss, optim.SGD(model.parameters(), lr=0.01), (X, y),
                  epochs=2, progress=True)
    assert len(hist.train_loss) == 2 and hist.train_acc == [None, None]


def test_accuracy_rules():
    assert accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1])) == 0.5
    assert accuracy(np.array([0.3, -2.0]), np.array([1, -1])) == 1.0
    assert accuracy(np.array([0.7, 0.2]), np.array([1, 1])) == 0.5           # probabilities
    assert accuracy(np.array([2.0, -0.2]), np.array([1, 0])) == 1.0          # logits
    assert accuracy(np.array([0.5, 1.5]), np.array([0.3, 2.0])) is None      # regression


def test_fit_argument_errors():
    model = nn.Sequential(nn.Linear(2, 1))
    opt = optim.SGD(model.parameters())
    with pytest.raises(ValueError, match="epochs"):
        nn.fit(model, losses.mse_loss, opt, _regression(), epochs=0, progress=False)
    with pytest.raises(TypeError, match="train_data"):
        nn.fit(model, losses.mse_loss, opt, np.zeros(3), progress=False)
    with pytest.raises(TypeError, match="Optimizer"):
        nn.fit(model, losses.mse_loss, "adam", _regression(), progress=False)


# -- messages that name the problem (issue 23, item 14) ---------------------------------------------
def test_fit_on_no_samples_says_so():
    model = nn.Sequential(nn.Linear(2, 1))
    opt = optim.SGD(model.parameters())
    empty = (np.zeros((0, 2)), np.zeros((0, 1)))
    with pytest.raises(ValueError, match="train_data has no samples"):
        nn.fit(model, losses.mse_loss, opt, empty, progress=False)
    with pytest.raises(ValueError, match="val_data has no samples"):
        nn.fit(model, losses.mse_loss, opt, _regression(), empty, progress=False)
    few = nn.data.DataLoader(_regression(), batch_size=1000, drop_last=True)
    with pytest.raises(ValueError, match="fewer than one batch of 1000"):
        nn.fit(model, losses.mse_loss, opt, few, progress=False)


@pytest.mark.parametrize("loss_fn,hint", [("mse", "nn.losses.mse_loss"),
                                          ("cross_entropy", "nn.losses.cross_entropy"),
                                          (3, None)])
def test_fit_says_what_loss_fn_must_be(loss_fn, hint):
    model = nn.Sequential(nn.Linear(2, 1))
    opt = optim.SGD(model.parameters())
    with pytest.raises(TypeError, match=r"loss_fn must be a function loss_fn\(outputs, "
                                        r"targets\)") as info:
        nn.fit(model, loss_fn, opt, _regression(), progress=False)
    assert hint is None or f"(for {loss_fn!r}: {hint})" in str(info.value)
