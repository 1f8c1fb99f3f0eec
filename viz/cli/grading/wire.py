"""The data format between the kernels of a forgery-safe grade, and the code run in them.

This module's source is sent, as text, into three kernels (it imports nothing of the project
at import time, so it runs in a kernel whatever that kernel's ``sys.path`` holds):

* the **teacher's kernel** (``--key``: the solution notebook, run once): each function
  answer is wrapped by :func:`record_calls`, which notes the arguments the teacher's checks
  call it with (the *probes*); :func:`emit` sends them out;
* the **student's kernel**: :func:`capture` reads each answer after the student's answer
  cell: a value is encoded as data, a function is called on the teacher's probes and only
  its results are encoded (numbers, arrays, the name of the error it raised);
* the **judge's kernel**, which runs only the teacher's notebook: :func:`inject` rebinds each
  answer name to the student's data, and each function answer to :func:`replay`, a lookup
  table from the teacher's probe to the student's result. The teacher's check cell then
  judges that, and its report is the grade.

The format is JSON with tagged objects (``{"__ndarray__": ..., "dtype": ...}``), decoded
into plain Python, NumPy and chainrule objects only: student data never becomes code.
"""
from __future__ import annotations

import json
import math
from typing import Any, Callable

CAPTURE_MIME = "application/vnd.chainrule.capture+json"
PROBES_MIME = "application/vnd.chainrule.probes+json"
NUMERIC_KINDS = "biufc"              # NumPy dtype kinds an answer array may have
MAX_DEPTH = 20                       # nesting of lists/dicts/tuples in one answer


# -- encoding ----------------------------------------------------------------------------------
def _namespaces() -> dict[str, Any]:
    """The math namespaces an op's rule is called with (``m``), by name."""
    from autograd_core import MATH_NAMESPACES

    return MATH_NAMESPACES


def _float(x: float) -> Any:
    return x if math.isfinite(x) else {"__float__": repr(x)}


def encode(x: Any, depth: int = 0) -> Any:
    """``x`` as JSON-able data: numbers, strings, lists, tuples, dicts, ``...``, NumPy
    arrays and scalars, ``Value``/``Tensor`` (their data), the math namespaces; anything
    else as ``{"__unsupported__": type name}``."""
    import numpy as np

    if depth > MAX_DEPTH:
        return {"__unsupported__": "nesting too deep"}
    if x is None or isinstance(x, (bool, str)):
        return x
    if x is Ellipsis:
        return {"__ellipsis__": 1}
    if isinstance(x, np.generic) and x.dtype.kind in NUMERIC_KINDS and x.dtype.kind != "c":
        return {"__npscalar__": encode(x.item(), depth + 1), "dtype": x.dtype.str}
    if isinstance(x, int) and not isinstance(x, bool):
        return x if abs(x) < 2 ** 63 else _float(float(x))
    if isinstance(x, float):
        return _float(float(x))
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in NUMERIC_KINDS or x.dtype.kind == "c":
            return {"__unsupported__": f"array of dtype {x.dtype}"}
        flat = [_float(float(v)) if x.dtype.kind == "f" else (bool(v) if x.dtype.kind == "b"
                                                              else int(v)) for v in x.ravel()]
        return {"__ndarray__": flat, "dtype": x.dtype.str, "shape": list(x.shape)}
    for name, space in _namespaces().items():
        if x is space:
            return {"__ns__": name}
    from autograd_core import Tensor, Value

    if isinstance(x, Value):
        return {"__value__": _float(float(x.data))}
    if isinstance(x, Tensor):
        return {"__tensor__": encode(np.asarray(x.data), depth + 1)}
    if isinstance(x, list):
        return [encode(v, depth + 1) for v in x]
    if isinstance(x, tuple):
        return {"__tuple__": [encode(v, depth + 1) for v in x]}
    if isinstance(x, dict) and all(isinstance(k, (str, int, float)) for k in x):
        return {"__dict__": [[encode(k), encode(v, depth + 1)] for k, v in x.items()]}
    return {"__unsupported__": type(x).__name__}


class Unsupported:
    """Stands in the judge for a student's answer of a type the format does not carry (a
    checker of numbers reports it as "not a number")."""

    def __init__(self, what: str) -> None:
        self.what = str(what)[:100]

    def __repr__(self) -> str:
        return f"<a {self.what}, which the grader does not read as an answer>"


