"""Guards against the usual misconceptions: warnings that name a mistake and its fix.

A guard watches for a situation that is almost always a mistake in a learner's code (a
backward pass that adds to the gradient an optimizer step already used; a graph drawn with
gradients before any backward) and says so once per process with a
:class:`MisconceptionWarning`. Guards only warn: they never change a result, and what a trace
or a drawing shows is the same with guards on or off.

They are on by default, everywhere (a script trains the same way a notebook does), and cost
nothing until one is armed: :func:`backward` runs the armed pre-pass checks, one falsy test of
an empty list otherwise. ``set_guards(False)`` silences them all; the standard ``warnings``
module filters them too (``warnings.simplefilter("ignore", MisconceptionWarning)``).

For library code (``nn``, ``viz``):

- :func:`warn_once` issues a warning of a kind at most once per process, pointing at the
  first frame outside the packages given to :func:`register_package`;
- :func:`arm` / :func:`disarm` add or remove a check ``check(root, order)`` that the next
  backward passes run before any gradient moves (the check disarms itself when done).
"""
from __future__ import annotations

import sys
import warnings
from typing import Any, Callable

from . import graph

__all__ = ["MisconceptionWarning", "set_guards", "guards_enabled", "warn_once", "arm", "disarm",
           "has_warned", "register_package", "reset"]

PrePassCheck = Callable[[Any, list], None]


class MisconceptionWarning(UserWarning):
    """A pattern that is almost always a mistake about how gradients work (silence them all
    with ``autograd_core.set_guards(False)``)."""


_enabled = True
_warned: set[str] = set()
_packages: set[str] = {__name__.partition(".")[0]}


def set_guards(enabled: bool) -> None:
    """Turn every misconception guard on (the default) or off. Off, no guard warns and none is
    armed; results, traces and drawings are the same either way."""
    global _enabled
    if not isinstance(enabled, bool):
        raise TypeError(f"set_guards(enabled) expects True or False; got "
                        f"{type(enabled).__name__}: {enabled!r:.40}")
    _enabled = enabled
    if not enabled:
        graph.pre_pass_checks.clear()


def guards_enabled() -> bool:
    """True when the misconception guards are on (see :func:`set_guards`)."""
    return _enabled


def has_warned(kind: str) -> bool:
    """True once a warning of ``kind`` has been issued in this process."""
    return kind in _warned


def warn_once(kind: str, message: str, category: type[Warning] = MisconceptionWarning) -> bool:
    """Warn ``message`` unless guards are off or a warning of ``kind`` was already given in
    this process. The warning points at the caller's code: the first frame outside the
    registered packages. Returns True when it warned."""
    if not _enabled or kind in _warned:
        return False
    _warned.add(kind)
    warnings.warn(message, category, stacklevel=_user_stacklevel())
    return True


def register_package(name: str) -> None:
    """Count the top-level package ``name`` as library code: warnings point past its frames."""
    _packages.add(name)


def arm(check: PrePassCheck) -> None:
    """Run ``check(root, order)`` at the start of every backward pass until it is disarmed
    (nothing when guards are off; arming twice runs it once)."""
    if _enabled and check not in graph.pre_pass_checks:
        graph.pre_pass_checks.append(check)


def disarm(check: PrePassCheck) -> None:
    """Stop running ``check`` (nothing if it was not armed)."""
    try:
        graph.pre_pass_checks.remove(check)
    except ValueError:
        pass


def reset() -> None:
    """Forget which warnings were given and disarm every check (for tests)."""
    _warned.clear()
    graph.pre_pass_checks.clear()


def _user_stacklevel() -> int:
    """The ``stacklevel`` of the first frame (from :func:`warn_once`'s caller outwards) whose
    module is not in a registered package."""
    frame = sys._getframe(2)            # warn_once's caller
    level = 2
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.partition(".")[0] not in _packages:
            return level
        frame = frame.f_back
        level += 1
    return 2
