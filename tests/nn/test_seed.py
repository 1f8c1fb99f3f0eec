"""The global generator: ``manual_seed`` makes every unseeded random choice in ``nn`` repeat
(initialisation, dropout, shuffling, splits, toy data); an explicit ``seed=`` overrides it."""
from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_core
import nn
from autograd_core import Tensor, default_generator, manual_seed

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _restore_global_generator():
    state = copy.deepcopy(default_generator().bit_generator.state)
    initial = autograd_core.initial_seed()
    yield
    manual_seed(initial)
    default_generator().bit_generator.state = state


def _everything_random() -> dict[str, np.ndarray]:
    """One of each unseeded random choice nn makes, as arrays."""
    X, y = nn.data.make_moons(20, noise=0.1)
    out = {"moons": X, "moons_y": y}
    out["circles"] = nn.data.make_circles(10, noise=0.05)[0]
    out["spirals"] = nn.data.make_spirals(9)[0]
    out["xor"] = nn.data.make_xor(8, noise=0.1)[0]
    out["semicircle"] = nn.data.make_semicircle_parabola(5, noise=0.1)[0]
    out["red_blue"] = nn.data.make_red_blue(6)[0]
    out["split"] = nn.data.train_test_split(np.arange(10), test_size=3)[1]
    out["split3"] = nn.data.train_val_test_split(np.arange(10))[1][0]
    out["loader"] = np.concatenate(list(nn.data.DataLoader(np.arange(12), 5, shuffle=True)))
    out["mlp"] = np.array([p.data for p in nn.MLP(2, [4, 1]).parameters()])
    out["mlp_normal"] = np.array([p.data for p in nn.MLP(2, [3], init="kaiming").parameters()])
    out["linear"] = nn.Linear(3, 2).weight.data.copy()
    out["init"] = nn.init.xavier_normal_(np.zeros((2, 3)))
    out["dropout"] = nn.Dropout(0.5)(Tensor(np.ones((4, 6)))).data
    return out


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert list(a) == list(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_manual_seed_repeats_every_random_choice_and_other_seeds_differ():
    manual_seed(1337)
    first = _everything_random()
    manual_seed(1337)
    _assert_same(first, _everything_random())
    manual_seed(1338)
    other = _everything_random()
    differ = [k for k in first if not np.array_equal(first[k], other[k])]
    assert differ == list(first)          # every single choice depends on the seed


def test_manual_seed_returns_the_one_generator_with_numpy_default_rng_stream():
    gen = manual_seed(7)
    assert gen is default_generator() is manual_seed(8)     # re-seeded in place
    manual_seed(7)
    np.testing.assert_array_equal(default_generator().random(5), np.random.default_rng(7).random(5))
    assert autograd_core.initial_seed() == 7
    assert nn.manual_seed is autograd_core.manual_seed
    assert {"manual_seed", "default_generator"} <= set(autograd_core.__all__)
    assert "manual_seed" in nn.__all__


def test_defaults_draw_from_the_global_stream():
    manual_seed(11)
    w = nn.Linear(3, 4).weight.data
    bound = 1 / np.sqrt(3)         # kaiming_uniform_(a=√5): gain √(2/6), bound gain·√(3/fan_in)
    np.testing.assert_allclose(w, np.random.default_rng(11).uniform(-bound, bound, (4, 3)))
    manual_seed(12)
    mask = nn.Dropout(0.3)(Tensor(np.ones((5, 4)))).data != 0
    np.testing.assert_array_equal(mask, np.random.default_rng(12).random((5, 4)) >= 0.3)
    loader = nn.data.DataLoader(np.arange(9), batch_size=9, shuffle=True)
    manual_seed(13)
    np.testing.assert_array_equal(next(iter(loader)), np.random.default_rng(13).permutation(9))


def test_explicit_seed_overrides_the_global_generator_and_leaves_it_alone():
    manual_seed(0)
    a = nn.MLP(2, [3, 1], seed=5)
    after_a = default_generator().random()
    manual_seed(1)
    b = nn.MLP(2, [3, 1], seed=5)
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    assert after_a == np.random.default_rng(0).random()    # seed=5 drew nothing globally
    own = np.random.default_rng(99)
    manual_seed(2)
    X1 = nn.data.make_moons(10, noise=0.1, seed=own)[0]
    manual_seed(3)
    X2 = nn.data.make_moons(10, noise=0.1, seed=np.random.default_rng(99))[0]
    np.testing.assert_array_equal(X1, X2)
    d1, d2 = nn.Dropout(0.5, seed=4), nn.Dropout(0.5, seed=4)
    manual_seed(5)
    m1 = d1(Tensor(np.ones(20))).data
    manual_seed(6)
    np.testing.assert_array_equal(m1, d2(Tensor(np.ones(20))).data)


def test_dropout_and_loader_follow_the_global_seed_at_call_time_even_when_copied():
    drop = nn.Dropout(0.5)
    clone = copy.deepcopy(drop)
    loader = nn.data.DataLoader(np.arange(10), 10, shuffle=True)
    loader_clone = copy.deepcopy(loader)
    x = Tensor(np.ones(30))
    manual_seed(21)
    masks, order = drop(x).data, next(iter(loader))
    manual_seed(21)
    np.testing.assert_array_equal(clone(x).data, masks)
    np.testing.assert_array_equal(next(iter(loader_clone)), order)


def test_fit_without_seed_repeats_after_manual_seed():
    X, y = nn.data.make_moons(40, noise=0.1, seed=0)

    def run():
        model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 2))
        opt = nn.optim.SGD(model.parameters(), lr=0.1)
        history = nn.fit(model, nn.losses.cross_entropy, opt, (X, y), epochs=3, batch_size=8,
                         progress=False)
        return history.train_loss

    manual_seed(4)
    first = run()
    manual_seed(4)
    assert run() == first
    manual_seed(5)
    assert run() != first


