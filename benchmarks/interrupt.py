"""Ctrl-C latency: how long after SIGINT a run at N = 10^6 stops and hands back its spikes.

Each engine runs in a child process (`python benchmarks/interrupt.py --child ENGINE`) that
builds the network, compiles, prints "running" and runs for a long simulated time; the parent
sends SIGINT a few seconds into the run and measures the time until the child has printed the
spikes it kept (the run has stopped and returned them; the interpreter's exit is not
counted). Median of --repeat runs per engine.

    python benchmarks/interrupt.py [--n 1000000] [--k 100] [--repeat 3]
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import time


def child(engine, n, k):
    import sparseprop as spp
    net = spp.Network("lif", n, spp.fixed_outdegree(k, -0.1, seed=1), seed=2)
    net.run(max_spikes=1, engine=engine)          # compile before the clock starts
    print("running", flush=True)
    try:
        net.run(duration=1e9, engine=engine)
    except spp.Interrupted as stop:
        print(f"kept {stop.result.n_spikes} spikes up to {stop.result.t_end:.6g} ms; network "
              f"at t = {net.t:.6g} ms", flush=True)


def measure(engine, n, k, wait):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, __file__, "--child", engine, "--n", str(n), "--k",
                             str(k)], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "running"
    time.sleep(wait)
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    kept = proc.stdout.readline().strip()    # the run has stopped and handed back its spikes
    latency = time.perf_counter() - sent
    proc.wait()
    return latency, kept


def measure_table(n, k, repeat, wait=3.0):
    """Markdown table of the Ctrl-C latency of both engines (median of `repeat` runs)."""
    lines = ["| engine | N | K | Ctrl-C to spikes kept (s), median | min | max | last run |",
             "|---|---|---|---|---|---|---|"]
    for engine in ("sparse", "reference"):
        runs = [measure(engine, n, k, wait) for _ in range(repeat)]
        times = [r[0] for r in runs]
        lines.append(f"| {engine} | {n:.0e} | {k} | {statistics.median(times):.3f} | "
                     f"{min(times):.3f} | {max(times):.3f} | {runs[-1][1]} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", default=None)
    parser.add_argument("--n", type=int, default=10**6)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--wait", type=float, default=3.0, help="seconds of run before SIGINT")
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.n, args.k)
    print(measure_table(args.n, args.k, args.repeat, args.wait))


if __name__ == "__main__":
    main()
