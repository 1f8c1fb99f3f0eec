"""What counts as a real number, when a gradient is zero, and when a node may become a float:
one definition for the engine."""
from __future__ import annotations

import dis
import linecache
import re
import sys
from types import FrameType
from typing import Any

import numpy as np

from ._state import current_mode

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


# -- float() of a node that requires grad ---------------------------------------------------
_MATH_USE = {"exp": "{x}.exp()", "log": "{x}.log()", "sqrt": "{x}.sqrt()", "tanh": "{x}.tanh()",
             "sin": "{x}.sin()", "cos": "{x}.cos()", "fabs": "abs({x})", "pow": "{x} ** {rest}",
             "expm1": "{x}.exp() - 1", "log1p": "(1 + {x}).log()",
             "log2": "{x}.log() / math.log(2)", "log10": "{x}.log() / math.log(10)"}
"""What to write instead of ``math.<name>(x)`` on a node (the op that keeps the gradient)."""
_CALL = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*\((.*)\)\s*$", re.S)
_PERCENT = {"%", "%="}


def float_of_node(node: Any) -> float:
    """``float(node)``: the data of a one-number node, unless the node requires grad while grad
    mode is on. Then a ``float()`` or ``math.*`` call would cut the graph without a word (the
    result is a plain number, the node's gradient stays 0), so TypeError names the op to use
    (``math.exp(w)``: ``w.exp()``) and, for the number itself, ``.item()`` / ``.data``.
    ``"%.4f" % node`` (formatting) is let through."""
    if not node.requires_grad or not current_mode()[0]:
        return node.item()
    frame = sys._getframe(2)                    # the code that called float() or math.*
    if _operator_at(frame) in _PERCENT:
        return node.item()
    raise TypeError(_lost_gradient_message(node, _expression_at(frame)))


def _operator_at(frame: FrameType | None) -> str | None:
    """The binary operator (``"%"``) ``frame`` is executing, if it is one."""
    try:
        for ins in dis.get_instructions(frame.f_code):      # type: ignore[union-attr]
            if ins.offset == frame.f_lasti:                  # type: ignore[union-attr]
                return ins.argrepr if ins.opname == "BINARY_OP" else None
    except Exception:                                        # no frame or no bytecode: unknown
        pass
    return None


def _expression_at(frame: FrameType | None) -> str | None:
    """The source text of the expression ``frame`` is executing (``math.exp(w)``), if known."""
    try:
        code = frame.f_code                                  # type: ignore[union-attr]
        positions = list(code.co_positions())[frame.f_lasti // 2]   # type: ignore[union-attr]
        start, end, col, end_col = positions
        if start is None or col is None or end_col is None:
            return None
        lines = [linecache.getline(code.co_filename, n, frame.f_globals).encode()
                 for n in range(start, (end or start) + 1)]
        if not lines[0]:
            return None
        lines[-1] = lines[-1][:end_col]
        lines[0] = lines[0][col:]
        return b"".join(lines).decode().strip() or None
    except Exception:                                        # no source (C caller, REPL): unknown
        return None


def _lost_gradient_message(node: Any, expression: str | None) -> str:
    kind = type(node).__name__
    call = _CALL.match(expression or "")
    function, args = (call.group(1), call.group(2)) if call else (None, "")
    first, _, rest = args.partition(",")
    x = first.strip() if first.strip().isidentifier() else (node.label or "x")
    what = f"{expression} turns" if expression else "float() (or a math.* function) turns"
    start = (f"{what} {x}, a {kind} that requires grad, into a plain Python float: the result "
             f"is not in the graph, so no gradient would flow back to {x} through it, without "
             f"a word.")
    name = (function or "").rpartition(".")[2]
    if function and function.startswith("math.") and name in _MATH_USE:
        use = _MATH_USE[name].format(x=x, rest=rest.strip() or "k")
        fix = f" Use {use}, which records the op."
    elif function and function.startswith("math."):
        fix = (f" There is no {name} op: build it from the ops ({x}.exp(), {x}.log(), "
               f"{x}.tanh(), ** and the arithmetic operators), or add one to the op table.")
    elif function == "float":
        fix = ""
    else:
        fix = (f" To compute with it, use its methods and operators ({x}.exp(), {x}.log(), "
               f"{x}.tanh(), {x} ** 2, ...), which record the ops.")
    return (start + fix + f" For the number itself, use {x}.item() or {x}.data; "
            "float() is allowed under autograd_core.no_grad() and for values that do not "
            "require grad.")
