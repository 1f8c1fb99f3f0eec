"""Draw a computation graph: :func:`draw_graph` builds DOT with the ``graphviz`` package and
returns a :class:`Graph` that renders to SVG (system ``dot`` or WebAssembly Graphviz).

Each value is a box (label, data, grad; for tensors also the shape), each op an ellipse
showing the op's symbol from its :class:`~autograd_core.op.Op` record, and every edge runs
from an operand to the op that consumes it. ``show_local=True`` writes the local derivative
∂out/∂operand on each operand edge, with the formula taken from the same op record.
"""
from __future__ import annotations

import base64
import functools
import re
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import graphviz
import numpy as np

from autograd_core import MisconceptionWarning, guards, topological_order
from autograd_core import checks

from . import render as _render
from .render import MIN_TEXT_PX, NOTEBOOK_WIDTH_PX, fitted_size, min_font_px, sized_svg, svg_size
from .style import (DEFAULT_NUMBER_FORMAT, FONT, OP_BORDER, OP_FILL, ROLES, NumberFormat,
                    clean_text, dot_escape, format_number, in_formula, validate_number_format)

COLLAPSE_LEVELS = {"neuron": 0, "layer": 1, "module": 2}
RANKDIRS = ("LR", "TB", "RL", "BT")
DEFAULT_MAX_NODES = 500
SMALL_FONT_PT = "10"       # ops, edge labels, legend: 13.3 px, readable when fitted (MIN_TEXT_PX)


guards.register_package(__name__.partition(".")[0])   # guard warnings point at the user's code


class GradientsNotComputedWarning(MisconceptionWarning):
    """Drawing gradients that are all zero because backward has not run yet (a misconception
    guard: once per process, silenced by ``autograd_core.set_guards(False)``)."""


