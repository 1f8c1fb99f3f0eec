"""``chainrule lite``'s building blocks, fast and offline: the Pyodide lock pruning and wheel
verification, the pure-Python dependency closure, the notebooks as the site serves them,
and the command's usage errors. Nothing here reaches npm, PyPI or a browser."""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import sys
import tomllib
import types
import zipfile
from pathlib import Path

import ast
import nbformat
import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from viz.cli.lite import pyodide_dist, site, wheels
from viz.cli.lite.pyodide_dist import (CORE_FILES, PROVENANCE, WHEEL_FOLDER, WHEEL_SOURCE,
                                       PyodideFetchError, copy_pruned, lock_closure, prune_lock,
                                       vendored_pyodide, verified_wheels)
from viz.cli.lite.site import (INSTALL_MARK, SiteError, check_output_dir, imported_modules,
                               install_cell, notebook_paths, pyodide_requirements, site_notebook)
from viz.cli.lite.wheels import PYODIDE_MARKERS, _pinned, closure, wheel_requirements
from viz.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def entry(file_name: str, depends=(), imports=(), sha256: str = "0" * 64) -> dict:
    return {"name": file_name.split("-")[0], "version": "1.0", "file_name": file_name,
            "sha256": sha256, "depends": list(depends), "imports": list(imports)}


def ipython_lock() -> dict:
    """A lock shaped like Pyodide's: keys with ``-``, dependencies sometimes with ``_``."""
    return {"info": {"version": "0.27.7", "arch": "wasm32"}, "packages": {
        "ipython": entry("ipython-8.whl", ["prompt_toolkit", "traitlets"], ["IPython"]),
        "prompt-toolkit": entry("prompt_toolkit-3.whl", ["wcwidth"], ["prompt_toolkit"]),
        "wcwidth": entry("wcwidth-0.2.whl", [], ["wcwidth"]),
        "traitlets": entry("traitlets-5.whl", [], ["traitlets"]),
        "numpy": entry("numpy-2.whl", [], ["numpy"]),
        "matplotlib": entry("matplotlib-3.whl", ["numpy", "pillow"], ["matplotlib"]),
        "pillow": entry("pillow-10.whl", [], ["PIL"]),
        "seaborn": entry("seaborn-0.13.whl", ["matplotlib"], ["seaborn"]),
        "scipy": entry("scipy-1.whl", ["numpy"], ["scipy"]),
    }}


# --- pyodide_dist: the lock -------------------------------------------------------------

def test_prune_lock_drops_missing_and_what_depends_on_them_across_spellings() -> None:
    lock = ipython_lock()
    files = {e["file_name"] for e in lock["packages"].values()}
    # pillow's and scipy's files are missing: matplotlib needs pillow, seaborn needs matplotlib
    pruned, dropped = prune_lock(lock, files - {"pillow-10.whl", "scipy-1.whl"})
    assert dropped == ["matplotlib", "pillow", "scipy", "seaborn"]
    # ipython depends on "prompt_toolkit", the lock's key is "prompt-toolkit": the same package
    assert set(pruned["packages"]) == {"ipython", "prompt-toolkit", "wcwidth", "traitlets", "numpy"}
    assert pruned["info"] == lock["info"]
    assert pruned["packages"]["ipython"] == lock["packages"]["ipython"]
    assert len(lock["packages"]) == 9                    # the lock given is left as it was


def test_prune_lock_follows_the_underscore_spelling_when_the_dependency_is_gone() -> None:
    lock = ipython_lock()
    files = {e["file_name"] for e in lock["packages"].values()}
    pruned, dropped = prune_lock(lock, files - {"wcwidth-0.2.whl"})
    # wcwidth missing -> prompt-toolkit dropped -> ipython (needing "prompt_toolkit") dropped
    assert dropped == ["ipython", "prompt-toolkit", "wcwidth"]
    assert set(pruned["packages"]) == {"traitlets", "numpy", "matplotlib", "pillow", "seaborn",
                                       "scipy"}


