"""nn.data: DataLoader, splits, one_hot and the toy datasets."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_circles as sk_circles
from sklearn.datasets import make_moons as sk_moons

from nn import data


def test_dataloader_batches_cover_everything():
    X, y = np.arange(10).reshape(10, 1), np.arange(10)
    loader = data.DataLoader((X, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(b[1]) for b in batches] == [4, 4, 2]
    assert np.concatenate([b[1] for b in batches]).tolist() == list(range(10))
    assert len(data.DataLoader((X, y), batch_size=4, drop_last=True)) == 2
    assert [len(b) for b in data.DataLoader(X, batch_size=3)] == [3, 3, 3, 1]


def test_dataloader_shuffle_is_seeded_and_reshuffles_each_epoch():
    y = np.arange(20)
    a = data.DataLoader(y, batch_size=20, shuffle=True, seed=5)
    b = data.DataLoader(y, batch_size=20, shuffle=True, seed=5)
    first, second = next(iter(a)), next(iter(a))
    assert np.array_equal(first, next(iter(b)))
    assert not np.array_equal(first, second) and sorted(first) == list(range(20))


def test_dataloader_errors():
    with pytest.raises(ValueError, match="same number of samples"):
        data.DataLoader((np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(np.zeros(3), batch_size=0)


def test_splits_are_disjoint_and_sized():
    X, y = np.arange(100).reshape(100, 1), np.arange(100)
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, test_size=0.2, seed=0)
    assert len(yte) == 20 and len(ytr) == 80 and set(ytr) | set(yte) == set(range(100))
    assert np.array_equal(Xtr[:, 0], ytr)
    (tr, va, te) = data.train_val_test_split(X, y, val_size=0.1, test_size=0.2, seed=0)
    assert (len(tr[1]), len(va[1]), len(te[1])) == (70, 10, 20)
    assert set(tr[1]) | set(va[1]) | set(te[1]) == set(range(100))
    with pytest.raises(ValueError, match="no training samples"):
        data.train_test_split(X, test_size=100)


def test_one_hot():
    np.testing.assert_array_equal(data.one_hot(np.array([2, 0])), [[0, 0, 1], [1, 0, 0]])
    assert data.one_hot(np.array([1]), num_classes=4).shape == (1, 4)
    with pytest.raises(ValueError, match="out of range"):
        data.one_hot(np.array([5]), num_classes=3)
    with pytest.raises(TypeError, match="integer"):
        data.one_hot(np.array([0.5]))


def _sorted_rows(X, y):
    order = np.lexsort((X[:, 1], X[:, 0]))
    return X[order], y[order]


def test_moons_and_circles_match_scikit_learn_without_noise():
    for ours, theirs in ((data.make_moons(60, seed=0), sk_moons(60, random_state=0)),
                         (data.make_circles(60, factor=0.5, seed=0),
                          sk_circles(60, factor=0.5, random_state=0))):
        a, b = _sorted_rows(*ours), _sorted_rows(*theirs)
        np.testing.assert_allclose(a[0], b[0], atol=1e-12)
        np.testing.assert_array_equal(a[1], b[1])


def test_noise_is_seeded():
    a, _ = data.make_moons(50, noise=0.1, seed=1)
    b, _ = data.make_moons(50, noise=0.1, seed=1)
    c, _ = data.make_moons(50, noise=0.1, seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_spirals_xor_semicircle_red_blue():
    X, y = data.make_spirals(301, n_classes=3, noise=0.0)
    assert X.shape == (301, 2) and np.bincount(y).tolist() == [101, 100, 100]
    assert np.all(np.linalg.norm(X, axis=1) <= 1 + 1e-12)
    X, y = data.make_xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == [0, 1, 1, 0]
    X, y = data.make_xor(40, noise=0.05, seed=0)
    assert y.tolist() == [0, 1, 1, 0] * 10
    X, Y = data.make_semicircle_parabola(50)
    np.testing.assert_allclose(X[:, 0] ** 2 + X[:, 1] ** 2, 1.0)   # inputs on the semicircle
    assert np.all(X[:, 1] >= -1e-12)
    np.testing.assert_allclose(Y[:, 1], Y[:, 0] ** 2)               # targets on the parabola
    X, y = data.make_red_blue(500, seed=0)
    assert X.shape == (500, 2) and np.abs(X).max() <= 1 and 0 < y.mean() < 1
    pts = np.array([[0.0, 0.4], [0.0, -0.1], [0.9, 0.9], [-0.5, -0.5]])
    assert data.red_blue_label(pts).tolist() == [1, 0, 0, 1]
    G, g = data.make_red_blue(400, grid=True)
    assert G.shape == (400, 2) and g.shape == (400,)


# -- messages that name the problem (issue 23, item 14) ---------------------------------------------
def test_one_hot_of_an_empty_array_asks_for_num_classes():
    with pytest.raises(ValueError, match="empty array cannot infer the number of classes.*"
                                         "pass num_classes"):
        data.one_hot(np.array([], dtype=np.int64))
    out = data.one_hot(np.array([], dtype=np.int64), num_classes=3)   # as PyTorch: shape (0, 3)
    assert out.shape == (0, 3)


@pytest.mark.parametrize("dataset,error,message", [
    ({"X": np.zeros((3, 2)), "y": np.zeros(3)}, TypeError, r"got a dict: pass its arrays"),
    (object(), TypeError, "got object"),
    (3.0, ValueError, "got a scalar"),
])
def test_dataloader_names_what_the_dataset_is(dataset, error, message):
    with pytest.raises(error, match=message):
        data.DataLoader(dataset)
