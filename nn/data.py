"""Data: a ``DataLoader`` over arrays, splits, one-hot encoding and 2-D toy datasets.

Every dataset function returns ``(X, y)`` NumPy arrays and takes ``seed=`` (an int or a
``numpy.random.Generator``) for every random choice; without one it draws from the library's
global generator, which ``manual_seed(n)`` seeds, so a run can be repeated exactly.
"""
from __future__ import annotations

import math
from typing import Any, Iterator, Sequence

import numpy as np

from ._util import as_generator, is_tensor

__all__ = ["DataLoader", "train_test_split", "train_val_test_split", "one_hot", "make_moons",
           "make_circles", "make_spirals", "make_xor", "make_semicircle_parabola",
           "make_red_blue"]



def _as_array(a: Any, name: str) -> np.ndarray:
    if is_tensor(a):
        return np.asarray(a.data)
    if isinstance(a, dict):
        raise TypeError(f"{name} must be an array (or a tuple of arrays) with a first (sample) "
                        f"dimension; got a dict: pass its arrays, e.g. (d['X'], d['y'])")
    arr = np.asarray(a)
    if arr.ndim == 0:
        if arr.dtype.kind in "biufc":
            raise ValueError(f"{name} must have a first (sample) dimension; got a scalar")
        raise TypeError(f"{name} must be an array (or a tuple of arrays) with a first (sample) "
                        f"dimension; got {type(a).__name__}")
    return arr


def _check_lengths(arrays: Sequence[np.ndarray]) -> int:
    n = len(arrays[0])
    for i, a in enumerate(arrays):
        if len(a) != n:
            raise ValueError(f"all arrays must have the same number of samples; array 0 has "
                             f"{n}, array {i} has {len(a)}")
    return n


class DataLoader:
    """Mini-batches over arrays: ``for xb, yb in DataLoader((X, y), batch_size=32, shuffle=True,
    seed=0)``.

    ``dataset`` is one array or a tuple of arrays with the same first dimension. With
    ``shuffle`` the order is redrawn each epoch, from ``seed`` (an int seeds the loader's own
    generator, a Generator is used as is) or, without one, from the global generator
    (``manual_seed``), read when the epoch starts; ``drop_last``
    drops a final batch smaller than ``batch_size``. Batches are NumPy arrays (a tuple when
    the dataset is a tuple).
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, *, seed: int | np.random.Generator | None = None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
        self.is_tuple = isinstance(dataset, (tuple, list))
        arrays = [_as_array(a, f"dataset[{i}]") for i, a in enumerate(dataset)] \
            if self.is_tuple else [_as_array(dataset, "dataset")]
        if not arrays:
            raise ValueError("dataset is empty: give an array or a tuple of arrays")
        self.n = _check_lengths(arrays)
        self.arrays = arrays
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = None if seed is None else as_generator(seed)

    def __len__(self) -> int:
        """Number of batches per epoch."""
        return self.n // self.batch_size if self.drop_last else math.ceil(self.n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        order = as_generator(self.generator).permutation(self.n) if self.shuffle \
            else np.arange(self.n)
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            batch = tuple(a[idx] for a in self.arrays)
            yield batch if self.is_tuple else batch[0]


def _split_sizes(n: int, fractions: Sequence[float]) -> list[int]:
    sizes = []
    for f in fractions:
        if isinstance(f, (int, np.integer)) and not isinstance(f, bool) and f >= 1:
            sizes.append(int(f))
        elif isinstance(f, float) and 0.0 <= f < 1.0:
            sizes.append(int(math.ceil(f * n)))
        else:
            raise ValueError(f"split sizes must be fractions in [0, 1) or counts >= 1; got {f!r}")
    if sum(sizes) >= n:
        raise ValueError(f"split sizes {sizes} leave no training samples out of {n}")
    return sizes


def train_test_split(*arrays: Any, test_size: float | int = 0.25, shuffle: bool = True,
                     seed: int | np.random.Generator | None = None) -> list[np.ndarray]:
    """Split arrays into train and test parts: ``X_tr, X_te, y_tr, y_te`` (scikit-learn's order).

    ``test_size`` is a fraction (rounded up) or a count.
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    arrs = [_as_array(a, f"array {i}") for i, a in enumerate(arrays)]
    n = _check_lengths(arrs)
    (n_test,) = _split_sizes(n, [test_size])
    order = as_generator(seed).permutation(n) if shuffle else np.arange(n)
    test, train = order[:n_test], order[n_test:]
    return [part for a in arrs for part in (a[train], a[test])]


def train_val_test_split(*arrays: Any, val_size: float | int = 0.1, test_size: float | int = 0.2,
                         shuffle: bool = True, seed: int | np.random.Generator | None = None
                         ) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...],
                                    tuple[np.ndarray, ...]]:
    """Split arrays three ways: returns ``(train, val, test)``, each a tuple of arrays
    (``(X_tr, y_tr), (X_va, y_va), (X_te, y_te)``). Sizes are fractions or counts."""
    if not arrays:
        raise ValueError("train_val_test_split needs at least one array")
    arrs = [_as_array(a, f"array {i}") for i, a in enumerate(arrays)]
    n = _check_lengths(arrs)
    n_val, n_test = _split_sizes(n, [val_size, test_size])
    order = as_generator(seed).permutation(n) if shuffle else np.arange(n)
    test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    return (tuple(a[train] for a in arrs), tuple(a[val] for a in arrs),
            tuple(a[test] for a in arrs))


