"""backward(): topological order, reuse, accumulation, depth, higher order, grad modes."""
from __future__ import annotations

import math
import os
import signal
import threading
import time
import warnings

import autograd
import autograd.numpy as anp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_core import Value, detect_anomaly, enable_grad, gradcheck, no_grad
from autograd_core.anomaly import AnomalyError
from autograd_core.graph import topological_order


def test_topological_order_puts_parents_first_and_is_deterministic() -> None:
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for p in node.parents:
            assert position[id(p)] < position[id(node)]
    assert len(order) == 5
    assert [n.label for n in order[:2]] == ["a", "b"]
    assert [id(n) for n in topological_order(e)] == [id(n) for n in order]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.booleans()),
                min_size=1, max_size=40))
def test_topological_order_of_random_graphs(recipe: list[tuple[int, int, bool]]) -> None:
    """Each step combines two earlier nodes (unary when the flag is set); the order must hold
    exactly the nodes the root reaches, every parent before its children, in the post-order
    of a depth-first walk that finishes the first operand before the second (checked against
    a recursive walk written here)."""
    nodes = [Value(1.0), Value(2.0), Value(0.5, requires_grad=False)]
    for i, j, unary in recipe:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        nodes.append(a.tanh() if unary else a * b + 0.0 * b)
    root = nodes[-1]
    reachable, stack = {id(root): root}, [root]            # independent reachability walk
    while stack:
        for parent in stack.pop().parents:
            if id(parent) not in reachable:
                reachable[id(parent)] = parent
                stack.append(parent)
    order = topological_order(root)
    assert sorted(map(id, order)) == sorted(reachable)
    position = {id(n): k for k, n in enumerate(order)}
    assert all(position[id(p)] < position[id(n)] for n in order for p in n.parents)
    expected: list[int] = []
    finished: set[int] = set()

    def walk(node: Value) -> None:
        finished.add(id(node))
        for parent in node.parents:
            if id(parent) not in finished:
                walk(parent)
        expected.append(id(node))

    walk(root)
    assert [id(n) for n in order] == expected


def test_reused_node_square() -> None:
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0


def test_reused_intermediate() -> None:
    a = Value(3.0)
    b = a + a
    c = b * b
    c.backward()
    assert b.grad == 2 * b.data == 12.0
    assert a.grad == 24.0            # dc/da = 2b * 2


def test_leaves_accumulate_and_intermediates_are_fresh() -> None:
    a = Value(2.0)
    b = a * 3.0
    c = b * b
    c.backward()
    assert (a.grad, b.grad) == (36.0, 12.0)
    c.backward()
    assert a.grad == 72.0            # leaf: accumulated like PyTorch
    assert b.grad == 12.0            # intermediate: recomputed from zero
    a.zero_grad()
    c.backward()
    assert a.grad == 36.0


def test_node_off_the_path_keeps_zero_grad() -> None:
    a, b = Value(1.0), Value(2.0)
    unrelated = b * 5
    y = a * 2
    y.backward()
    assert b.grad == 0.0 and unrelated.grad == 0.0 and a.grad == 2.0


def test_seed_gradient_scales_everything() -> None:
    a = Value(2.0)
    (a * a).backward(3.0)
    assert a.grad == 12.0


def test_million_node_chain_at_default_recursion_limit() -> None:
    import sys

    assert sys.getrecursionlimit() <= 1000 or True  # we never change it
    limit = sys.getrecursionlimit()
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + 0.0
    y.backward()
    assert x.grad == 1.0
    del y                             # freeing a million-deep chain must not crash
    assert sys.getrecursionlimit() == limit


def test_second_derivative_of_x_cubed_tanh() -> None:
    f = lambda x: x ** 3 * anp.tanh(x)  # noqa: E731
    for x0 in (-1.2, 0.3, 0.5, 2.0):
        x = Value(x0)
        y = x ** 3 * x.tanh()
        y.backward(create_graph=True)
        first = x.grad
        assert isinstance(first, Value)
        assert first.data == pytest.approx(autograd.grad(f)(x0), rel=1e-12)
        x.zero_grad()
        first.backward()
        assert x.grad == pytest.approx(autograd.grad(autograd.grad(f))(x0), rel=1e-10)


def test_third_derivative_through_repeated_create_graph() -> None:
    f = lambda x: anp.sin(x) * anp.exp(x)  # noqa: E731
    x = Value(0.7)
    y = x.sin() * x.exp()
    y.backward(create_graph=True)
    g1 = x.grad
    x.zero_grad()
    g1.backward(create_graph=True)
    g2 = x.grad
    x.zero_grad()
    g2.backward()
    assert x.grad == pytest.approx(autograd.grad(autograd.grad(autograd.grad(f)))(0.7), rel=1e-9)


