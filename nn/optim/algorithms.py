"""The optimizers, each with PyTorch's update formula, argument names and defaults.

Notation: θ parameter, g = ∇θ (plus λθ when ``weight_decay`` λ > 0, except AdamW),
η learning rate, t the step count (1 on the first step). ``maximize=True`` uses -g.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from .optimizer import Optimizer, check_hyperparameter

State = dict[str, Any]
Group = dict[str, Any]


def _decay(p: np.ndarray, g: np.ndarray, group: Group) -> np.ndarray:
    wd = group["weight_decay"]
    return g + wd * p if wd != 0 else g


_check_range = check_hyperparameter


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum μ (dampening τ) and Nesterov:

    b_t = g (t = 1), else μ b_{t-1} + (1 - τ) g;   d = g + μ b_t (nesterov) or b_t (else);
    θ ← θ - η d.   Without momentum: θ ← θ - η g.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _check_group(self, group: Group) -> None:
        super()._check_group(group)
        _check_range("momentum", group["momentum"])
        _check_range("dampening", group["dampening"], -math.inf)   # any number but nan
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update(self, p: np.ndarray, g: np.ndarray, state: State, group: Group) -> np.ndarray:
        g = _decay(p, g, group)
        mu = group["momentum"]
        if mu != 0:
            if "momentum_buffer" not in state:
                buf = g.copy()
            else:
                buf = mu * state["momentum_buffer"] + (1 - group["dampening"]) * g
            state["momentum_buffer"] = buf
            g = g + mu * buf if group["nesterov"] else buf
        return p - group["lr"] * g


class Adagrad(Optimizer):
    """Adagrad: η_t = η / (1 + (t - 1)·lr_decay);  s ← s + g²;  θ ← θ - η_t g / (√s + ε)."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _check_group(self, group: Group) -> None:
        super()._check_group(group)
        _check_range("lr_decay", group["lr_decay"])
        _check_range("initial_accumulator_value", group["initial_accumulator_value"])
        _check_range("epsilon", group["eps"])

    def _update(self, p: np.ndarray, g: np.ndarray, state: State, group: Group) -> np.ndarray:
        g = _decay(p, g, group)
        t = state["step"]
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        s = state.get("sum", np.full_like(p, group["initial_accumulator_value"])) + g * g
        state["sum"] = s
        return p - clr * g / (np.sqrt(s) + group["eps"])


class RMSprop(Optimizer):
    """RMSprop: v ← α v + (1 - α) g²; centered: ḡ ← α ḡ + (1 - α) g, ṽ = v - ḡ²;
    with momentum μ: b ← μ b + g / (√ṽ + ε), θ ← θ - η b; else θ ← θ - η g / (√ṽ + ε)."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _check_group(self, group: Group) -> None:
        super()._check_group(group)
        _check_range("alpha", group["alpha"])
        _check_range("momentum", group["momentum"])
        _check_range("epsilon", group["eps"])

    def _update(self, p: np.ndarray, g: np.ndarray, state: State, group: Group) -> np.ndarray:
        g = _decay(p, g, group)
        a = group["alpha"]
        v = a * state.get("square_avg", np.zeros_like(p)) + (1 - a) * g * g
        state["square_avg"] = v
        if group["centered"]:
            gavg = a * state.get("grad_avg", np.zeros_like(p)) + (1 - a) * g
            state["grad_avg"] = gavg
            v = v - gavg * gavg
        denom = np.sqrt(v) + group["eps"]
        if group["momentum"] > 0:
            buf = group["momentum"] * state.get("momentum_buffer", np.zeros_like(p)) + g / denom
            state["momentum_buffer"] = buf
            return p - group["lr"] * buf
        return p - group["lr"] * g / denom


class Adadelta(Optimizer):
    """Adadelta: v ← ρ v + (1 - ρ) g²;  Δ = √(u + ε) / √(v + ε) · g;
    u ← ρ u + (1 - ρ) Δ²;  θ ← θ - η Δ."""

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0.0, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _check_group(self, group: Group) -> None:
        super()._check_group(group)
        _check_range("rho", group["rho"], 0.0, 1.0, high_included=True)
        _check_range("epsilon", group["eps"])

    def _update(self, p: np.ndarray, g: np.ndarray, state: State, group: Group) -> np.ndarray:
        g = _decay(p, g, group)
        rho, eps = group["rho"], group["eps"]
        v = rho * state.get("square_avg", np.zeros_like(p)) + (1 - rho) * g * g
        u = state.get("acc_delta", np.zeros_like(p))
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        state["square_avg"] = v
        state["acc_delta"] = rho * u + (1 - rho) * delta * delta
        return p - group["lr"] * delta


class Adam(Optimizer):
    """Adam: m ← β₁ m + (1 - β₁) g;  v ← β₂ v + (1 - β₂) g²;
    m̂ = m / (1 - β₁^t);  v̂ = v / (1 - β₂^t) (amsgrad: of the running max of v);
    θ ← θ - η m̂ / (√v̂ + ε).  ``weight_decay`` adds λθ to g (L2, not decoupled)."""

    _decoupled = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _check_group(self, group: Group) -> None:
        super()._check_group(group)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list, np.ndarray)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2) such as (0.9, 0.999); got "
                            f"{betas!r}")
        group["betas"] = betas = tuple(betas)
        _check_range("beta parameter at index 0", betas[0], 0.0, 1.0)
        _check_range("beta parameter at index 1", betas[1], 0.0, 1.0)
        _check_range("epsilon", group["eps"])

    def _update(self, p: np.ndarray, g: np.ndarray, state: State, group: Group) -> np.ndarray:
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if self._decoupled:
            p = p * (1 - lr * wd)                       # AdamW: decay the weights directly
        else:
            g = _decay(p, g, group)
        t = state["step"]
        m = b1 * state.get("exp_avg", np.zeros_like(p)) + (1 - b1) * g
        v = b2 * state.get("exp_avg_sq", np.zeros_like(p)) + (1 - b2) * g * g
        state["exp_avg"], state["exp_avg_sq"] = m, v
        if group["amsgrad"]:
            v = np.maximum(state.get("max_exp_avg_sq", np.zeros_like(p)), v)
            state["max_exp_avg_sq"] = v
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        return p - lr * m_hat / (np.sqrt(v_hat) + eps)


class AdamW(Adam):
    """Adam with decoupled weight decay: θ ← θ(1 - ηλ) first, then the Adam step on g."""

    _decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
