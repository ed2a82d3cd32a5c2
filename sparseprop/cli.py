"""The `sparseprop` command: simulate networks; train classifiers; plot results; list, explain
and compile models."""
import argparse
import os
import sys
import time

from .errors import ModelError


def _parameters(items):
    values = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            values[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ModelError(f"--param '{item}' is not NAME=NUMBER, e.g. --param I=1.2")
    return values


def _check_out(path):
    """Refuse an --out path that cannot be written before anything is simulated."""
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path) or not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise ModelError(f"--out {path}: cannot write there (give a file in an existing, "
                         f"writable folder, e.g. --out spikes.npz)")


def _simulate(args):
    from .connectivity import fixed_outdegree
    from .errors import Interrupted
    from .library import load_model
    from .network import Network, check_run_arguments
    from .network_file import read_network_file
    from .population import Population, Projection, build_network
    from .shard import launched
    _check_out(args.out)
    start = time.perf_counter()
    if args.network is not None:      # the network, duration and record from a file
        net, run = read_network_file(args.network)
        nnz = net.n_synapses if hasattr(net, "n_synapses") else net.csr.nnz
        k = int(nnz / net.n)
        setup = time.perf_counter() - start
        if getattr(net, "rank", 0) == 0:
            print(f"{args.network}: {net.model.name}, N = {net.n}, {nnz} synapses, "
                  f"engine {run['engine']}" + (f", {net.size} processes" if hasattr(
                      net, "size") else "") + f"; set-up {setup:.2f} s", flush=True)
    else:
        model = load_model(args.model, **_parameters(args.param))
        check_run_arguments(args.duration, args.max_spikes, args.engine)
        weight = args.weight if args.weight is not None else -args.j0 / max(args.k, 1) ** 0.5
        seed = args.net_seed if args.net_seed is not None else args.seed
        recipe = fixed_outdegree(args.k, weight, seed=seed, delay=args.delay,
                                 procedural=args.procedural)
        if launched():   # under mpiexec: this process's part (sparseprop.distributed)
            net = build_network(model, [Population("N", args.n)],
                                [Projection("N", "N", recipe)], seed=args.seed)
        else:
            net = Network(model, args.n, recipe, seed=args.seed)
        run = {"duration": args.duration, "max_spikes": args.max_spikes, "engine": args.engine,
               "record": None}
        k = args.k
        setup = time.perf_counter() - start
        if getattr(net, "rank", 0) == 0:
            print(f"{model.name}: N = {args.n}, K = {args.k}"
                  f"{' (procedural)' if args.procedural else ''}, w = {weight:g}, delay "
                  f"{args.delay:g} ms, engine {args.engine}" + (
                      f", {net.size} processes" if hasattr(net, "size") else "")
                  + f"; set-up {setup:.2f} s", flush=True)
    try:
        result, status = net.run(**run, progress=True), 0
    except Interrupted as stop:
        result, status = stop.result, 130
        print(f"interrupted (Ctrl-C): kept the {result.n_spikes} spikes up to "
              f"{result.t_end:g} ms", file=sys.stderr)
    if hasattr(result, "gather"):   # a distributed run: process 0 reports the whole network
        result = result.gather()
        if result is None:
            return status
    wall = result.wall_time
    print(f"spikes: {result.n_spikes} in {result.duration:g} ms; rate {result.rate:.4g} Hz")
    print(f"wall time {wall:.2f} s (after {result.compile_time:.2f} s of JIT compilation); "
          f"{result.n_spikes / max(wall, 1e-9):.4g} spikes/s; "
          f"{result.n_spikes * k / max(wall, 1e-9):.4g} synaptic events/s")
    if result.state:
        print(f"recorded {', '.join(result.state)} of {len(next(iter(result.state_neurons.values())))}"
              f" neurons at {result.state_times.size} times")
    if args.out:
        result.save(args.out)
        print(f"saved {args.out}")
    return status


def _plot(args):
    """`sparseprop plot RESULT -o FILE`: a raster, rate or state plot of a saved result."""
    from . import plot
    from .result import load_result
    result = load_result(args.result)
    plot.pyplot()   # (a clear error first when matplotlib is missing)
    import matplotlib
    matplotlib.use("Agg")   # no display needed
    if args.kind == "raster":
        ax = result.plot_raster(sources=args.sources)
    elif args.kind == "rate":
        ax = result.plot_rate(bin=args.bin)
    else:
        ax = result.plot_state(args.variable)
    target = plot.save(ax, args.out)
    print(f"saved {target}")
    return 0


