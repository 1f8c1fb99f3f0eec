"""Function transforms over Value and Tensor code: grad, value_and_grad, vjp, jvp,
jacobian and hessian (JAX-style names).

Arguments are converted on the way in: a Python or NumPy scalar becomes a ``Value``, an
array (or nested list) a ``Tensor``; ``f`` returns a Value or a Tensor (or a list of Values).
Gradients come back as floats for scalar arguments and ndarrays for array arguments.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .dual import Dual
from .numbers import REAL_NUMBER_TYPES
from .tensor import Tensor
from .value import Value



def _to_node(x: Any, requires_grad: bool = True) -> Any:
    """A fresh leaf holding ``x``'s data: Value for scalars, Tensor for arrays."""
    data = x.data if isinstance(x, (Value, Tensor)) else x
    if isinstance(x, Value) or isinstance(data, REAL_NUMBER_TYPES) or \
            (isinstance(data, np.ndarray) and data.ndim == 0 and not isinstance(x, Tensor)):
        return Value(data, requires_grad=requires_grad)
    return Tensor(data, requires_grad=requires_grad)


def _argnums(argnums: int | Sequence[int], n: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not -n <= i < n:
            raise ValueError(f"argnums {i} out of range for a function called with {n} arguments")
    return tuple(i % n for i in nums)


def _grad_of(node: Any) -> Any:
    g = node.grad
    if isinstance(node, Tensor):
        return np.zeros_like(node.data) if g is None else g
    return g


def _flat_outputs(out: Any) -> list[Any]:
    if isinstance(out, (list, tuple)):
        return list(out)
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, Value):
        return [out]
    raise TypeError(f"the function must return a Value, a Tensor or a list of Values; "
                    f"got {type(out).__name__}")


def value_and_grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """``f``'s value and its gradient ∂f/∂args[argnums] (a tuple when argnums is a tuple)."""
    def wrapped(*args: Any) -> tuple[float, Any]:
        nums = _argnums(argnums, len(args))
        nodes = [_to_node(a, requires_grad=i in nums) for i, a in enumerate(args)]
        out = f(*nodes)
        if not isinstance(out, (Value, Tensor)) or np.size(out.data) != 1:
            raise ValueError("grad needs f to return a scalar Value or one-element Tensor; got "
                             f"{type(out).__name__} of shape {np.shape(getattr(out, 'data', out))}")
        out.backward()
        grads = tuple(_grad_of(nodes[i]) for i in nums)
        value = float(np.asarray(out.data).reshape(()))
        return value, (grads if not isinstance(argnums, int) else grads[0])
    return wrapped


def grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The gradient ∂f/∂args[argnums] of a scalar function, as a function of the args."""
    vg = value_and_grad(f, argnums)
    return lambda *args: vg(*args)[1]


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """``(f(primals), vjp_fn)`` where ``vjp_fn(u) = uᵀ J`` for each primal (reverse mode).

    Each call of ``vjp_fn`` is one backward pass through the recorded graph.
    """
    nodes = [_to_node(p) for p in primals]
    out = f(*nodes)

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        for n in nodes:
            n.grad = None if isinstance(n, Tensor) else 0.0
        if isinstance(out, Tensor):
            out.backward(np.asarray(cotangent, dtype=out.dtype), retain_graph=True)
        else:
            outs = _flat_outputs(out)
            cot = np.broadcast_to(np.asarray(cotangent, dtype=float), (len(outs),)) \
                if isinstance(out, (list, tuple)) else [float(cotangent)]
            for o, c in zip(outs, cot):
                o.backward(float(c))          # leaves accumulate: the sum over outputs
        return tuple(_grad_of(n) for n in nodes)

    data = [o.data for o in out] if isinstance(out, (list, tuple)) else out.data
    return data, vjp_fn


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(primals), J · tangents)``: the directional derivative (forward mode).

    Scalar arguments run ``f`` once on dual numbers (``Dual``): one forward pass per
    direction. Array arguments use the reverse-over-reverse identity J v = ∂(uᵀJ v)/∂u.
    """
    if len(primals) != len(tangents):
        raise ValueError(f"jvp got {len(primals)} primals but {len(tangents)} tangents")
    if all(isinstance(p, REAL_NUMBER_TYPES) for p in primals):
        out = f(*[Dual(p, t) for p, t in zip(primals, tangents)])
        if isinstance(out, (list, tuple)):
            return [o.primal for o in out], [o.tangent for o in out]
        return out.primal, out.tangent
    nodes = [Tensor(p, requires_grad=True) for p in primals]
    out = f(*nodes)
    u = Tensor(np.zeros(out.shape, dtype=out.dtype), requires_grad=True)
    out.backward(u, create_graph=True)            # each input's grad is uᵀJ, linear in u
    total = None
    for n, t in zip(nodes, tangents):
        if n.grad is None:
            continue
        term = (n.grad * Tensor(np.asarray(t, dtype=n.dtype))).sum()
        total = term if total is None else total + term
    if total is None or not total.requires_grad:
        return out.data, np.zeros(out.shape)
    total.backward()
    return out.data, (u.grad if u.grad is not None else np.zeros(out.shape))


