"""The text and LaTeX of a collapsed backward step: the neuron recursion, the layer's
Jacobian form and the generic module step, with the recorded numbers (see :mod:`viz.tracing.collapse`)."""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from .collapse_steps import (MAX_LISTED, MAX_MATRIX, MAX_SAMPLES, MAX_VECTOR, LayerDetail,
                             ModuleDetail, NeuronDetail, ParamGrad)
from ..drawing.style import NumberFormat, clean_text, format_number, latex_escape, latex_partial

# ---------------------------------------------------------------------------------------------
# text
# ---------------------------------------------------------------------------------------------
class Formatter:
    def __init__(self, fmt: NumberFormat) -> None:
        self.fmt = fmt

    def n(self, x: Any, paren: bool = False) -> str:
        text = format_number(float(x), self.fmt) if np.ndim(x) == 0 else self.vec(x)
        return f"({text})" if paren and text.startswith("-") else text

    def vec(self, v: Any) -> str:
        arr = np.asarray(v, dtype=float)
        if arr.ndim == 0:
            return self.n(arr)
        if arr.ndim == 1:
            return "[" + ", ".join(format_number(float(x), self.fmt) for x in arr) + "]"
        return "[" + ", ".join(self.vec(row) for row in arr) + "]"

    def block(self, label: str, m: Any, big_note: str = "") -> list[str]:
        """``label = numbers`` for a vector up to MAX_VECTOR or a matrix up to MAX_MATRIX
        square; else the shape only."""
        arr = np.asarray(m, dtype=float)
        shape = "×".join(str(d) for d in arr.shape)
        if arr.ndim <= 1 and arr.size <= MAX_VECTOR:
            return [f"{label} = {self.vec(arr)}"]
        if arr.ndim == 2 and max(arr.shape) <= MAX_MATRIX:
            rows = [self.vec(r) for r in arr]
            pad = " " * (len(label) + 3)
            if len(rows) == 1:
                return [f"{label} = [{rows[0]}]"]
            return [f"{label} = [{rows[0]}"] + [f"{pad} {r}" for r in rows[1:-1]] + \
                [f"{pad} {rows[-1]}]"]
        return [f"{label}: {shape}, too large to print (at most {MAX_MATRIX}×{MAX_MATRIX})"
                + (f"; {big_note}" if big_note else "")]


def _shape(x: Any) -> str:
    return "×".join(str(d) for d in np.shape(x)) or "1"


def param_lhs(L: str, g: ParamGrad) -> str:
    """What a parameter's gradient line computes: the total ``∂L/∂w`` when this is its only
    contribution in the pass, else ``contribution to w.grad`` (one use of several)."""
    return f"∂{L}/∂{g.name}" if g.paths == 1 else f"contribution to {g.name}.grad"


def _accumulation(f: Formatter, L: str, g: ParamGrad) -> list[str]:
    """For a parameter used more than once in the pass, its accumulator after this use (the
    pass starts at zero), equal to ``∂L/∂w`` once the last use is in."""
    if g.paths == 1:
        return []
    text = f"      {g.name}.grad = "
    if g.path > 1:
        text += f"{f.n(g.before)} + {f.n(g.product, True)} = "
    text += f.n(g.after)
    text += (f" = ∂{L}/∂{g.name}   (complete: the sum of its {g.paths} contributions)"
             if g.path == g.paths else f"   ({g.path} of its {g.paths} contributions so far)")
    return [text]


def factor(name: str) -> str:
    """A name (or a number standing for an unnamed input) as a factor: ``(-1)``, not ``-1``."""
    return f"({name})" if name.startswith("-") else name


