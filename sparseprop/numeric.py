"""Numeric phase maps for models whose phase integral has no closed form (issue 6).

phase(x) = integral from reset to x of dx'/f(x') is approximated by piecewise Chebyshev series
on subintervals of [lower, cut-off]: the integrand 1/f is interpolated at Chebyshev points on
each piece and the series integrated exactly; pieces are halved until the interpolation error,
measured at points BETWEEN the nodes, is below tolerance. The same pieces carry the parameter
derivatives d phase/d p = integral of -f_p/f**2 (the reset's own dependence is added
symbolically). state(phase) is a second piecewise Chebyshev table (in phase), refined in the
kernel by guarded Newton steps on phase(x) = p with d phase/dx = 1/f, which makes it accurate to
rounding. The achieved errors are measured against adaptive Gauss-Legendre quadrature (to
1e-13 relative) and reported.

The range: from `lower` = reset - EXTENSION * (cut-off - reset) (or, when f stops being positive
and finite below the reset, the lowest point where it still is) up to the cut-off (the threshold).
Inputs that push a state below `lower` give NaN in the kernels, which the engines report as an
error; inputs above the cut-off fire the neuron.

The tables are built for the model's parameter values and compiled into the kernel module as
constants: changing a parameter value needs a new model (model.with_parameters) and a new build.
"""
import math
import time
from dataclasses import dataclass, field

import numba
import numpy as np
import sympy as sp

from .errors import ModelError

NODES = 24                 # Chebyshev points per piece (series of degree NODES after integration)
EXTENSION = 10.0           # approximate down to reset - EXTENSION * (cut-off - reset)
PHASE_TOL = 1e-13          # per-piece bound on the integrated interpolation error, x period
STATE_TOL = 1e-10          # state table's error in phase units (before Newton), x period
MAX_PIECES = 4000
QUAD_MAX_INTERVALS = 5000   # adaptive quadrature intervals before giving up (models seen: < 100)

_T = np.cos(np.pi * (np.arange(NODES) + 0.5) / NODES)          # first-kind nodes on [-1, 1]
_BETWEEN = np.concatenate([[1.0], np.cos(np.pi * np.arange(1, NODES) / NODES), [-1.0]])
_DCT = (2.0 / NODES) * np.cos(np.outer(np.arange(NODES), np.pi * (np.arange(NODES) + 0.5) / NODES))
_DCT[0] /= 2.0


# -- evaluation (shared by the build and the generated kernels) ---------------------------------
@numba.njit(cache=True, nogil=True, error_model="numpy")
def chebyshev_pieces(breaks, coeffs, x):
    """Piecewise Chebyshev series: piece k covers [breaks[k], breaks[k+1]], coefficients
    coeffs[k]; x outside the breaks is evaluated on the nearest piece (callers clamp)."""
    lo, hi = 0, coeffs.shape[0] - 1    # binary search: the last piece with breaks[k] <= x
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if breaks[mid] <= x:
            lo = mid
        else:
            hi = mid - 1
    k = lo
    a, b = breaks[k], breaks[k + 1]
    t = (2.0 * x - a - b) / (b - a)
    b1, b2 = 0.0, 0.0
    for j in range(coeffs.shape[1] - 1, 0, -1):
        b1, b2 = 2.0 * t * b1 - b2 + coeffs[k, j], b1
    return t * b1 - b2 + coeffs[k, 0]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _evaluate_many(breaks, coeffs, xs):
    out = np.empty(xs.size)
    for i in range(xs.size):
        out[i] = chebyshev_pieces(breaks, coeffs, xs[i])
    return out


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _invert_many(breaks, coeffs, at_breaks, ps):
    """x with phase(x) = p for each p, by bisection inside the piece that holds p."""
    out = np.empty(ps.size)
    m = coeffs.shape[0]
    for i in range(ps.size):
        p = ps[i]
        k = min(max(np.searchsorted(at_breaks, p, side="right") - 1, 0), m - 1)
        lo, hi = breaks[k], breaks[k + 1]
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if mid <= lo or mid >= hi:
                break
            if chebyshev_pieces(breaks, coeffs, mid) < p:
                lo = mid
            else:
                hi = mid
        out[i] = lo if abs(chebyshev_pieces(breaks, coeffs, lo) - p) <= abs(
            chebyshev_pieces(breaks, coeffs, hi) - p) else hi
    return out


# -- symbolic stand-ins: kernels are derived from these like from closed forms -------------------
class NumericMapBase(sp.Function):  # "Base": SymPy printers then dispatch to it
    """Base of the SymPy functions that stand for a numeric table; printed as a kernel call."""
    _numeric_call = None
    _takes_index = False


