"""Result of a simulation: spikes sorted by time, rates, counts, final state; save and load."""
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .errors import ModelError

_FIELDS = ("i", "t", "n", "t_start", "t_end", "final_phase", "engine", "wall_time")


class Result:
    """Spikes of one run: `.i` (int32 neuron indices) and `.t` (float64 times, ms), sorted by
    time (ties in the order the engine fired them: the smaller index first); the run covered
    [t_start, t_end] ms; `final_phase` holds every neuron's phase at t_end."""

    def __init__(self, i, t, n, t_start, t_end, final_phase, engine, wall_time):
        self.i = np.asarray(i, dtype=np.int32)
        self.t = np.asarray(t, dtype=np.float64)
        self.n = int(n)
        self.t_start, self.t_end = float(t_start), float(t_end)
        self.final_phase = np.asarray(final_phase, dtype=np.float64)
        self.engine = str(engine)
        self.wall_time = float(wall_time)
        self.tape = None          # a gradients.Tape when run with record_tape=True

    def backward(self, dloss_dt, dloss_dphase=None):
        """Gradients (weights, initial phases, parameters) of a loss L of this run, given dL/dt
        for every spike (shape of .t) and optionally dL/d(final phase); needs record_tape=True."""
        if self.tape is None:
            raise ModelError("this result has no tape: run with net.run(..., record_tape=True) "
                             "before asking for gradients")
        return self.tape.network.backward(self, dloss_dt, dloss_dphase)

    @property
    def n_spikes(self):
        """Number of spikes."""
        return int(self.i.size)

    @property
    def duration(self):
        """Simulated time, ms."""
        return self.t_end - self.t_start

    @property
    def rate(self):
        """Population rate, Hz (spikes per neuron per second; times are in ms)."""
        return self.n_spikes / self.n / (self.duration / 1000.0) if self.duration > 0 else float("nan")

    @property
    def counts(self):
        """Spike count of every neuron (length n)."""
        return np.bincount(self.i, minlength=self.n)

    def __repr__(self):
        return (f"<Result {self.n_spikes} spikes of {self.n} neurons in "
                f"[{self.t_start:g}, {self.t_end:g}] ms, {self.rate:.4g} Hz, engine {self.engine}>")

    def save(self, path):
        """Write to an .npz file atomically (a temporary file renamed into place)."""
        path = Path(path)
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp_", suffix=".npz")
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, **{name: getattr(self, name) for name in _FIELDS})
            os.replace(tmp, path)
        except OSError as exc:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)
            raise ModelError(f"cannot save the result to {path}: {exc}") from None


def load_result(path):
    """Read a Result written by Result.save."""
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [f for f in _FIELDS if f not in data.files]
            if missing:
                raise ModelError(f"{path} is not a sparseprop result: it lacks '{missing[0]}'")
            fields = {f: data[f] for f in _FIELDS}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelError(f"cannot read the result file {path}: {exc}") from None
    scalars = {f: fields[f].item() for f in ("n", "t_start", "t_end", "engine", "wall_time")}
    result = Result(fields["i"], fields["t"], final_phase=fields["final_phase"], **scalars)
    if result.i.size != result.t.size or result.final_phase.size != result.n:
        raise ModelError(f"the result file {path} is inconsistent (array lengths differ)")
    return result
