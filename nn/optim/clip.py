"""Gradient clipping by global norm (``torch.nn.utils.clip_grad_norm_``)."""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from .._util import grad_array, is_parameter, set_grad


def clip_grad_norm_(parameters: Iterable[Any] | Any, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> float:
    """Scale all gradients together so their global norm is at most ``max_norm``.

    total = (Σ_p ‖g_p‖^q)^{1/q} over every parameter (q = ``norm_type``; ``inf`` for the max);
    if total > max_norm every gradient is multiplied by max_norm / (total + 1e-6).
    Returns the total norm before clipping.
    """
    params = [parameters] if is_parameter(parameters) else list(parameters)
    max_norm, q = float(max_norm), float(norm_type)
    if max_norm < 0:
        raise ValueError(f"max_norm must be >= 0; got {max_norm}")
    grads = [(p, g) for p in params if (g := grad_array(p)) is not None]
    if not grads:
        return 0.0
    if math.isinf(q):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for _, g in grads)
    else:
        total = float(sum(float(np.sum(np.abs(g) ** q)) for _, g in grads) ** (1.0 / q))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"the total norm of order {q} of the gradients is non-finite "
                           f"({total}); set error_if_nonfinite=False to clip anyway")
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p, g in grads:
            set_grad(p, g * coef)
    return total