def symbolic_functions(name, x, f, reset, params):
    """SymPy functions (Phase, State, PhaseParam) for the numeric map of a model with
    d x/dt = f. Their derivatives are the exact derivatives of the approximation:
    d Phase/dx = 1/f, d State/d phase = f(State), d Phase/d p_k = PhaseParam_k - r_p/f(reset),
    d State/d p_k = -f(State) d Phase/d p_k (State), d PhaseParam_k/dx = -f_p/f**2."""
    f_reset = f.subs(x, reset)

    def dphase_dparam(at, k):
        return PhaseParam(at, sp.Integer(k)) - sp.diff(reset, params[k]) / f_reset

    class Phase(NumericMapBase):
        _numeric_call = "_phase_map"

        def fdiff(self, argindex=1):
            if argindex == 1:
                return 1 / f.subs(x, self.args[0])
            return dphase_dparam(self.args[0], argindex - 2)

    class State(NumericMapBase):
        _numeric_call = "_state_map"

        def fdiff(self, argindex=1):
            if argindex == 1:
                return f.subs(x, self)
            return -f.subs(x, self) * dphase_dparam(self, argindex - 2)

    class PhaseParam(NumericMapBase):
        _numeric_call = "_dphase_map"
        _takes_index = True

        def fdiff(self, argindex=1):
            if argindex == 1:
                k = int(self.args[1])
                return -sp.diff(f, params[k]).subs(x, self.args[0]) / f.subs(x, self.args[0])**2
            return sp.Integer(0)

    Phase.__name__, State.__name__ = f"phase_{name}", f"state_{name}"
    PhaseParam.__name__ = f"dphase_dparam_{name}"
    return Phase, State, PhaseParam


# -- the build --------------------------------------------------------------------------------
@dataclass
class NumericMap:
    """Tables of one numeric phase map, with the errors measured after the build."""
    lower: float
    reset: float
    cutoff: float
    period: float
    phase_breaks: np.ndarray
    phase_coeffs: np.ndarray      # (pieces, NODES + 1)
    state_breaks: np.ndarray
    state_coeffs: np.ndarray      # (pieces, NODES)
    dphase_coeffs: np.ndarray     # (parameters, pieces, NODES + 1), on phase_breaks
    phase_error: float = math.nan     # max |phase - quadrature| / period, between nodes
    state_error: float = math.nan     # max |phase(state(p)) - p| / period, after Newton
    seconds: float = math.nan
    notes: list = field(default_factory=list)

    def phase(self, xs):
        """The phase table at states xs (NumPy; no range handling)."""
        return _evaluate_many(self.phase_breaks, self.phase_coeffs, np.asarray(xs, float).ravel())

    def state_table(self, ps):
        """The state table at phases ps, before the kernel's Newton refinement (NumPy)."""
        xs = _evaluate_many(self.state_breaks, self.state_coeffs, np.asarray(ps, float).ravel())
        return np.clip(xs, self.lower, self.cutoff)


def _vectorised(fn):
    def call(xs):
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(fn(xs), dtype=float), np.shape(xs)).copy()
    return call


def choose_lower(f, reset, cutoff):
    """Lowest point of the extended range: reset - EXTENSION*(cutoff - reset), raised to where
    f is still finite and positive on the whole stretch down from the reset."""
    want = reset - EXTENSION * (cutoff - reset)
    xs = np.linspace(reset, want, 2049)
    values = f(xs)
    bad = ~(np.isfinite(values) & (values > 0))
    if not bad.any():
        return want, None
    k = int(np.argmax(bad))
    lower = xs[max(k - 1, 0)] if k > 1 else reset
    return lower, (f"f is not positive and finite below {xs[k]:g}: the map stops at {lower:g} "
                   f"(inputs below give an error)")


