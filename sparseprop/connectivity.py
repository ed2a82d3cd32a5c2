"""Network connectivity: recipes (`Connectivity`) that build a CSR table of synapses.

Synapses are stored by presynaptic neuron (CSR): the targets of neuron i are
`indices[indptr[i]:indptr[i+1]]`, with weight `weights[s]` for synapse s, or the shared scalar
`weight` when every synapse has the same weight (`weights is None`). Likewise every synapse has
a delay in ms (finite, >= 0): `delays[s]`, or the shared scalar `delay` (`delays is None`).

With per-synapse delays every row is stored sorted by delay, shorter first, and stably (synapses
of equal delay keep the order they were given in, so a builder's ascending targets stay
ascending among equal delays); `CSR(...)` sorts the rows itself, permuting indices, weights and
delays together. This is the order the engine delivers a spike's inputs in: it keeps one queue
entry per spike in flight and walks the row from shorter to longer delays. Per-synapse weight
and delay arrays given to a recipe are in the order before this sort (the builder's CSR order,
or the edge order of from_edges), so a synapse's weight and delay always stay together.

A recipe does not know the network size until `build(n)` is called:

    conn = fixed_outdegree(100, -0.1, seed=1)
    csr = conn.build(10**5)

`build_between(n_pre, n_post, same)` builds the same recipe as a projection from a population
of n_pre neurons to one of n_post neurons (a `CSR` of n_pre rows with local indices into
n_post neurons); `same=True` when both are one population, which excludes autapses exactly as
`build(n)` does (`build(n)` is `build_between(n, n, True)`). `columns=(c0, c1)` keeps only the
synapses into neurons c0..c1-1 (a process's part of a distributed network): the table
`build_between(n_pre, n_post, same).columns(c0, c1)`, which the built-in recipes build without
making the whole table (every random draw is still made, so the network does not depend on
how it is split).

Random builders are deterministic for a given seed (same seed, same arrays, on one numba
version); `seed=None` draws fresh randomness at every build. The random kernels are numba
functions using numba's own generator, seeded inside the kernel (so a build reseeds numba's
per-thread generator: jitted code that relies on it should seed it itself); numba and networkx
are imported only when first needed.
"""
import math
import numbers
import os
import reprlib

import numba
import numpy as np

from . import memory, units
from .engine.splitmix import below, row_state, uniform
from .engine.synapses import CANDIDATES, K, KEY, POST_LO, PRE_HI, PRE_LO, SAME, synapses, targets
from .errors import ModelError

__all__ = ["CSR", "Procedural", "Connectivity", "fixed_outdegree", "fixed_indegree", "erdos_renyi",
           "from_edges", "from_networkx"]

_MAX_N = 2**31 - 1  # indices are int32


# ----------------------------------------------------------------------------- the CSR table

class CSR:
    """Synapses of a network of `n` neurons, stored by presynaptic neuron.

    Attributes: `n`; `indptr` (int64, length n+1); `indices` (int32, postsynaptic neuron of each
    synapse, length nnz); `weights` (float64, length nnz) or None when every synapse has the
    same weight; `weight` (that shared weight when `weights` is None, else nan); `delays`
    (float64, length nnz, ms) or None when every synapse has the same delay; `delay` (that
    shared delay in ms when `delays` is None, else nan). Delays are finite numbers of ms >= 0.
    A projection between two populations (`Connectivity.build_between`) is a CSR with n rows
    (presynaptic neurons) and `n_post` postsynaptic neurons (local indices); else n_post = n.

    Row order with per-synapse delays: the constructor stores every row sorted by delay,
    shorter first, stably (synapses of equal delay keep their given order), permuting
    `indices`, `weights` and `delays` together (skipped, in one O(nnz) pass, when the rows are
    already sorted). The engine delivers a spike's inputs in this order. `validate()` refuses
    a table whose rows are not sorted (delays changed by hand): build a new CSR instead.

    `ports` (uint8, length nnz) or None: the input port of each synapse, an index into the
    model's ports (LinearModel's on_pre per port); None is port 0 for every synapse.
    """

    __slots__ = ("n", "n_post", "indptr", "indices", "weights", "weight", "delays", "delay",
                 "ports", "_shortest")

    def __init__(self, n, indptr, indices, weights=None, weight=math.nan, n_post=None,
                 delays=None, delay=0.0, ports=None):
        self.n = _check_n(n)
        self.n_post = self.n if n_post is None else _check_n(
            n_post, "CSR", "n_post, the number of postsynaptic neurons")
        self.indptr = _integers(indptr, "CSR: indptr", np.int64)
        self.indices = _integers(indices, "CSR: indices", np.int32)
        if self.indptr.shape != (self.n + 1,):
            raise ModelError(f"CSR: indptr must have length n + 1 = {self.n + 1}, "
                             f"got shape {self.indptr.shape}")
        if self.indices.ndim != 1 or self.indptr[0] != 0 or self.indptr[-1] != len(self.indices):
            raise ModelError(f"CSR: indptr must start at 0 and end at len(indices) = "
                             f"{self.indices.size}; got {self.indptr[0]} .. {self.indptr[-1]}")
        if weights is None:
            value = weight.item() if isinstance(weight, np.ndarray) and weight.ndim == 0 else weight
            try:
                self.weight = _check_scalar_weight(value, "CSR")
            except ModelError:
                raise ModelError(f"CSR: give weights (one finite number per synapse) or one "
                                 f"finite shared weight=...; got weight={weight!r:.60}") from None
            self.weights = None
        else:
            self.weights = _real_array(weights, "CSR: weights", copy=False)
            if self.weights.shape != self.indices.shape:
                raise ModelError(f"CSR: weights must have one value per synapse "
                                 f"({self.indices.size}), got shape {self.weights.shape}")
            self.weight = math.nan
        self.ports = None
        if ports is not None:
            ports = _integers(ports, "CSR: ports", np.int64)
            if ports.shape != self.indices.shape or (ports.size and (
                    ports.min() < 0 or ports.max() > 255)):
                raise ModelError(f"CSR: ports must be one port index in [0, 255] per synapse "
                                 f"({self.indices.size}); got shape {ports.shape}")
            self.ports = ports.astype(np.uint8) if ports.any() else None
        if delays is None:
            value = delay.item() if isinstance(delay, np.ndarray) and delay.ndim == 0 else delay
            try:
                self.delay = _check_scalar_delay(value, "CSR")
            except ModelError:
                raise ModelError(f"CSR: give delays (one number of ms >= 0 per synapse) or one "
                                 f"shared delay=... (a finite number of ms >= 0); got "
                                 f"delay={delay!r:.60}") from None
            self.delays = None
        else:
            if isinstance(delays, (numbers.Number, str, bytes)) or (
                    isinstance(delays, np.ndarray) and delays.ndim == 0):
                raise ModelError(f"CSR: delays must have one value per synapse "
                                 f"({self.indices.size}); got the single value {delays!r:.60} "
                                 f"(one delay for all synapses: delay=...)")
            self.delays = _real_array(delays, "CSR: delays", copy=False)
            if self.delays.shape != self.indices.shape:
                raise ModelError(f"CSR: delays must have one value per synapse "
                                 f"({self.indices.size}), got shape {self.delays.shape}")
            _check_delay_values(self.delays, "CSR")
            self.delay = math.nan
            monotone = not np.any(np.diff(self.indptr) < 0)    # else validate() says where
            arrays = [self.indices] + [a for a in (self.weights, self.ports) if a is not None]
            result = _sorted_by_delay(self.indptr, self.delays, *arrays) if monotone else None
            if result is not None:                # new arrays: the caller's are left as given
                self.delays, self.indices, rest = result[0], result[1], list(result[2:])
                if self.weights is not None:
                    self.weights = rest.pop(0)
                if self.ports is not None:
                    self.ports = rest.pop(0)
        self.validate()
    @property
    def nnz(self):
        """Number of synapses."""
        return int(self.indices.size)

    def out_degree(self):
        """Number of synapses leaving each neuron (int64 array of length n)."""
        return np.diff(self.indptr)

    def in_degree(self):
        """Number of synapses reaching each neuron (int64 array of length n_post)."""
        return np.bincount(self.indices, minlength=self.n_post).astype(np.int64)

    def weight_array(self):
        """The weight of every synapse, float64 of length nnz, in CSR order (a copy)."""
        if self.weights is None:
            return np.full(self.nnz, self.weight, dtype=np.float64)
        return self.weights.copy()

    def delay_array(self):
        """The delay of every synapse in ms, float64 of length nnz, in CSR order (a copy)."""
        if self.delays is None:
            return np.full(self.nnz, self.delay, dtype=np.float64)
        return self.delays.copy()

    @property
    def shortest_delay(self):
        """The shortest delay > 0 of any synapse in ms (inf when there is none); computed once
        (the engine's look-ahead: a stale value after delays changed by hand costs speed only)."""
        try:
            return self._shortest
        except AttributeError:
            delays = self.delays if self.delays is not None else np.array([self.delay])
            positive = delays[delays > 0.0] if self.nnz else delays[:0]
            self._shortest = float(positive.min()) if positive.size else math.inf
            return self._shortest

    @property
    def max_delay(self):
        """The longest delay of any synapse in ms (0.0 when there are no synapses)."""
        if not self.nnz:
            return 0.0
        return float(self.delay if self.delays is None else self.delays.max())

    def columns(self, lo, hi):
        """The synapses into neurons lo..hi-1 only: a CSR of the same n rows into hi - lo
        neurons (index i becomes i - lo), each row's synapses in their order here;
        0 <= lo < hi <= n_post (a ModelError otherwise)."""
        lo, hi = _check_columns((lo, hi), self.n_post, "CSR.columns") or (0, self.n_post)
        keep = (self.indices >= lo) & (self.indices < hi)
        kept = np.zeros(self.nnz + 1, np.int64)       # kept[s]: synapses kept before s
        np.cumsum(keep, out=kept[1:])
        indptr = kept[self.indptr]
        return CSR(self.n, indptr, self.indices[keep] - lo, n_post=hi - lo,
                   weights=None if self.weights is None else self.weights[keep],
                   weight=self.weight, delays=None if self.delays is None else self.delays[keep],
                   delay=self.delay, ports=None if self.ports is None else self.ports[keep])

    def synapses(self):
        """(pre int32, post int32, weight float64) arrays of length nnz, in CSR order.

        `post` is a read-only view of `indices`; the other two are new arrays.
        """
        pre = np.repeat(np.arange(self.n, dtype=np.int32), self.out_degree())
        post = self.indices.view()
        post.flags.writeable = False
        return pre, post, self.weight_array()

    def validate(self):
        """Check the whole table (shapes, monotone indptr, indices in [0, n_post), finite
        weights; O(nnz)) and return it; ModelError names the first offending entry. Network
        calls it on every table it is given, so a table changed by hand is caught too."""
        _check_n(self.n, "CSR")
        _check_n(self.n_post, "CSR", "n_post, the number of postsynaptic neurons")
        if not (isinstance(self.indptr, np.ndarray) and self.indptr.dtype == np.int64
                and self.indptr.shape == (self.n + 1,) and isinstance(self.indices, np.ndarray)
                and self.indices.dtype == np.int32 and self.indices.ndim == 1
                and self.indptr[0] == 0 and self.indptr[-1] == self.indices.size):
            raise ModelError(f"CSR: indptr must be int64 of length n + 1 = {self.n + 1} from 0 "
                             f"to len(indices), indices int32 (build a new CSR(...) rather "
                             f"than replacing its arrays)")
        steps = np.diff(self.indptr)
        if np.any(steps < 0):
            k = int(np.argmax(steps < 0))
            raise ModelError(f"CSR: indptr must be non-decreasing; indptr[{k}] = "
                             f"{self.indptr[k]} > indptr[{k + 1}] = {self.indptr[k + 1]}")
        per_synapse = self.delays is not None
        if per_synapse and not (isinstance(self.delays, np.ndarray) and
                                self.delays.dtype == np.float64 and
                                self.delays.shape == self.indices.shape):
            raise ModelError(f"CSR: delays must be float64, one per synapse ({self.nnz}) "
                             f"(build a new CSR(..., delays=...) rather than replacing its "
                             f"arrays)")
        fault, s = _first_fault(self.indptr, self.indices, self.n_post,
                                self.delays if per_synapse else _NO_DELAYS)
        if fault == _TARGET:
            raise ModelError(f"CSR: synapse {s} targets neuron {self.indices[s]}, outside "
                             f"[0, {self.n_post}); indices are postsynaptic neuron indices")
        if self.weights is not None:
            if not (isinstance(self.weights, np.ndarray) and self.weights.dtype == np.float64
                    and self.weights.shape == self.indices.shape):
                raise ModelError(f"CSR: weights must be float64, one per synapse ({self.nnz})")
            finite = np.isfinite(self.weights) if not math.isfinite(np.sum(self.weights)) \
                else True   # a finite sum: every weight is finite (one pass, no mask)
            if not np.all(finite):
                s = int(np.argmin(finite))
                raise ModelError(f"CSR: the weight of synapse {s} is {self.weights[s]}; weights "
                                 f"must be finite numbers")
        elif isinstance(self.weight, (bool, np.bool_)) or not isinstance(
                self.weight, numbers.Real) or not math.isfinite(self.weight):
            raise ModelError(f"CSR: the shared weight is {self.weight!r:.60}; it must be a finite "
                             f"number")
        if self.ports is not None and not (isinstance(self.ports, np.ndarray) and
                                           self.ports.dtype == np.uint8 and
                                           self.ports.shape == self.indices.shape):
            raise ModelError(f"CSR: ports must be uint8, one per synapse ({self.nnz}) (build a "
                             f"new CSR(..., ports=...) rather than replacing its arrays)")
        if fault == _DELAY:
            raise ModelError(f"CSR: the delay of synapse {s} is {self.delays[s]} ms; delays "
                             f"must be finite numbers of ms >= 0")
        if fault == _ORDER:
            row = int(np.searchsorted(self.indptr, s, side="right")) - 1
            raise ModelError(
                f"CSR: row {row} is not sorted by delay: synapse {s} has delay "
                f"{self.delays[s]:g} ms after {self.delays[s - 1]:g} ms; rows must be sorted "
                f"by delay (the engine's delivery order), so build a new CSR(..., "
                f"delays=...), which sorts them, rather than changing the arrays by hand")
        if not per_synapse:
            _check_scalar_delay(self.delay, "CSR: the shared delay")
        return self

    def __repr__(self):
        w = f"weight={self.weight:g}" if self.weights is None else f"weights=<{self.nnz} float64>"
        d = f"delay={self.delay:g}" if self.delays is None else f"delays=<{self.nnz} float64>"
        post = f", n_post={self.n_post}" if self.n_post != self.n else ""
        return f"CSR(n={self.n}{post}, nnz={self.nnz}, {w}, {d})"