def test_lock_closure_follows_depends_and_ignores_unknown_names() -> None:
    lock = ipython_lock()
    lock["packages"]["traitlets"]["depends"] = ["not-in-the-lock"]
    assert lock_closure(lock, {"IPython", "no-such-package"}) == {
        "ipython", "prompt-toolkit", "wcwidth", "traitlets"}
    assert lock_closure(lock, {"prompt_toolkit"}) == {"prompt-toolkit", "wcwidth"}
    assert lock_closure(lock, {"seaborn"}) == {"seaborn", "matplotlib", "numpy", "pillow"}
    assert lock_closure(lock, set()) == set()


def test_copy_pruned_writes_only_the_kept_packages_and_the_core(tmp_path: Path) -> None:
    lock = ipython_lock()
    source = tmp_path / "full"
    source.mkdir()
    for name in [*CORE_FILES, PROVENANCE]:
        if name != "pyodide-lock.json":
            (source / name).write_bytes(f"core {name}".encode())
    for e in lock["packages"].values():
        (source / e["file_name"]).write_bytes(f"wheel {e['file_name']}".encode())
    (source / "pyodide-lock.json").write_text(json.dumps(lock))
    (source / "stray.txt").write_text("not part of Pyodide")

    keep = {"numpy", "matplotlib", "pillow"}
    written = copy_pruned(source, tmp_path / "site", keep)
    target = tmp_path / "site"
    expected = {*CORE_FILES, PROVENANCE, "numpy-2.whl", "matplotlib-3.whl", "pillow-10.whl"}
    assert {p.name for p in target.iterdir()} == expected
    on_disk = json.loads((target / "pyodide-lock.json").read_text())
    assert on_disk == written
    assert set(on_disk["packages"]) == keep and on_disk["info"] == lock["info"]
    assert (target / "numpy-2.whl").read_bytes() == b"wheel numpy-2.whl"
    assert (target / "pyodide.asm.wasm").read_bytes() == b"core pyodide.asm.wasm"


# --- pyodide_dist: the wheels -----------------------------------------------------------

def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def archive_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_verified_wheels_accepts_matching_ignores_unlisted(tmp_path: Path) -> None:
    lock = {"packages": {"good": entry("good-1.0-py3-none-any.whl", sha256=sha(b"good bytes"))}}
    archive = archive_with(tmp_path / "a.whl", {
        WHEEL_FOLDER + "good-1.0-py3-none-any.whl": b"good bytes",
        WHEEL_FOLDER + "unlisted-1.0.whl": b"anything",          # not in the lock: ignored
        WHEEL_FOLDER + "sub/good-1.0-py3-none-any.whl": b"x",    # not directly in the folder
        "elsewhere/good-1.0-py3-none-any.whl": b"y",             # outside the folder
    })
    assert verified_wheels(archive, lock) == {"good-1.0-py3-none-any.whl": b"good bytes"}


def test_verified_wheels_refuses_a_tampered_file_naming_it(tmp_path: Path) -> None:
    lock = {"packages": {"good": entry("good-1.0.whl", sha256=sha(b"good")),
                         "bad": entry("bad-2.0.whl", sha256=sha(b"what pyodide built"))}}
    archive = archive_with(tmp_path / "a.whl", {WHEEL_FOLDER + "good-1.0.whl": b"good",
                                                WHEEL_FOLDER + "bad-2.0.whl": b"tampered"})
    with pytest.raises(PyodideFetchError, match=r"bad-2\.0\.whl .*does not match the sha256"):
        verified_wheels(archive, lock)


def fake_npm_core(tmp_path: Path, lock: dict) -> Path:
    core = tmp_path / "npm"
    core.mkdir()
    for name in CORE_FILES:
        (core / name).write_bytes(b"core")
    (core / "pyodide-lock.json").write_text(json.dumps(lock))
    return core


def fake_pip_download(monkeypatch: pytest.MonkeyPatch, members: dict[str, bytes]) -> None:
    """``pip download`` of the wheel source writes an archive holding ``members``."""
    name, version = WHEEL_SOURCE

    def run(command: list[str], cwd: Path) -> None:
        assert command[1:4] == ["-m", "pip", "download"]
        archive_with(Path(cwd) / f"{name.replace('-', '_')}-{version}-py3-none-any.whl", members)
    monkeypatch.setattr(pyodide_dist, "_run", run)


