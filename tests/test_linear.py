"""sparseprop.linear and equations.parse_system: x' = A x + b read from equations, its exact free
flow (generic and degenerate branches), the exponential form, and the numeric check.

Oracles share nothing with the package: scipy.linalg.expm of the numeric augmented matrix
[[A, b], [0, 0]] (exp of it maps (x0, 1) to (x(t), 1)), and scipy's solve_ivp at rtol 1e-12.
A is written out by hand here from the equations, not taken from `analyze`.
"""
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from sparseprop import linear
from sparseprop.equations import parse_equations, parse_system

from expect import expect

LIF_EXP = "dv/dt = (I_e + I - v)/tau_m : 1\ndI/dt = -I/tau_s : 1"
LIF_EXP_PARAMS = ("I_e", "tau_m", "tau_s")
ALPHA = ("dv/dt = (I_e + I - v)/tau_m : 1\n"
         "dI/dt = (x - I)/tau_s : 1\n"
         "dx/dt = -x/tau_s : 1")
ALIF = ("dv/dt = (I_e + I - a - v)/tau_m : 1\n"
        "dI/dt = -I/tau_s : 1\n"
        "da/dt = -a/tau_a : 1")
ALIF_PARAMS = ("I_e", "tau_m", "tau_s", "tau_a")
PIF = "dv/dt = I_e + I : 1\ndI/dt = -I/tau_s : 1"
X0 = (0.3, -0.7, 1.1, 0.5)
TIMES = (0.0, 0.1, 1.0, 3.7, 12.0, 40.0)


def lif_exp_matrix(I_e, tau_m, tau_s):
    return np.array([[-1 / tau_m, 1 / tau_m], [0, -1 / tau_s]]), np.array([I_e / tau_m, 0])


def alpha_matrix(I_e, tau_m, tau_s):
    A = np.array([[-1 / tau_m, 1 / tau_m, 0], [0, -1 / tau_s, 1 / tau_s], [0, 0, -1 / tau_s]])
    return A, np.array([I_e / tau_m, 0, 0])


def alif_matrix(I_e, tau_m, tau_s, tau_a):
    A = np.array([[-1 / tau_m, 1 / tau_m, -1 / tau_m], [0, -1 / tau_s, 0], [0, 0, -1 / tau_a]])
    return A, np.array([I_e / tau_m, 0, 0])


def expm_flow(A, b, x0, t):
    """The oracle: x(t) from the matrix exponential of the augmented system."""
    n = len(b)
    M = np.zeros((n + 1, n + 1))
    M[:n, :n], M[:n, n] = A, b
    return (expm(M * t) @ np.append(x0, 1.0))[:n]


def evaluate(system, branch, values, x0, t):
    """A branch's expressions at parameter values, initial state x0 and time t, as floats."""
    at = {sp.Symbol(k, real=True): v for k, v in values.items()}
    at.update(zip(linear.initial_symbols(system), x0))
    at[linear.TIME] = t
    values = [complex(sp.sympify(e).evalf(30, subs=at)) for e in branch.expressions]
    assert all(abs(v.imag) <= 1e-12 * (1 + abs(v)) for v in values), values
    return np.array([v.real for v in values])


def holds(branch, values):
    at = {sp.Symbol(k, real=True): sp.nsimplify(v, rational=True) for k, v in values.items()}
    return bool(sp.sympify(branch.condition).subs(at))


def the_branch(branches, values):
    matching = [b for b in branches if holds(b, values)]
    assert matching, f"no branch holds at {values}"
    return matching[0]


def assert_matches_expm(system, branches, values, matrix):
    A, b = matrix(**values)
    n = len(b)
    branch = the_branch(branches, values)
    for t in TIMES:
        want = expm_flow(A, b, np.array(X0[:n]), t)
        got = evaluate(system, branch, values, X0[:n], t)
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12, err_msg=f"t = {t}")
    return branch


@pytest.fixture(scope="module")
def lif_exp():
    system = linear.analyze(LIF_EXP, LIF_EXP_PARAMS)
    return system, linear.flow(system)


@pytest.fixture(scope="module")
def coupled():
    system = linear.analyze("dv/dt = (I_e - v - a)/tau_m : 1\nda/dt = (k*v - a)/tau_a : 1",
                            ("I_e", "k", "tau_m", "tau_a"))
    return system, linear.flow(system)