def test_mixed_second_derivative() -> None:
    x, y = Value(0.4), Value(-1.3)
    z = (x * y).sigmoid() + x ** 2 * y
    z.backward(create_graph=True)
    dz_dx = x.grad
    x.zero_grad()
    y.zero_grad()
    dz_dx.backward()
    f = lambda a, b: 1 / (1 + anp.exp(-a * b)) + a ** 2 * b  # noqa: E731
    assert y.grad == pytest.approx(autograd.grad(autograd.grad(f, 0), 1)(0.4, -1.3), rel=1e-10)


def test_no_grad_records_nothing_and_restores() -> None:
    x = Value(2.0)
    with no_grad():
        y = x * x
        with enable_grad():
            z = x * x
    assert y.parents == () and y.op is None and not y.requires_grad
    assert z.parents == (x, x)
    w = x * x
    assert w.parents == (x, x)


def test_no_grad_as_decorator() -> None:
    @no_grad()
    def square(v: Value) -> Value:
        return v * v

    out = square(Value(3.0))
    assert out.data == 9.0 and out.parents == ()


def test_no_grad_is_thread_local() -> None:
    seen: list[int] = []
    inside = threading.Event()
    release = threading.Event()

    def worker() -> None:
        with no_grad():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    x = Value(1.0)
    seen.append(len((x * x).parents))   # main thread still records while the other is in no_grad
    release.set()
    t.join()
    assert seen == [2]


def test_detach_makes_a_constant() -> None:
    x = Value(2.0)
    y = (x * 3).detach()
    z = y * x
    z.backward()
    assert y.parents == () and not y.requires_grad and x.grad == 6.0


def test_constants_receive_no_gradient() -> None:
    x = Value(2.0)
    y = x * 3
    y.backward()
    const = y.parents[1]
    assert not const.requires_grad and const.grad == 0.0


def test_gradcheck_passes_and_reports_mismatch() -> None:
    from autograd_core.op import Op
    from autograd_core.value import _apply

    assert gradcheck(lambda a, b: (a * b + a.exp()).tanh(), Value(0.3), Value(-0.8))
    wrong = Op("square_with_wrong_derivative", forward=lambda m, a: a * a,
               derivatives=(lambda m, out, a: a,),       # should be 2a
               text="$a^2", latex="$a^2", derivative_text=("$a",), derivative_latex=("$a",))
    x = Value(1.5, label="x")
    with pytest.raises(AssertionError, match=r"for x: backward gives 1\.5, finite differences give 2\.99"):
        gradcheck(lambda v: _apply(wrong, v), x)
    assert x.data == 1.5 and x.grad == 0.0       # inputs restored


def test_gradcheck_rejects_non_scalar_and_non_nodes() -> None:
    with pytest.raises(TypeError, match="input 0"):
        gradcheck(lambda v: v, 1.0)
    with pytest.raises(ValueError):
        gradcheck(lambda: None)


def test_detect_anomaly_forward_names_op_and_label() -> None:
    x = Value(-1.0, label="x")
    with detect_anomaly():
        with pytest.raises(AnomalyError, match=r"forward.*'sqrt'.*'x'"):
            x.sqrt()
    assert math.isnan(x.sqrt().data)        # outside the block: plain IEEE result


def test_detect_anomaly_backward_names_op() -> None:
    x = Value(0.0, label="x")
    y = x.sqrt()
    y.label = "root"
    z = y * 0.0
    with detect_anomaly():
        with pytest.raises(AnomalyError, match=r"backward.*'sqrt'.*'root'.*'x'"):
            z.backward()


def test_the_engine_docstring_examples_hold() -> None:
    """The examples in graph.py and value.py docstrings are run, so they cannot drift."""
    import doctest

    import autograd_core.graph
    import autograd_core.value

    for module in (autograd_core.graph, autograd_core.value):
        result = doctest.testmod(module, extraglobs={"Value": Value,
                                                     "topological_order": topological_order})
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_observe_backward_records_one_pass_from_zero_and_changes_nothing():
    """The view's pass: the edges and totals of one backward from zero, whatever .grad held,
    and afterwards every .grad is the very object it was (values, tensors, intermediates)."""
    import numpy as np

    from autograd_core import Tensor, observe_backward, topological_order

    x = Value(2.0, label="x")
    y = x * x + x                                # dy/dx = 2x + 1 = 5
    y.backward()
    y.backward()                                 # x.grad = 10: two passes
    before = [(n, n.grad) for n in topological_order(y)]
    edges, totals = observe_backward(y)
    assert all(n.grad is g for n, g in before)
    assert totals[x] == 5.0 and totals[y] == 1.0
    assert sum(e.contribution for e in edges if e.parent is x) == 5.0
    assert [e.before for e in edges if e.parent is x][0] is None     # x started from nothing

    W = Tensor(np.array([[1.0, -2.0]]), requires_grad=True)
    loss = (W * W).sum()
    loss.backward(retain_graph=True)
    kept = W.grad
    _, totals = observe_backward(loss)
    assert W.grad is kept and np.array_equal(totals[W], 2 * W.data)


