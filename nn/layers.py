"""Tensor layers (``torch.nn``'s names, shapes, arguments and defaults).

``Linear`` stores ``weight`` with shape (out_features, in_features) and ``bias`` with shape
(out_features,), so a ``Sequential``'s state dict (``0.weight``, ``0.bias``, ...) maps one to
one onto PyTorch's. Inputs may be Tensors or array-likes (converted to constant Tensors).
"""
from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any, Iterator

import numpy as np

from autograd_core import Tensor, where

from . import init as _init
from ._util import as_generator, float_dtype
from .module import Module

__all__ = ["Linear", "Sequential", "ReLU", "LeakyReLU", "PReLU", "Sigmoid", "Tanh", "Softplus",
           "Softmax", "Identity", "Dropout", "BatchNorm1d"]


def _as_tensor(x: Any) -> Tensor:
    """``x`` itself if it is a Tensor, else a constant Tensor of it (a float32 or float64
    array keeps its dtype; integers, bools and lists of numbers become float64)."""
    if isinstance(x, Tensor):
        return x
    try:
        return Tensor(x)
    except TypeError as exc:
        raise TypeError(f"expected a Tensor or an array of numbers; got {type(x).__name__}") \
            from exc


def _parameter(arr: np.ndarray, dtype: Any) -> Tensor:
    """A trainable leaf holding ``arr`` as ``dtype`` (float64 when None)."""
    return Tensor(arr, requires_grad=True, dtype=float_dtype(dtype))