def one_hot(labels: Any, num_classes: int = -1) -> np.ndarray:
    """``torch.nn.functional.one_hot``: integer labels of shape S -> array of shape S + (C,),
    1 at each label's position. ``num_classes=-1`` uses max(label) + 1."""
    y = _as_array(labels, "labels") if np.ndim(labels) else np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"one_hot needs integer class labels; got dtype {y.dtype}")
    if y.size and y.min() < 0:
        raise ValueError(f"class labels must be >= 0; got {int(y.min())}")
    if not y.size and num_classes == -1:
        raise ValueError("one_hot of an empty array cannot infer the number of classes from "
                         "its labels: pass num_classes")
    c = int(y.max()) + 1 if num_classes == -1 else int(num_classes)
    if y.size and y.max() >= c:
        raise ValueError(f"class label {int(y.max())} out of range for num_classes={c}")
    out = np.zeros(y.shape + (c,), dtype=np.int64)
    np.put_along_axis(out, y[..., None].astype(np.int64), 1, axis=-1)
    return out


# -- 2-D toy datasets ------------------------------------------------------------------------------
def _noise(rng: np.random.Generator, noise: float | None, shape: tuple[int, ...]) -> np.ndarray:
    if noise is None or noise == 0:
        return np.zeros(shape)
    if noise < 0:
        raise ValueError(f"noise must be >= 0; got {noise}")
    return rng.normal(scale=noise, size=shape)


def _count(n: Any, name: str = "n_samples", minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {n!r}")
    return int(n)


def make_moons(n_samples: int = 100, noise: float | None = None, shuffle: bool = True, *,
               seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons``): the upper moon
    (cos t, sin t) is class 0, the lower (1 - cos t, 1/2 - sin t) class 1, t ∈ [0, π].
    Labels are 0/1; for the SVM loss use ``2*y - 1``."""
    n = _count(n_samples, minimum=2)
    rng = as_generator(seed)
    n_out, n_in = n // 2, n - n // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1)])
    y = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    if shuffle:
        order = rng.permutation(n)
        X, y = X[order], y[order]
    return X + _noise(rng, noise, X.shape), y


def make_circles(n_samples: int = 100, noise: float | None = None, factor: float = 0.8,
                 shuffle: bool = True, *, seed: int | np.random.Generator | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A large circle (class 0, radius 1) around a small one (class 1, radius ``factor``)."""
    n = _count(n_samples, minimum=2)
    if not 0 <= factor < 1:
        raise ValueError(f"factor must be in [0, 1); got {factor}")
    rng = as_generator(seed)
    n_out, n_in = n // 2, n - n // 2
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        factor * np.stack([np.cos(t_in), np.sin(t_in)], 1)])
    y = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    if shuffle:
        order = rng.permutation(n)
        X, y = X[order], y[order]
    return X + _noise(rng, noise, X.shape), y


