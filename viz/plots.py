"""Plots for teaching (matplotlib, an optional extra: ``pip install chainrule[plots]``).

- :func:`plot_history`: training curves from an ``nn.fit`` history.
- :func:`plot_decision_boundary`: a 2-D decision boundary for any model.
- :func:`plot_activations`: activation functions beside their derivatives, both computed by
  the engine's op records.
- :func:`plot_gradient_magnitudes` / :func:`layer_gradient_norms`: gradient magnitude per
  layer over training (vanishing and exploding gradients), and :func:`dead_relu_fraction`.

matplotlib is imported inside each function, so ``import viz`` never needs it.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from autograd_core import Tensor, Value, no_grad

ACTIVATIONS = ("step", "sigmoid", "tanh", "relu", "leaky_relu", "softplus")


def _plt() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is installed in tests
        raise ImportError("viz.plots needs matplotlib: pip install 'chainrule[plots]'") from exc
    return plt


def _series(history: Any) -> dict[str, list[float]]:
    """``{metric: [values per epoch]}`` from a dict of lists, a list of per-epoch dicts, or an
    object with a ``history`` attribute holding either."""
    if hasattr(history, "as_dict"):             # nn.History
        history = history.as_dict()
    history = getattr(history, "history", history)
    if isinstance(history, Mapping):
        out = {str(k): [float(x) for x in v] for k, v in history.items()
               if isinstance(v, Sequence) and not isinstance(v, str) and len(v) > 0
               and all(isinstance(x, (int, float, np.number)) for x in v)}
    elif isinstance(history, Sequence) and all(isinstance(r, Mapping) for r in history):
        keys = [k for k in history[0] if isinstance(history[0][k], (int, float, np.number))] \
            if history else []
        out = {str(k): [float(r[k]) for r in history if k in r] for k in keys}
    else:
        raise TypeError("history must be a dict of lists ({'loss': [...]}), a list of per-epoch "
                        f"dicts, or an object with .history; got {type(history).__name__}")
    out.pop("epoch", None)
    out.pop("lr", None)                          # a setting, not a metric
    if not out:
        raise ValueError("history holds no numeric series to plot")
    return out


def plot_history(history: Any, ax: Any = None, log_loss: bool = False,
                 xlabel: str = "epoch") -> Any:
    """Plot training curves: every series whose name contains ``loss`` on the left axis,
    the other metrics (accuracy, ...) on a right axis, against their index (1, 2, ...), which
    ``xlabel`` names (``fit``'s history has one entry per epoch; a loop that records every
    step passes ``xlabel="step"``). The legend sits under the axes, so it hides no curve.
    Returns the matplotlib Figure."""
    plt = _plt()
    series = _series(history)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    fig = ax.figure
    losses = {k: v for k, v in series.items() if "loss" in k.lower()}
    others = {k: v for k, v in series.items() if k not in losses}
    for k, v in (losses or others).items():
        ax.plot(range(1, len(v) + 1), v, label=k)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss" if losses else "value")
    if log_loss and losses:
        ax.set_yscale("log")
    handles, labels = ax.get_legend_handles_labels()
    if losses and others:
        ax2 = ax.twinx()
        for i, (k, v) in enumerate(others.items()):
            ax2.plot(range(1, len(v) + 1), v, linestyle="--", color=f"C{len(losses) + i}", label=k)
        ax2.set_ylabel(next(iter(others)) if len(others) == 1 else "metric")
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.2),
              ncol=max(1, len(labels)), frameon=False)
    ax.set_title("training history")
    return fig


def _scores(model: Any, points: np.ndarray) -> np.ndarray:
    """Model outputs for each row of ``points`` as an (n, k) array of floats."""
    with no_grad():
        try:                                   # batch models: Tensor in, Tensor/array out
            out = model(Tensor(points))
            arr = np.asarray(getattr(out, "data", out), dtype=float)
            if arr.shape[0] == len(points):
                return arr.reshape(len(points), -1)
        except Exception:                     # scalar models want a list of inputs
            pass
        try:                                   # ... which can be whole columns: one pass
            out = model([Tensor(points[:, j]) for j in range(points.shape[1])])
            outs = out if isinstance(out, (list, tuple)) else [out]
            arr = np.stack([np.broadcast_to(np.asarray(getattr(o, "data", o), dtype=float),
                                            (len(points),)) for o in outs], axis=1)
            return arr
        except Exception:                     # else one point at a time
            pass
        rows = []
        for p in points:
            out = model([Value(float(v), requires_grad=False) for v in p])
            outs = out if isinstance(out, (list, tuple)) else [out]
            rows.append([float(getattr(o, "data", o)) for o in outs])
        return np.asarray(rows, dtype=float)


def plot_decision_boundary(model: Callable[..., Any], X: Any, y: Any, ax: Any = None,
                           resolution: int = 100, padding: float = 0.5,
                           threshold: float = 0.0) -> Any:
    """Colour the plane by the class ``model`` predicts and scatter ``X`` coloured by ``y``.

    ``model`` is anything callable: a batch model (array or Tensor of shape (n, 2) in) or a
    scalar model (a list of two Values in, a Value or a list of Values out). One output:
    class = output > ``threshold``; several outputs: class = argmax. Returns the Figure.
    """
    plt = _plt()
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).ravel()
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2) for a 2-D decision boundary; got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"y has {len(y)} labels but X has {len(X)} points")
    (x0, y0), (x1, y1) = X.min(axis=0) - padding, X.max(axis=0) + padding
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    scores = _scores(model, np.c_[gx.ravel(), gy.ravel()])
    classes = (scores[:, 0] > threshold).astype(int) if scores.shape[1] == 1 \
        else scores.argmax(axis=1)
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 5))
    ax.contourf(gx, gy, classes.reshape(gx.shape), alpha=0.3, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=25)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title("decision boundary")
    return ax.figure


def activation_curve(name: str, xs: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """``(f(x), f'(x))`` of the activation ``name`` on ``xs``, computed by the engine: the
    op's forward and its local derivative from the op record."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
    ys, ds = [], []
    for x in xs:
        out = getattr(Value(float(x)), name)()
        ys.append(out.data)
        ds.append(out.local_derivatives()[0])
    return np.asarray(ys), np.asarray(ds)


def plot_activations(names: Sequence[str] = ACTIVATIONS, x_range: tuple[float, float] = (-4, 4),
                     points: int = 401) -> Any:
    """One row per activation: the function on the left, its derivative on the right, each
    titled with the op's formula. Returns the Figure."""
    plt = _plt()
    xs = np.linspace(x_range[0], x_range[1], points)
    fig, axes = plt.subplots(len(names), 2, figsize=(8, 2.2 * len(names)), squeeze=False)
    for row, name in enumerate(names):
        ys, ds = activation_curve(name, xs)
        op = getattr(Value(0.0), name)().op
        params = {"slope": 0.01} if name == "leaky_relu" else {}
        axes[row, 0].plot(xs, ys, color="C0")
        axes[row, 0].set_title(f"{name}: {op.formula(['x'], params=params)}", fontsize=9)
        axes[row, 1].plot(xs, ds, color="C3")
        axes[row, 1].set_title(f"derivative: {op.derivative_formula(0, ['x'], params=params)}",
                               fontsize=9)
        for ax in axes[row]:
            ax.axhline(0, color="0.8", lw=0.8)
            ax.axvline(0, color="0.8", lw=0.8)
    fig.tight_layout()
    return fig


def _grad_norm(params: Sequence[Any]) -> float:
    total = 0.0
    for p in params:
        g = np.asarray(getattr(p.grad, "data", p.grad) if p.grad is not None else 0.0, dtype=float)
        total += float(np.sum(g * g))
    return math.sqrt(total)


def layer_gradient_norms(model: Any) -> dict[str, float]:
    """``{layer name: ‖∂L/∂θ‖₂}`` over each layer's parameters, after backward.

    Layers are ``model.layers`` when the model has them (``nn.MLP``), the modules a container
    iterates over (``nn.Sequential``), else the model itself; layers without parameters
    (activations) are skipped.
    """
    layers = getattr(model, "layers", None)
    if layers is None:                           # a container such as nn.Sequential iterates
        layers = list(model) if hasattr(model, "__iter__") else [model]
    out = {}
    for i, layer in enumerate(layers):
        params = list(layer.parameters()) if hasattr(layer, "parameters") else []
        if params:
            out[f"{i}: {type(layer).__name__}"] = _grad_norm(params)
    return out


def dead_relu_fraction(pre_activations: Any) -> float:
    """Fraction of ReLU units whose pre-activation is ≤ 0 for every sample (gradient 0):
    ``pre_activations`` has shape (samples, units)."""
    if isinstance(pre_activations, np.ndarray) or hasattr(pre_activations, "shape"):
        a = np.asarray(getattr(pre_activations, "data", pre_activations)
                       if not isinstance(pre_activations, np.ndarray) else pre_activations, dtype=float)
    else:                                        # rows of Values or numbers
        a = np.asarray([[float(v.data) if isinstance(v, Value) else float(v) for v in row]
                        for row in pre_activations])
    return float(np.mean(np.all(a <= 0, axis=0))) if a.size else 0.0


def plot_gradient_magnitudes(history: Any, ax: Any = None, vanishing: float = 1e-6,
                             exploding: float = 1e3) -> Any:
    """Gradient norm per layer over training steps, on a log scale, with the vanishing
    (< ``vanishing``) and exploding (> ``exploding``) regions shaded.

    ``history`` is ``{layer: [norm per step]}`` or a list of :func:`layer_gradient_norms`
    results. Returns the Figure.
    """
    plt = _plt()
    if isinstance(history, Mapping):
        series = {str(k): [float(x) for x in v] for k, v in history.items()}
    else:
        series = {}
        for record in history:
            for k, v in record.items():
                series.setdefault(str(k), []).append(float(v))
    if not series:
        raise ValueError("no gradient norms to plot")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    for k, v in series.items():
        ax.plot(range(len(v)), np.maximum(v, 1e-30), label=k)
    ax.set_yscale("log")
    ax.axhspan(1e-30, vanishing, color="C0", alpha=0.08, label=f"vanishing (< {vanishing:g})")
    ax.axhspan(exploding, 1e30, color="C3", alpha=0.08, label=f"exploding (> {exploding:g})")
    values = [x for v in series.values() for x in v if x > 0]
    lo, hi = (min(values), max(values)) if values else (1e-8, 1.0)
    ax.set_ylim(min(lo, vanishing) / 10, max(hi, exploding) * 10)
    ax.set_xlabel("step")
    ax.set_ylabel("‖gradient‖ per layer")
    ax.set_title("gradient magnitude per layer")
    ax.legend(fontsize=8, loc="best")
    return ax.figure