def test_vendored_pyodide_writes_nothing_for_a_refused_archive(tmp_path, monkeypatch) -> None:
    lock = {"info": {"version": "0.27.7"},
            "packages": {"bad": entry("bad-2.0.whl", sha256=sha(b"what pyodide built"))}}
    core = fake_npm_core(tmp_path, lock)
    monkeypatch.setattr(pyodide_dist, "npm_core", lambda **_: core)
    fake_pip_download(monkeypatch, {WHEEL_FOLDER + "bad-2.0.whl": b"tampered"})
    target = tmp_path / "cache" / "pyodide"
    with pytest.raises(PyodideFetchError, match="bad-2.0.whl"):
        vendored_pyodide(target, log=lambda _: None)
    assert not target.exists() and not target.with_name("pyodide.partial").exists()


def test_vendored_pyodide_keeps_verified_wheels_and_prunes_the_lock(tmp_path, monkeypatch) -> None:
    lock = ipython_lock()
    data = {e["file_name"]: f"built {e['file_name']}".encode() for e in lock["packages"].values()}
    for e in lock["packages"].values():
        e["sha256"] = sha(data[e["file_name"]])
    core = fake_npm_core(tmp_path, lock)
    monkeypatch.setattr(pyodide_dist, "npm_core", lambda **_: core)
    # the archive lacks pillow: matplotlib and seaborn cannot load, so they are not offered
    fake_pip_download(monkeypatch, {WHEEL_FOLDER + n: d for n, d in data.items()
                                    if n != "pillow-10.whl"})
    target = tmp_path / "pyodide"
    assert vendored_pyodide(target, log=lambda _: None) == target
    served = json.loads((target / "pyodide-lock.json").read_text())
    assert set(served["packages"]) == {"ipython", "prompt-toolkit", "wcwidth", "traitlets",
                                       "numpy", "scipy"}
    assert (target / "numpy-2.whl").read_bytes() == b"built numpy-2.whl"
    assert sha(b"built numpy-2.whl") in (target / PROVENANCE).read_text()


def test_vendored_pyodide_reuses_a_finished_copy_without_npm_or_pip(tmp_path, monkeypatch) -> None:
    target = tmp_path / "pyodide"
    target.mkdir()
    (target / PROVENANCE).write_text("built before")

    def refuse(*args, **kwargs):
        raise AssertionError("vendored_pyodide fetched again")
    monkeypatch.setattr(pyodide_dist.subprocess, "run", refuse)
    monkeypatch.setattr(pyodide_dist.shutil, "which", refuse)
    monkeypatch.setattr(pyodide_dist, "npm_core", refuse)
    assert vendored_pyodide(target, log=refuse) == target
    assert [p.name for p in target.iterdir()] == [PROVENANCE]


# --- wheels -----------------------------------------------------------------------------

