"""Stimuli (sparseprop.Stimulus: a parameter that changes at given times): spike times against
closed forms and the solve_ivp oracle, gradients against finite differences, both engines,
monitors, saving, units, and bad input."""
import math

import numpy as np
import pytest

import sparseprop as spp
from oracle_linear import linear_spikes
from test_linear_models import oracle_args, recurrent_network

TAU = 10.0                          # the shipped lif: tau dv/dt = I - v, threshold 1, reset 0
I_SUB, I_ON, I_OFF = 0.9, 1.5, 0.8  # below threshold, then firing, then below again
T_ON, T_OFF, T_END = 10.0, 50.0, 100.0


@pytest.fixture(scope="module")
def lif():
    model = spp.load_model("lif", I=I_SUB)
    model.compile()
    return model


def lif_spikes(v0, I0, changes, t_end, refractory=0.0):
    """Closed form: spike times of tau dv/dt = I - v from v0 at 0 with I = I0, then I =
    value from each (time, value) of `changes` on; threshold 1, reset 0, refractory period."""
    out, t, v, current = [], 0.0, v0, I0
    edges = [c[0] for c in changes] + [t_end]
    values = [I0] + [c[1] for c in changes]
    for k, stop in enumerate(edges):
        current = values[k]
        while True:   # from (t, v) with drive `current` until `stop`
            if current > 1 and v < 1:
                hit = t + TAU * math.log((current - v) / (current - 1))
            else:
                hit = math.inf
            if hit > stop:
                v = current + (v - current) * math.exp(-(stop - t) / TAU)
                t = stop
                break
            out.append(hit)
            t, v = hit + refractory, 0.0
            if t > stop:   # refractory across the change: held at 0 until t
                break
    return np.array(out)


def step_network(lif, engine_values=(I_ON, I_OFF), v0=(0.0, 0.5), refractory=0.0):
    net = spp.Network(lif, len(v0), spp.fixed_outdegree(0, 0.0, seed=1),
                      initial_state={"v": list(v0)}, parameters={"refractory": refractory},
                      inputs=[spp.Stimulus(None, "I", [T_ON, T_OFF], list(engine_values))])
    return net


@pytest.mark.parametrize("engine", ["sparse", "reference"])
@pytest.mark.parametrize("refractory", [0.0, 2.0])
def test_step_current_switches_a_neuron_on_and_off(lif, engine, refractory):
    # subthreshold (I = 0.9) until 10 ms, firing (I = 1.5) until 50 ms, then silent (I = 0.8)
    net = step_network(lif, refractory=refractory)
    assert net.linear and net.model.variables == ("v", "I")
    res = net.run(duration=T_END, engine=engine)
    for k, v0 in enumerate((0.0, 0.5)):
        expected = lif_spikes(v0, I_SUB, [(T_ON, I_ON), (T_OFF, I_OFF)], T_END, refractory)
        got = res.t[res.i == k]
        assert expected.size >= 3 and got.size == expected.size
        assert np.max(np.abs(got - expected)) < 1e-12
    assert np.all((res.t > T_ON) & (res.t < T_OFF + refractory))


def test_the_driven_parameter_is_a_state_and_its_trace_is_the_step(lif):
    net = step_network(lif)
    times = [5.0, T_ON, 30.0, T_OFF, 80.0]
    res = net.run(duration=T_END, record={"I": True, "v": [0], "times": times})
    assert np.array_equal(res.state["I"], [[I_SUB, I_ON, I_ON, I_OFF, I_OFF]] * 2)
    assert res.state["v"][0, 0] == pytest.approx(I_SUB * (1 - math.exp(-0.5)), abs=1e-14)
    assert net.state["I"].tolist() == [I_OFF, I_OFF]
    # before its first change each neuron has its own value (per-neuron parameters)
    net = spp.Network(lif, 2, spp.fixed_outdegree(0, 0.0, seed=1), initial_state={"v": 0.0},
                      parameters={"I": [0.5, 1.2]},
                      inputs=[spp.Stimulus(None, "I", [T_ON], [I_ON])])
    assert net.state["I"].tolist() == [0.5, 1.2]


