"""``gradcheck``: compare backward's gradients with central finite differences."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._state import no_grad


class GradcheckError(AssertionError):
    """Backward and finite differences disagree; the message names the input and both numbers."""


def _positions(x: Any) -> list[Any]:
    data = x.data
    return [None] if np.ndim(data) == 0 and not isinstance(data, np.ndarray) else \
        list(np.ndindex(np.shape(data)))


def _get(x: Any, pos: Any) -> float:
    return float(x.data) if pos is None else float(x.data[pos])


def _set(x: Any, pos: Any, value: float) -> None:
    if pos is None:
        x.data = value
    else:
        x.data[pos] = value


def _scalar_output(f: Callable[..., Any], inputs: tuple[Any, ...]) -> Any:
    out = f(*inputs)
    if np.size(out.data) != 1:
        raise ValueError(f"gradcheck needs f to return one number; it returned shape "
                         f"{np.shape(out.data)} (reduce it, e.g. with .sum())")
    return out


def gradcheck(f: Callable[..., Any], *inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3) -> bool:
    """Check ``∂f/∂input`` from backward against central differences for every element.

    The numerical derivative is ``(f(x + eps) - f(x - eps)) / (2 eps)``; an element passes
    when ``|analytic - numeric| <= atol + rtol · |numeric|``. ``f`` takes the inputs
    (Values or Tensors) and returns a scalar node. Returns True, or raises
    :class:`GradcheckError` naming the input, the element and both numbers. The inputs'
    data and grads are left as they were.
    """
    if not inputs:
        raise ValueError("gradcheck needs at least one input")
    for i, x in enumerate(inputs):
        if not hasattr(x, "parents") or not getattr(x, "requires_grad", False):
            raise TypeError(f"gradcheck input {i} must be a Value or Tensor with "
                            f"requires_grad=True; got {type(x).__name__}")
    saved_grads = [x.grad for x in inputs]
    try:
        for x in inputs:
            x.grad = None if isinstance(x.data, np.ndarray) else 0.0
        _scalar_output(f, inputs).backward()
        analytic = [x.grad for x in inputs]
        for i, x in enumerate(inputs):
            for pos in _positions(x):
                original = _get(x, pos)
                with no_grad():
                    _set(x, pos, original + eps)
                    plus = float(_scalar_output(f, inputs).data)
                    _set(x, pos, original - eps)
                    minus = float(_scalar_output(f, inputs).data)
                    _set(x, pos, original)
                numeric = (plus - minus) / (2 * eps)
                grad = analytic[i]
                got = 0.0 if grad is None else float(grad if pos is None else np.asarray(grad)[pos])
                if not abs(got - numeric) <= atol + rtol * abs(numeric):
                    name = getattr(x, "label", None) or f"input {i}"
                    where = "" if pos is None else f" at index {pos}"
                    raise GradcheckError(
                        f"gradient mismatch for {name}{where}: backward gives {got!r}, "
                        f"finite differences give {numeric!r} (eps={eps}, atol={atol}, rtol={rtol})")
        return True
    finally:
        for x, g in zip(inputs, saved_grads):
            x.grad = g
