"""``chainrule demo``: micrograd's moons demo, trained and explained.

An ``nn.MLP(2, [16, 16, 1])`` learns 100 noisy moons with the SVM max-margin loss
``mean(relu(1 - y·score)) + 1e-4·Σw²`` and learning rate ``1 - 0.9·k/steps``. Then, for
one training point, the demo writes its whole graph (one box per neuron), the network
diagram (weights as edges, each neuron's activation and gradient at that point), and a
step-by-step stepper of backward through that whole graph one neuron at a time
(``trace_backward(loss, collapse="neuron")``), each neuron opening into its scalar steps.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _svm_loss(model: Any, X: np.ndarray, y: np.ndarray) -> tuple[Any, float]:
    from autograd_core import Value

    scores = [model([Value(float(a), requires_grad=False), Value(float(b), requires_grad=False)])
              for a, b in X]
    losses = [(1 - float(yi) * s).relu() for yi, s in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg = 1e-4 * sum(p * p for p in model.parameters())
    accuracy = float(np.mean([(yi > 0) == (s.data > 0) for yi, s in zip(y, scores)]))
    return data_loss + reg, accuracy


def train(steps: int = 100, seed: int = 1337) -> tuple[Any, np.ndarray, np.ndarray, dict[str, list[float]]]:
    """Train the moons MLP; returns (model, X, y in {-1, 1}, history).

    ``manual_seed(seed)`` seeds the library's global generator first, and the data and the
    weights are drawn from it, as a notebook would do."""
    from tqdm.auto import tqdm

    import nn

    nn.manual_seed(seed)
    X, labels = nn.data.make_moons(100, noise=0.1)
    y = 2.0 * labels - 1.0
    model = nn.MLP(2, [16, 16, 1])
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    bar = tqdm(range(steps), desc="training moons MLP", unit="step")
    for k in bar:
        loss, accuracy = _svm_loss(model, X, y)
        model.zero_grad()
        loss.backward()
        lr = 1.0 - 0.9 * k / steps
        for p in model.parameters():
            p.data -= lr * p.grad
        history["loss"].append(loss.data)
        history["accuracy"].append(accuracy)
        bar.set_postfix(loss=f"{loss.data:.4f}", accuracy=f"{accuracy:.0%}")
    return model, X, y, history


def run_demo(out_dir: Path, steps: int = 100, seed: int = 1337) -> list[tuple[Path, str]]:
    """Train (after ``manual_seed(seed)``), then write the plots, the graph and the stepper
    into ``out_dir``."""
    from autograd_core import Value

    from .graph import draw_graph
    from .network import draw_network
    from .trace import trace_backward

    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    out_dir.mkdir(parents=True, exist_ok=True)
    model, X, y, history = train(steps, seed)
    written: list[tuple[Path, str]] = []
    print(f"final loss {history['loss'][-1]:.4f}, training accuracy {history['accuracy'][-1]:.0%}")

    try:
        from . import plots
        fig = plots.plot_history(history)
        fig.savefig(out_dir / "loss_curve.png", dpi=110, bbox_inches="tight")
        written.append((out_dir / "loss_curve.png", "training loss and accuracy per step"))
        fig = plots.plot_decision_boundary(model, X, y)
        fig.savefig(out_dir / "decision_boundary.png", dpi=110, bbox_inches="tight")
        written.append((out_dir / "decision_boundary.png", "the learned decision boundary"))
    except ImportError:
        print("matplotlib is not installed: skipping the loss curve and decision boundary "
              "(pip install 'chainrule[plots]')")

    # the point the model finds hardest: its loss (and so its gradient) is not zero
    margins = [float(yi) * model([float(a), float(b)]).data for (a, b), yi in zip(X, y)]
    hardest = int(np.argmin(margins))
    x0, y0 = X[hardest], float(y[hardest])
    score = model([Value(float(x0[0]), label="x1", requires_grad=False),
                   Value(float(x0[1]), label="x2", requires_grad=False)])
    loss = (1 - y0 * score).relu()
    loss.label = "loss"
    model.zero_grad()
    loss.backward()
    draw_graph(loss, collapse="neuron", hide_constants=True,
               title=f"one point x = ({x0[0]:.2f}, {x0[1]:.2f}), y = {y0:+.0f}").save(out_dir / "point_graph.svg")
    written.append((out_dir / "point_graph.svg", "one data point's graph, one box per neuron"))
    draw_network(model, inputs=x0, title=f"the trained network at x = ({x0[0]:.2f}, {x0[1]:.2f}), "
                 f"y = {y0:+.0f}").save(out_dir / "network.svg")
    written.append((out_dir / "network.svg", "the whole network: weights as edges (blue +, orange -), "
                    "each neuron's activation a and gradient δ at that point"))

    model.zero_grad()                     # the stepper starts from no gradients at all
    trace = trace_backward(loss, collapse="neuron", hide_constants=True)
    trace.save_html(out_dir / "stepper.html")
    written.append((out_dir / "stepper.html",
                    f"backward through the whole network one neuron at a time: "
                    f"{len(trace.steps) - 1} steps after the seed (step 0); open a neuron to "
                    f"walk its scalar steps ({len(trace.scalar.steps) - 1} in all)"))
    (out_dir / "trace.md").write_text(trace.to_markdown() + "\n", encoding="utf-8")
    written.append((out_dir / "trace.md", "the same steps as a Markdown table"))
    return written
