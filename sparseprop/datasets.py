"""Data sets generated in the project (never downloaded) and spike encoders for classifiers.

yin_yang(n, seed): the Yin-Yang task of Kriener et al. (2021, "The Yin-Yang dataset"), by its
definition: points (x, y) in the square [0, 2 r_big]^2, inside the circle of radius r_big
around (r_big, r_big); class 2 ("dot") within r_small of the centres of the two dots, (0.5
r_big, r_big) and (1.5 r_big, r_big); class 1 between r_small and r_big/2 from the left dot,
or in the upper half farther than r_big/2 from the right one; class 0 elsewhere (the numbering
of the reference generator, lkriener/yin_yang_data_set). Each sample draws its class first
(uniformly), then
points until one of that class (rejection sampling), from numpy's RandomState(seed), so the
canonical sets are reproduced: seed 42 (5000 training samples), 41 (1000 validation), 40
(1000 test). Features: (x, y, 1 - x, 1 - y).

digits(): scikit-learn's bundled 8x8 handwritten digits (1797 images, 10 classes; the
`digits` extra; read from the installed package, never downloaded), as features in [0, 1].

latency(features, ...): time-to-first-spike coding, one spike per feature and an optional
bias spike; poisson(features, ...): rate coding. Both give (indices, times) for a SpikeSource.
"""
import math
import numbers

import numpy as np

from .errors import ModelError

CANONICAL = {"train": (42, 5000), "validation": (41, 1000), "test": (40, 1000)}


def _count(n, what):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ModelError(f"{what} = {n!r:.40}: give an integer >= 0")
    return int(n)


def _yin_yang_class(x, y, r_small, r_big):
    """The class of a point inside the big circle (2 dot; 1 where the criteria below hold,
    0 elsewhere: the reference's numbering)."""
    right = math.hypot(x - 1.5 * r_big, y - r_big)
    left = math.hypot(x - 0.5 * r_big, y - r_big)
    if right < r_small or left < r_small:
        return 2
    yin = (right <= r_small or r_small < left <= 0.5 * r_big
           or (y > r_big and right > 0.5 * r_big))
    return 1 if yin else 0


def yin_yang(n, seed=42, r_small=0.1, r_big=0.5):
    """(features (n, 4): x, y, 1 - x, 1 - y; labels (n,): 0, 1 or 2, the dots) of the
    Yin-Yang data set (see the module docstring); the canonical sets' seeds and sizes:
    CANONICAL."""
    n = _count(n, "n")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise ModelError(f"seed = {seed!r:.40}: give an integer in [0, 2**32)")
    if not (0 < r_small < 0.25 * r_big and r_big > 0 and math.isfinite(r_big)):
        raise ModelError(f"r_small = {r_small!r}, r_big = {r_big!r}: give 0 < r_small < "
                         f"r_big / 4 (the dots fit in the halves), e.g. 0.1 and 0.5")
    rng = np.random.RandomState(seed)
    features, labels = np.empty((n, 4)), np.empty(n, np.int64)
    for k in range(n):
        goal = rng.randint(3)
        while True:
            x, y = rng.rand(2) * 2.0 * r_big
            if math.sqrt((x - r_big) ** 2 + (y - r_big) ** 2) > r_big:
                continue
            if _yin_yang_class(x, y, r_small, r_big) == goal:
                break
        features[k] = (x, y, 1.0 - x, 1.0 - y)
        labels[k] = goal
    return features, labels


def digits():
    """(features (1797, 64): the 8x8 images' grey levels / 16, in [0, 1]; labels (1797,):
    0..9) of scikit-learn's bundled digits (UCI optical recognition of handwritten digits, the
    test part); needs the `digits` extra (scikit-learn), ModelError without it."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ModelError("digits() reads scikit-learn's bundled digits; install the 'digits' "
                         "extra: pip install 'sparseprop[digits]'") from None
    data = load_digits()
    return np.asarray(data.data, np.float64) / 16.0, np.asarray(data.target, np.int64)


def _features(features, what="features"):
    try:
        x = np.array(features, dtype=np.float64)
    except (TypeError, ValueError):
        raise ModelError(f"{what} must be numbers (samples x features)") from None
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] == 0:
        raise ModelError(f"{what} must be a 2-D array (samples x features); got shape "
                         f"{x.shape}")
    if not np.all(np.isfinite(x)):
        raise ModelError(f"{what} hold a value that is not finite (NaN or inf); every feature "
                         f"must be a number")
    if np.any(x < 0) or np.any(x > 1):
        raise ModelError(f"{what} must lie in [0, 1] (scale them first); got values from "
                         f"{x.min():g} to {x.max():g}")
    return x


def latency(features, t_early=0.0, t_late=2.0, bias_time=None):
    """Time-to-first-spike coding: feature f of a sample (in [0, 1]) fires once at t_early +
    f (t_late - t_early) ms; with bias_time, one more input (index = number of features) fires
    at that time. Returns one (indices, times) pair per sample, sorted by time (for a
    SpikeSource of features + bias inputs)."""
    x = _features(features)
    for name, value in (("t_early", t_early), ("t_late", t_late)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
                math.isfinite(value) and value >= 0):
            raise ModelError(f"{name} = {value!r:.40}: give a finite number of ms >= 0")
    if not t_late > t_early:
        raise ModelError(f"t_late = {t_late!r} must be later than t_early = {t_early!r}")
    if bias_time is not None and (isinstance(bias_time, bool) or not isinstance(
            bias_time, numbers.Real) or not (math.isfinite(bias_time) and bias_time >= 0)):
        raise ModelError(f"bias_time = {bias_time!r:.40}: give a finite number of ms >= 0, or "
                         f"None")
    out = []
    for row in x:
        times = t_early + row * (t_late - t_early)
        indices = np.arange(row.size)
        if bias_time is not None:
            times, indices = np.append(times, bias_time), np.append(indices, row.size)
        order = np.argsort(times, kind="stable")
        out.append((indices[order], times[order]))
    return out


def poisson(features, rate=100.0, duration=50.0, seed=0):
    """Rate coding: feature f of a sample (in [0, 1]) is a Poisson train of f * rate Hz over
    [0, duration) ms, from numpy's generator seeded by `seed` (one stream per call). Returns
    one (indices, times) pair per sample, sorted by time."""
    x = _features(features)
    for name, value in (("rate", rate), ("duration", duration)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
                math.isfinite(value) and value > 0):
            raise ModelError(f"{name} = {value!r:.40}: give a finite number > 0")
    rng = np.random.default_rng(seed)
    out = []
    for row in x:
        counts = rng.poisson(row * rate * duration / 1000.0)
        indices = np.repeat(np.arange(row.size), counts)
        times = rng.uniform(0.0, duration, indices.size)
        order = np.argsort(times, kind="stable")
        out.append((indices[order], times[order]))
    return out


__all__ = ["CANONICAL", "digits", "latency", "poisson", "yin_yang"]
