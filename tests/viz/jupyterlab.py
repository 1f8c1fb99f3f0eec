"""A real JupyterLab for the browser tests: started as a subprocess on 127.0.0.1 with a free port
and a random token, isolated from the user's Jupyter and IPython settings, offline, and driven by
Playwright (the ``browser`` fixture of ``tests/conftest.py``).

- :func:`jupyterlab` starts it in a root folder the caller fills with notebooks, waits until it
  answers and stops it (and its kernels) when the ``with`` block ends;
- :func:`open_notebook` opens a notebook in a page whose every request is recorded: anything not
  addressed to 127.0.0.1 is aborted and reported (JupyterLab must not reach the network); the
  server's own connections and name lookups elsewhere are refused and listed by
  :meth:`Lab.network`;
- :func:`run_all` runs a whole notebook from the Run menu (JupyterLite's page is the same),
- :func:`run_cell` runs one cell with Shift+Enter, :func:`cell_running` tells whether a cell's
  execution indicator still shows ``[*]``.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

from ..conftest import keep_offline

ROOT = Path(__file__).resolve().parents[2]            # this checkout: first on the kernel's path
LOCAL = ("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:", "about:")

# JupyterLab's settings that would otherwise reach the network or put pop-ups over the page
# (the news feed, the update check, PyPI for the extension manager).
SERVER_CONFIG = {
    "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
               "extension_manager": "readonly"},
    "ServerApp": {"terminals_enabled": False},
}
# Loaded by the server (its config folder is ours): every connection or name lookup it makes to
# a host other than this machine is refused and written to $CHAINRULE_NETWORK_LOG, so a test
# sees the server reaching the network too, not only the page.
NO_NETWORK = """\
import os
import socket

LOCAL = {"127.0.0.1", "::1", "localhost"}
_log = os.environ["CHAINRULE_NETWORK_LOG"]


def _refuse(host):
    with open(_log, "a") as out:
        out.write(f"{host}\\n")
    raise OSError(f"the chainrule test refuses the network: {host}")


def _guard(method):
    def guarded(self, address, *args):
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOCAL:
            _refuse(address[0])
        return method(self, address, *args)
    return guarded


def _getaddrinfo(host, *args, _real=socket.getaddrinfo, **kwargs):
    if host not in LOCAL and host is not None:
        _refuse(host)
    return _real(host, *args, **kwargs)


socket.socket.connect = _guard(socket.socket.connect)
socket.socket.connect_ex = _guard(socket.socket.connect_ex)
socket.getaddrinfo = _getaddrinfo
"""
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True},
    "@jupyterlab/apputils-extension/themes.jupyterlab-settings": {"theme": "JupyterLab Light"},
}


def require(*modules: str) -> None:
    """The test extra installs JupyterLab and the widget libraries: missing in CI is a failure,
    elsewhere a skip."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            if os.environ.get("CI"):
                pytest.fail(f"{module} is not installed: the test extra installs it")
            pytest.skip(f"{module} is not installed (pip install '.[live]')")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab: its base URL, token, root folder and server log."""
    url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen = field(repr=False)

    def api(self, path: str, method: str = "GET", body: Any = None) -> Any:
        """A call to the server's REST API, authenticated with the token."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
        return json.loads(text) if text else None

    def network(self) -> list[str]:
        """The hosts other than this machine the server tried to reach (and was refused)."""
        log = self.log.with_name("network.log")
        return log.read_text().split() if log.exists() else []

    def notebook_url(self, name: str) -> str:
        return f"{self.url}lab/tree/{name}?token={self.token}&reset"


@contextmanager
def jupyterlab(tmp: Path, timeout: float = 90.0) -> Iterator[Lab]:
    """``jupyter lab`` on 127.0.0.1 serving ``tmp / "root"``: its configuration, data, runtime,
    settings, workspaces and IPython folders all under ``tmp`` (the user's never leak in), the
    kernel with this checkout first on ``PYTHONPATH``. Stopped, kernels included, on exit."""
    require("jupyterlab", "ipykernel")
    root = tmp / "root"
    root.mkdir(exist_ok=True)
    dirs = {name: tmp / name for name in ("config", "data", "runtime", "ipython", "settings",
                                          "workspaces")}
    for path in dirs.values():
        path.mkdir(exist_ok=True)
    (dirs["config"] / "jupyter_server_config.json").write_text(json.dumps(SERVER_CONFIG))
    (dirs["config"] / "jupyter_server_config.py").write_text(NO_NETWORK)
    for name, value in USER_SETTINGS.items():
        path = dirs["settings"] / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port, token = free_port(), secrets.token_hex(16)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("JUPYTER", "IPYTHON"))}
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]), IPYTHONDIR=str(dirs["ipython"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
        JUPYTER_PLATFORM_DIRS="1", CHAINRULE_NETWORK_LOG=str(tmp / "network.log"), PYTHONPATH=os.pathsep.join(
            [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]),
        MPLBACKEND="Agg")
    log = tmp / "jupyterlab.log"
    args = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")                     # CI's containers run as root
    with open(log, "wb") as out:
        process = subprocess.Popen(args, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}/", token, root, log, process)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited ({process.returncode}):\n"
                                   f"{log.read_text(errors='replace')[-3000:]}")
            try:
                lab.api("api/status")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not answer in {timeout:.0f} s:\n"
                                       f"{log.read_text(errors='replace')[-3000:]}") from None
                time.sleep(0.25)
        yield lab
    finally:
        stop(lab)


