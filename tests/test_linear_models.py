"""The shipped multi-variable linear models (lif_exp, lif_exp2, lif_alpha, alif) run by the
engine against the independent solve_ivp oracle (tests/oracle_linear.py, due_inputs="apply":
an input to a neuron due to fire at that instant is applied and the neuron still fires), and
against closed forms: recurrent networks with delays (zero ones too), ports, sources and
refractory periods; per-neuron parameters (with the degenerate tau_s == tau_m branch); a run
split in two; brief threshold crossings; the sparse engine against the reference loop over
10^4 spikes of each model, Poisson inputs and sources on both, two equal current time
constants as one current; refractory clamping; ModelErrors of ill-formed models;
states at or over threshold (exactly at it too) firing at once. A run split in two equals one
run to 1e-12 relative, not bit for bit: the split moves every state to the split time.

The oracle's A, b, c, theta, reset and ports are built from the model itself (its SymPy
system at the network's parameter values), so these tests follow the model files."""
import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy.optimize import brentq

import sparseprop as spp
from oracle_linear import lif_exp_voltage, linear_spikes

SHIPPED = ("lif_exp", "lif_exp2", "lif_alpha", "alif")
REFRACTORY = 2.0
TIME_TOL = 1e-8          # ms: spike times engine vs oracle


# -- the oracle's arguments from a network ------------------------------------------------------

def _symbols(model):
    """name -> SymPy symbol of every parameter, state variable and w the model's expressions use."""
    exprs = [model.system.A, model.system.b, sp.sympify(model.theta), *map(sp.sympify, model.c)]
    for statements in [model.reset_statements, *model.jump_statements.values()]:
        exprs += [sp.sympify(e) for _, _, e in statements]
    found = {}
    for e in exprs:
        for s in e.free_symbols:
            found[s.name] = s
    return found


def _value(expr, symbols, values):
    """A float: expr with every symbol by name from `values`."""
    expr = sp.sympify(expr)
    subs = {symbols[k]: v for k, v in values.items() if k in symbols}
    out = expr.subs(subs)
    assert not out.free_symbols, f"{expr} left {out.free_symbols}"
    return float(out)


def _statement_value(model, symbols, target, op, expr, values):
    """(op, value) of `target op expr` for the oracle: ('set', c) or ('add', c) (w kept)."""
    if op == "=":
        return "set", _value(expr, symbols, values)
    assert op == "aug", op
    delta = sp.sympify(expr) - symbols[target]
    assert not delta.has(*[symbols[v] for v in model.variables if v in symbols]), delta
    return "add", delta


def oracle_args(net):
    """The keyword arguments of linear_spikes for `net` at its current state (time 0)."""
    model, n = net.model, net.n
    names = net.kernels.parameter_names
    params = net.parameters
    per = [{p: float(np.broadcast_to(np.asarray(params[p], float), (n,))[i]) for p in names}
           for i in range(n)]
    symbols = _symbols(model)
    A = np.array([[[_value(a, symbols, per[i]) for a in row] for row in model.system.A.tolist()]
                  for i in range(n)])
    b = np.array([[_value(e, symbols, per[i]) for e in model.system.b] for i in range(n)])
    c = np.array([_value(e, symbols, per[0]) for e in model.c])
    theta = np.array([_value(model.theta, symbols, per[i]) for i in range(n)])
    reset = []
    for target, op, expr in model.reset_statements:
        kind, value = _statement_value(model, symbols, target, op, expr, per[0])
        reset.append((model.variables.index(target), kind, _value(value, symbols, per[0])))
    port_var, port_gain = [], []
    for port in model.ports:
        (target, op, expr), = model.jump_statements[port]
        kind, delta = _statement_value(model, symbols, target, op, expr, per[0])
        assert kind == "add" and sp.diff(delta, symbols["w"], 2) == 0   # linear in w
        port_var.append(model.variables.index(target))
        port_gain.append(_value(sp.sympify(delta).subs(symbols["w"], 1), symbols, per[0]))
    pre, post, w = net.synapses()
    delay = net.delays()
    ports = (np.zeros(len(pre), dtype=np.int64) if net.csr.ports is None
             else net.csr.ports.astype(np.int64))
    gain = np.array(port_gain)[ports]
    ids, times, offset = [], [], 0
    for s in net.sources:
        ids.append(np.asarray(s.indices) + offset)
        times.append(np.asarray(s.times))
        offset += s.n
    sources = (np.concatenate(ids), np.concatenate(times)) if ids else None
    x0 = np.column_stack([net.state[v] for v in model.variables])
    return dict(A=A, b=b, c=c, theta=theta, reset=reset, x0=x0, pre=pre, post=post,
                weight=gain * w, delay=delay, port=ports, port_var=port_var,
                refractory=net.refractory, sources=sources, due_inputs="apply")


# -- random recurrent networks ------------------------------------------------------------------

