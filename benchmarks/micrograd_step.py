"""micrograd's demo step on three Value engines side by side: chainrule's, micrograd's, and the
minimal pure-Python engine in ``../shared/yardsticks/minimal_value.py`` (the floor for one Python
object per op).

The step is micrograd's own demo (``demo.ipynb``): an MLP 2-16-16-1 written as plain Value
code, 100 ``make_moons`` points, SVM max-margin loss ``relu(1 - y·score)`` averaged plus
1e-4 L2, forward + backward + SGD update. The *identical* function runs on every engine, the
engines alternating within each round, in one process, with the garbage collector as shipped.
Before each timed step the previous engine's garbage is collected (outside the timed region),
so no engine pays for another's. Reported: paired ratios (per round, then the median), with
the spread; tracemalloc bytes per graph node; where chainrule's step goes; and what the
zero_grad guard for hand-written loops costs (chainrule's step with guards on against the
same step with ``set_guards(False)``, paired, and the guard's own work per pass timed alone).

Run:  python benchmarks/micrograd_step.py [--repeats 21] [--also CHECKOUT]

``--also CHECKOUT`` adds a fourth engine: the ``autograd_core`` of another checkout of this
repository (an earlier commit, say), loaded under its own name, so a change is measured
against the code before it in the same process and the same rounds.
"""
from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable

