"""The engine core: one observable backward loop, the Op record as the only source (callable,
parameters on every path, graph math that resolves any op by name), second derivatives
through every op against HIPS autograd, thread-safe accumulation, and gradients that alias
nothing."""
from __future__ import annotations

import sys
import threading

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from autograd_core import (ALL_OPS, Dual, Edge, Op, Tensor, Value, backward, hessian, maximum,
                           minimum, no_grad, set_grad_enabled)
from autograd_core.ops import MUL, TANH

from .op_cases import CASES


# -- the observer ------------------------------------------------------------------------------
def test_observer_sees_every_chain_rule_step_as_it_happens() -> None:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(1.0, label="b")
    n = x * w
    o = n + b
    edges: list[Edge] = []
    backward(o, observer=edges.append)
    # reverse topological order: o's two operands first, then n's two
    assert [(e.node, e.parent) for e in edges] == [(o, n), (o, b), (n, x), (n, w)]
    first, _, to_x, to_w = edges
    assert first.upstream == 1.0 and first.local == 1.0 and first.contribution == 1.0
    assert first.before is None and first.after == 1.0          # intermediate: starts from nothing
    assert to_x.upstream == 1.0 and to_x.local == -3.0 and to_x.contribution == -3.0
    assert to_x.before == 0.0 and to_x.after == -3.0            # a leaf: from its own 0
    assert to_w.local == 2.0 and to_w.after == 2.0
    assert (x.grad, w.grad, b.grad) == (-3.0, 2.0, 1.0)        # the pass itself, not a copy of it


def test_observer_reports_accumulation_across_paths_and_passes() -> None:
    x = Value(3.0, label="x")
    y = x * x                                                   # two paths into x
    y.backward()
    edges: list[Edge] = []
    backward(y, observer=edges.append)
    assert [e.before for e in edges] == [6.0, 9.0]              # 6 from the first pass, then +3
    assert [e.after for e in edges] == [9.0, 12.0]
    assert x.grad == 12.0


def test_observer_on_tensor_gives_local_arrays_and_vjps() -> None:
    W = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True, label="W")
    v = Tensor(np.array([[1.0], [-1.0]]), requires_grad=True, label="v")
    out = (W @ v).tanh().sum()
    edges: list[Edge] = []
    backward(out, observer=edges.append)
    ops = [e.node.op.name for e in edges]
    assert ops == ["sum", "tanh", "matmul", "matmul"]
    assert edges[0].local is None                               # sum: a vector-Jacobian product
    z = W.data @ v.data
    np.testing.assert_allclose(edges[1].local, 1 - np.tanh(z) ** 2)   # elementwise: the array
    assert edges[2].local is None and edges[2].position == 0 and edges[3].position == 1
    np.testing.assert_allclose(W.grad, (1 - np.tanh(z) ** 2) @ v.data.T)


def test_anomaly_detection_is_an_observer_of_the_same_loop() -> None:
    from autograd_core import AnomalyError, detect_anomaly

    x = Value(-1.0, label="x")
    y = x.sqrt()
    with detect_anomaly(), pytest.raises(AnomalyError, match="sqrt"):
        (y * 0.0).backward()


# -- the Op record: callable, with parameters on every path ------------------------------------
SCALED_MUL = Op("scaled_mul", inputs="a b", params="k",
                forward=lambda m, a, b, k: k * a * b,
                derivatives=(lambda m, out, a, b, k: k * b, lambda m, out, a, b, k: k * a),
                text="$k * $a * $b", latex=r"$k \, $a \, $b",
                derivative_text=("$k * $b", "$k * $a"), derivative_latex=("$k $b", "$k $a"))


def test_op_is_applied_by_calling_it() -> None:
    x, w = Value(2.0), Value(-3.0)
    z = MUL(x, w)
    assert isinstance(z, Value) and z.data == -6.0 and z.op is MUL and z.parents == (x, w)
    assert isinstance(TANH(Tensor([0.0, 1.0])), Tensor)
    assert isinstance(MUL(Dual(2.0, 1.0), 3.0), Dual)
    with pytest.raises(TypeError, match="takes 2 operand"):
        MUL(x)
    with pytest.raises(TypeError, match="needs a Value, Tensor or Dual"):
        MUL(2.0, 3.0)


