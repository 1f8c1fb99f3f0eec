"""One laid-out SVG, many steps: per-step SVG frames and the self-contained HTML stepper.

The graph is rendered by Graphviz once. A step only changes CSS classes (active node and
edges, nodes still pending) and the text of the ``data``/``grad`` lines, so every frame and
the HTML stepper reuse that one layout; the stepper's JavaScript toggles the classes.
"""
from __future__ import annotations

import copy
import hashlib
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from .style import STEP_CSS

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_TEXT = "text"
_G = "g"


@dataclass
class Frame:
    """One step as the viewer shows it.

    ``active``/``targets``/``edges`` are ids of SVG groups (nodes and edges) to highlight;
    ``texts`` maps a text key (``"v3:grad"``) to its new text from this step on.
    """

    title: str
    equation: str
    active: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    edges: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)


@dataclass
class Steps:
    """What the frames need beyond the layout: the texts before step 0, the step from which
    each node/edge is no longer pending, and the frames."""

    base_texts: dict[str, str]
    reveal: dict[str, int]
    frames: list[Frame]

    def as_json(self) -> dict[str, Any]:
        return {"base": self.base_texts, "reveal": self.reveal,
                "frames": [{"title": f.title, "equation": f.equation, "active": f.active,
                            "targets": f.targets, "edges": f.edges, "texts": f.texts}
                           for f in self.frames]}


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


def render_frames(svg: str, steps: Steps) -> list[str]:
    """One standalone SVG string per frame, each a restyled copy of the one layout ``svg``."""
    base = prepare_svg(svg)
    style = ET.Element("style")
    style.text = STEP_CSS
    base.insert(0, style)
    texts = dict(steps.base_texts)
    out = []
    for k, frame in enumerate(steps.frames):
        texts.update(frame.texts)
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


