"""The elementwise op table: each op's forward, local derivatives and formulas in one entry.

Both ``Value`` (on floats) and ``Tensor`` (on arrays, with broadcasting) use these entries.
Templates use ``$a``/``$b`` for the operands and ``$name`` for a parameter.
A local derivative rule has the signature ``rule(m, out, a[, b], **params)``.
"""
from __future__ import annotations

from typing import Any

from .array_math import _quiet
from .op import Op

ADD = Op("add", symbol="+", inputs="a b",
         forward=lambda m, a, b: a + b,
         derivatives=(lambda m, out, a, b: 1.0,
                      lambda m, out, a, b: 1.0),
         text="$a + $b", latex="$a + $b",
         derivative_text=("1", "1"), derivative_latex=("1", "1"))

SUB = Op("sub", symbol="-", inputs="a b",
         forward=lambda m, a, b: a - b,
         derivatives=(lambda m, out, a, b: 1.0,
                      lambda m, out, a, b: -1.0),
         text="$a - $b", latex="$a - $b",
         derivative_text=("1", "-1"), derivative_latex=("1", "-1"))

MUL = Op("mul", symbol="*", inputs="a b",
         forward=lambda m, a, b: a * b,
         derivatives=(lambda m, out, a, b: b,
                      lambda m, out, a, b: a),
         text="$a * $b", latex=r"$a \cdot $b",
         derivative_text=("$b", "$a"), derivative_latex=("$b", "$a"))

DIV = Op("div", symbol="/", inputs="a b",
         forward=lambda m, a, b: m.div(a, b),
         derivatives=(lambda m, out, a, b: m.div(1.0, b),
                      lambda m, out, a, b: -m.div(out, b)),      # -a / b^2
         text="$a / $b", latex=r"\frac{$a}{$b}",
         derivative_text=("1 / $b", "-$a / $b^2"),
         derivative_latex=(r"\frac{1}{$b}", r"-\frac{$a}{$b^{2}}"))


def _pow_base(m: Any, out: Any, a: Any, b: Any) -> Any:
    """∂(a^b)/∂a = b a^(b-1), and 0 where b = 0 (a^0 = 1 is constant) and a^(b-1) is not
    finite: a = 0, nan, or a subnormal whose reciprocal overflows, where b a^(b-1) would be
    0 · inf = nan (PyTorch and HIPS autograd give 0). That also makes d²(a^1)/da² = 0 there."""
    zero = m.equal(b, 0.0)
    if zero.__class__ is bool:              # floats and Values (Python floats never warn)
        return 0.0 if zero and not m.finite_pow(a, b - 1.0) else b * m.pow(a, b - 1.0)
    return _pow_base_array(m, a, b, zero)


@_quiet     # overflow (2 · 1e308) and nan (inf · 0) arise silently, as IEEE says
def _pow_base_array(m: Any, a: Any, b: Any, zero: Any) -> Any:
    """The array form: where b = 0 and a^(b-1) is not finite, both factors are swapped for
    harmless ones (0 and 1^(b-1)), so neither the value nor, with ``create_graph``, a second
    derivative sees 0 · inf."""
    if zero.any() if zero.ndim else zero:     # (a NumPy bool for a 0-d exponent: no any())
        fixed = zero & ~m.finite_pow(a, b - 1.0)
        return m.where(fixed, 0.0, b) * m.pow(m.where(fixed, 1.0, a), b - 1.0)
    return b * m.pow(a, b - 1.0)


def _pow_exponent(m: Any, out: Any, a: Any, b: Any) -> Any:
    """∂(a^b)/∂b = a^b ln a, and 0 where a = 0 and b >= 0 (the limit PyTorch uses)."""
    limit = m.equal(a, 0.0) & (b >= 0.0)
    if limit.__class__ is bool:             # floats and Values
        return 0.0 if limit else out * m.log(a)
    return _pow_exponent_array(m, out, a, limit)


@_quiet
def _pow_exponent_array(m: Any, out: Any, a: Any, limit: Any) -> Any:
    """The array form: ln is taken of 1 instead of 0 at the limit points, so no -inf enters
    the value or, with ``create_graph``, a second derivative."""
    return out * m.log(m.where(limit, 1.0, a) if (limit.any() if limit.ndim else limit) else a)