def make_wheel(folder: Path, name: str, requires: list[str], version: str = "1.0") -> Path:
    """A minimal wheel: just its METADATA with these ``Requires-Dist``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}-py3-none-any.whl"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires)
    return archive_with(path, {f"{name}-{version}.dist-info/METADATA": metadata.encode()})


def test_wheel_requirements_keeps_only_what_applies_in_pyodide(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "tiny", [
        "numpy>=1.20",
        "wasmtime>=20; sys_platform != 'emscripten'",
        "pytest; extra == 'x'",
        "tomli; python_version < '3.11'",
        "typing-extensions; python_version >= '3.12'",
        "in-the-browser; sys_platform == 'emscripten'",
    ])
    got = [str(r) for r in wheel_requirements(wheel)]
    assert got == ["numpy>=1.20", 'typing-extensions; python_version >= "3.12"',
                   'in-the-browser; sys_platform == "emscripten"']


def test_wheel_requirements_of_a_wheel_with_none(tmp_path: Path) -> None:
    assert wheel_requirements(make_wheel(tmp_path, "bare", [])) == []


def test_pyproject_native_renderers_are_only_for_non_emscripten() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(t) for t in project["dependencies"]]

    def applying(env: dict) -> set[str]:
        return {canonicalize_name(r.name) for r in requirements
                if r.marker is None or r.marker.evaluate(env)}
    host, browser = applying(default_environment()), applying(PYODIDE_MARKERS)
    native = {"wasmtime", "resvg-py", "font-source-sans-pro"}
    assert sys.platform != "emscripten"
    assert native <= host
    assert not native & browser
    assert host - browser == native                       # everything else is needed in both


def test_pinned_uses_this_environments_version_when_it_fits() -> None:
    installed = importlib.metadata.version("packaging")
    assert _pinned(Requirement("packaging>=1")) == f"packaging=={installed}"
    assert _pinned(Requirement("packaging<0.1")) == "packaging<0.1"
    assert _pinned(Requirement("surely-not-installed-pkg>=2")) == "surely-not-installed-pkg>=2"


def test_closure_follows_dependencies_once_and_skips_provided(tmp_path, monkeypatch) -> None:
    store = tmp_path / "index"
    synthetic = {
        "alpha": make_wheel(store, "alpha", ["Beta>=1", "provided.pkg"]),
        "beta": make_wheel(store, "beta", ["alpha", "gamma; sys_platform == 'emscripten'",
                                          "delta; sys_platform != 'emscripten'"]),
        "gamma": make_wheel(store, "gamma", ["Alpha"]),               # a cycle back to alpha
        "extra-one": make_wheel(store, "extra_one", ["gamma"]),
    }
    fetched: list[str] = []

    def fetch(requirement: Requirement, dest: Path) -> Path:
        fetched.append(canonicalize_name(requirement.name))
        return synthetic[canonicalize_name(requirement.name)]
    monkeypatch.setattr(wheels, "fetch_pure_wheel", fetch)
    root = make_wheel(tmp_path / "own", "chainrule", ["alpha", "Provided_Pkg", "numpy"])
    logged: list[str] = []
    got = closure([root], {"Provided-Pkg", "NumPy"}, tmp_path / "out", log=logged.append,
                  extra=["extra_one"])
    assert sorted(fetched) == ["alpha", "beta", "extra-one", "gamma"]   # each once; no delta
    assert got == sorted(synthetic.values())
    assert len(logged) == 4 and (tmp_path / "out").is_dir()


# --- site: the notebooks ----------------------------------------------------------------

def notebook(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_imported_modules_reads_code_cells_only() -> None:
    nb = notebook(
        nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np\nimport os.path"),
        nbformat.v4.new_code_cell("from x.y import z\nfrom . import sibling\nfrom .pkg import q"),
        nbformat.v4.new_code_cell("def broken(:\n    import notparsed"),
        nbformat.v4.new_markdown_cell("import inmarkdown"),
        nbformat.v4.new_code_cell("!pip install foo\nimport sklearn.datasets, json"),
        nbformat.v4.new_code_cell("%%time\nimport scipy"),
        nbformat.v4.new_code_cell("def f():\n    from matplotlib import pyplot"),
    )
    assert imported_modules(nb) == {"numpy", "os", "x", "sklearn", "json", "scipy", "matplotlib"}


def site_lock() -> dict:
    return {"packages": {
        "numpy": entry("numpy.whl", imports=["numpy"]),
        "scikit-learn": entry("sklearn.whl", ["numpy"], ["sklearn"]),
        "matplotlib": entry("mpl.whl", ["numpy"], ["matplotlib", "mpl_toolkits"]),
        "ssl": entry("ssl.whl", imports=["ssl"]),
        "pyyaml": entry("yaml.whl", imports=["yaml"]),
    }}


def test_pyodide_requirements_maps_imports_to_lock_names() -> None:
    nb = notebook(nbformat.v4.new_code_cell(
        "import ssl, os\nfrom sklearn.linear_model import LinearRegression\n"
        "from mpl_toolkits import mplot3d\nimport numpy\nimport autograd_core"))
    assert pyodide_requirements(nb, site_lock()) == ["matplotlib", "numpy", "scikit-learn"]


def run_cell_source(source: str) -> dict:
    """Run a cell's source as IPython would (top-level ``await`` allowed); its namespace."""
    code = compile(source, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    ns: dict = {}
    result = eval(code, ns)
    if result is not None:                     # a coroutine: drive it (nothing it awaits suspends)
        with pytest.raises(StopIteration):
            result.send(None)
    return ns


@pytest.fixture
def fake_piplite(monkeypatch: pytest.MonkeyPatch) -> list:
    installs: list = []

    async def install(requirements):
        installs.append(requirements)
    monkeypatch.setitem(sys.modules, "piplite", types.SimpleNamespace(install=install))
    return installs


def test_install_cell_does_nothing_on_cpython(fake_piplite: list) -> None:
    cell = install_cell(["chainrule", "anywidget", "numpy"])
    assert cell.cell_type == "code" and cell.source.startswith(INSTALL_MARK)
    ns = run_cell_source(cell.source)
    assert fake_piplite == [] and "piplite" not in ns


def test_install_cell_installs_its_requirements_in_pyodide(fake_piplite, monkeypatch) -> None:
    monkeypatch.setattr(sys, "platform", "emscripten")
    run_cell_source(install_cell(["chainrule", "anywidget", "scikit-learn"]).source)
    assert fake_piplite == [["chainrule", "anywidget", "scikit-learn"]]


def write_notebook(path: Path, nb: nbformat.NotebookNode) -> Path:
    nbformat.write(nb, path)
    return path


def course_like(tmp_path: Path) -> Path:
    code = nbformat.v4.new_code_cell("import numpy as np\nx = 2", execution_count=3,
                                     outputs=[nbformat.v4.new_output("stream", text="hi\n")])
    return write_notebook(tmp_path / "course.ipynb", notebook(
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_raw_cell("# BEGIN QUESTION"),
        code,
        nbformat.v4.new_code_cell("from sklearn import datasets"),
    ))


def install_cells(nb: nbformat.NotebookNode) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.source.startswith(INSTALL_MARK)]


