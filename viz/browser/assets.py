"""The front-end files that ship with ``viz`` in ``viz/browser/static/``: the stepper's and the
animation player's JavaScript and CSS, read as package data (``importlib.resources``).

Python hands them data, never code: a view's data travels as JSON (in a
``<script type="application/json">`` element or as the argument of one call), and the
scripts are the files as they are, each defining one function that a start-up line calls.
"""
from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def asset(name: str) -> str:
    """The text of ``viz/browser/static/<name>`` (read once per process)."""
    return files("viz.browser").joinpath("static", name).read_text(encoding="utf-8")


def script_json(data: Any) -> str:
    """``data`` as JSON that is safe inside a ``<script>`` element (no ``</script>``, no HTML
    comment openers, no line separators that end a JavaScript string)."""
    return (json.dumps(data, ensure_ascii=False).replace("&", "\\u0026").replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def start_script(js_file: str, function: str, element_id: str) -> str:
    """JavaScript that runs ``js_file`` in a scope of its own and calls the function it
    defines on the element with id ``element_id``: ``function(document.getElementById(id))``."""
    return (f"(function () {{\n{asset(js_file)}\n{function}(document.getElementById("
            f"{script_json(element_id)}));\n}})();")


def mount_script(js_file: str, function: str, body: str, fallback_id: str, pictures: int) -> str:
    """The JavaScript output of a notebook view: ``mount.js``'s ``crMount`` builds ``body``
    (the views' HTML) in the output, starts each view with ``function`` from ``js_file``, and
    hides the ``pictures`` static pictures and the fallback element ``fallback_id`` shown
    before it. (In Jupyter's JavaScript outputs ``element`` is the output's element.)"""
    options = script_json({"body": body, "fallback": fallback_id, "pictures": pictures})
    return (f"(function (element) {{\n{asset(js_file)}\n{asset('mount.js')}\n"
            f"crMount(element, {options}, {function});\n}})(typeof element === \"undefined\" ? "
            f"null : element);")
