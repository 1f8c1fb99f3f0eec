"""The course as students receive it: the student copies of the notebooks in this source
tree's ``notebooks/``, made by the teachers' own command, ``notebooks/make_student_copies.py``
(``otter assign``: each answer replaced by ``...``, outputs cleared, the test suite's stored
wrong answers dropped). A notebook without exercises is taken as it is.
"""
from __future__ import annotations

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


def copier() -> ModuleType:
    """``notebooks/make_student_copies.py`` of this source tree, loaded as a module."""
    root = project_root()
    script = root / "notebooks" / "make_student_copies.py" if root else None
    if script is None or not script.is_file():
        raise CourseError("the course's notebooks are not here: run chainrule lite in a "
                          "chainrule checkout, or name the notebooks to build, "
                          "chainrule lite NOTEBOOK ...")
    spec = importlib.util.spec_from_file_location("make_student_copies", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)          # type: ignore[union-attr]
    return module


def student_course(out: Path, names: Iterable[str] = (),
                   log: Callable[[str], None] = print) -> list[Path]:
    """The student copy of every course notebook (only those whose name contains one of
    ``names``, if given), written to ``out``; returns their paths in course order."""
    module = copier()
    paths = sorted((module.HERE).glob("[0-9][0-9]_*.ipynb"))
    names = list(names)
    if names:
        paths = [p for p in paths if any(n in p.name for n in names)]
    if not paths:
        raise CourseError(f"no course notebook matches {' '.join(names) or '*'}")
    out.mkdir(parents=True, exist_ok=True)
    copies = []
    for path in paths:
        if not module.has_exercises(path):
            copies.append(Path(shutil.copyfile(path, out / path.name)))
            continue
        try:
            from otter.logging import level_context
        except ImportError as exc:
            raise CourseError("the student copies are made by otter assign: pip install "
                              "'chainrule[lite]' (otter-grader)") from exc
        log(f"  student copy of {path.name} (otter assign)")
        with warnings.catch_warnings(), level_context(logging.ERROR):
            warnings.simplefilter("ignore", DeprecationWarning)   # otter's traitlets config
            student, _ = module.make_copies(path, out / ".otter")
        copies.append(Path(shutil.move(student, out / path.name)))
    shutil.rmtree(out / ".otter", ignore_errors=True)
    return copies
