"""Weight initialisation (``torch.nn.init``'s names), in place on Tensors, arrays or lists of Values.

Why it matters (lecture notes): weights must start random, to break the symmetry between
units, and small, so that activations start where their slope is not ~0. The rules:

=====================  =========================================================
``lecun_normal_``       N(0, 1/fan_in): the lecture notes' rule, variance 1/m for m inputs
``kaiming_normal_``     N(0, gain²/fan), gain = √2 for ReLU (He et al.)
``kaiming_uniform_``    U(-b, b), b = gain·√(3/fan)
``xavier_normal_``      N(0, gain²·2/(fan_in + fan_out)) (Glorot and Bengio)
``xavier_uniform_``     U(-b, b), b = gain·√(6/(fan_in + fan_out))
``zeros_`` ``ones_``    constants
=====================  =========================================================

For a weight of shape ``(out, in)`` (``nn.Linear``), fan_in = in and fan_out = out. A 1-D
weight (one neuron's ``w``) counts as one row: fan_in = its length, fan_out = 1.
Every random function takes ``generator=`` (or ``seed=``): an int seed or a
``numpy.random.Generator``; without either it draws from the library's global generator
(seeded by ``manual_seed``). NumPy's and Python's global random states are never used.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd_core import Value

from ._util import as_generator, is_tensor

__all__ = ["calculate_gain", "calculate_fan_in_and_fan_out", "uniform_", "normal_", "constant_",
           "zeros_", "ones_", "lecun_normal_", "kaiming_normal_", "kaiming_uniform_",
           "xavier_normal_", "xavier_uniform_"]


def _shape(target: Any) -> tuple[int, ...]:
    if isinstance(target, np.ndarray):
        return target.shape
    if is_tensor(target):
        return tuple(target.data.shape)
    if isinstance(target, (list, tuple)) and all(isinstance(v, Value) for v in target):
        return (len(target),)
    raise TypeError(f"init expects a Tensor, a numpy array or a list of Values; "
                    f"got {type(target).__name__}")


def _fill(target: Any, values: np.ndarray) -> Any:
    """Write ``values`` into ``target`` in place and return ``target``."""
    if isinstance(target, np.ndarray):
        target[...] = values
    elif is_tensor(target):
        target.data[...] = values
        target.mark_modified()
    else:
        for v, x in zip(target, np.asarray(values).ravel()):
            v.data = float(x)
    return target


def _rng(generator: Any, seed: Any) -> np.random.Generator:
    if generator is not None and seed is not None:
        raise TypeError("give generator= or seed=, not both")
    return as_generator(generator if generator is not None else seed, "generator")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for an activation (``torch.nn.init.calculate_gain``):
    linear/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1 + slope²)) (slope default 0.01),
    selu 3/4."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid", "identity")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"negative_slope {slope!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}; expected one of linear, "
                     f"sigmoid, tanh, relu, leaky_relu, selu")


def calculate_fan_in_and_fan_out(target: Any) -> tuple[int, int]:
    """(fan_in, fan_out): for shape (out, in, *k) these are in·∏k and out·∏k; for a 1-D
    weight, (len, 1)."""
    shape = target if isinstance(target, tuple) else _shape(target)
    if len(shape) == 0:
        raise ValueError("fan in and fan out need a weight with at least one dimension")
    if len(shape) == 1:
        return shape[0], 1
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fan(target: Any, mode: str) -> int:
    fan_in, fan_out = calculate_fan_in_and_fan_out(target)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError(f"mode {mode!r} not supported; expected 'fan_in' or 'fan_out'")


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0, generator: Any = None, *,
             seed: Any = None) -> Any:
    """Fill with U(a, b)."""
    return _fill(tensor, _rng(generator, seed).uniform(a, b, size=_shape(tensor)))


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, generator: Any = None, *,
            seed: Any = None) -> Any:
    """Fill with N(mean, std²)."""
    return _fill(tensor, _rng(generator, seed).normal(mean, std, size=_shape(tensor)))


def constant_(tensor: Any, val: float) -> Any:
    """Fill with ``val``."""
    return _fill(tensor, np.full(_shape(tensor), float(val)))


def zeros_(tensor: Any) -> Any:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: Any) -> Any:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def lecun_normal_(tensor: Any, generator: Any = None, *, seed: Any = None) -> Any:
    """The lecture notes' rule: W_ij ~ N(0, 1/m), m = fan_in (std 1/√m)."""
    std = 1.0 / math.sqrt(_fan(tensor, "fan_in"))
    return _fill(tensor, _rng(generator, seed).normal(0.0, std, size=_shape(tensor)))


def kaiming_normal_(tensor: Any, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Any = None, *,
                    seed: Any = None) -> Any:
    """He initialisation: N(0, std²), std = gain/√fan (gain from ``calculate_gain``;
    √2 for ReLU, giving the lecture notes' N(0, 2/d_in))."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return _fill(tensor, _rng(generator, seed).normal(0.0, std, size=_shape(tensor)))


def kaiming_uniform_(tensor: Any, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Any = None, *,
                     seed: Any = None) -> Any:
    """He initialisation, uniform: U(-b, b), b = gain·√(3/fan)."""
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return _fill(tensor, _rng(generator, seed).uniform(-bound, bound, size=_shape(tensor)))


def xavier_normal_(tensor: Any, gain: float = 1.0, generator: Any = None, *,
                   seed: Any = None) -> Any:
    """Glorot initialisation: N(0, std²), std = gain·√(2/(fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, _rng(generator, seed).normal(0.0, std, size=_shape(tensor)))


def xavier_uniform_(tensor: Any, gain: float = 1.0, generator: Any = None, *,
                    seed: Any = None) -> Any:
    """Glorot initialisation, uniform (the lecture notes' Xavier): U(-b, b),
    b = gain·√6/√(fan_in + fan_out)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, _rng(generator, seed).uniform(-bound, bound, size=_shape(tensor)))


# name -> function used by the scalar models' ``init=`` argument
SCHEMES = {
    "uniform": lambda w, rng: uniform_(w, -1.0, 1.0, rng),        # micrograd's U(-1, 1)
    "normal": lambda w, rng: lecun_normal_(w, rng),               # the lecture notes' N(0, 1/m)
    "lecun": lambda w, rng: lecun_normal_(w, rng),
    "kaiming": lambda w, rng: kaiming_normal_(w, nonlinearity="relu", generator=rng),
    "xavier": lambda w, rng: xavier_uniform_(w, generator=rng),
}
