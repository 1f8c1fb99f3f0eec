"""Training time of the digits classifier: nn.Sequential(Linear(64,128), ReLU(),
Linear(128,10)) with Adam (lr 1e-3, batch 32, 20 epochs) on scikit-learn's digits, 80/20
split, through ``nn.fit`` — and the same network, data order and initial weights in PyTorch.

Reports wall time and test accuracy for both, and their ratio. Issue target: >= 97% test
accuracy in under a minute on a 2-core machine.

Run:  python benchmarks/nn_digits.py
"""
from __future__ import annotations

import time



def main() -> None:
    from sklearn.datasets import load_digits

    import nn
    from autograd_core import no_grad
    from nn import losses, optim

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = nn.data.train_test_split(X / 16.0, y, test_size=0.2, seed=0)
    model = nn.Sequential(nn.Linear(64, 128, seed=0), nn.ReLU(), nn.Linear(128, 10, seed=1))
    initial = {k: v.copy() for k, v in model.state_dict().items()}
    opt = optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    nn.fit(model, losses.cross_entropy, opt, (Xtr, ytr), epochs=20, batch_size=32,
           progress=False, seed=0)
    ours = time.perf_counter() - start
    model.eval()
    with no_grad():
        acc = float((model(Xte).data.argmax(axis=1) == yte).mean())
    print(f"chainrule nn.fit: {ours:.2f} s for 20 epochs, test accuracy {acc:.2%} (target >= 97% in < 60 s)")

    try:
        import torch
    except ImportError:
        print("PyTorch not installed (pip install torch==2.13.0): no side-by-side figure")
        return
    torch.set_num_threads(1)
    tmodel = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)).double()
    tmodel.load_state_dict({k: torch.from_numpy(v) for k, v in initial.items()})
    topt = torch.optim.Adam(tmodel.parameters(), lr=1e-3)
    loader = nn.data.DataLoader((Xtr, ytr), batch_size=32, shuffle=True, seed=0)
    start = time.perf_counter()
    for _ in range(20):
        for xb, yb in loader:
            topt.zero_grad()
            loss = torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(xb)), torch.from_numpy(yb))
            loss.backward()
            topt.step()
    theirs = time.perf_counter() - start
    with torch.no_grad():
        tacc = float((tmodel(torch.from_numpy(Xte)).argmax(1).numpy() == yte).mean())
    print(f"PyTorch loop:     {theirs:.2f} s for 20 epochs, test accuracy {tacc:.2%}")
    print(f"time ratio chainrule / PyTorch: {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