class Graph:
    """A drawn computation graph.

    Attributes:
        source: the DOT text (needs no Graphviz to produce).
        ids: engine node -> id of the box that shows it (a value box or a collapsed group).
        op_ids: engine node -> id of its op ellipse (nodes made by an op and drawn).
        names: engine node -> the name used in labels and formulas.
        roles: engine node -> ``"input"``, ``"constant"``, ``"parameter"``,
            ``"intermediate"`` or ``"output"``.
        node_count: number of boxes and ellipses drawn (legend excluded).
        engine: the Graphviz layout engine that renders ``source`` (``"dot"``; drawings
            that place every node themselves use ``"nop2"``, which keeps the positions).

    In a notebook the graph shows as SVG and, for clients that do not render SVG (untrusted
    notebooks, GitHub, sanitised HTML exports), as PNG where one can be made (not in
    Pyodide: :func:`viz.drawing.render.can_make_png`); a wide graph is scaled to the output
    width (see :func:`viz.drawing.render.fit_width`), or shown top to bottom when a left-to-right
    layout could only fit with unreadable text (:meth:`for_width`). ``save("graph.svg")``
    keeps the layout asked for at full size.
    """

    def __init__(self, digraph: graphviz.Digraph, *, ids: dict[Any, str], op_ids: dict[Any, str],
                 names: dict[Any, str], roles: dict[Any, str], node_count: int,
                 edge_count: int, engine: str = "dot") -> None:
        self.digraph = digraph
        self.engine = engine            # the Graphviz layout engine ("nop2": positions given)
        self.source: str = digraph.source
        self.ids, self.op_ids, self.names, self.roles = ids, op_ids, names, roles
        self.node_count, self.edge_count = node_count, edge_count
        self._svg: str | None = None
        self._png: bytes | None = None
        # draw_graph sets this for a sideways layout: the same drawing laid out top to bottom
        self._tall_layout: Callable[[], Graph] | None = None
        self._tall: Graph | None = None

    def svg(self) -> str:
        """The drawing as SVG text at its natural size (rendered once, then cached)."""
        if self._svg is None:
            self._svg = _render.render(self.source, "svg", self.engine).decode("utf-8")
        return self._svg

    def png(self) -> bytes:
        """The drawing as PNG bytes, rasterised at twice its natural size (cached). Raises
        ``RuntimeError`` saying why where no PNG can be made (Pyodide)."""
        if self._png is None:
            self._png = _render.render(self.source, "png", self.engine)
        return self._png

    def size(self) -> tuple[float, float]:
        """The natural size ``(width, height)`` in CSS pixels."""
        return svg_size(self.svg())

    def alt_text(self) -> str:
        """A one-line description of the drawing, for the ``alt`` of its images."""
        outputs = [name for node, name in self.names.items() if self.roles.get(node) == "output"]
        return (f"Computation graph of {outputs[0] if outputs else 'the output'}: "
                f"{self.node_count} nodes, {self.edge_count} edges")

    def save(self, path: str | Path) -> Path:
        """Write the graph to ``path``; the suffix picks the format: ``.svg``, ``.png``, ``.dot``/``.gv``."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".svg":
            path.write_text(self.svg(), encoding="utf-8")
        elif suffix in (".dot", ".gv"):
            path.write_text(self.source, encoding="utf-8")
        elif suffix == ".png":
            path.write_bytes(self.png())
        else:
            raise ValueError(f"cannot save a graph as {suffix or 'a file without suffix'!r}: "
                             "use .svg, .png or .dot")
        return path

    def for_width(self, width: float = NOTEBOOK_WIDTH_PX) -> Graph:
        """The layout to show in an output ``width`` px wide: this one when it fits there with
        its smallest text at ``MIN_TEXT_PX`` or more; otherwise, for a left-to-right drawing,
        the same graph laid out top to bottom if that shows its text larger (not tried when
        the drawing is taller than wide)."""
        if self._tall_layout is None or self._readable_in(width):
            return self
        natural_w, natural_h = self.size()
        if natural_h >= natural_w:
            # top to bottom, the ranks of a drawing taller than wide become rows about as wide
            # as it is tall now: no narrower, so not worth a second Graphviz layout
            return self
        if self._tall is None:
            self._tall = self._tall_layout()
        return self._tall if self._tall._text_px(width) > self._text_px(width) else self

    def _text_px(self, width: float) -> float:
        natural, _ = self.size()
        return min_font_px(self.svg()) * min(1.0, width / natural)

    def _readable_in(self, width: float) -> bool:
        return self._text_px(width) >= MIN_TEXT_PX

    def fitted_svg(self, width: float = NOTEBOOK_WIDTH_PX) -> str:
        """The SVG of :meth:`for_width` sized for an output ``width`` px wide
        (:func:`viz.drawing.render.fitted_size`: scaled down, aspect kept, never enlarged, never below
        readable text), labelled with :meth:`alt_text` for screen readers."""
        svg = self.for_width(width).svg()
        return sized_svg(svg, *fitted_size(svg, width), self.alt_text())

    def _repr_svg_(self) -> str:
        return self.fitted_svg()

    def _repr_png_(self) -> bytes | None:
        """The PNG for clients without SVG; ``None`` where no PNG can be made (Pyodide:
        :func:`viz.drawing.render.can_make_png`), so the SVG is shown alone."""
        return self.for_width().png() if _render.can_make_png() else None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None
                          ) -> tuple[dict[str, Any], dict[str, Any]]:
        data = {"image/svg+xml": self.fitted_svg()}
        png = self._repr_png_()
        if png is None:
            return {**data, "text/plain": repr(self)}, {}
        width, _ = fitted_size(self.for_width().svg())
        data.update({"image/png": base64.b64encode(png).decode("ascii"), "text/plain": repr(self)})
        return data, {"image/png": {"width": round(width)}}

    def __repr__(self) -> str:
        return f"<viz.Graph: {self.node_count} nodes, {self.edge_count} edges>"


# ---------------------------------------------------------------------------------------------
# what the graph holds: names, roles, groups
# ---------------------------------------------------------------------------------------------
def is_array_node(node: Any) -> bool:
    """True for a node whose data is an array with at least one dimension (a Tensor)."""
    return len(tuple(getattr(node.data, "shape", ()))) > 0


ACTIVATION_OPS = ("relu", "tanh", "sigmoid", "leaky_relu", "softplus")
"""Elementwise ops that count as a neuron's activation ``a = f(z)`` (naming, collapsing)."""


def _neuron_of(node: Any) -> Any:
    """The innermost named scope of kind ``"neuron"`` that made ``node`` (or ``None``)."""
    for scope in reversed(getattr(node, "scope", ()) or ()):
        if getattr(scope, "scope_kind", "module") == "neuron":
            label = getattr(scope, "label", None) or getattr(scope, "name", None)
            return scope if isinstance(label, str) and label else None
    return None


