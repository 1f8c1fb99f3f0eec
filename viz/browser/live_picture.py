"""The live view's static picture: Python's drawing of what live.js draws, one recorded
frame as one SVG (the decision boundary inside it as a small PNG, written with zlib alone).
Plain Python and NumPy (no widget library)."""
from __future__ import annotations

import base64
import math
import zlib
from html import escape
from typing import Any

import numpy as np

from ..drawing.style import format_number
from .live_layout import NEGATIVE, POSITIVE, ZERO


def _edge_style(values: np.ndarray, geometry: dict[str, Any]) -> list[tuple[str, float]]:
    finite = np.abs(values[np.isfinite(values)])
    vmax = float(finite.max()) if finite.size else 0.0
    lo, hi = geometry["widths"]
    out = []
    for v in values.tolist():
        if not math.isfinite(v):
            out.append((ZERO, lo))
            continue
        ratio = abs(v) / vmax if vmax > 0 else 0.0
        alpha = round((geometry["min_alpha"] + (1 - geometry["min_alpha"]) * ratio) * 255)
        color = ZERO + "80" if v == 0 else (POSITIVE if v > 0 else NEGATIVE) + f"{alpha:02x}"
        out.append((color, lo + (hi - lo) * ratio))
    return out


def _png_rgb(pixels: np.ndarray) -> bytes:
    """An RGB uint8 array (h, w, 3) as PNG bytes (zlib only)."""
    h, w, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[r].tobytes() for r in range(h))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (len(body).to_bytes(4, "big") + kind + body
                + zlib.crc32(kind + body).to_bytes(4, "big"))
    header = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def _mix(color: str, alpha: float) -> list[int]:
    rgb = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    return [round(255 + (c - 255) * alpha) for c in rgb]


