"""One laid-out SVG, many steps: per-step SVG frames and the HTML stepper.

The graph is rendered by Graphviz once. A step only changes CSS classes (active node and
edges, nodes still pending) and the text of the ``data``/``grad`` lines, so every frame and
the HTML stepper reuse that one layout; the stepper's JavaScript toggles the classes.

Everything the stepper shows works without its script too. Its markup is a static form (the
final frame as a PNG with alt text, the steps as text, a line saying how to get the
interactive view); the interactive part travels as JSON inside a ``<script>`` and the script
builds it, so sanitisers (which drop scripts) leave the static form clean. In a notebook
(:func:`notebook_outputs`) the static form is split into outputs that every client and
every sanitiser keeps (a PNG image, an HTML fragment of plain ``<div>``/``<b>``/``<pre>``)
and the interactive part is a JavaScript output that hides them when it runs.
"""
from __future__ import annotations

import base64
import copy
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from ..drawing import render as _render
from .assets import asset, mount_script, script_json, start_script

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_TEXT = "text"
_G = "g"


@dataclass
class Frame:
    """One step as the viewer shows it.

    ``active``/``targets``/``edges`` are ids of SVG groups (nodes and edges) to highlight;
    ``texts`` maps a text key (``"v3:grad"``) to its new text from this step on. ``inside``
    (a collapsed step: a neuron, a layer) lists the positions in :attr:`Steps.inner` of the
    steps it groups, in the order the pass made them, which the stepper can open. (They need
    not be consecutive: the pass may make another module's steps in between.)
    """

    title: str
    equation: str
    active: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    edges: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    inside: tuple[int, ...] | None = None


@dataclass
class Steps:
    """What the frames need beyond the layout: the texts before step 0, the step from which
    each node/edge is no longer pending, and the frames.

    A collapsed trace also carries ``inner``: the finer steps its frames group (each frame's
    ``inside``), with their own ``inner_reveal`` (in ``inner``'s numbering); the stepper opens a
    frame into them. Texts accumulate the same either way: a frame's ``texts`` are those of
    its inner steps together."""

    base_texts: dict[str, str]
    reveal: dict[str, int]
    frames: list[Frame]
    inner: list[Frame] | None = None
    inner_reveal: dict[str, int] | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"base": self.base_texts, "reveal": self.reveal,
                                "frames": [_frame_json(f) for f in self.frames]}
        if self.inner is not None:
            data["inner"] = [_frame_json(f) for f in self.inner]
            data["ireveal"] = self.inner_reveal or {}
        return data


def _frame_json(f: Frame) -> dict[str, Any]:
    out = {"title": f.title, "equation": f.equation, "active": f.active, "targets": f.targets,
           "edges": f.edges, "texts": f.texts}
    if f.inside is not None:
        out["inside"] = list(f.inside)
    return out


def prepare_svg(svg: str) -> ET.Element:
    """Parse Graphviz's SVG and tag the ``data``/``grad`` lines of value boxes with
    ``data-cr="<id>:data"`` / ``"<id>:grad"`` so a step can rewrite them."""
    root = ET.fromstring(svg.encode("utf-8"))
    _strip_namespaces(root)
    for group in root.iter(_G):
        if "node" not in (group.get("class") or "").split():
            continue
        gid = group.get("id") or ""
        texts = [t for t in group.findall(_TEXT)]
        for slot, prefixes in (("data", ("data ",)), ("grad", ("grad ", "tangent "))):
            for text in reversed(texts[1:]):            # the first line is the name
                if (text.text or "").startswith(prefixes):
                    text.set("data-cr", f"{gid}:{slot}")
                    break
    root.set("class", ((root.get("class") or "") + " cr-svg").strip())
    return root


