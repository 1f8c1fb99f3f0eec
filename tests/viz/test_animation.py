"""viz.animate / viz.Animation: frames and captions, the still for clients without JavaScript,
the three notebook outputs, the self-contained page, and the player in headless Chromium
(network blocked), also inside notebooks exported by nbconvert (JavaScript on, off, sanitised)."""
from __future__ import annotations

import base64
import io
import re

import pytest

import viz
from viz.browser.assets import asset
from viz.browser.stepper import PAGE_HINT, RUN_HINT

from .conftest import served
from .helpers import neuron

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402

N = 5
CAPTIONS = [f"after {k} steps the line has slope {k}" for k in range(N)]


def _figure() -> Figure:
    return Figure(figsize=(4, 2.5), dpi=100)


def _draw_on(fig: Figure):
    ax = fig.add_subplot()
    calls = []

    def update(k: int) -> None:
        calls.append(k)
        ax.clear()
        ax.plot([0, 1], [0, k], color="C3")
        ax.set_ylim(0, N)
        ax.set_title(f"slope {k}")
    return update, calls


@pytest.fixture(scope="module")
def anim() -> viz.Animation:
    fig = _figure()
    update, _ = _draw_on(fig)
    return viz.animate(fig, update, CAPTIONS, title="slopes", close=False)


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


# ---- frames, captions, the still -----------------------------------------------------------
def test_one_frame_per_caption_each_a_png_of_the_figure() -> None:
    fig = _figure()
    update, calls = _draw_on(fig)
    a = viz.animate(fig, update, CAPTIONS, close=False)
    assert calls == list(range(N))
    assert a.count == len(a) == N and a.captions == CAPTIONS
    sizes = {_png_size(a.frame(k)[1]) for k in range(N)}
    assert sizes == {(400, 250)}                         # 4 x 2.5 in at 100 dpi, every frame
    assert len({a.frame(k)[1] for k in range(N)}) == N  # they differ
    assert a.text.splitlines()[2] == f"frame 3 of {N}: {CAPTIONS[2]}"


def test_frames_can_be_png_bytes_svg_text_or_figures(anim) -> None:
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">'
           '<rect width="120" height="80" fill="#2563eb"/></svg>')
    a = viz.Animation([anim.frame(0)[1], svg, _figure()], ["png", "svg", "figure"])
    assert [a.frame(k)[0] for k in range(3)] == ["image/png", "image/svg+xml", "image/png"]
    assert a.frame_uri(1).startswith("data:image/svg+xml;base64,")
    still = viz.Animation([svg], ["only"]).still_png()  # an SVG frame's still is a PNG
    assert _png_size(still) == (120, 80)


def test_the_still_is_the_last_frame_or_a_grid_of_key_frames(anim) -> None:
    assert anim.still_png() == anim.frame(N - 1)[1]
    assert f"frame {N} of {N}" in anim.alt and CAPTIONS[-1] in anim.alt
    first = viz.Animation([anim.frame(k)[1] for k in range(N)], CAPTIONS, still="first")
    assert first.still_png() == anim.frame(0)[1]
    grid = viz.Animation([anim.frame(k)[1] for k in range(N)], CAPTIONS, still=[0, 2, -1])
    assert grid.key_frames == [0, 2, N - 1]
    width, height = _png_size(grid.still_png())
    assert 800 <= width <= 920 and height > 250          # two 400 px frames a row, two rows
    assert "frames 1, 3, 5 of 5" in grid.alt


@pytest.mark.parametrize("frames, captions, message", [
    ([], [], "at least one frame"),
    ([b"\x89PNG\r\n\x1a\n" + b"0" * 20] * 2, ["one"], "2 frames but 1 captions"),
    ([b"\x89PNG\r\n\x1a\n" + b"0" * 20], [""], "caption 0 must be a non-empty string"),
    ([b"GIF89a"], ["x"], "PNG signature"),
    (["hello"], ["x"], "must be SVG markup"),
    ([42], ["x"], "PNG bytes, SVG text or a matplotlib Figure; got int"),
])
def test_bad_input_names_what_was_wrong(frames, captions, message) -> None:
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        viz.Animation(frames, captions)


def test_bad_still_interval_and_animate_arguments(anim) -> None:
    frames = [anim.frame(k)[1] for k in range(2)]
    for still in (5, [0, 9], "middle", []):
        with pytest.raises(ValueError, match="still must be 'last', 'first'"):
            viz.Animation(frames, ["a", "b"], still=still)
    with pytest.raises(ValueError, match="interval_ms must be a positive int"):
        viz.Animation(frames, ["a", "b"], interval_ms=0)
    with pytest.raises(ValueError, match="no captions"):
        viz.animate(_figure(), lambda k: None, [])
    with pytest.raises(TypeError, match="matplotlib Figure; got list"):
        viz.animate([], lambda k: None, ["a"])
    with pytest.raises(TypeError, match="update must be a function"):
        viz.animate(_figure(), None, ["a"])