def _train(args):
    """`sparseprop train yinyang --seed S`: train the Yin-Yang classifier, print the test
    accuracy, optionally write a checkpoint and the training curves."""
    from . import tasks
    _check_out(args.out)
    _check_out(args.plot)
    if args.epochs < 1:
        raise ModelError(f"--epochs {args.epochs}: give a number of epochs >= 1")
    start = time.perf_counter()
    task = tasks.yin_yang(seed=args.seed, model=args.model)
    if args.resume is not None:
        from .trainer import Trainer
        task.trainer = Trainer.load(args.resume, task.trainer.network)
    net = task.trainer.network
    print(f"yinyang: {net.model.name}, layers {[5] + [net.n - 3, 3]}, {net.csr.nnz} synapses, "
          f"{len(task.train[1])} training samples, seed {args.seed}; set-up "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    history = task.fit(args.epochs - task.trainer.epoch, checkpoint=args.out,
                       progress=True) if args.epochs > task.trainer.epoch else task.trainer.history
    print(f"test accuracy {task.test_accuracy():.4f} after {task.trainer.epoch} epochs "
          f"(validation {history.val_accuracy[-1]:.4f})")
    if args.out is not None:
        print(f"checkpoint {args.out}")
    if args.plot is not None:
        from . import plot
        plot.pyplot()
        import matplotlib
        matplotlib.use("Agg")
        print(f"saved {plot.save(history.plot(), args.plot)}")
    return 0


def main(argv=None):
    """Entry point of the `sparseprop` command."""
    parser = argparse.ArgumentParser(prog="sparseprop", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("models", help="list the shipped models")
    ex = sub.add_parser("explain", help="derive a model and show the derivation")
    ex.add_argument("model", help="a shipped model name (see `sparseprop models`) or a TOML file")
    ex.add_argument("--param", action="append", metavar="NAME=VALUE", help="override a parameter")
    ex.add_argument("--latex", action="store_true", help="print LaTeX instead of text")
    ex.add_argument("--compile", action="store_true",
                    help="also generate and compile the kernels; print the cache file and PTC(T/2, w)")
    ex.add_argument("--w", type=float, default=-0.1, help="weight for the --compile check (-0.1)")
    sim = sub.add_parser("simulate", help="simulate a random network exactly and print a summary")
    sim.add_argument("--model", default="lif", help="shipped model name or TOML file (lif)")
    sim.add_argument("-n", type=int, default=100_000, help="number of neurons (100000)")
    sim.add_argument("-k", type=int, default=100, help="out-degree: synapses per neuron (100)")
    sim.add_argument("--weight", type=float, default=None,
                     help="synaptic weight (default -J0/sqrt(k), inhibitory)")
    sim.add_argument("--j0", type=float, default=1.0, help="coupling J0 for the default weight (1)")
    sim.add_argument("--duration", type=float, default=1000.0, help="simulated time, ms (1000)")
    sim.add_argument("--delay", type=float, default=0.0,
                     help="synaptic delay, ms (0; > 0 to run under mpiexec: one network over "
                          "several processes)")
    sim.add_argument("--procedural", action="store_true",
                     help="draw each spike's targets again instead of storing the synapses "
                          "(fixed_outdegree(..., procedural=True): networks beyond memory)")
    sim.add_argument("--max-spikes", type=int, default=None, help="stop after this many spikes")
    sim.add_argument("--seed", type=int, default=1, help="seed of the initial phases (1)")
    sim.add_argument("--net-seed", type=int, default=None,
                     help="seed of the connectivity (default: --seed)")
    sim.add_argument("--param", action="append", metavar="NAME=VALUE",
                     help="override a parameter, or the refractory period: --param refractory=2")
    sim.add_argument("--engine", choices=("auto", "sparse", "reference"), default="auto",
                     help="auto (the sparse engine), sparse or reference (the O(N) loop)")
    sim.add_argument("--out", default=None,
                     help="save the spikes (and recorded states) to this .npz file")
    sim.add_argument("--network", default=None, metavar="FILE",
                     help="a network description file (TOML: model, populations, projections, "
                          "inputs, duration, record; see sparseprop.network_file); the random "
                          "network's options are then not used")
    pl = sub.add_parser("plot", help="plot a saved result (raster, rate or states) to a file")
    pl.add_argument("result", help="an .npz file written by Result.save or simulate --out")
    pl.add_argument("-o", "--out", required=True, help="image file, e.g. raster.png (.pdf, .svg)")
    pl.add_argument("--kind", choices=("raster", "rate", "state"), default="raster",
                    help="raster (default), rate (population rate) or state (recorded traces)")
    pl.add_argument("--bin", type=float, default=1.0, help="rate bin, ms (1)")
    pl.add_argument("--variable", default=None, help="state variable for --kind state")
    pl.add_argument("--sources", action="store_true", help="raster: show source spikes too")
    tr = sub.add_parser("train", help="train a spiking classifier on a benchmark task")
    tr.add_argument("task", choices=("yinyang",), help="the task: yinyang (Kriener et al. 2021)")
    tr.add_argument("--seed", type=int, default=0, help="seed of the weights and shuffling (0)")
    tr.add_argument("--epochs", type=int, default=40, help="epochs in all (40)")
    tr.add_argument("--model", default="lif_exp", help="neuron model (lif_exp)")
    tr.add_argument("--out", default=None, help="checkpoint file written after every epoch")
    tr.add_argument("--resume", default=None, help="a checkpoint to go on from")
    tr.add_argument("--plot", default=None, help="image file of the training curves")
    args = parser.parse_args(argv)
    from . import list_models, load_model
    try:
        if args.command == "models":
            for name, description in list_models():
                print(f"{name:9s} {description}")
                for line in load_model(name).equations.strip().splitlines():
                    print(f"{'':9s}   {line.split('#')[0].strip()}")
            return 0
        if args.command == "plot":
            return _plot(args)
        if args.command == "simulate":
            return _simulate(args)
        if args.command == "train":
            return _train(args)
        start = time.perf_counter()
        model = load_model(args.model, **_parameters(args.param))
        explanation = model.explain()
        print(explanation.latex if args.latex else explanation.text)
        if args.compile:
            kernels = model.compile()
            print(f"kernels: {kernels.path}")
            if hasattr(model, "variables"):
                x = [0.0] * len(model.variables)
                print(f"next crossing from the state 0: {kernels.next_crossing(x):.17g} ms")
            elif model.regime == "firing":
                half = kernels.period() / 2
                print(f"PTC(T/2 = {half:.10g}, w = {args.w:g}) = {kernels.ptc(half, args.w):.17g}")
            else:
                print(f"flow(reset, 1) = {kernels.flow(kernels.reset(), 1.0):.17g}")
        print(f"({time.perf_counter() - start:.2f} s)", file=sys.stderr)
    except ModelError as exc:
        print(f"sparseprop: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sparseprop: interrupted (Ctrl-C)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
