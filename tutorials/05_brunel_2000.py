"""Tutorial 5: Brunel (2000), the sparse E/I network with delays and Poisson drive, exactly.

Run: python tutorials/05_brunel_2000.py [scale] [duration_ms]
     (defaults 1.0 and 1000: N_E = 10,000, N_I = 2,500, 1 s per regime, several minutes each;
      SPARSEPROP_QUICK=1, as the tests set, runs scale 0.05 for 150 ms)
Writes brunel2000_<regime>.png (raster and population rate) with the `plot` extra.

Brunel N (2000) J Comput Neurosci 8:183-208, model A, Fig. 8:
- LIF neurons tau dv/dt = -v (mV, ms), threshold 20 mV, reset 10 mV, refractory 2 ms;
- N_E = 10,000 excitatory and N_I = 2,500 inhibitory neurons; every neuron receives C_E = 1,000
  excitatory inputs of J = 0.1 mV and C_I = 250 inhibitory ones of -g J, all with delay
  D = 1.5 ms (fixed in-degree, no autapses);
- external drive: every neuron receives C_E independent Poisson trains of rate nu_ext =
  eta nu_thr, nu_thr = theta / (J C_E tau), each spike an input of J (PoissonInput: merged
  into one Poisson process per neuron, never stored as synapses).
The four regimes of Fig. 8: SR (synchronous regular, g = 3, eta = 2), AI (asynchronous
irregular, g = 5, eta = 2), SI fast (g = 6, eta = 4), SI slow (g = 4.5, eta = 0.9).
Every spike time here is exact: the membrane decays in closed form between inputs, every
input arrives at its spike time plus 1.5 ms, and every Poisson input is an event of its own.
benchmarks/brunel.py compares rates and CVs with NEST's exact model iaf_psc_delta_ps.
"""
import os
import sys

import numpy as np

import sparseprop as sp

REGIMES = {"SR": (3.0, 2.0), "AI": (5.0, 2.0), "SIfast": (6.0, 4.0), "SIslow": (4.5, 0.9)}
THETA, RESET, TAU, J, DELAY, REFRACTORY = 20.0, 10.0, 20.0, 0.1, 1.5, 2.0

# The neuron: tau dv/dt = mu - v; mu = 0 here (no constant drive: every neuron is subthreshold
# and fires only when inputs push it over). The model is declared with mu = 25 so that SymPy
# derives its phase map too; the populations set mu = 0.
MODEL = sp.NeuronModel("dv/dt = (mu - v)/tau : 1", threshold=f"v >= {THETA}",
                       reset=f"v = {RESET}", parameters={"mu": 25.0, "tau": TAU},
                       refractory=REFRACTORY, name="brunel2000")


# The same model declared with physical units (sparseprop.units, on SymPy's units): checked
# for dimensions, then converted to ms and mV, so it runs the same kernels.
MODEL_UNITS = sp.NeuronModel("dv/dt = (mu - v)/tau : volt", threshold=f"v >= {THETA}*mV",
                             reset=f"v = {RESET}*mV", parameters={"mu": "25 mV",
                                                                  "tau": f"{TAU} ms"},
                             refractory=f"{REFRACTORY} ms", name="brunel2000")


def brunel(g, eta, scale=1.0, seed=1, units=False):
    """Brunel's model A network at (g, eta), N_E = 10,000 scale: a sparseprop Network; with
    units=True written with units (mV, ms, Hz) throughout."""
    n_e = int(round(10_000 * scale))
    n_i = n_e // 4
    c_e, c_i = n_e // 10, n_i // 10
    nu_thr = THETA / (J * c_e * TAU) * 1000.0          # Hz
    # a number in ms, mV or Hz, or the same as a quantity
    q = (lambda x, unit: f"{x!r} {unit}") if units else (lambda x, unit: x)  # noqa: E731
    E = sp.Population("E", n_e, parameters={"mu": q(0.0, "mV")})
    I = sp.Population("I", n_i, parameters={"mu": q(0.0, "mV")})
    j, inh, d = q(J, "mV"), q(-g * J, "mV"), q(DELAY, "ms")
    projections = [
        sp.Projection("E", "E", sp.fixed_indegree(c_e, j, seed=seed, delay=d)),
        sp.Projection("E", "I", sp.fixed_indegree(c_e, j, seed=seed + 1, delay=d)),
        sp.Projection("I", "E", sp.fixed_indegree(c_i, inh, seed=seed + 2, delay=d)),
        sp.Projection("I", "I", sp.fixed_indegree(c_i, inh, seed=seed + 3, delay=d))]
    drive = [sp.PoissonInput(name, c_e, q(eta * nu_thr, "Hz"), j) for name in ("E", "I")]
    v0 = np.random.default_rng(seed + 4).uniform(0.0, THETA, n_e + n_i)   # as NEST's run
    return sp.build_network(MODEL_UNITS if units else MODEL, [E, I], projections,
                            seed=seed + 5, inputs=drive, initial_state={"v": v0})


