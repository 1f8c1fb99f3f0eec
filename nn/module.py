"""``Module``: the base class of every layer and model (``torch.nn.Module``'s API, small).

Parameters and submodules are registered by attribute assignment: assigning a trainable
leaf (a ``Value`` or a ``Tensor`` with ``requires_grad=True``), a ``Module``, or a list of
either, records the name. ``named_parameters()`` then walks the tree and yields dotted names
(``layers.0.neurons.1.w.0``, ``0.weight``) exactly as PyTorch names them. Buffers (running
statistics) are numpy arrays of real numbers registered with :meth:`Module.register_buffer`.
:meth:`Module.save` writes an ``.npz`` of plain arrays; :meth:`Module.load` checks a file's
member names and ``.npy`` headers against the model before it reads any data.
"""
from __future__ import annotations

import io
import math
import os
import struct
import zipfile
import zlib
from collections import OrderedDict
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np

import autograd_core
from autograd_core import Value

from ._util import float_dtype, is_parameter, param_array, param_shape, set_param_data

_RESERVED = ("_param_names", "_module_names", "_buffers", "_non_persistent", "training")
_REAL_KINDS = "biuf"            # bool, signed and unsigned int, float: what .npy stores without pickle
_MAX_NPY_HEADER = 10_000        # bytes; numpy.lib.format's own default max_header_size
_EXTRA_MEMBERS = 1024           # members beyond the model's arrays a file may list (strict=False)
_MAX_ENTRY_BYTES = 46 + 256 + 128   # a central-directory entry: fixed part, name, extra and comment
_MAX_LISTED_KEYS = 20           # keys named in a refusal; the rest are counted

try:
    from lzma import LZMAError
except ImportError:  # pragma: no cover - a Python without lzma cannot open LZMA members at all
    LZMAError = zlib.error