POW = Op("pow", symbol="**", inputs="a b",
         forward=lambda m, a, b: m.pow(a, b),
         derivatives=(_pow_base, _pow_exponent),
         text="$a ** $b", latex="{$a}^{$b}",
         derivative_text=("$b * $a ** ($b - 1)", "$a ** $b * ln($a)"),
         derivative_latex=("$b \\, {$a}^{$b - 1}", "{$a}^{$b} \\ln $a"))

NEG = Op("neg", symbol="-", forward=lambda m, a: -a,
         derivatives=(lambda m, out, a: -1.0,),
         text="-$a", latex="-$a", derivative_text=("-1",), derivative_latex=("-1",))

ABS = Op("abs", forward=lambda m, a: abs(a),
         derivatives=(lambda m, out, a: m.sign(a),),
         text="|$a|", latex=r"\left|$a\right|",
         derivative_text=("sign($a)",), derivative_latex=(r"\operatorname{sign}($a)",))

EXP = Op("exp", forward=lambda m, a: m.exp(a),
         derivatives=(lambda m, out, a: out,),
         text="exp($a)", latex="e^{$a}",
         derivative_text=("exp($a)",), derivative_latex=("e^{$a}",))

LOG = Op("log", forward=lambda m, a: m.log(a),
         derivatives=(lambda m, out, a: m.div(1.0, a),),
         text="ln($a)", latex=r"\ln $a",
         derivative_text=("1 / $a",), derivative_latex=(r"\frac{1}{$a}",))

SQRT = Op("sqrt", symbol="√", forward=lambda m, a: m.sqrt(a),
          derivatives=(lambda m, out, a: m.div(0.5, out),),
          text="sqrt($a)", latex=r"\sqrt{$a}",
          derivative_text=("1 / (2 sqrt($a))",), derivative_latex=(r"\frac{1}{2\sqrt{$a}}",))

TANH = Op("tanh", forward=lambda m, a: m.tanh(a),
          derivatives=(lambda m, out, a: 1.0 - out * out,),
          text="tanh($a)", latex=r"\tanh $a",
          derivative_text=("1 - tanh($a)^2",), derivative_latex=(r"1 - \tanh^{2} $a",))

SIGMOID = Op("sigmoid", symbol="σ", forward=lambda m, a: m.sigmoid(a),
             derivatives=(lambda m, out, a: out * (1.0 - out),),
             text="sigmoid($a)", latex=r"\sigma($a)",
             derivative_text=("sigmoid($a) * (1 - sigmoid($a))",),
             derivative_latex=(r"\sigma($a)\,(1 - \sigma($a))",))

RELU = Op("relu", symbol="ReLU", forward=lambda m, a: m.relu(a),
          derivatives=(lambda m, out, a: m.indicator(a > 0.0),),
          text="max(0, $a)", latex=r"\max(0, $a)",
          derivative_text=("1 if $a > 0 else 0",),
          derivative_latex=(r"\mathbb{1}[$a > 0]",))

LEAKY_RELU = Op("leaky_relu", symbol="LeakyReLU", params="slope",
                forward=lambda m, a, slope: m.where(a > 0, a, slope * a),
                derivatives=(lambda m, out, a, slope: m.where(a > 0, 1.0, slope),),
                text="$a if $a > 0 else $slope * $a", latex=r"\max($a, $slope\,$a)",
                derivative_text=("1 if $a > 0 else $slope",),
                derivative_latex=(r"\begin{cases}1 & $a > 0\\ $slope & $a \le 0\end{cases}",))

SOFTPLUS = Op("softplus", forward=lambda m, a: m.softplus(a),
              derivatives=(lambda m, out, a: m.sigmoid(a),),
              text="ln(1 + exp($a))", latex=r"\ln(1 + e^{$a})",
              derivative_text=("sigmoid($a)",), derivative_latex=(r"\sigma($a)",))

SIN = Op("sin", forward=lambda m, a: m.sin(a),
         derivatives=(lambda m, out, a: m.cos(a),),
         text="sin($a)", latex=r"\sin $a",
         derivative_text=("cos($a)",), derivative_latex=(r"\cos $a",))

