"""The peers' network in sparseprop, Brian2 (cpp_standalone) and NEST (iaf_psc_delta_ps), side by side.

    python benchmarks/peers.py --install      # a venv outside the repo with NEST and Brian2
    python benchmarks/peers.py [--sizes 1e5,1e6] [--repeat 3] [--out benchmarks/RESULTS-peers.md]

The project never depends on NEST or Brian2: both live in their own virtual environment (default
/work/peers-venv, or $PEERS_VENV, or --venv); sparseprop runs in the interpreter that starts this
script. Every measurement is a fresh process on one thread (NEST local_num_threads = 1, Brian2
without OpenMP, numba's single-threaded loop); the table gives medians over `repeat` processes
and the ratios of those medians, all measured in the same invocation.

Network (DESIGN.md section 4, "the peers' network"): N LIF neurons, tau dv/dt = 1.5 - v with
tau = 10 ms, threshold 1, reset 0, no refractory period; every neuron sends K = 100 synapses of
weight -0.1 (a jump of v) to K distinct other neurons drawn uniformly (fixed out-degree, no
autapses, no multapses), each simulator with its own generator; initial v uniform in [0, 1).
About 8.4 Hz. Each simulator runs `duration` ms (default min(1000, 1e8 / N)) from that initial
state; synaptic events/s = spikes x K / wall seconds of the simulation call (construction apart).

- sparseprop: exact; rows with delay 0 (its native network) and with delay 0.1 ms on every
  synapse (the network the peers simulate: their smallest delay is one grid step).
- Brian2 2.x cpp_standalone, dt = 0.1 ms, exact integration of the linear ODE within a step, not
  exact in spike times (a grid simulator); a spike acts at the next step. Simulation time is the
  binary's own `Network::run` time; build is the rest of the binary (synapse creation, initial
  values); compile time is reported apart. Peak memory is the binary's.
- NEST 3.x iaf_psc_delta_ps: exact (precise spike times), resolution 0.1 ms, delay 0.1 ms (its
  minimum), t_ref = 0.1 ms (NEST 3.10 refuses less than one step), its default settings
  otherwise. Peak memory is the Python process's with NEST loaded.
"""
import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

# benchmarks/nest/ (another benchmark's outputs) would shadow the real `nest` as a namespace
# package: this script needs nothing from its own folder, so take that folder off the path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

DEFAULT_VENV = os.environ.get("PEERS_VENV", "/work/peers-venv")
# Brian2 2.9 wraps numpy.ndarray.ptp, which NumPy 2.4 removed
REQUIREMENTS = ["nest-simulator>=3.0,<4", "brian2>=2.5,<3", "numpy<2.4"]
K = 100
TAU = 10.0      # ms
DRIVE = 1.5
WEIGHT = -0.1
GRID = 0.1      # ms: the peers' resolution and smallest delay
OURS = "sparseprop, delay 0.1 ms"   # the peers' network exactly: the row the ratios use


def venv_python(venv):
    """The venv's Python interpreter."""
    return os.path.join(venv, "bin", "python")


def peak_rss(who=resource.RUSAGE_SELF):
    """Peak resident memory in bytes (Linux reports KiB)."""
    return resource.getrusage(who).ru_maxrss * 1024


# ----------------------------------------------------------------------------------------------
# the three simulators, each run as `peers.py --child NAME ...` in a fresh process
# ----------------------------------------------------------------------------------------------
def child_sparseprop(n, duration, seed, delay):
    """The network in sparseprop (this interpreter): build, compile, then the timed run; the
    process pinned to one core, so that the build, which uses every core it may, runs on one
    thread like the peers'."""
    import numpy as np
    import sparseprop as spp
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    start = time.perf_counter()
    v0 = np.random.default_rng(seed + 1).random(n)
    net = spp.Network("lif", n, spp.fixed_outdegree(K, WEIGHT, seed=seed, delay=delay),
                      parameters={"I": DRIVE, "tau": TAU}, initial_state={"v": v0})
    build = time.perf_counter() - start
    net.store()
    net.run(max_spikes=10, progress=False)           # compiles (or loads) the loop
    net.restore()
    start = time.perf_counter()
    result = net.run(duration=duration, progress=False)
    sim = time.perf_counter() - start
    return {"spikes": int(result.n_spikes), "build": build, "sim": sim, "compile": None}


