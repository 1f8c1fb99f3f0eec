"""Compare a Tensor function with the same function in autograd.numpy (the oracle)."""
from __future__ import annotations

from typing import Any, Callable

import autograd
import autograd.numpy as anp
import numpy as np

from autograd_core import Tensor, gradcheck


def check_against_oracle(engine_fn: Callable[..., Any], oracle_fn: Callable[..., Any],
                         *arrays: np.ndarray, seed: int = 0, finite_differences: bool = True,
                         rtol: float = 1e-7) -> None:
    """Loss = Σ f(x) · W for fixed random W; value and every gradient must match HIPS
    autograd, and (optionally) central differences."""
    out_shape = np.shape(oracle_fn(*arrays))
    weights = np.random.default_rng(seed).normal(size=out_shape)

    def oracle_loss(*xs: Any) -> Any:
        return anp.sum(oracle_fn(*xs) * weights)

    def engine_loss(*ts: Tensor) -> Tensor:
        return (engine_fn(*ts) * weights).sum()

    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    loss = engine_loss(*tensors)
    loss.backward()
    np.testing.assert_allclose(loss.item(), oracle_loss(*arrays), rtol=rtol, atol=1e-10)
    for i, t in enumerate(tensors):
        want = autograd.grad(oracle_loss, i)(*arrays)
        assert t.grad is not None and t.grad.shape == t.shape, f"argument {i}"
        np.testing.assert_allclose(t.grad, want, rtol=rtol, atol=1e-9, err_msg=f"argument {i}")
    if finite_differences:
        assert gradcheck(engine_loss, *[Tensor(a, requires_grad=True) for a in arrays],
                         atol=1e-5, rtol=1e-4)
