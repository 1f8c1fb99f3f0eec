"""micrograd's lecture ("The spelled-out intro to neural networks and backpropagation: building
micrograd", Andrej Karpathy) replayed cell by cell on chainrule, with ``from autograd_core import
Value`` and ``from viz import draw_dot`` as the only changes.

The cells are written from the lecture as taught (its names: ``label=``, ``_prev``, ``_op``,
``_backward``, ``build_topo``, ``draw_dot``; its Neuron/Layer/MLP classes; its training loops).
The truth is, where micrograd has the op (``+ * ** relu``, and ``- /`` built from them), the
same graph built with micrograd's own engine (PyPI ``micrograd==0.1.0``), same numbers and same
random seed; where it has not (``tanh``, ``exp``), central differences, the HIPS ``autograd``
package and the numbers the lecture shows (the neuron: o = 0.7071, ∂o/∂x1 = -1.5, ∂o/∂w1 = 1,
∂o/∂x2 = 0.5, ∂o/∂w2 = 0). The lecture's PyTorch cell is replaced by HIPS autograd (PyTorch is
kept out of the test suite).
"""
from __future__ import annotations

import math
import random
import re
import warnings
import xml.etree.ElementTree as ET
from typing import Any, Callable

import autograd
import autograd.numpy as anp
import pytest
from micrograd.engine import Value as MicroValue

from autograd_core import MisconceptionWarning, Value, no_grad
from viz import draw_dot

H = 1e-6


def central_difference(f: Callable[[float], float], x: float, h: float = H) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


# -- cells 1-2: the expression a*b + c, a Value class, labels, _prev and _op --------------------
def expression(V: type, labels: bool = True) -> dict[str, Any]:
    """The lecture's first graph: L = (a*b + c) * f, labelled as in the lecture."""
    kw = (lambda name: {"label": name}) if labels else (lambda name: {})
    a = V(2.0, **kw("a"))
    b = V(-3.0, **kw("b"))
    c = V(10.0, **kw("c"))
    e = a * b
    d = e + c
    f = V(-2.0, **kw("f"))
    L = d * f
    if labels:
        e.label = "e"
        d.label = "d"
        L.label = "L"
    return dict(a=a, b=b, c=c, e=e, d=d, f=f, L=L)


def test_the_expression_its_operands_and_ops_as_micrograd() -> None:
    ours, theirs = expression(Value), expression(MicroValue, labels=False)
    assert ours["L"].data == theirs["L"].data == -8.0
    d, e, c = ours["d"], ours["e"], ours["c"]
    assert d._prev == {e, c} and isinstance(d._prev, set)
    for name in ours:
        assert ours[name]._op == theirs[name]._op          # '+', '*', '' for a leaf
        assert len(ours[name]._prev) == len(theirs[name]._prev)
    assert (d._op, e._op, ours["a"]._op) == ("+", "*", "")
    assert ours["a"]._prev == set()
    assert ours["e"].label == "e" and ours["a"].label == "a"


def test_op_is_read_only() -> None:
    x = Value(1.0) + 2
    with pytest.raises(AttributeError):
        x._op = "*"                                        # type: ignore[misc]


