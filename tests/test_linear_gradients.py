"""Gradients of the reverse sweep through the shipped linear multi-variable models (lif_exp,
lif_exp2, lif_alpha, alif; DESIGN.md 3.7) against central finite differences of the exact
simulation, on both engines: dL/d weight, d delay, d model parameter (every one that enters the
dynamics), d initial state (every variable), d input spike time and d PoissonInput weight; the
two engines' gradients agree; a zero-delay autapse and dloss_dphase are refused.

Each model runs one small recurrent network (20 neurons in populations A and B, per-synapse
delays in [0.2, 2] ms with about 20 % zero, mixed-sign weights, a SpikeSource of 25 spikes over
3 sources with delays) to SPIKES spikes. Per model: lif_exp has a PoissonInput into A; lif_exp2
projects on both ports ('exc' and 'inh'); lif_alpha has per-neuron tau_s and Ie; alif has a
refractory period in A (1 ms; lif_exp2 has one of 0.5 ms everywhere).

The loss is L = sum_k c_k t_k over the neuron spikes (dloss_dt = c, fixed random). Finite
differences: the 4-point central stencil (the 4-point forward one for a zero delay, which cannot
go below 0) at relative steps 1e-4, 1e-5, 1e-6, keeping the larger step of the two neighbouring
ones that agree best. A step is used only where nothing the loss could jump or kink at changes
across its stencil: the order of all spikes (neurons' and sources'), and for every neuron the
order of its own events (its spikes, the ends of its refractory periods, the deliveries it
receives); a coordinate no step keeps is skipped, and each group of coordinates asserts that
enough of them were compared (the test cannot pass vacuously).
"""
import numpy as np
import pytest
from rows import delay_gaps

import sparseprop as spp
from expect import expect
from sparseprop import (PoissonInput, Population, Projection, SpikeSource, build_network,
                        fixed_outdegree, from_edges)

SHIPPED = ("lif_exp", "lif_exp2", "lif_alpha", "alif")
ENGINES = ("sparse", "reference")
N_A, N_B, M = 12, 8, 3            # populations A and B, stimulus sources
N = N_A + N_B
SPIKES = 175                      # neurons' and sources' spikes per run (max_spikes)
RTOL = 1e-5
STEPS = (1e-4, 1e-5, 1e-6)        # relative steps tried, largest first
NOISE = 1e-7                      # FD rounding noise allowed (|L| ~ 1e3, eps ~ 1e-16 / step)
ENGINE_RTOL = 1e-8                # sparse against reference gradients

# (pre, post, out-degree, weight range, lif_exp2's port)
PROJECTIONS = [("A", "A", 4, (-0.3, 0.3), "exc"), ("A", "B", 3, (-0.2, 0.4), "exc"),
               ("B", "A", 4, (-0.3, 0.0), "inh"), ("stim", "A", 4, (0.0, 0.6), "exc"),
               ("stim", "B", 3, (-0.3, 0.5), "inh")]
INITIAL = {"v": (0.0, 0.9), "I": (-0.2, 0.3), "Iexc": (0.0, 0.3), "Iinh": (-0.3, 0.0),
           "y": (-0.1, 0.2), "a": (0.0, 0.3)}
DRIVE = {"lif_exp": 1.3, "lif_exp2": 1.3, "lif_alpha": 1.3, "alif": 1.5}   # Ie
WEIGHT_SCALE = {"lif_alpha": 0.5}   # its inputs' charge is e tau_s w, not tau_s w
POISSON_WEIGHT = 0.05             # lif_exp's PoissonInput (20 trains of 50 Hz into A)


