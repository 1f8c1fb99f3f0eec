"""The learner checks: right answers pass (no false alarms), each usual mistake is named on a
constructed wrong answer, reports render, and bad arguments raise clear errors.

Right answers come from an independent oracle (HIPS ``autograd``), not from chainrule."""
from __future__ import annotations

import json
import math

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from autograd_core import (ALL_OPS, ELEMENTWISE_OPS, Op, Report, Tensor, Value, check_answer,
                           check_derivative, check_gradients, check_op)
from autograd_core.checks import stages
from autograd_core.checks.report import REPORT_MIME_TYPE
from autograd_core.tensor_ops import SCATTER

@pytest.fixture(autouse=True)
def fresh_attempts():
    """Each test starts as a new kernel would: no exercise checked yet (staged feedback)."""
    stages.forget()
    yield
    stages.forget()


rng = np.random.default_rng(3)
RANDOM_1000 = [float(v) for v in rng.uniform(-4, 4, 1000)]


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# -- reports --------------------------------------------------------------------------------
def test_a_report_renders_as_text_html_and_json() -> None:
    wrong = check_derivative(lambda x: x * x, lambda x: -2 * x, exercise="1.1 <square>")
    assert not wrong.passed and wrong.answered and wrong.mistake == "sign"
    bundle = wrong._repr_mimebundle_()
    data = bundle[REPORT_MIME_TYPE]
    assert json.loads(json.dumps(data)) == {"exercise": "1.1 <square>", "passed": False,
                                            "answered": True, "mistake": "sign",
                                            "feedback": wrong.shown_feedback}
    assert wrong.feedback.splitlines()[0] == wrong.summary == wrong.shown_feedback.splitlines()[0]
    html = bundle["text/html"]
    assert "#b71c1c" in html and "&lt;square&gt;" in html and "<square>" not in html
    assert str(wrong).startswith("✗ 1.1 <square>: ")
    right = check_derivative(lambda x: x * x, lambda x: 2 * x)
    assert right.passed and "#1b5e20" in right._repr_html_() and str(right).startswith("✓")
    waiting = check_derivative(lambda x: x * x, lambda x: ...)
    assert (waiting.passed, waiting.answered, waiting.status) == (False, False, "not answered")
    assert "#455a64" in waiting._repr_html_() and "not answered yet" in waiting.feedback


# -- check_derivative: no false alarms --------------------------------------------------------
ORACLE_FUNCTIONS = {      # op name -> (f on Values, the same f in autograd.numpy)
    "exp": (lambda x: x.exp(), anp.exp), "log": (lambda x: x.log(), anp.log),
    "sqrt": (lambda x: x.sqrt(), anp.sqrt), "tanh": (lambda x: x.tanh(), anp.tanh),
    "sigmoid": (lambda x: x.sigmoid(), lambda a: 0.5 * (anp.tanh(a / 2) + 1)),
    "relu": (lambda x: x.relu(), lambda a: anp.maximum(a, 0.0)),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda a: anp.where(a > 0, a, 0.1 * a)),
    "softplus": (lambda x: x.softplus(), lambda a: anp.logaddexp(0.0, a)),
    "sin": (lambda x: x.sin(), anp.sin), "cos": (lambda x: x.cos(), anp.cos),
    "abs": (lambda x: abs(x), anp.abs), "neg": (lambda x: -x, lambda a: -a),
    "pow": (lambda x: x ** 3, lambda a: a ** 3), "div": (lambda x: 1 / (x * x + 1),
                                                        lambda a: 1 / (a * a + 1)),
    "mul": (lambda x: x * x.sin(), lambda a: a * anp.sin(a)),
}


@pytest.mark.parametrize("name", sorted(ORACLE_FUNCTIONS))
def test_the_right_derivative_passes_at_1000_random_points(name: str) -> None:
    on_values, oracle = ORACLE_FUNCTIONS[name]
    grad = autograd.grad(lambda a: oracle(a))

    def df(x: float) -> float:
        with np.errstate(invalid="ignore", divide="ignore"):   # log, sqrt at x < 0: skipped
            return float(grad(x))

    def on_floats(x: float) -> float:                  # no graph: truth from central differences
        with np.errstate(invalid="ignore", divide="ignore"):
            return float(oracle(x))

    report = check_derivative(on_values, df, points=RANDOM_1000)
    assert report.passed, report.feedback
    assert check_derivative(on_floats, df, points=RANDOM_1000).passed