def test_draw_dot_is_draw_graph_and_its_svg_renders() -> None:
    import viz

    assert "draw_dot" in viz.__all__
    L = expression(Value)["L"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                    # drawn before backward, as in the lecture
        g = draw_dot(L)
        assert g.svg() == viz.draw_graph(L).svg() == draw_dot(L, format="png", rankdir="LR").svg()
    assert draw_dot(L, rankdir="TB").svg() != g.svg()
    with pytest.raises(ValueError, match="'svg' or 'png'"):
        draw_dot(L, format="pdf")
    svg = g.svg()
    root = ET.fromstring(svg.encode())                     # well-formed SVG
    assert root.tag.endswith("svg")
    texts = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    for shown in ("a", "b", "c", "d", "e", "f", "L", "+", "*", "-8"):
        assert shown in texts


# -- cells 3-4: backpropagation by hand, checked numerically and by backward -----------------------
def test_manual_backpropagation_of_the_expression() -> None:
    g = expression(Value)
    g["L"].grad = 1.0
    g["f"].grad = g["d"].data                              # ∂L/∂f = d = 4
    g["d"].grad = g["f"].data                              # ∂L/∂d = f = -2
    g["c"].grad = g["d"].grad * 1.0                        # the + routes the gradient
    g["e"].grad = g["d"].grad * 1.0
    g["a"].grad = g["e"].grad * g["b"].data                # -2 * -3 = 6
    g["b"].grad = g["e"].grad * g["a"].data                # -2 * 2 = -4
    by_hand = {k: v.grad for k, v in g.items()}
    assert by_hand == {"a": 6.0, "b": -4.0, "c": -2.0, "e": -2.0, "d": -2.0, "f": 4.0, "L": 1.0}

    def lol(name: str, h: float = 0.001) -> float:         # the lecture's numerical check
        L1 = expression(Value)["L"].data
        nudged = expression(Value)
        nudged[name].data += h
        nudged["e"] = nudged["a"] * nudged["b"]
        nudged["d"] = nudged["e"] + nudged["c"]
        L2 = (nudged["d"] * nudged["f"]).data
        return (L2 - L1) / h

    for name in ("a", "b", "c", "f"):
        assert lol(name) == pytest.approx(by_hand[name], abs=1e-6)

    ours, theirs = expression(Value), expression(MicroValue, labels=False)
    ours["L"].backward()
    theirs["L"].backward()
    for name in ours:
        assert ours[name].grad == theirs[name].grad == by_hand[name]


def test_one_step_of_gradient_ascent_on_the_inputs() -> None:
    g = expression(Value)
    g["L"].backward()
    for name in ("a", "b", "c", "f"):
        g[name].data += 0.01 * g[name].grad
    e = g["a"] * g["b"]
    d = e + g["c"]
    L = d * g["f"]
    assert L.data == pytest.approx(-7.286496, abs=1e-12)  # the lecture's number


# -- cells 5-8: a neuron, by hand, by _backward, by build_topo, by backward -------------------------
B = 6.8813735870195432


def neuron(V: type = Value) -> dict[str, Any]:
    """The lecture's neuron o = tanh(x1*w1 + x2*w2 + b), labelled as in the lecture."""
    x1 = V(2.0, label="x1")
    x2 = V(0.0, label="x2")
    w1 = V(-3.0, label="w1")
    w2 = V(1.0, label="w2")
    b = V(B, label="b")
    x1w1 = x1 * w1; x1w1.label = "x1*w1"                   # noqa: E702
    x2w2 = x2 * w2; x2w2.label = "x2*w2"                   # noqa: E702
    x1w1x2w2 = x1w1 + x2w2; x1w1x2w2.label = "x1*w1 + x2*w2"   # noqa: E702
    n = x1w1x2w2 + b; n.label = "n"                        # noqa: E702
    o = n.tanh(); o.label = "o"                            # noqa: E702
    return dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, x1w1x2w2=x1w1x2w2,
                n=n, o=o)


LECTURE_GRADS = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5, "n": 0.5,
                 "x1w1": 0.5, "x2w2": 0.5, "x1w1x2w2": 0.5, "o": 1.0}


def neuron_output(**data: float) -> float:
    """The neuron on floats (for central differences)."""
    v = {**dict(x1=2.0, x2=0.0, w1=-3.0, w2=1.0, b=B), **data}
    return math.tanh(v["x1"] * v["w1"] + v["x2"] * v["w2"] + v["b"])


def assert_lecture_grads(g: dict[str, Any]) -> None:
    for name, want in LECTURE_GRADS.items():
        assert g[name].grad == pytest.approx(want, abs=1e-12), name
    for name in ("x1", "x2", "w1", "w2", "b"):             # and the truth, numerically
        start = g[name].data
        numeric = central_difference(lambda t: neuron_output(**{name: t}), start)
        assert g[name].grad == pytest.approx(numeric, abs=1e-7), name


def test_the_neuron_forward() -> None:
    g = neuron()
    assert g["o"].data == pytest.approx(0.7071, abs=1e-4)
    assert g["o"].data == pytest.approx(math.sqrt(0.5), rel=1e-15)
    assert (g["o"]._op, g["n"]._op, g["x1w1"]._op) == ("tanh", "+", "*")
    assert g["n"]._prev == {g["x1w1x2w2"], g["b"]}


