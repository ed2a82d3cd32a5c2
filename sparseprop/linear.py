"""Exact free flow of models with several state variables whose dynamics are linear (SymPy).

A model x' = f(x) with f affine in the state, x' = A x + b (A and b built from parameters, in
any non-linear way), has the closed-form free flow

    x(t) = exp(A t) x0 + integral_0^t exp(A s) ds b,

which is what an exact event-driven simulator needs between two events (DESIGN.md 3.7). What is
derived here, and why:

1. `analyze`: A and b from the right-hand sides (the Jacobian in the state, which must be free of
   the state), or a ModelError naming the term that is not linear;
2. `flow`: x(t) as SymPy expressions in the time `TIME`, the initial state (`v_0`, `I_0`, ...)
   and the parameters, in the manner of ODE-toolbox's propagators. When the variables can be
   ordered so that A is triangular (synaptic currents, alpha kernels, adaptation: the common
   case), each variable is solved in turn as x_i' = a_ii x_i + (a sum of t^k exp(rate t)
   terms), which stays a finite sum of such terms; otherwise Putzer's algorithm writes
   exp(A t) from the eigenvalues (roots of the characteristic polynomial) through a chain of
   such scalar equations, without eigenvectors.
   Each division the solution needs is by a difference of two rates; where such a difference
   vanishes for special parameter values (tau_m == tau_s gives t exp(-t/tau) terms), that case
   is derived again with the equality substituted, as its own exact branch with its condition,
   so no branch divides by zero where it holds;
3. `exponential_form`: an expression as sum_j p_j(t) exp(rate_j t) with polynomial p_j, the
   input of a root finder that isolates the first threshold crossing (a sum of k exponential
   terms has at most k - 1 extrema);
4. `check_flow`: a branch verified numerically, at given parameter values, against a
   high-precision integration (mpmath's Taylor-series ODE solver) before it is used.

Rates are eigenvalues of A. When A is not triangular they may be complex for some parameter
values (oscillating subthreshold dynamics); the expressions stay exact but evaluate through
complex intermediates there.
"""
import math
from dataclasses import dataclass
from typing import NamedTuple

import mpmath
import numpy as np
import sympy as sp

from . import equations as eq
from .errors import ModelError

TIME = sp.Symbol("t", real=True)   # the time since the last update, in the flow's expressions
MAX_VARIABLES = 4                  # beyond this the symbolic work is not bounded well enough
_MAX_BRANCHES = 64
_MAX_TERMS = 10000
_BAD = (sp.zoo, sp.nan, sp.oo, -sp.oo)


@dataclass(frozen=True)
class LinearSystem:
    """x' = A x + b: the state variables in order, A and b in terms of the parameter symbols."""
    variables: tuple           # names of the state variables
    A: sp.ImmutableMatrix      # n x n
    b: sp.ImmutableMatrix      # n x 1
    parameters: tuple          # parameter names (their symbols are equations.symbol(name))
    texts: tuple = ()          # the equations as written (for messages)


class Branch(NamedTuple):
    """One exact case of the flow: `expressions[i]` is variables[i](TIME) where `condition` holds."""
    condition: sp.Basic        # a SymPy relation on the parameters (True for no restriction)
    expressions: tuple         # SymPy expressions of TIME, the initial state and the parameters


# -- 1. A and b ---------------------------------------------------------------------------------

def analyze(system, parameters=()):
    """Write a parsed system (equations.EquationSystem, or equation text) as x' = A x + b.

    `parameters`: the parameter names (a dict's keys will do). Raises ModelError naming the first
    term that is not linear in the state.
    """
    names = tuple(parameters)
    if isinstance(system, str):
        system = eq.parse_system(system, names)
    states = [eq.symbol(s) for s in system.states]
    if len(states) > MAX_VARIABLES:
        raise ModelError(f"{len(states)} state variables ({', '.join(system.states)}): the exact "
                         f"linear path handles up to {MAX_VARIABLES}; merge or drop variables")
    rows, offsets = [], []
    for rhs, text in zip(system.rhs, system.texts):
        row = [_state_free(sp.diff(rhs, x), states) for x in states]
        if any(entry is None for entry in row):
            raise ModelError(f"{text}: the term {_nonlinear_term(rhs, states)} is not linear in "
                             f"the state ({', '.join(system.states)}); sparseprop's exact "
                             f"multi-variable path needs x' = A x + b with A and b built from "
                             f"parameters")
        offset = rhs.subs({x: 0 for x in states})
        offset = offset if _huge(offset) else sp.cancel(offset)
        if offset.has(*_BAD) or any(entry.has(*_BAD) for entry in row):
            raise ModelError(f"{text}: the right-hand side is not finite at every state; write "
                             f"it as a finite x' = A x + b")
        rows.append(row)
        offsets.append(offset)
    return LinearSystem(variables=tuple(system.states), A=sp.ImmutableMatrix(rows),
                        b=sp.ImmutableMatrix(offsets), parameters=names, texts=tuple(system.texts))


