"""viz.draw_network: the classic network diagram of a scalar MLP or a Tensor Sequential.

Every expected value is derived from the model (its labels, weights, gradients, and a NumPy
forward written here from its parameters), never copied from the drawing's own output.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import nn
import viz
from autograd_core import Tensor, Value, default_generator
from viz.drawing.network import MAX_WIDTH_PT, MIN_WIDTH_PT
from viz.drawing.style import NEGATIVE_COLOR, POSITIVE_COLOR, ZERO_COLOR

from .helpers import SVG


# ---------------------------------------------------------------------------------------------
# reading the SVG
# ---------------------------------------------------------------------------------------------
def _groups(svg: str):
    root = ET.fromstring(svg.encode("utf-8"))
    for g in root.iter(SVG + "g"):
        yield g, (g.get("class") or "").split()


def units(svg: str) -> dict[str, dict]:
    """title (the unit's name) -> {id, x, y, texts, classes, style} for every circle."""
    out = {}
    for g, classes in _groups(svg):
        if "cr-net-unit" in classes:
            ellipse = g.find(f".//{SVG}ellipse")
            out[g.find(SVG + "title").text] = {
                "id": g.get("id"), "x": float(ellipse.get("cx")), "y": float(ellipse.get("cy")),
                "texts": [t.text or "" for t in g.iter(SVG + "text")], "classes": classes,
                "dash": ellipse.get("stroke-dasharray")}
    return out


def edges(svg: str) -> dict[tuple[str, str], dict]:
    """(tail, head) -> {id, color, width} for every connection drawn."""
    out = {}
    for g, classes in _groups(svg):
        if "cr-net-edge" in classes:
            tail, head = g.find(SVG + "title").text.split("->")
            path = g.find(f".//{SVG}path")
            out[(tail, head)] = {"id": g.get("id"), "color": path.get("stroke"),
                                 "width": float(path.get("stroke-width", "1"))}
    return out


def texts_of_class(svg: str, cls: str) -> list[str]:
    return [" ".join(t.text or "" for t in g.iter(SVG + "text"))
            for g, classes in _groups(svg) if cls in classes]


def line_value(texts: list[str], prefix: str) -> float | None:
    hits = [t for t in texts if t.startswith(prefix + " ")]
    assert len(hits) <= 1, texts
    return float(hits[0][len(prefix) + 1:]) if hits else None


# ---------------------------------------------------------------------------------------------
# models, and the expected structure read from them
# ---------------------------------------------------------------------------------------------
def moons_mlp(seed: int = 3) -> nn.MLP:
    return nn.MLP(2, [16, 16, 1], seed=seed)


def mlp_columns(model: nn.MLP, input_names=None) -> list[list[str]]:
    first = input_names or [f"x{i + 1}" for i in range(model.nin)]
    return [list(first)] + [[n.label for n in layer.neurons] for layer in model.layers]


def mlp_connections(model: nn.MLP) -> dict[tuple[str, str], Value]:
    """(tail, head) -> the weight Value of every connection, from the model itself."""
    cols = mlp_columns(model)
    return {(cols[k][i], neuron.label): w
            for k, layer in enumerate(model.layers)
            for neuron in layer.neurons for i, w in enumerate(neuron.w)}


def mlp_forward(model: nn.MLP, x: np.ndarray) -> list[np.ndarray]:
    """The activations of every column, by NumPy from the parameters (not the model's code)."""
    acts = [np.asarray(x, float)]
    f = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "linear": lambda z: z,
         "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
    for layer in model.layers:
        W = np.array([[w.data for w in n.w] for n in layer.neurons])
        b = np.array([n.b.data for n in layer.neurons])
        acts.append(f[layer.activation](W @ acts[-1] + b))
    return acts


def one_sample_backward(model: nn.MLP, x: np.ndarray, target: float = 1.0) -> float:
    """loss = (model(x) - target)², backward; returns the loss."""
    model.zero_grad()
    loss = (model([float(v) for v in x]) - target) ** 2
    loss.backward()
    return loss.data


def seq_model(seed: int = 0) -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 8, seed=seed), nn.Tanh(), nn.Linear(8, 3, seed=seed + 1))


def seq_columns(model: nn.Sequential) -> list[list[str]]:
    linears = [m for m in model if isinstance(m, nn.Linear)]
    cols = [[f"x{i + 1}" for i in range(linears[0].in_features)]]
    for lin in linears:
        prefix = lin.weight.label.removesuffix(".weight")
        cols.append([f"{prefix}.n{j + 1}" for j in range(lin.out_features)])
    return cols


