"""Animations: pictures over training (or construction) steps, one caption per frame.

An :class:`Animation` is a list of frames (matplotlib figures, PNG bytes or SVG text), a
caption for each, and a still picture for clients that run no JavaScript. It shows

- in a notebook, as the stepper's three outputs (:func:`viz.browser.stepper.notebook_outputs`): the
  still as ``image/png`` (every client keeps it: untrusted notebooks, GitHub, nbconvert
  exports, sanitisers; SVG where no PNG can be made, as in Pyodide), the captions as plain
  text with the "run this cell, or trust the notebook" line, and a JavaScript output that
  builds the player and hides both;
- as one self-contained HTML page (:meth:`Animation.save_html`, the stepper's
  :func:`viz.browser.stepper.page_html` skeleton: no network, frames as ``data:`` URIs) whose static
  form (the still and the captions) is what shows with JavaScript off.

The player has ◀ prev / ▶ play / next ▶, a slider, the counter "frame k of N" (k from 1)
and the arrow keys while it has focus, routed like the stepper's (one capture listener on
``window``, so the notebook's own shortcuts still work). Frames are shown at their pixel
size, shrunk to the column.

Make one from a figure you update (as matplotlib's ``FuncAnimation``)::

    fig, ax = plt.subplots()
    def draw(k):
        ax.clear(); ax.plot(xs[: k + 1])
    viz.animate(fig, draw, [f"after {k} steps" for k in range(10)])

or from frames you already have: ``viz.Animation([png0, png1], ["start", "end"])``.
"""
from __future__ import annotations

import base64
import io
import textwrap
from html import escape
from pathlib import Path
from typing import Any, Callable, Sequence, Union

from ..drawing import render as _render
from .stepper import (PAGE_HINT, RUN_HINT, display_outputs, new_id, notebook_outputs, page_html,
                      save_text)
from .assets import asset, script_json, start_script

FrameLike = Union[bytes, str, Any]
"""A frame: PNG bytes, SVG text, or a matplotlib ``Figure`` (rendered to PNG)."""

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DEFAULT_DPI = 100
DEFAULT_COLORS = 128
"""Frames from figures are reduced to this many colours (no dithering): a plot has few,
and a palette PNG is about a third of the full-colour size."""

# The stepper's look (theme colours, buttons, slider, counter, title) for the player's root,
# plus the picture.

# The player. ``root`` is one ``.cr-anim`` element holding its ``script.cr-data`` JSON
# ({css, ui, frames: [data URIs], captions, interval}). The arrow keys reach it through the
# one window capture listener the stepper also uses (``crStepperKeys``/``crOnKey``).


def _png_of(frame: FrameLike, dpi: int, colors: int | None) -> tuple[str, bytes]:
    """(media type, bytes) of one frame; a figure is rendered to PNG at ``dpi``."""
    if isinstance(frame, (bytes, bytearray)):
        if not bytes(frame[:8]) == _PNG_MAGIC:
            raise ValueError("a frame given as bytes must be a PNG image (it does not start "
                             "with the PNG signature)")
        return "image/png", bytes(frame)
    if isinstance(frame, str):
        head = frame.lstrip()[:200]
        if not (head.startswith("<svg") or (head.startswith("<?xml") and "<svg" in frame)):
            raise ValueError("a frame given as text must be SVG markup (starting with <svg or "
                             f"<?xml); got {head[:40]!r}")
        return "image/svg+xml", frame.encode("utf-8")
    if hasattr(frame, "savefig"):
        buffer = io.BytesIO()
        frame.savefig(buffer, format="png", dpi=dpi)
        return "image/png", _quantize(buffer.getvalue(), colors)
    raise TypeError(f"a frame must be PNG bytes, SVG text or a matplotlib Figure; got "
                    f"{type(frame).__name__}")


def _quantize(png: bytes, colors: int | None) -> bytes:
    """``png`` as a palette PNG of at most ``colors`` colours (unchanged without Pillow)."""
    if not colors:
        return png
    try:
        from PIL import Image
    except ImportError:                         # pragma: no cover - Pillow comes with matplotlib
        return png
    image = Image.open(io.BytesIO(png)).convert("RGB")
    small = image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT,
                           dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _pixel_size(kind: str, data: bytes) -> tuple[int, int]:
    """Width and height in CSS px: a PNG's pixels, an SVG's own size."""
    if kind == "image/png":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    width, height = _render.svg_size(data.decode("utf-8"))
    return round(width), round(height)


