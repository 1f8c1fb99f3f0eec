"""Every op of both tables traced and drawn with local derivatives (Value and Tensor), a trace
taken after the graph's own backward, and viz touching only public engine names."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import autograd_core
import viz
from autograd_core import ALL_OPS, Tensor, Value

from ..autograd_core.op_cases import CASES

VIZ = Path(viz.__file__).parent
PRIVATE_NODE_PARTS = {"_op", "_a", "_b", "_serial", "_scope", "_bound", "_graph_math",
                      "_raw_math", "_apply", "_freed", "_retains_grad", "_seed", "_check_graph",
                      "_end_backward", "_backward_loop", "_ctx", "_parents"}


def tensor_graph(name: str) -> tuple[Tensor, Tensor]:
    engine, _, inputs = CASES[name]
    x = Tensor(inputs[0], requires_grad=True, label="x")
    rest = [Tensor(v, requires_grad=True, label="y") for v in inputs[1:]]
    return (engine(x, *rest).tanh()).sum(), x


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_op_traces_on_tensors_with_the_engines_numbers(name: str) -> None:
    root, x = tensor_graph(name)
    trace = viz.trace_backward(root)
    ops = {s.node.op.name for s in trace.steps if s.kind == "node"}
    assert name in ops
    into_x = [c for s in trace.steps for c in s.contributions if c.parent is x]
    np.testing.assert_allclose(sum(c.product for c in into_x), trace.grads[x])  # the pass's sum
    assert x.grad is None                                      # and the trace changed nothing
    step = [s for s in trace.steps if s.kind == "node" and s.node.op.name == name][-1]
    names = [trace.names[p] for p in step.node.parents]
    text = trace.to_text()
    assert step.node.op.formula(names, params=step.node.params) in text
    assert step.node.op.derivative_formula(0, names, params=step.node.params) in text \
        or not step.node.op.elementwise or step.contributions[0].local_formula in text
    assert "partial" in trace.to_latex() and "∂" in trace.to_markdown()


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_op_draws_with_local_derivatives(name: str) -> None:
    """show_local writes each operand edge's ∂out/∂operand (formula, and value for an
    elementwise op) from the op's record, on that very edge."""
    import re

    from autograd_core import topological_order
    from viz.drawing.graph import local_label, node_names

    root, _ = tensor_graph(name)
    root.backward()
    order = topological_order(root)
    node = next(n for n in order if n.op is not None and n.op.name == name)
    label = local_label(node, 0, node_names(order), viz.drawing.graph.DEFAULT_NUMBER_FORMAT)
    assert node.op.derivative_formula(0, [node_names(order)[p] for p in node.parents],
                                      params=node.params) in label
    graph = viz.draw_graph(root, show_local=True)
    edge = f"e{graph.op_ids[node][1:]}_0"
    line = next(li for li in graph.source.splitlines() if re.search(rf"\bid={edge}\b", li))
    assert "label=" in line and label.split(" ")[0] in line.replace("\\ ", " ")
    plain = viz.draw_graph(root).source
    assert "label=" not in next(li for li in plain.splitlines() if re.search(rf"\bid={edge}\b", li))


@pytest.mark.parametrize("op", [op for op in ALL_OPS if op.elementwise and op.name != "expand"],
                         ids=lambda op: op.name)
def test_every_elementwise_op_traces_on_values(op) -> None:
    _, _, inputs = CASES[op.name]
    x = Value(float(inputs[0].flat[1]), label="x")
    rest = [Value(float(v.flat[1]), label="y") for v in inputs[1:]]
    params = {"leaky_relu": {"slope": 0.1}, "clip": {"low": -0.5, "high": 1.0},
              "where": {"condition": True}}.get(op.name, {})
    root = op(x, *rest, **params)
    trace = viz.trace_backward(root)
    (step,) = [s for s in trace.steps if s.kind == "node"]
    local = op.local_derivatives(root)[0]
    assert step.contributions[0].local == pytest.approx(local)
    assert trace.grads[x] == pytest.approx(local) and x.grad == 0.0
    assert op.derivative_formula(0, ["x", "y"][:op.arity], params=params) in trace.to_text()
    graph = viz.draw_graph(root, show_local=True)
    edge = f"e{graph.op_ids[root][1:]}_0"
    line = next(line for line in graph.source.splitlines() if f"id={edge}" in line)
    assert "label=" in line                          # the local derivative on the edge


def test_tensor_graph_traced_after_its_own_backward() -> None:
    """Train, then look: the trace walks the graph again (its data is kept), shows the same
    pass, and leaves the gradient the backward gave; a second backward adds, and the trace
    then says what w.grad holds."""
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True, label="w")
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    trace = viz.trace_backward(loss)
    np.testing.assert_allclose(w.grad, 2 * w.data)             # untouched by the trace
    np.testing.assert_allclose(trace.grads[w], 2 * w.data)
    assert "note:" not in trace.to_text()
    loss.backward()
    trace = viz.trace_backward(loss)
    np.testing.assert_allclose(w.grad, 4 * w.data)
    assert "note: w.grad holds [4, -8], not this pass's [2, -4]" in trace.to_text()
    with pytest.raises(RuntimeError, match="a second time"):
        loss.backward()                                          # PyTorch's rule still holds


def test_index_op_traces_and_draws() -> None:
    """The issue's reproducer: getitem's parameter is called `index`."""
    x = Tensor(np.arange(3.0), requires_grad=True, label="x")
    trace = viz.trace_backward(x[1])
    assert "x[1]" in trace.to_text()
    assert "scattered" in viz.draw_graph(x[1], show_local=True).source


def test_viz_uses_only_public_engine_names() -> None:
    public = set(autograd_core.__all__)
    for path in sorted(VIZ.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autograd_core"):
                assert node.module == "autograd_core", f"{path.name}: imports {node.module}"
                names = {a.name for a in node.names}
                assert names <= public, f"{path.name}: private {names - public}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("autograd_core."), f"{path.name}: {alias.name}"
            if isinstance(node, ast.Attribute):
                assert node.attr not in PRIVATE_NODE_PARTS, \
                    f"{path.name}:{node.lineno} reads the engine's private {node.attr}"
