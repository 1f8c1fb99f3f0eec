"""``chainrule demo``: micrograd's moons demo, trained and explained.

An ``nn.MLP(2, [16, 16, 1])`` learns 100 noisy moons with the SVM max-margin loss
``mean(relu(1 - y·score)) + 1e-4·Σw²`` and learning rate ``1 - 0.9·k/steps``, each step on a
random minibatch of 32 of the points (the reported loss and accuracy are then those of the
trained model on all 100, computed without a graph). Then, for
one training point, the demo writes its whole graph (one box per neuron), the network
diagram (weights as edges, each neuron's activation and gradient at that point), and a
step-by-step stepper of backward through that whole graph one neuron at a time
(``trace_backward(loss, collapse="neuron")``), each neuron opening into its scalar steps.
The training itself is recorded every ``RECORD_EVERY`` steps (:class:`viz.browser.live_record.
LiveRecord`, no widget library needed) and written as an animation, ``training.html``.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np


BATCH_SIZE = 32
"""Points per training step: a random minibatch (micrograd's demo offers ``batch_size`` too).
A step on Values costs about 1.5 ms per point; 32 points reach the full batch's 100 % in the
same 100 steps at a third of the time."""
REG = 1e-4
RECORD_EVERY = 5
"""``training.html`` shows the state before training and after every 5th step (21 frames of
100 steps): the same frames, so the same file, on every run."""


def _svm_loss(model: Any, X: np.ndarray, y: np.ndarray) -> tuple[Any, float]:
    from autograd_core import Value

    scores = [model([Value(float(a), requires_grad=False), Value(float(b), requires_grad=False)])
              for a, b in X]
    losses = [(1 - float(yi) * s).relu() for yi, s in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg = REG * sum(p * p for p in model.parameters())
    accuracy = float(np.mean([(yi > 0) == (s.data > 0) for yi, s in zip(y, scores)]))
    return data_loss + reg, accuracy


def batch_scores(model: Any) -> Callable[[Any], np.ndarray]:
    """The scalar ``MLP``'s function on a batch, without a graph: ``points`` (n, 2) -> scores
    (n, 1). The model itself runs once, under ``no_grad``, on one Tensor per input column
    (its own ops on arrays: every point in one pass, no 10,000 graphs of Values)."""
    from autograd_core import Tensor, no_grad

    def scores(points: Any) -> np.ndarray:
        a = np.asarray(getattr(points, "data", points), dtype=float)
        with no_grad():
            out = model([Tensor(a[:, j]) for j in range(a.shape[1])])
        return np.asarray(out.data, dtype=float).reshape(len(a), -1)

    return scores


def _full_loss(model: Any, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The loss and accuracy on every point (no graph): what the trained model achieves."""
    s = batch_scores(model)(X)[:, 0]
    reg = REG * sum(p.data * p.data for p in model.parameters())
    return float(np.mean(np.maximum(0.0, 1.0 - y * s)) + reg), float(np.mean((s > 0) == (y > 0)))


def train(steps: int = 100, seed: int = 1337, batch_size: int | None = BATCH_SIZE, *,
          watch: Callable[[Any, np.ndarray, np.ndarray], Callable[[float], Any]] | None = None
          ) -> tuple[Any, np.ndarray, np.ndarray, dict[str, list[float]]]:
    """Train the moons MLP; returns (model, X, y in {-1, 1}, history).

    ``manual_seed(seed)`` seeds the library's global generator first, and the data, the
    weights and the minibatches (``batch_size`` points drawn without replacement each step;
    ``None``: all 100) are drawn from it, as a notebook would do. ``history`` holds each
    step's minibatch loss and accuracy. ``watch(model, X, y)``, if given, is called once
    before the first step and returns a function called after every step (once the weights
    are updated) with that step's loss (:func:`run_demo` records the training with it)."""
    from tqdm.auto import tqdm

    import nn
    from autograd_core import default_generator

    nn.manual_seed(seed)
    X, labels = nn.data.make_moons(100, noise=0.1)
    y = 2.0 * labels - 1.0
    model = nn.MLP(2, [16, 16, 1])
    rng = default_generator()
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    after_step = watch(model, X, y) if watch is not None else None
    bar = tqdm(range(steps), desc="training moons MLP", unit="step")
    for k in bar:
        batch = (slice(None) if batch_size is None or batch_size >= len(X)
                 else rng.choice(len(X), size=batch_size, replace=False))
        loss, accuracy = _svm_loss(model, X[batch], y[batch])
        model.zero_grad()
        loss.backward()
        lr = 1.0 - 0.9 * k / steps
        for p in model.parameters():
            p.data -= lr * p.grad
        history["loss"].append(loss.data)
        history["accuracy"].append(accuracy)
        if after_step is not None:
            after_step(loss.data)
        bar.set_postfix(loss=f"{loss.data:.4f}", accuracy=f"{accuracy:.0%}")
    return model, X, y, history


def hardest_point(model: Any, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, Any]:
    """The training point with the smallest margin ``y·score`` (its loss, and so its gradient,
    is not zero) and its loss ``relu(1 - y·score)`` as a graph, inputs named ``x1``, ``x2``."""
    from autograd_core import Value

    hardest = int(np.argmin(y * batch_scores(model)(X)[:, 0]))
    x0, y0 = X[hardest], float(y[hardest])
    score = model([Value(float(x0[0]), label="x1", requires_grad=False),
                   Value(float(x0[1]), label="x2", requires_grad=False)])
    loss = (1 - y0 * score).relu()
    loss.label = "loss"
    return x0, y0, loss


def point_trace(model: Any, loss: Any, x0: np.ndarray, y0: float) -> Any:
    """The demo's stepper: backward from ``loss`` one neuron at a time, its graph captioned
    with the point. The model's gradients are this point's (``zero_grad``, then one backward),
    so the network diagram drawn next shows the δ of the same pass the stepper walks."""
    from ..tracing.trace import trace_backward

    model.zero_grad()
    loss.backward()
    return trace_backward(loss, collapse="neuron", hide_constants=True,
                          title=f"one point x = ({x0[0]:.2f}, {x0[1]:.2f}), y = {y0:+.0f}")


@contextmanager
def _phase(timings: dict[str, float] | None, name: str) -> Iterator[None]:
    """Add the block's wall-clock seconds to ``timings[name]`` and its CPU seconds (this
    process) to ``timings[name + " (cpu)"]``, when ``timings`` is given."""
    start, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        if timings is not None:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
            key = name + " (cpu)"
            timings[key] = timings.get(key, 0.0) + time.process_time() - cpu


def recorder(model: Any, X: np.ndarray, y: np.ndarray) -> Any:
    """The recording of the demo's training: a :class:`viz.browser.live_record.LiveRecord`
    of ``model`` over the data, every ``RECORD_EVERY`` steps, each frame with its own
    decision boundary (the model on the whole grid in one pass) on a 100 × 100 grid, as
    ``decision_boundary.png`` (on the live view's 48 × 48 a point near the boundary may show
    on the wrong side of it)."""
    from ..browser.live_record import LiveRecord

    return LiveRecord(model, data=(X, y), record_every=RECORD_EVERY, boundary_every=1, grid=100,
                      animation_frames=500)


def run_demo(out_dir: Path, steps: int = 100, seed: int = 1337, *,
             batch_size: int | None = BATCH_SIZE,
             timings: dict[str, float] | None = None) -> list[tuple[Path, str]]:
    """Train (after ``manual_seed(seed)``), then write the plots, the graph and the stepper
    into ``out_dir``. ``timings``, if given, receives the wall-clock and CPU seconds of each
    phase (``benchmarks/demo_time.py`` reports them)."""
    from ..drawing.network import draw_network

    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    out_dir.mkdir(parents=True, exist_ok=True)
    records: list[Any] = []

    def watch(model: Any, X: np.ndarray, y: np.ndarray) -> Callable[[float], Any]:
        with _phase(timings, "record (in train)"):
            records.append(recorder(model, X, y))       # the state before training

        def after_step(loss: float) -> None:
            with _phase(timings, "record (in train)"):
                records[0].update(loss=loss)
        return after_step

    with _phase(timings, "train"):
        model, X, y, history = train(steps, seed, batch_size, watch=watch)
        final_loss, final_accuracy = _full_loss(model, X, y)
    written: list[tuple[Path, str]] = []
    print(f"on all {len(X)} training points: loss {final_loss:.4f}, accuracy {final_accuracy:.0%}")

    try:
        from .. import plots
        with _phase(timings, "loss curve"):
            fig = plots.plot_history(history, xlabel=f"training step (one minibatch of "
                                     f"{batch_size or len(X)} points each)")
            fig.savefig(out_dir / "loss_curve.png", dpi=110, bbox_inches="tight")
        written.append((out_dir / "loss_curve.png", "training loss and accuracy per step"))
        with _phase(timings, "decision boundary"):
            fig = plots.plot_decision_boundary(batch_scores(model), X, y)
            fig.savefig(out_dir / "decision_boundary.png", dpi=110, bbox_inches="tight")
        written.append((out_dir / "decision_boundary.png", "the learned decision boundary"))
    except ImportError:
        print("matplotlib is not installed: skipping the loss curve and decision boundary "
              "(pip install 'chainrule[plots]')")

    with _phase(timings, "training.html"):
        record = records[0]
        record.finish()
        record.animation(title=f"the moons MLP learning: {steps} steps, recorded every "
                         f"{RECORD_EVERY}").save_html(out_dir / "training.html", uid="cr-training")
    written.append((out_dir / "training.html",
                    f"the training as an animation, {len(record.frames)} frames (before training, "
                    f"then every {RECORD_EVERY} steps): weights as edges, the loss curve, the "
                    f"decision boundary under the data"))

    with _phase(timings, "hardest point"):
        x0, y0, loss = hardest_point(model, X, y)
    with _phase(timings, "trace"):
        trace = point_trace(model, loss, x0, y0)
    with _phase(timings, "point graph"):
        trace.graph.save(out_dir / "point_graph.svg")      # the stepper reuses this layout
    written.append((out_dir / "point_graph.svg", "one data point's graph, one box per neuron"))
    with _phase(timings, "network"):
        draw_network(model, inputs=x0, title=f"the trained network at x = ({x0[0]:.2f}, "
                     f"{x0[1]:.2f}), y = {y0:+.0f}").save(out_dir / "network.svg")
    written.append((out_dir / "network.svg", "the whole network: weights as edges (blue +, orange -), "
                    "each neuron's activation a and gradient δ at that point"))

    with _phase(timings, "stepper"):
        trace.save_html(out_dir / "stepper.html")
    written.append((out_dir / "stepper.html",
                    f"backward through the whole network one neuron at a time, steps 0 to "
                    f"{len(trace.steps) - 1} (step 0 is the seed); open a neuron to walk its "
                    f"scalar steps (of {len(trace.scalar.steps) - 1} in all)"))
    with _phase(timings, "trace.md"):
        (out_dir / "trace.md").write_text(trace.to_markdown() + "\n", encoding="utf-8")
    written.append((out_dir / "trace.md", "the same steps as a Markdown table"))
    return written
