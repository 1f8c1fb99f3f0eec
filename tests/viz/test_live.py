"""viz.live: the live view of training (anywidget). Python side: what is sent, when, and what
is recorded; the thread-driven run and its controls; fit's hook; the static record. Browser
side: live.js rendered with a stand-in for anywidget's model, driven by the traits."""
from __future__ import annotations

import gc
import json
import sys
import time
import tracemalloc

import numpy as np
import pytest

import nn
import viz
from autograd_core import Tensor

from .conftest import served

anywidget = pytest.importorskip("anywidget")
from viz.browser import live as live_mod  # noqa: E402
from viz.browser.assets import script_json  # noqa: E402
from viz.browser.live_record import LiveRecord  # noqa: E402


class Clock:
    """A clock the test moves: no timed assertions."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _xor():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 5)
    X = X + np.random.default_rng(0).normal(scale=0.1, size=X.shape)
    y = np.array([0, 1, 1, 0] * 5)
    return X, y


def _scalar_model():
    nn.manual_seed(0)
    return nn.MLP(2, [4, 1], activation="tanh")


def _scalar_step(model, opt, X, y):
    opt.zero_grad()
    loss = sum((model(list(x)) - float(t)) ** 2 for x, t in zip(X, y)) * (1.0 / len(X))
    loss.backward()
    opt.step()
    return loss


def _count_sends(view, monkeypatch) -> list[dict]:
    sent: list[dict] = []
    original = view.send_state

    def send_state(key=None):
        sent.append(set(key) if key is not None else None)
        return original(key)
    monkeypatch.setattr(view, "send_state", send_state)
    return sent


def test_each_update_sets_the_traits_from_the_model(monkeypatch) -> None:
    X, y = _xor()
    model = _scalar_model()
    view = viz.live(model, inputs=X[1], data=(X, y), max_rate=None)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    weights = []
    for k in range(1, 4):
        loss = _scalar_step(model, opt, X, y)
        view.update(loss=loss)
        state = _decoded(view._state)
        assert view.step == state["step"] == k
        # edge i joins units edges[i]: its value is the model's weight into that neuron
        w11 = model.layers[0].neurons[0].w[0].data
        assert state["w"][0] == pytest.approx(w11, rel=1e-3)
        g = model.layers[0].neurons[0].w[0].grad
        assert state["g"][0] == pytest.approx(g, rel=1e-3, abs=1e-9)
        # a and δ of neuron L1.n1 for the chosen input, computed here independently
        n = model.layers[0].neurons[0]
        z = n.w[0].data * X[1][0] + n.w[1].data * X[1][1] + n.b.data
        assert state["a"][2] == pytest.approx(np.tanh(z), rel=1e-3)
        assert state["d"][2] == pytest.approx(n.b.grad, rel=1e-3, abs=1e-9)
        assert state["d"][0] is None                           # inputs have no δ
        assert view._loss["train"]["points"] == [[k, pytest.approx(float(loss.data), rel=1e-5)]]
        weights.append(state["w"])
    assert weights[0] != weights[-1]
    assert view._boundary["step"] >= 1 and len(view._boundary["cells"]) == 48 * 48
    assert set(view._boundary["cells"]) <= {"0", "1"}


def test_looking_never_changes_the_numbers() -> None:
    X, y = _xor()
    plain, watched = _scalar_model(), _scalar_model()
    view = viz.live(watched, inputs=X[0], data=(X, y), max_rate=None)
    opts = [nn.optim.SGD(m.parameters(), lr=0.1) for m in (plain, watched)]
    for _ in range(5):
        _scalar_step(plain, opts[0], X, y)
        view.update(loss=_scalar_step(watched, opts[1], X, y))
    assert [p.data for p in plain.parameters()] == [p.data for p in watched.parameters()]
    assert [p.grad for p in plain.parameters()] == [p.grad for p in watched.parameters()]


def test_updates_are_throttled_to_20_a_second_and_the_last_is_flushed(monkeypatch) -> None:
    clock = Clock()
    model = _scalar_model()
    view = live_mod.LiveView(model, clock=clock)
    sent = _count_sends(view, monkeypatch)
    for k in range(2000):                     # 2000 updates in 2 s of the clock
        clock.now = k * 0.001
        view.update(loss=1.0 / (k + 1))
    state_sends = [s for s in sent if s and "_state" in s]
    assert 20 <= len(state_sends) <= 2 * 20 + 1
    assert len(sent) <= 2 * 20 + 3          # + the status change at the first update
    assert view.step < 2000                 # the last update was held back ...
    view.finish()
    assert view.step == 2000 and view._state["step"] == 2000   # ... and sent at the end
    assert len(view._loss["train"]["points"]) == 2000          # the curve keeps every point


def test_loss_points_are_sent_once_each() -> None:
    clock = Clock()
    view = live_mod.LiveView(_scalar_model(), clock=clock)
    seen = []
    for k in range(1, 301):
        clock.now = k * 0.01
        view.update(loss=float(k))
        chunk = view._loss["train"]
        if chunk["start"] == len(seen):
            seen.extend(p[1] for p in chunk["points"])
    assert seen == [float(k) for k in range(1, len(seen) + 1)]
    assert len(seen) > 250


def test_after_close_updates_do_nothing(monkeypatch) -> None:
    view = viz.live(_scalar_model(), max_rate=None)
    view.update(loss=1.0)
    sent = _count_sends(view, monkeypatch)
    view.close()
    view.update(loss=0.5)
    view.finish()
    view.flush()
    assert sent == [] and view.step == 1


def test_nothing_grows_without_bound_over_1000_steps() -> None:
    X, y = _xor()
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    view = viz.live(model, inputs=X[0], data=(X, y), max_rate=None, max_frames=100)
    opt = nn.optim.SGD(model.parameters(), lr=0.05)
    Xt, yt = Tensor(X), Tensor(y[:, None].astype(float))

    def step(k: int) -> None:
        opt.zero_grad()
        loss = nn.losses.mse_loss(model(Xt), yt)
        loss.backward()
        opt.step()
        view.update(loss=loss)

    for k in range(200):
        step(k)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for k in range(200, 1000):
        step(k)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename")
                if "viz" in str(s.traceback) or "traitlets" in str(s.traceback)
                or "ipywidgets" in str(s.traceback))
    assert len(view.frames) <= 101
    assert view.frames[-1]["step"] == 1000
    steps = [f["step"] for f in view.frames]
    assert steps == sorted(steps) and np.ptp(np.diff(steps[:-1])) <= steps[1] - steps[0]   # uniform
    # 800 more loss points are kept (about 100 bytes each); frames and traits are bounded
    assert grown < 400_000, grown


def test_a_thread_run_obeys_pause_step_once_and_resume() -> None:
    view = viz.live(_scalar_model(), max_rate=None)
    calls: list[int] = []
    view.pause()
    view.run(lambda k: calls.append(k) or 1.0 / (k + 1), 50)

    def settle(condition, limit=10.0) -> None:
        end = time.monotonic() + limit
        while not condition() and time.monotonic() < end:
            time.sleep(0.01)

    settle(lambda: view.status == "paused")
    time.sleep(0.2)
    assert calls == [] and view.status == "paused"
    view.step_once()
    settle(lambda: len(calls) == 1)
    time.sleep(0.2)
    assert calls == [0] and view.step == 1            # one step, then waits again
    view.step_once()
    view.step_once()
    settle(lambda: len(calls) == 3)
    time.sleep(0.2)
    assert calls == [0, 1, 2]
    view.resume()
    view.wait(timeout=30)
    assert calls == list(range(50)) and view.step == 50 and view.status == "ended"
    assert view._frames and view._frames[-1]["step"] == 50


def test_run_reports_the_error_of_step_fn() -> None:
    view = viz.live(_scalar_model())

    def step(k: int) -> float:
        if k == 3:
            raise ValueError("boom")
        return 1.0
    view.run(step, 10)
    with pytest.raises(ValueError, match="boom"):
        view.wait(timeout=30)
    assert view.status.startswith("error: ValueError") and view.step == 3


def test_fit_calls_the_view_once_per_step_and_per_epoch() -> None:
    X, y = _xor()
    nn.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    view = viz.live(model, data=(X, y), max_rate=None)
    history = view.fit(nn.losses.cross_entropy, nn.optim.SGD(model.parameters(), lr=0.1),
                       (X, y), (X, y), epochs=3, batch_size=8, progress=False, seed=0)
    assert view.step == 3 * 3                          # 20 samples: 3 batches an epoch
    assert len(view.train_loss) == 9 and len(view.val_loss) == 3
    assert [v for _, v in view.val_loss] == pytest.approx(history.val_loss)
    assert view.status == "ended" and view.driver == "fit"
    view.fit(nn.losses.cross_entropy, nn.optim.SGD(model.parameters(), lr=0.1), (X, y),
             epochs=1, batch_size=8, progress=False, seed=0)
    assert [s for s, _ in view.train_loss] == list(range(1, 13))   # one curve: steps add up


def test_the_static_record_has_the_final_step_and_an_animation() -> None:
    X, y = _xor()
    model = _scalar_model()
    view = viz.live(model, inputs=X[0], data=(X, y), max_rate=None, animation_frames=4)
    before = view._repr_mimebundle_()[0]["text/html"]
    assert "step 0" in before
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(6):
        view.update(loss=_scalar_step(model, opt, X, y))
    view.finish()
    data, _ = view._repr_mimebundle_()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == view.model_id
    html = data["text/html"]
    assert "viz.live, step 6" in html and 'class="cr-stepper cr-anim"' in html
    anim = view.animation()
    assert isinstance(anim, viz.Animation) and anim.count == 4
    assert anim.captions[-1].startswith("step 6: loss ")


def test_finish_refreshes_every_displayed_output() -> None:
    view = viz.live(_scalar_model(), max_rate=None)
    updates = []

    class Handle:
        def update(self, obj, raw=False):
            updates.append(obj)
    view._handles.append(Handle())
    view.update(loss=2.0)
    view.update(loss=1.0)
    view.finish()
    assert len(updates) == 1 and "viz.live, step 2" in updates[0]["text/html"]


def test_the_view_keeps_a_live_record() -> None:
    X, y = _xor()
    view = viz.live(_scalar_model(), data=(X, y), max_rate=None)
    view.update(loss=1.0)
    view.finish()
    assert isinstance(view.record, LiveRecord) and view.frames is not None
    assert view.frames == view.record.frames and view.train_loss == [(1, 1.0)]


def test_bad_arguments_name_the_problem() -> None:
    with pytest.raises(TypeError, match="draw_network draws"):
        viz.live(object())
    with pytest.raises(ValueError, match="max_rate"):
        viz.live(_scalar_model(), max_rate=0)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        viz.live(_scalar_model(), data=(np.zeros((3, 3)), np.zeros(3)))
    with pytest.raises(ValueError, match="steps"):
        viz.live(_scalar_model()).run(lambda k: 0.0, 0)


def test_without_anywidget_viz_live_says_how_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "anywidget", None)
    monkeypatch.delitem(sys.modules, "viz.browser.live")
    monkeypatch.delattr(viz.browser, "live")
    with pytest.raises(ImportError, match=r'pip install "chainrule\[live\]"'):
        viz.live(_scalar_model())


# ---- the browser: live.js with a stand-in for anywidget's model -----------------------------
PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>{css}</style></head>
<body style="margin:0;background:{bg}"><div id="out" style="width:940px"></div>
<script type="application/json" id="state">{state}</script>
<script type="application/json" id="esm">{esm}</script>
<script type="module">
const state = JSON.parse(document.getElementById("state").textContent);
const handlers = {{}};
window.saved = [];
const model = {{
  get: (k) => state[k],
  set: (k, v) => {{ state[k] = v; (handlers["change:" + k] || []).forEach((f) => f()); }},
  on: (e, f) => {{ (handlers[e] = handlers[e] || []).push(f); }},
  off: (e, f) => {{ handlers[e] = (handlers[e] || []).filter((g) => g !== f); }},
  save_changes: () => {{ window.saved.push(JSON.stringify(state.paused) + "/" + state._once); }},
  send: () => {{}},
}};
window.crModel = model;
const url = URL.createObjectURL(new Blob([JSON.parse(document.getElementById("esm").textContent)],
                                         {{type: "text/javascript"}}));
const mod = await import(url);
mod.default.render({{model, el: document.getElementById("out")}});
window.crReady = true;
</script></body></html>"""


