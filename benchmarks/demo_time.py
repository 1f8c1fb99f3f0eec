"""How long ``chainrule demo`` takes, phase by phase, in one process.

    python benchmarks/demo_time.py                       # this checkout, 3 runs
    python benchmarks/demo_time.py --repeats 5 --against /path/to/other/checkout

Each run calls ``viz.cli.demo.run_demo`` into a fresh temporary directory (what ``chainrule demo``
does, without the argument parsing) and reports the wall-clock seconds of each phase: training,
the two plots, finding the hardest point, the point graph, the network diagram, the trace, the
stepper page, the Markdown table, and the total (imports excluded: one warm-up import first).

``--against`` times a second checkout too, alternating the two in every round (each run in its
own process, with ``PYTHONPATH`` set to the checkout), and reports each round's ratio of totals,
so a change on a shared machine is judged by paired runs. A checkout whose ``run_demo`` has no
``timings=`` argument reports its training phase and its total only.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import alternate  # noqa: E402  (benchmarks/alternate.py)


def one_run(steps: int) -> dict[str, float]:
    """One ``run_demo`` in this process: {phase: seconds, ..., "total": seconds}."""
    import inspect

    import viz.cli.demo as demo
    import viz.plots  # noqa: F401  (imports are not the demo's job: load them before timing)
    import viz.tracing.trace  # noqa: F401

    timings: dict[str, float] = {}
    kwargs = {}
    if "timings" in inspect.signature(demo.run_demo).parameters:
        kwargs["timings"] = timings
    else:                                   # an older checkout: time its training at least
        train = demo.train

        def timed_train(*a, **k):
            start = time.perf_counter()
            try:
                return train(*a, **k)
            finally:
                timings["train"] = time.perf_counter() - start
        demo.train = timed_train
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        start, cpu = time.perf_counter(), time.process_time()
        demo.run_demo(Path(tmp), steps=steps, **kwargs)
        timings["total"] = time.perf_counter() - start
        timings["total (cpu)"] = time.process_time() - cpu
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=100, help="training steps (the demo's default)")
    parser.add_argument("--against", help="another checkout to time in alternation")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_run(args.steps)))
        return
    runs = alternate.time_checkouts(Path(__file__), args.against, args.repeats, ["--steps", str(args.steps)])
    print(f"chainrule demo, {args.steps} training steps, {args.repeats} runs per checkout "
          f"(median, min-max), {os.cpu_count()} cores")
    alternate.report(runs, lambda results: [
        k for k in dict.fromkeys(k for run in results for k in run)
        if not k.endswith(" (cpu)") and k != "total"] + ["total"])

if __name__ == "__main__":
    main()
