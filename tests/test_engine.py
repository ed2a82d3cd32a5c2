"""The event engines: sparse (SparseProp) against the conventional O(N) loop and against scipy."""
import math

import numpy as np
import pytest

import sparseprop as spp
from oracle import lif_spikes
from sparseprop.connectivity import fixed_outdegree
from sparseprop.network import Network


def _both(model, n, k, spikes, seed=1, weight=None):
    conn = fixed_outdegree(k, -1 / math.sqrt(k) if weight is None else weight, seed=seed)
    runs = [Network(model, n, conn, seed=seed + 1).run(max_spikes=spikes, engine=e)
            for e in ("sparse", "reference")]
    return runs


@pytest.mark.parametrize("n,k", [(100, 10), (500, 50), (2000, 100)])
def test_lif_sparse_equals_reference(n, k):
    sparse, reference = _both(spp.load_model("lif"), n, k, 10_000)
    assert sparse.n_spikes == reference.n_spikes == 10_000
    np.testing.assert_array_equal(sparse.i, reference.i)
    np.testing.assert_allclose(sparse.t, reference.t, rtol=1e-12, atol=0)
    np.testing.assert_allclose(sparse.final_phase, reference.final_phase, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", ["qif", "theta"])
def test_chaotic_models_agree_over_the_first_200_spikes(name):
    sparse, reference = _both(spp.load_model(name), 1000, 100, 200)
    np.testing.assert_array_equal(sparse.i, reference.i)
    np.testing.assert_allclose(sparse.t, reference.t, rtol=1e-12, atol=0)


def test_lif_against_scipy_event_location():
    """20 LIF neurons integrated by solve_ivp (rtol 1e-12) with threshold events: an oracle
    that shares nothing with sparseprop but the network's synapses and initial voltages."""
    I, tau, n = 1.1, 10.0, 20
    net = Network(spp.load_model("lif"), n, fixed_outdegree(5, -0.15, seed=3), seed=4)
    v = I * (1 - np.exp(-net.phase / tau))           # closed-form state of each initial phase
    pre, post, weight = net.synapses()
    result = net.run(max_spikes=100)
    spikes_i, spikes_t = lif_spikes(I, tau, v, pre, post, weight, 100)
    np.testing.assert_array_equal(result.i, spikes_i)
    np.testing.assert_allclose(result.t, spikes_t, rtol=0, atol=1e-8)


def test_reference_defaults_rate_is_about_3_4_hz():
    net = Network("lif", 10_000, fixed_outdegree(100, -0.1, seed=1), seed=2)
    net.run(duration=200.0)                           # let the initial transient pass
    result = net.run(duration=1000.0)
    assert 3.2 < result.rate < 3.6


def test_second_run_continues_the_first():
    conn = fixed_outdegree(20, -0.2, seed=5)
    whole = Network("lif", 300, conn, seed=6).run(duration=400.0)
    net = Network("lif", 300, conn, seed=6)
    first, second = net.run(duration=150.0), net.run(duration=250.0)
    assert (first.t_end, second.t_start, second.t_end) == (150.0, 150.0, 400.0)
    np.testing.assert_array_equal(np.concatenate([first.i, second.i]), whole.i)
    np.testing.assert_allclose(np.concatenate([first.t, second.t]), whole.t, rtol=1e-12)
    np.testing.assert_allclose(second.final_phase, whole.final_phase, atol=1e-9)


def test_renormalisation_keeps_long_runs_exact():
    """Many more spikes than neurons: the offset is renormalised many times."""
    sparse, reference = _both(spp.load_model("lif"), 50, 10, 40_000)
    np.testing.assert_array_equal(sparse.i, reference.i)
    np.testing.assert_allclose(sparse.t, reference.t, rtol=1e-12)


def test_ties_go_to_the_smaller_index():
    net = Network("lif", 4, fixed_outdegree(1, -0.0, seed=1), initial_phase=[1.0, 5.0, 5.0, 2.0])
    for engine in ("sparse", "reference"):
        result = Network("lif", 4, net.csr, initial_phase=[1.0, 5.0, 5.0, 2.0]).run(
            max_spikes=4, engine=engine)
        assert result.i.tolist() == [1, 2, 3, 0]


def test_excitation_over_threshold_fires_at_once():
    edges = spp.connectivity.from_edges([0], [1], 0.5)
    for engine in ("sparse", "reference"):
        result = Network("lif", 2, edges, initial_phase=[20.0, 19.0]).run(max_spikes=2, engine=engine)
        assert result.i.tolist() == [0, 1] and result.t[0] == result.t[1]


def test_result_save_and_load(tmp_path):
    result = Network("lif", 200, fixed_outdegree(10, -0.1, seed=1), seed=1).run(duration=100.0)
    path = tmp_path / "spikes.npz"
    result.save(path)
    back = spp.load_result(path)
    np.testing.assert_array_equal(back.i, result.i)
    np.testing.assert_array_equal(back.t, result.t)
    assert back.i.dtype == np.int32 and back.t.dtype == np.float64
    assert back.rate == result.rate and back.counts.sum() == result.n_spikes
    assert np.all(np.diff(back.t) >= 0)


@pytest.mark.parametrize("content", [b"", b"not a zip file", b"PK\x03\x04 broken"])
def test_corrupt_result_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(spp.ModelError, match="cannot read the result file"):
        spp.load_result(path)


def test_missing_result_file_is_a_clear_error(tmp_path):
    with pytest.raises(spp.ModelError, match="cannot read the result file"):
        spp.load_result(tmp_path / "none.npz")


@pytest.mark.parametrize("kwargs,match", [
    (dict(n=0), "positive integer"), (dict(n=-5), "positive integer"), (dict(n=2.5), "positive integer"),
    (dict(initial_phase=[1.0, 2.0]), "shape"), (dict(initial_phase="sorted"), "not known"),
    (dict(initial_phase=np.full(10, 1e9)), "outside"),
])
def test_bad_network_input(kwargs, match):
    args = dict(model="lif", n=10, connectivity=fixed_outdegree(3, -0.1, seed=1))
    args.update(kwargs)
    with pytest.raises(spp.ModelError, match=match):
        Network(**args)


@pytest.mark.parametrize("kwargs,match", [
    (dict(duration=-1.0), "duration"), (dict(duration=float("nan")), "duration"),
    (dict(), "duration"), (dict(duration=10.0, engine="fast"), "engine"),
    (dict(max_spikes=-3), "max_spikes"),
])
def test_bad_run_input(kwargs, match):
    net = Network("lif", 10, fixed_outdegree(3, -0.1, seed=1), seed=1)
    with pytest.raises(spp.ModelError, match=match):
        net.run(**kwargs)
    assert net.t == 0.0                               # nothing happened


def test_cli_simulate_writes_a_result(tmp_path, capsys):
    from sparseprop.cli import main
    out = tmp_path / "spikes.npz"
    assert main(["simulate", "-n", "2000", "-k", "50", "--duration", "100", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "synaptic events/s" in text and "rate" in text
    assert spp.load_result(out).n == 2000


def test_saving_into_a_missing_folder_is_a_clear_error(tmp_path):
    result = Network("lif", 20, fixed_outdegree(3, -0.1, seed=1), seed=1).run(duration=10.0)
    with pytest.raises(spp.ModelError, match="cannot save"):
        result.save(tmp_path / "no" / "such" / "folder" / "spikes.npz")
    assert not list(tmp_path.rglob("*"))