def jacobian(f: Callable[..., Any], argnums: int = 0, mode: str = "reverse") -> Callable[..., np.ndarray]:
    """The Jacobian ∂f/∂args[argnums] with shape ``f's output shape + the argument's shape``.

    ``mode="reverse"`` runs one backward pass per output element; ``mode="forward"`` (scalar
    arguments only) runs ``f`` once per input on dual numbers. The two agree; which is
    cheaper depends on whether there are more outputs or more inputs.
    """
    if mode not in ("reverse", "forward"):
        raise ValueError(f"mode must be 'reverse' or 'forward', got {mode!r}")

    def wrapped(*args: Any) -> np.ndarray:
        i = _argnums(argnums, len(args))[0]
        if mode == "forward":
            x = np.asarray(args[i], dtype=float)
            columns = []
            for k in range(x.size):
                seeds = np.zeros(x.size)
                seeds[k] = 1.0
                duals = [Dual(v, s) for v, s in zip(x.ravel(), seeds)]
                call = list(args)
                call[i] = duals[0] if x.ndim == 0 else duals
                out = f(*call)
                outs = out if isinstance(out, (list, tuple)) else [out]
                columns.append([o.tangent for o in outs])
            jac = np.array(columns).T                     # (outputs, inputs)
            n_out = jac.shape[0]
            return jac.reshape((() if not isinstance(out, (list, tuple)) else (n_out,)) + x.shape)
        node = _to_node(args[i])
        call = list(args)
        call[i] = node
        out = f(*call)
        outs = _flat_outputs(out)
        if isinstance(out, Tensor):
            out_shape = out.shape
            rows = []
            for k in range(out.size):
                seed = np.zeros(out.size, dtype=out.dtype)
                seed[k] = 1.0
                node.grad = None
                out.backward(seed.reshape(out_shape), retain_graph=True)
                rows.append(np.array(_grad_of(node), dtype=float))
            return np.array(rows).reshape(out_shape + np.shape(node.data))
        rows = []
        for o in outs:
            node.grad = None if isinstance(node, Tensor) else 0.0
            o.backward()
            rows.append(np.array(_grad_of(node), dtype=float))
        jac = np.array(rows)
        return jac[0] if not isinstance(out, (list, tuple)) else jac
    return wrapped


def hessian(f: Callable[..., Any], argnums: int = 0) -> Callable[..., np.ndarray]:
    """The matrix of second derivatives ∂²f/∂x_i∂x_j of a scalar function, via
    ``backward(create_graph=True)`` followed by one backward pass per gradient element."""
    def wrapped(*args: Any) -> np.ndarray:
        i = _argnums(argnums, len(args))[0]
        node = _to_node(args[i])
        call = list(args)
        call[i] = node
        out = f(*call)
        if np.size(out.data) != 1:
            raise ValueError(f"hessian needs a scalar function; f returned shape {np.shape(out.data)}")
        out.backward(create_graph=True)
        first = node.grad
        if isinstance(node, Value):
            node.grad = 0.0
            if isinstance(first, Value) and first.requires_grad:
                first.backward()
                return np.array(node.grad if isinstance(node.grad, float) else node.grad.data)
            return np.array(0.0)
        n = node.size
        rows = []
        for k in range(n):
            node.grad = None
            if not isinstance(first, Tensor) or not first.requires_grad:
                rows.append(np.zeros(n))
                continue
            component = first.reshape(-1)[k]
            component.backward(retain_graph=True)
            rows.append(np.zeros(n) if node.grad is None else np.asarray(node.grad, dtype=float).ravel())
        node.grad = None
        return np.array(rows).reshape(node.shape + node.shape)
    return wrapped
