"""Shared by every test: each test starts with the misconception guards on, no check armed and
no warning given yet (they warn once per process, which would otherwise couple tests)."""
from __future__ import annotations

from typing import Iterator

import pytest

from autograd_core import guards


@pytest.fixture(autouse=True)
def fresh_guards() -> Iterator[None]:
    guards.set_guards(True)
    guards.reset()
    yield
    guards.set_guards(True)
    guards.reset()
