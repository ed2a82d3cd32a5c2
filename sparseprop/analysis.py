"""Numeric analysis of 1-D free dynamics d state/dt = f(state) at given parameter values: which
regime a neuron is in (fires on its own, or rests below threshold), where it rests, and the
dynamics that cannot be simulated (excitable, or a state that runs away); f as a Python function
of the state (`rhs_function`), and points of an interval with infinite ends (`interval_points`).

Shared by the model (its regime), the derivation (numeric checks) and the kernels (the regime at
parameter values of other signs); it knows no model, only expressions, numbers and texts."""
import math

import sympy as sp

from .equations import symbol
from .errors import ModelError

_SAMPLES = 512          # points between reset and threshold where f is evaluated
_BELOW = 60             # points below the reset, at distances (2^k - 1) x (threshold - reset)
RUNAWAY_GROWTH = 1e3    # |f| this many times larger far below the reset: the fall accelerates


def values_text(parameters):
    """Parameter values as text for messages: 'I=1.2, tau=10' (or 'no parameters')."""
    return ", ".join(f"{k}={v:g}" for k, v in parameters.items()) or "no parameters"


def rhs_function(rhs, state, parameters):
    """d state/dt = rhs as a Python function float -> float of the state at the parameter values.

    rhs: a SymPy expression; state: the name of the state variable; parameters: name -> value.
    The function returns NaN where rhs cannot be evaluated (or is complex)."""
    subs = {symbol(k): v for k, v in parameters.items()}
    f = sp.lambdify(symbol(state), sp.sympify(rhs).subs(subs), modules="math")

    def evaluate(x):
        try:
            value = f(x)
            return float(value) if not isinstance(value, complex) else math.nan
        except (ArithmeticError, ValueError, TypeError):
            return math.nan
    return evaluate


def interval_points(low, high, fractions):
    """Points inside [low, high] at the given fractions in [0, 1]; infinite ends are mapped smoothly."""
    points = []
    for u in fractions:
        if math.isinf(low) and math.isinf(high):
            points.append(math.tan(math.pi * (u - 0.5)) if 0 < u < 1 else (low if u == 0 else high))
        elif math.isinf(low):
            points.append(high - (1 - u) / u if u > 0 else low)
        elif math.isinf(high):
            points.append(low + u / (1 - u) if u < 1 else high)
        else:
            points.append(low + u * (high - low))
    return points


def classify(f, low, high, state="v", rhs="f", values="these values"):
    """The regime of d state/dt = f(state) between the reset `low` and the threshold `high`.

    f: a Python function float -> float (NaN where it cannot be evaluated); state, rhs, values:
    the texts naming the state variable, f and the parameter values in error messages.
    Returns (regime, v_rest):
    'firing', None: f > 0 from reset to threshold, the neuron fires periodically on its own;
    'subthreshold', v_rest: f > 0 up to a stable fixed point v_rest and <= 0 from there to the
    threshold (v_rest None: f <= 0 on the whole range, the state rests at or below the reset or
    drifts down at a bounded speed, as a perfect integrator with a negative drive): the neuron
    fires only when inputs push it over threshold.
    Raises ModelError for a reset at or above threshold, f not finite on the range, excitable
    dynamics (an unstable fixed point below threshold, also one where f only touches 0 between
    the sampled states), an infinite threshold the state cannot reach, and a state that runs
    away below the reset (|f| grows without a resting state: e.g. a negative time constant).
    """
    if not low < high:
        raise ModelError(f"the reset ({low:g}) is at or above the threshold ({high:g}); the "
                         f"reset must lie below the threshold")
    points = [x for x in interval_points(low, high, [k / _SAMPLES for k in range(_SAMPLES + 1)])
              if not math.isinf(x)]
    values_at = []
    for x in points:
        value = f(x)
        if math.isnan(value) or math.isinf(value):
            raise ModelError(f"d{state}/dt = {rhs} cannot be evaluated at {state} = {x:g} "
                             f"(between reset and threshold: {value}) with {values}; the "
                             f"dynamics must be finite there (no division by a parameter that is "
                             f"0, such as a time constant, no overflow, every function's "
                             f"argument in its domain)")
        values_at.append(value)
    texts = (state, rhs, values, low, high)
    down = next((k for k, value in enumerate(values_at) if value <= 0), None)
    if down is None:
        touch = _hidden_zero(f, points, values_at)
        if touch is None:
            return "firing", None
        raise _excitable(texts, touch, touch)
    rest = _boundary(f, points[down - 1], points[down]) if down > 0 else None
    up = next((k for k in range(down, len(values_at)) if values_at[k] > 0), None)
    if up is not None:
        raise _excitable(texts, rest, _boundary(f, points[up], points[up - 1]))
    if math.isinf(high):
        above = _positive_above(f, points[-1])
        if above is not None:
            raise _excitable(texts, rest, _boundary(f, *above))
        raise ModelError(
            f"d{state}/dt = {rhs} is <= 0 from {state} = {points[down]:g} upwards (checked up "
            f"to {state} = 1e18 and beyond the last sampled state {points[-1]:g}) with {values}: "
            f"the state can never reach the threshold inf, not even after inputs (is a time "
            f"constant negative?); choose parameters with d{state}/dt > 0 for large {state}")
    if rest is not None:
        return "subthreshold", rest
    _check_no_runaway(f, low, high, state, rhs, values, values_at[0])
    return "subthreshold", None