def node_names(order: Sequence[Any], number_format: NumberFormat = DEFAULT_NUMBER_FORMAT
               ) -> dict[Any, str]:
    """A display name per node, the one every view uses (graph boxes, traces, the stepper,
    collapsed boxes): its ``label`` (``x1``, ``L2.n7.w3``, ``0.weight``); a constant's value;
    inside a labelled neuron (``L2.n7``) its output ``a(L2.n7)``, the pre-activation
    ``z(L2.n7)`` that its activation reads, and the other values it computes
    ``L2.n7.v1``, ``L2.n7.v2``, ... (numbered within the neuron); else ``v1``, ``v2``, ...
    numbered in topological order. A neuron used more than once gets ``#2``, ``#3``, ... on
    the names of its second and later calls (``a(L2.n7)#2``)."""
    consumers: dict[Any, list[Any]] = {n: [] for n in order}
    for node in order:
        for parent in node.parents:
            if parent in consumers:
                consumers[parent].append(node)
    neuron = {n: _neuron_of(n) for n in order if n.op is not None}
    # the outputs of each neuron call: consumed outside the neuron, or consumed by nothing
    outputs: dict[Any, int] = {}                 # output node -> its call number (1, 2, ...)
    calls: dict[int, int] = {}
    for node in order:
        scope = neuron.get(node)
        if scope is not None and (not consumers[node] or any(
                neuron.get(c) is not scope for c in consumers[node])):
            calls[id(scope)] = calls.get(id(scope), 0) + 1
            outputs[node] = calls[id(scope)]
    special: dict[Any, str] = {}
    for node, call in outputs.items():
        scope = neuron[node]
        suffix = f"#{call}" if call > 1 else ""
        title = clean_text(getattr(scope, "label", None) or getattr(scope, "name", None))
        special[node] = f"a({title}){suffix}"
        if node.op.name in ACTIVATION_OPS and node.parents and node.parents[0].op is not None \
                and neuron.get(node.parents[0]) is scope and node.parents[0] not in outputs:
            special[node.parents[0]] = f"z({title}){suffix}"
    names: dict[Any, str] = {}
    counter = 0
    inner: dict[tuple[int, int], int] = {}       # (neuron, call) -> values named so far
    call_of: dict[int, int] = {}                 # neuron -> the call being numbered
    for node in order:
        label = getattr(node, "label", None)
        scope = neuron.get(node)
        if label:
            names[node] = clean_text(label) or "?"
        elif node.op is None and not node.requires_grad and not is_array_node(node):
            names[node] = format_number(node.data, number_format)
        elif node in special:
            names[node] = special[node]
        elif scope is not None:
            call = call_of.get(id(scope), 0) + 1      # the call this value belongs to
            key = (id(scope), call)
            inner[key] = inner.get(key, 0) + 1
            title = clean_text(getattr(scope, "label", None) or getattr(scope, "name", None))
            names[node] = f"{title}{'#' + str(call) if call > 1 else ''}.v{inner[key]}"
        else:
            counter += 1
            names[node] = f"v{counter}"
        if node in outputs:
            call_of[id(neuron[node])] = outputs[node]
    return names


def _scope_parameters(scope: Any) -> set[int]:
    """ids of ``scope.parameters()`` when the scope object has that method (nn modules do)."""
    method = getattr(scope, "parameters", None)
    if not callable(method):
        return set()
    try:
        return {id(p) for p in method()}
    except Exception:  # a scope object whose parameters() needs arguments: not a module
        return set()


def node_roles(order: Sequence[Any], root: Any) -> dict[Any, str]:
    """The role of each node: output (the root), parameter (a leaf listed by the
    ``parameters()`` of a scope object in the graph), input (other leaves that require
    grad), constant (leaves that don't) or intermediate."""
    scopes: dict[int, Any] = {}
    for node in order:
        for scope in node.scope:
            scopes.setdefault(id(scope), scope)
    param_ids: set[int] = set()
    for scope in scopes.values():
        param_ids |= _scope_parameters(scope)
    roles: dict[Any, str] = {}
    for node in order:
        if node is root:
            roles[node] = "output"
        elif node.op is not None:
            roles[node] = "intermediate"
        elif not node.requires_grad:
            roles[node] = "constant"
        elif id(node) in param_ids:
            roles[node] = "parameter"
        else:
            roles[node] = "input"
    return roles


