"""The classic network diagram: :func:`draw_network` draws a model's inputs and neurons as
circles in layer columns, with every connection between them.

Each edge is one weight ``w_ji`` (from unit ``i`` of a column to neuron ``j`` of the next):
blue when it is positive, orange when negative (a colour-blind-safe pair), its width
proportional to ``|w_ji|`` relative to the largest weight of the model, or, with
``show="grad"``, the same for ``∂L/∂w_ji`` (then the colour is the gradient's sign: the
direction gradient descent will *not* move the weight). Once a sample is given as ``inputs``
each neuron shows its activation ``a_j = f(z_j)``, ``z_j = Σ_i w_ji a_i + b_j``; once a
backward has run it also shows ``δ_j = ∂L/∂z_j``, read from the bias gradient ``∂L/∂b_j``.

Every position is computed here (columns left to right, units top to bottom in index
order) and Graphviz only draws them (its ``nop2`` engine: no layout search), so the order is
exact and the time stays small for a 64-input network with thousands of edges.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import graphviz
import numpy as np

import nn
from autograd_core import REAL_NUMBER_TYPES, Tensor, Value, no_grad

from . import render as _render
from .graph import Graph
from .render import MIN_TEXT_PX, NOTEBOOK_WIDTH_PX
from .style import (FONT, NEGATIVE_COLOR, POSITIVE_COLOR, ROLES, ZERO_COLOR, NumberFormat,
                    clean_text, dot_escape, format_number, validate_number_format)

SHOWS = ("weight", "grad")
ENGINE = "nop2"
"""Graphviz's engine that keeps the given positions (``neato -n2``): nothing is laid out."""

ACTIVATION_MODULES = (nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.Sigmoid, nn.Tanh, nn.Softplus,
                      nn.Softmax, nn.Identity)
"""Tensor modules that act on a layer's units without mixing them in new weights: drawn as
the activation of the ``Linear`` before them."""

PNG_EDGE_PIXELS = 5e8
"""Without ``dot``, a network's PNG is scaled so that edges × pixels stays under this (resvg
takes about 1.3 s per 10⁹ on two cores; and a PNG of hundreds of antialiased edges compresses
badly: at 2e9 the digits net's PNG was 2.9 MB, one notebook output)."""

NAME_PT, VALUE_PT, SMALL_PT = 10.0, 9.0, 10.0
MIN_WIDTH_PT, MAX_WIDTH_PT = 0.3, 3.5
"""Edge widths (points): 0 and the model's largest ``|w|`` map to these, linearly."""
HIGHLIGHT_COLOR, HIGHLIGHT_WIDTH_PT = "#7f1d1d", 1.8
"""A highlighted edge (``draw_network(highlight=...)``): dashed dark red, at least this wide."""
MIN_GAP_PT, MAX_GAP_PT = 1.6 * 72, 5 * 72
"""The horizontal gap between two columns (points)."""
PAD_PT = 18.0
MIN_ALPHA = 0.2
"""Edge opacity: from this (near 0) to 1 (the largest), so small weights recede."""


# ---------------------------------------------------------------------------------------------
# what is drawn: one column per layer, read from the model
# ---------------------------------------------------------------------------------------------
@dataclass
class _Layer:
    """One layer of weights as the diagram needs it: ``weight[j, i]`` joins unit ``i`` of the
    previous column to unit ``j`` of this one."""

    key: str                                  # "L2" / "0"
    title: str                                # column header
    activation: str                           # "relu", "Tanh", ...
    units: list[str]                          # unit names, in index order
    weight: np.ndarray                        # (nout, nin)
    weight_grad: np.ndarray | None            # (nout, nin), None before any backward
    bias: np.ndarray | None                   # (nout,)
    bias_grad: np.ndarray | None              # (nout,)
    weight_label: Callable[[int, int], str]   # (j, i) -> "L2.n7.w3" / "0.weight[6, 2]"
    # the forward at this layer: the previous column's activations -> (z, a)
    forward: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] = field(repr=False)


def _grad_array(values: Sequence[Any]) -> np.ndarray | None:
    grads = [getattr(v, "grad", None) for v in values]
    if all(g is None for g in grads):
        return None
    return np.array([0.0 if g is None else float(getattr(g, "data", g)) for g in grads])


