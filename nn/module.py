"""``Module``: the base class of every layer and model (``torch.nn.Module``'s API, small).

Parameters and submodules are registered by attribute assignment: assigning a trainable
leaf (a ``Value`` or a ``Tensor`` with ``requires_grad=True``), a ``Module``, or a list of
either, records the name. ``named_parameters()`` then walks the tree and yields dotted names
(``layers.0.neurons.1.w.0``, ``0.weight``) exactly as PyTorch names them. Buffers (running
statistics) are numpy arrays registered with :meth:`Module.register_buffer`.
"""
from __future__ import annotations

import os
import zipfile
from collections import OrderedDict
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np

import autograd_core
from autograd_core import Value

from ._util import is_parameter, param_array, param_shape, set_param_data

_RESERVED = ("_param_names", "_module_names", "_buffers", "_non_persistent", "training")


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped (``torch``'s ``_IncompatibleKeys``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class for models: subclass it, assign parameters/submodules in ``__init__``,
    write ``forward``. Calling the module runs ``forward`` inside
    ``autograd_core.name_scope(self)``, so every node it creates records which module made it.

    ``scope_kind`` tells ``viz`` how to draw the module's box: ``"neuron"``, ``"layer"`` or
    ``"module"`` (containers).
    """

    scope_kind = "module"
    _repr_children = True          # leaf-like modules (Layer) print on one line

    def __init__(self) -> None:
        object.__setattr__(self, "_param_names", [])
        object.__setattr__(self, "_module_names", [])
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "training", True)

    # -- registration ------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_param_names" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 f"before assigning attribute {name!r}")
        if name in _RESERVED and name != "training":
            raise AttributeError(f"{name!r} is reserved by Module")
        for names in (self._param_names, self._module_names):
            if name in names:
                names.remove(name)
        self._buffers.pop(name, None)
        if _is_param_or_list(value):
            self._param_names.append(name)
            if getattr(value, "label", "") is None:      # graphs name a parameter after its attribute
                value.label = name
        elif _is_module_or_list(value):
            self._module_names.append(name)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for names in (self._param_names, self._module_names):
            if name in names:
                names.remove(name)
        self._buffers.pop(name, None)
        object.__delattr__(self, name)

    def __getattr__(self, name: str) -> Any:       # only called when normal lookup fails
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:
            return buffers[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def register_buffer(self, name: str, tensor: np.ndarray | None, persistent: bool = True) -> None:
        """Keep a non-trainable array (e.g. running statistics) in the state dict.

        Non-persistent buffers are not saved. The array is updated in place on load.
        """
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"buffer name must be a non-empty string without '.'; got {name!r}")
        if tensor is not None and not isinstance(tensor, np.ndarray):
            raise TypeError(f"buffer {name!r} must be a numpy array or None; "
                            f"got {type(tensor).__name__}")
        if name in self.__dict__:
            raise KeyError(f"attribute {name!r} already exists on {type(self).__name__}")
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    # -- calling -----------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with autograd_core.name_scope(self):
            return self.forward(*args, **kwargs)

    # -- walking the tree ----------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct submodules with their names (a list attribute ``layers`` gives ``layers.0``, ...)."""
        for name in self._module_names:
            value = getattr(self, name)
            if isinstance(value, Module):
                yield name, value
            else:
                for i, m in enumerate(value):
                    yield f"{name}.{i}", m

    def children(self) -> Iterator[Module]:
        """Direct submodules."""
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every submodule, depth first, with dotted names ('' for self)."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{n}" if name else n, m) for n, m in module.named_children()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        """This module and every submodule, depth first."""
        for _, m in self.named_modules():
            yield m

    def _own_parameters(self) -> Iterator[tuple[str, Any]]:
        for name in self._param_names:
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):
                for i, p in enumerate(value):
                    yield f"{name}.{i}", p
            else:
                yield name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Any]]:
        """``(dotted_name, parameter)`` pairs; a parameter shared by two modules appears once."""
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mname, module in modules:
            for pname, p in module._own_parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{mname}.{pname}" if mname else pname), p

    def parameters(self, recurse: bool = True) -> list[Any]:
        """Every trainable parameter, as a list (micrograd returns a list; so do we)."""
        return [p for _, p in self.named_parameters(recurse=recurse)]

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        """``(dotted_name, array)`` for every buffer that is not None."""
        for mname, module in self.named_modules(prefix):
            for bname, b in module._buffers.items():
                if b is not None:
                    yield (f"{mname}.{bname}" if mname else bname), b

    def buffers(self) -> list[np.ndarray]:
        """Every buffer array."""
        return [b for _, b in self.named_buffers()]

    def num_parameters(self) -> int:
        """Total number of trainable numbers (a Value counts 1, a Tensor its size)."""
        return int(sum(int(np.prod(param_shape(p), dtype=np.int64)) for p in self.parameters()))

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule (children first) and on self; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # -- training helpers ----------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: Values to 0.0; Tensors to None (or zeros when
        ``set_to_none=False``), as ``torch.nn.Module.zero_grad``."""
        for p in self.parameters():
            if isinstance(p, Value):
                p.grad = 0.0
            elif set_to_none:
                p.grad = None
            else:
                p.grad = np.zeros_like(p.data)

    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm uses batch statistics) recursively."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode) expects a bool; got {type(mode).__name__}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode: ``train(False)``."""
        return self.train(False)

    # -- state -----------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Copies of every parameter and persistent buffer as numpy arrays, by dotted name.

        A Value parameter becomes a 0-d array. Keys match PyTorch's (``0.weight``, ``0.bias``).
        """
        out: OrderedDict[str, np.ndarray] = OrderedDict()
        for name, p in self.named_parameters():
            out[name] = np.array(param_array(p), copy=True)
        for mname, module in self.named_modules():
            for bname, b in module._buffers.items():
                if b is not None and bname not in module._non_persistent:
                    out[f"{mname}.{bname}" if mname else bname] = b.copy()
        return out

    def _state_targets(self) -> dict[str, tuple[str, Any, Any]]:
        """name -> ("param", p, None) or ("buffer", module, buffer_name)."""
        targets: dict[str, tuple[str, Any, Any]] = {}
        for name, p in self.named_parameters():
            targets[name] = ("param", p, None)
        for mname, module in self.named_modules():
            for bname, b in module._buffers.items():
                if b is not None and bname not in module._non_persistent:
                    targets[f"{mname}.{bname}" if mname else bname] = ("buffer", module, bname)
        return targets

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays from ``state_dict`` into the parameters and buffers, in place.

        Everything is checked before anything is written: missing or unexpected keys (when
        ``strict``), wrong shapes (always) and non-numeric entries raise, naming every bad
        key, and leave the module exactly as it was. Returns the skipped keys.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict expects a mapping of name -> array; "
                            f"got {type(state_dict).__name__}")
        targets = self._state_targets()
        given = list(state_dict.keys())
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in given if k not in targets]
        problems: list[str] = []
        if strict and missing:
            problems.append(f"missing keys: {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {unexpected}")
        arrays: dict[str, np.ndarray] = {}
        for key in given:
            if key not in targets:
                continue
            raw = state_dict[key]
            raw = getattr(raw, "data", raw) if not isinstance(raw, np.ndarray) else raw
            try:
                arr = np.asarray(raw)
            except Exception:  # pragma: no cover - exotic objects
                arr = np.asarray(None)
            if arr.dtype.kind not in "biuf":
                problems.append(f"{key!r} holds {arr.dtype} data; expected real numbers")
                continue
            kind, obj, bname = targets[key]
            expected = param_shape(obj) if kind == "param" else obj._buffers[bname].shape
            if tuple(arr.shape) != tuple(expected):
                problems.append(f"size mismatch for {key!r}: checkpoint has shape "
                                f"{tuple(arr.shape)}, the model expects {tuple(expected)}")
                continue
            arrays[key] = arr
        if problems:
            raise ValueError(f"Error(s) in loading state_dict for {type(self).__name__} "
                             f"(nothing was loaded):\n  " + "\n  ".join(problems))
        for key, arr in arrays.items():
            kind, obj, bname = targets[key]
            if kind == "param":
                set_param_data(obj, arr)
            else:
                obj._buffers[bname][...] = arr
        return IncompatibleKeys(missing, unexpected)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the state dict to an ``.npz`` file (plain arrays, no pickle)."""
        arrays = self.state_dict()
        with open(path, "wb") as f:
            np.savez(f, **arrays)

    def load(self, path: str | os.PathLike[str], strict: bool = True) -> IncompatibleKeys:
        """Load a file written by :meth:`save` (``allow_pickle=False``); a file that is not an
        ``.npz`` archive raises ValueError and leaves the module untouched."""
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no such checkpoint file: {os.fspath(path)!r}")
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{os.fspath(path)!r} is not an .npz archive written by Module.save "
                             "(expected a zip file of .npy arrays)")
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {k: archive[k] for k in archive.files}
        except (ValueError, OSError, zipfile.BadZipFile) as exc:
            raise ValueError(f"could not read {os.fspath(path)!r} as an .npz of plain arrays: "
                             f"{exc}") from exc
        return self.load_state_dict(arrays, strict=strict)

    # -- printing ----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's one-line repr."""
        return ""

    def _header(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def __repr__(self) -> str:
        kids = list(self.named_children()) if self._repr_children else []
        if not kids:
            return self._header()
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in kids:
            text = repr(child).replace("\n", "\n  ")
            count = child.num_parameters()
            suffix = f"  # {count:,} params" if count and "\n" not in text else ""
            lines.append(f"  ({name}): {text}{suffix}")
        lines.append(f")  # {self.num_parameters():,} params")
        return "\n".join(lines)


def _is_param_or_list(value: Any) -> bool:
    if is_parameter(value):
        return True
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(map(is_parameter, value))


def _is_module_or_list(value: Any) -> bool:
    if isinstance(value, Module):
        return True
    return isinstance(value, (list, tuple)) and len(value) > 0 and \
        all(isinstance(v, Module) for v in value)
