"""The records of a collapsed backward trace: one neuron, layer or module step and the
numbers it shows (see :mod:`viz.tracing.collapse`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..drawing.graph import ACTIVATION_OPS
from .backward_trace import BackwardStep

MAX_MATRIX = 8
"""Matrices up to this many rows and columns are printed with their numbers."""
MAX_VECTOR = 16
"""Vectors up to this length are printed with their numbers."""
MAX_SAMPLES = 4
"""A Tensor neuron step writes its recursion out for at most this many samples."""
MAX_LISTED = 12
"""A generic module step lists at most this many parameters by name."""

ELEMENTWISE_ACTIVATIONS = ACTIVATION_OPS


# ---------------------------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    """One term of ``∂L/∂a_j = Σ_k w_kj δ_k``: ``product = factor · delta``.

    ``weight`` is the weight ``w_kj`` (a node; ``None`` when the consumer is not a neuron's
    weighted input, e.g. the loss); ``factor`` the local derivative the pass used (``w_kj``'s
    value), ``delta`` the consumer's upstream gradient (``δ_k``), ``product`` the contribution.
    """

    weight_name: str | None
    consumer: str
    factor: Any
    delta: Any
    product: Any


@dataclass(frozen=True)
class ParamGrad:
    """A parameter's gradient from one step: ``product = delta · input_value`` (a weight:
    ``∂L/∂w_ji = δ_j · a_i``; a bias: ``input_value`` 1), summed over samples for a batch.

    ``before``/``after`` are the parameter's gradient around this contribution in the trace's
    pass (which starts at zero), ``path`` numbers its contributions in the pass and ``paths``
    counts them: ``product`` is the total ∂L/∂param only when ``paths`` is 1.
    """

    param: Any
    name: str
    input_name: str | None
    input_value: Any
    delta: Any
    product: Any
    before: Any = None
    after: Any = None
    path: int = 1
    paths: int = 1


@dataclass(frozen=True)
class NeuronDetail:
    """One neuron's step: ``a = f(z)``, ``δ = f'(z) · ∂L/∂a``, its weights' and bias' gradients.

    Scalars for a scalar neuron; arrays over the batch (one entry per sample) for a unit of a
    Tensor ``Linear``. ``activation`` is the op's name or ``"linear"`` (then ``f' = 1``).
    """

    name: str
    activation: str
    fprime_formula: str
    z: Any
    a: Any
    dL_da: Any
    terms: tuple[Term, ...]
    fprime: Any
    delta: Any
    weights: tuple[ParamGrad, ...]
    bias: ParamGrad | None
    batch: int | None = None


@dataclass(frozen=True)
class LayerDetail:
    """A layer's step in Jacobian form (vectors for one sample of a scalar layer; a Tensor
    layer has one row per sample).

    kind ``"dense"`` (a scalar ``Layer``: activation included), ``"linear"`` (a Tensor
    ``Linear``: ``Z = A Wᵀ + b``) or ``"activation"`` (a Tensor elementwise activation).
    ``W_next``/``delta_next`` are the next layer's weights and δ that make ``∂L/∂a`` (scalar
    layers, when every unit feeds the same next neurons). Missing parts are ``None``.
    """

    kind: str
    name: str
    activation: str | None
    fprime_formula: str | None
    dL_da: Any = None
    W_next: Any = None
    W_next_name: str | None = None
    delta_next: Any = None
    z: Any = None
    fprime: Any = None
    delta: Any = None
    A_prev: Any = None
    A_prev_name: str | None = None
    W: Any = None
    W_name: str | None = None
    dW: Any = None
    b_name: str | None = None
    db: Any = None
    dA_prev: Any = None
    neurons: tuple[NeuronDetail, ...] = ()


@dataclass(frozen=True)
class ModuleDetail:
    """Any module's step: the gradient arriving at its outputs, its parameters' gradients,
    the gradient it sends to its inputs (``(name, value)`` pairs, in the pass's order)."""

    outputs: tuple[tuple[str, Any], ...]
    params: tuple[ParamGrad, ...]
    inputs: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class CollapsedStep:
    """One step of a collapsed trace.

    ``kind``: ``"seed"``, ``"scalar"`` (a node outside any module: the loss), ``"neuron"``,
    ``"layer"`` or ``"module"``. ``inner`` holds the scalar steps it groups (their
    ``BackwardStep.index`` in the scalar trace). ``detail`` is a :class:`NeuronDetail`,
    :class:`LayerDetail`, :class:`ModuleDetail` or ``None`` (seed and scalar steps).
    """

    index: int
    kind: str
    name: str
    scope: Any
    inner: tuple[BackwardStep, ...]
    detail: Any = None
    shared: int = 1         # a Tensor layer's steps are shared by this many neuron steps


