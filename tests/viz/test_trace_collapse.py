"""trace_backward(collapse="neuron" | "layer" | "module"): the numbers are the engine's, the
δ recursion matches an independent NumPy backward, and the stepper opens and closes steps."""
from __future__ import annotations

import numpy as np
import pytest

import nn
import viz
from autograd_core import Tensor, Value, manual_seed

from .conftest import served

X_IN = (0.5, -1.2)
TARGET = 1.0


# ---- models and an independent NumPy backward ---------------------------------------------
def scalar_mlp(sizes=(4, 3, 1), seed=3):
    """A scalar tanh MLP 2-4-3-1 (linear output), loss (out - 1)², after zero_grad."""
    nn.manual_seed(seed)
    model = nn.MLP(2, list(sizes), activation="tanh")
    x = [Value(v, label=f"x{i + 1}", requires_grad=False) for i, v in enumerate(X_IN)]
    loss = (model(x) - TARGET) ** 2
    loss.label = "loss"
    model.zero_grad()
    return model, loss


def numpy_backward(layers, acts, x, dL_dout):
    """Forward and backward by hand: layers = [(W, b)], z = W a + b, a = act(z). Returns
    per layer (z, a_prev, δ, ∂L/∂W, ∂L/∂b), δ as ∂L/∂z."""
    a, zs, inputs = np.asarray(x, float), [], []
    for (W, b), act in zip(layers, acts):
        inputs.append(a)
        z = W @ a + b
        zs.append(z)
        a = np.tanh(z) if act == "tanh" else z
    g = dL_dout(a)
    out = [None] * len(layers)
    for ell in reversed(range(len(layers))):
        fprime = 1 - np.tanh(zs[ell]) ** 2 if acts[ell] == "tanh" else np.ones_like(zs[ell])
        delta = fprime * g
        out[ell] = (zs[ell], inputs[ell], delta, np.outer(delta, inputs[ell]), delta)
        g = layers[ell][0].T @ delta
    return out


def scalar_reference(model):
    layers = [(np.array([[w.data for w in n.w] for n in layer.neurons]),
               np.array([n.b.data for n in layer.neurons])) for layer in model.layers]
    acts = [layer.activation for layer in model.layers]
    return numpy_backward(layers, acts, X_IN, lambda a: 2 * (a - TARGET))


def neuron_of(model, name):
    ell, j = (int(p[1:]) for p in name.split("."))
    return ell - 1, j - 1, model.layers[ell - 1].neurons[j - 1]


# ---- scalar MLP, neuron grain -----------------------------------------------------------
def test_neuron_steps_are_the_engines_gradients_and_the_notes_recursion():
    model, loss = scalar_mlp()
    loss.backward()          # the engine's own pass: the truth the trace must show
    t = viz.trace_backward(loss, collapse="neuron")
    ref = scalar_reference(model)
    neurons = [s for s in t.steps if s.kind == "neuron"]
    assert sorted(s.name for s in neurons) == sorted(
        f"L{ell + 1}.n{j + 1}" for ell, layer in enumerate(model.layers)
        for j in range(len(layer.neurons)))
    assert [s.kind for s in t.steps[:3]] == ["seed", "scalar", "scalar"]   # the loss: pow, sub
    text = t.to_text()
    for step in neurons:
        d = step.detail
        ell, j, unit = neuron_of(model, step.name)
        z, a_prev, delta, dW, db = ref[ell]
        # the independent NumPy backward
        assert d.delta == pytest.approx(delta[j], rel=1e-12)
        assert d.z == pytest.approx(z[j], rel=1e-12)
        # the engine's .grad: every weight and the bias (one pass from zero)
        assert [g.param for g in d.weights] == unit.w
        for i, g in enumerate(d.weights):
            assert g.product == unit.w[i].grad
            assert g.product == pytest.approx(dW[j, i], rel=1e-12)
            assert g.input_value == pytest.approx(a_prev[i], rel=1e-12)
        assert d.bias.param is unit.b and d.bias.product == unit.b.grad == d.delta
        # the printed formula's terms give the printed result
        if d.activation == "tanh":
            assert d.fprime * d.dL_da == d.delta
            assert d.fprime == pytest.approx(1 - np.tanh(d.z) ** 2, rel=1e-12)
        assert sum(t_.product for t_ in d.terms) == pytest.approx(d.dL_da, rel=1e-12)
        for term in d.terms:
            assert term.factor * term.delta == term.product
        if ell < len(model.layers) - 1:           # fed by the next layer: Σ_k w_kj δ_k
            nxt = model.layers[ell + 1].neurons
            assert sorted(tm.weight_name for tm in d.terms) == sorted(n.w[j].label for n in nxt)
            for term in d.terms:
                k = int(term.consumer.split(".n")[1]) - 1
                assert term.factor == nxt[k].w[j].data
                assert term.delta == pytest.approx(ref[ell + 1][2][k], rel=1e-12)
        # and the text says it with those numbers
        f = lambda v: format(v, ".4g")        # noqa: E731
        assert f"= {f(d.delta)}\n" in text or text.endswith(f"= {f(d.delta)}")
        for g in d.weights:
            assert f"∂loss/∂{g.name} = δ({step.name})·" in text
            assert f"= {f(g.product)}" in text