X0 = np.array([0.7, -0.4])


# ---------------------------------------------------------------------------------------------
# structure: counts, order, names
# ---------------------------------------------------------------------------------------------
def test_mlp_structure_counts_order_and_names() -> None:
    model = moons_mlp()
    diagram = viz.draw_network(model)
    svg = diagram.svg()
    drawn, connections = units(svg), edges(svg)
    cols = mlp_columns(model)
    assert sorted(drawn) == sorted(name for col in cols for name in col)
    assert len(drawn) == model.nin + sum(layer.nout for layer in model.layers)
    assert len(connections) == sum(layer.nin * layer.nout for layer in model.layers) \
        == diagram.edge_count
    assert set(connections) == set(mlp_connections(model))
    assert diagram.columns == cols and diagram.layer_sizes == [len(c) for c in cols]
    xs = []
    for col in cols:
        # one x per column; top to bottom (SVG y grows downwards) in index order
        assert len({drawn[name]["x"] for name in col}) == 1, col
        assert sorted(col, key=lambda n: drawn[n]["y"]) == col
        assert all(drawn[a]["y"] < drawn[b]["y"] for a, b in zip(col, col[1:]))
        xs.append(drawn[col[0]]["x"])
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    # the edge map names each connection by the weight's own label
    for (tail, head), w in mlp_connections(model).items():
        assert diagram.edge_ids[w.label] == connections[(tail, head)]["id"]
    assert {diagram.ids[n] for n in drawn} == {u["id"] for u in drawn.values()}


def test_labels_come_from_the_model() -> None:
    model = moons_mlp()
    model.layers[1].neurons[6].label_parameters("hidden7.")     # a teacher renames one neuron
    drawn = units(viz.draw_network(model).svg())
    assert "hidden7" in drawn and "L2.n7" not in drawn
    assert model.layers[1].neurons[6].w[2].label in viz.draw_network(model).edge_ids


def test_input_names() -> None:
    model = moons_mlp()
    names = ["petal length", "petal width"]
    diagram = viz.draw_network(model, input_names=names)
    drawn = units(diagram.svg())
    assert all(n in drawn for n in names) and "x1" not in drawn
    assert diagram.columns[0] == names


def test_sequential_structure_and_names() -> None:
    model = seq_model()
    diagram = viz.draw_network(model)
    svg = diagram.svg()
    drawn, connections = units(svg), edges(svg)
    cols = seq_columns(model)
    assert diagram.columns == cols
    assert len(drawn) == 4 + 8 + 3 and len(connections) == 4 * 8 + 8 * 3
    for col in cols:
        assert sorted(col, key=lambda n: drawn[n]["y"]) == col
    first = model[0]
    for j in range(8):
        for i in range(4):
            eid = connections[(cols[0][i], cols[1][j])]["id"]
            assert diagram.edge_ids[f"{first.weight.label}[{j}, {i}]"] == eid
    for j in range(3):
        for i in range(8):
            assert (cols[1][i], cols[2][j]) in connections
    headers = texts_of_class(svg, "cr-net-header")
    assert any("Tanh" in h for h in headers), headers


def test_nested_sequential_and_single_linear() -> None:
    inner = nn.Sequential(nn.Linear(2, 3, seed=0), nn.ReLU())
    model = nn.Sequential(inner, nn.Linear(3, 1, seed=1))
    cols = viz.draw_network(model).columns
    assert cols[1] == [f"{inner[0].weight.label.removesuffix('.weight')}.n{j + 1}" for j in range(3)]
    assert cols[2] == [f"{model[1].weight.label.removesuffix('.weight')}.n1"]
    lone = nn.Linear(3, 2, seed=0)
    diagram = viz.draw_network(lone)
    assert diagram.layer_sizes == [3, 2] and diagram.edge_count == 6


def test_scalar_layer_and_neuron() -> None:
    layer = nn.Layer(3, 4, seed=0)
    diagram = viz.draw_network(layer)
    assert diagram.columns[1] == [n.label for n in layer.neurons]
    assert diagram.edge_count == 12
    neuron = nn.Neuron(3, seed=0)
    assert viz.draw_network(neuron).layer_sizes == [3, 1]


