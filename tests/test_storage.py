"""Saving whole networks: net.save / load_network keep everything a run continues from, so a
network saved mid-run and continued in a new process gives the spikes of the uninterrupted
run; files that are not networks, damaged ones and newer formats are refused."""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import sparseprop as spp
from sparseprop.storage import FORMAT

CUSTOM = spp.NeuronModel("du/dt = (u**2 + I)/tau : 1", "u >= 10", "u = -10",
                         parameters={"I": 0.5, "tau": 5.0}, name="qif_custom")


def network(model, key, value):
    """An E/I network of `model` with per-neuron drives (parameter `key`), refractory periods,
    per-synapse and shared delays, a SpikeSource, a PoissonSource and a PoissonInput."""
    rng = np.random.default_rng(0)
    pops = [spp.Population("E", 100, parameters={key: value * rng.uniform(0.8, 1.2, 100),
                                                 "refractory": 0.5}),
            spp.Population("I", 20),
            spp.SpikeSource("stim", 2, [0, 1, 0], [5.0, 10.0, 70.0]),
            spp.PoissonSource("noise", 5, 20.0)]
    return spp.build_network(model, pops, [
        spp.Projection("E", "I", spp.fixed_outdegree(5, 0.05, seed=1,
                                                     delay=rng.uniform(0.1, 2.0, 500))),
        spp.Projection("I", "E", spp.fixed_outdegree(20, -0.05, seed=2, delay=1.0)),
        spp.Projection("stim", "E", spp.fixed_outdegree(10, 0.3, seed=3)),
        spp.Projection("noise", "I", spp.fixed_outdegree(4, 0.2, seed=4, delay=0.5))],
        inputs=[spp.PoissonInput("E", 10, 50.0, 0.02)], seed=4)


CASES = {"lif": ("lif", "I", 1.1), "lif_exp": ("lif_exp", "Ie", 1.1),
         "custom": (CUSTOM, "I", 0.5)}


def test_saved_mid_run_continues_in_a_new_process(tmp_path):
    expected = {}
    for name, (model, key, value) in CASES.items():
        net = network(model, key, value)
        net.run(duration=40.0)
        net.store("mid")
        net.save(tmp_path / f"{name}.npz")
        rest = net.run(duration=60.0)
        assert rest.n_spikes > 50 and rest.source_i.size > 0
        expected[name] = rest
    script = textwrap.dedent(f"""
        import numpy as np, sparseprop as spp
        for name in {sorted(CASES)!r}:
            net = spp.load_network({str(tmp_path)!r} + f"/{{name}}.npz")
            assert list(net._stored) == ["mid"]
            r = net.run(duration=60.0)
            np.savez({str(tmp_path)!r} + f"/{{name}}_out.npz", i=r.i, t=r.t, si=r.source_i,
                     st=r.source_t)
    """)
    subprocess.run([sys.executable, "-c", script], check=True)
    for name, rest in expected.items():
        got = np.load(tmp_path / f"{name}_out.npz")
        assert np.array_equal(got["i"], rest.i) and np.array_equal(got["t"], rest.t), name
        assert np.array_equal(got["si"], rest.source_i) and np.array_equal(got["st"], rest.source_t)


def test_round_trip_keeps_the_definition(tmp_path):
    net = network("lif_exp", "Ie", 1.1)
    net.save(tmp_path / "n.npz")
    back = spp.load_network(tmp_path / "n.npz")
    assert back.model.equations == net.model.equations and back.n == net.n
    assert back.populations == net.populations
    for a, b in zip(net.synapses(), back.synapses()):
        assert np.array_equal(a, b)
    assert np.array_equal(net.delays(), back.delays())
    assert all(np.array_equal(net.parameters[p], back.parameters[p]) for p in net.parameters)
    assert np.array_equal(net.refractory, back.refractory)
    assert [repr(s) for s in back.sources] == [repr(s) for s in net.sources]
    assert [repr(p) for p in back.poisson_inputs] == [repr(p) for p in net.poisson_inputs]
    # a network of several models
    mixed = spp.build_network(None, [spp.Population("A", 3, model="lif_exp"),
                                     spp.Population("B", 2, model="lif")], seed=1)
    mixed.run(duration=5.0)
    mixed.save(tmp_path / "m.npz")
    again = spp.load_network(tmp_path / "m.npz")
    assert np.array_equal(again.model_index, mixed.model_index)
    a, b = mixed.run(duration=30.0), again.run(duration=30.0)
    assert a.n_spikes > 0 and np.array_equal(a.t, b.t) and np.array_equal(a.i, b.i)


def _rewrite(source, target, change):
    with np.load(source) as data:
        arrays = {f: data[f] for f in data.files}
    change(arrays)
    np.savez(target, **arrays)


def test_bad_files_are_refused(tmp_path):
    net = network("lif", "I", 1.1)
    good = tmp_path / "n.npz"
    net.save(good)

    def header(**values):
        def change(arrays):
            h = json.loads(str(arrays["header"]))
            h.update(values)
            arrays["header"] = np.array(json.dumps(h))
        return change

    _rewrite(good, tmp_path / "newer.npz", header(format=FORMAT + 1))
    with pytest.raises(spp.ModelError, match="newer"):
        spp.load_network(tmp_path / "newer.npz")
    _rewrite(good, tmp_path / "table.npz", lambda a: a.update(table=a["table"][:, :2]))
    with pytest.raises(spp.ModelError, match="parameter table"):
        spp.load_network(tmp_path / "table.npz")
    _rewrite(good, tmp_path / "queue.npz", lambda a: a.pop("current_queue_time"))
    with pytest.raises(spp.ModelError, match="inconsistent"):
        spp.load_network(tmp_path / "queue.npz")
    _rewrite(good, tmp_path / "phase.npz", lambda a: a.update(current_phase=a["current_phase"][:5]))
    with pytest.raises(spp.ModelError, match="inconsistent"):
        spp.load_network(tmp_path / "phase.npz")
    net.run(duration=1.0).save(tmp_path / "result.npz")
    with pytest.raises(spp.ModelError, match="not a sparseprop network"):
        spp.load_network(tmp_path / "result.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(spp.ModelError, match="not an .npz file written by net.save"):
        spp.load_network(tmp_path / "text.npz")
    with pytest.raises(spp.ModelError, match="cannot read"):
        spp.load_network(tmp_path / "missing.npz")
    with pytest.raises(spp.ModelError, match="not a regular file"):
        spp.load_network(tmp_path)
    with pytest.raises(spp.ModelError, match="file path"):
        spp.load_network(3)
    with pytest.raises(spp.ModelError, match="does not exist"):
        net.save(tmp_path / "no" / "n.npz")
    assert not list((tmp_path).glob(".tmp_*"))