def child_brian2(n, duration, seed, delay, workdir):
    """The network in Brian2 cpp_standalone, compiled in workdir, then its binary run."""
    import brian2 as b2
    b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0
    b2.prefs.logging.console_log_level = "ERROR"
    # The binary runs under a small Python wrapper that writes its peak memory: only the binary,
    # not the compiler, is measured.
    rss_file = os.path.join(workdir, "binary_rss.txt")
    wrapper = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
               "open(sys.argv[1], 'w').write(str(resource.getrusage("
               "resource.RUSAGE_CHILDREN).ru_maxrss * 1024)); sys.exit(code)")
    b2.prefs.devices.cpp_standalone.run_cmd_unix = [sys.executable, "-c", wrapper, rss_file,
                                                     "./main"]
    b2.defaultclock.dt = GRID * b2.ms
    b2.seed(seed)
    tau = TAU * b2.ms
    group = b2.NeuronGroup(n, "dv/dt = (drive - v) / tau : 1", threshold="v >= 1", reset="v = 0",
                           method="exact", namespace={"drive": DRIVE, "tau": tau})
    group.v = "rand()"
    synapses = b2.Synapses(group, group, on_pre=f"v += {WEIGHT}",
                           delay=max(delay - GRID, 0.0) * b2.ms)
    # k distinct targets among the n - 1 others: sample n - 1 offsets, skip the sender
    synapses.connect(j="(i + 1 + m) % N_post for m in sample(N_post - 1, size=K)",
                     namespace={"K": K})
    monitor = b2.SpikeMonitor(group, record=False)
    b2.run(duration * b2.ms)
    start = time.perf_counter()
    b2.device.build(directory=workdir, compile=True, run=False)
    compile_time = time.perf_counter() - start
    b2.device.run(workdir, with_output=False)
    binary = b2.device.timers["run_binary"]
    sim = b2.device._last_run_time
    with open(rss_file) as handle:
        rss = int(handle.read())
    return {"spikes": int(monitor.num_spikes), "build": binary - sim, "sim": sim,
            "compile": compile_time, "rss": rss}


def child_nest(n, duration, seed, delay):
    """The network in NEST's iaf_psc_delta_ps: build, then the timed Simulate."""
    import nest
    try:
        nest.verbosity = nest.VerbosityLevel.ERROR
    except AttributeError:
        nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": GRID, "local_num_threads": 1, "rng_seed": seed + 1})
    start = time.perf_counter()
    params = {"tau_m": TAU, "C_m": 1.0, "E_L": 0.0, "V_th": 1.0, "V_reset": 0.0,
              "I_e": DRIVE / TAU}   # dV/dt = -V/tau_m + I_e/C_m: drive 1.5 over tau 10 ms
    # t_ref must be at least one step in NEST 3.10 (a Create that fails on t_ref = 0 still
    # leaves its n nodes in the network, so nothing is tried first)
    pop = nest.Create("iaf_psc_delta_ps", n, params=dict(params, t_ref=GRID))
    pop.V_m = nest.random.uniform(0.0, 1.0)
    nest.Connect(pop, pop, {"rule": "fixed_outdegree", "outdegree": K, "allow_autapses": False,
                            "allow_multapses": False},
                 {"synapse_model": "static_synapse", "weight": WEIGHT, "delay": max(delay, GRID)})
    build = time.perf_counter() - start
    start = time.perf_counter()
    nest.Simulate(duration)
    sim = time.perf_counter() - start
    spikes = nest.GetKernelStatus("local_spike_counter")
    if nest.GetKernelStatus("network_size") != n:
        raise SystemExit(f"NEST holds {nest.GetKernelStatus('network_size')} nodes, not {n}")
    return {"spikes": int(spikes), "build": build, "sim": sim, "compile": None}