import numpy as np


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles with labels in {-1, +1} (as sklearn's make_moons)."""
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    outer = np.stack([np.cos(np.linspace(0, np.pi, n_out)), np.sin(np.linspace(0, np.pi, n_out))], 1)
    inner = np.stack([1 - np.cos(np.linspace(0, np.pi, n_in)),
                      1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5], 1)
    X = np.concatenate([outer, inner]) + rng.normal(scale=noise, size=(n, 2))
    y = np.concatenate([-np.ones(n_out), np.ones(n_in)])
    return X, y


def make_params(value_cls: type, seed: int = 1337) -> list[list[Any]]:
    """Weights of a 2-16-16-1 MLP as ``[[w..., b] per neuron]`` per layer, micrograd's init."""
    rnd = random.Random(seed)
    sizes = [2, 16, 16, 1]
    return [[[value_cls(rnd.uniform(-1, 1)) for _ in range(nin)] + [value_cls(0.0)]
             for _ in range(nout)] for nin, nout in zip(sizes, sizes[1:])]


def demo_step(params: list[list[Any]], X: np.ndarray, y: np.ndarray, step: int,
              value_cls: type) -> tuple[float, int]:
    """One forward + backward + SGD update; returns (loss, graph size)."""
    def neuron(ws: list[Any], x: list[Any], nonlin: bool) -> Any:
        act = sum((wi * xi for wi, xi in zip(ws[:-1], x)), ws[-1])
        return act.relu() if nonlin else act

    def model(x: list[Any]) -> Any:
        for i, layer in enumerate(params):
            x = [neuron(ws, x, i != len(params) - 1) for ws in layer]
        return x[0]

    flat = [p for layer in params for ws in layer for p in ws]
    inputs = [[value_cls(float(v)) for v in row] for row in X]
    scores = [model(x) for x in inputs]
    losses = [(1 + -float(yi) * score).relu() for yi, score in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in flat)
    total = data_loss + reg_loss
    for p in flat:
        p.grad = 0.0
    total.backward()
    lr = 1.0 - 0.9 * step / 100
    for p in flat:
        p.data -= lr * p.grad
    return total.data, 0


def count_nodes(root: Any) -> int:
    """Nodes reachable from root (works for every engine's parent attributes)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if hasattr(node, "_prev"):                       # micrograd (and chainrule: its name too)
            stack.extend(node._prev)
        else:                                            # the minimal engine
            stack.extend(p for p in (node._a, node._b) if p is not None)
    return len(seen)


def build_graph(params: list[list[Any]], X: np.ndarray, y: np.ndarray, value_cls: type) -> Any:
    """The forward graph of one step (for the memory measure)."""
    def neuron(ws: list[Any], x: list[Any], nonlin: bool) -> Any:
        act = sum((wi * xi for wi, xi in zip(ws[:-1], x)), ws[-1])
        return act.relu() if nonlin else act

    flat = [p for layer in params for ws in layer for p in ws]
    scores = []
    for row in X:
        x = [value_cls(float(v)) for v in row]
        for i, layer in enumerate(params):
            x = [neuron(ws, x, i != len(params) - 1) for ws in layer]
        scores.append(x[0])
    losses = [(1 + -float(yi) * s).relu() for yi, s in zip(y, scores)]
    return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in flat)


def time_step(fn: Callable[[], Any]) -> float:
    """Wall time of ``fn()`` with the garbage collector as shipped; garbage left by earlier
    work is collected first, outside the timed region."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bytes_per_node(value_cls: type, X: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    params = make_params(value_cls)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    root = build_graph(params, X, y, value_cls)
    root.backward()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    nodes = count_nodes(root) - sum(len(ws) for layer in params for ws in layer)  # params existed before
    return (after - before) / nodes, nodes


def chainrule_phases(X: np.ndarray, y: np.ndarray, repeats: int) -> dict[str, float]:
    """Median time of each phase of one chainrule step (garbage collector paused while
    timing, then one full collection timed on its own): building the graph, backward (the
    topological sort and the chain-rule loop), and the collector's pass over the graph."""
    from autograd_core import Value

    params = make_params(Value)
    phases: dict[str, list[float]] = {"build": [], "backward": [], "gc": []}
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        root = build_graph(params, X, y, Value)
        built = time.perf_counter()
        root.backward()
        done = time.perf_counter()
        gc.enable()
        gc.collect()
        collected = time.perf_counter()
        for name, t in zip(phases, (built - start, done - built, collected - done)):
            phases[name].append(t)
        del root
    return {name: statistics.median(v) for name, v in phases.items()}


def guard_work(X: np.ndarray, y: np.ndarray, repeats: int) -> dict[str, float]:
    """Median time of the zero_grad guard's own work in one backward pass of the demo step
    (``graph.leaf_guard``: the check before the pass, the record after it), on the step's
    leaves: ``zeroed`` as in the demo (the check skips each zeroed gradient), ``kept`` with
    every gradient kept and no data changed (accumulation: the check compares every leaf)."""
    from autograd_core import Value, graph, topological_order

    params = make_params(Value)
    root = build_graph(params, X, y, Value)
    root.backward()
    order = topological_order(root)
    leaves = [n for n in order if n.is_leaf and n.requires_grad]
    guard = graph.leaf_guard
    times: dict[str, list[float]] = {"record": [], "check, zeroed": [], "check, kept": []}
    for _ in range(repeats):
        start = time.perf_counter()
        guard.record(leaves)
        times["record"].append(time.perf_counter() - start)
        start = time.perf_counter()
        guard.check(order)
        times["check, kept"].append(time.perf_counter() - start)
        kept = [p.grad for p in leaves]
        for p in leaves:
            p.grad = 0.0
        start = time.perf_counter()
        guard.check(order)
        times["check, zeroed"].append(time.perf_counter() - start)
        for p, g in zip(leaves, kept):
            p.grad = g
    return {name: statistics.median(v) for name, v in times.items()}


def spread(values: list[float]) -> str:
    """Median and the range of the middle half, as ``1.12x (1.10x-1.15x)``."""
    q = statistics.quantiles(values, n=4)
    return f"{statistics.median(values):.3f}x ({q[0]:.3f}x-{q[2]:.3f}x)"


def load_checkout(path: str) -> type:
    """``Value`` from ``<path>/autograd_core``, imported as the package ``chainrule_other``
    (its relative imports resolve inside it, so it shares nothing with this checkout's)."""
    import importlib.util

    package = Path(path).resolve() / "autograd_core"
    spec = importlib.util.spec_from_file_location(
        "chainrule_other", package / "__init__.py", submodule_search_locations=[str(package)])
    if spec is None or spec.loader is None:
        raise SystemExit(f"--also {path}: no autograd_core package there")
    module = importlib.util.module_from_spec(spec)
    sys.modules["chainrule_other"] = module
    spec.loader.exec_module(module)
    return module.Value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=21, help="timed rounds (one step per engine each)")
    parser.add_argument("--also", metavar="CHECKOUT", help="another checkout's engine, timed as a fourth")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared" / "yardsticks"))
    from micrograd.engine import Value as MicrogradValue
    from minimal_value import MinimalValue

    from autograd_core import Value, set_guards

    X, y = make_moons(100)
    guards_off = "chainrule, guards off"
    engines = {"chainrule": Value, "minimal": MinimalValue, "micrograd": MicrogradValue,
               guards_off: Value}
    if args.also:
        engines["other checkout"] = load_checkout(args.also)
    params = {name: make_params(cls) for name, cls in engines.items()}
    times: dict[str, list[float]] = {n: [] for n in engines}
    losses: dict[str, list[float]] = {n: [] for n in engines}
    for step in range(args.repeats):
        order = list(engines) if step % 2 == 0 else list(reversed(engines))
        for name in order:                      # alternate engines (and their order) every round
            cls = engines[name]
            result: list[float] = []
            set_guards(name != guards_off)      # outside the timed region
            times[name].append(time_step(lambda: result.append(demo_step(params[name], X, y, step, cls)[0])))
            losses[name].append(result[0])
    set_guards(True)
    same = all(np.allclose(losses["chainrule"], losses[n], rtol=1e-9, atol=1e-12) for n in engines)
    print(f"rounds: {args.repeats}; identical losses on all engines: {same}")
    med = {n: statistics.median(v) for n, v in times.items()}
    print("median step (gc as shipped): " + " | ".join(f"{n} {t * 1e3:.1f} ms" for n, t in med.items()))
    vs_minimal = [a / b for a, b in zip(times["chainrule"], times["minimal"])]
    vs_micrograd = [a / b for a, b in zip(times["chainrule"], times["micrograd"])]
    minimal_vs_micrograd = [a / b for a, b in zip(times["minimal"], times["micrograd"])]
    print(f"chainrule / minimal engine (paired):   {spread(vs_minimal)}  (target <= 1.2x)")
    print(f"chainrule / micrograd (paired):        {spread(vs_micrograd)}  (target <= 0.15x)")
    print(f"minimal engine / micrograd (paired):   {spread(minimal_vs_micrograd)}")
    if args.also:
        other = times["other checkout"]
        print(f"other checkout / minimal engine:       "
              f"{spread([a / b for a, b in zip(other, times['minimal'])])}")
        print(f"chainrule / other checkout (paired):   "
              f"{spread([a / b for a, b in zip(times['chainrule'], other)])}")
    per_node = {n: bytes_per_node(cls, X, y) for n, cls in engines.items() if n != guards_off}
    print("bytes per graph node (tracemalloc, forward + backward): " + " | ".join(
        f"{n} {b:.0f} ({k} nodes)" for n, (b, k) in per_node.items()) + "  (target <= 200)")
    phases = chainrule_phases(X, y, args.repeats)
    print("chainrule step by phase (median, gc paused): " + ", ".join(
        f"{name} {t * 1e3:.1f} ms" for name, t in phases.items()))
    on_off = [a / b for a, b in zip(times["chainrule"], times[guards_off])]
    print(f"zero_grad guard: chainrule guards on / off (paired): {spread(on_off)}")
    work = guard_work(X, y, args.repeats)
    print("zero_grad guard's own work per pass (median): " + ", ".join(
        f"{name} {t * 1e6:.0f} us" for name, t in work.items())
        + f" (the demo's pass: record + check, zeroed = "
        f"{(work['record'] + work['check, zeroed']) / med['chainrule'] * 100:.2f}% of the step)")


if __name__ == "__main__":
    main()