def _fit_pieces(integrands, lower, reset, cutoff, tolerances):
    """Adaptive bisection until every integrand's interpolation error between the nodes,
    times the piece width, is below its tolerance (or at rounding level)."""
    eps = np.finfo(float).eps
    stack = [tuple(p) for p in zip(np.linspace(reset, cutoff, 5)[:-1], np.linspace(reset, cutoff, 5)[1:])]
    if lower < reset:
        edges = np.linspace(lower, reset, 5)
        stack += list(zip(edges[:-1], edges[1:]))
    done = []
    while stack:
        a, b = stack.pop()
        mid, half = 0.5 * (a + b), 0.5 * (b - a)
        xs, test = mid + half * _T, mid + half * _BETWEEN
        coeffs, ok = [], True
        for g, tol in zip(integrands, tolerances):
            values = g(xs)
            c = _DCT @ values
            err = np.max(np.abs(np.polynomial.chebyshev.chebval(_BETWEEN, c) - g(test)))
            floor = 64 * eps * np.max(np.abs(values))
            if not np.isfinite(err) or err * (b - a) > max(tol, floor * (b - a)):
                ok = False
                break
            coeffs.append(c)
        if ok or (b - a) < 1e-13 * (cutoff - lower):
            if not ok:
                coeffs = [_DCT @ g(xs) for g in integrands]
            done.append((a, b, coeffs))
        else:
            stack += [(a, mid), (mid, b)]
        if len(done) + len(stack) > MAX_PIECES:
            raise ModelError(f"the numeric phase map needs more than {MAX_PIECES} pieces on "
                             f"[{lower:g}, {cutoff:g}]; is f smooth there?")
    done.sort(key=lambda piece: piece[0])
    return done


def _integrated(pieces, which, reset_index):
    """Antiderivative tables (pieces, NODES + 1), zero at the reset break."""
    table, total = np.zeros((len(pieces), NODES + 1)), 0.0
    for k, (a, b, coeffs) in enumerate(pieces):
        c = np.polynomial.chebyshev.chebint(coeffs[which], lbnd=-1) * (0.5 * (b - a))
        c[0] += total
        table[k] = c
        total = float(np.sum(c))                   # value at t = 1
    at_reset = float(np.polynomial.chebyshev.chebval(-1.0, table[reset_index]))
    table[:, 0] -= at_reset
    return table


_GAUSS_COARSE = np.polynomial.legendre.leggauss(10)
_GAUSS_FINE = np.polynomial.legendre.leggauss(20)


def _quad(g, a, b, scale):
    """Integral of a scalar function on the finite [a, b] by adaptive Gauss-Legendre: the
    20-point rule, checked against the 10-point rule, is kept on an interval when the two agree
    to 1e-13 relative (or 1e-16 * scale absolute); otherwise the interval is halved. More than
    QUAD_MAX_INTERVALS intervals: the integral does not converge (ModelError)."""
    total, stack = 0.0, [(a, b, 0)]
    for _ in range(QUAD_MAX_INTERVALS):
        if not stack:
            return total
        lo, hi, depth = stack.pop()
        mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
        fine = half * sum(w * g(mid + half * x) for x, w in zip(*_GAUSS_FINE))
        coarse = half * sum(w * g(mid + half * x) for x, w in zip(*_GAUSS_COARSE))
        if abs(fine - coarse) <= max(1e-13 * abs(fine), 1e-16 * scale) or depth >= 60:
            total += fine
        else:
            stack += [(lo, mid, depth + 1), (mid, hi, depth + 1)]
    raise ModelError(f"the integral from {a:g} to {b:g} does not converge to 1e-13 within "
                     f"{QUAD_MAX_INTERVALS} intervals: does d state/dt come down to 0 there, or "
                     f"lose its digits to cancellation? The state must move up from reset to "
                     f"cut-off at a rate bounded away from 0")


def build(f, dfdp, reset, cutoff, lower):
    """Build a NumericMap for d x/dt = f(x) (a NumPy-callable) on [lower, cutoff], with
    d f/d p_k given as NumPy callables `dfdp` (one per parameter)."""
    start = time.perf_counter()
    f = _vectorised(f)
    scalar_inv = lambda v: 1.0 / float(f(np.array([v]))[0])  # noqa: E731
    period_guess = _quad(scalar_inv, reset, cutoff, 1.0)
    if not (math.isfinite(period_guess) and period_guess > 0):
        raise ModelError(f"the integral of 1/f from reset {reset:g} to cut-off {cutoff:g} is "
                         f"{period_guess}: the neuron does not reach the cut-off")
    integrands = [lambda xs: 1.0 / f(xs)]
    tolerances = [PHASE_TOL * period_guess]
    for dp in dfdp:
        dp = _vectorised(dp)
        g = (lambda xs, dp=dp: -dp(xs) / f(xs) ** 2)
        scale = abs(_quad(lambda v, g=g: abs(float(g(np.array([v]))[0])), lower, cutoff, 1.0))
        integrands.append(g)
        tolerances.append(PHASE_TOL * max(scale, 1e-300))
    pieces = _fit_pieces(integrands, lower, reset, cutoff, tolerances)
    breaks = np.array([p[0] for p in pieces] + [pieces[-1][1]])
    reset_index = int(np.searchsorted(breaks, reset))
    phase = _integrated(pieces, 0, reset_index)
    dphase = np.array([_integrated(pieces, k, reset_index) for k in range(1, len(integrands))]
                      ).reshape(len(integrands) - 1, len(pieces), NODES + 1)
    period = float(_evaluate_many(breaks, phase, np.array([cutoff]))[0])
    m = NumericMap(lower=lower, reset=reset, cutoff=cutoff, period=period, phase_breaks=breaks,
                   phase_coeffs=phase, state_breaks=np.empty(0), state_coeffs=np.empty((0, NODES)),
                   dphase_coeffs=dphase)
    _fit_state(m)
    m.phase_error = _phase_error(m, scalar_inv)
    m.state_error = _state_error(m, f)
    m.seconds = time.perf_counter() - start
    m.notes.append(f"{len(pieces)} Chebyshev pieces of {NODES} nodes for phase(x) on "
                   f"[{lower:g}, {cutoff:g}], {len(m.state_breaks) - 1} for state(phase)")
    return m