# ----------------------------------------------------------------------------- procedural tables
#
# A Procedural table is a CSR whose rows are not kept: the synapses of
# fixed_outdegree(..., procedural=True), drawn again at every spike by the loops
# (sparseprop.engine.synapses) where a stored table would be read. Anything that needs the
# synapses as arrays (indptr, indices, synapses(), per-synapse gradients of a large table)
# gets the materialised table, the same synapses stored (`stored()`, checked against the
# available memory first).

_PIECE = 1 << 22   # synapses drawn per piece when a table is materialised


def _key_of(seed):
    """The generator key (int64 bits of a uint64) of a recipe's seed (None: fresh entropy)."""
    sequence = np.random.SeedSequence(None if seed is None else int(seed))
    return int(sequence.generate_state(1, dtype=np.uint64).view(np.int64)[0])


class Procedural(CSR):
    """Synapses of `n` senders into `n_post` neurons, drawn, not stored: senders pre_lo ..
    pre_hi - 1 have k synapses each, to neurons post_lo .. post_lo + m - 1 (m candidates, the
    sender itself left out when `same`: then m is the population's size - 1); `key` the
    generator's key; one shared `weight` and `delay`. `stored()` is the same table as a CSR."""

    __slots__ = ("k", "key", "pre_lo", "pre_hi", "post_lo", "same", "proc", "_stored")

    def __init__(self, n, n_post, k, key, pre_lo, pre_hi, post_lo, candidates, same, weight,
                 delay):
        self.n = _check_n(n, "Procedural")
        self.n_post = _check_n(n_post, "Procedural", "n_post, the number of postsynaptic neurons")
        self.k, self.key, self.same = int(k), int(key), bool(same)
        self.pre_lo, self.pre_hi, self.post_lo = int(pre_lo), int(pre_hi), int(post_lo)
        self.weight = _check_scalar_weight(weight, "Procedural")
        self.delay = _check_scalar_delay(delay, "Procedural: the shared delay")
        self.weights = self.delays = self.ports = None
        if not (0 <= self.pre_lo <= self.pre_hi <= self.n and self.k >= 0 and (
                self.k == 0 or 0 < candidates and self.post_lo + candidates + self.same
                <= self.n_post)):
            raise ModelError(f"Procedural: rows {pre_lo}..{pre_hi} of {n}, {k} synapses each, "
                             f"into {candidates} of neurons {post_lo}.. of {n_post}: out of "
                             f"range")
        self.proc = np.zeros(7, np.int64)
        self.proc[[K, KEY, PRE_LO, PRE_HI, POST_LO, CANDIDATES, SAME]] = (
            self.k, self.key, self.pre_lo, self.pre_hi, self.post_lo, candidates, self.same)
        self._stored = None

    @property
    def candidates(self):
        """How many neurons each synapse's target is drawn from."""
        return int(self.proc[CANDIDATES])

    def placed(self, n, n_post, pre_shift=0, post_shift=0):
        """The same synapses in a table of n senders into n_post neurons, the senders
        numbered pre_shift higher and the targets post_shift higher."""
        return Procedural(n, n_post, self.k, self.key, self.pre_lo + pre_shift,
                          self.pre_hi + pre_shift, self.post_lo + post_shift, self.candidates,
                          self.same, self.weight, self.delay)

    @property
    def nnz(self):
        """Number of synapses."""
        return (self.pre_hi - self.pre_lo) * self.k

    def out_degree(self):
        """Number of synapses leaving each neuron (int64 array of length n)."""
        degree = np.zeros(self.n, np.int64)
        degree[self.pre_lo:self.pre_hi] = self.k
        return degree

    @property
    def max_delay(self):
        """The delay of every synapse in ms (0.0 when there are no synapses)."""
        return self.delay if self.nnz else 0.0

    def stored(self):
        """This table materialised: a CSR with the same synapses in the same order (12 bytes
        per synapse; a ModelError first when they do not fit in the available memory)."""
        if self._stored is None:
            nnz = self.nnz
            memory.require(4 * nnz + 8 * (self.n + 1) + 8 * _PIECE,
                           f"materialising a procedural table of {nnz:,} synapses",
                           lambda free: "keep it procedural: this needs the synapses as "
                                        "arrays (per-synapse weights, delays or gradients, "
                                        "indptr/indices); use fewer neurons")
            rows = self.pre_hi - self.pre_lo
            indptr = np.clip(np.arange(self.n + 1, dtype=np.int64) - self.pre_lo, 0,
                             rows) * self.k
            indices = np.empty(nnz, np.int32)
            syn = synapses(self)
            for lo in range(0, nnz, _PIECE):
                hi = min(nnz, lo + _PIECE)
                out = np.empty(hi - lo, np.int64)
                targets(syn, np.arange(lo, hi, dtype=np.int64), out)
                indices[lo:hi] = out
            self._stored = CSR(self.n, indptr, indices, weight=self.weight, n_post=self.n_post,
                               delay=self.delay)
        return self._stored

    @property
    def indptr(self):
        return self.stored().indptr

    @property
    def indices(self):
        return self.stored().indices

    def weight_array(self):
        """The weight of every synapse (a ModelError when they do not fit in memory)."""
        memory.require(8 * self.nnz, f"the weights of {self.nnz:,} procedural synapses",
                       lambda free: "keep the shared weight")
        return np.full(self.nnz, self.weight)

    def delay_array(self):
        """The delay of every synapse in ms (a ModelError when they do not fit in memory)."""
        memory.require(8 * self.nnz, f"the delays of {self.nnz:,} procedural synapses",
                       lambda free: "keep the shared delay")
        return np.full(self.nnz, self.delay)

    def in_degree(self):
        return self.stored().in_degree()

    def columns(self, lo, hi):
        return self.stored().columns(lo, hi)

    def synapses(self):
        return self.stored().synapses()

    def validate(self):
        """Check the fields (O(1): nothing is stored) and return the table."""
        if not (isinstance(self.proc, np.ndarray) and self.proc.dtype == np.int64
                and self.proc.shape == (7,) and self.weights is None and self.delays is None
                and self.ports is None
                and tuple(self.proc[[K, KEY, PRE_LO, PRE_HI, POST_LO, SAME]]) == (
                    self.k, self.key, self.pre_lo, self.pre_hi, self.post_lo, self.same)):
            raise ModelError("Procedural: a procedural table's fields were changed by hand; "
                             "build it again from its recipe")
        _check_scalar_weight(self.weight, "Procedural")
        _check_scalar_delay(self.delay, "Procedural: the shared delay")
        return self

    def __repr__(self):
        return (f"Procedural(n={self.n}, n_post={self.n_post}, rows {self.pre_lo}.."
                f"{self.pre_hi - 1} x k={self.k}, weight={self.weight:g}, "
                f"delay={self.delay:g})")


