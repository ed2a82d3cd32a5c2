"""Derivation and root isolation together (issue 12's pipeline, before the engine uses it): the
flow that sparseprop.linear derives from a model's equations, written by exponential_form as a
sum of exponentials, gives sparseprop.engine.crossing the first threshold crossing of a free
neuron; against solve_ivp with event location (rtol 1e-12) from random states, for the models
issue 12 ships (current-based LIF with equal and unequal time constants, alpha current,
adaptation)."""
import math

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from sparseprop import linear
from sparseprop.engine.crossing import first_crossing, workspace
from sparseprop.equations import parse_system, symbol

MODELS = {
    "lif_exp": ("dv/dt = (I_e + I - v)/tau_m : 1\ndI/dt = -I/tau_s : 1",
                {"I_e": 0.8, "tau_m": 10.0, "tau_s": 3.0}),
    "lif_exp, tau_m == tau_s": ("dv/dt = (I_e + I - v)/tau_m : 1\ndI/dt = -I/tau_s : 1",
                                {"I_e": 0.8, "tau_m": 5.0, "tau_s": 5.0}),
    "lif_alpha": ("dv/dt = (I_e + I - v)/tau_m : 1\ndI/dt = (J - I)/tau_s : 1\n"
                  "dJ/dt = -J/tau_s : 1", {"I_e": 0.5, "tau_m": 10.0, "tau_s": 2.0}),
    "alif": ("dv/dt = (I_e + I - a - v)/tau_m : 1\ndI/dt = -I/tau_s : 1\n"
             "da/dt = -a/tau_a : 1", {"I_e": 1.3, "tau_m": 10.0, "tau_s": 2.0,
                                      "tau_a": 100.0}),
}
WORK = workspace(4, 3)


def _branch(system, branches, values):
    numbers = {symbol(k): v for k, v in values.items()}
    for branch in branches:
        if bool(branch.condition.subs(numbers)):
            return branch
    raise AssertionError("no branch holds")


@pytest.mark.parametrize("name", MODELS)
def test_first_crossing_of_the_derived_flow_against_solve_ivp(name):
    text, values = MODELS[name]
    system = linear.analyze(parse_system(text, tuple(values)), tuple(values))
    branch = _branch(system, linear.flow(system), values)
    x0 = linear.initial_symbols(system)
    g = branch.expressions[0] - 1   # threshold v >= 1
    terms = linear.exponential_form(g.subs({symbol(k): v for k, v in values.items()}))
    numbers = {symbol(k): v for k, v in values.items()}
    rhs = sp.lambdify([x0], list(system.A.subs(numbers) * sp.Matrix(x0) + system.b.subs(numbers)))
    rng = np.random.default_rng(len(name))
    found = 0
    for _ in range(40):
        state = [rng.uniform(-0.5, 0.95)] + list(rng.uniform(-1.0, 6.0, len(x0) - 1))
        at = dict(zip(x0, state))
        rates = np.array([float(rate) for rate, _ in terms])
        coef = np.zeros((rates.size, 4))
        for j, (_, poly) in enumerate(terms):
            coef[j, :len(poly)] = [float(c.subs(at)) for c in poly]
        ours = first_crossing(rates, coef, *WORK)

        def event(t, x):
            return x[0] - 1.0
        event.terminal, event.direction = True, 1
        sol = solve_ivp(lambda t, x: np.array(rhs(x), float).ravel(), (0, 400), state,
                        events=event, rtol=1e-12, atol=1e-13, method="DOP853")
        if sol.t_events[0].size:
            assert ours == pytest.approx(sol.t_events[0][0], abs=1e-8), (name, state)
            found += 1
        else:
            assert ours == math.inf or ours > 400, (name, state, ours)
    assert found >= 10