# ---- outputs ----------------------------------------------------------------------------
def test_notebook_outputs_are_still_fallback_and_player(anim) -> None:
    outputs = anim.notebook_outputs()
    assert [sorted(data) for data, _ in outputs] == [
        ["image/png", "text/plain"], ["text/html", "text/plain"],
        ["application/javascript", "text/plain"]]
    (png, png_meta), (fallback, _), (script, _) = outputs
    assert base64.b64decode(png["image/png"]) == anim.still_png()
    assert png["text/plain"] == anim.alt and png_meta["image/png"]["width"] == 400
    html = fallback["text/html"]
    assert set(re.findall(r"</?([a-z0-9]+)", html)) <= {"div", "b", "pre"}
    assert f"{RUN_HINT} the {N} frames" in html
    assert "picture above shows frame 5" in html and all(c in html for c in CAPTIONS)
    js = script["application/javascript"]
    assert asset("animation.js") in js and asset("stepper.js") not in js
    assert js.count("data:image/png;base64,") == N


def test_page_is_self_contained_with_the_still_in_its_static_form(anim) -> None:
    html = anim.to_html()
    assert not re.findall(r"https?://", html)            # no network, not even a namespace
    assert "Content-Security-Policy" in html
    static = html.split('<div class="cr-static">', 1)[1].split("</details></div>", 1)[0]
    assert f"{PAGE_HINT} the 5 frames" in static
    assert base64.b64encode(anim.still_png()).decode() in static
    assert all(c in static for c in CAPTIONS)


def test_save_html_writes_the_page(anim, tmp_path) -> None:
    path = anim.save_html(tmp_path / "a.html")
    def same(html: str) -> str:                 # every render: its own id
        return re.sub(r"cr-[0-9a-f]{12}", "cr-ID", html)

    assert same(path.read_text(encoding="utf-8")) == same(anim.to_html())


# ---- in Chromium ----------------------------------------------------------------------------
def _state(page) -> tuple[str, str, str, str]:
    root = page.locator(".cr-anim")
    return (root.get_attribute("data-frame"), root.locator(".cr-title").inner_text(),
            root.locator(".cr-counter").inner_text(), root.locator("img.cr-frame").get_attribute("src"))


def test_player_next_prev_slider_keys_and_play(browser, anim) -> None:
    with served(browser, anim.to_html()) as (page, others):
        page.wait_for_selector(".cr-anim[data-cr-ready]")
        frame, caption, counter, src = _state(page)
        assert (frame, caption, counter) == ("0", CAPTIONS[0], f"frame 1 of {N}")
        assert src == anim.frame_uri(0)
        assert page.locator(".cr-static").count() == 0   # the still gave way to the player
        page.click(".cr-next")
        frame, caption, counter, src2 = _state(page)
        assert (frame, caption, counter) == ("1", CAPTIONS[1], f"frame 2 of {N}")
        assert src2 == anim.frame_uri(1) != src
        page.click(".cr-prev")
        assert _state(page)[0] == "0"
        page.keyboard.press("ArrowRight")                 # the page of one: keys anywhere
        page.keyboard.press("ArrowRight")
        assert _state(page)[:3] == ("2", CAPTIONS[2], f"frame 3 of {N}")
        page.fill(".cr-slider", "4")
        assert _state(page)[2] == f"frame {N} of {N}"
        assert page.evaluate("document.querySelector('img.cr-frame').naturalWidth") == 400
        page.click(".cr-play")                            # from the end: restarts, runs to the end
        assert _state(page)[0] in ("0", "1")
        page.wait_for_selector(".cr-anim[data-frame='4']", timeout=15000)   # (CSP: no eval)
        assert page.locator(".cr-play").inner_text().strip() == "▶ play"
        assert others == []


def test_without_javascript_the_page_shows_the_still_and_captions(browser, anim) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.route("**/*", lambda route: route.fulfill(status=200, body=anim.to_html(),
                                                   content_type="text/html; charset=utf-8")
               if route.request.url.endswith("/a.html") else route.abort())
    page.goto("http://anim.invalid/a.html")
    try:
        img = page.locator(".cr-static img")
        assert img.is_visible() and img.get_attribute("alt") == anim.alt
        assert page.evaluate("document.querySelector('.cr-static img').naturalWidth") == 400
        assert page.locator("button").count() == 0
        assert f"{PAGE_HINT} the 5 frames" in page.inner_text("body")
    finally:
        context.close()