def _boundary_png(g: dict[str, Any], cells: str, size: int) -> bytes:
    """The class grid at ``size`` × ``size`` pixels (each cell a block, pale class colours),
    with the data points as 5 × 5 squares in their class colour, outlined: one small PNG."""
    n = g["grid"]
    classes = (np.frombuffer(cells.encode("ascii"), dtype=np.uint8) - ord("0")).reshape(n, n)
    pale = np.array([_mix(c, 0.35) for c in g["colors"]], dtype=np.uint8)
    full = np.array([_mix(c, 1.0) for c in g["colors"]], dtype=np.uint8)
    rows = np.minimum(np.arange(size) * n // size, n - 1)
    image = pale[classes[np.ix_(rows, rows)]]
    ex0, ex1, ey0, ey1 = g["extent"]
    for px, py, c in g["points"]:
        x = int(round((size - 1) * (px - ex0) / (ex1 - ex0)))
        y = int(round((size - 1) * (ey1 - py) / (ey1 - ey0)))
        image[max(0, y - 3):y + 4, max(0, x - 3):x + 4] = (17, 24, 39)
        image[max(0, y - 2):y + 3, max(0, x - 2):x + 3] = full[c]
    return _png_rgb(image)


def frame_svg(geometry: dict[str, Any], frame: dict[str, Any], train: list[tuple[int, float]],
               val: list[tuple[int, float]], show: str) -> str:
    """One recorded state (a frame of :class:`viz.browser.live_record.LiveRecord`) as a
    standalone SVG picture, laid out as the widget: the network above (edges by weight, or
    by gradient ``∂L/∂w`` when ``show == "grad"`` and the frame has gradients), the loss
    curve up to the frame's step (``train``, ``val``: (step, loss) pairs), the decision
    boundary under the data and the mean ``|∂L/∂W|`` of every layer below."""
    W, H = geometry["width"], geometry["height"]
    fmt = lambda v: format_number(float(v), ".3g")  # noqa: E731
    panel_top, panel_h = H + 10, 190
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{panel_top + panel_h}" '
             f'viewBox="0 0 {W} {panel_top + panel_h}" font-family="Helvetica,Arial,sans-serif" '
             f'font-size="11"><rect width="100%" height="100%" fill="#ffffff"/>']
    values = frame["g"] if show == "grad" and frame.get("g") is not None else frame["w"]
    what = "∂L/∂w" if values is frame.get("g") else "w"
    units = geometry["units"]
    for (s, d), (color, width) in zip(geometry["edges"], _edge_style(np.asarray(values, float), geometry)):
        a, b = units[s], units[d]
        parts.append(f'<line x1="{a["x"]}" y1="{a["y"]}" x2="{b["x"]}" y2="{b["y"]}" '
                     f'stroke="{color}" stroke-width="{width:.2f}"/>')
    r = geometry["radius"]
    acts, deltas = frame.get("a"), frame.get("d")
    for k, u in enumerate(units):
        inside = fmt(acts[k]) if acts is not None else u["name"]
        parts.append(f'<circle cx="{u["x"]}" cy="{u["y"]}" r="{r}" fill="#f9fafb" stroke="#4b5563"/>'
                     f'<text x="{u["x"]}" y="{u["y"] + 4}" text-anchor="middle" font-size="10">'
                     f'{escape(inside)}</text>')
        if deltas is not None and math.isfinite(float(deltas[k])):
            parts.append(f'<text x="{u["x"]}" y="{u["y"] + r + 11}" text-anchor="middle" '
                         f'font-size="9" fill="#374151">δ {escape(fmt(deltas[k]))}</text>')
    for h in geometry["headers"]:
        parts.append(f'<text x="{h["x"]}" y="13" text-anchor="middle" font-weight="bold">'
                     f'{escape(h["lines"][0])}</text><text x="{h["x"]}" y="27" '
                     f'text-anchor="middle" fill="#4b5563">{escape(h["lines"][1])}</text>')
    for m in geometry["markers"]:
        parts.append(f'<text x="{m["x"]}" y="{m["y"]}" text-anchor="middle" fill="#4b5563">'
                     f'{escape(m["text"])}</text>')
    legend = f"edges: {what}, blue &gt; 0, orange &lt; 0, width by |{what}|"
    if acts is not None:
        legend += ", circles: a = f(z) on the chosen input"
    if deltas is not None:
        legend += ", δ = ∂L/∂b of the last backward (its batch)"
    parts.append(f'<text x="4" y="{H + 2}" fill="#374151">{legend}</text>')
    # the loss curve up to this step
    x0, y0, w, h = 40, panel_top + 20, 400, panel_h - 45
    parts.append(f'<text x="{x0}" y="{panel_top + 10}" font-weight="bold">loss (step {frame["step"]})</text>'
                 f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#9ca3af"/>')
    series = [(p, c, dash) for p, c, dash in ((train, "#111827", ""), (val, "#9333ea", "4 3")) if p]
    last = max([p[-1][0] for p, _, _ in series] + [1])
    finite = [v for p, _, _ in series for _, v in p if math.isfinite(v)]
    if finite:
        lo, hi = min(0.0, min(finite)), max(finite)
        hi = hi if hi > lo else lo + 1
        for points, color, dash in series:
            xy = " ".join(f"{x0 + w * s / last:.1f},{y0 + h * (1 - (v - lo) / (hi - lo)):.1f}"
                          for s, v in points if s <= frame["step"] and math.isfinite(v))
            parts.append(f'<polyline points="{xy}" fill="none" stroke="{color}" stroke-width="1.5"'
                         + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
        parts.append(f'<text x="{x0 - 4}" y="{y0 + 9}" text-anchor="end" font-size="9">{fmt(hi)}</text>'
                     f'<text x="{x0 - 4}" y="{y0 + h}" text-anchor="end" font-size="9">{fmt(lo)}</text>'
                     f'<text x="{x0 + w}" y="{y0 + h + 12}" text-anchor="end" font-size="9">'
                     f'step {last}</text>')
    # the decision boundary
    b = frame.get("b")
    if b and "boundary" in geometry:
        g = geometry["boundary"]
        bx, by, size = 470, panel_top + 20, panel_h - 45
        png = _boundary_png(g, b["cells"], size)
        parts.append(f'<text x="{bx}" y="{panel_top + 10}" font-weight="bold">decision boundary '
                     f'(step {b["step"]})</text><image x="{bx}" y="{by}" width="{size}" height="{size}" '
                     f'href="data:image/png;base64,{base64.b64encode(png).decode()}"/>')
    # the layer gradients
    gx0 = 690
    parts.append(f'<text x="{gx0}" y="{panel_top + 10}" font-weight="bold">mean |∂L/∂W| per layer</text>')
    top = max(frame["gl"] + [0.0])
    for k, (name, v) in enumerate(zip(geometry["layers"], frame["gl"])):
        y = panel_top + 24 + 18 * k
        bar = 120 * v / top if top > 0 else 0
        parts.append(f'<text x="{gx0}" y="{y + 9}" font-size="10">{escape(name)}</text>'
                     f'<rect x="{gx0 + 30}" y="{y}" width="{bar:.1f}" height="11" fill="#6b7280"/>'
                     f'<text x="{gx0 + 34 + bar:.1f}" y="{y + 9}" font-size="10">'
                     f'{escape(fmt(v)) if frame.get("g") is not None else "no backward yet"}</text>')
    parts.append("</svg>")
    return "".join(parts)
