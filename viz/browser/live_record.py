"""A record of a model in training: :class:`LiveRecord` reads the model after each step and
keeps a bounded list of frames (the weights and gradients of the drawn edges, each neuron's
activation ``a = f(z)`` on a chosen input and its ``δ = ∂L/∂b``, the mean ``|∂L/∂W|`` of every
layer, the decision boundary over 2-D data), which it draws as SVG pictures and plays as a
:class:`viz.Animation`. Plain Python and NumPy: no widget library, so it works where
anywidget is not installed (``chainrule demo`` writes its ``training.html`` with it).

The live widget (:mod:`viz.browser.live`) keeps one and sends what it records; alone::

    record = LiveRecord(model, inputs=X[0], data=(X, y), record_every=5)   # records step 0
    for step in range(100):
        ...; loss.backward(); optimizer.step()
        record.update(loss=loss)              # every 5th update is read and kept
    record.finish()                           # the final state, with its decision boundary
    record.animation().save_html("training.html")
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from autograd_core import no_grad

from ..drawing.network import _inputs_vector, _network_layers
from ..drawing.style import format_number
from .live_layout import check_data, layout
from .live_picture import frame_svg


def _loss_number(value: Any, name: str) -> float | None:
    if value is None or type(value) is float:
        return value
    value = getattr(value, "data", value)
    try:
        number = float(np.asarray(value, dtype=float).reshape(()))
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number (or a scalar Value/Tensor); got "
                        f"{type(value).__name__}") from None
    return number


def _positive_int(name: str, value: Any, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{name} must be an int of at least {least}; got {value!r}")


class LiveRecord:
    """The recorded states of ``model`` in training (a scalar ``nn.MLP``/``Layer``/``Neuron``
    or a ``Sequential`` of ``Linear`` layers and activations, as :func:`viz.draw_network`).

    It records the state before training when made, then :meth:`update` after each step
    (which updates are read and kept: ``record_every``), and :meth:`finish` at the end.
    ``frames`` are the recorded states; :meth:`frame_svg` draws one, :meth:`animation`
    plays them.

    Args:
        inputs: one sample: each neuron's activation ``a = f(z)`` on it is recorded.
        data: ``(X, y)``; with 2 features, each recorded frame carries the class the model
            predicts on a ``grid`` × ``grid`` lattice over the data, recomputed every
            ``boundary_every`` recorded frames and at the final one.
        max_units_per_layer: at most this many units of a column are drawn and recorded
            (the first ones and the last); ``None``: all.
        max_frames: at most this many frames are kept; past it every other frame is dropped
            and from then on half as many kept (uniform thinning; the last state is kept).
        animation_frames: frames of :meth:`animation` (uniformly chosen, the last included).
        record_every: an int ``k``: every ``k``-th update (and the last, at :meth:`finish`):
            the same frames on every run. ``None``: an update whenever reading the model
            costs under a fortieth of the time since the last read (a fast training slows
            by a few %; which steps are kept depends on the machine's speed); the live
            widget also records every state it sends.
    """

    def __init__(self, model: Any, *, inputs: Any = None, data: Any = None,
                 boundary_every: int = 10, grid: int = 48, max_units_per_layer: int | None = 10,
                 max_frames: int = 500, animation_frames: int = 12,
                 record_every: int | None = 1) -> None:
        layers = _network_layers(model)          # TypeError/ValueError for what it cannot draw
        for name, value, least in (("boundary_every", boundary_every, 1), ("grid", grid, 2),
                                   ("max_frames", max_frames, 2),
                                   ("animation_frames", animation_frames, 2)):
            _positive_int(name, value, least)
        if max_units_per_layer is not None and (isinstance(max_units_per_layer, bool) or not isinstance(
                max_units_per_layer, int) or max_units_per_layer < 2):
            raise ValueError(f"max_units_per_layer must be None or an int of at least 2; got "
                             f"{max_units_per_layer!r}")
        if record_every is not None and (isinstance(record_every, bool) or not isinstance(
                record_every, int) or record_every < 1):
            raise ValueError(f"record_every must be None or a positive int; got {record_every!r}")
        self.model = model
        n_in = layers[0].weight.shape[1]
        self.inputs = None if inputs is None else _inputs_vector(inputs, n_in)
        self.boundary_every, self.grid = boundary_every, grid
        self.max_frames, self.animation_frames = max_frames, animation_frames
        self.record_every = record_every
        self.data = check_data(data, n_in, layers)
        self.units_shown, self.geometry = layout(layers, max_units_per_layer,
                                                 self.inputs is not None, self.data, grid)
        self.train_loss: list[tuple[int, float]] = []       # (step, loss), every update
        self.val_loss: list[tuple[int, float]] = []
        self.updates = 0                                    # update() calls
        self.step, self.loss = 0, None                      # the last step and its loss
        self._frames: list[dict[str, Any]] = []             # recorded states (numpy inside)
        self._stride, self._skipped = 1, 0
        self._last_frame: dict[str, Any] | None = None
        self._read_end, self._read_cost = -math.inf, 0.0
        self._recorded, self._frame_boundary = 0, None
        self.snapshot()                                     # the state before training

    # ---- steps ------------------------------------------------------------------------------
    def add_step(self, loss: Any = None, val_loss: Any = None, step: int | None = None) -> None:
        """Count one training step (``step``: its number, by default the count of updates)
        and put ``loss`` and ``val_loss`` (numbers, or scalar Values/Tensors) on the curves;
        reads nothing from the model."""
        loss, val = _loss_number(loss, "loss"), _loss_number(val_loss, "val_loss")
        self.updates += 1
        self.step = self.updates if step is None else int(step)
        self.loss = loss
        if loss is not None:
            self.train_loss.append((self.step, loss))
        if val is not None:
            self.val_loss.append((self.step, val))

    def on_schedule(self) -> bool:
        """Whether the last update is one ``record_every`` keeps (always, with ``None``)."""
        return self.record_every is None or self.updates % self.record_every == 0

    def due(self) -> bool:
        """Whether to record the last update: every ``record_every``-th, or (``None``) when
        reading the model has taken under a fortieth of the time since the last read."""
        if self.record_every is not None:
            return self.updates % self.record_every == 0
        return time.perf_counter() - self._read_end >= 39 * self._read_cost

    def update(self, loss: Any = None, val_loss: Any = None, *, step: int | None = None) -> None:
        """One training step (call it after ``optimizer.step()``): :meth:`add_step`, then
        the model's state is read and kept if this update is :meth:`due`."""
        self.add_step(loss, val_loss, step)
        if self.due():
            self.snapshot()

    def finish(self, shown: dict[str, Any] | None = None) -> None:
        """The end of a run: record the final state, with the final decision boundary,
        unless the last frame is it already (``shown``: as :meth:`snapshot`)."""
        last = self.frames[-1]
        if last["step"] != self.step or (
                self.data is not None and (last.get("b") or {}).get("step") != self.step):
            self.snapshot(final=True, shown=shown)

    # ---- reading the model ------------------------------------------------------------------
    def read(self) -> dict[str, Any]:
        """The model's state now, as one frame: ``step``, ``loss``, the drawn edges' weights
        ``w`` and gradients ``g`` (None before a backward), ``a`` and ``δ`` (``d``) of the
        drawn units, ``gl`` the mean |∂L/∂W| per layer; numpy arrays (float32)."""
        layers = _network_layers(self.model)
        shown = self.units_shown
        w, g, has_grad, grad_means = [], [], False, []
        for c, layer in enumerate(layers, start=1):
            rows, cols = np.array(shown[c]), np.array(shown[c - 1])
            w.append(layer.weight[np.ix_(rows, cols)].ravel())
            grad = layer.weight_grad
            if grad is not None:
                has_grad = has_grad or bool(np.any(grad != 0))
                g.append(grad[np.ix_(rows, cols)].ravel())
                grad_means.append(float(np.mean(np.abs(grad))))
            else:
                g.append(np.zeros(rows.size * cols.size))
                grad_means.append(0.0)
        frame: dict[str, Any] = {"step": self.step, "w": np.concatenate(w).astype(np.float32),
                                 "g": np.concatenate(g).astype(np.float32) if has_grad else None,
                                 "gl": grad_means, "loss": self.loss}
        if self.inputs is not None:
            a, acts = self.inputs, [self.inputs[shown[0]]]
            with no_grad():
                for c, layer in enumerate(layers, start=1):
                    _, a = layer.forward(a)
                    acts.append(a[shown[c]])
            frame["a"] = np.concatenate(acts).astype(np.float32)
        if has_grad:
            frame["d"] = np.concatenate([np.full(len(shown[0]), np.nan)] + [
                (layer.bias_grad[shown[c]] if layer.bias_grad is not None
                 else np.full(len(shown[c]), np.nan)) for c, layer in enumerate(layers, start=1)
            ]).astype(np.float32)
        return frame

    def boundary_grid(self) -> dict[str, Any]:
        """The class the model predicts at each point of a ``grid`` × ``grid`` lattice over
        the data (one output: above 0.5 for a probability in [0, 1] with labels {0, 1},
        else above 0, as ``nn.fit``'s accuracy; several outputs: argmax), rows from the top:
        ``{"step": ..., "cells": "0110..."}``."""
        from ..plots import _scores

        d = self.data
        x0, x1, y0, y1 = d["extent"]
        gx, gy = np.meshgrid(np.linspace(x0, x1, self.grid), np.linspace(y1, y0, self.grid))
        points = np.c_[gx.ravel(), gy.ravel()]
        scores = _scores(self.model, points)     # one pass, for scalar models too
        if scores.shape[1] == 1:
            s = scores[:, 0]
            prob = set(d["labels"].tolist()) <= {0, 1} and s.min() >= 0 and s.max() <= 1
            classes = (s > (0.5 if prob else 0.0)).astype(int)
            if len(d["labels"]) == 1:
                classes[:] = 0
        else:
            classes = scores.argmax(axis=1)
        return {"step": self.step, "cells": "".join(str(int(c)) for c in classes)}

    # ---- recording --------------------------------------------------------------------------
    def snapshot(self, record: bool = True, final: bool = False,
                 shown: dict[str, Any] | None = None) -> dict[str, Any]:
        """Read the model's state and (``record``) keep it as a frame, with a decision
        boundary: ``shown`` if given (the live widget's last sent one), else one of its own,
        recomputed every ``boundary_every`` recorded frames and at the ``final`` one (so the
        frames are the same on every run, whatever the machine's speed)."""
        start = time.perf_counter()
        frame = self.read()
        if self.data is not None and record:
            if shown is not None:
                frame["b"] = shown
            else:
                if final or self._recorded % self.boundary_every == 0:
                    self._frame_boundary = self.boundary_grid()
                self._recorded += 1
                frame["b"] = self._frame_boundary
        if record:
            self.keep(frame)
        self._read_end = time.perf_counter()
        self._read_cost = self._read_end - start
        return frame

    def keep(self, frame: dict[str, Any]) -> None:
        """Keep ``frame`` (one of the same step replaces the last); past ``max_frames``,
        every other frame is dropped and from then on only every ``stride``-th is kept
        (uniform thinning; the last always shows)."""
        if self._frames and self._frames[-1]["step"] == frame["step"]:
            self._frames[-1] = frame
            return
        self._skipped += 1
        if self._skipped < self._stride and self._frames:
            self._last_frame = frame
            return
        self._skipped = 0
        self._frames.append(frame)
        self._last_frame = None
        if len(self._frames) > self.max_frames:
            self._frames = self._frames[::2]
            self._stride *= 2

    @property
    def frames(self) -> list[dict[str, Any]]:
        """The recorded states (at most ``max_frames``), the last state included."""
        last = self._last_frame
        return self._frames + ([last] if last is not None else [])

    # ---- pictures ---------------------------------------------------------------------------
    def frame_svg(self, k: int = -1, show: str = "weight") -> str:
        """Recorded frame ``k`` (the last by default) as a standalone SVG picture: the
        network (edges by weight, or ``show="grad"`` by gradient), the loss curve up to its
        step, the decision boundary, the layer gradients."""
        return frame_svg(self.geometry, self.frames[k], self.train_loss, self.val_loss, show)

    def animation(self, show: str = "weight", title: str = "training, recorded by viz.live") -> Any:
        """The recorded frames (at most ``animation_frames`` of them, uniformly chosen, the
        last included) as a :class:`viz.Animation`, captioned with
        their step and loss, which plays without a kernel; its still is the last frame."""
        from .animation import Animation, _quantize

        recorded = self.frames
        picks = sorted(set(np.linspace(0, len(recorded) - 1, min(len(recorded), self.animation_frames))
                           .round().astype(int).tolist()))
        anim = Animation([self.frame_svg(k, show) for k in picks],
                         [f"step {recorded[k]['step']}"
                          + (f": loss {format_number(recorded[k]['loss'], '.4g')}"
                             if recorded[k]["loss"] is not None else "") for k in picks],
                         title=title, interval_ms=300, colors=None)
        kind, still = anim.still_picture()        # the last frame: PNG, or SVG in Pyodide
        if kind == "image/png":
            anim._still = (kind, _quantize(still, 64))    # a third of the bytes
        return anim

    def static_html(self, show: str = "weight") -> str:
        """The static record: the recorded frames as a :class:`viz.Animation` whose still
        picture is the last, the final state (one frame: that picture as SVG)."""
        frames = self.frames
        head = (f"<p><b>viz.live, step {frames[-1]['step']}</b> (a static record of the live "
                f"view: run the notebook to see it live)</p>")
        shown = self.animation(show).fragment() if len(frames) >= 2 else self.frame_svg(show=show)
        return f'<div class="cr-live-static">{head}{shown}</div>'