def test_neuron_step_reads_true_for_a_dead_relu_and_an_accumulating_weight():
    """relu'(z) = 0 for z < 0: the step says the formula at that z and δ = 0; a neuron used
    twice (two samples) reports the second contribution as a sum, with the engine's total."""
    nn.manual_seed(0)
    layer = nn.Layer(1, 1, activation="relu")
    unit = layer.neurons[0]
    unit.w[0].data, unit.b.data = 1.0, -0.5
    loss = (layer([Value(2.0, label="u", requires_grad=False)])
            + layer([Value(0.1, label="v", requires_grad=False)]))
    loss.label = "loss"
    loss.backward()
    t = viz.trace_backward(loss, collapse="neuron")
    steps = [s for s in t.steps if s.kind == "neuron"]
    assert len(steps) == 2
    second_call, first_call = steps                 # backward meets the later call first
    assert "(call 2)" in first_call.name
    dead = second_call.detail                       # z = 0.1 - 0.5 < 0
    assert dead.z == pytest.approx(-0.4) and dead.fprime == 0.0 and dead.delta == 0.0
    live = first_call.detail
    assert live.delta == 1.0
    w = live.weights[0]
    assert w.path == 2 and w.before == dead.weights[0].product and w.after == unit.w[0].grad == 2.0
    text = t.to_text()
    assert "relu'(z) = 1 if z > 0 else 0 at z = -0.4: 0" in text
    name = unit.w[0].label
    assert f"contribution to {name}.grad = δ(" in text            # one use of two: not ∂L/∂w
    assert f"{name}.grad = 0 + 2 = 2 = ∂loss/∂{name}   (complete: the sum of its 2 contributions)" \
        in text
    assert f"∂loss/∂{name} = δ" not in text