def _group_scope(node: Any, level: int) -> Any:
    for scope in reversed(node.scope):             # innermost first
        kind = getattr(scope, "scope_kind", "module")
        if COLLAPSE_LEVELS.get(kind, 2) >= level:
            return scope
    return None


def _scope_title(scope: Any, index: int) -> str:
    name = getattr(scope, "name", None) or getattr(scope, "label", None)
    if isinstance(name, str) and name:
        return clean_text(name)
    return f"{type(scope).__name__} #{index}"


def node_groups(order: Sequence[Any], collapse: str | None) -> dict[Any, Any]:
    """node -> the scope object whose box it is collapsed into (``collapse`` given).

    A node goes to its innermost scope whose ``scope_kind`` is at least as coarse as
    ``collapse`` (neuron < layer < module); a parameter leaf goes to the group whose
    ``parameters()`` lists it.
    """
    if collapse is None:
        return {}
    level = COLLAPSE_LEVELS[collapse]
    groups: dict[Any, Any] = {}
    scopes: dict[int, Any] = {}
    for node in order:
        scope = _group_scope(node, level)
        if scope is not None:
            groups[node] = scope
            scopes.setdefault(id(scope), scope)
    owner: dict[int, Any] = {}
    for scope in scopes.values():
        for pid in _scope_parameters(scope):
            owner.setdefault(pid, scope)
    for node in order:
        if node.op is None and node not in groups and id(node) in owner:
            groups[node] = owner[id(node)]
    return groups


def _is_zero(grad: Any) -> bool:
    if grad is None:
        return True
    grad = getattr(grad, "data", grad) if not isinstance(grad, (float, int, np.ndarray)) else grad
    try:
        return bool(np.all(np.asarray(grad, dtype=float) == 0))
    except (TypeError, ValueError):
        return False


def grads_not_computed(order: Sequence[Any], root: Any) -> bool:
    """True when the root was made by an op yet every gradient in the graph is zero."""
    return root.op is not None and all(_is_zero(node.grad) for node in order)


# ---------------------------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------------------------
_OWN = object()


def value_fields(node: Any, name: str, role: str, show_grad: bool,
                 number_format: NumberFormat, grad: Any = _OWN) -> list[str]:
    """The text lines of a value box: name, (shape), data, grad (``node.grad``, or ``grad``
    when given: a trace's pass). Constants show their value."""
    if grad is _OWN:
        grad = node.grad
    if role == "constant" and not is_array_node(node):
        if getattr(node, "label", None):          # a named constant (an input): name and value
            return [name, "data " + format_number(node.data, number_format)]
        return [name]                             # an unnamed number: its name is its value
    fields = [name]
    if is_array_node(node):
        fields.append("shape " + str(tuple(np.shape(node.data))))
    fields.append("data " + format_number(node.data, number_format))
    if show_grad:
        if grad is None and node.op is not None:
            # a tensor drops an intermediate gradient once used, as PyTorch does: say so,
            # and how to keep it, instead of showing "None"
            fields.append("grad not kept (retain_grad)")
        elif grad is None and not node.requires_grad:
            fields.append("no grad (requires_grad=False)")   # an input, not a parameter
        else:
            fields.append("grad " + format_number(0.0 if grad is None else grad, number_format))
    return fields


def record_label(fields: Iterable[str], rankdir: str) -> graphviz.quoting.NoHtml:
    """A Graphviz record label with ``fields`` stacked vertically, every field escaped."""
    body = "|".join(dot_escape(f, record=True) for f in fields)
    return graphviz.nohtml(body if rankdir in ("LR", "RL") else "{" + body + "}")


def op_label(node: Any, names: dict[Any, str], hidden: set[Any],
             number_format: NumberFormat) -> str:
    """The op ellipse's text: the op's symbol; when some operands are hidden constants, the
    op's formula with their values substituted (``x * 2``)."""
    op = node.op
    if not any(p in hidden for p in node.parents):
        return op.symbol
    operand_names = [in_formula(format_number(p.data, number_format) if p in hidden else names[p])
                     for p in node.parents]
    return op.formula(operand_names, params=node.params)