def _strip_namespaces(root: ET.Element) -> None:
    """Plain tag names with ``xmlns`` on the root, so the SVG serialises without prefixes
    (as inline SVG in HTML expects)."""
    for element in root.iter():
        if element.tag.startswith("{"):
            element.tag = element.tag.split("}", 1)[1]
        for key in [k for k in element.attrib if k.startswith("{")]:
            ns, local = key[1:].split("}", 1)
            prefix = {XLINK_NS: "xlink:", "http://www.w3.org/XML/1998/namespace": "xml:"}.get(ns, "")
            element.set(prefix + local, element.attrib.pop(key))
    root.set("xmlns", SVG_NS)
    root.set("xmlns:xlink", XLINK_NS)


def _add_class(element: ET.Element, name: str) -> None:
    element.set("class", ((element.get("class") or "") + " " + name).strip())


def _serialize(root: ET.Element) -> str:
    return ET.tostring(root, encoding="unicode")


def render_frames(svg: str, steps: Steps, only_last: bool = False) -> list[str]:
    """One standalone SVG string per frame, each a restyled copy of the one layout ``svg``
    (``only_last``: just the last frame's, as a one-item list)."""
    base = prepare_svg(svg)
    style = ET.Element("style")
    style.text = asset("step.css")
    base.insert(0, style)
    texts = dict(steps.base_texts)
    out = []
    last = len(steps.frames) - 1
    for k, frame in enumerate(steps.frames):
        texts.update(frame.texts)
        if only_last and k < last:
            continue
        root = copy.deepcopy(base)
        by_id = {g.get("id"): g for g in root.iter(_G) if g.get("id")}
        for item, start in steps.reveal.items():
            if start > k and item in by_id:
                _add_class(by_id[item], "cr-pending")
        for cls, ids in (("cr-active", frame.active + frame.edges), ("cr-target", frame.targets)):
            for item in ids:
                if item in by_id:
                    _add_class(by_id[item], cls)
        for text in root.iter(_TEXT):
            key = text.get("data-cr")
            if key in texts:
                text.text = texts[key]
                if key in frame.texts:
                    _add_class(text, "cr-changed")
        out.append(_serialize(root))
    return out





# The stepper's behaviour; ``CR_INIT(root)`` turns one ``.cr-stepper`` element (holding its
# ``script.cr-data`` JSON) into the interactive view. Keys: only ArrowLeft/ArrowRight while
# the stepper has focus; every other key (Ctrl+S, Shift+Enter, ...) goes on to the page.

# Run in a notebook's JavaScript output: build the steppers inside the output, then hide the
# static outputs shown before it (the fallback text, marked by id, and the pictures before it).


EQ_MAX_LINES = 8
"""A collapsed trace's equation box grows to at most this many lines, then scrolls (a
neuron with sixteen weights would push the graph below the fold of a 700 px window)."""

FALLBACK_PNG_PIXELS = 4_000_000
"""The no-JavaScript picture of a stepper has at most this many pixels."""

RUN_HINT = ("The interactive view is not running: run this cell, or trust the notebook (Jupyter: "
            "“Trust Notebook” in the File menu or the command palette; a terminal: "
            "jupyter trust NOTEBOOK.ipynb), to step through")
PAGE_HINT = "The interactive view needs JavaScript: turn it on to step through"


def steps_phrase(count: int) -> str:
    """How every view words a stepper's length: ``"steps 0 to N"`` (step 0 is the first
    frame, the seed of a backward pass; the counter reads ``step k of N``)."""
    return f"steps 0 to {count - 1}" if count > 1 else "step 0"


TARGET_WORDS = "receives gradient"
"""The legend's words for the purple outline (the nodes a step sends gradient to)."""


def new_id() -> str:
    """A fresh element id: every render gets its own, so one trace shown twice works twice."""
    return "cr-" + uuid.uuid4().hex[:12]