def _edges(rng, n, k, zero_fraction=0.15):
    """k out-edges per neuron (no autapses), mixed-sign weights, delays multiples of 0.1 ms."""
    pre = np.repeat(np.arange(n), k)
    post = (pre + rng.integers(1, n, pre.size)) % n
    w = np.where(rng.random(pre.size) < 0.6, 1.0, -1.0) * rng.uniform(0.05, 0.3, pre.size)
    d = rng.integers(1, 21, pre.size) * 0.1
    d[rng.random(pre.size) < zero_fraction] = 0.0
    return pre, post, w, d


def _initial_state(model, rng, n):
    state = {"v": rng.uniform(0.0, 0.95, n)}
    for v in model.variables[1:]:
        state[v] = rng.uniform(0.0, 0.3, n) if v == "a" else rng.uniform(-0.1, 0.2, n)
    return state


DRIVE = {"lif_exp": 1.2, "lif_exp2": 1.2, "lif_alpha": 1.2, "alif": 1.5}   # Ie
STIM_TIMES = np.array([0.5, 3.25, 7.125, 7.125, 12.0, 20.7, 33.3])
STIM_INDICES = np.array([0, 1, 0, 1, 1, 0, 1])


def recurrent_network(model, seed, n=30, k=4, parameters=None, initial_state=None):
    """n neurons of `model` with k random out-edges each, two stimulus sources with a few
    precise spikes (into 10 random neurons), random initial states (or `initial_state`)."""
    rng = np.random.default_rng(seed)
    edges = _edges(rng, n, k)
    targets = rng.choice(n, 10, replace=False)
    state = _initial_state(model, rng, n)
    return network(model, n, edges, targets, initial_state or state, parameters, seed)


def network(model, n, edges, targets, initial_state, parameters=None, seed=None):
    """n neurons of `model` with synapses edges = (pre, post, w, delay) and two stimulus
    sources (STIM_*) of 5 synapses each into `targets` (weight 0.4). lif_exp2: positive weights
    to port 'exc', negative ones to 'inh'. Refractory period 2 ms, Ie = DRIVE."""
    pre, post, w, d = (np.asarray(a) for a in edges)
    stim = spp.SpikeSource("stim", 2, STIM_INDICES, STIM_TIMES)
    s_pre = np.repeat([0, 1], 5)
    s_w = np.full(10, 0.4)
    s_d = np.array([0.0, 0.2, 0.0, 1.0, 0.5] * 2)
    if len(model.ports) > 1:
        exc, inh = w > 0, w < 0
        projections = [
            spp.Projection("N", "N", spp.from_edges(pre[exc], post[exc], w[exc], delay=d[exc]),
                           port="exc"),
            spp.Projection("N", "N", spp.from_edges(pre[inh], post[inh], w[inh], delay=d[inh]),
                           port="inh"),
            spp.Projection("stim", "N", spp.from_edges(s_pre, targets, s_w, delay=s_d),
                           port="exc")]
    else:
        projections = [spp.Projection("N", "N", spp.from_edges(pre, post, w, delay=d)),
                       spp.Projection("stim", "N", spp.from_edges(s_pre, targets, s_w,
                                                                  delay=s_d))]
    values = {"refractory": REFRACTORY, "Ie": DRIVE[model.name]}
    values.update(parameters or {})
    return spp.build_network(model, [spp.Population("N", n, parameters=values), stim],
                             projections, seed=seed, initial_state=initial_state)


def compare_with_oracle(net, duration, min_spikes=200):
    """Run net for `duration` ms and the oracle on the same network; the spike orders are
    equal and the times agree to TIME_TOL. Returns the largest time difference."""
    args = oracle_args(net)
    res = net.run(duration=duration)
    assert res.i.size >= min_spikes, f"only {res.i.size} spikes"
    assert res.source_i.size == STIM_TIMES.size
    oi, ot = linear_spikes(count=None, t_max=duration, **args)
    assert oi.size == res.i.size, (oi.size, res.i.size)
    first = np.flatnonzero(oi != res.i)
    assert first.size == 0, (f"order differs first at spike {first[0]}: engine "
                             f"{res.i[first[0]]} at {res.t[first[0]]}, oracle {oi[first[0]]} at "
                             f"{ot[first[0]]}")
    err = float(np.max(np.abs(res.t - ot)))
    assert err < TIME_TOL, err
    # irregular, not exploding: every neuron fires, none saturates its refractory bound
    counts = np.bincount(res.i, minlength=net.n)
    assert counts.min() >= 1 and counts.max() < duration / REFRACTORY / 2
    return err


# -- 1. shipped models in recurrent networks ----------------------------------------------------

DURATION = 160.0


