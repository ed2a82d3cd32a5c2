"""`sparseprop simulate --network FILE`: a network described in TOML, with units, gives the
network built in Python; bad files get a ModelError naming the field."""
import numpy as np
import pytest

import sparseprop as spp
from sparseprop.cli import main
from sparseprop.network_file import read_network_file

MODEL = '''
name = "lif_mV"
equations = "dv/dt = (mu - v)/tau : volt"
threshold = "v >= 20*mV"
reset = "v = 10*mV"
refractory = "2 ms"
[parameters]
mu = "25 mV"
tau = "20 ms"
'''

NETWORK = '''
model = "{model}"
duration = "100 ms"
seed = 5
[[populations]]
name = "E"
n = 160
parameters = {{ mu = "0 mV" }}
[[populations]]
name = "I"
n = 40
parameters = {{ mu = "0 mV" }}
[[sources]]
kind = "spikes"
name = "kick"
n = 1
indices = [0, 0]
times = ["5 ms", "7.5 ms"]
[[projections]]
pre = "E"
post = "E"
rule = "fixed_indegree"
k = 16
weight = "0.1 mV"
delay = "1.5 ms"
seed = 1
[[projections]]
pre = "I"
post = "E"
rule = "fixed_indegree"
k = 4
weight = "-0.5 mV"
delay = "1.5 ms"
seed = 2
[[projections]]
pre = "kick"
post = "E"
rule = "fixed_outdegree"
k = 40
weight = "2 mV"
seed = 3
[[inputs]]
target = "E"
n = 1000
rate = "20 Hz"
weight = "0.06 mV"
[[inputs]]
target = "I"
n = 1000
rate = "20 Hz"
weight = "0.06 mV"
[initial_state]
v = "10 mV"
[record]
v = [0, 1, 170]
dt = "0.5 ms"
'''


@pytest.fixture
def files(tmp_path):
    model = tmp_path / "lif_mV.toml"
    model.write_text(MODEL)
    network = tmp_path / "net.toml"
    network.write_text(NETWORK.format(model=model))
    return model, network


def test_network_file_builds_the_python_network(files):
    model_file, network_file = files
    net, run = read_network_file(network_file)
    model = spp.NeuronModel("dv/dt = (mu - v)/tau : 1", threshold="v >= 20", reset="v = 10",
                            parameters={"mu": 25.0, "tau": 20.0}, refractory=2.0,
                            name="lif_mV")
    pops = [spp.Population("E", 160, parameters={"mu": 0.0}),
            spp.Population("I", 40, parameters={"mu": 0.0}),
            spp.SpikeSource("kick", 1, [0, 0], [5.0, 7.5])]
    ref = spp.build_network(model, pops, [
        spp.Projection("E", "E", spp.fixed_indegree(16, 0.1, seed=1, delay=1.5)),
        spp.Projection("I", "E", spp.fixed_indegree(4, -0.5, seed=2, delay=1.5)),
        spp.Projection("kick", "E", spp.fixed_outdegree(40, 2.0, seed=3))],
        inputs=[spp.PoissonInput("E", 1000, 20.0, 0.06), spp.PoissonInput("I", 1000, 20.0, 0.06)],
        seed=5, initial_state={"v": 10.0})
    a = net.run(**run)
    b = ref.run(duration=100.0, record={"v": [0, 1, 170], "dt": 0.5})
    assert a.n_spikes > 100
    assert np.array_equal(a.i, b.i) and np.array_equal(a.t, b.t)
    assert np.array_equal(a.state["v"], b.state["v"])


def test_simulate_command_writes_spikes_and_states(files, tmp_path, capsys):
    _, network_file = files
    out = tmp_path / "out.npz"
    assert main(["simulate", "--network", str(network_file), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "recorded v of 3 neurons at 200 times" in text
    result = spp.load_result(out)
    assert result.state["v"].shape == (3, 200) and result.n_spikes > 100


@pytest.mark.parametrize("change, words", [
    (lambda t: t.replace('rule = "fixed_indegree"', 'rule = "ring"', 1), "rule 'ring'"),
    (lambda t: t.replace('seed = 5', 'sede = 5', 1), "unknown field 'sede'"),
    (lambda t: t.replace('weight = "0.1 mV"', 'weight = "0.1 ms"', 1), "the weight is time"),
    (lambda t: t.replace('delay = "1.5 ms"', 'delay = "1.5 mV"', 1), "delay"),
    (lambda t: t.replace('k = 16', '', 1), "needs 'k'"),
    (lambda t: t.replace('duration = "100 ms"', '', 1), "neither duration"),
    (lambda t: t.replace('[[sources]]\nkind = "spikes"', '[[sources]]\nkind = "burst"', 1),
     "kind 'burst'"),
    (lambda t: t + "\n[[populations]\n", "not valid TOML"),
])
def test_bad_network_files(files, change, words, capsys):
    _, network_file = files
    network_file.write_text(change(network_file.read_text()))
    with pytest.raises(spp.ModelError, match=words):
        read_network_file(network_file)
    assert main(["simulate", "--network", str(network_file)]) == 2
    assert words.split("'")[0].strip() in capsys.readouterr().err