# ---- scalar MLP, layer grain ------------------------------------------------------------
def test_layer_steps_in_jacobian_form_match_numpy_and_the_engine():
    model, loss = scalar_mlp()
    loss.backward()          # the engine's own pass: the truth the trace must show
    t = viz.trace_backward(loss, collapse="layer")
    ref = scalar_reference(model)
    layers = [s for s in t.steps if s.kind == "layer"]
    assert [s.name for s in layers] == ["L3", "L2", "L1"]
    for step in layers:
        d = step.detail
        ell = int(step.name[1:]) - 1
        z, a_prev, delta, dW, db = ref[ell]
        assert np.allclose(d.delta, delta, rtol=1e-12) and np.allclose(d.z, z, rtol=1e-12)
        engine_dW = np.array([[w.grad for w in n.w] for n in model.layers[ell].neurons])
        assert np.array_equal(d.dW, engine_dW) and np.allclose(d.dW, dW, rtol=1e-12)
        assert np.array_equal(d.db, [n.b.grad for n in model.layers[ell].neurons])
        assert np.array_equal(d.fprime * d.dL_da, d.delta)            # δ = G ∂L/∂a
        if ell < len(model.layers) - 1:                               # = W_{ℓ+1}ᵀ δ^{ℓ+1}
            W_next = np.array([[w.data for w in n.w] for n in model.layers[ell + 1].neurons])
            assert np.array_equal(d.W_next, W_next)
            assert np.allclose(d.delta_next, ref[ell + 1][2], rtol=1e-12)
            assert np.allclose(d.W_next.T @ d.delta_next, d.dL_da, rtol=1e-12)
        assert np.allclose(np.outer(d.delta, d.A_prev), d.dW, rtol=1e-12)  # δ aᵀ
    text = t.to_text()
    L2 = layers[1].detail
    assert "∂loss/∂a(L2) = W(L3)ᵀ·δ(L3)   (3×1 · 1 = 3)" in text
    assert "∂loss/∂W(L2) = δ(L2)·a(L1)ᵀ   (3×1 · 1×4 = 3×4)" in text
    for row in L2.dW:                                                  # a 3×4 matrix, printed
        assert "[" + ", ".join(format(v, ".4g") for v in row) + "]" in text


def test_a_large_layer_prints_shapes_and_a_note():
    model, loss = scalar_mlp(sizes=(10, 1))
    loss.backward()          # the engine's own pass: the truth the trace must show
    t = viz.trace_backward(loss, collapse="layer")
    text = t.to_text()
    assert "∂loss/∂W(L1) = δ(L1)·(x1, x2)ᵀ   (10×1 · 1×2 = 10×2): 10×2, too large to print" in text
    L1 = [s for s in t.steps if s.name == "L1"][0].detail
    assert np.array_equal(L1.dW, [[w.grad for w in n.w] for n in model.layers[0].neurons])


# ---- Tensor Sequential ------------------------------------------------------------------
def tensor_model():
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    X = np.random.default_rng(0).normal(size=(3, 2))
    loss = ((model(Tensor(X)) - 1.0) ** 2).mean()
    loss.label = "loss"
    return model, X, loss


def tensor_reference(model, X):
    W1, b1, W2, b2 = (p.data for p in (model[0].weight, model[0].bias, model[2].weight,
                                       model[2].bias))
    Z1 = X @ W1.T + b1
    A1 = np.tanh(Z1)
    out = A1 @ W2.T + b2
    d2 = 2 * (out - 1.0) / out.size
    dA1 = d2 @ W2
    d1 = (1 - A1 ** 2) * dA1
    return {"d2": d2, "d1": d1, "dA1": dA1, "dW1": d1.T @ X, "dW2": d2.T @ A1,
            "db1": d1.sum(0), "db2": d2.sum(0), "Z1": Z1}


def test_tensor_neuron_steps_match_numpy_and_the_engine():
    model, X, loss = tensor_model()
    loss.backward()          # the engine's own pass: the truth the trace must show
    t = viz.trace_backward(loss, collapse="neuron")
    ref = tensor_reference(model, X)
    units = [s for s in t.steps if s.kind == "neuron"]
    assert [s.name for s in units] == ["2[0]", "0[0]", "0[1]", "0[2]", "0[3]"]
    W1g, b1g, W2g = model[0].weight.grad, model[0].bias.grad, model[2].weight.grad
    for step in units:
        d = step.detail
        layer, j = step.name[0], int(step.name[2])
        if layer == "2":
            assert np.allclose(d.delta, ref["d2"][:, j], rtol=1e-12) and d.activation == "linear"
            assert [g.product for g in d.weights] == list(W2g[j])
            continue
        assert d.activation == "tanh" and np.allclose(d.z, ref["Z1"][:, j], rtol=1e-12)
        assert np.allclose(d.delta, ref["d1"][:, j], rtol=1e-12)
        assert np.array_equal(d.fprime * d.dL_da, d.delta)
        assert np.allclose(sum(tm.product for tm in d.terms), d.dL_da, rtol=1e-12)
        assert [tm.weight_name for tm in d.terms] == [f"2.weight[0,{j}]"]
        assert [g.product for g in d.weights] == list(W1g[j])          # ∂L/∂W[j, i]
        assert np.allclose([g.product for g in d.weights], ref["dW1"][j], rtol=1e-12)
        for g in d.weights:                                            # Σ_n δ_j(n) a_i(n)
            assert np.sum(g.delta * g.input_value) == pytest.approx(g.product, rel=1e-12)
        assert d.bias.product == b1g[j] and d.bias.product == pytest.approx(ref["db1"][j])
    assert "the same 4 tensor steps compute all 4 units of this layer" in t.to_text()