def neuron_lines(f: Formatter, L: str, d: NeuronDetail) -> list[str]:
    """A neuron step as text: the δ recursion with its numbers, then its parameters'
    gradients."""
    n = d.name
    a, dl = f"a({n})", f"δ({n})"
    batch = d.batch is not None
    if d.activation == "linear":
        head = (f"neuron {n} (linear): a = z = b + Σ_i w_i·a_i, so {dl} = ∂{L}/∂z = ∂{L}/∂a"
                if not batch else
                f"unit {n} (linear, no activation after it): {dl} = ∂{L}/∂z(n) for each sample n")
    else:
        head = (f"neuron {n}: a = {d.activation}(z), z = b + Σ_i w_i·a_i; "
                f"{dl} = ∂{L}/∂z = {d.activation}'(z)·∂{L}/∂a") if not batch else (
                f"unit {n}: a = {d.activation}(z), z = Σ_i w_i·a_i + b per sample; "
                f"{dl} = {d.activation}'(z)·∂{L}/∂a")
    lines = [head]
    rows = range(min(d.batch, MAX_SAMPLES)) if batch else [None]

    def pick(x: Any, r: Any) -> Any:
        return x if r is None else np.asarray(x)[r]

    for r in rows:
        tag = "" if r is None else f"  sample {r}:"
        if r is not None:
            lines.append(tag)
        ind = "  " if r is None else "    "
        if d.terms:
            sym = " + ".join(f"{t.weight_name}·δ({t.consumer})" if t.weight_name else
                             f"∂{L}/∂{t.consumer}·∂{t.consumer}/∂{a}" for t in d.terms)
            nums = " + ".join(
                f"{f.n(t.factor if np.ndim(t.factor) == 0 else pick(t.factor, r), True)}"
                f"·{f.n(pick(t.delta, r), True)}" if t.weight_name else
                f"{f.n(pick(t.delta, r), True)}·"
                f"{f.n(t.factor if np.ndim(t.factor) == 0 else pick(t.factor, r), True)}"
                for t in d.terms)
            if d.activation == "linear" and not batch:
                lines.append(f"{ind}{dl} = ∂{L}/∂{a} = {sym}")
            else:
                lines.append(f"{ind}∂{L}/∂{a} = {sym}")
            lines.append(f"{ind}    = {nums} = {f.n(pick(d.dL_da, r))}")
        elif d.activation == "linear":
            lines.append(f"{ind}{dl} = ∂{L}/∂z = {f.n(pick(d.delta, r))}   (from the steps before)")
        else:
            lines.append(f"{ind}∂{L}/∂{a} = {f.n(pick(d.dL_da, r))}   (from the steps before)")
        if d.activation != "linear":
            fp = f"{d.activation}'(z) = {d.fprime_formula}" if d.fprime_formula != "1" else \
                f"{d.activation}'(z)"
            lines.append(f"{ind}{fp} at z = {f.n(pick(d.z, r))}: {f.n(pick(d.fprime, r))}")
            lines.append(f"{ind}{dl} = {d.activation}'(z)·∂{L}/∂{a} = {f.n(pick(d.fprime, r), True)}"
                         f"·{f.n(pick(d.dL_da, r), True)} = {f.n(pick(d.delta, r))}")
        elif batch and d.terms:
            lines.append(f"{ind}{dl} = {f.n(pick(d.delta, r))}")
    if batch and d.batch > MAX_SAMPLES:
        lines.append(f"  ... {d.batch - MAX_SAMPLES} more samples; {dl} over the batch: "
                     f"{f.n(d.delta)}")
    if d.weights or d.bias:
        lines.append("  the gradients of its weights and bias"
                     + (" (summed over the batch):" if batch else ":"))
    for g in d.weights:
        if batch:
            lines.append(f"    {param_lhs(L, g)} = Σ_n {dl}(n)·{factor(g.input_name)}(n) = "
                         + " + ".join(f"{f.n(dv, True)}·{f.n(av, True)}"
                                      for dv, av in list(zip(g.delta, g.input_value))[:MAX_SAMPLES])
                         + (" + ..." if d.batch > MAX_SAMPLES else "")
                         + f" = {f.n(g.product)}")
        else:
            lines.append(f"    {param_lhs(L, g)} = {dl}·{factor(g.input_name)} = {f.n(g.delta, True)}·"
                         f"{f.n(g.input_value, True)} = {f.n(g.product)}")
        lines.extend(_accumulation(f, L, g))
    if d.bias is not None:
        g = d.bias
        if batch:
            lines.append(f"    {param_lhs(L, g)} = Σ_n {dl}(n) = {f.n(g.product)}")
        else:
            lines.append(f"    {param_lhs(L, g)} = {dl} = {f.n(g.product)}")
        lines.extend(_accumulation(f, L, g))
    return lines


