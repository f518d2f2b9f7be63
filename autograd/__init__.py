"""valuegrad's engine: a `Value` graph for scalars and numpy tensors, with reverse-mode backprop."""

__version__ = "0.1.0"

from autograd.compile import compile
from autograd.draw import draw, render
from autograd.explain import explain, find_wrong_gradients
from autograd.functional import grad, hessian, jacobian, value_and_grad
from autograd.gradcheck import GradcheckReport, TaylorReport, gradcheck, taylor_test
from autograd.graph import (
    Scope,
    collection_paused,
    gradients,
    is_grad_enabled,
    no_grad,
    scope,
    topological_order,
)
from autograd.ops import (
    absolute,
    amax,
    amin,
    clip,
    concatenate,
    exp,
    log,
    log_softmax,
    logsumexp,
    relu,
    sigmoid,
    softmax,
    softplus,
    sqrt,
    stack,
    tanh,
    where,
)
from autograd.value import Primitive, Value

__all__ = [
    "GradcheckReport",
    "Primitive",
    "Scope",
    "TaylorReport",
    "Value",
    "__version__",
    "absolute",
    "amax",
    "amin",
    "clip",
    "collection_paused",
    "compile",
    "concatenate",
    "draw",
    "exp",
    "explain",
    "find_wrong_gradients",
    "grad",
    "gradcheck",
    "gradients",
    "hessian",
    "is_grad_enabled",
    "jacobian",
    "log",
    "log_softmax",
    "logsumexp",
    "no_grad",
    "relu",
    "render",
    "scope",
    "sigmoid",
    "softmax",
    "softplus",
    "sqrt",
    "stack",
    "tanh",
    "taylor_test",
    "topological_order",
    "value_and_grad",
    "where",
]
