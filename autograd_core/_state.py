"""Per-thread engine state: grad mode, the module name-scope stack and anomaly detection.

Everything here is thread-local, so a ``no_grad()`` block in one thread never changes
what another thread records. Nothing interpreter-wide is touched.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    """What every op reads; ``threading.local`` gives each thread its own copy.

    ``mode`` packs ``(grad_enabled, call, anomaly)`` into one tuple so that an op pays for
    a single thread-local lookup; the three properties keep it up to date. ``call`` is the
    innermost open :class:`ModuleCall` (``None`` outside any).
    """

    def __init__(self) -> None:
        self.mode: tuple[bool, ModuleCall | None, bool] = (True, None, False)

    @property
    def grad_enabled(self) -> bool:
        return self.mode[0]

    @grad_enabled.setter
    def grad_enabled(self, value: bool) -> None:
        self.mode = (value, self.mode[1], self.mode[2])

    @property
    def scope(self) -> ModuleCall | None:
        """The innermost open module call (``None`` outside any)."""
        return self.mode[1]

    @scope.setter
    def scope(self, value: ModuleCall | None) -> None:
        self.mode = (self.mode[0], value, self.mode[2])

    @property
    def anomaly(self) -> bool:
        return self.mode[2]

    @anomaly.setter
    def anomaly(self, value: bool) -> None:
        self.mode = (self.mode[0], self.mode[1], value)


state = _State()

open_contexts = [0]
"""How many grad-mode, name-scope and anomaly contexts are open, in any thread. While it is 0
every thread is in the default mode (grad on, no scope, no anomaly checks), so an op need not
read the thread-local state: :func:`current_mode` is then one list read."""
_count_lock = threading.Lock()
DEFAULT_MODE = (True, None, False)


def current_mode() -> tuple[bool, tuple[Any, ...] | None, bool]:
    """``(grad_enabled, scope, anomaly)`` of the calling thread."""
    return state.mode if open_contexts[0] else DEFAULT_MODE


class changed_mode:
    """Set attributes of the calling thread's state for a ``with`` block (counted as open in
    :data:`open_contexts`), then put the previous mode back."""

    __slots__ = ("changes", "previous")

    def __init__(self, **changes: Any) -> None:
        self.changes = changes

    def __enter__(self) -> None:
        self.previous = state.mode
        with _count_lock:
            open_contexts[0] += 1
        for name, value in self.changes.items():
            setattr(state, name, value)

    def __exit__(self, *exc: object) -> None:
        state.mode = self.previous
        with _count_lock:
            open_contexts[0] -= 1


class _GradMode:
    """Context manager *and* decorator that sets grad mode to ``enabled`` inside its body.

    As in PyTorch 2, the decorator works with and without parentheses: ``@no_grad()`` and
    ``@no_grad``.
    """

    enabled: bool

    def __new__(cls, *args: Any) -> Any:
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]):
            return cls()(args[0])                   # @no_grad without parentheses
        if cls is not set_grad_enabled and args:
            raise TypeError(f"{cls.__name__}() takes no arguments (use it as `with "
                            f"{cls.__name__}():` or as a decorator)")
        return super().__new__(cls)

    def __enter__(self) -> None:
        self._previous = state.mode
        with _count_lock:
            open_contexts[0] += 1
        state.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        state.mode = self._previous
        with _count_lock:
            open_contexts[0] -= 1

    def __call__(self, func: F) -> F:
        if not callable(func):
            raise TypeError(f"{type(self).__name__} decorates a function, got "
                            f"{type(func).__name__}")
        enabled = self.enabled

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with changed_mode(grad_enabled=enabled):
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
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"set_grad_enabled expects True or False, got "
                            f"{type(mode).__name__}: {mode!r}")
        self.enabled = bool(mode)


def is_grad_enabled() -> bool:
    """True when ops currently record a graph (not inside ``no_grad``)."""
    return state.grad_enabled


class ModuleCall:
    """One call of a module (one entry of :class:`name_scope`): the ``module``, the call it
    was made in (``outer``, ``None`` at the top), and ``modules``, the tuple of modules from
    the outermost call to this one. Every node created during the call refers to it, so two
    calls of the same neuron (two samples) stay apart even when a pass visits them
    interleaved."""

    __slots__ = ("module", "outer", "modules")

    def __init__(self, module: Any, outer: ModuleCall | None) -> None:
        self.module = module
        self.outer = outer
        self.modules: tuple[Any, ...] = (module,) if outer is None else outer.modules + (module,)

    @property
    def calls(self) -> tuple[ModuleCall, ...]:
        """The open calls from the outermost to this one."""
        calls: list[ModuleCall] = []
        call: ModuleCall | None = self
        while call is not None:
            calls.append(call)
            call = call.outer
        return tuple(reversed(calls))

    def __repr__(self) -> str:
        return f"<ModuleCall of {type(self.module).__name__} at depth {len(self.modules)}>"


class name_scope:
    """Tag every node created inside the block with ``scope`` (pushed on a per-thread stack).

    ``nn.Module.__call__`` pushes itself, so ``viz`` can group the nodes of one neuron,
    layer or module into one box without importing ``nn``. A node's ``scope`` is the tuple
    of enclosing scopes, outermost first; its ``module_call`` is the :class:`ModuleCall`
    that made it. (A class, not a generator: a model's forward enters one per module call.)
    """

    __slots__ = ("scope", "previous")

    def __init__(self, scope: Any) -> None:
        self.scope = scope

    def __enter__(self) -> None:
        self.previous = mode = state.mode
        with _count_lock:
            open_contexts[0] += 1
        state.mode = (mode[0], ModuleCall(self.scope, mode[1]), mode[2])

    def __exit__(self, *exc: object) -> None:
        state.mode = self.previous
        with _count_lock:
            open_contexts[0] -= 1