# ---------------------------------------------------------------------------------------------
# edges: colour by sign, width by magnitude, or by the gradient
# ---------------------------------------------------------------------------------------------
def _check_sign_and_width(connections: dict, values: dict) -> None:
    """Colour follows the sign of ``values`` and width is monotone in its magnitude, from the
    thinnest width at 0 to the thickest at the largest magnitude."""
    assert POSITIVE_COLOR != NEGATIVE_COLOR
    signs = {1: POSITIVE_COLOR, -1: NEGATIVE_COLOR, 0: ZERO_COLOR}
    for key, value in values.items():
        assert connections[key]["color"] == signs[int(np.sign(value))], (key, value)
    ordered = sorted(values, key=lambda k: abs(values[k]))
    widths = [connections[k]["width"] for k in ordered]
    assert all(a <= b + 1e-9 for a, b in zip(widths, widths[1:]))
    assert widths[-1] == pytest.approx(MAX_WIDTH_PT, abs=0.01)
    smallest = abs(values[ordered[0]]) / abs(values[ordered[-1]])
    assert widths[0] == pytest.approx(MIN_WIDTH_PT + (MAX_WIDTH_PT - MIN_WIDTH_PT) * smallest,
                                      abs=0.01)
    # strictly thicker where the magnitude is clearly larger
    a, b = ordered[0], ordered[-1]
    assert connections[b]["width"] > connections[a]["width"]


def test_edges_follow_the_weights() -> None:
    model = moons_mlp()
    weights = {key: w.data for key, w in mlp_connections(model).items()}
    assert any(v > 0 for v in weights.values()) and any(v < 0 for v in weights.values())
    _check_sign_and_width(edges(viz.draw_network(model).svg()), weights)


def test_edge_width_scales_to_the_models_largest_weight() -> None:
    model = moons_mlp()
    key, w = next(iter(mlp_connections(model).items()))
    w.data = 10.0 * max(abs(p.data) for p in model.parameters())   # now the largest by far
    connections = edges(viz.draw_network(model).svg())
    assert connections[key]["width"] == pytest.approx(MAX_WIDTH_PT, abs=0.01)
    others = [c["width"] for k, c in connections.items() if k != key]
    assert max(others) < MIN_WIDTH_PT + 0.11 * (MAX_WIDTH_PT - MIN_WIDTH_PT)


def test_a_nan_weight_is_drawn_dashed_and_left_out_of_the_scaling() -> None:
    model = moons_mlp()
    conns = mlp_connections(model)
    key = next(iter(conns))
    conns[key].data = float("nan")
    svg = viz.draw_network(model).svg()
    assert 'stroke-dasharray' in ET.tostring(
        next(g for g, c in _groups(svg) if "cr-nonfinite" in c), encoding="unicode")
    _check_sign_and_width(edges(svg), {k: w.data for k, w in conns.items() if k != key})


def test_show_grad_uses_the_gradients() -> None:
    model = moons_mlp()
    one_sample_backward(model, X0)
    conns = mlp_connections(model)
    grads = {key: w.grad for key, w in conns.items()}
    # the test means something only if gradients and weights disagree somewhere
    assert any(np.sign(g) != np.sign(conns[k].data) for k, g in grads.items())
    assert any(g == 0 for g in grads.values()) and any(g != 0 for g in grads.values())
    by_grad = edges(viz.draw_network(model, show="grad").svg())
    _check_sign_and_width(by_grad, grads)
    by_weight = edges(viz.draw_network(model, show="weight").svg())
    assert any(by_grad[k]["color"] != by_weight[k]["color"] for k in grads)


def test_show_grad_for_a_sequential() -> None:
    model = seq_model()
    x = Tensor(np.random.default_rng(0).normal(size=(5, 4)))
    (model(x) ** 2).sum().backward()
    cols = seq_columns(model)
    grads = {(cols[0][i], cols[1][j]): model[0].weight.grad[j, i]
             for j in range(8) for i in range(4)}
    grads |= {(cols[1][i], cols[2][j]): model[2].weight.grad[j, i]
              for j in range(3) for i in range(8)}
    _check_sign_and_width(edges(viz.draw_network(model, show="grad").svg()), grads)


# ---------------------------------------------------------------------------------------------
# numbers in the circles: activations and δ
# ---------------------------------------------------------------------------------------------
def test_names_only_before_forward_and_backward() -> None:
    model = moons_mlp()
    drawn = units(viz.draw_network(model).svg())
    assert all(u["texts"] == [name] for name, u in drawn.items())