def test_tensor_layer_steps_match_numpy_and_the_engine():
    model, X, loss = tensor_model()
    loss.backward()          # the engine's own pass: the truth the trace must show
    t = viz.trace_backward(loss, collapse="layer")
    ref = tensor_reference(model, X)
    by_name = {s.name: s.detail for s in t.steps if s.kind == "layer"}
    assert list(by_name) == ["2 (Linear)", "1 (Tanh)", "0 (Linear)"]
    lin2, act, lin0 = by_name.values()
    assert np.array_equal(lin2.dW, model[2].weight.grad)
    assert np.allclose(lin2.dA_prev, ref["dA1"], rtol=1e-12)
    assert np.allclose(lin2.dA_prev, lin2.delta @ lin2.W, rtol=1e-12)   # ∂L/∂A = δ W
    assert np.array_equal(act.delta, act.fprime * act.dL_da)
    assert np.allclose(act.delta, ref["d1"], rtol=1e-12)
    assert np.array_equal(lin0.dW, model[0].weight.grad)
    assert np.allclose(lin0.dW, lin0.delta.T @ lin0.A_prev, rtol=1e-12)  # δᵀ A
    assert np.array_equal(lin0.db, model[0].bias.grad)
    text = t.to_text()
    assert "∂loss/∂0.weight = δᵀ·A = Σ_n δ(n)·a(n)ᵀ   (4×3 · 3×2 = 4×2)" in text


def test_module_steps_list_the_parameters_gradients():
    model, X, loss = tensor_model()
    loss.backward()          # the engine's own pass: the truth the trace must show
    t = viz.trace_backward(loss, collapse="module")
    (step,) = [s for s in t.steps if s.kind == "module"]
    grads = {g.name: g.product for g in step.detail.params}
    assert set(grads) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    for name, p in model.named_parameters():
        assert np.array_equal(grads[name], p.grad)
    assert len(step.inner) == len(t.scalar.steps) - 4       # all but seed, mean, pow, sub


def test_latex_has_the_recursion_with_numbers():
    model, loss = scalar_mlp()
    t = viz.trace_backward(loss, collapse="neuron")
    latex = t.to_latex()
    assert latex.startswith("\\begin{aligned}") and latex.endswith("\\end{aligned}")
    d = [s for s in t.steps if s.name == "L2.n1"][0].detail
    assert r"\delta_{\mathrm{L2.n1}} &= f'(z_{\mathrm{L2.n1}})" in latex
    assert format(d.delta, ".4g") in latex
    layer = viz.trace_backward(scalar_mlp()[1], collapse="layer").to_latex()
    assert r"\operatorname{diag}" in layer and r"^\top" in layer


# ---- errors -----------------------------------------------------------------------------
def test_unknown_collapse_value():
    _, loss = scalar_mlp()
    with pytest.raises(ValueError, match="collapse must be None, 'neuron', 'layer' or 'module'"):
        viz.trace_backward(loss, collapse="neurons")