def layer_lines(f: Formatter, L: str, d: LayerDetail) -> list[str]:
    """A layer step as text in the notes' Jacobian form, shapes first."""
    lines: list[str] = []
    big = "see collapse='neuron' for every number"
    if d.kind == "dense":
        n_out = len(d.delta)
        n_in = None if d.A_prev is None else len(d.A_prev)
        units = f"{n_out} neuron{'s' if n_out != 1 else ''}"
        if d.activation == "linear":
            lines.append(f"layer {d.name} ({units}, linear: a = z, so G = I): δ({d.name}) = "
                         f"∂{L}/∂a({d.name}); ∂{L}/∂W = δ·aᵀ, ∂{L}/∂b = δ")
        else:
            lines.append(f"layer {d.name} ({units}, {d.activation}): δ({d.name}) = "
                         f"G({d.name})·∂{L}/∂a({d.name}), G = diag({d.activation}'(z)); "
                         f"∂{L}/∂W = δ·aᵀ, ∂{L}/∂b = δ")
        if d.W_next is not None:
            k = d.W_next.shape[0]
            lines.append(f"  ∂{L}/∂a({d.name}) = W({d.W_next_name})ᵀ·δ({d.W_next_name})   "
                         f"({n_out}×{k} · {k} = {n_out})")
            lines += ["    " + x for x in f.block(f"W({d.W_next_name})", d.W_next, big)]
            lines += ["    " + x for x in f.block(f"δ({d.W_next_name})", d.delta_next)]
        else:
            lines.append(f"  ∂{L}/∂a({d.name}): the gradient from the steps before   ({n_out})")
        lines += ["    " + x for x in f.block(f"∂{L}/∂a({d.name})", d.dL_da)]
        if d.activation != "linear":
            lines += ["  " + x for x in f.block(f"z({d.name})", d.z)]
            lines += ["  " + x for x in f.block(
                f"G({d.name}) = diag({d.activation}'(z)), {d.activation}'(z) = "
                f"{d.fprime_formula}: diag", d.fprime)]
            lines += ["  " + x for x in f.block(
                f"δ({d.name}) = G({d.name})·∂{L}/∂a({d.name})   ({n_out}×{n_out} · {n_out})",
                d.delta)]
        else:
            lines += ["  " + x for x in f.block(f"δ({d.name}) = ∂{L}/∂a({d.name})", d.delta)]
        reused = [g.name for n in d.neurons for g in (*n.weights, *((n.bias,) if n.bias else ()))
                  if g.paths > 1]
        # a layer called more than once (several samples) gets one contribution per call
        W_lhs, b_lhs = ((f"contribution to {d.W_name}.grad", f"contribution to {d.b_name}.grad")
                        if reused else (f"∂{L}/∂{d.W_name}", f"∂{L}/∂{d.b_name}"))
        if d.dW is not None:
            prev = (d.A_prev_name if d.A_prev_name.startswith(("a(", "("))
                    else f"a({d.A_prev_name})")
            lines += ["  " + x for x in f.block(prev, d.A_prev)]
            lines += ["  " + x for x in f.block(
                f"{W_lhs} = δ({d.name})·{d.A_prev_name}ᵀ   ({n_out}×1 · 1×{n_in} = "
                f"{n_out}×{n_in})", d.dW, big)]
        if d.db is not None:
            lines += ["  " + x for x in f.block(f"{b_lhs} = δ({d.name})", d.db)]
        if reused:
            lines.append(f"  ({len(reused)} of these parameters are used more than once in this "
                         f"pass: the numbers above are this use's contribution, and each .grad "
                         f"is the sum over its uses; collapse='neuron' shows each sum)")
        return lines
    if d.kind == "activation":
        B, n = d.delta.shape
        lines.append(f"layer {d.name}: A = {d.activation}(Z) elementwise; δ = ∂{L}/∂Z = "
                     f"{d.activation}'(Z) ⊙ ∂{L}/∂A (the notes' G(ℓ) = diag({d.activation}'(z)) "
                     f"per sample; a row per sample)")
        lines += ["  " + x for x in f.block(f"∂{L}/∂A   ({B}×{n})", d.dL_da, big)]
        lines += ["  " + x for x in f.block(f"Z   ({B}×{n})", d.z, big)]
        lines += ["  " + x for x in f.block(f"{d.activation}'(Z) = {d.fprime_formula}", d.fprime, big)]
        lines += ["  " + x for x in f.block(f"δ = {d.activation}'(Z) ⊙ ∂{L}/∂A   ({B}×{n})",
                                            d.delta, big)]
        return lines
    B, n_out = d.delta.shape
    n_in = d.W.shape[1]
    lines.append(f"layer {d.name}: Z = A·Wᵀ + b, a row per sample (per sample z = W·a + b, as in "
                 f"the notes); δ = ∂{L}/∂Z")
    lines += ["  " + x for x in f.block(f"δ   ({B}×{n_out}, from the steps before)", d.delta, big)]
    lines += ["  " + x for x in f.block(f"A = {d.A_prev_name}   ({B}×{n_in})", d.A_prev, big)]
    if d.dW is not None:
        lines += ["  " + x for x in f.block(
            f"∂{L}/∂{d.W_name} = δᵀ·A = Σ_n δ(n)·a(n)ᵀ   ({n_out}×{B} · {B}×{n_in} = "
            f"{n_out}×{n_in})", d.dW, big)]
    if d.db is not None:
        lines += ["  " + x for x in f.block(f"∂{L}/∂{d.b_name} = Σ_n δ(n)   ({n_out})", d.db, big)]
    if d.dA_prev is not None:
        lines += ["  " + x for x in f.block(
            f"∂{L}/∂A = δ·W   ({B}×{n_out} · {n_out}×{n_in} = {B}×{n_in}; per sample "
            f"Wᵀ·δ(n), the notes' W_ℓᵀ δ^ℓ)", d.dA_prev, big)]
        lines += ["    " + x for x in f.block(f"W = {d.W_name}", d.W, big)]
    return lines


