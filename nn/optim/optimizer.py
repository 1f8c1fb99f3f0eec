"""``Optimizer``: the base class (``torch.optim.Optimizer``'s API) for Value and Tensor parameters.

A subclass implements ``_update(param, grad, state, group)`` on NumPy arrays and returns the
new parameter value; the base class reads each gradient, keeps the per-parameter state
(momentum buffers, running averages, the step count) and writes the result back in place
(a Value gets a float, a Tensor's ``.data`` array is overwritten).

The zero_grad guard: ``step()`` arms a check that the next backward pass runs before any
gradient moves (see :mod:`autograd_core.guards`). If a parameter that pass reaches still holds
a nonzero gradient, the learner forgot ``zero_grad()`` and is about to add the new gradient to
the one the step already used: a :class:`~autograd_core.MisconceptionWarning`, once per
process. ``zero_grad()`` disarms it; gradients reset by hand (``p.grad = 0.0``), or a pass
that reaches none of the parameters, disarm it silently. (The backward pass itself watches
hand-written updates, ``p.data += ...``, with the same warning: see :mod:`autograd_core.guards`.)
"""
from __future__ import annotations

import copy
import math
import numbers
import warnings
from typing import Any, Callable, Iterable

import numpy as np

from autograd_core import Value, enable_grad, guards
from autograd_core.numbers import is_zero

from .._util import grad_array, is_parameter, param_array, set_param_data


_STALE_GRAD = guards.STALE_GRAD     # one warning for both arms of the guard (see guards.py)


def check_hyperparameter(name: str, value: Any, low: float = 0.0, high: float | None = None,
                         *, high_included: bool = False) -> None:
    """Refuse a hyperparameter that is not a real number (``TypeError``) or not in
    ``[low, high)`` (``[low, high]`` with ``high_included``; ``ValueError``). nan is in no range.
    NumPy scalars (``np.float32(0.1)``) are numbers, as in PyTorch; a bool is not."""
    bound = ("(not nan)" if low == -math.inf and high is None else f">= {low:g}" if high is None
             else f"in [{low:g}, {high:g}{']' if high_included else ')'}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Invalid {name}: expected a number {bound}; got {value!r} "
                        f"({type(value).__name__})")
    inside = low <= value and (high is None or value < high or high_included and value <= high)
    if not inside:                                 # written so that nan fails every comparison
        raise ValueError(f"Invalid {name} value: {value!r}; expected a number {bound}")


def _stale_message(optimizer: str, stale: list[Any]) -> str:
    who = f"{guards.describe_leaves(stale)} still holds"
    return (f"backward() after {optimizer}.step() without zero_grad(): {who} the gradient "
            f"used by the last optimizer step; this backward will add to it (gradients "
            f"accumulate in .grad), so the next step would use the sum of both. Call "
            f"optimizer.zero_grad() (or model.zero_grad()) before backward. Silence with "
            f"autograd_core.set_guards(False).")


def _warn_duplicates(params: list[Any]) -> None:
    """PyTorch's warning for a parameter listed twice in a group (it is then updated twice
    per step, as in PyTorch), naming the first duplicate."""
    seen: set[int] = set()
    for i, p in enumerate(params):
        if id(p) in seen:
            name = f" {p.label!r}" if getattr(p, "label", None) else ""
            warnings.warn(
                f"optimizer contains a parameter group with duplicate parameters: parameter "
                f"{i}{name} is listed before; step() will update it once per listing (as "
                f"PyTorch does). Pass each parameter once (in PyTorch this will become an error)",
                UserWarning, stacklevel=5)   # the optimizer's caller
            return
        seen.add(id(p))