# ----------------------------------------------------------------------------- recipes

class Connectivity:
    """A connectivity recipe; `build(n)` returns the `CSR` of a network of n neurons,
    `build_between(n_pre, n_post, same)` the `CSR` of a projection between populations.

    `kind` names the builder and `params` its arguments; `n` is the network size the recipe
    requires (e.g. the node count of a networkx graph), or None when any n will do. `builder`
    is called as builder(n_pre, n_post, same) and returns a `CSR` (n_pre rows, n_post targets).
    """

    _restricts = False   # the builder takes columns=(c0, c1) (the built-in recipes' private path)

    def __init__(self, kind, params, builder, n=None):
        if not isinstance(kind, str) or not kind:
            raise ModelError(f"Connectivity: kind must be a non-empty name such as 'my_rule'; "
                             f"got {kind!r:.60}")
        if not isinstance(params, dict):
            raise ModelError(f"Connectivity {kind}: params must be a dict of the recipe's "
                             f"arguments (name -> value); got {type(params).__name__}")
        if not callable(builder):
            raise ModelError(f"Connectivity {kind}: builder must be a function "
                             f"builder(n_pre, n_post, same) returning a CSR; got "
                             f"{type(builder).__name__}")
        self.kind = kind
        self.params = dict(params)
        self.n = None if n is None else _check_n(n, f"Connectivity {kind}")
        self._builder = builder
        self.weight_dims = None   # a weight given with units: its dimensions (sparseprop.units)

    def build(self, n):
        """The synapse table (`CSR`) for a network of `n` neurons (n: an int > 0)."""
        n = _check_n(n, f"{self.kind}(...).build")
        if self.n is not None and n != self.n:
            raise ModelError(f"{self.kind}: the connectivity is defined on {self.n} neurons, "
                             f"so build it with n={self.n}, not n={n}")
        return self._build(n, n, True, None)

    def build_between(self, n_pre, n_post, same, columns=None):
        """The synapses (`CSR`, n_pre rows, `n_post` set) from a population of `n_pre` neurons
        to one of `n_post`.

        `same=True`: pre and post are one population (n_pre == n_post), so no autapses, exactly
        as in `build(n)`; `same=False`: two populations, any pre neuron may reach any post
        neuron. Indices are local to each population. For a fixed seed the result is
        deterministic, and `build_between(n, n, True)` gives the arrays of `build(n)`.

        `columns=(c0, c1)`, 0 <= c0 < c1 <= n_post: only the synapses into post neurons
        c0..c1-1, the arrays of `build_between(n_pre, n_post, same).columns(c0, c1)` (n_post =
        c1 - c0 then); the built-in recipes store only those synapses (the whole table is never
        made), a recipe with its own builder builds the whole table and keeps these columns.
        """
        where = f"{self.kind}(...).build_between"
        n_pre = _check_n(n_pre, where, "n_pre, the number of presynaptic neurons")
        n_post = _check_n(n_post, where, "n_post, the number of postsynaptic neurons")
        if not isinstance(same, (bool, np.bool_)):
            raise ModelError(f"{where}: same must be True (pre and post are one population) or "
                             f"False (two populations); got {same!r}")
        same = bool(same)
        if same and n_pre != n_post:
            raise ModelError(f"{where}: same=True means one population, so n_pre must equal "
                             f"n_post; got n_pre={n_pre}, n_post={n_post} (use same=False for "
                             f"two populations)")
        if self.n is not None and not n_pre == n_post == self.n:
            raise ModelError(f"{self.kind}: the connectivity is defined on {self.n} neurons, "
                             f"so it connects a population of {self.n} to itself (n_pre = "
                             f"n_post = {self.n}); got n_pre={n_pre}, n_post={n_post}")
        columns = _check_columns(columns, n_post, where)
        return self._build(n_pre, n_post, same, columns)

    def _build(self, n_pre, n_post, same, columns):
        """The builder's table, checked: a CSR of n_pre rows into n_post neurons (a recipe built
        by hand may return anything), or into c1 - c0 of them for columns=(c0, c1) (checked; None
        for all); a table too large for memory is a ModelError."""
        restricted = columns is not None and self._restricts
        try:
            if restricted:
                csr = self._builder(n_pre, n_post, same, columns)
            else:
                csr = self._builder(n_pre, n_post, same)
        except MemoryError:
            raise ModelError(f"{self.kind}: not enough memory for the synapses of {n_pre} x "
                             f"{n_post} neurons with {_short(self.params)}; use fewer neurons or "
                             f"synapses per neuron") from None
        if not isinstance(csr, CSR):
            raise ModelError(f"{self.kind}: the recipe's builder must return a CSR table; it "
                             f"returned {type(csr).__name__}")
        width = columns[1] - columns[0] if restricted else n_post
        if csr.n != n_pre or csr.n_post != width:
            raise ModelError(f"{self.kind}: the recipe's builder returned a table connecting "
                             f"{csr.n} to {csr.n_post} neurons; {n_pre} to {width} were asked "
                             f"for")
        csr.validate()
        if columns is not None and not restricted:
            return csr.columns(*columns)
        return csr

    def __repr__(self):
        return f"Connectivity({self.kind}: {_short(self.params)})"