def child(args):
    """Run one simulator once and print its figures as a RESULT line of JSON."""
    n, duration, seed, delay = int(float(args.n)), args.duration, args.seed, args.delay
    if args.child == "sparseprop":
        out = child_sparseprop(n, duration, seed, delay)
    elif args.child == "brian2":
        out = child_brian2(n, duration, seed, delay, args.workdir)
    else:
        out = child_nest(n, duration, seed, delay)
    out.setdefault("rss", peak_rss())
    out["events_per_s"] = out["spikes"] * K / out["sim"]
    out["rate"] = out["spikes"] / n / (duration / 1000.0)
    print("RESULT " + json.dumps(out), flush=True)


# ----------------------------------------------------------------------------------------------
# the driver
# ----------------------------------------------------------------------------------------------
def install(venv):
    """Create the peers' venv (if missing) and install NEST and Brian2 into it."""
    if not os.path.exists(venv_python(venv)):
        print(f"creating venv {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([venv_python(venv), "-m", "pip", "install", *REQUIREMENTS], check=True)
    subprocess.run([venv_python(venv), "-c", "import nest, brian2; print('NEST', nest.__version__,"
                    " 'Brian2', brian2.__version__)"], check=True)


def one(python, name, n, duration, seed, delay, workdir, env=None):
    """One fresh-process measurement: the child's result dict, or {'error': text}."""
    command = [python, os.path.abspath(__file__), "--child", name, "--n", str(n), "--duration",
               str(duration), "--seed", str(seed), "--delay", str(delay), "--workdir", workdir]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
    return {"error": f"exit {done.returncode}: {tail}"}


def versions(python):
    """[NEST version, Brian2 version] of the peers' venv ('?' where it cannot tell)."""
    done = subprocess.run([python, "-c", "import nest, brian2; print('VERSIONS', nest.__version__,"
                           " brian2.__version__)"], capture_output=True, text=True)
    for line in done.stdout.splitlines():    # (NEST prints a banner first)
        if line.startswith("VERSIONS "):
            return line.split()[1:3]
    return ["?", "?"]


def median_of(runs, key):
    """The median of runs' values of key (None when no run has one)."""
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def table(rows, repeat, nest_repeat, command, peer_versions):
    """RESULTS-peers.md: one row per simulator and N, the ratios to sparseprop's delay-0.1 ms
    row; a row whose firing rate is off by more than 20 % simulated something else and gets
    no ratio."""
    sys.path.insert(0, _HERE)   # (only here, in the driver: the children import nest)
    from run import machine
    lines = [
        "# The peers' network: sparseprop, Brian2 and NEST side by side", "",
        f"Command: `{command}` on {datetime.date.today()}  ", f"Machine: {machine()}; one "
        f"thread each; NEST {peer_versions[0]}, Brian2 {peer_versions[1]}.  ",
        f"Medians of {repeat} fresh processes ({nest_repeat} for each NEST row). Network: LIF "
        f"tau 10 ms, drive 1.5, threshold 1, reset 0, K = {K} out-degree, w = {WEIGHT}; see "
        f"benchmarks/peers.py.", "",
        "| N | simulator | exact | ms simulated | spikes | rate (Hz) | build (s) | simulation (s) "
        "| synaptic events/s | peak RSS (GB) | sparseprop (delay 0.1 ms) / this |",
        "|---|---|---|---|---|---|---|---|---|---|---|"]
    summary = []
    for n, duration, results in rows:
        ours = results.get(OURS)
        ok = ours and "error" not in ours[0]
        ours_rate = median_of(ours, "events_per_s") if ok else None
        ours_hz = median_of(ours, "rate") if ok else None
        best = {}
        for label, runs in results.items():
            exact = "no (grid, dt 0.1 ms)" if label.startswith("Brian2") else "yes"
            if "error" in runs[0]:
                lines.append(f"| {n:.0e} | {label} | {exact} | {duration:g} | failed: "
                             f"{runs[0]['error'][:120]} | | | | | | |")
                continue
            rate, hz = median_of(runs, "events_per_s"), median_of(runs, "rate")
            if ours_rate is None:
                ratio = "-"
            elif abs(hz / ours_hz - 1) > 0.2:
                ratio = f"- (fires at {hz:.1f} Hz, not {ours_hz:.1f}: other dynamics)"
            else:
                ratio = f"{ours_rate / rate:.2f}x"
                peer = label.split()[0]
                best[peer] = max(best.get(peer, 0.0), rate)
            compile_time = median_of(runs, "compile")
            build = f"{median_of(runs, 'build'):.2f}" + (
                f" (+{compile_time:.1f} compile)" if compile_time else "")
            lines.append(
                f"| {n:.0e} | {label} | {exact} | {duration:g} | {median_of(runs, 'spikes'):.0f} | "
                f"{hz:.2f} | {build} | {median_of(runs, 'sim'):.2f} | {rate:.3g} | "
                f"{median_of(runs, 'rss') / 1e9:.2f} | {ratio} |")
        if ours_rate:
            summary.append(f"- N = {n:.0e}: " + "; ".join(
                f"sparseprop / {peer} = {ours_rate / best[peer]:.2f}x" for peer in
                ("Brian2", "NEST") if peer in best))
    lines += ["", "Ratios of synaptic events/s, sparseprop with delay 0.1 ms against each peer's "
              "fastest row with the network's firing rate:", ""] + summary + [
              "", "Issue 16 asks sparseprop >= 1.5x Brian2 cpp_standalone (dt 0.1 ms) and >= 30x "
              "NEST iaf_psc_delta_ps in synaptic events/s at N = 10^5 and 10^6."]
    return "\n".join(lines) + "\n"


def main():
    """Measure every simulator at every size, print and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true", help="create the peers' venv and stop")
    parser.add_argument("--venv", default=DEFAULT_VENV)
    parser.add_argument("--sizes", default="1e5,1e6")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--duration", type=float, default=None,
                        help="ms simulated (default min(1000, 1e8 / N))")
    parser.add_argument("--only", default="sparseprop,brian2,nest",
                        help="comma-separated subset of sparseprop, brian2, nest")
    parser.add_argument("--out", default=os.path.join(_HERE, "RESULTS-peers.md"))
    parser.add_argument("--nest-repeat", type=int, default=1,
                        help="processes per NEST row (1: a run takes minutes)")
    parser.add_argument("--child", choices=("sparseprop", "brian2", "nest"), help=argparse.SUPPRESS)
    parser.add_argument("--n", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--delay", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    if args.install:
        return install(args.venv)
    peer_python = venv_python(args.venv)
    only = set(args.only.split(","))
    if only - {"sparseprop"} and not os.path.exists(peer_python):
        sys.exit(f"no venv at {args.venv}: run `python benchmarks/peers.py --install` first")
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    plan = []   # (label, interpreter, child, delay, processes)
    if "sparseprop" in only:
        plan += [("sparseprop, delay 0", sys.executable, "sparseprop", 0.0, args.repeat),
                 (OURS, sys.executable, "sparseprop", GRID, args.repeat)]
    if "brian2" in only:
        plan.append(("Brian2 cpp_standalone", peer_python, "brian2", GRID, args.repeat))
    if "nest" in only:
        plan.append(("NEST iaf_psc_delta_ps", peer_python, "nest", GRID, args.nest_repeat))
    rows = []
    with tempfile.TemporaryDirectory(prefix="peers_") as scratch:
        for n in (int(float(s)) for s in args.sizes.split(",")):
            duration = args.duration or min(1000.0, 1e8 / n)
            results = {}
            for label, python, name, delay, repeat in plan:
                runs = []
                for r in range(repeat):
                    workdir = os.path.join(scratch, f"{name}_{n}")
                    runs.append(one(python, name, n, duration, 10 + r, delay, workdir, env))
                    last = runs[-1]
                    print(f"N = {n:.0e} {label} run {r + 1}: " + (
                        last["error"] if "error" in last else
                        f"{last['spikes']} spikes, {last['rate']:.2f} Hz, build {last['build']:.2f}"
                        f" s, sim {last['sim']:.2f} s, {last['events_per_s']:.3g} events/s, "
                        f"{last['rss'] / 1e9:.2f} GB"), flush=True)
                    if "error" in last:
                        break
                results[label] = runs
            rows.append((n, duration, results))
    command = "python benchmarks/peers.py " + " ".join(sys.argv[1:])
    text = table(rows, args.repeat, args.nest_repeat, command.strip(), versions(peer_python))
    with open(args.out, "w") as handle:
        handle.write(text)
    print(text)


if __name__ == "__main__":
    main()
