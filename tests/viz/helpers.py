"""Small graphs and SVG helpers shared by the viz tests."""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from autograd_core import Value

SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(svg: str) -> list[str]:
    """Every <text> of an SVG (parsing it as XML on the way)."""
    root = ET.fromstring(svg.encode("utf-8"))
    return [t.text or "" for t in root.iter() if t.tag in (SVG + "text", "text")]


def node_texts(svg: str, node_id: str) -> list[str]:
    root = ET.fromstring(svg.encode("utf-8"))
    for g in root.iter():
        if g.tag in (SVG + "g", "g") and g.get("id") == node_id:
            return [t.text or "" for t in g if t.tag in (SVG + "text", "text")]
    raise AssertionError(f"no node {node_id} in the SVG")


def neuron():
    """out = tanh(x1*w1 + x2*w2 + b), the micrograd neuron; returns (out, leaves)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    out = (x1 * w1 + x2 * w2 + b).tanh()
    out.label = "out"
    return out, (x1, x2, w1, w2, b)


def neuron_grads_by_hand():
    """The neuron's gradients computed independently of the engine."""
    x1, x2, w1, w2, b = 2.0, 0.0, -3.0, 1.0, 6.8813735870195432
    n = x1 * w1 + x2 * w2 + b
    d = 1 - math.tanh(n) ** 2
    return {"x1": d * w1, "x2": d * w2, "w1": d * x1, "w2": d * x2, "b": d, "out": math.tanh(n)}
