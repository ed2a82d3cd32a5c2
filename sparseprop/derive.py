"""Symbolic derivation of the phase representation of a 1-D integrate-and-fire model (SymPy).

Steps (each logged, in the ODE-toolbox manner):
1. antiderivative F of 1/f, with parameter signs taken from their values, kept only if its
   derivative is 1/f at points of the range (else SymPy's manual integration is tried);
2. branch resolution: log, Abs, sign, floor and Piecewise are fixed to their value on the open
   range (reset, threshold), where the integrand is finite and positive;
3. phase(v) = F(v) - F(reset), period = F(threshold) - F(reset) (limits at infinite ends);
4. state(phase) by solving phase(v) = phase, the candidate that round-trips numerically;
   the free evolution (flow) likewise, for neurons that do not fire on their own;
5. PTC(phase, w) = phase(h(state(phase), w)) and every derivative by differentiation;
6. numeric verification against quadrature of 1/f (mpmath, 30 digits) before anything is used.

Methods: 'analytic' (the steps above), 'numeric' (sparseprop.numeric: quadrature and piecewise
Chebyshev tables for phase and state, with SymPy stand-in functions whose derivatives are those
of the approximation, so every kernel is derived the same way), and 'auto' (the default:
analytic, and numeric when SymPy finds no closed form, cannot invert it, or its antiderivative
fails the numeric check). Choose with NeuronModel(..., method=...).

What is derived is a pure function of the model: every choice is decided by the maths (which
candidate passes a numeric check), never by a clock; the one time limit (timeout argument or
SPARSEPROP_SYMPY_TIMEOUT) can only raise ModelError.
"""
import logging
import math
import os
from dataclasses import dataclass, field

import mpmath
import sympy as sp

from . import equations as eq
from .errors import ModelError
from .analysis import interval_points, rhs_function, values_text
from .timelimit import TimeLimitExceeded, time_limit

log = logging.getLogger("sparseprop")

PHASE = sp.Symbol("phase", real=True)
DT = sp.Symbol("dt", real=True)
WEIGHT = eq.symbol(eq.WEIGHT)
# A kernel that could not be derived for this model returns NaN (printed verbatim as code).
NOT_DERIVED = sp.Symbol("math.nan")
_FRACTIONS = (1e-6, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1 - 1e-6)
METHODS = ("auto", "analytic", "numeric")
NUMERIC_MAX_ERROR = 1e-10      # a numeric map with a larger measured error is refused


class NoClosedForm(ModelError):
    """SymPy found no usable closed form (method 'auto' then goes numeric)."""


