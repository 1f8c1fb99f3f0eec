"""``fit``: the training loop every notebook would otherwise rewrite.

Per epoch: ``model.train()``; for each mini-batch ``optimizer.zero_grad()``, forward, loss,
``backward()``, ``optimizer.step()``; then evaluate on the validation data under
``no_grad`` in ``model.eval()`` mode, record loss and accuracy, step the scheduler, and stop
early when the monitored loss has not improved for ``patience`` epochs (restoring the best
weights). Tensor models get whole batches; scalar models (``MLP`` on Values) are called on
each sample of a batch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from autograd_core import Tensor, Value, no_grad

from ._util import as_generator, is_tensor
from .data import DataLoader
from .module import Module
from .optim import LRScheduler, Optimizer


@dataclass
class History:
    """What ``fit`` recorded, one entry per epoch (accuracy entries are None for regression)."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float | None] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None       # index of the epoch whose weights the model holds
    stopped_early: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _is_scalar_model(model: Module) -> bool:
    params = model.parameters()
    return bool(params) and isinstance(params[0], Value)


def _forward(model: Module, xb: np.ndarray, scalar: bool) -> Any:
    if scalar:
        return [model(list(map(float, x)) if np.ndim(x) else [float(x)]) for x in xb]
    return model(Tensor(xb))            # a float32 batch stays float32


def _output_array(out: Any) -> np.ndarray:
    if is_tensor(out):
        return np.asarray(out.data, dtype=np.float64)
    return np.array([[v.data for v in o] if isinstance(o, list) else o.data for o in out],
                    dtype=np.float64)


def accuracy(outputs: np.ndarray, targets: np.ndarray) -> float | None:
    """Fraction of correct predictions, guessing the task from the shapes and labels:

    * scores (N, C), C > 1: argmax against integer labels (or against argmax of one-hot targets);
    * one score per sample and labels in {-1, +1} (some -1): sign(score) == label;
    * one score per sample and labels in {0, 1}: (score > 0.5 if every score is in [0, 1],
      i.e. a probability, else score > 0) == label.

    None for anything else (regression).
    """
    out = np.asarray(outputs, dtype=np.float64)
    t = np.asarray(targets)
    if out.ndim == 2 and out.shape[1] > 1:
        if t.shape == out.shape:
            t = t.argmax(axis=1)
        if t.dtype.kind not in "iu":
            return None
        return float(np.mean(out.argmax(axis=1) == t))
    out = out.reshape(len(out))
    t = t.reshape(len(t)) if t.size == len(out) else t
    if t.shape != out.shape:
        return None
    labels = set(np.unique(t).tolist())
    if -1 in labels and labels <= {-1, 1}:
        return float(np.mean(np.where(out > 0, 1, -1) == t))
    if labels <= {0, 1}:
        threshold = 0.5 if (out.min() >= 0 and out.max() <= 1) else 0.0
        return float(np.mean((out > threshold).astype(int) == t))
    return None


def _as_loader(data: Any, batch_size: int, shuffle: bool, rng: np.random.Generator | None,
               name: str) -> DataLoader:
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return DataLoader(tuple(data), batch_size=batch_size, shuffle=shuffle, seed=rng)
    raise TypeError(f"{name} must be a DataLoader or a pair (X, y); got {type(data).__name__}")


def _loss_fn_message(loss_fn: Any) -> str:
    """What ``loss_fn`` must be, naming the loss a string probably meant."""
    from . import losses

    hint = ""
    if isinstance(loss_fn, str):
        key = loss_fn.strip().lower().replace("-", "_")
        names = {"mse": "mse_loss", "bce": "binary_cross_entropy", "ce": "cross_entropy",
                 "nll": "nll_loss", "hinge": "hinge_loss"}
        name = names.get(key, key if key in losses.__all__ else f"{key}_loss")
        if name in losses.__all__:
            hint = f" (for {loss_fn!r}: nn.losses.{name})"
    return (f"loss_fn must be a function loss_fn(outputs, targets) -> scalar loss, such as "
            f"nn.losses.mse_loss or nn.losses.cross_entropy{hint}; got "
            f"{type(loss_fn).__name__} {loss_fn!r:.40}")


def _evaluate(model: Module, loss_fn: Callable[..., Any], loader: DataLoader, scalar: bool
              ) -> tuple[float, float | None]:
    model.eval()
    total, count, outs, targets = 0.0, 0, [], []
    with no_grad():
        for xb, yb in loader:
            out = _forward(model, xb, scalar)
            loss = loss_fn(out, yb)
            total += float(loss.data) * len(xb)
            count += len(xb)
            outs.append(_output_array(out))
            targets.append(np.asarray(yb))
    acc = accuracy(np.concatenate(outs), np.concatenate(targets))
    return total / max(count, 1), acc