def _scalar_layers(model: Any) -> list[_Layer]:
    """The layers of a scalar ``MLP``, ``Layer`` or ``Neuron``, named by their labels."""
    if isinstance(model, nn.MLP):
        layers, keys = list(model.layers), [f"L{k + 1}" for k in range(len(model.layers))]
    elif isinstance(model, nn.Layer):
        layers, keys = [model], [getattr(model, "label", None) or "L1"]
    else:                                         # a Neuron: a layer of one
        layers, keys = [None], [getattr(model, "label", None) or "L1"]
    result = []
    for layer, key in zip(layers, keys):
        neurons = [model] if layer is None else list(layer.neurons)
        units = [getattr(n, "label", None) or (f"{key}.n{j + 1}" if layer is not None else "n1")
                 for j, n in enumerate(neurons)]
        weights = [list(n.w) for n in neurons]
        labels = [[w.label or f"{units[j]}.w{i + 1}" for i, w in enumerate(ws)]
                  for j, ws in enumerate(weights)]
        has_bias = all(n.b is not None for n in neurons)
        biases = [n.b for n in neurons] if has_bias else []

        def forward(a_prev: np.ndarray, neurons: list[Any] = neurons) -> tuple[np.ndarray, np.ndarray]:
            inputs = [float(v) for v in a_prev]
            z = np.array([sum(w.data * x for w, x in zip(n.w, inputs))
                          + (n.b.data if n.b is not None else 0.0) for n in neurons])
            a = np.array([float(n(inputs).data) for n in neurons])   # the model's own forward
            return z, a

        activation = neurons[0].activation
        result.append(_Layer(
            key=key, title=f"{key}: {len(neurons)} × {activation}", activation=activation,
            units=units, weight=np.array([[w.data for w in ws] for ws in weights], dtype=float),
            weight_grad=_stack_or_none([_grad_array(ws) for ws in weights]),
            bias=np.array([b.data for b in biases]) if has_bias else None,
            bias_grad=_grad_array(biases) if has_bias else None,
            weight_label=lambda j, i, labels=labels: labels[j][i], forward=forward))
    return result


def _stack_or_none(rows: list[np.ndarray | None]) -> np.ndarray | None:
    if all(r is None for r in rows):
        return None
    width = next(len(r) for r in rows if r is not None)
    return np.array([np.zeros(width) if r is None else r for r in rows])