@dataclass
class Derivation:
    """Everything derived for one model, as SymPy expressions in `state`, PHASE, WEIGHT, params."""
    name: str
    state: sp.Symbol
    params: tuple              # parameter symbols, in the model's order, with sign assumptions
    values: dict               # parameter values the derivation was checked at
    rhs: sp.Expr               # f in d state/dt = f
    reset: sp.Expr
    threshold: sp.Expr
    jump: sp.Expr              # state right after an input of weight WEIGHT
    antiderivative: sp.Expr    # F as SymPy returned it (parameter-only conditions decided)
    phase: sp.Expr             # phase(state)
    state_of_phase: sp.Expr    # state(PHASE)
    period: sp.Expr
    ptc: sp.Expr               # PTC(PHASE, WEIGHT)
    method: str
    flow: sp.Expr = NOT_DERIVED  # state after a free evolution of DT from `state`
    notes: list = field(default_factory=list)
    numeric: object = None     # the sparseprop.numeric.NumericMap of a numeric derivation

    def kernels(self):
        """(name, arguments, outputs, docstring, output names) of every generated kernel.
        Scalar kernels have one output and output names None; vector kernels write one value per
        name into `out` (the *_dparams kernels one per parameter)."""
        x, P, w = self.state, self.params, WEIGHT
        at_phase = lambda e: e.subs(x, self.state_of_phase)  # noqa: E731
        diff = lambda e, s: NOT_DERIVED if e.has(NOT_DERIVED) else sp.diff(e, s)  # noqa: E731
        grad = lambda e: [diff(e, p) for p in P]  # noqa: E731
        names = tuple(p.name for p in P)
        ptc_phase, ptc_w = diff(self.ptc, PHASE), diff(self.ptc, w)
        return [
            ("rhs", (x,), [self.rhs], "d state/dt = f(state)", None),
            ("threshold", (), [self.threshold], "threshold value", None),
            ("reset", (), [self.reset], "reset value", None),
            ("jump", (x, w), [self.jump], "state right after an input of weight w", None),
            ("period", (), [self.period], "free period: phase at threshold", None),
            ("dperiod_dparams", (), grad(self.period), "d period / d parameters", names),
            ("phase", (x,), [self.phase], "phase (time since reset) of a state", None),
            ("dphase_dstate", (x,), [1 / self.rhs], "d phase / d state = 1/f", None),
            ("dphase_dparams", (x,), grad(self.phase), "d phase / d parameters at fixed state",
             names),
            ("state", (PHASE,), [self.state_of_phase], "state at a phase", None),
            ("dstate_dphase", (PHASE,), [at_phase(self.rhs)], "d state / d phase = f(state)", None),
            ("dstate_dparams", (PHASE,), grad(self.state_of_phase),
             "d state / d parameters at fixed phase", names),
            ("ptc", (PHASE, w), [self.ptc], "phase transition curve: phase after an input w", None),
            ("dptc_dphase", (PHASE, w), [ptc_phase], "d PTC / d phase", None),
            ("dptc_dw", (PHASE, w), [ptc_w], "d PTC / d w", None),
            ("dptc_dparams", (PHASE, w), grad(self.ptc), "d PTC / d parameters", names),
            ("flow", (x, DT), [self.flow], "state after a free evolution of dt from state x "
             "(for neurons that do not fire on their own)", None),
            ("ptc_grads", (PHASE, w), [self.ptc, ptc_phase, ptc_w] + grad(self.ptc),
             "PTC and all its derivatives at once (shared subexpressions), for the reverse sweep",
             ("ptc", "dptc_dphase", "dptc_dw") + tuple(f"dptc_d{n}" for n in names)),
            ("ptc_slopes", (PHASE, w), [ptc_phase, ptc_w],
             "d PTC / d phase and d PTC / d w at once, for a reverse sweep without parameter "
             "derivatives", ("dptc_dphase", "dptc_dw")),
        ]


def sympy_timeout(timeout=None):
    """Seconds SymPy may take: `timeout`, else SPARSEPROP_SYMPY_TIMEOUT, else 60."""
    if timeout is None:
        timeout = float(os.environ.get("SPARSEPROP_SYMPY_TIMEOUT", 60))
    return timeout


def _assumed_symbols(values):
    """Parameter symbols carrying the sign of their value (needed for real antiderivatives)."""
    out = {}
    for name, value in values.items():
        kw = {"positive": True} if value > 0 else {"negative": True} if value < 0 else {"real": True}
        out[name] = sp.Symbol(name, **kw)
    return out


class _Numeric:
    """Evaluate SymPy expressions at the parameter values with mpmath (30 digits)."""

    def __init__(self, params, values):
        self.params, self.values = params, values

    def __call__(self, expr, var=None, at=None):
        expr = expr.subs({p: self.values[p.name] for p in self.params})
        if var is not None:
            expr = expr.subs(var, at)
        with mpmath.workdps(30):
            try:
                value = complex(expr.evalf(30))
            except (TypeError, ValueError, ArithmeticError):
                return complex(math.nan)
        return value

    def real(self, expr, var=None, at=None):
        value = self(expr, var, at)
        if abs(value.imag) > 1e-20 * max(1.0, abs(value.real)):
            return math.nan
        return value.real