class Stepper:
    """One trace ready to show: a laid-out ``svg``, its :class:`Steps`, a ``title``, the
    steps as plain ``text`` (the no-JavaScript form), the ``alt`` text of its picture and the
    legend's words for the purple outline (``target_words``)."""

    def __init__(self, svg: str, steps: Steps, *, title: str = "chainrule", text: str = "",
                 alt: str | None = None, target_words: str = TARGET_WORDS) -> None:
        if not steps.frames:
            raise ValueError("a stepper needs at least one step")
        self.svg, self.steps, self.title, self.text = svg, steps, title, text
        self.alt = alt or (f"{title}: the graph at step {len(steps.frames) - 1}, the last of "
                           f"{steps_phrase(len(steps.frames))}, every value and gradient filled in")
        self.target_words = target_words
        self._png: bytes | None = None
        self._picture: tuple[str, bytes] | None = None

    @property
    def count(self) -> int:
        """The number of steps."""
        return len(self.steps.frames)

    def final_png(self) -> bytes:
        """The last frame as PNG, on white (cached): at twice the width it is shown at
        (:meth:`shown_width`), sharp on a high-density screen, and at most
        ``FALLBACK_PNG_PIXELS`` pixels (a large graph's picture stays quick to rasterise and
        small to embed)."""
        if self._png is None:
            width, height = _render.svg_size(self.svg)
            scale = min(2.0 * self.shown_width() / width,
                        (FALLBACK_PNG_PIXELS / (width * height)) ** 0.5)
            self._png = _render.svg_to_png(render_frames(self.svg, self.steps, only_last=True)[0],
                                           scale=scale)
        return self._png

    def final_picture(self) -> tuple[str, bytes]:
        """The last frame as the still picture for clients without JavaScript, as ``(media
        type, bytes)``: :meth:`final_png` where a PNG can be made
        (:func:`viz.drawing.render.can_make_png`), else (Pyodide) the frame's SVG sized to
        :meth:`shown_width` and labelled with :attr:`alt` (cached)."""
        if self._picture is None:
            if _render.can_make_png():
                self._picture = ("image/png", self.final_png())
            else:
                svg = render_frames(self.svg, self.steps, only_last=True)[0]
                svg = _render.sized_svg(svg, *_render.fitted_size(svg), self.alt)
                self._picture = ("image/svg+xml", svg.encode("utf-8"))
        return self._picture

    def shown_width(self) -> float:
        """The width (CSS px) the graph is shown at in a default notebook column."""
        return _render.fitted_size(self.svg)[0]

    def readable_width(self) -> float:
        """The narrowest width (CSS px) at which the graph's smallest text is still
        ``MIN_TEXT_PX``: narrower views scroll instead of shrinking further."""
        width, _ = _render.svg_size(self.svg)
        return _render.fit_width(width, _render.min_font_px(self.svg), width=0.0)

    def equation_lines(self) -> int:
        """Lines of the longest step's equation (the equation box keeps that height)."""
        return max(frame.equation.count("\n") + 1 for frame in self.steps.frames)

    def picture_html(self) -> str:
        """The final frame as an ``<img>`` (a PNG data URI, or SVG where no PNG can be made:
        :meth:`final_picture`) with alt text, at its shown width."""
        kind, picture = self.final_picture()
        data = base64.b64encode(picture).decode("ascii")
        return (f'<img src="data:{kind};base64,{data}" alt="{escape(self.alt)}" '
                f'width="{round(self.shown_width())}">')

    def static_html(self, hint: str = RUN_HINT) -> str:
        """The form shown without JavaScript: one line, the final frame, the steps as text."""
        return ('<div class="cr-static">'
                f'<p class="cr-hint"><b>▶ {escape(hint)} {steps_phrase(self.count)}.</b> '
                f"The picture shows step {self.count - 1}, the last.</p>\n"
                f"{self.picture_html()}\n"
                f"<details><summary>{steps_phrase(self.count).capitalize()} as text</summary>"
                f"<pre>{escape(self.text)}</pre></details></div>")

    def ui_html(self, min_lines: int | None = None) -> str:
        """The interactive view's markup (built by the script from the JSON data)."""
        root = prepare_svg(self.svg)
        width, height = _render.svg_size(self.svg)
        root.set("width", f"{width:.2f}px")
        root.set("height", f"{height:.2f}px")
        readable = self.readable_width()
        if readable < width:
            root.set("style", f"min-width: {readable:.0f}px")
        root.set("role", "img")
        root.set("aria-label", self.alt)
        lines = max(min_lines or 0, self.equation_lines())
        capped = self.steps.inner is not None and lines > EQ_MAX_LINES
        if capped:
            lines = EQ_MAX_LINES
        last = self.count - 1
        return ('<div class="cr-bar">'
                '<button type="button" class="cr-prev" title="previous step (←)">◀ prev</button>'
                '<button type="button" class="cr-play" title="play">▶ play</button>'
                '<button type="button" class="cr-next" title="next step (→)">next ▶</button>'
                + ('<button type="button" class="cr-open" aria-expanded="false" hidden '
                   'title="open this step into the steps inside it (↓); close it again (↑)">'
                   '▾ open</button>' if self.steps.inner is not None else "") +
                f'<input type="range" class="cr-slider" min="0" max="{last}" step="1" value="0" '
                'aria-label="step">'
                '<span class="cr-counter"></span>'
                '<button type="button" class="cr-zoom" aria-pressed="false" '
                'title="show the graph at full size (scrolls); it is fitted to the width now">'
                'full size</button></div>\n'
                '<div class="cr-legend"><span class="cr-key cr-key-active"></span>this step '
                f'<span class="cr-key cr-key-target"></span>{escape(self.target_words)} '
                '<span class="cr-key cr-key-pending"></span>not reached yet '
                '<b class="cr-key-changed">bold red</b> number just changed</div>\n'
                '<div class="cr-title" aria-live="polite"></div>\n'
                f'<div class="cr-eq" style="min-height: calc({lines} * 1.45em + 1.1em)'
                + (f'; max-height: calc({EQ_MAX_LINES} * 1.45em + 1.1em); overflow-y: auto" '
                   'tabindex="0"' if capped else '"') + '></div>\n'
                f'<div class="cr-view">{_serialize(root)}</div>')

    def fragment(self, uid: str | None = None, *, page: bool = False,
                 document_keys: bool = False, static: bool = True, script: bool = True,
                 min_lines: int | None = None, hint: str = RUN_HINT) -> str:
        """The stepper as one HTML element: the static form (``static``), the interactive
        view's data, and (``script``) the script that builds it. ``document_keys``: the arrow
        keys step it wherever the focus is (a page with one stepper).

        The interactive view's markup travels inside the JSON data, where sanitisers drop it
        with the script; on a ``page`` (never sanitised) it is a ``<template>``.
        """
        uid = uid or new_id()
        ui = self.ui_html(min_lines)
        data = script_json({"css": asset("step.css") + asset("stepper.css"),
                            **({} if page else {"ui": ui}),
                                 **self.steps.as_json()})
        template = f'<template class="cr-ui">{ui}</template>\n' if page else ""
        run = (f"<script>{start_script('stepper.js', 'crInitStepper', uid)}</script>\n"
               if script else "")
        return (f'<div class="cr-stepper" id="{uid}" data-standalone="{1 if document_keys else 0}">\n'
                + (self.static_html(hint) + "\n" if static else "")
                + template
                + f'<script type="application/json" class="cr-data">{data}</script>\n'
                + run + "</div>")


