"""Data sets and encoders: the Yin-Yang generator reproduces the reference sets; encoders give
the spikes their definitions say; bad input is a ModelError."""
import numpy as np
import pytest

import sparseprop as spp
from sparseprop import datasets


def test_yin_yang_reproduces_the_reference_class_counts():
    x, y = datasets.yin_yang(5000, seed=42)
    assert list(np.bincount(y)) == [1681, 1702, 1617]      # Kriener et al.'s training set
    assert x.shape == (5000, 4) and np.allclose(x[:, 2:], 1.0 - x[:, :2])
    assert np.all(np.hypot(x[:, 0] - 0.5, x[:, 1] - 0.5) <= 0.5)
    dots = np.minimum(np.hypot(x[:, 0] - 0.25, x[:, 1] - 0.5), np.hypot(x[:, 0] - 0.75,
                                                                         x[:, 1] - 0.5))
    assert np.array_equal(y == 2, dots < 0.1)
    again, _ = datasets.yin_yang(5000, seed=42)
    assert np.array_equal(again, x)                          # a pure function of the seed


def test_encoders():
    x = np.array([[0.0, 0.5, 1.0]])
    (i, t), = datasets.latency(x, t_early=1.0, t_late=3.0, bias_time=0.5)
    assert list(i) == [3, 0, 1, 2] and list(t) == [0.5, 1.0, 2.0, 3.0]
    src = spp.SpikeSource("in", 4, i, t)                     # what a network takes
    assert src.times.size == 4
    trains = datasets.poisson(np.full((200, 2), [0.0, 1.0]), rate=100.0, duration=100.0, seed=1)
    counts = np.array([np.bincount(i, minlength=2) for i, _ in trains])
    assert counts[:, 0].sum() == 0 and abs(counts[:, 1].mean() - 10.0) < 1.0
    assert all(np.all(np.diff(t) >= 0) and np.all((t >= 0) & (t < 100.0)) for _, t in trains)


@pytest.mark.parametrize("call, words", [
    (lambda: datasets.yin_yang(-1), "n = -1"),
    (lambda: datasets.yin_yang(10, seed=-3), "seed"),
    (lambda: datasets.yin_yang(10, r_small=0.3), "r_small"),
    (lambda: datasets.latency([[0.5, np.nan]]), "not finite"),
    (lambda: datasets.latency([[0.5, 1.5]]), r"\[0, 1\]"),
    (lambda: datasets.latency([[0.5]], t_early=2.0, t_late=1.0), "later"),
    (lambda: datasets.latency([]), "2-D"),
    (lambda: datasets.poisson([[0.5]], rate=-1.0), "rate"),
])
def test_bad_input(call, words):
    with pytest.raises(spp.ModelError, match=words):
        call()


def test_digits_are_read_from_scikit_learn_and_latency_coded():
    features, labels = datasets.digits()
    assert features.shape == (1797, 64) and labels.shape == (1797,)
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert features.min() == 0.0 and features.max() == 1.0
    assert features[0].reshape(8, 8)[0].tolist() == [0, 0, 5 / 16, 13 / 16, 9 / 16, 1 / 16, 0, 0]
    (indices, times), = datasets.latency(features[:1], t_late=10.0)
    assert indices.size == 64 and times.max() == 10.0 * features[0].max()


def test_digits_without_scikit_learn(monkeypatch):
    import builtins
    real = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(spp.ModelError, match=r"pip install 'sparseprop\[digits\]'"):
        datasets.digits()