def test_python_and_numpy_global_states_are_neither_used_nor_touched():
    random.seed(1)
    np.random.seed(1)
    py, legacy = random.getstate(), np.random.get_state()[1].copy()
    manual_seed(3)
    _everything_random()
    autograd_core.seed()
    assert random.getstate() == py
    np.testing.assert_array_equal(np.random.get_state()[1], legacy)


def test_seed_draws_fresh_entropy_and_reports_it():
    value = autograd_core.seed()
    assert isinstance(value, int) and value >= 0 and autograd_core.initial_seed() == value
    drawn = default_generator().random(3)
    manual_seed(value)
    np.testing.assert_array_equal(default_generator().random(3), drawn)


@pytest.mark.parametrize("bad,error", [(-1, ValueError), (1.5, TypeError), (True, TypeError),
                                       ("1", TypeError), (None, TypeError)])
def test_manual_seed_rejects_what_is_not_a_non_negative_int(bad, error):
    state = copy.deepcopy(default_generator().bit_generator.state)
    with pytest.raises(error, match="non-negative int"):
        manual_seed(bad)
    assert default_generator().bit_generator.state == state
    with pytest.raises((TypeError, ValueError), match="seed"):
        nn.Linear(2, 2, seed=bad if bad is not None else "x")


_FRESH = ("import json, nn; m = nn.MLP(2, [3, 1]); X, _ = nn.data.make_moons(4, noise=0.1); "
          "print(json.dumps([[p.data for p in m.parameters()], X.tolist()]))")


def _fresh_process(code: str) -> list:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    return json.loads(done.stdout)


def test_without_manual_seed_a_fresh_process_still_works_and_repeats():
    # as PyTorch: the global generator starts from a fixed default seed
    first, second = _fresh_process(_FRESH), _fresh_process(_FRESH)
    assert first == second
    seeded = _fresh_process(f"import autograd_core; autograd_core.manual_seed("
                            f"{autograd_core.rng.DEFAULT_SEED}); " + _FRESH)
    assert seeded == first
    a, b = nn.MLP(2, [3, 1]), nn.MLP(2, [3, 1])      # two models in one run still differ
    assert [p.data for p in a.parameters()] != [p.data for p in b.parameters()]
