"""Faults of the derivation (issue 10): valid models SymPy got wrong, generated code that depended
on the clock or on hashing, misleading messages, explain's printing, states that run away.
Oracles: scipy quad, closed-form solutions, byte comparison of independent builds."""
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import quad

import sparseprop as spp
from sparseprop import derive as derive_module
from sparseprop.derive import DT, PHASE, WEIGHT, derive

QUADRATIC = "dv/dt = ((v - v_r)*(v - v_t)/Delta + I)/tau : 1"
QUADRATIC_VALUES = {"v_r": -65.0, "v_t": -50.0, "Delta": 15.0, "I": 5.0, "tau": 10.0}
LEAK_PLUS_SQUARE = "dv/dt = (I - v)/tau + c*v**2/10 : 1"


def expect(call, *fragments):
    """call() raises ModelError whose message contains every fragment; returns the message."""
    with pytest.raises(spp.ModelError) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def quad_period(f, low, high):
    return quad(lambda v: 1.0 / f(v), low, high, epsabs=0.0, epsrel=1e-13, limit=200)[0]


def at_values(d, expr, *args):
    """A derivation's expression as a float function of `args` at the parameter values."""
    values = {p: d.values[p.name] for p in d.params}
    return sp.lambdify(args, expr.subs(values), modules="math")


# -- 1. valid models SymPy's default integral gets wrong ----------------------------------------

def test_quadratic_with_finite_threshold_has_the_period_of_quad_and_a_consistent_ptc():
    """SymPy's integral of 1/f under the sign assumptions is 0 (period 0, refused before); the
    roots of f are complex here (atan branch)."""
    model = spp.NeuronModel(QUADRATIC, "v >= -30", "v = -70", parameters=QUADRATIC_VALUES)
    d = model.derive()
    assert d.method == "analytic" and any("manual integration" in n for n in d.notes)
    k = model.compile()
    T = quad_period(lambda v: ((v + 65) * (v + 50) / 15 + 5) / 10, -70.0, -30.0)
    assert T == pytest.approx(91.86598679798, abs=1e-9)
    assert k.period() == pytest.approx(T, rel=1e-13)
    phase = np.linspace(0.02, 0.98, 25) * T
    for w in (-3.0, -0.5, 0.5, 3.0):
        np.testing.assert_allclose(k.ptc(phase, w), k.phase(k.jump(k.state(phase), w)),
                                   rtol=1e-12, atol=1e-12 * T)


def test_leak_plus_square_has_the_period_of_quad():
    """f = (I - v)/tau + c v^2/10 fires on its own from 0 to 1 (f > 0 there), with real roots
    of f at 1.26 and 8.74 (log branch); was 'free period 0'."""
    I, tau, c = 1.1, 10.0, 0.1
    model = spp.NeuronModel(LEAK_PLUS_SQUARE, "v >= 1", "v = 0",
                            parameters={"I": I, "tau": tau, "c": c})
    d = model.derive()
    assert d.method == "analytic"
    T = quad_period(lambda v: (I - v) / tau + c * v * v / 10, 0.0, 1.0)
    assert model.value_of(d.period) == pytest.approx(T, rel=1e-12)
    x = d.state
    state, phase_of = at_values(d, d.state_of_phase, PHASE), at_values(d, d.phase, x)
    ptc, jump = at_values(d, d.ptc, PHASE, WEIGHT), at_values(d, d.jump, x, WEIGHT)
    for p in (0.1 * T, 0.5 * T, 0.9 * T):
        assert phase_of(state(p)) == pytest.approx(p, rel=1e-12)
        for w in (-0.3, 0.05):
            assert ptc(p, w) == pytest.approx(phase_of(jump(state(p), w)), rel=1e-12)