def test_points_where_f_is_undefined_are_skipped() -> None:
    report = check_derivative(lambda x: x.log(), lambda x: 1 / x)
    assert report.passed
    checked = int(report.details[0].split()[2])
    assert checked == sum(1 for p in (0, 1, -1, .5, -.5, 2, -2, 10, -10, 30, -30) if p > 0) + \
        sum(1 for v in np.random.default_rng(0).uniform(-3, 3, 20) if v > 0)


def test_several_variables_give_a_tuple_of_partials() -> None:
    f = lambda x, y: x * y + y.exp()    # noqa: E731
    assert check_derivative(f, lambda x, y: (y, x + math.exp(y))).passed
    swapped = check_derivative(f, lambda x, y: (x + math.exp(y), y))
    assert not swapped.passed and "∂f/∂x" in swapped.summary
    one = check_derivative(f, lambda x, y: y)
    assert one.mistake == "raised" and "2 partial derivative(s) were expected" in one.feedback


# -- check_derivative: each mistake named -------------------------------------------------------
X, B, Y = 1.5, -0.5, 1.0


def neuron_loss(w: Value) -> Value:
    """L = ½(σ(wx + b) − y)² (notes 001)."""
    return 0.5 * ((w * X + B).sigmoid() - Y) ** 2


def neuron_grad(w: float, *, sigma_prime: str = "right", with_x: bool = True) -> float:
    a = sigmoid(w * X + B)
    local = {"right": a * (1 - a), "dropped": 1.0, "sigma": a}[sigma_prime]
    return (a - Y) * local * (X if with_x else 1.0)


@pytest.mark.parametrize("df, mistake", [
    (lambda w: neuron_grad(w), None),
    (lambda w: -neuron_grad(w), "sign"),
    (lambda w: neuron_grad(w, sigma_prime="dropped"), "dropped_local"),
    (lambda w: neuron_grad(w, sigma_prime="sigma"), "function_for_derivative"),
    (lambda w: neuron_grad(w, with_x=False), "inner_factor"),
])
def test_the_sigmoid_neurons_mistakes_are_named(df, mistake) -> None:
    report = check_derivative(neuron_loss, df)
    assert report.mistake == mistake and report.passed == (mistake is None), report.feedback
    if mistake:
        # the point, the expected and the received number are always given
        line = report.reveals[-1]
        w = float(line.split("at w = ")[1].split(":")[0])
        assert f"expected {neuron_grad(w):.6g}, got {df(w):.6g}" in line


@pytest.mark.parametrize("f, df, mistake, words", [
    (lambda x: (3 * x).sin(), lambda x: math.cos(3 * x), "inner_factor", "u = 3 * x"),
    (lambda x: x * x.sin(), lambda x: x * math.cos(x), "one_path", "x is used 2 times"),
    (lambda x: x * x.sin(), lambda x: math.sin(x), "one_path", "x is used 2 times"),
    (lambda x: x.tanh(), lambda x: 1 - x * x, "swapped_output", "1 - x^2 instead of"),
    (lambda x: x.exp(), lambda x: x, "swapped_output", "x instead of exp(x)"),
    (lambda x: x.sigmoid(), lambda x: x * (1 - x), "swapped_output", "the input x"),
    (lambda x: x ** 3, lambda x: x * x, "factor", "1/3 times"),
    (lambda x: x * x, lambda x: 4 * x, "factor", "2 times"),
    (lambda x: x ** 2 * 0.5, lambda x: x / 2, "factor", "1/2 times"),
    (lambda x: abs(x), lambda x: x / abs(x), "kink", "x = 0"),
    (lambda x: x.relu(), lambda x: 1.0 if x > 0 else (0.0 if x < 0 else math.nan), "kink",
     "x = 0"),
    (lambda x: x * x, lambda x: 2 * x if x != 2 else math.inf, "nonfinite", "x = 2"),
    (lambda x: x * x, lambda x: undefined_name * x, "raised", "NameError"),  # noqa: F821
    (lambda x: (3 * x).sin(), lambda x: 3 * math.cos(3 * x) + 0.1 * x, "wrong", "x = 1"),
])
def test_each_mistake_is_named_with_its_point(f, df, mistake, words) -> None:
    report = check_derivative(f, df)
    assert not report.passed and report.mistake == mistake, report.feedback
    assert words in report.feedback