def test_graph_outside_any_module_is_refused_before_the_pass():
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    y = (x * w).tanh()
    with pytest.raises(ValueError, match="no node of this graph was made inside an nn module"):
        viz.trace_backward(y, collapse="neuron")
    assert x.grad == 0.0 and w.grad == 0.0                   # nothing half-done


# ---- the stepper ------------------------------------------------------------------------
def test_html_without_collapse_has_no_open_button(no_dot):
    _, loss = scalar_mlp()
    assert 'class="cr-open"' not in viz.trace_backward(loss).to_html()
    html = viz.trace_backward(loss, collapse="neuron").to_html()
    assert 'class="cr-open"' in html
    assert "neuron L2.n1" in html.split('<template class="cr-ui">')[0]   # the no-JS text


def test_stepper_opens_a_neuron_into_its_scalar_steps_and_closes_it(browser):
    _, loss = scalar_mlp()
    t = viz.trace_backward(loss, collapse="neuron")
    k = next(i for i, s in enumerate(t.steps) if s.name == "L2.n3")
    inner = t.steps[k].inner
    with served(browser, t.to_html()) as (page, others):
        button = page.locator(".cr-open")
        assert button.is_hidden()                        # the seed has nothing inside
        for _ in range(k):
            page.keyboard.press("ArrowRight")
        assert page.get_attribute(".cr-stepper", "data-step") == str(k)
        assert page.inner_text(".cr-eq").startswith("neuron L2.n3: a = tanh(z)")
        assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
        assert f"({len(inner)} steps inside)" in button.inner_text()
        button.click()                                   # open: the first scalar step inside
        assert page.get_attribute(".cr-stepper", "data-inside") == "0"
        assert button.get_attribute("aria-expanded") == "true"
        assert page.inner_text(".cr-eq").startswith(inner[0].formula)
        assert page.inner_text(".cr-counter") == f"step {k} of {len(t.steps) - 1}, inside: 1 of {len(inner)}"
        page.keyboard.press("ArrowRight")                # walk inside
        assert page.get_attribute(".cr-stepper", "data-inside") == "1"
        assert page.inner_text(".cr-eq").startswith(inner[1].formula)
        assert "›" in page.inner_text(".cr-title")
        page.keyboard.press("ArrowUp")                   # close: the whole neuron again
        assert page.get_attribute(".cr-stepper", "data-inside") == "-1"
        assert page.get_attribute(".cr-stepper", "data-step") == str(k)
        assert page.inner_text(".cr-eq").startswith("neuron L2.n3")
        page.keyboard.press("ArrowDown")                 # the keyboard opens it too
        assert page.get_attribute(".cr-stepper", "data-inside") == "0"
        for _ in range(len(inner)):                      # past its last step: the next step
            page.keyboard.press("ArrowRight")
        assert page.get_attribute(".cr-stepper", "data-step") == str(k + 1)
        assert page.get_attribute(".cr-stepper", "data-inside") == "-1"
        last = len(t.steps) - 1
        page.eval_on_selector(".cr-slider", "(s, v) => { s.value = v; "
                              "s.dispatchEvent(new Event('input')); }", str(last))
        assert page.inner_text(".cr-counter") == f"step {last} of {last}"
        assert others == []


def test_each_neuron_call_is_one_step_though_the_pass_interleaves_them():
    """The pass is depth-first: it finishes each layer-1 neuron between two steps of L2.n1,
    the first layer-2 neuron that uses it. Each neuron is still one step, placed at its first
    scalar step, so the collapsed steps go layer by layer; together they hold every scalar
    step exactly once, each in the pass's order."""
    _, loss = scalar_mlp()
    t = viz.trace_backward(loss, collapse="neuron")
    held = sorted(s.index for step in t.steps for s in step.inner)
    assert held == [s.index for s in t.scalar.steps]
    for step in t.steps:
        assert [s.index for s in step.inner] == sorted(s.index for s in step.inner)
    neurons = [s for s in t.steps if s.kind == "neuron"]
    layers = [int(s.name[1]) for s in neurons]
    assert layers == sorted(layers, reverse=True) and layers[0] == 3 and layers[-1] == 1
    first_of_layer_2 = next(s for s in neurons if s.name == "L2.n1")
    inner = [s.index for s in first_of_layer_2.inner]
    gaps = [(a, b) for a, b in zip(inner, inner[1:]) if b != a + 1]
    assert len(gaps) == 3                               # L1.n4, L1.n3, L1.n2 come in between
    of_step = {s.index: step.name for step in t.steps for s in step.inner}
    assert [of_step[a + 1] for a, _ in gaps] == ["L1.n4", "L1.n3", "L1.n2"]