def _flatten(model: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``(path, module)`` of every module of a (nested) ``Sequential``, in order."""
    items = []
    for name, child in model.named_children():
        path = f"{prefix}{name}"
        if isinstance(child, nn.Sequential):
            items.extend(_flatten(child, path + "."))
        else:
            items.append((path, child))
    return items


def _tensor_array(t: Any) -> np.ndarray | None:
    if t is None:
        return None
    return np.array(getattr(t, "data", t), dtype=float)


def _tensor_layers(model: Any) -> list[_Layer]:
    """The layers of a ``Sequential`` of ``Linear`` and activation modules (or one ``Linear``)."""
    modules = [("", model)] if isinstance(model, nn.Linear) else _flatten(model)
    groups: list[tuple[str, Any, list[tuple[str, Any]]]] = []   # (path, Linear, activations)
    for path, module in modules:
        if isinstance(module, nn.Linear):
            if groups and groups[-1][1].out_features != module.in_features:
                prev_path, prev, _ = groups[-1]
                raise ValueError(
                    f"draw_network: Linear {path!r} takes {module.in_features} inputs but the "
                    f"Linear before it ({prev_path!r}) gives {prev.out_features}")
            groups.append((path, module, []))
        elif isinstance(module, ACTIVATION_MODULES):
            if not groups:
                raise ValueError(
                    f"draw_network: the Sequential starts with {type(module).__name__} "
                    f"({path!r}) before any Linear; a diagram's columns are Linear layers, "
                    f"each followed by its activations")
            groups[-1][2].append((path, module))
        else:
            supported = ", ".join(["Linear"] + [m.__name__ for m in ACTIVATION_MODULES])
            hint = (" (a Dropout/BatchNorm1d layer changes the units in ways a weight diagram "
                    "cannot show: draw a Sequential without it, e.g. nn.Sequential(*[m for m "
                    "in model if not isinstance(m, nn.Dropout)]))"
                    if isinstance(module, (nn.Dropout, nn.BatchNorm1d)) else "")
            raise ValueError(f"draw_network cannot draw module {path!r} "
                             f"({type(module).__name__}) of the Sequential: it draws Linear "
                             f"layers and the activations {supported}{hint}")
    if not groups:
        raise ValueError("draw_network: the Sequential has no Linear layer to draw")

    result = []
    for path, linear, activations in groups:
        label = linear.weight.label or (f"{path}.weight" if path else "weight")
        key = label[:-len(".weight")] if label.endswith(".weight") else path
        units = [f"{key}.n{j + 1}" if key else f"n{j + 1}" for j in range(linear.out_features)]
        act_names = [type(m).__name__ for _, m in activations]
        title = (f"{path + ' ' if path else ''}Linear"
                 + "".join(f" → {p} {n}" for (p, _), n in zip(activations, act_names))
                 + f": {linear.out_features} units")

        def forward(a_prev: np.ndarray, linear: Any = linear, activations: list = activations
                    ) -> tuple[np.ndarray, np.ndarray]:
            x = linear(Tensor(np.asarray(a_prev, dtype=float)[None, :]))   # a batch of one
            z = np.array(x.data, dtype=float)[0]
            for _, module in activations:
                x = module(x)
            return z, np.array(x.data, dtype=float)[0]

        result.append(_Layer(
            key=key or "Linear", title=title,
            activation=" ∘ ".join(reversed(act_names)) if act_names else "linear",
            units=units, weight=_tensor_array(linear.weight),
            weight_grad=_tensor_array(linear.weight.grad),
            bias=_tensor_array(linear.bias) if linear.bias is not None else None,
            bias_grad=_tensor_array(linear.bias.grad) if linear.bias is not None else None,
            weight_label=lambda j, i, label=label: f"{label}[{j}, {i}]", forward=forward))
    return result


def _network_layers(model: Any) -> list[_Layer]:
    """The model's layers as :func:`draw_network` draws them; ``TypeError`` for models it
    cannot draw, ``ValueError`` for a ``Sequential`` with modules other than ``Linear`` and
    activations."""
    if isinstance(model, (nn.MLP, nn.Layer, nn.Neuron)):
        return _scalar_layers(model)
    if isinstance(model, (nn.Sequential, nn.Linear)):
        return _tensor_layers(model)
    raise TypeError(f"draw_network draws a scalar nn.MLP, nn.Layer or nn.Neuron, or an "
                    f"nn.Sequential of Linear layers and activations; got "
                    f"{type(model).__name__}")


def _inputs_vector(inputs: Any, n: int) -> np.ndarray:
    """``inputs`` (a list of numbers/Values, a 1-D array, a Tensor of shape (n,) or (1, n)) as
    a float vector of length ``n``."""
    if isinstance(inputs, (Value, Tensor)):
        data = inputs.data
    elif isinstance(inputs, (list, tuple)):
        data = [v.data if isinstance(v, Value) else v for v in inputs]
    else:
        data = inputs
    if isinstance(data, (str, bytes)) or isinstance(data, REAL_NUMBER_TYPES) and n != 1:
        raise TypeError(f"inputs must be one sample: a list of {n} numbers, a 1-D array or a "
                        f"Tensor; got {type(inputs).__name__}")
    try:
        arr = np.asarray(data, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"inputs must be one sample of {n} numbers (a list, a 1-D array or a "
                        f"Tensor); got {type(inputs).__name__} that is not numeric") from None
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"inputs must be one sample (shape ({n},) or (1, {n})); got shape "
                         f"{arr.shape}: pass one row, e.g. X[0]")
    if arr.shape[0] != n:
        raise ValueError(f"the model takes {n} inputs; inputs has {arr.shape[0]}")
    return arr


# ---------------------------------------------------------------------------------------------
# the drawing
# ---------------------------------------------------------------------------------------------
class NetworkDiagram(Graph):
    """A drawn network (:func:`draw_network`): a :class:`Graph`, so it shows inline in
    Jupyter (SVG, and PNG for clients without SVG where one can be made: not in Pyodide) and
    ``save()`` writes .svg, .png or .dot.

    Attributes (beyond :class:`Graph`'s):
        columns: the unit names of every column as drawn, inputs first, top to bottom
            (elided units are left out: see ``elided``).
        layer_sizes: the number of units of every column, inputs first (drawn or not).
        ids: unit name -> the SVG ``id`` of its circle.
        edge_ids: weight name (``L2.n7.w3`` / ``0.weight[6, 2]``) -> the SVG ``id`` of its
            edge, for every edge drawn.
        elided: column index -> how many of its units are not drawn (``max_units_per_layer``).
        show: ``"weight"`` or ``"grad"``: what the edges show.
    """

    columns: list[list[str]]
    layer_sizes: list[int]
    edge_ids: dict[str, str]
    elided: dict[int, int]
    show: str

    def png(self) -> bytes:
        """The drawing as PNG (cached): rasterised at up to twice its size, less for a large
        network, where resvg's time grows with edges × pixels (``PNG_EDGE_PIXELS``), so that
        a 64-input network with 2368 edges still takes a few seconds, not a quarter minute."""
        if self._png is None:
            if _render.backend() == "dot":
                return super().png()
            width, height = self.size()
            cost = max(1, self.edge_count) * width * height
            self._png = _render.svg_to_png(self.svg(), scale=min(2.0, math.sqrt(
                PNG_EDGE_PIXELS / cost)))
        return self._png

    def alt_text(self) -> str:
        sizes = " → ".join(str(n) for n in self.layer_sizes)
        drawn = f"{self.edge_count} connections drawn"
        return (f"Network diagram {sizes}: edges coloured by the sign of each "
                f"{'weight' if self.show == 'weight' else 'weight gradient'}, "
                f"width by its size; {drawn}")

    def __repr__(self) -> str:
        sizes = "-".join(str(n) for n in self.layer_sizes)
        more = (f", {sum(self.elided.values())} units elided" if self.elided else "")
        return f"<viz.NetworkDiagram {sizes}: {self.edge_count} connections{more}>"


def _text_width(text: str, size: float) -> float:
    """A generous estimate of ``text``'s width in points (Helvetica-like, ~0.58 em a char)."""
    return 0.58 * size * len(text)


def _hex_alpha(color: str, alpha: float) -> str:
    return f"{color}{max(0, min(255, round(alpha * 255))):02x}"


def _shown_indices(n: int, limit: int | None) -> tuple[list[int], int]:
    """The unit indices drawn in a column of ``n`` (the first ``limit - 1`` and the last) and
    how many are elided (drawn as one marker before the last)."""
    if limit is None or n <= limit:
        return list(range(n)), 0
    return list(range(limit - 1)) + [n - 1], n - limit


def draw_network(model: Any, *, inputs: Any = None, show: str = "weight",
                 input_names: Sequence[str] | None = None,
                 max_units_per_layer: int | None = None, number_format: NumberFormat = ".3g",
                 legend: bool = True, title: str | None = None,
                 highlight: str | Sequence[str] = ()) -> NetworkDiagram:
    """Draw ``model`` as the classic network diagram and return it (a :class:`NetworkDiagram`,
    which displays inline in Jupyter like :func:`draw_graph`'s graphs).

    Columns left to right: the inputs, then one column per layer, its neurons top to bottom
    in index order. Every connection is an edge: the weight ``w_ji`` from unit ``i`` of one
    column to neuron ``j`` of the next.

    Args:
        model: a scalar ``nn.MLP`` (or ``nn.Layer``, ``nn.Neuron``), or an ``nn.Sequential``
            of ``nn.Linear`` layers each followed by any of ``ReLU``, ``LeakyReLU``,
            ``PReLU``, ``Sigmoid``, ``Tanh``, ``Softplus``, ``Softmax``, ``Identity`` (nested
            Sequentials are flattened; ``Dropout``, ``BatchNorm1d`` and other modules are
            refused with a ``ValueError``), or a single ``nn.Linear``.
        inputs: one sample (a list of numbers or Values, a 1-D array, a Tensor of shape
            ``(n,)`` or ``(1, n)``). The model does not keep the activations of its last
            forward (neither does PyTorch), so ``draw_network`` runs the forward again on
            this sample, under ``no_grad`` with the model's current weights, through the
            model's own modules: each input then shows its value and each neuron its
            activation ``a_j = f(z_j)`` (its tooltip also shows ``z_j``). Nothing in the
            model changes (no gradients, no random draws).
        show: ``"weight"`` (default): colour and width by the weight ``w_ji``; ``"grad"``: by
            its gradient ``∂L/∂w_ji`` from the last backward (``ValueError`` before any).
            Blue is positive, orange negative, grey exactly zero (dashed grey: nan or inf,
            which is left out of the scaling); the width grows linearly
            with the magnitude (:func:`edge_width`: 0.3 pt at 0, 3.5 pt at the model's largest
            magnitude), and so does the opacity; the strongest edges are drawn on top.
        input_names: names of the inputs; ``x1, x2, …`` by default.
        max_units_per_layer: draw at most this many units of a column (inputs included):
            the first ones and the last, with a "… 48 more" marker in place of the rest,
            whose connections are not drawn (the legend counts them). ``None`` (default)
            draws every unit. A digits net (64 inputs) reads best with 16 or so.
        number_format: format spec or callable for the numbers (``".3g"``).
        legend: add a legend below the network (edge colours, widths, what a and δ are).
        title: a caption under the diagram.
        highlight: weight names (``"L2.n3.w2"``) whose edges are drawn dashed in dark red, on
            top of the others, to point at them (notes 004's red edge ``w²₃,₂``); a name the
            diagram does not draw is a ``ValueError``.

    Names are the library's parameter labels. Scalar models: neuron ``L2.n7`` (its
    ``label``), weight ``L2.n7.w3`` (from unit 3 of the column before into ``L2.n7``).
    Sequential: the units of the ``Linear`` whose weight is ``0.weight`` are ``0.n1``,
    ``0.n2``, … (numbered from 1 like the scalar neurons and ``x1``), and the weight into
    ``0.n7`` from input 3 is ``0.weight[6, 2]`` (the tensor's own, 0-based, index).

    Once a backward has run (any parameter has a nonzero gradient) each neuron also shows
    ``δ_j = ∂L/∂z_j``, the gradient of the loss with respect to the neuron's
    pre-activation, which is its bias gradient ``∂L/∂b_j`` (summed over the batch if the
    loss was; a neuron without bias shows no δ). It is the notes' δ of the backward
    recursion ``δ^ℓ = f'(z^ℓ) ⊙ W_{ℓ+1}ᵀ δ^{ℓ+1}``, and ``∂L/∂w_ji = δ_j a_i``.
    """
    if show not in SHOWS:
        raise ValueError(f"show must be 'weight' or 'grad'; got {show!r}")
    if max_units_per_layer is not None and (
            isinstance(max_units_per_layer, bool) or not isinstance(max_units_per_layer, int)
            or max_units_per_layer < 2):
        raise ValueError(f"max_units_per_layer must be None or an int of at least 2 (the "
                         f"first units and the last are drawn); got {max_units_per_layer!r}")
    number_format = validate_number_format(number_format)
    layers = _network_layers(model)
    n_in = layers[0].weight.shape[1]

    if input_names is None:
        names_in = [f"x{i + 1}" for i in range(n_in)]
    else:
        if isinstance(input_names, str) or not isinstance(input_names, Sequence):
            raise TypeError(f"input_names must be a list of {n_in} strings; got "
                            f"{type(input_names).__name__}")
        if len(input_names) != n_in:
            raise ValueError(f"the model takes {n_in} inputs; input_names has "
                             f"{len(input_names)} names")
        if not all(isinstance(s, str) for s in input_names):
            raise TypeError("input_names must be strings")
        names_in = [clean_text(s) for s in input_names]
    all_names = names_in + [u for layer in layers for u in layer.units]
    if len(set(all_names)) != len(all_names):
        repeated = sorted({u for u in all_names if all_names.count(u) > 1})
        raise ValueError(f"draw_network: names must be unique; repeated: {', '.join(repeated)}")

    # the forward (only with inputs) and the gradients of the last backward
    activations: list[np.ndarray] | None = None
    pre: list[np.ndarray | None] = [None]
    if inputs is not None:
        a = _inputs_vector(inputs, n_in)
        activations = [a]
        with no_grad():
            for layer in layers:
                z, a = layer.forward(a)
                pre.append(z)
                activations.append(a)
    has_grads = any(g is not None and np.any(g != 0) for layer in layers
                    for g in (layer.weight_grad, layer.bias_grad))
    if show == "grad" and not has_grads:
        raise ValueError("show='grad' draws each weight's gradient, but the model has none yet: "
                         "run a forward and loss.backward() first (or use show='weight')")
    edge_values = [layer.weight if show == "weight" else
                   (layer.weight_grad if layer.weight_grad is not None
                    else np.zeros_like(layer.weight)) for layer in layers]
    finite = [np.abs(v[np.isfinite(v)]) for v in edge_values]
    vmax = max(float(np.max(f)) if f.size else 0.0 for f in finite)

    fmt = lambda v: format_number(float(v), number_format)  # noqa: E731
    columns_all = [names_in] + [layer.units for layer in layers]
    shown = [_shown_indices(len(c), max_units_per_layer) for c in columns_all]

    # every unit's lines of text: name, then a and δ when known
    def unit_lines(c: int, j: int) -> list[str]:
        lines = [columns_all[c][j]]
        if activations is not None:
            lines.append(fmt(activations[c][j]) if c == 0 else "a " + fmt(activations[c][j]))
        if c > 0 and has_grads and layers[c - 1].bias_grad is not None:
            lines.append("δ " + fmt(layers[c - 1].bias_grad[j]))
        return lines

    texts = {(c, j): unit_lines(c, j) for c, (idx, _) in enumerate(shown) for j in idx}
    widest = max(max(_text_width(t, NAME_PT if k == 0 else VALUE_PT) for k, t in enumerate(ls))
                 for ls in texts.values())
    tallest = max(len(ls) for ls in texts.values())
    text_h = NAME_PT * 1.2 + (tallest - 1) * VALUE_PT * 1.2
    diameter = max(30.0, math.hypot(widest, text_h) + 2.0)
    pitch = diameter + max(6.0, 0.18 * diameter)
    slots = [len(idx) + (1 if hidden else 0) for idx, hidden in shown]
    height = max(slots) * pitch
    # wide enough that the fan of edges between two tall columns can be followed, narrow
    # enough that the diagram fits a notebook column with its text readable (fit_width)
    n_cols = len(columns_all)
    usable = NOTEBOOK_WIDTH_PX * VALUE_PT / MIN_TEXT_PX - 2 * PAD_PT - 8.0   # points
    fits = (usable - n_cols * diameter) / max(1, n_cols - 1)
    col_gap = max(MIN_GAP_PT, min(0.3 * height, fits, MAX_GAP_PT))
    header_h = 2 * SMALL_PT * 1.25 + 10.0

    def position(c: int, slot: int) -> tuple[float, float]:
        x = diameter / 2 + c * (diameter + col_gap)
        y = header_h + (height - slots[c] * pitch) / 2 + (slot + 0.5) * pitch
        return x, -y                               # Graphviz's y grows upwards

    dot = graphviz.Digraph(name="chainrule_network")
    dot.attr(bgcolor="white", fontname=FONT, splines="line", outputorder="edgesfirst",
             pad=f"{PAD_PT / 72:g}")
    if title:
        dot.attr(label=graphviz.nohtml(dot_escape(title)), labelloc="b", fontsize="11")
    dot.attr("node", fontname=FONT, fontsize=f"{NAME_PT:g}", fixedsize="true")
    dot.attr("edge", dir="none")

    ids: dict[str, str] = {}
    roles: dict[str, str] = {}
    columns: list[list[str]] = []
    elided: dict[int, int] = {}
    node_count = 0
    inactive_present = False
    last = len(columns_all) - 1
    for c, (idx, hidden) in enumerate(shown):
        role = "input" if c == 0 else "output" if c == last else "intermediate"
        fill, border, _ = ROLES[role]
        header = ("inputs", f"{len(columns_all[0])} values") if c == 0 else \
            tuple(layers[c - 1].title.split(": ", 1))
        hx, _ = position(c, 0)                     # every header on the top row, above all edges
        _text_node(dot, f"header{c}", list(header), hx, -header_h / 2, id=f"cr-net-header{c}",
                   cls="cr-net-header", centre=True)
        columns.append([columns_all[c][j] for j in idx])
        slot = 0
        for j in idx:
            if hidden and j == idx[-1]:
                mx, my = position(c, slot)
                first, last_hidden = columns_all[c][idx[-2] + 1], columns_all[c][j - 1]
                _text_node(dot, f"more{c}", [f"… {hidden} more", f"{first} … {last_hidden}"],
                           mx, my, id=f"cr-net-more{c}", cls="cr-net-more", centre=True,
                           color="#4b5563")
                elided[c] = hidden
                node_count += 1
                slot += 1
            x, y = position(c, slot)
            slot += 1
            name = columns_all[c][j]
            uid = f"cr-in{j + 1}" if c == 0 else f"cr-u{c}_{j + 1}"
            ids[name] = uid
            roles[name] = role
            lines = texts[(c, j)]
            inactive = c > 0 and activations is not None and activations[c][j] == 0
            inactive_present |= inactive
            dot.node(name, label=graphviz.nohtml("\\n".join(dot_escape(t) for t in lines)),
                     shape="circle", width=f"{diameter / 72:.3f}", pos=f"{x:.2f},{y:.2f}!",
                     style="filled,dashed" if inactive else "filled",
                     fillcolor="#ffffff" if inactive else fill, color=border, id=uid,
                     tooltip=dot_escape(_unit_tooltip(c, j, name, layers, activations, pre,
                                                      has_grads, fmt)),
                     **({"fontsize": f"{VALUE_PT:g}"} if len(lines) > 1 else {}),
                     **{"class": f"cr-net-unit cr-role-{role}"
                                 + (" cr-inactive" if inactive else "")})
            node_count += 1

    edge_ids: dict[str, str] = {}
    edges = []
    for c in range(1, len(columns_all)):
        values = edge_values[c - 1]
        for j in shown[c][0]:
            for i in shown[c - 1][0]:
                edges.append((abs(float(values[j, i])), c, j, i))
    marked = {highlight} if isinstance(highlight, str) else set(highlight)
    edges.sort(key=lambda e: (layers[e[1] - 1].weight_label(e[2], e[3]) in marked,   # marked,
                              e[0] if math.isfinite(e[0]) else -1.0))   # then the strongest on top
    zero_present = False
    for magnitude, c, j, i in edges:
        layer = layers[c - 1]
        value = float(edge_values[c - 1][j, i])
        ratio = magnitude / vmax if vmax > 0 and math.isfinite(magnitude) else 0.0
        style = "solid"
        if not math.isfinite(value):              # nan/inf: thin, grey and dashed
            color, kind, style = ZERO_COLOR, "cr-nonfinite", "dashed"
        elif value == 0:
            color, kind, zero_present = _hex_alpha(ZERO_COLOR, 0.5), "cr-zero", True
        else:
            color = _hex_alpha(POSITIVE_COLOR if value > 0 else NEGATIVE_COLOR,
                               MIN_ALPHA + (1 - MIN_ALPHA) * ratio)
            kind = "cr-pos" if value > 0 else "cr-neg"
        label = layer.weight_label(j, i)
        width = edge_width(ratio)
        if label in marked:
            color, style, width = HIGHLIGHT_COLOR, "dashed", max(width, HIGHLIGHT_WIDTH_PT)
            kind += " cr-highlight"
        eid = f"cr-w{c}_{j + 1}_{i + 1}"
        edge_ids[label] = eid
        grad = layer.weight_grad[j, i] if layer.weight_grad is not None else None
        tooltip = f"{label} = {fmt(layer.weight[j, i])}" + (
            f", ∂L/∂w = {fmt(grad)}" if has_grads and grad is not None else "")
        dot.edge(columns_all[c - 1][i], columns_all[c][j], id=eid, color=color,
                 penwidth=f"{width:.3f}", tooltip=dot_escape(tooltip), style=style,
                 **{"class": f"cr-net-edge {kind}"})

    unknown = sorted(marked - set(edge_ids))
    if unknown:
        raise ValueError(f"highlight names weights this diagram does not draw: {', '.join(unknown)} "
                         f"(its weights are named like {next(iter(edge_ids), 'L1.n1.w1')})")
    total_edges = sum(layer.weight.size for layer in layers)
    if legend:
        strongest = _strongest(layers, edge_values)
        if strongest is not None and strongest not in edge_ids:   # elided by max_units_per_layer
            strongest += ", not drawn"
        _add_legend(dot, show=show, vmax=vmax, strongest=strongest,
                    zero=zero_present, activations=activations is not None, deltas=has_grads,
                    inactive=inactive_present, drawn=len(edges), total=total_edges, fmt=fmt,
                    top=-(header_h + height + 16.0))

    diagram = NetworkDiagram(dot, ids=ids, op_ids={}, names={n: n for n in ids}, roles=roles,
                             node_count=node_count, edge_count=len(edges), engine=ENGINE)
    diagram.columns = columns
    diagram.layer_sizes = [len(c) for c in columns_all]
    diagram.edge_ids = edge_ids
    diagram.elided = elided
    diagram.show = show
    return diagram


def edge_width(ratio: float) -> float:
    """The pen width (points) of an edge whose magnitude is ``ratio`` of the model's largest:
    linear from ``MIN_WIDTH_PT`` (0) to ``MAX_WIDTH_PT`` (1)."""
    return MIN_WIDTH_PT + (MAX_WIDTH_PT - MIN_WIDTH_PT) * ratio


def _text_node(dot: graphviz.Digraph, name: str, lines: list[str], x: float, y: float, *,
               id: str, cls: str, centre: bool = False, color: str = "#374151",
               size: float = SMALL_PT) -> float:
    """A text-only node of ``lines`` centred at ``(x, y)`` or (``centre=False``) starting at
    ``x``, left-aligned; returns its estimated width. Its box is white, so an edge passing
    behind stays off the text."""
    width = max(_text_width(t, size) for t in lines) + 6.0
    end = "\\n" if centre else "\\l"
    label = end.join(dot_escape(t) for t in lines) + ("" if centre else end)
    dot.node(name, label=graphviz.nohtml(label), shape="box", style="filled", color="#ffffff",
             fillcolor="#ffffff", fontcolor=color, fontsize=f"{size:g}", fixedsize="true",
             width=f"{width / 72:.3f}", height=f"{(len(lines) * size * 1.25 + 4) / 72:.3f}",
             margin="0.02", pos=f"{x if centre else x + width / 2:.2f},{y:.2f}!", id=id,
             **{"class": cls})
    return width


def _strongest(layers: list[_Layer], values: list[np.ndarray]) -> str | None:
    best, where = 0.0, None
    for layer, v in zip(layers, values):
        if v.size:
            j, i = np.unravel_index(int(np.argmax(np.abs(v))), v.shape)
            if abs(v[j, i]) > best:
                best, where = abs(float(v[j, i])), layer.weight_label(int(j), int(i))
    return where


def _unit_tooltip(c: int, j: int, name: str, layers: list[_Layer],
                  activations: list[np.ndarray] | None, pre: list[np.ndarray | None],
                  has_grads: bool, fmt: Callable[[Any], str]) -> str:
    if c == 0:
        return f"input {name}" + (f" = {fmt(activations[0][j])}" if activations else "")
    layer = layers[c - 1]
    parts = [f"{name}: a = {layer.activation}(z), z = Σ w·x + b"]
    if activations is not None:
        parts.append(f"z = {fmt(pre[c][j])}, a = {fmt(activations[c][j])}")
    if layer.bias is not None:
        parts.append(f"b = {fmt(layer.bias[j])}")
    if has_grads and layer.bias_grad is not None:
        parts.append(f"δ = ∂L/∂z = ∂L/∂b = {fmt(layer.bias_grad[j])}")
    return "; ".join(parts)


def _add_legend(dot: graphviz.Digraph, *, show: str, vmax: float, strongest: str | None,
                zero: bool, activations: bool, deltas: bool, inactive: bool, drawn: int,
                total: int, fmt: Callable[[Any], str], top: float) -> None:
    """The legend under the columns, from its top edge ``top``, left-aligned at x = 0: a row
    of edge samples (signs, then thinnest and thickest), then a line on what the circles show.
    (The WebAssembly Graphviz has no HTML labels, so every part is its own node.)"""
    what = "w" if show == "weight" else "∂L/∂w"
    row_h = 18.0
    y = top - row_h / 2
    x = 0.0
    samples = [(POSITIVE_COLOR, 2.5, f"{what} > 0"), (NEGATIVE_COLOR, 2.5, f"{what} < 0")]
    if zero:
        samples.append((ZERO_COLOR, MIN_WIDTH_PT, f"{what} = 0"))
    for k, (color, width, text) in enumerate(samples):
        x = _sample(dot, f"legend_sign{k}", x, y, color, width)
        x += _text_node(dot, f"legend_sign{k}_text", [text], x, y, id=f"cr-net-legend-sign{k}",
                        cls="cr-legend") + 12.0
    x = _sample(dot, "legend_thin", x, y, "#6b7280", MIN_WIDTH_PT)
    x = _sample(dot, "legend_thick", x - 4.0, y, "#6b7280", MAX_WIDTH_PT)
    size = f"thicker: larger |{what}|"
    if vmax > 0:
        size += f" (thickest {fmt(vmax)}" + (f": {strongest})" if strongest else ")")
    _text_node(dot, "legend_width", [size], x, y, id="cr-net-legend-width", cls="cr-legend")
    notes = []
    if activations:
        notes.append("a = the neuron's activation f(z) on the inputs shown"
                     + ("; dashed: a = 0, inactive" if inactive else ""))
    if deltas:
        notes.append("δ = ∂L/∂z = ∂L/∂b, the neuron's gradient from the last backward")
        notes.append("(draw_graph's neuron box shows grad = ∂L/∂a; δ = f'(z)·∂L/∂a: 0 at an inactive ReLU)")
    if not activations and not deltas:
        notes.append("pass inputs= to see activations; gradients δ show after a backward")
    if drawn < total:
        notes.append(f"{drawn} of {total} connections drawn (max_units_per_layer)")
    _text_node(dot, "legend_notes", notes, 0.0, y - row_h / 2 - (len(notes) * SMALL_PT * 1.25 + 4) / 2,
               id="cr-net-legend-notes", cls="cr-legend")


def _sample(dot: graphviz.Digraph, name: str, x: float, y: float, color: str,
            width: float, length: float = 28.0) -> float:
    """A short line of ``color`` and pen ``width`` from ``x`` (a legend's edge sample);
    returns where it ends."""
    for end, at in (("a", x), ("b", x + length)):
        dot.node(f"{name}_{end}", label="", shape="point", width="0.01", style="invis",
                 pos=f"{at:.2f},{y:.2f}!")
    dot.edge(f"{name}_a", f"{name}_b", color=color, penwidth=f"{width:.2f}",
             **{"class": "cr-legend"})
    return x + length + 4.0
