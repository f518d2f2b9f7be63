"""valuegrad's engine: a `Value` graph for scalars and numpy tensors, with reverse-mode backprop."""

from autograd.graph import Scope, gradients, is_grad_enabled, no_grad, scope, topological_order
from autograd.ops import exp, log, relu, sigmoid, softplus, tanh
from autograd.value import Primitive, Value

__all__ = [
    "Primitive",
    "Scope",
    "Value",
    "exp",
    "gradients",
    "is_grad_enabled",
    "log",
    "no_grad",
    "relu",
    "scope",
    "sigmoid",
    "softplus",
    "tanh",
    "topological_order",
]