@pytest.mark.parametrize("make", [Value, lambda v: Tensor(np.array([v, 2 * v]), requires_grad=True)])
def test_binary_op_with_a_parameter_on_value_and_tensor(make) -> None:
    a, b = make(1.5), make(-2.0)
    out = SCALED_MUL(a, b, k=3.0)
    assert out.params == {"k": 3.0}
    np.testing.assert_allclose(out.data, 3.0 * np.asarray(a.data) * np.asarray(b.data))
    total = out if isinstance(out, Value) else out.sum()
    total.backward()
    np.testing.assert_allclose(a.grad, 3.0 * np.asarray(b.data))   # ∂(k a b)/∂a = k b
    np.testing.assert_allclose(b.grad, 3.0 * np.asarray(a.data))
    with pytest.raises(TypeError, match="missing: k"):
        SCALED_MUL(a, b)
    with pytest.raises(TypeError, match="unknown: q"):
        SCALED_MUL(a, b, k=1.0, q=2.0)


def test_binary_op_with_a_parameter_on_dual_and_second_order() -> None:
    y = SCALED_MUL(Dual(1.5, 1.0), Dual(-2.0, 0.0), k=3.0)
    assert (y.primal, y.tangent) == (-9.0, -6.0)                # ∂/∂a = k b = -6
    # d²/da² of (k a b)² = 2 k² b² = 72 at b = -2, through create_graph
    h = hessian(lambda a: SCALED_MUL(a, Value(-2.0), k=3.0) ** 2)(1.5)
    assert float(h) == pytest.approx(72.0)


def test_graph_math_resolves_any_op_a_rule_calls() -> None:
    """A user op whose derivative calls m.tanh: first and second order, no list to edit."""
    log_cosh = Op("log_cosh", forward=lambda m, a: m.log((m.exp(a) + m.exp(-a)) / 2.0),
                  derivatives=(lambda m, out, a: m.tanh(a),),
                  text="ln(cosh($a))", latex=r"\ln\cosh $a",
                  derivative_text=("tanh($a)",), derivative_latex=(r"\tanh $a",))
    x = Value(0.7)
    log_cosh(x).backward()
    assert x.grad == pytest.approx(np.tanh(0.7))
    assert float(hessian(lambda v: log_cosh(v))(0.7)) == pytest.approx(1 - np.tanh(0.7) ** 2)
    t = hessian(lambda v: log_cosh(v).sum())(np.array([0.2, -1.0]))
    np.testing.assert_allclose(t, np.diag(1 - np.tanh([0.2, -1.0]) ** 2))


