"""The result of a learner check: passed or not, and feedback that names the mistake.

Every check (:func:`~autograd_core.checks.answers.check_derivative`, ``check_op``,
``check_gradients``, ``check_answer``) returns a :class:`Report`; a wrong answer is a report,
never an exception, so ``assert report.passed`` works in tests and a notebook shows a green or
red box. The report's MIME bundle carries a JSON copy
(``application/vnd.chainrule.report+json``) that ``chainrule check`` reads back from an
executed notebook.

A wrong answer's feedback comes in three tiers (issue 25: feedback that does not give the
answer away):

1. ``details``: the kind of mistake, where it was seen and the learner's own number, never
   the expected one;
2. the hints (:attr:`Report.hint_lines`): what to look at, still without the number;
3. ``reveals``: the expected value(s).

A report of an exercise (``exercise=``) shows the tier its :attr:`Report.stage` says (chosen
by :mod:`~autograd_core.checks.stages`: 1 for a first wrong answer, 2 for a later different
one); :meth:`Report.hint` and :meth:`Report.reveal` show more. Any other report (a library
user's own test) shows every tier, as does every report of the teacher's grade.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

REPORT_MIME_TYPE = "application/vnd.chainrule.report+json"

MISTAKE = 1
"""Stage 1: the kind of mistake, where, and the learner's own number."""
HINT = 2
"""Stage 2: stage 1 and a hint."""
FULL = 3
"""Stage 3: everything, the expected value(s) included."""

# The mistake classes a report can name (``Report.mistake``), with a short title each.
MISTAKES = {
    "not_answered": "not answered yet",
    "nonfinite": "nan or inf",
    "not_a_number": "not a number",
    "raised": "the answer raised an error",
    "shape": "wrong shape",
    "transpose": "transposed",
    "sign": "wrong sign",
    "factor": "a constant factor off",
    "inner_factor": "the chain rule's inner factor is missing",
    "swapped_output": "the input used where the rule needs the output",
    "function_for_derivative": "the function used instead of its derivative",
    "dropped_local": "a local derivative left out",
    "one_path": "only one path counted (paths add)",
    "overwrite": "a gradient overwritten instead of accumulated",
    "kink": "right except at a kink",
    "inherited": "wrong only because an upstream gradient is wrong",
    "forward": "a forward value is wrong",
    "order": "the nodes visited in the wrong order (the topological sort)",
    "not_called": "a node's _backward never ran",
    "swapped_locals": "the two operands' local derivatives swapped",
    "seed": "the pass not started from ∂L/∂L = 1",
    "no_backward": "a node's _backward passes nothing on",
    "known": "a known mistake",
    "wrong": "wrong",
}

# A hint per mistake class (stage 2): where to look, never the number.
HINTS = {
    "nonfinite": "find the step that divides by zero or overflows at that point (a 1/x, a log "
                 "of 0, an exp of a large number) and write it in a form that stays finite",
    "not_a_number": "give a number, or an array of numbers (a list of lists of numbers), "
                    "without quotes",
    "raised": "call your function yourself at the point shown and read the error's message",
    "shape": "a gradient has the shape of the thing it is the gradient of: write the shape of "
             "each factor beside it",
    "transpose": "write the shape beside each factor of the product: neighbours must share a "
                 "dimension, (m×n)(n×p)",
    "sign": "look at the sign of each local derivative on the path: a subtraction, a 1 - x, "
            "a negative exponent or a minus in the loss each bring one",
    "factor": "compare the constant factors: an exponent brought down (d/dx x³ = 3x²), a ½ "
              "in a loss, a mean's 1/n, a term counted twice or dropped",
    "inner_factor": "the chain rule: d/dx f(u(x)) = f′(u) · u′(x); multiply by the derivative "
                    "of the inside",
    "swapped_output": "write the local derivative with the op's output where the rule uses it "
                      "(tanh′ = 1 - tanh², σ′ = σ(1 - σ)), then put in the output's value, "
                      "not the input's",
    "function_for_derivative": "take the derivative of that function first, then put in the "
                               "number",
    "dropped_local": "multiply along the path: every edge from the output to the variable "
                     "brings its local derivative; check each one is in your product",
    "one_path": "a variable used more than once gets one term per use: add the gradients of "
                "all the paths from the output to it",
    "overwrite": "gradients accumulate: += one contribution per use, never =",
    "kink": "at a kink give a finite number between the slope just left of it and the slope "
            "just right of it",
    "inherited": "fix the upstream gradient named first: this step is right for the value you "
                 "gave it",
    "known": "the line above names the step that went wrong: redo that step",
    "forward": "compute the op's output by hand from its operands' data and compare with the "
               "data your op stores in the node it makes",
    "order": "a node may pass its gradient on only once every node that uses it has passed "
             "theirs to it: list each node after its operands, once, and walk the list "
             "backwards",
    "not_called": "every node the output depends on must be in the topological order: check "
                  "that the walk follows every operand in _prev",
    "swapped_locals": "for out = a * b, ∂out/∂a is b and ∂out/∂b is a: each operand gets the "
                      "other's value",
    "seed": "before the walk, set the output's own gradient: ∂L/∂L = 1",
    "no_backward": "each op must give its output a _backward (out._backward = _backward) that "
                   "adds to every operand's grad",
    "wrong": "go step by step: write each local derivative, multiply along each path, add "
             "the paths; a numerical slope (f(x + h) - f(x - h)) / 2h tells you whether you "
             "are close",
}