def _state_free(expr, states):
    """expr simplified until it is free of the state, or None if it depends on it."""
    tidies = (lambda e: e,) if _huge(expr) else (lambda e: e, sp.expand, sp.cancel,
                                                  _bounded_simplify)
    for tidy in tidies:
        expr = tidy(expr)
        if not expr.has(*states):
            return expr
    return None


def _bounded_simplify(expr):
    return sp.simplify(expr) if sp.count_ops(expr) <= 200 else expr


def _huge(expr):
    """Whether multiplying expr out could take very long: a sum raised to a high power, or a
    long expression (expand, cancel and simplify are then skipped)."""
    return sp.count_ops(expr) > 400 or any(
        p.base.is_Add and p.exp.is_Number and abs(p.exp) > 8 for p in expr.atoms(sp.Pow))


def _bounded_expand(expr):
    return expr if _huge(expr) else sp.expand(expr)


def _nonlinear_term(rhs, states):
    """The first additive term of rhs (its state-dependent factors) that is not linear."""
    terms = sp.Add.make_args(_bounded_expand(rhs))
    for term in terms:
        if all(_state_free(sp.diff(term, x), states) is not None for x in states):
            continue
        factors = [f for f in sp.Mul.make_args(term) if f.has(*states)]
        return sp.Mul(*factors) if factors else term
    return rhs


# -- 2. the flow --------------------------------------------------------------------------------

def initial_symbols(system):
    """The symbols of the initial state in `flow`'s expressions: v_0, I_0, ... (an underscore more
    where such a name is already a parameter)."""
    taken = set(system.variables) | set(system.parameters)
    return tuple(eq.symbol(fresh_name(f"{name}_0", taken)) for name in system.variables)


def fresh_name(candidate, taken):
    """`candidate`, with underscores appended until it is not in `taken` (a set, which gets
    it)."""
    while candidate in taken:
        candidate += "_"
    taken.add(candidate)
    return candidate


def flow(system):
    """The exact free flow of a LinearSystem: a list of Branch(condition, expressions).

    The first branch is the generic one; each further branch is a case where two rates (entries
    of exp(A t)'s exponents) coincide for special parameter values, derived with the equality
    substituted. Each branch is exact wherever its condition holds (no division by zero there);
    where two conditions hold at once, both expressions are that same exact flow.
    """
    branches, seen, pending = [], set(), [({}, [])]
    while pending:
        substitution, equalities = pending.pop(0)
        key = _branch_key(system, substitution)
        if key in seen:
            continue
        seen.add(key)
        A, b = (system.A.subs(substitution), system.b.subs(substitution))
        expressions, divisors = _solve(A, b, initial_symbols(system))
        exclusions = []
        for divisor in divisors:
            solutions = _zeros(divisor, A, b)
            if solutions is None:   # no closed-form case: the generic branch just excludes it
                exclusions.append(sp.Eq(sp.numer(sp.together(divisor)), 0))
                continue
            for solution in solutions:
                exclusions.append(sp.And(*[sp.Eq(k, v) for k, v in solution.items()]))
                merged = {k: v.subs(solution) for k, v in substitution.items()}
                merged.update(solution)
                pending.append((merged, equalities + [(k, v) for k, v in solution.items()]))
        condition = sp.And(*[sp.Eq(k, v) for k, v in equalities],
                           *[sp.Not(e) for e in _unique(exclusions)])
        branches.append(Branch(condition, tuple(expressions)))
        if len(branches) > _MAX_BRANCHES:
            raise ModelError(f"the flow of {', '.join(system.variables)} has more than "
                             f"{_MAX_BRANCHES} degenerate cases; simplify the model")
    return branches


def _unique(items):
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _branch_key(system, substitution):
    """The specialised system itself (A and b after the substitution, in canonical form): two
    chains of equalities that lead to the same system are one branch."""
    return tuple(sp.cancel(e.subs(substitution)) for e in list(system.A) + list(system.b))