def stepper_fragment(svg: str, steps: Steps, *, standalone: bool = False,
                     title: str = "chainrule", text: str = "", alt: str | None = None) -> str:
    """The stepper as an HTML fragment: a static form (final frame, steps as text) that the
    script replaces with the interactive view."""
    return Stepper(svg, steps, title=title, text=text, alt=alt).fragment(
        page=standalone, document_keys=standalone, hint=PAGE_HINT if standalone else RUN_HINT)




def page_html(title: str, body: str) -> str:
    """The one HTML page skeleton every ``viz`` page uses: self-contained (a Content Security
    Policy allows only inline styles, inline scripts and data: images: no network), light or
    dark following the reader's system setting, ``title`` as the heading, then ``body``."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
            f"<title>{escape(title)}</title>\n<style>{asset('page.css')}</style>\n</head>\n<body>\n"
            f"<h3>{escape(title)}</h3>\n{body}\n</body>\n</html>\n")


Bundle = tuple[dict[str, Any], dict[str, Any]]


def notebook_outputs(steppers: list[Stepper], body: str, fallback: str, uid: str, *,
                     player: tuple[str, str] = ("stepper.js", "crInitStepper")) -> list[Bundle]:
    """The display outputs ``(data, metadata)`` of one stepper view in a notebook (or of
    another player built the same way, whose start-up script ``init_js`` replaces the
    stepper's: ``player`` names its script file and start function).

    1. per stepper, its final frame as ``image/png`` (``final_picture()``): every client shows
       it (untrusted notebooks, GitHub, sanitised exports); where no PNG can be made
       (Pyodide), as ``image/svg+xml``;
    2. ``fallback`` (HTML of plain ``div``/``b``/``pre`` that every sanitiser keeps as is)
       with the run-or-trust line and the steps as text, in an element ``id="cr-fb-<uid>"``;
    3. ``application/javascript`` (run only where the notebook is trusted and JavaScript is
       on) that builds ``body`` (steppers without their static form) in its own output and
       hides outputs 1 and 2.
    """
    outputs: list[Bundle] = []
    for stepper in steppers:
        kind, picture = stepper.final_picture()
        if kind == "image/png":
            outputs.append(({"image/png": base64.b64encode(picture).decode("ascii"),
                             "text/plain": stepper.alt},
                            {"image/png": {"width": round(stepper.shown_width())}}))
        else:
            outputs.append(({kind: picture.decode("utf-8"), "text/plain": stepper.alt}, {}))
    outputs.append(({"text/html": f'<div class="cr-fallback" id="cr-fb-{uid}">{fallback}</div>',
                     "text/plain": fallback_text(steppers)}, {}))
    script = mount_script(*player, body, f"cr-fb-{uid}", len(steppers))
    outputs.append(({"application/javascript": script, "text/plain": ""}, {}))
    return outputs


def fallback_html(steppers: list[Stepper], lead: str = "") -> str:
    """The notebook fallback's HTML, in tags that sanitisers keep (``div``, ``b``, ``pre``):
    the run-or-trust line, then each stepper's steps as text."""
    which = (steps_phrase(steppers[0].count) if len(steppers) == 1 else
             " and ".join(steps_phrase(s.count) for s in steppers))
    where = "picture above shows" if len(steppers) == 1 else "pictures above show"
    parts = [f"<div><b>▶ {escape(RUN_HINT)} {which}.</b> "
             f"The {where} the last step.</div>"]
    if lead:
        parts.append(f"<div>{lead}</div>")
    for stepper in steppers:
        if len(steppers) > 1:
            parts.append(f"<div><b>{escape(stepper.title)}</b></div>")
        parts.append(f"<pre>{escape(stepper.text)}</pre>")
    return "\n".join(parts)


def fallback_text(steppers: list[Stepper]) -> str:
    """The plain-text form: each stepper's title and steps."""
    return "\n\n".join(f"{s.title}\n{s.text}" for s in steppers)


def display_outputs(outputs: list[Bundle]) -> None:
    """Show ``outputs`` (from :func:`notebook_outputs`) in the running IPython kernel."""
    from IPython.display import display

    for data, metadata in outputs:
        display(data, metadata=metadata, raw=True)


def save_text(path: str | Path, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` and return the path."""
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    return path
