"""nn.init: distributions have the documented scale, seeds reproduce, gains and fans."""
from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_core import Tensor, Value
from nn import init

SHAPE = (300, 500)        # (out, in): fan_in 500, fan_out 300


def test_lecture_notes_variance_one_over_m():
    w = init.lecun_normal_(np.empty(SHAPE), seed=0)
    assert w.var() == pytest.approx(1 / 500, rel=0.02) and abs(w.mean()) < 0.002


@pytest.mark.parametrize("fn,std", [
    (lambda w: init.kaiming_normal_(w, nonlinearity="relu", seed=1), math.sqrt(2 / 500)),
    (lambda w: init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu", seed=1), math.sqrt(2 / 300)),
    (lambda w: init.xavier_normal_(w, seed=1), math.sqrt(2 / 800)),
    (lambda w: init.xavier_normal_(w, gain=init.calculate_gain("tanh"), seed=1), 5 / 3 * math.sqrt(2 / 800)),
])
def test_normal_initialisers_std(fn, std):
    w = fn(np.empty(SHAPE))
    assert w.std() == pytest.approx(std, rel=0.02)


@pytest.mark.parametrize("fn,bound", [
    (lambda w: init.kaiming_uniform_(w, nonlinearity="relu", seed=2), math.sqrt(2) * math.sqrt(3 / 500)),
    (lambda w: init.kaiming_uniform_(w, a=math.sqrt(5), seed=2), 1 / math.sqrt(500)),
    (lambda w: init.xavier_uniform_(w, seed=2), math.sqrt(6) / math.sqrt(800)),
    (lambda w: init.uniform_(w, -0.3, 0.3, seed=2), 0.3),
])
def test_uniform_initialisers_bound(fn, bound):
    w = fn(np.empty(SHAPE))
    assert w.min() >= -bound and w.max() <= bound
    assert w.max() > 0.99 * bound and w.min() < -0.99 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)


def test_seed_and_generator_reproducible():
    a = init.kaiming_normal_(np.empty((4, 5)), seed=3)
    b = init.kaiming_normal_(np.empty((4, 5)), generator=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    c = init.kaiming_normal_(np.empty((4, 5)), seed=4)
    assert not np.array_equal(a, c)
    with pytest.raises(TypeError, match="not both"):
        init.normal_(np.empty(2), generator=1, seed=1)
    with pytest.raises(TypeError, match="Generator"):
        init.normal_(np.empty(2), seed="abc")


def test_works_on_tensors_arrays_and_value_lists():
    t = Tensor(np.zeros((3, 4)), requires_grad=True)
    data_id = id(t.data)
    init.ones_(t)
    assert id(t.data) == data_id and np.all(t.data == 1)
    vs = [Value(0.0) for _ in range(1000)]
    init.lecun_normal_(vs, seed=0)               # a neuron's weights: fan_in = len
    assert np.std([v.data for v in vs]) == pytest.approx(1 / math.sqrt(1000), rel=0.1)
    init.zeros_(vs)
    assert all(v.data == 0.0 for v in vs)
    with pytest.raises(TypeError, match="Tensor, a numpy array or a list of Values"):
        init.zeros_(3.0)


def test_gain_and_fans():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert init.calculate_gain("sigmoid") == 1.0
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
    assert init.calculate_fan_in_and_fan_out(np.empty((3, 4, 5))) == (20, 15)
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(np.empty((2, 2)), mode="fan_avg")
