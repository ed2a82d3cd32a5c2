"""Analysis hand-off (the neo extra): result.to_neo() gives NEO SpikeTrains that Elephant
analyses; its CV of one population equals our own isi_cv."""
import numpy as np
import pytest

import sparseprop as spp

neo = pytest.importorskip("neo", reason="to_neo needs the neo extra (neo, elephant)")
statistics = pytest.importorskip("elephant.statistics", reason="needs the neo extra (elephant)")
pytestmark = pytest.mark.filterwarnings("ignore:The 'copy' argument")   # elephant on quantities


@pytest.fixture(scope="module")
def result():
    pops = [spp.Population("E", 80, parameters={"I": 1.2}), spp.Population("I", 20)]
    net = spp.build_network("lif", pops, [
        spp.Projection("E", "I", spp.fixed_outdegree(5, 0.05, seed=1)),
        spp.Projection("I", "E", spp.fixed_outdegree(20, -0.1, seed=2, delay=1.0))], seed=4)
    net.run(duration=50.0)
    return net.run(duration=500.0)


def test_spike_trains_hold_every_spike(result):
    trains = result.to_neo()
    assert len(trains) == result.n
    assert sum(len(st) for st in trains) == result.n_spikes
    k = int(result.i[10])
    st = trains[k]
    assert st.annotations["neuron"] == k
    assert np.array_equal(st.rescale("ms").magnitude, result.t[result.i == k])
    assert float(st.t_start.rescale("ms")) == result.t_start
    assert float(st.t_stop.rescale("ms")) == result.t_end


def test_elephant_cv_equals_ours(result):
    trains = result.to_neo("E")
    assert len(trains) == 80 and trains[0].annotations["population"] == "E"
    ours = result.isi_cv("E")
    theirs = np.array([statistics.cv(statistics.isi(st)) if len(st) >= 3 else np.nan
                       for st in trains])
    assert np.sum(np.isfinite(ours)) > 40
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    assert np.allclose(ours[np.isfinite(ours)], theirs[np.isfinite(theirs)], rtol=1e-12)
    assert 0.0 < np.nanmean(ours) < 2.0


def test_bad_population(result):
    with pytest.raises(spp.ModelError, match="not a population"):
        result.to_neo("X")
    with pytest.raises(spp.ModelError, match="not a population"):
        result.isi_cv("X")
