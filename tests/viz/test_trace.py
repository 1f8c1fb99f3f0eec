"""trace_backward / trace_forward: exact engine grads, the views, dual-number tangents."""
from __future__ import annotations


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import viz
from autograd_core import Value

from .helpers import neuron, neuron_grads_by_hand


def build_reused():
    """a*a, b = a + a, c = b*b, plus a chain through tanh and a constant."""
    a = Value(1.5, label="a")
    b = a + a
    c = b * b
    d = (a * a).tanh() + c * 0.5 - a / 3.0
    d.label = "d"
    return d


def grads(root):
    from autograd_core.graph import topological_order
    return [n.grad for n in topological_order(root)]


def snapshot(root):
    """Every node's grad and data, to check that a view changed nothing."""
    from autograd_core.graph import topological_order
    return [(n.grad, n.data, n.requires_grad) for n in topological_order(root)]


@pytest.mark.parametrize("build", [lambda: neuron()[0], build_reused])
def test_trace_shows_one_backward_and_changes_nothing(build):
    r1, r2 = build(), build()
    r1.backward()
    before = snapshot(r2)
    t = viz.trace_backward(r2)
    assert snapshot(r2) == before                       # looking never changes the numbers
    from autograd_core.graph import topological_order
    fresh = {i: n.grad for i, n in enumerate(topological_order(r1))}
    assert [t.grads.get(n, 0.0) for n in topological_order(r2)] == list(fresh.values())


def test_reused_nodes_and_running_sum():
    a = Value(3.0, label="a")
    b = a + a
    b.label = "b"
    c = b * b
    c.label = "c"
    t = viz.trace_backward(c)
    assert a.grad == 0.0 and b.grad == 0.0            # the trace left them as they were
    assert t.grads[a] == 24.0 and t.grads[b] == 12.0  # dc/da = 2b * 2 = 24
    step_c = t.steps[1]
    assert [x.parent_name for x in step_c.contributions] == ["b", "b"]
    first, second = step_c.contributions
    assert not first.complete and second.complete and second.paths == 2
    assert second.accumulated and second.before == 6.0 and second.after == 12.0
    text = t.to_text()
    assert "b.grad = 6   (1 of its 2 contributions so far)" in text
    assert "b.grad = 6 + 6 = 12 = ∂c/∂b   (complete: the sum of its 2 contributions)" in text
    assert "∂(b * b)/∂(1st operand) = b = 6" in text and "∂(b * b)/∂(2nd operand) = b = 6" in text


def test_one_symbol_one_meaning():
    """z = a*b + a: the local derivatives, the contributions and the total of a are written
    three different ways; the total symbol ∂z/∂a appears once, with the total."""
    a, b = Value(3.0, label="a"), Value(4.0, label="b")
    z = a * b + a
    z.label = "z"
    text = viz.trace_backward(z).to_text()
    assert text.count("∂z/∂a") == 1 and "= 5 = ∂z/∂a" in text
    assert "∂(v1 + a)/∂(2nd operand) = 1" in text and "∂(a * b)/∂(1st operand) = b = 4" in text
    assert "contribution: ∂z/∂v1 · ∂(a * b)/∂(1st operand) = 1 · 4 = 4" in text


def test_trace_after_several_backwards_changes_nothing_and_says_so():
    x1, x2 = Value(2.0, label="x"), Value(2.0, label="x")
    y1, y2 = x1 * x1, x2 * x2
    y1.backward()
    y1.backward()
    y2.backward()
    y2.backward()
    first_text = viz.trace_backward(y2).to_text()
    t = viz.trace_backward(y2)
    assert x2.grad == x1.grad == 8.0                           # untouched by both traces
    assert t.to_text() == first_text                           # re-running shows the same
    first, second = t.steps[1].contributions
    assert first.after == 2.0 and second.after == 4.0 and second.complete
    assert t.held == {x2: 8.0}
    assert ("note: x.grad holds 8, not this pass's 4: earlier backward passes added to it"
            in t.to_text())
    assert "x.grad = 2 + 2 = 4 = ∂y/∂x" not in t.to_text()   # y2 has no label: v1
    assert "= 4 = ∂v1/∂x" in t.to_text()


