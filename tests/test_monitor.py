"""State monitors (net.run(..., record=...)): exact traces against closed forms and the
solve_ivp oracle, the same spikes as without a monitor, both engines, and bad input."""
import math

import numpy as np
import pytest

import sparseprop as spp
from oracle_linear import linear_spikes
from test_linear_models import oracle_args, recurrent_network

TAU, I_FIRE, I_SUB = 10.0, 1.3, 0.8       # the shipped lif: tau dv/dt = I - v, threshold 1
SOURCE_TIMES = np.array([2.0, 9.5, 9.5, 17.25, 30.0])
WEIGHT, DELAY = 0.15, 1.5


@pytest.fixture(scope="module")
def lif():
    model = spp.load_model("lif")
    model.compile()
    return model


def feed_forward(lif, refractory=0.0):
    """Two LIF neurons (0: I 1.3, fires on its own; 1: I 0.8, subthreshold) from v = 0, both
    driven by one source's spikes (weight 0.15, delay 1.5 ms)."""
    src = spp.SpikeSource("src", 1, np.zeros(SOURCE_TIMES.size, int), SOURCE_TIMES)
    pop = spp.Population("N", 2, parameters={"I": [I_FIRE, I_SUB], "refractory": refractory})
    return spp.build_network(lif, [pop, src], [spp.Projection("src", "N", spp.from_edges(
        [0, 0], [0, 1], [WEIGHT, WEIGHT], delay=DELAY))], initial_state={"v": 0.0})


def closed_form(I, t, refractory=0.0):
    """v(t) of tau dv/dt = I - v from v(0) = 0, with inputs of WEIGHT at SOURCE_TIMES + DELAY
    (lost while refractory, or when an earlier input of the instant pushed v over), threshold
    1, reset 0 held for `refractory` ms: the events in
    order, each crossing by its closed form t0 + tau ln((I - v)/(I - 1)); at an event's time,
    the state after it."""
    arrivals = list(SOURCE_TIMES + DELAY)
    v, t0 = 0.0, 0.0                 # v holds at t0 (the end of a refractory period) and after
    while True:
        cross = t0 + TAU * math.log((I - v) / (I - 1)) if I > 1 else math.inf
        nxt = arrivals[0] if arrivals else math.inf
        if t < min(cross, nxt):
            return I + (v - I) * math.exp(-(t - t0) / TAU) if t > t0 else v
        if cross <= nxt:             # a spike
            v, t0 = 0.0, cross + refractory
            continue
        arrivals.pop(0)
        if nxt >= t0:                # (an input while refractory is lost)
            v = I + (v - I) * math.exp(-(nxt - t0) / TAU) + WEIGHT
            t0 = nxt
            if v >= 1.0:             # pushed over: due, later inputs of the instant are lost
                v, t0 = 0.0, nxt + refractory
                while arrivals and arrivals[0] == nxt:
                    arrivals.pop(0)


@pytest.mark.parametrize("engine", ["sparse", "reference"])
@pytest.mark.parametrize("refractory", [0.0, 2.0])
def test_lif_traces_equal_the_closed_form(lif, engine, refractory):
    net = feed_forward(lif, refractory)
    res = net.run(duration=40.0, engine=engine, record={"v": [0, 1], "dt": 0.05})
    assert res.state_times.size == 800 and res.state_times[0] == 0.0
    assert np.allclose(np.diff(res.state_times), 0.05)
    assert res.state["v"].shape == (2, 800) and list(res.state_neurons["v"]) == [0, 1]
    assert res.spikes_of("N")[0].size >= 3        # neuron 0 fires, its resets are in the trace
    for row, I in enumerate((I_FIRE, I_SUB)):
        expected = [closed_form(I, t, refractory) for t in res.state_times]
        assert np.max(np.abs(res.state["v"][row] - expected)) < 1e-12


def test_sample_at_an_input_includes_it(lif):
    # a sample at an arrival time holds the state after every event at that instant
    net = feed_forward(lif)
    arrival = SOURCE_TIMES[0] + DELAY
    res = net.run(duration=10.0, record={"v": [1], "times": [arrival - 1e-9, arrival]})
    before, after = res.state["v"][0]
    assert after - before == pytest.approx(WEIGHT, abs=1e-8)
    assert after == pytest.approx(closed_form(I_SUB, arrival), abs=1e-14)


@pytest.fixture(scope="module")
def lif_exp():
    model = spp.load_model("lif_exp")
    model.compile()
    return model


def test_linear_traces_equal_the_oracle(lif_exp):
    net = recurrent_network(lif_exp, seed=11)
    args = oracle_args(net)
    times = [3.3, 11.05, 24.9, 40.0]
    who = [0, 4, 17, 29]
    res = net.run(duration=40.0, record={"v": who, "I": who, "times": times})
    assert res.n_spikes > 20
    for k, tk in enumerate(times):
        _, _, x = linear_spikes(count=None, t_max=tk, return_state=True, **args)
        for c, v in enumerate(lif_exp.variables):
            assert np.max(np.abs(res.state[v][:, k] - x[who, c])) < 1e-10, (v, tk)