def test_activations_and_deltas_after_forward_and_backward() -> None:
    model = moons_mlp()
    one_sample_backward(model, X0)
    expected = mlp_forward(model, X0)
    assert any(a == 0 for a in expected[1]) and any(a > 0 for a in expected[1])
    drawn = units(viz.draw_network(model, inputs=X0, number_format=".8g").svg())
    for c, col in enumerate(mlp_columns(model)):
        for j, name in enumerate(col):
            texts = drawn[name]["texts"]
            assert texts[0] == name
            if c == 0:
                assert float(texts[1]) == pytest.approx(X0[j])
                continue
            assert line_value(texts, "a") == pytest.approx(expected[c][j], rel=1e-6, abs=1e-12)
            neuron = model.layers[c - 1].neurons[j]
            assert line_value(texts, "δ") == pytest.approx(neuron.b.grad, rel=1e-6, abs=1e-12)
            # an inactive unit (a = 0) is drawn dashed, an active one is not
            assert (drawn[name]["dash"] is not None) == (expected[c][j] == 0)


def test_delta_is_the_pre_activation_gradient() -> None:
    """δ_j shown = ∂L/∂z_j: check the chain rule ∂L/∂w_ji = δ_j · a_i on the drawing's numbers."""
    model = moons_mlp()
    one_sample_backward(model, X0)
    drawn = units(viz.draw_network(model, inputs=X0, number_format=".10g").svg())
    cols = mlp_columns(model)
    for k, layer in enumerate(model.layers):
        for j, neuron in enumerate(layer.neurons):
            delta = line_value(drawn[cols[k + 1][j]]["texts"], "δ")
            for i, w in enumerate(neuron.w):
                a_prev = (float(drawn[cols[0][i]]["texts"][1]) if k == 0
                          else line_value(drawn[cols[k][i]]["texts"], "a"))
                assert delta * a_prev == pytest.approx(w.grad, rel=1e-6, abs=1e-9)


def test_deltas_without_inputs_and_activations_without_backward() -> None:
    model = moons_mlp()
    drawn = units(viz.draw_network(model, inputs=X0).svg())
    assert all(line_value(u["texts"], "δ") is None for u in drawn.values())
    assert all(line_value(u["texts"], "a") is not None for n, u in drawn.items()
               if not n.startswith("x"))
    one_sample_backward(model, X0)
    drawn = units(viz.draw_network(model).svg())
    assert all(line_value(u["texts"], "a") is None for u in drawn.values())
    assert line_value(drawn[model.layers[-1].neurons[0].label]["texts"], "δ") == \
        pytest.approx(model.layers[-1].neurons[0].b.grad, rel=1e-2)


@pytest.mark.parametrize("activation, oracle", [
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda z: 1 / (1 + np.exp(-z))),
    (nn.LeakyReLU(0.1), lambda z: np.where(z > 0, z, 0.1 * z)),
    (nn.ReLU(), lambda z: np.maximum(z, 0)),
])
def test_sequential_activations(activation, oracle) -> None:
    model = nn.Sequential(nn.Linear(3, 5, seed=2), activation, nn.Linear(5, 2, seed=3),
                          nn.Softmax(dim=-1))
    x = np.array([0.3, -1.2, 2.0])
    out = model(Tensor(x[None, :]))
    out[0, 1].backward()
    W1, b1 = model[0].weight.data, model[0].bias.data
    W2, b2 = model[2].weight.data, model[2].bias.data
    h = oracle(W1 @ x + b1)
    z2 = W2 @ h + b2
    soft = np.exp(z2 - z2.max()) / np.exp(z2 - z2.max()).sum()
    cols = seq_columns(model)
    drawn = units(viz.draw_network(model, inputs=Tensor(x[None, :]),
                                   number_format=".9g").svg())
    for j, name in enumerate(cols[1]):
        assert line_value(drawn[name]["texts"], "a") == pytest.approx(h[j], rel=1e-7, abs=1e-12)
        assert line_value(drawn[name]["texts"], "δ") == pytest.approx(model[0].bias.grad[j],
                                                                      rel=1e-7, abs=1e-12)
    for j, name in enumerate(cols[2]):
        assert line_value(drawn[name]["texts"], "a") == pytest.approx(soft[j], rel=1e-7)


def test_inputs_of_every_form_agree() -> None:
    model = moons_mlp()
    ref = units(viz.draw_network(model, inputs=X0).svg())
    for form in (list(X0), tuple(X0), [Value(v) for v in X0], Tensor(X0), X0[None, :]):
        assert units(viz.draw_network(model, inputs=form).svg()) == ref