@pytest.fixture(scope="module")
def alif():
    system = linear.analyze(ALIF, ALIF_PARAMS)
    return system, linear.flow(system)


# -- parse_system -------------------------------------------------------------------------------

def test_parse_system_reads_states_in_order_with_subexpressions():
    parsed = parse_system("dv/dt = (I_e + I_syn - v)/tau_m : 1  # membrane\n"
                          "I_syn = 2*I : 1\n"
                          "dI/dt = -I/tau_s : 1\n"
                          "tau_s : 1 (constant)", ("I_e", "tau_m", "tau_s"))
    v, I, I_e, tau_m, tau_s = (sp.Symbol(n, real=True) for n in ("v", "I", "I_e", "tau_m", "tau_s"))
    assert parsed.states == ("v", "I")
    assert sp.simplify(parsed.rhs[0] - (I_e + 2 * I - v) / tau_m) == 0
    assert sp.simplify(parsed.rhs[1] + I / tau_s) == 0
    assert parsed.declared == ("tau_s",)
    assert "dI/dt" in parsed.texts[1]


def test_parse_equations_still_refuses_several_equations():
    expect(lambda: parse_equations(LIF_EXP, LIF_EXP_PARAMS), "more than one state variable", "I")


@pytest.mark.parametrize("text, params, fragments", [
    ("dv/dt = (I_e - v)/tau_m + q : 1\ndI/dt = -I/tau_s : 1", LIF_EXP_PARAMS,
     ["unknown identifier 'q'", "parameters="]),
    ("x = 2 : 1\ny : 1", ("y",), ["no differential equation"]),
    ("", (), ["no differential equation"]),
    ("dv/dt = -v/tau_m : 1\ndv/dt = -v/tau_s : 1", ("tau_m", "tau_s"), ["'v' is defined twice"]),
    ("dv/dt = -v/tau_m + I : 1\nI = v : 1\ndI/dt = -I/tau_s : 1", ("tau_m", "tau_s"),
     ["'I' is defined twice"]),
    ("dv/dt = -v/tau_m : 1\ndI/dt = -I/tau_s : 1", ("tau_m", "tau_s", "I"),
     ["'I' is both a parameter"]),
    ("dv/dt = -v/tau_m : 1\ndI/dt = -I/tau_s : 1\ng : 1", ("tau_m", "tau_s"),
     ["parameter 'g'", "no value"]),
    ("dv/dt = -v/tau_m : mV\ndI/dt = -I/tau_s : 1", ("tau_m", "tau_s"), ["unit 'mV'"]),
], ids=["unknown-identifier", "no-equation", "empty", "duplicate-state", "state-and-subexpression",
        "parameter-clash", "declared-without-value", "unit"])
def test_parse_system_errors(text, params, fragments):
    expect(lambda: parse_system(text, params), *fragments)


# -- analyze ------------------------------------------------------------------------------------

def test_analyze_lif_exp_gives_A_and_b(lif_exp):
    system, _ = lif_exp
    tau_m, tau_s, I_e = (sp.Symbol(n, real=True) for n in ("tau_m", "tau_s", "I_e"))
    assert system.variables == ("v", "I")
    assert system.A == sp.Matrix([[-1 / tau_m, 1 / tau_m], [0, -1 / tau_s]])
    assert system.b == sp.Matrix([I_e / tau_m, 0])
    assert system.parameters == LIF_EXP_PARAMS


def test_analyze_accepts_terms_that_are_linear_after_expansion():
    system = linear.analyze("dv/dt = ((v + I)**2 - v**2 - I**2)/(2*tau) - v*I/tau - v/tau : 1\n"
                            "dI/dt = -I/tau : 1", ("tau",))
    tau = sp.Symbol("tau", real=True)
    assert system.A == sp.Matrix([[-1 / tau, 0], [0, -1 / tau]])


@pytest.mark.parametrize("rhs, term", [
    ("-v**2/tau_m + I", "v**2"),
    ("(I_e - v)/tau_m + v*I", "I*v"),
    ("(I_e - v + exp(v))/tau_m", "exp(v)"),
    ("(I_e - v)/tau_m + I/(1 + v)", "I/(v + 1)"),
], ids=["square", "product", "exp", "quotient"])
def test_nonlinear_term_is_named(rhs, term):
    text = f"dv/dt = {rhs} : 1\ndI/dt = -I/tau_s : 1"
    message = expect(lambda: linear.analyze(text, LIF_EXP_PARAMS),
                     "not linear in the state (v, I)", "x' = A x + b", f"dv/dt = {rhs}")
    assert term.replace(" ", "") in message.replace(" ", ""), message