def _antiderivative(f, x, num, points, model, notes):
    """An antiderivative of 1/f whose derivative is 1/f at `points` (parameter-only Piecewise
    conditions decided at the values): SymPy's integral, else its manual integration (the
    default can be wrong under sign assumptions: 0 for some quadratics)."""
    wrong = []
    for integral in (lambda: sp.integrate(1 / f, x), lambda: _manual_integral(f, x)):
        F = integral()
        if F.has(sp.Integral):
            continue
        F = _decide_parameter_conditions(F, x, num, notes)
        if _is_antiderivative(F, x, f, num, points):
            if wrong:
                notes.append(f"SymPy's integral {wrong[0]} is not an antiderivative of 1/f at "
                             f"these values (its derivative differs); took its manual "
                             f"integration instead")
            return F
        wrong.append(F)
    raise NoClosedForm(
        f"SymPy finds no closed form for the phase integral of d{x}/dt = {model.rhs} (the "
        f"integral of 1/f)" + (f"; its results {', '.join(map(str, wrong))} fail the check "
                               f"d/d{x} = 1/f" if wrong else ""))


def _manual_integral(f, x):
    """SymPy's manual integration of 1/f, with f expanded and collected in powers of x and its
    x-free parts as real symbols (seconds faster than on the parameters themselves)."""
    integrand, parts = _abstract_constants(1 / sp.collect(sp.expand(f), x), x, real=True)
    return sp.integrate(integrand, x, manual=True).subs(parts)


def _decide_parameter_conditions(F, x, num, notes):
    """F with each Piecewise whose conditions involve parameters only replaced by the branch
    that holds at the parameter values."""
    at_values = {p: num.values[p.name] for p in num.params}

    def fix(node):
        for branch, cond in node.args:
            truth = cond.subs(at_values)
            if x in cond.free_symbols or truth not in (sp.true, sp.false):
                return node
            if truth == sp.true:
                why = f"{cond} holds" if cond != sp.true else "the conditions before it fail"
                notes.append(f"Piecewise: took the branch {branch} ({why} at the values)")
                return branch
        return node
    return F.replace(lambda e: isinstance(e, sp.Piecewise), fix)


def _is_antiderivative(F, x, f, num, points):
    """d F/dx equals 1/f to 1e-8 relative at every point where 1/f is finite (floor and ceiling
    count as constants: their derivative is 0 between their jumps)."""
    steps = {e: sp.Dummy() for e in F.atoms(sp.floor, sp.ceiling)}
    dF = sp.diff(F.xreplace(steps), x).xreplace({d: e for e, d in steps.items()})
    for point in points:
        want = num.real(1 / f, x, point)
        if math.isfinite(want) and not abs(num(dF, x, point) - want) <= 1e-8 * abs(want):
            return False
    return True


def _resolve_branches(F, x, num, points, notes):
    """Fix log/Abs/sign/floor/Piecewise in F to their value on the open range."""

    def sign_on_range(arg):
        values = [num.real(arg, x, p) for p in points]
        if not all(math.isfinite(v) and v != 0 for v in values):
            return None
        signs = {v > 0 for v in values}
        return (1 if signs.pop() else -1) if len(signs) == 1 else None

    def fix(node):
        if isinstance(node, sp.Piecewise):
            for branch, cond in node.args:
                truth = cond.subs({p: num.values[p.name] for p in num.params})
                if truth == sp.true or (not truth.free_symbols - {x} and all(
                        bool(truth.subs(x, p)) for p in points)):
                    notes.append(f"Piecewise: took branch {branch} (condition {cond} holds)")
                    return branch
            return node
        arg = node.args[0]
        if isinstance(node, sp.floor):
            values = {math.floor(num.real(arg, x, p)) for p in points
                      if math.isfinite(num.real(arg, x, p))}
            if len(values) == 1:
                k = values.pop()
                notes.append(f"{node} = {k} on the open range")
                return sp.Integer(k)
            return node
        s = sign_on_range(arg)
        if s is None:
            return node
        if isinstance(node, sp.log):
            if s < 0:
                notes.append(f"log({arg}) taken as log({-arg}): {arg} < 0 on the range, and "
                             f"log|u| has the same derivative")
                return sp.log(-arg)
            return node
        if isinstance(node, sp.Abs):
            notes.append(f"|{arg}| = {s * arg} on the range")
            return s * arg
        notes.append(f"sign({arg}) = {s} on the range")
        return sp.Integer(s)

    kinds = (sp.log, sp.Abs, sp.sign, sp.floor, sp.Piecewise)
    return F.replace(lambda e: isinstance(e, kinds), fix)