def is_unanswered(answer: Any) -> bool:
    """True for what a student copy holds before the learner writes anything: ``...``
    (an ``answer = ...`` placeholder) or ``None`` (a function whose body is ``...``)."""
    return answer is None or answer is Ellipsis


_NUMBER = re.compile(r"\d+(?:\.\d+)+")


def short_name(exercise: str) -> str:
    """How a learner names an exercise in ``hint(...)``: its number (``"01.1"`` of
    ``"01.1 σ neuron: ∂L/∂w"``), or the whole name when it starts with none."""
    match = _NUMBER.match(exercise)
    return match.group(0) if match and (match.end() == len(exercise) or
                                        not exercise[match.end()].isdigit()) else exercise


@dataclass
class Report:
    """The outcome of one check.

    Attributes:
        passed: the answer is right.
        answered: False while the answer is still the placeholder ``...``.
        summary: one line: what was checked and the verdict (the mistake's title).
        details: stage 1: the mistake's explanation, where it was seen, the learner's number.
        mistake: the mistake class detected (a key of ``MISTAKES``), or ``None``.
        exercise: the exercise's name, when the check was given one.
        hints: hints specific to this answer (stage 2; :attr:`hint_lines` adds the class's).
        reveals: the expected value(s): "at x = 1: expected 0.42, got 0" (stage 3).
        stage: the tier shown (1, 2 or 3 = everything); 3 unless the check was staged.
        fingerprint: what identifies the answer (its numbers), for the attempt registry.
    """

    passed: bool
    summary: str
    details: list[str] = field(default_factory=list)
    mistake: str | None = None
    exercise: str | None = None
    answered: bool = True
    hints: list[str] = field(default_factory=list)
    reveals: list[str] = field(default_factory=list)
    stage: int = FULL
    fingerprint: str | None = field(default=None, repr=False, compare=False)

    @property
    def failed(self) -> bool:
        """Answered, and wrong: the reports whose feedback is staged."""
        return self.answered and not self.passed

    @property
    def hint_lines(self) -> list[str]:
        """This answer's own hints, then the hint of its mistake class."""
        if not self.failed:
            return []
        general = HINTS.get(self.mistake or "", "")
        return [*self.hints, *([general] if general and general not in self.hints else [])]

    def lines(self, stage: int | None = None) -> list[str]:
        """The lines shown under the summary at ``stage`` (default: :attr:`stage`): the
        details; from stage 2 the hints; at stage 3 the expected values. A staged report
        ends with how to see more."""
        stage = self.stage if stage is None else stage
        if not self.failed:
            return list(self.details)
        shown = list(self.details)
        if stage >= HINT:
            shown += [f"hint: {h}" for h in self.hint_lines]
        if stage >= FULL:
            return shown + list(self.reveals)
        short = short_name(self.exercise) if self.exercise else ""
        name = "" if not short else f'"{short}"' if '"' not in short and "\\" not in short \
            else repr(short)
        if stage == MISTAKE:
            return shown + [f"stuck? hint({name}) gives a hint, reveal({name}) the expected "
                            "value"]
        return shown + [f"stuck? reveal({name}) gives the expected value"]

    @property
    def feedback(self) -> str:
        """The summary line, then every line of every tier (the expected value included), as
        plain text."""
        return "\n".join([self.summary, *self.lines(FULL)])

    @property
    def shown_feedback(self) -> str:
        """The summary line, then the lines of the stage shown: what the JSON copy carries."""
        return "\n".join([self.summary, *self.lines()])

    @property
    def status(self) -> str:
        """``"passed"``, ``"failed"`` or ``"not answered"``."""
        return "passed" if self.passed else "failed" if self.answered else "not answered"

    def hint(self) -> ReportView:
        """The report with its hint shown (stage 2), for display."""
        return ReportView(self, max(self.stage, HINT))

    def reveal(self) -> ReportView:
        """The report with everything shown, the expected value(s) included, for display."""
        return ReportView(self, FULL)

    def _title(self) -> str:
        mark = "✓" if self.passed else "✗" if self.answered else "…"
        name = f"{self.exercise}: " if self.exercise else ""
        return f"{mark} {name}{self.summary}"

    def render_text(self, stage: int | None = None) -> str:
        """The title, then the lines of ``stage`` (default: :attr:`stage`), indented."""
        return "\n".join([self._title(), *("  " + line for line in self.lines(stage))])

    def __str__(self) -> str:
        return self.render_text()

    def __repr__(self) -> str:
        return str(self)

    def to_json(self) -> dict[str, Any]:
        """What ``chainrule check`` reads back: exercise, passed, answered, mistake, and the
        feedback of the stage shown (never the expected value of a staged report)."""
        return {"exercise": self.exercise, "passed": self.passed, "answered": self.answered,
                "mistake": self.mistake, "feedback": self.shown_feedback}

    def render_html(self, stage: int | None = None) -> str:
        """The green, red or grey box, with the lines of ``stage`` (default: :attr:`stage`)."""
        colour, background = (("#1b5e20", "#e8f5e9") if self.passed else
                              ("#b71c1c", "#ffebee") if self.answered else
                              ("#455a64", "#eceff1"))
        body = "".join(f"<div>{html.escape(line)}</div>" for line in self.lines(stage))
        return (f'<div class="chainrule-report" role="status" style="border-left:6px solid '
                f'{colour};background:{background};color:#212121;padding:6px 12px;'
                f'margin:4px 0;font-family:sans-serif;line-height:1.45">'
                f'<div style="font-weight:600;color:{colour}">{html.escape(self._title())}</div>'
                f'<div style="font-family:monospace;white-space:pre-wrap">{body}</div></div>')

    def _repr_html_(self) -> str:
        return self.render_html()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": str(self), "text/html": self._repr_html_(),
                REPORT_MIME_TYPE: self.to_json()}


@dataclass(frozen=True)
class ReportView:
    """A report shown at another stage (:meth:`Report.hint`, :meth:`Report.reveal`): the same
    box, as text and HTML, without the JSON copy (it is no new check, and ``chainrule check``
    does not count it)."""

    report: Report
    stage: int

    def __str__(self) -> str:
        return self.report.render_text(self.stage)

    def __repr__(self) -> str:
        return str(self)

    @property
    def text(self) -> str:
        """The summary, then the lines shown, as plain text."""
        return "\n".join([self.report.summary, *self.report.lines(self.stage)])

    def _repr_html_(self) -> str:
        return self.report.render_html(self.stage)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": str(self), "text/html": self._repr_html_()}


def not_answered(what: str, exercise: str | None) -> Report:
    """The report for an answer that is still ``...``."""
    return Report(False, f"{what}: not answered yet", ["replace the ... with your answer, "
                  "then run this cell again"], mistake="not_answered", exercise=exercise,
                  answered=False)