def fit(model: Module, loss_fn: Callable[..., Any], optimizer: Optimizer, train_data: Any,
        val_data: Any = None, epochs: int = 10, *, batch_size: int = 32, shuffle: bool = True,
        scheduler: LRScheduler | None = None, patience: int | None = None,
        min_delta: float = 0.0, restore_best: bool = True, progress: bool = True,
        seed: int | np.random.Generator | None = None,
        on_step: Callable[[dict[str, Any]], None] | None = None) -> History:
    """Train ``model`` and return its :class:`History`.

    Args:
        loss_fn: ``loss_fn(outputs, targets) -> scalar`` (e.g. ``nn.losses.cross_entropy``).
        train_data, val_data: a ``DataLoader`` or a pair ``(X, y)`` of arrays (then batched
            with ``batch_size``, shuffled with ``seed``, or else with the global generator
            seeded by ``manual_seed``).
        scheduler: stepped once per epoch.
        patience: stop when the monitored loss (validation if given, else training) has not
            improved by more than ``min_delta`` for this many epochs; with ``restore_best``
            the weights of the best epoch are loaded back.
        progress: show a tqdm progress bar over epochs.
        on_step: a function called with a dict after every optimizer step,
            ``{"event": "step", "step": s, "epoch": e, "loss": batch loss}`` (``s`` counts
            optimizer steps from 1 over the whole run), and at the end of every epoch with
            ``{"event": "epoch", "step": s, "epoch": e, "train_loss": ..., "val_loss": ...}``
            (``val_loss`` is None without ``val_data``). It reads the model (e.g.
            ``viz.live``'s view draws it) and must not change it; ``None`` (default) calls
            nothing.
    """
    if not isinstance(model, Module):
        raise TypeError(f"model must be an nn.Module; got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(_loss_fn_message(loss_fn))
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an nn.optim.Optimizer; got {type(optimizer).__name__}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int; got {epochs!r}")
    if on_step is not None and not callable(on_step):
        raise TypeError(f"on_step must be a function on_step(info: dict) or None; got "
                        f"{type(on_step).__name__}")
    if patience is not None and (not isinstance(patience, int) or patience < 1):
        raise ValueError(f"patience must be a positive int or None; got {patience!r}")
    rng = None if seed is None else as_generator(seed)      # None: the global generator
    train_loader = _as_loader(train_data, batch_size, shuffle, rng, "train_data")
    val_loader = None if val_data is None else _as_loader(val_data, batch_size, False, rng,
                                                          "val_data")
    for name, loader in (("train_data", train_loader), ("val_data", val_loader)):
        if loader is not None and len(loader) == 0:
            why = "no samples" if loader.n == 0 else \
                f"{loader.n} samples, fewer than one batch of {loader.batch_size} (drop_last)"
            raise ValueError(f"{name} has {why}: there is nothing to train or evaluate on")
    scalar = _is_scalar_model(model)
    history = History()
    best, best_state, waited = math.inf, None, 0
    steps = 0
    bar = range(epochs)
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(bar, desc="fit", unit="epoch")
    for epoch in bar:
        model.train()
        total, count, outs, targets = 0.0, 0, [], []
        for xb, yb in train_loader:
            optimizer.zero_grad()
            out = _forward(model, xb, scalar)
            loss = loss_fn(out, yb)
            loss.backward()
            optimizer.step()
            batch_loss = float(loss.data)
            total += batch_loss * len(xb)
            count += len(xb)
            outs.append(_output_array(out))
            targets.append(np.asarray(yb))
            if on_step is not None:
                steps += 1
                on_step({"event": "step", "step": steps, "epoch": epoch, "loss": batch_loss})
        history.train_loss.append(total / max(count, 1))
        history.train_acc.append(accuracy(np.concatenate(outs), np.concatenate(targets)))
        history.lr.append(float(optimizer.param_groups[0]["lr"]))
        if val_loader is not None:
            vl, va = _evaluate(model, loss_fn, val_loader, scalar)
            history.val_loss.append(vl)
            history.val_acc.append(va)
        if on_step is not None:
            on_step({"event": "epoch", "step": steps, "epoch": epoch,
                     "train_loss": history.train_loss[-1],
                     "val_loss": history.val_loss[-1] if val_loader is not None else None})
        monitored = history.val_loss[-1] if val_loader is not None else history.train_loss[-1]
        if scheduler is not None:
            scheduler.step()
        if progress:
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4g}",
                            **({"val_loss": f"{history.val_loss[-1]:.4g}"} if val_loader else {}))
        if monitored < best - min_delta:
            best, waited, history.best_epoch = monitored, 0, epoch
            if patience is not None and restore_best:
                best_state = model.state_dict()
        else:
            waited += 1
            if patience is not None and waited >= patience:
                history.stopped_early = True
                break
    model.train()
    if patience is not None and restore_best and best_state is not None:
        model.load_state_dict(best_state)
    elif history.best_epoch is None or not (patience is not None and restore_best):
        history.best_epoch = len(history.train_loss) - 1
    if progress:
        bar.close()
    return history
