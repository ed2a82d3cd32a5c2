"""One network over several processes: exact simulation on MPI ranks (DESIGN.md 6).

    mpiexec -n 4 python script.py

runs script.py in 4 processes. Under mpiexec, `build_network` gives each process a
`DistributedNetwork`: its block of the neurons (process r of R owns neurons r N / R on) with
the synapses into them, built there (no process holds the whole table); `net.run(duration)`
simulates the process's part and returns its spikes (`result.gather()` collects the whole
network's on process 0). The same script run alone builds the whole network in one process
(`build_network(..., distributed=True)` runs it in windows too, the reference for the spikes of
any number of processes).

The scheme is NEST's conservative one: with every delay >= d_min > 0, no spike emitted in a
window shorter than d_min can reach a neuron before the window ends, so each process runs its
neurons to the end of the window (sparseprop.engine.windows), then the processes exchange the
window's spikes (exact offset times and senders, MPI_Allgatherv) and each queues the
deliveries to its own neurons, the window's spikes taken in one order common to all: by time,
then sender (neurons by index, then sources). Every process computes in the run's one time
frame, with the same windows, and draws the same Poisson events (sources and PoissonInput are
drawn in every process, which keeps the events of its own neurons), so the spikes are the same
to the last bit whatever the number of processes.

Communication uses mpi4py with an MPI library from the package registry (`pip install
'sparseprop[mpi]'`: mpi4py and mpich). A process that fails in a window ends the run in every
process with a ModelError that names it; an exception that escapes a script under mpiexec
aborts every process (MPI_Abort), never a hang.
"""
import math
import sys
import time

import numpy as np

from . import units
from .engine.driver import _PROGRESS_AFTER
from .engine.windows import Windows
from .errors import ModelError
from .network import check_run_arguments
from .result import Result, merged, part_path
from .shard import global_senders, launched, local_rows

# windows are this much shorter than the smallest delay, so that a spike's arrival is after
# the end of its window however the times round (checked at every window)
_MARGIN = 1.0 - 2.0 ** -20


class Solo:
    """The one process of a run that is not under mpiexec (or an mpiexec of one process)."""
    rank, size = 0, 1

    def __init__(self):
        self.windows, self.bytes, self.seconds = 0, 0, 0.0

    def exchange(self, senders, sent, error):
        """The window's spikes of every process (here: this one's); raises `error` if set."""
        self.windows += 1
        if error is not None:
            raise error
        return senders, sent

    def smallest(self, value):
        """The smallest `value` over the processes."""
        return value

    def total(self, value):
        """The sum of `value` over the processes."""
        return value

    def gather(self, value):
        """[value of every process] on process 0, None on the others."""
        return [value]


class MPI:
    """The processes of an mpiexec run (mpi4py's COMM_WORLD). Counts the windows, the bytes
    this process sent and received, and the seconds spent in the exchange."""

    def __init__(self):
        try:
            from mpi4py import MPI as mpi
        except ImportError:
            raise ModelError("this script runs under mpiexec, which needs mpi4py: pip install "
                             "'sparseprop[mpi]' (mpi4py and mpich)") from None
        self.mpi, self.comm = mpi, mpi.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.windows, self.bytes, self.seconds = 0, 0, 0.0
        _abort_on_uncaught(self.comm)

    def exchange(self, senders, sent, error):
        """Every process's (senders, offset times) of the window, in process order. If any
        process failed (`error` set there), every process raises a ModelError naming it."""
        start = time.perf_counter()
        mine = np.array([senders.size, error is not None], np.int64)
        table = np.empty((self.size, 2), np.int64)
        self.comm.Allgather(mine, table)
        if table[:, 1].any():
            messages = self.comm.allgather(None if error is None else
                                           f"{type(error).__name__}: {error}")
            if error is not None:
                raise error
            r = int(np.argmax(table[:, 1]))
            raise ModelError(f"process {r} of {self.size} stopped the run: {messages[r]}")
        counts = table[:, 0]
        displs = np.zeros(self.size, np.int64)
        np.cumsum(counts[:-1], out=displs[1:])
        total = int(counts.sum())
        all_senders, all_sent = np.empty(total, np.int64), np.empty(total)
        self.comm.Allgatherv(np.ascontiguousarray(senders, np.int64),
                             [all_senders, counts, displs, self.mpi.INT64_T])
        self.comm.Allgatherv(np.ascontiguousarray(sent, np.float64),
                             [all_sent, counts, displs, self.mpi.DOUBLE])
        self.windows += 1
        self.bytes += 16 * (senders.size + total) + 32 * self.size
        self.seconds += time.perf_counter() - start
        return all_senders, all_sent

    def smallest(self, value):
        """The smallest `value` over the processes."""
        return self.comm.allreduce(value, op=self.mpi.MIN)

    def total(self, value):
        """The sum of `value` over the processes."""
        return self.comm.allreduce(value, op=self.mpi.SUM)

    def gather(self, value):
        """[value of every process] on process 0, None on the others."""
        return self.comm.gather(value, root=0)


