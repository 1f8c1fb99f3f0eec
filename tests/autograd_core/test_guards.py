"""The misconception-guard mechanism: the switch, warn-once, and the pre-pass checks that
backward runs once per pass (the zero_grad guard itself is tested in tests/nn)."""
from __future__ import annotations

import warnings

import pytest

import autograd_core
from autograd_core import MisconceptionWarning, Value, guards, guards_enabled, set_guards
from autograd_core.graph import pre_pass_checks


def test_public_names() -> None:
    for name in ("MisconceptionWarning", "set_guards", "guards_enabled", "guards"):
        assert name in autograd_core.__all__
    assert issubclass(MisconceptionWarning, UserWarning)
    assert guards_enabled()                       # on by default


def test_set_guards_takes_a_bool() -> None:
    with pytest.raises(TypeError, match="True or False"):
        set_guards("off")                          # type: ignore[arg-type]
    set_guards(False)
    assert not guards_enabled()
    set_guards(True)
    assert guards_enabled()


def test_warn_once_per_kind_points_at_the_caller_and_resets() -> None:
    with pytest.warns(MisconceptionWarning, match="first") as record:
        assert guards.warn_once("kind-a", "first")
        assert not guards.warn_once("kind-a", "again")    # same kind: silent
    assert len(record) == 1 and record[0].filename == __file__
    with pytest.warns(MisconceptionWarning, match="other kind"):
        guards.warn_once("kind-b", "other kind")
    guards.reset()
    with pytest.warns(MisconceptionWarning):
        guards.warn_once("kind-a", "first")


def test_warn_once_is_silent_and_forgets_nothing_when_guards_are_off() -> None:
    set_guards(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not guards.warn_once("kind-a", "nope")
    assert not guards.has_warned("kind-a")
    set_guards(True)
    with pytest.warns(MisconceptionWarning):
        guards.warn_once("kind-a", "now")


def test_an_armed_check_runs_once_per_pass_before_any_gradient_moves() -> None:
    x = Value(2.0)
    y = x * x + x
    seen = []

    def check(root, order):
        seen.append((root, list(order), x.grad))

    guards.arm(check)
    guards.arm(check)                              # arming twice runs it once
    y.backward()
    y.backward()
    assert [(r, g) for r, _, g in seen] == [(y, 0.0), (y, 5.0)]   # before each pass's gradients
    assert seen[0][1] == autograd_core.topological_order(y)
    guards.disarm(check)
    guards.disarm(check)                           # disarming twice is fine
    y.backward()
    assert len(seen) == 2 and not pre_pass_checks


def test_guards_off_arms_nothing_and_disarms_everything() -> None:
    calls = []
    guards.arm(lambda root, order: calls.append(root))
    set_guards(False)
    assert not pre_pass_checks
    guards.arm(lambda root, order: calls.append(root))
    (Value(1.0) * 2).backward()
    assert calls == [] and not pre_pass_checks


def test_a_check_that_raises_stops_the_pass_before_any_gradient_moves() -> None:
    x = Value(3.0)
    y = x * 2

    def refuse(root, order):
        raise RuntimeError("refused")

    guards.arm(refuse)
    with pytest.raises(RuntimeError, match="refused"):
        y.backward()
    assert x.grad == 0.0 and y.grad == 0.0
    guards.disarm(refuse)
    y.backward()
    assert x.grad == 2.0


def test_the_hand_update_arm_is_installed_with_the_guards_and_gone_once_warned() -> None:
    from autograd_core import graph

    assert graph.leaf_guard is not None                    # on by default
    set_guards(False)
    assert graph.leaf_guard is None                        # off: the pass tests one attribute
    set_guards(True)
    assert graph.leaf_guard is not None
    w = Value(1.0)
    (w * w).backward()
    w.data -= 0.1 * w.grad
    with pytest.warns(MisconceptionWarning, match="by hand"):
        (w * w).backward()
    assert graph.leaf_guard is None and guards.has_warned(guards.STALE_GRAD)
    set_guards(True)
    assert graph.leaf_guard is None                        # once per process, as every guard
    guards.reset()
    assert graph.leaf_guard is not None
