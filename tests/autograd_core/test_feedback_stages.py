"""Staged feedback on exercises (issue 25): a first wrong answer gets the kind of mistake and
never the expected number; a later, different wrong answer gets a hint; the expected value
shows only on request (``reveal``); re-checking an answer shows what it showed the first time.

The expected numbers are computed here by hand (the derivatives written out), not read from
the reports."""
from __future__ import annotations

import html
import json
import math
import re
import threading
from typing import Any, Callable

import pytest

import autograd_core
from autograd_core import (Op, Value, check_answer, check_derivative, check_gradients,
                           check_op, hint, reveal)
from autograd_core.checks import stages
from autograd_core.checks.diagnose import number
from autograd_core.checks.report import HINTS, MISTAKES, REPORT_MIME_TYPE, Report, ReportView


@pytest.fixture(autouse=True)
def fresh_attempts(monkeypatch):
    """Each test starts as a new kernel would: no exercise checked yet, staging on."""
    monkeypatch.delenv(stages.FEEDBACK_VARIABLE, raising=False)
    stages.forget()
    yield
    stages.forget()


NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def numbers_in(text: str) -> set[str]:
    """The numbers a text states, without the point it names (``x = 0.7``) and the count
    (``wrong at 2 of the 2 points checked``)."""
    text = re.sub(r"wrong at \d+ of the \d+ \w+ checked", "", text)
    text = re.sub(r"\b\w+ = -?[\d.]+", "", text)
    return set(NUMBER.findall(text))


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


POINTS = [0.7, 1.3]      # the expected values there (1.4, 5.07, ...) are no point or count

# mistake -> (f, the learner's df, the right df written out)
DERIVATIVE_CASES: dict[str, tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]] = {
    "sign": (lambda x: x * x, lambda x: -2 * x, lambda x: 2 * x),
    "factor": (lambda x: x ** 3, lambda x: x * x, lambda x: 3 * x * x),
    "inner_factor": (lambda x: (3 * x).sin(), lambda x: math.cos(3 * x),
                     lambda x: 3 * math.cos(3 * x)),
    "swapped_output": (lambda x: x.tanh(), lambda x: 1 - x * x,
                       lambda x: 1 - math.tanh(x) ** 2),
    "function_for_derivative": (lambda x: x.tanh(), lambda x: math.tanh(x),
                                lambda x: 1 - math.tanh(x) ** 2),
    "dropped_local": (lambda w: (w * 3).sigmoid(), lambda w: 3.0,
                      lambda w: 3 * sigmoid(3 * w) * (1 - sigmoid(3 * w))),
    "one_path": (lambda x: x * x.sin(), lambda x: x * math.cos(x),
                 lambda x: math.sin(x) + x * math.cos(x)),
    "nonfinite": (lambda x: x * x, lambda x: math.inf if x == 0.7 else 2 * x, lambda x: 2 * x),
    "wrong": (lambda x: x * x, lambda x: 2 * x + 0.1, lambda x: 2 * x),
}


def rendered(report: Report) -> dict[str, str]:
    """Everything a notebook stores of a report: its text, its HTML, its JSON copy."""
    bundle = report._repr_mimebundle_()
    data = json.loads(json.dumps(bundle[REPORT_MIME_TYPE]))
    return {"text/plain": bundle["text/plain"], "text/html": html.unescape(bundle["text/html"]),
            "json": "\n".join(str(v) for v in data.values())}


@pytest.mark.parametrize("mistake", list(DERIVATIVE_CASES))
def test_a_first_wrong_derivative_names_the_mistake_without_the_expected_number(mistake) -> None:
    f, df, right = DERIVATIVE_CASES[mistake]
    report = check_derivative(f, df, points=POINTS, exercise="9.1 an exercise")
    assert report.mistake == mistake and report.stage == 1, report.feedback
    expected = {number(right(p)) for p in POINTS}
    for kind, text in rendered(report).items():
        assert MISTAKES[mistake] in text
        assert not numbers_in(text) & expected, (kind, text)
        assert not re.search(r"expected -?\d", text), (kind, text)
        assert 'stuck? hint("9.1") gives a hint, reveal("9.1") the expected value' in text
    # the hint still holds no expected number; the reveal does
    assert not numbers_in(str(report.hint())) & expected, str(report.hint())
    shown = str(report.reveal())
    assert any(f"expected {e}" in shown or f"derivative is {e}" in shown for e in expected)


def test_a_kinks_valid_slopes_are_revealed_not_shown() -> None:
    report = check_derivative(lambda x: x.relu(), lambda x: 2.0 if x == 0 else float(x > 0),
                              exercise="9.2 relu")
    assert report.mistake == "kink" and report.stage == 1
    assert "from 0 to 1" not in report.shown_feedback and "from 0 to 1" in str(report.reveal())