def _zeros(divisor, A, b):
    """Parameter values where a rate difference vanishes: [{symbol: value}], each keeping A and b
    finite; solved for one symbol (the first, by name, that works); None if SymPy cannot."""
    numerator = sp.numer(sp.together(divisor))
    for sym in sorted(numerator.free_symbols, key=lambda s: s.name):
        try:
            solutions = sp.solve(numerator, sym, dict=True)
        except (NotImplementedError, ValueError):
            continue
        good = []
        for solution in solutions:
            value = solution.get(sym)
            if value is None or value.has(sym) or value.has(*_BAD):
                continue
            if sp.cancel(sp.denom(sp.together(divisor)).subs(sym, value)) == 0:
                continue
            if any(e.subs(sym, value).has(*_BAD) for e in list(A) + list(b)):
                continue
            good.append({sym: value})
        if good or solutions:
            return good
    return None if numerator.free_symbols else []


def _solve(A, b, initial):
    """x(t) of x' = A x + b, x(0) = initial: (expressions, divisors used)."""
    order = _triangular_order(A)
    if order is not None:
        terms, divisors = _solve_triangular(A, b, initial, order)
        return [_rebuild(x) for x in terms], divisors
    return _solve_putzer(A, b, initial)


def _solve_putzer(A, b, initial):
    """Putzer's algorithm on z = (x, 1), z' = M z with M = [[A, b], [0, 0]]: with the eigenvalues
    l_1..l_m of M, exp(M t) = sum_k r_k(t) P_(k-1), P_0 = I, P_k = P_(k-1) (M - l_k I), where
    r_1' = l_1 r_1, r_1(0) = 1 and r_k' = l_k r_k + r_(k-1), r_k(0) = 0: a triangular chain the
    scalar solver handles, coincident eigenvalues included. No eigenvectors, no inverse."""
    n = A.rows
    forced = any(e != 0 for e in b)    # without b, Putzer on A itself (no extra rate 0)
    M = A.row_join(b).col_join(sp.zeros(1, n + 1)) if forced else A
    lam = sp.Symbol("lambda_")     # (sp.roots finds nothing for a Dummy here)
    roots = sp.roots(sp.numer(sp.together(A.charpoly(lam).as_expr())), lam)
    eigenvalues = [sp.cancel(r) for r, m in roots.items() for _ in range(m)]
    eigenvalues += [sp.Integer(0)] if forced else []
    if len(eigenvalues) != M.rows:
        raise ModelError(f"SymPy finds no closed form for the eigenvalues of A = {A.tolist()}; "
                         f"sparseprop's exact path needs them (a triangular A always works)")
    z0 = sp.Matrix(list(initial) + [1] if forced else list(initial))
    P, r, divisors = sp.eye(M.rows), {}, []
    xs = [{} for _ in range(n)]
    for k, eigenvalue in enumerate(eigenvalues):
        r = _scalar_flow(eigenvalue, 1 if k == 0 else 0, r, divisors)
        w = P * z0
        for i in range(n):
            for rate, poly in r.items():
                _add(xs[i], rate, [w[i] * c for c in poly])
        P = (P * (M - eigenvalue * sp.eye(M.rows))).applyfunc(sp.expand)
    return [_rebuild({rate: [_tidy(c) for c in poly] for rate, poly in x.items()}) for x in xs], \
        divisors


def _triangular_order(A):
    """An order of the variables in which each depends only on those before it, or None."""
    n = A.rows
    depends = {i: {j for j in range(n) if j != i and A[i, j] != 0} for i in range(n)}
    order, done = [], set()
    while len(order) < n:
        ready = [i for i in range(n) if i not in done and depends[i] <= done]
        if not ready:
            return None
        order.append(ready[0])
        done.add(ready[0])
    return order


def _solve_triangular(A, b, initial, order):
    """Solve variable by variable in `order`; each solution is {rate: [t^0, t^1, ... coeffs]}."""
    solutions, divisors = {}, []
    for i in order:
        forcing = {}
        _add(forcing, 0, [b[i]])
        for j in order:
            if j in solutions and A[i, j] != 0:
                for rate, poly in solutions[j].items():
                    _add(forcing, rate, [A[i, j] * c for c in poly])
        solutions[i] = _scalar_flow(sp.cancel(A[i, i]), initial[i], forcing, divisors)
    return [solutions[i] for i in range(A.rows)], divisors


