"""Reproduce every performance figure the README quotes; writes benchmarks/RESULTS.md.

    python benchmarks/run.py [--repeat 5] [--quick]

--quick: N up to 10^5 and no sparse-only 10^7 row (a few minutes instead of about 12).
"""
import argparse
import datetime
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import construction  # noqa: E402
import delays  # noqa: E402
import engine  # noqa: E402
import first_run  # noqa: E402
import interrupt  # noqa: E402
import latency  # noqa: E402
import linear  # noqa: E402
import monitor  # noqa: E402
import numeric  # noqa: E402
import spike_queue  # noqa: E402


def machine():
    """One line describing this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if "model name" in line)
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = [10**3, 10**4, 10**5] + ([] if args.quick else [10**6])
    sparse_only = [] if args.quick else [10**7]
    log = lambda s: print(s, flush=True)  # noqa: E731
    rows = engine.measure(sizes, sparse_only, args.repeat, log=log)
    keyed = engine.measure_time_keyed(sizes, args.repeat, log=log)
    backward = engine.measure_backward([10**3, 10**4, 10**5], args.repeat, log=log)
    ei = engine.measure_ei([10**4, 10**5] + ([] if args.quick else [10**6]), args.repeat, log=log)
    delay_rows = [(n, *delays.spike_costs(n, args.repeat, log=log)) for n in sizes]
    poisson = delays.poisson_cost(10**5, args.repeat, log=log)
    queue_costs = [spike_queue.measure(rows, 1 / 3000, args.repeat, log=log)[0]
                   for rows in (100, 10**5)]
    linear_rows = [(n, *linear.spike_costs(n, args.repeat, log=log)) for n in sizes]
    monitored = monitor.measure(10**5, args.repeat, log=log)
    built = construction.measure([10**5] + ([] if args.quick else [10**6]), args.repeat, log=log)
    text = "\n".join([
        "# Benchmark results",
        "",
        f"Command: `python benchmarks/run.py --repeat {args.repeat}{' --quick' if args.quick else ''}`"
        f" on {datetime.date.today()}; machine: {machine()}.",
        "",
        "## Engine: wall time per network spike",
        "",
        "LIF at the SparseProp reference defaults (tau 10 ms, I = 1.1, K = 100, w = -0.1, fixed "
        "out-degree), one thread. The reference engine advances all N phases at every spike.",
        "",
        engine.table(rows, args.repeat),
        "",
        "## Time-keyed engine (per-neuron parameters) against the phase engine",
        "",
        "Same homogeneous network; the time-keyed run gets its drive as an array of n equal values.",
        "",
        engine.time_keyed_table(keyed, args.repeat),
        "",
        "## A heterogeneous E/I network (populations, subthreshold drives, refractoriness)",
        "",
        "The network of tutorials/04 (Brunel 2000 model A without delays, constant drives) "
        "at growing N, run by the time-keyed engine.",
        "",
        engine.ei_table(ei, args.repeat),
        "",
        "## Delays and Poisson input",
        "",
        "Same network with no delay, one shared delay (a FIFO of spikes in flight) and a delay "
        "per synapse (a heap of spikes in flight); ratios within one run.",
        "",
        delays.table(delay_rows, poisson, 10**5, args.repeat),
        "",
        f"The queue alone (benchmarks/spike_queue.py, about 9000 spikes in flight, K = 100): "
        f"{queue_costs[0] * 1e9:.0f} ns per delivery with cached rows, "
        f"{queue_costs[1] * 1e9:.0f} ns with 10^5 rows.",
        "",
        "## A synaptic current: lif_exp against the delta LIF",
        "",
        "Same network, lif_exp (tau_s 2 ms) with the weight on the current scaled by tau_m/tau_s "
        "(benchmarks/linear.py).",
        "",
        linear.table(linear_rows, args.repeat),
        "",
        "## State monitor",
        "",
        f"Same LIF network (and its lif_exp version), N = 10^5, {monitor.DURATION:g} ms, "
        f"recording at dt = {monitor.DT:g} ms (benchmarks/monitor.py).",
        "",
        monitor.table(monitored, args.repeat),
        "",
        "## Building a network",
        "",
        construction.table(built, args.repeat),
        "",
        "## Gradients: reverse sweep against forward pass",
        "",
        "Same network; forward with `record_tape=True`, then `result.backward(dloss_dt)`.",
        "",
        engine.backward_table(backward, args.repeat),
        "",
        "## Code-generation latency",
        "",
        latency.measure("lif", args.repeat),
        "",
        "Cold start of the event loops (benchmarks/first_run.py, fresh processes, empty cache): "
        + ", ".join(f"{k} {v:.1f} s" for k, v in first_run.measure(args.repeat).items()) + ".",
        "",
        "## Stopping: Ctrl-C during a run",
        "",
        "SIGINT a few seconds into a run at N = 10^6 (benchmarks/interrupt.py); time until the "
        "run has stopped and handed back its spikes (sparseprop.Interrupted).",
        "",
        interrupt.measure_table(10**5 if args.quick else 10**6, 100, args.repeat),
        "",
        "## Numeric phase maps",
        "",
        numeric.measure("eif", args.repeat),
        "",
    ])
    (Path(__file__).resolve().parent / "RESULTS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
