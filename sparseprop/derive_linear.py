"""The derivation of a linear model with several state variables (DESIGN.md 3.7): what its
event-driven simulator needs, as SymPy expressions, checked numerically before code is made.

    free flow         x(dt) = exp(A dt) x0 + ..., one exact branch per degenerate case
                      (sparseprop.linear.flow);
    refractory flow   the same with the clamped variables (those the reset sets with '=')
                      held: their rows of A and b are 0;
    threshold terms   g(x(dt)) = c . x(dt) - theta written as sum_j P_j(dt) exp(rate_j dt)
                      for each free branch: the input of sparseprop.engine.crossing, which
                      finds the first crossing without ever missing one;
    jumps, reset      the state after an input on each port, and after a spike, as
                      expressions of the state before it (statements apply in order);
    sensitivities     for the reverse sweep (gradients), d x(dt) / d p of each flow branch
                      for each parameter p of A or b: the flow of the system extended by
                      S = dx/dp, S' = A S + (dA/dp) x + db/dp, S(0) = 0 (its degenerate
                      branches are exact where the flow's are, which differentiating a
                      branch's expression, with the equality substituted, would not be).

Each branch that holds at the model's parameter values (or, for a degenerate branch, at those
values with its equalities imposed) is checked against mpmath's high-precision integration
(sparseprop.linear.check_flow) before it is used.
"""
import logging
from dataclasses import dataclass

import sympy as sp

from . import linear
from .equations import symbol
from .errors import ModelError

log = logging.getLogger("sparseprop")
_CHECK_TOL = 1e-10


@dataclass
class LinearDerivation:
    """Everything the kernels of a linear model are printed from (SymPy expressions in the
    initial-state symbols `initial`, the parameter symbols and linear.TIME)."""
    name: str
    variables: tuple      # state variable names, in order
    parameters: tuple     # parameter names, in order (the kernels' params array)
    system: linear.LinearSystem
    initial: tuple        # the symbols of the state at the start of a flow (v_0, I_0, ...)
    free: list            # linear.Branch list of the free flow (generic first)
    refractory: list      # linear.Branch list of the flow with the clamped variables held
    clamped: tuple        # indices of the clamped variables
    threshold: sp.Expr    # g(x) in the initial symbols: the neuron fires where g >= 0
    terms: list           # per free branch: [(rate, [c0, c1, ...])] of g(x(TIME))
    jumps: dict           # port -> {index: expression of the initial symbols and w}
    reset: dict           # index -> expression of the initial symbols
    max_terms: int
    max_degree: int
    checked: list         # (which flow, branch index, discrepancy) of the numeric checks
    sensitivity: dict     # flow ("free", "refractory") -> per branch {parameter: [dx_i/dp]}


def _in_order(statements, variables, initial):
    """{index: value} after `statements` [(target, op, expr)] applied in order; expressions in
    the initial symbols (the state before the first statement)."""
    current = {symbol(v): x0 for v, x0 in zip(variables, initial)}
    for target, _, expr in statements:
        current[symbol(target)] = expr.xreplace(current)
    return {k: current[symbol(v)] for k, v in enumerate(variables)
            if current[symbol(v)] != initial[k]}


def _check(model, system, branches, which):
    """check_flow for each branch at the model's values (a degenerate branch at those values
    with its equalities imposed); returns [(which, index, discrepancy)]."""
    out = []
    for k, branch in enumerate(branches):
        values = dict(model.parameters)
        for eq in sp.sympify(branch.condition).atoms(sp.Eq):
            lhs, rhs = eq.lhs, eq.rhs
            if lhs.is_Symbol and lhs.name in values:
                values[lhs.name] = float(rhs.subs({symbol(p): v for p, v in values.items()}))
        at = {symbol(p): v for p, v in values.items()}
        if sp.sympify(branch.condition).subs(at) is not sp.true:
            log.info("%s: %s flow branch %d (%s) not checked: its condition does not hold near "
                     "the model's values", model.name, which, k, branch.condition)
            continue
        out.append((which, k, linear.check_flow(system, branch, values, tol=_CHECK_TOL)))
    return out


