"""A griffe extension for the API reference: the docstrings' reST roles as Markdown.

The docstrings cross-reference with Sphinx roles (``:func:`draw_graph```, ``:mod:`viz.plots```);
mkdocstrings renders Markdown, where a role would show as ``:func:`` before the name. This
turns each role into inline code of its target (``~a.b.c`` shows as ``c``, as in Sphinx) and a
paragraph's closing ``::`` (reST's literal-block marker) into ``:``.

It also works around a griffe parser slip: in a Google-style ``Attributes:`` section, an entry
whose name is not a member of the class (an attribute set by tuple assignment, say) inherits
the type of the entry before it. Such names get a member without annotation, which the
reference does not show (no docstring) and whose type is then empty.
"""
from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|obj|exc|const):`~?([^`]+)`")
LITERAL = re.compile(r"(\S)::$", re.MULTILINE)
ATTRIBUTES = re.compile(r"^( *)Attributes:\n((?:\1 +.*\n?|\n)+)", re.MULTILINE)


def _target(match: re.Match[str]) -> str:
    text = match.group(1)
    if match.group(0).split("`")[1].startswith("~"):
        text = text.rsplit(".", 1)[-1]
    return f"`{text}`"


def markdown(docstring: str) -> str:
    return LITERAL.sub(r"\1:", ROLE.sub(_target, docstring))


class ReSTRoles(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Every object as it is created (modules included), before its docstring is parsed."""
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)

    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        if cls.docstring is None:
            return
        for match in ATTRIBUTES.finditer(cls.docstring.value + "\n"):
            indent = len(match.group(1))
            for line in match.group(2).splitlines():
                entry = re.match(r" *(\w+)(?: \([^)]*\))?:", line)
                if entry is None or len(line) - len(line.lstrip()) > indent + 4:
                    continue
                names = [n.strip() for n in entry.group(1).split(",")]
                for name in names:
                    if name and name not in cls.all_members:
                        cls.set_member(name, griffe.Attribute(name, parent=cls))
