"""Numeric analysis of 1-D free dynamics d state/dt = f(state) at given parameter values: which
regime a neuron is in (fires on its own, or rests below threshold), where it rests, and the
dynamics that cannot be simulated (excitable, or a state that runs away)."""
import math

from .errors import ModelError

_SAMPLES = 512          # points between reset and threshold where f is evaluated
_BELOW = 60             # points below the reset, at distances (2^k - 1) x (threshold - reset)
RUNAWAY_GROWTH = 1e3    # |f| this many times larger far below the reset: the fall accelerates


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
    dynamics (an unstable fixed point below threshold) and a state that runs away below the
    reset (|f| grows without a resting state: e.g. a negative time constant).
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
                             f"dynamics must be finite there")
        values_at.append(value)
    down = next((k for k, value in enumerate(values_at) if value <= 0), None)
    if down is None:
        return "firing", None
    up_again = next((points[k] for k in range(down, len(values_at)) if values_at[k] > 0), None)
    if up_again is not None or math.isinf(high):
        where = f"at {state} = {up_again:g}" if up_again is not None else "towards inf"
        raise ModelError(
            f"d{state}/dt = {rhs} is {values_at[down]:g} <= 0 at {state} = {points[down]:g} and "
            f"positive again {where}, below threshold {high:g}, with {values}: an excitable "
            f"neuron (an unstable fixed point below threshold) is not supported; choose "
            f"parameters with d{state}/dt > 0 from reset to threshold (the neuron fires on its "
            f"own) or <= 0 at threshold (it fires only when inputs push it over)")
    if down > 0:   # the stable fixed point, by bisection between the last > 0 and first <= 0
        a, b = points[down - 1], points[down]
        for _ in range(200):
            m = 0.5 * (a + b)
            if m in (a, b):
                break
            a, b = (m, b) if f(m) > 0 else (a, m)
        return "subthreshold", b
    _check_no_runaway(f, low, high, state, rhs, values, values_at[0])
    return "subthreshold", None


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