def test_high_power_is_refused_without_multiplying_out():
    expect(lambda: linear.analyze("dv/dt = (v + I + I_e)**999/tau_m : 1\ndI/dt = -I/tau_s : 1",
                                  LIF_EXP_PARAMS), "not linear", "(I + I_e + v)**999")


def test_nonlinear_in_the_second_equation_is_named():
    expect(lambda: linear.analyze("dv/dt = (I - v)/tau_m : 1\ndI/dt = -I**3/tau_s : 1",
                                  ("tau_m", "tau_s")), "dI/dt", "I**3", "not linear")


def test_parameters_may_enter_nonlinearly():
    system = linear.analyze("dv/dt = -v*exp(-g)/tau**2 + sqrt(g) : 1", ("g", "tau"))
    g, tau = sp.Symbol("g", real=True), sp.Symbol("tau", real=True)
    assert sp.simplify(system.A[0, 0] + sp.exp(-g) / tau ** 2) == 0
    assert system.b[0] == sp.sqrt(g)


def test_too_many_variables():
    text = "\n".join(f"dx{i}/dt = -x{i} : 1" for i in range(linear.MAX_VARIABLES + 1))
    expect(lambda: linear.analyze(text), "state variables", f"up to {linear.MAX_VARIABLES}")


# -- flow against expm and solve_ivp ------------------------------------------------------------

def test_lif_exp_generic_branch_against_expm(lif_exp):
    system, branches = lif_exp
    tau_m, tau_s = sp.Symbol("tau_m", real=True), sp.Symbol("tau_s", real=True)
    assert len(branches) == 2
    assert branches[0].condition == sp.Ne(tau_m, tau_s)
    assert branches[1].condition == sp.Eq(tau_m, tau_s)
    branch = assert_matches_expm(system, branches, dict(I_e=1.3, tau_m=10.0, tau_s=2.5),
                                 lif_exp_matrix)
    assert branch is branches[0]


@settings(max_examples=25, deadline=None)
@given(I_e=st.floats(-3, 3), tau_m=st.floats(0.5, 50), tau_s=st.floats(0.1, 20),
       v0=st.floats(-2, 2), I0=st.floats(-2, 2), t=st.floats(0, 30))
def test_lif_exp_generic_branch_random_values(lif_exp, I_e, tau_m, tau_s, v0, I0, t):
    system, branches = lif_exp
    if abs(tau_m - tau_s) < 1e-3 * tau_m:   # near the degenerate case: cancellation, another test
        return
    values = dict(I_e=I_e, tau_m=tau_m, tau_s=tau_s)
    got = evaluate(system, branches[0], values, (v0, I0), t)
    want = expm_flow(*lif_exp_matrix(**values), np.array([v0, I0]), t)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


def test_lif_exp_degenerate_branch_at_equal_time_constants(lif_exp):
    system, branches = lif_exp
    values = dict(I_e=0.8, tau_m=4.0, tau_s=4.0)
    assert not holds(branches[0], values)
    branch = assert_matches_expm(system, branches, values, lif_exp_matrix)
    assert branch is branches[1]
    v = branch.expressions[0]
    rates = dict(linear.exponential_form(v))
    assert len(rates[-1 / sp.Symbol("tau_s", real=True)]) == 2      # t exp(-t/tau) appears
    assert not v.subs({sp.Symbol(k, real=True): x for k, x in values.items()}).has(sp.zoo, sp.nan)


def test_lif_exp_against_solve_ivp(lif_exp):
    system, branches = lif_exp
    I_e, tau_m, tau_s = 1.7, 20.0, 5.0
    A, b = lif_exp_matrix(I_e, tau_m, tau_s)
    times = np.array([0.5, 2.0, 10.0, 35.0])
    ivp = solve_ivp(lambda _, x: A @ x + b, (0, times[-1]), X0[:2], t_eval=times,
                    rtol=1e-12, atol=1e-14, method="DOP853")
    for k, t in enumerate(times):
        got = evaluate(system, branches[0], dict(I_e=I_e, tau_m=tau_m, tau_s=tau_s), X0[:2], t)
        np.testing.assert_allclose(got, ivp.y[:, k], rtol=1e-10, atol=1e-12)