def _abort_on_uncaught(comm):
    """An exception that escapes the script ends every process (MPI_Abort), where the others
    would wait in the next exchange forever."""
    previous = sys.excepthook
    if getattr(previous, "aborts", False):
        return

    def hook(kind, value, traceback):
        previous(kind, value, traceback)
        sys.stderr.flush()
        comm.Abort(1)
    hook.aborts = True
    sys.excepthook = hook


def communicator():
    """MPI when this process was started by mpiexec, else Solo."""
    return MPI() if launched() else Solo()


class DistributedNetwork:
    """One process's part of a network (build_network under mpiexec, or distributed=True):
    `local`, the Network of its neurons (a shard: sparseprop.shard); `n`, `populations`: the
    whole network's; `rank`, `size`: this process and their number."""

    def __init__(self, local, comm):
        self.local, self.comm, self.shard = local, comm, local.shard
        self.n, self.populations = self.shard.total, dict(self.shard.populations)
        self.model = local.model
        self.n_synapses = comm.total(local.csr.nnz)   # of the whole network
        self.rank, self.size = comm.rank, comm.size
        self.neurons = slice(self.shard.lo, self.shard.hi)
        self._rows = local_rows(self.shard, local.n_sources)   # global sender -> local row
        self.window = self._window()

    def __repr__(self):
        return (f"DistributedNetwork(process {self.rank} of {self.size}: neurons "
                f"{self.shard.lo}..{self.shard.hi - 1} of {self.n}, window {self.window:g} ms)")

    @property
    def t(self):
        """The current time (ms)."""
        return self.local.t

    def _window(self):
        """The windows' length: just under the smallest delay of the whole network (ModelError
        for a delay of 0: such a network cannot be split in time)."""
        csr = self.local.csr
        mine = math.inf if not csr.nnz else float(csr.delay if csr.delays is None
                                                  else csr.delays.min())
        smallest = self.comm.smallest(mine)
        if smallest <= 0.0:
            raise ModelError(f"a distributed run needs every synaptic delay > 0 (NEST's "
                             f"min_delay): the smallest delay is {smallest:g} ms; give every "
                             f"projection a delay > 0, e.g. fixed_indegree(..., delay=1.5)")
        return smallest * _MARGIN

    def run(self, duration=None, max_spikes=None, engine="auto", progress=None,
            record_tape=False, record=None):
        """Simulate this process's neurons for `duration` ms (every process calls it with the
        same duration) and return a ShardResult of their spikes (global indices) and of the
        sources'. The sparse engine only; max_spikes, record_tape (gradients) and record
        (state monitors) are not available in distributed runs (a ModelError says so)."""
        if duration is not None:
            duration = units.time(duration, "duration")
        check_run_arguments(duration, max_spikes, engine)
        if duration is None or max_spikes is not None:
            raise ModelError("a distributed run needs duration= (ms) and no max_spikes: the "
                             "processes run the same windows to the same end")
        asked = [(name, value) for name, value, plain in (
            ("engine", engine, engine in ("auto", "sparse")),
            ("record_tape", record_tape, record_tape is False),
            ("record", record, record is None)) if not plain]
        if asked:
            name, value = asked[0]
            raise ModelError(f"{name} = {value!r:.60}: distributed runs use the sparse engine "
                             f"without tapes or state monitors; for {name}, run the network in "
                             f"one process (build_network(..., distributed=False))")
        if not (progress is None or isinstance(progress, (bool, np.bool_))):
            raise ModelError(f"progress = {progress!r:.60}: give True, False or None (when "
                             f"stderr is a terminal)")
        progress = sys.stderr.isatty() if progress is None else bool(progress)
        local, shard, n_sources = self.local, self.shard, self.local.n_sources
        local._check_table(local.csr.validate())
        local._check_state(local.current)
        t_start, t_stop = local.t, local.t + duration
        windows = Windows(local, t_stop)
        start = time.perf_counter()
        windows.compile()
        compiled = time.perf_counter()
        own = shard.hi - shard.lo
        emitted = local.current.emitted
        spikes, sources = [], []
        k, total, shown = 1, 0, 0.0
        while True:
            t_end = min(windows.t_base + k * self.window, t_stop)
            error, rows, sent = None, np.empty(0, np.int64), np.empty(0)
            try:
                rows, sent = windows.window(t_end)
            except Exception as exc:   # (told to every process by the exchange)
                error = exc
            senders = global_senders(shard, n_sources, rows)
            neuron = rows < own
            every_s, every_t = self.comm.exchange(senders[neuron], sent[neuron], error)
            # the window's spikes in the order common to all: by time, then sender
            s = np.concatenate([every_s, senders[~neuron]])
            t = np.concatenate([every_t, sent[~neuron]])
            order = np.lexsort((s, t))
            windows.deliver(self._rows[s[order]], t[order], emitted, t_end)
            emitted += s.size
            spikes.append((senders[neuron], windows.t_base + sent[neuron]))
            sources.append((senders[~neuron] - self.n, windows.t_base + sent[~neuron]))
            total += every_s.size
            if progress and self.rank == 0:   # (wall time decides only what is printed)
                shown = _progress(shown, compiled, t_start, t_end, t_stop, total)
            if t_end >= t_stop:
                break
            k += 1
        if shown:
            print(file=sys.stderr)
        end = windows.finish(t_stop)
        local.current = end
        phase = np.full(self.n, np.nan)
        phase[self.neurons] = local.final_phase(end)
        i = np.concatenate([a for a, _ in spikes])
        result = ShardResult(i, np.concatenate([b for _, b in spikes]), self.n, t_start, t_stop,
                             phase, "sparse", time.perf_counter() - compiled,
                             populations=self.populations)
        result.source_i = np.concatenate([a for a, _ in sources]).astype(np.int32)
        result.source_t = np.concatenate([b for _, b in sources])
        result.sources = local.source_slices() or None
        result.compile_time = compiled - start
        result.rank, result.size, result.neurons, result.comm = (self.rank, self.size,
                                                                 self.neurons, self.comm)
        result.part = (self.rank, self.size, shard.lo, shard.hi)
        return result


