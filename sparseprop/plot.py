"""Plots (the `plot` extra, matplotlib): spike rasters, population rates and state traces of a
Result, the derived curves of a 1-D model (phase map, phase transition curve), a training
history. Each function draws on `ax` (a matplotlib Axes; a new figure when None) and returns
the Axes; `save(ax, path)` writes its figure. The methods Result.plot_raster, plot_rate,
plot_state, NeuronModel.plot_ptc, plot_phase_map and History.plot call these.
"""
import numpy as np

from .errors import ModelError
from .files import file_path, write_atomically

MAX_LABELLED = 10    # state traces of at most this many neurons get a legend


def pyplot():
    """matplotlib.pyplot, or a ModelError saying how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ModelError("plots need matplotlib: pip install 'sparseprop[plot]' (or "
                         "pip install matplotlib)") from None
    return plt


def _axes(ax):
    if ax is None:
        return pyplot().subplots(figsize=(8, 4))[1]
    if not hasattr(ax, "plot") or not hasattr(ax, "figure"):
        raise ModelError(f"ax = {ax!r:.60}: give a matplotlib Axes, or None for a new figure")
    return ax


def raster(result, ax=None, sources=False, markersize=2.0):
    """Spike raster of a Result: neuron index against time, one colour per population (with
    populations); sources=True adds the source spikes above the neurons."""
    ax = _axes(ax)
    pops = result.populations or {"neurons": slice(0, result.n)}
    for name, s in pops.items():
        mask = (result.i >= s.start) & (result.i < s.stop)
        ax.plot(result.t[mask], result.i[mask], ".", markersize=markersize, label=name)
    top = result.n
    if sources and result.source_i.size:
        ax.plot(result.source_t, result.source_i + result.n, ".", markersize=markersize,
                color="0.5", label="sources")
        top = result.n + int(result.source_i.max()) + 1
    ax.set_xlim(result.t_start, max(result.t_end, result.t_start + 1e-9))
    ax.set_ylim(-0.5, top - 0.5)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    ax.set_title(f"{result.n_spikes} spikes, {result.rate:.3g} Hz")
    if result.populations or (sources and result.source_i.size):
        ax.legend(loc="upper right", markerscale=4)
    return ax


def rate(result, bin=1.0, ax=None):
    """Population rate (Hz per neuron) in bins of `bin` ms: one line per population, or one
    for the network."""
    if isinstance(bin, bool) or not isinstance(bin, (int, float, np.floating, np.integer)) \
            or not (np.isfinite(bin) and bin > 0):
        raise ModelError(f"bin = {bin!r:.60}: give a number of ms > 0, e.g. bin=1.0")
    if result.duration <= 0:
        raise ModelError("this result covers no time (t_end = t_start): there is no rate to "
                         "plot")
    count = int(np.ceil(result.duration / bin))
    if count > 10**7:
        raise ModelError(f"bin = {bin!r}: {count} bins over {result.duration:g} ms; give a "
                         f"larger bin")
    ax = _axes(ax)
    edges = result.t_start + bin * np.arange(count + 1)
    pops = result.populations or {"network": slice(0, result.n)}
    for name, s in pops.items():
        mask = (result.i >= s.start) & (result.i < s.stop)
        counts, _ = np.histogram(result.t[mask], bins=edges)
        hz = counts / (max(s.stop - s.start, 1) * bin / 1000.0)
        ax.step(edges, np.append(hz, hz[-1]), where="post", label=name)   # (the last bin too)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(f"rate (Hz, bins of {bin:g} ms)")
    if result.populations:
        ax.legend(loc="upper right")
    return ax


def state(result, variable=None, neurons=None, ax=None):
    """State traces recorded by run(..., record=...): `variable` (default: the only one
    recorded) of `neurons` (default: all recorded), against time."""
    traces = getattr(result, "state", {})
    if not traces:
        raise ModelError("this result has no state traces: run with record={'v': neurons, "
                         "'dt': 0.1} (a state monitor) to plot states")
    if variable is None:
        if len(traces) > 1:
            raise ModelError(f"several variables were recorded ({', '.join(traces)}): name "
                             f"one, e.g. plot_state('{next(iter(traces))}')")
        variable = next(iter(traces))
    if variable not in traces:
        raise ModelError(f"variable {variable!r:.40} was not recorded; recorded: "
                         f"{', '.join(traces)}")
    rows = result.state_neurons[variable]
    if neurons is None:
        pick = np.arange(rows.size)
    else:
        wanted = np.atleast_1d(np.asarray(neurons))
        if wanted.dtype.kind not in "iu" or wanted.ndim != 1:
            raise ModelError(f"neurons = {neurons!r:.60}: give indices of recorded neurons")
        missing = [int(w) for w in wanted if w not in rows]
        if missing:
            raise ModelError(f"neuron {missing[0]} was not recorded for {variable}; recorded: "
                             f"{', '.join(map(str, rows[:10]))}{' ...' if rows.size > 10 else ''}")
        pick = np.array([int(np.flatnonzero(rows == w)[0]) for w in wanted])
    ax = _axes(ax)
    for k in pick:
        ax.plot(result.state_times, result.state[variable][k], lw=1.0,
                label=f"neuron {rows[k]}")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(variable)
    if pick.size <= MAX_LABELLED:
        ax.legend(loc="upper right")
    return ax


def _firing_period(model):
    """The compiled kernels and the free period of a 1-D model that fires on its own."""
    if hasattr(model, "variables"):
        raise ModelError(f"{model.name} has several state variables: it has no phase map or "
                         f"phase transition curve (those are for 1-D models); record its "
                         f"states with run(..., record=...) and plot them with "
                         f"result.plot_state")
    kernels = model.compile()
    period = kernels.period()
    if not (np.isfinite(period) and period > 0):
        raise ModelError(f"{model.name} does not fire on its own at these parameters (period "
                         f"{period:g}): no phase map to plot; give parameters where it does, "
                         f"e.g. model.with_parameters(...)")
    return kernels, period


def phase_map(model, ax=None, points=400):
    """The derived phase map of a 1-D model: the state against the phase (time since reset)
    over one free period, with the threshold and reset."""
    kernels, period = _firing_period(model)
    phase = np.linspace(0.0, period, points)
    ax = _axes(ax)
    ax.plot(phase, kernels.state(phase), label="state(phase)")
    ax.axhline(kernels.threshold(), color="0.4", ls="--", lw=1, label="threshold")
    ax.axhline(kernels.reset(), color="0.4", ls=":", lw=1, label="reset")
    ax.set_xlabel("phase: time since reset (ms)")
    ax.set_ylabel(model.state)
    ax.set_title(f"{model.name}: phase map, period {period:.4g} ms")
    ax.legend(loc="best")
    return ax


def ptc(model, weights=None, ax=None, points=400):
    """The derived phase transition curve of a 1-D model: the phase right after an input of
    weight w against the phase before it, for a few weights (default: +-0.1 and +-0.3 of the
    distance from reset to threshold, or of 1 when that is infinite); the phase T (firing)
    caps it."""
    kernels, period = _firing_period(model)
    if weights is None:
        span = kernels.threshold() - kernels.reset()
        span = span if np.isfinite(span) else 1.0   # (threshold at infinity: state units)
        weights = [f * span for f in (-0.3, -0.1, 0.1, 0.3)]
    weights = np.atleast_1d(np.asarray(weights, dtype=object))
    if weights.ndim != 1 or not all(isinstance(w, (int, float, np.floating, np.integer))
                                    and not isinstance(w, bool) and np.isfinite(w)
                                    for w in weights):
        raise ModelError(f"weights = {weights.tolist()!r:.60}: give finite numbers")
    phase = np.linspace(0.0, period, points)
    ax = _axes(ax)
    ax.plot(phase, phase, color="0.6", ls="--", lw=1, label="no input")
    for w in weights:
        after = np.minimum(kernels.ptc(phase, float(w)), period)
        ax.plot(phase, after, label=f"w = {float(w):g}")
    ax.set_xlabel("phase before the input (ms)")
    ax.set_ylabel("phase after (ms)")
    ax.set_title(f"{model.name}: phase transition curve (period {period:.4g} ms)")
    ax.legend(loc="best")
    return ax


def history(hist, ax=None):
    """A training history (train.History): loss per step, and the gradient norm on a second
    axis when recorded."""
    loss = np.asarray(getattr(hist, "loss", []), dtype=float)
    if loss.size == 0:
        raise ModelError("this history is empty: there is nothing to plot yet")
    ax = _axes(ax)
    ax.plot(np.arange(loss.size), loss, color="C0", label="loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss", color="C0")
    norm = np.asarray(getattr(hist, "grad_norm", []), dtype=float)
    if norm.size:
        twin = ax.twinx()
        twin.plot(np.arange(norm.size), norm, color="C1", lw=1, label="gradient norm")
        twin.set_ylabel("gradient norm", color="C1")
    return ax


def epochs(hist, ax=None):
    """A classifier's training curves (trainer.EpochHistory): loss per epoch (training, and
    validation when recorded) and, on a second axis, accuracy."""
    loss = np.asarray(getattr(hist, "loss", []), dtype=float)
    if loss.size == 0:
        raise ModelError("this history is empty: there is nothing to plot yet")
    ax = _axes(ax)
    x = np.arange(1, loss.size + 1)
    ax.plot(x, loss, color="C0", label="training loss")
    val_loss = np.asarray(hist.val_loss, dtype=float)
    if np.isfinite(val_loss).any():
        ax.plot(x, val_loss, color="C0", ls="--", label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss", color="C0")
    twin = ax.twinx()
    twin.plot(x, hist.accuracy, color="C1", label="training accuracy")
    val_accuracy = np.asarray(hist.val_accuracy, dtype=float)
    if np.isfinite(val_accuracy).any():
        twin.plot(x, val_accuracy, color="C1", ls="--", label="validation accuracy")
    twin.set_ylabel("accuracy", color="C1")
    return ax


def save(ax, path, dpi=120):
    """Write the figure of `ax` to `path` (the format from its suffix: .png, .pdf, .svg)
    atomically: a temporary file renamed into place, nothing left behind on failure."""
    if not hasattr(ax, "figure") or not hasattr(ax.figure, "savefig"):
        raise ModelError(f"ax = {ax!r:.60}: give the matplotlib Axes a plot function returned")
    target = file_path(path, "save a plot as")
    suffix = target.suffix.lstrip(".").lower()
    formats = ax.figure.canvas.get_supported_filetypes()
    if suffix not in formats:
        raise ModelError(f"cannot save a plot as {path}: give a file name ending in one of "
                         f"{', '.join('.' + f for f in sorted(formats))}, e.g. raster.png")
    return write_atomically(path, "save a plot as", lambda handle: ax.figure.savefig(
        handle, format=suffix, dpi=dpi, bbox_inches="tight"))


__all__ = ["history", "phase_map", "ptc", "pyplot", "raster", "rate", "save", "state"]
