"""One SGD step of a 2-layer ReLU MLP with softmax cross-entropy on scikit-learn's digits:
chainrule ``Tensor`` vs the same network written by hand in NumPy vs PyTorch (CPU).

All three start from the same weights and see the same minibatches; the engines alternate
within every round in one process, and the losses are compared at the end. Also checks
that graph memory is released: tracemalloc after 1,000 Tensor steps vs after 100.

BLAS and PyTorch are limited to one thread for all three (threadpoolctl,
``torch.set_num_threads(1)``): at these sizes threads add more overhead than they save,
and a second busy core otherwise makes the timings erratic.

Page faults are reported too. The big network's 1 MB arrays make glibc's malloc hand memory
back to the kernel after every step (its trim and mmap thresholds adapt to the process's
history), and the next step faults it in again, so the timings then depend on what the
process did before. The recorded figure uses glibc's default allocator (nothing set);
``--keep-freed-memory`` fixes the two thresholds for the whole process (``mallopt``, the same
for all three engines) so that each step reuses the same memory: the second column.

Each engine's step includes what a user pays: the batch wrapped in a Tensor (for chainrule),
the gradients reset (``p.grad = None``) and the SGD update. Ratios are paired: per step,
chainrule's time over the reference's in the same round, then the median.

Run:  python benchmarks/tensor_mlp_step.py [--steps 300] [--no-torch] [--keep-freed-memory]
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import resource
import statistics
import time
import tracemalloc
from typing import Any

import numpy as np


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory in the heap instead of returning it to the
    kernel after every step (fixed thresholds instead of adaptive ones). False where the C
    library has no ``mallopt`` (not glibc): the run then uses the default allocator."""
    libc_name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(libc_name) if libc_name else None
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 32 * 2**20)       # glibc's maximum: 32 MB
                and libc.mallopt(m_trim_threshold, 2**30))