_READ_ERRORS = (ValueError, OSError, EOFError, RuntimeError, NotImplementedError,
                zipfile.BadZipFile, zlib.error, LZMAError)


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
        if name in self._buffers:                 # as PyTorch: assigning to a buffer replaces it
            self._buffers[name] = _checked_buffer(name, value)
            return
        for names in (self._param_names, self._module_names):
            if name in names:
                names.remove(name)
        self._buffers.pop(name, None)
        if _is_param_or_list(value):
            for p in (value if isinstance(value, (list, tuple)) else [value]):
                _check_parameter_dtype(name, p)
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

        The array must hold real numbers (bool, int, uint or float): anything else (object,
        string, complex, structured) could not be saved without pickle, so it raises
        TypeError here. Non-persistent buffers are not saved. The array is updated in place
        on load; assigning a new array to the attribute replaces the buffer (checked the same way).
        """
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"buffer name must be a non-empty string without '.'; got {name!r}")
        tensor = _checked_buffer(name, tensor)
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

    # -- dtype -----------------------------------------------------------------------------
    def to(self, dtype: Any) -> Module:
        """Cast every Tensor parameter (and its gradient) and every floating-point buffer to
        ``dtype`` in place, as ``torch.nn.Module.to(dtype)``; returns self.

        The parameter objects stay the same, so an optimizer built on them keeps working
        (its existing state keeps its dtype: as in PyTorch, convert before building it).
        Integer buffers (``num_batches_tracked``) are left alone. Value parameters hold
        Python floats (float64): asking for another dtype raises TypeError before anything
        is cast.
        """
        target = float_dtype(dtype)
        values = [n for n, p in self.named_parameters() if isinstance(p, Value)]
        if values and target != np.float64:
            raise TypeError(f"{type(self).__name__} has Value parameters ({values[0]!r}, ...), "
                            f"which hold Python floats (float64); they cannot become {target}")
        for p in self.parameters():
            if isinstance(p, Value):
                continue
            p.data = p.data.astype(target, copy=False)
            if isinstance(p.grad, np.ndarray):
                p.grad = p.grad.astype(target, copy=False)
        for module in self.modules():
            for name, b in module._buffers.items():
                if b is not None and b.dtype.kind == "f":
                    module._buffers[name] = b.astype(target, copy=False)
        return self

    def float(self) -> Module:
        """``to(numpy.float32)``."""
        return self.to(np.float32)

    def double(self) -> Module:
        """``to(numpy.float64)``."""
        return self.to(np.float64)

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
        ``strict``), wrong shapes (always), non-numeric entries and dtypes the target cannot
        take (a float into an integer buffer) raise ValueError, naming every bad key, and
        leave the module exactly as it was. Returns the skipped keys.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict expects a mapping of name -> array; "
                            f"got {type(state_dict).__name__}")
        targets = self._state_targets()
        given = list(state_dict.keys())
        missing, unexpected, problems = _compare_keys(targets, given, strict, False)
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
            problem = _entry_problem(key, arr.dtype, arr.shape, targets[key])
            if problem:
                problems.append(problem)
            else:
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
        """Write the state dict to ``path`` as an ``.npz`` archive (one ``<key>.npy`` member
        per entry, plain arrays, never pickle), replacing the file only once it is complete."""
        arrays = self.state_dict()
        bad = [f"{k!r} ({a.dtype})" for k, a in arrays.items() if not _is_real_dtype(a.dtype)]
        if bad:     # only reachable by writing into .data or _buffers by hand
            raise TypeError(f"cannot save {type(self).__name__}: entries {', '.join(bad)} do not "
                            f"hold real numbers, and .npz files are written without pickle")
        name = os.fspath(path)
        if os.path.isdir(name):
            raise IsADirectoryError(f"{name!r} is a directory; save() expects a file path such "
                                    f"as {os.path.join(name, 'model.npz')!r}")
        partial = f"{name}.{os.getpid()}.partial"
        try:
            with zipfile.ZipFile(partial, "x", zipfile.ZIP_STORED, allowZip64=True) as archive:
                for key, arr in arrays.items():
                    with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, arr, allow_pickle=False)
            os.replace(partial, name)
        finally:
            if os.path.exists(partial):
                os.remove(partial)

    def load(self, path: str | os.PathLike[str], strict: bool = True) -> IncompatibleKeys:
        """Load a file written by :meth:`save`, reading only what the model expects.

        The archive is checked from its headers before any array data is read: first its
        zip end record (a file listing more members than the model's arrays plus 1024, or a
        larger directory than those need, is refused before ``zipfile`` parses the
        directory), then member names
        (missing or unexpected keys when ``strict``; unexpected members are never read), and
        each expected member's ``.npy`` header (format version, dtype, shape, and that its
        size matches). A hostile or corrupt file costs no more memory than the model's own
        arrays. Every refusal is a ValueError naming the file (and the member), and leaves the
        module untouched; a directory or a missing path raises IsADirectoryError /
        FileNotFoundError.
        """
        name = os.fspath(path)
        if os.path.isdir(name):
            raise IsADirectoryError(f"{name!r} is a directory, not a checkpoint file; pass the "
                                    f".npz file written by Module.save")
        if not os.path.exists(name):
            raise FileNotFoundError(f"no such checkpoint file: {name!r}")
        if not os.path.isfile(name):
            raise ValueError(f"{name!r} is not a regular file; expected the .npz file written "
                             f"by Module.save")
        arrays, unexpected = _read_checkpoint(name, self._state_targets(), strict,
                                              type(self).__name__)
        missing = self.load_state_dict(arrays, strict=strict).missing_keys
        return IncompatibleKeys(missing, unexpected)

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
            count = Module.num_parameters(child)    # PReLU's num_parameters is PyTorch's int
            suffix = f"  # {count:,} params" if count and "\n" not in text else ""
            lines.append(f"  ({name}): {text}{suffix}")
        lines.append(f")  # {Module.num_parameters(self):,} params")
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


# -- dtype checks shared by registration, load_state_dict, save and load -------------------------
def _is_real_dtype(dtype: np.dtype) -> bool:
    """A plain bool/int/uint/float dtype (no object, string, complex or structured data)."""
    return dtype.kind in _REAL_KINDS and dtype.fields is None and dtype.subdtype is None


def _checked_buffer(name: str, tensor: Any) -> np.ndarray | None:
    """``tensor`` if it can be a buffer (a real-number array or None), else TypeError."""
    if tensor is None:
        return None
    if not isinstance(tensor, np.ndarray):
        raise TypeError(f"buffer {name!r} must be a numpy array or None; "
                        f"got {type(tensor).__name__}")
    if not _is_real_dtype(tensor.dtype):
        raise TypeError(f"buffer {name!r} has dtype {tensor.dtype}; a buffer must hold real "
                        f"numbers (bool, int, uint or float) so that save() can write it "
                        f"without pickle")
    return tensor


def _check_parameter_dtype(name: str, p: Any) -> None:
    """A Tensor parameter must hold a float array (a Value always holds a Python float)."""
    if isinstance(p, Value):
        return
    data = p.data
    if not isinstance(data, np.ndarray) or data.dtype.kind != "f":
        dtype = getattr(data, "dtype", type(data).__name__)
        raise TypeError(f"parameter {name!r} has dtype {dtype}; a parameter must hold "
                        f"floating-point data (float32 or float64)")


def _compare_keys(targets: dict[str, Any], given: list[str], strict: bool, in_file: bool
                  ) -> tuple[list[str], list[str], list[str]]:
    """(missing, unexpected, problems): the problems are the strict-mode complaints; with
    ``in_file`` they also name the archive members (``<key>.npy``)."""
    present = set(given)
    missing = [k for k in targets if k not in present]
    unexpected = [k for k in given if k not in targets]
    problems: list[str] = []
    for what, keys, members in (("missing", missing, "no members"),
                                ("unexpected", unexpected, "members")):
        if strict and keys:
            shown, more = keys[:_MAX_LISTED_KEYS], len(keys) - _MAX_LISTED_KEYS
            rest = f" and {more} more" if more > 0 else ""
            names = (f" ({members} {', '.join(repr(k + '.npy') for k in shown)}{rest})"
                     if in_file else "")
            problems.append(f"{what} keys: {shown if in_file else keys}{rest if in_file else ''}"
                            f"{names}")
    return missing, unexpected, problems


def _entry_problem(key: str, dtype: np.dtype, shape: tuple[int, ...],
                   target: tuple[str, Any, Any]) -> str | None:
    """Why an array of ``dtype`` and ``shape`` cannot be loaded into ``target``, or None."""
    kind, obj, bname = target
    into = param_array(obj) if kind == "param" else obj._buffers[bname]
    if not _is_real_dtype(dtype):
        return f"{key!r} holds {dtype} data; expected real numbers"
    if tuple(shape) != tuple(into.shape):
        return (f"size mismatch for {key!r}: checkpoint has shape {tuple(shape)}, the model "
                f"expects {tuple(into.shape)}")
    if not np.can_cast(dtype, into.dtype, casting="same_kind"):
        return f"{key!r} holds {dtype} data, which the model's {into.dtype} {key!r} cannot take"
    return None


# -- reading a checkpoint: headers first, then only the data the model expects -------------------
class _NpyHeader(NamedTuple):
    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype
    offset: int             # where the data starts in the member

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def _read_npy_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> _NpyHeader:
    """Parse one member's ``.npy`` header from a bounded prefix (never its data)."""
    with archive.open(info) as member:
        prefix = io.BytesIO(member.read(_MAX_NPY_HEADER + 12))   # magic, version, length, header
    version = np.lib.format.read_magic(prefix)
    if version == (1, 0):
        header = np.lib.format.read_array_header_1_0(prefix, max_header_size=_MAX_NPY_HEADER)
    elif version == (2, 0):
        header = np.lib.format.read_array_header_2_0(prefix, max_header_size=_MAX_NPY_HEADER)
    else:
        raise ValueError(f".npy format version {version[0]}.{version[1]} is not supported "
                         f"(expected 1.0 or 2.0)")
    shape, fortran_order, dtype = header
    return _NpyHeader(tuple(shape), bool(fortran_order), dtype, prefix.tell())