def _value_at(F, x, a, direction):
    """F at x = a, by substitution or, at infinity or a singular point, by a one-sided limit."""
    if a.is_finite:
        value = F.subs(x, a)
        if not value.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.AccumBounds):
            return value
    value = sp.limit(F, x, a, direction)
    return value


def _solutions(lhs, rhs, y):
    """Candidate solutions y of lhs = rhs (possibly spurious: callers check them numerically and
    stop at the first that holds). SymPy's unsimplified solve (its simplification can take
    minutes) of the equation with common factors pulled out of its sums and its y-free parts as
    plain symbols (much faster), first with
    its logs combined (log a - log b -> log(a/b): seconds faster again), then as is, then of
    the equation itself (which keeps relations between those parts). Each solution, with
    log(exp(a)) -> a and exp(a)**b -> exp(a*b) (a, b are real here), comes fully expanded
    (exp(a + b) -> exp(a)*exp(b), so exp(log(u)) -> u, and products distributed: short forms
    such as I*dt/tau + v), then with only its exponentials split (when distributing loses
    digits to cancellation); in SymPy's sort order, not by hashing."""
    abstracted, constants = _abstract_constants(sp.factor_terms(lhs - rhs), y)
    equations = [(sp.logcombine(abstracted, force=True), constants), (abstracted, constants),
                 (lhs - rhs, {})]
    seen = set()
    for k, (equation, back) in enumerate(equations):
        if equation in [e for e, _ in equations[:k]]:
            continue
        try:
            solutions = sp.solve(equation, y, check=False, simplify=False)
        except (NotImplementedError, ValueError, TypeError):
            continue
        for c in sorted({_real_exp_log(c.subs(back)) for c in solutions}, key=sp.default_sort_key):
            for form in (sp.expand(c, power_exp=True), c.replace(
                    lambda e: isinstance(e, sp.exp), lambda e: sp.Mul(*map(
                        sp.exp, sp.Add.make_args(sp.expand(e.args[0])))))):
                if form not in seen:
                    seen.add(form)
                    yield form


def _real_exp_log(expr):
    """log(exp(a)) -> a and exp(a)**b -> exp(a*b), which hold for real a and b."""
    expr = expr.replace(lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sp.exp),
                        lambda e: e.args[0].args[0])
    return expr.replace(lambda e: e.is_Pow and isinstance(e.base, sp.exp),
                        lambda e: sp.exp(e.base.args[0] * e.exp))


def _abstract_constants(expr, y, **assumptions):
    """expr with each largest y-free, non-numeric part of a sum, product or argument replaced by
    a new symbol 'K@k' (with `assumptions`) or its negative (k in order of appearance); returns
    (expr, {symbol: part})."""
    parts = {}

    def constant(e):
        if e.is_number:
            return e
        if e.could_extract_minus_sign():   # -K for -part: log(K + y) - log(-K + y) stays visible
            return -constant(-e)
        return parts.setdefault(e, sp.Symbol(f"K@{len(parts)}", **assumptions))

    def walk(e):
        if y not in e.free_symbols:
            return constant(e)
        if e.is_Add or e.is_Mul:
            fixed = [a for a in e.args if y not in a.free_symbols]
            return e.func(constant(e.func(*fixed)), *(walk(a) for a in e.args if a not in fixed))
        return e.func(*(walk(a) for a in e.args)) if e.args else e
    return walk(expr), {symbol: part for part, symbol in parts.items()}