def test_drawing_changes_nothing_in_the_model() -> None:
    model = seq_model()
    (model(Tensor(np.ones((2, 4)))) ** 2).sum().backward()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    grads = [p.grad.copy() for p in model.parameters()]
    state = default_generator().bit_generator.state
    viz.draw_network(model, inputs=np.ones(4)).svg()
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
    assert all(np.array_equal(g, p.grad) for g, p in zip(grads, model.parameters()))
    assert default_generator().bit_generator.state == state


# ---------------------------------------------------------------------------------------------
# large networks: elision and no layout search
# ---------------------------------------------------------------------------------------------
def digits_model() -> nn.Sequential:
    return nn.Sequential(nn.Linear(64, 32, seed=0), nn.ReLU(), nn.Linear(32, 10, seed=1))


def test_every_node_is_placed_and_graphviz_only_draws() -> None:
    diagram = viz.draw_network(digits_model())
    assert diagram.engine == "nop2"
    node_lines = [ln for ln in diagram.source.splitlines()
                  if re.match(r'\s*("[^"]*"|\w+) \[', ln) and "->" not in ln
                  and not ln.lstrip().startswith(("node ", "edge ", "graph "))]
    assert node_lines and all(re.search(r'pos="[-0-9.]+,[-0-9.]+!"', ln) for ln in node_lines)
    assert diagram.edge_count == 64 * 32 + 32 * 10
    assert len(edges(diagram.svg())) == diagram.edge_count


def test_max_units_per_layer_elides_with_a_marker() -> None:
    model = digits_model()
    limit = 16
    diagram = viz.draw_network(model, max_units_per_layer=limit)
    svg = diagram.svg()
    sizes = [64, 32, 10]
    shown = [min(n, limit) for n in sizes]
    assert [len(c) for c in diagram.columns] == shown and diagram.layer_sizes == sizes
    assert diagram.elided == {c: n - limit for c, n in enumerate(sizes) if n > limit}
    assert len(edges(svg)) == diagram.edge_count == shown[0] * shown[1] + shown[1] * shown[2]
    markers = texts_of_class(svg, "cr-net-more")
    assert sorted(markers) == sorted(
        f"… {n - limit} more {col[limit - 1]} … {col[n - 2]}"
        for n, col in zip(sizes, seq_columns(model)) if n > limit)
    drawn = units(svg)
    inputs = seq_columns(model)[0]
    assert inputs[limit - 1] not in drawn and inputs[-1] in drawn   # the last one is kept
    assert drawn[inputs[limit - 2]]["y"] < drawn[inputs[-1]]["y"]
    legend = " ".join(texts_of_class(svg, "cr-legend"))
    assert f"{diagram.edge_count} of {64 * 32 + 32 * 10} connections drawn" in legend
    # the legend's thickest weight is the model's; it says so when that edge was left out
    weights = [m.weight.data for m in model if isinstance(m, nn.Linear)]
    layer, flat = max(((k, int(np.argmax(np.abs(w)))) for k, w in enumerate(weights)),
                      key=lambda kf: abs(weights[kf[0]].ravel()[kf[1]]))
    j, i = np.unravel_index(flat, weights[layer].shape)
    drawn_edge = j < limit - 1 or j == weights[layer].shape[0] - 1
    drawn_edge = drawn_edge and (i < limit - 1 or i == weights[layer].shape[1] - 1)
    assert ("not drawn" in legend) == (not drawn_edge), legend


# ---------------------------------------------------------------------------------------------
# notebook display and files
# ---------------------------------------------------------------------------------------------
def test_displays_and_saves_like_draw_graph(tmp_path) -> None:
    model = moons_mlp()
    one_sample_backward(model, X0)
    diagram = viz.draw_network(model, inputs=X0, title="moons")
    assert isinstance(diagram, viz.Graph)
    data, meta = diagram._repr_mimebundle_()
    assert set(data) >= {"image/svg+xml", "image/png", "text/plain"}
    ET.fromstring(data["image/svg+xml"].encode("utf-8"))
    assert 'aria-label="Network diagram 2 → 16 → 16 → 1' in data["image/svg+xml"]
    assert meta["image/png"]["width"] <= 920
    assert diagram.save(tmp_path / "n.svg").read_text().startswith("<?xml")
    assert diagram.save(tmp_path / "n.png").read_bytes()[:4] == b"\x89PNG"
    assert diagram.save(tmp_path / "n.dot").read_text() == diagram.source
    assert "2-16-16-1" in repr(diagram)


