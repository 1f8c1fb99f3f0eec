"""The zero_grad guard: a backward after ``optimizer.step()``, or after parameters were changed by
hand (``p.data -= lr * p.grad``), that would add to the gradient the update already used warns
once, naming the fix; correct loops and deliberate accumulation never warn."""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pytest

import nn
from autograd_core import MisconceptionWarning, Tensor, Value, backward, set_guards
from autograd_core import graph
from autograd_core.graph import pre_pass_checks

X = [[2.0, 3.0], [1.0, -1.0], [0.5, 1.0], [-1.0, 0.5]]
Y = [1.0, -1.0, -1.0, 1.0]


def scalar_setup() -> tuple[nn.Module, Any, Callable[[], Value]]:
    model = nn.MLP(2, [4, 4, 1], seed=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.05)

    def loss() -> Value:
        return sum((model(x) - y) ** 2 for x, y in zip(X, Y))
    return model, opt, loss


def tensor_setup() -> tuple[nn.Module, Any, Callable[[], Tensor]]:
    model = nn.Sequential(nn.Linear(2, 8, seed=0), nn.Tanh(), nn.Linear(8, 1, seed=1))
    opt = nn.optim.Adam(model.parameters(), lr=0.01)
    x, y = Tensor(np.array(X)), Tensor(np.array(Y).reshape(-1, 1))

    def loss() -> Tensor:
        return ((model(x) - y) ** 2).mean()
    return model, opt, loss


SETUPS = pytest.mark.parametrize("setup", [scalar_setup, tensor_setup], ids=["MLP+SGD",
                                                                             "Sequential+Adam"])


def guard_warnings(record: list[warnings.WarningMessage]) -> list[warnings.WarningMessage]:
    return [w for w in record if issubclass(w.category, MisconceptionWarning)]


def train(setup: Callable, steps: int, reset: Callable[[nn.Module, Any], None] | None
          ) -> list[warnings.WarningMessage]:
    """``steps`` of loss / backward / step, calling ``reset`` before each backward; returns the
    guard warnings given."""
    model, opt, loss = setup()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for _ in range(steps):
            out = loss()
            if reset is not None:
                reset(model, opt)
            out.backward()
            opt.step()
    return guard_warnings(record)


@SETUPS
def test_forgotten_zero_grad_warns_once_at_the_learners_line(setup) -> None:
    found = train(setup, 4, None)
    assert len(found) == 1                          # three stale backwards, one warning
    message = str(found[0].message)
    assert "still holds the gradient used by the last optimizer step" in message
    assert "optimizer.zero_grad()" in message and "set_guards(False)" in message
    assert found[0].filename == __file__           # points at out.backward(), not the library
    assert type(setup()[1]).__name__ + ".step()" in message


def test_the_warning_names_the_parameters() -> None:
    w = Value(1.0, label="w")
    opt = nn.optim.SGD([w], lr=0.1)
    (w * w).backward()
    opt.step()
    with pytest.warns(MisconceptionWarning, match=r"the \.grad of 1 parameter \(w\) still holds"):
        (w * w).backward()


@SETUPS
@pytest.mark.parametrize("reset", [
    lambda model, opt: opt.zero_grad(),
    lambda model, opt: opt.zero_grad(set_to_none=False),
    lambda model, opt: model.zero_grad(),
], ids=["optimizer.zero_grad", "set_to_none=False", "model.zero_grad"])
def test_zero_grad_before_backward_never_warns(setup, reset) -> None:
    assert train(setup, 4, reset) == []


def test_resetting_by_hand_micrograd_style_is_no_false_alarm() -> None:
    model, opt, loss = scalar_setup()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for _ in range(4):
            out = loss()
            for p in model.parameters():
                p.grad = 0.0
            out.backward()
            assert not pre_pass_checks             # the check found nothing stale: disarmed
            opt.step()
    assert guard_warnings(record) == []


@SETUPS
def test_intentional_accumulation_then_step_then_zero_grad_never_warns(setup) -> None:
    model, opt, loss = setup()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for _ in range(3):
            for _ in range(3):                     # three backward passes add up in .grad
                loss().backward()
            opt.step()
            opt.zero_grad()
    assert guard_warnings(record) == []