@pytest.mark.parametrize("name", SHIPPED)
def test_recurrent_network_matches_oracle(linear_models, name):
    model = linear_models[name]
    net = recurrent_network(model, seed=11)
    if len(model.ports) > 1:   # both ports carry synapses
        assert set(np.unique(net.csr.ports)) == {0, 1}
    assert np.any(net.delays() == 0.0) and np.any(net.delays() > 0.0)
    err = compare_with_oracle(net, DURATION)
    print(f"{name}: max |t_engine - t_oracle| = {err:.3g} ms")


@pytest.mark.parametrize("name", SHIPPED)
def test_input_to_a_neuron_due_at_that_instant_is_applied(linear_models, name):
    """Neurons 0 and 1 start identical, so they reach threshold at the same instant; neuron 0
    fires first (index order) and its zero-delay inhibition reaches neuron 1, which is due:
    the input is applied and neuron 1 still fires at that instant (due_inputs="apply").
    Its later spikes depend on that input: the oracle's other rule ("lost") differs."""
    model = linear_models[name]
    n = 4
    edges = ([0, 1, 0, 2, 1, 2, 3, 3], [1, 0, 2, 0, 2, 1, 0, 1],
             [-0.5, -0.4, 0.3, 0.2, 0.25, -0.1, 0.15, 0.2],
             [0.0, 0.0, 0.7, 0.0, 1.3, 0.4, 0.0, 0.1])
    state = {v: np.zeros(n) for v in model.variables}
    state["v"] = np.array([0.9, 0.9, 0.2, 0.5])
    state[model.variables[1]] = np.array([0.1, 0.1, 0.0, -0.1])
    net = network(model, n, edges, np.array([2, 3, 2, 3, 2, 3, 2, 3, 2, 3]), state)
    args = oracle_args(net)
    res = net.run(duration=100.0)
    assert res.i[:2].tolist() == [0, 1] and res.t[0] == res.t[1]
    oi, ot = linear_spikes(count=None, t_max=100.0, **args)
    assert res.i.size >= 20
    np.testing.assert_array_equal(res.i, oi)
    assert np.max(np.abs(res.t - ot)) < TIME_TOL
    li, lt = linear_spikes(count=None, t_max=100.0, **dict(args, due_inputs="lost"))
    assert li.size != oi.size or np.max(np.abs(lt - ot)) > 1e-3


@pytest.mark.parametrize("name", ["lif_exp", "alif"])
def test_identical_neurons_stay_tied_across_renormalisations(linear_models, name):
    """Eight identical neurons (one state) driven by the same input spikes have identical
    histories, so each spike instant is one tie, fired in index order, for 1 s (over 200
    spikes); the engine renormalises its times every 8 events (between instants, so that
    every key of one instant is computed in the same frame: (s + c) - Phi and (s - Phi) + c
    can differ in the last place, and a key refined or searched on either side of a
    renormalisation would split the tie)."""
    model, n = linear_models[name], 8
    rng = np.random.default_rng(3)
    times = np.sort(rng.uniform(0.0, 1000.0, 600))
    source = spp.SpikeSource("in", 1, np.zeros(times.size, np.int64), times)
    net = spp.build_network(
        model, [spp.Population("N", n, parameters={"refractory": REFRACTORY,
                                                    "Ie": DRIVE[name]}), source],
        [spp.Projection("in", "N", spp.from_edges(np.zeros(n, np.int64), np.arange(n),
                                                   np.full(n, 0.05)))],
        initial_state={v: 0.0 for v in model.variables})
    res = net.run(duration=1000.0)
    groups = res.i.size // n
    assert groups >= 25 and res.i.size == groups * n
    np.testing.assert_array_equal(res.i, np.tile(np.arange(n), groups))
    assert np.all(res.t.reshape(groups, n) == res.t[::n, None])


# -- 2. per-neuron parameters -------------------------------------------------------------------

def test_per_neuron_parameters_match_oracle(linear_models):
    """lif_exp with tau_s and Ie per neuron (the time-keyed engine); neuron 3 has
    tau_s == tau_m exactly, the degenerate branch with t e^(-t/tau) terms."""
    model, n = linear_models["lif_exp"], 30
    rng = np.random.default_rng(5)
    tau_s = rng.uniform(1.0, 8.0, n)
    tau_s[3] = model.parameters["tau_m"]
    Ie = rng.uniform(1.1, 1.3, n)
    net = recurrent_network(model, seed=7, n=n, parameters={"tau_s": tau_s, "Ie": Ie})
    assert net.heterogeneous
    args = oracle_args(net)
    assert args["A"][3, 0, 0] == args["A"][3, 1, 1]          # the degenerate neuron
    assert np.allclose(args["A"][:, 1, 1], -1 / tau_s, rtol=0, atol=1e-15)
    err = compare_with_oracle(net, DURATION)
    print(f"lif_exp per-neuron: max |t_engine - t_oracle| = {err:.3g} ms")


