"""Forward mode and reverse mode side by side on one graph.

Forward mode (dual numbers) carries ``∂node/∂x`` from one input ``x`` up to the output: one
pass gives the derivative of every node with respect to that one input. Reverse mode
(backward) carries ``∂output/∂node`` down from the output: one pass gives the derivative of
the output with respect to every node. :func:`compare_modes` shows both steppers, over the
same layout, with the number of passes each needs for the full gradient: side by side when
both fit at readable size, else one above the other.
"""
from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from ..browser.stepper import (PAGE_HINT, RUN_HINT, Stepper, display_outputs, fallback_html,
                               new_id, notebook_outputs, page_html, save_text)
from .backward_trace import BackwardTrace
from .forward_trace import ForwardTrace
from .trace import trace_backward, trace_forward


class ModeComparison:
    """The two traces of one graph (:attr:`forward` with dual numbers, :attr:`backward`),
    the derivative each gives for ``wrt``, and their pass counts."""

    def __init__(self, forward: ForwardTrace, backward: BackwardTrace, wrt: Any,
                 inputs: list[Any]) -> None:
        self.forward, self.backward, self.wrt, self.inputs = forward, backward, wrt, inputs
        self.forward_derivative = forward.tangents[forward.root]
        self.reverse_derivative = _pass_derivative(backward, wrt)

    @property
    def forward_passes(self) -> int:
        """Passes forward mode needs for the whole gradient: one per input."""
        return len(self.inputs)

    @property
    def reverse_passes(self) -> int:
        """Passes reverse mode needs for the whole gradient: one per output (here 1)."""
        return 1

    def summary_html(self) -> str:
        """The derivative each mode gives and the passes each needs, as HTML (``b`` only)."""
        name = escape(self.forward.names[self.wrt])
        out = escape(self.forward.names[self.forward.root])
        return (f"∂{out}/∂{name}: forward mode gives <b>{self.forward_derivative:.6g}</b>, reverse "
                f"mode gives <b>{self.reverse_derivative:.6g}</b>. For the gradient with respect "
                f"to {_count(len(self.inputs), 'input')}, forward mode needs "
                f"{_count(self.forward_passes, 'pass', 'passes')} (one per input), reverse mode "
                f"{self.reverse_passes}.")

    def _steppers(self) -> list[Stepper]:
        return [self.forward.stepper(), self.backward.stepper()]

    def _body(self, steppers: list[Stepper], *, static: bool, script: bool,
              page: bool = False) -> str:
        """The summary, then the two steppers in a wrapping row: each column is as wide as
        its graph needs for readable text, so they sit side by side only when both fit and
        stack otherwise. Both equation boxes get the height of the longest step of either,
        so side by side the graphs line up."""
        lines = max(s.equation_lines() for s in steppers)
        columns = []
        for stepper in steppers:
            fragment = stepper.fragment(page=page, static=static, script=script, min_lines=lines,
                                        hint=PAGE_HINT if page else RUN_HINT)
            columns.append(f'<div class="cr-column" style="flex: 1 1 '
                           f'{stepper.readable_width():.0f}px"><h4>{escape(stepper.title)}</h4>'
                           f"{fragment}</div>")
        return (f"<p>{self.summary_html()}</p>\n<div class=\"cr-compare\">"
                + "".join(columns) + "</div>")

    def to_html(self) -> str:
        """One self-contained page (no network) with both steppers and the summary."""
        return page_html("forward mode vs reverse mode",
                         self._body(self._steppers(), static=True, script=True, page=True))

    def save_html(self, path: str | Path) -> Path:
        """Write :meth:`to_html` to ``path``."""
        return save_text(path, self.to_html())

    def notebook_outputs(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The outputs a notebook shows (see :func:`viz.browser.stepper.notebook_outputs`): the last
        step of each mode as PNG, the summary and the steps as text, and the two steppers."""
        steppers, uid = self._steppers(), new_id()
        return notebook_outputs(steppers, self._body(steppers, static=False, script=False),
                                fallback_html(steppers, lead=self.summary_html()), uid)

    def _ipython_display_(self) -> None:
        display_outputs(self.notebook_outputs())

    def _repr_html_(self) -> str:
        return self._body(self._steppers(), static=True, script=True)


def _count(n: int, one: str, many: str | None = None) -> str:
    """``1 input``, ``3 inputs``."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def _pass_derivative(backward: BackwardTrace, wrt: Any) -> Any:
    """∂root/∂wrt as this backward pass computed it: the sum of what the pass sent to
    ``wrt`` (not ``wrt.grad``, which also holds what earlier backward calls left there)."""
    if wrt is backward.root:
        return 1.0                                   # compare_modes seeds the pass with 1
    return backward.grads.get(wrt, 0.0)


def compare_modes(root: Any, wrt: Any, **drawing: Any) -> ModeComparison:
    """Trace ``root``'s graph in forward mode seeded at the leaf ``wrt`` (dual numbers) and in
    reverse mode (backward), on the same layout: the forward tangent of ``root`` equals what
    the backward pass gives ``wrt``. Like every view, it changes no ``.grad``.

    ``drawing`` takes the options of :func:`viz.draw_graph` (``rankdir``, ``show_local``, ...).
    """
    if getattr(wrt, "op", True) is not None or not getattr(wrt, "requires_grad", False):
        raise ValueError("wrt must be a leaf of the graph that requires grad (an input or parameter)")
    forward = trace_forward(root, wrt=wrt, **drawing)      # refuses a wrt outside the graph
    inputs = [s.node for s in forward.steps if s.kind == "leaf"]
    backward = trace_backward(root, **drawing)
    return ModeComparison(forward, backward, wrt, inputs)
