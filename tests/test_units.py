"""Physical units: models, parameters, weights, delays, inputs and durations given with units
give the same spikes as their dimensionless versions; dimensions are checked."""
import numpy as np
import pytest

import sparseprop as spp
from sparseprop.units import mV, ms, nA, pA

QIF = "dv/dt = (v**2 + I)/tau : 1"


def test_tutorial_1_with_units_derives_the_same_model():
    plain = spp.NeuronModel(QIF, threshold="v >= inf", reset="v = -inf", on_pre="v += w",
                            parameters={"I": 0.1, "tau": 10.0}, name="qif")
    units = spp.NeuronModel(QIF, threshold="v >= inf", reset="v = -inf", on_pre="v += w",
                            parameters={"I": 0.1, "tau": 10 * ms}, name="qif")
    assert units.equations == plain.equations and units.parameters == plain.parameters
    assert units.spec() == plain.spec()
    k = units.compile()
    assert k.period() == plain.compile().period()
    phases = np.linspace(1.0, 90.0, 7)
    assert np.array_equal(k.ptc(phases, -0.05), plain.compile().ptc(phases, -0.05))


def brunel(with_units, n_e=200, n_i=50):
    """A Brunel E/I network (delays 1.5 ms, Poisson drive), with units or in plain numbers
    (ms and mV)."""
    if with_units:
        model = spp.NeuronModel("dv/dt = (mu - v)/tau : volt", threshold="v >= 20*mV",
                                reset="v = 10*mV", parameters={"mu": "25 mV", "tau": 20 * ms},
                                refractory="2 ms", name="brunel")
        w, we, d, rate, init, zero = "-0.5 mV", 0.1 * mV, "1.5 ms", "20 Hz", "10 mV", "0 mV"
    else:
        model = spp.NeuronModel("dv/dt = (mu - v)/tau : 1", threshold="v >= 20", reset="v = 10",
                                parameters={"mu": 25.0, "tau": 20.0}, refractory=2.0,
                                name="brunel")
        w, we, d, rate, init, zero = -0.5, 0.1, 1.5, 20.0, 10.0, 0.0
    pops = [spp.Population("E", n_e, parameters={"mu": zero}),
            spp.Population("I", n_i, parameters={"mu": zero}),
            spp.SpikeSource("kick", 1, [0, 0], ["5 ms", "7.5 ms"] if with_units else [5.0, 7.5])]
    net = spp.build_network(model, pops, [
        spp.Projection("E", "E", spp.fixed_indegree(20, we, seed=1, delay=d)),
        spp.Projection("I", "E", spp.fixed_indegree(5, w, seed=2, delay=d)),
        spp.Projection("E", "I", spp.fixed_indegree(20, we, seed=3, delay=d)),
        spp.Projection("I", "I", spp.fixed_indegree(5, w, seed=4, delay=d)),
        spp.Projection("kick", "E", spp.fixed_outdegree(50, "2 mV" if with_units else 2.0,
                                                        seed=5))],
        inputs=[spp.PoissonInput("E", 1000, rate, "0.06 mV" if with_units else 0.06),
                spp.PoissonInput("I", 1000, rate, 0.06 * mV if with_units else 0.06)],
        seed=5, initial_state={"v": init})
    return net.run(duration="150 ms" if with_units else 150.0,
                   record={"v": [0, 1], "dt": "0.5 ms" if with_units else 0.5})


def test_brunel_with_units_gives_the_same_spikes():
    a, b = brunel(True), brunel(False)
    assert a.n_spikes > 300
    assert np.array_equal(a.i, b.i) and np.array_equal(a.t, b.t)
    assert np.array_equal(a.source_t, b.source_t)
    assert np.array_equal(a.state["v"], b.state["v"])       # states in mV


def test_issue_example_converts_to_coherent_units():
    model = spp.NeuronModel("dv/dt = (E_L - v + R*I)/tau_m : volt", threshold="v >= -50*mV",
                            reset="v = -65*mV", parameters={"E_L": "-65 mV", "R": "100 Mohm",
                                                            "I": 0.2 * nA, "tau_m": "10 ms"})
    # ms, mV, pA, GOhm: R*I = 0.1 GOhm * 200 pA = 20 mV
    assert model.parameters == {"E_L": -65.0, "R": 0.1, "I": 200.0, "tau_m": 10.0}
    assert model.threshold_value == -50 and model.reset_value == -65
    T = model.compile().period()
    assert T == pytest.approx(10.0 * np.log(20.0 / 5.0), rel=1e-14)   # tau ln(RI/(RI - 15))
    changed = model.with_parameters(I="300 pA")
    assert changed.parameters["I"] == 300.0 and changed.units is not None


def test_linear_model_with_units_is_lif_exp():
    lif_exp = spp.load_model("lif_exp")
    units = spp.NeuronModel("dv/dt = (Ie + I - v)/tau_m : volt\ndI/dt = -I/tau_s : volt",
                            threshold="v >= 1*mV", reset="v = 0*mV", on_pre="I += w",
                            parameters={"Ie": "1.1 mV", "tau_m": "10 ms", "tau_s": "2 ms"},
                            name="lif_exp")
    assert units.spec() == lif_exp.spec() and units.parameters == lif_exp.parameters
    assert units.units.weight == {"pre": units.units.variables["I"]}
    net = spp.Network(units, 50, spp.fixed_outdegree(5, "-0.5 mV", seed=1, delay="1 ms"),
                      seed=2, parameters={"refractory": "0.5 ms"})
    ref = spp.Network(lif_exp, 50, spp.fixed_outdegree(5, -0.5, seed=1, delay=1.0), seed=2,
                      parameters={"refractory": 0.5})
    a, b = net.run(duration=100.0), ref.run(duration=100.0)
    assert a.n_spikes > 100 and np.array_equal(a.t, b.t) and np.array_equal(a.i, b.i)