def test_on_floats_a_factor_and_a_sign_are_still_named() -> None:
    f = lambda x: math.sin(3 * x)    # noqa: E731 - no graph: central differences
    assert check_derivative(f, lambda x: 3 * math.cos(3 * x)).passed
    assert check_derivative(f, lambda x: math.cos(3 * x)).mistake == "factor"
    assert check_derivative(f, lambda x: -3 * math.cos(3 * x)).mistake == "sign"


def test_any_value_between_the_one_sided_slopes_passes_at_a_kink() -> None:
    for value_at_0 in (0.0, 0.5, 1.0):
        assert check_derivative(lambda x: x.relu(),
                                lambda x, v=value_at_0: v if x == 0 else float(x > 0)).passed
    outside = check_derivative(lambda x: x.relu(), lambda x: 2.0 if x == 0 else float(x > 0))
    assert outside.mistake == "kink" and "from 0 to 1" in outside.feedback


def test_check_derivative_refuses_bad_arguments() -> None:
    with pytest.raises(TypeError, match="two functions"):
        check_derivative(lambda x: x, 3.0)
    with pytest.raises(ValueError, match="2 value"):
        check_derivative(lambda x, y: x * y, lambda x, y: (y, x), points=[1.0])
    with pytest.raises(ValueError, match="undefined"):
        check_derivative(lambda x: (x * 0 - 1).log(), lambda x: 0.0)


# -- check_gradients ---------------------------------------------------------------------------
def reused_graph() -> tuple[Value, Value, Value, Value]:
    """z = (x·w)·x: x is used twice. ∂z/∂y = x = 2, ∂z/∂w = x² = 4, ∂z/∂x = 2xw = -12."""
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    y = x * w
    y.label = "y"
    z = y * x
    z.label = "z"
    return x, w, y, z


def test_right_hand_gradients_pass_and_grads_are_untouched() -> None:
    x, w, y, z = reused_graph()
    z.backward()                       # the learner already ran backward: nothing changes
    before = (x.grad, w.grad, y.grad, z.grad)
    report = check_gradients(z, {"z": 1, y: 2, "w": 4, "x": -12})
    assert report.passed, report.feedback
    assert (x.grad, w.grad, y.grad, z.grad) == before == (-12.0, 4.0, 2.0, 1.0)


@pytest.mark.parametrize("answers, first, mistake", [
    ({"z": 1, "y": 2, "w": 4, "x": -6}, "x", "overwrite"),          # = instead of +=
    ({"z": 1, "y": 2, "w": 4, "x": 12}, "x", "sign"),
    ({"z": 1, "y": 2, "w": 2, "x": -12}, "w", "dropped_local"),    # forgot ∂(x·w)/∂w = x
    ({"z": 1, "y": 3, "w": 6, "x": -15}, "y", "factor"),            # w, x inherit from y
])
def test_the_first_wrong_node_in_backward_order_is_named(answers, first, mistake) -> None:
    report = check_gradients(reused_graph()[3], answers)
    assert not report.passed and report.mistake == mistake, report.feedback
    assert report.summary.startswith(f"{first} is the first wrong gradient in backward order")


def test_a_node_that_only_inherits_a_wrong_upstream_gradient_says_so() -> None:
    report = check_gradients(reused_graph()[3], {"z": 1, "y": 3, "w": 6, "x": -15})
    lines = {line.split(":")[0].strip("✓✗ "): line for line in report.details}
    assert "error comes from y" in lines["w"]          # 6 = 3 · x: right for their y
    assert "error comes from y" in lines["x"]          # -15 = 3 · w + y.data
    assert "error comes from" not in lines["y"]


def test_not_answered_and_bad_keys() -> None:
    x, w, y, z = reused_graph()
    assert not check_gradients(z, {"x": ..., "w": ...}).answered
    partly = check_gradients(z, {"x": -12, "w": ...})
    assert not partly.passed and not partly.answered and "1 of 2" in partly.summary
    with pytest.raises(ValueError, match="'q' names 0 nodes"):
        check_gradients(z, {"q": 1.0})
    twin = Value(1.0, label="x") * x
    with pytest.raises(ValueError, match="'x' names 2 nodes"):
        check_gradients(twin, {"x": 1.0})
    with pytest.raises(ValueError, match="not a node of this graph"):
        check_gradients(z, {Value(1.0): 1.0})
    with pytest.raises(TypeError):
        check_gradients(z, [])


