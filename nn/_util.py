"""Small helpers shared by the ``nn`` modules: random generators and parameter kinds."""
from __future__ import annotations

from typing import Any

import numpy as np

from autograd_core import Tensor, Value
from autograd_core.rng import default_generator


def as_generator(seed: int | np.random.Generator | None, name: str = "seed") -> np.random.Generator:
    """A ``numpy.random.Generator`` for ``seed``: a Generator is used as is, an int seeds a
    new one (``numpy.random.default_rng(seed)``), ``None`` gives the library's global
    generator (:func:`autograd_core.default_generator`, seeded by ``manual_seed``); NumPy's
    and Python's global random states are never used."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return default_generator()
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"{name} must be a non-negative int; got {seed}")
        return np.random.default_rng(seed)
    raise TypeError(f"{name} must be an int, a numpy.random.Generator or None; "
                    f"got {type(seed).__name__}")


def float_dtype(dtype: Any) -> np.dtype:
    """``dtype`` as a NumPy floating-point dtype (float64 when None); TypeError otherwise."""
    try:
        out = np.dtype(np.float64 if dtype is None else dtype)
    except TypeError:
        out = None
    if out is None or out.kind != "f":
        raise TypeError(f"dtype must be a floating-point dtype such as numpy.float32 or "
                        f"numpy.float64; got {dtype!r}")
    return out


def is_tensor(x: Any) -> bool:
    """True for an ``autograd_core.Tensor``."""
    return isinstance(x, Tensor)


def is_parameter(x: Any) -> bool:
    """A trainable leaf: a ``Value`` or ``Tensor`` with ``requires_grad`` and no history."""
    return ((isinstance(x, Value) or is_tensor(x)) and bool(getattr(x, "requires_grad", False))
            and x.is_leaf)


def param_array(p: Any) -> np.ndarray:
    """The parameter's data as an array (a 0-d array for a Value)."""
    return np.asarray(p.data, dtype=np.float64) if isinstance(p, Value) else p.data


def param_shape(p: Any) -> tuple[int, ...]:
    """``()`` for a Value, the array shape for a Tensor."""
    return () if isinstance(p, Value) else tuple(p.data.shape)


def grad_array(p: Any) -> np.ndarray | None:
    """The parameter's gradient as an array of the parameter's dtype (float64 for a Value,
    so a float32 Tensor keeps float32 optimizer state), or None when it has none."""
    g = p.grad
    if g is None:
        return None
    if isinstance(g, Value) or is_tensor(g):    # create_graph=True made the grad a node
        g = g.data
    return np.asarray(g, dtype=param_array(p).dtype)


def set_param_data(p: Any, new: np.ndarray) -> None:
    """Write ``new`` into the parameter in place (a Value gets a float)."""
    if isinstance(p, Value):
        p.data = float(new)
    else:
        p.data[...] = new
        p.mark_modified()


def set_grad(p: Any, new: np.ndarray) -> None:
    """Overwrite a parameter's gradient (clipping): a float for a Value, an array for a Tensor."""
    if isinstance(p, Value):
        p.grad = float(new)
    else:
        p.grad = np.asarray(new, dtype=p.data.dtype).reshape(p.data.shape)