def _invert(phase, x, num, period_value, notes):
    """Solve phase(x) = PHASE for x: the first candidate that round-trips on (0, period)."""
    def round_trips(candidate):
        for u in _FRACTIONS[1:-1]:
            p = u * period_value
            back = num.real(phase, x, num.real(candidate, PHASE, p))
            if not (math.isfinite(back) and abs(back - p) <= 1e-9 * period_value):
                return False
        return True

    tried = []
    for candidate in _solutions(phase, PHASE, x):
        if round_trips(candidate):
            if tried:
                notes.append(f"inverse: kept candidate {len(tried) + 1}, the first that "
                             f"round-trips on (0, period)")
            return candidate
        tried.append(candidate)
    raise NoClosedForm(
        f"SymPy could not invert the phase map {phase} = phase for {x} in closed form "
        f"(candidates: {tried or 'none'})")


def _verify(d, num, low, high, firing=True):
    """Check phase(x) against mpmath quadrature of 1/f from the reset, at points in the range
    (and the period at the threshold when the neuron fires)."""
    x = d.state
    f = d.rhs.subs({p: num.values[p.name] for p in num.params})
    integrand = sp.lambdify(x, 1 / f, modules="mpmath")
    points = interval_points(low, high, _FRACTIONS) + ([high] if firing else [])
    period = num.real(d.period) if firing else num.real(d.phase, x, points[-1])
    with mpmath.workdps(30):
        start, integral, previous = low, mpmath.mpf(0), 0.0
        for point in points:
            got = period if firing and point == high else num.real(d.phase, x, point)
            integral += mpmath.quad(integrand, [start, point])  # piecewise: peaks stay resolved
            start, want = point, float(integral)
            if not (math.isfinite(got) and abs(got - want) <= 1e-8 * max(abs(want), period)
                    and got >= previous):
                raise NoClosedForm(
                    f"the closed-form phase map of {d.name} fails its numeric check at "
                    f"{x} = {point:g} (closed form {got!r}, quadrature {want!r}); SymPy's "
                    f"antiderivative is not valid on the whole range")
            previous = got


def derive(model, timeout=None, method=None):
    """Derive the phase representation of `model` (a NeuronModel); returns a Derivation.

    Reads the model's declaration and checked values only (name, state, rhs, reset,
    threshold, reset_value, threshold_value, jump, parameters, method, regime, v_reset,
    v_threshold, v_rest); this module does not import sparseprop.model.

    method: 'auto', 'analytic' or 'numeric' (default: the model's `method`, itself 'auto').
    'auto' tries SymPy and falls back to a numeric map when it finds no usable closed form;
    'analytic' raises ModelError instead; 'numeric' skips SymPy's integration.
    """
    method = method if method is not None else getattr(model, "method", "auto")
    if method not in METHODS:
        raise ModelError(f"method '{method}' is not known; use one of {', '.join(METHODS)}")
    if method != "analytic" and model.regime != "firing":
        if method == "numeric":
            raise ModelError(f"a numeric phase map needs a neuron that fires on its own; "
                             f"{model.name} does not at {values_text(model.parameters)}")
        method = "analytic"   # a subthreshold model needs the closed-form flow
    if method == "numeric":
        return _derive_numeric(model, "forced by method='numeric'")
    try:
        return _derive_analytic(model, timeout)
    except NoClosedForm as exc:
        if method == "analytic":
            raise ModelError(f"{exc}; use method='numeric' (or 'auto') for a numeric phase "
                             f"map") from None
        return _derive_numeric(model, f"SymPy found no closed form: {exc}")