def test_trace_after_backward_tells_the_truth():
    """The issue's reproducer: x = 2, y = x*x, y.backward(), then a trace: dy/dx is 4, the
    trace says 4, x.grad stays 4, and running it again changes nothing."""
    x = Value(2.0, label="x")
    y = x * x
    y.label = "y"
    y.backward()
    for _ in range(3):
        text = viz.trace_backward(y).to_text()
        assert "x.grad = 2 + 2 = 4 = ∂y/∂x" in text
        assert "note:" not in text                # x.grad holds exactly this pass's total
        assert "8" not in text and "6" not in text
        assert x.grad == 4.0


def test_gradient_argument_names_the_loss_L():
    x = Value(2.0, label="x")
    y = x * 3
    y.label = "y"
    text = viz.trace_backward(y, gradient=2.0).to_text()
    assert "∂L/∂y = 2   (the seed: the gradient passed to backward)" in text
    assert "x.grad = 6 = ∂L/∂x" in text


def test_operator_labels_are_parenthesised_in_formulas():
    """micrograd's lecture labels x1*w1 + x2*w2: inside formulas it reads as one operand."""
    x1, w1, x2, w2 = (Value(v, label=n) for v, n in [(2.0, "x1"), (-3.0, "w1"), (0.0, "x2"),
                                                      (1.0, "w2")])
    s = x1 * w1 + x2 * w2
    s.label = "x1*w1 + x2*w2"
    o = (s + 6.8813735870195432).tanh()
    o.label = "o"
    text = viz.trace_backward(o).to_text()
    assert "∂o/∂(x1*w1 + x2*w2)" in text
    assert "∂o/∂x1*w1" not in text
    assert "= (x1*w1 + x2*w2) + 6.881" in text


def expressions():
    """Random expression trees over three leaves, with reuse of earlier nodes."""
    ops = st.sampled_from(["add", "sub", "mul", "tanh", "sigmoid", "neg", "const_mul", "square"])
    return st.lists(st.tuples(ops, st.integers(0, 100), st.integers(0, 100)), min_size=1,
                    max_size=12)


def build_expression(spec, values):
    nodes = [Value(v, label=f"x{i}") for i, v in enumerate(values)]
    for op, i, j in spec:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        nodes.append({"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
                      "tanh": lambda: a.tanh(), "sigmoid": lambda: a.sigmoid(),
                      "neg": lambda: -a, "const_mul": lambda: 0.7 * a,
                      "square": lambda: a * a}[op]())
    return nodes[-1], nodes[:len(values)]