def _sensitivities(system, branches, initial):
    """Per branch of `system`'s flow, {parameter: [d x_i(TIME) / d parameter]} for each parameter
    of A or b: the flow of the extended system (x, S), S = dx/dp, S(0) = 0, the branch whose
    condition is the same as the flow's (ModelError if none is)."""
    d = len(system.variables)
    taken = set(system.variables) | set(system.parameters)
    out = [dict() for _ in branches]
    for name in system.parameters:
        p = symbol(name)
        dA, db = system.A.diff(p), system.b.diff(p)
        if dA.is_zero_matrix and db.is_zero_matrix:
            continue
        extra = [linear.fresh_name(f"d{v}_d{name}", taken) for v in system.variables]
        A = sp.zeros(2 * d, 2 * d)
        A[:d, :d], A[d:, d:], A[d:, :d] = system.A, system.A, dA
        b = sp.Matrix.vstack(sp.Matrix(system.b), sp.Matrix(db))
        extended = linear.LinearSystem(system.variables + tuple(extra), sp.ImmutableMatrix(A),
                                       sp.ImmutableMatrix(b), system.parameters)
        start = linear.initial_symbols(extended)
        at_start = dict(zip(start[:d], initial))
        at_start.update({s0: sp.Integer(0) for s0 in start[d:]})
        by_condition = {branch.condition: branch for branch in linear.flow(extended)}
        for k, branch in enumerate(branches):
            match = by_condition.get(branch.condition)
            if match is None:
                raise ModelError(f"the sensitivity of the flow of {', '.join(system.variables)} "
                                 f"to {name} has no branch for the case {branch.condition}; "
                                 f"its gradients cannot be derived")
            out[k][name] = [e.xreplace(at_start) for e in match.expressions[d:]]
    return out


def derive_linear(model):
    """The LinearDerivation of a LinearModel (ModelError if a check fails)."""
    system = model.system
    initial = linear.initial_symbols(system)
    to_initial = {symbol(v): x0 for v, x0 in zip(system.variables, initial)}
    free = linear.flow(system)
    held = sp.Matrix(system.A)
    offset = sp.Matrix(system.b)
    for k in model.clamped:
        held[k, :] = sp.zeros(1, held.shape[1])
        offset[k] = 0
    held_system = linear.LinearSystem(system.variables, sp.ImmutableMatrix(held),
                                      sp.ImmutableMatrix(offset), system.parameters,
                                      system.texts)
    refractory = linear.flow(held_system)
    threshold = model.threshold_expr.xreplace(to_initial)
    terms = []
    for branch in free:
        at_time = threshold.xreplace(dict(zip(initial, branch.expressions)))
        terms.append(linear.exponential_form(at_time))
    checked = _check(model, system, free, "free") + _check(model, held_system, refractory,
                                                           "refractory")
    jumps = {port: _in_order(statements, system.variables, initial)
             for port, statements in model.jump_statements.items()}
    reset = _in_order(model.reset_statements, system.variables, initial)
    max_terms = max(len(t) for t in terms)
    max_degree = max((len(poly) - 1 for t in terms for _, poly in t), default=0)
    if max_terms == 0:
        raise ModelError(f"the threshold '{model.threshold}' of {model.name} does not depend on "
                         f"the state; test a state variable, e.g. 'v >= 1'")
    sensitivity = {"free": _sensitivities(system, free, initial),
                   "refractory": _sensitivities(held_system, refractory, initial)}
    return LinearDerivation(name=model.name, variables=system.variables,
                            parameters=system.parameters, system=system, initial=initial,
                            free=free, refractory=refractory, clamped=tuple(model.clamped),
                            threshold=threshold, terms=terms, jumps=jumps, reset=reset,
                            max_terms=max_terms, max_degree=max_degree, checked=checked,
                            sensitivity=sensitivity)
