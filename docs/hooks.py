"""MkDocs hooks: the pages and files that are generated when the site is built.

Nothing here is committed as output: every build makes, from the repository as it is,

- ``ops.md``, the every-op table, from the op records themselves (``autograd_core.ALL_OPS``):
  a new op appears there with no edit to the docs;
- ``course/index.md`` and ``course/NN_name.ipynb``, the course: each notebook of
  ``notebooks/`` as its student copy (``notebooks/make_student_copies.py``, i.e. ``otter
  assign``) with the outputs of every cell the copy leaves as it was, outside the exercises;
  a notebook with no ``# ASSIGNMENT CONFIG`` raw cell is used as it is;
- ``assets/mathjax/tex-svg-full.js``, the math renderer, from npm's ``mathjax`` package, and
  ``assets/iframe-worker/shim.js``, which lets the search run from ``file://`` (``npm pack``,
  checked against the pinned integrity, cached in ``.cache/docs``): MathJax's SVG output is
  one script with the fonts inside as paths, so math renders offline, from ``file://`` and
  served, and the site fetches nothing from the network.

``mkdocs.yml`` names this file under ``hooks:``; ``mkdocs build`` runs it.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import html
import json
import logging
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.chainrule")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CACHE = ROOT / ".cache" / "docs"
COURSE_NAV = "The course"

# (package, version, the registry's integrity, {file in the tarball: path in the site})
NPM = [
    # MathJax 3 with SVG output: one script, the fonts inside as paths (nothing else to load)
    ("mathjax", "3.2.2",
     "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
     {"package/es5/tex-svg-full.js": "assets/mathjax/tex-svg-full.js",
      "package/LICENSE": "assets/mathjax/LICENSE"}),
    # the shim that lets Material's search run from file:// (mkdocs.yml: extra.polyfills)
    ("iframe-worker", "1.0.4",
     "sha512-roeaaI+Lg1LJNfgpCjoRe/+WzEjy9+Z08LoEvu85MCPbBjwm+qXz8Ag5U05lHa6V1CysZyGzE0SOkAtSUA5q7Q==",
     {"package/shim/index.js": "assets/iframe-worker/shim.js",
      "package/LICENSE": "assets/iframe-worker/LICENSE"}),
]

_build: dict[str, Any] = {}


def course_notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


# ---- configuration: the course's pages in the navigation --------------------------------
def on_config(config: Any) -> Any:
    """List every notebook under "The course" in the navigation, after its index page."""
    pages = [f"course/{path.name}" for path in course_notebooks()]
    for item in config["nav"] or []:
        if isinstance(item, dict) and COURSE_NAV in item:
            index = item[COURSE_NAV]
            item[COURSE_NAV] = [index if isinstance(index, str) else "course/index.md", *pages]
            break
    else:
        raise PluginError(f"mkdocs.yml: no {COURSE_NAV!r} entry in nav")
    return config


# ---- the generated files ----------------------------------------------------------------
@event_priority(100)        # before mkdocs-jupyter's on_files, so it sees the notebooks
def on_files(files: Files, config: Any) -> Files:
    work = Path(tempfile.mkdtemp(prefix="chainrule-docs-"))
    _build["work"] = work
    files.append(File.generated(config, "ops.md", content=ops_page()))
    copies = student_copies(course_notebooks(), work / "course")
    files.append(File.generated(config, "course/index.md", content=course_index(copies)))
    for path in copies:
        # a File with a real source folder (not File.generated): mkdocs-jupyter's wrapper
        # finds the notebook through src_dir
        files.append(File(f"course/{path.name}", src_dir=str(work), dest_dir=config["site_dir"],
                          use_directory_urls=config["use_directory_urls"]))
    for package in NPM:
        for name, source in vendored(*package).items():
            files.append(File.generated(config, name, abs_src_path=str(source)))
    return files


def lite_enabled(config: Any) -> bool:
    """Whether ``extra.lite`` (``CHAINRULE_DOCS_LITE``) asks for the JupyterLite copy."""
    value = (config.get("extra") or {}).get("lite")
    return bool(value) and str(value).lower() not in ("0", "false", "no")


def on_post_build(config: Any) -> None:
    work = _build.pop("work", None)
    try:
        if work is not None and lite_enabled(config):
            build_lite(sorted((work / "course").glob("*.ipynb")), Path(config["site_dir"]) / "lite")
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


def build_lite(copies: list[Path], output: Path) -> None:
    """The course pages' notebooks (student copies with their outputs) as a JupyterLite site
    in ``output`` (``chainrule lite``), which each course page links."""
    try:
        from viz.cli.lite.site import build_site
    except ImportError as exc:  # pragma: no cover - the lite extra
        raise PluginError("CHAINRULE_DOCS_LITE: the JupyterLite copy needs pip install "
                          "'.[lite]'") from exc
    log.info("the course in the browser: chainrule lite -> %s", output)
    build_site(copies, output, log=log.info)


# ---- every op -----------------------------------------------------------------------------
DERIVATIVE_LINE = '<div class="cr-derivative">{}</div>'
"""One operand's derivative in the op table: a block of its own, spaced for the fractions."""