@SETUPS
def test_silenced_by_set_guards_false(setup) -> None:
    set_guards(False)
    assert train(setup, 4, None) == []
    assert not pre_pass_checks


def test_standard_warning_filters_silence_it_too() -> None:
    model, opt, loss = scalar_setup()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", MisconceptionWarning)
        for _ in range(3):
            loss().backward()
            opt.step()
    assert guard_warnings(record) == []


def test_only_the_first_pass_after_a_step_is_checked() -> None:
    model, opt, loss = scalar_setup()
    loss().backward()
    opt.step()
    assert pre_pass_checks                         # armed by the step
    with warnings.catch_warnings():
        warnings.simplefilter("error", MisconceptionWarning)
        (Value(2.0) * Value(3.0, requires_grad=True)).backward()   # unrelated to the model
        assert not pre_pass_checks                 # checked, nothing stale in it: disarmed
        loss().backward()                          # a forgotten optimizer costs nothing later
    opt.step()
    with pytest.warns(MisconceptionWarning, match="zero_grad"):
        loss().backward()                          # the first pass after this step adds


def test_a_refused_backward_does_not_warn() -> None:
    layer = nn.Linear(2, 1, seed=0)
    loss = layer(Tensor(np.ones((1, 2)))).sum()
    opt = nn.optim.SGD(layer.parameters(), lr=0.1)
    loss.backward(retain_graph=True)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error", MisconceptionWarning)
        with pytest.raises(RuntimeError, match="modified in place"):
            loss.backward()                        # the graph predates the step: refused


def test_warning_as_error_stops_the_pass_before_it_adds_anything() -> None:
    w = Value(1.5)
    opt = nn.optim.SGD([w], lr=0.1)
    (w * w).backward()
    opt.step()
    stale = w.grad
    with warnings.catch_warnings():
        warnings.simplefilter("error", MisconceptionWarning)
        with pytest.raises(MisconceptionWarning):
            (w * w).backward()
    assert w.grad == stale


def test_fit_leaves_its_last_gradient_and_a_later_backward_is_warned() -> None:
    X_, y_ = np.array(X), np.array([0, 1, 1, 0])
    model = nn.Sequential(nn.Linear(2, 4, seed=0), nn.ReLU(), nn.Linear(4, 2, seed=1))
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MisconceptionWarning)
        nn.fit(model, nn.losses.cross_entropy, opt, (X_, y_), epochs=3, batch_size=2,
               progress=False, seed=0)             # fit zeroes before each step: no warning
    with pytest.warns(MisconceptionWarning):
        nn.losses.cross_entropy(model(Tensor(X_)), y_).backward()


# -- the arm in the backward pass: parameters changed by hand (micrograd's loop) ------------------
def hand_loop(setup: Callable, steps: int, zero: bool, lr: float = 0.05
              ) -> list[warnings.WarningMessage]:
    """micrograd's loop: loss, (reset), backward, ``p.data -= lr * p.grad`` by hand (in place
    for a Tensor's array); returns the guard warnings given."""
    model, _, loss = setup()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for _ in range(steps):
            out = loss()
            if zero:
                for p in model.parameters():
                    p.grad = 0.0 if isinstance(p, Value) else None
            out.backward()
            for p in model.parameters():
                p.data -= lr * p.grad
    return guard_warnings(record)


@SETUPS
def test_a_hand_written_loop_that_forgets_to_zero_warns_once_and_names_the_fix(setup) -> None:
    found = hand_loop(setup, 4, zero=False)
    assert len(found) == 1                                 # three stale backwards, one warning
    message = str(found[0].message)
    assert "changing parameters by hand (p.data += ...) without zeroing" in message
    assert "p.grad = 0.0" in message and "zero_grad()" in message
    assert "set_guards(False)" in message
    assert found[0].filename == __file__                   # points at out.backward()


@SETUPS
def test_a_hand_written_loop_that_zeroes_never_warns(setup) -> None:
    assert hand_loop(setup, 4, zero=True) == []


