"""Make the student and solution copies of the course's notebooks, with otter-grader's ``otter assign``.

Each notebook in ``notebooks/`` is the *solution* copy of its exercises, written in otter's
format: a first raw cell ``# ASSIGNMENT CONFIG``, and per exercise the raw cells
``# BEGIN QUESTION`` / ``# BEGIN SOLUTION`` / ``# END SOLUTION`` / ``# END QUESTION`` around a prompt,
an answer cell whose answer lines end with ``# SOLUTION``, and a check cell. ``otter assign``
replaces each such line by ``...`` (``x = 3.0  # SOLUTION`` becomes ``x = ...``; a ``return`` line
becomes ``...``, so the function returns None and its check reports "not answered yet").

Run from anywhere (teachers: this is the command)::

    python notebooks/make_student_copies.py                 # every notebook with exercises, into dist/
    python notebooks/make_student_copies.py --out handout 01 02

It writes ``OUT/student/NN_name.ipynb`` (answers replaced by ``...``, every output cleared) and
``OUT/solution/NN_name.ipynb`` (the answers, with the stored outputs). The student copy also
loses the answer cells' ``chainrule`` metadata (the wrong answers the test suite feeds to each
check, which would give the right answer away). The copies import chainrule as an installed
package (``pip install chainrule``), since they no longer sit next to the repository's sources.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "dist"
CONFIG_MARK = "# ASSIGNMENT CONFIG"
METADATA_KEY = "chainrule"          # cell.metadata["chainrule"]["wrong_answers"]: for the tests


def has_exercises(path: Path) -> bool:
    """Whether ``path`` is a notebook in otter's format (its first cell is the config)."""
    nb = nbformat.read(path, as_version=4)
    return bool(nb.cells) and nb.cells[0].cell_type == "raw" and \
        nb.cells[0].source.lstrip().startswith(CONFIG_MARK)


def course_notebooks(fragments: list[str] | None = None) -> list[Path]:
    """The course's notebooks with exercises, optionally only those whose name contains one of
    ``fragments``."""
    paths = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    if fragments:
        paths = [p for p in paths if any(f in p.name for f in fragments)]
    return [p for p in paths if has_exercises(p)]


def make_copies(notebook: Path, out: Path) -> tuple[Path, Path]:
    """Run ``otter assign`` on one solution notebook; return the paths of its student and
    solution copies under ``out``."""
    from otter.assign import main as otter_assign   # imported here: it takes ~2 s

    notebook = Path(notebook).resolve()
    student_dir, solution_dir = Path(out) / "student", Path(out) / "solution"
    student_dir.mkdir(parents=True, exist_ok=True)
    solution_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="otter-assign-") as tmp:
        otter_assign(str(notebook), str(Path(tmp) / "result"), no_pdfs=True, no_run_tests=True)
        made = Path(tmp) / "result"
        student = nbformat.read(made / "student" / notebook.name, as_version=4)
        for cell in student.cells:
            cell.metadata.pop(METADATA_KEY, None)
        student_path = student_dir / notebook.name
        nbformat.write(student, student_path)
        solution_path = solution_dir / notebook.name
        shutil.copyfile(made / "autograder" / notebook.name, solution_path)
    return student_path, solution_path


TEST_FUNCTION = '''\
def test_{name}(env):
    """The teacher's check cell of {name}, run on the submission's answers: passes when its
    chainrule report passes (what chainrule check --key reports passed)."""
    import ast
    tree = ast.parse({source!r})
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<check cell of {name}>", "exec"), env)
    report = eval(compile(ast.Expression(last.value), "<check of {name}>", "eval"), env) \\
        if last is not None else None
    assert getattr(report, "passed", False) is True, getattr(report, "feedback", report)
'''