def _math(latex: str) -> str:
    """Inline math as pymdownx.arithmatex (generic) writes it; MathJax typesets it."""
    return f'<span class="arithmatex">\\({html.escape(latex, quote=False)}\\)</span>'


def _code(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


def ops_page() -> str:
    """The every-op page: one row per op of ``autograd_core.ALL_OPS``, read from its record."""
    from autograd_core import ALL_OPS, ELEMENTWISE_OPS, TENSOR_ELEMENTWISE_OPS

    value_ops = {op.name for op in ELEMENTWISE_OPS}
    tensor_elementwise = {op.name for op in TENSOR_ELEMENTWISE_OPS}
    rows = []
    for op in ALL_OPS:
        out = r"\mathrm{out}"
        lead = "" if op.elementwise else r"\bar{g}\,"
        forward = _math(rf"\displaystyle {out} = " + op.formula(latex=True))
        derivatives = [_math(rf"\displaystyle {lead}\frac{{\partial {out}}}{{\partial {name}}} = "
                             + op.derivative_formula(k, latex=True))
                       for k, name in enumerate(op.inputs)]
        if op.name in value_ops:
            where = "Value, Tensor, Dual"
        elif op.name in tensor_elementwise:
            where = "Tensor, Dual"
        else:
            where = "Tensor"
        kind = "local derivative" if op.elementwise else "vector-Jacobian product"
        params = ", ".join(_code(p) for p in op.params) or "—"
        rows.append(
            f'<tr id="op-{op.name}" data-op="{html.escape(op.name)}">'
            f"<td>{_code(op.name)}</td><td>{_code(op.symbol)}</td>"
            f"<td>{', '.join(_code(a) for a in op.inputs)}</td><td>{params}</td>"
            f"<td>{forward}</td>"
            f"<td>{''.join(DERIVATIVE_LINE.format(d) for d in derivatives)}"
            f"</td><td>{kind}</td><td>{where}</td></tr>")
    table = ('<table class="cr-ops">\n<thead><tr><th>op</th><th>symbol</th><th>operands</th>'
             "<th>parameters</th><th>forward</th><th>derivative per operand</th><th>rule</th>"
             "<th>on</th></tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>")
    return f"""---
hide: [toc]
---

# Every op

This table is generated from the op records themselves (`autograd_core.ALL_OPS`, {len(ALL_OPS)}
ops) each time the site is built: the formulas are the ones the engine's traces and graph
labels show, read from the same `Op` entry that holds the forward and the derivative rules. An
op added to a table appears here with no edit to the docs ([Adding an op](adding-an-op.md)).

- **local derivative**: an elementwise op's rule gives ∂out/∂operand; the backward loop
  multiplies it by the upstream gradient (and forward mode by the operand's tangent).
- **vector-Jacobian product**: the rule gives \\(\\bar{{g}}\\,\\partial\\mathrm{{out}}/\\partial a\\)
  directly, where \\(\\bar{{g}}\\) is the upstream gradient (the Jacobian is never formed).
- Parameters (`slope`, `axis`, ...) are keyword arguments that take no gradient.

<div class="cr-ops-wrap" markdown="0">
{table}
</div>
"""


# ---- the course ---------------------------------------------------------------------------
def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _question_cells(master: dict[str, Any]) -> set[Any]:
    """Ids of the master's cells inside an exercise (``# BEGIN QUESTION`` ... ``# END QUESTION``):
    its prompt, answer and check cells."""
    inside, ids = False, set()
    for cell in master["cells"]:
        text = _source(cell).lstrip().upper()
        if cell["cell_type"] == "raw" and text.startswith("# BEGIN QUESTION"):
            inside = True
        elif cell["cell_type"] == "raw" and text.startswith("# END QUESTION"):
            inside = False
        elif inside:
            ids.add(cell.get("id"))
    return ids


def with_outputs(student: dict[str, Any], master: dict[str, Any]) -> dict[str, Any]:
    """The student copy, each cell that it keeps as the master has it (same id, same source)
    given the master's outputs, except inside an exercise: the answer and check cells stay
    without outputs, as a student receives them (a check's output would show the answer), and
    so do otter's own cells."""
    exercise = _question_cells(master)
    by_id = {cell.get("id"): cell for cell in master["cells"]
             if cell["cell_type"] == "code" and cell.get("id") not in exercise}
    student = copy.deepcopy(student)
    # no widget state: the page shows a live view's static record (its HTML output), and
    # nbconvert would otherwise load a widget manager from a CDN
    student.get("metadata", {}).pop("widgets", None)
    for cell in student["cells"]:
        if cell["cell_type"] != "code":
            continue
        original = by_id.get(cell.get("id"))
        if original is not None and _source(original) == _source(cell):
            cell["outputs"] = copy.deepcopy(original.get("outputs", []))
            cell["execution_count"] = original.get("execution_count")
    return student


def student_copies(notebooks: list[Path], out: Path) -> list[Path]:
    """Each notebook as the course page shows it, written to ``out``: its student copy made by
    ``notebooks/make_student_copies.py`` (``otter assign``; ``chainrule lite`` makes the same,
    :func:`viz.cli.lite.course.student_copy`), given the master's outputs (see
    :func:`with_outputs`), or the notebook itself if it has no exercises."""
    from viz.cli.lite.course import CourseError, copier, student_copy

    copies = []
    for path in notebooks:
        try:
            target = student_copy(path, out, log=log.info, root=ROOT)
        except CourseError as exc:  # pragma: no cover - otter-grader: docs extra
            raise PluginError(f"{exc} (pip install '.[docs]')") from exc
        copies.append(target)
        if not copier(ROOT).has_exercises(path):
            continue                              # the notebook itself, byte for byte
        student = json.loads(target.read_text(encoding="utf-8"))
        master = json.loads(path.read_text(encoding="utf-8"))
        target.write_text(json.dumps(with_outputs(student, master), indent=1), encoding="utf-8")
    return copies


def _title(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            match = re.search(r"^#\s+(.+)$", _source(cell), re.MULTILINE)
            if match:
                return match.group(1).strip()
    return path.stem


def _readme_topics() -> dict[str, list[str]]:
    """The README's course table: notebook stem -> its other columns (topic, exercises)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\d\d_\w+)` \|(.+)\|\s*$", readme, re.MULTILINE)
    return {stem: [c.strip() for c in rest.split(" | ")] for stem, rest in rows}


def course_index(copies: list[Path]) -> str:
    topics = _readme_topics()
    columns = max((len(v) for v in topics.values()), default=1)
    header = ["notebook", "topic", "exercises"][:columns + 1]
    rows = "\n".join(
        "| " + " | ".join([f"[{_title(p)}]({p.name})",
                          *(topics.get(p.stem, []) + [""] * columns)[:columns]]) + " |"
        for p in copies)
    count = {11: "Eleven"}.get(len(copies), str(len(copies)))
    return f"""# The course

{count} notebooks built on the lecture notes the project teaches from, shown here with their
outputs as the repository has them. Steppers work in the page: press **next** (or the arrow
keys when a stepper has the focus) to walk through the chain rule one step at a time. Each
notebook checks its own numbers: the hand-derived gradient, the engine's and finite differences
agree.

Exercises appear as in the student copy (made with `otter assign`, as
`notebooks/make_student_copies.py` makes it): the answer cell holds `...` where the answer
goes, and the check cell below it judges your answer when you run the notebook (green when
right, red naming the mistake). Each page links its notebook for download; run it in Jupyter
with chainrule installed ([Getting started](../getting-started.md)).

| {" | ".join(header)} |
| {" | ".join("---" for _ in header)} |
{rows}
"""


# ---- scripts vendored from npm ------------------------------------------------------------
def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def vendored(package: str, version: str, integrity: str,
             members: dict[str, str]) -> dict[str, Path]:
    """The site path -> local file of each file of an npm package that the site serves.

    The package's tarball is fetched once with ``npm pack`` into ``.cache/docs``, checked
    against its pinned ``integrity`` (the registry's sha512), and the files unpacked beside it."""
    folder = CACHE / f"{package}-{version}"
    files = {site: folder / member.split("/", 1)[1] for member, site in members.items()}
    if all(path.exists() for path in files.values()):
        return files
    CACHE.mkdir(parents=True, exist_ok=True)
    tarball = CACHE / f"{package}-{version}.tgz"
    if not tarball.exists() or _integrity(tarball) != integrity:
        npm = shutil.which("npm")
        if npm is None:
            raise PluginError(f"the docs vendor {package} from npm: install npm (Debian: "
                              f"apt-get install npm) or put {tarball.name} in {CACHE}")
        log.info("npm pack %s@%s", package, version)
        subprocess.run([npm, "pack", f"{package}@{version}", "--pack-destination", str(CACHE),
                        "--silent"], check=True, stdout=subprocess.DEVNULL)
    if _integrity(tarball) != integrity:
        raise PluginError(f"{tarball}: not the {package} {version} that npm publishes "
                          "(integrity mismatch)")
    with tarfile.open(tarball) as archive:
        for member, site in members.items():
            data = archive.extractfile(member)
            if data is None:
                raise PluginError(f"{tarball} has no {member}")
            files[site].parent.mkdir(parents=True, exist_ok=True)
            files[site].write_bytes(data.read())
    return files