def local_label(node: Any, index: int, names: dict[Any, str],
                number_format: NumberFormat) -> str:
    """``∂out/∂operand``: the op's derivative formula and, for elementwise ops, its value."""
    op = node.op
    operand_names = [in_formula(names[p]) for p in node.parents]
    formula = op.derivative_formula(index, operand_names, params=node.params)
    if not op.elementwise:
        return formula
    value = format_number(op.local_derivatives(node)[index], number_format)
    return value if formula in (value, f"({value})") else f"{formula} = {value}"


def _node_attrs(role: str) -> dict[str, str]:
    fill, border, _ = ROLES[role]
    style = "filled,dashed" if role == "constant" else "filled,bold" if role == "output" else "filled"
    return {"style": style, "fillcolor": fill, "color": border}


# ---------------------------------------------------------------------------------------------
# draw_graph
# ---------------------------------------------------------------------------------------------
QUICK_LAYOUT_NODES = 150
"""Above this many drawn boxes and ellipses, Graphviz's network simplex runs one pass only."""


def draw_graph(root: Any, rankdir: str = "LR", show_grad: bool = True, show_local: bool = False,
               collapse: str | None = None, hide_constants: bool = False,
               max_nodes: int = DEFAULT_MAX_NODES, *,
               number_format: NumberFormat = DEFAULT_NUMBER_FORMAT, legend: bool = True,
               title: str | None = None, _third_field: Any = None,
               _grads: Mapping[Any, Any] | None = None, _grad_note: str | None = None) -> Graph:
    """Draw the computation graph that ends in ``root`` and return it as a :class:`Graph`.

    Args:
        root: the output node (a ``Value`` or ``Tensor``); everything it depends on is drawn.
            A node of a learner's own micrograd-style engine (``data``, ``grad``, ``_prev``,
            ``_op``, optional ``label``) is drawn too, with the numbers it holds (see
            :mod:`autograd_core.checks.learner_engine`).
        rankdir: Graphviz direction: ``"LR"`` (left to right), ``"TB"``, ``"RL"``, ``"BT"``.
        show_grad: show each value's ``.grad`` (warns if backward has not run yet).
        show_local: write ∂out/∂operand (formula = value) on every operand edge.
        collapse: ``"neuron"``, ``"layer"`` or ``"module"`` to draw each such ``nn`` scope
            as one box (with its parameters); ``None`` draws every node.
        hide_constants: leave out unnamed constant leaves (numbers in the arithmetic); the
            op then shows its formula with them. Named constants (inputs ``x1``) stay.
        max_nodes: refuse (``ValueError``) to draw more boxes and ellipses than this.
        number_format: format spec (``".4g"``) or callable used for every number.
        legend: add a legend of the node colours present.
        title: a caption under the graph.

    (Private: ``_third_field``, ``node -> str`` replacing the grad line, with which
    forward-mode traces show tangents; ``_grads``, the gradients to show instead of each
    ``.grad``, with which a trace shows its own pass; ``_grad_note``, the legend's line for
    what "grad" means when ``_third_field`` replaces it.)
    """
    if checks.learner_engine.is_learner_node(root):
        # a learner's own micrograd-style Value: drawn as its mirror on the engine, showing
        # the learner's numbers (data, and each node's .grad as it holds it now)
        live = checks.learner_engine.read_live(root, run_pass=False)
        mirrored = live.mirrored
        grads = _grads if _grads is not None else \
            {mirrored.engine[i]: float(n.grad) for i, n in enumerate(live.order)}
        third, note = _third_field, None
        if third is None and show_grad:
            third, note = learner_grad_field(mirrored, grads, validate_number_format(number_format))
        return draw_graph(mirrored.root, rankdir, show_grad, show_local, collapse, hide_constants,
                          max_nodes, number_format=number_format, legend=legend, title=title,
                          _third_field=third, _grads=grads, _grad_note=note)
    if not hasattr(root, "parents") or not hasattr(root, "data"):
        raise TypeError(f"draw_graph expects a graph node (Value or Tensor, or a micrograd-style "
                        f"node with data, grad, _prev and _op), got {type(root).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}; got {rankdir!r}")
    if collapse is not None and collapse not in COLLAPSE_LEVELS:
        raise ValueError(f"collapse must be None, 'neuron', 'layer' or 'module'; got {collapse!r}")
    if not isinstance(max_nodes, int) or isinstance(max_nodes, bool) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int; got {max_nodes!r}")
    number_format = validate_number_format(number_format)

    order = topological_order(root)
    names = node_names(order, number_format)
    roles = node_roles(order, root)
    groups = node_groups(order, collapse)
    # a named constant (an input such as x1) is data the graph is about: it stays
    hidden = {n for n in order if hide_constants and roles[n] == "constant" and n is not root
              and not getattr(n, "label", None)}

    group_ids: dict[int, str] = {}
    group_scopes: dict[str, Any] = {}
    for node in order:
        if node in groups and id(groups[node]) not in group_ids:
            gid = f"g{len(group_ids) + 1}"
            group_ids[id(groups[node])] = gid
            group_scopes[gid] = groups[node]
    index = {node: i for i, node in enumerate(order)}
    ids: dict[Any, str] = {}
    for node in order:
        if node in groups:
            ids[node] = group_ids[id(groups[node])]
        elif node not in hidden:
            ids[node] = f"v{index[node]}"
    value_nodes = [n for n in order if n not in groups and n not in hidden]
    op_nodes = [n for n in value_nodes if n.op is not None]
    node_count = len(value_nodes) + len(op_nodes) + len(group_ids)
    if node_count > max_nodes:
        kinds = (f"{len(value_nodes)} values, {len(op_nodes)} ops"
                 + (f", {len(group_ids)} collapsed boxes" if group_ids else ""))
        raise ValueError(
            f"the graph has {node_count} nodes to draw ({kinds}; {len(order)} graph nodes in "
            f"all), more than max_nodes={max_nodes}. Pass collapse='neuron', 'layer' or "
            f"'module' to draw each nn module as one box, hide_constants=True, or raise "
            f"max_nodes.")
    grad_of = (lambda n: n.grad) if _grads is None else (lambda n: _grads.get(n))
    if show_grad and _third_field is None and _grads is None and grads_not_computed(order, root):
        guards.warn_once("draw_before_backward", "every gradient in this graph is 0: backward "
                         "has not run yet. Call root.backward() before drawing (a trace, "
                         "viz.trace_backward(root), draws its own pass), or pass show_grad=False. "
                         "Silence with "
                         "autograd_core.set_guards(False).", GradientsNotComputedWarning)

    dot = graphviz.Digraph(name="chainrule")
    dot.attr(rankdir=rankdir, bgcolor="white", fontname=FONT, nodesep="0.25", ranksep="0.35")
    if node_count > QUICK_LAYOUT_NODES:
        # Graphviz's network simplex (ranking and x positions) is what grows without bound on
        # large graphs (a sum of 100 copies of one x took minutes); one pass each keeps the
        # layout to about a second with the same ranks and nearly the same picture
        dot.attr(nslimit="1", nslimit1="1")
    if title:
        dot.attr(label=graphviz.nohtml(dot_escape(title)), labelloc="b")
    dot.attr("node", fontname=FONT, fontsize="11")
    dot.attr("edge", fontname=FONT, fontsize=SMALL_FONT_PT, color="#6b7280", arrowsize="0.7")

    op_ids: dict[Any, str] = {}
    for node in value_nodes:
        vid = ids[node]
        role = roles[node]
        fields = value_fields(node, names[node], role, show_grad, number_format, grad_of(node))
        if _third_field is not None and len(fields) > 1:
            fields = fields[:-1] + [_third_field(node)] if show_grad else fields + [_third_field(node)]
        dot.node(vid, label=record_label(fields, rankdir), shape="record", id=vid,
                 **{"class": f"cr-value cr-role-{role}"}, **_node_attrs(role))
        if node.op is not None:
            oid = f"o{index[node]}"
            op_ids[node] = oid
            dot.node(oid, label=graphviz.nohtml(dot_escape(op_label(node, names, hidden,
                                                                    number_format))),
                     shape="ellipse", id=oid, style="filled", fillcolor=OP_FILL,
                     color=OP_BORDER, fontsize=SMALL_FONT_PT, margin="0.04", height="0.3",
                     **{"class": "cr-op"})
            dot.edge(oid, vid, id=f"e{index[node]}", **{"class": "cr-edge cr-out"})

    edge_count = len(op_nodes)
    for node in op_nodes:
        oid = op_ids[node]
        for k, parent in enumerate(node.parents):
            if parent in hidden:
                continue
            attrs: dict[str, Any] = {"id": f"e{index[node]}_{k}", "class": "cr-edge cr-in"}
            if show_local:
                attrs["label"] = graphviz.nohtml(dot_escape(local_label(node, k, names,
                                                                        number_format)))
                attrs["fontcolor"] = "#7c3aed"
            dot.edge(ids[parent], oid, **attrs)
            edge_count += 1

    # collapsed boxes: one per scope, edges from what flows in, to what flows out
    consumers: dict[Any, list[Any]] = {n: [] for n in order}
    for node in order:
        for parent in node.parents:
            consumers[parent].append(node)
    seen_edges: set[tuple[str, str]] = set()
    for gid, scope in group_scopes.items():
        members = [n for n in order if n in groups and groups[n] is scope]
        outputs = [n for n in members if n is root or any(c not in groups or groups[c] is not scope
                                                           for c in consumers[n])]
        n_ops = sum(1 for n in members if n.op is not None)
        n_params = sum(1 for n in members if n.op is None)
        fields = [_scope_title(scope, int(gid[1:])),
                  f"{n_ops} ops, {n_params} leaves"]
        for out in outputs[:3]:
            fields.append(f"{names[out]} = {format_number(out.data, number_format)}")
            if show_grad:
                grad = grad_of(out)
                fields.append("grad " + format_number(0.0 if grad is None else grad,
                                                      number_format))
        if len(outputs) > 3:
            fields.append(f"... {len(outputs) - 3} more outputs")
        is_root = any(m is root for m in members)
        attrs = _node_attrs("output") if is_root else _node_attrs("group")
        dot.node(gid, label=record_label(fields, rankdir), shape="record", id=gid,
                 **{"class": "cr-group"}, **attrs)
        for node in members:
            for parent in node.parents:
                if parent in hidden or (parent in groups and groups[parent] is scope):
                    continue
                key = (ids[parent], gid)
                if key not in seen_edges:
                    seen_edges.add(key)
                    dot.edge(ids[parent], gid, id=f"e{ids[parent]}_{gid}",
                             **{"class": "cr-edge cr-in"})
                    edge_count += 1

    _order_siblings(dot, group_scopes, groups, order, ids)
    if legend:
        grad_note = _grad_note
        if show_grad and _third_field is None:
            L = in_formula(names[root])
            grad_note = (f"grad = ∂{L}/∂(value); a neuron box shows ∂{L}/∂a of its output a "
                         f"(its δ = ∂{L}/∂z = f'(z)·∂{L}/∂a)" if group_ids else
                         f"grad = ∂{L}/∂(value)")
        _add_legend(dot, sorted({roles[n] for n in value_nodes}, key=list(ROLES).index)
                    + (["group"] if group_ids else []), bool(op_nodes), show_local, rankdir,
                    ids.get(root), grad_note)
    graph = Graph(dot, ids=ids, op_ids=op_ids, names=names, roles=roles, node_count=node_count,
                  edge_count=edge_count)
    if rankdir in ("LR", "RL"):
        graph._tall_layout = functools.partial(
            _quietly, draw_graph, root, rankdir="TB", show_grad=show_grad, show_local=show_local,
            collapse=collapse, hide_constants=hide_constants, max_nodes=max_nodes,
            number_format=number_format, legend=legend, title=title, _third_field=_third_field,
            _grads=_grads, _grad_note=_grad_note)
    return graph


