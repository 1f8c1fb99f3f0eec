"""The learner checks: judging a learner's answer against the engine, with feedback that names
the mistake (a local derivative left out, one path of two, the input where the rule needs the
output, a missing transpose, ...).

- :func:`check_answer`, :func:`check_derivative`, :func:`check_gradients` (``answers.py``) and
  :func:`check_op` (``check_op.py``) judge an answer and return a :class:`Report`
  (``report.py``: the green or red box a notebook shows, and its JSON);
- :func:`check_engine` and :func:`check_topological_sort` (``learner_checks.py``) judge a
  learner's own micrograd-style engine, read through ``learner_engine.py`` (the protocol, the
  mirror on chainrule's engine, the watched pass);
- ``stages.py`` decides how much of a wrong answer's report an exercise shows (the kind of
  mistake, then a hint, the expected value only on request) and gives :func:`hint` and
  :func:`reveal`;
- ``diagnose.py`` recognises the mistake behind a wrong number, ``paths.py`` replays a pass with
  one local derivative swapped to recognise a slip, ``slopes.py`` samples derivatives
  numerically.

They use the engine (the rest of ``autograd_core``); the engine never imports them.
"""
from .answers import check_answer, check_derivative, check_gradients
from .check_op import check_op
from .learner_checks import check_engine, check_topological_sort
from .report import REPORT_MIME_TYPE, Report, ReportView
from .stages import hint, reveal

__all__ = ["check_answer", "check_derivative", "check_gradients", "check_op", "check_engine",
           "check_topological_sort", "hint", "reveal", "Report", "ReportView", "REPORT_MIME_TYPE"]
