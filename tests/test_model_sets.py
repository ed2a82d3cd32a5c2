"""Networks of several models (sparseprop.model_set): an lif_exp population beside an lif one.

Checked against: the independent solve_ivp oracle (tests/oracle_linear.py), with the two models
written out by hand as x' = A_i x + b_i in (v, I); the reference engine (10^4 spikes); the
single-model engines (a set's neurons that all use one model spike exactly as that model's own
network); central finite differences of the gradients. Every test uses the one set lif_exp+lif
(compiled once).
"""
import numpy as np
import pytest

import sparseprop as spp
from oracle_linear import linear_spikes
from sparseprop import Population, Projection, build_network, fixed_outdegree
from sparseprop.model_set import ModelSet

N_E, N_I = 24, 8
EXC = {"Ie": 1.15, "tau_m": 10.0, "tau_s": 2.0, "refractory": 2.0}
INH = {"I": 1.05, "tau": 8.0, "refractory": 1.0}


def mixed(seed=1, n_e=N_E, n_i=N_I, k=4, stim=True, initial_state=None, gain=1.0):
    """lif_exp population E (inputs to I, its current) and lif population I (inputs to v),
    recurrent (weights x gain; inhibition only with gain < 0), delays 0 (a fifth) or
    0.1-1.5 ms, a stimulus source into both."""
    rng = np.random.default_rng(seed)
    pops = [Population("E", n_e, EXC, model="lif_exp"), Population("I", n_i, INH, model="lif")]
    if stim:
        times = np.sort(rng.uniform(0.0, 40.0, 12))
        pops.append(spp.SpikeSource("stim", 2, rng.integers(0, 2, 12), times))

    def recipe(pre_n, w_low, w_high, s):
        w = rng.uniform(w_low, w_high, pre_n * k) * abs(gain)
        w = -np.abs(w) if gain < 0 else w
        d = rng.uniform(0.1, 1.5, pre_n * k) * (rng.uniform(size=pre_n * k) > 0.2)
        return fixed_outdegree(k, w, seed=s, delay=d)

    projections = [Projection("E", "E", recipe(n_e, 0.0, 0.6, 1)),
                   Projection("E", "I", recipe(n_e, 0.0, 0.15, 2)),
                   Projection("I", "E", recipe(n_i, -1.2, 0.0, 3)),
                   Projection("I", "I", recipe(n_i, -0.1, 0.0, 4))]
    if stim:
        projections += [Projection("stim", "E", recipe(2, 0.5, 1.0, 5)),
                        Projection("stim", "I", recipe(2, 0.1, 0.3, 6))]
    if initial_state is None:
        initial_state = {"v": rng.uniform(0.0, 0.9, n_e + n_i),
                         "I": rng.uniform(-0.2, 0.3, n_e + n_i)}
    return build_network(None, pops, projections, seed=seed, initial_state=initial_state)


def oracle_args(net):
    """linear_spikes' arguments for a mixed network, written from the models' equations by
    hand: state (v, I); lif_exp: v' = (Ie + I - v)/tau_m, I' = -I/tau_s, inputs to I; lif:
    v' = (I_drive - v)/tau, I' = 0 (unused), inputs to v (oracle port 1)."""
    n = net.n
    which = net.model_index
    P = net.parameters
    col = {name: np.broadcast_to(np.asarray(P[name], float), (n,)) for name in P}
    A, b = np.zeros((n, 2, 2)), np.zeros((n, 2))
    for i in range(n):
        if which[i] == 0:
            A[i] = [[-1 / col["tau_m"][i], 1 / col["tau_m"][i]], [0.0, -1 / col["tau_s"][i]]]
            b[i] = [col["Ie"][i] / col["tau_m"][i], 0.0]
        else:
            A[i] = [[-1 / col["tau"][i], 0.0], [0.0, 0.0]]
            b[i] = [col["I"][i] / col["tau"][i], 0.0]
    pre, post, w = net.synapses()
    ids, times, offset = [], [], 0
    for s in net.sources:
        ids.append(np.asarray(s.indices) + offset)
        times.append(np.asarray(s.times))
        offset += s.n
    state = net.state
    x0 = np.column_stack([state["v"], np.nan_to_num(state["I"])])
    return dict(A=A, b=b, c=np.array([1.0, 0.0]), theta=np.ones(n), reset=[(0, "set", 0.0)],
                x0=x0, pre=pre, post=post, weight=w, delay=net.delays(),
                port=(which[post] == 1).astype(np.int64), port_var=[1, 0],
                refractory=net.refractory, sources=(np.concatenate(ids), np.concatenate(times))
                if ids else None, due_inputs="apply")