def _positive(n: Any, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive int; got {n!r}")
    return int(n)


class Linear(Module):
    """y = x Wᵀ + b, W of shape (out_features, in_features), b of shape (out_features,).

    Initialised as PyTorch: W, b ~ U(-1/√in, 1/√in) (``kaiming_uniform_`` with a = √5),
    drawn from ``seed`` (an int or a Generator) or else from the global generator
    (``manual_seed``). ``dtype`` is float64 (default) or float32, for weight and bias.
    """

    scope_kind = "layer"

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 dtype: Any = None, seed: int | np.random.Generator | None = None) -> None:
        super().__init__()
        self.in_features = _positive(in_features, "in_features")
        self.out_features = _positive(out_features, "out_features")
        rng = as_generator(seed)
        w = np.empty((self.out_features, self.in_features))
        _init.kaiming_uniform_(w, a=math.sqrt(5), generator=rng)
        self.weight = _parameter(w, dtype)
        if bias:
            bound = 1.0 / math.sqrt(self.in_features)
            self.bias = _parameter(rng.uniform(-bound, bound, size=self.out_features), dtype)
        else:
            self.bias = None

    def forward(self, x: Any) -> Any:
        """x @ Wᵀ + b for x of shape (..., in_features)."""
        x = _as_tensor(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear expects inputs with last dimension {self.in_features}; "
                             f"got shape {tuple(x.shape)}")
        out = x @ self.weight.T
        return out + self.bias if self.bias is not None else out

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Sequential(Module):
    """Modules applied in order: ``Sequential(Linear(2, 16), ReLU(), Linear(16, 1))``.

    Submodules are named ``0``, ``1``, ... (or by the keys of an ``OrderedDict``).
    """

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            items = list(args[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(args)]
        for name, module in items:
            self.add_module(name, module)

    def add_module(self, name: str, module: Module) -> None:
        """Register ``module`` under ``name``."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential takes Modules; {name!r} is {type(module).__name__}")
        setattr(self, name, module)
        for pname, param in module.named_parameters():   # labels as state_dict keys: 0.weight
            if not isinstance(param, list):
                param.label = f"{name}.{pname}"
        if getattr(module, "label", None) is None:        # its box in a graph: "0 (Linear)"
            object.__setattr__(module, "label", f"{name} ({type(module).__name__})")

    def append(self, module: Module) -> Sequential:
        """Add a module at the end."""
        self.add_module(str(len(self)), module)
        return self

    def __len__(self) -> int:
        return len(self._module_names)

    def __iter__(self) -> Iterator[Module]:
        return iter([getattr(self, n) for n in self._module_names])

    def __getitem__(self, idx: int | slice) -> Any:
        mods = list(self)
        if isinstance(idx, slice):
            return Sequential(OrderedDict(zip(self._module_names[idx], mods[idx])))
        return mods[idx]

    def forward(self, x: Any) -> Any:
        for module in self:
            x = module(x)
        return x


class _Activation(Module):
    scope_kind = "layer"

    def forward(self, x: Any) -> Any:
        return self._f(_as_tensor(x))


class ReLU(_Activation):
    """max(0, x)."""

    def _f(self, x: Any) -> Any:
        return x.relu()


class LeakyReLU(_Activation):
    """x for x > 0, else negative_slope · x."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def _f(self, x: Any) -> Any:
        return x.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    """Leaky ReLU with a trainable slope a (one, or one per channel = dim 1):
    PReLU(x) = max(0, x) + a·min(0, x) = relu(x) - a·relu(-x)."""

    scope_kind = "layer"

    def __init__(self, num_parameters: int = 1, init: float = 0.25, *,
                 dtype: Any = None) -> None:
        super().__init__()
        self.num_parameters = _positive(num_parameters, "num_parameters")
        self.weight = _parameter(np.full(self.num_parameters, float(init)), dtype)

    def forward(self, x: Any) -> Any:
        x = _as_tensor(x)
        a = self.weight
        if self.num_parameters > 1:
            if x.ndim < 2 or x.shape[1] != self.num_parameters:
                raise ValueError(f"PReLU has {self.num_parameters} slopes, one per channel "
                                 f"(dim 1); got input shape {tuple(x.shape)}")
            a = a.reshape((self.num_parameters,) + (1,) * (x.ndim - 2))
        return x.relu() - a * (-x).relu()

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Sigmoid(_Activation):
    """σ(x) = 1 / (1 + e^-x)."""

    def _f(self, x: Any) -> Any:
        return x.sigmoid()


class Tanh(_Activation):
    """tanh(x)."""

    def _f(self, x: Any) -> Any:
        return x.tanh()


class Softplus(_Activation):
    """(1/β) log(1 + e^{βx}); x itself where βx > threshold (as PyTorch)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = float(beta), float(threshold)

    def _f(self, x: Any) -> Any:
        soft = (x * self.beta).softplus() / self.beta if self.beta != 1.0 else x.softplus()
        linear = np.asarray(x.data) * self.beta > self.threshold
        return where(linear, x, soft) if linear.any() else soft

    def extra_repr(self) -> str:
        return f"beta={self.beta:g}, threshold={self.threshold:g}"


class Softmax(_Activation):
    """softmax(x)_i = e^{x_i} / Σ_j e^{x_j} along ``dim`` (last axis when None)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def _f(self, x: Any) -> Any:
        return x.softmax(axis=-1 if self.dim is None else self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Identity(Module):
    """Returns its input (arguments are accepted and ignored, as PyTorch)."""

    scope_kind = "layer"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Dropout(Module):
    """Inverted dropout: in training, each element is zeroed with probability p and the rest
    are scaled by 1/(1 - p), so the expected activation is unchanged; identity in eval.

    The mask is drawn at each call from ``seed`` (an int seeds the layer's own generator, a
    Generator is used as is) or, without one, from the global generator (``manual_seed``),
    as PyTorch's dropout draws from its default generator. The mask has the input's dtype.
    """

    scope_kind = "layer"

    def __init__(self, p: float = 0.5, inplace: bool = False, *,
                 seed: int | np.random.Generator | None = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p!r}")
        self.p = float(p)
        self.inplace = bool(inplace)
        self.generator = None if seed is None else as_generator(seed)

    def forward(self, x: Any) -> Any:
        x = _as_tensor(x)
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return x * Tensor(np.zeros(x.shape, dtype=x.dtype))
        keep = as_generator(self.generator).random(x.shape) >= self.p
        return x * Tensor(keep / (1.0 - self.p), dtype=x.dtype)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class BatchNorm1d(Module):
    """Batch normalisation over the batch dimension of (N, C) or (N, C, L) inputs:

    x̂ = (x - μ_B) / √(σ²_B + ε),   y = γ x̂ + β

    with μ_B, σ²_B the batch mean and (biased) variance per feature in training. The running
    statistics are updated as r ← (1 - momentum) r + momentum · s, using the *unbiased*
    batch variance for ``running_var``; eval mode normalises with them instead. Exactly
    ``torch.nn.BatchNorm1d``; ``momentum=None`` gives a cumulative average. ``dtype``
    (float64 by default, or float32) is that of γ, β and the running statistics.
    """

    scope_kind = "layer"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *,
                 dtype: Any = None) -> None:
        super().__init__()
        self.num_features = _positive(num_features, "num_features")
        dtype = float_dtype(dtype)
        self.eps = float(eps)
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if self.affine:
            self.weight = _parameter(np.ones(self.num_features), dtype)
            self.bias = _parameter(np.zeros(self.num_features), dtype)
        else:
            self.weight = self.bias = None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, count 0."""
        if self.track_running_stats:
            self.running_mean[...] = 0.0
            self.running_var[...] = 1.0
            self.num_batches_tracked[...] = 0

    def forward(self, x: Any) -> Any:
        x = _as_tensor(x)
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}) expects input of shape (N, "
                             f"{self.num_features}) or (N, {self.num_features}, L); got "
                             f"{tuple(x.shape)}")
        axes = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, self.num_features) + ((1,) if x.ndim == 3 else ())
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            count = x.shape[0] * (x.shape[2] if x.ndim == 3 else 1)
            if count < 2:
                raise ValueError(f"BatchNorm1d expects more than 1 value per channel when "
                                 f"training; got input shape {tuple(x.shape)}")
            mean = x.mean(axis=axes, keepdims=True)
            centred = x - mean
            var = (centred * centred).mean(axis=axes, keepdims=True)
            if self.training and self.track_running_stats:
                self._update_running(mean.data.reshape(-1), var.data.reshape(-1), count)
        else:
            mean = Tensor(self.running_mean.reshape(shape))
            var = Tensor(self.running_var.reshape(shape))
            centred = x - mean
        x_hat = centred / (var + self.eps).sqrt()
        if self.affine:
            return x_hat * self.weight.reshape(shape) + self.bias.reshape(shape)
        return x_hat

    def _update_running(self, mean: np.ndarray, var: np.ndarray, count: int) -> None:
        self.num_batches_tracked[...] = self.num_batches_tracked + 1
        m = (1.0 / float(self.num_batches_tracked)) if self.momentum is None else self.momentum
        unbiased = var * count / (count - 1)
        self.running_mean[...] = (1 - m) * self.running_mean + m * mean
        self.running_var[...] = (1 - m) * self.running_var + m * unbiased

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")
