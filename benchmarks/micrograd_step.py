"""micrograd's demo step on this engine's ``Value`` and on micrograd's, side by side.

The step is micrograd's own demo (``demo.ipynb``): an MLP 2-16-16-1 written as plain Value
code, 100 ``make_moons`` points, SVM max-margin loss ``relu(1 - y·score)`` averaged plus
1e-4 L2, forward + backward + SGD update. The *identical* function runs on both Value
classes, alternating, in one process. Reported: time ratios (ours / micrograd as shipped,
ours / micrograd with its garbage collector paused), tracemalloc bytes per graph node, and
where chainrule's step spends its time (graph building, topological sort, chain-rule loop,
garbage collector).

Run:  python benchmarks/micrograd_step.py [--repeats 15]
"""
from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
import tracemalloc
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
    """Nodes reachable from root (works for both engines' parent attributes)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        parents = node._prev if hasattr(node, "_prev") else node.parents  # micrograd | chainrule
        stack.extend(parents)
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


def time_step(fn: Callable[[], Any], pause_gc: bool) -> float:
    was_enabled = gc.isenabled()
    if pause_gc:
        gc.disable()
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        if pause_gc and was_enabled:
            gc.enable()
            gc.collect()


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
    timing, then one full collection timed on its own): building the graph, the
    topological sort, the chain-rule loop, and the collector's pass over the graph."""
    from autograd_core import Value
    from autograd_core.graph import reset_intermediate_grads, topological_order

    params = make_params(Value)
    phases: dict[str, list[float]] = {"build": [], "topological sort": [], "chain rule": [], "gc": []}
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        root = build_graph(params, X, y, Value)
        built = time.perf_counter()
        order = topological_order(root)
        sorted_at = time.perf_counter()
        reset_intermediate_grads(order)
        root.grad = 1.0
        for node in reversed(order):
            if node.op is not None:
                node._backprop(False)
        done = time.perf_counter()
        gc.enable()
        gc.collect()
        collected = time.perf_counter()
        for name, t in zip(phases, (built - start, sorted_at - built, done - sorted_at, collected - done)):
            phases[name].append(t)
        del root, order
    return {name: statistics.median(v) for name, v in phases.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15, help="timed steps per engine and mode")
    args = parser.parse_args()

    from micrograd.engine import Value as MicrogradValue
    from autograd_core import Value

    X, y = make_moons(100)
    engines = {"chainrule": Value, "micrograd": MicrogradValue}
    params = {name: make_params(cls) for name, cls in engines.items()}
    times: dict[tuple[str, bool], list[float]] = {(n, g): [] for n in engines for g in (False, True)}
    losses: dict[str, list[float]] = {n: [] for n in engines}
    for step in range(args.repeats):
        for pause_gc in (False, True):
            for name, cls in engines.items():   # alternate engines within every round
                result: list[float] = []
                t = time_step(lambda: result.append(demo_step(params[name], X, y, step, cls)[0]), pause_gc)
                times[(name, pause_gc)].append(t)
                losses[name].append(result[0])
    med = {k: statistics.median(v) for k, v in times.items()}
    same = np.allclose(losses["chainrule"], losses["micrograd"], rtol=1e-9, atol=1e-12)
    print(f"steps per engine and mode: {args.repeats}; identical losses on both engines: {same}")
    print(f"median step, gc as shipped: chainrule {med[('chainrule', False)] * 1e3:7.1f} ms | "
          f"micrograd {med[('micrograd', False)] * 1e3:7.1f} ms")
    print(f"median step, gc paused:     chainrule {med[('chainrule', True)] * 1e3:7.1f} ms | "
          f"micrograd {med[('micrograd', True)] * 1e3:7.1f} ms")
    print(f"chainrule (gc on) / micrograd as shipped:   "
          f"{med[('chainrule', False)] / med[('micrograd', False)]:.3f}x  (target <= 0.10x)")
    print(f"chainrule (gc on) / micrograd gc paused:    "
          f"{med[('chainrule', False)] / med[('micrograd', True)]:.3f}x  (target <= 0.50x)")
    print(f"chainrule / micrograd, both gc paused:      "
          f"{med[('chainrule', True)] / med[('micrograd', True)]:.3f}x")
    ours, n_ours = bytes_per_node(Value, X, y)
    theirs, n_theirs = bytes_per_node(MicrogradValue, X, y)
    print(f"bytes per graph node (tracemalloc, forward + backward): chainrule {ours:.0f} "
          f"({n_ours} nodes) | micrograd {theirs:.0f} ({n_theirs} nodes)  (target <= 200)")
    phases = chainrule_phases(X, y, args.repeats)
    print("chainrule step by phase (median): " + ", ".join(
        f"{name} {t * 1e3:.1f} ms" for name, t in phases.items()))


if __name__ == "__main__":
    main()