def with_otter_tests(nb: Any) -> Any:
    """A copy of the solution notebook ``nb`` in which every question ends with one hidden
    otter test (exception-based, ``# BEGIN TESTS`` ... ``# END TESTS``): the question's
    check cells, run in the graded submission's environment, must report passed. The
    assignment config is changed to build otter's autograder zip (``generate``)."""
    import copy

    import yaml

    nb = copy.deepcopy(nb)
    cells: list[Any] = []
    name, checks, in_solution = None, [], False
    for cell in nb.cells:
        first = cell.source.strip().splitlines()[0].upper() if cell.source.strip() else ""
        if cell.cell_type == "raw" and first.startswith(CONFIG_MARK):
            config = yaml.safe_load("\n".join(cell.source.strip().splitlines()[1:])) or {}
            config.update(generate=True, tests={"ok_format": False, "files": False},
                          run_tests=False)
            cell.source = CONFIG_MARK + "\n" + yaml.safe_dump(config, sort_keys=False)
        elif cell.cell_type == "raw" and first.startswith("# BEGIN QUESTION"):
            body = yaml.safe_load("\n".join(cell.source.strip().splitlines()[1:])) or {}
            name, checks, in_solution = str(body.get("name")), [], False
        elif cell.cell_type == "raw" and first.startswith("# BEGIN SOLUTION"):
            in_solution = True
        elif cell.cell_type == "raw" and first.startswith("# END SOLUTION"):
            in_solution = False
        elif cell.cell_type == "raw" and first.startswith("# END QUESTION") and name:
            source = "\n".join(checks)
            test = TEST_FUNCTION.format(name=re.sub(r"\W", "_", name), source=source)
            cells += [nbformat.v4.new_raw_cell("# BEGIN TESTS"),
                      nbformat.v4.new_code_cell('""" # BEGIN TEST CONFIG\nhidden: true\n'
                                                '""" # END TEST CONFIG\n' + test),
                      nbformat.v4.new_raw_cell("# END TESTS")]
            name = None
        elif cell.cell_type == "code" and name and not in_solution:
            checks.append(cell.source)
        cells.append(cell)
    nb.cells = cells
    return nb


def make_autograder(notebook: Path, out: Path) -> Path:
    """Run ``otter assign`` on ``notebook`` with :func:`with_otter_tests`; return the path of
    the autograder zip written under ``out/autograder`` (for ``otter run -a ZIP`` and
    ``otter grade``, or a Gradescope autograder)."""
    from otter.assign import main as otter_assign

    notebook = Path(notebook).resolve()
    target = Path(out) / "autograder"
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="otter-assign-") as tmp:
        source = Path(tmp) / notebook.name
        nbformat.write(with_otter_tests(nbformat.read(notebook, as_version=4)), source)
        otter_assign(str(source), str(Path(tmp) / "result"), no_pdfs=True, no_run_tests=True)
        made = sorted((Path(tmp) / "result" / "autograder").glob("*.zip"))
        if not made:
            raise RuntimeError(f"otter assign wrote no autograder zip for {notebook.name}")
        zip_path = target / (notebook.stem + ".zip")
        shutil.copyfile(made[0], zip_path)
    return zip_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Make student and solution copies of the "
                                     "course's notebooks (otter assign).")
    parser.add_argument("names", nargs="*", help="only notebooks whose name contains one of "
                        "these (e.g. 01 04_xor); default: every notebook with exercises")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--autograder", action="store_true",
                        help="also write OUT/autograder/NN_name.zip: otter's autograder, whose "
                             "hidden tests are the notebook's check cells (for otter run / "
                             "otter grade / Gradescope)")
    args = parser.parse_args(argv)
    notebooks = course_notebooks(args.names)
    if not notebooks:
        print("no notebook with exercises matches", " ".join(args.names), file=sys.stderr)
        return 1
    for path in notebooks:
        student, solution = make_copies(path, args.out)
        print(f"{path.name}: {student}  {solution}")
        if args.autograder:
            print(f"{path.name}: {make_autograder(path, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