def test_arrow_keys_reach_only_the_focused_view_next_to_a_stepper(browser, anim) -> None:
    trace = viz.trace_backward(neuron()[0])
    html = f"<!DOCTYPE html><html><body>{trace._repr_html_()}{anim._repr_html_()}</body></html>"
    with served(browser, html) as (page, _):
        page.wait_for_selector(".cr-anim[data-cr-ready]")
        page.wait_for_selector(".cr-stepper:not(.cr-anim)[data-cr-ready]")
        page.click(".cr-anim .cr-next")                   # focus stays on the player
        page.keyboard.press("ArrowRight")
        assert page.locator(".cr-anim").get_attribute("data-frame") == "2"   # once per press
        assert page.locator(".cr-stepper:not(.cr-anim)").get_attribute("data-step") == "0"
        page.click(".cr-stepper:not(.cr-anim) .cr-next")
        page.keyboard.press("ArrowRight")
        assert page.locator(".cr-stepper:not(.cr-anim)").get_attribute("data-step") == "2"
        assert page.locator(".cr-anim").get_attribute("data-frame") == "2"


# ---- in exported notebooks ----------------------------------------------------------------
nbformat = pytest.importorskip("nbformat")
nbconvert = pytest.importorskip("nbconvert")


@pytest.fixture(scope="module")
def exported(anim) -> dict[str, str]:
    cell = nbformat.v4.new_code_cell("viz.animate(fig, draw, captions)", outputs=[
        nbformat.v4.new_output("display_data", data=data, metadata=meta)
        for data, meta in anim.notebook_outputs()])
    nb = nbformat.v4.new_notebook(cells=[cell])
    nbformat.validate(nb)
    return {s: nbconvert.HTMLExporter(sanitize_html=s == "sanitised").from_notebook_node(nb)[0]
            for s in ("plain", "sanitised")}


def _open(browser, html: str, javascript: bool):
    context = browser.new_context(java_script_enabled=javascript,
                                  viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.route("**/*", lambda route: route.fulfill(status=200, body=html,
                                                   content_type="text/html; charset=utf-8")
               if route.request.url.endswith("/nb.html") else route.abort())
    page.goto("http://notebook.invalid/nb.html")
    return context, page


def _visible_pngs(page) -> int:
    return page.eval_on_selector_all(
        "img[src^='data:image/png']",
        "els => els.filter(e => e.offsetParent !== null && e.naturalWidth > 0).length")


def test_exported_notebook_plays_with_javascript(browser, exported) -> None:
    context, page = _open(browser, exported["plain"], True)
    try:
        page.wait_for_selector(".cr-anim[data-cr-ready]")
        page.click(".cr-anim .cr-next")
        assert page.locator(".cr-anim .cr-title").inner_text() == CAPTIONS[1]
        page.wait_for_function("document.querySelectorAll('[data-cr-replaced]').length === 2")
        assert "Run this cell" not in page.inner_text("body")
        assert _visible_pngs(page) == 1                   # the player's frame only
    finally:
        context.close()


@pytest.mark.parametrize("kind, javascript", [("plain", False), ("sanitised", True)])
def test_exported_notebook_without_javascript_or_sanitised_shows_the_still(
        browser, exported, kind, javascript) -> None:
    context, page = _open(browser, exported[kind], javascript)
    try:
        text = page.inner_text("body")
        assert f"{RUN_HINT} the 5 frames" in text
        assert all(c in text for c in CAPTIONS)
        for raw in ("<img", "<script", "cr-data", "function (", "&lt;", "data:image"):
            assert raw not in text, raw
        assert _visible_pngs(page) == 1 and page.locator("button").count() == 0
    finally:
        context.close()


def test_notebook_growth_is_the_frames_and_the_still(anim) -> None:
    size = sum(len(str(data)) for data, _ in anim.notebook_outputs())
    frames = sum(len(anim.frame(k)[1]) for k in range(N)) + len(anim.still_png())
    assert size < 1.45 * frames + 20_000                 # base64 (4/3) plus the player's code
    assert size < 200_000
    assert io.BytesIO(anim.still_png()).getbuffer().nbytes < 30_000


def test_a_grid_still_keeps_the_colours_asked_for() -> None:
    """``colors=None`` keeps full colour in the frames and in the grid still alike."""
    import numpy as np
    from PIL import Image

    def frame(k: int) -> Figure:
        fig = Figure(figsize=(2, 2), dpi=50)
        ax = fig.add_subplot()
        ax.imshow(np.linspace(0, 1, 256 * 4).reshape(32, 32) * (k + 1), cmap="viridis")
        return fig

    full = viz.Animation([frame(k) for k in range(3)], ["a", "b", "c"], still=[0, 2],
                         colors=None)
    reduced = viz.Animation([frame(k) for k in range(3)], ["a", "b", "c"], still=[0, 2])
    colours = [len(Image.open(io.BytesIO(a.still_png())).convert("RGB").getcolors(1 << 24))
               for a in (full, reduced)]
    assert colours[0] > 128 >= colours[1]
