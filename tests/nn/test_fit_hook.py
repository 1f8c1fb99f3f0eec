"""nn.fit's on_step hook: called after every optimizer step and at every epoch's end, with
numbers that agree with the history; a run with the hook trains exactly as one without."""
from __future__ import annotations

import numpy as np
import pytest

import nn
from nn import losses, optim


def _run(on_step=None):
    X, y = nn.data.make_moons(50, noise=0.1, seed=0)
    model = nn.Sequential(nn.Linear(2, 8, seed=0), nn.Tanh(), nn.Linear(8, 2, seed=1))
    opt = optim.SGD(model.parameters(), lr=0.1)
    hist = nn.fit(model, losses.cross_entropy, opt, (X[:40], y[:40]), (X[40:], y[40:]),
                  epochs=3, batch_size=16, progress=False, seed=0, on_step=on_step)
    return model, hist


def test_on_step_is_called_per_step_and_per_epoch_and_changes_nothing():
    calls = []
    model, hist = _run(calls.append)
    steps = [c for c in calls if c["event"] == "step"]
    epochs = [c for c in calls if c["event"] == "epoch"]
    assert [c["step"] for c in steps] == list(range(1, 10))        # 40 samples: 16 + 16 + 8
    assert [c["epoch"] for c in steps] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert [c["step"] for c in epochs] == [3, 6, 9]
    # an epoch's training loss is the sample-weighted mean of its batch losses
    for e in range(3):
        batch = [c["loss"] for c in steps if c["epoch"] == e]
        assert np.average(batch, weights=[16, 16, 8]) == pytest.approx(hist.train_loss[e])
    assert [c["val_loss"] for c in epochs] == pytest.approx(hist.val_loss)
    plain, plain_hist = _run()
    assert plain_hist.train_loss == hist.train_loss
    assert all(np.array_equal(a.data, b.data) for a, b in zip(plain.parameters(), model.parameters()))


def test_on_step_must_be_callable():
    with pytest.raises(TypeError, match="on_step must be a function"):
        _run(on_step="live")
