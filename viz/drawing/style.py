"""Colours, the legend, number formatting and text escaping shared by every ``viz`` view.

Everything a user can put in a label passes through :func:`dot_escape` (DOT),
:func:`latex_escape` (LaTeX) or :func:`markdown_escape` (Markdown) before it reaches an
output; SVG and HTML are produced by XML serialisers that escape on their own.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Union

import numpy as np

NumberFormat = Union[str, Callable[[float], str]]
"""A ``format()`` spec such as ``".4g"`` / ``".4f"``, or a function ``float -> str``."""

DEFAULT_NUMBER_FORMAT = ".4g"

# role -> (fill colour, border colour, legend text). Inputs and constants share the blue
# family (constants are dashed); parameters are green, intermediates grey, the output orange.
ROLES: dict[str, tuple[str, str, str]] = {
    "input": ("#dbeafe", "#1d4ed8", "input / leaf (requires grad)"),
    "constant": ("#eff6ff", "#93c5fd", "constant (number in the arithmetic)"),
    "parameter": ("#dcfce7", "#15803d", "parameter (of a module in scope)"),
    "intermediate": ("#f3f4f6", "#4b5563", "intermediate value"),
    "output": ("#ffedd5", "#c2410c", "output / loss (the root)"),
    "group": ("#fef9c3", "#a16207", "a neuron or layer as one box"),
}
OP_FILL, OP_BORDER = "#ffffff", "#6b7280"
# signs (network diagram edges): the input blue and the output orange of ROLES, a pair that
# stays distinct with every common colour-vision deficiency; exact zeros are light grey
POSITIVE_COLOR, NEGATIVE_COLOR, ZERO_COLOR = ROLES["input"][1], ROLES["output"][1], "#9ca3af"
FONT = "Helvetica,Arial,sans-serif"


def format_number(value: Any, number_format: NumberFormat = DEFAULT_NUMBER_FORMAT) -> str:
    """``value`` as text with ``number_format`` (a format spec or a callable).

    Arrays are summarised with :func:`summarize_array`; ``None`` prints as ``"None"``.
    """
    if value is None:
        return "None"
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return summarize_array(value, number_format)
    if callable(number_format):
        return str(number_format(value))
    try:
        number = float(value)
    except (TypeError, ValueError):
        data = getattr(value, "data", None)   # a grad that is itself a graph node
        if data is not None and data is not value:
            return format_number(data, number_format)
        return str(value)
    text = format(number, number_format)
    return "0" if text in ("-0", "-0.0") else text


def summarize_array(array: Any, number_format: NumberFormat = DEFAULT_NUMBER_FORMAT,
                    max_items: int = 4) -> str:
    """A short summary of an array: its values when there are at most ``max_items``,
    otherwise ``mean`` and ``std`` (and ``min``/``max``)."""
    arr = np.asarray(array, dtype=float)
    if arr.size <= max_items:
        return "[" + ", ".join(format_number(float(v), number_format) for v in arr.ravel()) + "]"
    return (f"μ {format_number(float(arr.mean()), number_format)} "
            f"σ {format_number(float(arr.std()), number_format)} "
            f"[{format_number(float(arr.min()), number_format)}, "
            f"{format_number(float(arr.max()), number_format)}]")


def validate_number_format(number_format: NumberFormat) -> NumberFormat:
    """Return ``number_format`` if it formats a float, else raise ``TypeError``/``ValueError``."""
    if callable(number_format):
        return number_format
    if not isinstance(number_format, str):
        raise TypeError(f"number_format must be a format spec string such as '.4g' or a "
                        f"callable float -> str; got {type(number_format).__name__}")
    try:
        format(1.5, number_format)
    except ValueError as exc:
        raise ValueError(f"number_format {number_format!r} is not a valid float format spec "
                         f"(expected e.g. '.4g' or '.3f'): {exc}") from None
    return number_format


# Code points XML 1.0 cannot carry (C0 controls but tab/newline/return, surrogates, U+FFFE,
# U+FFFF) and DEL: each is shown as U+FFFD so the label stays visibly wrong, not silently cut.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"


def clean_text(text: Any) -> str:
    """``str(text)`` as one line that every output can carry: whitespace runs become one
    space and code points XML cannot hold (controls, lone surrogates, U+FFFE, U+FFFF) become
    U+FFFD. Every label passes through here before it reaches DOT, SVG, HTML or LaTeX."""
    return " ".join(_XML_INVALID.sub(REPLACEMENT, str(text)).split())


def dot_escape(text: Any, record: bool = False) -> str:
    """Escape ``text`` for a double-quoted DOT label so it shows literally.

    Backslashes (``\\N``, ``\\l`` ... would be Graphviz escapes), quotes and ``&`` (Graphviz
    expands entities) are neutralised; with ``record=True`` also ``{ } | < >`` and spaces,
    which structure record labels.
    """
    s = clean_text(text).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
    if record:
        s = re.sub(r"([{}|<> ])", r"\\\1", s)
    return s


_LATEX_SPECIAL = {"\\": r"\backslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "^": r"\hat{}",
                  "#": r"\#", "$": r"\$", "%": r"\%", "&": r"\&", "~": r"\sim{}"}


def latex_escape(text: Any) -> str:
    """``text`` made safe inside LaTeX math mode (special characters escaped)."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in clean_text(text))


_OPERATOR_CHARS = re.compile(r"[\s+\-*/^@·×÷=<>,%|&]")


def in_formula(name: str) -> str:
    """A node name as it stands inside a formula: parenthesised when it holds an operator or a
    space (a label ``x1*w1 + x2*w2``, a constant ``-3``), so ``∂o/∂(x1*w1 + x2*w2)`` and
    ``x * (-3)`` read as meant. Plain names (``x1``, ``L2.n7.w3``, ``a(L2.n7)``) stay."""
    s = str(name)
    if s.startswith("(") and s.endswith(")") and s.count("(") == 1:
        return s
    if not s.startswith("-"):
        try:
            float(s)
            return s                     # a positive number (1e-05) is one token
        except ValueError:
            pass
    return f"({s})" if _OPERATOR_CHARS.search(s) else s


def latex_partial(num: str, den: str) -> str:
    r"""``\frac{\partial num}{\partial den}`` (both already LaTeX)."""
    return rf"\frac{{\partial {num}}}{{\partial {den}}}"


def latex_name(name: Any) -> str:
    """A node name for math mode: single letters stay italic, longer names are ``\\mathrm``.

    A trailing number becomes a subscript (``x1`` -> ``x_{1}``).
    """
    s = clean_text(name)
    m = re.fullmatch(r"([A-Za-z]+)(\d+)", s)
    if m:
        base, sub = m.groups()
        base_tex = base if len(base) == 1 else rf"\mathrm{{{base}}}"
        return f"{base_tex}_{{{sub}}}"
    if re.fullmatch(r"[A-Za-z]", s):
        return s
    if re.fullmatch(r"-?\d+(\.\d*)?(e[+-]?\d+)?", s):
        return s
    return rf"\mathrm{{{latex_escape(s)}}}"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def markdown_escape(text: Any) -> str:
    """``text`` for a Markdown table cell: HTML characters as entities, Markdown marks escaped."""
    s = clean_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s)


# CSS for the step-by-step views: the classes the stepper toggles on the one laid-out SVG.

# The stepper's own look. Colours come from the notebook's theme variables (JupyterLab and
# Notebook 7 set --jp-*; VS Code sets --vscode-*), with light fallbacks; the graph itself keeps
# a white card so its light node fills and dark text read the same on a dark theme.