def test_the_warning_names_the_parameters_changed_by_hand() -> None:
    w, b = Value(1.0, label="w"), Value(0.5, label="b")
    (w * b).backward()
    w.data -= 0.1 * w.grad                                 # b is not changed: not named
    with pytest.warns(MisconceptionWarning, match=r"the \.grad of 1 parameter \(w\) still holds"):
        (w * b).backward()


@SETUPS
def test_accumulating_on_purpose_never_warns(setup) -> None:
    model, _, loss = setup()
    with warnings.catch_warnings():
        warnings.simplefilter("error", MisconceptionWarning)
        for _ in range(3):
            loss().backward()                              # two passes, no change between them
            loss().backward()
            for p in model.parameters():
                p.data -= 0.01 * p.grad
            for p in model.parameters():
                p.grad = 0.0 if isinstance(p, Value) else None


@SETUPS
def test_zeroing_then_changing_the_data_never_warns(setup) -> None:
    model, _, loss = setup()
    with warnings.catch_warnings():
        warnings.simplefilter("error", MisconceptionWarning)
        for _ in range(3):
            loss().backward()
            grads = [p.grad for p in model.parameters()]
            for p in model.parameters():
                p.grad = 0.0 if isinstance(p, Value) else None
            for p, g in zip(model.parameters(), grads):
                p.data -= 0.01 * g                         # after the reset: nothing stale


def test_data_put_back_exactly_is_no_change() -> None:
    """A finite-difference check by hand moves a parameter and puts it back."""
    w = Value(1.5)
    (w * w).backward()
    original = w.data
    w.data = original + 1e-6
    w.data = original
    with warnings.catch_warnings():
        warnings.simplefilter("error", MisconceptionWarning)
        (w * w).backward()                                 # accumulating on purpose
    assert w.grad == 6.0


def test_only_the_last_pass_is_remembered() -> None:
    model, _, loss = scalar_setup()
    loss().backward()
    for p in model.parameters():
        p.data -= 0.01 * p.grad
    with warnings.catch_warnings():
        warnings.simplefilter("error", MisconceptionWarning)
        (Value(2.0) * Value(3.0)).backward()               # the pass remembered now
        loss().backward()                                  # compared with that one: silent


def test_a_pass_with_an_observer_neither_checks_nor_counts() -> None:
    """What a trace (viz.trace_backward) runs: it must not warn, nor become the pass the next
    backward is compared with."""
    w = Value(1.0, label="w")
    (w * w).backward()                                     # remembered: w = 1, w.grad = 2
    w.data -= 0.1 * w.grad
    with warnings.catch_warnings():
        warnings.simplefilter("error", MisconceptionWarning)
        backward(w * w, observer=lambda edge: None)        # observed: no check, no record
    with pytest.warns(MisconceptionWarning, match=r"\(w\) still holds"):
        (w * w).backward()                                 # still compared with the first pass


def test_a_warning_as_error_stops_the_hand_loop_pass_before_it_adds_anything() -> None:
    w = Value(1.5)
    y = w * w
    y.backward()
    w.data -= 0.1 * w.grad
    y2 = w * w
    with warnings.catch_warnings():
        warnings.simplefilter("error", MisconceptionWarning)
        with pytest.raises(MisconceptionWarning):
            y2.backward()
    assert w.grad == 3.0 and y2.grad == 0.0                # nothing moved


def test_one_warning_for_the_optimizer_and_the_hand_loop() -> None:
    model, opt, loss = scalar_setup()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for _ in range(3):
            loss().backward()
            opt.step()                                     # the optimizer's arm speaks first
        for _ in range(3):
            loss().backward()
            for p in model.parameters():
                p.data -= 0.01 * p.grad
    found = guard_warnings(record)
    assert len(found) == 1 and "SGD.step()" in str(found[0].message)


@SETUPS
def test_hand_loop_silenced_by_set_guards_false(setup) -> None:
    set_guards(False)
    assert graph.leaf_guard is None                        # the pass pays one test
    assert hand_loop(setup, 4, zero=False) == []
    set_guards(True)
    assert graph.leaf_guard is not None


def test_once_warned_the_pass_stops_watching() -> None:
    w = Value(1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            (w * w).backward()
            w.data -= 0.1 * w.grad
    assert graph.leaf_guard is None
