"""viz.browser.live_record.LiveRecord: the live view's recording without the widget. It reads
the model, keeps bounded frames, draws a frame as SVG and plays them as a viz.Animation, in a
process where anywidget, ipywidgets and traitlets cannot be imported (``chainrule demo`` runs
there: the Quick start installs ``.[plots]`` only)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import nn
import viz
from viz.browser.live_record import LiveRecord

ROOT = Path(__file__).resolve().parents[2]


def _xor():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 5)
    X = X + np.random.default_rng(0).normal(scale=0.1, size=X.shape)
    return X, np.array([0, 1, 1, 0] * 5)


def _train(record: LiveRecord, model, X, y, steps: int, lr: float = 0.3) -> None:
    opt = nn.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = sum((model(list(x)) - float(t)) ** 2 for x, t in zip(X, y)) * (1.0 / len(X))
        loss.backward()
        opt.step()
        record.update(loss=loss)


def test_without_anywidget_it_records_draws_and_plays() -> None:
    script = textwrap.dedent("""
        import json, sys
        for name in ("anywidget", "ipywidgets", "traitlets"):
            sys.modules[name] = None               # import anywidget -> ImportError
        import numpy as np
        import nn
        from viz.browser.live_record import LiveRecord
        X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 5)
        X = X + np.random.default_rng(0).normal(scale=0.1, size=X.shape)
        y = np.array([0, 1, 1, 0] * 5)
        nn.manual_seed(0)
        model = nn.MLP(2, [4, 1], activation="tanh")
        record = LiveRecord(model, inputs=X[0], data=(X, y), record_every=2, animation_frames=20)
        opt = nn.optim.SGD(model.parameters(), lr=0.3)
        for _ in range(7):
            opt.zero_grad()
            loss = sum((model(list(x)) - float(t)) ** 2 for x, t in zip(X, y)) * (1.0 / len(X))
            loss.backward()
            opt.step()
            record.update(loss=loss)
        record.finish()
        anim = record.animation()
        try:
            import viz.browser.live
            widget = "imported"
        except ImportError:
            widget = "ImportError"
        print(json.dumps({
            "steps": [f["step"] for f in record.frames],
            "boundaries": [f["b"]["step"] for f in record.frames],
            "first": record.frame_svg(0), "last": record.frame_svg(),
            "count": anim.count, "captions": anim.captions, "html": anim.to_html(),
            "widget": widget,
            "loaded": sorted(m for m in ("anywidget", "ipywidgets", "traitlets")
                             if sys.modules.get(m) is not None)}))
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["widget"] == "ImportError" and out["loaded"] == []   # the widget really is absent
    assert out["steps"] == [0, 2, 4, 6, 7]                          # every 2nd update, the last
    assert out["boundaries"] == [0, 0, 0, 0, 7]                     # boundary_every=10, the final one
    for svg in (out["first"], out["last"]):
        assert svg.startswith("<svg") and svg.endswith("</svg>")
        assert "decision boundary" in svg and "data:image/png;base64," in svg
    assert "loss (step 0)" in out["first"] and "loss (step 7)" in out["last"]
    assert out["first"] != out["last"]
    assert out["count"] == 5 and out["captions"][0] == "step 0"
    assert out["captions"][-1].startswith("step 7: loss ")
    html = out["html"]
    assert 'class="cr-stepper cr-anim"' in html and html.count("data:image/svg+xml;base64,") == 5
    assert "frame 1 of 5: step 0" in html and "http://" not in html.replace(
        "http://www.w3.org/", "") and "https://" not in html


def test_frames_follow_record_every_and_the_model() -> None:
    X, y = _xor()
    nn.manual_seed(0)
    model = nn.MLP(2, [4, 1], activation="tanh")
    record = LiveRecord(model, inputs=X[0], record_every=3)
    before = [p.data for p in model.layers[0].neurons[0].w]
    assert [f["step"] for f in record.frames] == [0] and record.frames[0]["g"] is None
    _train(record, model, X, y, 7)
    record.finish()
    assert [f["step"] for f in record.frames] == [0, 3, 6, 7]
    assert [s for s, _ in record.train_loss] == list(range(1, 8))
    first, last = record.frames[0], record.frames[-1]
    # the first edges drawn are L1.n1's weights, read then and now
    np.testing.assert_allclose(first["w"][:2], before, rtol=1e-6)
    np.testing.assert_allclose(last["w"][:2], [p.data for p in model.layers[0].neurons[0].w], rtol=1e-6)
    assert not np.allclose(first["w"], last["w"])
    # δ of the output unit is its bias's gradient; a = f(z) on the chosen input
    assert last["d"][-1] == pytest.approx(model.layers[1].neurons[0].b.grad, rel=1e-5)
    assert last["a"][-1] == pytest.approx(model(list(X[0])).data, rel=1e-5)
    record.finish()                                    # a second finish adds nothing
    assert len(record.frames) == 4


def test_frames_are_bounded_and_thinned_uniformly() -> None:
    X, y = _xor()
    nn.manual_seed(0)
    model = nn.MLP(2, [3, 1], activation="tanh")
    record = LiveRecord(model, max_frames=8)
    _train(record, model, X[:4], y[:4], 60, lr=0.01)
    record.finish()
    steps = [f["step"] for f in record.frames]
    assert len(steps) <= 9 and steps[0] == 0 and steps[-1] == 60
    assert len(set(np.diff(steps[:-1]))) == 1          # uniform, the last added


def test_the_record_is_the_same_on_every_run() -> None:
    X, y = _xor()

    def run() -> str:
        nn.manual_seed(0)
        model = nn.MLP(2, [4, 1], activation="tanh")
        record = LiveRecord(model, inputs=X[0], data=(X, y), record_every=2, boundary_every=2)
        _train(record, model, X, y, 5)
        record.finish()
        return record.animation().to_html(uid="cr-training")
    first = run()
    assert first == run() and 'id="cr-training"' in first


def test_the_boundary_is_the_models_own_on_values() -> None:
    """The recorded boundary (the scalar model run once on the whole grid) is, cell for cell,
    the class the model gives each grid point on Values, one point at a time."""
    from autograd_core import Value, no_grad

    X, y = _xor()
    nn.manual_seed(3)
    model = nn.MLP(2, [4, 4, 1])
    record = LiveRecord(model, data=(X, 2 * y - 1), grid=12)
    _train(record, model, X, 2 * y - 1, 3, lr=0.1)
    x0, x1, y0, y1 = record.data["extent"]
    gx, gy = np.meshgrid(np.linspace(x0, x1, 12), np.linspace(y1, y0, 12))
    with no_grad():
        one_by_one = "".join("1" if model([Value(a), Value(b)]).data > 0 else "0"
                             for a, b in zip(gx.ravel(), gy.ravel()))
    assert record.boundary_grid()["cells"] == one_by_one
    assert len(set(one_by_one)) == 2                             # both classes on the grid


def test_bad_arguments_name_the_problem() -> None:
    X, y = _xor()
    with pytest.raises(TypeError, match="draw_network draws"):
        LiveRecord(object())
    with pytest.raises(ValueError, match="record_every"):
        LiveRecord(nn.MLP(2, [1]), record_every=0)
    with pytest.raises(ValueError, match="max_frames"):
        LiveRecord(nn.MLP(2, [1]), max_frames=1)
    with pytest.raises(TypeError, match="loss must be a number"):
        LiveRecord(nn.MLP(2, [1])).update(loss="low")
    assert isinstance(LiveRecord(nn.MLP(2, [1]), data=(X, y)).animation(), viz.Animation)