def test_alpha_current_three_variables():
    system = linear.analyze(ALPHA, LIF_EXP_PARAMS)
    branches = linear.flow(system)
    assert [str(b.condition) for b in branches] == ["Ne(tau_m, tau_s)", "Eq(tau_m, tau_s)"]
    assert_matches_expm(system, branches, dict(I_e=0.4, tau_m=10.0, tau_s=2.0), alpha_matrix)
    degenerate = assert_matches_expm(system, branches, dict(I_e=0.4, tau_m=3.0, tau_s=3.0),
                                     alpha_matrix)
    v_rates = dict(linear.exponential_form(degenerate.expressions[0]))
    tau_s = sp.Symbol("tau_s", real=True)
    assert len(v_rates[-1 / tau_s]) == 3      # t^2 exp(-t/tau) when all time constants agree


@pytest.mark.parametrize("values", [
    dict(I_e=0.6, tau_m=10.0, tau_s=2.0, tau_a=100.0),
    dict(I_e=0.6, tau_m=5.0, tau_s=5.0, tau_a=100.0),
    dict(I_e=0.6, tau_m=7.0, tau_s=2.0, tau_a=7.0),
    dict(I_e=0.6, tau_m=3.0, tau_s=3.0, tau_a=3.0),
    dict(I_e=0.6, tau_m=10.0, tau_s=4.0, tau_a=4.0),
], ids=["generic", "m=s", "m=a", "m=s=a", "s=a"])
def test_adaptation_every_branch_against_expm(alif, values):
    system, branches = alif
    assert len(branches) == 4
    assert sum(holds(b, values) for b in branches) == 1
    assert_matches_expm(system, branches, values, alif_matrix)


def test_pure_integrator_singular_A():
    system = linear.analyze(PIF, ("I_e", "tau_s"))
    branches = linear.flow(system)
    assert len(branches) == 1 and branches[0].condition == sp.true
    values = dict(I_e=0.25, tau_s=3.0)
    A = np.array([[0.0, 1.0], [0.0, -1 / 3.0]])
    for t in TIMES:
        np.testing.assert_allclose(evaluate(system, branches[0], values, X0[:2], t),
                                   expm_flow(A, np.array([0.25, 0.0]), np.array(X0[:2]), t),
                                   rtol=1e-12, atol=1e-12)
    rates = dict(linear.exponential_form(branches[0].expressions[0]))
    assert len(rates[0]) == 2                 # v_0 + ... + I_e t: linear in t


def test_leak_that_can_vanish_gets_its_own_branch():
    system = linear.analyze("dv/dt = I_e - g*v : 1", ("I_e", "g"))
    generic, integrator = linear.flow(system)
    g = sp.Symbol("g", real=True)
    assert generic.condition == sp.Ne(g, 0) and integrator.condition == sp.Eq(g, 0)
    v0, I_e, t = linear.initial_symbols(system)[0], sp.Symbol("I_e", real=True), linear.TIME
    assert sp.simplify(integrator.expressions[0] - (v0 + I_e * t)) == 0


@pytest.mark.parametrize("k", [-0.5, 0.125, 2.0], ids=["real", "double", "complex"])
def test_coupled_system_not_triangular(coupled, k):
    """v and a drive each other (A not triangular): eigenvalues with a square root, equal at
    k = 1/8 (its own branch, t exp terms), complex at k = 2 (damped oscillation)."""
    system, branches = coupled
    I_e, tau_m, tau_a = 0.7, 10.0, 20.0
    A = np.array([[-1 / tau_m, -1 / tau_m], [k / tau_a, -1 / tau_a]])
    values = dict(I_e=I_e, k=k, tau_m=tau_m, tau_a=tau_a)
    branch = the_branch(branches, values)
    assert (branch is branches[0]) == (k != 0.125)
    for t in TIMES:
        np.testing.assert_allclose(evaluate(system, branch, values, X0[:2], t),
                                   expm_flow(A, np.array([I_e / tau_m, 0]), np.array(X0[:2]), t),
                                   rtol=1e-11, atol=1e-12)
    if k == 2.0:
        assert linear.check_flow(system, branch, values, times=(4.0,)) < 1e-12