def test_every_op_of_the_tables_has_a_case() -> None:
    assert sorted(op.name for op in ALL_OPS) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_first_and_second_derivatives_of_every_op_match_autograd(name: str) -> None:
    """L = Σ c ⊙ tanh(op(inputs)): its gradient and, through create_graph, its Hessian in the
    first input, against HIPS autograd."""
    engine, oracle, inputs = CASES[name]
    c = np.linspace(0.5, 1.5, np.size(oracle(*inputs))).reshape(np.shape(oracle(*inputs)))

    def ours(x: Tensor) -> Tensor:
        rest = [Tensor(v) for v in inputs[1:]]
        return (engine(x, *rest).tanh() * c).sum()

    def theirs(x: np.ndarray) -> np.ndarray:
        return anp.sum(anp.tanh(oracle(x, *inputs[1:])) * c)

    x = Tensor(inputs[0], requires_grad=True)
    ours(x).backward()
    np.testing.assert_allclose(x.grad, autograd.grad(theirs)(inputs[0]), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(hessian(ours)(inputs[0]), autograd.hessian(theirs)(inputs[0]),
                               rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("name", sorted(n for n in CASES if len(CASES[n][2]) == 2))
def test_second_operand_derivatives_match_autograd(name: str) -> None:
    engine, oracle, (a, b) = CASES[name]
    theirs = lambda y: anp.sum(anp.tanh(oracle(a, y)))  # noqa: E731
    y = Tensor(b, requires_grad=True)
    engine(Tensor(a), y).tanh().sum().backward()
    np.testing.assert_allclose(y.grad, autograd.grad(theirs)(b), rtol=1e-9, atol=1e-12)


VALUE_PARAMS = {"leaky_relu": {"slope": 0.1}, "clip": {"low": -0.5, "high": 1.0},
                "where": {"condition": False}}


@pytest.mark.parametrize("op", [op for op in ALL_OPS if op.elementwise and op.name != "expand"],
                         ids=lambda op: op.name)
@pytest.mark.filterwarnings("ignore:Output seems independent of input")   # step, sign: f' = 0
def test_every_elementwise_op_second_derivative_on_value(op: Op) -> None:
    """d²/dx² tanh(op(x, y)) on Values (create_graph) against HIPS autograd."""
    _, oracle, inputs = CASES[op.name]
    x0, rest = float(inputs[0].flat[1]), [float(v.flat[1]) for v in inputs[1:]]
    params = VALUE_PARAMS.get(op.name, {})
    oracle = {"where": lambda a, b: anp.where(False, a, b), "sign": anp.sign,
              "step": lambda a: (a > 0) * 1.0}.get(op.name, oracle)

    def ours(x: Value) -> Value:
        return op(x, *[Value(v) for v in rest], **params).tanh()

    def theirs(x: float) -> float:
        return anp.tanh(oracle(x, *rest))

    want = float(autograd.grad(autograd.grad(theirs))(x0))
    assert float(hessian(ours)(x0)) == pytest.approx(want, rel=1e-7, abs=1e-10)


# -- reliability of the loop ---------------------------------------------------------------------
def _run_threads(work, count: int) -> None:
    """Run ``work`` in ``count`` threads at once, switching between them as often as the
    interpreter allows (so an unprotected read-modify-write of a gradient would lose updates)."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work) for _ in range(count)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        sys.setswitchinterval(interval)


def test_concurrent_backward_into_a_shared_leaf_loses_nothing() -> None:
    """The issue's reproducers: without one pass at a time, these lose about 5% of the
    Value updates and about half of the Tensor ones."""
    w = Value(1.5)

    def scalar_work() -> None:
        for _ in range(5000):
            (w * 2.0).backward()

    _run_threads(scalar_work, 4)
    assert w.grad == 4 * 5000 * 2.0
    t = Tensor(np.ones(200_000), requires_grad=True)

    def tensor_work() -> None:
        for _ in range(100):
            (t * 2.0).sum().backward()

    _run_threads(tensor_work, 3)
    np.testing.assert_array_equal(t.grad, np.full(200_000, 3 * 100 * 2.0))


def test_separate_graphs_in_separate_threads_still_work() -> None:
    results: dict[int, float] = {}

    def work(i: int) -> None:
        x = Value(float(i))
        for _ in range(200):
            x.zero_grad()
            (x * x).backward()
        results[i] = x.grad

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == {i: 2.0 * i for i in range(4)}


def test_gradients_alias_nothing() -> None:
    g = np.array([1.0, 2.0])
    x = Tensor([3.0, 4.0], requires_grad=True)
    x.backward(g)
    assert x.grad is not g
    x.grad += 1
    np.testing.assert_array_equal(g, [1.0, 2.0])                # the caller's array is untouched
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([1.0, 2.0], requires_grad=True)
    s = (a + b)
    s.retain_grad()
    s.sum().backward()
    assert a.grad is not b.grad and a.grad is not s.grad
    a.grad *= 10
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    np.testing.assert_array_equal(s.grad, [1.0, 1.0])
    assert a.grad.flags.writeable and a.grad.base is None


@pytest.mark.parametrize("bad", [np.array([1, None], dtype=object), np.array([1 + 2j, 1j])])
def test_non_real_gradients_are_refused_by_name(bad: np.ndarray) -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=str(bad.dtype)):
        (x * 2).backward(bad)
    assert x.grad is None                                       # nothing half-done


def test_float32_gradients_stay_float32() -> None:
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    (x * np.float64(2.0) + Tensor(np.zeros(3))).relu().sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("f", [
    lambda a, b: maximum(a, b), lambda a, b: minimum(a, b), lambda a, b: maximum(a, a),
    lambda a, b: a.leaky_relu() + b.leaky_relu(),
], ids=["maximum", "minimum", "maximum_tie", "leaky_relu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_d_gradients_keep_the_dtype_and_are_arrays(f, dtype) -> None:
    """0-d arithmetic gives NumPy scalars (float32 · a float64 mask is a float64 scalar):
    the gradients must still be arrays of the tensor's dtype (issue 23, item 7)."""
    a = Tensor(np.array(0.5, dtype=dtype), requires_grad=True)
    b = Tensor(np.array(-0.2, dtype=dtype), requires_grad=True)
    f(a, b).backward()
    for t in (a, b):
        if t.grad is not None:
            assert t.grad.__class__ is np.ndarray and t.grad.dtype == dtype and t.grad.shape == ()


# -- clear errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_value_with_an_unsupported_operand_says_so(op: str) -> None:
    with pytest.raises(TypeError, match="unsupported operand"):
        eval(f"Value(2.0) {op} None")                          # noqa: S307 - fixed strings


def test_a_tensor_op_on_a_value_says_it_needs_a_tensor() -> None:
    # It used to raise AttributeError: module 'autograd_core.scalar_math' has no attribute 'sum'.
    from autograd_core.tensor_ops import MATMUL, SUM
    with pytest.raises(TypeError, match="'sum' is a tensor op.*apply it to a Tensor"):
        SUM(Value(2.0), axis=None, keepdims=False)
    with pytest.raises(TypeError, match="'matmul' is a tensor op"):
        MATMUL(Value(2.0), Value(3.0))
    with pytest.raises(TypeError, match="forward mode on dual numbers needs one"):
        SUM(Dual(2.0), axis=None, keepdims=False)


def test_derivative_formula_of_a_missing_operand_names_the_operands() -> None:
    assert MUL.derivative_formula(1, ["x", "w"]) == "x" and MUL.derivative_formula(-1) == "a"
    with pytest.raises(IndexError, match="'mul' has 2 operand.*position must be 0 or 1, got 2"):
        MUL.derivative_formula(2)
    with pytest.raises(IndexError, match="'tanh' has 1 operand.*must be 0, got 1"):
        TANH.derivative_formula(1, latex=True)


def test_flags_must_be_bools() -> None:
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        Value(1.0, requires_grad="no")
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        Tensor([1.0], requires_grad="no")
    with pytest.raises(TypeError, match="True or False"):
        set_grad_enabled("no")


def test_no_grad_decorates_with_and_without_parentheses() -> None:
    @no_grad
    def bare(v: Value) -> Value:
        return v * 2

    @no_grad()
    def called(v: Value) -> Value:
        return v * 2

    x = Value(1.0)
    assert not bare(x).requires_grad and not called(x).requires_grad
    assert (x * 2).requires_grad


def test_huge_integer_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="too large for a float"):
        Value(10 ** 400)
    # beyond Python's 4300-digit int-to-str limit the message must not be Python's own
    # (issue 23, item 14)
    for huge in (10 ** 5000, -(10 ** 5000)):
        with pytest.raises(ValueError, match=r"an integer of about 5,001 digits is too large "
                                             r"for a float") as info:
            Value(huge)
        assert "set_int_max_str_digits" not in str(info.value)


def test_backward_with_nothing_to_differentiate_raises_for_value_as_for_tensor() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Value(2.0, requires_grad=False) * 3).backward()
    with no_grad():
        y = Value(2.0) * 3
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor([2.0]) * 3).sum().backward()
    x = Value(2.0)
    (x * 3).backward(None)                                      # None seeds 1, as for Tensor
    assert x.grad == 3.0