class Setup:
    """One model's network: its definition (drawn once from `seed`) and how to rebuild it with
    one thing changed, run it and evaluate the loss."""

    def __init__(self, name, model, seed=5):
        self.name, self.model = name, model
        rng = np.random.default_rng(seed)
        self.stim_t = np.sort(rng.uniform(0, 50, 25))
        self.stim_i = rng.integers(0, M, 25)
        self.state0 = {v: rng.uniform(*INITIAL[v], N) for v in model.variables}
        sizes = {"A": N_A, "B": N_B, "stim": M}
        self.conns = []
        for pre, post, k, (low, high), port in PROJECTIONS:
            size = sizes[pre] * k
            delay = rng.uniform(0.2, 2.0, size)
            delay[rng.uniform(size=size) < 0.2] = 0.0
            w = rng.uniform(low, high, size) * WEIGHT_SCALE.get(name, 1.0)
            self.conns.append((pre, post, k, w, delay,
                               port if name == "lif_exp2" else None))
        self.values = {"A": {"Ie": DRIVE[name]}, "B": {"Ie": DRIVE[name]}}
        if name == "lif_alpha":       # per-neuron parameters
            tau_s, Ie = rng.uniform(1.5, 3.0, N), rng.uniform(1.35, 1.55, N)
            self.values = {"A": {"tau_s": tau_s[:N_A], "Ie": Ie[:N_A]},
                           "B": {"tau_s": tau_s[N_A:], "Ie": Ie[N_A:]}}
        elif name == "alif":          # a refractory period in A only (so one row per neuron)
            self.values["A"]["refractory"] = 1.0
        elif name == "lif_exp2":      # one refractory period for all (one shared row)
            self.values["A"]["refractory"] = self.values["B"]["refractory"] = 0.5
        self.drive = POISSON_WEIGHT if name == "lif_exp" else None
        self.c = None

    def make(self, times=None, state=None, drive=None):
        """The network (initial state state0 or `state`, stim times or `times`, the
        PoissonInput weight or `drive`)."""
        pops = [Population("A", N_A, dict(self.values["A"])),
                Population("B", N_B, dict(self.values["B"])),
                SpikeSource("stim", M, self.stim_i, self.stim_t if times is None else times)]
        projections = [Projection(pre, post, fixed_outdegree(k, w, seed=s, delay=d), port=port)
                       for s, (pre, post, k, w, d, port) in enumerate(self.conns)]
        weight = drive if drive is not None else self.drive
        inputs = [PoissonInput("A", 20, 50.0, weight)] if weight is not None else None
        return build_network(self.model, pops, projections, seed=3, inputs=inputs,
                             initial_state=self.state0 if state is None else state)

    def run(self, net, engine="sparse", record_tape=False):
        return net.run(max_spikes=SPIKES, engine=engine, record_tape=record_tape)

    def loss(self, net):
        """(L, the run's event signature) of a run of `net` (sparse engine, no tape)."""
        result = self.run(net)
        value = float(self.c @ result.t) if result.n_spikes == self.c.size else np.nan
        return value, signature(net, result)


def signature(net, result):
    """What the loss may jump or kink at, as arrays that must stay equal: the order of all
    spikes (neurons' and sources', by time), and per neuron the order of its own events (its
    spikes, the ends of its refractory periods, the deliveries it receives until the run ends,
    each named by its place in the run)."""
    n = net.n
    senders = np.concatenate([result.i, result.source_i.astype(result.i.dtype) + n])
    times = np.concatenate([result.t, result.source_t])
    order = np.lexsort((senders, times))
    senders, times = senders[order], times[order]
    indptr, post, delay = net.csr.indptr, net.csr.indices, net.delays()
    first, count = indptr[senders], np.diff(indptr)[senders]
    syn = np.concatenate([np.arange(a, a + c) for a, c in zip(first, count)] + [[0]])[:-1]
    arrival = np.repeat(times, count) + delay[syn]
    keep = arrival <= result.t_end
    spikes = np.flatnonzero(senders < n)
    refractory = np.broadcast_to(net.refractory, (n,))[senders[spikes]]
    ends = times[spikes] + refractory
    has_end = (refractory > 0) & (ends <= result.t_end)
    who = np.concatenate([senders[spikes], senders[spikes][has_end], post[syn][keep]])
    when = np.concatenate([times[spikes], ends[has_end], arrival[keep]])
    kind = np.concatenate([np.zeros(spikes.size, int), np.ones(has_end.sum(), int),
                           np.full(keep.sum(), 2)])
    name = np.concatenate([spikes, spikes[has_end], np.flatnonzero(keep)])
    events = np.lexsort((name, kind, when, who))
    return senders, np.stack([who[events], kind[events], name[events]])


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def finite_difference(loss, x, reference, one_sided=False):
    """dL/dx by the 4-point central stencil (one_sided: the 4-point forward one, for x at the
    edge of its domain, a zero delay) at each of STEPS whose points all keep the event
    signature `reference`; None when none does. Of several, the larger step of the two
    neighbouring steps whose estimates agree best: its truncation error is then below their
    difference and its rounding noise the smaller (a loss curved near a grazing threshold
    approach needs the small steps, rounding noise the large ones)."""
    estimates = []
    for step in STEPS:
        h = step * max(abs(x), 1.0)
        points = (0, 1, 2, 3) if one_sided else (-2, -1, 1, 2)
        values, signatures = zip(*(loss(x + m * h) for m in points))
        if not all(same(s, reference) for s in signatures):
            estimates.append(None)
        elif one_sided:
            estimates.append((-11 * values[0] + 18 * values[1] - 9 * values[2] + 2 * values[3])
                             / (6 * h))
        else:
            estimates.append((8 * (values[2] - values[1]) - (values[3] - values[0])) / (12 * h))
    pairs = [(abs(a - b), a) for a, b in zip(estimates, estimates[1:])
             if a is not None and b is not None]
    if pairs:
        return min(pairs)[1]
    return next((e for e in estimates if e is not None), None)


