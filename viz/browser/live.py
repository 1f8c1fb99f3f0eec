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

What it reads from the model and records (the frames, their SVG pictures, the
:class:`viz.Animation`) is a :class:`viz.browser.live_record.LiveRecord`, ``view.record``,
which needs no widget library (``chainrule demo`` records its training with one).

Install: ``pip install "chainrule[live]"`` (anywidget, ipywidgets, JupyterLab).
"""
from __future__ import annotations

import math
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import anywidget
import numpy as np
import traitlets as t

from .live_layout import (CLASS_COLORS, HEADER, MAX_POINTS, NEGATIVE, PITCH,  # noqa: F401
                          POSITIVE, RADIUS, WIDTH_PX, ZERO)
from .live_record import LiveRecord

STATIC = Path(__file__).parent / "static"


def _floats(values: np.ndarray) -> memoryview:
    """An array as little-endian float32 bytes: ipywidgets sends it as a binary buffer, with no
    JSON list to build or to walk per number (``live.js`` reads it back; nan stays nan)."""
    return memoryview(np.ascontiguousarray(values, dtype="<f4").tobytes())


def floats_of(buffer: Any) -> list[float | None]:
    """What :func:`_floats` sent, as numbers again (``None`` for nan and inf), as the browser
    reads it: for tests and for anyone reading a view's state."""
    if buffer is None:
        return None
    return [float(v) if math.isfinite(v) else None
            for v in np.frombuffer(bytes(buffer), dtype="<f4").tolist()]


