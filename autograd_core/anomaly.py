"""``detect_anomaly()``: stop at the first NaN, forward or backward, naming the op and label."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from ._state import changed_mode


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
    with changed_mode(anomaly=True):
        yield


def report_forward_nan(op: Any, inputs: tuple[Any, ...]) -> None:
    """Called by an op whose result is NaN: raise unless an input was already NaN."""
    if any(_has_nan(x) for x in inputs):
        return
    operands = ", ".join(f"{_describe(x)}={getattr(x, 'data', x)!r:.40}" for x in inputs)
    raise AnomalyError(f"forward: op {op.name!r} ({op.formula()}) produced NaN from "
                       f"inputs without NaN: {operands}")


def check_edge(edge: Any) -> None:
    """An observer of backward: raise when a chain-rule step first makes a gradient NaN (the
    upstream gradient and the gradient before were free of NaN)."""
    if not _has_nan(edge.after) or _has_nan(edge.upstream) or \
            (edge.before is not None and _has_nan(edge.before)):
        return
    op = edge.node.op
    raise AnomalyError(
        f"backward: op {op.name!r} ({op.formula()}) at node {_describe(edge.node)} produced a "
        f"NaN gradient for its operand {edge.position} {_describe(edge.parent)} (local "
        f"derivative {op.derivative_formula(edge.position)})")