def _fit_state(m):
    """Piecewise Chebyshev table of state(phase) on [phase(lower), period], error in phase units."""
    at_breaks = m.phase(m.phase_breaks)
    p_low, T = float(at_breaks[0]), m.period
    tol = STATE_TOL * T
    edges = np.concatenate([np.linspace(p_low, 0.0, 5)[:-1], np.linspace(0.0, T, 9)]) \
        if p_low < 0 else np.linspace(0.0, T, 9)
    stack, done = list(zip(edges[:-1], edges[1:])), []
    while stack:
        a, b = stack.pop()
        mid, half = 0.5 * (a + b), 0.5 * (b - a)
        ps, test = mid + half * _T, mid + half * _BETWEEN
        c = _DCT @ _invert_many(m.phase_breaks, m.phase_coeffs, at_breaks, ps)
        xs = np.clip(np.polynomial.chebyshev.chebval(_BETWEEN, c), m.lower, m.cutoff)
        err = np.max(np.abs(m.phase(xs) - test))
        if err <= tol or (b - a) < 1e-13 * T:
            done.append((a, b, c))
        else:
            stack += [(a, mid), (mid, b)]
        if len(done) + len(stack) > MAX_PIECES:
            raise ModelError(f"state(phase) needs more than {MAX_PIECES} pieces")
    done.sort(key=lambda piece: piece[0])
    m.state_breaks = np.array([p[0] for p in done] + [done[-1][1]])
    m.state_coeffs = np.array([p[2] for p in done])


def _phase_error(m, scalar_inv):
    """max |phase table - quadrature| / period at three points between the nodes of each piece."""
    between = _BETWEEN[[NODES // 4, NODES // 2, 3 * NODES // 4]]
    a, b = m.phase_breaks[:-1], m.phase_breaks[1:]
    points = np.sort(np.concatenate([m.phase_breaks, (0.5 * (a + b)[:, None] + 0.5 * (
        b - a)[:, None] * between[None, :]).ravel(), [m.reset]]))
    k0 = int(np.searchsorted(points, m.reset))
    reference = np.zeros(points.size)
    for k in range(k0 + 1, points.size):
        reference[k] = reference[k - 1] + _quad(scalar_inv, points[k - 1], points[k], m.period)
    for k in range(k0 - 1, -1, -1):
        reference[k] = reference[k + 1] - _quad(scalar_inv, points[k], points[k + 1], m.period)
    return float(np.max(np.abs(m.phase(points) - reference)) / m.period)


def newton_state(m, f, ps, steps=2):
    """state(p) as the kernels compute it: table, then guarded Newton steps (NumPy)."""
    ps = np.asarray(ps, float)
    x = m.state_table(ps)
    r = m.phase(x) - ps
    for _ in range(steps):
        with np.errstate(all="ignore"):
            y = x - r * f(x)
        inside = (y >= m.lower) & (y <= m.cutoff)
        s = np.where(inside, m.phase(np.where(inside, y, x)) - ps, np.inf)
        better = np.abs(s) < np.abs(r)
        x, r = np.where(better, y, x), np.where(better, s, r)
    return x


def _state_error(m, f):
    a, b = m.state_breaks[:-1], m.state_breaks[1:]
    ps = (0.5 * (a + b)[:, None] + 0.5 * (b - a)[:, None] * _BETWEEN[None, 1:-1]).ravel()
    x = newton_state(m, f, ps)
    return float(np.max(np.abs(m.phase(x) - ps)) / m.period)


def array_source(values):
    """A NumPy array as exact Python source (repr of each float round-trips)."""
    values = np.asarray(values, dtype=float)
    flat = ", ".join(repr(float(v)) for v in values.ravel())
    return f"np.array([{flat}]).reshape({values.shape})"