def decode(x: Any, depth: int = 0) -> Any:
    """The inverse of :func:`encode` (``Value``/``Tensor`` come back as new leaves)."""
    import numpy as np

    if depth > MAX_DEPTH + 2:
        return Unsupported("nesting too deep")
    if isinstance(x, list):
        return [decode(v, depth + 1) for v in x]
    if not isinstance(x, dict):
        return x
    if "__float__" in x:
        return float(str(x["__float__"])) if str(x["__float__"]) in ("nan", "inf", "-inf") \
            else math.nan
    if "__ellipsis__" in x:
        return Ellipsis
    if "__ndarray__" in x:
        dtype = np.dtype(str(x.get("dtype")))
        if dtype.kind not in NUMERIC_KINDS or dtype.kind == "c":
            return Unsupported(f"array of dtype {dtype}")
        return np.array([decode(v, depth + 1) for v in x["__ndarray__"]],
                        dtype=dtype).reshape([int(n) for n in x.get("shape", [])])
    if "__npscalar__" in x:
        dtype = np.dtype(str(x.get("dtype")))
        if dtype.kind not in NUMERIC_KINDS or dtype.kind == "c":
            return Unsupported(f"NumPy scalar of dtype {dtype}")
        return dtype.type(decode(x["__npscalar__"], depth + 1))
    if "__ns__" in x:
        return _namespaces().get(str(x["__ns__"]), Unsupported("math namespace"))
    from autograd_core import Tensor, Value

    if "__value__" in x:
        return Value(float(decode(x["__value__"], depth + 1)))
    if "__tensor__" in x:
        return Tensor(decode(x["__tensor__"], depth + 1))
    if "__tuple__" in x:
        return tuple(decode(v, depth + 1) for v in x["__tuple__"])
    if "__dict__" in x:
        return {decode(k, depth + 1): decode(v, depth + 1) for k, v in x["__dict__"]}
    return Unsupported(str(x.get("__unsupported__", "object")))


def probe_key(args: tuple, kwargs: dict) -> str:
    """The lookup key of one call: its encoded arguments as canonical JSON."""
    return json.dumps([encode(list(args)), encode(dict(kwargs))], sort_keys=True)


# -- teacher's kernel: note the probes ----------------------------------------------------------
PROBES: dict[str, dict[str, dict[str, Any]]] = {}      # exercise -> function -> key -> probe