@pytest.mark.parametrize("build, words", [
    (lambda: spp.NeuronModel("dv/dt = (E_L - v)/tau_m : volt", "v >= -50*mV", "v = -65*mV",
                             parameters={"E_L": "-65 mV", "tau_m": 20 * mV}),
     "the right-hand side is a pure number"),
    (lambda: spp.NeuronModel("dv/dt = (E_L - v + I)/tau_m : volt", "v >= -50*mV", "v = -65*mV",
                             parameters={"E_L": "-65 mV", "I": "1 nA", "tau_m": "20 ms"}),
     "'E_L - v' is voltage, 'I' is current"),
    (lambda: spp.NeuronModel("dv/dt = (E_L - v)/tau_m : volt", "v >= -50", "v = -65*mV",
                             parameters={"E_L": "-65 mV", "tau_m": "20 ms"}),
     "'-50' is a pure number"),
    (lambda: spp.NeuronModel("dv/dt = (E_L - v)/tau_m : volt", "v >= -50*mV", "v = -65*mV",
                             parameters={"E_L": "-65 mX", "tau_m": "20 ms"}),
     "unknown unit 'mX'"),
    (lambda: spp.NeuronModel("dv/dt = (E_L - v)/tau_m : volt", "v >= -50*mV", "v = -65*ms",
                             parameters={"E_L": "-65 mV", "tau_m": "20 ms"}),
     "the value is time, but v is voltage"),
    (lambda: spp.NeuronModel("dv/dt = (E_L - v)/tau_m : volt", "v >= -50*mV", "v = -65*mV",
                             parameters={"E_L": "-65 mV", "tau_m": "20 ms"},
                             refractory="2 mV"), "refractory"),
    (lambda: spp.load_model("lif").with_parameters(tau="1 nA"), "dimensions"),
    (lambda: spp.Network("lif", 10, spp.fixed_outdegree(2, "-0.1 mV", seed=1)),
     "declared without units|dimensionless"),
    (lambda: spp.fixed_outdegree(2, -0.1, seed=1, delay="1 mV"), "delay"),
    (lambda: spp.PoissonInput(None, 10, "5 ms", 0.1), "rate"),
    (lambda: spp.Network("lif", 10, spp.fixed_outdegree(2, -0.1, seed=1)).run("10 mV"),
     "duration"),
])
def test_bad_units_are_refused(build, words):
    with pytest.raises(spp.ModelError, match=words):
        build()


def test_weight_of_the_wrong_dimensions_is_refused():
    model = spp.NeuronModel("dv/dt = (E_L - v)/tau_m : volt", "v >= -50*mV", "v = -65*mV",
                            parameters={"E_L": "-45 mV", "tau_m": "20 ms"})
    with pytest.raises(spp.ModelError, match="the weight is current, but on_pre needs voltage"):
        spp.Network(model, 10, spp.fixed_outdegree(2, 5 * pA, seed=1))
    with pytest.raises(spp.ModelError, match="parameters: 'E_L'"):
        spp.Network(model, 10, spp.fixed_outdegree(2, "1 mV", seed=1),
                    parameters={"E_L": "3 ms"})
    net = spp.Network(model, 10, spp.fixed_outdegree(2, "1 mV", seed=1),
                      initial_state={"v": "-60 mV"})
    assert np.allclose(net.state, -60.0, rtol=1e-14)


def test_several_models_with_units():
    lif_exp = spp.NeuronModel("dv/dt = (Ie + I - v)/tau_m : volt\ndI/dt = -I/tau_s : volt",
                              threshold="v >= 1*mV", reset="v = 0*mV", on_pre="I += w",
                              parameters={"Ie": "1.1 mV", "tau_m": "10 ms", "tau_s": "2 ms"},
                              name="lif_exp")
    lif = spp.NeuronModel("dv/dt = (I - v)/tau : volt", threshold="v >= 1*mV",
                          reset="v = 0*mV", parameters={"I": "1.1 mV", "tau": "10 ms"},
                          name="lif")
    results = []
    for E, I, w in ((lif_exp, lif, "-0.2 mV"), ("lif_exp", "lif", -0.2)):
        net = spp.build_network(None, [
            spp.Population("E", 40, {"Ie": "1.2 mV" if w == "-0.2 mV" else 1.2}, model=E),
            spp.Population("I", 10, model=I)], [
            spp.Projection("E", "I", spp.fixed_outdegree(5, w, seed=1, delay=1.0)),
            spp.Projection("I", "E", spp.fixed_outdegree(10, w, seed=2))], seed=3)
        results.append(net.run(duration=60.0))
    a, b = results
    assert a.n_spikes > 100 and np.array_equal(a.i, b.i) and np.array_equal(a.t, b.t)
    with pytest.raises(spp.ModelError, match="the weight is current"):
        spp.build_network(None, [spp.Population("E", 4, model=lif_exp),
                                 spp.Population("I", 2, model=lif)],
                          [spp.Projection("E", "I", spp.fixed_outdegree(1, "5 pA", seed=1))])
    plain_v = spp.NeuronModel("dv/dt = -v/tau : 1", "v >= 1", "v = 0",
                              parameters={"tau": "10 ms"}, name="leak")
    with pytest.raises(spp.ModelError, match="'v' is voltage in one model and a pure number"):
        spp.build_network(None, [spp.Population("E", 4, model=lif_exp),
                                 spp.Population("L", 2, model=plain_v)])