def stop(lab: Lab) -> None:
    """Shut the kernels down through the API, then the server; its whole process group (the
    kernels are its children) is killed if it lingers."""
    if lab.process.poll() is None:
        try:
            for kernel in lab.api("api/kernels"):
                lab.api(f"api/kernels/{kernel['id']}", method="DELETE")
        except (urllib.error.URLError, OSError):
            pass
        lab.process.send_signal(signal.SIGTERM)     # jupyter_server stops its kernels on SIGTERM
        try:
            lab.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(lab.process.pid, signal.SIGKILL)    # anything left of the session: kernels too
    except (ProcessLookupError, PermissionError):
        pass
    lab.process.wait()


@contextmanager
def open_notebook(browser: Any, lab: Lab, name: str, width: int = 1280, height: int = 1000,
                  ) -> Iterator[tuple[Any, list[str]]]:
    """``name`` opened in JupyterLab in a fresh page, its kernel idle. Every request not
    addressed to the local server is aborted and recorded in the list yielded with the page; the
    caller asserts it stays empty."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    elsewhere = keep_offline(page, LOCAL)
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text[:300]}") if m.type in ("error", "warning")
            else None)
    page.on("requestfailed", lambda r: console.append(f"request failed: {r.url} {r.failure}"))
    try:
        page.goto(lab.notebook_url(name))
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        kernel_idle(page, lab, name)
        yield page, elsewhere
    except BaseException:
        shot = lab.log.with_name(f"failed-{Path(name).stem}.png")      # for the one debugging it
        page.screenshot(path=str(shot))
        print(f"\nJupyterLab's page when it failed: {shot}; its log: {lab.log}; its console:")
        print("\n".join(console[-30:]))
        raise
    finally:
        context.close()


def kernel_idle(page: Any, lab: Lab, name: str, timeout: float = 60.0) -> None:
    """Wait until notebook ``name``'s kernel is started, connected to the page and idle: the
    server says so (the status bar's circle alone can show "idle" before the page has
    connected, and a cell run then is lost)."""
    deadline = time.monotonic() + timeout
    state: Any = None
    while True:
        try:                           # the server answers 500 while a kernel is half started
            sessions = [s for s in lab.api("api/sessions") if s["path"] == name]
            state = sessions and lab.api(f"api/kernels/{sessions[0]['kernel']['id']}")
        except (urllib.error.URLError, OSError) as error:
            state = error
        if isinstance(state, dict) and state["connections"] >= 1 and state["execution_state"] == "idle":
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name}'s kernel is not connected and idle after {timeout:.0f} s: {state}")
        page.wait_for_timeout(200)     # not time.sleep: the page's routed requests wait on Playwright
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", state="attached",
                           timeout=timeout * 1000)


def cell(page: Any, index: int) -> Any:
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def run_cell(page: Any, index: int) -> Any:
    """Select cell ``index`` (command mode) and run it with Shift+Enter; returns the cell once
    its prompt shows it queued or run."""
    target = cell(page, index)
    target.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(                      # queued or run: "[*]" or "[n]", no longer "[ ]"
        "el => /\\[(\\*|\\d+)\\]/.test(el.innerText)",
        arg=target.locator(".jp-InputArea-prompt").element_handle())
    return target


def prompt(target: Any) -> str:
    return target.locator(".jp-InputArea-prompt").inner_text().strip()


def cell_running(target: Any) -> bool:
    """Whether the cell's execution indicator still shows ``[*]``."""
    return prompt(target) == "[*]:"


def wait_done(page: Any, target: Any, timeout: float = 60_000) -> None:
    """Wait until the cell has run: its prompt shows an execution count, not ``[*]`` or blank."""
    page.wait_for_function(
        "el => /\\[\\d+\\]/.test(el.innerText)",
        arg=target.locator(".jp-InputArea-prompt").element_handle(), timeout=timeout)


def errors(target: Any) -> str:
    """The text of any error output of the cell ('' when none)."""
    return "\n".join(target.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr'], "
                                    ".jp-OutputArea-output[data-mime-type*='error']").all_inner_texts())


def run_all(page: Any, timeout_s: float = 240) -> tuple[float, float]:
    """Run ▸ Run All Cells, then wait until every code cell has its execution count; returns
    the seconds until the first one had it and until all had."""
    start = time.monotonic()
    page.locator(".jp-Notebook").first.click()
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    first = None
    while time.monotonic() - start < timeout_s:
        prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
        done = [p for p in prompts if re.fullmatch(r"\[\d+\]:", p.strip())]
        if done and first is None:
            first = time.monotonic() - start
        if prompts and len(done) == len(prompts):
            return first, time.monotonic() - start
        time.sleep(0.5)
    raise AssertionError(f"the notebook did not finish in {timeout_s:.0f} s: prompts {prompts}")