def test_in_place_edit_after_building_the_graph_is_refused() -> None:
    """As PyTorch's version counter: an optimizer step (or any in-place change marked with
    mark_modified) between forward and backward is an error that explains itself."""
    import nn

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True, label="x")
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()                                               # refused: it would alias
    y = (x * x).sum()
    x.data[...] = 10.0
    x.mark_modified()
    with pytest.raises(RuntimeError, match="modified in place after the graph was built"):
        y.backward()
    assert x.grad is None
    (x * x).sum().backward()                                    # a new graph is fine
    np.testing.assert_array_equal(x.grad, [20.0, 20.0])
    layer = nn.Linear(2, 1)
    loss = layer(Tensor(np.ones((1, 2)))).sum()
    opt = nn.optim.SGD(layer.parameters(), lr=0.1)
    loss.backward(retain_graph=True)
    opt.step()                                                  # the optimizer marks its writes
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_create_graph_adds_no_zero_node_for_a_fresh_leaf() -> None:
    """The gradient graph of tanh at a fresh leaf is (1 - tanh²) · 1: no `0 + ...` node."""
    from autograd_core import topological_order

    x = Value(0.5)
    x.tanh().backward(create_graph=True)
    ops = [n.op.name for n in topological_order(x.grad) if n.op is not None]
    assert ops == ["tanh", "mul", "sub", "mul"]
    y = Value(0.5)
    y.tanh().backward(create_graph=True)
    y.tanh().backward(create_graph=True)        # a second pass does add to the first
    assert y.grad.op.name == "add" and y.grad.data == pytest.approx(2 * (1 - np.tanh(0.5) ** 2))


def test_a_value_joins_tensor_arithmetic_as_a_constant_only_outside_a_graph() -> None:
    """Under no_grad a Value is its number in Tensor arithmetic (so a scalar model runs on
    whole columns at once); in grad mode, one graph holds one kind of node."""
    w = Value(2.0)
    with no_grad():
        out = w * Tensor([1.0, 2.0]) + Value(1.0)
    np.testing.assert_array_equal(out.data, [3.0, 5.0])
    assert isinstance(out, Tensor) and not out.requires_grad
    with pytest.raises(TypeError):
        w * Tensor([1.0, 2.0])
    assert isinstance(Value(2.0, requires_grad=False) * Tensor([1.0]), Tensor)