def test_a_mixed_network_matches_the_oracle():
    net = mixed()
    assert isinstance(net.model, ModelSet) and net.model.name == "lif_exp+lif"
    assert list(net.model_index) == [0] * N_E + [1] * N_I
    args = oracle_args(net)
    res = net.run(duration=150.0)
    oi, ot = linear_spikes(count=None, t_max=150.0, **args)
    assert res.i.size >= 200 and np.array_equal(oi, res.i)
    assert np.max(np.abs(ot - res.t)) < 1e-8
    counts = np.bincount(res.i, minlength=net.n)   # both models fire
    assert np.mean(counts[:N_E] > 0) > 0.9 and counts[N_E:].min() >= 1


def test_sparse_equals_reference_over_ten_thousand_spikes():
    """Inhibitory coupling: 1.3e-13 relative was measured. (With the mixed-sign weights of the
    other tests the network is chaotic: the engines' rounding differences, 1e-15, grew to 1e-7
    relative over 10^4 spikes, even at 0.3 times those weights, in the same order.)"""
    runs = [mixed(seed=2, n_e=60, n_i=20, stim=False, gain=-1.0).run(max_spikes=10_000,
                                                                     engine=engine)
            for engine in ("sparse", "reference")]
    sparse, reference = runs
    assert np.array_equal(sparse.i, reference.i)
    assert np.max(np.abs(sparse.t - reference.t) / np.maximum(sparse.t, 1.0)) < 1e-12


def test_neurons_of_one_member_spike_as_that_models_own_network():
    """Every neuron of the set on model 0 (lif_exp): the same spikes, bit for bit, as a lif_exp
    network; every one on model 1 (lif, in the linear engine): the lif phase engine's first 150
    spikes to 1e-12 ms (the network is chaotic: the engines' rounding differences grow
    later)."""
    rng = np.random.default_rng(3)
    n = 40
    w = rng.uniform(-0.3, 0.5, n * 4)
    lif_exp, lif = spp.load_model("lif_exp"), spp.load_model("lif", I=1.2)
    the_set = ModelSet([lif_exp, lif])
    conn = fixed_outdegree(4, w, seed=7, delay=0.5)
    v0 = rng.uniform(0.0, 0.9, n)
    alone = spp.Network(lif_exp, n, conn, initial_state={"v": v0}).run(max_spikes=2000)
    in_set = spp.Network(the_set, n, conn, parameters={"model": 0.0},
                         initial_state={"v": v0}).run(max_spikes=2000)
    assert np.array_equal(alone.i, in_set.i) and np.array_equal(alone.t, in_set.t)
    alone = spp.Network(lif, n, conn, initial_state={"v": v0}).run(max_spikes=150)
    in_set = spp.Network(the_set, n, conn, parameters={"model": 1.0, "I": 1.2},
                         initial_state={"v": v0}).run(max_spikes=150)
    assert np.array_equal(alone.i, in_set.i)
    assert np.max(np.abs(alone.t - in_set.t)) < 1e-12


def test_state_and_parameters_of_a_mixed_network():
    net = mixed(stim=False)
    state = net.state
    assert np.all(np.isnan(state["I"][N_E:])) and np.all(np.isfinite(state["I"][:N_E]))
    assert net.parameters["model"].tolist() == [0.0] * N_E + [1.0] * N_I
    assert np.all(net.refractory[:N_E] == 2.0) and np.all(net.refractory[N_E:] == 1.0)
    default = build_network(None, [Population("E", 5, model="lif_exp"),
                                   Population("I", 3, model="lif")])
    v = default.state["v"]   # uniform between reset and threshold
    assert np.all((v >= 0.0) & (v < 1.0)) and np.unique(v).size == 8


