"""Per-thread engine state: grad mode, the module name-scope stack and anomaly detection.

Everything here is thread-local, so a ``no_grad()`` block in one thread never changes
what another thread records. Nothing interpreter-wide is touched.
"""
from __future__ import annotations

import functools
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    """What every op reads; ``threading.local`` gives each thread its own copy.

    ``mode`` packs ``(grad_enabled, scope, anomaly)`` into one tuple so that an op pays for
    a single thread-local lookup; the three properties keep it up to date.
    """

    def __init__(self) -> None:
        self.mode: tuple[bool, tuple[Any, ...] | None, bool] = (True, None, False)

    @property
    def grad_enabled(self) -> bool:
        return self.mode[0]

    @grad_enabled.setter
    def grad_enabled(self, value: bool) -> None:
        self.mode = (value, self.mode[1], self.mode[2])

    @property
    def scope(self) -> tuple[Any, ...] | None:
        """The enclosing module scopes, outermost first (``None`` outside any)."""
        return self.mode[1]

    @scope.setter
    def scope(self, value: tuple[Any, ...] | None) -> None:
        self.mode = (self.mode[0], value, self.mode[2])

    @property
    def anomaly(self) -> bool:
        return self.mode[2]

    @anomaly.setter
    def anomaly(self, value: bool) -> None:
        self.mode = (self.mode[0], self.mode[1], value)


state = _State()


class _GradMode:
    """Context manager *and* decorator that sets grad mode to ``enabled`` inside its body."""

    enabled: bool

    def __enter__(self) -> None:
        self._previous = state.grad_enabled
        state.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        state.grad_enabled = self._previous

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Inside ``with no_grad():`` (or a function decorated ``@no_grad()``) ops record no graph.

    Results are constants: ``requires_grad`` is False and they have no parents, exactly as
    ``torch.no_grad``. Use it for parameter updates and evaluation.
    """

    enabled = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside a ``no_grad`` block (``torch.enable_grad``)."""

    enabled = True


class set_grad_enabled(_GradMode):
    """``with set_grad_enabled(flag):`` records a graph only when ``flag`` is true."""

    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)

    def __call__(self, func: F) -> F:  # pragma: no cover - same as the parent, keeps the mode
        mode = self.enabled

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def is_grad_enabled() -> bool:
    """True when ops currently record a graph (not inside ``no_grad``)."""
    return state.grad_enabled


@contextmanager
def name_scope(scope: Any) -> Iterator[None]:
    """Tag every node created inside the block with ``scope`` (pushed on a per-thread stack).

    ``nn.Module.__call__`` pushes itself, so ``viz`` can group the nodes of one neuron,
    layer or module into one box without importing ``nn``. A node's ``scope`` is the tuple
    of enclosing scopes, outermost first.
    """
    previous = state.scope
    state.scope = (scope,) if previous is None else previous + (scope,)
    try:
        yield
    finally:
        state.scope = previous