def _derive_analytic(model, timeout):
    timeout = sympy_timeout(timeout)
    symbols = _assumed_symbols(model.parameters)
    swap = {eq.symbol(k): s for k, s in symbols.items()}
    params = tuple(symbols.values())
    x = eq.symbol(model.state)
    f, reset, threshold, jump = (e.subs(swap) for e in
                                 (model.rhs, model.reset_value, model.threshold_value, model.jump))
    num = _Numeric(params, model.parameters)
    firing = model.regime == "firing"
    # the phase map lives where f > 0: up to threshold, or up to the resting state
    low, high = model.v_reset, model.v_threshold if firing else model.v_rest
    notes = [f"assumed {', '.join(f'{s} {_sign_word(s)}' for s in params)} (from the values)"
             ] if params else []
    if not firing:
        notes.append("subthreshold at these values: the free state settles " + (
            f"at {model.state} = {high:.10g}" if high is not None else "at or below the reset"))
    phase = state_of_phase = period = ptc = NOT_DERIVED
    try:
        with time_limit(timeout, f"SymPy's derivation of {model.name}"):
            F_raw = _antiderivative(f, x, num, interval_points(
                model.v_reset, model.v_threshold, _FRACTIONS), model, notes)
            flow = _derive_flow(F_raw, x, f, num, model, notes)
            if high is not None:
                if not firing:
                    notes.append(f"phase map on the range from the reset to the resting state "
                                 f"[{low:g}, {high:.10g}), where f > 0 (the flow covers both "
                                 f"sides)")
                points = interval_points(low, high, _FRACTIONS)
                F = _resolve_branches(F_raw, x, num, points, notes)
                F_reset = _value_at(F, x, reset, "+")
                period = sp.simplify(_value_at(F, x, threshold, "-") - F_reset)
                if not firing and period.has(sp.I):
                    notes.append(f"no period: the phase map's branches, fixed below the resting "
                                 f"state, make it complex at the threshold ({period})")
                    period = NOT_DERIVED
                phase = F - F_reset
                span = num.real(period) if firing else num.real(phase, x, points[-2])
                if firing and span == math.inf:   # the antiderivative is checked: it diverges
                    raise ModelError(
                        f"the free period of {model.name} is inf at "
                        f"{values_text(model.parameters)}: the neuron never reaches threshold "
                        f"'{model.threshold}' on its own (the integral of 1/f diverges: "
                        f"d{x}/dt comes down to 0 on the way, or grows too slowly to reach an "
                        f"infinite threshold in finite time); choose parameters with d{x}/dt > 0 "
                        f"from reset to threshold, or a finite threshold")
                if firing and not (math.isfinite(span) and span > 0):
                    raise NoClosedForm(
                        f"SymPy's closed form gives the period {period} = {span} for "
                        f"{model.name} at {values_text(model.parameters)}, although "
                        f"d{x}/dt > 0 from the reset to the threshold (the neuron fires on its "
                        f"own): SymPy's antiderivative is not valid on the whole range")
                state_of_phase = _invert(phase, x, num, span, notes)
                ptc = phase.subs(x, jump.subs(x, state_of_phase))
            else:
                notes.append("no phase map: the drive is below the reset, no state between reset "
                             "and threshold moves up (neurons of this model fire only on input)")
    except TimeLimitExceeded as exc:
        raise ModelError(f"{exc} (limit: the timeout argument or SPARSEPROP_SYMPY_TIMEOUT); "
                         f"simplify the equations, raise the limit, or use method='numeric'"
                         ) from None
    except (NotImplementedError, TypeError, ValueError, RecursionError) as exc:
        if isinstance(exc, ModelError):
            raise
        raise NoClosedForm(f"SymPy failed on {model.name} (d{x}/dt = {model.rhs}): "
                           f"{type(exc).__name__}: {exc}") from None
    if not firing and flow is NOT_DERIVED:
        why = (f"its free evolution between inputs needs a finite reset and threshold, not "
               f"'{model.reset}' and '{model.threshold}'" if not math.isfinite(
                   model.v_reset - model.v_threshold) else
               f"SymPy found no closed-form solution of d{x}/dt = {model.rhs} to evolve it "
               f"between inputs")
        raise ModelError(f"{model.name} does not fire on its own at "
                         f"{values_text(model.parameters)} and {why}; choose values where it "
                         f"fires on its own")
    d = Derivation(name=model.name, state=x, params=params, values=dict(model.parameters),
                   rhs=f, reset=reset, threshold=threshold, jump=jump, antiderivative=F_raw,
                   phase=phase, state_of_phase=state_of_phase, period=period, ptc=ptc,
                   method="analytic", flow=flow, notes=notes)
    if high is not None:
        _verify(d, num, low, high, firing)
    log.info("%s: phase map by method 'analytic' (SymPy antiderivative of 1/f, closed-form "
             "inverse, checked against quadrature)%s", model.name,
             "" if firing else "; subthreshold: free evolution by the closed-form flow")
    return d


