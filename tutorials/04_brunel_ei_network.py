"""Tutorial 4: a balanced excitatory/inhibitory LIF network (Brunel 2000, model A), exactly.

Run: python tutorials/04_brunel_ei_network.py   (writes brunel_raster.png with the `plot` extra)

1. Declare Brunel's LIF neuron in equations (mV, ms), with a 2 ms refractory period.
2. Give each neuron its own constant drive mu, spread around the 20 mV threshold: about half
   the neurons are subthreshold and fire only when recurrent input pushes them over.
3. Two populations, E (8000) and I (2000), connected as in model A: every neuron receives
   C_E = 160 excitatory inputs of J = 0.2 mV and C_I = 40 inhibitory inputs of -g*J; no delays.
4. Simulate 200 ms of transient, then 1 s, exactly: every spike time is a closed-form event.
5. Measure rates, irregularity (CV of inter-spike intervals) and synchrony (Fano factor of the
   population count, largest cascade of simultaneous spikes); who fires, by drive.
6. Plot a raster and the population rates.

Why not Brunel's own numbers (C_E = 800, J = 0.1 mV, g = 5, 1.5 ms delays, Poisson input)?
Without delays, an input that pushes a neuron over threshold makes it fire at that very instant,
so one spike can set off a cascade of spikes at one instant. Simultaneous spikes fire in index
order, E (0-7999) before I, so inhibition comes too late to stop a cascade. With Brunel's numbers
the first cascade (t = 0.006 ms) takes in all 10^4 neurons, and the network then fires in
lockstep at 50 Hz for the whole run. So does this network at g = 4, 5 or 6 (42-49 Hz) and g = 8
(14 Hz); g = 10 is borderline (lockstep for some seeds). Fewer inputs (C_E = 160: one E spike
reaches 200 targets, 0.2 mV each) keep cascades small; strong inhibition (g = 12: 2.4 mV per I
spike) breaks the lockstep within 20 ms and holds the rates near 5 Hz. With these numbers the
order of simultaneous spikes does not matter: listing I first gives the same rates to 0.01 Hz.
"""
import numpy as np

import sparseprop

# 1. The neuron, in Brunel's units: tau dv/dt = mu - v (v in mV, t in ms), threshold 20 mV,
# reset 10 mV, 2 ms refractory period (inputs arriving then are lost). A spike of weight w
# moves v by w mV. The value mu = 22 here is only the default: step 2 gives each neuron its own.
model = sparseprop.NeuronModel("dv/dt = (mu - v)/tau : 1", threshold="v >= 20",
                               reset="v = 10", parameters={"mu": 22.0, "tau": 20.0},
                               refractory=2.0, name="brunel_lif")
print(model.explain())
# A neuron with mu < 20 has no period: its state settles at v = mu, below threshold. The engine
# moves it between inputs with the "Free evolution" flow printed above:
# v(dt) = mu + (v - mu) exp(-dt/tau).

# 2. The drives: mu ~ Normal(20 mV, 3 mV), one value per neuron. About half the neurons are
# subthreshold (mu < 20). If every neuron were subthreshold, nothing would ever fire: there is no
# noise. Each network neuron starts at a random point of its trajectory (build_network's
# default): suprathreshold ones at a uniform phase in [0, T_i), subthreshold ones with v uniform
# between reset (10 mV) and threshold (20 mV).
N_E, N_I = 8000, 2000
eps, J, g = 0.02, 0.2, 12.0       # connection probability, EPSP (mV), relative inhibition
C_E, C_I = int(eps * N_E), int(eps * N_I)   # 160 and 40 inputs per neuron
rng = np.random.default_rng(4)
mu_E, mu_I = rng.normal(20.0, 3.0, N_E), rng.normal(20.0, 3.0, N_I)

# 3. Populations and projections (fixed in-degree: every neuron gets exactly C_E and C_I inputs).
E = sparseprop.Population("E", N_E, parameters={"mu": mu_E})
I = sparseprop.Population("I", N_I, parameters={"mu": mu_I})
projections = [
    sparseprop.Projection("E", "E", sparseprop.fixed_indegree(C_E, J, seed=1)),
    sparseprop.Projection("E", "I", sparseprop.fixed_indegree(C_E, J, seed=2)),
    sparseprop.Projection("I", "E", sparseprop.fixed_indegree(C_I, -g * J, seed=3)),
    sparseprop.Projection("I", "I", sparseprop.fixed_indegree(C_I, -g * J, seed=4))]
net = sparseprop.build_network(model, [E, I], projections, seed=5)
sub = net.subthreshold            # True for neurons that never reach threshold on their own
print(f"\n{net.n} neurons, {net.csr.nnz} synapses; {sub.sum()} subthreshold (mu < 20 mV)")

