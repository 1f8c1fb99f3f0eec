"""viz.plots with matplotlib's Agg backend (matplotlib is an optional extra)."""
from __future__ import annotations

import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from autograd_core import Value  # noqa: E402
from viz import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_import_viz_does_not_import_matplotlib():
    import subprocess
    code = "import sys, viz; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("history", [
    {"loss": [1.0, 0.5, 0.25], "accuracy": [0.5, 0.7, 0.9]},
    [{"epoch": 1, "loss": 1.0, "accuracy": 0.5}, {"epoch": 2, "loss": 0.4, "accuracy": 0.8}],
])
def test_plot_history(history):
    fig = plots.plot_history(history)
    labels = [line.get_label() for ax in fig.axes for line in ax.get_lines()]
    assert "loss" in labels and "accuracy" in labels
    with pytest.raises(TypeError):
        plots.plot_history(3)


def test_activation_curves_match_closed_forms():
    xs = np.array([-2.0, -0.5, 0.5, 2.0])
    y, d = plots.activation_curve("tanh", xs)
    assert np.allclose(y, np.tanh(xs)) and np.allclose(d, 1 - np.tanh(xs) ** 2)
    y, d = plots.activation_curve("sigmoid", xs)
    s = 1 / (1 + np.exp(-xs))
    assert np.allclose(y, s) and np.allclose(d, s * (1 - s))
    y, d = plots.activation_curve("relu", xs)
    assert list(d) == [0, 0, 1, 1]
    fig = plots.plot_activations(("tanh", "relu"), points=21)
    assert len(fig.axes) == 4
    assert "derivative" in fig.axes[1].get_title()
    with pytest.raises(ValueError, match="unknown activation"):
        plots.activation_curve("swish", xs)


def test_decision_boundary_scalar_and_batch_models():
    X = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    y = np.array([0, 1, 0, 1])

    def scalar_model(x):                  # a list of Values in, one Value out
        return x[0] * 1.0 + x[1] * 0.0

    fig = plots.plot_decision_boundary(scalar_model, X, y, resolution=12)
    assert fig.axes
    fig = plots.plot_decision_boundary(lambda P: np.c_[-P[:, 0], P[:, 0]], X, y, resolution=12)
    assert fig.axes
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plots.plot_decision_boundary(scalar_model, np.zeros((3, 3)), [0, 1, 0])


class FakeLayer:
    def __init__(self, params):
        self._p = params

    def parameters(self):
        return self._p


def test_layer_gradient_norms_and_plot():
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    a.grad, b.grad, c.grad = 3.0, 4.0, 1e-9
    model = type("M", (), {"layers": [FakeLayer([a, b]), FakeLayer([c])]})()
    norms = plots.layer_gradient_norms(model)
    assert list(norms.values()) == [5.0, pytest.approx(1e-9)]
    fig = plots.plot_gradient_magnitudes([norms, norms])
    assert len(fig.axes[0].get_lines()) == 2
    assert plots.dead_relu_fraction([[-1.0, 2.0], [-0.5, -1.0]]) == 0.5


def test_plots_accept_nn_objects() -> None:
    import nn
    from autograd_core import Tensor

    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    model = nn.Sequential(nn.Linear(2, 4, seed=0), nn.ReLU(), nn.Linear(4, 2, seed=1))
    history = nn.fit(model, nn.losses.cross_entropy, nn.optim.SGD(model.parameters(), lr=0.1),
                     (X, y), epochs=3, batch_size=8, progress=False, seed=0)
    fig = plots.plot_history(history)
    labels = {line.get_label() for ax in fig.axes for line in ax.get_lines()}
    assert "train_loss" in labels and "lr" not in labels
    loss = nn.losses.cross_entropy(model(Tensor(X)), y)
    model.zero_grad()                            # fit's last step left its gradients in .grad
    loss.backward()
    norms = plots.layer_gradient_norms(model)
    assert len(norms) == 2                       # the two Linear layers; ReLU has no parameters
    expected = np.sqrt(sum(float((p.grad ** 2).sum()) for p in model[0].parameters()))
    assert list(norms.values())[0] == pytest.approx(expected)
    pre = np.array([[-1.0, 2.0, -0.5], [-2.0, -1.0, -0.1]])
    assert plots.dead_relu_fraction(pre) == pytest.approx(2 / 3)     # columns 0 and 2
    assert plots.dead_relu_fraction(Tensor(pre)) == pytest.approx(2 / 3)


def test_scalar_model_scores_on_whole_columns_match_point_by_point():
    """The decision boundary evaluates a scalar MLP once on Tensor columns (Values join as
    numbers under no_grad) instead of once per grid point; the numbers are the same."""
    import nn
    from autograd_core import Value, no_grad
    from viz.plots import _scores

    model = nn.MLP(2, [8, 8, 1], seed=3)
    points = np.random.default_rng(0).normal(size=(50, 2))
    with no_grad():
        one_by_one = np.array([[model([Value(a), Value(b)]).data] for a, b in points])
    np.testing.assert_allclose(_scores(model, points), one_by_one, rtol=0, atol=1e-12)


def test_history_axes_name_what_they_count_and_the_legend_hides_no_curve():
    """The demo records one entry per minibatch step: its x axis says so; the legend sits
    below the axes, so it covers neither the loss nor the accuracy curve."""
    history = {"loss": list(np.linspace(1.0, 0.1, 50)), "accuracy": list(np.linspace(0.3, 1, 50))}
    fig = plots.plot_history(history, xlabel="training step")
    ax, ax2 = fig.axes
    assert ax.get_xlabel() == "training step" and ax2.get_ylabel() == "accuracy"
    fig.canvas.draw()
    legend_box = ax.get_legend().get_window_extent()
    assert legend_box.y1 <= ax.get_window_extent().y0        # entirely under the plot area
    assert plots.plot_history(history).axes[0].get_xlabel() == "epoch"   # fit's default
