"""viz: computation graphs to SVG, and the chain rule step by step.

- :func:`draw_graph` draws a graph (DOT via the ``graphviz`` package; SVG from the system
  ``dot`` or, without it, Graphviz compiled to WebAssembly). ``draw_dot`` is the same function
  under the name micrograd's lecture uses (``from viz import draw_dot``), drawing every node.
- :func:`draw_network` draws a model (scalar ``MLP`` or a ``Sequential``) as the classic
  network diagram: neurons in layer columns, edges coloured and sized by weight or gradient.
- :func:`trace_backward` / :func:`trace_forward` record backward and forward passes step by
  step, with text, Markdown, LaTeX, SVG-frame and self-contained HTML views.
- :func:`animate` / :class:`Animation`: frames over training (or construction) steps with a
  caption each; a player in notebooks and self-contained HTML, a still picture without JS.
- :func:`live` (anywidget, optional: ``pip install "chainrule[live]"``): a live view of a
  model in training in Jupyter (the network's weights and gradients, a and δ, the loss, the
  decision boundary), with pause, step once, speed and a scrub slider.
- :mod:`viz.plots` (matplotlib, optional) plots training curves, decision boundaries,
  activations and gradient magnitudes.
"""
import sys
from typing import Any

from .browser.animation import Animation, animate
from .drawing.graph import Graph, GradientsNotComputedWarning, draw_graph
from .tracing.compare import ModeComparison, compare_modes
from .drawing.network import NetworkDiagram, draw_network
from .tracing.backward_trace import BackwardTrace
from .tracing.forward_trace import ForwardTrace
from .tracing.trace import trace_backward, trace_forward



def draw_dot(root: Any, format: str = "svg", rankdir: str = "LR", **options: Any) -> Graph:  # noqa: A002
    """micrograd's ``draw_dot(root, format='svg', rankdir='LR')``: :func:`draw_graph` under the
    name the lecture uses, with every node drawn however many there are (as micrograd's:
    the lecture's ``draw_dot(loss)`` of an MLP on four examples draws 706 boxes, more than
    ``draw_graph``'s default ``max_nodes``). The result is a :class:`Graph`, SVG and PNG both
    (``format`` is accepted for micrograd's calls; where no PNG can be made, as in Pyodide,
    the graph shows as SVG whichever is asked); ``options`` are ``draw_graph``'s."""
    if format not in ("svg", "png"):
        raise ValueError(f"draw_dot(format=...) is 'svg' or 'png' (a Graph has both); got {format!r}")
    options.setdefault("max_nodes", sys.maxsize)
    return draw_graph(root, rankdir=rankdir, **options)


def live(model: Any, **options: Any) -> Any:
    """A live view of ``model`` training, in Jupyter: :func:`viz.browser.live.live` (its
    options, the two ways to drive it and the pause caveat are documented there). Needs
    anywidget: ``pip install "chainrule[live]"``."""
    try:
        from .browser import live as _live
    except ImportError as error:
        if getattr(error, "name", None) not in ("anywidget", "ipywidgets", "traitlets"):
            raise
        raise ImportError(f"viz.live needs anywidget (and ipywidgets), which are not installed "
                          f"({error}): pip install \"chainrule[live]\"") from error
    return _live.live(model, **options)


__all__ = ["draw_graph", "draw_dot", "Graph", "GradientsNotComputedWarning", "draw_network",
           "NetworkDiagram", "trace_backward",
           "trace_forward", "BackwardTrace", "ForwardTrace", "compare_modes", "ModeComparison",
           "Animation", "animate", "live", "plots"]


def __getattr__(name: str):  # viz.plots imports matplotlib only when used
    if name == "plots":
        import importlib
        return importlib.import_module(".plots", __name__)
    raise AttributeError(f"module 'viz' has no attribute {name!r}")
