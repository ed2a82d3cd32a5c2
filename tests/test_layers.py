"""Layered networks: layers() builds the populations and projections it says, an ordinary
network that runs and takes each sample's input spikes."""
import numpy as np
import pytest

import sparseprop as spp
from sparseprop import layers


def test_a_dense_stack_is_the_network_it_says():
    net = layers("lif", [5, 12, 3], weight=(0.5, 1.0), seed=7,
                 parameters=[{"I": 0.9}, {"I": 0.8}])
    assert net.n == 15 and net.populations == {"hidden1": slice(0, 12), "output": slice(12, 15)}
    assert net.source_slices() == {"input": slice(0, 5)}
    pre, post, w = net.synapses()
    assert pre.size == 5 * 12 + 12 * 3                        # dense
    first = pre >= 15                                          # input (senders 15..19) -> hidden
    assert set(post[first]) == set(range(12)) and set(post[~first]) == set(range(12, 15))
    draw = np.random.default_rng(7 + 1009)
    expected = draw.normal(0.5, 1.0, 60) / np.sqrt(5)          # input i -> hidden j at i*12 + j
    got = np.empty(60)
    got[(pre[first] - 15) * 12 + post[first]] = w[first]
    assert np.allclose(got, expected, rtol=0, atol=1e-15)
    assert np.allclose(net.parameters["I"], [0.9] * 12 + [0.8] * 3)
    net.store()
    net.set_spikes("input", [0, 1, 2, 3, 4] * 3, np.repeat([1.0, 2.0, 3.0], 5))
    result = net.run(duration=40.0)
    assert result.source_i.size == 15 and result.spikes_of("output")[0].size > 0


def test_sparse_recurrent_and_dale():
    net = layers("lif", [20, 30, 4], weight=[(0.0, 1.0), (0.2, 0.5)], p=0.3,
                 recurrent=(0.0, 0.5), dale=0.8, seed=3)
    pre, post, w = net.synapses()
    hidden_to_hidden = (pre < 30) & (post < 30)
    assert hidden_to_hidden.sum() == 30 * 29 and np.all(pre[hidden_to_hidden] !=
                                                        post[hidden_to_hidden])
    into_hidden = (pre >= 34) & (post < 30)
    assert 0.15 < into_hidden.sum() / (20 * 30) < 0.45       # p = 0.3
    for j in np.unique(pre):                                   # Dale: one sign per sender
        assert np.all(w[pre == j] >= 0) or np.all(w[pre == j] <= 0)


@pytest.mark.parametrize("kwargs, words", [
    (dict(sizes=[5]), "at least two"),
    (dict(sizes=[5, 0, 3]), "at least two"),
    (dict(sizes=[5, 3], weight=(0.1,)), "mean, standard deviation"),
    (dict(sizes=[5, 3], weight=[(0.1, 1.0)] * 2), "one per layer"),
    (dict(sizes=[5, 3], p=0.0), "probability"),
    (dict(sizes=[5, 3], dale=1.5), "fraction"),
    (dict(sizes=[5, 3], seed=-1), "seed"),
])
def test_bad_input(kwargs, words):
    with pytest.raises(spp.ModelError, match=words):
        layers("lif", **kwargs)
