"""``detect_anomaly()``: stop at the first NaN, forward or backward, naming the op and label."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from ._state import state


class AnomalyError(FloatingPointError):
    """A NaN appeared inside ``detect_anomaly()``; the message names the op and node."""


def _has_nan(x: Any) -> bool:
    data = getattr(x, "data", x)
    if isinstance(data, float):
        return data != data
    return bool(np.isnan(np.asarray(data, dtype=float)).any())


def _describe(node: Any) -> str:
    label = getattr(node, "label", None)
    return repr(label) if label else f"(unlabelled {type(node).__name__})"


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Inside the block, raise :class:`AnomalyError` where a NaN first appears.

    Forward: an op whose result is NaN while none of its inputs is. Backward: the op whose
    chain-rule step first gives a NaN gradient. The message names the op and the labels
    of its operands, so ``with detect_anomaly(): loss.backward()`` points at the culprit.
    """
    previous = state.anomaly
    state.anomaly = True
    try:
        yield
    finally:
        state.anomaly = previous


def report_forward_nan(op: Any, inputs: tuple[Any, ...]) -> None:
    """Called by an op whose result is NaN: raise unless an input was already NaN."""
    if any(_has_nan(x) for x in inputs):
        return
    operands = ", ".join(f"{_describe(x)}={getattr(x, 'data', x)!r:.40}" for x in inputs)
    raise AnomalyError(f"forward: op {op.name!r} ({op.formula()}) produced NaN from "
                       f"inputs without NaN: {operands}")


def check_backward(node: Any) -> None:
    """Called after ``node``'s chain-rule step: raise if it made a parent's gradient NaN."""
    if node.grad is not None and _has_nan(node.grad):
        return  # the NaN came from further down; it was reported there
    for i, parent in enumerate(node.parents):
        if parent.requires_grad and parent.grad is not None and _has_nan(parent.grad):
            raise AnomalyError(
                f"backward: op {node.op.name!r} ({node.op.formula()}) at node "
                f"{_describe(node)} produced a NaN gradient for its operand {i} "
                f"{_describe(parent)} (local derivative "
                f"{node.op.derivative_formula(i)})")