def test_a_closed_form_that_is_not_an_antiderivative_is_never_used(monkeypatch):
    """When every SymPy integral is wrong (here: forced to 0), 'auto' builds a numeric map with
    the period of quad and 'analytic' says why it cannot."""
    monkeypatch.setattr(derive_module.sp, "integrate", lambda *args, **kwargs: sp.Integer(0))
    model = spp.load_model("lif")
    d = derive(model)
    assert d.method == "numeric"
    T = quad_period(lambda v: (1.1 - v) / 10.0, 0.0, 1.0)
    assert d.numeric.period == pytest.approx(T, rel=1e-12)
    expect(lambda: derive(model, method="analytic"), "d/dv = 1/f", "method='numeric'")


def test_an_infinite_threshold_never_reached_is_refused_with_the_reason():
    """The PIF with threshold inf: v grows linearly, the period is infinite (not 'numeric')."""
    model = spp.NeuronModel("dv/dt = I/tau : 1", "v >= inf", "v = 0",
                            parameters={"I": 1.0, "tau": 10.0})
    expect(model.derive, "period of model is inf", "never reaches threshold", "diverges",
           "finite threshold")


# -- 2. what is generated is a pure function of the model ---------------------------------------

BUILD = """
import hashlib, sparseprop as spp
for name, values in [("lif", {}), ("qif", {}), ("lif", {"I": 0.9})]:
    model = spp.load_model(name, **values)
    explanation = model.explain()
    text = model.source() + explanation.text + explanation.latex
    print(name, values, hashlib.sha256(text.encode()).hexdigest())
"""


def _build(seed, cache):
    env = dict(os.environ, PYTHONHASHSEED=str(seed), SPARSEPROP_CACHE_DIR=str(cache))
    return subprocess.run([sys.executable, "-c", BUILD], env=env, capture_output=True,
                          text=True, check=True, timeout=300).stdout


def test_sources_and_explanations_do_not_depend_on_load_or_hashing(tmp_path):
    """Two builds, other hash seeds, the second while 4 busy processes load the machine: the
    same module sources and explanations, byte for byte (solve once ran under a 3 s clock
    limit: under load a QIF with finite threshold lost its flow kernel)."""
    quiet = _build(1, tmp_path / "a")
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(4)]
    try:
        loaded = _build(2, tmp_path / "b")
    finally:
        for process in busy:
            process.kill()
            process.wait()
    assert len(quiet.splitlines()) == 3
    assert loaded == quiet


def test_the_one_sympy_limit_raises_a_clear_error(monkeypatch):
    """The overall limit (timeout argument, SPARSEPROP_SYMPY_TIMEOUT) only ever raises."""
    model = spp.load_model("qif")
    expect(lambda: derive(model, timeout=1e-3), "longer than 0.001 s",
           "SPARSEPROP_SYMPY_TIMEOUT", "method='numeric'")
    model.derive()
    monkeypatch.setenv("SPARSEPROP_SYMPY_TIMEOUT", "1e-3")
    expect(model.explain, "simplifying the derivation of qif", "SPARSEPROP_SYMPY_TIMEOUT")


def test_a_time_limit_whose_alarm_was_swallowed_still_raises():
    """An alarm can land where Python ignores its exception (a garbage collector's callback:
    seen in a run of this suite, the limited derivation then finished and returned); a block
    that ends after its deadline raises all the same, and one that ends in time does not."""
    import time

    from sparseprop.timelimit import TimeLimitExceeded, time_limit

    with pytest.raises(TimeLimitExceeded, match="block took longer than 0.001 s"):
        with time_limit(1e-3, "block"):
            try:
                time.sleep(0.05)
            except BaseException:   # library code that swallows the alarm
                pass
    with time_limit(5.0, "block"):
        pass


def test_candidate_solutions_come_in_sort_order():
    """Solutions are tried in SymPy's sort order (not set order, which follows hashing)."""
    x = sp.Symbol("x", real=True)
    a = sp.Symbol("a", positive=True)
    solutions = list(derive_module._solutions(x**2, a, x))
    assert set(solutions) == {-sp.sqrt(a), sp.sqrt(a)}
    assert solutions == sorted(solutions, key=sp.default_sort_key)