def _read_npy_data(archive: zipfile.ZipFile, info: zipfile.ZipInfo, header: _NpyHeader
                   ) -> np.ndarray:
    """The array of a member whose header was checked: exactly ``header.nbytes`` bytes."""
    with archive.open(info) as member:
        member.read(header.offset)
        data = member.read(header.nbytes)
        if len(data) != header.nbytes or member.read(1):      # reaching the end checks the CRC
            raise ValueError(f"the data is not the {header.nbytes} bytes its header announces")
    order = "F" if header.fortran_order else "C"
    return np.frombuffer(data, dtype=header.dtype).reshape(header.shape, order=order)


def _zip_directory_size(fh: Any) -> tuple[int, int] | None:
    """(member count, central directory size in bytes) from the zip's end records, read
    exactly where ``zipfile`` will look for them (the last 22 bytes, else the last 64 KiB;
    a Zip64 record just before), without parsing the directory; None if there is none
    (zipfile then refuses the file itself)."""
    end = fh.seek(0, os.SEEK_END)
    fh.seek(max(0, end - 22))
    tail, base = fh.read(22), max(0, end - 22)
    if not (len(tail) == 22 and tail[:4] == b"PK\x05\x06" and tail[-2:] == b"\0\0"):
        base = max(0, end - 22 - 65535)
        fh.seek(base)
        tail = fh.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return None
        tail, base = tail[at:at + 22], base + at
    *_, count, size, _, _ = struct.unpack("<4s4H2LH", tail)
    if base >= 20 + 56:                      # a Zip64 locator, then the record before it
        fh.seek(base - 20 - 56)
        record = fh.read(56 + 20)
        if record[56:60] == b"PK\x06\x07" and record[:4] == b"PK\x06\x06":
            *_, count, size, _ = struct.unpack("<4sQ2H2L4Q", record[:56])   # as zipfile
    return count, size