def sum_of_times(lif, values, engine, per_neuron=False):
    net = step_network(lif, values if not per_neuron else np.array(values))
    res = net.run(duration=T_END, engine=engine, record_tape=True)
    return res, float(res.t.sum())


@pytest.mark.parametrize("engine", ["sparse", "reference"])
def test_gradient_of_the_values_equals_finite_differences(lif, engine):
    values = [I_ON, 1.1]         # the second keeps neuron 1 firing, more slowly
    res, _ = sum_of_times(lif, values, engine)
    grads = res.backward(np.ones(res.t.size))
    dv = grads.stimulus[0]
    assert dv.shape == (2,)
    h = 1e-6
    for k in range(2):
        up, down = list(values), list(values)
        up[k] += h
        down[k] -= h
        r_up, l_up = sum_of_times(lif, up, engine)
        r_down, l_down = sum_of_times(lif, down, engine)
        assert r_up.t.size == r_down.t.size == res.t.size
        fd = (l_up - l_down) / (2 * h)
        assert dv[k] == pytest.approx(fd, rel=1e-5)
    assert abs(dv[0]) > 1 and abs(dv[1]) > 1
    # per neuron: values of shape (times, neurons), one gradient each
    table = np.array([[I_ON, 1.4], [1.1, 1.2]])
    res, _ = sum_of_times(lif, table, engine, per_neuron=True)
    per = res.backward(np.ones(res.t.size)).stimulus[0]
    assert per.shape == (2, 2)
    for k, j in [(0, 0), (1, 1)]:
        up, down = table.copy(), table.copy()
        up[k, j] += h
        down[k, j] -= h
        fd = (sum_of_times(lif, up, engine, True)[1] - sum_of_times(lif, down, engine, True)[1]) \
            / (2 * h)
        assert per[k, j] == pytest.approx(fd, rel=1e-5)


def test_gradient_of_the_starting_value_is_the_initial_state_gradient(lif):
    res, _ = sum_of_times(lif, [I_ON, 1.1], "sparse")
    g = res.backward(np.ones(res.t.size)).initial_state["I"]
    h = 1e-6
    fd = []
    for sign in (1, -1):
        net = step_network(lif, [I_ON, 1.1])
        net2 = spp.Network(lif, 2, spp.fixed_outdegree(0, 0.0, seed=1),
                           initial_state={"v": [0.0, 0.5], "I": I_SUB + sign * h},
                           inputs=[spp.Stimulus(None, "I", [T_ON, T_OFF], [I_ON, 1.1])])
        fd.append(net2.run(duration=T_END).t.sum())
        del net
    assert g.sum() == pytest.approx((fd[0] - fd[1]) / (2 * h), rel=1e-5)


@pytest.fixture(scope="module")
def lif_exp():
    model = spp.load_model("lif_exp")
    model.compile()
    return model


def test_recurrent_lif_exp_with_a_stimulus_equals_the_oracle(lif_exp):
    # the oracle has no stimuli: it gets Ie as a third variable (dIe/dt = 0) and each change
    # as a source spike that adds (new - old) to it
    net = recurrent_network(lif_exp, seed=5)
    base = oracle_args(net)
    n = net.n
    times, values = np.array([4.0, 12.5, 25.0]), np.array([1.4, 0.7, 1.2])
    driven = spp.Network(lif_exp, n, net.csr, sources=net.sources,
                         parameters=dict(net.parameters, refractory=net.refractory),
                         initial_state=net.state,
                         inputs=[spp.Stimulus(None, "Ie", times, values)])
    assert driven.model.variables == ("v", "I", "Ie")
    res = driven.run(duration=40.0)
    tau_m, ie = lif_exp.parameters["tau_m"], net.parameters["Ie"]
    A = np.zeros((n, 3, 3))
    A[:, :2, :2] = base["A"]
    A[:, 0, 2] = 1.0 / tau_m
    x0 = np.column_stack([base["x0"], np.full(n, ie)])
    n_src = sum(s.n for s in net.sources)
    before = np.concatenate([[ie], values[:-1]])
    pre = np.concatenate([base["pre"], np.repeat(n + n_src + np.arange(3), n)])
    post = np.concatenate([base["post"], np.tile(np.arange(n), 3)])
    weight = np.concatenate([base["weight"], np.repeat(values - before, n)])
    delay = np.concatenate([base["delay"], np.zeros(3 * n)])
    port = np.concatenate([base["port"], np.full(3 * n, len(base["port_var"]))])
    ids, ts = base["sources"]
    sources = (np.concatenate([ids, n_src + np.arange(3)]), np.concatenate([ts, times]))
    args = dict(base, A=A, b=np.zeros((n, 3)), c=np.append(base["c"], 0.0), x0=x0, pre=pre,
                post=post, weight=weight, delay=delay, port=port,
                port_var=list(base["port_var"]) + [2], sources=sources)
    i, t = linear_spikes(count=None, t_max=40.0, **args)
    assert res.n_spikes > 20 and res.n_spikes == len(t)
    assert np.array_equal(res.i, i)
    assert np.max(np.abs(res.t - t)) < 1e-8