def test_the_neuron_backpropagated_by_hand() -> None:
    g = neuron()
    g["o"].grad = 1.0
    g["n"].grad = 1 - g["o"].data ** 2                     # do/dn = 1 - tanh(n)^2 = 0.5
    g["x1w1x2w2"].grad = g["n"].grad
    g["b"].grad = g["n"].grad
    g["x1w1"].grad = g["x1w1x2w2"].grad
    g["x2w2"].grad = g["x1w1x2w2"].grad
    g["x2"].grad = g["w2"].data * g["x2w2"].grad
    g["w2"].grad = g["x2"].data * g["x2w2"].grad
    g["x1"].grad = g["w1"].data * g["x1w1"].grad
    g["w1"].grad = g["x1"].data * g["x1w1"].grad
    assert_lecture_grads(g)


def test_the_neuron_by_underscore_backward_node_by_node() -> None:
    g = neuron()
    g["o"].grad = 1.0
    g["o"]._backward()
    g["n"]._backward()
    g["b"]._backward()                                     # a leaf: nothing to do
    g["x1w1x2w2"]._backward()
    g["x2w2"]._backward()
    g["x1w1"]._backward()
    assert_lecture_grads(g)


def test_the_neuron_by_the_lectures_build_topo() -> None:
    g = neuron()
    o = g["o"]
    topo = []
    visited = set()

    def build_topo(v: Any) -> None:
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build_topo(child)
            topo.append(v)

    build_topo(o)
    assert len(topo) == 10 and topo[-1] is o and set(topo) == set(g.values())
    o.grad = 1.0
    for node in reversed(topo):
        node._backward()
    assert_lecture_grads(g)


def test_the_neuron_by_backward() -> None:
    g = neuron()
    g["o"].backward()
    assert_lecture_grads(g)


def test_backward_step_is_the_public_name_and_adds() -> None:
    g = neuron()
    assert type(g["o"])._backward is type(g["o"]).backward_step
    g["o"].grad = 1.0
    g["o"].backward_step()
    g["o"].backward_step()                                 # += : twice adds twice
    assert g["n"].grad == pytest.approx(2 * 0.5)


def test_the_neuron_with_tanh_written_with_exp() -> None:
    g = neuron()
    n = g["n"]
    e = (2 * n).exp()
    o = (e - 1) / (e + 1)
    o.label = "o"
    o.backward()
    assert o.data == pytest.approx(math.sqrt(0.5), rel=1e-14)
    for name in ("x1", "w1", "x2", "w2", "b", "n"):
        assert g[name].grad == pytest.approx(LECTURE_GRADS[name], abs=1e-12), name
    assert (e._op, o._op) == ("exp", "/")
    draw_dot(o).svg()


def test_the_neuron_against_hips_autograd() -> None:
    """The lecture checks the neuron with PyTorch; HIPS autograd stands in for it here."""
    def o_of(x1: Any, x2: Any, w1: Any, w2: Any, b: Any) -> Any:
        return anp.tanh(x1 * w1 + x2 * w2 + b)

    args = (2.0, 0.0, -3.0, 1.0, B)
    g = neuron()
    g["o"].backward()
    assert g["o"].data == pytest.approx(float(o_of(*args)), rel=1e-15)
    for i, name in enumerate(("x1", "x2", "w1", "w2", "b")):
        assert g[name].grad == pytest.approx(float(autograd.grad(o_of, i)(*args)), abs=1e-12)


# -- cell 9: the bug of a node used twice ---------------------------------------------------------
def test_a_node_used_twice_accumulates() -> None:
    a = Value(3.0, label="a")
    b = a + a; b.label = "b"                               # noqa: E702
    b.backward()
    assert a.grad == 2.0
    assert b._prev == {a}
    draw_dot(b).svg()

    def both(V: type) -> tuple[Any, Any]:
        a = V(-2.0)
        b = V(3.0)
        d = a * b
        e = a + b
        f = d * e
        f.backward()
        return a, b

    (a, b), (ma, mb) = both(Value), both(MicroValue)
    assert (a.grad, b.grad) == (ma.grad, mb.grad) == (-3.0, -8.0)


# -- cell 10: numbers mixed in, exp, division, subtraction, powers --------------------------------
def test_the_extended_value_class() -> None:
    a = Value(2.0)
    assert (a + 1).data == 3.0 and (1 + a).data == 3.0
    assert (a * 2).data == 4.0 and (2 * a).data == 4.0
    assert a.exp().data == pytest.approx(math.exp(2.0), rel=1e-15)
    b = Value(4.0)
    assert (a / b).data == 0.5 and (a - b).data == -2.0
    assert (a ** 2).data == 4.0
    assert (a ** 2)._op == (MicroValue(2.0) ** 2)._op == "**2"
    assert (a ** -1)._op == (MicroValue(2.0) ** -1)._op == "**-1"
    assert (a + 1)._op == "+" and a.exp()._op == "exp"