def test_site_notebook_inserts_one_install_cell_before_the_first_code_cell(tmp_path) -> None:
    path = course_like(tmp_path)
    original = nbformat.read(path, as_version=4)
    nb = site_notebook(path, site_lock(), clear_outputs=False)
    assert install_cells(nb) == [2]
    rest = [c for i, c in enumerate(nb.cells) if i != 2]
    assert rest == original.cells                      # sources, outputs, metadata unchanged
    assert nb.cells[3].outputs[0].text == "hi\n" and nb.cells[3].execution_count == 3
    source = nb.cells[2].source
    for name in ("chainrule", "anywidget", "numpy", "scikit-learn"):
        assert json.dumps(name) in source
    assert "matplotlib" not in source
    assert nb.metadata["kernelspec"] == {"name": "python", "display_name": "Python (Pyodide)",
                                         "language": "python"}
    nbformat.validate(nb)


def test_site_notebook_clears_outputs_only_when_asked(tmp_path) -> None:
    nb = site_notebook(course_like(tmp_path), site_lock(), clear_outputs=True)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) == 3
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert [c.source for c in nb.cells if c.cell_type != "code"] == ["# Title", "# BEGIN QUESTION"]


def test_site_notebook_without_code_gets_the_cell_at_the_end(tmp_path) -> None:
    path = write_notebook(tmp_path / "text.ipynb", notebook(nbformat.v4.new_markdown_cell("x")))
    nb = site_notebook(path, site_lock(), clear_outputs=False)
    assert install_cells(nb) == [1] and len(nb.cells) == 2


def test_site_notebook_of_a_site_notebook_keeps_one_install_cell(tmp_path) -> None:
    served = site_notebook(course_like(tmp_path), site_lock(), clear_outputs=False)
    again = site_notebook(write_notebook(tmp_path / "again.ipynb", served), site_lock(), False)
    assert install_cells(again) == [2]
    assert len(again.cells) == len(served.cells)
    nbformat.validate(again)


