"""Scalar teaching models on ``Value``: ``Neuron``, ``Layer``, ``MLP`` (micrograd's API).

A neuron computes ``act(w · x + b) = act(Σ_i w_i x_i + b)``; a layer is ``nout`` neurons
reading the same input; an MLP chains layers. Every weight is its own ``Value``, so the
graph shows each multiply and add - slow, but every step of backprop is visible.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from autograd_core import REAL_NUMBER_TYPES, Tensor, Value

from . import init as _init
from ._util import as_generator
from .module import Module

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "linear")


def _apply_activation(z: Value, activation: str) -> Value:
    if activation == "relu":
        return z.relu()
    if activation == "tanh":
        return z.tanh()
    if activation == "sigmoid":
        return z.sigmoid()
    if activation == "leaky_relu":
        return z.leaky_relu(0.01)
    return z


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
    return activation


def _check_count(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{what} must be a positive int; got {n!r}")
    return int(n)


def _as_inputs(x: Any) -> list[Any]:
    """A sample as a list of Values/numbers; a single Value or number is a 1-element input
    (so a one-neuron hidden layer's output feeds the next layer; micrograd breaks there). A
    list of Tensors is a batch, one Tensor per input (see :meth:`Neuron.forward`)."""
    if isinstance(x, (Value, Tensor, *REAL_NUMBER_TYPES)) and not isinstance(x, (bool, np.bool_)):
        return [x]
    if isinstance(x, np.ndarray):
        if x.ndim > 1:
            raise ValueError(f"a scalar model takes one sample (a 1-D input); got an array of "
                             f"shape {x.shape} - call it on each row")
        return [float(v) for v in x]
    if isinstance(x, (list, tuple)):
        return list(x)
    raise TypeError(f"input must be a list of numbers/Values or a 1-D array; got {type(x).__name__}")


class Neuron(Module):
    """One unit: ``out = act(Σ_i w_i x_i + b)``.

    Args:
        nin: number of inputs.
        activation: ``"relu"`` (default), ``"tanh"``, ``"sigmoid"``, ``"leaky_relu"``
            (slope 0.01) or ``"linear"``.
        nonlin: micrograd's flag (``False`` means linear); overrides ``activation`` if given.
        init: weight rule: ``"uniform"`` U(-1, 1) (micrograd), ``"normal"`` N(0, 1/nin)
            (lecture notes), ``"kaiming"`` or ``"xavier"``. The bias starts at 0.
        seed: int or ``numpy.random.Generator`` for the initial weights; without one they
            are drawn from the global generator (``manual_seed``).
    """

    scope_kind = "neuron"

    def __init__(self, nin: int, activation: str = "relu", *, nonlin: bool | None = None,
                 init: str = "uniform", bias: bool = True,
                 seed: int | np.random.Generator | None = None) -> None:
        super().__init__()
        self.nin = _check_count(nin, "nin")
        if nonlin is not None:
            activation = "relu" if nonlin else "linear"
        self.activation = _check_activation(activation)
        if init not in _init.SCHEMES:
            raise ValueError(f"init must be one of {sorted(_init.SCHEMES)}; got {init!r}")
        self.w = [Value(0.0, label=f"w{i + 1}") for i in range(self.nin)]
        _init.SCHEMES[init](self.w, as_generator(seed))
        self.b = Value(0.0, label="b") if bias else None

    @property
    def nonlin(self) -> bool:
        """micrograd's flag: True unless the neuron is linear."""
        return self.activation != "linear"

    def label_parameters(self, prefix: str = "") -> None:
        """Name the weights ``{prefix}w1 ... {prefix}wn`` and the bias ``{prefix}b`` (graph labels),
        and the neuron itself ``{prefix}`` without its dot (its box in a graph: ``L2.n7``)."""
        if prefix:
            object.__setattr__(self, "label", prefix.rstrip("."))
        for k, w in enumerate(self.w):
            w.label = f"{prefix}w{k + 1}"
        if self.b is not None:
            self.b.label = f"{prefix}b"

    def forward(self, x: Any) -> Value:
        """``act(Σ_i w_i x_i + b)``.

        Under ``no_grad`` the inputs may also be Tensors, one per input holding a whole batch
        (``model([Tensor(X[:, 0]), Tensor(X[:, 1])])``): the same arithmetic then runs on
        arrays, one pass for every sample (what decision-boundary plots use)."""
        xs = _as_inputs(x)
        if len(xs) != self.nin:
            raise ValueError(f"Neuron expects {self.nin} inputs; got {len(xs)}")
        z = sum((wi * xi for wi, xi in zip(self.w, xs)), self.b if self.b is not None else 0.0)
        if not isinstance(z, (Value, Tensor)):
            z = Value(z, requires_grad=False)
        return _apply_activation(z, self.activation)

    def extra_repr(self) -> str:
        return f"{self.nin}, activation={self.activation!r}"


class Layer(Module):
    """``nout`` neurons on the same input; returns a list, or a Value when ``nout == 1``."""

    scope_kind = "layer"
    _repr_children = False

    def __init__(self, nin: int, nout: int, activation: str = "relu", *,
                 nonlin: bool | None = None, init: str = "uniform", bias: bool = True,
                 seed: int | np.random.Generator | None = None) -> None:
        super().__init__()
        self.nin = _check_count(nin, "nin")
        self.nout = _check_count(nout, "nout")
        rng = as_generator(seed)
        self.neurons = [Neuron(nin, activation, nonlin=nonlin, init=init, bias=bias, seed=rng)
                        for _ in range(self.nout)]
        self.label_parameters()

    def label_parameters(self, prefix: str = "") -> None:
        """Name neuron j's parameters ``{prefix}n{j}.w1 ...``, so that labels are unique, and the
        layer ``{prefix}`` without its dot (``L2``)."""
        if prefix:
            object.__setattr__(self, "label", prefix.rstrip("."))
        for j, neuron in enumerate(self.neurons):
            neuron.label_parameters(f"{prefix}n{j + 1}.")

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    def forward(self, x: Any) -> Value | list[Value]:
        """``[neuron(x) for neuron in neurons]`` (unwrapped when there is one neuron)."""
        xs = _as_inputs(x)
        if len(xs) != self.nin:
            raise ValueError(f"Layer expects {self.nin} inputs; got {len(xs)}")
        out = [n(xs) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def extra_repr(self) -> str:
        return f"{self.nin}, {self.nout}, activation={self.activation!r}"


class MLP(Module):
    """A multilayer perceptron on Values: ``MLP(2, [16, 16, 1])`` is 2 → 16 → 16 → 1.

    Hidden layers use ``activation`` (ReLU by default); the last layer uses
    ``output_activation`` (linear by default, as in micrograd). ``model(x)`` takes one sample
    (a list of numbers or Values) and returns a Value when the last layer has one neuron,
    else a list of Values.
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "relu", *,
                 output_activation: str = "linear", init: str = "uniform",
                 seed: int | np.random.Generator | None = None) -> None:
        super().__init__()
        if isinstance(nouts, (int, np.integer)) or not isinstance(nouts, (list, tuple)) \
                or len(nouts) == 0:
            raise TypeError(f"nouts must be a non-empty list of layer sizes, e.g. [16, 16, 1]; "
                            f"got {nouts!r}")
        self.nin = _check_count(nin, "nin")
        _check_activation(activation)
        _check_activation(output_activation)
        rng = as_generator(seed)
        sizes = [self.nin] + [_check_count(n, "each layer size") for n in nouts]
        last = len(nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1],
                             output_activation if i == last else activation, init=init, seed=rng)
                       for i in range(len(nouts))]
        for i, layer in enumerate(self.layers):
            layer.label_parameters(f"L{i + 1}.")

    def forward(self, x: Any) -> Value | list[Value]:
        """Apply the layers in order."""
        for layer in self.layers:
            x = layer(x)
        return x

    def extra_repr(self) -> str:
        return ""