def module_lines(f: Formatter, L: str, name: str, d: ModuleDetail) -> list[str]:
    lines = [f"module {name}: the gradient arriving at its output, its parameters' gradients, "
             f"the gradient it sends back"]
    for oname, g in d.outputs:
        shown = f.n(g) if np.size(g) <= MAX_VECTOR else format_number(g, f.fmt)
        lines.append(f"  in:  ∂{L}/∂{oname} = {shown}"
                     f"   ({_shape(g)})")
    for g in d.params[:MAX_LISTED]:
        value = g.product
        lines += ["  " + x for x in f.block(f"{param_lhs(L, g)}   ({_shape(value)})", value)]
        lines.extend(_accumulation(f, L, g))
    if len(d.params) > MAX_LISTED:
        lines.append(f"  ... and {len(d.params) - MAX_LISTED} more parameter gradients "
                     f"(collapse='neuron' or 'layer' shows them all)")
    for iname, g in d.inputs[:MAX_LISTED]:
        shown = f.n(g) if np.size(g) <= MAX_VECTOR else format_number(g, f.fmt)
        lines.append(f"  out: {iname}.grad += {shown}"
                     f"   ({_shape(g)})")
    if len(d.inputs) > MAX_LISTED:
        lines.append(f"  ... and {len(d.inputs) - MAX_LISTED} more contributions to its inputs")
    return lines




def tex_text(s: str) -> str:
    return latex_escape(clean_text(s))


def tex_name(name: str) -> str:
    """A name for math mode: ``a(L2.n7)`` -> ``a_{\\mathrm{L2.n7}}``."""
    m = re.fullmatch(r"([aδz])\((.*)\)", name)
    if m:
        sym = {"a": "a", "z": "z", "δ": r"\delta"}[m.group(1)]
        return rf"{sym}_{{\mathrm{{{latex_escape(m.group(2))}}}}}"
    return rf"\mathrm{{{latex_escape(clean_text(name))}}}"


def tex_number(f: Formatter, x: Any) -> str:
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 0:
        return f.n(arr)
    if arr.ndim == 1 and arr.size <= MAX_VECTOR:
        return r"\begin{bmatrix}" + r" & ".join(f.n(v) for v in arr) + r"\end{bmatrix}"
    if arr.ndim == 2 and max(arr.shape) <= MAX_MATRIX:
        return (r"\begin{bmatrix}" + r" \\ ".join(" & ".join(f.n(v) for v in row) for row in arr)
                + r"\end{bmatrix}")
    return r"\text{(" + "×".join(map(str, arr.shape)).replace("×", r"$\times$") + ")}"


def param_lhs_latex(L: str, g: ParamGrad) -> str:
    """:func:`param_lhs` in LaTeX."""
    return (latex_partial(L, tex_name(g.name)) if g.paths == 1 else
            rf"\text{{contribution to }}\texttt{{{latex_escape(g.name)}.grad}}")