class LiveView(anywidget.AnyWidget):
    """The live view of a model in training (make one with :func:`viz.live`; see the module
    docstring of :mod:`viz.browser.live` for the two ways to drive it).

    Traits the browser sets: ``paused`` (pause/resume), ``speed`` (1 slowest … 10 no wait
    between steps), ``edges`` (what the edges show: ``"weight"`` or ``"grad"``). Traits Python sets: ``step``
    (the last step sent), ``status`` (``"ready"``, ``"running"``, ``"paused"``, ``"ended"``,
    ``"error: ..."``) and the private data traits the script draws. ``record``: the
    :class:`viz.browser.live_record.LiveRecord` that reads the model and keeps the frames.
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
                 show: str = "weight",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._closed, self._ip = False, None
        self._paused = self._threaded = self._running = False
        if show not in ("weight", "grad"):
            raise ValueError(f"show must be 'weight' or 'grad'; got {show!r}")
        if max_rate is not None and not (isinstance(max_rate, (int, float)) and max_rate > 0):
            raise ValueError(f"max_rate must be a positive number of updates a second or None "
                             f"(every update is sent); got {max_rate!r}")
        # what it reads and records (the state before training included): no widget in it
        self.record = LiveRecord(model, inputs=inputs, data=data, boundary_every=boundary_every,
                                 grid=grid, max_units_per_layer=max_units_per_layer,
                                 max_frames=max_frames, animation_frames=animation_frames,
                                 record_every=record_every)
        super().__init__(edges=show)
        self.model = model
        self._data = self.record.data
        self._interval = 0.0 if max_rate is None else 1.0 / max_rate
        self._clock = clock
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._stop = False
        self._once_pending = 0
        self._handles: list[Any] = []
        self._sent = {"train": 0, "val": 0}                 # loss points already sent
        self._last_send = -math.inf
        self._pending = self._since_finish = False
        self.syncs = 0                                      # states sent (for tests, benchmarks)
        self._geometry = self.record.geometry
        self.on_msg(self._on_msg)
        self._send_state(force=True, count=False, record=False)   # the record has step 0
        try:                                       # a hand-written loop ends with its cell
            from IPython import get_ipython
            self._ip = get_ipython()
            if self._ip is not None:
                self._ip.events.register("post_run_cell", self._cell_ended)
        except ImportError:                        # pragma: no cover - IPython comes with ipywidgets
            pass

    # ---- what it recorded (its LiveRecord's) ----------------------------------------------
    @property
    def frames(self) -> list[dict[str, Any]]:
        """The recorded states (at most ``max_frames``), the last state included."""
        return self.record.frames

    @property
    def train_loss(self) -> list[tuple[int, float]]:
        """(step, loss) of every update."""
        return self.record.train_loss

    @property
    def val_loss(self) -> list[tuple[int, float]]:
        """(step, validation loss) of every update (or epoch of ``fit``) that gave one."""
        return self.record.val_loss

    @property
    def step_count(self) -> int:
        """The last update's step (``step`` is the last one sent)."""
        return self.record.step

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
            self.record.add_step(loss, val_loss, step)
            self._pending = self._since_finish = True
            if not self._running:                 # traits are slow to read: a plain flag
                self._running = True
                self.status = "paused" if self._paused and self._threaded else "running"
            now = self._clock()
            if now - self._last_send >= self._interval or (self._paused and self._threaded):
                self._send_state()
            elif self.record.due():
                self._snapshot()

    def __call__(self, info: dict[str, Any]) -> None:
        """``nn.fit``'s ``on_step`` hook: ``nn.fit(..., on_step=view)``. The view counts the
        steps itself (fit's count starts again at each call), so runs add up on one curve."""
        if info.get("event") == "step":
            self.update(loss=info.get("loss"))
        elif info.get("event") == "epoch" and info.get("val_loss") is not None and not self._closed:
            with self._lock:
                self.record.val_loss.append((self.step_count, float(info["val_loss"])))
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
        in another cell meanwhile. Pyodide (JupyterLite) has no threads: there it raises
        ``RuntimeError`` pointing to :meth:`fit` and :meth:`update`, which train in the cell."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive int; got {steps!r}")
        if not callable(step_fn):
            raise TypeError(f"step_fn must be a function step_fn(k) -> loss; got {type(step_fn).__name__}")
        if sys.platform == "emscripten":
            raise RuntimeError(
                "view.run() trains in a background thread, and Pyodide (Python in the browser, "
                "e.g. JupyterLite) cannot start threads: train in the cell instead, with "
                "view.fit(loss_fn, optimizer, (X, y), epochs=...) or nn.fit(model, ..., "
                "on_step=view), or your own loop calling view.update(loss=...) each step")
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
    def _snapshot(self, record: bool = True, final: bool = False) -> dict[str, Any]:
        """The record's snapshot (:meth:`LiveRecord.snapshot`): without ``record_every``,
        a recorded frame carries the decision boundary last sent."""
        return self.record.snapshot(record, final, shown=self._shown_boundary())

    def _shown_boundary(self) -> dict[str, Any] | None:
        """Without ``record_every``, recorded frames carry the boundary last sent (None: the
        record's own, every ``boundary_every`` recorded frames)."""
        return self._boundary if self.record.record_every is None and self._data is not None else None

    def _send_state(self, force: bool = False, count: bool = True, record: bool = True) -> None:
        """Send what changed since the last send (one message: ``hold_sync``), and (``record``)
        record it as a frame if ``record_every`` keeps it."""
        if self._closed:
            return
        with self._lock:
            record = record and self.record.on_schedule()
            frame = self._snapshot(record)
            with self.hold_sync():
                self._state = _frame_json(frame)
                self.step = self.step_count
                self._send_loss()
                if self._data is not None and (force or not self._boundary
                                               or self.syncs % self.record.boundary_every == 0):
                    self._boundary = self.record.boundary_grid()
            if self._data is not None and self.record.record_every is None and record:
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
            self.record.finish(shown=self._shown_boundary())   # the final state, recorded
            with self.hold_sync():
                self._send_loss(full=True)
                frames, shown = [], None
                for f in self.frames:           # a boundary only where it changed
                    frames.append(_frame_json(f, boundary=f.get("b") is not shown))
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
        network (edges as the toggle shows them), the loss curve up to its step, the
        decision boundary, the layer gradients (:meth:`LiveRecord.frame_svg`)."""
        return self.record.frame_svg(k, self.edges)

    def animation(self) -> Any:
        """The recorded frames (at most ``animation_frames`` of them, uniformly chosen, the
        last included) as a :class:`viz.Animation`, which plays without a kernel."""
        return self.record.animation(self.edges)

    def static_html(self) -> str:
        """The static record shown where no widget runs: the recorded frames as a
        :class:`viz.Animation` whose still picture is the last, the final state (one frame:
        that picture as SVG)."""
        return self.record.static_html(self.edges)


def _frame_json(frame: dict[str, Any], boundary: bool = False) -> dict[str, Any]:
    """A frame as the browser gets it: numbers as JSON, the edge values, a and δ as float32
    binary buffers (:func:`_floats`), the layer gradients to 3 significant digits; with its
    decision boundary if ``boundary``."""
    loss = frame["loss"]
    out: dict[str, Any] = {"step": frame["step"],
                           "loss": loss if loss is not None and math.isfinite(loss) else None,
                           "gl": [float(f"{v:.3g}") for v in frame["gl"]]}
    for key in ("w", "g", "a", "d"):
        value = frame.get(key)
        out[key] = None if value is None else _floats(value)
    if boundary and frame.get("b"):
        out["b"] = frame["b"]
    return out


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