@pytest.mark.parametrize("model_name", ["lif", "lif_exp"])
def test_monitor_changes_no_spike_and_engines_agree(model_name, lif, lif_exp):
    model = lif if model_name == "lif" else lif_exp
    n = 200
    params = {"refractory": 0.5, ("I" if model_name == "lif" else "Ie"): np.linspace(0.8, 1.3, n)}
    traces = {}
    for engine in ("sparse", "reference"):
        net = spp.build_network(model, [spp.Population("E", n, parameters=params)],
                                [spp.Projection("E", "E", spp.fixed_outdegree(
                                    10, -0.05, seed=1, delay=1.0))],
                                inputs=[spp.PoissonInput("E", 10, 100.0, 0.05)], seed=3)
        net.store()
        plain = net.run(duration=30.0, engine=engine)
        net.restore()
        record = {v: "E" for v in ("v",) + (("I",) if model_name == "lif_exp" else ())}
        res = net.run(duration=30.0, engine=engine, record=dict(record, dt=0.1))
        assert np.array_equal(res.i, plain.i) and np.array_equal(res.t, plain.t)
        assert plain.n_spikes > 100
        after = net.state
        after = after if isinstance(after, dict) else {"v": after}
        # net.state at the end comes from Run.finish; the last sample's flow to t_end agrees
        last = net.run(duration=0.0, engine=engine, record=dict(record, times=[30.0]))
        for v in res.state:
            assert np.max(np.abs(last.state[v][:, 0] - after[v])) < 1e-12
        traces[engine] = res.state
    for v in traces["sparse"]:
        assert np.max(np.abs(traces["sparse"][v] - traces["reference"][v])) < 1e-9


def test_record_several_models_gives_nan_where_a_variable_is_missing():
    net = spp.build_network(None, [spp.Population("E", 3, model="lif_exp"),
                                   spp.Population("L", 2, model="lif")], seed=1)
    res = net.run(duration=5.0, record={"I": True, "v": "L", "dt": 1.0})
    assert res.state["I"].shape == (5, 5)
    assert np.all(np.isfinite(res.state["I"][:3])) and np.all(np.isnan(res.state["I"][3:]))
    assert list(res.state_neurons["v"]) == [3, 4] and np.all(np.isfinite(res.state["v"]))


def test_traces_stop_where_the_run_stops(lif):
    net = feed_forward(lif)
    res = net.run(duration=40.0, max_spikes=2, record={"v": [0], "dt": 1.0})
    assert res.state_times.size == res.state["v"].shape[1]
    assert res.state_times[-1] <= res.t_end < res.state_times[-1] + 1.0
    plain = net.run(duration=10.0)
    assert plain.state == {} and plain.state_times.size == 0


@pytest.mark.parametrize("record, words", [
    ({"v": [0]}, "either 'dt'"),
    ({"v": [0], "dt": 0.1, "times": [1.0]}, "not both"),
    ({"w": [0], "dt": 0.1}, "not a state variable"),
    ({"dt": 0.1}, "names no state variable"),
    ({"v": [5], "dt": 0.1}, "neuron 5 does not exist"),
    ({"v": [-1], "dt": 0.1}, "neuron -1 does not exist"),
    ({"v": [0.5], "dt": 0.1}, "neuron indices"),
    ({"v": "X", "dt": 0.1}, "no population 'X'"),
    ({"v": False, "dt": 0.1}, "neuron indices"),
    ({"v": [0], "dt": 0.0}, "> 0"),
    ({"v": [0], "dt": float("nan")}, "> 0"),
    ({"v": [0], "dt": 1e-12}, "larger dt"),
    ({"v": [0], "times": [1.0, float("nan")]}, "finite"),
    ({"v": [0], "times": [2.0, 1.0]}, "not increasing"),
    ({"v": [0], "times": [1.0, 1.0]}, "not increasing"),
    ({"v": [0], "times": [11.0]}, "outside this run"),
    ({"v": [0], "times": []}, "non-empty"),
    ({"v": [0], "times": "soon"}, "times in ms"),
    ([("v", [0])], "give a dict"),
    ({}, "give a dict"),
])
def test_bad_record_is_refused(lif, record, words):
    net = feed_forward(lif)
    before = net.current.copy()
    with pytest.raises(spp.ModelError, match=words):
        net.run(duration=10.0, record=record)
    assert net.t == before.t and np.array_equal(net.current.phase, before.phase)


def test_dt_needs_a_duration(lif):
    with pytest.raises(spp.ModelError, match="duration"):
        feed_forward(lif).run(max_spikes=3, record={"v": [0], "dt": 0.1})


def test_traces_are_saved_and_loaded(lif, tmp_path):
    res = feed_forward(lif).run(duration=5.0, record={"v": [1, 0], "times": [0.5, 2.0, 4.0]})
    res.save(tmp_path / "r.npz")
    back = spp.load_result(tmp_path / "r.npz")
    assert np.array_equal(back.state["v"], res.state["v"])
    assert np.array_equal(back.state_times, res.state_times)
    assert list(back.state_neurons["v"]) == [1, 0]
    res.state["v"] = res.state["v"][:, :2]            # changed by hand: refused, nothing written
    with pytest.raises(spp.ModelError, match="neurons x times"):
        res.save(tmp_path / "s.npz")
    assert not (tmp_path / "s.npz").exists()
    plain = feed_forward(lif).run(duration=1.0)
    plain.save(tmp_path / "p.npz")
    assert spp.load_result(tmp_path / "p.npz").state == {}
