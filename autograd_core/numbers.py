"""What counts as a real number, and when a gradient is zero: one definition for the engine."""
from __future__ import annotations

from typing import Any

import numpy as np

REAL_NUMBER_TYPES = (int, float, bool, np.integer, np.floating, np.bool_)
"""Python and NumPy scalars that a ``Value``, a ``Dual`` or an op's constant operand accepts."""


def to_float(data: Any, what: str = "Value") -> float:
    """``data`` as a float; TypeError naming the type for anything that is not one real number,
    ValueError for an integer too large for a float."""
    if isinstance(data, REAL_NUMBER_TYPES):
        try:
            return float(data)
        except OverflowError:      # (str() of a huge int hits Python's 4300-digit limit)
            digits = int(int(data).bit_length() * 0.30103) + 1
            raise ValueError(f"{what}: an integer of about {digits:,} digits is too large for "
                             "a float (at most about 1.8e308)") from None
    if isinstance(data, np.ndarray) and data.size == 1 and data.dtype.kind in "biuf":
        return float(data.reshape(()))
    if isinstance(data, np.ndarray):
        raise TypeError(f"{what} holds one real number; got an ndarray of shape {data.shape} "
                        f"and dtype {data.dtype} (use Tensor for arrays)")
    raise TypeError(f"{what} holds one real number (int, float, bool or NumPy scalar); "
                    f"got {type(data).__name__}: {data!r:.60}")


def is_zero(x: Any) -> bool:
    """True when ``x`` (a number, an array, or a node's data) is zero everywhere."""
    x = getattr(x, "data", x)
    if isinstance(x, float):
        return x == 0.0
    try:
        return bool(np.all(np.asarray(x) == 0))
    except (TypeError, ValueError):
        return False


def check_flag(value: Any, name: str) -> bool:
    """``value`` as a bool; TypeError unless it is True or False (``'no'`` is not False)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {type(value).__name__}: {value!r:.40}")
