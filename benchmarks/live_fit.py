"""What watching costs: ``nn.fit`` of a 64-32-10 digits classifier with and without a live view
(``viz.live``, issue 26: at most 10% slower).

The same network, initial weights, data order and epochs, trained alternately without and with
the view (``on_step=view``), ``--repeats`` times each in one process; reports each run's time
and the median ratio. Outside a kernel the widget's messages go to ipywidgets' no-op comm, so
this measures everything the view does in Python (reading the weights, gradients, activations
and δ, the decision boundary's absence for 64 inputs, recording frames, building the throttled
messages and serialising them); what a real kernel adds is sending at most 20 of those messages
a second.

Run:  python benchmarks/live_fit.py [--epochs 10] [--repeats 5]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from sklearn.datasets import load_digits

    import nn
    import viz
    from nn import losses, optim

    X, y = load_digits(return_X_y=True)
    Xtr, _, ytr, _ = nn.data.train_test_split(X / 16.0, y, test_size=0.2, seed=0)

    def model_and_optimizer() -> tuple:
        model = nn.Sequential(nn.Linear(64, 32, seed=0), nn.ReLU(), nn.Linear(32, 10, seed=1))
        return model, optim.Adam(model.parameters(), lr=1e-3)

    sends = {"count": 0, "bytes": 0}

    def timed(with_view: bool) -> float:
        model, opt = model_and_optimizer()
        view = viz.live(model, inputs=Xtr[0]) if with_view else None
        if view is not None:          # count and size what would go over the comm
            original = view.send_state

            def counting(key=None):  # noqa: ANN001 - ipywidgets' signature
                state = view.get_state(key)
                sends["count"] += 1
                sends["bytes"] += len(json.dumps(state, default=str))
                return original(key)
            view.send_state = counting
        start = time.perf_counter()
        nn.fit(model, losses.cross_entropy, opt, (Xtr, ytr), epochs=args.epochs, batch_size=32,
               progress=False, seed=0, on_step=view)
        if view is not None:
            view.finish()
        elapsed = time.perf_counter() - start
        if view is not None:
            view.close()
        return elapsed

    timed(False)
    timed(True)                                   # warm-up: imports, first allocations
    sends.update(count=0, bytes=0)
    plain, watched = [], []
    for _ in range(args.repeats):                 # alternate, so drift hits both alike
        plain.append(timed(False))
        watched.append(timed(True))
    steps = args.epochs * -(-len(Xtr) // 32)
    ratios = [w / p for w, p in zip(watched, plain)]
    print(f"nn.fit, 64-32-10 on digits, {args.epochs} epochs ({steps} optimizer steps), "
          f"{args.repeats} runs each, alternating")
    print("without the view: " + ", ".join(f"{t:.2f}" for t in plain) + " s")
    print("with viz.live:    " + ", ".join(f"{t:.2f}" for t in watched) + " s")
    print(f"median ratio with/without: {statistics.median(ratios):.3f}x "
          f"(per run: {', '.join(f'{r:.3f}' for r in ratios)}); target <= 1.10x")
    print(f"messages: {sends['count'] / args.repeats:.0f} a run "
          f"({sends['count'] / args.repeats / statistics.median(watched):.1f} a second), "
          f"{sends['bytes'] / max(sends['count'], 1) / 1024:.1f} KiB each on average")


if __name__ == "__main__":
    main()