def test_stepper_walks_an_interleaved_neuron_through_its_own_steps(browser):
    _, loss = scalar_mlp()
    t = viz.trace_backward(loss, collapse="neuron")
    k = next(i for i, s in enumerate(t.steps) if s.name == "L2.n1")
    inner = t.steps[k].inner
    gap = next(i for i in range(len(inner) - 1) if inner[i + 1].index != inner[i].index + 1)
    with served(browser, t.to_html()) as (page, others):
        for _ in range(k):
            page.keyboard.press("ArrowRight")
        button = page.locator(".cr-open")
        assert f"({len(inner)} steps inside)" in button.inner_text()
        button.click()
        for _ in range(gap + 1):                          # across the gap in the numbering
            page.keyboard.press("ArrowRight")
        assert page.get_attribute(".cr-stepper", "data-inside") == str(gap + 1)
        assert page.inner_text(".cr-eq").startswith(inner[gap + 1].formula)
        assert f"scalar step {inner[gap + 1].index}:" in page.inner_text(".cr-title")
        assert page.inner_text(".cr-counter").endswith(f"inside: {gap + 2} of {len(inner)}")
        assert others == []


def test_opened_step_keeps_its_node_in_view(browser):
    """Inside a neuron the active box is the neuron's; stepping inside keeps it on screen."""
    _, loss = scalar_mlp()
    t = viz.trace_backward(loss, collapse="neuron")
    k = len(t.steps) - 1                                  # L1.n1: the far end of the graph
    gid = t.graph.ids[t.steps[k].inner[0].node]
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    try:
        page.set_content(t.to_html())
        page.eval_on_selector(".cr-slider", "(s, v) => { s.value = v; "
                              "s.dispatchEvent(new Event('input')); }", str(k))
        page.evaluate("window.scrollTo(0, 0)")
        g = page.query_selector(f"g[id='{gid}']")
        page.click(".cr-open")
        page.keyboard.press("ArrowRight")
        box = g.bounding_box()
        # (the highlight's 3 px stroke may reach past the box the browser scrolls to)
        assert -2 <= box["y"] and box["y"] + box["height"] <= 702
        assert "cr-active" in page.get_attribute(f"g[id='{gid}']", "class")
    finally:
        page.close()


def test_without_javascript_the_page_shows_the_neuron_steps(browser):
    _, loss = scalar_mlp()
    t = viz.trace_backward(loss, collapse="neuron")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_content(t.to_html())
        assert page.locator(".cr-open").count() == 0      # no dead button
        hint = page.inner_text(".cr-hint")
        assert "turn it on" in hint and f"steps 0 to {len(t.steps) - 1}" in hint
        page.click("summary")
        steps_text = page.inner_text(".cr-static pre")
        d = [s for s in t.steps if s.name == "L1.n2"][0].detail
        assert "neuron L1.n2: a = tanh(z)" in steps_text
        assert f"= {format(d.delta, '.4g')}" in steps_text
    finally:
        context.close()


def test_an_unnamed_negative_input_is_a_parenthesised_factor() -> None:
    manual_seed(1)
    model = nn.MLP(2, [3, 1])
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    text = viz.trace_backward(loss, collapse="neuron").to_text()
    assert "·(-1) = " in text and "·-" not in text
