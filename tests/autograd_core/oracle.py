"""Independent references for the engine's ops: HIPS ``autograd`` formulas and NumPy values.

Each entry maps an op name to the same function written with ``autograd.numpy``; the
derivatives come from HIPS autograd, not from this project.
"""
from __future__ import annotations

import autograd.numpy as anp

UNARY = {
    "neg": lambda a: -a,
    "abs": anp.abs,
    "exp": anp.exp,
    "log": anp.log,
    "sqrt": anp.sqrt,
    "tanh": anp.tanh,
    "sigmoid": lambda a: 0.5 * (anp.tanh(a / 2) + 1),
    "relu": lambda a: a * (a > 0),
    "leaky_relu": lambda a: anp.where(a > 0, a, 0.01 * a),
    "softplus": lambda a: anp.logaddexp(0.0, a),
    "sin": anp.sin,
    "cos": anp.cos,
}

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
}