@settings(max_examples=60, deadline=None)
@given(expressions(), st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_trace_matches_backward_on_random_graphs(spec, values):
    r1, leaves1 = build_expression(spec, values)
    r2, leaves2 = build_expression(spec, values)
    if r1.op is None:
        return
    r1.backward()
    r2.backward()                     # the trace must show one pass whatever .grad holds
    r2.backward()
    before = snapshot(r2)
    t = viz.trace_backward(r2)
    assert snapshot(r2) == before
    from autograd_core.graph import topological_order
    truth = dict(zip(topological_order(r2), (n.grad for n in topological_order(r1))))
    for step in t.steps[1:]:
        assert step.upstream == truth[step.node]          # "with ∂L/∂node = ..." is the total
        for c in step.contributions:
            assert c.product == c.local * step.upstream
            if c.complete:
                assert c.after == truth[c.parent]          # "= ∂L/∂x" only on the total


def test_text_markdown_latex_views():
    out, (x1, x2, w1, w2, b) = neuron()
    t = viz.trace_backward(out)
    expected = neuron_grads_by_hand()
    text = t.to_text()
    assert "out = tanh(" in text
    assert f"= {format(expected['w1'], '.4g')}" in text
    md = t.to_markdown()
    lines = md.splitlines()
    assert lines[0].startswith("| step |") and set(lines[1]) <= set("|-:")
    assert len({line.count("|") for line in lines if not line.startswith("|---")}) == 1
    latex = t.to_latex()
    assert latex.startswith("\\begin{aligned}") and latex.rstrip().endswith("\\end{aligned}")
    assert r"\frac{\partial \mathrm{out}}{\partial w_{1}}" in latex
    assert r"\partial" in latex and r"\cdot" in latex


def test_latex_example_from_the_issue():
    x, w = Value(3.0, label="x"), Value(0.5, label="w")
    z = x * w
    z.label = "z"
    L = z * 1.0
    L.label = "L"
    latex = viz.trace_backward(L).to_latex()
    # dL/dw = dL/dz · ∂(x·w)/∂(2nd operand) = 1 · 3 = 3 ; dL/dx = 1 · 0.5 = 0.5
    assert (r"\text{contribution} &= \frac{\partial L}{\partial z} \cdot "
            r"\frac{\partial (x \cdot w)}{\partial (\text{2nd operand})} = 1 \cdot 3 = 3") in latex
    assert r"\texttt{w.grad} &= 3 = \frac{\partial L}{\partial w}" in latex


def test_escaping_in_markdown_and_latex():
    x = Value(2.0, label="<b>|x_1*</b>")
    y = x * x
    y.label = "y"
    t = viz.trace_backward(y)
    md = t.to_markdown()
    assert "<b>" not in md and "&lt;b&gt;" in md
    assert all(line.count("|") - line.count("\\|") == 8 for line in md.splitlines()[2:])
    latex = t.to_latex()
    assert "x_1*" not in latex and r"\_" in latex


def test_forward_trace_values_in_topological_order():
    out, (x1, x2, w1, w2, b) = neuron()
    f = viz.trace_forward(out)
    assert f.mode == "values"
    assert [s.node for s in f.steps][-1] is out
    assert f.steps[-1].value == out.data
    assert "out = tanh(" in f.to_text()
    assert "| step | node |" in f.to_markdown()


def test_forward_mode_dual_tangents_match_reverse_mode():
    out, (x1, x2, w1, w2, b) = neuron()
    expected = neuron_grads_by_hand()
    for leaf in (x1, w1, b):
        f = viz.trace_forward(out, wrt=leaf)
        assert f.mode == "dual"
        assert f.tangents[out] == pytest.approx(expected[leaf.label], rel=1e-12)
    f = viz.trace_forward(out, tangents={x1: 1.0, w1: 2.0})
    assert f.tangents[out] == pytest.approx(expected["x1"] + 2 * expected["w1"], rel=1e-12)
    assert r"\dot{\mathrm{out}}" in f.to_latex()
    assert "dout = " in f.to_text()
    with pytest.raises(ValueError, match="leaves"):
        viz.trace_forward(out, wrt=out)
    with pytest.raises(ValueError, match="not both"):
        viz.trace_forward(out, wrt=x1, tangents={x1: 1.0})


def test_trace_rejects_non_nodes():
    with pytest.raises(TypeError):
        viz.trace_backward(1.0)
    with pytest.raises(TypeError):
        viz.trace_forward("x")


def test_tensor_graph_trace_equals_backward_and_draws():
    np = pytest.importorskip("numpy")
    import autograd_core
    if not hasattr(autograd_core, "Tensor"):
        pytest.skip("no Tensor yet")
    Tensor = autograd_core.Tensor

    def build():
        W = Tensor(np.array([[0.5, -1.0], [2.0, 0.3]]), requires_grad=True)
        x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
        b = Tensor(np.array([0.1, 0.2]), requires_grad=True)
        h = W @ x + b
        return (h.tanh() * h).sum(), (W, x, b)

    (L1, leaves1), (L2, leaves2) = build(), build()
    L1.backward()
    t = viz.trace_backward(L2)
    for a, b in zip(leaves1, leaves2):
        assert np.array_equal(a.grad, t.grads[b])      # the trace's pass is the engine's
        assert b.grad is None                          # and it left .grad as it was
    source = t.graph.source.replace("\\ ", " ")
    assert "shape (2, 2)" in source
    assert "grad [" in source and "grad None" not in source   # the drawing shows the trace's pass
    assert "vjp" in t.to_markdown() or "g" in t.to_text()
    assert len(t.frames()) == len(t.steps)


def test_forward_trace_of_a_tensor_graph_shows_values():
    # Without wrt= no dual numbers are needed; it used to build one per leaf anyway and
    # raised "Dual primal must be a real number, got ndarray" on every Tensor graph.
    np = pytest.importorskip("numpy")
    from autograd_core import Tensor
    W = Tensor(np.array([[0.5, -1.0], [2.0, 0.3]]), requires_grad=True, label="W")
    c = Tensor(np.array([1.0, 2.0]), label="c")
    out = (W * c).sum()
    f = viz.trace_forward(out)
    assert f.mode == "values" and len(f.steps) == 3
    assert f.steps[0].node is W and f.steps[-1].node is out
    assert np.array_equal(f.steps[-1].value, out.data)
    assert "W * c" in f.to_text()
    assert len(f.frames()) == len(f.steps)
    with pytest.raises(TypeError, match="needs a Value graph"):
        viz.trace_forward(out, wrt=W)


def test_dual_mode_equals_engine_dual_numbers():
    import autograd_core
    if not hasattr(autograd_core, "Dual"):
        pytest.skip("no Dual yet")
    Dual = autograd_core.Dual
    out, (x1, x2, w1, w2, b) = neuron()
    f = viz.trace_forward(out, wrt=w1)
    d = (Dual(2.0) * Dual(-3.0, 1.0) + Dual(0.0) * Dual(1.0) + Dual(6.8813735870195432)).tanh()
    assert f.tangents[out] == d.tangent
    assert f.steps[-1].value == d.primal


def test_constants_and_their_edges_appear_with_the_op_that_uses_them():
    """At step 0 nothing but the root is lit: a constant operand and its edge are faded until
    the backward pass reaches the op that uses it (they were drawn as if active)."""
    x = Value(2.0, label="x")
    y = (x * 3.0).tanh()
    y.label = "y"
    trace = viz.trace_backward(y)
    steps = trace._steps()
    ids, op_ids = trace.graph.ids, trace.graph.op_ids
    mul = y.parents[0]
    const = mul.parents[1]
    mul_step = next(s.index for s in trace.steps if s.node is mul)
    edge = f"e{op_ids[mul][1:]}_1"
    assert steps.reveal[ids[const]] == mul_step and steps.reveal[edge] == mul_step


def test_the_stepper_says_when_a_gradient_is_a_partial_sum():
    """z = a*b + a: after step 1 a.grad holds one of its two contributions; the stepper's box
    reads "grad so far 1" there, and "grad 5" (the total ∂z/∂a) once the second arrives."""
    a, b = Value(3.0, label="a"), Value(4.0, label="b")
    z = a * b + a
    z.label = "z"
    t = viz.trace_backward(z, number_format=".4g")
    frames = t._steps().frames
    key = f"{t.graph.ids[a]}:grad"
    assert frames[1].texts[key] == "grad so far 1"
    assert frames[2].texts[key] == "grad 5"


def test_forward_mode_writes_local_derivatives_per_slot_not_as_totals():
    """y = x*x in dual mode: ẏ = (local of slot 1)·ẋ + (local of slot 2)·ẋ; writing both as
    ∂y/∂x (the total, 4) would make the line false."""
    x = Value(2.0, label="x")
    y = x * x
    y.label = "y"
    t = viz.trace_forward(y, wrt=x)
    text = t.to_text()
    assert "dy = ∂(x * x)/∂(1st operand)·dx + ∂(x * x)/∂(2nd operand)·dx = 2·1 + 2·1 = 4" in text
    assert "∂y/∂x" not in text
    assert r"\frac{\partial y}{\partial x}" not in t.to_latex()