def _json_for_script(data: Any) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>``, no HTML comment openers)."""
    return (json.dumps(data, ensure_ascii=False).replace("&", "\\u0026").replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


_PAGE_CSS = """
.cr-stepper { font-family: Helvetica, Arial, sans-serif; color: #111827; max-width: 100%; }
.cr-stepper .cr-bar { display: flex; gap: .5em; align-items: center; margin: .4em 0; flex-wrap: wrap; }
.cr-stepper button { font-size: 1em; padding: .2em .8em; cursor: pointer; }
.cr-stepper input[type=range] { flex: 1 1 12em; min-width: 8em; }
.cr-stepper .cr-title { font-weight: bold; margin: .3em 0; }
.cr-stepper .cr-eq { white-space: pre-wrap; font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace;
  background: #f9fafb; border: 1px solid #e5e7eb; border-radius: 4px; padding: .5em .7em; min-height: 3.5em; }
.cr-stepper .cr-view { overflow: auto; }
.cr-stepper:focus { outline: 2px solid #93c5fd; }
"""

_SCRIPT = r"""
(function () {
  var root = document.getElementById(ROOT_ID);
  var data = JSON.parse(root.querySelector("script.cr-data").textContent);
  var svg = root.querySelector("svg");
  var items = {}, texts = {};
  svg.querySelectorAll("g[id]").forEach(function (g) { items[g.getAttribute("id")] = g; });
  svg.querySelectorAll("[data-cr]").forEach(function (t) { texts[t.getAttribute("data-cr")] = t; });
  var slider = root.querySelector(".cr-slider"), eq = root.querySelector(".cr-eq");
  var title = root.querySelector(".cr-title"), counter = root.querySelector(".cr-counter");
  var play = root.querySelector(".cr-play");
  var n = data.frames.length, current = 0, timer = null;
  var marks = ["cr-active", "cr-target", "cr-pending"];
  function show(k) {
    k = Math.max(0, Math.min(n - 1, k)); current = k;
    Object.keys(items).forEach(function (id) {
      var cl = items[id].classList;
      marks.forEach(function (m) { cl.remove(m); });
      if (id in data.reveal && data.reveal[id] > k) cl.add("cr-pending");
    });
    var f = data.frames[k];
    f.active.concat(f.edges).forEach(function (id) { if (items[id]) items[id].classList.add("cr-active"); });
    f.targets.forEach(function (id) { if (items[id]) items[id].classList.add("cr-target"); });
    var now = Object.assign({}, data.base);
    for (var i = 0; i <= k; i++) Object.assign(now, data.frames[i].texts);
    Object.keys(texts).forEach(function (key) {
      if (key in now) texts[key].textContent = now[key];
      texts[key].classList.toggle("cr-changed", key in f.texts);
    });
    eq.textContent = f.equation;
    title.textContent = f.title;
    counter.textContent = "step " + k + " of " + (n - 1);
    slider.value = String(k);
    root.setAttribute("data-step", String(k));
  }
  function stop() { if (timer) { clearInterval(timer); timer = null; play.textContent = "\u25B6 play"; } }
  function step(d) { stop(); show(current + d); }
  root.querySelector(".cr-prev").addEventListener("click", function () { step(-1); });
  root.querySelector(".cr-next").addEventListener("click", function () { step(1); });
  play.addEventListener("click", function () {
    if (timer) { stop(); return; }
    if (current >= n - 1) show(0);
    play.textContent = "\u275A\u275A pause";
    timer = setInterval(function () { if (current >= n - 1) stop(); else show(current + 1); }, 900);
  });
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
  function onKey(e) {
    if (e.target === slider) return;          // the range input moves itself (input event)
    if (e.key === "ArrowRight") { step(1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { step(-1); e.preventDefault(); }
  }
  root.addEventListener("keydown", function (e) { onKey(e); e.stopPropagation(); });
  if (root.getAttribute("data-standalone") === "1") {
    document.addEventListener("keydown", onKey);
  }
  show(0);
})();
"""


def stepper_fragment(svg: str, steps: Steps, *, standalone: bool = False) -> str:
    """The stepper as an HTML fragment (a ``<div>`` with inline SVG, CSS and script)."""
    if not steps.frames:
        raise ValueError("a stepper needs at least one step")
    root = prepare_svg(svg)
    svg_text = _serialize(root)
    data = _json_for_script(steps.as_json())
    root_id = "cr-" + hashlib.sha1((svg_text + data).encode("utf-8")).hexdigest()[:12]
    last = len(steps.frames) - 1
    return (
        f'<div class="cr-stepper" id="{root_id}" tabindex="0" '
        f'data-standalone="{1 if standalone else 0}">\n'
        f"<style>{_PAGE_CSS}{STEP_CSS}</style>\n"
        '<div class="cr-bar">'
        '<button type="button" class="cr-prev" title="previous step (←)">◀ prev</button>'
        '<button type="button" class="cr-play" title="play">▶ play</button>'
        '<button type="button" class="cr-next" title="next step (→)">next ▶</button>'
        f'<input type="range" class="cr-slider" min="0" max="{last}" step="1" value="0" '
        'aria-label="step">'
        '<span class="cr-counter"></span></div>\n'
        '<div class="cr-title"></div>\n'
        '<div class="cr-eq"></div>\n'
        f'<div class="cr-view">{svg_text}</div>\n'
        f'<script type="application/json" class="cr-data">{data}</script>\n'
        f"<script>{_SCRIPT.replace('ROOT_ID', json.dumps(root_id))}</script>\n"
        "</div>")


def stepper_html(svg: str, steps: Steps, title: str = "chainrule") -> str:
    """A complete, self-contained HTML page (no network: inline SVG, CSS and JavaScript)."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
            f"<title>{escape(title)}</title>\n</head>\n<body>\n"
            f"<h3 style=\"font-family:Helvetica,Arial,sans-serif\">{escape(title)}</h3>\n"
            f"{stepper_fragment(svg, steps, standalone=True)}\n</body>\n</html>\n")


def save_text(path: str | Path, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` and return the path."""
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    return path
