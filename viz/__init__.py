"""viz: computation graphs to SVG, and the chain rule step by step.

- :func:`draw_graph` draws a graph (DOT via the ``graphviz`` package; SVG from the system
  ``dot`` or, without it, Graphviz compiled to WebAssembly). ``draw_dot`` is the same function
  under the name micrograd's lecture uses (``from viz import draw_dot``).
- :func:`draw_network` draws a model (scalar ``MLP`` or a ``Sequential``) as the classic
  network diagram: neurons in layer columns, edges coloured and sized by weight or gradient.
- :func:`trace_backward` / :func:`trace_forward` record backward and forward passes step by
  step, with text, Markdown, LaTeX, SVG-frame and self-contained HTML views.
- :func:`animate` / :class:`Animation`: frames over training (or construction) steps with a
  caption each; a player in notebooks and self-contained HTML, a still picture without JS.
- :mod:`viz.plots` (matplotlib, optional) plots training curves, decision boundaries,
  activations and gradient magnitudes.
"""
from .animation import Animation, animate
from .graph import Graph, GradientsNotComputedWarning, draw_graph
from .compare import ModeComparison, compare_modes
from .network import NetworkDiagram, draw_network
from .trace import BackwardTrace, ForwardTrace, trace_backward, trace_forward

draw_dot = draw_graph
"""micrograd's name for :func:`draw_graph` (its lecture's ``draw_dot(root)``): the same function."""

__all__ = ["draw_graph", "draw_dot", "Graph", "GradientsNotComputedWarning", "draw_network",
           "NetworkDiagram", "trace_backward",
           "trace_forward", "BackwardTrace", "ForwardTrace", "compare_modes", "ModeComparison",
           "Animation", "animate", "plots"]


def __getattr__(name: str):  # viz.plots imports matplotlib only when used
    if name == "plots":
        import importlib
        return importlib.import_module(".plots", __name__)
    raise AttributeError(f"module 'viz' has no attribute {name!r}")
