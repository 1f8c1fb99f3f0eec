"""Watch it learn: :func:`live` shows a model training, live, in one Jupyter widget (anywidget).

The view shows the network diagram (:func:`viz.draw_network`'s columns and colours: blue a
positive weight, orange a negative one, width and opacity by the magnitude relative to the
model's largest), whose edges recolour as the weights (or, with the toggle, their gradients
``∂L/∂w``) change; each neuron's activation ``a = f(z)`` for one chosen input and its
``δ = ∂L/∂z = ∂L/∂b`` from the last backward (the loss of its whole batch, as in
draw_network); the loss curve (training, and validation when given); for 2-D inputs the
decision boundary on a grid, refreshed every ``boundary_every`` sent updates, under the data;
and the mean ``|∂L/∂W|`` of every layer.

Python computes the diagram's geometry once and sends it once. Per update it sends only what
changed (the edge values, activations and δ, the new loss points), grouped with
``hold_sync`` and throttled by the clock to at most ``max_rate`` updates a second (20); the
last state is always sent at the end. Every sent state is also recorded (at most
``max_frames``, thinned uniformly), so that when training ends a slider scrubs back through
them, and a notebook without a widget manager (an untrusted notebook, nbconvert, GitHub, the
docs site) shows a static record: the final state as a picture and the recorded states as a
:class:`viz.Animation`, which plays without a kernel.

Two ways to drive it:

- a hand-written loop (scalar ``nn.MLP`` or anything :func:`viz.draw_network` draws)::

      view = viz.live(model, inputs=X[0], data=(X, y))
      view                                   # shows it
      for step in range(200):
          ...; loss.backward(); optimizer.step()
          view.update(loss=loss)             # reads the weights and gradients from the model

  While a cell runs, Jupyter does not process messages from the browser: the pause, step
  and speed controls cannot act on a loop that runs in the cell (they queue until the cell
  ends). Use :meth:`LiveView.run` for them. When the cell ends, the view sends its last state
  and records the run (the scrub slider and the static record); ``view.finish()`` does the
  same by hand.
- ``nn.fit`` on a ``Sequential``: ``view.fit(loss_fn, optimizer, (X, y), epochs=20)`` (the
  view is ``fit``'s ``on_step`` hook), or ``view.run(step_fn, steps)``, which trains in a
  background thread, so the cell returns at once and the controls work: pause and resume,
  step once, speed. ``view.wait()`` waits for the end.

Install: ``pip install "chainrule[live]"`` (anywidget, ipywidgets, JupyterLab).
"""
from __future__ import annotations

import base64
import math
import threading
import time
import zlib
from html import escape
from pathlib import Path
from typing import Any, Callable

import anywidget
import numpy as np
import traitlets as t

from autograd_core import no_grad

from ..drawing.network import (MAX_WIDTH_PT, MIN_ALPHA, MIN_WIDTH_PT, _inputs_vector, _Layer,
                               _network_layers, _shown_indices)
from ..drawing.style import format_number

STATIC = Path(__file__).parent / "static"
WIDTH_PX = 920
"""The view's width: a notebook column (940 px) less its padding."""
RADIUS, PITCH, HEADER = 19, 52, 38
"""A unit's radius, the vertical distance between two units, the column headers' height (px)."""
POSITIVE, NEGATIVE, ZERO = "#2563eb", "#ea580c", "#9ca3af"
"""Edge colours: blue positive, orange negative (draw_network's pair, a shade that reads on
light and dark backgrounds), grey zero."""
CLASS_COLORS = ("#ea580c", "#2563eb", "#16a34a", "#9333ea", "#ca8a04", "#db2777", "#0891b2",
                "#57534e")
"""Class colours of the decision boundary and the data (two classes: orange, blue)."""
MAX_POINTS = 400
"""At most this many data points are drawn over the decision boundary (uniformly thinned)."""


def _rounded(values: np.ndarray) -> list[float | None]:
    """4 significant digits per value, ``None`` for nan/inf (JSON has neither)."""
    return [float(f"{v:.4g}") if math.isfinite(v) else None for v in values.tolist()]


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