def linear_layer_graph() -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """L = Σ Z², Z = X Wᵀ + b (notes 010)."""
    X = Tensor(np.arange(6.0).reshape(2, 3) / 4, requires_grad=True)
    W = Tensor(np.linspace(-1, 1, 12).reshape(4, 3), requires_grad=True)
    b = Tensor(np.array([0.1, -0.2, 0.3, 0.0]), requires_grad=True)
    for t, name in ((X, "X"), (W, "W"), (b, "b")):
        t.label = name
    Z = X @ W.T + b
    return X, W, b, (Z * Z).sum()


def test_tensor_gradients_catch_a_transpose_and_an_unsummed_bias() -> None:
    X, W, b, L = linear_layer_graph()
    G = 2 * (X.data @ W.data.T + b.data)               # ∂L/∂Z, by hand
    right = {"W": G.T @ X.data, "b": G.sum(axis=0), "X": G @ W.data}
    assert check_gradients(L, right).passed
    transposed = check_gradients(L, {**right, "W": X.data.T @ G})
    assert transposed.mistake == "transpose" and transposed.summary.startswith("W ")
    unsummed = check_gradients(L, {**right, "b": G})
    assert unsummed.mistake == "shape" and "sum over the batch axis" in unsummed.feedback


# -- check_answer ------------------------------------------------------------------------------
def test_check_answer_names_shapes_transposes_known_mistakes_and_parts() -> None:
    J = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert check_answer(J.tolist(), J).passed
    assert check_answer(J.T, J).mistake == "transpose"
    assert check_answer(J[:, :1], J).mistake == "shape"
    known = check_answer(J @ [1.0, 1.0], J.T @ [1.0, 1.0],
                         mistakes={"that is J u (a JVP), not uᵀ J (a VJP)": J @ [1.0, 1.0]})
    assert known.mistake == "known" and "a JVP" in known.feedback
    assert check_answer(np.nan, 2.0).mistake == "nonfinite"
    text = check_answer("two", 2.0)
    assert not text.passed and "not a number" in text.summary
    parts = check_answer({"dW": J, "db": 1.0}, {"dW": J, "db": 2.0})
    assert not parts.passed and parts.mistake == "factor" and "(db)" in parts.summary
    assert check_answer({"dW": J, "db": ...}, {"dW": J, "db": 2.0}).answered is False
    assert check_answer(..., 1.0).answered is False


# -- check_op ----------------------------------------------------------------------------------
OP_PARAMS = {
    "leaky_relu": {"slope": 0.1}, "where": {"condition": True},
    "clip": {"low": -1.0, "high": 1.0}, "sum": {"axis": (1,), "keepdims": False},
    "mean": {"axis": (0,), "keepdims": True}, "max": {"axis": (1,), "keepdims": False},
    "min": {"axis": None, "keepdims": False},
    "var": {"axis": (1,), "keepdims": False, "correction": 1}, "reshape": {"shape": (3, 2)},
    "permute": {"axes": (1, 0)}, "expand": {"shape": (4, 2, 3)},
    "getitem": {"index": (slice(None), 1)},
    "scatter": {"index": (np.array([0, 1]), np.array([2, 0])), "shape": (2, 3)},
    "concatenate": {"axis": 0}, "softmax": {"axis": -1}, "log_softmax": {"axis": 0},
    "logsumexp": {"axis": (-1,), "keepdims": False},
}
OP_INPUTS = {"scatter": (np.array([1.5, -0.7]),), "expand": (np.ones((1, 2, 3)),)}


@pytest.mark.parametrize("op", ALL_OPS, ids=[op.name for op in ALL_OPS])
def test_every_op_of_the_tables_passes_check_op(op: Op) -> None:
    report = check_op(op, params=OP_PARAMS.get(op.name), inputs=OP_INPUTS.get(op.name),
                      points=1000)
    assert report.passed, report.feedback
    assert SCATTER in ALL_OPS


def tanh_op(rule) -> Op:
    return Op("my_tanh", forward=lambda m, a: m.tanh(a), derivatives=(rule,),
              text="tanh($a)", latex=r"\tanh $a", derivative_text=("1 - tanh($a)^2",),
              derivative_latex=(r"1 - \tanh^2 $a",))


def matmul_op(vjp_a, vjp_b) -> Op:
    return Op("my_matmul", inputs="a b", forward=lambda m, a, b: a @ b, vjps=(vjp_a, vjp_b),
              text="$a @ $b", latex="$a $b", derivative_text=("g $b^T", "$a^T g"),
              derivative_latex=("g $b^T", "$a^T g"))


