"""Run the code of docs/pytorch.md ("Moving on to PyTorch") and check what it prints.

The page's Python blocks, in order, are one program (a state_dict moved both ways, then one
model trained in chainrule and in PyTorch side by side); its ``text`` block is what that program
prints. PyTorch is not a test dependency, so this check lives here: ``pip install ".[bench]"``
then ``python benchmarks/docs_pytorch.py``. Exit status 1 if the output differs.
"""
from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "docs" / "pytorch.md"


def main() -> int:
    text = PAGE.read_text(encoding="utf-8")
    code = "\n".join(re.findall(r"```python\n(.*?)```", text, re.S))
    expected = re.findall(r"```text\n(.*?)```", text, re.S)[-1]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(PAGE), "exec"), {"__name__": "__docs__"})
    print(printed.getvalue(), end="")
    if printed.getvalue().strip() != expected.strip():
        print(f"docs/pytorch.md shows:\n{expected}", file=sys.stderr)
        return 1
    print("docs/pytorch.md: the code runs and prints what the page shows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