def page_faults() -> int:
    """Minor page faults of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def load_digits_data() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.data / 16.0).astype(np.float64), digits.target.astype(np.int64)


def init_weights(n_in: int, n_hidden: int, n_out: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(0, np.sqrt(2 / n_in), (n_in, n_hidden)), np.zeros(n_hidden),
            rng.normal(0, np.sqrt(1 / n_hidden), (n_hidden, n_out)), np.zeros(n_out)]


class NumpyMLP:
    """The reference: forward and backward written out by hand."""

    def __init__(self, weights: list[np.ndarray]) -> None:
        self.W1, self.b1, self.W2, self.b2 = (w.copy() for w in weights)

    def step(self, x: np.ndarray, y: np.ndarray, lr: float) -> float:
        n = x.shape[0]
        h_pre = x @ self.W1 + self.b1
        h = np.maximum(h_pre, 0)
        logits = h @ self.W2 + self.b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_probs[np.arange(n), y].mean()
        d_logits = np.exp(log_probs)
        d_logits[np.arange(n), y] -= 1
        d_logits /= n
        dW2 = h.T @ d_logits
        db2 = d_logits.sum(axis=0)
        dh = d_logits @ self.W2.T
        dh[h_pre <= 0] = 0
        dW1 = x.T @ dh
        db1 = dh.sum(axis=0)
        self.W1 -= lr * dW1
        self.b1 -= lr * db1
        self.W2 -= lr * dW2
        self.b2 -= lr * db2
        return float(loss)


class ChainruleMLP:
    """The same network with general Tensor ops; gradients from backward()."""

    def __init__(self, weights: list[np.ndarray]) -> None:
        from autograd_core import Tensor

        self.params = [Tensor(w, requires_grad=True) for w in weights]

    def step(self, x: np.ndarray, y: np.ndarray, lr: float) -> float:
        from autograd_core import Tensor, no_grad

        W1, b1, W2, b2 = self.params
        logits = (Tensor(x) @ W1 + b1).relu() @ W2 + b2
        loss = -logits.log_softmax(axis=1)[np.arange(len(y)), y].mean()
        for p in self.params:
            p.grad = None
        loss.backward()
        with no_grad():
            for p in self.params:
                p.data -= lr * p.grad
        return loss.item()


class TorchMLP:
    """PyTorch CPU, same ops."""

    def __init__(self, weights: list[np.ndarray]) -> None:
        import torch

        self.torch = torch
        torch.set_num_threads(1)
        self.params = [torch.tensor(w, requires_grad=True) for w in weights]

    def step(self, x: np.ndarray, y: np.ndarray, lr: float) -> float:
        torch = self.torch
        W1, b1, W2, b2 = self.params
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        logits = torch.relu(xt @ W1 + b1) @ W2 + b2
        loss = -torch.log_softmax(logits, dim=1)[torch.arange(len(y)), yt].mean()
        for p in self.params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in self.params:
                p -= lr * p.grad
        return loss.item()


def run_config(X: np.ndarray, Y: np.ndarray, hidden: int, batch: int, steps: int,
               with_torch: bool) -> dict[str, Any]:
    weights = init_weights(X.shape[1], hidden, 10)
    engines: dict[str, Any] = {"numpy": NumpyMLP(weights), "chainrule": ChainruleMLP(weights)}
    if with_torch:
        engines["torch"] = TorchMLP(weights)
    rng = np.random.default_rng(1)
    times: dict[str, list[float]] = {k: [] for k in engines}
    faults = dict.fromkeys(engines, 0)
    losses: dict[str, float] = {}
    for _ in range(steps):
        idx = rng.choice(len(X), batch, replace=False)
        x, y = np.ascontiguousarray(X[idx]), Y[idx]
        for name, engine in engines.items():
            faults_before = page_faults()
            start = time.perf_counter()
            losses[name] = engine.step(x, y, 0.1)
            times[name].append(time.perf_counter() - start)
            faults[name] += page_faults() - faults_before
    med = {k: statistics.median(v) for k, v in times.items()}
    paired = {k: statistics.median(a / b for a, b in zip(times["chainrule"], v))
              for k, v in times.items() if k != "chainrule"}
    return {"median": med, "paired": paired, "losses": losses,
            "faults": {k: v / steps for k, v in faults.items()}}


def graph_memory_growth(X: np.ndarray, Y: np.ndarray, warmup: int = 500,
                        steps: int = 1000) -> tuple[int, int, int]:
    """tracemalloc's current size after ``warmup`` chainrule steps and after ``steps`` more,
    and the peak in between. NumPy fills some internal caches in the first few hundred
    steps; after that, a graph that is released after backward leaves the size flat."""
    model = ChainruleMLP(init_weights(X.shape[1], 128, 10))
    rng = np.random.default_rng(2)
    gc.collect()
    tracemalloc.start()
    for _ in range(warmup):
        idx = rng.choice(len(X), 64, replace=False)
        model.step(X[idx], Y[idx], 0.1)
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    for _ in range(steps):
        idx = rng.choice(len(X), 64, replace=False)
        model.step(X[idx], Y[idx], 0.1)
    after, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return before, after, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300, help="timed steps per configuration")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument("--keep-freed-memory", action="store_true",
                        help="fix glibc's trim/mmap thresholds (mallopt) for the whole process")
    args = parser.parse_args()
    pinned = args.keep_freed_memory and keep_freed_memory()
    print("allocator: " + ("glibc, freed memory kept in the heap (mallopt)" if pinned
                           else "default (glibc's adaptive thresholds)"))
    X, Y = load_digits_data()
    with_torch = not args.no_torch
    if with_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("PyTorch not installed: pip install torch==2.13.0 (comparing with NumPy only)")
            with_torch = False
    from threadpoolctl import threadpool_limits

    for hidden, batch, target in ((128, 64, 1.5), (512, 256, 1.15)):
        with threadpool_limits(1):
            r = run_config(X, Y, hidden, batch, args.steps, with_torch)
        med, losses = r["median"], r["losses"]
        line = (f"64-{hidden}-10, batch {batch}: numpy {med['numpy'] * 1e6:7.1f} us | "
                f"chainrule {med['chainrule'] * 1e6:7.1f} us")
        if with_torch:
            line += f" | torch {med['torch'] * 1e6:7.1f} us"
        print(line)
        print(f"  chainrule / hand-written numpy = {r['paired']['numpy']:.2f}x paired "
              f"({med['chainrule'] / med['numpy']:.2f}x of medians; target <= {target}x)")
        print("  page faults per step: " + ", ".join(f"{k} {v:.0f}" for k, v in r["faults"].items()))
        if with_torch:
            goal = " (target < 1)" if hidden == 128 else ""
            print(f"  chainrule / torch = {r['paired']['torch']:.2f}x paired{goal}")
        same = np.allclose(list(losses.values()), losses["numpy"], rtol=1e-6)
        print(f"  final losses {', '.join(f'{k} {v:.6f}' for k, v in losses.items())} -> same: {same}")
    before, after, peak = graph_memory_growth(X, Y)
    print(f"traced memory after 500 warm-up steps {before / 1e3:.1f} kB, after 1,000 more "
          f"{after / 1e3:.1f} kB (growth {(after - before) / 1e3:+.1f} kB; peak {peak / 1e3:.1f} kB)")


if __name__ == "__main__":
    main()
