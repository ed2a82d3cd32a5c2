"""sparseprop's lif_exp against NEST's iaf_psc_exp_ps on a small recurrent network.

    python benchmarks/nest_psc_exp.py --install      # venv outside the repo + NEST from PyPI
    python benchmarks/nest_psc_exp.py [--seeds 1-10] [--duration 2000]
        [--nest-models iaf_psc_exp_ps,iaf_psc_exp_ps_lossless]
        [--out benchmarks/results/nest_psc_exp.json]

The project never depends on NEST: NEST lives in its own virtual environment (default
/work/nest-venv, or $NEST_VENV, or --venv). The interpreter that starts this script runs the
sparseprop half; the NEST half runs in the NEST venv's Python, which re-executes this same file
with --nest-child IN OUT (IN: the networks as JSON, OUT: NEST's spikes and checks as JSON). Each
network is drawn once with numpy in the parent and handed to the child, so both halves see
identical numbers.

Model (models/lif_exp.toml): tau_m dv/dt = Ie + I - v, tau_s dI/dt = -I, threshold v >= 1,
reset v = 0 (held for the refractory period while I evolves and takes inputs), input I += w.
Mapping to iaf_psc_exp_ps: E_L = 0, V_reset = 0, V_th = 1 mV, C_m = tau_m pF (so that
tau_m dV/dt = -V + I with I in pA), I_e = Ie, tau_syn_ex = tau_syn_in = tau_s, t_ref = 2 ms;
a weight w >= 0 goes to I_syn_ex, w < 0 to I_syn_in (with equal time constants their sum is
lif_exp's I); the initial current I0 is set the same way (iaf_psc_exp_ps lets one set V_m,
I_syn_ex and I_syn_in). Before the networks run, a single neuron's V_m trace (multimeter,
0.1 ms) with one excitatory and one inhibitory precise input is checked against lif_exp's
closed form and against sparseprop.load_model("lif_exp").compile().flow, for each NEST model.

Network (one per seed): N neurons, each with K distinct presynaptic partners (no autapses), a
fraction of them excitatory (+w_exc) and the rest inhibitory (-w_inh), delays k * 0.1 ms
(k = 1..30); S spike sources, each a Poisson train in continuous time (times off the 0.1 ms
grid), each projecting to a random subset of neurons with weights +-w_src and delays k * 0.1 ms;
per-neuron drive Ie uniform in [Ie_lo, Ie_hi] (most below threshold), v0 uniform in [0, 1), I0
uniform in [-0.3, 0.3]. NEST: resolution 0.1 ms, 1 thread, spike_generator with
precise_times=True, spike_recorder.

Compared: the spike sequences sorted by time (neuron indices in order) and max |t_NEST - t_sp|
(acceptance: same sequence, 1e-9 ms). Where they part, the first mismatch is diagnosed. Besides,
every spike of either list is checked against the exact crossing time (mpmath, 40 digits) of its
neuron given that same list's inputs and that neuron's previous spike in it ("local error"):
this separates a simulator's own error (e.g. a missed crossing) from differences the network
passes on from neuron to neuron. And sparseprop is run a second time with every v0 moved by
1e-13, to show how far the network itself amplifies differences of that size.

Outputs: benchmarks/results/nest_psc_exp.json (default network: Ie in [0.8, 1.02]) and, with
--ie-hi 1.0 --out benchmarks/results/nest_psc_exp_subthreshold.json, a network of neurons all
below threshold, driven by their inputs only (brief excursions above threshold are common).
"""
import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time

# benchmarks/nest/ (brunel_nest's outputs) would shadow the real `nest` as a namespace package:
# this script needs nothing from its own folder, so take that folder off the import path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

DEFAULT_VENV = os.environ.get("NEST_VENV", "/work/nest-venv")
NEST_REQUIREMENT = "nest-simulator>=3.0,<4"     # the PyPI wheel ships the compiled kernel
NEST_MODELS = "iaf_psc_exp_ps,iaf_psc_exp_ps_lossless"
RESOLUTION = 0.1                                 # ms

TAU_M = 10.0      # ms
TAU_S = 2.0       # ms
T_REF = 2.0       # ms
ACCEPT_MS = 1e-9  # the acceptance: same sequence, times to 1e-9 ms
LOCAL_TOL_MS = 1e-9
PERTURB_V0 = 1e-13  # the sensitivity run: sparseprop against itself with every v0 + this


def venv_python(venv):
    return os.path.join(venv, "bin", "python")


