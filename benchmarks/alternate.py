"""Timing a command in fresh processes, alternating checkouts: the shared part of the
phase-timing scripts (``demo_time.py``, ``trace_html_time.py``).

A script times one run in a child process (``--child``, with ``PYTHONPATH`` set to the
checkout) that prints ``{phase: seconds, phase + " (cpu)": seconds, ..., "total": ...}`` as its
last line of JSON; these helpers run the rounds (the checkouts' order alternating) and print
each phase's median and range, then the paired ratios of the totals.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Callable, Sequence

Timings = dict[str, float]


def child_run(script: Path, checkout: str, args: Sequence[str]) -> Timings:
    """One ``script --child ARGS`` in a fresh process on ``checkout``; its timings."""
    env = dict(os.environ, PYTHONPATH=checkout)
    out = subprocess.run([sys.executable, str(script), "--child", *args], env=env, cwd=checkout,
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def time_checkouts(script: Path, against: str | None, repeats: int,
                   child_args: Sequence[str]) -> dict[str, list[Timings]]:
    """``script``'s child runs on this checkout (the script's repository) and, when given, on
    ``against``, alternating for ``repeats`` rounds."""
    here = str(Path(script).resolve().parents[1])
    checkouts = [here] + ([str(Path(against).resolve())] if against else [])
    return rounds(checkouts, repeats,
                  lambda c: child_run(Path(script).resolve(), c, child_args))


def rounds(checkouts: Sequence[str], repeats: int,
           run: Callable[[str], Timings]) -> dict[str, list[Timings]]:
    """``repeats`` rounds of one run per checkout, their order reversed every other round."""
    runs: dict[str, list[Timings]] = {c: [] for c in checkouts}
    for r in range(repeats):
        for c in (checkouts if r % 2 == 0 else list(checkouts)[::-1]):
            runs[c].append(run(c))
            print(f"round {r + 1}: {c}: total {runs[c][-1]['total']:.2f} s", file=sys.stderr)
    return runs


def summary(values: list[float]) -> str:
    """``median s (min-max)``, or nothing for no values."""
    return (f"{statistics.median(values):7.2f} s  ({min(values):.2f}-{max(values):.2f})"
            if values else "")


def report(runs: dict[str, list[Timings]], phases: Callable[[list[Timings]], list[str]]) -> None:
    """Per checkout, each phase's wall and CPU seconds; with two checkouts, the paired ratios
    of the totals (the first checkout over the second, round by round)."""
    for checkout, results in runs.items():
        print(f"\n{checkout}")
        print(f"  {'phase':<18} {'wall':>7}    (min-max)       {'cpu':>7}    (min-max)")
        for phase in phases(results):
            wall = [run[phase] for run in results if phase in run]
            cpu = [run[phase + " (cpu)"] for run in results if phase + " (cpu)" in run]
            print(f"  {phase:<18} {summary(wall)}   {summary(cpu)}")
    if len(runs) == 2:
        first, second = runs.values()
        for key in ("total", "total (cpu)"):
            ratios = [a[key] / b[key] for a, b in zip(first, second)]
            print(f"\n{key}, this checkout / the other, paired by round: median "
                  f"{statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})")