def test_stimulus_into_a_population_beside_poisson_input_and_saving(lif, tmp_path):
    pops = [spp.Population("E", 20), spp.Population("I", 5, parameters={"I": 1.2})]
    proj = [spp.Projection("E", "I", spp.fixed_outdegree(2, 0.05, seed=3, delay=1.0)),
            spp.Projection("I", "E", spp.fixed_outdegree(4, -0.1, seed=4, delay=0.5))]

    def build():
        return spp.build_network(lif, pops, proj, seed=7, inputs=[
            spp.PoissonInput("E", 10, 50.0, 0.05),
            spp.Stimulus("E", "I", [20.0, 60.0], np.linspace(1.0, 1.6, 20)[None, :]
                         * [[1.0], [0.7]])])
    whole = build().run(duration=100.0)
    net = build()
    first = net.run(duration=45.0)
    path = tmp_path / "net.npz"
    net.save(path)
    second = spp.load_network(path).run(duration=55.0)
    rest = net.run(duration=55.0)      # the saved network goes on exactly as this one
    assert np.array_equal(second.i, rest.i) and np.array_equal(second.t, rest.t)
    assert np.array_equal(np.concatenate([first.i, second.i]), whole.i)   # (the frame of a
    assert np.allclose(np.concatenate([first.t, second.t]), whole.t, rtol=0, atol=1e-12)
    assert whole.n_spikes > 100 and np.any((whole.t > 60.0) & (whole.i < 20))   # run: rounding)
    state = spp.build_network(lif, pops, proj, seed=7).state   # untouched: I of I is 1.2
    assert "I" not in state
    assert np.all(net.state["I"][20:] == 1.2)
    ref = build().run(duration=100.0, engine="reference")
    assert np.array_equal(ref.i, whole.i) and np.allclose(ref.t, whole.t, rtol=0, atol=1e-9)


def test_stimulus_with_units(lif):
    # lif with units (mV, ms): its kernels are the dimensionless lif's, compiled once
    model = spp.LinearModel("dv/dt = (I - v)/tau : volt", "v >= 1*mV", "v = 0*mV",
                            on_pre="v += w", parameters={"I": "0.9 mV", "tau": "10 ms"},
                            name="lif")
    step = spp.Stimulus(None, "I", ["10 ms", "0.03 s"], ["1500 uV", "0.8 mV"])
    net = spp.Network(model, 2, spp.fixed_outdegree(0, "0 mV", seed=1),
                      initial_state={"v": ["0 mV", "0.5 mV"]}, inputs=[step])
    res = net.run(duration="100 ms", record={"I": [0], "times": ["20 ms"]})
    for k, v0 in enumerate((0.0, 0.5)):
        expected = lif_spikes(v0, I_SUB, [(T_ON, I_ON), (30.0, I_OFF)], T_END)
        assert expected.size >= 2
        assert np.max(np.abs(res.t[res.i == k] - expected)) < 1e-12
    assert res.state["I"][0, 0] == I_ON                      # in the model's unit, mV
    with pytest.raises(spp.ModelError, match="dimensions"):
        spp.Network(model, 1, spp.fixed_outdegree(0, "0 mV", seed=1),
                    inputs=[spp.Stimulus(None, "I", [10.0], ["5 pA"])])