def _derive_flow(F_raw, x, f, num, model, notes):
    """The free evolution y(x, DT) solving F(y) = F(x) + DT, real on both sides of any fixed
    point (SymPy's unresolved antiderivative; logs of negative numbers cancel in exp). Kept
    only if it satisfies dy/dDT = f(y) and y(DT = 0) = x numerically, evaluated with real
    arithmetic, at states on both sides of the reset-threshold range; NOT_DERIVED otherwise."""
    low, high = model.v_reset, model.v_threshold
    if not (math.isfinite(low) and math.isfinite(high)):
        notes.append("no closed-form flow (infinite reset or threshold): neurons must fire on "
                     "their own")
        return NOT_DERIVED
    if F_raw.has(sp.floor, sp.ceiling):
        notes.append("no closed-form flow: the antiderivative has floor/ceiling steps, which "
                     "SymPy's solve cannot invert; neurons of this model must fire on their own")
        return NOT_DERIVED
    y = sp.Symbol("y_flow", real=True)
    span = high - low
    states = [low - span + k * 3 * span / 16 for k in range(17)]   # [low - span, high + span]
    rhs = rhs_function(model.rhs, model.state, model.parameters)
    rates = [abs(rhs(s)) for s in states if math.isfinite(rhs(s))]
    scale = span / max(max(rates, default=1.0), 1e-300)
    for candidate in _solutions(F_raw.subs(x, y), F_raw + DT, y):
        if _flow_holds(candidate, x, f, num, states, (0.0, 0.05 * scale, 0.5 * scale)):
            notes.append(f"flow (free evolution for dt): {model.state}(dt) = {candidate}")
            return candidate
    notes.append("no closed-form flow found: neurons of this model must fire on their own")
    return NOT_DERIVED


def _flow_holds(y, x, f, num, states, dts):
    """y(x, DT) at the states and times: equals its 30-digit value in float arithmetic (as the
    kernel computes it), solves dy/dDT = f(y) (mpmath's derivative in DT, 30 digits) and is x
    at DT = 0; points past a blow-up (no real value) are skipped, at least one per state must
    count."""
    args, values = (x, DT, *num.params), [num.values[p.name] for p in num.params]
    real = sp.lambdify(args, y, modules="math")
    exact, rate = (sp.lambdify(args, e, modules="mpmath") for e in (y, f))
    checked = 0
    with mpmath.workdps(30):
        for state in states:
            for dt in dts:
                want = _mp_value(exact, state, dt, values)
                if not (mpmath.isfinite(want) and abs(want.imag) <= 1e-12 * (1 + abs(want.real))):
                    continue   # past a blow-up: no state to compare
                want = float(want.real)
                try:
                    got = float(real(state, dt, *values))
                except (ArithmeticError, ValueError, TypeError):
                    return False
                try:
                    slope = mpmath.diff(lambda t: exact(state, t, *values), dt)
                except (ArithmeticError, ValueError, TypeError):
                    return False
                ode = abs(slope - _mp_value(rate, want, 0.0, values))
                if not (abs(got - want) <= 1e-9 * (1 + abs(want)) and ode <= 1e-12 * (
                        1 + abs(slope)) and (
                        dt or abs(got - state) <= 1e-12 * (1 + abs(state)))):
                    return False
                checked += 1
    return checked >= len(states)