def fixed_outdegree(k, weight, seed=None, delay=0.0, procedural=False):
    """Every neuron projects to exactly k distinct other neurons (no autapses, no repeats).

    Targets are uniform among the other n-1 neurons, sorted ascending within a row (the
    SparseProp reference's convention); each row is drawn from its own stream of the seed, so a
    seed gives one table whatever the machine and however many cores build it. `weight`: a
    finite number shared by all synapses, or an array of n*k weights in CSR order (checked at
    build). Needs k < n at build time.
    Between two populations (`build_between(n_pre, n_post, False)`): each pre neuron reaches k
    distinct post neurons, k <= n_post, and a weight array has n_pre*k values.
    `delay` (keyword): the synaptic delay in ms, a finite number >= 0 shared by all synapses,
    or an array with one delay per synapse in the order of a weight array (checked at build);
    rows are then stored sorted by delay (see `CSR`).
    `procedural=True`: nothing is stored; each spike's k targets are drawn again from (seed,
    synapse number) by a counter-based generator (a `Procedural` table: 0 bytes per synapse,
    so networks far beyond memory run). A different draw from the stored one: the k targets are
    independent, uniform among the n - 1 other neurons, so one neuron may reach another twice
    (about k^2 / 2n repeats per row; NEST's fixed_outdegree with allow_multapses=True); the
    weight and the delay are then one number each.
    """
    where = "fixed_outdegree"
    k = _check_k(k, where)
    w = _check_weight(weight, where)
    _check_seed(seed, where)
    d = _check_delay(delay, where)
    procedural = _check_procedural(procedural, where, w, d)

    def builder(n_pre, n_post, same, columns=None):
        _check_k_vs_partners(k, n_pre, n_post, same, where, "n_post")
        if procedural:
            if columns is not None:
                raise ModelError(f"{where}(procedural=True): a distributed network's processes "
                                 f"each store their part of the table; give procedural=False")
            return Procedural(n_pre, n_post, k, _key_of(seed), 0, n_pre, 0, n_post - bool(same),
                              same, w, d)
        count = _count_text("n_pre", n_pre, k, same)
        c0, c1 = columns or (0, n_post)
        nnz = n_pre * k            # the synapses kept: all, or those into c0..c1-1, about
        if columns is not None:    # nnz (c1 - c0) / m (k targets uniform among m candidates)
            mean = nnz * (c1 - c0) / max(n_post - same, 1)
            nnz = min(nnz, int(mean + 12 * math.sqrt(mean)) + 16)   # 12 sd above the mean
        places = columns is not None and (isinstance(w, np.ndarray) or isinstance(d, np.ndarray))
        threads = 1 if columns is not None else _threads_for(nnz)
        # scratch per thread: marks, hash set; with places, where each row's kept synapses start
        _fits(where, k, n_pre, nnz, w, d, threads * (4 * n_post + 64 * k) + 8 * n_pre * places)
        weights = _values_for(w, n_pre * k, count, where, copy=columns is None)
        delays = _values_for(d, n_pre * k, count, where, "delay", copy=columns is None)
        run, key = _kernels().fixed_outdegree, _key_of(seed)
        if columns is not None:
            indptr, indices, first = run(n_post, k, same, key, 0, n_pre, c0, c1,
                                         np.empty(nnz, np.int32), places)
            indices = indices[:indptr[-1]]
        else:       # k per row: rows cut into one part per thread, each writing its own slice
            indptr = np.arange(n_pre + 1, dtype=np.int64) * k
            indices, first = np.empty(nnz, np.int32), None
            _at_once(run, [(n_post, k, same, key, lo, hi, 0, n_post, indices[lo * k:hi * k],
                            False) for lo, hi in _parts(0, n_pre, threads)], threads)
        weights, delays = _kept(weights, delays, indptr, first, columns)
        return _block(n_pre, c1 - c0, indptr, indices, w, weights, d, delays)

    return _with_units(_restricting(Connectivity(
        where, {"k": k, "weight": w, "delay": d, "seed": seed, "procedural": procedural},
        builder)), weight)