def test_check_op_names_the_wrong_rule() -> None:
    assert check_op(tanh_op(lambda m, out, a: 1 - out * out)).passed
    swapped = check_op(tanh_op(lambda m, out, a: 1 - a * a))
    assert swapped.mistake == "swapped_output" and "∂out/∂a" in swapped.summary
    on_floats_only = check_op(tanh_op(lambda m, out, a: 1 - math.tanh(a) ** 2))
    assert on_floats_only.mistake == "raised" and "arrays" in on_floats_only.summary
    mul = Op("my_mul", inputs="a b", forward=lambda m, a, b: a * b,
             derivatives=(lambda m, out, a, b: b, lambda m, out, a, b: -a),
             text="$a * $b", latex="$a $b", derivative_text=("$b", "$a"),
             derivative_latex=("$b", "$a"))
    wrong_b = check_op(mul)
    assert wrong_b.mistake == "sign" and "∂out/∂b (operand 2 of 2)" in wrong_b.summary
    kink = Op("my_abs", forward=lambda m, a: abs(a), derivatives=(lambda m, out, a: a / abs(a),),
              text="|$a|", latex="|$a|", derivative_text=("sign($a)",),
              derivative_latex=("sign($a)",))
    assert check_op(kink).mistake == "kink"


def test_check_op_catches_a_transposed_or_misshapen_vjp() -> None:
    right = matmul_op(lambda m, g, out, a, b: g @ b.T, lambda m, g, out, a, b: a.T @ g)
    assert check_op(right).passed
    transposed = check_op(matmul_op(lambda m, g, out, a, b: g @ b.T,
                                    lambda m, g, out, a, b: g.T @ a))
    assert transposed.mistake == "transpose" and "∂out/∂b" in transposed.summary
    square = [np.eye(3) + 0.1 * np.arange(9).reshape(3, 3), np.arange(9.0).reshape(3, 3) - 4]
    square_t = check_op(matmul_op(lambda m, g, out, a, b: (g @ b.T).T,
                                  lambda m, g, out, a, b: a.T @ g), inputs=square)
    assert square_t.mistake == "transpose" and "∂out/∂a" in square_t.summary
    total = Op("my_sum", params="axis", forward=lambda m, a, axis: a.sum(axis=axis),
               vjps=(lambda m, g, out, a, axis: g,), text="Σ $a", latex=r"\sum $a",
               derivative_text=("g",), derivative_latex=("g",))
    shape = check_op(total, params={"axis": 1})
    assert shape.mistake == "shape" and "(2, 3)" in shape.feedback


def test_check_op_checks_templates_and_create_graph() -> None:
    typo = Op("my_square", forward=lambda m, a: a * a, derivatives=(lambda m, out, a: 2 * a,),
              text="$a^2", latex="$a^2", derivative_text=("2 $x",), derivative_latex=("2 $a",))
    report = check_op(typo)
    assert not report.passed and "derivative_text[0]" in report.summary and "$x" in \
        report.feedback
    frozen = Op("my_cube", forward=lambda m, a: a * a * a,
                derivatives=(lambda m, out, a: 3 * np.square(np.asarray(a, dtype=float)),),
                text="$a^3", latex="$a^3", derivative_text=("3 $a^2",),
                derivative_latex=("3 $a^2",))
    second = check_op(frozen)
    assert not second.passed and "create_graph" in second.summary, second.feedback
    with pytest.raises(TypeError, match="needs an autograd_core.Op"):
        check_op(len)
    with pytest.raises(TypeError, match="missing: slope"):
        check_op(ELEMENTWISE_OPS[[op.name for op in ELEMENTWISE_OPS].index("leaky_relu")])


def test_check_op_returns_a_report() -> None:
    assert isinstance(check_op(tanh_op(lambda m, out, a: 1 - out * out)), Report)


def test_the_readme_example_prints_what_the_readme_says() -> None:
    import doctest
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Checks for learners", 1)[1].split("```python", 1)[1]
    example = section.split("```", 1)[0]
    test = doctest.DocTestParser().get_doctest(example, {}, "README", "README.md", 0)
    assert test.examples, "the README's checks section lost its example"
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0


def test_numpy_scalars_are_numbers_and_backwards_convention_yields_to_the_slopes() -> None:
    assert check_derivative(lambda x: x.tanh(), lambda x: 1 - np.tanh(x) ** 2).passed
    # prelu(z) = relu(z) - a·relu(-z) is smooth at z = 0 when a = 1 (it is z); backward's
    # relu'(0) = 0 on both paths would say 0 there: the one-sided slopes (1) are the truth
    prelu = lambda z, a: z.relu() - a * (-z).relu()         # noqa: E731
    right = check_derivative(prelu, lambda z, a: (1.0 if z > 0 else a, -max(0.0, -z)))
    assert right.passed, right.feedback
    assert not check_derivative(prelu, lambda z, a: (float(z > 0), -max(0.0, -z))).passed


