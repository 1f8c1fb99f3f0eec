"""The wheels a browser kernel installs with ``%pip install chainrule``: chainrule's own, and
every pure-Python dependency that Pyodide does not already carry.

The dependencies are resolved here, at build time, for Pyodide's interpreter (its
environment markers: ``sys_platform == "emscripten"``, Python 3.12), so the site's
package index is closed: the kernel never needs PyPI. A package already installed in this
environment is fetched at the same version (the widget front-end copied into the site is
this environment's, and its kernel side must match it).
"""
from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Callable, Iterable

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PYODIDE_PYTHON = "3.12"
PYODIDE_MARKERS = dict(default_environment(), python_version=PYODIDE_PYTHON,
                       python_full_version="3.12.7", sys_platform="emscripten",
                       platform_system="Emscripten", platform_machine="wasm32",
                       implementation_name="cpython", platform_python_implementation="CPython",
                       os_name="posix", extra="")
"""The environment markers of Pyodide 0.27's interpreter."""


class WheelError(RuntimeError):
    """A wheel could not be built or fetched."""


def _run(command: list[str]) -> None:
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise WheelError(f"{' '.join(command)} failed (exit {proc.returncode}): "
                         f"{(proc.stderr or proc.stdout).strip()[-2000:]}")


def is_source_tree(folder: Path) -> bool:
    """Whether ``folder`` is a chainrule checkout: its ``pyproject.toml`` names the project
    ``chainrule``, beside the ``viz`` package."""
    pyproject = folder / "pyproject.toml"
    if not (pyproject.is_file() and (folder / "viz").is_dir()):
        return False
    return re.search(r'^name\s*=\s*"chainrule"\s*$', pyproject.read_text(encoding="utf-8"),
                     re.MULTILINE) is not None


def project_root() -> Path | None:
    """The chainrule source tree to build from: the one chainrule is imported from (an
    editable install), else the current folder when it is a checkout (``pip install .`` then
    ``chainrule lite`` in it); ``None`` when neither is."""
    for folder in (Path(__file__).resolve().parents[3], Path.cwd()):
        if is_source_tree(folder):
            return folder
    return None


def project_wheel(dest: Path) -> Path:
    """Build chainrule's wheel from its source tree into ``dest`` (``pip wheel --no-deps``)."""
    root = project_root()
    if root is None:
        raise WheelError("no chainrule source tree here (run chainrule lite in your checkout), "
                         "or pass the wheel to serve with --wheel")
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("chainrule-*.whl"):
        old.unlink()
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dest), str(root)])
    return next(dest.glob("chainrule-*.whl"))


def wheel_requirements(wheel: Path) -> list[Requirement]:
    """The ``Requires-Dist`` of ``wheel`` that apply in Pyodide (extras not asked for)."""
    with zipfile.ZipFile(wheel) as zf:
        metadata = next(name for name in zf.namelist() if name.endswith(".dist-info/METADATA"))
        headers = Parser().parsestr(zf.read(metadata).decode("utf-8"))
    requirements = [Requirement(text) for text in headers.get_all("Requires-Dist") or []]
    return [r for r in requirements if r.marker is None or r.marker.evaluate(PYODIDE_MARKERS)]


def _pinned(requirement: Requirement) -> str:
    """``name==version`` of this environment's copy when it satisfies ``requirement``."""
    try:
        version = importlib.metadata.version(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        return str(Requirement(f"{requirement.name}{requirement.specifier}"))
    if requirement.specifier.contains(version, prereleases=True):
        return f"{requirement.name}=={version}"
    return str(Requirement(f"{requirement.name}{requirement.specifier}"))


def fetch_pure_wheel(requirement: Requirement, dest: Path) -> Path:
    """Download the ``py3-none-any`` wheel of ``requirement`` (:func:`_pinned`) into ``dest``."""
    name = canonicalize_name(requirement.name)
    before = set(dest.glob("*.whl"))
    _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
          "--platform", "any", "--python-version", PYODIDE_PYTHON, "--implementation", "py",
          "--abi", "none", "-d", str(dest), _pinned(requirement)])
    for wheel in sorted(set(dest.glob("*.whl")) - before) or sorted(dest.glob("*.whl")):
        if canonicalize_name(wheel.name.split("-")[0]) == name:
            return wheel
    raise WheelError(f"pip found no pure-Python wheel of {requirement}")


def closure(roots: Iterable[Path], provided: set[str], dest: Path,
            log: Callable[[str], None] = print, extra: Iterable[str] = ()) -> list[Path]:
    """Every wheel the packages of ``roots`` (wheels) and ``extra`` (requirements) need in
    Pyodide, fetched into ``dest``, except the names in ``provided`` (what Pyodide's lock
    or the kernel already holds). A dependency with no pure-Python wheel raises
    :class:`WheelError` naming it."""
    dest.mkdir(parents=True, exist_ok=True)
    provided = {canonicalize_name(n) for n in provided}
    wheels: dict[str, Path] = {}
    queue = [r for root in roots for r in wheel_requirements(root)] + [Requirement(t) for t in extra]
    while queue:
        requirement = queue.pop(0)
        name = canonicalize_name(requirement.name)
        if name in provided or name in wheels:
            continue
        wheel = fetch_pure_wheel(requirement, dest)
        log(f"  {wheel.name}")
        wheels[name] = wheel
        queue.extend(wheel_requirements(wheel))
    return sorted(wheels.values())