def statistics(result, transient):
    """Rates of E and I (Hz), mean CV of inter-spike intervals (neurons with >= 3 spikes), and
    the population rate in 1 ms bins, after `transient` ms."""
    keep = result.t >= transient
    i, t = result.i[keep], result.t[keep]
    span = (result.t_end - transient) / 1000.0
    rates = {}
    for name, s in result.populations.items():
        rates[name] = np.count_nonzero((i >= s.start) & (i < s.stop)) / (s.stop - s.start) / span
    order = np.lexsort((t, i))
    i, t = i[order], t[order]
    cvs = []
    for neuron in np.unique(i):
        times = t[i == neuron] if i.size < 10**6 else None
        if times is None:
            lo, hi = np.searchsorted(i, neuron), np.searchsorted(i, neuron, side="right")
            times = t[lo:hi]
        if times.size >= 3:
            isi = np.diff(times)
            cvs.append(isi.std() / isi.mean())
    bins = np.arange(transient, result.t_end + 1.0, 1.0)
    population = np.histogram(result.t[keep], bins)[0] / result.n / 1e-3
    return rates, float(np.mean(cvs)) if cvs else float("nan"), population


def main(scale, duration, transient):
    """Simulate each regime, print its rates and CV, plot raster and population rate."""
    rows = []
    for regime, (g, eta) in REGIMES.items():
        net = brunel(g, eta, scale)
        result = net.run(duration=duration, progress=False)
        rates, cv, population = statistics(result, transient)
        rows.append((regime, g, eta, rates["E"], rates["I"], cv, result.wall_time))
        print(f"{regime:7s} g = {g:3.1f}, nu_ext/nu_thr = {eta:3.1f}: rate E {rates['E']:6.2f} "
              f"Hz, I {rates['I']:6.2f} Hz, mean CV {cv:.3f}, population rate CV "
              f"{population.std() / max(population.mean(), 1e-12):.2f}  ({result.wall_time:.1f} s "
              f"for {duration:g} ms, {result.n_spikes} spikes)")
        plot(regime, g, eta, result, population, transient)
    with_units = brunel(*REGIMES["AI"], scale, units=True).run(duration=50.0, progress=False)
    plain = brunel(*REGIMES["AI"], scale).run(duration=50.0, progress=False)
    same = np.array_equal(with_units.i, plain.i) and np.array_equal(with_units.t, plain.t)
    print(f"AI declared with units: {with_units.n_spikes} spikes in 50 ms, the same spikes as "
          f"in plain numbers: {same}")
    assert same
    return rows


def plot(regime, g, eta, result, population, transient):
    """Raster of 50 E neurons and the population rate over the last 200 ms."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  (no matplotlib: install sparseprop[plot] for the figure)")
        return
    start = max(transient, result.t_end - 200.0)
    keep = (result.t >= start) & (result.i < 50)
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(6, 4))
    top.plot(result.t[keep], result.i[keep], "|", markersize=3, color="k")
    top.set_ylabel("E neuron")
    top.set_title(f"Brunel 2000, {regime}: g = {g}, nu_ext/nu_thr = {eta}")
    edges = transient + np.arange(population.size)
    show = edges >= start
    bottom.plot(edges[show], population[show], color="k", linewidth=0.8)
    bottom.set_xlabel("time (ms)")
    bottom.set_ylabel("rate (Hz)")
    fig.tight_layout()
    fig.savefig(f"brunel2000_{regime}.png", dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    if os.environ.get("SPARSEPROP_QUICK") == "1":
        scale, duration = 0.05, 150.0
    else:
        scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
        duration = float(sys.argv[2]) if len(sys.argv) > 2 else 1000.0
    main(scale, duration, transient=min(100.0, duration / 3))
