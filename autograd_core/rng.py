"""The library's one global random generator, seeded by :func:`manual_seed` (as ``torch.manual_seed``).

Every random choice in chainrule (weight initialisation, dropout masks, data shuffling and
splits, the toy datasets) takes a ``seed=`` (an int or a ``numpy.random.Generator``); without
one it draws from the generator returned by :func:`default_generator`. So one call at the top
of a notebook makes the whole run repeat exactly::

    import autograd_core
    autograd_core.manual_seed(1337)
    model = nn.MLP(2, [16, 16, 1])     # the same weights on every run

Semantics follow PyTorch:

* The generator is **module-level state, one per process** (as ``torch.default_generator``):
  it is shared by every caller in the process and is not thread-safe; threads or processes
  that need their own stream should pass their own ``seed=`` / Generator.
* :func:`manual_seed` re-seeds that one generator *in place* and returns it, so any code
  that already holds it (``default_generator()``) follows the new seed.
* Before any call to :func:`manual_seed` the generator is seeded with :data:`DEFAULT_SEED`
  (PyTorch's default seed value), so a fresh process is repeatable too; call :func:`seed`
  for a non-deterministic seed.
* Python's ``random`` and NumPy's legacy global state (``np.random.seed``) are neither used
  nor touched.

``manual_seed(n)`` gives the same stream as ``numpy.random.default_rng(n)`` (PCG64 seeded
through a ``SeedSequence``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["manual_seed", "seed", "initial_seed", "default_generator", "DEFAULT_SEED"]

DEFAULT_SEED = 67280421310721
"""The seed of the global generator until :func:`manual_seed` or :func:`seed` is called."""

_generator: np.random.Generator = np.random.Generator(np.random.PCG64(DEFAULT_SEED))
_initial_seed: int = DEFAULT_SEED


def _check_seed(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative int; got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"seed must be a non-negative int; got {value}")
    return int(value)


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the global generator with ``seed`` (an int >= 0) and return it.

    After ``manual_seed(n)`` the generator draws exactly what ``numpy.random.default_rng(n)``
    would. The generator object stays the same: it is re-seeded in place.
    """
    global _initial_seed
    value = _check_seed(seed)
    _generator.bit_generator.state = np.random.PCG64(value).state
    _initial_seed = value
    return _generator


def seed() -> int:
    """Seed the global generator from fresh operating-system entropy and return that seed
    (``torch.seed``): print it to be able to repeat the run with ``manual_seed``."""
    value = int(np.random.SeedSequence().entropy)       # 128 bits from the OS
    manual_seed(value)
    return value


def initial_seed() -> int:
    """The seed the global generator was last seeded with (``torch.initial_seed``)."""
    return _initial_seed


def default_generator() -> np.random.Generator:
    """The global ``numpy.random.Generator`` every unseeded random choice draws from."""
    return _generator