GRAPH_X, GRAPH_W = 2.0, -3.0          # z = x·w + x: ∂z/∂x = w + 1 = -2, ∂z/∂w = x = 2


def graph() -> Value:
    x, w = Value(GRAPH_X, label="x"), Value(GRAPH_W, label="w")
    y = x * w
    y.label = "y"
    return y + x


@pytest.mark.parametrize("answers, mistake", [
    ({"y": 1, "w": 2, "x": GRAPH_W}, "overwrite"),          # the last use alone (= for +=)
    ({"y": 1, "w": 2, "x": 2}, "dropped_local"),            # 1·1 + 1·1: ∂(x·w)/∂x = w left out
])
def test_check_gradients_shows_the_learners_numbers_not_the_expected(answers, mistake) -> None:
    report = check_gradients(graph(), answers, exercise="9.3 graph")
    assert report.mistake == mistake and report.stage == 1, report.feedback
    expected_x = number(GRAPH_W + 1)
    for kind, text in rendered(report).items():
        assert expected_x not in numbers_in(text), (kind, text)
        assert f"got {number(answers['x'])}" in text
    assert f"x: expected {expected_x}, got {number(answers['x'])}" in str(report.reveal())


@pytest.mark.parametrize("answer, expected, mistakes, mistake, hidden", [
    (0.5, 1.5, None, "factor", "1.5"),
    (-1.5, 1.5, None, "sign", "1.5"),
    (0.25, 1.5, {"the bias correction skipped": 0.25}, "known", "1.5"),
    ([[1.25, 3.75], [2.5, 5.5]], [[1.25, 2.5], [3.75, 5.5]], None, "transpose", "2.5"),
    ({"a": 1.0, "b": 2.0}, {"a": 1.0, "b": 2.75}, None, "factor", "2.75"),
])
def test_check_answer_keeps_the_expected_value_for_reveal(answer, expected, mistakes, mistake,
                                                          hidden) -> None:
    report = check_answer(answer, expected, mistakes=mistakes, exercise="9.4 a number")
    assert report.mistake == mistake and report.stage == 1, report.feedback
    for kind, text in rendered(report).items():
        assert hidden not in numbers_in(text), (kind, text)
    # for one number the hint gives no ratio either (its ratio to the truth is the truth)
    assert hidden not in numbers_in(str(report.hint())) and "1/3" not in str(report.hint())
    assert f"expected {hidden}" in str(report.reveal())


def test_check_op_stages_a_wrong_rule() -> None:
    square = Op("my_square", forward=lambda m, a: a * a, derivatives=(lambda m, out, a: 4 * a,),
                text="$a^2", latex="$a^2", derivative_text=("2 $a",),
                derivative_latex=("2 $a",))
    report = check_op(square, exercise="9.5 an op")
    assert report.mistake == "factor" and report.stage == 1
    first = re.search(r"at a = (-?[\d.]+): got", report.shown_feedback)
    assert first, report.shown_feedback
    truth = number(2 * float(first.group(1)))
    assert truth not in numbers_in(report.shown_feedback.split("\n", 1)[1])
    assert f"expected {truth}" in str(report.reveal())


def test_a_second_different_wrong_answer_shows_the_hint_and_rerunning_shows_the_same() -> None:
    def run(answer: float) -> str:
        return json.dumps(check_answer(answer, 1.5, exercise="9.6 stages")._repr_mimebundle_(),
                          ensure_ascii=False)

    first = run(-1.5)
    assert "hint:" not in first and HINTS["sign"] not in first
    second = check_answer(0.5, 1.5, exercise="9.6 stages")
    assert second.stage == 2 and HINTS["factor"] in str(second)
    assert 'stuck? reveal("9.6") gives the expected value' in str(second)
    assert "hint:" in second._repr_html_() and "hint:" in second.to_json()["feedback"]
    assert "expected 1.5" not in json.dumps(second._repr_mimebundle_())
    assert run(-1.5) == first                       # re-running a cell shows what it showed
    assert run(0.5) == json.dumps(second._repr_mimebundle_(), ensure_ascii=False)


def test_a_function_answer_is_the_same_answer_when_it_returns_the_same_values() -> None:
    f = lambda x: x * x      # noqa: E731
    one = check_derivative(f, lambda x: -2 * x, exercise="9.7")
    same_values = check_derivative(f, lambda x: -(x + x), exercise="9.7")
    assert (one.stage, same_values.stage) == (1, 1)
    assert str(one) == str(same_values)
    assert check_derivative(f, lambda x: 4 * x, exercise="9.7").stage == 2


def test_right_and_unanswered_reports_are_unchanged() -> None:
    right = check_answer(1.5, 1.5, exercise="9.8")
    waiting = check_answer(..., 1.5, exercise="9.8")
    for report in (right, waiting):
        assert "stuck?" not in str(report) and "hint:" not in str(report)
        assert str(report.hint()) == str(report.reveal()) == str(report)
    assert str(right) == "✓ 9.8: your answer is right\n  = 1.5"


