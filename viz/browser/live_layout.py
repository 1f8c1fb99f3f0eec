"""The live view's picture, laid out once: where :class:`viz.browser.live_record.LiveRecord`
and the widget (:mod:`viz.browser.live`) draw each unit, edge and header, in px, and the data
under the decision boundary. Plain Python and NumPy (no widget library)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..drawing.network import MAX_WIDTH_PT, MIN_ALPHA, MIN_WIDTH_PT, _Layer, _shown_indices

WIDTH_PX = 920
"""The view's width: a notebook column (940 px) less its padding."""
RADIUS, PITCH, HEADER = 19, 52, 38
"""A unit's radius, the vertical distance between two units, the column headers' height (px)."""
POSITIVE, NEGATIVE, ZERO = "#2563eb", "#ea580c", "#9ca3af"
"""Edge colours: blue positive, orange negative (draw_network's pair, a shade that reads on
light and dark backgrounds), grey zero."""
CLASS_COLORS = ("#ea580c", "#2563eb", "#16a34a", "#9333ea", "#ca8a04", "#db2777", "#0891b2",
                "#57534e")
"""Class colours of the decision boundary and the data (two classes: orange, blue)."""
MAX_POINTS = 400
"""At most this many data points are drawn over the decision boundary (uniformly thinned)."""


def check_data(data: Any, n_in: int, layers: list[_Layer]) -> dict[str, Any] | None:
    """``data = (X, y)`` checked against the model (``n_in`` inputs); for 2 features and few
    enough classes, what the decision boundary needs (X, y, the labels, the plane's extent,
    the points drawn), else None."""
    if data is None:
        return None
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"data must be a pair (X, y) of arrays; got {type(data).__name__}")
    X = np.asarray(getattr(data[0], "data", data[0]), dtype=float)
    y = np.asarray(getattr(data[1], "data", data[1])).reshape(-1)
    if X.ndim != 2 or X.shape[1] != n_in:
        raise ValueError(f"data's X must have shape (n, {n_in}) (the model takes {n_in} "
                         f"inputs); got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"data's y has {len(y)} labels but X has {len(X)} rows")
    if n_in != 2:
        return None                             # the boundary needs a plane
    labels = np.unique(y)
    n_out = layers[-1].weight.shape[0]
    if len(labels) > len(CLASS_COLORS) or (n_out > 1 and len(labels) > n_out):
        return None
    pad = 0.5
    (x0, y0), (x1, y1) = X.min(axis=0) - pad, X.max(axis=0) + pad
    keep = np.unique(np.linspace(0, len(X) - 1, min(len(X), MAX_POINTS)).round().astype(int))
    return {"X": X, "y": y, "labels": labels, "extent": [float(x0), float(x1), float(y0), float(y1)],
            "keep": keep}


def layout(layers: list[_Layer], max_units: int | None, inputs: bool, data: dict[str, Any] | None,
           grid: int) -> tuple[list[list[int]], dict[str, Any]]:
    """The diagram's geometry (px), computed once: columns left to right, units top to
    bottom in index order, the first ``max_units_per_layer - 1`` and the last of a
    column drawn (as draw_network); ``inputs``: whether a sample's activations show, ``data``:
    :func:`check_data`'s. Returns the shown unit indices of every column and the geometry."""
    sizes = [layers[0].weight.shape[1]] + [layer.weight.shape[0] for layer in layers]
    shown = [_shown_indices(n, max_units) for n in sizes]
    slots = [len(idx) + (1 if hidden else 0) for idx, hidden in shown]
    height = HEADER + max(slots) * PITCH + 16       # room for the last δ
    n_cols = len(sizes)
    gap = (WIDTH_PX - 2 * 60) / max(1, n_cols - 1)
    units, index, markers = [], {}, []
    names = [[f"x{i + 1}" for i in range(sizes[0])]] + [layer.units for layer in layers]
    for c, (idx, hidden) in enumerate(shown):
        x = 60 + c * gap if n_cols > 1 else WIDTH_PX / 2
        top = HEADER + (height - HEADER - slots[c] * PITCH) / 2
        slot = 0
        for j in idx:
            if hidden and j == idx[-1]:
                markers.append({"x": x, "y": top + (slot + 0.5) * PITCH,
                                "text": f"… {hidden} more"})
                slot += 1
            index[(c, j)] = len(units)
            units.append({"x": round(x, 1), "y": round(top + (slot + 0.5) * PITCH - 5, 1),
                          "name": names[c][j], "col": c})
            slot += 1
    edges = [[index[(c - 1, i)], index[(c, j)]] for c in range(1, n_cols)
             for j in shown[c][0] for i in shown[c - 1][0]]
    headers = [{"x": 60 + c * gap if n_cols > 1 else WIDTH_PX / 2,
                "lines": ["inputs", f"{sizes[0]} values"] if c == 0
                else layers[c - 1].title.split(": ", 1)} for c in range(n_cols)]
    geometry: dict[str, Any] = {
        "width": WIDTH_PX, "height": height, "radius": RADIUS, "units": units, "edges": edges,
        "headers": headers, "markers": markers, "layers": [layer.key for layer in layers],
        "colors": {"positive": POSITIVE, "negative": NEGATIVE, "zero": ZERO},
        "widths": [MIN_WIDTH_PT * 4 / 3, MAX_WIDTH_PT * 4 / 3], "min_alpha": MIN_ALPHA,
        "edges_total": int(sum(layer.weight.size for layer in layers)),
        "inputs": inputs}
    if data is not None:
        d = data
        k = d["keep"]
        geometry["boundary"] = {
            "grid": grid, "extent": d["extent"],
            "colors": [CLASS_COLORS[i] for i in range(len(d["labels"]))],
            "labels": [str(v) for v in d["labels"].tolist()],
            "points": [[round(float(a), 4), round(float(b), 4), int(c)] for (a, b), c in
                       zip(d["X"][k], np.searchsorted(d["labels"], d["y"][k]))],
            "n_points": len(d["X"])}
    return [idx for idx, _ in shown], geometry