def test_site_notebook_of_nbformat_4_4_stays_valid(tmp_path) -> None:
    old = {"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [
        {"cell_type": "code", "source": "import numpy", "metadata": {}, "outputs": [],
         "execution_count": None}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(old))
    nb = site_notebook(path, site_lock(), clear_outputs=False)
    assert install_cells(nb) == [0]
    nbformat.validate(nb)                     # no cell "id" in a 4.4 notebook (4.5 added them)


def test_site_notebook_refuses_a_file_that_is_not_a_notebook(tmp_path) -> None:
    path = tmp_path / "fake.ipynb"
    path.write_text("not json")
    with pytest.raises(SiteError, match="fake.ipynb: not a Jupyter notebook"):
        site_notebook(path, site_lock(), clear_outputs=False)


def blank(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_notebook(path, notebook())


def test_notebook_paths_folders_sorted_files_as_given(tmp_path) -> None:
    folder = tmp_path / "course"
    b, a = blank(folder / "b.ipynb"), blank(folder / "a.ipynb")
    (folder / "notes.txt").write_text("x")
    blank(folder / "sub" / "deeper.ipynb")
    z = blank(tmp_path / "z.ipynb")
    assert notebook_paths([z, folder]) == [z, a, b]
    assert notebook_paths([b, a]) == [b, a]


@pytest.mark.parametrize("case, message", [
    ("duplicate", "two notebooks have the same name: a.ipynb"),
    ("suffix", "notes.txt: not a notebook"),
    ("missing", "nowhere.ipynb: no such file or folder"),
    ("empty", "empty: a folder with no notebooks"),
])
def test_notebook_paths_refuses(tmp_path, case: str, message: str) -> None:
    paths = {
        "duplicate": lambda: [blank(tmp_path / "one" / "a.ipynb"), tmp_path / "two"],
        "suffix": lambda: [tmp_path / "notes.txt"],
        "missing": lambda: [tmp_path / "nowhere.ipynb"],
        "empty": lambda: [tmp_path / "empty"],
    }[case]()
    blank(tmp_path / "two" / "a.ipynb")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SiteError, match=message):
        notebook_paths(paths)


def test_check_output_dir(tmp_path) -> None:
    check_output_dir(tmp_path / "new")                         # not there yet: fine
    (tmp_path / "empty").mkdir()
    check_output_dir(tmp_path / "empty")
    built = tmp_path / "built"
    built.mkdir()
    (built / "jupyter-lite.json").write_text("{}")
    (built / "index.html").write_text("")
    check_output_dir(built)                                    # a site built before: rebuilt
    (tmp_path / "file").write_text("x")
    with pytest.raises(SiteError, match="is a file"):
        check_output_dir(tmp_path / "file")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "thesis.tex").write_text("x")
    with pytest.raises(SiteError, match="a folder with other files"):
        check_output_dir(tmp_path / "home")


# --- the command ------------------------------------------------------------------------

