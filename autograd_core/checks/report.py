"""The result of a learner check: passed or not, and feedback that names the mistake.

Every check (:func:`~autograd_core.checks.answers.check_derivative`, ``check_op``,
``check_gradients``, ``check_answer``) returns a :class:`Report`; a wrong answer is a report,
never an exception, so ``assert report.passed`` works in tests and a notebook shows a green or
red box. The report's MIME bundle carries a JSON copy
(``application/vnd.chainrule.report+json``) that ``chainrule check`` reads back from an
executed notebook.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

REPORT_MIME_TYPE = "application/vnd.chainrule.report+json"

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


def is_unanswered(answer: Any) -> bool:
    """True for what a student copy holds before the learner writes anything: ``...``
    (an ``answer = ...`` placeholder) or ``None`` (a function whose body is ``...``)."""
    return answer is None or answer is Ellipsis


@dataclass
class Report:
    """The outcome of one check.

    Attributes:
        passed: the answer is right.
        answered: False while the answer is still the placeholder ``...``.
        summary: one line: what was checked and the verdict.
        details: further lines: the point, the expected and the received number, the why.
        mistake: the mistake class detected (a key of ``MISTAKES``), or ``None``.
        exercise: the exercise's name, when the check was given one.
    """

    passed: bool
    summary: str
    details: list[str] = field(default_factory=list)
    mistake: str | None = None
    exercise: str | None = None
    answered: bool = True

    @property
    def feedback(self) -> str:
        """The summary line, then the details, as plain text."""
        return "\n".join([self.summary, *self.details])

    @property
    def status(self) -> str:
        """``"passed"``, ``"failed"`` or ``"not answered"``."""
        return "passed" if self.passed else "failed" if self.answered else "not answered"

    def _title(self) -> str:
        mark = "✓" if self.passed else "✗" if self.answered else "…"
        name = f"{self.exercise}: " if self.exercise else ""
        return f"{mark} {name}{self.summary}"

    def __str__(self) -> str:
        return "\n".join([self._title(), *("  " + line for line in self.details)])

    def __repr__(self) -> str:
        return str(self)

    def to_json(self) -> dict[str, Any]:
        """What ``chainrule check`` reads back: exercise, passed, answered, mistake, feedback."""
        return {"exercise": self.exercise, "passed": self.passed, "answered": self.answered,
                "mistake": self.mistake, "feedback": self.feedback}

    def _repr_html_(self) -> str:
        colour, background = (("#1b5e20", "#e8f5e9") if self.passed else
                              ("#b71c1c", "#ffebee") if self.answered else
                              ("#455a64", "#eceff1"))
        body = "".join(f"<div>{html.escape(line)}</div>" for line in self.details)
        return (f'<div class="chainrule-report" role="status" style="border-left:6px solid '
                f'{colour};background:{background};color:#212121;padding:6px 12px;'
                f'margin:4px 0;font-family:sans-serif;line-height:1.45">'
                f'<div style="font-weight:600;color:{colour}">{html.escape(self._title())}</div>'
                f'<div style="font-family:monospace;white-space:pre-wrap">{body}</div></div>')

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": str(self), "text/html": self._repr_html_(),
                REPORT_MIME_TYPE: self.to_json()}


def not_answered(what: str, exercise: str | None) -> Report:
    """The report for an answer that is still ``...``."""
    return Report(False, f"{what}: not answered yet", ["replace the ... with your answer, "
                  "then run this cell again"], mistake="not_answered", exercise=exercise,
                  answered=False)