def test_without_an_exercise_everything_shows_as_before() -> None:
    report = check_answer(0.5, 1.5)
    assert report.stage == 3 and "stuck?" not in str(report)
    for kind, text in rendered(report).items():
        assert "expected 1.5, got 0.5" in text, kind
    with pytest.raises(ValueError, match="no exercise's check has failed"):
        hint()                                      # not an exercise: not registered


def test_the_teachers_setting_shows_everything(monkeypatch) -> None:
    monkeypatch.setenv(stages.FEEDBACK_VARIABLE, "full")
    report = check_answer(0.5, 1.5, exercise="9.9 graded")
    assert report.stage == 3 and "expected 1.5" in report.to_json()["feedback"]


def test_hint_and_reveal_find_the_latest_report_by_name_prefix_or_recency() -> None:
    with pytest.raises(ValueError, match="no exercise's check has failed yet"):
        reveal()
    check_answer(0.5, 1.5, exercise="01.1 σ neuron: ∂L/∂w")
    check_answer(-2.0, 2.0, exercise="01.10 another")
    latest = reveal()
    assert isinstance(latest, ReportView) and latest.report.exercise == "01.10 another"
    assert "expected 2" in str(latest)
    assert "expected 1.5" in str(reveal("01.1"))           # not 01.10
    assert "expected 1.5" in str(reveal("01.1 σ neuron: ∂L/∂w"))
    assert HINTS["factor"] in str(hint("01.1")) and "1.5" not in hint("01.1").text
    with pytest.raises(ValueError, match=r"'01' names 2 exercises"):
        hint("01")
    with pytest.raises(ValueError, match=r"no check of exercise '02.1'.*'01.1', '01.10'"):
        hint("02.1")
    with pytest.raises(TypeError, match="string"):
        reveal(1.1)
    check_answer(1.5, 1.5, exercise="01.1 σ neuron: ∂L/∂w")  # the latest report of 01.1
    assert str(reveal("01.1")).startswith("✓")
    assert reveal().report.exercise == "01.10 another"      # still the latest failed one


def test_views_show_the_same_box_without_the_json_copy() -> None:
    report = check_answer(0.5, 1.5, exercise="9.10")
    for view in (report.hint(), report.reveal(), hint(), reveal()):
        bundle = view._repr_mimebundle_()
        assert set(bundle) == {"text/plain", "text/html"}
        assert 'class="chainrule-report"' in bundle["text/html"] and "#b71c1c" in bundle["text/html"]
    assert "expected 1.5" in report.reveal()._repr_html_()
    assert "expected 1.5" not in report.hint()._repr_html_()


def test_the_registry_is_bounded_and_safe_across_threads(monkeypatch) -> None:
    monkeypatch.setattr(stages, "MAX_ANSWERS", 8)
    monkeypatch.setattr(stages, "MAX_EXERCISES", 4)
    results: list[int] = []

    def attempt(k: int) -> None:
        results.append(check_answer(k + 10.0, 1.5, exercise="9.11 crowded").stage)

    threads = [threading.Thread(target=attempt, args=(k,)) for k in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [1] + [2] * 31            # exactly one first wrong answer
    assert len(stages._exercises["9.11 crowded"].answers) == 8
    for k in range(10):
        check_answer(0.0, 1.5, exercise=f"9.12 number {k}")
    assert len(stages._exercises) == 4


def test_hint_and_reveal_are_public() -> None:
    assert {"hint", "reveal", "ReportView"} <= set(autograd_core.__all__)
    assert autograd_core.hint is hint and autograd_core.checks.reveal is reveal


def test_a_known_mistake_can_keep_its_fix_for_the_hint() -> None:
    m = 0.25
    report = check_answer(m, 2.5, mistakes={("no bias correction", "m̂ = m / (1 - β₁ᵗ)"): m},
                          exercise="9.13 adam")
    assert report.mistake == "known" and "no bias correction" in str(report)
    assert "m̂ = m / (1 - β₁ᵗ)" not in str(report) and "m̂ = m / (1 - β₁ᵗ)" in str(report.hint())
    shaped = check_answer([m, m], [2.5, 2.5, 2.5],
                          mistakes={("no bias correction", "divide by 1 - β₁ᵗ"): [m, m]})
    assert shaped.mistake == "known" and "hint: divide by 1 - β₁ᵗ" in str(shaped)
    with pytest.raises(TypeError, match="explanation"):
        check_answer(1.0, 2.0, mistakes={3: 1.0})



def test_the_way_to_see_more_names_the_exercise_as_python_reads_it() -> None:
    report = check_answer(0.5, 1.5, exercise='the "tricky" one')
    assert "stuck? hint('the \"tricky\" one') gives a hint" in str(report)
    assert "expected 1.5" in str(reveal('the "tricky" one'))