@pytest.mark.parametrize("times, fragment", [
    ([10.0, float("nan")], "finite"),
    ([10.0, 5.0], "strictly increasing"),
    ([10.0, 10.0], "strictly increasing"),
    ([-1.0], ">= 0"),
    ([], "one or more"),
    ("soon", "times"),
])
def test_bad_stimulus_times(times, fragment):
    with pytest.raises(spp.ModelError, match=fragment):
        spp.Stimulus(None, "I", times, [1.0] * max(1, len(times) if isinstance(times, list)
                                                    else 1))


def test_bad_stimuli_in_a_network(lif):
    def make(stimulus, model=lif, populations=None):
        return spp.Network(model, 2, spp.fixed_outdegree(0, 0.0, seed=1), inputs=[stimulus],
                           populations=populations)
    with pytest.raises(spp.ModelError, match="not a parameter of lif"):
        make(spp.Stimulus(None, "J", [1.0], [1.0]))
    with pytest.raises(spp.ModelError, match="needs linear dynamics.*tau"):
        make(spp.Stimulus(None, "tau", [1.0], [5.0]))
    with pytest.raises(spp.ModelError, match="qif.*linear dynamics.*v\\*\\*2"):
        make(spp.Stimulus(None, "I", [1.0], [1.0]), model=spp.load_model("qif"))
    with pytest.raises(spp.ModelError, match="target 'X' is not a population"):
        make(spp.Stimulus("X", "I", [1.0], [1.0]), populations={"E": 2})
    with pytest.raises(spp.ModelError, match="shape"):
        make(spp.Stimulus(None, "I", [1.0, 2.0], [[1.0, 2.0, 3.0]] * 2))
    with pytest.raises(spp.ModelError, match="not finite"):
        make(spp.Stimulus(None, "I", [1.0, 2.0], [1.0, float("inf")]))
    with pytest.raises(spp.ModelError, match="has units"):
        make(spp.Stimulus(None, "I", [1.0], ["3 pA"]))
    with pytest.raises(spp.ModelError, match="parameter must be"):
        spp.Stimulus(None, 3, [1.0], [1.0])
    stim = spp.Stimulus(None, "I", [1.0], [1.0])
    stim.times = np.array([2.0, 1.0])   # changed by hand: checked again by the network
    with pytest.raises(spp.ModelError, match="strictly increasing"):
        make(stim)


def test_a_stimulus_in_a_network_of_two_models(lif, lif_exp):
    # E (lif_exp, Ie driven) and P (lif, I driven), unconnected: each population's spikes are
    # those of its model alone with the same stimulus
    times, ie, i = [5.0, 30.0], [1.6, 0.95], [1.4, 1.05]
    E = spp.Population("E", 3, parameters={"Ie": 0.9}, model=lif_exp)
    P = spp.Population("P", 2, model=lif)
    state = {"v": [0.1, 0.2, 0.3, 0.0, 0.5]}
    net = spp.build_network(None, [E, P], [], initial_state=state, inputs=[
        spp.Stimulus("E", "Ie", times, ie), spp.Stimulus("P", "I", times, i)])
    assert net.mixed and set(net.model.variables) == {"v", "I", "Ie"}
    res = net.run(duration=40.0)
    alone = [spp.Network(lif_exp, 3, spp.fixed_outdegree(0, 0.0, seed=1),
                         parameters={"Ie": 0.9}, initial_state={"v": [0.1, 0.2, 0.3]},
                         inputs=[spp.Stimulus(None, "Ie", times, ie)]).run(duration=40.0),
             spp.Network(lif, 2, spp.fixed_outdegree(0, 0.0, seed=1),
                         initial_state={"v": [0.0, 0.5]},
                         inputs=[spp.Stimulus(None, "I", times, i)]).run(duration=40.0)]
    for k, (name, a) in enumerate(zip(("E", "P"), alone)):
        got = res.spikes_of(name)
        assert a.n_spikes > 3 and np.array_equal(got[0], a.i)
        assert np.allclose(got[1], a.t, rtol=0, atol=1e-12)
    with pytest.raises(spp.ModelError, match="neuron 0 is a lif_exp neuron.*no parameter 'I'"):
        spp.build_network(None, [E, P], [], inputs=[spp.Stimulus(None, "I", times, i)])


