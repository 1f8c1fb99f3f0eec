"""Build notebooks into a static JupyterLite site whose kernel is Python in the browser.

The site holds JupyterLab (JupyterLite 0.5.1), the Pyodide kernel (0.5.2, Pyodide
0.27.7), the widget front-ends (ipywidgets' manager and anywidget, for ``viz.live``), the
notebooks, and a package index with chainrule's wheel and every pure-Python wheel it needs
(:mod:`viz.cli.lite.wheels`). With the vendored Pyodide (the default,
:func:`~viz.cli.lite.pyodide_dist.vendored_pyodide`) nothing is loaded from anywhere but
the site; ``cdn=True`` leaves Pyodide and its packages to Pyodide's CDN instead.

Each notebook gets one first code cell that installs what it imports from this site's index
(``piplite``): chainrule, anywidget, and the Pyodide packages it imports (matplotlib,
scikit-learn, ...). On CPython that cell does nothing.
"""
from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import nbformat

from .pyodide_dist import PYODIDE_VERSION, copy_pruned, lock_closure, npm_core, vendored_pyodide
from .wheels import closure, project_wheel, wheel_requirements

CDN_PYODIDE = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/pyodide.js"
KERNEL_SETTINGS = "@jupyterlite/pyodide-kernel-extension:kernel"
FRONT_ENDS = ("@jupyterlite/pyodide-kernel-extension", "@jupyter-widgets/jupyterlab-manager",
              "anywidget")
"""The JupyterLab extensions the site carries: the kernel, ipywidgets' manager, anywidget."""
KERNEL_PACKAGES = ("ipykernel", "piplite", "pyodide-kernel", "widgetsnbextension")
"""Packages the Pyodide kernel brings itself (its own wheels)."""
ALWAYS = ("chainrule", "anywidget")
"""What every notebook's install cell installs (anywidget: for ``viz.live``)."""
KERNEL_NEEDS = ("micropip", "ssl", "sqlite3", "ipython", "comm")
"""What the Pyodide kernel installs before the first cell runs (jupyterlite-pyodide-kernel
0.5.2's worker: micropip from the lock, then ssl, sqlite3, comm and ipython)."""
SETTINGS = {
    # every cell in the page: a stepper's or live view's script mounts into its own output, which
    # virtual scrolling would detach (and then "Run All" leaves cells unrendered)
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    # no news feed or update check (they would reach the network)
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}
"""JupyterLab settings the site starts with (a student can change them)."""
INSTALL_MARK = "# chainrule lite: install"


class SiteError(RuntimeError):
    """The site could not be built; the message says why."""


@dataclass
class Site:
    """What :func:`build_site` made: the folder, its notebooks, its size and whether it
    holds Pyodide itself."""
    output: Path
    notebooks: list[str]
    files: int
    size_bytes: int
    vendored: bool