def fixed_indegree(k, weight, seed=None, delay=0.0, procedural=False):
    """Every neuron receives from exactly k distinct other neurons (no autapses, no repeats).

    Sources are uniform among the other n-1 neurons; the table is stored by presynaptic neuron,
    targets ascending within a row, so out-degrees vary. Each neuron's sources are drawn from
    its own stream of the seed: one table per seed, however many cores build it. `weight`: a
    finite number, or an array of n*k weights in CSR order (checked at build). Needs k < n at
    build time.
    Between two populations (`build_between(n_pre, n_post, False)`): each post neuron receives
    from k distinct pre neurons, k <= n_pre, and a weight array has n_post*k values.
    `delay` (keyword): the synaptic delay in ms, a finite number >= 0 shared by all synapses,
    or an array with one delay per synapse in the order of a weight array (checked at build);
    rows are then stored sorted by delay (see `CSR`).
    """
    where = "fixed_indegree"
    _no_procedural(procedural, where, "each neuron's k sources")
    k = _check_k(k, where)
    w = _check_weight(weight, where)
    _check_seed(seed, where)
    d = _check_delay(delay, where)

    def builder(n_pre, n_post, same, columns=None):
        _check_k_vs_partners(k, n_pre, n_post, same, where, "n_pre")
        count = _count_text("n_post", n_post, k, same)
        c0, c1 = columns or (0, n_post)
        nnz = (c1 - c0) * k
        places = columns is not None and (isinstance(w, np.ndarray) or isinstance(d, np.ndarray))
        if columns is None:        # the columns of one grouping block of all threads
            block = max(1 << 16, 8 * n_pre) // max(k, 1)
        else:                      # (at most 1/16 of the local synapses: as fast, measured)
            block = max(1 << 14, min(8 * n_pre, nnz // 16)) // max(k, 1)
        threads = _threads_for(nnz)
        block = max(1, min(block // threads, n_post if places else c1 - c0))
        # scratch per thread: grouping block, marks when dense, counts (3 arrays with places)
        dense = 8 * k > n_pre - same
        _fits(where, k, c1 - c0, nnz, w, d, threads * (
            16 * block * k + 4 * n_pre * dense + 8 * (n_pre + 1) * (1 + 2 * places))
            + 24 * (n_pre + 1))
        weights = _values_for(w, n_post * k, count, where, copy=columns is None)
        delays = _values_for(d, n_post * k, count, where, "delay", copy=columns is None)
        indptr, indices, first = _indegree_table(n_pre, n_post, k, same, _key_of(seed), c0, c1,
                                                 places, block, threads)
        weights, delays = _kept(weights, delays, indptr, first, columns)
        return _block(n_pre, c1 - c0, indptr, indices, w, weights, d, delays)

    return _with_units(_restricting(Connectivity(
        where, {"k": k, "weight": w, "delay": d, "seed": seed}, builder)), weight)


def erdos_renyi(p, weight, seed=None, delay=0.0, procedural=False):
    """Each ordered pair (i, j), i != j, is a synapse i -> j independently with probability p.

    Between two populations (`build_between(n_pre, n_post, False)`) every one of the
    n_pre*n_post pairs is a synapse with probability p.

    Built by geometric skipping, O(nnz + n) time, each row from its own stream of the seed;
    targets ascending within a row. `weight` is a finite number shared by all synapses (the
    synapse count is random, so no weight array: build, then use
    `from_edges(*csr.synapses()[:2], weights)` for per-synapse weights).
    `delay` (keyword): the synaptic delay in ms, likewise one finite number >= 0 (per-synapse
    delays: from_edges(..., delay=array) in the same way).
    """
    where = "erdos_renyi"
    _no_procedural(procedural, where, "each neuron's random number of targets")
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ModelError(f"{where}: p must be a probability, a number in [0, 1]; got {p!r:.60}")
    p = float(p)
    w = _check_weight(weight, where)
    if isinstance(w, np.ndarray):
        raise ModelError(f"{where}: weight must be one finite number shared by all synapses (the "
                         f"synapse count is random); for per-synapse weights build the network "
                         f"and pass its synapses with your weights to from_edges")
    _check_seed(seed, where)
    d = _check_delay(delay, where)
    if isinstance(d, np.ndarray):
        raise ModelError(f"{where}: delay must be one finite number of ms >= 0 shared by all "
                         f"synapses (the synapse count is random); for per-synapse delays build "
                         f"the network and pass its synapses with your delays to from_edges")

    def builder(n_pre, n_post, same, columns=None):
        c0, c1 = columns or (0, n_post)
        if p == 0.0 or n_post - same == 0:
            return _block(n_pre, c1 - c0, np.zeros(n_pre + 1, np.int64), np.zeros(0, np.int32),
                          w, None, d, None)
        mean = p * n_pre * (n_post - same)      # 12 standard deviations above the mean
        if columns is not None:
            mean = mean * (c1 - c0) / n_post    # (the local synapses)
        _fits(where, None, n_pre, int(mean + 12 * math.sqrt(mean) + 1), w, d, 8 * n_pre)
        indptr, indices = _erdos_renyi_table(n_pre, n_post, p, same, _key_of(seed), c0, c1,
                                             _threads_for(int(mean)))
        return _block(n_pre, c1 - c0, indptr, indices, w, None, d, None)

    return _with_units(_restricting(Connectivity(
        where, {"p": p, "weight": w, "delay": d, "seed": seed}, builder)), weight)


def from_edges(pre, post, weight, delay=0.0):
    """Synapses pre[e] -> post[e] given explicitly (integer arrays of equal length).

    Indices are checked to lie in [0, n) at build time; repeated pairs give several synapses and
    autapses are allowed. `weight`: a finite number, or an array with one weight per edge. The
    table is ordered by presynaptic neuron, keeping the given order within each neuron (with
    per-synapse delays: sorted by delay within each neuron, equal delays in the given order).
    `delay` (keyword): the synaptic delay in ms, a finite number >= 0, or an array with one
    delay per edge (in the order of pre and post, as a weight array).
    Between populations (`build_between`), pre holds local indices in [0, n_pre) and post local
    indices in [0, n_post).
    """
    where = "from_edges"
    pre = _check_index_array(pre, "pre", where)
    post = _check_index_array(post, "post", where)
    if pre.size != post.size:
        raise ModelError(f"{where}: pre and post must have the same length (one entry per "
                         f"synapse); got {pre.size} and {post.size}")
    w = _check_weight(weight, where)
    weights = _values_for(w, pre.size, "len(pre)", where)
    d = _check_delay(delay, where)
    delays = _values_for(d, pre.size, "len(pre)", where, "delay")
    recipe = _edges_recipe(where, {"edges": pre.size, "weight": w, "delay": d}, pre, post, w,
                           weights, d, delays)
    return _with_units(recipe, weight)


def from_networkx(graph, weight="weight", default=None, delay="delay", default_delay=0.0):
    """Synapses from the edges of a networkx graph whose nodes are the integers 0..n-1.

    Directed graphs give one synapse u -> v per edge, undirected graphs one each way (one for a
    self-loop); multigraphs one per parallel edge. The edge attribute named `weight` gives the
    weight, `default` is used for edges without it (weight=None: every edge takes `default`).
    Likewise the attribute named `delay` gives the delay in ms (a finite number >= 0), and
    `default_delay` is used for edges without it (delay=None: every edge takes default_delay).
    The recipe must be built with n = the number of nodes.
    """
    import networkx as nx

    where = "from_networkx"
    if not isinstance(graph, nx.Graph):
        raise ModelError(f"{where}: expected a networkx graph (Graph, DiGraph, MultiGraph, "
                         f"MultiDiGraph), got {type(graph).__name__}")
    n = graph.number_of_nodes()
    if n == 0:
        raise ModelError(f"{where}: the graph has no nodes; a network needs at least one neuron")
    for node in graph.nodes:
        if isinstance(node, bool) or not isinstance(node, numbers.Integral) or not 0 <= node < n:
            raise ModelError(
                f"{where}: the graph's nodes must be the integers 0..n-1 = 0..{n - 1} (one per "
                f"neuron); found node {node!r}. Relabel first, e.g. "
                f"networkx.convert_node_labels_to_integers(graph)")
    for name, attribute in (("weight", weight), ("delay", delay)):
        try:
            hash(attribute)
        except TypeError:
            raise ModelError(f"{where}: {name} must be the name of an edge attribute (e.g. "
                             f"'{name}') or None; got {attribute!r:.60}") from None
    if default is not None:
        default = _check_scalar_weight(default, f"{where}: default")
    default_delay = _check_scalar_delay(default_delay, f"{where}: default_delay")
    directed = graph.is_directed()
    pre, post, values, lags = [], [], [], []
    attribute_seen = delay_seen = False
    for u, v, data in graph.edges(data=True):
        value = data.get(weight) if weight is not None else None
        if value is None:
            if default is None:
                raise ModelError(f"{where}: edge ({u!r}, {v!r}) has no {weight!r} attribute; "
                                 f"give every edge one or pass default=<weight>")
            value = default
        else:
            attribute_seen = True
            value = _check_scalar_weight(value, f"{where}: edge ({u!r}, {v!r}) {weight!r}")
        lag = data.get(delay) if delay is not None else None
        if lag is None:
            lag = default_delay
        else:
            delay_seen = True
            lag = _check_scalar_delay(lag, f"{where}: edge ({u!r}, {v!r}) {delay!r}")
        pre.append(u)
        post.append(v)
        values.append(value)
        lags.append(lag)
        if not directed and u != v:
            pre.append(v)
            post.append(u)
            values.append(value)
            lags.append(lag)
    pre = np.array(pre, dtype=np.int64)
    post = np.array(post, dtype=np.int64)
    if attribute_seen:
        w = weights = np.array(values, dtype=np.float64)
    else:
        w, weights = (default if default is not None else 0.0), None
    if delay_seen:
        d = delays = np.array(lags, dtype=np.float64)
    else:
        d, delays = default_delay, None
    params = {"nodes": n, "synapses": pre.size, "directed": directed, "weight": weight,
              "delay": delay}
    return _edges_recipe(where, params, pre, post, w, weights, d, delays, n=n)


# ----------------------------------------------------------------------------- helpers

def _edges_recipe(where, params, pre, post, w, weights, d, delays, n=None):
    def builder(n_pre, n_post, same, columns=None):
        for name, array, bound in (("pre", pre, n_pre), ("post", post, n_post)):
            bad = np.flatnonzero((array < 0) | (array >= bound))
            if bad.size:
                e = bad[0]
                size = "n" if n_pre == n_post else f"n_{name}"
                raise ModelError(f"{where}: {name}[{e}] = {array[e]} is not a neuron index; "
                                 f"indices must lie in [0, {size}) = [0, {bound})")
        sources, targets, values, lags = pre, post, weights, delays
        c0, c1 = columns or (0, n_post)
        if columns is not None:            # only the edges into c0..c1-1, in their order
            keep = (post >= c0) & (post < c1)
            sources, targets = pre[keep], post[keep] - c0
            values = None if weights is None else weights[keep]
            lags = None if delays is None else delays[keep]
        counts = np.bincount(sources, minlength=n_pre)
        indptr = np.zeros(n_pre + 1, np.int64)
        np.cumsum(counts, out=indptr[1:])
        order = np.argsort(sources, kind="stable")
        indices = targets[order].astype(np.int32)
        return _block(n_pre, c1 - c0, indptr, indices, w,
                      None if values is None else values[order], d,
                      None if lags is None else lags[order])

    return _restricting(Connectivity(where, params, builder, n=n))


def _restricting(recipe):
    """A built-in recipe: its builder takes columns=(c0, c1) and builds only those."""
    recipe._restricts = True
    return recipe


def _check_columns(columns, n_post, where):
    """(c0, c1) as ints, 0 <= c0 < c1 <= n_post, or None for all n_post columns."""
    if columns is None:
        return None
    try:
        c0, c1 = columns
    except (TypeError, ValueError):
        c0 = c1 = None
    if not all(isinstance(c, numbers.Integral) and not isinstance(c, (bool, np.bool_))
               for c in (c0, c1)) or not 0 <= c0 < c1 <= n_post:
        raise ModelError(f"{where}: columns must be (c0, c1), integers with 0 <= c0 < c1 <= "
                         f"n_post = {n_post} (the synapses into post neurons c0..c1-1), or None "
                         f"for all; got columns={columns!r:.60}")
    c0, c1 = int(c0), int(c1)
    return None if (c0, c1) == (0, n_post) else (c0, c1)


def _kept(weights, delays, indptr, first, columns):
    """The per-synapse weights and delays (arrays of the whole table, or None) of the synapses
    a kernel kept: row i's are the indptr[i+1] - indptr[i] from place first[i] on."""
    if columns is None:
        return weights, delays
    return tuple(None if values is None else _kernels().gather(values, indptr, first)
                 for values in (weights, delays))


def _fits(where, k, rows, nnz, w, d, scratch):
    """ModelError before a builder allocates a table of `nnz` synapses and `rows` rows (4
    bytes per index; 8 more per weight or delay array, 8 for the copy a delay sort makes; 8
    per row) and `scratch` bytes, if it does not fit in the machine's available memory."""
    per_synapse = 4 + 8 * isinstance(w, np.ndarray) + 16 * isinstance(d, np.ndarray)
    per_row = 8 + (k or 0) * per_synapse

    def fits(free):
        if k is None:
            return (f"at most about {max(0, free - scratch) // per_synapse:,} synapses fit: give "
                    f"fewer neurons or a smaller p")
        return (f"at most about {max(0, free - scratch) // per_row:,} neurons with k = {k} fit: "
                f"give fewer neurons or synapses per neuron" + (
                    ", or fixed_outdegree(..., procedural=True), which stores no synapse"
                    if where == "fixed_outdegree" else ""))
    memory.require(nnz * per_synapse + 8 * (rows + 1) + scratch,
                   f"{where}: a table of {nnz:,} synapses", fits)


def _block(n_pre, n_post, indptr, indices, w, weights, d, delays):
    """The CSR of a projection: n_pre rows, local indices into n_post neurons; `weights`
    (`delays`) an array or None, `w` (`d`) then the shared value. CSR sorts rows by delay."""
    return CSR(n_pre, indptr, indices, n_post=n_post,
               weights=weights, weight=w if weights is None else math.nan,
               delays=delays, delay=d if delays is None else math.nan)


def _integers(values, what, dtype):
    """An index array of `dtype` from integer values (ModelError for fractions, strings or
    values beyond the dtype, which a plain cast would truncate or wrap round; `what` names
    them with their owner, e.g. "CSR: indptr")."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):
        array = None
    if array is None or not (array.dtype.kind in "iu" or array.size == 0):
        raise ModelError(f"{what} must be integers, got {reprlib.repr(values)}")
    info = np.iinfo(dtype)
    if array.size and (array.min() < info.min or array.max() > info.max):
        raise ModelError(f"{what} holds values beyond {np.dtype(dtype).name} "
                         f"([{info.min}, {info.max}])")
    return np.ascontiguousarray(array, dtype=dtype)


def _check_n(n, where="CSR", what="n, the number of neurons"):
    name = what.split(",")[0]
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:
        hint = " (write e.g. 10**6, not 1e6)" if isinstance(n, float) else ""
        raise ModelError(f"{where}: {what}, must be an integer > 0; got {n!r}{hint}")
    if n > _MAX_N:
        raise ModelError(f"{where}: {name} = {n} is too large; neuron indices are int32, so "
                         f"{name} <= {_MAX_N}")
    return int(n)


def _check_k(k, where):
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 0:
        raise ModelError(f"{where}: k, the number of synapses per neuron, must be an integer "
                         f">= 0; got {k!r}")
    return int(k)


def _check_k_vs_partners(k, n_pre, n_post, same, where, partners):
    """k distinct partners must exist: k < n within one population (no autapses), else k <= the
    partner population's size (`partners`: "n_post" for out-degree, "n_pre" for in-degree)."""
    if same:
        n = n_pre
        if k >= n and k > 0:
            raise ModelError(f"{where}: k must be < n, since there are no autapses and no "
                             f"repeated synapses (each neuron has n - 1 = {n - 1} possible "
                             f"partners); got k={k}, n={n}")
    else:
        m = n_post if partners == "n_post" else n_pre
        if k > m:
            role = ("each presynaptic neuron reaches k distinct postsynaptic neurons"
                    if partners == "n_post" else
                    "each postsynaptic neuron receives from k distinct presynaptic neurons")
            raise ModelError(f"{where}: k must be <= {partners} = {m}, since {role} (no "
                             f"repeated synapses); got k={k}, n_pre={n_pre}, n_post={n_post}")
    rows = n_pre if partners == "n_post" else n_post
    if rows * k > np.iinfo(np.int64).max:
        raise ModelError(f"{where}: {rows}*{k} synapses is too many")


def _count_text(name, rows, k, same):
    """How a weight array's required length is explained: "n*k = 10*3" within one population."""
    return f"{'n' if same else name}*k = {rows}*{k}"


def _check_procedural(procedural, where, w, d):
    """procedural as a bool; ModelError for anything else, or with per-synapse values."""
    if not isinstance(procedural, (bool, np.bool_)):
        raise ModelError(f"{where}: procedural must be True or False; got {procedural!r:.60}")
    if procedural and (isinstance(w, np.ndarray) or isinstance(d, np.ndarray)):
        raise ModelError(f"{where}(procedural=True): a procedural table stores nothing per "
                         f"synapse, so the weight and the delay must be one number each; give "
                         f"procedural=False for per-synapse values")
    return bool(procedural)


def _no_procedural(procedural, where, what):
    """ModelError for procedural=True in a recipe that cannot draw a spiker's targets alone."""
    if procedural is not False:
        raise ModelError(f"{where}: procedural=True draws each spiker's targets from (seed, "
                         f"spiker) at every spike, but {what} cannot be drawn that way (a row "
                         f"would depend on other rows); use fixed_outdegree(k, weight, seed, "
                         f"procedural=True), or procedural=False (the default)")


def _check_seed(seed, where):
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ModelError(f"{where}: seed must be None (fresh randomness) or an integer >= 0; "
                         f"got {seed!r}")


_RULES = {"weight": "a weight must be a finite number",
          "delay": "a delay must be a finite number of ms >= 0",
          "rate": "a rate must be a finite number of Hz >= 0"}


def _check_scalar(value, where, what):
    """A float from a real number that is finite (and >= 0 for a delay or a rate; -0.0 is
    stored as 0.0)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ModelError(f"{where}: {_RULES[what]}, got {value!r:.60}")
    try:
        number = float(value)
    except OverflowError:                     # an int beyond the float range
        number = math.inf
    if not math.isfinite(number) or (what != "weight" and not number >= 0):
        raise ModelError(f"{where}: {_RULES[what]}, got {value!r:.60}")
    return number + 0.0 if what != "weight" else number


def _check_scalar_weight(value, where):
    return _check_scalar(value, where, "weight")


def _check_scalar_delay(value, where):
    return _check_scalar(value, where, "delay")


def _check_values(values, where, what):
    """A float (shared weight or delay) or a read-only float64 1-D array copy, checked."""
    if what == "delay":
        values = units.time(values, f"{where}: delay")
    elif units.is_quantity(values):   # (its dimensions are checked against the model later)
        values = units.quantity(values, f"{where}: weight")[0]
    if np.ndim(values) == 0:
        if isinstance(values, np.ndarray):
            values = values.item()
        return _check_scalar(values, f"{where}: {what}", what)
    array = _real_array(values, f"{where}: {what}")
    if array.ndim != 1:
        raise ModelError(f"{where}: a {what} array must be 1-D (one {what} per synapse, CSR "
                         f"order); got shape {array.shape}")
    if what == "delay":
        _check_delay_values(array, where, "delay[{s}] = {value}")
    else:
        bad = np.flatnonzero(~np.isfinite(array))
        if bad.size:
            raise ModelError(f"{where}: weights must be finite; weight[{bad[0]}] = "
                             f"{array[bad[0]]}")
    array.flags.writeable = False
    return array


def _with_units(recipe, weight):
    """The recipe, noting the dimensions of a weight given with units (None: a number)."""
    recipe.weight_dims = units.dims_of(weight, f"{recipe.kind}: weight")
    return recipe


def _check_weight(weight, where):
    return _check_values(weight, where, "weight")


def _check_delay(delay, where):
    return _check_values(delay, where, "delay")


def _check_delay_values(delays, where, naming="the delay of synapse {s} is {value} ms"):
    """ModelError naming the first delay that is not finite or is < 0. Two cheap passes when
    all are fine: a minimum >= 0 (NaN fails it) and a finite sum (then no value is inf)."""
    if not delays.size:
        return
    with np.errstate(over="ignore"):
        if delays.min() >= 0 and math.isfinite(np.sum(delays)):
            return
    fine = (delays >= 0) & (delays < math.inf)
    if np.all(fine):                          # the sum overflowed: huge but finite delays
        return
    s = int(np.argmin(fine))
    raise ModelError(f"{where}: {naming.format(s=s, value=delays[s])}; delays must be finite "
                     f"numbers of ms >= 0")


def _unsorted(indptr, delays):
    """None when every row of the (valid) table is sorted by delay, else the bool array
    `drops`, drops[s] meaning delays[s + 1] < delays[s] within one row. O(nnz): 10^7 synapses
    in about 15 ms."""
    nnz = delays.size
    if nnz < 2:
        return None
    drops = delays[1:] < delays[:-1]
    starts = indptr[1:-1]
    drops[starts[(starts > 0) & (starts < nnz)] - 1] = False     # pairs across two rows
    return drops if drops.any() else None


_SORT_CHUNK = 1 << 16   # synapses sorted per numpy call (cache-sized blocks are ~3x faster)


def _sorted_by_delay(indptr, delays, *arrays):
    """None when every row is sorted by delay, else new copies of (delays, *arrays) with each
    row sorted by delay, stably (equal delays keep their order), the arrays permuted along.

    Only rows with a descent are sorted, grouped by out-degree so that each group is a 2-D
    array sorted along its rows (np.argsort(kind="stable"), axis=1), in blocks of about
    _SORT_CHUNK synapses; no permutation of length nnz is made. Measured for 10^7 synapses
    with uniform random delays (numpy 2.4, 2 cores shared with other jobs, so wall time was
    about twice the CPU time): 10^5 rows of 100 take 0.6-1.5 s of CPU in CSR(...) (up to
    0.6 s of it first-touch page faults of the three new arrays), Poisson(100) out-degrees
    0.6-0.8 s, where np.lexsort((delays, row)) alone takes about 5 s; the check alone (rows
    already sorted) about 15 ms, CSR.validate() about 40 ms then (4.5 ms in its compiled
    pass now).
    """
    drops = _unsorted(indptr, delays)
    if drops is None:
        return None
    start = indptr[:-1]
    degree = np.diff(indptr)
    rows = np.flatnonzero(degree > 1)
    # rows with a descent: OR over drops[start[r]:start[next such row]], which holds row r's
    # pairs and otherwise only pairs across rows (False); rows of degree <= 1 have no pair
    rows = rows[np.logical_or.reduceat(drops, start[rows])]
    del drops
    rows = rows[np.argsort(degree[rows], kind="stable")]
    given = (delays,) + arrays
    result = [array.copy() for array in given]
    for group in np.split(rows, np.flatnonzero(np.diff(degree[rows])) + 1):
        k = int(degree[group[0]])
        step = max(1, _SORT_CHUNK // k)
        for q in range(0, group.size, step):
            place = start[group[q:q + step]][:, None] + np.arange(k)
            source = np.take_along_axis(place, np.argsort(delays[place], axis=1,
                                                          kind="stable"), axis=1)
            for new, old in zip(result, given):
                new[place] = old[source]
    return result


def _values_for(values, length, expression, where, what="weight", copy=True):
    """The weights (or delays) array to store (None for a scalar), checked against `length`;
    copy=False: the recipe's own array (read-only), for the caller to take values from."""
    if not isinstance(values, np.ndarray):
        return None
    if values.size != length:
        raise ModelError(f"{where}: the {what} array must have one {what} per synapse, "
                         f"{expression} = {length}; got {values.size}")
    return values.copy() if copy else values


def _plain(values, what):
    """`values` as a numpy array whose dtype tells what the values are: an object array (a list
    of mixed objects) is read again from its elements; masked entries are refused (a cast would
    use the hidden values); ModelError for ragged or unconvertible input."""
    if isinstance(values, np.ma.MaskedArray):
        if np.ma.is_masked(values):
            raise ModelError(f"{what} has masked entries; give every value (e.g. "
                             f"array.filled(0.0))")
        values = values.data
    try:
        array = np.asarray(values)
        if array.dtype.kind == "O":
            array = np.array(array.tolist())
    except (TypeError, ValueError, OverflowError):
        raise ModelError(f"{what} must be numbers; got {reprlib.repr(values)}") from None
    return array


def _real_array(values, what, copy=True):
    """A new contiguous float64 array of `values`, which must be real numbers (ints or floats):
    strings, booleans, complex numbers and other objects are a ModelError naming `what`, where a
    plain float cast would turn them into numbers silently (or fail with a TypeError). Shape
    and finiteness are the caller's to check. copy=False: no copy of a float64 contiguous array
    (the caller keeps no array it did not make, or does not change it)."""
    array = _plain(values, what)
    if array.dtype.kind not in "iuf" and array.size:
        kind = {"b": "booleans", "U": "strings", "S": "bytes", "c": "complex numbers"}.get(
            array.dtype.kind, f"{array.dtype} values")
        raise ModelError(f"{what} must be numbers (real ints or floats), not {kind}; got "
                         f"{reprlib.repr(values)}")
    with np.errstate(over="ignore"):          # beyond float64: inf, refused by finiteness checks
        if copy:
            return np.array(array, dtype=np.float64, order="C")
        return np.ascontiguousarray(array, dtype=np.float64)


def _check_index_array(values, name, where):
    array = _plain(values, f"{where}: {name}")
    if array.ndim != 1:
        raise ModelError(f"{where}: {name} must be a 1-D array of neuron indices; got shape "
                         f"{array.shape}")
    if array.size == 0:
        return np.zeros(0, np.int64)
    if array.dtype.kind not in "iu":
        raise ModelError(f"{where}: {name} must hold integer neuron indices; got dtype "
                         f"{array.dtype}")
    if array.dtype == np.uint64 and array.max() > np.iinfo(np.int64).max:
        raise ModelError(f"{where}: {name} holds an index too large to be a neuron index")
    return array.astype(np.int64)  # a copy: later edits of the caller's array do not leak in


def _short(value, unit="weights"):
    if isinstance(value, np.ndarray):
        return f"<{value.size} {unit}>"
    if isinstance(value, dict):
        return ", ".join(f"{key}={_short(v, 'delays' if key == 'delay' else 'weights')}"
                         for key, v in value.items())
    return repr(value)


# ----------------------------------------------------------------------------- numba kernels
# Plain functions compiled on first use (numba's import costs ~0.3 s); cache=True keeps the
# machine code on disk. Duplicate targets are rejected in O(1) with a marker array
# (mark[t] == current row); Floyd's algorithm draws k distinct values from m with exactly k
# random numbers, so even k = n - 1 costs O(k) per row. Row i's numbers (a column's, for
# fixed_indegree) come from its own segment of one SplitMix64 stream keyed by the seed
# (sparseprop.engine.splitmix.row_state): any row can be drawn without the rows before it, so
# the builders cut a table among threads (`_threads_for`), and 10^8 numbers take 0.45 s instead
# of 1.3 s with numba's MT19937 (np.random.randint), whose one stream forced one thread.
# Every kernel connects n_pre rows to n_post columns. With exclude_self (one population,
# n_pre == n_post) row i has the m = n - 1 candidates t = 0..m-1, candidate t meaning neuron
# t + (t >= i); without it the m = n_post (or n_pre) candidates are the neurons themselves
# (shift = m, so t >= shift never holds).
# Floyd's sampler asks "is t already in this row's set?": a mark per candidate (an array of m,
# read in order for dense rows) or, for sparse rows, a small hash set of the row's k values, so
# that a draw touches cache-resident memory instead of a random place in an m-long array (the
# fixed out-degree sampler at N = 10^6, K = 100: 231 -> 43 ns per synapse); the same values
# either way (tests/test_connectivity.py checks them against the mark array, and the tables
# built on 1 and 3 threads against each other).

_TARGET, _DELAY, _ORDER = 1, 2, 3   # what _first_fault found
_NO_DELAYS = np.empty(0)


@numba.njit(cache=True, nogil=True)
def _first_fault(indptr, indices, n_post, delays):
    """(what, s) of the first synapse s, in table order, whose target is outside [0, n_post)
    (_TARGET), or with delays (one per synapse, else empty) whose delay is not a finite number
    >= 0 (_DELAY) or is shorter than the one before it in its row (_ORDER); (0, -1) when none
    is. CSR.validate runs at every Network.run, so the check is three vectorised passes (10^8
    synapses in about 0.05 s; numpy's five took 0.13 s): the targets' minimum and maximum; the
    pairs of neighbours not in order (a NaN is in order with nothing), less those that straddle
    two rows; each row's first delay >= 0 and last < inf (a sorted row's extremes). Only when
    one fails, a search for the first fault."""
    lo, hi = n_post, -1
    for s in range(indices.size):
        lo, hi = min(lo, indices[s]), max(hi, indices[s])
    wrong = indices.size > 0 and (lo < 0 or hi >= n_post)
    if delays.size and not wrong:
        drops = 0
        for s in range(1, delays.size):
            drops += not delays[s] >= delays[s - 1]
        for r in range(indptr.size - 1):
            a, b = indptr[r], indptr[r + 1]
            if a < b:
                wrong |= not (delays[a] >= 0.0 and delays[b - 1] < np.inf)
                if a > 0:
                    drops -= not delays[a] >= delays[a - 1]
        wrong |= drops > 0
    if not wrong:
        return 0, -1
    for r in range(indptr.size - 1):
        for s in range(indptr[r], indptr[r + 1]):
            if not 0 <= indices[s] < n_post:
                return _TARGET, s
            if delays.size:
                if not (delays[s] >= 0.0 and delays[s] < np.inf):
                    return _DELAY, s
                if s > indptr[r] and delays[s] < delays[s - 1]:
                    return _ORDER, s
    return 0, -1


@numba.njit(cache=True, nogil=True)
def _hash_size(k):
    """Slots of a row's hash set: a power of two >= 4k (load <= 1/4)."""
    size = 1
    while size < 4 * k:
        size *= 2
    return size


@numba.njit(cache=True, nogil=True, inline="always")
def _floyd_step(t, j, row, keys, stamp):
    """Floyd's step in a row's hash set (keys, stamp: slots; stamp == row marks the row's):
    t if it is new, else j (never in the set yet); the value chosen is added."""
    mask = keys.size - 1
    h = (t * 2654435761) & mask
    while stamp[h] == row:
        if keys[h] == t:
            t = j
            h = (t * 2654435761) & mask
        else:
            h = (h + 1) & mask
    stamp[h], keys[h] = row, t
    return t


@numba.njit(cache=True, nogil=True, inline="always")
def _floyd_row(i, m, k, dense, mark, keys, stamp, key, out):
    """Row i's k distinct candidates of 0..m-1 into out[:k], in the order drawn (Floyd, from
    the row's stream): the set is the mark array when dense, else the row's hash set. (One
    loop per kind: a branch on `dense` inside the loop made fixed_outdegree(100) at N = 10^6
    take 3.1 instead of 1.9 s.)"""
    z = row_state(key, i)
    if dense:
        for c in range(k):
            j = m - k + c
            t, z = below(z, j + 1)
            if mark[t] == i:
                t = j
            mark[t] = i
            out[c] = t
    else:
        for c in range(k):
            j = m - k + c
            t, z = below(z, j + 1)
            out[c] = _floyd_step(t, j, i, keys, stamp)


@numba.njit(cache=True, nogil=True, inline="always")
def _sort_spread(row, count, lo, width, counts, buffer):
    """buffer[:count] = row[:count] sorted, for distinct values spread evenly over
    [lo, lo + width): a bucket sort (count buckets), then an insertion sort."""
    counts[:count + 1] = 0
    for q in range(count):
        counts[((row[q] - lo) * np.int64(count)) // width + 1] += 1
    for q in range(count):
        counts[q + 1] += counts[q]
    for q in range(count):
        x = row[q]
        b = ((x - lo) * np.int64(count)) // width
        buffer[counts[b]] = x
        counts[b] += 1
    for q in range(1, count):
        x = buffer[q]
        r = q - 1
        while r >= 0 and buffer[r] > x:
            buffer[r + 1] = buffer[r]
            r -= 1
        buffer[r + 1] = x


def _fixed_outdegree_kernel(n_post, k, exclude_self, key, lo, hi, c0, c1, indices, positions):
    # Rows lo..hi-1: every row's k targets are drawn; only those in [c0, c1) are stored (as
    # target - c0), so a process keeps its columns of the same network. Returns (indptr,
    # indices, first) of these rows, where indices[:indptr[-1]] are the synapses: `indices`
    # is the output, of the expected size (exact, (hi - lo) k, for all columns); it is
    # replaced by a larger one if a build needs more. With `positions`, first[r] is the place
    # in the whole table of row lo + r's first stored synapse ((lo + r) k + its targets below
    # c0), else first is empty.
    indptr = np.empty(hi - lo + 1, np.int64)
    indptr[0] = 0
    first = np.empty(hi - lo if positions else 0, np.int64)
    m = n_post - 1 if exclude_self else n_post   # candidates 0..m-1 of each row
    dense = 8 * k > m
    mark = np.full(max(m, 1) if dense else 1, -1, np.int32)
    keys = np.empty(_hash_size(k), np.int64)
    stamp = np.full(keys.size, -1, np.int64)
    counts = np.zeros(k + 1, np.int64)
    row = np.empty(k, np.int32)
    buffer = np.empty(k, np.int32)
    drawn = np.empty(k, np.int64)
    width = c1 - c0
    pos = 0
    for i in range(lo, hi):
        shift = i if exclude_self else m         # candidate t is neuron t + (t >= shift)
        count = 0
        before = 0
        _floyd_row(i, m, k, dense, mark, keys, stamp, key, drawn)
        for c in range(k):
            t = drawn[c]
            target = t + (t >= shift)
            if target < c0:
                before += 1
            elif target < c1 and not dense:
                row[count] = target
                count += 1
        if dense:                   # read the marks in order: already sorted, O(m)
            for t in range(max(c0 - 1, 0), min(c1, m)):
                if mark[t] == i:
                    target = t + (t >= shift)
                    if c0 <= target < c1:
                        buffer[count] = target
                        count += 1
        elif count > 1:             # bucket sort (targets are uniform), then insertion sort
            _sort_spread(row, count, c0, width, counts, buffer)
        elif count == 1:
            buffer[0] = row[0]
        if pos + count > indices.size:       # more than expected in these columns: grow
            grown = np.empty(max(pos + count, indices.size + indices.size // 4 + k), np.int32)
            grown[:pos] = indices[:pos]
            indices = grown
        for q in range(count):
            indices[pos + q] = buffer[q] - c0
        pos += count
        indptr[i - lo + 1] = pos
        if positions:
            first[i - lo] = i * np.int64(k) + before
    return indptr, indices, first


@numba.njit(cache=True, nogil=True)
def _group_by_source(pairs, spare, size, bits):
    """spare[:size] = pairs[:size] (source << 32 | column) grouped by the top 12 of the
    source's `bits` bits, stably (one counting-sort pass); returns spare. Writes that follow
    the groups then sweep a window of 2^(bits - 12) rows instead of landing at random. A full
    sort by source (LSD radix, two passes at N = 10^6) was not faster: 4.1-5.3 s against
    3.6-4.6 s for the whole build on one thread, in one noisy comparison."""
    digits = min(bits, 12)
    shift = 32 + bits - digits
    mask = (1 << digits) - 1
    count = np.zeros((1 << digits) + 1, np.int64)
    for q in range(size):
        count[((pairs[q] >> shift) & mask) + 1] += 1
    for d in range(1 << digits):
        count[d + 1] += count[d]
    for q in range(size):
        d = (pairs[q] >> shift) & mask
        spare[count[d]] = pairs[q]
        count[d] += 1
    return spare


def _indegree_pass(n_pre, k, exclude_self, key, lo, hi, c0, block, write, fill, indices):
    # fixed_indegree's draws of columns lo..hi-1 (column i's k sources from its own stream, as
    # fixed_outdegree draws a row's targets). write=False counts them: fill[source + 1] += 1;
    # write=True stores each as column - c0 at indices[fill[source]] and advances
    # fill[source]: columns come in ascending order, so every row's columns do. Each block of
    # `block` columns has its (source, column) pairs grouped by source first, so that counts
    # and writes sweep a window of rows (fixed_indegree(100) at N = 10^6: 89 -> 14 s when a
    # full sort by source was introduced; 2 int64 arrays of block * k).
    m = n_pre - 1 if exclude_self else n_pre
    dense = 8 * k > m
    mark = np.full(max(m, 1) if dense else 1, -1, np.int32)
    keys = np.empty(_hash_size(k), np.int64)
    stamp = np.full(keys.size, -1, np.int64)
    drawn = np.empty(k, np.int64)
    pairs = np.empty(block * k, np.int64)
    spare = np.empty(block * k, np.int64)
    bits = 1
    while (1 << bits) < n_pre:
        bits += 1
    size = 0
    for i in range(lo, hi):                       # i: postsynaptic neuron
        shift = i if exclude_self else m
        _floyd_row(i, m, k, dense, mark, keys, stamp, key, drawn)
        for c in range(k):
            t = drawn[c]
            pairs[size] = (np.int64(t + (t >= shift)) << 32) | i
            size += 1
        if size + k <= pairs.size and i < hi - 1:
            continue                              # the block is not full yet
        grouped = _group_by_source(pairs, spare, size, bits)
        if write:
            for q in range(size):
                source = grouped[q] >> 32
                indices[fill[source]] = (grouped[q] & 0xFFFFFFFF) - c0
                fill[source] += 1
        else:
            for q in range(size):
                fill[(grouped[q] >> 32) + 1] += 1
        size = 0


def _indegree_table(n_pre, n_post, k, exclude_self, key, c0, c1, positions, block, threads):
    """(indptr, indices, first): fixed_indegree's columns c0..c1-1 stored by source row, in
    two passes over the same draws (count each row's synapses, then write them). The columns
    are cut into `threads` parts run at once (nogil); each part counts into its own array,
    from which its writes start where the parts before it end, so the table is the same for
    any number of threads. With `positions`, first[r] is the place in the whole table of row
    r's first stored synapse (the other columns are counted too), else first is empty.
    `block`: columns per grouping block of each part."""
    run = _kernels().indegree_pass
    empty = np.empty(0, np.int32)
    local = _parts(c0, c1, threads)
    counts = np.zeros((len(local), n_pre + 1), np.int64)
    left = _parts(0, c0, threads) if positions else []
    others = left + _parts(c1, n_post, threads) if positions else []
    around = np.zeros((len(others), n_pre + 1), np.int64)
    _at_once(run, [(n_pre, k, exclude_self, key, lo, hi, c0, block, False, into, empty)
                   for (lo, hi), into in zip(local + others, list(counts) + list(around))],
             threads)
    indptr = np.zeros(n_pre + 1, np.int64)
    np.cumsum(counts[:, 1:].sum(axis=0), out=indptr[1:])
    start = indptr[:-1].copy()
    for p in range(len(local)):                   # counts[p] -> where part p's writes start
        row = counts[p, 1:].copy()
        counts[p, :-1] = start
        start += row
    indices = np.empty((c1 - c0) * k, np.int32)
    _at_once(run, [(n_pre, k, exclude_self, key, lo, hi, c0, block, True, counts[p], indices)
                   for p, (lo, hi) in enumerate(local)], threads)
    first = np.zeros(n_pre if positions else 0, np.int64)
    if positions:
        before = around[:len(left), 1:].sum(axis=0)
        total = np.diff(indptr) + around[:, 1:].sum(axis=0)
        np.cumsum(total[:-1], out=first[1:])
        first += before
    return indptr, indices, first


def _parts(lo, hi, threads):
    """lo..hi-1 cut into at most `threads` consecutive nonempty ranges (lo, hi) of about equal
    size, one per thread."""
    cuts = [lo + (hi - lo) * p // threads for p in range(threads + 1)]
    return [(a, b) for a, b in zip(cuts[:-1], cuts[1:]) if a < b]


def _threads_for(nnz):
    """Threads a builder uses for a table of nnz synapses: from 2^20 synapses on, every core
    the process may run on (`taskset -c 0` gives one); the table does not depend on it."""
    cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else os.cpu_count() or 1)
    return max(1, min(cores, nnz >> 20))


def _at_once(function, calls, threads):
    """function(*args) for every args of `calls`, on up to `threads` threads (the compiled
    kernels release the GIL)."""
    if threads == 1 or len(calls) == 1:
        for args in calls:
            function(*args)
        return
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(lambda args: function(*args), calls):
            pass


def _erdos_renyi_rows(n_post, p, exclude_self, key, lo, hi, c0, c1, write, indptr, indices):
    # Rows lo..hi-1 by geometric skipping over each row's m candidates, from the row's stream;
    # only targets in [c0, c1) are kept (as target - c0). write=False counts them:
    # indptr[i + 1] = row i's count; write=True stores them from indices[indptr[i]] on.
    m = n_post - 1 if exclude_self else n_post
    log_q = np.log1p(-p) if p < 1.0 else -np.inf
    for i in range(lo, hi):
        shift = i if exclude_self else m
        pos = indptr[i] if write else 0
        c = -1                      # last chosen candidate in this row
        z = row_state(key, i)
        while True:
            gap = 0.0
            if p < 1.0:
                u, z = uniform(z)
                gap = np.floor(np.log(1.0 - u) / log_q)
            if gap >= m - 1 - c:    # next candidate c + 1 + gap would be past the row
                break
            c += 1 + int(gap)
            target = c + (c >= shift)
            if c0 <= target < c1:
                if write:
                    indices[pos] = target - c0
                pos += 1
        if not write:
            indptr[i + 1] = pos


def _erdos_renyi_table(n_pre, n_post, p, exclude_self, key, c0, c1, threads):
    """(indptr, indices) of erdos_renyi's columns c0..c1-1: two passes over the same draws
    (count each row's synapses, then write them, so the output is allocated once at its exact
    size), the rows cut among `threads` threads; the table does not depend on their number."""
    run = _kernels().erdos_renyi_rows
    parts = _parts(0, n_pre, threads)
    indptr = np.zeros(n_pre + 1, np.int64)
    empty = np.empty(0, np.int32)
    _at_once(run, [(n_post, p, exclude_self, key, lo, hi, c0, c1, False, indptr, empty)
                   for lo, hi in parts], threads)
    np.cumsum(indptr, out=indptr)
    indices = np.empty(indptr[-1], np.int32)
    _at_once(run, [(n_post, p, exclude_self, key, lo, hi, c0, c1, True, indptr, indices)
                   for lo, hi in parts], threads)
    return indptr, indices


def _gather(values, indptr, first):
    # The values of the synapses a kernel kept: row i's indptr[i+1] - indptr[i] synapses are
    # values[first[i]:...] (their places in the whole table, where `values` are given).
    out = np.empty(indptr[-1], values.dtype)
    for i in range(indptr.size - 1):
        shift = first[i] - indptr[i]
        for s in range(indptr[i], indptr[i + 1]):
            out[s] = values[shift + s]
    return out


class _Kernels:
    def __init__(self):
        from numba import njit

        jit = njit(cache=True, nogil=True)
        self.fixed_outdegree = jit(_fixed_outdegree_kernel)
        self.indegree_pass = jit(_indegree_pass)
        self.erdos_renyi_rows = jit(_erdos_renyi_rows)
        self.gather = jit(_gather)


_KERNELS = None


def _kernels():
    global _KERNELS
    if _KERNELS is None:
        _KERNELS = _Kernels()
    return _KERNELS