def neuron_latex(f: Formatter, L: str, d: NeuronDetail) -> list[str]:
    n = latex_escape(d.name)
    dl, a = rf"\delta_{{\mathrm{{{n}}}}}", rf"a_{{\mathrm{{{n}}}}}"
    dL_da = latex_partial(L, a)
    lines = []
    first = 0 if d.batch is None else None
    pick = (lambda x: x) if first == 0 else (lambda x: np.asarray(x)[0] if np.ndim(x) else x)
    note = "" if d.batch is None else r"\quad\text{(sample 0)}"
    if d.terms:
        sym = " + ".join(
            (rf"{tex_name(t.weight_name)}\,\delta_{{\mathrm{{{latex_escape(t.consumer)}}}}}"
             if t.weight_name else latex_partial(L, tex_name(t.consumer))
             + latex_partial(tex_name(t.consumer), a)) for t in d.terms)
        nums = " + ".join(rf"{f.n(t.factor, True)} \cdot {f.n(pick(t.delta), True)}"
                          for t in d.terms)
        lines.append(rf"{dL_da} &= {sym} = {nums} = {f.n(pick(d.dL_da))}{note}")
    else:
        lines.append(rf"{dL_da} &= {f.n(pick(d.dL_da))}{note}")
    if d.activation != "linear":
        lines.append(rf"{dl} &= f'(z_{{\mathrm{{{n}}}}})\,{dL_da} = "
                     rf"{f.n(pick(d.fprime), True)} \cdot {f.n(pick(d.dL_da), True)} = "
                     rf"{f.n(pick(d.delta))}\quad(f = \mathrm{{{latex_escape(d.activation)}}}, "
                     rf"z = {f.n(pick(d.z))}){note}")
    else:
        lines.append(rf"{dl} &= {dL_da} = {f.n(pick(d.delta))}\quad(\text{{linear}}){note}")
    for g in d.weights:
        if d.batch is None:
            lines.append(rf"{param_lhs_latex(L, g)} &= {dl}\,"
                         rf"{tex_name(g.input_name)} = {f.n(g.delta, True)} \cdot "
                         rf"{f.n(g.input_value, True)} = {f.n(g.product)}")
        else:
            lines.append(rf"{param_lhs_latex(L, g)} &= \sum_n {dl}^{{(n)}}"
                         rf"\,a_i^{{(n)}} = {f.n(g.product)}")
    if d.bias is not None:
        lines.append(rf"{param_lhs_latex(L, d.bias)} &= "
                     + (rf"{dl} = " if d.batch is None else rf"\sum_n {dl}^{{(n)}} = ")
                     + f.n(d.bias.product))
    return lines


def layer_latex(f: Formatter, L: str, d: LayerDetail) -> list[str]:
    n = latex_escape(d.name)
    lines = []
    if d.kind == "dense":
        dL_da = latex_partial(L, rf"a^{{\mathrm{{{n}}}}}")
        if d.W_next is not None:
            nxt = latex_escape(d.W_next_name)
            lines.append(rf"{dL_da} &= W_{{\mathrm{{{nxt}}}}}^\top \delta^{{\mathrm{{{nxt}}}}} = "
                         rf"{tex_number(f, d.W_next.T)} {tex_number(f, d.delta_next)} = "
                         rf"{tex_number(f, d.dL_da)}")
        else:
            lines.append(rf"{dL_da} &= {tex_number(f, d.dL_da)}")
        lines.append(rf"\delta^{{\mathrm{{{n}}}}} &= G({n})\,{dL_da} = \operatorname{{diag}}"
                     rf"({tex_number(f, d.fprime)})\,{tex_number(f, d.dL_da)} = {tex_number(f, d.delta)}")
        reused = any(g.paths > 1 for u in d.neurons
                     for g in (*u.weights, *((u.bias,) if u.bias else ())))
        if d.dW is not None:
            dL_dW = (r"\text{contribution to }" if reused else "") + \
                latex_partial(L, rf"W_{{\mathrm{{{n}}}}}")
            lines.append(rf"{dL_dW} &= "
                         rf"\delta^{{\mathrm{{{n}}}}}\,a^{{\top}} = {tex_number(f, d.dW)}")
        if d.db is not None:
            dL_db = (r"\text{contribution to }" if reused else "") + \
                latex_partial(L, rf"b_{{\mathrm{{{n}}}}}")
            lines.append(rf"{dL_db} &= "
                         rf"\delta^{{\mathrm{{{n}}}}} = {tex_number(f, d.db)}")
    elif d.kind == "activation":
        lines.append(rf"\delta &= f'(Z) \odot {latex_partial(L, 'A')} = "
                     rf"{tex_number(f, d.fprime)} \odot {tex_number(f, d.dL_da)} = {tex_number(f, d.delta)}")
    else:
        if d.dW is not None:
            lines.append(rf"{latex_partial(L, tex_name(d.W_name))} &= \delta^\top A = "
                         rf"{tex_number(f, d.delta.T)} {tex_number(f, d.A_prev)} = {tex_number(f, d.dW)}")
        if d.db is not None:
            lines.append(rf"{latex_partial(L, tex_name(d.b_name))} &= \sum_n \delta^{{(n)}}"
                         rf" = {tex_number(f, d.db)}")
        if d.dA_prev is not None:
            lines.append(rf"{latex_partial(L, 'A')} &= \delta\,W = {tex_number(f, d.dA_prev)}")
    return lines