def imported_modules(nb: nbformat.NotebookNode) -> set[str]:
    """The top-level module names the code cells import (absolute imports anywhere in a
    cell; IPython's ``%``/``!`` lines are left out first, and a cell that still does not parse
    is skipped)."""
    names: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines = [line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def pyodide_requirements(nb: nbformat.NotebookNode, lock: dict) -> list[str]:
    """The Pyodide packages (names in ``lock``) that provide a module ``nb`` imports."""
    by_import = {module: name for name, entry in lock["packages"].items()
                 for module in entry.get("imports", [])}
    return sorted({by_import[m] for m in imported_modules(nb) if m in by_import
                   and m not in sys.stdlib_module_names})


def install_cell(requirements: Iterable[str]) -> nbformat.NotebookNode:
    """The code cell that installs ``requirements`` from the site's own index in the browser
    (``piplite``), and does nothing on CPython. With matplotlib among them, it also imports
    matplotlib once, quietly: its first import in a fresh browser builds the font cache and
    says so on stderr, a red box that would otherwise appear in the notebook's first cell."""
    requirements = list(requirements)
    names = ", ".join(json.dumps(r) for r in requirements)
    source = (f"{INSTALL_MARK} chainrule and what this notebook imports, from this site\n"
              "import sys\n"
              'if sys.platform == "emscripten":    # Python in the browser (JupyterLite)\n'
              "    import piplite\n"
              f"    await piplite.install([{names}])")
    if "matplotlib" in requirements:
        source += ("\n    import logging                  # matplotlib's first import builds its "
                   "font cache:\n"
                   '    logging.getLogger("matplotlib").setLevel(logging.ERROR)    # no note about it\n'
                   "    import matplotlib\n"
                   '    logging.getLogger("matplotlib").setLevel(logging.NOTSET)')
    return nbformat.v4.new_code_cell(source)


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook in ``path``; :class:`SiteError` if it is not one."""
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:      # nbformat raises several kinds for a file that is not a notebook
        raise SiteError(f"{path}: not a Jupyter notebook ({type(exc).__name__}: {exc})") from exc


def site_notebook(path: Path, lock: dict, clear_outputs: bool) -> nbformat.NotebookNode:
    """``path`` as the site serves it: :func:`install_cell` before its first code cell
    (outputs cleared if asked)."""
    nb = read_notebook(path)
    nb.cells = [c for c in nb.cells               # a notebook from a site: its cell is replaced
                if not (c.cell_type == "code" and c.source.startswith(INSTALL_MARK))]
    requirements = [*ALWAYS, *(r for r in pyodide_requirements(nb, lock) if r not in ALWAYS)]
    cell = install_cell(requirements)
    if nb.nbformat_minor >= 5:
        cell.id = "chainrule-lite-install"
    else:                                         # cell ids came with nbformat 4.5
        del cell["id"]
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    nb.cells.insert(first_code, cell)
    if clear_outputs:
        for c in nb.cells:
            if c.cell_type == "code":
                c.outputs, c.execution_count = [], None
    nb.metadata["kernelspec"] = {"name": "python", "display_name": "Python (Pyodide)",
                                 "language": "python"}
    return nb


def notebook_paths(paths: Iterable[Path]) -> list[Path]:
    """The notebooks named by ``paths``: files as given, folders by their ``*.ipynb``
    (sorted); an unknown path or a folder without notebooks raises :class:`SiteError`."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            inside = sorted(p for p in path.glob("*.ipynb"))
            if not inside:
                raise SiteError(f"{path}: a folder with no notebooks (*.ipynb)")
            found.extend(inside)
        elif path.is_file():
            if path.suffix != ".ipynb":
                raise SiteError(f"{path}: not a notebook (the name must end in .ipynb)")
            found.append(path)
        else:
            raise SiteError(f"{path}: no such file or folder")
    names = [p.name for p in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SiteError(f"two notebooks have the same name: {', '.join(twice)}")
    return found


def front_end_paths() -> list[Path]:
    """This environment's copies of :data:`FRONT_ENDS` (``share/jupyter/labextensions``)."""
    from jupyter_core.paths import jupyter_path

    found = []
    for name in FRONT_ENDS:
        where = [Path(d) / name for d in jupyter_path("labextensions")
                 if (Path(d) / name / "package.json").is_file()]
        if not where:
            raise SiteError(f"the JupyterLab extension {name} is not installed here: "
                            "pip install 'chainrule[lite]'")
        found.append(where[0])
    return found


def lite_config(cdn: bool) -> dict:
    """The site's ``jupyter-lite.json`` before the build adds to it: the Pyodide kernel never
    falls back to PyPI (``%pip`` installs only what the site serves), and with ``cdn`` loads
    Pyodide :data:`PYODIDE_VERSION` from its CDN (the build points it at ``static/pyodide``
    otherwise)."""
    settings: dict = {"disablePyPIFallback": True}
    if cdn:
        settings["pyodideUrl"] = CDN_PYODIDE
    return {"jupyter-lite-schema-version": 0,
            "jupyter-config-data": {"appName": "chainrule",
                                    "litePluginSettings": {KERNEL_SETTINGS: settings}}}


def check_output_dir(output: Path) -> None:
    """Refuse to build over a file, or over a folder with files that are not a site's."""
    if output.exists() and not output.is_dir():
        raise SiteError(f"--output {output}: is a file")
    if output.is_dir() and any(output.iterdir()) and not (output / "jupyter-lite.json").is_file():
        raise SiteError(f"--output {output}: a folder with other files in it (not a site "
                        "built before); give a new or empty folder")


def check_site(output: Path, notebooks: list[str], cdn: bool) -> None:
    """Refuse a site that would not work: every notebook listed in the contents index (the
    file browser; ``jupyterlite-core`` writes it only when ``jupyter_server`` is installed, and
    otherwise says nothing), the package index with chainrule, and Pyodide when vendored."""
    index = output / "api" / "contents" / "all.json"
    listed = ({item["name"] for item in json.loads(index.read_text(encoding="utf-8"))["content"]}
              if index.is_file() else set())
    missing = [name for name in notebooks if name not in listed]
    if missing:
        raise SiteError(f"the site lists no {', '.join(missing)} ({index.relative_to(output)} "
                        f"{'lacks them' if index.is_file() else 'was not written'}; jupyterlite "
                        "indexes notebooks with jupyter_server: pip install 'chainrule[lite]')")
    if not any((output / "pypi").glob("chainrule-*.whl")):
        raise SiteError("the site's package index has no chainrule wheel")
    if not cdn and not (output / "static" / "pyodide" / "pyodide.asm.wasm").is_file():
        raise SiteError("the site has no Pyodide (static/pyodide)")


def build_site(notebooks: Iterable[Path], output: Path, *, cdn: bool = False,
               clear_outputs: bool = False, wheel: Path | None = None,
               log: Callable[[str], None] = print) -> Site:
    """Build ``notebooks`` (files or folders) into the static site ``output``.

    ``cdn``: load Pyodide and its packages from Pyodide's CDN instead of the site.
    ``clear_outputs``: serve the notebooks without their stored outputs. ``wheel``:
    chainrule's wheel to serve (default: built from the source tree imported).
    """
    output = Path(output).resolve()
    paths = notebook_paths(notebooks)
    check_output_dir(output)
    for path in paths:            # a file that is not a notebook: said before any download
        read_notebook(path)
    front_ends = front_end_paths()
    pyodide_dir = npm_core(log=log) if cdn else vendored_pyodide(log=log)
    lock = json.loads((pyodide_dir / "pyodide-lock.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="chainrule-lite-") as tmp_name:
        lite = Path(tmp_name)
        built = lite / "site"
        wheels = lite / "wheels"
        log("chainrule's wheel and the pure-Python wheels it needs in Pyodide:")
        own = Path(wheel) if wheel else project_wheel(wheels)
        if wheel:
            wheels.mkdir()
            shutil.copy2(own, wheels / own.name)
        provided = set(lock["packages"]) | set(KERNEL_PACKAGES)      # closure() normalises names
        deps = closure([own], provided, wheels, log=log, extra=[*ALWAYS[1:], "comm"])
        contents = lite / "files"
        contents.mkdir()
        # the Pyodide packages the site needs: the kernel's, the wheels', the notebooks'
        needed = set(KERNEL_NEEDS) | {r.name for w in [own, *deps] for r in wheel_requirements(w)}
        for path in paths:
            nb = site_notebook(path, lock, clear_outputs)
            needed |= set(pyodide_requirements(nb, lock))
            nbformat.write(nb, contents / path.name)
        if not cdn:
            kept = copy_pruned(pyodide_dir, lite / "static" / "pyodide", lock_closure(lock, needed))
            log(f"Pyodide {PYODIDE_VERSION} with {len(kept['packages'])} of its packages: "
                f"{', '.join(sorted(kept['packages']))}")
        (lite / "jupyter-lite.json").write_text(json.dumps(lite_config(cdn), indent=1),
                                                encoding="utf-8")
        (lite / "overrides.json").write_text(json.dumps(SETTINGS, indent=1), encoding="utf-8")
        (lite / "jupyter_lite_config.json").write_text(json.dumps({
            "LiteBuildConfig": {
                "contents": [str(contents)],
                "output_dir": str(built),
                "ignore_sys_prefix": ["federated_extensions"],
                "federated_extensions": [str(p) for p in front_ends],
                "no_sourcemaps": True,
                "settings_overrides": [str(lite / "overrides.json")],
                "apps": ["lab", "notebooks", "tree", "repl"],
            },
            "PipliteAddon": {"piplite_urls": [str(p) for p in [own, *deps]]},
        }, indent=1), encoding="utf-8")
        log(f"jupyter lite build -> {output}")
        proc = subprocess.run([sys.executable, "-m", "jupyterlite_core", "build",
                               "--lite-dir", str(lite)], cwd=lite, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SiteError("jupyter lite build failed:\n" + (proc.stdout + proc.stderr)[-3000:])
        check_site(built, [p.name for p in paths], cdn)
        if (built / "lab" / "favicon.ico").is_file() and not (built / "favicon.ico").exists():
            # browsers ask the site's root for it: without it every page logs a 404
            shutil.copy2(built / "lab" / "favicon.ico", built / "favicon.ico")
        # only a site that works replaces the folder (a site built before, or nothing)
        shutil.rmtree(output, ignore_errors=True)
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(built), str(output))
    files = [p for p in output.rglob("*") if p.is_file()]
    site = Site(output, [p.name for p in paths], len(files), sum(p.stat().st_size for p in files),
                vendored=not cdn)
    where = "Pyodide and every package served by the site itself" if site.vendored else \
        f"Pyodide loaded from {CDN_PYODIDE}"
    log(f"built {output}: {len(paths)} notebook{'' if len(paths) == 1 else 's'}, {site.files} files, "
        f"{site.size_bytes / 1e6:.1f} MB; {where}")
    log(f"try it: python -m http.server -d {output} 8000, then open "
        "http://127.0.0.1:8000/lab/index.html")
    return site