# -- one node at a time: backward_step (micrograd's _backward) ------------------------------------
def test_backward_step_in_reverse_order_gives_what_backward_gives_on_values() -> None:
    def graph() -> tuple[Value, list[Value]]:
        x, y = Value(0.7), Value(-1.3)
        z = (x * y + x.exp()) / (y ** 2 + 1) - (x - y).tanh() + x * x
        return z, [x, y]

    z, leaves = graph()
    z.grad = 1.0
    for node in reversed(topological_order(z)):
        node.backward_step()
    z2, leaves2 = graph()
    z2.backward()
    f = lambda x, y: ((x * y + anp.exp(x)) / (y ** 2 + 1) - anp.tanh(x - y) + x * x)  # noqa: E731
    for i, (stepped, passed) in enumerate(zip(leaves, leaves2)):
        assert stepped.grad == pytest.approx(passed.grad, rel=1e-14)
        assert stepped.grad == pytest.approx(autograd.grad(f, i)(0.7, -1.3), rel=1e-12)


def test_backward_step_on_tensors_with_broadcasting_and_an_observer() -> None:
    import numpy as np

    from autograd_core import Tensor
    from autograd_core.graph import backward_step

    rng = np.random.default_rng(0)
    W0, b0, X0 = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(4, 3))

    def graph() -> tuple[Tensor, list[Tensor]]:
        W, b = Tensor(W0, requires_grad=True), Tensor(b0, requires_grad=True)
        out = ((Tensor(X0) @ W + b).tanh() ** 2).sum()
        return out, [W, b]

    out, (W, b) = graph()
    out.grad = np.ones(())
    edges = []
    for node in reversed(topological_order(out)):
        backward_step(node, observer=edges.append)
    out2, (W2, b2) = graph()
    out2.backward()
    np.testing.assert_allclose(W.grad, W2.grad, rtol=1e-13)
    np.testing.assert_allclose(b.grad, b2.grad, rtol=1e-13)
    f = lambda W, b: anp.sum(anp.tanh(X0 @ W + b) ** 2)  # noqa: E731
    np.testing.assert_allclose(b.grad, autograd.grad(f, 1)(W0, b0), rtol=1e-12)
    assert {e.parent for e in edges} >= {W, b} and all(e.before is None or e.after is not None
                                                       for e in edges)


def test_backward_step_at_a_leaf_or_an_unreached_tensor_does_nothing() -> None:
    import numpy as np

    from autograd_core import Tensor

    x = Value(2.0)
    x.grad = 5.0
    x._backward()
    assert x.grad == 5.0
    t = Tensor(np.ones(2), requires_grad=True)
    y = (t * 3).sum()
    y._backward()                                          # y.grad is None: nothing reached it
    assert t.grad is None


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX only")
def test_forked_child_can_backward_while_parent_thread_holds_the_pass_lock() -> None:
    """A child forked while another thread is inside backward() (holding the one-pass lock)
    gets a fresh lock: its own backward runs instead of waiting forever (issue 23, item 1)."""
    from autograd_core import graph

    holding, release = threading.Event(), threading.Event()

    def inside_backward() -> None:
        with graph._one_pass_at_a_time:            # as a thread mid-pass holds it
            holding.set()
            release.wait(30)

    t = threading.Thread(target=inside_backward)
    t.start()
    try:
        assert holding.wait(10)
        with warnings.catch_warnings():            # Python 3.12 warns about fork with threads
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:                               # the child: one backward, then report
            code = 1
            try:
                x = Value(3.0)
                (x * x).backward()
                code = 0 if x.grad == 6.0 else 3
            finally:
                os._exit(code)
        deadline = time.monotonic() + 10           # a bound, so a regression fails, not hangs
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail("the forked child deadlocked in backward()")
            time.sleep(0.02)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    finally:
        release.set()
        t.join(10)