def test_state_and_parameters_of_a_driven_network(lif, tmp_path):
    net = step_network(lif)
    net.run(duration=60.0)
    net.set_state(state={"v": 0.0}, t=60.0)      # the drive in effect at 60 ms: 0.8
    assert net.state["I"].tolist() == [I_OFF, I_OFF]
    net.set_state(state={"v": 0.0}, t=T_ON)      # a change at t itself comes with the run
    assert net.state["I"].tolist() == [I_SUB, I_SUB]
    net.save(tmp_path / "n.npz")
    back = spp.load_network(tmp_path / "n.npz")
    back.set_state(state={"v": 0.0}, t=0.0)
    assert back.state["I"].tolist() == [I_SUB, I_SUB]
    with pytest.raises(spp.ModelError, match="Stimulus\\(None, 'I'\\) drives it"):
        net.set_parameters(I=1.0)


def test_stimulus_in_a_network_file(lif, tmp_path):
    from sparseprop.network_file import read_network_file
    text = f'''
model = "lif"
duration = "100 ms"
[[populations]]
name = "N"
n = 2
parameters = {{ I = {I_SUB} }}
[[stimuli]]
target = "N"
parameter = "I"
times = ["10 ms", "50 ms"]
values = [{I_ON}, {I_OFF}]
[initial_state]
v = [0.0, 0.5]
'''
    path = tmp_path / "net.toml"
    path.write_text(text)
    net, run = read_network_file(path)
    res = net.run(duration=run["duration"])
    expected = step_network(lif).run(duration=T_END)
    assert expected.n_spikes > 4
    assert np.array_equal(res.i, expected.i) and np.array_equal(res.t, expected.t)
    path.write_text(text.replace("values = ", "value = "))
    with pytest.raises(spp.ModelError, match="stimuli\\[0\\].*value"):
        read_network_file(path)


@pytest.mark.parametrize("values, fragment", [
    ([[1, 2], [3]], "must be numbers"), (None, "must be numbers"), ("abc", "not strings"),
    ([1.0, "x"], "not strings"), ([True, False], "not booleans"), ({"a": 1}, "must be numbers"),
    ([[1.0], [2.0]], r"shape \(2, 1\)"), (5.0, r"shape \(\)"),
])
def test_bad_stimulus_values(lif, values, fragment):
    with pytest.raises(spp.ModelError, match=r"Stimulus\(None, 'I'\): values.*" + fragment):
        spp.Network(lif, 2, spp.fixed_outdegree(0, 0.0, seed=1),
                    inputs=[spp.Stimulus(None, "I", [1.0, 2.0], values)])


@pytest.mark.parametrize("times, fragment", [
    (None, "must be numbers"), ([[1.0, 2.0]], "1-D"), ([True, False], "not booleans"),
    ([1.0, None], "must be numbers"), ([1e400, 1e401], "finite"), (3.0, "1-D"),
    (["1 ms", "2 mV"], "voltage, but time is needed"),
])
def test_more_bad_stimulus_times(times, fragment):
    with pytest.raises(spp.ModelError, match=fragment):
        spp.Stimulus(None, "I", times, [1.0, 2.0])


def test_saved_stimuli_are_format_2_and_networks_without_them_format_1(lif, tmp_path):
    import json
    step_network(lif).save(tmp_path / "with.npz")
    spp.Network(lif, 2, spp.fixed_outdegree(0, 0.0, seed=1), seed=1).save(tmp_path / "without.npz")
    for name, version in (("with", 2), ("without", 1)):
        with np.load(tmp_path / f"{name}.npz") as data:
            assert json.loads(str(data["header"]))["format"] == version


def test_two_stimuli_at_one_instant_apply_in_the_order_given(lif):
    for first, second in ((I_ON, I_OFF), (I_OFF, I_ON)):
        net = spp.Network(lif, 2, spp.fixed_outdegree(0, 0.0, seed=1), initial_state={"v": 0.0},
                          inputs=[spp.Stimulus(None, "I", [T_ON], [first]),
                                  spp.Stimulus(None, "I", [T_ON], [second])])
        res = net.run(duration=20.0, record={"I": [0], "times": [T_ON]})
        assert res.state["I"][0, 0] == second and net.state["I"][0] == second