def test_degenerate_branch_neuron_alone(linear_models):
    """One neuron with tau_s == tau_m, kicked by inputs: times against the closed form
    v(t) = Ie + (v0 - Ie) e^(-t/tau) + I0 t/tau e^(-t/tau) (brentq)."""
    model = linear_models["lif_exp"]
    tau, Ie = model.parameters["tau_m"], 1.2
    k = model.compile()
    for v0, I0 in [(0.0, 0.0), (0.3, 0.4), (0.9, -0.5), (-0.2, 2.0)]:
        def v(t):
            return Ie + (v0 - Ie) * math.exp(-t / tau) + I0 * t / tau * math.exp(-t / tau)
        hi = 0.5
        while v(hi) < 1.0:
            hi += 0.5
        expected = brentq(lambda t: v(t) - 1.0, 0.0, hi, xtol=1e-15, rtol=1e-15)
        got = k.next_crossing([v0, I0], tau_s=tau, Ie=Ie)
        assert abs(got - expected) < 1e-10, (v0, I0, got, expected)
        x = k.flow([v0, I0], 1.7, tau_s=tau, Ie=Ie)
        assert abs(x[0] - v(1.7)) < 1e-14 and abs(x[1] - I0 * math.exp(-1.7 / tau)) < 1e-15


# -- 3. continuation ----------------------------------------------------------------------------

def _split_runs(model, **stop):
    """(one run of 160 ms, the two halves' results, the two networks at their ends); `stop`:
    how the first half ends (duration=80 or max_spikes=k)."""
    whole = recurrent_network(model, seed=3)
    one = whole.run(duration=DURATION)
    halves = recurrent_network(model, seed=3)
    first = halves.run(**stop)
    split = halves.t
    # something is under way at the split: spikes in flight, refractory neurons
    pre, _, _ = halves.synapses()
    delay = halves.delays()
    in_flight = [s for j, t in zip(first.i, first.t) for s in np.flatnonzero(pre == j)
                 if t + delay[s] > split]
    assert len(in_flight) > 0 and halves.current.queue.time.size > 0
    assert np.any(halves.t_free > split)
    second = halves.run(duration=DURATION - split)
    assert halves.t == whole.t == DURATION
    assert one.i.size >= 200
    return one, (first, second), whole, halves


@pytest.mark.parametrize("stop", [{"duration": DURATION / 2}, {"max_spikes": 120}],
                         ids=["duration", "max_spikes"])