def make_spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, *,
                 seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms (the CS231n spiral): class k has points
    r (sin θ, cos θ), r ∈ [0, 1], θ ∈ [4k, 4(k + 1)] + noise·N(0, 1)."""
    n = _count(n_samples)
    k = _count(n_classes, "n_classes", 2)
    rng = as_generator(seed)
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    Xs, ys = [], []
    for c, m in enumerate(sizes):
        r = np.linspace(0.0, 1.0, m)
        theta = np.linspace(4.0 * c, 4.0 * (c + 1), m) + _noise(rng, noise, (m,))
        Xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], 1))
        ys.append(np.full(m, c, dtype=np.int64))
    return np.concatenate(Xs), np.concatenate(ys)


def make_xor(n_samples: int = 4, noise: float | None = None, *,
             seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The XOR truth table of the lecture notes: x ∈ {0, 1}², y = 1 when x₁ ≠ x₂.

    ``n_samples=4`` (default) gives the four rows in order (0,0), (0,1), (1,0), (1,1) with
    labels 0, 1, 1, 0; more samples cycle through the rows, with Gaussian ``noise`` added."""
    n = _count(n_samples)
    table = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = np.array([0, 1, 1, 0], dtype=np.int64)
    idx = np.arange(n) % 4
    X = table[idx] + _noise(as_generator(seed), noise, (n, 2))
    return X, labels[idx]


def make_semicircle_parabola(n_samples: int = 100, noise: float | None = None, *,
                             seed: int | np.random.Generator | None = None
                             ) -> tuple[np.ndarray, np.ndarray]:
    """The lecture notes' regression: map the semicircle x₁² + x₂² = 1 (x₂ ≥ 0) onto the
    parabola y₂ = y₁². Input x = (cos θ, sin θ), θ ∈ [0, π]; target y = (cos θ, cos² θ),
    i.e. y₁ = x₁ and y₂ = y₁². ``noise`` perturbs the inputs only."""
    n = _count(n_samples, minimum=2)
    rng = as_generator(seed)
    theta = np.linspace(0.0, np.pi, n)
    X = np.stack([np.cos(theta), np.sin(theta)], 1)
    y = np.stack([np.cos(theta), np.cos(theta) ** 2], 1)
    return X + _noise(rng, noise, X.shape), y


# The region of the red/blue classifier: inside a triangle and outside a disc, so a two-layer
# network needs several hidden units (half-planes) to draw it.
_TRIANGLE = np.array([[-0.8, -0.6], [0.8, -0.6], [0.0, 0.8]])


def red_blue_label(X: np.ndarray) -> np.ndarray:
    """1 ("red") for points inside the triangle (-0.8, -0.6), (0.8, -0.6), (0, 0.8) but
    outside the disc of radius 0.25 at (0, -0.1); 0 ("blue") elsewhere."""
    X = np.asarray(X, dtype=np.float64)
    inside = np.ones(len(X), dtype=bool)
    for i in range(3):
        a, b, c = _TRIANGLE[i], _TRIANGLE[(i + 1) % 3], _TRIANGLE[(i + 2) % 3]
        edge = b - a
        normal = np.array([-edge[1], edge[0]])
        side = np.sign((c - a) @ normal)
        inside &= ((X - a) @ normal) * side > 0
    hole = np.sum((X - np.array([0.0, -0.1])) ** 2, axis=1) < 0.25 ** 2
    return (inside & ~hole).astype(np.int64)


def make_red_blue(n_samples: int = 400, grid: bool = False, *,
                  seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The lecture notes' "arbitrary classifier": label every point x ∈ [-1, 1]² red (1) or
    blue (0) by a fixed region (see :func:`red_blue_label`).

    ``grid=False`` samples points uniformly; ``grid=True`` returns every pixel of a
    √n × √n grid instead (to draw the ground-truth picture)."""
    n = _count(n_samples)
    if grid:
        side = max(2, int(round(math.sqrt(n))))
        g = np.linspace(-1.0, 1.0, side)
        xx, yy = np.meshgrid(g, g)
        X = np.stack([xx.ravel(), yy.ravel()], 1)
    else:
        X = as_generator(seed).uniform(-1.0, 1.0, size=(n, 2))
    return X, red_blue_label(X)