# -- the finite differences of every checked coordinate, once per model --------------------------

def weight_coordinates(setup, base, rng):
    """6 random synapses, 2 of them with zero delay."""
    _, _, w0 = base.synapses()
    d0 = base.delays()
    chosen = np.concatenate([rng.choice(np.flatnonzero(d0 == 0), 2, replace=False),
                             rng.choice(np.flatnonzero(d0 > 0), 4, replace=False)])
    out = []
    for s in chosen:
        def loss(x, s=s):
            net = setup.make()
            w = w0.copy()
            w[s] = x
            net.set_weights(w)
            return setup.loss(net)
        out.append((f"weight[{s}] (delay {d0[s]:.3g})", lambda g, s=s: g.weight[s], loss,
                    w0[s], False))
    return out


def delay_coordinates(setup, base, rng):
    """6 non-zero delays that differ from their row neighbours' by more than the steps (so that
    set_delays keeps the row order), and 2 zero delays, the last zero of their row (forward
    differences: a delay cannot go below 0)."""
    d0 = base.delays()
    indptr = base.csr.indptr
    gap_before, gap_after = delay_gaps(d0, indptr)
    movable = np.flatnonzero((d0 > 0) & (gap_before > 1e-3) & (gap_after > 1e-3))
    zero = np.flatnonzero((d0 == 0) & (gap_after > 1e-3))
    out = []
    for s in np.concatenate([rng.choice(movable, 6, replace=False),
                             rng.choice(zero, 2, replace=False)]):
        def loss(x, s=s):
            net = setup.make()
            d = d0.copy()
            d[s] = x
            net.set_delays(d)
            return setup.loss(net)
        out.append((f"delay[{s}] = {d0[s]:.3g}", lambda g, s=s: g.delay[s], loss, d0[s],
                    d0[s] == 0))
    return out


def parameter_coordinates(setup, base, rng):
    """Every model parameter, moved for every neuron at once (dL/dp = the sum of the per-neuron
    gradients when the network has one row per neuron); with per-neuron values also 2 neurons'
    own values of each."""
    out = []
    for name, value in base.parameters.items():
        value = np.asarray(value, dtype=np.float64)
        centre = float(np.mean(value))

        def loss(x, name=name, value=value, centre=centre):
            net = setup.make()
            net.set_parameters(**{name: value + (x - centre)})
            return setup.loss(net)
        out.append((name, lambda g, name=name: float(np.sum(g.parameters[name])), loss,
                    centre, False))
        if value.ndim and np.ptp(value) > 0:      # per-neuron values: one neuron's own
            for k in (2, N_A + 3):
                def own(x, name=name, value=value, k=k):
                    net = setup.make()
                    v = value.copy()
                    v[k] = x
                    net.set_parameters(**{name: v})
                    return setup.loss(net)
                out.append((f"{name}[{k}]", lambda g, name=name, k=k: g.parameters[name][k],
                            own, value[k], False))
    return out


