"""Compare a learner's numbers with the truth and name the mistake, if it is a known one.

A mistake is *detected*, never guessed: each candidate is a concrete alternative answer (the
negated truth, the truth times a constant, the gradient with one local derivative left out,
...) and it is named only when the learner's numbers equal that alternative at every point
checked, while the truth differs. The comparisons are flat arrays: one entry per point (and
element), each with a description of where it was taken (``"x = 0.5"``).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np


@dataclass
class Alternative:
    """What the answer would be under one mistake: ``values`` laid out as the truth is."""

    mistake: str
    explanation: str
    values: np.ndarray
    hint: str = ""            # what would give the fix away: shown from stage 2


@dataclass
class Diagnosis:
    """A verdict and its feedback in tiers (see :class:`~autograd_core.checks.report.Report`):
    ``lines`` (the mistake's explanation and the first wrong point with the learner's number),
    ``hints`` and ``reveals`` (the expected number at that point)."""

    passed: bool
    mistake: str | None
    lines: list[str]
    hints: list[str]
    reveals: list[str]


@dataclass
class Comparison:
    """The learner's numbers against the truth, one entry per point checked.

    ``low``/``high`` give, at a kink (where the function has no derivative), the interval of
    valid one-sided slopes; they are ``nan`` elsewhere.
    """

    received: np.ndarray
    expected: np.ndarray
    where: Sequence[str]
    rtol: float
    atol: float
    low: np.ndarray | None = None
    high: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.received = np.asarray(self.received, dtype=float).ravel()
        self.expected = np.asarray(self.expected, dtype=float).ravel()
        n = self.expected.size
        self.low = np.full(n, np.nan) if self.low is None else np.asarray(self.low, float).ravel()
        self.high = np.full(n, np.nan) if self.high is None else np.asarray(self.high,
                                                                             float).ravel()
        self.at_kink = ~np.isnan(self.low)

    def close(self, values: np.ndarray) -> np.ndarray:
        """Elementwise ``|received - values| <= atol + rtol |values|`` (nan never close)."""
        values = np.asarray(values, dtype=float).ravel()
        with np.errstate(invalid="ignore", over="ignore"):
            return np.abs(self.received - values) <= self.atol + self.rtol * np.abs(values)

    def correct(self) -> np.ndarray:
        """Where the answer is right: close to the truth, or inside the kink's interval."""
        tol = self.atol + self.rtol * np.maximum(np.abs(self.low), np.abs(self.high))
        with np.errstate(invalid="ignore"):
            in_interval = (self.received >= self.low - tol) & (self.received <= self.high + tol)
        return self.close(self.expected) | (self.at_kink & in_interval)

    def equals(self, values: np.ndarray) -> bool:
        """The answer is ``values`` at every point away from the kinks, and that differs
        from the truth somewhere (else it would be no mistake)."""
        values = np.asarray(values, dtype=float).ravel()
        smooth = ~self.at_kink
        if not smooth.any() or not np.isfinite(values[smooth]).all():
            return False
        differs = ~np.isclose(values[smooth], self.expected[smooth], rtol=self.rtol,
                              atol=self.atol)
        return bool(self.close(values)[smooth].all() and differs.any())


def number(x: float) -> str:
    """A number as feedback prints it: six significant digits (and 0, never -0)."""
    return f"{x + 0.0:.6g}"


def factor_name(c: float) -> str:
    """``2``, ``1/2``, ``-3`` or ``≈ 1.37``: a constant factor as a learner would write it."""
    fraction = Fraction(c).limit_denominator(12)
    if abs(float(fraction) - c) <= 1e-6 * max(1.0, abs(c)):
        return str(fraction)
    return f"≈ {c:.4g}"


def diagnose(comparison: Comparison, alternatives: Sequence[Alternative] = (),
             what: str = "your answer", unit: str = "points") -> Diagnosis:
    """Whether every point is right, the mistake class detected (``None`` when right,
    ``"wrong"`` when no known mistake fits) and the feedback: the mistake's explanation, then
    the first wrong point with the learner's number; a hint; the expected number there."""
    c = comparison
    good = c.correct()
    if good.all():
        return Diagnosis(True, None, [], [], [])
    bad = ~good
    r, e = c.received, c.expected
    # the first wrong point in the order checked (0, ±1, ... come first: easy numbers),
    # preferring one away from the kinks
    worst = int(np.flatnonzero(bad & ~c.at_kink)[0] if (bad & ~c.at_kink).any()
                else np.flatnonzero(bad)[0])
    kink = (f" (any value from {number(c.low[worst])} to {number(c.high[worst])} is a "
            "valid one-sided slope there)" if c.at_kink[worst] else "")
    mistake, why, hints, reveals = _classify(c, bad, alternatives, what)
    count = (f"wrong at {int(bad.sum())} of the {bad.size} {unit} checked; " if bad.size > 1
             else "")
    return Diagnosis(False, mistake, [why, f"{count}at {c.where[worst]}: got {number(r[worst])}"],
                     hints, [f"at {c.where[worst]}: expected {number(e[worst])}, got "
                             f"{number(r[worst])}{kink}", *reveals])


def _classify(c: Comparison, bad: np.ndarray, alternatives: Sequence[Alternative],
              what: str) -> tuple[str, str, list[str], list[str]]:
    """The mistake, its explanation (no expected number), hints and further reveals."""
    r, e = c.received, c.expected
    if (bad & c.at_kink).any() and not (bad & ~c.at_kink).any():
        places = ", ".join(dict.fromkeys(c.where[i] for i in np.flatnonzero(bad)))
        return "kink", (f"{what} is right everywhere except at the kink ({places}): the "
                        "function has no derivative there; a rule may pick any value "
                        "between the one-sided slopes, but not nan, inf or an error"), [], []
    nonfinite = bad & ~np.isfinite(r) & np.isfinite(e)
    if nonfinite.any():
        i = int(np.flatnonzero(nonfinite)[0])
        return "nonfinite", (f"{what} is {number(r[i])} at {c.where[i]}, where the derivative "
                             "is a finite number: look for a division by zero or an "
                             "overflow"), [], [f"at {c.where[i]} the derivative is "
                                               f"{number(e[i])}"]
    for alternative in alternatives:
        if c.equals(alternative.values):
            return (alternative.mistake, alternative.explanation,
                    [alternative.hint] if alternative.hint else [], [])
    significant = ~c.at_kink & (np.abs(e) > c.atol)
    if significant.any() and c.equals(-e):
        return "sign", (f"{what} has the wrong sign: it is minus the right answer at every "
                        "point"), [], []
    if significant.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            k = float(np.median(r[significant] / e[significant]))
        if np.isfinite(k) and k != 0 and c.equals(k * e):
            if significant.sum() == 1:      # one number: its ratio to the truth is the truth
                return "factor", f"{what} is off by a constant factor", [], []
            return "factor", (f"{what} is off by a constant factor: the same multiple of the "
                              "right answer at every point"), [
                f"{what} is {factor_name(k)} times the right answer (a constant or an "
                "exponent dropped or doubled?)"], []
    return "wrong", (f"{what} does not match the right answer and fits none of the usual "
                     "mistakes"), [], []