@pytest.mark.parametrize("name", ["lif_exp2", "alif"])
def test_two_runs_continue_one_run(linear_models, name, stop):
    """Two runs (split at 80 ms, or at the 120th spike) give the spikes of one run of 160 ms
    (same order, times to 1e-12 relative, as the 1-D engines' tests) and its final state, with
    spikes in flight and refractory periods under way at the split."""
    model = linear_models[name]
    one, (first, second), whole, halves = _split_runs(model, **stop)
    np.testing.assert_array_equal(np.concatenate([first.i, second.i]), one.i)
    np.testing.assert_allclose(np.concatenate([first.t, second.t]), one.t, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(np.concatenate([first.source_t, second.source_t]),
                                  one.source_t)
    for v in model.variables:
        np.testing.assert_allclose(halves.state[v], whole.state[v], rtol=0, atol=1e-12)


# -- 4. brief threshold crossings (issue acceptance) --------------------------------------------

TAU_M, TAU_S, IE_SUB = 10.0, 2.0, 0.9     # Ie < 1: the neuron fires only when inputs lift it


def _peaking_state(t_peak, excess):
    """(v0, I0) from which lif_exp's v peaks at t_peak with value 1 + excess (mpmath, 40
    digits): v(t) = Ie(1 - Em) + v0 Em + I0 K, Em = e^(-t/tau_m),
    K = tau_s/(tau_s - tau_m) (e^(-t/tau_s) - Em); v(t_peak) = 1 + excess and v'(t_peak) = 0
    are two linear equations in (v0, I0)."""
    with mpmath.workdps(40):
        tm, ts, Ie, t = (mpmath.mpf(x) for x in (TAU_M, TAU_S, IE_SUB, t_peak))
        Em, Es = mpmath.exp(-t / tm), mpmath.exp(-t / ts)
        g = ts / (ts - tm)
        M = mpmath.matrix([[Em, g * (Es - Em)], [-Em / tm, g * (-Es / ts + Em / tm)]])
        rhs = mpmath.matrix([1 + mpmath.mpf(excess) - Ie * (1 - Em), -Ie * Em / tm])
        v0, I0 = mpmath.lu_solve(M, rhs)
        return float(v0), float(I0)


def _closed_form_crossings(v0, I0, t_peak):
    """The upward and the downward threshold crossing around t_peak (brentq on the closed
    form, tests/oracle_linear.lif_exp_voltage)."""
    def g(t):
        return float(lif_exp_voltage(t, v0, I0, IE_SUB, TAU_M, TAU_S)) - 1.0
    assert g(0.0) < 0 and g(t_peak) > 0 and g(2 * t_peak) < 0
    up = brentq(g, 0.0, t_peak, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    down = brentq(g, t_peak, 2 * t_peak, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    return up, down


T_PEAK = 3.0


def test_brief_crossing_found_by_next_crossing(linear_models):
    k = linear_models["lif_exp"].compile()
    v0, I0 = _peaking_state(T_PEAK, 1e-10)
    up, down = _closed_form_crossings(v0, I0, T_PEAK)
    assert 0 < down - up < 1e-3            # over threshold for less than a microsecond
    got = k.next_crossing([v0, I0], Ie=IE_SUB, tau_m=TAU_M, tau_s=TAU_S)
    assert abs(got - up) < 1e-9, (got, up, got - up)


def test_peak_just_below_threshold_is_no_crossing(linear_models):
    k = linear_models["lif_exp"].compile()
    v0, I0 = _peaking_state(T_PEAK, -1e-9)
    peak = float(lif_exp_voltage(T_PEAK, v0, I0, IE_SUB, TAU_M, TAU_S))
    assert 1 - 1.1e-9 < peak < 1 - 0.9e-9
    assert k.next_crossing([v0, I0], Ie=IE_SUB, tau_m=TAU_M, tau_s=TAU_S) == math.inf


ARRIVAL = 4.5     # the source spikes at 4.0, delay 0.5


def _kicked_neuron(model, excess):
    """One subthreshold lif_exp neuron that reaches, at the input's arrival (weight I0, I = 0
    before), the state (v0, I0) peaking 1 + excess at ARRIVAL + T_PEAK."""
    v0, I0 = _peaking_state(T_PEAK, excess)
    with mpmath.workdps(40):   # v before: Ie + (v_init - Ie) e^(-t/tau_m) = v0 at ARRIVAL
        v_init = float(IE_SUB + (v0 - mpmath.mpf(IE_SUB)) * mpmath.exp(ARRIVAL / TAU_M))
    assert 0 <= v_init < 1
    stim = spp.SpikeSource("stim", 1, [0], [ARRIVAL - 0.5])
    net = spp.build_network(
        model, [spp.Population("N", 1, parameters={"Ie": IE_SUB, "tau_m": TAU_M, "tau_s": TAU_S,
                                                   "refractory": REFRACTORY}), stim],
        [spp.Projection("stim", "N", spp.from_edges([0], [0], [I0], delay=0.5))],
        initial_state={"v": v_init, "I": 0.0})
    return net, v0, I0


def test_brief_crossing_through_a_network(linear_models):
    net, v0, I0 = _kicked_neuron(linear_models["lif_exp"], 1e-10)
    up, down = _closed_form_crossings(v0, I0, T_PEAK)
    assert down - up < 1e-3
    res = net.run(duration=50.0)
    assert res.i.tolist() == [0]
    assert abs(res.t[0] - (ARRIVAL + up)) < 1e-9, res.t[0] - (ARRIVAL + up)


def test_peak_just_below_threshold_through_a_network(linear_models):
    net, _, _ = _kicked_neuron(linear_models["lif_exp"], -1e-9)
    v0, I0 = _peaking_state(T_PEAK, -1e-9)
    res = net.run(duration=50.0)
    assert res.i.size == 0 and res.source_i.size == 1
    v = float(lif_exp_voltage(50.0 - ARRIVAL, v0, I0, IE_SUB, TAU_M, TAU_S))
    assert abs(net.state["v"][0] - v) < 1e-12


# -- 5. ill-formed models -----------------------------------------------------------------------

TWO = "dv/dt = (I - v)/tau : 1\ndI/dt = -I/tau_s : 1"
TWO_PARAMS = {"tau": 10.0, "tau_s": 2.0}


@pytest.mark.parametrize("equations, threshold, reset, on_pre, names", [
    ("dv/dt = (v**2 + I - v)/tau : 1\ndI/dt = -I/tau_s : 1", "v >= 1", "v = 0", "I += w",
     ["v**2", "not linear"]),
    (TWO, "u >= 1", "v = 0", "I += w", ["'u'"]),
    (TWO, "v >= 1", "u = 0", "I += w", ["'u'", "reset"]),
    (TWO, "v >= 1", "v = 0", "J += w", ["'J'", "on_pre"]),
    (TWO, "v >= 1", "v = 0", {"exc": "I += w", "inh": "I += w*K"}, ["'K'"]),
], ids=["nonlinear", "threshold_variable", "reset_variable", "on_pre_variable",
        "on_pre_identifier"])
def test_ill_formed_model_is_refused(equations, threshold, reset, on_pre, names):
    with pytest.raises(spp.ModelError) as info:
        spp.NeuronModel(equations, threshold, reset, on_pre=on_pre, parameters=TWO_PARAMS,
                        name="bad")
    for name in names:
        assert name in str(info.value), (name, str(info.value))


def test_unknown_port_is_refused(linear_models):
    with pytest.raises(spp.ModelError) as info:
        spp.build_network(linear_models["lif_exp"], [spp.Population("E", 5)], [spp.Projection(
            "E", "E", spp.fixed_outdegree(2, 0.1, seed=1), port="nope")])
    assert "'nope'" in str(info.value) and "pre" in str(info.value)
    with pytest.raises(spp.ModelError) as info:   # lif_exp2 has exc and inh only
        spp.build_network(linear_models["lif_exp2"], [spp.Population("E", 5)], [spp.Projection(
            "E", "E", spp.fixed_outdegree(2, 0.1, seed=1), port="pre")])
    assert "'pre'" in str(info.value) and "exc" in str(info.value)


# -- 6. refractory periods ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["lif_exp", "alif"])
def test_refractory_clamps_v_while_currents_evolve(linear_models, name):
    """A neuron over threshold fires at t = 0; during its 2 ms refractory period v stays exactly
    0 while I decays and takes an input at 0.7 ms (and alif's a, raised by b, decays); after
    it, v follows the closed form from 0."""
    model = linear_models[name]
    p = dict(model.parameters)
    Ie, tm, ts = p["Ie"], p["tau_m"], p["tau_s"]
    I0, w, t_in = 0.5, 0.25, 0.7
    state = {"v": 1.001, "I": I0}
    if name == "alif":
        state["a"] = 0.2
    stim = spp.SpikeSource("stim", 1, [0], [t_in])
    net = spp.build_network(model, [spp.Population("N", 1, parameters={
        "refractory": REFRACTORY}), stim],
        [spp.Projection("stim", "N", spp.from_edges([0], [0], [w]))], initial_state=state)
    res = net.run(duration=1.3)
    assert res.i.tolist() == [0] and res.t.tolist() == [0.0]
    assert net.t_free[0] == REFRACTORY

    def current(t):
        return I0 * math.exp(-t / ts) + (w * math.exp(-(t - t_in) / ts) if t >= t_in else 0.0)

    assert net.state["v"][0] == 0.0
    assert abs(net.state["I"][0] - current(1.3)) < 1e-14
    if name == "alif":
        a_expected = (0.2 + p["b"]) * math.exp(-1.3 / p["tau_a"])
        assert abs(net.state["a"][0] - a_expected) < 1e-14
    net.run(duration=REFRACTORY - 1.3)          # ends exactly at the refractory end
    assert net.state["v"][0] == 0.0
    assert abs(net.state["I"][0] - current(REFRACTORY)) < 1e-14
    res = net.run(duration=1.0)                 # free again: v rises from 0
    assert res.i.size == 0
    if name == "lif_exp":
        v = float(lif_exp_voltage(1.0, 0.0, current(REFRACTORY), Ie, tm, ts))
        assert abs(net.state["v"][0] - v) < 1e-14
        assert v > 0.05
    else:
        assert net.state["v"][0] > 0.05
    assert abs(net.state["I"][0] - current(REFRACTORY + 1.0)) < 1e-14


# -- a state at or over threshold fires at once ------------------------------------------------

def _threshold_states(model, v):
    """States with v given, I (the second variable) such that v rises, stays or falls there
    (Ie + I - 1 = 0.05, ..., -0.05 at the network's drive), the other variables 0."""
    d = len(model.variables)
    out = []
    for I in [-0.15, 0.1, 1 - DRIVE[model.name] - 0.05]:
        x = np.zeros(d)
        x[0], x[1] = v, I
        out.append(x)
    return out


def _fires_at_once(model, v):
    """(next_crossing of every _threshold_states, the spikes of a network whose neuron 0 starts
    at the last (falling) one, the others at rest) -- at the network's parameter values."""
    k = model.compile()
    keys = [k.next_crossing(x, Ie=DRIVE[model.name]) for x in _threshold_states(model, v)]
    state = np.zeros((30, len(model.variables)))
    state[0] = _threshold_states(model, v)[-1]
    net = recurrent_network(model, seed=11, initial_state=dict(zip(model.variables, state.T)))
    res = net.run(duration=0.4)
    return keys, res


@pytest.mark.parametrize("name", SHIPPED)
def test_state_over_threshold_fires_at_once(linear_models, name):
    keys, res = _fires_at_once(linear_models[name], 1.001)
    assert keys == [0.0, 0.0, 0.0]
    assert res.i.tolist() == [0] and res.t.tolist() == [0.0]


@pytest.mark.parametrize("name", SHIPPED)
def test_state_exactly_at_threshold_fires_at_once(linear_models, name):
    keys, res = _fires_at_once(linear_models[name], 1.0)
    assert keys == [0.0, 0.0, 0.0]
    assert res.i.tolist() == [0] and res.t.tolist() == [0.0]


# -- the two engines: sparse (lower-bound keys, heap) against the conventional loop --------------
# (in this file so that one test worker compiles each model's loops)

def ei_network(model, seed=5, inputs=None, sources=None):
    """An E/I network of 40 neurons with delays (some 0), a refractory period and per-neuron
    drives; E projects on the model's first port, I on its last. Inhibition dominates (as in
    DESIGN.md 3.4): the engines' roundings are not amplified."""
    rng = np.random.default_rng(seed)
    first, last = model.ports[0], model.ports[-1]
    delays = lambda n: rng.integers(0, 30, n) * 0.1   # noqa: E731
    projections = [
        spp.Projection("E", "E", spp.fixed_outdegree(3, 0.05, seed=1, delay=delays(30 * 3)), first),
        spp.Projection("E", "I", spp.fixed_outdegree(2, 0.05, seed=2, delay=delays(30 * 2)), first),
        spp.Projection("I", "E", spp.fixed_outdegree(4, -0.8, seed=3, delay=delays(10 * 4)), last),
        spp.Projection("I", "I", spp.fixed_outdegree(2, -0.8, seed=4, delay=delays(10 * 2)), last)]
    drive = rng.uniform(1.05, 1.3, 40)
    populations = [spp.Population("E", 30, parameters={"Ie": drive[:30], "refractory": 2.0}),
                   spp.Population("I", 10, parameters={"Ie": drive[30:], "refractory": 2.0})]
    if sources is not None:
        populations.append(sources)
        projections.append(spp.Projection(sources.name, "E", spp.fixed_outdegree(
            5, 0.5, seed=6, delay=1.0), first))
    return spp.build_network(model, populations, projections, seed=seed, inputs=inputs,
                            initial_state={model.variables[0]: rng.uniform(0, 1, 40)})


@pytest.mark.parametrize("name", SHIPPED)
def test_sparse_equals_reference_over_ten_thousand_spikes(name):
    model = spp.load_model(name)
    runs = [ei_network(model).run(max_spikes=10_000, engine=engine)
            for engine in ("sparse", "reference")]
    a, b = runs
    assert a.n_spikes == b.n_spikes == 10_000
    differ = np.flatnonzero(a.i != b.i)
    k = differ[0] if differ.size else a.n_spikes
    assert k == a.n_spikes, f"{name}: the spike order parts at spike {k}"
    relative = np.abs(a.t - b.t) / np.maximum(1.0, np.abs(a.t))
    assert relative.max() < 1e-12
    assert len(set(a.i.tolist())) >= 35          # (nearly) every neuron took part


def test_poisson_input_and_sources_on_both_engines():
    model = spp.load_model("lif_exp")
    drive = spp.PoissonInput("E", 20, 5.0, 0.2)
    source = spp.PoissonSource("ext", 5, 20.0)
    runs = [ei_network(model, inputs=[drive], sources=source).run(duration=300.0, engine=e)
            for e in ("sparse", "reference")]
    a, b = runs
    assert a.n_spikes > 200 and np.array_equal(a.i, b.i)
    assert np.max(np.abs(a.t - b.t)) < 1e-9
    assert np.max(np.abs(a.source_t - b.source_t)) < 1e-9 and a.source_t.size > 20


def test_two_currents_with_equal_time_constants_are_one_current():
    # lif_exp2 with tau_exc == tau_inh: g(t) has two terms of one rate; it must equal lif_exp
    # fed the same inputs on its single current
    two = spp.load_model("lif_exp2", tau_exc=2.0, tau_inh=2.0)
    one = spp.load_model("lif_exp", tau_s=2.0)
    a = ei_network(two).run(max_spikes=2000)
    b = ei_network(one).run(max_spikes=2000)
    assert np.array_equal(a.i, b.i)
    assert np.max(np.abs(a.t - b.t) / np.maximum(1.0, b.t)) < 1e-12


# -- teaching views --------------------------------------------------------------------------

def test_explain_shows_the_branches_and_the_threshold_terms():
    text = spp.load_model("lif_exp").explain().text
    assert "A = [[-1/tau_m, 1/tau_m], [0, -1/tau_s]]" in text
    assert "where Eq(tau_m, tau_s):" in text and "v(t) = Ie + (I0*t/tau_s - Ie + v0)" in text
    assert "input on port 'pre': I -> I + w" in text
    assert "3 terms, rates 0, -1/tau_m, -1/tau_s" in text
    worst = float(text.rsplit("discrepancy ", 1)[1])
    assert worst < 1e-15


def test_the_models_command_lists_equations(capsys):
    from sparseprop.cli import main
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "lif_exp2" in out and "dIinh/dt = -Iinh/tau_inh : 1" in out
    assert "da/dt = -a/tau_a : 1" in out


def test_parameters_that_divide_by_zero_are_refused():
    with pytest.raises(spp.ModelError, match="tau_s=0 makes the equations infinite"):
        spp.load_model("lif_exp", tau_s=0.0)
    with pytest.raises(spp.ModelError, match=r"neuron 1 \(Ie=1.1, tau_m=10, tau_s=0\)"):
        spp.Network("lif_exp", 3, spp.fixed_outdegree(1, 0.1, seed=1),
                    parameters={"tau_s": [2.0, 0.0, 2.0]})


def test_a_table_with_ports_the_model_lacks_is_refused():
    from sparseprop.connectivity import CSR
    table = CSR(2, [0, 1, 1], [1], weight=0.1, ports=[1])   # port 1: lif_exp has one port
    with pytest.raises(spp.ModelError, match="synapse 0 uses input port 1, but lif_exp has 1"):
        spp.Network("lif_exp", 2, table)
    with pytest.raises(spp.ModelError, match="uses input port 1, but lif has 1"):
        spp.Network("lif", 2, table)
    spp.Network("lif_exp2", 2, table)                          # exc, inh: port 1 is inh


def test_time_constants_near_each_other_are_exact_or_refused_with_the_reason():
    """tau_m 10 % and 0.1 % from tau_s: the generic branch, to 1e-12 of the closed form; within
    3e-4 it would cancel: a ModelError that says so (equal values take their exact branch)."""
    x0 = np.array([0.3, -0.7])
    for tau_m in (5.5, 5.005):
        kernels = spp.load_model("lif_exp", tau_m=tau_m, tau_s=5.0).compile()
        for t in (0.0, 0.7, 3.0, 40.0):
            want = lif_exp_voltage(t, 0.3, -0.7, 1.1, tau_m, 5.0)
            assert abs(kernels.flow(x0, t)[0] - want) <= 1e-12 * (1 + abs(want))
    with pytest.raises(spp.ModelError, match="nearly coincide"):
        spp.load_model("lif_exp", tau_m=5.0015, tau_s=5.0).compile()
    with pytest.raises(spp.ModelError, match=r"neuron 1 .*nearly coincide"):
        spp.Network("lif_exp", 2, spp.fixed_outdegree(1, 0.1, seed=1),
                    parameters={"tau_m": [10.0, 2.00001]})


def test_gradients_on_the_degenerate_branch():
    """tau_m == tau_s (the t e^(-t/tau) branch): dL/dtau_m + dL/dtau_s against a central
    difference along tau_m = tau_s (which stays on that branch) to 1e-6, and each partial
    against a Richardson-extrapolated difference across the generic branch (steps 0.4 % and
    0.2 %) to 1e-5, over 40 spikes (measured 1e-10 and 7e-10). The differences need the same
    spike order at tau +- 0.4 % and no grazing threshold crossing, whose curvature spoils
    steps this large: over 80 spikes most draws have a swap or a graze, and over 40 the
    networks of seeds 4 and 8 a graze (their differences are off by 1e-4)."""
    n = 12
    rng = np.random.default_rng(4)
    weights, v0 = rng.uniform(-0.2, 0.5, n * 3), rng.uniform(0, 0.9, n)

    def run(tau_m, tau_s, tape=False):
        net = spp.Network(spp.load_model("lif_exp", tau_m=tau_m, tau_s=tau_s), n,
                          spp.fixed_outdegree(3, weights, seed=1, delay=0.7),
                          initial_state={"v": v0})
        return net.run(max_spikes=40, record_tape=tape)

    base = run(5.0, 5.0, tape=True)
    c = rng.normal(size=base.t.size)
    g = base.backward(c).parameters

    def difference(h, both=False, which="tau_m"):
        up, down = [run(5.0 + s * h if both or which == "tau_m" else 5.0,
                        5.0 + s * h if both or which == "tau_s" else 5.0) for s in (1, -1)]
        assert np.array_equal(up.i, base.i) and np.array_equal(down.i, base.i)
        return float(c @ (up.t - down.t)) / (2 * h)

    diagonal = g["tau_m"] + g["tau_s"]
    assert abs(difference(1e-6, both=True) - diagonal) <= 1e-6 * abs(diagonal)
    for which in ("tau_m", "tau_s"):
        coarse, fine = difference(0.02, which=which), difference(0.01, which=which)
        richardson = (4 * fine - coarse) / 3
        assert abs(richardson - g[which]) <= 1e-5 * abs(g[which]), (which, richardson, g)


def test_the_tape_keeps_a_state_row_per_input_and_per_spike(linear_models):
    """record_tape on lif_exp (d = 2): one row of d + 2 values per delivered input and per
    neuron spike, 8 (d + 2) bytes each (zero delays: every input of the run is delivered)."""
    net = spp.Network(linear_models["lif_exp"], 30, spp.fixed_outdegree(4, -0.2, seed=3), seed=4)
    res = net.run(max_spikes=300, record_tape=True)
    tape = res.tape
    out_degree = np.diff(net.csr.indptr)
    rows = int(out_degree[res.i].sum()) + res.i.size
    assert tape.entries.shape == (rows, 4) and tape.entries.dtype == np.float64
    assert tape.nbytes == 32 * rows + tape.marks.nbytes + tape.senders.nbytes