def initial_state_coordinates(setup, base, rng):
    """3 neurons' initial values of every state variable (from A and B)."""
    out = []
    for var in setup.model.variables:
        for k in (1, 7, N_A + 2):
            def loss(x, var=var, k=k):
                state = {v: a.copy() for v, a in setup.state0.items()}
                state[var][k] = x
                return setup.loss(setup.make(state=state))
            out.append((f"{var}0[{k}]", lambda g, var=var, k=k: g.initial_state[var][k], loss,
                        setup.state0[var][k], False))
    return out


def source_coordinates(setup, base, rng):
    """5 SpikeSource spike times (the network rebuilt with the new times; they are distinct, so
    result.source_t is stim_t in order)."""
    out = []
    for k in (0, 4, 9, 14, 19):
        def loss(x, k=k):
            times = setup.stim_t.copy()
            times[k] = x
            return setup.loss(setup.make(times=times))
        out.append((f"source_t[{k}]", lambda g, k=k: g.source_t[k], loss, setup.stim_t[k],
                    False))
    return out


def input_coordinates(setup, base, rng):
    """The PoissonInput's weight (the same Poisson events: same seed)."""
    if setup.drive is None:
        return []
    return [("input weight", lambda g: g.input_weight[0],
             lambda x: setup.loss(setup.make(drive=x)), setup.drive, False)]


# group -> (coordinates, minimum compared)
GROUPS = {"weight": (weight_coordinates, 4), "delay": (delay_coordinates, 5),
          "parameter": (parameter_coordinates, None), "initial_state":
          (initial_state_coordinates, None), "source_t": (source_coordinates, 3),
          "input_weight": (input_coordinates, 1)}


def minimum(group, total):
    """How many of a group's `total` coordinates must be compared (not skipped)."""
    fixed = GROUPS[group][1]
    return min(fixed, total) if fixed is not None else total - total // 4


def numeric_gradients(setup, group):
    """[(label, analytic getter, finite difference or None)] of one group of coordinates of
    `setup` (whose c is set), from forward runs only."""
    base = setup.make()
    reference = setup.loss(base)[1]
    rng = np.random.default_rng(1)
    return [(label, getter, finite_difference(loss, x, reference, one_sided))
            for label, getter, loss, x, one_sided in GROUPS[group][0](setup, base, rng)]


def prepare(name, model):
    """(setup with c set, the base result of a forward run)."""
    setup = Setup(name, model)
    result = setup.run(setup.make())
    setup.c = np.random.default_rng(9).normal(size=result.n_spikes)
    return setup, result


# -- fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=SHIPPED)
def case(request, linear_models):
    """(name, setup, the base forward result, group -> its finite differences, computed on
    first use and kept), once per model."""
    name = request.param
    setup, result = prepare(name, linear_models[name])
    return name, setup, result, {}


def numeric(case, group):
    name, setup, _, cache = case
    if group not in cache:
        cache[group] = numeric_gradients(setup, group)
    return cache[group]


_ANALYTIC = {}


def analytic(case, engine):
    """The recorded run of the case's network on `engine` and its gradients (cached)."""
    name, setup, base, _ = case
    if (name, engine) not in _ANALYTIC:
        net = setup.make()
        result = setup.run(net, engine=engine, record_tape=True)
        np.testing.assert_array_equal(result.i, base.i)
        np.testing.assert_allclose(result.t, base.t, rtol=1e-12, atol=0)
        _ANALYTIC[name, engine] = (net, result, result.backward(setup.c))
    return _ANALYTIC[name, engine]


# -- the tests -------------------------------------------------------------------------------------