def test_initial_symbols_avoid_parameter_names():
    system = linear.analyze("dv/dt = (v_0 - v)/tau : 1", ("v_0", "tau"))
    assert [s.name for s in linear.initial_symbols(system)] == ["v_0_"]
    (generic,) = linear.flow(system)
    assert sp.Symbol("v_0_", real=True) in generic.expressions[0].free_symbols


# -- exponential form ---------------------------------------------------------------------------

def rebuild(form, t=linear.TIME):
    return sum(sum(c * t ** k for k, c in enumerate(poly)) * sp.exp(rate * t) for rate, poly in form)


def test_exponential_form_of_every_flow_round_trips(lif_exp, alif):
    for system, branches in (lif_exp, alif):
        for branch in branches:
            for expr in branch.expressions:
                form = linear.exponential_form(expr)
                rates = [rate for rate, _ in form]
                assert all(sp.cancel(r - s) != 0 for i, r in enumerate(rates)
                           for s in rates[i + 1:]), rates
                assert all(not c.has(linear.TIME) for _, poly in form for c in poly)
                assert sp.simplify(rebuild(form) - expr) == 0


def test_exponential_form_of_a_threshold_function():
    t, a, b, theta = linear.TIME, *sp.symbols("a b theta", positive=True)
    expr = 3 * t ** 2 * sp.exp(-t / a) + 2 * sp.exp(-t / a) * sp.exp(-t / b) - theta + t \
        + sp.exp(-t / a + 1)
    form = dict(linear.exponential_form(expr))
    assert form[0] == [-theta, 1]
    assert sp.simplify(form[-1 / a][0] - sp.E) == 0 and form[-1 / a][2] == 3
    assert form[sp.cancel(-1 / a - 1 / b)] == [2]
    assert sp.simplify(rebuild(linear.exponential_form(expr)) - expr) == 0


def test_exponential_form_drops_cancelled_terms():
    t = linear.TIME
    assert linear.exponential_form(t * sp.exp(-t) - t * sp.exp(-t) + 1) == [(0, [1])]
    assert linear.exponential_form(sp.Integer(0)) == []


@pytest.mark.parametrize("expr", ["sin(t)", "exp(t**2)", "1/(1 + exp(t))", "sqrt(t)", "1/t"])
def test_exponential_form_refuses_other_shapes(expr):
    t = linear.TIME
    expect(lambda: linear.exponential_form(sp.sympify(expr, locals={"t": t})),
           "not a sum of polynomial times exponential terms")


# -- check_flow ---------------------------------------------------------------------------------

def test_check_flow_passes_on_both_lif_exp_branches(lif_exp):
    system, (generic, degenerate) = lif_exp
    assert linear.check_flow(system, generic, dict(I_e=1.2, tau_m=10.0, tau_s=3.0)) < 1e-12
    assert linear.check_flow(system, degenerate, dict(I_e=1.2, tau_m=4.0, tau_s=4.0)) < 1e-12


def test_check_flow_rejects_a_wrong_flow(lif_exp):
    system, (generic, _) = lif_exp
    tau_m = sp.Symbol("tau_m", real=True)
    wrong = linear.Branch(generic.condition, (generic.expressions[0] * (1 + 1e-9 * linear.TIME / tau_m),
                                              generic.expressions[1]))
    expect(lambda: linear.check_flow(system, wrong, dict(I_e=1.2, tau_m=10.0, tau_s=3.0)),
           "off by", "against numeric integration")


def test_check_flow_refuses_values_outside_the_branch(lif_exp):
    system, (generic, _) = lif_exp
    expect(lambda: linear.check_flow(system, generic, dict(I_e=1.2, tau_m=4.0, tau_s=4.0)),
           "does not hold", "tau_m")
    expect(lambda: linear.check_flow(system, generic, dict(I_e=1.2, tau_m=4.0)),
           "needs a value for tau_s")


def test_every_branch_value_is_finite_where_it_holds(alif):
    system, branches = alif
    for values in (dict(I_e=0.1, tau_m=2.0, tau_s=2.0, tau_a=9.0),
                   dict(I_e=0.1, tau_m=2.0, tau_s=2.0, tau_a=2.0)):
        branch = the_branch(branches, values)
        got = evaluate(system, branch, values, X0[:3], 1.5)
        assert all(math.isfinite(x) for x in got)