class Animation:
    """Frames with one caption each, a still picture for clients without JavaScript, and the
    player (notebook outputs, HTML page).

    ``frames``: PNG bytes, SVG text or matplotlib figures (rendered at ``dpi``, reduced to
    ``colors`` colours; ``None`` keeps full colour). ``captions``: one non-empty string per
    frame, saying what that frame shows. ``still``: the fallback picture: ``"last"`` (the
    final frame), ``"first"``, a frame index, or a list of indices for a grid of those key
    frames with their captions (needs matplotlib). ``interval_ms``: the time per frame when
    playing. ``alt``: the still's alt text (by default the title and what the still shows).
    """

    def __init__(self, frames: Sequence[FrameLike], captions: Sequence[str], *,
                 title: str = "animation", still: str | int | Sequence[int] = "last",
                 interval_ms: int = 800, alt: str | None = None, dpi: int = DEFAULT_DPI,
                 colors: int | None = DEFAULT_COLORS) -> None:
        frames, captions = list(frames), list(captions)
        if not frames:
            raise ValueError("an animation needs at least one frame; got none")
        if len(captions) != len(frames):
            raise ValueError(f"an animation needs one caption per frame: {len(frames)} frames "
                             f"but {len(captions)} captions")
        for k, caption in enumerate(captions):
            if not isinstance(caption, str) or not caption.strip():
                raise ValueError(f"caption {k} must be a non-empty string saying what frame "
                                 f"{k + 1} shows; got {caption!r}")
        if not isinstance(interval_ms, int) or interval_ms <= 0:
            raise ValueError(f"interval_ms must be a positive int (milliseconds per frame); "
                             f"got {interval_ms!r}")
        self.title, self.captions, self.interval_ms = title, captions, interval_ms
        self._colors = colors
        self._frames = [_png_of(f, dpi, colors) for f in frames]
        self.key_frames = self._key_frames(still)
        self.alt = alt or self._default_alt()
        self._still: tuple[str, bytes] | None = None

    # ---- what it holds ------------------------------------------------------------------
    @property
    def count(self) -> int:
        """The number of frames."""
        return len(self._frames)

    def __len__(self) -> int:
        return self.count

    def __repr__(self) -> str:
        return f"<viz.Animation {self.title!r}: {self.count} frames>"

    def frame(self, k: int) -> tuple[str, bytes]:
        """Frame ``k`` (from 0) as ``(media type, bytes)``: ``image/png`` or ``image/svg+xml``."""
        return self._frames[k]

    def frame_uri(self, k: int) -> str:
        """Frame ``k`` as a ``data:`` URI."""
        kind, data = self._frames[k]
        return f"data:{kind};base64," + base64.b64encode(data).decode("ascii")

    @property
    def text(self) -> str:
        """Every frame's caption as plain text, one per line ("frame k of N: ...")."""
        return "\n".join(f"frame {k + 1} of {self.count}: {c}" for k, c in enumerate(self.captions))

    def _key_frames(self, still: str | int | Sequence[int]) -> list[int]:
        if still == "last":
            return [self.count - 1]
        if still == "first":
            return [0]
        picks = [still] if isinstance(still, int) else list(still) if not isinstance(still, str) else None
        if not picks or not all(isinstance(k, int) and -self.count <= k < self.count for k in picks):
            raise ValueError(f"still must be 'last', 'first', a frame index or a list of frame "
                             f"indices in range({self.count}); got {still!r}")
        return [k % self.count for k in picks]

    def _default_alt(self) -> str:
        if len(self.key_frames) == 1:
            k = self.key_frames[0]
            return f"{self.title}: frame {k + 1} of {self.count}. {self.captions[k]}"
        listed = ", ".join(str(k + 1) for k in self.key_frames)
        return f"{self.title}: frames {listed} of {self.count}, side by side, each with its caption."

    # ---- the still ------------------------------------------------------------------------
    def still_picture(self) -> tuple[str, bytes]:
        """The fallback picture as ``(media type, bytes)``: the chosen frame, or the grid of
        key frames (cached). PNG, except where no PNG can be made
        (:func:`viz.drawing.render.can_make_png` false: Pyodide) and the frames are SVG: then
        the SVG frame, or a grid drawn as SVG."""
        if self._still is None:
            if len(self.key_frames) == 1:
                kind, data = self._frames[self.key_frames[0]]
                self._still = (kind, data) if kind == "image/png" else _render.still_picture(
                    data.decode("utf-8"), 1.0)
            elif _render.can_make_png() or all(self._frames[k][0] == "image/png"
                                               for k in self.key_frames):
                self._still = ("image/png", self._grid())
            else:
                self._still = ("image/svg+xml", self._svg_grid().encode("utf-8"))
        return self._still

    final_picture = still_picture    # the name viz.browser.stepper.notebook_outputs asks for

    def still_png(self) -> bytes:
        """The fallback picture as PNG (:meth:`still_picture`); raises ``RuntimeError`` saying
        why where it can only be SVG."""
        kind, data = self.still_picture()
        if kind != "image/png":
            _render.require_png()
        return data

    def _as_png(self, k: int) -> bytes:
        kind, data = self._frames[k]
        return data if kind == "image/png" else _render.svg_to_png(data.decode("utf-8"), 1.0)

    def _grid(self) -> bytes:
        """The key frames, each under its caption, at full size as many a row as fit a
        notebook column (a frame wider than the column: one a row, shrunk to fit)."""
        import matplotlib.image as mpimg
        from matplotlib.figure import Figure

        picks = self.key_frames
        width, height = _pixel_size(*self._frames[picks[0]])
        column = _render.NOTEBOOK_WIDTH_PX
        cols = max(1, min(len(picks), int(column // width)))
        rows = -(-len(picks) // cols)
        scale = min(1.0, column / (cols * width))
        inches = (cols * width * scale / 100, rows * (height * scale + 60) / 100)
        figure = Figure(figsize=inches, dpi=100)
        for i, k in enumerate(picks):
            ax = figure.add_subplot(rows, cols, i + 1)
            ax.imshow(mpimg.imread(io.BytesIO(self._as_png(k)), format="png"))
            ax.set_axis_off()
            words = textwrap.fill(f"frame {k + 1} of {self.count}: {self.captions[k]}",
                                  max(30, int(width * scale / 6.5)))
            ax.set_title(words, fontsize=8, loc="left")
        figure.tight_layout(pad=0.4)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
        return _quantize(buffer.getvalue(), self._colors)     # as the frames were

    def _svg_grid(self) -> str:
        """:meth:`_grid` as SVG, for SVG frames where nothing rasterises them: each key frame
        (an ``<image>`` of the frame's SVG) under its caption, as many a row as fit a
        notebook column."""
        picks = self.key_frames
        width, height = _pixel_size(*self._frames[picks[0]])
        column = _render.NOTEBOOK_WIDTH_PX
        cols = max(1, min(len(picks), int(column // width)))
        scale = min(1.0, column / (cols * width))
        cell_w, frame_h, line_h = width * scale, height * scale, 13
        cells, total_h = [], 0.0
        for i, k in enumerate(picks):
            lines = textwrap.wrap(f"frame {k + 1} of {self.count}: {self.captions[k]}",
                                  max(30, int(cell_w / 6.5)))
            row, col = divmod(i, cols)
            top = row * (frame_h + line_h * 3 + 8)
            text = "".join(f'<tspan x="{col * cell_w:.1f}" dy="{line_h}">{escape(t)}</tspan>'
                           for t in lines[:3])
            cells.append(f'<text y="{top:.1f}" font-size="11" font-family="sans-serif">{text}</text>'
                         f'<image x="{col * cell_w:.1f}" y="{top + line_h * 3 + 4:.1f}" '
                         f'width="{cell_w:.1f}" height="{frame_h:.1f}" href="{self.frame_uri(k)}"/>')
            total_h = top + frame_h + line_h * 3 + 8
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{cols * cell_w:.0f}px" '
                f'height="{total_h:.0f}px" viewBox="0 0 {cols * cell_w:.1f} {total_h:.1f}">'
                f'<rect width="100%" height="100%" fill="#ffffff"/>{"".join(cells)}</svg>')

    def shown_width(self) -> float:
        """The width (CSS px) the still is shown at: its pixel width, at most a column."""
        return min(float(_pixel_size(*self.still_picture())[0]), _render.NOTEBOOK_WIDTH_PX)

    # ---- HTML ---------------------------------------------------------------------------
    def _width(self) -> int:
        return max(_pixel_size(*f)[0] for f in self._frames)

    def static_html(self, hint: str = RUN_HINT) -> str:
        """The form shown without JavaScript: one line, the still, the captions as text."""
        kind, still = self.still_picture()
        data = base64.b64encode(still).decode("ascii")
        return ('<div class="cr-static">'
                f'<p class="cr-hint"><b>{escape(hint)} the {self.count} frames.</b> '
                f"{escape(self._still_says())}</p>\n"
                f'<img src="data:{kind};base64,{data}" alt="{escape(self.alt)}" '
                f'width="{round(self.shown_width())}">\n'
                f"<details><summary>The {self.count} frames as text</summary>"
                f"<pre>{escape(self.text)}</pre></details></div>")

    def _still_says(self) -> str:
        if len(self.key_frames) == 1:
            return f"The picture shows frame {self.key_frames[0] + 1}."
        return ("The picture shows frames " + ", ".join(str(k + 1) for k in self.key_frames)
                + ".")

    def ui_html(self) -> str:
        """The player's markup (the script fills in the frame, caption and counter)."""
        return ('<div class="cr-bar">'
                '<button type="button" class="cr-prev" title="previous frame (←)">◀ prev</button>'
                '<button type="button" class="cr-play" title="play">▶ play</button>'
                '<button type="button" class="cr-next" title="next frame (→)">next ▶</button>'
                f'<input type="range" class="cr-slider" min="0" max="{self.count - 1}" step="1" '
                'value="0" aria-label="frame">'
                '<span class="cr-counter"></span></div>\n'
                '<div class="cr-title" aria-live="polite"></div>\n'
                f'<div class="cr-view"><img class="cr-frame" width="{self._width()}" alt=""></div>')

    def fragment(self, uid: str | None = None, *, static: bool = True, script: bool = True,
                 document_keys: bool = False, hint: str = RUN_HINT) -> str:
        """The animation as one HTML element: the static form (``static``), the player's
        data (markup, frames, captions) as JSON, and (``script``) the script that builds it.
        ``document_keys``: the arrow keys step it wherever the focus is (a page of one)."""
        uid = uid or new_id()
        data = script_json({"css": asset("stepper.css") + asset("animation.css"),
                            "ui": self.ui_html(), "alt": self.alt,
                                 "frames": [self.frame_uri(k) for k in range(self.count)],
                                 "captions": self.captions, "interval": self.interval_ms})
        run = (f"<script>{start_script('animation.js', 'crInitAnimation', uid)}</script>\n"
               if script else "")
        return (f'<div class="cr-stepper cr-anim" id="{uid}" '
                f'data-standalone="{1 if document_keys else 0}">\n'
                + (self.static_html(hint) + "\n" if static else "")
                + f'<script type="application/json" class="cr-data">{data}</script>\n'
                + run + "</div>")

    def to_html(self, uid: str | None = None) -> str:
        """A self-contained HTML page (no network): the player, and without JavaScript the
        still and the captions. ``uid``: the player's element id (default: a fresh one; a
        fixed one makes the page the same on every run)."""
        return page_html(self.title, self.fragment(uid, document_keys=True, hint=PAGE_HINT))

    def save_html(self, path: str | Path, uid: str | None = None) -> Path:
        """Write :meth:`to_html` to ``path``."""
        return save_text(path, self.to_html(uid))

    def fallback_html(self) -> str:
        """The notebook fallback, in tags every sanitiser keeps (``div``, ``b``, ``pre``)."""
        return (f"<div><b>▶ {escape(RUN_HINT)} the {self.count} frames.</b> "
                f"{escape(self._still_says().replace('picture shows', 'picture above shows'))}"
                f"</div>\n<pre>{escape(self.text)}</pre>")

    def notebook_outputs(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The notebook outputs (see :func:`viz.browser.stepper.notebook_outputs`): the still as PNG,
        the captions as text with how to get the player, and the player as JavaScript (the
        stepper's mount script, building this player instead of a stepper)."""
        uid = new_id()
        return notebook_outputs([self], self.fragment(uid, static=False, script=False),
                                self.fallback_html(), uid,
                                player=("animation.js", "crInitAnimation"))

    def _ipython_display_(self) -> None:
        display_outputs(self.notebook_outputs())

    def _repr_html_(self) -> str:
        return self.fragment()

    def _repr_png_(self) -> bytes | None:
        kind, data = self.still_picture()
        return data if kind == "image/png" else None


def animate(figure: Any, update: Callable[[int], Any], captions: Sequence[str], *,
            close: bool = True, **options: Any) -> Animation:
    """Frames from one matplotlib ``figure`` that ``update(k)`` redraws for frame ``k``
    (as matplotlib's ``FuncAnimation``): for ``k = 0 .. len(captions) - 1``, call
    ``update(k)`` and keep the figure as PNG. ``close``: close the figure afterwards, so the
    notebook does not show it once more. ``options`` go to :class:`Animation` (``title``,
    ``still``, ``interval_ms``, ``alt``, ``dpi``, ``colors``)."""
    if not hasattr(figure, "savefig"):
        raise TypeError(f"animate() draws on a matplotlib Figure; got {type(figure).__name__}")
    if not callable(update):
        raise TypeError(f"update must be a function update(k) that redraws frame k; got "
                        f"{type(update).__name__}")
    captions = list(captions)
    if not captions:
        raise ValueError("animate() needs one caption per frame; got no captions (no frames)")
    dpi, colors = options.pop("dpi", DEFAULT_DPI), options.pop("colors", DEFAULT_COLORS)
    frames = []
    for k in range(len(captions)):
        update(k)
        frames.append(_png_of(figure, dpi, colors)[1])
    if close:
        import matplotlib.pyplot as plt
        plt.close(figure)
    return Animation(frames, captions, **options)