class Optimizer:
    """Holds ``param_groups`` (dicts: ``"params"`` plus hyperparameters) and ``state``."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        if is_parameter(params):
            raise TypeError("params must be an iterable of parameters (e.g. model.parameters()), "
                            "not a single parameter")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"params must be an iterable of parameters or of dicts; got "
                            f"{type(params).__name__}") from None
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self._state: dict[int, dict[str, Any]] = {}
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones from defaults)."""
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError("a param group must be a dict with a 'params' entry")
        params = param_group["params"]
        params = [params] if is_parameter(params) else list(params)
        for i, p in enumerate(params):
            if not is_parameter(p):
                raise TypeError(f"optimizer can only optimize trainable leaves (Value or Tensor "
                                f"with requires_grad=True); param {i} is {type(p).__name__}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        _warn_duplicates(params)
        unknown = set(param_group) - set(self.defaults) - {"params"}
        if unknown:
            raise TypeError(f"unknown hyperparameters {sorted(unknown)} for "
                            f"{type(self).__name__}; expected some of {sorted(self.defaults)}")
        group = {**self.defaults, **param_group, "params": params}
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate hyperparameters (subclasses add their own checks). May normalise a value
        in ``group`` (Adam's ``betas`` become a tuple); changes nothing else."""
        if "lr" in group:
            check_hyperparameter("learning rate", group["lr"])
        if "weight_decay" in group:
            check_hyperparameter("weight_decay", group["weight_decay"])

    # -- the loop -----------------------------------------------------------------------
    def state_of(self, p: Any) -> dict[str, Any]:
        """The state dict of one parameter (``torch``'s ``optimizer.state[p]``)."""
        return self._state.setdefault(id(p), {})

    @property
    def state(self) -> dict[Any, dict[str, Any]]:
        """Per-parameter state keyed by parameter."""
        by_id = {id(p): p for g in self.param_groups for p in g["params"]}
        return {by_id[k]: v for k, v in self._state.items() if k in by_id}

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset gradients: Values to 0.0; Tensors to None (zeros if ``set_to_none=False``)."""
        guards.disarm(self._check_zero_grad)
        for group in self.param_groups:
            for p in group["params"]:
                if isinstance(p, Value):
                    p.grad = 0.0
                elif set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad = np.zeros_like(p.data)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient. ``closure`` re-evaluates the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                g = grad_array(p)
                if g is None:
                    continue
                if group.get("maximize", False):
                    g = -g
                state = self.state_of(p)
                state["step"] = state.get("step", 0) + 1
                new = self._update(np.array(param_array(p)), g, state, group)   # keeps the dtype
                set_param_data(p, new)
        if not guards.has_warned(_STALE_GRAD):
            guards.arm(self._check_zero_grad)
        return loss

    def _check_zero_grad(self, root: Any, order: list[Any]) -> None:
        """The zero_grad guard, run by the first backward pass after :meth:`step` (then
        disarmed, so a forgotten optimizer costs nothing later): warn if that pass will add to
        a gradient the step already used."""
        guards.disarm(self._check_zero_grad)
        stale = [p for group in self.param_groups for p in group["params"]
                 if p.grad is not None and not is_zero(p.grad)]
        if stale:
            in_pass = {id(node) for node in order}
            stale = [p for p in stale if id(p) in in_pass]
        if stale:
            guards.warn_once(_STALE_GRAD, _stale_message(type(self).__name__, stale))

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- state dicts ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``,
        indices numbering the parameters across groups (PyTorch's layout); arrays are copied."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[k]: copy.deepcopy(v) for k, v in self._state.items() if k in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict`. Everything is
        validated first (layout, group sizes, every hyperparameter, state shapes): a refused
        state dict leaves the optimizer as it was."""
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("optimizer state_dict must be a dict with keys 'state' and "
                             "'param_groups'")
        saved, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved, (list, tuple)) or not all(
                isinstance(s, dict) and isinstance(s.get("params"), (list, tuple)) for s in saved):
            raise ValueError("optimizer state_dict['param_groups'] must be a list of dicts, each "
                             "with a 'params' list")
        if not isinstance(saved_state, dict) or not all(
                isinstance(st, dict) for st in saved_state.values()):
            raise ValueError("optimizer state_dict['state'] must be a dict of dicts")
        if len(saved) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved)} parameter groups; this "
                             f"optimizer has {len(self.param_groups)}")
        new_groups = []
        for i, (s, g) in enumerate(zip(saved, self.param_groups)):
            if len(s["params"]) != len(g["params"]):
                raise ValueError(f"parameter group {i} has {len(g['params'])} parameters; the "
                                 f"loaded one has {len(s['params'])}")
            unknown = set(s) - set(self.defaults) - {"params"}
            if unknown:
                raise ValueError(f"parameter group {i} of the loaded state dict has unknown "
                                 f"hyperparameters {sorted(unknown)} for {type(self).__name__}")
            group = {**g, **{k: v for k, v in s.items() if k != "params"}}
            try:
                self._check_group(group)
            except (TypeError, ValueError) as e:
                raise type(e)(f"parameter group {i} of the loaded state dict: {e}") from None
            new_groups.append(group)
        params = {i: p for s, g in zip(saved, self.param_groups)
                  for i, p in zip(s["params"], g["params"])}
        for i, st in saved_state.items():
            for key, val in st.items():
                if isinstance(val, np.ndarray) and i in params and \
                        val.shape != np.shape(param_array(params[i])):
                    raise ValueError(f"state {key!r} of parameter {i} has shape {val.shape}; "
                                     f"the parameter has shape {np.shape(param_array(params[i]))}")
        # validated: now change everything at once
        self._state = {id(params[i]): copy.deepcopy(st) for i, st in saved_state.items()
                       if i in params}
        for g, new in zip(self.param_groups, new_groups):
            g.update(new)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)