class LiveView(anywidget.AnyWidget):
    """The live view of a model in training (make one with :func:`viz.live`; see the module
    docstring of :mod:`viz.browser.live` for the two ways to drive it).

    Traits the browser sets: ``paused`` (pause/resume), ``speed`` (1 slowest … 10 no wait
    between steps), ``edges`` (what the edges show: ``"weight"`` or ``"grad"``). Traits Python sets: ``step``
    (the last step sent), ``status`` (``"ready"``, ``"running"``, ``"paused"``, ``"ended"``,
    ``"error: ..."``) and the private data traits the script draws.
    """

    _esm = STATIC / "live.js"
    _css = STATIC / "live.css"

    _geometry = t.Dict().tag(sync=True)       # sent once: units, edges, headers, data points
    _state = t.Dict().tag(sync=True)          # per update: edge values, a, δ, layer gradients
    _loss = t.Dict().tag(sync=True)           # per update: the new loss points only
    _boundary = t.Dict().tag(sync=True)       # every boundary_every updates: the class grid
    _frames = t.List().tag(sync=True)         # at the end: the recorded states, for the scrub
    _once = t.Int(0).tag(sync=True)           # the browser's "step once" presses
    step = t.Int(0).tag(sync=True)
    status = t.Unicode("ready").tag(sync=True)
    driver = t.Unicode("cell").tag(sync=True)  # "cell" (update() in a loop), "thread", "fit"
    paused = t.Bool(False).tag(sync=True)
    speed = t.Int(10, min=1, max=10).tag(sync=True)
    edges = t.Unicode("weight").tag(sync=True)

    def __init__(self, model: Any, *, inputs: Any = None, data: Any = None,
                 boundary_every: int = 10, grid: int = 48, max_units_per_layer: int | None = 10,
                 max_rate: float | None = 20.0, max_frames: int = 500,
                 animation_frames: int = 12, record_every: int | None = None,
                 show: str = "weight", clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._closed, self._ip = False, None
        self._paused = self._threaded = self._running = False
        layers = _network_layers(model)          # TypeError/ValueError for what it cannot draw
        if show not in ("weight", "grad"):
            raise ValueError(f"show must be 'weight' or 'grad'; got {show!r}")
        for name, value, least in (("boundary_every", boundary_every, 1), ("grid", grid, 2),
                                   ("max_frames", max_frames, 2), ("animation_frames", animation_frames, 2)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be an int of at least {least}; got {value!r}")
        if max_rate is not None and not (isinstance(max_rate, (int, float)) and max_rate > 0):
            raise ValueError(f"max_rate must be a positive number of updates a second or None "
                             f"(every update is sent); got {max_rate!r}")
        if max_units_per_layer is not None and (isinstance(max_units_per_layer, bool) or not isinstance(
                max_units_per_layer, int) or max_units_per_layer < 2):
            raise ValueError(f"max_units_per_layer must be None or an int of at least 2; got "
                             f"{max_units_per_layer!r}")
        super().__init__(edges=show)
        self.model = model
        self._max_units = max_units_per_layer
        n_in = layers[0].weight.shape[1]
        self._inputs = None if inputs is None else _inputs_vector(inputs, n_in)
        self._boundary_every, self._grid = boundary_every, grid
        self._interval = 0.0 if max_rate is None else 1.0 / max_rate
        self._max_frames, self._animation_frames = max_frames, animation_frames
        self._clock = clock
        if record_every is not None and (isinstance(record_every, bool) or not isinstance(
                record_every, int) or record_every < 1):
            raise ValueError(f"record_every must be None or a positive int; got {record_every!r}")
        self._record_every = record_every
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._stop = False
        self._once_pending = 0
        self._handles: list[Any] = []
        self._data = self._check_data(data, n_in, layers)
        self._units_shown, self._geometry_py = self._layout(layers)
        self._reset_records()
        self._geometry = self._geometry_py
        self.on_msg(self._on_msg)
        self._send_state(force=True, count=False)
        try:                                       # a hand-written loop ends with its cell
            from IPython import get_ipython
            self._ip = get_ipython()
            if self._ip is not None:
                self._ip.events.register("post_run_cell", self._cell_ended)
        except ImportError:                        # pragma: no cover - IPython comes with ipywidgets
            pass

    # ---- what it shows -------------------------------------------------------------------
    def _reset_records(self) -> None:
        self.train_loss: list[tuple[int, float]] = []       # (step, loss), every update
        self.val_loss: list[tuple[int, float]] = []
        self._sent = {"train": 0, "val": 0}                 # points already sent
        self._frames_py: list[dict[str, Any]] = []          # recorded states (numpy inside)
        self._stride, self._skipped = 1, 0
        self._last_send = -math.inf
        self._pending = False
        self._updates = 0
        self._since_finish = False
        self.syncs = 0                                      # states sent (for tests, benchmarks)
        self.step_count, self._last_loss = 0, None
        self._read_end, self._read_cost = -math.inf, 0.0
        self._recorded, self._frame_boundary = 0, None
        self._last_frame: dict[str, Any] | None = None

    @staticmethod
    def _check_data(data: Any, n_in: int, layers: list[_Layer]) -> dict[str, Any] | None:
        if data is None:
            return None
        if not (isinstance(data, (tuple, list)) and len(data) == 2):
            raise TypeError(f"data must be a pair (X, y) of arrays; got {type(data).__name__}")
        X = np.asarray(getattr(data[0], "data", data[0]), dtype=float)
        y = np.asarray(getattr(data[1], "data", data[1])).reshape(-1)
        if X.ndim != 2 or X.shape[1] != n_in:
            raise ValueError(f"data's X must have shape (n, {n_in}) (the model takes {n_in} "
                             f"inputs); got {X.shape}")
        if len(y) != len(X):
            raise ValueError(f"data's y has {len(y)} labels but X has {len(X)} rows")
        if n_in != 2:
            return None                             # the boundary needs a plane
        labels = np.unique(y)
        n_out = layers[-1].weight.shape[0]
        if len(labels) > len(CLASS_COLORS) or (n_out > 1 and len(labels) > n_out):
            return None
        pad = 0.5
        (x0, y0), (x1, y1) = X.min(axis=0) - pad, X.max(axis=0) + pad
        keep = np.unique(np.linspace(0, len(X) - 1, min(len(X), MAX_POINTS)).round().astype(int))
        return {"X": X, "y": y, "labels": labels, "extent": [float(x0), float(x1), float(y0), float(y1)],
                "keep": keep}

    def _layout(self, layers: list[_Layer]) -> tuple[list[list[int]], dict[str, Any]]:
        """The diagram's geometry (px), computed once: columns left to right, units top to
        bottom in index order, the first ``max_units_per_layer - 1`` and the last of a
        column drawn (as draw_network)."""
        sizes = [layers[0].weight.shape[1]] + [layer.weight.shape[0] for layer in layers]
        shown = [_shown_indices(n, self._max_units) for n in sizes]
        slots = [len(idx) + (1 if hidden else 0) for idx, hidden in shown]
        height = HEADER + max(slots) * PITCH + 16       # room for the last δ
        n_cols = len(sizes)
        gap = (WIDTH_PX - 2 * 60) / max(1, n_cols - 1)
        units, index, markers = [], {}, []
        names = [[f"x{i + 1}" for i in range(sizes[0])]] + [layer.units for layer in layers]
        for c, (idx, hidden) in enumerate(shown):
            x = 60 + c * gap if n_cols > 1 else WIDTH_PX / 2
            top = HEADER + (height - HEADER - slots[c] * PITCH) / 2
            slot = 0
            for j in idx:
                if hidden and j == idx[-1]:
                    markers.append({"x": x, "y": top + (slot + 0.5) * PITCH,
                                    "text": f"… {hidden} more"})
                    slot += 1
                index[(c, j)] = len(units)
                units.append({"x": round(x, 1), "y": round(top + (slot + 0.5) * PITCH - 5, 1),
                              "name": names[c][j], "col": c})
                slot += 1
        edges = [[index[(c - 1, i)], index[(c, j)]] for c in range(1, n_cols)
                 for j in shown[c][0] for i in shown[c - 1][0]]
        headers = [{"x": 60 + c * gap if n_cols > 1 else WIDTH_PX / 2,
                    "lines": ["inputs", f"{sizes[0]} values"] if c == 0
                    else layers[c - 1].title.split(": ", 1)} for c in range(n_cols)]
        geometry: dict[str, Any] = {
            "width": WIDTH_PX, "height": height, "radius": RADIUS, "units": units, "edges": edges,
            "headers": headers, "markers": markers, "layers": [layer.key for layer in layers],
            "colors": {"positive": POSITIVE, "negative": NEGATIVE, "zero": ZERO},
            "widths": [MIN_WIDTH_PT * 4 / 3, MAX_WIDTH_PT * 4 / 3], "min_alpha": MIN_ALPHA,
            "edges_total": int(sum(layer.weight.size for layer in layers)),
            "inputs": self._inputs is not None}
        if self._data is not None:
            d = self._data
            k = d["keep"]
            geometry["boundary"] = {
                "grid": self._grid, "extent": d["extent"],
                "colors": [CLASS_COLORS[i] for i in range(len(d["labels"]))],
                "labels": [str(v) for v in d["labels"].tolist()],
                "points": [[round(float(a), 4), round(float(b), 4), int(c)] for (a, b), c in
                           zip(d["X"][k], np.searchsorted(d["labels"], d["y"][k]))],
                "n_points": len(d["X"])}
        return [idx for idx, _ in shown], geometry

    def _read(self) -> dict[str, Any]:
        """The model's state now: edge values (weights, gradients), a and δ for the input,
        mean |∂L/∂W| per layer; numpy arrays (float32), recorded as one frame."""
        layers = _network_layers(self.model)
        shown = self._units_shown
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
        frame: dict[str, Any] = {"step": self.step_count, "w": np.concatenate(w).astype(np.float32),
                                 "g": np.concatenate(g).astype(np.float32) if has_grad else None,
                                 "gl": grad_means, "loss": self._last_loss}
        if self._inputs is not None:
            a, acts = self._inputs, [self._inputs[shown[0]]]
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

    def _boundary_grid(self) -> dict[str, Any]:
        """The class the model predicts at each point of a ``grid`` × ``grid`` lattice over
        the data (one output: above 0.5 for a probability in [0, 1] with labels {0, 1},
        else above 0, as ``nn.fit``'s accuracy; several outputs: argmax), rows from the top."""
        from ..plots import _scores

        d = self._data
        x0, x1, y0, y1 = d["extent"]
        gx, gy = np.meshgrid(np.linspace(x0, x1, self._grid), np.linspace(y1, y0, self._grid))
        scores = _scores(self.model, np.c_[gx.ravel(), gy.ravel()])
        if scores.shape[1] == 1:
            s = scores[:, 0]
            prob = set(d["labels"].tolist()) <= {0, 1} and s.min() >= 0 and s.max() <= 1
            classes = (s > (0.5 if prob else 0.0)).astype(int)
            if len(d["labels"]) == 1:
                classes[:] = 0
        else:
            classes = scores.argmax(axis=1)
        return {"step": self.step_count, "cells": "".join(str(int(c)) for c in classes)}

    # ---- driving it ----------------------------------------------------------------------
    def update(self, loss: Any = None, val_loss: Any = None, *, step: int | None = None) -> None:
        """Record one training step (call it after ``optimizer.step()``): ``loss`` (a number,
        or a scalar Value/Tensor) and ``val_loss`` go on the curves; the weights, gradients,
        a and δ are read from the model. Sent at most ``max_rate`` times a second (the
        latest state; the curve keeps every point). ``step``: the step number (default: the
        count of updates). After :meth:`close`, nothing happens."""
        if self._closed:
            return
        with self._lock:
            self._updates += 1
            self.step_count = self._updates if step is None else int(step)
            self._last_loss = _loss_number(loss, "loss")
            if self._last_loss is not None:
                self.train_loss.append((self.step_count, self._last_loss))
            val = _loss_number(val_loss, "val_loss")
            if val is not None:
                self.val_loss.append((self.step_count, val))
            self._pending = self._since_finish = True
            if not self._running:                 # traits are slow to read: a plain flag
                self._running = True
                self.status = "paused" if self._paused and self._threaded else "running"
            now = self._clock()
            if now - self._last_send >= self._interval or (self._paused and self._threaded):
                self._send_state()
            elif self._record_due():
                self._snapshot()

    def __call__(self, info: dict[str, Any]) -> None:
        """``nn.fit``'s ``on_step`` hook: ``nn.fit(..., on_step=view)``. The view counts the
        steps itself (fit's count starts again at each call), so runs add up on one curve."""
        if info.get("event") == "step":
            self.update(loss=info.get("loss"))
        elif info.get("event") == "epoch" and info.get("val_loss") is not None and not self._closed:
            with self._lock:
                self.val_loss.append((self.step_count, float(info["val_loss"])))
                self._pending = True

    def fit(self, loss_fn: Callable[..., Any], optimizer: Any, train_data: Any,
            val_data: Any = None, epochs: int = 10, **options: Any) -> Any:
        """``nn.fit(self.model, ..., on_step=self)`` (the same arguments), then
        :meth:`finish`; returns fit's History. Runs in the cell: see :meth:`run` for the
        controls."""
        import nn

        self.driver = "fit"
        try:
            return nn.fit(self.model, loss_fn, optimizer, train_data, val_data, epochs,
                          on_step=self, **options)
        finally:
            self.finish()

    def run(self, step_fn: Callable[[int], Any], steps: int) -> None:
        """Train in a background thread: ``step_fn(k)`` for ``k = 0 .. steps - 1`` makes one
        training step (forward, backward, optimizer step) and returns its loss, or a pair
        ``(loss, val_loss)``, or a dict with ``loss`` and ``val_loss``. The cell returns at
        once, so the browser's controls act: pause/resume (the thread waits between steps),
        step once (one step while paused), speed (a wait between steps). :meth:`wait` joins
        the thread (and raises what ``step_fn`` raised); :meth:`stop` ends it after the
        current step. At the end the view calls :meth:`finish`. Do not train the same model
        in another cell meanwhile."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive int; got {steps!r}")
        if not callable(step_fn):
            raise TypeError(f"step_fn must be a function step_fn(k) -> loss; got {type(step_fn).__name__}")
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("this view is already training (view.wait() or view.stop() first)")
        self.driver, self._stop, self._error = "thread", False, None
        self.status = "paused" if self.paused else "running"
        self._thread = threading.Thread(target=self._run, args=(step_fn, steps), daemon=True,
                                        name="chainrule-live")
        self._thread.start()

    def _run(self, step_fn: Callable[[int], Any], steps: int) -> None:
        try:
            for k in range(steps):
                if not self._gate():
                    break
                out = step_fn(k)
                if isinstance(out, dict):
                    loss, val = out.get("loss"), out.get("val_loss")
                elif isinstance(out, tuple) and len(out) == 2:
                    loss, val = out
                else:
                    loss, val = out, None
                self.update(loss=loss, val_loss=val)
        except BaseException as error:            # shown in the view, raised by wait()
            self._error = error
        finally:
            self.finish()
            if self._error is not None and not self._closed:
                self.status = f"error: {type(self._error).__name__}: {self._error}"

    def _gate(self) -> bool:
        """Before a step of :meth:`run`: wait while paused (a "step once" lets one step
        through), then the speed's wait. False when stopped."""
        with self._cond:
            if self.paused and self._pending:
                self._send_state()
            while self.paused and self._once_pending == 0 and not self._stop and not self._closed:
                if self.status != "paused":
                    self.status = "paused"
                self._cond.wait(0.2)
            if self._stop or self._closed:
                return False
            if self.paused:
                self._once_pending -= 1
            elif self.status != "running":
                self.status = "running"
        delay = 0.0 if self.speed >= 10 else 0.5 * 2.0 ** -(self.speed - 1)
        if delay and not self.paused:
            time.sleep(delay)
        return True

    @t.observe("paused", "_once", "speed", "driver", "status")
    def _control(self, change: dict[str, Any]) -> None:
        self._paused, self._threaded = self.paused, self.driver == "thread"
        self._running = self.status in ("running", "paused")
        with self._cond:
            if change["name"] == "_once" and change["new"] > change["old"]:
                self._once_pending += change["new"] - change["old"]
            self._cond.notify_all()

    def pause(self) -> None:
        """What the pause button does (a running :meth:`run` waits before its next step)."""
        self.paused = True

    def resume(self) -> None:
        """What the resume button does."""
        self.paused = False

    def step_once(self) -> None:
        """What the "step once" button does: one step of a paused :meth:`run`."""
        self._once += 1

    def stop(self) -> None:
        """End a :meth:`run` after its current step."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for :meth:`run`'s thread to end; raise what ``step_fn`` raised."""
        if self._thread is not None:
            self._thread.join(timeout)
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    # ---- sending ---------------------------------------------------------------------------
    def _record_due(self) -> bool:
        """Whether to record this update as a frame without sending it: every
        ``record_every``-th update, or (``None``) when reading the model has taken under a
        fortieth of the time since the last read (the frames cost a fast training ~3%)."""
        if self._record_every is not None:
            return self._updates % self._record_every == 0
        return time.perf_counter() - self._read_end >= 39 * self._read_cost

    def _snapshot(self, record: bool = True, final: bool = False) -> dict[str, Any]:
        """Read the model's state and (``record``) record it as a frame, with the decision
        boundary: the one last sent, or with ``record_every`` one of its own, recomputed
        every ``boundary_every`` recorded frames and at the ``final`` one (so the recorded
        frames are the same on every run, whatever the machine's speed)."""
        start = time.perf_counter()
        frame = self._read()
        if self._data is not None:
            if self._record_every is None:
                frame["b"] = self._boundary
            elif record:
                if final or self._recorded % self._boundary_every == 0:
                    self._frame_boundary = self._boundary_grid()
                self._recorded += 1
                frame["b"] = self._frame_boundary
        if record:
            self._record(frame)
        self._read_end = time.perf_counter()
        self._read_cost = self._read_end - start
        return frame

    def _send_state(self, force: bool = False, count: bool = True) -> None:
        """Send what changed since the last send (one message: ``hold_sync``), and record it
        as a frame."""
        if self._closed:
            return
        with self._lock:
            record = self._record_every is None or self._updates % self._record_every == 0
            frame = self._snapshot(record)
            with self.hold_sync():
                self._state = _frame_json(frame)
                self.step = self.step_count
                self._send_loss()
                if self._data is not None and (force or not self._boundary
                                               or self.syncs % self._boundary_every == 0):
                    self._boundary = self._boundary_grid()
            if self._data is not None and self._record_every is None:
                frame["b"] = self._boundary
            self._last_send = self._clock()
            self._pending = False
            if count:
                self.syncs += 1

    def _send_loss(self, full: bool = False) -> None:
        chunk = {}
        for key, points in (("train", self.train_loss), ("val", self.val_loss)):
            start = 0 if full else self._sent[key]
            chunk[key] = {"start": start, "points": [[s, float(f"{v:.6g}") if math.isfinite(v) else None]
                                                     for s, v in points[start:]]}
            self._sent[key] = len(points)
        if full or not self._loss or any(c["points"] for c in chunk.values()):
            self._loss = chunk

    def _record(self, frame: dict[str, Any]) -> None:
        """Keep ``frame``; past ``max_frames``, every other frame is dropped and from then on
        only every ``stride``-th is kept (uniform thinning; the last always shows)."""
        if self._frames_py and self._frames_py[-1]["step"] == frame["step"]:
            self._frames_py[-1] = frame
            return
        self._skipped += 1
        if self._skipped < self._stride and self._frames_py:
            self._last_frame = frame
            return
        self._skipped = 0
        self._frames_py.append(frame)
        self._last_frame = None
        if len(self._frames_py) > self._max_frames:
            self._frames_py = self._frames_py[::2]
            self._stride *= 2

    @property
    def frames(self) -> list[dict[str, Any]]:
        """The recorded states (at most ``max_frames``), the last state included."""
        last = getattr(self, "_last_frame", None)
        return self._frames_py + ([last] if last is not None else [])

    def flush(self) -> None:
        """Send the latest state now if an update was held back by the throttle."""
        if self._pending and not self._closed:
            self._send_state()

    def finish(self) -> None:
        """The end of a run: send the last state, the whole loss history and the recorded
        frames (the scrub slider), mark it ended, and refresh the static record of every
        output showing this view (:meth:`_ipython_display_` keeps their display ids)."""
        if self._closed:
            return
        with self._lock:
            stale = self._data is not None and self._boundary.get("step") != self.step_count
            if self._pending or stale:                 # the final boundary too
                self._send_state(force=stale)
            last = self.frames[-1]                     # the final state is recorded, with
            if last["step"] != self.step_count or (    # the final boundary
                    self._data is not None and (last.get("b") or {}).get("step") != self.step_count):
                self._snapshot(final=True)
            with self.hold_sync():
                self._send_loss(full=True)
                frames, shown = [], None
                for f in self.frames:           # a boundary only where it changed
                    frames.append(_frame_json(f, short=True, boundary=f.get("b") is not shown))
                    shown = f.get("b")
                self._frames = frames
                self.status = "ended"
                self.paused = False
            self._since_finish = False
        for handle in self._handles:
            handle.update(self._bundle(), raw=True)

    def _on_msg(self, widget: Any, content: Any, buffers: Any) -> None:
        """A view that missed loss points (shown mid-run) asks for the whole curves."""
        if isinstance(content, dict) and content.get("type") == "resync" and not self._closed:
            with self._lock:
                self._send_loss(full=True)

    def _cell_ended(self, *args: Any) -> None:
        if self._since_finish and not (self._thread is not None and self._thread.is_alive()):
            self.finish()

    def close(self) -> None:
        """Close the widget: later updates do nothing (no error, nothing sent); a running
        :meth:`run` stops after its current step."""
        if not hasattr(self, "_cond"):              # __init__ refused its arguments
            return super().close()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._ip is not None:
            try:
                self._ip.events.unregister("post_run_cell", self._cell_ended)
            except ValueError:
                pass
        super().close()

    # ---- where no widget can run --------------------------------------------------------
    def _ipython_display_(self) -> None:
        """Display with a display id, kept so that :meth:`finish` replaces the static record
        (made now, before training) with the final one."""
        from IPython.display import display

        handle = display(self._bundle(), raw=True, display_id=True)
        if handle is not None:
            self._handles.append(handle)

    def show(self) -> None:
        """Display the view (as a cell ending in ``view`` does; returns None, so that a cell
        ending in ``view.show()`` shows it once)."""
        self._ipython_display_()

    def _bundle(self) -> dict[str, Any]:
        data, _ = super()._repr_mimebundle_()
        data["text/html"] = self.static_html()
        return data

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        data["text/html"] = self.static_html()
        return data, metadata

    def frame_svg(self, k: int = -1) -> str:
        """Recorded frame ``k`` (the last by default) as a standalone SVG picture: the
        network, the loss curve up to its step, the decision boundary, the layer gradients."""
        return _frame_svg(self._geometry_py, self.frames[k], self.train_loss, self.val_loss,
                          self.edges)

    def animation(self) -> Any:
        """The recorded frames (at most ``animation_frames`` of them, uniformly chosen, the
        last included) as a :class:`viz.Animation`, which plays without a kernel."""
        from .animation import Animation, _quantize

        frames = self.frames
        picks = sorted(set(np.linspace(0, len(frames) - 1, min(len(frames), self._animation_frames))
                           .round().astype(int).tolist()))
        anim = Animation([self.frame_svg(k) for k in picks],
                         [f"step {frames[k]['step']}" + (f": loss {format_number(frames[k]['loss'], '.4g')}"
                                                         if frames[k]["loss"] is not None else "")
                          for k in picks], title="training, recorded by viz.live",
                         interval_ms=300, colors=None)
        anim._still = _quantize(anim._as_png(anim.count - 1), 64)   # a third of the bytes
        return anim

    def static_html(self) -> str:
        """The static record shown where no widget runs: the recorded frames as a
        :class:`viz.Animation` whose still picture is the last, the final state (one frame:
        that picture as SVG)."""
        frames = self.frames
        head = (f"<p><b>viz.live, step {frames[-1]['step']}</b> (a static record of the live "
                f"view: run the notebook to see it live)</p>")
        # the animation's still is its last frame, the final state
        shown = self.animation().fragment() if len(frames) >= 2 else self.frame_svg()
        return f'<div class="cr-live-static">{head}{shown}</div>'


def _frame_json(frame: dict[str, Any], short: bool = False, boundary: bool = False) -> dict[str, Any]:
    """A frame as JSON data (4 significant digits; ``short``: 3, for the recorded frames,
    with its decision boundary if ``boundary``)."""
    loss = frame["loss"]
    out: dict[str, Any] = {"step": frame["step"],
                           "loss": loss if loss is not None and math.isfinite(loss) else None,
                           "gl": [float(f"{v:.3g}") for v in frame["gl"]]}
    for key in ("w", "g", "a", "d"):
        value = frame.get(key)
        if value is not None:
            out[key] = (_rounded(value) if not short else
                        [float(f"{v:.3g}") if math.isfinite(v) else None for v in value.tolist()])
        else:
            out[key] = None
    if boundary and frame.get("b"):
        out["b"] = frame["b"]
    return out


# ---- the static picture (Python's drawing of what live.js draws) -----------------------------
def _edge_style(values: np.ndarray, geometry: dict[str, Any]) -> list[tuple[str, float]]:
    finite = np.abs(values[np.isfinite(values)])
    vmax = float(finite.max()) if finite.size else 0.0
    lo, hi = geometry["widths"]
    out = []
    for v in values.tolist():
        if not math.isfinite(v):
            out.append((ZERO, lo))
            continue
        ratio = abs(v) / vmax if vmax > 0 else 0.0
        alpha = round((geometry["min_alpha"] + (1 - geometry["min_alpha"]) * ratio) * 255)
        color = ZERO + "80" if v == 0 else (POSITIVE if v > 0 else NEGATIVE) + f"{alpha:02x}"
        out.append((color, lo + (hi - lo) * ratio))
    return out


def _png_rgb(pixels: np.ndarray) -> bytes:
    """An RGB uint8 array (h, w, 3) as PNG bytes (zlib only)."""
    h, w, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[r].tobytes() for r in range(h))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (len(body).to_bytes(4, "big") + kind + body
                + zlib.crc32(kind + body).to_bytes(4, "big"))
    header = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def _mix(color: str, alpha: float) -> list[int]:
    rgb = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    return [round(255 + (c - 255) * alpha) for c in rgb]


def _boundary_png(g: dict[str, Any], cells: str, size: int) -> bytes:
    """The class grid at ``size`` × ``size`` pixels (each cell a block, pale class colours),
    with the data points as 5 × 5 squares in their class colour, outlined: one small PNG."""
    n = g["grid"]
    classes = (np.frombuffer(cells.encode("ascii"), dtype=np.uint8) - ord("0")).reshape(n, n)
    pale = np.array([_mix(c, 0.35) for c in g["colors"]], dtype=np.uint8)
    full = np.array([_mix(c, 1.0) for c in g["colors"]], dtype=np.uint8)
    rows = np.minimum(np.arange(size) * n // size, n - 1)
    image = pale[classes[np.ix_(rows, rows)]]
    ex0, ex1, ey0, ey1 = g["extent"]
    for px, py, c in g["points"]:
        x = int(round((size - 1) * (px - ex0) / (ex1 - ex0)))
        y = int(round((size - 1) * (ey1 - py) / (ey1 - ey0)))
        image[max(0, y - 3):y + 4, max(0, x - 3):x + 4] = (17, 24, 39)
        image[max(0, y - 2):y + 3, max(0, x - 2):x + 3] = full[c]
    return _png_rgb(image)


def _frame_svg(geometry: dict[str, Any], frame: dict[str, Any], train: list[tuple[int, float]],
               val: list[tuple[int, float]], show: str) -> str:
    """One state as an SVG picture, laid out as the widget: the network above, the loss,
    the boundary and the layer gradients below."""
    W, H = geometry["width"], geometry["height"]
    fmt = lambda v: format_number(float(v), ".3g")  # noqa: E731
    panel_top, panel_h = H + 10, 190
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{panel_top + panel_h}" '
             f'viewBox="0 0 {W} {panel_top + panel_h}" font-family="Helvetica,Arial,sans-serif" '
             f'font-size="11"><rect width="100%" height="100%" fill="#ffffff"/>']
    values = frame["g"] if show == "grad" and frame.get("g") is not None else frame["w"]
    what = "∂L/∂w" if values is frame.get("g") else "w"
    units = geometry["units"]
    for (s, d), (color, width) in zip(geometry["edges"], _edge_style(np.asarray(values, float), geometry)):
        a, b = units[s], units[d]
        parts.append(f'<line x1="{a["x"]}" y1="{a["y"]}" x2="{b["x"]}" y2="{b["y"]}" '
                     f'stroke="{color}" stroke-width="{width:.2f}"/>')
    r = geometry["radius"]
    acts, deltas = frame.get("a"), frame.get("d")
    for k, u in enumerate(units):
        inside = fmt(acts[k]) if acts is not None else u["name"]
        parts.append(f'<circle cx="{u["x"]}" cy="{u["y"]}" r="{r}" fill="#f9fafb" stroke="#4b5563"/>'
                     f'<text x="{u["x"]}" y="{u["y"] + 4}" text-anchor="middle" font-size="10">'
                     f'{escape(inside)}</text>')
        if deltas is not None and math.isfinite(float(deltas[k])):
            parts.append(f'<text x="{u["x"]}" y="{u["y"] + r + 11}" text-anchor="middle" '
                         f'font-size="9" fill="#374151">δ {escape(fmt(deltas[k]))}</text>')
    for h in geometry["headers"]:
        parts.append(f'<text x="{h["x"]}" y="13" text-anchor="middle" font-weight="bold">'
                     f'{escape(h["lines"][0])}</text><text x="{h["x"]}" y="27" '
                     f'text-anchor="middle" fill="#4b5563">{escape(h["lines"][1])}</text>')
    for m in geometry["markers"]:
        parts.append(f'<text x="{m["x"]}" y="{m["y"]}" text-anchor="middle" fill="#4b5563">'
                     f'{escape(m["text"])}</text>')
    legend = f"edges: {what}, blue &gt; 0, orange &lt; 0, width by |{what}|"
    if acts is not None:
        legend += ", circles: a = f(z) on the chosen input"
    if deltas is not None:
        legend += ", δ = ∂L/∂b of the last backward (its batch)"
    parts.append(f'<text x="4" y="{H + 2}" fill="#374151">{legend}</text>')
    # the loss curve up to this step
    x0, y0, w, h = 40, panel_top + 20, 400, panel_h - 45
    parts.append(f'<text x="{x0}" y="{panel_top + 10}" font-weight="bold">loss (step {frame["step"]})</text>'
                 f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#9ca3af"/>')
    series = [(p, c, dash) for p, c, dash in ((train, "#111827", ""), (val, "#9333ea", "4 3")) if p]
    last = max([p[-1][0] for p, _, _ in series] + [1])
    finite = [v for p, _, _ in series for _, v in p if math.isfinite(v)]
    if finite:
        lo, hi = min(0.0, min(finite)), max(finite)
        hi = hi if hi > lo else lo + 1
        for points, color, dash in series:
            xy = " ".join(f"{x0 + w * s / last:.1f},{y0 + h * (1 - (v - lo) / (hi - lo)):.1f}"
                          for s, v in points if s <= frame["step"] and math.isfinite(v))
            parts.append(f'<polyline points="{xy}" fill="none" stroke="{color}" stroke-width="1.5"'
                         + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
        parts.append(f'<text x="{x0 - 4}" y="{y0 + 9}" text-anchor="end" font-size="9">{fmt(hi)}</text>'
                     f'<text x="{x0 - 4}" y="{y0 + h}" text-anchor="end" font-size="9">{fmt(lo)}</text>'
                     f'<text x="{x0 + w}" y="{y0 + h + 12}" text-anchor="end" font-size="9">'
                     f'step {last}</text>')
    # the decision boundary
    b = frame.get("b")
    if b and "boundary" in geometry:
        g = geometry["boundary"]
        bx, by, size = 470, panel_top + 20, panel_h - 45
        png = _boundary_png(g, b["cells"], size)
        parts.append(f'<text x="{bx}" y="{panel_top + 10}" font-weight="bold">decision boundary '
                     f'(step {b["step"]})</text><image x="{bx}" y="{by}" width="{size}" height="{size}" '
                     f'href="data:image/png;base64,{base64.b64encode(png).decode()}"/>')
    # the layer gradients
    gx0 = 690
    parts.append(f'<text x="{gx0}" y="{panel_top + 10}" font-weight="bold">mean |∂L/∂W| per layer</text>')
    top = max(frame["gl"] + [0.0])
    for k, (name, v) in enumerate(zip(geometry["layers"], frame["gl"])):
        y = panel_top + 24 + 18 * k
        bar = 120 * v / top if top > 0 else 0
        parts.append(f'<text x="{gx0}" y="{y + 9}" font-size="10">{escape(name)}</text>'
                     f'<rect x="{gx0 + 30}" y="{y}" width="{bar:.1f}" height="11" fill="#6b7280"/>'
                     f'<text x="{gx0 + 34 + bar:.1f}" y="{y + 9}" font-size="10">'
                     f'{escape(fmt(v)) if frame.get("g") is not None else "no backward yet"}</text>')
    parts.append("</svg>")
    return "".join(parts)


def live(model: Any, *, inputs: Any = None, data: Any = None, boundary_every: int = 10,
         grid: int = 48, max_units_per_layer: int | None = 10, max_rate: float | None = 20.0,
         max_frames: int = 500, animation_frames: int = 12, record_every: int | None = None,
         show: str = "weight") -> LiveView:
    """A :class:`LiveView` of ``model`` (a scalar ``nn.MLP``/``Layer``/``Neuron`` or a
    ``Sequential`` of ``Linear`` layers and activations, as :func:`viz.draw_network`).
    Display it (a cell ending in ``view``), then drive it: ``view.update(loss=...)`` after
    each step of your loop, ``view.fit(...)`` / ``nn.fit(..., on_step=view)``, or
    ``view.run(step_fn, steps)`` in a background thread (the only way the pause, step and
    speed controls can act: see :mod:`viz.browser.live`).

    Args:
        inputs: one sample: each neuron shows its activation ``a = f(z)`` on it (and its
            ``δ = ∂L/∂b`` from the last backward, whatever the batch).
        data: ``(X, y)``; with 2 features, the decision boundary over the data, on a ``grid``
            × ``grid`` lattice, recomputed every ``boundary_every`` sent updates and at the end.
        max_units_per_layer: at most this many units of a column are drawn (the first
            ones and the last); ``None`` draws all.
        max_rate: at most this many states are sent a second (``None``: every update).
        max_frames: at most this many states are recorded for the scrub slider and the
            static record; past it every other frame is dropped and from then on half as
            many kept (uniform thinning; the last state is always kept).
        record_every: which updates are recorded. ``None`` (default): every sent state, and
            between sends an update whenever reading the model costs under a fortieth of the
            time since the last read (a fast training slows by a few %; which steps are
            recorded depends on the machine's speed). An int ``k``: every ``k``-th update
            and the last, with a decision boundary of their own every ``boundary_every``
            frames: the same frames, and so the same static record, on every run (a
            notebook whose stored outputs must not change on a re-run).
        animation_frames: frames of the static record's animation.
        show: what the edges show first, ``"weight"`` or ``"grad"`` (the widget toggles).
    """
    return LiveView(model, inputs=inputs, data=data, boundary_every=boundary_every, grid=grid,
                    max_units_per_layer=max_units_per_layer, max_rate=max_rate,
                    max_frames=max_frames, animation_frames=animation_frames,
                    record_every=record_every, show=show)
