"""Small helpers shared by the ``nn`` modules: random generators and parameter kinds."""
from __future__ import annotations

from typing import Any

import numpy as np

import autograd_core
from autograd_core import Value



def as_generator(seed: int | np.random.Generator | None, name: str = "seed") -> np.random.Generator:
    """A ``numpy.random.Generator`` for ``seed``: a Generator is used as is, an int seeds a
    new one, ``None`` draws fresh entropy (never NumPy's global random state)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(f"{name} must be an int, a numpy.random.Generator or None; "
                    f"got {type(seed).__name__}")


def tensor_class() -> Any:
    """``autograd_core.Tensor`` if the engine has it, else None."""
    return getattr(autograd_core, "Tensor", None)


def is_tensor(x: Any) -> bool:
    """True for an ``autograd_core.Tensor``."""
    cls = tensor_class()
    return cls is not None and isinstance(x, cls)


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
    """The parameter's gradient as a float array, or None when it has none."""
    g = p.grad
    if g is None:
        return None
    if isinstance(g, Value) or is_tensor(g):    # create_graph=True made the grad a node
        g = g.data
    return np.asarray(g, dtype=np.float64)


def set_param_data(p: Any, new: np.ndarray) -> None:
    """Write ``new`` into the parameter in place (a Value gets a float)."""
    if isinstance(p, Value):
        p.data = float(new)
    else:
        p.data[...] = new


def set_grad(p: Any, new: np.ndarray) -> None:
    """Overwrite a parameter's gradient (clipping): a float for a Value, an array for a Tensor."""
    if isinstance(p, Value):
        p.grad = float(new)
    else:
        p.grad = np.asarray(new, dtype=p.data.dtype).reshape(p.data.shape)