@pytest.fixture
def no_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any step of a real build fails the test: the command must stop before."""
    def refuse(*args, **kwargs):
        raise AssertionError("chainrule lite started building")
    for name in ("front_end_paths", "vendored_pyodide", "npm_core", "project_wheel", "closure"):
        monkeypatch.setattr(site, name, refuse)


@pytest.mark.parametrize("case, expected", [
    ("missing", "nowhere.ipynb: no such file or folder"),
    ("suffix", "notes.txt: not a notebook"),
    ("not json", "broken.ipynb: not a Jupyter notebook"),
    ("empty folder", "a folder with no notebooks"),
    ("output is a file", "is a file"),
    ("output not a site", "a folder with other files"),
])
def test_lite_usage_errors_exit_2_before_building(tmp_path, capsys, no_build, case,
                                                  expected) -> None:
    good = blank(tmp_path / "good.ipynb")
    output = tmp_path / "site"
    args = {
        "missing": [str(tmp_path / "nowhere.ipynb")],
        "suffix": [str(tmp_path / "notes.txt")],
        "not json": [str(tmp_path / "broken.ipynb")],
        "empty folder": [str(tmp_path / "empty")],
        "output is a file": [str(good)],
        "output not a site": [str(good)],
    }[case]
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "broken.ipynb").write_text("{ not json")
    (tmp_path / "empty").mkdir()
    if case == "output is a file":
        output.write_text("x")
    elif case == "output not a site":
        output.mkdir()
        (output / "keep.txt").write_text("x")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert main(["lite", *args, "--output", str(output)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chainrule lite: error: ") and err.count("\n") == 1, err
    assert expected in err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_lite_fetch_failure_exits_1_with_one_line(tmp_path, capsys, monkeypatch) -> None:
    good = blank(tmp_path / "good.ipynb")
    monkeypatch.setattr(site, "front_end_paths", lambda: [])

    def no_npm(**_):
        raise PyodideFetchError("npm is needed once to fetch Pyodide's core")
    monkeypatch.setattr(site, "vendored_pyodide", no_npm)
    assert main(["lite", str(good), "-o", str(tmp_path / "site")]) == 1
    err = capsys.readouterr().err
    assert err == "chainrule lite: error: npm is needed once to fetch Pyodide's core\n"


def test_lite_help(capsys) -> None:
    assert main(["lite", "--help"]) == 0
    out = capsys.readouterr().out
    assert "http.server" in out and "--clear-outputs" in out


# ---- the course's student copies (the default of chainrule lite) ---------------------------
def test_student_course_is_the_handout(tmp_path) -> None:
    pytest.importorskip("otter")
    from viz.cli.lite.course import student_course

    master = nbformat.read(ROOT / "notebooks" / "02_value_graphs.ipynb", as_version=4)
    [copy_path] = student_course(tmp_path / "course", ["02_value"], log=lambda _: None)
    assert copy_path == tmp_path / "course" / "02_value_graphs.ipynb"
    assert sorted(p.name for p in (tmp_path / "course").iterdir()) == [copy_path.name]
    copy = nbformat.read(copy_path, as_version=4)
    answer = next(c for c in copy.cells if "def dl_dW1" in c.source)
    solution = next(c for c in master.cells if "def dl_dW1" in c.source)
    assert "# SOLUTION" in solution.source and "# SOLUTION" not in answer.source
    assert "a = ..." in answer.source
    assert not any(c.metadata.get("chainrule") for c in copy.cells)    # no stored wrong answers
    assert all(not c.outputs for c in copy.cells if c.cell_type == "code")


def test_student_course_refuses_an_unknown_name(tmp_path) -> None:
    from viz.cli.lite.course import CourseError, student_course

    with pytest.raises(CourseError, match="no course notebook matches 99_nothing"):
        student_course(tmp_path, ["99_nothing"], log=lambda _: None)


def test_lite_without_notebooks_builds_the_student_copies(tmp_path, monkeypatch, capsys) -> None:
    """``chainrule lite`` alone: the course's student copies, in course order, into the site."""
    import viz.cli.lite.course as course

    built = {}

    def fake_course(out, names=(), log=print):
        out.mkdir(parents=True, exist_ok=True)
        return [blank(out / "00_a.ipynb"), blank(out / "01_b.ipynb")]

    def fake_build(notebooks, output, **options):
        built.update(names=[Path(p).name for p in notebooks], exist=all(Path(p).is_file() for p in notebooks),
                     output=output, options=options)
    monkeypatch.setattr(course, "student_course", fake_course)
    monkeypatch.setattr(site, "build_site", fake_build)
    assert main(["lite", "-o", str(tmp_path / "site"), "--cdn"]) == 0
    assert built["names"] == ["00_a.ipynb", "01_b.ipynb"] and built["exist"]
    assert built["output"] == tmp_path / "site" and built["options"]["cdn"] is True


