"""Learning-rate schedules (``torch.optim.lr_scheduler``'s API).

Call ``scheduler.step()`` once per epoch (or per update - your choice of unit t), after
``optimizer.step()``. Each schedule sets every group's ``lr`` from its ``initial_lr`` η₀
and the count t = ``last_epoch``.
"""
from __future__ import annotations

import math
from typing import Any, Callable

from .optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses give ``lr_at(eta0, t)``."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} needs an Optimizer; got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError("param 'initial_lr' is not specified in param_groups when "
                               "resuming an optimizer")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, eta0: float, t: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The learning rates for the current ``last_epoch``."""
        return [self.lr_at(base, self.last_epoch) for base in self.base_lrs]

    def step(self) -> None:
        """Advance t by one and write the new rate into every group."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The rates set by the last ``step``."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (and unpicklable callables)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambda")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)


class InverseTimeLR(LRScheduler):
    """The lecture notes' decay for SGD: η_t = η₀ / (1 + η₀ λ t)."""

    def __init__(self, optimizer: Optimizer, lam: float, last_epoch: int = -1) -> None:
        if not isinstance(lam, (int, float)) or lam < 0:
            raise ValueError(f"lam must be a number >= 0; got {lam!r}")
        self.lam = float(lam)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, eta0: float, t: int) -> float:
        return eta0 / (1 + eta0 * self.lam * t)


class LambdaLR(LRScheduler):
    """η_t = η₀ · lr_lambda(t); e.g. micrograd's demo: ``lambda t: 1 - 0.9 * t / 100``."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float],
                 last_epoch: int = -1) -> None:
        if not callable(lr_lambda):
            raise TypeError(f"lr_lambda must be callable; got {type(lr_lambda).__name__}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer, last_epoch)

    def lr_at(self, eta0: float, t: int) -> float:
        return eta0 * self.lr_lambda(t)


class StepLR(LRScheduler):
    """η_t = η₀ · γ^⌊t / step_size⌋."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"step_size must be a positive int; got {step_size!r}")
        self.step_size, self.gamma = step_size, float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, eta0: float, t: int) -> float:
        return eta0 * self.gamma ** (t // self.step_size)


class ExponentialLR(LRScheduler):
    """η_t = η₀ · γ^t."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, eta0: float, t: int) -> float:
        return eta0 * self.gamma ** t


class CosineAnnealingLR(LRScheduler):
    """η_t = η_min + (η₀ - η_min)(1 + cos(π t / T_max)) / 2."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"T_max must be a positive int; got {T_max!r}")
        self.T_max, self.eta_min = T_max, float(eta_min)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, eta0: float, t: int) -> float:
        return self.eta_min + (eta0 - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2
