"""Brunel (2000) model A with NEST's exact model iaf_psc_delta_ps: the NEST half of a comparison.

    python benchmarks/brunel_nest.py --install        # venv outside the repo + NEST from PyPI
    python benchmarks/brunel_nest.py [--regimes SR,AI,SIfast,SIslow] [--duration 1000]
        [--scale 1.0] [--transient 100] [--out benchmarks/results/brunel_nest.json]

The project never depends on NEST: NEST lives in its own virtual environment (default
/work/nest-venv, or $NEST_VENV, or --venv), and this script re-executes itself with that venv's
Python when `import nest` fails in the interpreter that started it. Only the standard library
is needed to start it.

Network (Brunel 2000, J Comput Neurosci 8:183, model A, the simulations of Fig. 8):
N_E = 10000 * scale, N_I = 2500 * scale; every neuron receives C_E = 0.1 N_E excitatory and
C_I = 0.1 N_I inhibitory inputs (NEST fixed_indegree, no autapses, no multapses: distinct
presynaptic partners), weight J = 0.1 mV (inhibitory -g J), delay D = 1.5 ms on every synapse;
LIF with tau_m = 20 ms, theta = 20 mV, V_reset = 10 mV, t_ref = 2 ms, E_L = 0; input arriving
during the refractory period is discarded (iaf_psc_delta_ps default refractory_input = False, as
in Brunel). iaf_psc_delta_ps adds a synaptic weight to V_m directly in mV (C_m only scales I_e,
which is 0); the script checks that a 0.1 weight moves V by 0.1 mV before it runs anything.
External drive: C_ext = C_E independent Poisson trains at nu_ext = eta * nu_thr,
nu_thr = theta / (J C_E tau_m), merged into one Poisson process of rate C_E nu_ext per neuron
(poisson_generator_ps: precise times, an independent train for every target), weight J, delay D
(so that the kernel's min_delay stays D).

Regimes (Brunel 2000, Fig. 8 A-D):
    SR      g = 3,   eta = 2    A: synchronous regular, high rates
    SIfast  g = 6,   eta = 4    B: fast global oscillation, irregular neurons
    AI      g = 5,   eta = 2    C: stationary global activity, irregular neurons
    SIslow  g = 4.5, eta = 0.9  D: slow global oscillation, irregular neurons, low rates
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

# benchmarks/nest/ (this benchmark's outputs) would shadow the real `nest` as a namespace package:
# this script needs nothing from its own folder, so take that folder off the import path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

DEFAULT_VENV = os.environ.get("NEST_VENV", "/work/nest-venv")
NEST_REQUIREMENT = "nest-simulator>=3.0,<4"

REGIMES = {
    # name: (g, eta, Brunel 2000 Fig. 8 panel)
    "SR": (3.0, 2.0, "A"),
    "SIfast": (6.0, 4.0, "B"),
    "AI": (5.0, 2.0, "C"),
    "SIslow": (4.5, 0.9, "D"),
}

# Brunel's model A
TAU_M = 20.0      # ms
THETA = 20.0      # mV
V_RESET = 10.0    # mV
T_REF = 2.0       # ms
J = 0.1           # mV
DELAY = 1.5       # ms
EPSILON = 0.1     # connection probability: C_E = EPSILON N_E, C_I = EPSILON N_I


def venv_python(venv):
    return os.path.join(venv, "bin", "python")


# ----------------------------------------------------------------------------------------------
# install / re-exec
# ----------------------------------------------------------------------------------------------
def install(venv):
    t0 = time.perf_counter()
    if not os.path.exists(venv_python(venv)):
        print(f"creating venv {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    else:
        print(f"venv {venv} exists", flush=True)
    # The PyPI wheel (manylinux2014, CPython 3.9+) ships the compiled kernel: no build needed.
    subprocess.run([venv_python(venv), "-m", "pip", "install", NEST_REQUIREMENT], check=True)
    out = subprocess.run([venv_python(venv), "-c", "import nest; print(nest.__version__)"],
                         check=True, capture_output=True, text=True,
                         env=dict(os.environ, PYNEST_QUIET="1"))
    print(f"NEST {out.stdout.strip().splitlines()[-1]} installed in {venv} "
          f"({time.perf_counter() - t0:.0f} s)")


def ensure_nest(args):
    """Import nest here, or re-execute this script with the NEST venv's Python."""
    os.environ.setdefault("PYNEST_QUIET", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import nest
        if hasattr(nest, "Simulate"):
            return
    except ImportError:
        pass
    py = venv_python(args.venv)
    if os.environ.get("BRUNEL_NEST_REEXEC") or not os.path.exists(py):
        sys.exit(f"NEST cannot be imported and {py} does not provide it; run "
                 f"`python {sys.argv[0]} --install` first (venv: {args.venv}).")
    env = dict(os.environ, BRUNEL_NEST_REEXEC="1")
    os.execve(py, [py, os.path.abspath(__file__)] + sys.argv[1:], env)


# ----------------------------------------------------------------------------------------------
# the simulation
# ----------------------------------------------------------------------------------------------
def check_weight_units(nest):
    """A weight of J into iaf_psc_delta_ps must raise V by J mV whatever C_m is."""
    import numpy as np
    for c_m in (1.0, 250.0):
        nest.ResetKernel()
        nest.set(resolution=0.1, local_num_threads=1)
        n = nest.Create("iaf_psc_delta_ps", params=dict(
            E_L=0.0, V_th=THETA, V_reset=V_RESET, tau_m=TAU_M, t_ref=T_REF, C_m=c_m, V_m=5.0))
        sg = nest.Create("spike_generator", params={"spike_times": [1.05], "precise_times": True})
        nest.Connect(sg, n, syn_spec={"weight": J, "delay": 1.0})
        nest.Simulate(2.1)    # the spike arrives at 2.05 ms
        v = n.get("V_m")
        expect = 5.0 * np.exp(-2.1 / TAU_M) + J * np.exp(-0.05 / TAU_M)
        if abs(v - expect) > 1e-9:
            raise RuntimeError(f"iaf_psc_delta_ps weight units: V = {v}, expected {expect} "
                               f"(C_m = {c_m})")


def run_regime(nest, name, args):
    import numpy as np
    g, eta, panel = REGIMES[name]
    n_e = int(round(10000 * args.scale))
    n_i = int(round(2500 * args.scale))
    c_e = int(round(EPSILON * n_e))
    c_i = int(round(EPSILON * n_i))
    nu_thr = THETA / (J * c_e * TAU_M)          # 1/ms
    nu_ext = eta * nu_thr                        # 1/ms, per external input
    p_rate = 1000.0 * nu_ext * c_e               # Hz, merged external process per neuron

    t_build0, c_build0 = time.perf_counter(), time.process_time()
    nest.ResetKernel()
    nest.set(resolution=args.resolution, rng_seed=args.seed, local_num_threads=1,
             print_time=False)
    params = dict(E_L=0.0, V_th=THETA, V_reset=V_RESET, tau_m=TAU_M, t_ref=T_REF, C_m=1.0,
                  I_e=0.0)
    nodes_e = nest.Create("iaf_psc_delta_ps", n_e, params=params)
    nodes_i = nest.Create("iaf_psc_delta_ps", n_i, params=params)
    allnodes = nodes_e + nodes_i
    v0 = np.random.default_rng(args.v0_seed).uniform(0.0, THETA, n_e + n_i)
    allnodes.set(V_m=v0.tolist())
    noise = nest.Create("poisson_generator_ps", params={"rate": p_rate})
    rec = nest.Create("spike_recorder")
    syn_e = {"synapse_model": "static_synapse", "weight": J, "delay": DELAY}
    syn_i = {"synapse_model": "static_synapse", "weight": -g * J, "delay": DELAY}
    rule = dict(allow_autapses=False, allow_multapses=False)
    nest.Connect(noise, allnodes, syn_spec=syn_e)
    nest.Connect(nodes_e, allnodes, dict(rule="fixed_indegree", indegree=c_e, **rule), syn_e)
    nest.Connect(nodes_i, allnodes, dict(rule="fixed_indegree", indegree=c_i, **rule), syn_i)
    # the recorder's connection counts in the kernel's min_delay too: give it D, not the
    # default 1.0 ms, so that min_delay (the communication interval) is D
    nest.Connect(allnodes, rec, syn_spec={"delay": DELAY})
    build_s = time.perf_counter() - t_build0
    build_cpu_s = time.process_time() - c_build0
    n_syn = nest.num_connections

    t_sim0, c_sim0 = time.perf_counter(), time.process_time()
    nest.Simulate(args.duration)
    simulate_s = time.perf_counter() - t_sim0
    simulate_cpu_s = time.process_time() - c_sim0
    ks = nest.GetKernelStatus()

    ev = rec.get("events")
    senders = np.asarray(ev["senders"], dtype=np.int64)
    times = np.asarray(ev["times"], dtype=float)   # precise times (offsets folded in)
    first = int(nodes_e[0].global_id)
    idx = senders - first                             # 0..n_e-1: E, n_e..: I
    keep = times >= args.transient
    window_s = (args.duration - args.transient) / 1000.0

    def rate(lo, hi):
        m = keep & (idx >= lo) & (idx < hi)
        return float(m.sum() / ((hi - lo) * window_s))

    # CV of ISIs per neuron (spikes after the transient, >= 3 spikes)
    order = np.lexsort((times[keep], idx[keep]))
    ids_k, t_k = idx[keep][order], times[keep][order]
    cvs = np.full(n_e + n_i, np.nan)
    if ids_k.size:
        bounds = np.flatnonzero(np.diff(ids_k)) + 1
        for seg_ids, seg_t in zip(np.split(ids_k, bounds), np.split(t_k, bounds)):
            if seg_t.size >= 3:
                isi = np.diff(seg_t)
                cvs[seg_ids[0]] = isi.std() / isi.mean()

    def mean_cv(lo, hi):
        c = cvs[lo:hi]
        c = c[~np.isnan(c)]
        return (float(c.mean()) if c.size else None), int(c.size)

    cv_all, n_cv_all = mean_cv(0, n_e + n_i)
    cv_e, n_cv_e = mean_cv(0, n_e)
    cv_i, n_cv_i = mean_cv(n_e, n_e + n_i)

    # population rate, 1 ms bins over the whole run (transient included, marked in the JSON)
    edges = np.arange(0.0, args.duration + 1e-9, args.bin)
    hist_e = np.histogram(times[idx < n_e], edges)[0]
    hist_i = np.histogram(times[idx >= n_e], edges)[0]
    to_hz = 1000.0 / args.bin
    pop_e = hist_e * to_hz / n_e
    pop_i = hist_i * to_hz / n_i
    pop_all = (hist_e + hist_i) * to_hz / (n_e + n_i)
    steady = edges[:-1] >= args.transient
    pa = pop_all[steady]
    pop_cv = float(pa.std() / pa.mean()) if pa.size and pa.mean() > 0 else None
    peak_hz = None
    if pa.size > 8 and pa.std() > 0:
        spec = np.abs(np.fft.rfft(pa - pa.mean())) ** 2
        freqs = np.fft.rfftfreq(pa.size, d=args.bin / 1000.0)
        peak_hz = float(freqs[1 + np.argmax(spec[1:])])

    n_spikes = int(keep.sum())
    n_total_spikes = int(times.size)
    # recurrent deliveries: every neuron has mean out-degree C_E N / N_E = C_I N / N_I
    out_deg = (c_e + c_i) * 1.0
    ext_events = (n_e + n_i) * p_rate * args.duration / 1000.0
    rec_events = n_total_spikes * out_deg
    return {
        "regime": name, "brunel_fig8_panel": panel, "g": g, "eta": eta,
        "N_E": n_e, "N_I": n_i, "C_E": c_e, "C_I": c_i, "J_mV": J, "delay_ms": DELAY,
        "nu_thr_Hz": 1000.0 * nu_thr, "nu_ext_Hz": 1000.0 * nu_ext,
        "poisson_rate_per_neuron_Hz": p_rate,
        "duration_ms": args.duration, "transient_ms": args.transient,
        "rate_E_Hz": rate(0, n_e), "rate_I_Hz": rate(n_e, n_e + n_i),
        "rate_all_Hz": rate(0, n_e + n_i),
        "cv_isi_mean_all": cv_all, "cv_isi_mean_E": cv_e, "cv_isi_mean_I": cv_i,
        "cv_neurons_all": n_cv_all, "cv_neurons_E": n_cv_e, "cv_neurons_I": n_cv_i,
        "pop_rate_cv": pop_cv, "pop_rate_peak_freq_Hz": peak_hz,
        "spikes_after_transient": n_spikes, "spikes_total": n_total_spikes,
        "connections": int(n_syn),
        "recurrent_deliveries_approx": rec_events, "external_events_expected": ext_events,
        "synaptic_events_per_wall_s": (rec_events + ext_events) / simulate_s,
        "build_s": build_s, "simulate_s": simulate_s,
        # process CPU time: less sensitive than wall time to other jobs on the 2 shared cores
        "build_cpu_s": build_cpu_s, "simulate_cpu_s": simulate_cpu_s,
        "simulate_s_per_simulated_s": simulate_s / (args.duration / 1000.0),
        "kernel_time_simulate_s": float(np.atleast_1d(ks.get("time_simulate", np.nan))[0]),
        "kernel_time_connect_s": float(np.atleast_1d(ks.get("time_construction_connect",
                                                            np.nan))[0]),
        "min_delay_ms": float(ks["min_delay"]), "resolution_ms": float(ks["resolution"]),
        "pop_rate_bin_ms": args.bin, "pop_rate_t0_ms": 0.0,
        "pop_rate_E_Hz": [round(float(x), 3) for x in pop_e],
        "pop_rate_I_Hz": [round(float(x), 3) for x in pop_i],
        "pop_rate_all_Hz": [round(float(x), 3) for x in pop_all],
        "pop_rate_bins": int(edges.size - 1),
    }


def machine_info():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform()}


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--install", action="store_true",
                    help="create the NEST venv if missing and pip-install NEST there")
    ap.add_argument("--venv", default=DEFAULT_VENV, help="NEST venv (default %(default)s)")
    ap.add_argument("--regimes", default="SR,AI,SIfast,SIslow")
    ap.add_argument("--duration", type=float, default=1000.0, help="ms")
    ap.add_argument("--transient", type=float, default=100.0,
                    help="ms discarded at the start for rates and CVs (default %(default)s)")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--resolution", type=float, default=0.1, help="ms (D must be a multiple)")
    ap.add_argument("--seed", type=int, default=12345, help="NEST rng_seed (connectivity, "
                    "Poisson input)")
    ap.add_argument("--v0-seed", type=int, default=2000, help="numpy seed of the initial V, "
                    "uniform in [0, theta)")
    ap.add_argument("--bin", type=float, default=1.0, help="population-rate bin, ms")
    ap.add_argument("--out", default="benchmarks/results/brunel_nest.json")
    args = ap.parse_args()

    if args.install:
        install(args.venv)
        return
    regimes = [r.strip() for r in args.regimes.split(",") if r.strip()]
    for r in regimes:
        if r not in REGIMES:
            sys.exit(f"unknown regime {r!r}; known: {', '.join(REGIMES)}")
    if not args.transient < args.duration:
        sys.exit("--transient must be shorter than --duration")

    ensure_nest(args)
    import nest
    if hasattr(nest, "VerbosityLevel"):      # NEST >= 3.10
        nest.verbosity = nest.VerbosityLevel.ERROR
    else:
        nest.set_verbosity("M_ERROR")
    check_weight_units(nest)

    results = []
    for r in regimes:
        print(f"[{r}] scale {args.scale}, {args.duration:g} ms ...", flush=True)
        res = run_regime(nest, r, args)
        print(f"[{r}] rate E {res['rate_E_Hz']:.2f} Hz, I {res['rate_I_Hz']:.2f} Hz, "
              f"CV {fmt(res['cv_isi_mean_all'], '.3f')}, build {res['build_s']:.1f} s, "
              f"simulate {res['simulate_s']:.1f} s", flush=True)
        results.append(res)
        # write after every regime, so a long run leaves what it has
        out = {"nest_version": nest.__version__, "model": "iaf_psc_delta_ps",
               "command": " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
               "scale": args.scale, "duration_ms": args.duration,
               "transient_ms": args.transient, "resolution_ms": args.resolution,
               "rng_seed": args.seed, "v0_seed": args.v0_seed, "threads": 1,
               "machine": machine_info(), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
               "results": results}
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)

    print()
    print(f"NEST {nest.__version__}, iaf_psc_delta_ps, scale {args.scale} "
          f"(N_E {results[0]['N_E']}, N_I {results[0]['N_I']}), {args.duration:g} ms, "
          f"first {args.transient:g} ms discarded, 1 thread")
    hdr = ("regime", "g", "eta", "rate E", "rate I", "CV all", "CV E", "CV I", "popCV",
           "peak Hz", "build s", "sim s", "sim CPU s", "syn ev/s")
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for r in results:
        print(f"| {r['regime']} | {r['g']:g} | {r['eta']:g} | {r['rate_E_Hz']:.2f} | "
              f"{r['rate_I_Hz']:.2f} | {fmt(r['cv_isi_mean_all'], '.3f')} | "
              f"{fmt(r['cv_isi_mean_E'], '.3f')} | {fmt(r['cv_isi_mean_I'], '.3f')} | "
              f"{fmt(r['pop_rate_cv'], '.2f')} | {fmt(r['pop_rate_peak_freq_Hz'], '.0f')} | "
              f"{r['build_s']:.1f} | {r['simulate_s']:.1f} | {r['simulate_cpu_s']:.1f} | "
              f"{r['synaptic_events_per_wall_s']:.3g} |")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
