"""Checks of declared values shared by the model classes: parameter values, refractory period."""
import math
import numbers

from .errors import ModelError


def check_parameters(parameters):
    """name -> float from a dict of parameter values (ModelError for a bad name or value)."""
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise ModelError(f"parameters must be a dict of name -> number, not {type(parameters).__name__}")
    values = {}
    for name, value in parameters.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ModelError(f"parameter name {name!r} is not an identifier; use names like 'tau'")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ModelError(f"parameter {name}={value!r} is not a number; give a float such as 10.0")
        try:
            value = float(value)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise ModelError(f"parameter {name}={value} is not finite; give a finite number")
        values[name] = value
    return values


def check_refractory(value, where="refractory"):
    """A refractory period: a finite number of ms >= 0 (ModelError otherwise)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            math.isfinite(value) and value >= 0):
        raise ModelError(f"{where} = {value!r}: give the refractory period as a finite number of "
                         f"ms >= 0, e.g. refractory=2.0")
    return float(value)