def _mp_value(function, state, dt, values):
    """An mpmath-lambdified function at (state, dt, *values) as mpc (NaN where undefined)."""
    try:
        return mpmath.mpc(function(mpmath.mpf(state), mpmath.mpf(dt), *map(mpmath.mpf, values)))
    except (ArithmeticError, ValueError, TypeError):
        return mpmath.mpc(math.nan)


def _sign_word(s):
    return "> 0" if s.is_positive else "< 0" if s.is_negative else "real"


def _derive_numeric(model, reason):
    """A Derivation whose phase, state and period are numeric tables (sparseprop.numeric)."""
    import numpy as np

    from . import numeric
    low, high = model.v_reset, model.v_threshold
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ModelError(
            f"a numeric phase map needs a finite reset and threshold, not reset '{model.reset}' "
            f"and threshold '{model.threshold}'; give a finite cut-off such as "
            f"'{model.state} >= 20' ({reason})")
    symbols = _assumed_symbols(model.parameters)
    params = tuple(symbols.values())
    swap = {eq.symbol(k): s for k, s in symbols.items()}
    x = eq.symbol(model.state)
    f, reset, threshold, jump = (e.subs(swap) for e in
                                 (model.rhs, model.reset_value, model.threshold_value, model.jump))
    at_values = {p: model.parameters[p.name] for p in params}
    f_num = sp.lambdify(x, f.subs(at_values), modules="numpy")
    dfdp = [sp.lambdify(x, sp.diff(f, p).subs(at_values), modules="numpy") for p in params]
    with np.errstate(all="ignore"):
        lower, note = numeric.choose_lower(lambda v: np.broadcast_to(
            np.asarray(f_num(v), dtype=float), np.shape(v)), low, high)
    table = numeric.build(f_num, dfdp, low, high, lower)
    if note:
        table.notes.append(note)
    if not (table.phase_error <= NUMERIC_MAX_ERROR and table.state_error <= NUMERIC_MAX_ERROR):
        raise ModelError(
            f"the numeric phase map of {model.name} reaches errors {table.phase_error:.2g} "
            f"(phase) and {table.state_error:.2g} (state), relative to the period, above "
            f"{NUMERIC_MAX_ERROR:g}: is d{x}/dt = {model.rhs} smooth and positive on "
            f"[{low:g}, {high:g}]?")
    Phase, State, _ = numeric.symbolic_functions(model.name, x, f, reset, params)
    state_of_phase = State(PHASE, *params)
    notes = [f"method 'numeric': {reason}",
             f"range [{lower:g}, {high:g}]: reset - {numeric.EXTENSION:g} x (cut-off - reset) "
             f"below the reset; inputs that push the state lower raise an error",
             *table.notes,
             f"measured error of phase(x), between the fit nodes, against adaptive "
             f"Gauss-Legendre quadrature (1e-13): {table.phase_error:.2g} x period",
             f"measured error of state(phase) after Newton refinement, |phase(state(p)) - p|: "
             f"{table.state_error:.2g} x period",
             f"built for {values_text(model.parameters)}; other parameter values need a new build "
             f"(model.with_parameters)"]
    d = Derivation(name=model.name, state=x, params=params, values=dict(model.parameters),
                   rhs=f, reset=reset, threshold=threshold, jump=jump, antiderivative=None,
                   phase=Phase(x, *params), state_of_phase=state_of_phase,
                   period=Phase(threshold, *params),
                   ptc=Phase(jump.subs(x, state_of_phase), *params), method="numeric",
                   notes=notes, numeric=table)
    log.info("%s: phase map by method 'numeric' (%s); error %.2g x period (phase), %.2g "
             "(state), %s", model.name, reason, table.phase_error, table.state_error,
             table.notes[0])
    return d