def test_mixed_arithmetic_matches_micrograd() -> None:
    def build(V: type) -> tuple[Any, ...]:
        a, b = V(2.0), V(-4.0)
        c = a + b
        d = a * b + b ** 3
        c += c + 1
        c += 1 + c + (-a)
        d += d * 2 + (b + a).relu()
        d += 3 * d + (b - a).relu()
        e = c - d
        f = e ** 2
        g = f / 2.0
        g += 10.0 / f
        g.backward()
        return a, b, g

    (a, b, g), (ma, mb, mg) = build(Value), build(MicroValue)
    assert g.data == pytest.approx(mg.data, rel=1e-12)
    assert a.grad == pytest.approx(ma.grad, rel=1e-12)
    assert b.grad == pytest.approx(mb.grad, rel=1e-12)


def test_exp_of_a_product_by_central_differences() -> None:
    n = Value(0.3)
    y = (2 * n).exp()
    y.backward()
    assert n.grad == pytest.approx(central_difference(lambda t: math.exp(2 * t), 0.3), rel=1e-8)


def test_math_functions_on_a_value_refuse_as_micrograd() -> None:
    n = Value(0.5)
    with pytest.raises(TypeError):
        math.exp(MicroValue(0.5))                          # micrograd refuses too
    with pytest.raises(TypeError, match=r"n\.tanh\(\)"):
        math.tanh(n)


# -- cells 11-13: the lecture's Neuron, Layer, MLP and training loops ----------------------------
def lecture_classes(V: type, nonlin: Callable[[Any], Any] = lambda act: act.tanh()
                    ) -> tuple[type, type, type]:
    """The lecture's classes, written against the Value class ``V`` (and, to compare with
    micrograd, which has no tanh, another nonlinearity)."""
    class Neuron:
        def __init__(self, nin: int) -> None:
            self.w = [V(random.uniform(-1, 1)) for _ in range(nin)]
            self.b = V(random.uniform(-1, 1))

        def __call__(self, x: list[Any]) -> Any:
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
            out = nonlin(act)
            return out

        def parameters(self) -> list[Any]:
            return self.w + [self.b]

    class Layer:
        def __init__(self, nin: int, nout: int) -> None:
            self.neurons = [Neuron(nin) for _ in range(nout)]

        def __call__(self, x: list[Any]) -> Any:
            outs = [n(x) for n in self.neurons]
            return outs[0] if len(outs) == 1 else outs

        def parameters(self) -> list[Any]:
            return [p for neuron in self.neurons for p in neuron.parameters()]

    class MLP:
        def __init__(self, nin: int, nouts: list[int]) -> None:
            sz = [nin] + nouts
            self.layers = [Layer(sz[i], sz[i + 1]) for i in range(len(nouts))]

        def __call__(self, x: list[Any]) -> Any:
            for layer in self.layers:
                x = layer(x)
            return x

        def parameters(self) -> list[Any]:
            return [p for layer in self.layers for p in layer.parameters()]

    return Neuron, Layer, MLP


XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]
SEED = 42


def lecture_mlp(V: type = Value, **kw: Any) -> Any:
    random.seed(SEED)
    _, _, MLP = lecture_classes(V, **kw)
    return MLP(3, [4, 4, 1])


def hips_loss(flat: Any) -> Any:
    """The lecture's MLP(3, [4, 4, 1]) and squared-error loss on a flat parameter vector, in
    HIPS autograd's NumPy (per neuron: its weights, then its bias, as parameters() lists them)."""
    i = 0
    total = 0.0
    for x, y in zip(XS, YS):
        a, i = list(x), 0
        for nin, nout in ((3, 4), (4, 4), (4, 1)):
            outs = []
            for _ in range(nout):
                w, b = flat[i:i + nin], flat[i + nin]
                i += nin + 1
                outs.append(anp.tanh(anp.sum(w * anp.array(a)) + b))
            a = outs
        total = total + (a[0] - y) ** 2
    return total