def test_install_cell_imports_matplotlib_quietly_when_the_notebook_uses_it(fake_piplite, monkeypatch) -> None:
    """matplotlib's first import in a fresh browser says it builds the font cache (a red box in
    the notebook's first cell that uses it): the install cell imports it with that quiet, and
    leaves the matplotlib logger as it found it."""
    import logging

    monkeypatch.setattr(sys, "platform", "emscripten")
    levels = []
    real = logging.Logger.setLevel
    monkeypatch.setattr(logging.Logger, "setLevel", lambda self, level: (
        levels.append((self.name, level)), real(self, level))[1])
    run_cell_source(install_cell(["chainrule", "matplotlib"]).source)
    assert fake_piplite == [["chainrule", "matplotlib"]] and "matplotlib" in sys.modules
    assert levels[0] == ("matplotlib", logging.ERROR) and levels[-1] == ("matplotlib", logging.NOTSET)
    assert logging.getLogger("matplotlib").level == logging.NOTSET
    assert "import matplotlib" not in install_cell(["chainrule", "numpy"]).source


def test_project_root_is_the_checkout_imported_or_the_current_folder(tmp_path, monkeypatch) -> None:
    """``pip install .`` puts chainrule in site-packages: ``chainrule lite`` run in the checkout
    still finds the notebooks and the source to build the wheel from; elsewhere, none."""
    assert wheels.project_root() == ROOT                      # the tests import this checkout
    monkeypatch.setattr(wheels, "__file__", str(tmp_path / "site-packages/viz/cli/lite/wheels.py"))
    monkeypatch.chdir(tmp_path)
    assert wheels.project_root() is None
    (tmp_path / "viz").mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "someone-else"\n')
    assert wheels.project_root() is None                      # another project's checkout
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "chainrule"\n')
    assert wheels.project_root() == tmp_path


def test_check_site_refuses_a_site_that_would_not_work(tmp_path) -> None:
    """jupyterlite-core without jupyter_server writes no contents index and says nothing: the
    student would see an empty file browser. The build refuses such a site, naming why."""
    from viz.cli.lite.site import check_site

    out = tmp_path / "site"
    (out / "pypi").mkdir(parents=True)
    (out / "pypi" / "chainrule-0.1.0-py3-none-any.whl").write_bytes(b"x")
    with pytest.raises(SiteError, match=r"lists no a\.ipynb.*was not written.*jupyter_server"):
        check_site(out, ["a.ipynb"], cdn=True)
    (out / "api" / "contents").mkdir(parents=True)
    (out / "api" / "contents" / "all.json").write_text(json.dumps({"content": [{"name": "b.ipynb"}]}))
    with pytest.raises(SiteError, match=r"lists no a\.ipynb .*lacks them"):
        check_site(out, ["a.ipynb", "b.ipynb"], cdn=True)
    check_site(out, ["b.ipynb"], cdn=True)                      # listed, wheel there: fine
    with pytest.raises(SiteError, match="no Pyodide"):
        check_site(out, ["b.ipynb"], cdn=False)
    (out / "static" / "pyodide").mkdir(parents=True)
    (out / "static" / "pyodide" / "pyodide.asm.wasm").write_bytes(b"\0asm")
    check_site(out, ["b.ipynb"], cdn=False)
    (out / "pypi" / "chainrule-0.1.0-py3-none-any.whl").unlink()
    with pytest.raises(SiteError, match="no chainrule wheel"):
        check_site(out, ["b.ipynb"], cdn=False)


def test_lite_config_never_falls_back_to_pypi_and_names_the_cdn_only_when_asked() -> None:
    from viz.cli.lite.site import CDN_PYODIDE, KERNEL_SETTINGS, lite_config

    vendored = lite_config(cdn=False)["jupyter-config-data"]["litePluginSettings"][KERNEL_SETTINGS]
    cdn = lite_config(cdn=True)["jupyter-config-data"]["litePluginSettings"][KERNEL_SETTINGS]
    assert vendored == {"disablePyPIFallback": True}
    assert cdn == {"disablePyPIFallback": True, "pyodideUrl": CDN_PYODIDE}
    # the same Pyodide as the vendored one, from Pyodide's own CDN
    assert CDN_PYODIDE == f"https://cdn.jsdelivr.net/pyodide/v{pyodide_dist.PYODIDE_VERSION}/full/pyodide.js"