# 4. Simulate: 200 ms of transient (discarded), then 1 s. The uniform initial states put many
# neurons just below threshold, so the first spike sets off a cascade through the whole network
# at t = 0.006 ms. Strong inhibition breaks up the lockstep within about 20 ms.
transient = net.run(duration=200.0)
result = net.run(duration=1000.0)
_, simultaneous = np.unique(transient.t, return_counts=True)
print(f"transient: {transient.n_spikes} spikes, largest cascade {simultaneous.max()} spikes at one "
      f"instant")
print(result)
print(f"{result.n_spikes} spikes in {result.wall_time:.2f} s of wall time, engine "
      f"{result.engine}")

# 5a. Rates. A lone neuron with mu = 22 mV fires every T + 2 ms = 37.8 ms (26 Hz; explain()
# printed 1/T, without the refractory period). Inhibition holds the network near 5 Hz.
rates = result.rates()
print("rates (Hz):", {name: round(rate, 2) for name, rate in rates.items()})

# 5b. Who fires? Subthreshold neurons fire only when excitation pushes them over threshold.
# Strong inhibition also silences some suprathreshold ones.
counts = result.counts
print(f"subthreshold neurons: {np.mean(counts[sub] > 0):.0%} fired, "
      f"{counts[sub].sum()} spikes; suprathreshold: {np.mean(counts[~sub] > 0):.0%} fired, "
      f"{counts[~sub].sum()} spikes")
mu = np.concatenate([mu_E, mu_I])
print("drive mu (mV)   neurons  fired  rate (Hz)")
for lo, hi in [(-np.inf, 18), (18, 19), (19, 20), (20, 21), (21, 22), (22, 24), (24, np.inf)]:
    group = (mu >= lo) & (mu < hi)
    print(f"  [{lo:5}, {hi:4})  {group.sum():7}  {np.mean(counts[group] > 0):5.0%}  "
          f"{counts[group].mean() / result.duration * 1000:9.2f}")

# 5c. Irregularity: the CV (standard deviation / mean) of each neuron's inter-spike intervals,
# for neurons with at least 5 spikes. A Poisson process has CV 1; a clock has CV 0.
order = np.lexsort((result.t, result.i))             # by neuron, then by time
trains = np.split(result.t[order], np.cumsum(counts)[:-1])   # one spike train per neuron
cv = np.array([np.std(np.diff(s)) / np.mean(np.diff(s)) for s in trains if s.size >= 5])
print(f"CV of inter-spike intervals: {cv.mean():.2f} (median {np.median(cv):.2f}, "
      f"{cv.size} neurons with >= 5 spikes)")

# 5d. Synchrony. The Fano factor (variance / mean) of the network's spike count in 5 ms bins is
# about 1 for independent Poisson neurons. It grows with the correlations between neurons. The same
# network at g = 5 fires in lockstep: Fano factor 7500. Without delays, synchrony also shows as
# cascades: spikes at exactly the same time, one pushing the next over threshold.
population, _ = np.histogram(result.t, np.arange(result.t_start, result.t_end + 1e-9, 5.0))
fano = population.var() / population.mean()
_, simultaneous = np.unique(result.t, return_counts=True)
print(f"Fano factor of the population count (5 ms bins): {fano:.1f}; largest cascade: "
      f"{simultaneous.max()} spikes at one instant")

# What this tutorial pins: both populations fire at a few Hz, subthreshold neurons fire too, and
# the activity stays asynchronous. In the lockstep state, every neuron fires in one cascade and
# the Fano factor is in the thousands.
assert all(1.0 < rate < 20.0 for rate in rates.values()), rates
assert np.count_nonzero(counts[sub]) > 100, "subthreshold neurons should fire"
assert simultaneous.max() < 1000 and fano < 100, (simultaneous.max(), fano)

# 6. Raster (the first 400 E and 100 I neurons) and population rates in 1 ms bins.
try:
    import matplotlib
except ImportError:
    print("(install the plot extra, pip install 'sparseprop[plot]', for a raster plot)")
else:
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1]})
    bins = np.arange(result.t_start, result.t_end + 1e-9, 1.0)
    for name, colour, shown, offset in [("E", "tab:blue", 400, 0), ("I", "tab:red", 100, 400)]:
        j, tj = result.spikes_of(name)
        keep = j < shown
        top.plot(tj[keep], j[keep] + offset, ".", color=colour, markersize=2,
                 label=f"{name}: {rates[name]:.2f} Hz")
        n = net.populations[name].stop - net.populations[name].start
        bottom.plot(bins[:-1], np.histogram(tj, bins)[0] / n / 1e-3, color=colour, lw=0.8)
    top.set_ylabel("neuron (E: 0-399, I: 400-499)")
    top.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), markerscale=5)
    top.set_title(f"Brunel model A without delays: N = {net.n}, g = {g:g}, J = {J} mV, "
                  f"C_E = {C_E}, mu ~ N(20, 3) mV")
    bottom.set_xlabel("time (ms)")
    bottom.set_ylabel("rate (Hz)")
    fig.tight_layout()
    fig.savefig("brunel_raster.png", dpi=120, bbox_inches="tight")
    print("wrote brunel_raster.png")