def test_zero_is_never_printed_as_minus_zero() -> None:
    report = check_answer(1.0, -0.0)
    assert "expected 0," in report.feedback and "-0" not in report.feedback


def test_check_op_with_a_rule_still_a_placeholder_is_not_answered() -> None:
    def rule(m, out, a):
        ...

    report = check_op(tanh_op(rule))
    assert (report.passed, report.answered) == (False, False) and "∂out/∂a" in report.summary


# -- answers that are no number: a report, never an exception (issue 23, item 8) ----------------
def _self_referencing() -> list:
    answer: list = [1.0]
    answer.append(answer)
    return answer


def _deeply_nested() -> list:
    answer: list = [2.0]
    for _ in range(5000):
        answer = [answer]
    return answer


NOT_NUMBERS = [
    ("huge int", lambda: 10 ** 400, "too large"),
    ("huge negative int", lambda: -(10 ** 400), "too large"),
    ("huge int in a list", lambda: [1.0, 10 ** 400], "too large"),
    ("self-referencing list", _self_referencing, "not a number"),
    ("deeply nested list", _deeply_nested, "not a number"),
    ("str", lambda: "42", "not a number"),
    ("bytes", lambda: b"42", "not a number"),
    ("numpy str", lambda: np.str_("42"), "not a number"),
    ("list of str", lambda: ["42"], "not a number"),
    ("str array", lambda: np.array(["42"]), "not a number"),
    ("object array with a str", lambda: np.array([42.0, "42"], dtype=object), "not a number"),
    ("dict", lambda: {"x": 42}, "not a number"),
    ("set", lambda: {42}, "not a number"),
    ("complex", lambda: 42 + 0j, "not a number"),
]
IDS = [case[0] for case in NOT_NUMBERS]


@pytest.mark.parametrize("label, make, what", NOT_NUMBERS, ids=IDS)
def test_check_answer_reports_an_answer_that_is_no_number(label, make, what) -> None:
    expected = 42.0 if label not in ("huge int in a list",) else [1.0, 2.0]
    report = check_answer(make(), expected)
    assert not report.passed and report.answered
    assert report.mistake == "not_a_number" and report.summary == f"your answer is {what}"


@pytest.mark.parametrize("label, make, what", NOT_NUMBERS, ids=IDS)
def test_check_derivative_reports_a_df_that_returns_no_number(label, make, what) -> None:
    report = check_derivative(lambda x: x * x, lambda x: make(), points=[1.0, 2.0])
    assert not report.passed and report.answered
    if isinstance(make(), list):          # a list is read as one value per partial derivative
        assert report.mistake in ("raised", "not_a_number")
    else:
        assert report.mistake == "not_a_number", report.feedback
        assert what in report.feedback


def test_check_derivative_never_grades_text_right() -> None:
    report = check_derivative(lambda x: x * x, lambda x: str(2 * x))
    assert not report.passed and report.mistake == "not_a_number"
    assert check_derivative(lambda x: x * x, lambda x: 2 * x).passed


@pytest.mark.parametrize("label, make, what", NOT_NUMBERS + [
    ("Tensor for a Value", lambda: Tensor([4.0]), "wrong shape"),
], ids=IDS + ["Tensor for a Value"])
def test_check_gradients_reports_an_answer_that_is_no_number(label, make, what) -> None:
    x = Value(2.0, label="x")
    y = x * x
    y.label = "y"
    report = check_gradients(y, {"x": make(), "y": 1.0})
    assert not report.passed and report.answered
    assert "✓ y: 1" in report.feedback                         # the other answers are judged
    if what == "wrong shape":
        assert report.mistake == "shape"
    else:
        assert report.mistake == "not_a_number" and f"✗ x: {what}" in report.feedback


def test_text_is_never_graded_right() -> None:
    for text in ("42", b"42", "4.2e1", ["42"]):
        assert not check_answer(text, 42).passed
    x = Value(2.0, label="x")
    assert not check_gradients(x * x, {"x": "4"}).passed
    assert check_gradients(x * x, {"x": 4}).passed


def test_check_op_never_grades_a_rule_returning_text_right() -> None:
    report = check_op(tanh_op(lambda m, out, a: str(1 - out * out)))
    assert not report.passed