def test_the_networks_are_what_the_harness_needs(case):
    """Enough spikes from most neurons, not all synchronous, sources delivered, zero and
    non-zero delays, both ports (lif_exp2), per-neuron rows (lif_alpha, alif)."""
    name, setup, result, _ = case
    net = setup.make()
    assert result.n_spikes >= 100 and result.source_t.size >= 20
    assert np.count_nonzero(np.bincount(result.i, minlength=N)) >= 15
    assert np.unique(np.round(result.t, 6)).size == result.n_spikes    # no two at one instant
    d = net.delays()
    assert 0.1 < np.mean(d == 0) < 0.35 and d.max() <= 2.0
    _, _, w = net.synapses()
    assert w.min() < 0 < w.max()
    if name == "lif_exp2":
        assert set(np.unique(net.csr.ports)) == {0, 1}
    assert net.heterogeneous == (name in ("lif_alpha", "alif"))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("group", list(GROUPS))
def test_gradients_equal_finite_differences(case, group, engine):
    name = case[0]
    pairs = numeric(case, group)
    _, _, g = analytic(case, engine)
    if group == "input_weight" and case[1].drive is None:    # no PoissonInput: no gradient
        assert not pairs and g.input_weight.shape == (0,)
        return
    done = [(label, float(getter(g)), n) for label, getter, n in pairs if n is not None]
    skipped = [label for label, _, n in pairs if n is None]
    assert len(done) >= minimum(group, len(pairs)), \
        f"only {len(done)} of {len(pairs)} comparable; skipped {skipped}"
    assert any(abs(n) > 1e-3 for _, _, n in done)
    bad = [(label, a, n) for label, a, n in done if not abs(a - n) <= RTOL * abs(n) + NOISE]
    assert not bad, f"{name} {engine}: analytic vs numeric: {bad}"


def test_gradient_shapes(case):
    name, setup, _, _ = case
    net, result, g = analytic(case, "sparse")
    assert g.weight.shape == g.delay.shape == (net.csr.nnz,)
    assert g.source_t.shape == result.source_t.shape
    assert set(g.initial_state) == set(setup.model.variables)
    for v in setup.model.variables:
        assert g.initial_state[v].shape == (N,)
    assert set(g.parameters) == set(net.kernels.parameter_names)
    for p, value in g.parameters.items():
        assert np.shape(value) == ((N,) if net.heterogeneous else ()), p
    assert g.input_weight.shape == ((1,) if setup.drive is not None else (0,))
    assert g.initial_phase.shape == (N,) and np.all(np.isnan(g.initial_phase))


def test_both_engines_give_the_same_gradients(case):
    _, _, sparse = analytic(case, "sparse")
    _, _, reference = analytic(case, "reference")
    for field in ("weight", "delay", "source_t", "input_weight"):
        a, b = getattr(sparse, field), getattr(reference, field)
        np.testing.assert_allclose(a, b, rtol=ENGINE_RTOL,
                                   atol=ENGINE_RTOL * max(1.0, np.max(np.abs(b), initial=0)),
                                   err_msg=field)
    for group in ("initial_state", "parameters"):
        a, b = getattr(sparse, group), getattr(reference, group)
        assert set(a) == set(b)
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=ENGINE_RTOL, atol=ENGINE_RTOL * max(
                1.0, np.max(np.abs(b[key]))), err_msg=f"{group}[{key}]")


# -- refusals --------------------------------------------------------------------------------------

def test_zero_delay_autapse_is_refused(linear_models):
    """A lif_exp neuron whose spike reaches itself at once: its gradient is refused."""
    edges = ([0, 0, 1, 2, 1], [0, 1, 2, 0, 1], [0.2, 0.3, -0.2, 0.4, 0.1],
             [0.0, 0.5, 0.0, 1.0, 0.7])
    net = spp.build_network(linear_models["lif_exp"], [Population("N", 3, {"Ie": 1.3})],
                            [Projection("N", "N", from_edges(*edges[:3], delay=edges[3]))],
                            initial_state={"v": [0.5, 0.2, 0.8]})
    result = net.run(max_spikes=20, record_tape=True)
    assert result.n_spikes == 20 and np.any(result.i == 0)
    expect(lambda: result.backward(np.ones(result.n_spikes)), "neuron 0", "delay 0")


def test_dloss_dphase_is_refused(case):
    """Linear models have no phase."""
    net, result, _ = analytic(case, "sparse")
    expect(lambda: result.backward(np.ones(result.n_spikes), dloss_dphase=np.ones(net.n)),
           "dloss_dphase")