def _progress(shown, began, t_start, t_end, t_stop, spikes):
    """Print a progress line to stderr after a few seconds (as the one-process driver), at most
    once a second and at the end; returns when it last printed (0.0: not yet)."""
    now = time.perf_counter()
    if now - began < _PROGRESS_AFTER or now - shown < 1.0 and t_end < t_stop:
        return shown
    done = (t_end - t_start) / (t_stop - t_start) if t_stop > t_start else 1.0
    elapsed = now - began
    print(f"\r  {100 * done:5.1f}%  {spikes} spikes (every process), "
          f"{(t_end - t_start) / elapsed:.3g} ms simulated per s, {elapsed:.1f} s, ETA "
          f"{elapsed * (1 - done) / max(done, 1e-12):.0f} s   ", end="", file=sys.stderr,
          flush=True)
    return now


class ShardResult(Result):
    """The spikes of one process's neurons in a distributed run (global indices, sorted by
    time) and of every source; `gather()` gives the whole network's Result on process 0;
    `save(path)` writes this part to <stem>.part<rank>of<size><suffix>, and
    sparseprop.load_result(path) reads the parts back as one Result."""

    def save(self, path):
        """Write this process's part (see the class); returns the file's path."""
        target = part_path(path, self.rank, self.size)
        super().save(target)
        return target

    def gather(self):
        """On process 0, one Result of every process's spikes, sorted by time, then neuron
        (every process must call it); None on the others."""
        lo, hi = self.neurons.start, self.neurons.stop
        pieces = self.comm.gather((self.i, self.t, self.final_phase[lo:hi], lo, hi))
        return None if pieces is None else merged(self, pieces, self.wall_time)