def install(venv):
    t0 = time.perf_counter()
    if not os.path.exists(venv_python(venv)):
        print(f"creating venv {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    else:
        print(f"venv {venv} exists", flush=True)
    subprocess.run([venv_python(venv), "-m", "pip", "install", NEST_REQUIREMENT], check=True)
    out = subprocess.run([venv_python(venv), "-c", "import nest; print(nest.__version__)"],
                         check=True, capture_output=True, text=True,
                         env=dict(os.environ, PYNEST_QUIET="1"))
    print(f"NEST {out.stdout.strip().splitlines()[-1]} installed in {venv} "
          f"({time.perf_counter() - t0:.0f} s)")


# ----------------------------------------------------------------------------------------------
# the network (parent side, numpy only)
# ----------------------------------------------------------------------------------------------
def make_network(args, seed):
    import numpy as np
    rng = np.random.default_rng(seed)
    n, k = args.n, args.k
    ie = rng.uniform(args.ie_lo, args.ie_hi, n)
    v0 = rng.uniform(0.0, 1.0, n)
    i0 = rng.uniform(-0.3, 0.3, n)
    # recurrent: K distinct presynaptic partners per neuron, no autapses
    pre, post = [], []
    for j in range(n):
        others = np.delete(np.arange(n), j)
        pre.append(rng.choice(others, k, replace=False))
        post.append(np.full(k, j))
    pre, post = np.concatenate(pre), np.concatenate(post)
    exc = rng.random(pre.size) < args.frac_exc
    w = np.where(exc, args.w_exc, -args.w_inh)
    d = np.round(rng.integers(1, 31, pre.size) * RESOLUTION, 10)      # 0.1 .. 3.0 ms
    # sources: Poisson trains in continuous time, off the grid
    s_idx, s_t = [], []
    for s in range(args.sources):
        t = 0.0
        while True:
            t += rng.exponential(1000.0 / args.source_rate)
            if t >= args.duration:
                break
            s_idx.append(s)
            s_t.append(t)
    order = np.argsort(np.array(s_t), kind="stable")
    s_idx = np.array(s_idx, dtype=np.int64)[order]
    s_t = np.array(s_t)[order]
    s_pre, s_post, s_w, s_d = [], [], [], []
    for s in range(args.sources):
        targets = rng.choice(n, args.source_targets, replace=False)
        s_pre += [s] * targets.size
        s_post += targets.tolist()
        s_w += rng.choice([args.source_w, -args.source_w], targets.size, p=[0.7, 0.3]).tolist()
        s_d += np.round(rng.integers(1, 31, targets.size) * RESOLUTION, 10).tolist()
    return {
        "seed": seed, "n": n, "tau_m": TAU_M, "tau_s": TAU_S, "t_ref": T_REF,
        "resolution": RESOLUTION, "duration": args.duration,
        "Ie": ie.tolist(), "v0": v0.tolist(), "I0": i0.tolist(),
        "pre": pre.tolist(), "post": post.tolist(), "w": w.tolist(), "d": d.tolist(),
        "n_sources": args.sources, "source_i": s_idx.tolist(), "source_t": s_t.tolist(),
        "s_pre": s_pre, "s_post": s_post, "s_w": s_w, "s_d": s_d,
    }


# the single-neuron check of the unit mapping (both halves read it from here)
CHECK = {"Ie": 0.5, "v0": 0.3, "I0": 0.2, "inputs": [(1.2345, 1.0, 0.7), (3.789, 1.0, -0.3)],
         "duration": 12.0}


# ----------------------------------------------------------------------------------------------
# the NEST half (runs in the NEST venv)
# ----------------------------------------------------------------------------------------------
def nest_setup(nest):
    nest.ResetKernel()
    nest.set(resolution=RESOLUTION, local_num_threads=1, print_time=False)


def nest_params(ie, tau_m, tau_s, t_ref):
    return dict(E_L=0.0, V_reset=0.0, V_th=1.0, C_m=tau_m, tau_m=tau_m, tau_syn_ex=tau_s,
                tau_syn_in=tau_s, t_ref=t_ref, I_e=ie)


def nest_current(i0):
    return {"I_syn_ex": i0, "I_syn_in": 0.0} if i0 >= 0 else {"I_syn_ex": 0.0, "I_syn_in": i0}


def nest_check(nest, model):
    """One neuron, two precise inputs: the V_m trace at every 0.1 ms step."""
    nest_setup(nest)
    c = CHECK
    nrn = nest.Create(model, params=nest_params(c["Ie"], TAU_M, TAU_S, T_REF))
    nrn.set(V_m=c["v0"], **nest_current(c["I0"]))
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": RESOLUTION})
    nest.Connect(mm, nrn)
    for t, d, w in c["inputs"]:
        sg = nest.Create("spike_generator", params={"spike_times": [t], "precise_times": True})
        nest.Connect(sg, nrn, syn_spec={"weight": w, "delay": d})
    nest.Simulate(c["duration"])
    ev = mm.get("events")
    st = nrn.get(["I_syn_ex", "I_syn_in", "V_m"])
    return {"times": [float(x) for x in ev["times"]], "V_m": [float(x) for x in ev["V_m"]],
            "end": {k: float(v) for k, v in st.items()}}


def nest_network(nest, model, net):
    import numpy as np
    nest_setup(nest)
    n = net["n"]
    nodes = nest.Create(model, n,
                        params=nest_params(0.0, net["tau_m"], net["tau_s"], net["t_ref"]))
    i0 = np.asarray(net["I0"])
    nodes.set(I_e=net["Ie"], V_m=net["v0"], I_syn_ex=np.where(i0 >= 0, i0, 0.0).tolist(),
              I_syn_in=np.where(i0 < 0, i0, 0.0).tolist())
    first = int(nodes[0].global_id)
    # sources: one spike_generator each, precise (off-grid) times
    gens = nest.Create("spike_generator", net["n_sources"], params={"precise_times": True})
    si, stt = np.asarray(net["source_i"]), np.asarray(net["source_t"])
    for s in range(net["n_sources"]):
        gens[s].set(spike_times=stt[si == s].tolist())
    g_first = int(gens[0].global_id)
    rec = nest.Create("spike_recorder")
    syn = {"synapse_model": "static_synapse"}
    nest.Connect(np.asarray(net["pre"], dtype=np.int64) + first,
                 np.asarray(net["post"], dtype=np.int64) + first, "one_to_one",
                 dict(syn, weight=np.asarray(net["w"]), delay=np.asarray(net["d"])))
    nest.Connect(np.asarray(net["s_pre"], dtype=np.int64) + g_first,
                 np.asarray(net["s_post"], dtype=np.int64) + first, "one_to_one",
                 dict(syn, weight=np.asarray(net["s_w"]), delay=np.asarray(net["s_d"])))
    nest.Connect(nodes, rec)
    n_conn = int(nest.num_connections)
    stored_d = np.asarray(nest.GetConnections(source=nodes, target=nodes).get("delay"), float)
    t0, c0 = time.perf_counter(), time.process_time()
    error = None
    try:
        nest.Simulate(net["duration"])
    except Exception as e:     # e.g. NumericalInstability from iaf_psc_exp_ps's regula falsi
        error = {"type": type(e).__name__, "message": str(e),
                 "biological_time_ms": float(nest.biological_time)}
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    ev = rec.get("events")
    senders = np.asarray(ev["senders"], dtype=np.int64) - first
    times = np.asarray(ev["times"], dtype=float)   # step time minus offset: precise
    return {"i": senders.tolist(), "t": times.tolist(), "connections": n_conn, "error": error,
            "min_delay_ms": float(nest.GetKernelStatus("min_delay")),
            "simulate_s": wall, "simulate_cpu_s": cpu,
            "recurrent_delay_steps_range": [float(np.round(stored_d.min() / RESOLUTION, 9)),
                                            float(np.round(stored_d.max() / RESOLUTION, 9))]}


def nest_child(path_in, path_out):
    os.environ.setdefault("PYNEST_QUIET", "1")
    import nest
    if hasattr(nest, "VerbosityLevel"):      # NEST >= 3.10
        nest.verbosity = nest.VerbosityLevel.ERROR
    else:
        nest.set_verbosity("M_ERROR")
    with open(path_in) as f:
        job = json.load(f)
    out = {"nest_version": nest.__version__,
           "checks": {m: nest_check(nest, m) for m in job["models"]},
           "runs": [{m: nest_network(nest, m, net) for m in job["models"]}
                    for net in job["networks"]]}
    with open(path_out, "w") as f:
        json.dump(out, f)


def run_nest(args, models, networks):
    """The NEST half in the NEST venv's Python (this file with --nest-child)."""
    py = venv_python(args.venv)
    if not os.path.exists(py):
        sys.exit(f"{py} does not exist; run `python {sys.argv[0]} --install` first "
                 f"(venv: {args.venv}).")
    with tempfile.TemporaryDirectory(prefix="nest_psc_exp_") as tmp:
        p_in, p_out = os.path.join(tmp, "job.json"), os.path.join(tmp, "nest.json")
        with open(p_in, "w") as f:
            json.dump({"models": models, "networks": networks}, f)
        env = dict(os.environ, PYNEST_QUIET="1", OMP_NUM_THREADS="1")
        env.pop("PYTHONPATH", None)
        proc = subprocess.run([py, os.path.abspath(__file__), "--nest-child", p_in, p_out],
                              env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout + proc.stderr)
            sys.exit(f"the NEST half failed (exit {proc.returncode})")
        with open(p_out) as f:
            return json.load(f)


# ----------------------------------------------------------------------------------------------
# the sparseprop half (runs in the interpreter that started the script)
# ----------------------------------------------------------------------------------------------
def closed_form_v(t, ie, v0, i0):
    """lif_exp's v at time t with no input and no spike."""
    a = i0 * TAU_S / (TAU_S - TAU_M)
    return ie + a * math.exp(-t / TAU_S) + (v0 - ie - a) * math.exp(-t / TAU_M)


def check_mapping(nest_check_out):
    """NEST's V_m trace against lif_exp's closed form and sparseprop's compiled flow."""
    import numpy as np
    import sparseprop
    kern = sparseprop.load_model("lif_exp").compile()
    c = CHECK
    arrivals = sorted((t + d, w) for t, d, w in c["inputs"])
    times = np.asarray(nest_check_out["times"])
    vn = np.asarray(nest_check_out["V_m"])
    err_closed, err_flow = 0.0, 0.0
    for tk, vk in zip(times, vn):
        # closed form piecewise between arrivals, and the compiled flow the same way
        t_prev, v, i = 0.0, c["v0"], c["I0"]
        x = np.array([c["v0"], c["I0"]])
        for ta, w in arrivals:
            if ta > tk:
                break
            v, i = closed_form_v(ta - t_prev, c["Ie"], v, i), i * math.exp(-(ta - t_prev) / TAU_S)
            x = kern.flow(x, ta - t_prev, Ie=c["Ie"])
            i += w
            x[1] += w
            t_prev = ta
        v = closed_form_v(tk - t_prev, c["Ie"], v, i)
        x = kern.flow(x, tk - t_prev, Ie=c["Ie"])
        err_closed = max(err_closed, abs(vk - v))
        err_flow = max(err_flow, abs(vk - x[0]))
    # the current at the end: I_syn_ex + I_syn_in = I0 e^(-T/tau_s) + sum w e^(-(T-ta)/tau_s)
    T = c["duration"]
    i_end = c["I0"] * math.exp(-T / TAU_S) + sum(w * math.exp(-(T - ta) / TAU_S)
                                                for ta, w in arrivals)
    end = nest_check_out["end"]
    err_i = abs(end["I_syn_ex"] + end["I_syn_in"] - i_end)
    ok = err_closed < 1e-12 and err_flow < 1e-12 and err_i < 1e-12 and times.size > 100
    return {"samples": int(times.size), "sample_range_ms": [float(times[0]), float(times[-1])],
            "max_abs_err_V_vs_closed_form": float(err_closed),
            "max_abs_err_V_vs_sparseprop_flow": float(err_flow),
            "abs_err_I_end": float(err_i), "ok": bool(ok)}


def run_sparseprop(net, dv0=0.0):
    import numpy as np
    import sparseprop
    from sparseprop.connectivity import from_edges
    n, ns = net["n"], net["n_sources"]
    pre = np.concatenate([net["pre"], np.asarray(net["s_pre"], dtype=np.int64) + n])
    post = np.concatenate([net["post"], net["s_post"]])
    w = np.concatenate([net["w"], net["s_w"]])
    d = np.concatenate([net["d"], net["s_d"]])
    csr = from_edges(pre, post, w, delay=d).build_between(n + ns, n, False)
    src = sparseprop.SpikeSource("in", ns, net["source_i"], net["source_t"])
    network = sparseprop.Network("lif_exp", n, csr,
                                 initial_state={"v": np.asarray(net["v0"]) + dv0,
                                                "I": np.asarray(net["I0"])},
                                 parameters={"Ie": np.asarray(net["Ie"]), "tau_m": TAU_M,
                                             "tau_s": TAU_S, "refractory": T_REF},
                                 sources=[src])
    t0, c0 = time.perf_counter(), time.process_time()
    res = network.run(duration=net["duration"])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return res, {"run_s": wall, "run_cpu_s": cpu, "engine_wall_s": float(res.wall_time),
                 "compile_s": float(res.compile_time),
                 "source_spikes": int(res.source_i.size)}


def sort_spikes(i, t):
    import numpy as np
    o = np.lexsort((i, t))
    return i[o], t[o]


def compare(i_n, t_n, i_s, t_s):
    """Spike sequences sorted by (time, index); the first place they part, if any."""
    import numpy as np
    m = min(i_n.size, i_s.size)
    same_idx = i_n[:m] == i_s[:m]
    dt = np.abs(t_n[:m] - t_s[:m])
    bad = np.flatnonzero(~same_idx | (dt > ACCEPT_MS))
    first = int(bad[0]) if bad.size else (m if i_n.size != i_s.size else None)
    part = np.flatnonzero(~same_idx)
    part = int(part[0]) if part.size else (m if i_n.size != i_s.size else None)
    upto = part if part is not None else m       # same indices up to here
    out = {"spikes_nest": int(i_n.size), "spikes_sparseprop": int(i_s.size),
           "same_sequence": part is None,
           "max_abs_dt_ms": float(dt.max()) if part is None and m else None,
           "same_prefix": int(upto),
           "max_abs_dt_ms_same_prefix": float(dt[:upto].max()) if upto else None,
           "median_abs_dt_ms_same_prefix": float(np.median(dt[:upto])) if upto else None,
           "spikes_over_tol_same_prefix": int(np.sum(dt[:upto] > ACCEPT_MS)),
           "first_over_tol": first, "acceptance_tol_ms": ACCEPT_MS, "accepted": first is None}
    if upto:
        k = int(np.argmax(dt[:upto]))
        out["worst_same_prefix"] = {"position": k, "neuron": int(i_s[k]),
                                    "t_ms": float(t_s[k]), "dt_ms": float(t_n[k] - t_s[k])}
    if part is not None:
        lo, hi = max(0, part - 2), part + 3
        out["first_mismatch"] = {
            "position": part,
            "nest": [[int(a), float(b)] for a, b in zip(i_n[lo:hi], t_n[lo:hi])],
            "sparseprop": [[int(a), float(b)] for a, b in zip(i_s[lo:hi], t_s[lo:hi])]}
    return out


# ----------------------------------------------------------------------------------------------
# exact reference: one neuron given a spike list (mpmath)
# ----------------------------------------------------------------------------------------------
def arrivals_from(net, i_sp, t_sp):
    """Per neuron: arrival times and weights (rows sorted by time) given a spike list."""
    import numpy as np
    n = net["n"]
    pre, post = np.asarray(net["pre"]), np.asarray(net["post"])
    w, d = np.asarray(net["w"]), np.asarray(net["d"])
    by_pre = [t_sp[i_sp == j] for j in range(n)]
    si, st = np.asarray(net["source_i"]), np.asarray(net["source_t"])
    parts = [[] for _ in range(n)]
    for e in range(pre.size):
        ts = by_pre[pre[e]]
        parts[post[e]].append(np.stack([ts + d[e], np.full(ts.size, w[e])], axis=1))
    for e, s in enumerate(net["s_pre"]):
        ts = st[si == s]
        parts[net["s_post"][e]].append(np.stack([ts + net["s_d"][e],
                                                 np.full(ts.size, net["s_w"][e])], axis=1))
    out = []
    for p in parts:
        a = np.concatenate(p) if p else np.zeros((0, 2))
        out.append(a[np.argsort(a[:, 0], kind="stable")])
    return out


def start_state(net, j, arr, t_prev):
    """(t_free, v, I) of neuron j when it is next free: at 0, or t_prev + t_ref after its
    spike at t_prev (v reset, I = I0 decayed plus every arrival before then)."""
    import numpy as np
    if t_prev is None:
        return 0.0, net["v0"][j], net["I0"][j]
    t_free = t_prev + T_REF
    before = arr[:, 0] < t_free
    cur = net["I0"][j] * math.exp(-t_free / TAU_S) + float(np.sum(
        arr[before, 1] * np.exp(-(t_free - arr[before, 0]) / TAU_S)))
    return t_free, 0.0, cur


def exact_crossing(ie, t_free, v, cur, arr, t_end, detail=False, dps=40):
    """The first time after t_free at which lif_exp (v and current cur at t_free, then the
    arrivals arr[:, 0] with weights arr[:, 1]) reaches v = 1, in mpmath at `dps` digits; None
    if not before t_end. Each piece between arrivals is
    f(s) = Ie + c_m e^(-s/tau_m) + c_s e^(-s/tau_s) - 1, which has at most one extremum: a
    crossing happens at the piece's end (f(L) >= 0) or before that extremum (f(s*) >= 0).
    detail=True: (t_up, t_down or None if still above at the piece's end, peak v - 1 within
    the piece, piece start, piece end)."""
    import mpmath as mp
    with mp.workdps(dps):
        tm, ts = mp.mpf(TAU_M), mp.mpf(TAU_S)
        ie, v, cur = mp.mpf(ie), mp.mpf(v), mp.mpf(cur)
        t0 = mp.mpf(t_free)
        times = [mp.mpf(float(x)) for x in arr[:, 0] if x >= t_free] + [mp.mpf(t_end)]
        weights = [mp.mpf(float(x)) for x, y in zip(arr[:, 1], arr[:, 0]) if y >= t_free]
        weights.append(mp.mpf(0))
        for ta, wa in zip(times, weights):
            L = ta - t0
            a = cur * ts / (ts - tm)
            cm = v - ie - a

            def f(s, a=a, cm=cm):
                return ie + cm * mp.exp(-s / tm) + a * mp.exp(-s / ts) - 1

            if L > 0:
                r = -(cm / tm) / (a / ts) if a != 0 else mp.mpf(-1)
                s_star = mp.log(r) / (1 / tm - 1 / ts) if r > 0 else None
                inside = s_star is not None and 0 < s_star < L
                hit = None
                if f(L) >= 0:
                    hit = L
                elif inside and f(s_star) >= 0:
                    hit = s_star
                if hit is not None:
                    up = mp.mpf(0) if f(0) >= 0 else mp.findroot(f, (mp.mpf(0), hit),
                                                                 solver="anderson")
                    if not detail:
                        return float(t0 + up)
                    down = None
                    if f(L) < 0:
                        down = float(t0 + mp.findroot(f, (s_star, L), solver="anderson"))
                    peak = max(f(L), f(s_star) if inside else f(L))
                    return (float(t0 + up), down, float(peak), float(t0), float(ta))
                v = f(L) + 1
                cur = cur * mp.exp(-L / ts)
            cur += wa
            t0 = ta
    return None


def local_errors(net, i_sp, t_sp):
    """Every spike of a list minus the exact crossing of its neuron given the same list's
    inputs and the neuron's previous spike in it: the error a simulator makes on its own.
    A large positive value: the simulator missed an earlier crossing."""
    import numpy as np
    arr = arrivals_from(net, i_sp, t_sp)
    err = np.full(t_sp.size, np.nan)
    for j in range(net["n"]):
        t_prev = None
        for k in np.flatnonzero(i_sp == j):
            t_free, v, cur = start_state(net, j, arr[j], t_prev)
            a = arr[j][(arr[j][:, 0] >= t_free) & (arr[j][:, 0] < t_sp[k] + 1.0)]
            te = exact_crossing(net["Ie"][j], t_free, v, cur, a, t_sp[k] + 1.0)
            err[k] = (t_sp[k] - te) if te is not None else -np.inf
            t_prev = t_sp[k]
    return err


def excursion(net, arr, i_sp, t_sp, k):
    """Spike k of a list: its neuron's exact first crossing given the list's inputs, the peak
    of v - 1 within the piece between events where it happens, when v comes back below
    threshold (None: still above at the next event) and the 0.1 ms grid points inside."""
    j = int(i_sp[k])
    own = t_sp[(i_sp == j) & (t_sp < t_sp[k])]
    t_free, v, cur = start_state(net, j, arr[j], float(own[-1]) if own.size else None)
    aj = arr[j][(arr[j][:, 0] >= t_free) & (arr[j][:, 0] < t_sp[k] + 1.0)]
    det = exact_crossing(net["Ie"][j], t_free, v, cur, aj, t_sp[k] + 1.0, detail=True)
    item = {"neuron": j, "t_ms": float(t_sp[k]), "Ie": net["Ie"][j]}
    if det is not None:
        up, down, peak, p0, p1 = det
        item.update(exact_up_crossing_ms=up, exact_down_crossing_ms=down, peak_v_minus_1=peak,
                    piece_between_events_ms=[p0, p1])
        if down is not None:
            lo, hi = math.floor(up / RESOLUTION), math.ceil(down / RESOLUTION)
            item["time_above_threshold_ms"] = down - up
            item["grid_points_inside_excursion"] = [
                round(g * RESOLUTION, 10) for g in range(lo, hi + 1)
                if up <= g * RESOLUTION <= down]
            item["grid_points_around_ms"] = [round(lo * RESOLUTION, 10),
                                             round(hi * RESOLUTION, 10)]
    return item


def summarize_local(net, i_sp, t_sp, err, arr=None, limit=5):
    """Counts and the first few spikes whose local error exceeds LOCAL_TOL_MS; for a missed
    crossing, how high and how long the exact excursion above threshold was."""
    import numpy as np
    a = np.abs(err)
    bad = np.flatnonzero(a > LOCAL_TOL_MS)
    out = {"max_abs_local_error_ms": float(a[np.isfinite(a)].max()) if a.size else None,
           "median_abs_local_error_ms": float(np.median(a)) if a.size else None,
           "spikes_over_local_tol": int(bad.size), "local_tol_ms": LOCAL_TOL_MS,
           "first_over_local_tol": []}
    if bad.size and arr is None:
        arr = arrivals_from(net, i_sp, t_sp)
    for k in bad[np.argsort(t_sp[bad])][:limit]:
        item = excursion(net, arr, i_sp, t_sp, k)
        item["local_error_ms"] = float(err[k])
        out["first_over_local_tol"].append(item)
    return out


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


def provenance(module):
    """Where the imported package lives and, in a git checkout, its commit and whether the
    package's files differ from it."""
    where = os.path.dirname(os.path.abspath(module.__file__))
    root = os.path.dirname(where)
    info = {"path": where}
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--",
                                os.path.basename(where)], capture_output=True, text=True,
                               check=True).stdout.strip()
        info.update(git_head=head, package_modified_in_worktree=bool(dirty))
    except (OSError, subprocess.CalledProcessError):
        info["git_head"] = None       # e.g. a `git archive` snapshot
    return info


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-")
            seeds += list(range(int(lo), int(hi) + 1))
        elif part:
            seeds.append(int(part))
    return seeds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--install", action="store_true",
                    help="create the NEST venv if missing and pip-install NEST there")
    ap.add_argument("--venv", default=DEFAULT_VENV, help="NEST venv (default %(default)s)")
    ap.add_argument("--nest-child", nargs=2, metavar=("IN", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--nest-models", default=NEST_MODELS,
                    help="NEST models compared, comma-separated (default %(default)s)")
    ap.add_argument("--seeds", default="1-10", help="network seeds, e.g. 1-10 or 1,4,7")
    ap.add_argument("--duration", type=float, default=2000.0, help="ms")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--k", type=int, default=10, help="recurrent inputs per neuron")
    ap.add_argument("--frac-exc", type=float, default=0.5)
    ap.add_argument("--w-exc", type=float, default=0.4)
    ap.add_argument("--w-inh", type=float, default=1.6, help="inhibitory weight (magnitude)")
    ap.add_argument("--ie-lo", type=float, default=0.8)
    ap.add_argument("--ie-hi", type=float, default=1.02)
    ap.add_argument("--sources", type=int, default=5)
    ap.add_argument("--source-rate", type=float, default=10.0, help="Hz per source")
    ap.add_argument("--source-targets", type=int, default=20)
    ap.add_argument("--source-w", type=float, default=0.6, help="+w (70%%) or -w (30%%)")
    ap.add_argument("--no-local", action="store_true", help="skip the exact per-spike check")
    ap.add_argument("--note", default=None, help="free text kept in the JSON (e.g. which "
                    "sparseprop tree was imported)")
    ap.add_argument("--out", default="benchmarks/results/nest_psc_exp.json")
    args = ap.parse_args()

    if args.install:
        install(args.venv)
        return
    if args.nest_child:
        nest_child(*args.nest_child)
        return

    import numpy as np
    import sparseprop
    models = [m.strip() for m in args.nest_models.split(",") if m.strip()]
    seeds = parse_seeds(args.seeds)
    networks = [make_network(args, s) for s in seeds]
    t0 = time.perf_counter()
    nest_out = run_nest(args, models, networks)
    nest_wall = time.perf_counter() - t0
    print(f"NEST {nest_out['nest_version']} ({', '.join(models)}), sparseprop "
          f"{sparseprop.__version__} lif_exp; N {args.n}, K {args.k}, {args.sources} sources, "
          f"{args.duration:g} ms, seeds {args.seeds}", flush=True)
    checks = {}
    for m in models:
        chk = check_mapping(nest_out["checks"][m])
        checks[m] = chk
        print(f"unit mapping {m} (one neuron, {chk['samples']} V_m samples): max |V_NEST - "
              f"closed form| {chk['max_abs_err_V_vs_closed_form']:.1e}, vs sparseprop flow "
              f"{chk['max_abs_err_V_vs_sparseprop_flow']:.1e}, |I end| "
              f"{chk['abs_err_I_end']:.1e} -> {'ok' if chk['ok'] else 'FAILED'}", flush=True)
    if not all(c["ok"] for c in checks.values()):
        sys.exit("the unit mapping check failed: not comparing the networks")

    runs = []
    for net, nest_runs in zip(networks, nest_out["runs"]):
        res, sp_stats = run_sparseprop(net)
        i_s, t_s = sort_spikes(res.i.astype(np.int64), np.asarray(res.t))
        run = {"seed": net["seed"], "source_spikes": len(net["source_t"]),
               "Ie_below_threshold": int(np.sum(np.asarray(net["Ie"]) < 1.0)),
               "spikes_sparseprop": int(i_s.size),
               "rate_Hz": i_s.size / (net["n"] * net["duration"] / 1000.0),
               "sparseprop": sp_stats, "nest": {}}
        cv = []
        for j in range(net["n"]):
            tj = t_s[i_s == j]
            if tj.size >= 3:
                isi = np.diff(tj)
                cv.append(isi.std() / isi.mean())
        run["mean_isi_cv"] = float(np.mean(cv)) if cv else None
        # the network's own sensitivity: sparseprop again with every v0 moved by PERTURB_V0
        res_p, _ = run_sparseprop(net, PERTURB_V0)
        i_p, t_p = sort_spikes(res_p.i.astype(np.int64), np.asarray(res_p.t))
        sens = compare(i_p, t_p, i_s, t_s)
        run["sensitivity_v0_plus_1e-13"] = {
            "same_sequence": sens["same_sequence"], "max_abs_dt_ms": sens["max_abs_dt_ms"],
            "max_abs_dt_ms_same_prefix": sens["max_abs_dt_ms_same_prefix"],
            "same_prefix": sens["same_prefix"]}
        arr_s = arrivals_from(net, i_s, t_s)
        if not args.no_local:
            run["sparseprop_local"] = summarize_local(net, i_s, t_s,
                                                      local_errors(net, i_s, t_s), arr_s)
        line = (f"seed {net['seed']:>2}: {i_s.size} spikes ({run['rate_Hz']:.2f} Hz, CV "
                f"{run['mean_isi_cv'] or 0:.2f}); sparseprop vs itself with v0 + "
                f"{PERTURB_V0:g}: max |dt| {sens['max_abs_dt_ms_same_prefix'] or 0:.2e} ms"
                f"{'' if sens['same_sequence'] else ' (sequence differs)'}")
        if not args.no_local:
            line += (f", sparseprop local max "
                     f"{run['sparseprop_local']['max_abs_local_error_ms']:.1e}")
        for m in models:
            nn = nest_runs[m]
            i_n, t_n = sort_spikes(np.asarray(nn["i"], dtype=np.int64), np.asarray(nn["t"]))
            i_c, t_c = i_s, t_s
            if nn["error"]:      # NEST stopped: compare what both have before that time
                t_cut = nn["error"]["biological_time_ms"]
                keep = t_n < t_cut
                i_n, t_n = i_n[keep], t_n[keep]
                i_c, t_c = i_s[t_s < t_cut], t_s[t_s < t_cut]
            cmp = compare(i_n, t_n, i_c, t_c)
            cmp["nest_error"] = nn["error"]
            if nn["error"]:
                cmp["accepted"] = False
            cmp["compared_until_ms"] = nn["error"]["biological_time_ms"] if nn["error"] \
                else net["duration"]
            if nn["error"]:
                # sparseprop's spikes in the step where NEST stopped, and how they cross
                near = np.flatnonzero((t_s >= t_cut) & (t_s < t_cut + RESOLUTION))
                cmp["sparseprop_spikes_in_failing_step"] = [
                    excursion(net, arr_s, i_s, t_s, k) for k in near]
            fm = cmp.get("first_mismatch")
            if fm is not None:
                k = fm["position"]
                fm["sparseprop_spike_here"] = (excursion(net, arr_s, i_s, t_s, k)
                                               if k < t_c.size else None)
                if k < t_n.size:
                    fm["nest_spike_here"] = excursion(net, arrivals_from(net, i_n, t_n),
                                                      i_n, t_n, k)
            cmp["nest_simulate_s"] = nn["simulate_s"]
            cmp["nest_connections"] = nn["connections"]
            cmp["nest_recurrent_delay_steps_range"] = nn["recurrent_delay_steps_range"]
            if not args.no_local:
                cmp["nest_local"] = summarize_local(net, i_n, t_n, local_errors(net, i_n, t_n))
            run["nest"][m] = cmp
            if nn["error"]:
                line += (f"\n   {m:<24} NEST stopped at {t_cut:g} ms: {nn['error']['type']}: "
                         f"{nn['error']['message']}")
                for it in cmp["sparseprop_spikes_in_failing_step"]:
                    line += (f"\n   {'':<24} sparseprop fires neuron {it['neuron']} at "
                             f"{it['t_ms']:.9f} in that step (peak v-1 "
                             f"{it.get('peak_v_minus_1', float('nan')):.2e}, above threshold "
                             f"{it.get('time_above_threshold_ms', float('nan')):.2e} ms, grid "
                             f"points inside {it.get('grid_points_inside_excursion')})")
                line += f"\n   {'':<24} before {t_cut:g} ms:"
            if cmp["same_sequence"]:
                line += f"\n   {m:<24} same sequence, max |dt| {cmp['max_abs_dt_ms']:.2e} ms"
            else:
                line += (f"\n   {m:<24} {cmp['spikes_nest']} spikes, parts at spike "
                         f"{cmp['first_mismatch']['position']} (before: max |dt| "
                         f"{cmp['max_abs_dt_ms_same_prefix'] or 0:.2e} ms)")
            line += " ACCEPTED" if cmp["accepted"] else " not accepted"
            if not args.no_local:
                nl = cmp["nest_local"]
                line += f"; NEST local max {nl['max_abs_local_error_ms']:.1e}"
                for it in nl["first_over_local_tol"][:1]:
                    line += (f"; first NEST spike off its exact crossing: neuron {it['neuron']} "
                             f"at {it['t_ms']:.6f}, exact {it.get('exact_up_crossing_ms')}, "
                             f"peak v-1 {it.get('peak_v_minus_1', float('nan')):.2e}, above "
                             f"threshold {it.get('time_above_threshold_ms', float('nan')):.3f}"
                             f" ms")
        print(line, flush=True)
        runs.append(run)

    summary = {}
    for m in models:
        cs = [r["nest"][m] for r in runs]
        summary[m] = {
            "seeds": len(cs), "accepted": sum(c["accepted"] for c in cs),
            "same_sequence": sum(c["same_sequence"] and not c["nest_error"] for c in cs),
            "nest_errors": sum(bool(c["nest_error"]) for c in cs),
            "spikes_total_sparseprop": sum(r["spikes_sparseprop"] for r in runs),
            "max_abs_dt_ms_same_sequence_runs": max(
                [c["max_abs_dt_ms"] for c in cs if c["same_sequence"] and not c["nest_error"]],
                default=None),
            "nest_spikes_off_exact_crossing": (sum(c["nest_local"]["spikes_over_local_tol"]
                                                   for c in cs) if not args.no_local else None),
        }
    if not args.no_local:
        summary["sparseprop"] = {
            "spikes_off_exact_crossing": sum(r["sparseprop_local"]["spikes_over_local_tol"]
                                             for r in runs),
            "max_abs_local_error_ms": max(r["sparseprop_local"]["max_abs_local_error_ms"]
                                          for r in runs)}
    out = {
        "nest_version": nest_out["nest_version"], "nest_models": models,
        "sparseprop_version": sparseprop.__version__, "sparseprop_model": "lif_exp",
        "sparseprop_source": provenance(sparseprop), "note": args.note,
        "command": " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
        "network": {
            "N": args.n, "K_in": args.k, "autapses": False, "frac_exc": args.frac_exc,
            "w_exc": args.w_exc, "w_inh": -args.w_inh,
            "delays_ms": "k * 0.1, k uniform in 1..30 (recurrent and source)",
            "Ie": f"uniform [{args.ie_lo}, {args.ie_hi}]", "v0": "uniform [0, 1)",
            "I0": "uniform [-0.3, 0.3] (I_syn_ex if >= 0, else I_syn_in)",
            "tau_m_ms": TAU_M, "tau_s_ms": TAU_S, "t_ref_ms": T_REF,
            "sources": args.sources, "source_rate_Hz": args.source_rate,
            "source_times": "Poisson, continuous time (off grid)",
            "source_targets_each": args.source_targets,
            "source_w": f"+{args.source_w} (p 0.7) or -{args.source_w} (p 0.3)",
            "nest_mapping": "E_L 0, V_reset 0, V_th 1, C_m = tau_m, I_e = Ie, w pA "
                            "(>= 0: ex, < 0: in), tau_syn_ex = tau_syn_in = tau_s",
        },
        "duration_ms": args.duration, "resolution_ms": RESOLUTION, "seeds": seeds,
        "acceptance": f"same spike sequence and |dt| <= {ACCEPT_MS} ms",
        "mapping_check": checks, "summary": summary, "runs": runs,
        "nest_child_wall_s": nest_wall,
        "machine": machine_info(), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print()
    for m in models:
        s = summary[m]
        print(f"{m}: accepted {s['accepted']}/{s['seeds']} seeds, same sequence "
              f"{s['same_sequence']}/{s['seeds']}, NEST errors {s['nest_errors']}, max |dt| "
              f"over same-sequence runs "
              f"{s['max_abs_dt_ms_same_sequence_runs']}, NEST spikes off their exact crossing "
              f"{s['nest_spikes_off_exact_crossing']}")
    if "sparseprop" in summary:
        print(f"sparseprop: spikes off their exact crossing "
              f"{summary['sparseprop']['spikes_off_exact_crossing']}, max local error "
              f"{summary['sparseprop']['max_abs_local_error_ms']:.1e} ms")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
