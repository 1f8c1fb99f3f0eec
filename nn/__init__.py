"""nn: modules, scalar and tensor layers, losses, optimizers, initialisation, data, training.

Scalar teaching models (``Neuron``, ``Layer``, ``MLP``) are built from ``Value``s and are
micrograd-compatible; tensor layers (``Linear``, ``Sequential``, activations, ``Dropout``,
``BatchNorm1d``) are built on ``Tensor`` with PyTorch's names, shapes and defaults.
``manual_seed`` (the engine's, re-exported) seeds every random choice made without a seed.
"""
from autograd_core import guards as _guards
from autograd_core import manual_seed

from . import data, init, losses, optim
from .fit import History, fit
from .layers import (BatchNorm1d, Dropout, Identity, LeakyReLU, Linear, PReLU, ReLU, Sequential,
                     Sigmoid, Softmax, Softplus, Tanh)
from .module import IncompatibleKeys, Module
from .scalar import MLP, Layer, Neuron

_guards.register_package(__name__)       # guard warnings point at the learner's code, not nn's

__all__ = ["Module", "IncompatibleKeys", "Neuron", "Layer", "MLP", "Linear", "Sequential", "ReLU",
           "LeakyReLU", "PReLU", "Sigmoid", "Tanh", "Softplus", "Softmax", "Identity", "Dropout",
           "BatchNorm1d", "fit", "History", "manual_seed", "losses", "optim", "init", "data"]