def _read_checkpoint(name: str, targets: dict[str, tuple[str, Any, Any]], strict: bool,
                     model: str) -> tuple[dict[str, np.ndarray], list[str]]:
    """(the arrays of ``name`` that ``targets`` expects, the keys it does not expect);
    ValueError naming the file and member for anything wrong, raised before any array data
    has been read."""
    def refuse(problems: list[str]) -> ValueError:
        return ValueError(f"Error(s) in loading {name!r} into {model} (nothing was loaded):\n  "
                          + "\n  ".join(problems))

    with open(name, "rb") as fh:
        start = fh.read(6)
        if not start.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            kind = "a single .npy array" if start == b"\x93NUMPY" else "not a zip file"
            raise ValueError(f"{name!r} is not an .npz archive written by Module.save ({kind}; "
                             f"expected a zip file of .npy arrays)")
        directory = _zip_directory_size(fh)
        if directory is not None:
            count, size = directory
            limit = len(targets) + _EXTRA_MEMBERS
            longest = max((len(k) for k in targets), default=0) + 4
            if count > limit or size > limit * (_MAX_ENTRY_BYTES + longest):
                raise ValueError(
                    f"{name!r} is refused before its zip directory is read: it lists {count} "
                    f"members in {size} bytes; {model} expects {len(targets)} arrays (at most "
                    f"{limit} members are read). Nothing was loaded")
        fh.seek(0)
        try:
            archive = zipfile.ZipFile(fh)
        except _READ_ERRORS as exc:
            raise ValueError(f"{name!r} is not a readable .npz archive: {exc}") from None
        with archive:
            members: dict[str, zipfile.ZipInfo] = {}
            problems: list[str] = []
            for info in archive.infolist():
                key = info.filename[:-4] if info.filename.endswith(".npy") else None
                if key is None or info.is_dir():
                    if strict:
                        problems.append(f"member {info.filename!r} is not an .npy array")
                elif key in members:
                    problems.append(f"member {info.filename!r} appears more than once")
                else:
                    members[key] = info
            _, unexpected, key_problems = _compare_keys(targets, list(members), strict, True)
            problems += key_problems
            expected = [key for key in members if key in targets]
            headers: dict[str, _NpyHeader] = {}
            for key in expected:
                member = members[key].filename
                try:
                    header = _read_npy_header(archive, members[key])
                except _READ_ERRORS as exc:
                    problems.append(f"member {member!r}: unreadable .npy header ({exc})")
                    continue
                problem = _entry_problem(key, header.dtype, header.shape, targets[key])
                if problem is None and members[key].file_size != header.offset + header.nbytes:
                    problem = (f"its size, {members[key].file_size} bytes, is not the "
                               f"{header.offset + header.nbytes} bytes its header announces")
                if problem:
                    problems.append(f"member {member!r}: {problem}")
                headers[key] = header
            if problems:
                raise refuse(problems)
            arrays: dict[str, np.ndarray] = {}
            for key in expected:
                try:
                    arrays[key] = _read_npy_data(archive, members[key], headers[key])
                except _READ_ERRORS as exc:
                    raise refuse([f"member {members[key].filename!r}: {exc}"]) from None
    return arrays, unexpected