COS = Op("cos", forward=lambda m, a: m.cos(a),
         derivatives=(lambda m, out, a: -m.sin(a),),
         text="cos($a)", latex=r"\cos $a",
         derivative_text=("-sin($a)",), derivative_latex=(r"-\sin $a",))

# Piecewise constant: the true derivative is 0 (a Dirac delta at 0), so these cannot be trained.
STEP = Op("step", symbol="u", forward=lambda m, a: m.step(a),
          derivatives=(lambda m, out, a: m.zeros_like(a),),
          text="1 if $a > 0 else 0", latex="u($a)",
          derivative_text=("0",), derivative_latex=("0",))

SIGN = Op("sign", forward=lambda m, a: m.sign(a),
          derivatives=(lambda m, out, a: m.zeros_like(a),),
          text="sign($a)", latex=r"\operatorname{sign}($a)",
          derivative_text=("0",), derivative_latex=("0",))

ELEMENTWISE_OPS: tuple[Op, ...] = (ADD, SUB, MUL, DIV, POW, NEG, ABS, EXP, LOG, SQRT, TANH,
                                   SIGMOID, RELU, LEAKY_RELU, SOFTPLUS, SIN, COS, STEP, SIGN)
"""Every elementwise op, in the order the docs list them."""

# -- elementwise ops used by Tensor (comparisons split ties evenly, like torch.maximum) ----
WHERE = Op("where", inputs="a b", params="condition", signature="condition a b",
           forward=lambda m, a, b, condition: m.where(condition, a, b),
           derivatives=(lambda m, out, a, b, condition: m.where(condition, 1.0, 0.0),
                        lambda m, out, a, b, condition: m.where(condition, 0.0, 1.0)),
           text="$a if condition else $b", latex=r"\begin{cases}$a & c\\ $b & \neg c\end{cases}",
           derivative_text=("1 if condition else 0", "0 if condition else 1"),
           derivative_latex=(r"\mathbb{1}[c]", r"\mathbb{1}[\neg c]"))

MAXIMUM = Op("maximum", symbol="max", inputs="a b",
             forward=lambda m, a, b: m.maximum(a, b),
             derivatives=(lambda m, out, a, b: m.where(a > b, 1.0, m.where(m.equal(a, b), 0.5, 0.0)),
                          lambda m, out, a, b: m.where(b > a, 1.0, m.where(m.equal(a, b), 0.5, 0.0))),
             text="max($a, $b)", latex=r"\max($a, $b)",
             derivative_text=("1 if $a > $b (1/2 if equal) else 0", "1 if $b > $a (1/2 if equal) else 0"),
             derivative_latex=(r"\mathbb{1}[$a > $b]", r"\mathbb{1}[$b > $a]"))

MINIMUM = Op("minimum", symbol="min", inputs="a b",
             forward=lambda m, a, b: m.minimum(a, b),
             derivatives=(lambda m, out, a, b: m.where(a < b, 1.0, m.where(m.equal(a, b), 0.5, 0.0)),
                          lambda m, out, a, b: m.where(b < a, 1.0, m.where(m.equal(a, b), 0.5, 0.0))),
             text="min($a, $b)", latex=r"\min($a, $b)",
             derivative_text=("1 if $a < $b (1/2 if equal) else 0", "1 if $b < $a (1/2 if equal) else 0"),
             derivative_latex=(r"\mathbb{1}[$a < $b]", r"\mathbb{1}[$b < $a]"))

CLIP = Op("clip", params="low high",
          forward=lambda m, a, low, high: m.clip(a, low, high),
          derivatives=(lambda m, out, a, low, high: m.in_range(a, low, high),),
          text="clip($a, $low, $high)", latex=r"\operatorname{clip}($a, $low, $high)",
          derivative_text=("1 if $low <= $a <= $high else 0",),
          derivative_latex=(r"\mathbb{1}[$low \le $a \le $high]",))

TENSOR_ELEMENTWISE_OPS: tuple[Op, ...] = ELEMENTWISE_OPS + (WHERE, MAXIMUM, MINIMUM, CLIP)
