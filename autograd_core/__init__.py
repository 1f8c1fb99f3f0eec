"""autograd_core: a reverse-mode automatic differentiation engine for learning backprop.

``Value`` is a scalar node of a computation graph; every op applied to it is recorded, and
``backward()`` applies the chain rule in reverse topological order. Each op's forward,
local derivatives and formulas live in one record (:mod:`autograd_core.ops`).
"""
from ._state import enable_grad, is_grad_enabled, name_scope, no_grad, set_grad_enabled
from .anomaly import AnomalyError, detect_anomaly
from .dual import Dual
from .functional import grad, hessian, jacobian, jvp, value_and_grad, vjp
from .gradcheck import GradcheckError, gradcheck
from .graph import topological_order
from .op import Op
from .rng import default_generator, initial_seed, manual_seed, seed
from .tensor import Tensor, concatenate, matmul, maximum, minimum, stack, where
from .value import Value

__all__ = ["Value", "Tensor", "concatenate", "stack", "where", "maximum", "minimum", "matmul",
           "grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "Dual", "Op", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "name_scope", "gradcheck", "GradcheckError", "detect_anomaly", "AnomalyError",
           "topological_order"]
__all__ += ["manual_seed", "seed", "initial_seed", "default_generator"]
__version__ = "0.1.0"
