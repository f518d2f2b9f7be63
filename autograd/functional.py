"""Function transforms, as in HIPS autograd and JAX: grad, value_and_grad, jacobian, hessian.

Each takes a function of Values and returns a function of numbers or arrays.
They compose: called with Values (as happens inside another transform) they
record the graph of the derivative itself, so `grad(grad(f))` is f''.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

import numpy as np

from autograd.graph import enable_grad, gradients
from autograd.value import Value

Function = Callable[..., Value]


def _argnums(argnums: int | Sequence[int], nargs: int) -> tuple[int, ...]:
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        picked: tuple[Any, ...] = (argnums,)
    elif isinstance(argnums, (tuple, list)) and argnums:
        picked = tuple(argnums)
    else:
        raise TypeError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    for i in picked:
        if isinstance(i, bool) or not isinstance(i, int) or not -nargs <= i < nargs:
            raise ValueError(f"argnums {argnums!r} does not fit a call with {nargs} arguments")
    return tuple(i % nargs for i in picked)


# How many transforms are running f in this thread. Inside one, a transform's result
# may depend on the outer transform's variable through a closure (`lambda y: x * y`),
# so it is returned as a Value with its graph: otherwise d/dx would miss that path.
_depth: ContextVar[int] = ContextVar("autograd_transform_depth", default=0)


def _call(
    f: Function, args: tuple[Any, ...], picked: tuple[int, ...]
) -> tuple[Value, list[Value], bool]:
    """Run f with the picked arguments as Values; `nested` inside another transform."""
    depth = _depth.get()
    nested = depth > 0 or any(isinstance(args[i], Value) for i in picked)
    values = list(args)
    for i in picked:
        if not isinstance(values[i], Value):
            values[i] = Value(args[i])
    token = _depth.set(depth + 1)
    try:
        # A transform differentiates f whatever the caller's mode, as torch.func.grad does:
        # inside no_grad() it would otherwise record nothing and answer zeros.
        with enable_grad():
            out = f(*values)
    finally:
        _depth.reset(token)
    if not isinstance(out, Value):
        raise TypeError(f"the function must return a Value, got {type(out).__name__}")
    return out, [values[i] for i in picked], nested


def value_and_grad(f: Function, argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """x ↦ (f(x), ∇f(x)) for f with one output element; a tuple of gradients for tuple argnums.

    Inside another transform the results are Values, differentiable in its variable.
    """

    def value_and_grad_f(*args: Any) -> tuple[Any, Any]:
        picked = _argnums(argnums, len(args))
        out, wrt, nested = _call(f, args, picked)
        if out.size != 1:
            raise ValueError(
                f"grad needs a function with a scalar output, got shape {out.shape}; "
                "use jacobian for vector outputs"
            )
        seed = np.ones(out.shape, out.dtype) if out.shape else None
        grads = gradients(out, wrt, gradient=seed, create_graph=nested)
        value: Any = out if nested else out.data
        result = grads[0] if isinstance(argnums, int) else tuple(grads)
        return value, result

    return value_and_grad_f


def grad(f: Function, argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """x ↦ ∇f(x) for a scalar-valued f: an array shaped like x, or a number."""
    vg = value_and_grad(f, argnums)

    def grad_f(*args: Any) -> Any:
        return vg(*args)[1]

    return grad_f


def jacobian(f: Function, argnums: int = 0) -> Callable[..., Any]:
    """x ↦ J with J[i…, j…] = ∂f(x)[i…]/∂x[j…]: shape f(x).shape + x.shape."""

    def jacobian_f(*args: Any) -> Any:
        picked = _argnums(argnums, len(args))
        if len(picked) != 1:
            raise ValueError(f"jacobian takes one argnum, got argnums={argnums!r}")
        (i,) = picked
        out, (x,), nested = _call(f, args, (i,))
        out_shape, in_shape = out.shape, x.shape
        rows = []
        for k in range(int(np.prod(out_shape))):
            seed = np.zeros(out_shape)
            seed.flat[k] = 1.0
            (row,) = gradients(out, [x], gradient=seed if out_shape else 1.0, create_graph=nested)
            rows.append(row)
        if not nested:
            jac = np.reshape(np.array(rows, dtype=np.result_type(x.data)), out_shape + in_shape)
            if jac.shape == ():  # a scalar as a scalar: float, or np.float32
                return float(jac) if jac.dtype == np.float64 else jac[()]
            return jac
        # Stack the rows as Values: Σ_k e_k ⊗ row_k, so the result stays differentiable.
        total: Any = 0.0
        for k, row in enumerate(rows):
            unit = np.zeros(out_shape + (1,) * len(in_shape))
            unit.flat[k] = 1.0
            total = total + (unit * row if out_shape else row)
        return total

    return jacobian_f


def hessian(f: Function, argnums: int = 0) -> Callable[..., Any]:
    """x ↦ H with H[i…, j…] = ∂²f/∂x[i…]∂x[j…], the jacobian of the gradient."""
    return jacobian(grad(f, argnums), argnums)