def _scalar_flow(a, x0, forcing, divisors):
    """x' = a x + sum_rate p(t) exp(rate t), x(0) = x0, as {rate: polynomial coefficients}.

    For rate == a the term integrates to a polynomial one degree higher; otherwise, with
    mu = rate - a (recorded in `divisors`), x gains q(t) exp(rate t) - q(0) exp(a t) with
    q = sum_k (-1)^k p^(k) / mu^(k+1).
    """
    result = {}
    _add(result, a, [x0])
    for rate, poly in forcing.items():
        if all(sp.cancel(c) == 0 for c in poly):
            continue
        if _same(rate, a):
            _add(result, a, [0] + [c / (k + 1) for k, c in enumerate(poly)])
            continue
        mu = sp.cancel(rate - a)
        if mu.free_symbols:
            divisors.append(mu)
        q = [sum((-1) ** k * poly[j + k] * sp.Rational(math.factorial(j + k), math.factorial(j))
                 / mu ** (k + 1) for k in range(len(poly) - j)) for j in range(len(poly))]
        _add(result, rate, q)
        _add(result, a, [-q[0]])
    return {rate: [_tidy(c) for c in poly] for rate, poly in result.items()}


def _tidy(coefficient):
    return sp.factor(sp.cancel(coefficient))


def _same(r, s):
    return sp.cancel(sp.sympify(r) - s) == 0


def _add(terms, rate, poly):
    """terms[rate] += poly (coefficient lists), rates compared symbolically."""
    for known in terms:
        if _same(known, rate):
            rate = known
            break
    old = terms.get(rate, [])
    size = max(len(old), len(poly))
    terms[rate] = [(old[k] if k < len(old) else 0) + (poly[k] if k < len(poly) else 0)
                   for k in range(size)]


def _rebuild(terms):
    """sum_rate (sum_k c_k t^k) exp(rate t) as one SymPy expression."""
    out = sp.Integer(0)
    for rate, poly in terms.items():
        polynomial = sum(c * TIME ** k for k, c in enumerate(poly))
        out += polynomial * sp.exp(rate * TIME)
    return out


# -- 3. exponential form ------------------------------------------------------------------------

def exponential_form(expr, t=TIME):
    """expr as sum_j p_j(t) exp(rate_j t): a list of (rate_j, [c_0, c_1, ...]) with distinct
    rates (0 for the polynomial part), coefficients free of t and no trailing zero coefficient.

    Raises ModelError if expr is not such a finite sum."""
    return [(rate, poly) for rate, poly in _collect(sp.sympify(expr), t).items()]


def _collect(expr, t=TIME):
    terms = {}
    for term in _product_terms(expr, t):
        rate, power, coefficient = _split_term(term, t, expr)
        _add(terms, rate, [0] * power + [coefficient])
    out = {}
    for rate, poly in terms.items():
        poly = [_tidy(c) for c in poly]
        while poly and poly[-1] == 0:
            poly.pop()
        if poly:
            out[sp.cancel(rate)] = poly
    return out


def _product_terms(expr, t):
    """expr multiplied out into products, as far as factors hold t (factors free of t, e.g. a
    coefficient's denominator, stay whole; sp.expand would also expand denominators)."""
    if not expr.has(t):
        return [expr]
    if expr.is_Add:
        return [term for arg in expr.args for term in _product_terms(arg, t)]
    if expr.is_Mul:
        products = [sp.Integer(1)]
        for factor in expr.args:
            products = [p * term for p in products for term in _product_terms(factor, t)]
            _check_size(products, expr)
        return products
    if expr.is_Pow and expr.base.is_Add and expr.exp.is_Integer and 1 < expr.exp <= 64:
        base, products = _product_terms(expr.base, t), [sp.Integer(1)]
        for _ in range(int(expr.exp)):
            products = [p * term for p in products for term in base]
            _check_size(products, expr)
        return products
    return [expr]


def _check_size(products, expr):
    if len(products) > _MAX_TERMS:
        raise ModelError(f"'{str(expr)[:200]}' multiplies out into more than {_MAX_TERMS} terms; "
                         f"simplify it")


def _split_term(term, t, whole):
    """One product c * t^k * exp(rate t): (rate, k, c)."""
    rate, power, coefficient = sp.Integer(0), 0, sp.Integer(1)
    for factor in sp.Mul.make_args(term):
        if not factor.has(t):
            coefficient *= factor
        elif factor == t:
            power += 1
        elif factor.is_Pow and factor.base == t and factor.exp.is_Integer and factor.exp > 0:
            power += int(factor.exp)
        elif isinstance(factor, sp.exp) and _is_linear(factor.args[0], t):
            slope = sp.diff(factor.args[0], t)
            rate += slope
            coefficient *= sp.exp(sp.expand(factor.args[0] - slope * t))
        else:
            raise ModelError(f"'{whole}' is not a sum of polynomial times exponential terms in "
                             f"{t}: the factor {factor} is neither a power of {t} nor "
                             f"exp(rate*{t}); the threshold root finder needs that form")
    return rate, power, coefficient


