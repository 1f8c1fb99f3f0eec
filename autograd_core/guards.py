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

The zero_grad guard has two arms, one warning (kind :data:`STALE_GRAD`, given once):

- ``optimizer.step()`` arms a check for the next backward pass (``nn/optim/optimizer.py``);
- hand-written loops (micrograd's ``p.data += -0.1 * p.grad``) are watched by the backward
  pass itself. Each pass remembers, for the leaves that require grad, their data after it
  (the float, or a copy of a Tensor's array: only the last pass's leaves are kept). The next
  pass warns if a leaf it reaches still holds a nonzero gradient while its data has changed
  since: the parameters were updated and this backward will add to the gradient the update
  already used. Two backwards with no change between them (accumulating on purpose) never
  warn; nor does a pass after the gradients were zeroed. Once it has warned, or with guards
  off, a pass pays one test of a module attribute. A pass run with an ``observer`` (a trace,
  a check on the side) is not counted: it neither checks nor replaces the remembered pass.

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

import numpy as np

from . import graph
from .numbers import is_zero

__all__ = ["MisconceptionWarning", "set_guards", "guards_enabled", "warn_once", "arm", "disarm",
           "has_warned", "register_package", "reset", "describe_leaves", "STALE_GRAD"]

PrePassCheck = Callable[[Any, list], None]


class MisconceptionWarning(UserWarning):
    """A pattern that is almost always a mistake about how gradients work (silence them all
    with ``autograd_core.set_guards(False)``)."""


STALE_GRAD = "zero_grad"
"""The kind of the zero_grad guard's warning (both arms: after ``optimizer.step()`` and in
hand-written loops), given once per process."""

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
    _watch_hand_updates(enabled and STALE_GRAD not in _warned)


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
    _watch_hand_updates(_enabled)


def describe_leaves(leaves: list[Any]) -> str:
    """``the .grad of 3 parameters (w1, w2, b)``: how many, and up to three labels."""
    names = [p.label for p in leaves if getattr(p, "label", "")]
    named = f" ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})" if names else ""
    return f"the .grad of {len(leaves)} parameter{'s' if len(leaves) > 1 else ''}{named}"


def _hand_update_message(stale: list[Any]) -> str:
    return (f"backward() after changing parameters by hand (p.data += ...) without zeroing "
            f"their gradients: {describe_leaves(stale)} still holds the last backward's "
            f"gradient, which the update already used; this backward will add to it "
            f"(gradients accumulate in .grad), so the next update would use the sum of both. "
            f"Zero the gradients before each backward: `for p in model.parameters(): "
            f"p.grad = 0.0` (a Tensor: p.grad = None), or model.zero_grad() / "
            f"optimizer.zero_grad(). (Several backwards before one update, with no change in "
            f"between, accumulate on purpose and are not warned about.) Silence with "
            f"autograd_core.set_guards(False).")


def _same_data(now: Any, then: Any) -> bool:
    """True when a leaf's data ``now`` equals the remembered ``then`` (NaN equals NaN)."""
    if isinstance(then, np.ndarray):
        return isinstance(now, np.ndarray) and now.shape == then.shape and \
            bool(np.array_equal(now, then, equal_nan=True))
    return now == then or (now != now and then != then)


class _HandUpdateGuard:
    """The backward pass's arm of the zero_grad guard (see the module docstring): the leaves
    of the last unobserved pass with their data after it."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last: list[tuple[Any, Any]] = []

    def check(self, order: list[Any]) -> None:
        """Before a pass moves any gradient: warn if a leaf of the last pass, reached again by
        this one, keeps a nonzero gradient but not the data it had then."""
        stale = []
        for leaf, then in self.last:
            g = leaf.grad
            if g is None or (g.__class__ is float and g == 0.0):
                continue                        # zeroed (the usual case): nothing to add to
            if not _same_data(leaf.data, then) and not is_zero(g):
                stale.append(leaf)
        if not stale:
            return
        in_pass = {id(node) for node in order}
        stale = [leaf for leaf in stale if id(leaf) in in_pass]
        if stale:
            warn_once(STALE_GRAD, _hand_update_message(stale))
            if STALE_GRAD in _warned:
                _watch_hand_updates(False)      # warned once (or by the optimizer's arm): done

    def record(self, leaves: list[Any]) -> None:
        """After a pass: remember its leaves and their data (a copy of a Tensor's array)."""
        self.last = [(leaf, leaf.data.copy() if leaf.data.__class__ is np.ndarray else leaf.data)
                     for leaf in leaves]


_hand_updates = _HandUpdateGuard()


def _watch_hand_updates(on: bool) -> None:
    """Install the hand-update arm in the backward pass, or remove it (forgetting its pass)."""
    _hand_updates.last = []
    graph.leaf_guard = _hand_updates if on else None


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


_watch_hand_updates(True)