def learner_grad_field(mirrored: Any, grads: Mapping[Any, Any], number_format: NumberFormat
                       ) -> tuple[Callable[[Any], str], str | None]:
    """The grad line of a learner's graph: the learner's number, marked ✗ where it differs from
    chainrule's ∂L/∂(value) on the same graph (none are marked before the learner's backward
    has run, when every grad is 0), and the legend's line saying so."""
    if all(float(g) == 0.0 for g in grads.values()):
        return (lambda n: "grad " + format_number(grads.get(n, 0.0), number_format)), \
            "grad: your .grad (0 everywhere: your backward has not run)"
    truth, _ = checks.learner_engine.engine_truth(mirrored)
    engine_of = dict(zip(mirrored.engine, truth))
    wrong = {n for n, g in grads.items() if not checks.learner_engine.close(float(g), engine_of[n])}

    def field(node: Any) -> str:
        text = "grad " + format_number(grads.get(node, 0.0), number_format)
        return text + " ✗" if node in wrong else text
    L = in_formula(checks.learner_engine.learner_names(mirrored.nodes)[-1])
    return field, (f"grad: your .grad; ✗ where it is not ∂{L}/∂(value)" if wrong else
                   f"grad: your .grad, = ∂{L}/∂(value) everywhere")


def _natural_key(text: str) -> list[Any]:
    """``"L1.n11"`` -> ``["L", 1, ".n", 11, ""]``: numbers compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _order_siblings(dot: graphviz.Digraph, group_scopes: dict[str, Any], groups: dict[Any, Any],
                    order: Sequence[Any], ids: dict[Any, str]) -> None:
    """Keep collapsed boxes that stand side by side in index order (``L1.n1`` ... ``L1.n16``
    top to bottom): boxes of one parent module fed by the same boxes share a rank, and a
    chain of invisible edges inside that rank fixes their order (Graphviz's crossing
    minimisation would otherwise shuffle them)."""
    inputs: dict[str, set[str]] = {gid: set() for gid in group_scopes}
    parent_of: dict[str, int] = {}
    for node in order:
        scope = groups.get(node)
        if scope is None:
            continue
        gid = ids[node]
        chain = list(getattr(node, "scope", ()) or ())
        if gid not in parent_of:
            at = next((i for i, s in enumerate(chain) if s is scope), None)
            parent_of[gid] = id(chain[at - 1]) if at else 0
        for parent in node.parents:
            pid = ids.get(parent)
            if pid is not None and pid != gid:
                inputs[gid].add(pid)
    rows: dict[tuple[int, frozenset[str]], list[str]] = {}
    for gid in group_scopes:
        if inputs[gid]:
            rows.setdefault((parent_of.get(gid, 0), frozenset(inputs[gid])), []).append(gid)
    for row in rows.values():
        if len(row) < 2:
            continue
        row.sort(key=lambda g: _natural_key(_scope_title(group_scopes[g], int(g[1:]))))
        dot.body.append("{rank=same; " + " -> ".join(row) + " [style=invis]}")


def _quietly(draw: Callable[..., Graph], *args: Any, **kwargs: Any) -> Graph:
    """``draw(*args, **kwargs)`` without repeating warnings already given for the graph."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientsNotComputedWarning)
        return draw(*args, **kwargs)