def _boundary(f, a, b):
    """Bisection between a (f > 0) and b (f <= 0) down to adjacent floats; returns the b side."""
    for _ in range(2100):
        m = 0.5 * (a + b)
        if m in (a, b):
            break
        a, b = (m, b) if f(m) > 0 else (a, m)
    return b


def _hidden_zero(f, points, values_at):
    """A state where f, positive at every sampled point, comes down to 0 between them (at a
    local minimum, by golden-section search); None if f stays positive."""
    shrink = (math.sqrt(5) - 1) / 2
    for k in range(1, len(points) - 1):
        if not values_at[k - 1] > values_at[k] <= values_at[k + 1]:
            continue
        a, b = points[k - 1], points[k + 1]
        for _ in range(200):
            c, d = b - shrink * (b - a), a + shrink * (b - a)
            if f(c) <= 0 or f(d) <= 0:
                return c if f(c) <= 0 else d
            a, b = (a, d) if f(c) < f(d) else (c, b)
            if b - a <= 4 * math.ulp(max(abs(a), abs(b))):
                break
    return None


def _positive_above(f, top):
    """(x > top with f(x) > 0, the last checked x before it with f <= 0), looking at
    top + (2^k - 1) * max(1, |top|) up to about 1e18; None if f stays <= 0 (or undefined)."""
    step, last = max(1.0, abs(top)), top
    for k in range(1, 64):
        x = top + (2.0 ** k - 1) * step
        if x > 1e18:
            return None
        value = f(x)
        if math.isnan(value):
            return None
        if value > 0:
            return x, last
        last = x
    return None


def _excitable(texts, rest, unstable):
    """The ModelError for an unstable fixed point below threshold: f <= 0 up to `unstable` and
    positive again above it (rest: the stable fixed point, None when f <= 0 at the reset;
    rest == unstable: f only touches 0 there)."""
    state, rhs, values, low, high = texts
    if rest == unstable:
        fixed = (f"comes down to 0 at {state} = {unstable:.6g} (a fixed point between the "
                 f"sampled states) and is positive again above it")
        free = f"stops at {state} = {unstable:.6g}"
    else:
        fixed = ("has " + (f"a stable fixed point at {state} = {rest:.6g}" if rest is not None
                            else f"d{state}/dt <= 0 already at the reset {low:g}") +
                 f" and an unstable one at {state} = {unstable:.6g}, above which it is positive "
                 f"again")
        free = (f"rests at {state} = {rest:.6g}" if rest is not None
                else "does not rise from the reset")
    return ModelError(
        f"d{state}/dt = {rhs} {fixed}, below the threshold {high:g}, with {values}: the neuron "
        f"is excitable (its free state never reaches threshold, it {free}; an input that "
        f"pushes it past {state} = {unstable:.6g} makes it fire), which is not supported; "
        f"choose parameters with d{state}/dt > 0 from reset to threshold (the neuron fires on "
        f"its own), or a threshold below {state} = {unstable:.6g}" +
        (" and a finite reset" if math.isinf(low) else "") +
        (" (it then fires on its own)" if rest == unstable else
         " (it then rests and fires only when inputs push it over)"))


def _check_no_runaway(f, low, high, state, rhs, values, at_reset):
    """f <= 0 from reset to threshold: below the reset the state must come to rest (f >= 0
    somewhere) or fall at a bounded speed; a fall that keeps accelerating is refused."""
    if math.isinf(low):
        return
    span = high - low
    for k in range(1, _BELOW):
        x = low - span * (2.0 ** k - 1)
        value = f(x)
        if math.isnan(value) or value >= 0:   # a resting state (or the edge of f's domain)
            return
        if math.isinf(value) or abs(value) > RUNAWAY_GROWTH * max(abs(at_reset), 1e-300):
            raise ModelError(
                f"d{state}/dt = {rhs} is negative from threshold down through the reset and "
                f"falls faster and faster below it ({at_reset:g} at the reset {state} = {low:g}, "
                f"{value:g} at {state} = {x:g}) with "
                f"{values}: the state runs away to -inf with no resting state (is a time "
                f"constant negative?); choose parameters with a stable resting state")