def record_calls(exercise: str, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, noting the arguments of every call (the teacher's probes)."""
    import functools

    if not callable(function):
        return function

    @functools.wraps(function)
    def recorded(*args: Any, **kwargs: Any) -> Any:
        PROBES.setdefault(exercise, {}).setdefault(name, {}).setdefault(
            probe_key(args, kwargs), [encode(list(args)), encode(dict(kwargs))])
        return function(*args, **kwargs)

    return recorded


def emit(mime: str, payload: Any) -> None:
    from IPython.display import display

    display({mime: payload}, raw=True)


# -- student's kernel: capture the answers --------------------------------------------------------
def _call(function: Any, args: list, kwargs: dict) -> Any:
    """The student's ``function`` on one probe: its result, encoded; for a call on graph
    nodes (``create_graph``), the result's value and its derivative with respect to each
    node argument, computed here: the judge rebuilds a node with that value and slope."""
    from autograd_core import Value

    try:
        result = function(*args, **kwargs)
        nodes = [a for a in args if isinstance(a, Value)]
        if nodes and isinstance(result, Value):
            for n in nodes:
                n.grad = 0.0
            result.backward()
            return {"__node__": encode(result), "slopes": [_float(float(n.grad)) for n in nodes]}
        return encode(result)
    except Exception as error:   # noqa: BLE001 - the student's error is their answer
        return {"__raised__": type(error).__name__, "message": str(error)[:2000]}


def capture(namespace: dict, exercise: str, answers: dict, probes: dict, nonce: str) -> None:
    """Encode each answer of ``exercise`` found in ``namespace``: a value as data, a function
    as its results on the teacher's ``probes``; display them under :data:`CAPTURE_MIME`."""
    out: dict[str, Any] = {}
    for name, kind in answers.items():
        if name not in namespace:
            out[name] = {"undefined": True}
        elif kind in ("engine", "sort"):
            record = _probe("engine_record" if kind == "engine" else "sort_record")
            try:
                out[name] = {kind: encode(record(namespace[name]))}
            except Exception as error:  # noqa: BLE001 - not a class or a function at all
                out[name] = {"value": {"__unsupported__": f"{type(error).__name__}"}}
        elif kind == "function" and callable(namespace[name]):
            calls = probes.get(name, {})
            out[name] = {"calls": {key: _call(namespace[name], *map(decode, probe))
                                   for key, probe in calls.items()}}
        else:
            try:
                out[name] = {"value": encode(namespace[name])}
            except Exception as error:  # noqa: BLE001 - e.g. an int too large for a float
                out[name] = {"value": {"__unsupported__": f"{type(error).__name__}"}}
    emit(CAPTURE_MIME, {"nonce": nonce, "exercise": exercise, "answers": out})


def _probe(name: str) -> Callable[..., Any]:
    """A recorder of :mod:`autograd_core.checks.learner_probe`: sent into the kernel beside
    this module (the same namespace), or imported when this module is imported."""
    found = globals().get(name)
    if found is None:
        from autograd_core import checks

        found = getattr(checks.learner_probe, name)
    return found


# -- judge's kernel: the student's answers as teacher-side objects --------------------------------
RECORD_ATTRIBUTE = "_chainrule_record"     # autograd_core.checks.learner_checks reads it


def recorded(teacher: Any, record: Any) -> Any:
    """The teacher's class (or function) for the cells that follow, carrying the student's
    recorded engine (or sort), which ``check_engine`` (``check_topological_sort``) judges."""
    import functools

    if isinstance(teacher, type):
        return type(teacher.__name__, (teacher,), {RECORD_ATTRIBUTE: record,
                                                   "__module__": teacher.__module__})

    @functools.wraps(teacher if callable(teacher) else _nothing)
    def carried(*args: Any, **kwargs: Any) -> Any:
        return teacher(*args, **kwargs) if callable(teacher) else None

    setattr(carried, RECORD_ATTRIBUTE, record)
    return carried

class NotProbed(RuntimeError):
    """The judge called a function answer on arguments the teacher's run never used."""


def _raise(record: dict) -> None:
    import builtins

    kind = getattr(builtins, str(record.get("__raised__")), None)
    message = str(record.get("message", ""))
    if isinstance(kind, type) and issubclass(kind, Exception):
        try:
            raise kind(message)
        except TypeError:          # an exception class that takes other arguments
            pass
    raise RuntimeError(f"{record.get('__raised__')}: {message}")


def replay(teacher: Callable[..., Any], calls: dict[str, Any]) -> Callable[..., Any]:
    """A function with ``teacher``'s signature that returns the student's recorded result
    for each probe (or raises the error the student's function raised)."""
    import functools

    @functools.wraps(teacher)
    def student(*args: Any, **kwargs: Any) -> Any:
        key = probe_key(args, kwargs)
        if key not in calls:
            raise NotProbed("the check called your function on an input the grader did not "
                            "prepare (the teacher's run never used it)")
        record = calls[key]
        if isinstance(record, dict) and "__raised__" in record:
            _raise(record)
        if isinstance(record, dict) and "__node__" in record:
            from autograd_core import Value

            value = decode(record["__node__"])          # a Value: its number (float() of a
            out = Value(value.data if isinstance(value, Value) else float(value))  # node is refused)
            nodes = [a for a in args if isinstance(a, Value)]
            for node, s in zip(nodes, record.get("slopes", [])):   # first-order: value, slope
                out = out + float(decode(s)) * (node - node.data)
            return out
        return decode(record)

    return student


def inject(namespace: dict, record: dict | None, answers: dict) -> None:
    """Rebind each answer name in the judge's ``namespace`` (where the teacher's answer cell
    just ran) to the student's answer from ``record`` (``None``: the exercise is missing,
    every answer becomes ``...``). First every answer name loses the teacher's solution, so
    that nothing the student sends (however malformed) leaves a solution in place; an answer
    that cannot be decoded becomes an :class:`Unsupported`."""
    teacher = {name: namespace.get(name) for name in answers}
    for name, kind in answers.items():
        namespace[name] = recorded(teacher[name], {"unanswered": True}) \
            if kind in ("engine", "sort") else _unanswered(teacher[name])
    captured = (record or {}).get("answers", {}) if isinstance(record, dict) else {}
    for name in answers:
        got = captured.get(name) if isinstance(captured, dict) else None
        try:
            if not isinstance(got, dict) or got.get("undefined"):
                continue
            kind = answers[name]
            if kind in ("engine", "sort"):
                if kind in got:
                    namespace[name] = recorded(teacher[name], decode(got[kind]))
                continue
            if "calls" in got:
                calls = got["calls"]
                namespace[name] = replay(teacher[name] if callable(teacher[name]) else _nothing,
                                         dict(calls) if isinstance(calls, dict) else {})
            else:
                namespace[name] = decode(got.get("value"))
        except Exception as error:  # noqa: BLE001 - a malformed answer is a wrong one
            namespace[name] = Unsupported(f"answer the grader cannot read ({type(error).__name__})")


def _nothing(*args: Any, **kwargs: Any) -> Any:
    return None


def _unanswered(teacher: Any) -> Any:
    """What a missing answer is: ``...`` for a value, a function returning ``None`` (the
    student copy's ``def f(...): ...``) for a function."""
    import functools

    if not callable(teacher):
        return Ellipsis

    @functools.wraps(teacher)
    def unanswered(*args: Any, **kwargs: Any) -> Any:
        return None

    return unanswered