def _add_legend(dot: graphviz.Digraph, roles: list[str], has_ops: bool, show_local: bool,
                rankdir: str, anchor: str | None = None, grad_note: str | None = None) -> None:
    """A legend of the node kinds present, stacked in one column (a row would stretch the
    ranks it spans and widen the whole drawing). Sideways (LR/RL) the column shares the rank
    of ``anchor`` (the root's box: the output end is one box tall, so the legend adds no
    height there); top to bottom it stands beside the first ranks."""
    entries: list[tuple[str, dict[str, str]]] = [
        (f"legend_{role}", {"label": ROLES[role][2], "shape": "box", **_node_attrs(role)})
        for role in roles]
    if has_ops:
        entries.append(("legend_op", {"label": "op: ∂out/∂in on its edges" if show_local else "op",
                                      "shape": "ellipse", "style": "filled",
                                      "fillcolor": OP_FILL, "color": OP_BORDER}))
    if grad_note:                   # what the word "grad" in the boxes stands for
        entries.append(("legend_grad", {"label": graphviz.nohtml(dot_escape(grad_note)),
                                        "shape": "plaintext"}))
    sideways = rankdir in ("LR", "RL")
    names = [name for name, _ in entries]
    with dot.subgraph(name="cluster_legend") as legend:
        legend.attr(label="legend", fontsize=SMALL_FONT_PT, color="#d1d5db", style="rounded")
        # sideways, one rank is a column that Graphviz fills bottom-up: declare in reverse
        for name, attrs in reversed(entries) if sideways else entries:
            legend.node(name, id=name, fontsize=SMALL_FONT_PT, height="0.25",
                        **{"class": "cr-legend"}, **attrs)
        if not sideways:
            for upper, lower in zip(names, names[1:]):
                legend.edge(upper, lower, style="invis")
    if sideways:
        if anchor is not None:
            dot.attr(newrank="true")            # lets a rank constraint reach into the cluster
        dot.body.append("{rank=same; " + "; ".join(([anchor] if anchor else []) + names) + "}")