def test_gradients_of_a_mixed_network_match_finite_differences():
    """dL/dw, dL/d delay, dL/d parameters of both models, dL/d initial state, against central
    differences (spike order unchanged), both engines."""
    base_net = mixed(seed=4)
    res = base_net.run(max_spikes=150, record_tape=True)
    c = np.random.default_rng(0).normal(size=res.t.size)
    grads = {engine: mixed(seed=4).run(max_spikes=150, record_tape=True, engine=engine)
             .backward(c) for engine in ("sparse", "reference")}
    g = grads["sparse"]
    for name in ("weight", "delay"):
        assert np.allclose(getattr(g, name), getattr(grads["reference"], name), rtol=1e-7,
                           atol=1e-9)
    assert "model" not in g.parameters

    def loss(net):
        out = net.run(max_spikes=150)
        assert np.array_equal(out.i, res.i)
        return float(c @ out.t)

    def central(change, h):
        up, down = mixed(seed=4), mixed(seed=4)
        change(up, h)
        change(down, -h)
        return (loss(up) - loss(down)) / (2 * h)

    pre, post, w = base_net.synapses()
    delays = base_net.delays()
    checked = 0
    for s in [int(k) for k in np.flatnonzero(delays > 0)[:4]] + [0, 5]:
        def move_w(net, h, s=s):
            weights = net.synapses()[2].copy()
            weights[s] += h
            net.set_weights(weights)
        want = central(move_w, 1e-6)
        assert abs(want - g.weight[s]) <= 1e-5 * abs(want) + 1e-6, (s, want, g.weight[s])
        checked += 1
    for s in [int(k) for k in np.flatnonzero(delays > 0)[:4]]:
        def move_d(net, h, s=s):
            d = net.delays().copy()
            d[s] += h
            net.set_delays(d)
        want = central(move_d, 1e-6)
        assert abs(want - g.delay[s]) <= 1e-5 * abs(want) + 1e-6, (s, want, g.delay[s])
        checked += 1
    for name in ("Ie", "tau_m", "tau_s", "I", "tau"):
        def move_p(net, h, name=name):
            value = np.array(np.broadcast_to(net.parameters[name], (net.n,)), dtype=float)
            value = value + h
            net.set_parameters(**{name: value})
        want = central(move_p, 1e-6)
        got = float(np.sum(g.parameters[name]))
        assert abs(want - got) <= 1e-5 * abs(want) + 1e-6, (name, want, got)
        checked += 1
    assert checked == 15


def test_what_a_mixed_network_refuses():
    with pytest.raises(spp.ModelError, match="qif cannot share a network with other models"):
        build_network(None, [Population("A", 3, model="lif_exp"), Population("B", 3, model="qif")])
    with pytest.raises(spp.ModelError, match="port 'inh' is not an input port of lif"):
        build_network(None, [Population("A", 3, model="lif_exp2"), Population("B", 3, model="lif")],
                      [Projection("A", "B", fixed_outdegree(1, 0.1, seed=1), port="inh")])
    with pytest.raises(spp.ModelError, match="population 'B' gives parameter 'Ie', which lif"):
        build_network(None, [Population("A", 3, model="lif_exp"),
                             Population("B", 3, {"Ie": 1.0}, model="lif")])
    with pytest.raises(spp.ModelError, match="population 'B' has no model"):
        build_network(None, [Population("A", 3, model="lif_exp"), Population("B", 3)])
    the_set = ModelSet([spp.load_model("lif_exp"), spp.load_model("lif")])
    with pytest.raises(spp.ModelError, match=r"parameter 'model' = 2.0 for neuron 1"):
        spp.Network(the_set, 2, fixed_outdegree(1, 0.1, seed=1), parameters={"model": [0, 2]})
    with pytest.raises(spp.ModelError, match="not distinct"):
        ModelSet([spp.load_model("lif"), spp.load_model("lif")])
    from sparseprop.connectivity import CSR
    ported = ModelSet([spp.load_model("lif_exp2"), spp.load_model("lif")])
    assert ported.ports == ("first", "exc", "inh", "pre")
    table = CSR(2, [0, 1, 1], [1], weight=0.1, ports=[2])   # 'inh' into neuron 1, a lif one
    with pytest.raises(spp.ModelError, match="port 'inh' of neuron 1, a lif neuron"):
        spp.Network(ported, 2, table, parameters={"model": [0, 1]})


def test_port_zero_is_each_members_first_port():
    """A Projection without port= and a PoissonInput use port 0: lif_exp2's 'exc' for its
    neurons, lif's 'pre' (v) for its; named ports by their index in the set."""
    the_set = ModelSet([spp.load_model("lif_exp2"), spp.load_model("lif")])
    jit = the_set.compile().jit
    columns = {v: k for k, v in enumerate(the_set.variables)}    # v, Iexc, Iinh
    for which, port, changed in ((0, 0, "Iexc"), (0, 1, "Iexc"), (0, 2, "Iinh"),
                                 (1, 0, "v"), (1, 3, "v")):
        row = np.array(list(the_set.parameters.values()), dtype=float)
        row[0] = which
        x = np.zeros(len(the_set.variables) + 3)
        jit.jump(x, 0.25, port, row)
        assert x[columns[changed]] == 0.25 and np.count_nonzero(x) == 1, (which, port, x)
