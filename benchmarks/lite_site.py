"""The course in the browser: how big the ``chainrule lite`` site is, and how long a student
waits for a notebook that draws.

Builds the site of every course notebook (Pyodide vendored, and once more with ``--cdn`` for
its size), serves it on 127.0.0.1, opens ``02_value_graphs`` in headless Chromium with every
other request aborted, and runs it with Run ▸ Run All Cells (outputs cleared first, so every
output comes from the browser). Reports, per round: seconds from the click to the first
executed cell (Pyodide's start, the kernel's packages and ``piplite.install`` included) and to
the last, and the bytes the page received (``Content-Length`` of every response).

    python benchmarks/lite_site.py --rounds 3
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, keep_offline, served  # noqa: E402
from tests.viz.jupyterlab import run_all  # noqa: E402
from viz.cli.lite.site import build_site  # noqa: E402

NOTEBOOK = "02_value_graphs.ipynb"


def one_round(browser, base: str) -> tuple[float, float, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, service_workers="block")
    page = context.new_page()
    elsewhere = keep_offline(page, (base, "data:", "blob:", "about:"))
    received = [0]
    page.on("response", lambda r: received.__setitem__(
        0, received[0] + int(r.headers.get("content-length") or 0)))
    page.goto(f"{base}lab/index.html?path={NOTEBOOK}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    first, total = run_all(page, timeout_s=300)
    context.close()
    if elsewhere:
        raise RuntimeError(f"requests left the site: {elsewhere[:3]}")
    return first, total, received[0] / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        start = time.monotonic()
        site = build_site([ROOT / "notebooks"], tmp / "site", clear_outputs=True, log=lambda _: None)
        built = time.monotonic() - start
        cdn = build_site([ROOT / "notebooks"], tmp / "cdn", cdn=True, log=lambda _: None)
        print(f"site (Pyodide vendored): {site.files} files, {site.size_bytes / 1e6:.1f} MB, built "
              f"in {built:.0f} s (Pyodide and wheels cached); with --cdn: {cdn.files} files, "
              f"{cdn.size_bytes / 1e6:.1f} MB")
        rounds = []
        with served(tmp / "site") as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            for k in range(args.rounds):
                rounds.append(one_round(browser, base))
                print(f"round {k + 1}: first cell {rounds[-1][0]:.1f} s, all cells "
                      f"{rounds[-1][1]:.1f} s, {rounds[-1][2]:.1f} MB received")
            browser.close()
        first, total, received = (statistics.median(r[i] for r in rounds) for i in range(3))
        print(f"{NOTEBOOK}, median of {len(rounds)} fresh pages: first executed cell {first:.1f} s "
              f"(goal < 30 s), all {total:.1f} s, {received:.1f} MB received (goal < 40 MB)")


if __name__ == "__main__":
    main()