def test_the_mlp_forward_backward_and_drawing() -> None:
    n = lecture_mlp()
    x = [2.0, 3.0, -1.0]
    out = n(x)
    assert isinstance(out, Value) and out._op == "tanh"
    assert len(n.parameters()) == 41
    ypred = [n(x) for x in XS]
    loss = sum((yout - ygt) ** 2 for ygt, yout in zip(YS, ypred))
    loss.backward()
    flat = anp.array([p.data for p in n.parameters()])
    assert loss.data == pytest.approx(float(hips_loss(flat)), rel=1e-12)
    want = autograd.grad(hips_loss)(flat)
    for p, g in zip(n.parameters(), want):
        assert p.grad == pytest.approx(float(g), rel=1e-9, abs=1e-12)
    w = n.layers[0].neurons[0].w[0]
    assert w.grad == pytest.approx(float(want[0]), rel=1e-9, abs=1e-12)
    ET.fromstring(draw_dot(n(x)).svg().encode())          # the lecture draws the MLP's output
    svg = draw_dot(loss).svg()                             # and the whole loss: 706 boxes
    ET.fromstring(svg.encode())
    drawn = re.findall(r'<g id="([vo])\d+"', svg)          # v: value boxes, o: op circles
    assert (drawn.count("v"), drawn.count("o")) == (402, 304)


def test_the_training_loop_as_taught() -> None:
    """The lecture's final loop (grad reset to 0.0 before backward, step -0.1 · grad), against
    the same gradient descent on HIPS autograd's gradient."""
    n = lecture_mlp()
    flat = anp.array([p.data for p in n.parameters()])
    grad = autograd.grad(hips_loss)
    losses = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", MisconceptionWarning)   # a correct loop: no warning
        for k in range(20):
            ypred = [n(x) for x in XS]
            loss = sum((yout - ygt) ** 2 for ygt, yout in zip(YS, ypred))
            for p in n.parameters():
                p.grad = 0.0
            loss.backward()
            for p in n.parameters():
                p.data += -0.1 * p.grad
            losses.append(loss.data)
            assert loss.data == pytest.approx(float(hips_loss(flat)), rel=1e-9)
            flat = flat - 0.1 * grad(flat)
    assert [p.data for p in n.parameters()] == pytest.approx(list(flat), rel=1e-8, abs=1e-10)
    assert losses[-1] < losses[0] / 10
    assert f"{loss:.4f}" == f"{loss.data:.4f}"            # formatting a loss keeps working


def relu(act: Any) -> Any:
    return act.relu()


def train_like_micrograd(V: type, steps: int, zero: bool) -> tuple[list[float], list[float]]:
    """The lecture's loop on its classes with ReLU (micrograd has no tanh), with or without
    the gradient reset; the losses and the final parameters."""
    n = lecture_mlp(V, nonlin=relu)
    losses = []
    for _ in range(steps):
        ypred = [n(x) for x in XS]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(YS, ypred))
        if zero:
            for p in n.parameters():
                p.grad = 0.0
        loss.backward()
        for p in n.parameters():
            p.data += -0.05 * p.grad
        losses.append(loss.data)
    return losses, [p.data for p in n.parameters()]


@pytest.mark.parametrize("zero", [True, False], ids=["zeroed", "forgetting zero_grad"])
def test_the_training_loop_matches_micrograd_step_by_step(zero: bool) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MisconceptionWarning)
        ours = train_like_micrograd(Value, 12, zero)
    theirs = train_like_micrograd(MicroValue, 12, zero)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-10)
    assert ours[1] == pytest.approx(theirs[1], rel=1e-10, abs=1e-12)


def test_the_loop_that_forgets_zero_grad_warns_once_and_names_the_fix() -> None:
    """The lecture's bug: no reset before backward. Numbers as micrograd's (above); one warning."""
    n = lecture_mlp()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for k in range(6):
            ypred = [n(x) for x in XS]
            loss = sum((yout - ygt) ** 2 for ygt, yout in zip(YS, ypred))
            loss.backward()
            for p in n.parameters():
                p.data += -0.1 * p.grad
    found = [w for w in record if issubclass(w.category, MisconceptionWarning)]
    assert len(found) == 1
    message = str(found[0].message)
    assert "p.grad = 0.0" in message and "zero_grad()" in message
    assert "41 parameters" in message
    assert found[0].filename == __file__


def test_float_of_a_value_is_for_the_number_only() -> None:
    loss = Value(2.0) * Value(3.0)
    assert f"{loss:.4f}" == "6.0000" and "%.1f" % loss == "6.0"
    assert loss.item() == loss.data == 6.0
    assert loss > 5 and str(loss) == repr(loss)
    with pytest.raises(TypeError, match=r"loss\.item\(\)"):
        float(loss)
    with no_grad():
        assert float(loss) == 6.0