def _decoded(x):
    """A state as the browser reads it: the float32 buffers (edge values, a, δ) as numbers,
    nan as None; the fake model below takes JSON, which has no binary buffers."""
    if isinstance(x, memoryview):
        return live_mod.floats_of(x)
    if isinstance(x, dict):
        return {k: _decoded(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_decoded(v) for v in x]
    return x


def _page(view, bg: str = "#ffffff", dark: bool = False) -> str:
    state = _decoded({k: v for k, v in view.get_state().items() if not k.startswith("_view")})
    css = (live_mod.STATIC / "live.css").read_text()
    if dark:
        css += (".cr-live{--jp-ui-font-color1:#e5e7eb;--jp-ui-font-color2:#cbd5e1;"
                "--jp-layout-color1:#111827;--jp-layout-color2:#1f2937;--jp-border-color1:#6b7280}")
    return PAGE.format(css=css, bg=bg, state=script_json(state),
                       esm=script_json((live_mod.STATIC / "live.js").read_text()))


def _push(page, view) -> None:
    for key in ("_state", "_loss", "_boundary", "status", "_frames", "step"):
        page.evaluate("([k, v]) => window.crModel.set(k, v)", [key, json.loads(json.dumps(
            _decoded(getattr(view, key))))])


def test_live_js_draws_the_view_and_follows_the_traits(browser, tmp_path) -> None:
    X, y = _xor()
    model = _scalar_model()
    view = viz.live(model, inputs=X[0], data=(X, y), max_rate=None)
    opt = nn.optim.SGD(model.parameters(), lr=0.3)
    view.update(loss=_scalar_step(model, opt, X, y))
    with served(browser, _page(view)) as (page, others):
        page.set_viewport_size({"width": 960, "height": 900})
        page.wait_for_function("window.crReady === true")
        assert page.locator(".cr-live").count() == 1
        assert page.locator(".cr-live-step").text_content() == "step 1"
        n_edges = len(view._geometry["edges"])
        assert page.locator(".cr-live-edge").count() == n_edges
        assert page.locator('.cr-live-edge[data-edge="0"]').count() == 1
        strokes = page.eval_on_selector_all(".cr-live-edge", "es => es.map(e => e.getAttribute('stroke'))")
        for _ in range(15):                     # each change reaches the page, as in Jupyter
            view.update(loss=_scalar_step(model, opt, X, y))
            _push(page, view)
        assert page.locator(".cr-live-step").text_content() == "step 16"
        after = page.eval_on_selector_all(".cr-live-edge", "es => es.map(e => e.getAttribute('stroke'))")
        assert after != strokes
        assert len(page.get_attribute(".cr-live-loss", "points").split()) == 16
        # the edge colour follows the weight's sign: blue positive, orange negative
        w = live_mod.floats_of(view._state["w"])
        assert after[0].startswith(live_mod.POSITIVE if w[0] > 0 else live_mod.NEGATIVE)
        # controls: pause toggles the trait and its text; step once needs a pause
        assert page.locator(".cr-live-pause").text_content() == "pause"
        assert page.locator(".cr-live-once").is_disabled()
        page.click(".cr-live-pause")
        assert page.locator(".cr-live-pause").text_content() == "resume"
        assert page.evaluate("window.crModel.get('paused')") is True
        page.click(".cr-live-once")
        assert page.evaluate("window.crModel.get('_once')") == 1
        page.click(".cr-live-pause")
        assert page.locator(".cr-live-pause").text_content() == "pause"
        page.click(".cr-live-show")
        assert page.evaluate("window.crModel.get('edges')") == "grad"
        grads = page.eval_on_selector_all(".cr-live-edge", "es => es.map(e => e.getAttribute('stroke'))")
        assert grads != after
        page.click(".cr-live-show")
        assert page.locator(".cr-live-scrub").is_disabled()
        page.screenshot(path=str(tmp_path / "live-running.png"))
        view.finish()
        _push(page, view)
        assert page.locator(".cr-live-scrub").is_enabled()
        page.fill(".cr-live-scrub", "0")
        page.dispatch_event(".cr-live-scrub", "input")
        assert page.locator(".cr-live-step").text_content() == f"step {view.frames[0]['step']}"
        width = page.evaluate("document.querySelector('.cr-live').getBoundingClientRect().width")
        assert width <= 940
        page.screenshot(path=str(tmp_path / "live-scrubbed.png"), full_page=True)
        assert others == []                     # nothing fetched: no CDN
    with served(browser, _page(view, bg="#111827", dark=True)) as (page, _):
        page.set_viewport_size({"width": 960, "height": 900})
        page.wait_for_function("window.crReady === true")
        page.screenshot(path=str(tmp_path / "live-dark.png"), full_page=True)
    shots = tmp_path.glob("*.png")
    keep = getattr(sys.modules[__name__], "SHOTS", None)
    if keep:                                    # a developer's look: SHOTS = "/tmp/dir"
        import shutil
        for shot in shots:
            shutil.copy(shot, keep)


def test_the_static_record_renders_without_a_kernel(browser, tmp_path) -> None:
    X, y = _xor()
    model = _scalar_model()
    view = viz.live(model, inputs=X[0], data=(X, y), max_rate=None, animation_frames=3)
    opt = nn.optim.SGD(model.parameters(), lr=0.3)
    for _ in range(5):
        view.update(loss=_scalar_step(model, opt, X, y))
    view.finish()
    html = f"<!doctype html><html><body>{view.static_html()}</body></html>"
    with served(browser, html) as (page, others):
        page.wait_for_selector(".cr-anim .cr-counter")
        assert page.locator(".cr-anim .cr-counter").text_content() == "frame 1 of 3"
        assert "viz.live, step 5" in page.locator(".cr-live-static").text_content()
        page.screenshot(path=str(tmp_path / "live-static.png"), full_page=True)
        assert others == []


def test_with_record_every_the_recorded_frames_do_not_depend_on_the_clock() -> None:
    X, y = _xor()

    def record(tick: float) -> list:
        model = _scalar_model()
        clock = Clock()
        view = live_mod.LiveView(model, inputs=X[0], data=(X, y), record_every=3,
                                 boundary_every=2, clock=clock)
        opt = nn.optim.SGD(model.parameters(), lr=0.1)
        for k in range(20):
            clock.now = k * tick                    # sends at different steps
            view.update(loss=_scalar_step(model, opt, X, y))
        view.finish()
        return view, [json.dumps(_decoded(live_mod._frame_json(f, boundary=True)))
                      for f in view.frames]

    fast, frames_fast = record(0.001)
    slow, frames_slow = record(1.0)
    assert fast.syncs != slow.syncs
    assert frames_fast == frames_slow
    assert [f["step"] for f in fast.frames] == [0, 3, 6, 9, 12, 15, 18, 20]
    assert fast.frames[-1]["b"]["step"] == 20                # the final boundary