# -- 3. messages that name the real reason -----------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: spp.load_model("lif", tau=0.0),
    lambda: spp.NeuronModel("dv/dt = (I - v)/tau : 1", "v >= 1", "v = 0",
                            parameters={"I": 1.1, "tau": 0.0}),
], ids=["load_model", "NeuronModel"])
def test_a_zero_time_constant_is_named(make):
    expect(make, "tau = 0 makes dv/dt = (I - v)/tau infinite or undefined", "divides by tau",
           "give tau a nonzero value", "positive number of ms")


def test_a_zero_divisor_inside_a_function_is_named():
    expect(lambda: spp.load_model("eif", Delta=0.0), "Delta = 0 makes", "divides by Delta")


def test_qif_with_negative_drive_is_excitable_and_the_message_says_what_works():
    message = expect(lambda: spp.load_model("qif", I=-1.0), "stable fixed point at v = -1",
                     "unstable one at v = 1", "excitable", "I=-1",
                     "dv/dt > 0 from reset to threshold",
                     "a threshold below v = 1 and a finite reset")
    assert "below the threshold inf" in message and not re.search(r"\boo\b", message)


def test_what_the_qif_message_suggests_works():
    """A finite reset and a threshold below the unstable fixed point: a subthreshold neuron
    resting at -1, whose flow is tau dv/dt = v^2 - 1: v(t) = -tanh(t/tau - atanh(v0))."""
    model = spp.NeuronModel("dv/dt = (v**2 + I)/tau : 1", "v >= 0.5", "v = -2",
                            parameters={"I": -1.0, "tau": 10.0})
    assert model.regime == "subthreshold" and model.v_rest == pytest.approx(-1.0, abs=1e-12)
    assert "def flow" in model.source()
    d = model.derive()
    flow = at_values(d, d.flow, d.state, DT)
    for v0 in (-0.9, 0.0, 0.45):
        for t in (0.5, 5.0, 40.0):
            assert flow(v0, t) == pytest.approx(-math.tanh(t / 10 - math.atanh(v0)), rel=1e-12)


# -- 4. explain prints the state's name and inf -------------------------------------------------

def test_latex_integrand_names_the_state_variable():
    latex = spp.load_model("lif").explain().latex
    assert r"\frac{dv'}{\frac{I - v'}{\tau}}" in latex
    assert "{X}" not in latex and "XPRIME" not in latex
    theta = spp.NeuronModel("dtheta/dt = (I - theta)/tau : 1", "theta >= 1", "theta = 0",
                            parameters={"I": 1.1, "tau": 10.0}).explain().latex
    assert r"\frac{d\theta'}{\frac{I - \theta'}{\tau}}" in theta


def test_infinity_is_printed_inf():
    explanation = spp.load_model("qif").explain()
    assert "threshold v >= inf, reset v = -inf" in explanation.text
    assert "integral from -inf to v" in explanation.text
    assert not re.search(r"\boo\b", explanation.text)
    assert r"\int_{-\infty}^{v}" in explanation.latex


# -- 5. negative time constants of the shipped models -------------------------------------------

@pytest.mark.parametrize("name, fragments", [
    ("lif", ["runs away", "tau=-10", "is a time constant negative?"]),
    ("eif", ["runs away", "tau=-10"]),
    ("qif", ["can never reach the threshold inf", "tau=-10", "is a time constant negative?"]),
    ("theta", ["does not fire on its own", "tau=-10"]),
])
def test_negative_time_constant_is_refused(name, fragments):
    expect(lambda: spp.load_model(name, tau=-10.0).derive(), *fragments)


def test_pif_with_negative_time_constant_drifts_down_by_its_flow():
    """I/tau < 0 at a constant rate: the same neuron as I < 0 (a bounded drift, no runaway)."""
    model = spp.load_model("pif", tau=-10.0)
    assert (model.regime, model.v_rest) == ("subthreshold", None)
    d = model.derive()
    flow = at_values(d, d.flow, d.state, DT)
    assert flow(0.5, 3.0) == pytest.approx(0.5 - 0.3, rel=1e-15)
