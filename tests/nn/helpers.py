"""Helpers shared by the nn tests: snapshots of a model's state, to check nothing changed."""
from __future__ import annotations

import numpy as np

import nn


def snapshot(model: nn.Module) -> dict[str, np.ndarray]:
    """Copies of the model's state dict."""
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_untouched(model: nn.Module, before: dict[str, np.ndarray]) -> None:
    """The model's state is exactly ``before``: same keys, values and dtypes."""
    after = model.state_dict()
    assert list(after) == list(before)
    for k in before:
        np.testing.assert_array_equal(after[k], before[k])
        assert after[k].dtype == before[k].dtype, k
