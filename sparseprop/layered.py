"""Layered networks for classifiers: `layers(model, sizes, ...)` builds a feed-forward stack
(optionally with recurrent hidden layers) as an ordinary network: a SpikeSource "input" of
sizes[0] inputs (give each sample's spikes with net.set_spikes("input", indices, times)),
populations "hidden1", ..., "output", and one projection per pair of consecutive layers.
"""
import numbers

import numpy as np

from .connectivity import from_edges
from .errors import ModelError

_SEED_STRIDE = 1009       # each projection's weights come from seed + layer * _SEED_STRIDE


def _per_layer(value, count, what):
    """`value` for each of `count` layers: one value for all, or a list of `count`."""
    if isinstance(value, list):
        if len(value) != count:
            raise ModelError(f"layers: {what} is a list of {len(value)}; give one value, or "
                             f"one per layer after the input ({count})")
        return value
    return [value] * count


def _weight_spec(spec, where):
    if not (isinstance(spec, tuple) and len(spec) == 2 and all(
            isinstance(x, numbers.Real) and not isinstance(x, bool) and np.isfinite(x)
            for x in spec) and spec[1] >= 0):
        raise ModelError(f"layers: {where} = {spec!r:.60}: give (mean, standard deviation) of "
                         f"the normal distribution the weights are drawn from, e.g. (0.1, 0.2)")
    return float(spec[0]), float(spec[1])


def layers(model, sizes, weight=(0.0, 1.0), p=1.0, delay=0.0, seed=0, recurrent=None,
           dale=None, parameters=None):
    """A layered network (a sparseprop Network of populations and projections).

    sizes: [inputs, hidden..., outputs], each >= 1, at least two entries. model: the model of
    every layer after the input, or a list of one per such layer. weight: (mean, std): each
    weight is drawn from the normal distribution N(mean, std) and divided by sqrt(n_pre), the
    fan-in of a dense projection; or a list of one per projection. p: connection probability
    between consecutive layers (1: dense; < 1: each pair independently, the same draw for the
    same seed). delay: ms (one value or one per projection). recurrent: None, or (mean, std)
    of all-to-all weights within each hidden layer (no autapses). dale: None, or the fraction
    of excitatory neurons of each layer that projects (input and hidden): their outgoing
    weights are |w|, the others' -|w| (Dale's law at initialisation). parameters: a dict for
    every layer, or a list of one per layer after the input. Seeds: the weights of projection
    k from seed + (k + 1) * 1009, Dale's signs and the initial state from seed."""
    from .population import Population, Projection, build_network
    from .sources import SpikeSource
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2 or not all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1
            for s in sizes):
        raise ModelError(f"layers: sizes = {sizes!r:.60}: give a list of at least two layer "
                         f"sizes (integers >= 1), inputs first, e.g. [5, 120, 3]")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ModelError(f"layers: seed = {seed!r:.40}: give an integer >= 0")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 < p <= 1:
        raise ModelError(f"layers: p = {p!r:.40}: give a connection probability in (0, 1]")
    if dale is not None and (isinstance(dale, bool) or not isinstance(dale, numbers.Real)
                             or not 0 <= dale <= 1):
        raise ModelError(f"layers: dale = {dale!r:.40}: give the fraction of excitatory "
                         f"neurons, in [0, 1], or None")
    count = len(sizes) - 1
    models = _per_layer(model, count, "model")
    values = _per_layer(parameters if parameters is not None else {}, count, "parameters")
    weights = [_weight_spec(w, "weight") for w in _per_layer(weight, count, "weight")]
    delays = _per_layer(delay, count, "delay")
    names = ["input"] + [f"hidden{k}" for k in range(1, count)] + ["output"]
    groups = [SpikeSource("input", sizes[0], [], [])]
    groups += [Population(names[k + 1], sizes[k + 1], parameters=values[k],
                          model=models[k] if isinstance(model, list) else None)
               for k in range(count)]
    rng = np.random.default_rng(seed)
    signs = [np.where(rng.random(n) < dale, 1.0, -1.0) if dale is not None else None
             for n in sizes[:-1]]
    projections = []
    for k in range(count):
        n_pre, n_post = sizes[k], sizes[k + 1]
        draw = np.random.default_rng(seed + (k + 1) * _SEED_STRIDE)
        pre, post = np.meshgrid(np.arange(n_pre), np.arange(n_post), indexing="ij")
        pre, post = pre.ravel(), post.ravel()
        if p < 1.0:
            keep = draw.random(pre.size) < p
            pre, post = pre[keep], post[keep]
        mean, std = weights[k]
        w = draw.normal(mean, std, pre.size) / np.sqrt(n_pre)
        if signs[k] is not None:
            w = signs[k][pre] * np.abs(w)
        projections.append(Projection(names[k], names[k + 1],
                                      from_edges(pre, post, w, delay=delays[k])))
    if recurrent is not None:
        mean, std = _weight_spec(recurrent, "recurrent")
        for k in range(1, count):
            n = sizes[k]
            if n < 2:
                continue
            draw = np.random.default_rng(seed + (count + k) * _SEED_STRIDE)
            pre, post = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
            off = pre != post
            pre, post = pre[off], post[off]
            w = draw.normal(mean, std, pre.size) / np.sqrt(n)
            if signs[k] is not None:
                w = signs[k][pre] * np.abs(w)
            projections.append(Projection(names[k], names[k], from_edges(pre, post, w)))
    first = models[0] if not isinstance(model, list) else None
    return build_network(first, groups, projections, seed=seed)


__all__ = ["layers"]