def test_legend_says_what_is_shown() -> None:
    model = moons_mlp()
    legend = " ".join(texts_of_class(viz.draw_network(model).svg(), "cr-legend"))
    assert "w > 0" in legend and "w < 0" in legend and "inputs=" in legend
    one_sample_backward(model, X0)
    legend = " ".join(texts_of_class(viz.draw_network(model, inputs=X0, show="grad").svg(),
                                     "cr-legend"))
    assert "∂L/∂w > 0" in legend and "δ = ∂L/∂z" in legend and "a = " in legend
    assert not texts_of_class(viz.draw_network(model, legend=False).svg(), "cr-legend")


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model, error, words", [
    (Value(1.0), TypeError, "Value"),
    ("MLP", TypeError, "str"),
    (nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5), nn.Linear(3, 1)), ValueError, "Dropout"),
    (nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1)), ValueError, "BatchNorm1d"),
    (nn.Sequential(nn.Linear(2, 3), nn.Linear(4, 1)), ValueError, "takes 4 inputs"),
    (nn.Sequential(nn.Tanh(), nn.Linear(2, 1)), ValueError, "starts with Tanh"),
    (nn.Sequential(nn.ReLU()), ValueError, "starts with ReLU"),
    (nn.Sequential(), ValueError, "no Linear"),
])
def test_models_it_cannot_draw(model, error, words) -> None:
    with pytest.raises(error, match=words):
        viz.draw_network(model)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"show": "grads"}, ValueError, "show must be"),
    ({"show": "grad"}, ValueError, "backward"),              # no gradients yet
    ({"inputs": [1.0, 2.0, 3.0]}, ValueError, "takes 2 inputs; inputs has 3"),
    ({"inputs": np.ones((4, 2))}, ValueError, r"one sample.*\(4, 2\)"),
    ({"inputs": "ab"}, TypeError, "one sample"),
    ({"inputs": ["a", "b"]}, TypeError, "numeric"),
    ({"input_names": ["a"]}, ValueError, "input_names has 1"),
    ({"input_names": "ab"}, TypeError, "input_names"),
    ({"input_names": ["L1.n1", "b"]}, ValueError, "unique.*L1.n1"),
    ({"max_units_per_layer": 1}, ValueError, "max_units_per_layer"),
    ({"max_units_per_layer": True}, ValueError, "max_units_per_layer"),
    ({"number_format": "q"}, ValueError, "number_format"),
])
def test_bad_arguments(kwargs, error, words) -> None:
    with pytest.raises(error, match=words):
        viz.draw_network(moons_mlp(), **kwargs)


def test_demo_writes_the_network_diagram(tmp_path) -> None:
    from viz.cli.demo import run_demo

    written = run_demo(tmp_path, steps=1)
    paths = {p.name: what for p, what in written}
    assert "network.svg" in paths and paths["network.svg"]
    svg = (tmp_path / "network.svg").read_text()
    assert len(units(svg)) == 2 + 16 + 16 + 1
    assert len(edges(svg)) == 2 * 16 + 16 * 16 + 16


def test_highlight_draws_the_named_edges_dashed_on_top_and_refuses_unknown_names():
    """Notes 004's red edge w²₃,₂ is L2.n3.w2: highlighted, it is dashed dark red and drawn last
    (on top); the picture keeps its PNG for untrusted notebooks; a wrong name is refused."""
    import nn
    net = nn.MLP(2, [3, 3, 1], activation="tanh", seed=0)
    diagram = viz.draw_network(net, inputs=[0.5, -1.0], highlight="L2.n3.w2")
    edge_lines = [line for line in diagram.source.splitlines() if "cr-net-edge" in line]
    marked = [line for line in edge_lines if "cr-highlight" in line]
    assert len(marked) == 1 and "L2.n3.w2" in marked[0] and "dashed" in marked[0]
    assert "#7f1d1d" in marked[0] and edge_lines[-1] == marked[0]          # drawn on top
    assert sum("dashed" in line for line in edge_lines) == 1
    assert "image/png" in diagram._repr_mimebundle_()[0]
    with pytest.raises(ValueError, match="L2.n9.w2"):
        viz.draw_network(net, highlight=["L2.n9.w2"])
