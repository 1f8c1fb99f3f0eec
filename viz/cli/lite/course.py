"""The course as students receive it: the student copies of the notebooks in this source
tree's ``notebooks/``, made by the teachers' own command, ``notebooks/make_student_copies.py``
(``otter assign``: each answer replaced by ``...``, outputs cleared, the test suite's stored
wrong answers dropped). A notebook without exercises is taken as it is. The docs site's course
pages are made from the same copies (``docs/hooks.py``).
"""
from __future__ import annotations

import functools
import importlib.util
import logging
import shutil
import warnings
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterable

from .wheels import project_root


class CourseError(RuntimeError):
    """The course's student copies cannot be made here; the message says why."""


@functools.lru_cache(maxsize=None)
def copier(root: Path | None = None) -> ModuleType:
    """``notebooks/make_student_copies.py`` of the source tree ``root`` (default: this one,
    :func:`~viz.cli.lite.wheels.project_root`), loaded as a module."""
    root = root or project_root()
    script = root / "notebooks" / "make_student_copies.py" if root else None
    if script is None or not script.is_file():
        raise CourseError("the course's notebooks are not here: run chainrule lite in a "
                          "chainrule checkout, or name the notebooks to build, "
                          "chainrule lite NOTEBOOK ...")
    spec = importlib.util.spec_from_file_location("make_student_copies", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)          # type: ignore[union-attr]
    return module


def student_copy(path: Path, out: Path, log: Callable[[str], None] = print,
                 root: Path | None = None) -> Path:
    """The student copy of the notebook ``path`` (made by ``root``'s
    ``make_student_copies.py``), or the notebook itself when it has no exercises, written to
    ``out`` under the same name; returns its path."""
    module = copier(root)
    out.mkdir(parents=True, exist_ok=True)
    if not module.has_exercises(path):
        return Path(shutil.copyfile(path, out / path.name))
    try:
        from otter.logging import level_context
    except ImportError as exc:
        raise CourseError(f"{path.name} has exercises: its student copy is made by otter "
                          "assign (pip install 'chainrule[lite]', otter-grader)") from exc
    log(f"  student copy of {path.name} (otter assign)")
    with warnings.catch_warnings(), level_context(logging.ERROR):   # "no autograded tests"
        warnings.simplefilter("ignore", DeprecationWarning)         # otter's traitlets config
        student, _ = module.make_copies(path, out / ".otter")
    target = Path(shutil.move(student, out / path.name))
    shutil.rmtree(out / ".otter", ignore_errors=True)
    return target


def student_course(out: Path, names: Iterable[str] = (),
                   log: Callable[[str], None] = print) -> list[Path]:
    """The student copy of every course notebook (only those whose name contains one of
    ``names``, if given), written to ``out``; returns their paths in course order."""
    paths = sorted(copier().HERE.glob("[0-9][0-9]_*.ipynb"))
    names = list(names)
    if names:
        paths = [p for p in paths if any(n in p.name for n in names)]
    if not paths:
        raise CourseError(f"no course notebook matches {' '.join(names) or '*'}")
    return [student_copy(path, out, log) for path in paths]