def _is_linear(arg, t):
    return not sp.diff(arg, t).has(t)


# -- 4. numeric verification --------------------------------------------------------------------

def check_flow(system, branch, values, initial=None, times=None, tol=1e-12, digits=20):
    """Verify one Branch at parameter `values` (name -> number) against mpmath's high-precision
    Taylor-series integration of x' = A x + b, at several times; also x(0) = x0 and the residual
    x'(t) - (A x(t) + b). Raises ModelError with the largest discrepancy if it exceeds `tol`
    relative to the size of the state. Returns that discrepancy."""
    missing = [p for p in system.parameters if p not in values]
    if missing:
        raise ModelError(f"check_flow needs a value for {', '.join(missing)}; pass values={{...}}")
    for name in system.parameters:
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value):
            raise ModelError(f"check_flow: parameter {name} = {value!r} is not a finite real "
                             f"number; pass one")
    at = {eq.symbol(p): sp.nsimplify(values[p], rational=True) for p in system.parameters}
    holds = sp.sympify(branch.condition).subs(at)
    if holds is sp.false:
        raise ModelError(f"the branch's condition {branch.condition} does not hold at {values}; "
                         f"check the branch whose condition does")
    x0_symbols = initial_symbols(system)
    n = len(x0_symbols)
    x0 = list(initial) if initial is not None else [0.3, -0.7, 1.1, 0.5][:n]
    A = system.A.subs(at)
    b = system.b.subs(at)
    times = times if times is not None else _default_times(A)
    with mpmath.workdps(digits):
        return _compare(system, branch, at, A, b, x0_symbols, x0, times, tol)


def _default_times(A):
    rates = [abs(r) for r in np.linalg.eigvals(np.array(A.evalf(), dtype=complex))] or [1.0]
    fast = max(rates) or 1.0
    slow = min([r for r in rates if r > 0] or [fast])
    return sorted({0.3 / fast, 2.0 / fast, min(1.0 / slow, 20.0 / fast)})


def _compare(system, branch, at, A, b, x0_symbols, x0, times, tol):
    start = dict(zip(x0_symbols, [sp.nsimplify(v, rational=True) for v in x0]))
    exprs = [sp.sympify(e).subs(at).subs(start) for e in branch.expressions]
    if any(e.has(*_BAD) for e in exprs):
        raise ModelError(f"the flow is not finite at {dict(at)}; it divides by zero there "
                         f"(another branch covers these values)")
    derivs = [sp.diff(e, TIME) for e in exprs]
    value = sp.lambdify(TIME, exprs, modules="mpmath")
    slope = sp.lambdify(TIME, derivs, modules="mpmath")
    An = [[mpmath.mpf(sp.Float(A[i, j], 30)) for j in range(A.cols)] for i in range(A.rows)]
    bn = [mpmath.mpf(sp.Float(b[i], 30)) for i in range(b.rows)]

    def rhs(_, y):
        return [sum(An[i][j] * y[j] for j in range(len(y))) + bn[i] for i in range(len(y))]

    reference = mpmath.odefun(rhs, 0, [mpmath.mpf(v) for v in x0])
    worst, where = mpmath.mpf(0), None
    for s in [0] + list(times):
        s = mpmath.mpf(s)
        got = list(value(s))
        want = reference(s) if s else [mpmath.mpf(v) for v in x0]
        scale = 1 + max(abs(v) for v in want)
        residual = [d - r for d, r in zip(slope(s), rhs(s, got))]
        error = max(max(abs(g - w) for g, w in zip(got, want)),
                    max(abs(r) for r in residual) / max(1, max(abs(a) for row in An for a in row)))
        if error / scale > worst:
            worst, where = error / scale, s
    if worst > tol:
        raise ModelError(f"the flow of {', '.join(system.variables)} (branch {branch.condition}) "
                         f"is off by {float(worst):.3g} relative at t = {float(where):g} "
                         f"against numeric integration (tolerance {tol:g}); the derivation is "
                         f"wrong for these values")
    return float(worst)


__all__ = ["TIME", "LinearSystem", "Branch", "analyze", "flow", "initial_symbols", "fresh_name",
           "exponential_form", "check_flow"]
