"""autograd_core: a reverse-mode automatic differentiation engine for learning backprop.

``Value`` is a scalar node of a computation graph; ``Tensor`` its NumPy-backed sibling. Every
op applied to them is recorded, and ``backward()`` applies the chain rule in reverse
topological order (:func:`backward`, one loop, observable). Each op's forward, local
derivatives and formulas live in one :class:`Op` record (``autograd_core/ops.py``,
``autograd_core/tensor_ops.py``); an ``Op`` is applied by calling it.

Guards (:mod:`autograd_core.guards`) warn once, with a :class:`MisconceptionWarning`, about
patterns that are almost always a mistake (a backward after ``optimizer.step()`` without
``zero_grad()``); ``set_guards(False)`` silences them.
"""
from ._state import ModuleCall, enable_grad, is_grad_enabled, name_scope, no_grad, set_grad_enabled
from .anomaly import AnomalyError, detect_anomaly
from .checks.check_op import check_op
from .checks.answers import check_answer, check_derivative, check_gradients
from .checks.learner_checks import check_engine, check_topological_sort
from .dual import Dual, TangentStep, observe_forward
from .functional import grad, hessian, jacobian, jvp, value_and_grad, vjp
from .gradcheck import GradcheckError, gradcheck
from .graph import Edge, backward, backward_step, observe_backward, topological_order
from . import guards
from .guards import MisconceptionWarning, guards_enabled, set_guards
from .numbers import REAL_NUMBER_TYPES, is_zero
from .op import Op, constant_result
from .ops import ELEMENTWISE_OPS, TENSOR_ELEMENTWISE_OPS
from .checks.report import REPORT_MIME_TYPE, Report, ReportView
from .checks.stages import hint, reveal
from .rng import default_generator, initial_seed, manual_seed, seed
from .tensor import Tensor, concatenate, matmul, maximum, minimum, stack, where
from .tensor_ops import TENSOR_OPS
from .value import Value

from . import array_math, checks, scalar_math  # noqa: E402

MATH_NAMESPACES = {"scalar_math": scalar_math, "array_math": array_math,
                   "value_graph": Value._graph_math, "tensor_graph": Tensor._graph_math}
"""The math namespaces an op's rules are called with as ``m``, by name: floats, NumPy arrays,
and (``create_graph=True``) Value and Tensor graph nodes, where ``m.exp`` records an op."""

ALL_OPS = TENSOR_ELEMENTWISE_OPS + TENSOR_OPS
"""Every op of the tables: the elementwise ones (``Value``, ``Tensor``, ``Dual``), then the
tensor-only ones."""

__all__ = ["Value", "Tensor", "concatenate", "stack", "where", "maximum", "minimum", "matmul",
           "grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "Dual", "Op",
           "constant_result", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "name_scope", "ModuleCall", "gradcheck", "GradcheckError", "detect_anomaly", "AnomalyError",
           "topological_order", "backward", "backward_step", "observe_backward", "Edge",
           "observe_forward", "TangentStep",
           "is_zero", "REAL_NUMBER_TYPES", "ELEMENTWISE_OPS", "TENSOR_ELEMENTWISE_OPS",
           "TENSOR_OPS", "ALL_OPS", "manual_seed", "seed", "initial_seed",
           "default_generator", "MATH_NAMESPACES", "check_derivative", "check_gradients",
           "check_answer", "check_op", "check_engine", "check_topological_sort", "hint", "reveal",
           "ReportView", "checks",
           "Report", "REPORT_MIME_TYPE", "MisconceptionWarning", "set_guards", "guards_enabled", "guards"]
__version__ = "0.1.0"
